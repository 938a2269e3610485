// Zones, two tax categories (Standard 21 %, Reduced 10 %), a pickup and a delivery shipping
// method, and two payment methods with the dummy handler: "card" (settled at once) and
// "pay-in-store" (only authorized: paid when the customer collects).
exports.initialData = {
  defaultLanguage: 'en',
  defaultZone: 'Europe',
  taxRates: [{ name: 'Standard', percentage: 21 }, { name: 'Reduced', percentage: 10 }],
  shippingMethods: [{ name: 'Pickup in store', price: 0 }, { name: 'Standard Shipping', price: 500 }],
  paymentMethods: [
    { name: 'Card', handler: { code: 'dummy-payment-handler', arguments: [{ name: 'automaticSettle', value: 'true' }] } },
    { name: 'Pay in store', handler: { code: 'dummy-payment-handler', arguments: [{ name: 'automaticSettle', value: 'false' }] } },
  ],
  countries: [
    { name: 'Spain', code: 'ES', zone: 'Europe' },
    { name: 'Germany', code: 'DE', zone: 'Europe' },
    { name: 'Japan', code: 'JP', zone: 'Asia' },
  ],
  collections: [],
};
