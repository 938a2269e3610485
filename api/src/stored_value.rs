//! Stored value sold at the register: gift cards issued or topped up as lines of a sale, the
//! balance check, and customers (search, create, edit, the account's credit limit, the
//! statement, paying the account at the register, attaching a customer to the sale).
//!
//! Invariants:
//! * A gift card sold is a multi-purpose voucher: its line carries no tax (tax is due when the
//!   card is spent), lowers no stock, takes no discount and is not sent to the web shop as a
//!   product (pos-core's `Voucher`, pos-store's sale commit, pos-sync's sale record).
//! * A card gets its money only after its sale has committed: the sale's transaction writes an
//!   activation row (`<sale id>-L<line>`), and the ledger is then loaded under that key (right
//!   after the commit, and again at start for any left over). The key makes a retry load once.
//!   A voided or abandoned sale writes nothing, so it never activates a card.
//! * Generated numbers are unguessable (16 random digits from the OS generator) and carry a
//!   Luhn check digit; they start with 96, outside every bank range, so the card reader never
//!   takes them for a bank card. Only a generated number is printed in full (as a CODE128
//!   barcode: the slip is the card); any other number is shown masked.
//! * Changing an account's credit limit needs `customer_credit` or a manager's PIN, and is on
//!   the audit trail (with the old and new limit) before it is applied.
//! * An account payment in cash is counted in the drawer of the open register session (its
//!   expected cash rises by exactly the amount); every payment gets a gap-free number in the
//!   terminal's `<terminal>-P` series and a printed receipt.
//! * Customers are local to the terminal's database (gift cards move to the web shop's ledger
//!   behind [`GiftCardLedger`](super::tenders::GiftCardLedger)).

use super::tenders::{customer_dto, mask_number};
use super::{Register, Stage, State};
use crate::dto::*;
use crate::errors::{customer_error, gift_card_error, ledger_error, store_error};
use crate::locale::{Lang, format_datetime, format_money, utc_offset};
use pos_core::auth::Permission;
use pos_core::cart::{ProductRef, SaleCustomer, Voucher, VoucherKind};
use pos_core::{Currency, Money, TaxRate, TenderKind};
use pos_hardware::escpos::profile::PaperWidth;
use pos_hardware::escpos::receipt::{
    Language, ReceiptCode, ReceiptCodeKind, ReceiptDocument, ReceiptLine, ReceiptRow, render,
};
use pos_store::customers::{
    AccountPayment, CustomerLedger, NewAccountPayment, NewCustomer, Statement, StatementKind,
};
use pos_store::gift_cards::{EntryKind, LedgerError, Load, normalize_number};
use pos_store::{Store, StoreSettings};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use ts_rs::TS;
use uuid::Uuid;

// ---- wire types ------------------------------------------------------------------------------

/// What the gift-card screen offers: quick amounts and the largest amount one card may take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StoredValueInfoDto {
    /// Minor units, smallest first.
    pub quick_amounts: Vec<i64>,
    pub max_amount: MoneyDto,
}

/// One movement on a gift card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GiftCardEntryDto {
    /// "issue", "top_up", "redeem", "release".
    pub kind: String,
    /// Signed: money onto the card positive.
    pub amount: MoneyDto,
    pub balance_after: MoneyDto,
    /// In the store's local time and language.
    pub when: String,
}

/// The balance check: the card, its balance and its last movements (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GiftCardBalanceDto {
    pub masked: String,
    pub balance: MoneyDto,
    pub active: bool,
    pub entries: Vec<GiftCardEntryDto>,
}

/// One line of a customer's statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StatementEntryDto {
    /// "charge", "payment", "credit".
    pub kind: String,
    pub when: String,
    /// The sale's receipt or the payment's number.
    pub receipt: Option<String>,
    /// Signed change of the balance.
    pub amount: MoneyDto,
    /// The running balance after this line.
    pub balance: MoneyDto,
}

/// A customer's statement (account, or store credit), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StatementDto {
    pub customer: CustomerDto,
    /// "account" or "store_credit".
    pub ledger: String,
    pub opening: MoneyDto,
    pub closing: MoneyDto,
    pub entries: Vec<StatementEntryDto>,
    /// What the printer prints (or printed), decoded to text.
    pub preview: ReceiptPreviewDto,
    pub printed: bool,
}

/// How a customer pays their account at the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AccountTenderDto {
    Cash,
    Card,
}

/// An account payment as recorded and printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AccountPaymentDto {
    /// "T01-P-000001".
    pub document: String,
    pub customer: CustomerDto,
    pub tender: AccountTenderDto,
    pub amount: MoneyDto,
    pub tendered: MoneyDto,
    pub change: MoneyDto,
    pub receipt: ReceiptPreviewDto,
}

/// The customer attached to the sale in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SaleCustomerDto {
    pub id: String,
    pub name: String,
}

pub(super) fn sale_customer_dto(c: &SaleCustomer) -> SaleCustomerDto {
    SaleCustomerDto {
        id: c.id.clone(),
        name: c.name.clone(),
    }
}

/// A gift-card line's masked number, for the sale screen.
pub(super) fn line_gift_card(l: &pos_core::CartLine) -> Option<String> {
    l.voucher.as_ref().map(|v| mask_number(&v.number))
}

// ---- pure parts ------------------------------------------------------------------------------

/// How often a gift card the ledger refused is tried again after later sales (then at start).
pub const RETRIES_AFTER_SALE: u32 = 3;

/// Quick amounts for a gift card, in minor units.
pub fn quick_amounts(currency: Currency) -> Vec<i64> {
    match currency {
        Currency::Jpy => vec![1_000, 3_000, 5_000, 10_000],
        _ => vec![1_000, 2_000, 2_500, 5_000, 10_000],
    }
}

