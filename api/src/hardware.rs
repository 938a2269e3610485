//! The register's devices: built from the terminal's device configuration (all simulators when
//! nothing is configured), and turned into what the status bar shows.
//!
//! Device calls never block a command: printing goes through the durable print queue, the
//! drawer and the customer display are driven by spawned tasks, and their outcomes come back as
//! status events.

use crate::dto::{ApiError, DeviceStateDto, DeviceStatusDto};
use pos_hardware::config::{Connection, DeviceConfig, Devices, DrawerConnection};
use pos_hardware::device::{DisplayLines, DrawerStatus, LinkStatus, PrintJob, PrinterStatus};
use pos_hardware::printer::queue::MemoryJobStore;
use pos_hardware::sim::SimCommand;
use std::sync::Arc;

pub struct Hardware {
    pub devices: Devices,
    config: DeviceConfig,
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
    /// Builds the devices. Must run inside a tokio runtime (drivers start background tasks).
    pub fn open(config: &DeviceConfig) -> Result<Hardware, ApiError> {
        let devices = Devices::from_config(config, Arc::new(MemoryJobStore::new()))
            .map_err(|e| ApiError::new("device.config", e.to_string()))?;
        Ok(Hardware {
            devices,
            config: config.clone(),
        })
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
        out
    }
}
