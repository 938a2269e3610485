//! Cash management on disk: register sessions (shifts) per terminal, cash movements, drawer
//! openings without a sale, blind counts, and the numbered Z reports that close sessions.
//!
//! Invariants:
//! * A terminal has at most one open session (the schema refuses a second). A session's sales
//!   are the terminal's receipts numbered after `first_after_number` up to the last one when it
//!   closes: receipt numbers are gap-free and taken in the sale's own transaction, so every sale
//!   made while a session is open belongs to exactly that session.
//! * [`Store::close_cash_session`] runs in one `BEGIN IMMEDIATE` transaction: it reads the
//!   session's sales, movements and the chosen count, takes the terminal's next Z number
//!   (max + 1), closes the session, writes the Z report and queues it in the outbox (kind
//!   [`Z_REPORT`]). All of that commits together or not at all, so Z numbers have no gaps and
//!   never repeat, whatever crashes in between. A closed session, its movements, its counts
//!   and its Z report are never changed (triggers in `0008_cash`).
//! * A blind count is written on its own ([`Store::record_drawer_count`]) before the close: a
//!   crash between the two keeps the count and consumes no number.
//! * Nothing here reads the clock or makes ids: the caller passes `at` and the session id.

use crate::outbox;
use crate::{Result, Store, StoreError, from_unix_ms, unix_ms};
use pos_core::cash::{
    CashDirection, CashError, CashReason, DrawerCount, DrawerFigures, SalesSummary, over_short,
};
use pos_core::{CompletedSale, Currency, Money, TenderKind};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use time::OffsetDateTime;
use uuid::Uuid;

/// Outbox kind of a Z report, "sent to the shop for the unified reports".
pub const Z_REPORT: &str = "z_report";

/// The store setting that makes the register refuse sales until a float has been counted.
pub const REQUIRE_OPENING_FLOAT: &str = "cash.require_opening_float";

/// The store setting (minor units) beyond which a first blind count that does not match asks
/// for a second blind count before the register closes. Absent: the first count closes.
pub const RECOUNT_TOLERANCE: &str = "cash.recount_tolerance";

/// Who did something: the user's id and name as the report prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub id: String,
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CashStoreError {
    /// The terminal has no open session: open the register first.
    #[error("the register is not open")]
    NotOpen,
    /// The terminal already has an open session: close it (Z report) first.
    #[error("the register is already open")]
    AlreadyOpen,
    /// The count, amount or reason is not valid.
    #[error(transparent)]
    Cash(#[from] CashError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for CashStoreError {
    fn from(e: rusqlite::Error) -> Self {
        CashStoreError::Store(e.into())
    }
}

impl From<serde_json::Error> for CashStoreError {
    fn from(e: serde_json::Error) -> Self {
        CashStoreError::Store(e.into())
    }
}

/// One register session (shift) of a terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashSession {
    pub id: Uuid,
    pub terminal_id: String,
    pub currency: Currency,
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
    pub opened_by: Operator,
    /// Opened by the first sale, with no float counted.
    pub auto_opened: bool,
    pub float: DrawerCount,
    /// The session's sales are the terminal's receipts numbered above this.
    pub first_after_number: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    pub z_number: Option<u64>,
}

/// What a movement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    In,
    Out,
    /// The drawer opened without a sale (no money moved).
    NoSale,
}

impl MovementKind {
    pub const fn code(self) -> &'static str {
        match self {
            MovementKind::In => "in",
            MovementKind::Out => "out",
            MovementKind::NoSale => "no_sale",
        }
    }

    fn from_code(s: &str) -> Option<MovementKind> {
        [MovementKind::In, MovementKind::Out, MovementKind::NoSale]
            .into_iter()
            .find(|k| k.code() == s)
    }
}

impl From<CashDirection> for MovementKind {
    fn from(d: CashDirection) -> Self {
        match d {
            CashDirection::In => MovementKind::In,
            CashDirection::Out => MovementKind::Out,
        }
    }
}

