//! A durable print queue: receipts wait out paper-out, cover-open, offline and unplugged
//! printers, and are never printed twice.
//!
//! Invariants:
//! - A job id is accepted once; submitting a known id again changes nothing.
//! - Jobs print one at a time in submission order; a held job holds the ones behind it.
//! - A job becomes `Printed` only after [`ReceiptPrinter::print`] returned `Ok` (the status read
//!   after the bytes said the printer is fine). Any error puts it back to `Queued`, and it is
//!   printed again in full once the printer is ready.
//! - A job is `Printing` while its bytes may be on the wire. A job still `Printing` when a queue
//!   starts (the app died mid-job), or one whose bytes all went out but whose printer never
//!   confirmed them (`OutcomeUnknown`), becomes `Interrupted`: it may or may not be on paper, so
//!   it is not printed again until a person says so ([`PrintQueue::reprint`]). An error before
//!   or while sending (not ready, paper out, cable pulled) leaves at most a partial receipt, so
//!   the job is printed again in full.
//! - The state lives in a [`JobStore`]; the app backs it with SQLite, tests with
//!   [`MemoryJobStore`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinHandle;

use crate::device::{DeviceError, ErrorKind, JobId, PrintJob, ReceiptPrinter};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Printing,
    Printed,
    Interrupted,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobStoreError {
    #[error("print job store failed: {0}")]
    Backend(String),
    #[error("no print job with id {0}")]
    UnknownJob(JobId),
}

/// Persistence of print jobs. Calls are short and synchronous (SQLite-friendly).
pub trait JobStore: Send + Sync {
    /// Adds a job as `Queued`. Returns `false` and changes nothing if the id is already known.
    fn insert(&self, job: &PrintJob) -> Result<bool, JobStoreError>;
    fn state(&self, id: &JobId) -> Result<Option<JobState>, JobStoreError>;
    fn set_state(&self, id: &JobId, state: JobState) -> Result<(), JobStoreError>;
    /// The oldest `Queued` job.
    fn next_queued(&self) -> Result<Option<PrintJob>, JobStoreError>;
    /// Ids in a state, oldest first.
    fn list(&self, state: JobState) -> Result<Vec<JobId>, JobStoreError>;
}

/// A [`JobStore`] in memory (tests, and the simulator-only demo).
#[derive(Default)]
pub struct MemoryJobStore {
    inner: Mutex<MemoryJobs>,
}

#[derive(Default)]
struct MemoryJobs {
    next_seq: u64,
    by_seq: BTreeMap<u64, (PrintJob, JobState)>,
    seq_of: BTreeMap<JobId, u64>,
}

impl MemoryJobStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryJobs> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl JobStore for MemoryJobStore {
    fn insert(&self, job: &PrintJob) -> Result<bool, JobStoreError> {
        let mut m = self.lock();
        if m.seq_of.contains_key(&job.id) {
            return Ok(false);
        }
        let seq = m.next_seq;
        m.next_seq += 1;
        m.seq_of.insert(job.id.clone(), seq);
        m.by_seq.insert(seq, (job.clone(), JobState::Queued));
        Ok(true)
    }

    fn state(&self, id: &JobId) -> Result<Option<JobState>, JobStoreError> {
        let m = self.lock();
        Ok(m.seq_of
            .get(id)
            .and_then(|s| m.by_seq.get(s))
            .map(|(_, st)| *st))
    }

    fn set_state(&self, id: &JobId, state: JobState) -> Result<(), JobStoreError> {
        let mut m = self.lock();
        let seq = *m
            .seq_of
            .get(id)
            .ok_or_else(|| JobStoreError::UnknownJob(id.clone()))?;
        if let Some(entry) = m.by_seq.get_mut(&seq) {
            entry.1 = state;
        }
        Ok(())
    }

    fn next_queued(&self) -> Result<Option<PrintJob>, JobStoreError> {
        let m = self.lock();
        Ok(m.by_seq
            .values()
            .find(|(_, st)| *st == JobState::Queued)
            .map(|(j, _)| j.clone()))
    }

