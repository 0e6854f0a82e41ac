//! A threshold for this event's gallery. Enrolled delegates are strangers to
//! one another: how alike each delegate's closest other delegate looks to
//! the model is what a stranger at the kiosk meets. Those best scores are
//! maxima, and maxima follow a Gumbel law: fitted to them, it puts the
//! threshold where a stranger, compared with everyone enrolled, is accepted
//! at most `target` of the time. (An exponential fitted to the top pair
//! scores, before, missed both ways on strangers it never saw: 0.86%
//! accepted on faces/dev where it aimed at 0.3%, 0.14% on eastasia_dev.)

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
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
/// Strangers at the kiosk reach a gallery's people more often than the
/// people reach one another: on faces/dev, held-out strangers were accepted
/// 1.4–1.7 times as often as the fit to the gallery promised. The fit aims
/// this many times lower.
const STRANGER_FACTOR: f64 = 2.0;
/// The fit is redone on resampled people and the threshold taken at this
/// quantile of the results: a small gallery's fit is uncertain, and the
/// uncertainty must not fall on the strangers' side. Both chosen on
/// faces/dev (half galleries of 75: 0.26% accepted at a 0.3% aim);
/// eastasia_dev and asian_dev were not used to choose them.
const BOOTSTRAP_QUANTILE: f64 = 0.8;
const BOOTSTRAP_ROUNDS: usize = 200;
/// Euler–Mascheroni: the mean of a standard Gumbel.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

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
    let faces: Vec<Vec<f32>> = chosen.iter().filter_map(|&p| gallery.first_template(p)).collect();
    let n = faces.len();
    if n < MIN_PEOPLE {
        return None;
    }
    let mut scores = Vec::with_capacity(n * (n - 1) / 2);
    let mut closest = vec![f64::MIN; n];
    for i in 0..n {
        for j in i + 1..n {
            let s = similarity(&faces[i], &faces[j]) as f64;
            scores.push(s);
            closest[i] = closest[i].max(s);
            closest[j] = closest[j].max(s);
        }
    }
    // Each best score is a maximum over n - 1 people; the kiosk's over all of them.
    let gumbel = Gumbel::fit(&closest).over(people as f64 / (n - 1) as f64);
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut resampled: Vec<f64> = (0..BOOTSTRAP_ROUNDS)
        .map(|_| {
            let again: Vec<f64> = (0..n).map(|_| closest[rng.random_range(0..n)]).collect();
            Gumbel::fit(&again).over(people as f64 / (n - 1) as f64).exceeded_by(target / STRANGER_FACTOR)
        })
        .collect();
    resampled.sort_by(f64::total_cmp);
    let bound = resampled[((BOOTSTRAP_ROUNDS as f64 * BOOTSTRAP_QUANTILE) as usize).min(BOOTSTRAP_ROUNDS - 1)];
    let threshold = (bound as f32).max(floor).min(0.99);
    // One comparison, not `people`: the badge names whom to compare with.
    let one_to_one = pair_tail_threshold(&mut scores, TARGET_ONE_TO_ONE).min(threshold);
    Some(Calibration {
        threshold,
        expected_fpir: (STRANGER_FACTOR * gumbel.share_above(threshold as f64)).min(1.0),
        people,
        pairs: scores.len(),
        one_to_one: Some(one_to_one),
    })
}

/// The law of a maximum: P(max < x) = exp(-exp(-(x - mu) / beta)).
#[derive(Debug, Clone, Copy)]
struct Gumbel {
    mu: f64,
    beta: f64,
}

impl Gumbel {
    /// By the moments: the spread sets beta, the mean then sets mu.
    fn fit(maxima: &[f64]) -> Gumbel {
        let n = maxima.len() as f64;
        let mean = maxima.iter().sum::<f64>() / n;
        let sd = (maxima.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let beta = (sd * 6f64.sqrt() / std::f64::consts::PI).max(1e-4);
        Gumbel { mu: mean - EULER_GAMMA * beta, beta }
    }

    /// The maximum over `k` times as many: a Gumbel stays one, shifted.
    fn over(self, k: f64) -> Gumbel {
        Gumbel { mu: self.mu + self.beta * k.ln(), ..self }
    }

    fn share_above(self, x: f64) -> f64 {
        1.0 - (-(-(x - self.mu) / self.beta).exp()).exp()
    }

    /// The value exceeded with probability `p`.
    fn exceeded_by(self, p: f64) -> f64 {
        self.mu - self.beta * (-(1.0 - p).ln()).ln()
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
        assert!(varied.expected_fpir <= 0.003 && varied.expected_fpir > 0.001, "{varied:?}");
        assert!(calibrate(&gallery(10, 1.0, 3), 0.003, 0.0).is_none(), "45 pairs say nothing");
        assert_eq!(calibrate(&gallery(300, 1.0, 1), 0.003, 0.9).unwrap().threshold, 0.9, "the floor holds");
        let one = varied.one_to_one.unwrap();
        assert!(one < varied.threshold, "one comparison needs less than {}: {one}", varied.threshold);
    }
}
