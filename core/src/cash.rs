//! Cash management: the coins and notes of each currency, counting a drawer by denomination,
//! the sales of a register session summed per tender and per tax rate, and the drawer's
//! reconciliation (what should be in it, what was counted, over or short).
//!
//! Invariants:
//! * Every figure is `Money` (integer minor units) and every sum is checked: a count or a day
//!   too large for [`crate::money::MAX_MINOR`] is an error, never a wrapped total.
//! * A [`DrawerCount`] only holds denominations of its currency, each at most once, with a
//!   quantity between 0 and [`MAX_PIECES`]; its total is computed once, when it is made.
//! * The expected drawer is `opening float + cash taken − change given + cash in − cash out −
//!   cash refunds`, and over/short is `counted − expected` (positive: more cash than expected).
//! * No clock, no IO: the caller passes everything in.

use crate::auth::ReasonError;
use crate::money::{Currency, Money, MoneyError};
use crate::returns::CompletedReturn;
use crate::sale::{CompletedSale, TenderKind};
use crate::tax::{TaxBreakdown, TaxRate};
use serde::{Deserialize, Serialize};

/// Whether a denomination is a coin or a banknote (the count grid groups them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenominationKind {
    Coin,
    Note,
}

/// One coin or note: its value in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Denomination {
    pub value: i64,
    pub kind: DenominationKind,
}

const fn coin(value: i64) -> Denomination {
    Denomination {
        value,
        kind: DenominationKind::Coin,
    }
}

const fn note(value: i64) -> Denomination {
    Denomination {
        value,
        kind: DenominationKind::Note,
    }
}

const EUR: [Denomination; 15] = [
    note(50_000),
    note(20_000),
    note(10_000),
    note(5_000),
    note(2_000),
    note(1_000),
    note(500),
    coin(200),
    coin(100),
    coin(50),
    coin(20),
    coin(10),
    coin(5),
    coin(2),
    coin(1),
];

const JPY: [Denomination; 10] = [
    note(10_000),
    note(5_000),
    note(2_000),
    note(1_000),
    coin(500),
    coin(100),
    coin(50),
    coin(10),
    coin(5),
    coin(1),
];

/// The notes and coins in everyday circulation ($1 is counted as a note; the rare $1 coin
/// goes with the notes of the same value).
const USD: [Denomination; 12] = [
    note(10_000),
    note(5_000),
    note(2_000),
    note(1_000),
    note(500),
    note(200),
    note(100),
    coin(50),
    coin(25),
    coin(10),
    coin(5),
    coin(1),
];

/// The denominations a drawer of `currency` holds, largest first: notes, then coins.
pub const fn denominations(currency: Currency) -> &'static [Denomination] {
    match currency {
        Currency::Eur => &EUR,
        Currency::Jpy => &JPY,
        Currency::Usd => &USD,
    }
}

/// The most pieces of one denomination a count may hold (a keying error beyond that).
pub const MAX_PIECES: i64 = 1_000_000;

/// How many pieces of one denomination were counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenominationCount {
    /// The denomination's value in minor units.
    pub value: i64,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CashError {
    /// The value is not a coin or note of the drawer's currency.
    #[error("{value} is not a coin or note of {currency}")]
    UnknownDenomination { value: i64, currency: Currency },
    /// A denomination appears twice in one count.
    #[error("the denomination {value} was counted twice")]
    DuplicateDenomination { value: i64 },
    /// A negative quantity, or more pieces than [`MAX_PIECES`].
    #[error("the quantity of {value} must be between 0 and {max}")]
    QuantityOutOfRange { value: i64, max: i64 },
    /// A cash movement of zero or less.
    #[error("the amount must be greater than zero")]
    NonPositiveAmount,
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// A drawer counted by denomination, with its total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerCount {
    currency: Currency,
    /// Largest denomination first; zero quantities are left out.
    counts: Vec<DenominationCount>,
    total: Money,
}

