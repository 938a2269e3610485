//! The catalog: tax categories, products with names per language, variants (SKU, price),
//! barcodes, locations and stock on hand; the scan lookup and the product search.
//!
//! Invariants:
//! * The full-text index `catalog_search` (FTS5, trigram tokenizer) holds exactly one document
//!   per variant (rowid = `variant.rid`) with every name of its product, its SKU and its
//!   barcodes. Only [`Store::upsert_catalog`] writes the catalog, and it rebuilds the document of
//!   every variant it touches in the same transaction, so the index never disagrees with the
//!   tables.
//! * The scan path ([`Store::find_by_barcode`]) is one query over primary-key and unique
//!   indexes, through a cached prepared statement.
//! * Stock on hand counts units, or grams for products sold by weight, and may be negative.

use crate::{Result, Store, StoreError, unix_ms};
use pos_core::{Currency, Money, ProductRef, TaxRate};
use rusqlite::{OptionalExtension, Row, params};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use std::sync::LazyLock;
use time::OffsetDateTime;

/// A tax category as configured for the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxCategory {
    /// Stable code, e.g. "ES-IVA-21".
    pub code: String,
    /// Rate in basis points (2100 = 21 %).
    pub rate_bps: u32,
    /// A reduced rate (marked ※ on Japanese receipts).
    pub reduced: bool,
    /// Display names by language tag.
    pub names: BTreeMap<String, String>,
}

impl TaxCategory {
    pub fn rate(&self) -> TaxRate {
        TaxRate::new(self.code.clone(), self.rate_bps, self.reduced)
    }
}

/// A stock location (a shop floor, a back room, a warehouse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationRecord {
    pub id: String,
    pub name: String,
}

/// A product as imported: names, tax category and its variants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRecord {
    pub id: String,
    /// Names by language tag ("en", "es", "ja"); at least one.
    pub names: BTreeMap<String, String>,
    pub description: Option<String>,
    /// Priced per kilogram and sold by weight.
    pub by_weight: bool,
    pub tax_code: String,
    pub image_url: Option<String>,
    pub variants: Vec<VariantRecord>,
}

/// A sellable variant: its SKU, price, barcodes and (optionally) absolute stock levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantRecord {
    pub id: String,
    pub sku: String,
    /// Per unit, or per kilogram when the product is sold by weight.
    pub price: Money,
    pub shop_product_id: Option<String>,
    pub shop_variant_id: Option<String>,
    /// Replaces the variant's barcodes. A barcode that belonged to another variant moves here.
    pub barcodes: Vec<String>,
    /// (location id, on hand) pairs that set the stock level absolutely; locations not listed
    /// keep their level.
    pub stock: Vec<(String, i64)>,
}

/// One import: applied whole or not at all by [`Store::upsert_catalog`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogBatch {
    pub tax_categories: Vec<TaxCategory>,
    pub locations: Vec<LocationRecord>,
    pub products: Vec<ProductRecord>,
}

/// What the register needs to ring up a variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogItem {
    pub variant_id: String,
    pub product_id: String,
    pub sku: String,
    /// Names by language tag.
    pub names: BTreeMap<String, String>,
    /// Per unit, or per kilogram when `by_weight`.
    pub price: Money,
    pub tax: TaxRate,
    pub by_weight: bool,
    /// The barcode that was scanned, else the variant's first barcode.
    pub barcode: Option<String>,
    /// Stock on hand at the location asked about; `None` when never counted there.
    pub on_hand: Option<i64>,
    pub image_url: Option<String>,
}

impl CatalogItem {
    /// The name in `lang`, else English, else any, else the SKU.
    pub fn name(&self, lang: &str) -> &str {
        self.names
            .get(lang)
            .or_else(|| self.names.get("en"))
            .or_else(|| self.names.values().next())
            .map(String::as_str)
            .unwrap_or(&self.sku)
    }

    /// The snapshot a cart line keeps of this item.
    pub fn to_product_ref(&self) -> ProductRef {
        ProductRef {
            variant_id: self.variant_id.clone(),
            sku: self.sku.clone(),
            names: self.names.clone(),
            barcode: self.barcode.clone(),
            unit_price: self.price,
            tax: self.tax.clone(),
            by_weight: self.by_weight,
        }
    }
}