/// The most one card may be sold or topped up with at once: 100,000 minor units, i.e. 1,000 €
/// or $, and ¥100,000 (yen have no minor unit).
pub fn max_amount(currency: Currency) -> Money {
    Money::new(100_000, currency)
}

/// The Luhn check digit of `digits`.
pub fn luhn_digit(digits: &str) -> u8 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// Whether a number's last digit is its Luhn check digit.
pub fn luhn_valid(number: &str) -> bool {
    number.len() >= 2
        && number.bytes().all(|b| b.is_ascii_digit())
        && luhn_digit(&number[..number.len() - 1]) == number.as_bytes()[number.len() - 1] - b'0'
}

/// A new card number from 16 random digits (`random` ≥ 10^16 is reduced): "96" + 16 digits +
/// the Luhn check digit, 19 digits in all.
pub fn card_number_from(random: u128) -> String {
    let body = format!("96{:016}", random % 10_000_000_000_000_000);
    let check = luhn_digit(&body);
    format!("{body}{check}")
}

/// A new, unguessable card number (the OS generator through a v4 UUID's 122 random bits).
pub fn generate_card_number() -> String {
    card_number_from(Uuid::new_v4().as_u128() >> 6)
}

fn voucher_names(kind: VoucherKind, masked: &str) -> BTreeMap<String, String> {
    let (en, es, ja) = match kind {
        VoucherKind::Issue => ("Gift card", "Tarjeta regalo", "ギフトカード"),
        VoucherKind::TopUp => (
            "Gift card top-up",
            "Recarga tarjeta regalo",
            "ギフトカード入金",
        ),
    };
    BTreeMap::from([
        ("en".to_owned(), format!("{en} {masked}")),
        ("es".to_owned(), format!("{es} {masked}")),
        ("ja".to_owned(), format!("{ja} {masked}")),
    ])
}

fn language(lang: Lang) -> Language {
    match lang {
        Lang::En => Language::En,
        Lang::Es => Language::Es,
        Lang::Ja => Language::Ja,
    }
}

fn when(settings: &StoreSettings, at: OffsetDateTime, lang: Lang) -> String {
    format_datetime(at.to_offset(utc_offset(settings, at)), lang)
}

/// The note under a receipt that sold gift cards: why the card line has no tax.
pub fn voucher_note(lang: Lang) -> &'static str {
    match lang {
        Lang::Es => "Tarjeta regalo: no sujeta a IVA hasta su uso",
        Lang::Ja => "ギフトカードは不課税（利用時に課税）",
        Lang::En => "Gift card: no tax until it is spent",
    }
}

/// The slips printed after a sale's receipt, one per gift card whose number was generated at
/// the till: the full number as a CODE128 barcode and the card's balance. Nothing for a sale
/// without such a card.
pub fn gift_card_slips(
    sale: &pos_core::CompletedSale,
    settings: &StoreSettings,
    paper: PaperWidth,
) -> Vec<ReceiptDocument> {
    let lang = Lang::parse(&settings.locale);
    let (title, number_label, receipt_label, balance_label, keep) = match lang {
        Lang::Es => (
            "TARJETA REGALO",
            "Número",
            "Nº factura",
            "Saldo",
            "Conserve este vale: el código es la tarjeta.",
        ),
        Lang::Ja => (
            "ギフトカード",
            "番号",
            "レシート番号",
            "残高",
            "このバーコードがカードです。大切に保管してください。",
        ),
        Lang::En => (
            "GIFT CARD",
            "Number",
            "Receipt no.",
            "Balance",
            "Keep this slip: the code is the card.",
        ),
    };
    sale.lines()
        .iter()
        .filter_map(|s| {
            let v = s.line.voucher.as_ref()?;
            if !v.print_code || v.kind != VoucherKind::Issue {
                return None;
            }
            Some(ReceiptDocument {
                paper,
                language: language(lang),
                header: crate::receipt::store_header(settings, lang),
                title: Some(title.to_owned()),
                meta: vec![
                    (number_label.to_owned(), v.number.clone()),
                    (receipt_label.to_owned(), sale.receipt().to_string()),
                ],
                lines: Vec::new(),
                totals: vec![ReceiptRow {
                    label: balance_label.to_owned(),
                    amount: format_money(s.total.amount, lang),
                    emphasis: true,
                }],
                tenders: Vec::new(),
                payment_slips: Vec::new(),
                notes: vec![keep.to_owned()],
                code: Some(ReceiptCode {
                    kind: ReceiptCodeKind::Code128,
                    data: v.number.clone(),
                }),
                footer: Vec::new(),
                logo: None,
                open_drawer: false,
                cut: true,
            })
        })
        .collect()
}

