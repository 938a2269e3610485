//! The local gift-card ledger: cards with a balance, and every movement as an entry.
//!
//! Invariants:
//! * A balance never goes below zero: a redeem larger than the balance is refused
//!   ([`LedgerError::Insufficient`]) and changes nothing (the schema's CHECK backs this up).
//! * Redeems are idempotent by key (the sale's id and the tender's position): a repeated redeem
//!   with the same key, card and amount returns the first one and debits nothing; the same key
//!   with another card or amount is refused ([`LedgerError::KeyReused`]) until the first is
//!   released.
//! * A release puts a redeem's money back exactly once; releasing twice, or a key that was
//!   never redeemed, changes nothing.
//! * Every change of a balance and its entry are written in one transaction.
//! * Money is put on a card (issue, top-up) once per key: a repeat returns the first load, the
//!   same key for another card or amount is [`LedgerError::KeyReused`]; an issue never reuses a
//!   number already on the ledger ([`LedgerError::AlreadyIssued`]).
//! * A gift card sold at the till is queued for its ledger (`gift_card_activation`) inside its
//!   sale's transaction, so it exists exactly when the sale does; the register then loads the
//!   ledger under the key `<sale id>-L<line>` and records the outcome.
//!
//! The register reaches this through a trait in pos-api (so the web-shop plugin can hold the
//! ledger later); nothing here knows about sales.

use crate::{Result, Store, StoreError, unix_ms};
use pos_core::{Currency, Money};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;

/// Why a ledger refused a movement.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// No gift card / customer with this number or id.
    #[error("unknown {0}")]
    Unknown(String),
    /// The gift card is blocked, or the customer has no account.
    #[error("not usable: {0}")]
    NotUsable(String),
    /// Not enough balance (gift card, store credit) or credit left (account): `available` is
    /// what could still be taken.
    #[error("only {available} is available")]
    Insufficient { available: Money },
    /// The amount is in another currency than the ledger's.
    #[error("the ledger is in {expected}, not {found}")]
    WrongCurrency { expected: Currency, found: Currency },
    /// Zero or negative amounts are not movements.
    #[error("the amount must be positive")]
    NonPositive,
    /// The key was already used for a different movement that is still live.
    #[error("idempotency key {0} was used for another movement")]
    KeyReused(String),
    /// Issuing a card whose number is already on the ledger (under another key).
    #[error("gift card {0} is already issued")]
    AlreadyIssued(String),
    /// An account limit below what the customer already owes.
    #[error("the customer owes {owed}: the limit cannot be lower")]
    LimitBelowBalance { owed: Money },
    /// Paying more into an account than is owed on it.
    #[error("only {owed} is owed on the account")]
    PaysMoreThanOwed { owed: Money },
    /// The gift cards are kept by the web shop, which cannot be reached, and the store's
    /// offline policy refuses (or the action, e.g. issuing, needs the shop).
    #[error("the web shop keeps the gift cards and cannot be reached")]
    ShopOffline,
    /// Offline, at most the store's per-card limit may be taken: `available` is what is left.
    #[error("offline only {available} may be taken from this card")]
    OfflineLimit { available: Money },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for LedgerError {
    fn from(e: rusqlite::Error) -> Self {
        LedgerError::Store(e.into())
    }
}

/// A gift card as the register sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiftCard {
    pub number: String,
    pub balance: Money,
    pub active: bool,
}

/// A redeem that happened (now or earlier, for a repeated key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeemed {
    pub number: String,
    pub amount: Money,
    pub balance_after: Money,
    /// True when this key had already been redeemed: nothing was debited this time.
    pub replayed: bool,
}

/// How money is put on a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Load {
    /// A new card, created with this first balance.
    Issue,
    /// More money on an existing, active card.
    TopUp,
}

impl Load {
    pub const fn code(self) -> &'static str {
        match self {
            Load::Issue => "issue",
            Load::TopUp => "top_up",
        }
    }
}

