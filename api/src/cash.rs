//! Cash management at the register: opening the register with a float counted by
//! denomination, cash in and out with a reason, a no-sale drawer opening, the X report at any
//! time, and the end of day — a blind count, over/short and the numbered Z report, printed and
//! queued for the web shop.
//!
//! Invariants:
//! * Sales are rung up only while the terminal has an open register session. When the store
//!   does not require a counted float (the setting `cash.require_opening_float`, off by
//!   default), the first completed sale opens a session itself with a zero float, marked
//!   "opened automatically" on the reports; when it does, scanning is refused with
//!   `cash.float_required` until someone opens the register (F7).
//! * Permissions come from the role matrix (`pos_core::auth`): opening needs `open_register`
//!   (cashiers have it), cash in/out `cash_in_out` and a no-sale `no_sale` — or the PIN of a
//!   user who has it, approving on the spot —, X and Z reports `end_of_day`, the setting
//!   `manage_settings`. Each action is recorded in the hash-chained audit trail before it is
//!   done (the close after, with its Z number).
//! * The count at the close is blind: nothing the counter can see before submitting it says
//!   what the drawer should hold (`cash_status` has no expected amount). The count is kept on
//!   disk first, then the close takes the Z number in one transaction (pos-store's `cash`).
//! * The register cannot close with a sale in progress: park it, finish it or void it first.
//! * With a recount tolerance set (store setting), a first blind count that is off by more
//!   than it is kept and answered with `cash.recount` — without saying by how much or which
//!   way —; the second blind count closes the register whatever it says.

use super::{Register, State};
use crate::cash_report;
use crate::dto::*;
use crate::errors::{
    self, cash_error, cash_forbidden, cash_not_open, core_cash_error, store_error,
};
use pos_core::Money;
use pos_core::auth::Permission;
use pos_core::cash::{
    self as core_cash, CashDirection, CashReason, DenominationCount, DenominationKind, DrawerCount,
    NO_SALE_REASONS,
};
use pos_store::cash::{CashStoreError, MovementKind, Operator, SessionReport};
use pos_store::{NewAuditEntry, User};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use ts_rs::TS;
use uuid::Uuid;

// ---- wire types --------------------------------------------------------------------------------

/// A coin or note of the store's currency, for the count grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DenominationDto {
    /// Minor units.
    pub value: i64,
    /// "coin" or "note".
    pub kind: String,
}

/// How many pieces of one denomination were counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DenominationCountDto {
    /// The denomination's value in minor units.
    pub value: i64,
    pub quantity: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CashDirectionDto {
    In,
    Out,
}

/// The open register session, as the cash screen shows it (never the expected cash: the count
/// at the close is blind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CashSessionDto {
    pub id: String,
    /// RFC 3339, UTC.
    pub opened_at: String,
    pub opened_by: String,
    /// Opened by the first sale, with no float counted.
    pub auto_opened: bool,
    pub float: MoneyDto,
    pub float_counts: Vec<DenominationCountDto>,
}

/// Everything the cash screen needs before any report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CashStatusDto {
    pub currency: String,
    /// The count grid: notes then coins, largest first.
    pub denominations: Vec<DenominationDto>,
    /// None: the register is closed.
    pub session: Option<CashSessionDto>,
    /// The store makes sales wait for a counted float.
    pub require_opening_float: bool,
    /// Beyond this difference (minor units) a first blind count asks for a second one; None:
    /// the first count closes the register.
    pub recount_tolerance: Option<i64>,
    /// The terminal's last Z report number (0: none yet).
    pub last_z_number: u64,
    pub reasons_in: Vec<String>,
    pub reasons_out: Vec<String>,
    pub reasons_no_sale: Vec<String>,
}

/// One tender kind's share of the sales.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TenderTotalDto {
    pub kind: TenderKindDto,
    pub count: u64,
    /// Net of change.
    pub amount: MoneyDto,
}

/// One cashier's sales on a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CashierTotalDto {
    pub name: String,
    pub sales: u64,
    pub total: MoneyDto,
}

