//! The Vendure connector: the POS plugin's Admin API (GraphQL as plain POSTs of query strings)
//! and its SSE push hint (`GET /pos/events`). See webshop/README.md for the API.
//!
//! Invariants: every request has a connect timeout and a total timeout (the SSE stream a read
//! timeout instead, since it is meant to stay open); the bearer token is kept in memory only and
//! is renewed by logging in again on HTTP 401/403 or a `FORBIDDEN` error; an answer that is not
//! what the API promises is a [`SyncError::Malformed`], never a panic.

use crate::connector::*;
use crate::{Secret, ShopConfig, SyncError};
use rand::Rng;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::{Arc, Once};
use std::time::Duration;
use tokio::sync::{Mutex, Notify};

const STOCK: &str = "variantId sku locationId stockOnHand stockAllocated sellable";
pub(crate) const CONFLICT: &str = "id saleId sku reason requested availableBefore";
const ORDER: &str = "id code state source posSaleId placedAt customerName currencyCode \
     totalWithTaxMinor lines { sku name quantity unitPriceWithTaxMinor linePriceWithTaxMinor } \
     pickup { locationId locationName } collected";

fn variant_fields() -> String {
    format!(
        "id productId sku name productName description \
         translations {{ languageCode name productName description }} barcodes enabled deleted \
         currencyCode priceMinor priceWithTaxMinor pricesIncludeTax taxCategoryId taxCategoryName \
         taxRateBps imageUrl stock {{ {STOCK} }}"
    )
}

/// The SSE stream pings every 15 s; three missed pings mean the connection is dead.
const SSE_READ_TIMEOUT: Duration = Duration::from_secs(45);

static CRYPTO: Once = Once::new();

/// rustls needs one process-wide crypto provider; ours is `ring` (no OpenSSL, no cmake).
fn install_crypto_provider() {
    CRYPTO.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A terminal's connection to a Vendure shop with the POS plugin.
pub struct VendureConnector {
    base: String,
    identifier: String,
    password: Secret,
    http: reqwest::Client,
    sse: reqwest::Client,
    token: Mutex<Option<Secret>>,
}

impl std::fmt::Debug for VendureConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendureConnector")
            .field("base", &self.base)
            .field("identifier", &self.identifier)
            .finish_non_exhaustive()
    }
}

