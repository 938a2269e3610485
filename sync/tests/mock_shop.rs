//! The outbox worker and the Vendure connector against a scripted HTTP server on 127.0.0.1
//! (no real shop needed): malformed answers, expired tokens, 5xx, and the register's stock view
//! on a real SQLite file.

use pos_core::sale::{Cashier, SaleContext};
use pos_core::{
    Cart, CashRounding, CompletedSale, Currency, Money, Quantity, TaxPolicy, Tender, TenderKind,
};
use pos_store::sync_state::ShopStockFigure;
use pos_store::{CatalogBatch, LocationRecord, ProductRecord, Store, TaxCategory, VariantRecord};
use pos_sync::clock::{Backoff, Clock, Jitter};
use pos_sync::outbox::OutboxContext;
use pos_sync::{Secret, ShopConfig, SyncError, VendureConnector};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

const T0: OffsetDateTime = datetime!(2026-11-22 10:00 UTC);
const LOC: &str = "shop";

struct FixedClock;
impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        T0
    }
}
struct NoJitter;
impl Jitter for NoJitter {
    fn permille(&self) -> u32 {
        1000
    }
}

/// A scripted shop: `answer(operation, request body)` → (HTTP status, JSON or raw body).
/// Records every operation name it saw.
fn mock_shop(
    answer: impl Fn(&str, &Value) -> (u16, String) + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let (answer, log) = (answer.clone(), log.clone());
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 4096];
                let (end, len) = loop {
                    let n = conn.read(&mut tmp).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                l.strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap())
                            })
                            .unwrap_or(0);
                        break (end, len);
                    }
                };
                while buf.len() < end + 4 + len {
                    let n = conn.read(&mut tmp).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                }
                let body: Value = serde_json::from_slice(&buf[end + 4..]).unwrap_or(Value::Null);
                let query = body["query"].as_str().unwrap_or("");
                let op = [
                    "login",
                    "posRecordZReport",
                    "posRecordSales",
                    "posRecordSale",
                    "posWhoAmI",
                    "posStock",
                    "posMarkCollected",
                ]
                .into_iter()
                .find(|op| query.contains(op))
                .unwrap_or("other");
                log.lock().unwrap().push(op.to_owned());
                let (status, text) = answer(op, &body);
                let extra = if op == "login" {
                    "vendure-auth-token: tok-123\r\n"
                } else {
                    ""
                };
                let _ = conn.write_all(
                    format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\nconnection: close\r\n\r\n{text}",
                        text.len()
                    )
                    .as_bytes(),
                );
            });
        }
    });
    (url, seen)
}

fn login_ok() -> (u16, String) {
    (
        200,
        json!({"data":{"login":{"__typename":"CurrentUser","id":"1","identifier":"till-1"}}})
            .to_string(),
    )
}

fn connector(url: &str) -> VendureConnector {
    let mut cfg = ShopConfig::new(url, "till-1", Secret::new("pw-pw-pw-pw-pw")).unwrap();
    cfg.request_timeout = Duration::from_secs(3);
    VendureConnector::new(&cfg).unwrap()
}

fn catalog() -> CatalogBatch {
    CatalogBatch {
        tax_categories: vec![TaxCategory {
            code: "std".into(),
            rate_bps: 2100,
            reduced: false,
            names: BTreeMap::new(),
        }],
        locations: vec![LocationRecord {
            id: LOC.into(),
            name: "Shop".into(),
        }],
        products: vec![ProductRecord {
            id: "p1".into(),
            names: BTreeMap::from([("en".into(), "Tee".into())]),
            description: None,
            by_weight: false,
            tax_code: "std".into(),
            image_url: None,
            variants: vec![VariantRecord {
                id: "v1".into(),
                sku: "TS-1".into(),
                price: Money::new(1000, Currency::Eur),
                shop_product_id: None,
                shop_variant_id: None,
                barcodes: vec![],
                stock: vec![],
            }],
        }],
    }
}