/// A cash movement or no-sale opening on a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CashMovementDto {
    /// "in", "out" or "no_sale".
    pub kind: String,
    pub amount: MoneyDto,
    pub reason: String,
    pub note: Option<String>,
    pub user: String,
    /// RFC 3339, UTC.
    pub at: String,
}

/// An X report (no number, the register stays open) or a Z report (numbered, the register
/// closed, with the count and over/short).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CashReportDto {
    pub z_number: Option<u64>,
    pub terminal_id: String,
    /// RFC 3339, UTC.
    pub opened_at: String,
    /// The close (Z) or when the X report was made; RFC 3339, UTC.
    pub until: String,
    pub opened_by: String,
    pub closed_by: Option<String>,
    pub auto_opened: bool,
    /// "T01-000001", the first and last receipt of the period.
    pub first_receipt: Option<String>,
    pub last_receipt: Option<String>,
    pub sales: u64,
    pub items: MoneyDto,
    pub discounts: MoneyDto,
    pub total: MoneyDto,
    pub tax_total: MoneyDto,
    pub refunds: u64,
    pub refunded: MoneyDto,
    /// The sales' total minus what returns refunded.
    pub net_total: MoneyDto,
    /// What returns paid back, per tender kind.
    pub tender_refunds: Vec<TenderTotalDto>,
    pub tenders: Vec<TenderTotalDto>,
    pub taxes: Vec<TaxRowDto>,
    /// Per cashier, by name.
    pub cashiers: Vec<CashierTotalDto>,
    pub float: MoneyDto,
    pub cash_taken: MoneyDto,
    pub change_given: MoneyDto,
    pub cash_in: MoneyDto,
    pub cash_out: MoneyDto,
    pub no_sales: u64,
    pub movements: Vec<CashMovementDto>,
    pub expected: MoneyDto,
    pub counted: Option<MoneyDto>,
    /// Counted minus expected: positive over, negative short.
    pub over_short: Option<MoneyDto>,
    /// The report as printed (decoded from the printer bytes).
    pub printed: ReceiptPreviewDto,
}

// ---- conversions --------------------------------------------------------------------------------

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn counts_of(dto: &[DenominationCountDto]) -> Vec<DenominationCount> {
    dto.iter()
        .map(|c| DenominationCount {
            value: c.value,
            quantity: c.quantity,
        })
        .collect()
}

fn count_dtos(count: &DrawerCount) -> Vec<DenominationCountDto> {
    count
        .counts()
        .iter()
        .map(|c| DenominationCountDto {
            value: c.value,
            quantity: c.quantity,
        })
        .collect()
}

