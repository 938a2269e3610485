#!/usr/bin/env node
// Seeds the test shop's SQLite database with N variants in seconds instead of the ~45 min that
// Vendure's CSV importer needs for 100,000 (it grows faster than linearly). For the import
// benchmark of issue 4; start.sh runs it with SEED=bulk.
//
//   RUN_DIR=… [POPULATE_PORT=…] node seed-bulk.js N             seed $RUN_DIR/vendure.sqlite
//   node seed-bulk.js --check N --url http://127.0.0.1:PORT      verify a running shop
//
// How: Vendure itself populates the shop with the first two products of gen-catalog.js
// (populate.js: schema, channel, zones, tax categories, stock location, facets, the plugin's
// tables). Product 1 is then the template: every row Vendure wrote for it (product, option
// group, options, variants, translations, channel joins, facet values, prices, stock levels,
// stock movements, the plugin's change-log rows) is cloned for products 3…N/2 with fresh ids and
// the values gen-catalog.js's `productSpec` gives (SKU, names, slug, barcode, price, stock, tax
// category), in one transaction through prepared statements. Columns are copied from the template
// row, so custom fields added to these entities later come along unchanged.
//
// Invariants:
// - The result is the catalog `gen-catalog.js N | populate.js` would produce, row for row, except
//   for timestamps (the template's) and the queued `update-search-index` jobs, which nothing
//   processes (the test shop runs no job-queue worker; search_index_item stays empty either way).
// - The seeder refuses to run if a table outside its plan refers to the template's product or
//   variants (a new entity it would silently leave out).
// - The seeded database is cached in $SEED_CACHE_DIR (default webshop/test-shop/run-cache/, git-
//   ignored) under N and a fingerprint of the schema and of this seeder; a rerun with the same
//   schema copies the cached file (seconds). A schema change (plugin entities, custom fields)
//   changes the fingerprint, so a stale cache is never used.
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { execFileSync } = require('child_process');
const { requireDep } = require('./deps');
const { productSpec, productCount, sizes } = require('./gen-catalog');

const TEMPLATE_PRODUCT = 1;
const POPULATED_PRODUCTS = 2;

function seed(n) {
  if (!Number.isInteger(n) || n < POPULATED_PRODUCTS * sizes.length || n % sizes.length !== 0) {
    throw new Error(`N must be an even number >= ${POPULATED_PRODUCTS * sizes.length} (every product has ${sizes.length} sizes), not ${n}`);
  }
  const t0 = Date.now();
  const runDir = process.env.RUN_DIR;
  if (!runDir) throw new Error('RUN_DIR is not set');
  fs.mkdirSync(runDir, { recursive: true });
  const file = path.join(runDir, 'vendure.sqlite');
  removeDb(file);

  // 1. Vendure populates the first products: everything else the shop needs comes with them.
  const csv = path.join(runDir, 'products.csv');
  fs.writeFileSync(csv, execFileSync(process.execPath, [path.join(__dirname, 'gen-catalog.js'), String(POPULATED_PRODUCTS * sizes.length)]));
  execFileSync(process.execPath, [path.join(__dirname, 'populate.js'), csv], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DB: 'sqlite' } });
  const tPopulate = Date.now() - t0;

  const Database = requireDep('better-sqlite3');
  let db = new Database(file);
  const schema = db.prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name").all();
  const fingerprint = crypto
    .createHash('sha256')
    .update(JSON.stringify(schema))
    .update(fs.readFileSync(__filename))
    .update(fs.readFileSync(path.join(__dirname, 'gen-catalog.js')))
    .digest('hex')
    .slice(0, 16);
  const cacheDir = process.env.SEED_CACHE_DIR || path.join(__dirname, 'run-cache');
  const cached = path.join(cacheDir, `vendure-bulk-${n}-${fingerprint}.sqlite`);
  if (fs.existsSync(cached)) {
    db.close();
    removeDb(file);
    fs.copyFileSync(cached, file);
    console.log(`seeded ${n} variants from the cache ${cached} in ${Date.now() - t0} ms (populate of the template ${tPopulate} ms)`);
    return;
  }

  // 2. Clone the template product.
  const t1 = Date.now();
  const inserted = bulkInsert(db, n);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const tInsert = Date.now() - t1;

  // 3. Cache it (written under a temporary name, so a cut-short run leaves no half file).
  fs.mkdirSync(cacheDir, { recursive: true });
  for (const old of fs.readdirSync(cacheDir)) {
    if (old.startsWith(`vendure-bulk-${n}-`)) fs.rmSync(path.join(cacheDir, old), { force: true });
  }
  fs.copyFileSync(file, `${cached}.tmp`);
  fs.renameSync(`${cached}.tmp`, cached);
  console.log(`seeded ${n} variants (${inserted} rows) in ${Date.now() - t0} ms: populate of the template ${tPopulate} ms, bulk insert ${tInsert} ms; cached as ${cached}`);
}

