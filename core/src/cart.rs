//! The cart: lines, quantities or weights, discounts, price overrides and the totals.
//!
//! Every operation is all-or-nothing: it is applied to a copy, the totals of the copy are
//! computed (which checks every amount for overflow), and only then does the copy replace the
//! cart. A refused operation leaves the cart exactly as it was.
//!
//! Permission checks are the caller's: the cart records who approved a discount or an
//! override, it does not decide who may.

use crate::money::{Currency, MAX_MINOR, Money, MoneyError, div_round};
use crate::tax::{self, PriceMode, RoundingDirection, TaxBreakdown, TaxPolicy, TaxRate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most units one line may hold; more is taken as a keying error (a barcode typed into the
/// quantity field, say).
pub const MAX_UNITS: i64 = 9_999;
/// The most grams one weighed line may hold (100 kg).
pub const MAX_GRAMS: i64 = 100_000;
/// The most lines one sale may hold.
pub const MAX_LINES: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LineId(pub u32);

/// What the cart needs to know about a product, snapshotted when the line is added: later
/// catalog changes never alter a line already rung up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductRef {
    pub variant_id: String,
    pub sku: String,
    /// Names by language tag ("en", "es", "ja").
    pub names: BTreeMap<String, String>,
    pub barcode: Option<String>,
    /// Price per unit, or per kilogram when `by_weight`.
    pub unit_price: Money,
    pub tax: TaxRate,
    pub by_weight: bool,
}

impl ProductRef {
    /// The name in `lang`, else English, else any name, else the SKU.
    pub fn name(&self, lang: &str) -> &str {
        self.names
            .get(lang)
            .or_else(|| self.names.get("en"))
            .or_else(|| self.names.values().next())
            .map(String::as_str)
            .unwrap_or(&self.sku)
    }
}

/// How much of a product a line holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Quantity {
    Units(i64),
    Grams(i64),
}

/// A discount: a percentage in basis points, or an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Discount {
    Percent { bps: u32 },
    Amount { amount: Money },
}

/// A discount as granted: the amount rule, why, and who approved it when approval was needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    pub discount: Discount,
    pub reason: Option<String>,
    pub approved_by: Option<String>,
}

/// Where a line's unit price came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PriceSource {
    Catalog,
    /// Printed into a variable-measure barcode by the scale.
    Embedded,
    /// Overridden at the till.
    Override {
        original: Money,
        reason: Option<String>,
        approved_by: Option<String>,
    },
}

/// What a stored-value line sells: a gift card issued or topped up. It is a multi-purpose
/// voucher: no tax on it now (tax is due when it is spent), no stock, not discountable, and
/// not a product line for the web shop. Its amount is the line's unit price (quantity 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Voucher {
    pub kind: VoucherKind,
    /// The card's number (normalized).
    pub number: String,
    /// The number was generated at the till: the receipt prints it as a barcode (it is the
    /// card). A physical card's number is only shown masked.
    #[serde(default)]
    pub print_code: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoucherKind {
    /// A new card with this first balance.
    Issue,
    /// More money on an existing card.
    TopUp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub id: LineId,
    pub product: ProductRef,
    pub quantity: Quantity,
    /// The unit (or per-kg) price in effect: the catalog price unless overridden or embedded.
    pub unit_price: Money,
    pub price_source: PriceSource,
    pub discount: Option<Adjustment>,
    pub note: Option<String>,
    /// Set on a gift card sold or topped up (see [`Voucher`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher: Option<Voucher>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CartError {
    #[error("quantity must be between 1 and {max}")]
    QuantityOutOfRange { max: i64 },
    #[error("weight must be between 1 g and {max} g")]
    WeightOutOfRange { max: i64 },
    #[error("this product is sold by weight")]
    NeedsWeight,
    #[error("this product is not sold by weight")]
    NotByWeight,
    #[error("no line {0}")]
    NoSuchLine(u32),
    #[error("the sale already has {0} lines")]
    TooManyLines(usize),
    #[error("a price cannot be negative")]
    NegativePrice,
    #[error("a discount cannot exceed what it applies to")]
    DiscountTooLarge,
    #[error("a percentage discount must be between 0 and 100 %")]
    PercentOutOfRange,
    #[error("amount out of range")]
    Overflow,
    #[error("amount is in {found}, the sale is in {expected}")]
    WrongCurrency { expected: Currency, found: Currency },
    /// Discounts, overrides and quantities do not apply to a gift card sold.
    #[error("a gift card line cannot be discounted or changed")]
    VoucherFixed,
}

