//! The ESC/POS receipt printer driver over any [`Transport`], and the print queue on top of it.
//!
//! Invariants:
//! - A job is sent only when the status read just before says the printer is ready, and
//!   `print` returns `Ok` only when the status read just after says so too. If that second
//!   status never comes, the result is `OutcomeUnknown` (sent, unconfirmed), not a retryable
//!   error.
//! - The link is locked for a whole job (status, bytes, status) so drawer polling never puts a
//!   DLE EOT in the middle of a receipt or reads another request's answer.
//! - Stale input is discarded before every status request; an answer must pass
//!   [`status::check_answer`].

pub mod queue;
pub mod status;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, watch};

use crate::device::{DeviceError, PrintJob, PrinterStatus, ReceiptPrinter};
use crate::transport::{Transport, read_exact};

pub use queue::{
    JobState, JobStore, JobStoreError, MemoryJobStore, PrintQueue, QueueEvent, QueueOptions,
    Submitted,
};
pub use status::{RawStatus, StatusRequest};

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

    /// Sends DLE EOT n and returns the checked answer byte.
    async fn request(
        link: &mut Box<dyn Transport>,
        request: StatusRequest,
        timeout: Duration,
    ) -> Result<u8, DeviceError> {
        link.discard_input().await?;
        link.write_all(&request.bytes(), timeout).await?;
        let mut answer = [0u8; 1];
        read_exact(link.as_mut(), &mut answer, timeout).await?;
        status::check_answer(answer[0])
    }

    async fn raw_status_locked(
        &self,
        link: &mut Box<dyn Transport>,
    ) -> Result<RawStatus, DeviceError> {
        let t = self.timeouts.status;
        let r = async {
            Ok(RawStatus {
                printer: Self::request(link, StatusRequest::Printer, t).await?,
                offline_cause: Self::request(link, StatusRequest::OfflineCause, t).await?,
                roll_paper: Self::request(link, StatusRequest::RollPaper, t).await?,
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
    pub async fn raw_status(&self) -> Result<RawStatus, DeviceError> {
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
        let b = Self::request(&mut link, StatusRequest::Printer, self.timeouts.status).await?;
        Ok(b & 0x04 != 0)
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
