//! The device queues on the terminal's SQLite file: the print queue's [`JobStore`] and the
//! payment terminal's [`PendingPaymentStore`], so that a receipt held by a paper-out and a card
//! payment whose outcome was lost both survive a restart.
//!
//! Each store has its own connection to the database file (WAL lets it write while the register
//! holds its own connection), behind a mutex: the calls are short and synchronous. The rules
//! (print once, charge once) are in pos-hardware; the rows are in `pos_store::print_jobs` and
//! `pos_store::pending_payments`. Everything is kept per terminal id.

use pos_hardware::device::{JobId, PrintJob};
use pos_hardware::payment::{PendingPayment, PendingPaymentStore, PendingState};
use pos_hardware::printer::{JobState, JobStore, JobStoreError};
use pos_store::Store;
use pos_store::pending_payments::PendingPaymentRow;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

fn lock(m: &Mutex<Store>) -> MutexGuard<'_, Store> {
    // A panic mid-call leaves SQLite consistent (each call is one statement).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Print jobs in the `print_jobs` table.
pub struct SqliteJobStore {
    store: Mutex<Store>,
    terminal_id: String,
}

impl SqliteJobStore {
    /// Opens its own connection to the database at `db_path`.
    pub fn open(db_path: &Path, terminal_id: &str) -> Result<Self, pos_store::StoreError> {
        Ok(Self {
            store: Mutex::new(Store::open(db_path)?),
            terminal_id: terminal_id.to_owned(),
        })
    }
}

fn job_state_name(s: JobState) -> &'static str {
    match s {
        JobState::Queued => "queued",
        JobState::Printing => "printing",
        JobState::Printed => "printed",
        JobState::Interrupted => "interrupted",
    }
}

fn job_state(name: &str) -> Result<JobState, JobStoreError> {
    Ok(match name {
        "queued" => JobState::Queued,
        "printing" => JobState::Printing,
        "printed" => JobState::Printed,
        "interrupted" => JobState::Interrupted,
        other => return Err(JobStoreError::Backend(format!("unknown job state {other}"))),
    })
}

fn backend(e: pos_store::StoreError) -> JobStoreError {
    JobStoreError::Backend(e.to_string())
}

impl JobStore for SqliteJobStore {
    fn insert(&self, job: &PrintJob) -> Result<bool, JobStoreError> {
        lock(&self.store)
            .insert_print_job(&self.terminal_id, &job.id.0, &job.bytes)
            .map_err(backend)
    }

    fn state(&self, id: &JobId) -> Result<Option<JobState>, JobStoreError> {
        lock(&self.store)
            .print_job_state(&self.terminal_id, &id.0)
            .map_err(backend)?
            .map(|s| job_state(&s))
            .transpose()
    }

    fn set_state(&self, id: &JobId, state: JobState) -> Result<(), JobStoreError> {
        let found = lock(&self.store)
            .set_print_job_state(&self.terminal_id, &id.0, job_state_name(state))
            .map_err(backend)?;
        if found {
            Ok(())
        } else {
            Err(JobStoreError::UnknownJob(id.clone()))
        }
    }

    fn next_queued(&self) -> Result<Option<PrintJob>, JobStoreError> {
        Ok(lock(&self.store)
            .next_queued_print_job(&self.terminal_id)
            .map_err(backend)?
            .map(|(id, bytes)| PrintJob::new(id, bytes)))
    }

    fn list(&self, state: JobState) -> Result<Vec<JobId>, JobStoreError> {
        Ok(lock(&self.store)
            .print_jobs_in_state(&self.terminal_id, job_state_name(state))
            .map_err(backend)?
            .into_iter()
            .map(JobId)
            .collect())
    }
}

/// Card payment attempts in the `pending_payments` table.
pub struct SqlitePendingStore {
    store: Mutex<Store>,
    terminal_id: String,
}

impl SqlitePendingStore {
    /// Opens its own connection to the database at `db_path`.
    pub fn open(db_path: &Path, terminal_id: &str) -> Result<Self, pos_store::StoreError> {
        Ok(Self {
            store: Mutex::new(Store::open(db_path)?),
            terminal_id: terminal_id.to_owned(),
        })
    }
}

fn row(record: &PendingPayment) -> Result<PendingPaymentRow, String> {
    Ok(PendingPaymentRow {
        record: serde_json::to_value(record).map_err(|e| e.to_string())?,
        in_flight: !record.state.is_final(),
        receipt_no: match &record.state {
            PendingState::Approved { approval } => Some(approval.receipt_no),
            _ => None,
        },
    })
}

fn record(row: PendingPaymentRow) -> Result<PendingPayment, String> {
    serde_json::from_value(row.record).map_err(|e| format!("stored pending payment: {e}"))
}

