//! Returns of sales made on another register or on the web shop, through two registers (T01 and
//! T02, each on its own real SQLite file with the demo data and simulated devices) and a shop
//! that keeps what the registers queue for it: the sale documents (`sale.completed`) and the
//! returns (`return.completed`), exactly as the outbox worker sends them to the real plugin
//! (`sync/tests/vendure.rs` and `api/tests/shop_real.rs` cover that leg against Vendure).
//!
//! What a manager sees: T01's receipt scanned at T02 is found in the shop, returned at T02 with
//! a refund in T02's drawer and a document that corrects T01's receipt; then neither register
//! can return more than was sold between them; offline, a sale fetched before is still found
//! (flagged), one never fetched gets a clear message; a paid web order is found by its code,
//! its online payment cannot be refunded at the register (cash with a manager, or store
//! credit), its gift-card part goes back onto the card.

mod support;

use pos_api::Api;
use pos_api::dto::{RefundToDto, TenderKindDto};
use pos_api::events::NoEvents;
use pos_api::register::Register;
use pos_api::register::gift_card_shop::ShopFuture;
use pos_api::register::remote_returns::SaleFinder;
use pos_sync::SyncError;
use pos_sync::connector::ShopSaleForReturn;
use pos_sync::returns::{
    OnlineOrder, OnlineOrderLine, OnlinePayment, ReturnLineRecord, SaleSource, ShopReturn,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use support::{
    FixedClock, GIFT_50, demo_config, on_hand, query, return_line, return_request, runtime,
    start_register_on,
};

/// What the shop keeps of the registers' queued documents.
#[derive(Default)]
struct Shop {
    /// sale id → (terminal, receipt, CompletedSale JSON)
    sales: Mutex<BTreeMap<String, (String, String, String)>>,
    /// order code → the web order
    orders: Mutex<BTreeMap<String, OnlineOrder>>,
    /// (sale id or order code) → returns
    returns: Mutex<BTreeMap<String, Vec<ShopReturn>>>,
    offline: AtomicBool,
}

impl Shop {
    /// Takes in what a register queued for the shop (what its outbox worker would deliver).
    fn take_queued(&self, db: &Path, terminal: &str) {
        let c = rusqlite::Connection::open(db).unwrap();
        let mut st = c
            .prepare("SELECT kind, payload FROM outbox WHERE kind IN ('sale.completed', 'return.completed') ORDER BY id")
            .unwrap();
        let rows: Vec<(String, String)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (kind, payload) in rows {
            let v: serde_json::Value = serde_json::from_str(&payload).unwrap();
            if kind == "sale.completed" {
                let sale: pos_core::CompletedSale = serde_json::from_value(v).unwrap();
                self.sales.lock().unwrap().insert(
                    sale.id().to_string(),
                    (terminal.to_owned(), sale.receipt().to_string(), payload),
                );
                continue;
            }
            let ret: pos_core::returns::CompletedReturn =
                serde_json::from_value(v["document"].clone()).unwrap();
            let key = v["orderCode"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| ret.original.as_ref().unwrap().id.to_string());
            let sold: Vec<(u32, i64)> = serde_json::from_value(v["sold"].clone()).unwrap();
            let record = ShopReturn {
                return_id: ret.id.to_string(),
                terminal_id: terminal.to_owned(),
                return_number: ret.number.to_string(),
                occurred_at: ret.at.to_string(),
                lines: ret
                    .lines
                    .iter()
                    .map(|l| {
                        let no = l.sale_line_no.unwrap();
                        ReturnLineRecord {
                            sale_line_no: no,
                            sku: l.product.sku.clone(),
                            quantity: match l.quantity {
                                pos_core::Quantity::Units(n) | pos_core::Quantity::Grams(n) => n,
                            },
                            sold_quantity: sold.iter().find(|(n, _)| *n == no).unwrap().1,
                        }
                    })
                    .collect(),
                document: v["document"].to_string(),
            };
            let mut all = self.returns.lock().unwrap();
            let list = all.entry(key).or_default();
            if !list.iter().any(|r| r.return_id == record.return_id) {
                list.push(record);
            }
        }
    }

    fn find(&self, code: &str) -> Option<ShopSaleForReturn> {
        let sales = self.sales.lock().unwrap();
        let returns = self.returns.lock().unwrap();
        if let Some((id, (terminal, receipt, doc))) = sales
            .iter()
            .find(|(id, (_, receipt, _))| id.as_str() == code || receipt.as_str() == code)
        {
            return Some(ShopSaleForReturn {
                source: SaleSource::Pos,
                sale_id: Some(id.clone()),
                order_code: format!("ORD{}", &id[..8]),
                terminal_id: Some(terminal.clone()),
                receipt_number: Some(receipt.clone()),
                document: Some(doc.clone()),
                order: None,
                returns: returns.get(id).cloned().unwrap_or_default(),
                gift_card_redeems: Vec::new(),
            });
        }
        let order = self.orders.lock().unwrap().get(code).cloned()?;
        Some(ShopSaleForReturn {
            source: SaleSource::Online,
            sale_id: None,
            order_code: order.code.clone(),
            terminal_id: None,
            receipt_number: None,
            document: None,
            returns: returns.get(code).cloned().unwrap_or_default(),
            gift_card_redeems: Vec::new(),
            order: Some(order),
        })
    }
}

struct Finder(Arc<Shop>);

impl SaleFinder for Finder {
    fn sale_for_return(&self, code: String) -> ShopFuture<Option<ShopSaleForReturn>> {
        let shop = self.0.clone();
        Box::pin(async move {
            if shop.offline.load(Ordering::SeqCst) {
                return Err(SyncError::Unreachable("connection refused".into()));
            }
            Ok(shop.find(&code))
        })
    }
}

struct Till {
    db: PathBuf,
    register: Arc<Register>,
}

/// Register `terminal` of a Spanish store with 300 demo products on `<terminal>.db` in `dir`,
/// at 2026-11-22 10:30 UTC, finding other registers' sales in `shop`.
fn open_till(rt: &tokio::runtime::Runtime, dir: &Path, terminal: &str, shop: &Arc<Shop>) -> Till {
    let db = dir.join(format!("{terminal}.db"));
    let register = start_register_on(
        rt,
        demo_config(&db, terminal, 300, pos_store::Country::Es),
        Arc::new(NoEvents),
        FixedClock::at(time::macros::datetime!(2026-11-22 10:30 UTC)),
    );
    register.use_sale_finder(Some(Arc::new(Finder(shop.clone()))));
    Till { db, register }
}

/// Barcode, variant id, sku, price and tax rate of unit-priced demo products.
fn products(db: &Path) -> Vec<(String, String, String, i64, u32)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare(
            "SELECT b.code, v.id, v.sku, v.price_minor, t.rate_bps FROM barcode b \
             JOIN variant v ON v.id = b.variant_id JOIN product p ON p.id = v.product_id \
             JOIN tax_category t ON t.code = p.tax_code \
             WHERE p.by_weight = 0 ORDER BY b.code LIMIT 10",
        )
        .unwrap();
    st.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[test]
fn another_registers_sale_is_returned_here_and_neither_register_returns_more_than_was_sold() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let shop = Arc::new(Shop::default());
    let a = open_till(&rt, dir.path(), "T01", &shop);
    let b = open_till(&rt, dir.path(), "T02", &shop);
    let p = products(&a.db);
    let stock_b = on_hand(&b.db, &p[0].1);

    // T01 sells 3 + 1 in cash; its outbox reaches the shop.
    let (sale_id, total) = rt.block_on(async {
        let r = &a.register;
        r.login("1234".into()).await.unwrap();
        let s = r.scan(p[0].0.clone()).await.unwrap();
        r.set_quantity(s.last_line_id.unwrap(), 3).await.unwrap();
        let s = r.scan(p[1].0.clone()).await.unwrap();
        let done = r
            .pay(TenderKindDto::Cash, s.total.minor)
            .await
            .unwrap()
            .completed
            .unwrap();
        assert_eq!(done.receipt_number, "T01-000001");
        (done.sale_id, s.total.minor)
    });
    shop.take_queued(&a.db, "T01");

    rt.block_on(async {
        let r = &b.register;
        r.login("9999".into()).await.unwrap();
        // Scanned at T02: not T02's, found in the shop.
        let sale = r.returns_find_receipt("T01-000001".into()).await.unwrap();
        assert_eq!(sale.sale_id, sale_id);
        assert_eq!(sale.sold_at, "terminal");
        assert_eq!(sale.sold_by.as_deref(), Some("T01"));
        assert!(!sale.offline_copy);
        assert_eq!(
            sale.lines
                .iter()
                .map(|l| (l.sold, l.returnable))
                .collect::<Vec<_>>(),
            vec![(3, 3), (1, 1)]
        );
        assert_eq!(sale.total.minor, total);

        // Two of the three back, in cash from T02's drawer.
        let done = r
            .returns_commit(
                return_request(&sale_id, vec![return_line(1, 2)], RefundToDto::Original),
                None,
            )
            .await
            .unwrap();
        assert_eq!(done.number, "T02R-000001");
        assert_eq!(done.original.as_deref(), Some("T01-000001"));
        assert_eq!(done.refunds.len(), 1);
        assert_eq!(done.refunds[0].kind, TenderKindDto::Cash);
        assert_eq!(done.total.minor, 2 * p[0].3);
        let text = done.receipt.lines.join("\n");
        assert!(text.contains("T01-000001"), "{text}");
        assert!(text.contains("T02R-000001"), "{text}");
        // The drawer that paid it out expects that much less.
        let x = r.x_report(false).await.unwrap();
        assert_eq!((x.refunds, x.refunded.minor), (1, 2 * p[0].3));
        assert_eq!(x.expected.minor, x.float.minor - 2 * p[0].3);
        assert_eq!(
            x.total.minor, 0,
            "T02 sold nothing: T01's sale is not in T02's report"
        );
    });
    // T02's stock went up by 2 and the shop gets the return and the stock adjustment.
    assert_eq!(on_hand(&b.db, &p[0].1), stock_b + 2);
    assert_eq!(
        query::<String>(
            &b.db,
            "SELECT json_extract(payload, '$.sold') FROM outbox WHERE kind = 'return.completed'"
        ),
        "[[1,3]]"
    );
    assert_eq!(
        query::<i64>(
            &b.db,
            "SELECT count(*) FROM outbox WHERE kind = 'stock.adjusted' AND json_extract(payload, '$.reason') = 'RETURN' AND json_extract(payload, '$.delta') = 2"
        ),
        1
    );
    shop.take_queued(&b.db, "T02");

    rt.block_on(async {
        // Back at T01: its own sale shows T02's return, and only 1 + 1 can still come back.
        let r = &a.register;
        r.login("9999".into()).await.unwrap();
        let sale = r.returns_find_receipt("T01-000001".into()).await.unwrap();
        assert_eq!(sale.sold_at, "here");
        assert_eq!(
            sale.lines.iter().map(|l| l.returnable).collect::<Vec<_>>(),
            vec![1, 1]
        );
        assert_eq!(sale.earlier_returns, vec!["T02R-000001".to_owned()]);
        let e = r
            .returns_commit(
                return_request(&sale_id, vec![return_line(1, 2)], RefundToDto::Original),
                None,
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, "returns.more_than_returnable");
        assert_eq!(e.params["remaining"], "1");
        // The rest at T01: the two returns refund exactly the sale.
        let rest = r
            .returns_commit(
                return_request(
                    &sale_id,
                    vec![return_line(1, 1), return_line(2, 1)],
                    RefundToDto::Original,
                ),
                None,
            )
            .await
            .unwrap();
        assert_eq!(rest.number, "T01R-000001");
        assert_eq!(rest.total.minor + 2 * p[0].3, total);
    });
    shop.take_queued(&a.db, "T01");

    rt.block_on(async {
        // T02 again: nothing is left to return, from either register.
        let r = &b.register;
        let sale = r.returns_find_receipt("T01-000001".into()).await.unwrap();
        assert_eq!(
            sale.lines.iter().map(|l| l.returnable).collect::<Vec<_>>(),
            vec![0, 0]
        );
        let mut numbers = sale.earlier_returns.clone();
        numbers.sort();
        assert_eq!(numbers, vec!["T01R-000001", "T02R-000001"]);
        let e = r
            .returns_commit(
                return_request(&sale_id, vec![return_line(2, 1)], RefundToDto::Original),
                None,
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, "returns.more_than_returnable");

        // Offline: the sale fetched before is still found, flagged; an unknown one is not.
        shop.offline.store(true, Ordering::SeqCst);
        let kept = r.returns_find_receipt("T01-000001".into()).await.unwrap();
        assert!(kept.offline_copy);
        let e = r
            .returns_find_receipt("T01-000007".into())
            .await
            .unwrap_err();
        assert_eq!(e.code, "returns.shop_offline");
        shop.offline.store(false, Ordering::SeqCst);
        let e = r
            .returns_find_receipt("T01-000007".into())
            .await
            .unwrap_err();
        assert_eq!(e.code, "returns.unknown_anywhere");
    });
    // T02's own figures never include T01's sale.
    assert_eq!(query::<i64>(&b.db, "SELECT count(*) FROM sale"), 0);
    assert_eq!(
        query::<i64>(&b.db, "SELECT count(*) FROM sale_return_remote"),
        1
    );
}

