//! The schema, as versions applied in order; `PRAGMA user_version` says how
//! many are applied. A version is never edited once shipped: add another.

pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE delegates (
    code        TEXT PRIMARY KEY NOT NULL CHECK (code <> ''),
    name        TEXT NOT NULL CHECK (name <> ''),
    delegation  TEXT NOT NULL DEFAULT '',
    seat        TEXT NOT NULL DEFAULT '',
    extra       TEXT NOT NULL DEFAULT '{}',
    updated_at  TEXT NOT NULL
);
CREATE TABLE templates (
    id            INTEGER PRIMARY KEY,
    delegate_code TEXT NOT NULL REFERENCES delegates(code) ON DELETE CASCADE ON UPDATE CASCADE,
    model         TEXT NOT NULL,
    embedding     BLOB NOT NULL,
    photo         TEXT NOT NULL,
    photo_sha256  TEXT NOT NULL,
    quality       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (delegate_code, photo, model)
);
CREATE INDEX templates_by_model ON templates(model);
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE CHECK (name <> ''),
    opens       TEXT,
    closes      TEXT,
    created_at  TEXT NOT NULL
);
CREATE TABLE attendance (
    session_id    INTEGER NOT NULL REFERENCES sessions(id),
    delegate_code TEXT NOT NULL REFERENCES delegates(code) ON UPDATE CASCADE,
    checked_in_at TEXT NOT NULL,
    method        TEXT NOT NULL CHECK (method IN ('face', 'manual', 'search')),
    kiosk         TEXT NOT NULL,
    score         REAL,
    PRIMARY KEY (session_id, delegate_code)
);
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
"#,
    r#"
ALTER TABLE templates ADD COLUMN thumbnail BLOB;
"#,
    // A removed delegate who attended a session keeps their row, so that the
    // lists of that session stay whole; everywhere else they are gone.
    // Lookalike pairs found at enrolment; face snapshots of check-ins (when configured).
    r#"
ALTER TABLE delegates ADD COLUMN removed_at TEXT;
ALTER TABLE attendance ADD COLUMN snapshot BLOB;
CREATE TABLE lookalikes (
    code_a  TEXT NOT NULL REFERENCES delegates(code) ON DELETE CASCADE ON UPDATE CASCADE,
    code_b  TEXT NOT NULL REFERENCES delegates(code) ON DELETE CASCADE ON UPDATE CASCADE,
    model   TEXT NOT NULL,
    score   REAL NOT NULL,
    PRIMARY KEY (model, code_a, code_b),
    CHECK (code_a < code_b)
);
"#,
    // How many camera frames agreed on a face check-in, beside their score.
    r#"
ALTER TABLE attendance ADD COLUMN frames INTEGER;
"#,
    // The threshold calibrated on the enrolled gallery, per model.
    r#"
CREATE TABLE calibration (
    model          TEXT PRIMARY KEY NOT NULL,
    threshold      REAL NOT NULL,
    expected_fpir  REAL NOT NULL,
    people         INTEGER NOT NULL,
    pairs          INTEGER NOT NULL,
    at             TEXT NOT NULL
);
"#,
    // A copy of a shared ledger: what it is a copy of, and the changes made
    // here that the ledger has not taken yet (see store/replica.rs).
    r#"
CREATE TABLE ledger_state (
    name   TEXT PRIMARY KEY NOT NULL,
    value  TEXT NOT NULL
);
CREATE TABLE outbox (
    id   INTEGER PRIMARY KEY,
    tbl  TEXT NOT NULL,
    key  TEXT NOT NULL
);
"#,
    // v7: faces the liveness check refused, kept (with kiosk.save_snapshots)
    // on the kiosk that saw them and named by their audit entry.
    r#"
CREATE TABLE refused_snapshots (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    session TEXT NOT NULL,
    jpeg BLOB NOT NULL
);
"#,
    // v8: delegate badges, kept only as the SHA-256 of each token ever issued
    // (a replaced one stays, to be refused as such); the 1:1 threshold a
    // badge's face is checked with; the badge check-in methods (SQLite cannot
    // change a CHECK: attendance is rebuilt).
    r#"
ALTER TABLE calibration ADD COLUMN one_to_one REAL;
CREATE TABLE badges (
    token_sha256  TEXT PRIMARY KEY NOT NULL,
    delegate_code TEXT NOT NULL REFERENCES delegates(code) ON DELETE CASCADE ON UPDATE CASCADE,
    serial        INTEGER NOT NULL,
    replaced_at   TEXT,
    UNIQUE (delegate_code, serial)
);
CREATE TABLE attendance_v8 (
    session_id    INTEGER NOT NULL REFERENCES sessions(id),
    delegate_code TEXT NOT NULL REFERENCES delegates(code) ON UPDATE CASCADE,
    checked_in_at TEXT NOT NULL,
    method        TEXT NOT NULL CHECK (method IN ('face', 'manual', 'search', 'badge', 'badge_only')),
    kiosk         TEXT NOT NULL,
    score         REAL,
    snapshot      BLOB,
    frames        INTEGER,
    PRIMARY KEY (session_id, delegate_code)
);
INSERT INTO attendance_v8 (session_id, delegate_code, checked_in_at, method, kiosk, score, snapshot, frames)
    SELECT session_id, delegate_code, checked_in_at, method, kiosk, score, snapshot, frames FROM attendance;
DROP TABLE attendance;
ALTER TABLE attendance_v8 RENAME TO attendance;
"#,
];
