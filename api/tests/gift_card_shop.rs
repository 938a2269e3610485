//! Gift cards kept by the web shop, at the register: the offline policy and the queue of
//! offline redemptions, on a real SQLite file with a fake shop that keeps a ledger like the
//! plugin's (idempotent by key, never below zero) and can be switched offline or lose an
//! answer. (sync/tests/gift_cards.rs checks the real Vendure shop.)
//!
//! Refuse offline; allow up to the per-card limit; over the limit refused; a queued redemption
//! delivered exactly once (also when the shop's answer is lost); flagged when the shop's balance
//! is short, listed for a manager and never dropped; a release before delivery never reaches
//! the shop; the policy through the register's commands (who may change it, audited).

mod support;

use pos_api::Api;
use pos_api::register::gift_card_shop::{GiftCardShop, OfflinePolicy, ShopFuture, ShopGiftCards};
use pos_api::register::tenders::{GiftCardLedger, LocalLedger};
use pos_core::{Currency, Money};
use pos_store::Store;
use pos_store::gift_cards::LedgerError;
use pos_sync::SyncError;
use pos_sync::connector::{GiftCardOutcome, GiftCardStatus, ShopGiftCard, ShopGiftCardEntry};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use support::small_spanish_register;
use time::OffsetDateTime;

/// A shop ledger in memory: balance per card, the first outcome per key.
#[derive(Default)]
struct FakeShop {
    offline: AtomicBool,
    /// The next redeem is applied but its answer is lost (a timeout).
    lose_next_answer: AtomicBool,
    redeem_calls: AtomicUsize,
    cards: Mutex<HashMap<String, i64>>,
    done: Mutex<HashMap<String, GiftCardOutcome>>,
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::Eur)
}

impl FakeShop {
    fn with_card(number: &str, balance: i64) -> Arc<FakeShop> {
        let s = FakeShop::default();
        s.cards.lock().unwrap().insert(number.into(), balance);
        Arc::new(s)
    }
    fn balance(&self, number: &str) -> i64 {
        self.cards.lock().unwrap()[number]
    }
    /// The storefront spends at the shop directly.
    fn spend(&self, number: &str, minor: i64) {
        *self.cards.lock().unwrap().get_mut(number).unwrap() -= minor;
    }
    fn card_of(&self, number: &str) -> Option<ShopGiftCard> {
        self.cards
            .lock()
            .unwrap()
            .get(number)
            .map(|b| ShopGiftCard {
                code: number.into(),
                currency: "EUR".into(),
                balance_minor: *b,
                active: true,
            })
    }
    fn outcome(
        &self,
        status: GiftCardStatus,
        number: &str,
        amount: i64,
        key: &str,
    ) -> GiftCardOutcome {
        GiftCardOutcome {
            status,
            duplicate: false,
            card: self.card_of(number),
            entry: (status == GiftCardStatus::Ok).then(|| ShopGiftCardEntry {
                id: key.into(),
                code: number.into(),
                kind: "REDEEM".into(),
                idempotency_key: key.into(),
                amount_minor: amount,
                balance_after_minor: self.card_of(number).map_or(0, |c| c.balance_minor),
                channel: "till-1".into(),
                created_at: "2026-11-22T20:00:00Z".into(),
            }),
        }
    }
    fn reachable(&self) -> Result<(), SyncError> {
        if self.offline.load(Ordering::SeqCst) {
            Err(SyncError::Unreachable("connection refused".into()))
        } else {
            Ok(())
        }
    }
}

struct Shared(Arc<FakeShop>);

