//! Accuracy on a labelled photo folder in the `../shared/faces` layout:
//! `gallery/<id>.jpg`, `probes/<id>/*`, `impostors/<id>/*`, `pairs.csv`.
//! Every photo goes through the same pipeline and decision as a check-in.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::base::stats::percentile;
use crate::error::{Error, Result};
use crate::matching::calibrate::{Calibration, calibrate, calibrate_for};
use crate::matching::decide::{DecideConfig, Decision, Policy, decide};
use crate::matching::gallery::Gallery;
use crate::matching::recognize::Recognizer;
use crate::vision::decode::{is_image_path, load_image};
use crate::vision::detect::Source;
use crate::vision::engine::Engine;
use crate::vision::engine::EngineConfig;
use crate::vision::face::{Face, similarity};
use crate::vision::quality::QualityConfig;

/// `$KIOSK_FACES`, or `../shared/faces` beside the project.
pub fn default_faces_dir() -> PathBuf {
    std::env::var_os("KIOSK_FACES").map(PathBuf::from).unwrap_or_else(|| crate::home::path("../shared/faces"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Gallery,
    Probe,
    Impostor,
    Other,
}

struct Photo {
    rel: String,
    identity: String,
    role: Role,
    face: Option<Face>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub dir: PathBuf,
    pub model: String,
    pub photos: usize,
    pub no_face: usize,
    pub verification: Vec<Verification>,
    pub tar_at_far: Option<(f64, f64, usize, usize)>,
    pub rank1: f64,
    pub probes: usize,
    pub impostors: usize,
    pub fnir_at_fpir: f64,
    /// The similarity that gives FPIR 1% on this set.
    pub threshold_at_fpir: f32,
    /// The kiosk's decision rule at the shipped (or configured) threshold.
    pub shipped: Rule,
    /// The same at the threshold calibrated on this set's gallery.
    pub calibrated: Option<(Calibration, Rule)>,
    /// A face against the one person a badge names (`--one-to-one`), at the
    /// shipped 1:1 threshold and at the one calibrated on this set's gallery.
    pub one_to_one: Vec<OneToOne>,
    /// The calibration judged on strangers it never saw, at several targets.
    pub held_out: Vec<HeldOut>,
}

/// The gallery's people cut in two halves, `HALVINGS` times at random; each
/// half is calibrated alone and met by strangers: the other half's probes
/// and every impostor photo. What the calibration promised against what the
/// kiosk's rule then accepted. One cut says little: a half of faces/dev
/// meets about 580 strangers, of whom the 0.3% aim expects fewer than two.
#[derive(Debug, Clone, Default)]
pub struct HeldOut {
    pub target: f64,
    /// The calibration's own expectation, averaged over the halves.
    pub expected: f64,
    /// Strangers accepted and met, summed over the halves.
    pub accepted: usize,
    pub strangers: usize,
    pub galleries: usize,
    /// Halves whose strangers were accepted more often than the target.
    pub above: usize,
    /// The lowest and highest threshold of the halves.
    pub thresholds: [f32; 2],
    /// The middle 95% of the share accepted when the strangers are drawn
    /// again, person by person with replacement (the halves kept). A few
    /// hundred strangers, met again in every half, pin a share of 0.3%
    /// only loosely, and this says how loosely.
    pub interval: [f64; 2],
}

const HALVINGS: usize = 20;

/// The targets the calibration is checked at: the kiosk's own (0.3%) and
/// two larger ones, where these sets have enough strangers to count on.
const HELD_OUT_TARGETS: [f64; 3] = [0.003, 0.01, 0.03];

/// A face checked against one named person, at one threshold.
#[derive(Debug, Clone)]
pub struct OneToOne {
    pub what: &'static str,
    pub threshold: f32,
    /// The set's pairs.csv: same-person pairs accepted, different-person pairs accepted (count, of).
    pub pairs_genuine: (usize, usize),
    pub pairs_impostor: (usize, usize),
    /// Badge holders: each probe against its own gallery photo.
    pub holders: (usize, usize),
    /// Stolen badges: every impostor photo and every probe against every
    /// other gallery person.
    pub stolen: (usize, usize),
}

/// What the kiosk's decision rule does with the probes and impostors of a set.
#[derive(Debug, Default, Clone, Copy)]
pub struct Rule {
    pub threshold: f32,
    pub impostor_accept: f64,
    pub delegate_refuse: f64,
    pub delegate_wrong: f64,
    /// Probes refused for poor quality.
    pub gated: usize,
}

#[derive(Debug)]
pub struct Verification {
    pub file: String,
    pub pairs: usize,
    pub accuracy: f64,
    pub std: f64,
}

/// Every photo of `dir` through the engine of `engine_cfg`, then the
/// decision of `decide` and `quality`, as at the kiosk.
pub fn evaluate(
    engine_cfg: &EngineConfig,
    quality: &QualityConfig,
    decide: &DecideConfig,
    dir: &Path,
    scores_csv: Option<&Path>,
    one_to_one: bool,
) -> Result<Report> {
    let mut photos = list_photos(dir)?;
    let engine = Engine::load(&engine_cfg.for_batch())?;
    let bar = ProgressBar::new(photos.len() as u64).with_style(
        ProgressStyle::with_template("evaluating [{bar:40}] {pos}/{len} ({per_sec})").expect("valid template"),
    );
    let faces: Vec<Option<Face>> = photos
        .par_iter()
        .map(|p| {
            let face = load_image(&dir.join(&p.rel))
                .and_then(|img| engine.analyze_main(&img, Source::Photo))
                .map(|s| s.faces.into_iter().next());
            bar.inc(1);
            face
        })
        .collect::<Result<_>>()?;
    bar.finish_and_clear();
    for (p, f) in photos.iter_mut().zip(faces) {
        p.face = f;
    }
    let embedding = |p: &Photo| p.face.as_ref().and_then(|f| f.embedding.clone());
    let by_path: HashMap<&str, usize> = photos.iter().enumerate().map(|(i, p)| (p.rel.as_str(), i)).collect();

    let mut report = Report {
        dir: dir.to_path_buf(),
        model: engine.embedder().model_id().into(),
        photos: photos.len(),
        no_face: photos.iter().filter(|p| p.face.is_none()).count(),
        ..Report::default()
    };
    let mut score_rows = Vec::new();
    let mut pair_scores: Vec<(f32, bool)> = Vec::new();
    for file in ["pairs.csv", "pairs_masked.csv"] {
        let path = dir.join(file);
        if !path.is_file() {
            continue;
        }
        let pairs = read_pairs(&path)?;
        let mut scored = Vec::with_capacity(pairs.len());
        for (a, b, same) in &pairs {
            let ea = by_path.get(a.as_str()).and_then(|&i| embedding(&photos[i]));
            let eb = by_path.get(b.as_str()).and_then(|&i| embedding(&photos[i]));
            // A photo without a face counts as a failed comparison.
            let score = match (ea, eb) {
                (Some(x), Some(y)) => similarity(&x, &y),
                _ => -1.0,
            };
            scored.push((score, *same));
            score_rows.push(format!("{file},{a},{b},{},{score:.6}", *same as u8));
        }
        pair_scores.extend(scored.iter().copied());
        let (accuracy, std) = ten_fold_accuracy(&scored);
        report.verification.push(Verification { file: file.into(), pairs: scored.len(), accuracy, std });
    }

    // Verification over all pairs of photos: enough impostor pairs for FAR 1e-3.
    let labelled: Vec<(&str, Vec<f32>)> = photos
        .iter()
        .filter(|p| p.role != Role::Other)
        .filter_map(|p| embedding(p).map(|e| (p.identity.as_str(), e)))
        .collect();
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for i in 0..labelled.len() {
        for j in i + 1..labelled.len() {
            let s = similarity(&labelled[i].1, &labelled[j].1);
            if labelled[i].0 == labelled[j].0 { genuine.push(s) } else { impostor.push(s) }
        }
    }
    if !genuine.is_empty() && impostor.len() >= 1000 {
        let t = threshold_at_rate(&mut impostor, 1e-3);
        let tar = genuine.iter().filter(|&&s| s > t).count() as f64 / genuine.len() as f64;
        report.tar_at_far = Some((tar, 1e-3, genuine.len(), impostor.len()));
    }

    // Identification against the gallery, with the kiosk's own decision.
    let mut gallery = Gallery::new(engine.embedder().dim());
    let mut people: Vec<&str> = Vec::new();
    for p in photos.iter().filter(|p| p.role == Role::Gallery) {
        if let Some(e) = embedding(p) {
            gallery.add(people.len(), &e);
            people.push(&p.identity);
        }
    }
    if gallery.is_empty() {
        return Err(Error::Input(format!("{}: no usable gallery photo", dir.display())));
    }
    let kind = engine.embedder();
    let calibration = calibrate_for(&gallery, kind, decide.margin(kind));
    let mut recognizer = Recognizer::new(engine, gallery, decide.policy(kind, None), quality.clone(), &[]);
    let top = |p: &Photo| -> (Option<&str>, f32) {
        match embedding(p) {
            Some(e) => {
                recognizer.gallery().search(&e, 1).first().map_or((None, -1.0), |h| (Some(people[h.person]), h.score))
            }
            None => (None, -1.0),
        }
    };
    let probes: Vec<&Photo> = photos.iter().filter(|p| p.role == Role::Probe).collect();
    let impostors: Vec<&Photo> = photos.iter().filter(|p| p.role == Role::Impostor).collect();
    report.probes = probes.len();
    report.impostors = impostors.len();
    let probe_top: Vec<(bool, f32)> = probes
        .iter()
        .map(|p| {
            let (who, s) = top(p);
            (who == Some(p.identity.as_str()), s)
        })
        .collect();
    report.rank1 = rate(probe_top.iter().filter(|(ok, _)| *ok).count(), probes.len());
    let mut impostor_top: Vec<f32> = impostors.iter().map(|p| top(p).1).collect();
    if !impostor_top.is_empty() {
        let t = threshold_at_rate(&mut impostor_top, 0.01);
        report.fnir_at_fpir = rate(probe_top.iter().filter(|(ok, s)| !ok || *s <= t).count(), probes.len());
        report.threshold_at_fpir = t;
    }
    let rule = |recognizer: &Recognizer| {
        let decide = |p: &Photo| p.face.as_ref().map_or(Decision::NoFace, |f| recognizer.decide_face(f));
        let (mut refused, mut wrong, mut gated) = (0, 0, 0);
        for p in &probes {
            match decide(p) {
                Decision::Match { person, .. } if people[person] == p.identity => {}
                Decision::Match { .. } => wrong += 1,
                d => {
                    gated += matches!(d, Decision::PoorQuality { .. }) as usize;
                    refused += 1;
                }
            }
        }
        let accepted = impostors.iter().filter(|p| matches!(decide(p), Decision::Match { .. })).count();
        Rule {
            threshold: recognizer.policy.threshold,
            impostor_accept: rate(accepted, impostors.len()),
            delegate_refuse: rate(refused, probes.len()),
            delegate_wrong: rate(wrong, probes.len()),
            gated,
        }
    };
    report.shipped = rule(&recognizer);
    if one_to_one {
        // Scores of a face against one gallery person: (same person, score).
        let mut holders = Vec::new();
        for p in probes.iter().chain(&impostors) {
            let Some(e) = embedding(p) else { continue };
            for (person, id) in people.iter().enumerate() {
                if let Some(score) = recognizer.gallery().person_score(&e, person) {
                    holders.push((*id == p.identity, score));
                }
            }
        }
        let at = |what, threshold: f32| {
            let count = |scores: &[(bool, f32)], same: bool| {
                let of: Vec<f32> = scores.iter().filter(|(s, _)| *s == same).map(|(_, v)| *v).collect();
                (of.iter().filter(|&&v| v >= threshold).count(), of.len())
            };
            let pairs: Vec<(bool, f32)> = pair_scores.iter().map(|&(v, same)| (same, v)).collect();
            OneToOne {
                what,
                threshold,
                pairs_genuine: count(&pairs, true),
                pairs_impostor: count(&pairs, false),
                holders: count(&holders, true),
                stolen: count(&holders, false),
            }
        };
        report.one_to_one.push(at("shipped", kind.default_one_to_one()));
        if let Some(t) = calibration.and_then(|c| c.one_to_one) {
            report.one_to_one.push(at("calibrated", t));
        }
    }
    if let Some(c) = calibration {
        recognizer.policy.threshold = c.threshold;
        report.calibrated = Some((c, rule(&recognizer)));
    }
    let enrolled: Vec<(&str, Vec<f32>)> = photos
        .iter()
        .filter(|p| p.role == Role::Gallery)
        .filter_map(|p| Some((p.identity.as_str(), embedding(p)?)))
        .collect();
    let strangers: Vec<(&str, Vec<f32>)> =
        probes.iter().chain(&impostors).filter_map(|p| Some((p.identity.as_str(), embedding(p)?))).collect();
    report.held_out = held_out(&enrolled, &strangers, recognizer.policy);

    if let Some(out) = scores_csv {
        let text = format!("set,path_a,path_b,same,score\n{}\n", score_rows.join("\n"));
        std::fs::write(out, text).map_err(|e| Error::io(out, e))?;
    }
    Ok(report)
}

/// `HeldOut` at each of `HELD_OUT_TARGETS`: the calibration without its
/// floor, so that what is judged is the model of the strangers' scores
/// alone. Each half is built and searched once, for all the targets.
fn held_out(enrolled: &[(&str, Vec<f32>)], strangers: &[(&str, Vec<f32>)], policy: Policy) -> Vec<HeldOut> {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let Some(dim) = enrolled.first().map(|(_, e)| e.len()) else { return Vec::new() };
    let mut outs: Vec<HeldOut> = HELD_OUT_TARGETS
        .iter()
        .map(|&target| HeldOut { target, thresholds: [f32::MAX, f32::MIN], ..HeldOut::default() })
        .collect();
    // For each stranger: halves that met them, and that accepted them at each target.
    let mut met = vec![0usize; strangers.len()];
    let mut taken = vec![vec![0usize; strangers.len()]; outs.len()];
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut order: Vec<usize> = (0..enrolled.len()).collect();
    for _ in 0..HALVINGS {
        order.shuffle(&mut rng);
        for half in order.chunks(enrolled.len().div_ceil(2)) {
            let mut gallery = Gallery::new(dim);
            for (person, &i) in half.iter().enumerate() {
                gallery.add(person, &enrolled[i].1);
            }
            let ids: Vec<&str> = half.iter().map(|&i| enrolled[i].0).collect();
            let hits: Vec<_> = (0..strangers.len())
                .filter(|&s| !ids.contains(&strangers[s].0))
                .map(|s| (s, gallery.search(&strangers[s].1, 2)))
                .collect();
            for &(s, _) in &hits {
                met[s] += 1;
            }
            for (out, taken) in outs.iter_mut().zip(&mut taken) {
                // Too few people in a half: nothing to judge, at any target.
                let Some(c) = calibrate(&gallery, out.target, f32::MIN, policy.margin) else { return Vec::new() };
                let policy = Policy { threshold: c.threshold, ..policy };
                let mut here = 0;
                for (s, h) in &hits {
                    if matches!(decide(h, &policy), Decision::Match { .. }) {
                        taken[*s] += 1;
                        here += 1;
                    }
                }
                out.galleries += 1;
                out.above += (rate(here, hits.len()) > out.target) as usize;
                out.expected += c.expected_fpir;
                out.thresholds = [out.thresholds[0].min(c.threshold), out.thresholds[1].max(c.threshold)];
            }
        }
    }
    let people = people_of(strangers);
    for (out, taken) in outs.iter_mut().zip(&taken) {
        out.expected /= out.galleries as f64;
        (out.accepted, out.strangers) = (taken.iter().sum(), met.iter().sum());
        let per_person: Vec<[usize; 2]> =
            people.iter().map(|photos| photos.iter().fold([0, 0], |[a, m], &s| [a + taken[s], m + met[s]])).collect();
        out.interval = resampled_interval(&per_person, &mut rng);
    }
    outs
}

/// The strangers' photos, grouped by person: the unit a resample draws,
/// since one person's photos tend to be accepted or refused together.
fn people_of(strangers: &[(&str, Vec<f32>)]) -> Vec<Vec<usize>> {
    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
    for (s, (id, _)) in strangers.iter().enumerate() {
        by_id.entry(id).or_default().push(s);
    }
    let mut people: Vec<Vec<usize>> = by_id.into_values().collect();
    people.sort();
    people
}

/// The 2.5th and 97.5th percentiles of accepted / met over 2,000 draws of
/// the people, each `[accepted, met]`, with replacement.
fn resampled_interval(people: &[[usize; 2]], rng: &mut rand::rngs::StdRng) -> [f64; 2] {
    use rand::Rng;
    let shares: Vec<f64> = (0..2000)
        .map(|_| {
            let [a, m] = (0..people.len()).fold([0, 0], |[a, m], _| {
                let [pa, pm] = people[rng.random_range(0..people.len())];
                [a + pa, m + pm]
            });
            rate(a, m)
        })
        .collect();
    [percentile(&shares, 0.025), percentile(&shares, 0.975)]
}

fn rate(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

/// The score that only a fraction `rate` of `negatives` exceed.
fn threshold_at_rate(negatives: &mut [f32], rate: f64) -> f32 {
    negatives.sort_by(|a, b| b.total_cmp(a));
    let k = ((negatives.len() as f64 * rate).floor() as usize).min(negatives.len() - 1);
    negatives[k]
}

/// LFW protocol: for each of ten folds, the threshold that is best on the
/// other nine is scored on it; mean and standard deviation over the folds.
pub fn ten_fold_accuracy(scored: &[(f32, bool)]) -> (f64, f64) {
    let folds = 10;
    let accuracy = |items: &[(f32, bool)], t: f32| {
        items.iter().filter(|(s, same)| (*s > t) == *same).count() as f64 / items.len().max(1) as f64
    };
    let mut results = Vec::new();
    for k in 0..folds {
        let (test, train): (Vec<_>, Vec<_>) = scored.iter().enumerate().partition(|(i, _)| i % folds == k);
        let test: Vec<(f32, bool)> = test.into_iter().map(|(_, x)| *x).collect();
        let train: Vec<(f32, bool)> = train.into_iter().map(|(_, x)| *x).collect();
        if test.is_empty() {
            continue;
        }
        let mut candidates: Vec<f32> = train.iter().map(|x| x.0).collect();
        candidates.sort_by(f32::total_cmp);
        let best = candidates
            .windows(2)
            .map(|w| (w[0] + w[1]) / 2.0)
            .max_by(|a, b| accuracy(&train, *a).total_cmp(&accuracy(&train, *b)))
            .unwrap_or(0.0);
        results.push(accuracy(&test, best));
    }
    let mean = results.iter().sum::<f64>() / results.len().max(1) as f64;
    let var = results.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / results.len().max(1) as f64;
    (mean, var.sqrt())
}

fn read_pairs(path: &Path) -> Result<Vec<(String, String, bool)>> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| Error::Input(format!("{}: {e}", path.display())))?;
        let (Some(a), Some(b), Some(same)) = (row.get(0), row.get(1), row.get(2)) else {
            return Err(Error::Input(format!("{}:{}: expected path_a,path_b,same", path.display(), i + 2)));
        };
        out.push((a.to_string(), b.to_string(), same.trim() == "1"));
    }
    Ok(out)
}

