//! The cashier's sale-editing actions with permissions: line and order discounts, price
//! overrides, voiding a line or the whole sale, parking and resuming sales, and reprinting the
//! last receipt as a copy.
//!
//! Invariants:
//! * A privileged action is done only by a user whose role allows it, or with the PIN of a user
//!   whose role allows it (a manager approving on the spot). The Rust side decides; the UI only
//!   asks for the PIN when the register answers `auth.approval_required`.
//! * A wrong approval PIN counts toward the terminal's PIN lockout (PIN-only login cannot tell
//!   whose PIN a wrong guess was) and is itself recorded as `approval_failed`.
//! * Every privileged action, every line void, sale void, park, resume and reprint appends one
//!   row to the hash-chained audit trail (pos-store's `audit`): who asked, who approved, what
//!   (line, amounts before and after), why, when, on which terminal. The action is applied only
//!   after its audit row is on disk; if the row cannot be written, nothing changes.
//! * Inputs are checked (on a copy of the cart) before a PIN is asked for, so a typing mistake
//!   never costs a manager a PIN attempt.
//! * Voiding a sale before payment consumes no receipt number: numbers are only taken when a
//!   sale is committed, so the series stays gap-free; the void is in the audit trail, keyed by
//!   the sale's would-be id.

use super::{Register, Stage, State};
use crate::dto::*;
use crate::errors::{self, auth_error, cart_error, store_error};
use crate::locale::{Lang, format_datetime};
use crate::receipt;
use pos_core::Money;
use pos_core::auth::{Permission, Reason};
use pos_core::cart::{
    Adjustment, Cart, CartError, CartLine, Discount, LineId, LineTotal, PriceSource, Quantity,
    Totals,
};
use pos_store::{AuthError, NewAuditEntry, ParkedSale, User};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

// ---- what the sale shows ---------------------------------------------------------------------

fn adjustment_dto(a: &Adjustment, amount: Money) -> AdjustmentDto {
    AdjustmentDto {
        percent_bps: match a.discount {
            Discount::Percent { bps } => Some(bps),
            Discount::Amount { .. } => None,
        },
        amount: amount.into(),
        reason: a.reason.clone(),
        approved_by: a.approved_by.clone(),
    }
}

pub(super) fn line_discount_dto(l: &CartLine, t: &LineTotal) -> Option<AdjustmentDto> {
    l.discount
        .as_ref()
        .map(|a| adjustment_dto(a, t.line_discount))
}

pub(super) fn original_price_dto(l: &CartLine) -> Option<MoneyDto> {
    match &l.price_source {
        PriceSource::Override { original, .. } => Some((*original).into()),
        _ => None,
    }
}

pub(super) fn order_discount_dto(cart: &Cart, totals: &Totals) -> Option<AdjustmentDto> {
    cart.order_discount().map(|a| {
        let sum = totals.lines.iter().map(|l| l.order_discount.minor).sum();
        adjustment_dto(a, Money::new(sum, cart.currency()))
    })
}

// ---- audit detail ----------------------------------------------------------------------------

/// A line's figures for the audit trail.
fn line_figures(cart: &Cart, id: LineId) -> serde_json::Value {
    let Some(l) = cart.line(id) else {
        return serde_json::Value::Null;
    };
    let t = cart
        .totals()
        .ok()
        .and_then(|t| t.lines.into_iter().find(|x| x.id == id));
    let (qty, by_weight) = match l.quantity {
        Quantity::Units(n) => (n, false),
        Quantity::Grams(g) => (g, true),
    };
    json!({
        "sku": l.product.sku,
        "quantity": qty,
        "by_weight": by_weight,
        "unit_price": l.unit_price.minor,
        "line_discount": t.as_ref().map(|t| t.line_discount.minor),
        "amount": t.as_ref().map(|t| t.amount.minor),
    })
}

fn total_of(cart: &Cart) -> Option<i64> {
    cart.totals().ok().map(|t| t.total.minor)
}