impl GiftCardShop for Shared {
    fn card(&self, code: String) -> ShopFuture<Option<ShopGiftCard>> {
        let s = self.0.clone();
        Box::pin(async move {
            s.reachable()?;
            Ok(s.card_of(&code))
        })
    }
    fn entries(&self, _code: String) -> ShopFuture<Vec<ShopGiftCardEntry>> {
        let s = self.0.clone();
        Box::pin(async move {
            s.reachable()?;
            Ok(Vec::new())
        })
    }
    fn issue(
        &self,
        key: String,
        code: String,
        _: String,
        amount: i64,
    ) -> ShopFuture<GiftCardOutcome> {
        let s = self.0.clone();
        Box::pin(async move {
            s.reachable()?;
            if let Some(first) = s.done.lock().unwrap().get(&key) {
                return Ok(GiftCardOutcome {
                    duplicate: true,
                    ..first.clone()
                });
            }
            s.cards.lock().unwrap().insert(code.clone(), amount);
            let out = s.outcome(GiftCardStatus::Ok, &code, amount, &key);
            s.done.lock().unwrap().insert(key, out.clone());
            Ok(out)
        })
    }
    fn top_up(&self, _: String, _: String, _: i64) -> ShopFuture<GiftCardOutcome> {
        Box::pin(async { Err(SyncError::Unsupported("not in this fake".into())) })
    }
    fn redeem(
        &self,
        key: String,
        code: String,
        amount: i64,
        _currency: String,
    ) -> ShopFuture<GiftCardOutcome> {
        let s = self.0.clone();
        Box::pin(async move {
            s.reachable()?;
            s.redeem_calls.fetch_add(1, Ordering::SeqCst);
            if let Some(first) = s.done.lock().unwrap().get(&key) {
                return Ok(GiftCardOutcome {
                    duplicate: true,
                    ..first.clone()
                });
            }
            let Some(balance) = s.card_of(&code).map(|c| c.balance_minor) else {
                return Ok(s.outcome(GiftCardStatus::UnknownCard, &code, 0, &key));
            };
            if balance < amount {
                return Ok(s.outcome(GiftCardStatus::InsufficientBalance, &code, 0, &key));
            }
            s.spend(&code, amount);
            let out = s.outcome(GiftCardStatus::Ok, &code, -amount, &key);
            s.done.lock().unwrap().insert(key, out.clone());
            if s.lose_next_answer.swap(false, Ordering::SeqCst) {
                return Err(SyncError::Timeout);
            }
            Ok(out)
        })
    }
    fn release(&self, key: String) -> ShopFuture<GiftCardOutcome> {
        let s = self.0.clone();
        Box::pin(async move {
            s.reachable()?;
            let release_key = format!("release:{key}");
            if let Some(first) = s.done.lock().unwrap().get(&release_key) {
                return Ok(GiftCardOutcome {
                    duplicate: true,
                    ..first.clone()
                });
            }
            let Some(redeem) = s.done.lock().unwrap().get(&key).cloned() else {
                return Ok(GiftCardOutcome {
                    status: GiftCardStatus::NotRedeemed,
                    duplicate: false,
                    card: None,
                    entry: None,
                });
            };
            let entry = redeem.entry.unwrap();
            s.spend(&entry.code, entry.amount_minor); // amount is negative: gives it back
            let out = s.outcome(
                GiftCardStatus::Ok,
                &entry.code,
                -entry.amount_minor,
                &release_key,
            );
            s.done.lock().unwrap().insert(release_key, out.clone());
            Ok(out)
        })
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    ledger: ShopGiftCards,
    shop: Arc<FakeShop>,
}

const CARD: &str = "6006000000001234";

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A register database (demo store in euros), the shop ledger over the fake shop.
fn fixture(shop_balance: i64) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    drop(Store::open(&db).unwrap());
    let local = Arc::new(LocalLedger::open(&db).unwrap());
    let ledger = ShopGiftCards::open(local, &db).unwrap();
    ledger.pause_worker(true); // each test delivers with deliver_now, at the moment it chooses
    let shop = FakeShop::with_card(CARD, shop_balance);
    ledger.use_shop(Some(Arc::new(Shared(shop.clone()))));
    Fixture {
        _dir: dir,
        db,
        ledger,
        shop,
    }
}

/// The redemptions in the terminal's journal (key, state), oldest first.
fn queued_rows(db: &Path) -> Vec<(String, String)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut s = c
        .prepare("SELECT key, state FROM shop_gift_card_op WHERE op = 'redeem' ORDER BY id")
        .unwrap();
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn online_the_shop_balance_is_used_and_a_redeem_beyond_it_is_refused() {
    let f = fixture(5000);
    assert_eq!(f.ledger.card(CARD).unwrap().balance, eur(5000));
    let r = f.ledger.redeem("sale-1-0", CARD, eur(1200), now()).unwrap();
    assert_eq!(
        (r.amount, r.balance_after, r.replayed),
        (eur(1200), eur(3800), false)
    );
    // The tender is retried after a crash: the same key is not taken twice.
    assert!(
        f.ledger
            .redeem("sale-1-0", CARD, eur(1200), now())
            .unwrap()
            .replayed
    );
    assert_eq!(f.shop.balance(CARD), 3800);
    match f.ledger.redeem("sale-2-0", CARD, eur(3801), now()) {
        Err(LedgerError::Insufficient { available }) => assert_eq!(available, eur(3800)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        f.ledger.card("0000"),
        Err(LedgerError::Unknown(_))
    ));
    assert_eq!(
        f.ledger.queue_counts().unwrap().queued,
        0,
        "nothing queued online"
    );
}

