//! The register: one terminal's session, sale in progress, payment and devices, over the local
//! store. It implements [`Api`]; the Tauri shell and the tests call it the same way.
//!
//! Invariants:
//! * Every command either changes the sale completely or not at all (the cart is transactional
//!   in pos-core; a refused scan leaves it as it was).
//! * A sale is complete only once `Store::commit_sale` has returned: the receipt number, the
//!   lines, the payments and the outbox row are then on disk together.
//! * The time comes from the injected [`Clock`]; nothing below this layer reads the clock.

pub mod devices;

use crate::commands::Api;
use crate::dto::*;
use crate::errors::{barcode_error, cart_error, checkout_error, store_error};
use crate::events::{Event, EventSink};
use crate::hardware::Hardware;
use crate::receipt;
use pos_core::auth::Permission;
use pos_core::cart::{Cart, LineId, PriceSource, Quantity};
use pos_core::gtin::{self, EmbeddedKind, Scan};
use pos_core::sale::{Cashier, SaleContext, Settlement};
use pos_core::tax::{CashRounding, RoundingDirection};
use pos_core::{Money, Tender, TenderKind};
use pos_hardware::device::{DisplayLines, ScanEvent};
use pos_hardware::payment::PaymentTerminal;
use pos_hardware::sim::SimCommand;
use pos_store::{CatalogItem, Store, StoreSettings, User};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use time::OffsetDateTime;
use uuid::Uuid;

// Checkout actions (discounts, approvals, voids, park, reprint): a child module, so it works
// on the register's private state like the commands here do.
#[path = "checkout.rs"]
mod checkout;

// The web shop: settings, sync details, pickups, conflicts (a child module, like checkout).
#[path = "shop.rs"]
pub(crate) mod shop;

// Tenders besides cash and card (gift card, store credit, account) behind ledger traits, and
// cancelling a pending card payment (a child module, like checkout).
#[path = "tenders.rs"]
pub mod tenders;

// E-mailed receipts: the queue, the SMTP worker, Print / E-mail / both (a child module).
#[path = "email.rs"]
pub mod email;

// Cash management: register sessions, cash in/out, no sale, X and Z reports (a child module).
#[path = "cash.rs"]
pub mod cash;

// Staff: users, roles and the permission matrix, clock in/out and hours, the audit viewer.
#[path = "staff.rs"]
pub mod staff;

// Stored value sold at the register: gift cards issued and topped up, balance checks, customers
// (edit, account limit, statement, account payments), the customer on a sale (a child module).
#[path = "stored_value.rs"]
pub mod stored_value;

// Returns, refunds and exchanges: finding the sale, the return document, refunds to the
// original tenders, stock and the shop's adjustments (a child module).
#[path = "returns.rs"]
pub mod returns;

// Gift cards kept by the web shop: the shop's ledger behind GiftCardLedger, the offline policy,
// the queue of offline redemptions and the flagged list (a child module).
#[path = "gift_card_shop.rs"]
pub mod gift_card_shop;

// Returns of sales made on other terminals or online, fetched from the shop (a child module).
#[path = "remote_returns.rs"]
pub mod remote_returns;

/// Where the time comes from: the system clock in the app, a fixed or stepping one in tests.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

pub struct SystemClock;
impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

#[derive(Debug, Clone)]
pub struct RegisterConfig {
    pub db_path: PathBuf,
    /// This terminal's id; also its receipt series ("T01" → receipts T01-000001, …).
    pub terminal_id: String,
    pub location_id: String,
    /// When the catalog is empty, fill it with this many demo products.
    pub demo_products: Option<usize>,
    pub demo_country: pos_store::Country,
    /// The terminal's devices; all simulators by default.
    pub devices: pos_hardware::config::DeviceConfig,
}

impl RegisterConfig {
    /// Configuration from the environment: `POS_DB_PATH`, `POS_TERMINAL_ID`, `POS_LOCATION`,
    /// `POS_DEMO_PRODUCTS` (0 disables demo data), `POS_DEMO_COUNTRY` (es, jp, us).
    pub fn from_env(default_db: PathBuf) -> RegisterConfig {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        RegisterConfig {
            db_path: var("POS_DB_PATH").map(PathBuf::from).unwrap_or(default_db),
            terminal_id: var("POS_TERMINAL_ID").unwrap_or_else(|| "T01".into()),
            location_id: var("POS_LOCATION").unwrap_or_else(|| "main".into()),
            demo_products: match var("POS_DEMO_PRODUCTS").map(|v| v.parse::<usize>()) {
                Some(Ok(0)) => None,
                Some(Ok(n)) => Some(n),
                _ => Some(300),
            },
            demo_country: match var("POS_DEMO_COUNTRY").as_deref() {
                Some("jp") | Some("ja") => pos_store::Country::Jp,
                Some("us") => pos_store::Country::Us,
                _ => pos_store::Country::Es,
            },
            devices: crate::hardware::Hardware::config_from_env().unwrap_or_else(|e| {
                tracing::error!("{}; using simulated devices", e.message);
                pos_hardware::config::DeviceConfig::default()
            }),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Open,
    Paying,
}

struct State {
    store: Store,
    settings: StoreSettings,
    user: Option<User>,
    cart: Cart,
    stage: Stage,
    tenders: Vec<Tender>,
    last_line: Option<LineId>,
    last_receipt: Option<ReceiptPreviewDto>,
    revision: u64,
    /// The id the sale in progress will have once completed; card payments are referenced to it.
    sale_ref: Uuid,
    terminal_id: String,
    clock: Arc<dyn Clock>,
    /// What cash totals are rounded to, in minor units (store setting; 1 = no rounding).
    cash_increment: i64,
}

/// What is saved of the sale in progress after every change (see `State::changed`).
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    cart: Cart,
    tenders: Vec<Tender>,
    paying: bool,
    sale_ref: Uuid,
}

pub struct Register {
    state: Mutex<State>,
    events: Arc<dyn EventSink>,
    clock: Arc<dyn Clock>,
    config: RegisterConfig,
    info: AppInfoDto,
    hardware: Hardware,
    /// The payment terminal, once connected (the demo's ZVT simulator starts in the background).
    terminal: Arc<OnceLock<Arc<dyn PaymentTerminal>>>,
    /// The web-shop sync (started at start or on saving Settings → Web shop) and its status.
    shop: shop::ShopLink,
    /// Gift cards, store credit and accounts (tenders.rs).
    ledgers: tenders::Ledgers,
    /// The gift-card ledger in use (the shop's when connected; see gift_card_shop.rs).
    gift_card_shop: Arc<gift_card_shop::ShopGiftCards>,
    /// A card payment is waiting for the terminal (so a cancel can wait for it to start).
    card_pending: tenders::CardPending,
    /// SMTP settings, the print preference and the e-mail worker (email.rs).
    mail: email::ReceiptMail,
    /// returns: the returns screen is open, device scans are its own (returns.rs).
    returns_scans: std::sync::atomic::AtomicBool,
    /// returns: the shop to find other terminals' sales and web orders in (remote_returns.rs).
    remote_sales: remote_returns::RemoteSales,
}

/// What a card payment or refund keeps of the terminal's approval: its approval code and the
/// masked card ("A1B2C3 ************1234"); `card` stands in when the terminal gave no card.
pub(crate) fn card_reference(
    approval: &pos_hardware::payment::Approval,
    card: Option<String>,
) -> String {
    format!(
        "{} {}",
        approval.approval_code.clone().unwrap_or_default(),
        approval.masked_pan().or(card).unwrap_or_default()
    )
    .trim()
    .to_owned()
}

fn tender_kind(k: TenderKindDto) -> TenderKind {
    match k {
        TenderKindDto::Cash => TenderKind::Cash,
        TenderKindDto::Card => TenderKind::Card,
        TenderKindDto::GiftCard => TenderKind::GiftCard,
        TenderKindDto::StoreCredit => TenderKind::StoreCredit,
        TenderKindDto::Account => TenderKind::Account,
    }
}

fn tender_kind_dto(k: TenderKind) -> TenderKindDto {
    match k {
        TenderKind::Cash => TenderKindDto::Cash,
        TenderKind::Card => TenderKindDto::Card,
        TenderKind::GiftCard => TenderKindDto::GiftCard,
        TenderKind::StoreCredit => TenderKindDto::StoreCredit,
        TenderKind::Account => TenderKindDto::Account,
    }
}

pub(crate) fn tender_dto(t: &Tender) -> TenderDto {
    TenderDto {
        kind: tender_kind_dto(t.kind),
        amount: t.amount.into(),
        reference: t.reference.clone(),
    }
}

fn session_dto(u: &User) -> SessionDto {
    SessionDto {
        user: UserDto {
            id: u.id.clone(),
            name: u.name.clone(),
            role: u.role.code.clone(),
            role_name: u.role.name.clone(),
        },
        permissions: Permission::ALL
            .iter()
            .filter(|p| u.role.allows(**p))
            .map(|p| {
                serde_json::to_value(p)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            })
            .collect(),
    }
}

/// Cash is rounded to the store's increment (a store setting; 1 = none), half up.
fn cash_rounding(increment: i64) -> CashRounding {
    CashRounding {
        increment,
        direction: RoundingDirection::HalfUp,
    }
}

impl State {
    fn require_user(&self) -> Result<&User, ApiError> {
        self.user
            .as_ref()
            .ok_or_else(|| ApiError::new("auth.required", "log in first"))
    }

