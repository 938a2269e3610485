//! A process that is killed (SIGKILL) while committing sales leaves only whole sales behind:
//! lines that add up to the total, one outbox row per sale, receipt numbers without gaps, and
//! stock lowered by exactly what the committed sales sold.
//!
//! The test re-runs its own test binary as the child (`POS_CRASH_CHILD_DB` names the file),
//! lets it commit sales as fast as it can, kills it at a varying moment, and checks the file.
//! SIGKILL does not drop the operating system's page cache, so this checks atomicity of the
//! transaction and recovery of the WAL; power-loss durability rests on `synchronous=FULL`.

mod common;

use common::*;
use pos_core::Quantity;
use pos_store::Store;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

const CHILD_ENV: &str = "POS_CRASH_CHILD_DB";

/// Commits sales of 2 milk + 1 wine until `stop` says so. Returns how many it committed.
fn sell(path: &Path, mut stop: impl FnMut(u64) -> bool) -> u64 {
    let mut store = Store::open(path).unwrap();
    let cart = cart(
        &store,
        &[(MILK, Quantity::Units(2)), (WINE, Quantity::Units(1))],
    );
    let mut n = 0;
    while !stop(n) {
        store
            .commit_sale("T01", LOCATION, |r| build(&cart, r, Uuid::new_v4(), T0))
            .unwrap();
        n += 1;
    }
    n
}

fn assert_stock_matches_sales(store: &Store, sales: i64) {
    assert_eq!(
        store.stock_on_hand("v-milk", LOCATION).unwrap(),
        Some(10 - 2 * sales)
    );
    assert_eq!(
        store.stock_on_hand("v-wine", LOCATION).unwrap(),
        Some(5 - sales)
    );
}

/// The child's body when run by `killed_while_committing…`; on its own, a short in-process
/// run of the same loop with the same checks.
#[test]
fn crash_child_sells_in_a_loop() {
    if let Ok(db) = std::env::var(CHILD_ENV) {
        sell(Path::new(&db), |_| false);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.db");
    drop(open_with_catalog(&path));
    let n = sell(&path, |n| n == 20);
    let store = Store::open(&path).unwrap();
    assert_eq!(assert_every_sale_is_whole(&store, "T01"), n as i64);
    assert_stock_matches_sales(&store, 20);
}

#[test]
fn killed_while_committing_sales_every_sale_left_is_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pos.db");
    drop(open_with_catalog(&path));
    let exe = std::env::current_exe().unwrap();
    let mut previous = 0;
    for round in 0..8u64 {
        let mut child = Command::new(&exe)
            .args(["crash_child_sells_in_a_loop", "--exact", "--test-threads=1"])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the child test binary");
        // Wait until the child has committed at least one more sale, then a varying while.
        let started = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(5));
            let sold = Store::open(&path)
                .map(|s| s.sales_count().unwrap_or(0))
                .unwrap_or(0);
            if sold > previous {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the child committed nothing in 60 s"
            );
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the child exited on its own: {status}");
            }
        }
        std::thread::sleep(Duration::from_millis(3 + round * 7));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let store = Store::open(&path).unwrap();
        let n = assert_every_sale_is_whole(&store, "T01");
        assert!(n as u64 > previous, "round {round}: sales were committed");
        assert_stock_matches_sales(&store, n);
        previous = n as u64;
    }
}
