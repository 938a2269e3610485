//! Returns, refunds and exchanges at the register (⇧F12 on the sale screen).
//!
//! Finding the sale: the QR code on every receipt holds its number (`T01-000123`, see
//! `receipt.rs`); a scan or a typed code is read by `pos_core::returns::parse_receipt_code` and
//! looked up locally; a garbled code, another store's code, a return's own number or an
//! unknown number each get their own message. Or search by date, total, the card's last four
//! digits, the customer, part of the receipt number. The sale is shown with what each line
//! can still be returned (sold minus every earlier return).
//!
//! A return is a new immutable document with its own gap-free series per terminal (`T01R-…`),
//! referencing the sale it corrects (pos-store's `returns.rs`); amounts and tax per rate come
//! from pos-core's tax engine, cumulatively, so returns of a whole sale refund exactly its
//! total. It is printed through the print queue and previewed on screen.
//!
//! Refunds go to the original tenders by default: cash from the drawer (the session's X/Z
//! reports count it), card through the payment terminal — the whole card payment of a sale this
//! register took today is *reversed* (ZVT 06 30 naming the original receipt, keyed
//! `<return id>-<n>-reversal`), anything else is *refunded* (06 31 keyed `<return id>-<n>`),
//! both written as pending before they are sent, so never twice; a reversal the terminal cannot
//! make (its batch was closed) becomes a refund, and one that may have happened (a lost answer)
//! is retried under a new key before anything is refunded ("already reversed" proves it); the
//! document keeps the original card transaction's terminal receipt and trace numbers and the
//! terminal's slip —; gift
//! card back onto the card (a keyed top-up through the `GiftCardLedger`), store credit or
//! account back to the customer. Or everything to one customer's store credit, or (with the
//! `refund` permission) to cash. A return without a receipt needs `refund` or a manager's
//! PIN and defaults to store credit. Every return writes an audit row before money moves.
//!
//! Exactly once: before any money moves outside the database (the card terminal, a ledger
//! that may be remote), the return's id and request are saved as the terminal's *draft*.
//! A retry — after a declined card, a crash, a failed commit — with the same request reuses
//! the id, so the terminal's pending-payment record and the ledgers' keys replay their first
//! outcome instead of paying again; the commit removes the draft in its transaction, and a
//! committed id is never committed again. A different return is refused while a draft whose
//! money already moved is unfinished (`returns.unfinished`); `returns_resume` finishes it.
//!
//! Exchanges ("returned lines and new lines together"): the returned goods become a return
//! whose refund is *store credit applied to the sale in progress*. `returns_exchange` commits
//! the return (its refund a `store_credit` tender with the reference `exchange <return no>`)
//! and takes that credit as a tender of the sale in progress in the same call: the sale's
//! payment screen then shows only the difference to pay; if the returned goods are worth more
//! than the new ones, the rest is refunded to the original tenders (or cash) on the same
//! return document. The return and its credit are one SQLite transaction; the new sale commits
//! when it is paid, like any sale (the credit tender is kept with the sale in progress, so a
//! crash brings it back).

use super::{Register, State, cash_rounding, tender_kind_dto};
use crate::dto::*;
use crate::errors::{ledger_error, payment_error, store_error};
use pos_core::auth::Permission;
use pos_core::cart::Quantity;
use pos_core::returns::{
    self as core_returns, CompletedReturn, Disposition, OriginalSale, PricedReturn, Refund,
    ReturnContext, ReturnError, ReturnRequestLine, UnreceiptedLine,
};
use pos_core::sale::Cashier;
use pos_core::{CompletedSale, Money, TenderKind};
use pos_hardware::payment::{PendingPaymentStore, PendingState};
use pos_store::customers::CustomerLedger;
use pos_store::remote_sales::RemoteSource;
use pos_store::returns::{SaleSearch, return_series};
use pos_store::{CommitError, NewAuditEntry, User};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use ts_rs::TS;
use uuid::Uuid;

// ---- wire types --------------------------------------------------------------------------------

/// A line of the original sale, with what can still be returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReturnableLineDto {
    /// Position in the sale, 1-based: what a return line refers to.
    pub line_no: u32,
    pub sku: String,
    pub names: BTreeMap<String, String>,
    /// Units, or grams for a weighed line.
    pub sold: i64,
    pub returnable: i64,
    pub by_weight: bool,
    pub unit_price: MoneyDto,
    /// What the line finally cost (after its discounts and its share of the order discount).
    pub amount: MoneyDto,
    pub reduced: bool,
}

/// One tender of the original sale, with what it can still take back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReturnTenderDto {
    pub position: u32,
    pub kind: TenderKindDto,
    /// What it paid toward the total (cash: net of change).
    pub paid: MoneyDto,
    pub refundable: MoneyDto,
    pub reference: Option<String>,
}

/// The sale a return is made against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReturnSaleDto {
    pub sale_id: String,
    pub receipt_number: String,
    /// RFC 3339.
    pub at: String,
    pub cashier: String,
    pub customer: Option<String>,
    pub total: MoneyDto,
    pub lines: Vec<ReturnableLineDto>,
    pub tenders: Vec<ReturnTenderDto>,
    /// Numbers of the returns already made against it (on any terminal the shop knows of).
    pub earlier_returns: Vec<String>,
    /// Where it was sold: "here", "terminal" (another register of the store) or "online".
    pub sold_at: String,
    /// The register that sold it (another terminal's sale), or the web order's code.
    pub sold_by: Option<String>,
    /// Shown from this register's copy because the shop cannot be reached: returns made
    /// elsewhere since it was fetched are not known.
    pub offline_copy: bool,
    /// A web order paid online: its payment cannot be refunded here (cash or store credit).
    pub paid_online: bool,
}