    fn settlement(&self) -> Result<Settlement, ApiError> {
        self.cart
            .settlement(&self.tenders, cash_rounding(self.cash_increment))
            .map_err(checkout_error)
    }

    fn sale_dto(&self) -> Result<SaleDto, ApiError> {
        let totals = self.cart.totals().map_err(cart_error)?;
        let settlement = self.settlement()?;
        let lines = self
            .cart
            .lines()
            .iter()
            .zip(&totals.lines)
            .map(|(l, t)| LineDto {
                id: l.id.0,
                variant_id: l.product.variant_id.clone(),
                sku: l.product.sku.clone(),
                names: l.product.names.clone(),
                quantity: match l.quantity {
                    Quantity::Units(n) | Quantity::Grams(n) => n,
                },
                by_weight: matches!(l.quantity, Quantity::Grams(_)),
                unit_price: l.unit_price.into(),
                extended: t.extended.into(),
                discount: Money::new(
                    t.line_discount.minor + t.order_discount.minor,
                    t.amount.currency,
                )
                .into(),
                amount: t.amount.into(),
                tax_code: l.product.tax.code.clone(),
                tax_label: l.product.tax.percent_label(),
                reduced: l.product.tax.reduced,
                price_overridden: matches!(l.price_source, PriceSource::Override { .. }),
                note: l.note.clone(),
                line_discount: checkout::line_discount_dto(l, t),
                original_price: checkout::original_price_dto(l),
                gift_card: stored_value::line_gift_card(l),
            })
            .collect();
        let item_count = self
            .cart
            .lines()
            .iter()
            .map(|l| match l.quantity {
                Quantity::Units(n) => n,
                Quantity::Grams(_) => 1,
            })
            .sum();
        Ok(SaleDto {
            revision: self.revision,
            stage: match self.stage {
                Stage::Open => SaleStageDto::Open,
                Stage::Paying => SaleStageDto::Paying,
            },
            lines,
            last_line_id: self.last_line.map(|l| l.0),
            item_count,
            items: totals.items.into(),
            discounts: totals.discounts.into(),
            subtotal: totals.subtotal.into(),
            taxes: totals
                .taxes
                .iter()
                .map(|t| TaxRowDto {
                    code: t.rate.code.clone(),
                    label: t.rate.percent_label(),
                    reduced: t.rate.reduced,
                    net: t.net.into(),
                    tax: t.tax.into(),
                    gross: t.gross.into(),
                })
                .collect(),
            tax_total: totals.tax_total.into(),
            total: totals.total.into(),
            price_mode: match self.settings.tax_policy.price_mode {
                pos_core::PriceMode::TaxInclusive => PriceModeDto::TaxInclusive,
                pos_core::PriceMode::TaxExclusive => PriceModeDto::TaxExclusive,
            },
            payment: PaymentDto {
                tenders: self.tenders.iter().map(tender_dto).collect(),
                paid: settlement.paid.into(),
                remaining: settlement.remaining.into(),
                remaining_cash: settlement.remaining_cash.into(),
                change: settlement.change.into(),
                complete: settlement.complete,
            },
            order_discount: checkout::order_discount_dto(&self.cart, &totals),
            customer: self.cart.customer().map(stored_value::sale_customer_dto),
        })
    }

