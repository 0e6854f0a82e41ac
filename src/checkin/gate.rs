//! The liveness gate: a check-in the camera has decided on waits here until
//! the frames of the same person show a real face. It asks for a turn of the
//! head when they are in doubt (or always, with `mode = "challenge"`), and
//! refuses a picture. What waits is the station's business (`H`).

use std::time::{Duration, Instant};

use image::RgbImage;

use crate::error::Result;
use crate::vision::engine::EngineConfig;
use crate::vision::face::Face;
use crate::vision::liveness::{Judgement, LiveTrack, Liveness, LivenessConfig, Mode};

/// What the gate says of the check-in it holds.
#[derive(Debug)]
pub enum Vouch<H> {
    /// More frames (or the asked turn of the head) are awaited; nothing held is also this.
    Wait,
    /// Asked for a turn of the head now.
    Challenge,
    /// A real face: let it through.
    Live(H),
    /// A picture of a face, or the challenge was not met.
    Refused { held: H, reason: &'static str, score: Option<f32>, frames: usize },
}

struct Waiting<H> {
    held: H,
    /// When the challenge was asked, or None while more frames are awaited.
    challenged: Option<Instant>,
}

/// The liveness check of one kiosk: the models, the settings, and what the
/// face now in front of the camera has shown.
pub struct LivenessGate<H> {
    models: Liveness,
    cfg: LivenessConfig,
    track: LiveTrack,
    waiting: Option<Waiting<H>>,
    /// The track's outcome is known: no more frames are scored.
    settled: bool,
    /// Time spent scoring the track's frames.
    spent: Duration,
    /// Whether a face was there, and the agreement's track number: a change is a new person.
    track_seen: (bool, u64),
}

impl<H> LivenessGate<H> {
    /// None with `mode = "off"`.
    pub fn load(cfg: &LivenessConfig, engine: &EngineConfig) -> Result<Option<Self>> {
        if cfg.mode == Mode::Off {
            return Ok(None);
        }
        Ok(Some(Self {
            // One thread: the models are small, and the recogniser's threads are busy.
            models: Liveness::load(&EngineConfig { threads: 1, ..engine.clone() })?,
            cfg: cfg.clone(),
            track: LiveTrack::default(),
            waiting: None,
            settled: false,
            spent: Duration::ZERO,
            track_seen: (false, 0),
        }))
    }

    /// Each frame, before any decision on it: a new person (`track`) starts
    /// from nothing, even when judged on their first frame; while the
    /// outcome is open, the frame is scored.
    pub fn observe(&mut self, image: &RgbImage, main: Option<&Face>, track: u64) -> Result<()> {
        let seen = (main.is_some(), track);
        if seen != self.track_seen {
            self.track_seen = seen;
            self.track = LiveTrack::default();
            self.waiting = None;
            self.settled = false;
            self.spent = Duration::ZERO;
        }
        if let Some(face) = main.filter(|_| !self.settled) {
            self.track.add_landmarks(&face.landmarks);
            if let Some(m) = self.track.next_model(&self.cfg, self.models.models()) {
                let t = Instant::now();
                let score = self.models.score_with(m, image, &face.bbox)?;
                self.spent += t.elapsed();
                self.track.add_score(score);
            }
        }
        Ok(())
    }

    /// A check-in decided on: it waits for the verdict of `vouch`.
    pub fn hold(&mut self, held: H) {
        self.waiting = Some(Waiting { held, challenged: None });
    }

    /// Nobody will be checked in on this track (an unknown face): stop scoring it.
    pub fn settle(&mut self) {
        self.settled = true;
    }

    /// Time the check took over this person's frames.
    pub fn spent(&self) -> Duration {
        self.spent
    }

    /// The held check-in, judged on the frames seen so far.
    pub fn vouch(&mut self) -> Vouch<H> {
        let Some(waiting) = &mut self.waiting else { return Vouch::Wait };
        let cfg = &self.cfg;
        let verdict = match waiting.challenged {
            Some(asked) => match self.track.challenge(cfg) {
                Judgement::Unsure if asked.elapsed().as_secs_f32() < cfg.challenge_seconds => return Vouch::Wait,
                Judgement::Live => Judgement::Live,
                _ => Judgement::Picture,
            },
            None => match self.track.judge(cfg) {
                Judgement::Live if cfg.mode == Mode::Challenge => Judgement::Doubt,
                Judgement::Doubt if cfg.mode == Mode::Passive && !self.track.doubt_persists() => return Vouch::Wait,
                Judgement::Unsure => return Vouch::Wait,
                judged => judged,
            },
        };
        if verdict == Judgement::Doubt {
            waiting.challenged = Some(Instant::now());
            self.track.start_challenge();
            tracing::info!(score = self.track.mean(), "liveness: asking for a turn of the head");
            return Vouch::Challenge;
        }
        let Waiting { held, challenged } = self.waiting.take().expect("waiting above");
        self.settled = true;
        if verdict == Judgement::Live {
            return Vouch::Live(held);
        }
        let reason = if challenged.is_some() { "challenge not met" } else { "a picture of a face" };
        tracing::warn!(reason, score = self.track.mean(), "liveness: refused");
        Vouch::Refused { held, reason, score: self.track.mean(), frames: self.track.scores() }
    }
}
