//! ESC/POS for receipt printers, pure (no IO): the [`Encoder`], the [`receipt`] layout, the
//! [`decode`]r used by tests and by the on-screen preview, and the `DLE EOT` [`status`] parser.
//!
//! Invariants: the same inputs always give the same bytes; no text ever prints as `?` or a
//! wrong character (a code page that has it, Kanji mode, a raster line from the fallback font,
//! or a typed error); the drawer pulse always carries both times; status bytes are believed
//! only when their fixed bits are right.

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
    Language, ReceiptCode, ReceiptCodeKind, ReceiptDocument, ReceiptLine, ReceiptRow, render,
};
pub use status::{Status, StatusError, StatusKind, parse_status, status_request};
