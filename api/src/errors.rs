//! Domain and store errors turned into the `{code, message, params}` the cashier sees. The UI
//! has a message for every code in en, es and ja; `message` is the English fallback for logs.

use crate::dto::ApiError;
use pos_core::cart::CartError;
use pos_core::gtin::BarcodeError;
use pos_core::sale::CheckoutError;
use pos_store::{AuthError, CommitError, StoreError};

pub fn cart_error(e: CartError) -> ApiError {
    let msg = e.to_string();
    match e {
        CartError::QuantityOutOfRange { max } => {
            ApiError::new("cart.quantity_out_of_range", msg).with("max", max)
        }
        CartError::WeightOutOfRange { max } => {
            ApiError::new("cart.weight_out_of_range", msg).with("max", max)
        }
        CartError::NeedsWeight => ApiError::new("cart.needs_weight", msg),
        CartError::NotByWeight => ApiError::new("cart.not_by_weight", msg),
        CartError::NoSuchLine(_) => ApiError::new("cart.no_such_line", msg),
        CartError::TooManyLines(max) => ApiError::new("cart.too_many_lines", msg).with("max", max),
        CartError::NegativePrice => ApiError::new("cart.negative_price", msg),
        CartError::DiscountTooLarge => ApiError::new("cart.discount_too_large", msg),
        CartError::PercentOutOfRange => ApiError::new("cart.percent_out_of_range", msg),
        CartError::Overflow => ApiError::new("cart.overflow", msg),
        CartError::WrongCurrency { .. } => ApiError::new("cart.wrong_currency", msg),
        CartError::VoucherFixed => ApiError::new("cart.voucher_fixed", msg),
    }
}

pub fn barcode_error(e: BarcodeError) -> ApiError {
    let msg = e.to_string();
    match e {
        BarcodeError::Empty => ApiError::new("scan.empty", msg),
        BarcodeError::NotNumeric => ApiError::new("scan.not_numeric", msg),
        BarcodeError::CheckDigit { expected, found } => ApiError::new("scan.check_digit", msg)
            .with("expected", expected)
            .with("found", found),
        BarcodeError::Length(n) => ApiError::new("scan.length", msg).with("length", n),
    }
}

pub fn checkout_error(e: CheckoutError) -> ApiError {
    let msg = e.to_string();
    match e {
        CheckoutError::EmptySale => ApiError::new("sale.empty", msg),
        CheckoutError::NotFullyPaid { remaining } => {
            ApiError::new("pay.insufficient", msg).with("remaining", remaining.minor)
        }
        CheckoutError::NonCashOverpaid => ApiError::new("pay.non_cash_overpaid", msg),
        CheckoutError::NonPositiveTender => ApiError::new("pay.non_positive", msg),
        CheckoutError::WrongCurrency { .. } => ApiError::new("pay.wrong_currency", msg),
        CheckoutError::Cart(c) => cart_error(c),
    }
}

pub fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::DatabaseTooNew { found, supported } => {
            ApiError::new("store.too_new", e.to_string())
                .with("found", found)
                .with("supported", supported)
        }
        StoreError::Busy => ApiError::new("store.busy", e.to_string()),
        other => ApiError::new("store.error", other.to_string()),
    }
}

pub fn auth_error(e: AuthError) -> ApiError {
    let msg = e.to_string();
    match e {
        AuthError::WrongPin { attempts_left } => {
            ApiError::new("auth.wrong_pin", msg).with("attemptsLeft", attempts_left)
        }
        AuthError::Locked { until } => ApiError::new("auth.locked", msg).with(
            "until",
            until
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        ),
        AuthError::Store(s) => store_error(s),
    }
}

pub fn commit_error(e: CommitError<CheckoutError>) -> ApiError {
    match e {
        CommitError::Build(c) => checkout_error(c),
        CommitError::Store(s) => store_error(s),
        other => ApiError::new("store.error", other.to_string()),
    }
}

pub fn payment_error(e: pos_hardware::payment::PaymentError) -> ApiError {
    use pos_hardware::payment::PaymentError as P;
    let msg = e.to_string();
    match e {
        P::Declined { code, text } => ApiError::new("pay.card_declined", msg)
            .with("code", code)
            .with("text", text),
        P::Busy => ApiError::new("pay.terminal_busy", msg),
        P::Timeout => ApiError::new("pay.terminal_timeout", msg),
        P::Aborted => ApiError::new("pay.card_cancelled", msg),
        P::ConnectionLost => ApiError::new("pay.terminal_lost", msg),
        P::OutcomeUnknown { .. } => ApiError::new("pay.outcome_unknown", msg),
        _ => ApiError::new("pay.terminal_error", msg),
    }
}

