//! A local copy of a shared ledger (the `ledger` layer moves the rows).
//! Every change made here is noted in an outbox by temporary triggers, so no
//! write path of the store can forget it; rows that come from the ledger are
//! applied with the noting switched off. Keys travel as JSON arrays of text.

use std::collections::HashSet;

use rusqlite::OptionalExtension;
use rusqlite::types::Value;

use crate::error::{Error, Result};
use crate::store::Store;

/// How a column travels: the ledger's columns have the matching SQL types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Real,
    Blob,
}

/// A table shared with the ledger, with the same columns on both sides;
/// only attendance names its session (the ledger's key) where the file
/// keeps a session id.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    /// The key's columns first.
    pub columns: &'static [(&'static str, Kind)],
    pub key: usize,
}

use Kind::{Blob, Int, Real, Text};

/// In the order rows must be applied (a row's references first).
pub const TABLES: &[Table] = &[
    Table {
        name: "delegates",
        columns: &[
            ("code", Text),
            ("name", Text),
            ("delegation", Text),
            ("seat", Text),
            ("extra", Text),
            ("updated_at", Text),
            ("removed_at", Text),
        ],
        key: 1,
    },
    Table {
        name: "templates",
        columns: &[
            ("delegate_code", Text),
            ("photo", Text),
            ("model", Text),
            ("embedding", Blob),
            ("photo_sha256", Text),
            ("quality", Text),
            ("created_at", Text),
            ("thumbnail", Blob),
        ],
        key: 3,
    },
    Table {
        name: "sessions",
        columns: &[("name", Text), ("opens", Text), ("closes", Text), ("created_at", Text)],
        key: 1,
    },
    Table {
        name: "attendance",
        columns: &[
            ("session", Text),
            ("delegate_code", Text),
            ("checked_in_at", Text),
            ("method", Text),
            ("kiosk", Text),
            ("score", Real),
            ("frames", Int),
            ("snapshot", Blob),
        ],
        key: 2,
    },
    Table {
        name: "lookalikes",
        columns: &[("model", Text), ("code_a", Text), ("code_b", Text), ("score", Real)],
        key: 3,
    },
    Table {
        name: "badges",
        columns: &[("token_sha256", Text), ("delegate_code", Text), ("serial", Int), ("replaced_at", Text)],
        key: 1,
    },
    Table {
        name: "calibration",
        columns: &[
            ("model", Text),
            ("threshold", Real),
            ("expected_fpir", Real),
            ("people", Int),
            ("pairs", Int),
            ("at", Text),
            ("one_to_one", Real),
        ],
        key: 1,
    },
];

const SESSION_NAME: &str = "(SELECT name FROM sessions WHERE id = attendance.session_id)";

impl Table {
    pub fn named(name: &str) -> Option<&'static Table> {
        TABLES.iter().find(|t| t.name == name)
    }

    fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.columns.iter().map(|c| c.0)
    }

    /// A column as the file keeps it.
    fn local(&self, column: &str) -> String {
        match (self.name, column) {
            ("attendance", "session") => SESSION_NAME.into(),
            _ => format!("{}.{column}", self.name),
        }
    }

    fn key_condition(&self) -> String {
        let cond = |(i, c): (usize, &str)| match (self.name, c) {
            ("attendance", "session") => format!("session_id = (SELECT id FROM sessions WHERE name = ?{})", i + 1),
            _ => format!("{c} = ?{}", i + 1),
        };
        self.names().take(self.key).enumerate().map(cond).collect::<Vec<_>>().join(" AND ")
    }

    fn select_sql(&self) -> String {
        let cols: Vec<String> = self.names().map(|c| self.local(c)).collect();
        format!("SELECT {} FROM {}", cols.join(", "), self.name)
    }

    fn upsert_sql(&self) -> String {
        let stored = |c: &'static str| -> &'static str {
            if c == "session" && self.name == "attendance" { "session_id" } else { c }
        };
        let cols: Vec<&str> = self.names().map(stored).collect();
        let values: Vec<String> = self
            .names()
            .enumerate()
            .map(|(i, c)| match stored(c) {
                "session_id" => format!("(SELECT id FROM sessions WHERE name = ?{})", i + 1),
                _ => format!("?{}", i + 1),
            })
            .collect();
        let set: Vec<String> = cols[self.key..].iter().map(|c| format!("{c} = excluded.{c}")).collect();
        // A check-in made here and not yet in the ledger stays if it was the earlier one.
        let keep_earlier = if self.name == "attendance" {
            " WHERE NOT julianday(attendance.checked_in_at) < julianday(excluded.checked_in_at)"
        } else {
            ""
        };
        format!(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}{keep_earlier}",
            self.name,
            cols.join(", "),
            values.join(", "),
            cols[..self.key].join(", "),
            set.join(", ")
        )
    }

    fn delete_sql(&self) -> String {
        // A delegate who attended keeps their row, as `remove_delegate` does.
        let attended = if self.name == "delegates" {
            " AND NOT EXISTS (SELECT 1 FROM attendance WHERE delegate_code = ?1)"
        } else {
            ""
        };
        format!("DELETE FROM {} WHERE {}{attended}", self.name, self.key_condition())
    }

    fn trigger_key(&self, row: &str) -> String {
        let parts: Vec<String> = self
            .names()
            .take(self.key)
            .map(|c| match (self.name, c) {
                ("attendance", "session") => format!("(SELECT name FROM main.sessions WHERE id = {row}.session_id)"),
                _ => format!("{row}.{c}"),
            })
            .collect();
        format!("json_array({})", parts.join(", "))
    }
}

