-- 0013_remote_sales: returns of sales made on other terminals or online, fetched from the shop.
--
-- A sale this terminal did not make is fetched from the web shop when a manager looks it up for
-- a return (the shop keeps every terminal's sale document and every terminal's returns). It is
-- kept here so the return can be priced, committed, reprinted and resumed after a crash:
-- * remote_sale: the sale as the shop gave it (a pos_core::CompletedSale as JSON; an online
--   order is turned into one by the register). Refreshed on every lookup, never used for
--   this terminal's own figures (X/Z reports read `sale` only).
-- * remote_sale_return: the returns of a sale — a remote one, or one of this terminal's own —
--   that the shop knew of at the last lookup, made on any terminal (this one's included once
--   delivered; readers dedupe by return id). Replaced on every lookup. They cap what may still
--   be returned here. No foreign key: the sale is in `sale` or in `remote_sale`.
-- * sale_return_remote: which of this terminal's returns correct a remote sale. Such a return
--   has original_sale_id NULL in sale_return (its foreign key names local sales only); its
--   document names the original sale. Never changed or deleted, like the return itself.

CREATE TABLE remote_sale (
    id          TEXT PRIMARY KEY, -- the sale's UUID (online orders: derived from the order code)
    source      TEXT NOT NULL CHECK (source IN ('pos', 'online')),
    -- What the customer has: the receipt number ("T02-000123") or the web order's code.
    code        TEXT NOT NULL,
    order_code  TEXT,
    terminal_id TEXT,
    at          INTEGER NOT NULL,
    document    TEXT NOT NULL CHECK (json_valid(document)),
    -- The shop's gift cards that paid it: {"<sale id>-<tender position>": "<card number>"}, so a
    -- refund goes back onto the card (this register's ledger has no entry of that redeem).
    gift_cards  TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(gift_cards)),
    fetched_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX remote_sale_code ON remote_sale (code);

CREATE TABLE remote_sale_return (
    sale_id     TEXT NOT NULL,
    return_id   TEXT NOT NULL,
    terminal_id TEXT NOT NULL,
    document    TEXT NOT NULL CHECK (json_valid(document)),
    PRIMARY KEY (sale_id, return_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE sale_return_remote (
    return_id      TEXT PRIMARY KEY REFERENCES sale_return (id),
    remote_sale_id TEXT NOT NULL REFERENCES remote_sale (id)
) STRICT, WITHOUT ROWID;
CREATE INDEX sale_return_remote_sale ON sale_return_remote (remote_sale_id);

CREATE TRIGGER sale_return_remote_is_immutable_update BEFORE UPDATE ON sale_return_remote
BEGIN
    SELECT RAISE(ABORT, 'a return is never changed');
END;
CREATE TRIGGER sale_return_remote_is_immutable_delete BEFORE DELETE ON sale_return_remote
BEGIN
    SELECT RAISE(ABORT, 'a return is never deleted');
END;
