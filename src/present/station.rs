//! Live check-in: each camera frame goes through the engine and the decision
//! rule; when enough frames agree, the attendance is recorded once and the
//! delegate is greeted. Runs on the recognition thread, never on the UI's.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use image::RgbImage;
use serde::Serialize;

use crate::capture::Frame;
use crate::error::Result;
use crate::ledger::syncer::LinkWatch;
use crate::matching::agreement::{Agreement, Guidance, Verdict, guidance};
use crate::matching::decide::DecideConfig;
use crate::matching::recognize::Recognizer;
use crate::present::{KioskConfig, Settings};
use crate::store::time::Timestamp;
use crate::store::{CheckIn, Delegate, Evidence, Method, Store};
use crate::vision::detect::Source;
use crate::vision::engine::EngineConfig;
use crate::vision::face::BBox;
use crate::vision::liveness::{Judgement, LiveTrack, Liveness, LivenessConfig, Mode};

/// What the recognition thread tells the UI after each frame it processed.
#[derive(Debug, Clone)]
pub struct Update {
    pub frame_index: u64,
    pub faces: Vec<BBox>,
    pub guidance: Option<Guidance>,
    pub event: Option<Event>,
    /// Time spent on this frame (detect to decision).
    pub processing: Duration,
    /// The roster, when the ledger changed it since the last frame.
    pub roster: Option<Vec<Delegate>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Event {
    /// Checked in now (`already` false) or earlier in this session (`at` is then the first time).
    Welcome {
        delegate: Delegate,
        at: Timestamp,
        already: bool,
        latency_ms: u64,
        /// Time the liveness check took over the frames of this decision.
        liveness_ms: f32,
        /// The enrolled face, for the welcome screen.
        #[serde(skip)]
        photo: Option<Arc<RgbImage>>,
    },
    /// A face the kiosk does not know, or is not sure about.
    Unknown,
    /// The face may be a picture: the person is asked to turn their head.
    Challenge,
    /// Taken for a picture of a face (or the challenge was not met): a
    /// neutral refusal that names no one, and the way to the help desk.
    NotLive,
    /// A delegate with lookalikes: nothing is recorded until the person types
    /// the code of one of `candidates` (the one recognised first).
    AskCode { candidates: Vec<Delegate>, evidence: Evidence },
    /// Recognised, but the check-in could not be written: nothing was recorded.
    NotRecorded { error: String },
}

/// A check-in held back until the frames show a real face.
struct Held {
    person: usize,
    lookalike: bool,
    evidence: Evidence,
    snapshot: Option<Vec<u8>>,
    /// When the challenge was asked, or None while more frames are awaited.
    challenged: Option<Instant>,
}

/// The liveness check of one kiosk: the models, the settings, and what the
/// face now in front of the camera has shown.
struct Guard {
    models: Liveness,
    cfg: LivenessConfig,
    track: LiveTrack,
    held: Option<Held>,
    /// The track's outcome is known: no more frames are scored.
    settled: bool,
    /// Time spent scoring the track's frames.
    spent: Duration,
    /// Whether a face was there, and the agreement's track number: a change is a new person.
    track_seen: (bool, u64),
}

/// How long a kiosk waits for another program's write before it tells the
/// delegate to go to the help desk: a queue cannot wait a minute.
const KIOSK_PATIENCE: Duration = Duration::from_secs(5);

pub struct Station {
    recognizer: Recognizer,
    /// The gallery's people, in its order.
    people: Vec<Delegate>,
    store: Store,
    agreement: Agreement,
    settings: KioskConfig,
    /// The congress session, switchable from the admin screen while running.
    session: Arc<RwLock<String>>,
    greeted_in: String,
    kiosk_id: String,
    greeted: HashMap<String, Instant>,
    /// When the face now in front of the camera first appeared.
    track_start: Option<Instant>,
    /// The shared ledger, and the version of its roster the recogniser was built on.
    link: Option<(LinkWatch, u64)>,
    decide: DecideConfig,
    /// None with `liveness.mode = "off"`.
    guard: Option<Guard>,
}

impl Station {
    pub fn new(settings: &Settings, store: Store, session: Arc<RwLock<String>>) -> Result<Self> {
        let zone = settings.event.zone().map_err(crate::error::Error::Config)?;
        let store = store.with_zone(zone).with_patience(KIOSK_PATIENCE);
        let (people, recognizer) = store.recognizer(&settings.engine, &settings.decide, &settings.quality)?;
        let policy = recognizer.policy;
        let guard = match settings.liveness.mode {
            Mode::Off => None,
            Mode::Passive | Mode::Challenge => Some(Guard {
                // One thread: the models are small, and the recogniser's threads are busy.
                models: Liveness::load(&EngineConfig { threads: 1, ..settings.engine.clone() })?,
                cfg: settings.liveness.clone(),
                track: LiveTrack::default(),
                held: None,
                settled: false,
                spent: Duration::ZERO,
                track_seen: (false, 0),
            }),
        };
        Ok(Self {
            recognizer,
            people,
            store,
            agreement: Agreement::new(settings.kiosk.frames_to_agree, settings.kiosk.unknown_after_frames, policy),
            settings: settings.kiosk.clone(),
            session,
            greeted_in: String::new(),
            kiosk_id: settings.event.kiosk_id.clone(),
            greeted: HashMap::new(),
            track_start: None,
            link: None,
            decide: settings.decide.clone(),
            guard,
        })
    }

