//! Receipt layout: a [`ReceiptDocument`] (plain data, every string already formatted for the
//! customer's locale by the app) → ESC/POS bytes for one printer.
//!
//! Invariants:
//! - Layout counts columns as the paper shows them: a single-byte character is one column, a
//!   Kanji character two, and double-width text twice that; nothing is cut off — long names
//!   and notes wrap.
//! - Amounts are right-aligned to the paper edge, so every amount column lines up.
//! - The layout writes no words of its own: every label comes from the document.

use serde::{Deserialize, Serialize};

use super::bitmap::Bitmap;
use super::encoder::{Align, EncodeError, Encoder, QrErrorCorrection, text_columns};
use super::profile::{PaperWidth, PrinterProfile};

/// The receipt's language; it only changes line breaking (in Japanese a closing mark or a
/// small kana never starts a line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Es,
    Ja,
}

/// One sold item.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReceiptLine {
    pub name: String,
    /// Quantity and unit price, e.g. `2 x 0,99 €` or `1,234 kg x 2,49 €/kg`.
    pub detail: Option<String>,
    /// The line's amount, formatted.
    pub amount: String,
    /// Printed before the name, e.g. `※` for the Japanese reduced rate.
    pub mark: Option<String>,
    /// Discounts on this line: (label, amount), e.g. (`Descuento 10%`, `-0,50 €`).
    pub adjustments: Vec<(String, String)>,
}

/// A label with an amount: totals, taxes, tenders, change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReceiptRow {
    pub label: String,
    pub amount: String,
    /// Printed bold and large (the TOTAL).
    pub emphasis: bool,
}

impl ReceiptRow {
    pub fn new(label: impl Into<String>, amount: impl Into<String>) -> ReceiptRow {
        ReceiptRow {
            label: label.into(),
            amount: amount.into(),
            emphasis: false,
        }
    }

    pub fn emphasized(label: impl Into<String>, amount: impl Into<String>) -> ReceiptRow {
        ReceiptRow {
            emphasis: true,
            ..ReceiptRow::new(label, amount)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptCodeKind {
    /// QR code, model 2.
    Qr,
    /// CODE128 (code set C for an even number of digits, B otherwise).
    Code128,
}

/// The code printed at the bottom, scanned later to find the sale (returns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptCode {
    pub kind: ReceiptCodeKind,
    pub data: String,
}

/// The payment terminal's own slip for one card payment, printed after the tenders.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PaymentSlip {
    /// In the store's language, e.g. `Comprobante del datáfono`.
    pub heading: String,
    /// The terminal's print lines, verbatim (in the terminal's language); any full card
    /// number is masked before printing.
    pub lines: Vec<String>,
}

/// Everything printed on one receipt, already localized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptDocument {
    /// The paper the layout is made for (must not be wider than the printer's).
    pub paper: PaperWidth,
    pub language: Language,
    /// First line: the store name (large, bold, centred); then address, tax id…
    pub header: Vec<String>,
    /// E.g. `Factura simplificada`, `領収書`.
    pub title: Option<String>,
    /// (label, value): receipt number, date, cashier, terminal.
    pub meta: Vec<(String, String)>,
    pub lines: Vec<ReceiptLine>,
    /// Subtotal, base and tax per rate, TOTAL (emphasized).
    pub totals: Vec<ReceiptRow>,
    /// Payments and change.
    pub tenders: Vec<ReceiptRow>,
    /// The payment terminal's slips of the card payments, after the tenders.
    #[serde(default)]
    pub payment_slips: Vec<PaymentSlip>,
    /// Free text, e.g. `※は軽減税率対象`.
    pub notes: Vec<String>,
    pub code: Option<ReceiptCode>,
    pub footer: Vec<String>,
    pub logo: Option<Bitmap>,
    /// Pulse the cash drawer (pin 2) after printing.
    pub open_drawer: bool,
    /// Cut the paper at the end.
    pub cut: bool,
}

/// Renders the receipt for `profile`. Fails with [`EncodeError::Unprintable`] when some text
/// can be printed neither by the printer's character sets nor by its fallback font, and with
/// [`EncodeError::PaperTooWide`] when the layout is wider than the printer's paper.
pub fn render(doc: &ReceiptDocument, profile: &PrinterProfile) -> Result<Vec<u8>, EncodeError> {
    if doc.paper.dots() > profile.paper.dots() {
        return Err(EncodeError::PaperTooWide {
            document: doc.paper,
            printer: profile.paper,
        });
    }
    let mut layout = Layout {
        enc: Encoder::new(profile),
        cols: doc.paper.columns(),
        language: doc.language,
    };
    layout.document(doc)?;
    Ok(layout.enc.finish())
}

struct Layout<'p> {
    enc: Encoder<'p>,
    cols: usize,
    language: Language,
}

