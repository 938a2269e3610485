//! What a return's document says, in the store's language: Spain's *factura rectificativa
//! (simplificada)* naming the invoice it corrects, Japan's 返品 receipt, an English refund
//! receipt. Amounts are printed negative (money back to the customer); taxes per rate as on the
//! sale. The layout is the sale receipt's (`receipt::document`), so the on-screen preview is
//! the printer's bytes decoded back, exactly like a sale's.

use crate::dto::ReceiptPreviewDto;
use crate::locale::{Lang, format_datetime, format_money, format_weight};
use crate::receipt::{self, ItemRow, ReceiptContent, Row};
use pos_core::cart::Quantity;
use pos_core::returns::{CompletedReturn, Disposition};
use pos_core::{Money, TenderKind};
use pos_hardware::escpos::EncodeError;
use pos_hardware::escpos::decode::decode;
use pos_hardware::escpos::profile::PaperWidth;
use pos_hardware::escpos::receipt::render;
use pos_store::StoreSettings;

struct Labels {
    title: &'static str,
    title_unreceipted: &'static str,
    number: &'static str,
    corrects: &'static str,
    of: &'static str,
    reason: &'static str,
    reason_text: &'static str,
    date: &'static str,
    terminal: &'static str,
    cashier: &'static str,
    approved: &'static str,
    total: &'static str,
    rounding: &'static str,
    original_card: &'static str,
    write_off: &'static str,
    thanks: &'static str,
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::Es => Labels {
            title: "FACTURA RECTIFICATIVA (SIMPLIFICADA)",
            title_unreceipted: "FACTURA RECTIFICATIVA (SIMPLIFICADA) SIN TICKET",
            number: "Nº rectificativa",
            corrects: "Rectifica a",
            of: "de",
            reason: "Motivo",
            reason_text: "Devolución de mercancía",
            date: "Fecha",
            terminal: "Caja",
            cashier: "Le atendió",
            approved: "Autorizó",
            total: "TOTAL DEVUELTO",
            rounding: "Redondeo",
            original_card: "Op. original (recibo/traza)",
            write_off: "Merma",
            thanks: "Conserve este justificante",
        },
        Lang::Ja => Labels {
            title: "返品レシート",
            title_unreceipted: "返品レシート(レシートなし)",
            number: "返品番号",
            corrects: "元レシート",
            of: "",
            reason: "理由",
            reason_text: "返品",
            date: "日時",
            terminal: "レジ",
            cashier: "担当",
            approved: "承認",
            total: "返金合計",
            rounding: "端数調整",
            original_card: "元取引(伝票/追番)",
            write_off: "廃棄",
            thanks: "このレシートは大切に保管してください",
        },
        Lang::En => Labels {
            title: "REFUND RECEIPT",
            title_unreceipted: "REFUND RECEIPT (NO RECEIPT)",
            number: "Return no.",
            corrects: "Corrects receipt",
            of: "of",
            reason: "Reason",
            reason_text: "Goods returned",
            date: "Date",
            terminal: "Till",
            cashier: "Served by",
            approved: "Approved by",
            total: "TOTAL REFUNDED",
            rounding: "Rounding",
            original_card: "Original (receipt/trace)",
            write_off: "Write-off",
            thanks: "Please keep this receipt",
        },
    }
}

/// How money went back, per tender kind.
fn refund_label(k: TenderKind, lang: Lang) -> &'static str {
    match (lang, k) {
        (Lang::Es, TenderKind::Cash) => "Devolución en efectivo",
        (Lang::Es, TenderKind::Card) => "Abono en tarjeta",
        (Lang::Es, TenderKind::GiftCard) => "Abono en tarjeta regalo",
        (Lang::Es, TenderKind::StoreCredit) => "Vale de compra",
        (Lang::Es, TenderKind::Account) => "Abono en cuenta",
        (Lang::Ja, TenderKind::Cash) => "現金返金",
        (Lang::Ja, TenderKind::Card) => "クレジット返金",
        (Lang::Ja, TenderKind::GiftCard) => "ギフトカード返金",
        (Lang::Ja, TenderKind::StoreCredit) => "ストアクレジット",
        (Lang::Ja, TenderKind::Account) => "売掛返金",
        (Lang::En, TenderKind::Cash) => "Cash refund",
        (Lang::En, TenderKind::Card) => "Card refund",
        (Lang::En, TenderKind::GiftCard) => "Back on gift card",
        (Lang::En, TenderKind::StoreCredit) => "Store credit",
        (Lang::En, TenderKind::Account) => "Back on account",
    }
}

