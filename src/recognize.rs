//! Who is this? The engine, the enrolled gallery and the decision policy
//! together: a picture in, a decision about one delegate out.

use image::RgbImage;
use serde::Serialize;

use crate::config::Config;
use crate::decide::{Decision, Policy, decide};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::face::Face;
use crate::matching::Gallery;
use crate::quality::Issue;
use crate::record::{Delegate, Store};

pub struct Recognizer {
    pub engine: Engine,
    people: Vec<Delegate>,
    gallery: Gallery,
    pub policy: Policy,
    quality: crate::config::QualityConfig,
}

#[derive(Debug, Clone, Serialize)]
pub struct Identification {
    pub decision: Decision,
    /// The main face, as seen (box, landmarks, quality; embedding dropped).
    pub face: Option<Face>,
    pub faces_seen: usize,
}

/// Quality problems that make an identification attempt worthless; pose and
/// exposure only lower the score, which the threshold already handles.
const GATING_ISSUES: [Issue; 2] = [Issue::TooSmall, Issue::Blurry];

impl Recognizer {
    /// Loads the gallery the configured embedder made; templates from another
    /// model are never compared with this one's.
    pub fn load(cfg: &Config, store: &Store) -> Result<Self> {
        let engine = Engine::load(&cfg.engine)?;
        let kind = engine.embedder();
        let (people, gallery) = store.gallery(kind.model_id(), kind.dim())?;
        if gallery.is_empty() {
            let others = store.template_models()?;
            return Err(Error::Store(if others.is_empty() {
                format!("no delegate is enrolled in {} yet: run `kiosk enroll` first.", store.path().display())
            } else {
                format!(
                    "the delegates in {} were enrolled with {} but the kiosk is set to {}: run `kiosk enroll` again to re-enrol them with this model (or switch engine.embedder back).",
                    store.path().display(),
                    others.iter().map(|(m, n)| format!("{m} ({n} templates)")).collect::<Vec<_>>().join(", "),
                    kind.model_id()
                )
            }));
        }
        Ok(Self::new(engine, people, gallery, cfg))
    }

    /// From parts: `gallery`'s person `i` is `people[i]`.
    pub fn new(engine: Engine, people: Vec<Delegate>, gallery: Gallery, cfg: &Config) -> Self {
        let kind = engine.embedder();
        let policy = Policy {
            threshold: cfg.decide.threshold.unwrap_or(kind.default_threshold()),
            margin: cfg.decide.margin.unwrap_or(kind.default_margin()),
        };
        Self { engine, people, gallery, policy, quality: cfg.quality.clone() }
    }

    pub fn quality(&self) -> &crate::config::QualityConfig {
        &self.quality
    }

    pub fn people(&self) -> &[Delegate] {
        &self.people
    }

    pub fn gallery(&self) -> &Gallery {
        &self.gallery
    }

    pub fn identify(&self, img: &RgbImage) -> Result<Identification> {
        let scene = self.engine.analyze_main(img)?;
        let faces_seen = scene.faces.len();
        let Some(mut face) = scene.faces.into_iter().next() else {
            return Ok(Identification { decision: Decision::NoFace, face: None, faces_seen });
        };
        let decision = self.decide_face(&face);
        face.embedding = None;
        Ok(Identification { decision, face: Some(face), faces_seen })
    }

    /// The decision for a face already embedded by `self.engine`.
    pub fn decide_face(&self, face: &Face) -> Decision {
        let (Some(quality), Some(embedding)) = (face.quality, face.embedding.as_deref()) else {
            return Decision::NoFace;
        };
        let issues: Vec<Issue> =
            quality.issues(&self.quality).into_iter().filter(|i| GATING_ISSUES.contains(i)).collect();
        if !issues.is_empty() {
            return Decision::PoorQuality { issues };
        }
        decide(&self.gallery.search(embedding, 2), &self.policy)
    }

    /// The delegate a decision names, and the similarity it was made with.
    pub fn matched(&self, decision: &Decision) -> Option<(&Delegate, f32)> {
        match decision {
            Decision::Match { person, score, .. } => self.people.get(*person).map(|d| (d, *score)),
            _ => None,
        }
    }
}
