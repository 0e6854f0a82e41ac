//! Across camera frames: the kiosk checks someone in only when several
//! frames of the same face agree on the same delegate, and calls a face
//! unknown only after many frames that match nobody; and while nothing is
//! decided, it tells the person what would help.

use serde::Serialize;

use crate::matching::decide::Decision;
use crate::vision::face::BBox;
use crate::vision::quality::Issue;

/// One verdict per face: the person has to leave the camera's view before
/// they are judged again.
#[derive(Debug, Clone)]
pub struct Agreement {
    needed: usize,
    unknown_after: usize,
    track: Option<BBox>,
    candidate: Option<usize>,
    streak: usize,
    /// Sum of the similarities of the frames in the streak.
    streak_score: f32,
    misses: usize,
    decided: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    Pending,
    /// `frames` frames in a row named this person, with this mean similarity.
    Agreed {
        person: usize,
        score: f32,
        frames: usize,
    },
    /// Frame after frame, nobody enrolled.
    Unknown,
    /// A new face came into view (the previous one left).
    NewFace,
}

/// Boxes of one face in consecutive frames overlap at least this much.
const SAME_FACE_IOU: f32 = 0.2;

impl Agreement {
    pub fn new(needed: usize, unknown_after: usize) -> Self {
        Self {
            needed: needed.max(1),
            unknown_after: unknown_after.max(1),
            track: None,
            candidate: None,
            streak: 0,
            streak_score: 0.0,
            misses: 0,
            decided: false,
        }
    }

    /// The main face of a frame (None: nobody) and the decision about it.
    pub fn observe(&mut self, face: Option<BBox>, decision: &Decision) -> Verdict {
        let Some(face) = face else {
            *self = Self::new(self.needed, self.unknown_after);
            return Verdict::Pending;
        };
        let new_face = self.track.is_none_or(|t| t.iou(&face) < SAME_FACE_IOU);
        if new_face {
            *self = Self::new(self.needed, self.unknown_after);
        }
        self.track = Some(face);
        if self.decided {
            return Verdict::Pending;
        }
        match decision {
            Decision::Match { person, score, .. } | Decision::Lookalike { person, score }
                if self.candidate == Some(*person) =>
            {
                self.streak += 1;
                self.streak_score += score;
            }
            Decision::Match { person, score, .. } | Decision::Lookalike { person, score } => {
                self.candidate = Some(*person);
                self.streak = 1;
                self.streak_score = *score;
            }
            Decision::BelowThreshold { .. } | Decision::Ambiguous { .. } => self.misses += 1,
            // A face too small or blurry to judge says nothing about who it is.
            Decision::PoorQuality { .. } | Decision::NoFace => {}
        }
        if let (Some(person), true) = (self.candidate, self.streak >= self.needed) {
            self.decided = true;
            return Verdict::Agreed { person, score: self.streak_score / self.streak as f32, frames: self.streak };
        }
        if self.misses >= self.unknown_after {
            self.decided = true;
            return Verdict::Unknown;
        }
        if new_face { Verdict::NewFace } else { Verdict::Pending }
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

    fn m(person: usize) -> Decision {
        Decision::Match { person, score: 0.8, margin: 0.3 }
    }

    #[test]
    fn agrees_once_after_enough_frames_of_the_same_person() {
        let mut a = Agreement::new(3, 5);
        assert_eq!(a.observe(Some(A), &m(4)), Verdict::NewFace);
        assert_eq!(a.observe(Some(A), &Decision::PoorQuality { issues: vec![Issue::Blurry] }), Verdict::Pending);
        assert_eq!(a.observe(Some(A), &m(4)), Verdict::Pending);
        let agreed = a.observe(Some(A), &m(4));
        assert!(matches!(agreed, Verdict::Agreed { person: 4, frames: 3, score } if (score - 0.8).abs() < 1e-6));
        // Once decided, the same face gives nothing more.
        for _ in 0..10 {
            assert_eq!(a.observe(Some(A), &m(4)), Verdict::Pending);
        }
    }

    #[test]
    fn a_disagreeing_frame_restarts_the_count() {
        let mut a = Agreement::new(3, 5);
        a.observe(Some(A), &m(1));
        a.observe(Some(A), &m(1));
        assert_eq!(a.observe(Some(A), &m(2)), Verdict::Pending);
        a.observe(Some(A), &m(2));
        assert!(matches!(a.observe(Some(A), &m(2)), Verdict::Agreed { person: 2, frames: 3, .. }));
    }

    #[test]
    fn strangers_become_unknown_and_a_new_face_starts_afresh() {
        let mut a = Agreement::new(3, 4);
        let below = Decision::BelowThreshold { best: Some(0.3) };
        for _ in 0..3 {
            assert_ne!(a.observe(Some(A), &below), Verdict::Unknown);
        }
        assert_eq!(a.observe(Some(A), &below), Verdict::Unknown);
        assert_eq!(a.observe(Some(B), &m(7)), Verdict::NewFace);
        a.observe(Some(B), &m(7));
        assert!(matches!(a.observe(Some(B), &m(7)), Verdict::Agreed { person: 7, .. }));
        assert_eq!(a.observe(None, &Decision::NoFace), Verdict::Pending);
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
