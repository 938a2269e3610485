//! Settings → Staff: users, roles and the editable permission matrix, clock in / clock out with
//! the hours report, and the audit viewer with its verification.
//!
//! Invariants:
//! * Every permission check in the register goes through the stored matrix: a user's
//!   `UserRole` is read from it with the user (at login, at every approval PIN, and again here
//!   after any staff change, so the logged-in user's session follows an edit at once).
//! * Managing users and roles needs `manage_users`; hours and shift corrections
//!   `manage_shifts`; the audit viewer `view_audit`. These are never approved on the spot by
//!   another PIN: the person doing it must have the permission (`auth.forbidden`).
//! * Nobody can lock the store out: the admin role keeps manage_users and manage_settings, and
//!   no change may leave the store without an active user who can manage users.
//! * Every change is written to the audit trail, with before and after, before it is made
//!   (inputs are checked first so the row describes a change that then happens). A PIN is
//!   never written anywhere but as its argon2id hash.
//! * Users are never deleted (sales and audit rows name them): they are deactivated. A
//!   correction of a shift is a new row; the original clock-in/out stays as recorded.

use super::{Register, State};
use crate::dto::*;
use crate::errors::{auth_error, store_error};
use crate::locale::{Lang, utc_offset};
use pos_core::auth::Permission;
use pos_core::staff::{self as core_staff, StaffError, UserRole, WorkedShift, format_hours};
use pos_hardware::escpos::decode::decode;
use pos_hardware::escpos::receipt::{Language, ReceiptDocument, ReceiptLine, ReceiptRow, render};
use pos_store::staff::{AuditFilter, ShiftRecord, StaffStoreError};
use pos_store::{AuthError, NewAuditEntry, NewUser, User, UserError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};
use ts_rs::TS;
use uuid::Uuid;

// ---- wire types --------------------------------------------------------------------------------

/// A user in Settings → Staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StaffUserDto {
    pub id: String,
    pub name: String,
    /// Role code ("cashier", "manager", "admin" or a custom role's).
    pub role: String,
    pub role_name: String,
    pub active: bool,
    pub clocked_in: bool,
}

/// A role with its permissions (codes) and how many users have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StaffRoleDto {
    pub code: String,
    /// The stored name (the UI names built-in roles in the user's language).
    pub name: String,
    pub builtin: bool,
    pub users: u32,
    pub permissions: Vec<String>,
}

/// Settings → Staff: users, roles, every permission code in the matrix's order, and the
/// permissions the admin role can never lose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StaffDto {
    pub users: Vec<StaffUserDto>,
    pub roles: Vec<StaffRoleDto>,
    pub permissions: Vec<String>,
    pub admin_keeps: Vec<String>,
}

/// A shift as it counts (the latest correction applied), with the times as clocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ShiftDto {
    pub id: String,
    pub user_id: String,
    pub user_name: String,
    pub terminal_id: String,
    /// Store-local "YYYY-MM-DDTHH:MM".
    pub started_at: String,
    pub ended_at: Option<String>,
    pub original_started_at: String,
    pub original_ended_at: Option<String>,
    pub corrected: bool,
    /// Worked minutes (0 while open).
    pub minutes: i64,
}

/// The answer to clock in / clock out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClockDto {
    pub user_name: String,
    /// After this command: true = clocked in now.
    pub clocked_in: bool,
    /// The shift opened or closed (None: only asked, not clocked in).
    pub shift: Option<ShiftDto>,
}

/// One user's hours on one local day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HoursRowDto {
    pub user_id: String,
    pub user_name: String,
    /// "YYYY-MM-DD".
    pub date: String,
    pub minutes: i64,
    /// "h:mm".
    pub hours: String,
    /// A shift that started that day is still open (not counted).
    pub open: bool,
}

/// A user's total over the range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HoursTotalDto {
    pub user_id: String,
    pub user_name: String,
    pub minutes: i64,
    pub hours: String,
    pub open_shifts: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HoursReportDto {
    pub from: String,
    pub to: String,
    pub rows: Vec<HoursRowDto>,
    pub totals: Vec<HoursTotalDto>,
    pub shifts: Vec<ShiftDto>,
    /// What was printed (the printer's bytes decoded), when printing was asked.
    pub printed: Option<ReceiptPreviewDto>,
}

/// One audit row for the viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AuditRowDto {
    pub seq: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub terminal_id: String,
    pub action: String,
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub approver_id: Option<String>,
    pub approver_name: Option<String>,
    pub sale_ref: Option<String>,
    /// JSON text of the detail's "before" and "after", when it has them.
    pub before: Option<String>,
    pub after: Option<String>,
    /// The whole detail as JSON text.
    pub detail: String,
}

