//! Stored value at the register, on a real SQLite file with the demo catalog and the simulated
//! devices: a gift card sold in a sale is active with exactly its amount after the sale and not
//! before; a voided sale activates nothing; redemption and top-up after the issue; the receipt
//! (decoded from the printer's bytes) shows the card's barcode and no tax on its line while a
//! taxed product on the same receipt is still taxed right in Spain and in Japan (yen); the
//! customer's statement with running balances, printed in es/ja/en; an account payment lowers
//! the balance and raises the drawer's expected cash; changing a limit needs the permission.

mod support;

use pos_api::Api;
use pos_api::dto::{AccountTenderDto, PayResultDto, ReasonDto, SaleDto, TenderKindDto};
use pos_api::events::NoEvents;
use pos_api::register::Register;
use std::sync::Arc;
use support::{
    CASHIER, MANAGER, RegisterOnDisk, StepClock, barcode_at_rate, first_barcode, receipt_text,
};
use time::OffsetDateTime;

type Fixture = RegisterOnDisk;

/// A clock that starts at `start` and moves a minute a reading.
fn minute_clock(start: OffsetDateTime) -> Arc<StepClock> {
    StepClock::new(start, time::Duration::minutes(1))
}

/// T01 of a store in `country` with 300 demo products, from 2026-11-22 08:00 UTC.
fn open(country: pos_store::Country) -> Fixture {
    RegisterOnDisk::open(
        300,
        country,
        Arc::new(NoEvents),
        minute_clock(time::macros::datetime!(2026-11-22 08:00 UTC)),
    )
}

impl Fixture {
    fn sql<T: rusqlite::types::FromSql>(&self, q: &str) -> T {
        let c = rusqlite::Connection::open(&self.db).unwrap();
        c.query_row(q, [], |r| r.get(0)).unwrap()
    }

    /// A product of the demo catalog at `bps`, by barcode.
    fn barcode(&self, bps: i64) -> String {
        barcode_at_rate(&self.db, bps)
    }

    /// Some product of the demo catalog sold by the unit.
    fn any_barcode(&self) -> String {
        first_barcode(&self.db)
    }

    fn on_hand(&self, barcode: &str) -> i64 {
        let c = rusqlite::Connection::open(&self.db).unwrap();
        c.query_row(
            "SELECT coalesce((SELECT on_hand FROM stock s WHERE s.variant_id = b.variant_id \
             AND s.location_id = 'main'), 0) FROM barcode b WHERE b.code = ?1",
            [barcode],
            |r| r.get(0),
        )
        .unwrap()
    }
}

/// The number in the receipt's CODE128 barcode of the gift card slip.
fn barcode_number(text: &str) -> String {
    let at = text
        .find("[CODE128: ")
        .expect("a CODE128 barcode on the receipt");
    text[at + 10..].split(']').next().unwrap().to_owned()
}

async fn pay_cash(r: &Register, sale: &SaleDto) -> PayResultDto {
    r.pay(TenderKindDto::Cash, sale.total.minor).await.unwrap()
}

