//! Staff and PIN login.
//!
//! Login is by PIN alone: the PIN identifies the user. A PIN is 4–8 digits, unique among active
//! users, and stored only as an argon2id hash (parameters [`PIN_HASH_PARAMS`], light enough to
//! check ten users in well under 300 ms). Wrong PINs are counted per terminal (a wrong PIN
//! belongs to nobody): after [`LockoutPolicy::max_attempts`] in a row the terminal refuses every
//! PIN until the lock expires. The count and the lock are stored, so a restart does not reset
//! them.

use crate::{Result, Store, StoreError, from_unix_ms, unix_ms};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use pos_core::auth::Role;
use rusqlite::{OptionalExtension, params};
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
    pub role: Role,
    pub active: bool,
}

/// A user to create, with the PIN they chose.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub name: String,
    pub role: Role,
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

fn pin_matches(pin: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => hasher().verify_password(pin.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

fn decode_role(code: &str) -> Result<Role> {
    Role::from_code(code).ok_or_else(|| StoreError::Corrupt(format!("role {code:?}")))
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
        rows.into_iter()
            .map(|(id, name, role, hash)| {
                Ok((
                    User {
                        id,
                        name,
                        role: decode_role(&role)?,
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
        if self
            .active_hashes()?
            .iter()
            .any(|(_, h)| pin_matches(&new.pin, h))
        {
            return Err(UserError::PinTaken);
        }
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let hash = hasher()
            .hash_password(new.pin.as_bytes(), &salt)
            .map_err(|e| StoreError::Invalid(format!("cannot hash the PIN: {e}")))?
            .to_string();
        let inserted = self.conn.execute(
            "INSERT INTO user (id, name, role, pin_hash, active, created_at) VALUES (?1, ?2, ?3, ?4, 1, ?5) \
             ON CONFLICT (id) DO NOTHING",
            params![new.id, new.name, new.role.code(), hash, unix_ms(now)],
        )?;
        if inserted == 0 {
            return Err(UserError::DuplicateId(new.id.clone()));
        }
        Ok(User {
            id: new.id.clone(),
            name: new.name.clone(),
            role: new.role,
            active: true,
        })
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
        rows.into_iter()
            .map(|(id, name, role, active)| {
                Ok(User {
                    id,
                    name,
                    role: decode_role(&role)?,
                    active,
                })
            })
            .collect()
    }

    /// Activates or deactivates a user. A deactivated user cannot log in, and their PIN becomes
    /// free for someone else.
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

    fn user(id: &str, name: &str, role: Role, pin: &str) -> NewUser {
        NewUser {
            id: id.into(),
            name: name.into(),
            role,
            pin: pin.into(),
        }
    }

    fn store_with_staff() -> Store {
        let mut s = Store::open_in_memory().unwrap();
        s.add_user(&user("u-ana", "Ana", Role::Cashier, "1234"), T0)
            .unwrap();
        s.add_user(&user("u-marta", "Marta", Role::Manager, "9999"), T0)
            .unwrap();
        s
    }

    #[test]
    fn the_pin_identifies_the_user() {
        let mut s = store_with_staff();
        let u = s.verify_pin("9999", T0).unwrap();
        assert_eq!((u.name.as_str(), u.role), ("Marta", Role::Manager));
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
                    s.add_user(&user("x", "X", Role::Cashier, bad), T0),
                    Err(UserError::PinFormat)
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            s.add_user(&user("x", "X", Role::Cashier, "1234"), T0),
            Err(UserError::PinTaken)
        ));
        assert!(matches!(
            s.add_user(&user("u-ana", "Ana 2", Role::Cashier, "4321"), T0),
            Err(UserError::DuplicateId(_))
        ));
        // Once Ana leaves, her PIN is free, and she can no longer log in.
        s.set_user_active("u-ana", false).unwrap();
        s.add_user(&user("u-bea", "Bea", Role::Cashier, "1234"), T0)
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
            s.add_user(&user("u-ana", "Ana", Role::Cashier, "1234"), T0)
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
                    Role::Cashier,
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
