-- 0009_returns: returns, refunds and exchanges. A return is its own immutable document with a
-- gap-free number in the terminal's return series (counted in receipt_series like sales, under
-- the series "<terminal>R"), referencing the sale it corrects (Spain: factura rectificativa).
-- Append-only like every migration; STRICT; money is integer minor units; times are unix
-- milliseconds (UTC).
--
-- Invariants kept by the schema itself, whatever the code does:
-- * a return, its lines and its refunds are never changed or deleted (triggers);
-- * amounts are stored with the sign of the money's direction: a return's total and its
--   lines are negative (money back to the customer), refunds are what went back (positive);
-- * a line is either back to stock or written off with a reason.

CREATE TABLE sale_return (
    id                TEXT PRIMARY KEY, -- UUID
    series            TEXT NOT NULL,
    number            INTEGER NOT NULL CHECK (number > 0),
    terminal_id       TEXT NOT NULL,
    cashier_id        TEXT NOT NULL,
    approver_id       TEXT,
    location_id       TEXT NOT NULL,
    -- The register session whose drawer paid any cash back (X and Z reports).
    session_id        TEXT,
    -- The sale it corrects; NULL for a return without a receipt.
    original_sale_id  TEXT REFERENCES sale (id),
    original_series   TEXT,
    original_number   INTEGER,
    at                INTEGER NOT NULL,
    currency          TEXT NOT NULL CHECK (currency IN ('EUR', 'USD', 'JPY')),
    total_minor       INTEGER NOT NULL CHECK (total_minor < 0),
    tax_total_minor   INTEGER NOT NULL CHECK (tax_total_minor <= 0),
    -- Cash handed out of the drawer (after cash rounding).
    cash_refund_minor INTEGER NOT NULL CHECK (cash_refund_minor >= 0),
    -- The whole pos_core::returns::CompletedReturn as JSON, for an exact reprint.
    document          TEXT NOT NULL CHECK (json_valid(document)),
    UNIQUE (series, number),
    CHECK ((original_sale_id IS NULL) = (original_number IS NULL))
) STRICT;
CREATE INDEX sale_return_original ON sale_return (original_sale_id);
CREATE INDEX sale_return_session ON sale_return (session_id);

CREATE TABLE sale_return_line (
    return_id     TEXT NOT NULL REFERENCES sale_return (id),
    line_no       INTEGER NOT NULL,
    -- The line's position in the original sale (NULL without a receipt).
    sale_line_no  INTEGER,
    variant_id    TEXT NOT NULL,
    sku           TEXT NOT NULL,
    units         INTEGER,
    grams         INTEGER,
    amount_minor  INTEGER NOT NULL CHECK (amount_minor <= 0),
    tax_code      TEXT NOT NULL,
    disposition   TEXT NOT NULL CHECK (disposition IN ('restock', 'write_off')),
    reason        TEXT,
    CHECK ((units IS NULL) <> (grams IS NULL)),
    CHECK ((disposition = 'write_off') = (reason IS NOT NULL)),
    PRIMARY KEY (return_id, line_no)
) STRICT, WITHOUT ROWID;

CREATE TABLE sale_return_refund (
    return_id       TEXT NOT NULL REFERENCES sale_return (id),
    seq             INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('cash', 'card', 'gift_card', 'store_credit', 'account')),
    amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
    -- The original tender's position in the sale, when refunded to it.
    original_tender INTEGER,
    reference       TEXT,
    PRIMARY KEY (return_id, seq)
) STRICT, WITHOUT ROWID;

-- A return being refunded: written before any money moves outside this file (the card
-- terminal, a remote ledger), so that after a crash the same return id — and so the same
-- idempotency keys — is used again and nothing is refunded twice. Removed by the commit.
CREATE TABLE return_draft (
    terminal_id TEXT PRIMARY KEY,
    id          TEXT NOT NULL,
    request     TEXT NOT NULL CHECK (json_valid(request)),
    created_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TRIGGER sale_return_is_immutable_update BEFORE UPDATE ON sale_return
BEGIN
    SELECT RAISE(ABORT, 'a return is never changed');
END;
CREATE TRIGGER sale_return_is_immutable_delete BEFORE DELETE ON sale_return
BEGIN
    SELECT RAISE(ABORT, 'a return is never deleted');
END;
CREATE TRIGGER sale_return_line_is_immutable_update BEFORE UPDATE ON sale_return_line
BEGIN
    SELECT RAISE(ABORT, 'a return is never changed');
END;
CREATE TRIGGER sale_return_line_is_immutable_delete BEFORE DELETE ON sale_return_line
BEGIN
    SELECT RAISE(ABORT, 'a return is never deleted');
END;
CREATE TRIGGER sale_return_refund_is_immutable_update BEFORE UPDATE ON sale_return_refund
BEGIN
    SELECT RAISE(ABORT, 'a return is never changed');
END;
CREATE TRIGGER sale_return_refund_is_immutable_delete BEFORE DELETE ON sale_return_refund
BEGIN
    SELECT RAISE(ABORT, 'a return is never deleted');
END;