/// A stored cash movement or no-sale opening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashMovement {
    pub id: i64,
    pub kind: MovementKind,
    /// Zero for a no-sale opening.
    pub amount: Money,
    pub reason: CashReason,
    pub user: Operator,
    pub approver_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A blind count as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCount {
    pub id: i64,
    pub count: DrawerCount,
    pub counted_by: Operator,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Everything an X or Z report says about a session. A Z report is this with `z_number`,
/// `closed_*` and `count` set, stored and never changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionReport {
    pub terminal_id: String,
    pub session_id: Uuid,
    /// Set on a Z report; an X report has no number.
    pub z_number: Option<u64>,
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
    pub opened_by: Operator,
    pub auto_opened: bool,
    /// The end of the period: the close (Z) or when the X report was made.
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
    pub closed_by: Option<Operator>,
    /// The first and last receipt numbers of the period (none when nothing was sold).
    pub receipts: Option<(u64, u64)>,
    pub sales: SalesSummary,
    pub float: DrawerCount,
    /// Cash in and out, and no-sale openings, oldest first.
    pub movements: Vec<CashMovement>,
    pub cash_in: Money,
    pub cash_out: Money,
    pub no_sales: u64,
    pub drawer: DrawerFigures,
    pub expected: Money,
    /// The blind count the close used (Z only).
    pub count: Option<StoredCount>,
    pub over_short: Option<Money>,
    /// The audit trail's last row when the report was made (seq, hash): the Z report sent to
    /// the shop anchors the chain, so rewriting the local trail afterwards shows.
    pub audit_head: Option<(i64, String)>,
    /// Blind counts made before the close (more than one: the drawer was counted again).
    #[serde(default)]
    pub counts_made: u64,
}

const SESSION_COLUMNS: &str = "id, terminal_id, currency, opened_at, opened_by, opened_by_name, \
     auto_opened, float_count, first_after_number, closed_at, z_number";

type SessionRow = (
    String,
    String,
    String,
    i64,
    String,
    String,
    bool,
    String,
    u64,
    Option<i64>,
    Option<u64>,
);

fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRow> {
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
}

fn session_of(row: SessionRow) -> Result<CashSession> {
    let (id, terminal_id, cur, opened, by, by_name, auto, float, first, closed, z) = row;
    Ok(CashSession {
        id: Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(format!("session id: {e}")))?,
        terminal_id,
        currency: Currency::from_str(&cur)
            .map_err(|e| StoreError::Corrupt(format!("session currency: {e}")))?,
        opened_at: from_unix_ms(opened)?,
        opened_by: Operator {
            id: by,
            name: by_name,
        },
        auto_opened: auto,
        float: serde_json::from_str(&float)?,
        first_after_number: first,
        closed_at: closed.map(from_unix_ms).transpose()?,
        z_number: z,
    })
}

fn open_session(conn: &Connection, terminal_id: &str) -> Result<Option<CashSession>> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM cash_session WHERE terminal_id = ?1 AND closed_at IS NULL"
    );
    conn.prepare_cached(&sql)?
        .query_row([terminal_id], session_row)
        .optional()?
        .map(session_of)
        .transpose()
}

