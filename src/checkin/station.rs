//! Live check-in: each camera frame goes through the engine and the decision
//! rule; when enough frames agree, the attendance is recorded once and the
//! delegate is greeted. Runs on the recognition thread, never on the UI's.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use image::RgbImage;
use serde::Serialize;

use crate::capture::Frame;
use crate::checkin::badge::{BadgeDecision, BadgeSeen, Problem, decide, judge};
use crate::checkin::enrolment::{Capture, Captured, DeskLink};
use crate::checkin::gate::{LivenessGate, Vouch};
use crate::checkin::staff::{self, Checked, How, enrolled_photo};
use crate::checkin::{KioskConfig, Settings};
use crate::error::Result;
use crate::ledger::syncer::LinkWatch;
use crate::matching::agreement::{Agreement, Guidance, Verdict, guidance};
use crate::matching::decide::DecideConfig;
use crate::matching::recognize::Recognizer;
use crate::secretariat::badges::WithoutFace;
use crate::store::time::Timestamp;
use crate::store::{Delegate, Evidence, Store};
use crate::vision::detect::Source;
use crate::vision::engine::EngineConfig;
use crate::vision::face::BBox;
use crate::vision::face::Face;
use crate::vision::follow::Follow;
use crate::vision::liveness::LivenessConfig;
use crate::vision::qr;
use crate::vision::quality::mean_brightness;
use serde_json::json;

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
    /// The face the help desk asked for (`DeskLink`), for staff to approve.
    #[serde(skip_serializing)]
    Captured(Box<Captured>),
    /// A QR code that is not a valid badge of this congress (the face still counts).
    BadgeInvalid { problem: Problem },
    /// A valid badge held by someone whose face is not its delegate's, or a
    /// delegate with no face enrolled (`badges.without_face = "desk"`):
    /// nothing recorded, a neutral message, the way to the help desk.
    BadgeRefused,
}

/// A check-in decided on by the camera, held until the frames show a real face.
struct Held {
    person: usize,
    lookalike: bool,
    /// Decided by the badge and a 1:1 check, not by the 1:N search.
    badge: bool,
    evidence: Evidence,
    snapshot: Option<Vec<u8>>,
}

/// A badge held up to the camera, and what the faces beside it have shown.
struct BadgeTrack {
    text: String,
    seen: BadgeSeen,
    last_seen: Instant,
    /// The face against the badge holder's templates, one score a judgeable frame.
    scores: Vec<f32>,
    /// Decided (checked in, refused or held for liveness): the same badge is not judged again.
    done: bool,
}

/// A badge out of sight this long is forgotten: the next one shown is a new person's.
const BADGE_MEMORY: Duration = Duration::from_secs(3);

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
    gate: Option<LivenessGate<Held>>,
    without_face: WithoutFace,
    /// Frames are searched for QR codes only once badges are issued (the search costs time).
    badges_issued: bool,
    badge: Option<BadgeTrack>,
    /// Where the last frame's face was: the next frame's detector looks there first.
    follow: Follow,
    /// The help desk's requests, and the count of its enrolments last seen.
    desk: DeskLink,
    desk_seen: u64,
    /// A face being captured for the help desk: recognition waits meanwhile.
    capture: Option<Capture>,
    /// For the liveness gate of each capture.
    liveness: LivenessConfig,
    engine: EngineConfig,
}