/// The heading above the payment terminal's refund slip.
fn slip_heading(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Card terminal slip",
        Lang::Es => "Comprobante del datáfono",
        Lang::Ja => "カード利用控え",
    }
}

/// A write-off reason in words.
fn write_off_reason(code: &str, lang: Lang) -> String {
    let s = match (lang, code) {
        (Lang::Es, "damaged") => "dañado",
        (Lang::Es, "expired") => "caducado",
        (Lang::Es, "defective") => "defectuoso",
        (Lang::Es, "opened") => "abierto",
        (Lang::Es, _) => "otro",
        (Lang::Ja, "damaged") => "破損",
        (Lang::Ja, "expired") => "期限切れ",
        (Lang::Ja, "defective") => "不良品",
        (Lang::Ja, "opened") => "開封済み",
        (Lang::Ja, _) => "その他",
        (Lang::En, "damaged") => "damaged",
        (Lang::En, "expired") => "expired",
        (Lang::En, "defective") => "defective",
        (Lang::En, "opened") => "opened",
        (Lang::En, _) => "other",
    };
    s.to_owned()
}

/// The return's content, in the store's language.
pub fn content(ret: &CompletedReturn, settings: &StoreSettings) -> ReceiptContent {
    let lang = Lang::parse(&settings.locale);
    let l = labels(lang);
    let m = |x: Money| format_money(x, lang);
    let neg = |x: Money| format_money(Money::new(-x.minor, x.currency), lang);
    let local = |t: time::OffsetDateTime| t.to_offset(crate::locale::utc_offset(settings, t));
    let mut meta = vec![(l.number.to_owned(), ret.number.to_string())];
    if let Some(o) = &ret.original {
        let when = format_datetime(local(o.at), lang);
        let date = when.split(' ').next().unwrap_or(&when).to_owned();
        meta.push((
            l.corrects.to_owned(),
            format!("{} {} {date}", o.receipt, l.of)
                .replace("  ", " ")
                .trim()
                .to_owned(),
        ));
    }
    meta.push((l.reason.to_owned(), l.reason_text.to_owned()));
    meta.push((l.date.to_owned(), format_datetime(local(ret.at), lang)));
    meta.push((l.terminal.to_owned(), ret.terminal_id.clone()));
    meta.push((l.cashier.to_owned(), ret.cashier.name.clone()));
    if let Some(a) = &ret.approved_by {
        meta.push((l.approved.to_owned(), a.name.clone()));
    }
    let mark_reduced = lang == Lang::Ja || settings.country == pos_store::Country::Jp;
    let items = ret
        .lines
        .iter()
        .map(|line| {
            let detail = match line.quantity {
                Quantity::Units(1) => None,
                Quantity::Units(n) => Some(format!("-{n} x {}", m(line.unit_price))),
                Quantity::Grams(g) => Some(format!(
                    "-{} x {}/kg",
                    format_weight(g, lang),
                    m(line.unit_price)
                )),
            };
            let mut adjustments = Vec::new();
            if let Disposition::WriteOff { reason } = &line.disposition {
                adjustments.push((
                    format!("{}: {}", l.write_off, write_off_reason(reason, lang)),
                    String::new(),
                ));
            }
            ItemRow {
                name: line.product.name(lang.tag()).to_owned(),
                detail,
                amount: neg(line.amount),
                mark: (mark_reduced && line.product.tax.reduced).then(|| "※".to_owned()),
                adjustments,
            }
        })
        .collect();
    let mut totals = Vec::new();
    for tax in &ret.taxes {
        let pct = tax.rate.percent_label();
        totals.push(Row {
            label: match lang {
                Lang::Ja => format!("({pct}対象 {}  内消費税)", neg(tax.gross)),
                Lang::Es => format!("Base {pct} {}  IVA", neg(tax.net)),
                Lang::En => format!("Tax {pct} on {}", neg(tax.net)),
            },
            amount: neg(tax.tax),
            emphasis: false,
        });
    }
    totals.push(Row {
        label: l.total.to_owned(),
        amount: neg(ret.total),
        emphasis: true,
    });
    let mut tenders = Vec::new();
    for r in &ret.refunds {
        let mut label = refund_label(r.kind, lang).to_owned();
        match (r.kind, r.reference.as_deref()) {
            (TenderKind::GiftCard | TenderKind::Card, Some(x)) => {
                label = format!("{label} {}", x.split(' ').next_back().unwrap_or(x))
            }
            (TenderKind::StoreCredit | TenderKind::Account, Some(x)) => {
                if let Some((_, name)) = x.split_once(' ') {
                    label = format!("{label} {name}");
                }
            }
            _ => {}
        }
        tenders.push(Row {
            label,
            amount: neg(r.amount),
            emphasis: false,
        });
        if let Some(orig) = &r.original_reference {
            tenders.push(Row {
                label: format!("  {} {orig}", l.original_card),
                amount: String::new(),
                emphasis: false,
            });
        }
    }
    if !ret.rounding.is_zero() {
        tenders.push(Row {
            label: l.rounding.to_owned(),
            amount: m(Money::new(-ret.rounding.minor, ret.currency)),
            emphasis: false,
        });
    }
    let mut notes = Vec::new();
    if ret.tax_inclusive() && lang == Lang::Es {
        notes.push("IVA incluido".to_owned());
    }
    if mark_reduced && ret.lines.iter().any(|x| x.product.tax.reduced) {
        notes.push(match lang {
            Lang::Ja => "※は軽減税率対象".to_owned(),
            _ => "※ reduced tax rate".to_owned(),
        });
    }
    ReceiptContent {
        lang,
        header: receipt::store_header(settings, lang),
        title: Some(
            if ret.original.is_some() {
                l.title
            } else {
                l.title_unreceipted
            }
            .to_owned(),
        ),
        meta,
        items,
        totals,
        tenders,
        notes,
        code: ret.number.to_string(),
        footer: vec![l.thanks.to_owned()],
        payment_slips: ret
            .refunds
            .iter()
            .filter(|r| !r.slip.is_empty())
            .map(|r| r.slip.clone())
            .collect(),
    }
}

