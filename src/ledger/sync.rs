//! Rows both ways between a local copy and the ledger. A push sends the
//! outbox in order, in one transaction per batch: what the ledger took is
//! then taken off the outbox, and sending a batch twice changes nothing. A
//! pull asks for every row above the copy's change counter.

use rusqlite::types::Value;

use crate::error::Result;
use crate::ledger::pg::{PgError, PgResult, Row, ToSql, Tx};
use crate::ledger::{Ledger, WRITE_LOCK};
use crate::store::Store;
use crate::store::audit::audit_hash;
use crate::store::replica::{Kind, Pending, Pulled, TABLES, Table};
use crate::store::time::Timestamp;

/// Outbox entries sent in one transaction.
const BATCH: usize = 500;
/// Rows pulled into the copy in one of its transactions.
const CHUNK: usize = 2000;

type Param = Box<dyn ToSql + Sync>;

fn param(v: &Value, kind: Kind) -> Param {
    match (kind, v) {
        (Kind::Text, Value::Text(s)) => Box::new(Some(s.clone())),
        (Kind::Text, _) => Box::new(None::<String>),
        (Kind::Int, Value::Integer(i)) => Box::new(Some(*i)),
        (Kind::Int, Value::Real(f)) => Box::new(Some(*f as i64)),
        (Kind::Int, _) => Box::new(None::<i64>),
        (Kind::Real, Value::Real(f)) => Box::new(Some(*f)),
        (Kind::Real, Value::Integer(i)) => Box::new(Some(*i as f64)),
        (Kind::Real, _) => Box::new(None::<f64>),
        (Kind::Blob, Value::Blob(b)) => Box::new(Some(b.clone())),
        (Kind::Blob, _) => Box::new(None::<Vec<u8>>),
    }
}

fn read(row: &Row, i: usize, kind: Kind) -> PgResult<Value> {
    Ok(match kind {
        Kind::Text => row.try_get::<_, Option<String>>(i)?.map_or(Value::Null, Value::Text),
        Kind::Int => row.try_get::<_, Option<i64>>(i)?.map_or(Value::Null, Value::Integer),
        Kind::Real => row.try_get::<_, Option<f64>>(i)?.map_or(Value::Null, Value::Real),
        Kind::Blob => row.try_get::<_, Option<Vec<u8>>>(i)?.map_or(Value::Null, Value::Blob),
    })
}

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p.as_ref()).collect()
}

/// The ledger's rules refused the change (an integrity constraint).
fn refused(e: &PgError) -> bool {
    e.code().is_some_and(|c| c.code().starts_with("23"))
}

/// A value as the audit log keeps it: blobs by their size only.
fn shown(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => (*i).into(),
        Value::Real(f) => (*f).into(),
        Value::Text(t) => t.as_str().into(),
        Value::Blob(b) => format!("<{} bytes>", b.len()).into(),
    }
}

fn text(v: &Value) -> &str {
    match v {
        Value::Text(s) => s,
        _ => "",
    }
}

/// Who sends: the kiosk's name, and the name its file's audit entries carry.
#[derive(Debug, Clone)]
pub struct Sender<'a> {
    pub kiosk: &'a str,
    pub origin: &'a str,
}

/// One transaction of the ledger that writes shared rows.
pub(crate) struct Writer<'t, 'c> {
    pub(crate) tx: &'t mut Tx<'c>,
    /// The chain's last hash, once read.
    last_hash: Option<String>,
    /// Check-ins the ledger already had from another kiosk (kept once, logged).
    pub duplicates: usize,
    /// Each change in a savepoint of its own, so that one the ledger refuses
    /// can be set aside: two more round trips a change, so only on a second
    /// try, after a batch failed on a refused change.
    careful: bool,
}

impl<'t, 'c> Writer<'t, 'c> {
    pub(crate) fn new(tx: &'t mut Tx<'c>, careful: bool) -> PgResult<Self> {
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
        Ok(Writer { tx, last_hash: None, duplicates: 0, careful })
    }

