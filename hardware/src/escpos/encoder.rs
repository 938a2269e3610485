//! The ESC/POS encoder: a builder that appends commands to a byte buffer. Pure: no IO, no
//! clock; the same calls always give the same bytes.
//!
//! Invariants:
//! - Text is never printed as a substitute character: each character goes out in a code page
//!   that has it (switching with `ESC t`), in Kanji mode (Shift_JIS), as part of a raster line
//!   rendered with the profile's fallback font, or the call fails with
//!   [`EncodeError::Unprintable`] and appends nothing.
//! - The drawer pulse always carries both pulse times (`ESC p m t1 t2`), so the bytes after it
//!   are never taken as its parameters.
//! - Barcodes are validated before anything is appended (EAN-13 check digit via `pos_core`).

use pos_core::gtin::{BarcodeError, validate_gtin};
use serde::{Deserialize, Serialize};
use unicode_width::UnicodeWidthChar;

use super::bitmap::Bitmap;
use super::codepage::{CodePage, shift_jis_encode};
use super::profile::{CELL_HEIGHT_DOTS, CELL_WIDTH_DOTS, PrinterProfile};
use super::raster_text;

pub(crate) const ESC: u8 = 0x1B;
pub(crate) const GS: u8 = 0x1D;
pub(crate) const FS: u8 = 0x1C;
pub(crate) const DLE: u8 = 0x10;
pub(crate) const LF: u8 = 0x0A;

/// Largest raster height we send in one `GS v 0` (Epson's documented maximum).
pub const MAX_RASTER_HEIGHT: u32 = 2303;
/// Largest QR payload for model 2 (`GS ( k` function 180: at most 7089 bytes).
pub const MAX_QR_BYTES: usize = 7089;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// No code page of the printer, no Kanji mode and no fallback font can print `character`.
    /// Give the profile a fallback font, or change the text.
    #[error(
        "cannot print {character:?} in {text:?}: no code page of the printer has it and no fallback font covers it"
    )]
    Unprintable { text: String, character: char },
    /// Text contained a control character (tab, newline, …); pass lines separately.
    #[error("text contains control character {0:?}")]
    ControlCharacter(char),
    /// The EAN-13 is not 13 digits with a correct check digit.
    #[error("invalid EAN-13 {code:?}: {reason}")]
    InvalidEan13 { code: String, reason: BarcodeError },
    /// CODE128 data must be 1..=252 printable ASCII characters.
    #[error("invalid CODE128 data {data:?}: {reason}")]
    InvalidCode128 { data: String, reason: &'static str },
    /// The barcode is wider than the paper even at the narrowest module width.
    #[error("barcode needs {needed} dots, the paper has {available}")]
    BarcodeTooWide { needed: u32, available: u32 },
    /// QR data must be 1..=7089 bytes.
    #[error("QR data has {0} bytes; 1..=7089 allowed")]
    QrDataLength(usize),
    /// QR module size must be 1..=16 dots.
    #[error("QR module size {0} out of 1..=16")]
    QrModuleSize(u8),
    /// The image is wider than the paper or taller than one raster command allows.
    #[error("image {width}x{height} does not fit (max {max_width}x{max_height})")]
    ImageTooLarge {
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
    },
    /// The receipt layout is for wider paper than the printer has.
    #[error("layout for {document:?} paper does not fit the printer's {printer:?} paper")]
    PaperTooWide {
        document: super::profile::PaperWidth,
        printer: super::profile::PaperWidth,
    },
    /// Character size multipliers are 1..=8.
    #[error("character size {width}x{height} out of 1..=8")]
    CharSize { width: u8, height: u8 },
}

/// Horizontal alignment (`ESC a n`), effective from the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

impl Align {
    pub(crate) fn escpos_number(self) -> u8 {
        match self {
            Align::Left => 0,
            Align::Center => 1,
            Align::Right => 2,
        }
    }
}

/// Underline (`ESC - n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Underline {
    #[default]
    Off,
    /// One dot thick.
    Thin,
    /// Two dots thick.
    Thick,
}

