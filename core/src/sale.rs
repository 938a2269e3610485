//! Tenders, settlement (what is still due, change, cash rounding) and the completed sale.

use crate::cart::{Adjustment, Cart, CartError, CartLine, LineTotal, Totals};
use crate::money::{Currency, Money};
use crate::tax::{CashRounding, TaxPolicy};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenderKind {
    Cash,
    Card,
    GiftCard,
    StoreCredit,
    Account,
}

impl TenderKind {
    pub const fn code(self) -> &'static str {
        match self {
            TenderKind::Cash => "cash",
            TenderKind::Card => "card",
            TenderKind::GiftCard => "gift_card",
            TenderKind::StoreCredit => "store_credit",
            TenderKind::Account => "account",
        }
    }
    pub fn from_code(s: &str) -> Option<TenderKind> {
        [
            TenderKind::Cash,
            TenderKind::Card,
            TenderKind::GiftCard,
            TenderKind::StoreCredit,
            TenderKind::Account,
        ]
        .into_iter()
        .find(|k| k.code() == s)
    }
}

/// One payment toward a sale. For cash, `amount` is what the customer handed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tender {
    pub kind: TenderKind,
    pub amount: Money,
    /// Terminal approval code, gift-card number (masked), account id…
    pub reference: Option<String>,
}

/// Where a sale's payment stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    pub total: Money,
    /// Paid so far by all tenders (cash counted as handed over).
    pub paid: Money,
    /// Still owed, exact (for card and other tenders).
    pub remaining: Money,
    /// Still owed if the rest is paid in cash: `remaining` after cash rounding.
    pub remaining_cash: Money,
    /// Cash to hand back.
    pub change: Money,
    /// Difference introduced by cash rounding (positive: customer paid more than the total).
    pub rounding: Money,
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CheckoutError {
    #[error("the sale is empty")]
    EmptySale,
    #[error("{remaining} is still due")]
    NotFullyPaid { remaining: Money },
    #[error("non-cash tenders exceed what is due; change is only given in cash")]
    NonCashOverpaid,
    #[error("a tender amount must be positive")]
    NonPositiveTender,
    #[error("tender is in {found}, the sale is in {expected}")]
    WrongCurrency { expected: Currency, found: Currency },
    #[error(transparent)]
    Cart(#[from] CartError),
}

/// Works out what is still due, the change and the cash rounding. Cash rounding applies only to
/// the part paid in cash; change is only ever given in cash.
pub fn settle(
    total: Money,
    tenders: &[Tender],
    cash_rounding: CashRounding,
) -> Result<Settlement, CheckoutError> {
    let cur = total.currency;
    let (mut non_cash, mut cash) = (0i64, 0i64);
    for t in tenders {
        if t.amount.currency != cur {
            return Err(CheckoutError::WrongCurrency {
                expected: cur,
                found: t.amount.currency,
            });
        }
        if t.amount.minor <= 0 {
            return Err(CheckoutError::NonPositiveTender);
        }
        if t.kind == TenderKind::Cash {
            cash += t.amount.minor;
        } else {
            non_cash += t.amount.minor;
        }
    }
    if non_cash > total.minor {
        return Err(CheckoutError::NonCashOverpaid);
    }
    let after_non_cash = total.minor - non_cash;
    let cash_due = cash_rounding.round(after_non_cash);
    let (remaining, remaining_cash, change, rounding, complete) = if cash > 0 {
        let remaining_cash = (cash_due - cash).max(0);
        let complete = cash >= cash_due;
        let change = if complete { cash - cash_due } else { 0 };
        let rounding = if complete {
            cash_due - after_non_cash
        } else {
            0
        };
        let remaining = if complete {
            0
        } else {
            (after_non_cash - cash).max(0)
        };
        (remaining, remaining_cash, change, rounding, complete)
    } else {
        (after_non_cash, cash_due, 0, 0, after_non_cash == 0)
    };
    Ok(Settlement {
        total,
        paid: Money::new(non_cash + cash, cur),
        remaining: Money::new(remaining, cur),
        remaining_cash: Money::new(remaining_cash, cur),
        change: Money::new(change, cur),
        rounding: Money::new(rounding, cur),
        complete,
    })
}

/// A receipt number: a series (one per terminal, so terminals never collide offline) and a
/// gap-free sequence number within it. Spain's simplified invoices need exactly this.
/// A web order returned at a register has its order code as the series and no number (0): it
/// is shown as the code alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReceiptNumber {
    pub series: String,
    pub number: u64,
}