fn store_with_sale(path: &Path, qty: i64) -> (Store, CompletedSale) {
    let mut store = Store::open(path).unwrap();
    store.upsert_catalog(&catalog(), T0).unwrap();
    let sale = sell(&mut store, qty);
    (store, sale)
}

fn sell(store: &mut Store, qty: i64) -> CompletedSale {
    let item = store.find_by_sku("TS-1", LOC).unwrap().unwrap();
    let mut cart = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
    cart.add(item.to_product_ref(), Quantity::Units(qty))
        .unwrap();
    store
        .commit_sale("T01", LOC, |receipt| {
            let total = cart.totals().unwrap().total;
            cart.complete(
                vec![Tender {
                    kind: TenderKind::Cash,
                    amount: Money::new(total.minor + 500, Currency::Eur),
                    reference: None,
                }],
                SaleContext {
                    id: Uuid::new_v4(),
                    receipt,
                    terminal_id: "T01".into(),
                    cashier: Cashier {
                        id: "u".into(),
                        name: "Ana".into(),
                    },
                    at: T0,
                    cash_rounding: CashRounding::NONE,
                },
            )
        })
        .unwrap()
}

fn ctx<'a>(
    c: &'a VendureConnector,
    store: &'a Mutex<Store>,
) -> OutboxContext<'a, VendureConnector> {
    OutboxContext {
        connector: c,
        store,
        clock: &FixedClock,
        jitter: &NoJitter,
        backoff: Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        },
        terminal_id: "till-1",
        location_id: LOC,
        batch: 10,
    }
}

#[tokio::test]
async fn a_malformed_answer_is_a_typed_error_and_the_sale_stays_queued_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = store_with_sale(&dir.path().join("pos.db"), 1);
    let (url, _) = mock_shop(|op, _| match op {
        "login" => login_ok(),
        _ => (200, "<html>maintenance</html>".into()),
    });
    let c = connector(&url);
    let store = Mutex::new(store);
    let err = ctx(&c, &store).drain().await.unwrap_err();
    assert!(matches!(err, SyncError::Malformed { .. }), "{err:?}");
    let s = store.lock().unwrap();
    assert_eq!(s.outbox_len().unwrap(), 1, "nothing lost");
    let row = &s
        .outbox_pending(10, T0 + Duration::from_secs(3600))
        .unwrap()[0];
    assert_eq!(row.attempts, 1);
    assert!(
        row.last_error
            .as_deref()
            .unwrap()
            .contains("malformed answer"),
        "{:?}",
        row.last_error
    );
    assert_eq!(
        row.next_attempt_at,
        T0 + Duration::from_secs(1),
        "first retry after the base backoff"
    );
}

