#!/usr/bin/env node
// Creates a terminal credential (an Administrator with only the "POS terminal" role) through
// the plugin's posCreateTerminal mutation, logged in as an administrator allowed to create
// administrators (e.g. the owner's superadmin account).
//
//   node create-terminal.js --url https://shop.example.com --admin-user owner --admin-password ... \
//        --terminal till-1 [--password <at least 12 chars>] [--name "Till 1"] [--location <stock location id>]
//
// Prints JSON {identifier, password, terminal}. Without --password a random one is generated.
const crypto = require('crypto');
const { gql, adminLogin, parseArgs, baseUrlFrom } = require('./gql');

async function createTerminal({ baseUrl, adminUser, adminPassword, terminalId, password, name, locationId }) {
  const token = await adminLogin(baseUrl, adminUser, adminPassword);
  const pw = password || crypto.randomBytes(18).toString('base64url');
  const data = await gql(`${baseUrl}/admin-api`,
    `mutation($input: PosCreateTerminalInput!) { posCreateTerminal(input: $input) { id terminalId name stockLocationId } }`,
    { input: { terminalId, password: pw, name: name || terminalId, stockLocationId: locationId || null } }, token);
  return { identifier: terminalId, password: pw, terminal: data.posCreateTerminal };
}

if (require.main === module) {
  const args = parseArgs(process.argv.slice(2));
  if (!args.terminal) { console.error('usage: create-terminal.js --terminal <id> [--url] [--admin-user] [--admin-password] [--password] [--name] [--location]'); process.exit(2); }
  createTerminal({
    baseUrl: baseUrlFrom(args),
    adminUser: args['admin-user'] || 'superadmin',
    adminPassword: args['admin-password'] || 'superadmin',
    terminalId: args.terminal,
    password: args.password,
    name: args.name,
    locationId: args.location,
  }).then(r => console.log(JSON.stringify(r))).catch(e => { console.error(e.message); process.exit(1); });
}
module.exports = { createTerminal };
