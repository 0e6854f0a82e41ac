//! The shared ledger: one PostgreSQL database for a congress with several
//! entrances. Kiosks keep working on their own SQLite copy (`store::replica`)
//! and never wait on the network: `sync` moves rows both ways, `syncer` does
//! it in the background, `import` brings in a single-kiosk file once.

pub mod import;
pub mod link;
pub mod pg;
pub mod schema;
pub mod sync;
pub mod syncer;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::settings::within;
use crate::store::audit::{AuditCheck, AuditHead, AuditRow, verify_chain};
use link::{Address, LinkSettings};
use pg::{Params, Pg, PgError};

/// The `[ledger]` settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LedgerConfig {
    /// `postgresql://user@host:port/db[?sslmode=verify-full&sslrootcert=PATH]`;
    /// empty = the single SQLite file.
    pub url: String,
    /// The TCP connection, the TLS handshake and the login, together.
    pub connect_seconds: f32,
    /// Each statement, and each row of a long read.
    pub statement_seconds: f32,
    /// A file holding only the ledger's password, when the address has none.
    pub password_file: PathBuf,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        let link = LinkSettings::default();
        Self {
            url: String::new(),
            connect_seconds: link.connect_seconds,
            statement_seconds: link.statement_seconds,
            password_file: link.password_file,
        }
    }
}

impl LedgerConfig {
    pub fn check(&self) -> std::result::Result<(), String> {
        within("ledger.connect_seconds", self.connect_seconds, 0.5..=60.0)?;
        within("ledger.statement_seconds", self.statement_seconds, 0.5..=600.0)?;
        if self.url.is_empty() {
            return Ok(());
        }
        Address::parse(&self.url).map(|_| ()).map_err(|e| format!("ledger.url: {e}"))
    }

    /// What every link of this program is made with.
    pub fn link(&self) -> LinkSettings {
        LinkSettings {
            connect_seconds: self.connect_seconds,
            statement_seconds: self.statement_seconds,
            password_file: self.password_file.clone(),
        }
    }
}

/// Taken first by every transaction that writes shared rows (see `schema`).
const WRITE_LOCK: i64 = 7_320_001;
/// A kiosk not heard from for this long is shown offline.
const ONLINE_WITHIN_SECONDS: f64 = 10.0;

pub struct Ledger {
    pg: Pg,
    address: Address,
    /// Where it is, without the password: for messages.
    place: String,
    /// Names this ledger: a local copy of another one is refused.
    pub id: String,
    /// Whether this link is encrypted (TLS), as the server sees it.
    pub encrypted: bool,
}

/// The ledger at an address, connected when first asked and again after a
/// failure: for the parts that ask it something now and then (the papers'
/// audit head, the kiosks' status) and must not die with one lost link.
pub struct Line {
    url: String,
    conn: Option<Ledger>,
    /// The last failure and when: a lost ledger is not asked again for
    /// `RETRY`, so that a page asking every second answers at once meanwhile.
    failed: Option<(std::time::Instant, String)>,
}

/// How long a line that failed waits before it tries the ledger again.
const RETRY: Duration = Duration::from_secs(5);

impl Line {
    pub fn new(url: &str) -> Line {
        Line { url: url.to_string(), conn: None, failed: None }
    }

    /// `f` on the connection; when it fails, the connection is dropped and the next call makes a new one.
    pub fn ask<T>(&mut self, f: impl FnOnce(&mut Ledger) -> Result<T>) -> Result<T> {
        if let Some((at, message)) = &self.failed
            && at.elapsed() < RETRY
        {
            return Err(Error::Ledger { message: message.clone(), source: None });
        }
        let out = match &mut self.conn {
            Some(conn) => f(conn),
            empty => Ledger::connect(&self.url).and_then(|conn| f(empty.insert(conn))),
        };
        match &out {
            Ok(_) => self.failed = None,
            Err(e) => {
                self.conn = None;
                self.failed = Some((std::time::Instant::now(), e.to_string()));
            }
        }
        out
    }
}

/// Opens every copy of the ledger this program makes or opens from now on
/// with the congress's data key: from the ledger, or, when it cannot be
/// reached at start, from `key_file` (removable media).
pub fn unlock_copies(url: &str, key_file: &std::path::Path) -> Result<()> {
    let key = match Ledger::connect(url).and_then(|mut ledger| ledger.data_key()) {
        Ok(key) => key,
        Err(_) if !key_file.as_os_str().is_empty() => crate::store::key::DataKey::read(key_file)?,
        Err(Error::Ledger { message, .. }) => {
            return Err(Error::Ledger {
                message: format!(
                    "{message}\nA copy of the ledger is encrypted with the congress's data key, which comes from \
                     the ledger; to start without it, give [store] key_file (written by `kiosk ledger key --out FILE`)."
                ),
                source: None,
            });
        }
        Err(e) => return Err(e),
    };
    crate::store::key::use_key(key)
}

