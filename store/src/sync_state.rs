//! What the web-shop sync (`pos-sync`) keeps in the terminal's database: the change-feed cursor
//! and other scalar state, the shop's last stock figures, the stock conflicts the shop reported,
//! reconciliation drift and the encrypted shop credential (tables of migration 0002_sync).
//!
//! Invariants:
//! * Changes read from the shop and the cursor after them are written in ONE transaction
//!   ([`Store::apply_shop_changes`]): a crash never skips a change nor moves the cursor without it.
//! * The register's stock of a synced variant is derived, never guessed:
//!   `stock.on_hand = shop sellable − quantity of this location's sales not yet delivered`.
//!   It is recomputed whenever a shop figure arrives and whenever sales are marked delivered,
//!   so both orders of "shop figure" and "delivery confirmed" converge to the same number.
//! * Stock conflicts are never deleted; a repeated report (same shop conflict id) is stored once.
//! * Nothing here reads the clock or talks to the network: the caller passes `now`.

use crate::outbox::SALE_COMPLETED;
use crate::{CatalogBatch, Result, Store, StoreError, from_unix_ms, unix_ms};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use time::OffsetDateTime;

/// Key of the change-feed cursor in `sync_state`.
pub const CURSOR: &str = "cursor";
/// Key set once the initial import has completed.
pub const IMPORT_DONE: &str = "import_done";
/// Key of the shop's stock location id of this terminal.
pub const SHOP_LOCATION: &str = "shop_location_id";

/// The shop's sellable figure for a local variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopStockFigure {
    pub variant_id: String,
    pub sellable: i64,
}

/// A stock conflict as the shop reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockConflictRecord {
    pub shop_conflict_id: Option<String>,
    pub sale_id: Option<String>,
    pub sku: String,
    /// `INSUFFICIENT_STOCK`, `UNKNOWN_SKU` or `RETURN_EXCEEDS_SALE`.
    pub reason: String,
    pub requested: i64,
    pub available_before: Option<i64>,
}

/// A stored conflict, for the manager's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockConflict {
    pub id: i64,
    pub record: StockConflictRecord,
    pub reported_at: OffsetDateTime,
    pub resolved_at: Option<OffsetDateTime>,
    pub resolution: Option<String>,
}

/// A difference found by reconciliation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockDrift {
    pub variant_id: String,
    pub sku: String,
    pub location_id: String,
    pub local_on_hand: Option<i64>,
    /// What the register should show: shop sellable − undelivered local sales.
    pub expected: i64,
}

/// The encrypted credential as stored (see `pos_sync::credential`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential {
    pub url: String,
    pub identifier: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// A local variant linked (or linkable) to a shop variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedVariant {
    pub variant_id: String,
    pub product_id: String,
    pub sku: String,
    pub shop_variant_id: Option<String>,
}

fn get_value(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM sync_state WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

fn put_value(conn: &Connection, key: &str, value: &str, now: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_state (key, value, updated_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )?
    .execute(params![key, value, now])?;
    Ok(())
}

/// Units (or grams) of this location's sales still in the outbox, by variant, less the stock
/// adjustments still in the outbox (returns).
fn pending_quantities(conn: &Connection, location_id: &str) -> Result<HashMap<String, i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.variant_id, sum(coalesce(l.units, l.grams)) FROM outbox o \
         JOIN sale s ON s.id = o.aggregate_id JOIN sale_line l ON l.sale_id = s.id \
         WHERE o.delivered_at IS NULL AND o.kind = ?1 AND s.location_id = ?2 \
         GROUP BY l.variant_id",
    )?;
    let mut rows = stmt
        .query_map(params![SALE_COMPLETED, location_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?
        .collect::<rusqlite::Result<HashMap<_, _>>>()?;
    // returns: undelivered stock adjustments (a return's RETURN +n, a write-off's −n) are not in
    // the shop's figure yet either.
    let mut adjusted = conn.prepare_cached(
        "SELECT v.id, sum(json_extract(o.payload, '$.delta')) FROM outbox o \
         JOIN variant v ON v.sku = json_extract(o.payload, '$.sku') \
         WHERE o.delivered_at IS NULL AND o.kind = ?1 GROUP BY v.id",
    )?;
    for row in adjusted.query_map([crate::returns::STOCK_ADJUSTED], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (variant, delta) = row?;
        *rows.entry(variant).or_insert(0) -= delta;
    }
    Ok(rows)
}

/// Recomputes the register's stock of `variants` from the last shop figure.
fn refresh_stock(
    conn: &Connection,
    variants: &[String],
    location_id: &str,
    now: i64,
) -> Result<()> {
    if variants.is_empty() {
        return Ok(());
    }
    let pending = pending_quantities(conn, location_id)?;
    let mut figure = conn.prepare_cached(
        "SELECT sellable FROM shop_stock WHERE variant_id = ?1 AND location_id = ?2",
    )?;
    let mut write = conn.prepare_cached(
        "INSERT INTO stock (variant_id, location_id, on_hand, updated_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (variant_id, location_id) DO UPDATE SET on_hand = excluded.on_hand, \
         updated_at = excluded.updated_at",
    )?;
    for v in variants {
        let Some(sellable) = figure
            .query_row(params![v, location_id], |r| r.get::<_, i64>(0))
            .optional()?
        else {
            continue;
        };
        let on_hand = sellable - pending.get(v).copied().unwrap_or(0);
        write.execute(params![v, location_id, on_hand, now])?;
    }
    Ok(())
}

fn ensure_location(conn: &Connection, location_id: &str) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO location (id, name) VALUES (?1, ?1)")?
        .execute([location_id])?;
    Ok(())
}

