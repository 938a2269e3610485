//! Magnetic-stripe card readers for gift and loyalty cards: track 1 / track 2 parsing, and the
//! refusal of anything that looks like a bank card.
//!
//! Invariants:
//! - A card number in a known bank IIN range that passes Luhn is refused with
//!   [`CardError::BankCard`]; one in a bank range that fails Luhn (a bad swipe of a bank card)
//!   is `Unreadable`. Neither error, nor any log line, carries a digit of the swipe.
//! - The raw swipe is never stored, logged or returned; only a parsed [`CardSwipe`] of a
//!   non-bank card leaves this module, and its number's `Debug` is redacted.
//! - The card number and the payment terminal never meet: bank cards go to the terminal.

mod reader;

use std::fmt;

#[cfg(target_os = "linux")]
pub use reader::HidCardReader;
pub use reader::SerialCardReader;

/// Why a swipe gave no card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardError {
    /// A bank card: refused, nothing kept. The cashier should use the payment terminal.
    #[error("this is a bank card: take card payments on the payment terminal")]
    BankCard,
    /// The stripe could not be read (swipe again).
    #[error("the card could not be read; swipe it again")]
    Unreadable,
}

/// A gift or loyalty card number. `Debug` never shows the digits; use [`CardNumber::expose`]
/// to look the card up.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber(String);

impl CardNumber {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber(<redacted>, len {})", self.0.len())
    }
}

/// A parsed gift or loyalty card swipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSwipe {
    pub number: CardNumber,
    /// Track 1 name field, trimmed (loyalty cards often carry the member's name).
    pub holder: Option<String>,
    /// Expiry as printed on track data: YYMM.
    pub expiry: Option<String>,
}

