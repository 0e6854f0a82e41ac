//! The shared ledger: one PostgreSQL database for a congress with several
//! entrances. Kiosks keep working on their own SQLite copy (`store::replica`)
//! and never wait on the network: `sync` moves rows both ways, `syncer` does
//! it in the background, `import` brings in a single-kiosk file once.

pub mod import;
pub mod schema;
pub mod sync;
pub mod syncer;

use std::str::FromStr;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::audit::{AuditCheck, AuditHead, AuditRow, verify_chain};

/// The `[ledger]` settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LedgerConfig {
    /// `postgresql://user@host:port/db`; empty = the single SQLite file.
    pub url: String,
}

impl LedgerConfig {
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.url.is_empty() {
            return Ok(());
        }
        postgres::Config::from_str(&self.url).map(|_| ()).map_err(|e| {
            format!("ledger.url is not a PostgreSQL address ({e}); write it as postgresql://USER@HOST:PORT/DB")
        })
    }
}

/// Taken first by every transaction that writes shared rows (see `schema`).
const WRITE_LOCK: i64 = 7_320_001;
/// A kiosk not heard from for this long is shown offline.
const ONLINE_WITHIN_SECONDS: f64 = 10.0;

pub struct Ledger {
    client: Client,
    /// Where it is, without the password: for messages.
    place: String,
    /// Names this ledger: a local copy of another one is refused.
    pub id: String,
}

/// The ledger at an address, connected when first asked and again after a
/// failure: for the parts that ask it something now and then (the papers'
/// audit head, the kiosks' status) and must not die with one lost link.
pub struct Line {
    url: String,
    conn: Option<Ledger>,
}

impl Line {
    pub fn new(url: &str) -> Line {
        Line { url: url.to_string(), conn: None }
    }

    /// `f` on the connection; when it fails, the connection is dropped and the next call makes a new one.
    pub fn ask<T>(&mut self, f: impl FnOnce(&mut Ledger) -> Result<T>) -> Result<T> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            empty => empty.insert(Ledger::connect(&self.url)?),
        };
        let out = f(conn);
        if out.is_err() {
            self.conn = None;
        }
        out
    }
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

fn place(url: &str) -> String {
    let Ok(cfg) = postgres::Config::from_str(url) else { return "the ledger".into() };
    let host = match cfg.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", cfg.get_dbname().unwrap_or("postgres"))
}

/// PostgreSQL's errors, said the way an organiser can act on them.
pub(crate) fn ledger_error(place: &str, e: postgres::Error) -> Error {
    let message = if let Some(db) = e.as_db_error() {
        format!("the ledger at {place} refused: {} ({})", db.message(), db.code().code())
    } else if e.is_closed() || e.to_string().contains("connect") || e.to_string().contains("timed out") {
        format!(
            "cannot reach the ledger at {place} ({e}). Check that the server runs and the network is up; \
             kiosks keep checking people in and send their check-ins when it is back."
        )
    } else {
        format!("the ledger at {place}: {e}")
    };
    Error::Ledger { message, source: Some(e) }
}

impl Ledger {
    /// Connects without waiting long: two seconds to connect, and a link
    /// that stops answering is given up after a few seconds, not minutes.
    fn open(url: &str) -> Result<Self> {
        let place = place(url);
        let mut cfg = postgres::Config::from_str(url).map_err(|e| {
            Error::Config(format!(
                "\"{place}\" is not a PostgreSQL address ({e}); write it as postgresql://USER@HOST:PORT/DB"
            ))
        })?;
        cfg.application_name("kiosk")
            .connect_timeout(Duration::from_secs(2))
            .tcp_user_timeout(Duration::from_secs(4))
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(2))
            .keepalives_interval(Duration::from_secs(1))
            .keepalives_retries(2);
        let client = cfg.connect(NoTls).map_err(|e| ledger_error(&place, e))?;
        Ok(Ledger { client, place, id: String::new() })
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
        let place = ledger.place.clone();
        let fail = |e| ledger_error(&place, e);
        let mut tx = ledger.client.transaction().map_err(fail)?;
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

    fn fail(&self, e: postgres::Error) -> Error {
        ledger_error(&self.place, e)
    }

    fn value<T: for<'a> postgres::types::FromSql<'a>>(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<T> {
        match self.client.query_one(sql, params) {
            Ok(row) => row.try_get(0).map_err(|e| self.fail(e)),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Asks to be told of every change to the shared rows (see `notified`).
    pub fn listen(&mut self) -> Result<()> {
        self.client.batch_execute("LISTEN kiosk_changes; LISTEN kiosk_status").map_err(|e| self.fail(e))
    }

    /// Waits up to `within` for notifications; says whether shared rows
    /// changed and whether a kiosk reported.
    pub fn wait_notified(&mut self, within: Duration) -> Result<(bool, bool)> {
        let mut out = (false, false);
        {
            let mut notes = self.client.notifications();
            let mut iter = notes.timeout_iter(within);
            loop {
                match iter.next() {
                    Ok(Some(n)) if n.channel() == "kiosk_changes" => out.0 = true,
                    Ok(Some(_)) => out.1 = true,
                    Ok(None) => break,
                    Err(e) => return Err(ledger_error(&self.place, e)),
                }
                // Take what came together, then report: a burst is one pull.
                if iter.size_hint().0 == 0 {
                    break;
                }
            }
        }
        if self.client.is_closed() {
            return Err(Error::Ledger {
                message: format!("the connection to {} was closed", self.place),
                source: None,
            });
        }
        Ok(out)
    }

    /// Says this kiosk is alive and how many check-ins it has waiting.
    pub fn heartbeat(&mut self, kiosk: &str, waiting: usize) -> Result<()> {
        self.client
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
            .client
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
            .client
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
            .client
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
