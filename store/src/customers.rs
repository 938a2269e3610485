//! Customers and their two ledgers: store credit (what the store owes them, spent as a tender)
//! and the customer account (what they owe, paid by invoice later, up to a credit limit).
//!
//! Invariants:
//! * Store credit never goes below zero; an account balance never goes above its limit, and a
//!   customer without an account (no limit) cannot be charged on account. A refused charge
//!   changes nothing (the schema's CHECKs back this up).
//! * Charges are idempotent by key (the sale's id and the tender's position), exactly as gift
//!   card redeems are (see `gift_cards`): a repeat returns the first charge; a release gives a
//!   charge back once and frees the key.
//! * A balance and its entry change in one transaction.
//! * An account payment is numbered in the terminal's `<terminal>-P` series without gaps, is
//!   never more than what is owed, and is recorded once per payment id (its row, the balance and
//!   the statement entry in one transaction). Its cash counts in the drawer of its session.
//! * A statement shows every entry that moved the balance and was not given back, with the
//!   running balance; the opening balance is what the customer had before the first entry.

use crate::gift_cards::LedgerError;
use crate::{Result, Store, StoreError, unix_ms};
use pos_core::{Currency, Money};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;

/// Which of a customer's ledgers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CustomerLedger {
    /// Spending the customer's credit balance.
    StoreCredit,
    /// Charging the customer's account (an invoice later).
    Account,
}

impl CustomerLedger {
    pub const fn code(self) -> &'static str {
        match self {
            CustomerLedger::StoreCredit => "store_credit",
            CustomerLedger::Account => "account",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub store_credit: Money,
    /// None: the customer has no account.
    pub account_limit: Option<Money>,
    /// What the customer owes on account.
    pub account_balance: Money,
}

impl Customer {
    /// What can still be charged to the account (zero without an account).
    pub fn account_available(&self) -> Money {
        Money::new(
            self.account_limit
                .map_or(0, |l| (l.minor - self.account_balance.minor).max(0)),
            self.account_balance.currency,
        )
    }
}

/// A customer to add (created at the register, demo data, imports, tests).
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub store_credit: Money,
    pub account_limit: Option<Money>,
}

/// A charge that happened (now or earlier, for a repeated key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charged {
    pub customer_id: String,
    pub ledger: CustomerLedger,
    pub amount: Money,
    pub replayed: bool,
}

const COLUMNS: &str =
    "id, name, email, phone, currency, store_credit, account_limit, account_balance";

fn row_to_customer(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Customer, String)> {
    let cur: String = r.get(4)?;
    let c = Currency::Eur; // replaced below once the currency code is checked
    Ok((
        Customer {
            id: r.get(0)?,
            name: r.get(1)?,
            email: r.get(2)?,
            phone: r.get(3)?,
            store_credit: Money::new(r.get(5)?, c),
            account_limit: r.get::<_, Option<i64>>(6)?.map(|l| Money::new(l, c)),
            account_balance: Money::new(r.get(7)?, c),
        },
        cur,
    ))
}

fn with_currency((mut c, code): (Customer, String)) -> Result<Customer> {
    let cur: Currency = code
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("currency {code}")))?;
    c.store_credit.currency = cur;
    c.account_balance.currency = cur;
    if let Some(l) = &mut c.account_limit {
        l.currency = cur;
    }
    Ok(c)
}

impl Store {
    /// Adds a customer; an existing id is left as it is. Returns whether it was added.
    pub fn add_customer(&mut self, c: &NewCustomer, now: OffsetDateTime) -> Result<bool> {
        let cur = c.store_credit.currency;
        if c.account_limit.is_some_and(|l| l.currency != cur) {
            return Err(StoreError::Invalid(format!(
                "customer {}: limit and credit in different currencies",
                c.id
            )));
        }
        let n = self.conn.execute(
            "INSERT INTO customer (id, name, email, phone, currency, store_credit, account_limit, account_balance, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8) ON CONFLICT (id) DO NOTHING",
            params![
                c.id,
                c.name,
                c.email,
                c.phone,
                cur.code(),
                c.store_credit.minor,
                c.account_limit.map(|l| l.minor),
                unix_ms(now)
            ],
        )?;
        Ok(n == 1)
    }