    /// Marks the sale as changed (see `SaleDto::revision`) and saves it, so that a crash or a
    /// power cut brings it back. A failed save is logged; the sale in memory stays as it is.
    fn changed(&mut self) {
        self.revision += 1;
        let saved = Saved {
            cart: self.cart.clone(),
            tenders: self.tenders.clone(),
            paying: self.stage == Stage::Paying,
            sale_ref: self.sale_ref,
        };
        let now = self.clock.now();
        let result = serde_json::to_value(&saved)
            .map_err(|e| e.to_string())
            .and_then(|v| {
                self.store
                    .save_register_state(&self.terminal_id, &v, now)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = result {
            tracing::warn!("the sale in progress could not be saved: {e}");
        }
    }

    fn ensure_open(&self) -> Result<(), ApiError> {
        self.require_user()?;
        self.cash_gate()?;
        if self.stage == Stage::Paying {
            return Err(ApiError::new(
                "sale.payment_in_progress",
                "finish or cancel the payment first",
            ));
        }
        Ok(())
    }

    fn add_item(&mut self, item: CatalogItem, quantity: Option<Quantity>) -> Result<(), ApiError> {
        let q = match quantity {
            Some(q) => q,
            None if item.by_weight => {
                return Err(ApiError::new(
                    "cart.needs_weight",
                    "weigh the item and enter its weight",
                )
                .with("product", item.name(&self.settings.locale))
                // checkout: the UI opens the weight entry for this barcode.
                .with("barcode", item.barcode.as_deref().unwrap_or_default()));
            }
            None => Quantity::Units(1),
        };
        let id = self
            .cart
            .add(item.to_product_ref(), q)
            .map_err(cart_error)?;
        self.last_line = Some(id);
        Ok(())
    }

    fn scan(&mut self, raw: &str, location: &str) -> Result<(), ApiError> {
        self.ensure_open()?;
        let scan = gtin::read_scan(raw, &gtin::default_embedded_rules()).map_err(barcode_error)?;
        match scan {
            Scan::Code { code } => {
                let item = match self
                    .store
                    .find_by_barcode(&code, location)
                    .map_err(store_error)?
                {
                    Some(i) => Some(i),
                    None => self
                        .store
                        .find_by_sku(&code, location)
                        .map_err(store_error)?,
                };
                let item = item.ok_or_else(|| {
                    ApiError::new(
                        "scan.unknown_code",
                        format!("no product has the code {code}"),
                    )
                    .with("code", &code)
                })?;
                self.add_item(item, None)
            }
            Scan::Embedded {
                lookup_code,
                kind,
                value,
                ..
            } => {
                let item = self
                    .store
                    .find_by_barcode(&lookup_code, location)
                    .map_err(store_error)?
                    .ok_or_else(|| {
                        ApiError::new(
                            "scan.unknown_code",
                            format!("no product has the code {raw}"),
                        )
                        .with("code", raw.trim())
                    })?;
                match kind {
                    EmbeddedKind::WeightGrams => {
                        let mut p = item.to_product_ref();
                        p.by_weight = true;
                        let id = self
                            .cart
                            .add(p, Quantity::Grams(value))
                            .map_err(cart_error)?;
                        self.last_line = Some(id);
                    }
                    EmbeddedKind::Price => {
                        let price = Money::new(value, self.settings.currency);
                        let id = self
                            .cart
                            .add_embedded_price(item.to_product_ref(), price)
                            .map_err(cart_error)?;
                        self.last_line = Some(id);
                    }
                }
                Ok(())
            }
        }
    }
}

impl Register {
    /// Opens the terminal's database (creating it and, if configured, filling it with demo
    /// data when the catalog is empty).
    pub fn open(
        config: RegisterConfig,
        events: Arc<dyn EventSink>,
        clock: Arc<dyn Clock>,
    ) -> Result<Register, ApiError> {
        if let Some(dir) = config.db_path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| ApiError::new("store.error", e.to_string()))?;
        }
        let mut store = Store::open(&config.db_path).map_err(store_error)?;
        if let Some(n) = config.demo_products
            && store.variant_count().map_err(store_error)? == 0
        {
            pos_store::demo::generate(&mut store, n, config.demo_country, 42, clock.now())
                .map_err(store_error)?;
        }
        // The terminal's saved device configuration, unless POS_DEVICES overrides it.
        let env_devices = std::env::var("POS_DEVICES").is_ok_and(|v| !v.trim().is_empty());
        let mut config = config;
        if !env_devices
            && let Some(saved) = store
                .device_settings(&config.terminal_id)
                .map_err(store_error)?
        {
            match serde_json::from_value(saved) {
                Ok(devices) => config.devices = devices,
                Err(e) => tracing::error!("saved device settings are not valid ({e}); not used"),
            }
        }
        // A store that rounds cash totals (e.g. to 0,05 €): POS_CASH_ROUNDING, in minor units,
        // is written to the store's settings.
        if let Ok(v) = std::env::var("POS_CASH_ROUNDING")
            && !v.trim().is_empty()
        {
            match v.trim().parse::<i64>() {
                Ok(n) => store.set_cash_rounding_increment(n).map_err(store_error)?,
                Err(_) => tracing::error!("POS_CASH_ROUNDING={v:?} is not a number; ignored"),
            }
        }
        let cash_increment = store.cash_rounding_increment().map_err(store_error)?;
        let hardware = Hardware::open(&config.devices, &config.db_path, &config.terminal_id)?;
        let settings = store.settings().map_err(store_error)?.ok_or_else(|| {
            ApiError::new(
                "store.not_configured",
                "this terminal has no store settings yet",
            )
        })?;
        let cart = Cart::new(settings.currency, settings.tax_policy);
        let info = AppInfoDto {
            store: StoreDto {
                name: settings.name.clone(),
                address: settings.address.lines().map(str::to_owned).collect(),
                tax_id: settings.tax_id.clone(),
                country: settings.country.code().to_owned(),
                currency: settings.currency.code().to_owned(),
                locale: settings.locale.clone(),
                price_mode: match settings.tax_policy.price_mode {
                    pos_core::PriceMode::TaxInclusive => PriceModeDto::TaxInclusive,
                    pos_core::PriceMode::TaxExclusive => PriceModeDto::TaxExclusive,
                },
                cash_increment,
                quick_cash: quick_cash(settings.currency),
            },
            terminal_id: config.terminal_id.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            locales: vec!["en".into(), "es".into(), "ja".into()],
            simulated_devices: hardware.any_simulated(),
            tenders: if devices::terminal_target(&config.devices.payment_terminal)
                == Ok(devices::TerminalTarget::None)
            {
                vec![TenderKindDto::Cash]
            } else {
                vec![TenderKindDto::Cash, TenderKindDto::Card]
            }
            .into_iter()
            // Gift cards, store credit and accounts are local ledgers: always available.
            .chain([
                TenderKindDto::GiftCard,
                TenderKindDto::StoreCredit,
                TenderKindDto::Account,
            ])
            .collect(),
        };
        let state = State {
            store,
            settings,
            user: None,
            cart,
            stage: Stage::Open,
            tenders: Vec::new(),
            last_line: None,
            last_receipt: None,
            revision: 0,
            sale_ref: Uuid::now_v7(),
            terminal_id: config.terminal_id.clone(),
            clock: clock.clone(),
            cash_increment,
        };
        let mut state = state;
        // Bring back the sale that was in progress when the app last stopped.
        if let Some(saved) = state
            .store
            .register_state(&config.terminal_id)
            .map_err(store_error)?
            && let Ok(saved) = serde_json::from_value::<Saved>(saved)
            && saved.cart.currency() == state.settings.currency
        {
            state.last_line = saved.cart.lines().last().map(|l| l.id);
            state.cart = saved.cart;
            state.tenders = saved.tenders;
            state.stage = if saved.paying {
                Stage::Paying
            } else {
                Stage::Open
            };
            state.sale_ref = saved.sale_ref;
        }
        let mut ledgers = tenders::Ledgers::local(&config.db_path)?;
        let gift_card_shop = Arc::new(gift_card_shop::ShopGiftCards::open(
            ledgers.gift_cards.clone(),
            &config.db_path,
        )?);
        ledgers.gift_cards = gift_card_shop.clone();
        Ok(Register {
            ledgers,
            gift_card_shop,
            card_pending: tenders::CardPending::default(),
            mail: email::ReceiptMail::from_env(),
            returns_scans: Default::default(),
            remote_sales: Default::default(),
            state: Mutex::new(state),
            events,
            clock,
            config,
            info,
            hardware,
            terminal: Arc::new(OnceLock::new()),
            shop: shop::ShopLink::new(),
        })
    }

    /// Takes a card payment on the terminal (outside the state lock: it waits for the customer).
    async fn card_tender(&self, amount: i64) -> Result<Tender, ApiError> {
        let terminal = self.terminal.get().cloned().ok_or_else(|| {
            ApiError::new(
                "pay.terminal_unavailable",
                "no payment terminal is connected",
            )
        })?;
        let (money, ref_id) = {
            let mut st = self.lock();
            st.require_user()?;
            if st.cart.is_empty() {
                return Err(ApiError::new("sale.empty", "scan something first"));
            }
            let money = Money::new(amount, st.settings.currency);
            let mut probe = st.tenders.clone();
            probe.push(Tender {
                kind: TenderKind::Card,
                amount: money,
                reference: None,
            });
            st.cart
                .settlement(&probe, cash_rounding(st.cash_increment))
                .map_err(checkout_error)?;
            st.stage = Stage::Paying;
            st.changed();
            (money, format!("{}-{}", st.sale_ref, st.tenders.len() + 1))
        };
        // A declined or cancelled attempt leaves its ref_id used: the next attempt at the same
        // position (the cashier retries the card) takes the next free one, "<sale>-<n>-<k>".
        // An approved attempt is found again under its own ref_id (never charged twice).
        let mut attempt = 1;
        let approval = loop {
            let id = match attempt {
                1 => ref_id.clone(),
                k => format!("{ref_id}-{k}"),
            };
            match terminal.authorize(money, &id).await {
                Err(pos_hardware::payment::PaymentError::AlreadyAttempted { .. })
                    if attempt < 100 =>
                {
                    attempt += 1
                }
                other => break other.map_err(crate::errors::payment_error)?,
            }
        };
        Ok(Tender {
            kind: TenderKind::Card,
            // What the terminal charged: a retried payment gets the recorded approval.
            amount: approval.amount,
            reference: Some(card_reference(&approval, None)),
        })
    }

