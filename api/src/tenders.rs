//! Tenders besides cash and card: gift cards, a customer's store credit, and the customer
//! account (pay by invoice within a credit limit); cancelling a pending card payment.
//!
//! The ledgers sit behind two small traits, [`GiftCardLedger`] and [`CustomerLedgers`], so
//! the gift-card ledger can move into the web-shop plugin later (the manager issue) without
//! touching the register. Today both are [`LocalLedger`]: the terminal's SQLite file, through
//! its own connection.
//!
//! Invariants:
//! * A ledger tender is debited *before* it joins the sale, like a card authorization, with the
//!   idempotency key `<sale id>-<tender position>` (the card's `ref_id` has the same shape). A
//!   retried tender (after a crash between the debit and saving the sale in progress, or a
//!   failed commit) finds its debit and never debits twice; a debit left under a position
//!   that is then paid otherwise is released (its money goes back).
//! * If the tender cannot join the sale after the debit, the debit is released at once.
//! * A non-cash tender never exceeds what is still due (change is only given in cash): checked
//!   before anything is debited.
//! * Balances never go below zero and accounts never above their limit: the ledger refuses,
//!   and the refusal is a code the cashier reads in en/es/ja.
//! * The ledger traits are synchronous and quick (the register holds its state lock while a
//!   tender is debited, so tenders of one sale are serialized). A remote implementation must
//!   bound its own time (timeouts) and may block.

use super::{Register, State, cash_rounding};
use crate::dto::*;
use crate::errors::{
    checkout_error, customer_error, gift_card_error, ledger_error as common_ledger_error,
    store_error,
};
use crate::events::Event;
use pos_core::{Money, Tender, TenderKind};
use pos_store::Store;
use pos_store::customers::{Customer, CustomerLedger};
use pos_store::gift_cards::{GiftCard, GiftCardEntry, LedgerError, Load, Loaded, Redeemed};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use ts_rs::TS;

// ---- wire types ------------------------------------------------------------------------------

/// A gift card's balance, as the payment screen shows it before redeeming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GiftCardDto {
    /// Only the last four digits: "****0017".
    pub masked: String,
    pub balance: MoneyDto,
    /// False for a blocked card (it cannot pay).
    pub active: bool,
}

/// A customer as the payment screen needs them: who, store credit, account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDto {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub store_credit: MoneyDto,
    /// The customer may pay on account (by invoice).
    pub has_account: bool,
    pub account_limit: Option<MoneyDto>,
    /// What the customer owes on account now.
    pub account_balance: MoneyDto,
    /// What can still be charged to the account.
    pub account_available: MoneyDto,
}

// ---- the ledger boundary -----------------------------------------------------------------------

