//! The check-in itself, whoever asks for it: the live station that turns
//! camera frames into check-ins (with its liveness gate), and the staff
//! verbs that the kiosk's desk, the dashboard's clerk and the command line
//! all call, so that a check-in, an undo or the papers mean one thing.

pub mod badge;
pub mod enrolment;
pub mod gate;
pub mod staff;
pub mod station;

use serde::{Deserialize, Serialize};

use std::path::PathBuf;

use crate::capture::CameraConfig;
use crate::matching::decide::DecideConfig;
use crate::secretariat::EventConfig;
use crate::secretariat::badges::BadgeConfig;
use crate::settings::within;
use crate::vision::engine::EngineConfig;
use crate::vision::liveness::LivenessConfig;
use crate::vision::quality::QualityConfig;

/// The `[kiosk]` settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KioskConfig {
    /// Good frames of a face before the kiosk decides who it is (on all of them together).
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

impl KioskConfig {
    pub fn check(&self) -> std::result::Result<(), String> {
        within("kiosk.frames_to_agree", self.frames_to_agree, 1..=100)?;
        within("kiosk.unknown_after_frames", self.unknown_after_frames, 1..=1000)?;
        within("kiosk.cooldown_seconds", self.cooldown_seconds, 0..=86_400)?;
        within("kiosk.frames_fps", self.frames_fps, 0.1..=240.0)?;
        within("kiosk.welcome_seconds", self.welcome_seconds, 0.5..=600.0)?;
        if !["vi", "en"].contains(&self.language.as_str()) {
            return Err(format!("kiosk.language = \"{}\": it must be \"vi\" or \"en\"", self.language));
        }
        // A mangled hash would lock staff out with no word why.
        if !self.admin_pin_hash.is_empty() && !crate::base::pin::pin_is_set(&self.admin_pin_hash) {
            return Err("kiosk.admin_pin_hash is not an Argon2 hash: make one with `kiosk admin-pin` \
                        (type the PIN, 6 digits or more) and put the line it prints under [kiosk]"
                .into());
        }
        Ok(())
    }
}

/// Everything a station (and the window around it) reads from the settings file.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub event: EventConfig,
    pub engine: EngineConfig,
    pub quality: QualityConfig,
    pub liveness: LivenessConfig,
    pub decide: DecideConfig,
    pub camera: CameraConfig,
    pub kiosk: KioskConfig,
    pub badges: BadgeConfig,
}
