//! The pull side: the initial catalog import with progress, the change-feed reader and the
//! periodic stock reconciliation.
//!
//! Invariants:
//! * The feed cursor is stored in the same transaction as the changes read before it
//!   (`Store::apply_shop_changes`), so a crash re-reads at most one page, and applying the same
//!   page twice is harmless (each item is the entity's current state: de-duplication by
//!   construction; within a page the last state of an entity wins).
//! * The import reads `latestCursor` BEFORE the first page and stores it only after the last,
//!   so changes made during the import are read from the feed afterwards.
//! * The register's stock is the shop's sellable figure minus this location's sales not yet
//!   delivered (see `pos_store::sync_state`). The register never writes an absolute stock value
//!   to the shop; [`write_counted_stock`] (a manager's count) is the only absolute write and it
//!   is compare-and-set.
//! * All times are UTC.

use crate::clock::Clock;
use crate::connector::{
    Connector, SetStockOutcome, ShopOrder, ShopStock, ShopVariant, WriteStatus,
};
use crate::{SyncError, mapping};
use pos_store::Store;
use pos_store::shop::{PickupLine, PickupOrder};
use pos_store::sync_state::{CURSOR, StockDrift};
use std::collections::HashMap;
use std::sync::Mutex;

pub use pos_store::sync_state::SHOP_LOCATION;

/// Progress of an import: variants read so far of the shop's total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub variants: u64,
    pub skipped: u64,
    pub pages: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullReport {
    pub changes: usize,
    pub pages: usize,
    pub orders_changed: bool,
    /// The shop's database was replaced; the catalog was imported again.
    pub reimported: bool,
}

