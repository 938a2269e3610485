//! The ZVT driver: [`ZvtTerminal`] implements [`PaymentTerminal`] for a terminal reached over
//! TCP or serial.
//!
//! Exactly-once design (the decision, written down):
//! 1. Before an authorization (06 01), refund (06 31) or keyed reversal (06 30) is sent, a [`PendingPayment`] with the
//!    caller's `ref_id`, the amount and the terminal's last known receipt number (the
//!    *baseline*) is inserted into the [`PendingPaymentStore`]. An existing record for the
//!    `ref_id` is never sent again: an approved one is returned as it is, an unfinished one is
//!    recovered, any other gets [`PaymentError::AlreadyAttempted`].
//! 2. If the link drops or the terminal falls silent at any point after the command left, the
//!    driver reconnects and sends **Repeat Receipt (06 20)**, to which the terminal answers
//!    with the status information (04 0F) and slip of its *last* transaction. ZVT has no
//!    "query by ECR reference", and Status Enquiry (05 01) reports terminal state, not
//!    transaction results, so this is the one standard way to learn what happened.
//! 3. That transaction is ours when its receipt number differs from the baseline, is not
//!    attributed to another recorded payment, and its amount matches; then its result stands
//!    (approved → the approval is returned with `recovered = true`; declined → declined).
//!    The same receipt number as the baseline (or no transaction, or another amount) means our
//!    command never ran: nothing was charged ([`PaymentError::ConnectionLost`]).
//! 4. Without a baseline (the first payment this store has seen) a matching approved
//!    transaction cannot be told apart from one made before: it is **reversed** (06 30) so the
//!    customer is not charged without the POS knowing, and the cashier retries.
//! 5. While the terminal cannot be reached (or stays busy) recovery retries until
//!    [`ZvtTimeouts::recovery`]; then the record stays `InFlight`,
//!    [`PaymentError::OutcomeUnknown`] is returned, and [`PaymentTerminal::recover`] (also run
//!    by `register`) settles it later. Nothing is ever re-sent under the same `ref_id`.
//! 6. Because recovery reads the terminal's *last* transaction, no other payment, refund,
//!    reversal or end of day starts while a record is `InFlight`: those are settled first,
//!    and if that is not possible the new command is refused with the unresolved reference
//!    ([`PaymentError::OutcomeUnknown`]) without reaching the terminal.
//!
//! 7. A keyed reversal ([`PaymentTerminal::reverse_keyed`]) follows 1–6 with the original
//!    payment's amount; its baseline is the last known receipt number, or the original's
//!    receipt number when none is known (a booked reversal always gets a new receipt number),
//!    so point 4 never applies: a reversal is never "reversed". The terminal's last transaction
//!    is taken as our reversal when its receipt number is neither the baseline nor the
//!    original's, is not attributed to another record, its amount is the original's and it
//!    succeeded; a result code other than 00 there settles it as declined; anything else
//!    (same receipt as the baseline, nothing to repeat, another amount) means the terminal did
//!    not book it (`NotCharged`, [`PaymentError::ConnectionLost`]: "not reversed", the register
//!    may reverse again under a new `ref_id` or refund). A `ref_id` reused for another kind of
//!    transaction or another amount gets [`PaymentError::AlreadyAttempted`].
//!
//! Timeouts: the terminal must acknowledge a command within `ack`; during a transaction it
//! must send something (intermediate status is the keep-alive) at least every `idle`, and the
//! whole transaction must end within `overall`. A silent terminal gets an Abort (06 B0) and
//! `abort_grace` to confirm it (06 1E) before the outcome is treated as unknown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use pos_core::{Currency, Money};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::time::Instant;

use super::apdu::Apdu;
use super::link::{Link, ZvtTransport};
use super::messages::{
    EcrCommand, NAK_BUSY, NAK_NOT_POSSIBLE, PtMessage, RESULT_ABORTED, RESULT_OK,
    StatusInformation, currency_code, intermediate, result_text,
};
use crate::payment::{
    Approval, EndOfDayReport, PaymentError, PaymentKind, PaymentTerminal, PendingPayment,
    PendingPaymentStore, PendingState, TerminalInfo, TerminalStatus, mask_card_numbers,
};