/// Luhn (mod 10) check over a digit string.
pub fn luhn_ok(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn prefix_num(pan: &str, len: usize) -> Option<u32> {
    pan.get(..len)?.parse().ok()
}

/// The number is in an IIN range issued to a card scheme (Visa, Mastercard, Amex, Discover,
/// JCB, Diners, UnionPay, Maestro, Mir) and has a bank-card length.
pub fn in_bank_iin_range(pan: &str) -> bool {
    if !(12..=19).contains(&pan.len()) || !pan.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let p1 = prefix_num(pan, 1);
    let p2 = prefix_num(pan, 2);
    let p3 = prefix_num(pan, 3);
    let p4 = prefix_num(pan, 4);
    let in_range = |v: Option<u32>, lo: u32, hi: u32| v.is_some_and(|v| (lo..=hi).contains(&v));
    p1 == Some(4)                                   // Visa
        || in_range(p2, 51, 55)                      // Mastercard
        || in_range(p4, 2221, 2720)                  // Mastercard 2-series
        || matches!(p2, Some(34 | 37))               // Amex
        || p4 == Some(6011) || p2 == Some(65) || in_range(p3, 644, 649) // Discover
        || in_range(p4, 3528, 3589)                  // JCB
        || matches!(p2, Some(36 | 38 | 39)) || in_range(p3, 300, 305) || p4 == Some(3095) // Diners
        || p2 == Some(62) || p2 == Some(81)          // UnionPay
        || matches!(p4, Some(5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761 | 6762 | 6763))
        || matches!(p2, Some(50 | 56..=58))          // Maestro
        || in_range(p4, 2200, 2204) // Mir
}

/// A bank card: a bank IIN range and a valid Luhn check digit.
pub fn is_bank_card(pan: &str) -> bool {
    in_bank_iin_range(pan) && luhn_ok(pan)
}

/// Any run of 12–19 digits in the raw swipe that is in a bank range.
fn contains_bank_range_number(raw: &str) -> Option<bool> {
    let mut found = None;
    for run in raw.split(|c: char| !c.is_ascii_digit()) {
        if in_bank_iin_range(run) {
            let bank = luhn_ok(run);
            found = Some(found.unwrap_or(false) || bank);
        }
    }
    found
}

struct Track1 {
    pan: String,
    name: String,
    expiry: Option<String>,
}

struct Track2 {
    pan: String,
    expiry: Option<String>,
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// After the last separator: `YYMM` or the separator, then a 3-digit service code or the
/// separator. Returns the expiry (None when absent) or None for malformed data.
fn expiry_and_service(rest: &str, sep: char) -> Option<Option<String>> {
    let (expiry, after) = match rest.get(..4) {
        Some(e) if digits(e) => (Some(e.to_owned()), &rest[4..]),
        _ => (None, rest.strip_prefix(sep)?),
    };
    match after.get(..3) {
        Some(s) if digits(s) => Some(expiry),
        _ if after.starts_with(sep) => Some(expiry),
        _ => None,
    }
}

/// `%B PAN ^ NAME ^ YYMM SSS discretionary ?`
fn parse_track1(t: &str) -> Option<Track1> {
    let body = t.strip_prefix("%B")?.strip_suffix('?')?;
    let mut parts = body.splitn(3, '^');
    let pan = parts.next()?;
    let name = parts.next()?;
    let rest = parts.next()?;
    if !digits(pan) || pan.len() > 19 || !(2..=26).contains(&name.len()) {
        return None;
    }
    let expiry = expiry_and_service(rest, '^')?;
    Some(Track1 {
        pan: pan.to_owned(),
        name: name.trim().to_owned(),
        expiry,
    })
}

/// `; PAN = YYMM SSS discretionary ?`
fn parse_track2(t: &str) -> Option<Track2> {
    let body = t.strip_prefix(';')?.strip_suffix('?')?;
    let (pan, rest) = body.split_once('=')?;
    if !digits(pan) || pan.len() > 19 {
        return None;
    }
    if rest.is_empty() {
        return Some(Track2 {
            pan: pan.to_owned(),
            expiry: None,
        });
    }
    let expiry = expiry_and_service(rest, '=')?;
    Some(Track2 {
        pan: pan.to_owned(),
        expiry,
    })
}

/// Cuts `start ... ?` out of the raw data (an LRC byte after `?`, if any, is ignored).
fn cut_track(raw: &str, start: char) -> Option<&str> {
    let from = raw.find(start)?;
    let len = raw[from..].find('?')?;
    Some(&raw[from..=from + len])
}

/// Parses a swipe (track 1, track 2, or both as a keyboard-wedge reader types them).
/// Bank cards are refused; nothing of `raw` appears in the error.
pub fn parse_swipe(raw: &str) -> Result<CardSwipe, CardError> {
    let raw = raw.trim();
    if contains_bank_range_number(raw) == Some(true) {
        return Err(CardError::BankCard);
    }
    let t1 = cut_track(raw, '%').map(|t| parse_track1(t).ok_or(CardError::Unreadable));
    let t2 = cut_track(raw, ';').map(|t| parse_track2(t).ok_or(CardError::Unreadable));
    let (pan, holder, expiry) = match (t1.transpose()?, t2.transpose()?) {
        (Some(a), Some(b)) => {
            if a.pan != b.pan {
                return Err(CardError::Unreadable);
            }
            (a.pan, Some(a.name), a.expiry.or(b.expiry))
        }
        (Some(a), None) => (a.pan, Some(a.name), a.expiry),
        (None, Some(b)) => (b.pan, None, b.expiry),
        (None, None) => return Err(CardError::Unreadable),
    };
    // A number in a bank range that fails Luhn is a bad swipe of a bank card: never accept it.
    if in_bank_iin_range(&pan) {
        return Err(if luhn_ok(&pan) {
            CardError::BankCard
        } else {
            CardError::Unreadable
        });
    }
    Ok(CardSwipe {
        number: CardNumber(pan),
        holder: holder.filter(|h| !h.is_empty()),
        expiry,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIFT: &str = "6035710000000018";

    #[test]
    fn luhn() {
        assert!(luhn_ok("4111111111111111"));
        assert!(!luhn_ok("4111111111111112"));
        assert!(luhn_ok(GIFT));
        assert!(!luhn_ok(""));
    }

    #[test]
    fn scheme_ranges() {
        for pan in [
            "4111111111111111",
            "5555555555554444",
            "2223003122003222",
            "378282246310005",
            "6011111111111117",
            "3530111333300000",
            "36227206271667",
            "6200000000000005",
            "6759649826438453",
            "2200000000000004",
        ] {
            assert!(is_bank_card(pan), "{pan} is a bank card");
        }
        assert!(!is_bank_card(GIFT), "6035 71 is a private-label gift range");
        assert!(!is_bank_card("4111111111111112"), "fails Luhn");
    }

    #[test]
    fn gift_card_tracks_parse() {
        let both = format!("%B{GIFT}^GIFT/CARD^2912101000?;{GIFT}=29121010000?");
        let s = parse_swipe(&both).unwrap();
        assert_eq!(s.number.expose(), GIFT);
        assert_eq!(s.holder.as_deref(), Some("GIFT/CARD"));
        assert_eq!(s.expiry.as_deref(), Some("2912"));
        let t2 = parse_swipe(&format!(";{GIFT}=?")).unwrap();
        assert_eq!(t2.number.expose(), GIFT);
        assert_eq!(t2.expiry, None);
    }

    #[test]
    fn bank_cards_are_refused_without_digits() {
        let swipe =
            "%B4111111111111111^TEST/CARD^2912101000000000?;4111111111111111=29121010000000000000?";
        let err = parse_swipe(swipe).unwrap_err();
        assert_eq!(err, CardError::BankCard);
        let shown = format!("{err} {err:?}");
        assert!(!shown.chars().any(|c| c.is_ascii_digit()), "{shown}");
        // A bank number that fails Luhn (bad swipe) is not accepted either.
        assert_eq!(
            parse_swipe(";4111111111111112=2912?"),
            Err(CardError::Unreadable)
        );
    }

    #[test]
    fn garbled_swipes_are_unreadable() {
        assert_eq!(parse_swipe(";41111111=2912?X"), Err(CardError::Unreadable));
        assert_eq!(parse_swipe("hello"), Err(CardError::Unreadable));
        assert_eq!(
            parse_swipe(&format!("%B{GIFT}^A^2912?;6035710000000000=2912?")),
            Err(CardError::Unreadable),
            "name too short on track 1"
        );
    }

    #[test]
    fn debug_of_a_gift_card_hides_the_number() {
        let s = parse_swipe(&format!(";{GIFT}=2912101?")).unwrap();
        let d = format!("{s:?}");
        assert!(!d.contains("603571"), "{d}");
    }
}
