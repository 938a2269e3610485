// Test fixture: starts the real test shop (../../test-shop/start.sh) for DB=sqlite|postgres on a
// free-ish port, and gives the tests GraphQL clients for the terminal and the superadmin.
const { execFileSync } = require('child_process');
const path = require('path');
const crypto = require('crypto');
const { gql, request, adminLogin } = require('../../test-shop/gql');

const testShop = path.join(__dirname, '..', '..', 'test-shop');

function startShop() {
  const db = process.env.DB || 'sqlite';
  const port = Number(process.env.TEST_PORT || (db === 'postgres' ? 3411 : 3401));
  const env = { ...process.env, DB: db, PORT: String(port), N: process.env.N || '120', RUN_DIR: path.join(testShop, `run-test-${db}`) };
  const t0 = Date.now();
  const out = execFileSync(path.join(testShop, 'start.sh'), { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const cred = JSON.parse(out);
  return { db, port, env, cred, baseUrl: `http://127.0.0.1:${port}`, startMs: Date.now() - t0 };
}

function stopShop(shop) {
  if (shop) execFileSync(path.join(testShop, 'stop.sh'), { env: shop.env, stdio: 'inherit' });
}

async function clients(shop) {
  const adminUrl = `${shop.baseUrl}/admin-api`;
  const terminalToken = await adminLogin(shop.baseUrl, shop.cred.identifier, shop.cred.password);
  const superToken = await adminLogin(shop.baseUrl, 'superadmin', 'superadmin');
  return {
    terminal: (q, v) => gql(adminUrl, q, v, terminalToken),
    superadmin: (q, v) => gql(adminUrl, q, v, superToken),
    raw: (q, v, token) => request(adminUrl, q, v, token),
    terminalToken,
    superToken,
  };
}

const SALE = `mutation($i: PosSaleInput!) { posRecordSale(input: $i) {
  saleId orderId orderCode duplicate conflicts { id saleId sku reason requested availableBefore } } }`;

function saleInput(lines, extra = {}) {
  const total = lines.reduce((s, l) => s + l.unitPriceMinor * l.quantity, 0);
  return {
    saleId: crypto.randomUUID(),
    terminalId: 'till-1',
    receiptNumber: `R-${Math.floor(Math.random() * 1e6)}`,
    occurredAt: new Date().toISOString(),
    currencyCode: 'USD',
    lines: lines.map(l => ({ taxRateBps: 2100, lineTotalMinor: l.unitPriceMinor * l.quantity, ...l })),
    totals: { totalMinor: total, taxMinor: Math.round(total - total / 1.21) },
    payments: [{ method: 'cash', amountMinor: total }],
    ...extra,
  };
}

async function stockOf(c, sku) {
  const { posStock } = await c.terminal('query($s:[String!]!){ posStock(skus:$s) { sku stockOnHand stockAllocated sellable } }', { s: [sku] });
  return posStock[0];
}

async function ordersForSale(c, saleId) {
  const { orders } = await c.superadmin(
    'query($id:String!){ orders(options:{filter:{posSaleId:{eq:$id}}}) { totalItems items { id code state customFields { source posSaleId posTerminalId } } } }',
    { id: saleId });
  return orders;
}

/** All changes after `cursor`, paging with `limit`. */
async function drainChanges(c, cursor, limit = 100) {
  const items = [];
  for (let i = 0; i < 1000; i++) {
    const { posChanges } = await c.terminal(`query($a:String,$l:Int){ posChanges(after:$a, limit:$l) {
      items { cursor kind entityId
        variant { id sku priceMinor priceWithTaxMinor name barcodes enabled deleted stock { sellable } }
        stock { variantId sku stockOnHand stockAllocated sellable }
        order { id code state source customerName pickup { locationId locationName } collected lines { sku quantity } } }
      nextCursor hasMore resetRequired } }`, { a: cursor, l: limit });
    items.push(...posChanges.items);
    cursor = posChanges.nextCursor;
    if (!posChanges.hasMore) return { items, cursor };
  }
  throw new Error('change feed did not end');
}

async function latestCursor(c) {
  return (await c.terminal('{ posWhoAmI { latestCursor } }')).posWhoAmI.latestCursor;
}

module.exports = { startShop, stopShop, clients, SALE, saleInput, stockOf, ordersForSale, drainChanges, latestCursor, testShop };

/**
 * Direct access to the shop's database, to simulate what the API cannot: a change-log id that is
 * reserved by a transaction still in flight. `reserveIds(n)` takes n ids the way the database
 * would hand them out; `insertChange(id, …)` commits a row with that id.
 */
async function openDb(shop) {
  const { requireDep } = require('../../test-shop/deps');
  if (shop.db === 'postgres') {
    const { Client } = requireDep('pg');
    const client = new Client({ host: '127.0.0.1', port: Number(shop.env.PGPORT || Number(shop.port) + 2000), user: 'postgres', database: 'vendure' });
    await client.connect();
    return {
      async reserveIds(n) {
        const ids = [];
        for (let i = 0; i < n; i++) ids.push(Number((await client.query(`SELECT nextval(pg_get_serial_sequence('pos_change', 'id')) AS id`)).rows[0].id));
        return ids;
      },
      insertChange: (id, kind, entityId, atMs) => client.query('INSERT INTO pos_change (id, kind, "entityId", "atMs") VALUES ($1, $2, $3, $4)', [id, kind, entityId, atMs]),
      indexes: async (table) => (await client.query('SELECT indexname FROM pg_indexes WHERE tablename = $1', [table])).rows.map((r) => r.indexname),
      close: () => client.end(),
    };
  }
  const Database = requireDep('better-sqlite3');
  const db = new Database(path.join(shop.env.RUN_DIR, 'vendure.sqlite'));
  db.pragma('busy_timeout = 5000');
  return {
    async reserveIds(n) {
      // SQLite hands out max+1…; bump the AUTOINCREMENT counter past the reserved ids.
      return db.transaction(() => {
        const seq = db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'pos_change'`).get().seq;
        db.prepare(`UPDATE sqlite_sequence SET seq = ? WHERE name = 'pos_change'`).run(seq + n);
        return Array.from({ length: n }, (_, i) => seq + 1 + i);
      }).immediate();
    },
    async insertChange(id, kind, entityId, atMs) {
      db.prepare('INSERT INTO pos_change (id, kind, entityId, atMs) VALUES (?, ?, ?, ?)').run(id, kind, entityId, atMs);
    },
    async indexes(table) {
      return db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`).all(table).map((r) => r.name);
    },
    async close() { db.close(); },
  };
}

module.exports.openDb = openDb;
