//! Cutting a serial byte stream into frames (one barcode or one card swipe each), and turning a
//! frame into a scan.
//!
//! Invariants:
//! - A frame ends at the configured suffix (CR, LF or CRLF), or — with no suffix — after the
//!   inter-byte timeout. Bytes of one frame may arrive over many reads; several frames may
//!   arrive in one read.
//! - With a suffix configured, a frame cut short by the inter-byte timeout is `Incomplete`;
//!   a frame over the maximum length is `TooLong` (and the bytes up to its end are skipped);
//!   a frame with bytes outside printable ASCII is `Garbage`. None of them becomes a scan.
//! - All-digit codes of GTIN length are checked with `pos_core::gtin`; a wrong check digit is
//!   rejected.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::device::{ScanError, ScanEvent, ScanSource, ScannedCode, Symbology};

/// What ends a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Suffix {
    #[default]
    Cr,
    Lf,
    CrLf,
    /// No terminator: the inter-byte timeout ends the frame.
    None,
}

impl Suffix {
    fn bytes(self) -> &'static [u8] {
        match self {
            Suffix::Cr => b"\r",
            Suffix::Lf => b"\n",
            Suffix::CrLf => b"\r\n",
            Suffix::None => b"",
        }
    }
}

/// How frames are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameOptions {
    pub suffix: Suffix,
    /// A gap longer than this between two bytes ends the frame.
    pub inter_byte_timeout: Duration,
    /// Longest accepted frame, without the suffix.
    pub max_len: usize,
}

impl Default for FrameOptions {
    fn default() -> Self {
        Self {
            suffix: Suffix::Cr,
            inter_byte_timeout: Duration::from_millis(100),
            max_len: 128,
        }
    }
}

/// A frame's raw content, or why it is unusable.
pub type Frame = Result<Vec<u8>, ScanError>;

/// The byte-stream → frame state machine (pure; time is passed in).
#[derive(Debug)]
pub struct Framer {
    options: FrameOptions,
    buf: Vec<u8>,
    overflow: bool,
    last_byte: Option<Instant>,
}

impl Framer {
    pub fn new(options: FrameOptions) -> Self {
        Self {
            options,
            buf: Vec::new(),
            overflow: false,
            last_byte: None,
        }
    }

    pub fn options(&self) -> &FrameOptions {
        &self.options
    }

    fn pending(&self) -> bool {
        !self.buf.is_empty() || self.overflow
    }

    /// Ends the frame in progress because the line went quiet.
    fn end_by_timeout(&mut self) -> Option<Frame> {
        if !self.pending() {
            return None;
        }
        let frame = std::mem::take(&mut self.buf);
        let overflow = std::mem::replace(&mut self.overflow, false);
        self.last_byte = None;
        Some(if overflow {
            Err(ScanError::TooLong {
                max: self.options.max_len,
            })
        } else if self.options.suffix == Suffix::None {
            Ok(frame)
        } else {
            Err(ScanError::Incomplete)
        })
    }

    /// Feeds bytes received at `now`; returns the frames they complete.
    pub fn push(&mut self, bytes: &[u8], now: Instant) -> Vec<Frame> {
        let mut out = Vec::new();
        if bytes.is_empty() {
            return out;
        }
        if let Some(last) = self.last_byte
            && now.duration_since(last) > self.options.inter_byte_timeout
            && let Some(f) = self.end_by_timeout()
        {
            out.push(f);
        }
        let suffix = self.options.suffix.bytes();
        for &b in bytes {
            if self.overflow {
                // Skip to the end of the overlong frame.
                self.buf.push(b);
                if !suffix.is_empty() && self.buf.ends_with(suffix) {
                    self.buf.clear();
                    self.overflow = false;
                    out.push(Err(ScanError::TooLong {
                        max: self.options.max_len,
                    }));
                } else if self.buf.len() > suffix.len() {
                    let keep = self.buf.len() - suffix.len();
                    self.buf.drain(..keep);
                }
                continue;
            }
            self.buf.push(b);
            if !suffix.is_empty() && self.buf.ends_with(suffix) {
                self.buf.truncate(self.buf.len() - suffix.len());
                let frame = std::mem::take(&mut self.buf);
                if !frame.is_empty() {
                    out.push(Ok(frame));
                }
            } else if self.buf.len() > self.options.max_len + suffix.len().saturating_sub(1) {
                self.overflow = true;
                let keep = self.buf.len().saturating_sub(suffix.len());
                self.buf.drain(..keep);
            }
        }
        self.last_byte = if self.pending() { Some(now) } else { None };
        out
    }

    /// When the frame in progress times out (None when nothing is pending).
    pub fn deadline(&self) -> Option<Instant> {
        self.last_byte.map(|t| t + self.options.inter_byte_timeout)
    }

    /// Call when no bytes arrived; ends the pending frame once the line has been quiet long
    /// enough.
    pub fn idle(&mut self, now: Instant) -> Option<Frame> {
        match self.deadline() {
            Some(d) if now > d => self.end_by_timeout(),
            _ => None,
        }
    }
}

/// Splits an AIM symbology identifier (`]E0`, `]C1`, `]Q1` ...) off the front of a code.
pub fn split_aim(code: &str) -> (Option<Symbology>, &str) {
    let b = code.as_bytes();
    if b.len() < 3 || b[0] != b']' {
        return (None, code);
    }
    let sym = match (b[1], b[2]) {
        (b'E', b'0') => Symbology::Ean13,
        (b'E', b'4') => Symbology::Ean8,
        (b'E', _) => Symbology::Ean13,
        (b'C', _) => Symbology::Code128,
        (b'A', _) => Symbology::Code39,
        (b'I', _) => Symbology::Interleaved2of5,
        (b'Q', _) => Symbology::QrCode,
        (b'd', _) => Symbology::DataMatrix,
        (b'L', _) => Symbology::Pdf417,
        _ => Symbology::Other,
    };
    (Some(sym), &code[3..])
}