#[tokio::test]
async fn an_answer_missing_fields_is_malformed_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = store_with_sale(&dir.path().join("pos.db"), 1);
    let (url, _) = mock_shop(|op, _| match op {
        "login" => login_ok(),
        _ => (
            200,
            json!({"data":{"posRecordSales":[{"saleId":"x","result":{"saleId":"x"}}]}}).to_string(),
        ),
    });
    let c = connector(&url);
    let store = Mutex::new(store);
    let err = ctx(&c, &store).drain().await.unwrap_err();
    match err {
        SyncError::Malformed { context, detail } => {
            assert_eq!(context, "posRecordSales");
            assert!(detail.contains("missing field"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.lock().unwrap().outbox_len().unwrap(), 1);
}

#[tokio::test]
async fn an_expired_session_logs_in_again_and_the_sale_is_delivered_with_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let (store, sale) = store_with_sale(&dir.path().join("pos.db"), 2);
    let calls = Arc::new(Mutex::new(0));
    let sent: Arc<Mutex<Option<Value>>> = Arc::new(Mutex::new(None));
    let (calls2, sent2) = (calls.clone(), sent.clone());
    let (url, seen) = mock_shop(move |op, body| match op {
        "login" => login_ok(),
        _ => {
            let mut n = calls2.lock().unwrap();
            *n += 1;
            if *n == 1 {
                return (200, json!({"errors":[{"message":"You are not currently authorized to perform this action","extensions":{"code":"FORBIDDEN"}}]}).to_string());
            }
            let input = &body["variables"]["i"][0];
            *sent2.lock().unwrap() = Some(input.clone());
            let id = input["saleId"].as_str().unwrap();
            (200, json!({"data":{"posRecordSales":[{"saleId":id,"error":null,"result":{"saleId":id,"orderId":"7","orderCode":"ABC","duplicate":false,"conflicts":[
                {"id":"c1","saleId":id,"sku":"TS-1","reason":"INSUFFICIENT_STOCK","requested":2,"availableBefore":1}]}}]}}).to_string())
        }
    });
    let c = connector(&url);
    let store = Mutex::new(store);
    let report = ctx(&c, &store).drain().await.unwrap();
    assert_eq!(report.delivered, 1);
    assert_eq!(report.conflicts, 1);
    assert_eq!(
        *seen.lock().unwrap(),
        vec!["login", "posRecordSales", "login", "posRecordSales"],
        "logged in again after FORBIDDEN"
    );
    let s = store.lock().unwrap();
    assert_eq!(s.outbox_len().unwrap(), 0);
    let conflicts = s.stock_conflicts(false).unwrap();
    assert_eq!(conflicts.len(), 1, "listed for the manager");
    assert_eq!(
        conflicts[0].record.sale_id.as_deref(),
        Some(sale.id().to_string().as_str())
    );
    let input = sent.lock().unwrap().clone().unwrap();
    assert_eq!(input["saleId"], sale.id().to_string());
    assert_eq!(input["receiptNumber"], "T01-000001");
    assert_eq!(input["occurredAt"], "2026-11-22T10:00:00Z");
    assert_eq!(input["currencyCode"], "EUR");
    assert_eq!(input["pricesIncludeTax"], true);
    assert_eq!(
        input["lines"][0],
        json!({"sku":"TS-1","quantity":2,"unitPriceMinor":1000,"lineTotalMinor":2000,"taxRateBps":2100})
    );
    assert_eq!(input["totals"]["totalMinor"], 2000);
    assert_eq!(
        input["payments"],
        json!([{"method":"cash","amountMinor":2000}]),
        "cash net of change"
    );
}

#[tokio::test]
async fn a_5xx_means_offline_and_the_row_waits_for_its_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = store_with_sale(&dir.path().join("pos.db"), 1);
    let (url, _) = mock_shop(|op, _| match op {
        "login" => login_ok(),
        _ => (503, "{}".into()),
    });
    let c = connector(&url);
    let store = Mutex::new(store);
    let err = ctx(&c, &store).drain().await.unwrap_err();
    assert!(err.is_offline(), "{err:?}");
    let s = store.lock().unwrap();
    assert!(
        s.outbox_pending(10, T0).unwrap().is_empty(),
        "not due again at once"
    );
    assert_eq!(
        s.outbox_next_due().unwrap(),
        Some(T0 + Duration::from_secs(1))
    );
}

