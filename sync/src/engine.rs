//! The sync engine the app starts: the outbox worker, the pull worker (SSE hint + polling),
//! the push-hint listener and the reconciliation, on the tokio runtime, with their own SQLite
//! connection to the terminal's database, publishing a [`SyncStatus`] on a `watch` channel.
//!
//! Invariants: all state is in SQLite (the engine can be killed at any point and started again);
//! the register never waits for the engine (`nudge` only wakes the outbox worker).

use crate::clock::{Backoff, Clock, Jitter, RandomJitter, SystemClock};
use crate::connector::{CollectOutcome, Connector, ShopOrder};
use crate::outbox::OutboxContext;
use crate::pull::{self, ImportProgress, ImportReport, PullSettings};
use crate::{ShopConfig, SyncError, VendureConnector};
use pos_store::Store;
use pos_store::sync_state::IMPORT_DONE;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// What the UI's sync indicator shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStatus {
    /// The last exchange with the shop succeeded.
    pub online: bool,
    /// Events not yet delivered (sales, adjustments, hand-overs, Z reports).
    pub queued: u64,
    /// Of `queued`, the events this shop cannot take at all (Z reports to a shop whose
    /// connector has no `z_reports`): they stay on the register and are not retried with
    /// backoff (see the `outbox` module doc), so a UI should say "not deliverable", not "waiting".
    pub not_deliverable: u64,
    pub last_success: Option<OffsetDateTime>,
    /// Open stock conflicts for the manager.
    pub conflicts: u64,
    pub last_error: Option<String>,
    /// [`SyncError::kind`] of `last_error`, for a message in the user's language.
    pub last_error_kind: Option<&'static str>,
    pub last_error_at: Option<OffsetDateTime>,
    /// The catalog import (the first one, or one asked for with [`SyncHandle::request_import`]).
    pub import: ImportStatus,
}

/// Progress of the catalog import, for a progress bar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportStatus {
    pub running: bool,
    /// Variants read so far of `total` (the shop's count; 0 until the first page).
    pub done: u64,
    pub total: u64,
    /// When the last import completed.
    pub finished_at: Option<OffsetDateTime>,
    /// Why the last import failed (it is retried).
    pub error: Option<String>,
}

/// Tunables of the engine; the defaults suit a register.
#[derive(Clone)]
pub struct EngineOptions {
    /// Safety-net polling of the change feed (the SSE hint is the fast path).
    pub poll_interval: Duration,
    pub reconcile_interval: Duration,
    pub backoff: Backoff,
    pub outbox_batch: usize,
    pub page_size: u32,
    pub clock: Arc<dyn Clock>,
    pub jitter: Arc<dyn Jitter>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            poll_interval: Duration::from_secs(5),
            reconcile_interval: Duration::from_secs(15 * 60),
            backoff: Backoff::default(),
            outbox_batch: 100,
            page_size: 500,
            clock: Arc::new(SystemClock),
            jitter: Arc::new(RandomJitter),
        }
    }
}

/// The terminal-side settings the workers need besides the connector.
#[derive(Debug, Clone)]
pub struct TerminalSettings {
    /// The shop terminal identifier written on every sale.
    pub terminal_id: String,
    /// The local location whose stock follows the shop.
    pub location_id: String,
    pub prices_include_tax: bool,
}

impl TerminalSettings {
    pub fn from_config(config: &ShopConfig) -> Self {
        TerminalSettings {
            terminal_id: config.identifier.clone(),
            location_id: config.location_id.clone(),
            prices_include_tax: config.prices_include_tax,
        }
    }
}

struct Shared<C> {
    connector: Arc<C>,
    store: Mutex<Store>,
    settings: TerminalSettings,
    options: EngineOptions,
    status_tx: watch::Sender<SyncStatus>,
    /// Wakes the outbox worker (a sale was committed).
    nudge: Notify,
    /// Wakes the pull worker (the shop hinted a change).
    hint: Arc<Notify>,
    /// The shop answered again after being unreachable: retry the queue now.
    back_online: Notify,
    /// An import of the whole catalog was asked for (Settings → Web shop → Import).
    reimport: AtomicBool,
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

impl<C: Connector> Shared<C> {
    fn pull_settings(&self) -> PullSettings {
        PullSettings {
            location_id: self.settings.location_id.clone(),
            prices_include_tax: self.settings.prices_include_tax,
            page_size: self.options.page_size,
        }
    }

