//! Cash management at the register, on a real SQLite file with the demo catalog and the
//! simulated devices: who may do what; a day of cash and card sales with change, a drop to the
//! safe and a no-sale, closed with a blind count that is short; the Z report as printed (decoded
//! from the printer's bytes) in Spanish and in Japanese; and the store setting that makes sales
//! wait for a counted float.

mod support;

use pos_api::Api;
use pos_api::dto::{CashDirectionDto, CashReportDto, DenominationCountDto, TenderKindDto};
use pos_api::register::RegisterConfig;
use std::sync::Arc;
use support::{
    ADMIN, CASHIER, MANAGER, Recorded, RegisterOnDisk, StepClock, barcode_at_rate, demo_config,
    pay_card, reason,
};

type Fixture = RegisterOnDisk;

fn open(country: pos_store::Country) -> Fixture {
    open_with(country, Default::default())
}

/// T01 of a store in `country` with 300 demo products and `devices`, on a clock that starts at
/// 2026-11-22 08:00 UTC and moves a minute a reading.
fn open_with(country: pos_store::Country, devices: pos_hardware::config::DeviceConfig) -> Fixture {
    RegisterOnDisk::open_in(
        tempfile::tempdir().unwrap(),
        |db| RegisterConfig {
            devices,
            ..demo_config(db, "T01", 300, country)
        },
        Arc::new(Recorded::default()),
        StepClock::new(
            time::macros::datetime!(2026-11-22 08:00 UTC),
            time::Duration::minutes(1),
        ),
    )
}

impl Fixture {
    /// A product of the demo catalog at `bps`, by barcode.
    fn barcode(&self, bps: i64) -> String {
        barcode_at_rate(&self.db, bps)
    }
}

fn count(value: i64, quantity: i64) -> DenominationCountDto {
    DenominationCountDto { value, quantity }
}

#[test]
fn a_cashier_may_open_the_register_but_needs_a_manager_for_the_rest() {
    let f = open(pos_store::Country::Es);
    f.block(async {
        let r = &f.register;
        assert_eq!(
            r.cash_status().await.unwrap_err().code,
            "auth.required",
            "nothing without a login"
        );
        r.login(CASHIER.into()).await.unwrap();
        let status = r.open_register(vec![count(1_000, 5)]).await.unwrap();
        assert_eq!(
            status.session.as_ref().map(|s| s.float.minor),
            Some(5_000),
            "a cashier counts her own float"
        );
        assert_eq!(r.x_report(false).await.unwrap_err().code, "cash.forbidden");
        let closed = r.close_register(vec![count(1_000, 5)]).await.unwrap_err();
        assert_eq!(closed.code, "cash.forbidden");
        assert_eq!(closed.params["permission"], "end_of_day");
        assert_eq!(
            r.z_report(1, false).await.unwrap_err().code,
            "cash.forbidden"
        );
        assert_eq!(
            r.set_require_opening_float(true).await.unwrap_err().code,
            "cash.forbidden"
        );
        let out = r
            .cash_movement(CashDirectionDto::Out, 2_000, reason("safe_drop"), None)
            .await
            .unwrap_err();
        assert_eq!(out.code, "auth.approval_required");
        assert_eq!(out.params["permission"], "cash_in_out");
        assert_eq!(
            r.no_sale(reason("give_change"), None)
                .await
                .unwrap_err()
                .code,
            "auth.approval_required"
        );
        assert_eq!(
            r.no_sale(reason("give_change"), Some(CASHIER.into()))
                .await
                .unwrap_err()
                .code,
            "auth.approver_not_allowed",
            "a cashier cannot approve herself"
        );
        assert_eq!(
            r.no_sale(reason("give_change"), Some("4711".into()))
                .await
                .unwrap_err()
                .code,
            "auth.wrong_pin"
        );
        // Marta approves on the spot.
        r.no_sale(reason("give_change"), Some(MANAGER.into()))
            .await
            .unwrap();
        r.cash_movement(
            CashDirectionDto::Out,
            2_000,
            reason("safe_drop"),
            Some(MANAGER.into()),
        )
        .await
        .unwrap();
        // Bad input is refused before any PIN is checked.
        assert_eq!(
            r.cash_movement(CashDirectionDto::In, 0, reason("change_top_up"), None)
                .await
                .unwrap_err()
                .code,
            "cash.non_positive_amount"
        );
        assert_eq!(
            r.cash_movement(CashDirectionDto::In, 500, reason("safe_drop"), None)
                .await
                .unwrap_err()
                .code,
            "checkout.reason_unknown"
        );
        assert_eq!(
            r.cash_movement(CashDirectionDto::Out, 500, reason("other"), None)
                .await
                .unwrap_err()
                .code,
            "checkout.reason_required",
            "\"other\" needs words"
        );
        assert_eq!(
            r.open_register(vec![count(3, 1)]).await.unwrap_err().code,
            "cash.bad_count",
            "there is no 3-cent coin"
        );

        r.logout().await.unwrap();
        r.login(MANAGER.into()).await.unwrap();
        assert_eq!(
            r.open_register(vec![]).await.unwrap_err().code,
            "cash.already_open"
        );
        let x = r.x_report(false).await.unwrap();
        assert_eq!(x.z_number, None);
        assert_eq!(x.no_sales, 1);
        assert_eq!(x.cash_out.minor, 2_000);
        assert_eq!(x.expected.minor, 3_000, "5 × 10 € − 20 € to the safe");
        assert_eq!(
            r.set_require_opening_float(true).await.unwrap_err().code,
            "cash.forbidden",
            "settings are for administrators"
        );
    });
    // Every cash action is in the audit trail, and the trail is intact.
    let store = pos_store::Store::open(&f.db).unwrap();
    let actions: Vec<String> = store
        .audit_entries(0, 100)
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    for a in [
        "register_opened",
        "approval_failed",
        "no_sale",
        "cash_out",
        "x_report",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} missing from {actions:?}"
        );
    }
    assert!(store.verify_audit().unwrap().intact());
}

