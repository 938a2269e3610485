//! HID (keyboard-wedge) scanners and card readers read through evdev with an exclusive grab
//! (EVIOCGRAB), so their keystrokes never reach other fields or other apps. Linux only.
//!
//! Invariants: the device is grabbed before the first event is read; keys map through a US
//! layout with shift; Enter (or keypad Enter) ends a code; an empty code is dropped; key
//! contents are never logged. When the device node disappears the link turns `Disconnected`
//! and the node is reopened (and grabbed again) when it returns.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use evdev::{EventType, KeyCode};
use tokio::sync::{broadcast, watch};

use crate::device::{BarcodeScanner, DeviceError, LinkStatus, ScanError, ScanEvent, ScanSource};
use crate::scanner::framing::frame_to_scan;

/// Turns key events into text lines. Pure: feed it (key, value) pairs.
#[derive(Debug, Default)]
pub struct KeyDecoder {
    left_shift: bool,
    right_shift: bool,
    caps: bool,
    line: String,
    /// Key events were lost (SYN_DROPPED) during the current line: it is rejected at Enter.
    lost: bool,
}

fn chars_for(key: KeyCode) -> Option<(char, char)> {
    use KeyCode as K;
    let letters = [
        (K::KEY_A, 'a'),
        (K::KEY_B, 'b'),
        (K::KEY_C, 'c'),
        (K::KEY_D, 'd'),
        (K::KEY_E, 'e'),
        (K::KEY_F, 'f'),
        (K::KEY_G, 'g'),
        (K::KEY_H, 'h'),
        (K::KEY_I, 'i'),
        (K::KEY_J, 'j'),
        (K::KEY_K, 'k'),
        (K::KEY_L, 'l'),
        (K::KEY_M, 'm'),
        (K::KEY_N, 'n'),
        (K::KEY_O, 'o'),
        (K::KEY_P, 'p'),
        (K::KEY_Q, 'q'),
        (K::KEY_R, 'r'),
        (K::KEY_S, 's'),
        (K::KEY_T, 't'),
        (K::KEY_U, 'u'),
        (K::KEY_V, 'v'),
        (K::KEY_W, 'w'),
        (K::KEY_X, 'x'),
        (K::KEY_Y, 'y'),
        (K::KEY_Z, 'z'),
    ];
    if let Some((_, c)) = letters.iter().find(|(k, _)| *k == key) {
        return Some((*c, c.to_ascii_uppercase()));
    }
    let table = [
        (K::KEY_1, '1', '!'),
        (K::KEY_2, '2', '@'),
        (K::KEY_3, '3', '#'),
        (K::KEY_4, '4', '$'),
        (K::KEY_5, '5', '%'),
        (K::KEY_6, '6', '^'),
        (K::KEY_7, '7', '&'),
        (K::KEY_8, '8', '*'),
        (K::KEY_9, '9', '('),
        (K::KEY_0, '0', ')'),
        (K::KEY_MINUS, '-', '_'),
        (K::KEY_EQUAL, '=', '+'),
        (K::KEY_LEFTBRACE, '[', '{'),
        (K::KEY_RIGHTBRACE, ']', '}'),
        (K::KEY_SEMICOLON, ';', ':'),
        (K::KEY_APOSTROPHE, '\'', '"'),
        (K::KEY_GRAVE, '`', '~'),
        (K::KEY_BACKSLASH, '\\', '|'),
        (K::KEY_COMMA, ',', '<'),
        (K::KEY_DOT, '.', '>'),
        (K::KEY_SLASH, '/', '?'),
        (K::KEY_SPACE, ' ', ' '),
        (K::KEY_KP0, '0', '0'),
        (K::KEY_KP1, '1', '1'),
        (K::KEY_KP2, '2', '2'),
        (K::KEY_KP3, '3', '3'),
        (K::KEY_KP4, '4', '4'),
        (K::KEY_KP5, '5', '5'),
        (K::KEY_KP6, '6', '6'),
        (K::KEY_KP7, '7', '7'),
        (K::KEY_KP8, '8', '8'),
        (K::KEY_KP9, '9', '9'),
        (K::KEY_KPMINUS, '-', '-'),
        (K::KEY_KPPLUS, '+', '+'),
        (K::KEY_KPDOT, '.', '.'),
        (K::KEY_KPSLASH, '/', '/'),
        (K::KEY_KPASTERISK, '*', '*'),
    ];
    table
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, a, b)| (*a, *b))
}

