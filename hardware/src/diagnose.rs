//! "Diagnose devices": what is attached to this machine (serial ports, USB printers, HID
//! keyboards that look like scanners) and whether each configured device answers.
//!
//! Invariants: every probe has a timeout; nothing is printed and no drawer is kicked (only
//! status requests and opening ports); run it while the app's own drivers are stopped, as
//! serial ports are opened exclusively.

use std::time::Duration;

use serde::Serialize;

use crate::config::{Connection, DeviceConfig, DrawerConnection};
use crate::device::{DeviceError, ErrorKind};
use crate::printer::{EscPosPrinter, PrinterTimeouts};
use crate::transport::{SerialSettings, UsbPrinterInfo, list_usb_printers};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SerialPortFound {
    pub path: String,
    /// "usb 0403:6001 FTDI", "pci", "bluetooth", "unknown".
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputDeviceFound {
    pub path: String,
    pub name: String,
    /// Has digit keys and Enter and a name like a scanner or card reader.
    pub looks_like_scanner: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Printer,
    Drawer,
    Scanner,
    CardReader,
    Display,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum CheckResult {
    /// The device answered a status request.
    Answered {
        detail: String,
    },
    /// The port opened; this kind of device cannot be asked (scan or swipe to test it).
    Opened {
        detail: String,
    },
    Simulated,
    NotConfigured,
    Failed {
        kind: ErrorKind,
        message: String,
    },
}

impl From<DeviceError> for CheckResult {
    fn from(e: DeviceError) -> Self {
        CheckResult::Failed {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceCheck {
    pub device: DeviceKind,
    pub connection: String,
    pub result: CheckResult,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub serial_ports: Vec<SerialPortFound>,
    pub usb_printers: Vec<UsbPrinterInfo>,
    /// Why USB could not be listed (no libusb access), if so.
    pub usb_error: Option<String>,
    pub input_devices: Vec<InputDeviceFound>,
    pub configured: Vec<DeviceCheck>,
}

/// Diagnoses with a one-second timeout per probe.
pub async fn diagnose(config: &DeviceConfig) -> Report {
    diagnose_with_timeout(config, Duration::from_secs(1)).await
}

pub async fn diagnose_with_timeout(config: &DeviceConfig, timeout: Duration) -> Report {
    let serial_ports = tokio::task::spawn_blocking(list_serial_ports)
        .await
        .unwrap_or_default();
    let (usb_printers, usb_error) = match tokio::task::spawn_blocking(list_usb_printers).await {
        Ok(Ok(list)) => (list, None),
        Ok(Err(e)) => (Vec::new(), Some(e.to_string())),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let input_devices = tokio::task::spawn_blocking(list_input_devices)
        .await
        .unwrap_or_default();

    let mut configured = Vec::new();
    configured.push(DeviceCheck {
        device: DeviceKind::Printer,
        connection: config.printer.connection.describe(),
        result: check_printer(&config.printer.connection, timeout).await,
    });
    configured.push(DeviceCheck {
        device: DeviceKind::Drawer,
        connection: format!("{:?}", config.drawer.connection),
        result: match config.drawer.connection {
            DrawerConnection::None => CheckResult::NotConfigured,
            DrawerConnection::Simulated => CheckResult::Simulated,
            DrawerConnection::ThroughPrinter => match &config.printer.connection {
                Connection::Simulated => CheckResult::Simulated,
                c => match printer_probe(c, timeout).await {
                    Ok(p) => match p.drawer_pin_high().await {
                        Ok(high) => CheckResult::Answered {
                            detail: if config.drawer.open_when.is_open(high) {
                                "drawer is open".into()
                            } else {
                                "drawer is closed".into()
                            },
                        },
                        Err(e) => e.into(),
                    },
                    Err(e) => e.into(),
                },
            },
        },
    });
    for (kind, conn) in [
        (DeviceKind::Scanner, &config.scanner.connection),
        (DeviceKind::CardReader, &config.card_reader.connection),
        (DeviceKind::Display, &config.display.connection),
    ] {
        configured.push(DeviceCheck {
            device: kind,
            connection: conn.describe(),
            result: check_opens(conn, timeout).await,
        });
    }
    Report {
        serial_ports,
        usb_printers,
        usb_error,
        input_devices,
        configured,
    }
}

async fn printer_probe(
    c: &Connection,
    timeout: Duration,
) -> Result<std::sync::Arc<EscPosPrinter>, DeviceError> {
    Ok(EscPosPrinter::new(
        c.transport()?,
        PrinterTimeouts {
            status: timeout,
            write: timeout,
        },
    ))
}

async fn check_printer(c: &Connection, timeout: Duration) -> CheckResult {
    match c {
        Connection::None => CheckResult::NotConfigured,
        Connection::Simulated => CheckResult::Simulated,
        c => match printer_probe(c, timeout).await {
            Ok(p) => match p.raw_status().await {
                Ok(raw) => CheckResult::Answered {
                    detail: format!("{:?}", raw.interpret()),
                },
                Err(e) => e.into(),
            },
            Err(e) => e.into(),
        },
    }
}

async fn check_opens(c: &Connection, timeout: Duration) -> CheckResult {
    match c {
        Connection::None => CheckResult::NotConfigured,
        Connection::Simulated => CheckResult::Simulated,
        Connection::Serial {
            path,
            baud,
            flow_control,
        } => {
            let settings = SerialSettings {
                path: path.clone(),
                baud: *baud,
                flow_control: *flow_control,
            };
            match tokio::task::spawn_blocking(move || settings.open().map(|_| ())).await {
                Ok(Ok(())) => CheckResult::Opened {
                    detail: "port opens".into(),
                },
                Ok(Err(e)) => e.into(),
                Err(e) => DeviceError::Io(e.to_string()).into(),
            }
        }
        Connection::Tcp { host, port } => {
            let addr = format!("{host}:{port}");
            match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(&addr)).await {
                Ok(Ok(_)) => CheckResult::Opened {
                    detail: "connects".into(),
                },
                Ok(Err(e)) => crate::transport::map_io(&e, &addr).into(),
                Err(_) => DeviceError::Timeout(timeout).into(),
            }
        }
        Connection::Hid { path } => check_hid(path),
        Connection::Usb { .. } => {
            DeviceError::Unsupported("only printers are supported on USB".into()).into()
        }
    }
}

#[cfg(target_os = "linux")]
fn check_hid(path: &str) -> CheckResult {
    match evdev::Device::open(path) {
        Ok(d) => CheckResult::Opened {
            detail: format!("input device {:?}", d.name().unwrap_or("unnamed")),
        },
        Err(e) => crate::transport::map_io(&e, path).into(),
    }
}

#[cfg(not(target_os = "linux"))]
fn check_hid(_path: &str) -> CheckResult {
    DeviceError::Unsupported("HID devices are read through evdev on Linux only".into()).into()
}

/// Serial ports the OS knows (including USB-serial adapters and virtual ports).
pub fn list_serial_ports() -> Vec<SerialPortFound> {
    serialport::available_ports()
        .unwrap_or_default()
        .into_iter()
        .map(|p| SerialPortFound {
            path: p.port_name,
            description: match p.port_type {
                serialport::SerialPortType::UsbPort(u) => format!(
                    "usb {:04x}:{:04x} {}",
                    u.vid,
                    u.pid,
                    u.product.or(u.manufacturer).unwrap_or_default()
                )
                .trim_end()
                .to_owned(),
                serialport::SerialPortType::PciPort => "pci".into(),
                serialport::SerialPortType::BluetoothPort => "bluetooth".into(),
                serialport::SerialPortType::Unknown => "unknown".into(),
            },
        })
        .collect()
}

const SCANNER_WORDS: [&str; 11] = [
    "scan",
    "barcode",
    "bar code",
    "honeywell",
    "zebra",
    "symbol",
    "datalogic",
    "newland",
    "metrologic",
    "magstripe",
    "card reader",
];

/// Keyboard-like input devices (digits and Enter), flagged when their name suggests a scanner.
#[cfg(target_os = "linux")]
pub fn list_input_devices() -> Vec<InputDeviceFound> {
    use evdev::KeyCode;
    let mut out: Vec<InputDeviceFound> = evdev::enumerate()
        .filter_map(|(path, dev)| {
            let keys = dev.supported_keys()?;
            let keyboard_like = keys.contains(KeyCode::KEY_ENTER)
                && keys.contains(KeyCode::KEY_0)
                && keys.contains(KeyCode::KEY_9);
            if !keyboard_like {
                return None;
            }
            let name = dev.name().unwrap_or("").to_owned();
            let lower = name.to_lowercase();
            Some(InputDeviceFound {
                path: path.display().to_string(),
                looks_like_scanner: SCANNER_WORDS.iter().any(|w| lower.contains(w)),
                name,
            })
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

#[cfg(not(target_os = "linux"))]
pub fn list_input_devices() -> Vec<InputDeviceFound> {
    let _ = SCANNER_WORDS;
    Vec::new()
}
