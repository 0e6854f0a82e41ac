//! The SQLite store: delegates, face templates, congress sessions,
//! attendance and a hash-chained audit log. Durable before it says "done":
//! WAL with full sync, so a reported check-in survives kill -9 and power loss.
//! Several writers (kiosk threads, command-line tools) share one file: every
//! write transaction takes the write lock at its start and waits its turn.

pub mod attendance;
pub mod audit;
pub mod badges;
pub mod delegates;
pub mod key;
pub mod purge;
pub mod replica;
pub mod schema;
pub mod time;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};

pub use attendance::{
    Attendance, CheckIn, DelegationCount, Evidence, ListRow, Method, SessionSummary, overall, percent,
    session_name_problem,
};
pub use audit::AuditHead;
pub use delegates::{Delegate, Enrolled, Lookalike, NewTemplate, Removal};
use time::{Timestamp, Zone};

/// The `[store]` settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    pub database: PathBuf,
    /// How long a write waits for other programs' writes before it fails.
    pub busy_wait_seconds: f32,
    /// The congress's data key on removable media (`kiosk ledger key
    /// --out`): a kiosk's copy is opened with it when the ledger cannot be
    /// reached at start; a single-file congress opts in to encryption with it.
    pub key_file: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self { database: "kiosk.db".into(), busy_wait_seconds: BUSY_PATIENCE.as_secs_f32(), key_file: PathBuf::new() }
    }
}

impl StoreConfig {
    pub fn check(&self) -> std::result::Result<(), String> {
        crate::settings::within("store.busy_wait_seconds", self.busy_wait_seconds, 0.0..=3600.0)
    }

    pub fn patience(&self) -> Duration {
        Duration::from_secs_f32(self.busy_wait_seconds)
    }
}

use crate::error::{Error, Result};

/// How long one SQLite call waits for another writer before it is retried.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a write keeps trying before it gives up and says the file is locked.
const BUSY_PATIENCE: Duration = Duration::from_secs(60);

pub struct Store {
    conn: Connection,
    path: PathBuf,
    zone: Zone,
    /// How long a write keeps trying while another program holds the lock.
    patience: Duration,
}

/// `path` with SQLCipher under `key`. A plain file (a copy made before its
/// congress had a data key) is encrypted on the spot: exported into a new
/// encrypted file that then takes its place.
fn open_encrypted(path: &Path, key: &key::DataKey) -> Result<Connection> {
    let keyed = |p: &Path| -> rusqlite::Result<Connection> {
        let conn = Connection::open(p)?;
        conn.execute_batch(&format!("PRAGMA key = {};", key.pragma()))?;
        // The key is only tried at the first read.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
        Ok(conn)
    };
    match keyed(path) {
        Ok(conn) => Ok(conn),
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
            let plain = Connection::open(path).map_err(|e| store_error(path, e))?;
            if plain.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())).is_err() {
                return Err(Error::Store {
                    message: format!(
                        "{} is encrypted with another data key (another congress's?), or it is not a kiosk database",
                        path.display()
                    ),
                    source: Some(e),
                });
            }
            let encrypted = wal_file(path, ".encrypting");
            let _ = std::fs::remove_file(&encrypted);
            plain
                .execute_batch(&format!(
                    "ATTACH DATABASE '{}' AS encrypted KEY {}; SELECT sqlcipher_export('encrypted'); DETACH DATABASE encrypted;",
                    encrypted.display().to_string().replace('\'', "''"),
                    key.pragma()
                ))
                .map_err(|e| store_error(path, e))?;
            drop(plain);
            // The plain pages go with the old file and its journal.
            for old in [wal_file(path, "-wal"), wal_file(path, "-shm")] {
                let _ = std::fs::remove_file(old);
            }
            std::fs::rename(&encrypted, path).map_err(|e| Error::io(path, e))?;
            tracing::info!("{} encrypted with the congress's data key", path.display());
            keyed(path).map_err(|e| store_error(path, e))
        }
        Err(e) => Err(store_error(path, e)),
    }
}

