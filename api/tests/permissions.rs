//! Every command of the register, classified: open to anyone logged in (or before login), or
//! privileged by one permission of the stored matrix. For every privileged command, on a real
//! SQLite file with the demo data:
//! * a user whose custom role has every permission but that one is refused, with the clear
//!   code (and the permission in `params` where the command says which);
//! * a user whose custom role has only that permission is let through — so the check reads the
//!   stored matrix, not the built-in roles;
//! * where the command takes an approver's PIN, the refused user gets it done with the PIN of
//!   the user who has the permission, and not with the PIN of one who lacks it.
//!
//! The table must name every command in `commands.rs`: a new command fails this test until it
//! is classified here.

mod support;

use pos_api::dispatch;
use pos_api::events::NoEvents;
use pos_api::{Api, ApiError};
use pos_core::auth::Permission;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use support::{ADMIN, RegisterOnDisk, StepClock};

const WITHOUT_PIN: &str = "7001";
const ONLY_PIN: &str = "7002";

/// What has to exist before the command can do its work (made by the admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    Nothing,
    /// A sale in progress with one line.
    Line,
    /// The register open with a float.
    OpenRegister,
    /// A day closed (Z report 1 exists), the register open again.
    ClosedDay,
    /// A shift clocked in and out.
    Shift,
    /// A custom role "Spare" no user has.
    SpareRole,
    /// A deactivated user "Gone".
    GoneUser,
    /// A customer.
    Customer,
    /// The register open and a sale in progress with one line.
    LineOpen,
}

/// What "let through" means for a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accept {
    /// It succeeds.
    Ok,
    /// It gets past the permission check; what follows needs a device or a shop that this test
    /// does not provide (e.g. `device.no_scan`, a refused shop connection).
    PastTheCheck,
}

#[derive(Debug, Clone, Copy)]
enum Class {
    /// No permission: available to anyone (most need a login).
    Open,
    Privileged {
        perm: Permission,
        /// The error code without the permission.
        refused: &'static str,
        /// The command takes `approverPin`.
        approvable: bool,
        setup: Setup,
        accept: Accept,
        /// Permissions the command also needs besides `perm` (given to the "Only" role too).
        also: &'static [Permission],
        /// Permissions that let it through instead of `perm` (kept from the "Without" role).
        instead: &'static [Permission],
    },
}

fn p(
    perm: Permission,
    refused: &'static str,
    approvable: bool,
    setup: Setup,
    accept: Accept,
) -> Class {
    Class::Privileged {
        perm,
        refused,
        approvable,
        setup,
        accept,
        also: &[],
        instead: &[],
    }
}

/// Like [`p`] (no approval, no setup), for a command that `instead` also lets through.
fn p_or(
    perm: Permission,
    instead: &'static [Permission],
    refused: &'static str,
    accept: Accept,
) -> Class {
    Class::Privileged {
        perm,
        refused,
        approvable: false,
        setup: Setup::Nothing,
        accept,
        also: &[],
        instead,
    }
}

const APPROVAL: &str = "auth.approval_required";
const FORBIDDEN: &str = "auth.forbidden";
const CASH_FORBIDDEN: &str = "cash.forbidden";

