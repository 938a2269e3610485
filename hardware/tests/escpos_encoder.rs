//! The ESC/POS encoder, byte for byte, and the decoder's view of the same bytes.

use pos_hardware::escpos::{
    Align, Bitmap, CodePage, Command, DrawerPin, EncodeError, Encoder, FallbackFont, IssueKind,
    PaperWidth, PrinterProfile, QrErrorCorrection, SYSTEM_FALLBACK_FONTS, Status, StatusError,
    StatusKind, Symbology, Underline, decode, parse_status, status_request,
};

fn western() -> PrinterProfile {
    PrinterProfile::western(PaperWidth::Mm80)
}

fn bytes_of(profile: &PrinterProfile, build: impl FnOnce(&mut Encoder)) -> Vec<u8> {
    let mut enc = Encoder::new(profile);
    build(&mut enc);
    enc.finish()
}

#[test]
fn init_resets_and_selects_the_usa_character_set() {
    assert_eq!(
        bytes_of(&western(), |e| {
            e.init();
        }),
        [0x1B, 0x40, 0x1B, 0x52, 0x00]
    );
    // Japanese models start in Kanji mode: we switch it off explicitly.
    assert_eq!(
        bytes_of(&PrinterProfile::japanese(PaperWidth::Mm58), |e| {
            e.init();
        }),
        [0x1B, 0x40, 0x1B, 0x52, 0x00, 0x1C, 0x2E]
    );
}

#[test]
fn styles_and_alignment_bytes() {
    let bytes = bytes_of(&western(), |e| {
        e.bold(true).underline(Underline::Thick).invert(true);
        e.size(2, 3).unwrap();
        e.align(Align::Right)
            .align(Align::Center)
            .align(Align::Left);
        e.bold(false).underline(Underline::Off).invert(false);
    });
    assert_eq!(
        bytes,
        [
            0x1B, b'E', 1, 0x1B, b'-', 2, 0x1D, b'B', 1, 0x1D, b'!', 0x12, 0x1B, b'a', 2, 0x1B,
            b'a', 1, 0x1B, b'a', 0, 0x1B, b'E', 0, 0x1B, b'-', 0, 0x1D, b'B', 0
        ]
    );
    let profile = western();
    let mut enc = Encoder::new(&profile);
    assert_eq!(
        enc.size(9, 1).unwrap_err(),
        EncodeError::CharSize {
            width: 9,
            height: 1
        }
    );
}

#[test]
fn spanish_characters_in_pc858() {
    let bytes = bytes_of(&western(), |e| {
        e.text("ñáéíóúü¿¡€ºª").unwrap();
    });
    assert_eq!(
        bytes,
        [
            0x1B, b't', 19, 0xA4, 0xA0, 0x82, 0xA1, 0xA2, 0xA3, 0x81, 0xA8, 0xAD, 0xD5, 0xA7, 0xA6
        ]
    );
    let trace = decode(&bytes);
    assert!(trace.is_clean());
    assert_eq!(trace.text(PaperWidth::Mm80), "ñáéíóúü¿¡€ºª");
}

#[test]
fn euro_in_wpc1252_when_the_printer_has_no_pc858() {
    let profile = PrinterProfile {
        code_pages: vec![CodePage::Wpc1252],
        ..western()
    };
    let bytes = bytes_of(&profile, |e| {
        e.text("12,50 € año").unwrap();
    });
    assert_eq!(bytes, b"12,50 \x1Bt\x10\x80 a\xF1o");
}

#[test]
fn code_page_is_switched_only_when_needed() {
    // PC437 has ñ but not €: with PC437 preferred, ñ stays in PC437 and € switches to PC858.
    let profile = PrinterProfile {
        code_pages: vec![CodePage::Pc437, CodePage::Pc858],
        ..western()
    };
    let bytes = bytes_of(&profile, |e| {
        e.text("ñ€ñ").unwrap();
    });
    assert_eq!(bytes, [0x1B, b't', 0, 0xA4, 0x1B, b't', 19, 0xD5, 0xA4]);
    assert_eq!(decode(&bytes).text(PaperWidth::Mm80), "ñ€ñ");
}

