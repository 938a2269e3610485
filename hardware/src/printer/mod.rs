//! The ESC/POS receipt printer driver over any [`Transport`], and the print queue on top of it.
//!
//! Invariants:
//! - A job is sent only when the status read just before says the printer is ready, and
//!   `print` returns `Ok` only when the status read just after says so too. If that second
//!   status never comes, the result is `OutcomeUnknown` (sent, unconfirmed), not a retryable
//!   error.
//! - The link is locked for a whole job (status, bytes, status) so drawer polling never puts a
//!   DLE EOT in the middle of a receipt or reads another request's answer.
//! - Stale input is discarded before every status request; an answer is believed only after
//!   [`crate::escpos::parse_status`] checked its fixed bits (the one DLE EOT parser).

pub mod queue;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, watch};

use crate::device::{DeviceError, PrintJob, PrinterStatus, ReceiptPrinter};
use crate::escpos::{Status, StatusKind, parse_status, status_request};
use crate::transport::{Transport, read_exact};

pub use queue::{
    JobState, JobStore, JobStoreError, MemoryJobStore, PrintQueue, QueueEvent, QueueOptions,
    Submitted,
};

/// One status check: the parsed answers to DLE EOT 1, 2 and 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusReport {
    pub printer: Status,
    pub offline_cause: Status,
    pub roll_paper: Status,
}

impl StatusReport {
    /// The most severe condition the three answers report.
    pub fn interpret(&self) -> PrinterStatus {
        let offline = matches!(self.printer, Status::Printer { offline: true, .. });
        let (cover_open, stopped_paper_end, error) = match self.offline_cause {
            Status::OfflineCause {
                cover_open,
                paper_end_stop,
                error,
                ..
            } => (cover_open, paper_end_stop, error),
            _ => (false, false, false),
        };
        let (near_end, paper_end) = match self.roll_paper {
            Status::PaperRoll { near_end, end } => (near_end, end),
            _ => (false, false),
        };
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

    /// Drawer kick-out connector pin 3 is HIGH (DLE EOT 1, bit 2).
    pub fn drawer_pin_high(&self) -> bool {
        matches!(
            self.printer,
            Status::Printer {
                drawer_pin3_high: true,
                ..
            }
        )
    }
}

/// Timeouts of the ESC/POS driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterTimeouts {
    /// How long to wait for each DLE EOT answer.
    pub status: Duration,
    /// How long writing one job may take (a long raster logo at 9600 baud takes seconds).
    pub write: Duration,
}

impl Default for PrinterTimeouts {
    fn default() -> Self {
        Self {
            status: Duration::from_millis(1000),
            write: Duration::from_secs(20),
        }
    }
}

/// An ESC/POS printer on a transport. Cheap to share: hold it in an `Arc`.
pub struct EscPosPrinter {
    link: Mutex<Box<dyn Transport>>,
    timeouts: PrinterTimeouts,
    status_tx: watch::Sender<PrinterStatus>,
}

impl EscPosPrinter {
    pub fn new(transport: Box<dyn Transport>, timeouts: PrinterTimeouts) -> Arc<Self> {
        let (status_tx, _) = watch::channel(PrinterStatus::Unknown);
        Arc::new(Self {
            link: Mutex::new(transport),
            timeouts,
            status_tx,
        })
    }

    /// What the printer is connected through.
    pub async fn describe(&self) -> String {
        self.link.lock().await.describe()
    }

    /// Sends DLE EOT n and returns the checked, parsed answer.
    async fn request(
        link: &mut Box<dyn Transport>,
        kind: StatusKind,
        timeout: Duration,
    ) -> Result<Status, DeviceError> {
        link.discard_input().await?;
        link.write_all(&status_request(kind), timeout).await?;
        let mut answer = [0u8; 1];
        read_exact(link.as_mut(), &mut answer, timeout).await?;
        parse_status(kind, answer[0]).map_err(|e| DeviceError::Protocol(e.to_string()))
    }

