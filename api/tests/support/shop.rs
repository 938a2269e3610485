//! The real Vendure test shop for the `real-shop` tests: its address and credentials from the
//! environment that tests/sync/run.sh exports, its test scripts, and a register set up against
//! it as after installation (a US store, the test shop sells in USD with tax on top).
//!
//! Invariant: a missing variable fails the test at once with a message that says how to run it.

use super::{demo_config, start_register};
use pos_api::Api;
use pos_api::dto::ProductDto;
use pos_api::events::EventSink;
use pos_api::register::{Register, SystemClock};
use pos_sync::{Secret, ShopConfig, VendureConnector};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The environment variable `name`; panics (saying how to run these tests) when it is not set.
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run these tests through tests/sync/run.sh, which starts the Vendure test shop")
    })
}

/// The test shop: its address, the first terminal's credential (the one start.sh created) and
/// the folder of its scripts.
pub struct Shop {
    pub url: String,
    pub identifier: String,
    pub password: String,
    pub scripts: PathBuf,
}

impl Shop {
    /// From SHOP_URL, SHOP_IDENTIFIER, SHOP_PASSWORD and TEST_SHOP_DIR.
    pub fn from_env() -> Shop {
        Shop {
            url: env("SHOP_URL"),
            identifier: env("SHOP_IDENTIFIER"),
            password: env("SHOP_PASSWORD"),
            scripts: PathBuf::from(env("TEST_SHOP_DIR")),
        }
    }

    /// The first terminal's own connection, to read the shop's side (stock, an order's state).
    pub fn connector(&self) -> VendureConnector {
        let c = ShopConfig::new(&self.url, &self.identifier, Secret::new(&self.password)).unwrap();
        VendureConnector::new(&c).unwrap()
    }

    /// Runs the test shop's node script `args[0]` with the other args and `--url`; returns the
    /// JSON of its last output line (null when there is none).
    pub fn script(&self, args: &[&str]) -> Value {
        let out = std::process::Command::new("node")
            .arg(self.scripts.join(args[0]))
            .args(&args[1..])
            .args(["--url", &self.url])
            .output()
            .expect("node (Node 20) must be installed for the test shop scripts");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(text.lines().last().unwrap_or("null")).unwrap_or(Value::Null)
    }

    /// The answer (data and errors) to an Admin API `query` with `variables`, asked as the
    /// superadmin (what the shop's back office shows).
    pub async fn admin_answer(&self, query: &str, variables: Value) -> Value {
        let http = reqwest::Client::new();
        let login = http
            .post(format!("{}/admin-api", self.url))
            .json(&json!({"query":"mutation{ login(username:\"superadmin\",password:\"superadmin\"){ __typename } }"}))
            .send()
            .await
            .unwrap();
        let token = login.headers()["vendure-auth-token"]
            .to_str()
            .unwrap()
            .to_owned();
        http.post(format!("{}/admin-api", self.url))
            .bearer_auth(&token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The data of an Admin API `query` as the superadmin; panics on errors.
    pub async fn admin(&self, query: &str, variables: Value) -> Value {
        let v = self.admin_answer(query, variables).await;
        assert!(v["errors"].is_null(), "{v}");
        v["data"].clone()
    }
}

/// A started register `terminal_id` on `db` in a US store with 5 demo products, the demo users
/// and no shop settings (as after installation), on the system clock.
pub fn open_us_register(db: &Path, terminal_id: &str, events: Arc<dyn EventSink>) -> Arc<Register> {
    start_register(
        demo_config(db, terminal_id, 5, pos_store::Country::Us),
        events,
        Arc::new(SystemClock),
    )
}

/// Polls `ok` every 20 ms until it holds; panics after `timeout`; returns how long it took.
pub async fn wait_for<F: AsyncFnMut() -> bool>(what: &str, timeout: Duration, ok: F) -> Duration {
    wait_for_every(what, timeout, Duration::from_millis(20), ok).await
}

/// Polls `ok` every `every` until it holds; panics after `timeout`; returns how long it took.
pub async fn wait_for_every<F: AsyncFnMut() -> bool>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut ok: F,
) -> Duration {
    let t0 = Instant::now();
    loop {
        if ok().await {
            return t0.elapsed();
        }
        assert!(t0.elapsed() < timeout, "{what}: not within {timeout:?}");
        tokio::time::sleep(every).await;
    }
}

/// Waits until the register's first import from the shop has finished.
pub async fn first_import(r: &Register, timeout: Duration, every: Duration) {
    wait_for_every("first import", timeout, every, async || {
        let d = r.sync_details().await.unwrap();
        d.import.finished_at.is_some() && !d.import.running
    })
    .await;
}

/// The product `sku` as the register found it after importing the shop's catalog; panics with
/// `missing` when the register does not have it.
pub async fn imported(r: &Register, sku: &str, missing: &str) -> ProductDto {
    r.search_products(sku.into(), 5)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.sku == sku)
        .expect(missing)
}

/// What the shop can sell of `sku` now.
pub async fn sellable(c: &VendureConnector, sku: &str) -> i64 {
    use pos_sync::connector::Connector;
    c.stock(&[sku.to_owned()]).await.unwrap()[0].sellable
}
