//! How well the passive liveness check tells real faces from pictures of
//! faces (`kiosk eval-liveness DIR`), on a folder laid out like
//! `../shared/pad/dev`: `live/`, `spoof/` and `manifest.csv` (path, label,
//! attack, ...). APCER: attacks accepted; BPCER: real faces refused.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::measure::eval::default_faces_dir;
use crate::store::percent;
use crate::vision::decode::load_image;
use crate::vision::engine::Engine;
use crate::vision::liveness::Liveness;

/// `../shared/pad/dev` (or `$KIOSK_PAD`).
pub fn default_pad_dir() -> std::path::PathBuf {
    std::env::var_os("KIOSK_PAD").map(Into::into).unwrap_or_else(|| {
        default_faces_dir().parent().map_or_else(|| "../shared".into(), Path::to_path_buf).join("pad/dev")
    })
}

/// One frame of the manifest, judged.
#[derive(Debug, Clone)]
pub struct Judged {
    pub path: String,
    pub live: bool,
    /// "print", "replay" or "none".
    pub attack: String,
    pub group: String,
    /// None: no face was found.
    pub score: Option<f32>,
}

pub struct LivenessReport {
    pub threshold: f32,
    pub frames: Vec<Judged>,
    /// Liveness check per face (both models), milliseconds.
    pub ms_per_face: f64,
}

impl LivenessReport {
    /// (attacks accepted, attacks) and (real faces refused, real faces with a face found) at `t`.
    pub fn rates(&self, t: f32) -> ((usize, usize), (usize, usize)) {
        let spoof: Vec<&Judged> = self.frames.iter().filter(|f| !f.live).collect();
        let accepted = spoof.iter().filter(|f| f.score.is_some_and(|s| s >= t)).count();
        let live: Vec<f32> = self.frames.iter().filter(|f| f.live).filter_map(|f| f.score).collect();
        let refused = live.iter().filter(|&&s| s < t).count();
        ((accepted, spoof.len()), (refused, live.len()))
    }
}

/// A (part, whole) count in percent.
fn pct((part, whole): (usize, usize)) -> f64 {
    percent(part, whole)
}

pub fn evaluate(engine: &Engine, liveness: &Liveness, dir: &Path, threshold: f32) -> Result<LivenessReport> {
    let manifest = dir.join("manifest.csv");
    let mut reader = csv::Reader::from_path(&manifest).map_err(|e| {
        Error::Input(format!(
            "cannot read {} ({e}): give a folder laid out like ../shared/pad/dev (live/, spoof/, manifest.csv)",
            manifest.display()
        ))
    })?;
    let headers = reader.headers().map_err(|e| Error::Input(format!("{}: {e}", manifest.display())))?.clone();
    let column = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            Error::Input(format!("{} has no \"{name}\" column (path, label, attack, group)", manifest.display()))
        })
    };
    let (path, label, attack, group) = (column("path")?, column("label")?, column("attack")?, column("group")?);
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let r = record.map_err(|e| Error::Input(format!("{} line {}: {e}", manifest.display(), i + 2)))?;
        let get = |c: usize| r.get(c).unwrap_or_default().to_string();
        rows.push(Judged {
            path: get(path),
            live: get(label) == "live",
            attack: get(attack),
            group: get(group),
            score: None,
        });
    }
    let spent = AtomicU64::new(0);
    let judged: Vec<Result<Judged>> = rows
        .into_par_iter()
        .map(|mut row| {
            let img = load_image(&dir.join(&row.path))?;
            let faces = engine.face_locations(&img)?;
            let (w, h) = (img.width(), img.height());
            let main = faces.iter().max_by(|a, b| a.prominence(w, h).total_cmp(&b.prominence(w, h)));
            let t = Instant::now();
            row.score = main.map(|f| liveness.score(&img, &f.bbox)).transpose()?;
            spent.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
            Ok(row)
        })
        .collect();
    let frames = judged.into_iter().collect::<Result<Vec<_>>>()?;
    let faces = frames.iter().filter(|f| f.score.is_some()).count().max(1);
    let ms_per_face = spent.load(Ordering::Relaxed) as f64 / 1e6 / faces as f64;
    Ok(LivenessReport { threshold, ms_per_face, frames })
}

impl fmt::Display for LivenessReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (apcer, bpcer) = self.rates(self.threshold);
        let no_face = |live: bool| self.frames.iter().filter(|j| j.live == live && j.score.is_none()).count();
        writeln!(f, "liveness at threshold {:.2}, one frame at a time:", self.threshold)?;
        writeln!(f, "  APCER (attacks accepted): {:.2}% ({} of {})", pct(apcer), apcer.0, apcer.1)?;
        writeln!(f, "  BPCER (real faces refused): {:.2}% ({} of {} with a face found)", pct(bpcer), bpcer.0, bpcer.1)?;
        writeln!(
            f,
            "  no face found: {} real frames, {} attack frames (an attack without a face is refused)",
            no_face(true),
            no_face(false)
        )?;
        let mut by_attack: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for j in self.frames.iter().filter(|j| !j.live) {
            let e = by_attack.entry(&j.attack).or_default();
            e.1 += 1;
            e.0 += j.score.is_some_and(|s| s >= self.threshold) as usize;
        }
        for (attack, counts) in by_attack {
            writeln!(f, "  {attack}: {:.2}% accepted ({} of {})", pct(counts), counts.0, counts.1)?;
        }
        let mut by_group: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for j in self.frames.iter().filter(|j| j.live) {
            let Some(s) = j.score else { continue };
            let e = by_group.entry(&j.group).or_default();
            e.1 += 1;
            e.0 += (s < self.threshold) as usize;
        }
        let worst = by_group.iter().max_by(|a, b| pct(*a.1).total_cmp(&pct(*b.1)));
        if let Some((group, counts)) = worst {
            writeln!(f, "  most refused real group: {group}, {:.2}% ({} of {})", pct(*counts), counts.0, counts.1)?;
        }
        writeln!(f, "threshold  APCER%  BPCER%")?;
        for t in (1..=19).map(|i| i as f32 * 0.05) {
            let (a, b) = self.rates(t);
            writeln!(f, "  {t:.2}     {:>6.2}  {:>6.2}", pct(a), pct(b))?;
        }
        write!(f, "time: {:.1} ms per face for both models (each core judging frames of its own)", self.ms_per_face)
    }
}