impl Layout<'_> {
    fn width(&self, s: &str) -> usize {
        text_columns(s, self.enc.profile())
    }

    fn document(&mut self, doc: &ReceiptDocument) -> Result<(), EncodeError> {
        self.enc.init();
        self.enc.align(Align::Center);
        if let Some(logo) = &doc.logo {
            self.enc.raster(logo)?;
        }
        let mut header = doc.header.iter();
        if let Some(name) = header.next() {
            self.big_centered(name)?;
        }
        for line in header {
            self.wrapped(line, self.cols)?;
        }
        if let Some(title) = &doc.title {
            self.enc.bold(true);
            self.wrapped(title, self.cols)?;
            self.enc.bold(false);
        }
        self.enc.align(Align::Left);
        if !doc.meta.is_empty() {
            self.rule()?;
            for (label, value) in &doc.meta {
                self.row(label, value, self.cols)?;
            }
        }
        if !doc.lines.is_empty() {
            self.rule()?;
            for line in &doc.lines {
                self.item(line)?;
            }
        }
        if !doc.totals.is_empty() {
            self.rule()?;
            for row in &doc.totals {
                self.total(row)?;
            }
        }
        if !doc.tenders.is_empty() {
            self.rule()?;
            for row in &doc.tenders {
                self.total(row)?;
            }
        }
        for slip in &doc.payment_slips {
            self.rule()?;
            self.enc.align(Align::Center);
            self.enc.bold(true);
            self.wrapped(&slip.heading, self.cols)?;
            self.enc.bold(false);
            self.enc.align(Align::Left);
            for line in &slip.lines {
                // The terminal lays its slip out in columns: keep its spacing when it fits.
                let line = crate::payment::mask_card_numbers(line);
                if self.width(&line) <= self.cols {
                    self.enc.line(&line)?;
                } else {
                    self.wrapped(&line, self.cols)?;
                }
            }
        }
        if !doc.notes.is_empty() {
            self.rule()?;
            for note in &doc.notes {
                self.wrapped(note, self.cols)?;
            }
        }
        if let Some(code) = &doc.code {
            self.enc.feed(1);
            self.enc.align(Align::Center);
            match code.kind {
                ReceiptCodeKind::Qr => {
                    let module = match doc.paper {
                        PaperWidth::Mm58 => 5,
                        PaperWidth::Mm80 => 6,
                    };
                    self.enc.qr(&code.data, module, QrErrorCorrection::M)?;
                }
                ReceiptCodeKind::Code128 => {
                    self.enc.code128(&code.data)?;
                }
            }
            self.enc.align(Align::Left);
        }
        if !doc.footer.is_empty() {
            self.enc.feed(1);
            self.enc.align(Align::Center);
            for line in &doc.footer {
                self.wrapped(line, self.cols)?;
            }
            self.enc.align(Align::Left);
        }
        if doc.open_drawer {
            self.enc.open_drawer();
        }
        if doc.cut {
            self.enc.feed(2);
            self.enc.cut(0);
        }
        Ok(())
    }

    fn rule(&mut self) -> Result<(), EncodeError> {
        self.enc.line(&"-".repeat(self.cols))?;
        Ok(())
    }

    /// The store name: double width and height when it fits, otherwise double height, wrapped.
    fn big_centered(&mut self, text: &str) -> Result<(), EncodeError> {
        self.enc.bold(true);
        if self.width(text) <= self.cols / 2 {
            self.enc.size(2, 2)?;
            self.enc.line(text)?;
        } else {
            self.enc.size(1, 2)?;
            self.wrapped(text, self.cols)?;
        }
        self.enc.size(1, 1)?;
        self.enc.bold(false);
        Ok(())
    }

    fn wrapped(&mut self, text: &str, width: usize) -> Result<(), EncodeError> {
        for line in wrap(text, width, self.language, |s| self.width(s)) {
            self.enc.line(&line)?;
        }
        Ok(())
    }

    /// `left … right` on `width` columns; `left` wraps, `right` sits on its first line.
    fn row(&mut self, left: &str, right: &str, width: usize) -> Result<(), EncodeError> {
        for line in two_columns(left, right, width, self.language, |s| self.width(s)) {
            self.enc.line(&line)?;
        }
        Ok(())
    }

    fn item(&mut self, line: &ReceiptLine) -> Result<(), EncodeError> {
        let name = match &line.mark {
            Some(mark) => format!("{mark}{}", line.name),
            None => line.name.clone(),
        };
        self.row(&name, &line.amount, self.cols)?;
        if let Some(detail) = &line.detail {
            self.row(&format!("  {detail}"), "", self.cols)?;
        }
        for (label, amount) in &line.adjustments {
            self.row(&format!("  {label}"), amount, self.cols)?;
        }
        Ok(())
    }

    /// A totals row; emphasized rows are bold and double size when they fit, else double
    /// height.
    fn total(&mut self, row: &ReceiptRow) -> Result<(), EncodeError> {
        if !row.emphasis {
            return self.row(&row.label, &row.amount, self.cols);
        }
        self.enc.bold(true);
        let needed = self.width(&row.label) + 1 + self.width(&row.amount);
        if needed <= self.cols / 2 {
            self.enc.size(2, 2)?;
            self.row(&row.label, &row.amount, self.cols / 2)?;
        } else {
            self.enc.size(1, 2)?;
            self.row(&row.label, &row.amount, self.cols)?;
        }
        self.enc.size(1, 1)?;
        self.enc.bold(false);
        Ok(())
    }
}

