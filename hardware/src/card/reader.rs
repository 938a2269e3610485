//! Card readers on a serial port or as a HID keyboard wedge. Both hand each swipe (one frame /
//! one Enter-terminated line) to [`super::parse_swipe`] and broadcast the result.
//!
//! Invariant: the raw swipe lives only inside the reader callback; it is dropped right after
//! parsing and never logged.

#[cfg(target_os = "linux")]
use std::path::PathBuf;

use tokio::sync::{broadcast, watch};

use super::{CardError, parse_swipe};
use crate::device::{CardReader, LinkStatus, SwipeEvent};
use crate::scanner::framing::FrameOptions;
use crate::scanner::serial::{FrameReader, spawn_frame_reader};
use crate::transport::SerialSettings;

fn event_for(raw: &[u8]) -> SwipeEvent {
    let Ok(text) = std::str::from_utf8(raw) else {
        return SwipeEvent::Refused(CardError::Unreadable);
    };
    match parse_swipe(text) {
        Ok(swipe) => SwipeEvent::Read(swipe),
        Err(e) => {
            tracing::info!(reason = %e, "card swipe refused");
            SwipeEvent::Refused(e)
        }
    }
}

/// A magstripe reader on a serial port (frames end with the configured suffix, usually CR).
pub struct SerialCardReader {
    swipes: broadcast::Sender<SwipeEvent>,
    link: watch::Sender<LinkStatus>,
    _reader: FrameReader,
}

impl SerialCardReader {
    pub fn open(settings: SerialSettings, options: FrameOptions) -> Self {
        let (swipes, _) = broadcast::channel(16);
        let (link, _) = watch::channel(LinkStatus::Disconnected);
        let tx = swipes.clone();
        let reader = spawn_frame_reader(settings, options, link.clone(), move |frame| {
            let event = match frame {
                Ok(raw) => event_for(&raw),
                Err(_) => SwipeEvent::Refused(CardError::Unreadable),
            };
            let _ = tx.send(event);
        });
        Self {
            swipes,
            link,
            _reader: reader,
        }
    }
}

impl CardReader for SerialCardReader {
    fn swipes(&self) -> broadcast::Receiver<SwipeEvent> {
        self.swipes.subscribe()
    }

    fn status(&self) -> watch::Receiver<LinkStatus> {
        self.link.subscribe()
    }
}

/// A keyboard-wedge magstripe reader read through evdev with an exclusive grab.
#[cfg(target_os = "linux")]
pub struct HidCardReader {
    swipes: broadcast::Sender<SwipeEvent>,
    link: watch::Sender<LinkStatus>,
    _reader: crate::scanner::hid::HidReader,
}

#[cfg(target_os = "linux")]
impl HidCardReader {
    pub fn open(path: impl Into<PathBuf>) -> Self {
        let (swipes, _) = broadcast::channel(16);
        let (link, _) = watch::channel(LinkStatus::Disconnected);
        let tx = swipes.clone();
        let reader =
            crate::scanner::hid::spawn_line_reader(path.into(), link.clone(), move |line| {
                let _ = tx.send(match line {
                    Ok(line) => event_for(line.as_bytes()),
                    Err(_) => SwipeEvent::Refused(CardError::Unreadable),
                });
            });
        Self {
            swipes,
            link,
            _reader: reader,
        }
    }
}

#[cfg(target_os = "linux")]
impl CardReader for HidCardReader {
    fn swipes(&self) -> broadcast::Receiver<SwipeEvent> {
        self.swipes.subscribe()
    }

    fn status(&self) -> watch::Receiver<LinkStatus> {
        self.link.subscribe()
    }
}
