//! pos-api
