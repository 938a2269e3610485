//! What an X or Z report says on paper, in the store's language (es, ja, en): the period, the
//! sales per tender and per tax rate, the drawer from the float to the count, and over/short.
//! The printer layer (pos-hardware's ESC/POS receipt layout) puts these rows on the paper; the
//! on-screen preview is the printed bytes decoded back, so the screen shows what printed.
//!
//! Invariant: every word printed comes from this module's tables; amounts are formatted by
//! `locale::format_money` (`23,04 €`, `1,270円`), times in the store's local offset.

use crate::dto::ReceiptPreviewDto;
use crate::locale::{Lang, format_datetime, format_money, utc_offset};
use pos_core::Money;
use pos_core::TenderKind;
use pos_hardware::config::PrinterConfig;
use pos_hardware::escpos::EncodeError;
use pos_hardware::escpos::decode::decode;
use pos_hardware::escpos::profile::PaperWidth;
use pos_hardware::escpos::receipt::{Language, ReceiptDocument, ReceiptLine, ReceiptRow, render};
use pos_store::StoreSettings;
use pos_store::cash::{MovementKind, SessionReport};
use time::OffsetDateTime;

struct Labels {
    x_title: &'static str,
    z_title: &'static str,
    z_number: &'static str,
    terminal: &'static str,
    opened: &'static str,
    closed: &'static str,
    until: &'static str,
    opened_by: &'static str,
    closed_by: &'static str,
    receipts: &'static str,
    sales: &'static str,
    items: &'static str,
    discounts: &'static str,
    refunds: &'static str,
    total: &'static str,
    tax_total: &'static str,
    float: &'static str,
    cash_taken: &'static str,
    change: &'static str,
    cash_in: &'static str,
    cash_out: &'static str,
    rounding: &'static str,
    expected: &'static str,
    counted: &'static str,
    over_short: &'static str,
    no_sales: &'static str,
    auto_opened: &'static str,
    audit: &'static str,
    none: &'static str,
    counted_piece: &'static str,
    by_cashier: &'static str,
    counts_made: &'static str,
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::Es => Labels {
            x_title: "INFORME X (NO CIERRA LA CAJA)",
            z_title: "INFORME Z - CIERRE DE CAJA",
            z_number: "Nº Z",
            terminal: "Caja",
            opened: "Apertura",
            closed: "Cierre",
            until: "Hasta",
            opened_by: "Abierta por",
            closed_by: "Cerrada por",
            receipts: "Tickets",
            sales: "Nº de ventas",
            items: "Ventas brutas",
            discounts: "Descuentos",
            refunds: "Devoluciones",
            total: "TOTAL VENTAS",
            tax_total: "Total IVA",
            float: "Fondo inicial",
            cash_taken: "Efectivo cobrado",
            change: "Cambio entregado",
            cash_in: "Entradas de efectivo",
            cash_out: "Salidas de efectivo",
            rounding: "Redondeo",
            expected: "Efectivo esperado",
            counted: "Efectivo contado",
            over_short: "DESCUADRE",
            no_sales: "Aperturas sin venta",
            auto_opened: "Caja abierta con la primera venta, sin fondo contado.",
            audit: "Registro de auditoría",
            none: "ninguno",
            counted_piece: "Contado:",
            by_cashier: "Por cajero",
            counts_made: "Recuentos",
        },
        Lang::Ja => Labels {
            x_title: "Xレポート（点検・締めなし）",
            z_title: "Zレポート（精算）",
            z_number: "精算番号",
            terminal: "レジ",
            opened: "開始",
            closed: "精算",
            until: "点検時刻",
            opened_by: "開局担当",
            closed_by: "精算担当",
            receipts: "レシート",
            sales: "売上件数",
            items: "総売上",
            discounts: "値引",
            refunds: "返品",
            total: "純売上",
            tax_total: "消費税合計",
            float: "釣銭準備金",
            cash_taken: "現金お預り",
            change: "お釣り",
            cash_in: "入金",
            cash_out: "出金",
            rounding: "端数調整",
            expected: "現金在高（理論）",
            counted: "現金在高（実査）",
            over_short: "過不足",
            no_sales: "ドロワー開放（売上なし）",
            auto_opened: "最初の売上で開局（釣銭準備金の計数なし）",
            audit: "監査ログ",
            none: "なし",
            counted_piece: "実査:",
            by_cashier: "担当者別",
            counts_made: "計数回数",
        },
        Lang::En => Labels {
            x_title: "X REPORT (REGISTER STAYS OPEN)",
            z_title: "Z REPORT - END OF DAY",
            z_number: "Z no.",
            terminal: "Till",
            opened: "Opened",
            closed: "Closed",
            until: "Until",
            opened_by: "Opened by",
            closed_by: "Closed by",
            receipts: "Receipts",
            sales: "Sales",
            items: "Gross sales",
            discounts: "Discounts",
            refunds: "Refunds",
            total: "NET SALES",
            tax_total: "Total tax",
            float: "Opening float",
            cash_taken: "Cash taken",
            change: "Change given",
            cash_in: "Cash in",
            cash_out: "Cash out",
            rounding: "Rounding",
            expected: "Expected cash",
            counted: "Counted cash",
            over_short: "OVER/SHORT",
            no_sales: "No-sale openings",
            auto_opened: "Opened by the first sale, no float counted.",
            audit: "Audit trail",
            none: "none",
            counted_piece: "Counted:",
            by_cashier: "By cashier",
            counts_made: "Counts made",
        },
    }
}

