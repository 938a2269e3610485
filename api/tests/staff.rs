//! Settings → Staff at the register, on a real SQLite file with the demo staff (Ana cashier
//! 1234, Marta manager 9999, Admin 0000): users with PIN rules, the stored permission matrix and
//! custom roles (a role with only `line_discount` can discount but not void), the guard rails
//! that keep the store from locking itself out, clock in / clock out with the hours report
//! printed in Spanish and Japanese (decoded from the printer's bytes) and a manager's
//! correction, and the audit viewer: every staff and settings change is a row with before and
//! after, and "Verify" finds a row edited in the file.

mod support;

use pos_api::Api;
use pos_api::dto::SaleDto;
use pos_api::events::NoEvents;
use pos_api::register::Register;
use std::sync::Arc;
use support::{
    ADMIN, CASHIER, MANAGER, RegisterOnDisk, StepClock, TEN_PERCENT, first_barcode,
    printed_blocking, reason,
};

struct Fixture {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    register: Arc<Register>,
    /// Moves a second a reading; the test jumps it forward (a shift, a break).
    clock: Arc<StepClock>,
    rt: tokio::runtime::Runtime,
}

/// T01 of a store in `country` with 50 demo products.
fn open(country: pos_store::Country) -> Fixture {
    // 08:00 in Madrid (CET) / 16:00 in Tokyo.
    let clock = StepClock::new(
        time::macros::datetime!(2026-11-23 07:00 UTC),
        time::Duration::seconds(1),
    );
    let RegisterOnDisk {
        dir,
        db,
        register,
        rt,
    } = RegisterOnDisk::open(50, country, Arc::new(NoEvents), clock.clone());
    Fixture {
        _dir: dir,
        db,
        register,
        clock,
        rt,
    }
}

impl Fixture {
    fn block<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    fn printed(&self, n: usize) -> Vec<String> {
        printed_blocking(&self.register, n)
    }

    fn barcode(&self) -> String {
        first_barcode(&self.db)
    }
}

async fn one_line(f: &Fixture) -> SaleDto {
    f.register.scan(f.barcode()).await.unwrap()
}