impl VendureConnector {
    pub fn new(config: &ShopConfig) -> Result<VendureConnector, SyncError> {
        install_crypto_provider();
        let base = crate::config::check_url(&config.url)?;
        let build = |b: reqwest::ClientBuilder| {
            b.connect_timeout(config.connect_timeout)
                .user_agent(concat!("pos-sync/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| SyncError::Unreachable(format!("HTTP client: {e}")))
        };
        Ok(VendureConnector {
            base,
            identifier: config.identifier.clone(),
            password: config.password.clone(),
            http: build(reqwest::Client::builder().timeout(config.request_timeout))?,
            sse: build(reqwest::Client::builder().read_timeout(SSE_READ_TIMEOUT))?,
            token: Mutex::new(None),
        })
    }

    fn admin_url(&self) -> String {
        format!("{}/admin-api", self.base)
    }

    /// Logs in with the terminal credential; returns the bearer token.
    async fn login(&self) -> Result<Secret, SyncError> {
        let body = json!({
            "query": "mutation($u:String!,$p:String!){ login(username:$u,password:$p,rememberMe:true){ __typename ... on CurrentUser { id identifier } ... on ErrorResult { errorCode message } } }",
            "variables": { "u": self.identifier, "p": self.password.expose() },
        });
        let resp = self.http.post(self.admin_url()).json(&body).send().await?;
        let status = resp.status();
        let token = resp
            .headers()
            .get("vendure-auth-token")
            .and_then(|v| v.to_str().ok())
            .map(Secret::new);
        let bytes = resp.bytes().await?;
        if status.is_server_error() {
            return Err(SyncError::Http {
                status: status.as_u16(),
                body: snippet(&bytes),
            });
        }
        let v: Value =
            serde_json::from_slice(&bytes).map_err(|e| SyncError::malformed("login", e))?;
        if let Some(msg) = graphql_errors(&v) {
            return Err(SyncError::Shop(msg.1));
        }
        let login = v
            .pointer("/data/login")
            .ok_or_else(|| SyncError::malformed("login", "no data.login"))?;
        if login.get("__typename").and_then(Value::as_str) != Some("CurrentUser") {
            let msg = login
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("login refused");
            return Err(SyncError::Unauthorized(msg.to_owned()));
        }
        token.ok_or_else(|| SyncError::malformed("login", "no vendure-auth-token header"))
    }

    async fn current_token(&self) -> Result<Secret, SyncError> {
        let mut guard = self.token.lock().await;
        if let Some(t) = guard.as_ref() {
            return Ok(t.clone());
        }
        let t = self.login().await?;
        *guard = Some(t.clone());
        Ok(t)
    }

    /// Forgets `stale` (if it is still the current token) so the next call logs in again.
    async fn forget_token(&self, stale: &Secret) {
        let mut guard = self.token.lock().await;
        if guard.as_ref() == Some(stale) {
            *guard = None;
        }
    }

    /// Runs one GraphQL operation and decodes `data.<field>`.
    pub(crate) async fn gql<T: DeserializeOwned>(
        &self,
        field: &str,
        query: &str,
        variables: Value,
    ) -> Result<T, SyncError> {
        let body = json!({ "query": query, "variables": variables });
        let mut relogged = false;
        loop {
            let token = self.current_token().await?;
            let resp = self
                .http
                .post(self.admin_url())
                .bearer_auth(token.expose())
                .json(&body)
                .send()
                .await?;
            let status = resp.status();
            let bytes = resp.bytes().await?;
            if status.as_u16() == 401 || status.as_u16() == 403 {
                self.forget_token(&token).await;
                if !relogged {
                    relogged = true;
                    continue;
                }
                return Err(SyncError::Unauthorized(format!("HTTP {status}")));
            }
            if !status.is_success() {
                return Err(SyncError::Http {
                    status: status.as_u16(),
                    body: snippet(&bytes),
                });
            }
            let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
                SyncError::malformed(field, format!("not JSON ({e}): {}", snippet(&bytes)))
            })?;
            if let Some((code, msg)) = graphql_errors(&v) {
                match code.as_deref() {
                    Some("FORBIDDEN") => {
                        self.forget_token(&token).await;
                        if !relogged {
                            relogged = true;
                            continue;
                        }
                        return Err(SyncError::Unauthorized(msg));
                    }
                    Some("USER_INPUT_ERROR" | "BAD_USER_INPUT" | "GRAPHQL_VALIDATION_FAILED") => {
                        return Err(SyncError::Rejected(msg));
                    }
                    _ => return Err(SyncError::Shop(msg)),
                }
            }
            let data = v
                .get("data")
                .and_then(|d| d.get(field))
                .ok_or_else(|| SyncError::malformed(field, "the answer has no data"))?;
            return T::deserialize(data).map_err(|e| SyncError::malformed(field, e));
        }
    }

    /// One order by code (web or POS), as the shop describes it now.
    pub async fn order(&self, code: &str) -> Result<Option<ShopOrder>, SyncError> {
        let q = format!("query($c:String!){{ posOrder(code:$c){{ {ORDER} }} }}");
        self.gql("posOrder", &q, json!({ "c": code })).await
    }

    /// One SSE connection: returns when it ends or fails.
    async fn sse_once(&self, hint: &Notify) -> Result<(), SyncError> {
        let token = self.current_token().await?;
        let mut resp = self
            .sse
            .get(format!("{}/pos/events", self.base))
            .bearer_auth(token.expose())
            .header("accept", "text/event-stream")
            .send()
            .await?;
        let status = resp.status();
        if status.as_u16() == 401 || status.as_u16() == 403 {
            self.forget_token(&token).await;
            return Err(SyncError::Unauthorized(format!("events: HTTP {status}")));
        }
        if !status.is_success() {
            return Err(SyncError::Http {
                status: status.as_u16(),
                body: String::new(),
            });
        }
        // Connected: whatever happened while we were away, look now.
        hint.notify_one();
        let mut buf: Vec<u8> = Vec::new();
        let mut has_data = false;
        while let Some(chunk) = resp.chunk().await? {
            buf.extend_from_slice(&chunk);
            while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = buf.drain(..=pos).collect();
                let line = String::from_utf8_lossy(&line);
                let line = line.trim_end_matches(['\r', '\n']);
                if line.is_empty() {
                    if has_data {
                        hint.notify_one();
                    }
                    has_data = false;
                } else if line.starts_with("data:") {
                    has_data = true;
                }
            }
        }
        Ok(())
    }
}

