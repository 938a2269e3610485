//! A ZVT payment terminal simulator: listens on TCP or a serial port and answers the commands
//! the driver sends like a terminal would (acknowledgement, intermediate status, status
//! information, print lines, completion), keeping its own ledger of what it charged.
//!
//! Scenarios for an authorization are taken, in order, from the scripted queue
//! ([`Simulator::push_scenario`]), from the amount's cents when `magic_cents` is on
//! (`.01` declines, `.02` busy, `.03` silent until aborted, `.04` drops the connection right
//! after the acknowledgement but books the payment, `.05` waits 10 s for a card), or the
//! default scenario.
//!
//! Reversals (06 30) take their scenario from a separate queue
//! ([`Simulator::push_reversal_scenario`]); only `Busy`, `Decline`, `Timeout` and
//! `DropAfterAck` (the answer is lost, the reversal is booked anyway) change them. A receipt is
//! reversed at most once: a second reversal ends with `06 1E B4` (already reversed), and one of
//! a receipt that is not a sale of the journal (unknown, a refund, a reversal) with `06 1E B5`
//! (reversal not possible).
//!
//! Invariants:
//! - The ledger only changes when the simulator books a transaction; tests assert "charged
//!   exactly once" against it, independent of what the driver believes.
//! - A payment whose status information could not be delivered stays booked (the worst case
//!   for the cash register: it must recover the outcome, never charge again).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::apdu::Apdu;
use super::link::{Link, LinkError};
use super::messages::{
    EcrCommand, NAK_BUSY, NAK_NOT_POSSIBLE, PtMessage, RESULT_ABORTED, RESULT_ALREADY_REVERSED,
    RESULT_OK, RESULT_REVERSAL_NOT_POSSIBLE, StatusInformation, intermediate, result_text,
};

/// How the simulated terminal handles the next authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scenario {
    /// Card, PIN, host, approved.
    Approve,
    /// Card, PIN, declined with this result code.
    Decline { code: u8 },
    /// Refuses the command with `84 A0` (busy); nothing starts.
    Busy,
    /// Acknowledges, asks for a card, then stays silent until aborted.
    Timeout,
    /// Acknowledges, then drops the connection (serial: goes deaf for a moment); the payment
    /// is approved and booked anyway.
    DropAfterAck,
    /// Shows "insert card" for `ms` milliseconds (abortable), then approves.
    WaitForCard { ms: u64 },
}

impl Scenario {
    /// Parses the CLI form: approve, decline[:CODE], busy, timeout, drop-after-ack,
    /// wait-for-card[:MS].
    pub fn parse(s: &str) -> Option<Scenario> {
        let (name, arg) = s.split_once(':').unwrap_or((s, ""));
        Some(match name {
            "approve" => Scenario::Approve,
            "decline" => Scenario::Decline {
                code: if arg.is_empty() {
                    0x05
                } else {
                    u8::from_str_radix(arg.trim_start_matches("0x"), 16).ok()?
                },
            },
            "busy" => Scenario::Busy,
            "timeout" => Scenario::Timeout,
            "drop-after-ack" => Scenario::DropAfterAck,
            "wait-for-card" => Scenario::WaitForCard {
                ms: if arg.is_empty() {
                    10_000
                } else {
                    arg.parse().ok()?
                },
            },
            _ => return None,
        })
    }

    fn from_cents(amount: u64) -> Option<Scenario> {
        match amount % 100 {
            1 => Some(Scenario::Decline { code: 0x05 }),
            2 => Some(Scenario::Busy),
            3 => Some(Scenario::Timeout),
            4 => Some(Scenario::DropAfterAck),
            5 => Some(Scenario::WaitForCard { ms: 10_000 }),
            _ => None,
        }
    }
}

