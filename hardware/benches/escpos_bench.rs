//! Receipt encoding benchmark (issue 3): time to render a 50-line receipt to ESC/POS bytes
//! (p50/p99), and bytes per receipt in English, Spanish and Japanese, as text and with the
//! raster fallback (a Japanese receipt on a printer without Kanji).
//!
//! Run: `cargo bench -p pos-hardware --bench escpos_bench`

use std::time::{Duration, Instant};

use pos_hardware::escpos::{
    FallbackFont, Language, PaperWidth, PrinterProfile, ReceiptCode, ReceiptCodeKind,
    ReceiptDocument, ReceiptLine, ReceiptRow, SYSTEM_FALLBACK_FONTS, decode, render,
};

/// A receipt with `n` item lines in `language`, every string as the app would format it.
fn receipt(language: Language, n: usize) -> ReceiptDocument {
    let (names, money): (&[&str], fn(i64) -> String) = match language {
        Language::En => (
            &[
                "Semi-skimmed milk 2 pints",
                "Sourdough loaf",
                "Colombian coffee beans, medium roast 1 kg",
                "Washing-up liquid",
            ],
            |p| format!("£{}.{:02}", p / 100, p % 100),
        ),
        Language::Es => (
            &[
                "Leche entera 1 l",
                "Piña",
                "Jamón serrano loncheado 150 g",
                "Vino tinto Rioja crianza año 2021",
            ],
            |p| format!("{},{:02} €", p / 100, p % 100),
        ),
        Language::Ja => (
            &[
                "牛乳 1L",
                "食パン 6枚切",
                "ビール 350ml",
                "台所用洗剤 詰め替え用 大容量パック",
            ],
            |p| format!("¥{p}"),
        ),
    };
    let lines = (0..n)
        .map(|i| ReceiptLine {
            name: names[i % names.len()].to_owned(),
            detail: (i % 3 == 0).then(|| format!("2 x {}", money(99 + i as i64))),
            amount: money(198 + 2 * i as i64),
            mark: (language == Language::Ja && i % 2 == 0).then(|| "※".to_owned()),
            adjustments: if i % 10 == 5 {
                vec![("-10%".to_owned(), format!("-{}", money(20)))]
            } else {
                vec![]
            },
        })
        .collect();
    ReceiptDocument {
        paper: PaperWidth::Mm80,
        language,
        header: match language {
            Language::Ja => vec![
                "スーパーさくら".into(),
                "東京都千代田区神田1-2-3".into(),
                "登録番号 T1234567890123".into(),
            ],
            _ => vec![
                "Ultramarinos La Peña".into(),
                "C/ Mayor 12, 28013 Madrid".into(),
                "NIF B12345678".into(),
            ],
        },
        title: Some(match language {
            Language::Ja => "領収書".into(),
            Language::Es => "Factura simplificada".into(),
            Language::En => "Receipt".into(),
        }),
        meta: vec![
            ("No.".into(), "T01-2026-000123".into()),
            ("Date".into(), "22/11/2026 14:05".into()),
        ],
        lines,
        totals: vec![
            ReceiptRow::new("Base 21%", money(1904)),
            ReceiptRow::new("IVA 21%", money(400)),
            ReceiptRow::emphasized("TOTAL", money(2304)),
        ],
        tenders: vec![
            ReceiptRow::new("Efectivo", money(5000)),
            ReceiptRow::new("Cambio", money(2696)),
        ],
        payment_slips: vec![],
        notes: if language == Language::Ja {
            vec!["※は軽減税率対象".into()]
        } else {
            vec![]
        },
        code: Some(ReceiptCode {
            kind: ReceiptCodeKind::Qr,
            data: "T01-2026-000123".into(),
        }),
        footer: vec![match language {
            Language::Ja => "ご来店ありがとうございました".into(),
            Language::Es => "¡Gracias por su visita!".into(),
            Language::En => "Thank you for shopping with us".into(),
        }],
        logo: None,
        open_drawer: true,
        cut: true,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn time_render(
    doc: &ReceiptDocument,
    profile: &PrinterProfile,
    runs: usize,
) -> (Duration, Duration) {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let bytes = render(doc, profile).expect("renders");
        samples.push(start.elapsed());
        std::hint::black_box(bytes);
    }
    samples.sort();
    (percentile(&samples, 0.50), percentile(&samples, 0.99))
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let font_path = SYSTEM_FALLBACK_FONTS
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("a fallback font: install fonts-noto-cjk (scripts/install-deps.sh)");
    let font = FallbackFont::from_bytes(&std::fs::read(font_path).unwrap(), 0).unwrap();
    let western = PrinterProfile::western(PaperWidth::Mm80);
    let japanese = PrinterProfile::japanese(PaperWidth::Mm80);
    let western_raster = western.clone().with_fallback_font(font);

    println!("Receipt encoding, 50 item lines, 80 mm paper (render → ESC/POS bytes)");
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>8}",
        "case", "p50", "p99", "bytes", "images"
    );
    let cases: [(&str, Language, &PrinterProfile, usize); 4] = [
        ("en, text (PC858)", Language::En, &western, 2000),
        ("es, text (PC858)", Language::Es, &western, 2000),
        (
            "ja, text (Shift_JIS Kanji mode)",
            Language::Ja,
            &japanese,
            2000,
        ),
        (
            "ja, raster fallback (no Kanji)",
            Language::Ja,
            &western_raster,
            100,
        ),
    ];
    for (name, language, profile, runs) in cases {
        let doc = receipt(language, 50);
        let bytes = render(&doc, profile).expect("renders");
        let trace = decode(&bytes);
        assert!(trace.is_clean(), "{name}: {:?}", trace.issues);
        let (p50, p99) = time_render(&doc, profile, runs);
        println!(
            "{name:<34} {:>7.1}µs {:>7.1}µs {:>9} {:>8}",
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6,
            bytes.len(),
            trace.images().len()
        );
    }
    let doc = receipt(Language::Es, 50);
    let bytes = render(&doc, &western).unwrap();
    let mut samples: Vec<Duration> = (0..2000)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(decode(&bytes).text(PaperWidth::Mm80));
            start.elapsed()
        })
        .collect();
    samples.sort();
    println!(
        "{:<34} {:>7.1}µs {:>7.1}µs",
        "decode es → text (preview)",
        percentile(&samples, 0.5).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6
    );
}
