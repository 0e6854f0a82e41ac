//! Enrolment at the help desk: a delegate whose photo was missing or
//! unusable looks at the kiosk's camera for a couple of seconds. The best
//! frame that passes the quality gate becomes their template once staff
//! approve it, provided the liveness check took the face for a real one;
//! the closest enrolled delegate is shown beside it when they look alike.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use image::RgbImage;
use sha2::{Digest, Sha256};

use crate::capture::Frame;
use crate::checkin::gate::{LivenessGate, Vouch};
use crate::error::Result;
use crate::matching::recognize::Recognizer;
use crate::store::{Delegate, NewTemplate};
use crate::vision::decode::{decode_image, face_jpeg};
use crate::vision::engine::Scene;
use crate::vision::face::Face;
use crate::vision::quality::QualityConfig;

/// Frames a capture looks at: two seconds of a webcam at 30 fps, counted
/// in frames so that a busy machine sees the same frames as a quick one.
pub const CAPTURE_FRAMES: usize = 60;

/// What the kiosk's desk and its station share: the delegate whose face
/// staff asked for (the station takes it and captures), and how many faces
/// were enrolled at the desk (the station reloads its gallery when it moves).
#[derive(Clone, Default)]
pub struct DeskLink {
    pub capture: Arc<Mutex<Option<Delegate>>>,
    pub enrolled: Arc<AtomicU64>,
}

/// A face offered for enrolment, for staff to approve.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub delegate: Delegate,
    /// The embedder the template was made with.
    pub model: String,
    pub template: NewTemplate,
    /// The face as it will be shown at the welcome.
    pub face: Arc<RgbImage>,
    /// The enrolled delegate (someone else) this face is closest to, when
    /// closer than the lookalike level: staff check it is not the same person.
    pub lookalike: Option<(Delegate, f32)>,
}

/// What a capture came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Captured {
    Face(Box<Candidate>),
    /// No frame had one face good enough to enrol (too small, blurred,
    /// turned away, badly lit, or several people in the picture).
    NoGoodFrame,
    /// The liveness check did not take the face for a real one.
    NotLive,
}

/// The frames of one delegate in front of the camera, and the best so far.
pub struct Capture {
    delegate: Delegate,
    frames: usize,
    best: Option<(f32, Face, Arc<RgbImage>)>,
    gate: Option<LivenessGate<()>>,
}

impl Capture {
    /// `gate`: a liveness gate of its own (None with liveness off).
    pub fn new(delegate: Delegate, gate: Option<LivenessGate<()>>) -> Self {
        Self { delegate, frames: 0, best: None, gate }
    }

    pub fn code(&self) -> &str {
        &self.delegate.code
    }

    /// One frame and what the engine found in it; true once enough frames were seen.
    pub fn add(&mut self, frame: &Frame, scene: &Scene, quality: &QualityConfig) -> Result<bool> {
        self.frames += 1;
        let main = scene.main();
        if let Some(gate) = &mut self.gate {
            gate.observe(&frame.image, main, 0)?;
        }
        if let Some(face) = main.filter(|_| !scene.is_crowded()) {
            let good = face.quality.filter(|q| q.issues(quality).is_empty());
            // Sharp and frontal: the template every later check-in is compared with.
            if let (Some(q), Some(_)) = (good, &face.embedding) {
                let score = q.sharpness * (1.0 - q.yaw.abs());
                if self.best.as_ref().is_none_or(|(best, _, _)| score > *best) {
                    self.best = Some((score, face.clone(), frame.image.clone()));
                }
            }
        }
        Ok(self.frames >= CAPTURE_FRAMES)
    }

    /// The best frame, judged: the template, and the closest other delegate.
    pub fn finish(mut self, recognizer: &Recognizer, people: &[Delegate], lookalike: f32) -> Result<Captured> {
        let Some((_, face, image)) = self.best.take() else { return Ok(Captured::NoGoodFrame) };
        if let Some(gate) = &mut self.gate {
            gate.hold(());
            if !matches!(gate.vouch(), Vouch::Live(())) {
                return Ok(Captured::NotLive);
            }
        }
        let (Some(embedding), Some(quality)) = (face.embedding.clone(), face.quality) else {
            return Ok(Captured::NoGoodFrame);
        };
        let thumbnail = face_jpeg(&image, &face.bbox)?;
        let shown = decode_image(&thumbnail)
            .map_err(|p| crate::error::Error::image(std::path::Path::new("the help desk photo"), p))?;
        let closest = recognizer
            .gallery()
            .search(&embedding, 2)
            .into_iter()
            .find(|hit| people.get(hit.person).is_some_and(|d| d.code != self.delegate.code))
            .filter(|hit| hit.score >= lookalike)
            .map(|hit| (people[hit.person].clone(), hit.score));
        let template =
            NewTemplate { photo_sha256: hex::encode(Sha256::digest(&thumbnail)), embedding, quality, thumbnail };
        Ok(Captured::Face(Box::new(Candidate {
            delegate: self.delegate,
            model: recognizer.engine.embedder().model_id().to_string(),
            template,
            face: Arc::new(shown),
            lookalike: closest,
        })))
    }
}