#[test]
fn japanese_in_shift_jis_kanji_mode() {
    let profile = PrinterProfile::japanese(PaperWidth::Mm80);
    let bytes = bytes_of(&profile, |e| {
        e.text("※牛乳 1L ¥248").unwrap();
    });
    assert_eq!(
        bytes,
        [
            0x1C, b'C', 1, 0x1C, b'&', 0x81, 0xA6, 0x8B, 0x8D, 0x93, 0xFB, b' ', b'1', b'L', b' ',
            // ¥ is a single-byte character: Kanji off, PC437 0x9D.
            0x1C, b'.', 0x1B, b't', 0, 0x9D, b'2', b'4', b'8'
        ]
    );
    let trace = decode(&bytes);
    assert!(trace.is_clean(), "{:?}", trace.issues);
    assert_eq!(trace.text(PaperWidth::Mm80), "※牛乳 1L ¥248");
}

#[test]
fn unmappable_character_without_a_font_is_a_typed_error_and_appends_nothing() {
    let profile = western();
    let mut enc = Encoder::new(&profile);
    enc.init();
    let before = enc.bytes().to_vec();
    let err = enc.line("Té matcha 抹茶").unwrap_err();
    assert_eq!(
        err,
        EncodeError::Unprintable {
            text: "Té matcha 抹茶".into(),
            character: '抹'
        }
    );
    assert_eq!(enc.bytes(), before, "nothing half-printed");
    assert!(!enc.bytes().contains(&b'?'));
}

#[test]
fn unmappable_character_with_a_font_prints_the_line_as_an_image() {
    let path = SYSTEM_FALLBACK_FONTS
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("a fallback font: install fonts-noto-cjk (scripts/install-deps.sh)");
    let font = FallbackFont::from_bytes(&std::fs::read(path).unwrap(), 0).unwrap();
    let profile = western().with_fallback_font(font);
    let mut enc = Encoder::new(&profile);
    enc.line("Té matcha 抹茶     3,20 €").unwrap();
    enc.line("Total 3,20 €").unwrap();
    let bytes = enc.finish();
    let trace = decode(&bytes);
    assert!(trace.is_clean(), "{:?}", trace.issues);
    // The line is one raster image on the character grid: 25 columns (抹茶 take two each)
    // of 12 dots = 300 dots, rounded up to whole bytes.
    let images = trace.images();
    assert_eq!(images.len(), 1);
    assert_eq!((images[0].width(), images[0].height()), (304, 24));
    assert!(images[0].black_dots() > 200);
    // Ink in the cells of 抹 and 茶 (columns 10..14), i.e. the glyphs were drawn.
    let ink_in = |x0: u32, x1: u32| {
        (x0..x1)
            .flat_map(|x| (0..24).map(move |y| (x, y)))
            .filter(|&(x, y)| images[0].get(x, y))
            .count()
    };
    assert!(ink_in(120, 168) > 60);
    let lines = trace.lines(PaperWidth::Mm80);
    assert_eq!(lines, ["[image 304x24]", "Total 3,20 €"]);
    assert!(images[0].to_png().unwrap().starts_with(b"\x89PNG"));
}

#[test]
fn a_font_without_the_glyph_is_still_a_typed_error() {
    let dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    let data = std::fs::read(dejavu)
        .unwrap_or_else(|e| panic!("{dejavu}: {e}; install fonts-dejavu-core"));
    let profile = western().with_fallback_font(FallbackFont::from_bytes(&data, 0).unwrap());
    let err = Encoder::new(&profile).line("抹茶").unwrap_err();
    assert!(matches!(
        err,
        EncodeError::Unprintable {
            character: '抹',
            ..
        }
    ));
}

#[test]
fn control_characters_are_refused() {
    let profile = western();
    let err = Encoder::new(&profile).text("a\tb").unwrap_err();
    assert_eq!(err, EncodeError::ControlCharacter('\t'));
}

#[test]
fn drawer_kick_carries_both_times_and_the_cut_after_it_survives() {
    let profile = western();
    let bytes = bytes_of(&profile, |e| {
        e.open_drawer().cut(0);
    });
    assert_eq!(bytes, [0x1B, b'p', 0, 25, 250, 0x1D, b'V', 66, 0]);
    let trace = decode(&bytes);
    assert!(trace.is_clean());
    let commands: Vec<&Command> = trace.commands().collect();
    assert_eq!(
        commands,
        [
            &Command::DrawerPulse {
                pin: 0,
                on_2ms: 25,
                off_2ms: 250
            },
            &Command::Cut {
                partial: true,
                feed: Some(0)
            }
        ]
    );
    assert_eq!(trace.text(PaperWidth::Mm80), "--- cut ---");
    let pin5 = bytes_of(&profile, |e| {
        e.drawer_pulse(DrawerPin::Pin5, 50, 100);
    });
    assert_eq!(pin5, [0x1B, b'p', 1, 50, 100]);
}

