//! Property tests of cash management: a drawer count totals exactly, a session's sales summed
//! per tender add up to what the customers paid, the order of the sales does not matter, and
//! over/short is exactly what was counted beyond what was expected.

use pos_core::cart::{Cart, ProductRef, Quantity};
use pos_core::cash::{
    DenominationCount, DrawerCount, DrawerFigures, SalesSummary, denominations, over_short,
};
use pos_core::sale::{Cashier, SaleContext};
use pos_core::tax::{CashRounding, RoundingDirection, TaxPolicy, TaxRate};
use pos_core::{CompletedSale, Currency, Money, ReceiptNumber, Tender, TenderKind};
use proptest::prelude::*;
use std::collections::BTreeMap;
use uuid::Uuid;

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        Just(Currency::Eur),
        Just(Currency::Jpy),
        Just(Currency::Usd)
    ]
}

/// A sale: lines (rate index, price, units), how much of it goes on a card (per mille of the
/// total), how much extra cash the customer hands over.
type SaleSpec = (Vec<(usize, i64, i64)>, u16, i64);

fn sale_spec() -> impl Strategy<Value = SaleSpec> {
    (
        prop::collection::vec((0usize..3, 1i64..20_000, 1i64..5), 1..6),
        0u16..=1000,
        0i64..5_000,
    )
}

fn build(n: u64, spec: &SaleSpec, rounding: CashRounding) -> CompletedSale {
    let rates = [
        TaxRate::new("R21", 2100, false),
        TaxRate::new("R10", 1000, true),
        TaxRate::new("R4", 400, true),
    ];
    let mut cart = Cart::new(Currency::Eur, TaxPolicy::SPAIN);
    for (i, (r, price, qty)) in spec.0.iter().enumerate() {
        cart.add(
            ProductRef {
                variant_id: format!("v{i}"),
                sku: format!("s{i}"),
                names: BTreeMap::new(),
                barcode: None,
                unit_price: Money::new(*price, Currency::Eur),
                tax: rates[*r].clone(),
                by_weight: false,
            },
            Quantity::Units(*qty),
        )
        .unwrap();
    }
    let total = cart.totals().unwrap().total.minor;
    let card = total * i64::from(spec.1) / 1000;
    let mut tenders = Vec::new();
    if card > 0 {
        tenders.push(Tender {
            kind: TenderKind::Card,
            amount: Money::new(card, Currency::Eur),
            reference: None,
        });
    }
    let cash_due = rounding.round(total - card);
    if cash_due > 0 {
        tenders.push(Tender {
            kind: TenderKind::Cash,
            amount: Money::new(cash_due + spec.2, Currency::Eur),
            reference: None,
        });
    }
    cart.complete(
        tenders,
        SaleContext {
            id: Uuid::from_u128(u128::from(n)),
            receipt: ReceiptNumber {
                series: "T01".into(),
                number: n,
            },
            terminal_id: "T01".into(),
            cashier: if n.is_multiple_of(2) {
                Cashier {
                    id: "u-ana".into(),
                    name: "Ana".into(),
                }
            } else {
                Cashier {
                    id: "u-marta".into(),
                    name: "Marta".into(),
                }
            },
            at: time::macros::datetime!(2026-11-22 10:00 UTC),
            cash_rounding: rounding,
        },
    )
    .unwrap()
}

proptest! {
    #[test]
    fn a_count_totals_the_pieces_exactly(cur in currency(), qty in prop::collection::vec(0i64..5_000, 15)) {
        let counts: Vec<DenominationCount> = denominations(cur)
            .iter()
            .zip(&qty)
            .map(|(d, q)| DenominationCount { value: d.value, quantity: *q })
            .collect();
        let count = DrawerCount::new(cur, &counts).unwrap();
        let want: i128 = counts.iter().map(|c| i128::from(c.value) * i128::from(c.quantity)).sum();
        prop_assert_eq!(i128::from(count.total().minor), want);
        prop_assert_eq!(count.total().currency, cur);
    }

    #[test]
    fn sales_summed_per_tender_add_up_to_what_the_customers_paid(
        specs in prop::collection::vec(sale_spec(), 1..12),
        five_cent_rounding in any::<bool>(),
    ) {
        let rounding = if five_cent_rounding {
            CashRounding { increment: 5, direction: RoundingDirection::HalfUp }
        } else {
            CashRounding::NONE
        };
        let sales: Vec<CompletedSale> = specs
            .iter()
            .enumerate()
            .map(|(i, s)| build(i as u64 + 1, s, rounding))
            .collect();
        let s = SalesSummary::of(Currency::Eur, &sales).unwrap();
        prop_assert_eq!(s.sales, sales.len() as u64);
        let by_tender: i64 = s.tenders.iter().map(|t| t.amount.minor).sum();
        prop_assert_eq!(by_tender, s.total.minor + s.rounding.minor, "tenders net of change = totals + cash rounding");
        let cash = s.tenders.iter().find(|t| t.kind == TenderKind::Cash).map_or(0, |t| t.amount.minor);
        prop_assert_eq!(cash, s.cash_net().unwrap().minor);
        let gross: i64 = s.taxes.iter().map(|t| t.gross.minor).sum();
        prop_assert_eq!(gross, s.total.minor, "the rates add up to the total");
        let tax: i64 = s.taxes.iter().map(|t| t.tax.minor).sum();
        prop_assert_eq!(tax, s.tax_total.minor);
        prop_assert_eq!(s.items.minor - s.discounts.minor, s.total.minor, "no discounts here: items = total");
        let by_cashier: i64 = s.cashiers.iter().map(|c| c.total.minor).sum();
        prop_assert_eq!(by_cashier, s.total.minor, "the cashiers' sales add up to the total");
        prop_assert_eq!(s.cashiers.iter().map(|c| c.sales).sum::<u64>(), s.sales);
        let reversed = SalesSummary::of(Currency::Eur, sales.iter().rev()).unwrap();
        prop_assert_eq!(reversed, s, "the order of the sales does not matter");
    }

    #[test]
    fn over_short_is_what_was_counted_beyond_the_expected_drawer(
        float in 0i64..1_000_000, taken in 0i64..10_000_000, change_pct in 0i64..100,
        cash_in in 0i64..100_000, cash_out in 0i64..100_000, diff in -10_000i64..10_000,
    ) {
        let eur = |m| Money::new(m, Currency::Eur);
        let change = taken * change_pct / 100;
        let f = DrawerFigures {
            opening_float: eur(float),
            cash_taken: eur(taken),
            change_given: eur(change),
            cash_in: eur(cash_in),
            cash_out: eur(cash_out),
            cash_refunds: eur(0),
            account_payments: None,
        };
        let expected = f.expected().unwrap();
        prop_assert_eq!(expected.minor, float + taken - change + cash_in - cash_out);
        prop_assert_eq!(over_short(eur(expected.minor + diff), expected).unwrap().minor, diff);
    }
}
