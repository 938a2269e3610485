//! What the register keeps of the web shop for its screens: the open click-and-collect orders
//! of this store (read from the shop's change feed) with their hand-over queued through the
//! outbox, and the stock conflicts with what a manager needs to judge them (product name,
//! terminal, receipt, time).
//!
//! Invariants:
//! * An open pickup is one `sync_state` row `pickup:<order code>` holding the order as JSON. It
//!   is written from the shop's current state of the order, so applying the same change twice
//!   changes nothing, and it is removed once the shop says the order is collected or cancelled
//!   (or once this terminal's hand-over is confirmed).
//! * Handing a pickup over writes ONE outbox row (kind [`PICKUP_COLLECTED`], idempotency key
//!   `pickup:<order code>`) in one transaction; a second hand-over of the same order is refused
//!   before anything is written, so the shop is asked once and a resend is harmless (the shop
//!   keeps the key).
//! * Conflicts are never deleted: reviewing one stamps it (`resolved_at`, `resolution`).

use crate::outbox::enqueue;
use crate::sync_state::StockConflict;
use crate::{Result, Store, StoreError, from_unix_ms, unix_ms};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Outbox kind of a pickup handed over at the register. Payload: `{"orderCode": "…"}`.
pub const PICKUP_COLLECTED: &str = "pickup.collected";

const PREFIX: &str = "pickup:";
/// The key range of pickup rows: `PREFIX` ≤ key < `PREFIX_END` (';' follows ':').
const PREFIX_END: &str = "pickup;";

fn key(code: &str) -> String {
    format!("{PREFIX}{code}")
}

/// The idempotency key of a pickup's hand-over (also its `sync_state` key).
pub fn hand_over_key(code: &str) -> String {
    key(code)
}

/// One line of a pickup order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PickupLine {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    /// With tax, minor units of the order's currency.
    pub line_total_minor: i64,
}

/// A click-and-collect order waiting at this store, as the shop last described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PickupOrder {
    pub code: String,
    /// The shop's order state, e.g. `PaymentSettled` or `PaymentAuthorized` (paid at pickup).
    pub state: String,
    pub customer_name: Option<String>,
    /// RFC 3339, UTC, as the shop gives it.
    pub placed_at: Option<String>,
    pub currency: String,
    pub total_minor: i64,
    pub location_name: String,
    pub lines: Vec<PickupLine>,
}

/// An open pickup with what this terminal did about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pickup {
    pub order: PickupOrder,
    /// Handed over at this terminal; the shop has not confirmed it yet (queued).
    pub handed_over_at: Option<OffsetDateTime>,
    /// Why the shop has not taken the hand-over yet (last delivery error), if it failed.
    pub hand_over_error: Option<String>,
}

/// What [`Store::hand_over_pickup`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandOver {
    /// Queued for the shop (delivered by the sync worker, also after a restart).
    Queued,
    /// This order was already handed over here; nothing was written.
    AlreadyHandedOver,
    /// No open pickup with that code at this store.
    NotFound,
}

/// A stock conflict with the names and facts a manager's list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictDetails {
    pub conflict: StockConflict,
    /// The product's name by language (empty when the SKU is not in the local catalog).
    pub names: BTreeMap<String, String>,
    /// Terminal and receipt of the sale that caused it (when it was a sale of this register).
    pub terminal_id: Option<String>,
    pub receipt: Option<String>,
    pub sold_at: Option<OffsetDateTime>,
}