/// Every command and its class.
fn table() -> Vec<(&'static str, Class)> {
    use Accept::*;
    use Permission as P;
    use Setup::*;
    vec![
        ("app_info", Class::Open),
        ("login", Class::Open),
        ("logout", Class::Open),
        ("session", Class::Open),
        ("current_sale", Class::Open),
        ("scan", Class::Open),
        ("add_product", Class::Open),
        ("search_products", Class::Open),
        ("set_quantity", Class::Open),
        ("remove_line", p(P::VoidLine, APPROVAL, false, Line, Ok)),
        ("start_payment", Class::Open),
        ("cancel_payment", Class::Open),
        ("pay", Class::Open),
        ("last_receipt", Class::Open),
        ("status", Class::Open),
        ("simulate_scan", Class::Open),
        ("simulate_device", Class::Open),
        (
            "device_settings",
            p(P::EndOfDay, FORBIDDEN, false, Nothing, Ok),
        ),
        (
            "diagnose_devices",
            p(P::EndOfDay, FORBIDDEN, false, Nothing, Ok),
        ),
        (
            "save_device_settings",
            p(P::ManageSettings, FORBIDDEN, false, Nothing, Ok),
        ),
        ("test_device", p(P::EndOfDay, FORBIDDEN, false, Nothing, Ok)),
        // --- checkout
        (
            "set_line_discount",
            p(P::LineDiscount, APPROVAL, true, Line, Ok),
        ),
        (
            "set_order_discount",
            p(P::OrderDiscount, APPROVAL, true, Line, Ok),
        ),
        (
            "override_price",
            p(P::PriceOverride, APPROVAL, true, Line, Ok),
        ),
        ("void_sale", p(P::VoidSale, APPROVAL, true, Line, Ok)),
        ("park_sale", Class::Open),
        ("parked_sales", Class::Open),
        ("resume_sale", Class::Open),
        ("reprint_last_receipt", Class::Open),
        // --- shop
        (
            // Managers see it read-only; whoever may change the settings sees it too.
            "shop_settings",
            p_or(P::EndOfDay, &[P::ManageSettings], FORBIDDEN, Ok),
        ),
        (
            "test_shop_connection",
            p(P::ManageSettings, FORBIDDEN, false, Nothing, PastTheCheck),
        ),
        (
            "save_shop_settings",
            p(P::ManageSettings, FORBIDDEN, false, Nothing, PastTheCheck),
        ),
        (
            "import_shop_catalog",
            p(P::ManageSettings, FORBIDDEN, false, Nothing, PastTheCheck),
        ),
        ("sync_details", Class::Open),
        ("pickups", Class::Open),
        (
            "hand_over_pickup",
            p(P::Sell, FORBIDDEN, false, Nothing, PastTheCheck),
        ),
        (
            "stock_conflicts",
            p(P::EndOfDay, FORBIDDEN, false, Nothing, Ok),
        ),
        (
            "review_stock_conflict",
            p(P::EndOfDay, FORBIDDEN, false, Nothing, PastTheCheck),
        ),
        // --- tenders
        ("gift_card_balance", Class::Open),
        ("find_customers", Class::Open),
        ("pay_gift_card", Class::Open),
        ("pay_store_credit", Class::Open),
        ("pay_on_account", Class::Open),
        ("cancel_card_payment", Class::Open),
        ("email_receipt", Class::Open),
        ("email_receipts", Class::Open),
        ("print_receipt", Class::Open),
        // --- cash
        ("cash_status", Class::Open),
        (
            "open_register",
            p(P::OpenRegister, CASH_FORBIDDEN, false, Nothing, Ok),
        ),
        (
            "cash_movement",
            p(P::CashInOut, APPROVAL, true, OpenRegister, Ok),
        ),
        ("no_sale", p(P::NoSale, APPROVAL, true, OpenRegister, Ok)),
        (
            "x_report",
            p(P::EndOfDay, CASH_FORBIDDEN, false, OpenRegister, Ok),
        ),
        (
            "close_register",
            p(P::EndOfDay, CASH_FORBIDDEN, false, OpenRegister, Ok),
        ),
        (
            "z_report",
            p(P::EndOfDay, CASH_FORBIDDEN, false, ClosedDay, Ok),
        ),
        (
            "set_require_opening_float",
            p(P::ManageSettings, CASH_FORBIDDEN, false, Nothing, Ok),
        ),
        (
            "set_recount_tolerance",
            p(P::ManageSettings, CASH_FORBIDDEN, false, Nothing, Ok),
        ),
        // --- devices
        (
            "device_scan_test",
            p(P::EndOfDay, FORBIDDEN, false, Nothing, PastTheCheck),
        ),
        (
            "device_swipe_test",
            p(P::EndOfDay, FORBIDDEN, false, Nothing, PastTheCheck),
        ),
        (
            "device_test_payment",
            p(P::EndOfDay, FORBIDDEN, false, Nothing, PastTheCheck),
        ),
        // --- staff
        (
            "staff_overview",
            p(P::ManageUsers, FORBIDDEN, false, Nothing, Ok),
        ),
        (
            "create_user",
            p(P::ManageUsers, FORBIDDEN, false, Nothing, Ok),
        ),
        (
            "update_user",
            p(P::ManageUsers, FORBIDDEN, false, GoneUser, Ok),
        ),
        (
            "reset_user_pin",
            p(P::ManageUsers, FORBIDDEN, false, GoneUser, Ok),
        ),
        (
            "deactivate_user",
            p(P::ManageUsers, FORBIDDEN, false, GoneUser, Ok),
        ),
        (
            "reactivate_user",
            p(P::ManageUsers, FORBIDDEN, false, GoneUser, Ok),
        ),
        (
            "create_role",
            p(P::ManageUsers, FORBIDDEN, false, Nothing, Ok),
        ),
        (
            "rename_role",
            p(P::ManageUsers, FORBIDDEN, false, SpareRole, Ok),
        ),
        (
            "delete_role",
            p(P::ManageUsers, FORBIDDEN, false, SpareRole, Ok),
        ),
        (
            "set_role_permissions",
            p(P::ManageUsers, FORBIDDEN, false, SpareRole, Ok),
        ),
        ("clock_in_out", Class::Open),
        ("clock_status", Class::Open),
        (
            "hours_report",
            p(P::ManageShifts, FORBIDDEN, false, Shift, Ok),
        ),
        (
            "correct_shift",
            p(P::ManageShifts, FORBIDDEN, false, Shift, Ok),
        ),
        (
            "audit_trail",
            p(P::ViewAudit, FORBIDDEN, false, Nothing, Ok),
        ),
        (
            "verify_audit",
            p(P::ViewAudit, FORBIDDEN, false, Nothing, Ok),
        ),
        // --- stored value: gift cards sold at the register, customers and their accounts
        ("stored_value_info", Class::Open),
        ("sell_gift_card", Class::Open),
        ("top_up_gift_card", Class::Open),
        ("check_gift_card", Class::Open),
        ("customer", Class::Open),
        ("create_customer", Class::Open),
        ("update_customer", Class::Open),
        (
            "set_customer_limit",
            p(P::CustomerCredit, APPROVAL, true, Customer, Ok),
        ),
        ("customer_statement", Class::Open),
        ("pay_account", Class::Open),
        ("attach_customer", Class::Open),
        // --- returns: a return without a receipt, refunded in cash, needs `refund`
        ("returns_find_receipt", Class::Open),
        ("returns_search", Class::Open),
        ("returns_open_sale", Class::Open),
        ("returns_preview", Class::Open),
        (
            "returns_commit",
            p(P::Refund, APPROVAL, true, OpenRegister, Ok),
        ),
        ("returns_resume", Class::Open),
        (
            "returns_exchange",
            p(P::Refund, APPROVAL, true, LineOpen, Ok),
        ),
        ("returns_screen", Class::Open),
        // --- shop gift cards: offline policy, flagged redemptions
        ("gift_card_offline_policy", Class::Open),
        (
            "set_gift_card_offline_policy",
            p(P::ManageSettings, FORBIDDEN, false, Nothing, Ok),
        ),
        (
            "flagged_gift_cards",
            p(P::EndOfDay, FORBIDDEN, false, Nothing, Ok),
        ),
        (
            "review_flagged_gift_card",
            p(P::EndOfDay, FORBIDDEN, false, Nothing, PastTheCheck),
        ),
        // --- gift cards waiting to be loaded: a retry of what a sale already decided
        ("retry_gift_card_activations", Class::Open),
    ]
}

