//! The cash drawer, driven through the receipt printer's kick-out connector, and the
//! "left open" alert shared by every drawer (real or simulated).
//!
//! Invariants:
//! - The pulse is always the full five bytes `ESC p m t1 t2` — with both times. Without them the
//!   printer swallows the next two bytes of the job (typically the cut).
//! - Open/closed comes from DLE EOT 1 bit 2 (pin 3 level) read through the configured polarity.
//! - The status turns `LeftOpen` once the drawer has been open continuously for the configured
//!   time, and back to `Closed` when it closes. Time is tokio time (paused in tests).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::device::{CashDrawer, DeviceError, DrawerStatus};
use crate::printer::EscPosPrinter;

/// Which kick-out connector pin fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KickPin {
    /// Connector pin 2 (drawer 1), `m = 0`.
    #[default]
    Pin2,
    /// Connector pin 5 (drawer 2), `m = 1`.
    Pin5,
}

/// Pin 3 level that means "open".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpenLevel {
    #[default]
    High,
    Low,
}

impl OpenLevel {
    pub fn is_open(self, pin_high: bool) -> bool {
        match self {
            OpenLevel::High => pin_high,
            OpenLevel::Low => !pin_high,
        }
    }
}

/// The pulse: on time and off time in milliseconds (sent in 2 ms units, 2..=510 ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerPulse {
    pub pin: KickPin,
    pub on_ms: u16,
    pub off_ms: u16,
}

impl Default for DrawerPulse {
    fn default() -> Self {
        Self {
            pin: KickPin::Pin2,
            on_ms: 50,
            off_ms: 500,
        }
    }
}

impl DrawerPulse {
    /// `ESC p m t1 t2`, times in units of 2 ms, clamped to 1..=255.
    pub fn bytes(&self) -> [u8; 5] {
        let units = |ms: u16| (ms / 2).clamp(1, 255) as u8;
        let m = match self.pin {
            KickPin::Pin2 => 0,
            KickPin::Pin5 => 1,
        };
        [0x1B, 0x70, m, units(self.on_ms), units(self.off_ms)]
    }
}

/// Drawer-switch settings shared by every drawer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrawerWatchOptions {
    /// How often the switch is read.
    pub poll_every: Duration,
    /// Open longer than this → `LeftOpen`.
    pub alert_after: Duration,
}

impl Default for DrawerWatchOptions {
    fn default() -> Self {
        Self {
            poll_every: Duration::from_millis(500),
            alert_after: Duration::from_secs(60),
        }
    }
}

/// Pure bookkeeping of how long the drawer has been open.
#[derive(Debug, Clone)]
pub struct LeftOpenTimer {
    alert_after: Duration,
    open_since: Option<Instant>,
}

impl LeftOpenTimer {
    pub fn new(alert_after: Duration) -> Self {
        Self {
            alert_after,
            open_since: None,
        }
    }

    /// Feeds one reading of the switch; returns the status to show.
    pub fn observe(&mut self, open: bool, now: Instant) -> DrawerStatus {
        if !open {
            self.open_since = None;
            return DrawerStatus::Closed;
        }
        let since = *self.open_since.get_or_insert(now);
        if now.duration_since(since) >= self.alert_after {
            DrawerStatus::LeftOpen
        } else {
            DrawerStatus::Open
        }
    }
}

/// Reads the drawer switch (implemented by each drawer kind).
#[async_trait]
pub trait DrawerSensor: Send + Sync + 'static {
    async fn read_open(&self) -> Result<bool, DeviceError>;
}