/// A sale found by a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SaleFoundDto {
    pub sale_id: String,
    pub receipt_number: String,
    pub at: String,
    pub total: MoneyDto,
    pub item_count: i64,
    pub tenders: Vec<TenderKindDto>,
    pub customer: Option<String>,
}

/// What to look for (every given field must match).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReturnSearchDto {
    /// A day, "YYYY-MM-DD" (the store's local day).
    pub date: Option<String>,
    /// The sale's total in minor units.
    pub total: Option<i64>,
    pub card_last4: Option<String>,
    pub customer: Option<String>,
    pub receipt: Option<String>,
}

/// A line of the original sale to return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReturnLineDto {
    pub line_no: u32,
    /// Units, or grams for a weighed line.
    pub quantity: i64,
    /// A write-off reason ("damaged", "expired", "defective", "opened", "other"); None: back
    /// to stock.
    pub write_off: Option<String>,
}

/// Goods returned without a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UnreceiptedLineDto {
    pub variant_id: String,
    pub quantity: i64,
    pub write_off: Option<String>,
}

/// Where the money goes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RefundToDto {
    /// The original tenders (the default with a receipt).
    Original,
    /// All onto this customer's store credit (the default without a receipt).
    #[serde(rename_all = "camelCase")]
    StoreCredit { customer_id: String },
    /// All in cash (needs the refund permission when the sale was not paid in cash).
    Cash,
}

/// A return as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReturnRequestDto {
    /// The original sale; None for a return without a receipt.
    pub sale_id: Option<String>,
    pub lines: Vec<ReturnLineDto>,
    /// Without a receipt: the goods brought back.
    pub items: Vec<UnreceiptedLineDto>,
    pub refund_to: RefundToDto,
}

/// One returned line as priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReturnedLineDto {
    pub line_no: Option<u32>,
    pub sku: String,
    pub names: BTreeMap<String, String>,
    pub quantity: i64,
    pub by_weight: bool,
    pub amount: MoneyDto,
    pub write_off: Option<String>,
}

/// One refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RefundDto {
    pub kind: TenderKindDto,
    pub amount: MoneyDto,
    pub reference: Option<String>,
    pub original_reference: Option<String>,
}

/// What a return would refund, before it is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReturnPreviewDto {
    pub lines: Vec<ReturnedLineDto>,
    pub taxes: Vec<TaxRowDto>,
    pub tax_total: MoneyDto,
    pub total: MoneyDto,
    /// Exact amounts (a cash refund is rounded when it is made).
    pub refunds: Vec<RefundDto>,
    /// The user may not make this return alone: a manager's PIN is needed (refund permission).
    pub needs_approval: bool,
}

/// A return made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReturnDoneDto {
    pub return_id: String,
    pub number: String,
    pub original: Option<String>,
    pub total: MoneyDto,
    pub refunds: Vec<RefundDto>,
    pub receipt: ReceiptPreviewDto,
    /// The document went to the receipt printer.
    pub printed: bool,
    /// An exchange: the sale in progress after the returned goods' credit was taken as its
    /// tender (completed when the credit covered it).
    pub exchange: Option<PayResultDto>,
}

/// The reference of an exchange's credit: on the return's refund `exchange <sale id>`, on the
/// new sale's tender `exchange <return number>`.
const EXCHANGE: &str = "exchange";

// ---- errors ------------------------------------------------------------------------------------

fn return_error(e: ReturnError) -> ApiError {
    let msg = e.to_string();
    match e {
        ReturnError::Empty => ApiError::new("returns.nothing_selected", msg),
        ReturnError::NoSuchLine(n) => ApiError::new("returns.no_such_line", msg).with("line", n),
        ReturnError::MoreThanReturnable { line_no, remaining } => {
            ApiError::new("returns.more_than_returnable", msg)
                .with("line", line_no)
                .with("remaining", remaining)
        }
        ReturnError::NonPositive => ApiError::new("returns.non_positive", msg),
        ReturnError::DuplicateLine(n) => ApiError::new("returns.no_such_line", msg).with("line", n),
        ReturnError::UnknownReason => ApiError::new("returns.write_off_reason", msg),
        ReturnError::NotReturnable(n) => {
            ApiError::new("returns.not_returnable", msg).with("line", n)
        }
        ReturnError::RefundMismatch { .. } | ReturnError::TenderOverRefund { .. } => {
            ApiError::new("returns.refund_mismatch", msg)
        }
        ReturnError::WrongCurrency { .. } => ApiError::new("pay.wrong_currency", msg),
        ReturnError::Cart(c) => crate::errors::cart_error(c),
    }
}

fn commit_error(e: CommitError<ReturnError>) -> ApiError {
    match e {
        CommitError::Build(r) => return_error(r),
        CommitError::Store(s) => store_error(s),
        other => ApiError::new("store.error", other.to_string()),
    }
}

fn unknown_sale(receipt: &str) -> ApiError {
    ApiError::new(
        "returns.unknown_sale",
        format!("no sale {receipt} on this terminal"),
    )
    .with("receipt", receipt)
}

// ---- pricing and planning ------------------------------------------------------------------------

/// A return worked out, not made yet.
struct Plan {
    sale: Option<CompletedSale>,
    priced: PricedReturn,
    /// Exact amounts; card and gift-card rows carry their original tender's position.
    refunds: Vec<Refund>,
    caps: BTreeMap<u32, i64>,
    /// Why the refund permission is needed, if it is.
    needs_permission: Option<&'static str>,
}