/// The printed statement of a customer's ledger: every entry with its date, receipt, amount and
/// running balance.
pub fn statement_document(
    s: &Statement,
    settings: &StoreSettings,
    now: OffsetDateTime,
    paper: PaperWidth,
) -> ReceiptDocument {
    let lang = Lang::parse(&settings.locale);
    let m = |x: Money| format_money(x, lang);
    let (title, customer, date, limit, opening, closing, balance, charge, payment, credit) =
        match (lang, s.ledger) {
            (Lang::Es, CustomerLedger::Account) => (
                "EXTRACTO DE CUENTA",
                "Cliente",
                "Fecha",
                "Límite",
                "Saldo inicial",
                "SALDO PENDIENTE",
                "Saldo",
                "Cargo",
                "Pago",
                "Abono",
            ),
            (Lang::Es, CustomerLedger::StoreCredit) => (
                "EXTRACTO DE VALE",
                "Cliente",
                "Fecha",
                "Límite",
                "Saldo inicial",
                "SALDO DISPONIBLE",
                "Saldo",
                "Uso",
                "Pago",
                "Abono",
            ),
            (Lang::Ja, CustomerLedger::Account) => (
                "売掛金明細書",
                "お客様",
                "発行日",
                "限度額",
                "前回残高",
                "ご請求残高",
                "残高",
                "売掛",
                "入金",
                "返金",
            ),
            (Lang::Ja, CustomerLedger::StoreCredit) => (
                "ストアクレジット明細",
                "お客様",
                "発行日",
                "限度額",
                "前回残高",
                "ご利用可能残高",
                "残高",
                "利用",
                "入金",
                "付与",
            ),
            (Lang::En, CustomerLedger::Account) => (
                "ACCOUNT STATEMENT",
                "Customer",
                "Date",
                "Limit",
                "Opening balance",
                "BALANCE DUE",
                "Balance",
                "Charge",
                "Payment",
                "Credit",
            ),
            (Lang::En, CustomerLedger::StoreCredit) => (
                "STORE CREDIT STATEMENT",
                "Customer",
                "Date",
                "Limit",
                "Opening balance",
                "AVAILABLE",
                "Balance",
                "Spent",
                "Payment",
                "Credit",
            ),
        };
    let mut meta = vec![
        (customer.to_owned(), s.customer.name.clone()),
        (date.to_owned(), when(settings, now, lang)),
    ];
    if let (CustomerLedger::Account, Some(l)) = (s.ledger, s.customer.account_limit) {
        meta.push((limit.to_owned(), m(l)));
    }
    let lines = s
        .entries
        .iter()
        .map(|e| {
            let kind = match e.kind {
                StatementKind::Charge => charge,
                StatementKind::Payment => payment,
                StatementKind::Credit => credit,
            };
            ReceiptLine {
                name: format!("{} {kind}", when(settings, e.at, lang)),
                detail: e.receipt.clone(),
                amount: m(e.amount),
                mark: None,
                adjustments: vec![(balance.to_owned(), m(e.balance))],
            }
        })
        .collect();
    ReceiptDocument {
        paper,
        language: language(lang),
        header: crate::receipt::store_header(settings, lang),
        title: Some(title.to_owned()),
        meta,
        lines,
        totals: vec![
            ReceiptRow {
                label: opening.to_owned(),
                amount: m(s.opening),
                emphasis: false,
            },
            ReceiptRow {
                label: closing.to_owned(),
                amount: m(s.closing),
                emphasis: true,
            },
        ],
        tenders: Vec::new(),
        payment_slips: Vec::new(),
        notes: Vec::new(),
        code: None,
        footer: Vec::new(),
        logo: None,
        open_drawer: false,
        cut: true,
    }
}

/// The receipt of an account payment.
pub fn account_payment_document(
    p: &AccountPayment,
    customer_name: &str,
    terminal_id: &str,
    settings: &StoreSettings,
    paper: PaperWidth,
) -> ReceiptDocument {
    let lang = Lang::parse(&settings.locale);
    let m = |x: Money| format_money(x, lang);
    let (title, number, date, till, cashier, customer, paid, due, cash, card, change, thanks) =
        match lang {
            Lang::Es => (
                "JUSTIFICANTE DE PAGO A CUENTA",
                "Nº",
                "Fecha",
                "Caja",
                "Le atendió",
                "Cliente",
                "Pago a cuenta",
                "Saldo pendiente",
                "Efectivo",
                "Tarjeta",
                "Cambio",
                "Gracias",
            ),
            Lang::Ja => (
                "売掛金入金票",
                "番号",
                "日時",
                "レジ",
                "担当",
                "お客様",
                "ご入金額",
                "ご請求残高",
                "お預り",
                "クレジット",
                "お釣り",
                "ありがとうございました",
            ),
            Lang::En => (
                "ACCOUNT PAYMENT",
                "No.",
                "Date",
                "Till",
                "Served by",
                "Customer",
                "Paid on account",
                "Balance due",
                "Cash",
                "Card",
                "Change",
                "Thank you",
            ),
        };
    let is_cash = p.tender == "cash";
    let mut tenders = vec![ReceiptRow {
        label: if is_cash {
            cash.to_owned()
        } else {
            format!("{card} {}", p.reference.clone().unwrap_or_default())
                .trim()
                .to_owned()
        },
        amount: m(p.tendered),
        emphasis: false,
    }];
    if is_cash {
        tenders.push(ReceiptRow {
            label: change.to_owned(),
            amount: m(Money::new(
                p.tendered.minor - p.amount.minor,
                p.amount.currency,
            )),
            emphasis: true,
        });
    }
    ReceiptDocument {
        paper,
        language: language(lang),
        header: crate::receipt::store_header(settings, lang),
        title: Some(title.to_owned()),
        meta: vec![
            (number.to_owned(), p.document.clone()),
            (date.to_owned(), when(settings, p.at, lang)),
            (till.to_owned(), terminal_id.to_owned()),
            (cashier.to_owned(), p.cashier_name.clone()),
            (customer.to_owned(), customer_name.to_owned()),
        ],
        lines: Vec::new(),
        totals: vec![
            ReceiptRow {
                label: paid.to_owned(),
                amount: m(p.amount),
                emphasis: true,
            },
            ReceiptRow {
                label: due.to_owned(),
                amount: m(p.balance_after),
                emphasis: false,
            },
        ],
        tenders,
        payment_slips: Vec::new(),
        notes: Vec::new(),
        code: Some(ReceiptCode {
            kind: ReceiptCodeKind::Code128,
            data: p.document.clone(),
        }),
        footer: vec![thanks.to_owned()],
        logo: None,
        open_drawer: is_cash,
        cut: true,
    }
}