impl KeyDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one key event (`value`: 1 press, 0 release, 2 auto-repeat). Returns a finished line
    /// when Enter is pressed — `Err(Incomplete)` if keys of that line were lost.
    pub fn key(&mut self, key: KeyCode, value: i32) -> Option<Result<String, ScanError>> {
        match key {
            KeyCode::KEY_LEFTSHIFT => self.left_shift = value != 0,
            KeyCode::KEY_RIGHTSHIFT => self.right_shift = value != 0,
            KeyCode::KEY_CAPSLOCK if value == 1 => self.caps = !self.caps,
            KeyCode::KEY_ENTER | KeyCode::KEY_KPENTER if value == 1 => {
                let line = std::mem::take(&mut self.line);
                if std::mem::take(&mut self.lost) {
                    return Some(Err(ScanError::Incomplete));
                }
                return (!line.is_empty()).then_some(Ok(line));
            }
            _ if value == 1 => {
                if let Some((plain, shifted)) = chars_for(key) {
                    let shift = self.left_shift || self.right_shift;
                    let c = if plain.is_ascii_alphabetic() {
                        if shift ^ self.caps { shifted } else { plain }
                    } else if shift {
                        shifted
                    } else {
                        plain
                    };
                    self.line.push(c);
                }
            }
            _ => {}
        }
        None
    }

    /// Forgets a half-typed line (the device went away).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// The kernel dropped events (the reader fell behind): the line being typed is damaged, and
    /// the modifier state is unknown until the next key.
    pub fn events_lost(&mut self) {
        self.line.clear();
        self.left_shift = false;
        self.right_shift = false;
        self.lost = true;
    }
}

/// Opens and grabs an evdev node. The raw stream is used (not evdev's synced one) so a
/// `SYN_DROPPED` from the kernel reaches the decoder instead of being smoothed over.
pub fn open_grabbed(path: &Path) -> Result<evdev::raw_stream::RawDevice, DeviceError> {
    let mut dev = evdev::raw_stream::RawDevice::open(path)
        .map_err(|e| crate::transport::map_io(&e, &format!("input {}", path.display())))?;
    dev.grab().map_err(|e| {
        if e.raw_os_error() == Some(16) {
            DeviceError::Busy
        } else {
            DeviceError::Io(format!("cannot grab {}: {e}", path.display()))
        }
    })?;
    Ok(dev)
}

/// Owns a HID reader thread; asks it to stop on drop (it ends at the next event or error).
pub(crate) struct HidReader {
    stop: Arc<AtomicBool>,
}

impl Drop for HidReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads lines from a grabbed HID device on its own thread.
pub(crate) fn spawn_line_reader(
    path: PathBuf,
    link: watch::Sender<LinkStatus>,
    mut on_line: impl FnMut(Result<String, ScanError>) + Send + 'static,
) -> HidReader {
    let stop = Arc::new(AtomicBool::new(false));
    let stop_thread = stop.clone();
    std::thread::Builder::new()
        .name(format!("hid-reader {}", path.display()))
        .spawn(move || {
            let mut decoder = KeyDecoder::new();
            while !stop_thread.load(Ordering::Relaxed) {
                let mut dev = match open_grabbed(&path) {
                    Ok(d) => d,
                    Err(_) => {
                        link.send_replace(LinkStatus::Disconnected);
                        std::thread::sleep(Duration::from_millis(500));
                        continue;
                    }
                };
                tracing::info!(path = %path.display(), "HID reader grabbed its device");
                link.send_replace(LinkStatus::Connected);
                'events: while !stop_thread.load(Ordering::Relaxed) {
                    let events = match dev.fetch_events() {
                        Ok(ev) => ev.collect::<Vec<_>>(),
                        Err(_) => break 'events,
                    };
                    for ev in events {
                        if ev.event_type() == EventType::SYNCHRONIZATION
                            && ev.code() == evdev::SynchronizationCode::SYN_DROPPED.0
                        {
                            tracing::warn!("HID reader fell behind; the current code is dropped");
                            decoder.events_lost();
                        } else if ev.event_type() == EventType::KEY
                            && let Some(line) = decoder.key(KeyCode::new(ev.code()), ev.value())
                        {
                            on_line(line);
                        }
                    }
                }
                decoder.reset();
                link.send_replace(LinkStatus::Disconnected);
            }
        })
        .expect("spawning a HID reader thread");
    HidReader { stop }
}

