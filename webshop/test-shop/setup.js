// One-time setup of a freshly started test shop: links the "Pickup in store" shipping method to
// the store's stock location (click & collect) and creates a terminal credential. Writes
// $RUN_DIR/terminal.json and prints it.
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { gql, adminLogin, baseUrlFrom, parseArgs } = require('./gql');
const { createTerminal } = require('./create-terminal');

(async () => {
  const args = parseArgs(process.argv.slice(2));
  const baseUrl = baseUrlFrom(args);
  const runDir = process.env.RUN_DIR || path.join(__dirname, 'run');
  const token = await adminLogin(baseUrl, 'superadmin', 'superadmin');
  const admin = (q, v) => gql(`${baseUrl}/admin-api`, q, v, token);
  const { stockLocations } = await admin('{ stockLocations(options:{sort:{id:ASC}}) { items { id name } } }');
  const store = stockLocations.items[0];
  await admin('mutation($id:ID!,$name:String!){ updateStockLocation(input:{id:$id,name:$name}) { id } }', { id: store.id, name: 'Store Madrid' });
  const { shippingMethods } = await admin('{ shippingMethods { items { id code } } }');
  const pickup = shippingMethods.items.find(m => m.code === 'pickup-in-store');
  await admin('mutation($id:ID!,$loc:String!){ updateShippingMethod(input:{id:$id, translations:[], customFields:{posPickupLocationId:$loc}}) { id } }', { id: pickup.id, loc: String(store.id) });
  const terminalId = args.terminal || 'till-1';
  const password = crypto.randomBytes(12).toString('hex');
  const cred = await createTerminal({ baseUrl, adminUser: 'superadmin', adminPassword: 'superadmin', terminalId, password, name: 'Till 1', locationId: store.id });
  const out = { url: baseUrl, identifier: cred.identifier, password: cred.password, stockLocationId: String(store.id), pickupShippingMethodId: String(pickup.id) };
  fs.writeFileSync(path.join(runDir, 'terminal.json'), JSON.stringify(out, null, 2));
  console.log(JSON.stringify(out));
})().catch(e => { console.error(e); process.exit(1); });
