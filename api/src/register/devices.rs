//! The register's device commands and the payment terminal's life: Settings → Devices, the
//! developer panel, and connecting the payment terminal with recovery of card payments whose
//! outcome was lost (before a crash, or when the link dropped).
//!
//! Invariants: a card payment attempt is on disk before the terminal is asked (see
//! `crate::device_queues`); at start every payment left in flight is settled with the terminal
//! before anything else is charged, and a retried payment of the same sale gets the recorded
//! outcome instead of a second charge.

use super::Register;
use pos_hardware::config::{Connection, PaymentTerminalConfig};
use pos_hardware::payment::PaymentTerminal;
use pos_hardware::zvt::sim::{SimConfig, Simulator};
use pos_hardware::zvt::{ZvtConfig, ZvtTerminal, ZvtTransport};
use std::sync::Arc;

/// Where the payment terminal is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TerminalTarget {
    /// The ZVT simulator, run inside the app on 127.0.0.1.
    Simulated,
    Real(ZvtTransport),
    None,
}

/// `POS_PAYMENT_TERMINAL` (`sim`, `tcp:HOST:PORT`, `serial:/dev/ttyUSB0`, `none`) when set,
/// else the terminal's device settings.
pub(crate) fn terminal_target(config: &PaymentTerminalConfig) -> Result<TerminalTarget, String> {
    if let Some(spec) = std::env::var("POS_PAYMENT_TERMINAL")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        return Ok(match spec.split_once(':') {
            Some(("tcp", addr)) => TerminalTarget::Real(ZvtTransport::tcp(addr)),
            Some(("serial", path)) => TerminalTarget::Real(ZvtTransport::serial(path)),
            _ if spec == "none" => TerminalTarget::None,
            _ => TerminalTarget::Simulated,
        });
    }
    match config.transport().map_err(|e| e.to_string())? {
        Some(t) => Ok(TerminalTarget::Real(t)),
        None if config.connection == Connection::None => Ok(TerminalTarget::None),
        None => Ok(TerminalTarget::Simulated),
    }
}

impl Register {
    /// Connects the payment terminal (see [`terminal_target`]) and settles any card payment
    /// left in flight by the previous run.
    pub(super) fn start_payment_terminal(self: &Arc<Self>) {
        let config = self.config.devices.payment_terminal.clone();
        let target = match terminal_target(&config) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("payment terminal: {e}");
                return;
            }
        };
        let currency = self.lock().settings.currency;
        let slot = self.terminal.clone();
        let store = self.hardware.pending_payments.clone();
        let simulated = target == TerminalTarget::Simulated;
        let connect = move |transport: ZvtTransport| {
            let mut cfg = ZvtConfig::new(transport, currency);
            cfg.password = config.password;
            cfg.timeouts = config.timeouts.clone();
            if simulated {
                // The demo terminal answers at once: a silent one (developer panel "timeout")
                // is given up on after seconds, not a minute.
                cfg.timeouts.idle = cfg.timeouts.idle.min(Duration::from_secs(6));
                cfg.timeouts.abort_grace = cfg.timeouts.abort_grace.min(Duration::from_secs(2));
            }
            let t: Arc<dyn PaymentTerminal> = Arc::new(ZvtTerminal::new(cfg, store));
            t
        };
        let sim_slot = self.hardware.payment_sim.clone();
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            let terminal = match target {
                TerminalTarget::None => return,
                TerminalTarget::Real(transport) => connect(transport),
                TerminalTarget::Simulated => {
                    let sim = Simulator::new(SimConfig::default());
                    match sim.listen_tcp("127.0.0.1:0").await {
                        Ok(addr) => {
                            // Kept for the developer panel; it lives as long as the register.
                            let _ = sim_slot.set(sim);
                            connect(ZvtTransport::tcp(addr.to_string()))
                        }
                        Err(e) => {
                            tracing::error!("payment terminal simulator: {e}");
                            return;
                        }
                    }
                }
            };
            let _ = slot.set(terminal.clone());
            // The terminal's state ("insert card", "recovering") reaches the status bar.
            let mut changes = terminal.status();
            let register = me.clone();
            tokio::spawn(async move {
                while changes.changed().await.is_ok() {
                    let Some(r) = register.upgrade() else { break };
                    if let Ok(status) = r.status_now() {
                        r.events.emit(crate::events::Event::StatusChanged(status));
                    }
                }
            });
            // Log on (ZVT registration). It also settles the payments the previous run left in
            // flight, so a retried payment of that sale returns the outcome instead of charging
            // again, and learns the terminal's last receipt number when none is known yet.
            match terminal.register().await {
                Ok(info) => {
                    tracing::info!(terminal = ?info.terminal_id, "payment terminal registered")
                }
                Err(e) => tracing::warn!("payment terminal not registered yet: {e}"),
            }
        });
    }
}