/// The columns of a [`CatalogItem`]; `?1` is the location. Callers add FROM-side joins on
/// `v` (variant) and the barcode expression `bc`.
const ITEM_COLUMNS: &str = "v.id, v.product_id, v.sku, v.price_minor, v.currency, p.by_weight, \
     p.image_url, t.code, t.rate_bps, t.reduced, \
     (SELECT json_group_object(n.lang, n.name) FROM product_name n WHERE n.product_id = p.id), \
     (SELECT s.on_hand FROM stock s WHERE s.variant_id = v.id AND s.location_id = ?1)";

const ITEM_JOINS: &str =
    "JOIN product p ON p.id = v.product_id JOIN tax_category t ON t.code = p.tax_code";

const FIRST_BARCODE: &str = "(SELECT min(b.code) FROM barcode b WHERE b.variant_id = v.id)";

/// Shortest query the trigram index can answer.
pub const TRIGRAM_MIN_CHARS: usize = 3;

/// How many index hits [`Store::search`] ranks, per result asked for.
const CANDIDATES_PER_RESULT: usize = 4;

fn item_from_row(r: &Row<'_>) -> rusqlite::Result<RawItem> {
    Ok(RawItem {
        variant_id: r.get(0)?,
        product_id: r.get(1)?,
        sku: r.get(2)?,
        price_minor: r.get(3)?,
        currency: r.get(4)?,
        by_weight: r.get(5)?,
        image_url: r.get(6)?,
        tax_code: r.get(7)?,
        tax_bps: r.get(8)?,
        reduced: r.get(9)?,
        names: r
            .get::<_, Option<String>>(10)?
            .unwrap_or_else(|| "{}".into()),
        on_hand: r.get(11)?,
        barcode: r.get(12)?,
    })
}

struct RawItem {
    variant_id: String,
    product_id: String,
    sku: String,
    price_minor: i64,
    currency: String,
    by_weight: bool,
    image_url: Option<String>,
    tax_code: String,
    tax_bps: u32,
    reduced: bool,
    names: String,
    on_hand: Option<i64>,
    barcode: Option<String>,
}

impl RawItem {
    fn decode(self) -> Result<CatalogItem> {
        let currency = Currency::from_str(&self.currency)
            .map_err(|e| StoreError::Corrupt(format!("variant {}: {e}", self.variant_id)))?;
        Ok(CatalogItem {
            names: serde_json::from_str(&self.names)?,
            price: Money::new(self.price_minor, currency),
            tax: TaxRate::new(self.tax_code, self.tax_bps, self.reduced),
            variant_id: self.variant_id,
            product_id: self.product_id,
            sku: self.sku,
            by_weight: self.by_weight,
            barcode: self.barcode,
            on_hand: self.on_hand,
            image_url: self.image_url,
        })
    }
}

