//! The catalog on a real file: the scan lookup, product search in three languages, and imports.

mod common;

use common::*;
use pos_core::{Currency, Money, Quantity};
use pos_store::{CatalogBatch, ProductRecord, Store, StoreError, VariantRecord};
use std::collections::BTreeMap;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_with_catalog(&dir.path().join("pos.db"));
    (dir, store)
}

fn skus(items: &[pos_store::CatalogItem]) -> Vec<&str> {
    items.iter().map(|i| i.sku.as_str()).collect()
}

fn plan(store: &Store, sql: &str, args: impl rusqlite::Params) -> String {
    let mut stmt = store
        .connection()
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap();
    let rows: Vec<String> = stmt
        .query_map(args, |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    rows.join("\n")
}

#[test]
fn a_scanned_barcode_gives_everything_the_register_needs() {
    let (_d, store) = store();
    let item = store.find_by_barcode(MILK, LOCATION).unwrap().unwrap();
    assert_eq!(item.variant_id, "v-milk");
    assert_eq!(item.sku, "SKU-MILK");
    assert_eq!(item.price, Money::new(109, Currency::Eur));
    assert_eq!(
        (item.tax.code.as_str(), item.tax.bps, item.tax.reduced),
        ("ES-IVA-4", 400, true)
    );
    assert_eq!(item.name("es"), "Leche entera 1L");
    assert_eq!(item.name("ja"), "牛乳パック 1L");
    assert_eq!(
        item.name("fr"),
        "Whole milk 1L",
        "unknown language falls back to English"
    );
    assert_eq!(item.on_hand, Some(10));
    assert_eq!(item.barcode.as_deref(), Some(MILK));
    assert!(!item.by_weight);
    assert!(
        store
            .find_by_barcode(APPLES, LOCATION)
            .unwrap()
            .unwrap()
            .by_weight
    );
    assert_eq!(
        store
            .find_by_barcode(MILK, "back-room")
            .unwrap()
            .unwrap()
            .on_hand,
        None,
        "never counted there"
    );
    let pr = item.to_product_ref();
    assert_eq!(pr.unit_price.minor, 109);
    assert_eq!(pr.barcode.as_deref(), Some(MILK));
}

#[test]
fn an_unknown_barcode_is_none_not_an_error() {
    let (_d, store) = store();
    assert_eq!(
        store.find_by_barcode("8400000000099", LOCATION).unwrap(),
        None
    );
    assert_eq!(store.find_by_barcode("", LOCATION).unwrap(), None);
    assert_eq!(store.find_by_sku("NOPE", LOCATION).unwrap(), None);
    assert_eq!(store.get_variant("v-nope", LOCATION).unwrap(), None);
}

#[test]
fn sku_and_variant_id_lookups_find_the_same_item() {
    let (_d, store) = store();
    let by_code = store.find_by_barcode(WINE, LOCATION).unwrap().unwrap();
    assert_eq!(
        store.find_by_sku("SKU-WINE", LOCATION).unwrap().unwrap(),
        by_code
    );
    assert_eq!(
        store.get_variant("v-wine", LOCATION).unwrap().unwrap(),
        by_code
    );
}

#[test]
fn the_scan_lookup_never_scans_a_table() {
    let (_d, store) = store();
    let sql = "SELECT v.id FROM barcode b JOIN variant v ON v.id = b.variant_id \
               JOIN product p ON p.id = v.product_id JOIN tax_category t ON t.code = p.tax_code \
               WHERE b.code = ?1";
    let p = plan(&store, sql, [MILK]);
    assert!(!p.contains("SCAN"), "{p}");
}

#[test]
fn search_finds_names_in_every_language_ignoring_case_and_accents() {
    let (_d, store) = store();
    assert_eq!(
        skus(&store.search("乳パッ", "ja", LOCATION, 10).unwrap()),
        ["SKU-MILK"]
    );
    assert_eq!(
        skus(&store.search("LECHE", "es", LOCATION, 10).unwrap()),
        ["SKU-MILK"]
    );
    assert_eq!(
        skus(&store.search("wine", "en", LOCATION, 10).unwrap()),
        ["SKU-WINE"]
    );
    assert_eq!(
        skus(&store.search("ワイン", "ja", LOCATION, 10).unwrap()),
        ["SKU-WINE"]
    );
    assert_eq!(
        skus(&store.search("manzana", "es", LOCATION, 10).unwrap()),
        ["SKU-APPLES"]
    );
    // Two words must both occur.
    assert_eq!(
        skus(&store.search("vino tinto", "es", LOCATION, 10).unwrap()),
        ["SKU-WINE"]
    );
    assert!(
        store
            .search("vino leche", "es", LOCATION, 10)
            .unwrap()
            .is_empty()
    );
    assert!(store.search("zzz", "es", LOCATION, 10).unwrap().is_empty());
}

#[test]
fn accents_are_ignored() {
    let (_d, mut store) = store();
    let mut batch = catalog();
    batch.products[0]
        .names
        .insert("es".into(), "Azúcar moreno".into());
    store.upsert_catalog(&batch, T0).unwrap();
    assert_eq!(
        skus(&store.search("azucar", "es", LOCATION, 10).unwrap()),
        ["SKU-MILK"]
    );
}

#[test]
fn an_exact_barcode_or_sku_comes_first() {
    let (_d, store) = store();
    let hits = store.search(WINE, "en", LOCATION, 10).unwrap();
    assert_eq!(hits[0].sku, "SKU-WINE");
    // "84000000000" is in every barcode: the exact match still leads.
    let hits = store.search("SKU-APPLES", "en", LOCATION, 10).unwrap();
    assert_eq!(hits[0].sku, "SKU-APPLES");
    let hits = store.search("840000000", "en", LOCATION, 10).unwrap();
    assert_eq!(hits.len(), 3, "a partial barcode matches them all");
}

#[test]
fn names_in_the_cashiers_language_that_start_with_the_query_rank_first() {
    let (_d, mut store) = store();
    let mut batch = catalog();
    batch.products[0]
        .names
        .insert("en".into(), "Chocolate milk".into());
    batch.products[1]
        .names
        .insert("en".into(), "Milk chocolate".into());
    store.upsert_catalog(&batch, T0).unwrap();
    assert_eq!(
        skus(&store.search("milk", "en", LOCATION, 10).unwrap()),
        ["SKU-WINE", "SKU-MILK"]
    );
}

#[test]
fn queries_shorter_than_three_characters_use_a_name_prefix() {
    let (_d, store) = store();
    assert_eq!(
        skus(&store.search("牛乳", "ja", LOCATION, 10).unwrap()),
        ["SKU-MILK"]
    );
    assert_eq!(
        skus(&store.search("赤", "ja", LOCATION, 10).unwrap()),
        ["SKU-WINE"]
    );
    assert_eq!(
        skus(&store.search("ma", "es", LOCATION, 10).unwrap()),
        ["SKU-APPLES"]
    );
    assert!(
        store.search("乳", "ja", LOCATION, 10).unwrap().is_empty(),
        "prefix only"
    );
    assert!(
        store.search("%", "ja", LOCATION, 10).unwrap().is_empty(),
        "no wildcard"
    );
    let p = plan(
        &store,
        "SELECT DISTINCT v.rid FROM product_name n JOIN variant v ON v.product_id = n.product_id \
         WHERE n.name LIKE ?1 ESCAPE '\\' LIMIT 10",
        ["ma%"],
    );
    assert!(
        p.contains("product_name_prefix"),
        "the prefix query uses its index:\n{p}"
    );
}

#[test]
fn odd_input_is_text_not_query_syntax() {
    let (_d, store) = store();
    for q in [
        "\"",
        "milk\"",
        "NOT milk",
        "mi*",
        "a OR b",
        "(((",
        "'; DROP TABLE sale; --",
        "   ",
    ] {
        store.search(q, "en", LOCATION, 10).unwrap();
    }
    assert_eq!(
        skus(&store.search("\"wine\"", "en", LOCATION, 10).unwrap()),
        Vec::<&str>::new()
    );
    assert!(store.search("wine", "en", LOCATION, 0).unwrap().is_empty());
}

#[test]
fn a_reimport_replaces_names_prices_barcodes_and_the_search_follows() {
    let (_d, mut store) = store();
    let mut batch = catalog();
    batch.products[0].names = BTreeMap::from([("en".into(), "Oat drink".into())]);
    batch.products[0].variants[0].price = Money::new(199, Currency::Eur);
    // Wine's barcode moves to the milk variant.
    batch.products[0].variants[0].barcodes = vec![MILK.into(), WINE.into()];
    batch.products[1].variants[0].barcodes = vec!["8400000000042".into()];
    store.upsert_catalog(&batch, T0).unwrap();

    let milk = store.find_by_sku("SKU-MILK", LOCATION).unwrap().unwrap();
    assert_eq!(milk.price.minor, 199);
    assert_eq!(milk.names.len(), 1, "old names are gone");
    assert!(
        store
            .search("leche", "es", LOCATION, 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        skus(&store.search("oat dr", "en", LOCATION, 10).unwrap()),
        ["SKU-MILK"]
    );
    assert_eq!(
        store.find_by_barcode(WINE, LOCATION).unwrap().unwrap().sku,
        "SKU-MILK"
    );
    assert_eq!(
        skus(&store.search("0000000028", "en", LOCATION, 10).unwrap()),
        ["SKU-MILK"],
        "the search index moved the barcode too"
    );
    assert_eq!(store.variant_count().unwrap(), 3);
    let docs: i64 = count(
        &store,
        "SELECT count(*) FROM catalog_search WHERE catalog_search MATCH '\"000\"'",
    );
    assert_eq!(docs, 3, "one search document per variant");
}

#[test]
fn a_bad_import_is_refused_whole() {
    let (_d, mut store) = store();
    let good = ProductRecord {
        id: "p-new".into(),
        names: BTreeMap::from([("en".into(), "Brand new".into())]),
        description: None,
        by_weight: false,
        tax_code: "ES-IVA-21".into(),
        image_url: None,
        variants: vec![VariantRecord {
            id: "v-new".into(),
            sku: "SKU-NEW".into(),
            price: Money::new(100, Currency::Eur),
            shop_product_id: None,
            shop_variant_id: None,
            barcodes: vec!["8400000000059".into()],
            stock: vec![],
        }],
    };
    let mut unknown_tax = good.clone();
    unknown_tax.id = "p-bad".into();
    unknown_tax.tax_code = "NO-SUCH-TAX".into();
    unknown_tax.variants[0].id = "v-bad".into();
    unknown_tax.variants[0].sku = "SKU-BAD".into();
    unknown_tax.variants[0].barcodes = vec![];
    let batch = CatalogBatch {
        products: vec![good.clone(), unknown_tax],
        ..CatalogBatch::default()
    };
    assert!(store.upsert_catalog(&batch, T0).is_err());
    assert_eq!(
        store.find_by_sku("SKU-NEW", LOCATION).unwrap(),
        None,
        "nothing of the batch"
    );
    assert!(
        store
            .search("brand", "en", LOCATION, 10)
            .unwrap()
            .is_empty()
    );

    let mut no_name = good.clone();
    no_name.names.clear();
    let batch = CatalogBatch {
        products: vec![no_name],
        ..CatalogBatch::default()
    };
    assert!(matches!(
        store.upsert_catalog(&batch, T0),
        Err(StoreError::Invalid(_))
    ));

    let mut dup_sku = good;
    dup_sku.variants[0].sku = "SKU-MILK".into();
    let batch = CatalogBatch {
        products: vec![dup_sku],
        ..CatalogBatch::default()
    };
    assert!(store.upsert_catalog(&batch, T0).is_err(), "SKUs are unique");
    assert_eq!(store.variant_count().unwrap(), 3);
}

#[test]
fn a_scan_adds_a_line_that_prices_right() {
    let (_d, store) = store();
    let c = cart(
        &store,
        &[(MILK, Quantity::Units(1)), (MILK, Quantity::Units(1))],
    );
    assert_eq!(
        c.lines().len(),
        1,
        "the same product twice is one line of 2"
    );
    assert_eq!(c.totals().unwrap().total.minor, 218);
}

#[test]
fn japanese_voiced_marks_are_not_folded_away() {
    // パ (pa) and ハ (ha) are different sounds: removing Latin accents must not merge them.
    let (_d, store) = store();
    assert!(
        store
            .search("ハック", "ja", LOCATION, 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        skus(&store.search("パック", "ja", LOCATION, 10).unwrap()),
        ["SKU-MILK"]
    );
}
