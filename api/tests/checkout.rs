//! Sale-editing actions with permissions, on a real SQLite file with the demo catalog and the
//! demo staff (Ana cashier 1234, Marta manager 9999, Admin 0000): every privileged command is
//! refused for a cashier unless a manager's PIN approves it; wrong PINs are refused, count
//! toward the lockout and are recorded; each action writes exactly the audit rows expected and
//! the chain verifies; voids, parking (across a restart) and reprints work as a cashier needs.

mod support;

use pos_api::Api;
use pos_api::dto::{DiscountDto, ReasonDto, SaleDto, TenderKindDto};
use pos_api::register::Register;
use pos_store::{AuditRecord, Store};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{
    FixedClock, Recorded, RegisterOnDisk, TEN_PERCENT, demo_config, reason, start_register_on,
    two_barcodes,
};

type Fixture = RegisterOnDisk;

/// What the registers' clock always reads.
const NOW: time::OffsetDateTime = time::macros::datetime!(2026-11-22 10:30 UTC);

/// T01 of a store in `country` with 100 demo products, always at `NOW`.
fn start_in(rt: &tokio::runtime::Runtime, db: &Path, country: pos_store::Country) -> Arc<Register> {
    start_register_on(
        rt,
        demo_config(db, "T01", 100, country),
        Arc::new(Recorded::default()),
        FixedClock::at(NOW),
    )
}

fn start(rt: &tokio::runtime::Runtime, db: &Path) -> Arc<Register> {
    start_in(rt, db, pos_store::Country::Es)
}

fn open() -> Fixture {
    open_in(pos_store::Country::Es)
}

fn open_in(country: pos_store::Country) -> Fixture {
    RegisterOnDisk::open(
        100,
        country,
        Arc::new(Recorded::default()),
        FixedClock::at(NOW),
    )
}

impl Fixture {
    /// The audit trail as another program reads it.
    fn audit(&self) -> Vec<AuditRecord> {
        Store::open(&self.db)
            .unwrap()
            .audit_entries(0, 1000)
            .unwrap()
    }

    fn actions(&self) -> Vec<String> {
        self.audit().into_iter().map(|r| r.action).collect()
    }
}

/// Ana rings up two lines; returns the sale.
async fn two_lines(r: &Register, db: &Path) -> SaleDto {
    let (a, b) = two_barcodes(db);
    r.login("1234".into()).await.unwrap();
    r.scan(a).await.unwrap();
    r.scan(b).await.unwrap()
}

#[test]
fn a_cashier_is_refused_every_privileged_action_without_approval_and_nothing_changes() {
    let f = open();
    f.block(async {
        let r = &f.register;
        let sale = two_lines(r, &f.db).await;
        let line = sale.lines[0].id;
        let refusals = [
            (
                "line_discount",
                r.set_line_discount(line, TEN_PERCENT, reason("damaged"), None)
                    .await,
            ),
            (
                "order_discount",
                r.set_order_discount(TEN_PERCENT, reason("customer_care"), None)
                    .await,
            ),
            (
                "price_override",
                r.override_price(line, 1, reason("price_match"), None).await,
            ),
            ("void_sale", r.void_sale(reason("other_but_no"), None).await),
        ];
        for (permission, result) in refusals {
            let e = result.expect_err(permission);
            if permission == "void_sale" {
                // An unknown reason is refused before anyone is asked for a PIN.
                assert_eq!(e.code, "checkout.reason_unknown");
                let e = r.void_sale(reason("other"), None).await.unwrap_err();
                assert_eq!(e.code, "checkout.reason_required", "other needs words");
                let e = r
                    .void_sale(
                        Some(ReasonDto {
                            code: "other".into(),
                            note: Some("customer left".into()),
                        }),
                        None,
                    )
                    .await
                    .unwrap_err();
                assert_eq!(e.code, "auth.approval_required");
                assert_eq!(e.params["permission"], "void_sale");
            } else {
                assert_eq!(e.code, "auth.approval_required", "{permission}");
                assert_eq!(e.params["permission"], permission);
            }
        }
        assert_eq!(
            r.current_sale().await.unwrap().lines,
            sale.lines,
            "the sale is as it was"
        );
    });
    assert!(
        f.audit().is_empty(),
        "asking for approval is not an action: {:?}",
        f.actions()
    );
}

