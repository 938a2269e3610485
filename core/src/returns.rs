//! Returns: what may still be returned of a completed sale, what a return refunds, and the
//! immutable return document (Spain: *factura rectificativa simplificada*; Japan: 返品).
//!
//! Invariants:
//! * Never more than sold: a line's returnable quantity is what was sold minus what every
//!   earlier return of the sale took back (units, or grams for weighed lines).
//! * Cumulative pricing, so returns add up exactly: returning `q` of a line of `n` of which
//!   `r` were already returned refunds `amount(r + q) − amount(r)`, where `amount(k)` is the
//!   line's final amount (after its discount and its share of the order discount) times `k/n`
//!   rounded half up. The tax of each rate is likewise the tax engine's figure for everything
//!   returned so far minus its figure before this return. So the returns of a whole sale —
//!   in one go or in pieces — refund exactly the sale's total and exactly its tax per rate.
//! * Cash rounding is applied only to the part refunded in cash, like at the sale: a cash sale
//!   of 21,07 € paid with 21,05 € gets 21,05 € back; the difference is on the document.
//! * Refunds go to the original tenders by default ([`default_refunds`]): each original tender
//!   gets back at most what it paid less what earlier returns gave back to it; non-cash tenders
//!   first (in the order they were taken), cash last.
//! * A [`CompletedReturn`] is built only by [`CompletedReturn::build`] (or read back), and never
//!   changes. Amounts in it are magnitudes (positive); documents print them negative.
//!
//! No IO, no clock: ids and the time come from the caller.

use crate::cart::{CartError, MAX_GRAMS, MAX_UNITS, ProductRef, Quantity};
use crate::money::{Currency, MAX_MINOR, Money, div_round};
use crate::sale::{Cashier, CompletedSale, ReceiptNumber, TenderKind};
use crate::tax::{self, CashRounding, PriceMode, RoundingDirection, TaxBreakdown, TaxPolicy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// Why goods are written off instead of going back to stock.
pub const WRITE_OFF_REASONS: [&str; 5] = ["damaged", "expired", "defective", "opened", "other"];

/// What happens to a returned line's goods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Disposition {
    /// Back on the shelf: stock goes up.
    Restock,
    /// A loss (damaged, expired…): stock is unchanged, the loss is recorded with its reason.
    WriteOff { reason: String },
}

/// One line the customer brings back, by its position in the original sale (1-based).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnRequestLine {
    pub line_no: u32,
    /// Units, or grams for a weighed line.
    pub quantity: i64,
    pub disposition: Disposition,
}

/// One line of goods returned without a receipt (priced at today's catalog price).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreceiptedLine {
    pub product: ProductRef,
    pub quantity: Quantity,
    pub disposition: Disposition,
}

/// A returned line as it is on the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnedLine {
    /// The line's position in the original sale; None for a return without a receipt.
    pub sale_line_no: Option<u32>,
    pub product: ProductRef,
    pub quantity: Quantity,
    pub unit_price: Money,
    /// What this line refunds (magnitude), in the price mode (gross when tax-inclusive).
    pub amount: Money,
    pub disposition: Disposition,
}

/// A return priced but not refunded yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedReturn {
    pub currency: Currency,
    pub policy: TaxPolicy,
    pub lines: Vec<ReturnedLine>,
    /// Per rate, magnitudes; highest rate first.
    pub taxes: Vec<TaxBreakdown>,
    pub tax_total: Money,
    /// What the return refunds (exact, before cash rounding).
    pub total: Money,
}

/// One refund: where money goes back to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub kind: TenderKind,
    /// What goes back (for cash: what is handed out, after cash rounding).
    pub amount: Money,
    /// The original tender's position in the sale (1-based), when refunded to it.
    pub original_tender: Option<u32>,
    /// Masked gift-card number, "<customer id> <name>", the card refund's approval…
    pub reference: Option<String>,
    /// What identifies the original payment: the card transaction's terminal receipt and
    /// trace numbers, printed on the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_reference: Option<String>,
    /// The payment terminal's slip of a card refund, printed with the document.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slip: Vec<String>,
}

/// Which sale a return corrects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginalSale {
    pub id: Uuid,
    pub receipt: ReceiptNumber,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// What [`CompletedReturn::build`] needs besides the priced return and the refunds.
