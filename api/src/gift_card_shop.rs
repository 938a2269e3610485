//! Gift cards kept by the web shop: a [`GiftCardLedger`] over `pos_sync`'s gift-card methods, so
//! a card sold or topped up at one register (or online) is redeemable at every register and in
//! the storefront, from one balance in the shop's plugin.
//!
//! [`ShopGiftCards`] wraps the terminal's own ledger: while no shop with the `gift_cards`
//! capability is connected, every call goes to the local ledger as before; once one is
//! connected, cards live in the shop. When the shop cannot be reached, the store's
//! [`OfflinePolicy`] decides: refuse, or allow up to a per-card limit (minor units), recorded in
//! `shop_gift_card_op` and delivered later by a background worker.
//!
//! Invariants:
//! * A redeem's idempotency key at the shop is the register's tender key, online and queued
//!   alike, so a redemption whose answer was lost and that was then queued is taken once.
//! * Offline, the redemptions queued for one card never add up to more than the policy's limit
//!   (and never more than the last balance this terminal saw, less what it queued).
//! * A queued redemption is delivered exactly once (claimed `queued → sending` before the call;
//!   the shop dedupes the key if the answer is lost); the shop's refusal (balance short, unknown
//!   or blocked card) makes it `flagged`: listed for a manager, never dropped.
//! * A release gives back exactly what the redeem took, once: a redeem still queued is cancelled
//!   (never sent), a delivered one is released at the shop (queued too when offline).
//! * Issuing and topping up need the shop (no money is put on a card offline).
//! * The ledger trait is synchronous: shop calls run on this module's own runtime thread and are
//!   bounded by [`ShopGiftCards::timeout`]; nothing here holds a lock across a shop call.

use super::tenders::GiftCardLedger;
use super::{Register, State};
use crate::dto::{ApiError, MoneyDto};
use crate::errors::store_error;
use pos_core::auth::Permission;
use pos_core::{Currency, Money};
use pos_store::Store;
use pos_store::gift_cards::{
    EntryKind, GiftCard, GiftCardEntry, LedgerError, Loaded, Redeemed, normalize_number,
};
use pos_sync::connector::{
    Connector, GiftCardOutcome, GiftCardStatus, ShopGiftCard, ShopGiftCardEntry,
};
use pos_sync::{ShopConfig, SyncError, VendureConnector};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use time::OffsetDateTime;
use ts_rs::TS;

/// A shop call's future (boxed so [`GiftCardShop`] can be a trait object).
pub type ShopFuture<T> = Pin<Box<dyn Future<Output = Result<T, SyncError>> + Send>>;

/// The shop's gift-card ledger as this module calls it. Every [`Connector`] is one through
/// [`ConnectorShop`]; tests use fakes.
pub trait GiftCardShop: Send + Sync + 'static {
    fn card(&self, code: String) -> ShopFuture<Option<ShopGiftCard>>;
    fn entries(&self, code: String) -> ShopFuture<Vec<ShopGiftCardEntry>>;
    fn issue(
        &self,
        key: String,
        code: String,
        currency: String,
        amount_minor: i64,
    ) -> ShopFuture<GiftCardOutcome>;
    fn top_up(&self, key: String, code: String, amount_minor: i64) -> ShopFuture<GiftCardOutcome>;
    fn redeem(
        &self,
        key: String,
        code: String,
        amount_minor: i64,
        currency: String,
    ) -> ShopFuture<GiftCardOutcome>;
    fn release(&self, key: String) -> ShopFuture<GiftCardOutcome>;
}

/// A connector as a [`GiftCardShop`].
pub struct ConnectorShop<C>(pub Arc<C>);

impl<C: Connector> GiftCardShop for ConnectorShop<C> {
    fn card(&self, code: String) -> ShopFuture<Option<ShopGiftCard>> {
        let c = self.0.clone();
        Box::pin(async move { c.gift_card(&code).await })
    }
    fn entries(&self, code: String) -> ShopFuture<Vec<ShopGiftCardEntry>> {
        let c = self.0.clone();
        Box::pin(async move { c.gift_card_entries(&code).await })
    }
    fn issue(
        &self,
        key: String,
        code: String,
        currency: String,
        amount_minor: i64,
    ) -> ShopFuture<GiftCardOutcome> {
        let c = self.0.clone();
        Box::pin(async move {
            c.issue_gift_card(&key, Some(&code), &currency, amount_minor)
                .await
        })
    }
    fn top_up(&self, key: String, code: String, amount_minor: i64) -> ShopFuture<GiftCardOutcome> {
        let c = self.0.clone();
        Box::pin(async move { c.top_up_gift_card(&key, &code, amount_minor).await })
    }
    fn redeem(
        &self,
        key: String,
        code: String,
        amount_minor: i64,
        currency: String,
    ) -> ShopFuture<GiftCardOutcome> {
        let c = self.0.clone();
        Box::pin(async move {
            c.redeem_gift_card(&key, &code, amount_minor, &currency)
                .await
        })
    }
    fn release(&self, key: String) -> ShopFuture<GiftCardOutcome> {
        let c = self.0.clone();
        Box::pin(async move { c.release_gift_card_redeem(&key).await })
    }
}

