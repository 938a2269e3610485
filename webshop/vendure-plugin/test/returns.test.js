// Returns across terminals against a real Vendure shop (test-shop/start.sh) on DB=sqlite|postgres:
// a register finds a sale made at another terminal (by receipt number, UUID or order code) or a
// paid web order, records its return exactly once, and returning more than was sold is recorded
// anyway with a RETURN_EXCEEDS_SALE conflict for a manager. SKUs TS-00050…TS-00054-S are this file's.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');
const { startShop, stopShop, clients, SALE, saleInput, openDb } = require('./shop');
const { request } = require('../../test-shop/gql');
const { placeOrder } = require('../../test-shop/storefront');

let shop;
let c;
const sku = p => `TS-${String(p).padStart(5, '0')}-S`;

const RETURN = `mutation($i: PosReturnInput!) { posRecordReturn(input: $i) {
  returnId duplicate conflicts { id saleId terminalId sku reason requested availableBefore resolution } } }`;
const FOR_RETURN = `query($c: String!) { posSaleForReturn(code: $c) {
  source saleId orderCode terminalId receiptNumber document
  order { code state orderPlacedAt currencyCode pricesIncludeTax totalWithTaxMinor customerEmail customerName
    lines { lineNo sku name quantity unitPriceWithTaxMinor linePriceWithTaxMinor unitPriceMinor linePriceMinor taxRateBps }
    payments { method amountMinor state transactionId giftCardCode } }
  returns { returnId terminalId returnNumber occurredAt lines { saleLineNo sku quantity soldQuantity } document }
  giftCardRedeems { idempotencyKey code } } }`;

let returnSeq = 0;
/** A register's return of `target` ({saleId} or {orderCode}); lines: [{saleLineNo, sku, quantity, soldQuantity}]. */
function returnInput(target, lines, extra = {}) {
  const terminalId = extra.terminalId || 'T02';
  const returnNumber = `${terminalId}R-${String(++returnSeq).padStart(6, '0')}`;
  return {
    returnId: crypto.randomUUID(),
    terminalId,
    returnNumber,
    occurredAt: new Date(Date.now() + returnSeq).toISOString(),
    currencyCode: 'USD',
    totalMinor: lines.reduce((s, l) => s + 1392 * l.quantity, 0),
    lines,
    document: JSON.stringify({ kind: 'CompletedReturn', number: returnNumber, lines, note: 'devolución — talla' }),
    ...target,
    ...extra,
  };
}

const forReturn = async code => (await c.terminal(FOR_RETURN, { c: code })).posSaleForReturn;
const recordReturn = async input => (await c.terminal(RETURN, { i: input })).posRecordReturn;
/** The GraphQL error of an operation that must fail: [extensions.code, message]. */
async function failure(query, variables) {
  const { body } = await c.raw(query, variables, c.terminalToken);
  assert.ok(body.errors?.length, `expected an error, got ${JSON.stringify(body.data)}`);
  return [body.errors[0].extensions?.code, body.errors[0].message];
}

/** A POS sale of `quantity` × sku with a register document; returns {input, result, document}. */
async function posSale(p, quantity, extra = {}) {
  const input = saleInput([{ sku: sku(p), quantity, unitPriceMinor: 1392 }], extra);
  const document = JSON.stringify({ saleId: input.saleId, receipt: input.receiptNumber, lines: [{ no: 1, sku: sku(p), quantity }], note: 'café ☕ "quoted"\n' });
  input.document = document;
  const result = (await c.terminal(SALE, { i: input })).posRecordSale;
  return { input, result, document };
}

before(async () => {
  shop = startShop();
  c = await clients(shop);
  console.log(`${shop.db}: shop started in ${shop.startMs} ms`);
});

after(() => stopShop(shop));

