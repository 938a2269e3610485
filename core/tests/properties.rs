//! Property tests of the money maths: for any cart the figures add up, inclusive and exclusive
//! pricing agree, and rounding stays within the bound documented in `pos_core::tax`.

use pos_core::cart::{Adjustment, Cart, Discount, ProductRef, Quantity, allocate};
use pos_core::tax::{self, PriceMode, RoundingDirection, TaxPolicy, TaxRate, TaxRoundingPolicy};
use pos_core::{Currency, Money};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn rates() -> Vec<TaxRate> {
    vec![
        TaxRate::new("R21", 2100, false),
        TaxRate::new("R10", 1000, true),
        TaxRate::new("R8", 800, true),
        TaxRate::new("R4", 400, true),
        TaxRate::new("R0", 0, false),
    ]
}

fn direction() -> impl Strategy<Value = RoundingDirection> {
    prop_oneof![
        Just(RoundingDirection::Down),
        Just(RoundingDirection::Up),
        Just(RoundingDirection::HalfUp),
        Just(RoundingDirection::HalfEven),
    ]
}

fn policy() -> impl Strategy<Value = TaxPolicy> {
    (
        prop_oneof![Just(PriceMode::TaxInclusive), Just(PriceMode::TaxExclusive)],
        prop_oneof![
            Just(TaxRoundingPolicy::PerLine),
            Just(TaxRoundingPolicy::PerRatePerReceipt)
        ],
        direction(),
    )
        .prop_map(|(price_mode, rounding, direction)| TaxPolicy {
            price_mode,
            rounding,
            direction,
        })
}

/// (rate index, unit price, quantity, by weight, line discount percent)
fn lines() -> impl Strategy<Value = Vec<(usize, i64, i64, bool, Option<u32>)>> {
    prop::collection::vec(
        (
            0usize..5,
            0i64..500_000,
            1i64..50,
            any::<bool>(),
            prop::option::of(0u32..=10_000),
        ),
        1..25,
    )
}