/// A keyboard-wedge barcode scanner read through evdev with an exclusive grab.
pub struct HidScanner {
    scans: broadcast::Sender<ScanEvent>,
    link: watch::Sender<LinkStatus>,
    _reader: HidReader,
}

impl HidScanner {
    /// Starts reading at once (`/dev/input/by-id/...-event-kbd` is the stable path to use).
    pub fn open(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let (scans, _) = broadcast::channel(64);
        let (link, _) = watch::channel(LinkStatus::Disconnected);
        let source = ScanSource::Hid {
            path: path.display().to_string(),
        };
        let tx = scans.clone();
        let reader = spawn_line_reader(path, link.clone(), move |line| {
            if let Some(ev) = frame_to_scan(line.map(String::into_bytes), &source) {
                let _ = tx.send(ev);
            }
        });
        Self {
            scans,
            link,
            _reader: reader,
        }
    }
}

impl BarcodeScanner for HidScanner {
    fn scans(&self) -> broadcast::Receiver<ScanEvent> {
        self.scans.subscribe()
    }

    fn status(&self) -> watch::Receiver<LinkStatus> {
        self.link.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_keys(d: &mut KeyDecoder, keys: &[(KeyCode, bool)]) -> Vec<Result<String, ScanError>> {
        let mut out = Vec::new();
        for (k, shift) in keys {
            if *shift {
                d.key(KeyCode::KEY_LEFTSHIFT, 1);
            }
            out.extend(d.key(*k, 1));
            d.key(*k, 0);
            if *shift {
                d.key(KeyCode::KEY_LEFTSHIFT, 0);
            }
        }
        out
    }

    #[test]
    fn digits_letters_and_shift_make_a_line_ended_by_enter() {
        use KeyCode as K;
        let mut d = KeyDecoder::new();
        let lines = type_keys(
            &mut d,
            &[
                (K::KEY_A, true),
                (K::KEY_B, false),
                (K::KEY_MINUS, false),
                (K::KEY_4, false),
                (K::KEY_2, false),
                (K::KEY_5, true),
                (K::KEY_ENTER, false),
                (K::KEY_KP7, false),
                (K::KEY_KPENTER, false),
            ],
        );
        assert_eq!(lines, vec![Ok("Ab-42%".to_string()), Ok("7".to_string())]);
    }

    #[test]
    fn magstripe_sentinels_come_through_the_keymap() {
        use KeyCode as K;
        let mut d = KeyDecoder::new();
        let lines = type_keys(
            &mut d,
            &[
                (K::KEY_SEMICOLON, false),
                (K::KEY_6, false),
                (K::KEY_EQUAL, false),
                (K::KEY_SLASH, true),
                (K::KEY_ENTER, false),
            ],
        );
        assert_eq!(lines, vec![Ok(";6=?".to_string())]);
    }

    #[test]
    fn auto_repeat_and_releases_do_not_type_and_empty_lines_are_dropped() {
        let mut d = KeyDecoder::new();
        assert_eq!(d.key(KeyCode::KEY_ENTER, 1), None);
        d.key(KeyCode::KEY_1, 1);
        d.key(KeyCode::KEY_1, 2);
        d.key(KeyCode::KEY_1, 0);
        assert_eq!(d.key(KeyCode::KEY_ENTER, 1), Some(Ok("1".into())));
    }

    #[test]
    fn a_line_with_lost_events_is_rejected_not_shortened() {
        let mut d = KeyDecoder::new();
        d.key(KeyCode::KEY_4, 1);
        d.events_lost();
        d.key(KeyCode::KEY_2, 1);
        assert_eq!(
            d.key(KeyCode::KEY_ENTER, 1),
            Some(Err(ScanError::Incomplete)),
            "\"2\" alone would be a wrong code"
        );
        d.key(KeyCode::KEY_3, 1);
        assert_eq!(d.key(KeyCode::KEY_ENTER, 1), Some(Ok("3".into())));
    }
}
