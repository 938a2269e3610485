//! The tax engine: rates in basis points, tax-inclusive or tax-exclusive prices, and a named
//! rounding policy.
//!
//! Rounding error bound (documented, and checked by property tests):
//! * `PerRatePerReceipt`: each rate's tax differs from the exact rational tax of that rate's
//!   total by at most 1 minor unit (at most ½ for the half-way directions).
//! * `PerLine`: each line's tax is rounded, so a rate's tax differs from the exact tax of its
//!   total by at most 1 minor unit *per line* of that rate (½ per line for half-way directions).
//!
//! Japan's qualified invoices require `PerRatePerReceipt`; many European tills use `PerLine`.

use crate::money::{Currency, Money, MoneyError, div_round};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A tax rate as the store configures it, snapshotted into each cart line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TaxRate {
    /// Stable code of the tax category, e.g. "ES-IVA-21", "JP-8".
    pub code: String,
    /// Rate in basis points: 2100 = 21 %, 800 = 8 %.
    pub bps: u32,
    /// A reduced rate: marked on Japanese receipts with ※.
    pub reduced: bool,
}

impl TaxRate {
    pub fn new(code: impl Into<String>, bps: u32, reduced: bool) -> Self {
        TaxRate {
            code: code.into(),
            bps,
            reduced,
        }
    }

    /// "21%", "8%", "5.5%".
    pub fn percent_label(&self) -> String {
        if self.bps.is_multiple_of(100) {
            format!("{}%", self.bps / 100)
        } else {
            let frac = format!("{:02}", self.bps % 100);
            format!("{}.{}%", self.bps / 100, frac.trim_end_matches('0'))
        }
    }
}

/// Whether shelf prices include tax (Spain, Japan) or have it added at the till (USA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceMode {
    TaxInclusive,
    TaxExclusive,
}

/// Where tax is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxRoundingPolicy {
    /// Round each line's tax, then add (common in Europe).
    PerLine,
    /// Add the lines of a rate, round that rate's tax once (required by Japan's インボイス制度).
    PerRatePerReceipt,
}

/// How a fraction of a minor unit is resolved. The business picks one and keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingDirection {
    /// Toward zero (切り捨て).
    Down,
    /// Away from zero (切り上げ).
    Up,
    /// Half away from zero (四捨五入).
    HalfUp,
    /// Half to even (banker's rounding).
    HalfEven,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxPolicy {
    pub price_mode: PriceMode,
    pub rounding: TaxRoundingPolicy,
    pub direction: RoundingDirection,
}

impl TaxPolicy {
    /// Spain: IVA included in prices, rounded per rate on the receipt, half up.
    pub const SPAIN: TaxPolicy = TaxPolicy {
        price_mode: PriceMode::TaxInclusive,
        rounding: TaxRoundingPolicy::PerRatePerReceipt,
        direction: RoundingDirection::HalfUp,
    };
    /// Japan: 総額表示 (tax-inclusive), tax once per rate per invoice, rounded down.
    pub const JAPAN: TaxPolicy = TaxPolicy {
        price_mode: PriceMode::TaxInclusive,
        rounding: TaxRoundingPolicy::PerRatePerReceipt,
        direction: RoundingDirection::Down,
    };
    /// USA-style: sales tax added at the till, per line, half up.
    pub const US: TaxPolicy = TaxPolicy {
        price_mode: PriceMode::TaxExclusive,
        rounding: TaxRoundingPolicy::PerLine,
        direction: RoundingDirection::HalfUp,
    };
}

/// One rate's share of a sale: taxable base (net), tax, and the gross the customer pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxBreakdown {
    pub rate: TaxRate,
    pub net: Money,
    pub tax: Money,
    pub gross: Money,
}

/// Tax on one amount. `amount` is gross for inclusive prices, net for exclusive ones.
pub fn tax_of(amount: i64, bps: u32, policy: &TaxPolicy) -> i64 {
    let a = amount as i128;
    let r = bps as i128;
    let t = match policy.price_mode {
        PriceMode::TaxInclusive => div_round(a * r, 10_000 + r, policy.direction),
        PriceMode::TaxExclusive => div_round(a * r, 10_000, policy.direction),
    };
    // |t| <= |a| because r/(10000+r) < 1 and amounts are bounded by MAX_MINOR; rates are at
    // most a few thousand bps, so exclusive tax stays within i64 too.
    t as i64
}

