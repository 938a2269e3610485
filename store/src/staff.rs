//! Roles and their stored permission matrix, clock-in shifts with corrections, and the audit
//! trail searched for the audit viewer.
//!
//! Invariants:
//! * The matrix is `role_permission` (migration 0011): one row per role and permission code.
//!   [`Store::user_role`] turns it into a [`UserRole`] through `pos_core::staff`, so a missing
//!   row takes the built-in default and the admin role always keeps manage_users and
//!   manage_settings (the schema's triggers refuse to store anything else, too).
//! * Built-in roles are never deleted or renamed; a custom role is deleted only while no user,
//!   active or not, has it (users are never deleted: sales and audit rows name them).
//! * A user has at most one open shift. A shift is clocked out once; after that it changes only
//!   through a correction row (times, reason, who, when) — the original stays as recorded, and
//!   the latest correction is what counts (`shift_effective`).
//! * Nothing here reads the clock, and nothing here writes the audit trail: the register
//!   writes the audit row (with before/after) before it calls these.

use crate::audit::AuditRecord;
use crate::{Result, Store, StoreError, from_unix_ms, unix_ms};
use pos_core::auth::Permission;
use pos_core::staff::{StaffError, UserRole, check_grants, effective_permissions, role_code_for};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

/// A role with its permissions and how many users have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRecord {
    pub role: UserRole,
    pub builtin: bool,
    /// Users with this role, active or not.
    pub users: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum StaffStoreError {
    #[error(transparent)]
    Staff(#[from] StaffError),
    #[error("no role {0}")]
    NoSuchRole(String),
    #[error("{users} users have this role")]
    RoleInUse { users: u32 },
    #[error("there is already a role named {0}")]
    DuplicateRoleName(String),
    #[error("no shift {0}")]
    NoSuchShift(String),
    #[error("already clocked in")]
    AlreadyClockedIn,
    #[error("not clocked in")]
    NotClockedIn,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for StaffStoreError {
    fn from(e: rusqlite::Error) -> Self {
        StaffStoreError::Store(e.into())
    }
}

/// A shift as the hours report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShiftRecord {
    pub id: String,
    pub user_id: String,
    pub terminal_id: String,
    /// What counts (the latest correction, or the original).
    pub started_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
    /// As clocked.
    pub original_started_at: OffsetDateTime,
    pub original_ended_at: Option<OffsetDateTime>,
    pub corrected: bool,
}

/// What the audit viewer asks for. Every field narrows; none means all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub from: Option<OffsetDateTime>,
    /// Exclusive.
    pub to: Option<OffsetDateTime>,
    /// Rows this user did or approved.
    pub user_id: Option<String>,
    pub action: Option<String>,
    pub limit: usize,
}

/// A role's stored row and grants: (name, builtin, permission code → granted).
type StoredRole = (String, bool, BTreeMap<String, bool>);

fn opt_time(ms: Option<i64>) -> Result<Option<OffsetDateTime>> {
    ms.map(from_unix_ms).transpose()
}

impl Store {
    /// Every role's stored rows: code → (name, builtin, permission code → granted).
    fn stored_roles(&self) -> Result<BTreeMap<String, StoredRole>> {
        let mut out: BTreeMap<String, StoredRole> = BTreeMap::new();
        let roles = self
            .conn
            .prepare_cached("SELECT code, name, builtin FROM role")?
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (code, name, builtin) in roles {
            out.insert(code, (name, builtin, BTreeMap::new()));
        }
        let grants = self
            .conn
            .prepare_cached("SELECT role_code, permission, granted FROM role_permission")?
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (code, perm, granted) in grants {
            if let Some(role) = out.get_mut(&code) {
                role.2.insert(perm, granted);
            }
        }
        Ok(out)
    }

    /// Every role by code, as the matrix defines it.
    pub(crate) fn role_map(&self) -> Result<BTreeMap<String, UserRole>> {
        Ok(self
            .stored_roles()?
            .into_iter()
            .map(|(code, (name, _, grants))| {
                let permissions = effective_permissions(&code, &grants);
                (
                    code.clone(),
                    UserRole {
                        code,
                        name,
                        permissions,
                    },
                )
            })
            .collect())
    }

