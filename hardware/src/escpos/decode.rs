//! The ESC/POS decoder: bytes → a command trace → the text a customer reads on paper.
//! Used by the tests (golden receipts) and by the app's on-screen receipt preview, so the
//! preview shows exactly what the printer will print.
//!
//! Invariants:
//! - Nothing is skipped silently: an unknown command, a bad parameter, a truncated command or
//!   a byte that no selected character set can show is recorded as an [`Issue`] (and, in the
//!   text, shown as `[? …]` or U+FFFD at its place).
//! - Text is decoded with the code page selected by `ESC t` and Shift_JIS in Kanji mode, just
//!   like the printer; alignment becomes padding to the paper width and long lines wrap where
//!   the printer wraps them.

use pos_core::gtin::validate_gtin;
use serde::{Deserialize, Serialize};

use super::bitmap::Bitmap;
use super::codepage::{CodePage, is_shift_jis_lead, shift_jis_decode};
use super::encoder::{Align, DLE, ESC, FS, GS, LF};
use super::profile::PaperWidth;

/// Barcode symbologies of `GS k`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Symbology {
    UpcA,
    UpcE,
    Ean13,
    Ean8,
    Code39,
    Itf,
    Codabar,
    Code93,
    Code128,
    Other(u8),
}

impl Symbology {
    fn from_m(m: u8) -> Symbology {
        match m {
            0 | 65 => Symbology::UpcA,
            1 | 66 => Symbology::UpcE,
            2 | 67 => Symbology::Ean13,
            3 | 68 => Symbology::Ean8,
            4 | 69 => Symbology::Code39,
            5 | 70 => Symbology::Itf,
            6 | 71 => Symbology::Codabar,
            72 => Symbology::Code93,
            73 => Symbology::Code128,
            other => Symbology::Other(other),
        }
    }

    fn label(self) -> String {
        match self {
            Symbology::UpcA => "UPC-A".into(),
            Symbology::UpcE => "UPC-E".into(),
            Symbology::Ean13 => "EAN13".into(),
            Symbology::Ean8 => "EAN8".into(),
            Symbology::Code39 => "CODE39".into(),
            Symbology::Itf => "ITF".into(),
            Symbology::Codabar => "CODABAR".into(),
            Symbology::Code93 => "CODE93".into(),
            Symbology::Code128 => "CODE128".into(),
            Symbology::Other(m) => format!("BARCODE m={m}"),
        }
    }
}

/// One decoded command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Printable characters; `wide` = two-byte Kanji characters (two columns each).
    Text { text: String, wide: bool },
    /// `LF`.
    LineFeed,
    /// `CR` (ignored by printers in LF mode).
    CarriageReturn,
    /// `ESC @`.
    Init,
    /// `ESC ! n`.
    PrintMode { n: u8 },
    /// `ESC E n`.
    Bold { on: bool },
    /// `ESC - n`.
    Underline { n: u8 },
    /// `ESC G n`.
    DoubleStrike { on: bool },
    /// `ESC M n`.
    Font { n: u8 },
    /// `GS ! n` as multipliers.
    Size { width: u8, height: u8 },
    /// `GS B n`.
    Invert { on: bool },
    /// `ESC a n`.
    Align { align: Align },
    /// `ESC t n`.
    CodePage { n: u8 },
    /// `ESC R n`.
    InternationalSet { n: u8 },
    /// `FS C n`.
    KanjiCodeSystem { n: u8 },
    /// `FS &`.
    KanjiOn,
    /// `FS .`.
    KanjiOff,
    /// `FS ! n`.
    KanjiPrintMode { n: u8 },
    /// `ESC d n`.
    FeedLines { n: u8 },
    /// `ESC J n`.
    FeedDots { n: u8 },
    /// `ESC 2` (`None`) or `ESC 3 n`.
    LineSpacing { dots: Option<u8> },
    /// `GS V m [n]`.
    Cut { partial: bool, feed: Option<u8> },
    /// `ESC p m t1 t2`.
    DrawerPulse { pin: u8, on_2ms: u8, off_2ms: u8 },
    /// `DLE EOT n`.
    StatusRequest { n: u8 },
    /// `GS H n`.
    BarcodeHri { n: u8 },
    /// `GS h n`.
    BarcodeHeight { dots: u8 },
    /// `GS w n`.
    BarcodeModuleWidth { dots: u8 },
    /// `GS f n`.
    BarcodeHriFont { n: u8 },
    /// `GS k`: the data as a reader would scan it.
    Barcode { symbology: Symbology, data: String },
    /// `GS ( k` fn 165: QR model (49 = model 1, 50 = model 2, 51 = micro QR).
    QrModel { n: u8 },
    /// `GS ( k` fn 167.
    QrModuleSize { dots: u8 },
    /// `GS ( k` fn 169: 48 = L, 49 = M, 50 = Q, 51 = H.
    QrErrorCorrection { n: u8 },
    /// `GS ( k` fn 180.
    QrStore { data: Vec<u8> },
    /// `GS ( k` fn 181: prints the stored symbol; `model` is the one in effect.
    QrPrint { model: u8, data: Vec<u8> },
    /// `GS v 0`.
    Raster { image: Bitmap },
    /// Bytes that are not a command we know (also listed in the issues).
    Unknown { bytes: Vec<u8> },
}

