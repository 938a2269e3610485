//! GTIN-8/12/13/14 (EAN/UPC) check digits, and variable-measure EAN-13 barcodes whose digits
//! carry a weight or a price (in-store labels from a scale: prefixes 02 and 20–29).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BarcodeError {
    #[error("barcode is empty")]
    Empty,
    #[error("barcode has characters that are not digits")]
    NotNumeric,
    #[error("wrong check digit: expected {expected}, scanned {found}")]
    CheckDigit { expected: u8, found: u8 },
    #[error("a GTIN has 8, 12, 13 or 14 digits, not {0}")]
    Length(usize),
}

/// GS1 mod-10 check digit of the digits *before* the check digit.
pub fn check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

fn digits(code: &str) -> Result<Vec<u8>, BarcodeError> {
    if code.is_empty() {
        return Err(BarcodeError::Empty);
    }
    code.bytes()
        .map(|b| {
            if b.is_ascii_digit() {
                Ok(b - b'0')
            } else {
                Err(BarcodeError::NotNumeric)
            }
        })
        .collect()
}

/// Validates a GTIN-8, -12 (UPC-A), -13 (EAN-13) or -14.
pub fn validate_gtin(code: &str) -> Result<(), BarcodeError> {
    let d = digits(code)?;
    if ![8, 12, 13, 14].contains(&d.len()) {
        return Err(BarcodeError::Length(d.len()));
    }
    let (body, last) = d.split_at(d.len() - 1);
    let expected = check_digit(body);
    if expected != last[0] {
        return Err(BarcodeError::CheckDigit {
            expected,
            found: last[0],
        });
    }
    Ok(())
}

/// Appends the check digit to a 12-digit body, making an EAN-13.
pub fn ean13_from_body(body12: &str) -> Result<String, BarcodeError> {
    let d = digits(body12)?;
    if d.len() != 12 {
        return Err(BarcodeError::Length(d.len() + 1));
    }
    Ok(format!("{body12}{}", check_digit(&d)))
}

/// What a variable-measure prefix encodes in the five digits after the item code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddedKind {
    /// Weight in grams.
    WeightGrams,
    /// Price in minor units (cents, yen).
    Price,
}

/// One configured variable-measure prefix, e.g. `{ prefix: "21", item_digits: 5, kind: Price }`:
/// `21 IIIII PPPPP C` — item code 5 digits, value 5 digits, check digit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddedRule {
    pub prefix: String,
    /// Digits of the item code after the prefix (the value takes the remaining digits).
    pub item_digits: usize,
    pub kind: EmbeddedKind,
}

/// The result of reading a scanned code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Scan {
    /// An ordinary GTIN (or a non-GTIN code such as an internal SKU).
    Code { code: String },
    /// A variable-measure label: look the item up by `lookup_code`, then use the value.
    Embedded {
        lookup_code: String,
        item: String,
        kind: EmbeddedKind,
        value: i64,
    },
}

/// The default rules: 02 and 20–29, five-digit item code, five-digit value. 20–24 carry a price
/// and 25–29 and 02 a weight (a common arrangement; each store configures its own).
pub fn default_embedded_rules() -> Vec<EmbeddedRule> {
    let mut v = vec![EmbeddedRule {
        prefix: "02".into(),
        item_digits: 5,
        kind: EmbeddedKind::WeightGrams,
    }];
    for p in 20..=29 {
        v.push(EmbeddedRule {
            prefix: p.to_string(),
            item_digits: 5,
            kind: if p < 25 {
                EmbeddedKind::Price
            } else {
                EmbeddedKind::WeightGrams
            },
        });
    }
    v
}

/// Reads a scanned code: validates GTIN check digits for all-digit codes of GTIN length, and
/// decodes variable-measure EAN-13 labels by the given rules. Codes with letters or of other
/// lengths (internal SKUs, CODE128) pass through unvalidated.
pub fn read_scan(raw: &str, rules: &[EmbeddedRule]) -> Result<Scan, BarcodeError> {
    let code = raw.trim();
    if code.is_empty() {
        return Err(BarcodeError::Empty);
    }
    let all_digits = code.bytes().all(|b| b.is_ascii_digit());
    if !all_digits || ![8, 12, 13, 14].contains(&code.len()) {
        return Ok(Scan::Code {
            code: code.to_owned(),
        });
    }
    validate_gtin(code)?;
    if code.len() == 13 {
        for rule in rules {
            let p = rule.prefix.len();
            if code.starts_with(&rule.prefix) && p + rule.item_digits < 12 {
                let item = &code[p..p + rule.item_digits];
                let value: i64 = code[p + rule.item_digits..12].parse().unwrap_or(0);
                // The lookup code is the label with the value zeroed, check digit recomputed:
                // that is how such items are keyed in the catalog.
                let zeros = "0".repeat(12 - p - rule.item_digits);
                let lookup_code = ean13_from_body(&format!("{}{}{}", rule.prefix, item, zeros))?;
                return Ok(Scan::Embedded {
                    lookup_code,
                    item: item.to_owned(),
                    kind: rule.kind,
                    value,
                });
            }
        }
    }
    Ok(Scan::Code {
        code: code.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_validate() {
        validate_gtin("4006381333931").unwrap(); // EAN-13
        validate_gtin("73513537").unwrap(); // EAN-8
        validate_gtin("036000291452").unwrap(); // UPC-A
        validate_gtin("10012345678902").unwrap(); // GTIN-14
        validate_gtin("4901234567894").unwrap(); // JAN
    }

    #[test]
    fn wrong_check_digit_is_reported_with_the_expected_digit() {
        assert_eq!(
            validate_gtin("4006381333932"),
            Err(BarcodeError::CheckDigit {
                expected: 1,
                found: 2
            })
        );
        assert!(matches!(
            read_scan("4006381333932", &[]),
            Err(BarcodeError::CheckDigit { .. })
        ));
    }

    #[test]
    fn non_gtin_codes_pass_through() {
        assert_eq!(
            read_scan(" SKU-123 ", &[]).unwrap(),
            Scan::Code {
                code: "SKU-123".into()
            }
        );
        assert_eq!(
            read_scan("12345", &[]).unwrap(),
            Scan::Code {
                code: "12345".into()
            }
        );
    }

    #[test]
    fn weight_embedded_label_decodes_grams() {
        // 25 12345 01234 C: item 12345, 1.234 kg
        let label = ean13_from_body("251234501234").unwrap();
        let scan = read_scan(&label, &default_embedded_rules()).unwrap();
        let lookup = ean13_from_body("251234500000").unwrap();
        assert_eq!(
            scan,
            Scan::Embedded {
                lookup_code: lookup,
                item: "12345".into(),
                kind: EmbeddedKind::WeightGrams,
                value: 1234
            }
        );
    }

    #[test]
    fn price_embedded_label_decodes_minor_units() {
        let label = ean13_from_body("210004200399").unwrap();
        match read_scan(&label, &default_embedded_rules()).unwrap() {
            Scan::Embedded {
                kind: EmbeddedKind::Price,
                value,
                item,
                ..
            } => {
                assert_eq!(value, 399);
                assert_eq!(item, "00042");
            }
            other => panic!("expected a price label, got {other:?}"),
        }
    }
}
