//! Test support: virtual serial pairs made by socat, and a fake ESC/POS printer on the far end.
//!
//! socat is started with std::process::Command and stopped by its own PID (SIGTERM, so it
//! removes its link files — exactly what a pulled USB-serial cable looks like to the host:
//! reads fail, and reopening the path gives ENOENT until it is back).

#![allow(dead_code)]

pub mod zvt;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A socat pty pair: `host` is opened by the code under test, `device` by the fake device.
pub struct SocatPair {
    pub dir: tempfile::TempDir,
    pub host: PathBuf,
    pub device: PathBuf,
    child: Option<Child>,
}

fn spawn_socat(host: &Path, device: &Path) -> Child {
    let child = Command::new("socat")
        .arg("-d")
        .arg(format!("pty,raw,echo=0,link={}", host.display()))
        .arg(format!("pty,raw,echo=0,link={}", device.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "these tests need socat for virtual serial pairs (apt-get install socat): \
                 cannot run socat: {e}"
            )
        });
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(host.exists() && device.exists()) {
        assert!(
            Instant::now() < deadline,
            "socat did not create {} and {} within 5 s",
            host.display(),
            device.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

impl SocatPair {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let host = dir.path().join("ttyHOST");
        let device = dir.path().join("ttyDEV");
        let child = spawn_socat(&host, &device);
        Self {
            dir,
            host,
            device,
            child: Some(child),
        }
    }

    pub fn host_path(&self) -> String {
        self.host.display().to_string()
    }

    /// Pulls the cable: stops socat (by its PID) and waits until the link files are gone.
    pub fn unplug(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.host);
        let _ = std::fs::remove_file(&self.device);
    }

    /// Plugs the cable back in: socat again on the same link paths.
    pub fn replug(&mut self) {
        assert!(self.child.is_none(), "replug after unplug");
        self.child = Some(spawn_socat(&self.host, &self.device));
    }
}

impl Drop for SocatPair {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Opens the device end with the real serialport crate.
pub fn open_device_end(path: &Path) -> Box<dyn serialport::SerialPort> {
    serialport::new(path.display().to_string(), 9600)
        .timeout(Duration::from_millis(20))
        .open()
        .expect("open the device end of the socat pair")
}

// ---------------------------------------------------------------------------------------------

/// What the fake printer did with a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakeCommand {
    Init,
    Kick { m: u8, t1: u8, t2: u8 },
    Cut,
}

/// How the fake printer answers DLE EOT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Answer {
    #[default]
    Normal,
    /// Never answers (a printer switched off behind a powered adapter).
    Silent,
    /// Answers 0xFF (a floating line).
    Invalid,
}

#[derive(Debug, Default)]
pub struct FakePrinterState {
    pub paper_out: bool,
    pub cover_open: bool,
    pub drawer_pin_high: bool,
    /// The drawer opens (pin 3 high) when kicked.
    pub kick_opens_drawer: bool,
    pub answer: Answer,
    /// Stops answering DLE EOT as soon as job data arrives (link lost right after a job).
    pub silent_after_data: bool,
    /// Paper runs out after this many more printed bytes.
    pub runs_out_after: Option<usize>,
    /// Bytes that reached paper (commands included, status requests not).
    pub paper: Vec<u8>,
    pub commands: Vec<FakeCommand>,
    pub status_requests: usize,
}

impl FakePrinterState {
    fn ready(&self) -> bool {
        !self.paper_out && !self.cover_open
    }

    fn answer(&self, n: u8) -> Option<u8> {
        let offline = !self.ready();
        let byte = match n {
            1 => {
                0x12 | if offline { 0x08 } else { 0 } | if self.drawer_pin_high { 0x04 } else { 0 }
            }
            2 => {
                0x12 | if self.cover_open { 0x04 } else { 0 }
                    | if self.paper_out { 0x20 } else { 0 }
            }
            4 => 0x12 | if self.paper_out { 0x60 } else { 0 },
            _ => 0x12,
        };
        match self.answer {
            Answer::Normal => Some(byte),
            Answer::Silent => None,
            Answer::Invalid => Some(0xFF),
        }
    }

    fn print(&mut self, bytes: &[u8]) -> bool {
        if self.silent_after_data && !bytes.is_empty() {
            self.answer = Answer::Silent;
        }
        let mut all = true;
        for &b in bytes {
            if !self.ready() {
                all = false;
                continue;
            }
            self.paper.push(b);
            if let Some(n) = self.runs_out_after.as_mut() {
                *n -= 1;
                if *n == 0 {
                    self.runs_out_after = None;
                    self.paper_out = true;
                }
            }
        }
        all
    }
}