#[derive(Debug, Clone)]
pub struct ReturnContext {
    pub id: Uuid,
    pub number: ReceiptNumber,
    pub terminal_id: String,
    pub cashier: Cashier,
    /// Who approved (a manager's PIN), when the cashier could not do it alone.
    pub approved_by: Option<Cashier>,
    pub at: OffsetDateTime,
    pub cash_rounding: CashRounding,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReturnError {
    #[error("choose at least one line to return")]
    Empty,
    #[error("the sale has no line {0}")]
    NoSuchLine(u32),
    #[error("line {line_no}: only {remaining} can still be returned")]
    MoreThanReturnable { line_no: u32, remaining: i64 },
    #[error("a returned quantity must be positive")]
    NonPositive,
    #[error("line {0} is listed twice")]
    DuplicateLine(u32),
    #[error("say why goods are written off")]
    UnknownReason,
    /// A gift card sold (a voucher) is not returned like goods.
    #[error("line {0} cannot be returned")]
    NotReturnable(u32),
    #[error("the refunds add up to {found}, the return is {expected}")]
    RefundMismatch { expected: Money, found: Money },
    #[error("tender {position} can take back at most {available}")]
    TenderOverRefund { position: u32, available: Money },
    #[error("amount is in {found}, the return is in {expected}")]
    WrongCurrency { expected: Currency, found: Currency },
    #[error(transparent)]
    Cart(#[from] CartError),
}

fn magnitude(q: Quantity) -> i64 {
    match q {
        Quantity::Units(n) | Quantity::Grams(n) => n,
    }
}

fn check_disposition(d: &Disposition) -> Result<(), ReturnError> {
    match d {
        Disposition::Restock => Ok(()),
        Disposition::WriteOff { reason } if WRITE_OFF_REASONS.contains(&reason.as_str()) => Ok(()),
        Disposition::WriteOff { .. } => Err(ReturnError::UnknownReason),
    }
}

/// Reads a receipt's code as printed in its QR code ("T01-000123": series, dash, number).
/// Returns None for anything else (a garbled or foreign code).
pub fn parse_receipt_code(code: &str) -> Option<ReceiptNumber> {
    let code = code.trim();
    let (series, number) = code.rsplit_once('-')?;
    if series.is_empty()
        || number.is_empty()
        || number.len() > 12
        || !number.bytes().all(|b| b.is_ascii_digit())
        || !series
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    let number: u64 = number.parse().ok().filter(|n| *n > 0)?;
    Some(ReceiptNumber {
        series: series.to_owned(),
        number,
    })
}

/// What earlier returns took back, per sale line (1-based), summed.
pub fn returned_so_far<'a>(
    earlier: impl IntoIterator<Item = &'a CompletedReturn>,
) -> BTreeMap<u32, i64> {
    let mut out = BTreeMap::new();
    for r in earlier {
        for l in &r.lines {
            if let Some(no) = l.sale_line_no {
                *out.entry(no).or_insert(0) += magnitude(l.quantity);
            }
        }
    }
    out
}

/// What each line of the sale can still be returned (units or grams), by position.
pub fn returnable(sale: &CompletedSale, returned: &BTreeMap<u32, i64>) -> Vec<i64> {
    sale.lines()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if s.line.voucher.is_some() {
                return 0;
            }
            let done = returned.get(&(i as u32 + 1)).copied().unwrap_or(0);
            (magnitude(s.line.quantity) - done).max(0)
        })
        .collect()
}

/// The line's amount for `k` of its `n` units or grams (see the module doc).
fn amount_at(amount: i64, n: i64, k: i64) -> i64 {
    if n <= 0 || k >= n {
        return amount;
    }
    div_round(
        amount as i128 * k as i128,
        n as i128,
        RoundingDirection::HalfUp,
    ) as i64
}

/// Per-rate figures (tax, net, gross) by rate code.
fn rate_figures(
    policy: &TaxPolicy,
    currency: Currency,
    lines: &[(tax::TaxRate, i64)],
) -> Result<BTreeMap<String, TaxBreakdown>, ReturnError> {
    Ok(tax::breakdown(policy, currency, lines)
        .map_err(CartError::from)?
        .into_iter()
        .map(|b| (b.rate.code.clone(), b))
        .collect())
}

