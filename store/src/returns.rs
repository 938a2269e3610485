//! Returns on disk: the durable commit of a return with its own gap-free number, finding the
//! sale a return corrects, the local ledgers' refunds, and the figures the X/Z reports need.
//!
//! Invariants:
//! * [`Store::commit_return`] runs in one `BEGIN IMMEDIATE` transaction: it reads the sale's
//!   earlier returns (so two returns can never take back more than was sold), takes the next
//!   number of the return series, builds the return, writes it with its lines and refunds,
//!   raises stock for the lines that go back to the shelf, queues the stock adjustments for the
//!   web shop and removes the terminal's return draft. All of it or nothing; the number is not
//!   consumed when nothing is written.
//! * A return id commits once: committing an id that is already on disk returns the stored
//!   return and writes nothing (a retry after a crash or a lost answer).
//! * Stock adjustments for the shop (`stock.adjusted`, relative deltas): a line back to stock is
//!   `RETURN +qty`; a line written off is `RETURN +qty` and `WRITE_OFF −qty` (net 0, the loss
//!   recorded with its reason). Idempotency keys are `return:<return id>:<line>:<reason>`, so
//!   a redelivery never doubles. Written-off goods do not raise the local stock.
//! * A refund to a customer's store credit or account ([`Store::refund_to_customer`]) happens
//!   once per key (`<return id>-<refund position>`): a repeat returns the first result. (Gift
//!   cards get refunds as a keyed top-up through the gift-card ledger.)

use crate::customers::CustomerLedger;
use crate::gift_cards::LedgerError;
use crate::outbox;
use crate::remote_sales::known_returns;
use crate::sales::CommitError;
use crate::{Result, Store, StoreError, from_unix_ms, unix_ms};
use pos_core::cart::Quantity;
use pos_core::returns::{CompletedReturn, Disposition};
use pos_core::{CompletedSale, Currency, Money, ReceiptNumber};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;
use uuid::Uuid;

/// Kind of a relative stock change for the shop (the sync worker's `STOCK_ADJUSTED`).
pub const STOCK_ADJUSTED: &str = "stock.adjusted";

/// Kind of the outbox row that tells the shop of a return with an original sale (key
/// `return:<return id>`), so every terminal caps what may still be returned. Payload:
/// `{"document": <CompletedReturn>, "sold": [[sale line no, quantity sold], …],
/// "orderCode": <the web order's code, for a return of an online order>}`.
pub const RETURN_COMPLETED: &str = "return.completed";

/// The return series of a terminal: "T01" sells under T01-000001…, returns under T01R-000001….
pub fn return_series(terminal_id: &str) -> String {
    format!("{terminal_id}R")
}

/// How a sale is looked for (all given criteria must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaleSearch {
    /// Sold at or after (inclusive).
    pub from: Option<OffsetDateTime>,
    /// Sold before (exclusive).
    pub until: Option<OffsetDateTime>,
    /// The sale's total, minor units.
    pub total_minor: Option<i64>,
    /// The last four digits of the card that paid.
    pub card_last4: Option<String>,
    /// Part of the customer's name or id (the sale's customer, store credit or account).
    pub customer: Option<String>,
    /// Part of the receipt number ("000123", "T01-000123").
    pub receipt: Option<String>,
}

