//! A simulator of every device, good enough to demo the whole app without hardware and to drive
//! end-to-end tests. Each simulator is a cheap `Clone` handle: the app holds one clone as the
//! device trait object, the developer panel holds another to inject events.
//!
//! Invariants: simulators behave like the real drivers at the trait boundary — the printer
//! refuses jobs when not ready and loses the rest of a job when paper runs out mid-job; swipes
//! go through the same parser (a bank card is refused); scans go through the same validation.

use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use crate::card::parse_swipe;
use crate::device::{
    BarcodeScanner, CardReader, CashDrawer, CustomerDisplay, DeviceError, DisplayLines,
    DrawerStatus, LinkStatus, PrintJob, PrinterStatus, ReceiptPrinter, ScanEvent, ScanSource,
    ScannedCode, SwipeEvent, Symbology,
};
use crate::drawer::{DrawerSensor, DrawerWatch, DrawerWatchOptions};
use crate::scanner::framing::frame_to_scan;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What the developer panel can do to the simulators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SimCommand {
    Scan {
        code: String,
    },
    Swipe {
        raw: String,
    },
    PaperOut,
    /// Paper runs out after this many more bytes (mid-receipt).
    PaperRunsOutAfter {
        bytes: usize,
    },
    PaperNearEnd,
    PaperReplaced,
    CoverOpen,
    CoverClosed,
    PrinterOffline,
    PrinterOnline,
    CloseDrawer,
}

// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct PrinterState {
    paper_out: bool,
    near_end: bool,
    cover_open: bool,
    offline: bool,
    runs_out_after: Option<usize>,
    /// Everything that reached paper, in order.
    paper: Vec<u8>,
    /// Jobs that printed completely.
    jobs: Vec<PrintJob>,
}

impl PrinterState {
    fn status(&self) -> PrinterStatus {
        if self.offline {
            PrinterStatus::Offline
        } else if self.cover_open {
            PrinterStatus::CoverOpen
        } else if self.paper_out {
            PrinterStatus::PaperOut
        } else if self.near_end {
            PrinterStatus::PaperNearEnd
        } else {
            PrinterStatus::Online
        }
    }
}

/// A receipt printer that records what it printed.
#[derive(Clone)]
pub struct SimPrinter {
    state: Arc<Mutex<PrinterState>>,
    status_tx: Arc<watch::Sender<PrinterStatus>>,
}

impl Default for SimPrinter {
    fn default() -> Self {
        Self::new()
    }
}

impl SimPrinter {
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(PrinterState::default())),
            status_tx: Arc::new(watch::channel(PrinterStatus::Online).0),
        }
    }

    fn change(&self, f: impl FnOnce(&mut PrinterState)) {
        let status = {
            let mut s = lock(&self.state);
            f(&mut s);
            s.status()
        };
        self.status_tx.send_replace(status);
    }

    pub fn set_paper_out(&self, out: bool) {
        self.change(|s| {
            s.paper_out = out;
            if !out {
                s.near_end = false;
                s.runs_out_after = None;
            }
        });
    }

    /// Paper runs out after `bytes` more bytes: the job in progress is cut short.
    pub fn run_out_of_paper_after(&self, bytes: usize) {
        self.change(|s| s.runs_out_after = Some(bytes));
    }

    pub fn set_paper_near_end(&self, near: bool) {
        self.change(|s| s.near_end = near);
    }

    pub fn set_cover_open(&self, open: bool) {
        self.change(|s| s.cover_open = open);
    }

    pub fn set_offline(&self, offline: bool) {
        self.change(|s| s.offline = offline);
    }

    /// Jobs printed in full, in order.
    pub fn printed_jobs(&self) -> Vec<PrintJob> {
        lock(&self.state).jobs.clone()
    }

    /// Every byte that reached paper (including the start of jobs cut short).
    pub fn paper(&self) -> Vec<u8> {
        lock(&self.state).paper.clone()
    }
}

