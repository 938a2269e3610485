//! Staff: roles with an editable permission matrix, and hours worked from clock-in shifts.
//!
//! Invariants:
//! * A user's rights are a [`UserRole`]: the role's code and the permissions the stored matrix
//!   grants it. Every check in the register asks [`UserRole::allows`]; nothing checks a role's
//!   name.
//! * The built-in roles (`cashier`, `manager`, `admin`) cannot be deleted; the admin role always
//!   keeps [`LOCKOUT_GUARD`] (manage_users and manage_settings), so nobody can lock the store
//!   out of its own settings. [`check_grants`] refuses a matrix that would break this.
//! * A permission the stored matrix has no row for (one added to the program after the matrix
//!   was written) takes the built-in role's default ([`Role::allows_by_default`]); a custom role
//!   has it only once granted.
//! * Hours are computed from shifts as given (corrections already applied by the caller), split
//!   at the store's local midnight; an open shift counts no minutes and is flagged.

use crate::auth::{Permission, Role};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, OffsetDateTime, UtcOffset};

/// The permissions the admin role can never lose.
pub const LOCKOUT_GUARD: [Permission; 2] = [Permission::ManageUsers, Permission::ManageSettings];

/// The longest role or user name, in characters.
pub const MAX_NAME: usize = 40;

/// A user's role as the stored matrix defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRole {
    /// "cashier", "manager", "admin" or a custom role's code.
    pub code: String,
    /// The role's display name (built-in roles are named by the UI in the user's language).
    pub name: String,
    pub permissions: BTreeSet<Permission>,
}

impl UserRole {
    pub fn allows(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }

    /// The built-in role this is, if any.
    pub fn builtin(&self) -> Option<Role> {
        Role::from_code(&self.code)
    }
}

/// Why a change to roles or their permissions is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    #[error("the administrator role always keeps manage_users and manage_settings")]
    AdminLockout,
    #[error("built-in roles cannot be renamed or deleted")]
    BuiltinRole,
    #[error("a name is 1 to 40 characters")]
    BadName,
    #[error("unknown permission {0}")]
    UnknownPermission(String),
}

/// A permission by its code ("line_discount").
pub fn permission_from_code(code: &str) -> Option<Permission> {
    Permission::ALL.iter().copied().find(|p| p.code() == code)
}

/// Parses permission codes; unknown codes are refused, duplicates collapse.
pub fn parse_permissions(codes: &[String]) -> Result<BTreeSet<Permission>, StaffError> {
    codes
        .iter()
        .map(|c| permission_from_code(c).ok_or_else(|| StaffError::UnknownPermission(c.clone())))
        .collect()
}

/// Checks a new set of grants for a role: the admin role must keep [`LOCKOUT_GUARD`].
pub fn check_grants(role_code: &str, grants: &BTreeSet<Permission>) -> Result<(), StaffError> {
    if role_code == Role::Admin.code() && !LOCKOUT_GUARD.iter().all(|p| grants.contains(p)) {
        return Err(StaffError::AdminLockout);
    }
    Ok(())
}

/// A role's effective permissions from its stored rows (`permission code → granted`): a row
/// decides; without one a built-in role takes its default, a custom role does not have it. The
/// admin role always has [`LOCKOUT_GUARD`], whatever is stored.
pub fn effective_permissions(
    role_code: &str,
    stored: &BTreeMap<String, bool>,
) -> BTreeSet<Permission> {
    let builtin = Role::from_code(role_code);
    Permission::ALL
        .iter()
        .copied()
        .filter(|p| match stored.get(p.code()) {
            Some(granted) => *granted,
            None => builtin.is_some_and(|r| r.allows_by_default(*p)),
        })
        .chain(
            LOCKOUT_GUARD
                .iter()
                .copied()
                .filter(|_| builtin == Some(Role::Admin)),
        )
        .collect()
}

/// A role or user name as typed: trimmed, 1–[`MAX_NAME`] characters.
pub fn clean_name(name: &str) -> Result<String, StaffError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME {
        return Err(StaffError::BadName);
    }
    Ok(n.to_owned())
}

