//! Back-office benchmarks on a real SQLite file (issues 5 and 6): audit appends and the chain
//! verify, the X and Z reports of a register session with many sales, and queuing a receipt
//! e-mail. Prints one `BENCH ` line per figure (milliseconds); nothing here asserts a duration.
//!
//! `cargo run --release -p pos-store --bin pos-bench-office`
//! Options: `--audit-rows N` (default 2000), `--sales N` (default 2000), `--x-reports N`
//! (default 50), `--emails N` (default 500), `--products N` (demo catalog, default 1000).
//! The database is a fresh file in a new directory under the system temp dir, opened as the
//! register opens it (WAL, synchronous=FULL), and is removed at the end.

use pos_core::cash::{DenominationCount, DrawerCount};
use pos_core::sale::{Cashier, SaleContext};
use pos_core::{Cart, CashRounding, Currency, Money, Quantity, Tender, TenderKind};
use pos_store::audit::NewAuditEntry;
use pos_store::cash::Operator;
use pos_store::demo::{self, MAIN_LOCATION, demo_barcode};
use pos_store::email_outbox::NewEmail;
use pos_store::{Country, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::hint::black_box;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

const TERMINAL: &str = "BENCH";

struct Args {
    audit_rows: usize,
    sales: usize,
    x_reports: usize,
    emails: usize,
    products: usize,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        audit_rows: 2_000,
        sales: 2_000,
        x_reports: 50,
        emails: 500,
        products: 1_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().ok_or(format!("{flag} needs a value"))?;
        let n: usize = v
            .replace('_', "")
            .parse()
            .map_err(|e| format!("{flag}: {e}"))?;
        match flag.as_str() {
            "--audit-rows" => a.audit_rows = n,
            "--sales" => a.sales = n,
            "--x-reports" => a.x_reports = n,
            "--emails" => a.emails = n,
            "--products" => a.products = n,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    if a.audit_rows == 0 || a.x_reports == 0 || a.emails == 0 || a.products == 0 {
        return Err("counts must be at least 1".into());
    }
    Ok(a)
}

/// One timed sample, and whether the thread waited for a CPU meanwhile (as in `pos-bench`: on
/// a shared machine another process's turn shows up as milliseconds of wall time).
#[derive(Clone, Copy)]
struct Sample {
    wall: Duration,
    waited: bool,
}

/// Nanoseconds this thread has spent runnable but waiting for a CPU (Linux schedstat).
fn runqueue_wait_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|w| w.parse().ok()))
        .unwrap_or(0)
}

