//! `pos-hardware`: one trait per device kind, a driver per transport, a simulator of each.
//!
//! Encoding is kept apart from the wire: `escpos` and `zvt` are pure protocol code (bytes in,
//! bytes out, tested byte for byte); drivers move those bytes over serial, USB or TCP.

pub mod card;
pub mod config;
pub mod device;
pub mod diagnose;
pub mod display;
pub mod drawer;
pub mod escpos;
pub mod payment;
pub mod printer;
pub mod scanner;
pub mod sim;
pub mod transport;
pub mod zvt;
