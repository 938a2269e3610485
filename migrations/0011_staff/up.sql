-- 0011_staff: roles with an editable permission matrix, custom roles, clock-in shifts with
-- corrections kept beside the originals.
--
-- The user table had CHECK (role IN ('cashier', 'manager', 'admin')), which SQLite cannot
-- alter: it is rebuilt here with the same rows (ids, names, PIN hashes, active flags, creation
-- times and rowids, which give the users' order). The PIN lockout lives in login_lockout and is
-- untouched. No table has a foreign key to user, so the rebuild needs no pragma.

CREATE TABLE role (
    code       TEXT PRIMARY KEY,
    -- Display name (built-in roles are named by the UI in the user's language).
    name       TEXT NOT NULL CHECK (length(trim(name)) > 0),
    builtin    INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1)),
    created_at INTEGER NOT NULL
) STRICT;

-- The matrix: one row per role and permission code. A permission without a row (added to the
-- program later) takes the built-in role's default; a custom role does not have it.
CREATE TABLE role_permission (
    role_code  TEXT NOT NULL REFERENCES role (code) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    granted    INTEGER NOT NULL CHECK (granted IN (0, 1)),
    PRIMARY KEY (role_code, permission)
) STRICT, WITHOUT ROWID;

INSERT INTO role (code, name, builtin, created_at) VALUES
    ('cashier', 'Cashier', 1, 0),
    ('manager', 'Manager', 1, 0),
    ('admin', 'Administrator', 1, 0);

-- Today's defaults (pos_core::auth::Role::allows_by_default), so nothing changes on upgrade.
INSERT INTO role_permission (role_code, permission, granted) VALUES
    ('cashier', 'sell', 1),
    ('cashier', 'line_discount', 0),
    ('cashier', 'order_discount', 0),
    ('cashier', 'price_override', 0),
    ('cashier', 'void_line', 1),
    ('cashier', 'void_sale', 0),
    ('cashier', 'no_sale', 0),
    ('cashier', 'refund', 0),
    ('cashier', 'cash_in_out', 0),
    ('cashier', 'end_of_day', 0),
    ('cashier', 'manage_users', 0),
    ('cashier', 'manage_settings', 0),
    ('cashier', 'open_register', 1),
    ('cashier', 'manage_shifts', 0),
    ('cashier', 'view_audit', 0),
    ('manager', 'sell', 1),
    ('manager', 'line_discount', 1),
    ('manager', 'order_discount', 1),
    ('manager', 'price_override', 1),
    ('manager', 'void_line', 1),
    ('manager', 'void_sale', 1),
    ('manager', 'no_sale', 1),
    ('manager', 'refund', 1),
    ('manager', 'cash_in_out', 1),
    ('manager', 'end_of_day', 1),
    ('manager', 'manage_users', 0),
    ('manager', 'manage_settings', 0),
    ('manager', 'open_register', 1),
    ('manager', 'manage_shifts', 1),
    ('manager', 'view_audit', 1),
    ('admin', 'sell', 1),
    ('admin', 'line_discount', 1),
    ('admin', 'order_discount', 1),
    ('admin', 'price_override', 1),
    ('admin', 'void_line', 1),
    ('admin', 'void_sale', 1),
    ('admin', 'no_sale', 1),
    ('admin', 'refund', 1),
    ('admin', 'cash_in_out', 1),
    ('admin', 'end_of_day', 1),
    ('admin', 'manage_users', 1),
    ('admin', 'manage_settings', 1),
    ('admin', 'open_register', 1),
    ('admin', 'manage_shifts', 1),
    ('admin', 'view_audit', 1);

CREATE TRIGGER role_builtin_is_kept BEFORE DELETE ON role WHEN old.builtin = 1
BEGIN
    SELECT RAISE(ABORT, 'built-in roles cannot be deleted');
END;

-- Nobody can lock the store out: the admin role keeps manage_users and manage_settings.
CREATE TRIGGER role_admin_keeps_the_keys_insert BEFORE INSERT ON role_permission
WHEN new.role_code = 'admin' AND new.permission IN ('manage_users', 'manage_settings') AND new.granted = 0
BEGIN
    SELECT RAISE(ABORT, 'the admin role keeps manage_users and manage_settings');
END;
CREATE TRIGGER role_admin_keeps_the_keys_update BEFORE UPDATE ON role_permission
WHEN old.role_code = 'admin' AND old.permission IN ('manage_users', 'manage_settings')
     AND (new.granted = 0 OR new.role_code <> 'admin' OR new.permission <> old.permission)