fn finish(
    currency: Currency,
    policy: TaxPolicy,
    lines: Vec<ReturnedLine>,
    before: &[(tax::TaxRate, i64)],
    after: &[(tax::TaxRate, i64)],
) -> Result<PricedReturn, ReturnError> {
    let b = rate_figures(&policy, currency, before)?;
    let a = rate_figures(&policy, currency, after)?;
    let mut taxes: Vec<TaxBreakdown> = Vec::new();
    for (code, fa) in &a {
        let (tb, nb, gb) = b
            .get(code)
            .map_or((0, 0, 0), |x| (x.tax.minor, x.net.minor, x.gross.minor));
        let gross = fa.gross.minor - gb;
        if gross == 0 && fa.tax.minor == tb {
            continue;
        }
        taxes.push(TaxBreakdown {
            rate: fa.rate.clone(),
            net: Money::new(fa.net.minor - nb, currency),
            tax: Money::new(fa.tax.minor - tb, currency),
            gross: Money::new(gross, currency),
        });
    }
    taxes.sort_by(|x, y| {
        y.rate
            .bps
            .cmp(&x.rate.bps)
            .then_with(|| x.rate.code.cmp(&y.rate.code))
    });
    let tax_total: i64 = taxes.iter().map(|t| t.tax.minor).sum();
    let total: i64 = taxes.iter().map(|t| t.gross.minor).sum();
    if total > MAX_MINOR {
        return Err(CartError::Overflow.into());
    }
    Ok(PricedReturn {
        currency,
        policy,
        lines,
        taxes,
        tax_total: Money::new(tax_total, currency),
        total: Money::new(total, currency),
    })
}

/// Prices a return of some lines of `sale`, given what earlier returns took back.
pub fn price_return(
    sale: &CompletedSale,
    returned: &BTreeMap<u32, i64>,
    request: &[ReturnRequestLine],
) -> Result<PricedReturn, ReturnError> {
    if request.is_empty() {
        return Err(ReturnError::Empty);
    }
    let remaining = returnable(sale, returned);
    let mut this: BTreeMap<u32, i64> = BTreeMap::new();
    let mut lines = Vec::with_capacity(request.len());
    for r in request {
        check_disposition(&r.disposition)?;
        let idx = r.line_no.checked_sub(1).ok_or(ReturnError::NoSuchLine(0))? as usize;
        let sold = sale
            .lines()
            .get(idx)
            .ok_or(ReturnError::NoSuchLine(r.line_no))?;
        if sold.line.voucher.is_some() {
            return Err(ReturnError::NotReturnable(r.line_no));
        }
        if r.quantity <= 0 {
            return Err(ReturnError::NonPositive);
        }
        if this.insert(r.line_no, r.quantity).is_some() {
            return Err(ReturnError::DuplicateLine(r.line_no));
        }
        if r.quantity > remaining[idx] {
            return Err(ReturnError::MoreThanReturnable {
                line_no: r.line_no,
                remaining: remaining[idx],
            });
        }
        let n = magnitude(sold.line.quantity);
        let done = returned.get(&r.line_no).copied().unwrap_or(0);
        let a = sold.total.amount.minor;
        let amount = amount_at(a, n, done + r.quantity) - amount_at(a, n, done);
        lines.push(ReturnedLine {
            sale_line_no: Some(r.line_no),
            product: sold.line.product.clone(),
            quantity: match sold.line.quantity {
                Quantity::Units(_) => Quantity::Units(r.quantity),
                Quantity::Grams(_) => Quantity::Grams(r.quantity),
            },
            unit_price: sold.line.unit_price,
            amount: Money::new(amount, sale.currency()),
            disposition: r.disposition.clone(),
        });
    }
    let mut before = Vec::with_capacity(sale.lines().len());
    let mut after = Vec::with_capacity(sale.lines().len());
    for (i, s) in sale.lines().iter().enumerate() {
        let no = i as u32 + 1;
        let n = magnitude(s.line.quantity);
        let done = returned.get(&no).copied().unwrap_or(0);
        let now = done + this.get(&no).copied().unwrap_or(0);
        let a = s.total.amount.minor;
        before.push((s.line.product.tax.clone(), amount_at(a, n, done)));
        after.push((s.line.product.tax.clone(), amount_at(a, n, now)));
    }
    finish(sale.currency(), *sale.policy(), lines, &before, &after)
}