impl PendingPaymentStore for SqlitePendingStore {
    fn insert_new(&self, new: &PendingPayment) -> Result<Option<PendingPayment>, String> {
        lock(&self.store)
            .insert_pending_payment(&self.terminal_id, &new.ref_id, &row(new)?)
            .map_err(|e| e.to_string())?
            .map(record)
            .transpose()
    }

    fn set_state(&self, ref_id: &str, state: &PendingState) -> Result<(), String> {
        let store = lock(&self.store);
        let existing = store
            .pending_payment(&self.terminal_id, ref_id)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no pending payment {ref_id}"))?;
        let mut updated = record(existing)?;
        updated.state = state.clone();
        store
            .update_pending_payment(&self.terminal_id, ref_id, &row(&updated)?)
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    fn get(&self, ref_id: &str) -> Result<Option<PendingPayment>, String> {
        lock(&self.store)
            .pending_payment(&self.terminal_id, ref_id)
            .map_err(|e| e.to_string())?
            .map(record)
            .transpose()
    }

    fn in_flight(&self) -> Result<Vec<PendingPayment>, String> {
        lock(&self.store)
            .in_flight_payments(&self.terminal_id)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|v| serde_json::from_value(v).map_err(|e| format!("stored pending payment: {e}")))
            .collect()
    }

    fn receipt_is_attributed(&self, receipt_no: u32) -> Result<bool, String> {
        lock(&self.store)
            .payment_receipt_attributed(&self.terminal_id, receipt_no)
            .map_err(|e| e.to_string())
    }

    fn last_receipt_no(&self) -> Result<Option<u32>, String> {
        lock(&self.store)
            .payment_terminal_last_receipt(&self.terminal_id)
            .map_err(|e| e.to_string())
    }

    fn set_last_receipt_no(&self, receipt_no: u32) -> Result<(), String> {
        lock(&self.store)
            .set_payment_terminal_last_receipt(&self.terminal_id, receipt_no)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pos_core::{Currency, Money};
    use pos_hardware::payment::{Approval, PaymentKind};

    fn approval(receipt_no: u32) -> Approval {
        Approval {
            ref_id: "S-1".into(),
            amount: Money::new(1250, Currency::Eur),
            receipt_no,
            trace_no: Some(7),
            approval_code: Some("123456".into()),
            terminal_id: Some("52523535".into()),
            card_brand: Some("Mastercard".into()),
            pan_last4: Some("1234".into()),
            slip_lines: vec!["KUNDENBELEG".into()],
            recovered: false,
        }
    }

    #[test]
    fn jobs_and_payments_survive_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        {
            let jobs = SqliteJobStore::open(&db, "T01").unwrap();
            assert!(
                jobs.insert(&PrintJob::new("R-1", vec![0x1b, 0x40]))
                    .unwrap()
            );
            assert!(jobs.insert(&PrintJob::new("R-2", vec![1])).unwrap());
            jobs.set_state(&JobId("R-2".into()), JobState::Printing)
                .unwrap();
            let pay = SqlitePendingStore::open(&db, "T01").unwrap();
            let p = PendingPayment {
                ref_id: "S-1".into(),
                kind: PaymentKind::Sale,
                amount: Money::new(1250, Currency::Eur),
                baseline_receipt_no: Some(3),
                state: PendingState::InFlight,
            };
            assert_eq!(pay.insert_new(&p).unwrap(), None);
            pay.set_last_receipt_no(3).unwrap();
        }
        let jobs = SqliteJobStore::open(&db, "T01").unwrap();
        let next = jobs.next_queued().unwrap().unwrap();
        assert_eq!(next, PrintJob::new("R-1", vec![0x1b, 0x40]));
        assert_eq!(
            jobs.list(JobState::Printing).unwrap(),
            vec![JobId("R-2".into())]
        );
        assert!(matches!(
            jobs.set_state(&JobId("R-9".into()), JobState::Printed),
            Err(JobStoreError::UnknownJob(_))
        ));

        let pay = SqlitePendingStore::open(&db, "T01").unwrap();
        let in_flight = pay.in_flight().unwrap();
        assert_eq!(in_flight.len(), 1);
        assert_eq!(in_flight[0].baseline_receipt_no, Some(3));
        assert_eq!(pay.last_receipt_no().unwrap(), Some(3));
        pay.set_state(
            "S-1",
            &PendingState::Approved {
                approval: approval(4),
            },
        )
        .unwrap();
        assert!(pay.in_flight().unwrap().is_empty());
        assert!(pay.receipt_is_attributed(4).unwrap());
        assert!(!pay.receipt_is_attributed(3).unwrap());
        let again = pay
            .insert_new(&PendingPayment {
                ref_id: "S-1".into(),
                kind: PaymentKind::Sale,
                amount: Money::new(999, Currency::Eur),
                baseline_receipt_no: None,
                state: PendingState::InFlight,
            })
            .unwrap()
            .unwrap();
        assert_eq!(
            again.state,
            PendingState::Approved {
                approval: approval(4)
            },
            "a known ref_id returns its recorded outcome"
        );
    }
}