/// What the register does with a gift card while the shop cannot be reached (a store setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfflinePolicy {
    /// No gift card is accepted offline.
    Refuse,
    /// Up to this much (minor units) per card, queued and reconciled when the shop is back.
    AllowUpTo(i64),
}

const POLICY_KEY: &str = "gift_card.offline_policy";

impl OfflinePolicy {
    fn encode(self) -> String {
        match self {
            OfflinePolicy::Refuse => "refuse".into(),
            OfflinePolicy::AllowUpTo(limit) => format!("allow:{limit}"),
        }
    }
    fn decode(s: &str) -> OfflinePolicy {
        s.strip_prefix("allow:")
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| *n > 0)
            .map_or(OfflinePolicy::Refuse, OfflinePolicy::AllowUpTo)
    }
}

/// A redemption taken offline that the shop refused when it was delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlaggedRedemption {
    pub id: i64,
    pub number: String,
    pub amount: Money,
    /// The tender key: `<sale id>-<position>`.
    pub tender_key: String,
    /// The shop's reason: INSUFFICIENT_BALANCE, UNKNOWN_CARD, INACTIVE, CURRENCY_MISMATCH or
    /// REJECTED.
    pub reason: String,
    /// The card's balance at the shop when it refused (if the shop said).
    pub shop_balance: Option<i64>,
    pub taken_at: OffsetDateTime,
    pub flagged_at: Option<OffsetDateTime>,
    pub reviewed_at: Option<OffsetDateTime>,
    pub reviewed_by: Option<String>,
}

/// Counts of the queue, for the sync panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueCounts {
    /// Redemptions taken offline, not yet delivered (give-backs are not counted).
    pub queued: i64,
    pub flagged_open: i64,
}

struct Inner {
    local: Arc<dyn GiftCardLedger>,
    store: Mutex<Store>,
    shop: RwLock<Option<Arc<dyn GiftCardShop>>>,
    wake: tokio::sync::Notify,
    timeout: Duration,
    /// The background worker skips its passes (tests drive delivery with `deliver_now`).
    worker_paused: std::sync::atomic::AtomicBool,
}

/// The register's gift-card ledger: the shop's when connected, else the terminal's own.
pub struct ShopGiftCards {
    inner: Arc<Inner>,
    rt: Option<tokio::runtime::Runtime>,
}