#[test]
fn an_admin_creates_a_user_with_pin_rules_and_every_change_is_audited() {
    let f = open(pos_store::Country::Es);
    f.block(async {
        let r = &f.register;
        r.login(MANAGER.into()).await.unwrap();
        let e = r.staff_overview().await.unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.params["permission"].as_str()),
            ("auth.forbidden", "manage_users"),
            "a manager may not manage users by default"
        );
        r.login(ADMIN.into()).await.unwrap();
        let staff = r.staff_overview().await.unwrap();
        assert_eq!(
            staff
                .roles
                .iter()
                .map(|x| x.code.as_str())
                .collect::<Vec<_>>(),
            ["cashier", "manager", "admin"]
        );
        assert_eq!(staff.admin_keeps, ["manage_users", "manage_settings"]);

        for (pin, again, code) in [
            ("123", "123", "staff.pin_format"),
            ("12345a", "12345a", "staff.pin_format"),
            ("123456789", "123456789", "staff.pin_format"),
            ("4321", "4312", "staff.pin_mismatch"),
            ("1234", "1234", "staff.pin_taken"),
        ] {
            let e = r
                .create_user("Bea".into(), "cashier".into(), pin.into(), again.into())
                .await
                .unwrap_err();
            assert_eq!(e.code, code, "{pin}/{again}");
        }
        assert_eq!(
            r.create_user("  ".into(), "cashier".into(), "4321".into(), "4321".into())
                .await
                .unwrap_err()
                .code,
            "staff.name_required"
        );
        assert_eq!(
            r.create_user("Bea".into(), "boss".into(), "4321".into(), "4321".into())
                .await
                .unwrap_err()
                .code,
            "staff.no_such_role"
        );
        let staff = r
            .create_user("Bea".into(), "cashier".into(), "4321".into(), "4321".into())
            .await
            .unwrap();
        let bea = staff
            .users
            .iter()
            .find(|u| u.name == "Bea")
            .unwrap()
            .clone();
        assert!(bea.active);
        assert_eq!(bea.role, "cashier");

        // Bea logs in with her PIN and is a cashier.
        let s = r.login("4321".into()).await.unwrap();
        assert_eq!(
            (s.user.name.as_str(), s.user.role.as_str()),
            ("Bea", "cashier")
        );
        assert!(!s.permissions.contains(&"line_discount".to_owned()));

        r.login(ADMIN.into()).await.unwrap();
        r.update_user(bea.id.clone(), "Beatriz".into(), "manager".into())
            .await
            .unwrap();
        assert_eq!(
            r.reset_user_pin(bea.id.clone(), "9999".into(), "9999".into())
                .await
                .unwrap_err()
                .code,
            "staff.pin_taken",
            "Marta's PIN"
        );
        r.reset_user_pin(bea.id.clone(), "2468".into(), "2468".into())
            .await
            .unwrap();
        assert_eq!(
            r.login("4321".into()).await.unwrap_err().code,
            "auth.wrong_pin",
            "the old PIN is gone"
        );
        r.login(ADMIN.into()).await.unwrap();
        let staff = r.deactivate_user(bea.id.clone()).await.unwrap();
        assert!(!staff.users.iter().find(|u| u.id == bea.id).unwrap().active);
        assert_eq!(
            r.login("2468".into()).await.unwrap_err().code,
            "auth.wrong_pin"
        );
        r.login(ADMIN.into()).await.unwrap();
        // Her PIN is free now; Carl takes it, so reactivating Bea needs a PIN of her own.
        r.create_user(
            "Carl".into(),
            "cashier".into(),
            "2468".into(),
            "2468".into(),
        )
        .await
        .unwrap();
        assert_eq!(
            r.reactivate_user(bea.id.clone(), "2468".into(), "2468".into())
                .await
                .unwrap_err()
                .code,
            "staff.pin_taken"
        );
        r.reactivate_user(bea.id.clone(), "1357".into(), "1357".into())
            .await
            .unwrap();
        assert_eq!(r.login("1357".into()).await.unwrap().user.name, "Beatriz");

        // Every change is in the trail, with before and after, by the admin; no PIN anywhere.
        r.login(ADMIN.into()).await.unwrap();
        let log = r.audit_trail(None, None, None, None).await.unwrap();
        let actions: Vec<&str> = log.rows.iter().rev().map(|x| x.action.as_str()).collect();
        let staff_actions: Vec<&str> = actions
            .iter()
            .copied()
            .filter(|a| a.starts_with("user_"))
            .collect();
        assert_eq!(
            staff_actions,
            [
                "user_created",
                "user_updated",
                "user_pin_reset",
                "user_deactivated",
                "user_created",
                "user_reactivated"
            ]
        );
        let updated = log
            .rows
            .iter()
            .find(|x| x.action == "user_updated")
            .unwrap();
        assert_eq!(updated.user_name.as_deref(), Some("Admin"));
        assert_eq!(
            updated.before.as_deref(),
            Some(r#"{"name":"Bea","role":"cashier"}"#)
        );
        assert_eq!(
            updated.after.as_deref(),
            Some(r#"{"name":"Beatriz","role":"manager"}"#)
        );
        assert!(log.rows.iter().all(|x| !x.detail.contains("2468")
            && !x.detail.contains("1357")
            && !x.detail.contains("4321")));
        // The wrong PINs above are recorded as failed logins.
        assert_eq!(
            log.rows
                .iter()
                .filter(|x| x.action == "login_failed")
                .count(),
            2
        );
    });
}

