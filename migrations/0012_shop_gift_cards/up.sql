-- Gift cards kept by the web shop (issue 6): what this terminal redeemed or released through the
-- shop's ledger (a journal that is also the offline queue), and the last balance it saw of each
-- card. Rows of shop_gift_card_op are never deleted: a redemption the shop refused when it was
-- delivered stays 'flagged' for a manager (reviewed_at/reviewed_by once looked at).

CREATE TABLE shop_gift_card_op (
    id                 INTEGER PRIMARY KEY,
    op                 TEXT    NOT NULL CHECK (op IN ('redeem', 'release')),
    -- The idempotency key sent to the shop: the tender key for a redeem, 'release:' || it for a release.
    key                TEXT    NOT NULL UNIQUE,
    -- The tender key of the redeem (for both kinds).
    redeem_key         TEXT    NOT NULL,
    number             TEXT    NOT NULL,
    amount_minor       INTEGER NOT NULL CHECK (amount_minor > 0),
    currency           TEXT    NOT NULL,
    -- 1: taken while the shop could not be reached, under the offline policy.
    offline            INTEGER NOT NULL CHECK (offline IN (0, 1)),
    -- queued → sending → delivered | flagged; a queued redeem given back before delivery: cancelled.
    state              TEXT    NOT NULL CHECK (state IN ('queued', 'sending', 'delivered', 'flagged', 'cancelled')),
    created_at         INTEGER NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    last_error         TEXT,
    delivered_at       INTEGER,
    -- Why the shop refused it (INSUFFICIENT_BALANCE, UNKNOWN_CARD, INACTIVE, …) and its balance then.
    flag_reason        TEXT,
    shop_balance_minor INTEGER,
    reviewed_at        INTEGER,
    reviewed_by        TEXT
) STRICT;

CREATE INDEX shop_gift_card_op_by_state ON shop_gift_card_op (state, id);
CREATE INDEX shop_gift_card_op_by_number ON shop_gift_card_op (number, state);

CREATE TABLE shop_gift_card_cache (
    number        TEXT    PRIMARY KEY,
    currency      TEXT    NOT NULL,
    balance_minor INTEGER NOT NULL,
    active        INTEGER NOT NULL CHECK (active IN (0, 1)),
    seen_at       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