function removeDb(file) {
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) fs.rmSync(f, { force: true });
}

/**
 * The plan: every table holding rows of a product, in foreign-key order. `own` names the entity
 * the table's `id` is (its new ids are recorded for the tables after it); `ref` maps columns to the
 * entity they point at; `of` selects the template's rows.
 */
const PLAN = [
  { table: 'product', own: 'product', of: 'id = :product' },
  { table: 'product_translation', ref: { baseId: 'product' }, of: '"baseId" = :product' },
  { table: 'product_channels_channel', ref: { productId: 'product' }, of: '"productId" = :product' },
  { table: 'product_facet_values_facet_value', ref: { productId: 'product' }, of: '"productId" = :product' },
  { table: 'product_asset', ref: { productId: 'product' }, of: '"productId" = :product' },
  { table: 'product_option_group', own: 'group', of: 'id IN (:groups)' },
  { table: 'product_option_group_translation', ref: { baseId: 'group' }, of: '"baseId" IN (:groups)' },
  { table: 'product_option_group_channels_channel', ref: { productOptionGroupId: 'group' }, of: '"productOptionGroupId" IN (:groups)' },
  { table: 'product_option_groups_product_option_group', ref: { productId: 'product', productOptionGroupId: 'group' }, of: '"productId" = :product' },
  { table: 'product_option', own: 'option', ref: { groupId: 'group' }, of: '"groupId" IN (:groups)' },
  { table: 'product_option_translation', ref: { baseId: 'option' }, of: '"baseId" IN (:options)' },
  { table: 'product_option_channels_channel', ref: { productOptionId: 'option' }, of: '"productOptionId" IN (:options)' },
  { table: 'product_variant', own: 'variant', ref: { productId: 'product' }, of: '"productId" = :product' },
  { table: 'product_variant_translation', ref: { baseId: 'variant' }, of: '"baseId" IN (:variants)' },
  { table: 'product_variant_channels_channel', ref: { productVariantId: 'variant' }, of: '"productVariantId" IN (:variants)' },
  { table: 'product_variant_price', ref: { variantId: 'variant' }, of: '"variantId" IN (:variants)' },
  { table: 'product_variant_options_product_option', ref: { productVariantId: 'variant', productOptionId: 'option' }, of: '"productVariantId" IN (:variants)' },
  { table: 'product_variant_facet_values_facet_value', ref: { productVariantId: 'variant' }, of: '"productVariantId" IN (:variants)' },
  { table: 'product_variant_asset', ref: { productVariantId: 'variant' }, of: '"productVariantId" IN (:variants)' },
  { table: 'collection_product_variants_product_variant', ref: { productVariantId: 'variant' }, of: '"productVariantId" IN (:variants)' },
  { table: 'stock_level', ref: { productVariantId: 'variant' }, of: '"productVariantId" IN (:variants)' },
  { table: 'stock_movement', ref: { productVariantId: 'variant' }, of: '"productVariantId" IN (:variants)' },
  // The plugin's change log (a STOCK entry per variant, from the initial stock movement).
  { table: 'pos_change', ref: { entityId: 'variantText' }, of: "kind IN ('STOCK', 'VARIANT') AND \"entityId\" IN (:variantTexts)" },
];