/// Another program's SQLite file (tables, none of ours) is left as it is,
/// not given the kiosk's tables beside its own.
fn refuse_foreign(conn: &Connection, path: &Path) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| store_error(path, e))?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'", [], |r| r.get(0))
        .map_err(|e| store_error(path, e))?;
    if version == 0 && tables > 0 {
        return Err(Error::Store {
            message: format!(
                "{} is another program's SQLite database ({tables} tables, none of the kiosk's): it was not \
                 touched. Point --db at the kiosk's file.",
                path.display()
            ),
            source: None,
        });
    }
    Ok(())
}

/// A database made by an older version, or copied in with `cp`, may be
/// readable by every user of the PC: it is made its owner's alone (0600),
/// with its journal files.
fn keep_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for file in [path.to_path_buf(), wal_file(path, "-wal"), wal_file(path, "-shm")] {
        let Ok(meta) = std::fs::metadata(&file) else { continue };
        if meta.permissions().mode() & 0o077 != 0
            && let Err(e) = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
        {
            tracing::warn!("{} is readable by other users and cannot be made private: {e}", file.display());
        }
    }
}

/// The file SQLite keeps beside `path` with this `suffix` ("-wal", "-shm").
pub(crate) fn wal_file(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl Store {
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
            return Err(Error::Store {
                message: format!("cannot create database {}: folder {} does not exist", path.display(), dir.display()),
                source: None,
            });
        }
        let conn = match key::key() {
            Some(key) => open_encrypted(path, key)?,
            None => Connection::open(path).map_err(|e| store_error(path, e))?,
        };
        keep_private(path);
        refuse_foreign(&conn, path)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| store_error(path, e))?;
        let mut store = Store { conn, path: path.to_path_buf(), zone: Zone::default(), patience: BUSY_PATIENCE };
        store.prepare().map_err(|e| store_error(path, e))?;
        if store.replica_of()?.is_some() {
            store.note_changes()?;
        }
        Ok(store)
    }

    /// Times are recorded on the clocks of `zone` (the congress's).
    pub fn with_zone(mut self, zone: Zone) -> Self {
        self.zone = zone;
        self
    }

    /// How long a write waits for other writers before it fails (a minute by default).
    pub fn with_patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }

    pub fn zone(&self) -> Zone {
        self.zone
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
        let known = schema::MIGRATIONS.len();
        let applied = |c: &Connection| c.query_row("PRAGMA user_version", [], |r| r.get::<_, usize>(0));
        let seen = applied(&self.conn)?;
        if seen >= known {
            return self.refuse_newer(seen);
        }
        // Under the write lock, so that two programs opening a new file do not both migrate it.
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let from = applied(&tx)?;
        for (version, sql) in schema::MIGRATIONS.iter().enumerate().skip(from) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version + 1)?;
        }
        tx.commit()
    }

    fn refuse_newer(&self, applied: usize) -> rusqlite::Result<()> {
        if applied > schema::MIGRATIONS.len() {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH),
                Some(format!(
                    "schema version {applied} is newer than this program knows ({})",
                    schema::MIGRATIONS.len()
                )),
            ));
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Changes whenever another connection commits to the file: a cheap
    /// way to know whether figures read earlier are stale.
    pub fn data_version(&self) -> Result<i64> {
        self.value("PRAGMA data_version", [])
    }

    fn fail(&self, e: rusqlite::Error) -> Error {
        store_error(&self.path, e)
    }

    fn now(&self) -> Timestamp {
        self.zone.now()
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

    /// One value from a query that returns exactly one row.
    fn value<T: rusqlite::types::FromSql>(&self, sql: &str, params: impl rusqlite::Params) -> Result<T> {
        self.conn.query_row(sql, params, |r| r.get(0)).map_err(|e| self.fail(e))
    }

    /// Runs `f` in one transaction: all of it is stored, or none. The write
    /// lock is taken at the start (a deferred transaction that reads first
    /// cannot wait for it later); while another program holds it, `f` is
    /// tried again, with growing pauses, for up to a minute (`with_patience`).
    pub fn transaction<T>(&mut self, mut f: impl FnMut(&mut Tx) -> Result<T>) -> Result<T> {
        let give_up = Instant::now() + self.patience;
        let mut pause = Duration::from_millis(5);
        loop {
            match self.try_transaction(&mut f) {
                Err(e) if e.is_busy() && Instant::now() < give_up => {
                    tracing::debug!("database busy, trying again in {pause:?}");
                    std::thread::sleep(pause + Duration::from_micros(rand::random::<u64>() % 5000));
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                out => return out,
            }
        }
    }

    fn try_transaction<T>(&mut self, f: &mut impl FnMut(&mut Tx) -> Result<T>) -> Result<T> {
        let (path, now) = (self.path.clone(), self.now());
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| store_error(&path, e))?;
        let mut wrapped = Tx { tx, path: path.clone(), now };
        let out = f(&mut wrapped)?;
        wrapped.tx.commit().map_err(|e| store_error(&path, e))?;
        Ok(out)
    }
}

