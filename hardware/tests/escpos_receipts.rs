//! Golden receipts in English, Spanish and Japanese on 58 mm and 80 mm paper: the exact bytes
//! are pinned in `tests/golden/*.bin`, and the same bytes decoded back to what the customer
//! reads are pinned in `tests/golden/*.txt` and spot-checked here.
//!
//! Regenerate with `UPDATE_GOLDEN=1 cargo test -p pos-hardware --test escpos_receipts`, then
//! read the `.txt` files (and the PNGs written next to them) before committing.

use std::path::PathBuf;

use pos_hardware::escpos::{
    Bitmap, Command, FallbackFont, Language, PaperWidth, PaymentSlip, PrinterProfile, ReceiptCode,
    ReceiptCodeKind, ReceiptDocument, ReceiptLine, ReceiptRow, SYSTEM_FALLBACK_FONTS, Symbology,
    decode, render,
};

fn line(name: &str, detail: Option<&str>, amount: &str) -> ReceiptLine {
    ReceiptLine {
        name: name.into(),
        detail: detail.map(Into::into),
        amount: amount.into(),
        mark: None,
        adjustments: vec![],
    }
}

fn logo() -> Bitmap {
    // A 48×16 dot shop sign: a frame with a bar across the middle.
    let mut rows = vec![];
    for y in 0..16 {
        let row: String = (0..48)
            .map(|x| {
                if y == 0 || y == 15 || x == 0 || x == 47 || (6..10).contains(&y) && x % 4 != 3 {
                    '#'
                } else {
                    '.'
                }
            })
            .collect();
        rows.push(row);
    }
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    Bitmap::from_ascii_art(&refs)
}

fn english(paper: PaperWidth) -> ReceiptDocument {
    ReceiptDocument {
        paper,
        language: Language::En,
        header: vec![
            "Corner Grocer".into(),
            "12 High Street, Oxford OX1 4AB".into(),
            "VAT No. GB 123 4567 89".into(),
        ],
        title: Some("Receipt".into()),
        meta: vec![
            ("Receipt no.".into(), "T01-000457".into()),
            ("Date".into(), "22/11/2026 14:05".into()),
            ("Cashier".into(), "Sam".into()),
            ("Till".into(), "T01".into()),
        ],
        lines: vec![
            line("Semi-skimmed milk 2 pints", None, "£1.45"),
            line("Sourdough loaf", None, "£3.20"),
            line("Bananas", Some("0.845 kg x £0.96/kg"), "£0.81"),
            line(
                "Colombian single origin coffee beans, medium roast 1 kg",
                None,
                "£14.99",
            ),
            line("Washing-up liquid", None, "£1.25"),
            ReceiptLine {
                adjustments: vec![("Multibuy saving".into(), "-£0.50".into())],
                ..line("Birthday card", None, "£2.99")
            },
        ],
        totals: vec![
            ReceiptRow::new("Subtotal", "£24.19"),
            ReceiptRow::new("VAT 20% on £3.74", "£0.62"),
            ReceiptRow::new("VAT 0% on £20.45", "£0.00"),
            ReceiptRow::emphasized("TOTAL", "£24.19"),
        ],
        tenders: vec![
            ReceiptRow::new("Cash", "£30.00"),
            ReceiptRow::new("Change", "£5.81"),
        ],
        payment_slips: vec![],
        notes: vec![],
        code: Some(ReceiptCode {
            kind: ReceiptCodeKind::Code128,
            data: "T01-000457".into(),
        }),
        footer: vec!["Thank you for shopping with us".into()],
        logo: Some(logo()),
        open_drawer: true,
        cut: true,
    }
}