impl From<MoneyError> for CartError {
    fn from(e: MoneyError) -> Self {
        match e {
            MoneyError::CurrencyMismatch(expected, found) => {
                CartError::WrongCurrency { expected, found }
            }
            _ => CartError::Overflow,
        }
    }
}

/// One line's figures, in the store's price mode (gross for inclusive, net for exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineTotal {
    pub id: LineId,
    /// Unit price × quantity (or × kg).
    pub extended: Money,
    pub line_discount: Money,
    /// This line's share of the order discount.
    pub order_discount: Money,
    /// What the line finally costs: extended − both discounts.
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub lines: Vec<LineTotal>,
    /// Sum of `extended`, before any discount.
    pub items: Money,
    /// Sum of line discounts and the order discount.
    pub discounts: Money,
    /// Sum of line amounts after all discounts, in the price mode.
    pub subtotal: Money,
    pub taxes: Vec<TaxBreakdown>,
    pub tax_total: Money,
    /// What the customer owes (before cash rounding).
    pub total: Money,
}

/// The customer a sale is made for, snapshotted when attached (the receipt shows the name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleCustomer {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    currency: Currency,
    policy: TaxPolicy,
    lines: Vec<CartLine>,
    next_line: u32,
    order_discount: Option<Adjustment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    customer: Option<SaleCustomer>,
}

impl Cart {
    pub fn new(currency: Currency, policy: TaxPolicy) -> Self {
        Cart {
            currency,
            policy,
            lines: Vec::new(),
            next_line: 1,
            order_discount: None,
            customer: None,
        }
    }

    /// The customer attached to the sale, if any.
    pub fn customer(&self) -> Option<&SaleCustomer> {
        self.customer.as_ref()
    }
    /// Attaches a customer to the sale (None detaches).
    pub fn set_customer(&mut self, customer: Option<SaleCustomer>) {
        self.customer = customer;
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }
    pub fn policy(&self) -> &TaxPolicy {
        &self.policy
    }
    pub fn lines(&self) -> &[CartLine] {
        &self.lines
    }
    pub fn line(&self, id: LineId) -> Option<&CartLine> {
        self.lines.iter().find(|l| l.id == id)
    }
    pub fn order_discount(&self) -> Option<&Adjustment> {
        self.order_discount.as_ref()
    }
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Applies `op` to a copy and keeps the copy only if it is valid and its totals compute.
    fn transact<T>(
        &mut self,
        op: impl FnOnce(&mut Cart) -> Result<T, CartError>,
    ) -> Result<T, CartError> {
        let mut next = self.clone();
        let out = op(&mut next)?;
        next.totals()?;
        *self = next;
        Ok(out)
    }

    fn line_mut(&mut self, id: LineId) -> Result<&mut CartLine, CartError> {
        self.lines
            .iter_mut()
            .find(|l| l.id == id)
            .ok_or(CartError::NoSuchLine(id.0))
    }