    /// One role as the matrix defines it.
    pub fn user_role(&self, code: &str) -> Result<UserRole> {
        self.role_map()?
            .remove(code)
            .ok_or_else(|| StoreError::Corrupt(format!("role {code:?}")))
    }

    /// Every role: built-in ones first (cashier, manager, admin), then custom ones by name.
    pub fn roles(&self) -> Result<Vec<RoleRecord>> {
        let counts: BTreeMap<String, u32> = self
            .conn
            .prepare_cached("SELECT role, count(*) FROM user GROUP BY role")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let stored = self.stored_roles()?;
        let mut out: Vec<RoleRecord> = stored
            .into_iter()
            .map(|(code, (name, builtin, grants))| RoleRecord {
                users: counts.get(&code).copied().unwrap_or(0),
                builtin,
                role: UserRole {
                    permissions: effective_permissions(&code, &grants),
                    code,
                    name,
                },
            })
            .collect();
        let rank = |r: &RoleRecord| match r.role.code.as_str() {
            "cashier" => 0,
            "manager" => 1,
            "admin" => 2,
            _ => 3,
        };
        out.sort_by(|a, b| {
            rank(a)
                .cmp(&rank(b))
                .then_with(|| a.role.name.to_lowercase().cmp(&b.role.name.to_lowercase()))
        });
        Ok(out)
    }

    /// Creates a custom role with no permissions; its code is made from the name.
    pub fn create_role(
        &mut self,
        name: &str,
        now: OffsetDateTime,
    ) -> Result<UserRole, StaffStoreError> {
        let name = pos_core::staff::clean_name(name)?;
        let existing = self.stored_roles()?;
        if existing
            .values()
            .any(|(n, _, _)| n.to_lowercase() == name.to_lowercase())
        {
            return Err(StaffStoreError::DuplicateRoleName(name));
        }
        let taken: BTreeSet<String> = existing.keys().cloned().collect();
        let code = role_code_for(&name, &taken);
        self.conn.execute(
            "INSERT INTO role (code, name, builtin, created_at) VALUES (?1, ?2, 0, ?3)",
            params![code, name, unix_ms(now)],
        )?;
        Ok(UserRole {
            code,
            name,
            permissions: BTreeSet::new(),
        })
    }

    fn custom_role(&self, code: &str) -> Result<(String, bool), StaffStoreError> {
        self.conn
            .query_row(
                "SELECT name, builtin FROM role WHERE code = ?1",
                [code],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| StaffStoreError::NoSuchRole(code.to_owned()))
    }

    /// Renames a custom role (its code stays). Returns the old name.
    pub fn rename_role(&mut self, code: &str, name: &str) -> Result<String, StaffStoreError> {
        let name = pos_core::staff::clean_name(name)?;
        let (old, builtin) = self.custom_role(code)?;
        if builtin {
            return Err(StaffError::BuiltinRole.into());
        }
        if self
            .stored_roles()?
            .iter()
            .any(|(c, (n, _, _))| c != code && n.to_lowercase() == name.to_lowercase())
        {
            return Err(StaffStoreError::DuplicateRoleName(name));
        }
        self.conn.execute(
            "UPDATE role SET name = ?2 WHERE code = ?1",
            params![code, name],
        )?;
        Ok(old)
    }

    /// Deletes a custom role that no user has (active or not).
    pub fn delete_role(&mut self, code: &str) -> Result<(), StaffStoreError> {
        let (_, builtin) = self.custom_role(code)?;
        if builtin {
            return Err(StaffError::BuiltinRole.into());
        }
        let users: u32 =
            self.conn
                .query_row("SELECT count(*) FROM user WHERE role = ?1", [code], |r| {
                    r.get(0)
                })?;
        if users > 0 {
            return Err(StaffStoreError::RoleInUse { users });
        }
        self.conn
            .execute("DELETE FROM role WHERE code = ?1", [code])?;
        Ok(())
    }

