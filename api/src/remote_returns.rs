//! Returns of sales made on other terminals or online, fetched from the shop.
//!
//! A receipt (or a web order's code) this terminal does not know is looked up in the shop
//! (`pos_sync`'s `sale_for_return`, Vendure's `posSaleForReturn`), which keeps every
//! terminal's sale document and every terminal's returns. The sale and the returns the shop
//! lists are kept in this terminal's database (`pos_store::remote_sales`), and from then on the
//! return is made exactly like one of this terminal's own sales (`returns.rs`): priced
//! cumulatively against every known return, refunded, committed once, printed — and queued for
//! the shop, so the next register knows.
//!
//! A web order becomes a `CompletedSale` here (built through a `Cart`, so its figures come from
//! the same tax engine): one line per order line at its price with tax, the order's promotions
//! as line discounts, its gift-card payments as gift-card tenders (a refund goes back onto the
//! card) and every other payment as an *online payment* — a card tender whose reference starts
//! with [`ONLINE_PAYMENT`], which the register cannot refund (the web shop's payment provider
//! holds that money): the return is then refunded in cash (a manager's approval, the
//! `refund` permission) or to store credit.
//!
//! Invariants:
//! * The shop is asked only for codes this terminal does not know; nothing here holds the
//!   register's lock across a shop call, and a call is bounded by [`LOOKUP_TIMEOUT`].
//! * Offline, a sale fetched earlier is still found (from the kept copy, flagged as such: the
//!   returns made elsewhere since then are unknown; the shop flags a return beyond what was
//!   sold for a manager). A sale never fetched cannot be returned with its receipt offline.
//! * A sale in another currency than the store's is refused (its money cannot go back here).

use super::gift_card_shop::{ConnectorShop, ShopFuture};
use super::returns::ReturnSaleDto;
use super::{Register, State};
use crate::dto::ApiError;
use crate::errors::store_error;
use pos_core::cart::{Adjustment, Cart, Discount, ProductRef, Quantity};
use pos_core::returns::CompletedReturn;
use pos_core::sale::{Cashier, SaleContext, Tender};
use pos_core::tax::{CashRounding, PriceMode, TaxRate};
use pos_core::{CompletedSale, Money, ReceiptNumber, TenderKind};
use pos_store::remote_sales::{RemoteSale, RemoteSource};
use pos_sync::connector::{Connector, ShopSaleForReturn};
use pos_sync::returns::{OnlineOrder, SaleSource};
use pos_sync::{ShopConfig, SyncError, VendureConnector};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

/// How long a lookup in the shop may take before the shop counts as offline.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(4);

/// The reference prefix of a web order's payment made online (not refundable at the register).
pub const ONLINE_PAYMENT: &str = "online ";

/// The shop's sale lookup as this module calls it; every [`Connector`] is one through
/// [`ConnectorShop`], tests use fakes.
pub trait SaleFinder: Send + Sync + 'static {
    fn sale_for_return(&self, code: String) -> ShopFuture<Option<ShopSaleForReturn>>;
}

impl<C: Connector> SaleFinder for ConnectorShop<C> {
    fn sale_for_return(&self, code: String) -> ShopFuture<Option<ShopSaleForReturn>> {
        let c = self.0.clone();
        Box::pin(async move { c.sale_for_return(&code).await })
    }
}

/// The shop to look sales up in, when one that keeps them is connected.
#[derive(Default)]
pub struct RemoteSales {
    finder: RwLock<Option<Arc<dyn SaleFinder>>>,
}

impl RemoteSales {
    fn get(&self) -> Option<Arc<dyn SaleFinder>> {
        self.finder
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set(&self, finder: Option<Arc<dyn SaleFinder>>) {
        *self.finder.write().unwrap_or_else(|p| p.into_inner()) = finder;
    }

    /// Looks sales up in the shop at `config` from now on, when it keeps them.
    pub fn connect(&self, config: &ShopConfig) {
        match VendureConnector::new(config) {
            Ok(c) if c.capabilities().shared_returns => {
                self.set(Some(Arc::new(ConnectorShop(Arc::new(c)))));
            }
            Ok(_) => self.set(None),
            Err(e) => {
                tracing::warn!("returns of other terminals' sales unavailable: {e}");
                self.set(None);
            }
        }
    }
}

/// What the customer has, as the shop is asked for it (trimmed, at most 64 characters).
fn lookup_code(code: &str) -> String {
    code.trim().chars().take(64).collect()
}

/// The receipt number a web order is shown under: its code alone (no sequence number).
fn online_receipt(code: &str) -> ReceiptNumber {
    ReceiptNumber {
        series: code.to_owned(),
        number: 0,
    }
}

/// A stable id for a web order (the same on every register, so their returns agree).
fn online_sale_id(code: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("vendure-order:{code}").as_bytes(),
    )
}