impl DrawerCount {
    /// Checks a count as keyed and totals it (see the module invariants).
    pub fn new(currency: Currency, counts: &[DenominationCount]) -> Result<DrawerCount, CashError> {
        let known = denominations(currency);
        let mut seen: Vec<i64> = Vec::with_capacity(counts.len());
        let mut total = Money::zero(currency);
        for c in counts {
            if !known.iter().any(|d| d.value == c.value) {
                return Err(CashError::UnknownDenomination {
                    value: c.value,
                    currency,
                });
            }
            if seen.contains(&c.value) {
                return Err(CashError::DuplicateDenomination { value: c.value });
            }
            seen.push(c.value);
            if !(0..=MAX_PIECES).contains(&c.quantity) {
                return Err(CashError::QuantityOutOfRange {
                    value: c.value,
                    max: MAX_PIECES,
                });
            }
            total = total.checked_add(Money::new(c.value, currency).checked_mul(c.quantity)?)?;
        }
        let mut kept: Vec<DenominationCount> =
            counts.iter().copied().filter(|c| c.quantity > 0).collect();
        kept.sort_by_key(|c| std::cmp::Reverse(c.value));
        Ok(DrawerCount {
            currency,
            counts: kept,
            total,
        })
    }

    /// An empty drawer (a register opened without counting a float).
    pub fn empty(currency: Currency) -> DrawerCount {
        DrawerCount {
            currency,
            counts: Vec::new(),
            total: Money::zero(currency),
        }
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The pieces counted, largest denomination first (zero quantities left out).
    pub fn counts(&self) -> &[DenominationCount] {
        &self.counts
    }

    pub fn total(&self) -> Money {
        self.total
    }
}

/// Which way cash moves in a movement that is not a sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CashDirection {
    /// Into the drawer (more change from the safe…).
    In,
    /// Out of the drawer (a drop to the safe, paying a supplier…).
    Out,
}

impl CashDirection {
    pub const fn code(self) -> &'static str {
        match self {
            CashDirection::In => "in",
            CashDirection::Out => "out",
        }
    }

    pub fn from_code(s: &str) -> Option<CashDirection> {
        match s {
            "in" => Some(CashDirection::In),
            "out" => Some(CashDirection::Out),
            _ => None,
        }
    }

    /// The reasons the screen offers for this direction; "other" needs a note.
    pub const fn reasons(self) -> &'static [&'static str] {
        match self {
            CashDirection::In => &CASH_IN_REASONS,
            CashDirection::Out => &CASH_OUT_REASONS,
        }
    }
}

/// Why cash was put into the drawer.
pub const CASH_IN_REASONS: [&str; 3] = ["change_top_up", "float_correction", "other"];
/// Why cash was taken out of the drawer.
pub const CASH_OUT_REASONS: [&str; 5] = [
    "safe_drop",
    "bank_deposit",
    "petty_cash",
    "supplier_payment",
    "other",
];
/// Why the drawer was opened without a sale.
pub const NO_SALE_REASONS: [&str; 4] = ["give_change", "check_drawer", "correct_change", "other"];

/// A reason from one of the lists above, with an optional note ("other" needs one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashReason {
    pub code: String,
    pub note: Option<String>,
}

impl CashReason {
    /// Checks a reason against `allowed`; the note is trimmed and cut to
    /// [`crate::auth::MAX_REASON_NOTE`] characters, an empty note is none.
    pub fn parse(
        code: &str,
        note: Option<&str>,
        allowed: &[&str],
    ) -> Result<CashReason, ReasonError> {
        let code = code.trim();
        if code.is_empty() {
            return Err(ReasonError::Missing);
        }
        if !allowed.contains(&code) {
            return Err(ReasonError::Unknown);
        }
        let note = note
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| n.chars().take(crate::auth::MAX_REASON_NOTE).collect());
        if code == "other" && note.is_none() {
            return Err(ReasonError::Missing);
        }
        Ok(CashReason {
            code: code.to_owned(),
            note,
        })
    }
}