/// Turns one frame into a scan event: printable ASCII only, AIM prefix split off, GTIN check
/// digit verified. Returns None for an empty frame.
pub fn frame_to_scan(frame: Frame, source: &ScanSource) -> Option<ScanEvent> {
    let bytes = match frame {
        Ok(b) => b,
        Err(e) => return Some(ScanEvent::Rejected(e)),
    };
    if bytes.is_empty() {
        return None;
    }
    if !bytes.iter().all(|b| (0x20..=0x7E).contains(b)) {
        return Some(ScanEvent::Rejected(ScanError::Garbage));
    }
    let text = String::from_utf8(bytes).expect("printable ASCII is UTF-8");
    let (symbology, code) = split_aim(text.trim());
    let code = code.trim();
    if code.is_empty() {
        return Some(ScanEvent::Rejected(ScanError::Garbage));
    }
    let gtin_shaped =
        code.bytes().all(|b| b.is_ascii_digit()) && [8, 12, 13, 14].contains(&code.len());
    let gtin_symbology = matches!(
        symbology,
        None | Some(Symbology::Ean13 | Symbology::Ean8 | Symbology::UpcA | Symbology::UpcE)
    );
    if gtin_shaped
        && gtin_symbology
        && let Err(e) = pos_core::gtin::validate_gtin(code)
    {
        return Some(ScanEvent::Rejected(ScanError::CheckDigit(e)));
    }
    Some(ScanEvent::Scanned(ScannedCode {
        code: code.to_owned(),
        symbology,
        source: source.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn opts(suffix: Suffix) -> FrameOptions {
        FrameOptions {
            suffix,
            inter_byte_timeout: ms(50),
            max_len: 20,
        }
    }

    #[test]
    fn a_frame_split_over_reads_is_joined() {
        let t = Instant::now();
        let mut f = Framer::new(opts(Suffix::Cr));
        assert!(f.push(b"40063", t).is_empty());
        assert_eq!(f.push(b"81\r", t + ms(10)), vec![Ok(b"4006381".to_vec())]);
    }

    #[test]
    fn merged_frames_in_one_read_are_separated() {
        let t = Instant::now();
        let mut f = Framer::new(opts(Suffix::CrLf));
        assert_eq!(
            f.push(b"111\r\n222\r\n33", t),
            vec![Ok(b"111".to_vec()), Ok(b"222".to_vec())]
        );
        assert_eq!(f.push(b"3\r\n", t + ms(1)), vec![Ok(b"333".to_vec())]);
    }

    #[test]
    fn a_quiet_line_ends_the_frame() {
        let t = Instant::now();
        let mut f = Framer::new(opts(Suffix::Cr));
        f.push(b"123", t);
        assert_eq!(f.idle(t + ms(20)), None);
        assert_eq!(f.idle(t + ms(51)), Some(Err(ScanError::Incomplete)));
        // The rest of a frame after a long pause is a fresh (complete) frame.
        let mut g = Framer::new(opts(Suffix::Cr));
        g.push(b"123", t);
        assert_eq!(
            g.push(b"456\r", t + ms(200)),
            vec![Err(ScanError::Incomplete), Ok(b"456".to_vec())]
        );
        let mut n = Framer::new(opts(Suffix::None));
        n.push(b"789", t);
        assert_eq!(n.idle(t + ms(60)), Some(Ok(b"789".to_vec())));
    }

    #[test]
    fn too_long_frames_are_rejected_and_skipped_to_their_end() {
        let t = Instant::now();
        let mut f = Framer::new(opts(Suffix::Cr));
        let mut input = vec![b'9'; 50];
        input.extend_from_slice(b"\r12345670\r");
        assert_eq!(
            f.push(&input, t),
            vec![
                Err(ScanError::TooLong { max: 20 }),
                Ok(b"12345670".to_vec())
            ]
        );
        // A frame of exactly max_len is fine.
        let mut g = Framer::new(opts(Suffix::CrLf));
        let mut exact = vec![b'A'; 20];
        exact.extend_from_slice(b"\r\n");
        assert_eq!(g.push(&exact, t), vec![Ok(vec![b'A'; 20])]);
    }

    #[test]
    fn frames_become_scans_or_rejections() {
        let src = ScanSource::Simulated;
        let scan = |b: &[u8]| frame_to_scan(Ok(b.to_vec()), &src);
        assert!(matches!(
            scan(b"4006381333931"),
            Some(ScanEvent::Scanned(ScannedCode { ref code, symbology: None, .. })) if code == "4006381333931"
        ));
        assert!(matches!(
            scan(b"]E04006381333931"),
            Some(ScanEvent::Scanned(ScannedCode { ref code, symbology: Some(Symbology::Ean13), .. })) if code == "4006381333931"
        ));
        assert_eq!(
            scan(&[0x00, 0xFF, b'1']),
            Some(ScanEvent::Rejected(ScanError::Garbage))
        );
        assert!(matches!(
            scan(b"4006381333932"),
            Some(ScanEvent::Rejected(ScanError::CheckDigit(_)))
        ));
        assert!(matches!(scan(b"SKU-17"), Some(ScanEvent::Scanned(_))));
        assert_eq!(scan(b""), None);
    }
}
