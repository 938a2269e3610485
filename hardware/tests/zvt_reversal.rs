//! Keyed reversals (`PaymentTerminal::reverse_keyed`) against the in-process terminal simulator,
//! over TCP on 127.0.0.1 and over a socat serial pair: a receipt is reversed exactly once per
//! `ref_id`, a lost answer is recovered from the terminal's last transaction, and the
//! terminal's refusals come back as declines. Every money assertion is made against the
//! simulator's own journal (its ledger), not against what the driver believes.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pos_core::Currency;
use pos_hardware::payment::{
    InMemoryPendingStore, PaymentError, PaymentKind, PaymentTerminal, PendingPayment,
    PendingPaymentStore, PendingState,
};
use pos_hardware::zvt::sim::{EntryKind, Scenario, SimConfig, Simulator};
use pos_hardware::zvt::{ZvtConfig, ZvtTerminal, ZvtTimeouts, ZvtTransport};

mod support;

use support::zvt::{eur, fast, rig, state_of};

/// Reversals in the simulator's journal, as (receipt number, amount).
fn stornos(sim: &Simulator) -> Vec<(u32, i64)> {
    sim.ledger()
        .iter()
        .filter(|e| e.kind == EntryKind::Reversal)
        .map(|e| (e.receipt_no, e.amount))
        .collect()
}

const REVERSAL: u16 = 0x0630;

