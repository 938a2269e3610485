//! Sales this terminal did not make — rung up on another terminal, or ordered on the web shop —
//! kept for the returns made of them here (migration 0013).
//!
//! The shop is the source: a manager's lookup fetches the sale and every return any terminal
//! made of it, and [`Store::save_remote_sale`] keeps both. What may still be returned here is
//! the sale's quantities minus every return known — this terminal's own (committed here, see
//! `returns.rs`) and the others' as the shop listed them at the last lookup — counted once per
//! return id.
//!
//! Invariants:
//! * A remote sale is never mixed into this terminal's own figures: it is not in `sale`, so X/Z
//!   reports, searches and the receipt series never see it.
//! * A return of a remote sale links to it in `sale_return_remote` (written in the return's own
//!   transaction) and is queued for the shop like every return that has an original
//!   (`returns.rs`), so the other terminals learn of it.

use crate::{Result, Store, StoreError, from_unix_ms, unix_ms};
use pos_core::CompletedSale;
use pos_core::returns::CompletedReturn;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// Where a remote sale was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteSource {
    /// Another terminal of the store.
    Pos,
    /// The web shop.
    Online,
}

impl RemoteSource {
    fn code(self) -> &'static str {
        match self {
            RemoteSource::Pos => "pos",
            RemoteSource::Online => "online",
        }
    }
}

/// A sale fetched from the shop, as kept here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSale {
    pub sale: CompletedSale,
    pub source: RemoteSource,
    /// What the customer has: the receipt number, or the web order's code.
    pub code: String,
    /// The shop's order code (online orders; POS sales have one too).
    pub order_code: Option<String>,
    /// The shop's gift cards that paid it, by tender key (`<sale id>-<position>`).
    pub gift_cards: BTreeMap<String, String>,
    pub fetched_at: OffsetDateTime,
}

/// The returns of `sale_id` known here: this terminal's (of a local or a remote sale) and, for
/// a remote sale, the other terminals' as the shop listed them; each return once, oldest first.
pub(crate) fn known_returns(conn: &Connection, sale_id: &str) -> Result<Vec<CompletedReturn>> {
    let docs: Vec<String> = conn
        .prepare_cached(
            "SELECT document FROM sale_return WHERE original_sale_id = ?1 \
             UNION ALL \
             SELECT r.document FROM sale_return_remote l JOIN sale_return r ON r.id = l.return_id \
             WHERE l.remote_sale_id = ?1 \
             UNION ALL \
             SELECT document FROM remote_sale_return WHERE sale_id = ?1 \
             AND return_id NOT IN (SELECT id FROM sale_return)",
        )?
        .query_map([sale_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out: Vec<CompletedReturn> = docs
        .iter()
        .map(|d| serde_json::from_str(d).map_err(StoreError::from))
        .collect::<Result<_>>()?;
    out.sort_by(|a, b| {
        (a.at, &a.number.series, a.number.number).cmp(&(b.at, &b.number.series, b.number.number))
    });
    out.dedup_by_key(|r| r.id);
    Ok(out)
}

/// The remote sale `id`, if one is kept.
pub(crate) fn remote_sale(conn: &Connection, id: &str) -> Result<Option<RemoteSale>> {
    type Row = (String, String, String, Option<String>, String, i64);
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT document, source, code, order_code, gift_cards, fetched_at FROM remote_sale \
             WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .optional()?;
    row.map(|(doc, source, code, order_code, gift_cards, fetched)| {
        Ok(RemoteSale {
            sale: serde_json::from_str(&doc)?,
            source: if source == "online" {
                RemoteSource::Online
            } else {
                RemoteSource::Pos
            },
            code,
            order_code,
            gift_cards: serde_json::from_str(&gift_cards)?,
            fetched_at: from_unix_ms(fetched)?,
        })
    })
    .transpose()
}

fn replace_shop_returns(tx: &Connection, sale_id: Uuid, returns: &[CompletedReturn]) -> Result<()> {
    let id = sale_id.to_string();
    tx.prepare_cached("DELETE FROM remote_sale_return WHERE sale_id = ?1")?
        .execute([&id])?;
    let mut insert = tx.prepare_cached(
        "INSERT OR REPLACE INTO remote_sale_return (sale_id, return_id, terminal_id, document) \
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for r in returns {
        if r.original.as_ref().map(|o| o.id) != Some(sale_id) {
            return Err(StoreError::Invalid(format!(
                "return {} is not a return of sale {id}",
                r.number
            )));
        }
        insert.execute(params![
            id,
            r.id.to_string(),
            r.terminal_id,
            serde_json::to_string(r)?
        ])?;
    }
    Ok(())
}

impl Store {
    /// Keeps a sale fetched from the shop and the returns the shop knows of it (replacing what
    /// an earlier lookup kept). A sale of this terminal's own is refused: it is in `sale`.
    pub fn save_remote_sale(
        &mut self,
        remote: &RemoteSale,
        returns: &[CompletedReturn],
    ) -> Result<()> {
        let id = remote.sale.id().to_string();
        let tx = self.conn.transaction()?;
        let own: bool = tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM sale WHERE id = ?1)")?
            .query_row([&id], |r| r.get(0))?;
        if own {
            return Err(StoreError::Invalid(format!(
                "sale {id} was made on this terminal"
            )));
        }
        let document = serde_json::to_string(&remote.sale)?;
        tx.prepare_cached(
            "INSERT INTO remote_sale (id, source, code, order_code, terminal_id, at, document, \
             gift_cards, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT (id) DO UPDATE SET source = excluded.source, code = excluded.code, \
             order_code = excluded.order_code, terminal_id = excluded.terminal_id, at = excluded.at, \
             document = excluded.document, gift_cards = excluded.gift_cards, \
             fetched_at = excluded.fetched_at",
        )?
        .execute(params![
            id,
            remote.source.code(),
            remote.code,
            remote.order_code,
            remote.sale.terminal_id(),
            unix_ms(remote.sale.at()),
            document,
            serde_json::to_string(&remote.gift_cards)?,
            unix_ms(remote.fetched_at)
        ])?;
        replace_shop_returns(&tx, remote.sale.id(), returns)?;
        tx.commit()?;
        Ok(())
    }

    /// Keeps the returns the shop knows of one of this terminal's own sales (made on other
    /// registers too), replacing what an earlier lookup kept.
    pub fn save_shop_returns(&mut self, sale_id: Uuid, returns: &[CompletedReturn]) -> Result<()> {
        let tx = self.conn.transaction()?;
        replace_shop_returns(&tx, sale_id, returns)?;
        tx.commit()?;
        Ok(())
    }

    /// A kept remote sale by its id.
    pub fn remote_sale(&self, id: Uuid) -> Result<Option<RemoteSale>> {
        remote_sale(&self.conn, &id.to_string())
    }

    /// A kept remote sale by what the customer has (receipt number or order code), the most
    /// recently fetched first.
    pub fn remote_sale_by_code(&self, code: &str) -> Result<Option<RemoteSale>> {
        let id: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT id FROM remote_sale WHERE code = ?1 OR order_code = ?1 \
                 ORDER BY fetched_at DESC LIMIT 1",
            )?
            .query_row([code.trim()], |r| r.get(0))
            .optional()?;
        match id {
            Some(id) => remote_sale(&self.conn, &id),
            None => Ok(None),
        }
    }
}
