//! ESC/POS for receipt printers, pure (no IO): the [`Encoder`], the [`receipt`] layout, the
//! [`decode()`]r used by tests and by the on-screen preview, and the `DLE EOT` [`status`] parser.
//!
//! Invariants: the same inputs always give the same bytes; no text ever prints as `?` or a
//! wrong character (a code page that has it, Kanji mode, a raster line from the fallback font,
//! or a typed error); the drawer pulse always carries both times; status bytes are believed
//! only when their fixed bits are right.
//!
//! Text that no code page of the printer can print: the whole line is drawn as a raster image
//! (`GS v 0`) on the printer's 12×24-dot character grid, with the font in
//! [`PrinterProfile::fallback_font`], so its columns still line up. The font is passed in as
//! bytes ([`FallbackFont::from_bytes`]; the caller reads e.g. one of
//! [`SYSTEM_FALLBACK_FONTS`]), which keeps this module free of IO. Without a font, or when the
//! font has no glyph for a character, the line fails with [`EncodeError::Unprintable`] naming
//! the character, and nothing of it is appended.
//!
//! Flow in the app: sale → [`ReceiptDocument`] (strings formatted by the app for the locale)
//! → [`render`] → bytes → printer driver; the same bytes → [`decode()`] →
//! [`Trace::preview`] / [`Trace::lines`] for the preview.

pub mod bitmap;
pub mod codepage;
pub mod decode;
pub mod encoder;
pub mod profile;
mod raster_text;
pub mod receipt;
pub mod status;

pub use bitmap::{Bitmap, BitmapError};
pub use codepage::CodePage;
pub use decode::{Command, Issue, IssueKind, PreviewLine, Symbology, Trace, TraceEntry, decode};
pub use encoder::{
    Align, DrawerPin, EncodeError, Encoder, QrErrorCorrection, Underline, char_columns,
    printable_columns, text_columns,
};
pub use profile::{FallbackFont, FontError, PaperWidth, PrinterProfile, SYSTEM_FALLBACK_FONTS};
pub use receipt::{
    Language, PaymentSlip, ReceiptCode, ReceiptCodeKind, ReceiptDocument, ReceiptLine, ReceiptRow,
    render,
};
pub use status::{Status, StatusError, StatusKind, parse_status, status_request};