#[test]
fn the_register_shows_shop_sellable_minus_undelivered_sales_whatever_arrives_first() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = store_with_sale(&dir.path().join("pos.db"), 2);
    let figure = |n| {
        [ShopStockFigure {
            variant_id: "v1".into(),
            sellable: n,
        }]
    };
    let apply = |s: &mut Store, n: i64, cursor: &str| {
        s.apply_shop_changes(&CatalogBatch::default(), &figure(n), LOC, Some(cursor), T0)
            .unwrap()
    };
    apply(&mut store, 10, "c.1");
    assert_eq!(
        store.stock_on_hand("v1", LOC).unwrap(),
        Some(8),
        "10 in the shop − 2 not delivered"
    );
    assert_eq!(store.sync_value("cursor").unwrap().as_deref(), Some("c.1"));
    // A web order takes one while the sale is still queued.
    apply(&mut store, 9, "c.2");
    assert_eq!(store.stock_on_hand("v1", LOC).unwrap(), Some(7));
    // Delivery confirmed before the shop's new figure arrives: briefly the old figure.
    let id = store.outbox_pending(10, T0).unwrap()[0].id;
    store.mark_sales_delivered(&[id], LOC, T0).unwrap();
    assert_eq!(store.stock_on_hand("v1", LOC).unwrap(), Some(9));
    apply(&mut store, 7, "c.3");
    assert_eq!(
        store.stock_on_hand("v1", LOC).unwrap(),
        Some(7),
        "converged"
    );
    // The other order: the shop's figure first, then the delivery.
    sell(&mut store, 1);
    assert_eq!(store.stock_on_hand("v1", LOC).unwrap(), Some(6));
    apply(&mut store, 6, "c.4");
    assert_eq!(
        store.stock_on_hand("v1", LOC).unwrap(),
        Some(5),
        "briefly counted twice"
    );
    let id = store.outbox_pending(10, T0).unwrap()[0].id;
    store.mark_sales_delivered(&[id], LOC, T0).unwrap();
    assert_eq!(
        store.stock_on_hand("v1", LOC).unwrap(),
        Some(6),
        "converged"
    );
}

#[tokio::test]
async fn a_pickup_handed_over_offline_reaches_the_shop_once_when_it_answers_again() {
    use pos_store::shop::{HandOver, PickupLine, PickupOrder};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("pos.db")).unwrap();
    store
        .apply_pickups(
            &[PickupOrder {
                code: "WEB7".into(),
                state: "PaymentSettled".into(),
                customer_name: Some("Ana".into()),
                placed_at: Some("2026-11-22T09:00:00Z".into()),
                currency: "EUR".into(),
                total_minor: 999,
                location_name: "Store".into(),
                lines: vec![PickupLine {
                    sku: "A".into(),
                    name: "A".into(),
                    quantity: 1,
                    line_total_minor: 999,
                }],
            }],
            &[],
            T0,
        )
        .unwrap();
    assert_eq!(
        store.hand_over_pickup("WEB7", T0).unwrap(),
        HandOver::Queued
    );
    let up = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let keys = Arc::new(Mutex::new(Vec::<String>::new()));
    let (up2, keys2) = (up.clone(), keys.clone());
    let (url, seen) = mock_shop(move |op, body| match op {
        "login" => login_ok(),
        "posMarkCollected" if up2.load(std::sync::atomic::Ordering::SeqCst) => {
            keys2
                .lock()
                .unwrap()
                .push(body["variables"]["k"].as_str().unwrap_or("").to_owned());
            (
                200,
                json!({"data":{"posMarkCollected":{"status":"COLLECTED","duplicate":false,"orderCode":"WEB7","message":null}}})
                    .to_string(),
            )
        }
        _ => (503, "{}".into()),
    });
    let c = connector(&url);
    let store = Mutex::new(store);
    let err = ctx(&c, &store).drain().await.unwrap_err();
    assert!(err.is_offline(), "{err:?}");
    {
        let s = store.lock().unwrap();
        assert_eq!(s.outbox_len().unwrap(), 1, "kept while the shop is down");
        let p = &s.pickups().unwrap()[0];
        assert!(p.handed_over_at.is_some(), "shown as handed over");
        assert!(p.hand_over_error.as_deref().unwrap().contains("503"));
    }
    up.store(true, std::sync::atomic::Ordering::SeqCst);
    store.lock().unwrap().outbox_retry_all_now(T0).unwrap();
    let report = ctx(&c, &store).drain().await.unwrap();
    assert_eq!(report.delivered, 1);
    let again = ctx(&c, &store).drain().await.unwrap();
    assert_eq!(again.delivered, 0, "nothing left to send");
    assert_eq!(
        *keys.lock().unwrap(),
        ["pickup:WEB7"],
        "the shop was told once, with the order's key"
    );
    let s = store.lock().unwrap();
    assert_eq!(s.outbox_len().unwrap(), 0);
    assert!(s.pickups().unwrap().is_empty(), "it left the list");
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .filter(|o| *o == "posMarkCollected")
            .count()
            >= 2
    );
}

