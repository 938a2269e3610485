//! Shared fixtures for the store's integration tests: a small Spanish catalog on a real file,
//! and sales built by pos-core exactly as the register builds them.
#![allow(dead_code)]

use pos_core::sale::{Cashier, SaleContext};
use pos_core::{
    Cart, CashRounding, CompletedSale, Currency, Money, Quantity, ReceiptNumber, TaxPolicy, Tender,
    TenderKind,
};
use pos_store::{CatalogBatch, LocationRecord, ProductRecord, Store, TaxCategory, VariantRecord};
use std::collections::BTreeMap;
use std::path::Path;
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

pub const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);
pub const LOCATION: &str = "main";
pub const TERMINAL: &str = "T01";

pub const MILK: &str = "8400000000011";
pub const WINE: &str = "8400000000028";
pub const APPLES: &str = "8400000000035";

fn names(en: &str, es: &str, ja: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("en".to_owned(), en.to_owned()),
        ("es".to_owned(), es.to_owned()),
        ("ja".to_owned(), ja.to_owned()),
    ])
}

fn product(
    id: &str,
    n: BTreeMap<String, String>,
    tax: &str,
    by_weight: bool,
    price: i64,
    barcode: &str,
    stock: i64,
) -> ProductRecord {
    ProductRecord {
        id: format!("p-{id}"),
        names: n,
        description: None,
        by_weight,
        tax_code: tax.into(),
        image_url: None,
        variants: vec![VariantRecord {
            id: format!("v-{id}"),
            sku: format!("SKU-{}", id.to_uppercase()),
            price: Money::new(price, Currency::Eur),
            shop_product_id: None,
            shop_variant_id: None,
            barcodes: vec![barcode.into()],
            stock: vec![(LOCATION.into(), stock)],
        }],
    }
}

/// Milk (4 %, 1.09 €, 10 in stock), wine (21 %, 6.99 €, 5 in stock) and apples sold by weight
/// (4 %, 2.49 €/kg, 10 kg in stock).
pub fn catalog() -> CatalogBatch {
    let tax = |code: &str, bps: u32, reduced: bool| TaxCategory {
        code: code.into(),
        rate_bps: bps,
        reduced,
        names: BTreeMap::new(),
    };
    CatalogBatch {
        tax_categories: vec![tax("ES-IVA-21", 2100, false), tax("ES-IVA-4", 400, true)],
        locations: vec![LocationRecord {
            id: LOCATION.into(),
            name: "Shop floor".into(),
        }],
        products: vec![
            product(
                "milk",
                names("Whole milk 1L", "Leche entera 1L", "牛乳パック 1L"),
                "ES-IVA-4",
                false,
                109,
                MILK,
                10,
            ),
            product(
                "wine",
                names("Red wine 750 ml", "Vino tinto 750 ml", "赤ワイン 750ml"),
                "ES-IVA-21",
                false,
                699,
                WINE,
                5,
            ),
            product(
                "apples",
                names("Apples", "Manzanas", "りんご"),
                "ES-IVA-4",
                true,
                249,
                APPLES,
                10_000,
            ),
        ],
    }
}

pub fn open_with_catalog(path: &Path) -> Store {
    let mut store = Store::open(path).expect("open store");
    store.upsert_catalog(&catalog(), T0).expect("catalog");
    store
}

/// A cart with what was scanned: (barcode, quantity).
pub fn cart(store: &Store, items: &[(&str, Quantity)]) -> Cart {
    let mut cart = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
    for (code, q) in items {
        let item = store
            .find_by_barcode(code, LOCATION)
            .unwrap()
            .expect("known barcode");
        cart.add(item.to_product_ref(), *q).unwrap();
    }
    cart
}

/// Builds the sale as the register does, paying the exact total in cash.
pub fn build(
    cart: &Cart,
    receipt: ReceiptNumber,
    id: Uuid,
    at: OffsetDateTime,
) -> Result<CompletedSale, pos_core::sale::CheckoutError> {
    let total = cart.totals()?.total;
    cart.complete(
        vec![Tender {
            kind: TenderKind::Cash,
            amount: Money::new(total.minor, Currency::Eur),
            reference: None,
        }],
        SaleContext {
            id,
            receipt,
            terminal_id: TERMINAL.into(),
            cashier: Cashier {
                id: "u-ana".into(),
                name: "Ana".into(),
            },
            at,
            cash_rounding: CashRounding::NONE,
        },
    )
}

pub fn count(store: &Store, sql: &str) -> i64 {
    store.connection().query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Checks what must hold for every committed sale, whatever happened to the process: each sale
/// is whole (its lines add up to its total, it has its payments and taxes), it has exactly one
/// outbox row, and the numbers of its series run 1..=n without gaps. Returns the number of sales.
pub fn assert_every_sale_is_whole(store: &Store, series: &str) -> i64 {
    let n = count(store, "SELECT count(*) FROM sale");
    let broken = count(
        store,
        "SELECT count(*) FROM sale s WHERE s.total_minor <> \
         (SELECT coalesce(sum(amount_minor), -1) FROM sale_line l WHERE l.sale_id = s.id)",
    );
    assert_eq!(broken, 0, "a sale whose lines do not add up to its total");
    let unpaid = count(
        store,
        "SELECT count(*) FROM sale s WHERE s.total_minor > \
         (SELECT coalesce(sum(amount_minor), 0) FROM sale_payment p WHERE p.sale_id = s.id)",
    );
    assert_eq!(unpaid, 0, "a sale without its payments");
    let untaxed = count(
        store,
        "SELECT count(*) FROM sale s WHERE s.total_minor <> \
         (SELECT coalesce(sum(gross_minor), -1) FROM sale_tax t WHERE t.sale_id = s.id)",
    );
    assert_eq!(untaxed, 0, "a sale whose per-rate taxes do not add up");
    let outbox_mismatch = count(
        store,
        "SELECT count(*) FROM sale s WHERE \
         (SELECT count(*) FROM outbox o WHERE o.idempotency_key = s.id AND o.kind = 'sale.completed') <> 1",
    );
    assert_eq!(outbox_mismatch, 0, "every sale has exactly one outbox row");
    assert_eq!(
        count(store, "SELECT count(*) FROM outbox"),
        n,
        "no outbox row without its sale"
    );
    let (max, distinct): (i64, i64) = store
        .connection()
        .query_row(
            "SELECT coalesce(max(number), 0), count(DISTINCT number) FROM sale WHERE series = ?1",
            [series],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((max, distinct), (n, n), "numbers 1..={n} without gaps");
    assert_eq!(
        store.last_receipt_number(series).unwrap() as i64,
        n,
        "the counter is the last number used"
    );
    n
}
