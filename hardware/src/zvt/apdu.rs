//! ZVT APDUs (`CLASS INSTR LEN DATA`), the BMP fields inside their data and the BER-style TLV
//! container carried in BMP 06.
//!
//! Invariants:
//! - A length of 255 or more is sent as `FF lo hi` (little-endian), shorter ones as one byte.
//! - Every BMP has a length rule from the spec's BMP table (fixed, LLVAR `Fx Fy`, LLLVAR
//!   `Fx Fy Fz`, or TLV for 06). A BMP missing from the table cannot be skipped safely, so
//!   parsing stops with an error instead of guessing.

use super::ZvtCodecError;

/// One application protocol data unit.
#[derive(Clone, PartialEq, Eq)]
pub struct Apdu {
    pub class: u8,
    pub instr: u8,
    pub data: Vec<u8>,
}

// Card data may pass through an APDU (BMP 22): never print the bytes.
impl std::fmt::Debug for Apdu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Apdu({:02X} {:02X}, {} data bytes)",
            self.class,
            self.instr,
            self.data.len()
        )
    }
}

impl Apdu {
    pub fn new(class: u8, instr: u8, data: Vec<u8>) -> Self {
        Apdu { class, instr, data }
    }

    /// The control field as one number, e.g. `0x0601` for an authorization.
    pub fn command(&self) -> u16 {
        u16::from_be_bytes([self.class, self.instr])
    }

    /// Wire bytes: control field, length, data.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 5);
        out.push(self.class);
        out.push(self.instr);
        if self.data.len() < 0xFF {
            out.push(self.data.len() as u8);
        } else {
            out.push(0xFF);
            out.extend_from_slice(&(self.data.len() as u16).to_le_bytes());
        }
        out.extend_from_slice(&self.data);
        out
    }

    /// Parses exactly one APDU; trailing bytes are an error.
    pub fn decode(bytes: &[u8]) -> Result<Apdu, ZvtCodecError> {
        match complete_len(bytes)? {
            Some(n) if n == bytes.len() => {
                let header = if bytes[2] == 0xFF { 5 } else { 3 };
                Ok(Apdu::new(bytes[0], bytes[1], bytes[header..].to_vec()))
            }
            Some(n) => Err(ZvtCodecError::Malformed(format!(
                "{} bytes after a {n}-byte APDU",
                bytes.len() - n
            ))),
            None => Err(ZvtCodecError::Truncated),
        }
    }
}

/// The total length of the APDU at the start of `buf` once enough of it has arrived to know;
/// `None` while the header itself is incomplete or the data has not all arrived.
pub fn complete_len(buf: &[u8]) -> Result<Option<usize>, ZvtCodecError> {
    if buf.len() < 3 {
        return Ok(None);
    }
    let (header, len) = if buf[2] == 0xFF {
        if buf.len() < 5 {
            return Ok(None);
        }
        (5, usize::from(u16::from_le_bytes([buf[3], buf[4]])))
    } else {
        (3, usize::from(buf[2]))
    };
    if buf.len() >= header + len {
        Ok(Some(header + len))
    } else {
        Ok(None)
    }
}

/// How a BMP's value length is given on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BmpLength {
    Fixed(usize),
    /// Two length bytes `Fx Fy` = decimal xy.
    LlVar,
    /// Three length bytes `Fx Fy Fz` = decimal xyz.
    LllVar,
    /// BMP 06: BER length (`len`, `81 len`, `82 hi lo`).
    Tlv,
}

/// The length rule of a BMP (ZVT spec, "Summary of utilised BMPs"); `None` if unknown.
pub fn bmp_length(tag: u8) -> Option<BmpLength> {
    use BmpLength::*;
    Some(match tag {
        0x01 | 0x02 | 0x03 | 0x05 | 0x19 | 0x27 | 0x8A | 0x8C | 0xA0 | 0xD0 | 0xD2 | 0xD3
        | 0xE0 | 0xF0 | 0xF9 | 0xFA | 0xFB | 0xFC | 0xFD => Fixed(1),
        0x0D | 0x0E | 0x17 | 0x3A | 0x49 | 0x87 => Fixed(2),
        0x0B | 0x0C | 0x37 | 0x3D | 0x88 | 0xAA => Fixed(3),
        0x29 => Fixed(4),
        0xBA => Fixed(5),
        0x04 => Fixed(6),
        0x3B => Fixed(8),
        0x2A => Fixed(15),
        0x22 | 0x23 | 0x2D | 0x4C | 0x8B | 0xA7 | 0xD1 | 0xE1..=0xE9 | 0xF1..=0xF8 => LlVar,
        0x24 | 0x2E | 0x3C | 0x60 | 0x92 | 0x9A | 0xAF => LllVar,
        0x06 => Tlv,
        _ => return None,
    })
}

