//! Turns ESC/POS bytes back into the paper a customer reads, for tests written in other
//! languages (the end-to-end test captures what the app sent to a network printer) and for
//! looking at a captured print job by hand:
//!
//! ```text
//! cargo run -p pos-hardware --bin escpos-decode -- job.bin [--paper 58|80] [--issues]
//! ```
//!
//! Prints one line per printed line (see `Trace::lines`). With `--issues`, every problem the
//! decoder found (unknown commands, bytes no code page maps) follows, each line starting with
//! `ISSUE `. Exits 2 on a usage error, 1 when the file cannot be read.

use std::process::ExitCode;

use pos_hardware::escpos::PaperWidth;
use pos_hardware::escpos::decode::decode;

const USAGE: &str = "usage: escpos-decode FILE [--paper 58|80] [--issues]";

fn main() -> ExitCode {
    let mut file = None;
    let mut paper = PaperWidth::Mm80;
    let mut issues = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--paper" => match args.next().as_deref() {
                Some("58") => paper = PaperWidth::Mm58,
                Some("80") => paper = PaperWidth::Mm80,
                _ => return usage(),
            },
            "--issues" => issues = true,
            _ if file.is_none() && !a.starts_with("--") => file = Some(a),
            _ => return usage(),
        }
    }
    let Some(file) = file else { return usage() };
    let bytes = match std::fs::read(&file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("escpos-decode: cannot read {file}: {e}");
            return ExitCode::from(1);
        }
    };
    let trace = decode(&bytes);
    println!("{}", trace.text(paper));
    if issues {
        for i in &trace.issues {
            println!("ISSUE {i:?}");
        }
    }
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!("{USAGE}");
    ExitCode::from(2)
}