/// The largest amount BMP 04 can carry (12 BCD digits).
const MAX_AMOUNT: i64 = 999_999_999_999;

/// Timeouts of the driver (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ZvtTimeouts {
    pub connect: Duration,
    pub ack: Duration,
    pub idle: Duration,
    pub overall: Duration,
    pub abort_grace: Duration,
    pub recovery: Duration,
    /// Pause between recovery attempts.
    pub retry_pause: Duration,
}

impl Default for ZvtTimeouts {
    fn default() -> Self {
        ZvtTimeouts {
            connect: Duration::from_secs(5),
            ack: Duration::from_secs(5),
            idle: Duration::from_secs(60),
            overall: Duration::from_secs(300),
            abort_grace: Duration::from_secs(10),
            recovery: Duration::from_secs(60),
            retry_pause: Duration::from_millis(500),
        }
    }
}

/// How to reach and log on to the terminal. As JSON only `transport` and `currency` are
/// required: `{"transport": {"kind": "tcp", "addr": "192.168.1.50:20007"}, "currency": "EUR"}`
/// or `{"transport": {"kind": "serial", "path": "/dev/ttyUSB0", "baud": 9600}, ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZvtConfig {
    pub transport: ZvtTransport,
    /// The terminal's 6-digit password (often 000000 or 123456).
    #[serde(default)]
    pub password: u32,
    pub currency: Currency,
    /// Registration config byte. Default 0xBE: the ECR prints payment and administration
    /// receipts (slips come as print lines), wants intermediate status, controls payment and
    /// administration, and uses print lines.
    #[serde(default = "default_config_byte")]
    pub config_byte: u8,
    #[serde(default)]
    pub timeouts: ZvtTimeouts,
}

fn default_config_byte() -> u8 {
    0xBE
}

impl ZvtConfig {
    pub fn new(transport: ZvtTransport, currency: Currency) -> Self {
        ZvtConfig {
            transport,
            password: 0,
            currency,
            config_byte: default_config_byte(),
            timeouts: ZvtTimeouts::default(),
        }
    }
}

/// How one command exchange ended (short-lived, so the large variant is not boxed).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
enum TxEnd {
    /// 06 0F.
    Completed {
        status: Option<StatusInformation>,
        slip: Vec<String>,
        terminal_id: Option<String>,
    },
    /// 06 1E with a result code.
    Aborted { code: u8, cause: Option<AbortCause> },
    /// 84 xx to our command: not started.
    Refused(u8),
    /// The link dropped or the terminal fell silent; `started` = it had acknowledged.
    LinkLost { reason: String },
}

/// The parts of a completed exchange.
struct Completed {
    status: Option<StatusInformation>,
    slip: Vec<String>,
    terminal_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AbortCause {
    Requested,
    Timeout,
}

/// A payment terminal spoken to over ZVT.
pub struct ZvtTerminal {
    config: ZvtConfig,
    store: Arc<dyn PendingPaymentStore>,
    op_lock: tokio::sync::Mutex<()>,
    abort_tx: watch::Sender<u64>,
    abortable_running: AtomicBool,
    status_tx: watch::Sender<TerminalStatus>,
}

struct RunningFlag<'a>(&'a AtomicBool);
impl Drop for RunningFlag<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

fn is_busy_code(code: u8) -> bool {
    matches!(code, NAK_BUSY | NAK_NOT_POSSIBLE | 0x9C)
}

impl ZvtTerminal {
    pub fn new(config: ZvtConfig, store: Arc<dyn PendingPaymentStore>) -> Self {
        ZvtTerminal {
            config,
            store,
            op_lock: tokio::sync::Mutex::new(()),
            abort_tx: watch::channel(0).0,
            abortable_running: AtomicBool::new(false),
            status_tx: watch::channel(TerminalStatus::Idle).0,
        }
    }

    pub fn config(&self) -> &ZvtConfig {
        &self.config
    }

    fn set_status(&self, s: TerminalStatus) {
        self.status_tx.send_replace(s);
    }

    fn store_err(e: String) -> PaymentError {
        PaymentError::Store(e)
    }

    fn cc(&self) -> u16 {
        currency_code(self.config.currency)
    }

