//! The SQLite store: delegates, face templates, congress sessions,
//! attendance and a hash-chained audit log. Durable before it says "done":
//! WAL with full sync, so a reported check-in survives kill -9 and power loss.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, Transaction, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::matching::Gallery;
use crate::quality::Quality;

/// Schema versions in order; `PRAGMA user_version` says how many are applied.
const MIGRATIONS: &[&str] = &[
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
];

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Delegate {
    pub code: String,
    pub name: String,
    pub delegation: String,
    pub seat: String,
    /// Roster columns the kiosk does not interpret, kept as they were.
    pub extra: BTreeMap<String, String>,
}

/// A face template as enrolment makes it.
#[derive(Debug, Clone)]
pub struct NewTemplate {
    pub photo_sha256: String,
    pub embedding: Vec<f32>,
    pub quality: Quality,
    /// A small JPEG of the face, for the welcome screen.
    pub thumbnail: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Face,
    Manual,
    Search,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Face => "face",
            Method::Manual => "manual",
            Method::Search => "search",
        }
    }
}

/// Attendance of one delegation in one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DelegationCount {
    pub delegation: String,
    pub present: usize,
    pub total: usize,
}

/// Present and total over all delegations.
pub fn overall(counts: &[DelegationCount]) -> (usize, usize) {
    counts.iter().fold((0, 0), |(p, t), c| (p + c.present, t + c.total))
}

/// One line of the attendance list: a delegate, present or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListRow {
    pub code: String,
    pub name: String,
    pub delegation: String,
    pub seat: String,
    pub checked_in_at: Option<String>,
    pub method: Option<String>,
    pub kiosk: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionSummary {
    pub name: String,
    pub opens: Option<String>,
    pub closes: Option<String>,
    pub present: usize,
}

/// One recorded check-in, for the latest-check-ins list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attendance {
    pub code: String,
    pub name: String,
    pub delegation: String,
    pub at: String,
    pub method: String,
}

/// Two enrolled delegates whose faces the kiosk could confuse.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lookalike {
    pub a: String,
    pub b: String,
    pub score: f32,
}

