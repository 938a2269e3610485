//! Returns through the register on a real SQLite file with the demo data and the simulated
//! devices (printer, drawer, the ZVT payment terminal simulator): finding the sale by its
//! receipt code; a partial return then the rest, never more than sold; a cash refund lowers the
//! expected drawer in the X report; a card refund through the terminal with the original
//! transaction's reference on the printed document; gift-card and store-credit refunds change
//! the balances exactly; a return without a receipt needs a manager; restock and write-off reach
//! the shop's outbox with exact deltas; the documents in Spanish and Japanese; a return whose
//! commit failed after the card was refunded is committed exactly once, never refunded twice.

mod support;

use pos_api::Api;
use pos_api::dto::{
    RefundToDto, ReturnLineDto, ReturnRequestDto, ReturnSearchDto, TenderKindDto,
    UnreceiptedLineDto,
};
use pos_api::events::NoEvents;
use pos_api::register::{Register, RegisterConfig};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{
    FixedClock, GIFT_50, LUCIA, PABLO, RegisterOnDisk, demo_config, on_hand, printed, products,
    query, runtime, start_register_on, wait_for_terminal,
};

type Fixture = RegisterOnDisk;

/// Terminal T01 of a Spanish or Japanese store with 300 demo products, at 2026-11-22 10:30 UTC.
fn start(rt: &tokio::runtime::Runtime, db: &Path, country: pos_store::Country) -> Arc<Register> {
    start_register_on(
        rt,
        demo_config(db, "T01", 300, country),
        Arc::new(NoEvents),
        FixedClock::at(time::macros::datetime!(2026-11-22 10:30 UTC)),
    )
}

fn open(country: pos_store::Country) -> Fixture {
    RegisterOnDisk::open(
        300,
        country,
        Arc::new(NoEvents),
        FixedClock::at(time::macros::datetime!(2026-11-22 10:30 UTC)),
    )
}

fn line(no: u32, q: i64, write_off: Option<&str>) -> ReturnLineDto {
    ReturnLineDto {
        line_no: no,
        quantity: q,
        write_off: write_off.map(str::to_owned),
    }
}

fn with_receipt(sale_id: &str, lines: Vec<ReturnLineDto>) -> ReturnRequestDto {
    ReturnRequestDto {
        sale_id: Some(sale_id.to_owned()),
        lines,
        items: Vec::new(),
        refund_to: RefundToDto::Original,
    }
}

impl Fixture {
    /// Ana sells `items` (barcode, quantity) and pays with `kind` the whole total; returns
    /// (sale id, receipt number, total).
    fn sell(&self, items: &[(&str, i64)], kind: TenderKindDto) -> (String, String, i64) {
        self.block(async {
            let r = &self.register;
            r.login("1234".into()).await.unwrap();
            let mut total = 0;
            for (code, q) in items {
                let s = r.scan((*code).to_owned()).await.unwrap();
                let id = s.last_line_id.unwrap();
                if *q > 1 {
                    total = r.set_quantity(id, *q).await.unwrap().total.minor;
                } else {
                    total = s.total.minor;
                }
            }
            let done = r.pay(kind, total).await.unwrap().completed.unwrap();
            (done.sale_id, done.receipt_number, total)
        })
    }
}

