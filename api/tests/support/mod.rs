//! Fixtures shared by the api integration tests: test clocks, an event recorder, the 2-worker
//! runtime, a demo register on a fresh SQLite file in a temporary directory, and small readers
//! of the register's database (the demo catalog, stock) and of its devices (terminal, printer).
//!
//! Invariants: nothing here decides what a test asserts; every register opened here uses the
//! demo data of the country, terminal id and size the test asks for, at location "main", and
//! its database lives as long as the returned value.

// Every test binary compiles this module (`mod support;`) but uses only part of it.
#![allow(dead_code)]

#[cfg(feature = "real-shop")]
pub mod shop;

use pos_api::Api;
use pos_api::dto::{
    DiscountDto, PayResultDto, ReasonDto, RefundToDto, ReturnLineDto, ReturnRequestDto,
    TenderKindDto,
};
use pos_api::events::{Event, EventSink};
use pos_api::register::{Clock, Register, RegisterConfig};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// The demo staff's PINs: Ana (cashier), Marta (manager), Admin.
pub const CASHIER: &str = "1234";
pub const MANAGER: &str = "9999";
pub const ADMIN: &str = "0000";

/// A demo gift card with 50,00 € on it in the Spanish demo.
pub const GIFT_50: &str = "6006490000000017";
/// Demo customer Lucía: 15,00 € store credit, account limit 200,00 €.
pub const LUCIA: &str = "c-0001";
/// Demo customer Pablo: no credit, no account.
pub const PABLO: &str = "c-0002";

/// A 10 % discount (on a line or on the order).
pub const TEN_PERCENT: Option<DiscountDto> = Some(DiscountDto::Percent { bps: 1000 });

/// A clock that reads the instant it holds; a test may move it through `.0`.
pub struct FixedClock(pub Mutex<OffsetDateTime>);