/// The background poll that keeps a drawer's status (and its left-open alert) current.
pub(crate) struct DrawerWatch {
    pub tx: watch::Sender<DrawerStatus>,
    pub poke: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Drop for DrawerWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DrawerWatch {
    pub fn start(sensor: Arc<dyn DrawerSensor>, options: DrawerWatchOptions) -> Self {
        let (tx, _) = watch::channel(DrawerStatus::Unknown);
        let poke = Arc::new(Notify::new());
        let task = tokio::spawn(poll(sensor, options, tx.clone(), poke.clone()));
        Self { tx, poke, task }
    }
}

async fn poll(
    sensor: Arc<dyn DrawerSensor>,
    options: DrawerWatchOptions,
    tx: watch::Sender<DrawerStatus>,
    poke: Arc<Notify>,
) {
    let mut timer = LeftOpenTimer::new(options.alert_after);
    loop {
        let status = match sensor.read_open().await {
            Ok(open) => timer.observe(open, Instant::now()),
            Err(DeviceError::Disconnected(_) | DeviceError::Timeout(_)) => {
                DrawerStatus::Disconnected
            }
            // Paper out, cover open: the printer still answers DLE EOT 1, but if some other
            // error occurs keep the last known state.
            Err(_) => *tx.borrow(),
        };
        if status == DrawerStatus::LeftOpen && *tx.borrow() != DrawerStatus::LeftOpen {
            tracing::warn!("cash drawer left open");
        }
        tx.send_if_modified(|s| {
            let changed = *s != status;
            *s = status;
            changed
        });
        tokio::select! {
            _ = tokio::time::sleep(options.poll_every) => {}
            _ = poke.notified() => {}
        }
    }
}

/// A drawer on the printer's kick-out connector.
pub struct PrinterDrawer {
    printer: Arc<EscPosPrinter>,
    pulse: DrawerPulse,
    open_level: OpenLevel,
    watch: DrawerWatch,
}

struct PrinterSensor {
    printer: Arc<EscPosPrinter>,
    open_level: OpenLevel,
}

#[async_trait]
impl DrawerSensor for PrinterSensor {
    async fn read_open(&self) -> Result<bool, DeviceError> {
        Ok(self
            .open_level
            .is_open(self.printer.drawer_pin_high().await?))
    }
}

impl PrinterDrawer {
    /// Starts the switch poll; must be called inside a tokio runtime.
    pub fn new(
        printer: Arc<EscPosPrinter>,
        pulse: DrawerPulse,
        open_level: OpenLevel,
        options: DrawerWatchOptions,
    ) -> Self {
        let sensor = Arc::new(PrinterSensor {
            printer: printer.clone(),
            open_level,
        });
        Self {
            printer,
            pulse,
            open_level,
            watch: DrawerWatch::start(sensor, options),
        }
    }
}

#[async_trait]
impl CashDrawer for PrinterDrawer {
    async fn open(&self) -> Result<(), DeviceError> {
        self.printer.send_raw(&self.pulse.bytes()).await?;
        self.watch.poke.notify_one();
        Ok(())
    }

    async fn is_open(&self) -> Result<bool, DeviceError> {
        Ok(self
            .open_level
            .is_open(self.printer.drawer_pin_high().await?))
    }

    fn status(&self) -> watch::Receiver<DrawerStatus> {
        self.watch.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pulse_has_both_times() {
        assert_eq!(
            DrawerPulse::default().bytes(),
            [0x1B, 0x70, 0x00, 25, 250],
            "ESC p 0 t1 t2: 50 ms on, 500 ms off"
        );
        let p5 = DrawerPulse {
            pin: KickPin::Pin5,
            on_ms: 0,
            off_ms: 2000,
        };
        assert_eq!(p5.bytes(), [0x1B, 0x70, 0x01, 1, 255]);
    }

    #[test]
    fn polarity_is_configurable() {
        assert!(OpenLevel::High.is_open(true));
        assert!(!OpenLevel::High.is_open(false));
        assert!(OpenLevel::Low.is_open(false));
    }

    #[tokio::test(start_paused = true)]
    async fn left_open_after_the_configured_time_and_cleared_on_close() {
        let mut t = LeftOpenTimer::new(Duration::from_secs(30));
        let t0 = Instant::now();
        assert_eq!(t.observe(true, t0), DrawerStatus::Open);
        assert_eq!(
            t.observe(true, t0 + Duration::from_secs(29)),
            DrawerStatus::Open
        );
        assert_eq!(
            t.observe(true, t0 + Duration::from_secs(30)),
            DrawerStatus::LeftOpen
        );
        assert_eq!(
            t.observe(false, t0 + Duration::from_secs(31)),
            DrawerStatus::Closed
        );
        assert_eq!(
            t.observe(true, t0 + Duration::from_secs(32)),
            DrawerStatus::Open,
            "a new opening starts a new count"
        );
    }
}
