//! A threshold for this event's gallery. Enrolled delegates are strangers to
//! one another: how a delegate scores against the other delegates is how
//! they score against a stranger at the kiosk. Each delegate's scores are
//! fitted with a normal law, and the threshold is put where a stranger is
//! accepted by the kiosk's own rule (best score at the threshold, ahead of the
//! second by the margin) at most `target` of the time. Fitted to each
//! delegate's closest other one instead, a Gumbel law swung with the few
//! lookalike pairs of a small gallery; made safe with a bootstrap bound, it
//! refused a quarter of eastasia_dev's delegates to get there.

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
/// The share of pairs whose scores make the fitted tail (of the 1:1 check).
const TAIL: f64 = 0.01;
/// Fewer people than this tell nothing about their closest strangers.
pub const MIN_PEOPLE: usize = 21;
/// The thresholds tried, from the top down, a thousandth apart: as fine as thresholds are shown.
const STEP: f64 = 1e-3;

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

/// The threshold for a gallery `kind` made, with the `margin` the kiosk
/// decides with: at most 0.3% of strangers accepted, never more than 0.05
/// below `kind`'s shipped threshold.
pub fn calibrate_for(gallery: &Gallery, kind: EmbedderKind, margin: f32) -> Option<Calibration> {
    calibrate(gallery, TARGET, kind.default_threshold() - FLOOR_BELOW_SHIPPED, margin)
}

/// The calibrated threshold, never below `floor`; None when the gallery is
/// too small to say anything.
pub fn calibrate(gallery: &Gallery, target: f64, floor: f32, margin: f32) -> Option<Calibration> {
    let people = gallery.people();
    let mut chosen: Vec<usize> = (0..people).collect();
    chosen.shuffle(&mut rand::rngs::StdRng::seed_from_u64(7));
    chosen.truncate(SAMPLE);
    // One template a person: enrolment photos of one person are alike, and this is about different people.
    let faces: Vec<Vec<f32>> = chosen.iter().filter_map(|&p| gallery.first_template(p)).collect();
    let n = faces.len();
    if n < MIN_PEOPLE {
        return None;
    }
    let mut scores = Vec::with_capacity(n * (n - 1) / 2);
    // Each person's sum and sum of squares of their scores against the others.
    let mut sums = vec![(0.0, 0.0); n];
    for i in 0..n {
        for j in i + 1..n {
            let s = similarity(&faces[i], &faces[j]) as f64;
            scores.push(s);
            for k in [i, j] {
                sums[k].0 += s;
                sums[k].1 += s * s;
            }
        }
    }
    let laws: Vec<Normal> = sums.iter().map(|&(sum, squares)| Normal::fit(n - 1, sum, squares)).collect();
    // The sample stands for everyone enrolled: each of its people counts people / n times.
    let strangers = Strangers { laws, weight: people as f64 / n as f64, margin: margin as f64 };
    let (found, expected_fpir) = strangers.threshold(target, floor as f64);
    let threshold = (found as f32).min(0.99);
    // One comparison, not `people`: the badge names whom to compare with.
    let one_to_one = pair_tail_threshold(&mut scores, TARGET_ONE_TO_ONE).min(threshold);
    Some(Calibration { threshold, expected_fpir, people, pairs: scores.len(), one_to_one: Some(one_to_one) })
}

#[derive(Debug, Clone, Copy)]
struct Normal {
    mean: f64,
    sd: f64,
}

impl Normal {
    /// From `n` values' sum and sum of squares.
    fn fit(n: usize, sum: f64, squares: f64) -> Normal {
        let n = n as f64;
        let mean = sum / n;
        let variance = (squares - n * mean * mean) / (n - 1.0);
        Normal { mean, sd: variance.max(0.0).sqrt().max(1e-3) }
    }

    fn z(self, x: f64) -> f64 {
        ((x - self.mean) / self.sd).clamp(-35.0, 35.0)
    }

    fn ln_cdf(self, x: f64) -> f64 {
        (0.5 * libm::erfc(-self.z(x) / std::f64::consts::SQRT_2)).ln()
    }

