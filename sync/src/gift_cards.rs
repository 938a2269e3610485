//! Gift cards kept by the shop (one ledger for the registers and the web storefront): the
//! shop-neutral types of [`crate::Connector`]'s gift-card methods and their Vendure
//! implementation over the POS plugin's Admin API (`posGiftCard`, `posIssueGiftCard`,
//! `posTopUpGiftCard`, `posRedeemGiftCard`, `posReleaseGiftCardRedeem`, `posGiftCardEntries`).
//!
//! Invariants: every movement carries the caller's idempotency key (a redeem's key is the
//! register's tender key `<sale id>-<position>`), so a resend after a timeout returns the first
//! result (`duplicate`) and never moves money twice; the shop never lets a redeem take more than
//! the balance, and says so with [`GiftCardStatus::InsufficientBalance`] (a typed answer, not
//! an error). Amounts are integer minor units.

use crate::SyncError;
use crate::vendure::VendureConnector;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The shop's answer to a gift-card movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GiftCardStatus {
    Ok,
    /// No card with this number.
    UnknownCard,
    /// The card is blocked.
    Inactive,
    /// The card holds less than the amount: nothing was taken.
    InsufficientBalance,
    /// The card is in another currency.
    CurrencyMismatch,
    /// Issuing a number that already exists.
    CodeInUse,
    /// Releasing a key under which nothing was redeemed.
    NotRedeemed,
}

/// A card as the shop keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopGiftCard {
    /// Normalized number (upper case, no spaces or dashes).
    pub code: String,
    /// ISO 4217.
    pub currency: String,
    pub balance_minor: i64,
    pub active: bool,
}

/// One movement on a card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopGiftCardEntry {
    pub id: String,
    pub code: String,
    /// ISSUE, TOP_UP, REDEEM or RELEASE.
    pub kind: String,
    pub idempotency_key: String,
    /// Signed: money onto the card positive, a redeem negative.
    pub amount_minor: i64,
    pub balance_after_minor: i64,
    /// The terminal id, "storefront" or "admin".
    pub channel: String,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// The result of an issue, top-up, redeem or release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GiftCardOutcome {
    pub status: GiftCardStatus,
    /// The shop had this key already: nothing changed, `entry` is the first result.
    pub duplicate: bool,
    /// The card after the movement (also on most refusals, with its current balance).
    pub card: Option<ShopGiftCard>,
    /// The movement (None on a refusal).
    pub entry: Option<ShopGiftCardEntry>,
}

const CARD: &str = "code currency balanceMinor active";
const ENTRY: &str = "id code kind idempotencyKey amountMinor balanceAfterMinor channel createdAt";

fn outcome_fields() -> String {
    format!("status duplicate card {{ {CARD} }} entry {{ {ENTRY} }}")
}

impl VendureConnector {
    pub(crate) async fn shop_gift_card(
        &self,
        code: &str,
    ) -> Result<Option<ShopGiftCard>, SyncError> {
        let q = format!("query($c:String!){{ posGiftCard(code:$c){{ {CARD} }} }}");
        self.gql("posGiftCard", &q, json!({ "c": code })).await
    }

    pub(crate) async fn shop_gift_card_entries(
        &self,
        code: &str,
    ) -> Result<Vec<ShopGiftCardEntry>, SyncError> {
        let q = format!("query($c:String!){{ posGiftCardEntries(code:$c){{ {ENTRY} }} }}");
        self.gql("posGiftCardEntries", &q, json!({ "c": code }))
            .await
    }

    pub(crate) async fn shop_issue_gift_card(
        &self,
        key: &str,
        code: Option<&str>,
        currency: &str,
        amount_minor: i64,
    ) -> Result<GiftCardOutcome, SyncError> {
        let q = format!(
            "mutation($i:PosIssueGiftCardInput!){{ posIssueGiftCard(input:$i){{ {} }} }}",
            outcome_fields()
        );
        let i = json!({ "idempotencyKey": key, "code": code, "currency": currency, "amountMinor": amount_minor });
        self.gql("posIssueGiftCard", &q, json!({ "i": i })).await
    }

    pub(crate) async fn shop_top_up_gift_card(
        &self,
        key: &str,
        code: &str,
        amount_minor: i64,
    ) -> Result<GiftCardOutcome, SyncError> {
        let q = format!(
            "mutation($i:PosTopUpGiftCardInput!){{ posTopUpGiftCard(input:$i){{ {} }} }}",
            outcome_fields()
        );
        let i = json!({ "idempotencyKey": key, "code": code, "amountMinor": amount_minor });
        self.gql("posTopUpGiftCard", &q, json!({ "i": i })).await
    }

    pub(crate) async fn shop_redeem_gift_card(
        &self,
        key: &str,
        code: &str,
        amount_minor: i64,
        currency: &str,
    ) -> Result<GiftCardOutcome, SyncError> {
        let q = format!(
            "mutation($i:PosRedeemGiftCardInput!){{ posRedeemGiftCard(input:$i){{ {} }} }}",
            outcome_fields()
        );
        let i = json!({ "idempotencyKey": key, "code": code, "amountMinor": amount_minor, "currency": currency });
        self.gql("posRedeemGiftCard", &q, json!({ "i": i })).await
    }

    pub(crate) async fn shop_release_gift_card_redeem(
        &self,
        key: &str,
    ) -> Result<GiftCardOutcome, SyncError> {
        let q = format!(
            "mutation($k:String!){{ posReleaseGiftCardRedeem(idempotencyKey:$k){{ {} }} }}",
            outcome_fields()
        );
        self.gql("posReleaseGiftCardRedeem", &q, json!({ "k": key }))
            .await
    }
}