// --- checkout: approvals, reasons, parked sales, reprint ---

/// The user may not do this alone: a manager's PIN can approve it (`params.permission`).
pub fn approval_required(p: pos_core::auth::Permission) -> ApiError {
    ApiError::new(
        "auth.approval_required",
        format!("{} needs a manager's approval", p.code()),
    )
    .with("permission", p.code())
}

/// The PIN typed to approve is right, but its owner may not approve this either.
pub fn approver_not_allowed(p: pos_core::auth::Permission) -> ApiError {
    ApiError::new(
        "auth.approver_not_allowed",
        format!("that user may not approve {}", p.code()),
    )
    .with("permission", p.code())
}

pub fn reason_required() -> ApiError {
    ApiError::new("checkout.reason_required", "pick a reason")
}

pub fn reason_error(e: pos_core::auth::ReasonError) -> ApiError {
    match e {
        pos_core::auth::ReasonError::Missing => reason_required(),
        pos_core::auth::ReasonError::Unknown => {
            ApiError::new("checkout.reason_unknown", e.to_string())
        }
    }
}

pub fn parked_not_found() -> ApiError {
    ApiError::new(
        "park.not_found",
        "that parked sale is not on this terminal (already resumed?)",
    )
}

pub fn no_receipt() -> ApiError {
    ApiError::new(
        "receipt.none",
        "no sale has been completed on this terminal yet",
    )
}

// --- shop: web shop settings ---
/// A web-shop error as the user sees it (`url` is what the user typed: plain http and a
/// malformed address get different messages).
pub fn shop_error(e: pos_sync::SyncError, url: &str) -> ApiError {
    use pos_sync::SyncError as S;
    let msg = e.to_string();
    match e {
        S::InsecureUrl(_) if url.trim().to_ascii_lowercase().starts_with("http://") => {
            ApiError::new("shop.insecure_url", msg)
        }
        S::InsecureUrl(_) => ApiError::new("shop.invalid_url", msg),
        S::Unauthorized(_) => ApiError::new("shop.unauthorized", msg),
        S::Unreachable(_) | S::Timeout | S::Http { .. } => ApiError::new("shop.unreachable", msg),
        S::Credential(_) => ApiError::new("shop.credential", msg),
        S::Store(s) => store_error(s),
        other => ApiError::new("shop.error", other.to_string()),
    }
}

// --- tenders: gift card, store credit, account; e-mailed receipts ---
use pos_store::customers::CustomerLedger;
use pos_store::gift_cards::LedgerError;

/// A gift-card ledger refusal (`number` as the cashier entered it; only its last four digits
/// reach the message).
pub fn gift_card_error(e: LedgerError, number: &str) -> ApiError {
    let msg = e.to_string();
    let masked =
        crate::register::tenders::mask_number(&pos_store::gift_cards::normalize_number(number));
    match e {
        LedgerError::Unknown(_) => {
            ApiError::new("gift_card.unknown", "no gift card has this number").with("card", masked)
        }
        LedgerError::NotUsable(_) => {
            ApiError::new("gift_card.blocked", "this gift card is blocked").with("card", masked)
        }
        LedgerError::Insufficient { available } => {
            ApiError::new("gift_card.insufficient", msg).with("balance", available.minor)
        }
        // --- gift cards kept by the web shop (gift_card_shop.rs) ---
        LedgerError::ShopOffline => ApiError::new("gift_card.shop_offline", msg),
        LedgerError::OfflineLimit { available } => {
            ApiError::new("gift_card.offline_limit", msg).with("balance", available.minor)
        }
        other => ledger_error(other),
    }
}

pub fn customer_error(e: LedgerError, ledger: CustomerLedger, name: &str) -> ApiError {
    let msg = e.to_string();
    match (e, ledger) {
        (LedgerError::Unknown(_), _) => ApiError::new("customer.unknown", "no such customer"),
        (LedgerError::NotUsable(_), _) => {
            ApiError::new("customer.no_account", "this customer has no account").with("name", name)
        }
        (LedgerError::Insufficient { available }, CustomerLedger::StoreCredit) => {
            ApiError::new("customer.credit_insufficient", msg)
                .with("name", name)
                .with("balance", available.minor)
        }
        (LedgerError::Insufficient { available }, CustomerLedger::Account) => {
            ApiError::new("customer.over_limit", msg)
                .with("name", name)
                .with("available", available.minor)
        }
        (other, _) => ledger_error(other),
    }
}

