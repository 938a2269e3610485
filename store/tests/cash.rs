//! Cash management on a real SQLite file: a day of sales, cash in and out and a no-sale between
//! opening and closing the register; the X and Z reports add up to the sales committed; Z
//! numbers run 1, 2, 3… per terminal even when the process dies between the count and the
//! close or the close fails part-way; nothing closed can be changed afterwards.

mod common;

use common::{LOCATION, T0, TERMINAL, cart, count, open_with_catalog};
use pos_core::cash::{CashReason, DenominationCount, DrawerCount};
use pos_core::sale::{Cashier, SaleContext};
use pos_core::{
    CashRounding, CompletedSale, Currency, Money, Quantity, ReceiptNumber, Tender, TenderKind,
};
use pos_store::Store;
use pos_store::cash::{CashStoreError, MovementKind, Operator, Z_REPORT};
use std::path::Path;
use time::Duration;
use uuid::Uuid;

fn eur(m: i64) -> Money {
    Money::new(m, Currency::Eur)
}

fn marta() -> Operator {
    Operator {
        id: "u-marta".into(),
        name: "Marta".into(),
    }
}

fn ana() -> Operator {
    Operator {
        id: "u-ana".into(),
        name: "Ana".into(),
    }
}

/// 100 € float: 2 × 20 €, 4 × 10 €, 2 × 5 €, 5 × 2 €.
fn float() -> DrawerCount {
    DrawerCount::new(
        Currency::Eur,
        &[
            DenominationCount {
                value: 2_000,
                quantity: 2,
            },
            DenominationCount {
                value: 1_000,
                quantity: 4,
            },
            DenominationCount {
                value: 500,
                quantity: 2,
            },
            DenominationCount {
                value: 200,
                quantity: 5,
            },
        ],
    )
    .unwrap()
}

fn counted(minor: i64) -> DrawerCount {
    // Whatever the amount: 1-cent coins are enough to count it for the test.
    let notes = minor / 1_000;
    DrawerCount::new(
        Currency::Eur,
        &[
            DenominationCount {
                value: 1_000,
                quantity: notes,
            },
            DenominationCount {
                value: 1,
                quantity: minor - notes * 1_000,
            },
        ],
    )
    .unwrap()
}

/// The store on a file, with the catalog.
fn store(path: &Path) -> Store {
    open_with_catalog(path)
}

/// Sells `items` paid by `pay` (given the total, returns the tenders) the way the register does.
fn sell(
    store: &mut Store,
    n: u128,
    items: &[(&str, Quantity)],
    pay: impl Fn(i64) -> Vec<Tender>,
) -> CompletedSale {
    let c = cart(store, items);
    let total = c.totals().unwrap().total.minor;
    store
        .commit_sale(TERMINAL, LOCATION, |r: ReceiptNumber| {
            c.complete(
                pay(total),
                SaleContext {
                    id: Uuid::from_u128(n),
                    receipt: r,
                    terminal_id: TERMINAL.into(),
                    cashier: Cashier {
                        id: "u-ana".into(),
                        name: "Ana".into(),
                    },
                    at: T0 + Duration::minutes(n as i64),
                    cash_rounding: CashRounding::NONE,
                },
            )
        })
        .unwrap()
}

fn cash(amount: i64) -> Vec<Tender> {
    vec![Tender {
        kind: TenderKind::Cash,
        amount: eur(amount),
        reference: None,
    }]
}

fn card(amount: i64) -> Vec<Tender> {
    vec![Tender {
        kind: TenderKind::Card,
        amount: eur(amount),
        reference: Some("A1 ****1234".into()),
    }]
}

fn reason(code: &str) -> CashReason {
    CashReason {
        code: code.into(),
        note: None,
    }
}

/// A day: open with 100 €, three sales (cash with change, exact cash, card), 20 € in, 50 € out
/// to the safe, one no-sale. Returns the sales.
fn a_day(store: &mut Store) -> Vec<CompletedSale> {
    store
        .begin_cash_session(
            Uuid::from_u128(900),
            TERMINAL,
            &marta(),
            &float(),
            false,
            T0,
        )
        .unwrap();
    let milk = common::MILK;
    let wine = common::WINE;
    let s1 = sell(
        store,
        1,
        &[(milk, Quantity::Units(2)), (wine, Quantity::Units(1))],
        |_| cash(2_000),
    );
    let s2 = sell(store, 2, &[(milk, Quantity::Units(1))], cash);
    let s3 = sell(store, 3, &[(wine, Quantity::Units(2))], card);
    let at = T0 + Duration::hours(2);
    store
        .record_cash_movement(
            TERMINAL,
            MovementKind::In,
            eur(2_000),
            &reason("change_top_up"),
            &marta(),
            None,
            at,
        )
        .unwrap();
    store
        .record_cash_movement(
            TERMINAL,
            MovementKind::Out,
            eur(5_000),
            &reason("safe_drop"),
            &marta(),
            None,
            at,
        )
        .unwrap();
    store
        .record_cash_movement(
            TERMINAL,
            MovementKind::NoSale,
            eur(999),
            &reason("give_change"),
            &ana(),
            Some("u-marta"),
            at,
        )
        .unwrap();
    vec![s1, s2, s3]
}

