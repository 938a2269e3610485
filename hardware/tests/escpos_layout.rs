//! Receipt layout properties over many generated receipts: whatever the item names (English,
//! Spanish, Japanese, long or short), on 58 and 80 mm paper the printer never wraps a row we
//! laid out, every amount sits flush right, and every character of every name reaches the
//! paper in order.

use pos_hardware::escpos::{
    CodePage, Language, PaperWidth, PrinterProfile, ReceiptDocument, ReceiptLine, ReceiptRow,
    char_columns, decode, receipt::wrap, render,
};
use proptest::prelude::*;

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9]{1,12}",
        "[a-zñáéíóúü¿¡]{1,10}",
        "[牛乳食パンビール洗剤大容量詰め替え用ー。ッ]{1,9}",
        // A very long word that has to be broken.
        "[a-z]{30,45}",
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(word(), 1..6).prop_map(|w| w.join(" "))
}

fn amount() -> impl Strategy<Value = String> {
    (0i64..10_000_000).prop_map(|c| format!("{},{:02} €", c / 100, c % 100))
}

fn document(paper: PaperWidth, items: &[(String, String)]) -> ReceiptDocument {
    ReceiptDocument {
        paper,
        language: Language::Ja,
        header: vec!["Tienda".into()],
        title: None,
        meta: vec![],
        lines: items
            .iter()
            .map(|(name, amount)| ReceiptLine {
                name: name.clone(),
                amount: amount.clone(),
                ..ReceiptLine::default()
            })
            .collect(),
        totals: vec![ReceiptRow::emphasized("TOTAL", "1,00 €")],
        tenders: vec![],
        payment_slips: vec![],
        notes: vec![],
        code: None,
        footer: vec![],
        logo: None,
        open_drawer: false,
        cut: true,
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn rows_fit_and_amounts_are_flush_right(
        items in prop::collection::vec((name(), amount()), 1..8),
        wide in any::<bool>(),
    ) {
        let paper = if wide { PaperWidth::Mm80 } else { PaperWidth::Mm58 };
        // A printer with both PC858 (for €) and Kanji mode.
        let profile = PrinterProfile {
            code_pages: vec![CodePage::Pc858, CodePage::Pc437],
            ..PrinterProfile::japanese(paper)
        };
        let bytes = render(&document(paper, &items), &profile).unwrap();
        let trace = decode(&bytes);
        prop_assert!(trace.is_clean(), "{:?}", trace.issues);
        let lines = trace.lines(paper);
        let width = |s: &str| s.chars().map(|c| char_columns(c, &profile)).sum::<usize>();
        for (name, amount) in &items {
            // The first line of the item ends with its amount at the paper edge.
            let row = lines.iter().find(|l| l.ends_with(&format!(" {amount}")));
            prop_assert!(row.is_some(), "amount {amount} not found in {lines:#?}");
            prop_assert_eq!(width(row.unwrap()), paper.columns());
            // Every character of the name is printed, in order.
            let printed: String = lines.concat().chars().filter(|c| *c != ' ').collect();
            let wanted: String = name.chars().filter(|c| *c != ' ').collect();
            prop_assert!(printed.contains(&wanted) || {
                // The name may be split across lines around its amount: check the order.
                let mut rest = printed.as_str();
                wanted.chars().all(|c| match rest.find(c) {
                    Some(i) => { rest = &rest[i + c.len_utf8()..]; true }
                    None => false,
                })
            }, "{name:?} not printed in {lines:#?}");
        }
        for line in &lines {
            prop_assert!(width(line) <= paper.columns(), "too wide: {line:?}");
        }
    }

    #[test]
    fn wrap_never_exceeds_the_width_and_keeps_every_character(
        text in name(),
        width in 4usize..48,
        japanese in any::<bool>(),
    ) {
        let language = if japanese { Language::Ja } else { Language::Es };
        let profile = PrinterProfile::japanese(PaperWidth::Mm80);
        let cols = |s: &str| s.chars().map(|c| char_columns(c, &profile)).sum::<usize>();
        let lines = wrap(&text, width, language, cols);
        for line in &lines {
            prop_assert!(cols(line) <= width, "{line:?} wider than {width}");
        }
        let joined: String = lines.concat().chars().filter(|c| *c != ' ').collect();
        let wanted: String = text.chars().filter(|c| *c != ' ').collect();
        prop_assert_eq!(joined, wanted);
    }
}

#[test]
fn japanese_lines_never_start_with_a_closing_mark_or_small_kana() {
    let profile = PrinterProfile::japanese(PaperWidth::Mm58);
    let cols = |s: &str| s.chars().map(|c| char_columns(c, &profile)).sum::<usize>();
    // Five wide characters fit in 10 columns; "ー" would start the second line.
    assert_eq!(
        wrap("あいうえおー", 10, Language::Ja, cols),
        ["あいうえ", "おー"]
    );
    assert_eq!(
        wrap("ありがとうございます。", 10, Language::Ja, cols),
        ["ありがとう", "ございま", "す。"]
    );
    // Latin words are not split when they fit on the next line.
    assert_eq!(
        wrap("登録番号 T1234567890123", 20, Language::Ja, cols),
        ["登録番号", "T1234567890123"]
    );
}
