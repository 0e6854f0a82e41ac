//! Who is this? The engine, the enrolled gallery and the decision policy
//! together: a picture in, a decision about one enrolled person out. People
//! are numbered as in the gallery; what they are called is the caller's business.

use std::collections::HashMap;

use image::RgbImage;
use serde::Serialize;

use crate::error::Result;
use crate::matching::decide::{Decision, Policy, decide};
use crate::matching::gallery::{Gallery, Hit};
use crate::vision::detect::Source;
use crate::vision::engine::Engine;
use crate::vision::face::Face;
use crate::vision::quality::{Issue, QualityConfig};

pub struct Recognizer {
    pub engine: Engine,
    gallery: Gallery,
    pub policy: Policy,
    quality: QualityConfig,
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

fn graph(pairs: &[(usize, usize)]) -> HashMap<usize, Vec<usize>> {
    let mut graph: HashMap<usize, Vec<usize>> = HashMap::new();
    for &(a, b) in pairs {
        graph.entry(a).or_default().push(b);
        graph.entry(b).or_default().push(a);
    }
    graph
}

impl Recognizer {
    /// `lookalikes`: pairs of gallery people the kiosk could confuse.
    pub fn new(
        engine: Engine,
        gallery: Gallery,
        policy: Policy,
        quality: QualityConfig,
        lookalikes: &[(usize, usize)],
    ) -> Self {
        Self { engine, gallery, policy, quality, lookalikes: graph(lookalikes) }
    }

    /// The same models over another gallery (the roster changed while running).
    pub fn replace_gallery(&mut self, gallery: Gallery, policy: Policy, lookalikes: &[(usize, usize)]) {
        (self.gallery, self.policy, self.lookalikes) = (gallery, policy, graph(lookalikes));
    }

    /// The people `person` could be mistaken for (flagged at enrolment).
    pub fn lookalikes_of(&self, person: usize) -> &[usize] {
        self.lookalikes.get(&person).map_or(&[], Vec::as_slice)
    }

    pub fn quality(&self) -> &QualityConfig {
        &self.quality
    }

    pub fn gallery(&self) -> &Gallery {
        &self.gallery
    }

    /// The decision for the main face of a photo.
    pub fn identify(&self, img: &RgbImage) -> Result<Identification> {
        Ok(self.identify_against(img, None)?.0)
    }

    /// The same, and how alike a judgeable main face is to `person` (the
    /// delegate a badge names): a 1:1 score, for `policy.one_to_one`.
    pub fn identify_against(&self, img: &RgbImage, person: Option<usize>) -> Result<(Identification, Option<f32>)> {
        let scene = self.engine.analyze_main(img, Source::Photo)?;
        let faces_seen = scene.faces.len();
        let Some(mut face) = scene.faces.into_iter().next() else {
            return Ok((Identification { decision: Decision::NoFace, face: None, faces_seen }, None));
        };
        let decision = self.decide_face(&face);
        let one_to_one = person.and_then(|p| self.gallery.person_score(self.judgeable(&face).ok()?, p));
        face.embedding = None;
        Ok((Identification { decision, face: Some(face), faces_seen }, one_to_one))
    }

    /// The decision for a face already embedded by `self.engine`.
    pub fn decide_face(&self, face: &Face) -> Decision {
        match self.judgeable(face) {
            Ok(embedding) => self.decide_embedding(embedding),
            Err(d) => d,
        }
    }

    /// The face's embedding if it is good enough to judge, else why not.
    pub fn judgeable<'f>(&self, face: &'f Face) -> Result<&'f [f32], Decision> {
        let (Some(quality), Some(embedding)) = (face.quality, face.embedding.as_deref()) else {
            return Err(Decision::NoFace);
        };
        let issues: Vec<Issue> =
            quality.issues(&self.quality).into_iter().filter(|i| GATING_ISSUES.contains(i)).collect();
        if issues.is_empty() { Ok(embedding) } else { Err(Decision::PoorQuality { issues }) }
    }

    /// The decision for an embedding: one face's, or the mean of a person's frames.
    pub fn decide_embedding(&self, embedding: &[f32]) -> Decision {
        let hits = self.gallery.search(embedding, 2);
        self.lookalike_rule(decide(&hits, &self.policy), &hits, embedding)
    }

    /// A flagged lookalike is taken by face only when the face is clearly
    /// theirs: ahead of every partner by twice the margin. Otherwise, and when
    /// two partners are too close to tell apart, the person is asked for their
    /// delegate code.
    fn lookalike_rule(&self, decision: Decision, hits: &[Hit], embedding: &[f32]) -> Decision {
        let group = |person: usize| self.lookalikes_of(person).iter().copied().fold(person, usize::min);
        let unclear = |person: usize, score: f32| {
            self.lookalikes_of(person)
                .iter()
                .filter_map(|&q| self.gallery.person_score(embedding, q))
                .any(|partner| score - partner < 2.0 * self.policy.margin)
        };
        match decision {
            Decision::Match { person, score, .. } if unclear(person, score) => {
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
}

/// The person a decision names, and the similarity it was made with.
pub fn matched(decision: &Decision) -> Option<(usize, f32)> {
    match decision {
        Decision::Match { person, score, .. } => Some((*person, *score)),
        _ => None,
    }
}