/// Checks the amount of a cash movement: positive and within the money bound.
pub fn movement_amount(amount: Money) -> Result<Money, CashError> {
    if amount.minor <= 0 {
        return Err(CashError::NonPositiveAmount);
    }
    Money::zero(amount.currency).checked_add(amount)?;
    Ok(amount)
}

/// One tender kind's share of a session's sales.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenderTotal {
    pub kind: TenderKind,
    /// Sales that used this tender.
    pub count: u64,
    /// What the tender paid net of change (for cash: handed over minus change).
    pub amount: Money,
}

/// One tax rate's share of a session's sales.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxTotal {
    pub rate: TaxRate,
    pub net: Money,
    pub tax: Money,
    pub gross: Money,
}

/// The order tender kinds are reported in.
pub const TENDER_ORDER: [TenderKind; 5] = [
    TenderKind::Cash,
    TenderKind::Card,
    TenderKind::GiftCard,
    TenderKind::StoreCredit,
    TenderKind::Account,
];

/// The sales of a register session, summed: what an X or Z report shows about selling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesSummary {
    pub currency: Currency,
    /// Completed sales.
    pub sales: u64,
    /// Sum of the items before discounts.
    pub items: Money,
    /// Sum of line and order discounts.
    pub discounts: Money,
    /// Sum of the sales' totals (what the customers owed).
    pub total: Money,
    /// Sum of the tax in those totals.
    pub tax_total: Money,
    /// Returns made in the session and what they refunded (positive). The tax rows and
    /// `tax_total` are net of them (the tax to declare); `total` stays the sales' total and
    /// [`SalesSummary::net_total`] takes the refunds off.
    pub refunds: u64,
    pub refunded: Money,
    /// What the returns paid back, per tender kind, in [`TENDER_ORDER`] (positive amounts).
    #[serde(default)]
    pub tender_refunds: Vec<TenderTotal>,
    /// Per tender kind that was used, in [`TENDER_ORDER`].
    pub tenders: Vec<TenderTotal>,
    /// Per tax rate, highest rate first.
    pub taxes: Vec<TaxTotal>,
    /// Cash handed over by customers (before change).
    pub cash_taken: Money,
    pub change_given: Money,
    /// Cash rounding (positive: customers paid more than the totals).
    pub rounding: Money,
    /// Per cashier who rang sales up, by name.
    #[serde(default)]
    pub cashiers: Vec<CashierTotal>,
}

/// One cashier's share of a session's sales.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashierTotal {
    pub id: String,
    pub name: String,
    pub sales: u64,
    pub total: Money,
}

impl SalesSummary {
    pub fn new(currency: Currency) -> SalesSummary {
        let z = Money::zero(currency);
        SalesSummary {
            currency,
            sales: 0,
            items: z,
            discounts: z,
            total: z,
            tax_total: z,
            refunds: 0,
            refunded: z,
            tender_refunds: Vec::new(),
            tenders: Vec::new(),
            taxes: Vec::new(),
            cash_taken: z,
            change_given: z,
            rounding: z,
            cashiers: Vec::new(),
        }
    }

