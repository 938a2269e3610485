//! Every tender through the register on a real SQLite file with the demo data: gift cards
//! (partial redemption, not more than the balance), store credit, the customer account (within
//! the limit), splits, a retried debit after a crash, and cancelling a pending card payment.

mod support;

use pos_api::Api;
use pos_api::dto::TenderKindDto;
use pos_api::events::{Event, NoEvents};
use std::path::Path;
use std::sync::Arc;
use support::{
    FixedClock, GIFT_50, LUCIA, PABLO, Recorded, RegisterOnDisk, demo_config, receipt_text,
    runtime, start_register_on,
};

/// 5,00 €.
const GIFT_5: &str = "6006490000000024";

type Fixture = RegisterOnDisk;

/// T01 of a Spanish store with 300 demo products on `register.db` in `dir` (new or kept from
/// an earlier register), at 2026-11-22 10:30 UTC.
fn open_at(dir: tempfile::TempDir) -> Fixture {
    RegisterOnDisk::open_in(
        dir,
        |db| demo_config(db, "T01", 300, pos_store::Country::Es),
        Arc::new(NoEvents),
        FixedClock::at(time::macros::datetime!(2026-11-22 10:30 UTC)),
    )
}

fn open() -> Fixture {
    open_at(tempfile::tempdir().unwrap())
}

impl Fixture {
    /// Logs Ana in and rings up products (by barcode) until the total is at least `min`.
    fn sale_of_at_least(&self, min: i64) -> i64 {
        let codes = barcodes(&self.db);
        self.block(async {
            let r = &self.register;
            r.login("1234".into()).await.unwrap();
            let mut total = 0;
            for code in codes.iter().cycle() {
                total = r.scan(code.clone()).await.unwrap().total.minor;
                if total >= min {
                    break;
                }
            }
            total
        })
    }

    fn gift_balance(&self, number: &str) -> i64 {
        let c = rusqlite::Connection::open(&self.db).unwrap();
        c.query_row(
            "SELECT balance FROM gift_card WHERE number = ?1",
            [number],
            |r| r.get(0),
        )
        .unwrap()
    }