impl Station {
    pub fn new(settings: &Settings, store: Store, session: Arc<RwLock<String>>) -> Result<Self> {
        let zone = settings.event.zone().map_err(crate::error::Error::Config)?;
        let store = store.with_zone(zone).with_patience(KIOSK_PATIENCE);
        let (people, recognizer) = store.recognizer(&settings.engine, &settings.decide, &settings.quality)?;
        let policy = recognizer.policy;
        let gate = LivenessGate::load(&settings.liveness, &settings.engine)?;
        Ok(Self {
            recognizer,
            people,
            agreement: Agreement::new(settings.kiosk.frames_to_agree, settings.kiosk.unknown_after_frames, policy),
            settings: settings.kiosk.clone(),
            session,
            greeted_in: String::new(),
            kiosk_id: settings.event.kiosk_id.clone(),
            greeted: HashMap::new(),
            track_start: None,
            link: None,
            decide: settings.decide.clone(),
            gate,
            without_face: settings.badges.without_face,
            badges_issued: store.badges_issued()?,
            badge: None,
            follow: Follow::default(),
            store,
            desk: DeskLink::default(),
            desk_seen: 0,
            capture: None,
            liveness: settings.liveness.clone(),
            engine: settings.engine.clone(),
        })
    }

    /// The kiosk's help desk: faces it asks for are captured here, and
    /// faces it enrolled join the gallery at the next frame.
    pub fn with_desk(mut self, desk: DeskLink) -> Self {
        self.desk_seen = desk.enrolled.load(Ordering::SeqCst);
        self.desk = desk;
        self
    }

    /// Check-ins are sent to the ledger as soon as they are written, and
    /// enrolments made at the secretariat are picked up between frames.
    pub fn with_link(mut self, link: LinkWatch) -> Self {
        let version = link.status().roster_version;
        self.link = Some((link, version));
        self
    }

    /// Rebuilds the recogniser when the ledger brought a new roster, or the
    /// help desk enrolled a face; returns the roster.
    fn refresh_roster(&mut self) -> Result<Option<Vec<Delegate>>> {
        let desk = self.desk.enrolled.load(Ordering::SeqCst);
        let linked = match &mut self.link {
            Some((link, seen)) => {
                let now = link.status().roster_version;
                // Once per change, even when it fails: the old gallery stays in use.
                std::mem::replace(seen, now) != now
            }
            None => false,
        };
        if !linked && desk == self.desk_seen {
            return Ok(None);
        }
        self.desk_seen = desk;
        let kind = self.recognizer.engine.embedder();
        let enrolled = self.store.enrolled(kind)?;
        let policy = self.decide.policy(kind, enrolled.calibrated.as_ref());
        tracing::info!(delegates = enrolled.people.len(), "roster changed: gallery reloaded");
        self.recognizer.replace_gallery(enrolled.gallery, policy, &enrolled.lookalikes);
        self.agreement = Agreement::new(self.settings.frames_to_agree, self.settings.unknown_after_frames, policy);
        self.people = enrolled.people;
        Ok(Some(self.store.delegates()?))
    }

    /// The match threshold this kiosk decides with: the gallery's calibrated
    /// one, unless the settings set one.
    pub fn threshold(&self) -> f32 {
        self.recognizer.policy.threshold
    }