/// The tender's name on the report.
pub fn tender_label(k: TenderKind, lang: Lang) -> &'static str {
    match (lang, k) {
        (Lang::Es, TenderKind::Cash) => "Efectivo",
        (Lang::Es, TenderKind::Card) => "Tarjeta",
        (Lang::Es, TenderKind::GiftCard) => "Tarjeta regalo",
        (Lang::Es, TenderKind::StoreCredit) => "Vale",
        (Lang::Es, TenderKind::Account) => "A cuenta",
        (Lang::Ja, TenderKind::Cash) => "現金",
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

/// A cash reason's name on the report (the note for "other").
pub fn reason_label(code: &str, lang: Lang) -> &'static str {
    match (lang, code) {
        (Lang::Es, "change_top_up") => "Reposición de cambio",
        (Lang::Es, "float_correction") => "Corrección del fondo",
        (Lang::Es, "safe_drop") => "Retirada a caja fuerte",
        (Lang::Es, "bank_deposit") => "Ingreso en banco",
        (Lang::Es, "petty_cash") => "Gastos menores",
        (Lang::Es, "supplier_payment") => "Pago a proveedor",
        (Lang::Es, "give_change") => "Cambio de moneda",
        (Lang::Es, "check_drawer") => "Revisar el cajón",
        (Lang::Es, "correct_change") => "Corregir un cambio",
        (Lang::Es, _) => "Otro",
        (Lang::Ja, "change_top_up") => "釣銭補充",
        (Lang::Ja, "float_correction") => "準備金訂正",
        (Lang::Ja, "safe_drop") => "金庫へ移動",
        (Lang::Ja, "bank_deposit") => "銀行入金",
        (Lang::Ja, "petty_cash") => "小口経費",
        (Lang::Ja, "supplier_payment") => "仕入先支払",
        (Lang::Ja, "give_change") => "両替",
        (Lang::Ja, "check_drawer") => "ドロワー点検",
        (Lang::Ja, "correct_change") => "釣銭訂正",
        (Lang::Ja, _) => "その他",
        (Lang::En, "change_top_up") => "Change top-up",
        (Lang::En, "float_correction") => "Float correction",
        (Lang::En, "safe_drop") => "Safe drop",
        (Lang::En, "bank_deposit") => "Bank deposit",
        (Lang::En, "petty_cash") => "Petty cash",
        (Lang::En, "supplier_payment") => "Supplier payment",
        (Lang::En, "give_change") => "Give change",
        (Lang::En, "check_drawer") => "Check drawer",
        (Lang::En, "correct_change") => "Correct change",
        (Lang::En, _) => "Other",
    }
}

fn kind_label(k: MovementKind, lang: Lang) -> &'static str {
    match (lang, k) {
        (Lang::Es, MovementKind::In) => "Entrada",
        (Lang::Es, MovementKind::Out) => "Salida",
        (Lang::Es, MovementKind::NoSale) => "Sin venta",
        (Lang::Ja, MovementKind::In) => "入金",
        (Lang::Ja, MovementKind::Out) => "出金",
        (Lang::Ja, MovementKind::NoSale) => "売上なし開放",
        (Lang::En, MovementKind::In) => "In",
        (Lang::En, MovementKind::Out) => "Out",
        (Lang::En, MovementKind::NoSale) => "No sale",
    }
}

/// A tax rate's row: the base per rate (Spain), the total per rate and the tax in it (Japan).
fn tax_label(pct: &str, net: Money, gross: Money, lang: Lang) -> String {
    let m = |x| format_money(x, lang);
    match lang {
        Lang::Es => format!("IVA {pct} Base {}", m(net)),
        Lang::Ja => format!("{pct}対象 {} 内消費税", m(gross)),
        Lang::En => format!("Tax {pct} on {}", m(net)),
    }
}

