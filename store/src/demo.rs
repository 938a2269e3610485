//! Demo data: a catalog of N products with valid EAN-13 barcodes, names in English, Spanish
//! and Japanese, the country's tax categories, stock at location "main", store settings and
//! three demo users (Ana 1234 cashier, Marta 9999 manager, Admin 0000 admin).
//!
//! Invariants: the same (n, country, seed) always gives the same catalog; SKUs and barcodes
//! are unique (the barcode body is the country prefix and the product's index); every barcode
//! has a correct check digit; yen prices are whole yen.

use crate::catalog::{CatalogBatch, LocationRecord, ProductRecord, TaxCategory, VariantRecord};
use crate::settings::{Country, StoreSettings};
use crate::users::NewUser;
use crate::{Result, Store, StoreError};
use pos_core::auth::Role;
use pos_core::gtin::ean13_from_body;
use pos_core::{Currency, Money};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// The stock location the demo fills.
pub const MAIN_LOCATION: &str = "main";

/// The demo users: (id, name, role, PIN).
pub const DEMO_USERS: [(&str, &str, Role, &str); 3] = [
    ("u-ana", "Ana", Role::Cashier, "1234"),
    ("u-marta", "Marta", Role::Manager, "9999"),
    ("u-admin", "Admin", Role::Admin, "0000"),
];

/// Products inserted per transaction.
const BATCH: usize = 50_000;

/// What a product is, for its tax category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Basic food: ES 4 %, JP 8 %.
    Staple,
    /// Other food and soft drinks: ES 10 %, JP 8 %.
    Food,
    /// Everything else, alcohol included: ES 21 %, JP 10 %.
    General,
}

struct Noun {
    en: &'static str,
    es: &'static str,
    /// Spanish gender and number, for adjective agreement.
    fem: bool,
    plural: bool,
    ja: &'static str,
    class: Class,
    by_weight: bool,
    /// Price in euro cents per unit (or per kg when by weight); yen and dollars derive from it.
    cents: i64,
    sizes: Sizes,
}

/// (size label, price in percent of the noun's base price)
type Sizes = &'static [(&'static str, i64)];
const LIQUID: Sizes = &[("1L", 100), ("500 ml", 60), ("2L", 180), ("6 x 1L", 540)];
const PACK: Sizes = &[("200 g", 45), ("500 g", 100), ("1 kg", 190), ("x6", 560)];
const UNIT: Sizes = &[("", 100), ("x2", 195), ("x4", 380), ("XL", 150)];

macro_rules! noun {
    ($en:literal, $es:literal, $fem:literal, $ja:literal, $class:ident, $w:literal, $c:literal, $sizes:expr) => {
        Noun {
            en: $en,
            es: $es,
            fem: $fem,
            // Spanish plural nouns end in -s ("Huevos", "Patatas fritas" ends in -s too).
            plural: $es.as_bytes()[$es.len() - 1] == b's' && !matches!($es.as_bytes()[0], b'S'),
            ja: $ja,
            class: Class::$class,
            by_weight: $w,
            cents: $c,
            sizes: $sizes,
        }
    };
}

