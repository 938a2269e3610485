//! USB transport for printer-class (7) devices via rusb: find the interface, detach the kernel
//! driver (usblp), claim it, write to bulk OUT and read status from bulk IN.
//!
//! Invariants: every transfer has a timeout; all libusb calls run in `spawn_blocking`; a device
//! that vanished (`NoDevice`) is dropped and found again by vendor/product id on the next call.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusb::{Direction, TransferType, UsbContext};
use serde::{Deserialize, Serialize};

use super::Transport;
use crate::device::DeviceError;

/// USB interface class of printers.
pub const PRINTER_CLASS: u8 = 7;

/// A printer-class interface found on the bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsbPrinterInfo {
    pub vid: u16,
    pub pid: u16,
    pub bus: u8,
    pub address: u8,
    pub interface: u8,
    pub bulk_out: u8,
    pub bulk_in: Option<u8>,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
}

fn map_usb(e: rusb::Error, timeout: Duration, what: &str) -> DeviceError {
    match e {
        rusb::Error::Timeout => DeviceError::Timeout(timeout),
        rusb::Error::NoDevice | rusb::Error::Pipe | rusb::Error::Io => {
            DeviceError::Disconnected(format!("{what}: {e}"))
        }
        rusb::Error::NotFound => DeviceError::NotFound(format!("{what}: {e}")),
        rusb::Error::Busy => DeviceError::Busy,
        rusb::Error::Access => DeviceError::Io(format!(
            "{what}: permission denied (install a udev rule giving the POS user access)"
        )),
        rusb::Error::NotSupported => DeviceError::Unsupported(format!("{what}: {e}")),
        other => DeviceError::Io(format!("{what}: {other}")),
    }
}

fn scan(
    ctx: &rusb::Context,
) -> Result<Vec<(rusb::Device<rusb::Context>, UsbPrinterInfo)>, DeviceError> {
    let timeout = Duration::from_millis(200);
    let devices = ctx
        .devices()
        .map_err(|e| map_usb(e, timeout, "usb enumerate"))?;
    let mut found = Vec::new();
    for dev in devices.iter() {
        let Ok(dd) = dev.device_descriptor() else {
            continue;
        };
        let Ok(cfg) = dev.active_config_descriptor() else {
            continue;
        };
        for iface in cfg.interfaces() {
            for alt in iface.descriptors() {
                if alt.class_code() != PRINTER_CLASS {
                    continue;
                }
                let (mut out_ep, mut in_ep) = (None, None);
                for ep in alt.endpoint_descriptors() {
                    if ep.transfer_type() == TransferType::Bulk {
                        match ep.direction() {
                            Direction::Out => out_ep = out_ep.or(Some(ep.address())),
                            Direction::In => in_ep = in_ep.or(Some(ep.address())),
                        }
                    }
                }
                let Some(bulk_out) = out_ep else { continue };
                let (manufacturer, product) = match dev.open() {
                    Ok(h) => (
                        h.read_manufacturer_string_ascii(&dd).ok(),
                        h.read_product_string_ascii(&dd).ok(),
                    ),
                    Err(_) => (None, None),
                };
                found.push((
                    dev.clone(),
                    UsbPrinterInfo {
                        vid: dd.vendor_id(),
                        pid: dd.product_id(),
                        bus: dev.bus_number(),
                        address: dev.address(),
                        interface: alt.interface_number(),
                        bulk_out,
                        bulk_in: in_ep,
                        manufacturer,
                        product,
                    },
                ));
            }
        }
    }
    Ok(found)
}

/// Lists every USB printer-class interface with a bulk OUT endpoint (blocking; quick).
pub fn list_usb_printers() -> Result<Vec<UsbPrinterInfo>, DeviceError> {
    let ctx = rusb::Context::new().map_err(|e| map_usb(e, Duration::ZERO, "libusb"))?;
    Ok(scan(&ctx)?.into_iter().map(|(_, info)| info).collect())
}

struct UsbLink {
    handle: rusb::DeviceHandle<rusb::Context>,
    info: UsbPrinterInfo,
}

impl Drop for UsbLink {
    fn drop(&mut self) {
        let _ = self.handle.release_interface(self.info.interface);
    }
}

