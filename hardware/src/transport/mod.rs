//! Byte transports to a device: serial (serialport), TCP (port 9100 for printers) and USB
//! (rusb, printer class 7). The printer and display drivers speak their protocol over any of
//! them through [`Transport`].
//!
//! Invariants:
//! - Every operation has a timeout; none blocks the async runtime (blocking serial and USB calls
//!   run in `spawn_blocking`).
//! - A transport that loses its device reports [`DeviceError::Disconnected`], drops the handle,
//!   and tries to reopen it on the next operation — unplugging and replugging needs no restart.

pub mod serial;
pub mod tcp;
pub mod usb;

use std::time::Duration;

use async_trait::async_trait;

use crate::device::DeviceError;

pub use serial::{SerialSettings, SerialTransport};
pub use tcp::TcpTransport;
pub use usb::{UsbPrinterInfo, UsbTransport, list_usb_printers};

/// A bidirectional byte link that reconnects by itself after the device returns.
#[async_trait]
pub trait Transport: Send {
    /// Writes all bytes or fails (`Timeout`, `Disconnected`, ...).
    async fn write_all(&mut self, bytes: &[u8], timeout: Duration) -> Result<(), DeviceError>;
    /// Reads at least one byte into `buf`; `Timeout` if nothing arrives in time.
    async fn read_some(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, DeviceError>;
    /// Throws away bytes already received (stale answers) without waiting.
    async fn discard_input(&mut self) -> Result<(), DeviceError>;
    /// A short description for logs and diagnostics ("serial /dev/ttyUSB0").
    fn describe(&self) -> String;
}

/// Reads exactly `buf.len()` bytes within `timeout` overall.
pub async fn read_exact(
    transport: &mut dyn Transport,
    buf: &mut [u8],
    timeout: Duration,
) -> Result<(), DeviceError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut filled = 0;
    while filled < buf.len() {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Err(DeviceError::Timeout(timeout));
        }
        match transport.read_some(&mut buf[filled..], left).await {
            Ok(n) => filled += n,
            Err(DeviceError::Timeout(_)) => return Err(DeviceError::Timeout(timeout)),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Maps an OS error from a device handle to the error a caller can act on.
pub(crate) fn map_io(err: &std::io::Error, what: &str) -> DeviceError {
    use std::io::ErrorKind as K;
    match err.kind() {
        K::TimedOut | K::WouldBlock => DeviceError::Timeout(Duration::ZERO),
        K::NotFound => DeviceError::Disconnected(format!("{what}: not found")),
        K::BrokenPipe | K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted => {
            DeviceError::Disconnected(format!("{what}: {err}"))
        }
        K::ConnectionRefused => DeviceError::Disconnected(format!("{what}: connection refused")),
        _ => {
            // EIO is what a pty or USB-serial adapter returns once the other end is gone.
            if err.raw_os_error() == Some(5) {
                DeviceError::Disconnected(format!("{what}: {err}"))
            } else {
                DeviceError::Io(format!("{what}: {err}"))
            }
        }
    }
}
