//! The receipt as a PDF, for the e-mail attachment: the receipt's text lines (the same lines
//! the printer prints and the screen previews) drawn into a grey-scale image with the same
//! fonts the ESC/POS raster fallback uses (Noto Sans CJK, DejaVu Sans), wrapped in a minimal
//! hand-written PDF 1.4: one page the width of 80 mm paper, one image XObject (Flate).
//!
//! Drawing the text into an image means Japanese and Spanish render exactly as on paper in
//! every PDF reader, without embedding or subsetting fonts.
//!
//! Invariants: the output always starts with `%PDF-1.4` and ends with `%%EOF`, its xref offsets
//! are exact (checked by the tests), and every character is drawn from a real glyph of one of
//! the fonts — a character none of them has is an error, never a box.

use flate2::Compression;
use flate2::write::ZlibEncoder;
use std::io::Write;
use std::sync::OnceLock;
use unicode_width::UnicodeWidthChar;

/// Pixels per character column and per line.
const CELL_W: u32 = 20;
const LINE_H: u32 = 40;
/// The glyph size in pixels.
const FONT_PX: f32 = 32.0;
const MARGIN: u32 = 24;
/// 80 mm in PDF points.
const PAGE_WIDTH_PT: f64 = 80.0 / 25.4 * 72.0;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    /// None of the font files is installed (Debian: fonts-noto-cjk, fonts-dejavu-core).
    #[error("no font for the receipt PDF (tried {0})")]
    NoFont(String),
    /// No installed font has a glyph for this character.
    #[error("no font has the character {0:?}")]
    MissingGlyph(char),
}

fn fonts() -> &'static Result<Vec<fontdue::Font>, PdfError> {
    static FONTS: OnceLock<Result<Vec<fontdue::Font>, PdfError>> = OnceLock::new();
    FONTS.get_or_init(|| {
        let fonts: Vec<fontdue::Font> = pos_hardware::escpos::SYSTEM_FALLBACK_FONTS
            .iter()
            .filter_map(|path| std::fs::read(path).ok())
            .filter_map(|bytes| {
                fontdue::Font::from_bytes(
                    bytes,
                    fontdue::FontSettings {
                        collection_index: 0,
                        scale: FONT_PX,
                        ..fontdue::FontSettings::default()
                    },
                )
                .ok()
            })
            .collect();
        if fonts.is_empty() {
            Err(PdfError::NoFont(
                pos_hardware::escpos::SYSTEM_FALLBACK_FONTS.join(", "),
            ))
        } else {
            Ok(fonts)
        }
    })
}

/// Loads the fonts now (parsing the CJK collection takes a moment), so the first e-mailed
/// receipt does not wait for it. Returns whether a font is available.
pub fn warm_up() -> bool {
    fonts().is_ok()
}

/// A grey-scale image, one byte per pixel (0 black … 255 white), rows top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gray {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl Gray {
    /// Pixels darker than mid-grey.
    pub fn dark_pixels(&self) -> usize {
        self.pixels.iter().filter(|p| **p < 128).count()
    }
}

/// One printed line to draw: text with its print size, or a raster image (logo, fallback text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Printed {
    /// `width`/`height`: the print size multipliers (2 = double).
    Text {
        text: String,
        width: u8,
        height: u8,
    },
    Image(pos_hardware::escpos::Bitmap),
}

impl Printed {
    pub fn text(s: &str) -> Printed {
        Printed::Text {
            text: s.to_owned(),
            width: 1,
            height: 1,
        }
    }
}

/// The printer's view of a receipt (decoded ESC/POS) as lines to draw: sizes kept, a QR code
/// shown as its text, cuts dropped.
pub fn printed_lines(
    preview: &[pos_hardware::escpos::PreviewLine],
    columns: usize,
) -> Vec<Printed> {
    use pos_hardware::escpos::PreviewLine as P;
    preview
        .iter()
        .filter_map(|l| match l {
            P::Text {
                text,
                width,
                height,
                ..
            } => Some(Printed::Text {
                text: text.clone(),
                width: (*width).clamp(1, 4),
                height: (*height).clamp(1, 4),
            }),
            P::Image { image, .. } => Some(Printed::Image(image.clone())),
            P::Qr { data, .. } | P::Barcode { data, .. } => {
                let pad = columns.saturating_sub(data.chars().count()) / 2;
                Some(Printed::text(&format!("{}{data}", " ".repeat(pad))))
            }
            P::Cut => None,
        })
        .collect()
}

