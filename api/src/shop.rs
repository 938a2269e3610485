//! The register's side of the web shop: Settings → Web shop (address, terminal identifier,
//! password, "Test connection", "Save", "Import catalog"), the sync details panel, the pickups
//! list with "Hand over", and the managers' stock-conflict list. The engine itself is
//! `pos_sync`; this module starts, restarts and reports it.
//!
//! A child module of `register` (it works on the register's private state like the commands
//! there). Invariants:
//! * The password is only ever held as a `pos_sync::Secret`; at rest it is sealed with
//!   `pos_sync::credential` (key file `shop.key` beside the database, as the `pos-sync` CLI
//!   uses) and never returned by a command or logged.
//! * Plain `http://` is refused except to localhost, before anything is saved.
//! * `POS_SHOP_URL`/`POS_SHOP_IDENTIFIER`/`POS_SHOP_PASSWORD_FILE`, when set, win at start;
//!   otherwise the saved settings are used. Saving (re)starts the engine at once.
//! * Nothing here waits for the shop while holding the register's state lock: selling goes on
//!   during a connection test or an import.
//! * A hand-over is written to the outbox (one row per order, see `pos_store::shop`), so it works
//!   offline and reaches the shop exactly once.

use super::{Register, State};
use crate::dto::{ApiError, MoneyDto};
use crate::errors::{shop_error, store_error};
use crate::events::Event;
use pos_core::auth::Permission;
use pos_store::shop::HandOver;
use pos_sync::{Connector, Secret, ShopConfig, SyncHandle, SyncStatus, credential};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::watch;
use ts_rs::TS;

/// Settings → Web shop as the screen shows it. The password itself never leaves the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ShopSettingsDto {
    /// The shop's base URL ("" when none is set up).
    pub url: String,
    /// The terminal credential's identifier in the shop (e.g. "till-1").
    pub identifier: String,
    /// A password is saved (encrypted) for this address and identifier.
    pub password_saved: bool,
    /// The settings in use come from the POS_SHOP_* environment variables (they win at start).
    pub from_environment: bool,
    /// The sync engine is running with these settings.
    pub running: bool,
    /// The user may change them (admins); managers see them read-only.
    pub can_edit: bool,
}

/// The answer of "Test connection": the shop accepted the login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ShopTestDto {
    /// The shop's stock location of this terminal (its stock is what the register shows).
    pub stock_location_id: String,
    /// How long the login and the first query took, ms.
    pub millis: i64,
}

/// The catalog import's progress (also pushed as the `shop_import` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ShopImportDto {
    pub running: bool,
    /// Variants imported so far of `total` (0 of 0 before the first page arrives).
    pub done: i64,
    pub total: i64,
    /// RFC 3339, UTC: when the last import completed.
    pub finished_at: Option<String>,
    /// Why the last import failed (it is retried).
    pub error: Option<String>,
}

/// The sync details panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncDetailsDto {
    pub configured: bool,
    pub online: bool,
    /// Everything waiting to reach the shop: sales, returns, hand-overs, Z reports, gift-card
    /// redemptions taken offline and gift cards waiting to be loaded.
    pub queued: i64,
    /// Of those, gift-card redemptions taken offline.
    pub gift_card_redemptions_queued: i64,
    /// Gift cards sold whose money is not on the card yet (the ledger refused or could not be
    /// reached); a manager can retry them.
    pub gift_cards_waiting: Vec<GiftCardWaitingDto>,
    /// RFC 3339, UTC.
    pub last_success: Option<String>,
    /// The kind of the last error, for a message in the user's language: "unreachable",
    /// "timeout", "http", "unauthorized", "malformed", "rejected", "shop", "insecure_url",
    /// "credential", "unsupported", "store".
    pub last_error_kind: Option<String>,
    /// The last error's technical text (English, for support).
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    /// Open stock conflicts.
    pub conflicts: i64,
    /// Click-and-collect orders waiting at this store.
    pub pickups: i64,
    pub import: ShopImportDto,
}

/// A gift card sold whose money is not on the card yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GiftCardWaitingDto {
    /// Only the last four digits.
    pub masked: String,
    pub amount: MoneyDto,
    /// A top-up of a card (else a new card).
    pub top_up: bool,
    /// The receipt of the sale that sold it.
    pub receipt: Option<String>,
    pub attempts: u32,
    /// Why the last attempt failed (English, for support).
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PickupLineDto {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub total: MoneyDto,
}