/// Settings of the simulated terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimConfig {
    pub terminal_id: String,
    pub merchant: String,
    pub card_brand: String,
    pub pan_last4: String,
    pub default_scenario: Scenario,
    pub magic_cents: bool,
    /// Pause between the steps of a payment (card read, PIN, host).
    pub step_delay: Duration,
    /// After `DropAfterAck`: how long the terminal keeps working (answering busy) before the
    /// payment is booked, and on serial how long it stays deaf.
    pub drop_duration: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            terminal_id: "52523535".into(),
            merchant: "POS DEMO SHOP".into(),
            card_brand: "Mastercard".into(),
            pan_last4: "1234".into(),
            default_scenario: Scenario::Approve,
            magic_cents: true,
            step_delay: Duration::from_millis(20),
            drop_duration: Duration::from_millis(300),
        }
    }
}

/// What a ledger entry was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Sale,
    Refund,
    Reversal,
}

/// One booked transaction. `amount` is signed: charges positive, refunds and reversals
/// negative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub kind: EntryKind,
    pub amount: i64,
    pub currency: u16,
    pub receipt_no: u32,
    pub trace_no: u32,
    pub reversed: bool,
}

#[derive(Debug)]
struct State {
    config: SimConfig,
    ledger: Vec<LedgerEntry>,
    batch_start: usize,
    next_receipt: u32,
    next_trace: u32,
    scripted: VecDeque<Scenario>,
    scripted_reversals: VecDeque<Scenario>,
    busy_until: Option<Instant>,
    in_transaction: bool,
    last: Option<(StatusInformation, Vec<String>)>,
    tasks: Vec<JoinHandle<()>>,
    commands_seen: Vec<u16>,
}

/// The simulator. Cheap to clone; clones share the terminal and its ledger.
#[derive(Clone)]
pub struct Simulator {
    state: Arc<Mutex<State>>,
}

/// The simulator failed to start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
    #[error("cannot open serial port: {0}")]
    Serial(String),
}

fn amount_text(minor: u64, currency: u16) -> String {
    match currency {
        392 => format!("JPY {minor}"),
        840 => format!("USD {}.{:02}", minor / 100, minor % 100),
        _ => format!("EUR {},{:02}", minor / 100, minor % 100),
    }
}

enum Flow {
    Continue,
    /// Close this connection (TCP) or go deaf (serial).
    Drop,
}

impl Simulator {
    pub fn new(config: SimConfig) -> Simulator {
        Simulator {
            state: Arc::new(Mutex::new(State {
                config,
                ledger: Vec::new(),
                batch_start: 0,
                next_receipt: 1,
                next_trace: 1,
                scripted: VecDeque::new(),
                scripted_reversals: VecDeque::new(),
                busy_until: None,
                in_transaction: false,
                last: None,
                tasks: Vec::new(),
                commands_seen: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Listens on `addr` (use `127.0.0.1:0` for an ephemeral port) and serves every
    /// connection in the background. Returns the bound address.
    pub async fn listen_tcp(&self, addr: &str) -> Result<SocketAddr, SimError> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let sim = self.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sim = sim.clone();
                tokio::spawn(async move {
                    let mut link = Link::from_tcp(stream);
                    let _ = sim.serve(&mut link).await;
                });
            }
        });
        self.lock().tasks.push(task);
        Ok(local)
    }

    /// Serves the serial port at `path` in the background (reopening it if it fails).
    pub fn serve_serial(&self, path: &str, baud: u32) -> Result<(), SimError> {
        let mut link =
            Link::open_serial(path, baud).map_err(|e| SimError::Serial(e.to_string()))?;
        let sim = self.clone();
        let path = path.to_string();
        let task = tokio::spawn(async move {
            loop {
                match sim.serve(&mut link).await {
                    Ok(Flow::Drop) => {
                        let pause = sim.lock().config.drop_duration;
                        tokio::time::sleep(pause).await;
                        link.discard_buffered();
                    }
                    Ok(Flow::Continue) | Err(_) => {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        match Link::open_serial(&path, baud) {
                            Ok(l) => link = l,
                            Err(_) => continue,
                        }
                    }
                }
            }
        });
        self.lock().tasks.push(task);
        Ok(())
    }

    /// Stops listening and serving.
    pub fn shutdown(&self) {
        for t in self.lock().tasks.drain(..) {
            t.abort();
        }
    }

    /// Queues the scenario for the next authorization (first in, first used).
    pub fn push_scenario(&self, s: Scenario) {
        self.lock().scripted.push_back(s);
    }

    /// Queues the scenario for the next reversal (first in, first used); without one a
    /// reversal is booked and answered normally.
    pub fn push_reversal_scenario(&self, s: Scenario) {
        self.lock().scripted_reversals.push_back(s);
    }

    /// Number of reversals (STORNO) booked.
    pub fn reversals_count(&self) -> usize {
        self.lock()
            .ledger
            .iter()
            .filter(|e| e.kind == EntryKind::Reversal)
            .count()
    }

    pub fn set_default_scenario(&self, s: Scenario) {
        self.lock().config.default_scenario = s;
    }

    /// Every booked transaction, oldest first.
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        self.lock().ledger.clone()
    }