BEGIN
    SELECT RAISE(ABORT, 'the admin role keeps manage_users and manage_settings');
END;
CREATE TRIGGER role_admin_keeps_the_keys_delete BEFORE DELETE ON role_permission
WHEN old.role_code = 'admin' AND old.permission IN ('manage_users', 'manage_settings')
BEGIN
    SELECT RAISE(ABORT, 'the admin role keeps manage_users and manage_settings');
END;

CREATE TABLE user_rebuilt (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL REFERENCES role (code),
    -- argon2id PHC string; the PIN itself is never stored.
    pin_hash   TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at INTEGER NOT NULL
) STRICT;
INSERT INTO user_rebuilt (rowid, id, name, role, pin_hash, active, created_at)
    SELECT rowid, id, name, role, pin_hash, active, created_at FROM user ORDER BY rowid;
DROP TABLE user;
ALTER TABLE user_rebuilt RENAME TO user;
CREATE INDEX user_role ON user (role);

-- ---------------------------------------------------------------- clock in / clock out

-- One row per clock-in. The clock-out fills ended_at once; after that the row never changes
-- (a manager's correction is a new shift_correction row, the original stays as it was).
CREATE TABLE shift (
    id                TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL REFERENCES user (id),
    terminal_id       TEXT NOT NULL,
    started_at        INTEGER NOT NULL,
    ended_at          INTEGER,
    ended_terminal_id TEXT,
    CHECK (ended_at IS NULL OR ended_at >= started_at)
) STRICT;
CREATE INDEX shift_user_start ON shift (user_id, started_at);
CREATE INDEX shift_start ON shift (started_at);

-- A correction of a shift's times by someone with manage_shifts, with a reason. The latest
-- correction of a shift is what counts; every earlier one and the original stay readable.
CREATE TABLE shift_correction (
    id           INTEGER PRIMARY KEY,
    shift_id     TEXT NOT NULL REFERENCES shift (id),
    started_at   INTEGER NOT NULL,
    ended_at     INTEGER NOT NULL,
    reason       TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    corrected_by TEXT NOT NULL REFERENCES user (id),
    corrected_at INTEGER NOT NULL,
    CHECK (ended_at >= started_at)
) STRICT;
CREATE INDEX shift_correction_shift ON shift_correction (shift_id, id);

-- What counts: each shift with its latest correction applied.
CREATE VIEW shift_effective AS
SELECT s.id AS id, s.user_id AS user_id, s.terminal_id AS terminal_id,
       coalesce(c.started_at, s.started_at) AS started_at,
       CASE WHEN c.id IS NULL THEN s.ended_at ELSE c.ended_at END AS ended_at,
       s.started_at AS original_started_at, s.ended_at AS original_ended_at,
       c.id AS correction_id
FROM shift s
LEFT JOIN shift_correction c
       ON c.id = (SELECT max(id) FROM shift_correction WHERE shift_id = s.id);

-- One open shift per user (a corrected shift is closed).
CREATE TRIGGER shift_one_open_per_user BEFORE INSERT ON shift
WHEN EXISTS (SELECT 1 FROM shift s WHERE s.user_id = new.user_id AND s.ended_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM shift_correction c WHERE c.shift_id = s.id))
BEGIN
    SELECT RAISE(ABORT, 'the user is already clocked in');
END;
CREATE TRIGGER shift_closes_once BEFORE UPDATE ON shift
WHEN old.ended_at IS NOT NULL OR new.ended_at IS NULL OR new.id <> old.id
     OR new.user_id <> old.user_id OR new.terminal_id <> old.terminal_id
     OR new.started_at <> old.started_at
BEGIN
    SELECT RAISE(ABORT, 'a shift is only ever clocked out once; correct it instead');
END;
CREATE TRIGGER shift_is_kept BEFORE DELETE ON shift
BEGIN
    SELECT RAISE(ABORT, 'shifts are never deleted');
END;
CREATE TRIGGER shift_correction_is_append_only_update BEFORE UPDATE ON shift_correction
BEGIN
    SELECT RAISE(ABORT, 'shift corrections are append-only');
END;
CREATE TRIGGER shift_correction_is_append_only_delete BEFORE DELETE ON shift_correction
BEGIN
    SELECT RAISE(ABORT, 'shift corrections are append-only');
END;