/// A user the audit filter offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AuditUserDto {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AuditPageDto {
    pub rows: Vec<AuditRowDto>,
    /// Every action in the trail, for the filter.
    pub actions: Vec<String>,
    pub users: Vec<AuditUserDto>,
}

/// A Z report whose recorded audit head is no longer in the trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BrokenAnchorDto {
    pub terminal_id: String,
    pub z_number: u64,
    pub seq: i64,
}

/// The chain check and every Z report's anchor check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AuditVerifyDto {
    pub intact: bool,
    pub rows: u64,
    /// The first row whose hash, link or number does not match.
    pub first_broken: Option<i64>,
    pub broken_anchors: Vec<BrokenAnchorDto>,
}

// ---- errors ------------------------------------------------------------------------------------

fn forbidden(p: Permission) -> ApiError {
    ApiError::new("auth.forbidden", format!("{} is needed", p.code())).with("permission", p.code())
}

fn core_error(e: StaffError) -> ApiError {
    let msg = e.to_string();
    match e {
        StaffError::AdminLockout => ApiError::new("staff.admin_lockout", msg),
        StaffError::BuiltinRole => ApiError::new("staff.builtin_role", msg),
        StaffError::BadName => ApiError::new("staff.name_required", msg),
        StaffError::UnknownPermission(p) => {
            ApiError::new("staff.unknown_permission", msg).with("permission", p)
        }
    }
}

fn staff_error(e: StaffStoreError) -> ApiError {
    let msg = e.to_string();
    match e {
        StaffStoreError::Staff(s) => core_error(s),
        StaffStoreError::NoSuchRole(_) => ApiError::new("staff.no_such_role", msg),
        StaffStoreError::RoleInUse { users } => {
            ApiError::new("staff.role_in_use", msg).with("users", users)
        }
        StaffStoreError::DuplicateRoleName(n) => {
            ApiError::new("staff.role_name_taken", msg).with("name", n)
        }
        StaffStoreError::NoSuchShift(_) => ApiError::new("staff.no_such_shift", msg),
        StaffStoreError::AlreadyClockedIn => ApiError::new("clock.already_in", msg),
        StaffStoreError::NotClockedIn => ApiError::new("clock.not_in", msg),
        StaffStoreError::Store(s) => store_error(s),
    }
}

fn user_error(e: UserError) -> ApiError {
    let msg = e.to_string();
    match e {
        UserError::PinFormat => ApiError::new("staff.pin_format", msg),
        UserError::PinTaken => ApiError::new("staff.pin_taken", msg),
        UserError::MissingName => ApiError::new("staff.name_required", msg),
        UserError::DuplicateId(_) | UserError::NoSuchUser(_) => {
            ApiError::new("staff.no_such_user", msg)
        }
        UserError::NoSuchRole(_) => ApiError::new("staff.no_such_role", msg),
        UserError::Store(s) => store_error(s),
    }
}

fn pins_match(pin: &str, again: &str) -> Result<(), ApiError> {
    if !pos_store::users::is_valid_pin(pin) {
        return Err(user_error(UserError::PinFormat));
    }
    if pin != again {
        return Err(ApiError::new(
            "staff.pin_mismatch",
            "the two PINs are not the same",
        ));
    }
    Ok(())
}

fn last_user_manager() -> ApiError {
    ApiError::new(
        "staff.last_user_manager",
        "this would leave nobody who can manage users",
    )
}

fn bad_time(what: &str) -> ApiError {
    ApiError::new("staff.bad_time", format!("not a date or time: {what}"))
}

// ---- conversions -------------------------------------------------------------------------------

fn codes(perms: &BTreeSet<Permission>) -> Vec<String> {
    Permission::ALL
        .iter()
        .filter(|p| perms.contains(p))
        .map(|p| p.code().to_owned())
        .collect()
}

/// "YYYY-MM-DDTHH:MM" in the store's local time.
fn local_minute(at: OffsetDateTime, offset: UtcOffset) -> String {
    let t = at.to_offset(offset);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute()
    )
}

fn parse_date(s: &str) -> Result<Date, ApiError> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), f).map_err(|_| bad_time(s))
}

fn parse_local_minute(s: &str, offset: UtcOffset) -> Result<OffsetDateTime, ApiError> {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    PrimitiveDateTime::parse(s.trim(), f)
        .map(|t| t.assume_offset(offset))
        .map_err(|_| bad_time(s))
}

fn nonempty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

// ---- the printed hours report ------------------------------------------------------------------

