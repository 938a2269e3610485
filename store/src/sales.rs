//! Completed sales: the durable commit with its gap-free receipt number, and reading sales back.
//!
//! Invariants:
//! * [`Store::commit_sale`] runs in one `BEGIN IMMEDIATE` transaction: it takes the series' next
//!   number, builds the sale with it, writes the sale with its lines, payments and per-rate
//!   taxes, lowers stock on hand at the location, and queues the `sale.completed` outbox row.
//!   Either all of that is committed (and synced to disk: `synchronous=FULL`) or none of it is,
//!   and then the number is not consumed: numbers within a series have no gaps.
//! * The sale row keeps the whole `CompletedSale` as JSON, so a reprint is exact; the line,
//!   payment and tax rows are the same figures in columns, for reports.
//! * Stock may go negative: goods already in the customer's hand are always sold.

use crate::outbox::{self, SALE_COMPLETED};
use crate::{Result, Store, StoreError, unix_ms};
use pos_core::{CompletedSale, Quantity, ReceiptNumber};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum CommitError<E> {
    /// The sale could not be built (not fully paid, empty…): nothing was written.
    #[error("the sale could not be completed: {0}")]
    Build(E),
    /// The built sale carries another receipt number than the one it was given: a caller bug.
    #[error("the sale was built with receipt {found}, expected {expected}")]
    WrongReceipt {
        expected: ReceiptNumber,
        found: ReceiptNumber,
    },
    /// The database refused the sale: nothing was written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E> From<rusqlite::Error> for CommitError<E> {
    fn from(e: rusqlite::Error) -> Self {
        CommitError::Store(e.into())
    }
}

impl Store {
    /// Commits a sale durably. `build` receives the receipt number the sale will carry and
    /// returns the completed sale (pure domain code: `Cart::complete`). See the module doc.
    pub fn commit_sale<E>(
        &mut self,
        series: &str,
        location_id: &str,
        build: impl FnOnce(ReceiptNumber) -> Result<CompletedSale, E>,
    ) -> Result<CompletedSale, CommitError<E>> {
        if series.trim().is_empty() {
            return Err(StoreError::Invalid("a receipt series cannot be empty".into()).into());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last: Option<u64> = tx
            .prepare_cached("SELECT last_number FROM receipt_series WHERE series = ?1")?
            .query_row([series], |r| r.get(0))
            .optional()?;
        let receipt = ReceiptNumber {
            series: series.to_owned(),
            number: last.unwrap_or(0) + 1,
        };
        // On any early return `tx` is dropped, which rolls everything back.
        let sale = build(receipt.clone()).map_err(CommitError::Build)?;
        if sale.receipt() != &receipt {
            return Err(CommitError::WrongReceipt {
                expected: receipt,
                found: sale.receipt().clone(),
            });
        }
        tx.prepare_cached(
            "INSERT INTO receipt_series (series, last_number) VALUES (?1, ?2) \
             ON CONFLICT (series) DO UPDATE SET last_number = excluded.last_number",
        )?
        .execute(params![receipt.series, receipt.number])?;
        write_sale(&tx, &sale, location_id)?;
        tx.commit()?;
        Ok(sale)
    }

    fn sale_where(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
    ) -> Result<Option<CompletedSale>> {
        let sql = format!("SELECT document FROM sale WHERE {filter}");
        let doc: Option<String> = self
            .conn
            .prepare_cached(&sql)?
            .query_row(args, |r| r.get(0))
            .optional()?;
        doc.map(|d| serde_json::from_str(&d).map_err(StoreError::from))
            .transpose()
    }

    pub fn sale_by_id(&self, id: Uuid) -> Result<Option<CompletedSale>> {
        self.sale_where("id = ?1", [id.to_string()])
    }

    pub fn sale_by_receipt(&self, series: &str, number: u64) -> Result<Option<CompletedSale>> {
        self.sale_where("series = ?1 AND number = ?2", params![series, number])
    }

    /// The terminal's most recent sale (for "reprint the last receipt").
    pub fn last_sale(&self, terminal_id: &str) -> Result<Option<CompletedSale>> {
        self.sale_where(
            "terminal_id = ?1 ORDER BY at DESC, rowid DESC LIMIT 1",
            [terminal_id],
        )
    }

    pub fn sales_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM sale", [], |r| r.get(0))?)
    }