#[rustfmt::skip]
const NOUNS: &[Noun] = &[
    noun!("Whole milk", "Leche entera", true, "牛乳", Staple, false, 109, LIQUID),
    noun!("Skimmed milk", "Leche desnatada", true, "低脂肪牛乳", Staple, false, 99, LIQUID),
    noun!("Milk carton", "Brik de leche", false, "牛乳パック", Staple, false, 119, LIQUID),
    noun!("White bread", "Pan de molde", false, "食パン", Staple, false, 145, UNIT),
    noun!("Eggs", "Huevos", false, "たまご", Staple, false, 239, &[("x6", 100), ("x12", 190), ("x24", 360)]),
    noun!("Apples", "Manzanas", true, "りんご", Staple, true, 249, &[]),
    noun!("Oranges", "Naranjas", true, "オレンジ", Staple, true, 189, &[]),
    noun!("Bananas", "Plátanos", false, "バナナ", Staple, true, 199, &[]),
    noun!("Tomatoes", "Tomates", false, "トマト", Staple, true, 229, &[]),
    noun!("Potatoes", "Patatas", true, "じゃがいも", Staple, true, 129, &[]),
    noun!("Manchego cheese", "Queso manchego", false, "マンチェゴチーズ", Staple, true, 1890, &[]),
    noun!("Cured ham", "Jamón serrano", false, "生ハム", Food, true, 2490, &[]),
    noun!("Chicken breast", "Pechuga de pollo", true, "鶏むね肉", Food, true, 799, &[]),
    noun!("Salmon fillet", "Filete de salmón", false, "サーモン切り身", Food, true, 1990, &[]),
    noun!("Rice", "Arroz", false, "お米", Staple, false, 179, PACK),
    noun!("Pasta", "Pasta", true, "パスタ", Staple, false, 119, PACK),
    noun!("Olive oil", "Aceite de oliva", false, "オリーブオイル", Staple, false, 899, LIQUID),
    noun!("Yogurt", "Yogur", false, "ヨーグルト", Food, false, 189, &[("x4", 100), ("x8", 190), ("500 g", 130)]),
    noun!("Orange juice", "Zumo de naranja", false, "オレンジジュース", Food, false, 229, LIQUID),
    noun!("Mineral water", "Agua mineral", true, "ミネラルウォーター", Food, false, 59, LIQUID),
    noun!("Green tea", "Té verde", false, "緑茶", Food, false, 149, &[("500 ml", 100), ("2L", 250), ("x20", 180)]),
    noun!("Coffee beans", "Café en grano", false, "コーヒー豆", Food, false, 549, PACK),
    noun!("Sugar", "Azúcar", false, "砂糖", Food, false, 119, PACK),
    noun!("Chocolate", "Chocolate", false, "チョコレート", Food, false, 199, &[("100 g", 100), ("200 g", 190), ("x3", 280)]),
    noun!("Cookies", "Galletas", true, "クッキー", Food, false, 169, &[("200 g", 100), ("400 g", 190), ("x2", 280)]),
    noun!("Potato chips", "Patatas fritas", true, "ポテトチップス", Food, false, 149, &[("150 g", 100), ("300 g", 190)]),
    noun!("Miso soup", "Sopa de miso", true, "味噌汁", Food, false, 249, &[("x3", 100), ("x8", 190)]),
    noun!("Soy sauce", "Salsa de soja", true, "醤油", Food, false, 299, &[("500 ml", 100), ("1L", 190)]),
    noun!("Red wine", "Vino tinto", false, "赤ワイン", General, false, 699, &[("750 ml", 100), ("1.5L", 190)]),
    noun!("Beer", "Cerveza", true, "ビール", General, false, 99, &[("330 ml", 100), ("x6", 550), ("x24", 2000)]),
    noun!("Sake", "Sake", false, "日本酒", General, false, 1299, &[("720 ml", 100), ("1.8L", 190)]),
    noun!("Dish soap", "Lavavajillas", false, "食器用洗剤", General, false, 249, &[("500 ml", 100), ("1L", 190)]),
    noun!("Laundry detergent", "Detergente", false, "洗濯洗剤", General, false, 799, &[("1L", 100), ("3L", 190)]),
    noun!("Toothpaste", "Pasta de dientes", true, "歯みがき粉", General, false, 259, &[("75 ml", 100), ("x2", 190)]),
    noun!("Shampoo", "Champú", false, "シャンプー", General, false, 399, &[("400 ml", 100), ("750 ml", 190)]),
    noun!("Batteries", "Pilas", true, "乾電池", General, false, 499, &[("AA x4", 100), ("AAA x4", 100), ("AA x12", 270)]),
    noun!("Notebook", "Cuaderno", false, "ノート", General, false, 199, &[("A4", 100), ("A5", 80), ("x5", 450)]),
    noun!("Ballpoint pen", "Bolígrafo", false, "ボールペン", General, false, 129, &[("blue", 100), ("black", 100), ("x10", 800)]),
    noun!("Paper towels", "Papel de cocina", false, "キッチンペーパー", General, false, 279, &[("x2", 100), ("x4", 190)]),
    noun!("Umbrella", "Paraguas", false, "傘", General, false, 1299, &[("", 100), ("XL", 190)]),
];