// --- Z reports (end of day) ---

fn operator() -> pos_store::cash::Operator {
    pos_store::cash::Operator {
        id: "u".into(),
        name: "Ana".into(),
    }
}

fn drawer(minor: i64) -> pos_core::cash::DrawerCount {
    pos_core::cash::DrawerCount::new(
        Currency::Eur,
        &[pos_core::cash::DenominationCount {
            value: 1,
            quantity: minor,
        }],
    )
    .unwrap()
}

/// Opens T01's register with a 100.00 float, sells `sales` times, counts `counted` and closes:
/// the Z report is queued in the outbox as the register does it.
fn close_day(store: &mut Store, sales: usize, counted: i64) -> pos_store::cash::SessionReport {
    store
        .begin_cash_session(
            Uuid::new_v4(),
            "T01",
            &operator(),
            &drawer(10_000),
            false,
            T0,
        )
        .unwrap();
    for _ in 0..sales {
        sell(store, 1);
    }
    let count = store
        .record_drawer_count("T01", &drawer(counted), &operator(), T0)
        .unwrap();
    store
        .close_cash_session("T01", count.id, &operator(), T0)
        .unwrap()
}

#[tokio::test]
async fn a_z_report_reaches_the_shop_once_with_its_figures_even_when_the_first_answer_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("pos.db")).unwrap();
    store.upsert_catalog(&catalog(), T0).unwrap();
    let z = close_day(&mut store, 2, 10_000);
    assert_eq!(z.z_number, Some(1));
    assert!(z.sales.total.minor > 0);
    // The shop stores the first send but its answer is lost (503); the resend is a duplicate.
    let stored = Arc::new(Mutex::new(BTreeMap::<String, Value>::new()));
    let sends = Arc::new(Mutex::new(Vec::<Value>::new()));
    let (stored2, sends2) = (stored.clone(), sends.clone());
    let (url, _) = mock_shop(move |op, body| match op {
        "login" => login_ok(),
        "posRecordSales" => {
            let items: Vec<Value> = body["variables"]["i"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| json!({"saleId": s["saleId"], "error": null, "result": {"saleId": s["saleId"], "orderId": "1", "orderCode": "X", "duplicate": false, "conflicts": []}}))
                .collect();
            (200, json!({"data":{"posRecordSales": items}}).to_string())
        }
        "posRecordZReport" => {
            let i = body["variables"]["i"].clone();
            sends2.lock().unwrap().push(i.clone());
            let key = i["idempotencyKey"].as_str().unwrap().to_owned();
            let mut stored = stored2.lock().unwrap();
            let duplicate = stored.contains_key(&key);
            stored.entry(key).or_insert(i.clone());
            if !duplicate {
                return (503, "{}".into());
            }
            (
                200,
                json!({"data":{"posRecordZReport":{"duplicate": true, "zReport": {"id": "9", "number": i["number"]}}}})
                    .to_string(),
            )
        }
        _ => (500, "{}".into()),
    });
    let c = connector(&url);
    let store = Mutex::new(store);
    let err = ctx(&c, &store).drain().await.unwrap_err();
    assert!(err.is_offline(), "{err:?}");
    assert_eq!(
        store.lock().unwrap().outbox_len().unwrap(),
        3,
        "the day's 2 sales and its Z report wait for an answer"
    );
    store.lock().unwrap().outbox_retry_all_now(T0).unwrap();
    let report = ctx(&c, &store).drain().await.unwrap();
    assert_eq!(
        (report.delivered, report.duplicates, report.failed),
        (3, 1, 0),
        "the 2 sales and the Z report (a duplicate)"
    );
    assert_eq!(
        store.lock().unwrap().outbox_len().unwrap(),
        0,
        "nothing stays queued"
    );
    assert_eq!(
        ctx(&c, &store).drain().await.unwrap(),
        Default::default(),
        "and nothing is sent again"
    );
    let sends = sends.lock().unwrap();
    assert_eq!(sends.len(), 2, "sent twice (the first answer was lost)");
    assert_eq!(sends[0], sends[1], "the resend is the same request");
    let stored = stored.lock().unwrap();
    assert_eq!(stored.len(), 1, "the shop holds one Z report");
    let sent = &stored["z:T01:1"];
    assert_eq!(
        sent["terminalCode"], "till-1",
        "the shop's terminal id, as on the sales"
    );
    assert_eq!(sent["number"], 1);
    assert_eq!(sent["currency"], "EUR");
    assert_eq!(sent["totalSalesMinor"], z.sales.total.minor);
    assert_eq!(sent["overShortMinor"], z.over_short.unwrap().minor);
    assert_eq!(sent["closedAt"], "2026-11-22T10:00:00Z");
    let report: pos_store::cash::SessionReport =
        serde_json::from_str(sent["report"].as_str().unwrap()).unwrap();
    assert_eq!(report, z, "the whole Z report, as the register made it");
}