#[test]
fn the_escpos_crate_kick_without_times_swallows_the_cut() {
    // What `escpos` 0.20 sends: ESC p 0 with no times, then the cut. The printer takes the
    // cut's first two bytes as t1 and t2: no cut, and "VB" … on paper.
    let trace = decode(&[0x1B, b'p', 0x00, 0x1D, b'V', 66, 0]);
    assert!(!trace.commands().any(|c| matches!(c, Command::Cut { .. })));
    assert!(!trace.text(PaperWidth::Mm80).contains("--- cut ---"));
}

#[test]
fn status_request_is_exactly_three_bytes() {
    assert_eq!(status_request(StatusKind::Printer), [0x10, 0x04, 1]);
    assert_eq!(status_request(StatusKind::OfflineCause), [0x10, 0x04, 2]);
    assert_eq!(status_request(StatusKind::ErrorCause), [0x10, 0x04, 3]);
    assert_eq!(status_request(StatusKind::PaperRoll), [0x10, 0x04, 4]);
}

#[test]
fn status_bytes_are_parsed_with_fixed_bits_checked() {
    // 0x12 = 0001 0010: online, drawer pin 3 low.
    assert_eq!(
        parse_status(StatusKind::Printer, 0x12),
        Ok(Status::Printer {
            offline: false,
            drawer_pin3_high: false,
            waiting_for_recovery: false,
            feed_button_pressed: false
        })
    );
    // 0x1E: offline, drawer pin 3 high.
    assert_eq!(
        parse_status(StatusKind::Printer, 0x1E),
        Ok(Status::Printer {
            offline: true,
            drawer_pin3_high: true,
            waiting_for_recovery: false,
            feed_button_pressed: false
        })
    );
    // Cover open (bit 2) and paper-end stop (bit 5).
    assert_eq!(
        parse_status(StatusKind::OfflineCause, 0x36),
        Ok(Status::OfflineCause {
            cover_open: true,
            paper_feed_button: false,
            paper_end_stop: true,
            error: false
        })
    );
    assert_eq!(
        parse_status(StatusKind::ErrorCause, 0x5A),
        Ok(Status::ErrorCause {
            autocutter: true,
            unrecoverable: false,
            auto_recoverable: true
        })
    );
    // Paper roll: 0x1E = near end; 0x72 = end; 0x7E = both.
    assert_eq!(
        parse_status(StatusKind::PaperRoll, 0x1E),
        Ok(Status::PaperRoll {
            near_end: true,
            end: false
        })
    );
    assert_eq!(
        parse_status(StatusKind::PaperRoll, 0x72),
        Ok(Status::PaperRoll {
            near_end: false,
            end: true
        })
    );
    assert_eq!(
        parse_status(StatusKind::PaperRoll, 0x12),
        Ok(Status::PaperRoll {
            near_end: false,
            end: false
        })
    );
}

#[test]
fn invalid_status_bytes_are_refused() {
    // 0xFF (floating line), 0x00, bit 0 set, bit 1 clear, bit 4 clear, bit 7 set.
    for byte in [0xFF, 0x00, 0x13, 0x10, 0x02, 0x92] {
        for kind in [
            StatusKind::Printer,
            StatusKind::OfflineCause,
            StatusKind::ErrorCause,
            StatusKind::PaperRoll,
        ] {
            assert_eq!(
                parse_status(kind, byte),
                Err(StatusError::InvalidByte { kind, byte }),
                "{byte:#04x} for {kind:?}"
            );
        }
    }
}