    fn check_quantity(product: &ProductRef, q: Quantity) -> Result<(), CartError> {
        match (product.by_weight, q) {
            (false, Quantity::Units(n)) if (1..=MAX_UNITS).contains(&n) => Ok(()),
            (false, Quantity::Units(_)) => Err(CartError::QuantityOutOfRange { max: MAX_UNITS }),
            (true, Quantity::Grams(g)) if (1..=MAX_GRAMS).contains(&g) => Ok(()),
            (true, Quantity::Grams(_)) => Err(CartError::WeightOutOfRange { max: MAX_GRAMS }),
            (true, Quantity::Units(_)) => Err(CartError::NeedsWeight),
            (false, Quantity::Grams(_)) => Err(CartError::NotByWeight),
        }
    }

    fn check_money(&self, m: Money) -> Result<(), CartError> {
        if m.currency != self.currency {
            return Err(CartError::WrongCurrency {
                expected: self.currency,
                found: m.currency,
            });
        }
        if m.minor < 0 {
            return Err(CartError::NegativePrice);
        }
        if m.minor > MAX_MINOR {
            return Err(CartError::Overflow);
        }
        Ok(())
    }

    /// Adds a product. Scanning a unit-priced product already in the cart (same price, no
    /// discount) raises that line's quantity instead of adding a second line; weighed items and
    /// embedded-price labels always get their own line. Returns the line that changed.
    pub fn add(&mut self, product: ProductRef, quantity: Quantity) -> Result<LineId, CartError> {
        self.add_priced(product, quantity, None)
    }

    /// Adds a variable-measure label whose barcode carried the price.
    pub fn add_embedded_price(
        &mut self,
        product: ProductRef,
        price: Money,
    ) -> Result<LineId, CartError> {
        self.check_money(price)?;
        let mut p = product;
        p.by_weight = false;
        self.add_priced(p, Quantity::Units(1), Some(price))
    }

    fn add_priced(
        &mut self,
        product: ProductRef,
        quantity: Quantity,
        embedded: Option<Money>,
    ) -> Result<LineId, CartError> {
        Self::check_quantity(&product, quantity)?;
        self.check_money(product.unit_price)?;
        self.transact(|c| {
            if embedded.is_none()
                && let Quantity::Units(n) = quantity
                && let Some(line) = c.lines.iter_mut().rev().find(|l| {
                    l.product.variant_id == product.variant_id
                        && l.price_source == PriceSource::Catalog
                        && l.discount.is_none()
                        && l.unit_price == product.unit_price
                        && matches!(l.quantity, Quantity::Units(_))
                })
            {
                let Quantity::Units(have) = line.quantity else {
                    unreachable!()
                };
                let sum = have + n;
                if sum > MAX_UNITS {
                    return Err(CartError::QuantityOutOfRange { max: MAX_UNITS });
                }
                line.quantity = Quantity::Units(sum);
                return Ok(line.id);
            }
            if c.lines.len() >= MAX_LINES {
                return Err(CartError::TooManyLines(MAX_LINES));
            }
            let id = LineId(c.next_line);
            c.next_line += 1;
            let (unit_price, price_source) = match embedded {
                Some(p) => (p, PriceSource::Embedded),
                None => (product.unit_price, PriceSource::Catalog),
            };
            c.lines.push(CartLine {
                id,
                product,
                quantity,
                unit_price,
                price_source,
                discount: None,
                note: None,
                voucher: None,
            });
            Ok(id)
        })
    }

    /// Adds a gift card sold (issued or topped up) for `amount`: always its own line, quantity
    /// 1, untaxed (see [`Voucher`]). `product` names the line; its tax rate is not used.
    pub fn add_voucher(
        &mut self,
        product: ProductRef,
        voucher: Voucher,
        amount: Money,
    ) -> Result<LineId, CartError> {
        self.check_money(amount)?;
        if amount.minor == 0 {
            return Err(CartError::NegativePrice);
        }
        self.transact(|c| {
            if c.lines.len() >= MAX_LINES {
                return Err(CartError::TooManyLines(MAX_LINES));
            }
            let id = LineId(c.next_line);
            c.next_line += 1;
            c.lines.push(CartLine {
                id,
                product: ProductRef {
                    unit_price: amount,
                    by_weight: false,
                    ..product
                },
                quantity: Quantity::Units(1),
                unit_price: amount,
                price_source: PriceSource::Catalog,
                discount: None,
                note: None,
                voucher: Some(voucher),
            });
            Ok(id)
        })
    }

