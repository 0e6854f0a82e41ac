//! Deleting biometric data for good, with a proof that checks all of it.

use std::collections::HashSet;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::store::Store;

/// The proof looks for every `PIECE`-byte stretch of each deleted blob that
/// starts at a multiple of `PIECE`: any leftover run of `2 * PIECE - 1` bytes
/// or more holds one of them. A blob's overflow pages are not contiguous in
/// the file, so whole blobs are not what to look for.
pub const PIECE: usize = 64;

/// What a purge deleted and what its proof checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Purge {
    pub templates: usize,
    pub thumbnails: usize,
    pub snapshots: usize,
    /// Bytes of deleted data whose pieces were looked for.
    pub bytes_checked: u64,
    /// Bytes of the database file and its write-ahead log searched.
    pub bytes_searched: u64,
}

/// Hashes of byte windows of a fixed length, rolled one byte at a time.
struct Rolling {
    top: u64,
}

const BASE: u64 = 0x0100_0000_01b3;

impl Rolling {
    fn new() -> Self {
        Rolling { top: (1..PIECE).fold(1u64, |p, _| p.wrapping_mul(BASE)) }
    }

    fn hash(window: &[u8]) -> u64 {
        window.iter().fold(0u64, |h, &b| h.wrapping_mul(BASE).wrapping_add(u64::from(b) + 1))
    }

    fn roll(&self, h: u64, out: u8, inp: u8) -> u64 {
        h.wrapping_sub(self.top.wrapping_mul(u64::from(out) + 1)).wrapping_mul(BASE).wrapping_add(u64::from(inp) + 1)
    }
}

/// A piece of few distinct bytes (zero padding, a flat run) says nothing
/// about whose data it was, and freed pages are full of them.
fn telling(piece: &[u8]) -> bool {
    let mut seen = [false; 256];
    piece.iter().filter(|&&b| !std::mem::replace(&mut seen[b as usize], true)).count() >= 8
}

/// How many of the pieces hashed into `pieces` occur in `haystack`.
fn pieces_found(haystack: &[u8], pieces: &HashSet<u64>) -> usize {
    if haystack.len() < PIECE || pieces.is_empty() {
        return 0;
    }
    let rolling = Rolling::new();
    let mut h = Rolling::hash(&haystack[..PIECE]);
    let mut found = usize::from(pieces.contains(&h));
    for i in PIECE..haystack.len() {
        h = rolling.roll(h, haystack[i - PIECE], haystack[i]);
        found += usize::from(pieces.contains(&h));
    }
    found
}

impl Store {
    /// Deletes every face template, enrolled thumbnail and check-in snapshot,
    /// compacts the file, then searches the file and its write-ahead log for
    /// every piece of every deleted blob (see `PIECE`).
    pub fn purge_biometrics(&mut self) -> Result<Purge> {
        let mut pieces: HashSet<u64> = HashSet::new();
        let mut bytes_checked = 0u64;
        let mut count = |sql: &str| -> Result<usize> {
            let mut stmt = self.conn.prepare(sql).map_err(|e| self.fail(e))?;
            let mut rows = stmt.query([]).map_err(|e| self.fail(e))?;
            let mut n = 0;
            while let Some(row) = rows.next().map_err(|e| self.fail(e))? {
                let blob: Vec<u8> = row.get(0).map_err(|e| self.fail(e))?;
                bytes_checked += blob.len() as u64;
                pieces.extend(blob.chunks_exact(PIECE).filter(|p| telling(p)).map(Rolling::hash));
                n += 1;
            }
            Ok(n)
        };
        let templates = count("SELECT embedding FROM templates")?;
        let thumbnails = count("SELECT thumbnail FROM templates WHERE thumbnail IS NOT NULL")?;
        let snapshots = count("SELECT snapshot FROM attendance WHERE snapshot IS NOT NULL")?
            + count("SELECT jpeg FROM refused_snapshots")?;
        self.transaction(|tx| {
            tx.execute("DELETE FROM templates", [])?;
            tx.execute("UPDATE attendance SET snapshot = NULL", [])?;
            tx.execute("DELETE FROM refused_snapshots", [])?;
            let detail = serde_json::json!({"templates": templates, "thumbnails": thumbnails, "snapshots": snapshots});
            tx.audit("purge_biometrics", &detail.to_string())
        })?;
        // VACUUM rewrites the file without the freed pages; the checkpoint
        // empties the write-ahead log, which held the deleted pages too.
        self.conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);").map_err(|e| self.fail(e))?;
        let wal = super::wal_file(&self.path, "-wal");
        let mut bytes_searched = 0u64;
        let mut left = 0usize;
        for file in [self.path.clone(), wal] {
            let bytes = match std::fs::read(&file) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(&file, e)),
            };
            bytes_searched += bytes.len() as u64;
            left += pieces_found(&bytes, &pieces);
        }
        if left > 0 {
            return Err(Error::Store {
                message: format!(
                    "{}: {left} pieces of the deleted templates, photos or snapshots are still readable in the file after the purge; copy the attendance out and delete the file",
                    self.path.display()
                ),
                source: None,
            });
        }
        Ok(Purge { templates, thumbnails, snapshots, bytes_checked, bytes_searched })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leftover_run_is_found_wherever_it_starts_and_noise_is_not() {
        let blob: Vec<u8> = (0..1000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let pieces: HashSet<u64> = blob.chunks_exact(PIECE).filter(|p| telling(p)).map(Rolling::hash).collect();
        for start in [0, 1, 17, 300] {
            let mut file = vec![0u8; 5000];
            let run = &blob[start..start + 2 * PIECE - 1];
            file[777..777 + run.len()].copy_from_slice(run);
            assert!(pieces_found(&file, &pieces) >= 1, "a run from byte {start}");
        }
        let mut short = vec![0u8; 5000];
        short[10..10 + PIECE - 1].copy_from_slice(&blob[..PIECE - 1]);
        assert_eq!(pieces_found(&short, &pieces), 0);
    }
}
