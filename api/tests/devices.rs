//! Settings → Devices on a real SQLite file: an administrator saves the terminal's device
//! configuration and the next start uses it; cashiers are refused; bad JSON is reported; the
//! printer test prints a page on the (simulated) printer; diagnose lists the devices.

use pos_api::Api;
use pos_api::events::{Event, EventSink};
use pos_api::register::{Clock, Register, RegisterConfig};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

struct FixedClock;
impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        time::macros::datetime!(2026-11-22 10:30 UTC)
    }
}

#[derive(Default)]
struct Recorded(Mutex<Vec<Event>>);
impl EventSink for Recorded {
    fn emit(&self, e: Event) {
        self.0.lock().unwrap().push(e);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn open(rt: &tokio::runtime::Runtime, db: &Path, country: pos_store::Country) -> Arc<Register> {
    let config = RegisterConfig {
        db_path: db.to_owned(),
        terminal_id: "T01".into(),
        location_id: "main".into(),
        demo_products: Some(50),
        demo_country: country,
        devices: Default::default(),
    };
    let _inside = rt.enter();
    let r = Arc::new(
        Register::open(config, Arc::new(Recorded::default()), Arc::new(FixedClock)).unwrap(),
    );
    r.start();
    r
}

const NO_DRAWER: &str = r#"{"drawer": {"connection": "none"}}"#;

#[test]
fn an_admin_saves_the_device_settings_and_the_next_start_uses_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let rt = runtime();
    {
        let r = open(&rt, &db, pos_store::Country::Es);
        rt.block_on(async {
            let before = r.status().await.unwrap();
            assert!(before.devices.iter().any(|d| d.device == "drawer"));
            r.login("0000".into()).await.unwrap();
            let saved = r.save_device_settings(NO_DRAWER.into()).await.unwrap();
            let drawer = saved.devices.iter().find(|d| d.device == "drawer").unwrap();
            assert_eq!(drawer.connection, "none");
            assert!(
                saved.restart_needed,
                "the drawer is still in use until restart"
            );
        });
    }
    let r = open(&rt, &db, pos_store::Country::Es);
    rt.block_on(async {
        let status = r.status().await.unwrap();
        assert!(
            !status.devices.iter().any(|d| d.device == "drawer"),
            "the saved configuration has no drawer: {:?}",
            status.devices
        );
        r.login("0000".into()).await.unwrap();
        let shown = r.device_settings().await.unwrap();
        assert!(!shown.restart_needed);
        assert!(
            shown.config_json.contains("\"none\""),
            "{}",
            shown.config_json
        );
        let e = r.test_device("drawer".into()).await.unwrap_err();
        assert_eq!(e.code, "device.not_configured");
    });
}

#[test]
fn a_cashier_may_not_change_devices_and_bad_json_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let rt = runtime();
    let r = open(&rt, &db, pos_store::Country::Es);
    rt.block_on(async {
        r.login("1234".into()).await.unwrap();
        let e = r.save_device_settings(NO_DRAWER.into()).await.unwrap_err();
        assert_eq!(e.code, "auth.forbidden");
        let e = r.device_settings().await.unwrap_err();
        assert_eq!(e.code, "auth.forbidden");
        r.logout().await.unwrap();

        // A manager may look and test, not save.
        r.login("9999".into()).await.unwrap();
        r.device_settings().await.unwrap();
        let e = r.save_device_settings(NO_DRAWER.into()).await.unwrap_err();
        assert_eq!(e.code, "auth.forbidden");
        r.logout().await.unwrap();

        r.login("0000".into()).await.unwrap();
        let e = r
            .save_device_settings("{\"printer\": ".into())
            .await
            .unwrap_err();
        assert_eq!(e.code, "device.config");
        let e = r
            .save_device_settings(
                r#"{"printer": {"connection": {"kind": "carrier_pigeon"}}}"#.into(),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, "device.config");
        // Nothing was saved: still all simulators.
        let shown = r.device_settings().await.unwrap();
        assert!(
            shown.devices.iter().all(|d| d.connection == "simulated"),
            "{:?}",
            shown.devices
        );
    });
}

#[test]
fn the_printer_test_prints_a_page_in_the_store_language() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let rt = runtime();
    let r = open(&rt, &db, pos_store::Country::Es);
    rt.block_on(async {
        let e = r.test_device("printer".into()).await.unwrap_err();
        assert_eq!(e.code, "auth.required");
        r.login("9999".into()).await.unwrap();
        r.test_device("printer".into()).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while r.printed_receipts().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let printed = r.printed_receipts();
        assert_eq!(printed.len(), 1, "{printed:?}");
        assert!(printed[0].contains("Página de prueba"), "{}", printed[0]);
        assert!(
            printed[0].contains("La impresora funciona."),
            "{}",
            printed[0]
        );
        r.test_device("display".into()).await.unwrap();
        // The payment terminal (the ZVT simulator, connected in the background) answers a
        // registration: no money moves.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut answer = r.test_device("payment_terminal".into()).await;
        while answer.is_err() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            answer = r.test_device("payment_terminal".into()).await;
        }
        answer.unwrap();
        let e = r.test_device("toaster".into()).await.unwrap_err();
        assert_eq!(e.code, "device.bad_command");
    });
}

#[test]
fn diagnose_lists_the_simulated_devices_as_answering_and_a_japanese_store_tests_in_japanese() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let rt = runtime();
    let r = open(&rt, &db, pos_store::Country::Jp);
    rt.block_on(async {
        r.login("0000".into()).await.unwrap();
        let d = r.diagnose_devices().await.unwrap();
        for device in ["printer", "drawer", "scanner", "card_reader", "display"] {
            let check = d.configured.iter().find(|c| c.device == device);
            let check = check.unwrap_or_else(|| panic!("{device} missing from {:?}", d.configured));
            assert!(check.answers, "{check:?}");
            assert_eq!(check.result, "simulated");
        }
        // The test page of a Japanese store is in Japanese.
        r.test_device("printer".into()).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while r.printed_receipts().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let printed = r.printed_receipts();
        assert_eq!(printed.len(), 1, "{printed:?}");
        assert!(printed[0].contains("テスト印刷"), "{}", printed[0]);
    });
}