    fn list(&self, state: JobState) -> Result<Vec<JobId>, JobStoreError> {
        let m = self.lock();
        Ok(m.by_seq
            .values()
            .filter(|(_, st)| *st == state)
            .map(|(j, _)| j.id.clone())
            .collect())
    }
}

/// What the queue tells the app (and through it the cashier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QueueEvent {
    Printing {
        id: JobId,
    },
    Printed {
        id: JobId,
    },
    /// The job waits: tell the cashier why (paper out, cover open, printer unplugged...). It
    /// prints by itself once the printer is ready. Sent once per job and reason.
    Held {
        id: JobId,
        reason: ErrorKind,
        message: String,
    },
    /// Sent but unconfirmed (or found half-sent at start): ask the cashier whether it printed;
    /// printed again only through [`PrintQueue::reprint`].
    Interrupted {
        id: JobId,
    },
}

/// Result of [`PrintQueue::submit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Submitted {
    Queued,
    /// The id was known already (queued, printed or interrupted): nothing changes.
    AlreadyKnown(JobState),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueOptions {
    /// How often a held job checks whether the printer is ready again.
    pub retry_every: Duration,
}

impl Default for QueueOptions {
    fn default() -> Self {
        Self {
            retry_every: Duration::from_secs(2),
        }
    }
}

struct Shared {
    store: Arc<dyn JobStore>,
    events: broadcast::Sender<QueueEvent>,
    wake: Notify,
    /// Set by [`PrintQueue::stop`]; the worker looks at it only between jobs.
    stopping: AtomicBool,
    /// Set by the worker when it has stopped.
    stopped: watch::Sender<bool>,
}

/// The print queue with its worker task (stopped when the queue is dropped).
pub struct PrintQueue {
    shared: Arc<Shared>,
    worker: JoinHandle<()>,
}

impl Drop for PrintQueue {
    fn drop(&mut self) {
        self.worker.abort();
    }
}

impl PrintQueue {
    /// Starts the worker. Jobs left `Printing` by a previous run become `Interrupted`.
    /// Must be called inside a tokio runtime.
    pub fn start(
        printer: Arc<dyn ReceiptPrinter>,
        store: Arc<dyn JobStore>,
        options: QueueOptions,
    ) -> Result<Self, JobStoreError> {
        for id in store.list(JobState::Printing)? {
            tracing::warn!(job = %id, "print job was interrupted by a restart; not reprinting");
            store.set_state(&id, JobState::Interrupted)?;
        }
        let (events, _) = broadcast::channel(256);
        let shared = Arc::new(Shared {
            store,
            events,
            wake: Notify::new(),
            stopping: AtomicBool::new(false),
            stopped: watch::channel(false).0,
        });
        let worker = tokio::spawn(run(shared.clone(), printer, options));
        Ok(Self { shared, worker })
    }

    /// Adds a job; it prints as soon as the jobs before it are done and the printer is ready.
    pub fn submit(&self, job: PrintJob) -> Result<Submitted, JobStoreError> {
        if !self.shared.store.insert(&job)? {
            let state = self
                .shared
                .store
                .state(&job.id)?
                .unwrap_or(JobState::Queued);
            return Ok(Submitted::AlreadyKnown(state));
        }
        self.shared.wake.notify_one();
        Ok(Submitted::Queued)
    }

    /// Puts an interrupted job back in the queue (a person checked it is not on paper).
    pub fn reprint(&self, id: &JobId) -> Result<(), JobStoreError> {
        match self.shared.store.state(id)? {
            Some(JobState::Interrupted) => {
                self.shared.store.set_state(id, JobState::Queued)?;
                self.shared.wake.notify_one();
                Ok(())
            }
            Some(_) => Ok(()),
            None => Err(JobStoreError::UnknownJob(id.clone())),
        }
    }

    pub fn state(&self, id: &JobId) -> Result<Option<JobState>, JobStoreError> {
        self.shared.store.state(id)
    }

    pub fn list(&self, state: JobState) -> Result<Vec<JobId>, JobStoreError> {
        self.shared.store.list(state)
    }

    /// Subscribes to queue events (from now on).
    pub fn events(&self) -> broadcast::Receiver<QueueEvent> {
        self.shared.events.subscribe()
    }