    /// Check-ins are sent to the ledger as soon as they are written, and
    /// enrolments made at the secretariat are picked up between frames.
    pub fn with_link(mut self, link: LinkWatch) -> Self {
        let version = link.status().roster_version;
        self.link = Some((link, version));
        self
    }

    /// Rebuilds the recogniser when the ledger brought a new roster; returns it.
    fn refresh_roster(&mut self) -> Result<Option<Vec<Delegate>>> {
        let Some((link, seen)) = &mut self.link else { return Ok(None) };
        let now = link.status().roster_version;
        if now == *seen {
            return Ok(None);
        }
        // Once per change, even when it fails: the old gallery stays in use.
        *seen = now;
        let kind = self.recognizer.engine.embedder();
        let enrolled = self.store.enrolled(kind)?;
        let policy = self.decide.policy(kind, enrolled.calibrated);
        tracing::info!(delegates = enrolled.people.len(), "roster changed in the ledger: gallery reloaded");
        self.recognizer.replace_gallery(enrolled.gallery, policy, &enrolled.lookalikes);
        self.agreement = Agreement::new(self.settings.frames_to_agree, self.settings.unknown_after_frames, policy);
        self.people = enrolled.people;
        Ok(Some(self.store.delegates()?))
    }

    pub fn process(&mut self, frame: &Frame) -> Result<Update> {
        let roster = self.refresh_roster()?;
        let started = Instant::now();
        let scene = self.recognizer.engine.analyze_main(&frame.image, Source::CameraFrame)?;
        let main = scene.main();
        let recognizer = &self.recognizer;
        let seen = main.map(|f| (f.bbox, recognizer.judgeable(f).ok()));
        let verdict = self.agreement.observe(seen, |e| recognizer.decide_embedding(e));
        match (verdict, main) {
            (Verdict::NewFace, _) => self.track_start = Some(frame.captured),
            (_, None) => self.track_start = None,
            _ => {}
        }
        if let Some(guard) = &mut self.guard {
            // A new person's liveness starts from nothing, even when they are judged on their first frame.
            let track = (main.is_some(), self.agreement.track_number());
            if track != guard.track_seen {
                guard.track_seen = track;
                guard.track = LiveTrack::default();
                guard.held = None;
                guard.settled = false;
                guard.spent = Duration::ZERO;
            }
            if let Some(face) = main.filter(|_| !guard.settled) {
                guard.track.add_landmarks(&face.landmarks);
                if let Some(m) = guard.track.next_model(&guard.cfg, guard.models.models()) {
                    let t = Instant::now();
                    let score = guard.models.score_with(m, &frame.image, &face.bbox)?;
                    guard.spent += t.elapsed();
                    guard.track.add_score(score);
                }
            }
        }
        let issues = main.and_then(|f| f.quality).map(|q| q.issues(self.recognizer.quality())).unwrap_or_default();
        let advice = main.and_then(|_| guidance(&issues, scene.is_crowded(), mean_brightness(&frame.image)));
        let event = match verdict {
            Verdict::Agreed { person, score, frames, lookalike } => {
                let snapshot = match main {
                    Some(f) if self.settings.save_snapshots => {
                        Some(crate::vision::decode::face_jpeg(&frame.image, &f.bbox)?)
                    }
                    _ => None,
                };
                let evidence = Evidence { score, frames: frames as u32 };
                let held = Held { person, lookalike, evidence, snapshot, challenged: None };
                match &mut self.guard {
                    Some(guard) => {
                        guard.held = Some(held);
                        self.vouch(frame)?
                    }
                    None => self.greet(held, frame.captured),
                }
            }
            Verdict::Unknown => {
                if let Some(guard) = &mut self.guard {
                    guard.settled = true;
                }
                Some(Event::Unknown)
            }
            Verdict::Pending | Verdict::NewFace if main.is_some() => self.vouch(frame)?,
            Verdict::Pending | Verdict::NewFace => None,
        };
        Ok(Update {
            frame_index: frame.index,
            faces: scene.faces.iter().map(|f| f.bbox).collect(),
            guidance: if event.is_some() { None } else { advice },
            event,
            processing: started.elapsed(),
            roster,
        })
    }