    /// Starts listening to the devices: scans from the scanner go into the sale, status
    /// changes of the printer, drawer and print queue go to the status bar. Call once, inside
    /// the tokio runtime.
    pub fn start(self: &Arc<Self>) {
        self.start_payment_terminal();
        self.start_email();
        self.start_gift_card_swipes();
        self.activate_pending_gift_cards();
        if let Err(e) = self.finish_interrupted_account_payment() {
            tracing::warn!(
                "interrupted account payment not finished yet: {}",
                e.message
            );
        }
        self.start_sync();
        if let Some(scanner) = self.hardware.devices.scanner.clone() {
            let me = Arc::downgrade(self);
            let mut scans = scanner.scans();
            tokio::spawn(async move {
                loop {
                    let event = match scans.recv().await {
                        Ok(e) => e,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => break,
                    };
                    let Some(me) = me.upgrade() else { break };
                    // "Scan something now" in Settings → Devices takes it instead of the sale.
                    let Some(event) = me.hardware.capture_scan(event) else {
                        continue;
                    };
                    match event {
                        ScanEvent::Scanned(c) => me.device_scan(&c.code),
                        ScanEvent::Rejected(e) => me.events.emit(Event::ScanRejected(
                            ApiError::new("scan.garbled", e.to_string()),
                        )),
                    }
                }
            });
        }
        // Every source of status changes pokes one channel; one task turns pokes into events.
        let (tx, mut rx) = tokio::sync::watch::channel(());
        let tx = Arc::new(tx);
        if let Some(p) = &self.hardware.devices.printer {
            forward_changes(p.status(), tx.clone());
        }
        if let Some(d) = &self.hardware.devices.drawer {
            forward_changes(d.status(), tx.clone());
        }
        forward_changes(self.shop.status.subscribe(), tx.clone());
        if let Some(q) = &self.hardware.devices.print_queue {
            let (tx, mut ev) = (tx.clone(), q.events());
            tokio::spawn(async move {
                while let Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) =
                    ev.recv().await
                {
                    tx.send_replace(());
                }
            });
        }
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let Some(me) = me.upgrade() else { break };
                if let Ok(status) = me.status_now() {
                    me.events.emit(Event::StatusChanged(status));
                }
            }
        });
    }

    /// Everything that has not reached the shop (or the gift-card ledger) yet: the outbox, the
    /// gift-card redemptions taken offline and the gift cards sold but not loaded. Also gives
    /// the redemptions alone (the sync panel shows them).
    pub(crate) fn queued_for_shop(&self) -> Result<(i64, i64), ApiError> {
        let (outbox, waiting) = {
            let st = self.lock();
            (
                st.store.outbox_len().map_err(store_error)? as i64,
                st.store
                    .waiting_gift_card_activations()
                    .map_err(store_error)? as i64,
            )
        };
        let redemptions = self
            .gift_card_shop
            .queue_counts()
            .map(|c| c.queued)
            .unwrap_or(0);
        Ok((outbox + redemptions + waiting, redemptions))
    }

    fn status_now(&self) -> Result<StatusDto, ApiError> {
        let (queued, _) = self.queued_for_shop()?;
        let sync = self.shop.status.borrow().clone();
        Ok(StatusDto {
            devices: self.device_statuses(),
            sync: SyncStatusDto {
                configured: self.shop.running(),
                online: sync.online,
                queued,
                last_success: sync.last_success.and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                }),
                conflicts: sync.conflicts as i64,
            },
        })
    }

    /// Shows the last line and the total on the customer display.
    fn show_on_display(&self, st: &State, sale: &SaleDto) {
        let lang = crate::locale::Lang::parse(&st.settings.locale);
        let m = |x: &MoneyDto| {
            crate::locale::format_money(Money::new(x.minor, st.settings.currency), lang)
        };
        let upper = sale
            .last_line_id
            .and_then(|id| sale.lines.iter().find(|l| l.id == id))
            .map(|l| {
                let name = l
                    .names
                    .get(lang.tag())
                    .or_else(|| l.names.get("en"))
                    .cloned()
                    .unwrap_or_else(|| l.sku.clone());
                format!("{name} {}", m(&l.amount))
            })
            .unwrap_or_default();
        let total = match lang {
            crate::locale::Lang::Es => "TOTAL",
            crate::locale::Lang::Ja => "合計",
            crate::locale::Lang::En => "TOTAL",
        };
        self.hardware.show(DisplayLines {
            upper,
            lower: format!("{total} {}", m(&sale.total)),
        });
    }

    /// The sale after a change: shown on the customer display and returned.
    fn publish(&self, st: &State) -> Result<SaleDto, ApiError> {
        let sale = st.sale_dto()?;
        self.show_on_display(st, &sale);
        Ok(sale)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves State as it was before the failed command
        // (commands mutate the cart transactionally), so the poison can be ignored.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A scan from a device (scanner driver or simulator): applied like `scan`, reported by events.
    pub fn device_scan(&self, code: &str) {
        // returns: while the returns screen is open, the scan is its own (returns.rs).
        if self.returns_take_scan(code) {
            return;
        }
        let mut st = self.lock();
        match st
            .scan(code, &self.config.location_id)
            .and_then(|_| self.publish(&st))
        {
            Ok(sale) => self.events.emit(Event::SaleChanged(Box::new(sale))),
            Err(e) => self.events.emit(Event::ScanRejected(e)),
        }
    }

    /// The receipts the simulated printer has printed, decoded to text (developer panel, tests).
    pub fn printed_receipts(&self) -> Vec<String> {
        let Some(p) = &self.hardware.devices.simulators.printer else {
            return Vec::new();
        };
        p.printed_jobs()
            .iter()
            .map(|j| {
                pos_hardware::escpos::decode(&j.bytes).text(self.hardware.config().printer.paper)
            })
            .collect()
    }

    pub fn config(&self) -> &RegisterConfig {
        &self.config
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }
}

/// Pokes `tx` every time `rx`'s value changes (until either side is gone).
fn forward_changes<T: Send + Sync + 'static>(
    mut rx: tokio::sync::watch::Receiver<T>,
    tx: Arc<tokio::sync::watch::Sender<()>>,
) {
    tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            tx.send_replace(());
        }
    });
}

/// Quick-cash keys: the currency's banknotes (and the largest coins for yen), smallest first.
fn quick_cash(c: pos_core::Currency) -> Vec<i64> {
    let mut v: Vec<i64> = match c {
        pos_core::Currency::Eur => vec![500, 1000, 2000, 5000, 10000],
        pos_core::Currency::Usd => vec![100, 500, 1000, 2000, 5000, 10000],
        // Yen: the notes people carry (the 2,000 note is rare, 500 is a coin).
        pos_core::Currency::Jpy => vec![1000, 5000, 10000],
    };
    v.retain(|d| c.denominations().contains(d));
    v
}

impl Api for Register {
    async fn app_info(&self) -> Result<AppInfoDto, ApiError> {
        Ok(self.info.clone())
    }

