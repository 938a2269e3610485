// The shared gift-card ledger against a real Vendure shop (test-shop/start.sh) on DB=sqlite|postgres:
// terminals issue, top up, redeem and release through the Admin API; storefronts read the
// balance and pay through the Shop API's addPaymentToOrder with the `pos-gift-card` handler.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('crypto');
const { startShop, stopShop, clients } = require('./shop');
const { request, gql } = require('../../test-shop/gql');

let shop;
let c;
let currency;
const key = () => crypto.randomUUID();

const RESULT = 'status duplicate card { code currency balanceMinor active } entry { id kind idempotencyKey amountMinor balanceAfterMinor channel releases }';
const ISSUE = `mutation($i:PosIssueGiftCardInput!){ posIssueGiftCard(input:$i){ ${RESULT} } }`;
const TOP_UP = `mutation($i:PosTopUpGiftCardInput!){ posTopUpGiftCard(input:$i){ ${RESULT} } }`;
const REDEEM = `mutation($i:PosRedeemGiftCardInput!){ posRedeemGiftCard(input:$i){ ${RESULT} } }`;
const RELEASE = `mutation($k:String!){ posReleaseGiftCardRedeem(idempotencyKey:$k){ ${RESULT} } }`;
const ENTRIES = 'query($c:String!){ posGiftCardEntries(code:$c){ id kind idempotencyKey amountMinor balanceAfterMinor channel } }';

const issue = async (amountMinor, extra = {}) => (await c.terminal(ISSUE, { i: { idempotencyKey: key(), currency, amountMinor, ...extra } })).posIssueGiftCard;
const redeem = async (code, amountMinor, k = key(), extra = {}) => (await c.terminal(REDEEM, { i: { idempotencyKey: k, code, amountMinor, ...extra } })).posRedeemGiftCard;
const balanceOf = async code => (await c.terminal('query($c:String!){ posGiftCard(code:$c){ balanceMinor } }', { c: code })).posGiftCard.balanceMinor;
const entriesOf = async code => (await c.terminal(ENTRIES, { c: code })).posGiftCardEntries;

/** Balance = sum of the entries, and each entry's balanceAfter is the running sum (never negative). */
function assertEntriesAddUp(entries, balance) {
  let running = 0;
  for (const e of entries) {
    running += e.amountMinor;
    assert.equal(e.balanceAfterMinor, running, `entry ${e.id} (${e.kind}) balanceAfter is the running sum`);
    assert.ok(e.balanceAfterMinor >= 0, 'never below zero');
  }
  assert.equal(running, balance, 'the entries add up to the balance');
}

/** A storefront order of one item, up to ArrangingPayment; `pay(method, metadata)` calls addPaymentToOrder. */
async function storefrontOrder(sku) {
  const shopApi = `${shop.baseUrl}/shop-api`;
  let token;
  const call = async (query, variables) => {
    const res = await request(shopApi, query, variables, token);
    if (res.token) token = res.token;
    if (res.body.errors) throw new Error(res.body.errors.map(e => e.message).join('; '));
    return res.body.data;
  };
  const { productVariants } = await c.superadmin('query($s:String!){ productVariants(options:{filter:{sku:{eq:$s}}}){ items { id } } }', { s: sku });
  const ok = (r, what) => { if (r.errorCode) throw new Error(`${what}: ${r.message}`); return r; };
  ok((await call('mutation($id:ID!){ addItemToOrder(productVariantId:$id, quantity:1){ ... on Order { id } ... on ErrorResult { errorCode message } } }', { id: productVariants.items[0].id })).addItemToOrder, 'addItemToOrder');
  ok((await call('mutation($i:CreateCustomerInput!){ setCustomerForOrder(input:$i){ ... on Order { id } ... on ErrorResult { errorCode message } } }',
    { i: { emailAddress: `gift-${key()}@example.com`, firstName: 'Ana', lastName: 'García' } })).setCustomerForOrder, 'setCustomerForOrder');
  ok((await call('mutation($i:CreateAddressInput!){ setOrderShippingAddress(input:$i){ ... on Order { id } ... on ErrorResult { errorCode message } } }',
    { i: { fullName: 'Ana García', streetLine1: 'Gran Vía 1', city: 'Madrid', postalCode: '28013', countryCode: 'ES' } })).setOrderShippingAddress, 'setOrderShippingAddress');
  const { eligibleShippingMethods } = await call('{ eligibleShippingMethods { id code } }');
  ok((await call('mutation($id:[ID!]!){ setOrderShippingMethod(shippingMethodId:$id){ ... on Order { id } ... on ErrorResult { errorCode message } } }',
    { id: [eligibleShippingMethods.find(m => m.code === 'standard-shipping').id] })).setOrderShippingMethod, 'setOrderShippingMethod');
  const arranged = ok((await call('mutation{ transitionOrderToState(state:"ArrangingPayment"){ ... on Order { id code totalWithTax } ... on ErrorResult { errorCode message } } }')).transitionOrderToState, 'transition');
  return {
    code: arranged.code,
    totalWithTax: arranged.totalWithTax,
    pay: async (method, metadata) => (await call(`mutation($i:PaymentInput!){ addPaymentToOrder(input:$i){ __typename
        ... on Order { state totalWithTax payments { method amount state transactionId metadata } }
        ... on ErrorResult { errorCode message } ... on PaymentDeclinedError { paymentErrorMessage } } }`, { i: { method, metadata } })).addPaymentToOrder,
    shopApi: (q, v) => call(q, v),
  };
}