#[test]
fn a_managers_pin_approves_on_the_spot_and_the_approval_is_recorded() {
    let f = open();
    let (sale, line1_after, after) = f.block(async {
        let r = &f.register;
        let sale = two_lines(r, &f.db).await;
        let (l1, l2) = (sale.lines[0].id, sale.lines[1].id);
        let price1 = sale.lines[0].unit_price.minor;
        let amount2 = sale.lines[1].amount.minor;

        // 10 % off line 1, approved by Marta.
        let started = Instant::now();
        let s = r
            .set_line_discount(l1, TEN_PERCENT, reason("damaged"), Some("9999".into()))
            .await
            .unwrap();
        eprintln!(
            "line discount approved by PIN (argon2id check + audit row on disk): {:?}",
            started.elapsed()
        );
        let disc = s.lines[0].line_discount.clone().expect("discount shown");
        assert_eq!(disc.percent_bps, Some(1000));
        assert_eq!(disc.approved_by.as_deref(), Some("Marta"));
        assert_eq!(disc.reason.as_deref(), Some("damaged"));
        let ten_percent = (price1 * 1000 + 5000) / 10_000;
        assert_eq!(disc.amount.minor, ten_percent);
        assert_eq!(s.lines[0].amount.minor, price1 - ten_percent);
        let line1_after = s.lines[0].amount.minor;

        // Line 2's price overridden to 1,00 €.
        let s = r
            .override_price(l2, 100, reason("price_match"), Some("9999".into()))
            .await
            .unwrap();
        assert_eq!(s.lines[1].amount.minor, 100);
        assert_eq!(
            s.lines[1].original_price.as_ref().map(|m| m.minor),
            Some(amount2)
        );
        assert!(s.lines[1].price_overridden);

        // 1,00 € off the whole sale, approved by the admin.
        let before_order = s.total.minor;
        let s = r
            .set_order_discount(
                Some(DiscountDto::Amount { minor: 100 }),
                reason("customer_care"),
                Some("0000".into()),
            )
            .await
            .unwrap();
        assert_eq!(s.total.minor, before_order - 100);
        let od = s.order_discount.clone().expect("order discount shown");
        assert_eq!(od.amount.minor, 100);
        assert_eq!(od.approved_by.as_deref(), Some("Admin"));
        (sale, line1_after, s)
    });

    let audit = f.audit();
    assert_eq!(
        audit.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["line_discount", "price_override", "order_discount"]
    );
    for a in &audit {
        assert_eq!(a.user_id.as_deref(), Some("u-ana"), "who asked");
        assert_eq!(a.terminal_id, "T01");
        assert_eq!(a.at, NOW);
    }
    assert_eq!(audit[0].approver_id.as_deref(), Some("u-marta"));
    assert_eq!(audit[1].approver_id.as_deref(), Some("u-marta"));
    assert_eq!(audit[2].approver_id.as_deref(), Some("u-admin"));
    // What, before and after, and why.
    let d = &audit[0].detail;
    assert_eq!(d["line"], sale.lines[0].id);
    assert_eq!(d["reason"], "damaged");
    assert_eq!(d["before"]["amount"], sale.lines[0].amount.minor);
    assert_eq!(d["after"]["amount"], line1_after);
    assert_eq!(d["total_before"], sale.total.minor);
    let d = &audit[1].detail;
    assert_eq!(d["before"]["unit_price"], sale.lines[1].unit_price.minor);
    assert_eq!(d["after"]["unit_price"], 100);
    assert_eq!(d["reason"], "price_match");
    assert_eq!(audit[2].detail["total_after"], after.total.minor);
    assert!(Store::open(&f.db).unwrap().verify_audit().unwrap().intact());
}