impl Drop for ShopGiftCards {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn at(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn sql(e: rusqlite::Error) -> LedgerError {
    LedgerError::from(e)
}

fn currency_of(code: &str, fallback: Currency) -> Currency {
    code.parse().unwrap_or(fallback)
}

/// Whether a failed shop call means "cannot use the shop now" (as opposed to a refused request).
fn unreachable(e: &SyncError) -> bool {
    !matches!(e, SyncError::Rejected(_))
}

impl ShopGiftCards {
    /// Wraps `local` (used while no shop is connected); opens its own connection to `db_path`
    /// and starts the delivery worker on a runtime thread of its own.
    pub fn open(local: Arc<dyn GiftCardLedger>, db_path: &Path) -> Result<ShopGiftCards, ApiError> {
        let store = Store::open(db_path).map_err(store_error)?;
        // A delivery cut off by a stop is retried (the shop dedupes the key).
        store
            .connection()
            .execute(
                "UPDATE shop_gift_card_op SET state = 'queued' WHERE state = 'sending'",
                [],
            )
            .map_err(|e| store_error(e.into()))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("gift-card-shop")
            .enable_all()
            .build()
            .map_err(|e| ApiError::new("app.internal", format!("gift-card runtime: {e}")))?;
        let inner = Arc::new(Inner {
            local,
            store: Mutex::new(store),
            shop: RwLock::new(None),
            wake: tokio::sync::Notify::new(),
            timeout: Duration::from_secs(4),
            worker_paused: std::sync::atomic::AtomicBool::new(false),
        });
        rt.spawn(deliver_forever(Arc::downgrade(&inner)));
        Ok(ShopGiftCards {
            inner,
            rt: Some(rt),
        })
    }

    /// Uses the shop at `config` from now on when it keeps gift cards (Vendure with our plugin).
    pub fn connect(&self, config: &ShopConfig) {
        match VendureConnector::new(config) {
            Ok(c) if c.capabilities().gift_cards => {
                self.use_shop(Some(Arc::new(ConnectorShop(Arc::new(c)))));
            }
            Ok(_) => self.use_shop(None),
            Err(e) => {
                tracing::warn!("gift cards stay local: {e}");
                self.use_shop(None);
            }
        }
    }

    /// Sets (or clears) the shop that keeps the gift cards, and wakes the delivery worker.
    pub fn use_shop(&self, shop: Option<Arc<dyn GiftCardShop>>) {
        *self.inner.shop.write().unwrap_or_else(|p| p.into_inner()) = shop;
        self.inner.wake.notify_one();
    }

    /// Whether a shop keeps the gift cards now.
    pub fn shop_connected(&self) -> bool {
        self.inner.shop().is_some()
    }

    /// How long one shop call may take before the card counts as offline.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    pub fn offline_policy(&self) -> Result<OfflinePolicy, LedgerError> {
        self.inner.policy()
    }

    pub fn set_offline_policy(&self, policy: OfflinePolicy) -> Result<(), LedgerError> {
        if let OfflinePolicy::AllowUpTo(limit) = policy
            && !(1..=pos_core::money::MAX_MINOR).contains(&limit)
        {
            return Err(LedgerError::NonPositive);
        }
        self.inner
            .store()
            .connection()
            .execute(
                "INSERT INTO setting (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![POLICY_KEY, policy.encode()],
            )
            .map_err(sql)?;
        Ok(())
    }

    /// Pauses (or resumes) the background delivery; `deliver_now` still delivers.
    pub fn pause_worker(&self, paused: bool) {
        self.inner
            .worker_paused
            .store(paused, std::sync::atomic::Ordering::SeqCst);
        self.inner.wake.notify_one();
    }

    /// Delivers what is queued now (the worker also does it every few seconds).
    pub fn deliver_now(&self) {
        let inner = self.inner.clone();
        let _ = self.inner.block(&self.rt, async move {
            deliver_pending(&inner).await;
            Ok(())
        });
    }

    /// Flagged redemptions, newest first (open ones only unless `include_reviewed`).
    pub fn flagged(&self, include_reviewed: bool) -> Result<Vec<FlaggedRedemption>, LedgerError> {
        let store = self.inner.store();
        let mut stmt = store
            .connection()
            .prepare(
                "SELECT id, number, amount_minor, currency, redeem_key, flag_reason, shop_balance_minor, \
                 created_at, delivered_at, reviewed_at, reviewed_by FROM shop_gift_card_op \
                 WHERE op = 'redeem' AND flag_reason IS NOT NULL AND state = 'flagged' \
                 AND (?1 OR reviewed_at IS NULL) ORDER BY id DESC",
            )
            .map_err(sql)?;
        let rows = stmt
            .query_map([include_reviewed], |r| {
                Ok(FlaggedRedemption {
                    id: r.get(0)?,
                    number: r.get(1)?,
                    amount: Money::new(
                        r.get(2)?,
                        currency_of(&r.get::<_, String>(3)?, Currency::Eur),
                    ),
                    tender_key: r.get(4)?,
                    reason: r.get(5)?,
                    shop_balance: r.get(6)?,
                    taken_at: at(r.get(7)?),
                    flagged_at: r.get::<_, Option<i64>>(8)?.map(at),
                    reviewed_at: r.get::<_, Option<i64>>(9)?.map(at),
                    reviewed_by: r.get(10)?,
                })
            })
            .map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }

    /// Marks a flagged redemption as looked at by `by`. False when it is not open.
    pub fn review_flagged(
        &self,
        id: i64,
        by: &str,
        now: OffsetDateTime,
    ) -> Result<bool, LedgerError> {
        let n = self
            .inner
            .store()
            .connection()
            .execute(
                "UPDATE shop_gift_card_op SET reviewed_at = ?2, reviewed_by = ?3 \
                 WHERE id = ?1 AND state = 'flagged' AND reviewed_at IS NULL",
                params![id, ms(now), by],
            )
            .map_err(sql)?;
        Ok(n == 1)
    }

    pub fn queue_counts(&self) -> Result<QueueCounts, LedgerError> {
        let store = self.inner.store();
        store
            .connection()
            .query_row(
                "SELECT COALESCE(SUM(op = 'redeem' AND state IN ('queued', 'sending')), 0), \
                 COALESCE(SUM(state = 'flagged' AND reviewed_at IS NULL), 0) FROM shop_gift_card_op",
                [],
                |r| {
                    Ok(QueueCounts {
                        queued: r.get(0)?,
                        flagged_open: r.get(1)?,
                    })
                },
            )
            .map_err(sql)
    }
}

impl Inner {
    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn shop(&self) -> Option<Arc<dyn GiftCardShop>> {
        self.shop.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn policy(&self) -> Result<OfflinePolicy, LedgerError> {
        let v: Option<String> = self
            .store()
            .connection()
            .query_row(
                "SELECT value FROM setting WHERE key = ?1",
                [POLICY_KEY],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?;
        Ok(v.map_or(OfflinePolicy::Refuse, |v: String| OfflinePolicy::decode(&v)))
    }

    /// Runs a shop call on the module's runtime and waits for it (bounded by `timeout`).
    fn block<T: Send + 'static>(
        &self,
        rt: &Option<tokio::runtime::Runtime>,
        fut: impl Future<Output = Result<T, SyncError>> + Send + 'static,
    ) -> Result<T, SyncError> {
        let Some(rt) = rt else {
            return Err(SyncError::Stopped);
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let timeout = self.timeout;
        rt.spawn(async move {
            let r = match tokio::time::timeout(timeout, fut).await {
                Ok(r) => r,
                Err(_) => Err(SyncError::Timeout),
            };
            let _ = tx.send(r);
        });
        rx.recv().unwrap_or(Err(SyncError::Stopped))
    }

    /// Redemptions of this card taken offline and not yet delivered (minor units).
    fn queued_for(&self, number: &str) -> Result<i64, LedgerError> {
        self.store()
            .connection()
            .query_row(
                "SELECT COALESCE(SUM(amount_minor), 0) FROM shop_gift_card_op \
                 WHERE number = ?1 AND op = 'redeem' AND state IN ('queued', 'sending')",
                [number],
                |r| r.get(0),
            )
            .map_err(sql)
    }

    fn remember(&self, card: &ShopGiftCard, now: OffsetDateTime) -> Result<(), LedgerError> {
        self.store()
            .connection()
            .execute(
                "INSERT INTO shop_gift_card_cache (number, currency, balance_minor, active, seen_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (number) DO UPDATE SET \
                 currency = excluded.currency, balance_minor = excluded.balance_minor, \
                 active = excluded.active, seen_at = excluded.seen_at",
                params![card.code, card.currency, card.balance_minor, card.active, ms(now)],
            )
            .map_err(sql)?;
        Ok(())
    }

    fn cached(&self, number: &str) -> Result<Option<(String, i64, bool)>, LedgerError> {
        self.store()
            .connection()
            .query_row(
                "SELECT currency, balance_minor, active FROM shop_gift_card_cache WHERE number = ?1",
                [number],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(sql)
    }

    /// The journal row of this key: (op id, state, number, amount, currency).
    #[allow(clippy::type_complexity)]
    fn op(&self, key: &str) -> Result<Option<(i64, String, String, i64, String)>, LedgerError> {
        self.store()
            .connection()
            .query_row(
                "SELECT id, state, number, amount_minor, currency FROM shop_gift_card_op WHERE key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(sql)
    }

    #[allow(clippy::too_many_arguments)]
    fn journal(
        &self,
        op: &str,
        key: &str,
        redeem_key: &str,
        number: &str,
        amount: Money,
        offline: bool,
        state: &str,
        now: OffsetDateTime,
    ) -> Result<(), LedgerError> {
        self.store()
            .connection()
            .execute(
                "INSERT INTO shop_gift_card_op (op, key, redeem_key, number, amount_minor, currency, \
                 offline, state, created_at, delivered_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, CASE WHEN ?8 = 'delivered' THEN ?9 END) \
                 ON CONFLICT (key) DO NOTHING",
                params![
                    op,
                    key,
                    redeem_key,
                    number,
                    amount.minor,
                    amount.currency.code(),
                    offline,
                    state,
                    ms(now)
                ],
            )
            .map_err(sql)?;
        Ok(())
    }
}

/// The shop's refusal as the register's ledger error.
fn refusal(o: &GiftCardOutcome, number: &str, amount: Money, queued: i64) -> LedgerError {
    match o.status {
        GiftCardStatus::UnknownCard => LedgerError::Unknown(number.to_owned()),
        GiftCardStatus::Inactive => LedgerError::NotUsable(number.to_owned()),
        GiftCardStatus::InsufficientBalance => LedgerError::Insufficient {
            available: Money::new(
                o.card
                    .as_ref()
                    .map_or(0, |c| (c.balance_minor - queued).max(0)),
                amount.currency,
            ),
        },
        GiftCardStatus::CurrencyMismatch => LedgerError::WrongCurrency {
            expected: o.card.as_ref().map_or(amount.currency, |c| {
                currency_of(&c.currency, amount.currency)
            }),
            found: amount.currency,
        },
        GiftCardStatus::CodeInUse => LedgerError::AlreadyIssued(number.to_owned()),
        GiftCardStatus::NotRedeemed | GiftCardStatus::Ok => {
            LedgerError::KeyReused(number.to_owned())
        }
    }
}

impl GiftCardLedger for ShopGiftCards {
    fn card(&self, number: &str) -> Result<GiftCard, LedgerError> {
        let Some(shop) = self.inner.shop() else {
            return self.inner.local.card(number);
        };
        let number = normalize_number(number);
        let queued = self.inner.queued_for(&number)?;
        match self.inner.block(&self.rt, shop.card(number.clone())) {
            Ok(Some(c)) => {
                self.inner.remember(&c, OffsetDateTime::now_utc())?;
                let currency = currency_of(&c.currency, Currency::Eur);
                Ok(GiftCard {
                    number,
                    balance: Money::new((c.balance_minor - queued).max(0), currency),
                    active: c.active,
                })
            }
            Ok(None) => Err(LedgerError::Unknown(number)),
            Err(e) if unreachable(&e) => match self.inner.policy()? {
                OfflinePolicy::Refuse => Err(LedgerError::ShopOffline),
                OfflinePolicy::AllowUpTo(limit) => {
                    let cached = self.inner.cached(&number)?;
                    let mut available = limit - queued;
                    let mut currency = None;
                    let mut active = true;
                    if let Some((cur, balance, is_active)) = cached {
                        available = available.min(balance - queued);
                        currency = cur.parse().ok();
                        active = is_active;
                    }
                    Ok(GiftCard {
                        number,
                        balance: Money::new(
                            available.max(0),
                            currency.unwrap_or(self.local_currency()),
                        ),
                        active,
                    })
                }
            },
            Err(e) => Err(LedgerError::NotUsable(e.to_string())),
        }
    }

    fn redeem(
        &self,
        key: &str,
        number: &str,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<Redeemed, LedgerError> {
        if amount.minor <= 0 {
            return Err(LedgerError::NonPositive);
        }
        let number = normalize_number(number);
        // A retried tender finds its redemption here (online or queued).
        if let Some((_, state, n, minor, cur)) = self.inner.op(key)? {
            if state == "cancelled" || n != number || minor != amount.minor {
                return Err(LedgerError::KeyReused(key.to_owned()));
            }
            let balance = self.inner.cached(&n)?.map_or(0, |c| c.1);
            return Ok(Redeemed {
                number: n,
                amount: Money::new(minor, currency_of(&cur, amount.currency)),
                balance_after: Money::new(balance.max(0), amount.currency),
                replayed: true,
            });
        }
        let Some(shop) = self.inner.shop() else {
            return self.inner.local.redeem(key, &number, amount, now);
        };
        // A tender retried after its answer was lost: the give-back queued then is not needed
        // (the shop returns the first redeem for this key), unless it was already sent.
        let release_key = format!("release:{key}");
        if let Some((id, state, ..)) = self.inner.op(&release_key)? {
            let cancelled = state == "queued"
                && self
                    .inner
                    .store()
                    .connection()
                    .execute(
                        "UPDATE shop_gift_card_op SET state = 'cancelled' WHERE id = ?1 AND state = 'queued'",
                        [id],
                    )
                    .map_err(sql)?
                    == 1;
            if !cancelled && state != "cancelled" {
                return Err(LedgerError::KeyReused(key.to_owned()));
            }
        }
        let queued = self.inner.queued_for(&number)?;
        let call = shop.redeem(
            key.to_owned(),
            number.clone(),
            amount.minor,
            amount.currency.code().to_owned(),
        );
        match self.inner.block(&self.rt, call) {
            Ok(o) if o.status == GiftCardStatus::Ok => {
                if let Some(c) = &o.card {
                    self.inner.remember(c, now)?;
                }
                self.inner
                    .journal("redeem", key, key, &number, amount, false, "delivered", now)?;
                let after = o.card.as_ref().map_or(0, |c| c.balance_minor) - queued;
                Ok(Redeemed {
                    number,
                    amount,
                    balance_after: Money::new(after.max(0), amount.currency),
                    replayed: o.duplicate,
                })
            }
            Ok(o) => {
                if let Some(c) = &o.card {
                    self.inner.remember(c, now)?;
                }
                Err(refusal(&o, &number, amount, queued))
            }
            Err(e) if unreachable(&e) => {
                let out = self.redeem_offline(key, &number, amount, queued, now);
                if out.is_err() {
                    // The shop may have taken it before the answer was lost: queue the
                    // give-back under the same key (a no-op at the shop if it never arrived).
                    self.inner.journal(
                        "release",
                        &release_key,
                        key,
                        &number,
                        amount,
                        true,
                        "queued",
                        now,
                    )?;
                    self.inner.wake.notify_one();
                }
                out
            }
            Err(e) => Err(LedgerError::NotUsable(e.to_string())),
        }
    }

    fn release(&self, key: &str, now: OffsetDateTime) -> Result<Option<Money>, LedgerError> {
        let Some((id, state, number, minor, cur)) = self.inner.op(key)? else {
            return self.inner.local.release(key, now);
        };
        let amount = Money::new(minor, currency_of(&cur, self.local_currency()));
        match state.as_str() {
            "cancelled" => return Ok(None),
            "queued" | "flagged" => {
                // Never taken by the shop: cancel it here (unless the worker claimed it just now).
                let n = self
                    .inner
                    .store()
                    .connection()
                    .execute(
                        "UPDATE shop_gift_card_op SET state = 'cancelled' \
                         WHERE id = ?1 AND state IN ('queued', 'flagged')",
                        [id],
                    )
                    .map_err(sql)?;
                if n == 1 {
                    return Ok(Some(amount));
                }
            }
            _ => {}
        }
        let release_key = format!("release:{key}");
        if self.inner.op(&release_key)?.is_some() {
            return Ok(None);
        }
        let online = match self.inner.shop() {
            Some(shop) => self.inner.block(&self.rt, shop.release(key.to_owned())),
            None => Err(SyncError::Unreachable("no shop connected".into())),
        };
        match online {
            Ok(o) if o.status == GiftCardStatus::Ok && o.duplicate => {
                self.inner.journal(
                    "release",
                    &release_key,
                    key,
                    &number,
                    amount,
                    false,
                    "delivered",
                    now,
                )?;
                Ok(None)
            }
            Ok(o) if o.status == GiftCardStatus::Ok => {
                if let Some(c) = &o.card {
                    self.inner.remember(c, now)?;
                }
                self.inner.journal(
                    "release",
                    &release_key,
                    key,
                    &number,
                    amount,
                    false,
                    "delivered",
                    now,
                )?;
                Ok(Some(amount))
            }
            // The shop never took it (e.g. the answer to a timed-out redeem was "insufficient").
            Ok(_) => Ok(None),
            Err(_) => {
                // Queued: the worker gives it back at the shop once it can be reached.
                self.inner.journal(
                    "release",
                    &release_key,
                    key,
                    &number,
                    amount,
                    true,
                    "queued",
                    now,
                )?;
                self.inner.wake.notify_one();
                Ok(Some(amount))
            }
        }
    }

    fn issue(
        &self,
        key: &str,
        number: &str,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<Loaded, LedgerError> {
        let Some(shop) = self.inner.shop() else {
            return self.inner.local.issue(key, number, amount, now);
        };
        if amount.minor <= 0 {
            return Err(LedgerError::NonPositive);
        }
        let number = normalize_number(number);
        let call = shop.issue(
            key.to_owned(),
            number.clone(),
            amount.currency.code().to_owned(),
            amount.minor,
        );
        self.loaded(call, &number, amount, now)
    }

    fn top_up(
        &self,
        key: &str,
        number: &str,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<Loaded, LedgerError> {
        let Some(shop) = self.inner.shop() else {
            return self.inner.local.top_up(key, number, amount, now);
        };
        if amount.minor <= 0 {
            return Err(LedgerError::NonPositive);
        }
        let number = normalize_number(number);
        let call = shop.top_up(key.to_owned(), number.clone(), amount.minor);
        self.loaded(call, &number, amount, now)
    }

    fn entries(&self, number: &str, limit: usize) -> Result<Vec<GiftCardEntry>, LedgerError> {
        let Some(shop) = self.inner.shop() else {
            return self.inner.local.entries(number, limit);
        };
        let number = normalize_number(number);
        let fallback = self.local_currency();
        match self.inner.block(&self.rt, shop.entries(number.clone())) {
            Ok(list) => {
                let currency = self
                    .inner
                    .cached(&number)?
                    .map_or(fallback, |c| currency_of(&c.0, fallback));
                Ok(list
                    .into_iter()
                    .rev()
                    .take(limit)
                    .map(|e| GiftCardEntry {
                        kind: match e.kind.as_str() {
                            "ISSUE" => EntryKind::Issue,
                            "TOP_UP" => EntryKind::TopUp,
                            "RELEASE" => EntryKind::Release,
                            _ => EntryKind::Redeem,
                        },
                        amount: Money::new(e.amount_minor, currency),
                        balance_after: Money::new(e.balance_after_minor, currency),
                        at: OffsetDateTime::parse(
                            &e.created_at,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                        key: Some(e.idempotency_key),
                    })
                    .collect())
            }
            Err(e) if unreachable(&e) => Err(LedgerError::ShopOffline),
            Err(e) => Err(LedgerError::NotUsable(e.to_string())),
        }
    }
}

impl ShopGiftCards {
    /// The currency of the terminal's own ledger (the store's), for offline answers.
    fn local_currency(&self) -> Currency {
        self.inner
            .store()
            .settings()
            .ok()
            .flatten()
            .map_or(Currency::Eur, |s| s.currency)
    }

    fn loaded(
        &self,
        call: ShopFuture<GiftCardOutcome>,
        number: &str,
        amount: Money,
        now: OffsetDateTime,
    ) -> Result<Loaded, LedgerError> {
        match self.inner.block(&self.rt, call) {
            Ok(o) if o.status == GiftCardStatus::Ok => {
                if let Some(c) = &o.card {
                    self.inner.remember(c, now)?;
                }
                let (moved, after) = o.entry.as_ref().map_or((amount.minor, 0), |e| {
                    (e.amount_minor, e.balance_after_minor)
                });
                Ok(Loaded {
                    number: number.to_owned(),
                    amount: Money::new(moved, amount.currency),
                    balance_after: Money::new(after, amount.currency),
                    replayed: o.duplicate,
                })
            }
            Ok(o) => Err(refusal(&o, number, amount, 0)),
            Err(e) if unreachable(&e) => Err(LedgerError::ShopOffline),
            Err(e) => Err(LedgerError::NotUsable(e.to_string())),
        }
    }

    /// The offline policy decides; an allowed redemption is queued under the tender key.
    fn redeem_offline(
        &self,
        key: &str,
        number: &str,
        amount: Money,
        queued: i64,
        now: OffsetDateTime,
    ) -> Result<Redeemed, LedgerError> {
        let OfflinePolicy::AllowUpTo(limit) = self.inner.policy()? else {
            return Err(LedgerError::ShopOffline);
        };
        let cached = self.inner.cached(number)?;
        if let Some((_, balance, active)) = &cached {
            if !active {
                return Err(LedgerError::NotUsable(number.to_owned()));
            }
            if balance - queued < amount.minor {
                return Err(LedgerError::Insufficient {
                    available: Money::new((balance - queued).max(0), amount.currency),
                });
            }
        }
        if queued + amount.minor > limit {
            return Err(LedgerError::OfflineLimit {
                available: Money::new((limit - queued).max(0), amount.currency),
            });
        }
        self.inner
            .journal("redeem", key, key, number, amount, true, "queued", now)?;
        self.inner.wake.notify_one();
        let left = cached.map_or(limit, |c| c.1) - queued - amount.minor;
        Ok(Redeemed {
            number: number.to_owned(),
            amount,
            balance_after: Money::new(left.max(0), amount.currency),
            replayed: false,
        })
    }
}

// ---- delivery --------------------------------------------------------------------------------

async fn deliver_forever(inner: std::sync::Weak<Inner>) {
    loop {
        let Some(me) = inner.upgrade() else { return };
        if !me.worker_paused.load(std::sync::atomic::Ordering::SeqCst) {
            deliver_pending(&me).await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), me.wake.notified()).await;
    }
}

/// One pass over the queue, oldest first; stops at the first "cannot reach the shop".
async fn deliver_pending(inner: &Inner) {
    let Some(shop) = inner.shop() else { return };
    loop {
        // Claim the oldest queued row (queued → sending) so a release cannot cancel it mid-call.
        let next = {
            let store = inner.store();
            let c = store.connection();
            let row: Option<(i64, String, String, String, String, i64, String)> = c
                .query_row(
                    "SELECT id, op, key, redeem_key, number, amount_minor, currency FROM shop_gift_card_op \
                     WHERE state = 'queued' ORDER BY id LIMIT 1",
                    [],
                    |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                            r.get(6)?,
                        ))
                    },
                )
                .optional()
                .unwrap_or(None);
            match row {
                Some(r) => {
                    let claimed = c
                        .execute(
                            "UPDATE shop_gift_card_op SET state = 'sending', attempts = attempts + 1 \
                             WHERE id = ?1 AND state = 'queued'",
                            [r.0],
                        )
                        .unwrap_or(0);
                    if claimed == 0 {
                        continue;
                    }
                    r
                }
                None => return,
            }
        };
        let (id, op, _key, redeem_key, number, minor, currency) = next;
        let answer = if op == "redeem" {
            tokio::time::timeout(
                inner.timeout,
                shop.redeem(redeem_key.clone(), number.clone(), minor, currency.clone()),
            )
            .await
        } else {
            tokio::time::timeout(inner.timeout, shop.release(redeem_key.clone())).await
        }
        .unwrap_or(Err(SyncError::Timeout));
        let now = ms(OffsetDateTime::now_utc());
        let store = inner.store();
        let c = store.connection();
        match answer {
            Ok(o) => {
                if let Some(card) = &o.card {
                    let _ = c.execute(
                        "INSERT INTO shop_gift_card_cache (number, currency, balance_minor, active, seen_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (number) DO UPDATE SET \
                         currency = excluded.currency, balance_minor = excluded.balance_minor, \
                         active = excluded.active, seen_at = excluded.seen_at",
                        params![card.code, card.currency, card.balance_minor, card.active, now],
                    );
                }
                let refused = op == "redeem" && o.status != GiftCardStatus::Ok;
                let reason = serde_json::to_value(o.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned));
                let _ = if refused {
                    tracing::warn!(id, %number, "a gift-card redemption taken offline was refused by the shop: {reason:?}");
                    c.execute(
                        "UPDATE shop_gift_card_op SET state = 'flagged', delivered_at = ?2, flag_reason = ?3, \
                         shop_balance_minor = ?4, last_error = NULL WHERE id = ?1",
                        params![id, now, reason, o.card.as_ref().map(|c| c.balance_minor)],
                    )
                } else {
                    c.execute(
                        "UPDATE shop_gift_card_op SET state = 'delivered', delivered_at = ?2, last_error = NULL \
                         WHERE id = ?1",
                        params![id, now],
                    )
                };
            }
            Err(SyncError::Rejected(msg)) if op == "redeem" => {
                let _ = c.execute(
                    "UPDATE shop_gift_card_op SET state = 'flagged', delivered_at = ?2, flag_reason = 'REJECTED', \
                     last_error = ?3 WHERE id = ?1",
                    params![id, now, msg],
                );
            }
            Err(e) => {
                let _ = c.execute(
                    "UPDATE shop_gift_card_op SET state = 'queued', last_error = ?2 WHERE id = ?1",
                    params![id, e.to_string()],
                );
                return;
            }
        }
    }
}

// ---- the register's commands: Settings → Web shop (offline policy), the flagged list ---------

/// The store's gift-card offline policy as Settings → Web shop shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GiftCardOfflinePolicyDto {
    /// False: no gift card is taken while the shop cannot be reached.
    pub allow_offline: bool,
    /// Per card, while offline (in the store's currency).
    pub limit: MoneyDto,
    /// The shop keeps the gift cards now (else the terminal's own ledger does).
    pub shop_keeps_cards: bool,
    /// The user may change it (administrators).
    pub can_edit: bool,
}

/// A gift-card redemption taken offline that the shop refused when it came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FlaggedGiftCardDto {
    pub id: i64,
    /// "****0017".
    pub card: String,
    pub amount: MoneyDto,
    /// The sale's tender key (`<sale id>-<position>`).
    pub tender_key: String,
    /// INSUFFICIENT_BALANCE, UNKNOWN_CARD, INACTIVE, CURRENCY_MISMATCH or REJECTED.
    pub reason: String,
    /// The card's balance at the shop when it refused.
    pub shop_balance: Option<MoneyDto>,
    /// RFC 3339, UTC.
    pub taken_at: String,
    pub reviewed_at: Option<String>,
    pub reviewed_by: Option<String>,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn ledger_api_error(e: LedgerError) -> ApiError {
    crate::errors::ledger_error(e)
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
    pub(super) fn gift_card_offline_policy_now(
        &self,
    ) -> Result<GiftCardOfflinePolicyDto, ApiError> {
        let (currency, can_edit) = {
            let st = self.lock();
            let user = st.require_user()?;
            (
                st.settings.currency,
                user.role.allows(Permission::ManageSettings),
            )
        };
        let policy = self
            .gift_card_shop
            .offline_policy()
            .map_err(ledger_api_error)?;
        let (allow_offline, limit) = match policy {
            OfflinePolicy::Refuse => (false, 0),
            OfflinePolicy::AllowUpTo(l) => (true, l),
        };
        Ok(GiftCardOfflinePolicyDto {
            allow_offline,
            limit: MoneyDto {
                minor: limit,
                currency: currency.code().to_owned(),
            },
            shop_keeps_cards: self.gift_card_shop.shop_connected(),
            can_edit,
        })
    }

    pub(super) fn set_gift_card_offline_policy_now(
        &self,
        allow_offline: bool,
        limit_minor: i64,
    ) -> Result<GiftCardOfflinePolicyDto, ApiError> {
        let now = self.now();
        {
            let mut st = self.lock();
            require(
                &st,
                Permission::ManageSettings,
                "change the gift-card offline policy",
            )?;
            let policy = if allow_offline {
                if limit_minor <= 0 {
                    return Err(ApiError::new(
                        "gift_card.offline_limit_required",
                        "enter the most a card may pay while the shop cannot be reached",
                    ));
                }
                OfflinePolicy::AllowUpTo(limit_minor)
            } else {
                OfflinePolicy::Refuse
            };
            let user_id = st.require_user()?.id.clone();
            let terminal_id = st.terminal_id.clone();
            st.store
                .append_audit(
                    &pos_store::audit::NewAuditEntry {
                        terminal_id: &terminal_id,
                        action: "settings.gift_card_offline_policy",
                        user_id: Some(&user_id),
                        approver_id: None,
                        sale_ref: None,
                        detail: serde_json::json!({ "policy": policy.encode() }),
                    },
                    now,
                )
                .map_err(store_error)?;
            drop(st);
            self.gift_card_shop
                .set_offline_policy(policy)
                .map_err(ledger_api_error)?;
        }
        self.gift_card_offline_policy_now()
    }

    pub(super) fn flagged_gift_cards_now(
        &self,
        include_reviewed: bool,
    ) -> Result<Vec<FlaggedGiftCardDto>, ApiError> {
        require(
            &self.lock(),
            Permission::EndOfDay,
            "see flagged gift-card redemptions",
        )?;
        let list = self
            .gift_card_shop
            .flagged(include_reviewed)
            .map_err(ledger_api_error)?;
        Ok(list
            .into_iter()
            .map(|f| {
                let money = |minor: i64| MoneyDto {
                    minor,
                    currency: f.amount.currency.code().to_owned(),
                };
                FlaggedGiftCardDto {
                    id: f.id,
                    card: super::tenders::mask_number(&f.number),
                    amount: money(f.amount.minor),
                    tender_key: f.tender_key.clone(),
                    reason: f.reason.clone(),
                    shop_balance: f.shop_balance.map(money),
                    taken_at: rfc3339(f.taken_at),
                    reviewed_at: f.reviewed_at.map(rfc3339),
                    reviewed_by: f.reviewed_by.clone(),
                }
            })
            .collect())
    }

    pub(super) fn review_flagged_gift_card_now(
        &self,
        id: i64,
    ) -> Result<Vec<FlaggedGiftCardDto>, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        require(
            &st,
            Permission::EndOfDay,
            "review flagged gift-card redemptions",
        )?;
        let (user_id, name) = {
            let u = st.require_user()?;
            (u.id.clone(), u.name.clone())
        };
        let open = self
            .gift_card_shop
            .flagged(false)
            .map_err(ledger_api_error)?
            .iter()
            .any(|f| f.id == id);
        if !open {
            return Err(ApiError::new(
                "gift_card.flag_not_found",
                "that redemption is not open (already reviewed?)",
            ));
        }
        // The trail first, then the change (as every sensitive action).
        let terminal_id = st.terminal_id.clone();
        st.store
            .append_audit(
                &pos_store::audit::NewAuditEntry {
                    terminal_id: &terminal_id,
                    action: "gift_card.flag_reviewed",
                    user_id: Some(&user_id),
                    approver_id: None,
                    sale_ref: None,
                    detail: serde_json::json!({ "flag": id }),
                },
                now,
            )
            .map_err(store_error)?;
        drop(st);
        self.gift_card_shop
            .review_flagged(id, &name, now)
            .map_err(ledger_api_error)?;
        self.flagged_gift_cards_now(false)
    }
}

impl Register {
    /// Keeps gift cards in `shop` (tests; the app connects the web shop in Settings).
    pub fn use_gift_card_shop(&self, shop: Option<Arc<dyn GiftCardShop>>) {
        self.gift_card_shop.use_shop(shop);
    }
}