    /// Sums many sales.
    pub fn of<'a>(
        currency: Currency,
        sales: impl IntoIterator<Item = &'a CompletedSale>,
    ) -> Result<SalesSummary, CashError> {
        let mut s = SalesSummary::new(currency);
        for sale in sales {
            s.add(sale)?;
        }
        Ok(s)
    }

    /// Adds one completed sale. All or nothing: on an error the summary is unchanged.
    pub fn add(&mut self, sale: &CompletedSale) -> Result<(), CashError> {
        let mut next = self.clone();
        next.add_in_place(sale)?;
        *self = next;
        Ok(())
    }

    fn add_in_place(&mut self, sale: &CompletedSale) -> Result<(), CashError> {
        let t = sale.totals();
        let st = sale.settlement();
        self.sales += 1;
        self.items = self.items.checked_add(t.items)?;
        self.discounts = self.discounts.checked_add(t.discounts)?;
        self.total = self.total.checked_add(t.total)?;
        self.tax_total = self.tax_total.checked_add(t.tax_total)?;
        self.change_given = self.change_given.checked_add(st.change)?;
        self.rounding = self.rounding.checked_add(st.rounding)?;
        let who = sale.cashier();
        match self.cashiers.iter_mut().find(|c| c.id == who.id) {
            Some(c) => {
                c.sales += 1;
                c.total = c.total.checked_add(t.total)?;
            }
            None => self.cashiers.push(CashierTotal {
                id: who.id.clone(),
                name: who.name.clone(),
                sales: 1,
                total: t.total,
            }),
        }
        self.cashiers
            .sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        for kind in TENDER_ORDER {
            let mut amount = Money::zero(self.currency);
            let mut used = false;
            for tender in sale.tenders().iter().filter(|x| x.kind == kind) {
                amount = amount.checked_add(tender.amount)?;
                used = true;
            }
            if !used {
                continue;
            }
            if kind == TenderKind::Cash {
                self.cash_taken = self.cash_taken.checked_add(amount)?;
                amount = amount.checked_sub(st.change)?;
            }
            add_tender(&mut self.tenders, self.currency, kind, amount)?;
        }
        add_taxes(&mut self.taxes, self.currency, &t.taxes, false)?;
        Ok(())
    }

    /// Takes one return off the figures: counts it, adds what it refunded (per tender kind
    /// too) and takes its tax per rate off the tax rows (a return's amounts are magnitudes).
    /// All or nothing.
    pub fn subtract_return(&mut self, ret: &CompletedReturn) -> Result<(), CashError> {
        let mut next = self.clone();
        next.refunds += 1;
        next.refunded = next.refunded.checked_add(ret.total)?;
        next.tax_total = next.tax_total.checked_sub(ret.tax_total)?;
        for r in &ret.refunds {
            add_tender(&mut next.tender_refunds, self.currency, r.kind, r.amount)?;
        }
        add_taxes(&mut next.taxes, self.currency, &ret.taxes, true)?;
        *self = next;
        Ok(())
    }

    /// The sales' total minus what returns refunded.
    pub fn net_total(&self) -> Result<Money, MoneyError> {
        self.total.checked_sub(self.refunded)
    }

    /// The net cash the sales put into the drawer (handed over minus change).
    pub fn cash_net(&self) -> Result<Money, MoneyError> {
        self.cash_taken.checked_sub(self.change_given)
    }
}

/// Counts one more use of `kind` paying `amount` in `rows` (a new row when it is the first),
/// keeping the rows in [`TENDER_ORDER`].
fn add_tender(
    rows: &mut Vec<TenderTotal>,
    currency: Currency,
    kind: TenderKind,
    amount: Money,
) -> Result<(), MoneyError> {
    match rows.iter_mut().find(|x| x.kind == kind) {
        Some(row) => {
            row.count += 1;
            row.amount = row.amount.checked_add(amount)?;
        }
        None => rows.push(TenderTotal {
            kind,
            count: 1,
            amount: amount.checked_add(Money::zero(currency))?,
        }),
    }
    rows.sort_by_key(|x| {
        TENDER_ORDER
            .iter()
            .position(|k| *k == x.kind)
            .unwrap_or(usize::MAX)
    });
    Ok(())
}

