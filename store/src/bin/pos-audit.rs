//! The audit trail's verify command, for a manager, an auditor or a support engineer holding a
//! terminal's database file:
//!
//! ```text
//! cargo run -p pos-store --bin pos-audit -- verify --db PATH
//! cargo run -p pos-store --bin pos-audit -- list --db PATH [--after SEQ] [--limit N]
//! ```
//!
//! `verify` recomputes the hash chain (a changed, inserted or deleted row breaks it at that
//! row) and checks that every Z report's recorded head of the trail is still there (which
//! catches the last rows deleted, or the trail rewritten after the day was closed). It prints
//! what it found and exits 0 when the trail is intact, 1 when it is not, 2 on a usage error and
//! 3 when the file cannot be read.

use std::process::ExitCode;

use pos_store::Store;

const USAGE: &str =
    "usage: pos-audit verify --db PATH | pos-audit list --db PATH [--after SEQ] [--limit N]";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(cmd) = args.next() else {
        return usage();
    };
    let (mut db, mut after, mut limit) = (None, 0i64, 50usize);
    while let Some(flag) = args.next() {
        let value = args.next();
        match (flag.as_str(), value) {
            ("--db", Some(v)) => db = Some(v),
            ("--after", Some(v)) => match v.parse() {
                Ok(n) => after = n,
                Err(_) => return usage(),
            },
            ("--limit", Some(v)) => match v.parse() {
                Ok(n) => limit = n,
                Err(_) => return usage(),
            },
            _ => return usage(),
        }
    }
    let Some(db) = db else { return usage() };
    if !std::path::Path::new(&db).is_file() {
        eprintln!("pos-audit: no database at {db}");
        return ExitCode::from(3);
    }
    let store = match Store::open(&db) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pos-audit: cannot open {db}: {e}");
            return ExitCode::from(3);
        }
    };
    match cmd.as_str() {
        "verify" => verify(&store),
        "list" => list(&store, after, limit),
        _ => usage(),
    }
}

fn verify(store: &Store) -> ExitCode {
    let (check, anchors) = match (store.verify_audit(), store.verify_audit_anchors()) {
        (Ok(c), Ok(a)) => (c, a),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("pos-audit: cannot read the audit trail: {e}");
            return ExitCode::from(3);
        }
    };
    let mut intact = true;
    match check.first_broken {
        None => println!("chain: intact, {} rows", check.rows),
        Some(seq) => {
            intact = false;
            println!(
                "chain: BROKEN at row {seq}: that row and every row after it are untrustworthy"
            );
        }
    }
    for a in &anchors {
        intact = false;
        println!(
            "anchor: BROKEN: Z report {}-{} recorded row {} with hash {}, the trail has {}",
            a.terminal_id,
            a.z_number,
            a.seq,
            a.recorded_hash,
            a.found_hash.as_deref().unwrap_or("no such row")
        );
    }
    if intact {
        println!("audit trail: intact");
        ExitCode::SUCCESS
    } else {
        println!("audit trail: TAMPERED");
        ExitCode::from(1)
    }
}

fn list(store: &Store, after: i64, limit: usize) -> ExitCode {
    match store.audit_entries(after, limit) {
        Ok(rows) => {
            for r in rows {
                println!(
                    "{}\t{}\t{}\t{}\tby {}\tapproved by {}\t{}",
                    r.seq,
                    r.at,
                    r.terminal_id,
                    r.action,
                    r.user_id.as_deref().unwrap_or("-"),
                    r.approver_id.as_deref().unwrap_or("-"),
                    r.detail
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pos-audit: cannot read the audit trail: {e}");
            ExitCode::from(3)
        }
    }
}

fn usage() -> ExitCode {
    eprintln!("{USAGE}");
    ExitCode::from(2)
}