fn preview_of(doc: &ReceiptDocument, lang: Lang, number: &str) -> ReceiptPreviewDto {
    let paper = doc.paper;
    let lines = match render(doc, &crate::receipt::profile(lang, paper)) {
        Ok(b) => pos_hardware::escpos::decode::decode(&b).lines(paper),
        Err(_) => Vec::new(),
    };
    ReceiptPreviewDto {
        receipt_number: number.to_owned(),
        lines,
        width_chars: paper.columns() as u32,
    }
}

fn entry_kind(k: EntryKind) -> String {
    k.code().to_owned()
}

fn statement_kind(k: StatementKind) -> &'static str {
    match k {
        StatementKind::Charge => "charge",
        StatementKind::Payment => "payment",
        StatementKind::Credit => "credit",
    }
}

fn clean(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn check_customer_fields(name: &str, email: Option<&str>) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.chars().count() > 120 {
        return Err(ApiError::new(
            "customer.name_required",
            "a customer needs a name (at most 120 characters)",
        ));
    }
    if let Some(e) = email
        && !super::email::valid_address(e)
    {
        return Err(
            ApiError::new("customer.bad_email", "this e-mail address is not valid")
                .with("email", e),
        );
    }
    Ok(())
}

// ---- the register's side -----------------------------------------------------------------------

impl Register {
    pub(super) fn sv_info(&self) -> Result<StoredValueInfoDto, ApiError> {
        let st = self.lock();
        st.require_user()?;
        let cur = st.settings.currency;
        Ok(StoredValueInfoDto {
            quick_amounts: quick_amounts(cur),
            max_amount: max_amount(cur).into(),
        })
    }

    /// Adds a gift card sold (`top_up` false: a new card, `number` None generates one) or a
    /// top-up of an existing card to the sale in progress. Nothing is put on the card yet.
    pub(super) fn sv_sell_gift_card(
        &self,
        number: Option<String>,
        amount: i64,
        top_up: bool,
    ) -> Result<SaleDto, ApiError> {
        let mut st = self.lock();
        st.ensure_open()?;
        let cur = st.settings.currency;
        let max = max_amount(cur);
        if amount <= 0 || amount > max.minor {
            return Err(
                ApiError::new("gift_card.amount_range", "the amount is out of range")
                    .with("most", max.minor),
            );
        }
        let money = Money::new(amount, cur);
        let typed = number
            .as_deref()
            .map(normalize_number)
            .filter(|n| !n.is_empty());
        let (number, print_code) = match (typed, top_up) {
            (None, true) => {
                return Err(ApiError::new(
                    "gift_card.number_required",
                    "scan, swipe or type the card",
                ));
            }
            (None, false) => (generate_card_number(), true),
            (Some(n), _) => (n, false),
        };
        // A bank card's number is never kept (not even as a gift card's).
        if pos_hardware::card::is_bank_card(&number) {
            return Err(crate::errors::gift_card_bank_card());
        }
        let found = self.ledgers.gift_cards.card(&number);
        match (top_up, found) {
            (false, Ok(_)) => {
                return Err(ApiError::new(
                    "gift_card.already_issued",
                    "this gift card is already in use: top it up instead",
                )
                .with("card", mask_number(&number)));
            }
            (false, Err(LedgerError::Unknown(_))) => {}
            (true, Ok(card)) if !card.active => {
                return Err(gift_card_error(
                    LedgerError::NotUsable(number.clone()),
                    &number,
                ));
            }
            (true, Ok(card)) if card.balance.currency != cur => {
                return Err(ledger_error(LedgerError::WrongCurrency {
                    expected: card.balance.currency,
                    found: cur,
                }));
            }
            (true, Ok(_)) => {}
            (_, Err(e)) => return Err(gift_card_error(e, &number)),
        }
        if st
            .cart
            .lines()
            .iter()
            .any(|l| l.voucher.as_ref().is_some_and(|v| v.number == number))
        {
            return Err(ApiError::new(
                "gift_card.already_in_sale",
                "this gift card is already in the sale",
            )
            .with("card", mask_number(&number)));
        }
        let kind = if top_up {
            VoucherKind::TopUp
        } else {
            VoucherKind::Issue
        };
        let product = ProductRef {
            variant_id: "gift-card".into(),
            sku: "GIFT-CARD".into(),
            names: voucher_names(kind, &mask_number(&number)),
            barcode: None,
            unit_price: money,
            tax: TaxRate::new("NONE", 0, false),
            by_weight: false,
        };
        let id = st
            .cart
            .add_voucher(
                product,
                Voucher {
                    kind,
                    number,
                    print_code,
                },
                money,
            )
            .map_err(crate::errors::cart_error)?;
        st.last_line = Some(id);
        st.changed();
        self.publish(&st)
    }

    /// The balance check: scanned, swiped or typed number → balance and the last movements.
    pub(super) fn sv_gift_card_balance(
        &self,
        number: &str,
    ) -> Result<GiftCardBalanceDto, ApiError> {
        let settings = {
            let st = self.lock();
            st.require_user()?;
            st.settings.clone()
        };
        let lang = Lang::parse(&settings.locale);
        let card = self
            .ledgers
            .gift_cards
            .card(number)
            .map_err(|e| gift_card_error(e, number))?;
        let entries = self
            .ledgers
            .gift_cards
            .entries(&card.number, 10)
            .map_err(|e| gift_card_error(e, number))?;
        Ok(GiftCardBalanceDto {
            masked: mask_number(&card.number),
            balance: card.balance.into(),
            active: card.active,
            entries: entries
                .iter()
                .map(|e| GiftCardEntryDto {
                    kind: entry_kind(e.kind),
                    amount: e.amount.into(),
                    balance_after: e.balance_after.into(),
                    when: when(&settings, e.at, lang),
                })
                .collect(),
        })
    }

