//! A monochrome bitmap in exactly the layout `GS v 0` sends: rows of `width_bytes()` bytes,
//! most significant bit leftmost, 1 = black dot.
//!
//! Invariant: `bits.len() == width_bytes() * height`; padding bits past `width` are 0.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BitmapError {
    #[error("bitmap data has {found} bytes, {expected} expected for {width}x{height}")]
    DataLength {
        width: u32,
        height: u32,
        expected: usize,
        found: usize,
    },
    #[error("could not write PNG: {0}")]
    Png(String),
}

/// A 1-bit-per-pixel image (a logo, or a text line rendered by the raster fallback).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bitmap {
    width: u32,
    height: u32,
    bits: Vec<u8>,
}

impl std::fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bitmap({}x{})", self.width, self.height)
    }
}

impl Bitmap {
    /// An all-white bitmap.
    pub fn new(width: u32, height: u32) -> Bitmap {
        let row = width.div_ceil(8) as usize;
        Bitmap {
            width,
            height,
            bits: vec![0; row * height as usize],
        }
    }

    /// A bitmap from packed rows (`GS v 0` layout). Padding bits are cleared.
    pub fn from_packed(width: u32, height: u32, bits: Vec<u8>) -> Result<Bitmap, BitmapError> {
        let expected = width.div_ceil(8) as usize * height as usize;
        if bits.len() != expected {
            return Err(BitmapError::DataLength {
                width,
                height,
                expected,
                found: bits.len(),
            });
        }
        let mut bitmap = Bitmap {
            width,
            height,
            bits,
        };
        bitmap.clear_padding();
        Ok(bitmap)
    }

    /// A bitmap from rows of text, `#` (or any non-space, non-`.`) = black. Handy for small logos.
    pub fn from_ascii_art(rows: &[&str]) -> Bitmap {
        let width = rows.iter().map(|r| r.chars().count()).max().unwrap_or(0) as u32;
        let mut bitmap = Bitmap::new(width, rows.len() as u32);
        for (y, row) in rows.iter().enumerate() {
            for (x, c) in row.chars().enumerate() {
                if c != ' ' && c != '.' {
                    bitmap.set(x as u32, y as u32, true);
                }
            }
        }
        bitmap
    }

    fn clear_padding(&mut self) {
        let rem = self.width % 8;
        if rem == 0 {
            return;
        }
        let row = self.width_bytes();
        let mask = 0xFFu8 << (8 - rem);
        for y in 0..self.height as usize {
            self.bits[y * row + row - 1] &= mask;
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes per row (`xL + xH * 256` of `GS v 0`).
    pub fn width_bytes(&self) -> usize {
        self.width.div_ceil(8) as usize
    }

    /// The packed rows, as sent after the `GS v 0` header.
    pub fn packed(&self) -> &[u8] {
        &self.bits
    }

    /// Sets one dot; coordinates outside the bitmap are ignored.
    pub fn set(&mut self, x: u32, y: u32, black: bool) {
        if x >= self.width || y >= self.height {
            return;
        }
        let i = y as usize * self.width_bytes() + (x / 8) as usize;
        let bit = 0x80u8 >> (x % 8);
        if black {
            self.bits[i] |= bit;
        } else {
            self.bits[i] &= !bit;
        }
    }

    /// True when the dot is black; false outside the bitmap.
    pub fn get(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        let i = y as usize * self.width_bytes() + (x / 8) as usize;
        self.bits[i] & (0x80u8 >> (x % 8)) != 0
    }

    /// Number of black dots.
    pub fn black_dots(&self) -> u32 {
        self.bits.iter().map(|b| b.count_ones()).sum()
    }

    /// The bitmap as a 1-bit grayscale PNG (black dots black, paper white).
    pub fn to_png(&self) -> Result<Vec<u8>, BitmapError> {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, self.width.max(1), self.height.max(1));
            encoder.set_color(png::ColorType::Grayscale);
            encoder.set_depth(png::BitDepth::One);
            let mut writer = encoder
                .write_header()
                .map_err(|e| BitmapError::Png(e.to_string()))?;
            let data: Vec<u8> = if self.width == 0 || self.height == 0 {
                vec![0xFF]
            } else {
                self.bits.iter().map(|b| !b).collect()
            };
            writer
                .write_image_data(&data)
                .map_err(|e| BitmapError::Png(e.to_string()))?;
        }
        Ok(out)
    }
}
