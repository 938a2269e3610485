-- 0003_register_state: the sale in progress on each terminal, saved after every change so that a
-- crash or a power cut brings the cart (and any tenders already taken) back. Append-only like
-- every migration; STRICT; times are unix milliseconds (UTC).
CREATE TABLE register_state (
    terminal_id TEXT PRIMARY KEY,
    -- The pos_core::Cart, the tenders taken so far, the stage and the sale's id, as JSON.
    state       TEXT NOT NULL CHECK (json_valid(state)),
    updated_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
