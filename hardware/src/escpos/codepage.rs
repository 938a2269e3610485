//! Single-byte code pages of ESC/POS printers (selected with `ESC t n`) and Shift_JIS for Kanji
//! mode. Tables are our own so that the encoder and the decoder agree byte for byte.
//!
//! Invariant: bytes 0x20..=0x7E mean ASCII in every code page here; only 0x80..=0xFF differ.

use serde::{Deserialize, Serialize};

/// A printer character code table, as selected by `ESC t n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodePage {
    /// PC437 (USA, standard Europe): `ESC t 0`. Has ñ, á, ¿, ¡ and ¥, but no €.
    Pc437,
    /// PC858 (multilingual Latin-1 with €): `ESC t 19`. € is byte 0xD5.
    Pc858,
    /// WPC1252 (Windows Latin-1): `ESC t 16`. € is byte 0x80.
    Wpc1252,
}

impl CodePage {
    /// The `n` of `ESC t n`.
    pub fn escpos_number(self) -> u8 {
        match self {
            CodePage::Pc437 => 0,
            CodePage::Pc858 => 19,
            CodePage::Wpc1252 => 16,
        }
    }

    /// The code page selected by `ESC t n`, if it is one we know.
    pub fn from_escpos_number(n: u8) -> Option<CodePage> {
        match n {
            0 => Some(CodePage::Pc437),
            19 => Some(CodePage::Pc858),
            16 => Some(CodePage::Wpc1252),
            _ => None,
        }
    }

    fn table(self) -> &'static [char; 128] {
        match self {
            CodePage::Pc437 => &PC437,
            CodePage::Pc858 => &PC858,
            CodePage::Wpc1252 => &WPC1252,
        }
    }

    /// The byte that prints `c` in this code page. ASCII 0x20..=0x7E maps to itself; control
    /// characters are never encodable.
    pub fn encode(self, c: char) -> Option<u8> {
        if (' '..='~').contains(&c) {
            return Some(c as u8);
        }
        // No table here has a character above U+25A0 (■): CJK text skips the scan.
        if c == '\0' || c.is_control() || u32::from(c) > 0x25A0 {
            return None;
        }
        self.table()
            .iter()
            .position(|&t| t == c)
            .map(|i| 0x80 + i as u8)
    }

    /// The character byte `b` prints as, or `None` for control bytes and unassigned bytes.
    pub fn decode(self, b: u8) -> Option<char> {
        match b {
            0x20..=0x7E => Some(b as char),
            0x80..=0xFF => {
                let c = self.table()[usize::from(b - 0x80)];
                (c != '\0').then_some(c)
            }
            _ => None,
        }
    }
}

/// Shift_JIS bytes of `c` for Kanji mode (`FS C 1`, `FS &`): only two-byte codes. Single-byte
/// half-width katakana depend on `ESC t` and are not offered here.
pub fn shift_jis_encode(c: char) -> Option<[u8; 2]> {
    let mut buf = [0u8; 4];
    let s = c.encode_utf8(&mut buf);
    let (bytes, _, had_errors) = encoding_rs::SHIFT_JIS.encode(s);
    if had_errors || bytes.len() != 2 {
        return None;
    }
    Some([bytes[0], bytes[1]])
}

/// True for a Shift_JIS lead byte of a two-byte code.
pub fn is_shift_jis_lead(b: u8) -> bool {
    matches!(b, 0x81..=0x9F | 0xE0..=0xFC)
}