impl Register {
    /// Lets the devices finish cleanly before the app exits: the print queue stops between
    /// jobs, so a receipt waiting for paper stays queued and prints once at the next start
    /// (after a crash it is set aside as "interrupted" and the cashier decides).
    pub async fn shutdown(&self) {
        if let Some(q) = &self.hardware.devices.print_queue
            && !q.stop(std::time::Duration::from_secs(30)).await
        {
            tracing::warn!("the print queue did not stop in time");
        }
    }
}

impl Register {
    /// The payment terminal's slip of each card payment of `sale`, in tender order, from the
    /// recorded approvals (a card tender of this register is the attempt `<sale id>-<n>`, n
    /// counting tenders from 1). Missing records give no slip.
    pub(crate) fn card_slips(&self, sale: &pos_core::sale::CompletedSale) -> Vec<Vec<String>> {
        use pos_hardware::payment::{PendingPaymentStore, PendingState};
        sale.tenders()
            .iter()
            .enumerate()
            .filter(|(_, t)| t.kind == pos_core::TenderKind::Card)
            .filter_map(|(i, _)| {
                let ref_id = format!("{}-{}", sale.id(), i + 1);
                match self.hardware.pending_payments.get(&ref_id) {
                    Ok(Some(p)) => match p.state {
                        PendingState::Approved { approval } => Some(approval.slip_lines),
                        _ => None,
                    },
                    Ok(None) => None,
                    Err(e) => {
                        tracing::warn!("card slip of {ref_id}: {e}");
                        None
                    }
                }
            })
            .collect()
    }
}

// --- developer panel and the test actions of Settings → Devices ------------------------------

use crate::dto::{ApiError, MoneyDto};
use pos_hardware::device::{ScanError, ScanEvent, SwipeEvent};
use pos_hardware::sim::SimCommand;
use pos_hardware::zvt::sim::Scenario;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use ts_rs::TS;

/// Track data the developer panel swipes: a gift card, a loyalty card (with the member's
/// name), and a bank card (Visa test number), which the reader must refuse without keeping it.
pub const GIFT_CARD_TRACKS: &str =
    "%B6036280000000017^GIFT/CARD^2912101000?;6036280000000017=29121010000?";
pub const LOYALTY_CARD_TRACKS: &str =
    "%B7788990000012345^GARCIA/ANA^3001101000?;7788990000012345=30011010000?";
pub const BANK_CARD_TRACKS: &str =
    "%B4111111111111111^TEST/CARD^2912101000000000?;4111111111111111=29121010000000000000?";

/// "Scan something now": the next scan of the configured scanner, not added to a sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ScanTestDto {
    /// The code as the scanner sent it (absent when the frame was refused).
    pub code: Option<String>,
    /// "ean13", "code128", … when the scanner tells (AIM identifier).
    pub symbology: Option<String>,
    /// "valid" (a GTIN with the right check digit), "wrong_check_digit", "no_check_digit"
    /// (not a GTIN: an internal code, CODE128 text), "garbled" (the frame was refused).
    pub verdict: String,
    /// For a wrong check digit: the digit expected and the one scanned.
    pub expected_digit: Option<u8>,
    pub found_digit: Option<u8>,
}

