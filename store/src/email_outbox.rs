//! Receipts waiting to be e-mailed. The register queues a message (with its rendered body and
//! PDF) and returns at once; a background worker sends what is due and records the outcome.
//!
//! Invariants: a (sale, recipient) pair is queued at most once (queuing it again returns the
//! existing row); a row is never deleted, a sent row keeps `sent_at`; due rows come out oldest
//! first, and a row waiting for a retry does not hold back the rows behind it.

use crate::{Result, Store, from_unix_ms, unix_ms};
use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmail {
    pub sale_id: String,
    pub recipient: String,
    pub subject: String,
    pub html: String,
    /// The plain-text alternative.
    pub text: String,
    pub attachment_name: String,
    pub attachment: Vec<u8>,
}

/// A queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEmail {
    pub id: i64,
    pub email: NewEmail,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub sent_at: Option<OffsetDateTime>,
}

/// Where a queued message stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailState {
    pub id: i64,
    pub recipient: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub sent_at: Option<OffsetDateTime>,
    /// The server refused it for good (e.g. an unknown mailbox): it is not tried again.
    pub given_up: bool,
}

/// `next_attempt_at` of a message that is not tried again.
const NEVER: i64 = i64::MAX;

const SELECT: &str = "SELECT id, sale_id, recipient, subject, html, text, attachment_name, attachment, \
                      attempts, last_error, sent_at FROM email_outbox";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(QueuedEmail, Option<i64>)> {
    Ok((
        QueuedEmail {
            id: r.get(0)?,
            email: NewEmail {
                sale_id: r.get(1)?,
                recipient: r.get(2)?,
                subject: r.get(3)?,
                html: r.get(4)?,
                text: r.get(5)?,
                attachment_name: r.get(6)?,
                attachment: r.get(7)?,
            },
            attempts: r.get(8)?,
            last_error: r.get(9)?,
            sent_at: None,
        },
        r.get(10)?,
    ))
}

fn finish((mut q, sent): (QueuedEmail, Option<i64>)) -> Result<QueuedEmail> {
    q.sent_at = sent.map(from_unix_ms).transpose()?;
    Ok(q)
}

impl Store {
    /// Queues a message, due now. Returns its id; an already queued (sale, recipient) returns
    /// the existing id and changes nothing.
    pub fn queue_email(&mut self, e: &NewEmail, now: OffsetDateTime) -> Result<i64> {
        let existing: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM email_outbox WHERE sale_id = ?1 AND recipient = ?2")?
            .query_row(params![e.sale_id, e.recipient], |r| r.get(0))
            .optional()?;
        if let Some(id) = existing {
            return Ok(id);
        }
        self.conn
            .prepare_cached(
                "INSERT INTO email_outbox (sale_id, recipient, subject, html, text, attachment_name, attachment, \
                 created_at, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            )?
            .execute(params![
                e.sale_id,
                e.recipient,
                e.subject,
                e.html,
                e.text,
                e.attachment_name,
                e.attachment,
                unix_ms(now)
            ])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Up to `limit` unsent messages due at `now`, oldest first.
    pub fn emails_due(&self, limit: usize, now: OffsetDateTime) -> Result<Vec<QueuedEmail>> {
        let sql = format!(
            "{SELECT} WHERE sent_at IS NULL AND next_attempt_at <= ?1 ORDER BY id LIMIT ?2"
        );
        let rows: Vec<_> = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params![unix_ms(now), limit as i64], row)?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter().map(finish).collect()
    }

    pub fn email(&self, id: i64) -> Result<Option<QueuedEmail>> {
        let sql = format!("{SELECT} WHERE id = ?1");
        let r = self
            .conn
            .prepare_cached(&sql)?
            .query_row([id], row)
            .optional()?;
        r.map(finish).transpose()
    }

    /// The messages queued for a sale, oldest first.
    pub fn emails_for_sale(&self, sale_id: &str) -> Result<Vec<EmailState>> {
        type Row = (EmailState, Option<i64>);
        let rows: Vec<Row> = self
            .conn
            .prepare_cached(
                "SELECT id, recipient, attempts, last_error, sent_at, next_attempt_at FROM email_outbox \
                 WHERE sale_id = ?1 ORDER BY id",
            )?
            .query_map([sale_id], |r| {
                Ok((
                    EmailState {
                        id: r.get(0)?,
                        recipient: r.get(1)?,
                        attempts: r.get(2)?,
                        last_error: r.get(3)?,
                        sent_at: None,
                        given_up: r.get::<_, i64>(5)? == NEVER,
                    },
                    r.get(4)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(mut st, sent)| {
                st.sent_at = sent.map(from_unix_ms).transpose()?;
                Ok(st)
            })
            .collect()
    }

    pub fn mark_email_sent(&mut self, id: i64, at: OffsetDateTime) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE email_outbox SET sent_at = ?2, attempts = attempts + 1, last_error = NULL \
                 WHERE id = ?1 AND sent_at IS NULL",
            )?
            .execute(params![id, unix_ms(at)])?;
        Ok(())
    }

    /// Records a failed attempt; the message is due again at `retry_at`.
    pub fn mark_email_failed(
        &mut self,
        id: i64,
        error: &str,
        retry_at: OffsetDateTime,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE email_outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 \
                 WHERE id = ?1 AND sent_at IS NULL",
            )?
            .execute(params![id, error, unix_ms(retry_at)])?;
        Ok(())
    }

    /// Records a refusal that retrying cannot fix; the message is not tried again.
    pub fn give_up_email(&mut self, id: i64, error: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE email_outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 \
                 WHERE id = ?1 AND sent_at IS NULL",
            )?
            .execute(params![id, error, NEVER])?;
        Ok(())
    }

