//! Guest program of the QEMU device test (hardware/tests/qemu): a uinput keyboard-wedge
//! "barcode scanner" types codes; our real `HidScanner` (evdev + exclusive grab) must turn them
//! into scans, and a second reader of the same node (another app) must see no key at all.
//! Prints `HID-SCANNER-OK` and exits 0 on success. Needs /dev/uinput (Linux).

#[cfg(target_os = "linux")]
#[tokio::main]
async fn main() {
    use std::time::Duration;

    use evdev::uinput::VirtualDevice;
    use evdev::{AttributeSet, EventType, InputEvent, KeyCode};
    use pos_hardware::device::{BarcodeScanner, LinkStatus, ScanEvent};
    use pos_hardware::scanner::HidScanner;

    let keys_for = |c: char| -> (KeyCode, bool) {
        use KeyCode as K;
        match c {
            '0' => (K::KEY_0, false),
            '1' => (K::KEY_1, false),
            '2' => (K::KEY_2, false),
            '3' => (K::KEY_3, false),
            '4' => (K::KEY_4, false),
            '5' => (K::KEY_5, false),
            '6' => (K::KEY_6, false),
            '7' => (K::KEY_7, false),
            '8' => (K::KEY_8, false),
            '9' => (K::KEY_9, false),
            'A' => (K::KEY_A, true),
            'B' => (K::KEY_B, true),
            '-' => (K::KEY_MINUS, false),
            '\n' => (K::KEY_ENTER, false),
            other => panic!("no key for {other:?}"),
        }
    };
    let mut keys = AttributeSet::<KeyCode>::new();
    for c in "0123456789AB-\n".chars() {
        keys.insert(keys_for(c).0);
    }
    keys.insert(KeyCode::KEY_LEFTSHIFT);
    let mut vdev = VirtualDevice::builder()
        .unwrap()
        .name("Fake HID Barcode Scanner")
        .with_keys(&keys)
        .unwrap()
        .build()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let node = vdev
        .enumerate_dev_nodes_blocking()
        .unwrap()
        .map(|p| p.unwrap())
        .find(|p| p.to_string_lossy().contains("event"))
        .expect("uinput event node");
    println!("uinput scanner at {}", node.display());

    let found = pos_hardware::diagnose::list_input_devices();
    assert!(
        found
            .iter()
            .any(|d| d.path == node.display().to_string() && d.looks_like_scanner),
        "diagnose lists the scanner: {found:?}"
    );

    // "Another app" reading the same keyboard.
    let other = evdev::Device::open(&node).unwrap();
    other.set_nonblocking(true).unwrap();
    let mut other = other;

    let scanner = HidScanner::open(&node);
    let mut scans = scanner.scans();
    scanner
        .status()
        .wait_for(|s| *s == LinkStatus::Connected)
        .await
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));

    let mut type_code = |code: &str, pace: Duration| {
        for c in code.chars().chain(std::iter::once('\n')) {
            let (k, shift) = keys_for(c);
            if shift {
                vdev.emit(&[InputEvent::new(
                    EventType::KEY.0,
                    KeyCode::KEY_LEFTSHIFT.code(),
                    1,
                )])
                .unwrap();
            }
            vdev.emit(&[InputEvent::new(EventType::KEY.0, k.code(), 1)])
                .unwrap();
            vdev.emit(&[InputEvent::new(EventType::KEY.0, k.code(), 0)])
                .unwrap();
            if shift {
                vdev.emit(&[InputEvent::new(
                    EventType::KEY.0,
                    KeyCode::KEY_LEFTSHIFT.code(),
                    0,
                )])
                .unwrap();
            }
            std::thread::sleep(pace);
        }
    };
    // A fast scanner sends one HID report per millisecond or two; with no pause at all the
    // kernel's per-reader evdev buffer (64 events) can overflow under emulation.
    let codes = ["4006381333931", "AB-12"];
    for code in codes {
        type_code(code, Duration::from_millis(2));
    }
    for code in codes {
        match tokio::time::timeout(Duration::from_secs(5), scans.recv()).await {
            Ok(Ok(ScanEvent::Scanned(s))) if s.code == code => println!("scanned {code}"),
            other => panic!("expected scan {code}, got {other:?}"),
        }
    }
    // A burst with no pause may overflow the kernel buffer: every code that comes out must
    // then be either complete or rejected — never a shortened, wrong code.
    for _ in 0..8 {
        type_code("5901234123457", Duration::ZERO);
    }
    type_code("96385074", Duration::from_millis(2));
    let (mut whole, mut rejected) = (0, 0);
    loop {
        match tokio::time::timeout(Duration::from_secs(5), scans.recv()).await {
            Ok(Ok(ScanEvent::Scanned(s))) if s.code == "5901234123457" => whole += 1,
            Ok(Ok(ScanEvent::Scanned(s))) if s.code == "96385074" => break,
            Ok(Ok(ScanEvent::Rejected(e))) => {
                rejected += 1;
                println!("burst: rejected ({e})");
            }
            other => panic!("a burst produced a wrong event: {other:?}"),
        }
    }
    println!("burst of 8 codes: {whole} whole, {rejected} rejected, none wrong");
    let leaked: Vec<_> = match other.fetch_events() {
        Ok(evs) => evs.filter(|e| e.event_type() == EventType::KEY).collect(),
        Err(_) => Vec::new(),
    };
    assert!(
        leaked.is_empty(),
        "the grab keeps scans away from other readers, but they saw {} key events",
        leaked.len()
    );
    println!("HID-SCANNER-OK");
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("the HID scanner test needs Linux (evdev, uinput)");
    std::process::exit(2);
}