#[test]
fn a_custom_role_with_only_line_discount_can_discount_but_not_void() {
    let f = open(pos_store::Country::Es);
    f.block(async {
        let r = &f.register;
        r.login(ADMIN.into()).await.unwrap();
        let staff = r.create_role("Shift lead".into()).await.unwrap();
        let lead = staff
            .roles
            .iter()
            .find(|x| x.name == "Shift lead")
            .unwrap()
            .clone();
        assert!(!lead.builtin && lead.permissions.is_empty());
        r.set_role_permissions(lead.code.clone(), vec!["sell".into(), "line_discount".into()])
            .await
            .unwrap();
        r.create_user("Lena".into(), lead.code.clone(), "5151".into(), "5151".into())
            .await
            .unwrap();

        let s = r.login("5151".into()).await.unwrap();
        assert_eq!(s.user.role, lead.code);
        assert_eq!(s.user.role_name, "Shift lead");
        assert_eq!(s.permissions, ["sell", "line_discount"]);
        let sale = one_line(&f).await;
        let line = sale.lines[0].id;
        let sale = r
            .set_line_discount(line, TEN_PERCENT, reason("damaged"), None)
            .await
            .unwrap();
        assert!(sale.lines[0].discount.minor > 0, "discounted on her own");
        let e = r.void_sale(reason("damaged"), None).await.unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.params["permission"].as_str()),
            ("auth.approval_required", "void_sale")
        );
        let e = r.remove_line(line).await.unwrap_err();
        assert_eq!(e.code, "auth.approval_required", "void_line not granted");
        // The manager approves the void on the spot.
        r.void_sale(reason("damaged"), Some(MANAGER.into()))
            .await
            .unwrap();

        // A role in use cannot be deleted; renaming shows at once in her session.
        r.login(ADMIN.into()).await.unwrap();
        let e = r.delete_role(lead.code.clone()).await.unwrap_err();
        assert_eq!((e.code.as_str(), e.params["users"].as_str()), ("staff.role_in_use", "1"));
        r.rename_role(lead.code.clone(), "Team lead".into())
            .await
            .unwrap();
        assert_eq!(
            r.rename_role("manager".into(), "Boss".into())
                .await
                .unwrap_err()
                .code,
            "staff.builtin_role"
        );
        let staff = r.staff_overview().await.unwrap();
        let lena = staff.users.iter().find(|u| u.name == "Lena").unwrap();
        assert_eq!(lena.role_name, "Team lead");
        r.update_user(lena.id.clone(), "Lena".into(), "cashier".into())
            .await
            .unwrap();
        let staff = r.delete_role(lead.code.clone()).await.unwrap();
        assert_eq!(staff.roles.len(), 3);
        let log = r
            .audit_trail(None, None, None, Some("role_permissions_changed".into()))
            .await
            .unwrap();
        assert_eq!(log.rows.len(), 1);
        assert_eq!(
            log.rows[0].after.as_deref(),
            Some(r#"{"name":"Shift lead","permissions":["sell","line_discount"],"role":"custom_shift_lead"}"#)
        );
        assert_eq!(
            log.rows[0].before.as_deref(),
            Some(r#"{"name":"Shift lead","permissions":[],"role":"custom_shift_lead"}"#)
        );
    });
}

#[test]
fn the_matrix_is_what_every_check_reads_and_nobody_can_lock_the_store_out() {
    let f = open(pos_store::Country::Es);
    f.block(async {
        let r = &f.register;
        r.login(CASHIER.into()).await.unwrap();
        let line = one_line(&f).await.lines[0].id;
        assert_eq!(
            r.set_line_discount(line, TEN_PERCENT, reason("damaged"), None)
                .await
                .unwrap_err()
                .code,
            "auth.approval_required",
            "today's default: cashiers need a manager"
        );
        r.login(ADMIN.into()).await.unwrap();
        let cashier = r
            .staff_overview()
            .await
            .unwrap()
            .roles
            .into_iter()
            .find(|x| x.code == "cashier")
            .unwrap();
        let mut grants = cashier.permissions.clone();
        grants.push("line_discount".into());
        r.set_role_permissions("cashier".into(), grants)
            .await
            .unwrap();
        r.login(CASHIER.into()).await.unwrap();
        r.set_line_discount(line, TEN_PERCENT, reason("damaged"), None)
            .await
            .expect("the stored matrix now lets cashiers discount");

        // The admin role keeps the keys; an unknown permission is refused.
        r.login(ADMIN.into()).await.unwrap();
        let e = r
            .set_role_permissions("admin".into(), vec!["sell".into()])
            .await
            .unwrap_err();
        assert_eq!(e.code, "staff.admin_lockout");
        assert_eq!(
            r.set_role_permissions("manager".into(), vec!["fly".into()])
                .await
                .unwrap_err()
                .code,
            "staff.unknown_permission"
        );
        // The only admin cannot demote or deactivate themselves out of user management.
        let me = r.session().await.unwrap().unwrap().user.id;
        assert_eq!(
            r.update_user(me.clone(), "Admin".into(), "manager".into())
                .await
                .unwrap_err()
                .code,
            "staff.last_user_manager"
        );
        assert_eq!(
            r.deactivate_user(me.clone()).await.unwrap_err().code,
            "staff.self_deactivate"
        );
        // Giving managers manage_users makes the admin's demotion possible; the session follows.
        let manager = r
            .staff_overview()
            .await
            .unwrap()
            .roles
            .into_iter()
            .find(|x| x.code == "manager")
            .unwrap();
        let mut grants = manager.permissions.clone();
        grants.push("manage_users".into());
        r.set_role_permissions("manager".into(), grants)
            .await
            .unwrap();
        r.update_user(me.clone(), "Admin".into(), "manager".into())
            .await
            .unwrap();
        let s = r.session().await.unwrap().unwrap();
        assert_eq!(s.user.role, "manager");
        assert!(!s.permissions.contains(&"manage_settings".to_owned()));
        // Now taking manage_users from managers would leave nobody.
        let e = r
            .set_role_permissions("manager".into(), manager.permissions.clone())
            .await
            .unwrap_err();
        assert_eq!(e.code, "staff.last_user_manager");
    });
}

