//! E-mailed receipts: the cashier picks Print, E-mail or both on the completed screen; an
//! e-mail is an HTML body with the receipt in the store's language plus the receipt as a PDF
//! (see `pdf`), sent over SMTP with lettre.
//!
//! Invariants:
//! * Sending never blocks the register: `email_receipt` validates the address, renders the
//!   message and queues it in SQLite (`email_outbox`) in one short write, then returns. A
//!   background thread with its own database connection sends what is due and retries failures
//!   with a growing delay; when the network or the SMTP server is down, the message simply
//!   goes later. The same (sale, address) is queued once.
//! * Transport security: STARTTLS is required for any SMTP host except the local machine (to
//!   which STARTTLS is used when offered and plain SMTP otherwise); implicit TLS (port 465) on
//!   request. Nothing, credentials included, crosses the network in the clear: plain SMTP is
//!   only ever spoken to this machine (where a local relay's self-signed certificate is
//!   accepted — loopback traffic cannot be intercepted).
//! * Printing: with `POS_RECEIPT_PRINT=auto` (the default) the receipt prints when the sale
//!   completes, as before; with `ask` nothing prints until the cashier picks Print (or both).
//!   Printing a sale's receipt goes through the durable print queue keyed by the sale's id, so
//!   it prints once however often Print is pressed.
//!
//! SMTP settings (see README): `POS_SMTP_HOST`, `POS_SMTP_PORT` (default 587; 25 for
//! localhost), `POS_SMTP_FROM` (e.g. `Tienda Demo <tienda@example.com>`), optional
//! `POS_SMTP_USER` and `POS_SMTP_PASSWORD_FILE`, `POS_SMTP_TLS` = `starttls` (default) | `tls` |
//! `none` (local host only).

use super::{Clock, Register};
use crate::dto::*;
use crate::errors::store_error;
use crate::locale::Lang;
use crate::receipt::{self, ReceiptContent};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use pos_store::Store;
use pos_store::email_outbox::{EmailState, NewEmail};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use ts_rs::TS;
use uuid::Uuid;

// ---- wire types ------------------------------------------------------------------------------

/// Where an e-mailed receipt stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EmailReceiptDto {
    pub sale_id: String,
    pub recipient: String,
    /// True once the SMTP server accepted it; false while queued (offline, retrying).
    pub sent: bool,
    pub attempts: u32,
    /// Why the last attempt failed (for the status line; it will be retried unless `failed`).
    pub last_error: Option<String>,
    /// The server refused it for good (e.g. no such mailbox): it is not tried again.
    pub failed: bool,
}

fn email_dto(sale_id: &str, s: &EmailState) -> EmailReceiptDto {
    EmailReceiptDto {
        sale_id: sale_id.to_owned(),
        recipient: s.recipient.clone(),
        sent: s.sent_at.is_some(),
        attempts: s.attempts,
        last_error: s.last_error.clone(),
        failed: s.given_up,
    }
}

// ---- configuration -----------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// STARTTLS: required, except to the local machine where it is used when offered.
    StartTls,
    /// TLS from the first byte (usually port 465).
    Implicit,
    /// Plain SMTP: only to the local machine.
    None,
}

/// How to reach the SMTP server.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// The sender, e.g. "Tienda Demo <tienda@example.com>".
    pub from: String,
    pub user: Option<String>,
    pub password: Option<String>,
    pub tls: TlsMode,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("user", &self.user)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

fn is_local(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1" | "[::1]")
}