/// Every image below `dir`, its identity and role read from its path.
fn list_photos(dir: &Path) -> Result<Vec<Photo>> {
    if !dir.join("gallery").is_dir() {
        return Err(Error::Input(format!(
            "{} is not a labelled face folder: it needs gallery/<id>.jpg, probes/<id>/*, impostors/<id>/* and pairs.csv (like ../shared/faces/dev)",
            dir.display()
        )));
    }
    let mut photos = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name().into_iter().filter_map(|e| e.ok()) {
        if !entry.file_type().is_file() || !is_image_path(entry.path()) {
            continue;
        }
        let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        let parts: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
        let (role, identity) = match parts.as_slice() {
            [g, file] if g == "gallery" => {
                (Role::Gallery, file.rsplit_once('.').map_or(file.clone(), |(s, _)| s.to_string()))
            }
            [p, id, _] if p == "probes" => (Role::Probe, id.clone()),
            [p, id, _] if p == "impostors" => (Role::Impostor, id.clone()),
            [_, id, _] => (Role::Other, id.clone()),
            _ => continue,
        };
        photos.push(Photo { rel: parts.join("/"), identity, role, face: None });
    }
    Ok(photos)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |x: f64| format!("{:.2}%", x * 100.0);
        writeln!(f, "accuracy of {} on {}", self.model, self.dir.display())?;
        writeln!(f, "  photos: {} ({} without a usable face)", self.photos, self.no_face)?;
        for v in &self.verification {
            writeln!(
                f,
                "  verification ({}, {} pairs, 10-fold): {} ± {}",
                v.file,
                v.pairs,
                pct(v.accuracy),
                pct(v.std)
            )?;
        }
        if let Some((tar, far, g, i)) = self.tar_at_far {
            writeln!(f, "  TAR at FAR {far:e} (all photo pairs: {g} genuine, {i} impostor): {}", pct(tar))?;
        }
        writeln!(f, "  rank-1 identification ({} probes): {}", self.probes, pct(self.rank1))?;
        writeln!(
            f,
            "  FNIR at FPIR 1% ({} impostor photos): {} (threshold {:.3})",
            self.impostors,
            pct(self.fnir_at_fpir),
            self.threshold_at_fpir
        )?;
        let rule = |f: &mut fmt::Formatter<'_>, what: &str, r: &Rule| {
            writeln!(f, "  at the {what} threshold {:.3} with the kiosk's decision rule:", r.threshold)?;
            writeln!(f, "    impostors accepted: {}", pct(r.impostor_accept))?;
            writeln!(
                f,
                "    enrolled people refused: {} ({} for poor quality); matched to someone else: {}",
                pct(r.delegate_refuse),
                r.gated,
                pct(r.delegate_wrong)
            )
        };
        rule(f, "shipped", &self.shipped)?;
        for o in &self.one_to_one {
            let share = |(n, of): (usize, usize)| format!("{n} of {of} ({})", pct(rate(n, of)));
            writeln!(f, "  1:1 (a badge and the face beside it) at the {} threshold {:.3}:", o.what, o.threshold)?;
            writeln!(
                f,
                "    pairs.csv: same person accepted {}; different people accepted {}",
                share(o.pairs_genuine),
                share(o.pairs_impostor)
            )?;
            writeln!(
                f,
                "    badge holders accepted {}; stolen badges (every other face against each gallery person) accepted {}",
                share(o.holders),
                share(o.stolen)
            )?;
        }
        if let Some((c, r)) = &self.calibrated {
            rule(
                f,
                &format!(
                    "calibrated ({} people, {} pairs, expected strangers accepted {})",
                    c.people,
                    c.pairs,
                    pct(c.expected_fpir)
                ),
                r,
            )?;
        }
        if !self.held_out.is_empty() {
            writeln!(
                f,
                "  calibration on half the gallery ({HALVINGS} random cuts), met by strangers it never saw (the other half's probes, the impostors):"
            )?;
        }
        for h in &self.held_out {
            writeln!(
                f,
                "    target {}: expected {}, accepted {} of {} ({}; 95% of redrawn strangers {}–{}), above the target in {} of {} halves, thresholds {:.3}–{:.3}",
                pct(h.target),
                pct(h.expected),
                h.accepted,
                h.strangers,
                pct(rate(h.accepted, h.strangers)),
                pct(h.interval[0]),
                pct(h.interval[1]),
                h.above,
                h.galleries,
                h.thresholds[0],
                h.thresholds[1]
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_interval_brackets_the_share_and_narrows_with_more_people() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        // 1 person in 10 accepted once in 100 meetings: a share of 0.1%.
        let few: Vec<[usize; 2]> = (0..30).map(|p| [(p % 10 == 0) as usize, 100]).collect();
        let many: Vec<[usize; 2]> = (0..3000).map(|p| [(p % 10 == 0) as usize, 100]).collect();
        let [lo, hi] = resampled_interval(&few, &mut rng);
        assert!(lo <= 0.001 && 0.001 <= hi && lo < hi, "{lo} {hi}");
        let [lo_many, hi_many] = resampled_interval(&many, &mut rng);
        assert!(lo_many <= 0.001 && 0.001 <= hi_many, "{lo_many} {hi_many}");
        assert!(hi_many - lo_many < (hi - lo) / 5.0, "{lo_many}–{hi_many} against {lo}–{hi}");
        assert_eq!(resampled_interval(&[[0, 50]; 40], &mut rng), [0.0, 0.0]);
    }

    #[test]
    fn a_strangers_photos_are_drawn_together() {
        let e = vec![0.0f32];
        let strangers = [("b", e.clone()), ("a", e.clone()), ("b", e.clone()), ("c", e)];
        assert_eq!(people_of(&strangers), vec![vec![0, 2], vec![1], vec![3]]);
    }
}
