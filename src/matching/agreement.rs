//! Across camera frames: who is in front of the camera, judged on all the
//! evidence their good frames give, not frame by frame. A new person is
//! noticed when the box moves away or when the face itself changes (the next
//! person in a queue steps into the same spot); each person gets one verdict.
//! While nothing is decided, the person is told what would help.

use serde::Serialize;

use crate::matching::decide::{Decision, Policy};
use crate::vision::face::{BBox, l2_normalize, similarity};
use crate::vision::quality::Issue;

/// Boxes of one face in consecutive frames overlap at least this much.
const SAME_FACE_IOU: f32 = 0.2;
/// Two frames this alike add nothing the first did not say: a still picture,
/// a frozen camera, the same photo held up.
const SAME_FRAME: f32 = 0.995;

/// The face now in front of the camera and what its good frames showed.
#[derive(Debug, Clone)]
struct Track {
    bbox: BBox,
    /// Sum of the embeddings of the good frames: its direction is the person's mean face.
    sum: Vec<f32>,
    /// The last embedding that differed from the one before it.
    last: Option<Vec<f32>>,
    good: usize,
    /// Good frames that differ from the frame kept before them.
    distinct: usize,
    decided: bool,
}

impl Track {
    fn new(bbox: BBox) -> Self {
        Track { bbox, sum: Vec::new(), last: None, good: 0, distinct: 0, decided: false }
    }

    fn mean(&self) -> Option<Vec<f32>> {
        if self.good == 0 {
            return None;
        }
        let mut m = self.sum.clone();
        l2_normalize(&mut m);
        Some(m)
    }

    fn add(&mut self, embedding: &[f32]) {
        if self.sum.is_empty() {
            self.sum = vec![0.0; embedding.len()];
        }
        self.sum.iter_mut().zip(embedding).for_each(|(s, e)| *s += e);
        self.good += 1;
        if self.last.as_deref().is_none_or(|l| similarity(l, embedding) < SAME_FRAME) {
            self.distinct += 1;
            self.last = Some(embedding.to_vec());
        }
    }
}

/// Decides who a track is from the mean of its good frames: a match needs
/// `min_frames` good frames, and a score above the threshold by a safety
/// margin that shrinks as distinct frames add evidence (identical frames
/// count once). Frames that match nobody pull the mean down, so misses count
/// against a match.
#[derive(Debug, Clone)]
pub struct Agreement {
    min_frames: usize,
    unknown_after: usize,
    policy: Policy,
    track: Option<Track>,
    /// Counts the tracks begun: a new person, even one judged on their first frame.
    tracks: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    Pending,
    /// The evidence names this person; `lookalike` when only their delegate
    /// code can tell them from a flagged lookalike.
    Agreed {
        person: usize,
        score: f32,
        frames: usize,
        lookalike: bool,
    },
    /// Frame after frame, nobody enrolled.
    Unknown,
    /// A new face came into view, or another person stepped into the same spot.
    NewFace,
}

impl Agreement {
    pub fn new(min_frames: usize, unknown_after: usize, policy: Policy) -> Self {
        Self { min_frames: min_frames.max(1), unknown_after: unknown_after.max(1), policy, track: None, tracks: 0 }
    }

    /// Which track the last frame belonged to; it changes with each new person.
    pub fn track_number(&self) -> u64 {
        self.tracks
    }

    /// How far above the threshold the mean must be with `distinct` distinct
    /// frames: half the margin for one, shrinking as evidence accumulates.
    fn extra(&self, distinct: usize) -> f32 {
        0.5 * self.policy.margin / (distinct.max(1) as f32).sqrt()
    }