struct Labels {
    title: &'static str,
    period: &'static str,
    terminal: &'static str,
    total: &'static str,
    open: &'static str,
    open_note: &'static str,
    nobody: &'static str,
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::Es => Labels {
            title: "INFORME DE HORAS",
            period: "Periodo",
            terminal: "Terminal",
            total: "Total",
            open: "(abierto)",
            open_note: "(abierto) = sin fichar salida, no sumado",
            nobody: "Sin turnos en el periodo",
        },
        Lang::Ja => Labels {
            title: "勤務時間レポート",
            period: "期間",
            terminal: "端末",
            total: "合計",
            open: "(未退勤)",
            open_note: "(未退勤) = 退勤の打刻なし、合計に含まず",
            nobody: "期間内の勤務なし",
        },
        Lang::En => Labels {
            title: "HOURS REPORT",
            period: "Period",
            terminal: "Terminal",
            total: "Total",
            open: "(open)",
            open_note: "(open) = not clocked out, not counted",
            nobody: "No shifts in this period",
        },
    }
}

fn format_date(d: Date, lang: Lang) -> String {
    let (y, m, day) = (d.year(), d.month() as u8, d.day());
    match lang {
        Lang::Es => format!("{day:02}/{m:02}/{y}"),
        Lang::Ja => format!("{y}年{m}月{day}日"),
        Lang::En => format!("{y}-{m:02}-{day:02}"),
    }
}

/// The hours report as the printer's document, in the store's language.
pub fn hours_document(
    r: &HoursReportDto,
    settings: &pos_store::StoreSettings,
    terminal_id: &str,
    paper: pos_hardware::escpos::profile::PaperWidth,
) -> ReceiptDocument {
    let lang = Lang::parse(&settings.locale);
    let l = labels(lang);
    let date = |s: &str| {
        parse_date(s)
            .map(|d| format_date(d, lang))
            .unwrap_or_else(|_| s.to_owned())
    };
    let mut lines = Vec::new();
    for t in &r.totals {
        lines.push(ReceiptLine {
            name: t.user_name.clone(),
            amount: t.hours.clone(),
            ..ReceiptLine::default()
        });
        for row in r.rows.iter().filter(|x| x.user_id == t.user_id) {
            lines.push(ReceiptLine {
                name: format!(
                    "  {}{}",
                    date(&row.date),
                    if row.open {
                        format!(" {}", l.open)
                    } else {
                        String::new()
                    }
                ),
                amount: row.hours.clone(),
                ..ReceiptLine::default()
            });
        }
    }
    let total: i64 = r.totals.iter().map(|t| t.minutes).sum();
    let mut notes = Vec::new();
    if r.totals.is_empty() {
        notes.push(l.nobody.to_owned());
    }
    if r.rows.iter().any(|x| x.open) {
        notes.push(l.open_note.to_owned());
    }
    ReceiptDocument {
        paper,
        language: match lang {
            Lang::En => Language::En,
            Lang::Es => Language::Es,
            Lang::Ja => Language::Ja,
        },
        header: crate::receipt::store_header(settings, lang),
        title: Some(l.title.to_owned()),
        meta: vec![
            (
                l.period.to_owned(),
                format!("{} - {}", date(&r.from), date(&r.to)),
            ),
            (l.terminal.to_owned(), terminal_id.to_owned()),
        ],
        lines,
        totals: vec![ReceiptRow {
            label: l.total.to_owned(),
            amount: format_hours(total),
            emphasis: true,
        }],
        tenders: Vec::new(),
        payment_slips: Vec::new(),
        notes,
        code: None,
        footer: Vec::new(),
        logo: None,
        open_drawer: false,
        cut: true,
    }
}

// ---- the register's side -----------------------------------------------------------------------

impl State {
    /// The logged-in user, if they have `p` (never approved by another PIN here).
    fn require_staff(&self, p: Permission) -> Result<User, ApiError> {
        let user = self.require_user()?;
        if user.role.allows(p) {
            Ok(user.clone())
        } else {
            Err(forbidden(p))
        }
    }

    /// Records a settings change (device settings, web shop settings) with before and after,
    /// by the logged-in user. Secrets are never passed in.
    pub(super) fn settings_audit(
        &mut self,
        now: OffsetDateTime,
        action: &str,
        before: serde_json::Value,
        after: serde_json::Value,
    ) -> Result<(), ApiError> {
        self.staff_audit(now, action, None, json!({"before": before, "after": after}))
    }

    /// PIN login: a wrong PIN (or one refused while locked) is recorded as `login_failed`.
    pub(super) fn login_audited(
        &mut self,
        pin: &str,
        now: OffsetDateTime,
    ) -> Result<User, ApiError> {
        match self.store.verify_pin(pin, now) {
            Ok(u) => Ok(u),
            Err(e @ (AuthError::WrongPin { .. } | AuthError::Locked { .. })) => {
                let failure = match e {
                    AuthError::Locked { .. } => "locked",
                    _ => "wrong_pin",
                };
                self.staff_audit(now, "login_failed", None, json!({"failure": failure}))?;
                Err(auth_error(e))
            }
            Err(e) => Err(auth_error(e)),
        }
    }