    fn refuse_voucher(&self, id: LineId) -> Result<(), CartError> {
        match self.line(id) {
            Some(l) if l.voucher.is_some() => Err(CartError::VoucherFixed),
            _ => Ok(()),
        }
    }

    pub fn set_quantity(&mut self, id: LineId, quantity: Quantity) -> Result<(), CartError> {
        self.refuse_voucher(id)?;
        self.transact(|c| {
            let line = c.line_mut(id)?;
            Self::check_quantity(&line.product, quantity)?;
            line.quantity = quantity;
            Ok(())
        })
    }

    pub fn remove(&mut self, id: LineId) -> Result<CartLine, CartError> {
        self.transact(|c| {
            let pos = c
                .lines
                .iter()
                .position(|l| l.id == id)
                .ok_or(CartError::NoSuchLine(id.0))?;
            Ok(c.lines.remove(pos))
        })
    }

    pub fn set_note(&mut self, id: LineId, note: Option<String>) -> Result<(), CartError> {
        self.transact(|c| {
            c.line_mut(id)?.note = note.filter(|n| !n.trim().is_empty());
            Ok(())
        })
    }

    fn check_discount(&self, d: &Discount) -> Result<(), CartError> {
        match d {
            Discount::Percent { bps } if *bps > 10_000 => Err(CartError::PercentOutOfRange),
            Discount::Percent { .. } => Ok(()),
            Discount::Amount { amount } => self.check_money(*amount),
        }
    }

    pub fn set_line_discount(
        &mut self,
        id: LineId,
        adj: Option<Adjustment>,
    ) -> Result<(), CartError> {
        if let Some(a) = &adj {
            self.check_discount(&a.discount)?;
            self.refuse_voucher(id)?;
        }
        self.transact(|c| {
            c.line_mut(id)?.discount = adj;
            Ok(())
        })
    }

    pub fn set_order_discount(&mut self, adj: Option<Adjustment>) -> Result<(), CartError> {
        if let Some(a) = &adj {
            self.check_discount(&a.discount)?;
        }
        self.transact(|c| {
            c.order_discount = adj;
            Ok(())
        })
    }

    pub fn override_price(
        &mut self,
        id: LineId,
        price: Money,
        reason: Option<String>,
        approved_by: Option<String>,
    ) -> Result<(), CartError> {
        self.check_money(price)?;
        self.refuse_voucher(id)?;
        self.transact(|c| {
            let line = c.line_mut(id)?;
            let original = match &line.price_source {
                PriceSource::Override { original, .. } => *original,
                _ => line.unit_price,
            };
            line.unit_price = price;
            line.price_source = PriceSource::Override {
                original,
                reason,
                approved_by,
            };
            Ok(())
        })
    }

    /// Unit price × quantity; weighed lines are priced per kilogram and rounded half up to the
    /// minor unit.
    fn extended(line: &CartLine) -> Result<i64, CartError> {
        let p = line.unit_price.minor as i128;
        let v = match line.quantity {
            Quantity::Units(n) => p * n as i128,
            Quantity::Grams(g) => div_round(p * g as i128, 1000, RoundingDirection::HalfUp),
        };
        if v.abs() > MAX_MINOR as i128 {
            return Err(CartError::Overflow);
        }
        Ok(v as i64)
    }

    fn discount_amount(d: &Discount, base: i64) -> Result<i64, CartError> {
        let v = match d {
            Discount::Percent { bps } => div_round(
                base as i128 * *bps as i128,
                10_000,
                RoundingDirection::HalfUp,
            ) as i64,
            Discount::Amount { amount } => amount.minor,
        };
        if v > base {
            return Err(CartError::DiscountTooLarge);
        }
        Ok(v)
    }