/// The report as the printer's document: header, period, sales, taxes, drawer, notes.
pub fn document(r: &SessionReport, settings: &StoreSettings, paper: PaperWidth) -> ReceiptDocument {
    let lang = Lang::parse(&settings.locale);
    let l = labels(lang);
    let m = |x: Money| format_money(x, lang);
    let when = |t: OffsetDateTime| format_datetime(t.to_offset(utc_offset(settings, t)), lang);
    let header = crate::receipt::store_header(settings, lang);
    let mut meta = Vec::new();
    if let Some(n) = r.z_number {
        meta.push((l.z_number.to_owned(), format!("{}-Z{n:04}", r.terminal_id)));
    }
    meta.push((l.terminal.to_owned(), r.terminal_id.clone()));
    meta.push((l.opened.to_owned(), when(r.opened_at)));
    let end = if r.z_number.is_some() {
        l.closed
    } else {
        l.until
    };
    meta.push((end.to_owned(), when(r.until)));
    meta.push((l.opened_by.to_owned(), r.opened_by.name.clone()));
    if let Some(by) = &r.closed_by {
        meta.push((l.closed_by.to_owned(), by.name.clone()));
    }
    meta.push((
        l.receipts.to_owned(),
        match r.receipts {
            Some((a, b)) => format!("{0}-{a:06} - {0}-{b:06}", r.terminal_id),
            None => l.none.to_owned(),
        },
    ));

    let s = &r.sales;
    let line = |name: &str, amount: String| ReceiptLine {
        name: name.to_owned(),
        amount,
        ..ReceiptLine::default()
    };
    let mut lines = vec![
        line(l.sales, s.sales.to_string()),
        line(l.items, m(s.items)),
    ];
    if !s.discounts.is_zero() {
        lines.push(line(l.discounts, m(-s.discounts)));
    }
    lines.push(line(
        &format!("{} ({})", l.refunds, s.refunds),
        m(-s.refunded),
    ));
    // The total is what the sales took minus what returns gave back (both shown above it).
    let net = s.net_total().unwrap_or(s.total);
    lines.push(line(l.total, m(net)));
    if !s.cashiers.is_empty() {
        lines.push(line(l.by_cashier, String::new()));
        for c in &s.cashiers {
            lines.push(line(&format!("  {} ({})", c.name, c.sales), m(c.total)));
        }
    }

    let mut totals: Vec<ReceiptRow> = s
        .tenders
        .iter()
        .map(|t| {
            ReceiptRow::new(
                format!("{} ({})", tender_label(t.kind, lang), t.count),
                m(t.amount),
            )
        })
        .collect();
    // returns: what went back, per tender (cash, card through the terminal, gift card, …).
    for t in &s.tender_refunds {
        totals.push(ReceiptRow::new(
            format!(
                "{} {} ({})",
                refund_prefix(lang),
                tender_label(t.kind, lang),
                t.count
            ),
            m(-t.amount),
        ));
    }
    if !s.rounding.is_zero() {
        totals.push(ReceiptRow::new(l.rounding, m(s.rounding)));
    }
    for t in &s.taxes {
        totals.push(ReceiptRow::new(
            tax_label(&t.rate.percent_label(), t.net, t.gross, lang),
            m(t.tax),
        ));
    }
    totals.push(ReceiptRow::new(l.tax_total, m(s.tax_total)));

    let d = &r.drawer;
    let mut tenders = vec![
        ReceiptRow::new(l.float, m(d.opening_float)),
        ReceiptRow::new(l.cash_taken, m(d.cash_taken)),
        ReceiptRow::new(l.change, m(-d.change_given)),
        ReceiptRow::new(l.cash_in, m(d.cash_in)),
        ReceiptRow::new(l.cash_out, m(-d.cash_out)),
    ];
    // stored value: customers paying their accounts in cash (stored_value.rs).
    if let Some(a) = d.account_payments.filter(|a| !a.is_zero()) {
        tenders.push(ReceiptRow::new(account_payments_label(lang), m(a)));
    }
    // returns: cash paid back on returns (returns.rs).
    if !d.cash_refunds.is_zero() {
        tenders.push(ReceiptRow::new(
            cash_refunds_label(lang),
            m(-d.cash_refunds),
        ));
    }
    tenders.push(ReceiptRow::new(l.expected, m(r.expected)));
    if let Some(c) = &r.count {
        tenders.push(ReceiptRow::new(l.counted, m(c.count.total())));
    }
    if let Some(diff) = r.over_short {
        let sign = if diff.minor > 0 { "+" } else { "" };
        tenders.push(ReceiptRow::emphasized(
            l.over_short,
            format!("{sign}{}", m(diff)),
        ));
    }

    let mut notes = Vec::new();
    if r.auto_opened {
        notes.push(l.auto_opened.to_owned());
    }
    notes.push(format!("{}: {}", l.no_sales, r.no_sales));
    if r.counts_made > 1 {
        notes.push(format!("{}: {}", l.counts_made, r.counts_made));
    }
    if let Some(c) = &r.count {
        for piece in c.count.counts() {
            let value = Money::new(piece.value, c.count.currency());
            notes.push(format!(
                "{} {} x {} = {}",
                l.counted_piece,
                piece.quantity,
                m(value),
                m(Money::new(piece.value * piece.quantity, value.currency))
            ));
        }
    }
    for mv in &r.movements {
        let t = mv.at.to_offset(utc_offset(settings, mv.at));
        let reason = match (&mv.reason.note, mv.reason.code.as_str()) {
            (Some(n), "other") => n.clone(),
            (Some(n), code) => format!("{} ({n})", reason_label(code, lang)),
            (None, code) => reason_label(code, lang).to_owned(),
        };
        let amount = match mv.kind {
            MovementKind::In => format!(" {}", m(mv.amount)),
            MovementKind::Out => format!(" {}", m(-mv.amount)),
            MovementKind::NoSale => String::new(),
        };
        notes.push(format!(
            "{:02}:{:02} {}{amount} {reason} ({})",
            t.hour(),
            t.minute(),
            kind_label(mv.kind, lang),
            mv.user.name
        ));
    }
    if let Some((seq, hash)) = &r.audit_head {
        notes.push(format!(
            "{} #{seq} {}",
            l.audit,
            hash.get(..16).unwrap_or(hash)
        ));
    }
    ReceiptDocument {
        paper,
        language: match lang {
            Lang::En => Language::En,
            Lang::Es => Language::Es,
            Lang::Ja => Language::Ja,
        },
        header,
        title: Some(
            if r.z_number.is_some() {
                l.z_title
            } else {
                l.x_title
            }
            .to_owned(),
        ),
        meta,
        lines,
        totals,
        tenders,
        payment_slips: Vec::new(),
        notes,
        code: None,
        footer: Vec::new(),
        logo: None,
        open_drawer: false,
        cut: true,
    }
}

