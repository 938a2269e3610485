//! Money as an integer count of the currency's minor unit (cents for EUR/USD, yen for JPY).
//!
//! Floats never appear: every amount is an `i64` of minor units and every operation is checked,
//! so an absurd price or quantity is an error the cashier sees, never a wrapped total.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The currencies the register can sell in. Each knows its minor-unit exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    Eur,
    Usd,
    Jpy,
}

impl Currency {
    /// Number of decimal digits of the minor unit: 2 for EUR/USD, 0 for JPY.
    pub const fn exponent(self) -> u32 {
        match self {
            Currency::Eur | Currency::Usd => 2,
            Currency::Jpy => 0,
        }
    }

    /// ISO 4217 code.
    pub const fn code(self) -> &'static str {
        match self {
            Currency::Eur => "EUR",
            Currency::Usd => "USD",
            Currency::Jpy => "JPY",
        }
    }

    /// How many minor units make one major unit (100 for EUR, 1 for JPY).
    pub const fn minor_per_major(self) -> i64 {
        10_i64.pow(self.exponent())
    }

    /// Banknote and coin denominations in minor units, largest first (for quick-cash keys and
    /// counting the drawer).
    pub const fn denominations(self) -> &'static [i64] {
        match self {
            Currency::Eur => &[
                50_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500, 200, 100, 50, 20, 10, 5, 2, 1,
            ],
            Currency::Usd => &[10_000, 5_000, 2_000, 1_000, 500, 100, 25, 10, 5, 1],
            Currency::Jpy => &[10_000, 5_000, 2_000, 1_000, 500, 100, 50, 10, 5, 1],
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "EUR" => Ok(Currency::Eur),
            "USD" => Ok(Currency::Usd),
            "JPY" => Ok(Currency::Jpy),
            _ => Err(MoneyError::UnknownCurrency(s.to_owned())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount out of range")]
    Overflow,
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("unknown currency {0:?}")]
    UnknownCurrency(String),
    #[error("invalid amount {0:?}")]
    Parse(String),
}

/// An amount of money: integer minor units plus the currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

/// The largest amount a single price, line or sale may carry: 10^13 minor units
/// (100 billion euro, 10 trillion yen). Anything above is treated as a keying error, and it
/// keeps every intermediate product of an amount and a rate far inside `i128`.
pub const MAX_MINOR: i64 = 10_000_000_000_000;

impl Money {
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    pub const fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    pub const fn is_zero(self) -> bool {
        self.minor == 0
    }

    pub const fn is_negative(self) -> bool {
        self.minor < 0
    }

    fn same(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }

    fn bounded(minor: i64, currency: Currency) -> Result<Money, MoneyError> {
        if minor.abs() > MAX_MINOR {
            Err(MoneyError::Overflow)
        } else {
            Ok(Money { minor, currency })
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same(other)?;
        let m = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Self::bounded(m, self.currency)
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same(other)?;
        let m = self
            .minor
            .checked_sub(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Self::bounded(m, self.currency)
    }

    pub fn checked_mul(self, factor: i64) -> Result<Money, MoneyError> {
        let m = self.minor.checked_mul(factor).ok_or(MoneyError::Overflow)?;
        Self::bounded(m, self.currency)
    }

    /// Sum of amounts in one currency; `currency` is used when the iterator is empty.
    pub fn sum<I: IntoIterator<Item = Money>>(
        currency: Currency,
        it: I,
    ) -> Result<Money, MoneyError> {
        it.into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }

    /// Parses a plain decimal amount in major units ("12.34", "12,34", "1270") into minor units,
    /// refusing more decimals than the currency has.
    pub fn parse_major(s: &str, currency: Currency) -> Result<Money, MoneyError> {
        let err = || MoneyError::Parse(s.to_owned());
        let t = s.trim().replace(',', ".");
        let (neg, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest.to_owned()),
            None => (false, t),
        };
        let (int, frac) = match t.split_once('.') {
            Some((i, f)) => (i.to_owned(), f.to_owned()),
            None => (t.clone(), String::new()),
        };
        let exp = currency.exponent() as usize;
        if int.is_empty() && frac.is_empty()
            || !int.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
            || frac.len() > exp
            || int.len() > 15
        {
            return Err(err());
        }
        let int_v: i64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| err())?
        };
        let mut frac_s = frac;
        while frac_s.len() < exp {
            frac_s.push('0');
        }
        let frac_v: i64 = if frac_s.is_empty() {
            0
        } else {
            frac_s.parse().map_err(|_| err())?
        };
        let minor = int_v
            .checked_mul(currency.minor_per_major())
            .and_then(|v| v.checked_add(frac_v))
            .ok_or(MoneyError::Overflow)?;
        Self::bounded(if neg { -minor } else { minor }, currency)
    }

    /// A locale-neutral rendering used in logs and tests: "12.34 EUR", "1270 JPY".
    pub fn to_plain(self) -> String {
        let exp = self.currency.exponent();
        if exp == 0 {
            return format!("{} {}", self.minor, self.currency);
        }
        let d = self.currency.minor_per_major();
        let sign = if self.minor < 0 { "-" } else { "" };
        let a = self.minor.unsigned_abs();
        format!(
            "{sign}{}.{:0width$} {}",
            a / d as u64,
            a % d as u64,
            self.currency,
            width = exp as usize
        )
    }
}