    /// All the figures of the cart. Errors only when an amount would leave the allowed range
    /// or a discount exceeds what it applies to (which `transact` then refuses).
    pub fn totals(&self) -> Result<Totals, CartError> {
        let cur = self.currency;
        let mut partial = Vec::with_capacity(self.lines.len());
        let mut items: i64 = 0;
        let mut after_line: i64 = 0;
        // What an order discount applies to: everything but gift cards sold.
        let mut discountable: i64 = 0;
        for l in &self.lines {
            let ext = Self::extended(l)?;
            let ld = match &l.discount {
                Some(a) => Self::discount_amount(&a.discount, ext)?,
                None => 0,
            };
            items = items.checked_add(ext).ok_or(CartError::Overflow)?;
            after_line = after_line
                .checked_add(ext - ld)
                .ok_or(CartError::Overflow)?;
            if l.voucher.is_none() {
                discountable += ext - ld;
            }
            partial.push((l, ext, ld));
        }
        if items > MAX_MINOR {
            return Err(CartError::Overflow);
        }
        let order_disc = match &self.order_discount {
            Some(a) => Self::discount_amount(&a.discount, discountable)?,
            None => 0,
        };
        let shares = allocate(
            order_disc,
            &partial
                .iter()
                .map(|(l, e, d)| if l.voucher.is_some() { 0 } else { e - d })
                .collect::<Vec<_>>(),
        );
        let mut lines = Vec::with_capacity(partial.len());
        let mut taxable = Vec::with_capacity(partial.len());
        for ((l, ext, ld), share) in partial.into_iter().zip(shares) {
            let amount = ext - ld - share;
            // A gift card sold is not a taxable supply (tax is due when it is spent).
            if l.voucher.is_none() {
                taxable.push((l.product.tax.clone(), amount));
            }
            lines.push(LineTotal {
                id: l.id,
                extended: Money::new(ext, cur),
                line_discount: Money::new(ld, cur),
                order_discount: Money::new(share, cur),
                amount: Money::new(amount, cur),
            });
        }
        let subtotal = after_line - order_disc;
        let taxes = tax::breakdown(&self.policy, cur, &taxable)?;
        let tax_total: i64 = taxes.iter().map(|t| t.tax.minor).sum();
        let total = match self.policy.price_mode {
            PriceMode::TaxInclusive => subtotal,
            PriceMode::TaxExclusive => {
                subtotal.checked_add(tax_total).ok_or(CartError::Overflow)?
            }
        };
        if total > MAX_MINOR {
            return Err(CartError::Overflow);
        }
        Ok(Totals {
            lines,
            items: Money::new(items, cur),
            discounts: Money::new(items - subtotal, cur),
            subtotal: Money::new(subtotal, cur),
            taxes,
            tax_total: Money::new(tax_total, cur),
            total: Money::new(total, cur),
        })
    }
}

