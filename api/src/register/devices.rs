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
        let connect = move |transport: ZvtTransport| {
            let mut cfg = ZvtConfig::new(transport, currency);
            cfg.password = config.password;
            cfg.timeouts = config.timeouts.clone();
            let t: Arc<dyn PaymentTerminal> = Arc::new(ZvtTerminal::new(cfg, store));
            t
        };
        let sim_slot = self.hardware.payment_sim.clone();
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
            // Payments the previous run left in flight: their outcome is established now, so
            // a retried payment of that sale returns it instead of charging again.
            match terminal.recover().await {
                Ok(settled) if !settled.is_empty() => {
                    for p in settled {
                        tracing::info!(ref_id = %p.ref_id, state = ?p.state, "card payment recovered");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("card payments still unresolved: {e}"),
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
