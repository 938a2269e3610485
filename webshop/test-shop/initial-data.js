// Zones, two tax categories (Standard 21 %, Reduced 10 %), a pickup and a delivery shipping
// method, and a payment method with the dummy handler (settles at once).
exports.initialData = {
  defaultLanguage: 'en',
  defaultZone: 'Europe',
  taxRates: [{ name: 'Standard', percentage: 21 }, { name: 'Reduced', percentage: 10 }],
  shippingMethods: [{ name: 'Pickup in store', price: 0 }, { name: 'Standard Shipping', price: 500 }],
  paymentMethods: [{ name: 'Card', handler: { code: 'dummy-payment-handler', arguments: [{ name: 'automaticSettle', value: 'true' }] } }],
  countries: [
    { name: 'Spain', code: 'ES', zone: 'Europe' },
    { name: 'Germany', code: 'DE', zone: 'Europe' },
    { name: 'Japan', code: 'JP', zone: 'Asia' },
  ],
  collections: [],
};