/// (en, es [masculine, feminine, masculine plural, feminine plural], ja)
type Adjective = (&'static str, [&'static str; 4], &'static str);
#[rustfmt::skip]
const ADJECTIVES: &[Adjective] = &[
    ("", ["", "", "", ""], ""),
    ("Organic", ["ecológico", "ecológica", "ecológicos", "ecológicas"], "オーガニック"),
    ("Premium", ["premium", "premium", "premium", "premium"], "プレミアム"),
    ("Classic", ["clásico", "clásica", "clásicos", "clásicas"], "定番"),
    ("Fresh", ["fresco", "fresca", "frescos", "frescas"], "新鮮"),
    ("Local", ["local", "local", "locales", "locales"], "地元産"),
    ("Light", ["ligero", "ligera", "ligeros", "ligeras"], "ライト"),
    ("Family", ["familiar", "familiar", "familiares", "familiares"], "ファミリー"),
    ("Selected", ["selecto", "selecta", "selectos", "selectas"], "厳選"),
    ("Value", ["económico", "económica", "económicos", "económicas"], "お得な"),
];

const BRANDS: &[&str] = &[
    "Alba", "Brisa", "Costa", "Delta", "Fuji", "Hikari", "Sakura", "Sol", "Luna", "Nube", "Oro",
    "Prado", "Rio", "Sierra", "Tierra", "Umi", "Valle", "Yama", "Zen", "Mar",
];

fn tax_categories(country: Country) -> Vec<TaxCategory> {
    let cat = |code: &str, bps: u32, reduced: bool, en: &str, es: &str, ja: &str| TaxCategory {
        code: code.into(),
        rate_bps: bps,
        reduced,
        names: BTreeMap::from([
            ("en".to_owned(), en.to_owned()),
            ("es".to_owned(), es.to_owned()),
            ("ja".to_owned(), ja.to_owned()),
        ]),
    };
    match country {
        Country::Es => vec![
            cat(
                "ES-IVA-21",
                2100,
                false,
                "VAT 21% (general)",
                "IVA 21 % (general)",
                "IVA 21%（標準）",
            ),
            cat(
                "ES-IVA-10",
                1000,
                true,
                "VAT 10% (reduced)",
                "IVA 10 % (reducido)",
                "IVA 10%（軽減）",
            ),
            cat(
                "ES-IVA-4",
                400,
                true,
                "VAT 4% (super-reduced)",
                "IVA 4 % (superreducido)",
                "IVA 4%（超軽減）",
            ),
        ],
        Country::Jp => vec![
            cat(
                "JP-10",
                1000,
                false,
                "Consumption tax 10%",
                "Impuesto sobre el consumo 10 %",
                "消費税10%",
            ),
            cat(
                "JP-8",
                800,
                true,
                "Consumption tax 8% (reduced, food)",
                "Impuesto sobre el consumo 8 % (reducido)",
                "消費税8%（軽減税率）",
            ),
        ],
        Country::Us => vec![cat(
            "US-SALES",
            825,
            false,
            "Sales tax 8.25%",
            "Impuesto sobre ventas 8,25 %",
            "売上税8.25%",
        )],
    }
}

fn tax_code(country: Country, class: Class) -> &'static str {
    match (country, class) {
        (Country::Es, Class::Staple) => "ES-IVA-4",
        (Country::Es, Class::Food) => "ES-IVA-10",
        (Country::Es, Class::General) => "ES-IVA-21",
        (Country::Jp, Class::Staple | Class::Food) => "JP-8",
        (Country::Jp, Class::General) => "JP-10",
        (Country::Us, _) => "US-SALES",
    }
}

/// The demo store's settings for a country.
pub fn settings(country: Country) -> StoreSettings {
    let (name, address, tax_id, locale) = match country {
        Country::Es => (
            "Tienda Demo",
            "Calle Mayor 1, 28013 Madrid",
            "B12345678",
            "es-ES",
        ),
        Country::Jp => (
            "デモ商店",
            "東京都千代田区丸の内1-1-1",
            "T1234567890123",
            "ja-JP",
        ),
        Country::Us => (
            "Demo Store",
            "100 Congress Ave, Austin, TX 78701",
            "12-3456789",
            "en-US",
        ),
    };
    StoreSettings {
        name: name.into(),
        address: address.into(),
        tax_id: tax_id.into(),
        country,
        currency: country.currency(),
        locale: locale.into(),
        tax_policy: country.tax_policy(),
    }
}