/// Where gift cards live. Today the terminal's SQLite file; later the web-shop plugin.
///
/// What every implementation keeps (the register relies on it; `api/tests/stored_value.rs`
/// checks it against [`LocalLedger`]):
/// * Every movement is idempotent by its key: repeating a call with the same key and the same
///   arguments returns the first result (`replayed: true`) and moves no money; the same key
///   with other arguments is [`LedgerError::KeyReused`]. Keys: a redeem `<sale id>-<tender
///   position>`, an issue or top-up `<sale id>-L<line number>`.
/// * `issue` creates the card, active, with exactly `amount`; a number already on the ledger
///   (under another key) is [`LedgerError::AlreadyIssued`]. `top_up` adds to an existing active
///   card ([`LedgerError::Unknown`] / [`LedgerError::NotUsable`] otherwise).
/// * A balance never goes below zero; a refused movement changes nothing.
/// * Numbers are normalized the way [`pos_store::gift_cards::normalize_number`] does (typed,
///   scanned or swiped give the same card).
/// * `entries` is read-only: the card's last movements, newest first.
pub trait GiftCardLedger: Send + Sync {
    /// The card with this number (as typed, scanned or swiped).
    fn card(&self, number: &str) -> Result<GiftCard, LedgerError>;
    /// Takes `amount` off the card once per `key` (see the module doc).
    fn redeem(
        &self,
        key: &str,
        number: &str,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<Redeemed, LedgerError>;
    /// Gives back the live redeem under `key`, if any.
    fn release(&self, key: &str, now: OffsetDateTime) -> Result<Option<Money>, LedgerError>;
    /// Creates the card `number` with `amount` on it, once per `key`.
    fn issue(
        &self,
        key: &str,
        number: &str,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<Loaded, LedgerError>;
    /// Adds `amount` to the active card `number`, once per `key`.
    fn top_up(
        &self,
        key: &str,
        number: &str,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<Loaded, LedgerError>;
    /// The card's last `limit` movements, newest first.
    fn entries(&self, number: &str, limit: usize) -> Result<Vec<GiftCardEntry>, LedgerError>;
}

/// Where customers' store credit and accounts live.
pub trait CustomerLedgers: Send + Sync {
    fn find(&self, query: &str, limit: usize) -> Result<Vec<Customer>, LedgerError>;
    fn customer(&self, id: &str) -> Result<Customer, LedgerError>;
    /// Charges store credit or the account once per `key`.
    fn charge(
        &self,
        key: &str,
        customer_id: &str,
        ledger: CustomerLedger,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<(), LedgerError>;
    /// Gives back the live charge under `key`, if any.
    fn release(&self, key: &str, now: OffsetDateTime) -> Result<Option<Money>, LedgerError>;
    /// returns: gives `amount` back to the customer once per `key` (onto store credit, or off
    /// what they owe on account); returns the ledger's balance after.
    fn credit(
        &self,
        key: &str,
        customer_id: &str,
        ledger: CustomerLedger,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<Money, LedgerError> {
        let _ = (key, ledger, amount, now);
        Err(LedgerError::NotUsable(customer_id.to_owned()))
    }
}

/// Both ledgers in the terminal's SQLite file, through a connection of their own.
pub struct LocalLedger {
    store: Mutex<Store>,
}

impl LocalLedger {
    pub fn open(db_path: &Path) -> Result<LocalLedger, ApiError> {
        Ok(LocalLedger {
            store: Mutex::new(Store::open(db_path).map_err(store_error)?),
        })
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl GiftCardLedger for LocalLedger {
    fn card(&self, number: &str) -> Result<GiftCard, LedgerError> {
        self.store()
            .gift_card(number)?
            .ok_or_else(|| LedgerError::Unknown(pos_store::gift_cards::normalize_number(number)))
    }
    fn redeem(
        &self,
        key: &str,
        number: &str,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<Redeemed, LedgerError> {
        self.store().redeem_gift_card(key, number, amount, now)
    }
    fn release(&self, key: &str, now: OffsetDateTime) -> Result<Option<Money>, LedgerError> {
        Ok(self.store().release_gift_card(key, now)?)
    }
    fn issue(
        &self,
        key: &str,
        number: &str,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<Loaded, LedgerError> {
        self.store()
            .load_gift_card(key, Load::Issue, number, amount, now)
    }
    fn top_up(
        &self,
        key: &str,
        number: &str,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<Loaded, LedgerError> {
        self.store()
            .load_gift_card(key, Load::TopUp, number, amount, now)
    }
    fn entries(&self, number: &str, limit: usize) -> Result<Vec<GiftCardEntry>, LedgerError> {
        Ok(self.store().gift_card_entries(number, limit)?)
    }
}

impl CustomerLedgers for LocalLedger {
    fn find(&self, query: &str, limit: usize) -> Result<Vec<Customer>, LedgerError> {
        Ok(self.store().find_customers(query, limit)?)
    }
    fn customer(&self, id: &str) -> Result<Customer, LedgerError> {
        self.store()
            .customer(id)?
            .ok_or_else(|| LedgerError::Unknown(id.to_owned()))
    }
    fn charge(
        &self,
        key: &str,
        customer_id: &str,
        ledger: CustomerLedger,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<(), LedgerError> {
        self.store()
            .charge_customer(key, customer_id, ledger, amount, now)
            .map(|_| ())
    }
    fn release(&self, key: &str, now: OffsetDateTime) -> Result<Option<Money>, LedgerError> {
        Ok(self.store().release_customer_charge(key, now)?)
    }
    fn credit(
        &self,
        key: &str,
        customer_id: &str,
        ledger: CustomerLedger,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<Money, LedgerError> {
        self.store()
            .refund_to_customer(key, customer_id, ledger, amount, now)
    }
}

/// Whether a card payment is waiting for the terminal. `begin` marks it until the guard drops.
#[derive(Debug, Default)]
pub struct CardPending(std::sync::atomic::AtomicUsize);

pub struct CardPendingGuard<'a>(&'a CardPending);

impl CardPending {
    pub fn begin(&self) -> CardPendingGuard<'_> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        CardPendingGuard(self)
    }
    pub fn active(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst) > 0
    }
}

impl Drop for CardPendingGuard<'_> {
    fn drop(&mut self) {
        self.0.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The register's ledgers.
#[derive(Clone)]
pub struct Ledgers {
    pub gift_cards: Arc<dyn GiftCardLedger>,
    pub customers: Arc<dyn CustomerLedgers>,
}

impl Ledgers {
    /// Both ledgers in the terminal's database file.
    pub fn local(db_path: &Path) -> Result<Ledgers, ApiError> {
        let l = Arc::new(LocalLedger::open(db_path)?);
        Ok(Ledgers {
            gift_cards: l.clone(),
            customers: l,
        })
    }
}

// ---- errors ------------------------------------------------------------------------------------

/// "****0017": the last four characters of a card number, never more.
pub fn mask_number(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("****{tail}")
}

pub(super) fn customer_dto(c: &Customer) -> CustomerDto {
    CustomerDto {
        id: c.id.clone(),
        name: c.name.clone(),
        email: c.email.clone(),
        phone: c.phone.clone(),
        store_credit: c.store_credit.into(),
        has_account: c.account_limit.is_some(),
        account_limit: c.account_limit.map(Into::into),
        account_balance: c.account_balance.into(),
        account_available: c.account_available().into(),
    }
}

// ---- the register's side -----------------------------------------------------------------------

/// Which debit a ledger tender makes.
enum Debit<'a> {
    GiftCard { number: &'a str },
    Customer { id: &'a str, ledger: CustomerLedger },
}

impl State {
    /// The key of the next tender of the sale in progress (same shape as the card's `ref_id`).
    fn next_tender_key(&self) -> String {
        format!("{}-{}", self.sale_ref, self.tenders.len() + 1)
    }

    /// Refuses a non-cash tender of `amount` that is not allowed now (no user, empty sale, more
    /// than is due), before anything is debited.
    fn check_non_cash(&self, kind: TenderKind, amount: Money) -> Result<(), ApiError> {
        self.require_user()?;
        if self.cart.is_empty() {
            return Err(ApiError::new("sale.empty", "scan something first"));
        }
        let mut probe = self.tenders.clone();
        probe.push(Tender {
            kind,
            amount,
            reference: None,
        });
        self.cart
            .settlement(&probe, cash_rounding(self.cash_increment))
            .map_err(checkout_error)?;
        Ok(())
    }
}

impl Register {
    /// Uses other ledgers (e.g. gift cards kept by the web-shop plugin) instead of the local
    /// ones. Call before `start`.
    pub fn with_ledgers(mut self, ledgers: Ledgers) -> Register {
        self.ledgers = ledgers;
        self
    }

    pub(super) fn tenders_gift_card(&self, number: &str) -> Result<GiftCardDto, ApiError> {
        self.lock().require_user()?;
        let card = self
            .ledgers
            .gift_cards
            .card(number)
            .map_err(|e| gift_card_error(e, number))?;
        Ok(GiftCardDto {
            masked: mask_number(&card.number),
            balance: card.balance.into(),
            active: card.active,
        })
    }

    pub(super) fn tenders_find_customers(
        &self,
        query: &str,
        limit: u32,
    ) -> Result<Vec<CustomerDto>, ApiError> {
        self.lock().require_user()?;
        let found = self
            .ledgers
            .customers
            .find(query, limit.clamp(1, 50) as usize)
            .map_err(common_ledger_error)?;
        Ok(found.iter().map(customer_dto).collect())
    }

    pub(super) fn tenders_pay_gift_card(
        &self,
        number: &str,
        amount: i64,
    ) -> Result<PayResultDto, ApiError> {
        self.ledger_tender(TenderKind::GiftCard, amount, Debit::GiftCard { number })
    }

    pub(super) fn tenders_pay_customer(
        &self,
        customer_id: &str,
        ledger: CustomerLedger,
        amount: i64,
    ) -> Result<PayResultDto, ApiError> {
        let kind = match ledger {
            CustomerLedger::StoreCredit => TenderKind::StoreCredit,
            CustomerLedger::Account => TenderKind::Account,
        };
        self.ledger_tender(
            kind,
            amount,
            Debit::Customer {
                id: customer_id,
                ledger,
            },
        )
    }

    /// Debits the ledger under the next tender's key, then takes the tender (completing the
    /// sale when it is paid). A tender that cannot join the sale gives its debit back.
    fn ledger_tender(
        &self,
        kind: TenderKind,
        amount: i64,
        debit: Debit<'_>,
    ) -> Result<PayResultDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        let money = Money::new(amount, st.settings.currency);
        st.check_non_cash(kind, money)?;
        super::stored_value::refuse_gift_card_for_vouchers(&st, kind)?;
        let key = st.next_tender_key();
        // Another ledger may hold a debit under this position from an attempt that never
        // joined the sale (a crash): give it back first.
        self.release_other_ledgers(&key, Some(kind), now);
        let reference = match debit {
            Debit::GiftCard { number } => {
                let redeem = |l: &dyn GiftCardLedger| l.redeem(&key, number, money, now);
                let gc = &*self.ledgers.gift_cards;
                let done = match redeem(gc) {
                    // Left from an attempt that did not join the sale: give it back, redo.
                    Err(LedgerError::KeyReused(_)) => {
                        gc.release(&key, now).map_err(common_ledger_error)?;
                        redeem(gc)
                    }
                    other => other,
                }
                .map_err(|e| gift_card_error(e, number))?;
                mask_number(&done.number)
            }
            Debit::Customer { id, ledger } => {
                let cl = &*self.ledgers.customers;
                let customer = cl.customer(id).map_err(|e| customer_error(e, ledger, id))?;
                let charge = || cl.charge(&key, id, ledger, money, now);
                match charge() {
                    Err(LedgerError::KeyReused(_)) => {
                        cl.release(&key, now).map_err(common_ledger_error)?;
                        charge()
                    }
                    other => other,
                }
                .map_err(|e| customer_error(e, ledger, &customer.name))?;
                format!("{} {}", customer.id, customer.name)
            }
        };
        let tender = Tender {
            kind,
            amount: money,
            reference: Some(reference),
        };
        match self.take_tender(&mut st, tender, now) {
            Ok(r) => Ok(r),
            Err(e) => {
                let released = match kind {
                    TenderKind::GiftCard => self.ledgers.gift_cards.release(&key, now),
                    _ => self.ledgers.customers.release(&key, now),
                };
                if let Err(r) = released {
                    tracing::error!("tender {key} could not be given back: {r}");
                }
                Err(e)
            }
        }
    }

    /// Gives back debits under `key` in the ledgers other than `keep`'s: the position is being
    /// paid another way, so a debit there is left over from an attempt that never joined the
    /// sale. Failures are logged (the debit then stays, visible in the ledger).
    pub(super) fn release_other_ledgers(
        &self,
        key: &str,
        keep: Option<TenderKind>,
        now: OffsetDateTime,
    ) {
        if keep != Some(TenderKind::GiftCard)
            && let Err(e) = self.ledgers.gift_cards.release(key, now)
        {
            tracing::warn!("gift card debit {key} not released: {e}");
        }
        if !matches!(keep, Some(TenderKind::StoreCredit | TenderKind::Account))
            && let Err(e) = self.ledgers.customers.release(key, now)
        {
            tracing::warn!("customer charge {key} not released: {e}");
        }
    }

    /// Forwards gift-card swipes from the card reader to the screen (`card_swiped`); a bank
    /// card is refused by the reader itself and reported as such, without any of its digits.
    pub(super) fn start_gift_card_swipes(self: &Arc<Self>) {
        use pos_hardware::device::SwipeEvent;
        let Some(reader) = self.hardware.devices.card_reader.clone() else {
            return;
        };
        let me = Arc::downgrade(self);
        let mut swipes = reader.swipes();
        tokio::spawn(async move {
            loop {
                let event = match swipes.recv().await {
                    Ok(e) => e,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => break,
                };
                let Some(me) = me.upgrade() else { break };
                me.events.emit(match event {
                    SwipeEvent::Read(card) => Event::CardSwiped(card.number.expose().to_owned()),
                    SwipeEvent::Refused(pos_hardware::card::CardError::BankCard) => {
                        Event::ScanRejected(crate::errors::gift_card_bank_card())
                    }
                    SwipeEvent::Refused(_) => {
                        Event::ScanRejected(crate::errors::gift_card_unreadable())
                    }
                });
            }
        });
    }

    /// Asks the payment terminal to abort the running card payment. The pending `pay` then
    /// ends with `pay.card_cancelled` — or, if the card was already approved, with the
    /// approval (the payment is kept, never charged twice). Returns whether an abort was sent
    /// (false: no card payment was running, or it finished first).
    pub(super) async fn tenders_cancel_card(&self) -> Result<bool, ApiError> {
        self.lock().require_user()?;
        let terminal = self.terminal.get().cloned().ok_or_else(|| {
            ApiError::new(
                "pay.terminal_unavailable",
                "no payment terminal is connected",
            )
        })?;
        // A cancel pressed before the terminal has started the payment would find nothing to
        // abort: keep asking while the payment is still on its way (up to 5 s).
        for _ in 0..50 {
            if terminal
                .abort()
                .await
                .map_err(crate::errors::payment_error)?
            {
                return Ok(true);
            }
            if !self.card_pending.active() {
                return Ok(false);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_cash_keys_are_notes_people_carry() {
        use pos_core::Currency;
        assert_eq!(
            super::super::quick_cash(Currency::Eur),
            vec![500, 1_000, 2_000, 5_000, 10_000]
        );
        assert_eq!(
            super::super::quick_cash(Currency::Jpy),
            vec![1_000, 5_000, 10_000]
        );
    }

    #[test]
    fn a_masked_number_shows_only_the_last_four() {
        assert_eq!(mask_number("6006490000000017"), "****0017");
        assert_eq!(mask_number("17"), "****17");
    }
}