/// What taking a delegate off the roster did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Removal {
    /// Gone, with their face templates: they had attended no session.
    Deleted,
    /// Off the roster and without templates, but still on the lists of the
    /// sessions they attended.
    KeptForAttendance {
        sessions: usize,
    },
    NotOnRoster,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CheckIn {
    Recorded { at: String },
    AlreadyCheckedIn { at: String },
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// Local time with offset, to the millisecond: what the secretariat reads.
pub fn now() -> String {
    chrono::Local::now().format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

/// "2026-11-27T08:12:03.120+07:00" -> "08:12": the time a person reads.
pub fn clock(at: &str) -> &str {
    at.get(11..16).unwrap_or(at)
}

impl Store {
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
            return Err(Error::Store(format!(
                "cannot create database {}: folder {} does not exist",
                path.display(),
                dir.display()
            )));
        }
        let conn = Connection::open(path).map_err(|e| store_error(path, e))?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(|e| store_error(path, e))?;
        let mut store = Store { conn, path: path.to_path_buf() };
        store.prepare().map_err(|e| store_error(path, e))?;
        Ok(store)
    }

    fn prepare(&mut self) -> rusqlite::Result<()> {
        self.conn.pragma_update(None, "foreign_keys", true)?;
        let mode: String = self.conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!("database {} stays in {mode} journal mode", self.path.display());
        }
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        // Deleted templates (a removed delegate, a replaced photo) are overwritten, not just unlinked.
        self.conn.pragma_update(None, "secure_delete", true)?;
        let applied: usize = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if applied > MIGRATIONS.len() {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH),
                Some(format!("schema version {applied} is newer than this program knows ({})", MIGRATIONS.len())),
            ));
        }
        for (version, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&self, e: rusqlite::Error) -> Error {
        store_error(&self.path, e)
    }

    /// Every row of a query, each read by `read`.
    fn rows<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        read: impl FnMut(&rusqlite::Row) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.fail(e))?;
        let rows = stmt.query_map(params, read).map_err(|e| self.fail(e))?;
        rows.collect::<rusqlite::Result<_>>().map_err(|e| self.fail(e))
    }

    /// Runs `f` in one transaction: all of it is stored, or none.
    pub fn transaction<T>(&mut self, f: impl FnOnce(&mut Tx) -> Result<T>) -> Result<T> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| store_error(&path, e))?;
        let mut wrapped = Tx { tx, path: path.clone() };
        let out = f(&mut wrapped)?;
        wrapped.tx.commit().map_err(|e| store_error(&path, e))?;
        Ok(out)
    }

    /// A delegate on the roster (not removed).
    pub fn delegate(&self, code: &str) -> Result<Option<Delegate>> {
        self.conn
            .query_row(
                "SELECT code, name, delegation, seat, extra FROM delegates WHERE code = ?1 AND removed_at IS NULL",
                [code],
                read_delegate,
            )
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// Every delegate on the roster, in code order.
    pub fn delegates(&self) -> Result<Vec<Delegate>> {
        self.rows(
            "SELECT code, name, delegation, seat, extra FROM delegates WHERE removed_at IS NULL ORDER BY code",
            [],
            read_delegate,
        )
    }

    pub fn attendance_count(&self, session: &str) -> Result<usize> {
        self.conn
            .query_row(
                "SELECT count(*) FROM attendance a JOIN sessions s ON s.id = a.session_id WHERE s.name = ?1",
                [session],
                |r| r.get(0),
            )
            .map_err(|e| self.fail(e))
    }

    /// The face photo shown when `code` is welcomed, from their first template.
    pub fn thumbnail(&self, code: &str) -> Result<Option<Vec<u8>>> {
        self.conn
            .query_row(
                "SELECT thumbnail FROM templates WHERE delegate_code = ?1 AND thumbnail IS NOT NULL ORDER BY id LIMIT 1",
                [code],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.fail(e))
    }

    pub fn delegate_count(&self) -> Result<usize> {
        self.conn
            .query_row("SELECT count(*) FROM delegates WHERE removed_at IS NULL", [], |r| r.get(0))
            .map_err(|e| self.fail(e))
    }

    /// How many templates each model has made.
    pub fn template_models(&self) -> Result<Vec<(String, usize)>> {
        self.rows("SELECT model, count(*) FROM templates GROUP BY model ORDER BY model", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    /// Everyone with a template from `model`, and those templates ready to search.
    pub fn gallery(&self, model: &str, dim: usize) -> Result<(Vec<Delegate>, Gallery)> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT d.code, d.name, d.delegation, d.seat, d.extra, t.embedding
                 FROM templates t JOIN delegates d ON d.code = t.delegate_code
                 WHERE t.model = ?1 ORDER BY d.code, t.id",
            )
            .map_err(|e| self.fail(e))?;
        let mut rows = stmt.query([model]).map_err(|e| self.fail(e))?;
        let mut people: Vec<Delegate> = Vec::new();
        let mut gallery = Gallery::new(dim);
        while let Some(row) = rows.next().map_err(|e| self.fail(e))? {
            let delegate = read_delegate(row).map_err(|e| self.fail(e))?;
            let blob: Vec<u8> = row.get(5).map_err(|e| self.fail(e))?;
            let embedding = blob_to_embedding(&blob);
            if embedding.len() != dim {
                return Err(Error::Store(format!(
                    "{}: a template of {} has {} values where {model} makes {dim}; re-enrol that delegate",
                    self.path.display(),
                    delegate.code,
                    embedding.len()
                )));
            }
            if people.last().map(|p| &p.code) != Some(&delegate.code) {
                people.push(delegate);
            }
            gallery.add(people.len() - 1, &embedding);
        }
        Ok((people, gallery))
    }

    pub fn session_id(&self, name: &str) -> Result<Option<i64>> {
        self.conn
            .query_row("SELECT id FROM sessions WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// The attendance of `code` in `session`, if any: (time, method).
    pub fn attendance(&self, session: &str, code: &str) -> Result<Option<(String, String)>> {
        self.conn
            .query_row(
                "SELECT a.checked_in_at, a.method FROM attendance a JOIN sessions s ON s.id = a.session_id
                 WHERE s.name = ?1 AND a.delegate_code = ?2",
                [session, code],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))
    }

    pub fn audit_entries(&self) -> Result<Vec<(String, String)>> {
        self.rows("SELECT action, detail FROM audit ORDER BY id", [], |r| Ok((r.get(0)?, r.get(1)?)))
    }

    /// Records `code` as present in `session` (created if new) exactly once.
    pub fn check_in(
        &mut self,
        session: &str,
        code: &str,
        method: Method,
        kiosk: &str,
        score: Option<f32>,
    ) -> Result<CheckIn> {
        self.transaction(|tx| tx.check_in(session, code, method, kiosk, score, None))
    }

    /// A check-in made by staff, with the reason kept in the audit log.
    pub fn manual_check_in(&mut self, session: &str, code: &str, kiosk: &str, reason: &str) -> Result<CheckIn> {
        self.transaction(|tx| tx.check_in(session, code, Method::Manual, kiosk, None, Some(reason)))
    }

    /// Removes a check-in (a wrong match, a delegate who left); the audit log
    /// keeps what was removed and why. False if there was nothing to undo.
    pub fn undo_check_in(&mut self, session: &str, code: &str, kiosk: &str, reason: &str) -> Result<bool> {
        self.transaction(|tx| {
            let removed: Option<(String, String, String)> = tx
                .tx
                .query_row(
                    "DELETE FROM attendance WHERE delegate_code = ?2 AND session_id = (SELECT id FROM sessions WHERE name = ?1)
                     RETURNING checked_in_at, method, kiosk",
                    [session, code],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(|e| tx.fail(e))?;
            let Some((at, method, by)) = removed else { return Ok(false) };
            let detail = serde_json::json!({"session": session, "code": code, "reason": reason, "kiosk": kiosk,
                "removed": {"checked_in_at": at, "method": method, "kiosk": by}});
            tx.audit("undo_check_in", &detail.to_string())?;
            Ok(true)
        })
    }

    pub fn sessions(&self) -> Result<Vec<String>> {
        self.rows("SELECT name FROM sessions ORDER BY id", [], |r| r.get(0))
    }

    /// Present and roster counts per delegation.
    pub fn counts_by_delegation(&self, session: &str) -> Result<Vec<DelegationCount>> {
        let mut counts = self.rows(
            "SELECT d.delegation, count(a.delegate_code), count(*) FROM delegates d
             LEFT JOIN attendance a ON a.delegate_code = d.code
               AND a.session_id = (SELECT id FROM sessions WHERE name = ?1)
             WHERE d.removed_at IS NULL OR a.delegate_code IS NOT NULL
             GROUP BY d.delegation",
            [session],
            |r| Ok(DelegationCount { delegation: r.get(0)?, present: r.get(1)?, total: r.get(2)? }),
        )?;
        counts.sort_by(|a, b| crate::collate::compare(&a.delegation, &b.delegation));
        Ok(counts)
    }

    /// Every delegate with their attendance in `session`, in the order of
    /// the official list: by given name, the Vietnamese way.
    pub fn attendance_list(&self, session: &str) -> Result<Vec<ListRow>> {
        let mut rows = self.rows(
            "SELECT d.code, d.name, d.delegation, d.seat, a.checked_in_at, a.method, a.kiosk FROM delegates d
             LEFT JOIN attendance a ON a.delegate_code = d.code
               AND a.session_id = (SELECT id FROM sessions WHERE name = ?1)
             WHERE d.removed_at IS NULL OR a.delegate_code IS NOT NULL",
            [session],
            |r| {
                Ok(ListRow {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    delegation: r.get(2)?,
                    seat: r.get(3)?,
                    checked_in_at: r.get(4)?,
                    method: r.get(5)?,
                    kiosk: r.get(6)?,
                })
            },
        )?;
        rows.sort_by_cached_key(|r| (crate::collate::name_key(&r.name), r.code.clone()));
        Ok(rows)
    }

    /// Sessions with their opening and closing times and how many attended.
    pub fn session_summaries(&self) -> Result<Vec<SessionSummary>> {
        self.rows(
            "SELECT s.name, s.opens, s.closes, count(a.delegate_code) FROM sessions s
             LEFT JOIN attendance a ON a.session_id = s.id GROUP BY s.id ORDER BY s.id",
            [],
            |r| Ok(SessionSummary { name: r.get(0)?, opens: r.get(1)?, closes: r.get(2)?, present: r.get(3)? }),
        )
    }

    /// Walks the audit log: each entry must hash to what it says, and name
    /// the previous entry's hash. The first entry that does not is returned.
    pub fn verify_audit(&self) -> Result<(usize, Option<(i64, String)>)> {
        let entries: Vec<(i64, String, String, String, String, String)> =
            self.rows("SELECT id, at, action, detail, prev_hash, hash FROM audit ORDER BY id", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
            })?;
        let mut prev = String::new();
        for (id, at, action, detail, prev_hash, hash) in &entries {
            if *prev_hash != prev {
                return Ok((
                    entries.len(),
                    Some((*id, "does not follow the entry before it (one was removed or changed)".into())),
                ));
            }
            if *hash != audit_hash(prev_hash, at, action, detail) {
                return Ok((entries.len(), Some((*id, "was edited after it was written".into()))));
            }
            prev = hash.clone();
        }
        Ok((entries.len(), None))
    }

    /// Deletes every face template, enrolled photo and check-in snapshot,
    /// compacts the file, and checks that no byte sequence of any of them is
    /// left in it. Returns how many templates and snapshots were deleted.
    pub fn purge_biometrics(&mut self) -> Result<(usize, usize)> {
        let mut blobs: Vec<Vec<u8>> = self.rows("SELECT embedding FROM templates", [], |r| r.get(0))?;
        let templates = blobs.len();
        // JPEGs start alike: their middle tells them apart.
        let snapshots: Vec<Vec<u8>> =
            self.rows("SELECT snapshot FROM attendance WHERE snapshot IS NOT NULL", [], |r| r.get(0))?;
        let count = (templates, snapshots.len());
        blobs.extend(snapshots.iter().map(|j| j[j.len() / 2..].to_vec()));
        self.transaction(|tx| {
            tx.tx.execute("DELETE FROM templates", []).map_err(|e| tx.fail(e))?;
            tx.tx.execute("UPDATE attendance SET snapshot = NULL", []).map_err(|e| tx.fail(e))?;
            let detail = serde_json::json!({"templates": count.0, "snapshots": count.1});
            tx.audit("purge_biometrics", &detail.to_string())
        })?;
        // VACUUM rewrites the file without the freed pages; the checkpoint
        // empties the write-ahead log, which held the deleted pages too.
        self.conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);").map_err(|e| self.fail(e))?;
        let mut file = std::fs::read(&self.path).map_err(|e| Error::io(&self.path, &e))?;
        let wal = PathBuf::from(format!("{}-wal", self.path.display()));
        if let Ok(bytes) = std::fs::read(&wal) {
            file.extend_from_slice(&bytes);
        }
        let left = blobs.iter().filter(|b| b.len() >= 32 && file.windows(32).any(|w| w == &b[..32])).count();
        if left > 0 {
            return Err(Error::Store(format!(
                "{}: {left} embeddings or snapshots are still readable in the file after the purge; copy the attendance out and delete the file",
                self.path.display()
            )));
        }
        Ok(count)
    }

    /// The face snapshots of a session's check-ins: (code, JPEG).
    pub fn snapshots(&self, session: &str) -> Result<Vec<(String, Vec<u8>)>> {
        self.rows(
            "SELECT a.delegate_code, a.snapshot FROM attendance a JOIN sessions s ON s.id = a.session_id
             WHERE s.name = ?1 AND a.snapshot IS NOT NULL ORDER BY a.delegate_code",
            [session],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// The lookalike pairs found among `model`'s templates at the last enrolment, closest first.
    pub fn lookalikes(&self, model: &str) -> Result<Vec<Lookalike>> {
        self.rows(
            "SELECT code_a, code_b, score FROM lookalikes WHERE model = ?1 ORDER BY score DESC, code_a, code_b",
            [model],
            |r| Ok(Lookalike { a: r.get(0)?, b: r.get(1)?, score: r.get(2)? }),
        )
    }

    pub fn latest_check_ins(&self, session: &str, limit: usize) -> Result<Vec<Attendance>> {
        self.rows(
            "SELECT d.code, d.name, d.delegation, a.checked_in_at, a.method FROM attendance a
             JOIN sessions s ON s.id = a.session_id JOIN delegates d ON d.code = a.delegate_code
             WHERE s.name = ?1 ORDER BY a.checked_in_at DESC, a.rowid DESC LIMIT ?2",
            params![session, limit as i64],
            |r| {
                Ok(Attendance {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    delegation: r.get(2)?,
                    at: r.get(3)?,
                    method: r.get(4)?,
                })
            },
        )
    }
}

/// A write transaction on the store.
pub struct Tx<'a> {
    tx: Transaction<'a>,
    path: PathBuf,
}

impl Tx<'_> {
    fn fail(&self, e: rusqlite::Error) -> Error {
        store_error(&self.path, e)
    }

    /// Adds the delegate or updates their roster fields (putting a removed
    /// delegate back); their templates and attendance are kept.
    pub fn upsert_delegate(&mut self, d: &Delegate) -> Result<()> {
        let extra = serde_json::to_string(&d.extra).unwrap_or_else(|_| "{}".into());
        self.tx
            .execute(
                "INSERT INTO delegates (code, name, delegation, seat, extra, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(code) DO UPDATE SET name = excluded.name, delegation = excluded.delegation,
                   seat = excluded.seat, extra = excluded.extra, updated_at = excluded.updated_at, removed_at = NULL",
                params![d.code, d.name, d.delegation, d.seat, extra, now()],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Stores the template made by `model` from `photo`, replacing the one an
    /// earlier run made from the same photo.
    pub fn put_template(&mut self, code: &str, photo: &str, model: &str, t: &NewTemplate) -> Result<()> {
        let quality = serde_json::to_string(&t.quality).unwrap_or_else(|_| "{}".into());
        self.tx
            .execute(
                "INSERT INTO templates (delegate_code, model, embedding, photo, photo_sha256, quality, thumbnail, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(delegate_code, photo, model) DO UPDATE SET embedding = excluded.embedding,
                   photo_sha256 = excluded.photo_sha256, quality = excluded.quality, thumbnail = excluded.thumbnail,
                   created_at = excluded.created_at",
                params![code, model, embedding_to_blob(&t.embedding), photo, t.photo_sha256, quality, t.thumbnail, now()],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Drops the templates `model` made for `code` from photos other than
    /// `keep`: the roster is the truth about which photos a delegate has.
    pub fn keep_only_templates(&mut self, code: &str, model: &str, keep: &[String]) -> Result<usize> {
        let keep = serde_json::to_string(keep).unwrap_or_else(|_| "[]".into());
        self.tx
            .execute(
                "DELETE FROM templates WHERE delegate_code = ?1 AND model = ?2
                 AND photo NOT IN (SELECT value FROM json_each(?3))",
                params![code, model, keep],
            )
            .map_err(|e| self.fail(e))
    }

    /// Keeps the face seen at a check-in just recorded.
    pub fn attach_snapshot(&mut self, session: &str, code: &str, jpeg: &[u8]) -> Result<()> {
        self.tx
            .execute(
                "UPDATE attendance SET snapshot = ?3
                 WHERE delegate_code = ?2 AND session_id = (SELECT id FROM sessions WHERE name = ?1)",
                params![session, code, jpeg],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Replaces the lookalike pairs of `model` with those just found.
    pub fn replace_lookalikes(&mut self, model: &str, pairs: &[Lookalike]) -> Result<()> {
        self.tx.execute("DELETE FROM lookalikes WHERE model = ?1", [model]).map_err(|e| self.fail(e))?;
        let mut insert = self
            .tx
            .prepare("INSERT OR REPLACE INTO lookalikes (code_a, code_b, model, score) VALUES (?1, ?2, ?3, ?4)")
            .map_err(|e| store_error(&self.path, e))?;
        for p in pairs {
            let (a, b) = if p.a < p.b { (&p.a, &p.b) } else { (&p.b, &p.a) };
            insert.execute(params![a, b, model, p.score]).map_err(|e| store_error(&self.path, e))?;
        }
        Ok(())
    }

    /// Takes a delegate off the roster: their face templates and snapshots go,
    /// and so does the delegate unless they attended a session, whose lists
    /// must stay whole.
    pub fn remove_delegate(&mut self, code: &str, reason: &str) -> Result<Removal> {
        let name: Option<String> = self
            .tx
            .query_row("SELECT name FROM delegates WHERE code = ?1 AND removed_at IS NULL", [code], |r| r.get(0))
            .optional()
            .map_err(|e| self.fail(e))?;
        let Some(name) = name else { return Ok(Removal::NotOnRoster) };
        let attended: usize = self
            .tx
            .query_row("SELECT count(*) FROM attendance WHERE delegate_code = ?1", [code], |r| r.get(0))
            .map_err(|e| self.fail(e))?;
        let templates =
            self.tx.execute("DELETE FROM templates WHERE delegate_code = ?1", [code]).map_err(|e| self.fail(e))?;
        self.tx.execute("DELETE FROM lookalikes WHERE ?1 IN (code_a, code_b)", [code]).map_err(|e| self.fail(e))?;
        let removal = if attended == 0 {
            self.tx.execute("DELETE FROM delegates WHERE code = ?1", [code]).map_err(|e| self.fail(e))?;
            Removal::Deleted
        } else {
            self.tx
                .execute("UPDATE delegates SET removed_at = ?2 WHERE code = ?1", params![code, now()])
                .map_err(|e| self.fail(e))?;
            self.tx
                .execute("UPDATE attendance SET snapshot = NULL WHERE delegate_code = ?1", [code])
                .map_err(|e| self.fail(e))?;
            Removal::KeptForAttendance { sessions: attended }
        };
        let detail = serde_json::json!({"code": code, "name": name, "reason": reason, "templates": templates,
            "removal": removal});
        self.audit("remove_delegate", &detail.to_string())?;
        Ok(removal)
    }

    /// Adds a congress session, or sets the opening and closing times of an existing one.
    pub fn add_session(&mut self, name: &str, opens: Option<&str>, closes: Option<&str>) -> Result<()> {
        self.ensure_session(name)?;
        self.tx
            .execute(
                "UPDATE sessions SET opens = coalesce(?2, opens), closes = coalesce(?3, closes) WHERE name = ?1",
                params![name, opens, closes],
            )
            .map_err(|e| self.fail(e))?;
        let detail = serde_json::json!({"session": name, "opens": opens, "closes": closes});
        self.audit("session", &detail.to_string())
    }

    pub fn ensure_session(&mut self, name: &str) -> Result<i64> {
        self.tx
            .execute(
                "INSERT INTO sessions (name, created_at) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
                params![name, now()],
            )
            .map_err(|e| self.fail(e))?;
        self.tx.query_row("SELECT id FROM sessions WHERE name = ?1", [name], |r| r.get(0)).map_err(|e| self.fail(e))
    }

    pub fn check_in(
        &mut self,
        session: &str,
        code: &str,
        method: Method,
        kiosk: &str,
        score: Option<f32>,
        reason: Option<&str>,
    ) -> Result<CheckIn> {
        let removed: Option<Option<String>> = self
            .tx
            .query_row("SELECT removed_at FROM delegates WHERE code = ?1", [code], |r| r.get(0))
            .optional()
            .map_err(|e| self.fail(e))?;
        match removed {
            None => return Err(Error::Store(format!("there is no delegate with code {code} on the roster"))),
            Some(Some(when)) => {
                return Err(Error::Store(format!(
                    "delegate {code} was removed from the roster on {}; enrol them again to check them in",
                    &when[..10.min(when.len())]
                )));
            }
            Some(None) => {}
        }
        let session_id = self.ensure_session(session)?;
        let at = now();
        let inserted = self
            .tx
            .execute(
                "INSERT INTO attendance (session_id, delegate_code, checked_in_at, method, kiosk, score)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(session_id, delegate_code) DO NOTHING",
                params![session_id, code, at, method.as_str(), kiosk, score],
            )
            .map_err(|e| self.fail(e))?;
        if inserted == 0 {
            let earlier: String = self
                .tx
                .query_row(
                    "SELECT checked_in_at FROM attendance WHERE session_id = ?1 AND delegate_code = ?2",
                    params![session_id, code],
                    |r| r.get(0),
                )
                .map_err(|e| self.fail(e))?;
            return Ok(CheckIn::AlreadyCheckedIn { at: earlier });
        }
        let detail = serde_json::json!({"session": session, "code": code, "method": method, "kiosk": kiosk,
            "score": score, "reason": reason});
        self.audit("check_in", &detail.to_string())?;
        Ok(CheckIn::Recorded { at })
    }

    /// Appends to the audit log; each entry's hash covers the previous one's,
    /// so that an edited or deleted entry breaks the chain.
    pub fn audit(&mut self, action: &str, detail: &str) -> Result<()> {
        let prev: String = self
            .tx
            .query_row("SELECT hash FROM audit ORDER BY id DESC LIMIT 1", [], |r| r.get(0))
            .optional()
            .map_err(|e| self.fail(e))?
            .unwrap_or_default();
        let at = now();
        let hash = audit_hash(&prev, &at, action, detail);
        self.tx
            .execute(
                "INSERT INTO audit (at, action, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![at, action, detail, prev, hash],
            )
            .map_err(|e| self.fail(e))?;
        Ok(())
    }
}

pub fn audit_hash(prev: &str, at: &str, action: &str, detail: &str) -> String {
    let mut h = Sha256::new();
    for part in [prev, at, action, detail] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

fn read_delegate(row: &rusqlite::Row) -> rusqlite::Result<Delegate> {
    let extra: String = row.get(4)?;
    Ok(Delegate {
        code: row.get(0)?,
        name: row.get(1)?,
        delegation: row.get(2)?,
        seat: row.get(3)?,
        extra: serde_json::from_str(&extra).unwrap_or_default(),
    })
}

fn embedding_to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn blob_to_embedding(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// SQLite's errors, said the way an organiser can act on them.
fn store_error(path: &Path, e: rusqlite::Error) -> Error {
    let p = path.display();
    let code = e.sqlite_error_code();
    Error::Store(match code {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => format!(
            "database {p} is locked by another program (another kiosk command or a database browser?). Close it and try again; nothing was changed."
        ),
        Some(ErrorCode::ReadOnly) => format!(
            "database {p} is read-only. Check the file's and its folder's permissions (the kiosk also writes {p}-wal and {p}-shm beside it)."
        ),
        Some(ErrorCode::NotADatabase) => format!(
            "{p} is not a kiosk database, or it is damaged. Point --db at the right file, or restore it from a backup."
        ),
        Some(ErrorCode::CannotOpen) => {
            format!("cannot open database {p}: check that the folder exists and is writable ({e}).")
        }
        Some(ErrorCode::DiskFull) => {
            format!("the disk holding {p} is full: free space and try again; nothing was changed.")
        }
        _ => format!("database {p}: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_round_trip_through_blobs() {
        let v = vec![0.25f32, -1.5, 3.0e-7];
        assert_eq!(blob_to_embedding(&embedding_to_blob(&v)), v);
    }
}