/// "Swipe a card": what the card reader made of the next swipe. Nothing is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SwipeTestDto {
    /// "read" (a gift or loyalty card), "bank_card_refused", "unreadable".
    pub result: String,
    /// Only the last four digits are shown: "************0017".
    pub masked_number: Option<String>,
    pub holder: Option<String>,
}

/// A small test payment: authorized, then reversed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TestPaymentDto {
    pub amount: MoneyDto,
    /// The terminal's receipt numbers of the authorization and of its reversal.
    pub receipt_no: u32,
    pub reversal_receipt_no: u32,
    /// "Mastercard ************1234" when the terminal tells.
    pub card: Option<String>,
}

fn masked(number: &str) -> String {
    let keep = number.len().saturating_sub(4);
    format!("{}{}", "*".repeat(keep), &number[keep..])
}

fn wait_limit(timeout_ms: u32) -> Duration {
    Duration::from_millis(u64::from(timeout_ms.clamp(100, 120_000)))
}

impl Register {
    /// The developer panel's commands for the simulators (see `simulate_device`).
    pub(super) fn simulate_device_command(
        &self,
        command: &str,
        value: Option<i64>,
    ) -> Result<(), ApiError> {
        let scenario = match command {
            "terminal_approve" => Some(Scenario::Approve),
            "terminal_decline" => Some(Scenario::Decline { code: 0x05 }),
            "terminal_busy" => Some(Scenario::Busy),
            "terminal_timeout" => Some(Scenario::Timeout),
            "terminal_lost_after_ack" => Some(Scenario::DropAfterAck),
            _ => None,
        };
        if let Some(s) = scenario {
            let sim = self.hardware.payment_sim.get().ok_or_else(|| {
                ApiError::new(
                    "device.not_simulated",
                    "the payment terminal is not simulated",
                )
            })?;
            sim.push_scenario(s);
            return Ok(());
        }
        let cmd = match command {
            "swipe_gift" => SimCommand::Swipe {
                raw: GIFT_CARD_TRACKS.into(),
            },
            "swipe_loyalty" => SimCommand::Swipe {
                raw: LOYALTY_CARD_TRACKS.into(),
            },
            "swipe_bank" => SimCommand::Swipe {
                raw: BANK_CARD_TRACKS.into(),
            },
            "paper_out" => SimCommand::PaperOut,
            "paper_runs_out" => SimCommand::PaperRunsOutAfter {
                bytes: value.unwrap_or(200).max(0) as usize,
            },
            "paper_near_end" => SimCommand::PaperNearEnd,
            "paper_replaced" => SimCommand::PaperReplaced,
            "cover_open" => SimCommand::CoverOpen,
            "cover_closed" => SimCommand::CoverClosed,
            "printer_offline" => SimCommand::PrinterOffline,
            "printer_online" => SimCommand::PrinterOnline,
            "close_drawer" => SimCommand::CloseDrawer,
            other => {
                return Err(ApiError::new(
                    "device.bad_command",
                    format!("unknown simulator command {other}"),
                ));
            }
        };
        self.hardware.simulate(cmd)?;
        if let Some(q) = &self.hardware.devices.print_queue {
            q.retry_now();
        }
        Ok(())
    }

