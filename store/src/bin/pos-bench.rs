//! Store benchmarks on a large generated catalog (issue 2).
//!
//! `cargo run --release -p pos-store --bin pos-bench -- --products 1000000`
//! Options: `--db PATH` (default: the system temp dir), `--country es|jp|us` (default jp, so
//! Japanese search runs on Japanese data; names exist in all three languages either way),
//! `--iterations N` (scan and lookup samples, default 20000).
//! An existing database with the right number of products is reused.

use pos_core::sale::{Cashier, SaleContext};
use pos_core::{Cart, CashRounding, Money, Quantity, Tender, TenderKind};
use pos_store::demo::{self, MAIN_LOCATION, demo_barcode};
use pos_store::{Country, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

struct Args {
    products: usize,
    db: Option<PathBuf>,
    country: Country,
    iterations: usize,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        products: 1_000_000,
        db: None,
        country: Country::Jp,
        iterations: 20_000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--products" => a.products = v.replace('_', "").parse().map_err(|e| format!("{e}"))?,
            "--db" => a.db = Some(v.into()),
            "--country" => a.country = Country::from_code(&v).ok_or("unknown country")?,
            "--iterations" => a.iterations = v.parse().map_err(|e| format!("{e}"))?,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok(a)
}

/// One timed sample: its wall time, and whether the thread waited for a CPU meanwhile (on a
/// shared machine, another process's turn shows up as milliseconds of wall time).
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

struct Probe {
    wait: u64,
    started: Instant,
}

impl Probe {
    fn start() -> Probe {
        let wait = runqueue_wait_ns();
        Probe {
            wait,
            started: Instant::now(),
        }
    }
    fn elapsed(&self) -> Sample {
        let wall = self.started.elapsed();
        Sample {
            wall,
            waited: runqueue_wait_ns() > self.wait,
        }
    }
}

struct Stats {
    p50: Duration,
    p99: Duration,
    max: Duration,
    n: usize,
    /// The same over the samples during which the thread never waited for a CPU.
    on_cpu: Option<Box<Stats>>,
}

fn percentiles(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let at = |q: f64| v[((v.len().max(1) - 1) as f64 * q).round() as usize];
    Stats {
        p50: at(0.50),
        p99: at(0.99),
        max: *v.last().unwrap_or(&Duration::ZERO),
        n: v.len(),
        on_cpu: None,
    }
}

fn stats(v: Vec<Sample>) -> Stats {
    let on_cpu: Vec<Duration> = v.iter().filter(|s| !s.waited).map(|s| s.wall).collect();
    let mut all = percentiles(v.iter().map(|s| s.wall).collect());
    if !on_cpu.is_empty() {
        all.on_cpu = Some(Box::new(percentiles(on_cpu)));
    }
    all
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn show(label: &str, s: &Stats) {
    println!(
        "{label:<52} p50 {:>10}  p99 {:>10}  max {:>10}  (n={})",
        ms(s.p50),
        ms(s.p99),
        ms(s.max),
        s.n
    );
    if let Some(c) = &s.on_cpu {
        println!(
            "{:<52} p50 {:>10}  p99 {:>10}  max {:>10}  (n={})",
            "      samples that never waited for a CPU",
            ms(c.p50),
            ms(c.p99),
            ms(c.max),
            c.n
        );
    }
}

fn file_size(p: &Path) -> u64 {
    let mut total = 0;
    for suffix in ["", "-wal", "-shm"] {
        let mut q = p.as_os_str().to_owned();
        q.push(suffix);
        total += std::fs::metadata(&q).map(|m| m.len()).unwrap_or(0);
    }
    total
}

/// The machine's 1/5/15-minute load average: on a shared machine, the tail latencies above
/// include waiting for a CPU.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// CPU time (user + system) this process has used, from /proc (Linux; USER_HZ = 100).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); after the command name they are at index 11 and 12.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse()?;
    let country = args.country;
    let n = args.products;
    let path = args.db.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "pos-bench-{}-{n}.db",
            country.code().to_lowercase()
        ))
    });
    let now = OffsetDateTime::now_utc();
    println!(
        "pos-bench: {n} products ({}), database {}",
        country.code(),
        path.display()
    );
    println!("load average at start: {}", load_average());

    let mut store = Store::open(&path)?;
    if store.variant_count()? as usize == n {
        println!("catalog: reused (generation time not measured in this run)");
    } else {
        let started = Instant::now();
        let cpu = cpu_time();
        demo::generate(&mut store, n, country, 42, now)?;
        let cpu = cpu.zip(cpu_time()).map(|(a, b)| (b - a).as_secs_f64());
        println!(
            "catalog: generated {n} products in {:.1} s wall, {} CPU",
            started.elapsed().as_secs_f64(),
            cpu.map_or("?".into(), |c| format!("{c:.1} s"))
        );
    }
    drop(store);
    let started = Instant::now();
    let mut store = Store::open(&path)?;
    println!(
        "open (migrations checked, pragmas set): {}",
        ms(started.elapsed())
    );
    println!(
        "database size: {:.1} MiB",
        file_size(&path) as f64 / 1048576.0
    );
    let settings = store.settings()?.ok_or("no settings")?;
    let mut rng = StdRng::seed_from_u64(7);
    let iterations = args.iterations;

    // (a) scan → line added, on a cart of ~20 lines.
    let mut cart = Cart::new(settings.currency, settings.tax_policy);
    let quantity = |by_weight: bool| {
        if by_weight {
            Quantity::Grams(500)
        } else {
            Quantity::Units(1)
        }
    };
    while cart.lines().len() < 20 {
        let code = demo_barcode(country, rng.gen_range(1..=n));
        let item = store
            .find_by_barcode(&code, MAIN_LOCATION)?
            .ok_or("missing")?;
        cart.add(item.to_product_ref(), quantity(item.by_weight))?;
    }
    let base = cart.clone();
    // The three measurements take turns, each with its own random barcodes, so that cache
    // warm-up and the machine's load fall on all of them alike.
    let mut draw = || demo_barcode(country, rng.gen_range(1..=n));
    let (mut scan, mut lookup, mut bare) = (
        Vec::with_capacity(iterations),
        Vec::with_capacity(iterations),
        Vec::with_capacity(iterations),
    );
    for _ in 0..iterations {
        let (code_a, code_l, code_b) = (draw(), draw(), draw());

        let t = Probe::start();
        let item = store
            .find_by_barcode(&code_a, MAIN_LOCATION)?
            .ok_or("missing")?;
        cart.add(item.to_product_ref(), quantity(item.by_weight))?;
        black_box(cart.totals()?);
        scan.push(t.elapsed());
        cart.clone_from(&base);

        let t = Probe::start();
        black_box(
            store
                .find_by_barcode(&code_l, MAIN_LOCATION)?
                .ok_or("missing")?,
        );
        lookup.push(t.elapsed());

        let t = Probe::start();
        let v: String = store
            .connection()
            .prepare_cached("SELECT variant_id FROM barcode WHERE code = ?1")?
            .query_row([&code_b], |r| r.get(0))?;
        black_box(v);
        bare.push(t.elapsed());
    }
    let (scan, lookup, bare) = (stats(scan), stats(lookup), stats(bare));
    println!();
    show("(a) scan → line added (lookup + Cart::add + totals)", &scan);
    show("    of which find_by_barcode alone", &lookup);
    show(
        "(b) bare SELECT variant_id FROM barcode WHERE code=?",
        &bare,
    );
    println!(
        "    ratio a/b: p50 {:.1}×, p99 {:.1}×",
        scan.p50.as_secs_f64() / bare.p50.as_secs_f64(),
        scan.p99.as_secs_f64() / bare.p99.as_secs_f64()
    );

    // (c) product search.
    let latin = [
        "mil", "egg", "app", "ric", "oil", "yog", "tea", "cof", "sug", "cho", "bee", "win", "sha",
        "pen", "ham", "che", "lec", "pan", "agu", "caf", "vin", "que", "zum", "Sol",
    ];
    let japanese = [
        "ヨーグ",
        "チョコ",
        "コーヒ",
        "ミネラ",
        "オリー",
        "乳パッ",
        "低脂肪",
        "食パン",
        "じゃが",
        "ボール",
        "シャン",
        "キッチ",
        "地元産",
        "プレミ",
        "ワイン",
        "ビール",
        "オレン",
        "日本酒",
    ];
    let japanese2 = [
        "牛乳", "緑茶", "砂糖", "醤油", "乾電", "定番", "新鮮", "厳選",
    ];
    let run =
        |queries: &[&str], lang: &str| -> Result<(Stats, usize), Box<dyn std::error::Error>> {
            let mut v = Vec::new();
            let mut found = 0;
            for round in 0..20 {
                for q in queries {
                    let t = Probe::start();
                    let hits = store.search(q, lang, MAIN_LOCATION, 20)?;
                    v.push(t.elapsed());
                    if round == 0 {
                        found += hits.len();
                    }
                }
            }
            Ok((stats(v), found))
        };
    let (s_latin, f_latin) = run(&latin, "en")?;
    let (s_ja, f_ja) = run(&japanese, "ja")?;
    let (s_ja2, f_ja2) = run(&japanese2, "ja")?;
    println!();
    show("(c) search, 3-character Latin queries (limit 20)", &s_latin);
    println!(
        "    {} queries, {:.1} results each on average",
        latin.len(),
        f_latin as f64 / latin.len() as f64
    );
    show("(c) search, 3-character Japanese queries (limit 20)", &s_ja);
    println!(
        "    {} queries, {:.1} results each on average",
        japanese.len(),
        f_ja as f64 / japanese.len() as f64
    );
    show("(c) search, 2-character Japanese (prefix fallback)", &s_ja2);
    println!(
        "    {} queries, {:.1} results each on average",
        japanese2.len(),
        f_ja2 as f64 / japanese2.len() as f64
    );

    // (d) durable sale commit (WAL, synchronous=FULL), 3 lines, cash.
    let mut commit = Vec::new();
    let mut checkpoints = Vec::new();
    let series = format!("BENCH-{}", now.unix_timestamp());
    for _ in 0..500 {
        let mut c = Cart::new(settings.currency, settings.tax_policy);
        for _ in 0..3 {
            let code = demo_barcode(country, rng.gen_range(1..=n));
            let item = store
                .find_by_barcode(&code, MAIN_LOCATION)?
                .ok_or("missing")?;
            c.add(item.to_product_ref(), quantity(item.by_weight))?;
        }
        let total = c.totals()?.total;
        let t = Probe::start();
        store.commit_sale(&series, MAIN_LOCATION, |receipt| {
            c.complete(
                vec![Tender {
                    kind: TenderKind::Cash,
                    amount: Money::new(total.minor, total.currency),
                    reference: None,
                }],
                SaleContext {
                    id: uuid::Uuid::new_v4(),
                    receipt,
                    terminal_id: "BENCH".into(),
                    cashier: Cashier {
                        id: "u-ana".into(),
                        name: "Ana".into(),
                    },
                    at: OffsetDateTime::now_utc(),
                    cash_rounding: CashRounding::NONE,
                },
            )
        })?;
        commit.push(t.elapsed());
        // The register checkpoints while idle between customers (see Store::checkpoint);
        // here after every 25th sale.
        if commit.len() % 25 == 0 {
            let t = Probe::start();
            store.checkpoint()?;
            checkpoints.push(t.elapsed());
        }
    }
    println!();
    show(
        "(d) durable sale commit (3 lines, synchronous=FULL)",
        &stats(commit),
    );
    show(
        "    idle-time checkpoint every 25 sales (not in (d))",
        &stats(checkpoints),
    );
    println!("load average at end: {}", load_average());
    Ok(())
}
