-- 0002_sync: what the web-shop sync (pos-sync) keeps on the terminal, so that its workers
-- survive restarts with no state outside this file. Append-only like every migration; every
-- table is STRICT; times are unix milliseconds (UTC).

-- Scalar sync state by key: the change-feed cursor ("cursor"), whether the initial import has
-- finished ("import_done"), the shop's stock location of this terminal ("shop_location_id").
CREATE TABLE sync_state (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The shop's sellable stock (stockOnHand − stockAllocated) of a variant at this terminal's
-- location, as last read from the shop. The register shows
--   stock.on_hand = shop_stock.sellable − (units of this terminal's sales not yet delivered).
CREATE TABLE shop_stock (
    variant_id  TEXT NOT NULL REFERENCES variant (id) ON DELETE CASCADE,
    location_id TEXT NOT NULL,
    sellable    INTEGER NOT NULL,
    read_at     INTEGER NOT NULL,
    PRIMARY KEY (variant_id, location_id)
) STRICT, WITHOUT ROWID;

-- Stock conflicts the shop reported for this terminal's sales (a sale of goods the shop thought
-- were out of stock, or of a SKU it does not know). Listed for a manager; never deleted.
CREATE TABLE stock_conflict (
    id               INTEGER PRIMARY KEY,
    -- The shop's id of the conflict: a repeated delivery reports the same one again.
    shop_conflict_id TEXT UNIQUE,
    sale_id          TEXT,
    sku              TEXT NOT NULL,
    reason           TEXT NOT NULL,
    requested        INTEGER NOT NULL,
    available_before INTEGER,
    reported_at      INTEGER NOT NULL,
    resolved_at      INTEGER,
    resolution       TEXT
) STRICT;
CREATE INDEX stock_conflict_open ON stock_conflict (id) WHERE resolved_at IS NULL;

-- Differences found by the periodic reconciliation between the register's stock and the
-- shop's (after local undelivered sales): a report for a manager; the local figure is corrected.
CREATE TABLE stock_drift (
    id             INTEGER PRIMARY KEY,
    variant_id     TEXT NOT NULL,
    sku            TEXT NOT NULL,
    location_id    TEXT NOT NULL,
    local_on_hand  INTEGER,
    expected       INTEGER NOT NULL,
    detected_at    INTEGER NOT NULL
) STRICT;

-- The terminal's shop credential, encrypted (ChaCha20-Poly1305; the key is not in this file).
CREATE TABLE shop_credential (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    url        TEXT NOT NULL,
    identifier TEXT NOT NULL,
    nonce      BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