fn shop_offline(code: &str) -> ApiError {
    ApiError::new(
        "returns.shop_offline",
        format!(
            "{code} was not sold on this register and the shop cannot be reached: return it \
             when the shop is back, or without a receipt"
        ),
    )
    .with("receipt", code)
}

impl Register {
    /// Uses `finder` for sales this terminal does not know (tests; the app connects the shop).
    pub fn use_sale_finder(&self, finder: Option<Arc<dyn SaleFinder>>) {
        self.remote_sales.set(finder);
    }

    /// A receipt's code or a web order's code → the sale: this terminal's own first, else the
    /// shop's (see the module doc).
    pub(super) async fn returns_find_code(&self, code: &str) -> Result<ReturnSaleDto, ApiError> {
        let local_error = match self.returns_find_receipt_now(code) {
            Err(e) if e.code == "returns.unknown_sale" || e.code == "returns.bad_code" => e,
            Ok(own) => return self.with_shop_returns(own).await,
            Err(e) => return Err(e),
        };
        let Some(finder) = self.remote_sales.get() else {
            return Err(local_error);
        };
        let code = lookup_code(code);
        if code.is_empty() {
            return Err(local_error);
        }
        let found = tokio::time::timeout(LOOKUP_TIMEOUT, finder.sale_for_return(code.clone()))
            .await
            .unwrap_or(Err(SyncError::Timeout));
        match found {
            Ok(Some(found)) => self.keep_remote(found, &code),
            // Nothing in the shop either: a garbled scan stays one; anything that could be a
            // receipt or an order's code is unknown everywhere.
            Ok(None)
                if local_error.code == "returns.bad_code"
                    && !code
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                Err(local_error)
            }
            Ok(None) => Err(ApiError::new(
                "returns.unknown_anywhere",
                format!("no sale or web order {code} on this terminal or in the shop"),
            )
            .with("receipt", &code)),
            Err(SyncError::Rejected(m)) => Err(ApiError::new("returns.shop_refused", m)),
            Err(e) => {
                tracing::info!("sale lookup in the shop failed: {e}");
                let st = self.lock();
                st.require_user()?;
                match st.store.remote_sale_by_code(&code).map_err(store_error)? {
                    Some(kept) => {
                        let mut dto = self.sale_dto(&st, &kept.sale)?;
                        dto.offline_copy = true;
                        Ok(dto)
                    }
                    None => Err(shop_offline(&code)),
                }
            }
        }
    }

    /// One of this terminal's own sales, with the returns other registers made of it as the
    /// shop knows them (so nothing is returned twice across registers). Offline, what this
    /// terminal knows.
    pub(super) async fn with_shop_returns(
        &self,
        own: ReturnSaleDto,
    ) -> Result<ReturnSaleDto, ApiError> {
        let Some(finder) = self.remote_sales.get() else {
            return Ok(own);
        };
        let found =
            tokio::time::timeout(LOOKUP_TIMEOUT, finder.sale_for_return(own.sale_id.clone()))
                .await
                .unwrap_or(Err(SyncError::Timeout));
        let found = match found {
            Ok(Some(found)) => found,
            Ok(None) => return Ok(own),
            Err(e) => {
                tracing::info!("the shop's returns of {} unknown: {e}", own.receipt_number);
                return Ok(own);
            }
        };
        let mut st = self.lock();
        st.require_user()?;
        let sale = self.load_sale(&st, &own.sale_id)?;
        let mut returns = Vec::with_capacity(found.returns.len());
        for r in &found.returns {
            match serde_json::from_str::<CompletedReturn>(&r.document) {
                Ok(ret) if ret.original.as_ref().map(|o| o.id) == Some(sale.id()) => {
                    returns.push(ret)
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("the shop's return {}: {e}", r.return_number),
            }
        }
        st.store
            .save_shop_returns(sale.id(), &returns)
            .map_err(store_error)?;
        self.sale_dto(&st, &sale)
    }

    /// Keeps what the shop found and shows it like a sale of this terminal.
    fn keep_remote(&self, found: ShopSaleForReturn, code: &str) -> Result<ReturnSaleDto, ApiError> {
        let mut st = self.lock();
        st.require_user()?;
        let now = self.now();
        let (sale, source, online_cards) = match found.source {
            SaleSource::Pos => {
                let doc = found.document.as_deref().ok_or_else(|| {
                    ApiError::new(
                        "returns.no_document",
                        format!(
                            "the shop has sale {code} without its details: return it at the \
                             register that sold it, or without a receipt"
                        ),
                    )
                    .with("receipt", code)
                })?;
                let sale: CompletedSale = serde_json::from_str(doc).map_err(|e| {
                    ApiError::new("shop.malformed", format!("the shop's sale {code}: {e}"))
                })?;
                (sale, RemoteSource::Pos, BTreeMap::new())
            }
            SaleSource::Online => {
                let order = found.order.as_ref().ok_or_else(|| {
                    ApiError::new(
                        "shop.malformed",
                        format!("the shop's order {code} has no order"),
                    )
                })?;
                let (sale, cards) = online_sale(self, &st, order)?;
                (sale, RemoteSource::Online, cards)
            }
        };
        if sale.currency() != st.settings.currency {
            return Err(ApiError::new(
                "returns.other_currency",
                format!("sale {code} was paid in {}", sale.currency().code()),
            )
            .with("currency", sale.currency().code()));
        }
        // The shop may know this terminal's own sale by its order code.
        if let Some(own) = st.store.sale_by_id(sale.id()).map_err(store_error)? {
            return self.sale_dto(&st, &own);
        }
        let mut returns = Vec::with_capacity(found.returns.len());
        for r in &found.returns {
            let ret: CompletedReturn = serde_json::from_str(&r.document).map_err(|e| {
                ApiError::new(
                    "shop.malformed",
                    format!("the shop's return {}: {e}", r.return_number),
                )
            })?;
            if ret.original.as_ref().map(|o| o.id) == Some(sale.id()) {
                returns.push(ret);
            }
        }
        let gift_cards = match source {
            RemoteSource::Pos => found
                .gift_card_redeems
                .iter()
                .map(|g| (g.idempotency_key.clone(), g.code.clone()))
                .collect(),
            RemoteSource::Online => online_cards,
        };
        let remote = RemoteSale {
            gift_cards,
            code: match source {
                RemoteSource::Pos => sale.receipt().to_string(),
                RemoteSource::Online => found.order_code.clone(),
            },
            order_code: Some(found.order_code.clone()),
            sale,
            source,
            fetched_at: now,
        };
        st.store
            .save_remote_sale(&remote, &returns)
            .map_err(store_error)?;
        self.sale_dto(&st, &remote.sale)
    }

    /// A kept remote sale by id (the returns screen reopening it, pricing, the commit).
    pub(super) fn kept_remote_sale(
        &self,
        st: &State,
        id: Uuid,
    ) -> Result<Option<RemoteSale>, ApiError> {
        st.store.remote_sale(id).map_err(store_error)
    }
}