impl Store {
    /// Applies the shop's current state of some orders: `open` pickups are stored (or updated),
    /// orders in `closed` (collected, cancelled, not a pickup here) are removed. One transaction.
    pub fn apply_pickups(
        &mut self,
        open: &[PickupOrder],
        closed: &[String],
        now: OffsetDateTime,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        let ms = unix_ms(now);
        {
            let mut put = tx.prepare_cached(
                "INSERT INTO sync_state (key, value, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )?;
            for o in open {
                let json = serde_json::to_string(o)
                    .map_err(|e| StoreError::Invalid(format!("pickup {}: {e}", o.code)))?;
                put.execute(params![key(&o.code), json, ms])?;
            }
            let mut del = tx.prepare_cached("DELETE FROM sync_state WHERE key = ?1")?;
            for code in closed {
                del.execute([key(code)])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The open pickups of this store, oldest order first.
    pub fn pickups(&self) -> Result<Vec<Pickup>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.value, o.created_at, o.last_error FROM sync_state s \
             LEFT JOIN outbox o ON o.idempotency_key = s.key \
             WHERE s.key >= ?1 AND s.key < ?2",
        )?;
        let rows = stmt
            .query_map([PREFIX, PREFIX_END], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = rows
            .into_iter()
            .map(|(json, at, error)| {
                let order: PickupOrder = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("stored pickup: {e}")))?;
                Ok(Pickup {
                    order,
                    handed_over_at: at.map(from_unix_ms).transpose()?,
                    hand_over_error: error,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.sort_by(|a, b| {
            (&a.order.placed_at, &a.order.code).cmp(&(&b.order.placed_at, &b.order.code))
        });
        Ok(out)
    }

    /// Hands a pickup over: queues the shop's "collected" for it, exactly once per order.
    pub fn hand_over_pickup(&mut self, code: &str, now: OffsetDateTime) -> Result<HandOver> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let k = key(code);
        let open: bool = tx
            .prepare_cached("SELECT 1 FROM sync_state WHERE key = ?1")?
            .query_row([&k], |_| Ok(()))
            .optional()?
            .is_some();
        if !open {
            return Ok(HandOver::NotFound);
        }
        let queued = tx
            .prepare_cached("SELECT 1 FROM outbox WHERE idempotency_key = ?1")?
            .query_row([&k], |_| Ok(()))
            .optional()?
            .is_some();
        if queued {
            return Ok(HandOver::AlreadyHandedOver);
        }
        let payload = serde_json::json!({ "orderCode": code }).to_string();
        enqueue(&tx, PICKUP_COLLECTED, code, &k, &payload, now)?;
        tx.commit()?;
        Ok(HandOver::Queued)
    }

    /// The shop confirmed a hand-over (outbox row `outbox_id`): the row is delivered and the
    /// pickup leaves the list, in one transaction.
    pub fn finish_pickup_hand_over(
        &mut self,
        outbox_id: i64,
        code: &str,
        at: OffsetDateTime,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE outbox SET delivered_at = ?2, attempts = attempts + 1, last_error = NULL \
             WHERE id = ?1 AND delivered_at IS NULL",
            params![outbox_id, unix_ms(at)],
        )?;
        if n != 1 {
            return Err(StoreError::Invalid(format!(
                "outbox message {outbox_id} does not exist or was already delivered"
            )));
        }
        tx.execute("DELETE FROM sync_state WHERE key = ?1", [key(code)])?;
        tx.commit()?;
        Ok(())
    }

    /// The stock conflicts with product names, terminal and receipt, oldest first.
    pub fn conflict_details(&self, include_reviewed: bool) -> Result<Vec<ConflictDetails>> {
        let conflicts = self.stock_conflicts(include_reviewed)?;
        let mut names = self.conn.prepare_cached(
            "SELECT n.lang, n.name FROM variant v JOIN product_name n ON n.product_id = v.product_id \
             WHERE v.sku = ?1",
        )?;
        let mut sale = self
            .conn
            .prepare_cached("SELECT terminal_id, series, number, at FROM sale WHERE id = ?1")?;
        let mut out = Vec::with_capacity(conflicts.len());
        for c in conflicts {
            let names: BTreeMap<String, String> = names
                .query_map([&c.record.sku], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let sold = match &c.record.sale_id {
                Some(id) => sale
                    .query_row([id], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    })
                    .optional()?,
                None => None,
            };
            let (terminal_id, receipt, sold_at) = match sold {
                Some((t, series, number, at)) => (
                    Some(t),
                    Some(format!("{series}-{number:06}")),
                    Some(from_unix_ms(at)?),
                ),
                None => (None, None, None),
            };
            out.push(ConflictDetails {
                conflict: c,
                names,
                terminal_id,
                receipt,
                sold_at,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync_state::StockConflictRecord;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

    fn order(code: &str, placed: &str) -> PickupOrder {
        PickupOrder {
            code: code.into(),
            state: "PaymentSettled".into(),
            customer_name: Some("Hana Sato".into()),
            placed_at: Some(placed.into()),
            currency: "USD".into(),
            total_minor: 2400,
            location_name: "Store Madrid".into(),
            lines: vec![PickupLine {
                sku: "TS-1".into(),
                name: "T-Shirt".into(),
                quantity: 2,
                line_total_minor: 2400,
            }],
        }
    }

    #[test]
    fn a_pickup_is_handed_over_once_and_leaves_the_list_when_the_shop_confirms() {
        let mut s = Store::open_in_memory().unwrap();
        s.apply_pickups(
            &[
                order("B2", "2026-03-02T08:30:00Z"),
                order("A1", "2026-03-02T08:00:00Z"),
            ],
            &[],
            T0,
        )
        .unwrap();
        // The same state read again (a page re-read after a crash) changes nothing.
        s.apply_pickups(&[order("A1", "2026-03-02T08:00:00Z")], &[], T0)
            .unwrap();
        let list = s.pickups().unwrap();
        let codes: Vec<&str> = list.iter().map(|p| p.order.code.as_str()).collect();
        assert_eq!(codes, ["A1", "B2"], "oldest first");
        assert_eq!(list[0].order.lines[0].quantity, 2);
        assert!(list[0].handed_over_at.is_none());

        assert_eq!(s.hand_over_pickup("A1", T0).unwrap(), HandOver::Queued);
        assert_eq!(
            s.hand_over_pickup("A1", T0).unwrap(),
            HandOver::AlreadyHandedOver,
            "a double tap queues nothing more"
        );
        assert_eq!(s.hand_over_pickup("ZZ", T0).unwrap(), HandOver::NotFound);
        assert_eq!(
            s.outbox_len().unwrap(),
            1,
            "exactly one message for the shop"
        );
        let msg = &s.outbox_pending(10, T0).unwrap()[0];
        assert_eq!(msg.kind, PICKUP_COLLECTED);
        assert_eq!(msg.idempotency_key, "pickup:A1");
        assert_eq!(msg.payload, r#"{"orderCode":"A1"}"#);
        assert_eq!(s.pickups().unwrap()[0].handed_over_at, Some(T0));

        s.finish_pickup_hand_over(msg.id, "A1", T0).unwrap();
        let codes: Vec<String> = s
            .pickups()
            .unwrap()
            .into_iter()
            .map(|p| p.order.code)
            .collect();
        assert_eq!(codes, ["B2"]);
        assert_eq!(s.outbox_len().unwrap(), 0);

        // Collected or cancelled in the shop: gone from the list.
        s.apply_pickups(&[], &["B2".into()], T0).unwrap();
        assert!(s.pickups().unwrap().is_empty());
    }

    #[test]
    fn a_reviewed_conflict_is_kept_with_its_facts() {
        let mut s = Store::open_in_memory().unwrap();
        s.record_stock_conflicts(
            &[StockConflictRecord {
                shop_conflict_id: Some("c1".into()),
                sale_id: Some("no-such-sale".into()),
                sku: "UNKNOWN".into(),
                reason: "INSUFFICIENT_STOCK".into(),
                requested: 3,
                available_before: Some(1),
            }],
            T0,
        )
        .unwrap();
        let list = s.conflict_details(false).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].conflict.record.requested, 3);
        assert!(list[0].names.is_empty() && list[0].terminal_id.is_none());
        s.resolve_stock_conflict(list[0].conflict.id, "reviewed by Marta", T0)
            .unwrap();
        assert!(s.conflict_details(false).unwrap().is_empty());
        let all = s.conflict_details(true).unwrap();
        assert_eq!(all.len(), 1, "never dropped");
        assert_eq!(
            all[0].conflict.resolution.as_deref(),
            Some("reviewed by Marta")
        );
    }
}
