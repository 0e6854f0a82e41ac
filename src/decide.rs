//! From search hits to a decision. The kiosk never guesses: a match must be
//! above the threshold and clearly ahead of the next person.

use serde::Serialize;

use crate::matching::Hit;
use crate::quality::Issue;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Policy {
    pub threshold: f32,
    pub margin: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Decision {
    Match { person: usize, score: f32, margin: f32 },
    NoFace,
    PoorQuality { issues: Vec<Issue> },
    BelowThreshold { best: Option<f32> },
    Ambiguous { score: f32, second: f32 },
}

impl Decision {
    pub fn reason(&self) -> &'static str {
        match self {
            Decision::Match { .. } => "match",
            Decision::NoFace => "no face",
            Decision::PoorQuality { .. } => "poor quality",
            Decision::BelowThreshold { .. } => "below threshold",
            Decision::Ambiguous { .. } => "ambiguous",
        }
    }
}

/// `hits` best first, as `Gallery::search` returns them (at least two, to see the margin).
pub fn decide(hits: &[Hit], policy: &Policy) -> Decision {
    let Some(best) = hits.first() else {
        return Decision::BelowThreshold { best: None };
    };
    if best.score < policy.threshold {
        return Decision::BelowThreshold { best: Some(best.score) };
    }
    let second = hits.get(1).map_or(-1.0, |h| h.score);
    if best.score - second < policy.margin {
        return Decision::Ambiguous { score: best.score, second };
    }
    Decision::Match { person: best.person, score: best.score, margin: best.score - second }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy { threshold: 0.5, margin: 0.05 };

    #[test]
    fn accepts_only_a_clear_winner_above_threshold() {
        let hit = |person, score| Hit { person, score };
        assert_eq!(decide(&[], &POLICY), Decision::BelowThreshold { best: None });
        assert_eq!(decide(&[hit(1, 0.4), hit(2, 0.1)], &POLICY), Decision::BelowThreshold { best: Some(0.4) });
        assert!(matches!(decide(&[hit(1, 0.7), hit(2, 0.68)], &POLICY), Decision::Ambiguous { .. }));
        assert!(matches!(decide(&[hit(1, 0.7), hit(2, 0.2)], &POLICY), Decision::Match { person: 1, .. }));
        assert!(matches!(decide(&[hit(3, 0.7)], &POLICY), Decision::Match { person: 3, .. }));
    }
}