    /// Makes a held job try again now instead of at the next retry tick.
    pub fn retry_now(&self) {
        self.shared.wake.notify_one();
    }

    /// Stops the worker between jobs (a job being sent is finished first) and waits for it, at
    /// most `limit`; returns whether it stopped. After a clean stop no job is left `Printing`,
    /// so a queued receipt is printed by the next run instead of being set aside as
    /// `Interrupted`. Call it when the app closes.
    pub async fn stop(&self, limit: Duration) -> bool {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
        let mut stopped = self.shared.stopped.subscribe();
        matches!(
            tokio::time::timeout(limit, stopped.wait_for(|s| *s)).await,
            Ok(Ok(_))
        )
    }
}

async fn run(shared: Arc<Shared>, printer: Arc<dyn ReceiptPrinter>, options: QueueOptions) {
    let mut last_hold: Option<(JobId, ErrorKind)> = None;
    loop {
        if shared.stopping.load(Ordering::SeqCst) {
            shared.stopped.send_replace(true);
            return;
        }
        let job = match shared.store.next_queued() {
            Ok(Some(job)) => job,
            Ok(None) => {
                shared.wake.notified().await;
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "print queue cannot read its store");
                wait(&shared, options.retry_every).await;
                continue;
            }
        };
        // A printer that is not ready (paper out, cover open, unplugged) holds the job without
        // it ever becoming `Printing`: if the app dies now, the job is still plainly queued and
        // prints once at the next start instead of being set aside as interrupted.
        let not_ready = match printer.query_status().await {
            Ok(status) => status.as_error(),
            Err(e) => Some(e),
        };
        if let Some(err) = not_ready {
            hold(&shared, &job.id, &err, &mut last_hold);
            wait(&shared, options.retry_every).await;
            continue;
        }
        if let Err(e) = shared.store.set_state(&job.id, JobState::Printing) {
            tracing::error!(error = %e, "print queue cannot update its store");
            wait(&shared, options.retry_every).await;
            continue;
        }
        let _ = shared
            .events
            .send(QueueEvent::Printing { id: job.id.clone() });
        match printer.print(&job).await {
            Ok(()) => {
                // If this write fails the job stays `Printing` and becomes `Interrupted` at the
                // next start: better than printing it twice.
                if let Err(e) = shared.store.set_state(&job.id, JobState::Printed) {
                    tracing::error!(job = %job.id, error = %e, "printed but not recorded");
                    wait(&shared, options.retry_every).await;
                    continue;
                }
                last_hold = None;
                tracing::info!(job = %job.id, "receipt printed");
                let _ = shared.events.send(QueueEvent::Printed { id: job.id });
            }
            Err(DeviceError::OutcomeUnknown(why)) => {
                tracing::warn!(job = %job.id, reason = %why, "print job sent but not confirmed");
                if let Err(e) = shared.store.set_state(&job.id, JobState::Interrupted) {
                    tracing::error!(job = %job.id, error = %e, "cannot record interrupted job");
                }
                last_hold = None;
                let _ = shared.events.send(QueueEvent::Interrupted { id: job.id });
            }
            Err(err) => {
                if let Err(e) = shared.store.set_state(&job.id, JobState::Queued) {
                    tracing::error!(job = %job.id, error = %e, "cannot requeue print job");
                }
                hold(&shared, &job.id, &err, &mut last_hold);
                wait(&shared, options.retry_every).await;
            }
        }
    }
}

/// Tells the app a job waits, once per job and reason.
fn hold(
    shared: &Shared,
    id: &JobId,
    err: &DeviceError,
    last_hold: &mut Option<(JobId, ErrorKind)>,
) {
    let key = (id.clone(), err.kind());
    if last_hold.as_ref() != Some(&key) {
        tracing::warn!(job = %id, error = %err, "print job held");
        let _ = shared.events.send(QueueEvent::Held {
            id: id.clone(),
            reason: err.kind(),
            message: message_for(err),
        });
        *last_hold = Some(key);
    }
}

async fn wait(shared: &Shared, d: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = shared.wake.notified() => {}
    }
}