impl fmt::Display for ReceiptNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.number == 0 {
            return f.write_str(&self.series);
        }
        write!(f, "{}-{:06}", self.series, self.number)
    }
}

/// Who rang the sale up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cashier {
    pub id: String,
    pub name: String,
}

/// A line as sold: the cart line with its final figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoldLine {
    pub line: CartLine,
    pub total: LineTotal,
}

/// What `Cart::complete` needs besides the cart: every id and the time come from the caller.
#[derive(Debug, Clone)]
pub struct SaleContext {
    pub id: Uuid,
    pub receipt: ReceiptNumber,
    pub terminal_id: String,
    pub cashier: Cashier,
    pub at: OffsetDateTime,
    pub cash_rounding: CashRounding,
}

/// A completed sale. Immutable: it is built only by [`Cart::complete`] (or read back from the
/// store), and nothing can change it afterwards. Corrections are new documents (returns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedSale {
    id: Uuid,
    receipt: ReceiptNumber,
    terminal_id: String,
    cashier: Cashier,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    currency: Currency,
    policy: TaxPolicy,
    lines: Vec<SoldLine>,
    order_discount: Option<Adjustment>,
    totals: Totals,
    tenders: Vec<Tender>,
    settlement: Settlement,
    /// The customer the sale was made for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    customer: Option<crate::cart::SaleCustomer>,
}

impl CompletedSale {
    pub fn customer(&self) -> Option<&crate::cart::SaleCustomer> {
        self.customer.as_ref()
    }
    pub fn id(&self) -> Uuid {
        self.id
    }
    pub fn receipt(&self) -> &ReceiptNumber {
        &self.receipt
    }
    pub fn terminal_id(&self) -> &str {
        &self.terminal_id
    }
    pub fn cashier(&self) -> &Cashier {
        &self.cashier
    }
    pub fn at(&self) -> OffsetDateTime {
        self.at
    }
    pub fn currency(&self) -> Currency {
        self.currency
    }
    pub fn policy(&self) -> &TaxPolicy {
        &self.policy
    }
    pub fn lines(&self) -> &[SoldLine] {
        &self.lines
    }
    pub fn order_discount(&self) -> Option<&Adjustment> {
        self.order_discount.as_ref()
    }
    pub fn totals(&self) -> &Totals {
        &self.totals
    }
    pub fn tenders(&self) -> &[Tender] {
        &self.tenders
    }
    pub fn settlement(&self) -> &Settlement {
        &self.settlement
    }
    /// The amount the sale finally took: total plus cash rounding.
    pub fn amount_paid(&self) -> Money {
        Money::new(
            self.totals.total.minor + self.settlement.rounding.minor,
            self.currency,
        )
    }
}

impl Cart {
    /// What is still due for this cart with these tenders.
    pub fn settlement(
        &self,
        tenders: &[Tender],
        cash_rounding: CashRounding,
    ) -> Result<Settlement, CheckoutError> {
        settle(self.totals()?.total, tenders, cash_rounding)
    }