/// The character a two-byte Shift_JIS code prints as.
pub fn shift_jis_decode(pair: [u8; 2]) -> Option<char> {
    let (s, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(&pair);
    let mut chars = s.chars();
    match (had_errors, chars.next(), chars.next()) {
        (false, Some(c), None) => Some(c),
        _ => None,
    }
}

/// Code page 437 (USA, the ESC/POS power-on default on most printers), bytes 0x80..=0xFF.
#[rustfmt::skip]
const PC437: [char; 128] = [
    '\u{00C7}', '\u{00FC}', '\u{00E9}', '\u{00E2}', '\u{00E4}', '\u{00E0}', '\u{00E5}', '\u{00E7}', // 0x80
    '\u{00EA}', '\u{00EB}', '\u{00E8}', '\u{00EF}', '\u{00EE}', '\u{00EC}', '\u{00C4}', '\u{00C5}', // 0x88
    '\u{00C9}', '\u{00E6}', '\u{00C6}', '\u{00F4}', '\u{00F6}', '\u{00F2}', '\u{00FB}', '\u{00F9}', // 0x90
    '\u{00FF}', '\u{00D6}', '\u{00DC}', '\u{00A2}', '\u{00A3}', '\u{00A5}', '\u{20A7}', '\u{0192}', // 0x98
    '\u{00E1}', '\u{00ED}', '\u{00F3}', '\u{00FA}', '\u{00F1}', '\u{00D1}', '\u{00AA}', '\u{00BA}', // 0xA0
    '\u{00BF}', '\u{2310}', '\u{00AC}', '\u{00BD}', '\u{00BC}', '\u{00A1}', '\u{00AB}', '\u{00BB}', // 0xA8
    '\u{2591}', '\u{2592}', '\u{2593}', '\u{2502}', '\u{2524}', '\u{2561}', '\u{2562}', '\u{2556}', // 0xB0
    '\u{2555}', '\u{2563}', '\u{2551}', '\u{2557}', '\u{255D}', '\u{255C}', '\u{255B}', '\u{2510}', // 0xB8
    '\u{2514}', '\u{2534}', '\u{252C}', '\u{251C}', '\u{2500}', '\u{253C}', '\u{255E}', '\u{255F}', // 0xC0
    '\u{255A}', '\u{2554}', '\u{2569}', '\u{2566}', '\u{2560}', '\u{2550}', '\u{256C}', '\u{2567}', // 0xC8
    '\u{2568}', '\u{2564}', '\u{2565}', '\u{2559}', '\u{2558}', '\u{2552}', '\u{2553}', '\u{256B}', // 0xD0
    '\u{256A}', '\u{2518}', '\u{250C}', '\u{2588}', '\u{2584}', '\u{258C}', '\u{2590}', '\u{2580}', // 0xD8
    '\u{03B1}', '\u{00DF}', '\u{0393}', '\u{03C0}', '\u{03A3}', '\u{03C3}', '\u{00B5}', '\u{03C4}', // 0xE0
    '\u{03A6}', '\u{0398}', '\u{03A9}', '\u{03B4}', '\u{221E}', '\u{03C6}', '\u{03B5}', '\u{2229}', // 0xE8
    '\u{2261}', '\u{00B1}', '\u{2265}', '\u{2264}', '\u{2320}', '\u{2321}', '\u{00F7}', '\u{2248}', // 0xF0
    '\u{00B0}', '\u{2219}', '\u{00B7}', '\u{221A}', '\u{207F}', '\u{00B2}', '\u{25A0}', '\u{00A0}', // 0xF8
];

/// Code page 858 (PC850 with the euro sign at 0xD5), bytes 0x80..=0xFF.
#[rustfmt::skip]
const PC858: [char; 128] = [
    '\u{00C7}', '\u{00FC}', '\u{00E9}', '\u{00E2}', '\u{00E4}', '\u{00E0}', '\u{00E5}', '\u{00E7}', // 0x80
    '\u{00EA}', '\u{00EB}', '\u{00E8}', '\u{00EF}', '\u{00EE}', '\u{00EC}', '\u{00C4}', '\u{00C5}', // 0x88
    '\u{00C9}', '\u{00E6}', '\u{00C6}', '\u{00F4}', '\u{00F6}', '\u{00F2}', '\u{00FB}', '\u{00F9}', // 0x90
    '\u{00FF}', '\u{00D6}', '\u{00DC}', '\u{00F8}', '\u{00A3}', '\u{00D8}', '\u{00D7}', '\u{0192}', // 0x98
    '\u{00E1}', '\u{00ED}', '\u{00F3}', '\u{00FA}', '\u{00F1}', '\u{00D1}', '\u{00AA}', '\u{00BA}', // 0xA0
    '\u{00BF}', '\u{00AE}', '\u{00AC}', '\u{00BD}', '\u{00BC}', '\u{00A1}', '\u{00AB}', '\u{00BB}', // 0xA8
    '\u{2591}', '\u{2592}', '\u{2593}', '\u{2502}', '\u{2524}', '\u{00C1}', '\u{00C2}', '\u{00C0}', // 0xB0
    '\u{00A9}', '\u{2563}', '\u{2551}', '\u{2557}', '\u{255D}', '\u{00A2}', '\u{00A5}', '\u{2510}', // 0xB8
    '\u{2514}', '\u{2534}', '\u{252C}', '\u{251C}', '\u{2500}', '\u{253C}', '\u{00E3}', '\u{00C3}', // 0xC0
    '\u{255A}', '\u{2554}', '\u{2569}', '\u{2566}', '\u{2560}', '\u{2550}', '\u{256C}', '\u{00A4}', // 0xC8
    '\u{00F0}', '\u{00D0}', '\u{00CA}', '\u{00CB}', '\u{00C8}', '\u{20AC}', '\u{00CD}', '\u{00CE}', // 0xD0
    '\u{00CF}', '\u{2518}', '\u{250C}', '\u{2588}', '\u{2584}', '\u{00A6}', '\u{00CC}', '\u{2580}', // 0xD8
    '\u{00D3}', '\u{00DF}', '\u{00D4}', '\u{00D2}', '\u{00F5}', '\u{00D5}', '\u{00B5}', '\u{00FE}', // 0xE0
    '\u{00DE}', '\u{00DA}', '\u{00DB}', '\u{00D9}', '\u{00FD}', '\u{00DD}', '\u{00AF}', '\u{00B4}', // 0xE8
    '\u{00AD}', '\u{00B1}', '\u{2017}', '\u{00BE}', '\u{00B6}', '\u{00A7}', '\u{00F7}', '\u{00B8}', // 0xF0
    '\u{00B0}', '\u{00A8}', '\u{00B7}', '\u{00B9}', '\u{00B3}', '\u{00B2}', '\u{25A0}', '\u{00A0}', // 0xF8
];

/// Windows-1252, bytes 0x80..=0xFF; U+0000 marks the five unassigned bytes.
#[rustfmt::skip]
const WPC1252: [char; 128] = [
    '\u{20AC}', '\u{0000}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}', // 0x80
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{0000}', '\u{017D}', '\u{0000}', // 0x88
    '\u{0000}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}', // 0x90
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{0000}', '\u{017E}', '\u{0178}', // 0x98
    '\u{00A0}', '\u{00A1}', '\u{00A2}', '\u{00A3}', '\u{00A4}', '\u{00A5}', '\u{00A6}', '\u{00A7}', // 0xA0
    '\u{00A8}', '\u{00A9}', '\u{00AA}', '\u{00AB}', '\u{00AC}', '\u{00AD}', '\u{00AE}', '\u{00AF}', // 0xA8
    '\u{00B0}', '\u{00B1}', '\u{00B2}', '\u{00B3}', '\u{00B4}', '\u{00B5}', '\u{00B6}', '\u{00B7}', // 0xB0
    '\u{00B8}', '\u{00B9}', '\u{00BA}', '\u{00BB}', '\u{00BC}', '\u{00BD}', '\u{00BE}', '\u{00BF}', // 0xB8
    '\u{00C0}', '\u{00C1}', '\u{00C2}', '\u{00C3}', '\u{00C4}', '\u{00C5}', '\u{00C6}', '\u{00C7}', // 0xC0
    '\u{00C8}', '\u{00C9}', '\u{00CA}', '\u{00CB}', '\u{00CC}', '\u{00CD}', '\u{00CE}', '\u{00CF}', // 0xC8
    '\u{00D0}', '\u{00D1}', '\u{00D2}', '\u{00D3}', '\u{00D4}', '\u{00D5}', '\u{00D6}', '\u{00D7}', // 0xD0
    '\u{00D8}', '\u{00D9}', '\u{00DA}', '\u{00DB}', '\u{00DC}', '\u{00DD}', '\u{00DE}', '\u{00DF}', // 0xD8
    '\u{00E0}', '\u{00E1}', '\u{00E2}', '\u{00E3}', '\u{00E4}', '\u{00E5}', '\u{00E6}', '\u{00E7}', // 0xE0
    '\u{00E8}', '\u{00E9}', '\u{00EA}', '\u{00EB}', '\u{00EC}', '\u{00ED}', '\u{00EE}', '\u{00EF}', // 0xE8
    '\u{00F0}', '\u{00F1}', '\u{00F2}', '\u{00F3}', '\u{00F4}', '\u{00F5}', '\u{00F6}', '\u{00F7}', // 0xF0
    '\u{00F8}', '\u{00F9}', '\u{00FA}', '\u{00FB}', '\u{00FC}', '\u{00FD}', '\u{00FE}', '\u{00FF}', // 0xF8
];