/// Money put on a card (now or earlier, for a repeated key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub number: String,
    pub amount: Money,
    pub balance_after: Money,
    /// True when this key had already loaded the card: nothing was added this time.
    pub replayed: bool,
}

/// What a movement on a card was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    Issue,
    TopUp,
    Redeem,
    /// A redeem given back (a cancelled tender).
    Release,
}

impl EntryKind {
    pub const fn code(self) -> &'static str {
        match self {
            EntryKind::Issue => "issue",
            EntryKind::TopUp => "top_up",
            EntryKind::Redeem => "redeem",
            EntryKind::Release => "release",
        }
    }
    pub fn from_code(s: &str) -> Option<EntryKind> {
        [
            EntryKind::Issue,
            EntryKind::TopUp,
            EntryKind::Redeem,
            EntryKind::Release,
        ]
        .into_iter()
        .find(|k| k.code() == s)
    }
}

/// One movement on a card, as the balance check shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiftCardEntry {
    pub kind: EntryKind,
    /// Signed: money onto the card positive, a redeem negative.
    pub amount: Money,
    pub balance_after: Money,
    pub at: OffsetDateTime,
    /// The idempotency key (the sale's id with the tender position or line).
    pub key: Option<String>,
}

/// A card number as typed, scanned or swiped: spaces and dashes dropped, upper case; a
/// magnetic track (`;6006…=…?` or `%B…^…?`) gives its primary account field.
pub fn normalize_number(raw: &str) -> String {
    let s = raw.trim();
    let body = if let Some(rest) = s.strip_prefix(';') {
        rest.split(['=', '?']).next().unwrap_or("")
    } else if let Some(rest) = s.strip_prefix("%B").or_else(|| s.strip_prefix("%b")) {
        rest.split(['^', '?']).next().unwrap_or("")
    } else {
        s
    };
    body.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

fn currency_of(code: &str) -> Result<Currency> {
    code.parse()
        .map_err(|_| StoreError::Corrupt(format!("currency {code}")))
}

impl Store {
    /// Creates a gift card with an initial balance (demo data, imports, tests; a card sold at
    /// the till goes through [`Store::load_gift_card`] with its sale's key). An existing number
    /// is left as it is.
    pub fn issue_gift_card(
        &mut self,
        number: &str,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<(), LedgerError> {
        let number = normalize_number(number);
        if number.is_empty() {
            return Err(LedgerError::Unknown(String::new()));
        }
        if amount.minor < 0 {
            return Err(LedgerError::NonPositive);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let added = tx.execute(
            "INSERT INTO gift_card (number, currency, balance, active, created_at) VALUES (?1, ?2, ?3, 1, ?4) \
             ON CONFLICT (number) DO NOTHING",
            params![number, amount.currency.code(), amount.minor, unix_ms(now)],
        )?;
        if added == 1 {
            tx.execute(
                "INSERT INTO gift_card_entry (number, kind, amount, balance_after, at) VALUES (?1, 'issue', ?2, ?2, ?3)",
                params![number, amount.minor, unix_ms(now)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Blocks or unblocks a card (a lost card is blocked; its balance stays).
    pub fn set_gift_card_active(&mut self, number: &str, active: bool) -> Result<(), LedgerError> {
        let number = normalize_number(number);
        let n = self.conn.execute(
            "UPDATE gift_card SET active = ?2 WHERE number = ?1",
            params![number, active],
        )?;
        if n == 0 {
            return Err(LedgerError::Unknown(number));
        }
        Ok(())
    }

    /// The card with this number (normalized), if it exists.
    pub fn gift_card(&self, number: &str) -> Result<Option<GiftCard>> {
        let number = normalize_number(number);
        let row: Option<(String, String, i64, bool)> = self
            .conn
            .prepare_cached(
                "SELECT number, currency, balance, active FROM gift_card WHERE number = ?1",
            )?
            .query_row([&number], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        row.map(|(number, cur, balance, active)| {
            Ok(GiftCard {
                number,
                balance: Money::new(balance, currency_of(&cur)?),
                active,
            })
        })
        .transpose()
    }

    /// Takes `amount` off the card, once per `key`. See the module doc.
    pub fn redeem_gift_card(
        &mut self,
        key: &str,
        number: &str,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<Redeemed, LedgerError> {
        let number = normalize_number(number);
        if amount.minor <= 0 {
            return Err(LedgerError::NonPositive);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let card: Option<(String, i64, bool)> = tx
            .prepare_cached("SELECT currency, balance, active FROM gift_card WHERE number = ?1")?
            .query_row([&number], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((cur, balance, active)) = card else {
            return Err(LedgerError::Unknown(number));
        };
        let currency = currency_of(&cur)?;
        let existing: Option<(String, i64, i64)> = tx
            .prepare_cached(
                "SELECT number, amount, balance_after FROM gift_card_entry \
                 WHERE idempotency_key = ?1 AND kind = 'redeem' AND released = 0",
            )?
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        if let Some((n, a, after)) = existing {
            if n == number && -a == amount.minor && currency == amount.currency {
                return Ok(Redeemed {
                    number,
                    amount,
                    balance_after: Money::new(after, currency),
                    replayed: true,
                });
            }
            return Err(LedgerError::KeyReused(key.to_owned()));
        }
        if currency != amount.currency {
            return Err(LedgerError::WrongCurrency {
                expected: currency,
                found: amount.currency,
            });
        }
        if !active {
            return Err(LedgerError::NotUsable(number));
        }
        if amount.minor > balance {
            return Err(LedgerError::Insufficient {
                available: Money::new(balance, currency),
            });
        }
        let after = balance - amount.minor;
        tx.execute(
            "UPDATE gift_card SET balance = ?2 WHERE number = ?1",
            params![number, after],
        )?;
        tx.execute(
            "INSERT INTO gift_card_entry (number, kind, amount, balance_after, idempotency_key, at) \
             VALUES (?1, 'redeem', ?2, ?3, ?4, ?5)",
            params![number, -amount.minor, after, key, unix_ms(now)],
        )?;
        tx.commit()?;
        Ok(Redeemed {
            number,
            amount,
            balance_after: Money::new(after, currency),
            replayed: false,
        })
    }

    /// Gives the live redeem with `key` back to its card. Returns what was released, or None
    /// when there was nothing live under this key.
    pub fn release_gift_card(&mut self, key: &str, now: OffsetDateTime) -> Result<Option<Money>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let live: Option<(i64, String, i64, String)> = tx
            .prepare_cached(
                "SELECT e.id, e.number, e.amount, c.currency FROM gift_card_entry e \
                 JOIN gift_card c ON c.number = e.number \
                 WHERE e.idempotency_key = ?1 AND e.kind = 'redeem' AND e.released = 0",
            )?
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let Some((id, number, amount, cur)) = live else {
            return Ok(None);
        };
        tx.execute(
            "UPDATE gift_card_entry SET released = 1 WHERE id = ?1",
            [id],
        )?;
        let after: i64 = tx.query_row(
            "UPDATE gift_card SET balance = balance + ?2 WHERE number = ?1 RETURNING balance",
            params![number, -amount],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO gift_card_entry (number, kind, amount, balance_after, idempotency_key, at) \
             VALUES (?1, 'release', ?2, ?3, ?4, ?5)",
            params![number, -amount, after, key, unix_ms(now)],
        )?;
        tx.commit()?;
        Ok(Some(Money::new(-amount, currency_of(&cur)?)))
    }
}

impl Store {
    /// Puts `amount` on a card once per `key`: [`Load::Issue`] creates the card (active, with
    /// this balance) and is refused for a number already on the ledger; [`Load::TopUp`] adds to
    /// an existing active card. A repeat with the same key, card, kind and amount returns the
    /// first load and adds nothing; the same key for anything else is
    /// [`LedgerError::KeyReused`].
    pub fn load_gift_card(
        &mut self,
        key: &str,
        load: Load,
        number: &str,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<Loaded, LedgerError> {
        let number = normalize_number(number);
        if number.is_empty() {
            return Err(LedgerError::Unknown(String::new()));
        }
        if amount.minor <= 0 {
            return Err(LedgerError::NonPositive);
        }
        if amount.minor > pos_core::money::MAX_MINOR {
            return Err(LedgerError::Store(StoreError::Invalid(
                "amount out of range".into(),
            )));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: Option<(String, String, i64, i64, String)> = tx
            .prepare_cached(
                "SELECT e.number, e.kind, e.amount, e.balance_after, c.currency FROM gift_card_entry e \
                 JOIN gift_card c ON c.number = e.number \
                 WHERE e.idempotency_key = ?1 AND e.kind IN ('issue', 'top_up')",
            )?
            .query_row([key], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        if let Some((n, kind, a, after, cur)) = existing {
            let currency = currency_of(&cur)?;
            if n == number
                && kind == load.code()
                && a == amount.minor
                && currency == amount.currency
            {
                return Ok(Loaded {
                    number,
                    amount,
                    balance_after: Money::new(after, currency),
                    replayed: true,
                });
            }
            return Err(LedgerError::KeyReused(key.to_owned()));
        }
        let card: Option<(String, i64, bool)> = tx
            .prepare_cached("SELECT currency, balance, active FROM gift_card WHERE number = ?1")?
            .query_row([&number], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let after = match (load, card) {
            (Load::Issue, Some(_)) => return Err(LedgerError::AlreadyIssued(number)),
            (Load::Issue, None) => {
                tx.execute(
                    "INSERT INTO gift_card (number, currency, balance, active, created_at) \
                     VALUES (?1, ?2, ?3, 1, ?4)",
                    params![number, amount.currency.code(), amount.minor, unix_ms(now)],
                )?;
                amount.minor
            }
            (Load::TopUp, None) => return Err(LedgerError::Unknown(number)),
            (Load::TopUp, Some((cur, balance, active))) => {
                let currency = currency_of(&cur)?;
                if currency != amount.currency {
                    return Err(LedgerError::WrongCurrency {
                        expected: currency,
                        found: amount.currency,
                    });
                }
                if !active {
                    return Err(LedgerError::NotUsable(number));
                }
                let after = balance
                    .checked_add(amount.minor)
                    .filter(|a| *a <= pos_core::money::MAX_MINOR)
                    .ok_or_else(|| StoreError::Invalid("balance out of range".into()))?;
                tx.execute(
                    "UPDATE gift_card SET balance = ?2 WHERE number = ?1",
                    params![number, after],
                )?;
                after
            }
        };
        tx.execute(
            "INSERT INTO gift_card_entry (number, kind, amount, balance_after, idempotency_key, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![number, load.code(), amount.minor, after, key, unix_ms(now)],
        )?;
        tx.commit()?;
        Ok(Loaded {
            number,
            amount,
            balance_after: Money::new(after, amount.currency),
            replayed: false,
        })
    }

    /// The card's last `limit` movements, newest first (empty for an unknown card).
    pub fn gift_card_entries(&self, number: &str, limit: usize) -> Result<Vec<GiftCardEntry>> {
        let number = normalize_number(number);
        let rows: Vec<(String, i64, i64, i64, Option<String>, String)> = self
            .conn
            .prepare_cached(
                "SELECT e.kind, e.amount, e.balance_after, e.at, e.idempotency_key, c.currency \
                 FROM gift_card_entry e JOIN gift_card c ON c.number = e.number \
                 WHERE e.number = ?1 ORDER BY e.id DESC LIMIT ?2",
            )?
            .query_map(params![number, limit as i64], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(kind, amount, after, at, key, cur)| {
                let currency = currency_of(&cur)?;
                Ok(GiftCardEntry {
                    kind: EntryKind::from_code(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("entry kind {kind:?}")))?,
                    amount: Money::new(amount, currency),
                    balance_after: Money::new(after, currency),
                    at: crate::from_unix_ms(at)?,
                    key,
                })
            })
            .collect()
    }
}

/// A gift card sold in a committed sale, waiting to be put on the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    /// `<sale id>-L<line number>`: the ledger's idempotency key.
    pub key: String,
    pub sale_id: String,
    pub load: Load,
    pub number: String,
    pub amount: Money,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// key, sale, kind, number, currency, amount, attempts, last error.
type ActivationRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    u32,
    Option<String>,
);

/// The ledger key of a gift card sold on line `line_no` (1-based) of a sale.
pub fn activation_key(sale_id: &str, line_no: usize) -> String {
    format!("{sale_id}-L{line_no}")
}

/// Inside the sale's transaction: one activation row per gift card the sale sold. The card gets
/// its money only after this commits (see [`Store::pending_gift_card_activations`]).
pub(crate) fn queue_activations(
    tx: &rusqlite::Connection,
    sale: &pos_core::CompletedSale,
) -> Result<()> {
    let id = sale.id().to_string();
    for (i, sold) in sale.lines().iter().enumerate() {
        let Some(v) = &sold.line.voucher else {
            continue;
        };
        let load = match v.kind {
            pos_core::cart::VoucherKind::Issue => Load::Issue,
            pos_core::cart::VoucherKind::TopUp => Load::TopUp,
        };
        tx.prepare_cached(
            "INSERT INTO gift_card_activation (key, sale_id, line_no, kind, number, currency, amount, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            activation_key(&id, i + 1),
            id,
            i + 1,
            load.code(),
            normalize_number(&v.number),
            sold.total.amount.currency.code(),
            sold.total.amount.minor,
            unix_ms(sale.at())
        ])?;
    }
    Ok(())
}

impl Store {
    /// How many gift cards sold in committed sales the ledger does not have yet.
    pub fn waiting_gift_card_activations(&self) -> Result<u64> {
        Ok(self
            .conn
            .prepare_cached("SELECT count(*) FROM gift_card_activation WHERE done_at IS NULL")?
            .query_row([], |r| r.get(0))?)
    }

    /// Gift cards sold in committed sales that the ledger does not have yet, oldest first.
    pub fn pending_gift_card_activations(&self, limit: usize) -> Result<Vec<Activation>> {
        let rows: Vec<ActivationRow> = self
            .conn
            .prepare_cached(
                "SELECT key, sale_id, kind, number, currency, amount, attempts, last_error \
                 FROM gift_card_activation WHERE done_at IS NULL ORDER BY created_at, key LIMIT ?1",
            )?
            .query_map([limit as i64], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(
                |(key, sale_id, kind, number, cur, amount, attempts, last_error)| {
                    Ok(Activation {
                        key,
                        sale_id,
                        load: if kind == "issue" {
                            Load::Issue
                        } else {
                            Load::TopUp
                        },
                        number,
                        amount: Money::new(amount, currency_of(&cur)?),
                        attempts,
                        last_error,
                    })
                },
            )
            .collect()
    }

    /// Records the outcome of putting an activation on the ledger: done (`error` None) or
    /// refused / unreachable (kept pending with the error, tried again later).
    pub fn record_gift_card_activation(
        &mut self,
        key: &str,
        error: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        match error {
            None => self.conn.execute(
                "UPDATE gift_card_activation SET done_at = ?2, attempts = attempts + 1, last_error = NULL \
                 WHERE key = ?1 AND done_at IS NULL",
                params![key, unix_ms(now)],
            )?,
            Some(e) => self.conn.execute(
                "UPDATE gift_card_activation SET attempts = attempts + 1, last_error = ?2 \
                 WHERE key = ?1 AND done_at IS NULL",
                params![key, e],
            )?,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(m: i64) -> Money {
        Money::new(m, Currency::Eur)
    }

    fn store_with_card(balance: i64) -> Store {
        let mut s = Store::open_in_memory().unwrap();
        s.issue_gift_card("6006 0000 0001", eur(balance), OffsetDateTime::UNIX_EPOCH)
            .unwrap();
        s
    }

    fn balance(s: &Store) -> i64 {
        s.gift_card("600600000001").unwrap().unwrap().balance.minor
    }

    #[test]
    fn numbers_are_normalized_from_typing_and_swipes() {
        assert_eq!(normalize_number(" 6006-0000 0001 "), "600600000001");
        assert_eq!(normalize_number(";600600000001=2912?"), "600600000001");
        assert_eq!(
            normalize_number("%B600600000001^GIFT^2912?"),
            "600600000001"
        );
        assert_eq!(normalize_number("gc-ab12"), "GCAB12");
    }

    #[test]
    fn a_partial_redeem_lowers_the_balance_and_a_repeat_debits_nothing() {
        let mut s = store_with_card(2500);
        let t = OffsetDateTime::UNIX_EPOCH;
        let r = s
            .redeem_gift_card("sale-1-1", "600600000001", eur(1000), t)
            .unwrap();
        assert_eq!((r.balance_after.minor, r.replayed), (1500, false));
        let again = s
            .redeem_gift_card("sale-1-1", "6006 0000 0001", eur(1000), t)
            .unwrap();
        assert!(again.replayed);
        assert_eq!(balance(&s), 1500, "the retry debited nothing");
        // The same key for another amount is refused, and changes nothing.
        assert!(matches!(
            s.redeem_gift_card("sale-1-1", "600600000001", eur(500), t),
            Err(LedgerError::KeyReused(_))
        ));
        assert_eq!(balance(&s), 1500);
    }

    #[test]
    fn never_below_zero() {
        let mut s = store_with_card(700);
        let t = OffsetDateTime::UNIX_EPOCH;
        match s.redeem_gift_card("k1", "600600000001", eur(701), t) {
            Err(LedgerError::Insufficient { available }) => assert_eq!(available.minor, 700),
            other => panic!("{other:?}"),
        }
        assert_eq!(balance(&s), 700);
        s.redeem_gift_card("k2", "600600000001", eur(700), t)
            .unwrap();
        assert_eq!(balance(&s), 0);
        assert!(matches!(
            s.redeem_gift_card("k3", "600600000001", eur(1), t),
            Err(LedgerError::Insufficient { .. })
        ));
    }

    #[test]
    fn unknown_blocked_and_foreign_currency_cards_are_refused() {
        let mut s = store_with_card(700);
        let t = OffsetDateTime::UNIX_EPOCH;
        assert!(matches!(
            s.redeem_gift_card("k", "999", eur(1), t),
            Err(LedgerError::Unknown(_))
        ));
        assert!(matches!(
            s.redeem_gift_card("k", "600600000001", Money::new(1, Currency::Jpy), t),
            Err(LedgerError::WrongCurrency { .. })
        ));
        s.set_gift_card_active("600600000001", false).unwrap();
        assert!(matches!(
            s.redeem_gift_card("k", "600600000001", eur(1), t),
            Err(LedgerError::NotUsable(_))
        ));
        assert_eq!(balance(&s), 700);
    }

    #[test]
    fn a_release_gives_the_money_back_once_and_frees_the_key() {
        let mut s = store_with_card(2000);
        let t = OffsetDateTime::UNIX_EPOCH;
        s.redeem_gift_card("k", "600600000001", eur(800), t)
            .unwrap();
        assert_eq!(s.release_gift_card("k", t).unwrap(), Some(eur(800)));
        assert_eq!(s.release_gift_card("k", t).unwrap(), None, "only once");
        assert_eq!(balance(&s), 2000);
        // The key may now carry another redeem.
        s.redeem_gift_card("k", "600600000001", eur(300), t)
            .unwrap();
        assert_eq!(balance(&s), 1700);
        let entries: i64 = s
            .connection()
            .query_row("SELECT count(*) FROM gift_card_entry", [], |r| r.get(0))
            .unwrap();
        assert_eq!(entries, 4, "issue, redeem, release, redeem");
    }

    #[test]
    fn an_issue_creates_the_card_once_per_key_and_never_twice_per_number() {
        let mut s = Store::open_in_memory().unwrap();
        let t = OffsetDateTime::UNIX_EPOCH;
        let first = s
            .load_gift_card("sale-a-L1", Load::Issue, "7000 1234", eur(5000), t)
            .unwrap();
        assert_eq!((first.balance_after.minor, first.replayed), (5000, false));
        let again = s
            .load_gift_card("sale-a-L1", Load::Issue, "70001234", eur(5000), t)
            .unwrap();
        assert!(again.replayed);
        assert_eq!(
            s.gift_card("70001234").unwrap().unwrap().balance.minor,
            5000
        );
        assert!(matches!(
            s.load_gift_card("sale-b-L1", Load::Issue, "70001234", eur(100), t),
            Err(LedgerError::AlreadyIssued(_))
        ));
        assert!(matches!(
            s.load_gift_card("sale-a-L1", Load::Issue, "70001234", eur(4000), t),
            Err(LedgerError::KeyReused(_))
        ));
        assert_eq!(
            s.gift_card("70001234").unwrap().unwrap().balance.minor,
            5000
        );
    }

    #[test]
    fn a_top_up_adds_once_and_only_to_an_active_card() {
        let mut s = store_with_card(1000);
        let t = OffsetDateTime::UNIX_EPOCH;
        let r = s
            .load_gift_card("sale-c-L2", Load::TopUp, "600600000001", eur(2500), t)
            .unwrap();
        assert_eq!(r.balance_after.minor, 3500);
        s.load_gift_card("sale-c-L2", Load::TopUp, "600600000001", eur(2500), t)
            .unwrap();
        assert_eq!(balance(&s), 3500, "a repeat adds nothing");
        assert!(matches!(
            s.load_gift_card("k2", Load::TopUp, "999", eur(1), t),
            Err(LedgerError::Unknown(_))
        ));
        assert!(matches!(
            s.load_gift_card(
                "k3",
                Load::TopUp,
                "600600000001",
                Money::new(1, Currency::Jpy),
                t
            ),
            Err(LedgerError::WrongCurrency { .. })
        ));
        s.set_gift_card_active("600600000001", false).unwrap();
        assert!(matches!(
            s.load_gift_card("k4", Load::TopUp, "600600000001", eur(1), t),
            Err(LedgerError::NotUsable(_))
        ));
        assert_eq!(balance(&s), 3500);
    }

    #[test]
    fn entries_list_the_movements_newest_first() {
        let mut s = store_with_card(1000);
        let t = OffsetDateTime::UNIX_EPOCH;
        s.redeem_gift_card("s-1", "600600000001", eur(300), t)
            .unwrap();
        s.load_gift_card("s-2-L1", Load::TopUp, "600600000001", eur(500), t)
            .unwrap();
        let e = s.gift_card_entries("6006 0000 0001", 10).unwrap();
        let seen: Vec<(EntryKind, i64, i64)> = e
            .iter()
            .map(|e| (e.kind, e.amount.minor, e.balance_after.minor))
            .collect();
        assert_eq!(
            seen,
            vec![
                (EntryKind::TopUp, 500, 1200),
                (EntryKind::Redeem, -300, 700),
                (EntryKind::Issue, 1000, 1000)
            ]
        );
        assert_eq!(s.gift_card_entries("600600000001", 1).unwrap().len(), 1);
    }
}