    /// Sets exactly which permissions a role has (a row for every permission). Refuses to take
    /// manage_users or manage_settings from the admin role. Returns the role as it was.
    pub fn set_role_permissions(
        &mut self,
        code: &str,
        grants: &BTreeSet<Permission>,
    ) -> Result<UserRole, StaffStoreError> {
        check_grants(code, grants)?;
        let before = self
            .role_map()?
            .remove(code)
            .ok_or_else(|| StaffStoreError::NoSuchRole(code.to_owned()))?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut put = tx.prepare_cached(
                "INSERT INTO role_permission (role_code, permission, granted) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (role_code, permission) DO UPDATE SET granted = excluded.granted",
            )?;
            for p in Permission::ALL {
                put.execute(params![code, p.code(), grants.contains(&p)])?;
            }
        }
        tx.commit()?;
        Ok(before)
    }

    // ---- shifts ----------------------------------------------------------------------------

    /// The user's open shift, if they are clocked in.
    pub fn open_shift(&self, user_id: &str) -> Result<Option<ShiftRecord>> {
        Ok(self
            .shifts_where("user_id = ?1 AND ended_at IS NULL", params![user_id])?
            .into_iter()
            .next())
    }

    /// Clocks a user in on a terminal. Refused while they have an open shift.
    pub fn clock_in(
        &mut self,
        shift_id: &str,
        user_id: &str,
        terminal_id: &str,
        now: OffsetDateTime,
    ) -> Result<ShiftRecord, StaffStoreError> {
        if self.open_shift(user_id)?.is_some() {
            return Err(StaffStoreError::AlreadyClockedIn);
        }
        self.conn.execute(
            "INSERT INTO shift (id, user_id, terminal_id, started_at) VALUES (?1, ?2, ?3, ?4)",
            params![shift_id, user_id, terminal_id, unix_ms(now)],
        )?;
        self.shift(shift_id)
    }

    /// Clocks a user out (on whichever terminal). Refused when they are not clocked in.
    pub fn clock_out(
        &mut self,
        user_id: &str,
        terminal_id: &str,
        now: OffsetDateTime,
    ) -> Result<ShiftRecord, StaffStoreError> {
        let open = self
            .open_shift(user_id)?
            .ok_or(StaffStoreError::NotClockedIn)?;
        // A clock that went backwards must not make a negative shift.
        let end = unix_ms(now).max(unix_ms(open.started_at));
        self.conn.execute(
            "UPDATE shift SET ended_at = ?2, ended_terminal_id = ?3 WHERE id = ?1 AND ended_at IS NULL",
            params![open.id, end, terminal_id],
        )?;
        self.shift(&open.id)
    }

    /// One shift with its latest correction applied.
    pub fn shift(&self, shift_id: &str) -> Result<ShiftRecord, StaffStoreError> {
        self.shifts_where("id = ?1", params![shift_id])?
            .into_iter()
            .next()
            .ok_or_else(|| StaffStoreError::NoSuchShift(shift_id.to_owned()))
    }

    /// Shifts (as they count) that overlap `[from, to)` or are still open and started before
    /// `to`, oldest first.
    pub fn shifts_between(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<ShiftRecord>> {
        self.shifts_where(
            "started_at < ?2 AND (ended_at IS NULL OR ended_at > ?1)",
            params![unix_ms(from), unix_ms(to)],
        )
    }

    fn shifts_where(&self, cond: &str, args: impl rusqlite::Params) -> Result<Vec<ShiftRecord>> {
        let sql = format!(
            "SELECT id, user_id, terminal_id, started_at, ended_at, original_started_at, \
                    original_ended_at, correction_id IS NOT NULL \
             FROM shift_effective WHERE {cond} ORDER BY started_at, id"
        );
        type Raw = (
            String,
            String,
            String,
            i64,
            Option<i64>,
            i64,
            Option<i64>,
            bool,
        );
        let rows: Vec<Raw> = self
            .conn
            .prepare_cached(&sql)?
            .query_map(args, |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(id, user_id, terminal_id, s, e, os, oe, corrected)| {
                Ok(ShiftRecord {
                    id,
                    user_id,
                    terminal_id,
                    started_at: from_unix_ms(s)?,
                    ended_at: opt_time(e)?,
                    original_started_at: from_unix_ms(os)?,
                    original_ended_at: opt_time(oe)?,
                    corrected,
                })
            })
            .collect()
    }

    /// Corrects a shift's times (closing it, if it was open). The original row stays; the
    /// correction is a new row with the reason and who made it. Returns the shift as it
    /// counted before and as it counts now.
    pub fn correct_shift(
        &mut self,
        shift_id: &str,
        started_at: OffsetDateTime,
        ended_at: OffsetDateTime,
        reason: &str,
        corrected_by: &str,
        now: OffsetDateTime,
    ) -> Result<(ShiftRecord, ShiftRecord), StaffStoreError> {
        let before = self.shift(shift_id)?;
        let reason = reason.trim();
        if reason.is_empty() || ended_at < started_at {
            return Err(StoreError::Invalid(
                "a correction needs a reason and an end after its start".into(),
            )
            .into());
        }
        self.conn.execute(
            "INSERT INTO shift_correction (shift_id, started_at, ended_at, reason, corrected_by, corrected_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                shift_id,
                unix_ms(started_at),
                unix_ms(ended_at),
                reason,
                corrected_by,
                unix_ms(now)
            ],
        )?;
        let after = self.shift(shift_id)?;
        Ok((before, after))
    }

    // ---- the audit viewer ------------------------------------------------------------------

    /// Audit rows matching the filter, newest first, at most `filter.limit`.
    pub fn audit_search(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        let limit = if filter.limit == 0 { 200 } else { filter.limit };
        let rows = self
            .conn
            .prepare_cached(
                "SELECT seq FROM audit_log \
                 WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at < ?2) \
                   AND (?3 IS NULL OR user_id = ?3 OR approver_id = ?3) \
                   AND (?4 IS NULL OR action = ?4) \
                 ORDER BY seq DESC LIMIT ?5",
            )?
            .query_map(
                params![
                    filter.from.map(unix_ms),
                    filter.to.map(unix_ms),
                    filter.user_id,
                    filter.action,
                    limit as i64
                ],
                |r| r.get::<_, i64>(0),
            )?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for seq in rows {
            out.extend(self.audit_entries(seq - 1, 1)?);
        }
        Ok(out)
    }

    /// The distinct actions in the audit trail, for the viewer's filter.
    pub fn audit_actions(&self) -> Result<Vec<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT DISTINCT action FROM audit_log ORDER BY action")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::NewUser;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-22 09:00 UTC);

    fn store() -> Store {
        let mut s = Store::open_in_memory().unwrap();
        for (id, name, role, pin) in [
            ("u-ana", "Ana", "cashier", "1234"),
            ("u-marta", "Marta", "manager", "9999"),
            ("u-admin", "Admin", "admin", "0000"),
        ] {
            s.add_user(
                &NewUser {
                    id: id.into(),
                    name: name.into(),
                    role: role.into(),
                    pin: pin.into(),
                },
                T0,
            )
            .unwrap();
        }
        s
    }

    #[test]
    fn an_existing_database_keeps_its_users_pins_order_and_lockout_through_the_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pos.db");
        // A terminal as it was before 0011: users made with the old schema, three wrong PINs
        // counted toward the lockout.
        let (hashes, count_before): (Vec<(String, String, String, bool)>, u32) = {
            let mut c = rusqlite::Connection::open(&path).unwrap();
            c.pragma_update(None, "foreign_keys", "ON").unwrap();
            for m in crate::migrations::MIGRATIONS
                .iter()
                .filter(|m| m.version < 11)
            {
                let tx = c.transaction().unwrap();
                tx.execute_batch(m.sql).unwrap();
                tx.pragma_update(None, "user_version", m.version).unwrap();
                tx.commit().unwrap();
            }
            let hash = |pin: &str| super::super::users::tests_hash(pin);
            for (id, name, role, pin, active) in [
                ("u-zoe", "Zoe", "admin", "0000", true),
                ("u-ana", "Ana", "cashier", "1234", true),
                ("u-old", "Old", "manager", "5555", false),
            ] {
                c.execute(
                    "INSERT INTO user (id, name, role, pin_hash, active, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 7)",
                    params![id, name, role, hash(pin), active],
                )
                .unwrap();
            }
            c.execute(
                "UPDATE login_lockout SET failed_in_a_row = 3 WHERE id = 1",
                [],
            )
            .unwrap();
            let rows = c
                .prepare("SELECT id, name, pin_hash, active FROM user ORDER BY rowid")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .unwrap()
                .collect::<rusqlite::Result<Vec<_>>>()
                .unwrap();
            (rows, 3)
        };
        let mut s = Store::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), crate::migrations::LATEST);
        let after: Vec<(String, String, String, bool)> = s
            .connection()
            .prepare("SELECT id, name, pin_hash, active FROM user ORDER BY rowid")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        assert_eq!(
            after, hashes,
            "ids, names, PIN hashes, active flags and order kept"
        );
        let users = s.users().unwrap();
        assert_eq!(
            users
                .iter()
                .map(|u| (u.id.as_str(), u.role.code.as_str()))
                .collect::<Vec<_>>(),
            [
                ("u-zoe", "admin"),
                ("u-ana", "cashier"),
                ("u-old", "manager")
            ]
        );
        // The lockout count survived: two more wrong PINs lock (5 in a row).
        assert_eq!(count_before, 3);
        assert!(matches!(
            s.verify_pin("9876", T0),
            Err(crate::AuthError::WrongPin { attempts_left: 1 })
        ));
        let ana = s.verify_pin("1234", T0).unwrap();
        assert!(ana.role.allows(Permission::VoidLine));
        assert!(!ana.role.allows(Permission::LineDiscount));
        // Every foreign key holds after the rebuild.
        let violations: i64 = s
            .connection()
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(violations, 0);
        // A role the matrix does not know is refused by the schema now.
        assert!(
            s.connection()
                .execute("UPDATE user SET role = 'boss' WHERE id = 'u-ana'", [])
                .is_err()
        );
    }

    #[test]
    fn the_seeded_matrix_is_todays_defaults() {
        let s = store();
        for r in pos_core::auth::Role::ALL_BUILTIN {
            let role = s.user_role(r.code()).unwrap();
            for p in Permission::ALL {
                assert_eq!(role.allows(p), r.allows_by_default(p), "{} {p:?}", r.code());
            }
        }
        let roles = s.roles().unwrap();
        assert_eq!(
            roles
                .iter()
                .map(|r| (r.role.code.as_str(), r.builtin, r.users))
                .collect::<Vec<_>>(),
            [
                ("cashier", true, 1),
                ("manager", true, 1),
                ("admin", true, 1)
            ]
        );
    }

    #[test]
    fn a_matrix_change_applies_at_the_next_pin_and_the_admin_keeps_the_keys() {
        let mut s = store();
        let grants = BTreeSet::from([Permission::Sell, Permission::LineDiscount]);
        let before = s.set_role_permissions("cashier", &grants).unwrap();
        assert!(!before.allows(Permission::LineDiscount));
        let ana = s.verify_pin("1234", T0).unwrap();
        assert!(ana.role.allows(Permission::LineDiscount));
        assert!(!ana.role.allows(Permission::VoidLine));
        assert!(matches!(
            s.set_role_permissions("admin", &BTreeSet::from([Permission::ManageUsers])),
            Err(StaffStoreError::Staff(StaffError::AdminLockout))
        ));
        // The schema refuses it too, for anyone writing to the file directly.
        assert!(
            s.connection()
                .execute(
                    "UPDATE role_permission SET granted = 0 WHERE role_code = 'admin' AND permission = 'manage_users'",
                    [],
                )
                .is_err()
        );
        assert!(
            s.verify_pin("0000", T0)
                .unwrap()
                .role
                .allows(Permission::ManageUsers)
        );
    }

    #[test]
    fn custom_roles_are_created_renamed_and_deleted_only_when_unused() {
        let mut s = store();
        let lead = s.create_role("Shift lead", T0).unwrap();
        assert_eq!(lead.code, "custom_shift_lead");
        assert!(lead.permissions.is_empty());
        assert!(matches!(
            s.create_role("shift LEAD", T0),
            Err(StaffStoreError::DuplicateRoleName(_))
        ));
        s.set_role_permissions(&lead.code, &BTreeSet::from([Permission::LineDiscount]))
            .unwrap();
        assert_eq!(
            s.rename_role(&lead.code, "Team lead").unwrap(),
            "Shift lead"
        );
        s.update_user("u-ana", "Ana", &lead.code).unwrap();
        assert!(matches!(
            s.delete_role(&lead.code),
            Err(StaffStoreError::RoleInUse { users: 1 })
        ));
        // Deactivated users still hold the role: sales and audit rows name them.
        s.set_user_active("u-ana", false).unwrap();
        assert!(s.delete_role(&lead.code).is_err());
        s.update_user("u-ana", "Ana", "cashier").unwrap();
        s.delete_role(&lead.code).unwrap();
        assert!(matches!(
            s.delete_role("manager"),
            Err(StaffStoreError::Staff(StaffError::BuiltinRole))
        ));
        assert!(matches!(
            s.rename_role("admin", "Boss"),
            Err(StaffStoreError::Staff(StaffError::BuiltinRole))
        ));
        assert_eq!(s.roles().unwrap().len(), 3);
    }

    #[test]
    fn one_open_shift_per_user_and_corrections_never_touch_the_original() {
        let mut s = store();
        let t1 = T0 + time::Duration::hours(4);
        s.clock_in("sh-1", "u-ana", "T01", T0).unwrap();
        assert!(matches!(
            s.clock_in("sh-2", "u-ana", "T02", T0),
            Err(StaffStoreError::AlreadyClockedIn)
        ));
        let closed = s.clock_out("u-ana", "T02", t1).unwrap();
        assert_eq!(closed.ended_at, Some(t1));
        assert!(matches!(
            s.clock_out("u-ana", "T01", t1),
            Err(StaffStoreError::NotClockedIn)
        ));
        // A clocked-out shift never changes in place.
        assert!(
            s.connection()
                .execute(
                    "UPDATE shift SET ended_at = ended_at + 1 WHERE id = 'sh-1'",
                    []
                )
                .is_err()
        );
        assert!(
            s.connection()
                .execute("DELETE FROM shift WHERE id = 'sh-1'", [])
                .is_err()
        );
        let (before, after) = s
            .correct_shift(
                "sh-1",
                T0 - time::Duration::minutes(30),
                t1,
                "came in early, forgot to clock in",
                "u-marta",
                t1,
            )
            .unwrap();
        assert_eq!(before.started_at, T0);
        assert_eq!(after.started_at, T0 - time::Duration::minutes(30));
        assert_eq!(after.original_started_at, T0);
        assert!(after.corrected);
        // Someone who forgot to clock out: the correction closes the shift, they can clock in
        // again.
        s.clock_in("sh-3", "u-marta", "T01", T0).unwrap();
        s.correct_shift("sh-3", T0, t1, "forgot to clock out", "u-admin", t1)
            .unwrap();
        assert!(s.open_shift("u-marta").unwrap().is_none());
        s.clock_in("sh-4", "u-marta", "T01", t1).unwrap();
        let all = s
            .shifts_between(T0 - time::Duration::days(1), t1 + time::Duration::hours(1))
            .unwrap();
        assert_eq!(
            all.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
            ["sh-1", "sh-3", "sh-4"]
        );
    }
}
