//! The raster fallback: a line of text drawn with a font into a bitmap on the printer's
//! character grid (12×24 dots per column at normal size), so that columns still line up with
//! the text lines around it.
//!
//! Invariant: every character is drawn from a real glyph of the font; a character the font
//! lacks is an error, never a box or a question mark.

use super::bitmap::Bitmap;
use super::encoder::{Style, Underline, cell_dots};
use super::profile::FallbackFont;

/// Draws `glyphs` (character, columns) in `style`. Returns the first character the font has
/// no glyph for as the error.
pub(crate) fn render_line(
    font: &FallbackFont,
    glyphs: &[(char, usize)],
    style: Style,
) -> Result<Bitmap, char> {
    if let Some(&(c, _)) = glyphs.iter().find(|(c, _)| *c != ' ' && !font.covers(*c)) {
        return Err(c);
    }
    let (cell_w, line_h) = cell_dots(style.width.max(1), style.height.max(1));
    let columns: usize = glyphs.iter().map(|(_, cols)| cols).sum();
    // Whole bytes per row: round the width up to a multiple of 8 dots.
    let width = (columns as u32 * cell_w).div_ceil(8) * 8;
    let mut bitmap = Bitmap::new(width, line_h);
    let font = font.font();
    let px = 22.0 * f32::from(style.height.max(1));
    let baseline = match font.horizontal_line_metrics(px) {
        Some(m) => ((line_h as f32 - (m.ascent - m.descent)) / 2.0 + m.ascent).round() as i32,
        None => (line_h as f32 * 0.8) as i32,
    };
    let mut x = 0u32;
    for &(c, cols) in glyphs {
        let cell = cols as u32 * cell_w;
        if c != ' ' {
            let (m, coverage) = font.rasterize(c, px);
            if m.width > 0 && m.height > 0 {
                let scale = if m.width as u32 > cell {
                    cell as f32 / m.width as f32
                } else {
                    1.0
                };
                let drawn_w = ((m.width as f32 * scale).round() as u32).clamp(1, cell);
                let x0 = x + (cell - drawn_w) / 2;
                let top = baseline - m.ymin - m.height as i32;
                for gy in 0..m.height {
                    let y = top + gy as i32;
                    if y < 0 {
                        continue;
                    }
                    for gx in 0..drawn_w {
                        let sx = ((gx as f32 / scale) as usize).min(m.width - 1);
                        if coverage[gy * m.width + sx] >= 110 {
                            bitmap.set(x0 + gx, y as u32, true);
                            if style.bold {
                                bitmap.set(x0 + gx + 1, y as u32, true);
                            }
                        }
                    }
                }
            }
        }
        x += cell;
    }
    let underline_rows = match style.underline {
        Underline::Off => 0,
        Underline::Thin => 1,
        Underline::Thick => 2,
    };
    for row in 0..underline_rows {
        for ux in 0..x {
            bitmap.set(ux, line_h - 1 - row, true);
        }
    }
    if style.invert {
        for y in 0..line_h {
            for ix in 0..x {
                let black = bitmap.get(ix, y);
                bitmap.set(ix, y, !black);
            }
        }
    }
    Ok(bitmap)
}
