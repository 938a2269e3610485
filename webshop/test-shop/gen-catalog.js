// Writes a Vendure import CSV of N variants to stdout: products with 2 size variants each,
// SKUs TS-00001-S, a valid EAN-13 barcode per variant (variant:barcode), two tax categories
// (every 4th product "reduced"), prices and stock. Usage: node gen-catalog.js N
// `productSpec(p, n)` is the same catalog as data, for seed-bulk.js (which writes it straight
// into the database): both must describe product p identically.
const sizes = ['S', 'M'];
const q = s => '"' + String(s).replace(/"/g, '""') + '"';
function ean13(body12) {
  const sum = [...body12].reduce((acc, d, i) => acc + Number(d) * (i % 2 ? 3 : 1), 0);
  return body12 + ((10 - (sum % 10)) % 10);
}

/** Product p (1-based) of a catalog of n variants: its texts, tax category and variants. */
function productSpec(p, n) {
  const id = String(p).padStart(5, '0');
  const first = (p - 1) * sizes.length;
  const variants = [];
  for (let j = 0; j < sizes.length && first + j < n; j++) {
    const variant = first + j;
    variants.push({
      size: sizes[j],
      sku: `TS-${id}-${sizes[j]}`,
      priceMinor: (10 + (p % 10)) * 100 + 50,
      stock: 20 + (p % 7),
      barcode: ean13('84' + String(variant + 1).padStart(10, '0')),
    });
  }
  return {
    name: `Tee ${id}`,
    slug: `tee-${id}`,
    description: `Cotton tee number ${id}`,
    tax: p % 4 === 0 ? 'reduced' : 'standard',
    variants,
  };
}

/** Number of products in a catalog of n variants. */
function productCount(n) {
  return Math.ceil(n / sizes.length);
}

if (require.main === module) {
  const n = Number(process.argv[2] || 200);
  const rows = ['name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets,variant:barcode'];
  for (let p = 1; p <= productCount(n); p++) {
    const spec = productSpec(p, n);
    spec.variants.forEach((v, j) => {
      const first = j === 0;
      rows.push([
        first ? q(spec.name) : '', first ? spec.slug : '', first ? q(spec.description) : '', '',
        first ? q('category:apparel|brand:Test') : '', first ? 'size' : '', v.size,
        v.sku, (v.priceMinor / 100).toFixed(2), spec.tax, v.stock, 'true', '', '', v.barcode,
      ].join(','));
    });
  }
  process.stdout.write(rows.join('\n') + '\n');
}

module.exports = { productSpec, productCount, sizes };