fn message_for(err: &DeviceError) -> String {
    match err {
        DeviceError::PaperOut => {
            "The printer is out of paper. Load a new roll; the receipt prints by itself.".into()
        }
        DeviceError::CoverOpen => {
            "The printer cover is open. Close it; the receipt prints by itself.".into()
        }
        DeviceError::Offline => {
            "The printer is offline. Check it; the receipt prints by itself.".into()
        }
        DeviceError::Disconnected(_) | DeviceError::Timeout(_) => {
            "The printer does not answer. Check its cable and power; the receipt prints by itself."
                .into()
        }
        other => format!("The printer reported a problem: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_held_by_paper_out_is_never_printing_so_a_crash_does_not_set_it_aside() {
        let printer = crate::sim::SimPrinter::new();
        printer.set_paper_out(true);
        let store = Arc::new(MemoryJobStore::new());
        let queue = PrintQueue::start(
            Arc::new(printer.clone()),
            store.clone(),
            QueueOptions {
                retry_every: Duration::from_millis(1),
            },
        )
        .unwrap();
        let mut events = queue.events();
        queue.submit(PrintJob::new("R-1", vec![1, 2, 3])).unwrap();
        while !matches!(events.recv().await, Ok(QueueEvent::Held { .. })) {}
        for _ in 0..20 {
            tokio::task::yield_now().await;
            assert_eq!(
                store.state(&JobId("R-1".into())).unwrap(),
                Some(JobState::Queued)
            );
        }
        // The app dies (no clean stop); the next run prints the job once paper is back.
        drop(queue);
        printer.set_paper_out(false);
        let next = PrintQueue::start(
            Arc::new(printer.clone()),
            store.clone(),
            QueueOptions::default(),
        )
        .unwrap();
        let mut events = next.events();
        while !matches!(events.recv().await, Ok(QueueEvent::Printed { .. })) {}
        assert_eq!(printer.printed_jobs().len(), 1);
    }

    #[tokio::test]
    async fn a_stopped_queue_leaves_a_held_job_queued_for_the_next_run() {
        let printer = crate::sim::SimPrinter::new();
        printer.set_paper_out(true);
        let store = Arc::new(MemoryJobStore::new());
        let queue = PrintQueue::start(
            Arc::new(printer.clone()),
            store.clone(),
            QueueOptions {
                retry_every: Duration::from_millis(1),
            },
        )
        .unwrap();
        let mut events = queue.events();
        queue.submit(PrintJob::new("R-1", vec![1, 2, 3])).unwrap();
        while !matches!(events.recv().await, Ok(QueueEvent::Held { .. })) {}
        assert!(queue.stop(Duration::from_secs(5)).await);
        assert_eq!(
            store.state(&JobId("R-1".into())).unwrap(),
            Some(JobState::Queued)
        );
        printer.set_paper_out(false);
        queue.retry_now();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            printer.printed_jobs().is_empty(),
            "a stopped queue prints nothing"
        );
        drop(queue);
        let next = PrintQueue::start(
            Arc::new(printer.clone()),
            store.clone(),
            QueueOptions::default(),
        )
        .unwrap();
        let mut events = next.events();
        while !matches!(events.recv().await, Ok(QueueEvent::Printed { .. })) {}
        assert_eq!(printer.printed_jobs().len(), 1);
    }

    #[test]
    fn a_job_id_is_accepted_once() {
        let s = MemoryJobStore::new();
        let j = PrintJob::new("R-1", vec![1, 2, 3]);
        assert!(s.insert(&j).unwrap());
        assert!(!s.insert(&PrintJob::new("R-1", vec![9])).unwrap());
        assert_eq!(s.next_queued().unwrap().unwrap().bytes, vec![1, 2, 3]);
    }

    #[test]
    fn jobs_come_out_in_submission_order() {
        let s = MemoryJobStore::new();
        for id in ["b", "a", "c"] {
            s.insert(&PrintJob::new(id, vec![])).unwrap();
        }
        s.set_state(&JobId("b".into()), JobState::Printed).unwrap();
        assert_eq!(s.next_queued().unwrap().unwrap().id.0, "a");
        assert_eq!(
            s.list(JobState::Queued).unwrap(),
            vec![JobId("a".into()), JobId("c".into())]
        );
    }
}