/// One BMP field: its tag and its value without any length prefix.
#[derive(Clone, PartialEq, Eq)]
pub struct Bmp {
    pub tag: u8,
    pub value: Vec<u8>,
}

impl std::fmt::Debug for Bmp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bmp({:02X}, {} bytes)", self.tag, self.value.len())
    }
}

/// Parses a run of BMP fields (the data of a status information, a completion, ...).
pub fn parse_bmps(mut data: &[u8]) -> Result<Vec<Bmp>, ZvtCodecError> {
    let mut out = Vec::new();
    while let Some((&tag, rest)) = data.split_first() {
        let rule = bmp_length(tag).ok_or(ZvtCodecError::UnknownBmp(tag))?;
        let (len, rest) = match rule {
            BmpLength::Fixed(n) => (n, rest),
            BmpLength::LlVar => (var_len(rest, 2)?, &rest[2..]),
            BmpLength::LllVar => (var_len(rest, 3)?, &rest[3..]),
            BmpLength::Tlv => ber_len(rest)?,
        };
        if rest.len() < len {
            return Err(ZvtCodecError::Truncated);
        }
        out.push(Bmp {
            tag,
            value: rest[..len].to_vec(),
        });
        data = &rest[len..];
    }
    Ok(out)
}

/// Appends one BMP with the length prefix its tag requires.
pub fn push_bmp(out: &mut Vec<u8>, tag: u8, value: &[u8]) -> Result<(), ZvtCodecError> {
    let rule = bmp_length(tag).ok_or(ZvtCodecError::UnknownBmp(tag))?;
    out.push(tag);
    match rule {
        BmpLength::Fixed(n) if n == value.len() => {}
        BmpLength::Fixed(n) => {
            return Err(ZvtCodecError::Malformed(format!(
                "BMP {tag:02X} needs {n} bytes, got {}",
                value.len()
            )));
        }
        BmpLength::LlVar => push_var_len(out, value.len(), 2)?,
        BmpLength::LllVar => push_var_len(out, value.len(), 3)?,
        BmpLength::Tlv => push_ber_len(out, value.len()),
    }
    out.extend_from_slice(value);
    Ok(())
}

fn var_len(bytes: &[u8], n: usize) -> Result<usize, ZvtCodecError> {
    if bytes.len() < n {
        return Err(ZvtCodecError::Truncated);
    }
    let mut len = 0usize;
    for &b in &bytes[..n] {
        if b & 0xF0 != 0xF0 || b & 0x0F > 9 {
            return Err(ZvtCodecError::Malformed(format!(
                "bad variable-length byte {b:02X}"
            )));
        }
        len = len * 10 + usize::from(b & 0x0F);
    }
    Ok(len)
}

fn push_var_len(out: &mut Vec<u8>, len: usize, n: usize) -> Result<(), ZvtCodecError> {
    if len >= 10usize.pow(n as u32) {
        return Err(ZvtCodecError::OutOfRange {
            value: len as u64,
            digits: n,
        });
    }
    for i in (0..n).rev() {
        out.push(0xF0 | ((len / 10usize.pow(i as u32)) % 10) as u8);
    }
    Ok(())
}

/// BER length: returns (length, bytes after the length).
fn ber_len(bytes: &[u8]) -> Result<(usize, &[u8]), ZvtCodecError> {
    match bytes {
        [b, rest @ ..] if *b < 0x80 => Ok((usize::from(*b), rest)),
        [0x81, l, rest @ ..] => Ok((usize::from(*l), rest)),
        [0x82, h, l, rest @ ..] => Ok((usize::from(u16::from_be_bytes([*h, *l])), rest)),
        [] | [0x81] | [0x82] | [0x82, _] => Err(ZvtCodecError::Truncated),
        [b, ..] => Err(ZvtCodecError::Malformed(format!("bad TLV length {b:02X}"))),
    }
}

fn push_ber_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xFF {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.push(0x82);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    }
}

/// One TLV data object. `tag` holds all tag bytes (`0x1F07`, `0x25`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    pub tag: u32,
    pub value: Vec<u8>,
}