    fn money(&self, minor: u64) -> Money {
        Money::new(minor as i64, self.config.currency)
    }

    async fn connect(&self) -> Result<Link, String> {
        Link::connect(&self.config.transport, self.config.timeouts.connect)
            .await
            .map_err(|e| format!("{}: {e}", self.config.transport.describe()))
    }

    fn apdu(cmd: EcrCommand) -> Result<Apdu, PaymentError> {
        cmd.to_apdu()
            .map_err(|e| PaymentError::InvalidAmount(e.to_string()))
    }

    /// Sends one command and follows the terminal until it hands mastership back.
    async fn exchange(&self, link: &mut Link, cmd: &Apdu, abortable: bool) -> TxEnd {
        let t = &self.config.timeouts;
        let mut abort_rx = self.abort_tx.subscribe();
        let _running = if abortable {
            self.abortable_running.store(true, Ordering::SeqCst);
            Some(RunningFlag(&self.abortable_running))
        } else {
            None
        };
        let lost = |reason: String| TxEnd::LinkLost { reason };
        if let Err(e) = link.send(cmd).await {
            return lost(e.to_string());
        }
        match tokio::time::timeout(t.ack, link.recv()).await {
            Err(_) => return lost("no acknowledgement from the terminal".into()),
            Ok(Err(e)) => return lost(e.to_string()),
            Ok(Ok(a)) => match PtMessage::from_apdu(&a) {
                Ok(PtMessage::Ack) => {}
                Ok(PtMessage::Nak(code)) => return TxEnd::Refused(code),
                Ok(_) | Err(_) => return lost(format!("expected an acknowledgement, got {a:?}")),
            },
        }
        let started = Instant::now();
        let mut abort: Option<(AbortCause, Instant)> = None;
        let mut status: Option<StatusInformation> = None;
        let mut slip = Vec::new();
        let abort_apdu = Apdu::new(0x06, 0xB0, vec![]);
        let ack_apdu = Apdu::new(0x80, 0x00, vec![]);
        loop {
            let now = Instant::now();
            let wait = match abort {
                Some((_, deadline)) => deadline.saturating_duration_since(now),
                None => t
                    .idle
                    .min((started + t.overall).saturating_duration_since(now)),
            };
            let received = tokio::select! {
                r = tokio::time::timeout(wait, link.recv()) => r,
                _ = abort_rx.changed(), if abortable && abort.is_none() => {
                    if let Err(e) = link.send(&abort_apdu).await {
                        return lost(e.to_string());
                    }
                    abort = Some((AbortCause::Requested, Instant::now() + t.abort_grace));
                    continue;
                }
            };
            let apdu = match received {
                Err(_) if abortable && abort.is_none() => {
                    tracing::warn!("payment terminal silent; sending abort");
                    if let Err(e) = link.send(&abort_apdu).await {
                        return lost(e.to_string());
                    }
                    abort = Some((AbortCause::Timeout, Instant::now() + t.abort_grace));
                    continue;
                }
                Err(_) => return lost("the terminal stopped answering".into()),
                Ok(Err(e)) => return lost(e.to_string()),
                Ok(Ok(a)) => a,
            };
            let msg = match PtMessage::from_apdu(&apdu) {
                Ok(m) => m,
                Err(e) => return lost(format!("unreadable message {apdu:?}: {e}")),
            };
            if matches!(msg, PtMessage::Ack | PtMessage::Nak(_)) {
                continue; // the terminal's answer to our abort request
            }
            if let Err(e) = link.send(&ack_apdu).await {
                return lost(e.to_string());
            }
            match msg {
                PtMessage::Intermediate { status } => self.set_status(match status {
                    intermediate::INSERT_CARD => TerminalStatus::WaitingForCard,
                    intermediate::WATCH_PIN_PAD
                    | intermediate::WATCH_PIN_PAD_2
                    | intermediate::INCORRECT_PIN => TerminalStatus::PinEntry,
                    _ => TerminalStatus::Processing,
                }),
                PtMessage::Status(s) => status = Some(*s),
                PtMessage::PrintLine { text, .. } => slip.push(mask_card_numbers(&text)),
                PtMessage::TextBlock { lines, .. } => {
                    slip.extend(lines.iter().map(|l| mask_card_numbers(l)))
                }
                PtMessage::Completion { terminal_id, .. } => {
                    return TxEnd::Completed {
                        status,
                        slip,
                        terminal_id,
                    };
                }
                PtMessage::Abort { code } => {
                    return TxEnd::Aborted {
                        code,
                        cause: abort.map(|(c, _)| c),
                    };
                }
                PtMessage::Ack | PtMessage::Nak(_) | PtMessage::Other(_) => {}
            }
        }
    }