    /// Net amount taken from cards: sales minus refunds and reversals.
    pub fn net_charged(&self) -> i64 {
        self.lock().ledger.iter().map(|e| e.amount).sum()
    }

    /// Number of sales booked (reversed or not).
    pub fn sales_count(&self) -> usize {
        self.lock()
            .ledger
            .iter()
            .filter(|e| e.kind == EntryKind::Sale)
            .count()
    }

    /// The control fields of every command received (`0x0601` = authorization), in order.
    pub fn commands_seen(&self) -> Vec<u16> {
        self.lock().commands_seen.clone()
    }

    /// Receives one APDU and notes its command.
    async fn recv(&self, link: &mut Link) -> Result<Apdu, LinkError> {
        let apdu = link.recv().await?;
        self.lock().commands_seen.push(apdu.command());
        Ok(apdu)
    }

    /// Sends a message and waits for the cash register's acknowledgement. Returns whether an
    /// abort request (06 B0) arrived meanwhile.
    async fn deliver(&self, link: &mut Link, msg: &PtMessage) -> Result<bool, LinkError> {
        send(link, msg).await?;
        let mut abort = false;
        loop {
            let a = tokio::time::timeout(Duration::from_secs(5), self.recv(link))
                .await
                .map_err(|_| LinkError::Timeout)??;
            match EcrCommand::from_apdu(&a) {
                Ok(EcrCommand::Ack) => return Ok(abort),
                Ok(EcrCommand::Abort) => abort = true,
                _ => {}
            }
        }
    }

