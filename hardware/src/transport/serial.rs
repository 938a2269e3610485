//! Serial transport over the `serialport` crate. The port handle is moved into
//! `spawn_blocking` for each operation, so blocking reads never stall the runtime.
//!
//! Invariant: after any error that means the port is gone (EIO, broken pipe, path missing) the
//! handle is dropped; the next operation reopens the same path, so a re-plugged device (or a
//! restarted socat on the same link path) works again without a restart.

use std::io::{Read, Write};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serialport::SerialPort;

use super::{Transport, map_io};
use crate::device::DeviceError;

/// Flow control of a serial line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowControl {
    #[default]
    None,
    /// RTS/CTS (most receipt printers ship with it enabled).
    Hardware,
    /// XON/XOFF.
    Software,
}

/// How to open a serial port. 8 data bits, no parity, 1 stop bit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SerialSettings {
    pub path: String,
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default)]
    pub flow_control: FlowControl,
}

fn default_baud() -> u32 {
    9600
}

impl SerialSettings {
    pub fn new(path: impl Into<String>, baud: u32) -> Self {
        Self {
            path: path.into(),
            baud,
            flow_control: FlowControl::None,
        }
    }

    /// Opens the port now (blocking; cheap). `NotFound`/`Disconnected` when the path is absent.
    pub fn open(&self) -> Result<Box<dyn SerialPort>, DeviceError> {
        let flow = match self.flow_control {
            FlowControl::None => serialport::FlowControl::None,
            FlowControl::Hardware => serialport::FlowControl::Hardware,
            FlowControl::Software => serialport::FlowControl::Software,
        };
        serialport::new(&self.path, self.baud)
            .flow_control(flow)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|e| map_serial(&e, &self.path))
    }
}

/// Maps a serialport error: a missing device or an I/O failure on the port means the device
/// is gone (a pty whose peer closed answers EIO); permission and argument errors are not.
pub(crate) fn map_serial(e: &serialport::Error, path: &str) -> DeviceError {
    match e.kind() {
        serialport::ErrorKind::NoDevice => {
            DeviceError::Disconnected(format!("serial {path}: no device"))
        }
        serialport::ErrorKind::Io(std::io::ErrorKind::PermissionDenied) => DeviceError::Io(
            format!("serial {path}: permission denied (add the POS user to the dialout group)"),
        ),
        serialport::ErrorKind::Io(std::io::ErrorKind::TimedOut) => {
            DeviceError::Timeout(Duration::ZERO)
        }
        // nix errno values without their own kind (EIO from a pty whose peer closed, ENXIO)
        // arrive as `Unknown`.
        serialport::ErrorKind::Io(_) | serialport::ErrorKind::Unknown => {
            DeviceError::Disconnected(format!("serial {path}: {e}"))
        }
        _ => DeviceError::Io(format!("serial {path}: {e}")),
    }
}

/// A serial port as a [`Transport`]; opened lazily and reopened after a disconnect.
pub struct SerialTransport {
    settings: SerialSettings,
    port: Option<Box<dyn SerialPort>>,
}

impl SerialTransport {
    /// Does not touch the port yet; the first operation opens it.
    pub fn new(settings: SerialSettings) -> Self {
        Self {
            settings,
            port: None,
        }
    }

    /// Opens the port now, failing if it is not there.
    pub fn open(settings: SerialSettings) -> Result<Self, DeviceError> {
        let port = settings.open()?;
        Ok(Self {
            settings,
            port: Some(port),
        })
    }

    pub fn settings(&self) -> &SerialSettings {
        &self.settings
    }

    async fn take_port(&mut self) -> Result<Box<dyn SerialPort>, DeviceError> {
        if let Some(p) = self.port.take() {
            return Ok(p);
        }
        let settings = self.settings.clone();
        tokio::task::spawn_blocking(move || settings.open())
            .await
            .map_err(|e| DeviceError::Io(format!("serial open task: {e}")))?
    }

    /// Runs `op` on the port in a blocking task; keeps the port unless the error says it is gone.
    async fn with_port<T: Send + 'static>(
        &mut self,
        op: impl FnOnce(&mut Box<dyn SerialPort>) -> Result<T, DeviceError> + Send + 'static,
    ) -> Result<T, DeviceError> {
        let mut port = self.take_port().await?;
        let (port, result) = tokio::task::spawn_blocking(move || {
            let r = op(&mut port);
            (port, r)
        })
        .await
        .map_err(|e| DeviceError::Io(format!("serial task: {e}")))?;
        match &result {
            Err(DeviceError::Disconnected(_)) | Err(DeviceError::Io(_)) => {
                drop(port);
                tracing::warn!(path = %self.settings.path, "serial port lost; will reopen");
            }
            _ => self.port = Some(port),
        }
        result
    }
}

#[async_trait]
impl Transport for SerialTransport {
    async fn write_all(&mut self, bytes: &[u8], timeout: Duration) -> Result<(), DeviceError> {
        let data = bytes.to_vec();
        let path = self.settings.path.clone();
        self.with_port(move |port| {
            port.set_timeout(timeout)
                .map_err(|e| map_serial(&e, &path))?;
            port.write_all(&data)
                .and_then(|_| port.flush())
                .map_err(|e| match map_io(&e, &format!("serial {path}")) {
                    DeviceError::Timeout(_) => DeviceError::Timeout(timeout),
                    other => other,
                })
        })
        .await
    }

    async fn read_some(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, DeviceError> {
        let len = buf.len();
        let path = self.settings.path.clone();
        let data = self
            .with_port(move |port| {
                port.set_timeout(timeout)
                    .map_err(|e| map_serial(&e, &path))?;
                let mut tmp = vec![0u8; len];
                match port.read(&mut tmp) {
                    Ok(0) => Err(DeviceError::Disconnected(format!(
                        "serial {path}: end of file"
                    ))),
                    Ok(n) => {
                        tmp.truncate(n);
                        Ok(tmp)
                    }
                    Err(e) => Err(match map_io(&e, &format!("serial {path}")) {
                        DeviceError::Timeout(_) => DeviceError::Timeout(timeout),
                        other => other,
                    }),
                }
            })
            .await?;
        buf[..data.len()].copy_from_slice(&data);
        Ok(data.len())
    }

    async fn discard_input(&mut self) -> Result<(), DeviceError> {
        let path = self.settings.path.clone();
        self.with_port(move |port| {
            port.clear(serialport::ClearBuffer::Input)
                .map_err(|e| map_serial(&e, &path))
        })
        .await
    }

    fn describe(&self) -> String {
        format!("serial {} @ {}", self.settings.path, self.settings.baud)
    }
}