#[test]
fn the_x_and_z_reports_add_up_to_the_sales_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.db");
    let mut store = store(&path);
    let sales = a_day(&mut store);
    let total: i64 = sales.iter().map(|s| s.totals().total.minor).sum();
    let (s1, s2, s3) = (&sales[0], &sales[1], &sales[2]);
    let change = 2_000 - s1.totals().total.minor;
    assert_eq!(s1.settlement().change.minor, change);

    let x = store.x_report(TERMINAL, T0 + Duration::hours(3)).unwrap();
    assert_eq!(x.z_number, None, "an X report has no number");
    assert_eq!(x.sales.sales, 3);
    assert_eq!(x.sales.total.minor, total);
    assert_eq!(x.receipts, Some((1, 3)));
    let tender = |k: TenderKind| {
        x.sales
            .tenders
            .iter()
            .find(|t| t.kind == k)
            .map(|t| (t.count, t.amount.minor))
    };
    assert_eq!(
        tender(TenderKind::Cash),
        Some((2, s1.totals().total.minor + s2.totals().total.minor)),
        "cash net of change"
    );
    assert_eq!(tender(TenderKind::Card), Some((1, s3.totals().total.minor)));
    assert_eq!(x.sales.cash_taken.minor, 2_000 + s2.totals().total.minor);
    assert_eq!(x.sales.change_given.minor, change);
    let taxes: i64 = x.sales.taxes.iter().map(|t| t.gross.minor).sum();
    assert_eq!(taxes, total, "the rates add up to the sales");
    assert_eq!(x.sales.taxes[0].rate.bps, 2100, "highest rate first");
    assert_eq!(
        (x.cash_in.minor, x.cash_out.minor, x.no_sales),
        (2_000, 5_000, 1)
    );
    let expected = 10_000 + s1.totals().total.minor + s2.totals().total.minor + 2_000 - 5_000;
    assert_eq!(x.expected.minor, expected);
    assert!(
        store.open_cash_session(TERMINAL).unwrap().is_some(),
        "an X report does not close"
    );

    // The blind count is 1,50 € short.
    let c = store
        .record_drawer_count(
            TERMINAL,
            &counted(expected - 150),
            &marta(),
            T0 + Duration::hours(9),
        )
        .unwrap();
    let z = store
        .close_cash_session(TERMINAL, c.id, &marta(), T0 + Duration::hours(9))
        .unwrap();
    assert_eq!(z.z_number, Some(1));
    assert_eq!(z.over_short, Some(eur(-150)), "short by 1,50 €");
    assert_eq!(
        z.sales, x.sales,
        "the Z says what the X said: nothing was sold since"
    );
    assert!(store.open_cash_session(TERMINAL).unwrap().is_none());
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM outbox WHERE kind = 'z_report'"
        ),
        1,
        "queued for the shop"
    );
    let payload: String = store
        .connection()
        .query_row(
            "SELECT payload FROM outbox WHERE kind = ?1",
            [Z_REPORT],
            |r| r.get(0),
        )
        .unwrap();
    let sent: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(sent["z_number"], 1);
    assert_eq!(sent["over_short"]["minor"], -150);
    drop(store);

    // Read back after a restart, exactly as made.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.z_report(TERMINAL, 1).unwrap(), Some(z));
    assert_eq!(store.last_z_number(TERMINAL).unwrap(), 1);
}

