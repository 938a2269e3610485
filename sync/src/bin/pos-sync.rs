//! `pos-sync`: the sync engine from the command line.
//!
//! ```text
//! pos-sync import --db PATH --url URL --identifier ID --password-file FILE [--location LOC] [--key-file PATH]
//! pos-sync status --db PATH
//! pos-sync run    --db PATH [--url URL --identifier ID --password-file FILE] [--location LOC] [--key-file PATH]
//! ```
//! `import` stores the credential encrypted in the database (key in `--key-file`, default
//! `shop.key` beside the database) and imports the catalog with a progress bar; `run` runs the
//! workers in the foreground (Ctrl-C stops them) with the stored or given credential; `status`
//! prints the queue, the conflicts and the last error.

use pos_store::Store;
use pos_sync::pull::{ImportProgress, PullSettings};
use pos_sync::{
    Secret, ShopConfig, SyncEngine, SyncError, SyncStatus, VendureConnector, credential,
};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

const USAGE: &str = "usage:
  pos-sync import --db PATH --url URL --identifier ID --password-file FILE [--location LOC] [--key-file PATH]
  pos-sync status --db PATH
  pos-sync run    --db PATH [--url URL --identifier ID --password-file FILE] [--location LOC] [--key-file PATH]";

fn parse(args: &[String]) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let Some(name) = a.strip_prefix("--") else {
            return Err(format!("unexpected argument {a}"));
        };
        let value = it.next().ok_or(format!("--{name} needs a value"))?;
        out.insert(name.to_owned(), value.clone());
    }
    Ok(out)
}

fn key_file(opts: &HashMap<String, String>, db: &Path) -> PathBuf {
    opts.get("key-file")
        .map(PathBuf::from)
        .unwrap_or_else(|| db.parent().unwrap_or(Path::new(".")).join("shop.key"))
}

/// The shop config from the arguments (storing the credential encrypted), else from the
/// stored credential.
fn config(opts: &HashMap<String, String>, db: &Path) -> Result<ShopConfig, String> {
    let key = credential::load_or_create_key(&key_file(opts, db)).map_err(|e| e.to_string())?;
    let mut store = Store::open(db).map_err(|e| e.to_string())?;
    let now = time::OffsetDateTime::now_utc();
    let mut cfg = match (
        opts.get("url"),
        opts.get("identifier"),
        opts.get("password-file"),
    ) {
        (Some(url), Some(id), Some(pw_file)) => {
            let pw = std::fs::read_to_string(pw_file)
                .map_err(|e| format!("password file {pw_file}: {e}"))?;
            let pw = Secret::new(pw.trim_end_matches(['\r', '\n']));
            let cfg = ShopConfig::new(url, id, pw).map_err(|e| e.to_string())?;
            let sealed = credential::seal(&key, &cfg.url, &cfg.identifier, &cfg.password)
                .map_err(|e| e.to_string())?;
            store
                .save_shop_credential(&sealed, now)
                .map_err(|e| e.to_string())?;
            cfg
        }
        (None, None, None) => {
            let stored = store
                .shop_credential()
                .map_err(|e| e.to_string())?
                .ok_or("no stored shop credential: give --url, --identifier and --password-file")?;
            let pw = credential::open(&key, &stored).map_err(|e| e.to_string())?;
            ShopConfig::new(&stored.url, &stored.identifier, pw).map_err(|e| e.to_string())?
        }
        _ => return Err("give all of --url, --identifier and --password-file, or none".into()),
    };
    if let Some(loc) = opts.get("location") {
        cfg.location_id = loc.clone();
    }
    Ok(cfg)
}

fn bar(p: ImportProgress) {
    let width = 30u64;
    let filled = (p.done * width)
        .checked_div(p.total)
        .unwrap_or(width)
        .min(width);
    let pct = (p.done * 100).checked_div(p.total).unwrap_or(100);
    eprint!(
        "\r[{}{}] {}/{} variants ({pct} %)",
        "#".repeat(filled as usize),
        "-".repeat((width - filled) as usize),
        p.done,
        p.total
    );
    let _ = std::io::stderr().flush();
}

