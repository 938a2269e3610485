//! Settings → Devices on a real SQLite file: an administrator saves the terminal's device
//! configuration and the next start uses it; cashiers are refused; bad JSON is reported; the
//! printer test prints a page on the (simulated) printer; diagnose lists the devices.

mod support;

use pos_api::Api;
use pos_api::register::{Register, RegisterConfig};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{FixedClock, Recorded, demo_config, first_barcode, runtime, start_register_on};

/// T01 of a store in `country` with 50 demo products and the simulated devices, always at
/// 2026-11-22 10:30 UTC.
fn open(rt: &tokio::runtime::Runtime, db: &Path, country: pos_store::Country) -> Arc<Register> {
    open_with(rt, db, country, Default::default())
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
    let (_dir, _db, rt, r) = open_fresh(pos_store::Country::Es);
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
    let (_dir, _db, rt, r) = open_fresh(pos_store::Country::Es);
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
    let (_dir, _db, rt, r) = open_fresh(pos_store::Country::Jp);
    rt.block_on(async {
        r.login("0000".into()).await.unwrap();
        wait_for_terminal(&r).await;
        r.login("0000".into()).await.unwrap();
        let d = r.diagnose_devices().await.unwrap();
        for device in [
            "printer",
            "drawer",
            "scanner",
            "card_reader",
            "display",
            "payment_terminal",
        ] {
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

// --- durable queues: a held receipt and a lost card payment survive a restart ---------------

use pos_api::dto::TenderKindDto;
use pos_hardware::config::{Connection, DeviceConfig, PaymentTerminalConfig};

/// A register as `open` on `register.db` in a new temporary directory, with its own runtime:
/// (directory, database file, runtime, register).
fn open_fresh(
    country: pos_store::Country,
) -> (
    tempfile::TempDir,
    std::path::PathBuf,
    tokio::runtime::Runtime,
    Arc<Register>,
) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let rt = runtime();
    let r = open(&rt, &db, country);
    (dir, db, rt, r)
}

/// As `open`, with `devices`.
fn open_with(
    rt: &tokio::runtime::Runtime,
    db: &Path,
    country: pos_store::Country,
    devices: DeviceConfig,
) -> Arc<Register> {
    start_register_on(
        rt,
        RegisterConfig {
            devices,
            ..demo_config(db, "T01", 50, country)
        },
        Arc::new(Recorded::default()),
        FixedClock::at(time::macros::datetime!(2026-11-22 10:30 UTC)),
    )
}

/// An ESC/POS printer on TCP (like port 9100) that answers DLE EOT like a real one: with paper
/// out it reports "paper end" and the driver sends nothing; everything else it receives is paper.
#[derive(Default)]
struct TcpPrinterState {
    paper_out: bool,
    paper: Vec<u8>,
}

async fn tcp_printer(state: Arc<Mutex<TcpPrinterState>>) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let state = state.clone();
            tokio::spawn(async move {
                let mut pending: Vec<u8> = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    pending.extend_from_slice(&buf[..n]);
                    let mut answers = Vec::new();
                    let mut i = 0;
                    while i < pending.len() {
                        if pending[i] == 0x10 && pending.len() - i < 3 {
                            break; // a DLE EOT split across reads
                        }
                        if pending[i] == 0x10 && pending[i + 1] == 0x04 {
                            let out = state.lock().unwrap().paper_out;
                            answers.push(match (pending[i + 2], out) {
                                (1, true) => 0x1A,
                                (2, true) => 0x32,
                                (4, true) => 0x72,
                                _ => 0x12,
                            });
                            i += 3;
                        } else {
                            state.lock().unwrap().paper.push(pending[i]);
                            i += 1;
                        }
                    }
                    pending.drain(..i);
                    if !answers.is_empty() && stream.write_all(&answers).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn a_receipt_held_by_paper_out_survives_a_restart_and_prints_once_after_the_paper_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let rt = runtime();
    let printer = Arc::new(Mutex::new(TcpPrinterState {
        paper_out: true,
        ..Default::default()
    }));
    let port = rt.block_on(tcp_printer(printer.clone()));
    let mut devices = DeviceConfig::default();
    devices.printer.connection = Connection::Tcp {
        host: "127.0.0.1".into(),
        port,
    };
    devices.printer.retry_every_ms = 100;

    let receipt_number = {
        let r = open_with(&rt, &db, pos_store::Country::Es, devices.clone());
        let code = first_barcode(&db);
        rt.block_on(async {
            r.login("1234".into()).await.unwrap();
            let sale = r.scan(code).await.unwrap();
            let paid = r
                .pay(TenderKindDto::Cash, sale.total.minor + 1000)
                .await
                .unwrap();
            let number = paid.completed.unwrap().receipt_number;
            // The cashier is told: the printer reports paper out.
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let status = r.status().await.unwrap();
                let p = status
                    .devices
                    .iter()
                    .find(|d| d.device == "printer")
                    .unwrap();
                if p.detail.as_deref() == Some("paper_out") {
                    break;
                }
                assert!(Instant::now() < deadline, "no paper-out status: {p:?}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            r.shutdown().await;
            number
        })
    };
    assert!(
        printer.lock().unwrap().paper.is_empty(),
        "nothing reached paper while it was out"
    );

    // The app starts again on the same file; the paper is still out, then replaced.
    let r = open_with(&rt, &db, pos_store::Country::Es, devices);
    rt.block_on(async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(printer.lock().unwrap().paper.is_empty());
        printer.lock().unwrap().paper_out = false;
        let deadline = Instant::now() + Duration::from_secs(5);
        while printer.lock().unwrap().paper.is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Several more retry periods: a second copy would have come by now.
        tokio::time::sleep(Duration::from_millis(500)).await;
    });
    let paper = printer.lock().unwrap().paper.clone();
    let text = pos_hardware::escpos::decode(&paper).text(pos_hardware::escpos::PaperWidth::Mm80);
    let copies = text.matches(&receipt_number).count();
    assert!(copies >= 1, "the held receipt printed: {text}");
    assert_eq!(
        text.matches("TOTAL").count(),
        1,
        "printed exactly once after the paper was replaced:\n{text}"
    );
    rt.block_on(r.shutdown());
}

#[test]
fn a_card_payment_whose_outcome_was_lost_is_recovered_after_a_restart_without_a_second_charge() {
    use pos_hardware::zvt::ZvtTimeouts;
    use pos_hardware::zvt::sim::{Scenario, SimConfig, Simulator};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let rt = runtime();
    // The terminal is a separate device: it keeps its ledger across the register's restart.
    let sim = Simulator::new(SimConfig {
        magic_cents: false,
        drop_duration: Duration::from_millis(2500),
        ..SimConfig::default()
    });
    let addr = rt.block_on(sim.listen_tcp("127.0.0.1:0")).unwrap();
    let devices = DeviceConfig {
        payment_terminal: PaymentTerminalConfig {
            connection: Connection::Tcp {
                host: "127.0.0.1".into(),
                port: addr.port(),
            },
            password: 0,
            timeouts: ZvtTimeouts {
                recovery: Duration::from_secs(1),
                retry_pause: Duration::from_millis(100),
                ..ZvtTimeouts::default()
            },
        },
        ..DeviceConfig::default()
    };
    let code = {
        let r = open_with(&rt, &db, pos_store::Country::Es, devices.clone());
        let code = first_barcode(&db);
        rt.block_on(async {
            wait_for_terminal(&r).await;
            r.login("1234".into()).await.unwrap();
            // A first card sale: the terminal's receipt number becomes the baseline.
            let sale = r.scan(code.clone()).await.unwrap();
            let first = r.pay(TenderKindDto::Card, sale.total.minor).await.unwrap();
            assert!(first.completed.is_some());
            // The second: the terminal acknowledges, the link drops, the terminal books it
            // later. The register cannot learn the outcome before its recovery gives up.
            let sale = r.scan(code.clone()).await.unwrap();
            sim.push_scenario(Scenario::DropAfterAck);
            let e = r
                .pay(TenderKindDto::Card, sale.total.minor)
                .await
                .unwrap_err();
            assert_eq!(e.code, "pay.outcome_unknown", "{e:?}");
            // The customer may have been charged: no cash for this sale until it is settled.
            let e = r
                .pay(TenderKindDto::Cash, sale.total.minor)
                .await
                .unwrap_err();
            assert_eq!(e.code, "pay.card_outcome_pending");
            r.shutdown().await;
        });
        code
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.sales_count() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(sim.sales_count(), 2, "the terminal booked the lost payment");
    let charged_before = sim.net_charged();

    // Restart on the same file: the sale comes back at the payment step; paying by card again
    // returns the recovered approval instead of charging again.
    let r = open_with(&rt, &db, pos_store::Country::Es, devices);
    rt.block_on(async {
        wait_for_terminal(&r).await;
        r.login("1234".into()).await.unwrap();
        let sale = r.current_sale().await.unwrap();
        assert_eq!(sale.lines.len(), 1, "the sale in progress is back");
        assert!(sale.payment.tenders.is_empty());
        let deadline = Instant::now() + Duration::from_secs(10);
        let paid = loop {
            match r.pay(TenderKindDto::Card, sale.total.minor).await {
                Ok(p) => break p,
                // The start-up recovery holds the terminal for a moment.
                Err(e) if e.code == "pay.terminal_busy" && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("{e:?}"),
            }
        };
        let done = paid
            .completed
            .expect("the recovered payment completes the sale");
        assert_eq!(done.paid.minor, sale.total.minor);
        assert!(
            done.tenders[0]
                .reference
                .as_deref()
                .is_some_and(|r| r.ends_with("************1234")),
            "{:?}",
            done.tenders
        );
    });
    assert_eq!(sim.sales_count(), 2, "no second charge");
    assert_eq!(sim.net_charged(), charged_before);
    // The sale is on disk once.
    let c = rusqlite::Connection::open(&db).unwrap();
    let sales: i64 = c
        .query_row("SELECT COUNT(*) FROM sale", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sales, 2);
    let _ = code;
}

/// Waits until the payment terminal answers (as Admin), then logs out.
async fn wait_for_terminal(r: &Register) {
    support::wait_for_terminal(r).await;
    r.logout().await.unwrap();
}

// --- the payment terminal's slip on the customer receipt --------------------------------------

#[test]
fn the_terminal_slip_prints_after_the_tenders_in_every_language_with_only_the_masked_number() {
    for (country, heading, card_label) in [
        (
            pos_store::Country::Es,
            "Comprobante del datáfono",
            "Tarjeta",
        ),
        (pos_store::Country::Jp, "カード利用控え", "クレジット"),
        (pos_store::Country::Us, "Card terminal slip", "Card"),
    ] {
        let (_dir, db, rt, r) = open_fresh(country);
        let code = first_barcode(&db);
        rt.block_on(async {
            wait_for_terminal(&r).await;
            r.login("1234".into()).await.unwrap();
            // The demo terminal reads .01–.05 as "simulate a failure": avoid those totals.
            let mut sale = r.scan(code.clone()).await.unwrap();
            while (1..=5).contains(&(sale.total.minor % 100)) {
                sale = r.scan(code.clone()).await.unwrap();
            }
            let paid = r.pay(TenderKindDto::Card, sale.total.minor).await.unwrap();
            let shown = paid.completed.unwrap().receipt.lines.join("\n");
            let deadline = Instant::now() + Duration::from_secs(5);
            while r.printed_receipts().is_empty() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let printed = r.printed_receipts();
            assert_eq!(printed.len(), 1);
            let text = &printed[0];
            let tender = text.find(card_label).expect("the card tender");
            let slip = text
                .find(heading)
                .unwrap_or_else(|| panic!("{heading} missing:\n{text}"));
            assert!(tender < slip, "the slip follows the tenders:\n{text}");
            // The simulated terminal's own lines, verbatim.
            for line in ["KUNDENBELEG", "Karte: ************1234", "Zahlung erfolgt"] {
                assert!(text.contains(line), "{line} missing:\n{text}");
            }
            // Never a full card number: no run of digits that is a bank card number.
            assert!(
                !text
                    .split(|c: char| !c.is_ascii_digit())
                    .any(pos_hardware::card::is_bank_card),
                "{text}"
            );
            // The screen shows what prints.
            assert!(shown.contains(heading), "{shown}");
            // And the receipt found again after a restart still has the slip.
            let again = r.last_receipt().await.unwrap().unwrap().lines.join("\n");
            assert!(again.contains("Karte: ************1234"));
        });
    }
}

// --- developer panel and the test actions of Settings → Devices -------------------------------

#[test]
fn scan_something_now_shows_the_code_and_its_check_digit_without_touching_the_sale() {
    let (_dir, db, rt, r) = open_fresh(pos_store::Country::Es);
    let code = first_barcode(&db);
    rt.block_on(async {
        r.login("1234".into()).await.unwrap();
        let e = r.device_scan_test(500).await.unwrap_err();
        assert_eq!(e.code, "auth.forbidden", "a cashier may not");
        r.logout().await.unwrap();
        r.login("9999".into()).await.unwrap();

        let scan_soon = |code: String| {
            let r = r.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                r.simulate_scan(code).await.unwrap();
            })
        };
        scan_soon(code.clone());
        let seen = r.device_scan_test(5000).await.unwrap();
        assert_eq!(seen.code.as_deref(), Some(code.as_str()));
        assert_eq!(seen.verdict, "valid");
        // A wrong check digit: the scanner refuses it and the test says which digit is right.
        let last = code.as_bytes()[12] - b'0';
        let wrong = format!("{}{}", &code[..12], (last + 1) % 10);
        scan_soon(wrong);
        let seen = r.device_scan_test(5000).await.unwrap();
        assert_eq!(seen.verdict, "wrong_check_digit");
        assert_eq!(seen.expected_digit, Some(last));
        scan_soon("SKU-ABC".into());
        let seen = r.device_scan_test(5000).await.unwrap();
        assert_eq!(seen.verdict, "no_check_digit");
        // None of these went into the sale.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(r.current_sale().await.unwrap().lines.is_empty());
        // Nothing scanned: told so.
        let e = r.device_scan_test(200).await.unwrap_err();
        assert_eq!(e.code, "device.no_scan");
        // And afterwards a scan goes into the sale again.
        r.simulate_scan(code.clone()).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while r.current_sale().await.unwrap().lines.is_empty() {
            assert!(Instant::now() < deadline, "the scan did not reach the sale");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
}

#[test]
fn swipe_a_card_shows_a_masked_gift_card_and_refuses_a_bank_card() {
    let (_dir, _db, rt, r) = open_fresh(pos_store::Country::Es);
    rt.block_on(async {
        r.login("9999".into()).await.unwrap();
        let swipe_soon = |what: &'static str| {
            let r = r.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                r.simulate_device(what.into(), None).await.unwrap();
            })
        };
        swipe_soon("swipe_gift");
        let seen = r.device_swipe_test(5000).await.unwrap();
        assert_eq!(seen.result, "read");
        assert_eq!(seen.masked_number.as_deref(), Some("************0017"));
        swipe_soon("swipe_loyalty");
        let seen = r.device_swipe_test(5000).await.unwrap();
        assert_eq!(seen.holder.as_deref(), Some("GARCIA/ANA"));
        swipe_soon("swipe_bank");
        let seen = r.device_swipe_test(5000).await.unwrap();
        assert_eq!(seen.result, "bank_card_refused");
        assert_eq!(seen.masked_number, None, "nothing of a bank card is kept");
        let e = r.device_swipe_test(200).await.unwrap_err();
        assert_eq!(e.code, "device.no_swipe");
    });
}

#[test]
fn the_developer_panel_makes_the_next_payment_decline_busy_time_out_or_lose_the_link() {
    let (_dir, db, rt, r) = open_fresh(pos_store::Country::Es);
    let code = first_barcode(&db);
    rt.block_on(async {
        wait_for_terminal(&r).await;
        let sim = r
            .payment_simulator()
            .expect("the demo terminal is simulated");
        // Every device has a line in the status bar, the card reader and terminal included.
        let status = r.status().await.unwrap();
        for device in [
            "printer",
            "drawer",
            "scanner",
            "card_reader",
            "payment_terminal",
        ] {
            let d = status.devices.iter().find(|d| d.device == device);
            let d = d.unwrap_or_else(|| panic!("{device} missing: {:?}", status.devices));
            assert!(d.simulated, "{d:?}");
            assert_eq!(d.state, pos_api::dto::DeviceStateDto::Ready, "{d:?}");
        }
        r.login("1234".into()).await.unwrap();
        let mut sale = r.scan(code.clone()).await.unwrap();
        while (1..=5).contains(&(sale.total.minor % 100)) {
            sale = r.scan(code.clone()).await.unwrap();
        }
        let total = sale.total.minor;
        for (command, error) in [
            ("terminal_decline", "pay.card_declined"),
            ("terminal_busy", "pay.terminal_busy"),
        ] {
            r.simulate_device(command.into(), None).await.unwrap();
            let e = r.pay(TenderKindDto::Card, total).await.unwrap_err();
            assert_eq!(e.code, error);
        }
        assert_eq!(sim.net_charged(), 0, "nothing was charged");
        // Connection lost after the acknowledgement on this terminal's very first payment: the
        // charge found on the terminal cannot be told from an older one, so it is reversed and
        // the cashier is told nothing was charged.
        r.simulate_device("terminal_lost_after_ack".into(), None)
            .await
            .unwrap();
        let e = r.pay(TenderKindDto::Card, total).await.unwrap_err();
        assert_eq!(e.code, "pay.terminal_lost");
        assert_eq!(sim.net_charged(), 0, "booked and reversed");
        let paid = r.pay(TenderKindDto::Card, total).await.unwrap();
        assert!(paid.completed.is_some());
        assert_eq!(sim.net_charged(), total);
        // With a known last transaction, a lost link is recovered: approved, charged once.
        let mut sale = r.scan(code.clone()).await.unwrap();
        while (1..=5).contains(&(sale.total.minor % 100)) {
            sale = r.scan(code.clone()).await.unwrap();
        }
        r.simulate_device("terminal_lost_after_ack".into(), None)
            .await
            .unwrap();
        let paid = r.pay(TenderKindDto::Card, sale.total.minor).await.unwrap();
        assert!(paid.completed.is_some());
        let total = total + sale.total.minor;
        assert_eq!(sim.net_charged(), total, "charged exactly once");
        // A test payment: authorized and reversed, so nothing stays charged.
        let e = r.device_test_payment().await.unwrap_err();
        assert_eq!(e.code, "auth.forbidden");
        r.logout().await.unwrap();
        r.login("9999".into()).await.unwrap();
        let t = r.device_test_payment().await.unwrap();
        assert_eq!(t.amount.minor, 10);
        assert_ne!(t.receipt_no, t.reversal_receipt_no);
        assert_eq!(t.card.as_deref(), Some("Mastercard ************1234"));
        assert_eq!(sim.net_charged(), total, "the test payment was reversed");
    });
}

#[test]
fn a_silent_terminal_times_out_and_nothing_is_charged() {
    let (_dir, db, rt, r) = open_fresh(pos_store::Country::Es);
    let code = first_barcode(&db);
    rt.block_on(async {
        wait_for_terminal(&r).await;
        let sim = r.payment_simulator().unwrap();
        r.login("1234".into()).await.unwrap();
        let mut sale = r.scan(code.clone()).await.unwrap();
        while (1..=5).contains(&(sale.total.minor % 100)) {
            sale = r.scan(code.clone()).await.unwrap();
        }
        r.simulate_device("terminal_timeout".into(), None)
            .await
            .unwrap();
        let started = Instant::now();
        let e = r
            .pay(TenderKindDto::Card, sale.total.minor)
            .await
            .unwrap_err();
        assert_eq!(e.code, "pay.terminal_timeout");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(sim.net_charged(), 0);
    });
}

#[test]
fn a_58_mm_printer_chosen_in_the_settings_gets_receipts_laid_out_for_58_mm_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let rt = runtime();
    {
        let r = open(&rt, &db, pos_store::Country::Es);
        rt.block_on(async {
            r.login("0000".into()).await.unwrap();
            let saved = r
                .save_device_settings(
                    r#"{"printer": {"paper": "mm58", "model": "western"}}"#.into(),
                )
                .await
                .unwrap();
            assert!(saved.restart_needed, "applies at the next start");
        });
    }
    let r = open(&rt, &db, pos_store::Country::Es);
    let code = first_barcode(&db);
    rt.block_on(async {
        r.login("1234".into()).await.unwrap();
        let sale = r.scan(code).await.unwrap();
        r.pay(TenderKindDto::Cash, sale.total.minor + 500)
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while r.printed_receipts().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let text = &r.printed_receipts()[0];
        let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
        assert_eq!(widest, 32, "58 mm paper has 32 columns:\n{text}");
        assert!(text.contains("Efectivo"), "{text}");
    });
}
