//! Moves ZVT APDUs over TCP or a serial line, for either end (the driver and the simulator use
//! the same [`Link`]).
//!
//! Invariants:
//! - [`Link::recv`] is cancel-safe: dropping it (a timeout, an abort request in a `select!`)
//!   loses no byte, because received bytes are buffered in the link before they are parsed.
//! - On serial every good frame is answered with ACK and every damaged one with NAK; a frame
//!   we send is repeated up to 3 times on NAK or a missing ACK.
//! - Serial reads run on a dedicated thread (the `serialport` crate is blocking); nothing
//!   blocks the async runtime except writing a few bytes to the port.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::apdu::{Apdu, complete_len};
use super::frame::{ACK, NAK, SerialDeframer, SerialEvent, encode_serial};

/// The standard ZVT TCP port.
pub const DEFAULT_TCP_PORT: u16 = 20007;

/// Where the terminal is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ZvtTransport {
    /// `host:port`; a bare host gets port 20007.
    Tcp { addr: String },
    /// A serial device (`/dev/ttyUSB0`, a socat pty link). 8 data bits, no parity, 2 stop
    /// bits; terminals usually run 9600 baud.
    Serial { path: String, baud: u32 },
}

impl ZvtTransport {
    pub fn tcp(addr: impl Into<String>) -> Self {
        ZvtTransport::Tcp { addr: addr.into() }
    }

    pub fn serial(path: impl Into<String>) -> Self {
        ZvtTransport::Serial {
            path: path.into(),
            baud: 9600,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ZvtTransport::Tcp { addr } => format!("tcp {addr}"),
            ZvtTransport::Serial { path, baud } => format!("serial {path} @{baud}"),
        }
    }
}

/// Why the link failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The peer closed the connection or the port went away.
    #[error("connection closed: {0}")]
    Closed(String),
    /// Nothing (or no link-level ACK) arrived in time.
    #[error("timed out")]
    Timeout,
    /// Bytes arrived that are not a ZVT message.
    #[error("protocol error: {0}")]
    Protocol(String),
}

/// How long the serial side waits for the one-byte ACK of a frame it sent.
const SERIAL_ACK_TIMEOUT: Duration = Duration::from_millis(1500);
const SERIAL_TRIES: usize = 3;

enum Io {
    Tcp {
        stream: TcpStream,
        buf: Vec<u8>,
    },
    Serial {
        rx: mpsc::Receiver<std::io::Result<Vec<u8>>>,
        writer: Arc<Mutex<Box<dyn serialport::SerialPort>>>,
        stop: Arc<AtomicBool>,
        reader: Option<std::thread::JoinHandle<()>>,
        deframer: SerialDeframer,
        frames: VecDeque<Vec<u8>>,
        acks: VecDeque<bool>,
    },
}

/// One open connection to the other end.
pub struct Link {
    io: Io,
    describe: String,
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Io::Serial { stop, reader, .. } = &mut self.io {
            stop.store(true, Ordering::SeqCst);
            // The reader holds a handle of the port (and so its exclusive lock) until it sees
            // the flag, at most one read timeout (20 ms) later; wait for it so the port can be
            // reopened right away.
            if let Some(t) = reader.take() {
                let _ = t.join();
            }
        }
    }
}

fn closed(e: impl std::fmt::Display) -> LinkError {
    LinkError::Closed(e.to_string())
}

impl Link {
    /// Opens the transport (TCP connect or serial open) within `timeout`.
    pub async fn connect(transport: &ZvtTransport, timeout: Duration) -> Result<Link, LinkError> {
        match transport {
            ZvtTransport::Tcp { addr } => {
                let addr = if addr.contains(':') {
                    addr.clone()
                } else {
                    format!("{addr}:{DEFAULT_TCP_PORT}")
                };
                let stream = tokio::time::timeout(timeout, TcpStream::connect(&addr))
                    .await
                    .map_err(|_| LinkError::Timeout)?
                    .map_err(closed)?;
                Ok(Link::from_tcp(stream))
            }
            ZvtTransport::Serial { path, baud } => Link::open_serial(path, *baud),
        }
    }

    pub fn from_tcp(stream: TcpStream) -> Link {
        let _ = stream.set_nodelay(true);
        let describe = stream
            .peer_addr()
            .map(|a| format!("tcp {a}"))
            .unwrap_or_else(|_| "tcp".into());
        Link {
            io: Io::Tcp {
                stream,
                buf: Vec::new(),
            },
            describe,
        }
    }

    /// Opens a serial port (8 data bits, no parity, 2 stop bits as ZVT specifies, no flow
    /// control) and starts its reader thread.
    pub fn open_serial(path: &str, baud: u32) -> Result<Link, LinkError> {
        let port = serialport::new(path, baud)
            .stop_bits(serialport::StopBits::Two)
            .timeout(Duration::from_millis(20))
            .open()
            .map_err(|e| LinkError::Closed(format!("{path}: {e}")))?;
        Link::from_serial_port(port, path)
    }