/// A click-and-collect order waiting at this store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PickupDto {
    pub code: String,
    pub customer_name: Option<String>,
    /// RFC 3339, UTC.
    pub placed_at: Option<String>,
    /// The shop's order state: "PaymentSettled" (paid online) or "PaymentAuthorized" (paid at pickup).
    pub state: String,
    pub location_name: String,
    pub total: MoneyDto,
    pub lines: Vec<PickupLineDto>,
    /// Handed over here; waiting for the shop to confirm (queued when offline).
    pub handed_over: bool,
    /// Why the shop has not confirmed the hand-over yet, if it refused or failed.
    pub hand_over_error: Option<String>,
}

/// A stock conflict: a sale of goods the shop thought were out of stock (or did not know).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StockConflictDto {
    pub id: i64,
    pub sku: String,
    /// The product's name by language (empty when the SKU is not in this register's catalog).
    pub names: BTreeMap<String, String>,
    /// "INSUFFICIENT_STOCK", "UNKNOWN_SKU" or "RETURN_EXCEEDS_SALE" (returns of a line on several
    /// registers add up to more than it sold).
    pub reason: String,
    /// Units (or grams) sold.
    pub quantity: i64,
    /// What the shop had before the sale, if it knew.
    pub available_before: Option<i64>,
    pub terminal_id: Option<String>,
    pub receipt: Option<String>,
    /// RFC 3339, UTC: the sale, or when the shop reported it.
    pub at: String,
    /// RFC 3339, UTC: when a manager marked it reviewed.
    pub reviewed_at: Option<String>,
    pub reviewed_by: Option<String>,
}

/// Where the running engine's settings came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Environment,
    Saved,
}

struct Running {
    handle: Arc<SyncHandle>,
    url: String,
    identifier: String,
    source: Source,
}

/// The register's link to the sync engine: the running engine (replaced on save) and the
/// status channel the header, the panel and the events read.
pub(crate) struct ShopLink {
    running: Mutex<Option<Running>>,
    /// Held while an engine is stopped and another started, so two saves at once never leave
    /// an engine running without its handle.
    restarting: tokio::sync::Mutex<()>,
    pub(crate) status: watch::Sender<SyncStatus>,
}

