//! pos-hardware