#[test]
fn clock_in_and_out_the_hours_report_printed_in_spanish_and_a_correction_that_keeps_the_original() {
    let f = open(pos_store::Country::Es);
    f.block(async {
        let r = &f.register;
        // From the login screen, by PIN: Ana clocks in at 08:00 Madrid time.
        let c = r.clock_in_out(Some(CASHIER.into())).await.unwrap();
        assert!(c.clocked_in);
        assert_eq!(c.user_name, "Ana");
        assert!(
            r.session().await.unwrap().is_none(),
            "clocking in does not log in"
        );
        assert_eq!(
            r.clock_in_out(Some("0101".into())).await.unwrap_err().code,
            "auth.wrong_pin"
        );
        // Marta clocks in from the sale screen (logged in).
        r.login(MANAGER.into()).await.unwrap();
        assert!(!r.clock_status().await.unwrap().clocked_in);
        assert!(r.clock_in_out(None).await.unwrap().clocked_in);
        assert!(r.clock_status().await.unwrap().clocked_in);
        f.clock.jump(time::Duration::minutes(4 * 60 + 30));
        let out = r.clock_in_out(Some(CASHIER.into())).await.unwrap();
        assert!(!out.clocked_in);
        let shift = out.shift.unwrap();
        assert_eq!(shift.minutes, 270, "4 h 30");
        assert!(
            shift.started_at.starts_with("2026-11-23T08:00"),
            "{}",
            shift.started_at
        );

        // Marta stays clocked in: her open shift is flagged, not counted.
        let report = r
            .hours_report("2026-11-23".into(), "2026-11-23".into(), true)
            .await
            .unwrap();
        let totals: Vec<(&str, &str, u32)> = report
            .totals
            .iter()
            .map(|t| (t.user_name.as_str(), t.hours.as_str(), t.open_shifts))
            .collect();
        assert_eq!(totals, [("Ana", "4:30", 0), ("Marta", "0:00", 1)]);
        let paper = f.printed(1).last().cloned().unwrap();
        for want in [
            "INFORME DE HORAS",
            "Periodo",
            "23/11/2026 - 23/11/2026",
            "Ana",
            "4:30",
            "(abierto)",
            "(abierto) = sin fichar salida, no sumado",
        ] {
            assert!(paper.contains(want), "{want:?} not on paper:\n{paper}");
        }
        // The screen shows what printed.
        let shown = report.printed.as_ref().unwrap().lines.join("\n");
        assert!(
            shown.contains("INFORME DE HORAS") && shown.contains("4:30"),
            "{shown}"
        );

        // Ana forgot she came at 07:45: Marta corrects it with a reason.
        assert_eq!(
            r.correct_shift(
                shift.id.clone(),
                "2026-11-23T07:45".into(),
                "2026-11-23T12:30".into(),
                " ".into()
            )
            .await
            .unwrap_err()
            .code,
            "staff.reason_required"
        );
        let fixed = r
            .correct_shift(
                shift.id.clone(),
                "2026-11-23T07:45".into(),
                "2026-11-23T12:30".into(),
                "came early, forgot to clock in".into(),
            )
            .await
            .unwrap();
        assert!(fixed.corrected);
        assert_eq!(fixed.minutes, 285);
        assert!(fixed.original_started_at.starts_with("2026-11-23T08:00"));
        let report = r
            .hours_report("2026-11-23".into(), "2026-11-23".into(), false)
            .await
            .unwrap();
        assert_eq!(report.totals[0].hours, "4:45");
        let log = r
            .audit_trail(None, None, None, Some("shift_corrected".into()))
            .await
            .unwrap();
        assert_eq!(log.rows.len(), 1);
        assert!(log.rows[0].detail.contains("came early"));
        assert!(
            log.rows[0]
                .before
                .as_deref()
                .unwrap()
                .contains("2026-11-23T07:00:0"),
            "08:00 CET"
        );
        assert!(
            log.rows[0]
                .after
                .as_deref()
                .unwrap()
                .contains("2026-11-23T06:45:00Z"),
            "07:45 CET: {:?}",
            log.rows[0].after
        );
        // A cashier sees no one's hours.
        r.login(CASHIER.into()).await.unwrap();
        assert_eq!(
            r.hours_report("2026-11-23".into(), "2026-11-23".into(), false)
                .await
                .unwrap_err()
                .code,
            "auth.forbidden"
        );
    });
}

