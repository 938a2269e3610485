//! The demo generator: a catalog a store owner can try the register with.

mod common;

use common::T0;
use pos_core::gtin::validate_gtin;
use pos_core::{Currency, TaxRoundingPolicy};
use pos_store::demo::{self, DEMO_USERS, MAIN_LOCATION};
use pos_store::{Country, Store};

fn generated(country: Country, n: usize) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("pos.db")).unwrap();
    demo::generate(&mut store, n, country, 7, T0).unwrap();
    (dir, store)
}

fn strings(store: &Store, sql: &str) -> Vec<String> {
    let mut stmt = store.connection().prepare(sql).unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[test]
fn spanish_demo_has_valid_unique_barcodes_three_languages_and_three_vat_rates() {
    let (_d, store) = generated(Country::Es, 500);
    assert_eq!(store.variant_count().unwrap(), 500);
    let codes = strings(&store, "SELECT code FROM barcode");
    assert_eq!(
        codes.len(),
        500,
        "one barcode per product, all distinct (it is the key)"
    );
    for c in &codes {
        assert_eq!(c.len(), 13);
        assert!(c.starts_with("84"), "{c}");
        validate_gtin(c).unwrap_or_else(|e| panic!("{c}: {e}"));
    }
    let langs = strings(
        &store,
        "SELECT DISTINCT lang FROM product_name ORDER BY lang",
    );
    assert_eq!(langs, ["en", "es", "ja"]);
    assert_eq!(
        strings(&store, "SELECT p.id FROM product p WHERE (SELECT count(*) FROM product_name n WHERE n.product_id = p.id) <> 3").len(),
        0,
        "every product is named in all three languages"
    );
    let used = strings(
        &store,
        "SELECT DISTINCT tax_code FROM product ORDER BY tax_code",
    );
    assert_eq!(used, ["ES-IVA-10", "ES-IVA-21", "ES-IVA-4"]);
    let weighed = strings(&store, "SELECT id FROM product WHERE by_weight = 1");
    assert!(
        !weighed.is_empty() && weighed.len() < 250,
        "some items sold by weight"
    );
    let item = store
        .find_by_barcode(&codes[0], MAIN_LOCATION)
        .unwrap()
        .unwrap();
    assert_eq!(item.price.currency, Currency::Eur);
    assert!(item.price.minor > 0);
    assert!(item.on_hand.is_some(), "stock at main");
    let s = store.settings().unwrap().unwrap();
    assert_eq!(
        (s.tax_id.as_str(), s.currency),
        ("B12345678", Currency::Eur)
    );
}

#[test]
fn japanese_demo_prices_in_whole_yen_with_food_at_the_reduced_rate() {
    let (_d, mut store) = generated(Country::Jp, 300);
    let codes = strings(&store, "SELECT code FROM barcode");
    assert!(
        codes
            .iter()
            .all(|c| c.starts_with("45") || c.starts_with("49"))
    );
    assert!(codes.iter().all(|c| validate_gtin(c).is_ok()));
    assert_eq!(
        strings(&store, "SELECT DISTINCT currency FROM variant"),
        ["JPY"]
    );
    let rates = store.tax_categories().unwrap();
    assert_eq!(
        rates
            .iter()
            .map(|r| (r.code.as_str(), r.rate_bps, r.reduced))
            .collect::<Vec<_>>(),
        [("JP-10", 1000, false), ("JP-8", 800, true)]
    );
    // Milk is food: 8 %. Beer is not: 10 %.
    let milk = store.search("牛乳", "ja", MAIN_LOCATION, 1).unwrap();
    assert_eq!(milk[0].tax.code, "JP-8", "{:?}", milk[0].names);
    let beer = store.search("ビール", "ja", MAIN_LOCATION, 1).unwrap();
    assert_eq!(beer[0].tax.code, "JP-10", "{:?}", beer[0].names);
    let s = store.settings().unwrap().unwrap();
    assert_eq!(s.tax_id, "T1234567890123");
    assert_eq!(s.tax_policy.rounding, TaxRoundingPolicy::PerRatePerReceipt);
    // The demo users log in with their documented PINs.
    for (_, name, role, pin) in DEMO_USERS {
        let u = store.verify_pin(pin, T0).unwrap();
        assert_eq!((u.name.as_str(), u.role.code.as_str()), (name, role.code()));
    }
}

#[test]
fn us_demo_has_one_sales_tax_added_at_the_till() {
    let (_d, store) = generated(Country::Us, 100);
    assert_eq!(store.tax_categories().unwrap().len(), 1);
    let s = store.settings().unwrap().unwrap();
    assert_eq!(s.tax_policy.price_mode, pos_core::PriceMode::TaxExclusive);
    assert_eq!(s.currency, Currency::Usd);
}

#[test]
fn the_same_seed_gives_the_same_catalog_and_a_rerun_changes_nothing() {
    let (_d1, mut a) = generated(Country::Es, 200);
    let (_d2, b) = generated(Country::Es, 200);
    let dump = |s: &Store| {
        strings(
            s,
            "SELECT v.sku || ' ' || v.price_minor || ' ' || group_concat(n.name, '/') \
             FROM variant v JOIN product_name n ON n.product_id = v.product_id GROUP BY v.id ORDER BY v.id",
        )
    };
    assert_eq!(dump(&a), dump(&b));
    let before = dump(&a);
    let summary = demo::generate(&mut a, 200, Country::Es, 7, T0).unwrap();
    assert_eq!(summary.users_added, 0, "users are not added twice");
    assert_eq!(dump(&a), before);
    assert_eq!(a.users().unwrap().len(), 3);
}
