//! The outbox worker: delivers the register's queued events to the shop.
//!
//! Delivery is at-least-once (a row is marked delivered only after the shop confirmed it, in the
//! same transaction that recomputes the stock it affects) and every event carries an idempotency
//! key the shop keeps (the sale's UUID), so the effect is exactly once whatever fails in between:
//! a timeout, a reset after the shop committed, a duplicated answer, a crash of the terminal.
//! A failed delivery counts an attempt, keeps the error and waits an exponential backoff with
//! jitter; nothing is ever dropped (a payload the worker cannot read stays queued with its error).
//! Conflicts the shop reports (a sale beyond its stock) are stored for the manager's list.
//!
//! Z reports (kind [`Z_REPORT`], key `z:<terminal>:<number>`) go to the shop exactly once by
//! that key. A connector without [`Capabilities::z_reports`](crate::Capabilities) cannot take
//! them: the row is parked, not retried with backoff: it stays undelivered (the register keeps
//! the report; `queued` still counts it, because it is not in the shop), its error says
//! "not deliverable: …", the drain reports it in [`DrainReport::not_deliverable`] (the engine
//! shows that as its last error, kind "unsupported", and counts such rows in
//! `SyncStatus::not_deliverable`), and it is looked at again only after
//! [`NOT_DELIVERABLE_RECHECK`], so a shop that gains support later still gets it.

use crate::clock::{Backoff, Clock, Jitter};
use crate::connector::{
    CollectStatus, Connector, SaleRecord, StockReason, WriteStatus, ZReportRecord,
};
use crate::returns::{ReturnLineRecord, ReturnRecord};
use crate::{SyncError, sale};
use pos_core::CompletedSale;
use pos_store::Store;
use pos_store::cash::{SessionReport, Z_REPORT};
use pos_store::outbox::{OutboxMessage, SALE_COMPLETED};
use pos_store::returns::RETURN_COMPLETED;
use pos_store::shop::PICKUP_COLLECTED;
use pos_store::sync_state::StockConflictRecord;
use std::sync::Mutex;
use time::OffsetDateTime;

/// Kind of a relative stock change queued for the shop (a return, a write-off, a count
/// difference). Payload: `{"sku": "...", "delta": -2, "reason": "WRITE_OFF", "note": "..."}`.
pub const STOCK_ADJUSTED: &str = "stock.adjusted";

/// How long a row the connector cannot deliver (a Z report to a shop without Z reports) waits
/// before it is looked at again.
pub const NOT_DELIVERABLE_RECHECK: time::Duration = time::Duration::days(1);

/// Prefix of the error kept on a row the connector cannot deliver.
pub const NOT_DELIVERABLE: &str = "not deliverable";

/// How many undelivered rows are parked as not deliverable (see the module doc).
pub fn not_deliverable_count(store: &Store) -> Result<u64, SyncError> {
    store
        .connection()
        .query_row(
            "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND last_error LIKE ?1",
            [format!("{NOT_DELIVERABLE}:%")],
            |r| r.get(0),
        )
        .map_err(|e| SyncError::Store(pos_store::StoreError::from(e)))
}

/// What one drain did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DrainReport {
    pub delivered: usize,
    /// Delivered sales the shop already had (resends after a lost answer).
    pub duplicates: usize,
    /// Rows the shop rejected or the worker could not read; they stay queued.
    pub failed: usize,
    pub conflicts: usize,
    /// Rows this connector cannot deliver at all (parked, see the module doc); not in `failed`.
    pub not_deliverable: usize,
}

/// Everything the worker needs.
pub struct OutboxContext<'a, C> {
    pub connector: &'a C,
    pub store: &'a Mutex<Store>,
    pub clock: &'a dyn Clock,
    pub jitter: &'a dyn Jitter,
    pub backoff: Backoff,
    /// Shop terminal identifier put on every sale.
    pub terminal_id: &'a str,
    /// Local location whose stock the deliveries affect.
    pub location_id: &'a str,
    /// Sales per shop call.
    pub batch: usize,
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

