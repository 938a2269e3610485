//! Staff and PIN login.
//!
//! Login is by PIN alone: the PIN identifies the user. A PIN is 4–8 digits, unique among active
//! users, and stored only as an argon2id hash (parameters [`PIN_HASH_PARAMS`], light enough to
//! check ten users in well under 300 ms). Wrong PINs are counted per terminal (a wrong PIN
//! belongs to nobody): after [`LockoutPolicy::max_attempts`] in a row the terminal refuses every
//! PIN until the lock expires. The count and the lock are stored, so a restart does not reset
//! them.
//!
//! A user's role is a [`UserRole`] read from the stored permission matrix (see `staff`) each
//! time the user is read, so a changed matrix applies at the next PIN. Users are never deleted
//! (sales and audit rows name them): they are deactivated, which frees their PIN.

use crate::{Result, Store, StoreError, from_unix_ms, unix_ms};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use pos_core::staff::UserRole;
use rusqlite::{OptionalExtension, params};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// argon2id with 4 MiB of memory, 1 pass, 1 lane. A 4-digit PIN has only 10,000 values, so the
/// hash cannot make an offline guess slow; it keeps the PIN out of plain sight, and the lockout
/// is what stops guessing at the terminal.
pub const PIN_HASH_PARAMS: (u32, u32, u32) = (4 * 1024, 1, 1);

fn hasher() -> Argon2<'static> {
    let (m, t, p) = PIN_HASH_PARAMS;
    // The constants are valid argon2 parameters; `Params::new` only rejects out-of-range ones.
    let params = Params::new(m, t, p, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: UserRole,
    pub active: bool,
}

/// A user to create, with the PIN they chose.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub name: String,
    /// A role code: "cashier", "manager", "admin" or a custom role's.
    pub role: String,
    pub pin: String,
}

