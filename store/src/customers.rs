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

/// A customer to add (demo data, tests; customer management is the manager issue's).
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
}