#[test]
fn offline_with_the_refuse_policy_no_gift_card_is_taken() {
    let f = fixture(5000);
    assert_eq!(
        f.ledger.offline_policy().unwrap(),
        OfflinePolicy::Refuse,
        "the default"
    );
    f.shop.offline.store(true, Ordering::SeqCst);
    assert!(matches!(f.ledger.card(CARD), Err(LedgerError::ShopOffline)));
    assert!(matches!(
        f.ledger.redeem("sale-1-0", CARD, eur(100), now()),
        Err(LedgerError::ShopOffline)
    ));
    assert!(queued_rows(&f.db).is_empty(), "no redemption queued");
    f.shop.offline.store(false, Ordering::SeqCst);
    f.ledger.deliver_now(); // (only a give-back in case the refused call had arrived: a no-op)
    assert_eq!(f.shop.balance(CARD), 5000);
}

#[test]
fn offline_up_to_the_per_card_limit_and_over_it_refused() {
    let f = fixture(50_000);
    f.ledger
        .set_offline_policy(OfflinePolicy::AllowUpTo(2000))
        .unwrap();
    f.shop.offline.store(true, Ordering::SeqCst);
    assert_eq!(
        f.ledger.card(CARD).unwrap().balance,
        eur(2000),
        "offline: what the limit allows"
    );
    f.ledger.redeem("sale-1-0", CARD, eur(1500), now()).unwrap();
    assert_eq!(f.ledger.card(CARD).unwrap().balance, eur(500));
    match f.ledger.redeem("sale-2-0", CARD, eur(501), now()) {
        Err(LedgerError::OfflineLimit { available }) => assert_eq!(available, eur(500)),
        other => panic!("{other:?}"),
    }
    f.ledger.redeem("sale-2-0", CARD, eur(500), now()).unwrap();
    assert!(matches!(
        f.ledger.redeem("sale-3-0", CARD, eur(1), now()),
        Err(LedgerError::OfflineLimit { .. })
    ));
    // Another card has a limit of its own.
    f.ledger
        .redeem("sale-4-0", "6006 0000 0000 9999", eur(2000), now())
        .unwrap();
    assert_eq!(f.ledger.queue_counts().unwrap().queued, 3);
    assert_eq!(f.shop.balance(CARD), 50_000, "nothing reached the shop yet");
}

#[test]
fn a_queued_redemption_is_delivered_exactly_once_even_when_the_answer_is_lost() {
    let f = fixture(10_000);
    f.ledger
        .set_offline_policy(OfflinePolicy::AllowUpTo(5000))
        .unwrap();
    f.shop.offline.store(true, Ordering::SeqCst);
    f.ledger.redeem("sale-1-0", CARD, eur(3000), now()).unwrap();
    f.ledger.deliver_now(); // still offline: stays queued
    assert_eq!(
        queued_rows(&f.db),
        vec![("sale-1-0".into(), "queued".into())]
    );

    f.shop.offline.store(false, Ordering::SeqCst);
    f.shop.lose_next_answer.store(true, Ordering::SeqCst);
    f.ledger.deliver_now(); // applied at the shop, the answer lost
    assert_eq!(
        queued_rows(&f.db),
        vec![("sale-1-0".into(), "queued".into())]
    );
    f.ledger.deliver_now(); // resent with the same key: the shop's first result
    f.ledger.deliver_now(); // nothing left
    assert_eq!(
        queued_rows(&f.db),
        vec![("sale-1-0".into(), "delivered".into())]
    );
    assert_eq!(f.shop.balance(CARD), 7000, "taken exactly once");
    assert_eq!(f.shop.redeem_calls.load(Ordering::SeqCst), 2);
    assert_eq!(f.ledger.queue_counts().unwrap().queued, 0);
    assert_eq!(f.ledger.card(CARD).unwrap().balance, eur(7000));
}

