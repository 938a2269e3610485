//! The desktop register: a thin Tauri shell. It opens the `Register` (pos-api), exposes its
//! command table through one IPC command, and forwards the register's events to the window.
//! No business logic lives here.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use pos_api::events::{Event, EventSink};
use pos_api::register::{Register, RegisterConfig, SystemClock};
use pos_api::{ApiError, dispatch};
use std::sync::{Arc, OnceLock};
use tauri::{AppHandle, Emitter, Manager};

/// Forwards register events to the UI once the app handle exists.
struct WindowEvents(OnceLock<AppHandle>);

impl EventSink for WindowEvents {
    fn emit(&self, event: Event) {
        if let Some(app) = self.0.get()
            && let Err(e) = app.emit(event.name(), event.payload())
        {
            tracing::warn!("could not emit {}: {e}", event.name());
        }
    }
}

/// The one IPC command: runs a register command by name. The generated TypeScript client
/// (ui/src/lib/bindings.ts) is the only caller.
#[tauri::command]
async fn api(
    register: tauri::State<'_, Arc<Register>>,
    cmd: String,
    args: serde_json::Value,
) -> Result<serde_json::Value, ApiError> {
    let started = std::time::Instant::now();
    let out = dispatch(register.inner().as_ref(), &cmd, args).await;
    tracing::debug!(
        cmd,
        ms = started.elapsed().as_secs_f64() * 1e3,
        ok = out.is_ok(),
        "api"
    );
    out
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let events = Arc::new(WindowEvents(OnceLock::new()));
    let sink: Arc<dyn EventSink> = events.clone();
    tauri::Builder::default()
        .setup(move |app| {
            let default_db = app
                .path()
                .app_data_dir()
                .map(|d| d.join("register.db"))
                .unwrap_or_else(|_| "register.db".into());
            let config = RegisterConfig::from_env(default_db);
            tracing::info!(db = %config.db_path.display(), terminal = %config.terminal_id, "opening register");
            let _ = events.0.set(app.handle().clone());
            // Devices start background tasks: open and start the register on Tauri's runtime.
            let register = tauri::async_runtime::block_on(async move {
                let register = Arc::new(Register::open(config, sink, Arc::new(SystemClock))?);
                register.start();
                Ok::<_, ApiError>(register)
            })
            .map_err(|e| format!("cannot open the register: {}", e.message))?;
            app.manage(register);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![api])
        .build(tauri::generate_context!())
        .expect("the register window could not start")
        .run(|app, event| {
            // On exit, let the receipt being printed finish (the queue stops between jobs);
            // jobs still waiting stay on disk and print at the next start.
            if let tauri::RunEvent::Exit = event
                && let Some(register) = app.try_state::<Arc<Register>>()
            {
                tauri::async_runtime::block_on(register.shutdown());
            }
        });
}