    fn approval_from(
        &self,
        ref_id: &str,
        s: &StatusInformation,
        slip: Vec<String>,
        recovered: bool,
    ) -> Result<Approval, PaymentError> {
        let receipt_no = s
            .receipt_no
            .ok_or_else(|| PaymentError::Protocol("approval without a receipt number".into()))?;
        Ok(Approval {
            ref_id: ref_id.to_string(),
            amount: self.money(s.amount.unwrap_or(0)),
            receipt_no,
            trace_no: s.trace_no,
            approval_code: s.approval_code.clone(),
            terminal_id: s.terminal_id.clone(),
            card_brand: s.card_name.clone(),
            pan_last4: s.pan_last4.clone(),
            slip_lines: slip,
            recovered,
        })
    }

    fn record(&self, ref_id: &str, state: PendingState) -> Result<(), PaymentError> {
        if let PendingState::Approved { approval } = &state {
            self.store
                .set_last_receipt_no(approval.receipt_no)
                .map_err(Self::store_err)?;
        }
        self.store
            .set_state(ref_id, &state)
            .map_err(Self::store_err)
    }

    fn validate(&self, amount: Money) -> Result<u64, PaymentError> {
        if amount.currency != self.config.currency {
            return Err(PaymentError::InvalidAmount(format!(
                "terminal is set up for {}, not {}",
                self.config.currency, amount.currency
            )));
        }
        if amount.minor <= 0 || amount.minor > MAX_AMOUNT {
            return Err(PaymentError::InvalidAmount(format!(
                "{} cannot be paid by card",
                amount.minor
            )));
        }
        Ok(amount.minor as u64)
    }

