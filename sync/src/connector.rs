//! The connector trait every web shop implements (Vendure now; WooCommerce and Shopify later),
//! its capabilities, and the shop-neutral types the workers exchange with it.
//!
//! Invariants: every write a connector offers is idempotent by a caller-chosen key (the sale's
//! UUID, an adjustment's key), so the outbox may resend after any failure; a connector whose shop
//! lacks that says so in [`Capabilities::idempotent_sales`] and the worker must then check before
//! resending. Money is integer minor units; times are UTC.

use crate::SyncError;
pub use crate::gift_cards::{GiftCardOutcome, GiftCardStatus, ShopGiftCard, ShopGiftCardEntry};
pub use crate::returns::{ReturnOutcome, ReturnRecord, ShopSaleForReturn};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::Notify;

/// How a shop lets us change stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockWrites {
    /// Relative changes (`+= delta`), atomic on the shop's side (Vendure with our plugin).
    Relative,
    /// Only absolute values (WooCommerce's REST API, Shopify's `inventorySetQuantities` without
    /// compare): deltas must be turned into compare-and-set writes.
    AbsoluteOnly,
}

/// How the shop tells the terminal that something changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// A server-sent-events stream the terminal opens (works through NAT).
    ServerSentEvents,
    /// Webhooks to a URL the terminal would have to expose.
    Webhook,
    /// Nothing: poll.
    PollingOnly,
}

/// What a connector can do; the workers adapt to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    pub stock_writes: StockWrites,
    pub push: Push,
    /// Largest page the catalog and change reads accept.
    pub max_page_size: u32,
    /// Largest number of sales one `record_sales` call accepts.
    pub max_sale_batch: usize,
    /// Requests per second the shop tolerates (`None`: no documented limit).
    pub rate_limit_per_sec: Option<u32>,
    /// A sale resent with the same id is recorded once (the shop keeps the key).
    pub idempotent_sales: bool,
    /// Absolute stock writes can be conditional on the current value.
    pub compare_and_set_stock: bool,
    /// The shop keeps the register's Z reports ([`Connector::record_z_report`]). Without it the
    /// outbox worker parks queued Z reports as not deliverable (see `outbox`) instead of
    /// retrying them forever.
    pub z_reports: bool,
    /// The shop keeps the gift-card ledger ([`Connector::redeem_gift_card`] and the rest), shared
    /// with its storefront. Without it the register keeps gift cards in its own database.
    pub gift_cards: bool,
    /// The shop keeps every terminal's sale documents and returns
    /// ([`Connector::sale_for_return`], [`Connector::record_return`]): a register can return a
    /// sale made on another terminal or online. Without it returns are of this register's own
    /// sales only, and queued returns are parked as not deliverable.
    pub shared_returns: bool,
}