#[test]
fn a_sold_card_is_active_with_exactly_its_amount_after_the_sale_and_not_before() {
    let f = open(pos_store::Country::Es);
    let shirt = f.barcode(2100);
    let stock_before = f.on_hand(&shirt);
    let paid = f.block(async {
        let r = &f.register;
        r.login(CASHIER.into()).await.unwrap();
        let product = r.scan(shirt.clone()).await.unwrap();
        let sale = r.sell_gift_card(None, 5_000).await.unwrap();
        assert_eq!(sale.total.minor, product.total.minor + 5_000);
        assert_eq!(sale.tax_total, product.tax_total, "no tax on the card");
        assert_eq!(sale.taxes, product.taxes);
        let card_line = sale.lines.last().unwrap();
        assert!(card_line.gift_card.as_deref().unwrap().starts_with("****"));
        // Not a card yet: nothing on the ledger before the sale completes.
        assert_eq!(
            f.sql::<i64>("SELECT count(*) FROM gift_card WHERE number LIKE '96%'"),
            0
        );
        // A gift card line takes no discount.
        let refused = r
            .set_line_discount(
                card_line.id,
                Some(pos_api::dto::DiscountDto::Percent { bps: 1_000 }),
                Some(ReasonDto {
                    code: "promotion".into(),
                    note: None,
                }),
                Some(MANAGER.into()),
            )
            .await
            .unwrap_err();
        assert_eq!(refused.code, "cart.voucher_fixed");
        pay_cash(r, &sale).await
    });
    let text = receipt_text(&paid);
    let number = barcode_number(&text);
    assert_eq!(number.len(), 19);
    assert!(number.starts_with("96"));
    f.block(async {
        let card = f.register.check_gift_card(number.clone()).await.unwrap();
        assert_eq!(card.balance.minor, 5_000, "exactly its amount");
        assert!(card.active);
        assert_eq!(card.entries.len(), 1);
        assert_eq!(card.entries[0].kind, "issue");
    });
    assert_eq!(
        f.on_hand(&shirt),
        stock_before - 1,
        "the shirt left stock, the card did not"
    );
    // The receipt: the card's line without tax, the shirt's IVA, the barcode with the balance.
    assert!(text.contains("Tarjeta regalo ****"), "{text}");
    assert!(text.contains("Base 21%"), "{text}");
    assert!(
        !text.contains("Base 0%"),
        "no 0 % rate for the card: {text}"
    );
    assert!(
        text.contains("Tarjeta regalo: no sujeta a IVA hasta su uso"),
        "{text}"
    );
    assert!(text.contains("TARJETA REGALO"), "{text}");
    assert!(text.contains("Saldo"), "{text}");
    assert!(text.contains("50,00 €"), "{text}");
    // The sale went to the shop without the card as a product line.
    let doc: String = f.sql("SELECT payload FROM outbox ORDER BY id DESC LIMIT 1");
    let sale: pos_core::CompletedSale = serde_json::from_str(&doc).unwrap();
    let record = pos_sync::sale::sale_record(&sale, "T01").unwrap();
    assert_eq!(record.lines.len(), 1, "only the shirt");
    assert_eq!(record.totals.total_minor, record.lines[0].line_total_minor);
    assert_eq!(
        record.payments.iter().map(|p| p.amount_minor).sum::<i64>(),
        record.totals.total_minor,
        "the card's money is not the shop's sale"
    );
    // Printed on paper as on screen.
    let printed = f.printed(1);
    assert!(
        printed
            .iter()
            .any(|p| p.contains(&format!("[CODE128: {number}]")))
    );
}

#[test]
fn a_voided_sale_activates_nothing() {
    let f = open(pos_store::Country::Es);
    f.block(async {
        let r = &f.register;
        r.login(CASHIER.into()).await.unwrap();
        r.scan(f.barcode(2100)).await.unwrap();
        r.sell_gift_card(Some("7001 0000 0001".into()), 2_000)
            .await
            .unwrap();
        r.void_sale(
            Some(ReasonDto {
                code: "customer_care".into(),
                note: None,
            }),
            Some(MANAGER.into()),
        )
        .await
        .unwrap();
        assert_eq!(
            r.check_gift_card("700100000001".into())
                .await
                .unwrap_err()
                .code,
            "gift_card.unknown"
        );
        // A card sold in a sale that is never finished is not a card either.
        r.sell_gift_card(Some("7001 0000 0002".into()), 2_000)
            .await
            .unwrap();
        r.logout().await.unwrap();
    });
    assert_eq!(
        f.sql::<i64>("SELECT count(*) FROM gift_card WHERE number LIKE '7001%'"),
        0
    );
    assert_eq!(f.sql::<i64>("SELECT count(*) FROM gift_card_activation"), 0);
}