#[test]
fn a_wrong_pin_is_refused_counts_toward_the_lockout_and_is_recorded() {
    let f = open();
    f.block(async {
        let r = &f.register;
        let sale = two_lines(r, &f.db).await;
        let line = sale.lines[0].id;
        let e = r
            .set_line_discount(line, TEN_PERCENT, reason("damaged"), Some("5555".into()))
            .await
            .unwrap_err();
        assert_eq!(e.code, "auth.wrong_pin");
        assert_eq!(e.params["attemptsLeft"], "4");
        // The cashier's own PIN is a right PIN, but not one that may approve.
        let e = r
            .override_price(line, 1, reason("damaged"), Some("1234".into()))
            .await
            .unwrap_err();
        assert_eq!(e.code, "auth.approver_not_allowed");
        assert_eq!(r.current_sale().await.unwrap().lines, sale.lines);
        // Four more wrong PINs lock the terminal's PINs: even the manager's right one.
        for _ in 0..4 {
            let e = r
                .void_sale(reason("staff"), Some("5555".into()))
                .await
                .unwrap_err();
            assert!(
                e.code == "auth.wrong_pin" || e.code == "auth.locked",
                "{e:?}"
            );
        }
        let e = r
            .void_sale(reason("staff"), Some("9999".into()))
            .await
            .unwrap_err();
        assert_eq!(e.code, "auth.locked");
        assert_eq!(
            r.current_sale().await.unwrap().lines.len(),
            2,
            "nothing was voided"
        );
    });
    let audit = f.audit();
    assert_eq!(audit.len(), 7, "{:?}", f.actions());
    assert!(audit.iter().all(|a| a.action == "approval_failed"));
    assert_eq!(audit[0].detail["failure"], "wrong_pin");
    assert_eq!(audit[0].detail["for"], "line_discount");
    assert_eq!(audit[0].approver_id, None);
    assert_eq!(audit[1].detail["failure"], "not_allowed");
    assert_eq!(audit[1].approver_id.as_deref(), Some("u-ana"));
    assert_eq!(audit[1].detail["what"]["after"]["unit_price"], 1);
    assert_eq!(audit[5].detail["failure"], "locked");
    assert_eq!(audit[6].detail["failure"], "locked");
}

#[test]
fn a_manager_needs_no_pin_and_taking_a_discount_off_needs_no_permission() {
    let f = open();
    f.block(async {
        let r = &f.register;
        let (a, _) = two_barcodes(&f.db);
        r.login("9999".into()).await.unwrap();
        let s = r.scan(a).await.unwrap();
        let line = s.lines[0].id;
        let s2 = r
            .set_line_discount(line, TEN_PERCENT, reason("promotion"), None)
            .await
            .unwrap();
        assert!(s2.total.minor < s.total.minor);
        assert_eq!(
            s2.lines[0].line_discount.as_ref().unwrap().approved_by,
            None
        );
        r.logout().await.unwrap();
        r.login("1234".into()).await.unwrap();
        let s3 = r.set_line_discount(line, None, None, None).await.unwrap();
        assert_eq!(s3.total, s.total, "the cashier took the discount off");
    });
    let audit = f.audit();
    assert_eq!(
        audit.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["line_discount", "line_discount_removed"]
    );
    assert_eq!(audit[0].user_id.as_deref(), Some("u-marta"));
    assert_eq!(audit[0].approver_id, None, "her own permission");
    assert_eq!(audit[1].user_id.as_deref(), Some("u-ana"));
}

#[test]
fn voids_are_recorded_and_a_voided_sale_uses_no_receipt_number() {
    let f = open();
    f.block(async {
        let r = &f.register;
        let sale = two_lines(r, &f.db).await;
        // A cashier voids a line herself.
        let s = r.remove_line(sale.lines[1].id).await.unwrap();
        assert_eq!(s.lines.len(), 1);
        // The whole sale: with Marta's PIN.
        let s = r
            .void_sale(reason("customer_care"), Some("9999".into()))
            .await
            .unwrap();
        assert!(s.lines.is_empty());
        // The next sale gets receipt number 1.
        let (a, _) = two_barcodes(&f.db);
        let s = r.scan(a).await.unwrap();
        let done = r
            .pay(TenderKindDto::Cash, s.total.minor)
            .await
            .unwrap()
            .completed
            .unwrap();
        assert_eq!(done.receipt_number, "T01-000001");
    });
    let audit = f.audit();
    assert_eq!(
        audit.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["line_void", "sale_void"]
    );
    assert_eq!(audit[0].approver_id, None);
    assert_eq!(audit[0].detail["line"], 2);
    assert_eq!(audit[1].approver_id.as_deref(), Some("u-marta"));
    assert_eq!(audit[1].detail["line_count"], 1);
    assert_eq!(audit[1].detail["reason"], "customer_care");
    assert_eq!(audit[0].sale_ref, audit[1].sale_ref, "the same sale");
}