impl<C: Connector> OutboxContext<'_, C> {
    fn retry_at(&self, msg: &OutboxMessage) -> OffsetDateTime {
        let d = self
            .backoff
            .delay(msg.attempts.saturating_add(1), self.jitter.permille());
        self.clock.now() + d
    }

    /// A single delivery the shop did not take: the row stays queued with the reason. A
    /// rejection concerns this row only, so the drain goes on; any other error (the shop is
    /// offline) ends the drain with that error.
    fn delivery_failed(
        &self,
        msg: &OutboxMessage,
        report: &mut DrainReport,
        e: SyncError,
    ) -> Result<(), SyncError> {
        let (reason, stop) = match e {
            SyncError::Rejected(m) => (format!("rejected by the shop: {m}"), None),
            e => (e.to_string(), Some(e)),
        };
        self.fail(msg, &reason)?;
        report.failed += 1;
        stop.map_or(Ok(()), Err)
    }

    fn fail(&self, msg: &OutboxMessage, error: &str) -> Result<(), SyncError> {
        let at = self.retry_at(msg);
        tracing::info!(id = msg.id, kind = %msg.kind, attempts = msg.attempts + 1, "delivery failed: {error}");
        lock(self.store).outbox_mark_failed(msg.id, error, at)?;
        Ok(())
    }

    /// Delivers every due row; returns at the first transport failure (the shop is offline)
    /// with that error, after recording it on the rows it concerned.
    pub async fn drain(&self) -> Result<DrainReport, SyncError> {
        let mut report = DrainReport::default();
        let batch = self
            .batch
            .clamp(1, self.connector.capabilities().max_sale_batch.max(1));
        loop {
            let due = lock(self.store).outbox_pending(batch, self.clock.now())?;
            if due.is_empty() {
                return Ok(report);
            }
            let mut sales: Vec<(OutboxMessage, SaleRecord)> = Vec::new();
            for msg in due {
                match msg.kind.as_str() {
                    SALE_COMPLETED => match serde_json::from_str::<CompletedSale>(&msg.payload)
                        .map_err(|e| e.to_string())
                        .and_then(|s| {
                            sale::sale_record(&s, self.terminal_id).map_err(|e| e.to_string())
                        }) {
                        Ok(rec) => sales.push((msg, rec)),
                        Err(e) => {
                            self.fail(&msg, &format!("unreadable sale payload: {e}"))?;
                            report.failed += 1;
                        }
                    },
                    STOCK_ADJUSTED => {
                        self.deliver_adjustment(&msg, &mut report).await?;
                    }
                    PICKUP_COLLECTED => {
                        self.deliver_hand_over(&msg, &mut report).await?;
                    }
                    Z_REPORT => {
                        self.deliver_z_report(&msg, &mut report).await?;
                    }
                    RETURN_COMPLETED => {
                        self.deliver_return(&msg, &mut report).await?;
                    }
                    other => {
                        self.fail(&msg, &format!("unknown outbox kind {other:?}"))?;
                        report.failed += 1;
                    }
                }
            }
            if !sales.is_empty() {
                self.deliver_sales(sales, &mut report).await?;
            }
        }
    }

    async fn deliver_sales(
        &self,
        sales: Vec<(OutboxMessage, SaleRecord)>,
        report: &mut DrainReport,
    ) -> Result<(), SyncError> {
        let records: Vec<SaleRecord> = sales.iter().map(|(_, r)| r.clone()).collect();
        let items = match self.connector.record_sales(&records).await {
            Ok(items) => items,
            Err(e) => {
                let text = e.to_string();
                for (msg, _) in &sales {
                    self.fail(msg, &text)?;
                }
                report.failed += sales.len();
                return Err(e);
            }
        };
        let mut delivered: Vec<i64> = Vec::new();
        let mut conflicts: Vec<StockConflictRecord> = Vec::new();
        for ((msg, rec), item) in sales.iter().zip(items) {
            match item {
                Ok(outcome) if outcome.sale_id == rec.sale_id => {
                    delivered.push(msg.id);
                    if outcome.duplicate {
                        report.duplicates += 1;
                    }
                    conflicts.extend(outcome.conflicts.into_iter().map(|c| StockConflictRecord {
                        shop_conflict_id: Some(c.id),
                        sale_id: c.sale_id.or_else(|| Some(rec.sale_id.clone())),
                        sku: c.sku,
                        reason: c.reason,
                        requested: c.requested,
                        available_before: c.available_before,
                    }));
                }
                Ok(outcome) => {
                    self.fail(
                        msg,
                        &format!(
                            "the shop answered for sale {} instead of {}",
                            outcome.sale_id, rec.sale_id
                        ),
                    )?;
                    report.failed += 1;
                }
                Err(rejected) => {
                    self.fail(msg, &format!("rejected by the shop: {rejected}"))?;
                    report.failed += 1;
                }
            }
        }
        let now = self.clock.now();
        let mut store = lock(self.store);
        if !conflicts.is_empty() {
            report.conflicts += store.record_stock_conflicts(&conflicts, now)?;
        }
        if !delivered.is_empty() {
            store.mark_sales_delivered(&delivered, self.location_id, now)?;
            report.delivered += delivered.len();
        }
        Ok(())
    }

    async fn deliver_adjustment(
        &self,
        msg: &OutboxMessage,
        report: &mut DrainReport,
    ) -> Result<(), SyncError> {
        #[derive(serde::Deserialize)]
        struct Adjustment {
            sku: String,
            delta: i64,
            reason: StockReason,
            note: Option<String>,
        }
        let adj: Adjustment = match serde_json::from_str(&msg.payload) {
            Ok(a) => a,
            Err(e) => {
                self.fail(msg, &format!("unreadable adjustment payload: {e}"))?;
                report.failed += 1;
                return Ok(());
            }
        };
        match self
            .connector
            .adjust_stock(
                &msg.idempotency_key,
                &adj.sku,
                adj.delta,
                adj.reason,
                adj.note.as_deref(),
            )
            .await
        {
            Ok(outcome) if outcome.status == WriteStatus::UnknownSku => {
                self.fail(msg, &format!("the shop does not know SKU {}", adj.sku))?;
                report.failed += 1;
                Ok(())
            }
            Ok(outcome) => {
                let now = self.clock.now();
                let mut store = lock(self.store);
                if let Some(c) = outcome.conflict {
                    report.conflicts += store.record_stock_conflicts(
                        &[StockConflictRecord {
                            shop_conflict_id: Some(c.id),
                            sale_id: None,
                            sku: c.sku,
                            reason: c.reason,
                            requested: c.requested,
                            available_before: c.available_before,
                        }],
                        now,
                    )?;
                }
                store.outbox_mark_delivered(msg.id, now)?;
                report.delivered += 1;
                Ok(())
            }
            Err(e) => self.delivery_failed(msg, report, e),
        }
    }

    /// A pickup handed over at the register: the shop marks the order collected, exactly once
    /// per key. "Not found", "not a pickup" and "not ready" stay queued with the shop's reason
    /// (a manager sees it in the pickups list; the shop may still change the order).
    async fn deliver_hand_over(
        &self,
        msg: &OutboxMessage,
        report: &mut DrainReport,
    ) -> Result<(), SyncError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct HandOver {
            order_code: String,
        }
        let h: HandOver = match serde_json::from_str(&msg.payload) {
            Ok(h) => h,
            Err(e) => {
                self.fail(msg, &format!("unreadable hand-over payload: {e}"))?;
                report.failed += 1;
                return Ok(());
            }
        };
        match self
            .connector
            .mark_collected(&h.order_code, &msg.idempotency_key)
            .await
        {
            Ok(outcome)
                if matches!(
                    outcome.status,
                    CollectStatus::Collected | CollectStatus::AlreadyCollected
                ) =>
            {
                lock(self.store).finish_pickup_hand_over(
                    msg.id,
                    &h.order_code,
                    self.clock.now(),
                )?;
                report.delivered += 1;
                if outcome.duplicate {
                    report.duplicates += 1;
                }
                Ok(())
            }
            Ok(outcome) => {
                let why = outcome
                    .message
                    .unwrap_or_else(|| format!("{:?}", outcome.status));
                self.fail(msg, &format!("the shop did not hand it over: {why}"))?;
                report.failed += 1;
                Ok(())
            }
            Err(e) => self.delivery_failed(msg, report, e),
        }
    }

    /// Parks a row the connector cannot deliver (see the module doc).
    fn park(&self, msg: &OutboxMessage, why: &str) -> Result<(), SyncError> {
        let at = self.clock.now() + NOT_DELIVERABLE_RECHECK;
        tracing::warn!(id = msg.id, kind = %msg.kind, "{NOT_DELIVERABLE}: {why}");
        lock(self.store).outbox_mark_failed(msg.id, &format!("{NOT_DELIVERABLE}: {why}"), at)?;
        Ok(())
    }

    /// A Z report for the shop's unified reports, exactly once by its key. A report the shop
    /// refuses (another report with the same terminal and number) stays queued with the
    /// shop's reason and is retried with backoff: it needs a person, and nothing is dropped.
    async fn deliver_z_report(
        &self,
        msg: &OutboxMessage,
        report: &mut DrainReport,
    ) -> Result<(), SyncError> {
        let Some(record) = self.readable(
            msg,
            report,
            self.connector.capabilities().z_reports,
            "this shop does not take Z reports; the report stays on the register",
            "Z report",
            z_report_record(msg, self.terminal_id),
        )?
        else {
            return Ok(());
        };
        let answer = self.connector.record_z_report(&record).await.map(|o| {
            if o.number == record.number {
                Delivered::Recorded {
                    duplicate: o.duplicate,
                    conflicts: Vec::new(),
                }
            } else {
                Delivered::OtherKey(format!(
                    "the shop answered for Z report {} instead of {}",
                    o.number, record.number
                ))
            }
        });
        self.settle(msg, report, answer)
    }

    /// A return, so the shop (and through it every register) knows what is still returnable,
    /// exactly once by its key. Conflicts the shop flags (returns of a line beyond what it
    /// sold) are stored for the manager's list like a sale's.
    async fn deliver_return(
        &self,
        msg: &OutboxMessage,
        report: &mut DrainReport,
    ) -> Result<(), SyncError> {
        let Some(record) = self.readable(
            msg,
            report,
            self.connector.capabilities().shared_returns,
            "this shop does not keep the registers' returns; the return stays on the register",
            "return",
            return_record(msg, self.terminal_id),
        )?
        else {
            return Ok(());
        };
        let answer = self.connector.record_return(&record).await.map(|o| {
            if !o.return_id.eq_ignore_ascii_case(&record.return_id) {
                return Delivered::OtherKey(format!(
                    "the shop answered for return {} instead of {}",
                    o.return_id, record.return_id
                ));
            }
            let conflicts = o
                .conflicts
                .into_iter()
                .map(|c| StockConflictRecord {
                    shop_conflict_id: Some(c.id),
                    sale_id: c.sale_id.or_else(|| record.sale_id.clone()),
                    sku: c.sku,
                    reason: c.reason,
                    requested: c.requested,
                    available_before: c.available_before,
                })
                .collect();
            Delivered::Recorded {
                duplicate: o.duplicate,
                conflicts,
            }
        });
        self.settle(msg, report, answer)
    }

    /// The shop's record of a keyed row (a Z report, a return), when the connector can take
    /// it and the payload reads; otherwise the row is parked (not deliverable here) or kept
    /// with the reason, and `None` is returned.
    fn readable<R>(
        &self,
        msg: &OutboxMessage,
        report: &mut DrainReport,
        capable: bool,
        not_capable: &str,
        what: &str,
        record: Result<R, String>,
    ) -> Result<Option<R>, SyncError> {
        if !capable {
            self.park(msg, not_capable)?;
            report.not_deliverable += 1;
            return Ok(None);
        }
        match record {
            Ok(r) => Ok(Some(r)),
            Err(e) => {
                self.fail(msg, &format!("unreadable {what} payload: {e}"))?;
                report.failed += 1;
                Ok(None)
            }
        }
    }

    /// The end of a keyed delivery: recorded (with the conflicts the shop reported), answered
    /// for another key (kept with the reason), not supported after all (parked), or failed.
    fn settle(
        &self,
        msg: &OutboxMessage,
        report: &mut DrainReport,
        answer: Result<Delivered, SyncError>,
    ) -> Result<(), SyncError> {
        match answer {
            Ok(Delivered::Recorded {
                duplicate,
                conflicts,
            }) => {
                let now = self.clock.now();
                let mut store = lock(self.store);
                if !conflicts.is_empty() {
                    report.conflicts += store.record_stock_conflicts(&conflicts, now)?;
                }
                store.outbox_mark_delivered(msg.id, now)?;
                report.delivered += 1;
                if duplicate {
                    report.duplicates += 1;
                }
                Ok(())
            }
            Ok(Delivered::OtherKey(why)) => {
                self.fail(msg, &why)?;
                report.failed += 1;
                Ok(())
            }
            Err(SyncError::Unsupported(m)) => {
                self.park(msg, &m)?;
                report.not_deliverable += 1;
                Ok(())
            }
            Err(e) => self.delivery_failed(msg, report, e),
        }
    }
}