/// Prices goods returned without a receipt at the given (catalog) prices.
pub fn price_unreceipted(
    currency: Currency,
    policy: TaxPolicy,
    items: &[UnreceiptedLine],
) -> Result<PricedReturn, ReturnError> {
    if items.is_empty() {
        return Err(ReturnError::Empty);
    }
    let mut lines = Vec::with_capacity(items.len());
    let mut after = Vec::with_capacity(items.len());
    for it in items {
        check_disposition(&it.disposition)?;
        let p = &it.product;
        if p.unit_price.currency != currency {
            return Err(ReturnError::WrongCurrency {
                expected: currency,
                found: p.unit_price.currency,
            });
        }
        let amount = match (p.by_weight, it.quantity) {
            (false, Quantity::Units(n)) if (1..=MAX_UNITS).contains(&n) => {
                p.unit_price.minor as i128 * n as i128
            }
            (true, Quantity::Grams(g)) if (1..=MAX_GRAMS).contains(&g) => div_round(
                p.unit_price.minor as i128 * g as i128,
                1000,
                RoundingDirection::HalfUp,
            ),
            (true, Quantity::Units(_)) => return Err(CartError::NeedsWeight.into()),
            (false, Quantity::Grams(_)) => return Err(CartError::NotByWeight.into()),
            _ => return Err(ReturnError::NonPositive),
        };
        if amount > MAX_MINOR as i128 {
            return Err(CartError::Overflow.into());
        }
        let amount = amount as i64;
        after.push((p.tax.clone(), amount));
        lines.push(ReturnedLine {
            sale_line_no: None,
            product: p.clone(),
            quantity: it.quantity,
            unit_price: p.unit_price,
            amount: Money::new(amount, currency),
            disposition: it.disposition.clone(),
        });
    }
    let before: Vec<_> = after.iter().map(|(r, _)| (r.clone(), 0)).collect();
    finish(currency, policy, lines, &before, &after)
}

/// What each original tender paid toward the sale's exact total, by position (1-based): a
/// non-cash tender its amount; cash the rest of the total (what it covered before rounding),
/// all on the first cash tender.
pub fn tender_contributions(sale: &CompletedSale) -> Vec<(u32, TenderKind, i64)> {
    let total = sale.totals().total.minor;
    let non_cash: i64 = sale
        .tenders()
        .iter()
        .filter(|t| t.kind != TenderKind::Cash)
        .map(|t| t.amount.minor)
        .sum();
    let mut cash_left = total - non_cash;
    sale.tenders()
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let paid = if t.kind == TenderKind::Cash {
                std::mem::take(&mut cash_left)
            } else {
                t.amount.minor
            };
            (i as u32 + 1, t.kind, paid)
        })
        .collect()
}

/// What each original tender already got back from earlier returns (exact amounts; cash before
/// rounding), by position.
pub fn refunded_so_far<'a>(
    earlier: impl IntoIterator<Item = &'a CompletedReturn>,
) -> BTreeMap<u32, i64> {
    let mut out = BTreeMap::new();
    for r in earlier {
        for f in &r.refunds {
            if let Some(p) = f.original_tender {
                let exact = if f.kind == TenderKind::Cash {
                    f.amount.minor - r.rounding.minor
                } else {
                    f.amount.minor
                };
                *out.entry(p).or_insert(0) += exact;
            }
        }
    }
    out
}

/// The default refund: back to the original tenders (see the module doc). Amounts are exact;
/// the cash one is rounded when the return is built. Returns (position, kind, amount) rows;
/// a part no tender can take (a sale refunded beyond its tenders cannot happen when the
/// return respects what is returnable) is put on the last tender.
pub fn default_refunds(
    sale: &CompletedSale,
    refunded: &BTreeMap<u32, i64>,
    total: Money,
) -> Vec<(u32, TenderKind, Money)> {
    let cur = total.currency;
    let mut order = tender_contributions(sale);
    order.sort_by_key(|(p, k, _)| (*k == TenderKind::Cash, *p));
    let mut left = total.minor;
    let mut out = Vec::new();
    for (pos, kind, paid) in &order {
        if left == 0 {
            break;
        }
        let cap = (paid - refunded.get(pos).copied().unwrap_or(0)).max(0);
        let take = cap.min(left);
        if take > 0 {
            out.push((*pos, *kind, Money::new(take, cur)));
            left -= take;
        }
    }
    if left > 0 {
        match out.last_mut() {
            Some(last) => last.2 = Money::new(last.2.minor + left, cur),
            None => {
                if let Some((pos, kind, _)) = order.last() {
                    out.push((*pos, *kind, Money::new(left, cur)));
                }
            }
        }
    }
    out
}

