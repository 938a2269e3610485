//! Customer (pole) displays speaking the CD5220 command set: `ESC @` init, `CLR` clear,
//! `ESC Q A <20 chars> CR` upper line, `ESC Q B <20 chars> CR` lower line.
//!
//! Invariants: each line is exactly `columns` characters (cut or padded with spaces, so old
//! text never remains); only printable ASCII is sent — accented Latin letters are folded to their
//! base letter and anything else becomes `?` (the display's own code pages vary by model).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Mutex;

use crate::device::{CustomerDisplay, DeviceError, DisplayLines};
use crate::transport::Transport;

pub const INIT: [u8; 2] = [0x1B, 0x40];
pub const CLEAR: [u8; 1] = [0x0C];

fn fold(c: char) -> char {
    match c {
        ' '..='~' => c,
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'Á' | 'À' | 'Â' | 'Ä' | 'Ã' | 'Å' => 'A',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'É' | 'È' | 'Ê' | 'Ë' => 'E',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'Í' | 'Ì' | 'Î' | 'Ï' => 'I',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
        'Ó' | 'Ò' | 'Ô' | 'Ö' | 'Õ' => 'O',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'Ú' | 'Ù' | 'Û' | 'Ü' => 'U',
        'ñ' => 'n',
        'Ñ' => 'N',
        'ç' => 'c',
        'Ç' => 'C',
        _ => '?',
    }
}

/// One line's text as the display will show it: folded to ASCII, cut or padded to `columns`.
pub fn fit_line(text: &str, columns: usize) -> String {
    let mut s: String = text.chars().map(fold).take(columns).collect();
    while s.len() < columns {
        s.push(' ');
    }
    s
}

/// The bytes that show two lines.
pub fn encode_lines(lines: &DisplayLines, columns: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 * (columns + 4));
    out.extend_from_slice(&[0x1B, b'Q', b'A']);
    out.extend_from_slice(fit_line(&lines.upper, columns).as_bytes());
    out.push(0x0D);
    out.extend_from_slice(&[0x1B, b'Q', b'B']);
    out.extend_from_slice(fit_line(&lines.lower, columns).as_bytes());
    out.push(0x0D);
    out
}

/// A CD5220 display on a transport (usually serial, 9600 baud).
pub struct Cd5220Display {
    link: Mutex<Box<dyn Transport>>,
    columns: usize,
    initialised: AtomicBool,
    timeout: Duration,
}

impl Cd5220Display {
    pub fn new(transport: Box<dyn Transport>, columns: usize) -> Self {
        Self {
            link: Mutex::new(transport),
            columns,
            initialised: AtomicBool::new(false),
            timeout: Duration::from_secs(2),
        }
    }

    async fn send(&self, body: &[u8]) -> Result<(), DeviceError> {
        let mut bytes = Vec::new();
        if !self.initialised.load(Ordering::Relaxed) {
            bytes.extend_from_slice(&INIT);
        }
        bytes.extend_from_slice(body);
        let r = self.link.lock().await.write_all(&bytes, self.timeout).await;
        // After a reconnect the display may have been power-cycled: init again.
        self.initialised.store(r.is_ok(), Ordering::Relaxed);
        r
    }
}

#[async_trait]
impl CustomerDisplay for Cd5220Display {
    async fn show(&self, lines: &DisplayLines) -> Result<(), DeviceError> {
        self.send(&encode_lines(lines, self.columns)).await
    }

    async fn clear(&self) -> Result<(), DeviceError> {
        self.send(&CLEAR).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cd5220_string_mode_with_fixed_width() {
        let bytes = encode_lines(
            &DisplayLines {
                upper: "Café con leche grande".into(),
                lower: "Total 4,50".into(),
            },
            20,
        );
        let mut expected = b"\x1bQACafe con leche grand\r\x1bQBTotal 4,50".to_vec();
        expected.extend_from_slice(&[b' '; 10]);
        expected.push(b'\r');
        assert_eq!(bytes, expected);
    }

    #[test]
    fn unmappable_characters_become_question_marks() {
        assert_eq!(fit_line("€1 寿司", 6), "?1 ?? ");
    }
}
