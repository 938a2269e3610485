//! Device settings of one terminal (serde, stored by the app per terminal), and the [`Devices`]
//! bundle built from them.
//!
//! Invariants: an empty or missing configuration means "all simulators", so the app always has
//! a working set of devices; building never fails because a device is unplugged (drivers
//! connect lazily and reconnect), only when a configuration is impossible (a printer on a HID
//! path, a USB display).

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::card::SerialCardReader;
use crate::device::{
    BarcodeScanner, CardReader, CashDrawer, CustomerDisplay, DeviceError, ReceiptPrinter,
};
use crate::display::Cd5220Display;
use crate::drawer::{DrawerPulse, DrawerWatchOptions, KickPin, OpenLevel, PrinterDrawer};
use crate::printer::{
    EscPosPrinter, JobStore, JobStoreError, PrintQueue, PrinterTimeouts, QueueOptions,
};
use crate::scanner::SerialScanner;
use crate::scanner::framing::{FrameOptions, Suffix};
use crate::sim::{SimCardReader, SimDisplay, SimDrawer, SimPrinter, SimScanner, Simulators};
use crate::transport::serial::FlowControl;
use crate::transport::{SerialSettings, SerialTransport, TcpTransport, Transport, UsbTransport};
use crate::zvt::{ZvtTimeouts, ZvtTransport};

/// How one device is reached.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Connection {
    #[default]
    Simulated,
    Serial {
        path: String,
        #[serde(default = "default_baud")]
        baud: u32,
        #[serde(default)]
        flow_control: FlowControl,
    },
    Tcp {
        host: String,
        #[serde(default = "default_tcp_port")]
        port: u16,
    },
    Usb {
        vid: u16,
        pid: u16,
    },
    /// A HID (keyboard-wedge) device node, e.g. `/dev/input/by-id/...-event-kbd`.
    Hid {
        path: String,
    },
    /// No such device at this terminal.
    None,
}

fn default_baud() -> u32 {
    9600
}
fn default_tcp_port() -> u16 {
    crate::transport::tcp::RAW_PRINT_PORT
}

impl Connection {
    /// A byte transport for this connection (printers and displays).
    pub fn transport(&self) -> Result<Box<dyn Transport>, DeviceError> {
        match self {
            Connection::Serial {
                path,
                baud,
                flow_control,
            } => Ok(Box::new(SerialTransport::new(SerialSettings {
                path: path.clone(),
                baud: *baud,
                flow_control: *flow_control,
            }))),
            Connection::Tcp { host, port } => Ok(Box::new(TcpTransport::new(host.clone(), *port))),
            Connection::Usb { vid, pid } => Ok(Box::new(UsbTransport::new(*vid, *pid))),
            other => Err(DeviceError::Unsupported(format!(
                "{} is not a byte transport",
                other.describe()
            ))),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Connection::Simulated => "simulated".into(),
            Connection::Serial { path, baud, .. } => format!("serial {path} @ {baud}"),
            Connection::Tcp { host, port } => format!("tcp {host}:{port}"),
            Connection::Usb { vid, pid } => format!("usb {vid:04x}:{pid:04x}"),
            Connection::Hid { path } => format!("hid {path}"),
            Connection::None => "none".into(),
        }
    }
}

/// Which character sets the receipt printer has (its firmware), which decides how text is
/// encoded: see [`crate::escpos::PrinterProfile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterModel {
    /// By the store's language: Japanese stores have a Japanese model, others a Western one.
    #[default]
    Auto,
    /// PC858 / WPC1252 / PC437, no Kanji: Japanese text prints as raster images.
    Western,
    /// Kanji mode with Shift_JIS.
    Japanese,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PrinterConfig {
    pub connection: Connection,
    /// The paper roll: 58 or 80 mm.
    pub paper: crate::escpos::PaperWidth,
    pub model: PrinterModel,
    pub status_timeout_ms: u64,
    pub write_timeout_ms: u64,
    /// How often a held print job checks the printer again.
    pub retry_every_ms: u64,
}

impl Default for PrinterConfig {
    fn default() -> Self {
        Self {
            connection: Connection::Simulated,
            paper: crate::escpos::PaperWidth::Mm80,
            model: PrinterModel::Auto,
            status_timeout_ms: 1000,
            write_timeout_ms: 20_000,
            retry_every_ms: 2000,
        }
    }
}

/// How the drawer is driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrawerConnection {
    #[default]
    Simulated,
    /// Through the configured receipt printer's kick-out connector.
    ThroughPrinter,
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DrawerConfig {
    pub connection: DrawerConnection,
    pub pin: KickPin,
    pub pulse_on_ms: u16,
    pub pulse_off_ms: u16,
    /// Pin 3 level that means "open".
    pub open_when: OpenLevel,
    pub poll_ms: u64,
    /// Open longer than this → "left open" alert.
    pub left_open_alert_s: u64,
}

impl Default for DrawerConfig {
    fn default() -> Self {
        Self {
            connection: DrawerConnection::Simulated,
            pin: KickPin::Pin2,
            pulse_on_ms: 50,
            pulse_off_ms: 500,
            open_when: OpenLevel::High,
            poll_ms: 500,
            left_open_alert_s: 60,
        }
    }
}