/// A shop connector without Z reports (every other operation is unused here).
struct NoZReports;

impl pos_sync::Connector for NoZReports {
    fn capabilities(&self) -> pos_sync::Capabilities {
        pos_sync::Capabilities {
            stock_writes: pos_sync::connector::StockWrites::AbsoluteOnly,
            push: pos_sync::connector::Push::PollingOnly,
            max_page_size: 100,
            max_sale_batch: 10,
            rate_limit_per_sec: None,
            idempotent_sales: true,
            compare_and_set_stock: true,
            z_reports: false,
            gift_cards: false,
            shared_returns: false,
        }
    }
    async fn who_am_i(&self) -> Result<pos_sync::connector::WhoAmI, SyncError> {
        Err(SyncError::Unreachable("not used".into()))
    }
    async fn record_sale(
        &self,
        _: &pos_sync::connector::SaleRecord,
    ) -> Result<pos_sync::connector::SaleOutcome, SyncError> {
        Err(SyncError::Unreachable("not used".into()))
    }
    async fn adjust_stock(
        &self,
        _: &str,
        _: &str,
        _: i64,
        _: pos_sync::connector::StockReason,
        _: Option<&str>,
    ) -> Result<pos_sync::connector::AdjustOutcome, SyncError> {
        Err(SyncError::Unreachable("not used".into()))
    }
    async fn set_stock_if_unchanged(
        &self,
        _: &str,
        _: &str,
        _: i64,
        _: i64,
    ) -> Result<pos_sync::connector::SetStockOutcome, SyncError> {
        Err(SyncError::Unreachable("not used".into()))
    }
    async fn catalog_page(
        &self,
        _: Option<&str>,
        _: u32,
    ) -> Result<pos_sync::connector::CatalogPage, SyncError> {
        Err(SyncError::Unreachable("not used".into()))
    }
    async fn changes(
        &self,
        _: Option<&str>,
        _: u32,
    ) -> Result<pos_sync::connector::ChangePage, SyncError> {
        Err(SyncError::Unreachable("not used".into()))
    }
    async fn stock(&self, _: &[String]) -> Result<Vec<pos_sync::connector::ShopStock>, SyncError> {
        Err(SyncError::Unreachable("not used".into()))
    }
    async fn pickups(&self) -> Result<Vec<pos_sync::connector::ShopOrder>, SyncError> {
        Err(SyncError::Unreachable("not used".into()))
    }
    async fn mark_collected(
        &self,
        _: &str,
        _: &str,
    ) -> Result<pos_sync::connector::CollectOutcome, SyncError> {
        Err(SyncError::Unreachable("not used".into()))
    }
}

