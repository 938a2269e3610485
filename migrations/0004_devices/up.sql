-- 0004_devices: the durable device queues of each terminal. Append-only like every migration;
-- STRICT.
--
-- print_jobs: receipts waiting for the printer (paper out, cover open, offline) survive a restart
-- and print once. `seq` is the submission order; a job id is accepted once per terminal. The
-- bytes of a printed job are dropped (the sale itself can be printed again), its row stays so
-- that the same id is never printed twice.
CREATE TABLE print_jobs (
    seq         INTEGER PRIMARY KEY,
    terminal_id TEXT NOT NULL,
    job_id      TEXT NOT NULL,
    bytes       BLOB NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued', 'printing', 'printed', 'interrupted')),
    UNIQUE (terminal_id, job_id)
) STRICT;
CREATE INDEX print_jobs_by_state ON print_jobs (terminal_id, state, seq);

-- pending_payments: every card payment attempt, written before the payment terminal is asked
-- (pos_hardware::payment::PendingPayment as JSON). `in_flight` is 1 while the outcome is not
-- established; `receipt_no` is the terminal's receipt number of an approval, so recovery can
-- tell whether a transaction found on the terminal is already attributed.
CREATE TABLE pending_payments (
    terminal_id TEXT NOT NULL,
    ref_id      TEXT NOT NULL,
    record      TEXT NOT NULL CHECK (json_valid(record)),
    in_flight   INTEGER NOT NULL CHECK (in_flight IN (0, 1)),
    receipt_no  INTEGER,
    PRIMARY KEY (terminal_id, ref_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX pending_payments_in_flight ON pending_payments (terminal_id, in_flight);
CREATE INDEX pending_payments_receipt ON pending_payments (terminal_id, receipt_no);

-- The last receipt number seen from the payment terminal (recovery's baseline).
CREATE TABLE payment_terminal_cursor (
    terminal_id     TEXT PRIMARY KEY,
    last_receipt_no INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