/// Draws the lines (receipt columns: a wide character takes two, a double-width line's
/// characters twice that) into an image `columns` wide.
pub fn render_lines(lines: &[Printed], columns: usize) -> Result<Gray, PdfError> {
    let fonts = fonts().as_ref().map_err(Clone::clone)?;
    let width = columns as u32 * CELL_W + 2 * MARGIN;
    // Printer dots (12 per column) to image pixels.
    let dot = CELL_W as f32 / pos_hardware::escpos::profile::CELL_WIDTH_DOTS as f32;
    let line_height = |l: &Printed| match l {
        Printed::Text { height, .. } => u32::from(*height) * LINE_H,
        Printed::Image(b) => (b.height() as f32 * dot).ceil() as u32,
    };
    let height = lines.iter().map(line_height).sum::<u32>().max(LINE_H) + 2 * MARGIN;
    let mut pixels = vec![255u8; (width * height) as usize];
    let mut top = MARGIN;
    for line in lines {
        match line {
            Printed::Image(b) => {
                let (w, h) = ((b.width() as f32 * dot) as u32, line_height(line));
                for y in 0..h {
                    for x in 0..w.min(width - MARGIN) {
                        let (sx, sy) = ((x as f32 / dot) as u32, (y as f32 / dot) as u32);
                        if b.get(sx, sy) {
                            pixels[((top + y) * width + MARGIN + x) as usize] = 0;
                        }
                    }
                }
            }
            Printed::Text {
                text,
                width: sx,
                height: sy,
            } => {
                let px = FONT_PX * f32::from(*sy);
                let ascent = fonts[0]
                    .horizontal_line_metrics(px)
                    .map_or(px * 0.8, |m| m.ascent);
                let baseline = top as i32 + ascent.round() as i32 + 2 * i32::from(*sy);
                let mut x = MARGIN;
                // The alignment padding is in normal-width columns; the text after it is sized.
                let mut padding = true;
                for c in text.chars() {
                    padding &= c == ' ';
                    let size = if padding { 1 } else { u32::from(*sx) };
                    let cols = c.width().unwrap_or(1).max(1) as u32 * size;
                    let cell = cols * CELL_W;
                    if x + cell > width {
                        break;
                    }
                    if !c.is_whitespace() {
                        draw_glyph(
                            fonts,
                            c,
                            px,
                            f32::from(*sx) / f32::from(*sy),
                            x,
                            cell,
                            baseline,
                            width,
                            height,
                            &mut pixels,
                        )?;
                    }
                    x += cell;
                }
            }
        }
        top += line_height(line);
    }
    Ok(Gray {
        width,
        height,
        pixels,
    })
}

/// Draws one character at `px` pixels high, stretched horizontally by `stretch`, centred in
/// its cell (squeezed into it when wider, like the printer's raster).
#[allow(clippy::too_many_arguments)]
fn draw_glyph(
    fonts: &[fontdue::Font],
    c: char,
    px: f32,
    stretch: f32,
    x: u32,
    cell: u32,
    baseline: i32,
    width: u32,
    height: u32,
    pixels: &mut [u8],
) -> Result<(), PdfError> {
    let font = fonts
        .iter()
        .find(|f| f.lookup_glyph_index(c) != 0)
        .ok_or(PdfError::MissingGlyph(c))?;
    let (m, coverage) = font.rasterize(c, px);
    if m.width == 0 || m.height == 0 {
        return Ok(());
    }
    let natural = m.width as f32 * stretch;
    let scale = if natural > cell as f32 {
        cell as f32 / m.width as f32
    } else {
        stretch
    };
    let drawn_w = ((m.width as f32 * scale).round() as u32).clamp(1, cell);
    let x0 = x + (cell - drawn_w) / 2;
    let glyph_top = baseline - m.ymin - m.height as i32;
    for gy in 0..m.height {
        let y = glyph_top + gy as i32;
        if y < 0 || y >= height as i32 {
            continue;
        }
        for gx in 0..drawn_w {
            let sx = ((gx as f32 / scale) as usize).min(m.width - 1);
            let ink = coverage[gy * m.width + sx];
            let p = &mut pixels[(y as u32 * width + x0 + gx) as usize];
            *p = (*p).min(255 - ink);
        }
    }
    Ok(())
}

