//! The sale in progress, saved after every change so that a crash or a power cut brings it
//! back. The register owns the content (opaque JSON here); this module only keeps it durable.

use crate::{Result, Store, unix_ms};
use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

impl Store {
    /// Saves the terminal's sale in progress (replacing the previous one).
    pub fn save_register_state(
        &mut self,
        terminal_id: &str,
        state: &serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<()> {
        self.conn.prepare_cached(
            "INSERT INTO register_state (terminal_id, state, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (terminal_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        )?
        .execute(params![terminal_id, state.to_string(), unix_ms(now)])?;
        Ok(())
    }

    /// The terminal's saved sale in progress, if any.
    pub fn register_state(&self, terminal_id: &str) -> Result<Option<serde_json::Value>> {
        let text: Option<String> = self
            .conn
            .prepare_cached("SELECT state FROM register_state WHERE terminal_id = ?1")?
            .query_row([terminal_id], |r| r.get(0))
            .optional()?;
        Ok(match text {
            Some(t) => Some(serde_json::from_str(&t)?),
            None => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_saved_state_survives_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let now = time::macros::datetime!(2026-11-22 10:00 UTC);
        {
            let mut s = Store::open(&path).unwrap();
            assert_eq!(s.register_state("T01").unwrap(), None);
            s.save_register_state("T01", &serde_json::json!({"lines": 1}), now)
                .unwrap();
            s.save_register_state("T01", &serde_json::json!({"lines": 2}), now)
                .unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(
            s.register_state("T01").unwrap(),
            Some(serde_json::json!({"lines": 2}))
        );
        assert_eq!(s.register_state("T02").unwrap(), None);
    }
}