#[tokio::test]
async fn a_shop_without_z_reports_parks_the_report_as_not_deliverable_instead_of_retrying() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.db");
    let mut store = Store::open(&path).unwrap();
    close_day(&mut store, 0, 9_950);
    let store = Mutex::new(store);
    let c = NoZReports;
    let ctx = OutboxContext {
        connector: &c,
        store: &store,
        clock: &FixedClock,
        jitter: &NoJitter,
        backoff: Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        },
        terminal_id: "till-1",
        location_id: LOC,
        batch: 10,
    };
    let report = ctx.drain().await.unwrap();
    assert_eq!(
        (report.not_deliverable, report.failed, report.delivered),
        (1, 0, 0),
        "said as not deliverable, not as a failure to retry"
    );
    {
        let s = store.lock().unwrap();
        assert_eq!(
            s.outbox_len().unwrap(),
            1,
            "the report is not in the shop, so it is still counted"
        );
        assert!(
            s.outbox_pending(10, T0 + time::Duration::hours(23))
                .unwrap()
                .is_empty(),
            "not retried within the day"
        );
        let parked = s
            .outbox_pending(10, T0 + pos_sync::outbox::NOT_DELIVERABLE_RECHECK)
            .unwrap();
        assert_eq!(parked.len(), 1, "looked at again after a day");
        assert_eq!(parked[0].kind, pos_store::cash::Z_REPORT);
        assert!(
            parked[0]
                .last_error
                .as_deref()
                .unwrap()
                .starts_with("not deliverable: this shop does not take Z reports"),
            "{:?}",
            parked[0].last_error
        );
    }
    assert_eq!(
        ctx.drain().await.unwrap(),
        Default::default(),
        "a second drain does nothing"
    );
    drop(store);
    // The engine's status says so from the start (the header can say "not deliverable").
    let (tx, _rx) = tokio::sync::watch::channel(pos_sync::SyncStatus::default());
    let handle = pos_sync::SyncEngine::start_with(
        &path,
        Arc::new(NoZReports),
        pos_sync::TerminalSettings {
            terminal_id: "till-1".into(),
            location_id: LOC.into(),
            prices_include_tax: true,
        },
        tx,
        pos_sync::EngineOptions::default(),
    )
    .unwrap();
    let st = handle.status();
    assert_eq!((st.queued, st.not_deliverable), (1, 1), "{st:?}");
    handle.stop().await;
}

#[tokio::test]
async fn a_z_report_the_shop_refuses_as_conflicting_stays_queued_with_the_shops_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("pos.db")).unwrap();
    close_day(&mut store, 0, 10_000);
    let (url, _) = mock_shop(|op, _| {
        match op {
        "login" => login_ok(),
        "posRecordZReport" => (
            200,
            json!({"errors":[{"message":"Z report till-1 #1 is already recorded (key z:T01:1) with a different totalSalesMinor; a recorded Z report is never overwritten","extensions":{"code":"USER_INPUT_ERROR"}}],"data":null})
                .to_string(),
        ),
        _ => (500, "{}".into()),
    }
    });
    let c = connector(&url);
    let store = Mutex::new(store);
    let report = ctx(&c, &store).drain().await.unwrap();
    assert_eq!(
        (report.failed, report.not_deliverable, report.delivered),
        (1, 0, 0)
    );
    let s = store.lock().unwrap();
    assert_eq!(
        s.outbox_len().unwrap(),
        1,
        "never dropped: a person must look"
    );
    let row = &s
        .outbox_pending(10, T0 + time::Duration::seconds(2))
        .unwrap()[0];
    assert!(
        row.last_error
            .as_deref()
            .unwrap()
            .starts_with("rejected by the shop: Z report till-1 #1 is already recorded"),
        "{:?}",
        row.last_error
    );
    assert_eq!(
        pos_sync::outbox::not_deliverable_count(&s).unwrap(),
        0,
        "a conflict is not 'not deliverable'"
    );
}