#[test]
fn ean13_with_a_wrong_check_digit_is_refused() {
    let profile = western();
    let mut enc = Encoder::new(&profile);
    let err = enc.ean13("4006381333932").unwrap_err();
    assert!(
        matches!(
            &err,
            EncodeError::InvalidEan13 {
                reason: pos_core::gtin::BarcodeError::CheckDigit {
                    expected: 1,
                    found: 2
                },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(enc.bytes().is_empty());
    assert!(matches!(
        enc.ean13("40063813").unwrap_err(),
        EncodeError::InvalidEan13 { .. }
    ));
    assert!(matches!(
        enc.ean13("400638133393A").unwrap_err(),
        EncodeError::InvalidEan13 { .. }
    ));
}

#[test]
fn ean13_bytes() {
    let bytes = bytes_of(&western(), |e| {
        e.ean13("4006381333931").unwrap();
    });
    let mut expected = vec![
        0x1D, b'H', 2, 0x1D, b'h', 80, 0x1D, b'w', 2, 0x1D, b'k', 67, 13,
    ];
    expected.extend_from_slice(b"4006381333931");
    assert_eq!(bytes, expected);
    let trace = decode(&bytes);
    assert!(trace.is_clean());
    assert_eq!(trace.text(PaperWidth::Mm80), "[EAN13: 4006381333931]");
    // The decoder checks the check digit too.
    let mut wrong = bytes.clone();
    *wrong.last_mut().unwrap() = b'2';
    assert!(
        decode(&wrong)
            .issues
            .iter()
            .any(|i| i.kind == IssueKind::InvalidBarcode)
    );
}

#[test]
fn code128_uses_code_set_b_or_c() {
    let bytes = bytes_of(&western(), |e| {
        e.code128("T01-{7}").unwrap();
    });
    let mut expected = vec![
        0x1D, b'H', 2, 0x1D, b'h', 80, 0x1D, b'w', 2, 0x1D, b'k', 73, 10,
    ];
    expected.extend_from_slice(b"{BT01-{{7}");
    assert_eq!(bytes, expected);
    assert_eq!(decode(&bytes).text(PaperWidth::Mm80), "[CODE128: T01-{7}]");

    let digits = bytes_of(&western(), |e| {
        e.code128("20261122").unwrap();
    });
    assert_eq!(
        &digits[9..],
        [0x1D, b'k', 73, 6, b'{', b'C', 20, 26, 11, 22]
    );
    let trace = decode(&digits);
    assert!(trace.is_clean());
    assert!(trace.commands().any(|c| *c
        == Command::Barcode {
            symbology: Symbology::Code128,
            data: "20261122".into()
        }));

    let profile = western();
    let mut enc = Encoder::new(&profile);
    assert!(matches!(
        enc.code128("").unwrap_err(),
        EncodeError::InvalidCode128 { .. }
    ));
    assert!(matches!(
        enc.code128("Peña").unwrap_err(),
        EncodeError::InvalidCode128 { .. }
    ));
    // 40 characters in code set B need 495 modules: too wide even at 1 dot on 58 mm (384).
    let narrow = PrinterProfile::western(PaperWidth::Mm58);
    let long = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789-AB";
    assert!(matches!(
        Encoder::new(&narrow).code128(long).unwrap_err(),
        EncodeError::BarcodeTooWide { .. }
    ));
}

#[test]
fn qr_is_model_2() {
    let bytes = bytes_of(&western(), |e| {
        e.qr("T01-000123", 6, QrErrorCorrection::M).unwrap();
    });
    let mut expected = vec![
        0x1D, b'(', b'k', 4, 0, 49, 65, 50, 0, // model 2
        0x1D, b'(', b'k', 3, 0, 49, 67, 6, // module size 6
        0x1D, b'(', b'k', 3, 0, 49, 69, 49, // error correction M
        0x1D, b'(', b'k', 13, 0, 49, 80, 48, // store 10 bytes
    ];
    expected.extend_from_slice(b"T01-000123");
    expected.extend_from_slice(&[0x1D, b'(', b'k', 3, 0, 49, 81, 48]); // print
    assert_eq!(bytes, expected);
    let trace = decode(&bytes);
    assert!(trace.is_clean());
    assert!(trace.commands().any(|c| *c
        == Command::QrPrint {
            model: 50,
            data: b"T01-000123".to_vec()
        }));
    assert_eq!(trace.text(PaperWidth::Mm80), "[QR: T01-000123]");
}

#[test]
fn qr_printed_as_model_1_is_flagged_by_the_decoder() {
    // Store and print without selecting model 2 (what the `escpos` crate does by default).
    let mut bytes = vec![0x1D, b'(', b'k', 5, 0, 49, 80, 48, b'A', b'B'];
    bytes.extend_from_slice(&[0x1D, b'(', b'k', 3, 0, 49, 81, 48]);
    let trace = decode(&bytes);
    assert!(
        trace
            .issues
            .iter()
            .any(|i| i.kind == IssueKind::QrNotModel2)
    );
}

#[test]
fn qr_limits() {
    let profile = western();
    let mut enc = Encoder::new(&profile);
    assert_eq!(
        enc.qr("", 6, QrErrorCorrection::L).unwrap_err(),
        EncodeError::QrDataLength(0)
    );
    assert_eq!(
        enc.qr("x", 17, QrErrorCorrection::L).unwrap_err(),
        EncodeError::QrModuleSize(17)
    );
}

#[test]
fn raster_image_bytes_and_png() {
    let logo = Bitmap::from_ascii_art(&["#.........", "..........", ".........#"]);
    let bytes = bytes_of(&western(), |e| {
        e.raster(&logo).unwrap();
    });
    // 10 dots wide → 2 bytes per row, 3 rows.
    assert_eq!(
        bytes,
        [
            0x1D, b'v', b'0', 0, 2, 0, 3, 0, 0x80, 0x00, 0x00, 0x00, 0x00, 0x40
        ]
    );
    let trace = decode(&bytes);
    let image = trace.images()[0].clone();
    assert_eq!((image.width(), image.height()), (16, 3));
    assert!(image.get(0, 0) && image.get(9, 2) && !image.get(1, 0));
    assert_eq!(trace.text(PaperWidth::Mm80), "[image 16x3]");
    // The PNG decodes back to the same dots.
    let png = image.to_png().unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (16, 3));
    assert_eq!(buf[0] & 0x80, 0, "top-left dot is black in the PNG");
    assert_ne!(buf[0] & 0x40, 0, "next dot is white");

    let too_wide = Bitmap::new(600, 10);
    assert!(matches!(
        Encoder::new(&western()).raster(&too_wide).unwrap_err(),
        EncodeError::ImageTooLarge { .. }
    ));
}

#[test]
fn feed_and_cut_bytes() {
    let bytes = bytes_of(&western(), |e| {
        e.text("x").unwrap();
        e.feed(3).cut(5);
    });
    assert_eq!(bytes, [b'x', 0x1B, b'd', 3, 0x1D, b'V', 66, 5]);
    assert_eq!(
        decode(&bytes).lines(PaperWidth::Mm58),
        ["x", "", "", "--- cut ---"]
    );
}

#[test]
fn decoder_aligns_and_wraps_like_the_printer() {
    let profile = PrinterProfile::western(PaperWidth::Mm58);
    let bytes = bytes_of(&profile, |e| {
        e.align(Align::Center).line("Hola").unwrap();
        e.align(Align::Right).line("fin").unwrap();
        e.align(Align::Left);
        e.line(&"a".repeat(40)).unwrap();
    });
    assert_eq!(
        decode(&bytes).lines(PaperWidth::Mm58),
        [
            "              Hola".to_string(),
            format!("{}fin", " ".repeat(29)),
            "a".repeat(32),
            "a".repeat(8),
        ]
    );
}

#[test]
fn decoder_flags_unknown_invalid_and_truncated_sequences() {
    let trace = decode(&[b'a', 0x1B, 0x99, b'b', 0x1B, b'a', 7, 0x07, 0x1D, b'!']);
    let kinds: Vec<IssueKind> = trace.issues.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [
            IssueKind::UnknownCommand,
            IssueKind::InvalidParameter,
            IssueKind::UnknownCommand,
            IssueKind::Truncated
        ]
    );
    assert_eq!(trace.issues[0].offset, 1);
    // The unknown bytes show where they are instead of vanishing.
    assert_eq!(trace.text(PaperWidth::Mm80), "a[? 1B 99]b[? 07]");
    // Non-ASCII text before any ESC t depends on the printer's setup: flagged.
    let trace = decode(&[0x1B, b'@', 0xA4]);
    assert_eq!(trace.issues[0].kind, IssueKind::CodePageNotSelected);
    // A barcode after text on the same line is ignored by the printer: flagged.
    let mut bytes = b"x".to_vec();
    bytes.extend_from_slice(&[0x1D, b'k', 73, 3, b'{', b'B', b'1']);
    assert!(
        decode(&bytes)
            .issues
            .iter()
            .any(|i| i.kind == IssueKind::NotAtLineStart)
    );
}

#[test]
fn every_byte_of_every_code_page_round_trips() {
    // The encoder's and the decoder's tables agree: each assigned byte decodes to a character
    // that encodes back to the same byte.
    for page in [CodePage::Pc437, CodePage::Pc858, CodePage::Wpc1252] {
        let mut assigned = 0;
        for b in 0x20..=0xFFu8 {
            if b == 0x7F {
                continue;
            }
            if let Some(c) = page.decode(b) {
                assigned += 1;
                assert_eq!(page.encode(c), Some(b), "{page:?} {b:#04x} {c:?}");
            }
        }
        let expected = if page == CodePage::Wpc1252 { 218 } else { 223 };
        assert_eq!(assigned, expected, "{page:?}");
    }
    assert_eq!(CodePage::Pc858.decode(0xD5), Some('€'));
    assert_eq!(CodePage::Pc437.encode('€'), None);
}