    /// Applies one change. One the ledger's rules refuse (a check-in of a
    /// delegate removed meanwhile, say) is written to the audit log as
    /// `rejected_change`, with the row, instead of blocking every change after it.
    pub(crate) fn apply(&mut self, change: &Pending, from: &Sender, now: &str) -> PgResult<()> {
        if !self.careful {
            return self.apply_one(change, from, now);
        }
        self.tx.batch_execute("SAVEPOINT change")?;
        match self.apply_one(change, from, now) {
            Ok(()) => self.tx.batch_execute("RELEASE SAVEPOINT change"),
            Err(e) if refused(&e) => {
                self.tx.batch_execute("ROLLBACK TO SAVEPOINT change")?;
                // The chain's last hash may have moved inside the rolled-back part.
                self.last_hash = None;
                let what = match change {
                    Pending::Row { table, key, row } => serde_json::json!({"table": table.name, "key": key,
                        "row": row.as_ref().map(|r| r.iter().map(shown).collect::<Vec<_>>())}),
                    Pending::Audit { id, action, .. } => serde_json::json!({"audit": id, "action": action}),
                };
                let reason = e.as_db_error().map(|d| d.message().to_string()).unwrap_or_else(|| e.to_string());
                let detail = serde_json::json!({"change": what, "refused": reason});
                self.append(now, "rejected_change", &detail.to_string(), from, None)
            }
            Err(e) => Err(e),
        }
    }

    fn apply_one(&mut self, change: &Pending, from: &Sender, now: &str) -> PgResult<()> {
        match change {
            Pending::Audit { id, at, action, detail } => self.append(at, action, detail, from, Some(*id)),
            Pending::Row { table, row: Some(row), .. } if table.name == "attendance" => self.check_in(row, from, now),
            Pending::Row { table, row: Some(row), .. } => self.upsert(table, row),
            Pending::Row { table, key, row: None } => self.delete(table, key, now),
        }
    }

    fn upsert(&mut self, table: &Table, row: &[Value]) -> PgResult<()> {
        self.upsert_with(table, row, None)
    }