    async fn raw_status_locked(
        &self,
        link: &mut Box<dyn Transport>,
    ) -> Result<StatusReport, DeviceError> {
        let t = self.timeouts.status;
        let r = async {
            Ok(StatusReport {
                printer: Self::request(link, StatusKind::Printer, t).await?,
                offline_cause: Self::request(link, StatusKind::OfflineCause, t).await?,
                roll_paper: Self::request(link, StatusKind::PaperRoll, t).await?,
            })
        }
        .await;
        match &r {
            Ok(raw) => {
                self.status_tx.send_replace(raw.interpret());
            }
            Err(DeviceError::Timeout(_) | DeviceError::Disconnected(_)) => {
                self.status_tx.send_replace(PrinterStatus::Disconnected);
            }
            Err(_) => {}
        }
        r
    }

    /// Reads DLE EOT 1, 2 and 4 now.
    pub async fn raw_status(&self) -> Result<StatusReport, DeviceError> {
        let mut link = self.link.lock().await;
        self.raw_status_locked(&mut link).await
    }

    /// Sends bytes that are not a receipt (a drawer pulse) between jobs.
    pub async fn send_raw(&self, bytes: &[u8]) -> Result<(), DeviceError> {
        let mut link = self.link.lock().await;
        let r = link.write_all(bytes, self.timeouts.write).await;
        if let Err(DeviceError::Disconnected(_)) = &r {
            self.status_tx.send_replace(PrinterStatus::Disconnected);
        }
        r
    }

    /// Reads only DLE EOT 1 and returns whether drawer pin 3 is high.
    pub async fn drawer_pin_high(&self) -> Result<bool, DeviceError> {
        let mut link = self.link.lock().await;
        let answer = Self::request(&mut link, StatusKind::Printer, self.timeouts.status).await?;
        Ok(matches!(
            answer,
            Status::Printer {
                drawer_pin3_high: true,
                ..
            }
        ))
    }
}

#[async_trait]
impl ReceiptPrinter for EscPosPrinter {
    async fn print(&self, job: &PrintJob) -> Result<(), DeviceError> {
        let mut link = self.link.lock().await;
        let before = self.raw_status_locked(&mut link).await?.interpret();
        if let Some(e) = before.as_error() {
            return Err(e);
        }
        if let Err(e) = link.write_all(&job.bytes, self.timeouts.write).await {
            if matches!(e, DeviceError::Disconnected(_) | DeviceError::Timeout(_)) {
                self.status_tx.send_replace(PrinterStatus::Disconnected);
            }
            return Err(e);
        }
        let after = match self.raw_status_locked(&mut link).await {
            Ok(raw) => raw.interpret(),
            Err(e) => return Err(DeviceError::OutcomeUnknown(e.to_string())),
        };
        match after.as_error() {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }

    async fn query_status(&self) -> Result<PrinterStatus, DeviceError> {
        Ok(self.raw_status().await?.interpret())
    }

    fn status(&self) -> watch::Receiver<PrinterStatus> {
        self.status_tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(printer: u8, offline_cause: u8, roll_paper: u8) -> StatusReport {
        StatusReport {
            printer: parse_status(StatusKind::Printer, printer).unwrap(),
            offline_cause: parse_status(StatusKind::OfflineCause, offline_cause).unwrap(),
            roll_paper: parse_status(StatusKind::PaperRoll, roll_paper).unwrap(),
        }
    }

    #[test]
    fn the_most_severe_condition_wins() {
        let ok = report(0x12, 0x12, 0x12);
        assert_eq!(ok.interpret(), PrinterStatus::Online);
        assert_eq!(
            report(0x12, 0x12, 0x1E).interpret(),
            PrinterStatus::PaperNearEnd
        );
        assert_eq!(
            report(0x1A, 0x32, 0x72).interpret(),
            PrinterStatus::PaperOut
        );
        assert_eq!(
            report(0x1A, 0x16, 0x72).interpret(),
            PrinterStatus::CoverOpen
        );
        assert_eq!(report(0x1A, 0x52, 0x12).interpret(), PrinterStatus::Offline);
        assert!(!ok.drawer_pin_high());
        assert!(report(0x16, 0x12, 0x12).drawer_pin_high());
    }
}