#[test]
fn the_background_worker_delivers_when_the_shop_is_back() {
    let f = fixture(10_000);
    f.ledger
        .set_offline_policy(OfflinePolicy::AllowUpTo(5000))
        .unwrap();
    f.shop.offline.store(true, Ordering::SeqCst);
    f.ledger.redeem("sale-1-0", CARD, eur(1000), now()).unwrap();
    f.shop.offline.store(false, Ordering::SeqCst);
    f.ledger.pause_worker(false);
    f.ledger.use_shop(Some(Arc::new(Shared(f.shop.clone())))); // reconnect wakes the worker
    let t0 = std::time::Instant::now();
    while f.ledger.queue_counts().unwrap().queued > 0 {
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(10),
            "delivered by the worker"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(f.shop.balance(CARD), 9000);
}

#[test]
fn flagged_for_a_manager_when_the_shop_balance_is_short_and_never_dropped() {
    let f = fixture(1000);
    f.ledger
        .set_offline_policy(OfflinePolicy::AllowUpTo(5000))
        .unwrap();
    assert_eq!(f.ledger.card(CARD).unwrap().balance, eur(1000)); // seen online
    f.shop.offline.store(true, Ordering::SeqCst);
    f.shop.spend(CARD, 800); // meanwhile the storefront spends 8 € of it
    // The register only knows the 10 € it saw: 9 € is taken offline.
    f.ledger.redeem("sale-1-0", CARD, eur(900), now()).unwrap();
    // Beyond the last balance seen is refused even under the limit.
    assert!(matches!(
        f.ledger.redeem("sale-2-0", CARD, eur(101), now()),
        Err(LedgerError::Insufficient { .. })
    ));
    f.shop.offline.store(false, Ordering::SeqCst);
    f.ledger.deliver_now();
    assert_eq!(f.shop.balance(CARD), 200, "the shop never goes below zero");
    let flagged = f.ledger.flagged(false).unwrap();
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0].reason, "INSUFFICIENT_BALANCE");
    assert_eq!(flagged[0].amount, eur(900));
    assert_eq!(flagged[0].shop_balance, Some(200));
    assert_eq!(flagged[0].tender_key, "sale-1-0");
    assert_eq!(f.ledger.queue_counts().unwrap().flagged_open, 1);
    f.ledger.deliver_now();
    assert_eq!(
        f.shop.redeem_calls.load(Ordering::SeqCst),
        1,
        "a flagged redemption is not resent"
    );

    assert!(
        f.ledger
            .review_flagged(flagged[0].id, "Marta", now())
            .unwrap()
    );
    assert!(
        !f.ledger
            .review_flagged(flagged[0].id, "Marta", now())
            .unwrap(),
        "once"
    );
    assert!(f.ledger.flagged(false).unwrap().is_empty());
    let kept = f.ledger.flagged(true).unwrap();
    assert_eq!(kept.len(), 1, "kept after review");
    assert_eq!(kept[0].reviewed_by.as_deref(), Some("Marta"));
}

#[test]
fn a_release_before_delivery_never_reaches_the_shop_and_after_it_gives_back_once() {
    let f = fixture(10_000);
    f.ledger
        .set_offline_policy(OfflinePolicy::AllowUpTo(5000))
        .unwrap();
    f.shop.offline.store(true, Ordering::SeqCst);
    f.ledger.redeem("sale-1-0", CARD, eur(2000), now()).unwrap();
    assert_eq!(
        f.ledger.release("sale-1-0", now()).unwrap(),
        Some(eur(2000))
    );
    assert_eq!(f.ledger.release("sale-1-0", now()).unwrap(), None, "once");
    f.shop.offline.store(false, Ordering::SeqCst);
    f.ledger.deliver_now();
    assert_eq!(f.shop.redeem_calls.load(Ordering::SeqCst), 0, "never sent");
    assert_eq!(f.shop.balance(CARD), 10_000);

    // Online redeem, released while offline: queued and given back at the shop once.
    f.ledger.redeem("sale-2-0", CARD, eur(1000), now()).unwrap();
    assert_eq!(f.shop.balance(CARD), 9000);
    f.shop.offline.store(true, Ordering::SeqCst);
    assert_eq!(
        f.ledger.release("sale-2-0", now()).unwrap(),
        Some(eur(1000))
    );
    f.shop.offline.store(false, Ordering::SeqCst);
    f.ledger.deliver_now();
    f.ledger.deliver_now();
    assert_eq!(f.shop.balance(CARD), 10_000);
    assert_eq!(f.ledger.release("sale-2-0", now()).unwrap(), None);
}

