//! What a receipt says, in the store's language: a completed sale plus the store's settings
//! become localized rows (LOCALE.md: Spain's factura simplificada, Japan's 適格簡易請求書).
//! The printer layer (pos-hardware's ESC/POS receipt) lays these rows out for the paper.

use crate::dto::ReceiptPreviewDto;
use crate::locale::{Lang, format_datetime, format_money, format_weight};
use pos_core::cart::Quantity;
use pos_core::sale::CompletedSale;
use pos_core::{Money, PriceMode, TenderKind};
use pos_hardware::escpos::EncodeError;
use pos_hardware::escpos::decode::decode;
use pos_hardware::escpos::profile::{PaperWidth, PrinterProfile};
use pos_hardware::escpos::receipt::{
    Language, PaymentSlip, ReceiptCode, ReceiptCodeKind, ReceiptDocument, ReceiptLine, ReceiptRow,
    render,
};
use pos_store::StoreSettings;

/// One row with a label on the left and an amount on the right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub label: String,
    pub amount: String,
    pub emphasis: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRow {
    pub name: String,
    /// "2 x 0,99 €", "1,234 kg x 2,49 €/kg"; None for a single unit.
    pub detail: Option<String>,
    pub amount: String,
    /// "※" on reduced-rate items in Japan.
    pub mark: Option<String>,
    pub adjustments: Vec<(String, String)>,
}

/// The localized content of a receipt, ready for layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptContent {
    pub lang: Lang,
    pub header: Vec<String>,
    pub title: Option<String>,
    pub meta: Vec<(String, String)>,
    pub items: Vec<ItemRow>,
    pub totals: Vec<Row>,
    pub tenders: Vec<Row>,
    pub notes: Vec<String>,
    /// Printed as a QR code / barcode: scanned later to find the sale for a return.
    pub code: String,
    pub footer: Vec<String>,
    /// The payment terminal's slip of each card payment (its own lines, masked card number
    /// only), printed after the tenders under a heading in the store's language.
    pub payment_slips: Vec<Vec<String>>,
}

/// The heading above the payment terminal's slip.
fn payment_slip_heading(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Card terminal slip",
        Lang::Es => "Comprobante del datáfono",
        Lang::Ja => "カード利用控え",
    }
}

struct Labels {
    title: &'static str,
    number: &'static str,
    date: &'static str,
    cashier: &'static str,
    terminal: &'static str,
    subtotal: &'static str,
    discount: &'static str,
    total: &'static str,
    change: &'static str,
    rounding: &'static str,
    thanks: &'static str,
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::Es => Labels {
            title: "FACTURA SIMPLIFICADA",
            number: "Nº factura",
            date: "Fecha",
            cashier: "Le atendió",
            terminal: "Caja",
            subtotal: "Subtotal",
            discount: "Descuento",
            total: "TOTAL",
            change: "Cambio",
            rounding: "Redondeo",
            thanks: "Gracias por su compra",
        },
        Lang::Ja => Labels {
            title: "領収書",
            number: "レシート番号",
            date: "日時",
            cashier: "担当",
            terminal: "レジ",
            subtotal: "小計",
            discount: "値引",
            total: "合計",
            change: "お釣り",
            rounding: "端数調整",
            thanks: "ご来店ありがとうございました",
        },
        Lang::En => Labels {
            title: "RECEIPT",
            number: "Receipt no.",
            date: "Date",
            cashier: "Served by",
            terminal: "Till",
            subtotal: "Subtotal",
            discount: "Discount",
            total: "TOTAL",
            change: "Change",
            rounding: "Rounding",
            thanks: "Thank you for shopping with us",
        },
    }
}

fn tender_label(k: TenderKind, lang: Lang) -> &'static str {
    match (lang, k) {
        (Lang::Es, TenderKind::Cash) => "Efectivo",
        (Lang::Es, TenderKind::Card) => "Tarjeta",
        (Lang::Es, TenderKind::GiftCard) => "Tarjeta regalo",
        (Lang::Es, TenderKind::StoreCredit) => "Vale",
        (Lang::Es, TenderKind::Account) => "A cuenta",
        (Lang::Ja, TenderKind::Cash) => "お預り",
        (Lang::Ja, TenderKind::Card) => "クレジット",
        (Lang::Ja, TenderKind::GiftCard) => "ギフトカード",
        (Lang::Ja, TenderKind::StoreCredit) => "ストアクレジット",
        (Lang::Ja, TenderKind::Account) => "売掛",
        (Lang::En, TenderKind::Cash) => "Cash",
        (Lang::En, TenderKind::Card) => "Card",
        (Lang::En, TenderKind::GiftCard) => "Gift card",
        (Lang::En, TenderKind::StoreCredit) => "Store credit",
        (Lang::En, TenderKind::Account) => "On account",
    }
}