fn spanish(paper: PaperWidth) -> ReceiptDocument {
    ReceiptDocument {
        paper,
        language: Language::Es,
        header: vec![
            "Ultramarinos La Peña".into(),
            "C/ Mayor 12, 28013 Madrid".into(),
            "NIF B12345678".into(),
        ],
        title: Some("Factura simplificada".into()),
        meta: vec![
            ("Nº factura".into(), "T01-2026-000123".into()),
            ("Fecha".into(), "22/11/2026 14:05".into()),
            ("Cajero".into(), "Ana".into()),
            ("Terminal".into(), "T01".into()),
        ],
        lines: vec![
            line("Pan de barra", Some("2 x 0,99 €"), "1,98 €"),
            line("Leche entera 1 l", Some("6 x 0,89 €"), "5,34 €"),
            line("Piña", Some("1,234 kg x 2,49 €/kg"), "3,07 €"),
            line("Jamón serrano loncheado 150 g", None, "3,95 €"),
            ReceiptLine {
                adjustments: vec![("Descuento 10%".into(), "-0,75 €".into())],
                ..line("Vino tinto Rioja crianza año 2021", None, "7,50 €")
            },
            line("Jabón de manos", None, "1,95 €"),
        ],
        totals: vec![
            ReceiptRow::new("Base imponible 4%", "9,99 €"),
            ReceiptRow::new("IVA 4%", "0,40 €"),
            ReceiptRow::new("Base imponible 10%", "3,59 €"),
            ReceiptRow::new("IVA 10%", "0,36 €"),
            ReceiptRow::new("Base imponible 21%", "7,19 €"),
            ReceiptRow::new("IVA 21%", "1,51 €"),
            ReceiptRow::emphasized("TOTAL", "23,04 €"),
        ],
        tenders: vec![
            ReceiptRow::new("Tarjeta ************1234", "20,00 €"),
            ReceiptRow::new("Efectivo", "5,00 €"),
            ReceiptRow::new("Cambio", "1,96 €"),
        ],
        payment_slips: vec![PaymentSlip {
            heading: "Comprobante del datáfono".into(),
            lines: vec![
                "COPIA PARA EL CLIENTE".into(),
                "MASTERCARD".into(),
                // A terminal that prints the full number: it is masked on paper.
                "Tarj: 5413330089091234".into(),
                "Importe: 20,00 EUR".into(),
                "Terminal: 52523535".into(),
                "Op: 000001  Aut: 104736".into(),
                "VENTA AUTORIZADA".into(),
            ],
        }],
        notes: vec!["IVA incluido".into()],
        code: Some(ReceiptCode {
            kind: ReceiptCodeKind::Qr,
            data: "T01-2026-000123".into(),
        }),
        footer: vec![
            "¡Gracias por su visita!".into(),
            "¿Devoluciones? 30 días con este tique".into(),
        ],
        logo: None,
        open_drawer: true,
        cut: true,
    }
}