    /// (store credit, account balance) of a customer.
    fn customer(&self, id: &str) -> (i64, i64) {
        let c = rusqlite::Connection::open(&self.db).unwrap();
        c.query_row(
            "SELECT store_credit, account_balance FROM customer WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    }

    /// The committed sales' payments: "kind:amount" in order.
    fn payments(&self) -> Vec<String> {
        let c = rusqlite::Connection::open(&self.db).unwrap();
        let mut st = c
            .prepare("SELECT kind || ':' || amount_minor FROM sale_payment ORDER BY sale_id, seq")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

fn barcodes(db: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare(
            "SELECT b.code FROM barcode b JOIN variant v ON v.id = b.variant_id \
             JOIN product p ON p.id = v.product_id WHERE p.by_weight = 0 ORDER BY b.code LIMIT 40",
        )
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_gift_card_pays_part_and_cash_the_rest_and_the_card_loses_exactly_that() {
    let f = open();
    let total = f.sale_of_at_least(3_000);
    let done = f.block(async {
        let r = &f.register;
        let card = r.gift_card_balance(format!("{GIFT_50} ")).await.unwrap();
        assert_eq!(card.balance.minor, 5_000);
        assert_eq!(
            card.masked, "****0017",
            "only the last four digits are shown"
        );
        let part = r.pay_gift_card(GIFT_50.into(), 2_000).await.unwrap();
        assert!(part.completed.is_none());
        assert_eq!(part.sale.payment.remaining.minor, total - 2_000);
        assert_eq!(
            part.sale.payment.tenders[0].reference.as_deref(),
            Some("****0017")
        );
        r.pay(TenderKindDto::Cash, total - 2_000 + 1_000)
            .await
            .unwrap()
    });
    assert_eq!(f.gift_balance(GIFT_50), 3_000, "50 € − 20 €");
    let completed = done.completed.as_ref().unwrap();
    assert_eq!(completed.change.minor, 1_000, "change only in cash");
    let text = receipt_text(&done);
    assert!(text.contains("Tarjeta regalo ****0017"), "{text}");
    assert!(text.contains("Efectivo"), "{text}");
    assert!(!text.contains("6006490000000017"), "never the whole number");
    assert_eq!(
        f.payments(),
        vec![
            "gift_card:2000".to_owned(),
            format!("cash:{}", total - 2_000 + 1_000)
        ]
    );
}

#[test]
fn a_gift_card_cannot_pay_more_than_its_balance_or_than_is_due() {
    let f = open();
    let total = f.sale_of_at_least(1_000);
    f.block(async {
        let r = &f.register;
        let e = r.pay_gift_card(GIFT_5.into(), 501).await.unwrap_err();
        assert_eq!(e.code, "gift_card.insufficient");
        assert_eq!(e.params["balance"], "500");
        let e = r
            .pay_gift_card(GIFT_50.into(), total + 1)
            .await
            .unwrap_err();
        assert_eq!(e.code, "pay.non_cash_overpaid");
        let e = r.pay_gift_card("1234".into(), 100).await.unwrap_err();
        assert_eq!(e.code, "gift_card.unknown");
        let sale = r.current_sale().await.unwrap();
        assert!(sale.payment.tenders.is_empty(), "a refusal changes nothing");
        // All of what is left on the small card, then the rest from the big one.
        r.pay_gift_card(GIFT_5.into(), 500).await.unwrap();
        let done = r.pay_gift_card(GIFT_50.into(), total - 500).await.unwrap();
        assert!(done.completed.is_some());
        assert_eq!(done.completed.unwrap().change.minor, 0);
    });
    assert_eq!(f.gift_balance(GIFT_5), 0);
    assert_eq!(f.gift_balance(GIFT_50), 5_000 - (total - 500));
}

#[test]
fn store_credit_and_the_account_split_a_sale_within_balance_and_limit() {
    let f = open();
    let total = f.sale_of_at_least(2_000);
    let done = f.block(async {
        let r = &f.register;
        let found = r.find_customers("lucía".into(), 10).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].store_credit.minor, 1_500);
        assert!(found[0].has_account);
        assert_eq!(found[0].account_available.minor, 20_000);
        let e = r.pay_store_credit(LUCIA.into(), 1_501).await.unwrap_err();
        assert_eq!(e.code, "customer.credit_insufficient");
        assert_eq!(e.params["balance"], "1500");
        r.pay_store_credit(LUCIA.into(), 1_500).await.unwrap();
        let e = r.pay_on_account(PABLO.into(), 100).await.unwrap_err();
        assert_eq!(e.code, "customer.no_account");
        r.pay_on_account(LUCIA.into(), total - 1_500).await.unwrap()
    });
    assert_eq!(f.customer(LUCIA), (0, total - 1_500));
    let text = receipt_text(&done);
    assert!(text.contains("Vale Lucía Martín"), "{text}");
    assert!(text.contains("A cuenta Lucía Martín"), "{text}");
    assert!(!text.contains("Cambio"), "no cash, no change line: {text}");
}

#[test]
fn the_account_refuses_a_charge_over_its_limit() {
    let f = open();
    // Bar El Sol: account limit 500,00 €.
    let total = f.sale_of_at_least(50_001);
    f.block(async {
        let r = &f.register;
        let e = r.pay_on_account("c-0003".into(), total).await.unwrap_err();
        assert_eq!(e.code, "customer.over_limit");
        assert_eq!(e.params["available"], "50000");
        assert_eq!(e.params["name"], "Bar El Sol");
        r.pay_on_account("c-0003".into(), 50_000).await.unwrap();
        let e = r.pay_on_account("c-0003".into(), 1).await.unwrap_err();
        assert_eq!(e.code, "customer.over_limit");
        assert_eq!(e.params["available"], "0");
    });
    assert_eq!(f.customer("c-0003"), (0, 50_000));
}

/// The crash the idempotency key is for: the gift card was debited, but the app died before
/// the sale in progress (with the tender) was saved.
fn crash_after_the_debit() -> (Fixture, i64) {
    let f = open();
    let total = f.sale_of_at_least(3_000);
    f.block(async {
        f.register
            .pay_gift_card(GIFT_50.into(), 2_000)
            .await
            .unwrap();
    });
    assert_eq!(f.gift_balance(GIFT_50), 3_000);
    let Fixture {
        dir, db, register, ..
    } = f;
    drop(register);
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute(
        "UPDATE register_state SET state = json_set(state, '$.tenders', json('[]'))",
        [],
    )
    .unwrap();
    drop(c);
    (open_at(dir), total)
}

#[test]
fn a_gift_card_retried_after_a_crash_is_debited_once() {
    let (f, total) = crash_after_the_debit();
    f.block(async {
        let r = &f.register;
        r.login("1234".into()).await.unwrap();
        let sale = r.current_sale().await.unwrap();
        assert!(sale.payment.tenders.is_empty(), "the tender was lost");
        r.pay_gift_card(GIFT_50.into(), 2_000).await.unwrap();
        r.pay(TenderKindDto::Cash, total - 2_000).await.unwrap();
    });
    assert_eq!(f.gift_balance(GIFT_50), 3_000, "debited once, not twice");
    assert_eq!(f.payments()[0], "gift_card:2000");
}

#[test]
fn a_debit_left_by_a_crash_goes_back_when_the_sale_is_paid_otherwise() {
    let (f, total) = crash_after_the_debit();
    f.block(async {
        let r = &f.register;
        r.login("1234".into()).await.unwrap();
        let done = r.pay(TenderKindDto::Cash, total).await.unwrap();
        assert!(done.completed.is_some());
    });
    assert_eq!(
        f.gift_balance(GIFT_50),
        5_000,
        "the orphan debit was released"
    );
}

/// Waits until the demo terminal (started in the background) takes a cancel: up and not busy.
async fn terminal_started(r: &pos_api::register::Register) {
    for _ in 0..1000 {
        match r.cancel_card_payment().await {
            Err(e) if e.code == "pay.terminal_unavailable" || e.code == "pay.terminal_busy" => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await
            }
            _ => break,
        }
    }
}

#[test]
fn a_pending_card_payment_can_be_cancelled_and_nothing_is_charged() {
    let f = open();
    let total = f.sale_of_at_least(2_000);
    // The demo terminal: amounts ending in ,05 wait for a card for 10 s (abortable).
    let waiting = 1_005;
    let r = f.register.clone();
    let (cancelled, outcome) = f.block(async move {
        // The terminal starts in the background.
        terminal_started(&r).await;
        let paying = {
            let r = r.clone();
            tokio::spawn(async move { r.pay(TenderKindDto::Card, waiting).await })
        };
        // Esc as soon as the terminal waits for the card (under load that takes a moment).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(8);
        let mut cancelled = false;
        let mut started = std::time::Instant::now();
        while !cancelled && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            started = std::time::Instant::now();
            cancelled = r.cancel_card_payment().await.unwrap();
        }
        let outcome = paying.await.unwrap();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the cancel ended the wait"
        );
        (cancelled, outcome)
    });
    assert!(cancelled, "an abort was sent");
    let e = outcome.unwrap_err();
    assert_eq!(e.code, "pay.card_cancelled");
    f.block(async {
        let r = &f.register;
        let sale = r.current_sale().await.unwrap();
        assert!(sale.payment.tenders.is_empty(), "nothing was charged");
        assert_eq!(sale.payment.remaining.minor, total);
        // The cashier takes the card again; this time it goes through.
        let done = r.pay(TenderKindDto::Card, total).await.unwrap();
        assert!(done.completed.is_some());
    });
    assert_eq!(f.payments(), vec![format!("card:{total}")]);
}