fn last_receipt(conn: &Connection, series: &str) -> Result<u64> {
    Ok(conn
        .prepare_cached("SELECT last_number FROM receipt_series WHERE series = ?1")?
        .query_row([series], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

fn movements(conn: &Connection, session_id: Uuid, currency: Currency) -> Result<Vec<CashMovement>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, amount_minor, reason, note, user_id, user_name, approver_id, at \
         FROM cash_movement WHERE session_id = ?1 ORDER BY id",
    )?;
    let rows = stmt
        .query_map([session_id.to_string()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, i64>(8)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(id, kind, amount, code, note, uid, uname, approver, at)| {
            Ok(CashMovement {
                id,
                kind: MovementKind::from_code(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("movement kind {kind:?}")))?,
                amount: Money::new(amount, currency),
                reason: CashReason { code, note },
                user: Operator {
                    id: uid,
                    name: uname,
                },
                approver_id: approver,
                at: from_unix_ms(at)?,
            })
        })
        .collect()
}

fn count_by_id(conn: &Connection, session_id: Uuid, id: i64) -> Result<Option<StoredCount>> {
    let row: Option<(String, String, String, i64)> = conn
        .prepare_cached(
            "SELECT counts, user_id, user_name, at FROM cash_count WHERE id = ?1 AND session_id = ?2",
        )?
        .query_row(params![id, session_id.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    row.map(|(counts, uid, uname, at)| {
        Ok(StoredCount {
            id,
            count: serde_json::from_str(&counts)?,
            counted_by: Operator {
                id: uid,
                name: uname,
            },
            at: from_unix_ms(at)?,
        })
    })
    .transpose()
}

/// The X figures of an open session at `until` (inside a transaction or not).
fn report(
    conn: &Connection,
    session: &CashSession,
    until: OffsetDateTime,
) -> Result<SessionReport, CashStoreError> {
    let cur = session.currency;
    let last = last_receipt(conn, &session.terminal_id)?;
    let docs: Vec<String> = conn
        .prepare_cached(
            "SELECT document FROM sale WHERE series = ?1 AND number > ?2 AND number <= ?3 \
             ORDER BY number",
        )?
        .query_map(
            params![session.terminal_id, session.first_after_number, last],
            |r| r.get(0),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let sales: Vec<CompletedSale> = docs
        .iter()
        .map(|d| serde_json::from_str(d))
        .collect::<Result<_, _>>()?;
    let mut summary = SalesSummary::of(cur, &sales)?;
    // returns: each return of the session comes off the figures (its refunds per tender, its
    // tax per rate), and the cash it took out of the drawer lowers the expected cash.
    for ret in crate::returns::session_returns(conn, session.id)? {
        summary.subtract_return(&ret)?;
    }
    let cash_refunds = summary
        .tender_refunds
        .iter()
        .find(|t| t.kind == TenderKind::Cash)
        .map_or(Money::zero(cur), |t| t.amount);
    let movements = movements(conn, session.id, cur)?;
    let sum = |k: MovementKind| {
        Money::sum(
            cur,
            movements.iter().filter(|m| m.kind == k).map(|m| m.amount),
        )
    };
    let cash_in = sum(MovementKind::In).map_err(CashError::from)?;
    let cash_out = sum(MovementKind::Out).map_err(CashError::from)?;
    let drawer = DrawerFigures {
        opening_float: session.float.total(),
        cash_taken: summary.cash_taken,
        change_given: summary.change_given,
        cash_in,
        cash_out,
        cash_refunds,
        account_payments: Some(crate::customers::session_account_cash(
            conn,
            &session.id.to_string(),
            cur,
        )?),
    };
    let expected = drawer.expected().map_err(CashError::from)?;
    let audit_head: Option<(i64, String)> = conn
        .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(SessionReport {
        terminal_id: session.terminal_id.clone(),
        session_id: session.id,
        z_number: None,
        opened_at: session.opened_at,
        opened_by: session.opened_by.clone(),
        auto_opened: session.auto_opened,
        until,
        closed_by: None,
        receipts: (last > session.first_after_number)
            .then(|| (session.first_after_number + 1, last)),
        sales: summary,
        float: session.float.clone(),
        no_sales: movements
            .iter()
            .filter(|m| m.kind == MovementKind::NoSale)
            .count() as u64,
        movements,
        cash_in,
        cash_out,
        drawer,
        expected,
        count: None,
        over_short: None,
        audit_head,
        counts_made: 0,
    })
}

impl Store {
    /// The terminal's open session, if any.
    pub fn open_cash_session(&self, terminal_id: &str) -> Result<Option<CashSession>> {
        open_session(&self.conn, terminal_id)
    }

    /// Opens a session with a counted float (`auto`: opened by the first sale, float empty).
    pub fn begin_cash_session(
        &mut self,
        id: Uuid,
        terminal_id: &str,
        opened_by: &Operator,
        float: &DrawerCount,
        auto: bool,
        at: OffsetDateTime,
    ) -> Result<CashSession, CashStoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if open_session(&tx, terminal_id)?.is_some() {
            return Err(CashStoreError::AlreadyOpen);
        }
        let first_after = last_receipt(&tx, terminal_id)?;
        tx.prepare_cached(
            "INSERT INTO cash_session (id, terminal_id, currency, opened_at, opened_by, \
             opened_by_name, auto_opened, float_minor, float_count, first_after_number) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            id.to_string(),
            terminal_id,
            float.currency().code(),
            unix_ms(at),
            opened_by.id,
            opened_by.name,
            auto,
            float.total().minor,
            serde_json::to_string(float)?,
            first_after
        ])?;
        let session = open_session(&tx, terminal_id)?
            .ok_or_else(|| StoreError::Corrupt("the new session is not there".into()))?;
        tx.commit()?;
        Ok(session)
    }

    /// Records cash put in or taken out (`amount` > 0), or a no-sale opening (`amount` zero),
    /// on the terminal's open session.
    #[allow(clippy::too_many_arguments)]
    pub fn record_cash_movement(
        &mut self,
        terminal_id: &str,
        kind: MovementKind,
        amount: Money,
        reason: &CashReason,
        user: &Operator,
        approver_id: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<CashMovement, CashStoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let session = open_session(&tx, terminal_id)?.ok_or(CashStoreError::NotOpen)?;
        let amount = match kind {
            MovementKind::NoSale => Money::zero(session.currency),
            MovementKind::In | MovementKind::Out => {
                if amount.currency != session.currency {
                    return Err(CashError::Money(pos_core::MoneyError::CurrencyMismatch(
                        session.currency,
                        amount.currency,
                    ))
                    .into());
                }
                pos_core::cash::movement_amount(amount)?
            }
        };
        tx.prepare_cached(
            "INSERT INTO cash_movement (session_id, kind, amount_minor, reason, note, user_id, \
             user_name, approver_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            session.id.to_string(),
            kind.code(),
            amount.minor,
            reason.code,
            reason.note,
            user.id,
            user.name,
            approver_id,
            unix_ms(at)
        ])?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(CashMovement {
            id,
            kind,
            amount,
            reason: reason.clone(),
            user: user.clone(),
            approver_id: approver_id.map(str::to_owned),
            at: from_unix_ms(unix_ms(at))?,
        })
    }

    /// Keeps a blind count of the open session's drawer; returns the count's id for the close.
    pub fn record_drawer_count(
        &mut self,
        terminal_id: &str,
        count: &DrawerCount,
        counted_by: &Operator,
        at: OffsetDateTime,
    ) -> Result<StoredCount, CashStoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let session = open_session(&tx, terminal_id)?.ok_or(CashStoreError::NotOpen)?;
        if count.currency() != session.currency {
            return Err(CashError::Money(pos_core::MoneyError::CurrencyMismatch(
                session.currency,
                count.currency(),
            ))
            .into());
        }
        tx.prepare_cached(
            "INSERT INTO cash_count (session_id, counted_minor, counts, user_id, user_name, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            session.id.to_string(),
            count.total().minor,
            serde_json::to_string(count)?,
            counted_by.id,
            counted_by.name,
            unix_ms(at)
        ])?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(StoredCount {
            id,
            count: count.clone(),
            counted_by: counted_by.clone(),
            at: from_unix_ms(unix_ms(at))?,
        })
    }

    /// The X report: the open session's figures now. Changes nothing.
    pub fn x_report(
        &self,
        terminal_id: &str,
        at: OffsetDateTime,
    ) -> Result<SessionReport, CashStoreError> {
        let session = open_session(&self.conn, terminal_id)?.ok_or(CashStoreError::NotOpen)?;
        report(&self.conn, &session, at)
    }

    /// Closes the terminal's open session with the blind count `count_id` (from
    /// [`Store::record_drawer_count`]): the Z report, numbered, stored and queued for the shop.
    /// See the module doc.
    pub fn close_cash_session(
        &mut self,
        terminal_id: &str,
        count_id: i64,
        closed_by: &Operator,
        at: OffsetDateTime,
    ) -> Result<SessionReport, CashStoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let session = open_session(&tx, terminal_id)?.ok_or(CashStoreError::NotOpen)?;
        let count = count_by_id(&tx, session.id, count_id)?.ok_or_else(|| {
            StoreError::Invalid(format!("count {count_id} is not of the open session"))
        })?;
        let mut z = report(&tx, &session, at)?;
        let number: u64 = tx
            .prepare_cached(
                "SELECT coalesce(max(number), 0) + 1 FROM z_report WHERE terminal_id = ?1",
            )?
            .query_row([terminal_id], |r| r.get(0))?;
        let diff = over_short(count.count.total(), z.expected).map_err(CashError::from)?;
        z.z_number = Some(number);
        z.closed_by = Some(closed_by.clone());
        z.over_short = Some(diff);
        z.count = Some(count);
        z.counts_made = tx
            .prepare_cached("SELECT count(*) FROM cash_count WHERE session_id = ?1")?
            .query_row([session.id.to_string()], |r| r.get(0))?;
        let document = serde_json::to_string(&z)?;
        let counted = z.count.as_ref().map_or(0, |c| c.count.total().minor);
        tx.prepare_cached(
            "UPDATE cash_session SET closed_at = ?2, z_number = ?3 WHERE id = ?1 AND closed_at IS NULL",
        )?
        .execute(params![session.id.to_string(), unix_ms(at), number])?;
        tx.prepare_cached(
            "INSERT INTO z_report (terminal_id, number, session_id, count_id, closed_at, currency, \
             sales_count, sales_total, expected_minor, counted_minor, over_short_minor, document) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            terminal_id,
            number,
            session.id.to_string(),
            count_id,
            unix_ms(at),
            session.currency.code(),
            z.sales.sales,
            z.sales.total.minor,
            z.expected.minor,
            counted,
            diff.minor,
            document
        ])?;
        outbox::enqueue(
            &tx,
            Z_REPORT,
            &session.id.to_string(),
            &format!("z:{terminal_id}:{number}"),
            &document,
            at,
        )?;
        tx.commit()?;
        Ok(z)
    }

    /// A Z report of the terminal, as it was made.
    pub fn z_report(&self, terminal_id: &str, number: u64) -> Result<Option<SessionReport>> {
        let doc: Option<String> = self
            .conn
            .prepare_cached("SELECT document FROM z_report WHERE terminal_id = ?1 AND number = ?2")?
            .query_row(params![terminal_id, number], |r| r.get(0))
            .optional()?;
        Ok(doc.map(|d| serde_json::from_str(&d)).transpose()?)
    }

    /// The terminal's last Z number (0 when none).
    pub fn last_z_number(&self, terminal_id: &str) -> Result<u64> {
        Ok(self
            .conn
            .prepare_cached("SELECT coalesce(max(number), 0) FROM z_report WHERE terminal_id = ?1")?
            .query_row([terminal_id], |r| r.get(0))?)
    }

    /// Whether sales wait for a counted float (store setting, off unless set).
    pub fn requires_opening_float(&self) -> Result<bool> {
        let v: Option<String> = self
            .conn
            .prepare_cached("SELECT value FROM setting WHERE key = ?1")?
            .query_row([REQUIRE_OPENING_FLOAT], |r| r.get(0))
            .optional()?;
        match v.as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(StoreError::Corrupt(format!(
                "setting {REQUIRE_OPENING_FLOAT} = {other:?}"
            ))),
        }
    }

    /// Blind counts kept for the terminal's open session so far (0 when closed).
    pub fn drawer_counts_made(&self, terminal_id: &str) -> Result<u64> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM cash_count c JOIN cash_session s ON s.id = c.session_id \
                 WHERE s.terminal_id = ?1 AND s.closed_at IS NULL",
            )?
            .query_row([terminal_id], |r| r.get(0))?)
    }

    /// The recount tolerance in minor units (see [`RECOUNT_TOLERANCE`]).
    pub fn recount_tolerance(&self) -> Result<Option<i64>> {
        let v: Option<String> = self
            .conn
            .prepare_cached("SELECT value FROM setting WHERE key = ?1")?
            .query_row([RECOUNT_TOLERANCE], |r| r.get(0))
            .optional()?;
        v.map(|t| {
            t.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| StoreError::Corrupt(format!("setting {RECOUNT_TOLERANCE} = {t:?}")))
        })
        .transpose()
    }

    /// Sets (or, with `None`, removes) the recount tolerance.
    pub fn set_recount_tolerance(&mut self, minor: Option<i64>) -> Result<()> {
        match minor {
            Some(n) if n < 0 => Err(StoreError::Invalid("a tolerance cannot be negative".into())),
            Some(n) => {
                self.conn.execute(
                    "INSERT INTO setting (key, value) VALUES (?1, ?2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![RECOUNT_TOLERANCE, n.to_string()],
                )?;
                Ok(())
            }
            None => {
                self.conn
                    .execute("DELETE FROM setting WHERE key = ?1", [RECOUNT_TOLERANCE])?;
                Ok(())
            }
        }
    }

    pub fn set_requires_opening_float(&mut self, on: bool) -> Result<()> {
        self.conn.execute(
            "INSERT INTO setting (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![REQUIRE_OPENING_FLOAT, if on { "true" } else { "false" }],
        )?;
        Ok(())
    }
}