/// One line of a register sale, as the shop records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SaleLineRecord {
    pub sku: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub line_total_minor: i64,
    pub tax_rate_bps: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRecord {
    pub method: String,
    pub amount_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SaleTotalsRecord {
    pub total_minor: i64,
    pub tax_minor: i64,
}

/// A register sale for the shop. `sale_id` (the sale's UUID) is the idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SaleRecord {
    pub sale_id: String,
    pub terminal_id: String,
    pub receipt_number: String,
    /// RFC 3339, UTC.
    pub occurred_at: String,
    pub currency_code: String,
    pub prices_include_tax: bool,
    pub lines: Vec<SaleLineRecord>,
    pub totals: SaleTotalsRecord,
    pub payments: Vec<PaymentRecord>,
    /// The whole `pos_core::CompletedSale` as JSON, kept by the shop so another register can
    /// return this sale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

/// A stock conflict as the shop reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopConflict {
    pub id: String,
    pub sale_id: Option<String>,
    pub sku: String,
    pub reason: String,
    pub requested: i64,
    pub available_before: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaleOutcome {
    pub sale_id: String,
    pub order_id: String,
    pub order_code: String,
    /// The shop had this sale already (a resend): nothing changed.
    pub duplicate: bool,
    pub conflicts: Vec<ShopConflict>,
}

/// Stock of a variant at a location.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopStock {
    pub variant_id: String,
    pub sku: String,
    pub location_id: String,
    pub stock_on_hand: i64,
    pub stock_allocated: i64,
    /// What can still be sold: on hand − allocated to web orders.
    pub sellable: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Translation {
    pub language_code: String,
    pub name: String,
    pub product_name: String,
    pub description: String,
}

/// A variant as the shop describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopVariant {
    pub id: String,
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub product_name: String,
    pub description: String,
    pub translations: Vec<Translation>,
    pub barcodes: Vec<String>,
    pub enabled: bool,
    pub deleted: bool,
    pub currency_code: String,
    pub price_minor: i64,
    pub price_with_tax_minor: i64,
    pub prices_include_tax: bool,
    pub tax_category_id: Option<String>,
    pub tax_category_name: Option<String>,
    pub tax_rate_bps: u32,
    pub image_url: Option<String>,
    pub stock: ShopStock,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogPage {
    pub items: Vec<ShopVariant>,
    pub next_after: Option<String>,
    pub has_more: bool,
    pub total_items: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeKind {
    Variant,
    Stock,
    Order,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopOrderLine {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price_with_tax_minor: i64,
    pub line_price_with_tax_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PickupLocation {
    pub location_id: String,
    pub location_name: String,
}

/// An order (web or POS) as the shop describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopOrder {
    pub id: String,
    pub code: String,
    pub state: String,
    /// "web" or "pos".
    pub source: String,
    pub pos_sale_id: Option<String>,
    pub placed_at: Option<String>,
    pub customer_name: Option<String>,
    pub currency_code: String,
    pub total_with_tax_minor: i64,
    pub lines: Vec<ShopOrderLine>,
    pub pickup: Option<PickupLocation>,
    pub collected: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub cursor: String,
    pub kind: ChangeKind,
    pub entity_id: String,
    pub variant: Option<ShopVariant>,
    pub stock: Option<ShopStock>,
    pub order: Option<ShopOrder>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangePage {
    pub items: Vec<Change>,
    pub next_cursor: String,
    pub has_more: bool,
    /// The cursor belongs to another shop database: re-import.
    pub reset_required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmI {
    pub stock_location_id: String,
    /// Read before an import; follow the change feed from it afterwards.
    pub latest_cursor: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StockReason {
    Sale,
    Return,
    WriteOff,
    Count,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WriteStatus {
    Applied,
    Stale,
    UnknownSku,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdjustOutcome {
    pub status: WriteStatus,
    pub duplicate: bool,
    pub stock: Option<ShopStock>,
    pub conflict: Option<ShopConflict>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetStockOutcome {
    pub status: WriteStatus,
    pub duplicate: bool,
    /// After the write (applied) or the differing value found (stale).
    pub current_stock_on_hand: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CollectStatus {
    Collected,
    AlreadyCollected,
    NotFound,
    NotAPickup,
    NotReady,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectOutcome {
    pub status: CollectStatus,
    pub duplicate: bool,
    pub order_code: String,
    pub message: Option<String>,
}

/// A register's Z report (end of day) for the shop's unified reports. The shop keeps one per
/// terminal and number and never overwrites it; `idempotency_key` (`z:<terminal>:<number>`)
/// makes a resend a no-op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ZReportRecord {
    pub idempotency_key: String,
    /// The shop's identifier of this terminal (as on its sales).
    pub terminal_code: String,
    pub number: u64,
    /// RFC 3339, UTC.
    pub opened_at: String,
    /// RFC 3339, UTC.
    pub closed_at: String,
    /// ISO 4217.
    pub currency: String,
    pub total_sales_minor: i64,
    /// Counted minus expected cash (negative: short).
    pub over_short_minor: i64,
    /// The whole Z report as the register stored it (JSON text, sent verbatim).
    pub report: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZReportOutcome {
    /// The shop had this report already (a resend): nothing changed.
    pub duplicate: bool,
    /// The shop's id of the stored report.
    pub id: String,
    pub number: u64,
}

/// The result of one sale in a batch: recorded, or rejected by the shop with a message
/// (resending it unchanged would fail again).
pub type BatchItem = Result<SaleOutcome, String>;

/// A web shop, as the workers see it. Futures are `Send` so the workers run on tokio.
pub trait Connector: Send + Sync + 'static {
    fn capabilities(&self) -> Capabilities;

    /// This terminal's stock location and the feed's latest cursor.
    fn who_am_i(&self) -> impl Future<Output = Result<WhoAmI, SyncError>> + Send;

    /// Records a register sale exactly once (keyed by `sale.sale_id`).
    fn record_sale(
        &self,
        sale: &SaleRecord,
    ) -> impl Future<Output = Result<SaleOutcome, SyncError>> + Send;

    /// Records several sales, in order, each exactly once; one item per sale. A transport or
    /// shop-wide failure fails the whole call (and the batch is resent).
    fn record_sales(
        &self,
        sales: &[SaleRecord],
    ) -> impl Future<Output = Result<Vec<BatchItem>, SyncError>> + Send {
        async move {
            let mut out = Vec::with_capacity(sales.len());
            for s in sales {
                match self.record_sale(s).await {
                    Ok(o) => out.push(Ok(o)),
                    Err(SyncError::Rejected(m)) => out.push(Err(m)),
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        }
    }

    /// A relative stock change, exactly once per `key`.
    fn adjust_stock(
        &self,
        key: &str,
        sku: &str,
        delta: i64,
        reason: StockReason,
        note: Option<&str>,
    ) -> impl Future<Output = Result<AdjustOutcome, SyncError>> + Send;

    /// Reconciliation's absolute write: only if the shop's on-hand still equals `expected`.
    fn set_stock_if_unchanged(
        &self,
        key: &str,
        sku: &str,
        expected_on_hand: i64,
        new_on_hand: i64,
    ) -> impl Future<Output = Result<SetStockOutcome, SyncError>> + Send;

    fn catalog_page(
        &self,
        after: Option<&str>,
        take: u32,
    ) -> impl Future<Output = Result<CatalogPage, SyncError>> + Send;

    /// The change feed after `after` (`None`: from the beginning).
    fn changes(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> impl Future<Output = Result<ChangePage, SyncError>> + Send;

    /// Current stock of these SKUs at this terminal's location (unknown SKUs left out).
    fn stock(
        &self,
        skus: &[String],
    ) -> impl Future<Output = Result<Vec<ShopStock>, SyncError>> + Send;

    /// Click-and-collect orders waiting at this terminal's location, oldest first.
    fn pickups(&self) -> impl Future<Output = Result<Vec<ShopOrder>, SyncError>> + Send;

    /// Hands a pickup over, exactly once per `key`.
    fn mark_collected(
        &self,
        order_code: &str,
        key: &str,
    ) -> impl Future<Output = Result<CollectOutcome, SyncError>> + Send;

    /// Records a Z report exactly once (keyed by `report.idempotency_key`). The same terminal
    /// and number with other content is [`SyncError::Rejected`]. Connectors whose shop has no
    /// place for Z reports keep this default and say so with `Capabilities::z_reports = false`.
    fn record_z_report(
        &self,
        report: &ZReportRecord,
    ) -> impl Future<Output = Result<ZReportOutcome, SyncError>> + Send {
        let _ = report;
        async {
            Err(SyncError::Unsupported(
                "this shop does not take Z reports".into(),
            ))
        }
    }

    // --- returns shared with the shop (see `returns`); connectors without them keep these
    // defaults and `Capabilities::shared_returns = false` ---

    /// The sale or web order the customer's code names (a receipt number, a sale UUID, an
    /// order code), with every return recorded of it; `None` when the shop knows none.
    fn sale_for_return(
        &self,
        code: &str,
    ) -> impl Future<Output = Result<Option<ShopSaleForReturn>, SyncError>> + Send {
        let _ = code;
        async { Err(no_shared_returns()) }
    }

    /// Records a register's return exactly once (keyed by `record.return_id`).
    fn record_return(
        &self,
        record: &ReturnRecord,
    ) -> impl Future<Output = Result<ReturnOutcome, SyncError>> + Send {
        let _ = record;
        async { Err(no_shared_returns()) }
    }

    // --- gift cards shared with the web shop (see `gift_cards`); connectors without them keep
    // these defaults and `Capabilities::gift_cards = false` ---

    /// The card with this number (`None`: unknown to the shop).
    fn gift_card(
        &self,
        code: &str,
    ) -> impl Future<Output = Result<Option<ShopGiftCard>, SyncError>> + Send {
        let _ = code;
        async { Err(no_gift_cards()) }
    }

    /// The card's movements, oldest first.
    fn gift_card_entries(
        &self,
        code: &str,
    ) -> impl Future<Output = Result<Vec<ShopGiftCardEntry>, SyncError>> + Send {
        let _ = code;
        async { Err(no_gift_cards()) }
    }

    /// A new card (`code`: a physical card's number; `None`: the shop generates one), once per `key`.
    fn issue_gift_card(
        &self,
        key: &str,
        code: Option<&str>,
        currency: &str,
        amount_minor: i64,
    ) -> impl Future<Output = Result<GiftCardOutcome, SyncError>> + Send {
        let _ = (key, code, currency, amount_minor);
        async { Err(no_gift_cards()) }
    }

    /// Adds money to a card, once per `key`.
    fn top_up_gift_card(
        &self,
        key: &str,
        code: &str,
        amount_minor: i64,
    ) -> impl Future<Output = Result<GiftCardOutcome, SyncError>> + Send {
        let _ = (key, code, amount_minor);
        async { Err(no_gift_cards()) }
    }

    /// Takes exactly `amount_minor` off the card once per `key`, never more than its balance.
    fn redeem_gift_card(
        &self,
        key: &str,
        code: &str,
        amount_minor: i64,
        currency: &str,
    ) -> impl Future<Output = Result<GiftCardOutcome, SyncError>> + Send {
        let _ = (key, code, amount_minor, currency);
        async { Err(no_gift_cards()) }
    }

    /// Gives back the redeem made under `key`, once.
    fn release_gift_card_redeem(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<GiftCardOutcome, SyncError>> + Send {
        let _ = key;
        async { Err(no_gift_cards()) }
    }

    /// Runs until cancelled, calling `hint.notify_one()` whenever the shop says something
    /// changed (and after every reconnect). Shops without push never hint.
    fn push_hints(&self, hint: Arc<Notify>) -> impl Future<Output = ()> + Send {
        let _ = hint;
        std::future::pending()
    }
}

fn no_shared_returns() -> SyncError {
    SyncError::Unsupported("this shop does not keep the registers' returns".into())
}

fn no_gift_cards() -> SyncError {
    SyncError::Unsupported("this shop does not keep gift cards".into())
}
