//! Real-wire printer tests: our ESC/POS driver and print queue on the real serialport crate,
//! over a socat pty pair, against a fake printer (tests/support) that answers DLE EOT.

mod support;

use std::sync::Arc;
use std::time::Duration;

use pos_hardware::device::{
    CashDrawer, DeviceError, DrawerStatus, ErrorKind, PrintJob, PrinterStatus, ReceiptPrinter,
};
use pos_hardware::drawer::{DrawerPulse, DrawerWatchOptions, OpenLevel, PrinterDrawer};
use pos_hardware::printer::{
    EscPosPrinter, JobState, MemoryJobStore, PrintQueue, PrinterTimeouts, QueueEvent, QueueOptions,
    Submitted,
};
use pos_hardware::transport::{SerialSettings, SerialTransport};
use support::{Answer, FakeCommand, FakePrinter, SocatPair, occurrences, receipt};
use tokio::sync::broadcast;

fn printer_on(pair: &SocatPair) -> Arc<EscPosPrinter> {
    EscPosPrinter::new(
        Box::new(SerialTransport::new(SerialSettings::new(
            pair.host_path(),
            9600,
        ))),
        PrinterTimeouts {
            status: Duration::from_millis(1000),
            write: Duration::from_secs(5),
        },
    )
}

fn queue_for(printer: Arc<EscPosPrinter>) -> PrintQueue {
    PrintQueue::start(
        printer,
        Arc::new(MemoryJobStore::new()),
        QueueOptions {
            retry_every: Duration::from_millis(100),
        },
    )
    .unwrap()
}

/// Waits for the first event matching `pred` (10 s at most).
async fn expect_event(
    events: &mut broadcast::Receiver<QueueEvent>,
    what: &str,
    pred: impl Fn(&QueueEvent) -> bool,
) -> QueueEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(ev)) if pred(&ev) => return ev,
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => panic!("queue events closed while waiting for {what}: {e}"),
            Err(_) => panic!("no {what} within 10 s"),
        }
    }
}