    /// A recognised face waiting for the liveness check: greeted once the
    /// frames show a real face, challenged when they are in doubt (or always,
    /// with `mode = "challenge"`), refused when they show a picture.
    fn vouch(&mut self, frame: &Frame) -> Result<Option<Event>> {
        let Some(guard) = &mut self.guard else { return Ok(None) };
        let Some(held) = &mut guard.held else { return Ok(None) };
        let cfg = &guard.cfg;
        let verdict = match held.challenged {
            Some(asked) => match guard.track.challenge(cfg) {
                Judgement::Unsure if asked.elapsed().as_secs_f32() < cfg.challenge_seconds => return Ok(None),
                Judgement::Live => Judgement::Live,
                _ => Judgement::Picture,
            },
            None => match guard.track.judge(cfg) {
                Judgement::Live if cfg.mode == Mode::Challenge => Judgement::Doubt,
                Judgement::Doubt if cfg.mode == Mode::Passive && !guard.track.doubt_persists() => return Ok(None),
                Judgement::Unsure => return Ok(None),
                judged => judged,
            },
        };
        match verdict {
            Judgement::Doubt => {
                held.challenged = Some(Instant::now());
                guard.track.start_challenge();
                tracing::info!(score = guard.track.mean(), "liveness: asking for a turn of the head");
                Ok(Some(Event::Challenge))
            }
            Judgement::Live => {
                let held = guard.held.take().expect("held above");
                guard.settled = true;
                Ok(self.greet(held, frame.captured))
            }
            _ => {
                let held = guard.held.take().expect("held above");
                guard.settled = true;
                let reason = if held.challenged.is_some() { "challenge not met" } else { "a picture of a face" };
                let resembles = self.people.get(held.person).map(|d| d.code.clone());
                let session = self.session.read().unwrap_or_else(|p| p.into_inner()).clone();
                let detail = serde_json::json!({
                    "session": session,
                    "kiosk": self.kiosk_id,
                    "reason": reason,
                    "score": guard.track.mean(),
                    "frames": guard.track.scores(),
                    "resembles": resembles,
                });
                tracing::warn!(reason, score = guard.track.mean(), "liveness: refused");
                let snapshot = held.snapshot.as_deref();
                // Not recorded is still refused: the refusal does not hang on the log.
                if let Err(e) = self.store.transaction(|tx| tx.refused(&session, detail.clone(), snapshot)) {
                    tracing::error!("liveness refusal not written to the audit log: {e}");
                }
                Ok(Some(Event::NotLive))
            }
        }
    }