impl Tlv {
    /// Constructed objects (bit 6 of the first tag byte) hold further TLV objects.
    pub fn is_constructed(&self) -> bool {
        let first = self.tag.to_be_bytes().into_iter().find(|b| *b != 0);
        first.is_some_and(|b| b & 0x20 != 0)
    }

    pub fn children(&self) -> Result<Vec<Tlv>, ZvtCodecError> {
        parse_tlv(&self.value)
    }
}

/// Parses a sequence of TLV objects (the content of BMP 06 or of a constructed object).
pub fn parse_tlv(mut data: &[u8]) -> Result<Vec<Tlv>, ZvtCodecError> {
    let mut out = Vec::new();
    while let Some((&first, mut rest)) = data.split_first() {
        let mut tag = u32::from(first);
        if first & 0x1F == 0x1F {
            loop {
                let (&b, r) = rest.split_first().ok_or(ZvtCodecError::Truncated)?;
                tag = (tag << 8) | u32::from(b);
                rest = r;
                if b & 0x80 == 0 {
                    break;
                }
                if tag > 0x00FF_FFFF {
                    return Err(ZvtCodecError::Malformed("TLV tag too long".into()));
                }
            }
        }
        let (len, rest) = ber_len(rest)?;
        if rest.len() < len {
            return Err(ZvtCodecError::Truncated);
        }
        out.push(Tlv {
            tag,
            value: rest[..len].to_vec(),
        });
        data = &rest[len..];
    }
    Ok(out)
}

/// Appends one TLV object.
pub fn push_tlv(out: &mut Vec<u8>, tag: u32, value: &[u8]) {
    let bytes = tag.to_be_bytes();
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(3);
    out.extend_from_slice(&bytes[start..]);
    push_ber_len(out, value.len());
    out.extend_from_slice(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_apdu_round_trips() {
        let a = Apdu::new(0x06, 0x00, vec![0x12, 0x34, 0x56, 0xDE, 0x09, 0x78]);
        let bytes = a.encode();
        assert_eq!(
            bytes,
            [0x06, 0x00, 0x06, 0x12, 0x34, 0x56, 0xDE, 0x09, 0x78]
        );
        assert_eq!(Apdu::decode(&bytes).unwrap(), a);
    }

    #[test]
    fn long_apdu_uses_ff_and_little_endian_length() {
        let a = Apdu::new(0x06, 0xD3, vec![0xAB; 0x0461]);
        let bytes = a.encode();
        assert_eq!(&bytes[..5], [0x06, 0xD3, 0xFF, 0x61, 0x04]);
        assert_eq!(complete_len(&bytes).unwrap(), Some(bytes.len()));
        assert_eq!(complete_len(&bytes[..100]).unwrap(), None);
        assert_eq!(Apdu::decode(&bytes).unwrap(), a);
    }

    #[test]
    fn llvar_and_lllvar_lengths_are_f_nibbles() {
        let mut out = Vec::new();
        push_bmp(&mut out, 0x8B, b"VISA\0").unwrap();
        assert_eq!(out, [0x8B, 0xF0, 0xF5, b'V', b'I', b'S', b'A', 0]);
        let mut out = Vec::new();
        push_bmp(&mut out, 0x3C, b"ab").unwrap();
        assert_eq!(out, [0x3C, 0xF0, 0xF0, 0xF2, b'a', b'b']);
        let parsed = parse_bmps(&out).unwrap();
        assert_eq!(parsed[0].value, b"ab");
    }

    #[test]
    fn unknown_bmp_stops_parsing() {
        assert_eq!(
            parse_bmps(&[0x27, 0x00, 0x5F, 0x01]),
            Err(ZvtCodecError::UnknownBmp(0x5F))
        );
    }

    #[test]
    fn tlv_two_byte_tag_and_long_length() {
        let mut inner = Vec::new();
        push_tlv(&mut inner, 0x07, &[b'x'; 200]);
        let mut out = Vec::new();
        push_tlv(&mut out, 0x1F07, &[0x02]);
        push_tlv(&mut out, 0x25, &inner);
        assert_eq!(&out[..4], [0x1F, 0x07, 0x01, 0x02]);
        assert_eq!(&out[4..7], [0x25, 0x81, 203]);
        let parsed = parse_tlv(&out).unwrap();
        assert_eq!(parsed[0].tag, 0x1F07);
        assert!(parsed[1].is_constructed());
        assert_eq!(parsed[1].children().unwrap()[0].value.len(), 200);
    }
}
