//! What a badge held up to the camera says: the delegate it names, or why
//! it names nobody. The kiosk never trusts a badge alone for a delegate
//! whose face is enrolled; this only reads it.

use serde::Serialize;

use crate::error::Result;
use crate::matching::decide::Policy;
use crate::secretariat::badges::WithoutFace;
use crate::store::badges::Token;
use crate::store::{Method, Store};

/// Why a QR code is not a valid badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Problem {
    /// Not a badge of this congress: another congress's key, or forged.
    Unknown,
    /// A lost badge that was reissued.
    Replaced,
    /// Not a badge at all (another QR code), or damaged.
    Malformed,
}

/// A QR code seen, as `kiosk identify --json` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadgeSeen {
    /// The delegate it names, when the store knows the badge (even replaced).
    pub code: Option<String>,
    pub valid: bool,
    pub problem: Option<Problem>,
}

/// What the QR code read in a frame says as a badge.
pub fn judge(store: &Store, text: &str) -> Result<BadgeSeen> {
    let refused = |code, problem| BadgeSeen { code, valid: false, problem: Some(problem) };
    Ok(match Token::parse(text) {
        None => refused(None, Problem::Malformed),
        Some(token) => match store.badge(&token)? {
            None => refused(None, Problem::Unknown),
            Some(b) if b.replaced => refused(Some(b.code), Problem::Replaced),
            Some(b) => BadgeSeen { code: Some(b.code), valid: true, problem: None },
        },
    })
}

/// What a valid badge and the face beside it decide: the same rule at the
/// kiosk (on the mean of a few frames) and in `kiosk identify` (one photo).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum BadgeDecision {
    /// The face is the badge holder's, at the 1:1 threshold: check in by badge.
    Match { code: String, score: f32, method: Method },
    /// Not the badge holder's face: nobody is checked in, the help desk settles it.
    BadgeFaceMismatch { code: String, score: f32 },
    /// The delegate has no face enrolled: `badges.without_face` decides.
    NoFaceEnrolled { code: String, method: Option<Method> },
}

/// `score`: the face against the badge holder's templates (None when they have none).
pub fn decide(code: &str, score: Option<f32>, policy: &Policy, without_face: WithoutFace) -> BadgeDecision {
    let code = code.to_string();
    match score {
        Some(score) if score >= policy.one_to_one => BadgeDecision::Match { code, score, method: Method::Badge },
        Some(score) => BadgeDecision::BadgeFaceMismatch { code, score },
        None => BadgeDecision::NoFaceEnrolled {
            code,
            method: (without_face == WithoutFace::Accept).then_some(Method::BadgeOnly),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy { threshold: 0.45, margin: 0.06, one_to_one: 0.36 };

    #[test]
    fn a_badge_checks_in_only_with_its_holders_face_or_by_policy_without_one() {
        let at = |score| decide("D1", score, &POLICY, WithoutFace::Desk);
        assert!(matches!(at(Some(0.40)), BadgeDecision::Match { method: Method::Badge, .. }), "below 1:N, above 1:1");
        assert!(matches!(at(Some(0.20)), BadgeDecision::BadgeFaceMismatch { .. }));
        assert_eq!(at(None), BadgeDecision::NoFaceEnrolled { code: "D1".into(), method: None });
        let accept = decide("D1", None, &POLICY, WithoutFace::Accept);
        assert_eq!(accept, BadgeDecision::NoFaceEnrolled { code: "D1".into(), method: Some(Method::BadgeOnly) });
        assert_eq!(serde_json::to_value(at(Some(0.2))).unwrap()["reason"], "badge_face_mismatch");
    }
}