fn disposition(write_off: &Option<String>) -> Disposition {
    match write_off.as_deref().map(str::trim) {
        None | Some("") => Disposition::Restock,
        Some(r) => Disposition::WriteOff {
            reason: r.to_owned(),
        },
    }
}

/// What each original tender can still take back: paid minus earlier refunds to it.
fn caps_of(sale: &CompletedSale, earlier: &[CompletedReturn]) -> BTreeMap<u32, i64> {
    let refunded = core_returns::refunded_so_far(earlier);
    core_returns::tender_contributions(sale)
        .into_iter()
        .map(|(p, _, paid)| (p, (paid - refunded.get(&p).copied().unwrap_or(0)).max(0)))
        .collect()
}

/// Whether part of the sale was paid online (a web order's payment: see remote_returns.rs).
fn paid_online(sale: &CompletedSale) -> bool {
    sale.tenders().iter().any(is_online_payment)
}

fn is_online_payment(t: &pos_core::Tender) -> bool {
    t.kind == TenderKind::Card
        && t.reference
            .as_deref()
            .is_some_and(|r| r.starts_with(super::remote_returns::ONLINE_PAYMENT))
}

fn parse_sale_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id.trim()).map_err(|_| unknown_sale(id))
}

impl Register {
    /// This terminal's sale, or one fetched from the shop earlier (remote_returns.rs).
    pub(super) fn load_sale(&self, st: &State, id: &str) -> Result<CompletedSale, ApiError> {
        let id = parse_sale_id(id)?;
        if let Some(sale) = st.store.sale_by_id(id).map_err(store_error)? {
            return Ok(sale);
        }
        self.kept_remote_sale(st, id)?
            .map(|r| r.sale)
            .ok_or_else(|| unknown_sale(&id.to_string()))
    }

    /// The terminal's record of a sale's card payment at `position` (its approval), if kept.
    fn card_approval(
        &self,
        sale: &CompletedSale,
        position: u32,
    ) -> Option<pos_hardware::payment::Approval> {
        let ref_id = format!("{}-{position}", sale.id());
        match self.hardware.pending_payments.get(&ref_id) {
            Ok(Some(p)) => match p.state {
                PendingState::Approved { approval } => Some(approval),
                _ => None,
            },
            _ => None,
        }
    }

    pub(super) fn sale_dto(
        &self,
        st: &State,
        sale: &CompletedSale,
    ) -> Result<ReturnSaleDto, ApiError> {
        let remote = match st.store.sale_by_id(sale.id()).map_err(store_error)? {
            Some(_) => None,
            None => self.kept_remote_sale(st, sale.id())?,
        };
        let earlier = st.store.returns_of_sale(sale.id()).map_err(store_error)?;
        let remaining = core_returns::returnable(sale, &core_returns::returned_so_far(&earlier));
        let caps = caps_of(sale, &earlier);
        let cur = sale.currency();
        Ok(ReturnSaleDto {
            sale_id: sale.id().to_string(),
            receipt_number: sale.receipt().to_string(),
            at: rfc3339(sale.at()),
            cashier: sale.cashier().name.clone(),
            customer: sale.customer().map(|c| c.name.clone()),
            total: sale.totals().total.into(),
            lines: sale
                .lines()
                .iter()
                .zip(remaining)
                .enumerate()
                .map(|(i, (s, left))| ReturnableLineDto {
                    line_no: i as u32 + 1,
                    sku: s.line.product.sku.clone(),
                    names: s.line.product.names.clone(),
                    sold: match s.line.quantity {
                        Quantity::Units(n) | Quantity::Grams(n) => n,
                    },
                    returnable: left,
                    by_weight: matches!(s.line.quantity, Quantity::Grams(_)),
                    unit_price: s.line.unit_price.into(),
                    amount: s.total.amount.into(),
                    reduced: s.line.product.tax.reduced,
                })
                .collect(),
            tenders: core_returns::tender_contributions(sale)
                .into_iter()
                .map(|(p, kind, paid)| ReturnTenderDto {
                    position: p,
                    kind: tender_kind_dto(kind),
                    paid: Money::new(paid, cur).into(),
                    refundable: Money::new(caps.get(&p).copied().unwrap_or(0), cur).into(),
                    reference: sale.tenders()[p as usize - 1].reference.clone(),
                })
                .collect(),
            earlier_returns: earlier.iter().map(|r| r.number.to_string()).collect(),
            sold_at: match &remote {
                None => "here".into(),
                Some(r) if r.source == RemoteSource::Online => "online".into(),
                Some(_) => "terminal".into(),
            },
            sold_by: match &remote {
                None => None,
                Some(r) if r.source == RemoteSource::Online => r.order_code.clone(),
                Some(_) => Some(sale.terminal_id().to_owned()),
            },
            offline_copy: false,
            paid_online: paid_online(sale),
        })
    }

