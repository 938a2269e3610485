//! The ZVT driver against the simulator over a real serial line: a socat pty pair, the real
//! `serialport` crate on both ends, DLE/STX framing with CRC and ACK/NAK bytes. socat is
//! started by each test and killed by its PID.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pos_core::{Currency, Money};
use pos_hardware::payment::{InMemoryPendingStore, PaymentError, PaymentTerminal};
use pos_hardware::zvt::sim::{EntryKind, Scenario, SimConfig, Simulator};
use pos_hardware::zvt::{ZvtConfig, ZvtTerminal, ZvtTimeouts, ZvtTransport};

mod support;

use support::SocatPair;

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::Eur)
}

struct Rig {
    _pair: SocatPair,
    sim: Simulator,
    terminal: ZvtTerminal,
}

fn rig(sim_config: SimConfig) -> Rig {
    let pair = SocatPair::start();
    let sim = Simulator::new(sim_config);
    sim.serve_serial(pair.device.to_str().unwrap(), 9600)
        .expect("simulator opens its end");
    let mut config = ZvtConfig::new(
        ZvtTransport::serial(pair.host.to_str().unwrap()),
        Currency::Eur,
    );
    config.timeouts = ZvtTimeouts {
        connect: Duration::from_secs(2),
        ack: Duration::from_secs(3),
        idle: Duration::from_millis(1500),
        overall: Duration::from_secs(20),
        abort_grace: Duration::from_secs(2),
        recovery: Duration::from_secs(20),
        retry_pause: Duration::from_millis(200),
    };
    let terminal = ZvtTerminal::new(config, Arc::new(InMemoryPendingStore::new()));
    Rig {
        _pair: pair,
        sim,
        terminal,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serial_approve_decline_and_timeout() {
    let r = rig(SimConfig::default());
    let info = r
        .terminal
        .register()
        .await
        .expect("registration over serial");
    assert_eq!(info.terminal_id.as_deref(), Some("52523535"));
    assert!(info.transport.starts_with("serial "));

    // 16,10 EUR puts DLE (0x10) into the amount: the framing must double it.
    let a = r
        .terminal
        .authorize(eur(1610), "s-1")
        .await
        .expect("approved");
    assert_eq!(a.amount, eur(1610));
    assert_eq!(a.masked_pan().as_deref(), Some("************1234"));
    assert!(a.slip_lines.iter().any(|l| l == "Betrag: EUR 16,10"));
    assert_eq!(r.sim.net_charged(), 1610);

    r.sim.push_scenario(Scenario::Decline { code: 0x05 });
    let e = r.terminal.authorize(eur(900), "s-2").await.unwrap_err();
    assert!(
        matches!(e, PaymentError::Declined { code: 0x05, .. }),
        "{e:?}"
    );

    r.sim.push_scenario(Scenario::Timeout);
    let e = r.terminal.authorize(eur(800), "s-3").await.unwrap_err();
    assert_eq!(e, PaymentError::Timeout);
    assert_eq!(
        r.sim.net_charged(),
        1610,
        "only the approved payment was charged"
    );
    r.sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serial_link_lost_after_acknowledgement_is_recovered_and_charged_exactly_once() {
    let r = rig(SimConfig {
        drop_duration: Duration::from_secs(1),
        ..SimConfig::default()
    });
    r.terminal
        .authorize(eur(300), "b-0")
        .await
        .expect("baseline sale");

    r.sim.push_scenario(Scenario::DropAfterAck);
    let a = r
        .terminal
        .authorize(eur(4250), "b-1")
        .await
        .expect("outcome recovered over serial");
    assert!(a.recovered);
    assert_eq!(a.amount, eur(4250));
    let ledger = r.sim.ledger();
    assert_eq!(ledger.len(), 2, "{ledger:?}");
    assert!(
        ledger
            .iter()
            .all(|e| e.kind == EntryKind::Sale && !e.reversed)
    );
    assert_eq!(r.sim.net_charged(), 4550);
    let auths = r
        .sim
        .commands_seen()
        .iter()
        .filter(|c| **c == 0x0601)
        .count();
    assert_eq!(auths, 2, "one authorization per reference");
    r.sim.shutdown();
}

/// Round trip of a whole authorization over the pty pair (framing, CRC, link-level ACK for
/// every one of the ~16 frames each way), no artificial delays. Figures in BENCHMARKS.md.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serial_authorization_round_trip() {
    let r = rig(SimConfig {
        step_delay: Duration::ZERO,
        ..SimConfig::default()
    });
    let mut times = Vec::new();
    for i in 0..20 {
        let t = Instant::now();
        r.terminal
            .authorize(eur(2000 + 100 * i), &format!("srt-{i}"))
            .await
            .unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "serial authorization round trip: median {:?}, max {:?}",
        times[10], times[19]
    );
    assert_eq!(r.sim.sales_count(), 20);
    assert!(times[10] < Duration::from_secs(1), "median {:?}", times[10]);
    r.sim.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serial_busy_and_abort_while_waiting_for_the_card() {
    use pos_hardware::payment::TerminalStatus;
    let r = Arc::new(rig(SimConfig::default()));
    r.sim.push_scenario(Scenario::Busy);
    let e = r.terminal.authorize(eur(1200), "sb-1").await.unwrap_err();
    assert_eq!(e, PaymentError::Busy);

    r.sim.push_scenario(Scenario::WaitForCard { ms: 10_000 });
    let mut status = r.terminal.status();
    let running = {
        let r = r.clone();
        tokio::spawn(async move { r.terminal.authorize(eur(1300), "sb-2").await })
    };
    tokio::time::timeout(
        Duration::from_secs(5),
        status.wait_for(|s| *s == TerminalStatus::WaitingForCard),
    )
    .await
    .expect("the UI is told to ask for a card")
    .unwrap();
    assert!(r.terminal.abort().await.unwrap());
    let result = tokio::time::timeout(Duration::from_secs(6), running)
        .await
        .expect("authorize returns after the abort")
        .unwrap();
    assert_eq!(result.unwrap_err(), PaymentError::Aborted);
    assert_eq!(r.sim.net_charged(), 0);
    assert!(r.sim.commands_seen().contains(&0x06B0));
    r.sim.shutdown();
}

/// Link level on the wire: a frame answered with NAK is sent again, a damaged incoming frame
/// is answered with NAK and never delivered, the good copy that follows is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serial_link_repeats_on_nak_and_refuses_damaged_frames() {
    use pos_hardware::zvt::apdu::Apdu;
    use pos_hardware::zvt::frame::{ACK, NAK, encode_serial};
    use pos_hardware::zvt::link::Link;
    use std::io::{Read, Write};

    let pair = SocatPair::start();
    let mut link = Link::open_serial(pair.host.to_str().unwrap(), 9600).unwrap();
    let peer_path = pair.device.to_str().unwrap().to_string();
    let apdu = Apdu::new(0x06, 0x01, vec![0x04, 0, 0, 0, 0, 0x10, 0x10]);
    let framed = encode_serial(&apdu.encode());
    let expected = framed.clone();
    let peer = std::thread::spawn(move || {
        let mut port = serialport::new(&peer_path, 9600)
            .timeout(Duration::from_secs(3))
            .open()
            .unwrap();
        let read_frame = |port: &mut Box<dyn serialport::SerialPort>| {
            let mut got = vec![0u8; expected.len()];
            port.read_exact(&mut got).unwrap();
            got
        };
        let first = read_frame(&mut port);
        port.write_all(&[NAK]).unwrap();
        let second = read_frame(&mut port);
        port.write_all(&[ACK]).unwrap();
        // Now send the ECR a damaged copy of an ACK APDU, then a good one.
        let mut bad = encode_serial(&[0x80, 0x00, 0x00]);
        bad[3] ^= 0xFF;
        port.write_all(&bad).unwrap();
        let mut answer = [0u8; 1];
        port.read_exact(&mut answer).unwrap();
        port.write_all(&encode_serial(&[0x80, 0x00, 0x00])).unwrap();
        let mut answer2 = [0u8; 1];
        port.read_exact(&mut answer2).unwrap();
        (first, second, answer[0], answer2[0])
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    link.send(&apdu).await.expect("sent after one NAK");
    let got = tokio::time::timeout(Duration::from_secs(5), link.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, Apdu::new(0x80, 0x00, vec![]));
    let (first, second, answer_to_bad, answer_to_good) =
        tokio::task::spawn_blocking(move || peer.join().unwrap())
            .await
            .unwrap();
    assert_eq!(first, framed);
    assert_eq!(second, framed, "the same frame again after NAK");
    assert_eq!(answer_to_bad, NAK);
    assert_eq!(answer_to_good, ACK);
}