#[test]
fn parked_sales_survive_a_restart_and_resume_swaps_with_the_sale_in_progress() {
    let f = open();
    let (a, b) = two_barcodes(&f.db);
    let (first_total, second_total) = f.block(async {
        let r = &f.register;
        r.login("1234".into()).await.unwrap();
        let first = r.scan(a.clone()).await.unwrap();
        let s = r.park_sale().await.unwrap();
        assert!(s.lines.is_empty(), "an empty sale for the next customer");
        assert_eq!(r.park_sale().await.unwrap_err().code, "sale.empty");
        r.scan(b.clone()).await.unwrap();
        let second = r.scan(b.clone()).await.unwrap();
        r.park_sale().await.unwrap();
        (first.total.minor, second.total.minor)
    });
    let Fixture {
        dir: _dir,
        db,
        register,
        rt,
    } = f;
    drop(register);
    let r = start(&rt, &db);
    rt.block_on(async {
        r.login("1234".into()).await.unwrap();
        let list = r.parked_sales().await.unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].total.minor, first_total);
        assert_eq!(list[1].total.minor, second_total);
        assert_eq!(list[0].cashier, "Ana");
        assert_eq!(list[0].line_count, 1);
        assert_eq!(list[0].parked_at, "2026-11-22T10:30:00Z");
        // Something rung up meanwhile is parked when another sale is resumed.
        r.scan(a.clone()).await.unwrap();
        let s = r.resume_sale(list[1].id.clone()).await.unwrap();
        assert_eq!(s.total.minor, second_total);
        assert_eq!(s.lines[0].quantity, 2);
        let list2 = r.parked_sales().await.unwrap();
        assert_eq!(list2.len(), 2, "the first one and the one set aside");
        assert_eq!(
            r.resume_sale(list[1].id.clone()).await.unwrap_err().code,
            "park.not_found",
            "a parked sale resumes once"
        );
        r.start_payment().await.unwrap();
        assert_eq!(
            r.park_sale().await.unwrap_err().code,
            "sale.payment_in_progress"
        );
        assert_eq!(
            r.resume_sale(list[0].id.clone()).await.unwrap_err().code,
            "sale.payment_in_progress"
        );
    });
    let s = Store::open(&db).unwrap();
    let actions: Vec<String> = s
        .audit_entries(0, 100)
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(
        actions,
        ["sale_parked", "sale_parked", "sale_parked", "sale_resumed"]
    );
    assert!(s.verify_audit().unwrap().intact());
}

#[test]
fn the_last_receipt_reprints_marked_as_a_copy_and_is_recorded() {
    let f = open();
    f.block(async {
        let r = &f.register;
        r.login("1234".into()).await.unwrap();
        assert_eq!(
            r.reprint_last_receipt().await.unwrap_err().code,
            "receipt.none"
        );
        let (a, _) = two_barcodes(&f.db);
        let s = r.scan(a).await.unwrap();
        r.pay(TenderKindDto::Cash, s.total.minor).await.unwrap();
        let copy = r.reprint_last_receipt().await.unwrap();
        assert_eq!(copy.receipt_number, "T01-000001");
        assert!(copy.lines.iter().any(|l| l.contains("*** COPIA ***")));
        assert!(
            copy.lines
                .iter()
                .any(|l| l.contains("FACTURA SIMPLIFICADA"))
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        while r.printed_receipts().len() < 2 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let printed = r.printed_receipts();
        assert_eq!(printed.len(), 2, "the receipt and its copy");
        assert!(!printed[0].contains("COPIA"), "the original is no copy");
        assert!(printed[1].contains("*** COPIA ***"), "{}", printed[1]);
        assert!(printed[1].contains("T01-000001"));
    });
    let audit = f.audit();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "receipt_reprinted");
    assert_eq!(audit[0].detail["receipt"], "T01-000001");
}

