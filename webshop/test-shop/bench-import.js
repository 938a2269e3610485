#!/usr/bin/env node
// Times a full catalog read through the plugin (posCatalogPage, 500 per page) against a raw
// paginated read of the same data through Vendure's own Admin API (productVariants), in the same
// run, against a running test shop. Usage: RUN_DIR=… node bench-import.js [--take 500]
const path = require('path');
const { gql, adminLogin, parseArgs } = require('./gql');

(async () => {
  const args = parseArgs(process.argv.slice(2));
  const runDir = process.env.RUN_DIR || path.join(__dirname, `run-${process.env.PORT || 3000}`);
  const cred = require(path.join(runDir, 'terminal.json'));
  const take = Number(args.take || 500);
  const url = `${cred.url}/admin-api`;
  const terminal = await adminLogin(cred.url, cred.identifier, cred.password);
  const owner = await adminLogin(cred.url, 'superadmin', 'superadmin');

  async function plugin() {
    let after = null; let n = 0;
    for (;;) {
      const { posCatalogPage: p } = await gql(url, `query($a:ID,$t:Int){ posCatalogPage(after:$a, take:$t) { items { id sku name productName description barcodes enabled deleted currencyCode priceMinor priceWithTaxMinor taxCategoryId taxRateBps imageUrl stock { stockOnHand stockAllocated sellable } translations { languageCode name } } nextAfter hasMore } }`, { a: after, t: take }, terminal);
      n += p.items.length;
      if (!p.hasMore) return n;
      after = p.nextAfter;
    }
  }
  async function raw() {
    let skip = 0; let n = 0;
    for (;;) {
      const { productVariants: p } = await gql(url, `query($s:Int,$t:Int){ productVariants(options:{skip:$s, take:$t, sort:{id:ASC}}) { totalItems items { id sku name enabled currencyCode price priceWithTax taxRateApplied { value } taxCategory { id } featuredAsset { preview } stockOnHand stockAllocated customFields { barcode } translations { languageCode name } product { name description enabled } } } }`, { s: skip, t: take }, owner);
      n += p.items.length;
      skip += take;
      if (skip >= p.totalItems) return n;
    }
  }
  const results = {};
  for (const [name, fn] of [['raw', raw], ['plugin', plugin], ['raw', raw], ['plugin', plugin]]) {
    const t0 = performance.now();
    const n = await fn();
    const ms = performance.now() - t0;
    results[name] = Math.min(results[name] ?? Infinity, ms);
    console.log(`${name}: ${n} variants in ${ms.toFixed(0)} ms`);
  }
  console.log(`plugin/raw = ${(results.plugin / results.raw).toFixed(2)} (best of 2 each)`);
})().catch(e => { console.error(e); process.exit(1); });
