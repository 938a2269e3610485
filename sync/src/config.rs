//! The shop connection settings: URL (https only, except to localhost), the terminal's
//! identifier and its password as a [`Secret`] that never shows in Debug output or logs.

use crate::SyncError;
use std::fmt;
use std::time::Duration;

/// A secret string (password or token). Its `Debug` and `Display` print `[redacted]`; the only
/// way to read it is [`Secret::expose`], which call sites use to put it on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Best effort: overwrite the bytes before the allocation is freed.
        let n = self.0.len();
        self.0.clear();
        self.0.extend(std::iter::repeat_n('\0', n));
        self.0.clear();
    }
}

/// How to reach the shop and how the register maps it.
#[derive(Debug, Clone)]
pub struct ShopConfig {
    /// Base URL of the shop, e.g. `https://shop.example.com` (the Admin API is `/admin-api`).
    pub url: String,
    /// The terminal credential's identifier (e.g. `till-1`).
    pub identifier: String,
    pub password: Secret,
    /// The register's location id in the local database whose stock the sync keeps (the shop's
    /// stock location of this terminal maps onto it).
    pub location_id: String,
    /// Local prices are tax-inclusive (Spain, Japan) or exclusive (US).
    pub prices_include_tax: bool,
    /// Time to establish a TCP (+TLS) connection.
    pub connect_timeout: Duration,
    /// Time for a whole request/answer.
    pub request_timeout: Duration,
}

impl ShopConfig {
    /// A config with the default timeouts (connect 5 s, request 15 s), inclusive prices and
    /// the local location `"shop"`. Refuses insecure URLs.
    pub fn new(url: &str, identifier: &str, password: Secret) -> Result<ShopConfig, SyncError> {
        Ok(ShopConfig {
            url: check_url(url)?,
            identifier: identifier.to_owned(),
            password,
            location_id: "shop".to_owned(),
            prices_include_tax: true,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
        })
    }
}

/// Normalises the base URL (no trailing slash) and refuses plain `http://` except to
/// `localhost`, `127.0.0.1` or `[::1]`.
pub fn check_url(url: &str) -> Result<String, SyncError> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| SyncError::InsecureUrl(url.into()))?;
    let local = matches!(
        parsed.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    );
    match parsed.scheme() {
        "https" => {}
        "http" if local => {}
        _ => return Err(SyncError::InsecureUrl(url.into())),
    }
    if parsed.username() != "" || parsed.password().is_some() {
        return Err(SyncError::InsecureUrl("credentials in the URL".into()));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_except_to_localhost() {
        assert_eq!(
            check_url("https://shop.example.com/").unwrap(),
            "https://shop.example.com"
        );
        assert_eq!(
            check_url("http://127.0.0.1:3000").unwrap(),
            "http://127.0.0.1:3000"
        );
        assert!(check_url("http://localhost:3000/").is_ok());
        assert!(matches!(
            check_url("http://shop.example.com"),
            Err(SyncError::InsecureUrl(_))
        ));
        assert!(check_url("http://192.168.1.10:3000").is_err());
        assert!(check_url("ftp://127.0.0.1").is_err());
        assert!(check_url("not a url").is_err());
        assert!(check_url("https://u:p@shop.example.com").is_err());
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let cfg = ShopConfig::new(
            "https://shop.example.com",
            "till-1",
            Secret::new("hunter2-very-secret"),
        )
        .unwrap();
        let dbg = format!("{cfg:?} {}", cfg.password);
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("[redacted]"));
        assert_eq!(cfg.password.expose(), "hunter2-very-secret");
    }
}