#[test]
fn a_redeem_whose_answer_was_lost_and_then_refused_is_given_back_once_the_shop_answers() {
    let f = fixture(10_000);
    // Refuse offline (the default): the cashier is told to take another tender…
    f.shop.lose_next_answer.store(true, Ordering::SeqCst);
    assert!(matches!(
        f.ledger.redeem("sale-1-1", CARD, eur(2500), now()),
        Err(LedgerError::ShopOffline)
    ));
    // …but the shop had taken it. The queued give-back returns it.
    assert_eq!(f.shop.balance(CARD), 7500);
    f.ledger.deliver_now();
    assert_eq!(f.shop.balance(CARD), 10_000, "given back");
    f.ledger.deliver_now();
    assert_eq!(f.shop.balance(CARD), 10_000, "once");

    // The same tender retried at once instead: the give-back is dropped and the first redeem
    // stands (taken once).
    f.shop.lose_next_answer.store(true, Ordering::SeqCst);
    assert!(f.ledger.redeem("sale-2-1", CARD, eur(1000), now()).is_err());
    let again = f.ledger.redeem("sale-2-1", CARD, eur(1000), now()).unwrap();
    assert!(again.replayed, "the shop's first result");
    f.ledger.deliver_now();
    assert_eq!(
        f.shop.balance(CARD),
        9000,
        "taken exactly once, not given back"
    );
}

#[test]
fn without_a_shop_the_terminal_ledger_is_used() {
    let f = fixture(0);
    f.ledger.use_shop(None);
    let mut store = Store::open(&f.db).unwrap();
    store.issue_gift_card("LOCAL-1", eur(700), now()).unwrap();
    assert!(!f.ledger.shop_connected());
    assert_eq!(f.ledger.card("LOCAL-1").unwrap().balance, eur(700));
    f.ledger
        .redeem("sale-1-0", "LOCAL-1", eur(700), now())
        .unwrap();
    assert_eq!(store.gift_card("LOCAL-1").unwrap().unwrap().balance, eur(0));
    assert!(queued_rows(&f.db).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_policy_is_an_audited_store_setting_only_an_admin_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("register.db");
    let r = small_spanish_register(&db);
    r.login("1234".into()).await.unwrap(); // Ana, cashier
    let p = r.gift_card_offline_policy().await.unwrap();
    assert!(!p.allow_offline && !p.can_edit && !p.shop_keeps_cards);
    assert_eq!(
        r.set_gift_card_offline_policy(true, 2000)
            .await
            .unwrap_err()
            .code,
        "auth.forbidden"
    );
    assert_eq!(
        r.flagged_gift_cards(false).await.unwrap_err().code,
        "auth.forbidden"
    );
    r.login("0000".into()).await.unwrap(); // admin
    assert_eq!(
        r.set_gift_card_offline_policy(true, 0)
            .await
            .unwrap_err()
            .code,
        "gift_card.offline_limit_required"
    );
    let p = r.set_gift_card_offline_policy(true, 2500).await.unwrap();
    assert!(p.allow_offline && p.can_edit);
    assert_eq!((p.limit.minor, p.limit.currency.as_str()), (2500, "EUR"));
    assert!(r.flagged_gift_cards(true).await.unwrap().is_empty());
    assert_eq!(
        r.review_flagged_gift_card(1).await.unwrap_err().code,
        "gift_card.flag_not_found"
    );
    let audit = r
        .audit_trail(
            None,
            None,
            None,
            Some("settings.gift_card_offline_policy".into()),
        )
        .await
        .unwrap();
    assert_eq!(audit.rows.len(), 1, "{audit:?}");

    // A redemption the shop refused after an offline sale (as the delivery leaves it): a manager
    // lists it, reviews it (audited), and it is kept.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "INSERT INTO shop_gift_card_op (op, key, redeem_key, number, amount_minor, currency, offline, \
             state, created_at, delivered_at, flag_reason, shop_balance_minor) \
             VALUES ('redeem', 'sale-9-1', 'sale-9-1', '6006000000001234', 900, 'EUR', 1, 'flagged', 0, 1, \
             'INSUFFICIENT_BALANCE', 200)",
            [],
        )
        .unwrap();
    r.login("9999".into()).await.unwrap(); // Marta, manager
    let open = r.flagged_gift_cards(false).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].card, "****1234", "never the whole number");
    assert_eq!(
        (
            open[0].amount.minor,
            open[0].shop_balance.as_ref().unwrap().minor
        ),
        (900, 200)
    );
    assert!(
        r.review_flagged_gift_card(open[0].id)
            .await
            .unwrap()
            .is_empty()
    );
    let kept = r.flagged_gift_cards(true).await.unwrap();
    assert_eq!(kept[0].reviewed_by.as_deref(), Some("Marta"));
    let audit = r
        .audit_trail(None, None, None, Some("gift_card.flag_reviewed".into()))
        .await
        .unwrap();
    assert_eq!(audit.rows.len(), 1);
    drop(r);
    // A restart keeps it.
    let r = small_spanish_register(&db);
    r.login("1234".into()).await.unwrap();
    let p = r.gift_card_offline_policy().await.unwrap();
    assert!(p.allow_offline);
    assert_eq!(p.limit.minor, 2500);
}

