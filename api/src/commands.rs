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
    // --- checkout: discounts, approvals, voids, park and resume, reprint ---
    /// Sets (or, with no discount, takes off) a line's discount, with a reason. Without the
    /// line_discount permission it needs `approver_pin`: the PIN of a manager or admin (else
    /// `auth.approval_required`). Recorded in the audit trail.
    fn set_line_discount(line_id: u32, discount: Option<DiscountDto>, reason: Option<ReasonDto>, approver_pin: Option<String>) -> SaleDto;
    /// Sets (or takes off) the discount on the whole sale; like `set_line_discount`.
    fn set_order_discount(discount: Option<DiscountDto>, reason: Option<ReasonDto>, approver_pin: Option<String>) -> SaleDto;
    /// Overrides a line's unit price (per kg for weighed lines), with a reason; needs the
    /// price_override permission or an approver's PIN. Recorded in the audit trail.
    fn override_price(line_id: u32, unit_price: i64, reason: Option<ReasonDto>, approver_pin: Option<String>) -> SaleDto;
    /// Voids the whole sale before payment (void_sale permission or an approver's PIN). No
    /// receipt number is used; the void is recorded in the audit trail.
    fn void_sale(reason: Option<ReasonDto>, approver_pin: Option<String>) -> SaleDto;
    /// Parks the sale in progress (kept in the database) and starts an empty one.
    fn park_sale() -> SaleDto;
    /// This terminal's parked sales, oldest first (also those of earlier days).
    fn parked_sales() -> Vec<ParkedSaleDto>;
    /// Resumes a parked sale as the sale in progress; a non-empty sale in progress is parked first.
    fn resume_sale(parked_id: String) -> SaleDto;
    /// Prints the last receipt again, marked as a copy, and returns what was printed.
    fn reprint_last_receipt() -> ReceiptPreviewDto;
    // --- shop: web shop settings, sync details, pickups, stock conflicts ---
    /// Settings → Web shop (manager or admin; only an admin may edit): the shop address and the
    /// terminal identifier in use. The password is never returned.
    fn shop_settings() -> ShopSettingsDto;
    /// Settings → Web shop (admin): logs in to the shop with these settings (`password` null:
    /// the saved one) and asks who this terminal is. Nothing is saved.
    fn test_shop_connection(url: String, identifier: String, password: Option<String>) -> ShopTestDto;
    /// Settings → Web shop (admin): saves the settings (the password encrypted; null keeps the
    /// saved one) and (re)starts the sync at once. Plain http is refused except to localhost.
    fn save_shop_settings(url: String, identifier: String, password: Option<String>) -> ShopSettingsDto;
    /// Settings → Web shop (admin): imports the whole catalog again in the background (selling
    /// goes on); progress arrives as `shop_import` events.
    fn import_shop_catalog() -> ShopImportDto;
    /// The sync details panel: online, queue, last success, last error, conflicts, pickups.
    fn sync_details() -> SyncDetailsDto;
    /// Click-and-collect orders waiting at this store (kept from the shop's change feed).
    fn pickups() -> Vec<PickupDto>;
    /// Hands a pickup over: queued for the shop (works offline, reaches the shop once).
    fn hand_over_pickup(order_code: String) -> Vec<PickupDto>;
    /// Stock conflicts (manager or admin): sales of goods the shop thought out of stock.
    fn stock_conflicts(include_reviewed: bool) -> Vec<StockConflictDto>;
    /// Marks a conflict reviewed (manager or admin); it stays in the list of reviewed ones.
    fn review_stock_conflict(id: i64) -> Vec<StockConflictDto>;
    // --- tenders: gift card, store credit, account, card cancel ---
    /// A gift card's balance by its number (typed, scanned or swiped track data).
    fn gift_card_balance(number: String) -> GiftCardDto;
    /// Customers whose name, e-mail, phone or id contains the query (for store credit and
    /// account tenders).
    fn find_customers(query: String, limit: u32) -> Vec<CustomerDto>;
    /// Pays `amount` from a gift card (partial redemption allowed; never more than its balance
    /// or than is still due). Completes the sale once it is fully paid.
    fn pay_gift_card(number: String, amount: i64) -> PayResultDto;
    /// Pays `amount` from the customer's store credit (never more than the balance or the due).
    fn pay_store_credit(customer_id: String, amount: i64) -> PayResultDto;
    /// Charges `amount` to the customer's account (invoice later), within the credit limit.
    fn pay_on_account(customer_id: String, amount: i64) -> PayResultDto;
    /// Asks the terminal to abort the card payment in progress; the pending `pay` then fails
    /// with `pay.card_cancelled`, or succeeds if the card was already approved (never charged
    /// twice). Returns whether an abort was sent.
    fn cancel_card_payment() -> bool;
    /// E-mails a completed sale's receipt (HTML in the store's language + a PDF). Validates the
    /// address, queues the message and returns at once; it is sent in the background (later,
    /// when offline). The same address for the same sale is queued once.
    fn email_receipt(sale_id: String, address: String) -> EmailReceiptDto;
    /// The e-mails queued for a sale and whether each was sent.
    fn email_receipts(sale_id: String) -> Vec<EmailReceiptDto>;
    /// Prints a completed sale's receipt (once per sale, through the print queue).
    fn print_receipt(sale_id: String) -> ();
    // --- cash: register sessions, cash in/out, no sale, X and Z reports ---
    /// The cash screen: the currency's coins and notes, the open register session (never the
    /// expected cash), the store's float policy, the last Z number and the reasons offered.
    fn cash_status() -> CashStatusDto;
    /// Opens the register with the float counted by denomination (open_register permission).
    fn open_register(counts: Vec<DenominationCountDto>) -> CashStatusDto;
    /// Cash put into or taken out of the drawer (minor units > 0) with a reason; needs
    /// cash_in_out or `approver_pin` of a user who has it. Opens the drawer.
    fn cash_movement(direction: CashDirectionDto, amount: i64, reason: Option<ReasonDto>, approver_pin: Option<String>) -> CashStatusDto;
    /// Opens the drawer without a sale, with a reason (no_sale permission or an approver's PIN).
    fn no_sale(reason: Option<ReasonDto>, approver_pin: Option<String>) -> CashStatusDto;
    /// The X report of the open session (end_of_day): the register stays open, no number.
    fn x_report(print: bool) -> CashReportDto;
    /// The end of day (end_of_day): the blind count by denomination closes the register and
    /// makes the numbered Z report (printed, queued for the web shop) with over/short.
    fn close_register(counts: Vec<DenominationCountDto>) -> CashReportDto;
    /// A past Z report of this terminal as it was made (end_of_day), printed again if asked.
    fn z_report(number: u64, print: bool) -> CashReportDto;
    /// Store setting (manage_settings): sales wait until the register is opened with a float.
    fn set_require_opening_float(on: bool) -> CashStatusDto;
    /// Store setting (manage_settings): beyond this difference (minor units) a first blind
    /// count that does not match asks for a second one (`cash.recount`); None turns it off.
    fn set_recount_tolerance(minor: Option<i64>) -> CashStatusDto;
    // --- devices: test actions of Settings → Devices ---
    /// "Scan something now" (manager or admin): the next scan of the configured scanner within
    /// `timeout_ms`, with its check-digit verdict; it is not added to the sale.
    fn device_scan_test(timeout_ms: u32) -> ScanTestDto;
    /// "Swipe a card" (manager or admin): the next swipe within `timeout_ms`: a gift or loyalty
    /// card's masked number, or that a bank card was refused (nothing kept).
    fn device_swipe_test(timeout_ms: u32) -> SwipeTestDto;
    /// A small test payment (manager or admin): authorizes 0.10 (¥10) on the payment terminal
    /// and reverses it.
    fn device_test_payment() -> TestPaymentDto;
    // --- staff: users, roles and the permission matrix, clock in/out and hours, audit viewer ---
    /// Settings → Staff (manage_users): users, roles with their permissions, permission codes.
    fn staff_overview() -> StaffDto;
    /// Creates a user (manage_users) with a role code and a PIN typed twice (4–8 digits, not
    /// another active user's: the PIN alone identifies a user). Audited.
    fn create_user(name: String, role: String, pin: String, pin_again: String) -> StaffDto;
    /// Changes a user's name and role (manage_users). Audited with before and after.
    fn update_user(user_id: String, name: String, role: String) -> StaffDto;
    /// Gives a user a new PIN typed twice (manage_users). Audited (the PIN never is).
    fn reset_user_pin(user_id: String, pin: String, pin_again: String) -> StaffDto;
    /// Deactivates a user (manage_users): they cannot log in and their PIN is freed. Users are
    /// never deleted. Audited.
    fn deactivate_user(user_id: String) -> StaffDto;
    /// Reactivates a user with a new PIN typed twice (manage_users). Audited.
    fn reactivate_user(user_id: String, pin: String, pin_again: String) -> StaffDto;
    /// Creates a custom role with no permissions (manage_users). Audited.
    fn create_role(name: String) -> StaffDto;
    /// Renames a custom role (manage_users). Audited.
    fn rename_role(code: String, name: String) -> StaffDto;
    /// Deletes a custom role no user has (manage_users). Audited.
    fn delete_role(code: String) -> StaffDto;
    /// Sets exactly the permissions (codes) of a role (manage_users). The admin role keeps
    /// manage_users and manage_settings. Audited with before and after.
    fn set_role_permissions(code: String, permissions: Vec<String>) -> StaffDto;
    /// Clock in, or out when clocked in: `pin` names the user (login screen), else the
    /// logged-in user. One open shift per user.
    fn clock_in_out(pin: Option<String>) -> ClockDto;
    /// Whether the logged-in user is clocked in.
    fn clock_status() -> ClockDto;
    /// Hours per user per day between two store-local dates "YYYY-MM-DD" (manage_shifts);
    /// printed on the receipt printer when `print`.
    fn hours_report(from: String, to: String, print: bool) -> HoursReportDto;
    /// Corrects a shift's times ("YYYY-MM-DDTHH:MM", store-local) with a reason
    /// (manage_shifts). The original stays; audited with before and after.
    fn correct_shift(shift_id: String, started_at: String, ended_at: String, reason: String) -> ShiftDto;
    /// The audit viewer (view_audit): rows newest first, filtered by store-local dates, user
    /// (did or approved) and action.
    fn audit_trail(from: Option<String>, to: Option<String>, user_id: Option<String>, action: Option<String>) -> AuditPageDto;
    /// Verifies the audit trail's hash chain and every Z report's anchor (view_audit).
    fn verify_audit() -> AuditVerifyDto;
    // --- stored value: gift cards sold at the register, customers and their accounts ---
    /// The gift-card screen's quick amounts and the largest amount per card.
    fn stored_value_info() -> StoredValueInfoDto;
    /// Adds a new gift card to the sale (no tax, no stock, not discountable): `number` of a
    /// physical card (scan, swipe, typing) or None to generate one (printed as a barcode). The
    /// card gets its money only when the sale completes.
    fn sell_gift_card(number: Option<String>, amount: i64) -> SaleDto;
    /// Adds a top-up of an existing active card to the sale; loaded when the sale completes.
    fn top_up_gift_card(number: String, amount: i64) -> SaleDto;
    /// A gift card's balance and its last movements (scan, swipe or typed number).
    fn check_gift_card(number: String) -> GiftCardBalanceDto;
    /// One customer by id.
    fn customer(customer_id: String) -> CustomerDto;
    /// Creates a customer (name required; e-mail and phone optional). Audited.
    fn create_customer(name: String, email: Option<String>, phone: Option<String>) -> CustomerDto;
    /// Changes a customer's name, e-mail and phone. Audited.
    fn update_customer(customer_id: String, name: String, email: Option<String>, phone: Option<String>) -> CustomerDto;
    /// Gives a customer an account with this credit limit (minor units), changes it, or closes
    /// it (None): customer_credit or `approver_pin` of a user who has it. Never below what is
    /// owed. Audited with the old and new limit.
    fn set_customer_limit(customer_id: String, limit: Option<i64>, approver_pin: Option<String>) -> CustomerDto;
    /// A customer's statement (account, or store credit): every entry with date, receipt,
    /// amount and running balance; printed on the receipt printer when `print`.
    fn customer_statement(customer_id: String, store_credit: bool, print: bool) -> StatementDto;
    /// The customer pays their account at the register, in cash (into the drawer of the open
    /// register session; `tendered` is the cash handed over) or by card; a numbered receipt
    /// prints. Never more than is owed.
    fn pay_account(customer_id: String, amount: i64, tender: AccountTenderDto, tendered: Option<i64>) -> AccountPaymentDto;
    /// Attaches a customer to the sale in progress (None detaches); the receipt shows them.
    fn attach_customer(customer_id: Option<String>) -> SaleDto;
    // --- returns: returns, refunds and exchanges ---
    /// The sale of a receipt's code (its QR code, scanned or typed: "T01-000123"), with what
    /// each line can still be returned. `returns.bad_code` for a garbled code,
    /// `returns.unknown_sale`, `returns.is_a_return` for a return's own receipt.
    fn returns_find_receipt(code: String) -> ReturnSaleDto;
    /// Sales matching every given criterion (day, total, card's last four digits, customer,
    /// receipt number), newest first.
    fn returns_search(query: ReturnSearchDto) -> Vec<SaleFoundDto>;
    /// A sale from the search, with what each line can still be returned.
    fn returns_open_sale(sale_id: String) -> ReturnSaleDto;
    /// What a return would refund (lines, taxes per rate, refunds), without making it.
    fn returns_preview(request: ReturnRequestDto) -> ReturnPreviewDto;
    /// Makes the return: refunds (card through the terminal, ledgers, cash from the drawer),
    /// the numbered document (printed), stock and the shop's adjustments. Without a receipt,
    /// or all in cash for a sale not paid in cash: refund permission or `approver_pin`.
    fn returns_commit(request: ReturnRequestDto, approver_pin: Option<String>) -> ReturnDoneDto;
    /// Finishes the terminal's interrupted return (after `returns.unfinished`).
    fn returns_resume() -> ReturnDoneDto;
    /// An exchange: the return's value pays for the sale in progress (a store-credit tender,
    /// saved with the return in one transaction); what the new items cost more is paid on the
    /// payment screen, what they cost less is refunded like `returns_commit`.
    fn returns_exchange(request: ReturnRequestDto, approver_pin: Option<String>) -> ReturnDoneDto;
    /// The returns screen opened or closed: while it is open, a scanner device's scans are not
    /// added to the sale; they come as `scan_rejected` with the code `returns.scanned`.
    fn returns_screen(open: bool) -> ();
    // --- shop gift cards: the web shop's gift-card ledger, offline policy, flagged redemptions ---
    /// What the register does with gift cards while the web shop cannot be reached.
    fn gift_card_offline_policy() -> GiftCardOfflinePolicyDto;
    /// Refuse gift cards offline, or allow up to `limit` (minor units) per card (ManageSettings;
    /// audited). `gift_card.offline_limit_required` when allowed without a limit.
    fn set_gift_card_offline_policy(allow_offline: bool, limit: i64) -> GiftCardOfflinePolicyDto;
    /// Redemptions taken offline that the shop refused when it was back (EndOfDay), newest
    /// first; never dropped.
    fn flagged_gift_cards(include_reviewed: bool) -> Vec<FlaggedGiftCardDto>;
    /// Marks a flagged redemption as looked at by the manager (EndOfDay). Kept in the list
    /// with `include_reviewed`.
    fn review_flagged_gift_card(id: i64) -> Vec<FlaggedGiftCardDto>;
    // --- gift cards waiting to be loaded ---
    /// Tries again to put the money of gift cards sold onto their cards (the ledger refused or
    /// could not be reached before); the sync details after it.
    fn retry_gift_card_activations() -> SyncDetailsDto;
}

/// Events the register pushes to the UI: (name, payload type).
pub fn event_signatures(cfg: &ts_rs::Config) -> Vec<(&'static str, String)> {
    vec![
        (crate::events::SALE_CHANGED, <SaleDto as TS>::name(cfg)),
        (crate::events::SCAN_REJECTED, <ApiError as TS>::name(cfg)),
        (crate::events::STATUS_CHANGED, <StatusDto as TS>::name(cfg)),
        (crate::events::SHOP_IMPORT, <ShopImportDto as TS>::name(cfg)),
        (crate::events::CARD_SWIPED, <String as TS>::name(cfg)),
    ]
}