    /// Puts the gift cards of committed sales on the ledger (see the module doc). Called right
    /// after a sale commits; a failure stays pending, logged, and is tried again after the next
    /// sales (up to [`RETRIES_AFTER_SALE`] times, so a ledger that keeps refusing never slows
    /// every sale down) and at every start.
    pub(super) fn activate_gift_cards(&self, store: &mut Store, now: OffsetDateTime) {
        self.activate_gift_cards_up_to(store, now, Some(RETRIES_AFTER_SALE));
    }

    fn activate_gift_cards_up_to(
        &self,
        store: &mut Store,
        now: OffsetDateTime,
        max_attempts: Option<u32>,
    ) {
        let pending = match store.pending_gift_card_activations(100) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!("gift-card activations cannot be read: {e}");
                return;
            }
        };
        for a in pending {
            if max_attempts.is_some_and(|m| a.attempts >= m) {
                continue;
            }
            let gc = &*self.ledgers.gift_cards;
            let done = match a.load {
                Load::Issue => gc.issue(&a.key, &a.number, a.amount, now),
                Load::TopUp => gc.top_up(&a.key, &a.number, a.amount, now),
            };
            let error = done.err().map(|e| e.to_string());
            if let Some(e) = &error {
                tracing::error!(
                    "gift card {} of sale {} not activated: {e}",
                    mask_number(&a.number),
                    a.sale_id
                );
            }
            if let Err(e) = store.record_gift_card_activation(&a.key, error.as_deref(), now) {
                tracing::error!("gift-card activation {} not recorded: {e}", a.key);
            }
        }
    }

    /// Activations left from before a restart, however often they were tried.
    pub(super) fn activate_pending_gift_cards(&self) {
        let now = self.now();
        let mut st = self.lock();
        self.activate_gift_cards_up_to(&mut st.store, now, None);
    }

    // --- customers ---

    pub(super) fn sv_customer(&self, id: &str) -> Result<CustomerDto, ApiError> {
        self.lock().require_user()?;
        let c = self
            .ledgers
            .customers
            .customer(id)
            .map_err(|e| customer_error(e, CustomerLedger::Account, id))?;
        Ok(customer_dto(&c))
    }

    pub(super) fn sv_create_customer(
        &self,
        name: String,
        email: Option<String>,
        phone: Option<String>,
    ) -> Result<CustomerDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require_user()?;
        let (email, phone) = (clean(email), clean(phone));
        check_customer_fields(&name, email.as_deref())?;
        let id = format!("c-{}", Uuid::now_v7());
        let cur = st.settings.currency;
        st.store
            .add_customer(
                &NewCustomer {
                    id: id.clone(),
                    name: name.trim().to_owned(),
                    email,
                    phone,
                    store_credit: Money::zero(cur),
                    account_limit: None,
                },
                now,
            )
            .map_err(store_error)?;
        st.sv_audit(now, "customer_created", None, json!({"customer": id}))?;
        drop(st);
        self.sv_customer(&id)
    }

    pub(super) fn sv_update_customer(
        &self,
        id: &str,
        name: String,
        email: Option<String>,
        phone: Option<String>,
    ) -> Result<CustomerDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require_user()?;
        let (email, phone) = (clean(email), clean(phone));
        check_customer_fields(&name, email.as_deref())?;
        let found = st
            .store
            .update_customer(id, name.trim(), email.as_deref(), phone.as_deref())
            .map_err(store_error)?;
        if !found {
            return Err(ApiError::new("customer.unknown", "no such customer"));
        }
        st.sv_audit(now, "customer_updated", None, json!({"customer": id}))?;
        drop(st);
        self.sv_customer(id)
    }

    /// Gives an account, changes its limit, or (None) closes it: `customer_credit` or a
    /// manager's PIN; audited with the old and new limit before it is applied.
    pub(super) fn sv_set_customer_limit(
        &self,
        id: &str,
        limit: Option<i64>,
        approver_pin: Option<String>,
    ) -> Result<CustomerDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require_user()?;
        let cur = st.settings.currency;
        let before = st
            .store
            .customer(id)
            .map_err(store_error)?
            .ok_or_else(|| ApiError::new("customer.unknown", "no such customer"))?;
        if let Some(l) = limit
            && !(0..=pos_core::money::MAX_MINOR).contains(&l)
        {
            return Err(ApiError::new(
                "pay.non_positive",
                "the limit is out of range",
            ));
        }
        if limit.unwrap_or(0) < before.account_balance.minor {
            return Err(limit_error(before.account_balance));
        }
        let what = json!({
            "customer": id,
            "limit_before": before.account_limit.map(|l| l.minor),
            "limit_after": limit,
            "owed": before.account_balance.minor,
            "currency": cur.code(),
        });
        let approver = st.authorize(
            Permission::CustomerCredit,
            "customer_limit",
            approver_pin.as_deref(),
            &what,
            now,
        )?;
        st.sv_audit(
            now,
            "customer_limit",
            approver.as_ref().map(|a| a.id.as_str()),
            what,
        )?;
        let c = st
            .store
            .set_customer_account_limit(id, limit.map(|l| Money::new(l, cur)))
            .map_err(|e| match e {
                LedgerError::LimitBelowBalance { owed } => limit_error(owed),
                other => customer_error(other, CustomerLedger::Account, id),
            })?;
        Ok(customer_dto(&c))
    }

    /// The statement of a customer's account (or store credit), printed when asked.
    pub(super) fn sv_statement(
        &self,
        id: &str,
        store_credit: bool,
        print: bool,
    ) -> Result<StatementDto, ApiError> {
        let now = self.now();
        let st = self.lock();
        st.require_user()?;
        let ledger = if store_credit {
            CustomerLedger::StoreCredit
        } else {
            CustomerLedger::Account
        };
        let s = st
            .store
            .customer_statement(id, ledger)
            .map_err(store_error)?
            .ok_or_else(|| ApiError::new("customer.unknown", "no such customer"))?;
        let settings = st.settings.clone();
        drop(st);
        let lang = Lang::parse(&settings.locale);
        let paper = self.hardware.config().printer.paper;
        let doc = statement_document(&s, &settings, now, paper);
        let number = format!("{}-{}", s.customer.id, ledger.code());
        if print {
            let bytes = render(
                &doc,
                &crate::receipt::configured_profile(
                    lang,
                    paper,
                    self.hardware.config().printer.model,
                ),
            )
            .map_err(|e| ApiError::new("device.print_encode", e.to_string()))?;
            self.hardware
                .print(&format!("statement-{}", Uuid::now_v7()), bytes)?;
        }
        Ok(StatementDto {
            customer: customer_dto(&s.customer),
            ledger: ledger.code().to_owned(),
            opening: s.opening.into(),
            closing: s.closing.into(),
            entries: s
                .entries
                .iter()
                .map(|e| StatementEntryDto {
                    kind: statement_kind(e.kind).to_owned(),
                    when: when(&settings, e.at, lang),
                    receipt: e.receipt.clone(),
                    amount: e.amount.into(),
                    balance: e.balance.into(),
                })
                .collect(),
            preview: preview_of(&doc, lang, &number),
            printed: print,
        })
    }

    /// A customer pays (part of) their account: cash into the drawer of the open register
    /// session (opened as a sale would open it), or card through the payment terminal; a
    /// numbered receipt is printed.
    pub(super) async fn sv_pay_account(
        &self,
        customer_id: &str,
        amount: i64,
        tender: AccountTenderDto,
        tendered: Option<i64>,
    ) -> Result<AccountPaymentDto, ApiError> {
        let now = self.now();
        // An account payment whose card was charged before a crash is recorded first.
        self.finish_interrupted_account_payment()?;
        let id = Uuid::now_v7();
        let (cur, customer, user) = {
            let mut st = self.lock();
            let user = st.require_user()?.clone();
            if st.stage == Stage::Paying {
                return Err(ApiError::new(
                    "sale.payment_in_progress",
                    "finish or cancel the payment first",
                ));
            }
            let cur = st.settings.currency;
            let customer = st
                .store
                .customer(customer_id)
                .map_err(store_error)?
                .ok_or_else(|| ApiError::new("customer.unknown", "no such customer"))?;
            if customer.account_limit.is_none() {
                return Err(customer_error(
                    LedgerError::NotUsable(customer.id.clone()),
                    CustomerLedger::Account,
                    &customer.name,
                ));
            }
            if amount <= 0 {
                return Err(ledger_error(LedgerError::NonPositive));
            }
            if amount > customer.account_balance.minor {
                return Err(pays_more_error(customer.account_balance));
            }
            if tender == AccountTenderDto::Cash {
                st.cash_session_for_sale(&user, now)?;
            }
            (cur, customer, user)
        };
        let money = Money::new(amount, cur);
        let (handed, reference) = match tender {
            AccountTenderDto::Cash => {
                let handed = tendered.unwrap_or(amount);
                if handed < amount {
                    return Err(ApiError::new("pay.insufficient", "not enough cash")
                        .with("remaining", amount - handed));
                }
                (Money::new(handed, cur), None)
            }
            AccountTenderDto::Card => {
                let terminal = self.terminal.get().cloned().ok_or_else(|| {
                    ApiError::new(
                        "pay.terminal_unavailable",
                        "no payment terminal is connected",
                    )
                })?;
                // Written before the card is charged: a crash between the terminal's approval
                // and the account entry is finished at the next start (or payment).
                self.save_account_payment_draft(&AccountPaymentDraft {
                    id,
                    customer_id: customer.id.clone(),
                    amount,
                    cashier_id: user.id.clone(),
                    cashier_name: user.name.clone(),
                })?;
                let _pending = self.card_pending.begin();
                let approval = match terminal.authorize(money, &id.to_string()).await {
                    Ok(a) => a,
                    Err(e) => {
                        // Nothing was charged (or it is not known yet: then the draft stays).
                        if !matches!(
                            e,
                            pos_hardware::payment::PaymentError::OutcomeUnknown { .. }
                        ) {
                            self.clear_account_payment_draft()?;
                        }
                        return Err(crate::errors::payment_error(e));
                    }
                };
                let reference = super::card_reference(&approval, None);
                (money, Some(reference).filter(|r| !r.is_empty()))
            }
        };
        let mut st = self.lock();
        let session_id = st
            .store
            .open_cash_session(&self.config.terminal_id)
            .map_err(store_error)?
            .map(|s| s.id.to_string());
        let paid = st
            .store
            .pay_customer_account(
                &NewAccountPayment {
                    id: id.to_string(),
                    terminal_id: self.config.terminal_id.clone(),
                    session_id,
                    customer_id: customer.id.clone(),
                    tender: match tender {
                        AccountTenderDto::Cash => "cash".into(),
                        AccountTenderDto::Card => "card".into(),
                    },
                    amount: money,
                    tendered: handed,
                    reference,
                    cashier_id: user.id.clone(),
                    cashier_name: user.name.clone(),
                },
                now,
            )
            .map_err(|e| match e {
                LedgerError::PaysMoreThanOwed { owed } => pays_more_error(owed),
                other => customer_error(other, CustomerLedger::Account, &customer.name),
            })?;
        if tender == AccountTenderDto::Card {
            st.store
                .clear_account_payment_draft(&self.config.terminal_id)
                .map_err(store_error)?;
        }
        let settings = st.settings.clone();
        let after = st
            .store
            .customer(&customer.id)
            .map_err(store_error)?
            .unwrap_or(customer.clone());
        drop(st);
        let lang = Lang::parse(&settings.locale);
        let printer = self.hardware.config().printer.clone();
        let doc = account_payment_document(
            &paid,
            &customer.name,
            &self.config.terminal_id,
            &settings,
            printer.paper,
        );
        match render(
            &ReceiptDocument {
                open_drawer: false,
                ..doc.clone()
            },
            &crate::receipt::configured_profile(lang, printer.paper, printer.model),
        ) {
            Ok(bytes) => {
                if let Err(e) = self.hardware.print(&paid.id, bytes) {
                    tracing::warn!(
                        "account payment {} not queued: {}",
                        paid.document,
                        e.message
                    );
                }
            }
            Err(e) => tracing::warn!("account payment {} cannot be encoded: {e}", paid.document),
        }
        if tender == AccountTenderDto::Cash {
            self.hardware.open_drawer();
        }
        Ok(AccountPaymentDto {
            document: paid.document.clone(),
            customer: customer_dto(&after),
            tender,
            amount: paid.amount.into(),
            tendered: paid.tendered.into(),
            change: Money::new(paid.tendered.minor - paid.amount.minor, cur).into(),
            receipt: preview_of(&doc, lang, &paid.document),
        })
    }

    fn save_account_payment_draft(&self, d: &AccountPaymentDraft) -> Result<(), ApiError> {
        let value =
            serde_json::to_string(d).map_err(|e| ApiError::new("app.internal", e.to_string()))?;
        self.lock()
            .store
            .save_account_payment_draft(&self.config.terminal_id, &value)
            .map_err(store_error)
    }

    fn clear_account_payment_draft(&self) -> Result<(), ApiError> {
        self.lock()
            .store
            .clear_account_payment_draft(&self.config.terminal_id)
            .map_err(store_error)
    }

    /// An account payment by card whose card was charged but whose account entry was not
    /// written (the app stopped in between): recorded now with the terminal's approval,
    /// exactly once (the entry is keyed by the payment's id). A payment the terminal did not
    /// approve is forgotten; one whose outcome is still unknown waits (`pay.card_outcome_pending`
    /// for a new payment until the terminal settles it).
    pub(super) fn finish_interrupted_account_payment(&self) -> Result<(), ApiError> {
        use pos_hardware::payment::PendingPaymentStore;
        let draft = self
            .lock()
            .store
            .account_payment_draft(&self.config.terminal_id)
            .map_err(store_error)?;
        let Some(draft) = draft else { return Ok(()) };
        let Ok(d) = serde_json::from_str::<AccountPaymentDraft>(&draft) else {
            tracing::error!("unreadable account payment draft: {draft}");
            return self.clear_account_payment_draft();
        };
        let approval = match self.hardware.pending_payments.get(&d.id.to_string()) {
            Ok(Some(p)) => match p.state {
                pos_hardware::payment::PendingState::Approved { approval } => approval,
                pos_hardware::payment::PendingState::InFlight => {
                    return Err(ApiError::new(
                        "pay.card_outcome_pending",
                        "an account payment by card is waiting for the terminal's answer",
                    ));
                }
                _ => return self.clear_account_payment_draft(),
            },
            _ => return self.clear_account_payment_draft(),
        };
        let reference = super::card_reference(&approval, None);
        let now = self.now();
        let mut st = self.lock();
        let cur = st.settings.currency;
        let session_id = st
            .store
            .open_cash_session(&self.config.terminal_id)
            .map_err(store_error)?
            .map(|s| s.id.to_string());
        let money = Money::new(d.amount, cur);
        let paid = st.store.pay_customer_account(
            &NewAccountPayment {
                id: d.id.to_string(),
                terminal_id: self.config.terminal_id.clone(),
                session_id,
                customer_id: d.customer_id.clone(),
                tender: "card".into(),
                amount: money,
                tendered: money,
                reference: Some(reference).filter(|r| !r.is_empty()),
                cashier_id: d.cashier_id.clone(),
                cashier_name: d.cashier_name.clone(),
            },
            now,
        );
        drop(st);
        match paid {
            Ok(p) => tracing::warn!(
                "account payment {} of customer {} finished after an interruption",
                p.document,
                d.customer_id
            ),
            // Charged, but the account cannot take it any more (paid meanwhile): kept in the
            // log for a manager; the card payment stays in the terminal's records.
            Err(e) => tracing::error!(
                "account payment {} charged to the card but not recorded: {e}",
                d.id
            ),
        }
        self.clear_account_payment_draft()
    }

    /// Attaches a customer to the sale in progress (None detaches); the receipt shows them.
    pub(super) fn sv_attach_customer(
        &self,
        customer_id: Option<String>,
    ) -> Result<SaleDto, ApiError> {
        let found = match customer_id.as_deref() {
            Some(id) => Some(
                self.ledgers
                    .customers
                    .customer(id)
                    .map_err(|e| customer_error(e, CustomerLedger::Account, id))?,
            ),
            None => None,
        };
        let mut st = self.lock();
        st.require_user()?;
        st.cart.set_customer(found.map(|c| SaleCustomer {
            id: c.id,
            name: c.name,
        }));
        st.changed();
        self.publish(&st)
    }
}