    fn from_serial_port(
        port: Box<dyn serialport::SerialPort>,
        path: &str,
    ) -> Result<Link, LinkError> {
        let mut reader = port.try_clone().map_err(closed)?;
        let (tx, rx) = mpsc::channel(64);
        let stop = Arc::new(AtomicBool::new(false));
        let stop_reader = stop.clone();
        let reader_thread = std::thread::Builder::new()
            .name(format!("zvt-serial-{path}"))
            .spawn(move || {
                let mut buf = [0u8; 512];
                while !stop_reader.load(Ordering::SeqCst) {
                    match reader.read(&mut buf) {
                        Ok(0) => {}
                        Ok(n) => {
                            if tx.blocking_send(Ok(buf[..n].to_vec())).is_err() {
                                break;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            let _ = tx.blocking_send(Err(e));
                            break;
                        }
                    }
                }
            })
            .map_err(closed)?;
        Ok(Link {
            io: Io::Serial {
                rx,
                writer: Arc::new(Mutex::new(port)),
                stop,
                reader: Some(reader_thread),
                deframer: SerialDeframer::new(),
                frames: VecDeque::new(),
                acks: VecDeque::new(),
            },
            describe: format!("serial {path}"),
        })
    }

    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Sends one APDU. On serial, waits for the peer's link-level ACK (retrying on NAK).
    pub async fn send(&mut self, apdu: &Apdu) -> Result<(), LinkError> {
        let bytes = apdu.encode();
        match &mut self.io {
            Io::Tcp { stream, .. } => {
                stream.write_all(&bytes).await.map_err(closed)?;
                stream.flush().await.map_err(closed)
            }
            Io::Serial { .. } => {
                let framed = encode_serial(&bytes);
                for _ in 0..SERIAL_TRIES {
                    self.serial_write(&framed)?;
                    match tokio::time::timeout(SERIAL_ACK_TIMEOUT, self.serial_link_ack()).await {
                        Ok(Ok(true)) => return Ok(()),
                        Ok(Ok(false)) | Err(_) => continue,
                        Ok(Err(e)) => return Err(e),
                    }
                }
                Err(LinkError::Timeout)
            }
        }
    }

    /// Receives the next APDU. Cancel-safe.
    pub async fn recv(&mut self) -> Result<Apdu, LinkError> {
        loop {
            match &mut self.io {
                Io::Tcp { stream, buf } => {
                    if let Some(n) =
                        complete_len(buf).map_err(|e| LinkError::Protocol(e.to_string()))?
                    {
                        let rest = buf.split_off(n);
                        let one = std::mem::replace(buf, rest);
                        return Apdu::decode(&one).map_err(|e| LinkError::Protocol(e.to_string()));
                    }
                    let mut tmp = [0u8; 1024];
                    let n = stream.read(&mut tmp).await.map_err(closed)?;
                    if n == 0 {
                        return Err(LinkError::Closed("peer closed the connection".into()));
                    }
                    buf.extend_from_slice(&tmp[..n]);
                }
                Io::Serial { frames, .. } => {
                    if let Some(f) = frames.pop_front() {
                        return Apdu::decode(&f).map_err(|e| LinkError::Protocol(e.to_string()));
                    }
                    self.serial_pump().await?;
                }
            }
        }
    }

    fn serial_write(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        let Io::Serial { writer, .. } = &mut self.io else {
            return Ok(());
        };
        let mut port = writer
            .lock()
            .map_err(|_| closed("serial writer poisoned"))?;
        port.write_all(bytes).map_err(closed)?;
        port.flush().map_err(closed)
    }

    /// Waits for the next link-level ACK (true) or NAK (false).
    async fn serial_link_ack(&mut self) -> Result<bool, LinkError> {
        loop {
            if let Io::Serial { acks, .. } = &mut self.io
                && let Some(a) = acks.pop_front()
            {
                return Ok(a);
            }
            self.serial_pump().await?;
        }
    }

    /// Reads one chunk from the serial thread and sorts it into frames and link ACKs,
    /// answering each frame with ACK or NAK.
    async fn serial_pump(&mut self) -> Result<(), LinkError> {
        let Io::Serial {
            rx,
            deframer,
            frames,
            acks,
            ..
        } = &mut self.io
        else {
            return Ok(());
        };
        let chunk = match rx.recv().await {
            Some(Ok(c)) => c,
            Some(Err(e)) => return Err(closed(e)),
            None => return Err(closed("serial reader stopped")),
        };
        let mut replies = Vec::new();
        for ev in deframer.push(&chunk) {
            match ev {
                SerialEvent::Frame(f) => {
                    frames.push_back(f);
                    replies.push(ACK);
                }
                SerialEvent::Damaged => replies.push(NAK),
                SerialEvent::Ack => acks.push_back(true),
                SerialEvent::Nak => acks.push_back(false),
            }
        }
        if !replies.is_empty() {
            self.serial_write(&replies)?;
        }
        Ok(())
    }

    /// Throws away anything already received (stale frames after a reconnect).
    pub fn discard_buffered(&mut self) {
        match &mut self.io {
            Io::Tcp { buf, .. } => buf.clear(),
            Io::Serial {
                rx,
                frames,
                acks,
                deframer,
                ..
            } => {
                while rx.try_recv().is_ok() {}
                *deframer = SerialDeframer::new();
                frames.clear();
                acks.clear();
            }
        }
    }
}