#[test]
fn a_card_issued_is_redeemed_then_topped_up() {
    let f = open(pos_store::Country::Es);
    let number = "700100000009";
    f.block(async {
        let r = &f.register;
        r.login(CASHIER.into()).await.unwrap();
        // A physical card swiped or scanned: a number of its own.
        let sale = r.sell_gift_card(Some(number.into()), 2_000).await.unwrap();
        let paid = pay_cash(r, &sale).await;
        assert!(
            !receipt_text(&paid).contains("[CODE128"),
            "a physical card is not printed"
        );
        assert_eq!(
            r.sell_gift_card(Some(number.into()), 1_000)
                .await
                .unwrap_err()
                .code,
            "gift_card.already_issued"
        );
        assert_eq!(
            r.sell_gift_card(Some("4111 1111 1111 1111".into()), 1_000)
                .await
                .unwrap_err()
                .code,
            "gift_card.bank_card",
            "a bank card's number is never kept"
        );
        assert_eq!(
            r.top_up_gift_card("700100009999".into(), 1_000)
                .await
                .unwrap_err()
                .code,
            "gift_card.unknown"
        );
        // Redeemed for part of a sale.
        let sale = r.scan(f.barcode(2100)).await.unwrap();
        let part = 1_200.min(sale.total.minor);
        let after = r.pay_gift_card(number.into(), part).await.unwrap();
        if after.completed.is_none() {
            pay_cash(r, &after.sale).await;
        }
        assert_eq!(
            r.check_gift_card(number.into())
                .await
                .unwrap()
                .balance
                .minor,
            2_000 - part
        );
        // Topped up in another sale; a gift card cannot pay for it.
        let sale = r.top_up_gift_card(number.into(), 1_500).await.unwrap();
        assert_eq!(sale.total.minor, 1_500);
        assert_eq!(sale.tax_total.minor, 0);
        assert_eq!(
            r.pay_gift_card("6006490000000017".into(), 500)
                .await
                .unwrap_err()
                .code,
            "gift_card.buys_gift_card"
        );
        assert_eq!(
            r.check_gift_card(number.into())
                .await
                .unwrap()
                .balance
                .minor,
            2_000 - part,
            "not before the top-up's sale completes"
        );
        let paid = pay_cash(r, &sale).await;
        assert!(receipt_text(&paid).contains("Recarga tarjeta regalo ****0009"));
        let card = r.check_gift_card(number.into()).await.unwrap();
        assert_eq!(card.balance.minor, 2_000 - part + 1_500);
        let kinds: Vec<&str> = card.entries.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, vec!["top_up", "redeem", "issue"]);
    });
}

#[test]
fn a_japanese_receipt_taxes_the_goods_in_yen_and_not_the_card() {
    let f = open(pos_store::Country::Jp);
    let (food, other) = (f.barcode(800), f.barcode(1000));
    let paid = f.block(async {
        let r = &f.register;
        r.login(CASHIER.into()).await.unwrap();
        r.scan(food.clone()).await.unwrap();
        let goods = r.scan(other.clone()).await.unwrap();
        let sale = r.sell_gift_card(None, 3_000).await.unwrap();
        assert_eq!(sale.total.currency, "JPY");
        assert_eq!(sale.total.minor, goods.total.minor + 3_000);
        assert_eq!(sale.taxes.len(), 2, "8 % and 10 %, nothing for the card");
        for t in &sale.taxes {
            // Per rate per receipt, rounded down (Japan): ⌊gross × r / (1 + r)⌋.
            let bps = if t.reduced { 800 } else { 1_000 };
            assert_eq!(t.tax.minor, t.gross.minor * bps / (10_000 + bps), "{t:?}");
        }
        let goods_gross: i64 = sale.taxes.iter().map(|t| t.gross.minor).sum();
        assert_eq!(goods_gross, goods.total.minor);
        pay_cash(r, &sale).await
    });
    let text = receipt_text(&paid);
    let number = barcode_number(&text);
    assert!(text.contains("ギフトカード ****"), "{text}");
    assert!(text.contains("8%対象"), "{text}");
    assert!(text.contains("10%対象"), "{text}");
    assert!(
        text.contains("ギフトカードは不課税（利用時に課税）"),
        "{text}"
    );
    assert!(text.contains("3,000円"), "{text}");
    let card_line = text
        .lines()
        .find(|l| l.contains("ギフトカード ****"))
        .unwrap();
    assert!(
        !card_line.contains('※'),
        "the card is not a reduced-rate item"
    );
    f.block(async {
        let card = f.register.check_gift_card(number).await.unwrap();
        assert_eq!(
            (card.balance.minor, card.balance.currency.as_str()),
            (3_000, "JPY")
        );
    });
}