impl SmtpConfig {
    /// Plain SMTP to a server on this machine (tests, a local relay).
    pub fn local(port: u16, from: &str) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            from: from.into(),
            user: None,
            password: None,
            tls: TlsMode::StartTls,
        }
    }

    /// From `POS_SMTP_*` (see the module doc); `Ok(None)` when no host is set.
    pub fn from_env() -> Result<Option<SmtpConfig>, String> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let Some(host) = var("POS_SMTP_HOST") else {
            return Ok(None);
        };
        let tls = match var("POS_SMTP_TLS").as_deref() {
            None | Some("starttls") => TlsMode::StartTls,
            Some("tls") => TlsMode::Implicit,
            Some("none") => TlsMode::None,
            Some(other) => return Err(format!("POS_SMTP_TLS={other}: use starttls, tls or none")),
        };
        let port = match var("POS_SMTP_PORT") {
            Some(p) => p.parse().map_err(|_| format!("POS_SMTP_PORT={p}"))?,
            None if tls == TlsMode::Implicit => 465,
            None if is_local(&host) => 25,
            None => 587,
        };
        let from = var("POS_SMTP_FROM").ok_or("POS_SMTP_FROM is not set")?;
        let password = match var("POS_SMTP_PASSWORD_FILE") {
            Some(f) => Some(
                std::fs::read_to_string(&f)
                    .map_err(|e| format!("POS_SMTP_PASSWORD_FILE {f}: {e}"))?
                    .trim()
                    .to_owned(),
            ),
            None => None,
        };
        let c = SmtpConfig {
            host,
            port,
            from,
            user: var("POS_SMTP_USER"),
            password,
            tls,
        };
        c.check()?;
        Ok(Some(c))
    }

    /// Refuses settings that would send mail in the clear over the network.
    pub fn check(&self) -> Result<(), String> {
        if self.tls == TlsMode::None && !is_local(&self.host) {
            return Err(format!(
                "plain SMTP is only allowed to this machine, not to {}",
                self.host
            ));
        }
        self.from
            .parse::<Mailbox>()
            .map_err(|e| format!("POS_SMTP_FROM {}: {e}", self.from))?;
        Ok(())
    }

    fn transport(&self) -> Result<SmtpTransport, String> {
        let params = || {
            TlsParameters::builder(self.host.clone())
                // A relay on this machine often has a self-signed certificate; loopback
                // traffic cannot be intercepted. Any other host's certificate is verified.
                .dangerous_accept_invalid_certs(is_local(&self.host))
                .dangerous_accept_invalid_hostnames(is_local(&self.host))
                .build()
                .map_err(|e| e.to_string())
        };
        let tls = match self.tls {
            TlsMode::None => Tls::None,
            TlsMode::Implicit => Tls::Wrapper(params()?),
            TlsMode::StartTls if is_local(&self.host) => Tls::Opportunistic(params()?),
            TlsMode::StartTls => Tls::Required(params()?),
        };
        let mut b = SmtpTransport::builder_dangerous(&self.host)
            .port(self.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(20)));
        if let (Some(u), Some(p)) = (&self.user, &self.password) {
            b = b.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(b.build())
    }
}

/// Whether an address is one a customer can receive mail at: one `@`, a dotted domain, no
/// spaces, not longer than 254 characters, and acceptable to lettre.
pub fn valid_address(a: &str) -> bool {
    let a = a.trim();
    let Some((local, domain)) = a.split_once('@') else {
        return false;
    };
    a.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !a.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
        && a.parse::<lettre::Address>().is_ok()
}

// ---- the message -------------------------------------------------------------------------------

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn subject(c: &ReceiptContent, number: &str, store: &str) -> String {
    match c.lang {
        Lang::Es => format!("Su tique {number} de {store}"),
        Lang::Ja => format!("{store} レシート {number}"),
        Lang::En => format!("Your receipt {number} from {store}"),
    }
}

fn intro(lang: Lang) -> &'static str {
    match lang {
        Lang::Es => "Gracias por su compra. Adjuntamos su tique en PDF.",
        Lang::Ja => "ご利用ありがとうございます。レシートをPDFで添付しております。",
        Lang::En => "Thank you for your purchase. Your receipt is attached as a PDF.",
    }
}

