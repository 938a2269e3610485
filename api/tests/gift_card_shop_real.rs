//! The register's gift cards kept by the real Vendure test shop: once Settings → Web shop is
//! saved, a card issued at the shop pays part of a sale at the register (the shop's balance goes
//! down by exactly that), an empty card is refused in the cashier's terms, and the shop's
//! ledger shows the register's redeem under the sale's tender key. tests/sync/run.sh starts the
//! shop and exports SHOP_URL, SHOP_IDENTIFIER, SHOP_PASSWORD; run with `--test-threads=1`.
//! SKU used here: TS-00055-S (no other test's).

mod support;

use pos_api::Api;
use pos_api::dto::TenderKindDto;
use pos_api::events::NoEvents;
use pos_sync::connector::Connector;
use pos_sync::{Secret, ShopConfig, VendureConnector};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::shop::{env, first_import, imported, open_us_register};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_issued_at_the_shop_pays_at_the_register_from_the_same_balance() {
    let (url, id, password) = (
        env("SHOP_URL"),
        env("SHOP_IDENTIFIER"),
        env("SHOP_PASSWORD"),
    );
    let shop = VendureConnector::new(&ShopConfig::new(&url, &id, Secret::new(&password)).unwrap())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = open_us_register(&dir.path().join("register.db"), "T01", Arc::new(NoEvents));
    r.login("0000".into()).await.unwrap();
    assert!(!r.gift_card_offline_policy().await.unwrap().shop_keeps_cards);
    r.save_shop_settings(url.clone(), id.clone(), Some(password.clone()))
        .await
        .unwrap();
    assert!(
        r.gift_card_offline_policy().await.unwrap().shop_keeps_cards,
        "saving the shop moves the gift cards to it at once"
    );
    first_import(&r, Duration::from_secs(90), Duration::from_millis(50)).await;

    // A card sold online (or at another register): 5.00 on it.
    let issued = shop
        .issue_gift_card(&uuid::Uuid::new_v4().to_string(), None, "USD", 500)
        .await
        .unwrap();
    let number = issued.card.unwrap().code;

    r.login("1234".into()).await.unwrap(); // Ana, cashier
    let seen = r.gift_card_balance(number.clone()).await.unwrap();
    assert_eq!(seen.balance.minor, 500, "the shop's balance");
    assert_eq!(seen.masked, format!("****{}", &number[number.len() - 4..]));
    let sku = "TS-00055-S";
    let hit = imported(&r, sku, "the imported variant").await;
    r.add_product(hit.variant_id, Some(1)).await.unwrap();
    let total = r.current_sale().await.unwrap().total.minor;
    assert!(total > 500, "the card pays only part: {total}");
    let t = Instant::now();
    let paid = r.pay_gift_card(number.clone(), 500).await.unwrap();
    let pay_ms = t.elapsed().as_millis();
    assert!(paid.completed.is_none(), "the rest is still due");
    assert_eq!(
        shop.gift_card(&number)
            .await
            .unwrap()
            .unwrap()
            .balance_minor,
        0,
        "taken from the shop's balance"
    );
    let e = r.pay_gift_card(number.clone(), 1).await.unwrap_err();
    assert_eq!(e.code, "gift_card.insufficient", "{e:?}");
    let done = r
        .pay(TenderKindDto::Cash, total - 500)
        .await
        .unwrap()
        .completed
        .expect("paid in full");
    assert_eq!(done.total.minor, total);
    let entries = shop.gift_card_entries(&number).await.unwrap();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(
        (entries[1].kind.as_str(), entries[1].amount_minor),
        ("REDEEM", -500)
    );
    assert_eq!(entries[1].channel, id, "the register's terminal");
    assert!(
        entries[1].idempotency_key.ends_with("-1"),
        "keyed by the sale's first tender (<sale id>-1): {}",
        entries[1].idempotency_key
    );
    println!("BENCH register pay_gift_card against the shop's ledger: {pay_ms} ms");
}