/// The figures a Z report must show for the day sold in `a_day_of_sales`.
struct Day {
    cash_total: i64,
    card_total: i64,
    change: i64,
    float: i64,
}

/// Opens with 100 € (Marta), sells a cash sale paid with a 50 € note and a card sale (Ana), and
/// drops 20 € into the safe (Marta approving).
fn a_day_of_sales(f: &Fixture) -> Day {
    let hi = f.barcode(2100);
    let lo = f.barcode(400);
    f.block(async {
        let r = &f.register;
        r.login(MANAGER.into()).await.unwrap();
        // 1 × 50 €, 2 × 20 €, 1 × 5 €, 2 × 2 €, 2 × 0,50 € = 100 €
        r.open_register(vec![
            count(5_000, 1),
            count(2_000, 2),
            count(500, 1),
            count(200, 2),
            count(50, 2),
        ])
        .await
        .unwrap();
        r.logout().await.unwrap();
        r.login(CASHIER.into()).await.unwrap();
        r.scan(hi.clone()).await.unwrap();
        let cash_total = r.scan(lo.clone()).await.unwrap().total.minor;
        assert!(cash_total < 5_000);
        let done = r
            .pay(TenderKindDto::Cash, 5_000)
            .await
            .unwrap()
            .completed
            .unwrap();
        assert_eq!(done.change.minor, 5_000 - cash_total);
        r.scan(hi.clone()).await.unwrap();
        let card_total = r.scan(hi).await.unwrap().total.minor;
        assert!(pay_card(r, card_total).await.completed.is_some());
        r.cash_movement(
            CashDirectionDto::Out,
            2_000,
            reason("safe_drop"),
            Some(MANAGER.into()),
        )
        .await
        .unwrap();
        r.logout().await.unwrap();
        Day {
            cash_total,
            card_total,
            change: 5_000 - cash_total,
            float: 10_000,
        }
    })
}