async fn import(opts: &HashMap<String, String>, db: &Path) -> Result<(), String> {
    let cfg = config(opts, db)?;
    let connector = VendureConnector::new(&cfg).map_err(|e| e.to_string())?;
    let store = Mutex::new(Store::open(db).map_err(|e| e.to_string())?);
    let settings = PullSettings {
        location_id: cfg.location_id.clone(),
        prices_include_tax: cfg.prices_include_tax,
        page_size: 500,
    };
    let started = std::time::Instant::now();
    let report = pos_sync::pull::import_catalog(
        &connector,
        &store,
        &settings,
        &pos_sync::clock::SystemClock,
        &mut bar,
    )
    .await
    .map_err(|e: SyncError| e.to_string())?;
    eprintln!();
    println!(
        "imported {} variants ({} skipped) in {} pages, {:.1} s",
        report.variants,
        report.skipped,
        report.pages,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn status(db: &Path) -> Result<(), String> {
    let store = Store::open(db).map_err(|e| e.to_string())?;
    let e = |e: pos_store::StoreError| e.to_string();
    let last_error: Option<String> = store
        .connection()
        .query_row(
            "SELECT last_error FROM outbox WHERE delivered_at IS NULL AND last_error IS NOT NULL ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .ok();
    let cred = store.shop_credential().map_err(e)?;
    println!(
        "shop: {}",
        cred.as_ref()
            .map(|c| format!("{} as {}", c.url, c.identifier))
            .unwrap_or("not configured".into())
    );
    println!(
        "catalog imported: {}",
        store
            .sync_value(pos_store::sync_state::IMPORT_DONE)
            .map_err(e)?
            .is_some()
    );
    println!(
        "cursor: {}",
        store
            .sync_value(pos_store::sync_state::CURSOR)
            .map_err(e)?
            .unwrap_or("-".into())
    );
    println!(
        "queued: {} ({} not deliverable to this shop)",
        store.outbox_len().map_err(e)?,
        pos_sync::outbox::not_deliverable_count(&store).map_err(|e| e.to_string())?
    );
    println!(
        "open conflicts: {}",
        store.open_stock_conflicts().map_err(e)?
    );
    let pickups = store.pickups().map_err(e)?;
    println!(
        "pickups waiting: {} ({} handed over, not yet confirmed by the shop)",
        pickups.len(),
        pickups
            .iter()
            .filter(|p| p.handed_over_at.is_some())
            .count()
    );
    println!("last error: {}", last_error.unwrap_or("-".into()));
    Ok(())
}

async fn run(opts: &HashMap<String, String>, db: &Path) -> Result<(), String> {
    let cfg = config(opts, db)?;
    let (tx, mut rx) = tokio::sync::watch::channel(SyncStatus::default());
    let handle = SyncEngine::start(db, cfg, tx).map_err(|e| e.to_string())?;
    eprintln!("pos-sync running (Ctrl-C stops)");
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            changed = rx.changed() => {
                if changed.is_err() { break; }
                let s = rx.borrow_and_update().clone();
                eprintln!(
                    "{} queued={} conflicts={}{}",
                    if s.online { "online" } else { "offline" },
                    s.queued,
                    s.conflicts,
                    s.last_error.map(|e| format!(" last_error={e}")).unwrap_or_default()
                );
            }
        }
    }
    handle.stop().await;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let opts = match parse(&args[1..]) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let Some(db) = opts.get("db").map(PathBuf::from) else {
        eprintln!("--db is required\n{USAGE}");
        return ExitCode::from(2);
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cmd.as_str() {
        "import" => rt.block_on(import(&opts, &db)),
        "status" => status(&db),
        "run" => rt.block_on(run(&opts, &db)),
        other => Err(format!("unknown command {other}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pos-sync: {e}");
            ExitCode::FAILURE
        }
    }
}