    /// Prices the request and works out its refunds; nothing is written. For an exchange,
    /// `credit` of the total is kept as store credit for the sale in progress (the first refund,
    /// referenced `exchange <sale id>`); the rest goes where `refund_to` says.
    fn plan(&self, st: &State, req: &ReturnRequestDto, credit: i64) -> Result<Plan, ApiError> {
        let cur = st.settings.currency;
        let (sale, priced, earlier) = match &req.sale_id {
            Some(id) => {
                let sale = self.load_sale(st, id)?;
                let earlier = st.store.returns_of_sale(sale.id()).map_err(store_error)?;
                let lines: Vec<ReturnRequestLine> = req
                    .lines
                    .iter()
                    .map(|l| ReturnRequestLine {
                        line_no: l.line_no,
                        quantity: l.quantity,
                        disposition: disposition(&l.write_off),
                    })
                    .collect();
                let priced = core_returns::price_return(
                    &sale,
                    &core_returns::returned_so_far(&earlier),
                    &lines,
                )
                .map_err(return_error)?;
                (Some(sale), priced, earlier)
            }
            None => {
                let mut items = Vec::with_capacity(req.items.len());
                for it in &req.items {
                    let item = st
                        .store
                        .get_variant(&it.variant_id, &self.config.location_id)
                        .map_err(store_error)?
                        .ok_or_else(|| {
                            ApiError::new("scan.unknown_code", "no such product")
                                .with("code", &it.variant_id)
                        })?;
                    items.push(UnreceiptedLine {
                        quantity: if item.by_weight {
                            Quantity::Grams(it.quantity)
                        } else {
                            Quantity::Units(it.quantity)
                        },
                        product: item.to_product_ref(),
                        disposition: disposition(&it.write_off),
                    });
                }
                let priced = core_returns::price_unreceipted(cur, st.settings.tax_policy, &items)
                    .map_err(return_error)?;
                (None, priced, Vec::new())
            }
        };
        let total = Money::new(priced.total.minor - credit, cur);
        let one = |kind: TenderKind, reference: Option<String>| {
            vec![Refund {
                kind,
                amount: total,
                original_tender: None,
                reference,
                original_reference: None,
                slip: Vec::new(),
            }]
        };
        let (mut refunds, caps, needs) = match (&req.refund_to, &sale) {
            _ if total.minor == 0 => (
                Vec::new(),
                sale.as_ref()
                    .map(|s| caps_of(s, &earlier))
                    .unwrap_or_default(),
                None,
            ),
            (RefundToDto::Original, Some(sale)) => {
                let refunded = core_returns::refunded_so_far(&earlier);
                if core_returns::default_refunds(sale, &refunded, total)
                    .iter()
                    .any(|(p, _, _)| is_online_payment(&sale.tenders()[*p as usize - 1]))
                {
                    return Err(ApiError::new(
                        "returns.paid_online",
                        "this web order was paid online: refund it in cash or to store credit",
                    ));
                }
                let refunds = core_returns::default_refunds(sale, &refunded, total)
                    .into_iter()
                    .map(|(p, kind, amount)| {
                        let original = &sale.tenders()[p as usize - 1];
                        let original_reference = (kind == TenderKind::Card)
                            .then(|| self.card_approval(sale, p))
                            .flatten()
                            .map(|a| {
                                format!(
                                    "{:04}/{}",
                                    a.receipt_no,
                                    a.trace_no.map_or("-".into(), |t| format!("{t:06}"))
                                )
                            });
                        Refund {
                            kind,
                            amount,
                            original_tender: Some(p),
                            reference: original.reference.clone(),
                            original_reference,
                            slip: Vec::new(),
                        }
                    })
                    .collect();
                (refunds, caps_of(sale, &earlier), None)
            }
            (RefundToDto::Original, None) => {
                return Err(ApiError::new(
                    "returns.needs_customer",
                    "without a receipt, refund to a customer's store credit",
                ));
            }
            (RefundToDto::StoreCredit { customer_id }, _) => {
                let c = self
                    .ledgers
                    .customers
                    .customer(customer_id)
                    .map_err(|_| ApiError::new("customer.unknown", "no such customer"))?;
                (
                    one(
                        TenderKind::StoreCredit,
                        Some(format!("{} {}", c.id, c.name)),
                    ),
                    BTreeMap::new(),
                    None,
                )
            }
            (RefundToDto::Cash, Some(sale))
                if sale.tenders().iter().all(|t| t.kind == TenderKind::Cash) =>
            {
                (one(TenderKind::Cash, None), BTreeMap::new(), None)
            }
            (RefundToDto::Cash, _) => (
                one(TenderKind::Cash, None),
                BTreeMap::new(),
                Some("refund_to_cash"),
            ),
        };
        let needs = if sale.is_none() {
            Some("return_without_receipt")
        } else {
            needs
        };
        if credit > 0 {
            refunds.insert(
                0,
                Refund {
                    kind: TenderKind::StoreCredit,
                    amount: Money::new(credit, cur),
                    original_tender: None,
                    reference: Some(format!("{EXCHANGE} {}", st.sale_ref)),
                    original_reference: None,
                    slip: Vec::new(),
                },
            );
        }
        Ok(Plan {
            sale,
            priced,
            refunds,
            caps,
            needs_permission: needs,
        })
    }