test('a sale recorded with its document is found by receipt number, UUID and order code, document verbatim', async () => {
  const receipt = `T01-${String(Date.now() % 1e6).padStart(6, '0')}`;
  const { input, result, document } = await posSale(50, 2, { receiptNumber: receipt, terminalId: 'T01' });
  assert.equal(result.duplicate, false);
  for (const code of [receipt, input.saleId, input.saleId.toUpperCase(), result.orderCode, ` ${receipt} `]) {
    const found = await forReturn(code);
    assert.ok(found, `found by ${code}`);
    assert.equal(found.source, 'POS');
    assert.equal(found.saleId, input.saleId);
    assert.equal(found.orderCode, result.orderCode);
    assert.equal(found.terminalId, 'T01');
    assert.equal(found.receiptNumber, receipt);
    assert.equal(found.document, document, 'the document byte for byte');
    assert.equal(found.order, null);
    assert.deepEqual(found.returns, []);
  }
  const again = await posSale(50, 1, { receiptNumber: receipt, terminalId: 'T09' });
  assert.equal((await forReturn(receipt)).saleId, again.input.saleId, 'a receipt number used twice (it should not be): the latest sale');
  assert.equal((await forReturn(input.saleId)).receiptNumber, receipt, 'the first is still found by its UUID');
  assert.equal(await forReturn('T99-000000'), null, 'an unknown receipt number');
  const db = await openDb(shop);
  try {
    assert.ok((await db.indexes('order')).includes('pos_order_receipt_number'), 'a miss does not scan every order');
    assert.ok((await db.indexes('pos_sale_document')).length >= 2, 'saleId unique, receiptNumber indexed');
  } finally {
    await db.close();
  }
  assert.equal(await forReturn(crypto.randomUUID()), null, 'an unknown sale UUID');
  assert.equal(await forReturn(''), null);
});

test('a sale recorded without a document gets it from a repeat; the batch keeps documents; > 1 MB is refused', async () => {
  const old = saleInput([{ sku: sku(51), quantity: 1, unitPriceMinor: 1392 }], { terminalId: 'T03' });
  const first = (await c.terminal(SALE, { i: old })).posRecordSale;
  const before = await forReturn(old.receiptNumber);
  assert.equal(before.saleId, old.saleId, 'found by the receipt number on its order');
  assert.equal(before.document, null, 'recorded before documents existed');
  const document = JSON.stringify({ late: true, saleId: old.saleId });
  const repeat = (await c.terminal(SALE, { i: { ...old, document } })).posRecordSale;
  assert.equal(repeat.duplicate, true);
  assert.equal(repeat.orderCode, first.orderCode);
  assert.equal((await forReturn(old.saleId)).document, document, 'the repeat stored it');
  const other = JSON.stringify({ late: 'different' });
  await c.terminal(SALE, { i: { ...old, document: other } });
  assert.equal((await forReturn(old.saleId)).document, document, 'a stored document is never overwritten');

  const batch = [0, 1].map(i => ({ ...saleInput([{ sku: sku(51), quantity: 1, unitPriceMinor: 1392 }]), document: JSON.stringify({ batch: i }) }));
  const { posRecordSales } = await c.terminal('mutation($i:[PosSaleInput!]!){ posRecordSales(inputs:$i){ saleId error result { orderCode } } }', { i: batch });
  assert.deepEqual(posRecordSales.map(r => r.error), [null, null]);
  for (const [i, s] of batch.entries()) assert.equal((await forReturn(s.receiptNumber)).document, JSON.stringify({ batch: i }));

  const big = { ...saleInput([{ sku: sku(51), quantity: 1, unitPriceMinor: 1392 }]), document: JSON.stringify({ pad: 'é'.repeat(500000) }) };
  assert.ok(Buffer.byteLength(big.document) > 1000000 && Buffer.byteLength(big.document) <= 1024 * 1024);
  assert.equal((await c.terminal(SALE, { i: big })).posRecordSale.duplicate, false, 'a document of almost 1 MB is accepted');
  assert.equal((await forReturn(big.receiptNumber)).document, big.document);
  const huge = { ...saleInput([{ sku: sku(51), quantity: 1, unitPriceMinor: 1392 }]), document: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }) };
  const [code, message] = await failure(SALE, { i: huge });
  assert.equal(code, 'USER_INPUT_ERROR');
  assert.match(message, /larger than 1 MB/);
  assert.equal(await forReturn(huge.saleId), null, 'nothing recorded');
});

test('a return is recorded exactly once: sent twice, then 5 times at once', async () => {
  const { input } = await posSale(52, 3);
  const ret = returnInput({ saleId: input.saleId }, [{ saleLineNo: 1, sku: sku(52), quantity: 1, soldQuantity: 3 }]);
  const first = await recordReturn(ret);
  assert.deepEqual(first, { returnId: ret.returnId, duplicate: false, conflicts: [] });
  assert.deepEqual(await recordReturn(ret), { ...first, duplicate: true });
  const five = await Promise.all(Array.from({ length: 5 }, () => recordReturn(ret)));
  for (const r of five) assert.deepEqual(r, { ...first, duplicate: true });
  const fresh = returnInput({ saleId: input.saleId }, [{ saleLineNo: 1, sku: sku(52), quantity: 1, soldQuantity: 3 }]);
  const racers = await Promise.all(Array.from({ length: 5 }, () => recordReturn(fresh)));
  assert.equal(racers.filter(r => !r.duplicate).length, 1, 'exactly one of five concurrent first sends recorded it');
  const found = await forReturn(input.saleId);
  assert.deepEqual(found.returns.map(r => r.returnId), [ret.returnId, fresh.returnId], 'one row per returnId');
  assert.equal(found.returns[0].document, ret.document, 'the return document verbatim');
});