    pub fn customer(&self, id: &str) -> Result<Option<Customer>> {
        let sql = format!("SELECT {COLUMNS} FROM customer WHERE id = ?1");
        let row = self
            .conn
            .prepare_cached(&sql)?
            .query_row([id], row_to_customer)
            .optional()?;
        row.map(with_currency).transpose()
    }

    /// Customers whose name, e-mail, phone or id contains `query` (case-insensitive), by name.
    pub fn find_customers(&self, query: &str, limit: usize) -> Result<Vec<Customer>> {
        let q = query.trim();
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let pattern = format!(
            "%{}%",
            q.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let sql = format!(
            "SELECT {COLUMNS} FROM customer WHERE name LIKE ?1 ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\' \
             OR phone LIKE ?1 ESCAPE '\\' OR id LIKE ?1 ESCAPE '\\' ORDER BY name COLLATE NOCASE LIMIT ?2"
        );
        let rows: Vec<(Customer, String)> = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params![pattern, limit as i64], row_to_customer)?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter().map(with_currency).collect()
    }

    /// Charges `amount` to a customer's store credit (spends it) or account (adds to what they
    /// owe), once per `key`. See the module doc.
    pub fn charge_customer(
        &mut self,
        key: &str,
        customer_id: &str,
        ledger: CustomerLedger,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<Charged, LedgerError> {
        if amount.minor <= 0 {
            return Err(LedgerError::NonPositive);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sql = format!("SELECT {COLUMNS} FROM customer WHERE id = ?1");
        let found = tx
            .prepare_cached(&sql)?
            .query_row([customer_id], row_to_customer)
            .optional()?;
        let Some(found) = found else {
            return Err(LedgerError::Unknown(customer_id.to_owned()));
        };
        let c = with_currency(found)?;
        let existing: Option<(String, String, i64)> = tx
            .prepare_cached(
                "SELECT customer_id, ledger, amount FROM customer_entry \
                 WHERE idempotency_key = ?1 AND kind = 'charge' AND released = 0",
            )?
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let currency = c.store_credit.currency;
        if let Some((who, which, a)) = existing {
            if who == c.id && which == ledger.code() && a.abs() == amount.minor {
                return Ok(Charged {
                    customer_id: c.id,
                    ledger,
                    amount,
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
        let (delta, after) = match ledger {
            CustomerLedger::StoreCredit => {
                if amount.minor > c.store_credit.minor {
                    return Err(LedgerError::Insufficient {
                        available: c.store_credit,
                    });
                }
                (-amount.minor, c.store_credit.minor - amount.minor)
            }
            CustomerLedger::Account => {
                if c.account_limit.is_none() {
                    return Err(LedgerError::NotUsable(c.id));
                }
                let available = c.account_available();
                if amount.minor > available.minor {
                    return Err(LedgerError::Insufficient { available });
                }
                (amount.minor, c.account_balance.minor + amount.minor)
            }
        };
        let column = match ledger {
            CustomerLedger::StoreCredit => "store_credit",
            CustomerLedger::Account => "account_balance",
        };
        tx.execute(
            &format!("UPDATE customer SET {column} = ?2 WHERE id = ?1"),
            params![c.id, after],
        )?;
        tx.execute(
            "INSERT INTO customer_entry (customer_id, ledger, kind, amount, balance_after, idempotency_key, at) \
             VALUES (?1, ?2, 'charge', ?3, ?4, ?5, ?6)",
            params![c.id, ledger.code(), delta, after, key, unix_ms(now)],
        )?;
        tx.commit()?;
        Ok(Charged {
            customer_id: c.id,
            ledger,
            amount,
            replayed: false,
        })
    }

    /// Gives the live charge with `key` back. Returns what was released, or None when there was
    /// nothing live under this key.
    pub fn release_customer_charge(
        &mut self,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Money>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let live: Option<(i64, String, String, i64, String)> = tx
            .prepare_cached(
                "SELECT e.id, e.customer_id, e.ledger, e.amount, c.currency FROM customer_entry e \
                 JOIN customer c ON c.id = e.customer_id \
                 WHERE e.idempotency_key = ?1 AND e.kind = 'charge' AND e.released = 0",
            )?
            .query_row([key], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        let Some((id, customer, ledger, delta, cur)) = live else {
            return Ok(None);
        };
        let column = if ledger == "account" {
            "account_balance"
        } else {
            "store_credit"
        };
        tx.execute("UPDATE customer_entry SET released = 1 WHERE id = ?1", [id])?;
        let after: i64 = tx.query_row(
            &format!(
                "UPDATE customer SET {column} = {column} - ?2 WHERE id = ?1 RETURNING {column}"
            ),
            params![customer, delta],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO customer_entry (customer_id, ledger, kind, amount, balance_after, idempotency_key, at) \
             VALUES (?1, ?2, 'release', ?3, ?4, ?5, ?6)",
            params![customer, ledger, -delta, after, key, unix_ms(now)],
        )?;
        tx.commit()?;
        let cur: Currency = cur
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("currency {cur}")))?;
        Ok(Some(Money::new(delta.abs(), cur)))
    }
}

/// Inside the sale's transaction: the customer the sale was made for.
pub(crate) fn record_sale_customer(
    tx: &rusqlite::Connection,
    sale: &pos_core::CompletedSale,
) -> Result<()> {
    if let Some(c) = sale.customer() {
        tx.prepare_cached("INSERT INTO sale_customer (sale_id, customer_id) VALUES (?1, ?2)")?
            .execute(params![sale.id().to_string(), c.id])?;
    }
    Ok(())
}

/// Cash customers paid on their accounts in a register session (what the drawer gained).
pub(crate) fn session_account_cash(
    conn: &rusqlite::Connection,
    session_id: &str,
    currency: Currency,
) -> Result<Money> {
    let sum: i64 = conn
        .prepare_cached(
            "SELECT coalesce(sum(amount), 0) FROM account_payment \
             WHERE session_id = ?1 AND tender = 'cash'",
        )?
        .query_row([session_id], |r| r.get(0))?;
    Ok(Money::new(sum, currency))
}

/// What a statement line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementKind {
    /// A sale charged to the account (or store credit spent).
    Charge,
    /// The customer paid (account) or was credited (store credit).
    Payment,
    Credit,
}

/// One line of a customer's statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementEntry {
    pub at: OffsetDateTime,
    pub kind: StatementKind,
    /// The receipt of the sale charged, or the payment's document number.
    pub receipt: Option<String>,
    /// Signed change of the balance (account: what is owed; store credit: what is held).
    pub amount: Money,
    /// The balance after this entry.
    pub balance: Money,
}

/// A customer's statement of one ledger: every live entry, oldest first, with running balances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub customer: Customer,
    pub ledger: CustomerLedger,
    /// The balance before the first entry (store credit given when the customer was added).
    pub opening: Money,
    pub entries: Vec<StatementEntry>,
    pub closing: Money,
}

/// A customer paying their account at the register.
#[derive(Debug, Clone)]
pub struct NewAccountPayment {
    /// UUID: the payment's id and its ledger key (a retry with the same id pays once).
    pub id: String,
    pub terminal_id: String,
    /// The register session whose drawer takes the cash.
    pub session_id: Option<String>,
    pub customer_id: String,
    /// "cash" or "card".
    pub tender: String,
    pub amount: Money,
    /// Cash handed over (the amount for card).
    pub tendered: Money,
    pub reference: Option<String>,
    pub cashier_id: String,
    pub cashier_name: String,
}

/// An account payment as recorded (and printed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPayment {
    pub id: String,
    /// "<terminal>-P-000001".
    pub document: String,
    pub customer_id: String,
    pub tender: String,
    pub amount: Money,
    pub tendered: Money,
    pub reference: Option<String>,
    pub cashier_name: String,
    pub at: OffsetDateTime,
    /// What the customer owes after this payment.
    pub balance_after: Money,
    /// True when this id had already been recorded: nothing was paid this time.
    pub replayed: bool,
}

/// The gap-free series of a terminal's account payments.
pub fn payment_series(terminal_id: &str) -> String {
    format!("{terminal_id}-P")
}

/// The setting under which a terminal keeps its account payment by card about to be charged.
fn account_payment_draft_key(terminal_id: &str) -> String {
    format!("account_payment.draft.{terminal_id}")
}

impl Store {
    /// Keeps the terminal's account payment by card before the card is charged (the caller's
    /// JSON), so a crash between the terminal's approval and the account entry can be finished.
    pub fn save_account_payment_draft(&self, terminal_id: &str, draft: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO setting (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![account_payment_draft_key(terminal_id), draft],
        )?;
        Ok(())
    }