#[test]
fn quick_cash_keys_are_the_currencys_notes() {
    let f = open();
    let info = f.block(f.register.app_info()).unwrap();
    assert_eq!(
        info.store.quick_cash,
        vec![500, 1_000, 2_000, 5_000, 10_000]
    );
    assert!(info.tenders.contains(&TenderKindDto::GiftCard));
    assert!(info.tenders.contains(&TenderKindDto::StoreCredit));
    assert!(info.tenders.contains(&TenderKindDto::Account));
}

#[test]
fn a_gift_card_swiped_on_the_reader_reaches_the_screen_and_a_bank_card_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let events = Arc::new(Recorded::default());
    let rt = runtime();
    let register = start_register_on(
        &rt,
        demo_config(
            &dir.path().join("register.db"),
            "T01",
            30,
            pos_store::Country::Es,
        ),
        events.clone(),
        FixedClock::at(time::macros::datetime!(2026-11-22 10:30 UTC)),
    );
    let seen = |pred: &dyn Fn(&Event) -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            if events.0.lock().unwrap().iter().any(pred) {
                return true;
            }
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    rt.block_on(async {
        register.login("1234".into()).await.unwrap();
        register
            .simulate_device("swipe_gift".into(), None)
            .await
            .unwrap();
    });
    assert!(seen(
        &|e| matches!(e, Event::CardSwiped(n) if n == "6036280000000017")
    ));
    let card = rt
        .block_on(register.gift_card_balance("6036280000000017".into()))
        .unwrap();
    assert_eq!(
        card.balance.minor, 2_500,
        "the demo data has the panel's card"
    );
    rt.block_on(register.simulate_device("swipe_bank".into(), None))
        .unwrap();
    assert!(seen(
        &|e| matches!(e, Event::ScanRejected(a) if a.code == "gift_card.bank_card")
    ));
    let leaked = events
        .0
        .lock()
        .unwrap()
        .iter()
        .any(|e| e.payload().to_string().contains("4111111111111111"));
    assert!(!leaked, "no digit of a bank card reaches the screen");
}