/// Two sales charged to Bar El Sol's account and a cash payment: the statement, in `lang`.
fn statement_in(country: pos_store::Country, expect: &[&str]) {
    let f = open(country);
    f.block(async {
        let r = &f.register;
        r.login(MANAGER.into()).await.unwrap();
        let one = r.scan(f.any_barcode()).await.unwrap().total.minor;
        r.pay_on_account("c-0003".into(), one).await.unwrap();
        r.scan(f.any_barcode()).await.unwrap();
        let two = r.scan(f.any_barcode()).await.unwrap().total.minor;
        r.pay_on_account("c-0003".into(), two).await.unwrap();
        let part = one.min(two);
        let paid = r
            .pay_account(
                "c-0003".into(),
                part,
                AccountTenderDto::Cash,
                Some(part + 100),
            )
            .await
            .unwrap();
        assert_eq!(paid.document, "T01-P-000001");
        assert_eq!(paid.change.minor, 100);
        assert_eq!(paid.customer.account_balance.minor, one + two - part);
        let s = r
            .customer_statement("c-0003".into(), false, true)
            .await
            .unwrap();
        let rows: Vec<(&str, Option<&str>, i64, i64)> = s
            .entries
            .iter()
            .map(|e| {
                (
                    e.kind.as_str(),
                    e.receipt.as_deref(),
                    e.amount.minor,
                    e.balance.minor,
                )
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                ("charge", Some("T01-000001"), one, one),
                ("charge", Some("T01-000002"), two, one + two),
                ("payment", Some("T01-P-000001"), -part, one + two - part),
            ]
        );
        assert_eq!((s.opening.minor, s.closing.minor), (0, one + two - part));
    });
    // Printed: the payment's receipt, then the statement (decoded from the printer's bytes).
    let printed = f.printed(4);
    let statement = printed.last().unwrap();
    for e in expect {
        assert!(statement.contains(e), "{e:?} missing in\n{statement}");
    }
    for receipt in ["T01-000001", "T01-000002", "T01-P-000001"] {
        assert!(
            statement.contains(receipt),
            "{receipt} missing in\n{statement}"
        );
    }
}

#[test]
fn the_statement_runs_the_balance_on_screen_and_on_paper_in_spanish() {
    statement_in(
        pos_store::Country::Es,
        &[
            "EXTRACTO DE CUENTA",
            "Bar El Sol",
            "SALDO PENDIENTE",
            "Límite",
            "500,00 €",
        ],
    );
}

#[test]
fn the_statement_runs_the_balance_on_screen_and_on_paper_in_japanese() {
    statement_in(
        pos_store::Country::Jp,
        &["売掛金明細書", "喫茶さくら", "ご請求残高", "50,000円"],
    );
}

#[test]
fn the_statement_runs_the_balance_on_screen_and_on_paper_in_english() {
    statement_in(
        pos_store::Country::Us,
        &["ACCOUNT STATEMENT", "Sun Diner", "BALANCE DUE", "Limit"],
    );
}

#[test]
fn an_account_payment_lowers_the_balance_and_raises_the_drawers_expected_cash() {
    let f = open(pos_store::Country::Es);
    f.block(async {
        let r = &f.register;
        r.login(MANAGER.into()).await.unwrap();
        let total = r.scan(f.barcode(2100)).await.unwrap().total.minor;
        r.pay_on_account("c-0001".into(), total).await.unwrap();
        let before = r.x_report(false).await.unwrap().expected.minor;
        assert_eq!(
            r.pay_account("c-0001".into(), total + 1, AccountTenderDto::Cash, None)
                .await
                .unwrap_err()
                .code,
            "customer.pays_more_than_owed"
        );
        assert_eq!(
            r.pay_account("c-0002".into(), 100, AccountTenderDto::Cash, None)
                .await
                .unwrap_err()
                .code,
            "customer.no_account"
        );
        let paid = r
            .pay_account(
                "c-0001".into(),
                total,
                AccountTenderDto::Cash,
                Some(total + 500),
            )
            .await
            .unwrap();
        assert_eq!(paid.customer.account_balance.minor, 0);
        assert_eq!(paid.change.minor, 500);
        let text = paid.receipt.lines.join("\n");
        assert!(text.contains("JUSTIFICANTE DE PAGO A CUENTA"), "{text}");
        assert!(text.contains("Lucía Martín"), "{text}");
        assert!(text.contains("[CODE128: T01-P-000001]"), "{text}");
        let x = r.x_report(false).await.unwrap();
        assert_eq!(
            x.expected.minor - before,
            total,
            "the drawer holds the payment, not the change"
        );
        let printed = x.printed.lines.join("\n");
        assert!(printed.contains("Pagos a cuenta"), "{printed}");
        assert_eq!(
            r.customer("c-0001".into())
                .await
                .unwrap()
                .account_balance
                .minor,
            0
        );
    });
    // The payment's receipt went to the printer, after the on-account sale's.
    let printed = f.printed(2);
    assert!(
        printed
            .iter()
            .any(|p| p.contains("JUSTIFICANTE DE PAGO A CUENTA") && p.contains("T01-P-000001")),
        "{printed:?}"
    );
}

