//! The audit log: every check-in, undo, enrolment and removal, each entry
//! hashed together with the one before it. The chain shows an entry edited
//! or removed in the middle; the head (how many entries, and the last hash),
//! written down or signed by the secretariat, shows a log cut short,
//! emptied or rewritten as a whole.

use std::fmt;
use std::str::FromStr;

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::{Store, Tx};

/// The log's length and its last entry's hash: `COUNT HASH` when printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    pub count: usize,
    pub hash: String,
}

impl fmt::Display for AuditHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.count, if self.hash.is_empty() { "-" } else { &self.hash })
    }
}

impl FromStr for AuditHead {
    type Err = Error;

    /// `COUNT:HASH` (or `COUNT HASH`, as `kiosk audit head` prints it).
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::Config(format!(
                "\"{s}\" is not an audit head: give it as COUNT:HASH, as `kiosk audit head` prints it"
            ))
        };
        let (count, hash) = s.trim().split_once([':', ' ']).ok_or_else(bad)?;
        let count = count.parse().map_err(|_| bad())?;
        let hash = hash.trim();
        let hash = if hash == "-" { "" } else { hash };
        if !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(AuditHead { count, hash: hash.to_ascii_lowercase() })
    }
}

/// What checking the log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheck {
    pub entries: usize,
    /// The first entry that breaks the chain, and how; or why the log does not extend the given head.
    pub broken: Option<String>,
}

/// The newest entry's hash; empty for an empty log (the first entry follows "").
fn last_hash(conn: &Connection) -> rusqlite::Result<String> {
    conn.query_row("SELECT hash FROM audit ORDER BY id DESC LIMIT 1", [], |r| r.get(0))
        .optional()
        .map(Option::unwrap_or_default)
}

pub fn audit_hash(prev: &str, at: &str, action: &str, detail: &str) -> String {
    let mut h = Sha256::new();
    for part in [prev, at, action, detail] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

impl Store {
    pub fn audit_entries(&self) -> Result<Vec<(String, String)>> {
        self.rows("SELECT action, detail FROM audit ORDER BY id", [], |r| Ok((r.get(0)?, r.get(1)?)))
    }

    pub fn audit_head(&self) -> Result<AuditHead> {
        let count: usize = self.value("SELECT count(*) FROM audit", [])?;
        let hash = last_hash(&self.conn).map_err(|e| self.fail(e))?;
        Ok(AuditHead { count, hash })
    }

    /// Walks the log (see `verify_chain`).
    pub fn verify_audit(&self, head: Option<&AuditHead>) -> Result<AuditCheck> {
        let entries = self.rows("SELECT id, at, action, detail, prev_hash, hash FROM audit ORDER BY id", [], |r| {
            Ok(AuditRow {
                id: r.get(0)?,
                at: r.get(1)?,
                action: r.get(2)?,
                detail: r.get(3)?,
                prev_hash: r.get(4)?,
                hash: r.get(5)?,
            })
        })?;
        Ok(verify_chain(&entries, head))
    }
}

/// One entry of a log as stored, here or in the shared ledger.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub action: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Walks a log in order: each entry must hash to what it says and name the
/// previous entry's hash; with `head`, the log must still hold that entry,
/// unchanged, at that place.
pub fn verify_chain(entries: &[AuditRow], head: Option<&AuditHead>) -> AuditCheck {
    let n = entries.len();
    let broken = |what: String| AuditCheck { entries: n, broken: Some(what) };
    let mut prev = "";
    for e in entries {
        if e.prev_hash != prev {
            return broken(format!("entry {} does not follow the entry before it (one was removed or changed)", e.id));
        }
        if e.hash != audit_hash(&e.prev_hash, &e.at, &e.action, &e.detail) {
            return broken(format!("entry {} was edited after it was written", e.id));
        }
        prev = &e.hash;
    }
    if let Some(head) = head {
        let at_head = if head.count == 0 { Some("") } else { entries.get(head.count - 1).map(|e| e.hash.as_str()) };
        match at_head {
            None => {
                return broken(format!(
                    "the log has {n} entries but the head written down had {}: entries were cut off",
                    head.count
                ));
            }
            Some(hash) if hash != head.hash => {
                return broken(format!(
                    "entry {} is not the one the head written down names: the log was rewritten",
                    head.count
                ));
            }
            Some(_) => {}
        }
    }
    AuditCheck { entries: n, broken: None }
}

impl Tx<'_> {
    /// Appends to the audit log, chained to the entry before.
    pub fn audit(&mut self, action: &str, detail: &str) -> Result<()> {
        let prev = last_hash(&self.tx).map_err(|e| self.fail(e))?;
        let at = self.now.to_string();
        let hash = audit_hash(&prev, &at, action, detail);
        self.execute(
            "INSERT INTO audit (at, action, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![at, action, detail, prev, hash],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_read_back_as_printed() {
        let head = AuditHead { count: 12, hash: "ab01".into() };
        assert_eq!(head.to_string().parse::<AuditHead>().unwrap(), head);
        assert_eq!("12:AB01".parse::<AuditHead>().unwrap(), head);
        assert_eq!("0 -".parse::<AuditHead>().unwrap(), AuditHead { count: 0, hash: String::new() });
        assert!("twelve:ab".parse::<AuditHead>().is_err());
        assert!("12:xyz".parse::<AuditHead>().is_err());
    }
}
