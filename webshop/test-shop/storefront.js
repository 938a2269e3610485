#!/usr/bin/env node
// Places an order through Vendure's Shop API exactly as a storefront would: add the item,
// set the customer and address, choose delivery or "Pickup in store", pay with the dummy handler.
//
//   node storefront.js order --sku TS-00001-S [--qty 1] [--pickup] [--pay-in-store] [--url http://127.0.0.1:3000]
//
// Prints JSON {code, id, state, pickup}. The SKU → variant id lookup uses the Admin API as
// superadmin (the Shop API has no lookup by SKU); everything else is the Shop API.
// --pay-in-store leaves the payment only authorized (state PaymentAuthorized): paid at pickup.
const { request, gql, adminLogin, parseArgs, baseUrlFrom } = require('./gql');

async function variantIdBySku(baseUrl, sku) {
  const token = await adminLogin(baseUrl, 'superadmin', 'superadmin');
  const data = await gql(`${baseUrl}/admin-api`,
    'query($sku:String!){ productVariants(options:{filter:{sku:{eq:$sku}}}) { items { id sku } } }', { sku }, token);
  const v = data.productVariants.items[0];
  if (!v) throw new Error(`no variant with SKU ${sku}`);
  return v.id;
}

async function placeOrder({ baseUrl, sku, qty = 1, pickup = false, payInStore = false, email }) {
  const variantId = await variantIdBySku(baseUrl, sku);
  const shop = `${baseUrl}/shop-api`;
  let token;
  const call = async (query, variables) => {
    const res = await request(shop, query, variables, token);
    if (res.token) token = res.token;
    if (res.body.errors) throw new Error(res.body.errors.map(e => e.message).join('; '));
    return res.body.data;
  };
  const ensure = (result, what) => {
    if (result && result.__typename && result.__typename !== 'Order' && result.errorCode) throw new Error(`${what}: ${result.message}`);
    return result;
  };
  ensure((await call(`mutation($id:ID!,$q:Int!){ addItemToOrder(productVariantId:$id, quantity:$q) { __typename ... on Order { id code } ... on ErrorResult { errorCode message } } }`,
    { id: variantId, q: Number(qty) })).addItemToOrder, 'addItemToOrder');
  ensure((await call(`mutation($input:CreateCustomerInput!){ setCustomerForOrder(input:$input) { __typename ... on ErrorResult { errorCode message } } }`,
    { input: { emailAddress: email || `buyer-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`, firstName: 'Ana', lastName: 'García' } })).setCustomerForOrder, 'setCustomerForOrder');
  ensure((await call(`mutation($input:CreateAddressInput!){ setOrderShippingAddress(input:$input) { __typename ... on ErrorResult { errorCode message } } }`,
    { input: { fullName: 'Ana García', streetLine1: 'Gran Vía 1', city: 'Madrid', postalCode: '28013', countryCode: 'ES' } })).setOrderShippingAddress, 'setOrderShippingAddress');
  const { eligibleShippingMethods } = await call('{ eligibleShippingMethods { id code } }');
  const method = eligibleShippingMethods.find(m => m.code === (pickup ? 'pickup-in-store' : 'standard-shipping'));
  if (!method) throw new Error('shipping method not found');
  ensure((await call(`mutation($id:[ID!]!){ setOrderShippingMethod(shippingMethodId:$id) { __typename ... on ErrorResult { errorCode message } } }`,
    { id: [method.id] })).setOrderShippingMethod, 'setOrderShippingMethod');
  ensure((await call(`mutation{ transitionOrderToState(state:"ArrangingPayment") { __typename ... on ErrorResult { errorCode message } } }`)).transitionOrderToState, 'transitionOrderToState');
  const paid = ensure((await call(`mutation{ addPaymentToOrder(input:{method:"${payInStore ? 'pay-in-store' : 'card'}", metadata:{}}) { __typename ... on Order { id code state } ... on ErrorResult { errorCode message } } }`)).addPaymentToOrder, 'addPaymentToOrder');
  return { code: paid.code, id: paid.id, state: paid.state, pickup };
}

if (require.main === module) {
  const args = parseArgs(process.argv.slice(2));
  if (args._[0] !== 'order' || !args.sku) {
    console.error('usage: storefront.js order --sku SKU [--qty N] [--pickup] [--pay-in-store] [--url URL]');
    process.exit(2);
  }
  placeOrder({ baseUrl: baseUrlFrom(args), sku: args.sku, qty: Number(args.qty || 1), pickup: !!args.pickup, payInStore: !!args['pay-in-store'], email: args.email })
    .then(r => console.log(JSON.stringify(r)))
    .catch(e => { console.error(e.message); process.exit(1); });
}
module.exports = { placeOrder };