/// A change made here that the ledger has not taken yet.
#[derive(Debug, Clone)]
pub enum Pending {
    /// The row as it is now; None when it was deleted.
    Row { table: &'static Table, key: Vec<String>, row: Option<Vec<Value>> },
    /// An entry of this file's audit log, to be chained into the ledger's.
    Audit { id: i64, at: String, action: String, detail: String },
}

/// What a pull brought: keys the ledger deleted, rows as they are there,
/// and, on a pull's last part, the change counter they bring this copy up to.
#[derive(Debug, Default)]
pub struct Pulled {
    pub gone: Vec<(&'static Table, Vec<String>)>,
    pub rows: Vec<(&'static Table, Vec<Value>)>,
    pub version: Option<i64>,
}

impl Pulled {
    pub fn is_empty(&self) -> bool {
        self.gone.is_empty() && self.rows.is_empty()
    }
}

/// Which ledger a file copies, and the name its changes carry there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaOf {
    pub ledger: String,
    pub origin: String,
}

fn key_of(row: &[Value], n: usize) -> Vec<String> {
    row[..n]
        .iter()
        .map(|v| match v {
            Value::Text(s) => s.clone(),
            Value::Integer(i) => i.to_string(),
            other => format!("{other:?}"),
        })
        .collect()
}

impl Store {
    pub fn replica_of(&self) -> Result<Option<ReplicaOf>> {
        let get = |name: &str| -> Result<Option<String>> {
            self.conn
                .query_row("SELECT value FROM ledger_state WHERE name = ?1", [name], |r| r.get(0))
                .optional()
                .map_err(|e| self.fail(e))
        };
        Ok(match (get("ledger")?, get("origin")?) {
            (Some(ledger), Some(origin)) => Some(ReplicaOf { ledger, origin }),
            _ => None,
        })
    }

    /// Makes this file a copy of the ledger `ledger` (its id). A file that
    /// already holds a congress of its own is refused: it is brought in with
    /// `kiosk ledger import`, never silently mixed.
    pub fn become_replica(&mut self, ledger: &str) -> Result<ReplicaOf> {
        if let Some(of) = self.replica_of()? {
            if of.ledger != ledger {
                return Err(Error::Input(format!(
                    "{} is the local copy of another ledger ({}); give this kiosk a new --db file",
                    self.path.display(),
                    of.ledger
                )));
            }
            return Ok(of);
        }
        let own: usize = self.value("SELECT (SELECT count(*) FROM delegates) + (SELECT count(*) FROM sessions)", [])?;
        if own > 0 {
            return Err(Error::Input(format!(
                "{} holds a congress of its own (delegates or sessions): bring it into the ledger once with \
                 `kiosk ledger import --db {}`, and give the kiosk a new --db file for its local copy",
                self.path.display(),
                self.path.display()
            )));
        }
        let origin = hex::encode(rand::random::<[u8; 8]>());
        self.conn
            .execute(
                "INSERT INTO ledger_state (name, value) VALUES ('ledger', ?1), ('origin', ?2)
                 ON CONFLICT (name) DO NOTHING",
                [ledger, &origin],
            )
            .map_err(|e| self.fail(e))?;
        self.note_changes()?;
        self.replica_of()?.ok_or_else(|| Error::Input("the local copy could not be marked".into()))
    }

    /// Makes a local copy a file of its own again, for purging it after the
    /// congress; refused while changes wait for the ledger (they would be lost).
    pub fn detach_replica(&mut self) -> Result<()> {
        let (waiting, _) = self.waiting()?;
        if waiting > 0 {
            return Err(Error::Input(format!(
                "{} still holds {waiting} changes the ledger has not taken: run the kiosk online until they are sent",
                self.path.display()
            )));
        }
        self.conn
            .execute_batch("UPDATE temp.replication SET recording = 0; DELETE FROM ledger_state;")
            .map_err(|e| self.fail(e))
    }

