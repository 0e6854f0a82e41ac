//! A threshold for this event's gallery. Enrolled delegates are strangers to
//! one another: the similarities between different delegates show how alike
//! the strangers of this population look to the model. The upper tail of
//! those similarities is fitted with an exponential, and the threshold is set
//! where a stranger, compared with everyone enrolled, is expected to be
//! accepted at most `target` of the time.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::matching::gallery::Gallery;
use crate::vision::embed::EmbedderKind;
use crate::vision::face::similarity;

/// Strangers accepted, at most, at the calibrated threshold.
const TARGET: f64 = 0.003;
/// Strangers accepted, at most, by a face checked against one delegate (a badge).
const TARGET_ONE_TO_ONE: f64 = 1e-4;
/// The calibrated threshold stays at most this far below the embedder's shipped one.
const FLOOR_BELOW_SHIPPED: f32 = 0.05;

/// People compared pairwise at the most; larger galleries are sampled.
const SAMPLE: usize = 1500;
/// The share of pairs whose scores make the fitted tail.
const TAIL: f64 = 0.01;
/// Fewer pairs than this tell nothing about a tail.
const MIN_PAIRS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Calibration {
    pub threshold: f32,
    /// The expected share of strangers accepted at `threshold`, at this gallery's size.
    pub expected_fpir: f64,
    pub people: usize,
    pub pairs: usize,
    /// A face against one delegate: at most 1 in 10,000 strangers accepted
    /// (None: calibrated before badges existed).
    pub one_to_one: Option<f32>,
}

/// The threshold for a gallery `kind` made: at most 0.3% of strangers
/// accepted, never more than 0.05 below `kind`'s shipped threshold.
pub fn calibrate_for(gallery: &Gallery, kind: EmbedderKind) -> Option<Calibration> {
    calibrate(gallery, TARGET, kind.default_threshold() - FLOOR_BELOW_SHIPPED)
}

/// The calibrated threshold, never below `floor`; None when the gallery is
/// too small to say anything.
pub fn calibrate(gallery: &Gallery, target: f64, floor: f32) -> Option<Calibration> {
    let people = gallery.people();
    let mut chosen: Vec<usize> = (0..people).collect();
    chosen.shuffle(&mut rand::rngs::StdRng::seed_from_u64(7));
    chosen.truncate(SAMPLE);
    // One template a person: enrolment photos of one person are alike, and this is about different people.
    let faces: Vec<&[f32]> = chosen.iter().filter_map(|&p| gallery.first_template(p)).collect();
    let mut scores = Vec::with_capacity(faces.len() * faces.len() / 2);
    for (i, a) in faces.iter().enumerate() {
        scores.extend(faces[i + 1..].iter().map(|b| similarity(a, b) as f64));
    }
    if scores.len() < MIN_PAIRS {
        return None;
    }
    scores.sort_by(|a, b| b.total_cmp(a));
    let tail = ((scores.len() as f64 * TAIL).ceil() as usize).max(20).min(scores.len() - 1);
    let u = scores[tail];
    let beta = (scores[..tail].iter().map(|s| s - u).sum::<f64>() / tail as f64).max(1e-4);
    let p_u = tail as f64 / scores.len() as f64;
    // A stranger compared with `people` delegates: per-pair rate r gives 1 - (1 - r)^people.
    let per_pair = 1.0 - (1.0 - target).powf(1.0 / people.max(1) as f64);
    let fitted = |rate: f64| (u + beta * (p_u / rate).ln().max(0.0)) as f32;
    let threshold = fitted(per_pair).max(floor).min(0.99);
    // One comparison, not `people`: the badge names whom to compare with.
    let one_to_one = fitted(TARGET_ONE_TO_ONE).min(threshold);
    let rate_at = |t: f64| (p_u * (-(t - u) / beta).exp()).min(1.0);
    let expected_fpir = 1.0 - (1.0 - rate_at(threshold as f64)).powi(people as i32);
    Some(Calibration { threshold, expected_fpir, people, pairs: scores.len(), one_to_one: Some(one_to_one) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vision::face::l2_normalize;
    use rand::Rng;

    fn gallery(people: usize, spread: f32, seed: u64) -> Gallery {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut g = Gallery::new(32);
        for p in 0..people {
            // Everyone shares a common direction: `spread` small = a population of lookalikes.
            let mut v: Vec<f32> = (0..32)
                .map(|i| if i == 0 { 1.0 } else { rng.random::<f32>() - 0.5 } * if i == 0 { 1.0 } else { spread })
                .collect();
            l2_normalize(&mut v);
            g.add(p, &v);
        }
        g
    }

    #[test]
    fn a_more_alike_population_and_a_larger_gallery_need_a_higher_threshold() {
        let varied = calibrate(&gallery(300, 1.0, 1), 0.003, 0.0).unwrap();
        let alike = calibrate(&gallery(300, 0.5, 1), 0.003, 0.0).unwrap();
        assert!(alike.threshold > varied.threshold + 0.05, "{alike:?} vs {varied:?}");
        let larger = calibrate(&gallery(1200, 1.0, 2), 0.003, 0.0).unwrap();
        assert!(larger.threshold > varied.threshold, "{larger:?} vs {varied:?}");
        assert!((varied.expected_fpir - 0.003).abs() < 0.001, "{varied:?}");
        assert!(calibrate(&gallery(10, 1.0, 3), 0.003, 0.0).is_none(), "45 pairs say nothing");
        assert_eq!(calibrate(&gallery(300, 1.0, 1), 0.003, 0.9).unwrap().threshold, 0.9, "the floor holds");
        let one = varied.one_to_one.unwrap();
        assert!(one < varied.threshold, "one comparison needs less than {}: {one}", varied.threshold);
    }
}