    /// Authorization or refund with the exactly-once protocol of the module doc.
    async fn card_transaction(
        &self,
        kind: PaymentKind,
        amount: Money,
        ref_id: &str,
    ) -> Result<Approval, PaymentError> {
        let minor = self.validate(amount)?;
        let _op = self.op_lock.try_lock().map_err(|_| PaymentError::Busy)?;
        self.settle_in_flight_first(Some(ref_id)).await?;
        let last_known = self.store.last_receipt_no().map_err(Self::store_err)?;
        let record = PendingPayment {
            ref_id: ref_id.to_string(),
            kind,
            amount,
            baseline_receipt_no: match kind {
                PaymentKind::Reversal {
                    original_receipt_no,
                } => last_known.or(Some(original_receipt_no)),
                PaymentKind::Sale | PaymentKind::Refund => last_known,
            },
            state: PendingState::InFlight,
        };
        if let Some(existing) = self.store.insert_new(&record).map_err(Self::store_err)? {
            let is_reversal = |k: PaymentKind| matches!(k, PaymentKind::Reversal { .. });
            if (is_reversal(kind) || is_reversal(existing.kind))
                && (existing.kind != kind || existing.amount != amount)
            {
                tracing::warn!(ref_id, ?kind, existing = ?existing.kind, "ref_id reused for another transaction");
                return Err(PaymentError::AlreadyAttempted {
                    ref_id: ref_id.to_string(),
                });
            }
            return match existing.state {
                PendingState::Approved { approval } => Ok(approval),
                PendingState::InFlight => self.recover_one(&existing).await,
                _ => Err(PaymentError::AlreadyAttempted {
                    ref_id: ref_id.to_string(),
                }),
            };
        }
        self.set_status(TerminalStatus::Connecting);
        let mut link = match self.connect().await {
            Ok(l) => l,
            Err(e) => {
                self.record(ref_id, PendingState::NotCharged { reason: e.clone() })?;
                self.set_status(TerminalStatus::Error { message: e.clone() });
                return Err(PaymentError::Unreachable(e));
            }
        };
        let cmd = match kind {
            PaymentKind::Sale => EcrCommand::Authorization {
                amount: minor,
                currency: self.cc(),
            },
            PaymentKind::Refund => EcrCommand::Refund {
                password: self.config.password,
                amount: minor,
                currency: self.cc(),
            },
            PaymentKind::Reversal {
                original_receipt_no,
            } => EcrCommand::Reversal {
                password: self.config.password,
                receipt_no: original_receipt_no,
            },
        };
        self.set_status(TerminalStatus::Processing);
        let end = self.exchange(&mut link, &Self::apdu(cmd)?, true).await;
        drop(link);
        tracing::info!(ref_id, ?kind, outcome = ?end_summary(&end), "card transaction ended");
        match end {
            TxEnd::Completed {
                status: Some(s), ..
            } if s.result_code.unwrap_or(RESULT_OK) != RESULT_OK => {
                let code = s.result_code.unwrap_or(0xFF);
                self.declined(ref_id, code)
            }
            TxEnd::Completed {
                status: Some(s),
                slip,
                ..
            } if s.receipt_no.is_some() => {
                let approval = self.approval_from(ref_id, &s, slip, false)?;
                self.record(
                    ref_id,
                    PendingState::Approved {
                        approval: approval.clone(),
                    },
                )?;
                self.set_status(TerminalStatus::Approved);
                Ok(approval)
            }
            // A completion without a usable result: find out what the terminal booked.
            TxEnd::Completed { .. } => self.recover_one(&record).await,
            TxEnd::Aborted { code, cause } if code == RESULT_ABORTED && cause.is_some() => {
                let (reason, err) = match cause {
                    Some(AbortCause::Timeout) => ("terminal timed out", PaymentError::Timeout),
                    _ => ("cancelled", PaymentError::Aborted),
                };
                self.record(
                    ref_id,
                    PendingState::NotCharged {
                        reason: reason.into(),
                    },
                )?;
                self.set_status(TerminalStatus::Idle);
                Err(err)
            }
            TxEnd::Aborted { code, .. } => self.declined(ref_id, code),
            TxEnd::Refused(code) => {
                self.record(
                    ref_id,
                    PendingState::NotCharged {
                        reason: format!("terminal refused the command (84 {code:02X})"),
                    },
                )?;
                self.set_status(TerminalStatus::Idle);
                if is_busy_code(code) {
                    Err(PaymentError::Busy)
                } else {
                    Err(PaymentError::Protocol(format!(
                        "terminal refused the command (84 {code:02X})"
                    )))
                }
            }
            TxEnd::LinkLost { reason } => {
                tracing::warn!(ref_id, %reason, "link lost during card transaction; recovering");
                self.recover_one(&record).await
            }
        }
    }

    fn declined(&self, ref_id: &str, code: u8) -> Result<Approval, PaymentError> {
        let text = result_text(code).to_string();
        self.record(
            ref_id,
            PendingState::Declined {
                code,
                text: text.clone(),
            },
        )?;
        self.set_status(TerminalStatus::Declined {
            reason: text.clone(),
        });
        Err(PaymentError::Declined { code, text })
    }