/// The EAN-13 of the `i`th demo product: a GS1 prefix of the country (84 Spain; 45 or 49
/// Japan; 07 USA/Canada), then the index, then the check digit.
pub fn demo_barcode(country: Country, i: usize) -> String {
    let prefix = match country {
        Country::Es => "84",
        Country::Jp if i.is_multiple_of(2) => "49",
        Country::Jp => "45",
        Country::Us => "07",
    };
    // 10 digits hold 10^10 products; the generator never makes that many.
    let body = format!("{prefix}{:010}", i % 10_000_000_000);
    ean13_from_body(&body).unwrap_or(body)
}

/// The SKU of the `i`th demo product.
pub fn demo_sku(country: Country, i: usize) -> String {
    format!("{}-{:07}", country.code(), i)
}

fn price(country: Country, cents: i64, rng: &mut StdRng) -> Money {
    // ±25 % around the noun's price, in shelf-price steps.
    let factor = rng.gen_range(75..=125);
    match country {
        Country::Jp => {
            // About ¥1.6 per euro cent, ending in 8 like Japanese shelf prices.
            let yen = cents * 16 / 10 * factor / 100;
            Money::new((yen / 10).max(1) * 10 + 8, Currency::Jpy)
        }
        Country::Es | Country::Us => {
            let c = cents * factor / 100;
            let c = (c / 10).max(1) * 10 + if rng.gen_bool(0.5) { 9 } else { 5 };
            Money::new(c, country.currency())
        }
    }
}

/// The `i`th demo product (1-based index `i`).
fn product(country: Country, i: usize, rng: &mut StdRng) -> ProductRecord {
    let noun = &NOUNS[rng.gen_range(0..NOUNS.len())];
    let (en_adj, es_forms, ja_adj) = ADJECTIVES[rng.gen_range(0..ADJECTIVES.len())];
    let brand = BRANDS[rng.gen_range(0..BRANDS.len())];
    let (size, size_percent) = if noun.sizes.is_empty() {
        ("", 100)
    } else {
        noun.sizes[rng.gen_range(0..noun.sizes.len())]
    };
    let es_adj = es_forms[usize::from(noun.fem) + 2 * usize::from(noun.plural)];
    let join = |parts: &[&str]| {
        parts
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ja_core = format!("{ja_adj}{}", noun.ja);
    let names = BTreeMap::from([
        ("en".to_owned(), join(&[brand, en_adj, noun.en, size])),
        ("es".to_owned(), join(&[noun.es, es_adj, brand, size])),
        ("ja".to_owned(), join(&[&ja_core, brand, size])),
    ]);
    let stock = if noun.by_weight {
        rng.gen_range(2_000..=40_000) // grams
    } else {
        rng.gen_range(0..=120)
    };
    ProductRecord {
        id: format!("p-{i:07}"),
        names,
        description: None,
        by_weight: noun.by_weight,
        tax_code: tax_code(country, noun.class).into(),
        image_url: None,
        variants: vec![VariantRecord {
            id: format!("v-{i:07}"),
            sku: demo_sku(country, i),
            price: price(country, noun.cents * size_percent / 100, rng),
            shop_product_id: None,
            shop_variant_id: None,
            barcodes: vec![demo_barcode(country, i)],
            stock: vec![(MAIN_LOCATION.to_owned(), stock)],
        }],
    }
}

/// What [`generate`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub products: usize,
    pub users_added: usize,
}

