//! The durable sale commit on real SQLite files: all or nothing, gap-free numbers, stock and the
//! outbox row in the same transaction.

mod common;

use common::*;
use pos_core::sale::CheckoutError;
use pos_core::{Quantity, ReceiptNumber};
use pos_store::{CommitError, Store};
use uuid::Uuid;

fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n)
}

#[test]
fn a_committed_sale_is_in_the_file_once_with_its_lines_totals_payment_taxes_and_outbox_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.db");
    let mut store = open_with_catalog(&path);
    let cart = cart(
        &store,
        &[
            (MILK, Quantity::Units(2)),
            (WINE, Quantity::Units(1)),
            (APPLES, Quantity::Grams(1234)),
        ],
    );
    let sale = store
        .commit_sale("T01", LOCATION, |r| build(&cart, r, uuid(1), T0))
        .unwrap();
    assert_eq!(sale.receipt().to_string(), "T01-000001");
    // 2 × 1.09 + 6.99 + 1.234 kg × 2.49 (3.07) = 12.24 €
    assert_eq!(sale.totals().total.minor, 1224);
    drop(store);

    let store = Store::open(&path).unwrap();
    assert_eq!(store.sales_count().unwrap(), 1);
    let back = store.sale_by_receipt("T01", 1).unwrap().expect("the sale");
    assert_eq!(
        back, sale,
        "read back exactly as committed, for an exact reprint"
    );
    assert_eq!(store.sale_by_id(uuid(1)).unwrap().as_ref(), Some(&sale));
    assert_eq!(store.last_sale(TERMINAL).unwrap().as_ref(), Some(&sale));
    assert_eq!(store.sale_by_receipt("T01", 2).unwrap(), None);

    assert_eq!(count(&store, "SELECT count(*) FROM sale_line"), 3);
    assert_eq!(
        count(&store, "SELECT sum(amount_minor) FROM sale_line"),
        1224
    );
    assert_eq!(
        count(
            &store,
            "SELECT grams FROM sale_line WHERE sku = 'SKU-APPLES'"
        ),
        1234
    );
    assert_eq!(
        count(
            &store,
            "SELECT amount_minor FROM sale_payment WHERE kind = 'cash'"
        ),
        1224
    );
    // 4 %: milk 2.18 + apples 3.07 = 5.25 gross, tax round(525 × 4/104) = 20; 21 %: 6.99, tax 1.21.
    assert_eq!(
        count(
            &store,
            "SELECT tax_minor FROM sale_tax WHERE code = 'ES-IVA-4'"
        ),
        20
    );
    assert_eq!(
        count(
            &store,
            "SELECT tax_minor FROM sale_tax WHERE code = 'ES-IVA-21'"
        ),
        121
    );
    assert_eq!(count(&store, "SELECT tax_total_minor FROM sale"), 141);

    let out = store.outbox_pending(10, T0).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].kind, "sale.completed");
    assert_eq!(out[0].idempotency_key, uuid(1).to_string());
    assert_eq!(out[0].aggregate_id, uuid(1).to_string());
    let payload: pos_core::CompletedSale = serde_json::from_str(&out[0].payload).unwrap();
    assert_eq!(payload, sale, "the outbox carries the whole sale");

    assert_eq!(
        store.stock_on_hand("v-milk", LOCATION).unwrap(),
        Some(8),
        "10 − 2"
    );
    assert_eq!(
        store.stock_on_hand("v-wine", LOCATION).unwrap(),
        Some(4),
        "5 − 1"
    );
    assert_eq!(
        store.stock_on_hand("v-apples", LOCATION).unwrap(),
        Some(10_000 - 1234),
        "grams"
    );
    assert_every_sale_is_whole(&store, "T01");
}

