//! ZVT (ECR ↔ payment terminal) protocol: the documented German/European cash-register
//! interface, over TCP (port 20007) or a serial line.
//!
//! Layers, each usable alone:
//! - [`bcd`], [`apdu`], [`frame`], [`messages`]: pure encoders/decoders (bytes in, values out),
//!   tested against byte captures of real terminals.
//! - [`link`]: moves APDUs over TCP or serial (framing, ACK/NAK, timeouts).
//! - [`ZvtTerminal`]: the [`crate::payment::PaymentTerminal`] driver, with exactly-once
//!   authorization through a [`crate::payment::PendingPaymentStore`].
//! - [`sim`]: a terminal simulator speaking the same protocol, for tests, demos and the
//!   `zvt-sim` binary.
//!
//! Why not the `zvt` crate (0.1.0): it has no serial framing at all (no DLE/CRC, no ACK/NAK),
//! no Authorization (06 01), Reversal (06 30), Refund (06 31) or ECR Abort (06 B0) command,
//! treats a terminal's `84 xx` refusal as a parse failure, has no timeouts, returns `anyhow`
//! errors and pulls clap/env_logger/chrono into every build. Its byte captures of a real
//! terminal are used as fixtures in `tests/zvt_codec.rs`.
//!
//! Invariant: no full card number passes this module — see [`messages::StatusInformation`].

pub mod apdu;
pub mod bcd;
mod client;
pub mod frame;
pub mod link;
pub mod messages;
pub mod sim;

pub use client::{ZvtConfig, ZvtTerminal, ZvtTimeouts};
pub use link::ZvtTransport;

/// A byte sequence that is not valid ZVT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZvtCodecError {
    #[error("message ends early")]
    Truncated,
    #[error("BMP {0:02X} is not in the BMP table")]
    UnknownBmp(u8),
    #[error("byte {0:02X} is not BCD")]
    BadBcd(u8),
    #[error("{value} does not fit in {digits} digits")]
    OutOfRange { value: u64, digits: usize },
    #[error("malformed: {0}")]
    Malformed(String),
}
