-- 0006_tenders: the local ledgers behind the non-cash tenders (gift cards, a customer's store
-- credit and account) and the queue of receipts to e-mail. Append-only like every migration;
-- STRICT; money is integer minor units; times are unix milliseconds (UTC).
--
-- Invariants kept by the schema itself, whatever the code does:
-- * a balance never goes below zero, an account never above its limit (CHECKs);
-- * a debit is recorded once per idempotency key (the sale's id and the tender's position):
--   at most one live (not released) debit per key (partial UNIQUE index).

CREATE TABLE gift_card (
    -- The number as printed on the card / in its barcode (digits and letters, no spaces).
    number      TEXT PRIMARY KEY,
    currency    TEXT NOT NULL,
    balance     INTEGER NOT NULL CHECK (balance >= 0),
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE gift_card_entry (
    id              INTEGER PRIMARY KEY,
    number          TEXT NOT NULL REFERENCES gift_card (number),
    -- issue, top_up: money onto the card; redeem: a tender; release: a redeem given back.
    kind            TEXT NOT NULL CHECK (kind IN ('issue', 'top_up', 'redeem', 'release')),
    -- Signed: redeem negative, the others positive.
    amount          INTEGER NOT NULL,
    balance_after   INTEGER NOT NULL CHECK (balance_after >= 0),
    idempotency_key TEXT,
    -- For a redeem: 1 once it has been released (its money is back on the card).
    released        INTEGER NOT NULL DEFAULT 0 CHECK (released IN (0, 1)),
    at              INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX gift_card_entry_live_key ON gift_card_entry (idempotency_key)
    WHERE kind = 'redeem' AND released = 0;
CREATE INDEX gift_card_entry_number ON gift_card_entry (number, id);

CREATE TABLE customer (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    email           TEXT,
    phone           TEXT,
    currency        TEXT NOT NULL,
    -- What the store owes the customer (returns, goodwill); spent as a tender.
    store_credit    INTEGER NOT NULL DEFAULT 0 CHECK (store_credit >= 0),
    -- NULL: no account. Otherwise what the customer may owe at most.
    account_limit   INTEGER CHECK (account_limit IS NULL OR account_limit >= 0),
    -- What the customer owes on account (invoiced later).
    account_balance INTEGER NOT NULL DEFAULT 0 CHECK (account_balance >= 0),
    created_at      INTEGER NOT NULL,
    CHECK (account_limit IS NOT NULL OR account_balance = 0),
    CHECK (account_limit IS NULL OR account_balance <= account_limit)
) STRICT, WITHOUT ROWID;
CREATE INDEX customer_name ON customer (name COLLATE NOCASE);

CREATE TABLE customer_entry (
    id              INTEGER PRIMARY KEY,
    customer_id     TEXT NOT NULL REFERENCES customer (id),
    -- store_credit: the customer's credit balance; account: what the customer owes.
    ledger          TEXT NOT NULL CHECK (ledger IN ('store_credit', 'account')),
    kind            TEXT NOT NULL CHECK (kind IN ('credit', 'charge', 'payment', 'release')),
    -- Signed change of the ledger's balance.
    amount          INTEGER NOT NULL,
    balance_after   INTEGER NOT NULL CHECK (balance_after >= 0),
    idempotency_key TEXT,
    released        INTEGER NOT NULL DEFAULT 0 CHECK (released IN (0, 1)),
    at              INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX customer_entry_live_key ON customer_entry (idempotency_key)
    WHERE kind = 'charge' AND released = 0;
CREATE INDEX customer_entry_customer ON customer_entry (customer_id, id);

-- Receipts to e-mail: queued by the register (never waiting for the network), sent by a
-- background worker with retries. A row is never deleted; a sent row keeps its sent_at.
CREATE TABLE email_outbox (
    id              INTEGER PRIMARY KEY,
    sale_id         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    html            TEXT NOT NULL,
    text            TEXT NOT NULL,
    attachment_name TEXT NOT NULL,
    attachment      BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    sent_at         INTEGER,
    UNIQUE (sale_id, recipient)
) STRICT;
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE sent_at IS NULL;