/// What pulling needs to know about the terminal.
#[derive(Debug, Clone)]
pub struct PullSettings {
    pub location_id: String,
    pub prices_include_tax: bool,
    /// Page size for the catalog and the feed (clamped to the connector's maximum).
    pub page_size: u32,
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

fn apply(
    store: &Mutex<Store>,
    settings: &PullSettings,
    clock: &dyn Clock,
    variants: &[ShopVariant],
    stock: &[ShopStock],
    cursor: Option<&str>,
) -> Result<usize, SyncError> {
    let mut store = lock(store);
    let mapped = mapping::map_changes(&store, variants, stock, settings.prices_include_tax)?;
    store.apply_shop_changes(
        &mapped.batch,
        &mapped.stock,
        &settings.location_id,
        cursor,
        clock.now(),
    )?;
    Ok(mapped.skipped)
}

/// Imports the whole catalog page by page, calling `progress` after each page.
pub async fn import_catalog<C: Connector>(
    connector: &C,
    store: &Mutex<Store>,
    settings: &PullSettings,
    clock: &dyn Clock,
    progress: &mut (dyn FnMut(ImportProgress) + Send),
) -> Result<ImportReport, SyncError> {
    let who = connector.who_am_i().await?;
    let take = settings
        .page_size
        .clamp(1, connector.capabilities().max_page_size);
    let mut report = ImportReport::default();
    let mut after: Option<String> = None;
    let mut page = connector.catalog_page(None, take).await?;
    loop {
        report.pages += 1;
        report.variants += page.items.len() as u64;
        let next_after = if page.has_more {
            match &page.next_after {
                Some(next) if Some(next) != after.as_ref() => Some(next.clone()),
                _ => {
                    return Err(SyncError::malformed(
                        "posCatalogPage",
                        "hasMore without a new nextAfter",
                    ));
                }
            }
        } else {
            None
        };
        // Pipelined: the next page is requested before this one is written, so the database
        // work overlaps the shop's (the request is in flight on the connection task meanwhile).
        let (next, applied) = tokio::join!(
            async {
                match &next_after {
                    Some(a) => Some(connector.catalog_page(Some(a), take).await),
                    None => None,
                }
            },
            async {
                tokio::task::yield_now().await;
                apply(store, settings, clock, &page.items, &[], None)
            }
        );
        report.skipped += applied? as u64;
        progress(ImportProgress {
            done: report.variants,
            total: page.total_items.max(report.variants),
        });
        match next {
            Some(next) => {
                page = next?;
                after = next_after;
            }
            None => break,
        }
    }
    lock(store).finish_import(&who.latest_cursor, &who.stock_location_id, clock.now())?;
    Ok(report)
}

/// Splits orders from the shop into open click-and-collect orders at this store and orders to
/// drop from the local list (collected, cancelled, not a pickup here, not placed).
fn pickup_changes(
    orders: impl IntoIterator<Item = ShopOrder>,
    shop_location: Option<&str>,
) -> (Vec<PickupOrder>, Vec<String>) {
    let mut open = Vec::new();
    let mut closed = Vec::new();
    for o in orders {
        let here = o
            .pickup
            .as_ref()
            .is_some_and(|p| shop_location.is_none_or(|l| l == p.location_id));
        if !here || o.collected || o.state == "Cancelled" || o.placed_at.is_none() {
            closed.push(o.code);
            continue;
        }
        open.push(PickupOrder {
            location_name: o.pickup.map(|p| p.location_name).unwrap_or_default(),
            lines: o
                .lines
                .into_iter()
                .map(|l| PickupLine {
                    sku: l.sku,
                    name: l.name,
                    quantity: l.quantity,
                    line_total_minor: l.line_price_with_tax_minor,
                })
                .collect(),
            code: o.code,
            state: o.state,
            customer_name: o.customer_name,
            placed_at: o.placed_at,
            currency: o.currency_code,
            total_minor: o.total_with_tax_minor,
        });
    }
    (open, closed)
}

/// Replaces the local list of open pickups with the shop's (`posPickups`), keeping those
/// handed over here and not yet confirmed. Needed after an import: pickups placed before the
/// import's cursor are not in the feed after it (the engine calls it at start and after each
/// import).
pub async fn refresh_pickups<C: Connector>(
    connector: &C,
    store: &Mutex<Store>,
    clock: &dyn Clock,
) -> Result<usize, SyncError> {
    let orders = connector.pickups().await?;
    let mut s = lock(store);
    let location = s.sync_value(SHOP_LOCATION)?;
    let (open, _) = pickup_changes(orders, location.as_deref());
    let stale: Vec<String> = s
        .pickups()?
        .into_iter()
        .filter(|p| p.handed_over_at.is_none() && !open.iter().any(|o| o.code == p.order.code))
        .map(|p| p.order.code)
        .collect();
    s.apply_pickups(&open, &stale, clock.now())?;
    Ok(open.len())
}

/// Reads the change feed from the stored cursor until it is exhausted.
pub async fn pull_changes<C: Connector>(
    connector: &C,
    store: &Mutex<Store>,
    settings: &PullSettings,
    clock: &dyn Clock,
) -> Result<PullReport, SyncError> {
    let limit = settings
        .page_size
        .clamp(1, connector.capabilities().max_page_size);
    let mut report = PullReport::default();
    loop {
        let cursor = lock(store).sync_value(CURSOR)?;
        let page = connector.changes(cursor.as_deref(), limit).await?;
        if page.reset_required {
            if report.reimported {
                return Err(SyncError::malformed(
                    "posChanges",
                    "reset required again right after a re-import",
                ));
            }
            tracing::warn!("the shop's change feed was reset: importing the catalog again");
            import_catalog(connector, store, settings, clock, &mut |_| {}).await?;
            report.reimported = true;
            continue;
        }
        report.pages += 1;
        report.changes += page.items.len();
        // Last state of each entity in the page wins.
        let mut variants: HashMap<String, ShopVariant> = HashMap::new();
        let mut stock: HashMap<String, ShopStock> = HashMap::new();
        let mut orders: HashMap<String, ShopOrder> = HashMap::new();
        for change in page.items {
            if let Some(v) = change.variant {
                stock.remove(&v.sku);
                variants.insert(v.id.clone(), v);
            }
            if let Some(s) = change.stock {
                stock.insert(s.sku.clone(), s);
            }
            if let Some(o) = change.order {
                report.orders_changed = true;
                orders.insert(o.code.clone(), o);
            }
        }
        if !orders.is_empty() {
            // Written before the cursor moves: a crash re-reads the page, and writing the same
            // state of an order twice changes nothing.
            let mut s = lock(store);
            let location = s.sync_value(SHOP_LOCATION)?;
            let (open, closed) = pickup_changes(orders.into_values(), location.as_deref());
            s.apply_pickups(&open, &closed, clock.now())?;
        }
        let variants: Vec<ShopVariant> = variants.into_values().collect();
        let stock: Vec<ShopStock> = stock.into_values().collect();
        apply(
            store,
            settings,
            clock,
            &variants,
            &stock,
            Some(&page.next_cursor),
        )?;
        if !page.has_more {
            return Ok(report);
        }
        if cursor.as_deref() == Some(page.next_cursor.as_str()) {
            // The shop holds the cursor (an id gap younger than 5 s): look again later.
            return Ok(report);
        }
    }
}

/// Compares the register's stock with the shop's (after undelivered local sales) for the whole
/// catalog, records every difference as drift and corrects the register's figure.
pub async fn reconcile<C: Connector>(
    connector: &C,
    store: &Mutex<Store>,
    settings: &PullSettings,
    clock: &dyn Clock,
) -> Result<Vec<StockDrift>, SyncError> {
    let take = settings
        .page_size
        .clamp(1, connector.capabilities().max_page_size);
    let mut after: Option<String> = None;
    let mut drift = Vec::new();
    loop {
        let page = connector.catalog_page(after.as_deref(), take).await?;
        {
            let mut s = lock(store);
            let skus: Vec<&str> = page.items.iter().map(|v| v.sku.as_str()).collect();
            let linked = s.variants_by_sku(&skus)?;
            let pending = s.undelivered_sale_quantities(&settings.location_id)?;
            let mut page_drift = Vec::new();
            for v in &page.items {
                let Some(l) = linked.get(&v.sku) else {
                    continue;
                };
                let expected = v.stock.sellable - pending.get(&l.variant_id).copied().unwrap_or(0);
                let local = s.stock_on_hand(&l.variant_id, &settings.location_id)?;
                if local != Some(expected) {
                    page_drift.push(StockDrift {
                        variant_id: l.variant_id.clone(),
                        sku: v.sku.clone(),
                        location_id: settings.location_id.clone(),
                        local_on_hand: local,
                        expected,
                    });
                }
            }
            if !page_drift.is_empty() {
                tracing::warn!(
                    count = page_drift.len(),
                    "stock drift between register and shop"
                );
                s.record_stock_drift(&page_drift, clock.now())?;
                drift.extend(page_drift);
            }
        }
        if !page.has_more {
            return Ok(drift);
        }
        match page.next_after {
            Some(next) if Some(&next) != after.as_ref() => after = Some(next),
            _ => return Ok(drift),
        }
    }
}

/// Writes a manager's stock count to the shop: an absolute value, so only if the shop's on-hand
/// is still what the count was based on (`expected_on_hand`); `STALE` means re-read and recount.
pub async fn write_counted_stock<C: Connector>(
    connector: &C,
    key: &str,
    sku: &str,
    expected_on_hand: i64,
    counted: i64,
) -> Result<SetStockOutcome, SyncError> {
    let outcome = connector
        .set_stock_if_unchanged(key, sku, expected_on_hand, counted)
        .await?;
    if outcome.status == WriteStatus::Stale {
        tracing::info!(
            sku,
            "stock count is stale: the shop's stock changed meanwhile"
        );
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::{PickupLocation, ShopOrderLine};

    fn order(code: &str, location: Option<&str>, state: &str, collected: bool) -> ShopOrder {
        ShopOrder {
            id: code.into(),
            code: code.into(),
            state: state.into(),
            source: "web".into(),
            pos_sale_id: None,
            placed_at: Some("2026-11-22T09:00:00Z".into()),
            customer_name: Some("Ana".into()),
            currency_code: "EUR".into(),
            total_with_tax_minor: 1299,
            lines: vec![ShopOrderLine {
                sku: "A".into(),
                name: "A".into(),
                quantity: 1,
                unit_price_with_tax_minor: 1299,
                line_price_with_tax_minor: 1299,
            }],
            pickup: location.map(|l| PickupLocation {
                location_id: l.into(),
                location_name: format!("Store {l}"),
            }),
            collected,
        }
    }

    #[test]
    fn only_open_pickups_at_this_store_are_kept_the_rest_leave_the_list() {
        let (open, closed) = pickup_changes(
            [
                order("HERE", Some("1"), "PaymentSettled", false),
                order("PAY-IN-STORE", Some("1"), "PaymentAuthorized", false),
                order("OTHER-STORE", Some("2"), "PaymentSettled", false),
                order("DELIVERY", None, "PaymentSettled", false),
                order("COLLECTED", Some("1"), "Delivered", true),
                order("CANCELLED", Some("1"), "Cancelled", false),
            ],
            Some("1"),
        );
        let codes: Vec<&str> = open.iter().map(|o| o.code.as_str()).collect();
        assert_eq!(codes, ["HERE", "PAY-IN-STORE"]);
        assert_eq!(open[0].location_name, "Store 1");
        assert_eq!(open[0].lines[0].line_total_minor, 1299);
        assert_eq!(
            closed,
            ["OTHER-STORE", "DELIVERY", "COLLECTED", "CANCELLED"]
        );
    }
}