impl FixedClock {
    pub fn at(t: OffsetDateTime) -> Arc<FixedClock> {
        Arc::new(FixedClock(Mutex::new(t)))
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

/// A clock that moves `step` forward before each reading (so every record gets its own
/// instant), and that a test can move further with `jump`.
pub struct StepClock {
    now: Mutex<OffsetDateTime>,
    step: time::Duration,
}

impl StepClock {
    /// First reading: `start + step`.
    pub fn new(start: OffsetDateTime, step: time::Duration) -> Arc<StepClock> {
        Arc::new(StepClock {
            now: Mutex::new(start),
            step,
        })
    }

    pub fn jump(&self, d: time::Duration) {
        *self.now.lock().unwrap() += d;
    }
}

impl Clock for StepClock {
    fn now(&self) -> OffsetDateTime {
        let mut t = self.now.lock().unwrap();
        *t += self.step;
        *t
    }
}

/// An event sink that keeps every event, in order.
#[derive(Default)]
pub struct Recorded(pub Mutex<Vec<Event>>);

impl EventSink for Recorded {
    fn emit(&self, e: Event) {
        self.0.lock().unwrap().push(e);
    }
}

/// The runtime the registers under test run on: multi-threaded, 2 workers.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A register's configuration on `db` at location "main", filled with `demo_products` demo
/// products of `country`, with the simulated devices.
pub fn demo_config(
    db: &Path,
    terminal_id: &str,
    demo_products: usize,
    country: pos_store::Country,
) -> RegisterConfig {
    RegisterConfig {
        db_path: db.to_owned(),
        terminal_id: terminal_id.into(),
        location_id: "main".into(),
        demo_products: Some(demo_products),
        demo_country: country,
        devices: Default::default(),
    }
}

/// Opens and starts a register (its background tasks go to the current runtime).
pub fn start_register(
    config: RegisterConfig,
    events: Arc<dyn EventSink>,
    clock: Arc<dyn Clock>,
) -> Arc<Register> {
    let r = Arc::new(Register::open(config, events, clock).unwrap());
    r.start();
    r
}

/// Opens and starts a register whose background tasks run on `rt`.
pub fn start_register_on(
    rt: &tokio::runtime::Runtime,
    config: RegisterConfig,
    events: Arc<dyn EventSink>,
    clock: Arc<dyn Clock>,
) -> Arc<Register> {
    let _inside = rt.enter();
    start_register(config, events, clock)
}

/// A started register T01 on `db` in a Spanish store with 20 demo products, on the system clock,
/// with nobody listening to its events; its background tasks go to the current runtime.
pub fn small_spanish_register(db: &Path) -> Arc<Register> {
    start_register(
        demo_config(db, "T01", 20, pos_store::Country::Es),
        Arc::new(pos_api::events::NoEvents),
        Arc::new(pos_api::register::SystemClock),
    )
}

/// A started register on `register.db` in its own temporary directory, with its runtime.
pub struct RegisterOnDisk {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub register: Arc<Register>,
    pub rt: tokio::runtime::Runtime,
}

impl RegisterOnDisk {
    /// Terminal T01 with `demo_products` demo products of `country` in a new directory.
    pub fn open(
        demo_products: usize,
        country: pos_store::Country,
        events: Arc<dyn EventSink>,
        clock: Arc<dyn Clock>,
    ) -> RegisterOnDisk {
        RegisterOnDisk::open_in(
            tempfile::tempdir().unwrap(),
            |db| demo_config(db, "T01", demo_products, country),
            events,
            clock,
        )
    }

    /// A register on `register.db` in `dir`, configured by `config` (given the file's path,
    /// which may be prepared before the register opens it).
    pub fn open_in(
        dir: tempfile::TempDir,
        config: impl FnOnce(&Path) -> RegisterConfig,
        events: Arc<dyn EventSink>,
        clock: Arc<dyn Clock>,
    ) -> RegisterOnDisk {
        let db = dir.path().join("register.db");
        let config = config(&db);
        let rt = runtime();
        let register = start_register_on(&rt, config, events, clock);
        RegisterOnDisk {
            dir,
            db,
            register,
            rt,
        }
    }

    pub fn block<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The printed jobs (decoded) once `n` have printed, or all there are after 10 s.
    pub fn printed(&self, n: usize) -> Vec<String> {
        printed_blocking(&self.register, n)
    }
}

/// The first value of the first row of `sql` on the database file `db`.
pub fn query<T: rusqlite::types::FromSql>(db: &Path, sql: &str) -> T {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// Barcodes of the first 10 unit-priced demo products with their variant ids.
pub fn products(db: &Path) -> Vec<(String, String)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare(
            "SELECT b.code, v.id FROM barcode b JOIN variant v ON v.id = b.variant_id \
             JOIN product p ON p.id = v.product_id WHERE p.by_weight = 0 ORDER BY b.code LIMIT 10",
        )
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The first barcode of a unit-priced demo product.
pub fn first_barcode(db: &Path) -> String {
    query(
        db,
        "SELECT b.code FROM barcode b JOIN variant v ON v.id = b.variant_id \
         JOIN product p ON p.id = v.product_id WHERE p.by_weight = 0 ORDER BY b.code LIMIT 1",
    )
}

/// The first barcode of a unit-priced demo product taxed at `bps` basis points.
pub fn barcode_at_rate(db: &Path, bps: i64) -> String {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT b.code FROM barcode b JOIN variant v ON v.id = b.variant_id \
             JOIN product p ON p.id = v.product_id JOIN tax_category t ON t.code = p.tax_code \
             WHERE p.by_weight = 0 AND t.rate_bps = ?1 ORDER BY b.code LIMIT 1",
            [bps],
            |r| r.get(0),
        )
        .unwrap()
}

/// A unit-priced product with 21 % IVA and one with 4 %, by barcode (Spanish demo).
pub fn two_barcodes(db: &Path) -> (String, String) {
    (barcode_at_rate(db, 2100), barcode_at_rate(db, 400))
}

/// Stock on hand of `variant` at location "main".
pub fn on_hand(db: &Path, variant: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT on_hand FROM stock WHERE variant_id = ?1 AND location_id = 'main'",
            [variant],
            |r| r.get(0),
        )
        .unwrap()
}

/// Line `line_no` of a sale, `quantity` of it returned to the shelf.
pub fn return_line(line_no: u32, quantity: i64) -> ReturnLineDto {
    ReturnLineDto {
        line_no,
        quantity,
        write_off: None,
    }
}

/// A return of `lines` of sale `sale_id`, refunded to `to`.
pub fn return_request(
    sale_id: &str,
    lines: Vec<ReturnLineDto>,
    to: RefundToDto,
) -> ReturnRequestDto {
    ReturnRequestDto {
        sale_id: Some(sale_id.to_owned()),
        lines,
        items: Vec::new(),
        refund_to: to,
    }
}

/// A reason with `code` and no note.
pub fn reason(code: &str) -> Option<ReasonDto> {
    Some(ReasonDto {
        code: code.into(),
        note: None,
    })
}

/// Logs in as Admin and waits (at most 10 s) until the payment terminal answers its test; Admin
/// stays logged in.
pub async fn wait_for_terminal(r: &Register) {
    let deadline = Instant::now() + Duration::from_secs(10);
    r.login(ADMIN.into()).await.unwrap();
    while r.test_device("payment_terminal".into()).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the payment terminal never answered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (at most 10 s) until the printer has printed `n` documents; returns them all.
pub async fn printed(r: &Register, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while r.printed_receipts().len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let p = r.printed_receipts();
    assert!(p.len() >= n, "only {} printed: {p:?}", p.len());
    p
}

/// The printed jobs (decoded) once `n` have printed, or all there are after 10 s; blocks the
/// thread (for tests outside the runtime).
pub fn printed_blocking(r: &Register, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while r.printed_receipts().len() < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    r.printed_receipts()
}

/// The receipt of a completed sale, its lines joined by newlines.
pub fn receipt_text(p: &PayResultDto) -> String {
    p.completed.as_ref().unwrap().receipt.lines.join("\n")
}

/// Pays `amount` by card on the demo's simulated terminal, retrying while it is still starting
/// in the background (not up yet, or busy registering); panics when it never comes up.
pub async fn pay_card(r: &Register, amount: i64) -> PayResultDto {
    for _ in 0..1000 {
        match r.pay(TenderKindDto::Card, amount).await {
            Ok(p) => return p,
            Err(e) if e.code == "pay.terminal_unavailable" || e.code == "pay.terminal_busy" => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("card payment failed: {e:?}"),
        }
    }
    panic!("the payment terminal never came up")
}