#[test]
fn a_partial_return_then_the_rest_never_more_than_sold_and_cash_lowers_the_x_report() {
    let f = open(pos_store::Country::Es);
    let p = products(&f.db);
    let before = (on_hand(&f.db, &p[0].1), on_hand(&f.db, &p[1].1));
    let (sale_id, receipt, total) = f.sell(&[(&p[0].0, 3), (&p[1].0, 1)], TenderKindDto::Cash);
    assert_eq!(receipt, "T01-000001");
    f.block(async {
        let r = &f.register;
        // The receipt's QR code holds its number: scanning it finds the sale.
        let sale = r.returns_find_receipt(receipt.clone()).await.unwrap();
        assert_eq!(sale.sale_id, sale_id);
        assert_eq!(
            sale.lines
                .iter()
                .map(|l| (l.sold, l.returnable))
                .collect::<Vec<_>>(),
            vec![(3, 3), (1, 1)]
        );
        // Garbled, unknown and a return's own code each say what is wrong.
        for (code, expected) in [
            ("T01-00x001", "returns.bad_code"),
            ("%B6036^", "returns.bad_code"),
            ("T01-000099", "returns.unknown_sale"),
        ] {
            assert_eq!(
                r.returns_find_receipt(code.into()).await.unwrap_err().code,
                expected,
                "{code}"
            );
        }

        // Two of the three back to the shelf, in cash.
        let first = r
            .returns_commit(with_receipt(&sale_id, vec![line(1, 2, None)]), None)
            .await
            .unwrap();
        assert_eq!(first.number, "T01R-000001");
        assert_eq!(first.original.as_deref(), Some("T01-000001"));
        assert_eq!(first.refunds.len(), 1);
        assert_eq!(first.refunds[0].kind, TenderKindDto::Cash);
        assert_eq!(first.refunds[0].amount, first.total);
        assert_eq!(
            r.returns_find_receipt("T01R-000001".into())
                .await
                .unwrap_err()
                .code,
            "returns.is_a_return"
        );
        let sale = r.returns_open_sale(sale_id.clone()).await.unwrap();
        assert_eq!(
            sale.lines.iter().map(|l| l.returnable).collect::<Vec<_>>(),
            vec![1, 1],
            "sold minus returned"
        );
        assert_eq!(sale.earlier_returns, vec!["T01R-000001".to_owned()]);

        // Two more of the first line: only one is left.
        let e = r
            .returns_commit(with_receipt(&sale_id, vec![line(1, 2, None)]), None)
            .await
            .unwrap_err();
        assert_eq!(e.code, "returns.more_than_returnable");
        assert_eq!(e.params["remaining"], "1");

        // The rest, then nothing is left.
        let rest = r
            .returns_commit(
                with_receipt(&sale_id, vec![line(1, 1, None), line(2, 1, None)]),
                None,
            )
            .await
            .unwrap();
        assert_eq!(rest.number, "T01R-000002");
        assert_eq!(
            first.total.minor + rest.total.minor,
            total,
            "the returns refund exactly the sale"
        );
        let e = r
            .returns_commit(with_receipt(&sale_id, vec![line(2, 1, None)]), None)
            .await
            .unwrap_err();
        assert_eq!(e.code, "returns.more_than_returnable");

        // The X report (a manager's): two refunds, and the drawer expects nothing of the sale.
        r.login("9999".into()).await.unwrap();
        let x = r.x_report(false).await.unwrap();
        assert_eq!(x.refunds, 2);
        assert_eq!(x.refunded.minor, total);
        assert_eq!(x.cash_taken.minor, total);
        assert_eq!(
            x.expected.minor, x.float.minor,
            "float + the sale's cash − the cash refunded"
        );
        // The whole sale came back: nothing is left of it in the net total or the tax to
        // declare, and the refunds are shown per tender.
        assert_eq!(x.total.minor, total, "the sales' own total stays");
        assert_eq!(x.net_total.minor, 0, "sales − refunds");
        assert_eq!(x.tax_total.minor, 0, "tax net of the returns' tax");
        assert!(
            x.taxes.iter().all(|t| t.tax.minor == 0 && t.net.minor == 0),
            "{:?}",
            x.taxes
        );
        assert_eq!(x.tender_refunds.len(), 1);
        assert_eq!(x.tender_refunds[0].kind, TenderKindDto::Cash);
        assert_eq!(
            (x.tender_refunds[0].count, x.tender_refunds[0].amount.minor),
            (2, total)
        );
        // The printed X report shows the cash that went back out of the drawer.
        let before = r.printed_receipts().len();
        r.x_report(true).await.unwrap();
        let docs = printed(r, before + 1).await;
        let x_doc = docs.last().unwrap();
        let refunded = pos_api::locale::format_money(
            pos_core::Money::new(-total, pos_core::Currency::Eur),
            pos_api::locale::Lang::Es,
        );
        assert!(
            x_doc
                .lines()
                .any(|l| l.contains("Devoluciones en efectivo") && l.contains(&refunded)),
            "{x_doc}"
        );
        assert!(
            x_doc
                .lines()
                .any(|l| l.contains("Dev. Efectivo (2)") && l.contains(&refunded)),
            "{x_doc}"
        );
        let zero = pos_api::locale::format_money(
            pos_core::Money::new(0, pos_core::Currency::Eur),
            pos_api::locale::Lang::Es,
        );
        assert!(
            x_doc
                .lines()
                .any(|l| l.starts_with("TOTAL VENTAS") && l.ends_with(&zero)),
            "the total is net of the returns: {x_doc}"
        );
    });
    assert_eq!(
        (on_hand(&f.db, &p[0].1), on_hand(&f.db, &p[1].1)),
        before,
        "everything is back on the shelf"
    );
    // Every return wrote its audit row.
    assert_eq!(
        query::<i64>(
            &f.db,
            "SELECT count(*) FROM audit_log WHERE action = 'return'"
        ),
        2
    );
}

