//! `pos-core` is the point-of-sale domain: money, tax, barcodes, the cart and the completed sale.
//!
//! Architecture invariant: this crate never touches a file, the network, a device or the clock.
//! The current time and every id are passed in by the caller, so the same inputs always give
//! the same sale.

pub mod auth;
pub mod cart;
pub mod cash;
pub mod gtin;
pub mod money;
pub mod returns;
pub mod sale;
pub mod staff;
pub mod tax;

pub use cart::{Cart, CartError, CartLine, Discount, LineId, ProductRef, Quantity};
pub use money::{Currency, Money, MoneyError};
pub use sale::{CompletedSale, ReceiptNumber, Tender, TenderKind};
pub use tax::{CashRounding, PriceMode, RoundingDirection, TaxPolicy, TaxRate, TaxRoundingPolicy};