/// The code a custom role gets from its name: lowercase ASCII letters and digits joined by
/// `_`, prefixed `custom_` so it never equals a built-in code; `taken` codes get `_2`, `_3`…
pub fn role_code_for(name: &str, taken: &BTreeSet<String>) -> String {
    let mut slug = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('_') && !slug.is_empty() {
            slug.push('_');
        }
    }
    let slug = slug.trim_end_matches('_');
    let base = if slug.is_empty() {
        "custom_role".to_owned()
    } else {
        format!("custom_{slug}")
    };
    let mut code = base.clone();
    let mut n = 2;
    while taken.contains(&code) {
        code = format!("{base}_{n}");
        n += 1;
    }
    code
}

/// A shift as it counts: the original clock-in/out, or the latest correction of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkedShift {
    pub user_id: String,
    pub started_at: OffsetDateTime,
    /// None while the user is still clocked in.
    pub ended_at: Option<OffsetDateTime>,
}

/// One user's hours on one local day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayHours {
    pub user_id: String,
    pub date: Date,
    pub minutes: i64,
    /// A shift that started this day is still open (its time is not counted).
    pub open: bool,
}

/// Hours per user per local day between `from` and `to` (inclusive). `offset_at` gives the
/// store's offset from UTC at a moment (summer time moves it), so days split at the store's own
/// midnight. A shift across midnight counts on both days; an open shift adds no minutes and
/// flags the day it started. Rows are sorted by user, then date.
pub fn hours_by_day(
    shifts: &[WorkedShift],
    offset_at: &dyn Fn(OffsetDateTime) -> UtcOffset,
    from: Date,
    to: Date,
) -> Vec<DayHours> {
    let local = |t: OffsetDateTime| t.to_offset(offset_at(t));
    let mut out: BTreeMap<(String, Date), (i64, bool)> = BTreeMap::new();
    for s in shifts {
        let start = local(s.started_at);
        let Some(end) = s.ended_at.map(local) else {
            let d = start.date();
            if d >= from && d <= to {
                out.entry((s.user_id.clone(), d)).or_default().1 = true;
            }
            continue;
        };
        let mut cursor = start;
        while cursor < end {
            let day = cursor.date();
            let next_midnight = day
                .next_day()
                .map(|n| {
                    let guess = n.midnight().assume_offset(cursor.offset());
                    local(n.midnight().assume_offset(offset_at(guess)))
                })
                .unwrap_or(end);
            let piece_end = next_midnight.min(end);
            if piece_end <= cursor {
                break; // an offset table that goes backwards must not loop
            }
            if day >= from && day <= to {
                out.entry((s.user_id.clone(), day)).or_default().0 +=
                    (piece_end - cursor).whole_seconds();
            }
            cursor = piece_end;
        }
    }
    out.into_iter()
        .map(|((user_id, date), (seconds, open))| DayHours {
            user_id,
            date,
            minutes: seconds / 60,
            open,
        })
        .collect()
}