    /// The last number taken in a series (0 when none).
    pub fn last_receipt_number(&self, series: &str) -> Result<u64> {
        Ok(self
            .conn
            .prepare_cached("SELECT last_number FROM receipt_series WHERE series = ?1")?
            .query_row([series], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }
}

/// Everything a sale writes besides its number; runs inside the commit's transaction.
fn write_sale(tx: &Connection, sale: &CompletedSale, location_id: &str) -> Result<()> {
    let id = sale.id().to_string();
    let at = unix_ms(sale.at());
    let document = serde_json::to_string(sale)
        .map_err(|e| StoreError::Invalid(format!("sale cannot be encoded: {e}")))?;
    let totals = sale.totals();
    tx.prepare_cached(
        "INSERT INTO sale (id, series, number, terminal_id, cashier_id, location_id, at, currency, \
         total_minor, tax_total_minor, document) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        id,
        sale.receipt().series,
        sale.receipt().number,
        sale.terminal_id(),
        sale.cashier().id,
        location_id,
        at,
        sale.currency().code(),
        totals.total.minor,
        totals.tax_total.minor,
        document
    ])?;

    let mut line_stmt = tx.prepare_cached(
        "INSERT INTO sale_line (sale_id, line_no, variant_id, sku, names, barcode, units, grams, \
         unit_price_minor, extended_minor, line_discount_minor, order_discount_minor, amount_minor, \
         tax_code, tax_bps) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    // Lowers stock at the location; a variant no longer in the catalog has no stock to lower.
    let mut stock_stmt = tx.prepare_cached(
        "INSERT INTO stock (variant_id, location_id, on_hand, updated_at) \
         SELECT ?1, ?2, -?3, ?4 WHERE EXISTS (SELECT 1 FROM variant WHERE id = ?1) \
         ON CONFLICT (variant_id, location_id) DO UPDATE \
         SET on_hand = on_hand + excluded.on_hand, updated_at = excluded.updated_at",
    )?;
    for (no, sold) in sale.lines().iter().enumerate() {
        let l = &sold.line;
        let (units, grams, stock_qty) = match l.quantity {
            Quantity::Units(n) => (Some(n), None, n),
            Quantity::Grams(g) => (None, Some(g), g),
        };
        line_stmt.execute(params![
            id,
            no + 1,
            l.product.variant_id,
            l.product.sku,
            serde_json::to_string(&l.product.names)?,
            l.product.barcode,
            units,
            grams,
            l.unit_price.minor,
            sold.total.extended.minor,
            sold.total.line_discount.minor,
            sold.total.order_discount.minor,
            sold.total.amount.minor,
            l.product.tax.code,
            l.product.tax.bps
        ])?;
        // A gift card sold is not a stock item.
        if l.voucher.is_none() {
            stock_stmt.execute(params![l.product.variant_id, location_id, stock_qty, at])?;
        }
    }
    // Gift cards sold get their money only once this commits; the customer, if any.
    crate::gift_cards::queue_activations(tx, sale)?;
    crate::customers::record_sale_customer(tx, sale)?;

    let mut pay_stmt = tx.prepare_cached(
        "INSERT INTO sale_payment (sale_id, seq, kind, amount_minor, reference) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (seq, t) in sale.tenders().iter().enumerate() {
        pay_stmt.execute(params![
            id,
            seq + 1,
            t.kind.code(),
            t.amount.minor,
            t.reference
        ])?;
    }

    let mut tax_stmt = tx.prepare_cached(
        "INSERT INTO sale_tax (sale_id, code, bps, reduced, net_minor, tax_minor, gross_minor) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for t in &totals.taxes {
        tax_stmt.execute(params![
            id,
            t.rate.code,
            t.rate.bps,
            t.rate.reduced,
            t.net.minor,
            t.tax.minor,
            t.gross.minor
        ])?;
    }

    // A sale of gift cards only has nothing for the shop's catalog or stock (its cards reach
    // the shop's gift-card ledger instead).
    if sale.lines().iter().any(|s| s.line.voucher.is_none()) {
        outbox::enqueue(tx, SALE_COMPLETED, &id, &id, &document, sale.at())?;
    }
    Ok(())
}