/// A completed return. Immutable: built only by [`CompletedReturn::build`] (or read back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedReturn {
    pub id: Uuid,
    /// Its own gap-free number (the terminal's return series).
    pub number: ReceiptNumber,
    /// The sale it corrects; None for a return without a receipt.
    pub original: Option<OriginalSale>,
    pub terminal_id: String,
    pub cashier: Cashier,
    pub approved_by: Option<Cashier>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub currency: Currency,
    pub policy: TaxPolicy,
    pub lines: Vec<ReturnedLine>,
    pub taxes: Vec<TaxBreakdown>,
    pub tax_total: Money,
    /// What the return refunds (exact).
    pub total: Money,
    pub refunds: Vec<Refund>,
    /// Cash rounding of the cash refund (signed: handed out − exact cash part).
    pub rounding: Money,
}

impl CompletedReturn {
    /// Freezes a priced return with its refunds. Refund amounts are exact; a cash refund is
    /// rounded here (at most one cash refund is kept: several are merged). The refunds must add
    /// up to the return's total, and a refund to an original tender may not exceed `caps`
    /// (position → what that tender can still take back).
    pub fn build(
        priced: PricedReturn,
        original: Option<OriginalSale>,
        refunds: Vec<Refund>,
        caps: &BTreeMap<u32, i64>,
        ctx: ReturnContext,
    ) -> Result<CompletedReturn, ReturnError> {
        let cur = priced.currency;
        let mut sum: i64 = 0;
        let mut per_tender: BTreeMap<u32, i64> = BTreeMap::new();
        let mut merged: Vec<Refund> = Vec::with_capacity(refunds.len());
        for r in refunds {
            if r.amount.currency != cur {
                return Err(ReturnError::WrongCurrency {
                    expected: cur,
                    found: r.amount.currency,
                });
            }
            if r.amount.minor <= 0 {
                return Err(ReturnError::NonPositive);
            }
            sum = sum.checked_add(r.amount.minor).ok_or(CartError::Overflow)?;
            if let Some(p) = r.original_tender {
                *per_tender.entry(p).or_insert(0) += r.amount.minor;
            }
            match merged
                .iter_mut()
                .find(|m| m.kind == TenderKind::Cash && r.kind == TenderKind::Cash)
            {
                Some(m) => m.amount = Money::new(m.amount.minor + r.amount.minor, cur),
                None => merged.push(r),
            }
        }
        if sum != priced.total.minor {
            return Err(ReturnError::RefundMismatch {
                expected: priced.total,
                found: Money::new(sum, cur),
            });
        }
        for (p, amount) in &per_tender {
            if let Some(cap) = caps.get(p)
                && amount > cap
            {
                return Err(ReturnError::TenderOverRefund {
                    position: *p,
                    available: Money::new(*cap, cur),
                });
            }
        }
        let mut rounding = 0;
        for m in merged.iter_mut().filter(|m| m.kind == TenderKind::Cash) {
            let paid = ctx.cash_rounding.round(m.amount.minor);
            rounding = paid - m.amount.minor;
            m.amount = Money::new(paid, cur);
        }
        merged.retain(|m| m.amount.minor > 0);
        Ok(CompletedReturn {
            id: ctx.id,
            number: ctx.number,
            original,
            terminal_id: ctx.terminal_id,
            cashier: ctx.cashier,
            approved_by: ctx.approved_by,
            at: ctx.at.to_offset(time::UtcOffset::UTC),
            currency: cur,
            policy: priced.policy,
            lines: priced.lines,
            taxes: priced.taxes,
            tax_total: priced.tax_total,
            total: priced.total,
            refunds: merged,
            rounding: Money::new(rounding, cur),
        })
    }

    /// Cash handed out.
    pub fn cash_refunded(&self) -> Money {
        Money::new(
            self.refunds
                .iter()
                .filter(|r| r.kind == TenderKind::Cash)
                .map(|r| r.amount.minor)
                .sum(),
            self.currency,
        )
    }

