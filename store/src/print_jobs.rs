//! The terminal's print queue on disk: receipts waiting for the printer survive a restart.
//!
//! The queue's rules live in `pos_hardware::printer::queue`; this module only keeps the rows.
//! Invariants: a job id is accepted once per terminal (a second insert changes nothing); jobs
//! come out oldest first; a printed job keeps its row (so its id stays known) but not its bytes.

use crate::{Result, Store, StoreError};
use rusqlite::{OptionalExtension, params};

/// The states a job row can be in (the CHECK constraint of `print_jobs.state`).
pub const PRINT_JOB_STATES: [&str; 4] = ["queued", "printing", "printed", "interrupted"];

fn check_state(state: &str) -> Result<()> {
    if PRINT_JOB_STATES.contains(&state) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!("print job state {state}")))
    }
}

impl Store {
    /// Adds a job as `queued`. Returns `false` (and changes nothing) if the id is known.
    pub fn insert_print_job(&self, terminal_id: &str, job_id: &str, bytes: &[u8]) -> Result<bool> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO print_jobs (terminal_id, job_id, bytes, state) VALUES (?1, ?2, ?3, 'queued')
                 ON CONFLICT (terminal_id, job_id) DO NOTHING",
            )?
            .execute(params![terminal_id, job_id, bytes])?;
        Ok(n == 1)
    }

    /// The state of a job, if the id is known.
    pub fn print_job_state(&self, terminal_id: &str, job_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT state FROM print_jobs WHERE terminal_id = ?1 AND job_id = ?2")?
            .query_row(params![terminal_id, job_id], |r| r.get(0))
            .optional()?)
    }

    /// Sets a job's state; a printed job's bytes are dropped. Returns `false` if the id is
    /// unknown.
    pub fn set_print_job_state(
        &self,
        terminal_id: &str,
        job_id: &str,
        state: &str,
    ) -> Result<bool> {
        check_state(state)?;
        let n = self
            .conn
            .prepare_cached(
                "UPDATE print_jobs SET state = ?3,
                        bytes = CASE WHEN ?3 = 'printed' THEN X'' ELSE bytes END
                 WHERE terminal_id = ?1 AND job_id = ?2",
            )?
            .execute(params![terminal_id, job_id, state])?;
        Ok(n == 1)
    }

    /// The oldest queued job: (id, bytes).
    pub fn next_queued_print_job(&self, terminal_id: &str) -> Result<Option<(String, Vec<u8>)>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT job_id, bytes FROM print_jobs WHERE terminal_id = ?1 AND state = 'queued'
                 ORDER BY seq LIMIT 1",
            )?
            .query_row([terminal_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// The ids of the jobs in `state`, oldest first.
    pub fn print_jobs_in_state(&self, terminal_id: &str, state: &str) -> Result<Vec<String>> {
        check_state(state)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT job_id FROM print_jobs WHERE terminal_id = ?1 AND state = ?2 ORDER BY seq",
        )?;
        let ids = stmt
            .query_map(params![terminal_id, state], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_job_survives_reopening_and_its_id_is_accepted_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        {
            let s = Store::open(&path).unwrap();
            assert!(s.insert_print_job("T01", "R-1", b"abc").unwrap());
            assert!(s.insert_print_job("T01", "R-2", b"def").unwrap());
            assert!(!s.insert_print_job("T01", "R-1", b"other").unwrap());
            // Another terminal's job of the same id is its own.
            assert!(s.insert_print_job("T02", "R-1", b"xyz").unwrap());
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(
            s.next_queued_print_job("T01").unwrap(),
            Some(("R-1".into(), b"abc".to_vec())),
            "oldest first, with the bytes first submitted"
        );
        assert!(s.set_print_job_state("T01", "R-1", "printed").unwrap());
        assert_eq!(
            s.next_queued_print_job("T01").unwrap().unwrap().0,
            "R-2".to_string()
        );
        assert_eq!(
            s.print_job_state("T01", "R-1").unwrap().as_deref(),
            Some("printed")
        );
        assert!(
            !s.insert_print_job("T01", "R-1", b"again").unwrap(),
            "printed stays known"
        );
        let bytes: Vec<u8> = s
            .connection()
            .query_row(
                "SELECT bytes FROM print_jobs WHERE terminal_id='T01' AND job_id='R-1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(bytes.is_empty(), "a printed job's bytes are not kept");
        assert_eq!(s.print_jobs_in_state("T01", "queued").unwrap(), vec!["R-2"]);
        assert_eq!(s.print_jobs_in_state("T02", "queued").unwrap(), vec!["R-1"]);
    }

    #[test]
    fn unknown_states_and_ids_are_refused() {
        let s = Store::open_in_memory().unwrap();
        assert!(s.set_print_job_state("T01", "R-9", "alive").is_err());
        assert!(!s.set_print_job_state("T01", "R-9", "queued").unwrap());
        assert_eq!(s.print_job_state("T01", "R-9").unwrap(), None);
    }
}