/// A trigger that makes the database refuse one of the commit's inserts, as a full disk or a
/// bug would, part-way through the transaction.
fn fail_inserts_into(store: &Store, table: &str) {
    store
        .connection()
        .execute_batch(&format!(
            "CREATE TEMP TRIGGER fail_{table} BEFORE INSERT ON main.{table} \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        ))
        .unwrap();
}

fn stop_failing(store: &Store, table: &str) {
    store
        .connection()
        .execute_batch(&format!("DROP TRIGGER temp.fail_{table};"))
        .unwrap();
}

fn a_failure_part_way_leaves_nothing(table: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.db");
    let mut store = open_with_catalog(&path);
    let first = cart(&store, &[(WINE, Quantity::Units(1))]);
    store
        .commit_sale("T01", LOCATION, |r| build(&first, r, uuid(1), T0))
        .unwrap();

    let cart = cart(
        &store,
        &[(MILK, Quantity::Units(3)), (WINE, Quantity::Units(2))],
    );
    fail_inserts_into(&store, table);
    let err = store
        .commit_sale("T01", LOCATION, |r| build(&cart, r, uuid(2), T0))
        .unwrap_err();
    assert!(matches!(err, CommitError::Store(_)), "{err:?}");
    stop_failing(&store, table);
    drop(store);

    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.sales_count().unwrap(), 1, "no second sale");
    assert_eq!(store.sale_by_id(uuid(2)).unwrap(), None);
    assert_eq!(
        count(
            &store,
            &format!(
                "SELECT count(*) FROM sale_line WHERE sale_id = '{}'",
                uuid(2)
            )
        ),
        0
    );
    assert_eq!(
        count(
            &store,
            &format!(
                "SELECT count(*) FROM sale_payment WHERE sale_id = '{}'",
                uuid(2)
            )
        ),
        0
    );
    assert_eq!(
        count(
            &store,
            &format!(
                "SELECT count(*) FROM sale_tax WHERE sale_id = '{}'",
                uuid(2)
            )
        ),
        0
    );
    assert_eq!(
        store.outbox_len().unwrap(),
        1,
        "only the first sale's outbox row"
    );
    assert_eq!(
        store.stock_on_hand("v-milk", LOCATION).unwrap(),
        Some(10),
        "stock untouched"
    );
    assert_eq!(
        store.stock_on_hand("v-wine", LOCATION).unwrap(),
        Some(4),
        "only the first sale"
    );
    assert_eq!(
        store.last_receipt_number("T01").unwrap(),
        1,
        "number 2 not consumed"
    );

    let again = store
        .commit_sale("T01", LOCATION, |r| build(&cart, r, uuid(3), T0))
        .unwrap();
    assert_eq!(
        again.receipt().number,
        2,
        "the next sale gets the number the failed one would have had"
    );
    assert_every_sale_is_whole(&store, "T01");
}

#[test]
fn a_failure_on_the_outbox_insert_leaves_no_sale_no_lines_no_outbox_row_and_stock_untouched() {
    a_failure_part_way_leaves_nothing("outbox");
}

#[test]
fn a_failure_on_the_payment_insert_leaves_nothing_either() {
    a_failure_part_way_leaves_nothing("sale_payment");
}

#[test]
fn a_failure_on_the_stock_update_leaves_nothing_either() {
    a_failure_part_way_leaves_nothing("stock");
}

#[test]
fn a_sale_that_cannot_be_built_consumes_no_number() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_with_catalog(&dir.path().join("pos.db"));
    let empty = cart(&store, &[]);
    let err = store
        .commit_sale("T01", LOCATION, |r| build(&empty, r, uuid(1), T0))
        .unwrap_err();
    assert!(
        matches!(err, CommitError::Build(CheckoutError::EmptySale)),
        "{err:?}"
    );
    assert_eq!(store.last_receipt_number("T01").unwrap(), 0);
    let cart = cart(&store, &[(MILK, Quantity::Units(1))]);
    let sale = store
        .commit_sale("T01", LOCATION, |r| build(&cart, r, uuid(2), T0))
        .unwrap();
    assert_eq!(sale.receipt().number, 1);
}

#[test]
fn a_sale_built_with_another_number_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_with_catalog(&dir.path().join("pos.db"));
    let cart = cart(&store, &[(MILK, Quantity::Units(1))]);
    let err = store
        .commit_sale("T01", LOCATION, |_| {
            build(
                &cart,
                ReceiptNumber {
                    series: "T01".into(),
                    number: 7,
                },
                uuid(1),
                T0,
            )
        })
        .unwrap_err();
    assert!(matches!(err, CommitError::WrongReceipt { .. }), "{err:?}");
    assert_eq!(store.sales_count().unwrap(), 0);
}

#[test]
fn each_series_counts_on_its_own_without_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_with_catalog(&dir.path().join("pos.db"));
    let cart = cart(&store, &[(MILK, Quantity::Units(1))]);
    let mut numbers = Vec::new();
    for (i, series) in ["T01", "T02", "T01", "T01", "T02"].into_iter().enumerate() {
        let s = store
            .commit_sale(series, LOCATION, |r| build(&cart, r, uuid(i as u128), T0))
            .unwrap();
        numbers.push(s.receipt().to_string());
    }
    assert_eq!(
        numbers,
        [
            "T01-000001",
            "T02-000001",
            "T01-000002",
            "T01-000003",
            "T02-000002"
        ]
    );
    assert_eq!(
        store.last_sale(TERMINAL).unwrap().unwrap().receipt().number,
        2
    );
}

#[test]
fn stock_goes_negative_rather_than_refusing_goods_in_hand() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_with_catalog(&dir.path().join("pos.db"));
    let cart = cart(&store, &[(WINE, Quantity::Units(7))]);
    store
        .commit_sale("T01", LOCATION, |r| build(&cart, r, uuid(1), T0))
        .unwrap();
    assert_eq!(store.stock_on_hand("v-wine", LOCATION).unwrap(), Some(-2));
    let item = store.find_by_barcode(WINE, LOCATION).unwrap().unwrap();
    assert_eq!(item.on_hand, Some(-2), "the register sees it too");
}

#[test]
fn a_sale_at_an_unknown_location_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_with_catalog(&dir.path().join("pos.db"));
    let cart = cart(&store, &[(WINE, Quantity::Units(1))]);
    let err = store
        .commit_sale("T01", "nowhere", |r| build(&cart, r, uuid(1), T0))
        .unwrap_err();
    assert!(matches!(err, CommitError::Store(_)), "{err:?}");
    assert_eq!(store.sales_count().unwrap(), 0);
    assert_eq!(store.last_receipt_number("T01").unwrap(), 0);
}

#[test]
fn an_idle_checkpoint_moves_committed_sales_into_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.db");
    let mut store = open_with_catalog(&path);
    let cart = cart(&store, &[(MILK, Quantity::Units(1))]);
    store
        .commit_sale("T01", LOCATION, |r| build(&cart, r, uuid(1), T0))
        .unwrap();
    let (log, done) = store.checkpoint().unwrap();
    assert!(log > 0, "the sale was in the write-ahead log");
    assert_eq!(done, log, "and is now all in the database file");
    drop(store);
    assert_eq!(Store::open(&path).unwrap().sales_count().unwrap(), 1);
}