fn open_link(vid: u16, pid: u16) -> Result<UsbLink, DeviceError> {
    let what = format!("usb {vid:04x}:{pid:04x}");
    let ctx = rusb::Context::new().map_err(|e| map_usb(e, Duration::ZERO, &what))?;
    let (dev, info) = scan(&ctx)?
        .into_iter()
        .find(|(_, i)| i.vid == vid && i.pid == pid)
        .ok_or_else(|| DeviceError::Disconnected(format!("{what}: no such printer on the bus")))?;
    let handle = dev.open().map_err(|e| map_usb(e, Duration::ZERO, &what))?;
    if handle.kernel_driver_active(info.interface).unwrap_or(false) {
        handle
            .detach_kernel_driver(info.interface)
            .map_err(|e| map_usb(e, Duration::ZERO, &what))?;
    }
    handle
        .claim_interface(info.interface)
        .map_err(|e| map_usb(e, Duration::ZERO, &what))?;
    Ok(UsbLink { handle, info })
}

/// A USB printer found by vendor and product id.
pub struct UsbTransport {
    vid: u16,
    pid: u16,
    link: Option<Arc<UsbLink>>,
}

impl UsbTransport {
    /// Does not open yet; the first operation finds and claims the device.
    pub fn new(vid: u16, pid: u16) -> Self {
        Self {
            vid,
            pid,
            link: None,
        }
    }

    async fn link(&mut self) -> Result<Arc<UsbLink>, DeviceError> {
        if let Some(l) = &self.link {
            return Ok(l.clone());
        }
        let (vid, pid) = (self.vid, self.pid);
        let link = tokio::task::spawn_blocking(move || open_link(vid, pid))
            .await
            .map_err(|e| DeviceError::Io(format!("usb task: {e}")))??;
        let link = Arc::new(link);
        self.link = Some(link.clone());
        Ok(link)
    }

    fn keep<T>(&mut self, r: Result<T, DeviceError>) -> Result<T, DeviceError> {
        if let Err(DeviceError::Disconnected(_) | DeviceError::Io(_)) = &r {
            self.link = None;
        }
        r
    }
}

#[async_trait]
impl Transport for UsbTransport {
    async fn write_all(&mut self, bytes: &[u8], timeout: Duration) -> Result<(), DeviceError> {
        let link = match self.link().await {
            Ok(l) => l,
            Err(e) => return Err(e),
        };
        let data = bytes.to_vec();
        let what = self.describe();
        let r = tokio::task::spawn_blocking(move || {
            let mut sent = 0;
            while sent < data.len() {
                sent += link
                    .handle
                    .write_bulk(link.info.bulk_out, &data[sent..], timeout)
                    .map_err(|e| map_usb(e, timeout, &what))?;
            }
            Ok(())
        })
        .await
        .map_err(|e| DeviceError::Io(format!("usb task: {e}")))?;
        self.keep(r)
    }

    async fn read_some(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, DeviceError> {
        let link = self.link().await?;
        let Some(ep) = link.info.bulk_in else {
            return Err(DeviceError::Unsupported(
                "this USB printer has no bulk IN endpoint: no status".into(),
            ));
        };
        let len = buf.len();
        let what = self.describe();
        let r = tokio::task::spawn_blocking(move || {
            let mut tmp = vec![0u8; len];
            // A zero-length packet is not an answer: keep reading until the deadline.
            let deadline = std::time::Instant::now() + timeout;
            loop {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    return Err(DeviceError::Timeout(timeout));
                }
                let n = link
                    .handle
                    .read_bulk(ep, &mut tmp, left)
                    .map_err(|e| map_usb(e, timeout, &what))?;
                if n > 0 {
                    tmp.truncate(n);
                    return Ok(tmp);
                }
            }
        })
        .await
        .map_err(|e| DeviceError::Io(format!("usb task: {e}")))?;
        let data = self.keep(r)?;
        buf[..data.len()].copy_from_slice(&data);
        Ok(data.len())
    }

    async fn discard_input(&mut self) -> Result<(), DeviceError> {
        // Bulk IN has no buffer on our side: anything stale is read (and dropped) with a
        // very short timeout.
        let mut buf = [0u8; 64];
        loop {
            match self.read_some(&mut buf, Duration::from_millis(5)).await {
                Ok(_) => continue,
                Err(DeviceError::Timeout(_) | DeviceError::Unsupported(_)) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    fn describe(&self) -> String {
        format!("usb {:04x}:{:04x}", self.vid, self.pid)
    }
}
