//! ESC/POS real-time status (DLE EOT n): the request bytes and the meaning of the one-byte answer.
//!
//! Invariant: an answer is accepted only if its fixed bits match the shape `0xx1xx10`
//! (bit 0 = 0, bit 1 = 1, bit 4 = 1, bit 7 = 0); anything else — 0xFF from a floating line,
//! a stray text byte — is a protocol error, never a status.

use crate::device::{DeviceError, PrinterStatus};

/// Which status DLE EOT asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StatusRequest {
    /// n=1: online/offline, drawer pin 3 level.
    Printer = 1,
    /// n=2: why offline — cover open, paper end stop, error.
    OfflineCause = 2,
    /// n=3: error cause (cutter, unrecoverable).
    ErrorCause = 3,
    /// n=4: roll paper sensors — near end, end.
    RollPaper = 4,
}

impl StatusRequest {
    /// The three request bytes: DLE EOT n.
    pub fn bytes(self) -> [u8; 3] {
        [0x10, 0x04, self as u8]
    }
}

const FIXED_MASK: u8 = 0b1001_0011;
const FIXED_VALUE: u8 = 0b0001_0010;

/// Checks the fixed bits of a DLE EOT answer.
pub fn check_answer(byte: u8) -> Result<u8, DeviceError> {
    if byte & FIXED_MASK == FIXED_VALUE {
        Ok(byte)
    } else {
        Err(DeviceError::Protocol(format!(
            "status byte {byte:#04x} is not a DLE EOT answer (expected the shape 0xx1xx10)"
        )))
    }
}

/// The three answers read for one status check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawStatus {
    pub printer: u8,
    pub offline_cause: u8,
    pub roll_paper: u8,
}

impl RawStatus {
    /// Drawer kick-out connector pin 3 is HIGH (DLE EOT 1, bit 2).
    pub fn drawer_pin_high(&self) -> bool {
        self.printer & 0x04 != 0
    }

    /// The most severe condition the three bytes report.
    pub fn interpret(&self) -> PrinterStatus {
        let offline = self.printer & 0x08 != 0;
        let cover_open = self.offline_cause & 0x04 != 0;
        let stopped_paper_end = self.offline_cause & 0x20 != 0;
        let error = self.offline_cause & 0x40 != 0;
        let paper_end = self.roll_paper & 0x60 != 0;
        let near_end = self.roll_paper & 0x0C != 0;
        if cover_open {
            PrinterStatus::CoverOpen
        } else if paper_end || stopped_paper_end {
            PrinterStatus::PaperOut
        } else if offline || error {
            PrinterStatus::Offline
        } else if near_end {
            PrinterStatus::PaperNearEnd
        } else {
            PrinterStatus::Online
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_dle_eot_n_without_stray_bytes() {
        assert_eq!(StatusRequest::Printer.bytes(), [0x10, 0x04, 0x01]);
        assert_eq!(StatusRequest::OfflineCause.bytes(), [0x10, 0x04, 0x02]);
        assert_eq!(StatusRequest::RollPaper.bytes(), [0x10, 0x04, 0x04]);
    }

    #[test]
    fn fixed_bits_are_checked() {
        assert_eq!(check_answer(0x12), Ok(0x12));
        assert_eq!(check_answer(0x16), Ok(0x16)); // pin 3 high
        assert_eq!(check_answer(0x7E), Ok(0x7E)); // paper end bits on n=4
        assert!(
            check_answer(0xFF).is_err(),
            "0xFF from a floating line is no status"
        );
        assert!(check_answer(0x00).is_err());
        assert!(check_answer(b'A').is_err());
        assert!(check_answer(0x13).is_err(), "bit 0 must be 0");
        assert!(check_answer(0x92).is_err(), "bit 7 must be 0");
    }

    #[test]
    fn most_severe_condition_wins() {
        let ok = RawStatus {
            printer: 0x12,
            offline_cause: 0x12,
            roll_paper: 0x12,
        };
        assert_eq!(ok.interpret(), PrinterStatus::Online);
        let near = RawStatus {
            roll_paper: 0x1E,
            ..ok
        };
        assert_eq!(near.interpret(), PrinterStatus::PaperNearEnd);
        let out = RawStatus {
            printer: 0x1A,
            offline_cause: 0x32,
            roll_paper: 0x72,
        };
        assert_eq!(out.interpret(), PrinterStatus::PaperOut);
        let cover = RawStatus {
            printer: 0x1A,
            offline_cause: 0x16,
            roll_paper: 0x72,
        };
        assert_eq!(cover.interpret(), PrinterStatus::CoverOpen);
        let offline = RawStatus {
            printer: 0x1A,
            offline_cause: 0x52,
            roll_paper: 0x12,
        };
        assert_eq!(offline.interpret(), PrinterStatus::Offline);
        assert!(!ok.drawer_pin_high());
        assert!(
            RawStatus {
                printer: 0x16,
                ..ok
            }
            .drawer_pin_high()
        );
    }
}
