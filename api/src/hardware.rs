//! The register's devices: built from the terminal's device configuration (all simulators when
//! nothing is configured), and turned into what the status bar shows.
//!
//! Device calls never block a command: printing goes through the durable print queue, the
//! drawer and the customer display are driven by spawned tasks, and their outcomes come back as
//! status events.

use crate::dto::{
    ApiError, DeviceCheckDto, DeviceStateDto, DeviceStatusDto, DeviceSummaryDto, DiagnosisDto,
    FoundDeviceDto,
};
use pos_hardware::config::{Connection, DeviceConfig, Devices, DrawerConnection};
use pos_hardware::device::ScanEvent;
use pos_hardware::device::{DisplayLines, DrawerStatus, LinkStatus, PrintJob, PrinterStatus};
use pos_hardware::sim::SimCommand;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::oneshot;

pub struct Hardware {
    pub devices: Devices,
    config: DeviceConfig,
    /// Card payment attempts, on the terminal's database file.
    pub pending_payments: Arc<crate::device_queues::SqlitePendingStore>,
    /// The in-process ZVT simulator, when the payment terminal is simulated (developer panel).
    pub payment_sim: Arc<OnceLock<pos_hardware::zvt::sim::Simulator>>,
    /// "Scan something now": the next scan goes here instead of into the sale.
    scan_capture: Mutex<Option<oneshot::Sender<ScanEvent>>>,
}

fn dto(
    device: &str,
    state: DeviceStateDto,
    detail: Option<&str>,
    simulated: bool,
) -> DeviceStatusDto {
    DeviceStatusDto {
        device: device.to_owned(),
        state,
        detail: detail.map(str::to_owned),
        simulated,
    }
}

impl Hardware {
    /// Builds the devices, with the print queue and the card payment records on the database
    /// file `db_path` (kept per `terminal_id`). Must run inside a tokio runtime (drivers start
    /// background tasks).
    pub fn open(
        config: &DeviceConfig,
        db_path: &Path,
        terminal_id: &str,
    ) -> Result<Hardware, ApiError> {
        let jobs = crate::device_queues::SqliteJobStore::open(db_path, terminal_id)
            .map_err(crate::errors::store_error)?;
        let pending = crate::device_queues::SqlitePendingStore::open(db_path, terminal_id)
            .map_err(crate::errors::store_error)?;
        let devices = Devices::from_config(config, Arc::new(jobs))
            .map_err(|e| ApiError::new("device.config", e.to_string()))?;
        Ok(Hardware {
            devices,
            config: config.clone(),
            pending_payments: Arc::new(pending),
            payment_sim: Arc::new(OnceLock::new()),
            scan_capture: Mutex::new(None),
        })
    }

    /// The next scan from the scanner is delivered to the returned receiver instead of the
    /// sale (Settings → Devices, "scan something now").
    pub fn capture_next_scan(&self) -> oneshot::Receiver<ScanEvent> {
        let (tx, rx) = oneshot::channel();
        *self.scan_capture.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
        rx
    }

    pub fn stop_capturing_scans(&self) {
        self.scan_capture
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }

    /// Hands a scan to a waiting "scan something now"; returns it if nobody waits (then it
    /// goes into the sale).
    pub fn capture_scan(&self, event: ScanEvent) -> Option<ScanEvent> {
        let waiting = self
            .scan_capture
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        match waiting {
            // If the waiter gave up just now, the scan is the sale's.
            Some(tx) => tx.send(event).err(),
            None => Some(event),
        }
    }

    /// The device configuration from `POS_DEVICES` (JSON, see pos_hardware::config), else all
    /// simulators.
    pub fn config_from_env() -> Result<DeviceConfig, ApiError> {
        match std::env::var("POS_DEVICES") {
            Ok(json) if !json.trim().is_empty() => serde_json::from_str(&json)
                .map_err(|e| ApiError::new("device.config", format!("POS_DEVICES: {e}"))),
            _ => Ok(DeviceConfig::default()),
        }
    }

    /// The configuration the devices were built from.
    pub fn config(&self) -> &DeviceConfig {
        &self.config
    }

    /// Whether the terminal has a drawer and a customer display.
    pub fn has_drawer(&self) -> bool {
        self.devices.drawer.is_some()
    }

    pub fn has_display(&self) -> bool {
        self.devices.display.is_some()
    }