    /// Unsent messages (for the status bar).
    pub fn emails_unsent(&self) -> Result<u64> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM email_outbox WHERE sent_at IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn mail(sale: &str, to: &str) -> NewEmail {
        NewEmail {
            sale_id: sale.into(),
            recipient: to.into(),
            subject: "Receipt".into(),
            html: "<p>hi</p>".into(),
            text: "hi".into(),
            attachment_name: "receipt.pdf".into(),
            attachment: b"%PDF-1.4".to_vec(),
        }
    }

    #[test]
    fn queued_once_retried_later_and_sent_once() {
        let mut s = Store::open_in_memory().unwrap();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let a = s.queue_email(&mail("s1", "a@example.com"), t0).unwrap();
        assert_eq!(s.queue_email(&mail("s1", "a@example.com"), t0).unwrap(), a);
        let b = s.queue_email(&mail("s2", "b@example.com"), t0).unwrap();
        assert_eq!(s.emails_unsent().unwrap(), 2);
        s.mark_email_failed(a, "connection refused", t0 + Duration::seconds(30))
            .unwrap();
        // The failed one waits; the next one is not held back.
        let due: Vec<i64> = s
            .emails_due(10, t0 + Duration::seconds(1))
            .unwrap()
            .iter()
            .map(|q| q.id)
            .collect();
        assert_eq!(due, vec![b]);
        let due = s.emails_due(10, t0 + Duration::seconds(30)).unwrap();
        assert_eq!(due.len(), 2);
        assert_eq!(due[0].email.attachment, b"%PDF-1.4");
        s.mark_email_sent(a, t0 + Duration::seconds(31)).unwrap();
        let st = s.emails_for_sale("s1").unwrap();
        assert_eq!(st[0].attempts, 2);
        assert!(st[0].sent_at.is_some());
        assert_eq!(st[0].last_error, None);
        assert_eq!(s.emails_unsent().unwrap(), 1);
        // A refusal for good: never due again.
        s.give_up_email(b, "550 no such user").unwrap();
        assert!(
            s.emails_due(10, t0 + Duration::days(3650))
                .unwrap()
                .is_empty()
        );
        let st = s.emails_for_sale("s2").unwrap();
        assert!(st[0].given_up && st[0].sent_at.is_none());
    }
}
