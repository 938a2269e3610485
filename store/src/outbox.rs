//! The outbox: events for the web shop, written in the same transaction as the change they
//! describe, and drained later by the sync worker.
//!
//! Invariants: a row is only ever inserted inside another write's transaction (there is no
//! public enqueue); `idempotency_key` is unique, so the same event cannot be queued twice and
//! the shop can drop a redelivery; rows are never deleted here, a delivered row keeps its
//! `delivered_at`. Pending rows come out oldest first among those due; a row waiting for a
//! retry does not hold back the rows behind it.

use crate::{Result, Store, StoreError, from_unix_ms, unix_ms};
use rusqlite::{Connection, params};
use time::OffsetDateTime;

/// Kind of the event written with every completed sale.
pub const SALE_COMPLETED: &str = "sale.completed";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    pub kind: String,
    pub aggregate_id: String,
    pub idempotency_key: String,
    /// JSON text.
    pub payload: String,
    pub created_at: OffsetDateTime,
    pub attempts: u32,
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
}

/// Queues an event. Only called with a connection that is inside a transaction.
pub(crate) fn enqueue(
    tx: &Connection,
    kind: &str,
    aggregate_id: &str,
    idempotency_key: &str,
    payload: &str,
    now: OffsetDateTime,
) -> Result<i64> {
    debug_assert!(
        !tx.is_autocommit(),
        "outbox rows are written inside a transaction"
    );
    let now = unix_ms(now);
    tx.prepare_cached(
        "INSERT INTO outbox (kind, aggregate_id, idempotency_key, payload, created_at, attempts, next_attempt_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, 0, ?5)",
    )?
    .execute(params![kind, aggregate_id, idempotency_key, payload, now])?;
    Ok(tx.last_insert_rowid())
}

impl Store {
    /// Up to `limit` undelivered messages due at `now`, oldest first.
    pub fn outbox_pending(&self, limit: usize, now: OffsetDateTime) -> Result<Vec<OutboxMessage>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, kind, aggregate_id, idempotency_key, payload, created_at, attempts, \
             next_attempt_at, last_error FROM outbox \
             WHERE delivered_at IS NULL AND next_attempt_at <= ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(
                params![unix_ms(now), i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, u32>(6)?,
                        r.get::<_, i64>(7)?,
                        r.get::<_, Option<String>>(8)?,
                    ))
                },
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(
                |(
                    id,
                    kind,
                    aggregate_id,
                    idempotency_key,
                    payload,
                    created,
                    attempts,
                    next,
                    last_error,
                )| {
                    Ok(OutboxMessage {
                        id,
                        kind,
                        aggregate_id,
                        idempotency_key,
                        payload,
                        created_at: from_unix_ms(created)?,
                        attempts,
                        next_attempt_at: from_unix_ms(next)?,
                        last_error,
                    })
                },
            )
            .collect()
    }

    /// The shop has the message: it will not be sent again.
    pub fn outbox_mark_delivered(&mut self, id: i64, at: OffsetDateTime) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE outbox SET delivered_at = ?2, attempts = attempts + 1, last_error = NULL \
             WHERE id = ?1 AND delivered_at IS NULL",
            params![id, unix_ms(at)],
        )?;
        self.expect_one_pending(id, n)
    }

    /// A delivery failed: count it, keep the error, and retry at `next_attempt_at`.
    pub fn outbox_mark_failed(
        &mut self,
        id: i64,
        error: &str,
        next_attempt_at: OffsetDateTime,
    ) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 \
             WHERE id = ?1 AND delivered_at IS NULL",
            params![id, error, unix_ms(next_attempt_at)],
        )?;
        self.expect_one_pending(id, n)
    }

    fn expect_one_pending(&self, id: i64, updated: usize) -> Result<()> {
        if updated == 1 {
            Ok(())
        } else {
            Err(StoreError::Invalid(format!(
                "outbox message {id} does not exist or was already delivered"
            )))
        }
    }

    /// How many messages are not delivered yet (due or waiting for a retry).
    pub fn outbox_len(&self) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM outbox WHERE delivered_at IS NULL",
            [],
            |r| r.get(0),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

    fn queue(s: &mut Store, key: &str) -> i64 {
        let tx = s.conn.transaction().unwrap();
        let id = enqueue(&tx, "test.event", "agg", key, r#"{"k":1}"#, T0).unwrap();
        tx.commit().unwrap();
        id
    }

    #[test]
    fn messages_come_out_in_order_until_delivered() {
        let mut s = Store::open_in_memory().unwrap();
        let a = queue(&mut s, "a");
        let b = queue(&mut s, "b");
        assert_eq!(s.outbox_len().unwrap(), 2);
        let due = s.outbox_pending(10, T0).unwrap();
        assert_eq!(due.iter().map(|m| m.id).collect::<Vec<_>>(), vec![a, b]);
        assert_eq!(due[0].payload, r#"{"k":1}"#);
        assert_eq!(due[0].created_at, T0);
        s.outbox_mark_delivered(a, T0).unwrap();
        assert_eq!(s.outbox_len().unwrap(), 1);
        assert_eq!(s.outbox_pending(10, T0).unwrap()[0].id, b);
        assert!(
            s.outbox_mark_delivered(a, T0).is_err(),
            "delivered twice is a caller bug"
        );
    }

    #[test]
    fn a_failed_message_waits_for_its_retry_without_holding_back_others() {
        let mut s = Store::open_in_memory().unwrap();
        let a = queue(&mut s, "a");
        let b = queue(&mut s, "b");
        let retry = T0 + time::Duration::seconds(30);
        s.outbox_mark_failed(a, "connection refused", retry)
            .unwrap();
        let due = s.outbox_pending(10, T0).unwrap();
        assert_eq!(due.iter().map(|m| m.id).collect::<Vec<_>>(), vec![b]);
        let due = s.outbox_pending(10, retry).unwrap();
        assert_eq!(due[0].id, a);
        assert_eq!(due[0].attempts, 1);
        assert_eq!(due[0].last_error.as_deref(), Some("connection refused"));
        assert_eq!(s.outbox_pending(1, retry).unwrap().len(), 1, "limit holds");
    }

    #[test]
    fn the_same_event_cannot_be_queued_twice() {
        let mut s = Store::open_in_memory().unwrap();
        queue(&mut s, "same");
        let tx = s.conn.transaction().unwrap();
        assert!(enqueue(&tx, "test.event", "agg", "same", "{}", T0).is_err());
    }
}
