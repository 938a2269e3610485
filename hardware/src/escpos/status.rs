//! Real-time status: the `DLE EOT n` request and the one-byte answer.
//!
//! Invariant: an answer is only believed when its fixed bits are right (shape `0xx1xx10`:
//! bit 0 = 0, bit 1 = 1, bit 4 = 1, bit 7 = 0). Anything else — 0xFF from a floating line,
//! 0x00, an echo of our own bytes — is an [`StatusError::InvalidByte`], never "all fine".

use serde::{Deserialize, Serialize};

use super::encoder::DLE;

/// Which status `DLE EOT n` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusKind {
    /// n = 1: online/offline and the drawer sensor (connector pin 3).
    Printer,
    /// n = 2: why the printer is offline.
    OfflineCause,
    /// n = 3: which error.
    ErrorCause,
    /// n = 4: the paper roll sensors.
    PaperRoll,
}

impl StatusKind {
    pub fn escpos_number(self) -> u8 {
        match self {
            StatusKind::Printer => 1,
            StatusKind::OfflineCause => 2,
            StatusKind::ErrorCause => 3,
            StatusKind::PaperRoll => 4,
        }
    }

    pub fn from_escpos_number(n: u8) -> Option<StatusKind> {
        match n {
            1 => Some(StatusKind::Printer),
            2 => Some(StatusKind::OfflineCause),
            3 => Some(StatusKind::ErrorCause),
            4 => Some(StatusKind::PaperRoll),
            _ => None,
        }
    }
}

/// The request: exactly the three bytes `10 04 n`.
pub fn status_request(kind: StatusKind) -> [u8; 3] {
    [DLE, 0x04, kind.escpos_number()]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    /// The byte does not have the fixed bits of a status answer: the line is noisy, the
    /// device is not an ESC/POS printer, or the answer is out of step. Ask again.
    #[error("invalid status byte {byte:#04x} for {kind:?}: fixed bits must read 0xx1xx10")]
    InvalidByte { kind: StatusKind, byte: u8 },
}

/// A parsed status answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Status {
    Printer {
        /// Bit 3.
        offline: bool,
        /// Bit 2: the level of drawer connector pin 3 (whether high means open depends on
        /// the drawer: the caller applies its configured polarity).
        drawer_pin3_high: bool,
        /// Bit 5: waiting for online recovery.
        waiting_for_recovery: bool,
        /// Bit 6: the feed button is pressed.
        feed_button_pressed: bool,
    },
    OfflineCause {
        /// Bit 2.
        cover_open: bool,
        /// Bit 3: paper is being fed with the feed button.
        paper_feed_button: bool,
        /// Bit 5: printing stopped because the paper ran out.
        paper_end_stop: bool,
        /// Bit 6.
        error: bool,
    },
    ErrorCause {
        /// Bit 3: recoverable with `DLE ENQ` once the cause (e.g. a jam) is removed.
        autocutter: bool,
        /// Bit 5.
        unrecoverable: bool,
        /// Bit 6: e.g. head too hot; clears by itself.
        auto_recoverable: bool,
    },
    PaperRoll {
        /// Bits 2, 3: near-end sensor sees no paper.
        near_end: bool,
        /// Bits 5, 6: paper-end sensor sees no paper.
        end: bool,
    },
}

/// Parses the answer to `DLE EOT n` for `kind`, checking the fixed bits first.
pub fn parse_status(kind: StatusKind, byte: u8) -> Result<Status, StatusError> {
    if byte & 0b1001_0011 != 0b0001_0010 {
        return Err(StatusError::InvalidByte { kind, byte });
    }
    let bit = |n: u8| byte & (1 << n) != 0;
    Ok(match kind {
        StatusKind::Printer => Status::Printer {
            offline: bit(3),
            drawer_pin3_high: bit(2),
            waiting_for_recovery: bit(5),
            feed_button_pressed: bit(6),
        },
        StatusKind::OfflineCause => Status::OfflineCause {
            cover_open: bit(2),
            paper_feed_button: bit(3),
            paper_end_stop: bit(5),
            error: bit(6),
        },
        StatusKind::ErrorCause => Status::ErrorCause {
            autocutter: bit(3),
            unrecoverable: bit(5),
            auto_recoverable: bit(6),
        },
        StatusKind::PaperRoll => Status::PaperRoll {
            near_end: bit(2) || bit(3),
            end: bit(5) || bit(6),
        },
    })
}
