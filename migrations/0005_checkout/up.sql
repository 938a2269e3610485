-- 0005_checkout: the audit trail of sensitive till actions, and parked sales.
-- Append-only like every migration; STRICT; times are unix milliseconds (UTC).

-- Every sensitive action (price overrides, discounts, line and sale voids, failed approvals,
-- reprints…), one row each, never changed. Each row carries the SHA-256 of the previous row's
-- hash and its own canonical content (see pos-store's audit.rs), so editing or deleting a row
-- breaks the chain from that row on, and `Store::verify_audit` finds it.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY CHECK (seq > 0), -- 1, 2, 3… without gaps
    at          INTEGER NOT NULL,
    terminal_id TEXT NOT NULL,
    -- "price_override", "line_discount", "order_discount", "line_void", "sale_void",
    -- "approval_failed", "sale_parked", "sale_resumed", "receipt_reprinted", …
    action      TEXT NOT NULL,
    -- Who did or asked for it, and who approved it (NULL: their own permission sufficed).
    user_id     TEXT,
    approver_id TEXT,
    -- The sale in progress (its future id) or the completed sale concerned.
    sale_ref    TEXT,
    -- What exactly: line, amounts before and after, the reason. JSON, hashed as stored.
    detail      TEXT NOT NULL CHECK (json_valid(detail)),
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE
) STRICT;

CREATE TRIGGER audit_log_is_append_only_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_is_append_only_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Sales set aside to serve the next customer; resumed later on the same terminal (also after
-- a restart, also on another day). The cart is pos_core::Cart as JSON; the other columns are
-- what the list shows.
CREATE TABLE parked_sale (
    id           TEXT PRIMARY KEY, -- the sale's future UUID
    terminal_id  TEXT NOT NULL,
    cashier_id   TEXT NOT NULL,
    cashier_name TEXT NOT NULL,
    parked_at    INTEGER NOT NULL,
    line_count   INTEGER NOT NULL CHECK (line_count > 0),
    total_minor  INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    cart         TEXT NOT NULL CHECK (json_valid(cart))
) STRICT;

CREATE INDEX parked_sale_by_terminal ON parked_sale (terminal_id, parked_at);
