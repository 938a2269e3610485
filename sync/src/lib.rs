//! pos-sync