/// A fake ESC/POS printer on the device end of a socat pair, on its own thread. It reopens the
/// port after an unplug.
pub struct FakePrinter {
    pub state: Arc<Mutex<FakePrinterState>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakePrinter {
    pub fn start(device: &Path) -> Self {
        let state = Arc::new(Mutex::new(FakePrinterState::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp, path) = (state.clone(), stop.clone(), device.to_path_buf());
        let thread = std::thread::spawn(move || run_fake(path, st, sp));
        Self {
            state,
            stop,
            thread: Some(thread),
        }
    }

    pub fn state(&self) -> MutexGuard<'_, FakePrinterState> {
        self.state.lock().unwrap()
    }
}

impl Drop for FakePrinter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run_fake(path: PathBuf, state: Arc<Mutex<FakePrinterState>>, stop: Arc<AtomicBool>) {
    let mut pending: Vec<u8> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let mut port = match serialport::new(path.display().to_string(), 9600)
            .timeout(Duration::from_millis(20))
            .open()
        {
            Ok(p) => p,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        pending.clear();
        let mut buf = [0u8; 256];
        while !stop.load(Ordering::Relaxed) {
            match port.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    for &b in &buf[..n] {
                        pending.push(b);
                        if let Some(reply) = step(&mut pending, &state)
                            && port.write_all(&[reply]).is_err()
                        {
                            break;
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => break,
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Consumes `pending` when it forms a complete command; returns a status byte to send back.
fn step(pending: &mut Vec<u8>, state: &Mutex<FakePrinterState>) -> Option<u8> {
    let mut s = state.lock().unwrap();
    match pending.as_slice() {
        [0x10]
        | [0x10, 0x04]
        | [0x1B]
        | [0x1B, 0x70]
        | [0x1B, 0x70, _]
        | [0x1B, 0x70, _, _]
        | [0x1D]
        | [0x1D, 0x56] => None,
        [0x10, 0x04, n] => {
            let n = *n;
            pending.clear();
            s.status_requests += 1;
            s.answer(n)
        }
        [0x1B, 0x40] => {
            if s.print(&[0x1B, 0x40]) {
                s.commands.push(FakeCommand::Init);
            }
            pending.clear();
            None
        }
        [0x1B, 0x70, m, t1, t2] => {
            let (m, t1, t2) = (*m, *t1, *t2);
            if s.print(&[0x1B, 0x70, m, t1, t2]) {
                s.commands.push(FakeCommand::Kick { m, t1, t2 });
                if s.kick_opens_drawer {
                    s.drawer_pin_high = true;
                }
            }
            pending.clear();
            None
        }
        [0x1D, 0x56, m] if matches!(*m, 0 | 1 | 48 | 49) => {
            let m = *m;
            if s.print(&[0x1D, 0x56, m]) {
                s.commands.push(FakeCommand::Cut);
            }
            pending.clear();
            None
        }
        [0x1D, 0x56, _] => None,
        [0x1D, 0x56, m, n] => {
            let (m, n) = (*m, *n);
            if s.print(&[0x1D, 0x56, m, n]) {
                s.commands.push(FakeCommand::Cut);
            }
            pending.clear();
            None
        }
        _ => {
            let bytes = std::mem::take(pending);
            s.print(&bytes);
            None
        }
    }
}

/// Counts non-overlapping occurrences of `needle` in `hay`.
pub fn occurrences(hay: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() || hay.len() < needle.len() {
        return 0;
    }
    let mut count = 0;
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        if &hay[i..i + needle.len()] == needle {
            count += 1;
            i += needle.len();
        } else {
            i += 1;
        }
    }
    count
}

/// A receipt job: init, some text lines, feed and a full cut.
pub fn receipt(id: &str, lines: usize) -> pos_hardware::device::PrintJob {
    let mut b = vec![0x1B, 0x40];
    b.extend_from_slice(format!("RECEIPT {id}\n").as_bytes());
    for i in 0..lines {
        b.extend_from_slice(format!("{i:>2} Item number {i:<12} {:>6}\n", i * 125).as_bytes());
    }
    b.extend_from_slice(b"TOTAL 99.00\n\x1Bd\x04");
    b.extend_from_slice(&[0x1D, 0x56, 0x42, 0x00]);
    pos_hardware::device::PrintJob::new(id, b)
}