#[test]
fn changing_a_limit_needs_the_permission_and_is_audited() {
    let f = open(pos_store::Country::Es);
    f.block(async {
        let r = &f.register;
        r.login(CASHIER.into()).await.unwrap();
        let refused = r
            .set_customer_limit("c-0002".into(), Some(30_000), None)
            .await
            .unwrap_err();
        assert_eq!(refused.code, "auth.approval_required");
        assert_eq!(refused.params["permission"], "customer_credit");
        assert_eq!(
            r.set_customer_limit("c-0002".into(), Some(30_000), Some(CASHIER.into()))
                .await
                .unwrap_err()
                .code,
            "auth.approver_not_allowed"
        );
        assert!(!r.customer("c-0002".into()).await.unwrap().has_account);
        let c = r
            .set_customer_limit("c-0002".into(), Some(30_000), Some(MANAGER.into()))
            .await
            .unwrap();
        assert_eq!(c.account_limit.map(|l| l.minor), Some(30_000));
        assert_eq!(c.account_available.minor, 30_000);
        // Never below what is owed.
        let total = r.scan(f.barcode(2100)).await.unwrap().total.minor;
        r.pay_on_account("c-0002".into(), total).await.unwrap();
        let low = r
            .set_customer_limit("c-0002".into(), Some(total - 1), Some(MANAGER.into()))
            .await
            .unwrap_err();
        assert_eq!(low.code, "customer.limit_below_balance");
        assert_eq!(low.params["owed"], total.to_string());
    });
    let (action, approver, detail): (String, Option<String>, String) = {
        let c = rusqlite::Connection::open(&f.db).unwrap();
        c.query_row(
            "SELECT action, approver_id, detail FROM audit_log WHERE action = 'customer_limit'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
    };
    assert_eq!(action, "customer_limit");
    assert!(approver.is_some(), "the manager who approved");
    let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["limit_before"], serde_json::Value::Null);
    assert_eq!(detail["limit_after"], 30_000);
}

#[test]
fn customers_are_created_edited_and_attached_to_a_sale() {
    let f = open(pos_store::Country::Es);
    f.block(async {
        let r = &f.register;
        r.login(CASHIER.into()).await.unwrap();
        assert_eq!(
            r.create_customer("  ".into(), None, None)
                .await
                .unwrap_err()
                .code,
            "customer.name_required"
        );
        assert_eq!(
            r.create_customer("Ana".into(), Some("not-an-address".into()), None)
                .await
                .unwrap_err()
                .code,
            "customer.bad_email"
        );
        let c = r
            .create_customer("Ana Gil".into(), Some("ana@example.com".into()), None)
            .await
            .unwrap();
        assert_eq!(c.store_credit.minor, 0);
        assert!(!c.has_account);
        let c = r
            .update_customer(
                c.id.clone(),
                "Ana Gil Pérez".into(),
                None,
                Some("600 123 456".into()),
            )
            .await
            .unwrap();
        assert_eq!((c.email, c.phone.as_deref()), (None, Some("600 123 456")));
        let found = r.find_customers("gil pé".into(), 10).await.unwrap();
        assert_eq!(found.len(), 1);
        r.scan(f.barcode(2100)).await.unwrap();
        let sale = r.attach_customer(Some(c.id.clone())).await.unwrap();
        assert_eq!(sale.customer.as_ref().unwrap().name, "Ana Gil Pérez");
        let paid = pay_cash(r, &sale).await;
        assert!(receipt_text(&paid).contains("Ana Gil Pérez"));
        assert_eq!(
            f.sql::<String>("SELECT customer_id FROM sale_customer"),
            c.id
        );
        assert!(
            paid.sale.customer.is_none(),
            "the next sale starts without one"
        );
    });
    let audited: i64 = f.sql(
        "SELECT count(*) FROM audit_log WHERE action IN ('customer_created', 'customer_updated')",
    );
    assert_eq!(audited, 2);
}

