//! Scan-to-event latency over a socat virtual serial pair: the time from writing a barcode frame
//! on the "scanner" end to the `ScanEvent` arriving at a subscriber of `SerialScanner`.
//!
//! Run: `cargo run -p pos-hardware --release --example scan_latency [-- N]` (needs socat).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pos_hardware::device::{BarcodeScanner, LinkStatus, ScanEvent};
use pos_hardware::scanner::{FrameOptions, SerialScanner, Suffix};
use pos_hardware::transport::SerialSettings;

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let dir = std::env::temp_dir().join(format!("scan-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (host, dev) = (dir.join("ttyHOST"), dir.join("ttyDEV"));
    let mut socat = Command::new("socat")
        .arg(format!("pty,raw,echo=0,link={}", host.display()))
        .arg(format!("pty,raw,echo=0,link={}", dev.display()))
        .stderr(Stdio::null())
        .spawn()
        .expect("socat is needed (apt-get install socat)");
    while !(host.exists() && dev.exists()) {
        std::thread::sleep(Duration::from_millis(10));
    }

    let scanner = SerialScanner::open(
        SerialSettings::new(host.display().to_string(), 9600),
        FrameOptions {
            suffix: Suffix::Cr,
            inter_byte_timeout: Duration::from_millis(50),
            max_len: 64,
        },
    );
    let mut events = scanner.scans();
    scanner
        .status()
        .wait_for(|s| *s == LinkStatus::Connected)
        .await
        .unwrap();
    let mut port = serialport::new(dev.display().to_string(), 9600)
        .timeout(Duration::from_secs(1))
        .open()
        .unwrap();

    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let code = if i % 2 == 0 {
            "4006381333931"
        } else {
            "96385074"
        };
        let t0 = Instant::now();
        port.write_all(format!("{code}\r").as_bytes()).unwrap();
        match tokio::time::timeout(Duration::from_secs(2), events.recv()).await {
            Ok(Ok(ScanEvent::Scanned(s))) if s.code == code => lat.push(t0.elapsed()),
            other => panic!("scan {i}: {other:?}"),
        }
    }
    let _ = Command::new("kill").arg(socat.id().to_string()).status();
    let _ = socat.wait();
    let _ = std::fs::remove_dir_all(&dir);

    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1];
    println!(
        "scan-to-event over a socat pair, {n} scans: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        lat[lat.len() - 1].as_secs_f64() * 1e3
    );
}
