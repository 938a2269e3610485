//! Wire types between the register and the UI. They are *not* the domain types: the domain can
//! change shape without breaking the screen, and every field here is something a screen shows.
//! TypeScript declarations are generated from these (see `bindings`), so the UI never
//! hand-writes a payload type.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ts_rs::TS;

/// An amount in minor units with its ISO currency code ("EUR", "JPY", "USD").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MoneyDto {
    pub minor: i64,
    pub currency: String,
}

impl From<pos_core::Money> for MoneyDto {
    fn from(m: pos_core::Money) -> Self {
        MoneyDto {
            minor: m.minor,
            currency: m.currency.code().to_owned(),
        }
    }
}

/// An error as the cashier will see it: `code` picks the message in the UI's language,
/// `params` fill it in, `message` is the English fallback for logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("{code}: {message}")]
pub struct ApiError {
    pub code: String,
    pub message: String,
    pub params: BTreeMap<String, String>,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ApiError {
            code: code.to_owned(),
            message: message.into(),
            params: BTreeMap::new(),
        }
    }
    pub fn with(mut self, key: &str, value: impl ToString) -> Self {
        self.params.insert(key.to_owned(), value.to_string());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PriceModeDto {
    TaxInclusive,
    TaxExclusive,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StoreDto {
    pub name: String,
    pub address: Vec<String>,
    pub tax_id: String,
    /// ISO 3166 alpha-2: "ES", "JP", "US".
    pub country: String,
    pub currency: String,
    /// The store's language: receipts are printed in it.
    pub locale: String,
    pub price_mode: PriceModeDto,
    /// Cash is rounded to this many minor units (1 = no rounding).
    pub cash_increment: i64,
    /// Banknote values for quick-cash keys, in minor units, smallest first.
    pub quick_cash: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfoDto {
    pub store: StoreDto,
    pub terminal_id: String,
    pub version: String,
    /// The UI languages available: "en", "es", "ja".
    pub locales: Vec<String>,
    /// True when one or more devices are simulators (shows the developer panel).
    pub simulated_devices: bool,
    /// The tenders this terminal can take now.
    pub tenders: Vec<TenderKindDto>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RoleDto {
    Cashier,
    Manager,
    Admin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UserDto {
    pub id: String,
    pub name: String,
    /// Role code: "cashier", "manager", "admin" or a custom role's (staff.rs).
    pub role: String,
    /// The role's stored name (the UI names the built-in roles in the user's language).
    pub role_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SessionDto {
    pub user: UserDto,
    /// Permission codes the user holds ("line_discount", "void_sale", …).
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LineDto {
    pub id: u32,
    pub variant_id: String,
    pub sku: String,
    /// Product name by language tag.
    pub names: BTreeMap<String, String>,
    /// Units, or grams when `by_weight`.
    pub quantity: i64,
    pub by_weight: bool,
    /// Per unit, or per kilogram when `by_weight`.
    pub unit_price: MoneyDto,
    pub extended: MoneyDto,
    /// Line discount plus this line's share of the order discount.
    pub discount: MoneyDto,
    pub amount: MoneyDto,
    pub tax_code: String,
    /// "21%", "8%".
    pub tax_label: String,
    /// Reduced rate: marked ※ in Japan.
    pub reduced: bool,
    pub price_overridden: bool,
    pub note: Option<String>,
    /// The line's own discount (its share of an order discount is only in `discount`).
    pub line_discount: Option<AdjustmentDto>,
    /// The price before it was overridden at the till.
    pub original_price: Option<MoneyDto>,
    /// A gift card sold or topped up: its masked number (no tax, no discount, quantity 1).
    pub gift_card: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TaxRowDto {
    pub code: String,
    pub label: String,
    pub reduced: bool,
    pub net: MoneyDto,
    pub tax: MoneyDto,
    pub gross: MoneyDto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TenderKindDto {
    Cash,
    Card,
    GiftCard,
    StoreCredit,
    Account,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TenderDto {
    pub kind: TenderKindDto,
    pub amount: MoneyDto,
    pub reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDto {
    pub tenders: Vec<TenderDto>,
    pub paid: MoneyDto,
    /// Still due, exact.
    pub remaining: MoneyDto,
    /// Still due if paid in cash (after cash rounding).
    pub remaining_cash: MoneyDto,
    pub change: MoneyDto,
    pub complete: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SaleStageDto {
    /// Ringing up.
    Open,
    /// At the payment screen: scans are refused.
    Paying,
}

/// The sale in progress, whole: the screen renders from this alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SaleDto {
    /// Grows with every change of the sale on this terminal: the UI keeps the newest of a
    /// command's answer and a `sale_changed` event.
    pub revision: u64,
    pub stage: SaleStageDto,
    pub lines: Vec<LineDto>,
    /// The line that changed last (the UI selects it).
    pub last_line_id: Option<u32>,
    /// Count of units (weighed lines count 1).
    pub item_count: i64,
    pub items: MoneyDto,
    pub discounts: MoneyDto,
    pub subtotal: MoneyDto,
    pub taxes: Vec<TaxRowDto>,
    pub tax_total: MoneyDto,
    pub total: MoneyDto,
    pub price_mode: PriceModeDto,
    pub payment: PaymentDto,
    /// The discount on the whole sale, if any.
    pub order_discount: Option<AdjustmentDto>,
    /// The customer the sale is for (the receipt shows them).
    pub customer: Option<SaleCustomerDto>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptPreviewDto {
    pub receipt_number: String,
    /// The printed text, line by line, decoded back from the printer bytes.
    pub lines: Vec<String>,
    pub width_chars: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CompletedSaleDto {
    pub sale_id: String,
    pub receipt_number: String,
    pub total: MoneyDto,
    pub paid: MoneyDto,
    pub change: MoneyDto,
    pub tenders: Vec<TenderDto>,
    pub receipt: ReceiptPreviewDto,
    /// The receipt went to the printer when the sale completed (false when the terminal asks:
    /// then the cashier picks Print, E-mail or both).
    pub printed: bool,
}

/// The answer to a tender: the sale so far and, once it is fully paid, the completed sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PayResultDto {
    pub sale: SaleDto,
    pub completed: Option<CompletedSaleDto>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProductDto {
    pub variant_id: String,
    pub sku: String,
    pub names: BTreeMap<String, String>,
    pub barcode: Option<String>,
    pub price: MoneyDto,
    pub tax_label: String,
    pub reduced: bool,
    pub by_weight: bool,
    pub stock: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStateDto {
    Ready,
    Busy,
    Warning,
    Error,
    Offline,
    NotConfigured,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceStatusDto {
    /// "printer", "drawer", "scanner", "card_reader", "payment_terminal", "display".
    pub device: String,
    pub state: DeviceStateDto,
    /// A status code the UI translates ("paper_out", "cover_open", "drawer_open", …).
    pub detail: Option<String>,
    pub simulated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatusDto {
    /// False when no web shop is set up for this terminal (selling locally only).
    pub configured: bool,
    pub online: bool,
    /// Sales and other records waiting to reach the web shop.
    pub queued: i64,
    /// RFC 3339, UTC.
    pub last_success: Option<String>,
    pub conflicts: i64,
}

/// Everything the status bar shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StatusDto {
    pub devices: Vec<DeviceStatusDto>,
    pub sync: SyncStatusDto,
}

/// One device in Settings → Devices: how it is connected, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceSummaryDto {
    /// "printer", "drawer", "scanner", "card_reader", "display".
    pub device: String,
    /// "simulated", "none", "serial /dev/ttyUSB0 @ 9600", "usb 04b8:0202", …
    pub connection: String,
}

/// The terminal's device configuration as the settings screen edits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceSettingsDto {
    /// The saved configuration (or the one in use when nothing is saved), as pretty JSON.
    pub config_json: String,
    pub devices: Vec<DeviceSummaryDto>,
    /// True when the saved configuration differs from the devices in use: it applies at the
    /// next start of the app.
    pub restart_needed: bool,
}

/// Something discovery found on this machine (a serial port, a USB printer, an input device).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FoundDeviceDto {
    pub path: String,
    pub description: String,
    /// For input devices: has digit keys and Enter and a scanner-like name.
    pub looks_like_scanner: bool,
    /// For USB printers: the ids the device settings use to find it again.
    pub vid: Option<u16>,
    pub pid: Option<u16>,
}

/// Whether one configured device answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceCheckDto {
    pub device: String,
    pub connection: String,
    /// "answered", "opened", "simulated", "not_configured", "failed".
    pub result: String,
    /// The device answered, its port opened, or it is a simulator.
    pub answers: bool,
    pub detail: Option<String>,
}

/// The result of "diagnose devices".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosisDto {
    pub serial_ports: Vec<FoundDeviceDto>,
    pub usb_printers: Vec<FoundDeviceDto>,
    /// Why USB devices could not be listed (e.g. no access to libusb), if so.
    pub usb_error: Option<String>,
    pub input_devices: Vec<FoundDeviceDto>,
    pub configured: Vec<DeviceCheckDto>,
}

// --- checkout: discounts, approvals, park and resume ---

/// A discount as the cashier keys it: a percentage in basis points (1000 = 10 %) or an amount
/// in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DiscountDto {
    Percent { bps: u32 },
    Amount { minor: i64 },
}

/// Why: a code from the short list ("damaged", "price_match", "customer_care", "staff",
/// "promotion", "other") and an optional note ("other" needs one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReasonDto {
    pub code: String,
    pub note: Option<String>,
}

/// A discount granted on a line or on the whole sale, as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AdjustmentDto {
    /// Set for a percentage discount (basis points).
    pub percent_bps: Option<u32>,
    /// What the discount takes off.
    pub amount: MoneyDto,
    /// The reason code.
    pub reason: Option<String>,
    /// The manager who approved it, when the cashier could not grant it alone.
    pub approved_by: Option<String>,
}

/// A parked sale in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ParkedSaleDto {
    pub id: String,
    /// RFC 3339, UTC.
    pub parked_at: String,
    pub cashier: String,
    pub line_count: u32,
    pub total: MoneyDto,
}

// --- shop: web shop settings, sync details, pickups, stock conflicts (defined in shop.rs) ---
pub use crate::register::shop::{
    GiftCardWaitingDto, PickupDto, PickupLineDto, ShopImportDto, ShopSettingsDto, ShopTestDto,
    StockConflictDto, SyncDetailsDto,
};

// --- tenders: gift card, store credit, account (defined in tenders.rs) ---
pub use crate::register::email::EmailReceiptDto;
pub use crate::register::tenders::{CustomerDto, GiftCardDto};

// --- cash: register sessions, cash in/out, no sale, X and Z reports (defined in cash.rs) ---
pub use crate::register::cash::{
    CashDirectionDto, CashMovementDto, CashReportDto, CashSessionDto, CashStatusDto,
    CashierTotalDto, DenominationCountDto, DenominationDto, TenderTotalDto,
};

// --- devices: test actions of Settings → Devices (defined in register/devices.rs) ---
pub use crate::register::devices::{ScanTestDto, SwipeTestDto, TestPaymentDto};

// --- staff: users, roles, clock in/out and hours, the audit viewer (defined in staff.rs) ---
pub use crate::register::staff::{
    AuditPageDto, AuditRowDto, AuditUserDto, AuditVerifyDto, BrokenAnchorDto, ClockDto,
    HoursReportDto, HoursRowDto, HoursTotalDto, ShiftDto, StaffDto, StaffRoleDto, StaffUserDto,
};

// --- stored value: gift cards sold, customers and their accounts (defined in stored_value.rs) ---
pub use crate::register::stored_value::{
    AccountPaymentDto, AccountTenderDto, GiftCardBalanceDto, GiftCardEntryDto, SaleCustomerDto,
    StatementDto, StatementEntryDto, StoredValueInfoDto,
};

// --- returns: returns, refunds and exchanges (defined in returns.rs) ---
pub use crate::register::returns::{
    RefundDto, RefundToDto, ReturnDoneDto, ReturnLineDto, ReturnPreviewDto, ReturnRequestDto,
    ReturnSaleDto, ReturnSearchDto, ReturnTenderDto, ReturnableLineDto, ReturnedLineDto,
    SaleFoundDto, UnreceiptedLineDto,
};

// --- shop gift cards: offline policy, flagged redemptions (defined in gift_card_shop.rs) ---
pub use crate::register::gift_card_shop::{FlaggedGiftCardDto, GiftCardOfflinePolicyDto};