/// Times `f` once.
fn sample<T>(f: impl FnOnce() -> T) -> (T, Sample) {
    let wait = runqueue_wait_ns();
    let started = Instant::now();
    let out = f();
    let wall = started.elapsed();
    let waited = runqueue_wait_ns() > wait;
    (out, Sample { wall, waited })
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

/// Prints `BENCH <name> p50_ms=… p99_ms=… max_ms=… n=…`, and the same over the samples during
/// which the thread never waited for a CPU (`on_cpu_…`).
fn report(name: &str, samples: &[Sample]) {
    fn pct(mut v: Vec<Duration>) -> Option<(Duration, Duration, Duration, usize)> {
        v.sort();
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        let last = *v.last()?;
        Some((at(0.50), at(0.99), last, v.len()))
    }
    let Some((p50, p99, max, n)) = pct(samples.iter().map(|s| s.wall).collect()) else {
        return;
    };
    let mut line = format!(
        "BENCH {name} p50_ms={} p99_ms={} max_ms={} n={n}",
        ms(p50),
        ms(p99),
        ms(max)
    );
    let on_cpu = samples
        .iter()
        .filter(|s| !s.waited)
        .map(|s| s.wall)
        .collect();
    if let Some((p50, p99, _, n)) = pct(on_cpu) {
        line += &format!(
            " on_cpu_p50_ms={} on_cpu_p99_ms={} on_cpu_n={n}",
            ms(p50),
            ms(p99)
        );
    }
    println!("{line}");
}

/// A single timing (the Z, the verify): there is one sample, so no percentiles.
fn report_once(name: &str, s: Sample, note: &str) {
    println!(
        "BENCH {name} ms={} waited_for_cpu={} {note}",
        ms(s.wall),
        s.waited
    );
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn manager() -> Operator {
    Operator {
        id: "u-marta".into(),
        name: "Marta".into(),
    }
}

/// `minor` counted in 10-unit notes and 1-unit coins (any amount can be counted this way).
fn counted(currency: Currency, minor: i64) -> Result<DrawerCount, pos_core::cash::CashError> {
    let notes = minor / 1_000;
    DrawerCount::new(
        currency,
        &[
            DenominationCount {
                value: 1_000,
                quantity: notes,
            },
            DenominationCount {
                value: 1,
                quantity: minor - notes * 1_000,
            },
        ],
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse()?;
    let dir = std::env::temp_dir().join(format!("pos-bench-office-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("office.db");
    let result = run(&args, &path);
    std::fs::remove_dir_all(&dir)?;
    result
}

fn run(args: &Args, path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let now = OffsetDateTime::now_utc();
    println!("pos-bench-office: database {}", path.display());
    println!("load average at start: {}", load_average());
    let mut store = Store::open(path)?;
    let country = Country::Es;
    demo::generate(&mut store, args.products, country, 42, now)?;
    let settings = store.settings()?.ok_or("no settings")?;
    let currency = settings.currency;

    // 1. Audit: appends, then a verify of the whole trail.
    let mut appends = Vec::with_capacity(args.audit_rows);
    for i in 0..args.audit_rows {
        let entry = NewAuditEntry {
            terminal_id: TERMINAL,
            action: "line_void",
            user_id: Some("u-ana"),
            approver_id: Some("u-marta"),
            sale_ref: Some("sale-1"),
            detail: serde_json::json!({"line": i, "amount": 199}),
        };
        let (r, s) = sample(|| store.append_audit(&entry, now));
        r?;
        appends.push(s);
    }
    report("audit_append", &appends);
    let (check, s) = sample(|| store.verify_audit());
    let check = check?;
    if !check.intact() || check.rows != args.audit_rows as u64 {
        return Err(format!("the trail did not verify: {check:?}").into());
    }
    report_once("audit_verify", s, &format!("rows={}", check.rows));

    // 2. Cash: a session with N sales (every third by card, the rest cash with change), the X
    //    report while it is open, then the count and the Z.
    let float = counted(currency, 10_000)?;
    store.begin_cash_session(
        uuid::Uuid::new_v4(),
        TERMINAL,
        &manager(),
        &float,
        false,
        now,
    )?;
    let mut rng = StdRng::seed_from_u64(7);
    let mut commits = Vec::with_capacity(args.sales);
    for i in 0..args.sales {
        let mut cart = Cart::new(currency, settings.tax_policy);
        for _ in 0..rng.gen_range(1..=5) {
            let code = demo_barcode(country, rng.gen_range(1..=args.products));
            let item = store
                .find_by_barcode(&code, MAIN_LOCATION)?
                .ok_or("a demo barcode is missing")?;
            let q = if item.by_weight {
                Quantity::Grams(500)
            } else {
                Quantity::Units(1)
            };
            cart.add(item.to_product_ref(), q)?;
        }
        let total = cart.totals()?.total.minor;
        let tender = if i % 3 == 2 {
            Tender {
                kind: TenderKind::Card,
                amount: Money::new(total, currency),
                reference: Some("A1 ****1234".into()),
            }
        } else {
            // Paid with the next 5-unit note above the total: there is always change.
            Tender {
                kind: TenderKind::Cash,
                amount: Money::new((total / 500 + 1) * 500, currency),
                reference: None,
            }
        };
        let (r, s) = sample(|| {
            store.commit_sale(TERMINAL, MAIN_LOCATION, |receipt| {
                cart.complete(
                    vec![tender],
                    SaleContext {
                        id: uuid::Uuid::new_v4(),
                        receipt,
                        terminal_id: TERMINAL.into(),
                        cashier: Cashier {
                            id: "u-ana".into(),
                            name: "Ana".into(),
                        },
                        at: now,
                        cash_rounding: CashRounding::NONE,
                    },
                )
            })
        });
        r?;
        commits.push(s);
    }
    report("sale_commit_in_session", &commits);
    let mut xs = Vec::with_capacity(args.x_reports);
    let mut expected = 0;
    for _ in 0..args.x_reports {
        let (x, s) = sample(|| store.x_report(TERMINAL, now));
        let x = black_box(x?);
        if x.sales.sales != args.sales as u64 {
            return Err(format!("the X report counts {} sales", x.sales.sales).into());
        }
        expected = x.expected.minor;
        xs.push(s);
    }
    report(&format!("x_report_{}_sales", args.sales), &xs);
    let count =
        store.record_drawer_count(TERMINAL, &counted(currency, expected)?, &manager(), now)?;
    let (z, s) = sample(|| store.close_cash_session(TERMINAL, count.id, &manager(), now));
    let z = z?;
    if z.sales.sales != args.sales as u64 || z.over_short.map(|m| m.minor) != Some(0) {
        return Err("the Z report does not add up".into());
    }
    report_once(
        &format!("z_close_{}_sales", args.sales),
        s,
        &format!("z_number={}", z.z_number.unwrap_or(0)),
    );

    // 3. Queuing a receipt e-mail (body and a 30 KB PDF): what the cashier's "send" waits for.
    let html = "<p>Gracias por su compra</p>".repeat(100);
    let pdf = vec![0x25u8; 30 * 1024];
    let mut queued = Vec::with_capacity(args.emails);
    for i in 0..args.emails {
        let e = NewEmail {
            sale_id: format!("sale-{i}"),
            recipient: "ana@example.com".into(),
            subject: format!("Su ticket {TERMINAL}-{i}"),
            html: html.clone(),
            text: "Gracias por su compra".into(),
            attachment_name: format!("ticket-{i}.pdf"),
            attachment: pdf.clone(),
        };
        let (r, s) = sample(|| store.queue_email(&e, now));
        r?;
        queued.push(s);
    }
    report("email_queue", &queued);
    println!("load average at end: {}", load_average());
    Ok(())
}
