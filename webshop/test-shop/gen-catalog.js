// Writes a Vendure import CSV of N variants to stdout: products with 2 size variants each,
// SKUs TS-00001-S, a valid EAN-13 barcode per variant (variant:barcode), two tax categories
// (every 4th product "reduced"), prices and stock. Usage: node gen-catalog.js N
const n = Number(process.argv[2] || 200);
const sizes = ['S', 'M'];
const q = s => '"' + String(s).replace(/"/g, '""') + '"';
function ean13(body12) {
  const sum = [...body12].reduce((acc, d, i) => acc + Number(d) * (i % 2 ? 3 : 1), 0);
  return body12 + ((10 - (sum % 10)) % 10);
}
const rows = ['name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets,variant:barcode'];
let variant = 0;
for (let p = 1; variant < n; p++) {
  const id = String(p).padStart(5, '0');
  const tax = p % 4 === 0 ? 'reduced' : 'standard';
  for (let j = 0; j < sizes.length && variant < n; j++, variant++) {
    const first = j === 0;
    const barcode = ean13('84' + String(variant + 1).padStart(10, '0'));
    rows.push([
      first ? q(`Tee ${id}`) : '', first ? `tee-${id}` : '', first ? q(`Cotton tee number ${id}`) : '', '',
      first ? q('category:apparel|brand:Test') : '', first ? 'size' : '', sizes[j],
      `TS-${id}-${sizes[j]}`, (10 + (p % 10) + 0.5).toFixed(2), tax, 20 + (p % 7), 'true', '', '', barcode,
    ].join(','));
  }
}
process.stdout.write(rows.join('\n') + '\n');