/// A write transaction on the store.
pub struct Tx<'a> {
    tx: Transaction<'a>,
    path: PathBuf,
    /// Everything the transaction records happens at this time.
    now: Timestamp,
}

impl Tx<'_> {
    fn fail(&self, e: rusqlite::Error) -> Error {
        store_error(&self.path, e)
    }

    fn execute(&self, sql: &str, params: impl rusqlite::Params) -> Result<usize> {
        self.tx.execute(sql, params).map_err(|e| self.fail(e))
    }
}

/// SQLite's errors, said the way an organiser can act on them.
fn store_error(path: &Path, e: rusqlite::Error) -> Error {
    let p = path.display();
    let message = match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => format!(
            "database {p} is locked by another program (another kiosk command or a database browser?). Close it and try again; nothing was changed."
        ),
        Some(ErrorCode::ReadOnly) => format!(
            "database {p} is read-only. Check the file's and its folder's permissions (the kiosk also writes {p}-wal and {p}-shm beside it)."
        ),
        Some(ErrorCode::NotADatabase) => format!(
            "{p} is not a kiosk database, or it is damaged, or it is a kiosk's encrypted copy of a ledger (its key \
             comes from the ledger, --ledger URL, or from [store] key_file). Point --db at the right file, or \
             restore it from a backup."
        ),
        Some(ErrorCode::CannotOpen) => {
            format!("cannot open database {p}: check that the folder exists and is writable ({e}).")
        }
        Some(ErrorCode::DiskFull) => {
            format!("the disk holding {p} is full: free space and try again; nothing was changed.")
        }
        _ => format!("database {p}: {e}"),
    };
    Error::Store { message, source: Some(e) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key is given to `open_encrypted` directly: the process-wide one
    /// would reach every other test's files.
    #[test]
    fn a_plain_file_is_encrypted_when_opened_with_a_key_and_another_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("copy.db");
        let secret = b"Nguyen Van An, delegate D001, template bytes";
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE t (b BLOB)").unwrap();
            conn.execute("INSERT INTO t VALUES (?1)", [secret.as_slice()]).unwrap();
        }
        let key = key::DataKey::random();
        let conn = open_encrypted(&path, &key).unwrap();
        let back: Vec<u8> = conn.query_row("SELECT b FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(back, secret);
        drop(conn);
        let bytes = std::fs::read(&path).unwrap();
        assert!(memchr::memmem::find(&bytes, b"Nguyen Van An").is_none(), "nothing readable on disk");
        assert!(open_encrypted(&path, &key).is_ok(), "opened again with its key");
        let e = open_encrypted(&path, &key::DataKey::random()).err().unwrap().to_string();
        assert!(e.contains("another data key"), "{e}");
        let plain = Connection::open(&path).unwrap();
        assert!(plain.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())).is_err(), "no key, no data");
    }
}