#[test]
fn each_session_reports_only_its_own_sales_and_z_numbers_follow_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir.path().join("pos.db"));
    // A sale before any session (an older version of the app) belongs to none.
    sell(&mut store, 1, &[(common::MILK, Quantity::Units(1))], cash);
    for (day, units) in [(1u128, 1i64), (2, 3)] {
        store
            .begin_cash_session(
                Uuid::from_u128(100 + day),
                TERMINAL,
                &ana(),
                &DrawerCount::empty(Currency::Eur),
                true,
                T0,
            )
            .unwrap();
        let s = sell(
            &mut store,
            10 * day,
            &[(common::WINE, Quantity::Units(units))],
            cash,
        );
        let c = store
            .record_drawer_count(TERMINAL, &counted(s.totals().total.minor), &marta(), T0)
            .unwrap();
        let z = store
            .close_cash_session(TERMINAL, c.id, &marta(), T0)
            .unwrap();
        assert_eq!(z.z_number, Some(day as u64));
        assert_eq!(z.sales.sales, 1, "only this session's sale");
        assert_eq!(z.sales.total, s.totals().total);
        assert_eq!(z.over_short, Some(eur(0)));
        assert!(z.auto_opened);
    }
}

#[test]
fn a_crash_between_count_and_close_or_a_failed_close_leaves_no_gap_in_the_z_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.db");
    let mut store = store(&path);
    a_day(&mut store);
    let first = store
        .record_drawer_count(TERMINAL, &counted(7_000), &marta(), T0)
        .unwrap();
    // The process dies here: the count is on disk, the close never ran.
    drop(store);
    let mut store = Store::open(&path).unwrap();
    assert!(store.open_cash_session(TERMINAL).unwrap().is_some());
    assert_eq!(store.last_z_number(TERMINAL).unwrap(), 0, "no number taken");

    // The close fails part-way (a full disk, say, when queueing for the shop).
    store
        .connection()
        .execute_batch(
            "CREATE TEMP TRIGGER fail_outbox BEFORE INSERT ON main.outbox \
             WHEN NEW.kind = 'z_report' BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .unwrap();
    assert!(
        store
            .close_cash_session(TERMINAL, first.id, &marta(), T0)
            .is_err()
    );
    assert!(
        store.open_cash_session(TERMINAL).unwrap().is_some(),
        "still open"
    );
    assert_eq!(count(&store, "SELECT count(*) FROM z_report"), 0);
    drop(store);

    let mut store = Store::open(&path).unwrap();
    let recount = store
        .record_drawer_count(TERMINAL, &counted(7_050), &marta(), T0)
        .unwrap();
    let z = store
        .close_cash_session(TERMINAL, recount.id, &marta(), T0)
        .unwrap();
    assert_eq!(z.z_number, Some(1), "the first Z is number 1");
    assert_eq!(z.count.as_ref().map(|c| c.id), Some(recount.id));
    assert_eq!(z.counts_made, 2, "the count before the crash is on record");
    assert_eq!(
        count(&store, "SELECT count(*) FROM cash_count"),
        2,
        "both counts kept"
    );
    store
        .begin_cash_session(Uuid::from_u128(2), TERMINAL, &marta(), &float(), false, T0)
        .unwrap();
    let c = store
        .record_drawer_count(TERMINAL, &float(), &marta(), T0)
        .unwrap();
    let z2 = store
        .close_cash_session(TERMINAL, c.id, &marta(), T0)
        .unwrap();
    assert_eq!(z2.z_number, Some(2));
    assert_eq!(
        z2.over_short,
        Some(eur(0)),
        "nothing sold: the float is all there"
    );
    let numbers: Vec<i64> = store
        .connection()
        .prepare("SELECT number FROM z_report WHERE terminal_id = ?1 ORDER BY number")
        .unwrap()
        .query_map([TERMINAL], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(numbers, [1, 2]);
}

#[test]
fn what_is_closed_cannot_change_and_the_rules_hold() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store(&dir.path().join("pos.db"));
    assert!(matches!(
        store.record_cash_movement(
            TERMINAL,
            MovementKind::Out,
            eur(100),
            &reason("safe_drop"),
            &marta(),
            None,
            T0
        ),
        Err(CashStoreError::NotOpen)
    ));
    store
        .begin_cash_session(Uuid::from_u128(1), TERMINAL, &marta(), &float(), false, T0)
        .unwrap();
    assert!(matches!(
        store.begin_cash_session(Uuid::from_u128(2), TERMINAL, &marta(), &float(), false, T0),
        Err(CashStoreError::AlreadyOpen)
    ));
    assert!(
        store
            .begin_cash_session(Uuid::from_u128(3), "T02", &marta(), &float(), false, T0)
            .is_ok(),
        "another terminal has its own session"
    );
    assert!(matches!(
        store.record_cash_movement(
            TERMINAL,
            MovementKind::Out,
            eur(0),
            &reason("safe_drop"),
            &marta(),
            None,
            T0
        ),
        Err(CashStoreError::Cash(_))
    ));
    store
        .record_cash_movement(
            TERMINAL,
            MovementKind::In,
            eur(100),
            &reason("change_top_up"),
            &marta(),
            None,
            T0,
        )
        .unwrap();
    let yen = DrawerCount::empty(Currency::Jpy);
    assert!(
        store
            .record_drawer_count(TERMINAL, &yen, &marta(), T0)
            .is_err()
    );
    let c = store
        .record_drawer_count(TERMINAL, &float(), &marta(), T0)
        .unwrap();
    store
        .close_cash_session(TERMINAL, c.id, &marta(), T0)
        .unwrap();
    let c = store.connection();
    for sql in [
        "UPDATE z_report SET counted_minor = 0",
        "DELETE FROM z_report",
        "UPDATE cash_session SET float_minor = 0 WHERE terminal_id = 'T01'",
        "DELETE FROM cash_movement",
        "UPDATE cash_count SET counted_minor = 1",
    ] {
        assert!(c.execute(sql, []).is_err(), "{sql} must be refused");
    }
    assert_eq!(store.recount_tolerance().unwrap(), None, "off by default");
    store.set_recount_tolerance(Some(200)).unwrap();
    assert_eq!(store.recount_tolerance().unwrap(), Some(200));
    store.set_recount_tolerance(None).unwrap();
    assert_eq!(store.recount_tolerance().unwrap(), None);
    assert!(!store.requires_opening_float().unwrap(), "off by default");
    store.set_requires_opening_float(true).unwrap();
    assert!(store.requires_opening_float().unwrap());
}