    /// Establishes the outcome of an in-flight record with Repeat Receipt (see module doc).
    async fn recover_one(&self, record: &PendingPayment) -> Result<Approval, PaymentError> {
        self.set_status(TerminalStatus::Recovering);
        let t = &self.config.timeouts;
        let deadline = Instant::now() + t.recovery;
        let ref_id = record.ref_id.as_str();
        let repeat = Self::apdu(EcrCommand::RepeatReceipt {
            password: self.config.password,
        })?;
        // A reversal's own receipt number is never the original's (module doc, point 7).
        let (baseline, original) = match record.kind {
            PaymentKind::Reversal {
                original_receipt_no,
            } => (
                record.baseline_receipt_no.or(Some(original_receipt_no)),
                Some(original_receipt_no),
            ),
            PaymentKind::Sale | PaymentKind::Refund => (record.baseline_receipt_no, None),
        };
        loop {
            if Instant::now() >= deadline {
                let message = format!("outcome of payment {ref_id} unknown");
                self.set_status(TerminalStatus::Error { message });
                return Err(PaymentError::OutcomeUnknown {
                    ref_id: ref_id.to_string(),
                });
            }
            let mut link = match self.connect().await {
                Ok(l) => l,
                Err(e) => {
                    tracing::info!(%e, "recovery: terminal not reachable yet");
                    tokio::time::sleep(t.retry_pause).await;
                    continue;
                }
            };
            let (last, slip) = match self.exchange(&mut link, &repeat, false).await {
                TxEnd::Completed { status, slip, .. } => (status, slip),
                // "Please wait" / "not ready": still busy, perhaps with our payment.
                TxEnd::Aborted { code, .. } if is_busy_code(code) => {
                    drop(link);
                    tokio::time::sleep(t.retry_pause).await;
                    continue;
                }
                // Nothing to repeat: the terminal has no transaction at all.
                TxEnd::Aborted { .. } => (None, Vec::new()),
                TxEnd::Refused(_) | TxEnd::LinkLost { .. } => {
                    drop(link);
                    tokio::time::sleep(t.retry_pause).await;
                    continue;
                }
            };
            let ours = match &last {
                Some(s) => match s.receipt_no {
                    Some(r) if Some(r) != baseline && Some(r) != original => {
                        let attributed = self
                            .store
                            .receipt_is_attributed(r)
                            .map_err(Self::store_err)?;
                        let amount_matches = s.amount == Some(record.amount.minor as u64);
                        !attributed && amount_matches
                    }
                    _ => false,
                },
                None => false,
            };
            let Some(s) = last.filter(|_| ours) else {
                tracing::info!(ref_id, "recovery: the terminal did not book this payment");
                self.record(
                    ref_id,
                    PendingState::NotCharged {
                        reason: "link lost; the terminal has no transaction for it".into(),
                    },
                )?;
                self.set_status(TerminalStatus::Idle);
                return Err(PaymentError::ConnectionLost);
            };
            if s.result_code.unwrap_or(RESULT_OK) != RESULT_OK {
                return self.declined(ref_id, s.result_code.unwrap_or(0xFF));
            }
            let receipt_no = s.receipt_no.unwrap_or_default();
            if baseline.is_some() {
                let approval = self.approval_from(ref_id, &s, slip, true)?;
                tracing::info!(ref_id, receipt_no, "recovery: payment was approved");
                self.record(
                    ref_id,
                    PendingState::Approved {
                        approval: approval.clone(),
                    },
                )?;
                self.set_status(TerminalStatus::Approved);
                return Ok(approval);
            }
            // No baseline: cannot prove the transaction is ours. Reverse it.
            tracing::warn!(
                ref_id,
                receipt_no,
                "recovery: unattributable charge; reversing"
            );
            let reversal = Self::apdu(EcrCommand::Reversal {
                password: self.config.password,
                receipt_no,
            })?;
            match self.exchange(&mut link, &reversal, false).await {
                TxEnd::Completed {
                    status: Some(rs), ..
                } if rs.result_code.unwrap_or(RESULT_OK) == RESULT_OK => {
                    if let Some(r) = rs.receipt_no {
                        self.store.set_last_receipt_no(r).map_err(Self::store_err)?;
                    }
                    self.record(ref_id, PendingState::Reversed { receipt_no })?;
                    self.set_status(TerminalStatus::Idle);
                    return Err(PaymentError::ConnectionLost);
                }
                other => {
                    tracing::warn!(outcome = ?end_summary(&other), "recovery: reversal failed; retrying");
                    drop(link);
                    tokio::time::sleep(t.retry_pause).await;
                }
            }
        }
    }

    /// A command without money at stake: one exchange, errors mapped directly.
    async fn simple_command(&self, cmd: EcrCommand) -> Result<Completed, PaymentError> {
        let mut link = self.connect().await.map_err(|e| {
            self.set_status(TerminalStatus::Error { message: e.clone() });
            PaymentError::Unreachable(e)
        })?;
        let end = self.exchange(&mut link, &Self::apdu(cmd)?, false).await;
        match end {
            TxEnd::Refused(code) if is_busy_code(code) => Err(PaymentError::Busy),
            TxEnd::Refused(code) => Err(PaymentError::Protocol(format!(
                "terminal refused the command (84 {code:02X})"
            ))),
            TxEnd::LinkLost { reason } => {
                self.set_status(TerminalStatus::Error {
                    message: reason.clone(),
                });
                Err(PaymentError::Unreachable(reason))
            }
            TxEnd::Aborted { code, .. } => Err(PaymentError::Declined {
                code,
                text: result_text(code).to_string(),
            }),
            TxEnd::Completed {
                status,
                slip,
                terminal_id,
            } => Ok(Completed {
                status,
                slip,
                terminal_id,
            }),
        }
    }