fn japanese(paper: PaperWidth) -> ReceiptDocument {
    let reduced = |name: &str, detail: Option<&str>, amount: &str| ReceiptLine {
        mark: Some("※".into()),
        ..line(name, detail, amount)
    };
    ReceiptDocument {
        paper,
        language: Language::Ja,
        header: vec![
            "スーパーさくら".into(),
            "東京都千代田区神田1-2-3".into(),
            "TEL 03-1234-5678".into(),
            "登録番号 T1234567890123".into(),
        ],
        title: Some("領収書".into()),
        meta: vec![
            ("日時".into(), "2026年11月22日 14:05".into()),
            ("レシートNo.".into(), "T01-000789".into()),
            ("担当".into(), "山田".into()),
        ],
        lines: vec![
            reduced("牛乳 1L", None, "¥248"),
            reduced("食パン 6枚切", Some("2 x ¥198"), "¥396"),
            line("ビール 350ml", None, "¥228"),
            line("台所用洗剤 詰め替え用 大容量パック", None, "¥398"),
        ],
        totals: vec![
            ReceiptRow::new("小計", "¥1,270"),
            ReceiptRow::new("10%対象", "¥626"),
            ReceiptRow::new("  内消費税", "¥56"),
            ReceiptRow::new("8%対象", "¥644"),
            ReceiptRow::new("  内消費税", "¥47"),
            ReceiptRow::emphasized("合計", "¥1,270"),
        ],
        tenders: vec![ReceiptRow::new("クレジット", "¥1,270")],
        payment_slips: vec![PaymentSlip {
            heading: "カード利用控え".into(),
            lines: vec![
                "お客様控え".into(),
                "Mastercard".into(),
                "会員番号 ************1234".into(),
                "金額 ¥1,270  一括払い".into(),
                "端末番号 52523535".into(),
                "伝票番号 0001  承認番号 104736".into(),
            ],
        }],
        notes: vec!["※は軽減税率対象".into()],
        code: Some(ReceiptCode {
            kind: ReceiptCodeKind::Qr,
            data: "T01-000789".into(),
        }),
        footer: vec!["ご来店ありがとうございました".into()],
        logo: None,
        open_drawer: false,
        cut: true,
    }
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Renders, decodes, and compares bytes and text with the golden files. Returns the text.
fn check_golden(name: &str, doc: &ReceiptDocument, profile: &PrinterProfile) -> String {
    let bytes = render(doc, profile).expect("receipt renders");
    let trace = decode(&bytes);
    assert!(
        trace.is_clean(),
        "{name}: the decoder found problems: {:#?}",
        trace.issues
    );
    let text = trace.text(doc.paper) + "\n";
    let bin_path = golden_dir().join(format!("{name}.bin"));
    let txt_path = golden_dir().join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&bin_path, &bytes).unwrap();
        std::fs::write(&txt_path, &text).unwrap();
        for (i, image) in trace.images().iter().enumerate() {
            let png = golden_dir().join(format!("{name}.image{}.png", i + 1));
            std::fs::write(png, image.to_png().unwrap()).unwrap();
        }
    }
    let golden_bytes = std::fs::read(&bin_path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", bin_path.display()));
    let golden_text = std::fs::read_to_string(&txt_path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", txt_path.display()));
    assert_eq!(text, golden_text, "{name}: decoded text changed");
    assert!(
        bytes == golden_bytes,
        "{name}: bytes changed ({} now, {} golden); first difference at byte {:?}",
        bytes.len(),
        golden_bytes.len(),
        bytes.iter().zip(&golden_bytes).position(|(a, b)| a != b)
    );
    // Every printed line fits the paper.
    for l in text.lines() {
        let cols = l
            .chars()
            .map(|c| pos_hardware::escpos::char_columns(c, profile))
            .sum::<usize>();
        assert!(cols <= doc.paper.columns(), "{name}: line too wide: {l:?}");
    }
    text
}

fn has_line(text: &str, expected: &str) -> bool {
    text.lines().any(|l| l == expected)
}

#[track_caller]
fn assert_line(text: &str, expected: &str) {
    assert!(
        has_line(text, expected),
        "missing line {expected:?} in:\n{text}"
    );
}

#[test]
fn english_receipt_80mm() {
    let text = check_golden(
        "receipt_en_80",
        &english(PaperWidth::Mm80),
        &PrinterProfile::western(PaperWidth::Mm80),
    );
    assert!(text.contains("[image 48x16]"), "the logo is printed");
    assert_line(&text, "Semi-skimmed milk 2 pints                  £1.45");
    assert_line(&text, "  0.845 kg x £0.96/kg");
    assert_line(&text, "  Multibuy saving                         -£0.50");
    assert_line(&text, "TOTAL             £24.19");
    assert_line(&text, "Change                                     £5.81");
    assert!(text.contains("[CODE128: T01-000457]"));
    assert!(text.ends_with("--- cut ---\n"));
}

#[test]
fn english_receipt_58mm() {
    let text = check_golden(
        "receipt_en_58",
        &english(PaperWidth::Mm58),
        &PrinterProfile::western(PaperWidth::Mm58),
    );
    // The long coffee name wraps left of its amount.
    assert_line(&text, "Colombian single origin   £14.99");
    assert_line(&text, "TOTAL     £24.19");
    assert!(text.contains("[CODE128: T01-000457]"));
}

#[test]
fn spanish_receipt_80mm() {
    let text = check_golden(
        "receipt_es_80",
        &spanish(PaperWidth::Mm80),
        &PrinterProfile::western(PaperWidth::Mm80),
    );
    assert_line(&text, "    Ultramarinos La Peña");
    assert_line(&text, "              Factura simplificada");
    assert_line(&text, "Nº factura                       T01-2026-000123");
    assert_line(&text, "Piña                                      3,07 €");
    assert_line(&text, "  1,234 kg x 2,49 €/kg");
    assert_line(&text, "Jamón serrano loncheado 150 g             3,95 €");
    assert_line(&text, "  Descuento 10%                          -0,75 €");
    assert_line(&text, "IVA 21%                                   1,51 €");
    assert_line(&text, "TOTAL            23,04 €");
    assert_line(&text, "Tarjeta ************1234                 20,00 €");
    assert_line(&text, "Cambio                                    1,96 €");
    // The terminal's slip after the tenders, under a heading in the store's language, with
    // the card number masked even though the terminal sent it in full.
    assert_line(&text, "            Comprobante del datáfono");
    assert_line(&text, "Tarj: ************1234");
    assert_line(&text, "Op: 000001  Aut: 104736");
    assert!(!text.contains("5413330089091234"));
    assert!(text.find("Cambio").unwrap() < text.find("Comprobante del datáfono").unwrap());
    assert_line(&text, "            ¡Gracias por su visita!");
    assert!(text.contains("[QR: T01-2026-000123]"));
    // € goes out as PC858 byte 0xD5 after ESC t 19.
    let bytes = render(
        &spanish(PaperWidth::Mm80),
        &PrinterProfile::western(PaperWidth::Mm80),
    )
    .unwrap();
    assert!(bytes.windows(3).any(|w| w == [0x1B, b't', 19]));
    assert!(bytes.contains(&0xD5));
    // The drawer opens (both pulse times) and the cut after it is still there.
    let commands: Vec<Command> = decode(&bytes).commands().cloned().collect();
    let kick = commands
        .iter()
        .position(|c| {
            matches!(
                c,
                Command::DrawerPulse {
                    pin: 0,
                    on_2ms: 25,
                    off_2ms: 250
                }
            )
        })
        .expect("drawer kick");
    let cut = commands
        .iter()
        .position(|c| matches!(c, Command::Cut { partial: true, .. }))
        .expect("cut");
    assert!(kick < cut);
    // The only '?' on paper is the one the footer asks.
    assert_eq!(text.matches('?').count(), 1, "no substitute characters");
    assert_line(&text, "     ¿Devoluciones? 30 días con este tique");
}

#[test]
fn spanish_receipt_58mm() {
    let text = check_golden(
        "receipt_es_58",
        &spanish(PaperWidth::Mm58),
        &PrinterProfile::western(PaperWidth::Mm58),
    );
    assert_line(&text, "      Ultramarinos La Peña");
    assert_line(&text, "Jamón serrano loncheado   3,95 €");
    assert_line(&text, "150 g");
    assert_line(&text, "TOTAL    23,04 €");
    assert!(text.contains("[QR: T01-2026-000123]"));
}

#[test]
fn spanish_receipt_on_a_wpc1252_printer() {
    // A printer with only WPC1252: € is byte 0x80 after ESC t 16; the customer reads the same.
    let profile = PrinterProfile {
        code_pages: vec![pos_hardware::escpos::CodePage::Wpc1252],
        ..PrinterProfile::western(PaperWidth::Mm80)
    };
    let bytes = render(&spanish(PaperWidth::Mm80), &profile).unwrap();
    assert!(bytes.windows(3).any(|w| w == [0x1B, b't', 16]));
    assert!(!bytes.windows(3).any(|w| w == [0x1B, b't', 19]));
    let trace = decode(&bytes);
    assert!(trace.is_clean(), "{:#?}", trace.issues);
    let golden = std::fs::read_to_string(golden_dir().join("receipt_es_80.txt")).unwrap();
    assert_eq!(trace.text(PaperWidth::Mm80) + "\n", golden);
}

#[test]
fn japanese_receipt_80mm() {
    let text = check_golden(
        "receipt_ja_80",
        &japanese(PaperWidth::Mm80),
        &PrinterProfile::japanese(PaperWidth::Mm80),
    );
    assert_line(&text, "          スーパーさくら");
    assert_line(&text, "            登録番号 T1234567890123");
    assert_line(&text, "※牛乳 1L                                   ¥248");
    assert_line(&text, "  2 x ¥198");
    assert_line(&text, "8%対象                                      ¥644");
    assert_line(&text, "  内消費税                                   ¥47");
    assert_line(&text, "  内消費税                                   ¥56");
    assert_line(&text, "合計              ¥1,270");
    assert_line(&text, "※は軽減税率対象");
    assert_line(&text, "                 カード利用控え");
    assert_line(&text, "会員番号 ************1234");
    assert_line(&text, "伝票番号 0001  承認番号 104736");
    assert!(text.contains("[QR: T01-000789]"));
    let bytes = render(
        &japanese(PaperWidth::Mm80),
        &PrinterProfile::japanese(PaperWidth::Mm80),
    )
    .unwrap();
    // Shift_JIS Kanji mode: FS C 1, FS & … FS .; ※ is 81 A6.
    assert!(bytes.windows(3).any(|w| w == [0x1C, b'C', 1]));
    assert!(bytes.windows(2).any(|w| w == [0x1C, b'&']));
    assert!(bytes.windows(2).any(|w| w == [0x81, 0xA6]));
}

#[test]
fn japanese_receipt_58mm() {
    let text = check_golden(
        "receipt_ja_58",
        &japanese(PaperWidth::Mm58),
        &PrinterProfile::japanese(PaperWidth::Mm58),
    );
    assert_line(&text, "    登録番号 T1234567890123");
    // A long name wraps between characters, two columns per Kanji, amount on the first line.
    assert_line(&text, "台所用洗剤 詰め替え用 大容  ¥398");
    assert_line(&text, "量パック");
    assert_line(&text, "合計      ¥1,270");
}

#[test]
fn every_golden_receipt_keeps_its_qr_or_barcode_after_the_lines() {
    // The receipt number is printed as a code the returns screen can scan.
    for (doc, profile) in [
        (
            english(PaperWidth::Mm80),
            PrinterProfile::western(PaperWidth::Mm80),
        ),
        (
            spanish(PaperWidth::Mm58),
            PrinterProfile::western(PaperWidth::Mm58),
        ),
        (
            japanese(PaperWidth::Mm58),
            PrinterProfile::japanese(PaperWidth::Mm58),
        ),
    ] {
        let trace = decode(&render(&doc, &profile).unwrap());
        let code = doc.code.as_ref().unwrap();
        let found = trace.commands().any(|c| match c {
            Command::QrPrint { model, data } => *model == 50 && data == code.data.as_bytes(),
            Command::Barcode {
                symbology: Symbology::Code128,
                data,
            } => *data == code.data,
            _ => false,
        });
        assert!(found, "{:?}: receipt number code missing", doc.language);
    }
}

fn system_font() -> FallbackFont {
    let path = SYSTEM_FALLBACK_FONTS
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or_else(|| {
            panic!(
                "no fallback font found ({SYSTEM_FALLBACK_FONTS:?}); install fonts-noto-cjk \
                 (scripts/install-deps.sh)"
            )
        });
    FallbackFont::from_bytes(&std::fs::read(path).unwrap(), 0).unwrap()
}

#[test]
fn japanese_receipt_on_a_western_printer_prints_japanese_lines_as_images() {
    let profile = PrinterProfile::western(PaperWidth::Mm80).with_fallback_font(system_font());
    let bytes = render(&japanese(PaperWidth::Mm80), &profile).unwrap();
    let trace = decode(&bytes);
    assert!(trace.is_clean(), "{:#?}", trace.issues);
    let text = trace.text(PaperWidth::Mm80);
    // Lines that are pure ASCII/PC858 still print as text…
    assert_line(&text, "                TEL 03-1234-5678");
    // …the Japanese ones as raster lines on the 12×24 grid, never as '?'.
    assert!(!text.contains('?'), "{text}");
    let images = trace.images();
    assert!(images.len() >= 15, "{} raster lines", images.len());
    let item = images
        .iter()
        .find(|i| i.width() == 576 && i.height() == 24)
        .expect("a full-width item row as a raster line");
    assert!(item.black_dots() > 100, "the raster line has ink");
    // The store name keeps its double height.
    assert!(images.iter().any(|i| i.height() == 48));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        for (i, image) in images.iter().enumerate().take(8) {
            let png = golden_dir().join(format!("fallback_ja_on_western_80.image{}.png", i + 1));
            std::fs::write(png, image.to_png().unwrap()).unwrap();
        }
    }
}