fn close_short_by(f: &Fixture, expected: i64, short: i64) -> CashReportDto {
    let counted = expected - short;
    f.block(async {
        let r = &f.register;
        r.login(MANAGER.into()).await.unwrap();
        // Counted in 10-cent coins and 1-cent coins: what matters is the total.
        r.close_register(vec![count(10, counted / 10), count(1, counted % 10)])
            .await
            .unwrap()
    })
}

#[test]
fn a_day_of_cash_and_card_sales_closes_with_the_right_over_short_and_a_spanish_z_report() {
    let f = open(pos_store::Country::Es);
    let day = a_day_of_sales(&f);
    let expected = day.float + day.cash_total - 2_000;
    let z = close_short_by(&f, expected, 150);
    assert_eq!(z.z_number, Some(1));
    assert_eq!(z.sales, 2);
    assert_eq!(z.total.minor, day.cash_total + day.card_total);
    let tender = |k: TenderKindDto| z.tenders.iter().find(|t| t.kind == k).unwrap();
    assert_eq!(tender(TenderKindDto::Cash).amount.minor, day.cash_total);
    assert_eq!(tender(TenderKindDto::Card).amount.minor, day.card_total);
    assert_eq!(z.cash_taken.minor, 5_000);
    assert_eq!(z.change_given.minor, day.change);
    assert_eq!(
        z.expected.minor, expected,
        "100 € + cash sale − 20 € to the safe"
    );
    assert_eq!(z.counted.as_ref().unwrap().minor, expected - 150);
    assert_eq!(z.over_short.as_ref().unwrap().minor, -150, "1,50 € short");
    let taxes: i64 = z.taxes.iter().map(|t| t.gross.minor).sum();
    assert_eq!(taxes, z.total.minor, "taxes per rate add up to the sales");
    assert_eq!(z.first_receipt.as_deref(), Some("T01-000001"));
    assert_eq!(z.cashiers.len(), 1, "Ana sold both");
    assert_eq!(
        (z.cashiers[0].name.as_str(), z.cashiers[0].sales),
        ("Ana", 2)
    );
    assert_eq!(z.last_receipt.as_deref(), Some("T01-000002"));

    // Printed: two receipts, then the Z report, decoded from the printer's bytes.
    let printed = f.printed(3);
    let text = printed
        .iter()
        .find(|p| p.contains("INFORME Z"))
        .unwrap_or_else(|| panic!("no Z report printed: {printed:#?}"));
    let money = |m: i64| {
        pos_api::locale::format_money(
            pos_core::Money::new(m, pos_core::Currency::Eur),
            pos_api::locale::Lang::Es,
        )
    };
    for want in [
        "INFORME Z - CIERRE DE CAJA".to_owned(),
        "T01-Z0001".to_owned(),
        "T01-000001 - T01-000002".to_owned(),
        "Cerrada por".to_owned(),
        "Marta".to_owned(),
        "Efectivo (1)".to_owned(),
        money(day.cash_total),
        "Tarjeta (1)".to_owned(),
        money(day.card_total),
        "IVA 21% Base".to_owned(),
        "IVA 4% Base".to_owned(),
        "Fondo inicial".to_owned(),
        "100,00 €".to_owned(),
        "Cambio entregado".to_owned(),
        money(-day.change),
        "Salidas de efectivo".to_owned(),
        "-20,00 €".to_owned(),
        "Efectivo esperado".to_owned(),
        money(expected),
        "Efectivo contado".to_owned(),
        money(expected - 150),
        "DESCUADRE".to_owned(),
        "-1,50 €".to_owned(),
        "Retirada a caja fuerte".to_owned(),
        "Por cajero".to_owned(),
        "Ana (2)".to_owned(),
        // The count as it was keyed, piece by piece.
        format!(
            "Contado: {} x 0,10 € = {}",
            (expected - 150) / 10,
            money((expected - 150) / 10 * 10)
        ),
    ] {
        assert!(text.contains(&want), "the Z report lacks {want:?}:\n{text}");
    }
    assert_eq!(
        z.printed.lines.join("\n").trim(),
        text.trim(),
        "the screen shows what printed"
    );

    // Stored and queued for the shop, once.
    let c = rusqlite::Connection::open(&f.db).unwrap();
    let (kind, key): (String, String) = c
        .query_row(
            "SELECT kind, idempotency_key FROM outbox WHERE kind = 'z_report'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((kind.as_str(), key.as_str()), ("z_report", "z:T01:1"));

    f.block(async {
        let r = &f.register;
        let again = r.z_report(1, true).await.unwrap();
        assert_eq!(
            again.over_short, z.over_short,
            "a Z report reads back as made"
        );
        let status = r.cash_status().await.unwrap();
        assert!(status.session.is_none(), "the register is closed");
        assert_eq!(status.last_z_number, 1);
        assert_eq!(r.x_report(false).await.unwrap_err().code, "cash.not_open");
    });
    // Printed again on request: the same report, marked as a copy.
    let printed = f.printed(4);
    assert_eq!(printed.len(), 4, "two receipts, the Z report and its copy");
    assert!(printed[3].contains("T01-Z0001") && printed[3].contains("*** COPIA ***"));
    assert!(!printed[2].contains("COPIA"), "the original is no copy");
}

#[test]
fn a_japanese_z_report_reads_in_japanese_in_whole_yen() {
    let f = open(pos_store::Country::Jp);
    let item = f.barcode(800);
    let z = f.block(async {
        let r = &f.register;
        r.login(MANAGER.into()).await.unwrap();
        // ¥10,000 × 1 + ¥1,000 × 5 + ¥100 × 10 = ¥16,000
        let status = r
            .open_register(vec![count(10_000, 1), count(1_000, 5), count(100, 10)])
            .await
            .unwrap();
        assert_eq!(status.currency, "JPY");
        assert!(
            status
                .denominations
                .iter()
                .any(|d| d.value == 2_000 && d.kind == "note")
        );
        assert!(
            status
                .denominations
                .iter()
                .any(|d| d.value == 1 && d.kind == "coin")
        );
        let total = r.scan(item.clone()).await.unwrap().total.minor;
        let paid = r.pay(TenderKindDto::Cash, 10_000).await.unwrap();
        assert!(paid.completed.is_some());
        let expected = 16_000 + total;
        // Counted ¥1 over.
        let mut counts = vec![count(10_000, 1), count(1_000, 5), count(100, 10)];
        counts.push(count(1, total + 1));
        let z = r.close_register(counts).await.unwrap();
        assert_eq!(z.expected.minor, expected);
        assert_eq!(z.over_short.as_ref().unwrap().minor, 1, "¥1 over");
        z
    });
    let printed = f.printed(2);
    let text = printed
        .iter()
        .find(|p| p.contains("Zレポート"))
        .unwrap_or_else(|| panic!("no Z report printed: {printed:#?}"));
    for want in [
        "Zレポート（精算）",
        "精算番号",
        "T01-Z0001",
        "レジ",
        "2026年11月22日",
        "現金 (1)",
        "8%対象",
        "内消費税",
        "釣銭準備金",
        "16,000円",
        "現金在高（理論）",
        "現金在高（実査）",
        "過不足",
        "+1円",
    ] {
        assert!(text.contains(want), "the Z report lacks {want:?}:\n{text}");
    }
    assert!(!text.contains(".00"), "yen has no decimals:\n{text}");
    assert_eq!(z.z_number, Some(1));
}

#[test]
fn sales_open_the_register_themselves_unless_the_store_requires_a_counted_float() {
    let f = open(pos_store::Country::Es);
    let item = f.barcode(2100);
    f.block(async {
        let r = &f.register;
        r.login(CASHIER.into()).await.unwrap();
        // By default the first sale of the day opens the register with a zero float.
        let total = r.scan(item.clone()).await.unwrap().total.minor;
        r.pay(TenderKindDto::Cash, total).await.unwrap();
        let status = r.cash_status().await.unwrap();
        let session = status.session.expect("the sale opened the register");
        assert!(session.auto_opened);
        assert_eq!(session.float.minor, 0);
        r.logout().await.unwrap();

        r.login(MANAGER.into()).await.unwrap();
        let z = r.close_register(vec![count(1, total)]).await.unwrap();
        assert!(z.auto_opened);
        assert_eq!(z.over_short.as_ref().unwrap().minor, 0);
        r.logout().await.unwrap();

        // A sale is being rung up when the administrator turns the setting on.
        r.login(CASHIER.into()).await.unwrap();
        r.scan(item.clone()).await.unwrap();
        r.logout().await.unwrap();
        r.login(ADMIN.into()).await.unwrap();
        assert!(
            r.set_require_opening_float(true)
                .await
                .unwrap()
                .require_opening_float
        );
        r.logout().await.unwrap();

        r.login(CASHIER.into()).await.unwrap();
        assert_eq!(
            r.scan(item.clone()).await.unwrap_err().code,
            "cash.float_required",
            "no selling before the float is counted"
        );
        assert_eq!(
            r.pay(TenderKindDto::Card, total).await.unwrap_err().code,
            "cash.float_required",
            "no card is charged for a sale that cannot be committed"
        );
        r.open_register(vec![count(2_000, 5)]).await.unwrap();
        let done = r.pay(TenderKindDto::Cash, total).await.unwrap();
        assert!(done.completed.is_some());
        assert!(
            !r.cash_status().await.unwrap().session.unwrap().auto_opened,
            "opened by hand"
        );
        assert_eq!(done.completed.unwrap().receipt_number, "T01-000002");
        // The register cannot close with a sale in progress.
        r.scan(item).await.unwrap();
        r.logout().await.unwrap();
        r.login(MANAGER.into()).await.unwrap();
        assert_eq!(
            r.close_register(vec![count(2_000, 5)])
                .await
                .unwrap_err()
                .code,
            "cash.sale_in_progress"
        );
    });
    let c = rusqlite::Connection::open(&f.db).unwrap();
    let attempts: i64 = c
        .query_row("SELECT count(*) FROM pending_payments", [], |r| r.get(0))
        .unwrap();
    assert_eq!(attempts, 0, "the card terminal was never asked");
}

#[test]
fn on_58_mm_paper_the_z_report_fits_the_roll_in_spanish_and_in_japanese() {
    use unicode_width::UnicodeWidthStr;
    for (country, want) in [
        (pos_store::Country::Es, "DESCUADRE"),
        (pos_store::Country::Jp, "過不足"),
    ] {
        let mut devices = pos_hardware::config::DeviceConfig::default();
        devices.printer.paper = pos_hardware::escpos::PaperWidth::Mm58;
        let f = open_with(country, devices);
        let z = f.block(async {
            let r = &f.register;
            r.login(MANAGER.into()).await.unwrap();
            r.open_register(vec![count(1_000, 2)]).await.unwrap();
            r.cash_movement(CashDirectionDto::Out, 500, reason("petty_cash"), None)
                .await
                .unwrap();
            r.close_register(vec![count(1_000, 1), count(500, 1)])
                .await
                .unwrap()
        });
        assert_eq!(z.over_short.as_ref().unwrap().minor, 0);
        assert_eq!(z.printed.width_chars, 32);
        let printed = f.printed(1);
        let text = printed.last().expect("the Z report printed");
        assert!(text.contains(want), "{text}");
        for line in text.lines() {
            assert!(
                line.width() <= 32,
                "{line:?} is wider than 58 mm paper:\n{text}"
            );
        }
    }
}

#[test]
fn beyond_the_tolerance_a_first_count_that_does_not_match_is_counted_again_blind() {
    let f = open(pos_store::Country::Es);
    let item = f.barcode(400);
    f.block(async {
        let r = &f.register;
        r.login(ADMIN.into()).await.unwrap();
        let status = r.set_recount_tolerance(Some(100)).await.unwrap();
        assert_eq!(status.recount_tolerance, Some(100), "1 € either way");
        r.logout().await.unwrap();
        r.login(MANAGER.into()).await.unwrap();
        r.open_register(vec![count(2_000, 2)]).await.unwrap();
        let total = r.scan(item).await.unwrap().total.minor;
        r.pay(TenderKindDto::Cash, total).await.unwrap();
        let expected = 4_000 + total;
        let off = |minor: i64| vec![count(10, minor / 10), count(1, minor % 10)];
        // 1,50 € short: beyond the tolerance, counted again; nothing says how much or which way.
        let again = r.close_register(off(expected - 150)).await.unwrap_err();
        assert_eq!(again.code, "cash.recount");
        assert!(again.params.is_empty(), "{again:?}");
        assert!(!again.message.contains("1,50") && !again.message.contains("150"));
        assert!(
            r.cash_status().await.unwrap().session.is_some(),
            "still open"
        );
        // The second blind count closes, whatever it says.
        let z = r.close_register(off(expected - 120)).await.unwrap();
        assert_eq!(z.over_short.as_ref().unwrap().minor, -120);
        assert_eq!(z.z_number, Some(1));
        // The next day a count within the tolerance closes at once.
        r.open_register(vec![count(2_000, 2)]).await.unwrap();
        let z = r.close_register(off(4_000 + 80)).await.unwrap();
        assert_eq!(z.over_short.as_ref().unwrap().minor, 80);
        assert_eq!(z.z_number, Some(2));
    });
    let printed = f.printed(3);
    let first_z = printed
        .iter()
        .find(|p| p.contains("T01-Z0001"))
        .expect("Z 1 printed");
    assert!(first_z.contains("Recuentos: 2"), "{first_z}");
    let store = pos_store::Store::open(&f.db).unwrap();
    let asked: Vec<_> = store
        .audit_entries(0, 100)
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "recount_asked")
        .collect();
    assert_eq!(asked.len(), 1, "the first count is on record");
    assert_eq!(
        asked[0].detail["counted"],
        expected_of(&asked[0].detail) - 150
    );
}