fn reversals_sent(sim: &Simulator) -> usize {
    sim.commands_seen()
        .iter()
        .filter(|c| **c == REVERSAL)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reversal_is_booked_once_and_a_repeat_of_its_ref_id_returns_the_same_approval() {
    let r = rig(SimConfig::default(), fast()).await;
    r.terminal.register().await.expect("registration");
    let sale = r.terminal.authorize(eur(1250), "s1/card").await.unwrap();

    let started = Instant::now();
    let rev = r
        .terminal
        .reverse_keyed("s1/void", sale.receipt_no, eur(1250))
        .await
        .expect("reversed");
    let round_trip = started.elapsed();
    println!(
        "reversal round trip on the simulator (TCP): {:.1} ms",
        round_trip.as_secs_f64() * 1000.0
    );
    assert_eq!(rev.ref_id, "s1/void");
    assert_eq!(rev.amount, eur(1250));
    assert_ne!(
        rev.receipt_no, sale.receipt_no,
        "a storno has its own receipt"
    );
    assert!(!rev.recovered);
    assert!(rev.slip_lines.iter().any(|l| l == "STORNO"));
    assert_eq!(stornos(&r.sim), vec![(rev.receipt_no, -1250)]);
    assert_eq!(r.sim.net_charged(), 0, "the customer is not charged");
    let PendingState::Approved { approval } = state_of(&r.store, "s1/void") else {
        panic!("not recorded as approved")
    };
    assert_eq!(approval, rev);
    assert_eq!(
        r.store.get("s1/void").unwrap().unwrap().kind,
        PaymentKind::Reversal {
            original_receipt_no: sale.receipt_no
        }
    );

    // The same ref_id again: the recorded approval, and nothing reaches the terminal.
    let sent_before = r.sim.commands_seen().len();
    let again = r
        .terminal
        .reverse_keyed("s1/void", sale.receipt_no, eur(1250))
        .await
        .expect("same approval");
    assert_eq!(again, rev);
    assert_eq!(r.sim.commands_seen().len(), sent_before);
    assert_eq!(stornos(&r.sim).len(), 1, "one storno in the journal");

    // The ref_id reused for another receipt or amount is refused, without reaching the terminal.
    let other = r.terminal.authorize(eur(300), "s2/card").await.unwrap();
    let e = r
        .terminal
        .reverse_keyed("s1/void", other.receipt_no, eur(300))
        .await
        .unwrap_err();
    assert!(matches!(e, PaymentError::AlreadyAttempted { .. }), "{e:?}");
    assert_eq!(reversals_sent(&r.sim), 1);
    assert_eq!(r.sim.net_charged(), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_already_reversed_or_not_a_sale_is_declined_and_recorded_as_declined() {
    let r = rig(SimConfig::default(), fast()).await;
    let sale = r.terminal.authorize(eur(800), "s1/card").await.unwrap();
    r.terminal
        .reverse_keyed("void-a", sale.receipt_no, eur(800))
        .await
        .expect("first reversal");

    // Another ref_id for the same receipt: the terminal refuses, "already reversed".
    let e = r
        .terminal
        .reverse_keyed("void-b", sale.receipt_no, eur(800))
        .await
        .unwrap_err();
    assert!(
        matches!(e, PaymentError::Declined { code: 0xB4, ref text } if text == "already reversed"),
        "{e:?}"
    );
    assert!(matches!(
        state_of(&r.store, "void-b"),
        PendingState::Declined { code: 0xB4, .. }
    ));
    // Its repeat does not reach the terminal again.
    let sent = reversals_sent(&r.sim);
    let e = r
        .terminal
        .reverse_keyed("void-b", sale.receipt_no, eur(800))
        .await
        .unwrap_err();
    assert!(matches!(e, PaymentError::AlreadyAttempted { .. }), "{e:?}");
    assert_eq!(reversals_sent(&r.sim), sent);

    // A refund cannot be reversed: "reversal not possible".
    let refund = r
        .terminal
        .refund(eur(200), "ret-1/card", Some(sale.receipt_no))
        .await
        .expect("refund");
    let e = r
        .terminal
        .reverse_keyed("void-c", refund.receipt_no, eur(200))
        .await
        .unwrap_err();
    assert!(
        matches!(e, PaymentError::Declined { code: 0xB5, .. }),
        "{e:?}"
    );
    assert!(matches!(
        state_of(&r.store, "void-c"),
        PendingState::Declined { code: 0xB5, .. }
    ));

    // Nor can a receipt the terminal never issued.
    let e = r
        .terminal
        .reverse_keyed("void-d", 4711, eur(100))
        .await
        .unwrap_err();
    assert!(
        matches!(e, PaymentError::Declined { code: 0xB5, .. }),
        "{e:?}"
    );

    assert_eq!(
        stornos(&r.sim).len(),
        1,
        "only the first reversal was booked"
    );
    assert_eq!(r.sim.net_charged(), -200, "sale reversed, refund paid out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_terminal_reverses_nothing_and_a_new_ref_id_then_reverses() {
    let r = rig(SimConfig::default(), fast()).await;
    let sale = r.terminal.authorize(eur(650), "s1/card").await.unwrap();
    r.sim.push_reversal_scenario(Scenario::Busy);
    let e = r
        .terminal
        .reverse_keyed("s1/void", sale.receipt_no, eur(650))
        .await
        .unwrap_err();
    assert!(matches!(e, PaymentError::Busy), "{e:?}");
    assert!(matches!(
        state_of(&r.store, "s1/void"),
        PendingState::NotCharged { .. }
    ));
    assert_eq!(r.sim.net_charged(), 650, "nothing reversed");
    let rev = r
        .terminal
        .reverse_keyed("s1/void-2", sale.receipt_no, eur(650))
        .await
        .expect("reversed");
    assert!(!rev.recovered);
    assert_eq!(stornos(&r.sim), vec![(rev.receipt_no, -650)]);
    assert_eq!(r.sim.net_charged(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reversal_whose_answer_is_lost_is_recovered_with_the_booked_receipt() {
    let r = rig(SimConfig::default(), fast()).await;
    let sale = r.terminal.authorize(eur(4200), "s1/card").await.unwrap();
    r.sim.push_reversal_scenario(Scenario::DropAfterAck);

    let rev = r
        .terminal
        .reverse_keyed("s1/void", sale.receipt_no, eur(4200))
        .await
        .expect("recovered as reversed");
    assert!(rev.recovered);
    let booked = stornos(&r.sim);
    assert_eq!(booked.len(), 1);
    assert_eq!(rev.receipt_no, booked[0].0, "the booked storno's receipt");
    assert_eq!(rev.amount, eur(4200));
    assert_eq!(reversals_sent(&r.sim), 1, "the reversal was not sent again");
    assert!(matches!(
        state_of(&r.store, "s1/void"),
        PendingState::Approved { .. }
    ));

    // The cashier's retry of the same ref_id gets the recovered approval, nothing is sent.
    let again = r
        .terminal
        .reverse_keyed("s1/void", sale.receipt_no, eur(4200))
        .await
        .unwrap();
    assert_eq!(again, rev);
    assert_eq!(reversals_sent(&r.sim), 1);
    assert_eq!(stornos(&r.sim).len(), 1);
    assert_eq!(r.sim.net_charged(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reversal_lost_while_the_terminal_stays_busy_is_settled_later_by_recover() {
    // The terminal keeps working (answers busy) longer than the driver's recovery waits.
    let sim_config = SimConfig {
        drop_duration: Duration::from_millis(2500),
        ..SimConfig::default()
    };
    let timeouts = ZvtTimeouts {
        recovery: Duration::from_millis(800),
        ..fast()
    };
    let r = rig(sim_config, timeouts).await;
    let sale = r.terminal.authorize(eur(990), "s1/card").await.unwrap();
    r.sim.push_reversal_scenario(Scenario::DropAfterAck);

    let e = r
        .terminal
        .reverse_keyed("s1/void", sale.receipt_no, eur(990))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, PaymentError::OutcomeUnknown { ref_id } if ref_id == "s1/void"),
        "{e:?}"
    );
    assert_eq!(state_of(&r.store, "s1/void"), PendingState::InFlight);
    // While it is unresolved no new payment reaches the terminal.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let auths = r.sim.commands_seen().len();
    let e = r.terminal.authorize(eur(100), "s2/card").await.unwrap_err();
    assert!(matches!(e, PaymentError::OutcomeUnknown { .. }), "{e:?}");
    assert_eq!(
        r.sim
            .commands_seen()
            .iter()
            .skip(auths)
            .filter(|c| **c == 0x0601)
            .count(),
        0
    );

    tokio::time::sleep(Duration::from_millis(2600)).await;
    let settled = r.terminal.recover().await.expect("recovered");
    assert_eq!(settled.len(), 1);
    let PendingState::Approved { approval } = &settled[0].state else {
        panic!("not settled as reversed: {:?}", settled[0].state)
    };
    assert!(approval.recovered);
    assert_eq!(approval.receipt_no, stornos(&r.sim)[0].0);
    let again = r
        .terminal
        .reverse_keyed("s1/void", sale.receipt_no, eur(990))
        .await
        .unwrap();
    assert_eq!(&again, approval);
    assert_eq!(reversals_sent(&r.sim), 1);
    assert_eq!(stornos(&r.sim).len(), 1);
    assert_eq!(r.sim.net_charged(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reversal_left_in_flight_by_a_crash_is_settled_at_the_next_registration() {
    let r = rig(SimConfig::default(), fast()).await;
    let sale = r.terminal.authorize(eur(1500), "s1/card").await.unwrap();
    let other = r.terminal.authorize(eur(700), "s2/card").await.unwrap();

    // Crash after writing the record, with the reversal booked: the record is written as the
    // driver writes it, and another driver with its own store books the reversal.
    let record = PendingPayment {
        ref_id: "s1/void".into(),
        kind: PaymentKind::Reversal {
            original_receipt_no: sale.receipt_no,
        },
        amount: eur(1500),
        baseline_receipt_no: r.store.last_receipt_no().unwrap(),
        state: PendingState::InFlight,
    };
    assert!(r.store.insert_new(&record).unwrap().is_none());
    // A crash before the reversal was sent leaves the same record, and that one is "not done".
    let never_sent = PendingPayment {
        ref_id: "s2/void".into(),
        kind: PaymentKind::Reversal {
            original_receipt_no: other.receipt_no,
        },
        amount: eur(700),
        ..record.clone()
    };
    let mut config = r.terminal.config().clone();
    config.timeouts = fast();
    let crashed = ZvtTerminal::new(config.clone(), Arc::new(InMemoryPendingStore::new()));
    let booked = crashed
        .reverse_keyed("s1/void", sale.receipt_no, eur(1500))
        .await
        .unwrap();
    drop(crashed);
    assert!(r.store.insert_new(&never_sent).unwrap().is_none());

    let restarted = ZvtTerminal::new(config, r.store.clone());
    restarted.register().await.expect("registration");
    let PendingState::Approved { approval } = state_of(&r.store, "s1/void") else {
        panic!("not settled: {:?}", state_of(&r.store, "s1/void"))
    };
    assert!(approval.recovered);
    assert_eq!(approval.receipt_no, booked.receipt_no);
    assert!(
        matches!(
            state_of(&r.store, "s2/void"),
            PendingState::NotCharged { .. }
        ),
        "{:?}",
        state_of(&r.store, "s2/void")
    );
    // "Not reversed" means it can be reversed now, under a new ref_id.
    let rev = restarted
        .reverse_keyed("s2/void-2", other.receipt_no, eur(700))
        .await
        .expect("reversed");
    assert_eq!(rev.amount, eur(700));
    assert_eq!(stornos(&r.sim).len(), 2);
    assert_eq!(r.sim.net_charged(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverse_by_receipt_keys_the_reversal_on_the_sale() {
    let r = rig(SimConfig::default(), fast()).await;
    let sale = r.terminal.authorize(eur(10), "test-1").await.unwrap();
    let rev = r.terminal.reverse(sale.receipt_no).await.expect("reversed");
    assert_eq!(rev.ref_id, "reversal-of-test-1");
    assert_eq!(rev.amount, eur(10));
    assert!(matches!(
        state_of(&r.store, "reversal-of-test-1"),
        PendingState::Approved { .. }
    ));
    let again = r.terminal.reverse(sale.receipt_no).await.unwrap();
    assert_eq!(again, rev);
    assert_eq!(reversals_sent(&r.sim), 1);
    assert_eq!(r.sim.net_charged(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reversal_round_trip_against_the_simulator() {
    let r = rig(
        SimConfig {
            step_delay: Duration::ZERO,
            ..SimConfig::default()
        },
        fast(),
    )
    .await;
    let mut times = Vec::new();
    for i in 0..50 {
        let amount = eur(1000 + 100 * i);
        let sale = r
            .terminal
            .authorize(amount, &format!("rt-{i}"))
            .await
            .unwrap();
        let t = Instant::now();
        r.terminal
            .reverse_keyed(&format!("rt-{i}/void"), sale.receipt_no, amount)
            .await
            .unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    let (median, p95) = (times[25], times[47]);
    println!("tcp keyed reversal round trip: median {median:?}, p95 {p95:?}");
    assert_eq!(stornos(&r.sim).len(), 50);
    assert_eq!(r.sim.net_charged(), 0);
    assert!(median < Duration::from_millis(200), "median {median:?}");
}

/// The `zvt-sim` program with `--reversal-scenario drop-after-ack`: the first reversal's answer
/// is lost and recovered; the terminal then refuses the receipt as already reversed, so it was
/// booked exactly once. The program is killed by its PID.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_binary_loses_a_reversal_answer_on_request() {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_zvt-sim"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--reversal-scenario",
            "drop-after-ack",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("zvt-sim starts");
    // Kept open until the program is killed: it prints every booking.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("zvt-sim: listening on tcp ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    let mut config = ZvtConfig::new(ZvtTransport::tcp(addr), Currency::Eur);
    config.timeouts = fast();
    let terminal = ZvtTerminal::new(config, Arc::new(InMemoryPendingStore::new()));
    let result = async {
        terminal.register().await?;
        let sale = terminal.authorize(eur(2000), "bin-1").await?;
        let rev = terminal
            .reverse_keyed("bin-1/void", sale.receipt_no, eur(2000))
            .await?;
        let second = terminal
            .reverse_keyed("bin-1/void-2", sale.receipt_no, eur(2000))
            .await;
        Ok::<_, PaymentError>((rev, second))
    }
    .await;
    // The program's log: one sale, one reversal.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = child.kill();
    let _ = child.wait();
    let log: Vec<String> = stdout.lines().map_while(Result::ok).collect();
    let reversals = log.iter().filter(|l| l.contains("booked Reversal")).count();
    assert_eq!(reversals, 1, "{log:?}");
    let (rev, second) = result.expect("reversed");
    assert!(rev.recovered, "the answer was lost and recovered");
    assert_eq!(rev.amount, eur(2000));
    assert!(
        matches!(second, Err(PaymentError::Declined { code: 0xB4, .. })),
        "{second:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_serial_a_reversal_is_booked_once_and_a_lost_answer_is_recovered() {
    // The register's end is the pair's host side, the simulated terminal its device side.
    let pair = support::SocatPair::start();
    let sim = Simulator::new(SimConfig::default());
    sim.serve_serial(pair.device.to_str().unwrap(), 9600)
        .expect("simulator opens its end");
    let mut config = ZvtConfig::new(
        ZvtTransport::serial(pair.host.to_str().unwrap()),
        Currency::Eur,
    );
    config.timeouts = fast();
    let store = Arc::new(InMemoryPendingStore::new());
    let terminal = ZvtTerminal::new(config, store.clone());

    let first = terminal.authorize(eur(1999), "s1/card").await.unwrap();
    let second = terminal.authorize(eur(500), "s2/card").await.unwrap();
    let started = Instant::now();
    let rev = terminal
        .reverse_keyed("s1/void", first.receipt_no, eur(1999))
        .await
        .expect("reversed");
    println!(
        "reversal round trip on the simulator (serial 9600 Bd): {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    assert_eq!(rev.amount, eur(1999));
    let again = terminal
        .reverse_keyed("s1/void", first.receipt_no, eur(1999))
        .await
        .unwrap();
    assert_eq!(again, rev);

    sim.push_reversal_scenario(Scenario::DropAfterAck);
    let lost = terminal
        .reverse_keyed("s2/void", second.receipt_no, eur(500))
        .await
        .expect("recovered");
    assert!(lost.recovered);
    assert_eq!(
        stornos(&sim),
        vec![(rev.receipt_no, -1999), (lost.receipt_no, -500)]
    );
    assert_eq!(reversals_sent(&sim), 2);
    assert_eq!(sim.net_charged(), 0);
    sim.shutdown();
}