/// The gift-card ledger of a web shop that cannot be reached: every issue fails while `down`.
struct Unreachable {
    inner: pos_api::register::tenders::LocalLedger,
    down: std::sync::atomic::AtomicBool,
}

impl pos_api::register::tenders::GiftCardLedger for Unreachable {
    fn card(
        &self,
        n: &str,
    ) -> Result<pos_store::gift_cards::GiftCard, pos_store::gift_cards::LedgerError> {
        self.inner.card(n)
    }
    fn redeem(
        &self,
        key: &str,
        n: &str,
        a: pos_core::Money,
        now: OffsetDateTime,
    ) -> Result<pos_store::gift_cards::Redeemed, pos_store::gift_cards::LedgerError> {
        self.inner.redeem(key, n, a, now)
    }
    fn release(
        &self,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<Option<pos_core::Money>, pos_store::gift_cards::LedgerError> {
        pos_api::register::tenders::GiftCardLedger::release(&self.inner, key, now)
    }
    fn issue(
        &self,
        key: &str,
        n: &str,
        a: pos_core::Money,
        now: OffsetDateTime,
    ) -> Result<pos_store::gift_cards::Loaded, pos_store::gift_cards::LedgerError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(pos_store::gift_cards::LedgerError::Store(
                pos_store::StoreError::Busy,
            ));
        }
        self.inner.issue(key, n, a, now)
    }
    fn top_up(
        &self,
        key: &str,
        n: &str,
        a: pos_core::Money,
        now: OffsetDateTime,
    ) -> Result<pos_store::gift_cards::Loaded, pos_store::gift_cards::LedgerError> {
        self.inner.top_up(key, n, a, now)
    }
    fn entries(
        &self,
        n: &str,
        limit: usize,
    ) -> Result<Vec<pos_store::gift_cards::GiftCardEntry>, pos_store::gift_cards::LedgerError> {
        self.inner.entries(n, limit)
    }
}

#[test]
fn a_card_sold_while_the_ledger_is_unreachable_is_activated_once_it_answers() {
    let f = open(pos_store::Country::Es);
    let db = f.db.clone();
    let ledger = Arc::new(Unreachable {
        inner: pos_api::register::tenders::LocalLedger::open(&db).unwrap(),
        down: true.into(),
    });
    let customers = Arc::new(pos_api::register::tenders::LocalLedger::open(&db).unwrap());
    // The same terminal with the shop's ledger down.
    let config = f.register.config().clone();
    let clock = minute_clock(time::macros::datetime!(2026-11-22 12:00 UTC));
    let r = {
        let _inside = f.rt.enter();
        let r = Register::open(config, Arc::new(NoEvents), clock)
            .unwrap()
            .with_ledgers(pos_api::register::tenders::Ledgers {
                gift_cards: ledger.clone(),
                customers,
            });
        let r = Arc::new(r);
        r.start();
        r
    };
    f.block(async {
        r.login(CASHIER.into()).await.unwrap();
        let sale = r
            .sell_gift_card(Some("7001 5555 0001".into()), 3_000)
            .await
            .unwrap();
        let paid = pay_cash(&r, &sale).await;
        assert!(
            paid.completed.is_some(),
            "the sale completes: the card waits"
        );
        assert_eq!(
            r.check_gift_card("700155550001".into())
                .await
                .unwrap_err()
                .code,
            "gift_card.unknown"
        );
    });
    assert_eq!(
        f.sql::<i64>("SELECT count(*) FROM gift_card_activation WHERE done_at IS NULL AND last_error IS NOT NULL"),
        1
    );
    // The ledger answers again; the next sale (or the next start) activates the card, once.
    ledger
        .down
        .store(false, std::sync::atomic::Ordering::SeqCst);
    f.block(async {
        let sale = r.scan(f.any_barcode()).await.unwrap();
        pay_cash(&r, &sale).await;
        let card = r.check_gift_card("700155550001".into()).await.unwrap();
        assert_eq!(card.balance.minor, 3_000);
        assert_eq!(card.entries.len(), 1);
    });
    assert_eq!(
        f.sql::<i64>("SELECT count(*) FROM gift_card_activation WHERE done_at IS NULL"),
        0
    );
}