#[test]
fn a_card_refund_of_part_of_a_payment_goes_through_the_terminal_and_prints_the_original_reference_in_spanish()
 {
    let f = open(pos_store::Country::Es);
    let p = products(&f.db);
    f.block(wait_for_terminal(&f.register));
    let (sale_id, _, total) = f.sell(&[(&p[2].0, 2)], TenderKindDto::Card);
    let (orig_receipt, orig_trace): (i64, Option<i64>) = rusqlite::Connection::open(&f.db)
        .unwrap()
        .query_row(
            "SELECT json_extract(record, '$.state.approval.receipt_no'), \
             json_extract(record, '$.state.approval.trace_no') FROM pending_payments \
             WHERE ref_id = ?1",
            [format!("{sale_id}-1")],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    f.block(async {
        let r = &f.register;
        let done = r
            .returns_commit(with_receipt(&sale_id, vec![line(1, 1, None)]), None)
            .await
            .unwrap();
        // One of the two: part of the card payment, so a refund (06 31), not a reversal.
        assert_eq!(done.total.minor, total / 2);
        assert_eq!(done.refunds.len(), 1);
        assert_eq!(done.refunds[0].kind, TenderKindDto::Card);
        let orig = done.refunds[0].original_reference.clone().unwrap();
        assert!(orig.starts_with(&format!("{orig_receipt:04}/")), "{orig}");
        if let Some(t) = orig_trace {
            assert!(orig.ends_with(&format!("{t:06}")), "{orig}");
        }
        // The refund went through the terminal once, recorded before it was sent.
        let refunds: i64 = query(
            &f.db,
            &format!(
                "SELECT count(*) FROM pending_payments WHERE ref_id LIKE '{}-%' \
                 AND json_extract(record, '$.kind') = 'refund' \
                 AND json_extract(record, '$.state.state') = 'approved'",
                done.return_id
            ),
        );
        assert_eq!(refunds, 1);
        // The printed document: a factura rectificativa naming the invoice it corrects, the
        // amounts negative, the card refund with the original transaction's numbers.
        let docs = printed(r, 2).await;
        let doc = docs.last().unwrap();
        for needle in [
            "FACTURA RECTIFICATIVA (SIMPLIFICADA)",
            "Nº rectificativa",
            "T01R-000001",
            "Rectifica a",
            "T01-000001",
            "Abono en tarjeta",
            "Op. original (recibo/traza)",
            &orig,
            "TOTAL DEVUELTO",
            "IVA incluido",
        ] {
            assert!(doc.contains(needle), "{needle:?} missing in:\n{doc}");
        }
        let amount = pos_api::locale::format_money(
            pos_core::Money::new(-done.total.minor, pos_core::Currency::Eur),
            pos_api::locale::Lang::Es,
        );
        assert!(doc.contains(&amount), "{amount} missing in:\n{doc}");
        // The preview shows the same document.
        assert!(
            done.receipt
                .lines
                .iter()
                .any(|l| l.contains("TOTAL DEVUELTO"))
        );
    });
}

#[test]
fn the_whole_card_payment_of_todays_sale_is_reversed_naming_the_original_receipt() {
    let f = open(pos_store::Country::Es);
    let p = products(&f.db);
    f.block(wait_for_terminal(&f.register));
    let (sale_id, _, total) = f.sell(&[(&p[2].0, 1)], TenderKindDto::Card);
    let orig_receipt: i64 = query(
        &f.db,
        &format!(
            "SELECT json_extract(record, '$.state.approval.receipt_no') FROM pending_payments \
             WHERE ref_id = '{sale_id}-1'"
        ),
    );
    f.block(async {
        let r = &f.register;
        let done = r
            .returns_commit(with_receipt(&sale_id, vec![line(1, 1, None)]), None)
            .await
            .unwrap();
        assert_eq!(done.total.minor, total);
        assert_eq!(done.refunds.len(), 1);
        assert_eq!(done.refunds[0].kind, TenderKindDto::Card);
        // One reversal (06 30) of the original receipt, written before it was sent; no refund.
        let given_back = |kind: &str| -> i64 {
            query(
                &f.db,
                &format!(
                    "SELECT count(*) FROM pending_payments WHERE ref_id LIKE '{}-%' AND {kind} \
                     AND json_extract(record, '$.state.state') = 'approved'",
                    done.return_id
                ),
            )
        };
        assert_eq!(
            given_back(&format!(
                "json_extract(record, '$.kind.reversal.original_receipt_no') = {orig_receipt}"
            )),
            1
        );
        assert_eq!(given_back("json_extract(record, '$.kind') = 'refund'"), 0);
        // The document prints the terminal's storno slip.
        let docs = printed(r, 2).await;
        let doc = docs.last().unwrap();
        assert!(doc.contains("Abono en tarjeta"), "{doc}");
        assert!(doc.contains("STORNO"), "{doc}");
        // Nothing is left to give back.
        let e = r
            .returns_commit(with_receipt(&sale_id, vec![line(1, 1, None)]), None)
            .await
            .unwrap_err();
        assert_eq!(e.code, "returns.more_than_returnable");
    });
}

#[test]
fn gift_card_and_store_credit_refunds_change_the_balances_exactly() {
    let f = open(pos_store::Country::Es);
    let p = products(&f.db);
    let ledger = |sql: &str| -> i64 { query(&f.db, sql) };
    let gift = || {
        ledger(&format!(
            "SELECT balance FROM gift_card WHERE number = '{GIFT_50}'"
        ))
    };
    let credit = |c: &str| {
        ledger(&format!(
            "SELECT store_credit FROM customer WHERE id = '{c}'"
        ))
    };
    let (gift0, lucia0, pablo0) = (gift(), credit(LUCIA), credit(PABLO));
    // A sale paid 10,00 € by gift card, 5,00 € from Lucía's store credit, the rest in cash.
    let (sale_id, total) = f.block(async {
        let r = &f.register;
        r.login("1234".into()).await.unwrap();
        let mut total = 0;
        for (code, _) in p.iter().cycle() {
            total = r.scan(code.clone()).await.unwrap().total.minor;
            if total >= 2_000 {
                break;
            }
        }
        r.pay_gift_card(GIFT_50.into(), 1_000).await.unwrap();
        r.pay_store_credit(LUCIA.into(), 500).await.unwrap();
        let done = r
            .pay(TenderKindDto::Cash, total - 1_500)
            .await
            .unwrap()
            .completed
            .unwrap();
        (done.sale_id, total)
    });
    assert_eq!(gift(), gift0 - 1_000);
    assert_eq!(credit(LUCIA), lucia0 - 500);
    f.block(async {
        let r = &f.register;
        let sale = r.returns_open_sale(sale_id.clone()).await.unwrap();
        let all: Vec<_> = sale
            .lines
            .iter()
            .map(|l| line(l.line_no, l.returnable, None))
            .collect();
        let done = r
            .returns_commit(with_receipt(&sale_id, all), None)
            .await
            .unwrap();
        assert_eq!(done.total.minor, total);
        let kinds: Vec<_> = done
            .refunds
            .iter()
            .map(|x| (x.kind, x.amount.minor))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (TenderKindDto::GiftCard, 1_000),
                (TenderKindDto::StoreCredit, 500),
                (TenderKindDto::Cash, total - 1_500),
            ]
        );
    });
    assert_eq!(gift(), gift0, "the gift card has its 10,00 € back");
    assert_eq!(credit(LUCIA), lucia0, "Lucía has her 5,00 € back");

    // A second sale, returned entirely onto Pablo's store credit by choice.
    let (sale2, total2, _) = {
        let (id, _, t) = f.sell(&[(&p[3].0, 1)], TenderKindDto::Cash);
        (id, t, ())
    };
    f.block(async {
        let r = &f.register;
        let mut req = with_receipt(&sale2, vec![line(1, 1, None)]);
        req.refund_to = RefundToDto::StoreCredit {
            customer_id: PABLO.into(),
        };
        let preview = r.returns_preview(req.clone()).await.unwrap();
        assert_eq!(preview.total.minor, total2);
        assert!(!preview.needs_approval);
        let done = r.returns_commit(req, None).await.unwrap();
        assert_eq!(done.refunds[0].kind, TenderKindDto::StoreCredit);
    });
    assert_eq!(credit(PABLO), pablo0 + total2);
}

