//! The payment terminal as the app sees it: one async trait ([`PaymentTerminal`], held as
//! `Box<dyn PaymentTerminal>`), its results, typed errors, a status stream for the UI, and the
//! write-ahead store that makes a card payment happen at most once.
//!
//! Invariants:
//! - The POS never receives a card number: an [`Approval`] carries the brand and the last four
//!   digits only.
//! - Exactly once: before an authorization, refund or keyed reversal is sent, a [`PendingPayment`] with the
//!   caller's `ref_id` is written to the [`PendingPaymentStore`]. A `ref_id` is sent to the
//!   terminal at most once; calling again with the same `ref_id` returns the recorded outcome
//!   (or resolves an unfinished one) and never charges again.
//! - A payment whose outcome could not be established stays [`PendingState::InFlight`] in the
//!   store until [`PaymentTerminal::recover`] settles it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use pos_core::Money;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// What the terminal is doing, for the UI ("insert card", "enter PIN").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TerminalStatus {
    /// Ready for a command.
    Idle,
    /// Connecting or registering.
    Connecting,
    /// Waiting for the customer to insert, tap or swipe a card.
    WaitingForCard,
    /// The customer is entering the PIN.
    PinEntry,
    /// Talking to the bank, printing, removing the card.
    Processing,
    /// The last payment was approved.
    Approved,
    /// The last payment was declined.
    Declined { reason: String },
    /// Re-establishing the outcome of a payment after the link dropped.
    Recovering,
    /// Something failed (terminal unreachable, protocol error).
    Error { message: String },
}

/// A successful card transaction (payment, refund or reversal) as the terminal reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The caller's reference (the sale's tender id); for a reversal the `ref_id` passed to
    /// [`PaymentTerminal::reverse_keyed`] (`reverse` derives `reversal-of-<ref_id of the sale>`,
    /// or `reversal-<receipt>` for a payment the store does not know).
    pub ref_id: String,
    pub amount: Money,
    /// The terminal's receipt number (BMP 87); reversals refer to it.
    pub receipt_no: u32,
    /// The terminal's trace number (BMP 0B).
    pub trace_no: Option<u32>,
    /// The issuer's authorisation code (BMP 3B), when the terminal reports one.
    pub approval_code: Option<String>,
    /// The terminal id (BMP 29).
    pub terminal_id: Option<String>,
    /// The card brand ("Mastercard", "girocard").
    pub card_brand: Option<String>,
    /// The last four digits of the card number, nothing more.
    pub pan_last4: Option<String>,
    /// The terminal's slip, line by line, to print on or with the receipt.
    pub slip_lines: Vec<String>,
    /// True when the outcome was recovered after the link dropped.
    pub recovered: bool,
}

impl Approval {
    /// "************1234" for the receipt, when the last four digits are known.
    pub fn masked_pan(&self) -> Option<String> {
        self.pan_last4.as_ref().map(|l| format!("************{l}"))
    }
}

/// Masks anything in a terminal's slip line that could be a full card number: a run of 13 to
/// 19 digits (contiguous, or in groups split by single spaces or dashes that pass the Luhn
/// check) keeps its last four digits and the rest becomes `*`. Terminals print masked numbers
/// on the customer's copy, but a merchant copy or a misconfigured terminal may not; this keeps
/// a full number off the POS's paper and out of its database either way.
pub fn mask_card_numbers(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // The longest run of digits with single separators between digit groups.
        let start = i;
        let mut end = i;
        let mut digits = String::new();
        let mut separated = false;
        let mut j = i;
        while j < chars.len() {
            if chars[j].is_ascii_digit() {
                digits.push(chars[j]);
                end = j + 1;
                j += 1;
            } else if matches!(chars[j], ' ' | '-')
                && chars.get(j + 1).is_some_and(char::is_ascii_digit)
            {
                separated = true;
                j += 1;
            } else {
                break;
            }
        }
        let looks_like_pan =
            (13..=19).contains(&digits.len()) && (!separated || crate::card::luhn_ok(&digits));
        if looks_like_pan {
            let keep = digits.len() - 4;
            out.push_str(&"*".repeat(keep));
            out.push_str(&digits[keep..]);
        } else {
            out.extend(&chars[start..end]);
        }
        i = end;
    }
    out
}

/// The terminal after registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalInfo {
    pub terminal_id: Option<String>,
    /// "tcp 127.0.0.1:20007", "serial /dev/ttyUSB0".
    pub transport: String,
}