fn limit_error(owed: Money) -> ApiError {
    ApiError::new(
        "customer.limit_below_balance",
        "the limit cannot be lower than what the customer owes",
    )
    .with("owed", owed.minor)
}

fn pays_more_error(owed: Money) -> ApiError {
    ApiError::new(
        "customer.pays_more_than_owed",
        "the payment is more than the customer owes",
    )
    .with("owed", owed.minor)
}

impl State {
    /// Whether the sale in progress sells gift cards (a gift card may not buy another).
    pub(super) fn sells_gift_cards(&self) -> bool {
        self.cart.lines().iter().any(|l| l.voucher.is_some())
    }

    /// Appends one audit row for the logged-in user's action on a customer.
    fn sv_audit(
        &mut self,
        now: OffsetDateTime,
        action: &str,
        approver_id: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<(), ApiError> {
        let user_id = self.user.as_ref().map(|u| u.id.clone());
        self.store
            .append_audit(
                &pos_store::NewAuditEntry {
                    terminal_id: &self.terminal_id,
                    action,
                    user_id: user_id.as_deref(),
                    approver_id,
                    sale_ref: None,
                    detail,
                },
                now,
            )
            .map(|_| ())
            .map_err(store_error)
    }
}

/// A gift card may not pay for a sale that sells gift cards.
pub(super) fn refuse_gift_card_for_vouchers(st: &State, kind: TenderKind) -> Result<(), ApiError> {
    if kind == TenderKind::GiftCard && st.sells_gift_cards() {
        return Err(ApiError::new(
            "gift_card.buys_gift_card",
            "a gift card cannot pay for another gift card",
        ));
    }
    Ok(())
}

/// An account payment by card about to be charged (see `finish_interrupted_account_payment`).
#[derive(Debug, Serialize, Deserialize)]
struct AccountPaymentDraft {
    id: Uuid,
    customer_id: String,
    amount: i64,
    cashier_id: String,
    cashier_name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_numbers_carry_a_check_digit_and_are_not_bank_cards() {
        let n = card_number_from(1234);
        assert_eq!(n.len(), 19);
        assert!(n.starts_with("960000000000001234"));
        assert!(luhn_valid(&n));
        assert!(!pos_hardware::card::is_bank_card(&n));
        let mut typo = n.clone().into_bytes();
        typo[10] = if typo[10] == b'9' { b'0' } else { typo[10] + 1 };
        assert!(!luhn_valid(std::str::from_utf8(&typo).unwrap()));
        let a = generate_card_number();
        let b = generate_card_number();
        assert_ne!(a, b);
        assert!(luhn_valid(&a) && luhn_valid(&b));
        // A known Luhn example: 7992739871 + 3.
        assert_eq!(luhn_digit("7992739871"), 3);
    }