/// What the shop answered to a keyed delivery.
enum Delivered {
    Recorded {
        duplicate: bool,
        conflicts: Vec<StockConflictRecord>,
    },
    /// The answer is about another key: kept queued with this reason.
    OtherKey(String),
}

/// The shop's view of a queued return: its lines with what their sale lines sold, and the
/// whole document verbatim.
fn return_record(msg: &OutboxMessage, terminal_id: &str) -> Result<ReturnRecord, String> {
    use pos_core::cart::Quantity;
    use pos_core::returns::CompletedReturn;
    use time::format_description::well_known::Rfc3339;
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Payload {
        document: CompletedReturn,
        sold: Vec<(u32, i64)>,
        order_code: Option<String>,
    }
    let p: Payload = serde_json::from_str(&msg.payload).map_err(|e| e.to_string())?;
    let ret = &p.document;
    let original = ret
        .original
        .as_ref()
        .ok_or("the return has no original sale")?;
    let lines = ret
        .lines
        .iter()
        .filter_map(|l| {
            let no = l.sale_line_no?;
            let sold = p.sold.iter().find(|(n, _)| *n == no).map(|(_, q)| *q)?;
            Some(ReturnLineRecord {
                sale_line_no: no,
                sku: l.product.sku.clone(),
                quantity: match l.quantity {
                    Quantity::Units(n) | Quantity::Grams(n) => n,
                },
                sold_quantity: sold,
            })
        })
        .collect::<Vec<_>>();
    if lines.len() != ret.lines.len() {
        return Err("a returned line has no sold quantity".into());
    }
    Ok(ReturnRecord {
        return_id: ret.id.to_string(),
        sale_id: p.order_code.is_none().then(|| original.id.to_string()),
        order_code: p.order_code.clone(),
        terminal_id: terminal_id.to_owned(),
        return_number: ret.number.to_string(),
        occurred_at: ret
            .at
            .to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .map_err(|e| e.to_string())?,
        currency_code: ret.currency.code().to_owned(),
        total_minor: ret.total.minor,
        lines,
        document: serde_json::to_string(ret).map_err(|e| e.to_string())?,
    })
}

/// The shop's view of a queued Z report: its figures from the stored report, which itself is
/// sent verbatim.
fn z_report_record(msg: &OutboxMessage, terminal_id: &str) -> Result<ZReportRecord, String> {
    use time::format_description::well_known::Rfc3339;
    let z: SessionReport = serde_json::from_str(&msg.payload).map_err(|e| e.to_string())?;
    let number = z.z_number.ok_or("the report has no Z number")?;
    let over_short = z.over_short.ok_or("the report has no over/short")?;
    let utc = |t: OffsetDateTime| {
        t.to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .map_err(|e| e.to_string())
    };
    Ok(ZReportRecord {
        idempotency_key: msg.idempotency_key.clone(),
        terminal_code: terminal_id.to_owned(),
        number,
        opened_at: utc(z.opened_at)?,
        closed_at: utc(z.until)?,
        currency: z.sales.currency.code().to_owned(),
        total_sales_minor: z.sales.total.minor,
        over_short_minor: over_short.minor,
        report: msg.payload.clone(),
    })
}