before(async () => {
  shop = startShop();
  c = await clients(shop);
  currency = (await c.superadmin('{ activeChannel { defaultCurrencyCode } }')).activeChannel.defaultCurrencyCode;
  await c.superadmin(`mutation { createPaymentMethod(input: { code: "gift-card", enabled: true,
      handler: { code: "pos-gift-card", arguments: [] }, translations: [{ languageCode: en, name: "Gift card" }] }) { id } }`);
  console.log(`${shop.db}: shop started in ${shop.startMs} ms (currency ${currency})`);
});

after(() => stopShop(shop));

test('a terminal issues, tops up, redeems once per key, never beyond the balance, and releases once', async () => {
  const issued = await issue(5000);
  assert.equal(issued.status, 'OK');
  assert.match(issued.card.code, /^\d{16}$/, 'a generated 16-digit number');
  assert.equal(issued.entry.channel, 'till-1', 'the terminal that issued it');
  const code = issued.card.code;
  const spaced = code.replace(/(\d{4})/g, '$1 ').trim();
  assert.equal((await c.terminal('query($c:String!){ posGiftCard(code:$c){ code balanceMinor } }', { c: spaced })).posGiftCard.balanceMinor, 5000, 'typed with spaces');

  const topKey = key();
  assert.equal((await c.terminal(TOP_UP, { i: { idempotencyKey: topKey, code, amountMinor: 2500 } })).posTopUpGiftCard.card.balanceMinor, 7500);
  const topAgain = (await c.terminal(TOP_UP, { i: { idempotencyKey: topKey, code, amountMinor: 2500 } })).posTopUpGiftCard;
  assert.equal(topAgain.duplicate, true);
  assert.equal(await balanceOf(code), 7500, 'a repeated top-up adds nothing');

  const k = key();
  const first = await redeem(code, 3000, k);
  assert.deepEqual([first.status, first.duplicate, first.entry.amountMinor, first.entry.balanceAfterMinor], ['OK', false, -3000, 4500]);
  const again = await redeem(code, 3000, k);
  assert.deepEqual([again.status, again.duplicate, again.entry.id], ['OK', true, first.entry.id], 'a repeat returns the first result');
  assert.equal(await balanceOf(code), 4500);

  const over = await redeem(code, 4501);
  assert.equal(over.status, 'INSUFFICIENT_BALANCE');
  assert.equal(over.entry, null);
  assert.equal(over.card.balanceMinor, 4500, 'a refusal changes nothing');

  const released = (await c.terminal(RELEASE, { k })).posReleaseGiftCardRedeem;
  assert.deepEqual([released.status, released.entry.kind, released.entry.amountMinor, released.entry.releases], ['OK', 'RELEASE', 3000, k]);
  const releasedAgain = (await c.terminal(RELEASE, { k })).posReleaseGiftCardRedeem;
  assert.equal(releasedAgain.duplicate, true);
  assert.equal(await balanceOf(code), 7500, 'given back exactly once');
  assert.equal((await c.terminal(RELEASE, { k: key() })).posReleaseGiftCardRedeem.status, 'NOT_REDEEMED');

  assert.equal((await redeem('0000111122223333', 100)).status, 'UNKNOWN_CARD');
  assert.equal((await redeem(code, 100, key(), { currency: currency === 'JPY' ? 'EUR' : 'JPY' })).status, 'CURRENCY_MISMATCH');
  assertEntriesAddUp(await entriesOf(code), 7500);
});

test('a physical card keeps its number; the same number cannot be issued twice; JPY has no decimals', async () => {
  const number = `PHY${Date.now()}`;
  const r = await issue(10000, { code: number.toLowerCase(), currency: 'JPY' });
  assert.equal(r.status, 'OK');
  assert.equal(r.card.code, number, 'stored normalized (upper case)');
  assert.equal(r.card.currency, 'JPY');
  assert.equal(r.card.balanceMinor, 10000, '¥10,000 is 10000 minor units');
  assert.equal((await issue(500, { code: number })).status, 'CODE_IN_USE');
  assert.equal(await balanceOf(number), 10000);
});

