//! The ESC/POS driver over TCP (a network printer on port 9100), against a fake printer
//! listening on 127.0.0.1: status, a job, and a printer that restarts (connection dropped).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pos_hardware::device::{PrintJob, PrinterStatus, ReceiptPrinter};
use pos_hardware::printer::{EscPosPrinter, PrinterTimeouts};
use pos_hardware::transport::TcpTransport;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Accepts connections; answers DLE EOT n with "online"; records everything else. Each
/// connection is closed once a job has been received and its after-job status answered
/// (a printer rebooting between receipts).
async fn fake_network_printer(listener: TcpListener, paper: Arc<Mutex<Vec<u8>>>) {
    loop {
        let (mut sock, _) = listener.accept().await.unwrap();
        let paper = paper.clone();
        tokio::spawn(async move {
            let mut pending = Vec::new();
            let mut seen = 0;
            let mut buf = [0u8; 512];
            loop {
                let n = match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                for &b in &buf[..n] {
                    pending.push(b);
                    match pending.as_slice() {
                        [0x10] | [0x10, 0x04] => {}
                        [0x10, 0x04, n] => {
                            let n = *n;
                            pending.clear();
                            if sock.write_all(&[0x12]).await.is_err() {
                                return;
                            }
                            if n == 4 && seen > 0 {
                                return;
                            }
                        }
                        _ => {
                            seen += pending.len();
                            paper.lock().unwrap().append(&mut pending);
                        }
                    }
                }
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prints_over_tcp_and_reconnects_after_the_printer_drops_the_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let paper = Arc::new(Mutex::new(Vec::new()));
    tokio::spawn(fake_network_printer(listener, paper.clone()));

    let printer = EscPosPrinter::new(
        Box::new(TcpTransport::new("127.0.0.1", port)),
        PrinterTimeouts {
            status: Duration::from_millis(500),
            write: Duration::from_secs(2),
        },
    );
    assert_eq!(printer.query_status().await.unwrap(), PrinterStatus::Online);
    let job = PrintJob::new("T-1", b"\x1b@network receipt\n\x1dVA\x00".to_vec());
    printer.print(&job).await.unwrap();
    assert_eq!(*paper.lock().unwrap(), job.bytes);

    // The fake closed the connection after the job: the next call notices and the one after
    // it connects again.
    let mut ok = false;
    for _ in 0..3 {
        if printer
            .print(&PrintJob::new("T-2", b"second\n".to_vec()))
            .await
            .is_ok()
        {
            ok = true;
            break;
        }
    }
    assert!(ok, "the driver reconnects to the network printer");
    assert!(paper.lock().unwrap().ends_with(b"second\n"));
}

#[tokio::test]
async fn nothing_listening_is_a_disconnected_printer() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let printer = EscPosPrinter::new(
        Box::new(TcpTransport::new("127.0.0.1", port)),
        PrinterTimeouts::default(),
    );
    let err = printer.query_status().await.unwrap_err();
    assert_eq!(
        err.kind(),
        pos_hardware::device::ErrorKind::Disconnected,
        "{err}"
    );
    assert_eq!(*printer.status().borrow(), PrinterStatus::Disconnected);
}