/// What the setup left for the command's arguments.
#[derive(Default)]
struct Made {
    line: u32,
    shift: String,
    user: String,
    customer: String,
    variant: String,
}

/// The command's arguments (as the UI sends them) and, where it takes one, the approver's PIN.
fn args(name: &str, made: &Made, approver: Option<&str>) -> Value {
    let reason = json!({"code": "damaged", "note": null});
    let mut a = match name {
        "remove_line" => json!({"lineId": made.line}),
        "device_settings" | "diagnose_devices" => json!({}),
        "save_device_settings" => json!({"configJson": "{}"}),
        "test_device" => json!({"device": "printer"}),
        "set_line_discount" => {
            json!({"lineId": made.line, "discount": {"kind": "percent", "bps": 1000}, "reason": reason})
        }
        "set_order_discount" => {
            json!({"discount": {"kind": "percent", "bps": 500}, "reason": reason})
        }
        "override_price" => json!({"lineId": made.line, "unitPrice": 50, "reason": reason}),
        "void_sale" => json!({"reason": reason}),
        "shop_settings" => json!({}),
        "test_shop_connection" | "save_shop_settings" => {
            json!({"url": "http://127.0.0.1:9", "identifier": "T01", "password": "x"})
        }
        "hand_over_pickup" => json!({"orderCode": "NOPE"}),
        "stock_conflicts" => json!({"includeReviewed": true}),
        "review_stock_conflict" => json!({"id": 1}),
        "open_register" => json!({"counts": [{"value": 1000, "quantity": 2}]}),
        "cash_movement" => {
            json!({"direction": "in", "amount": 500, "reason": {"code": "change_top_up", "note": null}})
        }
        "no_sale" => json!({"reason": {"code": "give_change", "note": null}}),
        "x_report" => json!({"print": false}),
        "close_register" => json!({"counts": [{"value": 1000, "quantity": 2}]}),
        "z_report" => json!({"number": 1, "print": false}),
        "set_require_opening_float" => json!({"on": true}),
        "set_recount_tolerance" => json!({"minor": 100}),
        "device_scan_test" | "device_swipe_test" => json!({"timeoutMs": 10}),
        "create_user" => {
            json!({"name": "New", "role": "cashier", "pin": "8801", "pinAgain": "8801"})
        }
        "update_user" => json!({"userId": made.user, "name": "Gone Again", "role": "cashier"}),
        "reset_user_pin" => json!({"userId": made.user, "pin": "8802", "pinAgain": "8802"}),
        "deactivate_user" => json!({"userId": made.user}),
        "reactivate_user" => json!({"userId": made.user, "pin": "8803", "pinAgain": "8803"}),
        "create_role" => json!({"name": "Another"}),
        "rename_role" => json!({"code": "custom_spare", "name": "Spare 2"}),
        "delete_role" => json!({"code": "custom_spare"}),
        "set_role_permissions" => json!({"code": "custom_spare", "permissions": ["sell"]}),
        "hours_report" => json!({"from": "2026-11-23", "to": "2026-11-23", "print": false}),
        "correct_shift" => {
            json!({"shiftId": made.shift, "startedAt": "2026-11-23T08:00", "endedAt": "2026-11-23T08:30", "reason": "forgot"})
        }
        "audit_trail" => json!({"from": null, "to": null, "userId": null, "action": null}),
        "set_customer_limit" => json!({"customerId": made.customer, "limit": 5000}),
        "returns_commit" | "returns_exchange" => json!({"request": {
            "saleId": null, "lines": [],
            "items": [{"variantId": made.variant, "quantity": 1, "writeOff": null}],
            "refundTo": {"kind": "cash"}}}),
        "set_gift_card_offline_policy" => json!({"allowOffline": true, "limit": 2500}),
        "flagged_gift_cards" => json!({"includeReviewed": true}),
        "review_flagged_gift_card" => json!({"id": 1}),
        _ => json!({}),
    };
    if let Some(pin) = approver {
        a["approverPin"] = json!(pin);
    }
    a
}