    pub fn any_simulated(&self) -> bool {
        let s = &self.devices.simulators;
        s.printer.is_some()
            || s.drawer.is_some()
            || s.scanner.is_some()
            || s.card_reader.is_some()
            || s.display.is_some()
    }

    /// Queues a receipt. The queue keeps it through paper-out and offline and prints it once.
    pub fn print(&self, job_id: &str, bytes: Vec<u8>) -> Result<(), ApiError> {
        match &self.devices.print_queue {
            Some(q) => q
                .submit(PrintJob::new(job_id, bytes))
                .map(|_| ())
                .map_err(|e| ApiError::new("device.print_queue", e.to_string())),
            None => Ok(()),
        }
    }

    /// Opens the cash drawer (in the background; its status reports the outcome).
    pub fn open_drawer(&self) {
        if let Some(d) = self.devices.drawer.clone() {
            tokio::spawn(async move {
                if let Err(e) = d.open().await {
                    tracing::warn!("drawer did not open: {e}");
                }
            });
        }
    }

    /// Shows two lines on the customer display (in the background).
    pub fn show(&self, lines: DisplayLines) {
        if let Some(d) = self.devices.display.clone() {
            tokio::spawn(async move {
                if let Err(e) = d.show(&lines).await {
                    tracing::warn!("customer display: {e}");
                }
            });
        }
    }

    /// A developer-panel command for the simulators.
    pub fn simulate(&self, command: SimCommand) -> Result<(), ApiError> {
        self.devices
            .inject(command)
            .map_err(|e| ApiError::new("device.not_simulated", e.to_string()))
    }

    /// What the status bar shows, device by device.
    pub fn status(&self) -> Vec<DeviceStatusDto> {
        let sims = &self.devices.simulators;
        let mut out = Vec::new();
        match &self.devices.printer {
            Some(p) => {
                let (state, detail) = match *p.status().borrow() {
                    PrinterStatus::Unknown | PrinterStatus::Online => (DeviceStateDto::Ready, None),
                    PrinterStatus::PaperNearEnd => (DeviceStateDto::Warning, Some("paper_low")),
                    PrinterStatus::PaperOut => (DeviceStateDto::Error, Some("paper_out")),
                    PrinterStatus::CoverOpen => (DeviceStateDto::Error, Some("cover_open")),
                    PrinterStatus::Offline => (DeviceStateDto::Offline, Some("offline")),
                    PrinterStatus::Disconnected => (DeviceStateDto::Offline, Some("disconnected")),
                };
                out.push(dto("printer", state, detail, sims.printer.is_some()));
            }
            None => out.push(dto("printer", DeviceStateDto::NotConfigured, None, false)),
        }
        match &self.devices.drawer {
            Some(d) => {
                let (state, detail) = match *d.status().borrow() {
                    DrawerStatus::Unknown | DrawerStatus::Closed => {
                        (DeviceStateDto::Ready, Some("drawer_closed"))
                    }
                    DrawerStatus::Open => (DeviceStateDto::Warning, Some("drawer_open")),
                    DrawerStatus::LeftOpen => (DeviceStateDto::Error, Some("drawer_left_open")),
                    DrawerStatus::Disconnected => (DeviceStateDto::Offline, Some("disconnected")),
                };
                out.push(dto("drawer", state, detail, sims.drawer.is_some()));
            }
            None if self.config.drawer.connection == DrawerConnection::None => {}
            None => out.push(dto("drawer", DeviceStateDto::NotConfigured, None, false)),
        }
        match &self.devices.scanner {
            Some(s) => {
                let state = match *s.status().borrow() {
                    LinkStatus::Connected => DeviceStateDto::Ready,
                    LinkStatus::Disconnected => DeviceStateDto::Offline,
                };
                out.push(dto("scanner", state, None, sims.scanner.is_some()));
            }
            None if self.config.scanner.connection == Connection::None => {}
            None => out.push(dto("scanner", DeviceStateDto::NotConfigured, None, false)),
        }
        match &self.devices.card_reader {
            Some(c) => {
                let state = match *c.status().borrow() {
                    LinkStatus::Connected => DeviceStateDto::Ready,
                    LinkStatus::Disconnected => DeviceStateDto::Offline,
                };
                out.push(dto("card_reader", state, None, sims.card_reader.is_some()));
            }
            None if self.config.card_reader.connection == Connection::None => {}
            None => out.push(dto(
                "card_reader",
                DeviceStateDto::NotConfigured,
                None,
                false,
            )),
        }
        out
    }
}