/// Quotes a user's text as one FTS5 string (a phrase), so no character has query meaning.
fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// Escapes LIKE wildcards with `\`.
fn like_prefix(q: &str) -> String {
    let mut s = String::with_capacity(q.len() + 1);
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

impl Store {
    fn item_query(&self, sql: &str, args: impl rusqlite::Params) -> Result<Option<CatalogItem>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let raw = stmt.query_row(args, item_from_row).optional()?;
        raw.map(RawItem::decode).transpose()
    }

    /// The scan hot path: the variant a barcode belongs to, with its price, tax and the stock
    /// on hand at `location_id`. `None` for an unknown barcode (the register says so).
    pub fn find_by_barcode(&self, code: &str, location_id: &str) -> Result<Option<CatalogItem>> {
        self.item_query(&BY_BARCODE, params![location_id, code])
    }

    pub fn find_by_sku(&self, sku: &str, location_id: &str) -> Result<Option<CatalogItem>> {
        self.item_query(&BY_SKU, params![location_id, sku])
    }

    pub fn get_variant(&self, variant_id: &str, location_id: &str) -> Result<Option<CatalogItem>> {
        self.item_query(&BY_ID, params![location_id, variant_id])
    }

    fn item_by_rid(&self, rid: i64, location_id: &str) -> Result<Option<CatalogItem>> {
        self.item_query(&BY_RID, params![location_id, rid])
    }

    /// Product search at the register, over every language's names, SKUs and barcodes.
    ///
    /// * An exact barcode or SKU match comes first.
    /// * Queries of 3 characters or more use the trigram index: every whitespace-separated
    ///   word of 3+ characters must occur somewhere (case and diacritics ignored, so "azucar"
    ///   finds "Azúcar" and "乳パッ" finds "牛乳パック"); shorter words of a longer query are
    ///   ignored. The first `4 × limit` hits in catalog order are ranked: names in `lang` that
    ///   start with the query, then names in `lang` that contain it, then the rest.
    /// * Shorter queries (the 2-character "牛乳", say), which a trigram index cannot answer, fall
    ///   back to a name *prefix* match (any language, ASCII case ignored) on an index, bounded
    ///   by `limit`: "牛乳" finds "牛乳 1L" but not "低脂肪牛乳".
    pub fn search(
        &self,
        query: &str,
        lang: &str,
        location_id: &str,
        limit: usize,
    ) -> Result<Vec<CatalogItem>> {
        let q = query.trim();
        if q.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut out: Vec<CatalogItem> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        for exact in [
            self.find_by_barcode(q, location_id)?,
            self.find_by_sku(q, location_id)?,
        ]
        .into_iter()
        .flatten()
        {
            if seen.insert(exact.variant_id.clone()) {
                out.push(exact);
            }
        }
        let words: Vec<&str> = q
            .split_whitespace()
            .filter(|w| w.chars().count() >= TRIGRAM_MIN_CHARS)
            .collect();
        let lim = i64::try_from(limit).unwrap_or(i64::MAX);
        let rids: Vec<i64> = if words.is_empty() {
            let mut stmt = self.conn.prepare_cached(
                "SELECT DISTINCT v.rid FROM product_name n JOIN variant v ON v.product_id = n.product_id \
                 WHERE n.name LIKE ?1 ESCAPE '\\' LIMIT ?2",
            )?;
            stmt.query_map(params![like_prefix(q), lim], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        } else {
            let fts = words
                .iter()
                .map(|w| fts_phrase(w))
                .collect::<Vec<_>>()
                .join(" AND ");
            let mut stmt = self.conn.prepare_cached(
                "SELECT rowid FROM catalog_search WHERE catalog_search MATCH ?1 LIMIT ?2",
            )?;
            stmt.query_map(
                params![fts, lim.saturating_mul(CANDIDATES_PER_RESULT as i64)],
                |r| r.get(0),
            )?
            .collect::<rusqlite::Result<_>>()?
        };
        let needle = q.to_lowercase();
        let mut hits: Vec<(u8, CatalogItem)> = Vec::with_capacity(rids.len());
        for rid in rids {
            let Some(item) = self.item_by_rid(rid, location_id)? else {
                continue;
            };
            if seen.contains(&item.variant_id) {
                continue;
            }
            let name = item.name(lang).to_lowercase();
            let rank = if name.starts_with(&needle) {
                0
            } else if name.contains(&needle) {
                1
            } else {
                2
            };
            hits.push((rank, item));
        }
        hits.sort_by_key(|(rank, _)| *rank);
        out.extend(hits.into_iter().map(|(_, i)| i));
        out.truncate(limit);
        Ok(out)
    }

    /// Stock on hand of a variant at a location (`None` when never counted there).
    pub fn stock_on_hand(&self, variant_id: &str, location_id: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached("SELECT on_hand FROM stock WHERE variant_id = ?1 AND location_id = ?2")?
            .query_row(params![variant_id, location_id], |r| r.get(0))
            .optional()?)
    }

    pub fn tax_categories(&self) -> Result<Vec<TaxCategory>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT code, rate_bps, reduced, names FROM tax_category ORDER BY rate_bps DESC, code",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(code, rate_bps, reduced, names)| {
                Ok(TaxCategory {
                    code,
                    rate_bps,
                    reduced,
                    names: serde_json::from_str(&names)?,
                })
            })
            .collect()
    }

    pub fn locations(&self) -> Result<Vec<LocationRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name FROM location ORDER BY id")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(LocationRecord {
                    id: r.get(0)?,
                    name: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Number of variants in the catalog.
    pub fn variant_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM variant", [], |r| r.get(0))?)
    }

    /// Imports a batch (from the web shop, a CSV import, the demo generator) in one
    /// transaction: tax categories, locations, products with their names, variants, barcodes
    /// and stock levels are inserted or replaced, and the search index follows. A listed
    /// product's names and a listed variant's barcodes are replaced by the batch's; variants,
    /// products and stock locations the batch does not mention are left as they are (removing
    /// them is not an import's job).
    pub fn upsert_catalog(&mut self, batch: &CatalogBatch, now: OffsetDateTime) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        Self::write_catalog(&tx, batch, now)?;
        tx.commit()?;
        Ok(())
    }

    /// The body of [`Store::upsert_catalog`], inside the caller's transaction (the sync writes
    /// the catalog and its change-feed cursor in one transaction).
    pub(crate) fn write_catalog(
        tx: &rusqlite::Connection,
        batch: &CatalogBatch,
        now: OffsetDateTime,
    ) -> Result<()> {
        validate(batch)?;
        let now = unix_ms(now);
        {
            let mut tax = tx.prepare_cached(
                "INSERT INTO tax_category (code, rate_bps, reduced, names) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (code) DO UPDATE SET rate_bps = excluded.rate_bps, \
                 reduced = excluded.reduced, names = excluded.names",
            )?;
            for t in &batch.tax_categories {
                tax.execute(params![
                    t.code,
                    t.rate_bps,
                    t.reduced,
                    serde_json::to_string(&t.names)?
                ])?;
            }
            let mut loc = tx.prepare_cached(
                "INSERT INTO location (id, name) VALUES (?1, ?2) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            )?;
            for l in &batch.locations {
                loc.execute(params![l.id, l.name])?;
            }

            let mut product_exists = tx.prepare_cached("SELECT 1 FROM product WHERE id = ?1")?;
            let mut product_rids =
                tx.prepare_cached("SELECT rid FROM variant WHERE product_id = ?1")?;
            let mut product = tx.prepare_cached(
                "INSERT INTO product (id, description, by_weight, tax_code, image_url, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (id) DO UPDATE SET description = excluded.description, \
                 by_weight = excluded.by_weight, tax_code = excluded.tax_code, \
                 image_url = excluded.image_url, updated_at = excluded.updated_at",
            )?;
            let mut clear_names =
                tx.prepare_cached("DELETE FROM product_name WHERE product_id = ?1")?;
            let mut name = tx.prepare_cached(
                "INSERT INTO product_name (product_id, lang, name) VALUES (?1, ?2, ?3)",
            )?;
            let mut variant_rid = tx.prepare_cached("SELECT rid FROM variant WHERE id = ?1")?;
            let mut variant = tx.prepare_cached(
                "INSERT INTO variant (id, product_id, sku, price_minor, currency, shop_product_id, \
                 shop_variant_id, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (id) DO UPDATE SET product_id = excluded.product_id, sku = excluded.sku, \
                 price_minor = excluded.price_minor, currency = excluded.currency, \
                 shop_product_id = excluded.shop_product_id, shop_variant_id = excluded.shop_variant_id, \
                 updated_at = excluded.updated_at RETURNING rid",
            )?;
            let mut clear_barcodes =
                tx.prepare_cached("DELETE FROM barcode WHERE variant_id = ?1")?;
            let mut barcode_owner = tx.prepare_cached(
                "SELECT v.rid FROM barcode b JOIN variant v ON v.id = b.variant_id WHERE b.code = ?1",
            )?;
            let mut barcode = tx.prepare_cached(
                "INSERT INTO barcode (code, variant_id) VALUES (?1, ?2) \
                 ON CONFLICT (code) DO UPDATE SET variant_id = excluded.variant_id",
            )?;
            let mut stock = tx.prepare_cached(
                "INSERT INTO stock (variant_id, location_id, on_hand, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (variant_id, location_id) DO UPDATE SET on_hand = excluded.on_hand, \
                 updated_at = excluded.updated_at",
            )?;

            // Variants whose search document must be rebuilt, and those that already had one.
            let mut dirty: Vec<i64> = Vec::new();
            let mut had_document: HashSet<i64> = HashSet::new();
            // Search documents of this batch's variants, known without reading them back.
            let mut known: HashMap<i64, (String, String, String)> = HashMap::new();
            for p in &batch.products {
                let product_existed = product_exists
                    .query_row([&p.id], |_| Ok(()))
                    .optional()?
                    .is_some();
                if product_existed {
                    for rid in product_rids.query_map([&p.id], |r| r.get::<_, i64>(0))? {
                        let rid = rid?;
                        if had_document.insert(rid) {
                            dirty.push(rid);
                        }
                    }
                }
                product.execute(params![
                    p.id,
                    p.description,
                    p.by_weight,
                    p.tax_code,
                    p.image_url,
                    now
                ])?;
                if product_existed {
                    clear_names.execute([&p.id])?;
                }
                for (lang, n) in &p.names {
                    name.execute(params![p.id, lang, n])?;
                }
                let names_text = p.names.values().cloned().collect::<Vec<_>>().join("\n");
                for v in &p.variants {
                    let variant_existed = variant_rid
                        .query_row([&v.id], |r| r.get::<_, i64>(0))
                        .optional()?;
                    if let Some(rid) = variant_existed {
                        had_document.insert(rid);
                    }
                    let rid: i64 = variant.query_row(
                        params![
                            v.id,
                            p.id,
                            v.sku,
                            v.price.minor,
                            v.price.currency.code(),
                            v.shop_product_id,
                            v.shop_variant_id,
                            now
                        ],
                        |r| r.get(0),
                    )?;
                    dirty.push(rid);
                    if variant_existed.is_some() {
                        clear_barcodes.execute([&v.id])?;
                    }
                    for code in &v.barcodes {
                        if let Some(owner) = barcode_owner
                            .query_row([code], |r| r.get::<_, i64>(0))
                            .optional()?
                        {
                            had_document.insert(owner);
                            dirty.push(owner);
                            // Its barcodes changed: read its document back from the tables.
                            known.remove(&owner);
                        }
                        barcode.execute(params![code, v.id])?;
                    }
                    known.insert(
                        rid,
                        (names_text.clone(), v.sku.clone(), v.barcodes.join(" ")),
                    );
                    for (location, on_hand) in &v.stock {
                        stock.execute(params![v.id, location, on_hand, now])?;
                    }
                }
            }
            // The search documents are read first and written with single-row statements:
            // a multi-row write (INSERT … SELECT) would open a statement savepoint, and FTS5
            // flushes its pending index at every savepoint, which makes bulk imports crawl.
            let mut document = tx.prepare_cached(
                "SELECT \
                 (SELECT group_concat(n.name, char(10)) FROM product_name n WHERE n.product_id = v.product_id), \
                 v.sku, \
                 (SELECT group_concat(b.code, ' ') FROM barcode b WHERE b.variant_id = v.id) \
                 FROM variant v WHERE v.rid = ?1",
            )?;
            let mut unindex = tx.prepare_cached("DELETE FROM catalog_search WHERE rowid = ?1")?;
            let mut index = tx.prepare_cached(
                "INSERT INTO catalog_search (rowid, names, sku, barcodes) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut done: HashSet<i64> = HashSet::with_capacity(dirty.len());
            for rid in dirty {
                if !done.insert(rid) {
                    continue;
                }
                let (names, sku, barcodes): (Option<String>, String, Option<String>) = match known
                    .remove(&rid)
                {
                    Some((n, s, b)) => (Some(n), s, Some(b)),
                    None => document.query_row([rid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?,
                };
                if had_document.contains(&rid) {
                    unindex.execute([rid])?;
                }
                index.execute(params![rid, names, sku, barcodes])?;
            }
        }
        Ok(())
    }
}

fn item_sql(from: &str, barcode: &str, filter: &str) -> String {
    format!("SELECT {ITEM_COLUMNS}, {barcode} {from} {ITEM_JOINS} WHERE {filter}")
}

static BY_BARCODE: LazyLock<String> = LazyLock::new(|| {
    item_sql(
        "FROM barcode b JOIN variant v ON v.id = b.variant_id",
        "b.code",
        "b.code = ?2",
    )
});
static BY_SKU: LazyLock<String> =
    LazyLock::new(|| item_sql("FROM variant v", FIRST_BARCODE, "v.sku = ?2"));
static BY_ID: LazyLock<String> =
    LazyLock::new(|| item_sql("FROM variant v", FIRST_BARCODE, "v.id = ?2"));
static BY_RID: LazyLock<String> =
    LazyLock::new(|| item_sql("FROM variant v", FIRST_BARCODE, "v.rid = ?2"));

fn validate(batch: &CatalogBatch) -> Result<()> {
    let bad = |m: String| Err(StoreError::Invalid(m));
    for t in &batch.tax_categories {
        if t.code.trim().is_empty() || t.rate_bps > 10_000 {
            return bad(format!("tax category {:?} with {} bps", t.code, t.rate_bps));
        }
    }
    for p in &batch.products {
        if p.id.trim().is_empty() {
            return bad("a product without id".into());
        }
        if p.names.values().all(|n| n.trim().is_empty()) {
            return bad(format!("product {} has no name", p.id));
        }
        for v in &p.variants {
            if v.id.trim().is_empty() || v.sku.trim().is_empty() {
                return bad(format!("product {} has a variant without id or SKU", p.id));
            }
            if v.price.minor < 0 || v.price.minor > pos_core::money::MAX_MINOR {
                return bad(format!("variant {} has price {}", v.id, v.price));
            }
            if v.barcodes.iter().any(|b| b.trim().is_empty()) {
                return bad(format!("variant {} has an empty barcode", v.id));
            }
        }
    }
    Ok(())
}