#[test]
fn japanese_receipt_on_a_western_printer_without_font_is_a_typed_error() {
    let profile = PrinterProfile::western(PaperWidth::Mm80);
    let err = render(&japanese(PaperWidth::Mm80), &profile).unwrap_err();
    assert!(
        matches!(
            err,
            pos_hardware::escpos::EncodeError::Unprintable {
                character: 'ス',
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn layout_wider_than_the_printer_is_refused() {
    let err = render(
        &spanish(PaperWidth::Mm80),
        &PrinterProfile::western(PaperWidth::Mm58),
    )
    .unwrap_err();
    assert!(matches!(
        err,
        pos_hardware::escpos::EncodeError::PaperTooWide { .. }
    ));
}

#[test]
fn preview_keeps_styles_images_and_codes_in_print_order() {
    use pos_hardware::escpos::{Align, PreviewLine};
    let doc = english(PaperWidth::Mm80);
    let bytes = render(&doc, &PrinterProfile::western(PaperWidth::Mm80)).unwrap();
    let preview = decode(&bytes).preview(PaperWidth::Mm80);
    // The logo comes first, centred, as the image itself.
    assert!(matches!(
        &preview[0],
        PreviewLine::Image { image, align: Align::Center } if *image == logo()
    ));
    // The store name is bold and double size; the TOTAL row too.
    let styled = |needle: &str| {
        preview
            .iter()
            .find_map(|l| match l {
                PreviewLine::Text {
                    text,
                    bold,
                    width,
                    height,
                    ..
                } if text.contains(needle) => Some((*bold, *width, *height)),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{needle} not in preview"))
    };
    assert_eq!(styled("Corner Grocer"), (true, 2, 2));
    assert_eq!(styled("TOTAL"), (true, 2, 2));
    assert_eq!(styled("Change"), (false, 1, 1));
    assert!(preview.iter().any(|l| matches!(
        l,
        PreviewLine::Barcode { symbology: Symbology::Code128, data, align: Align::Center }
            if data == "T01-000457"
    )));
    assert_eq!(preview.last(), Some(&PreviewLine::Cut));
}