    /// "Scan something now" (manager or admin): waits up to `timeout_ms` for the next scan of
    /// the configured scanner and reports it; that scan is not added to the sale.
    pub(super) async fn device_scan_test_now(
        &self,
        timeout_ms: u32,
    ) -> Result<ScanTestDto, ApiError> {
        super::require_device_access(&self.lock())?;
        if self.hardware.devices.scanner.is_none() {
            return Err(
                ApiError::new("device.not_configured", "no scanner is configured")
                    .with("device", "scanner"),
            );
        }
        let rx = self.hardware.capture_next_scan();
        let event = match tokio::time::timeout(wait_limit(timeout_ms), rx).await {
            Ok(Ok(e)) => e,
            _ => {
                self.hardware.stop_capturing_scans();
                return Err(crate::errors::no_scan());
            }
        };
        let symbology = |s: &Option<pos_hardware::device::Symbology>| {
            s.as_ref().and_then(|s| match serde_json::to_value(s) {
                Ok(serde_json::Value::String(v)) => Some(v),
                _ => None,
            })
        };
        Ok(match event {
            ScanEvent::Scanned(c) => {
                let gtin_shaped = c.code.bytes().all(|b| b.is_ascii_digit())
                    && [8, 12, 13, 14].contains(&c.code.len());
                let (verdict, expected, found) = if !gtin_shaped {
                    ("no_check_digit", None, None)
                } else {
                    match pos_core::gtin::validate_gtin(&c.code) {
                        Ok(()) => ("valid", None, None),
                        Err(pos_core::gtin::BarcodeError::CheckDigit { expected, found }) => {
                            ("wrong_check_digit", Some(expected), Some(found))
                        }
                        Err(_) => ("no_check_digit", None, None),
                    }
                };
                ScanTestDto {
                    symbology: symbology(&c.symbology),
                    code: Some(c.code),
                    verdict: verdict.into(),
                    expected_digit: expected,
                    found_digit: found,
                }
            }
            ScanEvent::Rejected(ScanError::CheckDigit(
                pos_core::gtin::BarcodeError::CheckDigit { expected, found },
            )) => ScanTestDto {
                code: None,
                symbology: None,
                verdict: "wrong_check_digit".into(),
                expected_digit: Some(expected),
                found_digit: Some(found),
            },
            ScanEvent::Rejected(_) => ScanTestDto {
                code: None,
                symbology: None,
                verdict: "garbled".into(),
                expected_digit: None,
                found_digit: None,
            },
        })
    }

    /// "Swipe a card" (manager or admin): waits up to `timeout_ms` for the next swipe. A bank
    /// card is refused by the reader; nothing of it reaches this function.
    pub(super) async fn device_swipe_test_now(
        &self,
        timeout_ms: u32,
    ) -> Result<SwipeTestDto, ApiError> {
        super::require_device_access(&self.lock())?;
        let reader = self.hardware.devices.card_reader.clone().ok_or_else(|| {
            ApiError::new("device.not_configured", "no card reader is configured")
                .with("device", "card_reader")
        })?;
        let mut swipes = reader.swipes();
        let next = async {
            loop {
                match swipes.recv().await {
                    Ok(e) => return Some(e),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return None,
                }
            }
        };
        let event = match tokio::time::timeout(wait_limit(timeout_ms), next).await {
            Ok(Some(e)) => e,
            _ => return Err(crate::errors::no_swipe()),
        };
        Ok(match event {
            SwipeEvent::Read(card) => SwipeTestDto {
                result: "read".into(),
                masked_number: Some(masked(card.number.expose())),
                holder: card.holder,
            },
            SwipeEvent::Refused(pos_hardware::card::CardError::BankCard) => SwipeTestDto {
                result: "bank_card_refused".into(),
                masked_number: None,
                holder: None,
            },
            SwipeEvent::Refused(_) => SwipeTestDto {
                result: "unreadable".into(),
                masked_number: None,
                holder: None,
            },
        })
    }

    /// A small test payment (manager or admin): authorizes 0.10 (¥10) on the payment terminal
    /// and reverses it at once, so the card is not charged. If the reversal fails the error says
    /// so with the terminal's receipt number, for the manager to void it on the terminal.
    pub(super) async fn device_test_payment_now(&self) -> Result<TestPaymentDto, ApiError> {
        let currency = {
            let st = self.lock();
            super::require_device_access(&st)?;
            st.settings.currency
        };
        let terminal = self.terminal.get().cloned().ok_or_else(|| {
            ApiError::new(
                "pay.terminal_unavailable",
                "no payment terminal is connected",
            )
        })?;
        let amount = pos_core::Money::new(10, currency);
        let ref_id = format!("test-{}", uuid::Uuid::now_v7());
        let approval = terminal
            .authorize(amount, &ref_id)
            .await
            .map_err(crate::errors::payment_error)?;
        // Keyed like the test payment, so a retried reversal never reverses twice.
        let reversal = terminal
            .reverse_keyed(&format!("{ref_id}/reversal"), approval.receipt_no, amount)
            .await
            .map_err(|e| crate::errors::test_payment_not_reversed(approval.receipt_no, e))?;
        Ok(TestPaymentDto {
            amount: amount.into(),
            receipt_no: approval.receipt_no,
            reversal_receipt_no: reversal.receipt_no,
            card: match (&approval.card_brand, approval.masked_pan()) {
                (Some(b), Some(p)) => Some(format!("{b} {p}")),
                (None, Some(p)) => Some(p),
                (Some(b), None) => Some(b.clone()),
                (None, None) => None,
            },
        })
    }
}