    /// `held.snapshot`: the face as seen now, kept with the check-in when configured.
    fn greet(&mut self, held: Held, captured: Instant) -> Option<Event> {
        let Held { person, lookalike, evidence, snapshot, .. } = held;
        let delegate = self.people.get(person).cloned()?;
        let session = self.session.read().unwrap_or_else(|p| p.into_inner()).clone();
        if session != self.greeted_in {
            // A new congress session: everyone may be greeted (and recorded) again.
            self.greeted.clear();
            self.greeted_in = session.clone();
        }
        let cooldown = Duration::from_secs(self.settings.cooldown_seconds);
        if self.greeted.get(&delegate.code).is_some_and(|t| t.elapsed() < cooldown) {
            return None;
        }
        if lookalike {
            let partners = self.recognizer.lookalikes_of(person);
            tracing::info!(code = %delegate.code, lookalikes = partners.len(), "asking for the delegate code");
            self.greeted.insert(delegate.code.clone(), Instant::now());
            let others = partners.iter().filter_map(|&p| self.people.get(p).cloned());
            return Some(Event::AskCode { candidates: std::iter::once(delegate).chain(others).collect(), evidence });
        }
        let kiosk = &self.kiosk_id;
        let written = self.store.transaction(|tx| {
            let outcome = tx.check_in(&session, &delegate.code, Method::Face, kiosk, Some(evidence), None)?;
            if let (CheckIn::Recorded { .. }, Some(jpeg)) = (&outcome, &snapshot) {
                tx.attach_snapshot(&session, &delegate.code, jpeg)?;
            }
            Ok(outcome)
        });
        let outcome = match written {
            Ok(outcome) => outcome,
            Err(e) => {
                // Not marked as greeted: the next time they are recognised, it is tried again.
                tracing::error!(code = %delegate.code, "check-in not recorded: {e}");
                return Some(Event::NotRecorded { error: e.to_string() });
            }
        };
        if let Some((link, _)) = &self.link {
            link.nudge();
        }
        self.greeted.insert(delegate.code.clone(), Instant::now());
        let latency_ms = self.track_start.unwrap_or(captured).elapsed().as_millis() as u64;
        let (at, already) = outcome.when();
        tracing::info!(code = %delegate.code, already, latency_ms, score = evidence.score, frames = evidence.frames, "check-in");
        let photo = enrolled_photo(&self.store, &delegate.code);
        let liveness_ms = self.guard.as_ref().map_or(0.0, |g| g.spent.as_secs_f32() * 1000.0);
        Some(Event::Welcome { delegate, at, already, latency_ms, liveness_ms, photo })
    }
}

/// The thumbnail stored at enrolment, decoded; a missing or damaged one only
/// means a welcome without a photo.
pub fn enrolled_photo(store: &Store, code: &str) -> Option<Arc<RgbImage>> {
    let bytes = store.thumbnail(code).ok()??;
    crate::vision::decode::decode_image(&bytes).ok().map(Arc::new)
}

/// Mean brightness, sampled on a sparse grid: enough to tell a backlit scene.
fn mean_brightness(img: &image::RgbImage) -> f32 {
    let (w, h) = img.dimensions();
    let (mut sum, mut n) = (0f32, 0f32);
    for y in (0..h).step_by(8) {
        for x in (0..w).step_by(8) {
            let p = img.get_pixel(x, y).0;
            sum += 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32;
            n += 1.0;
        }
    }
    if n > 0.0 { sum / n } else { 0.0 }
}
