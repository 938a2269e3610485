//! The audit trail: an append-only, hash-chained log of sensitive till actions (price
//! overrides, discounts, voids, failed manager approvals, reprints…).
//!
//! Invariants:
//! * Rows are only ever appended: `seq` runs 1, 2, 3… without gaps, and triggers in the schema
//!   refuse `UPDATE` and `DELETE` on the table.
//! * Each row stores `hash = sha256(prev_hash ‖ "\n" ‖ canonical)` as lowercase hex, where
//!   `prev_hash` is the previous row's hash ([`GENESIS_HASH`] for the first row) and `canonical`
//!   is the JSON array `[seq, at_ms, terminal_id, action, user_id, approver_id, sale_ref,
//!   detail]` of the row's stored values (`detail` as its stored text). Someone who edits the
//!   file by hand (dropping the triggers) breaks the chain at the row they touched, and
//!   [`Store::verify_audit`] reports it. (Rewriting the whole chain from a row on is not
//!   detected here; anchoring the latest hash elsewhere, e.g. in the Z report sent to the shop,
//!   is the manager issue's part.)
//! * Nothing here reads the clock: the caller passes `at`.

use crate::{Result, Store, StoreError, from_unix_ms, unix_ms};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// The `prev_hash` of the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A row to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry<'a> {
    pub terminal_id: &'a str,
    pub action: &'a str,
    pub user_id: Option<&'a str>,
    pub approver_id: Option<&'a str>,
    pub sale_ref: Option<&'a str>,
    pub detail: serde_json::Value,
}

/// A stored row.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub terminal_id: String,
    pub action: String,
    pub user_id: Option<String>,
    pub approver_id: Option<String>,
    pub sale_ref: Option<String>,
    pub detail: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheck {
    /// Rows checked.
    pub rows: u64,
    /// The first row whose hash, link or number does not match: everything from there on is
    /// untrustworthy. `None` when the chain is intact.
    pub first_broken: Option<i64>,
}

impl AuditCheck {
    pub fn intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

#[allow(clippy::too_many_arguments)]
fn chain_hash(
    prev_hash: &str,
    seq: i64,
    at_ms: i64,
    terminal_id: &str,
    action: &str,
    user_id: Option<&str>,
    approver_id: Option<&str>,
    sale_ref: Option<&str>,
    detail_text: &str,
) -> String {
    let canonical = serde_json::json!([
        seq,
        at_ms,
        terminal_id,
        action,
        user_id,
        approver_id,
        sale_ref,
        detail_text
    ])
    .to_string();
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

type RawRow = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
);

const SELECT_ROWS: &str = "SELECT seq, at, terminal_id, action, user_id, approver_id, sale_ref, detail, prev_hash, hash FROM audit_log";

fn raw_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRow> {
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
    ))
}

impl Store {
    /// Appends one row to the audit trail, chained to the last one. Returns the stored row.
    pub fn append_audit(
        &mut self,
        entry: &NewAuditEntry<'_>,
        at: OffsetDateTime,
    ) -> Result<AuditRecord> {
        if entry.action.trim().is_empty() {
            return Err(StoreError::Invalid("an audit row needs an action".into()));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last: Option<(i64, String)> = tx
            .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (seq, prev_hash) = match last {
            Some((s, h)) => (s + 1, h),
            None => (1, GENESIS_HASH.to_owned()),
        };
        let at_ms = unix_ms(at);
        let detail_text = entry.detail.to_string();
        let hash = chain_hash(
            &prev_hash,
            seq,
            at_ms,
            entry.terminal_id,
            entry.action,
            entry.user_id,
            entry.approver_id,
            entry.sale_ref,
            &detail_text,
        );
        tx.prepare_cached(
            "INSERT INTO audit_log (seq, at, terminal_id, action, user_id, approver_id, sale_ref, detail, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            seq,
            at_ms,
            entry.terminal_id,
            entry.action,
            entry.user_id,
            entry.approver_id,
            entry.sale_ref,
            detail_text,
            prev_hash,
            hash
        ])?;
        tx.commit()?;
        Ok(AuditRecord {
            seq,
            at: from_unix_ms(at_ms)?,
            terminal_id: entry.terminal_id.to_owned(),
            action: entry.action.to_owned(),
            user_id: entry.user_id.map(str::to_owned),
            approver_id: entry.approver_id.map(str::to_owned),
            sale_ref: entry.sale_ref.map(str::to_owned),
            detail: entry.detail.clone(),
            prev_hash,
            hash,
        })
    }

