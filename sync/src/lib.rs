//! `pos-sync` is the terminal half of the web-shop integration: the [`Connector`] trait with
//! [`Capabilities`] (Vendure now, WooCommerce and Shopify later), the [`VendureConnector`], the
//! outbox worker (every sale reaches the shop exactly once), the pull worker (catalog, prices and
//! the shop's stock reach the register), the initial import with progress, reconciliation, the
//! encrypted credential and the [`SyncEngine`] the app starts.
//!
//! Invariants:
//! * The register never waits for the network: sales are committed locally with an outbox row;
//!   this crate delivers them later with the sale's UUID as the idempotency key.
//! * All sync state lives in the terminal's SQLite database; the engine can be killed anywhere.
//! * The register writes stock deltas only (sales, adjustments); an absolute stock value is only
//!   written by reconciliation with compare-and-set.
//! * The shop credential never appears in plain text on disk or in logs ([`Secret`]).
//! * Plain `http://` is refused except to localhost.

pub mod clock;
pub mod config;
pub mod connector;
pub mod credential;
pub mod engine;
mod error;
pub mod gift_cards;
mod mapping;
pub mod outbox;
pub mod pull;
pub mod returns;
pub mod sale;
pub mod vendure;

pub use config::{Secret, ShopConfig};
pub use connector::{Capabilities, Connector};
pub use engine::{
    EngineOptions, ImportStatus, SyncEngine, SyncHandle, SyncStatus, TerminalSettings,
};
pub use error::SyncError;
pub use vendure::VendureConnector;