type Fixture = RegisterOnDisk;

/// T01 of a Spanish store with 20 demo products, on a clock that starts at 2026-11-23 08:00 UTC
/// and moves 20 seconds a reading.
fn open() -> Fixture {
    RegisterOnDisk::open(
        20,
        pos_store::Country::Es,
        Arc::new(NoEvents),
        StepClock::new(
            time::macros::datetime!(2026-11-23 08:00 UTC),
            time::Duration::seconds(20),
        ),
    )
}

impl Fixture {
    async fn call(&self, name: &str, args: Value) -> Result<Value, ApiError> {
        dispatch(&*self.register, name, args).await
    }

    fn barcode(&self) -> String {
        let c = rusqlite::Connection::open(&self.db).unwrap();
        c.query_row(
            "SELECT b.code FROM barcode b JOIN variant v ON v.id = b.variant_id \
             JOIN product p ON p.id = v.product_id WHERE p.by_weight = 0 ORDER BY b.code LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap()
    }

    fn variant(&self) -> String {
        let c = rusqlite::Connection::open(&self.db).unwrap();
        c.query_row(
            "SELECT v.id FROM barcode b JOIN variant v ON v.id = b.variant_id \
             JOIN product p ON p.id = v.product_id WHERE p.by_weight = 0 ORDER BY b.code LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap()
    }

    /// Two custom roles for `perm`: "Without" (every permission but it) with user 7001 and
    /// "Only" (just it) with user 7002; then the setup, as the admin.
    async fn prepare(
        &self,
        perm: Permission,
        also: &[Permission],
        instead: &[Permission],
        setup: Setup,
    ) -> Made {
        let r = &self.register;
        r.login(ADMIN.into()).await.unwrap();
        let all: Vec<String> = Permission::ALL
            .iter()
            .filter(|x| **x != perm && !instead.contains(x))
            .map(|x| x.code().to_owned())
            .collect();
        for (name, grants, pin) in [
            ("Without", all, WITHOUT_PIN),
            (
                "Only",
                std::iter::once(perm)
                    .chain(also.iter().copied())
                    .map(|x| x.code().to_owned())
                    .collect(),
                ONLY_PIN,
            ),
        ] {
            let staff = r.create_role(name.into()).await.unwrap();
            let code = staff
                .roles
                .iter()
                .find(|x| x.name == name)
                .unwrap()
                .code
                .clone();
            r.set_role_permissions(code.clone(), grants).await.unwrap();
            r.create_user(format!("{name} user"), code, pin.into(), pin.into())
                .await
                .unwrap();
        }
        let mut made = Made {
            variant: self.variant(),
            ..Made::default()
        };
        match setup {
            Setup::Nothing => {}
            Setup::Line => {
                let sale = r.scan(self.barcode()).await.unwrap();
                made.line = sale.lines[0].id;
            }
            Setup::OpenRegister => {
                r.open_register(vec![pos_api::dto::DenominationCountDto {
                    value: 1000,
                    quantity: 2,
                }])
                .await
                .unwrap();
            }
            Setup::ClosedDay => {
                let counts = vec![pos_api::dto::DenominationCountDto {
                    value: 1000,
                    quantity: 2,
                }];
                r.open_register(counts.clone()).await.unwrap();
                r.close_register(counts).await.unwrap();
            }
            Setup::Shift => {
                let c = r.clock_in_out(None).await.unwrap();
                made.shift = c.shift.unwrap().id;
                r.clock_in_out(None).await.unwrap();
            }
            Setup::SpareRole => {
                r.create_role("Spare".into()).await.unwrap();
            }
            Setup::Customer => {
                made.customer = r
                    .create_customer("Carmen".into(), None, None)
                    .await
                    .unwrap()
                    .id;
            }
            Setup::LineOpen => {
                r.open_register(vec![pos_api::dto::DenominationCountDto {
                    value: 1000,
                    quantity: 2,
                }])
                .await
                .unwrap();
                let sale = r.scan(self.barcode()).await.unwrap();
                made.line = sale.lines[0].id;
            }
            Setup::GoneUser => {
                let staff = r
                    .create_user(
                        "Gone".into(),
                        "cashier".into(),
                        "6060".into(),
                        "6060".into(),
                    )
                    .await
                    .unwrap();
                made.user = staff
                    .users
                    .iter()
                    .find(|u| u.name == "Gone")
                    .unwrap()
                    .id
                    .clone();
                // Reactivating needs a deactivated user; the others work on either.
                r.deactivate_user(made.user.clone()).await.unwrap();
            }
        }
        made
    }
}

fn refusal_codes() -> BTreeSet<&'static str> {
    BTreeSet::from([
        APPROVAL,
        FORBIDDEN,
        CASH_FORBIDDEN,
        "auth.approver_not_allowed",
    ])
}

fn check_refused(name: &str, perm: Permission, refused: &str, got: Result<Value, ApiError>) {
    let e = got.expect_err(&format!("{name}: done without {}", perm.code()));
    assert_eq!(e.code, refused, "{name}: {e:?}");
    if let Some(p) = e.params.get("permission") {
        assert_eq!(p, perm.code(), "{name}: names the permission");
    }
}

fn check_let_through(name: &str, accept: Accept, got: Result<Value, ApiError>) {
    match (accept, got) {
        (_, Ok(_)) => {}
        (Accept::PastTheCheck, Err(e)) => assert!(
            !refusal_codes().contains(e.code.as_str()) && e.code != "auth.required",
            "{name}: refused with the permission: {e:?}"
        ),
        (Accept::Ok, Err(e)) => panic!("{name}: refused with the permission: {e:?}"),
    }
}

#[test]
fn every_command_in_the_table_is_classified() {
    let cfg = ts_rs::Config::new();
    let commands: BTreeSet<&str> = pos_api::commands::command_signatures(&cfg)
        .into_iter()
        .map(|(name, ..)| name)
        .collect();
    let table = table();
    let classified: BTreeSet<&str> = table.iter().map(|(n, _)| *n).collect();
    let missing: Vec<&&str> = commands.difference(&classified).collect();
    assert!(
        missing.is_empty(),
        "commands not classified in api/tests/permissions.rs: {missing:?}"
    );
    let gone: Vec<&&str> = classified.difference(&commands).collect();
    assert!(
        gone.is_empty(),
        "classified but no longer commands: {gone:?}"
    );
    assert_eq!(classified.len(), table.len(), "a command listed twice");
}

#[test]
fn every_privileged_command_is_refused_without_its_permission_and_let_through_with_it() {
    let mut checked = 0;
    for (name, class) in table() {
        let Class::Privileged {
            perm,
            refused,
            approvable,
            setup,
            accept,
            also,
            instead,
        } = class
        else {
            continue;
        };
        let f = open();
        f.rt.block_on(async {
            let made = f.prepare(perm, also, instead, setup).await;
            // Without it.
            f.register.login(WITHOUT_PIN.into()).await.unwrap();
            check_refused(
                name,
                perm,
                refused,
                f.call(name, args(name, &made, None)).await,
            );
            if approvable {
                // A PIN of someone who lacks it too approves nothing.
                let e = f
                    .call(name, args(name, &made, Some(WITHOUT_PIN)))
                    .await
                    .expect_err(name);
                assert_eq!(e.code, "auth.approver_not_allowed", "{name}");
                // The PIN of the user whose role has it approves on the spot.
                let done = f.call(name, args(name, &made, Some(ONLY_PIN))).await;
                check_let_through(name, accept, done);
            } else {
                // With it.
                f.register.login(ONLY_PIN.into()).await.unwrap();
                check_let_through(name, accept, f.call(name, args(name, &made, None)).await);
            }
            // And (for approvable commands) on their own, on a fresh setup.
            if approvable {
                f.register.login(ADMIN.into()).await.unwrap();
                let made = match setup {
                    Setup::Line | Setup::LineOpen => {
                        let sale = f.register.scan(f.barcode()).await.unwrap();
                        Made {
                            line: sale.lines[0].id,
                            ..made
                        }
                    }
                    _ => made,
                };
                f.register.login(ONLY_PIN.into()).await.unwrap();
                check_let_through(name, accept, f.call(name, args(name, &made, None)).await);
            }
        });
        checked += 1;
    }
    eprintln!("privileged commands checked: {checked}");
    assert!(checked >= 40, "only {checked} privileged commands");
}