#[test]
fn an_account_paid_by_card_goes_through_the_terminal_and_not_the_drawer() {
    let f = open(pos_store::Country::Es);
    f.block(async {
        let r = &f.register;
        r.login(MANAGER.into()).await.unwrap();
        let total = r.scan(f.barcode(2100)).await.unwrap().total.minor;
        r.pay_on_account("c-0003".into(), total).await.unwrap();
        let before = r.x_report(false).await.unwrap().expected.minor;
        let mut paid = None;
        for _ in 0..1000 {
            match r
                .pay_account("c-0003".into(), total, AccountTenderDto::Card, None)
                .await
            {
                Ok(p) => {
                    paid = Some(p);
                    break;
                }
                // The simulated terminal starts in the background.
                Err(e) if e.code == "pay.terminal_unavailable" || e.code == "pay.terminal_busy" => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        let paid = paid.expect("the payment terminal never came up");
        assert_eq!(paid.customer.account_balance.minor, 0);
        assert_eq!(paid.change.minor, 0);
        let text = paid.receipt.lines.join("\n");
        assert!(text.contains("Tarjeta"), "{text}");
        assert_eq!(
            r.x_report(false).await.unwrap().expected.minor,
            before,
            "a card payment puts nothing in the drawer"
        );
    });
}

/// The app stops after the terminal approved an account payment by card but before the account
/// entry was written: the next payment (or the next start) records it with the terminal's
/// approval, exactly once, and the card is never charged again.
#[test]
fn an_account_payment_by_card_interrupted_after_the_charge_is_recorded_once() {
    let f = open(pos_store::Country::Es);
    let total = f.block(async {
        let r = &f.register;
        r.login(MANAGER.into()).await.unwrap();
        let total = r.scan(f.barcode(2100)).await.unwrap().total.minor;
        r.pay_on_account("c-0003".into(), total).await.unwrap();
        total
    });
    // The account entry cannot be written (as if the app died right after the approval).
    rusqlite::Connection::open(&f.db)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER test_crash BEFORE INSERT ON account_payment \
             BEGIN SELECT RAISE(ABORT, 'simulated crash'); END;",
        )
        .unwrap();
    f.block(async {
        let r = &f.register;
        let e = loop {
            match r
                .pay_account("c-0003".into(), total, AccountTenderDto::Card, None)
                .await
            {
                Err(e) if e.code == "pay.terminal_unavailable" || e.code == "pay.terminal_busy" => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await
                }
                other => break other.unwrap_err(),
            }
        };
        assert_ne!(e.code, "pay.terminal_unavailable", "{e:?}");
    });
    let approved = || -> i64 {
        f.sql(
            "SELECT count(*) FROM pending_payments WHERE json_extract(record, '$.kind') = 'sale' \
             AND json_extract(record, '$.state.state') = 'approved'",
        )
    };
    assert_eq!(approved(), 1, "the terminal approved the charge");
    assert_eq!(f.sql::<i64>("SELECT count(*) FROM account_payment"), 0);
    assert_eq!(
        f.sql::<i64>("SELECT count(*) FROM setting WHERE key LIKE 'account_payment.draft.%'"),
        1,
        "the payment's draft is kept"
    );
    rusqlite::Connection::open(&f.db)
        .unwrap()
        .execute_batch("DROP TRIGGER test_crash;")
        .unwrap();
    f.block(async {
        let r = &f.register;
        // The next payment finishes the interrupted one first: the account is paid, so this
        // one (for more than is owed now) is refused.
        let e = r
            .pay_account("c-0003".into(), 100, AccountTenderDto::Cash, None)
            .await
            .unwrap_err();
        assert_eq!(e.code, "customer.pays_more_than_owed", "{e:?}");
        let c = r.find_customers("c-0003".into(), 5).await.unwrap();
        assert_eq!(
            c[0].account_balance.minor, 0,
            "the card payment paid the account"
        );
    });
    assert_eq!(f.sql::<i64>("SELECT count(*) FROM account_payment"), 1);
    assert_eq!(
        f.sql::<String>("SELECT tender FROM account_payment"),
        "card"
    );
    assert_eq!(
        f.sql::<i64>("SELECT count(*) FROM setting WHERE key LIKE 'account_payment.draft.%'"),
        0
    );
    assert_eq!(approved(), 1, "the card was charged once");
}
