//! pos-store