/// What is wrong at an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// A command prefix we do not know; the printer's reaction is unknown.
    UnknownCommand,
    /// A known command with a parameter out of its range.
    InvalidParameter,
    /// The stream ends inside a command.
    Truncated,
    /// A byte or byte pair that the selected code page / Kanji mode cannot show.
    UndecodableText,
    /// Non-ASCII text before any `ESC t`: what prints depends on the printer's settings.
    CodePageNotSelected,
    /// Barcode data the printer would reject or print wrong (e.g. EAN-13 check digit).
    InvalidBarcode,
    /// A QR code printed with a model other than 2.
    QrNotModel2,
    /// A barcode, QR code or image after text on the same line: the printer ignores it.
    NotAtLineStart,
}

/// A problem found while decoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub offset: usize,
    pub kind: IssueKind,
    pub detail: String,
}

/// One command and where it starts in the byte stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceEntry {
    pub offset: usize,
    pub command: Command,
}

/// The decoded stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub entries: Vec<TraceEntry>,
    pub issues: Vec<Issue>,
}

/// Decodes an ESC/POS byte stream into commands, recording every problem.
pub fn decode(bytes: &[u8]) -> Trace {
    let mut d = Decoder {
        bytes,
        pos: 0,
        entries: Vec::new(),
        issues: Vec::new(),
        page: None,
        page_known: true,
        kanji: false,
        qr_model: 49,
        qr_data: Vec::new(),
        warned_page: false,
        line_started: false,
    };
    d.run();
    Trace {
        entries: d.entries,
        issues: d.issues,
    }
}

struct Decoder<'a> {
    bytes: &'a [u8],
    pos: usize,
    entries: Vec<TraceEntry>,
    issues: Vec<Issue>,
    page: Option<CodePage>,
    /// False after `ESC t` with a code page we have no table for.
    page_known: bool,
    kanji: bool,
    qr_model: u8,
    qr_data: Vec<u8>,
    warned_page: bool,
    /// Text is in the print buffer (no LF yet).
    line_started: bool,
}