/// What an action changes: the line (if one), its figures and the sale's total before and
/// after, and why.
fn describe(
    before: &Cart,
    after: &Cart,
    line: Option<LineId>,
    reason: &Reason,
) -> serde_json::Value {
    json!({
        "line": line.map(|l| l.0),
        "before": line.map(|l| line_figures(before, l)),
        "after": line.map(|l| line_figures(after, l)),
        "total_before": total_of(before),
        "total_after": total_of(after),
        "currency": before.currency().code(),
        "reason": reason.code,
        "note": reason.note,
    })
}

fn parse_reason(r: Option<ReasonDto>) -> Result<Reason, ApiError> {
    let r = r.ok_or_else(errors::reason_required)?;
    Reason::parse(&r.code, r.note.as_deref()).map_err(errors::reason_error)
}

fn no_such_line(id: u32) -> ApiError {
    cart_error(CartError::NoSuchLine(id))
}

/// The copy mark printed on a reprinted receipt, in the receipt's language.
pub fn copy_mark(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "*** COPY ***",
        Lang::Es => "*** COPIA ***",
        Lang::Ja => "【再発行】",
    }
}

fn copy_note(lang: Lang, when: &str) -> String {
    match lang {
        Lang::En => format!("Copy printed {when}"),
        Lang::Es => format!("Copia impresa el {when}"),
        Lang::Ja => format!("再発行日時 {when}"),
    }
}

// ---- permissions, approval and the trail -------------------------------------------------------

impl State {
    /// Lets the action through when the user may do it, or when `approver_pin` belongs to a
    /// user who may. Returns the approver (None: the user's own permission). A failed approval
    /// is recorded with `what` before the refusal is returned. Cash management approves through
    /// this too, so every approval on the terminal shares one lock.
    pub(super) fn authorize(
        &mut self,
        perm: Permission,
        action: &str,
        approver_pin: Option<&str>,
        what: &serde_json::Value,
        now: OffsetDateTime,
    ) -> Result<Option<User>, ApiError> {
        let user = self.require_user()?.clone();
        if user.role.allows(perm) {
            return Ok(None);
        }
        let Some(pin) = approver_pin.map(str::trim).filter(|p| !p.is_empty()) else {
            return Err(errors::approval_required(perm));
        };
        if let Some(until) = self.approvals_locked_until(now)? {
            self.audit(
                now,
                "approval_failed",
                None,
                json!({"for": action, "permission": perm.code(), "failure": "locked", "what": what}),
            )?;
            return Err(auth_error(AuthError::Locked { until }));
        }
        let (failure, approver_id, refusal) = match self.store.verify_pin(pin, now) {
            Ok(approver) if approver.role.allows(perm) => return Ok(Some(approver)),
            Ok(approver) => {
                // A right PIN of someone who may not approve resets the login count (as at
                // login), so it is also counted there as a wrong one; the approval streak
                // below counts it in any case.
                let _ = self.store.verify_pin("", now);
                (
                    "not_allowed",
                    Some(approver.id),
                    errors::approver_not_allowed(perm),
                )
            }
            Err(e @ AuthError::WrongPin { .. }) => ("wrong_pin", None, auth_error(e)),
            Err(e @ AuthError::Locked { .. }) => ("locked", None, auth_error(e)),
            Err(e) => return Err(auth_error(e)),
        };
        self.audit(
            now,
            "approval_failed",
            approver_id.as_deref(),
            json!({
                "for": action,
                "permission": perm.code(),
                "failure": failure,
                "what": what,
            }),
        )?;
        // The approval that completes a streak of failures locks approvals right away.
        if let Some(until) = self.approvals_locked_until(now)? {
            return Err(auth_error(AuthError::Locked { until }));
        }
        Err(refusal)
    }