    /// Waits up to `wait` for an abort request.
    async fn abort_requested(&self, link: &mut Link, wait: Duration) -> Result<bool, LinkError> {
        let until = Instant::now() + wait;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.recv(link)).await {
                Err(_) => return Ok(false),
                Ok(r) => {
                    if let Ok(EcrCommand::Abort) = EcrCommand::from_apdu(&r?) {
                        return Ok(true);
                    }
                }
            }
        }
    }

    /// Ends a command: from here on the terminal takes new commands.
    async fn hand_back(&self, link: &mut Link, msg: &PtMessage) -> Result<(), LinkError> {
        self.lock().in_transaction = false;
        self.deliver(link, msg).await?;
        Ok(())
    }

    async fn aborted(&self, link: &mut Link) -> Result<Flow, LinkError> {
        self.hand_back(
            link,
            &PtMessage::Abort {
                code: RESULT_ABORTED,
            },
        )
        .await?;
        Ok(Flow::Continue)
    }

    /// Status information, the slip as print lines, completion.
    async fn finish(
        &self,
        link: &mut Link,
        status: StatusInformation,
        slip: Vec<String>,
    ) -> Result<(), LinkError> {
        let tid = status.terminal_id.clone();
        self.deliver(link, &PtMessage::Status(Box::new(status)))
            .await?;
        for line in &slip {
            self.deliver(link, &print_line(line)).await?;
        }
        self.hand_back(
            link,
            &PtMessage::Completion {
                terminal_id: tid,
                status_byte: None,
            },
        )
        .await
    }

    /// Serves one link until it fails or a scenario drops it.
    async fn serve(&self, link: &mut Link) -> Result<Flow, LinkError> {
        loop {
            let apdu = self.recv(link).await?;
            let cmd = match EcrCommand::from_apdu(&apdu) {
                Ok(c) => c,
                Err(_) => {
                    send(link, &PtMessage::Nak(NAK_NOT_POSSIBLE)).await?;
                    continue;
                }
            };
            let busy = {
                let s = self.lock();
                s.in_transaction || s.busy_until.is_some_and(|t| Instant::now() < t)
            };
            let flow = match cmd {
                EcrCommand::Ack | EcrCommand::Nak(_) | EcrCommand::Abort => Flow::Continue,
                _ if busy => {
                    send(link, &PtMessage::Nak(NAK_BUSY)).await?;
                    Flow::Continue
                }
                EcrCommand::Registration { .. } | EcrCommand::StatusEnquiry { .. } => {
                    send(link, &PtMessage::Ack).await?;
                    let tid = self.lock().config.terminal_id.clone();
                    self.deliver(
                        link,
                        &PtMessage::Completion {
                            terminal_id: Some(tid),
                            status_byte: Some(0),
                        },
                    )
                    .await?;
                    Flow::Continue
                }
                EcrCommand::Authorization { amount, currency } => {
                    self.lock().in_transaction = true;
                    let r = self.authorization(link, amount, currency).await;
                    self.lock().in_transaction = false;
                    r?
                }
                EcrCommand::Refund {
                    amount, currency, ..
                } => {
                    send(link, &PtMessage::Ack).await?;
                    let (status, slip) = self.book(EntryKind::Refund, amount, currency);
                    self.finish(link, status, slip).await?;
                    Flow::Continue
                }
                EcrCommand::Reversal { receipt_no, .. } => {
                    let scenario = self.lock().scripted_reversals.pop_front();
                    if scenario == Some(Scenario::Busy) {
                        send(link, &PtMessage::Nak(NAK_BUSY)).await?;
                        Flow::Continue
                    } else {
                        send(link, &PtMessage::Ack).await?;
                        self.reversal(link, receipt_no, scenario).await?
                    }
                }
                EcrCommand::EndOfDay { .. } => {
                    send(link, &PtMessage::Ack).await?;
                    let (status, slip) = self.end_of_day();
                    self.finish(link, status, slip).await?;
                    Flow::Continue
                }
                EcrCommand::RepeatReceipt { .. } => {
                    send(link, &PtMessage::Ack).await?;
                    let last = self.lock().last.clone();
                    match last {
                        Some((status, mut slip)) => {
                            slip.insert(0, "*** KOPIE ***".into());
                            self.finish(link, status, slip).await?;
                        }
                        None => {
                            self.deliver(link, &PtMessage::Abort { code: 0x83 }).await?;
                        }
                    }
                    Flow::Continue
                }
                EcrCommand::Other(_) => {
                    send(link, &PtMessage::Nak(NAK_NOT_POSSIBLE)).await?;
                    Flow::Continue
                }
            };
            if let Flow::Drop = flow {
                return Ok(Flow::Drop);
            }
        }
    }

    fn next_scenario(&self, amount: u64) -> Scenario {
        let mut s = self.lock();
        if let Some(sc) = s.scripted.pop_front() {
            return sc;
        }
        if s.config.magic_cents
            && let Some(sc) = Scenario::from_cents(amount)
        {
            return sc;
        }
        s.config.default_scenario
    }

    async fn authorization(
        &self,
        link: &mut Link,
        amount: u64,
        currency: u16,
    ) -> Result<Flow, LinkError> {
        let scenario = self.next_scenario(amount);
        if scenario == Scenario::Busy {
            send(link, &PtMessage::Nak(NAK_BUSY)).await?;
            return Ok(Flow::Continue);
        }
        send(link, &PtMessage::Ack).await?;
        let step = self.lock().config.step_delay;
        match scenario {
            Scenario::DropAfterAck => {
                let settle = self.lock().config.drop_duration;
                self.lock().busy_until = Some(Instant::now() + settle);
                let sim = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(settle / 2).await;
                    sim.book(EntryKind::Sale, amount, currency);
                });
                return Ok(Flow::Drop);
            }
            Scenario::Timeout => {
                self.deliver(link, &intermediate_msg(intermediate::INSERT_CARD))
                    .await?;
                loop {
                    if let EcrCommand::Abort =
                        EcrCommand::from_apdu(&self.recv(link).await?).unwrap_or(EcrCommand::Ack)
                    {
                        return self.aborted(link).await;
                    }
                }
            }
            Scenario::WaitForCard { ms } => {
                let until = Instant::now() + Duration::from_millis(ms);
                while Instant::now() < until {
                    if self
                        .deliver(link, &intermediate_msg(intermediate::INSERT_CARD))
                        .await?
                        || self
                            .abort_requested(link, Duration::from_millis(100))
                            .await?
                    {
                        return self.aborted(link).await;
                    }
                }
            }
            _ => {
                if self
                    .deliver(link, &intermediate_msg(intermediate::INSERT_CARD))
                    .await?
                    || self.abort_requested(link, step).await?
                {
                    return self.aborted(link).await;
                }
            }
        }
        // The card is in: PIN, then the host. An abort from here on is too late.
        for st in [intermediate::WATCH_PIN_PAD, intermediate::WAITING_FOR_HOST] {
            self.deliver(link, &intermediate_msg(st)).await?;
            let _ = self.abort_requested(link, step).await?;
        }
        if let Scenario::Decline { code } = scenario {
            let config = self.lock().config.clone();
            let status = StatusInformation {
                result_code: Some(code),
                amount: Some(amount),
                currency: Some(currency),
                terminal_id: Some(config.terminal_id.clone()),
                card_name: Some(config.card_brand.clone()),
                pan_last4: Some(config.pan_last4.clone()),
                ..Default::default()
            };
            self.deliver(link, &PtMessage::Status(Box::new(status)))
                .await?;
            for line in [
                "KUNDENBELEG".to_string(),
                config.card_brand.clone(),
                amount_text(amount, currency),
                "Zahlung nicht erfolgt".into(),
                result_text(code).into(),
            ] {
                self.deliver(link, &print_line(&line)).await?;
            }
            self.hand_back(link, &PtMessage::Abort { code }).await?;
            return Ok(Flow::Continue);
        }
        let (status, slip) = self.book(EntryKind::Sale, amount, currency);
        self.finish(link, status, slip).await?;
        Ok(Flow::Continue)
    }

    async fn reversal(
        &self,
        link: &mut Link,
        receipt_no: u32,
        scenario: Option<Scenario>,
    ) -> Result<Flow, LinkError> {
        match scenario {
            Some(Scenario::Decline { code }) => {
                self.deliver(link, &PtMessage::Abort { code }).await?;
                return Ok(Flow::Continue);
            }
            Some(Scenario::Timeout) => loop {
                if let EcrCommand::Abort =
                    EcrCommand::from_apdu(&self.recv(link).await?).unwrap_or(EcrCommand::Ack)
                {
                    return self.aborted(link).await;
                }
            },
            _ => {}
        }
        let found = {
            let mut s = self.lock();
            let entry = s
                .ledger
                .iter_mut()
                .find(|e| e.kind == EntryKind::Sale && e.receipt_no == receipt_no);
            match entry {
                None => Err(RESULT_REVERSAL_NOT_POSSIBLE),
                Some(e) if e.reversed => Err(RESULT_ALREADY_REVERSED),
                Some(e) => {
                    e.reversed = true;
                    Ok((e.amount as u64, e.currency))
                }
            }
        };
        match found {
            Err(code) => {
                self.deliver(link, &PtMessage::Abort { code }).await?;
            }
            Ok((amount, currency)) if scenario == Some(Scenario::DropAfterAck) => {
                // The answer is lost: the link drops, the reversal is booked a moment later.
                let settle = self.lock().config.drop_duration;
                self.lock().busy_until = Some(Instant::now() + settle);
                let sim = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(settle / 2).await;
                    sim.book(EntryKind::Reversal, amount, currency);
                });
                return Ok(Flow::Drop);
            }
            Ok((amount, currency)) => {
                let (status, slip) = self.book(EntryKind::Reversal, amount, currency);
                self.finish(link, status, slip).await?;
            }
        }
        Ok(Flow::Continue)
    }

    /// Books a transaction and returns its status information and slip.
    fn book(
        &self,
        kind: EntryKind,
        amount: u64,
        currency: u16,
    ) -> (StatusInformation, Vec<String>) {
        let mut s = self.lock();
        let receipt_no = s.next_receipt;
        let trace_no = s.next_trace;
        s.next_receipt = s.next_receipt % 9999 + 1;
        s.next_trace = s.next_trace % 999_999 + 1;
        let signed = match kind {
            EntryKind::Sale => amount as i64,
            EntryKind::Refund | EntryKind::Reversal => -(amount as i64),
        };
        s.ledger.push(LedgerEntry {
            kind,
            amount: signed,
            currency,
            receipt_no,
            trace_no,
            reversed: false,
        });
        let c = &s.config;
        let approval_code = format!("{:06}", (u64::from(trace_no) * 7919 + 104_729) % 1_000_000);
        let status = StatusInformation {
            result_code: Some(RESULT_OK),
            amount: Some(amount),
            currency: Some(currency),
            trace_no: Some(trace_no),
            receipt_no: Some(receipt_no),
            terminal_id: Some(c.terminal_id.clone()),
            card_name: Some(c.card_brand.clone()),
            card_type: Some(6),
            pan_last4: Some(c.pan_last4.clone()),
            approval_code: Some(approval_code.clone()),
            ..Default::default()
        };
        let title = match kind {
            EntryKind::Sale => "Kartenzahlung",
            EntryKind::Refund => "GUTSCHRIFT",
            EntryKind::Reversal => "STORNO",
        };
        let slip = vec![
            "KUNDENBELEG".to_string(),
            c.merchant.clone(),
            title.to_string(),
            c.card_brand.clone(),
            format!("Karte: ************{}", c.pan_last4),
            format!("Betrag: {}", amount_text(amount, currency)),
            format!("Terminal-ID: {}", c.terminal_id),
            format!("Trace-Nr.: {trace_no:06}  Beleg-Nr.: {receipt_no:04}"),
            format!("Genehmigungs-Nr.: {approval_code}"),
            "Zahlung erfolgt".to_string(),
        ];
        s.last = Some((status.clone(), slip.clone()));
        (status, slip)
    }

    fn end_of_day(&self) -> (StatusInformation, Vec<String>) {
        let mut s = self.lock();
        let batch = &s.ledger[s.batch_start..];
        let total: i64 = batch.iter().map(|e| e.amount).sum();
        let count = batch.len() as u32;
        let currency = batch.first().map(|e| e.currency).unwrap_or(978);
        s.batch_start = s.ledger.len();
        let total_u = total.max(0) as u64;
        let status = StatusInformation {
            result_code: Some(RESULT_OK),
            amount: Some(total_u),
            currency: Some(currency),
            terminal_id: Some(s.config.terminal_id.clone()),
            transaction_count: Some(count),
            ..Default::default()
        };
        let slip = vec![
            "KASSENSCHNITT".to_string(),
            s.config.merchant.clone(),
            format!("Terminal-ID: {}", s.config.terminal_id),
            format!("Anzahl: {count}"),
            format!("Summe: {}", amount_text(total_u, currency)),
            "Kassenschnitt erfolgreich".to_string(),
        ];
        (status, slip)
    }
}

fn intermediate_msg(status: u8) -> PtMessage {
    PtMessage::Intermediate { status }
}

fn print_line(text: &str) -> PtMessage {
    PtMessage::PrintLine {
        attribute: 0,
        text: text.to_string(),
    }
}

fn apdu_of(msg: &PtMessage) -> Result<Apdu, LinkError> {
    msg.to_apdu()
        .map_err(|e| LinkError::Protocol(e.to_string()))
}

async fn send(link: &mut Link, msg: &PtMessage) -> Result<(), LinkError> {
    link.send(&apdu_of(msg)?).await
}
