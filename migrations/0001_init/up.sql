-- 0001_init: the terminal's first schema. Migrations are append-only: never edit this file once
-- released; add migrations/NNNN_name/up.sql instead. Every table is STRICT.
-- Times are unix milliseconds (UTC) in INTEGER columns. Money is integer minor units plus an
-- ISO 4217 currency code.

-- Store settings as typed keys (see pos_store::settings).
CREATE TABLE setting (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- ---------------------------------------------------------------- catalog

CREATE TABLE tax_category (
    code     TEXT PRIMARY KEY,
    rate_bps INTEGER NOT NULL CHECK (rate_bps BETWEEN 0 AND 10000),
    reduced  INTEGER NOT NULL DEFAULT 0 CHECK (reduced IN (0, 1)),
    -- Display names by language tag, a JSON object: {"en": "...", "es": "...", "ja": "..."}.
    names    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(names))
) STRICT;

CREATE TABLE product (
    id          TEXT PRIMARY KEY,
    description TEXT,
    by_weight   INTEGER NOT NULL DEFAULT 0 CHECK (by_weight IN (0, 1)),
    tax_code    TEXT NOT NULL REFERENCES tax_category (code),
    image_url   TEXT,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE product_name (
    product_id TEXT NOT NULL REFERENCES product (id) ON DELETE CASCADE,
    lang       TEXT NOT NULL,
    name       TEXT NOT NULL,
    PRIMARY KEY (product_id, lang)
) STRICT, WITHOUT ROWID;
-- Prefix search for queries too short for the trigram index (see pos_store::catalog::search).
CREATE INDEX product_name_prefix ON product_name (name COLLATE NOCASE);

CREATE TABLE variant (
    -- Stable integer key: the row id of the variant's search document in catalog_search.
    rid             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    product_id      TEXT NOT NULL REFERENCES product (id) ON DELETE CASCADE,
    sku             TEXT NOT NULL UNIQUE,
    -- Per unit, or per kilogram when the product is sold by weight.
    price_minor     INTEGER NOT NULL CHECK (price_minor >= 0),
    currency        TEXT NOT NULL CHECK (currency IN ('EUR', 'USD', 'JPY')),
    -- Ids of the same product/variant in the web shop, once linked by the sync engine.
    shop_product_id TEXT,
    shop_variant_id TEXT,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX variant_product ON variant (product_id);

CREATE TABLE barcode (
    code       TEXT PRIMARY KEY,
    variant_id TEXT NOT NULL REFERENCES variant (id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX barcode_variant ON barcode (variant_id);

CREATE TABLE location (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
) STRICT;

-- Stock on hand: units, or grams for products sold by weight. May go negative: goods in the
-- customer's hand are always sold, and the count is corrected later.
CREATE TABLE stock (
    variant_id  TEXT NOT NULL REFERENCES variant (id) ON DELETE CASCADE,
    location_id TEXT NOT NULL REFERENCES location (id),
    on_hand     INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (variant_id, location_id)
) STRICT, WITHOUT ROWID;

-- Full-text search over every name (all languages), the SKU and the barcodes of a variant.
-- rowid = variant.rid. Contentless: the text lives in the catalog tables; the upsert code in
-- pos_store::catalog keeps this index in step with them.
CREATE VIRTUAL TABLE catalog_search USING fts5 (
    names, sku, barcodes,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram remove_diacritics 1'
);

-- ---------------------------------------------------------------- staff

CREATE TABLE user (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('cashier', 'manager', 'admin')),
    -- argon2id PHC string; the PIN itself is never stored.
    pin_hash   TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at INTEGER NOT NULL
) STRICT;

-- PIN-only login cannot tell whose PIN a wrong guess was, so wrong guesses are counted per
-- terminal (this database), and survive a restart.
CREATE TABLE login_lockout (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    failed_in_a_row INTEGER NOT NULL DEFAULT 0 CHECK (failed_in_a_row >= 0),
    locked_until    INTEGER
) STRICT;
INSERT INTO login_lockout (id, failed_in_a_row, locked_until) VALUES (1, 0, NULL);

-- ---------------------------------------------------------------- sales

-- Gap-free receipt numbers: one counter per series (one series per terminal).
CREATE TABLE receipt_series (
    series      TEXT PRIMARY KEY,
    last_number INTEGER NOT NULL CHECK (last_number >= 0)
) STRICT;

CREATE TABLE sale (
    id              TEXT PRIMARY KEY, -- UUID
    series          TEXT NOT NULL,
    number          INTEGER NOT NULL CHECK (number > 0),
    terminal_id     TEXT NOT NULL,
    cashier_id      TEXT NOT NULL,
    location_id     TEXT NOT NULL REFERENCES location (id),
    at              INTEGER NOT NULL,
    currency        TEXT NOT NULL CHECK (currency IN ('EUR', 'USD', 'JPY')),
    total_minor     INTEGER NOT NULL,
    tax_total_minor INTEGER NOT NULL,
    -- The whole pos_core::CompletedSale as JSON, for an exact reprint.
    document        TEXT NOT NULL CHECK (json_valid(document)),
    UNIQUE (series, number)
) STRICT;
CREATE INDEX sale_terminal_at ON sale (terminal_id, at);

CREATE TABLE sale_line (
    sale_id              TEXT NOT NULL REFERENCES sale (id),
    line_no              INTEGER NOT NULL,
    variant_id           TEXT NOT NULL, -- no FK: the catalog may change, the sale may not
    sku                  TEXT NOT NULL,
    names                TEXT NOT NULL CHECK (json_valid(names)),
    barcode              TEXT,
    units                INTEGER,
    grams                INTEGER,
    unit_price_minor     INTEGER NOT NULL,
    extended_minor       INTEGER NOT NULL,
    line_discount_minor  INTEGER NOT NULL,
    order_discount_minor INTEGER NOT NULL,
    amount_minor         INTEGER NOT NULL,
    tax_code             TEXT NOT NULL,
    tax_bps              INTEGER NOT NULL,
    CHECK ((units IS NULL) <> (grams IS NULL)),
    PRIMARY KEY (sale_id, line_no)
) STRICT, WITHOUT ROWID;

CREATE TABLE sale_payment (
    sale_id      TEXT NOT NULL REFERENCES sale (id),
    seq          INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('cash', 'card', 'gift_card', 'store_credit', 'account')),
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    reference    TEXT,
    PRIMARY KEY (sale_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE sale_tax (
    sale_id     TEXT NOT NULL REFERENCES sale (id),
    code        TEXT NOT NULL,
    bps         INTEGER NOT NULL,
    reduced     INTEGER NOT NULL CHECK (reduced IN (0, 1)),
    net_minor   INTEGER NOT NULL,
    tax_minor   INTEGER NOT NULL,
    gross_minor INTEGER NOT NULL,
    PRIMARY KEY (sale_id, code)
) STRICT, WITHOUT ROWID;

-- ---------------------------------------------------------------- outbox

-- Events for the web shop, written in the same transaction as what they describe and drained
-- by the sync worker. idempotency_key makes a redelivery harmless on the shop's side.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    aggregate_id    TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL CHECK (json_valid(payload)),
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT
) STRICT;
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL;