/// Parses a device configuration typed in Settings → Devices.
pub fn parse_config(json: &str) -> Result<DeviceConfig, ApiError> {
    serde_json::from_str(json).map_err(|e| {
        ApiError::new("device.config", format!("device configuration: {e}"))
            .with("detail", e.to_string())
    })
}

/// Each device of a configuration and how it is connected, in words.
pub fn summary(config: &DeviceConfig) -> Vec<DeviceSummaryDto> {
    let s = |device: &str, connection: String| DeviceSummaryDto {
        device: device.to_owned(),
        connection,
    };
    let drawer = match config.drawer.connection {
        DrawerConnection::None => "none".to_owned(),
        DrawerConnection::Simulated => "simulated".to_owned(),
        DrawerConnection::ThroughPrinter => "through the printer".to_owned(),
    };
    vec![
        s("printer", config.printer.connection.describe()),
        s("drawer", drawer),
        s("scanner", config.scanner.connection.describe()),
        s("card_reader", config.card_reader.connection.describe()),
        s("display", config.display.connection.describe()),
        s(
            "payment_terminal",
            config.payment_terminal.connection.describe(),
        ),
    ]
}

/// "Diagnose devices" as the settings screen shows it.
pub fn diagnosis_dto(r: pos_hardware::diagnose::Report) -> DiagnosisDto {
    use pos_hardware::diagnose::CheckResult;
    let name = |v: &pos_hardware::diagnose::DeviceKind| match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{v:?}"),
    };
    DiagnosisDto {
        serial_ports: r
            .serial_ports
            .into_iter()
            .map(|p| FoundDeviceDto {
                path: p.path,
                description: p.description,
                looks_like_scanner: false,
                vid: None,
                pid: None,
            })
            .collect(),
        usb_printers: r
            .usb_printers
            .into_iter()
            .map(|u| FoundDeviceDto {
                path: format!(
                    "usb {:04x}:{:04x} (bus {} address {})",
                    u.vid, u.pid, u.bus, u.address
                ),
                description: [u.manufacturer, u.product]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
                looks_like_scanner: false,
                vid: Some(u.vid),
                pid: Some(u.pid),
            })
            .collect(),
        usb_error: r.usb_error,
        input_devices: r
            .input_devices
            .into_iter()
            .map(|i| FoundDeviceDto {
                path: i.path,
                description: i.name,
                looks_like_scanner: i.looks_like_scanner,
                vid: None,
                pid: None,
            })
            .collect(),
        configured: r
            .configured
            .into_iter()
            .map(|c| {
                let (result, answers, detail) = match c.result {
                    CheckResult::Answered { detail } => ("answered", true, Some(detail)),
                    CheckResult::Opened { detail } => ("opened", true, Some(detail)),
                    CheckResult::Simulated => ("simulated", true, None),
                    CheckResult::NotConfigured => ("not_configured", false, None),
                    CheckResult::Failed { message, .. } => ("failed", false, Some(message)),
                };
                DeviceCheckDto {
                    device: name(&c.device),
                    connection: c.connection,
                    result: result.to_owned(),
                    answers,
                    detail,
                }
            })
            .collect(),
    }
}

/// The payment terminal's line in the status bar: `None` while it is still being connected.
pub fn terminal_status_dto(
    status: Option<&pos_hardware::payment::TerminalStatus>,
    simulated: bool,
) -> DeviceStatusDto {
    use pos_hardware::payment::TerminalStatus as T;
    let (state, detail) = match status {
        None => (DeviceStateDto::Offline, Some("connecting")),
        Some(T::Idle | T::Approved) => (DeviceStateDto::Ready, None),
        Some(T::Declined { .. }) => (DeviceStateDto::Ready, Some("declined")),
        Some(T::Connecting) => (DeviceStateDto::Busy, Some("connecting")),
        Some(T::WaitingForCard) => (DeviceStateDto::Busy, Some("waiting_for_card")),
        Some(T::PinEntry) => (DeviceStateDto::Busy, Some("pin_entry")),
        Some(T::Processing) => (DeviceStateDto::Busy, Some("processing")),
        Some(T::Recovering) => (DeviceStateDto::Warning, Some("recovering")),
        Some(T::Error { .. }) => (DeviceStateDto::Error, Some("terminal_error")),
    };
    dto("payment_terminal", state, detail, simulated)
}
