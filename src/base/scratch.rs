//! Scratch folders for copies of a congress's data (a ledger's copy for a
//! command or the dashboard, a paper being drawn). They hold names and
//! faces, so they are private, and they go when the program does: on a
//! normal end, on Ctrl-C, SIGTERM and SIGHUP, and, after a SIGKILL or a
//! power cut, at the next start of any `kiosk` command.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

use crate::error::{Error, Result};

const PREFIX: &str = "kiosk-scratch-";

/// The folders alive now, for the signal handler to remove.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static HANDLER: Once = Once::new();

/// A private folder (0700) in the system's temporary folder, removed with
/// its contents when dropped or when the program is stopped by a signal.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        LIVE.lock().unwrap_or_else(|p| p.into_inner()).retain(|p| p != self.dir.path());
    }
}

pub fn folder() -> Result<Scratch> {
    HANDLER.call_once(remove_on_signals);
    let dir = tempfile::Builder::new()
        .prefix(&format!("{PREFIX}{}-", std::process::id()))
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir()
        .map_err(|e| Error::io(&std::env::temp_dir(), e))?;
    LIVE.lock().unwrap_or_else(|p| p.into_inner()).push(dir.path().to_path_buf());
    Ok(Scratch { dir })
}

/// A signal that would end the program ends it here, after the scratch
/// folders are gone, and by that signal (systemd counts a stop by SIGTERM
/// as a clean one, an exit status of 143 as a failure).
fn remove_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        tracing::warn!("cannot watch for Ctrl-C and SIGTERM: scratch copies are removed at the next start instead");
        return;
    };
    let spawned = std::thread::Builder::new().name("scratch".into()).spawn(move || {
        if let Some(signal) = signals.forever().next() {
            for dir in LIVE.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                let _ = std::fs::remove_dir_all(dir);
            }
            let _ = signal_hook::low_level::emulate_default_handler(signal);
            std::process::exit(128 + signal);
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(
            "cannot watch for Ctrl-C and SIGTERM ({e}): scratch copies are removed at the next start instead"
        );
    }
}

/// Removes the scratch folders of `kiosk` programs that are no longer
/// running (killed, or the PC lost power). Returns how many.
pub fn remove_leftovers() -> usize {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)).and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let running = Path::new("/proc").join(pid).exists();
        if !running && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_scratch_folder_is_private_and_goes_when_dropped_and_a_dead_programs_at_the_next_start() {
        let scratch = folder().unwrap();
        let path = scratch.path().to_path_buf();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o700);
        std::fs::write(path.join("copy.db"), b"names").unwrap();
        assert!(LIVE.lock().unwrap().contains(&path));
        drop(scratch);
        assert!(!path.exists() && !LIVE.lock().unwrap().contains(&path));
        // A folder left by a program that is gone (no such process), and one of a running one.
        let dead = std::env::temp_dir().join(format!("{PREFIX}4194999-left"));
        std::fs::create_dir_all(dead.join("inner")).unwrap();
        let alive = folder().unwrap();
        assert!(remove_leftovers() >= 1);
        assert!(!dead.exists() && alive.path().exists());
    }
}
