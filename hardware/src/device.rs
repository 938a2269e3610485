//! The device traits the app holds (`Arc<dyn ReceiptPrinter>` and friends, chosen at run time
//! from configuration), their status types, and the error type every driver returns.
//!
//! Invariants:
//! - Every error carries an [`ErrorKind`] a caller can branch on (embedded-hal style); messages
//!   never contain card numbers or other data read from a card.
//! - Each device publishes its status on a `tokio::sync::watch` channel; readers always see the
//!   latest value, never a backlog.
//! - Scans and swipes are broadcast: every subscriber (the register, the developer panel, the
//!   settings "scan something now" test) sees each event once.
//!
//! The payment terminal is the ZVT module's business (`crate::zvt`); nothing here names it.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use crate::card::{CardError, CardSwipe};

/// What went wrong, in terms a caller can act on. Shared by every device kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The device is gone (cable pulled, port vanished); drivers reopen it when it returns.
    Disconnected,
    /// The device did not answer in time.
    Timeout,
    /// The printer has no paper.
    PaperOut,
    /// The printer cover is open.
    CoverOpen,
    /// The printer reports itself offline for another reason (error, feed button).
    Offline,
    /// The device is busy with something else.
    Busy,
    /// The device answered something that does not follow its protocol.
    Protocol,
    /// The input was refused on purpose (e.g. a bank card at the gift-card reader).
    Refused,
    /// The device or port is not there at all (wrong path, no such USB device).
    NotFound,
    /// The configuration asks for something this build or transport cannot do.
    Unsupported,
    /// Any other operating-system I/O failure.
    Io,
    /// A job was sent in full but the printer never confirmed it (the link dropped right
    /// after): it may or may not be on paper, so it is not printed again by itself.
    OutcomeUnknown,
}

impl ErrorKind {
    /// True when the condition is expected to clear by itself or by the cashier (paper,
    /// cover, cable) — a print job waiting on it stays queued.
    pub fn is_recoverable(self) -> bool {
        !matches!(
            self,
            ErrorKind::Unsupported | ErrorKind::Refused | ErrorKind::OutcomeUnknown
        )
    }
}

/// The error every device operation returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("device disconnected: {0}")]
    Disconnected(String),
    #[error("device did not answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    #[error("printer is out of paper")]
    PaperOut,
    #[error("printer cover is open")]
    CoverOpen,
    #[error("printer is offline")]
    Offline,
    #[error("device is busy")]
    Busy,
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error("refused: {0}")]
    Refused(String),
    #[error("device not found: {0}")]
    NotFound(String),
    #[error("not supported: {0}")]
    Unsupported(String),
    #[error("i/o error: {0}")]
    Io(String),
    #[error("the job was sent but the printer did not confirm it: {0}")]
    OutcomeUnknown(String),
}

impl DeviceError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            DeviceError::Disconnected(_) => ErrorKind::Disconnected,
            DeviceError::Timeout(_) => ErrorKind::Timeout,
            DeviceError::PaperOut => ErrorKind::PaperOut,
            DeviceError::CoverOpen => ErrorKind::CoverOpen,
            DeviceError::Offline => ErrorKind::Offline,
            DeviceError::Busy => ErrorKind::Busy,
            DeviceError::Protocol(_) => ErrorKind::Protocol,
            DeviceError::Refused(_) => ErrorKind::Refused,
            DeviceError::NotFound(_) => ErrorKind::NotFound,
            DeviceError::Unsupported(_) => ErrorKind::Unsupported,
            DeviceError::Io(_) => ErrorKind::Io,
            DeviceError::OutcomeUnknown(_) => ErrorKind::OutcomeUnknown,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Receipt printer
// ---------------------------------------------------------------------------------------------

/// Identifies one print job (normally derived from the receipt number). The queue never prints
/// two jobs with the same id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JobId(pub String);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A complete, self-contained ESC/POS job (it starts with its own init and ends with its cut).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintJob {
    pub id: JobId,
    pub bytes: Vec<u8>,
}

impl PrintJob {
    pub fn new(id: impl Into<String>, bytes: Vec<u8>) -> Self {
        Self {
            id: JobId(id.into()),
            bytes,
        }
    }
}

/// What the printer reports about itself; the most severe condition wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterStatus {
    /// Not asked yet.
    Unknown,
    Online,
    /// Still prints, but the roll is nearly finished: tell the cashier.
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    /// Offline for another reason (error, feed button held).
    Offline,
    /// The transport is gone or the printer does not answer.
    Disconnected,
}

impl PrinterStatus {
    /// The printer accepts and prints a job in this state.
    pub fn is_ready(self) -> bool {
        matches!(self, PrinterStatus::Online | PrinterStatus::PaperNearEnd)
    }

