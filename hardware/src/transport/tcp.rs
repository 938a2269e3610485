//! TCP transport (network receipt printers listen on port 9100, "raw" / JetDirect).
//!
//! Invariant: connect, read and write each have a timeout; a broken connection is dropped and
//! the next operation connects again.

use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Transport, map_io};
use crate::device::DeviceError;

/// The usual port of a network receipt printer.
pub const RAW_PRINT_PORT: u16 = 9100;

pub struct TcpTransport {
    host: String,
    port: u16,
    connect_timeout: Duration,
    stream: Option<TcpStream>,
}

impl TcpTransport {
    /// Does not connect yet; the first operation does.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
            connect_timeout: Duration::from_secs(3),
            stream: None,
        }
    }

    async fn stream(&mut self) -> Result<&mut TcpStream, DeviceError> {
        if self.stream.is_none() {
            let addr = format!("{}:{}", self.host, self.port);
            let s = tokio::time::timeout(self.connect_timeout, TcpStream::connect(&addr))
                .await
                .map_err(|_| DeviceError::Timeout(self.connect_timeout))?
                .map_err(|e| map_io(&e, &format!("tcp {addr}")))?;
            s.set_nodelay(true).ok();
            self.stream = Some(s);
        }
        Ok(self.stream.as_mut().expect("connected above"))
    }

    fn drop_on_loss<T>(&mut self, r: Result<T, DeviceError>) -> Result<T, DeviceError> {
        if let Err(DeviceError::Disconnected(_) | DeviceError::Io(_)) = &r {
            self.stream = None;
        }
        r
    }
}

#[async_trait]
impl Transport for TcpTransport {
    async fn write_all(&mut self, bytes: &[u8], timeout: Duration) -> Result<(), DeviceError> {
        let what = self.describe();
        let r = async {
            let s = self.stream().await?;
            tokio::time::timeout(timeout, s.write_all(bytes))
                .await
                .map_err(|_| DeviceError::Timeout(timeout))?
                .map_err(|e| map_io(&e, &what))
        }
        .await;
        self.drop_on_loss(r)
    }

    async fn read_some(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, DeviceError> {
        let what = self.describe();
        let r = async {
            let s = self.stream().await?;
            match tokio::time::timeout(timeout, s.read(buf)).await {
                Err(_) => Err(DeviceError::Timeout(timeout)),
                Ok(Ok(0)) => Err(DeviceError::Disconnected(format!("{what}: closed by peer"))),
                Ok(Ok(n)) => Ok(n),
                Ok(Err(e)) => Err(map_io(&e, &what)),
            }
        }
        .await;
        self.drop_on_loss(r)
    }

    async fn discard_input(&mut self) -> Result<(), DeviceError> {
        let Some(s) = self.stream.as_mut() else {
            return Ok(());
        };
        let mut buf = [0u8; 256];
        loop {
            match s.try_read(&mut buf) {
                Ok(0) => {
                    self.stream = None;
                    return Ok(());
                }
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => {
                    let err = map_io(&e, "tcp");
                    self.stream = None;
                    return Err(err);
                }
            }
        }
    }

    fn describe(&self) -> String {
        format!("tcp {}:{}", self.host, self.port)
    }
}