impl ShopLink {
    pub(crate) fn new() -> Self {
        ShopLink {
            running: Mutex::new(None),
            restarting: tokio::sync::Mutex::new(()),
            status: watch::channel(SyncStatus::default()).0,
        }
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn handle(&self) -> Option<Arc<SyncHandle>> {
        self.guard().as_ref().map(|r| r.handle.clone())
    }

    pub(crate) fn running(&self) -> bool {
        self.guard().is_some()
    }

    /// Wakes the outbox worker (a sale or a hand-over was committed).
    pub(crate) fn nudge(&self) {
        if let Some(h) = self.handle() {
            h.nudge();
        }
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

fn import_dto(s: &SyncStatus) -> ShopImportDto {
    ShopImportDto {
        running: s.import.running,
        done: s.import.done as i64,
        total: s.import.total as i64,
        finished_at: s.import.finished_at.map(rfc3339),
        error: s.import.error.clone(),
    }
}

fn require(st: &State, permission: Permission, what: &str) -> Result<(), ApiError> {
    let user = st.require_user()?;
    if user.role.allows(permission) {
        Ok(())
    } else {
        Err(ApiError::new(
            "auth.forbidden",
            format!("only a manager or administrator may {what}"),
        ))
    }
}

impl Register {
    fn key_file(&self) -> PathBuf {
        self.config
            .db_path
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join("shop.key")
    }

    /// A shop config with this register's location and price mode.
    fn shop_config(
        &self,
        url: &str,
        identifier: &str,
        password: Secret,
    ) -> Result<ShopConfig, ApiError> {
        if identifier.trim().is_empty() {
            return Err(ApiError::new(
                "shop.identifier_required",
                "enter the terminal identifier",
            ));
        }
        let mut config =
            ShopConfig::new(url, identifier.trim(), password).map_err(|e| shop_error(e, url))?;
        config.location_id = self.config.location_id.clone();
        config.prices_include_tax =
            self.lock().settings.tax_policy.price_mode == pos_core::PriceMode::TaxInclusive;
        Ok(config)
    }

    /// The saved password, when the saved credential is for this address and identifier.
    fn saved_password(&self, url: &str, identifier: &str) -> Result<Option<Secret>, ApiError> {
        let Some(stored) = self.lock().store.shop_credential().map_err(store_error)? else {
            return Ok(None);
        };
        if stored.url != url || stored.identifier != identifier {
            return Ok(None);
        }
        let key =
            credential::load_or_create_key(&self.key_file()).map_err(|e| shop_error(e, url))?;
        Ok(Some(
            credential::open(&key, &stored).map_err(|e| shop_error(e, url))?,
        ))
    }

    /// The typed password, else the saved one for this shop; refuses a missing one.
    fn password_for(
        &self,
        url: &str,
        identifier: &str,
        password: Option<String>,
    ) -> Result<Secret, ApiError> {
        match password.filter(|p| !p.is_empty()) {
            Some(p) => Ok(Secret::new(p)),
            None => {
                let url = pos_sync::config::check_url(url).map_err(|e| shop_error(e, url))?;
                self.saved_password(&url, identifier.trim())?
                    .ok_or_else(|| {
                        ApiError::new(
                            "shop.password_required",
                            "enter the terminal's password for this shop",
                        )
                    })
            }
        }
    }

    /// Starts the engine with `config` (stopping the one running, if any).
    async fn run_engine(&self, config: ShopConfig, source: Source) -> Result<(), ApiError> {
        let _one_at_a_time = self.shop.restarting.lock().await;
        let old = self.shop.guard().take();
        if let Some(old) = old {
            old.handle.stop().await;
        }
        let (url, identifier) = (config.url.clone(), config.identifier.clone());
        self.gift_card_shop.connect(&config);
        self.remote_sales.connect(&config);
        let handle =
            pos_sync::SyncEngine::start(&self.config.db_path, config, self.shop.status.clone())
                .map_err(|e| shop_error(e, &url))?;
        *self.shop.guard() = Some(Running {
            handle: Arc::new(handle),
            url,
            identifier,
            source,
        });
        Ok(())
    }

    /// At start: the engine with the POS_SHOP_* environment (a file holding the password), else
    /// with the saved settings, else none; and the task that pushes the import's progress.
    pub(super) fn start_sync(self: &Arc<Self>) {
        let me = Arc::downgrade(self);
        let mut rx = self.shop.status.subscribe();
        tokio::spawn(async move {
            let mut last = import_dto(&rx.borrow());
            while rx.changed().await.is_ok() {
                let Some(me) = me.upgrade() else { break };
                let now = import_dto(&rx.borrow_and_update());
                if now != last {
                    me.events.emit(Event::ShopImport(now.clone()));
                    last = now;
                }
            }
        });
        let me = self.clone();
        tokio::spawn(async move {
            match me.startup_config() {
                Ok(Some((config, source))) => {
                    if let Err(e) = me.run_engine(config, source).await {
                        tracing::error!("web shop sync did not start: {}", e.message);
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::error!("web shop: {}", e.message),
            }
        });
    }

    fn startup_config(&self) -> Result<Option<(ShopConfig, Source)>, ApiError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        if let (Some(url), Some(id), Some(pw_file)) = (
            var("POS_SHOP_URL"),
            var("POS_SHOP_IDENTIFIER"),
            var("POS_SHOP_PASSWORD_FILE"),
        ) {
            let password = std::fs::read_to_string(&pw_file).map_err(|e| {
                ApiError::new("shop.credential", format!("cannot read {pw_file}: {e}"))
            })?;
            let config = self.shop_config(&url, &id, Secret::new(password.trim()))?;
            return Ok(Some((config, Source::Environment)));
        }
        let Some(stored) = self.lock().store.shop_credential().map_err(store_error)? else {
            return Ok(None);
        };
        let password = self
            .saved_password(&stored.url, &stored.identifier)?
            .ok_or_else(|| ApiError::new("shop.credential", "saved credential unreadable"))?;
        let config = self.shop_config(&stored.url, &stored.identifier, password)?;
        Ok(Some((config, Source::Saved)))
    }

    pub(super) fn shop_settings_now(&self) -> Result<ShopSettingsDto, ApiError> {
        let can_edit = {
            let st = self.lock();
            // Managers (end of day) see the settings read-only; whoever may change them sees
            // them too, so a role with only manage_settings gets the screen after a save.
            let can_edit = st.require_user()?.role.allows(Permission::ManageSettings);
            if !can_edit {
                require(&st, Permission::EndOfDay, "open the web shop settings")?;
            }
            can_edit
        };
        let stored = self.lock().store.shop_credential().map_err(store_error)?;
        let running = self
            .shop
            .guard()
            .as_ref()
            .map(|r| (r.url.clone(), r.identifier.clone(), r.source));
        let (url, identifier, from_environment) = match (&running, &stored) {
            (Some((u, i, s)), _) => (u.clone(), i.clone(), *s == Source::Environment),
            (None, Some(c)) => (c.url.clone(), c.identifier.clone(), false),
            (None, None) => (String::new(), String::new(), false),
        };
        let password_saved = stored
            .as_ref()
            .is_some_and(|c| c.url == url && c.identifier == identifier);
        Ok(ShopSettingsDto {
            url,
            identifier,
            password_saved,
            from_environment,
            running: running.is_some(),
            can_edit,
        })
    }

    fn require_admin(&self) -> Result<(), ApiError> {
        let st = self.lock();
        let user = st.require_user()?;
        if user.role.allows(Permission::ManageSettings) {
            Ok(())
        } else {
            Err(ApiError::new(
                "auth.forbidden",
                "only an administrator may change the web shop settings",
            ))
        }
    }

    pub(super) async fn test_shop_connection_now(
        &self,
        url: String,
        identifier: String,
        password: Option<String>,
    ) -> Result<ShopTestDto, ApiError> {
        self.require_admin()?;
        let password = self.password_for(&url, &identifier, password)?;
        let config = self.shop_config(&url, &identifier, password)?;
        let started = std::time::Instant::now();
        let connector =
            pos_sync::VendureConnector::new(&config).map_err(|e| shop_error(e, &url))?;
        let who = connector
            .who_am_i()
            .await
            .map_err(|e| shop_error(e, &url))?;
        Ok(ShopTestDto {
            stock_location_id: who.stock_location_id,
            millis: started.elapsed().as_millis() as i64,
        })
    }

    pub(super) async fn save_shop_settings_now(
        &self,
        url: String,
        identifier: String,
        password: Option<String>,
    ) -> Result<ShopSettingsDto, ApiError> {
        self.require_admin()?;
        let password = self.password_for(&url, &identifier, password)?;
        let config = self.shop_config(&url, &identifier, password)?;
        let key =
            credential::load_or_create_key(&self.key_file()).map_err(|e| shop_error(e, &url))?;
        let sealed = credential::seal(&key, &config.url, &config.identifier, &config.password)
            .map_err(|e| shop_error(e, &url))?;
        let now = self.now();
        {
            // Audited (staff.rs) with the address and identifier, never the password.
            let mut st = self.lock();
            let before = st.store.shop_credential().map_err(store_error)?;
            st.settings_audit(
                now,
                "shop_settings_saved",
                before.map_or(
                    serde_json::Value::Null,
                    |c| serde_json::json!({"url": c.url, "identifier": c.identifier}),
                ),
                serde_json::json!({"url": config.url, "identifier": config.identifier}),
            )?;
        }
        self.lock()
            .store
            .save_shop_credential(&sealed, now)
            .map_err(store_error)?;
        tracing::info!(url = %config.url, identifier = %config.identifier, "web shop settings saved");
        self.run_engine(config, Source::Saved).await?;
        self.shop_settings_now()
    }

    pub(super) fn import_shop_catalog_now(&self) -> Result<ShopImportDto, ApiError> {
        self.require_admin()?;
        let handle = self.shop.handle().ok_or_else(|| {
            ApiError::new(
                "shop.not_configured",
                "no web shop is set up for this terminal",
            )
        })?;
        handle.request_import();
        Ok(import_dto(&self.shop.status.borrow()))
    }

    /// Tries again to load the gift cards sold whose money is not on the card yet.
    pub(super) fn retry_gift_card_activations_now(&self) -> Result<SyncDetailsDto, ApiError> {
        self.lock().require_user()?;
        self.activate_pending_gift_cards();
        self.sync_details_now()
    }

    pub(super) fn sync_details_now(&self) -> Result<SyncDetailsDto, ApiError> {
        let (pickups, waiting) = {
            let st = self.lock();
            st.require_user()?;
            let waiting = st
                .store
                .pending_gift_card_activations(100)
                .map_err(store_error)?;
            let waiting = waiting
                .into_iter()
                .map(|a| {
                    let receipt = uuid::Uuid::parse_str(&a.sale_id)
                        .ok()
                        .and_then(|id| st.store.sale_by_id(id).ok().flatten())
                        .map(|s| s.receipt().to_string());
                    GiftCardWaitingDto {
                        masked: super::tenders::mask_number(&a.number),
                        amount: a.amount.into(),
                        top_up: a.load == pos_store::gift_cards::Load::TopUp,
                        receipt,
                        attempts: a.attempts,
                        last_error: a.last_error,
                    }
                })
                .collect::<Vec<_>>();
            (
                st.store.pickups().map_err(store_error)?.len() as i64,
                waiting,
            )
        };
        let (queued, redemptions) = self.queued_for_shop()?;
        let s = self.shop.status.borrow().clone();
        let conflicts = self
            .lock()
            .store
            .open_stock_conflicts()
            .map_err(store_error)? as i64;
        Ok(SyncDetailsDto {
            configured: self.shop.running(),
            online: s.online,
            queued,
            gift_card_redemptions_queued: redemptions,
            gift_cards_waiting: waiting,
            last_success: s.last_success.map(rfc3339),
            last_error_kind: s.last_error_kind.map(str::to_owned),
            last_error: s.last_error.clone(),
            last_error_at: s.last_error_at.map(rfc3339),
            conflicts,
            pickups,
            import: import_dto(&s),
        })
    }

    pub(super) fn pickups_now(&self) -> Result<Vec<PickupDto>, ApiError> {
        let st = self.lock();
        st.require_user()?;
        let list = st.store.pickups().map_err(store_error)?;
        Ok(list
            .into_iter()
            .map(|p| {
                let currency = p.order.currency.clone();
                let money = |minor: i64| MoneyDto {
                    minor,
                    currency: currency.clone(),
                };
                PickupDto {
                    total: money(p.order.total_minor),
                    lines: p
                        .order
                        .lines
                        .iter()
                        .map(|l| PickupLineDto {
                            sku: l.sku.clone(),
                            name: l.name.clone(),
                            quantity: l.quantity,
                            total: money(l.line_total_minor),
                        })
                        .collect(),
                    code: p.order.code,
                    customer_name: p.order.customer_name,
                    placed_at: p.order.placed_at,
                    state: p.order.state,
                    location_name: p.order.location_name,
                    handed_over: p.handed_over_at.is_some(),
                    hand_over_error: p.hand_over_error,
                }
            })
            .collect())
    }

    pub(super) fn hand_over_pickup_now(
        &self,
        order_code: String,
    ) -> Result<Vec<PickupDto>, ApiError> {
        let now = self.now();
        {
            let mut st = self.lock();
            require(&st, Permission::Sell, "hand over orders")?;
            match st
                .store
                .hand_over_pickup(order_code.trim(), now)
                .map_err(store_error)?
            {
                HandOver::Queued => {}
                HandOver::AlreadyHandedOver => {
                    return Err(ApiError::new(
                        "shop.already_handed_over",
                        "this order was already handed over",
                    )
                    .with("code", order_code.trim()));
                }
                HandOver::NotFound => {
                    return Err(ApiError::new(
                        "shop.pickup_not_found",
                        "no order with that code is waiting at this store",
                    )
                    .with("code", order_code.trim()));
                }
            }
        }
        self.shop.nudge();
        self.pickups_now()
    }

    pub(super) fn stock_conflicts_now(
        &self,
        include_reviewed: bool,
    ) -> Result<Vec<StockConflictDto>, ApiError> {
        let st = self.lock();
        require(&st, Permission::EndOfDay, "see stock conflicts")?;
        let list = st
            .store
            .conflict_details(include_reviewed)
            .map_err(store_error)?;
        Ok(list
            .into_iter()
            .map(|d| {
                let c = d.conflict;
                StockConflictDto {
                    id: c.id,
                    sku: c.record.sku,
                    names: d.names,
                    reason: c.record.reason,
                    quantity: c.record.requested,
                    available_before: c.record.available_before,
                    terminal_id: d.terminal_id,
                    receipt: d.receipt,
                    at: rfc3339(d.sold_at.unwrap_or(c.reported_at)),
                    reviewed_at: c.resolved_at.map(rfc3339),
                    reviewed_by: c
                        .resolution
                        .map(|r| r.strip_prefix("reviewed by ").unwrap_or(&r).to_owned()),
                }
            })
            .collect())
    }

    pub(super) fn review_stock_conflict_now(
        &self,
        id: i64,
    ) -> Result<Vec<StockConflictDto>, ApiError> {
        let now = self.now();
        {
            let mut st = self.lock();
            require(&st, Permission::EndOfDay, "review stock conflicts")?;
            let name = st.require_user()?.name.clone();
            let open = st
                .store
                .stock_conflicts(false)
                .map_err(store_error)?
                .iter()
                .any(|c| c.id == id);
            if !open {
                return Err(ApiError::new(
                    "shop.conflict_not_found",
                    "that conflict is not open (already reviewed?)",
                ));
            }
            st.store
                .resolve_stock_conflict(id, &format!("reviewed by {name}"), now)
                .map_err(store_error)?;
        }
        // The header's count follows at once.
        let open = self
            .lock()
            .store
            .open_stock_conflicts()
            .map_err(store_error)?;
        self.shop.status.send_modify(|s| s.conflicts = open);
        self.stock_conflicts_now(false)
    }
}