    /// Whether prices included tax.
    pub fn tax_inclusive(&self) -> bool {
        self.policy.price_mode == PriceMode::TaxInclusive
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::{Adjustment, Cart, Discount};
    use crate::sale::{SaleContext, Tender};
    use crate::tax::TaxRate;
    use time::macros::datetime;

    fn product(id: &str, price: i64, rate: TaxRate, cur: Currency) -> ProductRef {
        ProductRef {
            variant_id: id.into(),
            sku: id.into(),
            names: BTreeMap::from([("en".into(), id.to_owned())]),
            barcode: None,
            unit_price: Money::new(price, cur),
            tax: rate,
            by_weight: false,
        }
    }

    fn sale(cart: &Cart, tenders: Vec<Tender>, rounding: CashRounding) -> CompletedSale {
        cart.complete(
            tenders,
            SaleContext {
                id: Uuid::nil(),
                receipt: ReceiptNumber {
                    series: "T01".into(),
                    number: 7,
                },
                terminal_id: "T01".into(),
                cashier: Cashier {
                    id: "u".into(),
                    name: "Ana".into(),
                },
                at: datetime!(2026-03-02 10:00 UTC),
                cash_rounding: rounding,
            },
        )
        .unwrap()
    }

    fn ctx(n: u64, rounding: CashRounding) -> ReturnContext {
        ReturnContext {
            id: Uuid::from_u128(n as u128),
            number: ReceiptNumber {
                series: "T01R".into(),
                number: n,
            },
            terminal_id: "T01".into(),
            cashier: Cashier {
                id: "u".into(),
                name: "Ana".into(),
            },
            approved_by: None,
            at: datetime!(2026-03-03 10:00 UTC),
            cash_rounding: rounding,
        }
    }

    fn line(no: u32, q: i64) -> ReturnRequestLine {
        ReturnRequestLine {
            line_no: no,
            quantity: q,
            disposition: Disposition::Restock,
        }
    }

    /// Returns `pieces` one after another with default refunds; returns the documents.
    fn return_in_pieces(
        s: &CompletedSale,
        pieces: &[Vec<ReturnRequestLine>],
        rounding: CashRounding,
    ) -> Vec<CompletedReturn> {
        let mut done: Vec<CompletedReturn> = Vec::new();
        for (i, req) in pieces.iter().enumerate() {
            let priced = price_return(s, &returned_so_far(&done), req).unwrap();
            let refunded = refunded_so_far(&done);
            let refunds = default_refunds(s, &refunded, priced.total)
                .into_iter()
                .map(|(p, k, m)| Refund {
                    kind: k,
                    amount: m,
                    original_tender: Some(p),
                    reference: None,
                    original_reference: None,
                    slip: Vec::new(),
                })
                .collect();
            let caps = tender_contributions(s)
                .into_iter()
                .map(|(p, _, paid)| (p, paid - refunded.get(&p).copied().unwrap_or(0)))
                .collect();
            done.push(
                CompletedReturn::build(priced, None, refunds, &caps, ctx(i as u64 + 1, rounding))
                    .unwrap(),
            );
        }
        done
    }

    #[test]
    fn returning_a_whole_discounted_sale_in_pieces_refunds_exactly_its_total_and_tax() {
        let iva21 = TaxRate::new("ES-IVA-21", 2100, false);
        let iva4 = TaxRate::new("ES-IVA-4", 400, true);
        let mut c = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
        c.add(product("milk", 99, iva4, Currency::Eur), Quantity::Units(3))
            .unwrap();
        c.add(
            product("shirt", 1999, iva21, Currency::Eur),
            Quantity::Units(2),
        )
        .unwrap();
        c.set_order_discount(Some(Adjustment {
            discount: Discount::Percent { bps: 700 },
            reason: None,
            approved_by: None,
        }))
        .unwrap();
        let s = sale(
            &c,
            vec![Tender {
                kind: TenderKind::Cash,
                amount: Money::new(5000, Currency::Eur),
                reference: None,
            }],
            CashRounding::NONE,
        );
        let pieces = vec![
            vec![line(1, 1)],
            vec![line(2, 1), line(1, 1)],
            vec![line(1, 1), line(2, 1)],
        ];
        let done = return_in_pieces(&s, &pieces, CashRounding::NONE);
        let total: i64 = done.iter().map(|r| r.total.minor).sum();
        assert_eq!(
            total,
            s.totals().total.minor,
            "the pieces add up to the sale"
        );
        for t in &s.totals().taxes {
            let back: i64 = done
                .iter()
                .flat_map(|r| &r.taxes)
                .filter(|x| x.rate == t.rate)
                .map(|x| x.tax.minor)
                .sum();
            assert_eq!(
                back, t.tax.minor,
                "tax of {} comes back exactly",
                t.rate.code
            );
        }
        // Nothing is left to return, and one more unit is refused.
        let returned = returned_so_far(&done);
        assert_eq!(returnable(&s, &returned), vec![0, 0]);
        assert_eq!(
            price_return(&s, &returned, &[line(1, 1)]),
            Err(ReturnError::MoreThanReturnable {
                line_no: 1,
                remaining: 0
            })
        );
    }

    #[test]
    fn a_whole_return_in_one_go_equals_the_sale_in_japan() {
        let jp8 = TaxRate::new("JP-8", 800, true);
        let jp10 = TaxRate::new("JP-10", 1000, false);
        let mut c = Cart::new(Currency::Jpy, TaxPolicy::JAPAN);
        c.add(
            product("onigiri", 105, jp8, Currency::Jpy),
            Quantity::Units(3),
        )
        .unwrap();
        c.add(product("pen", 626, jp10, Currency::Jpy), Quantity::Units(1))
            .unwrap();
        let s = sale(
            &c,
            vec![Tender {
                kind: TenderKind::Card,
                amount: Money::new(941, Currency::Jpy),
                reference: None,
            }],
            CashRounding::NONE,
        );
        let done = return_in_pieces(&s, &[vec![line(1, 3), line(2, 1)]], CashRounding::NONE);
        assert_eq!(done[0].total, s.totals().total);
        assert_eq!(done[0].taxes, s.totals().taxes);
        assert_eq!(done[0].refunds[0].kind, TenderKind::Card);
        assert_eq!(done[0].refunds[0].amount.minor, 941);
    }

    #[test]
    fn cash_rounding_gives_back_what_was_paid_in_cash() {
        let iva21 = TaxRate::new("ES-IVA-21", 2100, false);
        let r5 = CashRounding {
            increment: 5,
            direction: RoundingDirection::HalfUp,
        };
        let mut c = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
        c.add(product("a", 2107, iva21, Currency::Eur), Quantity::Units(1))
            .unwrap();
        let s = sale(
            &c,
            vec![Tender {
                kind: TenderKind::Cash,
                amount: Money::new(2105, Currency::Eur),
                reference: None,
            }],
            r5,
        );
        assert_eq!(s.amount_paid().minor, 2105);
        let done = return_in_pieces(&s, &[vec![line(1, 1)]], r5);
        assert_eq!(done[0].total.minor, 2107, "the document is exact");
        assert_eq!(
            done[0].cash_refunded().minor,
            2105,
            "cash back is what was paid"
        );
        assert_eq!(done[0].rounding.minor, -2);
    }

    #[test]
    fn split_tenders_get_back_what_they_paid_non_cash_first() {
        let iva21 = TaxRate::new("ES-IVA-21", 2100, false);
        let mut c = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
        c.add(product("a", 1000, iva21, Currency::Eur), Quantity::Units(3))
            .unwrap();
        let s = sale(
            &c,
            vec![
                Tender {
                    kind: TenderKind::Cash,
                    amount: Money::new(2000, Currency::Eur),
                    reference: None,
                },
                Tender {
                    kind: TenderKind::GiftCard,
                    amount: Money::new(1500, Currency::Eur),
                    reference: None,
                },
            ],
            CashRounding::NONE,
        );
        // Cash paid 15,00 of the 30,00 (20,00 handed over, 5,00 change).
        let done = return_in_pieces(
            &s,
            &[vec![line(1, 2)], vec![line(1, 1)]],
            CashRounding::NONE,
        );
        assert_eq!(done[0].refunds.len(), 2);
        assert_eq!(
            (done[0].refunds[0].kind, done[0].refunds[0].amount.minor),
            (TenderKind::GiftCard, 1500)
        );
        assert_eq!(
            (done[0].refunds[1].kind, done[0].refunds[1].amount.minor),
            (TenderKind::Cash, 500)
        );
        assert_eq!(done[1].refunds[0].kind, TenderKind::Cash);
        assert_eq!(done[1].refunds[0].amount.minor, 1000);
    }

    #[test]
    fn weighed_lines_return_by_weight_and_bad_requests_are_refused() {
        let iva4 = TaxRate::new("ES-IVA-4", 400, true);
        let mut apples = product("apples", 249, iva4, Currency::Eur);
        apples.by_weight = true;
        let mut c = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
        c.add(apples, Quantity::Grams(1234)).unwrap();
        let s = sale(
            &c,
            vec![Tender {
                kind: TenderKind::Card,
                amount: Money::new(307, Currency::Eur),
                reference: None,
            }],
            CashRounding::NONE,
        );
        let p = price_return(&s, &BTreeMap::new(), &[line(1, 500)]).unwrap();
        assert_eq!(p.lines[0].quantity, Quantity::Grams(500));
        assert_eq!(p.total.minor, 124, "307 × 500/1234 = 124.4");
        assert_eq!(
            price_return(&s, &BTreeMap::new(), &[line(1, 1235)]),
            Err(ReturnError::MoreThanReturnable {
                line_no: 1,
                remaining: 1234
            })
        );
        assert_eq!(
            price_return(&s, &BTreeMap::new(), &[line(2, 1)]),
            Err(ReturnError::NoSuchLine(2))
        );
        assert_eq!(
            price_return(&s, &BTreeMap::new(), &[line(1, 1), line(1, 1)]),
            Err(ReturnError::DuplicateLine(1))
        );
        let bad = ReturnRequestLine {
            line_no: 1,
            quantity: 1,
            disposition: Disposition::WriteOff {
                reason: "because".into(),
            },
        };
        assert_eq!(
            price_return(&s, &BTreeMap::new(), &[bad]),
            Err(ReturnError::UnknownReason)
        );
    }

    #[test]
    fn refunds_must_add_up_and_stay_within_each_tender() {
        let iva21 = TaxRate::new("ES-IVA-21", 2100, false);
        let mut c = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
        c.add(product("a", 1000, iva21, Currency::Eur), Quantity::Units(1))
            .unwrap();
        let s = sale(
            &c,
            vec![Tender {
                kind: TenderKind::Card,
                amount: Money::new(1000, Currency::Eur),
                reference: None,
            }],
            CashRounding::NONE,
        );
        let priced = price_return(&s, &BTreeMap::new(), &[line(1, 1)]).unwrap();
        let caps = BTreeMap::from([(1, 900)]);
        let refund = |m: i64, p: Option<u32>| Refund {
            kind: TenderKind::Card,
            amount: Money::new(m, Currency::Eur),
            original_tender: p,
            reference: None,
            original_reference: None,
            slip: Vec::new(),
        };
        assert!(matches!(
            CompletedReturn::build(
                priced.clone(),
                None,
                vec![refund(999, Some(1))],
                &caps,
                ctx(1, CashRounding::NONE)
            ),
            Err(ReturnError::RefundMismatch { .. })
        ));
        assert!(matches!(
            CompletedReturn::build(
                priced,
                None,
                vec![refund(1000, Some(1))],
                &caps,
                ctx(1, CashRounding::NONE)
            ),
            Err(ReturnError::TenderOverRefund { position: 1, .. })
        ));
    }

    #[test]
    fn receipt_codes_read_back_and_garbage_is_refused() {
        let r = ReceiptNumber {
            series: "T01".into(),
            number: 123,
        };
        assert_eq!(parse_receipt_code(&r.to_string()), Some(r));
        assert_eq!(
            parse_receipt_code(" SHOP-2-000009 ").map(|r| (r.series, r.number)),
            Some(("SHOP-2".into(), 9))
        );
        for bad in [
            "",
            "T01",
            "T01-",
            "-000001",
            "T01-00x001",
            "T01-000000",
            "T 1-000001",
        ] {
            assert_eq!(parse_receipt_code(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn without_a_receipt_goods_are_priced_at_the_given_price() {
        let iva21 = TaxRate::new("ES-IVA-21", 2100, false);
        let p = price_unreceipted(
            Currency::Eur,
            TaxPolicy::SPAIN,
            &[UnreceiptedLine {
                product: product("a", 1999, iva21, Currency::Eur),
                quantity: Quantity::Units(2),
                disposition: Disposition::WriteOff {
                    reason: "damaged".into(),
                },
            }],
        )
        .unwrap();
        assert_eq!(p.total.minor, 3998);
        assert_eq!(p.taxes[0].tax.minor, 694, "39,98 × 21/121 = 6,938");
        assert_eq!(p.lines[0].sale_line_no, None);
    }
}
