// Vendure config of the throwaway test shop: 127.0.0.1 only, SQLite or PostgreSQL (DB=sqlite|postgres),
// the POS plugin enabled. Test-only: the schema is created with `synchronize`, not migrations.
process.env.VENDURE_DISABLE_TELEMETRY = 'true';
const path = require('path');
const { requireDep, pluginDir } = require('./deps');
const { DefaultJobQueuePlugin, DefaultSearchPlugin, dummyPaymentHandler, DefaultLogger, LogLevel } = requireDep('@vendure/core');
const { PosPlugin } = require(path.join(pluginDir, 'dist'));

const runDir = process.env.RUN_DIR || path.join(__dirname, 'run');
const db = process.env.DB || 'sqlite';

function dbConnectionOptions() {
  if (db === 'postgres') {
    return {
      type: 'postgres',
      host: '127.0.0.1',
      port: Number(process.env.PGPORT || 5432),
      username: process.env.PGUSER || 'postgres',
      password: process.env.PGPASSWORD || '',
      database: process.env.PGDATABASE || 'vendure',
      synchronize: true,
      logging: process.env.TYPEORM_LOG ? ['query'] : false,
    };
  }
  if (db !== 'sqlite') throw new Error(`DB must be sqlite or postgres, not ${db}`);
  return {
    type: 'better-sqlite3',
    database: path.join(runDir, 'vendure.sqlite'),
    synchronize: true,
    logging: process.env.TYPEORM_LOG ? ['query'] : false,
    prepareDatabase: d => { d.pragma('journal_mode = WAL'); d.pragma('busy_timeout = 5000'); if (process.env.FAST_SQLITE) d.pragma('synchronous = OFF'); },
  };
}

exports.config = {
  apiOptions: {
    hostname: '127.0.0.1',
    port: Number(process.env.PORT || 3000),
    adminApiPath: 'admin-api',
    shopApiPath: 'shop-api',
  },
  authOptions: {
    tokenMethod: ['bearer', 'cookie'],
    superadminCredentials: { identifier: 'superadmin', password: 'superadmin' },
    requireVerification: false,
    cookieOptions: { secret: 'test-shop-only' },
  },
  dbConnectionOptions: dbConnectionOptions(),
  paymentOptions: { paymentMethodHandlers: [dummyPaymentHandler] },
  logger: new DefaultLogger({ level: process.env.VENDURE_LOG_DEBUG ? LogLevel.Debug : LogLevel.Warn }),
  plugins: [
    PosPlugin,
    DefaultJobQueuePlugin.init({ useDatabaseForBuffer: true }),
    DefaultSearchPlugin.init({ bufferUpdates: false, indexStockStatus: true }),
  ],
};