/// Which drawer connector pin the pulse goes to (`m` of `ESC p`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DrawerPin {
    /// Connector pin 2 (`m = 0`): the first drawer.
    Pin2,
    /// Connector pin 5 (`m = 1`): the second drawer.
    Pin5,
}

/// QR error correction level (`GS ( k` function 169).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QrErrorCorrection {
    /// ~7 % recovery.
    L,
    /// ~15 % recovery.
    M,
    /// ~25 % recovery.
    Q,
    /// ~30 % recovery.
    H,
}

/// Print style that the encoder tracks, so a raster line looks like the text it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Style {
    pub bold: bool,
    pub underline: Underline,
    pub width: u8,
    pub height: u8,
    pub invert: bool,
    pub align: Align,
}

/// How one character prints: columns of font A at normal width, or `None` if only a raster
/// fallback can show it.
pub fn printable_columns(c: char, profile: &PrinterProfile) -> Option<usize> {
    if (' '..='~').contains(&c) {
        return Some(1);
    }
    if profile.code_pages.iter().any(|p| p.encode(c).is_some()) {
        return Some(1);
    }
    if profile.kanji && shift_jis_encode(c).is_some() {
        return Some(2);
    }
    None
}

/// Columns a character occupies on paper: as printed by a code page or Kanji mode, otherwise as
/// the raster fallback draws it (East Asian wide = 2, others 1).
pub fn char_columns(c: char, profile: &PrinterProfile) -> usize {
    printable_columns(c, profile).unwrap_or_else(|| c.width().unwrap_or(1).max(1))
}

/// Columns a string occupies on paper at normal width.
pub fn text_columns(s: &str, profile: &PrinterProfile) -> usize {
    s.chars().map(|c| char_columns(c, profile)).sum()
}

/// Builds ESC/POS bytes for one printer profile.
#[derive(Debug)]
pub struct Encoder<'p> {
    profile: &'p PrinterProfile,
    buf: Vec<u8>,
    /// The code page selected with `ESC t`; `None` until we select one (after `ESC @` the
    /// printer's default depends on its memory switches).
    page: Option<CodePage>,
    kanji: bool,
    kanji_system_set: bool,
    line_started: bool,
    style: Style,
}

