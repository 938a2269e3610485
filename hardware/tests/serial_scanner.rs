//! Real-wire scanner tests: SerialScanner on the real serialport crate over a socat pty pair;
//! the test writes what a scanner would send on the other end.

mod support;

use std::io::Write;
use std::time::Duration;

use pos_hardware::device::{BarcodeScanner, LinkStatus, ScanError, ScanEvent};
use pos_hardware::scanner::{FrameOptions, SerialScanner, Suffix};
use support::{SocatPair, open_device_end};
use tokio::sync::broadcast;

async fn next(events: &mut broadcast::Receiver<ScanEvent>) -> ScanEvent {
    tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("a scan event within 5 s")
        .expect("scanner channel open")
}

fn scanned(code: &str) -> impl Fn(&ScanEvent) -> bool + '_ {
    move |e| matches!(e, ScanEvent::Scanned(s) if s.code == code)
}

async fn wait_connected(scanner: &SerialScanner) {
    let mut st = scanner.status();
    tokio::time::timeout(
        Duration::from_secs(5),
        st.wait_for(|s| *s == LinkStatus::Connected),
    )
    .await
    .expect("scanner connects")
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_merged_and_garbage_frames() {
    let pair = SocatPair::start();
    let scanner = SerialScanner::open(
        pos_hardware::transport::SerialSettings::new(pair.host_path(), 9600),
        FrameOptions {
            suffix: Suffix::Cr,
            inter_byte_timeout: Duration::from_millis(150),
            max_len: 48,
        },
    );
    let mut events = scanner.scans();
    wait_connected(&scanner).await;
    let mut dev = open_device_end(&pair.device);

    // One code split over two writes, 30 ms apart (inside the inter-byte timeout).
    dev.write_all(b"40063").unwrap();
    std::thread::sleep(Duration::from_millis(30));
    dev.write_all(b"81333931\r").unwrap();
    let e = next(&mut events).await;
    assert!(scanned("4006381333931")(&e), "{e:?}");

    // Two codes merged into one write.
    dev.write_all(b"96385074\r5901234123457\r").unwrap();
    let (a, b) = (next(&mut events).await, next(&mut events).await);
    assert!(scanned("96385074")(&a), "{a:?}");
    assert!(scanned("5901234123457")(&b), "{b:?}");

    // Garbage bytes, an overlong frame, a wrong check digit: rejected, never scans; a good
    // code after them still comes through.
    dev.write_all(&[0x00, 0xFF, 0x1B, b'1', b'2', b'\r'])
        .unwrap();
    dev.write_all(&[b'7'; 200]).unwrap();
    dev.write_all(b"\r4006381333932\r12345670\r").unwrap();
    assert_eq!(
        next(&mut events).await,
        ScanEvent::Rejected(ScanError::Garbage)
    );
    assert_eq!(
        next(&mut events).await,
        ScanEvent::Rejected(ScanError::TooLong { max: 48 })
    );
    assert!(matches!(
        next(&mut events).await,
        ScanEvent::Rejected(ScanError::CheckDigit(_))
    ));
    let e = next(&mut events).await;
    assert!(scanned("12345670")(&e), "{e:?}");

    // A frame cut off by silence is incomplete; the next frame is read normally.
    dev.write_all(b"123").unwrap();
    std::thread::sleep(Duration::from_millis(400));
    dev.write_all(b"96385074\r").unwrap();
    assert_eq!(
        next(&mut events).await,
        ScanEvent::Rejected(ScanError::Incomplete)
    );
    let e = next(&mut events).await;
    assert!(scanned("96385074")(&e), "{e:?}");

    // Nothing else arrived.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(events.try_recv().is_err(), "no extra events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crlf_suffix_and_reconnect_after_unplug() {
    let mut pair = SocatPair::start();
    let scanner = SerialScanner::open(
        pos_hardware::transport::SerialSettings::new(pair.host_path(), 9600),
        FrameOptions {
            suffix: Suffix::CrLf,
            inter_byte_timeout: Duration::from_millis(100),
            max_len: 64,
        },
    );
    let mut events = scanner.scans();
    wait_connected(&scanner).await;
    {
        let mut dev = open_device_end(&pair.device);
        dev.write_all(b"SKU-42\r\n").unwrap();
        let e = next(&mut events).await;
        assert!(scanned("SKU-42")(&e), "{e:?}");
    }

    pair.unplug();
    let mut st = scanner.status();
    tokio::time::timeout(
        Duration::from_secs(5),
        st.wait_for(|s| *s == LinkStatus::Disconnected),
    )
    .await
    .expect("unplug noticed")
    .unwrap();

    pair.replug();
    wait_connected(&scanner).await;
    let mut dev = open_device_end(&pair.device);
    dev.write_all(b"]E05901234123457\r\n").unwrap();
    match next(&mut events).await {
        ScanEvent::Scanned(s) => {
            assert_eq!(s.code, "5901234123457");
            assert_eq!(
                s.symbology,
                Some(pos_hardware::device::Symbology::Ean13),
                "AIM ]E0 is EAN-13"
            );
        }
        other => panic!("{other:?}"),
    }
}