/// The ESC/POS bytes of the report for the terminal's printer (its paper width and model, as
/// sale receipts: see `receipt::configured_profile`).
pub fn bytes(
    r: &SessionReport,
    settings: &StoreSettings,
    printer: &PrinterConfig,
) -> Result<Vec<u8>, EncodeError> {
    bytes_marked(r, settings, printer, None)
}

/// The report's bytes with `mark` printed at the foot (a Z report printed again is marked as a
/// copy, like a reprinted receipt).
pub fn bytes_marked(
    r: &SessionReport,
    settings: &StoreSettings,
    printer: &PrinterConfig,
    mark: Option<&str>,
) -> Result<Vec<u8>, EncodeError> {
    let lang = Lang::parse(&settings.locale);
    let mut doc = document(r, settings, printer.paper);
    doc.footer.extend(mark.map(str::to_owned));
    render(
        &doc,
        &crate::receipt::configured_profile(lang, printer.paper, printer.model),
    )
}

/// The report as the screen shows it: the printed bytes decoded back to lines.
pub fn preview(
    r: &SessionReport,
    settings: &StoreSettings,
    printer: &PrinterConfig,
) -> ReceiptPreviewDto {
    let paper = printer.paper;
    let number = r
        .z_number
        .map(|n| format!("{}-Z{n:04}", r.terminal_id))
        .unwrap_or_else(|| format!("{}-X", r.terminal_id));
    let lines = match bytes(r, settings, printer) {
        Ok(b) => decode(&b).lines(paper),
        Err(e) => vec![format!("{number}: {e}")],
    };
    ReceiptPreviewDto {
        receipt_number: number,
        lines,
        width_chars: paper.columns() as u32,
    }
}

/// returns: the drawer row of cash refunds.
fn refund_prefix(lang: Lang) -> &'static str {
    match lang {
        Lang::Es => "Dev.",
        Lang::Ja => "返金",
        Lang::En => "Refund",
    }
}

fn cash_refunds_label(lang: Lang) -> &'static str {
    match lang {
        Lang::Es => "Devoluciones en efectivo",
        Lang::Ja => "現金返金",
        Lang::En => "Cash refunds",
    }
}

/// "Account payments" on the X and Z reports (stored value).
fn account_payments_label(lang: Lang) -> &'static str {
    match lang {
        Lang::Es => "Pagos a cuenta",
        Lang::Ja => "売掛金入金",
        Lang::En => "Account payments",
    }
}
