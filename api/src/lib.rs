//! `pos-api`: the register as an application — the command table, the wire DTOs, the events,
//! and the generated TypeScript bindings. No Tauri and no WebKit: the desktop shell is a thin
//! adapter over [`commands::dispatch`], and everything here is tested with plain `cargo test`.

pub mod bindings;
pub mod cash_report;
pub mod commands;
pub mod device_queues;
pub mod dto;
pub mod errors;
pub mod events;
pub mod hardware;
pub mod locale;
pub mod pdf;
pub mod receipt;
mod receipt_text;
pub mod register;
pub mod returns_receipt;

pub use commands::{Api, dispatch};
pub use dto::ApiError;
