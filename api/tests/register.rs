//! The register as a cashier uses it, on a real SQLite file with the demo catalog: log in,
//! scan, change quantities, pay cash, and find the sale on disk exactly once.

mod support;

use pos_api::Api;
use pos_api::dto::{SaleDto, TenderKindDto};
use pos_api::events::Event;
use pos_api::register::Register;
use std::sync::Arc;
use support::{
    FixedClock, Recorded, RegisterOnDisk, barcode_at_rate, demo_config, pay_card, runtime,
    two_barcodes,
};

struct Fixture {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    register: Arc<Register>,
    events: Arc<Recorded>,
    rt: tokio::runtime::Runtime,
}

fn open(country: pos_store::Country) -> Fixture {
    open_rounding(country, 1)
}

/// A register whose store rounds cash totals to `cash_increment` minor units.
fn open_rounding(country: pos_store::Country, cash_increment: i64) -> Fixture {
    let events = Arc::new(Recorded::default());
    let RegisterOnDisk {
        dir,
        db,
        register,
        rt,
    } = RegisterOnDisk::open_in(
        tempfile::tempdir().unwrap(),
        |db| {
            if cash_increment != 1 {
                let mut store = pos_store::Store::open(db).unwrap();
                store.set_cash_rounding_increment(cash_increment).unwrap();
            }
            demo_config(db, "T01", 300, country)
        },
        events.clone(),
        FixedClock::at(time::macros::datetime!(2026-11-22 10:30 UTC)),
    );
    Fixture {
        _dir: dir,
        db,
        register,
        events,
        rt,
    }
}

/// Two products of the demo catalog with different tax rates, by barcode.
impl Fixture {
    fn block<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }
}