/** Tables that legitimately mention product/variant ids without being product rows. */
const NOT_PRODUCT_ROWS = new Set(['job_record', 'search_index_item', 'sqlite_sequence']);

function bulkInsert(db, n) {
  const one = sql => db.prepare(sql).pluck().all();
  const groups = one(`SELECT "productOptionGroupId" FROM product_option_groups_product_option_group WHERE "productId" = ${TEMPLATE_PRODUCT}`);
  const options = one(`SELECT id FROM product_option WHERE "groupId" IN (${groups.join(',')}) ORDER BY id`);
  const variants = one(`SELECT id FROM product_variant WHERE "productId" = ${TEMPLATE_PRODUCT} ORDER BY id`);
  if (variants.length !== sizes.length) throw new Error(`template product has ${variants.length} variants, expected ${sizes.length}`);
  const ids = { product: [TEMPLATE_PRODUCT], group: groups, option: options, variant: variants };
  const fill = sql =>
    sql
      .replace(':product', TEMPLATE_PRODUCT)
      .replace(':groups', groups.join(','))
      .replace(':options', options.join(','))
      .replace(':variantTexts', variants.map(v => `'${v}'`).join(','))
      .replace(':variants', variants.join(','));
  checkPlanCoversTheTemplate(db, ids);

  const taxIds = new Map(db.prepare('SELECT id, name FROM tax_category').all().map(t => [t.name.toLowerCase(), t.id]));
  const variantOfTemplate = new Map(variants.map((id, j) => [id, j])); // template variant id → size index
  const steps = PLAN.filter(s => tableExists(db, s.table)).map(s => {
    const cols = db.prepare(`PRAGMA table_info("${s.table}")`).all().map(c => c.name);
    const rows = db.prepare(`SELECT * FROM "${s.table}" WHERE ${fill(s.of)} ORDER BY rowid`).all();
    const hasId = cols.includes('id');
    const next = hasId ? (db.prepare(`SELECT coalesce(max(id), 0) AS m FROM "${s.table}"`).get().m + 1) : 0;
    const insert = db.prepare(`INSERT INTO "${s.table}" (${cols.map(c => `"${c}"`).join(',')}) VALUES (${cols.map(() => '?').join(',')})`);
    return { ...s, cols, rows, hasId, next, insert };
  });

  let inserted = 0;
  const atMs = Date.now();
  const run = db.transaction(() => {
    for (let p = POPULATED_PRODUCTS + 1; p <= productCount(n); p++) {
      const spec = productSpec(p, n);
      const map = { product: new Map(), group: new Map(), option: new Map(), variant: new Map(), variantText: new Map() };
      for (const s of steps) {
        for (const tpl of s.rows) {
          const row = { ...tpl };
          if (s.hasId) row.id = s.next++;
          if (s.own) {
            map[s.own].set(tpl.id, row.id);
            if (s.own === 'variant') map.variantText.set(String(tpl.id), String(row.id));
          }
          for (const [col, entity] of Object.entries(s.ref || {})) {
            const to = map[entity].get(tpl[col]);
            if (to === undefined) throw new Error(`${s.table}.${col} = ${tpl[col]}: not a row of the template product`);
            row[col] = to;
          }
          override(s.table, row, tpl, spec, variantOfTemplate, taxIds, atMs);
          s.insert.run(s.cols.map(c => row[c]));
          inserted++;
        }
      }
    }
  });
  db.pragma('synchronous = OFF');
  run();
  return inserted;
}