/// The first GraphQL error's code and all messages, if the answer has errors.
fn graphql_errors(v: &Value) -> Option<(Option<String>, String)> {
    let errors = v.get("errors")?.as_array()?;
    if errors.is_empty() {
        return None;
    }
    let code = errors[0]
        .pointer("/extensions/code")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let msg = errors
        .iter()
        .map(|e| e.get("message").and_then(Value::as_str).unwrap_or("?"))
        .collect::<Vec<_>>()
        .join("; ");
    Some((code, msg))
}

fn snippet(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    s.chars().take(200).collect()
}

#[derive(serde::Deserialize)]
struct BatchItemWire {
    result: Option<SaleOutcome>,
    error: Option<String>,
}

impl Connector for VendureConnector {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            stock_writes: StockWrites::Relative,
            push: Push::ServerSentEvents,
            max_page_size: 1000,
            max_sale_batch: 200,
            rate_limit_per_sec: None,
            idempotent_sales: true,
            compare_and_set_stock: true,
            z_reports: true,
            gift_cards: true,
            shared_returns: true,
        }
    }

    async fn who_am_i(&self) -> Result<WhoAmI, SyncError> {
        self.gql(
            "posWhoAmI",
            "query{ posWhoAmI { stockLocationId latestCursor } }",
            json!({}),
        )
        .await
    }

    async fn record_sale(&self, sale: &SaleRecord) -> Result<SaleOutcome, SyncError> {
        let q = format!(
            "mutation($i:PosSaleInput!){{ posRecordSale(input:$i){{ saleId orderId orderCode duplicate conflicts {{ {CONFLICT} }} }} }}"
        );
        self.gql("posRecordSale", &q, json!({ "i": sale })).await
    }

    async fn record_sales(&self, sales: &[SaleRecord]) -> Result<Vec<BatchItem>, SyncError> {
        let q = format!(
            "mutation($i:[PosSaleInput!]!){{ posRecordSales(inputs:$i){{ saleId error result {{ saleId orderId orderCode duplicate conflicts {{ {CONFLICT} }} }} }} }}"
        );
        let items: Vec<BatchItemWire> = self
            .gql("posRecordSales", &q, json!({ "i": sales }))
            .await?;
        if items.len() != sales.len() {
            return Err(SyncError::malformed(
                "posRecordSales",
                format!("{} items for {} sales", items.len(), sales.len()),
            ));
        }
        items
            .into_iter()
            .map(|i| match (i.result, i.error) {
                (Some(r), _) => Ok(Ok(r)),
                (None, Some(e)) => Ok(Err(e)),
                (None, None) => Err(SyncError::malformed(
                    "posRecordSales",
                    "an item with neither result nor error",
                )),
            })
            .collect()
    }

    async fn adjust_stock(
        &self,
        key: &str,
        sku: &str,
        delta: i64,
        reason: StockReason,
        note: Option<&str>,
    ) -> Result<AdjustOutcome, SyncError> {
        let q = format!(
            "mutation($i:PosAdjustStockInput!){{ posAdjustStock(input:$i){{ status duplicate stock {{ {STOCK} }} conflict {{ {CONFLICT} }} }} }}"
        );
        self.gql(
            "posAdjustStock",
            &q,
            json!({ "i": { "idempotencyKey": key, "sku": sku, "delta": delta, "reason": reason, "note": note } }),
        )
        .await
    }

    async fn set_stock_if_unchanged(
        &self,
        key: &str,
        sku: &str,
        expected_on_hand: i64,
        new_on_hand: i64,
    ) -> Result<SetStockOutcome, SyncError> {
        self.gql(
            "posSetStockIfUnchanged",
            "mutation($s:String!,$e:Int!,$n:Int!,$k:String!){ posSetStockIfUnchanged(sku:$s, expectedStockOnHand:$e, newStockOnHand:$n, idempotencyKey:$k){ status duplicate currentStockOnHand } }",
            json!({ "s": sku, "e": expected_on_hand, "n": new_on_hand, "k": key }),
        )
        .await
    }

    async fn catalog_page(&self, after: Option<&str>, take: u32) -> Result<CatalogPage, SyncError> {
        let q = format!(
            "query($a:ID,$t:Int){{ posCatalogPage(after:$a, take:$t){{ items {{ {} }} nextAfter hasMore totalItems }} }}",
            variant_fields()
        );
        self.gql("posCatalogPage", &q, json!({ "a": after, "t": take }))
            .await
    }

    async fn changes(&self, after: Option<&str>, limit: u32) -> Result<ChangePage, SyncError> {
        let q = format!(
            "query($a:String,$l:Int){{ posChanges(after:$a, limit:$l){{ items {{ cursor kind entityId variant {{ {} }} stock {{ {STOCK} }} order {{ {ORDER} }} }} nextCursor hasMore resetRequired }} }}",
            variant_fields()
        );
        self.gql("posChanges", &q, json!({ "a": after, "l": limit }))
            .await
    }

    async fn stock(&self, skus: &[String]) -> Result<Vec<ShopStock>, SyncError> {
        let q = format!("query($s:[String!]!){{ posStock(skus:$s){{ {STOCK} }} }}");
        self.gql("posStock", &q, json!({ "s": skus })).await
    }

    async fn pickups(&self) -> Result<Vec<ShopOrder>, SyncError> {
        let q = format!("query{{ posPickups {{ {ORDER} }} }}");
        self.gql("posPickups", &q, json!({})).await
    }

    async fn mark_collected(
        &self,
        order_code: &str,
        key: &str,
    ) -> Result<CollectOutcome, SyncError> {
        self.gql(
            "posMarkCollected",
            "mutation($c:String!,$k:String!){ posMarkCollected(orderCode:$c, idempotencyKey:$k){ status duplicate orderCode message } }",
            json!({ "c": order_code, "k": key }),
        )
        .await
    }

    // --- gift cards: the queries are in gift_cards.rs ---
    async fn gift_card(&self, code: &str) -> Result<Option<ShopGiftCard>, SyncError> {
        self.shop_gift_card(code).await
    }
    async fn gift_card_entries(&self, code: &str) -> Result<Vec<ShopGiftCardEntry>, SyncError> {
        self.shop_gift_card_entries(code).await
    }
    async fn issue_gift_card(
        &self,
        key: &str,
        code: Option<&str>,
        currency: &str,
        amount_minor: i64,
    ) -> Result<GiftCardOutcome, SyncError> {
        self.shop_issue_gift_card(key, code, currency, amount_minor)
            .await
    }
    async fn top_up_gift_card(
        &self,
        key: &str,
        code: &str,
        amount_minor: i64,
    ) -> Result<GiftCardOutcome, SyncError> {
        self.shop_top_up_gift_card(key, code, amount_minor).await
    }
    async fn redeem_gift_card(
        &self,
        key: &str,
        code: &str,
        amount_minor: i64,
        currency: &str,
    ) -> Result<GiftCardOutcome, SyncError> {
        self.shop_redeem_gift_card(key, code, amount_minor, currency)
            .await
    }
    async fn release_gift_card_redeem(&self, key: &str) -> Result<GiftCardOutcome, SyncError> {
        self.shop_release_gift_card_redeem(key).await
    }

    async fn sale_for_return(&self, code: &str) -> Result<Option<ShopSaleForReturn>, SyncError> {
        self.shop_sale_for_return(code).await
    }
    async fn record_return(&self, record: &ReturnRecord) -> Result<ReturnOutcome, SyncError> {
        self.shop_record_return(record).await
    }

    async fn record_z_report(&self, report: &ZReportRecord) -> Result<ZReportOutcome, SyncError> {
        #[derive(serde::Deserialize)]
        struct Wire {
            duplicate: bool,
            #[serde(rename = "zReport")]
            z_report: WireReport,
        }
        #[derive(serde::Deserialize)]
        struct WireReport {
            id: String,
            number: u64,
        }
        let w: Wire = self
            .gql(
                "posRecordZReport",
                "mutation($i:PosZReportInput!){ posRecordZReport(input:$i){ duplicate zReport { id number } } }",
                json!({ "i": report }),
            )
            .await?;
        Ok(ZReportOutcome {
            duplicate: w.duplicate,
            id: w.z_report.id,
            number: w.z_report.number,
        })
    }

    async fn push_hints(&self, hint: Arc<Notify>) {
        let mut failures: u32 = 0;
        loop {
            let started = std::time::Instant::now();
            let result = self.sse_once(&hint).await;
            if started.elapsed() > Duration::from_secs(30) {
                failures = 0;
            }
            if let Err(e) = &result {
                tracing::debug!("push hints: {e}");
            }
            failures = failures.saturating_add(1);
            // 0.5 s, 1 s, 2 s … up to 30 s, with ±25 % jitter.
            let base_ms = 500u64.saturating_mul(1 << failures.min(6)).min(30_000);
            let jitter = rand::thread_rng().gen_range(0..=base_ms / 2);
            tokio::time::sleep(Duration::from_millis(base_ms * 3 / 4 + jitter)).await;
        }
    }
}
