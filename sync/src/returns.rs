//! Returns shared with the shop: the shop-neutral types of [`crate::Connector`]'s
//! `sale_for_return` / `record_return`, and their Vendure implementation over the POS plugin's
//! Admin API (`posSaleForReturn`, `posRecordReturn`).
//!
//! Why: a customer brings back what was bought at another register or on the web shop. The
//! shop keeps every terminal's sale document (sent with the sale, [`crate::SaleRecord`]'s
//! `document`) and every terminal's returns, so any register can find the sale and knows what
//! is still returnable across all of them.
//!
//! Invariants: a return is recorded exactly once per return id (the shop keeps the key; a resend
//! returns the first result); the shop never refuses a return for its quantities — the money
//! went back already — it records it and flags a conflict (`RETURN_EXCEEDS_SALE`) for a manager
//! when the returns of a line add up to more than was sold (two registers offline at once).

use crate::SyncError;
use crate::connector::ShopConflict;
use crate::vendure::VendureConnector;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A returned line as the shop records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnLineRecord {
    /// The line's position in the original sale (1-based).
    pub sale_line_no: u32,
    pub sku: String,
    /// Units, or grams for a weighed line.
    pub quantity: i64,
    /// What that sale line sold (units or grams), so the shop can cap across terminals.
    pub sold_quantity: i64,
}

/// A register's return for the shop. `return_id` is the idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnRecord {
    pub return_id: String,
    /// The POS sale it corrects (None for an online order).
    pub sale_id: Option<String>,
    /// The web order it corrects.
    pub order_code: Option<String>,
    pub terminal_id: String,
    pub return_number: String,
    /// RFC 3339, UTC.
    pub occurred_at: String,
    pub currency_code: String,
    /// What was refunded (a magnitude).
    pub total_minor: i64,
    pub lines: Vec<ReturnLineRecord>,
    /// The whole `pos_core::returns::CompletedReturn` as JSON.
    pub document: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnOutcome {
    pub return_id: String,
    /// The shop had this return already (a resend): nothing changed.
    pub duplicate: bool,
    /// `RETURN_EXCEEDS_SALE` when the returns of a line now exceed what it sold.
    pub conflicts: Vec<ShopConflict>,
}

/// A return the shop knows of.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopReturn {
    pub return_id: String,
    pub terminal_id: String,
    pub return_number: String,
    pub occurred_at: String,
    pub lines: Vec<ReturnLineRecord>,
    /// The register's `CompletedReturn` JSON, verbatim.
    pub document: String,
}

/// A line of a web order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnlineOrderLine {
    pub line_no: u32,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price_with_tax_minor: i64,
    /// After every discount (the order's promotions prorated onto the line).
    pub line_price_with_tax_minor: i64,
    /// Without tax (what a store whose prices exclude tax shows); None from an older plugin.
    #[serde(default)]
    pub unit_price_minor: Option<i64>,
    #[serde(default)]
    pub line_price_minor: Option<i64>,
    pub tax_rate_bps: u32,
}

/// A settled payment of a web order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnlinePayment {
    pub method: String,
    pub amount_minor: i64,
    pub state: String,
    pub transaction_id: Option<String>,
    /// The card's number, for a payment with one of the shop's gift cards (`pos-gift-card`).
    #[serde(default)]
    pub gift_card_code: Option<String>,
}

/// A web order, as a register needs it for a return.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnlineOrder {
    pub code: String,
    /// Vendure's state; lines are empty unless the order was paid.
    pub state: String,
    pub order_placed_at: Option<String>,
    pub currency_code: String,
    pub prices_include_tax: bool,
    pub total_with_tax_minor: i64,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    pub lines: Vec<OnlineOrderLine>,
    pub payments: Vec<OnlinePayment>,
}

/// Where a sale found for a return was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SaleSource {
    Pos,
    Online,
}

/// A sale (another terminal's) or a web order found by the code the customer has.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopSaleForReturn {
    pub source: SaleSource,
    pub sale_id: Option<String>,
    pub order_code: String,
    pub terminal_id: Option<String>,
    pub receipt_number: Option<String>,
    /// POS: the terminal's `CompletedSale` JSON (None for sales recorded before the shop kept
    /// documents).
    pub document: Option<String>,
    /// Online: the order.
    pub order: Option<OnlineOrder>,
    /// Every return recorded of it, oldest first.
    pub returns: Vec<ShopReturn>,
    /// POS: the shop's gift cards that paid the sale, by the redeem's key (the register's tender
    /// key `<sale id>-<position>`), so a refund goes back onto the same card.
    #[serde(default)]
    pub gift_card_redeems: Vec<GiftCardRedeem>,
}

/// A redeem of one of the shop's gift cards, by its idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GiftCardRedeem {
    pub idempotency_key: String,
    pub code: String,
}

const RETURN_LINE: &str = "saleLineNo sku quantity soldQuantity";

impl VendureConnector {
    pub(crate) async fn shop_sale_for_return(
        &self,
        code: &str,
    ) -> Result<Option<ShopSaleForReturn>, SyncError> {
        let q = format!(
            "query($c:String!){{ posSaleForReturn(code:$c){{ source saleId orderCode terminalId receiptNumber document \
             order {{ code state orderPlacedAt currencyCode pricesIncludeTax totalWithTaxMinor customerEmail customerName \
             lines {{ lineNo sku name quantity unitPriceWithTaxMinor linePriceWithTaxMinor unitPriceMinor linePriceMinor taxRateBps }} \
             payments {{ method amountMinor state transactionId giftCardCode }} }} giftCardRedeems {{ idempotencyKey code }} \
             returns {{ returnId terminalId returnNumber occurredAt document lines {{ {RETURN_LINE} }} }} }} }}"
        );
        self.gql("posSaleForReturn", &q, json!({ "c": code })).await
    }

    pub(crate) async fn shop_record_return(
        &self,
        record: &ReturnRecord,
    ) -> Result<ReturnOutcome, SyncError> {
        let q = format!(
            "mutation($i:PosReturnInput!){{ posRecordReturn(input:$i){{ returnId duplicate conflicts {{ {} }} }} }}",
            crate::vendure::CONFLICT
        );
        self.gql("posRecordReturn", &q, json!({ "i": record }))
            .await
    }
}
