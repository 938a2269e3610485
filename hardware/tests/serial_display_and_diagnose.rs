//! The CD5220 customer display driver and "diagnose devices" over real socat pairs.

mod support;

use std::io::Read;
use std::time::{Duration, Instant};

use pos_hardware::config::{Connection, DeviceConfig, DrawerConnection};
use pos_hardware::device::{CustomerDisplay, DisplayLines};
use pos_hardware::diagnose::{CheckResult, DeviceKind, diagnose};
use pos_hardware::display::Cd5220Display;
use pos_hardware::transport::{SerialSettings, SerialTransport};
use support::{FakePrinter, SocatPair, open_device_end};

fn read_for(port: &mut Box<dyn serialport::SerialPort>, want: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut buf = [0u8; 256];
    while out.len() < want && Instant::now() < deadline {
        if let Ok(n) = port.read(&mut buf) {
            out.extend_from_slice(&buf[..n]);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_display_receives_cd5220_commands() {
    let pair = SocatPair::start();
    let mut dev = open_device_end(&pair.device);
    let display = Cd5220Display::new(
        Box::new(SerialTransport::new(SerialSettings::new(
            pair.host_path(),
            9600,
        ))),
        20,
    );
    display
        .show(&DisplayLines {
            upper: "Agua 0,50".into(),
            lower: "Total 3,10".into(),
        })
        .await
        .unwrap();
    display.clear().await.unwrap();
    let got = read_for(&mut dev, 2 + 24 + 24 + 1);
    let mut want = b"\x1b@\x1bQAAgua 0,50           \r\x1bQBTotal 3,10          \r".to_vec();
    want.push(0x0C);
    assert_eq!(got, want, "init once, two fixed-width lines, then clear");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnose_finds_the_ports_and_asks_the_configured_printer() {
    let pair = SocatPair::start();
    let fake = FakePrinter::start(&pair.device);
    fake.state().drawer_pin_high = true;
    let missing = pair.dir.path().join("ttyNOTHERE").display().to_string();

    let mut config = DeviceConfig::default();
    config.printer.connection = Connection::Serial {
        path: pair.host_path(),
        baud: 9600,
        flow_control: Default::default(),
    };
    config.drawer.connection = DrawerConnection::ThroughPrinter;
    config.scanner.connection = Connection::Serial {
        path: missing,
        baud: 9600,
        flow_control: Default::default(),
    };
    config.card_reader.connection = Connection::None;

    let report = diagnose(&config).await;
    let check = |k: DeviceKind| {
        report
            .configured
            .iter()
            .find(|c| c.device == k)
            .unwrap()
            .result
            .clone()
    };
    assert_eq!(
        check(DeviceKind::Printer),
        CheckResult::Answered {
            detail: "Online".into()
        }
    );
    assert_eq!(
        check(DeviceKind::Drawer),
        CheckResult::Answered {
            detail: "drawer is open".into()
        }
    );
    assert!(
        matches!(
            check(DeviceKind::Scanner),
            CheckResult::Failed {
                kind: pos_hardware::device::ErrorKind::Disconnected,
                ..
            }
        ),
        "{:?}",
        check(DeviceKind::Scanner)
    );
    assert_eq!(check(DeviceKind::CardReader), CheckResult::NotConfigured);
    assert_eq!(check(DeviceKind::Display), CheckResult::Simulated);
    assert!(
        fake.state().status_requests >= 4,
        "it really asked the printer"
    );
    // The JSON the settings screen receives.
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["serial_ports"].is_array() && json["configured"].is_array());
}