/// How many wrong PINs in a row lock the terminal, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub max_attempts: u32,
    pub lock_for: time::Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            max_attempts: 5,
            lock_for: time::Duration::minutes(5),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No active user has this PIN. `attempts_left` more wrong PINs lock the terminal.
    #[error("wrong PIN, {attempts_left} attempts left")]
    WrongPin { attempts_left: u32 },
    /// Too many wrong PINs: no login until `until`.
    #[error("too many wrong PINs: locked until {until}")]
    Locked { until: OffsetDateTime },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for AuthError {
    fn from(e: rusqlite::Error) -> Self {
        AuthError::Store(e.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("a PIN is 4 to 8 digits")]
    PinFormat,
    #[error("another active user has this PIN")]
    PinTaken,
    #[error("a user needs a name and an id")]
    MissingName,
    #[error("there is already a user with id {0}")]
    DuplicateId(String),
    #[error("no user {0}")]
    NoSuchUser(String),
    #[error("no role {0}")]
    NoSuchRole(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for UserError {
    fn from(e: rusqlite::Error) -> Self {
        UserError::Store(e.into())
    }
}

/// 4 to 8 ASCII digits.
pub fn is_valid_pin(pin: &str) -> bool {
    (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// A PIN's hash as `add_user` stores it (for tests that build old databases by hand).
#[cfg(test)]
pub(crate) fn tests_hash(pin: &str) -> String {
    hash_pin(pin).unwrap()
}

fn pin_matches(pin: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => hasher().verify_password(pin.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

fn decode_role(roles: &BTreeMap<String, UserRole>, code: &str) -> Result<UserRole> {
    roles
        .get(code)
        .cloned()
        .ok_or_else(|| StoreError::Corrupt(format!("role {code:?}")))
}

fn hash_pin(pin: &str) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Ok(hasher()
        .hash_password(pin.as_bytes(), &salt)
        .map_err(|e| StoreError::Invalid(format!("cannot hash the PIN: {e}")))?
        .to_string())
}

impl Store {
    pub fn set_lockout_policy(&mut self, policy: LockoutPolicy) {
        self.lockout = policy;
    }

    pub fn lockout_policy(&self) -> LockoutPolicy {
        self.lockout
    }

    /// Active users with their PIN hashes.
    fn active_hashes(&self) -> Result<Vec<(User, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, name, role, pin_hash FROM user WHERE active = 1 ORDER BY rowid",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let roles = self.role_map()?;
        rows.into_iter()
            .map(|(id, name, role, hash)| {
                Ok((
                    User {
                        id,
                        name,
                        role: decode_role(&roles, &role)?,
                        active: true,
                    },
                    hash,
                ))
            })
            .collect()
    }

    /// Creates a user. The PIN must be 4–8 digits and not the PIN of another active user.
    pub fn add_user(&mut self, new: &NewUser, now: OffsetDateTime) -> Result<User, UserError> {
        if new.name.trim().is_empty() || new.id.trim().is_empty() {
            return Err(UserError::MissingName);
        }
        if !is_valid_pin(&new.pin) {
            return Err(UserError::PinFormat);
        }
        if self.pin_in_use(&new.pin, None)? {
            return Err(UserError::PinTaken);
        }
        let role = self
            .role_map()?
            .remove(&new.role)
            .ok_or_else(|| UserError::NoSuchRole(new.role.clone()))?;
        let hash = hash_pin(&new.pin)?;
        let inserted = self.conn.execute(
            "INSERT INTO user (id, name, role, pin_hash, active, created_at) VALUES (?1, ?2, ?3, ?4, 1, ?5) \
             ON CONFLICT (id) DO NOTHING",
            params![new.id, new.name, new.role, hash, unix_ms(now)],
        )?;
        if inserted == 0 {
            return Err(UserError::DuplicateId(new.id.clone()));
        }
        Ok(User {
            id: new.id.clone(),
            name: new.name.clone(),
            role,
            active: true,
        })
    }

    /// Whether `pin` is the PIN of an active user other than `except`.
    pub fn pin_in_use(&self, pin: &str, except: Option<&str>) -> Result<bool> {
        Ok(self
            .active_hashes()?
            .iter()
            .any(|(u, h)| Some(u.id.as_str()) != except && pin_matches(pin, h)))
    }

    /// One user, active or not.
    pub fn user(&self, user_id: &str) -> Result<Option<User>> {
        Ok(self.users()?.into_iter().find(|u| u.id == user_id))
    }

    /// Changes a user's name and role.
    pub fn update_user(
        &mut self,
        user_id: &str,
        name: &str,
        role: &str,
    ) -> Result<User, UserError> {
        if name.trim().is_empty() {
            return Err(UserError::MissingName);
        }
        if !self.role_map()?.contains_key(role) {
            return Err(UserError::NoSuchRole(role.to_owned()));
        }
        let n = self.conn.execute(
            "UPDATE user SET name = ?2, role = ?3 WHERE id = ?1",
            params![user_id, name.trim(), role],
        )?;
        if n == 0 {
            return Err(UserError::NoSuchUser(user_id.to_owned()));
        }
        self.user(user_id)?
            .ok_or_else(|| UserError::NoSuchUser(user_id.to_owned()))
    }

    /// Gives a user a new PIN (4–8 digits, not another active user's).
    pub fn reset_pin(&mut self, user_id: &str, pin: &str) -> Result<(), UserError> {
        if !is_valid_pin(pin) {
            return Err(UserError::PinFormat);
        }
        if self.pin_in_use(pin, Some(user_id))? {
            return Err(UserError::PinTaken);
        }
        let hash = hash_pin(pin)?;
        let n = self.conn.execute(
            "UPDATE user SET pin_hash = ?2 WHERE id = ?1",
            params![user_id, hash],
        )?;
        if n == 0 {
            return Err(UserError::NoSuchUser(user_id.to_owned()));
        }
        Ok(())
    }

    /// Every user, active or not, in creation order.
    pub fn users(&self) -> Result<Vec<User>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, role, active FROM user ORDER BY rowid")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let roles = self.role_map()?;
        rows.into_iter()
            .map(|(id, name, role, active)| {
                Ok(User {
                    id,
                    name,
                    role: decode_role(&roles, &role)?,
                    active,
                })
            })
            .collect()
    }

    /// Deactivates a user: they cannot log in, and their PIN becomes free for someone else.
    /// (`active = true` reactivates as is; the register uses [`Store::reactivate_user`], which
    /// sets a new PIN, since the old one may have been given to someone since.)
    pub fn set_user_active(&mut self, user_id: &str, active: bool) -> Result<(), UserError> {
        let n = self.conn.execute(
            "UPDATE user SET active = ?2 WHERE id = ?1",
            params![user_id, active],
        )?;
        if n == 0 {
            return Err(UserError::NoSuchUser(user_id.to_owned()));
        }
        Ok(())
    }

    /// Reactivates a user with a new PIN (4–8 digits, not an active user's).
    pub fn reactivate_user(&mut self, user_id: &str, pin: &str) -> Result<(), UserError> {
        self.reset_pin(user_id, pin)?;
        self.set_user_active(user_id, true)
    }

    /// Until when the terminal refuses PINs, if it is locked at `now`.
    pub fn locked_until(&self, now: OffsetDateTime) -> Result<Option<OffsetDateTime>> {
        let until: Option<i64> = self
            .conn
            .query_row(
                "SELECT locked_until FROM login_lockout WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        match until {
            Some(ms) if ms > unix_ms(now) => Ok(Some(from_unix_ms(ms)?)),
            _ => Ok(None),
        }
    }

    /// PIN login: the active user whose PIN this is. Wrong PINs count toward the terminal's
    /// lockout; a correct one resets the count. While locked, every PIN (even a right one) is
    /// refused with [`AuthError::Locked`].
    pub fn verify_pin(&mut self, pin: &str, now: OffsetDateTime) -> Result<User, AuthError> {
        let now_ms = unix_ms(now);
        let (failed, until): (u32, Option<i64>) = self.conn.query_row(
            "SELECT failed_in_a_row, locked_until FROM login_lockout WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let failed = match until {
            Some(ms) if ms > now_ms => {
                return Err(AuthError::Locked {
                    until: from_unix_ms(ms)?,
                });
            }
            // A lock that has run out starts a fresh count.
            Some(_) => 0,
            None => failed,
        };
        let found = if is_valid_pin(pin) {
            self.active_hashes()?
                .into_iter()
                .find(|(_, h)| pin_matches(pin, h))
                .map(|(u, _)| u)
        } else {
            None
        };
        if let Some(user) = found {
            self.conn.execute(
                "UPDATE login_lockout SET failed_in_a_row = 0, locked_until = NULL WHERE id = 1",
                [],
            )?;
            return Ok(user);
        }
        let failed = failed + 1;
        let max = self.lockout.max_attempts.max(1);
        if failed >= max {
            let until = now + self.lockout.lock_for;
            self.conn.execute(
                "UPDATE login_lockout SET failed_in_a_row = ?1, locked_until = ?2 WHERE id = 1",
                params![failed, unix_ms(until)],
            )?;
            return Err(AuthError::Locked { until });
        }
        self.conn.execute(
            "UPDATE login_lockout SET failed_in_a_row = ?1, locked_until = NULL WHERE id = 1",
            params![failed],
        )?;
        Err(AuthError::WrongPin {
            attempts_left: max - failed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

    fn user(id: &str, name: &str, role: &str, pin: &str) -> NewUser {
        NewUser {
            id: id.into(),
            name: name.into(),
            role: role.into(),
            pin: pin.into(),
        }
    }

    fn store_with_staff() -> Store {
        let mut s = Store::open_in_memory().unwrap();
        s.add_user(&user("u-ana", "Ana", "cashier", "1234"), T0)
            .unwrap();
        s.add_user(&user("u-marta", "Marta", "manager", "9999"), T0)
            .unwrap();
        s
    }

    #[test]
    fn the_pin_identifies_the_user() {
        let mut s = store_with_staff();
        let u = s.verify_pin("9999", T0).unwrap();
        assert_eq!(
            (u.name.as_str(), u.role.code.as_str()),
            ("Marta", "manager")
        );
        assert_eq!(s.verify_pin("1234", T0).unwrap().name, "Ana");
    }

    #[test]
    fn the_pin_is_stored_only_as_an_argon2id_hash() {
        let s = store_with_staff();
        let hash: String = s
            .connection()
            .query_row("SELECT pin_hash FROM user WHERE id = 'u-ana'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("1234"));
    }

    #[test]
    fn pins_must_be_four_to_eight_digits_and_unique_among_active_users() {
        let mut s = store_with_staff();
        for bad in ["123", "123456789", "12a4", "", " 1234"] {
            assert!(
                matches!(
                    s.add_user(&user("x", "X", "cashier", bad), T0),
                    Err(UserError::PinFormat)
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            s.add_user(&user("x", "X", "cashier", "1234"), T0),
            Err(UserError::PinTaken)
        ));
        assert!(matches!(
            s.add_user(&user("u-ana", "Ana 2", "cashier", "4321"), T0),
            Err(UserError::DuplicateId(_))
        ));
        // Once Ana leaves, her PIN is free, and she can no longer log in.
        s.set_user_active("u-ana", false).unwrap();
        s.add_user(&user("u-bea", "Bea", "cashier", "1234"), T0)
            .unwrap();
        assert_eq!(s.verify_pin("1234", T0).unwrap().name, "Bea");
        assert_eq!(s.users().unwrap().len(), 3);
    }

    #[test]
    fn five_wrong_pins_lock_the_terminal_even_for_a_right_pin_until_the_lock_runs_out() {
        let mut s = store_with_staff();
        for left in (1..=4).rev() {
            match s.verify_pin("0000", T0) {
                Err(AuthError::WrongPin { attempts_left }) => assert_eq!(attempts_left, left),
                other => panic!("{other:?}"),
            }
        }
        let until = match s.verify_pin("55", T0) {
            Err(AuthError::Locked { until }) => until,
            other => panic!("fifth wrong PIN must lock, got {other:?}"),
        };
        assert_eq!(until, T0 + time::Duration::minutes(5));
        assert!(matches!(
            s.verify_pin("1234", T0 + time::Duration::minutes(4)),
            Err(AuthError::Locked { .. })
        ));
        assert_eq!(s.locked_until(T0).unwrap(), Some(until));
        let later = until + time::Duration::seconds(1);
        assert_eq!(s.locked_until(later).unwrap(), None);
        // After the lock a fresh count starts.
        assert!(matches!(
            s.verify_pin("0000", later),
            Err(AuthError::WrongPin { attempts_left: 4 })
        ));
        assert_eq!(s.verify_pin("1234", later).unwrap().name, "Ana");
    }

    #[test]
    fn a_right_pin_resets_the_count() {
        let mut s = store_with_staff();
        for _ in 0..4 {
            assert!(s.verify_pin("0000", T0).is_err());
        }
        s.verify_pin("1234", T0).unwrap();
        assert!(matches!(
            s.verify_pin("0000", T0),
            Err(AuthError::WrongPin { attempts_left: 4 })
        ));
    }

    #[test]
    fn the_lock_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pos.db");
        {
            let mut s = Store::open(&path).unwrap();
            s.add_user(&user("u-ana", "Ana", "cashier", "1234"), T0)
                .unwrap();
            for _ in 0..3 {
                assert!(s.verify_pin("0000", T0).is_err());
            }
        }
        let mut s = Store::open(&path).unwrap();
        assert!(matches!(
            s.verify_pin("0000", T0),
            Err(AuthError::WrongPin { attempts_left: 1 })
        ));
        assert!(matches!(
            s.verify_pin("0000", T0),
            Err(AuthError::Locked { .. })
        ));
        drop(s);
        let mut s = Store::open(&path).unwrap();
        assert!(matches!(
            s.verify_pin("1234", T0 + time::Duration::minutes(1)),
            Err(AuthError::Locked { .. })
        ));
    }

    #[test]
    fn the_lockout_is_configurable() {
        let mut s = store_with_staff();
        s.set_lockout_policy(LockoutPolicy {
            max_attempts: 2,
            lock_for: time::Duration::seconds(30),
        });
        assert!(matches!(
            s.verify_pin("0000", T0),
            Err(AuthError::WrongPin { attempts_left: 1 })
        ));
        match s.verify_pin("0000", T0) {
            Err(AuthError::Locked { until }) => assert_eq!(until, T0 + time::Duration::seconds(30)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_login_with_ten_users_is_quick() {
        let mut s = Store::open_in_memory().unwrap();
        for i in 0..10 {
            s.add_user(
                &user(
                    &format!("u{i}"),
                    &format!("User {i}"),
                    "cashier",
                    &format!("{:04}", 1000 + i),
                ),
                T0,
            )
            .unwrap();
        }
        // A wrong PIN has to be checked against every user: the worst case. The best of three
        // tries keeps a busy machine's scheduling out of the figure.
        let worst = (0..3)
            .map(|_| {
                let started = std::time::Instant::now();
                assert!(s.verify_pin("9876", T0).is_err());
                started.elapsed()
            })
            .min()
            .unwrap();
        eprintln!("PIN login with 10 users, wrong PIN (worst case): {worst:?}");
        assert!(
            worst < std::time::Duration::from_millis(300),
            "login took {worst:?}"
        );
    }
}