    #[test]
    fn the_slip_of_a_generated_card_carries_its_number_as_code128_bytes() {
        use pos_core::sale::{Cashier, SaleContext};
        use pos_core::{Cart, ReceiptNumber, Tender, TenderKind};
        let settings = pos_store::demo::settings(pos_store::Country::Es);
        let number = card_number_from(42);
        let mut cart = Cart::new(Currency::Eur, settings.tax_policy);
        let eur = |m| Money::new(m, Currency::Eur);
        cart.add_voucher(
            ProductRef {
                variant_id: "gift-card".into(),
                sku: "GIFT-CARD".into(),
                names: voucher_names(VoucherKind::Issue, &mask_number(&number)),
                barcode: None,
                unit_price: eur(2_000),
                tax: TaxRate::new("NONE", 0, false),
                by_weight: false,
            },
            Voucher {
                kind: VoucherKind::Issue,
                number: number.clone(),
                print_code: true,
            },
            eur(2_000),
        )
        .unwrap();
        let sale = cart
            .complete(
                vec![Tender {
                    kind: TenderKind::Cash,
                    amount: eur(2_000),
                    reference: None,
                }],
                SaleContext {
                    id: Uuid::nil(),
                    receipt: ReceiptNumber {
                        series: "T01".into(),
                        number: 7,
                    },
                    terminal_id: "T01".into(),
                    cashier: Cashier {
                        id: "u".into(),
                        name: "Ana".into(),
                    },
                    at: OffsetDateTime::UNIX_EPOCH,
                    cash_rounding: pos_core::CashRounding {
                        increment: 1,
                        direction: pos_core::RoundingDirection::HalfUp,
                    },
                },
            )
            .unwrap();
        let bytes = crate::receipt::bytes(&sale, &settings, PaperWidth::Mm80, false).unwrap();
        // GS k 73 n, then code set B and the 19 digits (odd: not code set C).
        let mut expected = vec![0x1d, b'k', 73, 21, b'{', b'B'];
        expected.extend_from_slice(number.as_bytes());
        assert!(
            bytes
                .windows(expected.len())
                .any(|w| w == expected.as_slice()),
            "the CODE128 command with the card's number"
        );
        let text = pos_hardware::escpos::decode::decode(&bytes).text(PaperWidth::Mm80);
        assert!(text.contains(&format!("[CODE128: {number}]")), "{text}");
        assert!(text.contains("Saldo"), "{text}");
        // The receipt's line shows the card masked; the full number is on the slip only.
        assert_eq!(
            text.matches(&number).count(),
            2,
            "the slip's number line and barcode only"
        );
    }

    #[test]
    fn quick_amounts_fit_the_currency() {
        assert_eq!(
            quick_amounts(Currency::Jpy),
            vec![1_000, 3_000, 5_000, 10_000]
        );
        assert!(
            quick_amounts(Currency::Eur)
                .iter()
                .all(|a| *a <= max_amount(Currency::Eur).minor)
        );
    }
}