/// A PDF text string: ASCII as a literal, anything else as UTF-16BE hex with a BOM.
fn pdf_text(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        let escaped = s
            .replace('\\', "\\\\")
            .replace('(', "\\(")
            .replace(')', "\\)");
        format!("({escaped})")
    } else {
        let mut hex = String::from("<FEFF");
        for unit in s.encode_utf16() {
            hex.push_str(&format!("{unit:04X}"));
        }
        hex.push('>');
        hex
    }
}

/// Wraps an image into a one-page PDF the width of 80 mm receipt paper.
pub fn image_pdf(image: &Gray, title: &str) -> Vec<u8> {
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = z.write_all(&image.pixels);
    let data = z.finish().unwrap_or_default();
    let w_pt = PAGE_WIDTH_PT;
    let h_pt = PAGE_WIDTH_PT * f64::from(image.height) / f64::from(image.width);
    let content = format!("q {w_pt:.2} 0 0 {h_pt:.2} 0 0 cm /Im1 Do Q\n");

    let mut out: Vec<u8> = Vec::new();
    let mut offsets = Vec::new();
    out.extend_from_slice(b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
    let mut object = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    object(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    object(&mut out, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    object(
        &mut out,
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w_pt:.2} {h_pt:.2}] \
             /Resources << /XObject << /Im1 4 0 R >> >> /Contents 5 0 R >>"
        )
        .as_bytes(),
    );
    let mut img = format!(
        "<< /Type /XObject /Subtype /Image /Width {} /Height {} /ColorSpace /DeviceGray \
         /BitsPerComponent 8 /Filter /FlateDecode /Length {} >>\nstream\n",
        image.width,
        image.height,
        data.len()
    )
    .into_bytes();
    img.extend_from_slice(&data);
    img.extend_from_slice(b"\nendstream");
    object(&mut out, &img);
    let mut contents = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    contents.extend_from_slice(content.as_bytes());
    contents.extend_from_slice(b"endstream");
    object(&mut out, &contents);
    object(
        &mut out,
        format!("<< /Title {} /Producer (pos-api) >>", pdf_text(title)).as_bytes(),
    );
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for o in &offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info {} 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1,
            offsets.len()
        )
        .as_bytes(),
    );
    out
}

/// The receipt as a PDF (see the module doc).
pub fn receipt_pdf(lines: &[Printed], columns: usize, title: &str) -> Result<Vec<u8>, PdfError> {
    Ok(image_pdf(&render_lines(lines, columns)?, title))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanish_and_japanese_text_is_drawn_and_the_pdf_is_well_formed() {
        let lines = vec![
            Printed::text("TOTAL                              23,04 €"),
            Printed::text("合計                               ¥1,270"),
            Printed::Text {
                text: "合計   1,270円".into(),
                width: 2,
                height: 2,
            },
        ];
        let img = render_lines(&lines, 42).unwrap();
        assert_eq!(img.width, 42 * CELL_W + 2 * MARGIN);
        assert!(img.dark_pixels() > 500, "{}", img.dark_pixels());
        let pdf = receipt_pdf(&lines, 42, "Tique T01-000001").unwrap();
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        // Every xref offset points at its object.
        let text = String::from_utf8_lossy(&pdf);
        let xref_at: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(pdf[xref_at..].starts_with(b"xref"));
        let entries: Vec<usize> = String::from_utf8_lossy(&pdf[xref_at..])
            .lines()
            .skip(3)
            .take(6)
            .map(|l| l[..10].parse().unwrap())
            .collect();
        for (i, off) in entries.iter().enumerate() {
            assert!(
                pdf[*off..].starts_with(format!("{} 0 obj", i + 1).as_bytes()),
                "object {}",
                i + 1
            );
        }
    }

    #[test]
    fn a_blank_line_draws_nothing_and_a_title_outside_ascii_is_utf16() {
        let img = render_lines(&[Printed::text("   ")], 10).unwrap();
        assert_eq!(img.dark_pixels(), 0);
        assert_eq!(pdf_text("レシート"), "<FEFF30EC30B730FC30C8>");
        assert_eq!(pdf_text("a(b)"), "(a\\(b\\))");
    }
}