    /// Appends one staff row: `user_id` did it (the logged-in user, or who clocked).
    fn staff_audit(
        &mut self,
        now: OffsetDateTime,
        action: &str,
        user_id: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<(), ApiError> {
        let session_user = self.user.as_ref().map(|u| u.id.clone());
        self.store
            .append_audit(
                &NewAuditEntry {
                    terminal_id: &self.terminal_id,
                    action,
                    user_id: user_id.or(session_user.as_deref()),
                    approver_id: None,
                    sale_ref: None,
                    detail,
                },
                now,
            )
            .map(|_| ())
            .map_err(store_error)
    }

    /// Reads the logged-in user again (after a change of users, roles or the matrix): their
    /// session follows the stored matrix at once; a deactivated user is logged out.
    fn refresh_session_user(&mut self) -> Result<(), ApiError> {
        if let Some(id) = self.user.as_ref().map(|u| u.id.clone()) {
            self.user = self
                .store
                .user(&id)
                .map_err(store_error)?
                .filter(|u| u.active);
        }
        Ok(())
    }

    /// How many active users could manage users if `change` were made: (user id, new role or
    /// None for deactivated) and/or a role's new grants.
    fn user_managers_after(
        &self,
        user_change: Option<(&str, Option<&str>)>,
        role_change: Option<(&str, &BTreeSet<Permission>)>,
    ) -> Result<usize, ApiError> {
        let users = self.store.users().map_err(store_error)?;
        let roles = self.store.roles().map_err(store_error)?;
        let mut can: BTreeMap<String, bool> = roles
            .iter()
            .map(|r| (r.role.code.clone(), r.role.allows(Permission::ManageUsers)))
            .collect();
        if let Some((code, grants)) = role_change {
            can.insert(
                code.to_owned(),
                grants.contains(&Permission::ManageUsers)
                    || code == pos_core::auth::Role::Admin.code(),
            );
        }
        Ok(users
            .iter()
            .filter_map(|u| match user_change {
                Some((id, new_role)) if id == u.id => new_role.map(str::to_owned),
                _ => u.active.then(|| u.role.code.clone()),
            })
            .filter(|code| can.get(code).copied().unwrap_or(false))
            .count())
    }

    fn staff_dto(&self) -> Result<StaffDto, ApiError> {
        let roles = self.store.roles().map_err(store_error)?;
        let users = self.store.users().map_err(store_error)?;
        let mut out_users = Vec::with_capacity(users.len());
        for u in users {
            let clocked_in = self.store.open_shift(&u.id).map_err(store_error)?.is_some();
            out_users.push(StaffUserDto {
                id: u.id,
                name: u.name,
                role: u.role.code,
                role_name: u.role.name,
                active: u.active,
                clocked_in,
            });
        }
        Ok(StaffDto {
            users: out_users,
            roles: roles
                .into_iter()
                .map(|r| StaffRoleDto {
                    permissions: codes(&r.role.permissions),
                    code: r.role.code,
                    name: r.role.name,
                    builtin: r.builtin,
                    users: r.users,
                })
                .collect(),
            permissions: Permission::ALL
                .iter()
                .map(|p| p.code().to_owned())
                .collect(),
            admin_keeps: core_staff::LOCKOUT_GUARD
                .iter()
                .map(|p| p.code().to_owned())
                .collect(),
        })
    }

    fn offset(&self, at: OffsetDateTime) -> UtcOffset {
        utc_offset(&self.settings, at)
    }

    fn user_names(&self) -> Result<BTreeMap<String, String>, ApiError> {
        Ok(self
            .store
            .users()
            .map_err(store_error)?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect())
    }

    fn shift_dto(&self, s: &ShiftRecord, names: &BTreeMap<String, String>) -> ShiftDto {
        let off = self.offset(s.started_at);
        ShiftDto {
            id: s.id.clone(),
            user_id: s.user_id.clone(),
            user_name: names.get(&s.user_id).cloned().unwrap_or_default(),
            terminal_id: s.terminal_id.clone(),
            started_at: local_minute(s.started_at, off),
            ended_at: s.ended_at.map(|e| local_minute(e, off)),
            original_started_at: local_minute(s.original_started_at, off),
            original_ended_at: s.original_ended_at.map(|e| local_minute(e, off)),
            corrected: s.corrected,
            minutes: s
                .ended_at
                .map(|e| (e - s.started_at).whole_minutes())
                .unwrap_or(0),
        }
    }
}

fn shift_json(s: &ShiftRecord) -> serde_json::Value {
    json!({
        "shift": s.id,
        "user": s.user_id,
        "started_at": rfc3339(s.started_at),
        "ended_at": s.ended_at.map(rfc3339),
    })
}

fn role_json(r: &UserRole) -> serde_json::Value {
    json!({"role": r.code, "name": r.name, "permissions": codes(&r.permissions)})
}

impl Register {
    pub(crate) fn staff_overview_now(&self) -> Result<StaffDto, ApiError> {
        let st = self.lock();
        st.require_staff(Permission::ManageUsers)?;
        st.staff_dto()
    }

