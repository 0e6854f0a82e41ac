//! Files only their owner may read. The venue's PCs are shared machines:
//! a key or a list of names left readable to every user is a leak.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `text` to `path`, readable and writable by its owner only (0600).
/// `replace` = false never touches a file already there (two programs
/// making the same key at once: the first one wins, the second fails);
/// true replaces it whole or not at all.
pub fn write_private(path: &Path, text: &str, replace: bool) -> Result<()> {
    let target = if replace { path.with_extension("new") } else { path.to_path_buf() };
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&target).map_err(|e| Error::io(&target, e))?;
    file.write_all(text.as_bytes()).and_then(|_| file.sync_all()).map_err(|e| Error::io(&target, e))?;
    if replace {
        std::fs::rename(&target, path).map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_file_is_the_owners_alone_and_is_only_replaced_on_purpose() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("some.key");
        write_private(&path, "one", false).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(write_private(&path, "two", false).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one");
        write_private(&path, "three", true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "three");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