/// "Customer" on a receipt.
fn customer_label(lang: Lang) -> &'static str {
    match lang {
        Lang::Es => "Cliente",
        Lang::Ja => "お客様",
        Lang::En => "Customer",
    }
}

/// A tender's label on the receipt: its kind, and for a gift card its masked number
/// ("Tarjeta regalo ****0017"), for store credit and accounts the customer's name (the tender's
/// reference is "<customer id> <name>").
fn tender_row_label(tn: &pos_core::Tender, lang: Lang) -> String {
    let kind = tender_label(tn.kind, lang);
    match (tn.kind, tn.reference.as_deref()) {
        (TenderKind::GiftCard, Some(masked)) => format!("{kind} {masked}"),
        (TenderKind::StoreCredit | TenderKind::Account, Some(r)) => match r.split_once(' ') {
            Some((_, name)) => format!("{kind} {name}"),
            None => kind.to_owned(),
        },
        _ => kind.to_owned(),
    }
}

/// The store's header on every printed document: name, address lines, and the tax id under
/// its local name (NIF, 登録番号).
pub(crate) fn store_header(settings: &StoreSettings, lang: Lang) -> Vec<String> {
    let mut header = vec![settings.name.clone()];
    header.extend(
        settings
            .address
            .lines()
            .map(str::to_owned)
            .filter(|s| !s.trim().is_empty()),
    );
    if !settings.tax_id.is_empty() {
        header.push(match lang {
            Lang::Es => format!("NIF {}", settings.tax_id),
            Lang::Ja => format!("登録番号 {}", settings.tax_id),
            Lang::En => format!("Tax ID {}", settings.tax_id),
        });
    }
    header
}

/// Builds the receipt's content from a completed sale, in the store's language.
pub fn content(sale: &CompletedSale, settings: &StoreSettings) -> ReceiptContent {
    let lang = Lang::parse(&settings.locale);
    let l = labels(lang);
    let m = |x: Money| format_money(x, lang);
    let header = store_header(settings, lang);
    let offset = crate::locale::utc_offset(settings, sale.at());
    let meta = vec![
        (l.number.to_owned(), sale.receipt().to_string()),
        (
            l.date.to_owned(),
            format_datetime(sale.at().to_offset(offset), lang),
        ),
        (l.terminal.to_owned(), sale.terminal_id().to_owned()),
        (l.cashier.to_owned(), sale.cashier().name.clone()),
    ];
    // The customer the sale was made for (stored_value.rs).
    let mut meta = meta;
    if let Some(c) = sale.customer() {
        meta.push((customer_label(lang).to_owned(), c.name.clone()));
    }
    let any_reduced = sale.lines().iter().any(|s| s.line.product.tax.reduced);
    let mark_reduced = lang == Lang::Ja || settings.country == pos_store::Country::Jp;
    let items = sale
        .lines()
        .iter()
        .map(|s| {
            let line = &s.line;
            let detail = match line.quantity {
                Quantity::Units(1) => None,
                Quantity::Units(n) => Some(format!("{n} x {}", m(line.unit_price))),
                Quantity::Grams(g) => Some(format!(
                    "{} x {}/kg",
                    format_weight(g, lang),
                    m(line.unit_price)
                )),
            };
            let mut adjustments = Vec::new();
            if !s.total.line_discount.is_zero() {
                adjustments.push((l.discount.to_owned(), m(-s.total.line_discount)));
            }
            ItemRow {
                name: line.product.name(lang.tag()).to_owned(),
                detail,
                amount: m(s.total.extended),
                mark: (mark_reduced && line.product.tax.reduced).then(|| "※".to_owned()),
                adjustments,
            }
        })
        .collect();
    let t = sale.totals();
    let mut totals = Vec::new();
    if !t.discounts.is_zero() {
        totals.push(Row {
            label: l.discount.into(),
            amount: m(-t.discounts),
            emphasis: false,
        });
    }
    totals.push(Row {
        label: l.subtotal.into(),
        amount: m(t.subtotal),
        emphasis: false,
    });
    let inclusive = sale.policy().price_mode == PriceMode::TaxInclusive;
    for tax in &t.taxes {
        let pct = tax.rate.percent_label();
        match lang {
            // Japan: the total per rate and the consumption tax in it (適格簡易請求書).
            Lang::Ja => totals.push(Row {
                label: format!("({pct}対象 {}  内消費税)", m(tax.gross)),
                amount: m(tax.tax),
                emphasis: false,
            }),
            // Spain: the taxable base per rate, separately, and the IVA.
            Lang::Es => totals.push(Row {
                label: format!("Base {pct} {}  IVA", m(tax.net)),
                amount: m(tax.tax),
                emphasis: false,
            }),
            Lang::En => totals.push(Row {
                label: format!("Tax {pct} on {}", m(tax.net)),
                amount: m(tax.tax),
                emphasis: false,
            }),
        }
    }
    totals.push(Row {
        label: l.total.into(),
        amount: m(t.total),
        emphasis: true,
    });
    let st = sale.settlement();
    let mut tenders: Vec<Row> = sale
        .tenders()
        .iter()
        .map(|tn| Row {
            label: tender_row_label(tn, lang),
            amount: m(tn.amount),
            emphasis: false,
        })
        .collect();
    if !st.rounding.is_zero() {
        tenders.push(Row {
            label: l.rounding.into(),
            amount: m(st.rounding),
            emphasis: false,
        });
    }
    if sale.tenders().iter().any(|tn| tn.kind == TenderKind::Cash) {
        tenders.push(Row {
            label: l.change.into(),
            amount: m(st.change),
            emphasis: true,
        });
    }
    let mut notes = Vec::new();
    if inclusive && lang == Lang::Es {
        notes.push("IVA incluido".to_owned());
    }
    if sale.lines().iter().any(|s| s.line.voucher.is_some()) {
        notes.push(crate::register::stored_value::voucher_note(lang).to_owned());
    }
    if mark_reduced && any_reduced {
        notes.push(match lang {
            Lang::Ja => "※は軽減税率対象".to_owned(),
            _ => "※ reduced tax rate".to_owned(),
        });
    }
    ReceiptContent {
        lang,
        header,
        title: Some(l.title.to_owned()),
        meta,
        items,
        totals,
        tenders,
        notes,
        code: sale.receipt().to_string(),
        footer: vec![l.thanks.to_owned()],
        payment_slips: Vec::new(),
    }
}