    /// The error a job gets when the printer is in this state (None when ready).
    pub fn as_error(self) -> Option<DeviceError> {
        match self {
            PrinterStatus::Online | PrinterStatus::PaperNearEnd => None,
            PrinterStatus::PaperOut => Some(DeviceError::PaperOut),
            PrinterStatus::CoverOpen => Some(DeviceError::CoverOpen),
            PrinterStatus::Offline => Some(DeviceError::Offline),
            PrinterStatus::Unknown | PrinterStatus::Disconnected => {
                Some(DeviceError::Disconnected("printer status unknown".into()))
            }
        }
    }
}

/// A receipt printer. `print` is all-or-error: it returns `Ok` only when the status read after
/// sending the job says the printer is fine, so the caller may then mark the job printed.
/// `Err(OutcomeUnknown)` means every byte was sent but no status came back: do not resend
/// without asking a person.
/// Use [`crate::printer::PrintQueue`] on top of it for retry and exactly-once printing.
#[async_trait]
pub trait ReceiptPrinter: Send + Sync {
    /// Checks status, sends the job's bytes, checks status again.
    async fn print(&self, job: &PrintJob) -> Result<(), DeviceError>;
    /// Asks the printer for its status now (and publishes it on [`ReceiptPrinter::status`]).
    async fn query_status(&self) -> Result<PrinterStatus, DeviceError>;
    /// The latest known status.
    fn status(&self) -> watch::Receiver<PrinterStatus>;
}

// ---------------------------------------------------------------------------------------------
// Cash drawer
// ---------------------------------------------------------------------------------------------

/// What the app knows about the drawer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrawerStatus {
    Unknown,
    Closed,
    Open,
    /// Open for longer than the configured alert time: tell the manager.
    LeftOpen,
    /// The printer that drives the drawer does not answer.
    Disconnected,
}

impl DrawerStatus {
    pub fn is_open(self) -> bool {
        matches!(self, DrawerStatus::Open | DrawerStatus::LeftOpen)
    }
}

#[async_trait]
pub trait CashDrawer: Send + Sync {
    /// Pulses the drawer solenoid.
    async fn open(&self) -> Result<(), DeviceError>;
    /// Reads the drawer switch now.
    async fn is_open(&self) -> Result<bool, DeviceError>;
    /// Open/closed/left-open, updated by a background poll.
    fn status(&self) -> watch::Receiver<DrawerStatus>;
}

// ---------------------------------------------------------------------------------------------
// Barcode scanner
// ---------------------------------------------------------------------------------------------

/// Barcode symbology, when the scanner tells it (AIM identifier) or the simulator sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Symbology {
    Ean13,
    Ean8,
    UpcA,
    UpcE,
    Code128,
    Code39,
    Interleaved2of5,
    QrCode,
    DataMatrix,
    Pdf417,
    Other,
}

/// Where a scan came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScanSource {
    Serial { path: String },
    Hid { path: String },
    Simulated,
}

/// One decoded barcode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannedCode {
    pub code: String,
    pub symbology: Option<Symbology>,
    pub source: ScanSource,
}

/// Why a frame from a scanner was not turned into a scan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScanError {
    #[error("the scanner sent bytes that are not a barcode")]
    Garbage,
    #[error("the scanner sent a frame longer than {max} characters")]
    TooLong { max: usize },
    #[error("the scanner stopped in the middle of a barcode")]
    Incomplete,
    #[error("the barcode's check digit is wrong: {0}")]
    CheckDigit(pos_core::gtin::BarcodeError),
}

/// What scanner subscribers receive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ScanEvent {
    Scanned(ScannedCode),
    Rejected(ScanError),
}

/// Whether the scanner's link is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkStatus {
    Connected,
    Disconnected,
}

pub trait BarcodeScanner: Send + Sync {
    /// A new subscription to scans (events from before the call are not replayed).
    fn scans(&self) -> broadcast::Receiver<ScanEvent>;
    fn status(&self) -> watch::Receiver<LinkStatus>;
}

// ---------------------------------------------------------------------------------------------
// Card reader (gift and loyalty cards only)
// ---------------------------------------------------------------------------------------------

/// What card reader subscribers receive. A bank card shows up only as
/// `Refused(CardError::BankCard)`, with none of its digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwipeEvent {
    Read(CardSwipe),
    Refused(CardError),
}

pub trait CardReader: Send + Sync {
    fn swipes(&self) -> broadcast::Receiver<SwipeEvent>;
    fn status(&self) -> watch::Receiver<LinkStatus>;
}

// ---------------------------------------------------------------------------------------------
// Customer display
// ---------------------------------------------------------------------------------------------

/// The two lines a pole display shows (e.g. "Coffee 2.50" / "Total 12.40"), already formatted
/// in the store's locale by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayLines {
    pub upper: String,
    pub lower: String,
}

#[async_trait]
pub trait CustomerDisplay: Send + Sync {
    async fn show(&self, lines: &DisplayLines) -> Result<(), DeviceError>;
    async fn clear(&self) -> Result<(), DeviceError>;
}