impl Store {
    /// A scalar sync value (`None` when never set).
    pub fn sync_value(&self, key: &str) -> Result<Option<String>> {
        get_value(&self.conn, key)
    }

    pub fn set_sync_value(&mut self, key: &str, value: &str, now: OffsetDateTime) -> Result<()> {
        put_value(&self.conn, key, value, unix_ms(now))
    }

    /// Applies what was read from the shop in one transaction: catalog data (the batch's
    /// variants carry no stock levels; stock comes from `stock`), the shop's sellable figures at
    /// `location_id` with the register's stock recomputed from them, and — when given — the
    /// change-feed cursor after these changes.
    pub fn apply_shop_changes(
        &mut self,
        batch: &CatalogBatch,
        stock: &[ShopStockFigure],
        location_id: &str,
        cursor: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let ms = unix_ms(now);
        ensure_location(&tx, location_id)?;
        if !batch.products.is_empty() || !batch.tax_categories.is_empty() {
            Store::write_catalog(&tx, batch, now)?;
        }
        {
            let mut figure = tx.prepare_cached(
                "INSERT INTO shop_stock (variant_id, location_id, sellable, read_at) \
                 SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM variant WHERE id = ?1) \
                 ON CONFLICT (variant_id, location_id) DO UPDATE SET sellable = excluded.sellable, \
                 read_at = excluded.read_at",
            )?;
            for s in stock {
                figure.execute(params![s.variant_id, location_id, s.sellable, ms])?;
            }
        }
        let ids: Vec<String> = stock.iter().map(|s| s.variant_id.clone()).collect();
        refresh_stock(&tx, &ids, location_id, ms)?;
        if let Some(c) = cursor {
            put_value(&tx, CURSOR, c, ms)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Ends an import in one transaction: the feed cursor read before it, the shop's stock
    /// location of this terminal, and the "import done" mark.
    pub fn finish_import(
        &mut self,
        cursor: &str,
        shop_location_id: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        let ms = unix_ms(now);
        put_value(&tx, CURSOR, cursor, ms)?;
        put_value(&tx, SHOP_LOCATION, shop_location_id, ms)?;
        put_value(&tx, IMPORT_DONE, "1", ms)?;
        tx.commit()?;
        Ok(())
    }

    /// Local variants by SKU (those that exist), to link shop variants to them.
    pub fn variants_by_sku(&self, skus: &[&str]) -> Result<HashMap<String, LinkedVariant>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, product_id, sku, shop_variant_id FROM variant WHERE sku = ?1",
        )?;
        let mut out = HashMap::new();
        for sku in skus {
            if let Some(v) = stmt
                .query_row([sku], |r| {
                    Ok(LinkedVariant {
                        variant_id: r.get(0)?,
                        product_id: r.get(1)?,
                        sku: r.get(2)?,
                        shop_variant_id: r.get(3)?,
                    })
                })
                .optional()?
            {
                out.insert(v.sku.clone(), v);
            }
        }
        Ok(out)
    }

    /// Units (or grams) of this location's sales not yet delivered to the shop, by variant.
    pub fn undelivered_sale_quantities(&self, location_id: &str) -> Result<HashMap<String, i64>> {
        pending_quantities(&self.conn, location_id)
    }