impl DrawerConfig {
    pub fn pulse(&self) -> DrawerPulse {
        DrawerPulse {
            pin: self.pin,
            on_ms: self.pulse_on_ms,
            off_ms: self.pulse_off_ms,
        }
    }

    pub fn watch_options(&self) -> DrawerWatchOptions {
        DrawerWatchOptions {
            poll_every: Duration::from_millis(self.poll_ms.max(10)),
            alert_after: Duration::from_secs(self.left_open_alert_s),
        }
    }
}

/// Scanner and serial card reader framing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LineDeviceConfig {
    pub connection: Connection,
    pub suffix: Suffix,
    pub inter_byte_timeout_ms: u64,
    pub max_len: usize,
}

impl Default for LineDeviceConfig {
    fn default() -> Self {
        Self {
            connection: Connection::Simulated,
            suffix: Suffix::Cr,
            inter_byte_timeout_ms: 100,
            max_len: 128,
        }
    }
}

impl LineDeviceConfig {
    pub fn frame_options(&self) -> FrameOptions {
        FrameOptions {
            suffix: self.suffix,
            inter_byte_timeout: Duration::from_millis(self.inter_byte_timeout_ms.max(1)),
            max_len: self.max_len,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DisplayConfig {
    pub connection: Connection,
    pub columns: usize,
}

impl Default for DisplayConfig {
    fn default() -> Self {
        Self {
            connection: Connection::Simulated,
            columns: 20,
        }
    }
}

/// The payment terminal (ZVT over TCP or serial). `simulated` runs the ZVT simulator inside the
/// app on 127.0.0.1; `none` means no card payments at this terminal.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PaymentTerminalConfig {
    pub connection: Connection,
    /// The terminal's 6-digit password (often 000000 or 123456).
    pub password: u32,
    pub timeouts: ZvtTimeouts,
}

impl PaymentTerminalConfig {
    /// How to reach a real terminal; `None` when it is simulated or there is none.
    pub fn transport(&self) -> Result<Option<ZvtTransport>, DeviceError> {
        match &self.connection {
            Connection::Simulated | Connection::None => Ok(None),
            Connection::Tcp { host, port } => Ok(Some(ZvtTransport::Tcp {
                addr: format!("{host}:{port}"),
            })),
            Connection::Serial { path, baud, .. } => Ok(Some(ZvtTransport::Serial {
                path: path.clone(),
                baud: *baud,
            })),
            other => Err(DeviceError::Unsupported(format!(
                "a payment terminal on {}",
                other.describe()
            ))),
        }
    }
}

/// All devices of one terminal. `DeviceConfig::default()` (and `{}` in JSON) is all simulators.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceConfig {
    pub printer: PrinterConfig,
    pub drawer: DrawerConfig,
    pub scanner: LineDeviceConfig,
    pub card_reader: LineDeviceConfig,
    pub display: DisplayConfig,
    pub payment_terminal: PaymentTerminalConfig,
}

/// The devices of a terminal, as trait objects, plus handles to those that are simulated.
pub struct Devices {
    pub printer: Option<Arc<dyn ReceiptPrinter>>,
    /// Jobs for the printer; `None` when there is no printer.
    pub print_queue: Option<PrintQueue>,
    pub drawer: Option<Arc<dyn CashDrawer>>,
    pub scanner: Option<Arc<dyn BarcodeScanner>>,
    pub card_reader: Option<Arc<dyn CardReader>>,
    pub display: Option<Arc<dyn CustomerDisplay>>,
    pub simulators: Simulators,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("device configuration: {0}")]
    Device(#[from] DeviceError),
    #[error(transparent)]
    JobStore(#[from] JobStoreError),
}

impl Devices {
    /// Builds every configured device and starts the print queue on `job_store`.
    /// Must be called inside a tokio runtime (drivers start background tasks).
    pub fn from_config(
        config: &DeviceConfig,
        job_store: Arc<dyn JobStore>,
    ) -> Result<Self, BuildError> {
        let mut sims = Simulators::default();

        let mut escpos: Option<Arc<EscPosPrinter>> = None;
        let printer: Option<Arc<dyn ReceiptPrinter>> = match &config.printer.connection {
            Connection::None => None,
            Connection::Simulated => {
                let p = SimPrinter::new();
                sims.printer = Some(p.clone());
                Some(Arc::new(p))
            }
            Connection::Hid { .. } => {
                return Err(
                    DeviceError::Unsupported("a printer cannot be a HID device".into()).into(),
                );
            }
            c => {
                let p = EscPosPrinter::new(
                    c.transport()?,
                    PrinterTimeouts {
                        status: Duration::from_millis(config.printer.status_timeout_ms),
                        write: Duration::from_millis(config.printer.write_timeout_ms),
                    },
                );
                escpos = Some(p.clone());
                Some(p)
            }
        };
        let print_queue = match &printer {
            Some(p) => Some(PrintQueue::start(
                p.clone(),
                job_store,
                QueueOptions {
                    retry_every: Duration::from_millis(config.printer.retry_every_ms.max(50)),
                },
            )?),
            None => None,
        };

        let d = &config.drawer;
        let sim_drawer = |sims: &mut Simulators| -> Arc<dyn CashDrawer> {
            let s = SimDrawer::new(d.watch_options());
            sims.drawer = Some(s.clone());
            Arc::new(s)
        };
        let drawer: Option<Arc<dyn CashDrawer>> =
            match (d.connection, &escpos, &printer) {
                (DrawerConnection::None, _, _) => None,
                (DrawerConnection::ThroughPrinter, Some(p), _) => Some(Arc::new(
                    PrinterDrawer::new(p.clone(), d.pulse(), d.open_when, d.watch_options()),
                )),
                // "Through the printer" with a simulated printer: a simulated drawer.
                (DrawerConnection::ThroughPrinter, None, Some(_))
                | (DrawerConnection::Simulated, _, _) => Some(sim_drawer(&mut sims)),
                (DrawerConnection::ThroughPrinter, None, None) => {
                    return Err(DeviceError::Unsupported(
                        "the drawer is wired through the printer, but there is no printer".into(),
                    )
                    .into());
                }
            };

        let s = &config.scanner;
        let scanner: Option<Arc<dyn BarcodeScanner>> = match &s.connection {
            Connection::None => None,
            Connection::Simulated => {
                let sim = SimScanner::new();
                sims.scanner = Some(sim.clone());
                Some(Arc::new(sim))
            }
            Connection::Serial {
                path,
                baud,
                flow_control,
            } => Some(Arc::new(SerialScanner::open(
                SerialSettings {
                    path: path.clone(),
                    baud: *baud,
                    flow_control: *flow_control,
                },
                s.frame_options(),
            ))),
            #[cfg(target_os = "linux")]
            Connection::Hid { path } => Some(Arc::new(crate::scanner::HidScanner::open(path))),
            other => {
                return Err(
                    DeviceError::Unsupported(format!("a scanner on {}", other.describe())).into(),
                );
            }
        };

        let c = &config.card_reader;
        let card_reader: Option<Arc<dyn CardReader>> = match &c.connection {
            Connection::None => None,
            Connection::Simulated => {
                let sim = SimCardReader::new();
                sims.card_reader = Some(sim.clone());
                Some(Arc::new(sim))
            }
            Connection::Serial {
                path,
                baud,
                flow_control,
            } => Some(Arc::new(SerialCardReader::open(
                SerialSettings {
                    path: path.clone(),
                    baud: *baud,
                    flow_control: *flow_control,
                },
                c.frame_options(),
            ))),
            #[cfg(target_os = "linux")]
            Connection::Hid { path } => Some(Arc::new(crate::card::HidCardReader::open(path))),
            other => {
                return Err(DeviceError::Unsupported(format!(
                    "a card reader on {}",
                    other.describe()
                ))
                .into());
            }
        };

        let display: Option<Arc<dyn CustomerDisplay>> = match &config.display.connection {
            Connection::None => None,
            Connection::Simulated => {
                let sim = SimDisplay::new(config.display.columns);
                sims.display = Some(sim.clone());
                Some(Arc::new(sim))
            }
            c @ (Connection::Serial { .. } | Connection::Tcp { .. }) => Some(Arc::new(
                Cd5220Display::new(c.transport()?, config.display.columns),
            )),
            other => {
                return Err(DeviceError::Unsupported(format!(
                    "a customer display on {}",
                    other.describe()
                ))
                .into());
            }
        };

        Ok(Self {
            printer,
            print_queue,
            drawer,
            scanner,
            card_reader,
            display,
            simulators: sims,
        })
    }

    /// Applies a developer-panel command to the simulators.
    pub fn inject(&self, command: crate::sim::SimCommand) -> Result<(), DeviceError> {
        self.simulators.inject(command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_all_simulators() {
        let c: DeviceConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c, DeviceConfig::default());
        assert_eq!(c.printer.connection, Connection::Simulated);
        assert_eq!(c.drawer.connection, DrawerConnection::Simulated);
    }

    #[test]
    fn config_reads_like_settings_json() {
        let c: DeviceConfig = serde_json::from_str(
            r#"{
              "printer": {"connection": {"kind": "tcp", "host": "127.0.0.1"}},
              "drawer": {"connection": "through_printer", "open_when": "low", "left_open_alert_s": 30},
              "scanner": {"connection": {"kind": "serial", "path": "/dev/ttyACM0", "baud": 115200}, "suffix": "cr_lf"},
              "card_reader": {"connection": {"kind": "hid", "path": "/dev/input/event5"}},
              "display": {"connection": {"kind": "none"}}
            }"#,
        )
        .unwrap();
        assert_eq!(
            c.printer.connection,
            Connection::Tcp {
                host: "127.0.0.1".into(),
                port: 9100
            }
        );
        assert_eq!(c.drawer.open_when, OpenLevel::Low);
        assert_eq!(c.scanner.suffix, Suffix::CrLf);
        assert_eq!(c.display.connection, Connection::None);
        let back: DeviceConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }
}