impl Register {
    /// The in-process payment terminal simulator, when the terminal is simulated (its ledger
    /// says what was really charged: developer panel, tests).
    pub fn payment_simulator(&self) -> Option<Simulator> {
        self.hardware.payment_sim.get().cloned()
    }
}

impl Register {
    /// Every device's line in the status bar: the hardware's, and the payment terminal's.
    pub(super) fn device_statuses(&self) -> Vec<crate::dto::DeviceStatusDto> {
        let mut out = self.hardware.status();
        let target = terminal_target(&self.config.devices.payment_terminal);
        if target != Ok(TerminalTarget::None) {
            let simulated = target == Ok(TerminalTarget::Simulated);
            out.push(match self.terminal.get() {
                Some(t) => {
                    crate::hardware::terminal_status_dto(Some(&t.status().borrow()), simulated)
                }
                None => crate::hardware::terminal_status_dto(None, simulated),
            });
        }
        out
    }
}

impl Register {
    /// "Diagnose devices" for the payment terminal: it answers a registration (no money moves)
    /// within a few seconds.
    pub(super) async fn payment_terminal_check(&self) -> crate::dto::DeviceCheckDto {
        let target = terminal_target(&self.config.devices.payment_terminal);
        let connection = match &target {
            Ok(TerminalTarget::Simulated) => "simulated".to_owned(),
            Ok(TerminalTarget::None) => "none".to_owned(),
            Ok(TerminalTarget::Real(t)) => t.describe(),
            Err(e) => e.clone(),
        };
        let check =
            |result: &str, answers: bool, detail: Option<String>| crate::dto::DeviceCheckDto {
                device: "payment_terminal".into(),
                connection: connection.clone(),
                result: result.into(),
                answers,
                detail,
            };
        if target == Ok(TerminalTarget::None) {
            return check("not_configured", false, None);
        }
        let Some(terminal) = self.terminal.get().cloned() else {
            return check("failed", false, Some("not connected yet".into()));
        };
        match tokio::time::timeout(Duration::from_secs(8), terminal.register()).await {
            Ok(Ok(info)) if target == Ok(TerminalTarget::Simulated) => {
                check("simulated", true, info.terminal_id)
            }
            Ok(Ok(info)) => check(
                "answered",
                true,
                Some(format!(
                    "terminal {}",
                    info.terminal_id.unwrap_or_else(|| "?".into())
                )),
            ),
            Ok(Err(e)) => check("failed", false, Some(e.to_string())),
            Err(_) => check("failed", false, Some("no answer within 8 s".into())),
        }
    }
}

impl Register {
    /// Refuses another tender while a card payment of the sale in progress has an unknown
    /// outcome (the link dropped and the terminal could not be asked yet): it may have charged
    /// the customer. Paying by card again settles it (the same attempt is asked about, never
    /// charged twice).
    pub(super) fn refuse_while_card_unsettled(&self) -> Result<(), ApiError> {
        use pos_hardware::payment::PendingPaymentStore;
        let prefix = format!("{}-", self.lock().sale_ref);
        let unsettled = self
            .hardware
            .pending_payments
            .in_flight()
            .map_err(|e| ApiError::new("store.error", e))?
            .into_iter()
            .any(|p| p.ref_id.starts_with(&prefix));
        if unsettled {
            Err(crate::errors::card_outcome_pending())
        } else {
            Ok(())
        }
    }
}