impl std::ops::Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money {
            minor: -self.minor,
            currency: self.currency,
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_plain())
    }
}

/// Divides `num` by `den` (den > 0) rounding as `dir` says. Used by tax and discount maths.
pub fn div_round(num: i128, den: i128, dir: crate::tax::RoundingDirection) -> i128 {
    use crate::tax::RoundingDirection::*;
    debug_assert!(den > 0);
    let q = num.div_euclid(den);
    let r = num.rem_euclid(den); // 0 <= r < den, num = q*den + r
    if r == 0 {
        return q;
    }
    match dir {
        Down => {
            // toward zero
            if num < 0 { q + 1 } else { q }
        }
        Up => {
            // away from zero
            if num < 0 { q } else { q + 1 }
        }
        HalfUp => {
            // half away from zero
            let twice = 2 * r;
            if twice > den || (twice == den && num >= 0) {
                q + 1
            } else {
                q
            }
        }
        HalfEven => {
            let twice = 2 * r;
            if twice > den || (twice == den && q % 2 != 0) {
                q + 1
            } else {
                q
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tax::RoundingDirection::*;

    #[test]
    fn yen_has_no_minor_unit_and_euro_has_cents() {
        assert_eq!(
            Money::parse_major("1270", Currency::Jpy).unwrap().minor,
            1270
        );
        assert!(
            Money::parse_major("12.5", Currency::Jpy).is_err(),
            "yen has no decimals"
        );
        assert_eq!(
            Money::parse_major("23,04", Currency::Eur).unwrap().minor,
            2304
        );
        assert_eq!(Money::parse_major("0.5", Currency::Eur).unwrap().minor, 50);
        assert!(Money::parse_major("1.234", Currency::Eur).is_err());
        assert!(Money::parse_major("abc", Currency::Eur).is_err());
        assert_eq!(Money::new(-1205, Currency::Eur).to_plain(), "-12.05 EUR");
    }

    #[test]
    fn mixing_currencies_is_refused() {
        let e = Money::new(1, Currency::Eur).checked_add(Money::new(1, Currency::Jpy));
        assert_eq!(
            e,
            Err(MoneyError::CurrencyMismatch(Currency::Eur, Currency::Jpy))
        );
    }

    #[test]
    fn amounts_beyond_the_bound_are_overflow_not_wrapped() {
        let big = Money::new(MAX_MINOR, Currency::Eur);
        assert_eq!(
            big.checked_add(Money::new(1, Currency::Eur)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(big.checked_mul(i64::MAX), Err(MoneyError::Overflow));
    }

    #[test]
    fn division_rounds_in_the_named_direction() {
        assert_eq!(div_round(5, 2, HalfUp), 3);
        assert_eq!(div_round(-5, 2, HalfUp), -3);
        assert_eq!(div_round(5, 2, HalfEven), 2);
        assert_eq!(div_round(7, 2, HalfEven), 4);
        assert_eq!(div_round(7, 3, Down), 2);
        assert_eq!(div_round(-7, 3, Down), -2);
        assert_eq!(div_round(7, 3, Up), 3);
        assert_eq!(div_round(-7, 3, Up), -3);
        assert_eq!(div_round(6, 3, Up), 2);
    }
}