/// The returns made during a register session, in number order (for the X/Z reports).
pub(crate) fn session_returns(conn: &Connection, session_id: Uuid) -> Result<Vec<CompletedReturn>> {
    let docs: Vec<String> = conn
        .prepare_cached(
            "SELECT document FROM sale_return WHERE session_id = ?1 ORDER BY series, number",
        )?
        .query_map([session_id.to_string()], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    docs.iter()
        .map(|d| serde_json::from_str(d).map_err(StoreError::from))
        .collect()
}

fn return_where(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
) -> Result<Option<CompletedReturn>> {
    let sql = format!("SELECT document FROM sale_return WHERE {filter}");
    let doc: Option<String> = conn
        .prepare_cached(&sql)?
        .query_row(args, |r| r.get(0))
        .optional()?;
    doc.map(|d| serde_json::from_str(&d).map_err(StoreError::from))
        .transpose()
}

impl Store {
    /// Commits a return durably (see the module doc). `build` gets the number the return will
    /// carry and the sale's earlier returns (read inside the transaction); it returns the
    /// completed return (pure domain code). `register_state`, for an exchange, gives the sale in
    /// progress to save with the return in the same transaction (the returned goods' credit is
    /// one of its tenders). Returns the return and whether it was already on disk (then nothing
    /// was written).
    #[allow(clippy::too_many_arguments)]
    pub fn commit_return<E>(
        &mut self,
        id: Uuid,
        series: &str,
        location_id: &str,
        session_id: Option<Uuid>,
        original_sale: Option<Uuid>,
        build: impl FnOnce(ReceiptNumber, &[CompletedReturn]) -> Result<CompletedReturn, E>,
        register_state: Option<&dyn Fn(&CompletedReturn) -> serde_json::Value>,
    ) -> Result<(CompletedReturn, bool), CommitError<E>> {
        if series.trim().is_empty() {
            return Err(StoreError::Invalid("a return series cannot be empty".into()).into());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(done) = return_where(&tx, "id = ?1", [id.to_string()])? {
            return Ok((done, true));
        }
        let earlier = match original_sale {
            Some(s) => known_returns(&tx, &s.to_string())?,
            None => Vec::new(),
        };
        let last: Option<u64> = tx
            .prepare_cached("SELECT last_number FROM receipt_series WHERE series = ?1")?
            .query_row([series], |r| r.get(0))
            .optional()?;
        let number = ReceiptNumber {
            series: series.to_owned(),
            number: last.unwrap_or(0) + 1,
        };
        let ret = build(number.clone(), &earlier).map_err(CommitError::Build)?;
        if ret.number != number {
            return Err(CommitError::WrongReceipt {
                expected: number,
                found: ret.number,
            });
        }
        if ret.id != id || ret.original.as_ref().map(|o| o.id) != original_sale {
            return Err(
                StoreError::Invalid("the return was built for another id or sale".into()).into(),
            );
        }
        tx.prepare_cached(
            "INSERT INTO receipt_series (series, last_number) VALUES (?1, ?2) \
             ON CONFLICT (series) DO UPDATE SET last_number = excluded.last_number",
        )?
        .execute(params![number.series, number.number])?;
        write_return(&tx, &ret, location_id, session_id)?;
        if let Some(state) = register_state {
            tx.prepare_cached(
                "INSERT INTO register_state (terminal_id, state, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (terminal_id) DO UPDATE SET state = excluded.state, \
                 updated_at = excluded.updated_at",
            )?
            .execute(params![
                ret.terminal_id,
                state(&ret).to_string(),
                unix_ms(ret.at)
            ])?;
        }
        tx.prepare_cached("DELETE FROM return_draft WHERE terminal_id = ?1")?
            .execute([&ret.terminal_id])?;
        tx.commit()?;
        Ok((ret, false))
    }

    /// Every return of a sale, oldest first.
    pub fn returns_of_sale(&self, sale_id: Uuid) -> Result<Vec<CompletedReturn>> {
        known_returns(&self.conn, &sale_id.to_string())
    }

    pub fn return_by_id(&self, id: Uuid) -> Result<Option<CompletedReturn>> {
        return_where(&self.conn, "id = ?1", [id.to_string()])
    }

    pub fn return_by_number(&self, series: &str, number: u64) -> Result<Option<CompletedReturn>> {
        return_where(
            &self.conn,
            "series = ?1 AND number = ?2",
            params![series, number],
        )
    }

    /// Sales matching every given criterion, newest first.
    pub fn search_sales(&self, q: &SaleSearch, limit: usize) -> Result<Vec<CompletedSale>> {
        let mut filters: Vec<String> = Vec::new();
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        let mut arg = |v: rusqlite::types::Value| {
            args.push(v);
            format!("?{}", args.len())
        };
        if let Some(t) = q.from {
            filters.push(format!("s.at >= {}", arg(unix_ms(t).into())));
        }
        if let Some(t) = q.until {
            filters.push(format!("s.at < {}", arg(unix_ms(t).into())));
        }
        if let Some(m) = q.total_minor {
            filters.push(format!("s.total_minor = {}", arg(m.into())));
        }
        if let Some(d) = q
            .card_last4
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            let like = arg(format!("%{d}").into());
            let exact = arg(d.to_owned().into());
            filters.push(format!(
                "(EXISTS (SELECT 1 FROM sale_payment p WHERE p.sale_id = s.id AND p.kind = 'card' \
                 AND p.reference LIKE {like}) \
                 OR EXISTS (SELECT 1 FROM pending_payments pp WHERE pp.terminal_id = s.terminal_id \
                 AND substr(pp.ref_id, 1, 36) = s.id \
                 AND json_extract(pp.record, '$.state.approval.pan_last4') = {exact}))"
            ));
        }
        if let Some(c) = q
            .customer
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            let like = arg(format!("%{c}%").into());
            filters.push(format!(
                "(json_extract(s.document, '$.customer.name') LIKE {like} \
                 OR json_extract(s.document, '$.customer.id') LIKE {like} \
                 OR EXISTS (SELECT 1 FROM sale_payment p WHERE p.sale_id = s.id \
                 AND p.kind IN ('store_credit', 'account') AND p.reference LIKE {like}))"
            ));
        }
        if let Some(r) = q
            .receipt
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            let like = arg(format!("%{r}").into());
            filters.push(format!("printf('%s-%06d', s.series, s.number) LIKE {like}"));
        }
        let lim = arg(i64::try_from(limit.clamp(1, 200)).unwrap_or(50).into());
        let filter = if filters.is_empty() {
            "1".to_owned()
        } else {
            filters.join(" AND ")
        };
        let sql = format!(
            "SELECT s.document FROM sale s WHERE {filter} ORDER BY s.at DESC, s.rowid DESC LIMIT {lim}"
        );
        let docs: Vec<String> = self
            .conn
            .prepare(&sql)?
            .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        docs.iter()
            .map(|d| serde_json::from_str(d).map_err(StoreError::from))
            .collect()
    }

    /// Saves the terminal's return in progress before money moves outside this file (see the
    /// migration): its id and what was asked. Replaces an earlier draft.
    pub fn save_return_draft(
        &mut self,
        terminal_id: &str,
        id: Uuid,
        request: &serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO return_draft (terminal_id, id, request, created_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (terminal_id) DO UPDATE SET id = excluded.id, request = excluded.request, \
                 created_at = excluded.created_at",
            )?
            .execute(params![terminal_id, id.to_string(), request.to_string(), unix_ms(now)])?;
        Ok(())
    }

    /// The terminal's return in progress: its id, request and when it was started.
    pub fn return_draft(
        &self,
        terminal_id: &str,
    ) -> Result<Option<(Uuid, serde_json::Value, OffsetDateTime)>> {
        let row: Option<(String, String, i64)> = self
            .conn
            .prepare_cached(
                "SELECT id, request, created_at FROM return_draft WHERE terminal_id = ?1",
            )?
            .query_row([terminal_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        row.map(|(id, req, at)| {
            Ok((
                Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(format!("draft id: {e}")))?,
                serde_json::from_str(&req)?,
                from_unix_ms(at)?,
            ))
        })
        .transpose()
    }

    /// Drops the terminal's return draft (nothing was refunded outside this file).
    pub fn clear_return_draft(&mut self, terminal_id: &str) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM return_draft WHERE terminal_id = ?1")?
            .execute([terminal_id])?;
        Ok(())
    }

    /// The number of the gift card that paid a sale's tender (its redeem key `<sale id>-<tender
    /// position>`), to put a refund back on it.
    pub fn gift_card_of_redeem(&self, redeem_key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT number FROM gift_card_entry WHERE idempotency_key = ?1 AND kind = 'redeem' \
                 ORDER BY released, id DESC LIMIT 1",
            )?
            .query_row([redeem_key], |r| r.get(0))
            .optional()?)
    }

    /// Gives `amount` back to a customer, once per `key`: onto their store credit, or off what
    /// they owe on account (never below zero). Returns the ledger's balance after.
    pub fn refund_to_customer(
        &mut self,
        key: &str,
        customer_id: &str,
        ledger: CustomerLedger,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<Money, LedgerError> {
        if amount.minor <= 0 {
            return Err(LedgerError::NonPositive);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(String, i64, i64)> = tx
            .prepare_cached(
                "SELECT currency, store_credit, account_balance FROM customer WHERE id = ?1",
            )?
            .query_row([customer_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((cur, credit, owed)) = row else {
            return Err(LedgerError::Unknown(customer_id.to_owned()));
        };
        let currency: Currency = cur
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("currency {cur}")))?;
        if currency != amount.currency {
            return Err(LedgerError::WrongCurrency {
                expected: currency,
                found: amount.currency,
            });
        }
        let (kind, column, delta, after) = match ledger {
            CustomerLedger::StoreCredit => (
                "credit",
                "store_credit",
                amount.minor,
                credit
                    .checked_add(amount.minor)
                    .ok_or_else(|| StoreError::Invalid("balance out of range".into()))?,
            ),
            CustomerLedger::Account => {
                if amount.minor > owed {
                    return Err(LedgerError::Insufficient {
                        available: Money::new(owed, currency),
                    });
                }
                (
                    "payment",
                    "account_balance",
                    -amount.minor,
                    owed - amount.minor,
                )
            }
        };
        let existing: Option<(i64, i64)> = tx
            .prepare_cached(
                "SELECT amount, balance_after FROM customer_entry \
                 WHERE idempotency_key = ?1 AND kind = ?2 AND customer_id = ?3",
            )?
            .query_row(params![key, kind, customer_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        if let Some((a, after)) = existing {
            if a != delta {
                return Err(LedgerError::KeyReused(key.to_owned()));
            }
            return Ok(Money::new(after, currency));
        }
        tx.execute(
            &format!("UPDATE customer SET {column} = ?2 WHERE id = ?1"),
            params![customer_id, after],
        )?;
        tx.execute(
            "INSERT INTO customer_entry (customer_id, ledger, kind, amount, balance_after, idempotency_key, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![customer_id, ledger.code(), kind, delta, after, key, unix_ms(now)],
        )?;
        tx.commit()?;
        Ok(Money::new(after, currency))
    }
}

/// The shop's stock adjustments of one returned line: (reason, delta).
pub fn line_adjustments(qty: i64, disposition: &Disposition) -> Vec<(&'static str, i64)> {
    match disposition {
        Disposition::Restock => vec![("RETURN", qty)],
        Disposition::WriteOff { .. } => vec![("RETURN", qty), ("WRITE_OFF", -qty)],
    }
}

fn write_return(
    tx: &Connection,
    ret: &CompletedReturn,
    location_id: &str,
    session_id: Option<Uuid>,
) -> Result<()> {
    let id = ret.id.to_string();
    let at = unix_ms(ret.at);
    let document = serde_json::to_string(ret)
        .map_err(|e| StoreError::Invalid(format!("return cannot be encoded: {e}")))?;
    // The sale it corrects: this terminal's (in `sale`) or fetched from the shop.
    let original = match &ret.original {
        None => None,
        Some(o) => {
            let oid = o.id.to_string();
            let local: Option<String> = tx
                .prepare_cached("SELECT document FROM sale WHERE id = ?1")?
                .query_row([&oid], |r| r.get(0))
                .optional()?;
            match local {
                Some(doc) => Some((serde_json::from_str::<CompletedSale>(&doc)?, None, false)),
                None => {
                    let remote = crate::remote_sales::remote_sale(tx, &oid)?.ok_or_else(|| {
                        StoreError::Invalid(format!("no sale {} to return", o.receipt))
                    })?;
                    Some((
                        remote.sale,
                        remote
                            .order_code
                            .filter(|_| remote.source == crate::remote_sales::RemoteSource::Online),
                        true,
                    ))
                }
            }
        }
    };
    let remote = original.as_ref().is_some_and(|(_, _, remote)| *remote);
    let local_original = ret.original.as_ref().filter(|_| !remote);
    tx.prepare_cached(
        "INSERT INTO sale_return (id, series, number, terminal_id, cashier_id, approver_id, \
         location_id, session_id, original_sale_id, original_series, original_number, at, currency, \
         total_minor, tax_total_minor, cash_refund_minor, document) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?
    .execute(params![
        id,
        ret.number.series,
        ret.number.number,
        ret.terminal_id,
        ret.cashier.id,
        ret.approved_by.as_ref().map(|a| a.id.clone()),
        location_id,
        session_id.map(|s| s.to_string()),
        local_original.map(|o| o.id.to_string()),
        local_original.map(|o| o.receipt.series.clone()),
        local_original.map(|o| o.receipt.number),
        at,
        ret.currency.code(),
        -ret.total.minor,
        -ret.tax_total.minor,
        ret.cash_refunded().minor,
        document
    ])?;
    let mut line_stmt = tx.prepare_cached(
        "INSERT INTO sale_return_line (return_id, line_no, sale_line_no, variant_id, sku, units, \
         grams, amount_minor, tax_code, disposition, reason) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let mut stock_stmt = tx.prepare_cached(
        "INSERT INTO stock (variant_id, location_id, on_hand, updated_at) \
         SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM variant WHERE id = ?1) \
         ON CONFLICT (variant_id, location_id) DO UPDATE \
         SET on_hand = on_hand + excluded.on_hand, updated_at = excluded.updated_at",
    )?;
    for (i, l) in ret.lines.iter().enumerate() {
        let no = i + 1;
        let (units, grams, qty) = match l.quantity {
            Quantity::Units(n) => (Some(n), None, n),
            Quantity::Grams(g) => (None, Some(g), g),
        };
        let (disposition, reason) = match &l.disposition {
            Disposition::Restock => ("restock", None),
            Disposition::WriteOff { reason } => ("write_off", Some(reason.clone())),
        };
        line_stmt.execute(params![
            id,
            no,
            l.sale_line_no,
            l.product.variant_id,
            l.product.sku,
            units,
            grams,
            -l.amount.minor,
            l.product.tax.code,
            disposition,
            reason
        ])?;
        if l.disposition == Disposition::Restock {
            stock_stmt.execute(params![l.product.variant_id, location_id, qty, at])?;
        }
        for (why, delta) in line_adjustments(qty, &l.disposition) {
            let note = match &l.disposition {
                Disposition::WriteOff { reason } if why == "WRITE_OFF" => {
                    format!("{} {reason}", ret.number)
                }
                _ => ret.number.to_string(),
            };
            let payload = serde_json::json!({
                "sku": l.product.sku,
                "delta": delta,
                "reason": why,
                "note": note,
            })
            .to_string();
            outbox::enqueue(
                tx,
                STOCK_ADJUSTED,
                &id,
                &format!("return:{id}:{no}:{why}"),
                &payload,
                ret.at,
            )?;
        }
    }
    let mut refund_stmt = tx.prepare_cached(
        "INSERT INTO sale_return_refund (return_id, seq, kind, amount_minor, original_tender, reference) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (seq, r) in ret.refunds.iter().enumerate() {
        refund_stmt.execute(params![
            id,
            seq + 1,
            r.kind.code(),
            r.amount.minor,
            r.original_tender,
            r.reference
        ])?;
    }
    if let (Some((sale, order_code, remote)), Some(o)) = (&original, &ret.original) {
        if *remote {
            tx.prepare_cached(
                "INSERT INTO sale_return_remote (return_id, remote_sale_id) VALUES (?1, ?2)",
            )?
            .execute(params![id, o.id.to_string()])?;
        }
        let sold: Vec<(u32, i64)> = sale
            .lines()
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let q = match s.line.quantity {
                    Quantity::Units(n) | Quantity::Grams(n) => n,
                };
                (i as u32 + 1, q)
            })
            .filter(|(no, _)| ret.lines.iter().any(|l| l.sale_line_no == Some(*no)))
            .collect();
        let payload = serde_json::json!({
            "document": ret,
            "sold": sold,
            "orderCode": order_code,
        })
        .to_string();
        outbox::enqueue(
            tx,
            RETURN_COMPLETED,
            &id,
            &format!("return:{id}"),
            &payload,
            ret.at,
        )?;
    }
    Ok(())
}
