//! The ledger's schema, as versions applied in order (`ledger_schema` says
//! how many). A version is never edited once shipped: add another.
//!
//! Every shared row carries `version`, a number from one counter stamped at
//! each write, and every deletion leaves a tombstone with its own number: a
//! kiosk asks for everything above the number it has. Writers take one lock
//! first (`WRITE_LOCK`), so numbers are handed out in commit order and a
//! reader never skips a row committed late. A statement that changes a
//! shared table wakes the listeners of `kiosk_changes`.

pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE ledger_info (
    id          TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO ledger_info (id) VALUES (md5(random()::text || clock_timestamp()::text));
CREATE SEQUENCE changes;

CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := nextval('changes');
    RETURN NEW;
END $$;

CREATE TABLE tombstones (
    version  BIGINT PRIMARY KEY,
    tbl      TEXT NOT NULL,
    key      TEXT NOT NULL
);

-- The key columns are the trigger's arguments.
CREATE FUNCTION bury() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k jsonb := '[]';
    c text;
BEGIN
    FOREACH c IN ARRAY TG_ARGV LOOP
        k := k || jsonb_build_array(to_jsonb(OLD) ->> c);
    END LOOP;
    INSERT INTO tombstones (version, tbl, key) VALUES (nextval('changes'), TG_TABLE_NAME, k::text);
    RETURN OLD;
END $$;

CREATE FUNCTION announce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('kiosk_changes', TG_TABLE_NAME);
    RETURN NULL;
END $$;

CREATE TABLE delegates (
    code        TEXT PRIMARY KEY CHECK (code <> ''),
    name        TEXT NOT NULL CHECK (name <> ''),
    delegation  TEXT NOT NULL DEFAULT '',
    seat        TEXT NOT NULL DEFAULT '',
    extra       TEXT NOT NULL DEFAULT '{}',
    updated_at  TEXT NOT NULL,
    removed_at  TEXT,
    version     BIGINT NOT NULL
);
CREATE TABLE templates (
    delegate_code  TEXT NOT NULL REFERENCES delegates(code) ON DELETE CASCADE,
    photo          TEXT NOT NULL,
    model          TEXT NOT NULL,
    embedding      BYTEA NOT NULL,
    photo_sha256   TEXT NOT NULL,
    quality        TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    thumbnail      BYTEA,
    version        BIGINT NOT NULL,
    PRIMARY KEY (delegate_code, photo, model)
);
CREATE TABLE sessions (
    name        TEXT PRIMARY KEY CHECK (name <> ''),
    opens       TEXT,
    closes      TEXT,
    created_at  TEXT NOT NULL,
    version     BIGINT NOT NULL
);
-- Exactly one attendance per session and delegate.
CREATE TABLE attendance (
    session        TEXT NOT NULL REFERENCES sessions(name),
    delegate_code  TEXT NOT NULL REFERENCES delegates(code),
    checked_in_at  TEXT NOT NULL,
    method         TEXT NOT NULL CHECK (method IN ('face', 'manual', 'search')),
    kiosk          TEXT NOT NULL,
    score          DOUBLE PRECISION,
    frames         BIGINT,
    snapshot       BYTEA,
    -- Which copy sent it (see sync.rs: a copy's own row is replaced, another's is not).
    origin         TEXT NOT NULL DEFAULT '',
    version        BIGINT NOT NULL,
    PRIMARY KEY (session, delegate_code)
);
CREATE TABLE lookalikes (
    model   TEXT NOT NULL,
    code_a  TEXT NOT NULL REFERENCES delegates(code) ON DELETE CASCADE,
    code_b  TEXT NOT NULL REFERENCES delegates(code) ON DELETE CASCADE,
    score   DOUBLE PRECISION NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (model, code_a, code_b)
);
CREATE TABLE calibration (
    model          TEXT PRIMARY KEY,
    threshold      DOUBLE PRECISION NOT NULL,
    expected_fpir  DOUBLE PRECISION NOT NULL,
    people         BIGINT NOT NULL,
    pairs          BIGINT NOT NULL,
    at             TEXT NOT NULL,
    version        BIGINT NOT NULL
);

CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON delegates FOR EACH ROW EXECUTE FUNCTION stamp();
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON templates FOR EACH ROW EXECUTE FUNCTION stamp();
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION stamp();
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON attendance FOR EACH ROW EXECUTE FUNCTION stamp();
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON lookalikes FOR EACH ROW EXECUTE FUNCTION stamp();
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON calibration FOR EACH ROW EXECUTE FUNCTION stamp();
CREATE TRIGGER bury AFTER DELETE ON delegates FOR EACH ROW EXECUTE FUNCTION bury('code');
CREATE TRIGGER bury AFTER DELETE ON templates FOR EACH ROW EXECUTE FUNCTION bury('delegate_code', 'photo', 'model');
CREATE TRIGGER bury AFTER DELETE ON sessions FOR EACH ROW EXECUTE FUNCTION bury('name');
CREATE TRIGGER bury AFTER DELETE ON attendance FOR EACH ROW EXECUTE FUNCTION bury('session', 'delegate_code');
CREATE TRIGGER bury AFTER DELETE ON lookalikes FOR EACH ROW EXECUTE FUNCTION bury('model', 'code_a', 'code_b');
CREATE TRIGGER bury AFTER DELETE ON calibration FOR EACH ROW EXECUTE FUNCTION bury('model');
CREATE TRIGGER announce AFTER INSERT OR UPDATE OR DELETE ON delegates FOR EACH STATEMENT EXECUTE FUNCTION announce();
CREATE TRIGGER announce AFTER INSERT OR UPDATE OR DELETE ON templates FOR EACH STATEMENT EXECUTE FUNCTION announce();
CREATE TRIGGER announce AFTER INSERT OR UPDATE OR DELETE ON sessions FOR EACH STATEMENT EXECUTE FUNCTION announce();
CREATE TRIGGER announce AFTER INSERT OR UPDATE OR DELETE ON attendance FOR EACH STATEMENT EXECUTE FUNCTION announce();
CREATE TRIGGER announce AFTER INSERT OR UPDATE OR DELETE ON lookalikes FOR EACH STATEMENT EXECUTE FUNCTION announce();
CREATE TRIGGER announce AFTER INSERT OR UPDATE OR DELETE ON calibration FOR EACH STATEMENT EXECUTE FUNCTION announce();
CREATE INDEX delegates_version ON delegates (version);
CREATE INDEX templates_version ON templates (version);
CREATE INDEX sessions_version ON sessions (version);
CREATE INDEX attendance_version ON attendance (version);
CREATE INDEX lookalikes_version ON lookalikes (version);
CREATE INDEX calibration_version ON calibration (version);
CREATE INDEX attendance_kiosk ON attendance (kiosk);

-- One chain for the whole congress; each entry says which kiosk wrote it and
-- which entry of that kiosk's file it is, so that sending it twice is harmless.
CREATE TABLE audit (
    id         BIGSERIAL PRIMARY KEY,
    at         TEXT NOT NULL,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    kiosk      TEXT NOT NULL,
    origin     TEXT NOT NULL,
    origin_id  BIGINT,
    UNIQUE (origin, origin_id)
);
CREATE TABLE kiosks (
    id         TEXT PRIMARY KEY,
    last_seen  TIMESTAMPTZ NOT NULL,
    waiting    BIGINT NOT NULL DEFAULT 0
);
-- Single-kiosk files brought in, by the hash of their first audit entry.
CREATE TABLE imports (
    file_id  TEXT PRIMARY KEY,
    path     TEXT NOT NULL,
    at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
"#,
    // v2: delegate badges (token hashes only), the badge check-in methods and
    // the 1:1 threshold a badge's face is checked with.
    r#"
ALTER TABLE attendance DROP CONSTRAINT attendance_method_check;
ALTER TABLE attendance ADD CONSTRAINT attendance_method_check
    CHECK (method IN ('face', 'manual', 'search', 'badge', 'badge_only'));
ALTER TABLE calibration ADD COLUMN one_to_one DOUBLE PRECISION;
CREATE TABLE badges (
    token_sha256   TEXT PRIMARY KEY,
    delegate_code  TEXT NOT NULL REFERENCES delegates(code) ON DELETE CASCADE,
    serial         BIGINT NOT NULL,
    replaced_at    TEXT,
    version        BIGINT NOT NULL,
    UNIQUE (delegate_code, serial)
);
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON badges FOR EACH ROW EXECUTE FUNCTION stamp();
CREATE TRIGGER bury AFTER DELETE ON badges FOR EACH ROW EXECUTE FUNCTION bury('token_sha256');
CREATE TRIGGER announce AFTER INSERT OR UPDATE OR DELETE ON badges FOR EACH STATEMENT EXECUTE FUNCTION announce();
CREATE INDEX badges_version ON badges (version);
"#,
    // v3: the congress's data key, which kiosks' copies are encrypted with.
    // Never a shared row: it reaches a kiosk's memory, never its disk.
    r#"
CREATE TABLE data_key (
    only_one  BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_one),
    key       BYTEA NOT NULL CHECK (length(key) = 32)
);
"#,
];