    /// The row, and a column of the ledger's own beside it (`origin`).
    fn upsert_with(&mut self, table: &Table, row: &[Value], extra: Option<(&str, &str)>) -> PgResult<()> {
        let mut names: Vec<&str> = table.columns.iter().map(|c| c.0).collect();
        let mut params: Vec<Param> = row.iter().zip(table.columns).map(|(v, c)| param(v, c.1)).collect();
        if let Some((column, value)) = extra {
            names.push(column);
            params.push(Box::new(value.to_string()));
        }
        let slots: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
        let set: Vec<String> = names[table.key..].iter().map(|c| format!("{c} = EXCLUDED.{c}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
            table.name,
            names.join(", "),
            slots.join(", "),
            names[..table.key].join(", "),
            set.join(", ")
        );
        self.tx.execute(&sql, &refs(&params))?;
        Ok(())
    }

    fn delete(&mut self, table: &Table, key: &[String], now: &str) -> PgResult<()> {
        let cond: Vec<String> =
            table.columns[..table.key].iter().enumerate().map(|(i, c)| format!("{} = ${}", c.0, i + 1)).collect();
        let params: Vec<&(dyn ToSql + Sync)> = key.iter().map(|k| k as &(dyn ToSql + Sync)).collect();
        if table.name == "delegates" {
            // Attended somewhere (perhaps at another kiosk): the row stays, marked removed.
            let deleted = self.tx.execute(
                "DELETE FROM delegates WHERE code = $1 AND NOT EXISTS (SELECT 1 FROM attendance WHERE delegate_code = $1)",
                &params,
            )?;
            if deleted == 0 {
                self.tx.execute(
                    "UPDATE delegates SET removed_at = coalesce(removed_at, $2) WHERE code = $1",
                    &[&key[0], &now],
                )?;
            }
            return Ok(());
        }
        self.tx.execute(&format!("DELETE FROM {} WHERE {}", table.name, cond.join(" AND ")), &params)?;
        Ok(())
    }

    /// One attendance per session and delegate: the earliest check-in is
    /// kept, the other is written to the audit log as a duplicate.
    fn check_in(&mut self, row: &[Value], from: &Sender, now: &str) -> PgResult<()> {
        let (session, code, at, kiosk) = (text(&row[0]), text(&row[1]), text(&row[2]), text(&row[4]));
        let held = self.tx.query_opt(
            "SELECT checked_in_at, kiosk, method, origin FROM attendance
             WHERE session = $1 AND delegate_code = $2 FOR UPDATE",
            &[&session, &code],
        )?;
        let record = |w: &mut Self| {
            w.upsert_with(Table::named("attendance").expect("shared table"), row, Some(("origin", from.origin)))
        };
        let Some(held) = held else { return record(self) };
        let (held_at, held_kiosk, held_method, held_origin): (String, String, String, String) =
            (held.get(0), held.get(1), held.get(2), held.get(3));
        if held_origin == from.origin {
            // This copy's own check-in: sent again (a snapshot added, a batch
            // sent twice), or undone and made again there while it was
            // offline (the outbox sends the row as it is now): it wins.
            return record(self);
        }
        let earlier = match (at.parse::<Timestamp>(), held_at.parse::<Timestamp>()) {
            (Ok(new), Ok(old)) => new.0 < old.0,
            _ => false,
        };
        let this = serde_json::json!({"checked_in_at": at, "kiosk": kiosk, "method": text(&row[3])});
        let other = serde_json::json!({"checked_in_at": held_at, "kiosk": held_kiosk, "method": held_method});
        let (kept, dropped) = if earlier { (this, other) } else { (other, this) };
        if earlier {
            record(self)?;
        }
        self.duplicates += 1;
        let detail = serde_json::json!({"session": session, "code": code, "kept": kept, "dropped": dropped});
        self.append(now, "duplicate_check_in", &detail.to_string(), from, None)
    }

    /// Chains an entry onto the congress's log; an entry of a kiosk's file
    /// that is already there is not written twice.
    pub(crate) fn append(
        &mut self,
        at: &str,
        action: &str,
        detail: &str,
        from: &Sender,
        origin_id: Option<i64>,
    ) -> PgResult<()> {
        let prev = match self.last_hash.take() {
            Some(h) => h,
            None => self
                .tx
                .query_opt("SELECT hash FROM audit ORDER BY id DESC LIMIT 1", &[])?
                .map(|r| r.get(0))
                .unwrap_or_default(),
        };
        let hash = audit_hash(&prev, at, action, detail);
        let written = self.tx.execute(
            "INSERT INTO audit (at, action, detail, prev_hash, hash, kiosk, origin, origin_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (origin, origin_id) DO NOTHING",
            &[&at, &action, &detail, &prev, &hash, &from.kiosk, &from.origin, &origin_id],
        )?;
        self.last_hash = Some(if written == 1 { hash } else { prev });
        Ok(())
    }
}

impl Ledger {
    /// Sends a batch of changes in one transaction; returns the duplicates found.
    pub fn push(&mut self, changes: &[(i64, Pending)], from: &Sender, now: &str) -> Result<usize> {
        match self.try_push(changes, from, now, false) {
            Err(e) if refused(&e) => self.try_push(changes, from, now, true).map_err(|e| self.fail(e)),
            out => out.map_err(|e| self.fail(e)),
        }
    }

    fn try_push(&mut self, changes: &[(i64, Pending)], from: &Sender, now: &str, careful: bool) -> PgResult<usize> {
        let mut tx = self.pg.transaction()?;
        let duplicates = {
            let mut w = Writer::new(&mut tx, careful)?;
            for (_, change) in changes {
                w.apply(change, from, now)?;
            }
            w.duplicates
        };
        tx.commit()?;
        Ok(duplicates)
    }

