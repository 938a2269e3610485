//! The schema migrations, embedded from `migrations/NNNN_name/up.sql` and applied in order.
//!
//! Invariants: migrations are append-only (a released file is never edited), numbered 1, 2, 3…
//! without gaps, and migration N leaves `PRAGMA user_version = N`. Each migration runs in its
//! own transaction together with the version bump, so a crash leaves the database at a whole
//! version. A database whose version is above [`LATEST`] is refused before anything is written.

use crate::{Result, StoreError};
use rusqlite::Connection;

/// One embedded migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// 1-based; equals the NNNN prefix of the directory.
    pub version: u32,
    /// The directory name, e.g. "0001_init".
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order. Adding `migrations/0002_x/up.sql` means adding a line here; the
/// `every_migration_directory_is_embedded` test fails until you do.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_init",
        sql: include_str!("../../migrations/0001_init/up.sql"),
    },
    Migration {
        version: 2,
        name: "0002_sync",
        sql: include_str!("../../migrations/0002_sync/up.sql"),
    },
    Migration {
        version: 3,
        name: "0003_register_state",
        sql: include_str!("../../migrations/0003_register_state/up.sql"),
    },
    Migration {
        version: 4,
        name: "0004_devices",
        sql: include_str!("../../migrations/0004_devices/up.sql"),
    },
    Migration {
        version: 5,
        name: "0005_checkout",
        sql: include_str!("../../migrations/0005_checkout/up.sql"),
    },
    Migration {
        version: 6,
        name: "0006_tenders",
        sql: include_str!("../../migrations/0006_tenders/up.sql"),
    },
    Migration {
        version: 7,
        name: "0007_shop",
        sql: include_str!("../../migrations/0007_shop/up.sql"),
    },
    Migration {
        version: 8,
        name: "0008_cash",
        sql: include_str!("../../migrations/0008_cash/up.sql"),
    },
    Migration {
        version: 9,
        name: "0009_returns",
        sql: include_str!("../../migrations/0009_returns/up.sql"),
    },
    Migration {
        version: 10,
        name: "0010_stored_value",
        sql: include_str!("../../migrations/0010_stored_value/up.sql"),
    },
    Migration {
        version: 11,
        name: "0011_staff",
        sql: include_str!("../../migrations/0011_staff/up.sql"),
    },
    Migration {
        version: 12,
        name: "0012_shop_gift_cards",
        sql: include_str!("../../migrations/0012_shop_gift_cards/up.sql"),
    },
    Migration {
        version: 13,
        name: "0013_remote_sales",
        sql: include_str!("../../migrations/0013_remote_sales/up.sql"),
    },
];

/// The schema version this program writes.
pub const LATEST: u32 = MIGRATIONS.len() as u32;

pub(crate) fn user_version(conn: &Connection) -> Result<u32> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("user_version {v}")))
}

/// Brings the database up to [`LATEST`]. Returns how many migrations were applied.
pub fn migrate(conn: &mut Connection) -> Result<usize> {
    let found = user_version(conn)?;
    if found > LATEST {
        return Err(StoreError::DatabaseTooNew {
            found,
            supported: LATEST,
        });
    }
    let mut applied = 0;
    for m in MIGRATIONS.iter().filter(|m| m.version > found) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Re-check under the write lock: another process may have migrated meanwhile.
        if user_version(&tx)? >= m.version {
            continue;
        }
        tx.execute_batch(m.sql)?;
        tx.pragma_update(None, "user_version", m.version)?;
        tx.commit()?;
        applied += 1;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use std::path::Path;

    fn migration_dirs() -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .expect("migrations directory")
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn every_migration_directory_is_embedded_in_order_without_gaps() {
        let dirs = migration_dirs();
        let embedded: Vec<&str> = MIGRATIONS.iter().map(|m| m.name).collect();
        assert_eq!(
            dirs, embedded,
            "each migrations/NNNN_name must be listed in MIGRATIONS"
        );
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "numbering is contiguous from 1");
            let (num, rest) = m.name.split_at(4);
            assert_eq!(num.parse::<u32>().unwrap(), m.version, "{}", m.name);
            assert!(
                rest.starts_with('_') && rest.len() > 1,
                "{}: NNNN_name",
                m.name
            );
            let on_disk = std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../migrations")
                    .join(m.name)
                    .join("up.sql"),
            )
            .unwrap();
            assert_eq!(on_disk, m.sql, "{} embedded text is the file", m.name);
        }
    }

    #[test]
    fn a_fresh_file_migrates_to_latest_and_a_second_run_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pos.db");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), LATEST);
        let schema = |c: &Connection| -> Vec<String> {
            c.prepare("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        let before = schema(store.connection());
        drop(store);
        let mut conn = Connection::open(&path).unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), 0, "nothing left to apply");
        assert_eq!(schema(&conn), before);
        drop(conn);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), LATEST);
    }

    #[test]
    fn every_ordinary_table_is_strict() {
        let store = Store::open_in_memory().unwrap();
        let mut stmt = store
            .connection()
            .prepare("SELECT name, strict FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'catalog_search%'")
            .unwrap();
        let tables: Vec<(String, bool)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(tables.len() >= 15, "{tables:?}");
        for (name, strict) in tables {
            assert!(strict, "table {name} is not STRICT");
        }
    }

    #[test]
    fn a_database_from_a_newer_program_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pos.db");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", LATEST + 1)
            .unwrap();
        drop(conn);
        match Store::open(&path) {
            Err(StoreError::DatabaseTooNew { found, supported }) => {
                assert_eq!((found, supported), (LATEST + 1, LATEST));
            }
            other => panic!("expected DatabaseTooNew, got {other:?}"),
        }
        let conn = Connection::open(&path).unwrap();
        assert_eq!(user_version(&conn).unwrap(), LATEST + 1, "left as it was");
    }

    #[test]
    fn the_file_is_durable_wal_with_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("pos.db")).unwrap();
        let c = store.connection();
        let mode: String = c
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = c.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        let fk: i64 = c
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous=FULL");
        assert_eq!(fk, 1);
    }
}