    async fn login(&self, pin: String) -> Result<SessionDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        let user = st.login_audited(&pin, now)?;
        let dto = session_dto(&user);
        st.user = Some(user);
        Ok(dto)
    }

    async fn logout(&self) -> Result<(), ApiError> {
        self.lock().user = None;
        Ok(())
    }

    async fn session(&self) -> Result<Option<SessionDto>, ApiError> {
        Ok(self.lock().user.as_ref().map(session_dto))
    }

    async fn current_sale(&self) -> Result<SaleDto, ApiError> {
        self.lock().sale_dto()
    }

    async fn scan(&self, code: String) -> Result<SaleDto, ApiError> {
        let mut st = self.lock();
        st.scan(&code, &self.config.location_id)?;
        self.publish(&st)
    }

    async fn add_product(
        &self,
        variant_id: String,
        quantity: Option<i64>,
    ) -> Result<SaleDto, ApiError> {
        let mut st = self.lock();
        st.ensure_open()?;
        let item = st
            .store
            .get_variant(&variant_id, &self.config.location_id)
            .map_err(store_error)?
            .ok_or_else(|| {
                ApiError::new("scan.unknown_code", "no such product").with("code", &variant_id)
            })?;
        let q = quantity.map(|n| {
            if item.by_weight {
                Quantity::Grams(n)
            } else {
                Quantity::Units(n)
            }
        });
        st.add_item(item, q)?;
        self.publish(&st)
    }

    async fn search_products(
        &self,
        query: String,
        limit: u32,
    ) -> Result<Vec<ProductDto>, ApiError> {
        let st = self.lock();
        st.require_user()?;
        let lang = st.settings.locale.clone();
        let hits = st
            .store
            .search(
                &query,
                &lang,
                &self.config.location_id,
                limit.clamp(1, 100) as usize,
            )
            .map_err(store_error)?;
        Ok(hits
            .into_iter()
            .map(|i| ProductDto {
                variant_id: i.variant_id,
                sku: i.sku,
                names: i.names,
                barcode: i.barcode,
                price: i.price.into(),
                tax_label: i.tax.percent_label(),
                reduced: i.tax.reduced,
                by_weight: i.by_weight,
                stock: i.on_hand,
            })
            .collect())
    }

    async fn set_quantity(&self, line_id: u32, quantity: i64) -> Result<SaleDto, ApiError> {
        let mut st = self.lock();
        st.ensure_open()?;
        let id = LineId(line_id);
        let line = st
            .cart
            .line(id)
            .ok_or_else(|| ApiError::new("cart.no_such_line", "that line is gone"))?;
        let q = if line.product.by_weight {
            Quantity::Grams(quantity)
        } else {
            Quantity::Units(quantity)
        };
        st.cart.set_quantity(id, q).map_err(cart_error)?;
        st.last_line = Some(id);
        st.changed();
        self.publish(&st)
    }

    async fn remove_line(&self, line_id: u32) -> Result<SaleDto, ApiError> {
        // Checked against VoidLine and recorded in the audit trail (checkout.rs).
        self.checkout_void_line(line_id)
    }

    async fn start_payment(&self) -> Result<SaleDto, ApiError> {
        let mut st = self.lock();
        st.require_user()?;
        if st.cart.is_empty() {
            return Err(ApiError::new("sale.empty", "scan something first"));
        }
        st.stage = Stage::Paying;
        st.changed();
        st.sale_dto()
    }

    async fn cancel_payment(&self) -> Result<SaleDto, ApiError> {
        let mut st = self.lock();
        st.require_user()?;
        if !st.tenders.is_empty() {
            return Err(ApiError::new(
                "pay.tenders_taken",
                "payments were already taken: complete the sale",
            ));
        }
        st.stage = Stage::Open;
        st.changed();
        st.sale_dto()
    }

    async fn pay(&self, kind: TenderKindDto, amount: i64) -> Result<PayResultDto, ApiError> {
        // No card is charged for a sale that could not be committed (cash.rs).
        self.lock().cash_gate()?;
        let card = match kind {
            TenderKindDto::Cash => {
                // A card payment of this sale with an unknown outcome may have charged the
                // customer: no other tender until it is settled (register/devices.rs).
                self.refuse_while_card_unsettled()?;
                None
            }
            TenderKindDto::Card => {
                let _pending = self.card_pending.begin();
                Some(self.card_tender(amount).await?)
            }
            _ => {
                return Err(ApiError::new(
                    "pay.tender_unavailable",
                    "this tender is not available on this terminal",
                ));
            }
        };
        let now = self.now();
        let mut st = self.lock();
        st.require_user()?;
        if st.cart.is_empty() {
            return Err(ApiError::new("sale.empty", "scan something first"));
        }
        let tender = card.unwrap_or(Tender {
            kind: tender_kind(kind),
            amount: Money::new(amount, st.settings.currency),
            reference: None,
        });
        // This position is paid in cash or by card: a gift-card or customer debit left under it
        // by an attempt that never joined the sale goes back (tenders.rs).
        let key = format!("{}-{}", st.sale_ref, st.tenders.len() + 1);
        self.release_other_ledgers(&key, None, now);
        self.take_tender(&mut st, tender, now)
    }

    async fn last_receipt(&self) -> Result<Option<ReceiptPreviewDto>, ApiError> {
        let mut st = self.lock();
        st.require_user()?;
        if st.last_receipt.is_none() {
            let last = st
                .store
                .last_sale(&self.config.terminal_id)
                .map_err(store_error)?;
            st.last_receipt =
                last.map(|s| receipt::preview_with_slips(&s, &st.settings, self.card_slips(&s)));
        }
        Ok(st.last_receipt.clone())
    }

    async fn status(&self) -> Result<StatusDto, ApiError> {
        self.status_now()
    }

    async fn simulate_scan(&self, code: String) -> Result<(), ApiError> {
        if self.hardware.devices.simulators.scanner.is_some() {
            // Through the simulated scanner device, like a real scan.
            self.hardware.simulate(SimCommand::Scan { code })
        } else {
            self.device_scan(&code);
            Ok(())
        }
    }

    async fn simulate_device(&self, command: String, value: Option<i64>) -> Result<(), ApiError> {
        self.simulate_device_command(&command, value)
    }

    async fn device_settings(&self) -> Result<DeviceSettingsDto, ApiError> {
        let st = self.lock();
        require_device_access(&st)?;
        self.device_settings_dto(&st)
    }

    async fn diagnose_devices(&self) -> Result<DiagnosisDto, ApiError> {
        require_device_access(&self.lock())?;
        let report = pos_hardware::diagnose::diagnose(self.hardware.config()).await;
        let mut dto = crate::hardware::diagnosis_dto(report);
        dto.configured.push(self.payment_terminal_check().await);
        Ok(dto)
    }

    async fn save_device_settings(
        &self,
        config_json: String,
    ) -> Result<DeviceSettingsDto, ApiError> {
        let mut st = self.lock();
        let user = st.require_user()?;
        if !user.role.allows(pos_core::auth::Permission::ManageSettings) {
            return Err(ApiError::new(
                "auth.forbidden",
                "only an administrator may change the device settings",
            ));
        }
        let config = crate::hardware::parse_config(&config_json)?;
        let value = serde_json::to_value(&config)
            .map_err(|e| ApiError::new("app.internal", e.to_string()))?;
        let terminal = self.config.terminal_id.clone();
        let before = st.store.device_settings(&terminal).map_err(store_error)?;
        st.settings_audit(
            self.now(),
            "device_settings_saved",
            before.into(),
            value.clone(),
        )?;
        st.store
            .put_device_settings(&terminal, &value)
            .map_err(store_error)?;
        self.device_settings_dto(&st)
    }

    async fn test_device(&self, device: String) -> Result<(), ApiError> {
        let (settings, when) = {
            let st = self.lock();
            require_device_access(&st)?;
            let lang = crate::locale::Lang::parse(&st.settings.locale);
            (
                st.settings.clone(),
                crate::locale::format_datetime(self.now(), lang),
            )
        };
        let missing = |d: &str| {
            ApiError::new("device.not_configured", format!("no {d} is configured"))
                .with("device", d)
        };
        match device.as_str() {
            "printer" => {
                if self.hardware.devices.print_queue.is_none() {
                    return Err(missing("printer"));
                }
                let bytes = receipt::test_page(&settings, &when)
                    .map_err(|e| ApiError::new("device.print_queue", e.to_string()))?;
                self.hardware
                    .print(&format!("test-{}", Uuid::now_v7()), bytes)
            }
            "drawer" => {
                if !self.hardware.has_drawer() {
                    return Err(missing("drawer"));
                }
                self.hardware.open_drawer();
                Ok(())
            }
            "display" => {
                if !self.hardware.has_display() {
                    return Err(missing("display"));
                }
                let lower = match crate::locale::Lang::parse(&settings.locale) {
                    crate::locale::Lang::Es => "PRUEBA",
                    crate::locale::Lang::Ja => "テスト",
                    crate::locale::Lang::En => "TEST",
                };
                self.hardware.show(DisplayLines {
                    upper: settings.name.clone(),
                    lower: format!("{lower} {when}"),
                });
                Ok(())
            }
            "payment_terminal" => {
                // Safe: asks the terminal who it is; no money moves.
                let terminal = self.terminal.get().cloned().ok_or_else(|| {
                    ApiError::new(
                        "pay.terminal_unavailable",
                        "no payment terminal is connected",
                    )
                })?;
                terminal.register().await.map(|_| ()).map_err(|e| {
                    ApiError::new("device.test_failed", e.to_string())
                        .with("device", "payment_terminal")
                })
            }
            other => Err(ApiError::new(
                "device.bad_command",
                format!("unknown device {other}"),
            )),
        }
    }

    // --- checkout: discounts, approvals, voids, park and resume, reprint (checkout.rs) ---
    async fn set_line_discount(
        &self,
        line_id: u32,
        discount: Option<DiscountDto>,
        reason: Option<ReasonDto>,
        approver_pin: Option<String>,
    ) -> Result<SaleDto, ApiError> {
        self.checkout_line_discount(line_id, discount, reason, approver_pin)
    }

    async fn set_order_discount(
        &self,
        discount: Option<DiscountDto>,
        reason: Option<ReasonDto>,
        approver_pin: Option<String>,
    ) -> Result<SaleDto, ApiError> {
        self.checkout_order_discount(discount, reason, approver_pin)
    }

    async fn override_price(
        &self,
        line_id: u32,
        unit_price: i64,
        reason: Option<ReasonDto>,
        approver_pin: Option<String>,
    ) -> Result<SaleDto, ApiError> {
        self.checkout_override_price(line_id, unit_price, reason, approver_pin)
    }

    async fn void_sale(
        &self,
        reason: Option<ReasonDto>,
        approver_pin: Option<String>,
    ) -> Result<SaleDto, ApiError> {
        self.checkout_void_sale(reason, approver_pin)
    }

    async fn park_sale(&self) -> Result<SaleDto, ApiError> {
        self.checkout_park()
    }

    async fn parked_sales(&self) -> Result<Vec<ParkedSaleDto>, ApiError> {
        self.checkout_parked()
    }

    async fn resume_sale(&self, parked_id: String) -> Result<SaleDto, ApiError> {
        self.checkout_resume(&parked_id)
    }

    async fn reprint_last_receipt(&self) -> Result<ReceiptPreviewDto, ApiError> {
        self.checkout_reprint()
    }

    // --- shop: web shop settings, sync details, pickups, stock conflicts (shop.rs) ---
    async fn shop_settings(&self) -> Result<ShopSettingsDto, ApiError> {
        self.shop_settings_now()
    }
    async fn test_shop_connection(
        &self,
        url: String,
        identifier: String,
        password: Option<String>,
    ) -> Result<ShopTestDto, ApiError> {
        self.test_shop_connection_now(url, identifier, password)
            .await
    }
    async fn save_shop_settings(
        &self,
        url: String,
        identifier: String,
        password: Option<String>,
    ) -> Result<ShopSettingsDto, ApiError> {
        self.save_shop_settings_now(url, identifier, password).await
    }
    async fn import_shop_catalog(&self) -> Result<ShopImportDto, ApiError> {
        self.import_shop_catalog_now()
    }
    async fn sync_details(&self) -> Result<SyncDetailsDto, ApiError> {
        self.sync_details_now()
    }
    async fn pickups(&self) -> Result<Vec<PickupDto>, ApiError> {
        self.pickups_now()
    }
    async fn hand_over_pickup(&self, order_code: String) -> Result<Vec<PickupDto>, ApiError> {
        self.hand_over_pickup_now(order_code)
    }
    async fn stock_conflicts(
        &self,
        include_reviewed: bool,
    ) -> Result<Vec<StockConflictDto>, ApiError> {
        self.stock_conflicts_now(include_reviewed)
    }
    async fn review_stock_conflict(&self, id: i64) -> Result<Vec<StockConflictDto>, ApiError> {
        self.review_stock_conflict_now(id)
    }

    // --- tenders: gift card, store credit, account, card cancel (tenders.rs) ---
    async fn gift_card_balance(&self, number: String) -> Result<GiftCardDto, ApiError> {
        self.tenders_gift_card(&number)
    }
    async fn find_customers(
        &self,
        query: String,
        limit: u32,
    ) -> Result<Vec<CustomerDto>, ApiError> {
        self.tenders_find_customers(&query, limit)
    }
    async fn pay_gift_card(&self, number: String, amount: i64) -> Result<PayResultDto, ApiError> {
        self.tenders_pay_gift_card(&number, amount)
    }
    async fn pay_store_credit(
        &self,
        customer_id: String,
        amount: i64,
    ) -> Result<PayResultDto, ApiError> {
        self.tenders_pay_customer(
            &customer_id,
            pos_store::customers::CustomerLedger::StoreCredit,
            amount,
        )
    }
    async fn pay_on_account(
        &self,
        customer_id: String,
        amount: i64,
    ) -> Result<PayResultDto, ApiError> {
        self.tenders_pay_customer(
            &customer_id,
            pos_store::customers::CustomerLedger::Account,
            amount,
        )
    }
    async fn cancel_card_payment(&self) -> Result<bool, ApiError> {
        self.tenders_cancel_card().await
    }
    // --- tenders: e-mailed receipts (email.rs) ---
    async fn email_receipt(
        &self,
        sale_id: String,
        address: String,
    ) -> Result<EmailReceiptDto, ApiError> {
        self.email_receipt_now(&sale_id, &address)
    }
    async fn email_receipts(&self, sale_id: String) -> Result<Vec<EmailReceiptDto>, ApiError> {
        self.email_receipts_now(&sale_id)
    }
    async fn print_receipt(&self, sale_id: String) -> Result<(), ApiError> {
        self.print_receipt_now(&sale_id)
    }
    // --- cash: register sessions, cash in/out, no sale, X and Z reports (cash.rs) ---
    async fn cash_status(&self) -> Result<CashStatusDto, ApiError> {
        self.cash_status_now()
    }
    async fn open_register(
        &self,
        counts: Vec<DenominationCountDto>,
    ) -> Result<CashStatusDto, ApiError> {
        self.cash_open(&counts)
    }
    async fn cash_movement(
        &self,
        direction: CashDirectionDto,
        amount: i64,
        reason: Option<ReasonDto>,
        approver_pin: Option<String>,
    ) -> Result<CashStatusDto, ApiError> {
        self.cash_move(direction, amount, reason, approver_pin.as_deref())
    }
    async fn no_sale(
        &self,
        reason: Option<ReasonDto>,
        approver_pin: Option<String>,
    ) -> Result<CashStatusDto, ApiError> {
        self.cash_no_sale(reason, approver_pin.as_deref())
    }
    async fn x_report(&self, print: bool) -> Result<CashReportDto, ApiError> {
        self.cash_x_report(print)
    }
    async fn close_register(
        &self,
        counts: Vec<DenominationCountDto>,
    ) -> Result<CashReportDto, ApiError> {
        self.cash_close(&counts)
    }
    async fn z_report(&self, number: u64, print: bool) -> Result<CashReportDto, ApiError> {
        self.cash_z_report(number, print)
    }
    async fn set_require_opening_float(&self, on: bool) -> Result<CashStatusDto, ApiError> {
        self.cash_set_require_float(on)
    }
    async fn set_recount_tolerance(&self, minor: Option<i64>) -> Result<CashStatusDto, ApiError> {
        self.cash_set_recount_tolerance(minor)
    }
    // --- devices: test actions of Settings → Devices (register/devices.rs) ---
    async fn device_scan_test(&self, timeout_ms: u32) -> Result<ScanTestDto, ApiError> {
        self.device_scan_test_now(timeout_ms).await
    }
    async fn device_swipe_test(&self, timeout_ms: u32) -> Result<SwipeTestDto, ApiError> {
        self.device_swipe_test_now(timeout_ms).await
    }
    async fn device_test_payment(&self) -> Result<TestPaymentDto, ApiError> {
        self.device_test_payment_now().await
    }
    // --- staff: users, roles, clock in/out and hours, the audit viewer (staff.rs) ---
    async fn staff_overview(&self) -> Result<StaffDto, ApiError> {
        self.staff_overview_now()
    }
    async fn create_user(
        &self,
        name: String,
        role: String,
        pin: String,
        pin_again: String,
    ) -> Result<StaffDto, ApiError> {
        self.staff_create_user(&name, &role, &pin, &pin_again)
    }
    async fn update_user(
        &self,
        user_id: String,
        name: String,
        role: String,
    ) -> Result<StaffDto, ApiError> {
        self.staff_update_user(&user_id, &name, &role)
    }
    async fn reset_user_pin(
        &self,
        user_id: String,
        pin: String,
        pin_again: String,
    ) -> Result<StaffDto, ApiError> {
        self.staff_reset_pin(&user_id, &pin, &pin_again)
    }
    async fn deactivate_user(&self, user_id: String) -> Result<StaffDto, ApiError> {
        self.staff_set_active(&user_id, false, None)
    }
    async fn reactivate_user(
        &self,
        user_id: String,
        pin: String,
        pin_again: String,
    ) -> Result<StaffDto, ApiError> {
        self.staff_set_active(&user_id, true, Some((&pin, &pin_again)))
    }
    async fn create_role(&self, name: String) -> Result<StaffDto, ApiError> {
        self.staff_create_role(&name)
    }
    async fn rename_role(&self, code: String, name: String) -> Result<StaffDto, ApiError> {
        self.staff_rename_role(&code, &name)
    }
    async fn delete_role(&self, code: String) -> Result<StaffDto, ApiError> {
        self.staff_delete_role(&code)
    }
    async fn set_role_permissions(
        &self,
        code: String,
        permissions: Vec<String>,
    ) -> Result<StaffDto, ApiError> {
        self.staff_set_permissions(&code, &permissions)
    }
    async fn clock_in_out(&self, pin: Option<String>) -> Result<ClockDto, ApiError> {
        self.staff_clock(pin.as_deref())
    }
    async fn clock_status(&self) -> Result<ClockDto, ApiError> {
        self.staff_clock_status()
    }
    async fn hours_report(
        &self,
        from: String,
        to: String,
        print: bool,
    ) -> Result<HoursReportDto, ApiError> {
        self.staff_hours(&from, &to, print)
    }
    async fn correct_shift(
        &self,
        shift_id: String,
        started_at: String,
        ended_at: String,
        reason: String,
    ) -> Result<ShiftDto, ApiError> {
        self.staff_correct_shift(&shift_id, &started_at, &ended_at, &reason)
    }
    async fn audit_trail(
        &self,
        from: Option<String>,
        to: Option<String>,
        user_id: Option<String>,
        action: Option<String>,
    ) -> Result<AuditPageDto, ApiError> {
        self.staff_audit_log(
            from.as_deref(),
            to.as_deref(),
            user_id.as_deref(),
            action.as_deref(),
        )
    }
    async fn verify_audit(&self) -> Result<AuditVerifyDto, ApiError> {
        self.staff_verify_audit()
    }
    // --- stored value: gift cards sold, customers and their accounts (stored_value.rs) ---
    async fn stored_value_info(&self) -> Result<StoredValueInfoDto, ApiError> {
        self.sv_info()
    }
    async fn sell_gift_card(
        &self,
        number: Option<String>,
        amount: i64,
    ) -> Result<SaleDto, ApiError> {
        self.sv_sell_gift_card(number, amount, false)
    }
    async fn top_up_gift_card(&self, number: String, amount: i64) -> Result<SaleDto, ApiError> {
        self.sv_sell_gift_card(Some(number), amount, true)
    }
    async fn check_gift_card(&self, number: String) -> Result<GiftCardBalanceDto, ApiError> {
        self.sv_gift_card_balance(&number)
    }
    async fn customer(&self, customer_id: String) -> Result<CustomerDto, ApiError> {
        self.sv_customer(&customer_id)
    }
    async fn create_customer(
        &self,
        name: String,
        email: Option<String>,
        phone: Option<String>,
    ) -> Result<CustomerDto, ApiError> {
        self.sv_create_customer(name, email, phone)
    }
    async fn update_customer(
        &self,
        customer_id: String,
        name: String,
        email: Option<String>,
        phone: Option<String>,
    ) -> Result<CustomerDto, ApiError> {
        self.sv_update_customer(&customer_id, name, email, phone)
    }
    async fn set_customer_limit(
        &self,
        customer_id: String,
        limit: Option<i64>,
        approver_pin: Option<String>,
    ) -> Result<CustomerDto, ApiError> {
        self.sv_set_customer_limit(&customer_id, limit, approver_pin)
    }
    async fn customer_statement(
        &self,
        customer_id: String,
        store_credit: bool,
        print: bool,
    ) -> Result<StatementDto, ApiError> {
        self.sv_statement(&customer_id, store_credit, print)
    }
    async fn pay_account(
        &self,
        customer_id: String,
        amount: i64,
        tender: AccountTenderDto,
        tendered: Option<i64>,
    ) -> Result<AccountPaymentDto, ApiError> {
        self.sv_pay_account(&customer_id, amount, tender, tendered)
            .await
    }
    async fn attach_customer(&self, customer_id: Option<String>) -> Result<SaleDto, ApiError> {
        self.sv_attach_customer(customer_id)
    }
    // --- returns: returns, refunds and exchanges (returns.rs) ---
    async fn returns_find_receipt(&self, code: String) -> Result<ReturnSaleDto, ApiError> {
        self.returns_find_code(&code).await
    }
    async fn returns_search(&self, query: ReturnSearchDto) -> Result<Vec<SaleFoundDto>, ApiError> {
        self.returns_search_now(&query)
    }
    async fn returns_open_sale(&self, sale_id: String) -> Result<ReturnSaleDto, ApiError> {
        let own = self.returns_open_sale_now(&sale_id)?;
        self.with_shop_returns(own).await
    }
    async fn returns_preview(
        &self,
        request: ReturnRequestDto,
    ) -> Result<ReturnPreviewDto, ApiError> {
        self.returns_preview_now(&request)
    }
    async fn returns_commit(
        &self,
        request: ReturnRequestDto,
        approver_pin: Option<String>,
    ) -> Result<ReturnDoneDto, ApiError> {
        self.returns_commit_now(request, approver_pin).await
    }
    async fn returns_resume(&self) -> Result<ReturnDoneDto, ApiError> {
        self.returns_resume_now().await
    }
    async fn returns_screen(&self, open: bool) -> Result<(), ApiError> {
        self.returns_screen_now(open)
    }
    async fn returns_exchange(
        &self,
        request: ReturnRequestDto,
        approver_pin: Option<String>,
    ) -> Result<ReturnDoneDto, ApiError> {
        self.returns_exchange_now(request, approver_pin).await
    }
    // --- shop gift cards (gift_card_shop.rs) ---
    async fn gift_card_offline_policy(&self) -> Result<GiftCardOfflinePolicyDto, ApiError> {
        self.gift_card_offline_policy_now()
    }
    async fn set_gift_card_offline_policy(
        &self,
        allow_offline: bool,
        limit: i64,
    ) -> Result<GiftCardOfflinePolicyDto, ApiError> {
        self.set_gift_card_offline_policy_now(allow_offline, limit)
    }
    async fn flagged_gift_cards(
        &self,
        include_reviewed: bool,
    ) -> Result<Vec<FlaggedGiftCardDto>, ApiError> {
        self.flagged_gift_cards_now(include_reviewed)
    }
    async fn review_flagged_gift_card(&self, id: i64) -> Result<Vec<FlaggedGiftCardDto>, ApiError> {
        self.review_flagged_gift_card_now(id)
    }
    // --- gift cards waiting to be loaded (shop.rs) ---
    async fn retry_gift_card_activations(&self) -> Result<SyncDetailsDto, ApiError> {
        self.retry_gift_card_activations_now()
    }
}