fn build(
    policy: TaxPolicy,
    spec: &[(usize, i64, i64, bool, Option<u32>)],
    order_pct: Option<u32>,
) -> Cart {
    let rates = rates();
    let mut cart = Cart::new(Currency::Eur, policy);
    for (i, (r, price, qty, by_weight, disc)) in spec.iter().enumerate() {
        let p = ProductRef {
            variant_id: format!("v{i}"),
            sku: format!("s{i}"),
            names: BTreeMap::new(),
            barcode: None,
            unit_price: Money::new(*price, Currency::Eur),
            tax: rates[*r].clone(),
            by_weight: *by_weight,
        };
        let q = if *by_weight {
            Quantity::Grams(qty * 37)
        } else {
            Quantity::Units(*qty)
        };
        let id = cart.add(p, q).expect("valid line");
        if let Some(bps) = disc {
            let adj = Adjustment {
                discount: Discount::Percent { bps: *bps },
                reason: None,
                approved_by: None,
            };
            cart.set_line_discount(id, Some(adj))
                .expect("a percentage never exceeds its line");
        }
    }
    if let Some(bps) = order_pct {
        let adj = Adjustment {
            discount: Discount::Percent { bps },
            reason: None,
            approved_by: None,
        };
        cart.set_order_discount(Some(adj))
            .expect("valid order discount");
    }
    cart
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn totals_equal_the_sum_of_their_parts(policy in policy(), spec in lines(), order in prop::option::of(0u32..=10_000)) {
        let t = build(policy, &spec, order).totals().unwrap();
        let lines: i64 = t.lines.iter().map(|l| l.amount.minor).sum();
        prop_assert_eq!(lines, t.subtotal.minor, "line amounts add up to the subtotal");
        let extended: i64 = t.lines.iter().map(|l| l.extended.minor).sum();
        prop_assert_eq!(extended, t.items.minor);
        let discounts: i64 = t.lines.iter().map(|l| l.line_discount.minor + l.order_discount.minor).sum();
        prop_assert_eq!(discounts, t.discounts.minor, "line and order discounts add up");
        prop_assert_eq!(t.items.minor - t.discounts.minor, t.subtotal.minor);
        for l in &t.lines {
            prop_assert!(l.amount.minor >= 0, "no line goes negative through discounts");
        }
        let gross: i64 = t.taxes.iter().map(|r| r.gross.minor).sum();
        prop_assert_eq!(gross, t.total.minor, "per-rate gross adds up to the total");
        let tax: i64 = t.taxes.iter().map(|r| r.tax.minor).sum();
        prop_assert_eq!(tax, t.tax_total.minor);
        for r in &t.taxes {
            prop_assert_eq!(r.net.minor + r.tax.minor, r.gross.minor, "net + tax = gross for {}", r.rate.code);
        }
        match policy.price_mode {
            PriceMode::TaxInclusive => prop_assert_eq!(t.total.minor, t.subtotal.minor),
            PriceMode::TaxExclusive => prop_assert_eq!(t.total.minor, t.subtotal.minor + t.tax_total.minor),
        }
    }

    #[test]
    fn rounding_error_is_within_the_documented_bound(policy in policy(), spec in lines()) {
        let cart = build(policy, &spec, None);
        let t = cart.totals().unwrap();
        for r in &t.taxes {
            let amounts: Vec<i64> = cart.lines().iter().zip(&t.lines)
                .filter(|(l, _)| l.product.tax.code == r.rate.code)
                .map(|(_, lt)| lt.amount.minor)
                .collect();
            let base: i128 = amounts.iter().map(|a| *a as i128).sum();
            let bps = r.rate.bps as i128;
            // Exact tax as a rational number num/den; compare |tax·den − num| with bound·den.
            let (num, den) = match policy.price_mode {
                PriceMode::TaxInclusive => (base * bps, 10_000 + bps),
                PriceMode::TaxExclusive => (base * bps, 10_000),
            };
            let err2 = 2 * (r.tax.minor as i128 * den - num).abs(); // twice the error, times den
            let half_way = matches!(policy.direction, RoundingDirection::HalfUp | RoundingDirection::HalfEven);
            let per_unit2 = if half_way { den } else { 2 * den }; // ½ or 1 minor unit, doubled
            let units = match policy.rounding {
                TaxRoundingPolicy::PerRatePerReceipt => 1,
                TaxRoundingPolicy::PerLine => amounts.len() as i128,
            };
            prop_assert!(err2 <= per_unit2 * units, "rate {}: tax {} for base {} off by more than the bound", r.rate.code, r.tax.minor, base);
        }
    }

    #[test]
    fn inclusive_and_exclusive_agree(spec in lines(), dir in direction()) {
        // Price the lines net (exclusive), then price the resulting gross inclusive: the tax
        // found back differs by at most one minor unit per rate, and the nets agree likewise.
        let excl = TaxPolicy { price_mode: PriceMode::TaxExclusive, rounding: TaxRoundingPolicy::PerRatePerReceipt, direction: dir };
        let incl = TaxPolicy { price_mode: PriceMode::TaxInclusive, ..excl };
        let t = build(excl, &spec, None).totals().unwrap();
        for r in &t.taxes {
            let back = tax::breakdown(&incl, Currency::Eur, &[(r.rate.clone(), r.gross.minor)]).unwrap();
            prop_assert!((back[0].tax.minor - r.tax.minor).abs() <= 1, "rate {}: {} vs {}", r.rate.code, back[0].tax.minor, r.tax.minor);
            prop_assert!((back[0].net.minor - r.net.minor).abs() <= 1);
            prop_assert_eq!(back[0].gross.minor, r.gross.minor);
        }
    }

    #[test]
    fn allocation_is_exact_and_bounded(amount_pct in 0i64..=100, weights in prop::collection::vec(0i64..1_000_000, 1..30)) {
        let total: i64 = weights.iter().sum();
        let amount = total * amount_pct / 100;
        let parts = allocate(amount, &weights);
        prop_assert_eq!(parts.iter().sum::<i64>(), amount);
        for (p, w) in parts.iter().zip(&weights) {
            prop_assert!(*p >= 0 && p <= w);
        }
    }

    #[test]
    fn a_refused_operation_leaves_the_cart_unchanged(spec in lines(), qty in prop_oneof![Just(0i64), Just(-5i64), 10_000i64..i64::MAX]) {
        let mut cart = build(TaxPolicy::SPAIN, &spec, None);
        let before = cart.clone();
        let id = cart.lines()[0].id;
        let q = if cart.lines()[0].product.by_weight { Quantity::Grams(qty.saturating_mul(100)) } else { Quantity::Units(qty) };
        prop_assert!(cart.set_quantity(id, q).is_err());
        prop_assert_eq!(cart, before);
    }
}
