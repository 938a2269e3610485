// Starts the test shop (config.js) and logs READY with the start-up time.
const { requireDep } = require('./deps');
const { bootstrap } = requireDep('@vendure/core');
const { config } = require('./config');
const t0 = Date.now();
bootstrap(config).then(() => {
  console.log(`READY in ${Date.now() - t0} ms rss=${Math.round(process.memoryUsage().rss / 1048576)}MiB`);
}).catch(e => { console.error(e); process.exit(1); });
