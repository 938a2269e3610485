//! The register against the real Vendure test shop, configured the way an owner does it: through
//! the Api commands (Settings → Web shop: test, save → the engine starts with no restart; import
//! with progress events), then a sale rung up and paid through the Register API, and a
//! click-and-collect order handed over at the register. tests/sync/run.sh starts the shop and
//! exports SHOP_URL, SHOP_IDENTIFIER, SHOP_PASSWORD, TEST_SHOP_DIR; run with `--test-threads=1`.
//! SKUs used here (TS-00057-S, TS-00058-S, TS-00059-S) are not used by pos-sync's tests on the
//! same shop.

mod support;

use pos_api::Api;
use pos_api::dto::{ShopImportDto, TenderKindDto};
use pos_api::events::Event;
use pos_api::register::Register;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::Recorded;
use support::shop::{Shop, first_import, imported, open_us_register, sellable, wait_for};

impl Recorded {
    fn imports(&self) -> Vec<ShopImportDto> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                Event::ShopImport(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }
}

impl Shop {
    /// Orders with the POS source and this sale id, as the superadmin sees them.
    async fn pos_orders(&self, sale_id: &str) -> u64 {
        let v = self
            .admin_answer(
                "query($i:[String!]!){ orders(options:{filter:{posSaleId:{in:$i}, source:{eq:\"pos\"}}, take:0}){ totalItems } }",
                json!({"i":[sale_id]}),
            )
            .await;
        v["data"]["orders"]["totalItems"]
            .as_u64()
            .unwrap_or_else(|| panic!("{v}"))
    }
}

