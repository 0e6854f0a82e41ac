//! Who is this? The engine, the enrolled gallery and the decision policy
//! together: a picture in, a decision about one delegate out.

use std::collections::HashMap;

use image::RgbImage;
use serde::Serialize;

use crate::config::Config;
use crate::decide::{Decision, Policy, decide};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::face::Face;
use crate::matching::{Gallery, Hit};
use crate::quality::Issue;
use crate::record::{Delegate, Lookalike, Store};

pub struct Recognizer {
    pub engine: Engine,
    people: Vec<Delegate>,
    gallery: Gallery,
    pub policy: Policy,
    quality: crate::config::QualityConfig,
    /// Person → the enrolled people their face could be taken for.
    lookalikes: HashMap<usize, Vec<usize>>,
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
        let pairs = store.lookalikes(kind.model_id())?;
        Ok(Self::new(engine, people, gallery, cfg).with_lookalikes(&pairs))
    }

    /// From parts: `gallery`'s person `i` is `people[i]`.
    pub fn new(engine: Engine, people: Vec<Delegate>, gallery: Gallery, cfg: &Config) -> Self {
        let kind = engine.embedder();
        let policy = Policy {
            threshold: cfg.decide.threshold.unwrap_or(kind.default_threshold()),
            margin: cfg.decide.margin.unwrap_or(kind.default_margin()),
        };
        Self { engine, people, gallery, policy, quality: cfg.quality.clone(), lookalikes: HashMap::new() }
    }

    /// Pairs naming someone not in the gallery are ignored.
    pub fn with_lookalikes(mut self, pairs: &[Lookalike]) -> Self {
        let index: HashMap<&str, usize> = self.people.iter().enumerate().map(|(i, d)| (d.code.as_str(), i)).collect();
        let mut lookalikes: HashMap<usize, Vec<usize>> = HashMap::new();
        for p in pairs {
            if let (Some(&a), Some(&b)) = (index.get(p.a.as_str()), index.get(p.b.as_str())) {
                lookalikes.entry(a).or_default().push(b);
                lookalikes.entry(b).or_default().push(a);
            }
        }
        self.lookalikes = lookalikes;
        self
    }

    /// The people `person` could be mistaken for; not empty means the kiosk
    /// asks for the delegate code before checking them in.
    pub fn lookalikes_of(&self, person: usize) -> &[usize] {
        self.lookalikes.get(&person).map_or(&[], Vec::as_slice)
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
        let hits = self.gallery.search(embedding, 2);
        self.lookalike_rule(decide(&hits, &self.policy), &hits)
    }

    /// A match with a delegate who has lookalikes is never taken as it is, and
    /// two lookalikes too close to tell apart are no longer ambiguous: either
    /// way the person will be asked for their delegate code.
    fn lookalike_rule(&self, decision: Decision, hits: &[Hit]) -> Decision {
        let group = |person: usize| self.lookalikes_of(person).iter().copied().fold(person, usize::min);
        match decision {
            Decision::Match { person, score, .. } if !self.lookalikes_of(person).is_empty() => {
                Decision::Lookalike { person: group(person), score }
            }
            Decision::Ambiguous { score, .. }
                if hits.len() >= 2 && self.lookalikes_of(hits[0].person).contains(&hits[1].person) =>
            {
                Decision::Lookalike { person: group(hits[0].person), score }
            }
            d => d,
        }
    }

    /// The delegate a decision names, and the similarity it was made with.
    pub fn matched(&self, decision: &Decision) -> Option<(&Delegate, f32)> {
        match decision {
            Decision::Match { person, score, .. } => self.people.get(*person).map(|d| (d, *score)),
            _ => None,
        }
    }
}