/// The printer's view of the receipt: layout for the paper, the drawer pulse for cash sales.
pub fn document(c: &ReceiptContent, paper: PaperWidth, open_drawer: bool) -> ReceiptDocument {
    let row = |r: &Row| ReceiptRow {
        label: r.label.clone(),
        amount: r.amount.clone(),
        emphasis: r.emphasis,
    };
    ReceiptDocument {
        paper,
        language: match c.lang {
            Lang::En => Language::En,
            Lang::Es => Language::Es,
            Lang::Ja => Language::Ja,
        },
        header: c.header.clone(),
        title: c.title.clone(),
        meta: c.meta.clone(),
        lines: c
            .items
            .iter()
            .map(|i| ReceiptLine {
                name: i.name.clone(),
                detail: i.detail.clone(),
                amount: i.amount.clone(),
                mark: i.mark.clone(),
                adjustments: i.adjustments.clone(),
            })
            .collect(),
        totals: c.totals.iter().map(row).collect(),
        tenders: c.tenders.iter().map(row).collect(),
        payment_slips: c
            .payment_slips
            .iter()
            .filter(|lines| !lines.is_empty())
            .map(|lines| PaymentSlip {
                heading: payment_slip_heading(c.lang).to_owned(),
                lines: lines.clone(),
            })
            .collect(),
        notes: c.notes.clone(),
        code: Some(ReceiptCode {
            kind: ReceiptCodeKind::Qr,
            data: c.code.clone(),
        }),
        footer: c.footer.clone(),
        logo: None,
        open_drawer,
        cut: true,
    }
}

/// The printer profile for a store's language: Shift_JIS Kanji for Japanese, PC858 otherwise.
pub fn profile(lang: Lang, paper: PaperWidth) -> PrinterProfile {
    match lang {
        Lang::Ja => PrinterProfile::japanese(paper),
        Lang::En | Lang::Es => PrinterProfile::western(paper),
    }
}

/// The ESC/POS bytes of a sale's receipt.
pub fn bytes(
    sale: &CompletedSale,
    settings: &StoreSettings,
    paper: PaperWidth,
    open_drawer: bool,
) -> Result<Vec<u8>, EncodeError> {
    bytes_with_slips(sale, settings, paper, open_drawer, Vec::new())
}

/// The ESC/POS bytes of a sale's receipt with the payment terminal's slips of its card
/// payments (see [`ReceiptContent::payment_slips`]).
pub fn bytes_with_slips(
    sale: &CompletedSale,
    settings: &StoreSettings,
    paper: PaperWidth,
    open_drawer: bool,
    payment_slips: Vec<Vec<String>>,
) -> Result<Vec<u8>, EncodeError> {
    let c = ReceiptContent {
        payment_slips,
        ..content(sale, settings)
    };
    let mut bytes = render(&document(&c, paper, open_drawer), &profile(c.lang, paper))?;
    for slip in crate::register::stored_value::gift_card_slips(sale, settings, paper) {
        bytes.extend(render(&slip, &profile(c.lang, paper))?);
    }
    Ok(bytes)
}

