//! The settings file, `kiosk-config/*.toml`: one section per layer, each
//! owned (and checked) by its layer; this file only puts them together.
//! Every field has a default, so that a partial file, or none, still gives a
//! working kiosk; a value out of range is refused at load, naming its key.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::capture::CameraConfig;
use crate::checkin::KioskConfig;
use crate::error::{Error, Result};
use crate::ledger::LedgerConfig;
use crate::matching::decide::DecideConfig;
use crate::secretariat::EventConfig;
use crate::secretariat::badges::BadgeConfig;
use crate::store::StoreConfig;
use crate::vision::engine::EngineConfig;
use crate::vision::liveness::LivenessConfig;
use crate::vision::quality::QualityConfig;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub event: EventConfig,
    pub store: StoreConfig,
    pub ledger: LedgerConfig,
    pub engine: EngineConfig,
    pub quality: QualityConfig,
    pub liveness: LivenessConfig,
    pub decide: DecideConfig,
    pub camera: CameraConfig,
    pub kiosk: KioskConfig,
    pub badges: BadgeConfig,
}

/// The settings file used when none is named: inside the kiosk's folder,
/// or for the Debian package `/etc/kiosk/kiosk.toml` (a conffile: an
/// upgrade keeps the venue's edits).
pub fn default_path() -> PathBuf {
    if crate::home::installed() {
        return PathBuf::from("/etc/kiosk/kiosk.toml");
    }
    crate::home::path("kiosk-config/default.toml")
}

impl Config {
    /// Reads `path`, or the default settings file (and the built-in defaults
    /// when that file is absent too).
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (default_path(), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(Error::Config(format!("cannot read {}: {e}", path.display()))),
        };
        let refuse = |problem: String| {
            Error::Config(format!(
                "{} is not a valid kiosk configuration: {problem}\nCompare it with kiosk-config/default.toml, which documents every setting.",
                path.display()
            ))
        };
        let raw: toml::Table = toml::from_str(&text).map_err(|e| refuse(e.to_string()))?;
        non_finite(&raw, "").map_or(Ok(()), |key| Err(refuse(format!("{key} is not a number (nan or inf)"))))?;
        let cfg: Config = toml::from_str(&text).map_err(|e| refuse(e.to_string()))?;
        cfg.check().map_err(refuse)?;
        Ok(cfg)
    }

    /// Every section's own checks.
    pub fn check(&self) -> std::result::Result<(), String> {
        self.event.check()?;
        self.store.check()?;
        self.ledger.check()?;
        self.engine.check()?;
        self.quality.check()?;
        self.liveness.check()?;
        self.decide.check()?;
        self.camera.check()?;
        self.kiosk.check()
    }

    /// What a station (and the kiosk window) needs.
    pub fn station(&self) -> crate::checkin::Settings {
        crate::checkin::Settings {
            event: self.event.clone(),
            engine: self.engine.clone(),
            quality: self.quality.clone(),
            liveness: self.liveness.clone(),
            decide: self.decide.clone(),
            camera: self.camera.clone(),
            kiosk: self.kiosk.clone(),
            badges: self.badges.clone(),
        }
    }
}

/// The first key holding NaN or an infinity: such a value passes every
/// comparison the wrong way (a NaN threshold accepts anyone).
fn non_finite(table: &toml::Table, prefix: &str) -> Option<String> {
    table.iter().find_map(|(key, value)| {
        let key = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            toml::Value::Float(f) if !f.is_finite() => Some(key),
            toml::Value::Table(t) => non_finite(t, &key),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped file documents the defaults: it must parse and say the same.
    #[test]
    fn the_shipped_default_toml_matches_the_built_in_defaults() {
        let shipped = Config::load(Some(&default_path())).unwrap();
        let as_json = |c: &Config| serde_json::to_value(c).unwrap();
        assert_eq!(as_json(&shipped), as_json(&Config::default()));
    }

    fn load(text: &str) -> std::result::Result<Config, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.toml");
        std::fs::write(&path, text).unwrap();
        Config::load(Some(&path)).map_err(|e| e.to_string())
    }

    #[test]
    fn an_unknown_setting_is_named() {
        let err = load("[engine]\nembeder = \"dlib\"\n").unwrap_err();
        assert!(err.contains("embeder") && err.contains("default.toml"), "{err}");
    }

    #[test]
    fn nan_infinite_and_out_of_range_values_are_refused_by_key() {
        for (text, key) in [
            ("[decide]\nthreshold = nan\n", "decide.threshold"),
            ("[kiosk]\nwelcome_seconds = inf\n", "kiosk.welcome_seconds"),
            ("[kiosk]\nframes_fps = -inf\n", "kiosk.frames_fps"),
            ("[decide]\nthreshold = 1.5\n", "decide.threshold"),
            ("[decide]\nmargin = -0.1\n", "decide.margin"),
            ("[kiosk]\nwelcome_seconds = 0.0\n", "kiosk.welcome_seconds"),
            ("[kiosk]\nframes_to_agree = 0\n", "kiosk.frames_to_agree"),
            ("[engine]\ndetect_score = 0.0\n", "engine.detect_score"),
            ("[quality]\nmax_brightness = 20.0\n", "quality.max_brightness"),
            ("[event]\ntime_zone = \"Hanoi\"\n", "event.time_zone"),
        ] {
            let err = load(text).unwrap_err();
            assert!(err.contains(key), "{text}: {err}");
        }
        assert!(load("[decide]\nthreshold = 0.6\n[event]\ntime_zone = \"Asia/Ho_Chi_Minh\"\n").is_ok());
    }
}
