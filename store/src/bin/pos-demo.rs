//! Fills a terminal database with demo data.
//!
//! `pos-demo --db PATH [--products N] [--country es|jp|us] [--seed S]`
//! (defaults: 300 products, es, seed 42). Running it again with the same arguments changes
//! nothing. Demo users: Ana (cashier, PIN 1234), Marta (manager, 9999), Admin (admin, 0000).

use pos_store::{Country, Store, demo};
use std::process::ExitCode;
use std::time::Instant;
use time::OffsetDateTime;

struct Args {
    db: String,
    products: usize,
    country: Country,
    seed: u64,
}

const USAGE: &str = "usage: pos-demo --db PATH [--products N] [--country es|jp|us] [--seed S]";

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut db = None;
    let mut products = 300;
    let mut country = Country::Es;
    let mut seed = 42;
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--db" => db = Some(value()?),
            "--products" => {
                products = value()?
                    .replace('_', "")
                    .parse()
                    .map_err(|e| format!("--products: {e}"))?
            }
            "--country" => {
                let v = value()?;
                country = Country::from_code(&v).ok_or(format!("--country: unknown {v:?}"))?
            }
            "--seed" => seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(Args {
        db: db.ok_or(USAGE)?,
        products,
        country,
        seed,
    })
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let result = Store::open(&args.db).and_then(|mut store| {
        demo::generate(
            &mut store,
            args.products,
            args.country,
            args.seed,
            OffsetDateTime::now_utc(),
        )
    });
    match result {
        Ok(summary) => {
            println!(
                "{}: {} products ({}), {} demo users added, in {:.1} s",
                args.db,
                summary.products,
                args.country.code(),
                summary.users_added,
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pos-demo: {e}");
            ExitCode::FAILURE
        }
    }
}