    pub(crate) fn staff_create_user(
        &self,
        name: &str,
        role: &str,
        pin: &str,
        pin_again: &str,
    ) -> Result<StaffDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require_staff(Permission::ManageUsers)?;
        let name = core_staff::clean_name(name).map_err(core_error)?;
        pins_match(pin, pin_again)?;
        let role_name = st
            .store
            .roles()
            .map_err(store_error)?
            .into_iter()
            .find(|r| r.role.code == role)
            .map(|r| r.role.name)
            .ok_or_else(|| user_error(UserError::NoSuchRole(role.to_owned())))?;
        if st.store.pin_in_use(pin, None).map_err(store_error)? {
            return Err(user_error(UserError::PinTaken));
        }
        let id = format!("u-{}", Uuid::now_v7());
        st.staff_audit(
            now,
            "user_created",
            None,
            json!({"subject": id, "after": {"name": name, "role": role, "role_name": role_name, "active": true}}),
        )?;
        st.store
            .add_user(
                &NewUser {
                    id,
                    name,
                    role: role.to_owned(),
                    pin: pin.to_owned(),
                },
                now,
            )
            .map_err(user_error)?;
        st.staff_dto()
    }

    pub(crate) fn staff_update_user(
        &self,
        user_id: &str,
        name: &str,
        role: &str,
    ) -> Result<StaffDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require_staff(Permission::ManageUsers)?;
        let name = core_staff::clean_name(name).map_err(core_error)?;
        let before = st
            .store
            .user(user_id)
            .map_err(store_error)?
            .ok_or_else(|| user_error(UserError::NoSuchUser(user_id.to_owned())))?;
        if !st
            .store
            .roles()
            .map_err(store_error)?
            .iter()
            .any(|r| r.role.code == role)
        {
            return Err(user_error(UserError::NoSuchRole(role.to_owned())));
        }
        if before.active && st.user_managers_after(Some((user_id, Some(role))), None)? == 0 {
            return Err(last_user_manager());
        }
        st.staff_audit(
            now,
            "user_updated",
            None,
            json!({"subject": user_id,
                   "before": {"name": before.name, "role": before.role.code},
                   "after": {"name": name, "role": role}}),
        )?;
        st.store
            .update_user(user_id, &name, role)
            .map_err(user_error)?;
        st.refresh_session_user()?;
        st.staff_dto()
    }

    pub(crate) fn staff_reset_pin(
        &self,
        user_id: &str,
        pin: &str,
        pin_again: &str,
    ) -> Result<StaffDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require_staff(Permission::ManageUsers)?;
        pins_match(pin, pin_again)?;
        if st.store.user(user_id).map_err(store_error)?.is_none() {
            return Err(user_error(UserError::NoSuchUser(user_id.to_owned())));
        }
        if st
            .store
            .pin_in_use(pin, Some(user_id))
            .map_err(store_error)?
        {
            return Err(user_error(UserError::PinTaken));
        }
        st.staff_audit(now, "user_pin_reset", None, json!({"subject": user_id}))?;
        st.store.reset_pin(user_id, pin).map_err(user_error)?;
        st.staff_dto()
    }

    pub(crate) fn staff_set_active(
        &self,
        user_id: &str,
        active: bool,
        pin: Option<(&str, &str)>,
    ) -> Result<StaffDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        let me = st.require_staff(Permission::ManageUsers)?;
        let before = st
            .store
            .user(user_id)
            .map_err(store_error)?
            .ok_or_else(|| user_error(UserError::NoSuchUser(user_id.to_owned())))?;
        if active {
            let (pin, again) = pin.unwrap_or(("", ""));
            pins_match(pin, again)?;
            if st
                .store
                .pin_in_use(pin, Some(user_id))
                .map_err(store_error)?
            {
                return Err(user_error(UserError::PinTaken));
            }
            st.staff_audit(
                now,
                "user_reactivated",
                None,
                json!({"subject": user_id, "before": {"active": before.active}, "after": {"active": true}}),
            )?;
            st.store.reactivate_user(user_id, pin).map_err(user_error)?;
        } else {
            if me.id == user_id {
                return Err(ApiError::new(
                    "staff.self_deactivate",
                    "you cannot deactivate yourself",
                ));
            }
            if st.user_managers_after(Some((user_id, None)), None)? == 0 {
                return Err(last_user_manager());
            }
            st.staff_audit(
                now,
                "user_deactivated",
                None,
                json!({"subject": user_id, "before": {"active": before.active}, "after": {"active": false}}),
            )?;
            st.store
                .set_user_active(user_id, false)
                .map_err(user_error)?;
        }
        st.staff_dto()
    }

    pub(crate) fn staff_create_role(&self, name: &str) -> Result<StaffDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require_staff(Permission::ManageUsers)?;
        let name = core_staff::clean_name(name).map_err(core_error)?;
        if st
            .store
            .roles()
            .map_err(store_error)?
            .iter()
            .any(|r| r.role.name.to_lowercase() == name.to_lowercase())
        {
            return Err(staff_error(StaffStoreError::DuplicateRoleName(name)));
        }
        st.staff_audit(
            now,
            "role_created",
            None,
            json!({"after": {"name": name, "permissions": []}}),
        )?;
        st.store.create_role(&name, now).map_err(staff_error)?;
        st.staff_dto()
    }

    pub(crate) fn staff_rename_role(&self, code: &str, name: &str) -> Result<StaffDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require_staff(Permission::ManageUsers)?;
        let name = core_staff::clean_name(name).map_err(core_error)?;
        let role = st
            .store
            .roles()
            .map_err(store_error)?
            .into_iter()
            .find(|r| r.role.code == code)
            .ok_or_else(|| staff_error(StaffStoreError::NoSuchRole(code.to_owned())))?;
        if role.builtin {
            return Err(core_error(StaffError::BuiltinRole));
        }
        st.staff_audit(
            now,
            "role_renamed",
            None,
            json!({"role": code, "before": {"name": role.role.name}, "after": {"name": name}}),
        )?;
        st.store.rename_role(code, &name).map_err(staff_error)?;
        st.refresh_session_user()?;
        st.staff_dto()
    }

    pub(crate) fn staff_delete_role(&self, code: &str) -> Result<StaffDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require_staff(Permission::ManageUsers)?;
        let role = st
            .store
            .roles()
            .map_err(store_error)?
            .into_iter()
            .find(|r| r.role.code == code)
            .ok_or_else(|| staff_error(StaffStoreError::NoSuchRole(code.to_owned())))?;
        if role.builtin {
            return Err(core_error(StaffError::BuiltinRole));
        }
        if role.users > 0 {
            return Err(staff_error(StaffStoreError::RoleInUse {
                users: role.users,
            }));
        }
        st.staff_audit(
            now,
            "role_deleted",
            None,
            json!({"role": code, "before": role_json(&role.role)}),
        )?;
        st.store.delete_role(code).map_err(staff_error)?;
        st.staff_dto()
    }

    pub(crate) fn staff_set_permissions(
        &self,
        code: &str,
        permissions: &[String],
    ) -> Result<StaffDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require_staff(Permission::ManageUsers)?;
        let grants = core_staff::parse_permissions(permissions).map_err(core_error)?;
        core_staff::check_grants(code, &grants).map_err(core_error)?;
        let before = st
            .store
            .roles()
            .map_err(store_error)?
            .into_iter()
            .find(|r| r.role.code == code)
            .ok_or_else(|| staff_error(StaffStoreError::NoSuchRole(code.to_owned())))?;
        if st.user_managers_after(None, Some((code, &grants)))? == 0 {
            return Err(last_user_manager());
        }
        let after = UserRole {
            permissions: grants.clone(),
            ..before.role.clone()
        };
        let added: Vec<&str> = grants
            .difference(&before.role.permissions)
            .map(|p| p.code())
            .collect();
        let removed: Vec<&str> = before
            .role
            .permissions
            .difference(&grants)
            .map(|p| p.code())
            .collect();
        st.staff_audit(
            now,
            "role_permissions_changed",
            None,
            json!({"role": code, "before": role_json(&before.role), "after": role_json(&after),
                   "added": added, "removed": removed}),
        )?;
        st.store
            .set_role_permissions(code, &grants)
            .map_err(staff_error)?;
        st.refresh_session_user()?;
        st.staff_dto()
    }

    // ---- clock in / out ------------------------------------------------------------------------

    /// Clocks in or out: `pin` names the user (from the login screen; a wrong PIN counts toward
    /// the lockout), else the logged-in user.
    pub(crate) fn staff_clock(&self, pin: Option<&str>) -> Result<ClockDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        let user = match pin.map(str::trim).filter(|p| !p.is_empty()) {
            Some(pin) => st.login_audited(pin, now)?,
            None => st.require_user()?.clone(),
        };
        let terminal = self.config.terminal_id.clone();
        let names = st.user_names()?;
        let open = st.store.open_shift(&user.id).map_err(store_error)?;
        let (action, shift) = match open {
            Some(open) => {
                st.staff_audit(now, "clock_out", Some(&user.id), shift_json(&open))?;
                (
                    false,
                    st.store
                        .clock_out(&user.id, &terminal, now)
                        .map_err(staff_error)?,
                )
            }
            None => {
                let id = Uuid::now_v7().to_string();
                st.staff_audit(
                    now,
                    "clock_in",
                    Some(&user.id),
                    json!({"shift": id, "user": user.id, "started_at": rfc3339(now)}),
                )?;
                (
                    true,
                    st.store
                        .clock_in(&id, &user.id, &terminal, now)
                        .map_err(staff_error)?,
                )
            }
        };
        Ok(ClockDto {
            user_name: user.name.clone(),
            clocked_in: action,
            shift: Some(st.shift_dto(&shift, &names)),
        })
    }

    /// Whether the logged-in user is clocked in.
    pub(crate) fn staff_clock_status(&self) -> Result<ClockDto, ApiError> {
        let st = self.lock();
        let user = st.require_user()?.clone();
        let names = st.user_names()?;
        let open = st.store.open_shift(&user.id).map_err(store_error)?;
        Ok(ClockDto {
            user_name: user.name,
            clocked_in: open.is_some(),
            shift: open.map(|s| st.shift_dto(&s, &names)),
        })
    }

    // ---- hours ---------------------------------------------------------------------------------

    pub(crate) fn staff_hours(
        &self,
        from: &str,
        to: &str,
        print: bool,
    ) -> Result<HoursReportDto, ApiError> {
        let mut report = {
            let st = self.lock();
            st.require_staff(Permission::ManageShifts)?;
            let (from_d, to_d) = (parse_date(from)?, parse_date(to)?);
            if to_d < from_d || (to_d - from_d).whole_days() > 366 {
                return Err(ApiError::new(
                    "staff.bad_range",
                    "the end date is before the start, or the range is over a year",
                ));
            }
            // The store's own midnights (its offset changes with summer time).
            let midnight = |d: Date| {
                let guess = d.midnight().assume_utc();
                d.midnight().assume_offset(st.offset(guess))
            };
            let start = midnight(from_d);
            let end = midnight(to_d.next_day().unwrap_or(to_d));
            let shifts = st.store.shifts_between(start, end).map_err(store_error)?;
            let names = st.user_names()?;
            let worked: Vec<WorkedShift> = shifts
                .iter()
                .map(|s| WorkedShift {
                    user_id: s.user_id.clone(),
                    started_at: s.started_at,
                    ended_at: s.ended_at,
                })
                .collect();
            let offset_at = |t: OffsetDateTime| st.offset(t);
            let days = core_staff::hours_by_day(&worked, &offset_at, from_d, to_d);
            let mut totals: BTreeMap<String, (i64, u32)> = BTreeMap::new();
            for d in &days {
                let t = totals.entry(d.user_id.clone()).or_default();
                t.0 += d.minutes;
                t.1 += u32::from(d.open);
            }
            let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
            let mut totals: Vec<HoursTotalDto> = totals
                .into_iter()
                .map(|(id, (minutes, open))| HoursTotalDto {
                    user_name: name(&id),
                    user_id: id,
                    minutes,
                    hours: format_hours(minutes),
                    open_shifts: open,
                })
                .collect();
            totals.sort_by(|a, b| a.user_name.cmp(&b.user_name));
            HoursReportDto {
                from: from_d.to_string(),
                to: to_d.to_string(),
                rows: days
                    .iter()
                    .map(|d| HoursRowDto {
                        user_name: name(&d.user_id),
                        user_id: d.user_id.clone(),
                        date: d.date.to_string(),
                        minutes: d.minutes,
                        hours: format_hours(d.minutes),
                        open: d.open,
                    })
                    .collect(),
                totals,
                shifts: shifts.iter().map(|s| st.shift_dto(s, &names)).collect(),
                printed: None,
            }
        };
        if print {
            let settings = self.lock().settings.clone();
            let printer = &self.hardware.config().printer;
            let lang = Lang::parse(&settings.locale);
            let doc = hours_document(&report, &settings, &self.config.terminal_id, printer.paper);
            let bytes = render(
                &doc,
                &crate::receipt::configured_profile(lang, printer.paper, printer.model),
            )
            .map_err(|e| ApiError::new("device.print_queue", e.to_string()))?;
            let lines = decode(&bytes).lines(printer.paper);
            self.hardware
                .print(&format!("hours-{}", Uuid::now_v7()), bytes)?;
            report.printed = Some(ReceiptPreviewDto {
                receipt_number: format!("{}-H", self.config.terminal_id),
                lines,
                width_chars: printer.paper.columns() as u32,
            });
        }
        Ok(report)
    }

    pub(crate) fn staff_correct_shift(
        &self,
        shift_id: &str,
        started_at: &str,
        ended_at: &str,
        reason: &str,
    ) -> Result<ShiftDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        let me = st.require_staff(Permission::ManageShifts)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ApiError::new(
                "staff.reason_required",
                "say why the shift is corrected",
            ));
        }
        let off = st.offset(now);
        let start = parse_local_minute(started_at, off)?;
        let end = parse_local_minute(ended_at, off)?;
        // The offset of the shift's own day (summer time).
        let (start, end) = (
            start.replace_offset(st.offset(start)),
            end.replace_offset(st.offset(end)),
        );
        if end < start || end > now + time::Duration::minutes(1) {
            return Err(bad_time(ended_at));
        }
        let before = st.store.shift(shift_id).map_err(staff_error)?;
        st.staff_audit(
            now,
            "shift_corrected",
            None,
            json!({"shift": shift_id, "subject": before.user_id, "reason": reason,
                   "before": shift_json(&before),
                   "after": {"started_at": rfc3339(start), "ended_at": rfc3339(end)}}),
        )?;
        let (_, after) = st
            .store
            .correct_shift(shift_id, start, end, reason, &me.id, now)
            .map_err(staff_error)?;
        let names = st.user_names()?;
        Ok(st.shift_dto(&after, &names))
    }

    // ---- the audit viewer ----------------------------------------------------------------------

    pub(crate) fn staff_audit_log(
        &self,
        from: Option<&str>,
        to: Option<&str>,
        user_id: Option<&str>,
        action: Option<&str>,
    ) -> Result<AuditPageDto, ApiError> {
        let st = self.lock();
        st.require_staff(Permission::ViewAudit)?;
        let day_start = |s: &str| -> Result<OffsetDateTime, ApiError> {
            let d = parse_date(s)?;
            let guess = d.midnight().assume_utc();
            Ok(d.midnight().assume_offset(st.offset(guess)))
        };
        let from = nonempty(from).map(day_start).transpose()?;
        let to = nonempty(to)
            .map(|s| -> Result<OffsetDateTime, ApiError> {
                let d = parse_date(s)?;
                day_start(&d.next_day().unwrap_or(d).to_string())
            })
            .transpose()?;
        let filter = AuditFilter {
            from,
            to,
            user_id: nonempty(user_id).map(str::to_owned),
            action: nonempty(action).map(str::to_owned),
            limit: 500,
        };
        let names = st.user_names()?;
        let rows = st.store.audit_search(&filter).map_err(store_error)?;
        let text = |v: &serde_json::Value| (!v.is_null()).then(|| v.to_string());
        Ok(AuditPageDto {
            rows: rows
                .into_iter()
                .map(|r| AuditRowDto {
                    seq: r.seq,
                    at: rfc3339(r.at),
                    terminal_id: r.terminal_id,
                    action: r.action,
                    user_name: r.user_id.as_ref().and_then(|u| names.get(u).cloned()),
                    user_id: r.user_id,
                    approver_name: r.approver_id.as_ref().and_then(|u| names.get(u).cloned()),
                    approver_id: r.approver_id,
                    sale_ref: r.sale_ref,
                    before: text(&r.detail["before"]),
                    after: text(&r.detail["after"]),
                    detail: r.detail.to_string(),
                })
                .collect(),
            actions: st.store.audit_actions().map_err(store_error)?,
            users: names
                .into_iter()
                .map(|(id, name)| AuditUserDto { id, name })
                .collect(),
        })
    }

    pub(crate) fn staff_verify_audit(&self) -> Result<AuditVerifyDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require_staff(Permission::ViewAudit)?;
        let check = st.store.verify_audit().map_err(store_error)?;
        let anchors = st.store.verify_audit_anchors().map_err(store_error)?;
        let dto = AuditVerifyDto {
            intact: check.intact() && anchors.is_empty(),
            rows: check.rows,
            first_broken: check.first_broken,
            broken_anchors: anchors
                .into_iter()
                .map(|a| BrokenAnchorDto {
                    terminal_id: a.terminal_id,
                    z_number: a.z_number,
                    seq: a.seq,
                })
                .collect(),
        };
        // Who checked and what they found is itself recorded.
        st.staff_audit(
            now,
            "audit_verified",
            None,
            json!({"intact": dto.intact, "rows": dto.rows, "first_broken": dto.first_broken,
                   "broken_anchors": dto.broken_anchors.len()}),
        )?;
        Ok(dto)
    }
}