    /// The main face of a frame (None: nobody) and its embedding (None: not
    /// good enough to judge); `judge` decides on an embedding.
    pub fn observe(&mut self, face: Option<(BBox, Option<&[f32]>)>, judge: impl Fn(&[f32]) -> Decision) -> Verdict {
        let Some((bbox, embedding)) = face else {
            self.track = None;
            return Verdict::Pending;
        };
        let moved = self.track.as_ref().is_none_or(|t| t.bbox.iou(&bbox) < SAME_FACE_IOU);
        let changed = match (self.track.as_ref().and_then(Track::mean), embedding) {
            (Some(mean), Some(e)) => similarity(&mean, e) < self.policy.threshold,
            _ => false,
        };
        let new_face = moved || changed;
        if new_face {
            self.track = Some(Track::new(bbox));
            self.tracks += 1;
        }
        let track = self.track.as_mut().expect("a track was just made");
        track.bbox = bbox;
        let Some(embedding) = embedding else {
            return if new_face { Verdict::NewFace } else { Verdict::Pending };
        };
        track.add(embedding);
        if track.decided {
            return Verdict::Pending;
        }
        let (good, distinct) = (track.good, track.distinct);
        let mean = track.mean().expect("a good frame was just added");
        let decision = judge(&mean);
        let lookalike = matches!(decision, Decision::Lookalike { .. });
        let verdict = match decision {
            Decision::Match { person, score, .. } | Decision::Lookalike { person, score }
                if good >= self.min_frames && score >= self.policy.threshold + self.extra(distinct) =>
            {
                Some(Verdict::Agreed { person, score, frames: good, lookalike })
            }
            _ if good >= self.unknown_after => Some(Verdict::Unknown),
            _ => None,
        };
        match verdict {
            Some(v) => {
                if let Some(t) = self.track.as_mut() {
                    t.decided = true;
                }
                v
            }
            None if new_face => Verdict::NewFace,
            None => Verdict::Pending,
        }
    }
}

/// What to tell the person in front of the camera while nothing is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Guidance {
    MoveCloser,
    FaceTheCamera,
    HoldStill,
    TooDark,
    Backlit,
    TooBright,
    OnePersonAtATime,
}

