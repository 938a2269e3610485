//! The ZVT driver wired to the in-process terminal simulator over TCP on 127.0.0.1 (an
//! ephemeral port), with short timeouts, for the ZVT tests.

use std::sync::Arc;
use std::time::Duration;

use pos_core::{Currency, Money};
use pos_hardware::payment::{InMemoryPendingStore, PendingPaymentStore, PendingState};
use pos_hardware::zvt::sim::{SimConfig, Simulator};
use pos_hardware::zvt::{ZvtConfig, ZvtTerminal, ZvtTimeouts, ZvtTransport};

pub fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::Eur)
}

/// Timeouts short enough for tests, long enough for a loaded machine.
pub fn fast() -> ZvtTimeouts {
    ZvtTimeouts {
        connect: Duration::from_secs(2),
        ack: Duration::from_secs(2),
        idle: Duration::from_millis(1500),
        overall: Duration::from_secs(20),
        abort_grace: Duration::from_secs(2),
        recovery: Duration::from_secs(10),
        retry_pause: Duration::from_millis(100),
    }
}

/// The simulator, the driver talking to it, and the driver's pending-payment store.
pub struct Rig {
    pub sim: Simulator,
    pub terminal: ZvtTerminal,
    pub store: Arc<InMemoryPendingStore>,
}

pub async fn rig(sim_config: SimConfig, timeouts: ZvtTimeouts) -> Rig {
    let sim = Simulator::new(sim_config);
    let addr = sim.listen_tcp("127.0.0.1:0").await.expect("listen");
    let store = Arc::new(InMemoryPendingStore::new());
    let mut config = ZvtConfig::new(ZvtTransport::tcp(addr.to_string()), Currency::Eur);
    config.timeouts = timeouts;
    let terminal = ZvtTerminal::new(config, store.clone());
    Rig {
        sim,
        terminal,
        store,
    }
}

/// Where the record of `ref_id` stands.
pub fn state_of(store: &InMemoryPendingStore, ref_id: &str) -> PendingState {
    store.get(ref_id).unwrap().expect("record").state
}