    /// Approvals have their own lock, kept in the audit trail so that nothing but a successful
    /// approval ends a streak: after the lockout policy's number of failed approvals in a row
    /// on this terminal (wrong PINs, or PINs of users who may not approve — a cashier typing
    /// their own PIN between guesses counts too), approvals are refused until the lock time has
    /// passed since the last failure; each further failure locks again.
    fn approvals_locked_until(
        &self,
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, ApiError> {
        let policy = self.store.lockout_policy();
        let max = policy.max_attempts.max(1) as usize;
        let recent = self
            .store
            .recent_approvals(&self.terminal_id, max)
            .map_err(store_error)?;
        if recent.len() < max || recent.iter().any(|(ok, _)| *ok) {
            return Ok(None);
        }
        let until = recent[0].1 + policy.lock_for;
        Ok((until > now).then_some(until))
    }

    /// Appends one row for the logged-in user's action on the sale in progress.
    fn audit(
        &mut self,
        now: OffsetDateTime,
        action: &str,
        approver_id: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<(), ApiError> {
        let user_id = self.user.as_ref().map(|u| u.id.clone());
        let sale_ref = self.sale_ref.to_string();
        self.store
            .append_audit(
                &NewAuditEntry {
                    terminal_id: &self.terminal_id,
                    action,
                    user_id: user_id.as_deref(),
                    approver_id,
                    sale_ref: Some(&sale_ref),
                    detail,
                },
                now,
            )
            .map(|_| ())
            .map_err(store_error)
    }

    /// Runs a privileged change of the cart: checks it on a copy, asks for approval if needed,
    /// records it, then applies it. `change` gets the approver's name when there is one.
    #[allow(clippy::too_many_arguments)]
    fn privileged(
        &mut self,
        perm: Permission,
        action: &str,
        line: Option<LineId>,
        reason: &Reason,
        approver_pin: Option<&str>,
        now: OffsetDateTime,
        change: impl Fn(&mut Cart, Option<String>) -> Result<(), CartError>,
    ) -> Result<(), ApiError> {
        let mut probe = self.cart.clone();
        change(&mut probe, None).map_err(cart_error)?;
        let what = describe(&self.cart, &probe, line, reason);
        let approver = self.authorize(perm, action, approver_pin, &what, now)?;
        let mut next = self.cart.clone();
        change(&mut next, approver.as_ref().map(|a| a.name.clone())).map_err(cart_error)?;
        self.audit(now, action, approver.as_ref().map(|a| a.id.as_str()), what)?;
        self.cart = next;
        if line.is_some() {
            self.last_line = line;
        }
        self.changed();
        Ok(())
    }

    fn discount(&self, d: DiscountDto) -> Option<Discount> {
        match d {
            DiscountDto::Percent { bps: 0 } | DiscountDto::Amount { minor: 0 } => None,
            DiscountDto::Percent { bps } => Some(Discount::Percent { bps }),
            DiscountDto::Amount { minor } => Some(Discount::Amount {
                amount: Money::new(minor, self.settings.currency),
            }),
        }
    }

    fn set_line_discount(
        &mut self,
        line_id: u32,
        discount: Option<DiscountDto>,
        reason: Option<ReasonDto>,
        approver_pin: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        self.ensure_open()?;
        let id = LineId(line_id);
        if self.cart.line(id).is_none() {
            return Err(no_such_line(line_id));
        }
        let Some(discount) = discount.and_then(|d| self.discount(d)) else {
            // Taking a discount off raises the price: anyone may; it is still on record.
            if self.cart.line(id).is_some_and(|l| l.discount.is_some()) {
                let mut next = self.cart.clone();
                next.set_line_discount(id, None).map_err(cart_error)?;
                let what = json!({"line": line_id, "before": line_figures(&self.cart, id), "after": line_figures(&next, id)});
                self.audit(now, "line_discount_removed", None, what)?;
                self.cart = next;
                self.last_line = Some(id);
                self.changed();
            }
            return Ok(());
        };
        let reason = parse_reason(reason)?;
        let code = reason.code.clone();
        self.privileged(
            Permission::LineDiscount,
            "line_discount",
            Some(id),
            &reason,
            approver_pin,
            now,
            |cart, approved_by| {
                cart.set_line_discount(
                    id,
                    Some(Adjustment {
                        discount,
                        reason: Some(code.clone()),
                        approved_by,
                    }),
                )
            },
        )
    }

    fn set_order_discount(
        &mut self,
        discount: Option<DiscountDto>,
        reason: Option<ReasonDto>,
        approver_pin: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        self.ensure_open()?;
        if self.cart.is_empty() {
            return Err(ApiError::new("sale.empty", "scan something first"));
        }
        let Some(discount) = discount.and_then(|d| self.discount(d)) else {
            if self.cart.order_discount().is_some() {
                let mut next = self.cart.clone();
                next.set_order_discount(None).map_err(cart_error)?;
                let what =
                    json!({"total_before": total_of(&self.cart), "total_after": total_of(&next)});
                self.audit(now, "order_discount_removed", None, what)?;
                self.cart = next;
                self.changed();
            }
            return Ok(());
        };
        let reason = parse_reason(reason)?;
        let code = reason.code.clone();
        self.privileged(
            Permission::OrderDiscount,
            "order_discount",
            None,
            &reason,
            approver_pin,
            now,
            |cart, approved_by| {
                cart.set_order_discount(Some(Adjustment {
                    discount,
                    reason: Some(code.clone()),
                    approved_by,
                }))
            },
        )
    }

    fn override_price(
        &mut self,
        line_id: u32,
        unit_price: i64,
        reason: Option<ReasonDto>,
        approver_pin: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        self.ensure_open()?;
        let id = LineId(line_id);
        if self.cart.line(id).is_none() {
            return Err(no_such_line(line_id));
        }
        let reason = parse_reason(reason)?;
        let code = reason.code.clone();
        let price = Money::new(unit_price, self.settings.currency);
        self.privileged(
            Permission::PriceOverride,
            "price_override",
            Some(id),
            &reason,
            approver_pin,
            now,
            |cart, approved_by| cart.override_price(id, price, Some(code.clone()), approved_by),
        )
    }

    /// Removes a line (the cashier's "void line"). Roles with `VoidLine` may (cashiers do by
    /// default: taking back a line just scanned is everyday work); every void is recorded.
    fn void_line(&mut self, line_id: u32, now: OffsetDateTime) -> Result<(), ApiError> {
        self.ensure_open()?;
        let user = self.require_user()?;
        if !user.role.allows(Permission::VoidLine) {
            return Err(errors::approval_required(Permission::VoidLine));
        }
        let id = LineId(line_id);
        let mut next = self.cart.clone();
        let removed = next.remove(id).map_err(cart_error)?;
        let mut what = line_figures(&self.cart, id);
        what["line"] = json!(line_id);
        what["total_before"] = json!(total_of(&self.cart));
        what["total_after"] = json!(total_of(&next));
        what["name"] = json!(removed.product.name("en"));
        self.audit(now, "line_void", None, what)?;
        self.cart = next;
        self.last_line = self.cart.lines().last().map(|l| l.id);
        self.changed();
        Ok(())
    }

    /// Throws the whole sale away before payment. No receipt number is taken (see the module
    /// doc); the sale's lines and total are in the audit row.
    fn void_sale(
        &mut self,
        reason: Option<ReasonDto>,
        approver_pin: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        self.ensure_open()?;
        if self.cart.is_empty() {
            return Err(ApiError::new("sale.empty", "scan something first"));
        }
        let reason = parse_reason(reason)?;
        let lines: Vec<serde_json::Value> = self
            .cart
            .lines()
            .iter()
            .map(|l| line_figures(&self.cart, l.id))
            .collect();
        let what = json!({
            "lines": lines,
            "line_count": self.cart.lines().len(),
            "total": total_of(&self.cart),
            "currency": self.cart.currency().code(),
            "reason": reason.code,
            "note": reason.note,
        });
        let approver =
            self.authorize(Permission::VoidSale, "sale_void", approver_pin, &what, now)?;
        self.audit(
            now,
            "sale_void",
            approver.as_ref().map(|a| a.id.as_str()),
            what,
        )?;
        self.start_new_sale();
        Ok(())
    }

    fn start_new_sale(&mut self) {
        self.cart = Cart::new(self.settings.currency, self.settings.tax_policy);
        self.sale_ref = Uuid::now_v7();
        self.tenders.clear();
        self.stage = Stage::Open;
        self.last_line = None;
        self.changed();
    }

    /// Sets the sale in progress aside; the register starts an empty one.
    fn park(&mut self, now: OffsetDateTime) -> Result<(), ApiError> {
        self.ensure_open()?;
        if self.cart.is_empty() {
            return Err(ApiError::new("sale.empty", "scan something first"));
        }
        let user = self.require_user()?.clone();
        let total = self.cart.totals().map_err(cart_error)?.total;
        let parked = ParkedSale {
            id: self.sale_ref.to_string(),
            terminal_id: self.terminal_id.clone(),
            cashier_id: user.id.clone(),
            cashier_name: user.name.clone(),
            parked_at: now,
            line_count: self.cart.lines().len() as u32,
            total_minor: total.minor,
            currency: total.currency.code().to_owned(),
        };
        let cart = serde_json::to_value(&self.cart)
            .map_err(|e| ApiError::new("app.internal", e.to_string()))?;
        self.store.park_sale(&parked, &cart).map_err(store_error)?;
        self.audit(
            now,
            "sale_parked",
            None,
            json!({"line_count": parked.line_count, "total": parked.total_minor}),
        )?;
        self.start_new_sale();
        Ok(())
    }

    /// Brings a parked sale back as the sale in progress; a sale in progress is parked first.
    fn resume(&mut self, id: &str, now: OffsetDateTime) -> Result<(), ApiError> {
        self.ensure_open()?;
        // Read and check it first: a parked sale that cannot be read stays in the list.
        let value = self
            .store
            .parked_cart(&self.terminal_id, id)
            .map_err(store_error)?
            .ok_or_else(errors::parked_not_found)?;
        let cart: Cart = serde_json::from_value(value)
            .ok()
            .filter(|c: &Cart| c.currency() == self.settings.currency)
            .ok_or_else(|| {
                ApiError::new(
                    "store.error",
                    "the parked sale cannot be read on this terminal",
                )
            })?;
        if !self.cart.is_empty() {
            self.park(now)?;
        }
        self.store
            .take_parked_sale(&self.terminal_id, id)
            .map_err(store_error)?
            .ok_or_else(errors::parked_not_found)?;
        self.cart = cart;
        self.sale_ref = Uuid::parse_str(id).unwrap_or_else(|_| Uuid::now_v7());
        self.tenders.clear();
        self.stage = Stage::Open;
        self.last_line = self.cart.lines().last().map(|l| l.id);
        let what = json!({"parked_id": id, "line_count": self.cart.lines().len(), "total": total_of(&self.cart)});
        self.audit(now, "sale_resumed", None, what)?;
        self.changed();
        Ok(())
    }
}

// ---- the commands ----------------------------------------------------------------------------

impl Register {
    pub(super) fn checkout_line_discount(
        &self,
        line_id: u32,
        discount: Option<DiscountDto>,
        reason: Option<ReasonDto>,
        approver_pin: Option<String>,
    ) -> Result<SaleDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.set_line_discount(line_id, discount, reason, approver_pin.as_deref(), now)?;
        self.publish(&st)
    }

    pub(super) fn checkout_order_discount(
        &self,
        discount: Option<DiscountDto>,
        reason: Option<ReasonDto>,
        approver_pin: Option<String>,
    ) -> Result<SaleDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.set_order_discount(discount, reason, approver_pin.as_deref(), now)?;
        self.publish(&st)
    }