    /// On a copy of a ledger, installs this connection's triggers that note
    /// every change in the outbox. Called when the file is opened.
    pub(crate) fn note_changes(&self) -> Result<()> {
        let mut sql = String::from(
            "CREATE TEMP TABLE IF NOT EXISTS replication (recording INTEGER NOT NULL);
             INSERT INTO temp.replication SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM temp.replication);",
        );
        for t in TABLES {
            for (event, row) in [("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")] {
                sql += &format!(
                    "CREATE TEMP TRIGGER IF NOT EXISTS note_{name}_{event} AFTER {event} ON main.{name}
                     WHEN (SELECT recording FROM temp.replication)
                     BEGIN INSERT INTO outbox (tbl, key) VALUES ('{name}', {key}); END;",
                    name = t.name,
                    key = t.trigger_key(row)
                );
            }
        }
        sql += "CREATE TEMP TRIGGER IF NOT EXISTS note_audit AFTER INSERT ON main.audit
                WHEN (SELECT recording FROM temp.replication)
                BEGIN INSERT INTO outbox (tbl, key) VALUES ('audit', json_array(NEW.id)); END;";
        self.conn.execute_batch(&sql).map_err(|e| self.fail(e))
    }

    /// The outbox's oldest `limit` changes, each with its outbox id and the
    /// row as it is now (a key changed twice goes once, at its first place).
    pub fn pending(&self, limit: usize) -> Result<Vec<(i64, Pending)>> {
        let entries: Vec<(i64, String, String)> =
            self.rows("SELECT id, tbl, key FROM outbox ORDER BY id LIMIT ?1", [limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(entries.len());
        for (id, tbl, key) in entries {
            if !seen.insert((tbl.clone(), key.clone())) {
                continue;
            }
            let bad = || Error::Input(format!("outbox entry {id} of {} is damaged ({tbl} {key})", self.path.display()));
            let key: Vec<Value> = serde_json::from_str::<Vec<serde_json::Value>>(&key)
                .map_err(|_| bad())?
                .into_iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => Value::Text(s),
                    serde_json::Value::Number(n) => Value::Integer(n.as_i64().unwrap_or_default()),
                    _ => Value::Null,
                })
                .collect();
            if tbl == "audit" {
                let Some(Value::Integer(audit_id)) = key.first() else { return Err(bad()) };
                let entry = self
                    .conn
                    .query_row("SELECT at, action, detail FROM audit WHERE id = ?1", [audit_id], |r| {
                        Ok(Pending::Audit { id: *audit_id, at: r.get(0)?, action: r.get(1)?, detail: r.get(2)? })
                    })
                    .optional()
                    .map_err(|e| self.fail(e))?;
                out.extend(entry.map(|e| (id, e)));
                continue;
            }
            let table = Table::named(&tbl).ok_or_else(bad)?;
            let sql = format!("{} WHERE {}", table.select_sql(), table.key_condition());
            let width = table.columns.len();
            let row = self
                .conn
                .query_row(&sql, rusqlite::params_from_iter(&key), |r| {
                    (0..width).map(|i| r.get::<_, Value>(i)).collect::<rusqlite::Result<Vec<_>>>()
                })
                .optional()
                .map_err(|e| self.fail(e))?;
            out.push((id, Pending::Row { table, key: key_of(&key, key.len()), row }));
        }
        Ok(out)
    }