impl Decoder<'_> {
    fn issue(&mut self, offset: usize, kind: IssueKind, detail: impl Into<String>) {
        self.issues.push(Issue {
            offset,
            kind,
            detail: detail.into(),
        });
    }

    fn emit(&mut self, offset: usize, command: Command) {
        match &command {
            Command::Text { .. } => self.line_started = true,
            Command::Barcode { .. } | Command::QrPrint { .. } | Command::Raster { .. }
                if self.line_started =>
            {
                self.issue(
                    offset,
                    IssueKind::NotAtLineStart,
                    "printed after text on the same line: the printer ignores it",
                );
            }
            Command::LineFeed | Command::FeedLines { .. } | Command::Init | Command::Cut { .. } => {
                self.line_started = false;
            }
            _ => {}
        }
        self.entries.push(TraceEntry { offset, command });
    }

    fn push_text(&mut self, offset: usize, c: char, wide: bool) {
        if let Some(TraceEntry {
            command:
                Command::Text {
                    text,
                    wide: last_wide,
                },
            ..
        }) = self.entries.last_mut()
            && *last_wide == wide
        {
            text.push(c);
            return;
        }
        self.emit(
            offset,
            Command::Text {
                text: c.to_string(),
                wide,
            },
        );
    }

    /// `n` parameter bytes after a command prefix of `prefix` bytes, or a Truncated issue.
    fn params(&mut self, start: usize, prefix: usize, n: usize) -> Option<&[u8]> {
        let from = start + prefix;
        if from + n > self.bytes.len() {
            self.issue(
                start,
                IssueKind::Truncated,
                format!(
                    "command {:02X?} needs {n} parameter bytes",
                    &self.bytes[start..from.min(self.bytes.len())]
                ),
            );
            self.pos = self.bytes.len();
            return None;
        }
        self.pos = from + n;
        Some(&self.bytes[from..from + n])
    }

    fn run(&mut self) {
        while self.pos < self.bytes.len() {
            let start = self.pos;
            let b = self.bytes[start];
            match b {
                ESC => self.esc(start),
                GS => self.gs(start),
                FS => self.fs(start),
                DLE => self.dle(start),
                LF => {
                    self.pos += 1;
                    self.emit(start, Command::LineFeed);
                }
                0x0D => {
                    self.pos += 1;
                    self.emit(start, Command::CarriageReturn);
                }
                0x00..=0x1F | 0x7F => {
                    self.pos += 1;
                    self.unknown(start, 1);
                }
                _ => self.text_byte(start),
            }
        }
    }

    fn unknown(&mut self, start: usize, len: usize) {
        let end = (start + len).min(self.bytes.len());
        let bytes = self.bytes[start..end].to_vec();
        self.issue(
            start,
            IssueKind::UnknownCommand,
            format!("unknown command {bytes:02X?}"),
        );
        self.pos = end;
        self.emit(start, Command::Unknown { bytes });
    }

    fn text_byte(&mut self, start: usize) {
        let b = self.bytes[start];
        if self.kanji && is_shift_jis_lead(b) {
            let Some(&second) = self.bytes.get(start + 1) else {
                self.pos = self.bytes.len();
                self.issue(
                    start,
                    IssueKind::Truncated,
                    "Shift_JIS lead byte at the end",
                );
                return;
            };
            self.pos = start + 2;
            match shift_jis_decode([b, second]) {
                Some(c) => self.push_text(start, c, true),
                None => {
                    self.issue(
                        start,
                        IssueKind::UndecodableText,
                        format!("{b:02X} {second:02X} is not a Shift_JIS character"),
                    );
                    self.push_text(start, '\u{FFFD}', true);
                }
            }
            return;
        }
        self.pos = start + 1;
        if b < 0x80 {
            self.push_text(start, b as char, false);
            return;
        }
        let page = match (self.page, self.page_known) {
            (_, false) => None,
            (Some(p), true) => Some(p),
            (None, true) => {
                if !self.warned_page {
                    self.warned_page = true;
                    self.issue(
                        start,
                        IssueKind::CodePageNotSelected,
                        "non-ASCII text before ESC t; decoded as PC437",
                    );
                }
                Some(CodePage::Pc437)
            }
        };
        match page.and_then(|p| p.decode(b)) {
            Some(c) => self.push_text(start, c, false),
            None => {
                self.issue(
                    start,
                    IssueKind::UndecodableText,
                    format!("byte {b:02X} in code page {:?}", self.page),
                );
                self.push_text(start, '\u{FFFD}', false);
            }
        }
    }

    fn invalid(&mut self, start: usize, what: &str, value: u8) {
        self.issue(
            start,
            IssueKind::InvalidParameter,
            format!("{what}: {value} is out of range"),
        );
    }

    fn esc(&mut self, start: usize) {
        let Some(&op) = self.bytes.get(start + 1) else {
            self.pos = self.bytes.len();
            self.issue(start, IssueKind::Truncated, "ESC at the end");
            return;
        };
        let one = |d: &mut Self| d.params(start, 2, 1).map(|p| p[0]);
        match op {
            b'@' => {
                self.pos = start + 2;
                self.page = None;
                self.page_known = true;
                self.kanji = false;
                self.emit(start, Command::Init);
            }
            b'!' => {
                if let Some(n) = one(self) {
                    self.emit(start, Command::PrintMode { n });
                }
            }
            b'E' => {
                if let Some(n) = one(self) {
                    self.emit(start, Command::Bold { on: n & 1 == 1 });
                }
            }
            b'G' => {
                if let Some(n) = one(self) {
                    self.emit(start, Command::DoubleStrike { on: n & 1 == 1 });
                }
            }
            b'-' => {
                if let Some(n) = one(self) {
                    if !matches!(n, 0..=2 | 48..=50) {
                        self.invalid(start, "ESC - underline", n);
                    }
                    self.emit(start, Command::Underline { n: n % 48 });
                }
            }
            b'M' => {
                if let Some(n) = one(self) {
                    self.emit(start, Command::Font { n });
                }
            }
            b'a' => {
                if let Some(n) = one(self) {
                    let align = match n {
                        0 | 48 => Align::Left,
                        1 | 49 => Align::Center,
                        2 | 50 => Align::Right,
                        _ => {
                            self.invalid(start, "ESC a alignment", n);
                            return;
                        }
                    };
                    self.emit(start, Command::Align { align });
                }
            }
            b't' => {
                if let Some(n) = one(self) {
                    self.page = CodePage::from_escpos_number(n);
                    self.page_known = self.page.is_some();
                    if self.page.is_none() {
                        self.issue(
                            start,
                            IssueKind::InvalidParameter,
                            format!("ESC t {n}: no table for this code page"),
                        );
                    }
                    self.emit(start, Command::CodePage { n });
                }
            }
            b'R' => {
                if let Some(n) = one(self) {
                    if n != 0 {
                        self.issue(
                            start,
                            IssueKind::InvalidParameter,
                            format!("ESC R {n}: only the USA set (0) is decoded"),
                        );
                    }
                    self.emit(start, Command::InternationalSet { n });
                }
            }
            b'd' => {
                if let Some(n) = one(self) {
                    self.emit(start, Command::FeedLines { n });
                }
            }
            b'J' => {
                if let Some(n) = one(self) {
                    self.emit(start, Command::FeedDots { n });
                }
            }
            b'2' => {
                self.pos = start + 2;
                self.emit(start, Command::LineSpacing { dots: None });
            }
            b'3' => {
                if let Some(n) = one(self) {
                    self.emit(start, Command::LineSpacing { dots: Some(n) });
                }
            }
            b'p' => {
                if let Some(p) = self.params(start, 2, 3) {
                    let (pin, on_2ms, off_2ms) = (p[0], p[1], p[2]);
                    if !matches!(pin, 0 | 1 | 48 | 49) {
                        self.invalid(start, "ESC p pin", pin);
                    }
                    self.emit(
                        start,
                        Command::DrawerPulse {
                            pin: pin % 48,
                            on_2ms,
                            off_2ms,
                        },
                    );
                }
            }
            _ => self.unknown(start, 2),
        }
    }

    fn gs(&mut self, start: usize) {
        let Some(&op) = self.bytes.get(start + 1) else {
            self.pos = self.bytes.len();
            self.issue(start, IssueKind::Truncated, "GS at the end");
            return;
        };
        let one = |d: &mut Self| d.params(start, 2, 1).map(|p| p[0]);
        match op {
            b'!' => {
                if let Some(n) = one(self) {
                    let (width, height) = ((n >> 4) + 1, (n & 0x0F) + 1);
                    if width > 8 || height > 8 {
                        self.invalid(start, "GS ! size", n);
                    }
                    self.emit(start, Command::Size { width, height });
                }
            }
            b'B' => {
                if let Some(n) = one(self) {
                    self.emit(start, Command::Invert { on: n & 1 == 1 });
                }
            }
            b'H' => {
                if let Some(n) = one(self) {
                    self.emit(start, Command::BarcodeHri { n });
                }
            }
            b'h' => {
                if let Some(dots) = one(self) {
                    self.emit(start, Command::BarcodeHeight { dots });
                }
            }
            b'w' => {
                if let Some(dots) = one(self) {
                    if !(1..=6).contains(&dots) {
                        self.invalid(start, "GS w module width", dots);
                    }
                    self.emit(start, Command::BarcodeModuleWidth { dots });
                }
            }
            b'f' => {
                if let Some(n) = one(self) {
                    self.emit(start, Command::BarcodeHriFont { n });
                }
            }
            b'V' => {
                let Some(m) = one(self) else { return };
                match m {
                    0 | 48 => self.emit(
                        start,
                        Command::Cut {
                            partial: false,
                            feed: None,
                        },
                    ),
                    1 | 49 => self.emit(
                        start,
                        Command::Cut {
                            partial: true,
                            feed: None,
                        },
                    ),
                    65 | 66 | 97 | 98 | 103 | 104 => {
                        if let Some(p) = self.params(start, 3, 1) {
                            let n = p[0];
                            self.emit(
                                start,
                                Command::Cut {
                                    partial: m % 2 == 0,
                                    feed: Some(n),
                                },
                            );
                        }
                    }
                    _ => self.invalid(start, "GS V cut mode", m),
                }
            }
            b'k' => self.barcode(start),
            b'(' => self.gs_paren(start),
            b'v' => self.raster(start),
            _ => self.unknown(start, 2),
        }
    }

    fn barcode(&mut self, start: usize) {
        let Some(m) = self.params(start, 2, 1).map(|p| p[0]) else {
            return;
        };
        let data: Vec<u8> = if m <= 6 {
            let from = start + 3;
            match self.bytes[from..].iter().position(|&b| b == 0) {
                Some(len) => {
                    self.pos = from + len + 1;
                    self.bytes[from..from + len].to_vec()
                }
                None => {
                    self.pos = self.bytes.len();
                    self.issue(start, IssueKind::Truncated, "GS k data without NUL");
                    return;
                }
            }
        } else {
            let Some(n) = self.params(start, 3, 1).map(|p| usize::from(p[0])) else {
                return;
            };
            match self.params(start, 4, n) {
                Some(d) => d.to_vec(),
                None => return,
            }
        };
        let symbology = Symbology::from_m(m);
        let readable = match symbology {
            Symbology::Code128 => self.code128_data(start, &data),
            _ => String::from_utf8_lossy(&data).into_owned(),
        };
        if symbology == Symbology::Ean13 {
            let ok = match data.len() {
                13 => validate_gtin(&readable).is_ok(),
                12 => readable.bytes().all(|b| b.is_ascii_digit()),
                _ => false,
            };
            if !ok {
                self.issue(
                    start,
                    IssueKind::InvalidBarcode,
                    format!("EAN-13 {readable:?} has a wrong length or check digit"),
                );
            }
        }
        self.emit(
            start,
            Command::Barcode {
                symbology,
                data: readable,
            },
        );
    }

    /// Turns `{B…`/`{C…`/`{A…` CODE128 data into what a scanner reads.
    fn code128_data(&mut self, start: usize, data: &[u8]) -> String {
        let mut out = String::new();
        let mut set = None;
        let mut i = 0;
        while i < data.len() {
            if data[i] == b'{' {
                match data.get(i + 1) {
                    Some(b'A') => set = Some(b'A'),
                    Some(b'B') => set = Some(b'B'),
                    Some(b'C') => set = Some(b'C'),
                    Some(b'{') if set.is_some() => out.push('{'),
                    other => {
                        self.issue(
                            start,
                            IssueKind::InvalidBarcode,
                            format!("CODE128 function {other:?} not decoded"),
                        );
                    }
                }
                i += 2;
                continue;
            }
            match set {
                Some(b'C') if data[i] < 100 => out.push_str(&format!("{:02}", data[i])),
                Some(b'A' | b'B') => out.push(data[i] as char),
                _ => {
                    self.issue(
                        start,
                        IssueKind::InvalidBarcode,
                        "CODE128 data without a valid code set ({A, {B or {C)",
                    );
                    return out;
                }
            }
            i += 1;
        }
        out
    }

    fn gs_paren(&mut self, start: usize) {
        let Some(head) = self.params(start, 2, 3).map(|p| [p[0], p[1], p[2]]) else {
            return;
        };
        let [kind, pl, ph] = head;
        let len = usize::from(pl) | usize::from(ph) << 8;
        let Some(body) = self.params(start, 5, len).map(<[u8]>::to_vec) else {
            return;
        };
        if kind != b'k' || body.len() < 2 || body[0] != 49 {
            self.unknown_len(start, 5 + len);
            return;
        }
        let args = &body[2..];
        let arg = |i: usize| args.get(i).copied().unwrap_or(0);
        match body[1] {
            65 => {
                self.qr_model = arg(0);
                if !(49..=51).contains(&arg(0)) {
                    self.invalid(start, "QR model", arg(0));
                }
                self.emit(start, Command::QrModel { n: arg(0) });
            }
            67 => {
                if !(1..=16).contains(&arg(0)) {
                    self.invalid(start, "QR module size", arg(0));
                }
                self.emit(start, Command::QrModuleSize { dots: arg(0) });
            }
            69 => {
                if !(48..=51).contains(&arg(0)) {
                    self.invalid(start, "QR error correction", arg(0));
                }
                self.emit(start, Command::QrErrorCorrection { n: arg(0) });
            }
            80 => {
                self.qr_data = args.get(1..).unwrap_or_default().to_vec();
                self.emit(
                    start,
                    Command::QrStore {
                        data: self.qr_data.clone(),
                    },
                );
            }
            81 => {
                if self.qr_model != 50 {
                    self.issue(
                        start,
                        IssueKind::QrNotModel2,
                        format!("QR printed as model n={}", self.qr_model),
                    );
                }
                self.emit(
                    start,
                    Command::QrPrint {
                        model: self.qr_model,
                        data: self.qr_data.clone(),
                    },
                );
            }
            _ => self.unknown_len(start, 5 + len),
        }
    }

    fn unknown_len(&mut self, start: usize, len: usize) {
        self.unknown(start, len);
    }

    fn raster(&mut self, start: usize) {
        let Some(h) = self.params(start, 2, 6).map(<[u8]>::to_vec) else {
            return;
        };
        if h[0] != b'0' {
            self.unknown(start, 3);
            return;
        }
        if !matches!(h[1], 0..=3 | 48..=51) {
            self.invalid(start, "GS v 0 mode", h[1]);
        }
        let xb = usize::from(h[2]) | usize::from(h[3]) << 8;
        let rows = usize::from(h[4]) | usize::from(h[5]) << 8;
        let Some(data) = self.params(start, 8, xb * rows).map(<[u8]>::to_vec) else {
            return;
        };
        match Bitmap::from_packed((xb * 8) as u32, rows as u32, data) {
            Ok(image) => self.emit(start, Command::Raster { image }),
            Err(e) => self.issue(start, IssueKind::InvalidParameter, e.to_string()),
        }
    }

    fn fs(&mut self, start: usize) {
        let Some(&op) = self.bytes.get(start + 1) else {
            self.pos = self.bytes.len();
            self.issue(start, IssueKind::Truncated, "FS at the end");
            return;
        };
        match op {
            b'&' => {
                self.pos = start + 2;
                self.kanji = true;
                self.emit(start, Command::KanjiOn);
            }
            b'.' => {
                self.pos = start + 2;
                self.kanji = false;
                self.emit(start, Command::KanjiOff);
            }
            b'C' => {
                if let Some(n) = self.params(start, 2, 1).map(|p| p[0]) {
                    if !matches!(n, 1 | 49) {
                        self.issue(
                            start,
                            IssueKind::InvalidParameter,
                            format!("FS C {n}: only Shift_JIS (1) is decoded"),
                        );
                    }
                    self.emit(start, Command::KanjiCodeSystem { n });
                }
            }
            b'!' => {
                if let Some(n) = self.params(start, 2, 1).map(|p| p[0]) {
                    self.emit(start, Command::KanjiPrintMode { n });
                }
            }
            _ => self.unknown(start, 2),
        }
    }

    fn dle(&mut self, start: usize) {
        match self.bytes.get(start + 1) {
            Some(0x04) => {
                if let Some(n) = self.params(start, 2, 1).map(|p| p[0]) {
                    if !(1..=4).contains(&n) {
                        self.invalid(start, "DLE EOT status kind", n);
                    }
                    self.emit(start, Command::StatusRequest { n });
                }
            }
            _ => self.unknown(start, 2),
        }
    }
}

