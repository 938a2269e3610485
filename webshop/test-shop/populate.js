// Creates the schema and imports initial data + the catalog CSV into an empty database.
// Usage: node populate.js products.csv
const path = require('path');
const { requireDep } = require('./deps');
const { bootstrap, defaultConfig, mergeConfig } = requireDep('@vendure/core');
const { populate } = requireDep('@vendure/core/cli');
const { config } = require('./config');
const { initialData } = require('./initial-data');
(async () => {
  const t0 = Date.now();
  const cfg = mergeConfig(defaultConfig, { ...config, apiOptions: { ...config.apiOptions, port: Number(process.env.POPULATE_PORT || 3099) } });
  const app = await populate(() => bootstrap(cfg), initialData, path.resolve(process.argv[2]));
  console.log(`populate done in ${Date.now() - t0} ms`);
  await app.close();
  process.exit(0);
})().catch(e => { console.error(e); process.exit(1); });