/// A register on a real SQLite file in a US store (the test shop sells in USD, tax on top), with
/// the demo users and no shop settings: as after installation.
fn open_register(db: &Path, events: Arc<Recorded>) -> Arc<Register> {
    open_us_register(db, "T01", events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_through_settings_the_register_imports_sells_once_and_hands_over_a_pickup() {
    let shop = Shop::from_env();
    let shop_side = shop.connector(); // also installs the TLS provider reqwest needs
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let events = Arc::new(Recorded::default());
    let r = open_register(&db, events.clone());
    let (url, id) = (shop.url.clone(), shop.identifier.clone());

    r.login("0000".into()).await.unwrap();
    let s = r.shop_settings().await.unwrap();
    assert!(!s.running && s.url.is_empty(), "nothing set up yet: {s:?}");
    assert!(!r.status().await.unwrap().sync.configured);

    // Plain http to another machine and a wrong password are refused with codes the UI words.
    let e = r
        .save_shop_settings(
            "http://shop.example.com".into(),
            id.clone(),
            Some("x".into()),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "shop.insecure_url");
    let e = r
        .test_shop_connection(url.clone(), id.clone(), Some("wrong password".into()))
        .await
        .unwrap_err();
    assert_eq!(e.code, "shop.unauthorized", "{e:?}");
    let tested = r
        .test_shop_connection(url.clone(), id.clone(), Some(shop.password.clone()))
        .await
        .unwrap();
    assert!(!tested.stock_location_id.is_empty());
    assert!(
        !r.status().await.unwrap().sync.configured,
        "a test saves nothing"
    );

    // A click-and-collect order placed before this register knew the shop: not in the feed
    // after the import's cursor, it must still be listed.
    let early = shop.script(&[
        "storefront.js",
        "order",
        "--sku",
        "TS-00058-S",
        "--qty",
        "1",
        "--pickup",
    ]);
    let early = early["code"].as_str().expect("order code").to_owned();

    // Save: the credential is sealed at rest and the engine runs at once (no restart).
    let t_save = Instant::now();
    let s = r
        .save_shop_settings(url.clone(), id.clone(), Some(shop.password.clone()))
        .await
        .unwrap();
    assert!(s.running && s.password_saved && s.can_edit, "{s:?}");
    let stored: Vec<u8> = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT ciphertext FROM shop_credential", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert!(
        !stored
            .windows(shop.password.len())
            .any(|w| w == shop.password.as_bytes()),
        "the password is not stored in plain text"
    );
    let online = wait_for("online after save", Duration::from_secs(20), async || {
        r.status().await.unwrap().sync.online
    })
    .await;
    println!(
        "BENCH register save -> sync online: {} ms",
        (t_save.elapsed().max(online)).as_millis()
    );

    // The first import starts by itself; then "Import catalog" runs it again, with progress.
    first_import(&r, Duration::from_secs(60), Duration::from_millis(20)).await;
    wait_for(
        "earlier pickup listed",
        Duration::from_secs(10),
        async || r.pickups().await.unwrap().iter().any(|p| p.code == early),
    )
    .await;
    let before_rerun = events.imports().len();
    // Selling goes on while the catalog imports: a sale rung up through the Register API, then
    // "Import catalog", and paid as soon as the import runs (it lowers the shop's stock by
    // exactly its quantity, once).
    let sku = "TS-00057-S";
    let hit = imported(&r, sku, "the imported variant is sellable at the register").await;
    let before = sellable(&shop_side, sku).await;
    r.add_product(hit.variant_id.clone(), Some(2))
        .await
        .unwrap();
    let sale = r.current_sale().await.unwrap();
    assert_eq!(sale.lines[0].quantity, 2);
    let t_import = Instant::now();
    r.import_shop_catalog().await.unwrap();
    for _ in 0..400 {
        if r.sync_details().await.unwrap().import.running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let importing = r.sync_details().await.unwrap().import.running;
    let t_pay = Instant::now();
    let paid = r
        .pay(TenderKindDto::Cash, sale.total.minor)
        .await
        .unwrap()
        .completed
        .expect("paid in full");
    println!(
        "BENCH Register API pay during the import (import running: {importing}): {} ms",
        t_pay.elapsed().as_millis()
    );
    wait_for("re-import", Duration::from_secs(60), async || {
        events.imports()[before_rerun..]
            .iter()
            .any(|p| !p.running && p.finished_at.is_some() && p.done > 0)
    })
    .await;
    let progress: Vec<ShopImportDto> = events.imports()[before_rerun..].to_vec();
    let last = progress.last().unwrap();
    assert!(last.total >= 120, "the whole test catalog: {last:?}");
    assert_eq!(last.done, last.total, "the bar reaches the end");
    // (Events follow the status channel, which keeps the latest value: with one page of 120
    // variants the page and the end can arrive as one event.)
    assert!(
        progress.iter().any(|p| p.running && p.done <= p.total),
        "the bar shows while the import runs: {progress:?}"
    );
    let dones: Vec<i64> = progress.iter().map(|p| p.done).collect();
    assert!(
        dones.windows(2).all(|w| w[1] >= w[0]),
        "the bar never goes back within a run: {dones:?}"
    );
    println!(
        "BENCH register re-import of {} variants: {} ms, {} progress events",
        last.total,
        t_import.elapsed().as_millis(),
        progress.len()
    );

    let t_sale = Instant::now();
    let took = wait_for("shop stock lower", Duration::from_secs(10), async || {
        sellable(&shop_side, sku).await == before - 2
    })
    .await;
    println!(
        "BENCH Register API sale -> shop stock updated: {} ms",
        took.max(t_sale.elapsed()).as_millis()
    );
    wait_for("queue empty", Duration::from_secs(10), async || {
        r.status().await.unwrap().sync.queued == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sellable(&shop_side, sku).await,
        before - 2,
        "lower by exactly the quantity"
    );
    assert_eq!(
        shop.pos_orders(&paid.sale_id).await,
        1,
        "exactly one POS order"
    );

    // A click-and-collect order appears at the register (from the change feed), is handed over
    // through the Api, and the shop shows it collected.
    let order = shop.script(&[
        "storefront.js",
        "order",
        "--sku",
        "TS-00059-S",
        "--qty",
        "1",
        "--pickup",
    ]);
    let code = order["code"].as_str().expect("order code").to_owned();
    let appeared = wait_for("pickup listed", Duration::from_secs(15), async || {
        r.pickups().await.unwrap().iter().any(|p| p.code == code)
    })
    .await;
    println!(
        "BENCH pickup placed -> listed at the register: {} ms",
        appeared.as_millis()
    );
    let listed = r.pickups().await.unwrap();
    let p = listed.iter().find(|p| p.code == code).unwrap();
    assert_eq!(p.lines[0].sku, "TS-00059-S");
    assert_eq!(p.lines[0].quantity, 1);
    assert!(p.customer_name.is_some() && !p.handed_over);
    assert!(r.sync_details().await.unwrap().pickups >= 1);

    let after = r.hand_over_pickup(code.clone()).await.unwrap();
    assert!(
        after.iter().all(|p| p.code != code || p.handed_over),
        "shown as handed over until the shop confirms"
    );
    assert_eq!(
        r.hand_over_pickup(code.clone())
            .await
            .map(|_| ())
            .unwrap_err()
            .code,
        "shop.already_handed_over",
        "a double tap is refused, not sent twice"
    );
    wait_for(
        "collected in the shop",
        Duration::from_secs(15),
        async || {
            shop_side
                .order(&code)
                .await
                .unwrap()
                .is_some_and(|o| o.collected)
        },
    )
    .await;
    let shown = shop_side.order(&code).await.unwrap().unwrap();
    assert_eq!(shown.state, "Delivered");
    wait_for("left the list", Duration::from_secs(10), async || {
        r.pickups().await.unwrap().iter().all(|p| p.code != code)
    })
    .await;
    let details = r.sync_details().await.unwrap();
    assert!(
        details.online && details.last_success.is_some(),
        "{details:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_settings_start_the_sync_at_the_next_start_without_environment_variables() {
    let shop = Shop::from_env();
    let _ = shop.connector();
    assert!(
        std::env::var("POS_SHOP_URL").is_err(),
        "this test is about the saved settings"
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    {
        let r = open_register(&db, Arc::new(Recorded::default()));
        r.login("0000".into()).await.unwrap();
        r.save_shop_settings(
            shop.url.clone(),
            shop.identifier.clone(),
            Some(shop.password.clone()),
        )
        .await
        .unwrap();
        // Saving again without a password keeps the saved one.
        let s = r
            .save_shop_settings(shop.url.clone(), shop.identifier.clone(), None)
            .await
            .unwrap();
        assert!(s.password_saved && s.running);
    }
    let r = open_register(&db, Arc::new(Recorded::default()));
    wait_for(
        "online after a restart",
        Duration::from_secs(20),
        async || {
            let st = r.status().await.unwrap().sync;
            st.configured && st.online
        },
    )
    .await;
    r.login("9999".into()).await.unwrap();
    let s = r.shop_settings().await.unwrap();
    assert_eq!(s.url, shop.url);
    assert!(!s.can_edit, "a manager sees the settings read-only");
    assert_eq!(
        r.save_shop_settings(shop.url.clone(), shop.identifier.clone(), None)
            .await
            .unwrap_err()
            .code,
        "auth.forbidden"
    );
}

// --- returns: restock and write-off reach the shop's stock (its own SKU TS-00052-M) ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_restocks_the_shop_by_exactly_its_quantity_and_a_write_off_nets_zero() {
    use pos_api::dto::{RefundToDto, ReturnLineDto, ReturnRequestDto};
    let shop = Shop::from_env();
    let shop_side = shop.connector();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let r = open_register(&db, Arc::new(Recorded::default()));
    r.login("0000".into()).await.unwrap();
    r.save_shop_settings(
        shop.url.clone(),
        shop.identifier.clone(),
        Some(shop.password.clone()),
    )
    .await
    .unwrap();
    first_import(&r, Duration::from_secs(60), Duration::from_millis(20)).await;
    let sku = "TS-00052-M";
    let hit = imported(&r, sku, "the imported variant").await;
    let before = sellable(&shop_side, sku).await;
    r.add_product(hit.variant_id.clone(), Some(3))
        .await
        .unwrap();
    let total = r.current_sale().await.unwrap().total.minor;
    let sale = r
        .pay(TenderKindDto::Cash, total)
        .await
        .unwrap()
        .completed
        .unwrap();
    wait_for("sale in the shop", Duration::from_secs(15), async || {
        sellable(&shop_side, sku).await == before - 3
    })
    .await;
    let give_back = |write_off: Option<&str>| ReturnRequestDto {
        sale_id: Some(sale.sale_id.clone()),
        lines: vec![ReturnLineDto {
            line_no: 1,
            quantity: 1,
            write_off: write_off.map(str::to_owned),
        }],
        items: Vec::new(),
        refund_to: RefundToDto::Original,
    };
    // One back on the shelf: the shop's stock rises by exactly one.
    r.returns_commit(give_back(None), None).await.unwrap();
    let took = wait_for("restock in the shop", Duration::from_secs(15), async || {
        sellable(&shop_side, sku).await == before - 2
    })
    .await;
    println!(
        "BENCH return -> shop stock restocked: {} ms",
        took.as_millis()
    );
    // One damaged: RETURN +1 and WRITE_OFF -1 reach the shop, its stock does not move.
    r.returns_commit(give_back(Some("damaged")), None)
        .await
        .unwrap();
    wait_for("queue empty", Duration::from_secs(15), async || {
        r.status().await.unwrap().sync.queued == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sellable(&shop_side, sku).await,
        before - 2,
        "a write-off nets zero in the shop"
    );
    let delivered: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM outbox WHERE kind = 'stock.adjusted' AND delivered_at IS NOT NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(
        delivered, 3,
        "RETURN, then RETURN and WRITE_OFF, each delivered once"
    );
}
