//! The simulated device set the app uses when nothing is configured, driven through the same
//! traits the app uses and the developer panel's inject commands.

use std::sync::Arc;
use std::time::Duration;

use pos_hardware::card::CardError;
use pos_hardware::config::{DeviceConfig, Devices};
use pos_hardware::device::{
    DisplayLines, DrawerStatus, ErrorKind, PrinterStatus, ScanEvent, SwipeEvent,
};
use pos_hardware::printer::{JobState, MemoryJobStore, QueueEvent};
use pos_hardware::sim::SimCommand;

fn devices() -> Devices {
    let mut config = DeviceConfig::default();
    config.printer.retry_every_ms = 100;
    config.drawer.left_open_alert_s = 45;
    config.drawer.poll_ms = 250;
    Devices::from_config(&config, Arc::new(MemoryJobStore::new())).unwrap()
}

async fn next_queue_event(rx: &mut tokio::sync::broadcast::Receiver<QueueEvent>) -> QueueEvent {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("queue event")
        .unwrap()
}

#[tokio::test]
async fn the_default_configuration_is_a_full_simulated_set() {
    let d = devices();
    assert!(d.printer.is_some() && d.drawer.is_some() && d.scanner.is_some());
    assert!(d.card_reader.is_some() && d.display.is_some() && d.print_queue.is_some());

    let mut scans = d.scanner.as_ref().unwrap().scans();
    d.inject(SimCommand::Scan {
        code: "4006381333931".into(),
    })
    .unwrap();
    match scans.recv().await.unwrap() {
        ScanEvent::Scanned(s) => assert_eq!(s.code, "4006381333931"),
        other => panic!("{other:?}"),
    }

    let mut swipes = d.card_reader.as_ref().unwrap().swipes();
    d.inject(SimCommand::Swipe {
        raw: ";4111111111111111=29121010000000000000?".into(),
    })
    .unwrap();
    assert_eq!(
        swipes.recv().await.unwrap(),
        SwipeEvent::Refused(CardError::BankCard),
        "the developer panel cannot sneak a bank card in either"
    );

    let display = d.display.as_ref().unwrap();
    display
        .show(&DisplayLines {
            upper: "Café solo".into(),
            lower: "Total 1,20 €".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        d.simulators.display.as_ref().unwrap().current(),
        DisplayLines {
            upper: "Cafe solo".into(),
            lower: "Total 1,20 ?".into()
        },
        "the simulated pole display shows what a CD5220 would"
    );
}

#[tokio::test]
async fn simulated_paper_out_mid_receipt_prints_it_once_after_the_paper_is_replaced() {
    let d = devices();
    let queue = d.print_queue.as_ref().unwrap();
    let sim = d.simulators.printer.as_ref().unwrap();
    let mut events = queue.events();
    let job = pos_hardware::device::PrintJob::new(
        "S-1",
        b"\x1b@Sale S-1\nTotal 9.99\n\x1dVA\x00".to_vec(),
    );

    d.inject(SimCommand::PaperRunsOutAfter { bytes: 8 })
        .unwrap();
    queue.submit(job.clone()).unwrap();
    assert!(matches!(
        next_queue_event(&mut events).await,
        QueueEvent::Printing { .. }
    ));
    assert!(matches!(
        next_queue_event(&mut events).await,
        QueueEvent::Held {
            reason: ErrorKind::PaperOut,
            ..
        }
    ));
    assert_eq!(
        *d.printer.as_ref().unwrap().status().borrow(),
        PrinterStatus::PaperOut
    );

    d.inject(SimCommand::PaperReplaced).unwrap();
    loop {
        if let QueueEvent::Printed { id } = next_queue_event(&mut events).await {
            assert_eq!(id, job.id);
            break;
        }
    }
    assert_eq!(sim.printed_jobs(), vec![job.clone()]);
    assert_eq!(sim.paper().len(), 8 + job.bytes.len());
    assert_eq!(queue.state(&job.id).unwrap(), Some(JobState::Printed));
}

#[tokio::test]
async fn simulated_cover_open_and_offline_hold_jobs() {
    let d = devices();
    let queue = d.print_queue.as_ref().unwrap();
    let mut events = queue.events();
    d.inject(SimCommand::CoverOpen).unwrap();
    queue
        .submit(pos_hardware::device::PrintJob::new("S-2", b"x".to_vec()))
        .unwrap();
    loop {
        if let QueueEvent::Held { reason, .. } = next_queue_event(&mut events).await {
            assert_eq!(reason, ErrorKind::CoverOpen);
            break;
        }
    }
    d.inject(SimCommand::CoverClosed).unwrap();
    d.inject(SimCommand::PrinterOffline).unwrap();
    loop {
        if let QueueEvent::Held { reason, .. } = next_queue_event(&mut events).await {
            assert_eq!(reason, ErrorKind::Offline);
            break;
        }
    }
    d.inject(SimCommand::PrinterOnline).unwrap();
    loop {
        if let QueueEvent::Printed { .. } = next_queue_event(&mut events).await {
            break;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn simulated_drawer_left_open_alerts_after_the_configured_time() {
    let d = devices();
    let drawer = d.drawer.as_ref().unwrap();
    let mut status = drawer.status();
    drawer.open().await.unwrap();
    status.wait_for(|s| *s == DrawerStatus::Open).await.unwrap();
    let opened = tokio::time::Instant::now();

    tokio::time::sleep(Duration::from_secs(44)).await;
    assert_eq!(
        *status.borrow(),
        DrawerStatus::Open,
        "not yet: 45 s configured"
    );
    status
        .wait_for(|s| *s == DrawerStatus::LeftOpen)
        .await
        .unwrap();
    let after = opened.elapsed();
    assert!(
        after >= Duration::from_secs(45) && after < Duration::from_secs(46),
        "alert at {after:?}"
    );

    d.inject(SimCommand::CloseDrawer).unwrap();
    status
        .wait_for(|s| *s == DrawerStatus::Closed)
        .await
        .unwrap();
    assert_eq!(d.simulators.drawer.as_ref().unwrap().kicks(), 1);
}

#[test]
fn dev_panel_commands_are_plain_json() {
    let c: SimCommand = serde_json::from_str(r#"{"type":"scan","code":"123"}"#).unwrap();
    assert_eq!(c, SimCommand::Scan { code: "123".into() });
    let c: SimCommand =
        serde_json::from_str(r#"{"type":"paper_runs_out_after","bytes":40}"#).unwrap();
    assert_eq!(c, SimCommand::PaperRunsOutAfter { bytes: 40 });
}