/// Fills the store with demo data: settings, tax categories, location "main", `n_products`
/// products (ids p-0000001…, SKUs "ES-0000001"…) and the demo users (added only if missing).
/// Running it again with the same arguments changes nothing.
pub fn generate(
    store: &mut Store,
    n_products: usize,
    country: Country,
    seed: u64,
    now: OffsetDateTime,
) -> Result<DemoSummary> {
    store.put_settings(&settings(country))?;
    store.upsert_catalog(
        &CatalogBatch {
            tax_categories: tax_categories(country),
            locations: vec![LocationRecord {
                id: MAIN_LOCATION.into(),
                name: "Shop floor".into(),
            }],
            products: Vec::new(),
        },
        now,
    )?;
    // A large page cache while importing: the indexes are written in key order batch after
    // batch, and spilling pages mid-transaction costs more than the memory.
    let cache: i64 = store
        .conn
        .query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    store.conn.pragma_update(None, "cache_size", -262_144)?;
    // FTS5 keeps 1 MiB of new postings in memory by default; more means fewer, larger
    // segments to merge later.
    store.conn.execute(
        "INSERT INTO catalog_search (catalog_search, rank) VALUES ('hashsize', ?1)",
        [16 * 1024 * 1024],
    )?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut start = 1;
    while start <= n_products {
        let end = (start + BATCH - 1).min(n_products);
        let products = (start..=end)
            .map(|i| product(country, i, &mut rng))
            .collect();
        store.upsert_catalog(
            &CatalogBatch {
                products,
                ..CatalogBatch::default()
            },
            now,
        )?;
        start = end + 1;
    }
    store.conn.pragma_update(None, "cache_size", cache)?;
    store.conn.execute(
        "INSERT INTO catalog_search (catalog_search, rank) VALUES ('hashsize', ?1)",
        [1024 * 1024],
    )?;
    let existing: Vec<String> = store.users()?.into_iter().map(|u| u.id).collect();
    let mut users_added = 0;
    for (id, name, role, pin) in DEMO_USERS {
        if existing.iter().any(|e| e == id) {
            continue;
        }
        store
            .add_user(
                &NewUser {
                    id: id.into(),
                    name: name.into(),
                    role: role.code().into(),
                    pin: pin.into(),
                },
                now,
            )
            .map_err(|e| StoreError::Invalid(format!("demo user {name}: {e}")))?;
        users_added += 1;
    }
    add_demo_tenders(store, country, now)?;
    Ok(DemoSummary {
        products: n_products,
        users_added,
    })
}

/// The demo gift cards: (number, balance in the currency's minor units for ES/US; JP uses the
/// same figure in yen). One with money, one with a little, one spent, and the card the
/// developer panel swipes on the simulated card reader (pos-api's `GIFT_CARD_TRACKS`).
pub const DEMO_GIFT_CARDS: [(&str, i64); 4] = [
    ("6006490000000017", 5_000),
    ("6006490000000024", 500),
    ("6006490000000031", 0),
    ("6036280000000017", 2_500),
];

/// The demo customers: (id, name, store credit, account limit), amounts as for gift cards.
/// One with credit and an account, one with neither, one with an account only.
pub fn demo_customers(country: Country) -> [(&'static str, &'static str, i64, Option<i64>); 3] {
    match country {
        Country::Jp => [
            ("c-0001", "佐藤 花子", 1_500, Some(20_000)),
            ("c-0002", "鈴木 一郎", 0, None),
            ("c-0003", "喫茶さくら", 0, Some(50_000)),
        ],
        Country::Es => [
            ("c-0001", "Lucía Martín", 1_500, Some(20_000)),
            ("c-0002", "Pablo Ruiz", 0, None),
            ("c-0003", "Bar El Sol", 0, Some(50_000)),
        ],
        Country::Us => [
            ("c-0001", "Lucy Martin", 1_500, Some(20_000)),
            ("c-0002", "Paul Ross", 0, None),
            ("c-0003", "Sun Diner", 0, Some(50_000)),
        ],
    }
}

/// Adds the demo gift cards and customers (each only if missing).
fn add_demo_tenders(store: &mut Store, country: Country, now: OffsetDateTime) -> Result<()> {
    let cur = country.currency();
    for (number, minor) in DEMO_GIFT_CARDS {
        store
            .issue_gift_card(number, Money::new(minor, cur), now)
            .map_err(|e| StoreError::Invalid(format!("demo gift card {number}: {e}")))?;
    }
    for (i, (id, name, credit, limit)) in demo_customers(country).into_iter().enumerate() {
        store.add_customer(
            &crate::customers::NewCustomer {
                id: id.into(),
                name: name.into(),
                email: (i == 0).then(|| "cliente@example.com".to_owned()),
                phone: Some(format!("600 000 00{i}")),
                store_credit: Money::new(credit, cur),
                account_limit: limit.map(|l| Money::new(l, cur)),
            },
            now,
        )?;
    }
    Ok(())
}