#[test]
fn a_paid_web_order_is_refunded_in_cash_with_a_manager_or_to_its_gift_card_never_to_its_online_payment()
 {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let shop = Arc::new(Shop::default());
    let b = open_till(&rt, dir.path(), "T02", &shop);
    let p = products(&b.db);
    let stock = on_hand(&b.db, &p[2].1);
    // 2 × product 2 less a 1,00 € promotion, 1 × product 3; product 3's worth paid with one of
    // the shop's gift cards, the rest online.
    let l1 = 2 * p[2].3 - 100;
    let l2 = p[3].3;
    shop.orders.lock().unwrap().insert(
        "WQ7Z2K9D".into(),
        OnlineOrder {
            code: "WQ7Z2K9D".into(),
            state: "PaymentSettled".into(),
            order_placed_at: Some("2026-11-20T18:02:11Z".into()),
            currency_code: "EUR".into(),
            prices_include_tax: true,
            total_with_tax_minor: l1 + l2 + 500,
            customer_email: Some("lucia@example.com".into()),
            customer_name: Some("Lucía Pérez".into()),
            lines: vec![
                OnlineOrderLine {
                    line_no: 1,
                    sku: p[2].2.clone(),
                    name: "web name".into(),
                    quantity: 2,
                    unit_price_with_tax_minor: p[2].3,
                    line_price_with_tax_minor: l1,
                    unit_price_minor: None,
                    line_price_minor: None,
                    tax_rate_bps: p[2].4,
                },
                OnlineOrderLine {
                    line_no: 2,
                    sku: p[3].2.clone(),
                    name: "web name 2".into(),
                    quantity: 1,
                    unit_price_with_tax_minor: p[3].3,
                    line_price_with_tax_minor: l2,
                    unit_price_minor: None,
                    line_price_minor: None,
                    tax_rate_bps: p[3].4,
                },
            ],
            payments: vec![
                OnlinePayment {
                    method: "pos-gift-card".into(),
                    amount_minor: l2,
                    state: "Settled".into(),
                    transaction_id: Some("gc-redeem-key-1".into()),
                    gift_card_code: Some(GIFT_50.into()),
                },
                OnlinePayment {
                    method: "standard-payment".into(),
                    // The goods and 5,00 € of shipping (not returned at a register).
                    amount_minor: l1 + 500,
                    state: "Settled".into(),
                    transaction_id: Some("pi_123".into()),
                    gift_card_code: None,
                },
            ],
        },
    );
    shop.orders.lock().unwrap().insert(
        "UNPAID01".into(),
        OnlineOrder {
            code: "UNPAID01".into(),
            state: "ArrangingPayment".into(),
            order_placed_at: None,
            currency_code: "EUR".into(),
            prices_include_tax: true,
            total_with_tax_minor: 100,
            customer_email: None,
            customer_name: None,
            lines: Vec::new(),
            payments: Vec::new(),
        },
    );
    rt.block_on(async {
        let r = &b.register;
        r.login("1234".into()).await.unwrap();
        // A mistyped order code is unknown everywhere, not "not a receipt code".
        let e = r
            .returns_find_receipt("NOSUCHORDER1".into())
            .await
            .unwrap_err();
        assert_eq!(e.code, "returns.unknown_anywhere");
        let e = r.returns_find_receipt("UNPAID01".into()).await.unwrap_err();
        assert_eq!(e.code, "returns.order_not_paid");
        assert_eq!(e.params["state"], "ArrangingPayment");

        let sale = r.returns_find_receipt(" WQ7Z2K9D ".into()).await.unwrap();
        assert_eq!(sale.sold_at, "online");
        assert_eq!(sale.sold_by.as_deref(), Some("WQ7Z2K9D"));
        assert!(sale.paid_online);
        assert_eq!(
            sale.total.minor,
            l1 + l2,
            "the order's total, promotion included"
        );
        assert_eq!(
            sale.lines
                .iter()
                .map(|l| (l.sku.clone(), l.sold, l.amount.minor))
                .collect::<Vec<_>>(),
            vec![(p[2].2.clone(), 2, l1), (p[3].2.clone(), 1, l2)]
        );
        // The catalog's names, not the web shop's plain one.
        assert_ne!(sale.lines[0].names.get("es").map(String::as_str), None);

        // To the original payments: the online one cannot be refunded here.
        let e = r
            .returns_preview(return_request(
                &sale.sale_id,
                vec![return_line(1, 2)],
                RefundToDto::Original,
            ))
            .await
            .unwrap_err();
        assert_eq!(e.code, "returns.paid_online");
        // In cash: a cashier needs a manager.
        let cash = return_request(&sale.sale_id, vec![return_line(1, 1)], RefundToDto::Cash);
        assert!(
            r.returns_preview(cash.clone())
                .await
                .unwrap()
                .needs_approval
        );
        let e = r.returns_commit(cash.clone(), None).await.unwrap_err();
        assert_eq!(e.code, "auth.approval_required");
        let done = r.returns_commit(cash, Some("9999".into())).await.unwrap();
        assert_eq!(done.refunds[0].kind, TenderKindDto::Cash);
        // Half the line: half of its price after the promotion.
        assert_eq!(done.total.minor, (l1 + 1) / 2);
        assert_eq!(done.original.as_deref(), Some("WQ7Z2K9D"));
        let text = done.receipt.lines.join("\n");
        assert!(
            done.receipt
                .lines
                .iter()
                .any(|l| l.starts_with("Rectifica a") && l.contains("WQ7Z2K9D de 20/11/2026")),
            "{text}"
        );

        // What the gift card paid goes back onto the card, to the original tender.
        let before = r
            .gift_card_balance(GIFT_50.into())
            .await
            .unwrap()
            .balance
            .minor;
        let back = r
            .returns_commit(
                return_request(
                    &sale.sale_id,
                    vec![return_line(2, 1)],
                    RefundToDto::Original,
                ),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            back.refunds
                .iter()
                .map(|x| (x.kind, x.amount.minor))
                .collect::<Vec<_>>(),
            vec![(TenderKindDto::GiftCard, l2)]
        );
        assert_eq!(
            r.gift_card_balance(GIFT_50.into())
                .await
                .unwrap()
                .balance
                .minor,
            before + l2
        );
    });
    assert_eq!(on_hand(&b.db, &p[2].1), stock + 1, "back on T02's shelf");
    assert_eq!(
        query::<Option<String>>(
            &b.db,
            "SELECT json_extract(payload, '$.orderCode') FROM outbox WHERE kind = 'return.completed'"
        )
        .as_deref(),
        Some("WQ7Z2K9D"),
        "the shop learns of it under the order's code"
    );
}
