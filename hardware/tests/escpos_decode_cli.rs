//! The `escpos-decode` program prints what the decoder reads on paper, so tests in other
//! languages (the end-to-end test) can assert a captured print job as text.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_escpos-decode");

fn golden(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

#[test]
fn prints_the_golden_japanese_receipt_as_the_customer_reads_it() {
    let out = Command::new(BIN)
        .arg(golden("receipt_ja_80.bin"))
        .output()
        .expect("run escpos-decode");
    assert!(out.status.success());
    let expected = std::fs::read_to_string(golden("receipt_ja_80.txt")).unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim_end(),
        expected.trim_end()
    );
}

#[test]
fn a_missing_file_or_a_bad_flag_is_an_error_not_an_empty_receipt() {
    let missing = Command::new(BIN)
        .arg("/nonexistent/job.bin")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read"));
    let bad = Command::new(BIN)
        .args([
            golden("receipt_en_58.bin").to_str().unwrap(),
            "--paper",
            "72",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