/// The end-of-day (settlement) result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndOfDayReport {
    /// Net total the terminal settled.
    pub total: Money,
    pub transaction_count: Option<u32>,
    pub slip_lines: Vec<String>,
}

/// What went wrong, in terms the cashier or the app can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The terminal refused the command because it is busy; nothing was charged. Retry later.
    #[error("the payment terminal is busy")]
    Busy,
    /// The terminal stopped answering; the payment was cancelled and nothing was charged.
    #[error("the payment terminal did not answer in time; nothing was charged")]
    Timeout,
    /// The card or the bank declined; nothing was charged. Ask for another payment method.
    #[error("declined: {text} (code {code:#04x})")]
    Declined { code: u8, text: String },
    /// Cancelled on request ([`PaymentTerminal::abort`]); nothing was charged.
    #[error("the payment was cancelled")]
    Aborted,
    /// The link dropped; the outcome was checked with the terminal and nothing was charged
    /// (or a charge that could not be attributed was reversed). Retry with a new `ref_id`.
    #[error("connection to the payment terminal lost; nothing was charged")]
    ConnectionLost,
    /// The link dropped and the outcome could not be checked yet. Do not take another card
    /// payment for this sale; [`PaymentTerminal::recover`] settles it once the terminal is back.
    #[error("outcome of payment {ref_id} unknown until the terminal is reachable again")]
    OutcomeUnknown { ref_id: String },
    /// This `ref_id` was already used for an attempt that did not succeed. Use a new one.
    #[error("payment {ref_id} was already attempted and not approved")]
    AlreadyAttempted { ref_id: String },
    /// The terminal cannot be reached at all; nothing was sent.
    #[error("payment terminal unreachable: {0}")]
    Unreachable(String),
    /// The amount cannot be paid by card (zero, negative, too large, currency not configured).
    #[error("invalid amount: {0}")]
    InvalidAmount(String),
    /// The terminal sent something that does not follow the protocol.
    #[error("payment terminal protocol error: {0}")]
    Protocol(String),
    /// The pending-payment store failed; nothing was sent to the terminal.
    #[error("pending-payment store: {0}")]
    Store(String),
}

/// A payment terminal. All methods take `&self` so that [`PaymentTerminal::abort`] can be
/// called while [`PaymentTerminal::authorize`] is running; other operations are serialized
/// (a second one while one runs gets [`PaymentError::Busy`]).
#[async_trait]
pub trait PaymentTerminal: Send + Sync {
    /// Logs on to the terminal (ZVT Registration); also settles any payment left unresolved.
    async fn register(&self) -> Result<TerminalInfo, PaymentError>;
    /// Charges `amount` to a card. `ref_id` identifies this attempt: the same `ref_id` never
    /// charges twice (a repeat returns the recorded approval).
    async fn authorize(&self, amount: Money, ref_id: &str) -> Result<Approval, PaymentError>;
    /// Reverses (voids) an approved payment of today's batch by its receipt number.
    ///
    /// When the store knows the payment ([`PendingPaymentStore::approved_sale_with_receipt_no`])
    /// this is [`PaymentTerminal::reverse_keyed`] with `ref_id` `reversal-of-<the sale's
    /// ref_id>` and the sale's amount, so a repeat returns the recorded reversal. Otherwise the
    /// reversal is sent without a pending record (not exactly-once): prefer `reverse_keyed`.
    async fn reverse(&self, receipt_no: u32) -> Result<Approval, PaymentError>;
    /// Reverses (voids) the approved payment `original_receipt_no` of today's batch, exactly
    /// once per `ref_id`, like [`PaymentTerminal::authorize`]: a [`PendingPayment`] of kind
    /// [`PaymentKind::Reversal`] is written before the Reversal is sent; a repeat with the same
    /// `ref_id` returns the recorded approval (settling an unfinished attempt first) and never
    /// sends again. `amount` is the original payment's amount: recovery after a lost answer
    /// uses it to recognise the reversal in the terminal's last transaction.
    ///
    /// A receipt that is already reversed or cannot be reversed (unknown, a refund) gives
    /// [`PaymentError::Declined`] with the terminal's code (`0xB4`, `0xB5`);
    /// [`PaymentError::ConnectionLost`] here means the terminal did *not* book the reversal.
    async fn reverse_keyed(
        &self,
        ref_id: &str,
        original_receipt_no: u32,
        amount: Money,
    ) -> Result<Approval, PaymentError>;
    /// Refunds `amount` to a card (a return). `original_receipt_no` is kept for the record.
    async fn refund(
        &self,
        amount: Money,
        ref_id: &str,
        original_receipt_no: Option<u32>,
    ) -> Result<Approval, PaymentError>;
    /// Closes the terminal's batch (settlement) and returns its totals.
    async fn end_of_day(&self) -> Result<EndOfDayReport, PaymentError>;
    /// Cancels the running authorization if the terminal still allows it (before the card is
    /// processed). The running `authorize` then returns [`PaymentError::Aborted`] — or its
    /// approval, if the abort came too late. Returns whether an abort request was sent.
    async fn abort(&self) -> Result<bool, PaymentError>;
    /// Settles every payment left [`PendingState::InFlight`] (after a crash or a lost link).
    async fn recover(&self) -> Result<Vec<PendingPayment>, PaymentError>;
    /// Live status for the UI.
    fn status(&self) -> watch::Receiver<TerminalStatus>;
}