    pub fn process(&mut self, frame: &Frame) -> Result<Update> {
        let roster = self.refresh_roster()?;
        let started = Instant::now();
        if self.capturing()? {
            let (event, faces) = self.capture_frame(frame)?;
            return Ok(Update {
                frame_index: frame.index,
                faces,
                guidance: None,
                event,
                processing: started.elapsed(),
                roster,
            });
        }
        let scene = self.follow.analyze(&self.recognizer.engine, &frame.image)?;
        let main = scene.main();
        let recognizer = &self.recognizer;
        let seen = main.map(|f| (f.bbox, recognizer.judgeable(f).ok()));
        let verdict = self.agreement.observe(seen, |e| recognizer.decide_embedding(e));
        match (verdict, main) {
            (Verdict::NewFace, _) => self.track_start = Some(frame.captured),
            (_, None) => self.track_start = None,
            _ => {}
        }
        if let Some(gate) = &mut self.gate {
            gate.observe(&frame.image, main, self.agreement.track_number())?;
        }
        if verdict == Verdict::NewFace && self.badge.as_ref().is_some_and(|b| b.done) {
            // A new person: the last one's badge, already judged, speaks for them no more.
            self.badge = None;
        }
        let badge_event = self.see_badge(frame, main)?;
        let issues = main.and_then(|f| f.quality).map(|q| q.issues(self.recognizer.quality())).unwrap_or_default();
        let advice = main.and_then(|_| guidance(&issues, scene.is_crowded(), mean_brightness(&frame.image)));
        let event = match verdict {
            // A badge being judged, or just judged, speaks for this person.
            _ if badge_event.is_some() || self.badge.as_ref().is_some_and(|b| b.seen.valid) => {
                badge_event.or_else(|| if main.is_some() { self.vouch(frame) } else { None })
            }
            Verdict::Agreed { person, score, frames, lookalike } => {
                let snapshot = self.snapshot(frame, main)?;
                let evidence = Evidence { score, frames: frames as u32 };
                self.decided(Held { person, lookalike, badge: false, evidence, snapshot }, frame)
            }
            Verdict::Unknown => {
                if let Some(gate) = &mut self.gate {
                    gate.settle();
                }
                Some(Event::Unknown)
            }
            Verdict::Pending | Verdict::NewFace if main.is_some() => self.vouch(frame),
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

    /// Whether the help desk is capturing a face: frames then go to the
    /// capture, not to recognition. Starts the capture it asked for.
    fn capturing(&mut self) -> Result<bool> {
        if self.capture.is_none() {
            let asked = self.desk.capture.lock().unwrap_or_else(|p| p.into_inner()).take();
            let Some(delegate) = asked else { return Ok(false) };
            tracing::info!(code = %delegate.code, "help desk: capturing a face");
            let gate = LivenessGate::load(&self.liveness, &self.engine)?;
            self.capture = Some(Capture::new(delegate, gate));
        }
        Ok(true)
    }

    /// One frame of the capture: the faces seen, and at its end what it came to.
    fn capture_frame(&mut self, frame: &Frame) -> Result<(Option<Event>, Vec<BBox>)> {
        let scene = self.recognizer.engine.analyze_main(&frame.image, Source::CameraFrame)?;
        let faces = scene.faces.iter().map(|f| f.bbox).collect();
        let Some(capture) = self.capture.as_mut() else { return Ok((None, faces)) };
        if !capture.add(frame, &scene, self.recognizer.quality())? {
            return Ok((None, faces));
        }
        let Some(capture) = self.capture.take() else { return Ok((None, faces)) };
        let lookalike = self.decide.lookalike(self.recognizer.engine.embedder());
        let captured = capture.finish(&self.recognizer, &self.people, lookalike)?;
        match &captured {
            Captured::Face(c) => tracing::info!(code = %c.delegate.code, "help desk: face captured, waiting for staff"),
            other => tracing::info!(outcome = ?other, "help desk: capture gave no face to enrol"),
        }
        // Whoever stands there next is a new face to recognition.
        self.agreement =
            Agreement::new(self.settings.frames_to_agree, self.settings.unknown_after_frames, self.recognizer.policy);
        Ok((Some(Event::Captured(Box::new(captured))), faces))
    }

    /// A check-in decided on: through the liveness gate when there is one.
    fn decided(&mut self, held: Held, frame: &Frame) -> Option<Event> {
        match &mut self.gate {
            Some(gate) => {
                gate.hold(held);
                self.vouch(frame)
            }
            None => self.greet(held, frame.captured),
        }
    }

    /// Reads the badge in the frame, if any, and judges it with the face
    /// beside it over a few frames (`badge::decide`). Returns what the
    /// screen must say now.
    fn see_badge(&mut self, frame: &Frame, main: Option<&Face>) -> Result<Option<Event>> {
        // Badges issued (or pulled from the ledger) while running count at once: the look is cheap.
        self.badges_issued = self.badges_issued || self.store.badges_issued()?;
        let read = if self.badges_issued { qr::read(&frame.image) } else { None };
        let now = Instant::now();
        match read {
            Some(text) if self.badge.as_ref().is_some_and(|b| b.text == text) => {
                if let Some(b) = &mut self.badge {
                    b.last_seen = now;
                }
            }
            Some(text) => {
                let seen = judge(&self.store, &text)?;
                self.badge = Some(BadgeTrack { text, seen, last_seen: now, scores: Vec::new(), done: false });
            }
            None if self.badge.as_ref().is_some_and(|b| now - b.last_seen > BADGE_MEMORY) => self.badge = None,
            None => {}
        }
        let Some(badge) = self.badge.as_mut().filter(|b| !b.done) else { return Ok(None) };
        let Some(code) = badge.seen.code.clone().filter(|_| badge.seen.valid) else {
            badge.done = true;
            let problem = badge.seen.problem.unwrap_or(Problem::Malformed);
            let detail = json!({"problem": problem, "code": badge.seen.code});
            self.refuse("badge_refused", detail, None);
            return Ok(Some(Event::BadgeInvalid { problem }));
        };
        let person = self.people.iter().position(|d| d.code == code);
        if let Some(p) = person {
            let recognizer = &self.recognizer;
            let score = main
                .and_then(|face| recognizer.judgeable(face).ok())
                .and_then(|e| recognizer.gallery().person_score(e, p));
            badge.scores.extend(score);
            if badge.scores.len() < self.settings.frames_to_agree {
                return Ok(None);
            }
        }
        // The last frames decide: the first ones of a person stepping up are often poor.
        let recent = &badge.scores[badge.scores.len().saturating_sub(self.settings.frames_to_agree)..];
        let (mean, agreed) =
            ((!recent.is_empty()).then(|| recent.iter().sum::<f32>() / recent.len() as f32), recent.len());
        let frames = badge.scores.len() as u32;
        let decision = decide(&code, person.and(mean), &self.recognizer.policy, self.without_face);
        // A face below the 1:1 threshold gets the frames any face gets before "unknown".
        if matches!(decision, BadgeDecision::BadgeFaceMismatch { .. })
            && (frames as usize) < self.settings.unknown_after_frames
        {
            return Ok(None);
        }
        badge.done = true;
        let snapshot = self.snapshot(frame, main)?;
        Ok(match decision {
            BadgeDecision::Match { score, .. } => {
                let person = person.expect("only an enrolled face has a score");
                let evidence = Evidence { score, frames: agreed as u32 };
                self.decided(Held { person, lookalike: false, badge: true, evidence, snapshot }, frame)
            }
            BadgeDecision::NoFaceEnrolled { method: Some(_), .. } => self.greet_badge_only(&code, frame.captured),
            BadgeDecision::NoFaceEnrolled { method: None, .. } => {
                self.refuse("badge_without_face", json!({"code": code}), None);
                Some(Event::BadgeRefused)
            }
            BadgeDecision::BadgeFaceMismatch { score, .. } => {
                tracing::warn!(code, score, "a badge shown with another face");
                let detail = json!({"code": code, "score": score, "frames": frames});
                self.refuse("badge_face_mismatch", detail, snapshot.as_deref());
                Some(Event::BadgeRefused)
            }
        })
    }

    /// The face as seen now, when the settings keep snapshots.
    fn snapshot(&self, frame: &Frame, main: Option<&Face>) -> Result<Option<Vec<u8>>> {
        match main {
            Some(f) if self.settings.save_snapshots => {
                Ok(Some(crate::vision::decode::face_jpeg(&frame.image, &f.bbox)?))
            }
            _ => Ok(None),
        }
    }

    /// A refusal in the audit log, with this kiosk, the session and the
    /// snapshot; not written is still refused: the refusal does not hang on the log.
    fn refuse(&mut self, action: &str, mut detail: serde_json::Value, snapshot: Option<&[u8]>) {
        let session = self.session.read().unwrap_or_else(|p| p.into_inner()).clone();
        detail["session"] = session.clone().into();
        detail["kiosk"] = self.kiosk_id.clone().into();
        if let Err(e) = self.store.transaction(|tx| tx.refused(action, &session, detail.clone(), snapshot)) {
            tracing::error!("{action} not written to the audit log: {e}");
        }
    }

    /// The held check-in, once the liveness gate has judged it.
    fn vouch(&mut self, frame: &Frame) -> Option<Event> {
        match self.gate.as_mut()?.vouch() {
            Vouch::Wait => None,
            Vouch::Challenge => Some(Event::Challenge),
            Vouch::Live(held) => self.greet(held, frame.captured),
            Vouch::Refused { held, reason, score, frames } => {
                let resembles = self.people.get(held.person).map(|d| d.code.clone());
                let detail = json!({"reason": reason, "score": score, "frames": frames, "resembles": resembles});
                self.refuse("liveness_refused", detail, held.snapshot.as_deref());
                Some(Event::NotLive)
            }
        }
    }

    /// `held.snapshot`: the face as seen now, kept with the check-in when configured.
    fn greet(&mut self, held: Held, captured: Instant) -> Option<Event> {
        let Held { person, lookalike, badge, evidence, snapshot } = held;
        let delegate = self.people.get(person).cloned()?;
        if self.greeted_lately(&delegate.code) {
            return None;
        }
        if lookalike {
            let partners = self.recognizer.lookalikes_of(person);
            tracing::info!(code = %delegate.code, lookalikes = partners.len(), "asking for the delegate code");
            self.greeted.insert(delegate.code.clone(), Instant::now());
            let others = partners.iter().filter_map(|&p| self.people.get(p).cloned());
            return Some(Event::AskCode { candidates: std::iter::once(delegate).chain(others).collect(), evidence });
        }
        let snapshot = snapshot.as_deref();
        let how = if badge { How::Badge { evidence, snapshot } } else { How::Face { evidence, snapshot } };
        self.record(delegate, how, captured)
    }

    /// A delegate with no face enrolled, on their badge alone (`badges.without_face = "accept"`).
    fn greet_badge_only(&mut self, code: &str, captured: Instant) -> Option<Event> {
        let delegate = match self.store.delegate(code) {
            Ok(found) => found?,
            Err(e) => return Some(Event::NotRecorded { error: e.to_string() }),
        };
        if self.greeted_lately(code) {
            return None;
        }
        self.record(delegate, How::BadgeOnly, captured)
    }

    /// Whether `code` was greeted within the cooldown in this session.
    fn greeted_lately(&mut self, code: &str) -> bool {
        let session = self.session.read().unwrap_or_else(|p| p.into_inner()).clone();
        if session != self.greeted_in {
            // A new congress session: everyone may be greeted (and recorded) again.
            self.greeted.clear();
            self.greeted_in = session;
        }
        let cooldown = Duration::from_secs(self.settings.cooldown_seconds);
        self.greeted.get(code).is_some_and(|t| t.elapsed() < cooldown)
    }

    /// Writes the check-in and makes the welcome.
    fn record(&mut self, delegate: Delegate, how: How, captured: Instant) -> Option<Event> {
        let session = self.session.read().unwrap_or_else(|p| p.into_inner()).clone();
        let outcome = match staff::check_in(&mut self.store, &session, &delegate.code, how, &self.kiosk_id) {
            Ok(Checked { outcome, .. }) => outcome,
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
        tracing::info!(code = %delegate.code, already, latency_ms, how = ?how, "check-in");
        let photo = enrolled_photo(&self.store, &delegate.code);
        let liveness_ms = self.gate.as_ref().map_or(0.0, |g| g.spent().as_secs_f32() * 1000.0);
        Some(Event::Welcome { delegate, at, already, latency_ms, liveness_ms, photo })
    }
}
