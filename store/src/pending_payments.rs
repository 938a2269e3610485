//! Card payment attempts on disk, written before the payment terminal is asked, so that a
//! payment whose outcome was lost (crash, cable pulled) is recovered after a restart and never
//! charged twice.
//!
//! The record itself (`pos_hardware::payment::PendingPayment`) is opaque JSON here; the caller
//! states whether it is still in flight and, for an approval, the terminal's receipt number.
//! Invariants: a `ref_id` is inserted once per terminal (a second insert returns the first record
//! and changes nothing); `in_flight` and `receipt_no` always describe the stored record.

use crate::{Result, Store};
use rusqlite::{OptionalExtension, params};

/// One stored attempt: the caller's JSON plus the two columns recovery queries by.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingPaymentRow {
    pub record: serde_json::Value,
    /// The outcome is not established yet.
    pub in_flight: bool,
    /// The terminal's receipt number of an approved payment.
    pub receipt_no: Option<u32>,
}

impl Store {
    /// Inserts `row` under `ref_id` unless that `ref_id` exists; returns the existing row then.
    pub fn insert_pending_payment(
        &self,
        terminal_id: &str,
        ref_id: &str,
        row: &PendingPaymentRow,
    ) -> Result<Option<PendingPaymentRow>> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO pending_payments (terminal_id, ref_id, record, in_flight, receipt_no)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (terminal_id, ref_id) DO NOTHING",
            )?
            .execute(params![
                terminal_id,
                ref_id,
                row.record.to_string(),
                row.in_flight,
                row.receipt_no
            ])?;
        if n == 1 {
            Ok(None)
        } else {
            self.pending_payment(terminal_id, ref_id)
        }
    }

    /// Replaces the row of an existing `ref_id`. Returns `false` if there is none.
    pub fn update_pending_payment(
        &self,
        terminal_id: &str,
        ref_id: &str,
        row: &PendingPaymentRow,
    ) -> Result<bool> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE pending_payments SET record = ?3, in_flight = ?4, receipt_no = ?5
                 WHERE terminal_id = ?1 AND ref_id = ?2",
            )?
            .execute(params![
                terminal_id,
                ref_id,
                row.record.to_string(),
                row.in_flight,
                row.receipt_no
            ])?;
        Ok(n == 1)
    }

    pub fn pending_payment(
        &self,
        terminal_id: &str,
        ref_id: &str,
    ) -> Result<Option<PendingPaymentRow>> {
        let row: Option<(String, bool, Option<u32>)> = self
            .conn
            .prepare_cached(
                "SELECT record, in_flight, receipt_no FROM pending_payments
                 WHERE terminal_id = ?1 AND ref_id = ?2",
            )?
            .query_row(params![terminal_id, ref_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        row.map(|(record, in_flight, receipt_no)| {
            Ok(PendingPaymentRow {
                record: serde_json::from_str(&record)?,
                in_flight,
                receipt_no,
            })
        })
        .transpose()
    }

    /// The records still in flight, in `ref_id` order.
    pub fn in_flight_payments(&self, terminal_id: &str) -> Result<Vec<serde_json::Value>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT record FROM pending_payments WHERE terminal_id = ?1 AND in_flight = 1
             ORDER BY ref_id",
        )?;
        let texts = stmt
            .query_map([terminal_id], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        texts.iter().map(|t| Ok(serde_json::from_str(t)?)).collect()
    }

    /// Whether an approved record carries the terminal's receipt number `receipt_no`.
    pub fn payment_receipt_attributed(&self, terminal_id: &str, receipt_no: u32) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM pending_payments
                                WHERE terminal_id = ?1 AND receipt_no = ?2)",
            )?
            .query_row(params![terminal_id, receipt_no], |r| r.get(0))?)
    }

    /// The last receipt number seen from the payment terminal.
    pub fn payment_terminal_last_receipt(&self, terminal_id: &str) -> Result<Option<u32>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT last_receipt_no FROM payment_terminal_cursor WHERE terminal_id = ?1",
            )?
            .query_row([terminal_id], |r| r.get(0))
            .optional()?)
    }

    pub fn set_payment_terminal_last_receipt(
        &self,
        terminal_id: &str,
        receipt_no: u32,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO payment_terminal_cursor (terminal_id, last_receipt_no) VALUES (?1, ?2)
                 ON CONFLICT (terminal_id) DO UPDATE SET last_receipt_no = excluded.last_receipt_no",
            )?
            .execute(params![terminal_id, receipt_no])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(state: &str, receipt_no: Option<u32>) -> PendingPaymentRow {
        PendingPaymentRow {
            record: json!({"ref_id": "S-1", "state": {"state": state}}),
            in_flight: state == "in_flight",
            receipt_no,
        }
    }

    #[test]
    fn an_in_flight_payment_survives_reopening_and_is_inserted_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        {
            let s = Store::open(&path).unwrap();
            assert_eq!(
                s.insert_pending_payment("T01", "S-1", &row("in_flight", None))
                    .unwrap(),
                None
            );
            s.set_payment_terminal_last_receipt("T01", 41).unwrap();
        }
        let s = Store::open(&path).unwrap();
        let again = s
            .insert_pending_payment("T01", "S-1", &row("approved", Some(42)))
            .unwrap();
        assert_eq!(
            again,
            Some(row("in_flight", None)),
            "the first record stands"
        );
        assert_eq!(s.in_flight_payments("T01").unwrap().len(), 1);
        assert_eq!(s.in_flight_payments("T02").unwrap().len(), 0);
        assert_eq!(s.payment_terminal_last_receipt("T01").unwrap(), Some(41));
        assert_eq!(s.payment_terminal_last_receipt("T02").unwrap(), None);

        assert!(
            s.update_pending_payment("T01", "S-1", &row("approved", Some(42)))
                .unwrap()
        );
        assert!(s.in_flight_payments("T01").unwrap().is_empty());
        assert!(s.payment_receipt_attributed("T01", 42).unwrap());
        assert!(!s.payment_receipt_attributed("T01", 41).unwrap());
        assert!(!s.payment_receipt_attributed("T02", 42).unwrap());
        assert!(
            !s.update_pending_payment("T01", "S-9", &row("approved", Some(43)))
                .unwrap(),
            "no such record"
        );
    }
}