/// The receipt for the terminal's configured printer: its paper width and model (see
/// [`configured_profile`]), with the payment terminal's slips.
pub fn bytes_for_printer(
    sale: &CompletedSale,
    settings: &StoreSettings,
    printer: &pos_hardware::config::PrinterConfig,
    payment_slips: Vec<Vec<String>>,
) -> Result<Vec<u8>, EncodeError> {
    let c = ReceiptContent {
        payment_slips,
        ..content(sale, settings)
    };
    let profile = configured_profile(c.lang, printer.paper, printer.model);
    let mut bytes = render(&document(&c, printer.paper, false), &profile)?;
    // Each gift card whose number was generated here: its own slip with the barcode.
    for slip in crate::register::stored_value::gift_card_slips(sale, settings, printer.paper) {
        bytes.extend(render(&slip, &profile)?);
    }
    Ok(bytes)
}

/// The printer profile for a configured model. A Western printer in a Japanese store prints
/// Japanese text as raster images, with the first system CJK font found (fonts-noto-cjk).
pub fn configured_profile(
    lang: Lang,
    paper: PaperWidth,
    model: pos_hardware::config::PrinterModel,
) -> PrinterProfile {
    use pos_hardware::config::PrinterModel;
    match (model, lang) {
        (PrinterModel::Auto, _) => profile(lang, paper),
        (PrinterModel::Japanese, _) => PrinterProfile::japanese(paper),
        (PrinterModel::Western, Lang::Ja) => match system_fallback_font() {
            Some(font) => PrinterProfile::western(paper).with_fallback_font(font),
            None => PrinterProfile::western(paper),
        },
        (PrinterModel::Western, _) => PrinterProfile::western(paper),
    }
}

/// The first of the system's CJK fonts, read once.
fn system_fallback_font() -> Option<pos_hardware::escpos::FallbackFont> {
    static FONT: std::sync::OnceLock<Option<pos_hardware::escpos::FallbackFont>> =
        std::sync::OnceLock::new();
    FONT.get_or_init(|| {
        pos_hardware::escpos::SYSTEM_FALLBACK_FONTS
            .iter()
            .find_map(|path| {
                let data = std::fs::read(path).ok()?;
                pos_hardware::escpos::FallbackFont::from_bytes(&data, 0).ok()
            })
    })
    .clone()
}

/// The on-screen preview: the receipt's printer bytes decoded back to the text on paper, so the
/// screen shows exactly what prints. Falls back to a plain layout if the bytes cannot be made.
pub fn preview(sale: &CompletedSale, settings: &StoreSettings) -> ReceiptPreviewDto {
    preview_with_slips(sale, settings, Vec::new())
}

/// [`preview`] with the payment terminal's slips.
pub fn preview_with_slips(
    sale: &CompletedSale,
    settings: &StoreSettings,
    payment_slips: Vec<Vec<String>>,
) -> ReceiptPreviewDto {
    let paper = PaperWidth::Mm80;
    let lines = match bytes_with_slips(sale, settings, paper, false, payment_slips) {
        Ok(b) => decode(&b).lines(paper),
        Err(_) => crate::receipt_text::plain_text(&content(sale, settings), paper.columns()),
    };
    ReceiptPreviewDto {
        receipt_number: sale.receipt().to_string(),
        lines,
        width_chars: paper.columns() as u32,
    }
}

/// A short test page for Settings → Devices, in the store's language: store name, a line of
/// the characters the language needs, and `when`.
pub fn test_page(settings: &StoreSettings, when: &str) -> Result<Vec<u8>, EncodeError> {
    let lang = Lang::parse(&settings.locale);
    let paper = PaperWidth::Mm80;
    let (title, sample, ok) = match lang {
        Lang::En => ("Test page", "0123456789 $ # @", "The printer works."),
        Lang::Es => (
            "Página de prueba",
            "áéíóú ñÑ ¿¡ € 0123456789",
            "La impresora funciona.",
        ),
        Lang::Ja => (
            "テスト印刷",
            "日本語 カタカナ ￥ 0123456789",
            "プリンターは正常です。",
        ),
    };
    let doc = ReceiptDocument {
        paper,
        language: match lang {
            Lang::En => Language::En,
            Lang::Es => Language::Es,
            Lang::Ja => Language::Ja,
        },
        header: vec![settings.name.clone()],
        title: Some(title.to_owned()),
        meta: Vec::new(),
        lines: Vec::new(),
        totals: Vec::new(),
        tenders: Vec::new(),
        payment_slips: Vec::new(),
        notes: vec![sample.to_owned(), ok.to_owned(), when.to_owned()],
        code: None,
        footer: Vec::new(),
        logo: None,
        open_drawer: false,
        cut: true,
    };
    render(&doc, &profile(lang, paper))
}
