#!/usr/bin/env node
// Shop-owner actions through the Admin API (as superadmin), for tests:
//   node admin.js price --sku TS-00001-S --price 1999      set the channel price (minor units)
//   node admin.js stock --sku TS-00001-S --on-hand 50       set stockOnHand (absolute, default location)
//   node admin.js rename --sku TS-00001-S --name "New name" rename the variant
// Options: --url http://127.0.0.1:3000. Prints JSON of the updated variant.
const { gql, adminLogin, parseArgs, baseUrlFrom } = require('./gql');

async function run(cmd, args) {
  const baseUrl = baseUrlFrom(args);
  const token = await adminLogin(baseUrl, 'superadmin', 'superadmin');
  const admin = (q, v) => gql(`${baseUrl}/admin-api`, q, v, token);
  const { productVariants } = await admin('query($sku:String!){ productVariants(options:{filter:{sku:{eq:$sku}}}) { items { id sku } } }', { sku: args.sku });
  const v = productVariants.items[0];
  if (!v) throw new Error(`no variant with SKU ${args.sku}`);
  const input = { id: v.id };
  if (cmd === 'price') input.price = Number(args.price);
  else if (cmd === 'stock') input.stockOnHand = Number(args['on-hand']);
  else if (cmd === 'rename') input.translations = [{ languageCode: 'en', name: args.name }];
  else throw new Error(`unknown command ${cmd}`);
  const data = await admin('mutation($input:[UpdateProductVariantInput!]!){ updateProductVariants(input:$input) { id sku name price priceWithTax stockOnHand } }', { input: [input] });
  return data.updateProductVariants[0];
}

if (require.main === module) {
  const args = parseArgs(process.argv.slice(2));
  if (!args._[0] || !args.sku) { console.error('usage: admin.js price|stock|rename --sku SKU ...'); process.exit(2); }
  run(args._[0], args).then(r => console.log(JSON.stringify(r))).catch(e => { console.error(e.message); process.exit(1); });
}
module.exports = { run };