#[async_trait]
impl ReceiptPrinter for SimPrinter {
    async fn print(&self, job: &PrintJob) -> Result<(), DeviceError> {
        let result = {
            let mut s = lock(&self.state);
            if let Some(e) = s.status().as_error() {
                Err(e)
            } else {
                match s.runs_out_after.take() {
                    Some(n) if n < job.bytes.len() => {
                        s.paper.extend_from_slice(&job.bytes[..n]);
                        s.paper_out = true;
                        Err(DeviceError::PaperOut)
                    }
                    left => {
                        s.runs_out_after = left.map(|n| n - job.bytes.len());
                        s.paper.extend_from_slice(&job.bytes);
                        s.jobs.push(job.clone());
                        Ok(())
                    }
                }
            }
        };
        let status = lock(&self.state).status();
        self.status_tx.send_replace(status);
        result
    }

    async fn query_status(&self) -> Result<PrinterStatus, DeviceError> {
        let status = lock(&self.state).status();
        self.status_tx.send_replace(status);
        Ok(status)
    }

    fn status(&self) -> watch::Receiver<PrinterStatus> {
        self.status_tx.subscribe()
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct DrawerState {
    open: bool,
    kicks: usize,
}

struct SimDrawerSensor(Arc<Mutex<DrawerState>>);

#[async_trait]
impl DrawerSensor for SimDrawerSensor {
    async fn read_open(&self) -> Result<bool, DeviceError> {
        Ok(lock(&self.0).open)
    }
}

/// A cash drawer that opens on a kick and stays open until [`SimDrawer::close`].
#[derive(Clone)]
pub struct SimDrawer {
    state: Arc<Mutex<DrawerState>>,
    watch: Arc<DrawerWatch>,
}

impl SimDrawer {
    /// Starts the left-open watch; must be called inside a tokio runtime.
    pub fn new(options: DrawerWatchOptions) -> Self {
        let state = Arc::new(Mutex::new(DrawerState::default()));
        let watch = Arc::new(DrawerWatch::start(
            Arc::new(SimDrawerSensor(state.clone())),
            options,
        ));
        Self { state, watch }
    }

    /// The cashier pushes the drawer shut.
    pub fn close(&self) {
        lock(&self.state).open = false;
        self.watch.poke.notify_one();
    }

    /// How many times the drawer was kicked.
    pub fn kicks(&self) -> usize {
        lock(&self.state).kicks
    }
}

#[async_trait]
impl CashDrawer for SimDrawer {
    async fn open(&self) -> Result<(), DeviceError> {
        {
            let mut s = lock(&self.state);
            s.open = true;
            s.kicks += 1;
        }
        self.watch.poke.notify_one();
        Ok(())
    }

    async fn is_open(&self) -> Result<bool, DeviceError> {
        Ok(lock(&self.state).open)
    }

    fn status(&self) -> watch::Receiver<DrawerStatus> {
        self.watch.tx.subscribe()
    }
}

// ---------------------------------------------------------------------------------------------

/// A scanner fed by [`SimScanner::inject`].
#[derive(Clone)]
pub struct SimScanner {
    scans: broadcast::Sender<ScanEvent>,
    link: Arc<watch::Sender<LinkStatus>>,
}

impl Default for SimScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl SimScanner {
    pub fn new() -> Self {
        Self {
            scans: broadcast::channel(64).0,
            link: Arc::new(watch::channel(LinkStatus::Connected).0),
        }
    }

    /// Scans `code` as a real scanner's frame would be (a wrong GTIN check digit is rejected).
    pub fn inject(&self, code: &str) {
        if let Some(ev) = frame_to_scan(Ok(code.as_bytes().to_vec()), &ScanSource::Simulated) {
            let _ = self.scans.send(ev);
        }
    }

    /// Scans a code with a known symbology, bypassing validation.
    pub fn inject_with(&self, code: &str, symbology: Option<Symbology>) {
        let _ = self.scans.send(ScanEvent::Scanned(ScannedCode {
            code: code.to_owned(),
            symbology,
            source: ScanSource::Simulated,
        }));
    }
}

impl BarcodeScanner for SimScanner {
    fn scans(&self) -> broadcast::Receiver<ScanEvent> {
        self.scans.subscribe()
    }

    fn status(&self) -> watch::Receiver<LinkStatus> {
        self.link.subscribe()
    }
}

// ---------------------------------------------------------------------------------------------

/// A card reader fed by [`SimCardReader::inject_swipe`].
#[derive(Clone)]
pub struct SimCardReader {
    swipes: broadcast::Sender<SwipeEvent>,
    link: Arc<watch::Sender<LinkStatus>>,
}

impl Default for SimCardReader {
    fn default() -> Self {
        Self::new()
    }
}

impl SimCardReader {
    pub fn new() -> Self {
        Self {
            swipes: broadcast::channel(16).0,
            link: Arc::new(watch::channel(LinkStatus::Connected).0),
        }
    }

    /// Swipes raw track data (`%B...?;...?`); it goes through the real parser, so a bank card
    /// is refused here too.
    pub fn inject_swipe(&self, raw: &str) {
        let ev = match parse_swipe(raw) {
            Ok(s) => SwipeEvent::Read(s),
            Err(e) => SwipeEvent::Refused(e),
        };
        let _ = self.swipes.send(ev);
    }
}

impl CardReader for SimCardReader {
    fn swipes(&self) -> broadcast::Receiver<SwipeEvent> {
        self.swipes.subscribe()
    }

    fn status(&self) -> watch::Receiver<LinkStatus> {
        self.link.subscribe()
    }
}

// ---------------------------------------------------------------------------------------------

/// A customer display that records what it shows.
#[derive(Clone)]
pub struct SimDisplay {
    columns: usize,
    shown: Arc<Mutex<Vec<DisplayLines>>>,
}

impl SimDisplay {
    pub fn new(columns: usize) -> Self {
        Self {
            columns,
            shown: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// What the display shows now (two blank lines after a clear).
    pub fn current(&self) -> DisplayLines {
        lock(&self.shown).last().cloned().unwrap_or_default()
    }

    /// Everything shown, oldest first (clears appear as blank lines).
    pub fn history(&self) -> Vec<DisplayLines> {
        lock(&self.shown).clone()
    }
}

#[async_trait]
impl CustomerDisplay for SimDisplay {
    async fn show(&self, lines: &DisplayLines) -> Result<(), DeviceError> {
        let fitted = DisplayLines {
            upper: crate::display::fit_line(&lines.upper, self.columns)
                .trim_end()
                .to_owned(),
            lower: crate::display::fit_line(&lines.lower, self.columns)
                .trim_end()
                .to_owned(),
        };
        lock(&self.shown).push(fitted);
        Ok(())
    }

    async fn clear(&self) -> Result<(), DeviceError> {
        lock(&self.shown).push(DisplayLines::default());
        Ok(())
    }
}

/// The simulators of a [`crate::config::Devices`] bundle, for the developer panel.
#[derive(Clone, Default)]
pub struct Simulators {
    pub printer: Option<SimPrinter>,
    pub drawer: Option<SimDrawer>,
    pub scanner: Option<SimScanner>,
    pub card_reader: Option<SimCardReader>,
    pub display: Option<SimDisplay>,
}

impl Simulators {
    /// Applies a developer-panel command. `NotFound` if that device is not simulated.
    pub fn inject(&self, command: SimCommand) -> Result<(), DeviceError> {
        let not_sim = |what: &str| DeviceError::NotFound(format!("the {what} is not simulated"));
        let printer = || self.printer.as_ref().ok_or_else(|| not_sim("printer"));
        match command {
            SimCommand::Scan { code } => self
                .scanner
                .as_ref()
                .ok_or_else(|| not_sim("scanner"))?
                .inject(&code),
            SimCommand::Swipe { raw } => self
                .card_reader
                .as_ref()
                .ok_or_else(|| not_sim("card reader"))?
                .inject_swipe(&raw),
            SimCommand::PaperOut => printer()?.set_paper_out(true),
            SimCommand::PaperRunsOutAfter { bytes } => printer()?.run_out_of_paper_after(bytes),
            SimCommand::PaperNearEnd => printer()?.set_paper_near_end(true),
            SimCommand::PaperReplaced => printer()?.set_paper_out(false),
            SimCommand::CoverOpen => printer()?.set_cover_open(true),
            SimCommand::CoverClosed => printer()?.set_cover_open(false),
            SimCommand::PrinterOffline => printer()?.set_offline(true),
            SimCommand::PrinterOnline => printer()?.set_offline(false),
            SimCommand::CloseDrawer => self
                .drawer
                .as_ref()
                .ok_or_else(|| not_sim("drawer"))?
                .close(),
        }
        Ok(())
    }
}
