//! `pos-store` is the terminal's local SQLite database: catalog, staff, sales, settings and the
//! outbox of events for the web shop.
//!
//! Invariants:
//! * One [`Store`] owns one `rusqlite::Connection`; every write that must be all-or-nothing runs
//!   in one transaction (a sale, its lines, payments, taxes, stock changes and outbox row commit
//!   together or not at all).
//! * The database is opened in WAL mode with `synchronous=FULL`, so a committed sale survives a
//!   power cut; foreign keys are enforced; every ordinary table is STRICT.
//! * The schema comes only from the embedded, append-only `migrations/NNNN_name/up.sql` files,
//!   tracked with `PRAGMA user_version`; a database written by a newer binary is refused.
//! * Nothing here reads the clock: the caller passes `now`.
//! * No async and no UI: the desktop shell and the sync worker call this from their own threads.

pub mod audit;
pub mod cash;
pub mod catalog;
pub mod customers;
pub mod demo;
pub mod device_settings;
pub mod email_outbox;
pub mod gift_cards;
pub mod migrations;
pub mod outbox;
pub mod parked;
pub mod pending_payments;
pub mod print_jobs;
pub mod register_state;
pub mod remote_sales;
pub mod returns;
pub mod sales;
pub mod settings;
pub mod shop;
pub mod staff;
pub mod sync_state;
pub mod users;

use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;
use time::OffsetDateTime;

pub use audit::{AuditCheck, AuditRecord, NewAuditEntry};
pub use catalog::{
    CatalogBatch, CatalogItem, LocationRecord, ProductRecord, TaxCategory, VariantRecord,
};
pub use outbox::OutboxMessage;
pub use parked::ParkedSale;
pub use sales::CommitError;
pub use settings::{Country, StoreSettings};
pub use users::{AuthError, LockoutPolicy, NewUser, User, UserError};

/// The WAL size (in pages) at which a commit also checkpoints. The register checkpoints when
/// idle with [`Store::checkpoint`], so this only bounds the WAL if nobody does.
pub const WAL_AUTOCHECKPOINT_PAGES: i64 = 10_000;

/// Page cache per connection, in KiB.
pub const CACHE_KIB: i64 = 64 * 1024;

/// How long a writer waits for another connection's lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database was written by a newer version of the program: update the program (never
    /// open it with an old one, which could not read what the new one wrote).
    #[error(
        "the database has schema version {found}, this program knows up to {supported}: update the program"
    )]
    DatabaseTooNew { found: u32, supported: u32 },
    /// A stored value could not be decoded: the file was edited by hand or is damaged.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// The caller passed something the database cannot hold (a reference to an unknown tax
    /// category, a price in another currency, an empty SKU…).
    #[error("invalid data: {0}")]
    Invalid(String),
    /// Another process holds the write lock for longer than the busy timeout.
    #[error("the database is busy")]
    Busy,
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Busy
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The terminal's database.
pub struct Store {
    conn: Connection,
    lockout: LockoutPolicy,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.conn.path())
            .finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database file at `path`, sets it up for durable use and
    /// brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let conn = Connection::open(path)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Invalid(format!(
                "cannot use WAL journal mode (got {mode})"
            )));
        }
        Self::setup(conn)
    }

    /// A private in-memory database, for unit tests only (it has no WAL and no durability).
    pub fn open_in_memory() -> Result<Store> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(conn: Connection) -> Result<Store> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // FULL: the WAL is synced at every commit, so a committed sale survives a power cut.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Checkpoints belong in idle time (see `checkpoint`); this is only a safety net.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
        // 64 MiB of page cache: the scan path's index pages of a large catalog stay in memory.
        conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
        conn.set_prepared_statement_cache_capacity(64);
        let mut store = Store {
            conn,
            lockout: LockoutPolicy::default(),
        };
        migrations::migrate(&mut store.conn)?;
        Ok(store)
    }

    /// Copies committed pages from the write-ahead log into the database file, without waiting
    /// for anyone (PASSIVE). Call it when the register is idle — after a sale, while nobody
    /// waits — so that a sale commit never pays for a checkpoint. Returns the frames in the log
    /// and how many of them are now in the database file.
    pub fn checkpoint(&self) -> Result<(i64, i64)> {
        Ok(self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get(1)?, r.get(2)?))
            })?)
    }

    /// The schema version of the open database (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32> {
        migrations::user_version(&self.conn)
    }

    /// Read access to the connection, for ad-hoc queries in tests and tools (benchmarks, the
    /// end-to-end test). Writes go through the typed API.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Unix milliseconds of a time.
pub(crate) fn unix_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The time of unix milliseconds.
pub(crate) fn from_unix_ms(ms: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|e| StoreError::Corrupt(format!("time {ms}: {e}")))
}