/// Minutes as "h:mm" (`125` → `2:05`).
pub fn format_hours(minutes: i64) -> String {
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, offset};

    #[test]
    fn the_admin_role_cannot_lose_the_keys_to_the_store() {
        let mut all: BTreeSet<Permission> = Permission::ALL.into_iter().collect();
        assert_eq!(check_grants("admin", &all), Ok(()));
        all.remove(&Permission::ManageUsers);
        assert_eq!(check_grants("admin", &all), Err(StaffError::AdminLockout));
        // Other roles may lose anything.
        assert_eq!(check_grants("manager", &BTreeSet::new()), Ok(()));
        // Even a stored matrix that lost them (edited by hand) gives them back.
        let stored = BTreeMap::from([
            ("manage_users".to_owned(), false),
            ("manage_settings".to_owned(), false),
        ]);
        let p = effective_permissions("admin", &stored);
        assert!(LOCKOUT_GUARD.iter().all(|g| p.contains(g)));
    }

    #[test]
    fn missing_rows_take_the_builtin_default_and_custom_roles_start_with_nothing() {
        let stored = BTreeMap::from([("void_line".to_owned(), false)]);
        let cashier = effective_permissions("cashier", &stored);
        assert!(cashier.contains(&Permission::Sell));
        assert!(!cashier.contains(&Permission::VoidLine));
        let custom = effective_permissions(
            "custom_trainee",
            &BTreeMap::from([("line_discount".to_owned(), true)]),
        );
        assert_eq!(custom, BTreeSet::from([Permission::LineDiscount]));
    }

    #[test]
    fn custom_role_codes_never_clash() {
        let taken = BTreeSet::from(["custom_shift_lead".to_owned()]);
        assert_eq!(
            role_code_for("Shift lead", &BTreeSet::new()),
            "custom_shift_lead"
        );
        assert_eq!(role_code_for("Shift  lead!", &taken), "custom_shift_lead_2");
        assert_eq!(role_code_for("店長", &BTreeSet::new()), "custom_role");
        assert_eq!(clean_name("  "), Err(StaffError::BadName));
        assert_eq!(clean_name(" Ana "), Ok("Ana".to_owned()));
        assert_eq!(
            parse_permissions(&["sell".into(), "fly".into()]),
            Err(StaffError::UnknownPermission("fly".into()))
        );
    }

    #[test]
    fn a_night_shift_over_the_summer_time_change_splits_at_the_local_midnight() {
        // Madrid: CET (+1) until 2026-03-29 01:00 UTC, then CEST (+2).
        let madrid = |t: OffsetDateTime| {
            if t >= datetime!(2026-03-29 01:00 UTC) {
                offset!(+2)
            } else {
                offset!(+1)
            }
        };
        // 22:00 CET on the 28th to 06:00 CEST on the 29th: 2 h, then 5 h (02:00 became 03:00).
        let shifts = [WorkedShift {
            user_id: "u-ana".into(),
            started_at: datetime!(2026-03-28 21:00 UTC),
            ended_at: Some(datetime!(2026-03-29 04:00 UTC)),
        }];
        let rows = hours_by_day(
            &shifts,
            &madrid,
            date!(2026 - 03 - 28),
            date!(2026 - 03 - 29),
        );
        assert_eq!(
            rows.iter().map(|r| (r.date, r.minutes)).collect::<Vec<_>>(),
            [(date!(2026 - 03 - 28), 120), (date!(2026 - 03 - 29), 300)]
        );
    }

    #[test]
    fn hours_split_at_local_midnight_and_open_shifts_are_flagged_not_counted() {
        let cet = offset!(+1);
        let shifts = [
            WorkedShift {
                user_id: "u-ana".into(),
                started_at: datetime!(2026-11-20 08:00 UTC),
                ended_at: Some(datetime!(2026-11-20 12:30 UTC)),
            },
            // 22:00 to 01:15 local: 2 h on the 21st, 1 h 15 on the 22nd.
            WorkedShift {
                user_id: "u-ana".into(),
                started_at: datetime!(2026-11-21 21:00 UTC),
                ended_at: Some(datetime!(2026-11-22 00:15 UTC)),
            },
            WorkedShift {
                user_id: "u-bea".into(),
                started_at: datetime!(2026-11-22 07:00 UTC),
                ended_at: None,
            },
            // Outside the range.
            WorkedShift {
                user_id: "u-ana".into(),
                started_at: datetime!(2026-11-25 08:00 UTC),
                ended_at: Some(datetime!(2026-11-25 09:00 UTC)),
            },
        ];
        let rows = hours_by_day(
            &shifts,
            &|_| cet,
            date!(2026 - 11 - 20),
            date!(2026 - 11 - 22),
        );
        let got: Vec<(&str, Date, i64, bool)> = rows
            .iter()
            .map(|r| (r.user_id.as_str(), r.date, r.minutes, r.open))
            .collect();
        assert_eq!(
            got,
            [
                ("u-ana", date!(2026 - 11 - 20), 270, false),
                ("u-ana", date!(2026 - 11 - 21), 120, false),
                ("u-ana", date!(2026 - 11 - 22), 75, false),
                ("u-bea", date!(2026 - 11 - 22), 0, true),
            ]
        );
        assert_eq!(format_hours(270), "4:30");
        assert_eq!(format_hours(75), "1:15");
    }
}