/// The verify command: the chain catches a changed row; the Z report's anchor catches what the
/// chain cannot — the trail's last rows deleted after the day was closed.
#[test]
fn pos_audit_verify_detects_a_changed_row_and_rows_deleted_after_a_z_report() {
    use pos_store::NewAuditEntry;
    use std::process::Command;
    let bin = env!("CARGO_BIN_EXE_pos-audit");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.db");
    {
        let mut store = store(&path);
        for (i, action) in ["price_override", "line_void", "no_sale"]
            .iter()
            .enumerate()
        {
            store
                .append_audit(
                    &NewAuditEntry {
                        terminal_id: TERMINAL,
                        action,
                        user_id: Some("u-ana"),
                        approver_id: Some("u-marta"),
                        sale_ref: None,
                        detail: serde_json::json!({"n": i, "before": 500, "after": 450}),
                    },
                    T0,
                )
                .unwrap();
        }
        store
            .begin_cash_session(
                Uuid::from_u128(7),
                TERMINAL,
                &ana(),
                &DrawerCount::empty(Currency::Eur),
                true,
                T0,
            )
            .unwrap();
        let s = sell(&mut store, 1, &[(common::MILK, Quantity::Units(1))], cash);
        let c = store
            .record_drawer_count(TERMINAL, &counted(s.totals().total.minor), &marta(), T0)
            .unwrap();
        let z = store
            .close_cash_session(TERMINAL, c.id, &marta(), T0)
            .unwrap();
        assert_eq!(
            z.audit_head.as_ref().map(|h| h.0),
            Some(3),
            "the Z anchors row 3"
        );
    }
    let verify = || {
        Command::new(bin)
            .args(["verify", "--db", path.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let ok = verify();
    let text = String::from_utf8_lossy(&ok.stdout).to_string();
    assert_eq!(ok.status.code(), Some(0), "{text}");
    assert!(text.contains("chain: intact, 3 rows"), "{text}");

    // Someone drops the guard and deletes the last row: the chain of rows 1–2 is still
    // consistent, but the Z report sent to the shop recorded row 3.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "DROP TRIGGER audit_log_is_append_only_delete; DELETE FROM audit_log WHERE seq = 3;",
        )
        .unwrap();
    let cut = verify();
    let text = String::from_utf8_lossy(&cut.stdout).to_string();
    assert_eq!(cut.status.code(), Some(1), "{text}");
    assert!(text.contains("chain: intact, 2 rows"), "{text}");
    assert!(
        text.contains("Z report T01-1 recorded row 3") && text.contains("no such row"),
        "{text}"
    );

    // And a changed row breaks the chain at that row.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "DROP TRIGGER audit_log_is_append_only_update; \
             UPDATE audit_log SET detail = '{\"after\":100,\"before\":500,\"n\":0}' WHERE seq = 1;",
        )
        .unwrap();
    let changed = verify();
    let text = String::from_utf8_lossy(&changed.stdout).to_string();
    assert_eq!(changed.status.code(), Some(1), "{text}");
    assert!(text.contains("chain: BROKEN at row 1"), "{text}");

    let missing = Command::new(bin)
        .args(["verify", "--db", "/nonexistent/pos.db"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(3));
}