    /// Recovery reads the terminal's *last* transaction, so nothing new may be booked while
    /// an earlier payment is unresolved: settle those first, or refuse with their reference.
    async fn settle_in_flight_first(&self, except: Option<&str>) -> Result<(), PaymentError> {
        for pending in self.store.in_flight().map_err(Self::store_err)? {
            if Some(pending.ref_id.as_str()) == except {
                continue;
            }
            if let Err(e @ (PaymentError::OutcomeUnknown { .. } | PaymentError::Store(_))) =
                self.recover_one(&pending).await
            {
                return Err(e);
            }
        }
        Ok(())
    }

    /// When the store has never seen a transaction of this terminal, asks for its last one
    /// (Repeat Receipt) and keeps its receipt number as the baseline, so that a first payment
    /// whose link drops can be attributed (point 3 of the module doc) instead of reversed
    /// (point 4). Only a transaction the terminal actually reports sets it; anything else
    /// leaves the store as it was.
    async fn learn_baseline(&self) {
        if !matches!(self.store.last_receipt_no(), Ok(None)) {
            return;
        }
        let Ok(cmd) = Self::apdu(EcrCommand::RepeatReceipt {
            password: self.config.password,
        }) else {
            return;
        };
        let Ok(mut link) = self.connect().await else {
            return;
        };
        if let TxEnd::Completed {
            status:
                Some(StatusInformation {
                    receipt_no: Some(r),
                    ..
                }),
            ..
        } = self.exchange(&mut link, &cmd, false).await
        {
            tracing::info!(
                receipt_no = r,
                "payment terminal: last receipt number learned"
            );
            if let Err(e) = self.store.set_last_receipt_no(r) {
                tracing::warn!(%e, "cannot record the terminal's last receipt number");
            }
        }
        self.set_status(TerminalStatus::Idle);
    }

    async fn recover_all(&self) -> Result<Vec<PendingPayment>, PaymentError> {
        let mut settled = Vec::new();
        for record in self.store.in_flight().map_err(Self::store_err)? {
            match self.recover_one(&record).await {
                Err(e @ PaymentError::OutcomeUnknown { .. }) => return Err(e),
                Err(PaymentError::Store(e)) => return Err(PaymentError::Store(e)),
                _ => {}
            }
            if let Some(r) = self.store.get(&record.ref_id).map_err(Self::store_err)? {
                settled.push(r);
            }
        }
        Ok(settled)
    }
}

fn end_summary(end: &TxEnd) -> String {
    match end {
        TxEnd::Completed { status, .. } => format!(
            "completed, result {:?}, receipt {:?}",
            status.as_ref().and_then(|s| s.result_code),
            status.as_ref().and_then(|s| s.receipt_no)
        ),
        TxEnd::Aborted { code, cause } => format!("aborted {code:02X} ({cause:?})"),
        TxEnd::Refused(code) => format!("refused 84 {code:02X}"),
        TxEnd::LinkLost { reason } => format!("link lost: {reason}"),
    }
}

#[async_trait]
impl PaymentTerminal for ZvtTerminal {
    async fn register(&self) -> Result<TerminalInfo, PaymentError> {
        let _op = self.op_lock.try_lock().map_err(|_| PaymentError::Busy)?;
        self.set_status(TerminalStatus::Connecting);
        let end = self
            .simple_command(EcrCommand::Registration {
                password: self.config.password,
                config: self.config.config_byte,
                currency: self.cc(),
            })
            .await?;
        let Completed { terminal_id, .. } = end;
        self.set_status(TerminalStatus::Idle);
        match self.recover_all().await {
            Ok(_) => self.learn_baseline().await,
            Err(e) => tracing::warn!(%e, "unresolved payments remain after registration"),
        }
        Ok(TerminalInfo {
            terminal_id,
            transport: self.config.transport.describe(),
        })
    }