    fn ln_pdf(self, x: f64) -> f64 {
        -0.5 * self.z(x).powi(2) - (self.sd * (2.0 * std::f64::consts::PI).sqrt()).ln()
    }
}

/// A stranger before the gallery: scored against each person by that
/// person's law, the people taken as independent.
struct Strangers {
    laws: Vec<Normal>,
    weight: f64,
    margin: f64,
}

impl Strangers {
    /// The density of a stranger's best score being `x` with everyone else
    /// below `x - margin`: sum over j of f_j(x) times the product over k != j of F_k(x - margin).
    fn accepted_density(&self, x: f64) -> f64 {
        let below: Vec<f64> = self.laws.iter().map(|l| l.ln_cdf(x - self.margin)).collect();
        let all_below = below.iter().sum::<f64>() * self.weight;
        let best: f64 = self.laws.iter().zip(&below).map(|(l, b)| (l.ln_pdf(x) - b + all_below).exp()).sum();
        best * self.weight
    }

    /// The lowest threshold (on a grid of `STEP`, and not below `floor`)
    /// that accepts at most `target` of strangers, with the share it accepts.
    fn threshold(&self, target: f64, floor: f64) -> (f64, f64) {
        let floor = floor.max(-1.0);
        let (mut x, mut share) = (1.0, 0.0);
        let mut density = self.accepted_density(x);
        while x > floor {
            let next = (x - STEP).max(floor);
            let lower = self.accepted_density(next);
            let more = share + (density + lower) / 2.0 * (x - next);
            if more > target {
                break;
            }
            (x, share, density) = (next, more, lower);
        }
        (x, share)
    }
}

/// Where one pair of strangers scores higher with probability `rate`: an
/// exponential fitted to the top `TAIL` of the pair scores (sorted here, best first).
fn pair_tail_threshold(scores: &mut [f64], rate: f64) -> f32 {
    scores.sort_by(|a, b| b.total_cmp(a));
    let tail = ((scores.len() as f64 * TAIL).ceil() as usize).max(20).min(scores.len() - 1);
    let u = scores[tail];
    let beta = (scores[..tail].iter().map(|s| s - u).sum::<f64>() / tail as f64).max(1e-4);
    let p_u = tail as f64 / scores.len() as f64;
    (u + beta * (p_u / rate).ln().max(0.0)) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vision::face::l2_normalize;
    use rand::Rng;

    /// A face of a population: everyone shares a common direction, and
    /// `spread` small = a population of lookalikes.
    fn face(rng: &mut rand::rngs::StdRng, spread: f32) -> Vec<f32> {
        let mut v: Vec<f32> =
            (0..32).map(|i| if i == 0 { 1.0 } else { (rng.random::<f32>() - 0.5) * spread }).collect();
        l2_normalize(&mut v);
        v
    }

    fn gallery(people: usize, spread: f32, seed: u64) -> Gallery {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut g = Gallery::new(32);
        for p in 0..people {
            g.add(p, &face(&mut rng, spread));
        }
        g
    }

    #[test]
    fn a_more_alike_population_and_a_larger_gallery_need_a_higher_threshold() {
        let varied = calibrate(&gallery(300, 1.0, 1), 0.003, 0.0, 0.06).unwrap();
        let alike = calibrate(&gallery(300, 0.5, 1), 0.003, 0.0, 0.06).unwrap();
        assert!(alike.threshold > varied.threshold + 0.05, "{alike:?} vs {varied:?}");
        let larger = calibrate(&gallery(1200, 1.0, 2), 0.003, 0.0, 0.06).unwrap();
        assert!(larger.threshold > varied.threshold, "{larger:?} vs {varied:?}");
        assert!(varied.expected_fpir <= 0.003 && varied.expected_fpir > 0.001, "{varied:?}");
        assert!(calibrate(&gallery(10, 1.0, 3), 0.003, 0.0, 0.06).is_none(), "45 pairs say nothing");
        assert_eq!(calibrate(&gallery(300, 1.0, 1), 0.003, 0.9, 0.06).unwrap().threshold, 0.9, "the floor holds");
        let one = varied.one_to_one.unwrap();
        assert!(one < varied.threshold, "one comparison needs less than {}: {one}", varied.threshold);
    }
}