    /// Freezes the cart into a completed sale, if it is fully paid.
    pub fn complete(
        &self,
        tenders: Vec<Tender>,
        ctx: SaleContext,
    ) -> Result<CompletedSale, CheckoutError> {
        if self.is_empty() {
            return Err(CheckoutError::EmptySale);
        }
        let totals = self.totals()?;
        let settlement = settle(totals.total, &tenders, ctx.cash_rounding)?;
        if !settlement.complete {
            return Err(CheckoutError::NotFullyPaid {
                remaining: settlement.remaining,
            });
        }
        let lines = self
            .lines()
            .iter()
            .cloned()
            .zip(totals.lines.iter().cloned())
            .map(|(line, total)| SoldLine { line, total })
            .collect();
        Ok(CompletedSale {
            id: ctx.id,
            receipt: ctx.receipt,
            terminal_id: ctx.terminal_id,
            cashier: ctx.cashier,
            at: ctx.at.to_offset(time::UtcOffset::UTC),
            currency: self.currency(),
            policy: *self.policy(),
            lines,
            order_discount: self.order_discount().cloned(),
            totals,
            tenders,
            settlement,
            customer: self.customer().cloned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tax::RoundingDirection;

    fn eur(m: i64) -> Money {
        Money::new(m, Currency::Eur)
    }
    fn t(kind: TenderKind, m: i64) -> Tender {
        Tender {
            kind,
            amount: eur(m),
            reference: None,
        }
    }

    #[test]
    fn a_receipt_number_prints_its_series_and_six_digits_and_a_web_order_its_code_alone() {
        let n = |series: &str, number| ReceiptNumber {
            series: series.into(),
            number,
        };
        assert_eq!(n("T01", 123).to_string(), "T01-000123");
        assert_eq!(n("T01R", 1_234_567).to_string(), "T01R-1234567");
        assert_eq!(n("WQ7Z2K9D", 0).to_string(), "WQ7Z2K9D");
    }

    #[test]
    fn cash_change() {
        let s = settle(eur(2107), &[t(TenderKind::Cash, 5000)], CashRounding::NONE).unwrap();
        assert!(s.complete);
        assert_eq!(s.change.minor, 2893);
    }

    #[test]
    fn cash_rounding_applies_to_cash_only() {
        let r = CashRounding {
            increment: 5,
            direction: RoundingDirection::HalfUp,
        };
        let s = settle(eur(2107), &[t(TenderKind::Cash, 2105)], r).unwrap();
        assert!(s.complete, "2.107 rounds to 21.05 in cash");
        assert_eq!(s.rounding.minor, -2);
        let s = settle(eur(2107), &[t(TenderKind::Card, 2107)], r).unwrap();
        assert!(s.complete);
        assert_eq!(s.rounding.minor, 0);
    }

    #[test]
    fn split_card_then_cash() {
        let s = settle(
            eur(3000),
            &[t(TenderKind::Card, 1000), t(TenderKind::Cash, 2500)],
            CashRounding::NONE,
        )
        .unwrap();
        assert!(s.complete);
        assert_eq!(s.change.minor, 500);
        let s = settle(eur(3000), &[t(TenderKind::Card, 1000)], CashRounding::NONE).unwrap();
        assert!(!s.complete);
        assert_eq!(s.remaining.minor, 2000);
    }

    #[test]
    fn every_non_cash_tender_together_stops_at_the_total_and_change_is_cash() {
        use TenderKind::*;
        let r = CashRounding::NONE;
        // Gift card + store credit + account + card: exactly the total, no change.
        let all = [
            t(GiftCard, 500),
            t(StoreCredit, 700),
            t(Account, 300),
            t(Card, 500),
        ];
        let s = settle(eur(2000), &all, r).unwrap();
        assert!(s.complete);
        assert_eq!(s.change.minor, 0);
        // One cent more by any non-cash tender is refused, whichever it is.
        for kind in [GiftCard, StoreCredit, Account, Card] {
            let mut over = all.to_vec();
            over.push(t(kind, 1));
            assert_eq!(
                settle(eur(2000), &over, r),
                Err(CheckoutError::NonCashOverpaid)
            );
        }
        // Change comes only from cash: 15,00 € on a gift card, 10,00 € in cash on 20,00 €.
        let s = settle(eur(2000), &[t(GiftCard, 1500), t(Cash, 1000)], r).unwrap();
        assert!(s.complete);
        assert_eq!(s.change.minor, 500);
    }

    #[test]
    fn card_cannot_overpay() {
        assert_eq!(
            settle(eur(1000), &[t(TenderKind::Card, 1001)], CashRounding::NONE),
            Err(CheckoutError::NonCashOverpaid)
        );
    }
}
