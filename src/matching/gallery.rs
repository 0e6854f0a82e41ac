//! 1:N search: which enrolled people look most like this face. Several
//! templates per person are allowed; a person scores by their best template.

use half::f16;
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;

use crate::vision::face::similarity;

/// Large galleries are searched in two passes: the signs of every template,
/// packed into bits and compared by Hamming distance (the angle between two
/// vectors shows in how many signs differ), then the closest few thousand
/// scored exactly.
///
/// Templates are kept as f16: half the memory of f32 (256 MB instead of 512
/// for a million), and a score off by less than 1e-3, far below any margin
/// the decisions use.
pub struct Gallery {
    dim: usize,
    /// Template -> person index.
    owner: Vec<u32>,
    /// Person -> their first and last template; template -> the next of the
    /// same person. A list threaded through flat arrays, because a `Vec` per
    /// person costs some 40 bytes each, 40 MB for a million people.
    first: Vec<u32>,
    last: Vec<u32>,
    next: Vec<u32>,
    exact: Vec<f16>,
    signs: Vec<u64>,
}
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Index of the person in the order they were added.
    pub person: usize,
    pub score: f32,
}

/// Below this many templates a plain exact scan is as fast as the two-pass search.
const EXACT_SCAN_LIMIT: usize = 20_000;
/// How many templates the sign pass hands to the exact pass, at least.
const RERANK: usize = 4096;
/// No template: the end of a person's list.
const NONE: u32 = u32::MAX;

impl Gallery {
    pub fn new(dim: usize) -> Self {
        Self {
            dim,
            owner: Vec::new(),
            first: Vec::new(),
            last: Vec::new(),
            next: Vec::new(),
            exact: Vec::new(),
            signs: Vec::new(),
        }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn len(&self) -> usize {
        self.owner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.owner.is_empty()
    }

    pub fn people(&self) -> usize {
        self.first.len()
    }

    /// Template `t` in f32, as every score is computed.
    fn template(&self, t: usize) -> Vec<f32> {
        let mut out = vec![0.0; self.dim];
        self.exact[t * self.dim..(t + 1) * self.dim].convert_to_f32_slice(&mut out);
        out
    }

    /// `query` against template `t`, without allocating.
    fn score(&self, query: &[f32], t: usize, buf: &mut [f32]) -> f32 {
        self.exact[t * self.dim..(t + 1) * self.dim].convert_to_f32_slice(buf);
        similarity(query, buf)
    }

    /// The templates of `person`, in the order added.
    fn templates_of(&self, person: usize) -> impl Iterator<Item = usize> + '_ {
        let start = self.first.get(person).copied().unwrap_or(NONE);
        std::iter::successors(Some(start).filter(|&t| t != NONE), |&t| {
            Some(self.next[t as usize]).filter(|&n| n != NONE)
        })
        .map(|t| t as usize)
    }

    /// Adds one template of `person`; templates must be L2-normalised.
    pub fn add(&mut self, person: usize, template: &[f32]) {
        assert_eq!(template.len(), self.dim, "template of the wrong size");
        if self.first.len() <= person {
            self.first.resize(person + 1, NONE);
            self.last.resize(person + 1, NONE);
        }
        let t = self.owner.len() as u32;
        match self.last[person] {
            NONE => self.first[person] = t,
            before => self.next[before as usize] = t,
        }
        self.last[person] = t;
        self.next.push(NONE);
        self.owner.push(person as u32);
        self.exact.extend(template.iter().map(|&x| f16::from_f32(x)));
        self.signs.extend(sign_bits(template));
    }

    /// The first template added for `person`.
    pub fn first_template(&self, person: usize) -> Option<Vec<f32>> {
        self.templates_of(person).next().map(|t| self.template(t))
    }

    /// How alike `query` is to `person`: their best template's score.
    pub fn person_score(&self, query: &[f32], person: usize) -> Option<f32> {
        let mut buf = vec![0.0; self.dim];
        self.templates_of(person).map(|t| self.score(query, t, &mut buf)).max_by(f32::total_cmp)
    }

    /// The `k` most similar people, best first, each with their best template's score.
    pub fn search(&self, query: &[f32], k: usize) -> Vec<Hit> {
        if self.is_empty() || k == 0 {
            return Vec::new();
        }
        let candidates: Vec<usize> = if self.len() <= EXACT_SCAN_LIMIT {
            (0..self.len()).collect()
        } else {
            self.coarse_candidates(query, RERANK.max(k * 8))
        };
        let mut buf = vec![0.0; self.dim];
        let mut scored: Vec<(f32, usize)> =
            candidates.into_iter().map(|t| (self.score(query, t, &mut buf), self.owner[t] as usize)).collect();
        scored.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
        // In score order, a person's first template is their best one.
        let mut hits: Vec<Hit> = Vec::with_capacity(k);
        for (score, person) in scored {
            if hits.len() == k {
                break;
            }
            if !hits.iter().any(|h| h.person == person) {
                hits.push(Hit { person, score });
            }
        }
        hits
    }