/// A kiosk as the ledger last heard from it.
#[derive(Debug, Clone, Serialize)]
pub struct KioskStatus {
    pub id: String,
    pub online: bool,
    pub waiting: i64,
    /// RFC 3339, UTC.
    pub last_seen: String,
    pub seconds_ago: f64,
    pub check_ins: i64,
}

/// Said once a run: a link without TLS lets anyone on the hall's network read it.
static CLEAR_TEXT_SAID: AtomicBool = AtomicBool::new(false);

impl Ledger {
    /// Connects within the settings' bounds (`link`), and finds out
    /// whether the link is encrypted.
    fn open(url: &str) -> Result<Self> {
        let address = Address::parse(url)?;
        let pg = address.connect()?;
        let place = address.place.clone();
        let mut ledger = Ledger { pg, address, place, id: String::new(), encrypted: false };
        ledger.encrypted = ledger
            .value::<Option<bool>>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])?
            .unwrap_or(false);
        if !ledger.encrypted && !CLEAR_TEXT_SAID.swap(true, Ordering::Relaxed) {
            eprintln!(
                "note: the link to the ledger at {} is not encrypted: names and face templates cross the network \
                 as they are. See \"Ledger over TLS\" in the README (sslmode=verify-full).",
                ledger.place
            );
        }
        Ok(ledger)
    }

    /// The congress's data key (made by the first to ask), for the copies.
    pub fn data_key(&mut self) -> Result<crate::store::key::DataKey> {
        let made = crate::store::key::DataKey::random();
        self.pg
            .execute("INSERT INTO data_key (key) VALUES ($1) ON CONFLICT DO NOTHING", &[&made.bytes().as_slice()])
            .map_err(|e| self.fail(e))?;
        let bytes: Vec<u8> = self.value("SELECT key FROM data_key", &[])?;
        crate::store::key::DataKey::from_bytes(&bytes)
            .ok_or_else(|| Error::Ledger { message: "the ledger's data key is damaged".into(), source: None })
    }

    /// How the link is protected, for `kiosk ledger status`.
    pub fn protection(&self) -> String {
        match (self.encrypted, self.address.mode) {
            (false, _) => "NOT ENCRYPTED (anyone on the network can read it)".into(),
            (true, link::SslMode::VerifyFull) => "TLS, server certificate and host name checked (verify-full)".into(),
            (true, link::SslMode::VerifyCa) => "TLS, server certificate checked (verify-ca)".into(),
            (true, mode) => format!("TLS, but the server's certificate is not checked (sslmode={})", mode.word()),
        }
    }

    /// A ledger made by `kiosk ledger init`, at this program's schema.
    pub fn connect(url: &str) -> Result<Self> {
        let mut ledger = Self::open(url)?;
        let applied = ledger.applied()?;
        let known = schema::MIGRATIONS.len();
        if applied < known {
            return Err(Error::Ledger {
                message: format!(
                    "the ledger at {} is not set up for this kiosk version (schema {applied} of {known}): \
                     run `kiosk ledger init --ledger URL` once",
                    ledger.place
                ),
                source: None,
            });
        }
        if applied > known {
            return Err(Error::Ledger {
                message: format!(
                    "the ledger at {} has schema {applied}, newer than this program knows ({known}): update the kiosk",
                    ledger.place
                ),
                source: None,
            });
        }
        ledger.id = ledger.value::<String>("SELECT id FROM ledger_info", &[])?;
        Ok(ledger)
    }

    /// Creates or migrates the schema; safe to run again. Returns the versions applied now.
    pub fn init(url: &str) -> Result<usize> {
        let mut ledger = Self::open(url)?;
        let address = ledger.address.clone();
        let fail = |e| address.error(e);
        let mut tx = ledger.pg.transaction().map_err(fail)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK]).map_err(fail)?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS ledger_schema (version INTEGER NOT NULL)").map_err(fail)?;
        let from: i64 =
            tx.query_one("SELECT coalesce(max(version), 0)::bigint FROM ledger_schema", &[]).map_err(fail)?.get(0);
        let mut applied = 0;
        for (version, sql) in schema::MIGRATIONS.iter().enumerate().skip(from as usize) {
            tx.batch_execute(sql).map_err(fail)?;
            tx.execute("INSERT INTO ledger_schema (version) VALUES ($1)", &[&(version as i32 + 1)]).map_err(fail)?;
            applied += 1;
        }
        tx.commit().map_err(fail)?;
        Ok(applied)
    }

    fn applied(&mut self) -> Result<usize> {
        let exists: bool = self.value("SELECT to_regclass('ledger_schema') IS NOT NULL", &[])?;
        if !exists {
            return Ok(0);
        }
        Ok(self.value::<i32>("SELECT coalesce(max(version), 0) FROM ledger_schema", &[])? as usize)
    }

    pub fn place(&self) -> &str {
        &self.place
    }

    /// The server's clock minus this machine's, in seconds, read at the
    /// middle of the round trip. Check-ins are ordered across kiosks by
    /// their times, so kiosks must agree with the ledger on the time.
    pub fn clock_offset(&mut self) -> Result<f64> {
        let before = chrono::Utc::now();
        let server: f64 = self.value("SELECT extract(epoch FROM clock_timestamp())::float8", &[])?;
        let after = chrono::Utc::now();
        let middle = (before.timestamp_micros() + after.timestamp_micros()) as f64 / 2e6;
        Ok(server - middle)
    }

    fn fail(&self, e: PgError) -> Error {
        self.address.error(e)
    }

    fn value<T: for<'a> tokio_postgres::types::FromSql<'a>>(&mut self, sql: &str, params: Params) -> Result<T> {
        match self.pg.query_one(sql, params) {
            Ok(row) => row.try_get(0).map_err(|e| self.fail(e.into())),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Asks to be told of every change to the shared rows (see `notified`).
    pub fn listen(&mut self) -> Result<()> {
        self.pg.batch_execute("LISTEN kiosk_changes; LISTEN kiosk_status").map_err(|e| self.fail(e))
    }

    /// Waits up to `within` for notifications; says whether shared rows
    /// changed and whether a kiosk reported.
    pub fn wait_notified(&mut self, within: Duration) -> Result<(bool, bool)> {
        let notes = self.pg.notified(within);
        if self.pg.is_closed() {
            return Err(Error::Ledger {
                message: format!("the connection to {} was closed", self.place),
                source: None,
            });
        }
        let changed = notes.iter().any(|n| n.channel() == "kiosk_changes");
        Ok((changed, notes.iter().any(|n| n.channel() != "kiosk_changes")))
    }

    /// Says this kiosk is alive and how many check-ins it has waiting.
    pub fn heartbeat(&mut self, kiosk: &str, waiting: usize) -> Result<()> {
        self.pg
            .execute(
                "WITH seen AS (
                     INSERT INTO kiosks (id, last_seen, waiting) VALUES ($1, now(), $2)
                     ON CONFLICT (id) DO UPDATE SET last_seen = now(), waiting = $2
                     RETURNING 1)
                 SELECT pg_notify('kiosk_status', $1) FROM seen",
                &[&kiosk, &(waiting as i64)],
            )
            .map(|_| ())
            .map_err(|e| self.fail(e))
    }

    /// Every kiosk that ever reported, with its check-ins in all sessions.
    pub fn kiosks(&mut self) -> Result<Vec<KioskStatus>> {
        let rows = self
            .pg
            .query(
                "SELECT k.id, k.waiting,
                        to_char(k.last_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                        extract(epoch FROM now() - k.last_seen)::float8,
                        (SELECT count(*) FROM attendance a WHERE a.kiosk = k.id)
                 FROM kiosks k ORDER BY k.id",
                &[],
            )
            .map_err(|e| self.fail(e))?;
        Ok(rows
            .iter()
            .map(|r| {
                let seconds_ago: f64 = r.get(3);
                KioskStatus {
                    id: r.get(0),
                    waiting: r.get(1),
                    last_seen: r.get(2),
                    seconds_ago,
                    online: seconds_ago <= ONLINE_WITHIN_SECONDS,
                    check_ins: r.get(4),
                }
            })
            .collect())
    }

    fn audit_rows(&mut self) -> Result<Vec<AuditRow>> {
        let rows = self
            .pg
            .query("SELECT id, at, action, detail, prev_hash, hash FROM audit ORDER BY id", &[])
            .map_err(|e| self.fail(e))?;
        Ok(rows
            .iter()
            .map(|r| AuditRow {
                id: r.get(0),
                at: r.get(1),
                action: r.get(2),
                detail: r.get(3),
                prev_hash: r.get(4),
                hash: r.get(5),
            })
            .collect())
    }

    /// The head of the congress's one audit chain.
    pub fn audit_head(&mut self) -> Result<AuditHead> {
        let row = self
            .pg
            .query_one(
                "SELECT count(*), coalesce((SELECT hash FROM audit ORDER BY id DESC LIMIT 1), '') FROM audit",
                &[],
            )
            .map_err(|e| self.fail(e))?;
        Ok(AuditHead { count: row.get::<_, i64>(0) as usize, hash: row.get(1) })
    }

    pub fn verify_audit(&mut self, head: Option<&AuditHead>) -> Result<AuditCheck> {
        Ok(verify_chain(&self.audit_rows()?, head))
    }
}
