//! Bringing a single-kiosk file into the ledger, for a congress that started
//! without one: every shared row and audit entry, in one transaction, and
//! only once (the file is known by its first audit entry).

use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::ledger::sync::{Sender, Writer};
use crate::store::Store;
use crate::store::replica::{Pending, TABLES};

/// What an import brought.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    pub rows: usize,
    pub audit_entries: usize,
    /// Check-ins the ledger already had from a kiosk (the earlier one kept).
    pub duplicates: usize,
}

impl Ledger {
    pub fn import(&mut self, store: &Store, kiosk: &str) -> Result<Imported> {
        let path = store.path().display().to_string();
        if store.replica_of()?.is_some() {
            return Err(Error::Input(format!(
                "{path} is a kiosk's local copy of a ledger, not a single-kiosk file: its check-ins reach the ledger by themselves"
            )));
        }
        let Some(mark) = store.birth_mark()? else {
            return Err(Error::Input(format!("{path} holds nothing to import (its audit log is empty)")));
        };
        let mut changes: Vec<Pending> = Vec::new();
        for table in TABLES {
            for row in store.table_rows(table)? {
                changes.push(Pending::Row { table, key: Vec::new(), row: Some(row) });
            }
        }
        let audit = store.audit_pending()?;
        let report = Imported { rows: changes.len(), audit_entries: audit.len(), duplicates: 0 };
        changes.extend(audit);

        let address = self.address.clone();
        let fail = |e| address.error(e);
        let mut tx = self.pg.transaction().map_err(fail)?;
        let duplicates = {
            let mut w = Writer::new(&mut tx, true).map_err(fail)?;
            let first: Option<String> =
                w.tx.query_opt(
                    "INSERT INTO imports (file_id, path) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING ''",
                    &[&mark, &path],
                )
                .map_err(fail)?
                .map(|r| r.get(0));
            if first.is_none() {
                let (when, from): (String, String) =
                    w.tx.query_one(
                        "SELECT to_char(at, 'YYYY-MM-DD HH24:MI'), path FROM imports WHERE file_id = $1",
                        &[&mark],
                    )
                    .map(|r| (r.get(0), r.get(1)))
                    .map_err(fail)?;
                return Err(Error::Input(format!(
                    "this file was imported already, on {when} (from {from}): nothing was imported again"
                )));
            }
            let origin = format!("import:{mark}");
            let from = Sender { kiosk, origin: &origin };
            let now = store.zone().now().to_string();
            for change in &changes {
                w.apply(change, &from, &now).map_err(fail)?;
            }
            w.duplicates
        };
        tx.commit().map_err(fail)?;
        Ok(Imported { duplicates, ..report })
    }
}