#[test]
fn the_hours_report_prints_in_japanese() {
    let f = open(pos_store::Country::Jp);
    f.block(async {
        let r = &f.register;
        r.clock_in_out(Some(CASHIER.into())).await.unwrap();
        f.clock.jump(time::Duration::minutes(125));
        r.clock_in_out(Some(CASHIER.into())).await.unwrap();
        r.login(MANAGER.into()).await.unwrap();
        // 07:00 UTC is 16:00 in Tokyo: the same local day.
        let report = r
            .hours_report("2026-11-23".into(), "2026-11-23".into(), true)
            .await
            .unwrap();
        assert_eq!(report.totals[0].hours, "2:05");
        let paper = f.printed(1).last().cloned().unwrap();
        for want in [
            "勤務時間レポート",
            "期間",
            "2026年11月23日",
            "Ana",
            "2:05",
            "合計",
        ] {
            assert!(paper.contains(want), "{want:?} not on paper:\n{paper}");
        }
    });
}

#[test]
fn settings_changes_are_audited_and_verify_finds_a_row_edited_in_the_file() {
    let f = open(pos_store::Country::Es);
    f.block(async {
        let r = &f.register;
        r.login(CASHIER.into()).await.unwrap();
        assert_eq!(r.verify_audit().await.unwrap_err().code, "auth.forbidden");
        r.login(ADMIN.into()).await.unwrap();
        let devices = r.device_settings().await.unwrap();
        r.save_device_settings(devices.config_json.clone())
            .await
            .unwrap();
        r.set_require_opening_float(true).await.unwrap();
        // The web shop's address (nothing answers there: the sync keeps retrying in the
        // background; the settings are saved and recorded all the same).
        let _ = r
            .save_shop_settings(
                "http://127.0.0.1:9".into(),
                "T01".into(),
                Some("s3cret-pw".into()),
            )
            .await;
        r.create_role("Trainee".into()).await.unwrap();
        let log = r.audit_trail(None, None, None, None).await.unwrap();
        let shop = log
            .rows
            .iter()
            .find(|x| x.action == "shop_settings_saved")
            .expect("the shop settings change is recorded");
        assert_eq!(
            shop.after.as_deref(),
            Some(r#"{"identifier":"T01","url":"http://127.0.0.1:9"}"#)
        );
        assert!(log.rows.iter().all(|x| !x.detail.contains("s3cret")));
        for action in ["device_settings_saved", "role_created"] {
            assert!(
                log.rows.iter().any(|x| x.action == action),
                "{action} missing from {:?}",
                log.actions
            );
        }
        assert!(log.actions.iter().any(|a| a == "device_settings_saved"));
        // Filter by user: the admin's rows only; by date: nothing the day before.
        let admin_id = r.session().await.unwrap().unwrap().user.id;
        let mine = r
            .audit_trail(None, None, Some(admin_id.clone()), None)
            .await
            .unwrap();
        assert!(!mine.rows.is_empty());
        assert!(mine.rows.iter().all(|x| x.user_id.as_deref() == Some(admin_id.as_str())
            || x.approver_id.as_deref() == Some(admin_id.as_str())));
        let before = r
            .audit_trail(Some("2026-11-01".into()), Some("2026-11-22".into()), None, None)
            .await
            .unwrap();
        assert!(before.rows.is_empty());
        let today = r
            .audit_trail(Some("2026-11-23".into()), Some("2026-11-23".into()), None, None)
            .await
            .unwrap();
        assert_eq!(today.rows.len(), log.rows.len());

        let ok = r.verify_audit().await.unwrap();
        assert!(ok.intact && ok.first_broken.is_none());
        assert!(ok.rows >= 3);

        // Someone with the file drops the guard and edits the role row (seq of role_created).
        let seq = log.rows.iter().find(|x| x.action == "role_created").unwrap().seq;
        {
            let c = rusqlite::Connection::open(&f.db).unwrap();
            c.execute_batch("DROP TRIGGER audit_log_is_append_only_update;")
                .unwrap();
            c.execute(
                "UPDATE audit_log SET detail = '{\"after\":{\"name\":\"Owner\",\"permissions\":[]}}' WHERE seq = ?1",
                [seq],
            )
            .unwrap();
        }
        let broken = r.verify_audit().await.unwrap();
        assert!(!broken.intact);
        assert_eq!(broken.first_broken, Some(seq));
    });
}

#[test]
fn verify_finds_the_last_rows_deleted_after_the_day_was_closed() {
    let f = open(pos_store::Country::Es);
    f.block(async {
        let r = &f.register;
        r.login(MANAGER.into()).await.unwrap();
        let counts = vec![pos_api::dto::DenominationCountDto {
            value: 1000,
            quantity: 3,
        }];
        r.open_register(counts.clone()).await.unwrap();
        r.close_register(counts).await.unwrap();
        let ok = r.verify_audit().await.unwrap();
        assert!(ok.intact, "{ok:?}");
        // The chain alone cannot see its tail cut off; the Z report's anchor can.
        {
            let c = rusqlite::Connection::open(&f.db).unwrap();
            c.execute_batch(
                "DROP TRIGGER audit_log_is_append_only_delete;
                 DELETE FROM audit_log WHERE seq >= \
                   (SELECT json_extract(document, '$.audit_head[0]') FROM z_report);",
            )
            .unwrap();
        }
        let v = r.verify_audit().await.unwrap();
        assert!(!v.intact);
        assert_eq!(v.first_broken, None, "what is left still chains");
        assert_eq!(v.broken_anchors.len(), 1);
        assert_eq!(
            (
                v.broken_anchors[0].terminal_id.as_str(),
                v.broken_anchors[0].z_number
            ),
            ("T01", 1)
        );
    });
}

#[test]
fn the_hours_report_prints_in_english() {
    let f = open(pos_store::Country::Us);
    f.block(async {
        let r = &f.register;
        r.clock_in_out(Some(MANAGER.into())).await.unwrap();
        f.clock.jump(time::Duration::minutes(61));
        r.clock_in_out(Some(MANAGER.into())).await.unwrap();
        r.login(MANAGER.into()).await.unwrap();
        r.hours_report("2026-11-23".into(), "2026-11-23".into(), true)
            .await
            .unwrap();
        let paper = f.printed(1).last().cloned().unwrap();
        for want in [
            "HOURS REPORT",
            "Period",
            "2026-11-23 - 2026-11-23",
            "Marta",
            "1:01",
            "Total",
        ] {
            assert!(paper.contains(want), "{want:?} not on paper:\n{paper}");
        }
    });
}