/// Whether a pending record is a charge, a refund or a reversal. As JSON `"sale"`, `"refund"`
/// (as written before reversals were recorded) or `{"reversal": {"original_receipt_no": 7}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentKind {
    Sale,
    Refund,
    /// Reversal (void) of the approved payment with this receipt number.
    Reversal {
        original_receipt_no: u32,
    },
}

/// Where a pending payment stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PendingState {
    /// Written before sending; the terminal may or may not have charged.
    InFlight,
    Approved {
        approval: Approval,
    },
    Declined {
        code: u8,
        text: String,
    },
    /// Established with the terminal that nothing was charged (busy, timeout, abort, lost
    /// link with no transaction on the terminal).
    NotCharged {
        reason: String,
    },
    /// A possibly-ours charge was found but could not be attributed, and was reversed.
    Reversed {
        receipt_no: u32,
    },
}

impl PendingState {
    pub fn is_final(&self) -> bool {
        !matches!(self, PendingState::InFlight)
    }
}

/// One card payment attempt as recorded before it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPayment {
    pub ref_id: String,
    pub kind: PaymentKind,
    pub amount: Money,
    /// The terminal's last receipt number known before sending: a transaction found later
    /// with a different receipt number happened after this attempt started.
    pub baseline_receipt_no: Option<u32>,
    pub state: PendingState,
}

/// Durable record of card payments, written before anything is sent to the terminal. The app
/// backs it with SQLite (store `PendingPayment` as JSON keyed by `ref_id`); tests use
/// [`InMemoryPendingStore`]. Methods are synchronous and quick.
pub trait PendingPaymentStore: Send + Sync {
    /// Inserts `record` unless a record with its `ref_id` exists; returns the existing one
    /// in that case (and does not overwrite it).
    fn insert_new(&self, record: &PendingPayment) -> Result<Option<PendingPayment>, String>;
    /// Sets the state of an existing record.
    fn set_state(&self, ref_id: &str, state: &PendingState) -> Result<(), String>;
    fn get(&self, ref_id: &str) -> Result<Option<PendingPayment>, String>;
    /// Records still [`PendingState::InFlight`].
    fn in_flight(&self) -> Result<Vec<PendingPayment>, String>;
    /// True if some record's approval carries this receipt number.
    fn receipt_is_attributed(&self, receipt_no: u32) -> Result<bool, String>;
    /// The last receipt number seen from the terminal (any transaction).
    fn last_receipt_no(&self) -> Result<Option<u32>, String>;
    fn set_last_receipt_no(&self, receipt_no: u32) -> Result<(), String>;
    /// The most recent approved [`PaymentKind::Sale`] whose approval carries this receipt
    /// number, so that [`PaymentTerminal::reverse`] can key its reversal. Terminals reuse
    /// receipt numbers (wrap at 9999, some restart them after the end of day): a store that
    /// cannot tell which of several is the most recent must return `None`, as must one that
    /// cannot look this up at all (the default); `reverse` then sends without a record.
    fn approved_sale_with_receipt_no(
        &self,
        receipt_no: u32,
    ) -> Result<Option<PendingPayment>, String> {
        let _ = receipt_no;
        Ok(None)
    }
}

/// A [`PendingPaymentStore`] in memory (tests, the demo).
#[derive(Debug, Default)]
pub struct InMemoryPendingStore {
    inner: Mutex<Records>,
}

#[derive(Debug, Default)]
struct Records {
    by_ref: BTreeMap<String, PendingPayment>,
    last_receipt_no: Option<u32>,
    /// `ref_id`s in insertion order (the most recent approval of a receipt number wins).
    order: Vec<String>,
}

