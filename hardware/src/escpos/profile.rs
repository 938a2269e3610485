//! What a receipt printer can do: paper width, code pages, Kanji mode, and the font used to
//! rasterize text that none of its code pages can print.
//!
//! Invariant: font A is 12×24 dots, so columns = dots / 12 (32 on 58 mm, 48 on 80 mm); a
//! Kanji character is 24×24 dots, two columns.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::codepage::CodePage;

/// Width of one font-A character cell in dots.
pub const CELL_WIDTH_DOTS: u32 = 12;
/// Height of one font-A line in dots.
pub const CELL_HEIGHT_DOTS: u32 = 24;

/// The paper roll width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaperWidth {
    /// 58 mm roll: 384 dots, 32 columns of font A.
    Mm58,
    /// 80 mm roll: 576 dots, 48 columns of font A.
    Mm80,
}

impl PaperWidth {
    /// Printable width in dots.
    pub fn dots(self) -> u32 {
        match self {
            PaperWidth::Mm58 => 384,
            PaperWidth::Mm80 => 576,
        }
    }

    /// Characters per line in font A at normal width.
    pub fn columns(self) -> usize {
        (self.dots() / CELL_WIDTH_DOTS) as usize
    }
}

/// A font for the raster fallback. Rasterizing is pure: the caller reads the font file
/// (e.g. one of [`SYSTEM_FALLBACK_FONTS`]) and passes its bytes in.
#[derive(Clone)]
pub struct FallbackFont {
    font: Arc<fontdue::Font>,
}

/// Font files worth trying for the raster fallback on Debian (packages `fonts-noto-cjk`,
/// `fonts-dejavu-core`), best coverage first. `.ttc` collections: use face index 0.
pub const SYSTEM_FALLBACK_FONTS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a usable font file: {0}")]
pub struct FontError(String);

impl FallbackFont {
    /// Parses a TrueType/OpenType font (or face `collection_index` of a `.ttc` collection).
    pub fn from_bytes(data: &[u8], collection_index: u32) -> Result<FallbackFont, FontError> {
        let settings = fontdue::FontSettings {
            collection_index,
            scale: CELL_HEIGHT_DOTS as f32,
            ..fontdue::FontSettings::default()
        };
        let font =
            fontdue::Font::from_bytes(data, settings).map_err(|e| FontError(e.to_string()))?;
        Ok(FallbackFont {
            font: Arc::new(font),
        })
    }

    /// True when the font has a glyph for `c`.
    pub fn covers(&self, c: char) -> bool {
        self.font.lookup_glyph_index(c) != 0
    }

    pub(crate) fn font(&self) -> &fontdue::Font {
        &self.font
    }
}

impl std::fmt::Debug for FallbackFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FallbackFont({} glyphs)", self.font.glyph_count())
    }
}

/// A receipt printer's capabilities.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PrinterProfile {
    pub paper: PaperWidth,
    /// Code pages the printer has, in order of preference for characters outside ASCII.
    pub code_pages: Vec<CodePage>,
    /// Whether the printer has Kanji mode with Shift_JIS (`FS C 1`, `FS &` … `FS .`).
    pub kanji: bool,
    /// Font for text no code page can print. `None`: such text fails with
    /// `EncodeError::Unprintable` instead of printing.
    #[serde(skip)]
    pub fallback_font: Option<FallbackFont>,
}

impl PrinterProfile {
    /// A European model (e.g. Epson TM-T20 "ANK" firmware): PC858, WPC1252, PC437; no Kanji.
    pub fn western(paper: PaperWidth) -> PrinterProfile {
        PrinterProfile {
            paper,
            code_pages: vec![CodePage::Pc858, CodePage::Wpc1252, CodePage::Pc437],
            kanji: false,
            fallback_font: None,
        }
    }

    /// A Japanese model: Kanji mode with Shift_JIS and PC437 for single-byte characters.
    pub fn japanese(paper: PaperWidth) -> PrinterProfile {
        PrinterProfile {
            paper,
            code_pages: vec![CodePage::Pc437],
            kanji: true,
            fallback_font: None,
        }
    }

    /// The same profile with a raster fallback font.
    pub fn with_fallback_font(mut self, font: FallbackFont) -> PrinterProfile {
        self.fallback_font = Some(font);
        self
    }

    /// Characters per line at normal width.
    pub fn columns(&self) -> usize {
        self.paper.columns()
    }
}