/// The receipt as an HTML e-mail body (inline styles only; mail clients ignore style sheets).
pub fn html_body(c: &ReceiptContent) -> String {
    let row = |l: &str, r: &str, strong: bool| {
        let (o, e) = if strong { ("<b>", "</b>") } else { ("", "") };
        format!(
            "<tr><td style=\"padding:2px 8px 2px 0\">{o}{}{e}</td><td style=\"padding:2px 0;text-align:right;white-space:nowrap\">{o}{}{e}</td></tr>\n",
            esc(l),
            esc(r)
        )
    };
    let mut h = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"></head>\n\
         <body style=\"font-family:sans-serif;color:#111\">\n<p>{}</p>\n\
         <div style=\"max-width:420px;border:1px solid #ccc;padding:12px\">\n",
        c.lang.tag(),
        esc(intro(c.lang))
    );
    for (i, line) in c.header.iter().enumerate() {
        let tag = if i == 0 { "h2" } else { "div" };
        h.push_str(&format!(
            "<{tag} style=\"margin:0;text-align:center\">{}</{tag}>\n",
            esc(line)
        ));
    }
    if let Some(t) = &c.title {
        h.push_str(&format!(
            "<p style=\"text-align:center;font-weight:bold\">{}</p>\n",
            esc(t)
        ));
    }
    h.push_str("<table style=\"width:100%;border-collapse:collapse\">\n");
    for (k, v) in &c.meta {
        h.push_str(&row(k, v, false));
    }
    h.push_str("<tr><td colspan=\"2\"><hr></td></tr>\n");
    for i in &c.items {
        let name = match &i.mark {
            Some(m) => format!("{} {m}", i.name),
            None => i.name.clone(),
        };
        match &i.detail {
            Some(d) => {
                h.push_str(&row(&name, "", false));
                h.push_str(&row(&format!("  {d}"), &i.amount, false));
            }
            None => h.push_str(&row(&name, &i.amount, false)),
        }
        for (k, v) in &i.adjustments {
            h.push_str(&row(&format!("  {k}"), v, false));
        }
    }
    h.push_str("<tr><td colspan=\"2\"><hr></td></tr>\n");
    for r in &c.totals {
        h.push_str(&row(&r.label, &r.amount, r.emphasis));
    }
    h.push_str("<tr><td colspan=\"2\"><hr></td></tr>\n");
    for r in &c.tenders {
        h.push_str(&row(&r.label, &r.amount, r.emphasis));
    }
    h.push_str("</table>\n");
    for slip in &c.payment_slips {
        h.push_str(&format!(
            "<pre style=\"font-size:12px;border-top:1px dashed #999;padding-top:6px\">{}</pre>\n",
            esc(&slip.join("\n"))
        ));
    }
    for n in &c.notes {
        h.push_str(&format!("<p style=\"margin:4px 0\">{}</p>\n", esc(n)));
    }
    h.push_str(&format!(
        "<p style=\"text-align:center;color:#555\">{}</p>\n",
        esc(&c.code)
    ));
    for f in &c.footer {
        h.push_str(&format!("<p style=\"text-align:center\">{}</p>\n", esc(f)));
    }
    h.push_str("</div>\n</body></html>\n");
    h
}

/// The plain-text alternative: the receipt as it prints.
fn text_body(c: &ReceiptContent, preview: &[String]) -> String {
    format!("{}\n\n{}\n", intro(c.lang), preview.join("\n"))
}

fn build_message(from: &str, e: &NewEmail) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("sender: {e}"))?;
    let to: Mailbox = e
        .recipient
        .parse()
        .map_err(|err| format!("recipient: {err}"))?;
    let pdf_type = ContentType::parse("application/pdf").map_err(|e| e.to_string())?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(e.subject.clone())
        .multipart(
            MultiPart::mixed()
                .multipart(
                    MultiPart::alternative()
                        .singlepart(SinglePart::plain(e.text.clone()))
                        .singlepart(SinglePart::html(e.html.clone())),
                )
                .singlepart(
                    Attachment::new(e.attachment_name.clone()).body(e.attachment.clone(), pdf_type),
                ),
        )
        .map_err(|e| e.to_string())
}

// ---- the queue and its worker ------------------------------------------------------------------

struct Shared {
    config: Mutex<Option<SmtpConfig>>,
    /// Print receipts when the sale completes (POS_RECEIPT_PRINT=auto, the default).
    auto_print: AtomicBool,
}

/// The register's e-mail side: SMTP settings, the print preference, the worker's wake-up line.
pub struct ReceiptMail {
    shared: Arc<Shared>,
    wake: Mutex<Option<Sender<()>>>,
}

impl ReceiptMail {
    /// Settings from the environment (a bad setting is logged and e-mail stays off).
    pub fn from_env() -> ReceiptMail {
        let config = SmtpConfig::from_env().unwrap_or_else(|e| {
            tracing::error!("e-mail receipts are off: {e}");
            None
        });
        let auto_print = std::env::var("POS_RECEIPT_PRINT").as_deref() != Ok("ask");
        ReceiptMail {
            shared: Arc::new(Shared {
                config: Mutex::new(config),
                auto_print: AtomicBool::new(auto_print),
            }),
            wake: Mutex::new(None),
        }
    }

    pub fn auto_print(&self) -> bool {
        self.shared.auto_print.load(Ordering::Relaxed)
    }

    fn configured(&self) -> bool {
        self.shared
            .config
            .lock()
            .map(|c| c.is_some())
            .unwrap_or(false)
    }