impl InMemoryPendingStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every record, by `ref_id`.
    pub fn all(&self) -> Vec<PendingPayment> {
        self.inner
            .lock()
            .map(|g| g.by_ref.values().cloned().collect())
            .unwrap_or_default()
    }
}

impl PendingPaymentStore for InMemoryPendingStore {
    fn insert_new(&self, record: &PendingPayment) -> Result<Option<PendingPayment>, String> {
        let mut g = self.inner.lock().map_err(|e| e.to_string())?;
        if let Some(existing) = g.by_ref.get(&record.ref_id) {
            return Ok(Some(existing.clone()));
        }
        g.by_ref.insert(record.ref_id.clone(), record.clone());
        g.order.push(record.ref_id.clone());
        Ok(None)
    }

    fn set_state(&self, ref_id: &str, state: &PendingState) -> Result<(), String> {
        let mut g = self.inner.lock().map_err(|e| e.to_string())?;
        let r = g
            .by_ref
            .get_mut(ref_id)
            .ok_or_else(|| format!("no pending payment {ref_id}"))?;
        r.state = state.clone();
        Ok(())
    }

    fn get(&self, ref_id: &str) -> Result<Option<PendingPayment>, String> {
        let g = self.inner.lock().map_err(|e| e.to_string())?;
        Ok(g.by_ref.get(ref_id).cloned())
    }

    fn in_flight(&self) -> Result<Vec<PendingPayment>, String> {
        let g = self.inner.lock().map_err(|e| e.to_string())?;
        Ok(g.by_ref
            .values()
            .filter(|r| !r.state.is_final())
            .cloned()
            .collect())
    }

    fn receipt_is_attributed(&self, receipt_no: u32) -> Result<bool, String> {
        let g = self.inner.lock().map_err(|e| e.to_string())?;
        Ok(g.by_ref.values().any(|r| {
            matches!(&r.state, PendingState::Approved { approval } if approval.receipt_no == receipt_no)
        }))
    }

    fn last_receipt_no(&self) -> Result<Option<u32>, String> {
        Ok(self
            .inner
            .lock()
            .map_err(|e| e.to_string())?
            .last_receipt_no)
    }

    fn set_last_receipt_no(&self, receipt_no: u32) -> Result<(), String> {
        self.inner
            .lock()
            .map_err(|e| e.to_string())?
            .last_receipt_no = Some(receipt_no);
        Ok(())
    }

    fn approved_sale_with_receipt_no(
        &self,
        receipt_no: u32,
    ) -> Result<Option<PendingPayment>, String> {
        let g = self.inner.lock().map_err(|e| e.to_string())?;
        Ok(g.order.iter().rev().filter_map(|id| g.by_ref.get(id)).find(|r| {
            r.kind == PaymentKind::Sale
                && matches!(&r.state, PendingState::Approved { approval } if approval.receipt_no == receipt_no)
        }).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::{PaymentKind, mask_card_numbers};

    #[test]
    fn payment_kinds_written_before_reversals_still_read_and_reversals_round_trip() {
        let old: PaymentKind = serde_json::from_str("\"sale\"").unwrap();
        assert_eq!(old, PaymentKind::Sale);
        let old: PaymentKind = serde_json::from_str("\"refund\"").unwrap();
        assert_eq!(old, PaymentKind::Refund);
        let reversal = PaymentKind::Reversal {
            original_receipt_no: 7,
        };
        let json = serde_json::to_string(&reversal).unwrap();
        assert_eq!(json, r#"{"reversal":{"original_receipt_no":7}}"#);
        assert_eq!(
            serde_json::from_str::<PaymentKind>(&json).unwrap(),
            reversal
        );
    }

    #[test]
    fn full_card_numbers_are_masked_and_other_numbers_are_left_alone() {
        assert_eq!(
            mask_card_numbers("Karte: 5413330089091234"),
            "Karte: ************1234"
        );
        assert_eq!(
            mask_card_numbers("PAN 4111 1111 1111 1111 exp 12/27"),
            "PAN ************1111 exp 12/27"
        );
        assert_eq!(
            mask_card_numbers("Karte: ************1234"),
            "Karte: ************1234",
            "already masked"
        );
        for kept in [
            "Trace-Nr.: 000001  Beleg-Nr.: 0001",
            "Terminal-ID: 52523535",
            "Betrag: EUR 12,50",
            "22/11/2026 14:05",
            // Groups that do not pass the Luhn check are not a card number.
            "1234 5678 9012 3456",
        ] {
            assert_eq!(mask_card_numbers(kept), kept);
        }
    }
}