/// A gift card sold just before the shop that keeps the cards went away: the sale completes,
/// the card waits (listed in the sync panel with the reason and counted as queued), and a
/// manager's retry loads exactly its amount once the shop is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gift_card_sold_as_the_shop_goes_away_waits_in_the_sync_panel_and_loads_on_retry() {
    let dir = tempfile::tempdir().unwrap();
    let r = small_spanish_register(&dir.path().join("register.db"));
    let shop = Arc::new(FakeShop::default());
    r.use_gift_card_shop(Some(Arc::new(Shared(shop.clone()))));
    r.login("1234".into()).await.unwrap();
    let sale = r.sell_gift_card(None, 2500).await.unwrap();
    // The shop goes away while the customer pays.
    shop.offline.store(true, Ordering::SeqCst);
    let done = r
        .pay(pos_api::dto::TenderKindDto::Cash, sale.total.minor)
        .await
        .unwrap()
        .completed
        .unwrap();
    let details = r.sync_details().await.unwrap();
    assert_eq!(details.gift_cards_waiting.len(), 1, "{details:?}");
    let w = &details.gift_cards_waiting[0];
    assert_eq!((w.amount.minor, w.top_up), (2500, false));
    assert_eq!(w.receipt.as_deref(), Some(done.receipt_number.as_str()));
    assert!(w.attempts >= 1);
    assert!(
        w.last_error.as_deref().is_some_and(|e| !e.is_empty()),
        "{w:?}"
    );
    assert!(details.queued >= 1, "the waiting card counts as queued");
    assert!(
        shop.cards.lock().unwrap().is_empty(),
        "nothing on any card yet"
    );

    // Still away: a retry leaves it waiting, one more attempt.
    let again = r.retry_gift_card_activations().await.unwrap();
    assert_eq!(again.gift_cards_waiting.len(), 1);
    assert!(again.gift_cards_waiting[0].attempts > w.attempts);

    shop.offline.store(false, Ordering::SeqCst);
    let after = r.retry_gift_card_activations().await.unwrap();
    assert!(after.gift_cards_waiting.is_empty(), "{after:?}");
    let cards = shop.cards.lock().unwrap().clone();
    assert_eq!(cards.len(), 1);
    assert_eq!(cards.values().copied().collect::<Vec<_>>(), vec![2500]);
    assert!(
        cards
            .keys()
            .next()
            .unwrap()
            .ends_with(&w.masked[w.masked.len() - 4..])
    );
    // A second retry loads nothing twice.
    r.retry_gift_card_activations().await.unwrap();
    assert_eq!(shop.cards.lock().unwrap().values().sum::<i64>(), 2500);
}
