-- 0010_stored_value: stored value sold at the register — gift cards issued and topped up in a
-- sale, customers' account payments, and the customer attached to a sale. Append-only like
-- every migration; STRICT; money is integer minor units; times are unix milliseconds (UTC).
--
-- Invariants kept by the schema itself, whatever the code does:
-- * money is put on a gift card at most once per idempotency key (partial UNIQUE index over
--   the 'issue' and 'top_up' entries that carry a key; the register's key is
--   '<sale id>-L<line number>');
-- * a gift card sold in a sale is activated only after the sale is committed: its activation
--   row is written in the sale's own transaction, and a voided or abandoned sale writes none;
-- * an account payment is recorded once (its id is the key) and its entry once per key.

CREATE UNIQUE INDEX gift_card_entry_load_key ON gift_card_entry (idempotency_key)
    WHERE kind IN ('issue', 'top_up') AND idempotency_key IS NOT NULL;

-- Gift cards sold or topped up in committed sales, to be put on the ledger (local or the web
-- shop's). Written with the sale; done_at is set once the ledger has the money. A row whose
-- ledger refused it keeps its last_error for a manager to see; it is never deleted.
CREATE TABLE gift_card_activation (
    key        TEXT PRIMARY KEY,
    sale_id    TEXT NOT NULL REFERENCES sale (id),
    line_no    INTEGER NOT NULL CHECK (line_no > 0),
    kind       TEXT NOT NULL CHECK (kind IN ('issue', 'top_up')),
    number     TEXT NOT NULL,
    currency   TEXT NOT NULL,
    amount     INTEGER NOT NULL CHECK (amount > 0),
    created_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    done_at    INTEGER
) STRICT;
CREATE INDEX gift_card_activation_pending ON gift_card_activation (created_at)
    WHERE done_at IS NULL;

-- The customer a sale was made for (also inside the sale's document).
CREATE TABLE sale_customer (
    sale_id     TEXT PRIMARY KEY REFERENCES sale (id),
    customer_id TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX sale_customer_customer ON sale_customer (customer_id);

-- What a statement line refers to besides a sale: the account payment's document number.
ALTER TABLE customer_entry ADD COLUMN reference TEXT;
CREATE UNIQUE INDEX customer_entry_payment_key ON customer_entry (idempotency_key)
    WHERE kind = 'payment' AND idempotency_key IS NOT NULL;

-- A customer paying their account at the register: numbered per terminal ('<terminal>-P'
-- series in receipt_series, gap-free), cash counted in the drawer of the register session.
CREATE TABLE account_payment (
    id           TEXT PRIMARY KEY, -- UUID, also the ledger key
    series       TEXT NOT NULL,
    number       INTEGER NOT NULL CHECK (number > 0),
    terminal_id  TEXT NOT NULL,
    session_id   TEXT REFERENCES cash_session (id),
    customer_id  TEXT NOT NULL REFERENCES customer (id),
    tender       TEXT NOT NULL CHECK (tender IN ('cash', 'card')),
    currency     TEXT NOT NULL,
    amount       INTEGER NOT NULL CHECK (amount > 0),
    -- Cash handed over (>= amount for cash; the change is handed back).
    tendered     INTEGER NOT NULL CHECK (tendered >= amount),
    reference    TEXT,
    cashier_id   TEXT NOT NULL,
    cashier_name TEXT NOT NULL,
    at           INTEGER NOT NULL,
    UNIQUE (series, number)
) STRICT;
CREATE INDEX account_payment_session ON account_payment (session_id) WHERE tender = 'cash';

CREATE TRIGGER account_payment_is_append_only_update BEFORE UPDATE ON account_payment
BEGIN
    SELECT RAISE(ABORT, 'account payments are append-only');
END;
CREATE TRIGGER account_payment_is_append_only_delete BEFORE DELETE ON account_payment
BEGIN
    SELECT RAISE(ABORT, 'account payments are append-only');
END;
