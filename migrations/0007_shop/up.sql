-- 0007_shop: the number given to the web-shop area, which needed no schema of its own in this
-- release (pickups and conflicts live in sync_state and the outbox, from 0002_sync).
-- Migrations are numbered 1, 2, 3… without gaps and each runs once, so this slot is kept,
-- empty, for 0008_cash to follow it. A later shop schema is a new migration with the next free
-- number; this file, like every released migration, is never edited.
SELECT 1;
