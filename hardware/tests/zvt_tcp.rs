//! The ZVT driver against the in-process terminal simulator over TCP on 127.0.0.1 (ephemeral
//! port): every money assertion is made against the simulator's own ledger.

use std::sync::Arc;
use std::time::Duration;

use pos_core::{Currency, Money};
use pos_hardware::payment::{
    InMemoryPendingStore, PaymentError, PaymentTerminal, PendingPaymentStore, PendingState,
    TerminalStatus,
};
use pos_hardware::zvt::sim::{EntryKind, Scenario, SimConfig};
use pos_hardware::zvt::{ZvtConfig, ZvtTerminal, ZvtTimeouts, ZvtTransport};

mod support;

use support::zvt::{eur, fast, rig, state_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_payment_gives_slip_with_masked_card_and_is_charged_once() {
    let r = rig(SimConfig::default(), fast()).await;
    let info = r.terminal.register().await.expect("registration");
    assert_eq!(info.terminal_id.as_deref(), Some("52523535"));

    let a = r
        .terminal
        .authorize(eur(1234), "sale-1/card")
        .await
        .expect("approved");
    assert_eq!(a.amount, eur(1234));
    assert_eq!(a.receipt_no, 1);
    assert_eq!(a.card_brand.as_deref(), Some("Mastercard"));
    assert_eq!(a.masked_pan().as_deref(), Some("************1234"));
    assert_eq!(a.terminal_id.as_deref(), Some("52523535"));
    assert!(a.approval_code.is_some());
    assert!(!a.recovered);
    let slip = a.slip_lines.join("\n");
    for expected in [
        "KUNDENBELEG",
        "Karte: ************1234",
        "Betrag: EUR 12,34",
    ] {
        assert!(slip.contains(expected), "slip lacks {expected:?}:\n{slip}");
    }
    assert_eq!(*r.terminal.status().borrow(), TerminalStatus::Approved);

    // Asking again with the same reference returns the same approval without a new charge.
    let again = r
        .terminal
        .authorize(eur(1234), "sale-1/card")
        .await
        .expect("same approval");
    assert_eq!(again, a);
    assert_eq!(r.sim.sales_count(), 1);
    assert_eq!(r.sim.net_charged(), 1234);
    assert!(matches!(
        state_of(&r.store, "sale-1/card"),
        PendingState::Approved { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_card_charges_nothing_and_the_reference_is_not_reused() {
    let r = rig(SimConfig::default(), fast()).await;
    r.sim.push_scenario(Scenario::Decline { code: 0x05 });
    let e = r.terminal.authorize(eur(5000), "d1").await.unwrap_err();
    assert!(
        matches!(e, PaymentError::Declined { code: 0x05, .. }),
        "{e:?}"
    );
    assert!(matches!(
        *r.terminal.status().borrow(),
        TerminalStatus::Declined { .. }
    ));
    assert_eq!(r.sim.net_charged(), 0);
    // A repeat of the same reference is refused without reaching the terminal.
    let before = r.sim.commands_seen().len();
    let e = r.terminal.authorize(eur(5000), "d1").await.unwrap_err();
    assert!(matches!(e, PaymentError::AlreadyAttempted { .. }), "{e:?}");
    assert_eq!(r.sim.commands_seen().len(), before);
    // Magic cents decline as well (the demo's way to show a decline).
    let e = r.terminal.authorize(eur(701), "d2").await.unwrap_err();
    assert!(matches!(e, PaymentError::Declined { .. }), "{e:?}");
    assert_eq!(r.sim.ledger(), vec![]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_terminal_refuses_and_a_new_attempt_then_succeeds() {
    let r = rig(SimConfig::default(), fast()).await;
    r.sim.push_scenario(Scenario::Busy);
    let e = r.terminal.authorize(eur(990), "b1").await.unwrap_err();
    assert_eq!(e, PaymentError::Busy);
    assert!(matches!(
        state_of(&r.store, "b1"),
        PendingState::NotCharged { .. }
    ));
    assert_eq!(r.sim.net_charged(), 0);
    r.terminal
        .authorize(eur(990), "b2")
        .await
        .expect("second attempt");
    assert_eq!(r.sim.net_charged(), 990);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_terminal_is_aborted_and_reports_timeout_without_charge() {
    let r = rig(SimConfig::default(), fast()).await;
    r.sim.push_scenario(Scenario::Timeout);
    let started = std::time::Instant::now();
    let e = r.terminal.authorize(eur(2000), "t1").await.unwrap_err();
    assert_eq!(e, PaymentError::Timeout);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert!(
        r.sim.commands_seen().contains(&0x06B0),
        "the driver sent Abort (06 B0)"
    );
    assert_eq!(r.sim.net_charged(), 0);
    assert!(matches!(
        state_of(&r.store, "t1"),
        PendingState::NotCharged { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_while_waiting_for_the_card_cancels_the_payment() {
    let r = Arc::new(rig(SimConfig::default(), fast()).await);
    r.sim.push_scenario(Scenario::WaitForCard { ms: 10_000 });
    let mut status = r.terminal.status();
    let running = {
        let r = r.clone();
        tokio::spawn(async move { r.terminal.authorize(eur(4200), "a1").await })
    };
    tokio::time::timeout(
        Duration::from_secs(5),
        status.wait_for(|s| *s == TerminalStatus::WaitingForCard),
    )
    .await
    .expect("the UI is told to ask for a card")
    .unwrap();
    assert!(
        r.terminal.abort().await.unwrap(),
        "an abort request was sent"
    );
    let result = tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("authorize returns promptly after abort")
        .unwrap();
    assert_eq!(result.unwrap_err(), PaymentError::Aborted);
    assert_eq!(r.sim.net_charged(), 0);
    assert!(!r.terminal.abort().await.unwrap(), "nothing left to abort");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_lost_after_acknowledgement_is_recovered_and_charged_exactly_once() {
    let r = rig(SimConfig::default(), fast()).await;
    // An earlier payment gives the driver its baseline receipt number.
    let first = r
        .terminal
        .authorize(eur(500), "s1")
        .await
        .expect("first sale");

    r.sim.push_scenario(Scenario::DropAfterAck);
    let a = r
        .terminal
        .authorize(eur(2000), "s2")
        .await
        .expect("outcome recovered after the drop");
    assert!(a.recovered);
    assert_eq!(a.amount, eur(2000));
    assert_ne!(a.receipt_no, first.receipt_no);
    assert_eq!(a.pan_last4.as_deref(), Some("1234"));
    assert!(
        r.sim.commands_seen().contains(&0x0620),
        "recovered with Repeat Receipt (06 20)"
    );
    // The simulator's own ledger: two sales, 25,00 in total, nothing reversed.
    let ledger = r.sim.ledger();
    assert_eq!(ledger.len(), 2, "{ledger:?}");
    assert!(
        ledger
            .iter()
            .all(|e| e.kind == EntryKind::Sale && !e.reversed)
    );
    assert_eq!(r.sim.net_charged(), 2500);
    // The app retrying the same tender gets the same approval, still charged once.
    assert_eq!(r.terminal.authorize(eur(2000), "s2").await.unwrap(), a);
    assert_eq!(r.sim.sales_count(), 2);
    // Exactly one authorization command per reference reached the terminal.
    let auths = r
        .sim
        .commands_seen()
        .iter()
        .filter(|c| **c == 0x0601)
        .count();
    assert_eq!(auths, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_first_payment_without_baseline_is_reversed_not_left_charged() {
    let r = rig(SimConfig::default(), fast()).await;
    r.sim.push_scenario(Scenario::DropAfterAck);
    let e = r.terminal.authorize(eur(3000), "x1").await.unwrap_err();
    assert_eq!(e, PaymentError::ConnectionLost);
    assert!(matches!(
        state_of(&r.store, "x1"),
        PendingState::Reversed { .. }
    ));
    let ledger = r.sim.ledger();
    assert_eq!(ledger.len(), 2, "{ledger:?}");
    assert!(ledger[0].reversed);
    assert_eq!(ledger[1].kind, EntryKind::Reversal);
    assert_eq!(r.sim.net_charged(), 0, "the customer is not charged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_learns_the_last_receipt_so_a_lost_first_payment_is_recovered_not_reversed() {
    let r = rig(SimConfig::default(), fast()).await;
    // The terminal has history from before this POS (another till, an earlier install).
    let mut config = r.terminal.config().clone();
    config.timeouts = fast();
    let other = ZvtTerminal::new(config, Arc::new(InMemoryPendingStore::new()));
    other.authorize(eur(500), "elsewhere").await.unwrap();
    assert_eq!(r.store.last_receipt_no().unwrap(), None);

    r.terminal.register().await.expect("registration");
    assert_eq!(r.store.last_receipt_no().unwrap(), Some(1), "learned");
    r.sim.push_scenario(Scenario::DropAfterAck);
    let a = r
        .terminal
        .authorize(eur(3000), "x1")
        .await
        .expect("recovered");
    assert!(a.recovered);
    assert_eq!(a.amount, eur(3000));
    assert_eq!(r.sim.sales_count(), 2);
    assert_eq!(r.sim.net_charged(), 3500, "charged once, nothing reversed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcome_unknown_while_terminal_busy_then_recover_settles_it() {
    let sim_config = SimConfig {
        drop_duration: Duration::from_secs(3),
        ..SimConfig::default()
    };
    let timeouts = ZvtTimeouts {
        recovery: Duration::from_millis(800),
        ..fast()
    };
    let r = rig(sim_config, timeouts).await;
    r.terminal
        .authorize(eur(100), "u0")
        .await
        .expect("baseline sale");
    r.sim.push_scenario(Scenario::DropAfterAck);
    let e = r.terminal.authorize(eur(1500), "u1").await.unwrap_err();
    assert!(matches!(e, PaymentError::OutcomeUnknown { .. }), "{e:?}");
    assert_eq!(state_of(&r.store, "u1"), PendingState::InFlight);
    // While u1 is unresolved no other card payment may start: the terminal's last
    // transaction must stay the one recovery looks at.
    let auths_before = r
        .sim
        .commands_seen()
        .iter()
        .filter(|c| **c == 0x0601)
        .count();
    let e = r.terminal.authorize(eur(700), "u2").await.unwrap_err();
    assert_eq!(
        e,
        PaymentError::OutcomeUnknown {
            ref_id: "u1".into()
        }
    );
    let auths_after = r
        .sim
        .commands_seen()
        .iter()
        .filter(|c| **c == 0x0601)
        .count();
    assert_eq!(auths_after, auths_before, "u2 never reached the terminal");
    // The record stays pending until the terminal is free again and `recover` runs.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let settled = r.terminal.recover().await.expect("recovered");
    assert_eq!(settled.len(), 1);
    assert!(matches!(settled[0].state, PendingState::Approved { .. }));
    assert_eq!(r.sim.net_charged(), 1600);
    assert_eq!(r.sim.sales_count(), 2);
    // The cashier's retry of the same tender now gets the approval, with no new charge.
    let a = r.terminal.authorize(eur(1500), "u1").await.unwrap();
    assert!(a.recovered);
    assert_eq!(r.sim.sales_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_left_in_flight_by_a_crash_is_settled_at_the_next_registration() {
    let r = rig(SimConfig::default(), fast()).await;
    r.terminal
        .authorize(eur(100), "c0")
        .await
        .expect("baseline sale");
    // The app wrote its record and the terminal charged, but the app died before it heard
    // the result: simulate by booking on the terminal behind the driver's back.
    let baseline = r.store.last_receipt_no().unwrap();
    let record = pos_hardware::payment::PendingPayment {
        ref_id: "c1".into(),
        kind: pos_hardware::payment::PaymentKind::Sale,
        amount: eur(2200),
        baseline_receipt_no: baseline,
        state: PendingState::InFlight,
    };
    assert!(r.store.insert_new(&record).unwrap().is_none());
    // Book 22,00 on the simulator through a driver whose own memory is lost with it.
    let mut config = r.terminal.config().clone();
    config.timeouts = fast();
    let crashed = ZvtTerminal::new(config.clone(), Arc::new(InMemoryPendingStore::new()));
    crashed.authorize(eur(2200), "c1").await.unwrap();
    drop(crashed);

    // After the restart: a fresh driver on the surviving store registers.
    let restarted = ZvtTerminal::new(config, r.store.clone());
    restarted.register().await.expect("registration");
    let PendingState::Approved { approval } = state_of(&r.store, "c1") else {
        panic!("c1 was not settled: {:?}", state_of(&r.store, "c1"))
    };
    assert!(approval.recovered);
    assert_eq!(approval.amount, eur(2200));
    assert_eq!(r.sim.sales_count(), 2, "no second charge");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refund_reversal_and_end_of_day_totals() {
    let r = rig(SimConfig::default(), fast()).await;
    r.terminal.authorize(eur(1000), "e1").await.unwrap();
    let second = r.terminal.authorize(eur(500), "e2").await.unwrap();
    let rev = r
        .terminal
        .reverse(second.receipt_no)
        .await
        .expect("reversed");
    assert_eq!(rev.amount, eur(500));
    assert!(rev.slip_lines.iter().any(|l| l == "STORNO"));
    // Reversing the same receipt again returns the recorded reversal: it is keyed on the sale
    // (`reversal-of-e2`), and the terminal books one storno.
    let again = r
        .terminal
        .reverse(second.receipt_no)
        .await
        .expect("same reversal");
    assert_eq!(again, rev);
    assert_eq!(r.sim.reversals_count(), 1);
    let refund = r
        .terminal
        .refund(eur(300), "ret-1", Some(1))
        .await
        .expect("refund");
    assert!(refund.slip_lines.iter().any(|l| l == "GUTSCHRIFT"));
    assert_eq!(r.sim.net_charged(), 700);

    let eod = r.terminal.end_of_day().await.expect("end of day");
    assert_eq!(eod.total, eur(700));
    assert_eq!(eod.transaction_count, Some(4));
    assert!(eod.slip_lines.iter().any(|l| l == "KASSENSCHNITT"));
    assert!(eod.slip_lines.iter().any(|l| l == "Summe: EUR 7,00"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_terminal_and_wrong_currency_send_nothing() {
    // A port nobody listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = Arc::new(InMemoryPendingStore::new());
    let mut config = ZvtConfig::new(
        ZvtTransport::tcp(format!("127.0.0.1:{port}")),
        Currency::Eur,
    );
    config.timeouts = fast();
    let terminal = ZvtTerminal::new(config, store.clone());
    let e = terminal.authorize(eur(100), "n1").await.unwrap_err();
    assert!(matches!(e, PaymentError::Unreachable(_)), "{e:?}");
    assert!(matches!(
        state_of(&store, "n1"),
        PendingState::NotCharged { .. }
    ));
    let e = terminal
        .authorize(Money::new(100, Currency::Usd), "n2")
        .await
        .unwrap_err();
    assert!(matches!(e, PaymentError::InvalidAmount(_)), "{e:?}");
    assert!(store.get("n2").unwrap().is_none(), "nothing recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_is_usable_as_a_boxed_trait_object() {
    let r = rig(SimConfig::default(), fast()).await;
    let boxed: Box<dyn PaymentTerminal> = Box::new(r.terminal);
    boxed.register().await.unwrap();
    let a = boxed.authorize(eur(250), "dyn-1").await.unwrap();
    assert_eq!(a.amount, eur(250));
    assert_eq!(r.sim.net_charged(), 250);
}

/// Round trip of a whole authorization (connect, 06 01, intermediate statuses, status
/// information, 10 print lines, completion, every ACK) against the simulator with no
/// artificial delays. The figures go to BENCHMARKS.md; the bound catches a driver that
/// starts waiting on timeouts in the happy path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_round_trip_against_the_simulator() {
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
        let t = std::time::Instant::now();
        r.terminal
            .authorize(eur(1000 + 100 * i), &format!("rt-{i}"))
            .await
            .unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    let (median, p95) = (times[25], times[47]);
    println!("tcp authorization round trip: median {median:?}, p95 {p95:?}");
    assert_eq!(r.sim.sales_count(), 50);
    assert!(median < Duration::from_millis(200), "median {median:?}");
}

/// The `zvt-sim` program the demo uses: started on an ephemeral port, it approves a payment
/// and declines one whose amount ends in .01; killed by its PID afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_binary_serves_the_driver() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_zvt-sim"))
        .args(["--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("zvt-sim starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
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
        let a = terminal.authorize(eur(999), "bin-1").await?;
        let d = terminal.authorize(eur(1001), "bin-2").await;
        Ok::<_, PaymentError>((a, d))
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    let (approval, declined) = result.expect("approved");
    assert_eq!(approval.amount, eur(999));
    assert!(matches!(declined, Err(PaymentError::Declined { .. })));
}