fn report_dto(
    r: &SessionReport,
    settings: &pos_store::StoreSettings,
    printer: &pos_hardware::config::PrinterConfig,
) -> CashReportDto {
    let receipt = |n: u64| format!("{}-{n:06}", r.terminal_id);
    let s = &r.sales;
    CashReportDto {
        z_number: r.z_number,
        terminal_id: r.terminal_id.clone(),
        opened_at: rfc3339(r.opened_at),
        until: rfc3339(r.until),
        opened_by: r.opened_by.name.clone(),
        closed_by: r.closed_by.as_ref().map(|o| o.name.clone()),
        auto_opened: r.auto_opened,
        first_receipt: r.receipts.map(|(a, _)| receipt(a)),
        last_receipt: r.receipts.map(|(_, b)| receipt(b)),
        sales: s.sales,
        items: s.items.into(),
        discounts: s.discounts.into(),
        total: s.total.into(),
        tax_total: s.tax_total.into(),
        refunds: s.refunds,
        refunded: s.refunded.into(),
        net_total: s.net_total().unwrap_or(s.total).into(),
        tender_refunds: s
            .tender_refunds
            .iter()
            .map(|t| TenderTotalDto {
                kind: super::tender_kind_dto(t.kind),
                count: t.count,
                amount: t.amount.into(),
            })
            .collect(),
        tenders: s
            .tenders
            .iter()
            .map(|t| TenderTotalDto {
                kind: super::tender_kind_dto(t.kind),
                count: t.count,
                amount: t.amount.into(),
            })
            .collect(),
        taxes: s
            .taxes
            .iter()
            .map(|t| TaxRowDto {
                code: t.rate.code.clone(),
                label: t.rate.percent_label(),
                reduced: t.rate.reduced,
                net: t.net.into(),
                tax: t.tax.into(),
                gross: t.gross.into(),
            })
            .collect(),
        cashiers: s
            .cashiers
            .iter()
            .map(|c| CashierTotalDto {
                name: c.name.clone(),
                sales: c.sales,
                total: c.total.into(),
            })
            .collect(),
        float: r.drawer.opening_float.into(),
        cash_taken: r.drawer.cash_taken.into(),
        change_given: r.drawer.change_given.into(),
        cash_in: r.cash_in.into(),
        cash_out: r.cash_out.into(),
        no_sales: r.no_sales,
        movements: r
            .movements
            .iter()
            .map(|m| CashMovementDto {
                kind: m.kind.code().to_owned(),
                amount: m.amount.into(),
                reason: m.reason.code.clone(),
                note: m.reason.note.clone(),
                user: m.user.name.clone(),
                at: rfc3339(m.at),
            })
            .collect(),
        expected: r.expected.into(),
        counted: r.count.as_ref().map(|c| c.count.total().into()),
        over_short: r.over_short.map(Into::into),
        printed: cash_report::preview(r, settings, printer),
    }
}

fn operator(u: &User) -> Operator {
    Operator {
        id: u.id.clone(),
        name: u.name.clone(),
    }
}

// ---- the gate on selling --------------------------------------------------------------------------

impl State {
    /// Refuses ringing up while the register is closed, when the store requires a counted
    /// float. (Otherwise the first sale opens the register itself: `cash_session_for_sale`.)
    pub(super) fn cash_gate(&self) -> Result<(), ApiError> {
        if self.store.requires_opening_float().map_err(store_error)?
            && self
                .store
                .open_cash_session(&self.terminal_id)
                .map_err(store_error)?
                .is_none()
        {
            return Err(ApiError::new(
                "cash.float_required",
                "count the float and open the register before selling",
            ));
        }
        Ok(())
    }

    /// Makes sure a session is open before a sale commits: opens one with a zero float when
    /// the store allows it, refuses otherwise.
    pub(super) fn cash_session_for_sale(
        &mut self,
        user: &User,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        if self
            .store
            .open_cash_session(&self.terminal_id)
            .map_err(store_error)?
            .is_some()
        {
            return Ok(());
        }
        self.cash_gate()?;
        // Not an audit row: nobody chose anything (no float, no count); the session itself
        // records that the sale opened it and who sold.
        let id = Uuid::now_v7();
        let terminal = self.terminal_id.clone();
        self.store
            .begin_cash_session(
                id,
                &terminal,
                &operator(user),
                &DrawerCount::empty(self.settings.currency),
                true,
                now,
            )
            .map_err(cash_error)?;
        Ok(())
    }