    /// Every shared row changed or deleted after change `since`, as of one
    /// moment, handed to `take` a chunk at a time (an 85,000-delegate roster
    /// with its photos is a gigabyte): deletions first, then each table in
    /// order. Only the last chunk carries the new change counter, so an
    /// interrupted pull starts again from the old one.
    pub fn pull(&mut self, since: i64, mut take: impl FnMut(Pulled) -> Result<()>) -> Result<()> {
        let address = self.address.clone();
        let fail = |e| address.error(e);
        let mut tx = self.pg.snapshot().map_err(fail)?;
        let mut version = since;
        let mut chunk = Pulled::default();
        for row in tx.query("SELECT version, tbl, key FROM tombstones WHERE version > $1", &[&since]).map_err(fail)? {
            version = version.max(row.get(0));
            let (tbl, key): (String, String) = (row.get(1), row.get(2));
            if let (Some(table), Ok(key)) = (Table::named(&tbl), serde_json::from_str::<Vec<String>>(&key)) {
                chunk.gone.push((table, key));
            }
        }
        for table in TABLES {
            let names: Vec<&str> = table.columns.iter().map(|c| c.0).collect();
            let sql = format!("SELECT {}, version FROM {} WHERE version > $1", names.join(", "), table.name);
            let mut rows = tx.rows(&sql, &[&since]).map_err(fail)?;
            while let Some(row) = rows.next_row().map_err(fail)? {
                let values =
                    table.columns.iter().enumerate().map(|(i, c)| read(&row, i, c.1)).collect::<Result<Vec<_>, _>>();
                chunk.rows.push((table, values.map_err(fail)?));
                version = version.max(row.get(names.len()));
                if chunk.rows.len() >= CHUNK {
                    take(std::mem::take(&mut chunk))?;
                }
            }
        }
        tx.commit().map_err(fail)?;
        chunk.version = Some(version);
        take(chunk)
    }
}

/// Sends everything the copy has waiting, batch by batch; returns how many
/// changes went and the duplicate check-ins the ledger found.
pub fn push_all(store: &mut Store, ledger: &mut Ledger, kiosk: &str) -> Result<(usize, usize)> {
    let Some(of) = store.replica_of()? else { return Ok((0, 0)) };
    let from = Sender { kiosk, origin: &of.origin };
    let (mut sent, mut duplicates) = (0, 0);
    loop {
        let batch = store.pending(BATCH)?;
        let Some(&(last, _)) = batch.last() else { return Ok((sent, duplicates)) };
        duplicates += ledger.push(&batch, &from, &store.zone().now().to_string())?;
        store.taken(last)?;
        sent += batch.len();
    }
}

/// Makes `store` a copy of `ledger` (a new file becomes one; a copy of
/// another ledger, or a file with a congress of its own, is refused) and
/// brings it up to date, as `pull_into`.
pub fn follow(store: &mut Store, ledger: &mut Ledger) -> Result<(usize, bool)> {
    store.become_replica(&ledger.id)?;
    pull_into(store, ledger)
}

/// Brings the copy up to the ledger; returns the rows pulled, and whether
/// any of them changes who the kiosk can recognise.
pub fn pull_into(store: &mut Store, ledger: &mut Ledger) -> Result<(usize, bool)> {
    let roster = |t: &Table| matches!(t.name, "delegates" | "templates" | "lookalikes" | "calibration");
    let since = store.pulled_version()?;
    let (mut n, mut touches_roster) = (0, false);
    ledger.pull(since, |chunk| {
        touches_roster |= chunk.rows.iter().map(|r| r.0).chain(chunk.gone.iter().map(|g| g.0)).any(roster);
        n += chunk.rows.len() + chunk.gone.len();
        if !chunk.is_empty() || chunk.version.is_some_and(|v| v != since) {
            store.apply_pulled(&chunk)?;
        }
        Ok(())
    })?;
    Ok((n, touches_roster))
}
