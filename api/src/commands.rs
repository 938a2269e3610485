//! The command table: every call the UI can make, declared once. From it the macro derives
//! the `Api` trait the register implements, the JSON dispatcher the Tauri shell calls, and the
//! TypeScript client (see `bindings`), so a command name or payload is never written twice.

use crate::dto::*;
use serde::Deserialize;
use ts_rs::TS;

macro_rules! api_commands {
    ($( $(#[doc = $doc:literal])* fn $name:ident ( $($arg:ident : $aty:ty),* ) -> $ret:ty ; )*) => {
        /// The register's commands. Implemented by `Register`; called through [`dispatch`].
        #[allow(async_fn_in_trait)]
        pub trait Api {
            $( $(#[doc = $doc])* async fn $name(&self, $($arg: $aty),*) -> Result<$ret, ApiError>; )*
        }

        /// Argument structs, one per command, as the UI sends them (camelCase keys).
        #[allow(non_camel_case_types)]
        pub mod args {
            use super::*;
            $(
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase", deny_unknown_fields)]
                pub struct $name { $(pub $arg: $aty),* }
            )*
        }

        /// Runs command `cmd` with JSON `args`; the Tauri shell's only command calls this.
        pub async fn dispatch<A: Api>(api: &A, cmd: &str, args: serde_json::Value) -> Result<serde_json::Value, ApiError> {
            let args = if args.is_null() { serde_json::json!({}) } else { args };
            match cmd {
                $(
                    stringify!($name) => {
                        #[allow(unused_variables)]
                        let a: args::$name = serde_json::from_value(args).map_err(|e| {
                            ApiError::new("app.bad_request", format!("{}: {e}", stringify!($name)))
                        })?;
                        let out = api.$name($(a.$arg),*).await?;
                        serde_json::to_value(out).map_err(|e| ApiError::new("app.internal", e.to_string()))
                    }
                )*
                other => Err(ApiError::new("app.unknown_command", format!("unknown command {other}"))),
            }
        }

        /// (name, doc, [(arg, ts type)], ts return type) for each command.
        pub fn command_signatures(cfg: &ts_rs::Config) -> Vec<(&'static str, String, Vec<(&'static str, String)>, String)> {
            vec![$(
                (
                    stringify!($name),
                    [$($doc),*].join("\n"),
                    vec![$((stringify!($arg), <$aty as TS>::name(cfg))),*],
                    <$ret as TS>::name(cfg),
                ),
            )*]
        }
    };
}

api_commands! {
    /// Store, terminal and version facts for the header and formatting.
    fn app_info() -> AppInfoDto;
    /// Logs a cashier in by PIN. Five wrong PINs in a row lock the terminal's login for a while.
    fn login(pin: String) -> SessionDto;
    /// Ends the session; the sale in progress stays for the next login.
    fn logout() -> ();
    /// The logged-in user, if any.
    fn session() -> Option<SessionDto>;
    /// The sale in progress (restored after a restart).
    fn current_sale() -> SaleDto;
    /// A scanned or typed code: adds the product, or raises its quantity.
    fn scan(code: String) -> SaleDto;
    /// Adds a product picked from search results or a quick key; `quantity` is units, or grams
    /// for a product sold by weight (required for those; 1 unit when absent otherwise).
    fn add_product(variant_id: String, quantity: Option<i64>) -> SaleDto;
    /// Products whose name, SKU or barcode contains the query.
    fn search_products(query: String, limit: u32) -> Vec<ProductDto>;
    /// Sets a line's quantity (units), or weight in grams for weighed items.
    fn set_quantity(line_id: u32, quantity: i64) -> SaleDto;
    /// Removes a line from the sale.
    fn remove_line(line_id: u32) -> SaleDto;
    /// Goes to the payment step: scans are refused until payment is cancelled or done.
    fn start_payment() -> SaleDto;
    /// Back from the payment step to ringing up (only while nothing has been paid).
    fn cancel_payment() -> SaleDto;
    /// Takes a tender (amount in minor units; for cash, what the customer handed over).
    /// Completes the sale once it is fully paid.
    fn pay(kind: TenderKindDto, amount: i64) -> PayResultDto;
    /// The receipt of the last completed sale on this terminal.
    fn last_receipt() -> Option<ReceiptPreviewDto>;
    /// Device and sync status for the status bar.
    fn status() -> StatusDto;
    /// Developer panel: sends a code through the simulated scanner.
    fn simulate_scan(code: String) -> ();
    /// Developer panel: paper_out, paper_runs_out (after `value` bytes), paper_near_end,
    /// paper_replaced, cover_open, cover_closed, printer_offline, printer_online, close_drawer.
    fn simulate_device(command: String, value: Option<i64>) -> ();
    /// Settings → Devices (manager or admin): the terminal's device configuration.
    fn device_settings() -> DeviceSettingsDto;
    /// Settings → Devices (manager or admin): what discovery finds on this machine and whether
    /// each configured device answers.
    fn diagnose_devices() -> DiagnosisDto;
    /// Saves the terminal's device configuration (JSON, see pos_hardware::config; admin only).
    /// It applies at the next start.
    fn save_device_settings(config_json: String) -> DeviceSettingsDto;
    /// Tests one device (manager or admin): "printer" prints a test page, "drawer" opens,
    /// "display" shows a test line, "payment_terminal" checks the terminal answers.
    fn test_device(device: String) -> ();
}

/// Events the register pushes to the UI: (name, payload type).
pub fn event_signatures(cfg: &ts_rs::Config) -> Vec<(&'static str, String)> {
    vec![
        (crate::events::SALE_CHANGED, <SaleDto as TS>::name(cfg)),
        (crate::events::SCAN_REJECTED, <ApiError as TS>::name(cfg)),
        (crate::events::STATUS_CHANGED, <StatusDto as TS>::name(cfg)),
    ]
}
