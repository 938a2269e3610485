//! Returns on a real SQLite file: a partial return then the rest, never more than sold; the
//! return series numbered without gaps; a retried commit writes nothing twice; back-to-stock
//! raises local stock and queues `RETURN +n`, a write-off queues `RETURN +n` and `WRITE_OFF −n`;
//! the X report counts the refunds and the cash they took from the drawer; sales are found by
//! total, receipt number and the card's last four digits.

mod common;

use common::{LOCATION, MILK, T0, TERMINAL, WINE, cart, count, open_with_catalog};
use pos_core::cash::DrawerCount;
use pos_core::returns::{
    self, CompletedReturn, Disposition, OriginalSale, Refund, ReturnContext, ReturnError,
    ReturnRequestLine,
};
use pos_core::sale::{Cashier, SaleContext};
use pos_core::{
    CashRounding, CompletedSale, Currency, Money, Quantity, ReceiptNumber, Tender, TenderKind,
};
use pos_store::Store;
use pos_store::cash::Operator;
use pos_store::returns::{SaleSearch, return_series};
use pos_store::sales::CommitError;
use time::Duration;
use uuid::Uuid;

fn sell(store: &mut Store, n: u128, items: &[(&str, Quantity)], kind: TenderKind) -> CompletedSale {
    let c = cart(store, items);
    let total = c.totals().unwrap().total;
    store
        .commit_sale(TERMINAL, LOCATION, |r: ReceiptNumber| {
            c.complete(
                vec![Tender {
                    kind,
                    amount: total,
                    reference: (kind == TenderKind::Card).then(|| "A1 ************4242".into()),
                }],
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

fn line(no: u32, q: i64, d: Disposition) -> ReturnRequestLine {
    ReturnRequestLine {
        line_no: no,
        quantity: q,
        disposition: d,
    }
}

/// Returns `request` of `sale` with the default refunds, the way the register does.
fn give_back(
    store: &mut Store,
    id: u128,
    sale: &CompletedSale,
    request: &[ReturnRequestLine],
    session: Option<Uuid>,
) -> Result<(CompletedReturn, bool), CommitError<ReturnError>> {
    store.commit_return(
        Uuid::from_u128(id),
        &return_series(TERMINAL),
        LOCATION,
        session,
        Some(sale.id()),
        |number, earlier| {
            let priced = returns::price_return(sale, &returns::returned_so_far(earlier), request)?;
            let refunded = returns::refunded_so_far(earlier);
            let caps = returns::tender_contributions(sale)
                .into_iter()
                .map(|(p, _, paid)| (p, paid - refunded.get(&p).copied().unwrap_or(0)))
                .collect();
            let refunds = returns::default_refunds(sale, &refunded, priced.total)
                .into_iter()
                .map(|(p, kind, amount)| Refund {
                    kind,
                    amount,
                    original_tender: Some(p),
                    reference: None,
                    original_reference: None,
                    slip: Vec::new(),
                })
                .collect();
            CompletedReturn::build(
                priced,
                Some(OriginalSale {
                    id: sale.id(),
                    receipt: sale.receipt().clone(),
                    at: sale.at(),
                }),
                refunds,
                &caps,
                ReturnContext {
                    id: Uuid::from_u128(id),
                    number,
                    terminal_id: TERMINAL.into(),
                    cashier: Cashier {
                        id: "u-ana".into(),
                        name: "Ana".into(),
                    },
                    approved_by: None,
                    at: T0 + Duration::hours(1),
                    cash_rounding: CashRounding::NONE,
                },
            )
        },
        None,
    )
}

fn on_hand(store: &Store, variant: &str) -> i64 {
    store
        .connection()
        .query_row(
            "SELECT on_hand FROM stock WHERE variant_id = ?1 AND location_id = ?2",
            [variant, LOCATION],
            |r| r.get(0),
        )
        .unwrap()
}

fn adjustments(store: &Store) -> Vec<(String, String, i64, String)> {
    let mut stmt = store
        .connection()
        .prepare(
            "SELECT idempotency_key, json_extract(payload, '$.sku'), json_extract(payload, '$.delta'), \
             json_extract(payload, '$.reason') FROM outbox WHERE kind = 'stock.adjusted' ORDER BY id",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_partial_return_then_the_rest_never_more_than_sold_with_stock_and_shop_adjustments() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_with_catalog(&dir.path().join("pos.db"));
    let session = Uuid::from_u128(900);
    store
        .begin_cash_session(
            session,
            TERMINAL,
            &Operator {
                id: "u-ana".into(),
                name: "Ana".into(),
            },
            &DrawerCount::empty(Currency::Eur),
            true,
            T0,
        )
        .unwrap();
    let sale = sell(
        &mut store,
        1,
        &[(MILK, Quantity::Units(3)), (WINE, Quantity::Units(1))],
        TenderKind::Cash,
    );
    assert_eq!(on_hand(&store, "v-milk"), 7);
    assert_eq!(on_hand(&store, "v-wine"), 4);

    // Two milks back to the shelf.
    let (first, replayed) = give_back(
        &mut store,
        10,
        &sale,
        &[line(1, 2, Disposition::Restock)],
        Some(session),
    )
    .unwrap();
    assert!(!replayed);
    assert_eq!(first.number.to_string(), "T01R-000001");
    assert_eq!(first.total.minor, 218);
    assert_eq!(
        on_hand(&store, "v-milk"),
        9,
        "two milks are back on the shelf"
    );

    // The same return again (a retry after a lost answer): nothing new is written.
    let (again, replayed) = give_back(
        &mut store,
        10,
        &sale,
        &[line(1, 2, Disposition::Restock)],
        Some(session),
    )
    .unwrap();
    assert!(replayed);
    assert_eq!(again, first);
    assert_eq!(count(&store, "SELECT count(*) FROM sale_return"), 1);
    assert_eq!(on_hand(&store, "v-milk"), 9);

    // Two more milks than are left: refused, and no number is used.
    let err = give_back(
        &mut store,
        11,
        &sale,
        &[line(1, 2, Disposition::Restock)],
        Some(session),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        CommitError::Build(ReturnError::MoreThanReturnable {
            line_no: 1,
            remaining: 1
        })
    ));

    // The rest: the last milk back to stock, the wine written off as damaged.
    let (rest, _) = give_back(
        &mut store,
        12,
        &sale,
        &[
            line(1, 1, Disposition::Restock),
            line(
                2,
                1,
                Disposition::WriteOff {
                    reason: "damaged".into(),
                },
            ),
        ],
        Some(session),
    )
    .unwrap();
    assert_eq!(
        rest.number.to_string(),
        "T01R-000002",
        "no gap after the refusal"
    );
    assert_eq!(
        first.total.minor + rest.total.minor,
        sale.totals().total.minor,
        "the two returns refund exactly the sale"
    );
    assert_eq!(on_hand(&store, "v-milk"), 10);
    assert_eq!(
        on_hand(&store, "v-wine"),
        4,
        "a written-off wine is not back on the shelf"
    );
    assert_eq!(
        returns::returnable(
            &sale,
            &returns::returned_so_far(&store.returns_of_sale(sale.id()).unwrap())
        ),
        vec![0, 0]
    );

    let r1 = Uuid::from_u128(10);
    let r2 = Uuid::from_u128(12);
    assert_eq!(
        adjustments(&store),
        vec![
            (
                format!("return:{r1}:1:RETURN"),
                "SKU-MILK".into(),
                2,
                "RETURN".into()
            ),
            (
                format!("return:{r2}:1:RETURN"),
                "SKU-MILK".into(),
                1,
                "RETURN".into()
            ),
            (
                format!("return:{r2}:2:RETURN"),
                "SKU-WINE".into(),
                1,
                "RETURN".into()
            ),
            (
                format!("return:{r2}:2:WRITE_OFF"),
                "SKU-WINE".into(),
                -1,
                "WRITE_OFF".into()
            ),
        ]
    );

    // The X report: two refunds, all in cash, out of the drawer.
    let x = store.x_report(TERMINAL, T0 + Duration::hours(2)).unwrap();
    assert_eq!(x.sales.refunds, 2);
    assert_eq!(x.sales.refunded, sale.totals().total);
    assert_eq!(x.drawer.cash_refunds, sale.totals().total);
    assert_eq!(
        x.expected.minor, 0,
        "zero float + the sale's cash − the same refunded"
    );

    // A return is never edited.
    assert!(
        store
            .connection()
            .execute("UPDATE sale_return SET total_minor = -1", [])
            .is_err()
    );
    // Reopened from disk, the documents read back the same.
    drop(store);
    let store = Store::open(dir.path().join("pos.db")).unwrap();
    assert_eq!(store.return_by_number("T01R", 2).unwrap().unwrap(), rest);
}

#[test]
fn a_shop_figure_read_before_the_return_reached_the_shop_keeps_the_returned_units() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_with_catalog(&dir.path().join("pos.db"));
    let sale = sell(
        &mut store,
        1,
        &[(MILK, Quantity::Units(3))],
        TenderKind::Cash,
    );
    give_back(
        &mut store,
        10,
        &sale,
        &[line(1, 2, Disposition::Restock)],
        None,
    )
    .unwrap();
    assert_eq!(on_hand(&store, "v-milk"), 9);
    // The shop still says 10 (it has neither the sale nor the return yet): the register shows
    // 10 − 3 sold + 2 returned.
    store
        .apply_shop_changes(
            &pos_store::CatalogBatch::default(),
            &[pos_store::sync_state::ShopStockFigure {
                variant_id: "v-milk".into(),
                sellable: 10,
            }],
            LOCATION,
            None,
            T0 + Duration::hours(2),
        )
        .unwrap();
    assert_eq!(
        on_hand(&store, "v-milk"),
        9,
        "the returned units are not lost"
    );
}

#[test]
fn sales_are_found_by_total_receipt_card_digits_and_date() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_with_catalog(&dir.path().join("pos.db"));
    let a = sell(
        &mut store,
        1,
        &[(MILK, Quantity::Units(1))],
        TenderKind::Cash,
    );
    let b = sell(
        &mut store,
        2,
        &[(WINE, Quantity::Units(1))],
        TenderKind::Card,
    );
    let ids = |q: SaleSearch| -> Vec<Uuid> {
        store
            .search_sales(&q, 10)
            .unwrap()
            .iter()
            .map(|s| s.id())
            .collect()
    };
    assert_eq!(
        ids(SaleSearch {
            total_minor: Some(699),
            ..Default::default()
        }),
        vec![b.id()]
    );
    assert_eq!(
        ids(SaleSearch {
            card_last4: Some("4242".into()),
            ..Default::default()
        }),
        vec![b.id()]
    );
    assert_eq!(
        ids(SaleSearch {
            receipt: Some("T01-000001".into()),
            ..Default::default()
        }),
        vec![a.id()]
    );
    assert_eq!(
        ids(SaleSearch {
            from: Some(T0),
            until: Some(T0 + Duration::days(1)),
            ..Default::default()
        }),
        vec![b.id(), a.id()],
        "newest first"
    );
    assert!(
        ids(SaleSearch {
            total_minor: Some(1),
            ..Default::default()
        })
        .is_empty()
    );
    let _ = Money::zero(Currency::Eur);
}

/// Another register's sale, kept here after a lookup in the shop: its return here links to it,
/// is capped by the returns the shop listed, is queued for the shop with what each line sold, and
/// never enters this register's own sales.
#[test]
fn a_sale_fetched_from_the_shop_is_returned_here_capped_by_the_shops_returns_and_queued_for_it() {
    use pos_store::remote_sales::{RemoteSale, RemoteSource};
    let dir = tempfile::tempdir().unwrap();
    // "Register A" sold it and returned 1 of the 3 milks; the shop has both documents.
    let mut a = open_with_catalog(&dir.path().join("a.db"));
    let sale = sell(
        &mut a,
        1,
        &[(MILK, Quantity::Units(3)), (WINE, Quantity::Units(1))],
        TenderKind::Cash,
    );
    let (at_a, _) =
        give_back(&mut a, 10, &sale, &[line(1, 1, Disposition::Restock)], None).unwrap();

    // This register (its own database) keeps what the shop gave.
    let mut here = open_with_catalog(&dir.path().join("here.db"));
    let remote = RemoteSale {
        sale: sale.clone(),
        source: RemoteSource::Pos,
        code: sale.receipt().to_string(),
        order_code: Some("ORD1".into()),
        gift_cards: Default::default(),
        fetched_at: T0 + Duration::hours(2),
    };
    here.save_remote_sale(&remote, std::slice::from_ref(&at_a))
        .unwrap();
    assert_eq!(
        here.remote_sale_by_code("T01-000001")
            .unwrap()
            .unwrap()
            .sale,
        sale
    );
    assert_eq!(here.returns_of_sale(sale.id()).unwrap(), vec![at_a.clone()]);

    // 3 more milks: only 2 are left across both registers.
    let e = give_back(
        &mut here,
        20,
        &sale,
        &[line(1, 3, Disposition::Restock)],
        None,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            CommitError::Build(ReturnError::MoreThanReturnable { remaining: 2, .. })
        ),
        "{e:?}"
    );
    let before = on_hand(&here, "v-milk");
    let (ret, _) = give_back(
        &mut here,
        20,
        &sale,
        &[line(1, 2, Disposition::Restock)],
        None,
    )
    .unwrap();
    assert_eq!(on_hand(&here, "v-milk"), before + 2, "back on this shelf");
    let c = here.connection();
    let linked: (Option<String>, String) = c
        .query_row(
            "SELECT r.original_sale_id, l.remote_sale_id FROM sale_return r \
             JOIN sale_return_remote l ON l.return_id = r.id WHERE r.id = ?1",
            [ret.id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(linked, (None, sale.id().to_string()));
    let (key, sold, order): (String, String, Option<String>) = c
        .query_row(
            "SELECT idempotency_key, json_extract(payload, '$.sold'), json_extract(payload, '$.orderCode') \
             FROM outbox WHERE kind = 'return.completed'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(key, format!("return:{}", ret.id));
    assert_eq!(sold, "[[1,3]]", "line 1 sold 3");
    assert_eq!(
        order, None,
        "a register's sale is known to the shop by its id"
    );
    assert_eq!(
        count(&here, "SELECT count(*) FROM sale"),
        0,
        "not this register's sale"
    );
    // Every known return, once each: A's (as the shop listed it) and this one.
    let known: Vec<String> = here
        .returns_of_sale(sale.id())
        .unwrap()
        .iter()
        .map(|r| r.number.to_string())
        .collect();
    assert_eq!(known.len(), 2);
    // A later lookup that lists this register's return too does not count it twice.
    here.save_remote_sale(&remote, &[at_a, ret]).unwrap();
    assert_eq!(here.returns_of_sale(sale.id()).unwrap().len(), 2);
    // The register's own sale is never kept as a remote one.
    let own = sell(
        &mut here,
        2,
        &[(WINE, Quantity::Units(1))],
        TenderKind::Cash,
    );
    let mut mine = remote.clone();
    mine.sale = own;
    assert!(here.save_remote_sale(&mine, &[]).is_err());
}