#[test]
fn a_cancel_at_any_moment_never_loses_or_doubles_a_card_charge() {
    // Cancels sent at different moments of a card payment: before the card, while the terminal
    // reads it, after approval. Whatever the terminal decided, the register agrees with it:
    // every approval the terminal recorded is a card tender of a sale, and nothing else is.
    let f = open();
    let r = f.register.clone();
    let codes = barcodes(&f.db);
    let outcomes = f.block(async move {
        r.login("1234".into()).await.unwrap();
        // The terminal starts in the background.
        terminal_started(&r).await;
        let mut outcomes = Vec::new();
        // One that surely waits for the card (amounts ending in ,05), then cancels at
        // moments that depend on the machine's speed.
        for (i, delay_ms) in [300u64, 0, 10, 25, 40, 60, 90, 150].into_iter().enumerate() {
            let total = r.scan(codes[i].clone()).await.unwrap().total.minor;
            let total = if i == 0 {
                (total / 100 - 1) * 100 + 5
            } else {
                total
            };
            if i == 0 {
                // Make the sale's total end in ,05 by paying the rest in cash first.
                let due = r.current_sale().await.unwrap().payment.remaining.minor;
                if due > total {
                    r.pay(TenderKindDto::Cash, due - total).await.unwrap();
                }
            }
            let paying = {
                let r = r.clone();
                tokio::spawn(async move { r.pay(TenderKindDto::Card, total).await })
            };
            tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
            let _ = r.cancel_card_payment().await;
            match paying.await.unwrap() {
                Ok(done) => {
                    assert!(done.completed.is_some(), "approved: the sale is complete");
                    outcomes.push("approved");
                }
                Err(e) => {
                    assert_eq!(e.code, "pay.card_cancelled", "{e:?}");
                    let sale = r.current_sale().await.unwrap();
                    assert!(
                        sale.payment
                            .tenders
                            .iter()
                            .all(|t| t.kind != TenderKindDto::Card),
                        "cancelled: no card tender"
                    );
                    r.pay(TenderKindDto::Cash, sale.payment.remaining.minor)
                        .await
                        .unwrap();
                    outcomes.push("cancelled");
                }
            }
        }
        outcomes
    });
    let c = rusqlite::Connection::open(&f.db).unwrap();
    let approved: i64 = c
        .query_row(
            "SELECT count(*) FROM pending_payments WHERE json_extract(record, '$.state.state') = 'approved'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let card_tenders: i64 = c
        .query_row(
            "SELECT count(*) FROM sale_payment WHERE kind = 'card'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let in_flight: i64 = c
        .query_row(
            "SELECT count(*) FROM pending_payments WHERE in_flight = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        approved, card_tenders,
        "every approval is a card tender, and only those ({outcomes:?})"
    );
    assert_eq!(in_flight, 0, "no payment left unresolved");
    assert_eq!(
        outcomes[0], "cancelled",
        "a card still awaited is cancelled"
    );
    println!(
        "BENCH card cancel outcomes (waiting card; then cancel after 0,10,25,40,60,90,150 ms): {outcomes:?}"
    );
}