pub fn ledger_error(e: LedgerError) -> ApiError {
    let msg = e.to_string();
    match e {
        LedgerError::WrongCurrency { .. } => ApiError::new("pay.wrong_currency", msg),
        LedgerError::NonPositive => ApiError::new("pay.non_positive", msg),
        LedgerError::Store(s) => store_error(s),
        _ => ApiError::new("app.internal", msg),
    }
}

// --- cash: register sessions, cash in/out, no sale, X and Z reports (cash.rs) ---

/// A cash error as the UI shows it.
pub fn cash_error(e: pos_store::cash::CashStoreError) -> ApiError {
    match e {
        pos_store::cash::CashStoreError::NotOpen => cash_not_open(),
        pos_store::cash::CashStoreError::AlreadyOpen => ApiError::new(
            "cash.already_open",
            "the register is already open: take the Z report to close it first",
        ),
        pos_store::cash::CashStoreError::Cash(c) => core_cash_error(c),
        pos_store::cash::CashStoreError::Store(s) => store_error(s),
    }
}

pub fn core_cash_error(e: pos_core::cash::CashError) -> ApiError {
    use pos_core::cash::CashError as C;
    let msg = e.to_string();
    match e {
        C::UnknownDenomination { value, .. } | C::DuplicateDenomination { value } => {
            ApiError::new("cash.bad_count", msg).with("value", value)
        }
        C::QuantityOutOfRange { value, max } => ApiError::new("cash.bad_count", msg)
            .with("value", value)
            .with("max", max),
        C::NonPositiveAmount => ApiError::new("cash.non_positive_amount", msg),
        C::Money(_) => ApiError::new("cash.overflow", msg),
    }
}

pub fn cash_not_open() -> ApiError {
    ApiError::new(
        "cash.not_open",
        "the register is not open: open it with a float first",
    )
}

pub fn cash_forbidden(p: pos_core::auth::Permission) -> ApiError {
    ApiError::new(
        "cash.forbidden",
        format!("{} is for managers and administrators", p.code()),
    )
    .with("permission", p.code())
}

// --- devices: test actions of Settings → Devices (register/devices.rs) ---

/// "Scan something now" waited and nothing was scanned.
pub fn no_scan() -> ApiError {
    ApiError::new("device.no_scan", "nothing was scanned in time")
}

/// "Swipe a card" waited and no card was swiped.
pub fn no_swipe() -> ApiError {
    ApiError::new("device.no_swipe", "no card was swiped in time")
}

/// The test payment was authorized but its reversal failed: the manager must void `receipt` on
/// the terminal.
pub fn test_payment_not_reversed(receipt: u32, why: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        "device.test_payment_not_reversed",
        format!("test payment {receipt} authorized but not reversed: {why}"),
    )
    .with("receipt", receipt)
}

/// The card reader read a bank card: it belongs on the card terminal (none of its digits kept).
pub fn gift_card_bank_card() -> ApiError {
    ApiError::new(
        "gift_card.bank_card",
        "a bank card was swiped: take it on the card terminal",
    )
}

pub fn gift_card_unreadable() -> ApiError {
    ApiError::new(
        "gift_card.unreadable",
        "the card could not be read: swipe again or type the number",
    )
}

pub fn email_invalid_address(address: &str) -> ApiError {
    ApiError::new("email.invalid_address", "this is not an e-mail address").with("address", address)
}

/// No (usable) SMTP server: `why` says what is missing or wrong.
pub fn email_not_configured(why: impl Into<String>) -> ApiError {
    ApiError::new("email.not_configured", why)
}

pub fn email_unknown_sale() -> ApiError {
    ApiError::new("email.unknown_sale", "no such sale")
}

pub fn email_render_failed(e: impl std::fmt::Display) -> ApiError {
    ApiError::new("email.render_failed", e.to_string())
}

/// A card payment of this sale has an unknown outcome: no other tender until it is settled.
pub fn card_outcome_pending() -> ApiError {
    ApiError::new(
        "pay.card_outcome_pending",
        "a card payment of this sale may have been charged; pay by card again to settle it",
    )
}
