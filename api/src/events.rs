//! Events the register pushes to the UI. The shell forwards them (Tauri `emit`); tests record them.

use crate::dto::{ApiError, SaleDto, ShopImportDto, StatusDto};

pub const SALE_CHANGED: &str = "sale_changed";
pub const SCAN_REJECTED: &str = "scan_rejected";
pub const STATUS_CHANGED: &str = "status_changed";
pub const SHOP_IMPORT: &str = "shop_import";
/// tenders: a gift card swiped on the card reader (its number; bank cards never get here).
pub const CARD_SWIPED: &str = "card_swiped";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The sale changed without the UI asking (a scan from a device, a restore).
    SaleChanged(Box<SaleDto>),
    /// A device scan could not be added (unknown code, bad check digit, payment in progress).
    ScanRejected(ApiError),
    StatusChanged(StatusDto),
    /// Progress of the web shop's catalog import (Settings → Web shop).
    ShopImport(ShopImportDto),
    /// A gift card's number from the card reader (tenders.rs).
    CardSwiped(String),
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::SaleChanged(_) => SALE_CHANGED,
            Event::ScanRejected(_) => SCAN_REJECTED,
            Event::StatusChanged(_) => STATUS_CHANGED,
            Event::ShopImport(_) => SHOP_IMPORT,
            Event::CardSwiped(_) => CARD_SWIPED,
        }
    }
    pub fn payload(&self) -> serde_json::Value {
        let v = match self {
            Event::SaleChanged(s) => serde_json::to_value(s.as_ref()),
            Event::ScanRejected(e) => serde_json::to_value(e),
            Event::StatusChanged(s) => serde_json::to_value(s),
            Event::ShopImport(s) => serde_json::to_value(s),
            Event::CardSwiped(n) => serde_json::to_value(n),
        };
        v.unwrap_or(serde_json::Value::Null)
    }
}

/// Where events go: the Tauri window in the app, a vector in tests.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: Event);
}

/// Drops every event (headless tools).
pub struct NoEvents;
impl EventSink for NoEvents {
    fn emit(&self, _: Event) {}
}