    /// The shop confirmed these sales (outbox ids): marks them delivered and recomputes the
    /// register's stock of their variants, in one transaction.
    pub fn mark_sales_delivered(
        &mut self,
        outbox_ids: &[i64],
        location_id: &str,
        at: OffsetDateTime,
    ) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let ms = unix_ms(at);
        let mut variants: Vec<String> = Vec::new();
        {
            let mut mark = tx.prepare_cached(
                "UPDATE outbox SET delivered_at = ?2, attempts = attempts + 1, last_error = NULL \
                 WHERE id = ?1 AND delivered_at IS NULL",
            )?;
            let mut lines = tx.prepare_cached(
                "SELECT l.variant_id FROM outbox o JOIN sale_line l ON l.sale_id = o.aggregate_id \
                 WHERE o.id = ?1",
            )?;
            for id in outbox_ids {
                if mark.execute(params![id, ms])? != 1 {
                    return Err(StoreError::Invalid(format!(
                        "outbox message {id} does not exist or was already delivered"
                    )));
                }
                for v in lines.query_map([id], |r| r.get::<_, String>(0))? {
                    variants.push(v?);
                }
            }
        }
        variants.sort();
        variants.dedup();
        refresh_stock(&tx, &variants, location_id, ms)?;
        tx.commit()?;
        Ok(())
    }

    /// Makes every undelivered message due now (the shop is reachable again).
    pub fn outbox_retry_all_now(&mut self, now: OffsetDateTime) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE outbox SET next_attempt_at = ?1 WHERE delivered_at IS NULL AND next_attempt_at > ?1",
            [unix_ms(now)],
        )?)
    }

    /// The earliest time an undelivered message is due (`None` when the outbox is empty).
    pub fn outbox_next_due(&self) -> Result<Option<OffsetDateTime>> {
        let ms: Option<i64> = self.conn.query_row(
            "SELECT min(next_attempt_at) FROM outbox WHERE delivered_at IS NULL",
            [],
            |r| r.get(0),
        )?;
        ms.map(from_unix_ms).transpose()
    }

    /// Stores conflicts reported by the shop; a conflict already stored (same shop id) is
    /// skipped. Returns how many were new.
    pub fn record_stock_conflicts(
        &mut self,
        conflicts: &[StockConflictRecord],
        now: OffsetDateTime,
    ) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let mut added = 0;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO stock_conflict (shop_conflict_id, sale_id, sku, reason, requested, \
                 available_before, reported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (shop_conflict_id) DO NOTHING",
            )?;
            for c in conflicts {
                added += insert.execute(params![
                    c.shop_conflict_id,
                    c.sale_id,
                    c.sku,
                    c.reason,
                    c.requested,
                    c.available_before,
                    unix_ms(now)
                ])?;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    /// The stock conflicts for the manager's list, oldest first.
    pub fn stock_conflicts(&self, include_resolved: bool) -> Result<Vec<StockConflict>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, shop_conflict_id, sale_id, sku, reason, requested, available_before, \
             reported_at, resolved_at, resolution FROM stock_conflict \
             WHERE ?1 OR resolved_at IS NULL ORDER BY id",
        )?;
        let rows = stmt
            .query_map([include_resolved], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    StockConflictRecord {
                        shop_conflict_id: r.get(1)?,
                        sale_id: r.get(2)?,
                        sku: r.get(3)?,
                        reason: r.get(4)?,
                        requested: r.get(5)?,
                        available_before: r.get(6)?,
                    },
                    r.get::<_, i64>(7)?,
                    r.get::<_, Option<i64>>(8)?,
                    r.get::<_, Option<String>>(9)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(id, record, at, resolved, resolution)| {
                Ok(StockConflict {
                    id,
                    record,
                    reported_at: from_unix_ms(at)?,
                    resolved_at: resolved.map(from_unix_ms).transpose()?,
                    resolution,
                })
            })
            .collect()
    }

    /// Open (unresolved) stock conflicts.
    pub fn open_stock_conflicts(&self) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM stock_conflict WHERE resolved_at IS NULL",
            [],
            |r| r.get(0),
        )?)
    }

    /// A manager dealt with a conflict (the row stays, stamped).
    pub fn resolve_stock_conflict(
        &mut self,
        id: i64,
        resolution: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE stock_conflict SET resolved_at = ?2, resolution = ?3 WHERE id = ?1",
            params![id, unix_ms(now), resolution],
        )?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Invalid(format!("no stock conflict {id}")))
        }
    }

    /// Records reconciliation drift and sets the register's stock to the expected figures.
    pub fn record_stock_drift(&mut self, drift: &[StockDrift], now: OffsetDateTime) -> Result<()> {
        let tx = self.conn.transaction()?;
        let ms = unix_ms(now);
        {
            let mut report = tx.prepare_cached(
                "INSERT INTO stock_drift (variant_id, sku, location_id, local_on_hand, expected, \
                 detected_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut fix = tx.prepare_cached(
                "INSERT INTO stock (variant_id, location_id, on_hand, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (variant_id, location_id) DO UPDATE SET on_hand = excluded.on_hand, \
                 updated_at = excluded.updated_at",
            )?;
            for d in drift {
                report.execute(params![
                    d.variant_id,
                    d.sku,
                    d.location_id,
                    d.local_on_hand,
                    d.expected,
                    ms
                ])?;
                fix.execute(params![d.variant_id, d.location_id, d.expected, ms])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// How many drift reports reconciliation has written.
    pub fn stock_drift_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM stock_drift", [], |r| r.get(0))?)
    }

    pub fn save_shop_credential(
        &mut self,
        credential: &StoredCredential,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO shop_credential (id, url, identifier, nonce, ciphertext, updated_at) \
             VALUES (1, ?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET url = excluded.url, \
             identifier = excluded.identifier, nonce = excluded.nonce, \
             ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
            params![
                credential.url,
                credential.identifier,
                credential.nonce,
                credential.ciphertext,
                unix_ms(now)
            ],
        )?;
        Ok(())
    }

    pub fn shop_credential(&self) -> Result<Option<StoredCredential>> {
        Ok(self
            .conn
            .query_row(
                "SELECT url, identifier, nonce, ciphertext FROM shop_credential WHERE id = 1",
                [],
                |r| {
                    Ok(StoredCredential {
                        url: r.get(0)?,
                        identifier: r.get(1)?,
                        nonce: r.get(2)?,
                        ciphertext: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }
}