/** The values that differ per product and variant: what `productSpec` says. */
function override(table, row, tpl, spec, variantOfTemplate, taxIds, atMs) {
  const size = id => spec.variants[variantOfTemplate.get(id)];
  switch (table) {
    case 'product_translation':
      Object.assign(row, { name: spec.name, slug: spec.slug, description: spec.description });
      break;
    case 'product_option_group':
      row.code = `${spec.slug}-${tpl.code.split('-').pop()}`;
      break;
    case 'product_variant': {
      const v = size(tpl.id);
      const tax = taxIds.get(spec.tax);
      if (tax === undefined) throw new Error(`no tax category ${spec.tax}`);
      Object.assign(row, { sku: v.sku, taxCategoryId: tax, customFieldsBarcode: v.barcode });
      break;
    }
    case 'product_variant_translation':
      row.name = `${spec.name} ${size(tpl.baseId).size}`;
      break;
    case 'product_variant_price':
      row.price = size(tpl.variantId).priceMinor;
      break;
    case 'stock_level':
      row.stockOnHand = size(tpl.productVariantId).stock;
      break;
    case 'stock_movement':
      row.quantity = size(tpl.productVariantId).stock;
      break;
    case 'pos_change':
      row.atMs = atMs;
      break;
  }
}

function tableExists(db, table) {
  return !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
}

/** Fails when a table outside the plan has rows pointing at the template product or its variants. */
function checkPlanCoversTheTemplate(db, ids) {
  const planned = new Set(PLAN.map(s => s.table));
  const refCols = { productId: ids.product, productVariantId: ids.variant, variantId: ids.variant };
  for (const table of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all()) {
    if (planned.has(table) || NOT_PRODUCT_ROWS.has(table)) continue;
    for (const { name } of db.prepare(`PRAGMA table_info("${table}")`).all()) {
      const of = refCols[name];
      if (!of) continue;
      const c = db.prepare(`SELECT count(*) FROM "${table}" WHERE "${name}" IN (${of.join(',')})`).pluck().get();
      if (c > 0) throw new Error(`${table}.${name} refers to the template product's rows, but seed-bulk.js does not clone ${table}: add it to PLAN`);
    }
  }
}

/** Checks a running shop seeded with N variants through the Admin API, as the shop owner sees it. */
async function check(n, baseUrl) {
  const { gql, adminLogin } = require('./gql');
  const token = await adminLogin(baseUrl, 'superadmin', 'superadmin');
  const admin = (q, v) => gql(`${baseUrl}/admin-api`, q, v, token);
  const { productVariants } = await admin('{ productVariants(options:{take:1}) { totalItems } }');
  if (productVariants.totalItems < n) throw new Error(`the shop lists ${productVariants.totalItems} variants, expected ${n}`);
  const samples = [1, 2, 3, Math.floor(productCount(n) / 2), productCount(n) - 1, productCount(n)];
  const expected = samples.flatMap(p => {
    const spec = productSpec(p, n);
    return spec.variants.map(v => ({ ...v, name: `${spec.name} ${v.size}`, productName: spec.name, tax: spec.tax }));
  });
  const { productVariants: found } = await admin(
    'query($s:[String!]!){ productVariants(options:{filter:{sku:{in:$s}}, take:100}) { items { sku name price stockOnHand taxCategory { name } customFields { barcode } product { name slug enabled } enabled channels { code } } } }',
    { s: expected.map(e => e.sku) },
  );
  const bySku = new Map(found.items.map(v => [v.sku, v]));
  for (const e of expected) {
    const v = bySku.get(e.sku);
    const want = { name: e.name, price: e.priceMinor, stockOnHand: e.stock, tax: e.tax, barcode: e.barcode, product: e.productName, enabled: true };
    const got = v && { name: v.name, price: v.price, stockOnHand: v.stockOnHand, tax: v.taxCategory?.name.toLowerCase(), barcode: v.customFields.barcode, product: v.product.name, enabled: v.enabled && v.product.enabled };
    if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${e.sku}: expected ${JSON.stringify(want)}, the shop has ${JSON.stringify(got)}`);
  }
  console.log(JSON.stringify({ totalItems: productVariants.totalItems, checked: expected.map(e => e.sku) }));
}

if (require.main === module) {
  const { parseArgs, baseUrlFrom } = require('./gql');
  const args = parseArgs(process.argv.slice(2));
  if (args.check) {
    check(Number(args.check === true ? args._[0] : args.check), baseUrlFrom(args)).catch(e => { console.error(e.message); process.exit(1); });
  } else {
    try {
      seed(Number(args._[0] || process.env.N));
    } catch (e) {
      console.error(e.message);
      process.exit(1);
    }
  }
}
