//! Stored value in the sale commit, on a real SQLite file: a gift card sold is queued for its
//! ledger inside the sale's own transaction (never before, never for a sale that is not
//! committed), lowers no stock, and a sale of gift cards only has nothing for the shop's outbox;
//! the activation is recorded once; the customer of a sale is kept with it.

mod common;

use common::*;
use pos_core::cart::{SaleCustomer, Voucher, VoucherKind};
use pos_core::{Currency, Money, ProductRef, Quantity, TaxRate};
use pos_store::gift_cards::{Load, activation_key};
use std::collections::BTreeMap;
use uuid::Uuid;

fn card_line(cart: &mut pos_core::Cart, number: &str, kind: VoucherKind, minor: i64) {
    let amount = Money::new(minor, Currency::Eur);
    cart.add_voucher(
        ProductRef {
            variant_id: "gift-card".into(),
            sku: "GIFT-CARD".into(),
            names: BTreeMap::from([("es".to_owned(), "Tarjeta regalo".to_owned())]),
            barcode: None,
            unit_price: amount,
            tax: TaxRate::new("NONE", 0, false),
            by_weight: false,
        },
        Voucher {
            kind,
            number: number.into(),
            print_code: false,
        },
        amount,
    )
    .unwrap();
}

#[test]
fn a_card_sold_is_queued_with_its_sale_and_lowers_no_stock() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_with_catalog(&dir.path().join("t.db"));
    let mut cart = cart(&store, &[(MILK, Quantity::Units(1))]);
    card_line(&mut cart, "7001 0002", VoucherKind::Issue, 2_500);
    cart.set_customer(Some(SaleCustomer {
        id: "c-0001".into(),
        name: "Lucía Martín".into(),
    }));
    assert!(store.pending_gift_card_activations(10).unwrap().is_empty());
    let id = Uuid::from_u128(7);
    let sale = store
        .commit_sale("T01", LOCATION, |r| build(&cart, r, id, T0))
        .unwrap();
    let pending = store.pending_gift_card_activations(10).unwrap();
    assert_eq!(pending.len(), 1);
    let a = &pending[0];
    assert_eq!(a.key, activation_key(&id.to_string(), 2));
    assert_eq!(
        (a.load, a.number.as_str(), a.amount.minor),
        (Load::Issue, "70010002", 2_500)
    );
    assert_eq!(sale.totals().total.minor, 109 + 2_500);
    // The milk left stock; nothing was written for the card.
    assert_eq!(store.stock_on_hand("v-milk", LOCATION).unwrap(), Some(9));
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM stock WHERE variant_id = 'gift-card'"
        ),
        0
    );
    assert_eq!(count(&store, "SELECT count(*) FROM outbox"), 1);
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM sale_customer WHERE customer_id = 'c-0001'"
        ),
        1
    );
    // A failed attempt stays pending with its error; success is recorded once.
    store
        .record_gift_card_activation(&a.key, Some("shop unreachable"), T0)
        .unwrap();
    let again = store.pending_gift_card_activations(10).unwrap();
    assert_eq!(
        (again[0].attempts, again[0].last_error.as_deref()),
        (1, Some("shop unreachable"))
    );
    store.record_gift_card_activation(&a.key, None, T0).unwrap();
    assert!(store.pending_gift_card_activations(10).unwrap().is_empty());
}

#[test]
fn a_sale_of_gift_cards_only_has_nothing_for_the_shop_and_a_refused_sale_queues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open_with_catalog(&dir.path().join("t.db"));
    let mut cart = pos_core::Cart::new(Currency::Eur, pos_core::TaxPolicy::SPAIN);
    card_line(&mut cart, "70010003", VoucherKind::TopUp, 1_000);
    // A sale that cannot be built (not paid) writes nothing.
    let refused = store.commit_sale("T01", LOCATION, |_| {
        Err::<pos_core::CompletedSale, _>("not paid")
    });
    assert!(refused.is_err());
    assert!(store.pending_gift_card_activations(10).unwrap().is_empty());
    store
        .commit_sale("T01", LOCATION, |r| build(&cart, r, Uuid::from_u128(8), T0))
        .unwrap();
    assert_eq!(
        store.pending_gift_card_activations(10).unwrap()[0].load,
        Load::TopUp
    );
    assert_eq!(count(&store, "SELECT count(*) FROM outbox"), 0);
    assert_eq!(
        count(&store, "SELECT count(*) FROM sale_tax"),
        0,
        "no tax on a card"
    );
}