impl Register {
    /// Adds a tender to the sale in progress; once the sale is paid, commits it (receipt
    /// number, lines, payments, stock and outbox row in one transaction), prints the receipt,
    /// opens the drawer for cash and starts the next sale. A refused tender leaves the sale as
    /// it was.
    fn take_tender(
        &self,
        st: &mut State,
        tender: Tender,
        now: OffsetDateTime,
    ) -> Result<PayResultDto, ApiError> {
        let user = st.require_user()?.clone();
        if st.cart.is_empty() {
            return Err(ApiError::new("sale.empty", "scan something first"));
        }
        st.stage = Stage::Paying;
        st.tenders.push(tender);
        st.changed();
        let settlement = match st.settlement() {
            Ok(s) => s,
            Err(e) => {
                st.tenders.pop();
                st.changed();
                return Err(e);
            }
        };
        if !settlement.complete {
            return Ok(PayResultDto {
                sale: st.sale_dto()?,
                completed: None,
            });
        }
        // A sale belongs to an open register session (cash.rs).
        if let Err(e) = st.cash_session_for_sale(&user, now) {
            st.tenders.pop();
            st.changed();
            return Err(e);
        }
        let ctx = SaleContext {
            id: st.sale_ref,
            receipt: pos_core::ReceiptNumber {
                series: self.config.terminal_id.clone(),
                number: 0,
            },
            terminal_id: self.config.terminal_id.clone(),
            cashier: Cashier {
                id: user.id.clone(),
                name: user.name.clone(),
            },
            at: now,
            cash_rounding: cash_rounding(st.cash_increment),
        };
        let tenders = st.tenders.clone();
        let st = &mut *st;
        let committed = st.store.commit_sale(
            &self.config.terminal_id,
            &self.config.location_id,
            |number| {
                st.cart.complete(
                    tenders,
                    SaleContext {
                        receipt: number,
                        ..ctx
                    },
                )
            },
        );
        let sale = match committed {
            Ok(s) => s,
            Err(e) => {
                // Nothing was written; the tender stays off so the cashier can retry.
                st.tenders.pop();
                st.changed();
                return Err(crate::errors::commit_error(e));
            }
        };
        // Gift cards sold get their money now that the sale is on disk (stored_value.rs).
        self.activate_gift_cards(&mut st.store, now);
        let slips = self.card_slips(&sale);
        let preview = receipt::preview_with_slips(&sale, &st.settings, slips.clone());
        let cash = sale.tenders().iter().any(|t| t.kind == TenderKind::Cash);
        // Print through the durable queue: paper-out or an offline printer hold the receipt,
        // which then prints once. A receipt that cannot be encoded is reported, not lost: the
        // sale is committed and can be reprinted.
        // With POS_RECEIPT_PRINT=ask it prints only when the cashier picks Print (email.rs).
        let print = self.mail.auto_print();
        match receipt::bytes_for_printer(
            &sale,
            &st.settings,
            &self.hardware.config().printer,
            slips,
        ) {
            Ok(_) if !print => {}
            Ok(bytes) => {
                if let Err(e) = self.hardware.print(&sale.id().to_string(), bytes) {
                    tracing::warn!("receipt {} not queued: {}", sale.receipt(), e.message);
                }
            }
            Err(e) => tracing::warn!("receipt {} cannot be encoded: {e}", sale.receipt()),
        }
        if cash {
            self.hardware.open_drawer();
        }
        // The sale is on disk with its outbox row: wake the worker so the shop's stock drops
        // within a second or two.
        self.shop.nudge();
        st.last_receipt = Some(preview.clone());
        st.cart = Cart::new(st.settings.currency, st.settings.tax_policy);
        st.sale_ref = Uuid::now_v7();
        st.tenders.clear();
        st.stage = Stage::Open;
        st.last_line = None;
        st.changed();
        let completed = CompletedSaleDto {
            sale_id: sale.id().to_string(),
            receipt_number: sale.receipt().to_string(),
            total: sale.totals().total.into(),
            paid: sale.settlement().paid.into(),
            change: sale.settlement().change.into(),
            tenders: sale.tenders().iter().map(tender_dto).collect(),
            receipt: preview,
            printed: print,
        };
        Ok(PayResultDto {
            sale: st.sale_dto()?,
            completed: Some(completed),
        })
    }
}

/// Settings → Devices is for managers and administrators.
fn require_device_access(st: &State) -> Result<(), ApiError> {
    let user = st.require_user()?;
    if user.role.allows(pos_core::auth::Permission::EndOfDay) {
        Ok(())
    } else {
        Err(ApiError::new(
            "auth.forbidden",
            "only a manager or administrator may open the device settings",
        ))
    }
}

impl Register {
    fn device_settings_dto(&self, st: &State) -> Result<DeviceSettingsDto, ApiError> {
        let running = self.hardware.config();
        let saved = st
            .store
            .device_settings(&self.config.terminal_id)
            .map_err(store_error)?
            .and_then(|v| serde_json::from_value::<pos_hardware::config::DeviceConfig>(v).ok());
        let shown = saved.clone().unwrap_or_else(|| running.clone());
        Ok(DeviceSettingsDto {
            config_json: serde_json::to_string_pretty(&shown)
                .map_err(|e| ApiError::new("app.internal", e.to_string()))?,
            devices: crate::hardware::summary(&shown),
            restart_needed: saved.is_some_and(|s| &s != running),
        })
    }
}