impl<'p> Encoder<'p> {
    /// An encoder with an empty buffer. Call [`Encoder::init`] first for a fresh receipt.
    pub fn new(profile: &'p PrinterProfile) -> Encoder<'p> {
        Encoder {
            profile,
            buf: Vec::with_capacity(2048),
            page: None,
            kanji: false,
            kanji_system_set: false,
            line_started: false,
            style: Style {
                width: 1,
                height: 1,
                ..Style::default()
            },
        }
    }

    pub fn profile(&self) -> &PrinterProfile {
        self.profile
    }

    /// The bytes so far.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The finished byte stream.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }

    fn push(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// `ESC @` (reset), then `ESC R 0` (USA character set, so `#`, `$`, `@`, `[`… are ASCII
    /// whatever the memory switches say) and, on Kanji printers, `FS .` (Kanji mode off: it
    /// is on by default on Japanese models).
    pub fn init(&mut self) -> &mut Self {
        self.push(&[ESC, b'@', ESC, b'R', 0]);
        if self.profile.kanji {
            self.push(&[FS, b'.']);
        }
        self.page = None;
        self.kanji = false;
        self.kanji_system_set = false;
        self.line_started = false;
        self.style = Style {
            width: 1,
            height: 1,
            ..Style::default()
        };
        self
    }

    /// `ESC E n`: emphasized (bold) on or off.
    pub fn bold(&mut self, on: bool) -> &mut Self {
        self.style.bold = on;
        self.push(&[ESC, b'E', u8::from(on)])
    }

    /// `ESC - n`: underline off, 1 dot or 2 dots.
    pub fn underline(&mut self, underline: Underline) -> &mut Self {
        self.style.underline = underline;
        let n = match underline {
            Underline::Off => 0,
            Underline::Thin => 1,
            Underline::Thick => 2,
        };
        self.push(&[ESC, b'-', n])
    }

    /// `GS ! n`: character width and height multipliers (1..=8 each); applies to Kanji too.
    pub fn size(&mut self, width: u8, height: u8) -> Result<&mut Self, EncodeError> {
        if !(1..=8).contains(&width) || !(1..=8).contains(&height) {
            return Err(EncodeError::CharSize { width, height });
        }
        self.style.width = width;
        self.style.height = height;
        Ok(self.push(&[GS, b'!', ((width - 1) << 4) | (height - 1)]))
    }

    /// `GS B n`: white on black on or off.
    pub fn invert(&mut self, on: bool) -> &mut Self {
        self.style.invert = on;
        self.push(&[GS, b'B', u8::from(on)])
    }

    /// `ESC a n`: alignment, effective from the start of the next line.
    pub fn align(&mut self, align: Align) -> &mut Self {
        self.style.align = align;
        self.push(&[ESC, b'a', align.escpos_number()])
    }

    /// `ESC t n`: select a code page explicitly.
    pub fn code_page(&mut self, page: CodePage) -> &mut Self {
        self.kanji_off();
        self.page = Some(page);
        self.push(&[ESC, b't', page.escpos_number()])
    }

    /// `FS C 1` (once) and `FS &`: Kanji mode on, Shift_JIS.
    fn kanji_on(&mut self) {
        if self.kanji {
            return;
        }
        if !self.kanji_system_set {
            self.push(&[FS, b'C', 1]);
            self.kanji_system_set = true;
        }
        self.push(&[FS, b'&']);
        self.kanji = true;
    }

    /// `FS .`: Kanji mode off (only sent when it is on).
    fn kanji_off(&mut self) {
        if self.kanji {
            self.push(&[FS, b'.']);
            self.kanji = false;
        }
    }

    fn check_text(&self, s: &str) -> Result<(), EncodeError> {
        if let Some(c) = s.chars().find(|c| c.is_control()) {
            return Err(EncodeError::ControlCharacter(c));
        }
        for c in s.chars() {
            if printable_columns(c, self.profile).is_none() {
                return Err(EncodeError::Unprintable {
                    text: s.to_owned(),
                    character: c,
                });
            }
        }
        Ok(())
    }

    /// Appends text in the printer's own character sets, switching code page and Kanji mode
    /// as needed. Fails, appending nothing, if any character needs the raster fallback (use
    /// [`Encoder::line`] for that).
    pub fn text(&mut self, s: &str) -> Result<&mut Self, EncodeError> {
        self.check_text(s)?;
        for c in s.chars() {
            self.line_started = true;
            if (' '..='~').contains(&c) {
                // ASCII prints the same in every code page and in Kanji mode.
                self.buf.push(c as u8);
                continue;
            }
            if let Some(byte) = self.page.filter(|_| !self.kanji).and_then(|p| p.encode(c)) {
                self.buf.push(byte);
                continue;
            }
            let single = self
                .profile
                .code_pages
                .iter()
                .find_map(|&p| p.encode(c).map(|b| (p, b)));
            if let Some((page, byte)) = single {
                self.kanji_off();
                if self.page != Some(page) {
                    self.code_page(page);
                }
                self.buf.push(byte);
            } else if let Some(pair) = shift_jis_encode(c).filter(|_| self.profile.kanji) {
                self.kanji_on();
                self.push(&pair);
            }
        }
        Ok(self)
    }

    /// `LF`: prints the line and feeds one line.
    pub fn newline(&mut self) -> &mut Self {
        self.line_started = false;
        self.push(&[LF])
    }

    /// One line of text, then `LF`. Text that no code page can print is drawn as a raster
    /// image of the whole line with the profile's fallback font, in the current style and
    /// alignment; without a fallback font (or if the font lacks a glyph) it fails with
    /// [`EncodeError::Unprintable`] and appends nothing.
    pub fn line(&mut self, s: &str) -> Result<&mut Self, EncodeError> {
        match self.check_text(s) {
            Ok(()) => {
                self.text(s)?;
                Ok(self.newline())
            }
            Err(EncodeError::Unprintable { text, character }) => {
                let Some(font) = self.profile.fallback_font.as_ref() else {
                    return Err(EncodeError::Unprintable { text, character });
                };
                let glyphs: Vec<(char, usize)> = s
                    .chars()
                    .map(|c| (c, char_columns(c, self.profile)))
                    .collect();
                let bitmap = raster_text::render_line(font, &glyphs, self.style)
                    .map_err(|character| EncodeError::Unprintable { text, character })?;
                self.raster(&bitmap)
            }
            Err(other) => Err(other),
        }
    }

    /// `ESC d n`: prints the buffer and feeds `lines` lines.
    pub fn feed(&mut self, lines: u8) -> &mut Self {
        self.line_started = false;
        self.push(&[ESC, b'd', lines])
    }

    /// `GS V 66 n`: feeds to the cutter (plus `n` motion units) and cuts partially.
    pub fn cut(&mut self, extra_feed: u8) -> &mut Self {
        self.end_line();
        self.push(&[GS, b'V', 66, extra_feed])
    }

    /// `ESC p m t1 t2`: drawer kick pulse, on for `on_2ms` × 2 ms and off for `off_2ms` × 2 ms.
    /// Both times are always sent.
    pub fn drawer_pulse(&mut self, pin: DrawerPin, on_2ms: u8, off_2ms: u8) -> &mut Self {
        let m = match pin {
            DrawerPin::Pin2 => 0,
            DrawerPin::Pin5 => 1,
        };
        self.push(&[ESC, b'p', m, on_2ms, off_2ms])
    }

    /// The usual drawer kick: pin 2, 50 ms on, 500 ms off (`1B 70 00 19 FA`).
    pub fn open_drawer(&mut self) -> &mut Self {
        self.drawer_pulse(DrawerPin::Pin2, 25, 250)
    }

    fn end_line(&mut self) {
        if self.line_started {
            self.newline();
        }
    }

    /// `GS H 2`, `GS h 80`, `GS w n`: readable digits below, 10 mm high, module width.
    fn barcode_setup(&mut self, module_width: u8) {
        self.end_line();
        self.push(&[GS, b'H', 2, GS, b'h', 80, GS, b'w', module_width]);
    }

    /// EAN-13 (`GS k 67 13 d1…d13`). The check digit must be right; nothing is appended
    /// otherwise.
    pub fn ean13(&mut self, code: &str) -> Result<&mut Self, EncodeError> {
        let invalid = |reason| EncodeError::InvalidEan13 {
            code: code.to_owned(),
            reason,
        };
        validate_gtin(code).map_err(invalid)?;
        if code.len() != 13 {
            return Err(invalid(BarcodeError::Length(code.len())));
        }
        // 95 modules + quiet zones of ~11 modules each side.
        let needed = 117 * 2;
        self.check_barcode_width(needed)?;
        self.barcode_setup(2);
        self.push(&[GS, b'k', 67, 13]);
        Ok(self.push(code.as_bytes()))
    }

    fn check_barcode_width(&self, needed: u32) -> Result<(), EncodeError> {
        let available = self.profile.paper.dots();
        if needed > available {
            return Err(EncodeError::BarcodeTooWide { needed, available });
        }
        Ok(())
    }

    /// CODE128 (`GS k 73 n {B…` or `{C…`): code set C (two digits per symbol) for an even
    /// number of digits, code set B otherwise (`{` is sent as `{{`). Module width 2 dots, or 1
    /// when 2 would not fit the paper.
    pub fn code128(&mut self, data: &str) -> Result<&mut Self, EncodeError> {
        let invalid = |reason| EncodeError::InvalidCode128 {
            data: data.to_owned(),
            reason,
        };
        if data.is_empty() {
            return Err(invalid("empty"));
        }
        if !data.bytes().all(|b| (0x20..=0x7E).contains(&b)) {
            return Err(invalid("only printable ASCII can be encoded"));
        }
        let mut payload = Vec::with_capacity(data.len() + 2);
        let symbols = if data.len().is_multiple_of(2) && data.bytes().all(|b| b.is_ascii_digit()) {
            payload.extend_from_slice(b"{C");
            for pair in data.as_bytes().chunks(2) {
                payload.push((pair[0] - b'0') * 10 + (pair[1] - b'0'));
            }
            data.len() / 2
        } else {
            payload.extend_from_slice(b"{B");
            for b in data.bytes() {
                payload.push(b);
                if b == b'{' {
                    payload.push(b'{');
                }
            }
            data.len()
        };
        if payload.len() > 255 {
            return Err(invalid("longer than 255 bytes once encoded"));
        }
        // start + data + check + stop, 11 modules each (stop 13), plus 10-module quiet zones.
        let modules = (symbols as u32 + 2) * 11 + 13 + 20;
        let module_width = if modules * 2 <= self.profile.paper.dots() {
            2
        } else {
            self.check_barcode_width(modules)?;
            1
        };
        self.barcode_setup(module_width);
        self.push(&[GS, b'k', 73, payload.len() as u8]);
        Ok(self.push(&payload))
    }

    /// QR code, model 2 (`GS ( k`: select model 2, module size, error correction, store, print).
    pub fn qr(
        &mut self,
        data: &str,
        module_size: u8,
        ecc: QrErrorCorrection,
    ) -> Result<&mut Self, EncodeError> {
        if data.is_empty() || data.len() > MAX_QR_BYTES {
            return Err(EncodeError::QrDataLength(data.len()));
        }
        if !(1..=16).contains(&module_size) {
            return Err(EncodeError::QrModuleSize(module_size));
        }
        let ecc = match ecc {
            QrErrorCorrection::L => 48,
            QrErrorCorrection::M => 49,
            QrErrorCorrection::Q => 50,
            QrErrorCorrection::H => 51,
        };
        self.end_line();
        // fn 165 (A): model 2 (n1 = 50), n2 = 0.
        self.push(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]);
        // fn 167 (C): module size.
        self.push(&[GS, b'(', b'k', 3, 0, 49, 67, module_size]);
        // fn 169 (E): error correction.
        self.push(&[GS, b'(', b'k', 3, 0, 49, 69, ecc]);
        // fn 180 (P): store data.
        let len = data.len() + 3;
        self.push(&[
            GS,
            b'(',
            b'k',
            (len & 0xFF) as u8,
            (len >> 8) as u8,
            49,
            80,
            48,
        ]);
        self.push(data.as_bytes());
        // fn 181 (Q): print.
        Ok(self.push(&[GS, b'(', b'k', 3, 0, 49, 81, 48]))
    }

    /// `GS v 0 0 xL xH yL yH d…`: a raster image at normal density, aligned by `ESC a`.
    /// Ends the current line first (a raster image starts a line of its own).
    pub fn raster(&mut self, bitmap: &Bitmap) -> Result<&mut Self, EncodeError> {
        let max_width = self.profile.paper.dots();
        if bitmap.width() > max_width || bitmap.height() > MAX_RASTER_HEIGHT {
            return Err(EncodeError::ImageTooLarge {
                width: bitmap.width(),
                height: bitmap.height(),
                max_width,
                max_height: MAX_RASTER_HEIGHT,
            });
        }
        self.end_line();
        let xb = bitmap.width_bytes();
        let h = bitmap.height() as usize;
        self.push(&[
            GS,
            b'v',
            b'0',
            0,
            (xb & 0xFF) as u8,
            (xb >> 8) as u8,
            (h & 0xFF) as u8,
            (h >> 8) as u8,
        ]);
        Ok(self.push(bitmap.packed()))
    }
}

/// Dots of one character cell at the given size multipliers.
pub(crate) fn cell_dots(width: u8, height: u8) -> (u32, u32) {
    (
        CELL_WIDTH_DOTS * u32::from(width),
        CELL_HEIGHT_DOTS * u32::from(height),
    )
}