    fn nudge(&self) {
        if let Ok(w) = self.wake.lock()
            && let Some(tx) = w.as_ref()
        {
            let _ = tx.send(());
        }
    }
}

/// The delay before retry number `attempts + 1`: 15 s, 30 s, 1 min … at most 10 min.
fn backoff(attempts: u32) -> time::Duration {
    time::Duration::seconds((15i64 << attempts.min(6)).min(600))
}

fn run_worker(db: PathBuf, shared: Arc<Shared>, clock: Arc<dyn Clock>, wake: Receiver<()>) {
    let mut warmed = false;
    let mut store = match Store::open(&db) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("e-mail worker: cannot open {}: {e}", db.display());
            return;
        }
    };
    loop {
        let config = shared.config.lock().ok().and_then(|c| c.clone());
        if let Some(config) = config {
            // Load the PDF fonts now (a moment for the CJK collection) rather than when the
            // first receipt is e-mailed; only on terminals that e-mail at all.
            if !warmed {
                warmed = true;
                if !crate::pdf::warm_up() {
                    tracing::warn!("no font for receipt PDFs: e-mailed receipts will be refused");
                }
            }
            let due = store.emails_due(10, clock.now()).unwrap_or_else(|e| {
                tracing::warn!("e-mail worker: {e}");
                Vec::new()
            });
            for q in due {
                let started = std::time::Instant::now();
                // (error, permanent): a message that cannot be built, or a 5xx answer, will not
                // get better by retrying.
                let sent = build_message(&config.from, &q.email)
                    .map_err(|e| (e, true))
                    .and_then(|m| {
                        config
                            .transport()
                            .map_err(|e| (e, false))?
                            .send(&m)
                            .map(|_| ())
                            .map_err(|e| (e.to_string(), e.is_permanent()))
                    });
                let now = clock.now();
                let result = match &sent {
                    Ok(()) => {
                        tracing::info!(
                            "receipt e-mail {} sent in {} ms",
                            q.id,
                            started.elapsed().as_millis()
                        );
                        store.mark_email_sent(q.id, now)
                    }
                    Err((e, true)) => {
                        tracing::warn!("receipt e-mail {} refused for good: {e}", q.id);
                        store.give_up_email(q.id, e)
                    }
                    Err((e, false)) => {
                        tracing::warn!("receipt e-mail {} not sent (will retry): {e}", q.id);
                        store.mark_email_failed(q.id, e, now + backoff(q.attempts))
                    }
                };
                if let Err(e) = result {
                    tracing::warn!("e-mail worker: {e}");
                }
            }
        }
        match wake.recv_timeout(Duration::from_millis(500)) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
}

// ---- the register's side -----------------------------------------------------------------------

impl Register {
    /// Sets (or, with None, clears) the SMTP server; applies to queued messages too.
    pub fn configure_email(&self, config: Option<SmtpConfig>) -> Result<(), ApiError> {
        if let Some(c) = &config {
            c.check().map_err(crate::errors::email_not_configured)?;
        }
        if let Ok(mut g) = self.mail.shared.config.lock() {
            *g = config;
        }
        self.mail.nudge();
        Ok(())
    }

    /// Prints receipts at completion (`true`, the default) or only when the cashier asks.
    pub fn set_auto_print(&self, on: bool) {
        self.mail.shared.auto_print.store(on, Ordering::Relaxed);
    }