    /// Appends one row for a cash action of the logged-in user.
    fn cash_audit(
        &mut self,
        now: OffsetDateTime,
        action: &str,
        approver_id: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<(), ApiError> {
        let user_id = self.user.as_ref().map(|u| u.id.clone());
        self.store
            .append_audit(
                &NewAuditEntry {
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

    /// The user's own permission, else an approver's PIN: checkout's approval, so a failed one
    /// is recorded and counts toward the same approval lock as discounts and voids.
    fn cash_authorize(
        &mut self,
        perm: Permission,
        action: &str,
        approver_pin: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Option<User>, ApiError> {
        self.authorize(perm, action, approver_pin, &json!({}), now)
    }

    fn require(&self, perm: Permission) -> Result<User, ApiError> {
        let user = self.require_user()?.clone();
        if user.role.allows(perm) {
            Ok(user)
        } else {
            Err(cash_forbidden(perm))
        }
    }
}

// ---- the commands ---------------------------------------------------------------------------------

impl Register {
    fn cash_status_of(&self, st: &State) -> Result<CashStatusDto, ApiError> {
        let cur = st.settings.currency;
        let terminal = &self.config.terminal_id;
        let session = st.store.open_cash_session(terminal).map_err(store_error)?;
        Ok(CashStatusDto {
            currency: cur.code().to_owned(),
            denominations: core_cash::denominations(cur)
                .iter()
                .map(|d| DenominationDto {
                    value: d.value,
                    kind: match d.kind {
                        DenominationKind::Coin => "coin",
                        DenominationKind::Note => "note",
                    }
                    .to_owned(),
                })
                .collect(),
            session: session.map(|s| CashSessionDto {
                id: s.id.to_string(),
                opened_at: rfc3339(s.opened_at),
                opened_by: s.opened_by.name.clone(),
                auto_opened: s.auto_opened,
                float: s.float.total().into(),
                float_counts: count_dtos(&s.float),
            }),
            require_opening_float: st.store.requires_opening_float().map_err(store_error)?,
            recount_tolerance: st.store.recount_tolerance().map_err(store_error)?,
            last_z_number: st.store.last_z_number(terminal).map_err(store_error)?,
            reasons_in: CashDirection::In
                .reasons()
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            reasons_out: CashDirection::Out
                .reasons()
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            reasons_no_sale: NO_SALE_REASONS.iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    /// Prints a report through the print queue; a report that cannot be printed is logged (it
    /// is stored and shown on screen anyway).
    fn print_report(
        &self,
        job: &str,
        r: &SessionReport,
        settings: &pos_store::StoreSettings,
        copy: bool,
    ) {
        let mark =
            copy.then(|| super::checkout::copy_mark(crate::locale::Lang::parse(&settings.locale)));
        match cash_report::bytes_marked(r, settings, &self.hardware.config().printer, mark) {
            Ok(bytes) => {
                if let Err(e) = self.hardware.print(job, bytes) {
                    tracing::warn!("report {job} not queued: {}", e.message);
                }
            }
            Err(e) => tracing::warn!("report {job} cannot be encoded: {e}"),
        }
    }

    pub(crate) fn cash_status_now(&self) -> Result<CashStatusDto, ApiError> {
        let st = self.lock();
        st.require_user()?;
        self.cash_status_of(&st)
    }

    pub(crate) fn cash_open(
        &self,
        counts: &[DenominationCountDto],
    ) -> Result<CashStatusDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        let user = st.require(Permission::OpenRegister)?;
        let float =
            DrawerCount::new(st.settings.currency, &counts_of(counts)).map_err(core_cash_error)?;
        let terminal = self.config.terminal_id.clone();
        if st
            .store
            .open_cash_session(&terminal)
            .map_err(store_error)?
            .is_some()
        {
            return Err(cash_error(CashStoreError::AlreadyOpen));
        }
        let id = Uuid::now_v7();
        st.cash_audit(
            now,
            "register_opened",
            None,
            json!({"session": id.to_string(), "auto": false, "float": float.total().minor,
                   "counts": counts_of(counts).iter().map(|c| [c.value, c.quantity]).collect::<Vec<_>>()}),
        )?;
        st.store
            .begin_cash_session(id, &terminal, &operator(&user), &float, false, now)
            .map_err(cash_error)?;
        self.cash_status_of(&st)
    }

    pub(crate) fn cash_move(
        &self,
        direction: CashDirectionDto,
        amount: i64,
        reason: Option<ReasonDto>,
        approver_pin: Option<&str>,
    ) -> Result<CashStatusDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require_user()?;
        let direction = match direction {
            CashDirectionDto::In => CashDirection::In,
            CashDirectionDto::Out => CashDirection::Out,
        };
        // Inputs first, so a typing mistake never costs a manager a PIN attempt.
        let amount = core_cash::movement_amount(Money::new(amount, st.settings.currency))
            .map_err(core_cash_error)?;
        let r = reason.ok_or_else(|| errors::reason_error(pos_core::auth::ReasonError::Missing))?;
        let reason = CashReason::parse(&r.code, r.note.as_deref(), direction.reasons())
            .map_err(errors::reason_error)?;
        let terminal = self.config.terminal_id.clone();
        if st
            .store
            .open_cash_session(&terminal)
            .map_err(store_error)?
            .is_none()
        {
            return Err(cash_not_open());
        }
        let action = match direction {
            CashDirection::In => "cash_in",
            CashDirection::Out => "cash_out",
        };
        let approver = st.cash_authorize(Permission::CashInOut, action, approver_pin, now)?;
        let user = st.require_user()?.clone();
        st.cash_audit(
            now,
            action,
            approver.as_ref().map(|a| a.id.as_str()),
            json!({"amount": amount.minor, "currency": amount.currency.code(),
                   "reason": reason.code, "note": reason.note}),
        )?;
        st.store
            .record_cash_movement(
                &terminal,
                MovementKind::from(direction),
                amount,
                &reason,
                &operator(&user),
                approver.as_ref().map(|a| a.id.as_str()),
                now,
            )
            .map_err(cash_error)?;
        self.hardware.open_drawer();
        self.cash_status_of(&st)
    }

    pub(crate) fn cash_no_sale(
        &self,
        reason: Option<ReasonDto>,
        approver_pin: Option<&str>,
    ) -> Result<CashStatusDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require_user()?;
        let r = reason.ok_or_else(|| errors::reason_error(pos_core::auth::ReasonError::Missing))?;
        let reason = CashReason::parse(&r.code, r.note.as_deref(), &NO_SALE_REASONS)
            .map_err(errors::reason_error)?;
        if !self.hardware.has_drawer() {
            return Err(
                ApiError::new("device.not_configured", "no drawer is configured")
                    .with("device", "drawer"),
            );
        }
        let terminal = self.config.terminal_id.clone();
        if st
            .store
            .open_cash_session(&terminal)
            .map_err(store_error)?
            .is_none()
        {
            return Err(cash_not_open());
        }
        let approver = st.cash_authorize(Permission::NoSale, "no_sale", approver_pin, now)?;
        let user = st.require_user()?.clone();
        st.cash_audit(
            now,
            "no_sale",
            approver.as_ref().map(|a| a.id.as_str()),
            json!({"reason": reason.code, "note": reason.note}),
        )?;
        let zero = Money::zero(st.settings.currency);
        st.store
            .record_cash_movement(
                &terminal,
                MovementKind::NoSale,
                zero,
                &reason,
                &operator(&user),
                approver.as_ref().map(|a| a.id.as_str()),
                now,
            )
            .map_err(cash_error)?;
        self.hardware.open_drawer();
        self.cash_status_of(&st)
    }

    pub(crate) fn cash_x_report(&self, print: bool) -> Result<CashReportDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require(Permission::EndOfDay)?;
        let report = st
            .store
            .x_report(&self.config.terminal_id, now)
            .map_err(cash_error)?;
        st.cash_audit(
            now,
            "x_report",
            None,
            json!({"session": report.session_id.to_string(), "expected": report.expected.minor,
                   "printed": print}),
        )?;
        if print {
            self.print_report(
                &format!("x-{}", Uuid::now_v7()),
                &report,
                &st.settings,
                false,
            );
        }
        Ok(report_dto(
            &report,
            &st.settings,
            &self.hardware.config().printer,
        ))
    }

    pub(crate) fn cash_close(
        &self,
        counts: &[DenominationCountDto],
    ) -> Result<CashReportDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        let user = st.require(Permission::EndOfDay)?;
        let count =
            DrawerCount::new(st.settings.currency, &counts_of(counts)).map_err(core_cash_error)?;
        if !st.cart.is_empty() || !st.tenders.is_empty() {
            return Err(ApiError::new(
                "cash.sale_in_progress",
                "finish, park or void the sale in progress before closing the register",
            ));
        }
        let terminal = self.config.terminal_id.clone();
        let stored = st
            .store
            .record_drawer_count(&terminal, &count, &operator(&user), now)
            .map_err(cash_error)?;
        // Beyond the store's tolerance, a first count that does not match asks for a second
        // blind count (saying neither by how much nor which way); the second one closes.
        if let Some(tolerance) = st.store.recount_tolerance().map_err(store_error)?
            && st
                .store
                .drawer_counts_made(&terminal)
                .map_err(store_error)?
                == 1
        {
            let expected = st
                .store
                .x_report(&terminal, now)
                .map_err(cash_error)?
                .expected;
            let diff = count.total().minor - expected.minor;
            if diff.abs() > tolerance {
                st.cash_audit(
                    now,
                    "recount_asked",
                    None,
                    json!({"counted": count.total().minor, "expected": expected.minor,
                           "tolerance": tolerance}),
                )?;
                return Err(ApiError::new(
                    "cash.recount",
                    "the count does not match: count the drawer again",
                ));
            }
        }
        let z = st
            .store
            .close_cash_session(&terminal, stored.id, &operator(&user), now)
            .map_err(cash_error)?;
        let number = z.z_number.unwrap_or(0);
        if let Err(e) = st.cash_audit(
            now,
            "register_closed",
            None,
            json!({"session": z.session_id.to_string(), "z_number": number,
                   "expected": z.expected.minor, "counted": count.total().minor,
                   "over_short": z.over_short.map(|m| m.minor)}),
        ) {
            tracing::warn!("Z {number} is made but its audit row is not: {}", e.message);
        }
        self.print_report(&format!("z-{terminal}-{number}"), &z, &st.settings, false);
        // The Z report is in the outbox: wake the worker (it may not deliver this kind yet).
        self.shop.nudge();
        Ok(report_dto(
            &z,
            &st.settings,
            &self.hardware.config().printer,
        ))
    }

    pub(crate) fn cash_z_report(
        &self,
        number: u64,
        print: bool,
    ) -> Result<CashReportDto, ApiError> {
        let st = self.lock();
        st.require(Permission::EndOfDay)?;
        let z = st
            .store
            .z_report(&self.config.terminal_id, number)
            .map_err(store_error)?
            .ok_or_else(|| {
                ApiError::new(
                    "cash.no_such_report",
                    format!("there is no Z report {number}"),
                )
                .with("number", number)
            })?;
        if print {
            self.print_report(
                &format!(
                    "z-{}-{number}-copy-{}",
                    self.config.terminal_id,
                    Uuid::now_v7()
                ),
                &z,
                &st.settings,
                true,
            );
        }
        Ok(report_dto(
            &z,
            &st.settings,
            &self.hardware.config().printer,
        ))
    }

    pub(crate) fn cash_set_recount_tolerance(
        &self,
        minor: Option<i64>,
    ) -> Result<CashStatusDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require(Permission::ManageSettings)?;
        if minor.is_some_and(|n| !(0..=pos_core::money::MAX_MINOR).contains(&n)) {
            return Err(ApiError::new(
                "cash.overflow",
                "the tolerance must be between zero and the largest amount",
            ));
        }
        st.cash_audit(
            now,
            "setting_changed",
            None,
            json!({"key": pos_store::cash::RECOUNT_TOLERANCE, "value": minor}),
        )?;
        st.store.set_recount_tolerance(minor).map_err(store_error)?;
        self.cash_status_of(&st)
    }

    pub(crate) fn cash_set_require_float(&self, on: bool) -> Result<CashStatusDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require(Permission::ManageSettings)?;
        st.cash_audit(
            now,
            "setting_changed",
            None,
            json!({"key": pos_store::cash::REQUIRE_OPENING_FLOAT, "value": on}),
        )?;
        st.store
            .set_requires_opening_float(on)
            .map_err(store_error)?;
        self.cash_status_of(&st)
    }
}