impl Trace {
    /// True when the stream decoded without any issue.
    pub fn is_clean(&self) -> bool {
        self.issues.is_empty()
    }

    /// The commands alone, in order.
    pub fn commands(&self) -> impl Iterator<Item = &Command> {
        self.entries.iter().map(|e| &e.command)
    }

    /// The raster images, in order.
    pub fn images(&self) -> Vec<&Bitmap> {
        self.commands()
            .filter_map(|c| match c {
                Command::Raster { image } => Some(image),
                _ => None,
            })
            .collect()
    }

    /// The paper as printed, line by line, with each line's style: what the on-screen preview
    /// draws (text lines in a monospace font, images as pictures, codes as codes).
    pub fn preview(&self, paper: PaperWidth) -> Vec<PreviewLine> {
        let mut page = Paper::new(paper.columns());
        for command in self.commands() {
            match command {
                Command::Text { text, wide } => {
                    for c in text.chars() {
                        page.put(c, if *wide { 2 } else { 1 });
                    }
                }
                Command::LineFeed => page.line_feed(),
                Command::Init => {
                    page.end_line_if_started();
                    page.style = LineStyle::default();
                    page.align = Align::Left;
                }
                Command::Size { width, height } => {
                    page.style.width = (*width).clamp(1, 8);
                    page.style.height = (*height).clamp(1, 8);
                }
                Command::PrintMode { n } => {
                    page.style.width = if n & 0x20 != 0 { 2 } else { 1 };
                    page.style.height = if n & 0x10 != 0 { 2 } else { 1 };
                    page.style.bold = n & 0x08 != 0;
                }
                Command::Bold { on } => page.style.bold = *on,
                Command::Invert { on } => page.style.invert = *on,
                Command::Align { align } => page.align = *align,
                Command::FeedLines { n } => {
                    for _ in 0..*n {
                        page.line_feed();
                    }
                }
                Command::Cut { .. } => page.block(PreviewLine::Cut),
                Command::Barcode { symbology, data } => page.block(PreviewLine::Barcode {
                    symbology: *symbology,
                    data: data.clone(),
                    align: page.align,
                }),
                Command::QrPrint { data, .. } => page.block(PreviewLine::Qr {
                    data: String::from_utf8_lossy(data).into_owned(),
                    align: page.align,
                }),
                Command::Raster { image } => page.block(PreviewLine::Image {
                    image: image.clone(),
                    align: page.align,
                }),
                Command::Unknown { bytes } => {
                    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02X}")).collect();
                    for c in format!("[? {}]", hex.join(" ")).chars() {
                        page.put(c, 1);
                    }
                }
                _ => {}
            }
        }
        page.end_line_if_started();
        page.lines
    }

    /// The paper as a customer reads it, one string per printed line (trailing spaces
    /// trimmed). Barcodes read `[EAN13: …]`, QR codes `[QR: …]`, images `[image WxH]`, cuts
    /// `--- cut ---`, unknown commands `[? 1B 99]`. Double-width text is shown once per
    /// character, placed where its (doubled) width puts it.
    pub fn lines(&self, paper: PaperWidth) -> Vec<String> {
        let columns = paper.columns();
        self.preview(paper)
            .iter()
            .map(|line| {
                let (label, align) = match line {
                    PreviewLine::Text { text, .. } => return text.clone(),
                    PreviewLine::Cut => return "--- cut ---".to_owned(),
                    PreviewLine::Barcode {
                        symbology,
                        data,
                        align,
                    } => (format!("[{}: {data}]", symbology.label()), *align),
                    PreviewLine::Qr { data, align } => (format!("[QR: {data}]"), *align),
                    PreviewLine::Image { image, align } => (
                        format!("[image {}x{}]", image.width(), image.height()),
                        *align,
                    ),
                };
                let pad = pad_for(align, columns, label.chars().count());
                format!("{}{label}", " ".repeat(pad))
            })
            .collect()
    }

    /// [`Trace::lines`] joined with `\n`.
    pub fn text(&self, paper: PaperWidth) -> String {
        self.lines(paper).join("\n")
    }
}