/// Adds (or, with `subtract`, takes off) each rate's figures to its row in `rows`, keeping the
/// rows highest rate first.
fn add_taxes(
    rows: &mut Vec<TaxTotal>,
    currency: Currency,
    taxes: &[TaxBreakdown],
    subtract: bool,
) -> Result<(), MoneyError> {
    let apply = |a: Money, b: Money| {
        if subtract {
            a.checked_sub(b)
        } else {
            a.checked_add(b)
        }
    };
    for b in taxes {
        let i = match rows.iter().position(|x| x.rate == b.rate) {
            Some(i) => i,
            None => {
                let z = Money::zero(currency);
                rows.push(TaxTotal {
                    rate: b.rate.clone(),
                    net: z,
                    tax: z,
                    gross: z,
                });
                rows.len() - 1
            }
        };
        let row = &mut rows[i];
        row.net = apply(row.net, b.net)?;
        row.tax = apply(row.tax, b.tax)?;
        row.gross = apply(row.gross, b.gross)?;
    }
    rows.sort_by(|a, b| {
        b.rate
            .bps
            .cmp(&a.rate.bps)
            .then(a.rate.code.cmp(&b.rate.code))
    });
    Ok(())
}

/// What moved through the drawer during a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerFigures {
    pub opening_float: Money,
    /// Cash handed over by customers.
    pub cash_taken: Money,
    pub change_given: Money,
    pub cash_in: Money,
    pub cash_out: Money,
    /// Cash paid back on returns (none until returns exist).
    pub cash_refunds: Money,
    /// Cash customers paid on their accounts at this register (net of change; None in
    /// reports made before account payments existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_payments: Option<Money>,
}

impl DrawerFigures {
    /// What should be in the drawer: float + cash taken − change + in − out − refunds +
    /// account payments.
    pub fn expected(&self) -> Result<Money, MoneyError> {
        let base = self
            .opening_float
            .checked_add(self.cash_taken)?
            .checked_sub(self.change_given)?
            .checked_add(self.cash_in)?
            .checked_sub(self.cash_out)?
            .checked_sub(self.cash_refunds)?;
        match self.account_payments {
            Some(a) => base.checked_add(a),
            None => Ok(base),
        }
    }
}