fn is_printed(id: &str) -> impl Fn(&QueueEvent) -> bool + '_ {
    move |ev| matches!(ev, QueueEvent::Printed { id: j } if j.0 == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_out_mid_job_keeps_the_receipt_and_prints_it_once_in_full_after_recovery() {
    let pair = SocatPair::start();
    let fake = FakePrinter::start(&pair.device);
    fake.state().runs_out_after = Some(60);
    let printer = printer_on(&pair);
    let queue = queue_for(printer.clone());
    let mut events = queue.events();
    let job = receipt("R-0001", 12);

    assert_eq!(queue.submit(job.clone()).unwrap(), Submitted::Queued);
    let held = expect_event(&mut events, "a held event", |e| {
        matches!(e, QueueEvent::Held { .. })
    })
    .await;
    assert!(
        matches!(held, QueueEvent::Held { reason: ErrorKind::PaperOut, ref message, .. } if message.contains("paper")),
        "the cashier is told the paper ran out: {held:?}"
    );
    assert_eq!(*printer.status().borrow(), PrinterStatus::PaperOut);
    assert_ne!(
        queue.state(&job.id).unwrap(),
        Some(JobState::Printed),
        "the job stays in the queue"
    );
    assert_eq!(
        fake.state().paper.len(),
        60,
        "only 60 bytes fit on the old roll"
    );

    // The cashier loads a new roll.
    fake.state().paper_out = false;
    expect_event(&mut events, "the receipt printed", is_printed("R-0001")).await;
    assert_eq!(queue.state(&job.id).unwrap(), Some(JobState::Printed));

    // Give a wrong implementation time to print it again, then look at the paper.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let paper = fake.state().paper.clone();
    assert_eq!(
        occurrences(&paper, &job.bytes),
        1,
        "the whole receipt is on paper exactly once"
    );
    assert_eq!(
        paper.len(),
        60 + job.bytes.len(),
        "nothing but the stub and one full copy"
    );
    assert_eq!(
        fake.state()
            .commands
            .iter()
            .filter(|c| **c == FakeCommand::Cut)
            .count(),
        1,
        "one cut: one receipt"
    );

    // Submitting the same receipt again (a retry from the app) prints nothing.
    assert_eq!(
        queue.submit(job.clone()).unwrap(),
        Submitted::AlreadyKnown(JobState::Printed)
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.state().paper.len(), paper.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pulled_cable_holds_the_receipt_and_it_prints_after_replugging() {
    let mut pair = SocatPair::start();
    let fake = FakePrinter::start(&pair.device);
    let printer = printer_on(&pair);
    let queue = queue_for(printer.clone());
    let mut events = queue.events();

    let first = receipt("R-0100", 3);
    queue.submit(first.clone()).unwrap();
    expect_event(&mut events, "the first receipt", is_printed("R-0100")).await;

    pair.unplug();
    let second = receipt("R-0101", 5);
    queue.submit(second.clone()).unwrap();
    let held = expect_event(&mut events, "a held event", |e| {
        matches!(e, QueueEvent::Held { .. })
    })
    .await;
    assert!(
        matches!(
            held,
            QueueEvent::Held {
                reason: ErrorKind::Disconnected | ErrorKind::Timeout,
                ..
            }
        ),
        "{held:?}"
    );
    assert_eq!(*printer.status().borrow(), PrinterStatus::Disconnected);
    tokio::time::sleep(Duration::from_millis(300)).await;

    pair.replug();
    expect_event(&mut events, "the second receipt", is_printed("R-0101")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let paper = fake.state().paper.clone();
    assert_eq!(occurrences(&paper, &first.bytes), 1);
    assert_eq!(occurrences(&paper, &second.bytes), 1);
    assert_eq!(*printer.status().borrow(), PrinterStatus::Online);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_cover_holds_the_receipt_until_closed() {
    let pair = SocatPair::start();
    let fake = FakePrinter::start(&pair.device);
    fake.state().cover_open = true;
    let printer = printer_on(&pair);
    let queue = queue_for(printer.clone());
    let mut events = queue.events();
    let job = receipt("R-0200", 4);
    queue.submit(job.clone()).unwrap();

    let held = expect_event(&mut events, "a held event", |e| {
        matches!(e, QueueEvent::Held { .. })
    })
    .await;
    assert!(
        matches!(
            held,
            QueueEvent::Held {
                reason: ErrorKind::CoverOpen,
                ..
            }
        ),
        "{held:?}"
    );
    assert_eq!(*printer.status().borrow(), PrinterStatus::CoverOpen);
    assert!(
        fake.state().paper.is_empty(),
        "nothing is sent while the cover is open"
    );

    fake.state().cover_open = false;
    expect_event(&mut events, "the receipt", is_printed("R-0200")).await;
    assert_eq!(occurrences(&fake.state().paper, &job.bytes), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_printer_times_out_with_a_typed_error_and_gets_nothing() {
    let pair = SocatPair::start();
    let fake = FakePrinter::start(&pair.device);
    fake.state().answer = Answer::Silent;
    let printer = printer_on(&pair);

    let err = printer.query_status().await.unwrap_err();
    assert!(matches!(err, DeviceError::Timeout(_)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    let err = printer
        .print(&PrintJob::new("R-0300", b"\x1b@HELLO\n".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(*printer.status().borrow(), PrinterStatus::Disconnected);
    assert!(
        fake.state().paper.is_empty(),
        "no job goes to a printer that does not answer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_status_byte_is_a_protocol_error_not_a_status() {
    let pair = SocatPair::start();
    let fake = FakePrinter::start(&pair.device);
    fake.state().answer = Answer::Invalid;
    let printer = printer_on(&pair);

    let err = printer.query_status().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.to_string().contains("0xff"), "{err}");
    let err = printer
        .print(&PrintJob::new("R-0400", b"\x1b@HELLO\n".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(fake.state().paper.is_empty());

    // Once the line is sane again the printer works.
    fake.state().answer = Answer::Normal;
    assert_eq!(printer.query_status().await.unwrap(), PrinterStatus::Online);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drawer_kick_followed_by_a_cut_keeps_the_cut() {
    let pair = SocatPair::start();
    let fake = FakePrinter::start(&pair.device);
    let printer = printer_on(&pair);
    let drawer = PrinterDrawer::new(
        printer.clone(),
        DrawerPulse::default(),
        OpenLevel::High,
        DrawerWatchOptions::default(),
    );

    drawer.open().await.unwrap();
    let mut job = receipt("R-0500", 2);
    // A job that itself ends with a kick and then the cut.
    let cut = job.bytes.split_off(job.bytes.len() - 4);
    job.bytes.extend_from_slice(&DrawerPulse::default().bytes());
    job.bytes.extend_from_slice(&cut);
    printer.print(&job).await.unwrap();

    let commands = fake.state().commands.clone();
    let kick = FakeCommand::Kick {
        m: 0,
        t1: 25,
        t2: 250,
    };
    assert_eq!(
        commands,
        vec![kick.clone(), FakeCommand::Init, kick, FakeCommand::Cut],
        "both pulse times are sent, so the printer does not eat the cut"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drawer_left_open_raises_the_alert_and_closing_clears_it() {
    let pair = SocatPair::start();
    let fake = FakePrinter::start(&pair.device);
    fake.state().kick_opens_drawer = true;
    let printer = printer_on(&pair);
    let drawer = PrinterDrawer::new(
        printer.clone(),
        DrawerPulse::default(),
        OpenLevel::High,
        DrawerWatchOptions {
            poll_every: Duration::from_millis(50),
            alert_after: Duration::from_millis(600),
        },
    );
    let mut status = drawer.status();
    status
        .wait_for(|s| *s == DrawerStatus::Closed)
        .await
        .unwrap();

    drawer.open().await.unwrap();
    let opened = tokio::time::Instant::now();
    tokio::time::timeout(
        Duration::from_secs(5),
        status.wait_for(|s| *s == DrawerStatus::Open),
    )
    .await
    .expect("drawer reported open")
    .unwrap();
    assert!(drawer.is_open().await.unwrap());
    tokio::time::timeout(
        Duration::from_secs(5),
        status.wait_for(|s| *s == DrawerStatus::LeftOpen),
    )
    .await
    .expect("left-open alert")
    .unwrap();
    assert!(
        opened.elapsed() >= Duration::from_millis(600),
        "not before the configured time"
    );

    fake.state().drawer_pin_high = false;
    tokio::time::timeout(
        Duration::from_secs(5),
        status.wait_for(|s| *s == DrawerStatus::Closed),
    )
    .await
    .expect("closed again")
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_sent_but_never_confirmed_is_not_printed_again_by_itself() {
    let pair = SocatPair::start();
    let fake = FakePrinter::start(&pair.device);
    fake.state().silent_after_data = true;
    let printer = printer_on(&pair);
    let queue = queue_for(printer.clone());
    let mut events = queue.events();
    let job = receipt("R-0600", 3);
    queue.submit(job.clone()).unwrap();

    expect_event(
        &mut events,
        "the job interrupted",
        |e| matches!(e, QueueEvent::Interrupted { id } if id.0 == "R-0600"),
    )
    .await;
    assert_eq!(queue.state(&job.id).unwrap(), Some(JobState::Interrupted));

    // The printer answers again; the next receipt prints, the unconfirmed one does not.
    {
        let mut s = fake.state();
        s.silent_after_data = false;
        s.answer = Answer::Normal;
    }
    let next = receipt("R-0601", 2);
    queue.submit(next.clone()).unwrap();
    expect_event(&mut events, "the next receipt", is_printed("R-0601")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        occurrences(&fake.state().paper, &job.bytes),
        1,
        "not resent by itself"
    );
    assert_eq!(
        queue.list(JobState::Interrupted).unwrap(),
        vec![job.id.clone()]
    );

    // The cashier looked and asks for it again: a deliberate reprint.
    queue.reprint(&job.id).unwrap();
    expect_event(&mut events, "the reprint", is_printed("R-0600")).await;
    assert_eq!(occurrences(&fake.state().paper, &job.bytes), 2);
}