/// A gift card's number as printed: its last four digits.
fn mask_card(code: &str) -> String {
    let tail: String = code
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("****{tail}")
}

/// The payments of a web order that became the sale's tenders, in order.
fn settled(order: &OnlineOrder) -> impl Iterator<Item = &pos_sync::returns::OnlinePayment> {
    order
        .payments
        .iter()
        .filter(|p| p.state == "Settled" && p.amount_minor > 0)
}

/// A paid web order as a completed sale (see the module doc).
fn online_sale(
    register: &Register,
    st: &State,
    order: &OnlineOrder,
) -> Result<(CompletedSale, BTreeMap<String, String>), ApiError> {
    if order.lines.is_empty() {
        return Err(ApiError::new(
            "returns.order_not_paid",
            format!("web order {} is not paid ({})", order.code, order.state),
        )
        .with("receipt", &order.code)
        .with("state", &order.state));
    }
    let cur = st.settings.currency;
    if order.currency_code != cur.code() {
        return Err(ApiError::new(
            "returns.other_currency",
            format!(
                "web order {} was paid in {}",
                order.code, order.currency_code
            ),
        )
        .with("currency", &order.currency_code));
    }
    let malformed = |why: String| {
        ApiError::new(
            "shop.malformed",
            format!("the shop's order {}: {why}", order.code),
        )
    };
    // The order's prices in the order's own price mode: with tax where the shop's prices
    // include it, else without (the tax engine adds it, as on the web shop's invoice). An
    // older plugin gives prices with tax only: they are taken with their tax.
    let net = !order.prices_include_tax
        && order
            .lines
            .iter()
            .all(|l| l.unit_price_minor.is_some() && l.line_price_minor.is_some());
    let mut policy = st.settings.tax_policy;
    policy.price_mode = if net {
        PriceMode::TaxExclusive
    } else {
        PriceMode::TaxInclusive
    };
    let price = |l: &pos_sync::returns::OnlineOrderLine| match (
        net,
        l.unit_price_minor,
        l.line_price_minor,
    ) {
        (true, Some(unit), Some(line)) => (unit, line),
        _ => (l.unit_price_with_tax_minor, l.line_price_with_tax_minor),
    };
    let mut cart = Cart::new(cur, policy);
    for l in &order.lines {
        let (unit, line_price) = price(l);
        if l.quantity <= 0 || line_price < 0 || unit < 0 {
            return Err(malformed(format!("line {} is empty", l.line_no)));
        }
        // The catalog's own product when the register has it (its names, tax category and id,
        // so a restock raises the right stock); else the order's line as it is.
        let known = st
            .store
            .find_by_sku(&l.sku, &register.config.location_id)
            .map_err(store_error)?
            .map(|item| item.to_product_ref());
        let product = match known {
            Some(p) if p.tax.bps == l.tax_rate_bps && !p.by_weight => ProductRef {
                unit_price: Money::new(unit, cur),
                ..p
            },
            _ => ProductRef {
                variant_id: l.sku.clone(),
                sku: l.sku.clone(),
                names: BTreeMap::from([("en".to_owned(), l.name.clone())]),
                barcode: None,
                unit_price: Money::new(unit, cur),
                tax: TaxRate::new(format!("WEB-{}", l.tax_rate_bps), l.tax_rate_bps, false),
                by_weight: false,
            },
        };
        let id = cart
            .add(product, Quantity::Units(l.quantity))
            .map_err(crate::errors::cart_error)?;
        let off = unit * l.quantity - line_price;
        if off > 0 {
            cart.set_line_discount(
                id,
                Some(Adjustment {
                    discount: Discount::Amount {
                        amount: Money::new(off, cur),
                    },
                    reason: Some("web shop promotion".into()),
                    approved_by: None,
                }),
            )
            .map_err(crate::errors::cart_error)?;
        }
    }
    let total = cart
        .totals()
        .map_err(crate::errors::cart_error)?
        .total
        .minor;
    // Each payment as a tender, with the gift card's number when one of the shop's cards paid.
    let mut tenders: Vec<(Tender, Option<String>)> = settled(order)
        .map(|p| match &p.gift_card_code {
            Some(code) => (
                Tender {
                    kind: TenderKind::GiftCard,
                    amount: Money::new(p.amount_minor, cur),
                    reference: Some(mask_card(code)),
                },
                Some(code.clone()),
            ),
            None => (
                Tender {
                    kind: TenderKind::Card,
                    amount: Money::new(p.amount_minor, cur),
                    reference: Some(format!("{ONLINE_PAYMENT}{}", p.method)),
                },
                None,
            ),
        })
        .collect();
    // The payments paid the goods and the shipping (and any surcharge), which are not returned
    // at a register: what they paid beyond the goods comes off the online payments first (last
    // first), then off gift cards. Rounding of a cent or so either way goes to the last payment.
    let paid: i64 = tenders.iter().map(|(t, _)| t.amount.minor).sum();
    if tenders.is_empty() || paid < total - 100 {
        return Err(malformed(format!("payments {paid} for goods of {total}")));
    }
    let mut excess = paid - total;
    if excess < 0 {
        let (last, _) = tenders.last_mut().expect("not empty");
        last.amount = Money::new(last.amount.minor - excess, cur);
        excess = 0;
    }
    for gift_cards in [false, true] {
        for (t, _) in tenders.iter_mut().rev() {
            if excess > 0 && (t.kind == TenderKind::GiftCard) == gift_cards {
                let off = t.amount.minor.min(excess);
                t.amount = Money::new(t.amount.minor - off, cur);
                excess -= off;
            }
        }
    }
    tenders.retain(|(t, _)| t.amount.minor > 0);
    let id = online_sale_id(&order.code);
    // A gift card's refund finds its card by the tender key `<sale id>-<position>`.
    let gift_cards = tenders
        .iter()
        .enumerate()
        .filter_map(|(i, (_, code))| Some((format!("{id}-{}", i + 1), code.clone()?)))
        .collect();
    let tenders = tenders.into_iter().map(|(t, _)| t).collect();
    let at = order
        .order_placed_at
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
        .ok_or_else(|| malformed("no time it was placed".into()))?;
    cart.complete(
        tenders,
        SaleContext {
            id,
            receipt: online_receipt(&order.code),
            terminal_id: "web".into(),
            cashier: Cashier {
                id: "web".into(),
                name: order
                    .customer_name
                    .clone()
                    .unwrap_or_else(|| "web shop".into()),
            },
            at,
            cash_rounding: CashRounding::NONE,
        },
    )
    .map(|sale| (sale, gift_cards))
    .map_err(|e| malformed(e.to_string()))
}
