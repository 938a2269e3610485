//! Serial barcode scanners, and the reader thread shared with serial card readers.
//!
//! Invariants: one dedicated OS thread per port does the blocking reads (never the async
//! runtime); when the port disappears the link status turns `Disconnected` and the thread
//! reopens the same path every 200 ms; the thread ends within one poll tick after its owner is
//! dropped. Frame contents are never logged (a card reader's frames hold card data).

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};

use super::framing::{Frame, FrameOptions, Framer, frame_to_scan};
use crate::device::{BarcodeScanner, LinkStatus, ScanEvent, ScanSource};
use crate::transport::SerialSettings;

const REOPEN_EVERY: Duration = Duration::from_millis(200);

/// Owns a reader thread; stops it on drop.
pub(crate) struct FrameReader {
    stop: Arc<AtomicBool>,
}

impl Drop for FrameReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Starts a thread that reads `settings.path`, cuts frames, and hands each to `on_frame`.
pub(crate) fn spawn_frame_reader(
    settings: SerialSettings,
    options: FrameOptions,
    link: watch::Sender<LinkStatus>,
    mut on_frame: impl FnMut(Frame) + Send + 'static,
) -> FrameReader {
    let stop = Arc::new(AtomicBool::new(false));
    let stop_thread = stop.clone();
    let tick =
        (options.inter_byte_timeout / 2).clamp(Duration::from_millis(2), Duration::from_millis(50));
    std::thread::Builder::new()
        .name(format!("serial-reader {}", settings.path))
        .spawn(move || {
            let mut port = None;
            let mut framer = Framer::new(options);
            let mut buf = [0u8; 512];
            while !stop_thread.load(Ordering::Relaxed) {
                let p = match port.as_mut() {
                    Some(p) => p,
                    None => match settings.open().and_then(|mut p| {
                        p.set_timeout(tick)
                            .map_err(|e| crate::device::DeviceError::Io(e.to_string()))?;
                        Ok(p)
                    }) {
                        Ok(p) => {
                            tracing::info!(path = %settings.path, "serial reader connected");
                            link.send_replace(LinkStatus::Connected);
                            port.insert(p)
                        }
                        Err(_) => {
                            link.send_replace(LinkStatus::Disconnected);
                            std::thread::sleep(REOPEN_EVERY);
                            continue;
                        }
                    },
                };
                match p.read(&mut buf) {
                    Ok(0) => lost(&mut port, &mut framer, &link, &settings.path),
                    Ok(n) => {
                        for f in framer.push(&buf[..n], Instant::now()) {
                            on_frame(f);
                        }
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                        ) =>
                    {
                        if let Some(f) = framer.idle(Instant::now()) {
                            on_frame(f);
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => lost(&mut port, &mut framer, &link, &settings.path),
                }
            }
        })
        .expect("spawning a reader thread");
    FrameReader { stop }
}

fn lost<P>(
    port: &mut Option<P>,
    framer: &mut Framer,
    link: &watch::Sender<LinkStatus>,
    path: &str,
) {
    tracing::warn!(path, "serial reader lost its port; reopening");
    *port = None;
    *framer = Framer::new(*framer.options());
    link.send_replace(LinkStatus::Disconnected);
    std::thread::sleep(REOPEN_EVERY);
}

/// A barcode scanner on a serial port (or a USB scanner in virtual-COM mode).
pub struct SerialScanner {
    scans: broadcast::Sender<ScanEvent>,
    link: watch::Sender<LinkStatus>,
    _reader: FrameReader,
}

impl SerialScanner {
    /// Starts reading at once; a missing port is retried until it appears.
    pub fn open(settings: SerialSettings, options: FrameOptions) -> Self {
        let (scans, _) = broadcast::channel(64);
        let (link, _) = watch::channel(LinkStatus::Disconnected);
        let source = ScanSource::Serial {
            path: settings.path.clone(),
        };
        let tx = scans.clone();
        let reader = spawn_frame_reader(settings, options, link.clone(), move |frame| {
            if let Some(event) = frame_to_scan(frame, &source) {
                if let ScanEvent::Rejected(e) = &event {
                    tracing::debug!(reason = %e, "scanner frame rejected");
                }
                let _ = tx.send(event);
            }
        });
        Self {
            scans,
            link,
            _reader: reader,
        }
    }
}

impl BarcodeScanner for SerialScanner {
    fn scans(&self) -> broadcast::Receiver<ScanEvent> {
        self.scans.subscribe()
    }

    fn status(&self) -> watch::Receiver<LinkStatus> {
        self.link.subscribe()
    }
}