#[test]
fn a_return_without_a_receipt_needs_a_manager_and_is_audited() {
    let f = open(pos_store::Country::Es);
    let p = products(&f.db);
    let req = ReturnRequestDto {
        sale_id: None,
        lines: Vec::new(),
        items: vec![UnreceiptedLineDto {
            variant_id: p[4].1.clone(),
            quantity: 1,
            write_off: None,
        }],
        refund_to: RefundToDto::StoreCredit {
            customer_id: PABLO.into(),
        },
    };
    let pablo0: i64 = query(
        &f.db,
        "SELECT store_credit FROM customer WHERE id = 'c-0002'",
    );
    f.block(async {
        let r = &f.register;
        r.login("1234".into()).await.unwrap();
        let preview = r.returns_preview(req.clone()).await.unwrap();
        assert!(preview.needs_approval, "a cashier needs a manager");
        let e = r.returns_commit(req.clone(), None).await.unwrap_err();
        assert_eq!(e.code, "auth.approval_required");
        assert_eq!(e.params["permission"], "refund");
        // Ana's own PIN does not approve it.
        let e = r
            .returns_commit(req.clone(), Some("1234".into()))
            .await
            .unwrap_err();
        assert_eq!(e.code, "auth.approver_not_allowed");
        // Without a receipt there is no original tender to go back to.
        let mut original = req.clone();
        original.refund_to = RefundToDto::Original;
        assert_eq!(
            r.returns_commit(original, Some("9999".into()))
                .await
                .unwrap_err()
                .code,
            "returns.needs_customer"
        );
        let done = r
            .returns_commit(req.clone(), Some("9999".into()))
            .await
            .unwrap();
        assert_eq!(done.original, None);
        assert!(
            done.receipt.lines.iter().any(|l| l.contains("SIN TICKET")),
            "{:?}",
            done.receipt.lines
        );
        // A manager needs nobody.
        r.login("9999".into()).await.unwrap();
        assert!(!r.returns_preview(req.clone()).await.unwrap().needs_approval);
    });
    let pablo1: i64 = query(
        &f.db,
        "SELECT store_credit FROM customer WHERE id = 'c-0002'",
    );
    assert!(pablo1 > pablo0);
    let c = rusqlite::Connection::open(&f.db).unwrap();
    let (user, approver): (String, String) = c
        .query_row(
            "SELECT user_id, approver_id FROM audit_log WHERE action = 'return_without_receipt'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((user.as_str(), approver.as_str()), ("u-ana", "u-marta"));
    let failed: i64 = query(
        &f.db,
        "SELECT count(*) FROM audit_log WHERE action = 'approval_failed' \
         AND json_extract(detail, '$.for') = 'return_without_receipt'",
    );
    assert_eq!(failed, 1, "the refused approval is on the trail");
}

#[test]
fn restock_and_write_off_reach_the_shop_outbox_with_exact_deltas() {
    let f = open(pos_store::Country::Es);
    let p = products(&f.db);
    let (sale_id, _, _) = f.sell(&[(&p[0].0, 2), (&p[1].0, 3)], TenderKindDto::Cash);
    let stock0 = (on_hand(&f.db, &p[0].1), on_hand(&f.db, &p[1].1));
    let done = f.block(async {
        f.register
            .returns_commit(
                with_receipt(
                    &sale_id,
                    vec![line(1, 2, None), line(2, 3, Some("damaged"))],
                ),
                None,
            )
            .await
            .unwrap()
    });
    assert_eq!(
        (on_hand(&f.db, &p[0].1), on_hand(&f.db, &p[1].1)),
        (stock0.0 + 2, stock0.1),
        "restocked +2; the written-off 3 stay out of stock"
    );
    let c = rusqlite::Connection::open(&f.db).unwrap();
    let mut st = c
        .prepare(
            "SELECT idempotency_key, json_extract(payload, '$.delta'), json_extract(payload, '$.reason') \
             FROM outbox WHERE kind = 'stock.adjusted' ORDER BY id",
        )
        .unwrap();
    let rows: Vec<(String, i64, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let id = &done.return_id;
    assert_eq!(
        rows,
        vec![
            (format!("return:{id}:1:RETURN"), 2, "RETURN".into()),
            (format!("return:{id}:2:RETURN"), 3, "RETURN".into()),
            (format!("return:{id}:2:WRITE_OFF"), -3, "WRITE_OFF".into()),
        ]
    );
    // The write-off's note keeps its reason for the shop's loss report.
    let note: String = query(
        &f.db,
        "SELECT json_extract(payload, '$.note') FROM outbox WHERE idempotency_key LIKE '%WRITE_OFF'",
    );
    assert!(note.ends_with("damaged"), "{note}");
}

#[test]
fn the_japanese_return_receipt_names_the_original_and_prints_negative_yen() {
    let f = open(pos_store::Country::Jp);
    let p = products(&f.db);
    let (sale_id, receipt, total) = f.sell(&[(&p[0].0, 1), (&p[5].0, 1)], TenderKindDto::Cash);
    let docs = f.block(async {
        let r = &f.register;
        let done = r
            .returns_commit(
                with_receipt(&sale_id, vec![line(1, 1, None), line(2, 1, None)]),
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            done.total.minor, total,
            "a whole return refunds the whole sale"
        );
        printed(r, 2).await
    });
    let doc = docs.last().unwrap();
    let amount = pos_api::locale::format_money(
        pos_core::Money::new(-total, pos_core::Currency::Jpy),
        pos_api::locale::Lang::Ja,
    );
    for needle in [
        "返品レシート",
        "返品番号",
        "T01R-000001",
        "元レシート",
        receipt.as_str(),
        "返金合計",
        "現金返金",
        "内消費税",
        amount.as_str(),
    ] {
        assert!(doc.contains(needle), "{needle:?} missing in:\n{doc}");
    }
}

#[test]
fn a_return_interrupted_after_the_card_refund_is_committed_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let rt = runtime();
    let r = start(&rt, &db, pos_store::Country::Es);
    let p = products(&db);
    let (sale_id, total) = rt.block_on(async {
        wait_for_terminal(&r).await;
        r.login("1234".into()).await.unwrap();
        let s = r.scan(p[0].0.clone()).await.unwrap();
        let done = r.pay(TenderKindDto::Card, s.total.minor).await.unwrap();
        (done.completed.unwrap().sale_id, s.total.minor)
    });
    // The return's commit fails after the terminal refunded the card (as if the app died
    // there): the database refuses the document.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER test_crash BEFORE INSERT ON sale_return \
             BEGIN SELECT RAISE(ABORT, 'simulated crash'); END;",
        )
        .unwrap();
    let req = with_receipt(&sale_id, vec![line(1, 1, None)]);
    let e = rt
        .block_on(r.returns_commit(req.clone(), None))
        .unwrap_err();
    assert_eq!(e.code, "store.error", "{e:?}");
    // The whole of today's card payment: given back by a reversal (06 30).
    let approved_refunds = || -> i64 {
        query(
            &db,
            "SELECT count(*) FROM pending_payments \
             WHERE json_extract(record, '$.kind.reversal.original_receipt_no') IS NOT NULL \
             AND json_extract(record, '$.state.state') = 'approved'",
        )
    };
    assert_eq!(approved_refunds(), 1, "the card was given back once");
    assert_eq!(query::<i64>(&db, "SELECT count(*) FROM sale_return"), 0);
    assert_eq!(query::<i64>(&db, "SELECT count(*) FROM return_draft"), 1);

    // The app restarts; a different return is refused until the interrupted one is finished.
    drop(r);
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("DROP TRIGGER test_crash;")
        .unwrap();
    let rt2 = runtime();
    let r = start(&rt2, &db, pos_store::Country::Es);
    rt2.block_on(async {
        wait_for_terminal(&r).await;
        r.login("1234".into()).await.unwrap();
        let mut other = req.clone();
        other.refund_to = RefundToDto::StoreCredit {
            customer_id: PABLO.into(),
        };
        let e = r.returns_commit(other, None).await.unwrap_err();
        assert_eq!(e.code, "returns.unfinished");
        assert_eq!(e.params["receipt"], "T01-000001");
        let done = r.returns_resume().await.unwrap();
        assert_eq!(done.total.minor, total);
        assert_eq!(done.refunds[0].kind, TenderKindDto::Card);
        // Asked again (a double tap): the same return, nothing new.
        let again = r.returns_commit(req.clone(), None).await.unwrap_err();
        assert_eq!(again.code, "returns.more_than_returnable");
    });
    assert_eq!(approved_refunds(), 1, "never refunded twice");
    assert_eq!(query::<i64>(&db, "SELECT count(*) FROM sale_return"), 1);
    assert_eq!(query::<i64>(&db, "SELECT count(*) FROM return_draft"), 0);
    let _ = ReturnSearchDto::default();
}

