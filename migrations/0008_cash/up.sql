-- 0008_cash: cash management. A register session (a shift) per terminal, opened with a float
-- counted by denomination; cash put in or taken out; drawer openings without a sale; the blind
-- counts at the close; and the Z reports that close sessions. Append-only like every
-- migration; STRICT; money is integer minor units; times are unix milliseconds (UTC).
--
-- Invariants kept by the schema itself, whatever the code does:
-- * at most one open session per terminal (partial UNIQUE index);
-- * a closed session, a movement, a count and a Z report are never changed or deleted
--   (triggers);
-- * Z numbers are unique per terminal (PRIMARY KEY); the code takes max + 1 inside the
--   closing transaction, so they also have no gaps.

CREATE TABLE cash_session (
    id                 TEXT PRIMARY KEY, -- UUID
    terminal_id        TEXT NOT NULL,
    currency           TEXT NOT NULL CHECK (currency IN ('EUR', 'USD', 'JPY')),
    opened_at          INTEGER NOT NULL,
    opened_by          TEXT NOT NULL, -- user id
    opened_by_name     TEXT NOT NULL,
    -- 1: opened by the first sale with no float counted (the store does not require one).
    auto_opened        INTEGER NOT NULL CHECK (auto_opened IN (0, 1)),
    float_minor        INTEGER NOT NULL CHECK (float_minor >= 0),
    -- pos_core::cash::DrawerCount as JSON.
    float_count        TEXT NOT NULL CHECK (json_valid(float_count)),
    -- The session's sales are the terminal's receipts numbered above this (receipt numbers
    -- are gap-free per terminal, so no sale is in two sessions or in none while one is open).
    first_after_number INTEGER NOT NULL CHECK (first_after_number >= 0),
    closed_at          INTEGER,
    z_number           INTEGER,
    CHECK ((closed_at IS NULL) = (z_number IS NULL))
) STRICT;
CREATE UNIQUE INDEX cash_session_one_open ON cash_session (terminal_id) WHERE closed_at IS NULL;
CREATE INDEX cash_session_terminal ON cash_session (terminal_id, opened_at);

CREATE TRIGGER cash_session_closed_is_final BEFORE UPDATE ON cash_session
WHEN OLD.closed_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a closed register session cannot change');
END;

CREATE TRIGGER cash_session_is_kept BEFORE DELETE ON cash_session
BEGIN
    SELECT RAISE(ABORT, 'register sessions are never deleted');
END;

-- Cash in, cash out, and drawer openings without a sale (amount 0).
CREATE TABLE cash_movement (
    id           INTEGER PRIMARY KEY,
    session_id   TEXT NOT NULL REFERENCES cash_session (id),
    kind         TEXT NOT NULL CHECK (kind IN ('in', 'out', 'no_sale')),
    amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
    reason       TEXT NOT NULL,
    note         TEXT,
    user_id      TEXT NOT NULL,
    user_name    TEXT NOT NULL,
    -- The manager whose PIN approved it, when the user could not do it alone.
    approver_id  TEXT,
    at           INTEGER NOT NULL,
    CHECK ((kind = 'no_sale') = (amount_minor = 0))
) STRICT;
CREATE INDEX cash_movement_session ON cash_movement (session_id, id);

CREATE TRIGGER cash_movement_is_append_only_update BEFORE UPDATE ON cash_movement
BEGIN
    SELECT RAISE(ABORT, 'cash movements are append-only');
END;

CREATE TRIGGER cash_movement_is_append_only_delete BEFORE DELETE ON cash_movement
BEGIN
    SELECT RAISE(ABORT, 'cash movements are append-only');
END;

-- Every blind count of a closing drawer, kept even when the close did not follow (a crash, a
-- recount): the Z report names the count it used.
CREATE TABLE cash_count (
    id            INTEGER PRIMARY KEY,
    session_id    TEXT NOT NULL REFERENCES cash_session (id),
    counted_minor INTEGER NOT NULL CHECK (counted_minor >= 0),
    -- pos_core::cash::DrawerCount as JSON.
    counts        TEXT NOT NULL CHECK (json_valid(counts)),
    user_id       TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    at            INTEGER NOT NULL
) STRICT;
CREATE INDEX cash_count_session ON cash_count (session_id, id);

CREATE TRIGGER cash_count_is_append_only_update BEFORE UPDATE ON cash_count
BEGIN
    SELECT RAISE(ABORT, 'drawer counts are append-only');
END;

CREATE TRIGGER cash_count_is_append_only_delete BEFORE DELETE ON cash_count
BEGIN
    SELECT RAISE(ABORT, 'drawer counts are append-only');
END;

-- The Z report that closed a session: numbered 1, 2, 3… per terminal, never changed.
CREATE TABLE z_report (
    terminal_id      TEXT NOT NULL,
    number           INTEGER NOT NULL CHECK (number > 0),
    session_id       TEXT NOT NULL UNIQUE REFERENCES cash_session (id),
    count_id         INTEGER NOT NULL UNIQUE REFERENCES cash_count (id),
    closed_at        INTEGER NOT NULL,
    currency         TEXT NOT NULL CHECK (currency IN ('EUR', 'USD', 'JPY')),
    sales_count      INTEGER NOT NULL CHECK (sales_count >= 0),
    sales_total      INTEGER NOT NULL,
    expected_minor   INTEGER NOT NULL,
    counted_minor    INTEGER NOT NULL,
    over_short_minor INTEGER NOT NULL CHECK (over_short_minor = counted_minor - expected_minor),
    -- The whole report (pos_store::cash::SessionReport) as JSON: what was printed and sent.
    document         TEXT NOT NULL CHECK (json_valid(document)),
    PRIMARY KEY (terminal_id, number)
) STRICT;

CREATE TRIGGER z_report_is_immutable_update BEFORE UPDATE ON z_report
BEGIN
    SELECT RAISE(ABORT, 'a Z report is never changed');
END;

CREATE TRIGGER z_report_is_immutable_delete BEFORE DELETE ON z_report
BEGIN
    SELECT RAISE(ABORT, 'a Z report is never deleted');
END;
