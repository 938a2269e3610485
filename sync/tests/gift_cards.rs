//! Gift cards shared with the web shop, against the real Vendure test shop (webshop/test-shop),
//! started by tests/sync/run.sh, which exports SHOP_URL, SHOP_IDENTIFIER and SHOP_PASSWORD.
//! Run with `--test-threads=1`. The storefront side is Vendure's own Shop API
//! (`addPaymentToOrder` with the plugin's `pos-gift-card` payment handler), driven here over HTTP
//! as a storefront would. Storefront orders use TS-00060-S and TS-00060-M (no other test's SKUs).

use pos_sync::connector::{Connector, GiftCardStatus};
use pos_sync::{Secret, ShopConfig, VendureConnector};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use uuid::Uuid;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run these tests through tests/sync/run.sh, which starts the Vendure test shop")
    })
}

fn url() -> String {
    env("SHOP_URL")
}

fn connector() -> VendureConnector {
    let config = ShopConfig::new(
        &url(),
        &env("SHOP_IDENTIFIER"),
        Secret::new(env("SHOP_PASSWORD")),
    )
    .unwrap();
    VendureConnector::new(&config).unwrap()
}

/// A GraphQL call; returns `data` and the session token the shop sent (if any).
async fn call(
    http: &reqwest::Client,
    endpoint: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> (Value, Option<String>) {
    let mut req = http
        .post(format!("{}/{endpoint}", url()))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let token = resp
        .headers()
        .get("vendure-auth-token")
        .map(|v| v.to_str().unwrap().to_owned());
    let v: Value = resp.json().await.unwrap();
    assert!(v.get("errors").is_none(), "{query}: {v}");
    (v["data"].clone(), token)
}

async fn superadmin(http: &reqwest::Client) -> String {
    let (_, token) = call(
        http,
        "admin-api",
        None,
        "mutation{ login(username:\"superadmin\",password:\"superadmin\"){ __typename } }",
        json!({}),
    )
    .await;
    token.expect("superadmin login")
}

/// The shop's "gift-card" payment method (the plugin's handler), created once.
async fn ensure_gift_card_method(http: &reqwest::Client, admin: &str) {
    let (d, _) = call(
        http,
        "admin-api",
        Some(admin),
        "{ paymentMethods(options:{filter:{code:{eq:\"gift-card\"}}}){ totalItems } }",
        json!({}),
    )
    .await;
    if d["paymentMethods"]["totalItems"].as_u64() == Some(0) {
        call(http, "admin-api", Some(admin),
            "mutation{ createPaymentMethod(input:{ code:\"gift-card\", enabled:true, handler:{ code:\"pos-gift-card\", arguments:[] }, translations:[{ languageCode: en, name:\"Gift card\" }] }){ id } }",
            json!({})).await;
    }
}

/// A storefront's order of one item, in ArrangingPayment.
struct WebOrder {
    token: String,
    total: i64,
}

async fn web_order(http: &reqwest::Client, admin: &str, sku: &str) -> WebOrder {
    let (d, _) = call(
        http,
        "admin-api",
        Some(admin),
        "query($s:String!){ productVariants(options:{filter:{sku:{eq:$s}}}){ items { id } } }",
        json!({ "s": sku }),
    )
    .await;
    let variant = d["productVariants"]["items"][0]["id"].clone();
    let (_, token) = call(
        http,
        "shop-api",
        None,
        "mutation($id:ID!){ addItemToOrder(productVariantId:$id, quantity:1){ __typename } }",
        json!({ "id": variant }),
    )
    .await;
    let token = token.expect("a shop session");
    let t = Some(token.as_str());
    call(http, "shop-api", t,
        "mutation($i:CreateCustomerInput!){ setCustomerForOrder(input:$i){ __typename } }",
        json!({ "i": { "emailAddress": format!("gift-{}@example.com", Uuid::new_v4()), "firstName": "Ana", "lastName": "García" } })).await;
    call(http, "shop-api", t,
        "mutation($i:CreateAddressInput!){ setOrderShippingAddress(input:$i){ __typename } }",
        json!({ "i": { "fullName": "Ana García", "streetLine1": "Gran Vía 1", "city": "Madrid", "postalCode": "28013", "countryCode": "ES" } })).await;
    let (d, _) = call(
        http,
        "shop-api",
        t,
        "{ eligibleShippingMethods { id code } }",
        json!({}),
    )
    .await;
    let standard = d["eligibleShippingMethods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["code"] == "standard-shipping")
        .unwrap()["id"]
        .clone();
    call(
        http,
        "shop-api",
        t,
        "mutation($id:[ID!]!){ setOrderShippingMethod(shippingMethodId:$id){ __typename } }",
        json!({ "id": [standard] }),
    )
    .await;
    let (d, _) = call(http, "shop-api", t,
        "mutation{ transitionOrderToState(state:\"ArrangingPayment\"){ __typename ... on Order { totalWithTax } } }", json!({})).await;
    WebOrder {
        token,
        total: d["transitionOrderToState"]["totalWithTax"]
            .as_i64()
            .unwrap(),
    }
}

/// addPaymentToOrder with the gift card for at most `amount`: what the card paid (0 = declined).
async fn web_pay(http: &reqwest::Client, order: &WebOrder, code: &str, amount: i64) -> i64 {
    let (d, _) = call(http, "shop-api", Some(&order.token),
        "mutation($i:PaymentInput!){ addPaymentToOrder(input:$i){ __typename ... on Order { payments { method amount state } } } }",
        json!({ "i": { "method": "gift-card", "metadata": { "code": code, "amount": amount } } })).await;
    let r = &d["addPaymentToOrder"];
    if r["__typename"] != "Order" {
        return 0;
    }
    r["payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["method"] == "gift-card" && p["state"] == "Settled")
        .map(|p| p["amount"].as_i64().unwrap())
        .sum()
}

/// The channel's currency (what storefront orders are in).
async fn currency() -> String {
    let http = reqwest::Client::new();
    let admin = superadmin(&http).await;
    let (d, _) = call(
        &http,
        "admin-api",
        Some(&admin),
        "{ activeChannel { defaultCurrencyCode } }",
        json!({}),
    )
    .await;
    d["activeChannel"]["defaultCurrencyCode"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminal_issues_tops_up_redeems_once_per_key_and_releases_once() {
    let c = connector();
    assert!(c.capabilities().gift_cards);
    let cur = currency().await;
    let issued = c
        .issue_gift_card(&Uuid::new_v4().to_string(), None, &cur, 5000)
        .await
        .unwrap();
    assert_eq!(issued.status, GiftCardStatus::Ok);
    let code = issued.card.unwrap().code;
    assert_eq!(code.len(), 16, "a generated 16-digit number");
    let top = c
        .top_up_gift_card(&Uuid::new_v4().to_string(), &code, 1000)
        .await
        .unwrap();
    assert_eq!(top.card.unwrap().balance_minor, 6000);

    let key = format!("{}-1", Uuid::new_v4());
    let first = c.redeem_gift_card(&key, &code, 2500, &cur).await.unwrap();
    assert_eq!((first.status, first.duplicate), (GiftCardStatus::Ok, false));
    // The answer was lost; the register resends with the same key.
    let again = c.redeem_gift_card(&key, &code, 2500, &cur).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(
        again.entry.as_ref().unwrap().id,
        first.entry.as_ref().unwrap().id
    );
    assert_eq!(
        c.gift_card(&code).await.unwrap().unwrap().balance_minor,
        3500,
        "taken once"
    );

    let over = c
        .redeem_gift_card(&Uuid::new_v4().to_string(), &code, 3501, &cur)
        .await
        .unwrap();
    assert_eq!(over.status, GiftCardStatus::InsufficientBalance);
    assert_eq!(over.card.unwrap().balance_minor, 3500, "nothing taken");

    let released = c.release_gift_card_redeem(&key).await.unwrap();
    assert_eq!(released.entry.unwrap().amount_minor, 2500);
    assert!(c.release_gift_card_redeem(&key).await.unwrap().duplicate);
    assert_eq!(
        c.gift_card(&code).await.unwrap().unwrap().balance_minor,
        6000
    );
    assert_eq!(
        c.release_gift_card_redeem("never-used")
            .await
            .unwrap()
            .status,
        GiftCardStatus::NotRedeemed
    );
    assert_eq!(c.gift_card("0000999988887777").await.unwrap(), None);
    let kinds: Vec<(String, i64)> = c
        .gift_card_entries(&code)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.amount_minor))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("ISSUE".into(), 5000),
            ("TOP_UP".into(), 1000),
            ("REDEEM".into(), -2500),
            ("RELEASE".into(), 2500)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_register_and_a_storefront_paying_with_the_same_card_at_once_never_spend_more_than_its_balance()
 {
    let c = connector();
    let cur = currency().await;
    let http = reqwest::Client::new();
    let admin = superadmin(&http).await;
    ensure_gift_card_method(&http, &admin).await;
    const ROUNDS: usize = 6;
    let mut register_won = 0;
    let mut web_won = 0;
    let mut times = Vec::new();
    for round in 0..ROUNDS {
        let order = web_order(
            &http,
            &admin,
            if round % 2 == 0 {
                "TS-00060-S"
            } else {
                "TS-00060-M"
            },
        )
        .await;
        // The card holds the order's total; each side wants 60 % of it: both cannot be paid
        // in full.
        let balance = order.total;
        let each = (order.total * 6 + 9) / 10;
        let code = c
            .issue_gift_card(&Uuid::new_v4().to_string(), None, &cur, balance)
            .await
            .unwrap()
            .card
            .unwrap()
            .code;
        let key = format!("{}-1", Uuid::new_v4());
        let (register, web) = tokio::join!(
            async {
                // Even rounds at the same moment; odd rounds give the storefront (whose
                // addPaymentToOrder does more work) a head start of a few ms.
                if round % 2 == 1 {
                    tokio::time::sleep(Duration::from_millis(8 + 4 * round as u64)).await;
                }
                let t0 = Instant::now();
                let r = c.redeem_gift_card(&key, &code, each, &cur).await.unwrap();
                (r, t0.elapsed())
            },
            web_pay(&http, &order, &code, each)
        );
        let (register, took) = register;
        times.push(took);
        let register_paid = match register.status {
            GiftCardStatus::Ok => each,
            GiftCardStatus::InsufficientBalance => 0,
            other => panic!("unexpected {other:?}"),
        };
        let left = c.gift_card(&code).await.unwrap().unwrap().balance_minor;
        assert!(left >= 0, "never negative");
        assert!(
            register_paid + web <= balance,
            "never more than the balance"
        );
        assert_eq!(
            register_paid + web,
            balance - left,
            "what was paid is what left the card"
        );
        assert!(register_paid > 0 || web > 0, "one of them was paid");
        if register_paid == each {
            register_won += 1;
            assert_eq!(web, balance - each, "the storefront took what was left");
        } else {
            web_won += 1;
            assert_eq!(web, each);
        }
        let entries = c.gift_card_entries(&code).await.unwrap();
        let mut running = 0;
        for e in &entries {
            running += e.amount_minor;
            assert_eq!(e.balance_after_minor, running, "the entries add up");
        }
        assert_eq!(running, left);
        let channels: Vec<&str> = entries
            .iter()
            .filter(|e| e.kind == "REDEEM")
            .map(|e| e.channel.as_str())
            .collect();
        assert!(channels.len() <= 2);
    }
    times.sort();
    println!(
        "BENCH gift card: {ROUNDS} races register vs storefront: register first {register_won}, storefront first {web_won}; register redeem under contention p50 {} ms, max {} ms",
        times[ROUNDS / 2].as_millis(),
        times[ROUNDS - 1].as_millis()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeem_round_trip_is_quick() {
    let c = connector();
    let cur = currency().await;
    let code = c
        .issue_gift_card(&Uuid::new_v4().to_string(), None, &cur, 100_000)
        .await
        .unwrap()
        .card
        .unwrap()
        .code;
    c.gift_card(&code).await.unwrap(); // logged in
    let mut times = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let r = c
            .redeem_gift_card(&Uuid::new_v4().to_string(), &code, 100, &cur)
            .await
            .unwrap();
        assert_eq!(r.status, GiftCardStatus::Ok);
        times.push(t.elapsed());
    }
    times.sort();
    let p50 = times[15];
    let p95 = times[28];
    println!(
        "BENCH gift card redeem round trip (terminal → shop → terminal): p50 {} ms, p95 {} ms",
        p50.as_millis(),
        p95.as_millis()
    );
    assert!(p95 < Duration::from_millis(1000), "p95 {p95:?}");
    assert_eq!(
        c.gift_card(&code).await.unwrap().unwrap().balance_minor,
        100_000 - 30 * 100
    );
}
