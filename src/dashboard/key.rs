//! The viewer key: the dashboard shows every delegate's name and check-in
//! time, and the hall's network is shared with strangers. The key is made
//! once for a congress, kept beside its database, and given to the
//! secretariat as a link; `--new` makes another and the old links stop.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::base::private::write_private;
use crate::error::{Error, Result};

/// Where the key of the congress in `db` is kept.
pub fn path_for(db: &Path) -> PathBuf {
    db.parent().unwrap_or(Path::new(".")).join("dashboard.key")
}

/// The key at `path`, made there when missing (or always, with `new`).
pub fn open_or_create(path: &Path, new: bool) -> Result<String> {
    if !new {
        match std::fs::read_to_string(path) {
            Ok(text) if valid(text.trim()) => return Ok(text.trim().to_string()),
            Ok(_) => {
                return Err(Error::Input(format!(
                    "{} is not a viewer key: make a new one with `kiosk dashboard key --new`",
                    path.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    let key = hex::encode(rand::random::<[u8; 16]>());
    write_private(path, &format!("{key}\n"), new)?;
    Ok(key)
}

fn valid(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `given` is `key`, compared through their hashes so that the time
/// taken says nothing about how much of it was right.
pub fn matches(given: &str, key: &str) -> bool {
    Sha256::digest(given.as_bytes()) == Sha256::digest(key.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_kept_private_and_replaced_only_on_purpose() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(&dir.path().join("congress.db"));
        let first = open_or_create(&path, false).unwrap();
        assert_eq!(open_or_create(&path, false).unwrap(), first);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let second = open_or_create(&path, true).unwrap();
        assert_ne!(second, first);
        assert!(matches(&second, &open_or_create(&path, false).unwrap()) && !matches(&first, &second));
        std::fs::write(&path, "short").unwrap();
        assert!(open_or_create(&path, false).unwrap_err().to_string().contains("--new"));
    }
}