    /// Records the outcome of an exchange with the shop and publishes the status.
    fn report(&self, outcome: Result<(), &SyncError>) {
        let (queued, conflicts, not_deliverable) = {
            let s = lock(&self.store);
            (
                s.outbox_len().unwrap_or(0),
                s.open_stock_conflicts().unwrap_or(0),
                crate::outbox::not_deliverable_count(&s).unwrap_or(0),
            )
        };
        let now = self.options.clock.now();
        let mut came_back = false;
        self.status_tx.send_modify(|st| {
            st.queued = queued;
            st.conflicts = conflicts;
            st.not_deliverable = not_deliverable;
            match outcome {
                Ok(()) => {
                    came_back = !st.online;
                    st.online = true;
                    st.last_success = Some(now);
                }
                Err(e) => {
                    if e.is_offline() {
                        st.online = false;
                    }
                    st.last_error = Some(e.to_string());
                    st.last_error_kind = Some(e.kind());
                    st.last_error_at = Some(now);
                }
            }
        });
        if came_back {
            self.back_online.notify_one();
        }
    }

    async fn outbox_loop(self: Arc<Self>) {
        loop {
            let ctx = OutboxContext {
                connector: &*self.connector,
                store: &self.store,
                clock: &*self.options.clock,
                jitter: &*self.options.jitter,
                backoff: self.options.backoff,
                terminal_id: &self.settings.terminal_id,
                location_id: &self.settings.location_id,
                batch: self.options.outbox_batch,
            };
            let result = ctx.drain().await;
            match &result {
                Ok(r) if r.delivered > 0 => self.report(Ok(())),
                // Nothing was exchanged with the shop: only the counts changed.
                Ok(_) => {
                    let (queued, conflicts, not_deliverable) = {
                        let s = lock(&self.store);
                        (
                            s.outbox_len().unwrap_or(0),
                            s.open_stock_conflicts().unwrap_or(0),
                            crate::outbox::not_deliverable_count(&s).unwrap_or(0),
                        )
                    };
                    self.status_tx.send_modify(|st| {
                        st.queued = queued;
                        st.conflicts = conflicts;
                        st.not_deliverable = not_deliverable;
                    });
                }
                Err(e) => self.report(Err(e)),
            }
            // Say honestly why a row stays queued that this shop cannot take (outbox module doc).
            if let Ok(r) = &result
                && r.not_deliverable > 0
            {
                let e = SyncError::Unsupported(format!(
                    "{} queued event(s) cannot be delivered to this shop (Z reports); they stay on the register",
                    r.not_deliverable
                ));
                let now = self.options.clock.now();
                self.status_tx.send_modify(|st| {
                    st.last_error = Some(e.to_string());
                    st.last_error_kind = Some(e.kind());
                    st.last_error_at = Some(now);
                });
            }
            // Sleep until the next row is due, a sale is committed or the shop is back.
            let now = self.options.clock.now();
            let wait = match lock(&self.store).outbox_next_due() {
                Ok(Some(due)) if due > now => {
                    Duration::try_from(due - now).unwrap_or(Duration::ZERO)
                }
                Ok(Some(_)) => Duration::from_millis(50),
                _ => self.options.poll_interval,
            }
            .min(self.options.backoff.max);
            tokio::select! {
                _ = self.nudge.notified() => {}
                _ = self.back_online.notified() => {
                    let now = self.options.clock.now();
                    let _ = lock(&self.store).outbox_retry_all_now(now);
                }
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Imports the whole catalog, publishing its progress in the status.
    async fn import_with_progress(&self, settings: &PullSettings) -> Result<(), SyncError> {
        self.status_tx.send_modify(|st| {
            st.import.running = true;
            st.import.done = 0;
            st.import.total = 0;
            st.import.error = None;
        });
        let tx = self.status_tx.clone();
        let clock = self.options.clock.clone();
        let back_online = &self.back_online;
        let result = pull::import_catalog(
            &*self.connector,
            &self.store,
            settings,
            &*self.options.clock,
            &mut |p| {
                // A page arrived: the shop answers (a large first import takes minutes, and the
                // indicator must not say "offline" meanwhile).
                let now = clock.now();
                let mut came_back = false;
                tx.send_modify(|st| {
                    st.import.done = p.done;
                    st.import.total = p.total;
                    came_back = !st.online;
                    st.online = true;
                    st.last_success = Some(now);
                });
                if came_back {
                    back_online.notify_one();
                }
            },
        )
        .await;
        let now = self.options.clock.now();
        self.status_tx.send_modify(|st| {
            st.import.running = false;
            match &result {
                Ok(_) => st.import.finished_at = Some(now),
                Err(e) => st.import.error = Some(e.to_string()),
            }
        });
        result.map(|_| ())
    }

    async fn pull_loop(self: Arc<Self>) {
        let settings = self.pull_settings();
        // The open pickups are read whole once per start and after every import: orders placed
        // before the feed's cursor (an import, or a CLI import before this start) are not in
        // the feed after it.
        let mut pickups_fresh = false;
        loop {
            let imported = lock(&self.store)
                .sync_value(IMPORT_DONE)
                .ok()
                .flatten()
                .is_some();
            let asked = self.reimport.swap(false, Ordering::SeqCst);
            let result = if asked || !imported {
                let r = self.import_with_progress(&settings).await;
                if r.is_err() && asked {
                    // Asked for and failed (shop offline, say): try again at the next round.
                    self.reimport.store(true, Ordering::SeqCst);
                }
                pickups_fresh &= r.is_err();
                r
            } else {
                pull::pull_changes(
                    &*self.connector,
                    &self.store,
                    &settings,
                    &*self.options.clock,
                )
                .await
                .map(|report| pickups_fresh &= !report.reimported)
            };
            let result = match result {
                Ok(()) if !pickups_fresh => {
                    pull::refresh_pickups(&*self.connector, &self.store, &*self.options.clock)
                        .await
                        .map(|_| pickups_fresh = true)
                }
                other => other,
            };
            self.report(result.as_ref().map(|_| ()));
            tokio::select! {
                _ = self.hint.notified() => {}
                _ = tokio::time::sleep(self.options.poll_interval) => {}
            }
        }
    }

    async fn reconcile_loop(self: Arc<Self>) {
        let settings = self.pull_settings();
        loop {
            tokio::time::sleep(self.options.reconcile_interval).await;
            if let Err(e) = pull::reconcile(
                &*self.connector,
                &self.store,
                &settings,
                &*self.options.clock,
            )
            .await
            {
                self.report(Err(&e));
            }
        }
    }
}

/// Starts the engine. See [`SyncHandle`].
pub struct SyncEngine;

impl SyncEngine {
    /// Starts the workers for the Vendure shop in `config` on the current tokio runtime, with
    /// their own connection to the database at `db_path`. Must be called from within a tokio
    /// runtime. The status is published on `status_tx` (the UI holds the receiver).
    pub fn start(
        db_path: impl AsRef<Path>,
        config: ShopConfig,
        status_tx: watch::Sender<SyncStatus>,
    ) -> Result<SyncHandle<VendureConnector>, SyncError> {
        let connector = Arc::new(VendureConnector::new(&config)?);
        Self::start_with(
            db_path,
            connector,
            TerminalSettings::from_config(&config),
            status_tx,
            EngineOptions::default(),
        )
    }

    /// Starts the workers with any connector and options (tests inject clocks, jitter and
    /// faster intervals).
    pub fn start_with<C: Connector>(
        db_path: impl AsRef<Path>,
        connector: Arc<C>,
        settings: TerminalSettings,
        status_tx: watch::Sender<SyncStatus>,
        options: EngineOptions,
    ) -> Result<SyncHandle<C>, SyncError> {
        let store = Store::open(db_path)?;
        let status = SyncStatus {
            queued: store.outbox_len()?,
            conflicts: store.open_stock_conflicts()?,
            not_deliverable: crate::outbox::not_deliverable_count(&store)?,
            ..SyncStatus::default()
        };
        status_tx.send_replace(status);
        let push = connector.capabilities().push;
        let shared = Arc::new(Shared {
            connector,
            store: Mutex::new(store),
            settings,
            options,
            status_tx,
            nudge: Notify::new(),
            hint: Arc::new(Notify::new()),
            back_online: Notify::new(),
            reimport: AtomicBool::new(false),
        });
        let mut tasks = vec![
            tokio::spawn(shared.clone().outbox_loop()),
            tokio::spawn(shared.clone().pull_loop()),
            tokio::spawn(shared.clone().reconcile_loop()),
        ];
        if push != crate::connector::Push::PollingOnly {
            let s = shared.clone();
            tasks.push(tokio::spawn(async move {
                s.connector.push_hints(s.hint.clone()).await;
            }));
        }
        Ok(SyncHandle {
            shared,
            tasks: Mutex::new(tasks),
        })
    }
}

/// A running engine. Dropping it without [`SyncHandle::stop`] leaves the workers running
/// until the runtime shuts down.
pub struct SyncHandle<C: Connector = VendureConnector> {
    shared: Arc<Shared<C>>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl<C: Connector> SyncHandle<C> {
    /// Wakes the outbox worker at once (call right after a sale is committed).
    pub fn nudge(&self) {
        self.shared.nudge.notify_one();
    }

    /// The current status (also published on the engine's `watch` channel).
    pub fn status(&self) -> SyncStatus {
        self.shared.status_tx.borrow().clone()
    }

    /// A new receiver of the status.
    pub fn subscribe(&self) -> watch::Receiver<SyncStatus> {
        self.shared.status_tx.subscribe()
    }

    /// Click-and-collect orders waiting at this terminal's location.
    pub async fn pickups(&self) -> Result<Vec<ShopOrder>, SyncError> {
        let r = self.shared.connector.pickups().await;
        self.shared.report(r.as_ref().map(|_| ()));
        r
    }

    /// Hands a pickup over; `key` makes a repeat (double tap, retry) harmless.
    pub async fn mark_collected(
        &self,
        order_code: &str,
        key: &str,
    ) -> Result<CollectOutcome, SyncError> {
        let r = self.shared.connector.mark_collected(order_code, key).await;
        self.shared.report(r.as_ref().map(|_| ()));
        r
    }

    /// Asks the pull worker to import the whole catalog again (Settings → Web shop → Import);
    /// progress is published in [`SyncStatus::import`]. Returns at once; selling goes on.
    /// Asking while an import runs queues one more.
    pub fn request_import(&self) {
        self.shared.reimport.store(true, Ordering::SeqCst);
        self.shared.hint.notify_one();
    }

    /// Imports the catalog again with progress, in the caller's task (the CLI).
    pub async fn import(
        &self,
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> Result<ImportReport, SyncError> {
        let settings = self.shared.pull_settings();
        pull::import_catalog(
            &*self.shared.connector,
            &self.shared.store,
            &settings,
            &*self.shared.options.clock,
            progress,
        )
        .await
    }

    /// The stock conflicts for the manager's list.
    pub fn conflicts(
        &self,
        include_resolved: bool,
    ) -> Result<Vec<pos_store::sync_state::StockConflict>, SyncError> {
        Ok(lock(&self.shared.store).stock_conflicts(include_resolved)?)
    }

    /// Stops the workers. An exchange in flight is abandoned; its outbox rows stay queued
    /// and are resent (idempotently) at the next start.
    pub async fn stop(&self) {
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
    }
}
