//! Settings → Web shop, pickups and stock conflicts through the register's Api, on a real SQLite
//! file and with no shop running (the shop "address" is a closed port on 127.0.0.1): who may do
//! what, which addresses are refused, that the password is sealed at rest, that saving starts the
//! sync at once and reports the shop as unreachable in words, that a hand-over is queued exactly
//! once, and that a reviewed conflict is kept. (tests/shop_real.rs does the same against the real
//! Vendure shop.)

mod support;

use pos_api::Api;
use pos_store::Store;
use pos_store::shop::{PickupLine, PickupOrder};
use pos_store::sync_state::StockConflictRecord;
use std::time::{Duration, Instant};
use support::small_spanish_register;

/// A port on 127.0.0.1 with nothing listening.
fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_admin_saves_insecure_addresses_are_refused_and_the_password_is_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let r = small_spanish_register(&db);
    let url = closed_port_url();

    r.login("1234".into()).await.unwrap(); // Ana, cashier
    assert_eq!(r.shop_settings().await.unwrap_err().code, "auth.forbidden");
    assert_eq!(
        r.save_shop_settings(url.clone(), "till-1".into(), Some("pw".into()))
            .await
            .unwrap_err()
            .code,
        "auth.forbidden"
    );
    r.login("9999".into()).await.unwrap(); // Marta, manager: may look, not change
    let s = r.shop_settings().await.unwrap();
    assert!(!s.can_edit && !s.running && s.url.is_empty());
    assert_eq!(
        r.test_shop_connection(url.clone(), "till-1".into(), Some("pw".into()))
            .await
            .unwrap_err()
            .code,
        "auth.forbidden"
    );

    r.login("0000".into()).await.unwrap(); // admin
    let refused = |u: &str| {
        let (r, u) = (r.clone(), u.to_owned());
        async move {
            r.save_shop_settings(u, "till-1".into(), Some("pw".into()))
                .await
                .unwrap_err()
                .code
        }
    };
    assert_eq!(
        refused("http://shop.example.com").await,
        "shop.insecure_url"
    );
    assert_eq!(
        refused("http://192.168.1.20:3000").await,
        "shop.insecure_url"
    );
    assert_eq!(refused("shop.example.com").await, "shop.invalid_url");
    assert_eq!(refused("ftp://127.0.0.1").await, "shop.invalid_url");
    assert_eq!(
        r.save_shop_settings(url.clone(), " ".into(), Some("pw".into()))
            .await
            .unwrap_err()
            .code,
        "shop.identifier_required"
    );
    assert_eq!(
        r.save_shop_settings(url.clone(), "till-1".into(), None)
            .await
            .unwrap_err()
            .code,
        "shop.password_required",
        "nothing saved yet to keep"
    );
    assert_eq!(
        r.import_shop_catalog().await.unwrap_err().code,
        "shop.not_configured"
    );
    assert_eq!(
        r.test_shop_connection(url.clone(), "till-1".into(), Some("pw".into()))
            .await
            .unwrap_err()
            .code,
        "shop.unreachable"
    );
    assert!(
        Store::open(&db)
            .unwrap()
            .shop_credential()
            .unwrap()
            .is_none(),
        "refused and tested settings are not saved"
    );

    let password = "correct horse battery staple";
    let t0 = Instant::now();
    let s = r
        .save_shop_settings(url.clone(), "till-1".into(), Some(password.into()))
        .await
        .unwrap();
    assert!(s.running && s.password_saved && s.can_edit && !s.from_environment);
    assert_eq!(s.url, url);
    // Saved sealed: neither the database nor the key file holds the password.
    let stored = Store::open(&db)
        .unwrap()
        .shop_credential()
        .unwrap()
        .unwrap();
    let key = std::fs::read(dir.path().join("shop.key")).unwrap();
    for bytes in [&stored.ciphertext, &key, &std::fs::read(&db).unwrap()] {
        assert!(
            !bytes
                .windows(password.len())
                .any(|w| w == password.as_bytes()),
            "no plain text at rest"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("shop.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is the user's only");
    }
    // The sync runs at once and says in words why the shop is not there.
    let status = r.status().await.unwrap().sync;
    assert!(status.configured && !status.online);
    loop {
        let d = r.sync_details().await.unwrap();
        if d.last_error_kind.as_deref() == Some("unreachable") {
            assert!(d.configured && !d.online && d.last_error_at.is_some());
            assert!(d.last_success.is_none());
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "{d:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Saving again without a password keeps the saved one (and restarts the sync).
    let s = r
        .save_shop_settings(url.clone(), "till-1".into(), None)
        .await
        .unwrap();
    assert!(s.running && s.password_saved);
    // Another identifier needs its own password.
    assert_eq!(
        r.save_shop_settings(url.clone(), "till-2".into(), None)
            .await
            .unwrap_err()
            .code,
        "shop.password_required"
    );
    assert!(
        r.import_shop_catalog().await.is_ok(),
        "queued for the worker"
    );
}

fn pickup(code: &str) -> PickupOrder {
    PickupOrder {
        code: code.into(),
        state: "PaymentSettled".into(),
        customer_name: Some("Lucía Gómez".into()),
        placed_at: Some("2026-11-22T09:00:00Z".into()),
        currency: "EUR".into(),
        total_minor: 2598,
        location_name: "Store Madrid".into(),
        lines: vec![PickupLine {
            sku: "TS-00001-S".into(),
            name: "T-Shirt 00001 S".into(),
            quantity: 2,
            line_total_minor: 2598,
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cashier_hands_a_pickup_over_once_and_it_waits_in_the_queue_for_the_shop() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let r = small_spanish_register(&db);
    Store::open(&db)
        .unwrap()
        .apply_pickups(
            &[pickup("WEB-2"), pickup("WEB-1")],
            &[],
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
    assert_eq!(r.pickups().await.unwrap_err().code, "auth.required");
    r.login("1234".into()).await.unwrap();
    let list = r.pickups().await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].lines[0].quantity, 2);
    assert_eq!(list[0].total.minor, 2598);
    assert_eq!(list[0].customer_name.as_deref(), Some("Lucía Gómez"));
    assert_eq!(r.sync_details().await.unwrap().pickups, 2);

    let after = r.hand_over_pickup("WEB-1".into()).await.unwrap();
    let one = after.iter().find(|p| p.code == "WEB-1").unwrap();
    assert!(
        one.handed_over,
        "shown as handed over until the shop confirms"
    );
    assert_eq!(
        r.hand_over_pickup("WEB-1".into()).await.unwrap_err().code,
        "shop.already_handed_over"
    );
    assert_eq!(
        r.hand_over_pickup("NOPE".into()).await.unwrap_err().code,
        "shop.pickup_not_found"
    );
    // Exactly one message for the shop, waiting (no shop is set up: it stays queued).
    assert_eq!(r.status().await.unwrap().sync.queued, 1);
    let store = Store::open(&db).unwrap();
    let queued = store
        .outbox_pending(10, time::OffsetDateTime::now_utc())
        .unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].kind, pos_store::shop::PICKUP_COLLECTED);
    assert_eq!(queued[0].idempotency_key, "pickup:WEB-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_reviews_a_stock_conflict_and_it_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let r = small_spanish_register(&db);
    let sku: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT sku FROM variant ORDER BY sku LIMIT 1", [], |row| {
            row.get(0)
        })
        .unwrap();
    Store::open(&db)
        .unwrap()
        .record_stock_conflicts(
            &[StockConflictRecord {
                shop_conflict_id: Some("c-1".into()),
                sale_id: None,
                sku: sku.clone(),
                reason: "INSUFFICIENT_STOCK".into(),
                requested: 3,
                available_before: Some(1),
            }],
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
    r.login("1234".into()).await.unwrap();
    assert_eq!(
        r.stock_conflicts(false).await.unwrap_err().code,
        "auth.forbidden"
    );
    r.login("9999".into()).await.unwrap();
    let list = r.stock_conflicts(false).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].quantity, list[0].available_before), (3, Some(1)));
    assert_eq!(list[0].sku, sku);
    assert!(
        !list[0].names.is_empty(),
        "the product's name from the catalog"
    );
    let open = r.review_stock_conflict(list[0].id).await.unwrap();
    assert!(open.is_empty());
    assert_eq!(
        r.review_stock_conflict(list[0].id).await.unwrap_err().code,
        "shop.conflict_not_found"
    );
    let all = r.stock_conflicts(true).await.unwrap();
    assert_eq!(all.len(), 1, "kept, never dropped");
    assert_eq!(all[0].reviewed_by.as_deref(), Some("Marta"));
    assert!(all[0].reviewed_at.is_some());
    assert_eq!(r.sync_details().await.unwrap().conflicts, 0);
}
