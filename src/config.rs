//! Settings from `kiosk-config/*.toml`. Every field has a default so that a
//! partial file, or none, still gives a working kiosk.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::embed::EmbedderKind;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub event: EventConfig,
    pub store: StoreConfig,
    pub engine: EngineConfig,
    pub quality: QualityConfig,
    pub decide: DecideConfig,
    pub camera: crate::camera::CameraConfig,
    pub kiosk: KioskConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KioskConfig {
    /// Consecutive frames that must name the same delegate before a check-in.
    pub frames_to_agree: usize,
    /// Frames of a face that matches nobody before the kiosk says it does not know them.
    pub unknown_after_frames: usize,
    /// A delegate just greeted is not greeted again for this long.
    pub cooldown_seconds: u64,
    /// Frame rate of `kiosk run --frames DIR`.
    pub frames_fps: f32,
    /// "vi" or "en": the language the kiosk starts in.
    pub language: String,
    /// How long the welcome screen stays, in seconds.
    pub welcome_seconds: f32,
    /// Argon2 hash of the admin PIN (`kiosk admin-pin` makes one); empty = admin screen locked.
    pub admin_pin_hash: String,
    /// A WAV file played (with `aplay`) when someone is checked in; empty = silence.
    pub welcome_sound: PathBuf,
    /// Keep a small photo of the face at each face check-in, for disputes
    /// (`kiosk snapshots`); off unless the organisers decide otherwise.
    pub save_snapshots: bool,
}

impl Default for KioskConfig {
    fn default() -> Self {
        Self {
            frames_to_agree: 3,
            unknown_after_frames: 12,
            cooldown_seconds: 60,
            frames_fps: 30.0,
            language: "vi".into(),
            welcome_seconds: 4.0,
            admin_pin_hash: String::new(),
            welcome_sound: PathBuf::new(),
            save_snapshots: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventConfig {
    pub name: String,
    pub session: String,
    pub kiosk_id: String,
    /// Shown on the idle screen; relative paths are taken from the project folder.
    pub logo: PathBuf,
}

impl Default for EventConfig {
    fn default() -> Self {
        Self {
            name: "Đại hội Công đoàn — Congress".into(),
            session: "Phiên khai mạc".into(),
            kiosk_id: "kiosk-1".into(),
            logo: "assets/logo.png".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    pub database: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self { database: "kiosk.db".into() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    pub embedder: EmbedderKind,
    pub threads: usize,
    pub detect_size: u32,
    pub detect_score: f32,
    pub flip_average: bool,
    pub onnxruntime: PathBuf,
    /// Where the `.onnx` files are; empty = the `models/` folder of this project.
    pub models_dir: PathBuf,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            embedder: EmbedderKind::MobileFaceNet,
            threads: 0,
            detect_size: 320,
            detect_score: 0.6,
            flip_average: true,
            onnxruntime: PathBuf::new(),
            models_dir: PathBuf::new(),
        }
    }
}

impl EngineConfig {
    pub fn models_dir(&self) -> PathBuf {
        if self.models_dir.as_os_str().is_empty() {
            crate::runtime::project_dir().join("models")
        } else {
            self.models_dir.clone()
        }
    }

    /// For work over many photos at once, which already keeps every core busy
    /// with one photo each: auto (0) becomes one thread per model, which
    /// measured faster than sharing the cores inside each model.
    pub fn for_batch(&self) -> EngineConfig {
        let mut cfg = self.clone();
        if cfg.threads == 0 {
            cfg.threads = 1;
        }
        cfg
    }

    pub fn threads(&self) -> usize {
        if self.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { self.threads }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityConfig {
    pub min_eye_distance: f32,
    pub min_sharpness: f32,
    pub max_yaw: f32,
    pub min_brightness: f32,
    pub max_brightness: f32,
}

impl Default for QualityConfig {
    fn default() -> Self {
        Self { min_eye_distance: 20.0, min_sharpness: 25.0, max_yaw: 0.8, min_brightness: 50.0, max_brightness: 215.0 }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecideConfig {
    /// None = the shipped threshold of the configured embedder.
    pub threshold: Option<f32>,
    /// None = the shipped margin of the configured embedder.
    pub margin: Option<f32>,
    /// Enrolled people this alike are listed by `kiosk enroll` (None = the embedder's default).
    pub lookalike: Option<f32>,
}

impl Config {
    /// Reads `path`, or `kiosk-config/default.toml` of this project when none is given
    /// (and the built-in defaults when that file is absent too).
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => (crate::runtime::project_dir().join("kiosk-config/default.toml"), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(Error::Config(format!("cannot read {}: {e}", path.display())));
            }
        };
        toml::from_str(&text).map_err(|e| {
            Error::Config(format!(
                "{} is not a valid kiosk configuration: {e}\nCompare it with kiosk-config/default.toml, which documents every setting.",
                path.display()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped file documents the defaults: it must parse and say the same.
    #[test]
    fn the_shipped_default_toml_matches_the_built_in_defaults() {
        let path = crate::runtime::project_dir().join("kiosk-config/default.toml");
        let shipped = Config::load(Some(&path)).unwrap();
        let as_json = |c: &Config| serde_json::to_value(c).unwrap();
        assert_eq!(as_json(&shipped), as_json(&Config::default()));
    }

    #[test]
    fn an_unknown_setting_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.toml");
        std::fs::write(&path, "[engine]\nembeder = \"dlib\"\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("embeder") && err.contains("default.toml"), "{err}");
    }
}
