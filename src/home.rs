//! Where the kiosk's own files are: `models/`, `kiosk-config/`, `assets/` and
//! `.ort/`. Found at run time, so that an installed binary works away from the
//! checkout it was built in. The first folder holding `models/` wins:
//!
//! 1. `$KIOSK_HOME`;
//! 2. the folder of the `kiosk` executable, then its parent and grandparent
//!    (`/opt/kiosk/bin/kiosk` finds `/opt/kiosk/models`, `target/release/kiosk`
//!    finds the checkout);
//! 3. `/usr/share/kiosk`, where the Debian package puts them;
//! 4. the current folder;
//! 5. the checkout the binary was built from.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The folder the kiosk's files come from, and why it was chosen.
#[derive(Debug, Clone)]
pub struct Home {
    pub dir: PathBuf,
    pub found_by: &'static str,
}

fn candidates() -> Vec<(PathBuf, &'static str)> {
    let mut out = Vec::new();
    if let Some(dir) = std::env::var_os("KIOSK_HOME").filter(|v| !v.is_empty()) {
        out.push((PathBuf::from(dir), "$KIOSK_HOME"));
    }
    if let Some(exe_dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        out.extend(exe_dir.ancestors().take(3).map(|d| (d.to_path_buf(), "next to the kiosk program")));
    }
    out.push((PathBuf::from(INSTALLED), INSTALLED_BY));
    if let Ok(cwd) = std::env::current_dir() {
        out.push((cwd, "the current folder"));
    }
    out.push((PathBuf::from(env!("CARGO_MANIFEST_DIR")), "the folder the program was built in"));
    out
}

/// The Debian package's place for the models, assets and shipped settings.
pub const INSTALLED: &str = "/usr/share/kiosk";
const INSTALLED_BY: &str = "the installed package";

/// Whether this kiosk runs from the Debian package (its settings are then in /etc/kiosk).
pub fn installed() -> bool {
    home().found_by == INSTALLED_BY
}

/// Looked up once per process.
pub fn home() -> &'static Home {
    static HOME: OnceLock<Home> = OnceLock::new();
    HOME.get_or_init(|| {
        let all = candidates();
        let (dir, found_by) =
            all.iter().find(|(d, _)| d.join("models").is_dir()).cloned().unwrap_or_else(|| all[0].clone());
        Home { dir, found_by }
    })
}

/// `relative` inside the kiosk's folder; absolute paths stay as they are.
pub fn path(relative: impl AsRef<Path>) -> PathBuf {
    home().dir.join(relative)
}
