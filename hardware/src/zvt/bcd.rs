//! Packed BCD as ZVT uses it: two decimal digits per byte, high nibble first, left-padded with
//! zeros to a fixed width (amount = 6 bytes = 12 digits, receipt number = 2 bytes, ...).
//!
//! Invariant: encoding refuses values that do not fit the width instead of truncating them.

use super::ZvtCodecError;

/// Encodes `value` into exactly `width` bytes of packed BCD.
pub fn encode(value: u64, width: usize) -> Result<Vec<u8>, ZvtCodecError> {
    let digits = width * 2;
    let max = 10u128.pow(digits as u32);
    if u128::from(value) >= max {
        return Err(ZvtCodecError::OutOfRange { value, digits });
    }
    let mut out = vec![0u8; width];
    let mut v = value;
    for byte in out.iter_mut().rev() {
        let lo = (v % 10) as u8;
        v /= 10;
        let hi = (v % 10) as u8;
        v /= 10;
        *byte = (hi << 4) | lo;
    }
    Ok(out)
}

/// Decodes packed BCD; every nibble must be 0-9.
pub fn decode(bytes: &[u8]) -> Result<u64, ZvtCodecError> {
    let mut v: u64 = 0;
    for &b in bytes {
        for nibble in [b >> 4, b & 0x0F] {
            if nibble > 9 {
                return Err(ZvtCodecError::BadBcd(b));
            }
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(nibble)))
                .ok_or(ZvtCodecError::BadBcd(b))?;
        }
    }
    Ok(v)
}

/// The digits of a BCD field that may carry masking nibbles (a masked PAN uses `E` for hidden
/// digits and `F` as padding). Hidden digits come out as `*`, padding is dropped.
pub fn masked_digits(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        for nibble in [b >> 4, b & 0x0F] {
            match nibble {
                0..=9 => s.push(char::from(b'0' + nibble)),
                0xF => {}
                _ => s.push('*'),
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amount_of_25_euro_is_six_bytes_with_2500_at_the_end() {
        assert_eq!(
            encode(2500, 6).unwrap(),
            [0x00, 0x00, 0x00, 0x00, 0x25, 0x00]
        );
        assert_eq!(decode(&[0x00, 0x00, 0x00, 0x00, 0x25, 0x00]).unwrap(), 2500);
    }

    #[test]
    fn value_too_wide_for_the_field_is_refused_not_truncated() {
        assert!(encode(1_000_000, 3).is_err());
        assert_eq!(encode(999_999, 3).unwrap(), [0x99, 0x99, 0x99]);
    }

    #[test]
    fn non_decimal_nibble_is_an_error() {
        assert!(decode(&[0x1A]).is_err());
    }

    #[test]
    fn masked_pan_shows_stars_and_drops_padding() {
        // From a real status information: 22 F0 F8 55 98 83 EE EE EE 80 74
        assert_eq!(
            masked_digits(&[0x55, 0x98, 0x83, 0xEE, 0xEE, 0xEE, 0x80, 0x74]),
            "559883******8074"
        );
        assert_eq!(masked_digits(&[0x12, 0x3F]), "123");
    }
}