    pub(super) fn checkout_override_price(
        &self,
        line_id: u32,
        unit_price: i64,
        reason: Option<ReasonDto>,
        approver_pin: Option<String>,
    ) -> Result<SaleDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.override_price(line_id, unit_price, reason, approver_pin.as_deref(), now)?;
        self.publish(&st)
    }

    pub(super) fn checkout_void_line(&self, line_id: u32) -> Result<SaleDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.void_line(line_id, now)?;
        self.publish(&st)
    }

    pub(super) fn checkout_void_sale(
        &self,
        reason: Option<ReasonDto>,
        approver_pin: Option<String>,
    ) -> Result<SaleDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.void_sale(reason, approver_pin.as_deref(), now)?;
        self.publish(&st)
    }

    pub(super) fn checkout_park(&self) -> Result<SaleDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.park(now)?;
        self.publish(&st)
    }

    pub(super) fn checkout_parked(&self) -> Result<Vec<ParkedSaleDto>, ApiError> {
        let st = self.lock();
        st.require_user()?;
        let list = st
            .store
            .parked_sales(&st.terminal_id)
            .map_err(store_error)?;
        Ok(list
            .into_iter()
            .map(|p| ParkedSaleDto {
                id: p.id,
                parked_at: p
                    .parked_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                cashier: p.cashier_name,
                line_count: p.line_count,
                total: MoneyDto {
                    minor: p.total_minor,
                    currency: p.currency,
                },
            })
            .collect())
    }

    pub(super) fn checkout_resume(&self, parked_id: &str) -> Result<SaleDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.resume(parked_id, now)?;
        self.publish(&st)
    }

    /// Prints the terminal's last receipt again, marked as a copy in the receipt's language,
    /// through the print queue; returns what was printed.
    pub(super) fn checkout_reprint(&self) -> Result<ReceiptPreviewDto, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        st.require_user()?;
        let sale = st
            .store
            .last_sale(&st.terminal_id)
            .map_err(store_error)?
            .ok_or_else(errors::no_receipt)?;
        let lang = Lang::parse(&st.settings.locale);
        let offset = crate::locale::utc_offset(&st.settings, now);
        // The original's content with its card slips, marked as a copy in its language.
        let mut content = receipt::ReceiptContent {
            payment_slips: self.card_slips(&sale),
            ..receipt::content(&sale, &st.settings)
        };
        content.header.insert(0, copy_mark(lang).to_owned());
        content.notes.push(copy_note(
            lang,
            &format_datetime(now.to_offset(offset), lang),
        ));
        let encode_error = |e: pos_hardware::escpos::EncodeError| {
            ApiError::new("device.print_queue", e.to_string())
        };
        // For the terminal's printer (paper width, model), like the sale's receipt …
        let printer = &self.hardware.config().printer;
        let bytes = pos_hardware::escpos::receipt::render(
            &receipt::document(&content, printer.paper, false),
            &receipt::configured_profile(lang, printer.paper, printer.model),
        )
        .map_err(encode_error)?;
        // … and for the screen, the way receipt previews are shown.
        let paper = pos_hardware::escpos::PaperWidth::Mm80;
        let shown = pos_hardware::escpos::receipt::render(
            &receipt::document(&content, paper, false),
            &receipt::profile(lang, paper),
        )
        .map_err(encode_error)?;
        let lines = pos_hardware::escpos::decode(&shown).lines(paper);
        st.audit(
            now,
            "receipt_reprinted",
            None,
            json!({"sale_id": sale.id().to_string(), "receipt": sale.receipt().to_string()}),
        )?;
        self.hardware
            .print(&format!("{}-copy-{}", sale.id(), Uuid::now_v7()), bytes)?;
        Ok(ReceiptPreviewDto {
            receipt_number: sale.receipt().to_string(),
            lines,
            width_chars: paper.columns() as u32,
        })
    }
}