/// The ESC/POS bytes of a return for the configured printer.
pub fn bytes_for_printer(
    ret: &CompletedReturn,
    settings: &StoreSettings,
    printer: &pos_hardware::config::PrinterConfig,
) -> Result<Vec<u8>, EncodeError> {
    let c = content(ret, settings);
    let mut doc = receipt::document(&c, printer.paper, false);
    for s in &mut doc.payment_slips {
        s.heading = slip_heading(c.lang).to_owned();
    }
    render(
        &doc,
        &receipt::configured_profile(c.lang, printer.paper, printer.model),
    )
}

/// The on-screen preview: the printer's bytes decoded back (80 mm).
pub fn preview(ret: &CompletedReturn, settings: &StoreSettings) -> ReceiptPreviewDto {
    let paper = PaperWidth::Mm80;
    let c = content(ret, settings);
    let lines = match render(
        &receipt::document(&c, paper, false),
        &receipt::profile(c.lang, paper),
    ) {
        Ok(b) => decode(&b).lines(paper),
        Err(_) => c
            .items
            .iter()
            .map(|i| format!("{} {}", i.name, i.amount))
            .collect(),
    };
    ReceiptPreviewDto {
        receipt_number: ret.number.to_string(),
        lines,
        width_chars: paper.columns() as u32,
    }
}