    async fn authorize(&self, amount: Money, ref_id: &str) -> Result<Approval, PaymentError> {
        self.card_transaction(PaymentKind::Sale, amount, ref_id)
            .await
    }

    async fn reverse(&self, receipt_no: u32) -> Result<Approval, PaymentError> {
        let sale = self
            .store
            .approved_sale_with_receipt_no(receipt_no)
            .map_err(Self::store_err)?;
        if let Some(PendingPayment {
            ref_id,
            state: PendingState::Approved { approval },
            ..
        }) = sale
        {
            return self
                .reverse_keyed(
                    &format!("reversal-of-{ref_id}"),
                    receipt_no,
                    approval.amount,
                )
                .await;
        }
        tracing::warn!(
            receipt_no,
            "reversal of a payment the store does not know: sent without a pending record"
        );
        let _op = self.op_lock.try_lock().map_err(|_| PaymentError::Busy)?;
        self.settle_in_flight_first(None).await?;
        self.set_status(TerminalStatus::Processing);
        let end = self
            .simple_command(EcrCommand::Reversal {
                password: self.config.password,
                receipt_no,
            })
            .await;
        self.set_status(TerminalStatus::Idle);
        let Completed { status, slip, .. } = end?;
        let s = status
            .ok_or_else(|| PaymentError::Protocol("reversal without status information".into()))?;
        if let Some(code) = s.result_code.filter(|c| *c != RESULT_OK) {
            return Err(PaymentError::Declined {
                code,
                text: result_text(code).to_string(),
            });
        }
        let approval = self.approval_from(&format!("reversal-{receipt_no}"), &s, slip, false)?;
        self.store
            .set_last_receipt_no(approval.receipt_no)
            .map_err(Self::store_err)?;
        Ok(approval)
    }

    async fn reverse_keyed(
        &self,
        ref_id: &str,
        original_receipt_no: u32,
        amount: Money,
    ) -> Result<Approval, PaymentError> {
        tracing::info!(ref_id, original_receipt_no, "reversal");
        self.card_transaction(
            PaymentKind::Reversal {
                original_receipt_no,
            },
            amount,
            ref_id,
        )
        .await
    }

    async fn refund(
        &self,
        amount: Money,
        ref_id: &str,
        original_receipt_no: Option<u32>,
    ) -> Result<Approval, PaymentError> {
        tracing::info!(ref_id, ?original_receipt_no, "refund");
        self.card_transaction(PaymentKind::Refund, amount, ref_id)
            .await
    }

    async fn end_of_day(&self) -> Result<EndOfDayReport, PaymentError> {
        let _op = self.op_lock.try_lock().map_err(|_| PaymentError::Busy)?;
        self.settle_in_flight_first(None).await?;
        self.set_status(TerminalStatus::Processing);
        let end = self
            .simple_command(EcrCommand::EndOfDay {
                password: self.config.password,
            })
            .await;
        self.set_status(TerminalStatus::Idle);
        let Completed { status, slip, .. } = end?;
        let s = status.unwrap_or_default();
        if let Some(code) = s.result_code.filter(|c| *c != RESULT_OK) {
            return Err(PaymentError::Declined {
                code,
                text: result_text(code).to_string(),
            });
        }
        Ok(EndOfDayReport {
            total: self.money(s.amount.unwrap_or(0)),
            transaction_count: s.transaction_count,
            slip_lines: slip,
        })
    }

    async fn abort(&self) -> Result<bool, PaymentError> {
        if !self.abortable_running.load(Ordering::SeqCst) {
            return Ok(false);
        }
        self.abort_tx.send_modify(|n| *n += 1);
        Ok(true)
    }

    async fn recover(&self) -> Result<Vec<PendingPayment>, PaymentError> {
        let _op = self.op_lock.try_lock().map_err(|_| PaymentError::Busy)?;
        self.recover_all().await
    }

    fn status(&self) -> watch::Receiver<TerminalStatus> {
        self.status_tx.subscribe()
    }
}
