//! Each terminal's device configuration (printer, drawer, scanner, card reader, display), kept
//! as one JSON document under the key `devices.<terminal_id>` in the `setting` table.
//!
//! Invariants: the store does not interpret the document (the hardware crate owns its shape and
//! validates it before it is saved); a stored value that is not JSON is reported as
//! [`StoreError::Corrupt`], never silently replaced by a default.

use crate::{Result, Store, StoreError};
use rusqlite::{OptionalExtension, params};

fn key(terminal_id: &str) -> String {
    format!("devices.{terminal_id}")
}

impl Store {
    /// The terminal's saved device configuration, or `None` when nothing was saved.
    pub fn device_settings(&self, terminal_id: &str) -> Result<Option<serde_json::Value>> {
        let k = key(terminal_id);
        let text: Option<String> = self
            .conn
            .query_row("SELECT value FROM setting WHERE key = ?1", [&k], |r| {
                r.get(0)
            })
            .optional()?;
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("setting {k}: {e}")))
        })
        .transpose()
    }

    /// Saves (replaces) the terminal's device configuration.
    pub fn put_device_settings(
        &mut self,
        terminal_id: &str,
        config: &serde_json::Value,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO setting (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key(terminal_id), config.to_string()],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    #[test]
    fn device_settings_are_kept_per_terminal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let mut s = Store::open(&path).unwrap();
            assert_eq!(s.device_settings("T01").unwrap(), None);
            let v =
                serde_json::json!({"printer": {"connection": {"kind": "usb", "vid": 1, "pid": 2}}});
            s.put_device_settings("T01", &v).unwrap();
            s.put_device_settings("T01", &v).unwrap();
        }
        let s = Store::open(&path).unwrap();
        let got = s.device_settings("T01").unwrap().unwrap();
        assert_eq!(got["printer"]["connection"]["vid"], 1);
        assert_eq!(s.device_settings("T02").unwrap(), None);
    }
}