#[test]
fn a_cash_sale_is_on_disk_once_with_its_lines_payment_and_outbox_row() {
    let f = open(pos_store::Country::Es);
    let (a, b) = two_barcodes(&f.db);
    f.block(async {
        let r = &f.register;
        assert_eq!(
            r.scan(a.clone()).await.unwrap_err().code,
            "auth.required",
            "no sale without a login"
        );
        let s = r.login("1234".into()).await.unwrap();
        assert_eq!(s.user.name, "Ana");
        r.scan(a.clone()).await.unwrap();
        r.scan(a.clone()).await.unwrap();
        let sale: SaleDto = r.scan(b.clone()).await.unwrap();
        assert_eq!(
            sale.lines.len(),
            2,
            "the second scan of the same product raises its quantity"
        );
        assert_eq!(sale.lines[0].quantity, 2);
        assert_eq!(sale.taxes.len(), 2, "two rates, two tax rows");
        let taxes_gross: i64 = sale.taxes.iter().map(|t| t.gross.minor).sum();
        assert_eq!(
            taxes_gross, sale.total.minor,
            "tax rows add up to the total"
        );

        let sale = r.set_quantity(sale.lines[0].id, 3).await.unwrap();
        assert_eq!(sale.lines[0].quantity, 3);
        let total = sale.total.minor;

        r.start_payment().await.unwrap();
        assert_eq!(
            r.scan(a.clone()).await.unwrap_err().code,
            "sale.payment_in_progress"
        );
        let paid = r.pay(TenderKindDto::Cash, total + 1000).await.unwrap();
        let done = paid.completed.expect("fully paid sale completes");
        assert_eq!(done.change.minor, 1000);
        assert_eq!(done.receipt_number, "T01-000001");
        assert!(paid.sale.lines.is_empty(), "a new sale starts");
        assert!(
            done.receipt
                .lines
                .iter()
                .any(|l| l.contains("FACTURA SIMPLIFICADA"))
        );
        assert!(done.receipt.lines.iter().any(|l| l.contains("T01-000001")));
    });

    // Read the file as another program would.
    let c = rusqlite::Connection::open(&f.db).unwrap();
    let sales: i64 = c
        .query_row("SELECT COUNT(*) FROM sale", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sales, 1, "the sale exists exactly once");
    let lines: i64 = c
        .query_row("SELECT COUNT(*) FROM sale_line", [], |r| r.get(0))
        .unwrap();
    assert_eq!(lines, 2);
    let (total, number): (i64, i64) = c
        .query_row("SELECT total_minor, number FROM sale", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(number, 1);
    let outbox: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'sale.completed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(outbox, 1, "one outbox row for the web shop");
    let cash: i64 = c
        .query_row("SELECT SUM(amount_minor) FROM sale_payment", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(cash, total + 1000, "the cash handed over is recorded");
}

#[test]
fn bad_input_gets_a_code_and_leaves_the_cart_alone() {
    let f = open(pos_store::Country::Es);
    let (a, _) = two_barcodes(&f.db);
    f.block(async {
        let r = &f.register;
        r.login("1234".into()).await.unwrap();
        let before = r.scan(a.clone()).await.unwrap();
        let mut wrong = a.clone();
        let last = wrong.pop().unwrap().to_digit(10).unwrap();
        wrong.push(char::from_digit((last + 1) % 10, 10).unwrap());
        assert_eq!(r.scan(wrong).await.unwrap_err().code, "scan.check_digit");
        assert_eq!(
            r.scan("4006381333931".into()).await.unwrap_err().code,
            "scan.unknown_code"
        );
        let line = before.lines[0].id;
        assert_eq!(
            r.set_quantity(line, 0).await.unwrap_err().code,
            "cart.quantity_out_of_range"
        );
        assert_eq!(
            r.set_quantity(line, 8_400_000_000_017)
                .await
                .unwrap_err()
                .code,
            "cart.quantity_out_of_range"
        );
        assert_eq!(
            r.current_sale().await.unwrap(),
            before,
            "the cart is exactly as before"
        );
    });
}

#[test]
fn five_wrong_pins_lock_the_login() {
    let f = open(pos_store::Country::Es);
    f.block(async {
        let r = &f.register;
        for left in (0..5).rev() {
            let e = r.login("1111".into()).await.unwrap_err();
            if left > 0 {
                assert_eq!(e.code, "auth.wrong_pin");
                assert_eq!(e.params["attemptsLeft"], left.to_string());
            } else {
                assert_eq!(e.code, "auth.locked");
            }
        }
        assert_eq!(
            r.login("1234".into()).await.unwrap_err().code,
            "auth.locked",
            "even the right PIN waits"
        );
    });
}

#[test]
fn a_device_scan_reaches_the_sale_and_is_announced() {
    let f = open(pos_store::Country::Jp);
    let c = rusqlite::Connection::open(&f.db).unwrap();
    let code: String = c
        .query_row(
            "SELECT b.code FROM barcode b JOIN variant v ON v.id=b.variant_id JOIN product p ON p.id=v.product_id WHERE p.by_weight=0 LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    f.block(async {
        let r = &f.register;
        r.login("1234".into()).await.unwrap();
        r.simulate_scan(code).await.unwrap();
        r.simulate_scan("garbage".into()).await.unwrap();
    });
    // The scans travel through the simulated scanner device, so they arrive asynchronously.
    let sale_events = || -> Vec<Event> {
        let ev = f.events.0.lock().unwrap();
        ev.iter()
            .filter(|e| !matches!(e, Event::StatusChanged(_)))
            .cloned()
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while sale_events().len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let ev = sale_events();
    assert!(
        matches!(&ev[0], Event::SaleChanged(s) if s.lines.len() == 1 && s.total.currency == "JPY"),
        "{ev:?}"
    );
    assert!(
        matches!(&ev[1], Event::ScanRejected(e) if e.code == "scan.unknown_code"),
        "{ev:?}"
    );
}

#[test]
fn a_cash_sale_prints_its_receipt_opens_the_drawer_and_paper_out_holds_the_next_one() {
    let f = open(pos_store::Country::Es);
    let (a, _) = two_barcodes(&f.db);
    let status = |f: &Fixture| f.block(async { f.register.status().await.unwrap() });
    f.block(async {
        let r = &f.register;
        r.login("1234".into()).await.unwrap();
        let due = r
            .scan(a.clone())
            .await
            .unwrap()
            .payment
            .remaining_cash
            .minor;
        r.pay(TenderKindDto::Cash, due)
            .await
            .unwrap()
            .completed
            .unwrap();
    });
    let wait_for = |what: &str, ok: &dyn Fn(&pos_api::dto::StatusDto) -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let s = status(&f);
            if ok(&s) {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "never saw {what}: {s:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    let detail = |s: &pos_api::dto::StatusDto, d: &str| {
        s.devices
            .iter()
            .find(|x| x.device == d)
            .and_then(|x| x.detail.clone())
    };
    wait_for("the drawer open after a cash sale", &|s| {
        detail(s, "drawer").as_deref() == Some("drawer_open")
    });
    f.block(async {
        let r = &f.register;
        r.simulate_device("close_drawer".into(), None)
            .await
            .unwrap();
        r.simulate_device("paper_out".into(), None).await.unwrap();
    });
    wait_for("paper out reported", &|s| {
        detail(s, "printer").as_deref() == Some("paper_out")
    });
    // The next sale completes anyway; its receipt waits for paper.
    f.block(async {
        let r = &f.register;
        let due = r
            .scan(a.clone())
            .await
            .unwrap()
            .payment
            .remaining_cash
            .minor;
        r.pay(TenderKindDto::Cash, due)
            .await
            .unwrap()
            .completed
            .unwrap();
        r.simulate_device("paper_replaced".into(), None)
            .await
            .unwrap();
    });
    wait_for("the printer ready again", &|s| {
        detail(s, "printer").is_none()
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while f.register.printed_receipts().len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let printed = f.register.printed_receipts();
    assert_eq!(printed.len(), 2, "both receipts printed, each exactly once");
    assert!(printed[0].contains("T01-000001") && printed[1].contains("T01-000002"));
    assert!(
        printed[1].contains("FACTURA SIMPLIFICADA"),
        "the held receipt printed whole:\n{}",
        printed[1]
    );
}

/// Rings up one standard-rate and one reduced-rate item, pays exact cash, returns the preview
/// (the receipt's ESC/POS bytes decoded back to text).
fn receipt_of_two_rates(f: &Fixture, hi_bps: i64, lo_bps: i64) -> (Vec<String>, i64) {
    let hi = barcode_at_rate(&f.db, hi_bps);
    let lo = barcode_at_rate(&f.db, lo_bps);
    f.block(async {
        let r = &f.register;
        r.login("1234".into()).await.unwrap();
        r.scan(hi).await.unwrap();
        let sale = r.scan(lo).await.unwrap();
        let due = sale.payment.remaining_cash.minor;
        let done = r
            .pay(TenderKindDto::Cash, due)
            .await
            .unwrap()
            .completed
            .unwrap();
        (done.receipt.lines, due)
    })
}

#[test]
fn a_japanese_receipt_is_a_qualified_simplified_invoice() {
    let f = open(pos_store::Country::Jp);
    let (lines, total) = receipt_of_two_rates(&f, 1000, 800);
    let text = lines.join("\n");
    if std::env::var_os("SHOW_RECEIPT").is_some() {
        println!("{text}");
    }
    assert!(text.contains("登録番号 T"), "registration number:\n{text}");
    assert!(text.contains("領収書"));
    assert!(text.contains("※"), "reduced-rate items are marked:\n{text}");
    assert!(
        text.contains("※は軽減税率対象"),
        "and the mark is explained"
    );
    assert!(
        text.contains("10%対象") && text.contains("8%対象"),
        "total per rate:\n{text}"
    );
    assert!(text.contains("内消費税"), "tax per rate");
    let total_text = pos_api::locale::format_money(
        pos_core::Money::new(total, pos_core::Currency::Jpy),
        pos_api::locale::Lang::Ja,
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("合計") && l.contains(&total_text)),
        "合計 {total_text}:\n{text}"
    );
}

#[test]
fn a_spanish_receipt_is_a_factura_simplificada_with_iva_per_rate() {
    let f = open(pos_store::Country::Es);
    let (lines, total) = receipt_of_two_rates(&f, 2100, 400);
    let text = lines.join("\n");
    assert!(text.contains("FACTURA SIMPLIFICADA"));
    assert!(text.contains("NIF B"), "issuer's NIF:\n{text}");
    assert!(
        text.contains("Base 21%") && text.contains("Base 4%"),
        "taxable base per rate:\n{text}"
    );
    assert!(text.contains("IVA incluido"));
    let total_text = pos_api::locale::format_money(
        pos_core::Money::new(total, pos_core::Currency::Eur),
        pos_api::locale::Lang::Es,
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("TOTAL") && l.contains(&total_text)),
        "TOTAL {total_text}:\n{text}"
    );
    assert!(text.contains("€"), "the euro sign prints (PC858):\n{text}");
    assert!(text.contains("T01-000001"));
}

#[test]
fn a_split_card_and_cash_sale_goes_through_the_payment_terminal() {
    let f = open(pos_store::Country::Es);
    let (a, b) = two_barcodes(&f.db);
    let (done, total) = f.block(async {
        let r = &f.register;
        r.login("1234".into()).await.unwrap();
        r.scan(a).await.unwrap();
        let total = r.scan(b).await.unwrap().total.minor;
        let card_part = total / 2;
        // The demo terminal (a ZVT simulator in-process) starts in the background.
        let paid = pay_card(r, card_part).await;
        assert!(paid.completed.is_none(), "half paid by card");
        assert_eq!(paid.sale.payment.remaining.minor, total - card_part);
        let card = &paid.sale.payment.tenders[0];
        assert!(
            card.reference
                .as_deref()
                .unwrap_or("")
                .contains("************"),
            "only a masked card number reaches the POS: {:?}",
            card.reference
        );
        let done = r
            .pay(TenderKindDto::Cash, total - card_part + 500)
            .await
            .unwrap()
            .completed
            .unwrap();
        (done, total)
    });
    assert_eq!(done.change.minor, 500);
    assert_eq!(done.tenders.len(), 2);
    let text = done.receipt.lines.join("\n");
    assert!(
        text.contains("Tarjeta") && text.contains("Efectivo"),
        "{text}"
    );
    let c = rusqlite::Connection::open(&f.db).unwrap();
    let kinds: String = c
        .query_row(
            "SELECT group_concat(kind || ':' || amount_minor, ',') FROM (SELECT kind, amount_minor FROM sale_payment ORDER BY seq)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        kinds,
        format!("card:{},cash:{}", total / 2, total - total / 2 + 500)
    );
}

#[test]
fn a_crash_brings_back_the_sale_in_progress_with_what_was_already_paid() {
    let f = open(pos_store::Country::Es);
    let (a, b) = two_barcodes(&f.db);
    let before = f.block(async {
        let r = &f.register;
        r.login("1234".into()).await.unwrap();
        r.scan(a).await.unwrap();
        r.scan(b).await.unwrap();
        r.start_payment().await.unwrap();
        let part = r.pay(TenderKindDto::Cash, 500).await.unwrap();
        assert!(part.completed.is_none());
        part.sale
    });
    // The process dies: nothing is closed cleanly. A new one opens the same file.
    let Fixture {
        _dir,
        db,
        register,
        rt,
        ..
    } = f;
    std::mem::forget(register);
    drop(rt);
    let config = demo_config(&db, "T01", 300, pos_store::Country::Es);
    let clock = FixedClock::at(time::macros::datetime!(2026-11-22 10:35 UTC));
    let rt = runtime();
    let register = {
        let _inside = rt.enter();
        Arc::new(Register::open(config, Arc::new(Recorded::default()), clock).unwrap())
    };
    rt.block_on(async {
        register.login("1234".into()).await.unwrap();
        let after = register.current_sale().await.unwrap();
        assert_eq!(after.lines, before.lines, "the same lines come back");
        assert_eq!(
            after.stage,
            pos_api::dto::SaleStageDto::Paying,
            "at the payment step"
        );
        assert_eq!(after.payment.paid.minor, 500, "with the cash already taken");
        let done = register
            .pay(TenderKindDto::Cash, after.payment.remaining_cash.minor)
            .await
            .unwrap()
            .completed
            .expect("the restored sale completes");
        assert_eq!(done.receipt_number, "T01-000001");
    });
    let c = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = c
        .query_row("SELECT COUNT(*) FROM sale", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    drop(_dir);
}

/// A store that rounds cash (0,05 € in a euro store, 10 yen, 5 cents): the receipt keeps the
/// exact total with its tax per rate, and shows the cash paid and the rounding line in the
/// store's language; a card pays the exact total, unrounded.
#[test]
fn receipts_show_cash_rounding_in_english_spanish_and_japanese() {
    use pos_api::locale::{Lang, format_money};
    use pos_core::{Currency, Money};
    for (country, increment, lang, currency, label) in [
        (
            pos_store::Country::Es,
            5,
            Lang::Es,
            Currency::Eur,
            "Redondeo",
        ),
        (
            pos_store::Country::Jp,
            10,
            Lang::Ja,
            Currency::Jpy,
            "端数調整",
        ),
        (
            pos_store::Country::Us,
            5,
            Lang::En,
            Currency::Usd,
            "Rounding",
        ),
    ] {
        let f = open_rounding(country, increment);
        let c = rusqlite::Connection::open(&f.db).unwrap();
        // One product of each of the two highest tax rates that have products sold by unit.
        let codes: Vec<String> = c
            .prepare(
                "SELECT min(b.code) FROM barcode b JOIN variant v ON v.id = b.variant_id \
                 JOIN product p ON p.id = v.product_id JOIN tax_category t ON t.code = p.tax_code \
                 WHERE p.by_weight = 0 GROUP BY t.rate_bps ORDER BY t.rate_bps DESC LIMIT 2",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        // Spain and Japan have two rates in the demo catalog; the US demo store has one.
        let rates = if country == pos_store::Country::Us {
            1
        } else {
            2
        };
        assert_eq!(
            codes.len(),
            rates,
            "{country:?}: tax rates in the demo catalog"
        );
        let last = codes[rates - 1].clone();
        let money = |minor: i64| format_money(Money::new(minor, currency), lang);
        let (lines, total, cash) = f.block(async {
            let r = &f.register;
            r.login("1234".into()).await.unwrap();
            let mut sale = r.scan(codes[0].clone()).await.unwrap();
            if rates == 2 {
                sale = r.scan(last.clone()).await.unwrap();
            }
            // More of the second item until the total is not a multiple of the increment.
            let mut n = 0;
            while sale.total.minor % increment == 0 && n < 20 {
                sale = r.scan(last.clone()).await.unwrap();
                n += 1;
            }
            let total = sale.total.minor;
            assert_ne!(
                total % increment,
                0,
                "{country:?}: a total that needs rounding"
            );
            let cash = r
                .start_payment()
                .await
                .unwrap()
                .payment
                .remaining_cash
                .minor;
            let done = r
                .pay(TenderKindDto::Cash, cash)
                .await
                .unwrap()
                .completed
                .expect("exact rounded cash completes the sale");
            (done.receipt.lines, total, cash)
        });
        let text = lines.join("\n");
        assert_eq!(
            cash % increment,
            0,
            "{country:?}: cash due is a multiple of {increment}"
        );
        assert!(
            (cash - total).abs() * 2 <= increment,
            "{country:?}: {total} rounds to the nearest {increment}, not {cash}"
        );
        let rounding = lines
            .iter()
            .find(|l| l.contains(label))
            .unwrap_or_else(|| panic!("{country:?}: no {label} line:\n{text}"));
        assert!(
            rounding.contains(&money(cash - total)),
            "{country:?}: the rounding is {}:\n{text}",
            money(cash - total)
        );
        assert!(
            text.contains(&money(total)) && text.contains(&money(cash)),
            "{country:?}: the exact total {} and the cash paid {}:\n{text}",
            money(total),
            money(cash)
        );
        let stored: i64 = c
            .query_row("SELECT total_minor FROM sale", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, total, "{country:?}: the sale keeps the exact total");
        let paid: i64 = c
            .query_row("SELECT sum(amount_minor) FROM sale_payment", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(
            paid, cash,
            "{country:?}: the cash taken is what was due in cash"
        );
    }
}
