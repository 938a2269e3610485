//! The errors of the sync, each something a caller can act on.

/// What went wrong talking to the shop or keeping sync state.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The shop could not be reached (refused, reset, DNS, TLS): retry later; the register
    /// keeps selling.
    #[error("the shop cannot be reached: {0}")]
    Unreachable(String),
    /// No (complete) answer within the timeout: the request may or may not have been applied,
    /// so it is retried with the same idempotency key.
    #[error("the shop did not answer in time")]
    Timeout,
    /// The shop answered with an HTTP error status (5xx: retry later).
    #[error("the shop answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    /// The terminal credential was refused (wrong password, deleted terminal, missing
    /// permission): the owner must enter a valid one in Settings → Web shop.
    #[error("the shop refused the terminal credential: {0}")]
    Unauthorized(String),
    /// The shop's answer is not what the API promises (not JSON, a missing field, a wrong
    /// type). Nothing is lost: the outbox row stays and is retried.
    #[error("malformed answer from the shop ({context}): {detail}")]
    Malformed { context: String, detail: String },
    /// The shop rejected this request as invalid (a GraphQL `USER_INPUT_ERROR`): resending it
    /// unchanged will fail again.
    #[error("the shop rejected the request: {0}")]
    Rejected(String),
    /// Another error reported by the shop's API.
    #[error("the shop reported an error: {0}")]
    Shop(String),
    /// Plain `http://` to a host other than localhost, or an unparsable URL.
    #[error("refused shop URL {0}: use https:// (plain http is only allowed to localhost)")]
    InsecureUrl(String),
    /// The stored credential cannot be decrypted or the key cannot be read or written.
    #[error("credential: {0}")]
    Credential(String),
    /// Something in the shop's data the register cannot hold (an unsupported currency, say).
    #[error("unsupported shop data: {0}")]
    Unsupported(String),
    /// The local database failed.
    #[error(transparent)]
    Store(#[from] pos_store::StoreError),
    /// The sync engine was stopped.
    #[error("the sync was stopped")]
    Stopped,
}

impl SyncError {
    /// Whether this error means "offline" (the shop could not be talked to at all), as opposed
    /// to an answer the shop gave.
    pub fn is_offline(&self) -> bool {
        matches!(
            self,
            SyncError::Unreachable(_) | SyncError::Timeout | SyncError::Http { status: 500.., .. }
        )
    }

    /// A stable name of the error's kind for screens that say it in the user's language
    /// ("unreachable", "timeout", "http", "unauthorized", "malformed", "rejected", "shop",
    /// "insecure_url", "credential", "unsupported", "store", "stopped").
    pub fn kind(&self) -> &'static str {
        match self {
            SyncError::Unreachable(_) => "unreachable",
            SyncError::Timeout => "timeout",
            SyncError::Http { .. } => "http",
            SyncError::Unauthorized(_) => "unauthorized",
            SyncError::Malformed { .. } => "malformed",
            SyncError::Rejected(_) => "rejected",
            SyncError::Shop(_) => "shop",
            SyncError::InsecureUrl(_) => "insecure_url",
            SyncError::Credential(_) => "credential",
            SyncError::Unsupported(_) => "unsupported",
            SyncError::Store(_) => "store",
            SyncError::Stopped => "stopped",
        }
    }

    pub(crate) fn malformed(context: &str, detail: impl std::fmt::Display) -> Self {
        SyncError::Malformed {
            context: context.to_owned(),
            detail: detail.to_string(),
        }
    }
}

impl From<reqwest::Error> for SyncError {
    fn from(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            SyncError::Timeout
        } else if e.is_decode() {
            SyncError::malformed("body", e)
        } else {
            // Never include the URL's query or headers: the error text is logged.
            let e = e.without_url();
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                src = s.source();
            }
            SyncError::Unreachable(msg)
        }
    }
}