    /// The rows after `after_seq` (0 for all), oldest first, at most `limit`.
    pub fn audit_entries(&self, after_seq: i64, limit: usize) -> Result<Vec<AuditRecord>> {
        let sql = format!("{SELECT_ROWS} WHERE seq > ?1 ORDER BY seq LIMIT ?2");
        let rows = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params![after_seq, limit as i64], raw_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(
                |(
                    seq,
                    at,
                    terminal_id,
                    action,
                    user_id,
                    approver_id,
                    sale_ref,
                    detail,
                    prev_hash,
                    hash,
                )| {
                    Ok(AuditRecord {
                        seq,
                        at: from_unix_ms(at)?,
                        terminal_id,
                        action,
                        user_id,
                        approver_id,
                        sale_ref,
                        detail: serde_json::from_str(&detail)?,
                        prev_hash,
                        hash,
                    })
                },
            )
            .collect()
    }

    /// The terminal's manager approvals, newest first, as far back as `limit` rows: `false` for
    /// a failed one (a wrong PIN, or the PIN of someone who may not approve), `true` for an
    /// approved action, with its time. Refusals while locked are not attempts and are skipped.
    pub fn recent_approvals(
        &self,
        terminal_id: &str,
        limit: usize,
    ) -> Result<Vec<(bool, OffsetDateTime)>> {
        let rows = self
            .conn
            .prepare_cached(
                "SELECT action = 'approval_failed', at FROM audit_log \
                 WHERE terminal_id = ?1 AND ( \
                   (action = 'approval_failed' AND json_extract(detail, '$.failure') IN ('wrong_pin', 'not_allowed')) \
                   OR (action <> 'approval_failed' AND approver_id IS NOT NULL)) \
                 ORDER BY seq DESC LIMIT ?2",
            )?
            .query_map(params![terminal_id, limit as i64], |r| {
                Ok((r.get::<_, bool>(0)?, r.get::<_, i64>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(failed, at)| Ok((!failed, from_unix_ms(at)?)))
            .collect()
    }

    /// Walks the whole chain and recomputes every hash. Reports the first row that does not
    /// match (a changed value, a deleted or inserted row, a broken link).
    pub fn verify_audit(&self) -> Result<AuditCheck> {
        let sql = format!("{SELECT_ROWS} ORDER BY seq");
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query([])?;
        let mut expected_prev = GENESIS_HASH.to_owned();
        let mut expected_seq = 1i64;
        let mut count = 0u64;
        while let Some(r) = rows.next()? {
            let (seq, at, terminal, action, user, approver, sale_ref, detail, prev, hash) =
                raw_row(r)?;
            count += 1;
            let recomputed = chain_hash(
                &expected_prev,
                seq,
                at,
                &terminal,
                &action,
                user.as_deref(),
                approver.as_deref(),
                sale_ref.as_deref(),
                &detail,
            );
            if seq != expected_seq || prev != expected_prev || hash != recomputed {
                return Ok(AuditCheck {
                    rows: count,
                    first_broken: Some(seq),
                });
            }
            expected_prev = hash;
            expected_seq += 1;
        }
        Ok(AuditCheck {
            rows: count,
            first_broken: None,
        })
    }
}

/// A Z report whose recorded audit head is no longer in the trail: the rows up to that head
/// were changed or removed after the report was made (and sent to the shop).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenAnchor {
    pub terminal_id: String,
    pub z_number: u64,
    /// The audit row the Z report recorded.
    pub seq: i64,
    pub recorded_hash: String,
    /// What the trail holds at that row now (`None`: the row is gone).
    pub found_hash: Option<String>,
}

impl Store {
    /// Checks every Z report's anchor: the audit row (seq, hash) it recorded when it was made
    /// must still be in the trail with the same hash. This catches what the chain alone cannot:
    /// the last rows deleted, or the whole trail rewritten from some row on. Z reports made
    /// with an empty trail anchor nothing.
    pub fn verify_audit_anchors(&self) -> Result<Vec<BrokenAnchor>> {
        let mut stmt = self.conn.prepare(
            "SELECT terminal_id, number, json_extract(document, '$.audit_head[0]'), \
                    json_extract(document, '$.audit_head[1]') \
             FROM z_report ORDER BY terminal_id, number",
        )?;
        let anchors = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut hash_at = self
            .conn
            .prepare_cached("SELECT hash FROM audit_log WHERE seq = ?1")?;
        let mut broken = Vec::new();
        for (terminal_id, number, seq, hash) in anchors {
            let (Some(seq), Some(recorded_hash)) = (seq, hash) else {
                continue;
            };
            let found_hash: Option<String> = hash_at.query_row([seq], |r| r.get(0)).optional()?;
            if found_hash.as_deref() != Some(recorded_hash.as_str()) {
                broken.push(BrokenAnchor {
                    terminal_id,
                    z_number: u64::try_from(number).unwrap_or(0),
                    seq,
                    recorded_hash,
                    found_hash,
                });
            }
        }
        Ok(broken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-22 10:00 UTC);

    fn entry(action: &str, detail: serde_json::Value) -> NewAuditEntry<'_> {
        NewAuditEntry {
            terminal_id: "T01",
            action,
            user_id: Some("u-ana"),
            approver_id: Some("u-marta"),
            sale_ref: Some("sale-1"),
            detail,
        }
    }

    fn three_rows(s: &mut Store) {
        s.append_audit(
            &entry("line_discount", serde_json::json!({"bps": 1000})),
            T0,
        )
        .unwrap();
        s.append_audit(
            &entry(
                "price_override",
                serde_json::json!({"before": 500, "after": 400}),
            ),
            T0,
        )
        .unwrap();
        s.append_audit(&entry("sale_void", serde_json::json!({"total": 999})), T0)
            .unwrap();
    }

    #[test]
    fn rows_chain_to_each_other_and_verify() {
        let mut s = Store::open_in_memory().unwrap();
        assert_eq!(
            s.verify_audit().unwrap(),
            AuditCheck {
                rows: 0,
                first_broken: None
            }
        );
        three_rows(&mut s);
        let rows = s.audit_entries(0, 10).unwrap();
        assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(rows[0].prev_hash, GENESIS_HASH);
        assert_eq!(rows[1].prev_hash, rows[0].hash);
        assert_eq!(rows[2].prev_hash, rows[1].hash);
        assert_eq!(rows[1].detail["after"], 400);
        assert_eq!(
            s.verify_audit().unwrap(),
            AuditCheck {
                rows: 3,
                first_broken: None
            }
        );
    }

    #[test]
    fn the_database_refuses_to_change_or_delete_a_row() {
        let mut s = Store::open_in_memory().unwrap();
        three_rows(&mut s);
        let c = s.connection();
        assert!(
            c.execute("UPDATE audit_log SET detail = '{}' WHERE seq = 2", [])
                .is_err()
        );
        assert!(
            c.execute("DELETE FROM audit_log WHERE seq = 3", [])
                .is_err()
        );
        assert!(s.verify_audit().unwrap().intact());
    }

    #[test]
    fn a_tampered_row_is_detected_at_that_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.db");
        {
            let mut s = Store::open(&path).unwrap();
            three_rows(&mut s);
        }
        // Someone with the file drops the guard and lowers the overridden price on record.
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.execute_batch(
                "DROP TRIGGER audit_log_is_append_only_update;
                 UPDATE audit_log SET detail = '{\"after\":450,\"before\":500}' WHERE seq = 2;",
            )
            .unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(
            s.verify_audit().unwrap(),
            AuditCheck {
                rows: 2,
                first_broken: Some(2)
            }
        );
    }

    #[test]
    fn recent_approvals_are_newest_first_and_skip_refusals_while_locked() {
        let mut s = Store::open_in_memory().unwrap();
        let t1 = T0 + time::Duration::minutes(1);
        s.append_audit(&entry("line_discount", serde_json::json!({})), T0)
            .unwrap();
        for failure in ["wrong_pin", "locked", "not_allowed"] {
            s.append_audit(
                &NewAuditEntry {
                    approver_id: None,
                    ..entry("approval_failed", serde_json::json!({"failure": failure}))
                },
                t1,
            )
            .unwrap();
        }
        // Own permission: no approval, not listed.
        s.append_audit(
            &NewAuditEntry {
                approver_id: None,
                ..entry("line_void", serde_json::json!({}))
            },
            t1,
        )
        .unwrap();
        assert_eq!(
            s.recent_approvals("T01", 10).unwrap(),
            vec![(false, t1), (false, t1), (true, T0)]
        );
        assert_eq!(s.recent_approvals("T02", 10).unwrap(), vec![]);
    }

    // How long appends and the verify take is measured by `pos-bench-office` (BENCHMARKS.md),
    // not here.
    #[test]
    fn a_long_trail_on_a_file_stays_chained_and_verifies_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.db");
        let rows = 1_000;
        {
            let mut s = Store::open(&path).unwrap();
            for i in 0..rows {
                let stored = s
                    .append_audit(
                        &entry("line_void", serde_json::json!({"line": i, "amount": 199})),
                        T0,
                    )
                    .unwrap();
                assert_eq!(stored.seq, i + 1);
            }
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(
            s.verify_audit().unwrap(),
            AuditCheck {
                rows: rows as u64,
                first_broken: None
            }
        );
        let all = s.audit_entries(0, rows as usize).unwrap();
        assert_eq!(all.len(), rows as usize);
        assert_eq!(all[0].prev_hash, GENESIS_HASH);
        for pair in all.windows(2) {
            assert_eq!(pair[1].seq, pair[0].seq + 1);
            assert_eq!(pair[1].prev_hash, pair[0].hash);
        }
        assert_eq!(all[rows as usize - 1].detail["line"], rows - 1);
    }

    #[test]
    fn a_deleted_row_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.db");
        {
            let mut s = Store::open(&path).unwrap();
            three_rows(&mut s);
        }
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.execute_batch(
                "DROP TRIGGER audit_log_is_append_only_delete;
                 DELETE FROM audit_log WHERE seq = 2;",
            )
            .unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.verify_audit().unwrap().first_broken, Some(3));
    }
}
