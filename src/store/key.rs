//! The congress's data key. A kiosk PC left in the hall overnight holds the
//! whole gallery; its copy of the ledger is therefore encrypted (SQLCipher:
//! every page of the file and of its write-ahead log) under a key that is
//! not on its disk. The key comes from the ledger at start and is kept in
//! memory only, or, for a kiosk that must start offline, from a key file on
//! removable media (`[store] key_file`, written by `kiosk ledger key`).

use std::path::Path;
use std::sync::OnceLock;

use crate::base::private::write_private;
use crate::error::{Error, Result};

/// 256 bits, used as SQLCipher's raw key (no passphrase stretching).
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey([u8; 32]);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(…)")
    }
}

impl DataKey {
    pub fn random() -> DataKey {
        DataKey(rand::random())
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<DataKey> {
        Some(DataKey(bytes.try_into().ok()?))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// What SQLCipher's `PRAGMA key` takes for a raw key.
    pub(crate) fn pragma(&self) -> String {
        format!("\"x'{}'\"", hex::encode(self.0))
    }

    /// A key file: 64 hex digits.
    pub fn read(path: &Path) -> Result<DataKey> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!(
                "store.key_file {}: {e} (insert the key's removable medium, or write the file with `kiosk ledger key --out FILE`)",
                path.display()
            ))
        })?;
        hex::decode(text.trim()).ok().and_then(|b| DataKey::from_bytes(&b)).ok_or_else(|| {
            Error::Config(format!("{} is not a data key (64 hex digits from `kiosk ledger key`)", path.display()))
        })
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        write_private(path, &format!("{}\n", hex::encode(self.0)), true)
    }
}

static KEY: OnceLock<DataKey> = OnceLock::new();

/// Every database this program opens from now on is encrypted with `key`
/// (a plain one is encrypted as it is opened). Set once, at start.
pub fn use_key(key: DataKey) -> Result<()> {
    if KEY.get().is_some_and(|k| *k != key) {
        return Err(Error::Config("a second, different data key was given in one run".into()));
    }
    let _ = KEY.set(key);
    Ok(())
}

pub(crate) fn key() -> Option<&'static DataKey> {
    KEY.get()
}
