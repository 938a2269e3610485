//! Barcode scanners: serial framing, serial scanners, and HID scanners through evdev.
//!
//! Invariant: every scanner kind turns its input into [`crate::device::ScanEvent`]s through
//! [`framing::frame_to_scan`], so validation (printable ASCII, GTIN check digit) is the same
//! whatever the wire.

pub mod framing;
#[cfg(target_os = "linux")]
pub mod hid;
pub mod serial;

pub use framing::{FrameOptions, Framer, Suffix};
#[cfg(target_os = "linux")]
pub use hid::{HidScanner, KeyDecoder};
pub use serial::SerialScanner;