/// Counted minus expected: positive when the drawer holds more than it should (over),
/// negative when it holds less (short).
pub fn over_short(counted: Money, expected: Money) -> Result<Money, MoneyError> {
    counted.checked_sub(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(value: i64, quantity: i64) -> DenominationCount {
        DenominationCount { value, quantity }
    }

    #[test]
    fn euro_has_coins_from_a_cent_to_two_euro_and_notes_from_five_to_five_hundred() {
        let d = denominations(Currency::Eur);
        let coins: Vec<i64> = d
            .iter()
            .filter(|x| x.kind == DenominationKind::Coin)
            .map(|x| x.value)
            .collect();
        let notes: Vec<i64> = d
            .iter()
            .filter(|x| x.kind == DenominationKind::Note)
            .map(|x| x.value)
            .collect();
        assert_eq!(coins, [200, 100, 50, 20, 10, 5, 2, 1]);
        assert_eq!(notes, [50_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500]);
    }

    #[test]
    fn yen_runs_from_one_yen_coins_to_ten_thousand_yen_notes() {
        let d = denominations(Currency::Jpy);
        let coins: Vec<i64> = d
            .iter()
            .filter(|x| x.kind == DenominationKind::Coin)
            .map(|x| x.value)
            .collect();
        assert_eq!(coins, [500, 100, 50, 10, 5, 1]);
        assert!(d.contains(&note(2_000)) && d.contains(&note(10_000)));
        for cur in [Currency::Eur, Currency::Jpy, Currency::Usd] {
            let v: Vec<i64> = denominations(cur).iter().map(|x| x.value).collect();
            assert!(v.windows(2).all(|w| w[0] > w[1]), "{cur}: largest first");
        }
    }

    #[test]
    fn a_euro_float_counts_to_its_total() {
        // 2 × 20 €, 3 × 10 €, 4 × 5 €, 10 × 2 €, 10 × 1 €, 20 × 0,50 €, 9 × 0,01 €
        let count = DrawerCount::new(
            Currency::Eur,
            &[
                c(2_000, 2),
                c(1_000, 3),
                c(500, 4),
                c(200, 10),
                c(100, 10),
                c(50, 20),
                c(1, 9),
                c(2, 0),
            ],
        )
        .unwrap();
        assert_eq!(count.total(), Money::new(13_009, Currency::Eur));
        assert_eq!(count.counts().len(), 7, "zero quantities are left out");
        assert_eq!(count.counts()[0].value, 2_000);
    }

    #[test]
    fn a_yen_count_has_no_decimals() {
        let count = DrawerCount::new(
            Currency::Jpy,
            &[c(10_000, 1), c(1_000, 5), c(500, 2), c(1, 3)],
        )
        .unwrap();
        assert_eq!(count.total(), Money::new(16_003, Currency::Jpy));
    }

    #[test]
    fn bad_counts_are_refused_with_what_is_wrong() {
        assert_eq!(
            DrawerCount::new(Currency::Jpy, &[c(2, 1)]),
            Err(CashError::UnknownDenomination {
                value: 2,
                currency: Currency::Jpy
            }),
            "there is no 2-yen coin"
        );
        assert_eq!(
            DrawerCount::new(Currency::Eur, &[c(500, 1), c(500, 2)]),
            Err(CashError::DuplicateDenomination { value: 500 })
        );
        assert_eq!(
            DrawerCount::new(Currency::Eur, &[c(500, -1)]),
            Err(CashError::QuantityOutOfRange {
                value: 500,
                max: MAX_PIECES
            })
        );
        assert!(DrawerCount::new(Currency::Eur, &[c(500, MAX_PIECES + 1)]).is_err());
    }

    #[test]
    fn the_largest_possible_count_fits_and_a_day_beyond_the_bound_is_an_overflow() {
        let all: Vec<DenominationCount> = denominations(Currency::Eur)
            .iter()
            .map(|d| c(d.value, MAX_PIECES))
            .collect();
        let most = DrawerCount::new(Currency::Eur, &all).unwrap();
        assert_eq!(most.total().minor, 88_888 * MAX_PIECES);
        let eur = |m| Money::new(m, Currency::Eur);
        let f = DrawerFigures {
            opening_float: eur(crate::money::MAX_MINOR),
            cash_taken: eur(1),
            change_given: eur(0),
            cash_in: eur(0),
            cash_out: eur(0),
            cash_refunds: eur(0),
            account_payments: None,
        };
        assert_eq!(f.expected(), Err(MoneyError::Overflow));
    }

    #[test]
    fn expected_drawer_and_over_short() {
        let eur = |m| Money::new(m, Currency::Eur);
        let f = DrawerFigures {
            opening_float: eur(15_000),
            cash_taken: eur(10_000),
            change_given: eur(1_250),
            cash_in: eur(2_000),
            cash_out: eur(5_000),
            cash_refunds: eur(0),
            account_payments: None,
        };
        let expected = f.expected().unwrap();
        assert_eq!(expected, eur(20_750));
        assert_eq!(
            over_short(eur(20_700), expected).unwrap(),
            eur(-50),
            "short"
        );
        assert_eq!(over_short(eur(20_800), expected).unwrap(), eur(50), "over");
        let mixed = Money::new(1, Currency::Jpy);
        assert!(over_short(mixed, expected).is_err(), "currencies never mix");
    }

    #[test]
    fn reasons_come_from_their_list_and_other_needs_words() {
        let out = CashDirection::Out.reasons();
        assert_eq!(
            CashReason::parse("safe_drop", None, out).unwrap().code,
            "safe_drop"
        );
        assert_eq!(
            CashReason::parse("safe_drop", None, CashDirection::In.reasons()),
            Err(ReasonError::Unknown),
            "a drop to the safe is not cash in"
        );
        assert_eq!(
            CashReason::parse("other", Some("  "), &NO_SALE_REASONS),
            Err(ReasonError::Missing)
        );
        assert_eq!(
            CashReason::parse("other", Some(" window cleaner "), &NO_SALE_REASONS)
                .unwrap()
                .note
                .as_deref(),
            Some("window cleaner")
        );
        assert_eq!(
            movement_amount(Money::new(0, Currency::Eur)),
            Err(CashError::NonPositiveAmount)
        );
    }
}