/// Computes the per-rate breakdown of a sale. `lines` are (rate, amount) where amount is the
/// line's amount after all discounts, in the policy's price mode. Rates come out ordered by
/// descending rate, then code.
pub fn breakdown(
    policy: &TaxPolicy,
    currency: Currency,
    lines: &[(TaxRate, i64)],
) -> Result<Vec<TaxBreakdown>, MoneyError> {
    // code -> (rate, amount sum, per-line tax sum)
    let mut by_rate: BTreeMap<String, (TaxRate, i64, i64)> = BTreeMap::new();
    for (rate, amount) in lines {
        let entry = by_rate
            .entry(rate.code.clone())
            .or_insert_with(|| (rate.clone(), 0, 0));
        if entry.0.bps != rate.bps {
            // Same code with two rates would make the receipt lie; refuse it.
            return Err(MoneyError::Parse(format!(
                "tax code {} has two rates",
                rate.code
            )));
        }
        entry.1 = entry.1.checked_add(*amount).ok_or(MoneyError::Overflow)?;
        entry.2 = entry
            .2
            .checked_add(tax_of(*amount, rate.bps, policy))
            .ok_or(MoneyError::Overflow)?;
    }
    let mut out = Vec::with_capacity(by_rate.len());
    for (_, (rate, amount, line_tax)) in by_rate {
        let tax = match policy.rounding {
            TaxRoundingPolicy::PerLine => line_tax,
            TaxRoundingPolicy::PerRatePerReceipt => tax_of(amount, rate.bps, policy),
        };
        let (net, gross) = match policy.price_mode {
            PriceMode::TaxInclusive => (amount - tax, amount),
            PriceMode::TaxExclusive => {
                (amount, amount.checked_add(tax).ok_or(MoneyError::Overflow)?)
            }
        };
        out.push(TaxBreakdown {
            rate,
            net: Money::new(net, currency),
            tax: Money::new(tax, currency),
            gross: Money::new(gross, currency),
        });
    }
    out.sort_by(|a, b| {
        b.rate
            .bps
            .cmp(&a.rate.bps)
            .then_with(|| a.rate.code.cmp(&b.rate.code))
    });
    Ok(out)
}

/// Cash rounding: cash totals are rounded to a coin increment (0.05 in Switzerland, Finland,
/// the Netherlands; 1 yen is a no-op). Card and other tenders pay the exact amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashRounding {
    /// Smallest cash amount in minor units, e.g. 5 for 0.05 €. 1 means no rounding.
    pub increment: i64,
    pub direction: RoundingDirection,
}

impl CashRounding {
    pub const NONE: CashRounding = CashRounding {
        increment: 1,
        direction: RoundingDirection::HalfUp,
    };

    pub fn round(&self, minor: i64) -> i64 {
        if self.increment <= 1 {
            return minor;
        }
        let inc = self.increment as i128;
        (div_round(minor as i128, inc, self.direction) * inc) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jp8() -> TaxRate {
        TaxRate::new("JP-8", 800, true)
    }
    fn jp10() -> TaxRate {
        TaxRate::new("JP-10", 1000, false)
    }

    #[test]
    fn japan_worked_example_from_locale_md() {
        // 8 % items totalling ¥644 tax-inclusive -> ⌊644×8/108⌋ = ¥47;
        // 10 % items totalling ¥626 -> ⌊626×10/110⌋ = ¥56.
        let lines = vec![(jp8(), 300), (jp8(), 344), (jp10(), 626)];
        let b = breakdown(&TaxPolicy::JAPAN, Currency::Jpy, &lines).unwrap();
        assert_eq!(b[0].rate.code, "JP-10");
        assert_eq!(b[0].tax.minor, 56);
        assert_eq!(b[0].gross.minor, 626);
        assert_eq!(b[1].tax.minor, 47);
        assert_eq!(b[1].net.minor, 644 - 47);
    }

    #[test]
    fn per_line_and_per_receipt_can_differ_and_japan_uses_per_receipt() {
        // Three ¥105 items at 8 %: per line ⌊105×8/108⌋ = 7 each = 21; per receipt ⌊315×8/108⌋ = 23.
        let lines = vec![(jp8(), 105), (jp8(), 105), (jp8(), 105)];
        let per_receipt = breakdown(&TaxPolicy::JAPAN, Currency::Jpy, &lines).unwrap();
        let per_line_policy = TaxPolicy {
            rounding: TaxRoundingPolicy::PerLine,
            ..TaxPolicy::JAPAN
        };
        let per_line = breakdown(&per_line_policy, Currency::Jpy, &lines).unwrap();
        assert_eq!(per_receipt[0].tax.minor, 23);
        assert_eq!(per_line[0].tax.minor, 21);
    }

    #[test]
    fn spain_three_rates() {
        let lines = vec![
            (TaxRate::new("ES-IVA-21", 2100, false), 1999),
            (TaxRate::new("ES-IVA-10", 1000, true), 110),
            (TaxRate::new("ES-IVA-4", 400, true), 198),
        ];
        let b = breakdown(&TaxPolicy::SPAIN, Currency::Eur, &lines).unwrap();
        let taxes: Vec<i64> = b.iter().map(|x| x.tax.minor).collect();
        // 19.99 × 21/121 = 3.469 -> 3.47; 1.10 × 10/110 = 0.10; 1.98 × 4/104 = 0.076 -> 0.08
        assert_eq!(taxes, vec![347, 10, 8]);
        assert_eq!(b[0].net.minor, 1999 - 347);
    }

    #[test]
    fn exclusive_adds_tax_on_top() {
        let lines = vec![(TaxRate::new("US-NY", 888, false), 1000)];
        let b = breakdown(&TaxPolicy::US, Currency::Usd, &lines).unwrap();
        assert_eq!(b[0].tax.minor, 89);
        assert_eq!(b[0].gross.minor, 1089);
    }

    #[test]
    fn cash_rounding_to_five_cents() {
        let r = CashRounding {
            increment: 5,
            direction: RoundingDirection::HalfUp,
        };
        assert_eq!(r.round(2107), 2105);
        assert_eq!(r.round(2108), 2110);
        assert_eq!(r.round(2105), 2105);
        assert_eq!(CashRounding::NONE.round(2107), 2107);
    }

    #[test]
    fn percent_labels() {
        assert_eq!(jp8().percent_label(), "8%");
        assert_eq!(TaxRate::new("X", 550, false).percent_label(), "5.5%");
    }
}