    /// Pairs of different people whose templates are at least `threshold`
    /// alike, each pair once (lower person index first) with its best score,
    /// most alike first: people the kiosk could confuse.
    pub fn lookalikes(&self, threshold: f32) -> Vec<(usize, usize, f32)> {
        let found: Vec<(usize, usize, f32)> = (0..self.len())
            .into_par_iter()
            .flat_map_iter(|t| {
                let me = self.owner[t] as usize;
                self.search(&self.template(t), 4)
                    .into_iter()
                    .filter(move |hit| hit.person != me && hit.score >= threshold)
                    .map(move |hit| (me.min(hit.person), me.max(hit.person), hit.score))
            })
            .collect();
        let mut pairs: std::collections::HashMap<(usize, usize), f32> = std::collections::HashMap::new();
        for (a, b, score) in found {
            let best = pairs.entry((a, b)).or_insert(score);
            *best = best.max(score);
        }
        let mut out: Vec<(usize, usize, f32)> = pairs.into_iter().map(|((a, b), s)| (a, b, s)).collect();
        out.sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
        out
    }

    /// Template indices of the `n` smallest Hamming distances, on all cores.
    fn coarse_candidates(&self, query: &[f32], n: usize) -> Vec<usize> {
        let q = sign_bits(query);
        let words = q.len();
        let chunk = 65_536;
        let mut top: Vec<(u32, usize)> = self
            .signs
            .par_chunks(chunk * words)
            .enumerate()
            .flat_map_iter(|(c, block)| {
                let mut local: Vec<(u32, usize)> = block
                    .chunks_exact(words)
                    .enumerate()
                    .map(|(i, t)| (t.iter().zip(&q).map(|(a, b)| (a ^ b).count_ones()).sum(), c * chunk + i))
                    .collect();
                keep_smallest(&mut local, n);
                local
            })
            .collect();
        keep_smallest(&mut top, n);
        top.into_iter().map(|(_, i)| i).collect()
    }
}

fn keep_smallest(items: &mut Vec<(u32, usize)>, n: usize) {
    if items.len() > n {
        items.select_nth_unstable(n);
        items.truncate(n);
    }
}

fn sign_bits(v: &[f32]) -> Vec<u64> {
    v.chunks(64).map(|c| c.iter().enumerate().fold(0u64, |w, (i, &x)| w | (((x > 0.0) as u64) << i))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vision::face::l2_normalize;
    use rand::{Rng, SeedableRng};

    fn random_unit(rng: &mut impl Rng, dim: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dim).map(|_| rng.random::<f32>() - 0.5).collect();
        l2_normalize(&mut v);
        v
    }

    #[test]
    fn two_pass_search_finds_the_same_best_person_as_an_exact_scan() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let dim = 64;
        let mut gallery = Gallery::new(dim);
        let templates: Vec<Vec<f32>> = (0..EXACT_SCAN_LIMIT + 5000).map(|_| random_unit(&mut rng, dim)).collect();
        for (i, t) in templates.iter().enumerate() {
            gallery.add(i / 2, t);
        }
        for probe in 0..20 {
            // A noisy copy of a known template: its owner must come first.
            let target = probe * 1117 % templates.len();
            let mut q: Vec<f32> = templates[target].iter().map(|v| v + (rng.random::<f32>() - 0.5) * 0.05).collect();
            l2_normalize(&mut q);
            let hits = gallery.search(&q, 3);
            assert_eq!(hits[0].person, target / 2);
            let exact = similarity(&q, &templates[target]);
            assert!(hits[0].score >= exact - 1e-3, "f16 keeps the score: {} against {exact}", hits[0].score);
            assert!(hits.windows(2).all(|w| w[0].score >= w[1].score && w[0].person != w[1].person));
        }
    }

    #[test]
    fn lookalikes_are_pairs_of_different_people_above_the_threshold() {
        let mut gallery = Gallery::new(2);
        gallery.add(0, &[1.0, 0.0]);
        gallery.add(0, &[0.0, 1.0]);
        gallery.add(1, &[0.8, 0.6]);
        gallery.add(2, &[-1.0, 0.0]);
        let pairs = gallery.lookalikes(0.7);
        assert_eq!(pairs.len(), 1);
        assert_eq!((pairs[0].0, pairs[0].1), (0, 1));
        assert!((pairs[0].2 - 0.8).abs() < 1e-3);
    }

    #[test]
    fn a_person_scores_by_their_best_template() {
        let mut gallery = Gallery::new(2);
        gallery.add(0, &[1.0, 0.0]);
        gallery.add(0, &[0.0, 1.0]);
        gallery.add(1, &[0.6, 0.8]);
        let hits = gallery.search(&[0.0, 1.0], 5);
        assert_eq!(hits.len(), 2);
        assert_eq!(gallery.people(), 2);
        assert_eq!(gallery.person_score(&[0.0, 1.0], 0), Some(1.0));
        assert_eq!(gallery.first_template(0), Some(vec![1.0, 0.0]));
        assert_eq!(gallery.person_score(&[0.0, 1.0], 5), None);
        assert_eq!(hits[0], Hit { person: 0, score: 1.0 });
        assert!((hits[1].score - 0.8).abs() < 1e-3);
    }
}