/// One printed line of the preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PreviewLine {
    /// Text, already padded for its alignment (in columns of normal width; a character of a
    /// double-width line covers two), trailing spaces trimmed. The style is the one in effect
    /// at the line's first character.
    Text {
        text: String,
        bold: bool,
        width: u8,
        height: u8,
        invert: bool,
    },
    Image {
        image: Bitmap,
        align: Align,
    },
    Barcode {
        symbology: Symbology,
        data: String,
        align: Align,
    },
    Qr {
        data: String,
        align: Align,
    },
    Cut,
}

fn pad_for(align: Align, columns: usize, used: usize) -> usize {
    match align {
        Align::Left => 0,
        Align::Center => columns.saturating_sub(used) / 2,
        Align::Right => columns.saturating_sub(used),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LineStyle {
    bold: bool,
    width: u8,
    height: u8,
    invert: bool,
}

impl Default for LineStyle {
    fn default() -> LineStyle {
        LineStyle {
            bold: false,
            width: 1,
            height: 1,
            invert: false,
        }
    }
}

/// The line being printed, as the printer lays it out.
struct Paper {
    columns: usize,
    lines: Vec<PreviewLine>,
    current: String,
    used: usize,
    started: bool,
    line_align: Align,
    line_style: LineStyle,
    align: Align,
    style: LineStyle,
}

impl Paper {
    fn new(columns: usize) -> Paper {
        Paper {
            columns,
            lines: Vec::new(),
            current: String::new(),
            used: 0,
            started: false,
            line_align: Align::Left,
            line_style: LineStyle::default(),
            align: Align::Left,
            style: LineStyle::default(),
        }
    }

    fn start_line(&mut self) {
        self.started = true;
        self.line_align = self.align;
        self.line_style = self.style;
    }

    fn put(&mut self, c: char, cols: usize) {
        let cols = cols * usize::from(self.style.width);
        if !self.started {
            self.start_line();
        }
        if self.used + cols > self.columns && self.used > 0 {
            // The printer wraps: the line is full.
            self.line_feed();
            self.start_line();
        }
        self.current.push(c);
        self.used += cols;
    }

    fn line_feed(&mut self) {
        let style = if self.started {
            self.line_style
        } else {
            self.style
        };
        let pad = pad_for(self.line_align, self.columns, self.used);
        let text = format!("{}{}", " ".repeat(pad), self.current)
            .trim_end()
            .to_owned();
        self.lines.push(PreviewLine::Text {
            text,
            bold: style.bold,
            width: style.width,
            height: style.height,
            invert: style.invert,
        });
        self.current.clear();
        self.used = 0;
        self.started = false;
        self.line_align = self.align;
    }

    fn end_line_if_started(&mut self) {
        if self.started {
            self.line_feed();
        }
    }

    /// A barcode, QR code, image or cut: a block on lines of its own.
    fn block(&mut self, line: PreviewLine) {
        self.end_line_if_started();
        self.lines.push(line);
    }
}
