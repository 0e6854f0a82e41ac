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
use crate::vision::face::Landmarks;
use crate::vision::liveness::{Judgement, LiveTrack, Liveness, LivenessConfig};

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
    /// Each model's score (none: no face was found), and the face's landmarks, for the tracks.
    models: Vec<f32>,
    landmarks: Option<Landmarks>,
}

impl Judged {
    /// The models' mean, as `kiosk liveness` gives it; None: no face was found.
    pub fn score(&self) -> Option<f32> {
        (!self.models.is_empty()).then(|| self.models.iter().sum::<f32>() / self.models.len() as f32)
    }
}

/// How the tracks of one kind (real or attack) were judged.
#[derive(Debug, Default, Clone, Copy)]
pub struct TrackCounts {
    pub tracks: usize,
    pub live: usize,
    pub doubt: usize,
    pub picture: usize,
}

pub struct LivenessReport {
    pub cfg: LivenessConfig,
    /// Frames per track: the kiosk's `frames_to_agree`.
    pub track_frames: usize,
    pub frames: Vec<Judged>,
    /// Liveness check per face (both models), milliseconds.
    pub ms_per_face: f64,
}

impl LivenessReport {
    /// Each group's frames in the manifest's order, cut into tracks of
    /// `track_frames`, judged as the kiosk judges a track: (real, attacks).
    pub fn tracks(&self) -> (TrackCounts, TrackCounts) {
        let mut groups: BTreeMap<(&str, bool), Vec<&Judged>> = BTreeMap::new();
        for j in &self.frames {
            groups.entry((&j.group, j.live)).or_default().push(j);
        }
        let (mut real, mut attacks) = (TrackCounts::default(), TrackCounts::default());
        for ((_, live), frames) in groups {
            for window in frames.chunks_exact(self.track_frames.max(1)) {
                let mut track = LiveTrack::default();
                for j in window.iter().filter(|j| j.score().is_some()) {
                    if let Some(l) = &j.landmarks {
                        track.add_landmarks(l);
                    }
                    if let Some(m) = track.next_model(&self.cfg, j.models.len()) {
                        track.add_score(j.models[m]);
                    }
                }
                let counts = if live { &mut real } else { &mut attacks };
                counts.tracks += 1;
                match track.judge(&self.cfg) {
                    Judgement::Live => counts.live += 1,
                    Judgement::Doubt => counts.doubt += 1,
                    // No face in enough frames: nobody is checked in.
                    Judgement::Picture | Judgement::Unsure => counts.picture += 1,
                }
            }
        }
        (real, attacks)
    }

    /// (attacks accepted, attacks) and (real faces refused, real faces with a face found) at `t`.
    pub fn rates(&self, t: f32) -> ((usize, usize), (usize, usize)) {
        let spoof: Vec<&Judged> = self.frames.iter().filter(|f| !f.live).collect();
        let accepted = spoof.iter().filter(|f| f.score().is_some_and(|s| s >= t)).count();
        let live: Vec<f32> = self.frames.iter().filter(|f| f.live).filter_map(Judged::score).collect();
        let refused = live.iter().filter(|&&s| s < t).count();
        ((accepted, spoof.len()), (refused, live.len()))
    }
}

/// A (part, whole) count in percent.
fn pct((part, whole): (usize, usize)) -> f64 {
    percent(part, whole)
}

pub fn evaluate(
    engine: &Engine,
    liveness: &Liveness,
    dir: &Path,
    cfg: &LivenessConfig,
    track_frames: usize,
) -> Result<LivenessReport> {
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
            models: Vec::new(),
            landmarks: None,
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
            let Some(face) = main else { return Ok(row) };
            let t = Instant::now();
            row.models =
                (0..liveness.models()).map(|m| liveness.score_with(m, &img, &face.bbox)).collect::<Result<_>>()?;
            spent.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
            row.landmarks = Some(face.landmarks);
            Ok(row)
        })
        .collect();
    let frames = judged.into_iter().collect::<Result<Vec<_>>>()?;
    let faces = frames.iter().filter(|f| f.score().is_some()).count().max(1);
    let ms_per_face = spent.load(Ordering::Relaxed) as f64 / 1e6 / faces as f64;
    Ok(LivenessReport { cfg: cfg.clone(), track_frames, ms_per_face, frames })
}

impl fmt::Display for LivenessReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (apcer, bpcer) = self.rates(self.cfg.threshold);
        let no_face = |live: bool| self.frames.iter().filter(|j| j.live == live && j.score().is_none()).count();
        writeln!(f, "liveness at threshold {:.2}, one frame at a time:", self.cfg.threshold)?;
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
            e.0 += j.score().is_some_and(|s| s >= self.cfg.threshold) as usize;
        }
        for (attack, counts) in by_attack {
            writeln!(f, "  {attack}: {:.2}% accepted ({} of {})", pct(counts), counts.0, counts.1)?;
        }
        let mut by_group: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for j in self.frames.iter().filter(|j| j.live) {
            let Some(s) = j.score() else { continue };
            let e = by_group.entry(&j.group).or_default();
            e.1 += 1;
            e.0 += (s < self.cfg.threshold) as usize;
        }
        let worst = by_group.iter().max_by(|a, b| pct(*a.1).total_cmp(&pct(*b.1)));
        if let Some((group, counts)) = worst {
            writeln!(f, "  most refused real group: {group}, {:.2}% ({} of {})", pct(*counts), counts.0, counts.1)?;
        }
        let (real, attacks) = self.tracks();
        writeln!(
            f,
            "over tracks of {} frames in order (one model per frame, in turn; doubt band {:.2}):",
            self.track_frames, self.cfg.doubt
        )?;
        let line = |c: TrackCounts, what: &str| {
            format!(
                "{what}: {} tracks, accepted {} ({:.2}%), asked for a challenge {} ({:.2}%), refused {} ({:.2}%)",
                c.tracks,
                c.live,
                percent(c.live, c.tracks),
                c.doubt,
                percent(c.doubt, c.tracks),
                c.picture,
                percent(c.picture, c.tracks)
            )
        };
        writeln!(f, "  {}", line(attacks, "attack tracks"))?;
        writeln!(f, "  {}", line(real, "real tracks"))?;
        writeln!(f, "threshold  APCER%  BPCER%")?;
        for t in (1..=19).map(|i| i as f32 * 0.05) {
            let (a, b) = self.rates(t);
            writeln!(f, "  {t:.2}     {:>6.2}  {:>6.2}", pct(a), pct(b))?;
        }
        write!(f, "time: {:.1} ms per face for both models (each core judging frames of its own)", self.ms_per_face)
    }
}