test('two terminals return parts of one line; a third return beyond the sale is recorded with a conflict', async () => {
  const { input, result } = await posSale(53, 3, { terminalId: 'T01' });
  const line = { saleLineNo: 1, sku: sku(53), soldQuantity: 3 };
  const a = await recordReturn(returnInput({ saleId: input.saleId }, [{ ...line, quantity: 2 }], { terminalId: 'T02' }));
  const b = await recordReturn(returnInput({ saleId: input.saleId }, [{ ...line, quantity: 1 }], { terminalId: 'T03' }));
  assert.deepEqual([a.conflicts, b.conflicts], [[], []], '2 + 1 of 3 sold: no conflict');
  const found = await forReturn(result.orderCode);
  assert.deepEqual(found.returns.map(r => [r.terminalId, r.lines]), [
    ['T02', [{ ...line, quantity: 2 }]],
    ['T03', [{ ...line, quantity: 1 }]],
  ]);
  assert.match(found.returns[0].returnNumber, /^T02R-\d{6}$/);

  const third = returnInput({ saleId: input.saleId }, [{ ...line, quantity: 1 }], { terminalId: 'T04' });
  const over = await recordReturn(third);
  assert.equal(over.duplicate, false, 'recorded anyway: the money already went back');
  assert.equal(over.conflicts.length, 1);
  assert.deepEqual({ ...over.conflicts[0], id: undefined }, {
    id: undefined, saleId: input.saleId, terminalId: 'T04', sku: sku(53), reason: 'RETURN_EXCEEDS_SALE',
    requested: 1, availableBefore: 0, resolution: null,
  });
  assert.deepEqual((await recordReturn(third)).conflicts, over.conflicts, 'a repeat reports the same conflict and adds none');
  const listed = (await c.terminal('{ posStockConflicts { id saleId reason requested availableBefore } }')).posStockConflicts;
  assert.deepEqual(listed.filter(x => x.saleId === input.saleId).map(x => [x.id, x.reason]), [[over.conflicts[0].id, 'RETURN_EXCEEDS_SALE']],
    'the manager sees it in the conflict list');
  assert.equal((await forReturn(input.receiptNumber)).returns.length, 3);
  const resent = (await c.terminal(SALE, { i: input })).posRecordSale;
  assert.deepEqual([resent.duplicate, resent.conflicts], [true, []], 'a repeat of the sale reports its own conflicts, not its returns\'');

  // A sale with 3 returns: how long a register waits for it.
  const ms = [];
  for (let i = 0; i < 20; i++) {
    const t = process.hrtime.bigint();
    await forReturn(input.receiptNumber);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  ms.sort((x, y) => x - y);
  console.log(`${shop.db}: posSaleForReturn of a sale with 3 returns: p50 ${ms[10].toFixed(1)} ms, max ${ms[19].toFixed(1)} ms`);
  assert.ok(ms[10] < 500, `p50 ${ms[10]} ms`);
});

test('two terminals returning the last units at the same moment: both recorded, exactly one conflict', async () => {
  const { input } = await posSale(54, 3);
  const line = { saleLineNo: 1, sku: sku(54), soldQuantity: 3, quantity: 2 };
  const both = await Promise.all(['T05', 'T06'].map(t => recordReturn(returnInput({ saleId: input.saleId }, [line], { terminalId: t }))));
  assert.deepEqual(both.map(r => r.duplicate), [false, false]);
  const conflicts = both.flatMap(r => r.conflicts);
  assert.equal(conflicts.length, 1, '2 + 2 of 3 sold: the later of the two is flagged');
  assert.deepEqual([conflicts[0].requested, conflicts[0].availableBefore], [2, 1]);
  assert.equal((await forReturn(input.saleId)).returns.length, 2);
});

test('a paid web order is found by its code with its lines, taxes and payment; its return is listed; unpaid orders have no lines', async () => {
  const webSku = sku(50).replace(/-S$/, '-M');
  const placed = await placeOrder({ baseUrl: shop.baseUrl, sku: webSku, qty: 2 });
  assert.equal(placed.state, 'PaymentSettled');
  const { orders } = await c.superadmin(`query($c:String!){ orders(options:{filter:{code:{eq:$c}}}) { items {
      totalWithTax currencyCode customer { emailAddress }
      lines { quantity unitPrice unitPriceWithTax proratedLinePrice proratedLinePriceWithTax taxRate productVariant { sku name } } } } }`, { c: placed.code });
  const expected = orders.items[0];
  const found = await forReturn(placed.code);
  assert.equal(found.source, 'ONLINE');
  assert.deepEqual([found.saleId, found.terminalId, found.receiptNumber, found.document], [null, null, null, null]);
  assert.equal(found.orderCode, placed.code);
  const o = found.order;
  console.log(`${shop.db}: web order as a register sees it: ${JSON.stringify(o)}`);
  assert.equal(o.state, 'PaymentSettled');
  assert.ok(o.orderPlacedAt);
  assert.equal(o.currencyCode, expected.currencyCode);
  assert.equal(o.totalWithTaxMinor, expected.totalWithTax);
  assert.equal(o.customerEmail, expected.customer.emailAddress);
  assert.equal(o.customerName, 'Ana García');
  assert.equal(typeof o.pricesIncludeTax, 'boolean');
  const unit = expected.lines[0].unitPriceWithTax;
  assert.deepEqual(o.lines, [{
    lineNo: 1, sku: webSku, name: expected.lines[0].productVariant.name, quantity: 2,
    unitPriceWithTaxMinor: unit, linePriceWithTaxMinor: expected.lines[0].proratedLinePriceWithTax,
    unitPriceMinor: expected.lines[0].unitPrice, linePriceMinor: expected.lines[0].proratedLinePrice, taxRateBps: 2100,
  }], 'product 50 is in the standard 21 % category');
  assert.equal(expected.lines[0].taxRate, 21);
  assert.ok(Math.abs(expected.lines[0].proratedLinePriceWithTax - 2 * unit) <= 1, 'the line with tax, rounded once (no promotion)');
  assert.deepEqual(o.payments.map(p => [p.method, p.amountMinor, p.state, p.giftCardCode]), [['card', expected.totalWithTax, 'Settled', null]]);
  assert.deepEqual(found.giftCardRedeems, [], 'a web order names its gift cards on its payments');

  const ret = returnInput({ orderCode: placed.code }, [{ saleLineNo: 1, sku: webSku, quantity: 1, soldQuantity: 2 }], { terminalId: 'T07' });
  assert.deepEqual((await recordReturn(ret)).conflicts, []);
  const over = await recordReturn(returnInput({ orderCode: placed.code }, [{ saleLineNo: 1, sku: webSku, quantity: 2, soldQuantity: 2 }]));
  assert.deepEqual(over.conflicts.map(x => [x.saleId, x.reason, x.requested, x.availableBefore]), [[null, 'RETURN_EXCEEDS_SALE', 2, 1]]);
  const after = await forReturn(placed.code);
  assert.deepEqual(after.returns.map(r => [r.returnId, r.terminalId, r.lines[0].quantity]), [[ret.returnId, 'T07', 1], [after.returns[1].returnId, 'T02', 2]]);

  const authorized = await placeOrder({ baseUrl: shop.baseUrl, sku: webSku, qty: 1, payInStore: true });
  const notPaid = await forReturn(authorized.code);
  assert.equal(notPaid.source, 'ONLINE');
  assert.deepEqual([notPaid.order.state, notPaid.order.lines, notPaid.order.payments], ['PaymentAuthorized', [], []]);

  const shopApi = `${shop.baseUrl}/shop-api`;
  const { productVariants } = await c.superadmin('query($s:String!){ productVariants(options:{filter:{sku:{eq:$s}}}){ items { id } } }', { s: webSku });
  const cart = await request(shopApi, 'mutation($id:ID!){ addItemToOrder(productVariantId:$id, quantity:1){ ... on Order { code state } } }', { id: productVariants.items[0].id });
  const adding = await forReturn(cart.body.data.addItemToOrder.code);
  assert.deepEqual([adding.order.state, adding.order.lines], ['AddingItems', []]);
});

test('a POS sale paid with one of the shop\'s gift cards names the card by its redeem key, so another register can refund onto it', async () => {
  const RESULT = 'status entry { idempotencyKey } card { code balanceMinor }';
  const issued = (await c.terminal(`mutation($i:PosIssueGiftCardInput!){ posIssueGiftCard(input:$i){ ${RESULT} } }`, {
    i: { idempotencyKey: crypto.randomUUID(), currency: 'USD', amountMinor: 5000 },
  })).posIssueGiftCard;
  assert.equal(issued.status, 'OK');
  const input = saleInput([{ sku: sku(51), quantity: 1, unitPriceMinor: 1392 }]);
  // The register's tender key: <sale id>-<tender position>.
  const redeemed = (await c.terminal(`mutation($i:PosRedeemGiftCardInput!){ posRedeemGiftCard(input:$i){ ${RESULT} } }`, {
    i: { idempotencyKey: `${input.saleId}-1`, code: issued.card.code, amountMinor: 1392, currency: 'USD' },
  })).posRedeemGiftCard;
  assert.equal(redeemed.status, 'OK');
  await c.terminal(SALE, { i: { ...input, payments: [{ method: 'gift_card', amountMinor: 1392 }], document: JSON.stringify({ id: input.saleId }) } });
  const found = await forReturn(input.receiptNumber);
  assert.deepEqual(found.giftCardRedeems, [{ idempotencyKey: `${input.saleId}-1`, code: issued.card.code }]);
});

test('a receipt number used in two stores finds the asking register\'s own store first', async () => {
  const { createStockLocation } = await c.superadmin('mutation{ createStockLocation(input:{name:"Store Osaka", description:""}) { id } }');
  const { createTerminal } = require('../../test-shop/create-terminal');
  const cred = await createTerminal({ baseUrl: shop.baseUrl, adminUser: 'superadmin', adminPassword: 'superadmin', terminalId: 'osaka-1', locationId: createStockLocation.id });
  const { adminLogin, gql } = require('../../test-shop/gql');
  const osaka = (q, v) => adminLogin(shop.baseUrl, cred.identifier, cred.password).then(tok => gql(`${shop.baseUrl}/admin-api`, q, v, tok));
  const receipt = `T01-${String((Date.now() + 7) % 1e6).padStart(6, '0')}`;
  // This store's T01 sold first; the Osaka store's own T01 printed the same number later.
  const here = saleInput([{ sku: sku(52), quantity: 1, unitPriceMinor: 1392 }], { receiptNumber: receipt });
  await c.terminal(SALE, { i: { ...here, document: JSON.stringify({ store: 'here' }) } });
  const there = saleInput([{ sku: sku(52), quantity: 1, unitPriceMinor: 1392 }], { receiptNumber: receipt, terminalId: 'osaka-1' });
  await osaka(SALE, { i: { ...there, document: JSON.stringify({ store: 'osaka' }) } });
  assert.equal((await forReturn(receipt)).saleId, here.saleId, 'this store\'s sale, though Osaka\'s is newer');
  const fromOsaka = (await osaka(FOR_RETURN, { c: receipt })).posSaleForReturn;
  assert.equal(fromOsaka.saleId, there.saleId, 'and Osaka finds its own');
});

test('bad input is refused with a clear message; a terminal credential is needed', async () => {
  const { input } = await posSale(52, 1);
  const line = { saleLineNo: 1, sku: sku(52), quantity: 1, soldQuantity: 1 };
  const cases = [
    [returnInput({ saleId: 'not-a-uuid' }, [line]), /saleId must be a UUID/],
    [returnInput({ saleId: input.saleId }, [line], { returnId: 'R-1' }), /returnId must be a UUID/],
    [returnInput({ saleId: input.saleId, orderCode: 'ABC123' }, [line]), /exactly one of saleId .* or orderCode/],
    [returnInput({}, [line]), /exactly one of saleId .* or orderCode/],
    [returnInput({ saleId: input.saleId }, []), /at least one line/],
    [returnInput({ saleId: input.saleId }, [{ ...line, quantity: 0 }]), /quantity of .* must be a positive integer/],
    [returnInput({ saleId: input.saleId }, [{ ...line, soldQuantity: 0 }]), /soldQuantity of .* must be a positive integer/],
  ];
  for (const [i, re] of cases) {
    const [code, message] = await failure(RETURN, { i });
    assert.equal(code, 'USER_INPUT_ERROR', message);
    assert.match(message, re);
  }
  assert.deepEqual((await forReturn(input.saleId)).returns, [], 'nothing was recorded');
  const anon = await c.raw(FOR_RETURN, { c: input.saleId });
  assert.equal(anon.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  const anonReturn = await c.raw(RETURN, { i: returnInput({ saleId: input.saleId }, [line]) });
  assert.equal(anonReturn.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
});