/// Splits `amount` over `weights` in proportion, by largest remainder, so the parts add up to
/// `amount` exactly and no part exceeds its weight (when `amount` ≤ Σ weights).
pub fn allocate(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|w| *w as i128).sum();
    if amount == 0 || total <= 0 {
        return vec![0; weights.len()];
    }
    let mut parts: Vec<i64> = Vec::with_capacity(weights.len());
    let mut rems: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let num = amount as i128 * *w as i128;
        parts.push((num / total) as i64);
        rems.push((num % total, i));
    }
    let mut left = amount - parts.iter().sum::<i64>();
    rems.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rems {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: &str, price: i64, rate: TaxRate) -> ProductRef {
        ProductRef {
            variant_id: id.into(),
            sku: id.into(),
            names: BTreeMap::from([("en".into(), format!("Item {id}"))]),
            barcode: None,
            unit_price: Money::new(price, Currency::Eur),
            tax: rate,
            by_weight: false,
        }
    }
    fn iva21() -> TaxRate {
        TaxRate::new("ES-IVA-21", 2100, false)
    }
    fn iva4() -> TaxRate {
        TaxRate::new("ES-IVA-4", 400, true)
    }

    #[test]
    fn scanning_the_same_item_twice_raises_its_quantity() {
        let mut c = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
        let a = c
            .add(product("a", 199, iva4()), Quantity::Units(1))
            .unwrap();
        let b = c
            .add(product("a", 199, iva4()), Quantity::Units(1))
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(c.lines().len(), 1);
        assert_eq!(c.totals().unwrap().total.minor, 398);
    }

    #[test]
    fn totals_split_per_rate_and_add_up() {
        let mut c = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
        c.add(product("milk", 99, iva4()), Quantity::Units(2))
            .unwrap();
        c.add(product("shirt", 1999, iva21()), Quantity::Units(1))
            .unwrap();
        let t = c.totals().unwrap();
        assert_eq!(t.total.minor, 2197);
        assert_eq!(t.taxes.len(), 2);
        assert_eq!(t.taxes.iter().map(|x| x.gross.minor).sum::<i64>(), 2197);
        assert_eq!(t.tax_total.minor, 347 + 8);
    }

    #[test]
    fn bad_quantities_are_refused_and_the_cart_is_untouched() {
        let mut c = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
        let id = c
            .add(product("a", 100, iva21()), Quantity::Units(1))
            .unwrap();
        let before = c.clone();
        assert_eq!(
            c.set_quantity(id, Quantity::Units(0)),
            Err(CartError::QuantityOutOfRange { max: MAX_UNITS })
        );
        assert_eq!(
            c.set_quantity(id, Quantity::Units(4_006_381_333_931)),
            Err(CartError::QuantityOutOfRange { max: MAX_UNITS })
        );
        assert_eq!(
            c.set_quantity(id, Quantity::Grams(5)),
            Err(CartError::NotByWeight)
        );
        assert_eq!(c, before);
    }

    #[test]
    fn a_total_that_would_overflow_is_refused() {
        let mut c = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
        let id = c
            .add(
                product("gold", 9_000_000_000_000, iva21()),
                Quantity::Units(1),
            )
            .unwrap();
        let before = c.clone();
        assert_eq!(
            c.set_quantity(id, Quantity::Units(2)),
            Err(CartError::Overflow)
        );
        assert_eq!(
            c.add(
                product("gold2", 9_000_000_000_000, iva21()),
                Quantity::Units(1)
            ),
            Err(CartError::Overflow)
        );
        assert_eq!(c, before);
        assert_eq!(
            c.add(product("x", MAX_MINOR + 1, iva21()), Quantity::Units(1)),
            Err(CartError::Overflow)
        );
    }

    #[test]
    fn weighed_items_price_per_kilo() {
        let mut c = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
        let mut apples = product("apples", 249, iva4()); // 2.49 €/kg
        apples.by_weight = true;
        c.add(apples.clone(), Quantity::Grams(1234)).unwrap(); // 3.07266 -> 3.07
        assert_eq!(c.totals().unwrap().total.minor, 307);
        assert_eq!(
            c.add(apples, Quantity::Units(1)),
            Err(CartError::NeedsWeight)
        );
    }

    #[test]
    fn order_discount_is_shared_over_lines_and_rates() {
        let mut c = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
        c.add(product("a", 1000, iva21()), Quantity::Units(1))
            .unwrap();
        c.add(product("b", 1000, iva4()), Quantity::Units(1))
            .unwrap();
        c.set_order_discount(Some(Adjustment {
            discount: Discount::Percent { bps: 1000 },
            reason: None,
            approved_by: Some("manager".into()),
        }))
        .unwrap();
        let t = c.totals().unwrap();
        assert_eq!(t.total.minor, 1800);
        assert_eq!(t.discounts.minor, 200);
        assert!(t.taxes.iter().all(|x| x.gross.minor == 900));
    }

    #[test]
    fn a_discount_larger_than_the_line_is_refused() {
        let mut c = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
        let id = c
            .add(product("a", 500, iva21()), Quantity::Units(1))
            .unwrap();
        let adj = Adjustment {
            discount: Discount::Amount {
                amount: Money::new(600, Currency::Eur),
            },
            reason: None,
            approved_by: None,
        };
        assert_eq!(
            c.set_line_discount(id, Some(adj)),
            Err(CartError::DiscountTooLarge)
        );
        assert!(c.line(id).unwrap().discount.is_none());
    }

    #[test]
    fn price_override_keeps_the_original_price() {
        let mut c = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
        let id = c
            .add(product("a", 500, iva21()), Quantity::Units(2))
            .unwrap();
        c.override_price(
            id,
            Money::new(400, Currency::Eur),
            Some("damaged".into()),
            Some("u-mgr".into()),
        )
        .unwrap();
        c.override_price(id, Money::new(300, Currency::Eur), None, None)
            .unwrap();
        match &c.line(id).unwrap().price_source {
            PriceSource::Override { original, .. } => assert_eq!(original.minor, 500),
            other => panic!("{other:?}"),
        }
        assert_eq!(c.totals().unwrap().total.minor, 600);
    }

    #[test]
    fn a_gift_card_sold_is_untaxed_undiscounted_and_fixed() {
        let mut c = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
        c.add(product("shirt", 1210, iva21()), Quantity::Units(1))
            .unwrap();
        let card = c
            .add_voucher(
                product("gift-card", 0, TaxRate::new("NONE", 0, false)),
                Voucher {
                    kind: VoucherKind::Issue,
                    number: "7000".into(),
                    print_code: true,
                },
                Money::new(5000, Currency::Eur),
            )
            .unwrap();
        let t = c.totals().unwrap();
        assert_eq!(t.total.minor, 6210);
        assert_eq!(t.taxes.len(), 1, "only the shirt's rate");
        assert_eq!((t.taxes[0].gross.minor, t.tax_total.minor), (1210, 210));
        let before = c.clone();
        let ten = Adjustment {
            discount: Discount::Percent { bps: 1000 },
            reason: None,
            approved_by: None,
        };
        assert_eq!(
            c.set_line_discount(card, Some(ten.clone())),
            Err(CartError::VoucherFixed)
        );
        assert_eq!(
            c.set_quantity(card, Quantity::Units(2)),
            Err(CartError::VoucherFixed)
        );
        assert_eq!(
            c.override_price(card, Money::new(1, Currency::Eur), None, None),
            Err(CartError::VoucherFixed)
        );
        assert_eq!(c, before);
        // An order discount applies to the goods only.
        c.set_order_discount(Some(ten)).unwrap();
        let t = c.totals().unwrap();
        assert_eq!(t.discounts.minor, 121);
        assert_eq!(t.total.minor, 5000 + 1089);
        let exclusive = TaxPolicy {
            price_mode: PriceMode::TaxExclusive,
            ..TaxPolicy::SPAIN
        };
        let mut us = Cart::new(Currency::Eur, exclusive);
        us.add_voucher(
            product("gift-card", 0, iva21()),
            Voucher {
                kind: VoucherKind::TopUp,
                number: "7000".into(),
                print_code: false,
            },
            Money::new(2000, Currency::Eur),
        )
        .unwrap();
        assert_eq!(
            us.totals().unwrap().total.minor,
            2000,
            "no tax added on top"
        );
    }

    #[test]
    fn allocation_is_exact() {
        assert_eq!(allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(allocate(0, &[5, 5]), vec![0, 0]);
        assert_eq!(allocate(7, &[0, 10]), vec![0, 7]);
    }
}