    /// The terminal's account payment by card left unfinished, if any.
    pub fn account_payment_draft(&self, terminal_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM setting WHERE key = ?1")?
            .query_row([account_payment_draft_key(terminal_id)], |r| r.get(0))
            .optional()?)
    }

    /// Forgets the terminal's account payment draft (recorded, or nothing was charged).
    pub fn clear_account_payment_draft(&self, terminal_id: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM setting WHERE key = ?1",
            [account_payment_draft_key(terminal_id)],
        )?;
        Ok(())
    }
}

impl Store {
    /// Changes a customer's name, e-mail and phone. Returns false for an unknown id.
    pub fn update_customer(
        &mut self,
        id: &str,
        name: &str,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE customer SET name = ?2, email = ?3, phone = ?4 WHERE id = ?1",
            params![id, name, email, phone],
        )?;
        Ok(n == 1)
    }

    /// Gives the customer an account with this limit, changes it, or (None) closes the account.
    /// A limit below what is owed is refused, and so is closing an account that owes money.
    pub fn set_customer_account_limit(
        &mut self,
        id: &str,
        limit: Option<Money>,
    ) -> Result<Customer, LedgerError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sql = format!("SELECT {COLUMNS} FROM customer WHERE id = ?1");
        let found = tx
            .prepare_cached(&sql)?
            .query_row([id], row_to_customer)
            .optional()?;
        let Some(found) = found else {
            return Err(LedgerError::Unknown(id.to_owned()));
        };
        let mut c = with_currency(found)?;
        let cur = c.account_balance.currency;
        if let Some(l) = limit {
            if l.currency != cur {
                return Err(LedgerError::WrongCurrency {
                    expected: cur,
                    found: l.currency,
                });
            }
            if l.minor < 0 {
                return Err(LedgerError::NonPositive);
            }
        }
        if limit.map_or(0, |l| l.minor) < c.account_balance.minor {
            return Err(LedgerError::LimitBelowBalance {
                owed: c.account_balance,
            });
        }
        tx.execute(
            "UPDATE customer SET account_limit = ?2 WHERE id = ?1",
            params![id, limit.map(|l| l.minor)],
        )?;
        tx.commit()?;
        c.account_limit = limit;
        Ok(c)
    }

    /// The statement of a customer's ledger: every entry that moved the balance and was not
    /// given back (a tender cancelled before its sale completed shows neither its charge nor
    /// its release), oldest first, each with the sale's receipt or the payment's number and
    /// the running balance.
    pub fn customer_statement(
        &self,
        id: &str,
        ledger: CustomerLedger,
    ) -> Result<Option<Statement>> {
        let Some(customer) = self.customer(id)? else {
            return Ok(None);
        };
        let cur = customer.account_balance.currency;
        let rows: Vec<StatementRow> = self
            .conn
            .prepare_cached(
                "SELECT e.kind, e.amount, e.at, e.reference, s.series, s.number \
                 FROM customer_entry e \
                 LEFT JOIN sale s ON e.kind = 'charge' AND s.id = substr(e.idempotency_key, 1, 36) \
                 WHERE e.customer_id = ?1 AND e.ledger = ?2 \
                   AND NOT (e.kind = 'charge' AND e.released = 1) AND e.kind <> 'release' \
                 ORDER BY e.id",
            )?
            .query_map(params![id, ledger.code()], |r| {
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
        let closing = match ledger {
            CustomerLedger::Account => customer.account_balance,
            CustomerLedger::StoreCredit => customer.store_credit,
        };
        let moved: i64 = rows.iter().map(|r| r.1).sum();
        let opening = Money::new(closing.minor - moved, cur);
        let mut running = opening.minor;
        let mut entries = Vec::with_capacity(rows.len());
        for (kind, amount, at, reference, series, number) in rows {
            running += amount;
            let receipt = match (series, number) {
                (Some(s), Some(n)) => Some(
                    pos_core::ReceiptNumber {
                        series: s,
                        number: n,
                    }
                    .to_string(),
                ),
                _ => reference,
            };
            entries.push(StatementEntry {
                at: crate::from_unix_ms(at)?,
                kind: match kind.as_str() {
                    "charge" => StatementKind::Charge,
                    "payment" => StatementKind::Payment,
                    _ => StatementKind::Credit,
                },
                receipt,
                amount: Money::new(amount, cur),
                balance: Money::new(running, cur),
            });
        }
        Ok(Some(Statement {
            customer,
            ledger,
            opening,
            entries,
            closing,
        }))
    }

    /// Records a customer paying their account: numbered in the terminal's payment series
    /// (gap-free), the account lowered by `amount`, one statement entry; all in one
    /// transaction. A payment id already recorded returns that payment (`replayed`) and pays
    /// nothing. Paying more than is owed is refused.
    pub fn pay_customer_account(
        &mut self,
        p: &NewAccountPayment,
        now: OffsetDateTime,
    ) -> Result<AccountPayment, LedgerError> {
        if p.amount.minor <= 0 {
            return Err(LedgerError::NonPositive);
        }
        if p.tendered.minor < p.amount.minor || p.tendered.currency != p.amount.currency {
            return Err(LedgerError::Store(StoreError::Invalid(
                "the money handed over is less than the payment".into(),
            )));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(done) = account_payment(&tx, &p.id)? {
            return Ok(AccountPayment {
                replayed: true,
                ..done
            });
        }
        let sql = format!("SELECT {COLUMNS} FROM customer WHERE id = ?1");
        let found = tx
            .prepare_cached(&sql)?
            .query_row([&p.customer_id], row_to_customer)
            .optional()?;
        let Some(found) = found else {
            return Err(LedgerError::Unknown(p.customer_id.clone()));
        };
        let c = with_currency(found)?;
        let cur = c.account_balance.currency;
        if p.amount.currency != cur {
            return Err(LedgerError::WrongCurrency {
                expected: cur,
                found: p.amount.currency,
            });
        }
        if c.account_limit.is_none() {
            return Err(LedgerError::NotUsable(c.id));
        }
        if p.amount.minor > c.account_balance.minor {
            return Err(LedgerError::PaysMoreThanOwed {
                owed: c.account_balance,
            });
        }
        let series = payment_series(&p.terminal_id);
        let last: Option<u64> = tx
            .prepare_cached("SELECT last_number FROM receipt_series WHERE series = ?1")?
            .query_row([&series], |r| r.get(0))
            .optional()?;
        let number = last.unwrap_or(0) + 1;
        tx.prepare_cached(
            "INSERT INTO receipt_series (series, last_number) VALUES (?1, ?2) \
             ON CONFLICT (series) DO UPDATE SET last_number = excluded.last_number",
        )?
        .execute(params![series, number])?;
        let document = pos_core::ReceiptNumber {
            series: series.clone(),
            number,
        }
        .to_string();
        tx.execute(
            "INSERT INTO account_payment (id, series, number, terminal_id, session_id, customer_id, tender, \
             currency, amount, tendered, reference, cashier_id, cashier_name, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                p.id,
                series,
                number,
                p.terminal_id,
                p.session_id,
                c.id,
                p.tender,
                cur.code(),
                p.amount.minor,
                p.tendered.minor,
                p.reference,
                p.cashier_id,
                p.cashier_name,
                unix_ms(now)
            ],
        )?;
        let after = c.account_balance.minor - p.amount.minor;
        tx.execute(
            "UPDATE customer SET account_balance = ?2 WHERE id = ?1",
            params![c.id, after],
        )?;
        tx.execute(
            "INSERT INTO customer_entry (customer_id, ledger, kind, amount, balance_after, idempotency_key, at, reference) \
             VALUES (?1, 'account', 'payment', ?2, ?3, ?4, ?5, ?6)",
            params![c.id, -p.amount.minor, after, p.id, unix_ms(now), document],
        )?;
        let done = account_payment(&tx, &p.id)?
            .ok_or_else(|| StoreError::Corrupt("account payment not written".into()))?;
        tx.commit()?;
        Ok(done)
    }
}

/// kind, amount, at, reference, sale series, sale number.
type StatementRow = (
    String,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<u64>,
);

/// series, number, customer, tender, currency, amount, tendered, reference, cashier, at,
/// balance after.
type PaymentRow = (
    String,
    u64,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    String,
    i64,
    i64,
);

fn account_payment(conn: &rusqlite::Connection, id: &str) -> Result<Option<AccountPayment>> {
    let row: Option<PaymentRow> = conn
        .prepare_cached(
            "SELECT p.series, p.number, p.customer_id, p.tender, p.currency, p.amount, p.tendered, \
             p.reference, p.cashier_name, p.at, e.balance_after \
             FROM account_payment p JOIN customer_entry e \
               ON e.idempotency_key = p.id AND e.kind = 'payment' \
             WHERE p.id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
            ))
        })
        .optional()?;
    row.map(
        |(
            series,
            number,
            customer_id,
            tender,
            cur,
            amount,
            tendered,
            reference,
            cashier_name,
            at,
            after,
        )| {
            let cur: Currency = cur
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("currency {cur}")))?;
            Ok(AccountPayment {
                id: id.to_owned(),
                document: pos_core::ReceiptNumber { series, number }.to_string(),
                customer_id,
                tender,
                amount: Money::new(amount, cur),
                tendered: Money::new(tendered, cur),
                reference,
                cashier_name,
                at: crate::from_unix_ms(at)?,
                balance_after: Money::new(after, cur),
                replayed: false,
            })
        },
    )
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(m: i64) -> Money {
        Money::new(m, Currency::Eur)
    }

    fn store() -> Store {
        let mut s = Store::open_in_memory().unwrap();
        let t = OffsetDateTime::UNIX_EPOCH;
        s.add_customer(
            &NewCustomer {
                id: "c-lucia".into(),
                name: "Lucía Martín".into(),
                email: Some("lucia@example.com".into()),
                phone: None,
                store_credit: eur(1500),
                account_limit: Some(eur(10_000)),
            },
            t,
        )
        .unwrap();
        s.add_customer(
            &NewCustomer {
                id: "c-pablo".into(),
                name: "Pablo Ruiz".into(),
                email: None,
                phone: Some("600 111 222".into()),
                store_credit: eur(0),
                account_limit: None,
            },
            t,
        )
        .unwrap();
        s
    }

    #[test]
    fn find_by_name_email_or_phone() {
        let s = store();
        let names = |q: &str| -> Vec<String> {
            s.find_customers(q, 10)
                .unwrap()
                .into_iter()
                .map(|c| c.name)
                .collect()
        };
        assert_eq!(names("lucía"), vec!["Lucía Martín"]);
        assert_eq!(names("example.com"), vec!["Lucía Martín"]);
        assert_eq!(names("111"), vec!["Pablo Ruiz"]);
        assert!(names("%").is_empty(), "LIKE wildcards are literal");
    }

    #[test]
    fn store_credit_never_below_zero_and_a_repeat_charges_nothing() {
        let mut s = store();
        let t = OffsetDateTime::UNIX_EPOCH;
        let credit = |s: &Store| s.customer("c-lucia").unwrap().unwrap().store_credit.minor;
        match s.charge_customer("k1", "c-lucia", CustomerLedger::StoreCredit, eur(1501), t) {
            Err(LedgerError::Insufficient { available }) => assert_eq!(available.minor, 1500),
            other => panic!("{other:?}"),
        }
        s.charge_customer("k1", "c-lucia", CustomerLedger::StoreCredit, eur(1000), t)
            .unwrap();
        let again = s
            .charge_customer("k1", "c-lucia", CustomerLedger::StoreCredit, eur(1000), t)
            .unwrap();
        assert!(again.replayed);
        assert_eq!(credit(&s), 500);
        assert_eq!(s.release_customer_charge("k1", t).unwrap(), Some(eur(1000)));
        assert_eq!(credit(&s), 1500);
    }

    #[test]
    fn account_within_the_limit_only_and_not_without_an_account() {
        let mut s = store();
        let t = OffsetDateTime::UNIX_EPOCH;
        s.charge_customer("a1", "c-lucia", CustomerLedger::Account, eur(9_000), t)
            .unwrap();
        match s.charge_customer("a2", "c-lucia", CustomerLedger::Account, eur(1_001), t) {
            Err(LedgerError::Insufficient { available }) => assert_eq!(available.minor, 1_000),
            other => panic!("{other:?}"),
        }
        s.charge_customer("a2", "c-lucia", CustomerLedger::Account, eur(1_000), t)
            .unwrap();
        let c = s.customer("c-lucia").unwrap().unwrap();
        assert_eq!(c.account_balance.minor, 10_000);
        assert_eq!(c.account_available().minor, 0);
        assert!(matches!(
            s.charge_customer("p1", "c-pablo", CustomerLedger::Account, eur(1), t),
            Err(LedgerError::NotUsable(_))
        ));
        assert!(matches!(
            s.charge_customer("x", "c-nobody", CustomerLedger::Account, eur(1), t),
            Err(LedgerError::Unknown(_))
        ));
        // The key of a live charge cannot be reused for another customer.
        assert!(matches!(
            s.charge_customer("a1", "c-pablo", CustomerLedger::StoreCredit, eur(1), t),
            Err(LedgerError::KeyReused(_))
        ));
    }

    fn payment(id: &str, amount: i64) -> NewAccountPayment {
        NewAccountPayment {
            id: id.into(),
            terminal_id: "T1".into(),
            session_id: None,
            customer_id: "c-lucia".into(),
            tender: "cash".into(),
            amount: eur(amount),
            tendered: eur(amount),
            reference: None,
            cashier_id: "u1".into(),
            cashier_name: "Ana".into(),
        }
    }

    #[test]
    fn the_statement_runs_the_balance_and_hides_tenders_given_back() {
        let mut s = store();
        let t = OffsetDateTime::UNIX_EPOCH;
        s.charge_customer("s1-1", "c-lucia", CustomerLedger::Account, eur(4_000), t)
            .unwrap();
        s.charge_customer("s2-1", "c-lucia", CustomerLedger::Account, eur(700), t)
            .unwrap();
        s.release_customer_charge("s2-1", t).unwrap();
        s.charge_customer("s3-2", "c-lucia", CustomerLedger::Account, eur(2_500), t)
            .unwrap();
        let paid = s.pay_customer_account(&payment("p1", 5_000), t).unwrap();
        assert_eq!(paid.document, "T1-P-000001");
        assert_eq!(paid.balance_after.minor, 1_500);
        let st = s
            .customer_statement("c-lucia", CustomerLedger::Account)
            .unwrap()
            .unwrap();
        let lines: Vec<(StatementKind, i64, i64)> = st
            .entries
            .iter()
            .map(|e| (e.kind, e.amount.minor, e.balance.minor))
            .collect();
        assert_eq!(
            lines,
            vec![
                (StatementKind::Charge, 4_000, 4_000),
                (StatementKind::Charge, 2_500, 6_500),
                (StatementKind::Payment, -5_000, 1_500),
            ]
        );
        assert_eq!((st.opening.minor, st.closing.minor), (0, 1_500));
        assert_eq!(st.entries[2].receipt.as_deref(), Some("T1-P-000001"));
        // Store credit given when the customer was added is the opening balance.
        let credit = s
            .customer_statement("c-lucia", CustomerLedger::StoreCredit)
            .unwrap()
            .unwrap();
        assert_eq!((credit.opening.minor, credit.entries.len()), (1_500, 0));
    }

    #[test]
    fn an_account_payment_is_numbered_once_and_never_more_than_owed() {
        let mut s = store();
        let t = OffsetDateTime::UNIX_EPOCH;
        s.charge_customer("s1-1", "c-lucia", CustomerLedger::Account, eur(3_000), t)
            .unwrap();
        match s.pay_customer_account(&payment("p1", 3_001), t) {
            Err(LedgerError::PaysMoreThanOwed { owed }) => assert_eq!(owed.minor, 3_000),
            other => panic!("{other:?}"),
        }
        let first = s.pay_customer_account(&payment("p1", 1_000), t).unwrap();
        let again = s.pay_customer_account(&payment("p1", 1_000), t).unwrap();
        assert!(again.replayed);
        assert_eq!(again.document, first.document);
        let second = s.pay_customer_account(&payment("p2", 500), t).unwrap();
        assert_eq!(
            second.document, "T1-P-000002",
            "gap-free after a refused payment"
        );
        let c = s.customer("c-lucia").unwrap().unwrap();
        assert_eq!(c.account_balance.minor, 1_500);
        let mut pablo = payment("p3", 1);
        pablo.customer_id = "c-pablo".into();
        assert!(matches!(
            s.pay_customer_account(&pablo, t),
            Err(LedgerError::NotUsable(_))
        ));
    }

    #[test]
    fn a_limit_never_goes_below_what_is_owed() {
        let mut s = store();
        let t = OffsetDateTime::UNIX_EPOCH;
        s.charge_customer("s1-1", "c-lucia", CustomerLedger::Account, eur(3_000), t)
            .unwrap();
        assert!(matches!(
            s.set_customer_account_limit("c-lucia", Some(eur(2_999))),
            Err(LedgerError::LimitBelowBalance { .. })
        ));
        assert!(matches!(
            s.set_customer_account_limit("c-lucia", None),
            Err(LedgerError::LimitBelowBalance { .. })
        ));
        let c = s
            .set_customer_account_limit("c-lucia", Some(eur(3_000)))
            .unwrap();
        assert_eq!(c.account_available().minor, 0);
        let p = s
            .set_customer_account_limit("c-pablo", Some(eur(20_000)))
            .unwrap();
        assert_eq!(p.account_available().minor, 20_000);
        assert!(
            s.update_customer("c-pablo", "Pablo Ruiz Gil", Some("p@example.com"), None)
                .unwrap()
        );
        let p = s.customer("c-pablo").unwrap().unwrap();
        assert_eq!(
            (p.name.as_str(), p.email.as_deref(), p.phone),
            ("Pablo Ruiz Gil", Some("p@example.com"), None)
        );
        assert!(!s.update_customer("c-nobody", "X", None, None).unwrap());
    }
}
