//! How a register sale (the `sale.completed` outbox payload, a `pos_core::CompletedSale`)
//! becomes the shop's sale record.
//!
//! Rules: the sale's UUID is the idempotency key; line totals are after every discount; the
//! total is what the customer finally paid (after cash rounding) and payments add up to it (cash
//! is counted net of the change handed back). A line sold by weight is sent with its grams as the
//! quantity (the shop counts that variant's stock in grams, as the register does) and a unit price
//! rounded up so that unit × grams ≥ the line total. Gift cards sold in the sale are not sent:
//! they are not goods (the shop's gift-card ledger has them), so their lines are left out and
//! their amount comes off the total and the payments.

use crate::SyncError;
use crate::connector::{PaymentRecord, SaleLineRecord, SaleRecord, SaleTotalsRecord};
use pos_core::{CompletedSale, PriceMode, Quantity, TenderKind};
use time::format_description::well_known::Rfc3339;

/// Builds the shop's record of a sale. `terminal_id` is the shop terminal's identifier.
pub fn sale_record(sale: &CompletedSale, terminal_id: &str) -> Result<SaleRecord, SyncError> {
    // A gift card sold is not a product: the shop's gift-card ledger has it, not its catalog.
    let lines = sale
        .lines()
        .iter()
        .filter(|sold| sold.line.voucher.is_none())
        .map(|sold| {
            let l = &sold.line;
            let amount = sold.total.amount.minor;
            let (quantity, unit) = match l.quantity {
                Quantity::Units(n) => (n, l.unit_price.minor),
                Quantity::Grams(g) => (g, (sold.total.extended.minor + g - 1) / g.max(1)),
            };
            SaleLineRecord {
                sku: l.product.sku.clone(),
                quantity,
                unit_price_minor: unit,
                line_total_minor: amount,
                tax_rate_bps: l.product.tax.bps,
            }
        })
        .collect();
    let paid = sale.amount_paid().minor;
    let non_cash: i64 = sale
        .tenders()
        .iter()
        .filter(|t| t.kind != TenderKind::Cash)
        .map(|t| t.amount.minor)
        .sum();
    let mut cash_left = paid - non_cash;
    let mut payments = Vec::new();
    for t in sale.tenders() {
        let amount = if t.kind == TenderKind::Cash {
            let a = t.amount.minor.min(cash_left);
            cash_left -= a;
            a
        } else {
            t.amount.minor
        };
        if amount > 0 {
            payments.push(PaymentRecord {
                method: t.kind.code().to_owned(),
                amount_minor: amount,
            });
        }
    }
    // Gift cards sold are the shop's gift-card ledger's, not sales of goods: their money comes
    // off the total and off the last payments, so the payments still add up to the total.
    let mut vouchers: i64 = sale
        .lines()
        .iter()
        .filter(|s| s.line.voucher.is_some())
        .map(|s| s.total.amount.minor)
        .sum();
    let total = paid - vouchers;
    for p in payments.iter_mut().rev() {
        let off = p.amount_minor.min(vouchers);
        p.amount_minor -= off;
        vouchers -= off;
    }
    payments.retain(|p| p.amount_minor > 0);
    let occurred_at = sale
        .at()
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|e| SyncError::Unsupported(format!("sale time: {e}")))?;
    Ok(SaleRecord {
        sale_id: sale.id().to_string(),
        terminal_id: terminal_id.to_owned(),
        receipt_number: sale.receipt().to_string(),
        occurred_at,
        currency_code: sale.currency().code().to_owned(),
        prices_include_tax: sale.policy().price_mode == PriceMode::TaxInclusive,
        lines,
        totals: SaleTotalsRecord {
            total_minor: total,
            tax_minor: sale.totals().tax_total.minor,
        },
        payments,
        document: Some(
            serde_json::to_string(sale)
                .map_err(|e| SyncError::Unsupported(format!("sale document: {e}")))?,
        ),
    })
}