/// Lays out `left` and `right` on lines of `width` columns, `right` flush right on the first
/// line. When both cannot share a line, `left` wraps in the room left of `right`, or — if that
/// room is under half the width — takes full lines and `right` gets a line of its own.
pub fn two_columns(
    left: &str,
    right: &str,
    width: usize,
    language: Language,
    columns: impl Fn(&str) -> usize,
) -> Vec<String> {
    let lw = columns(left);
    let rw = columns(right);
    if rw == 0 {
        return wrap(left, width, language, &columns);
    }
    if lw + 1 + rw <= width {
        return vec![format!("{left}{}{right}", " ".repeat(width - lw - rw))];
    }
    let room = width.saturating_sub(rw + 1);
    if room >= width / 2 {
        let mut lines = wrap(left, room, language, &columns);
        let first_w = columns(&lines[0]);
        lines[0] = format!("{}{}{right}", lines[0], " ".repeat(width - first_w - rw));
        return lines;
    }
    let mut lines = wrap(left, width, language, &columns);
    lines.push(format!("{}{right}", " ".repeat(width.saturating_sub(rw))));
    lines
}

/// Characters that must not start a line in Japanese (行頭禁則).
const NO_LINE_START: &str =
    "、。，．・：；？！ー）］｝」』】〉》ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々)]}";

/// Greedy word wrap to `width` columns. Breaks at spaces; a word longer than a line is broken
/// between characters; next to wide (CJK) characters any character boundary is a break
/// opportunity, except that in Japanese a closing mark or small kana never starts a line.
/// Leading spaces (indentation) are kept. Always returns at least one line.
pub fn wrap(
    text: &str,
    width: usize,
    language: Language,
    columns: impl Fn(&str) -> usize,
) -> Vec<String> {
    let width = width.max(1);
    let indent: String = text.chars().take_while(|c| *c == ' ').collect();
    let body = &text[indent.len()..];
    let mut lines = Vec::new();
    let mut cur = indent.clone();
    let mut cur_w = columns(&indent);
    let mut has_word = false;
    let mut char_buf = [0u8; 4];
    for word in body.split(' ').filter(|w| !w.is_empty()) {
        let ww = columns(word);
        let sep = usize::from(has_word);
        if cur_w + sep + ww <= width {
            if has_word {
                cur.push(' ');
            }
            cur.push_str(word);
            cur_w += sep + ww;
            has_word = true;
            continue;
        }
        // Wide (CJK) characters are break opportunities in every language; a Latin word
        // moves to the next line whole when it fits there.
        let breakable_anywhere = word
            .chars()
            .any(|c| columns(c.encode_utf8(&mut char_buf)) >= 2);
        if ww <= width && !breakable_anywhere {
            if has_word {
                lines.push(std::mem::take(&mut cur));
            }
            cur = word.to_owned();
            cur_w = ww;
            has_word = true;
            continue;
        }
        // Break the word between characters, starting on the current line.
        if has_word && cur_w + 2 <= width {
            cur.push(' ');
            cur_w += 1;
        } else if has_word {
            lines.push(std::mem::take(&mut cur));
            cur_w = 0;
        }
        for c in word.chars() {
            let cw = columns(c.encode_utf8(&mut char_buf));
            if cur_w + cw > width && cur_w > 0 {
                // Japanese line breaking (kinsoku): a closing mark or small kana never starts
                // a line; the character before it moves down with it.
                let carry = language == Language::Ja
                    && NO_LINE_START.contains(c)
                    && width >= 4
                    && cur.chars().count() >= 2;
                let carried = if carry {
                    cur.pop().filter(|p| *p != ' ')
                } else {
                    None
                };
                lines.push(std::mem::take(&mut cur));
                cur_w = 0;
                if let Some(p) = carried {
                    cur.push(p);
                    cur_w = columns(p.encode_utf8(&mut char_buf));
                }
            }
            cur.push(c);
            cur_w += cw;
        }
        has_word = true;
    }
    if has_word || lines.is_empty() {
        lines.push(cur);
    }
    lines
}
