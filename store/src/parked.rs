//! Parked sales: carts set aside on a terminal to serve the next customer, resumed later.
//!
//! Invariants:
//! * A parked sale belongs to one terminal and is listed there until it is resumed, whatever
//!   its age (yesterday's parked sales are still listed, oldest first).
//! * Resuming takes the sale out in one statement (`DELETE … RETURNING`), so one parked sale
//!   can never be resumed twice.
//! * The cart is opaque JSON here (the register owns its shape); the other columns are what
//!   the list shows.

use crate::{Result, Store, StoreError, from_unix_ms, unix_ms};
use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

/// A parked sale as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedSale {
    pub id: String,
    pub terminal_id: String,
    pub cashier_id: String,
    pub cashier_name: String,
    pub parked_at: OffsetDateTime,
    pub line_count: u32,
    pub total_minor: i64,
    pub currency: String,
}

impl Store {
    /// Parks a sale. `sale.id` must be new (a sale is parked once at a time).
    pub fn park_sale(&mut self, sale: &ParkedSale, cart: &serde_json::Value) -> Result<()> {
        if sale.line_count == 0 {
            return Err(StoreError::Invalid("an empty sale cannot be parked".into()));
        }
        self.conn
            .prepare_cached(
                "INSERT INTO parked_sale (id, terminal_id, cashier_id, cashier_name, parked_at, line_count, total_minor, currency, cart) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                sale.id,
                sale.terminal_id,
                sale.cashier_id,
                sale.cashier_name,
                unix_ms(sale.parked_at),
                sale.line_count,
                sale.total_minor,
                sale.currency,
                cart.to_string()
            ])?;
        Ok(())
    }

    /// The terminal's parked sales, oldest first.
    pub fn parked_sales(&self, terminal_id: &str) -> Result<Vec<ParkedSale>> {
        let rows = self
            .conn
            .prepare_cached(
                "SELECT id, terminal_id, cashier_id, cashier_name, parked_at, line_count, total_minor, currency \
                 FROM parked_sale WHERE terminal_id = ?1 ORDER BY parked_at, rowid",
            )?
            .query_map([terminal_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, u32>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(
                |(id, terminal_id, cashier_id, cashier_name, at, lines, total, currency)| {
                    Ok(ParkedSale {
                        id,
                        terminal_id,
                        cashier_id,
                        cashier_name,
                        parked_at: from_unix_ms(at)?,
                        line_count: lines,
                        total_minor: total,
                        currency,
                    })
                },
            )
            .collect()
    }

    /// A parked sale's cart, left in the list (to check it before taking it out).
    pub fn parked_cart(&self, terminal_id: &str, id: &str) -> Result<Option<serde_json::Value>> {
        let cart: Option<String> = self
            .conn
            .prepare_cached("SELECT cart FROM parked_sale WHERE terminal_id = ?1 AND id = ?2")?
            .query_row(params![terminal_id, id], |r| r.get(0))
            .optional()?;
        Ok(match cart {
            Some(c) => Some(serde_json::from_str(&c)?),
            None => None,
        })
    }

    /// Takes a parked sale out of the list and returns its cart; `None` if the terminal has no
    /// such parked sale (already resumed, or another terminal's).
    pub fn take_parked_sale(
        &mut self,
        terminal_id: &str,
        id: &str,
    ) -> Result<Option<serde_json::Value>> {
        let cart: Option<String> = self
            .conn
            .prepare_cached(
                "DELETE FROM parked_sale WHERE terminal_id = ?1 AND id = ?2 RETURNING cart",
            )?
            .query_row(params![terminal_id, id], |r| r.get(0))
            .optional()?;
        Ok(match cart {
            Some(c) => Some(serde_json::from_str(&c)?),
            None => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn parked(id: &str, terminal: &str, at: OffsetDateTime) -> ParkedSale {
        ParkedSale {
            id: id.into(),
            terminal_id: terminal.into(),
            cashier_id: "u-ana".into(),
            cashier_name: "Ana".into(),
            parked_at: at,
            line_count: 2,
            total_minor: 2197,
            currency: "EUR".into(),
        }
    }

    #[test]
    fn parked_sales_survive_a_restart_are_listed_oldest_first_and_resume_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let yesterday = datetime!(2026-11-21 18:00 UTC);
        let today = datetime!(2026-11-22 09:00 UTC);
        {
            let mut s = Store::open(&path).unwrap();
            s.park_sale(
                &parked("b", "T01", today),
                &serde_json::json!({"cart": "b"}),
            )
            .unwrap();
            s.park_sale(
                &parked("a", "T01", yesterday),
                &serde_json::json!({"cart": "a"}),
            )
            .unwrap();
            s.park_sale(
                &parked("c", "T02", today),
                &serde_json::json!({"cart": "c"}),
            )
            .unwrap();
        }
        let mut s = Store::open(&path).unwrap();
        let list = s.parked_sales("T01").unwrap();
        assert_eq!(
            list.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"],
            "yesterday's parked sale is still listed, first"
        );
        assert_eq!(list[0].parked_at, yesterday);
        assert_eq!(
            s.take_parked_sale("T01", "c").unwrap(),
            None,
            "another terminal's"
        );
        assert_eq!(
            s.parked_cart("T01", "a").unwrap(),
            Some(serde_json::json!({"cart": "a"}))
        );
        assert_eq!(s.parked_cart("T02", "a").unwrap(), None);
        assert_eq!(
            s.take_parked_sale("T01", "a").unwrap(),
            Some(serde_json::json!({"cart": "a"}))
        );
        assert_eq!(s.take_parked_sale("T01", "a").unwrap(), None, "only once");
        assert_eq!(s.parked_sales("T01").unwrap().len(), 1);
    }
}
