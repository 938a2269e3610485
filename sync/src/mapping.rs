//! How shop variants become the register's catalog: one local product per shop variant (the
//! register shows the variant's own name, e.g. "T-Shirt 00001 S", in every language the shop
//! has), prices with or without tax as the store works, a local tax category per shop tax
//! category (`vendure-tax-<id>`), barcodes, image and description.
//!
//! A shop variant is linked to an existing local variant with the same SKU (its ids are kept);
//! otherwise it gets the ids `vendure:<variant id>` / `vendure:p<variant id>`.
//! Deleted variants and variants in a currency the register cannot hold are left out (logged).

use crate::connector::{ShopStock, ShopVariant};
use pos_core::{Currency, Money};
use pos_store::sync_state::ShopStockFigure;
use pos_store::{CatalogBatch, ProductRecord, Store, StoreError, TaxCategory, VariantRecord};
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

/// What the catalog and stock parts of some shop data become locally.
#[derive(Debug, Default)]
pub(crate) struct Mapped {
    pub batch: CatalogBatch,
    pub stock: Vec<ShopStockFigure>,
    pub skipped: usize,
}

/// Maps variants (full data) and stock figures (possibly for variants not in `variants`).
/// Stock of SKUs the register does not have is ignored.
pub(crate) fn map_changes(
    store: &Store,
    variants: &[ShopVariant],
    stock: &[ShopStock],
    prices_include_tax: bool,
) -> Result<Mapped, StoreError> {
    let mut skus: Vec<&str> = variants.iter().map(|v| v.sku.as_str()).collect();
    skus.extend(stock.iter().map(|s| s.sku.as_str()));
    let linked = store.variants_by_sku(&skus)?;
    let mut out = Mapped::default();
    let mut taxes: BTreeMap<String, TaxCategory> = BTreeMap::new();
    let mut ids_by_sku: HashMap<String, String> = linked
        .iter()
        .map(|(sku, l)| (sku.clone(), l.variant_id.clone()))
        .collect();
    for v in variants {
        if v.deleted || v.sku.trim().is_empty() {
            out.skipped += 1;
            continue;
        }
        let Ok(currency) = Currency::from_str(&v.currency_code) else {
            tracing::warn!(sku = %v.sku, currency = %v.currency_code, "currency not supported by the register");
            out.skipped += 1;
            continue;
        };
        let (variant_id, product_id) = match linked.get(&v.sku) {
            Some(l) => (l.variant_id.clone(), l.product_id.clone()),
            None => (format!("vendure:{}", v.id), format!("vendure:p{}", v.id)),
        };
        ids_by_sku.insert(v.sku.clone(), variant_id.clone());
        let tax_code = format!(
            "vendure-tax-{}",
            v.tax_category_id.as_deref().unwrap_or("none")
        );
        taxes
            .entry(tax_code.clone())
            .or_insert_with(|| TaxCategory {
                code: tax_code.clone(),
                rate_bps: v.tax_rate_bps.min(10_000),
                reduced: false,
                names: v
                    .tax_category_name
                    .iter()
                    .map(|n| ("en".to_owned(), n.clone()))
                    .collect(),
            });
        let mut names: BTreeMap<String, String> = v
            .translations
            .iter()
            .filter(|t| !t.name.trim().is_empty())
            .map(|t| (t.language_code.clone(), t.name.clone()))
            .collect();
        if names.is_empty() {
            let name = if v.name.trim().is_empty() {
                &v.sku
            } else {
                &v.name
            };
            names.insert("en".to_owned(), name.clone());
        }
        let description = Some(v.description.clone()).filter(|d| !d.trim().is_empty());
        let price = if prices_include_tax {
            v.price_with_tax_minor
        } else {
            v.price_minor
        };
        let mut barcodes: Vec<String> = v
            .barcodes
            .iter()
            .map(|b| b.trim().to_owned())
            .filter(|b| !b.is_empty())
            .collect();
        barcodes.sort();
        barcodes.dedup();
        out.batch.products.push(ProductRecord {
            id: product_id,
            names,
            description,
            by_weight: false,
            tax_code,
            image_url: v.image_url.clone(),
            variants: vec![VariantRecord {
                id: variant_id,
                sku: v.sku.clone(),
                price: Money::new(price.max(0), currency),
                shop_product_id: Some(v.product_id.clone()),
                shop_variant_id: Some(v.id.clone()),
                barcodes,
                stock: Vec::new(),
            }],
        });
    }
    out.batch.tax_categories = taxes.into_values().collect();
    let mut figures: HashMap<String, i64> = HashMap::new();
    for v in variants.iter().filter(|v| !v.deleted) {
        figures.insert(v.sku.clone(), v.stock.sellable);
    }
    for s in stock {
        figures.insert(s.sku.clone(), s.sellable);
    }
    for (sku, sellable) in figures {
        if let Some(id) = ids_by_sku.get(&sku) {
            out.stock.push(ShopStockFigure {
                variant_id: id.clone(),
                sellable,
            });
        }
    }
    out.stock.sort_by(|a, b| a.variant_id.cmp(&b.variant_id));
    Ok(out)
}