#[test]
fn a_product_sold_by_weight_with_a_plain_ean_asks_for_its_weight_and_takes_a_typed_one() {
    let f = open();
    let (barcode, variant, price_per_kg): (String, String, i64) = {
        let c = rusqlite::Connection::open(&f.db).unwrap();
        c.query_row(
            "SELECT b.code, v.id, v.price_minor FROM barcode b JOIN variant v ON v.id = b.variant_id \
             JOIN product p ON p.id = v.product_id WHERE p.by_weight = 1 ORDER BY b.code LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("the demo catalog has a product sold by weight")
    };
    f.block(async {
        let r = &f.register;
        r.login("1234".into()).await.unwrap();
        let e = r.scan(barcode.clone()).await.unwrap_err();
        assert_eq!(e.code, "cart.needs_weight");
        assert_eq!(
            e.params["barcode"], barcode,
            "the screen opens the weight entry for it"
        );
        let s = r.add_product(variant, Some(350)).await.unwrap();
        assert!(s.lines[0].by_weight);
        assert_eq!(s.lines[0].quantity, 350);
        assert_eq!(
            s.lines[0].amount.minor,
            (price_per_kg * 350 + 500) / 1000,
            "priced per kg, half up"
        );
    });
}

#[test]
fn typing_ones_own_pin_between_guesses_does_not_keep_the_approval_lock_away() {
    let f = open();
    f.block(async {
        let r = &f.register;
        let sale = two_lines(r, &f.db).await;
        let line = sale.lines[0].id;
        let mut codes = Vec::new();
        for pin in ["1234", "5555", "1234", "5556", "1234", "9999"] {
            let e = r
                .set_line_discount(line, TEN_PERCENT, reason("staff"), Some(pin.into()))
                .await
                .unwrap_err();
            codes.push(e.code);
        }
        assert_eq!(
            codes,
            [
                "auth.approver_not_allowed",
                "auth.wrong_pin",
                "auth.approver_not_allowed",
                "auth.wrong_pin",
                "auth.locked",
                "auth.locked"
            ],
            "the fifth failure in a row locks approvals, even for the manager's right PIN"
        );
        assert_eq!(r.current_sale().await.unwrap().lines, sale.lines);
    });
}

#[test]
fn a_successful_approval_ends_a_streak_of_failures() {
    let f = open();
    f.block(async {
        let r = &f.register;
        let sale = two_lines(r, &f.db).await;
        let line = sale.lines[0].id;
        for pin in ["5555", "5556", "5557", "5558"] {
            let e = r
                .override_price(line, 100, reason("damaged"), Some(pin.into()))
                .await
                .unwrap_err();
            assert_eq!(e.code, "auth.wrong_pin");
        }
        r.override_price(line, 100, reason("damaged"), Some("9999".into()))
            .await
            .unwrap();
        let e = r
            .override_price(line, 90, reason("damaged"), Some("5555".into()))
            .await
            .unwrap_err();
        assert_eq!(e.code, "auth.wrong_pin", "a fresh count");
    });
}

#[test]
fn a_japanese_stores_copy_says_saihakkou() {
    let f = open_in(pos_store::Country::Jp);
    f.block(async {
        let r = &f.register;
        r.login("1234".into()).await.unwrap();
        let code: String = rusqlite::Connection::open(&f.db)
            .unwrap()
            .query_row(
                "SELECT b.code FROM barcode b JOIN variant v ON v.id = b.variant_id \
                 JOIN product p ON p.id = v.product_id WHERE p.by_weight = 0 ORDER BY b.code LIMIT 1",
                [],
                |row| row.get(0),
            )
            .unwrap();
        let s = r.scan(code).await.unwrap();
        r.pay(TenderKindDto::Cash, s.total.minor).await.unwrap();
        let copy = r.reprint_last_receipt().await.unwrap();
        assert!(
            copy.lines.iter().any(|l| l.contains("【再発行】")),
            "{:#?}",
            copy.lines
        );
        assert!(copy.lines.iter().any(|l| l.contains("再発行日時")));
        assert!(copy.lines.iter().any(|l| l.contains("領収書")));
    });
}

#[test]
fn every_checkout_error_code_has_a_message_in_every_ui_language() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib");
    let codes = std::fs::read_to_string(ui.join("errors.ts")).unwrap();
    // The codes checkout.rs and its constructors in errors.rs can answer with.
    let src =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/checkout.rs"))
            .unwrap()
            + &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/errors.rs"))
                .unwrap();
    let ours = [
        "auth.approval_required",
        "auth.approver_not_allowed",
        "checkout.reason_required",
        "checkout.reason_unknown",
        "park.not_found",
        "receipt.none",
    ];
    for code in ours {
        assert!(
            src.contains(&format!("\"{code}\"")),
            "{code} is not answered"
        );
        assert!(
            codes.contains(&format!("'{code}'")),
            "{code} missing in errors.ts"
        );
        for lang in ["en", "es", "ja"] {
            let catalog = std::fs::read_to_string(ui.join(format!("i18n/{lang}.ts"))).unwrap();
            assert!(
                catalog.contains(&format!("'error.{code}':")),
                "{code} has no {lang} message"
            );
        }
    }
}