/// `issues` of the main face; `crowded` when another face is nearly as
/// prominent; `frame_brightness` the mean of the whole frame (0..255).
pub fn guidance(issues: &[Issue], crowded: bool, frame_brightness: f32) -> Option<Guidance> {
    if crowded {
        return Some(Guidance::OnePersonAtATime);
    }
    let first = issues.first()?;
    Some(match first {
        Issue::TooSmall => Guidance::MoveCloser,
        Issue::TurnedAway => Guidance::FaceTheCamera,
        Issue::Blurry => Guidance::HoldStill,
        // A dark face in a bright frame: a window or lamp behind the person.
        Issue::TooDark if frame_brightness > 140.0 => Guidance::Backlit,
        Issue::TooDark => Guidance::TooDark,
        Issue::TooBright => Guidance::TooBright,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: BBox = BBox { x0: 100.0, y0: 100.0, x1: 200.0, y1: 220.0 };
    const B: BBox = BBox { x0: 400.0, y0: 100.0, x1: 500.0, y1: 220.0 };
    const POLICY: Policy = Policy { threshold: 0.5, margin: 0.06, one_to_one: 0.4 };

    /// A unit vector near axis `axis` of 8, turned by `noise` towards axis 7.
    fn face(axis: usize, noise: f32) -> Vec<f32> {
        let mut v = vec![0.0; 8];
        v[axis] = 1.0;
        v[7] += noise;
        l2_normalize(&mut v);
        v
    }

    /// Person p's enrolled face is axis p; the score is the similarity to it.
    fn judge(e: &[f32]) -> Decision {
        let (person, score) = (0..7).map(|p| (p, e[p])).max_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
        if score >= POLICY.threshold {
            Decision::Match { person, score, margin: score }
        } else {
            Decision::BelowThreshold { best: Some(score) }
        }
    }

    fn see(a: &mut Agreement, bbox: BBox, e: &[f32]) -> Verdict {
        a.observe(Some((bbox, Some(e))), judge)
    }

    #[test]
    fn agrees_once_on_the_evidence_of_several_good_frames() {
        let mut a = Agreement::new(3, 12, POLICY);
        assert_eq!(see(&mut a, A, &face(4, 0.10)), Verdict::NewFace);
        assert_eq!(a.observe(Some((A, None)), judge), Verdict::Pending, "a blurry frame says nothing");
        assert_eq!(see(&mut a, A, &face(4, 0.12)), Verdict::Pending);
        let agreed = see(&mut a, A, &face(4, 0.14));
        assert!(matches!(agreed, Verdict::Agreed { person: 4, frames: 3, lookalike: false, .. }), "{agreed:?}");
        for _ in 0..10 {
            assert_eq!(see(&mut a, A, &face(4, 0.1)), Verdict::Pending, "one verdict per person");
        }
    }

    #[test]
    fn the_next_person_in_the_same_spot_is_noticed_and_judged() {
        let mut a = Agreement::new(2, 12, POLICY);
        see(&mut a, A, &face(1, 0.1));
        assert!(matches!(see(&mut a, A, &face(1, 0.12)), Verdict::Agreed { person: 1, .. }));
        assert_eq!(see(&mut a, A, &face(2, 0.1)), Verdict::NewFace, "same box, another face");
        assert!(matches!(see(&mut a, A, &face(2, 0.12)), Verdict::Agreed { person: 2, .. }));
        assert_eq!(see(&mut a, B, &face(2, 0.1)), Verdict::NewFace, "the box moved away");
        // Judged on one frame, the next person shows no NewFace: the track number tells them apart.
        let mut one = Agreement::new(1, 12, POLICY);
        assert!(matches!(see(&mut one, A, &face(1, 0.12)), Verdict::Agreed { person: 1, .. }));
        let first = one.track_number();
        assert!(matches!(see(&mut one, A, &face(2, 0.12)), Verdict::Agreed { person: 2, .. }));
        assert_eq!(one.track_number(), first + 1);
    }

    #[test]
    fn identical_frames_of_a_near_threshold_stranger_never_agree() {
        let mut a = Agreement::new(3, 12, POLICY);
        // Similarity 0.52 to person 3: just above the threshold, on every frame alike.
        let mut e = vec![0.0; 8];
        e[3] = 0.52;
        e[7] = (1.0f32 - 0.52 * 0.52).sqrt();
        for _ in 0..11 {
            assert!(!matches!(see(&mut a, A, &e), Verdict::Agreed { .. }));
        }
        assert_eq!(see(&mut a, A, &e), Verdict::Unknown);
    }

    /// `a` towards person 5's face, the rest towards axis 7 (nobody's).
    fn towards_5(a: f32) -> Vec<f32> {
        let mut v = vec![0.0; 8];
        v[5] = a;
        v[7] = (1.0 - a * a).sqrt();
        v
    }

    #[test]
    fn frames_that_match_nobody_count_against_a_match() {
        let mut a = Agreement::new(3, 12, POLICY);
        for score in [0.60, 0.61, 0.62] {
            see(&mut a, A, &towards_5(score));
        }
        assert!(a.track.as_ref().unwrap().decided, "three fair frames agree");
        let mut a = Agreement::new(3, 12, POLICY);
        let mut verdicts = Vec::new();
        for score in [0.60, 0.30, 0.61] {
            verdicts.push(see(&mut a, A, &towards_5(score)));
        }
        assert_eq!(verdicts[1], Verdict::Pending, "the miss is still the same person's frame");
        assert!(!matches!(verdicts[2], Verdict::Agreed { .. }), "{verdicts:?}");
    }

    #[test]
    fn guidance_names_the_most_pressing_problem() {
        assert_eq!(guidance(&[], true, 100.0), Some(Guidance::OnePersonAtATime));
        assert_eq!(guidance(&[Issue::TooSmall, Issue::Blurry], false, 100.0), Some(Guidance::MoveCloser));
        assert_eq!(guidance(&[Issue::TooDark], false, 180.0), Some(Guidance::Backlit));
        assert_eq!(guidance(&[Issue::TooDark], false, 60.0), Some(Guidance::TooDark));
        assert_eq!(guidance(&[], false, 100.0), None);
    }
}