    /// Starts the sending thread (once). Called from `start`.
    pub(super) fn start_email(&self) {
        let Ok(mut wake) = self.mail.wake.lock() else {
            return;
        };
        if wake.is_some() {
            return;
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let (db, shared, clock) = (
            self.config.db_path.clone(),
            self.mail.shared.clone(),
            self.clock.clone(),
        );
        match std::thread::Builder::new()
            .name("receipt-email".into())
            .spawn(move || run_worker(db, shared, clock, rx))
        {
            Ok(_) => *wake = Some(tx),
            Err(e) => tracing::error!("e-mail worker did not start: {e}"),
        }
    }

    fn completed_sale(&self, sale_id: &str) -> Result<pos_core::CompletedSale, ApiError> {
        let id =
            Uuid::parse_str(sale_id.trim()).map_err(|_| crate::errors::email_unknown_sale())?;
        self.lock()
            .store
            .sale_by_id(id)
            .map_err(store_error)?
            .ok_or_else(crate::errors::email_unknown_sale)
    }

    pub(super) fn email_receipt_now(
        &self,
        sale_id: &str,
        address: &str,
    ) -> Result<EmailReceiptDto, ApiError> {
        self.lock().require_user()?;
        let address = address.trim();
        if !valid_address(address) {
            return Err(crate::errors::email_invalid_address(address));
        }
        if !self.mail.configured() {
            return Err(crate::errors::email_not_configured(
                "no SMTP server is set up for this terminal",
            ));
        }
        let sale = self.completed_sale(sale_id)?;
        let settings = self.lock().settings.clone();
        let content = ReceiptContent {
            // The card terminal's slips, as on the printed receipt.
            payment_slips: self.card_slips(&sale),
            ..receipt::content(&sale, &settings)
        };
        // The PDF is the printed receipt, with the card terminal's slips.
        let preview = receipt::preview_with_slips(&sale, &settings, self.card_slips(&sale));
        let number = sale.receipt().to_string();
        let subject = subject(&content, &number, &settings.name);
        let paper = pos_hardware::escpos::PaperWidth::Mm80;
        let printed =
            receipt::bytes_with_slips(&sale, &settings, paper, false, self.card_slips(&sale))
                .map(|b| pos_hardware::escpos::decode(&b).preview(paper))
                .map_err(crate::errors::email_render_failed)?;
        let pdf = crate::pdf::receipt_pdf(
            &crate::pdf::printed_lines(&printed, paper.columns()),
            paper.columns(),
            &subject,
        )
        .map_err(crate::errors::email_render_failed)?;
        let email = NewEmail {
            sale_id: sale.id().to_string(),
            recipient: address.to_owned(),
            subject,
            html: html_body(&content),
            text: text_body(&content, &preview.lines),
            attachment_name: format!("{number}.pdf"),
            attachment: pdf,
        };
        let now = self.now();
        {
            let mut st = self.lock();
            st.store.queue_email(&email, now).map_err(store_error)?;
        }
        self.mail.nudge();
        self.email_state(&email.sale_id, address)
    }

    fn email_state(&self, sale_id: &str, address: &str) -> Result<EmailReceiptDto, ApiError> {
        self.email_receipts_now(sale_id)?
            .into_iter()
            .find(|e| e.recipient == address)
            .ok_or_else(crate::errors::email_unknown_sale)
    }

    pub(super) fn email_receipts_now(
        &self,
        sale_id: &str,
    ) -> Result<Vec<EmailReceiptDto>, ApiError> {
        let st = self.lock();
        st.require_user()?;
        let states = st
            .store
            .emails_for_sale(sale_id.trim())
            .map_err(store_error)?;
        Ok(states
            .iter()
            .map(|s| email_dto(sale_id.trim(), s))
            .collect())
    }

    /// Prints a completed sale's receipt through the durable queue (once per sale: a second
    /// Print of the same sale does not print it again).
    pub(super) fn print_receipt_now(&self, sale_id: &str) -> Result<(), ApiError> {
        self.lock().require_user()?;
        let sale = self.completed_sale(sale_id)?;
        let settings = self.lock().settings.clone();
        let bytes = receipt::bytes_with_slips(
            &sale,
            &settings,
            pos_hardware::escpos::PaperWidth::Mm80,
            false,
            self.card_slips(&sale),
        )
        .map_err(|e| ApiError::new("device.print_queue", e.to_string()))?;
        self.hardware.print(&sale.id().to_string(), bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_a_customer_can_receive_mail_at() {
        for ok in ["ana@example.com", "a.b+tique@correo.es", "山田@example.jp"] {
            assert!(valid_address(ok), "{ok}");
        }
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "ana @example.com",
            "ana@@example.com",
            "ana@example..com",
            "<ana@example.com>",
        ] {
            assert!(!valid_address(bad), "{bad}");
        }
    }

    #[test]
    fn plain_smtp_only_to_this_machine() {
        let mut c = SmtpConfig::local(2525, "Tienda <t@example.com>");
        c.tls = TlsMode::None;
        assert!(c.check().is_ok());
        c.host = "smtp.example.com".into();
        assert!(c.check().is_err());
        c.tls = TlsMode::StartTls;
        assert!(c.check().is_ok());
    }

    #[test]
    fn retries_wait_longer_up_to_ten_minutes() {
        assert_eq!(backoff(0), time::Duration::seconds(15));
        assert_eq!(backoff(2), time::Duration::seconds(60));
        assert_eq!(backoff(30), time::Duration::seconds(600));
    }
}