test('terminal operations need PosTerminal; the storefront sees only a masked balance', async () => {
  const code = (await issue(1234)).card.code;
  const anon = await c.raw(REDEEM, { i: { idempotencyKey: key(), code, amountMinor: 1 } });
  assert.equal(anon.body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  const { body } = await request(`${shop.baseUrl}/shop-api`, 'query($c:String!){ giftCardBalance(code:$c){ code currencyCode balance active } }', { c: code });
  assert.deepEqual(body.data.giftCardBalance, { code: `****${code.slice(-4)}`, currencyCode: currency, balance: 1234, active: true });
  const unknown = await request(`${shop.baseUrl}/shop-api`, 'query{ giftCardBalance(code:"NOPE0000"){ code } }');
  assert.equal(unknown.body.data.giftCardBalance, null);
  assert.equal(await balanceOf(code), 1234);
});

test('a storefront pays part of an order with the card and the rest by card; an empty card is declined', async () => {
  const code = (await issue(700)).card.code;
  const order = await storefrontOrder('TS-00040-M');
  assert.ok(order.totalWithTax > 700, 'the order costs more than the card holds');
  const partial = await order.pay('gift-card', { code });
  assert.equal(partial.__typename, 'Order');
  assert.equal(partial.state, 'ArrangingPayment', 'the rest is still due');
  assert.deepEqual(partial.payments.map(p => [p.method, p.amount, p.state]), [['gift-card', 700, 'Settled']]);
  assert.equal(partial.payments[0].metadata.public?.giftCard ?? partial.payments[0].metadata.giftCard, `****${code.slice(-4)}`);
  assert.equal(await balanceOf(code), 0);
  const declined = await order.pay('gift-card', { code });
  assert.equal(declined.__typename, 'PaymentDeclinedError', 'an empty card pays nothing');
  const rest = await order.pay('card', {});
  assert.equal(rest.state, 'PaymentSettled');
  assert.equal(rest.payments.filter(p => p.state === 'Settled').reduce((s, p) => s + p.amount, 0), order.totalWithTax);
  const entries = await entriesOf(code);
  assert.deepEqual(entries.map(e => [e.kind, e.amountMinor, e.channel]), [['ISSUE', 700, 'till-1'], ['REDEEM', -700, 'storefront']]);
  assertEntriesAddUp(entries, 0);
});

test('terminals and storefronts redeeming the same card at the same moment never spend more than its balance', async () => {
  const BALANCE = 10000;
  const code = (await issue(BALANCE)).card.code;
  const TERMINAL = 16; // 1,500 each, 4 of them repeats of one key
  const WEB = 8;       // up to 1,500 each
  const orders = await Promise.all(Array.from({ length: WEB }, (_, i) => storefrontOrder(`TS-${String(41 + i).padStart(5, '0')}-M`)));
  const sharedKey = key();
  const keys = Array.from({ length: TERMINAL }, (_, i) => (i < 4 ? sharedKey : key()));
  const t0 = Date.now();
  const [terminalResults, webResults] = await Promise.all([
    Promise.all(keys.map(k => redeem(code, 1500, k))),
    Promise.all(orders.map(o => o.pay('gift-card', { code, amount: 1500 }))),
  ]);
  const ms = Date.now() - t0;
  const redeemedByKey = new Map();
  for (const r of terminalResults.filter(r => r.status === 'OK')) redeemedByKey.set(r.entry.idempotencyKey, r.entry.amountMinor);
  const terminalSpent = -[...redeemedByKey.values()].reduce((s, a) => s + a, 0);
  const webSpent = webResults.filter(r => r.__typename === 'Order').reduce((s, r) => s + r.payments.filter(p => p.method === 'gift-card').reduce((a, p) => a + p.amount, 0), 0);
  for (const r of terminalResults) assert.ok(['OK', 'INSUFFICIENT_BALANCE'].includes(r.status), r.status);
  const shared = terminalResults.slice(0, 4).filter(r => r.status === 'OK');
  assert.ok(new Set(shared.map(r => r.entry.id)).size <= 1, 'the repeated key debited at most once');
  const balance = await balanceOf(code);
  const entries = await entriesOf(code);
  console.log(`${shop.db}: ${TERMINAL} terminal redeems + ${WEB} storefront payments at once in ${ms} ms: terminals ${terminalSpent}, web ${webSpent}, left ${balance}`);
  assert.ok(balance >= 0, 'never negative');
  assert.equal(terminalSpent + webSpent, BALANCE - balance, 'what was paid is what left the card');
  assert.ok(terminalSpent + webSpent <= BALANCE, 'never more than the balance');
  assert.equal(entries.filter(e => e.kind === 'REDEEM').length, redeemedByKey.size + webResults.filter(r => r.__typename === 'Order').length, 'one entry per payment');
  assertEntriesAddUp(entries, balance);
  if (terminalResults.some(r => r.status !== 'OK')) assert.ok(balance < 1500, 'a terminal was refused only when the card could not cover 1,500');
  if (webResults.some(r => r.__typename !== 'Order')) assert.equal(balance, 0, 'a storefront was declined only when the card was empty');
});

test('redeem round trip is quick', async () => {
  const code = (await issue(100000)).card.code;
  const times = [];
  for (let i = 0; i < 20; i++) {
    const t = process.hrtime.bigint();
    await redeem(code, 100);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(`${shop.db}: posRedeemGiftCard p50 ${times[10].toFixed(1)} ms, p95 ${times[18].toFixed(1)} ms`);
  assert.ok(times[18] < 500, `p95 ${times[18]} ms`);
  assert.equal(await balanceOf(code), 100000 - 20 * 100);
});