#[test]
fn sales_are_found_by_total_day_and_card_digits() {
    let f = open(pos_store::Country::Es);
    let p = products(&f.db);
    f.block(wait_for_terminal(&f.register));
    let (cash_id, _, cash_total) = f.sell(&[(&p[0].0, 1)], TenderKindDto::Cash);
    let (card_id, _, _) = f.sell(&[(&p[1].0, 2)], TenderKindDto::Card);
    let last4: String = query(
        &f.db,
        &format!(
            "SELECT json_extract(record, '$.state.approval.pan_last4') FROM pending_payments \
             WHERE ref_id = '{card_id}-1'"
        ),
    );
    f.block(async {
        let r = &f.register;
        let ids = |found: Vec<pos_api::dto::SaleFoundDto>| {
            found.into_iter().map(|s| s.sale_id).collect::<Vec<_>>()
        };
        let by_total = r
            .returns_search(ReturnSearchDto {
                total: Some(cash_total),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(ids(by_total), vec![cash_id.clone()]);
        let by_card = r
            .returns_search(ReturnSearchDto {
                card_last4: Some(last4.clone()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(ids(by_card), vec![card_id.clone()]);
        let by_day = r
            .returns_search(ReturnSearchDto {
                date: Some("2026-11-22".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(ids(by_day), vec![card_id.clone(), cash_id.clone()]);
        let none = r
            .returns_search(ReturnSearchDto {
                date: Some("2026-11-21".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(none.is_empty());
        assert_eq!(
            r.returns_search(ReturnSearchDto {
                date: Some("22/11/2026".into()),
                ..Default::default()
            })
            .await
            .unwrap_err()
            .code,
            "returns.bad_date"
        );
    });
}

/// (barcode, price) of unit-priced demo products, cheapest first.
fn priced(db: &Path) -> Vec<(String, i64)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare(
            "SELECT b.code, v.price_minor FROM barcode b JOIN variant v ON v.id = b.variant_id \
             JOIN product p ON p.id = v.product_id WHERE p.by_weight = 0 \
             ORDER BY v.price_minor, b.code LIMIT 200",
        )
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn an_exchange_pays_the_new_sale_with_the_returned_goods_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let rt = runtime();
    let r = start(&rt, &db, pos_store::Country::Es);
    let p = priced(&db);
    let (cheap, dear) = (p[0].clone(), p.last().unwrap().clone());
    assert!(dear.1 > cheap.1);
    // The customer bought the cheap item, brings it back and takes the dear one instead.
    let sale_id = rt.block_on(async {
        r.login("1234".into()).await.unwrap();
        r.scan(cheap.0.clone()).await.unwrap();
        let done = r.pay(TenderKindDto::Cash, cheap.1).await.unwrap();
        let sale_id = done.completed.unwrap().sale_id;
        // Without new items there is nothing to exchange against.
        let e = r
            .returns_exchange(with_receipt(&sale_id, vec![line(1, 1, None)]), None)
            .await
            .unwrap_err();
        assert_eq!(e.code, "returns.exchange_empty");
        r.scan(dear.0.clone()).await.unwrap();
        let done = r
            .returns_exchange(with_receipt(&sale_id, vec![line(1, 1, None)]), None)
            .await
            .unwrap();
        assert_eq!(done.refunds.len(), 1);
        assert_eq!(done.refunds[0].kind, TenderKindDto::StoreCredit);
        assert_eq!(done.refunds[0].amount.minor, cheap.1);
        let pay = done.exchange.unwrap();
        assert!(pay.completed.is_none());
        assert_eq!(
            pay.sale.payment.remaining.minor,
            dear.1 - cheap.1,
            "only the difference is due"
        );
        assert_eq!(
            pay.sale.payment.tenders[0].reference.as_deref(),
            Some("exchange T01R-000001")
        );
        sale_id
    });
    // A restart before the difference is paid: the credit is still on the sale.
    drop(r);
    let rt2 = runtime();
    let r = start(&rt2, &db, pos_store::Country::Es);
    rt2.block_on(async {
        r.login("1234".into()).await.unwrap();
        let sale = r.current_sale().await.unwrap();
        assert_eq!(sale.payment.tenders.len(), 1);
        assert_eq!(sale.payment.tenders[0].amount.minor, cheap.1);
        let paid = r
            .pay(TenderKindDto::Cash, dear.1 - cheap.1)
            .await
            .unwrap()
            .completed
            .unwrap();
        assert_eq!(paid.total.minor, dear.1);
        // The returned line cannot be returned again.
        let left = r.returns_open_sale(sale_id).await.unwrap();
        assert_eq!(left.lines[0].returnable, 0);
    });
    // The new sale: the credit and the cash; the return: the credit; nothing else moved.
    let payments: String = query(
        &db,
        "SELECT group_concat(kind || ':' || amount_minor, ' ') FROM sale_payment WHERE sale_id = \
         (SELECT id FROM sale WHERE number = 2)",
    );
    assert_eq!(
        payments,
        format!("store_credit:{} cash:{}", cheap.1, dear.1 - cheap.1)
    );
    assert_eq!(query::<i64>(&db, "SELECT count(*) FROM sale_return"), 1);

    // The other way round: the returned goods are worth more; the rest comes back in cash.
    let (dear_sale, _, _) = {
        let f = Fixture {
            dir: tempfile::tempdir().unwrap(),
            db: db.clone(),
            register: r.clone(),
            rt: rt2,
        };
        let out = f.sell(&[(&dear.0, 1)], TenderKindDto::Cash);
        let done = f.block(async {
            f.register.scan(cheap.0.clone()).await.unwrap();
            f.register
                .returns_exchange(with_receipt(&out.0, vec![line(1, 1, None)]), None)
                .await
                .unwrap()
        });
        let kinds: Vec<_> = done
            .refunds
            .iter()
            .map(|x| (x.kind, x.amount.minor))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (TenderKindDto::StoreCredit, cheap.1),
                (TenderKindDto::Cash, dear.1 - cheap.1)
            ]
        );
        let pay = done.exchange.unwrap();
        assert!(
            pay.completed.is_some(),
            "the credit paid the whole new sale"
        );
        out
    };
    let _ = dear_sale;
}

#[test]
fn a_card_refund_the_terminal_cannot_take_moves_nothing_and_goes_to_cash_with_a_manager() {
    use pos_hardware::config::{Connection, DeviceConfig};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let rt = runtime();
    let r = start(&rt, &db, pos_store::Country::Es);
    let p = products(&db);
    let (sale_id, total) = rt.block_on(async {
        wait_for_terminal(&r).await;
        r.login("1234".into()).await.unwrap();
        let s = r.scan(p[2].0.clone()).await.unwrap();
        let done = r.pay(TenderKindDto::Card, s.total.minor).await.unwrap();
        (done.completed.unwrap().sale_id, s.total.minor)
    });
    drop(r);
    // The next day the payment terminal is gone (unplugged, broken).
    let mut devices = DeviceConfig::default();
    devices.payment_terminal.connection = Connection::None;
    let rt2 = runtime();
    let r = start_register_on(
        &rt2,
        RegisterConfig {
            devices,
            ..demo_config(&db, "T01", 300, pos_store::Country::Es)
        },
        Arc::new(NoEvents),
        FixedClock::at(time::macros::datetime!(2026-11-23 10:30 UTC)),
    );
    rt2.block_on(async {
        r.login("1234".into()).await.unwrap();
        let req = with_receipt(&sale_id, vec![line(1, 1, None)]);
        let e = r.returns_commit(req.clone(), None).await.unwrap_err();
        assert_eq!(e.code, "pay.terminal_unavailable");
        // Nothing was refunded: the return is not "unfinished"; it goes to cash instead, which
        // a cashier may not decide alone for a card sale.
        let mut cash = req.clone();
        cash.refund_to = RefundToDto::Cash;
        assert_eq!(
            r.returns_commit(cash.clone(), None).await.unwrap_err().code,
            "auth.approval_required"
        );
        let done = r.returns_commit(cash, Some("9999".into())).await.unwrap();
        assert_eq!(done.refunds[0].kind, TenderKindDto::Cash);
        assert_eq!(done.refunds[0].amount.minor, total);
    });
    assert_eq!(query::<i64>(&db, "SELECT count(*) FROM sale_return"), 1);
    assert_eq!(query::<i64>(&db, "SELECT count(*) FROM return_draft"), 0);
}

#[test]
fn while_the_returns_screen_is_open_a_scanner_devices_scans_are_not_sold() {
    #[derive(Default)]
    struct Scans(Mutex<Vec<String>>);
    impl pos_api::events::EventSink for Scans {
        fn emit(&self, e: pos_api::events::Event) {
            if let pos_api::events::Event::ScanRejected(e) = e {
                self.0.lock().unwrap().push(format!(
                    "{}:{}",
                    e.code,
                    e.params.get("code").cloned().unwrap_or_default()
                ));
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let rt = runtime();
    let seen = Arc::new(Scans::default());
    let r = start_register_on(
        &rt,
        demo_config(&db, "T01", 300, pos_store::Country::Es),
        seen.clone(),
        FixedClock::at(time::macros::datetime!(2026-11-22 10:30 UTC)),
    );
    let code = products(&db)[0].0.clone();
    rt.block_on(async {
        r.login("1234".into()).await.unwrap();
        r.returns_screen(true).await.unwrap();
        r.simulate_scan(code.clone()).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while seen.0.lock().unwrap().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            *seen.0.lock().unwrap(),
            vec![format!("returns.scanned:{code}")]
        );
        assert!(r.current_sale().await.unwrap().lines.is_empty(), "not sold");
        // Closed (also after a logout): scans sell again.
        r.logout().await.unwrap();
        r.returns_screen(false).await.unwrap();
        r.login("1234".into()).await.unwrap();
        r.simulate_scan(code.clone()).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while r.current_sale().await.unwrap().lines.is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(r.current_sale().await.unwrap().lines.len(), 1);
    });
}
