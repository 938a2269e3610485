//! The ZVT payment terminal simulator as a program, for the demo and for manual testing:
//!
//! ```text
//! cargo run -p pos-hardware --bin zvt-sim -- --listen 127.0.0.1:20007
//! cargo run -p pos-hardware --bin zvt-sim -- --serial /tmp/ttyPT [--baud 9600]
//!     [--scenario approve|decline[:CODE]|busy|timeout|drop-after-ack|wait-for-card[:MS]]
//!     [--no-magic-cents] [--terminal-id 52523535]
//!     [--reversal-scenario approve|decline[:CODE]|busy|timeout|drop-after-ack]...
//! ```
//!
//! Amounts ending in .01 decline, .02 busy, .03 time out, .04 drop the connection after the
//! acknowledgement (the payment is still booked), .05 wait 10 s for a card, unless
//! `--no-magic-cents`. Each `--reversal-scenario` applies to one reversal (06 30), in order:
//! `drop-after-ack` books the reversal but loses its answer (the driver must recover it).
//! Runs until killed.

use std::process::ExitCode;

use pos_hardware::zvt::sim::{Scenario, SimConfig, Simulator};

const USAGE: &str = "usage: zvt-sim (--listen HOST:PORT | --serial PATH [--baud N]) \
[--scenario NAME] [--no-magic-cents] [--terminal-id DIGITS] [--reversal-scenario NAME]...";

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut listen = None;
    let mut serial = None;
    let mut baud = 9600;
    let mut config = SimConfig::default();
    let mut reversal_scenarios = Vec::new();
    while let Some(a) = args.next() {
        let mut value = || args.next();
        match a.as_str() {
            "--listen" => listen = value(),
            "--serial" => serial = value(),
            "--baud" => match value().and_then(|v| v.parse().ok()) {
                Some(b) => baud = b,
                None => return fail("--baud needs a number"),
            },
            "--scenario" => match value().as_deref().and_then(Scenario::parse) {
                Some(s) => config.default_scenario = s,
                None => return fail("unknown --scenario"),
            },
            "--reversal-scenario" => match value().as_deref().and_then(Scenario::parse) {
                Some(s) => reversal_scenarios.push(s),
                None => return fail("unknown --reversal-scenario"),
            },
            "--no-magic-cents" => config.magic_cents = false,
            "--terminal-id" => match value() {
                Some(t) if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) => {
                    config.terminal_id = t
                }
                _ => return fail("--terminal-id needs 8 digits"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return fail(&format!("unknown argument {other}")),
        }
    }
    let sim = Simulator::new(config);
    for s in reversal_scenarios {
        sim.push_reversal_scenario(s);
    }
    match (listen, serial) {
        (Some(addr), None) => match sim.listen_tcp(&addr).await {
            Ok(a) => println!("zvt-sim: listening on tcp {a}"),
            Err(e) => return fail(&e.to_string()),
        },
        (None, Some(path)) => match sim.serve_serial(&path, baud) {
            Ok(()) => println!("zvt-sim: serving serial {path} @{baud}"),
            Err(e) => return fail(&e.to_string()),
        },
        _ => return fail("give exactly one of --listen or --serial"),
    }
    let mut seen = 0;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let ledger = sim.ledger();
        for e in &ledger[seen..] {
            println!(
                "zvt-sim: booked {:?} {} (currency {}) receipt {:04} trace {:06}",
                e.kind, e.amount, e.currency, e.receipt_no, e.trace_no
            );
        }
        seen = ledger.len();
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("zvt-sim: {msg}\n{USAGE}");
    ExitCode::from(2)
}