    /// The ledger has taken every change up to outbox entry `upto`.
    pub fn taken(&mut self, upto: i64) -> Result<()> {
        self.conn.execute("DELETE FROM outbox WHERE id <= ?1", [upto]).map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Changes not yet in the ledger: all of them, and the check-ins among them.
    pub fn waiting(&self) -> Result<(usize, usize)> {
        self.conn
            .query_row("SELECT count(*), count(DISTINCT key) FILTER (WHERE tbl = 'attendance') FROM outbox", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(|e| self.fail(e))
    }

    /// The ledger's change counter this copy is up to.
    pub fn pulled_version(&self) -> Result<i64> {
        self.value("SELECT coalesce((SELECT CAST(value AS INTEGER) FROM ledger_state WHERE name = 'pulled'), 0)", [])
    }

    /// Applies (part of) what a pull brought, in one transaction, without
    /// noting it in the outbox; deletions first (a key deleted and made again
    /// comes back among the rows); returns how many rows changed.
    pub fn apply_pulled(&mut self, pulled: &Pulled) -> Result<usize> {
        self.transaction(|tx| {
            tx.execute("UPDATE temp.replication SET recording = 0", [])?;
            let mut changed = 0;
            for (table, key) in &pulled.gone {
                changed += tx.execute(&table.delete_sql(), rusqlite::params_from_iter(key))?;
            }
            for table in TABLES {
                let sql = table.upsert_sql();
                for (_, row) in pulled.rows.iter().filter(|(t, _)| t.name == table.name) {
                    changed += tx.execute(&sql, rusqlite::params_from_iter(row))?;
                }
            }
            if let Some(version) = pulled.version {
                tx.execute(
                    "INSERT INTO ledger_state (name, value) VALUES ('pulled', ?1)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    [version.to_string()],
                )?;
            }
            tx.execute("UPDATE temp.replication SET recording = 1", [])?;
            Ok(changed)
        })
    }

    /// Every row of a shared table, for bringing a whole file into a ledger.
    pub fn table_rows(&self, table: &Table) -> Result<Vec<Vec<Value>>> {
        let width = table.columns.len();
        self.rows(&table.select_sql(), [], |r| (0..width).map(|i| r.get::<_, Value>(i)).collect())
    }

    /// Every audit entry, oldest first, as `Pending::Audit`.
    pub fn audit_pending(&self) -> Result<Vec<Pending>> {
        self.rows("SELECT id, at, action, detail FROM audit ORDER BY id", [], |r| {
            Ok(Pending::Audit { id: r.get(0)?, at: r.get(1)?, action: r.get(2)?, detail: r.get(3)? })
        })
    }

    /// The first audit entry's hash: it names the file for good (its time
    /// and content are in it), so that a file is brought in only once.
    pub fn birth_mark(&self) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT hash FROM audit ORDER BY id LIMIT 1", [], |r| r.get(0))
            .optional()
            .map_err(|e| self.fail(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Delegate, Method};

    fn delegate(code: &str) -> Delegate {
        Delegate {
            code: code.into(),
            name: format!("Nguyễn Văn {code}"),
            delegation: "Hà Nội".into(),
            seat: String::new(),
            extra: Default::default(),
        }
    }

    #[test]
    fn every_change_is_noted_and_pulled_rows_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("copy.db");
        let mut store = Store::open(&path).unwrap();
        let of = store.become_replica("ledger-1").unwrap();
        assert_eq!(store.replica_of().unwrap(), Some(of.clone()));

        // Rows from the ledger: nothing to send back.
        let pulled = Pulled {
            rows: vec![
                (Table::named("delegates").unwrap(), {
                    let d = delegate("A1");
                    vec![
                        Value::Text(d.code),
                        Value::Text(d.name),
                        Value::Text(d.delegation),
                        Value::Text(d.seat),
                        Value::Text("{}".into()),
                        Value::Text("2026-11-28T08:00:00.000+07:00".into()),
                        Value::Null,
                    ]
                }),
                (
                    Table::named("sessions").unwrap(),
                    vec![Value::Text("S1".into()), Value::Null, Value::Null, Value::Text("x".into())],
                ),
            ],
            gone: vec![],
            version: Some(7),
        };
        assert_eq!(store.apply_pulled(&pulled).unwrap(), 2);
        assert_eq!(store.waiting().unwrap(), (0, 0));
        assert_eq!(store.pulled_version().unwrap(), 7);

        // A check-in made here: the attendance row and its audit entry wait.
        store.check_in("S1", "A1", Method::Manual, "k1", None).unwrap();
        assert_eq!(store.waiting().unwrap(), (2, 1));
        let pending = store.pending(10).unwrap();
        match &pending[0].1 {
            Pending::Row { table, key, row: Some(row) } => {
                assert_eq!(table.name, "attendance");
                assert_eq!(key, &["S1", "A1"]);
                assert_eq!(row[4], Value::Text("k1".into()));
            }
            other => panic!("expected the attendance row, got {other:?}"),
        }
        assert!(matches!(&pending[1].1, Pending::Audit { action, .. } if action == "check_in"));

        // Another connection to the same file notes its changes too; an undo goes as a deleted row.
        let mut other = Store::open(&path).unwrap();
        other.undo_check_in("S1", "A1", "k1", "test").unwrap();
        let pending = other.pending(10).unwrap();
        assert_eq!(pending.len(), 3, "the attendance key once, two audit entries: {pending:?}");
        assert!(matches!(&pending[0].1, Pending::Row { row: None, .. }));
        other.taken(pending.last().unwrap().0).unwrap();
        assert_eq!(store.waiting().unwrap(), (0, 0));
    }

    #[test]
    fn a_file_with_its_own_congress_is_not_made_a_copy() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("own.db")).unwrap();
        store.transaction(|tx| tx.upsert_delegate(&delegate("B2"))).unwrap();
        let err = store.become_replica("ledger-1").unwrap_err().to_string();
        assert!(err.contains("kiosk ledger import"), "{err}");
        assert!(store.replica_of().unwrap().is_none());
    }
}