fn expected_of(detail: &serde_json::Value) -> i64 {
    detail["expected"].as_i64().unwrap()
}

#[test]
fn an_english_x_report_in_dollars_prints_and_leaves_the_register_open() {
    let f = open(pos_store::Country::Us);
    f.block(async {
        let r = &f.register;
        r.login(MANAGER.into()).await.unwrap();
        let status = r.cash_status().await.unwrap();
        assert_eq!(status.currency, "USD");
        assert!(
            status
                .denominations
                .iter()
                .any(|d| d.value == 25 && d.kind == "coin")
        );
        // $20 × 2 + 25¢ × 4 = $41.00
        r.open_register(vec![count(2_000, 2), count(25, 4)])
            .await
            .unwrap();
        r.cash_movement(CashDirectionDto::In, 1_000, reason("change_top_up"), None)
            .await
            .unwrap();
        let x = r.x_report(true).await.unwrap();
        assert_eq!(x.z_number, None);
        assert_eq!(x.expected.minor, 5_100);
        assert!(
            r.cash_status().await.unwrap().session.is_some(),
            "still open"
        );
    });
    let printed = f.printed(1);
    let text = printed.last().expect("the X report printed");
    for want in [
        "X REPORT (REGISTER STAYS OPEN)",
        "Opening float",
        "$41.00",
        "Cash in",
        "$10.00",
        "Expected cash",
        "$51.00",
        "Change top-up",
    ] {
        assert!(text.contains(want), "the X report lacks {want:?}:\n{text}");
    }
    assert!(
        !text.contains("OVER/SHORT"),
        "an X report has no count:\n{text}"
    );
}