    fn preview_dto(&self, st: &State, plan: &Plan) -> ReturnPreviewDto {
        let needs_approval = plan.needs_permission.is_some()
            && !st
                .user
                .as_ref()
                .is_some_and(|u| u.role.allows(Permission::Refund));
        ReturnPreviewDto {
            lines: plan.priced.lines.iter().map(returned_line_dto).collect(),
            taxes: plan.priced.taxes.iter().map(tax_row).collect(),
            tax_total: plan.priced.tax_total.into(),
            total: plan.priced.total.into(),
            refunds: plan.refunds.iter().map(refund_dto).collect(),
            needs_approval,
        }
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn tax_row(t: &pos_core::tax::TaxBreakdown) -> TaxRowDto {
    TaxRowDto {
        code: t.rate.code.clone(),
        label: t.rate.percent_label(),
        reduced: t.rate.reduced,
        net: t.net.into(),
        tax: t.tax.into(),
        gross: t.gross.into(),
    }
}

fn returned_line_dto(l: &core_returns::ReturnedLine) -> ReturnedLineDto {
    ReturnedLineDto {
        line_no: l.sale_line_no,
        sku: l.product.sku.clone(),
        names: l.product.names.clone(),
        quantity: match l.quantity {
            Quantity::Units(n) | Quantity::Grams(n) => n,
        },
        by_weight: matches!(l.quantity, Quantity::Grams(_)),
        amount: l.amount.into(),
        write_off: match &l.disposition {
            Disposition::Restock => None,
            Disposition::WriteOff { reason } => Some(reason.clone()),
        },
    }
}

fn refund_dto(r: &Refund) -> RefundDto {
    RefundDto {
        kind: tender_kind_dto(r.kind),
        amount: r.amount.into(),
        reference: r.reference.clone(),
        original_reference: r.original_reference.clone(),
    }
}

fn operator(u: &User) -> Cashier {
    Cashier {
        id: u.id.clone(),
        name: u.name.clone(),
    }
}

// ---- the commands ------------------------------------------------------------------------------

impl Register {
    /// A scanned or typed receipt code → the sale, with what can still be returned.
    pub(super) fn returns_find_receipt_now(&self, code: &str) -> Result<ReturnSaleDto, ApiError> {
        let st = self.lock();
        st.require_user()?;
        let shown = code.trim().chars().take(40).collect::<String>();
        let Some(number) = core_returns::parse_receipt_code(code) else {
            return Err(ApiError::new(
                "returns.bad_code",
                format!("{shown:?} is not a receipt code"),
            )
            .with("code", &shown));
        };
        if let Some(sale) = st
            .store
            .sale_by_receipt(&number.series, number.number)
            .map_err(store_error)?
        {
            return self.sale_dto(&st, &sale);
        }
        if st
            .store
            .return_by_number(&number.series, number.number)
            .map_err(store_error)?
            .is_some()
        {
            return Err(ApiError::new(
                "returns.is_a_return",
                "this is a return's receipt: scan the sale's receipt",
            )
            .with("receipt", number.to_string()));
        }
        Err(unknown_sale(&number.to_string()))
    }

    pub(super) fn returns_open_sale_now(&self, sale_id: &str) -> Result<ReturnSaleDto, ApiError> {
        let st = self.lock();
        st.require_user()?;
        let sale = self.load_sale(&st, sale_id)?;
        self.sale_dto(&st, &sale)
    }

    pub(super) fn returns_search_now(
        &self,
        q: &ReturnSearchDto,
    ) -> Result<Vec<SaleFoundDto>, ApiError> {
        let st = self.lock();
        st.require_user()?;
        let (from, until) = match q.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => {
                let fmt = time::macros::format_description!("[year]-[month]-[day]");
                let day = time::Date::parse(d, &fmt).map_err(|_| {
                    ApiError::new("returns.bad_date", "type the date as YYYY-MM-DD").with("date", d)
                })?;
                let start = day.midnight().assume_utc();
                let offset = crate::locale::utc_offset(&st.settings, start);
                let start = day.midnight().assume_offset(offset);
                (Some(start), Some(start + time::Duration::days(1)))
            }
            None => (None, None),
        };
        let search = SaleSearch {
            from,
            until,
            total_minor: q.total,
            card_last4: q.card_last4.clone(),
            customer: q.customer.clone(),
            receipt: q.receipt.clone(),
        };
        let found = st.store.search_sales(&search, 50).map_err(store_error)?;
        Ok(found
            .iter()
            .map(|s| SaleFoundDto {
                sale_id: s.id().to_string(),
                receipt_number: s.receipt().to_string(),
                at: rfc3339(s.at()),
                total: s.totals().total.into(),
                item_count: s
                    .lines()
                    .iter()
                    .map(|l| match l.line.quantity {
                        Quantity::Units(n) => n,
                        Quantity::Grams(_) => 1,
                    })
                    .sum(),
                tenders: s
                    .tenders()
                    .iter()
                    .map(|t| tender_kind_dto(t.kind))
                    .collect(),
                customer: s.customer().map(|c| c.name.clone()),
            })
            .collect())
    }

    pub(super) fn returns_preview_now(
        &self,
        req: &ReturnRequestDto,
    ) -> Result<ReturnPreviewDto, ApiError> {
        let st = self.lock();
        st.require_user()?;
        let plan = self.plan(&st, req, 0)?;
        Ok(self.preview_dto(&st, &plan))
    }

    /// The returns screen opened or closed (see `device_scan`).
    pub(super) fn returns_screen_now(&self, open: bool) -> Result<(), ApiError> {
        // Closing needs nobody: the screen also closes when its user logs out.
        if open {
            self.lock().require_user()?;
        }
        self.returns_scans
            .store(open, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// A scanner device's scan while the returns screen is open: handed to the screen (a
    /// receipt to find, goods brought back without a receipt), never added to the sale.
    pub(crate) fn returns_take_scan(&self, code: &str) -> bool {
        if !self.returns_scans.load(std::sync::atomic::Ordering::SeqCst) {
            return false;
        }
        self.events.emit(crate::events::Event::ScanRejected(
            ApiError::new("returns.scanned", "scanned on the returns screen")
                .with("code", code.trim()),
        ));
        true
    }

    /// Finishes the terminal's interrupted return (its money already moved) as it was asked.
    pub(super) async fn returns_resume_now(&self) -> Result<ReturnDoneDto, ApiError> {
        let draft = {
            let st = self.lock();
            st.require_user()?;
            st.store
                .return_draft(&self.config.terminal_id)
                .map_err(store_error)?
        };
        let Some((_, mut request, _)) = draft else {
            return Err(ApiError::new(
                "returns.no_draft",
                "there is no interrupted return",
            ));
        };
        let exchange = request
            .as_object_mut()
            .and_then(|o| o.remove(EXCHANGE))
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let req: ReturnRequestDto = serde_json::from_value(request)
            .map_err(|e| ApiError::new("app.internal", e.to_string()))?;
        // Its approval (if any) was given when it was started.
        self.make_return(req, None, true, exchange).await
    }

    pub(super) async fn returns_commit_now(
        &self,
        req: ReturnRequestDto,
        approver_pin: Option<String>,
    ) -> Result<ReturnDoneDto, ApiError> {
        self.make_return(req, approver_pin, false, false).await
    }

    /// An exchange: the returned goods pay for the sale in progress (see the module doc).
    pub(super) async fn returns_exchange_now(
        &self,
        req: ReturnRequestDto,
        approver_pin: Option<String>,
    ) -> Result<ReturnDoneDto, ApiError> {
        self.make_return(req, approver_pin, false, true).await
    }

    /// Whether money of the draft `id` already moved outside the database (a card refund
    /// approved or with an unknown outcome, a ledger credited): then it must be finished, not
    /// replaced. A declined card refund moved nothing: the cashier may refund another way.
    fn draft_moved_money(&self, st: &State, id: Uuid) -> Result<bool, ApiError> {
        let like = format!("{id}-%");
        let conn = st.store.connection();
        let n: i64 = conn
            .query_row(
                "SELECT (SELECT count(*) FROM pending_payments WHERE ref_id LIKE ?1 \
                 AND (in_flight = 1 OR json_extract(record, '$.state.state') = 'approved')) \
                 + (SELECT count(*) FROM gift_card_entry WHERE idempotency_key LIKE ?1) \
                 + (SELECT count(*) FROM customer_entry WHERE idempotency_key LIKE ?1)",
                [&like],
                |r| r.get(0),
            )
            .map_err(|e| store_error(e.into()))?;
        Ok(n > 0)
    }

    /// The return itself: plan, approval, audit, draft; card refunds; ledger refunds; the
    /// commit; print and drawer. See the module doc.
    async fn make_return(
        &self,
        req: ReturnRequestDto,
        approver_pin: Option<String>,
        resuming: bool,
        exchange: bool,
    ) -> Result<ReturnDoneDto, ApiError> {
        let now = self.now();
        let terminal = self.config.terminal_id.clone();
        let mut req_json =
            serde_json::to_value(&req).map_err(|e| ApiError::new("app.internal", e.to_string()))?;
        if exchange && let Some(o) = req_json.as_object_mut() {
            o.insert(EXCHANGE.into(), serde_json::Value::Bool(true));
        }
        // 1. Plan, approval, draft and audit, under the register's lock.
        let (id, plan, user, approver, session) = {
            let mut st = self.lock();
            let user = st.require_user()?.clone();
            let credit = if exchange {
                if st.cart.is_empty() {
                    return Err(ApiError::new(
                        "returns.exchange_empty",
                        "ring up the new items first, then exchange",
                    ));
                }
                let due = st.settlement()?.remaining.minor;
                let total = self.plan(&st, &req, 0)?.priced.total.minor;
                if due <= 0 {
                    return Err(ApiError::new(
                        "returns.exchange_empty",
                        "nothing is due on the sale in progress",
                    ));
                }
                total.min(due)
            } else {
                0
            };
            let plan = self.plan(&st, &req, credit)?;
            let what = json!({
                "sale": plan.sale.as_ref().map(|s| s.receipt().to_string()),
                "total": plan.priced.total.minor,
                "refund_to": &req.refund_to,
            });
            let approver = match plan.needs_permission {
                Some(action) if !resuming => st.authorize(
                    Permission::Refund,
                    action,
                    approver_pin.as_deref(),
                    &what,
                    now,
                )?,
                _ => None,
            };
            let id = match st.store.return_draft(&terminal).map_err(store_error)? {
                Some((id, r, _)) if r == req_json => id,
                Some((old, r, _)) if self.draft_moved_money(&st, old)? => {
                    let receipt = r
                        .get("saleId")
                        .and_then(|s| s.as_str())
                        .and_then(|s| Uuid::parse_str(s).ok())
                        .and_then(|s| st.store.sale_by_id(s).ok().flatten())
                        .map(|s| s.receipt().to_string())
                        .unwrap_or_default();
                    return Err(ApiError::new(
                        "returns.unfinished",
                        "an interrupted return must be finished first",
                    )
                    .with("receipt", receipt));
                }
                _ => Uuid::now_v7(),
            };
            st.store
                .save_return_draft(&terminal, id, &req_json, now)
                .map_err(store_error)?;
            let refunds_cash = plan.refunds.iter().any(|r| r.kind == TenderKind::Cash);
            if refunds_cash {
                st.cash_session_for_sale(&user, now)?;
            }
            let session = st
                .store
                .open_cash_session(&terminal)
                .map_err(store_error)?
                .map(|s| s.id);
            let sale_ref = id.to_string();
            st.store
                .append_audit(
                    &NewAuditEntry {
                        terminal_id: &terminal,
                        action: if plan.sale.is_some() {
                            "return"
                        } else {
                            "return_without_receipt"
                        },
                        user_id: Some(&user.id),
                        approver_id: approver.as_ref().map(|a| a.id.as_str()),
                        sale_ref: Some(&sale_ref),
                        detail: json!({
                            "original": plan.sale.as_ref().map(|s| s.receipt().to_string()),
                            "total": plan.priced.total.minor,
                            "refunds": plan.refunds.iter().map(|r| json!({
                                "kind": r.kind.code(), "amount": r.amount.minor,
                            })).collect::<Vec<_>>(),
                            "lines": plan.priced.lines.iter().map(|l| json!({
                                "sku": l.product.sku,
                                "quantity": match l.quantity { Quantity::Units(n) | Quantity::Grams(n) => n },
                                "write_off": match &l.disposition {
                                    Disposition::Restock => None,
                                    Disposition::WriteOff { reason } => Some(reason.clone()),
                                },
                            })).collect::<Vec<_>>(),
                        }),
                    },
                    now,
                )
                .map_err(store_error)?;
            (id, plan, user, approver, session)
        };
        // 2. Card refunds, outside the lock (the customer holds the card to the terminal).
        let settings = self.lock().settings.clone();
        let mut refunds = plan.refunds.clone();
        for (i, r) in refunds.iter_mut().enumerate() {
            if r.kind == TenderKind::Card {
                let reverse = self.reversible(&plan, r, &settings, now);
                self.card_refund(id, i + 1, r, reverse).await?;
            }
        }
        // 3. Ledger refunds, each once per key.
        for (i, r) in refunds.iter_mut().enumerate() {
            let key = format!("{id}-{}", i + 1);
            match r.kind {
                TenderKind::GiftCard => {
                    let sale = plan.sale.as_ref().ok_or_else(|| {
                        ApiError::new("returns.refund_mismatch", "gift card refund without a sale")
                    })?;
                    let redeem_key = format!("{}-{}", sale.id(), r.original_tender.unwrap_or(0));
                    let number = {
                        let st = self.lock();
                        match st
                            .store
                            .gift_card_of_redeem(&redeem_key)
                            .map_err(store_error)?
                        {
                            Some(n) => Some(n),
                            // Another register's sale or a web order: the shop said which card.
                            None => self
                                .kept_remote_sale(&st, sale.id())?
                                .and_then(|r| r.gift_cards.get(&redeem_key).cloned()),
                        }
                    }
                    .ok_or_else(|| {
                        ApiError::new(
                            "returns.gift_card_unknown",
                            "the gift card that paid is not known here: refund to store credit",
                        )
                    })?;
                    self.ledgers
                        .gift_cards
                        .top_up(&key, &number, r.amount, now)
                        .map_err(|e| crate::errors::gift_card_error(e, &number))?;
                }
                TenderKind::StoreCredit
                    if r.reference
                        .as_deref()
                        .is_some_and(|x| x.starts_with(EXCHANGE)) => {}
                TenderKind::StoreCredit | TenderKind::Account => {
                    let customer_id = r
                        .reference
                        .as_deref()
                        .and_then(|x| x.split(' ').next())
                        .unwrap_or_default()
                        .to_owned();
                    let ledger = if r.kind == TenderKind::Account {
                        CustomerLedger::Account
                    } else {
                        CustomerLedger::StoreCredit
                    };
                    self.ledgers
                        .customers
                        .credit(&key, &customer_id, ledger, r.amount, now)
                        .map_err(ledger_error)?;
                }
                _ => {}
            }
        }
        // 4. The commit: the document, its number, stock, the shop's adjustments.
        let mut st = self.lock();
        let st = &mut *st;
        let settings = st.settings.clone();
        let rounding = cash_rounding(st.cash_increment);
        let original = plan.sale.as_ref().map(|s| OriginalSale {
            id: s.id(),
            receipt: s.receipt().clone(),
            at: s.at(),
        });
        let sale_for_build = plan.sale.clone();
        let caps = plan.caps.clone();
        let priced = plan.priced.clone();
        let req_lines = req.lines.clone();
        let cashier = operator(&user);
        let approved_by = approver.as_ref().map(operator);
        let credit = refunds
            .iter()
            .find(|r| {
                r.reference
                    .as_deref()
                    .is_some_and(|x| x.starts_with(EXCHANGE))
            })
            .map(|r| r.amount);
        let credit_tender = |ret: &CompletedReturn| {
            credit.map(|amount| pos_core::Tender {
                kind: TenderKind::StoreCredit,
                amount,
                reference: Some(format!("{EXCHANGE} {}", ret.number)),
            })
        };
        // The sale in progress with the credit as its next tender, saved with the return.
        let (cart, tenders, sale_ref) = (st.cart.clone(), st.tenders.clone(), st.sale_ref);
        let saved = |ret: &CompletedReturn| {
            let mut tenders = tenders.clone();
            tenders.extend(credit_tender(ret));
            serde_json::to_value(super::Saved {
                cart: cart.clone(),
                tenders,
                paying: true,
                sale_ref,
            })
            .unwrap_or_default()
        };
        let (ret, replayed) = st
            .store
            .commit_return(
                id,
                &return_series(&terminal),
                &self.config.location_id,
                session,
                original.as_ref().map(|o| o.id),
                |number, earlier| {
                    // Priced again against the returns read inside the transaction: never more
                    // than sold, whatever happened since the plan.
                    let (priced, caps) = match &sale_for_build {
                        Some(sale) => {
                            let lines: Vec<ReturnRequestLine> = req_lines
                                .iter()
                                .map(|l| ReturnRequestLine {
                                    line_no: l.line_no,
                                    quantity: l.quantity,
                                    disposition: disposition(&l.write_off),
                                })
                                .collect();
                            (
                                core_returns::price_return(
                                    sale,
                                    &core_returns::returned_so_far(earlier),
                                    &lines,
                                )?,
                                caps_of(sale, earlier),
                            )
                        }
                        None => (priced, caps),
                    };
                    CompletedReturn::build(
                        priced,
                        original,
                        refunds,
                        &caps,
                        ReturnContext {
                            id,
                            number,
                            terminal_id: terminal.clone(),
                            cashier,
                            approved_by,
                            at: now,
                            cash_rounding: rounding,
                        },
                    )
                },
                credit
                    .is_some()
                    .then_some(&saved as &dyn Fn(&CompletedReturn) -> serde_json::Value),
            )
            .map_err(commit_error)?;
        // 5. Print, open the drawer for cash, wake the sync worker.
        let print = !replayed || resuming;
        if print {
            match crate::returns_receipt::bytes_for_printer(
                &ret,
                &settings,
                &self.hardware.config().printer,
            ) {
                Ok(bytes) => {
                    if let Err(e) = self.hardware.print(&format!("return-{}", ret.id), bytes) {
                        tracing::warn!("return {} not queued: {}", ret.number, e.message);
                    }
                }
                Err(e) => tracing::warn!("return {} cannot be encoded: {e}", ret.number),
            }
        }
        if !replayed && !ret.cash_refunded().is_zero() {
            self.hardware.open_drawer();
        }
        self.shop.nudge();
        // An exchange: the credit joins the sale in progress (completing it when it covers it).
        let exchange = match credit_tender(&ret) {
            Some(tender) if !replayed => Some(self.take_tender(st, tender, now)?),
            _ => None,
        };
        Ok(ReturnDoneDto {
            return_id: ret.id.to_string(),
            number: ret.number.to_string(),
            original: ret.original.as_ref().map(|o| o.receipt.to_string()),
            total: ret.total.into(),
            refunds: ret.refunds.iter().map(refund_dto).collect(),
            receipt: crate::returns_receipt::preview(&ret, &settings),
            printed: print,
            exchange,
        })
    }

    /// The terminal receipt number of the card payment `r` gives back whole, when it can be
    /// reversed instead of refunded: a payment taken by this register's terminal today (the
    /// store's day; terminals close their batch daily) and nothing of it refunded before.
    fn reversible(
        &self,
        plan: &Plan,
        r: &Refund,
        settings: &pos_store::StoreSettings,
        now: OffsetDateTime,
    ) -> Option<u32> {
        let sale = plan.sale.as_ref()?;
        let p = r.original_tender?;
        let paid = core_returns::tender_contributions(sale)
            .into_iter()
            .find(|(q, _, _)| *q == p)?
            .2;
        let day = |t: OffsetDateTime| t.to_offset(crate::locale::utc_offset(settings, t)).date();
        let whole = r.amount.minor == paid && plan.caps.get(&p) == Some(&paid);
        if !whole || day(sale.at()) != day(now) {
            return None;
        }
        self.card_approval(sale, p).map(|a| a.receipt_no)
    }

    /// Gives `r` back to the card through the payment terminal, exactly once per return and
    /// refund position (the terminal's pending-payment record is written before it is asked):
    /// a reversal 06 30 of the original payment when `reverse` names it (see `reversible`), a
    /// refund 06 31 otherwise — and when the terminal cannot reverse it (its batch was closed).
    ///
    /// A reversal whose earlier attempt ended without an approval is tried again under a new
    /// key before anything is refunded: the terminal's "already reversed" (B4) then proves the
    /// money went back, so a lost answer never turns into a reversal *and* a refund.
    async fn card_refund(
        &self,
        id: Uuid,
        position: usize,
        r: &mut Refund,
        reverse: Option<u32>,
    ) -> Result<(), ApiError> {
        use pos_hardware::payment::PaymentError;
        use pos_hardware::zvt::messages::{RESULT_ALREADY_REVERSED, RESULT_REVERSAL_NOT_POSSIBLE};
        let terminal = self.terminal.get().cloned().ok_or_else(|| {
            ApiError::new(
                "pay.terminal_unavailable",
                "no payment terminal is connected",
            )
        })?;
        if let Some(receipt) = reverse {
            let mut attempt = 1;
            loop {
                let key = match attempt {
                    1 => format!("{id}-{position}-reversal"),
                    k => format!("{id}-{position}-reversal-{k}"),
                };
                match terminal.reverse_keyed(&key, receipt, r.amount).await {
                    Ok(approval) => {
                        given_back(r, &approval);
                        return Ok(());
                    }
                    // Reversed already (our own attempt whose answer was lost, or at the
                    // terminal itself): the money is back on the card.
                    Err(PaymentError::Declined { code, .. }) if code == RESULT_ALREADY_REVERSED => {
                        tracing::warn!(
                            receipt,
                            "payment already reversed: nothing more to give back"
                        );
                        return Ok(());
                    }
                    // The terminal cannot reverse it (batch closed, …): refunded instead.
                    Err(PaymentError::Declined { code, .. })
                        if code == RESULT_REVERSAL_NOT_POSSIBLE =>
                    {
                        break;
                    }
                    Err(PaymentError::AlreadyAttempted { .. }) if attempt < 20 => attempt += 1,
                    Err(e) => return Err(payment_error(e)),
                }
            }
        }
        let original_receipt = r
            .original_reference
            .as_deref()
            .and_then(|o| o.split('/').next())
            .and_then(|n| n.parse::<u32>().ok());
        let base = format!("{id}-{position}");
        let mut attempt = 1;
        let approval = loop {
            let ref_id = match attempt {
                1 => base.clone(),
                k => format!("{base}-{k}"),
            };
            // An approved earlier attempt (a retry after a crash) is returned as it was.
            match terminal.refund(r.amount, &ref_id, original_receipt).await {
                Err(pos_hardware::payment::PaymentError::AlreadyAttempted { .. })
                    if attempt < 100 =>
                {
                    attempt += 1
                }
                other => break other.map_err(payment_error)?,
            }
        };
        given_back(r, &approval);
        Ok(())
    }
}

/// A card refund or reversal the terminal approved: its approval code and the card (masked)
/// become the refund's reference, and its slip is printed with the document.
fn given_back(r: &mut Refund, approval: &pos_hardware::payment::Approval) {
    r.reference = Some(super::card_reference(approval, r.reference.clone()));
    r.slip = approval.slip_lines.clone();
}
