//! Passive liveness: is the face in front of the camera a real one, or a
//! printed photo or a screen held up to it? Two MiniFASNet models look at the
//! face with its surroundings (2.7x and 4.0x the face box: the edge of a
//! photo, a phone's bezel, moiré) and their "real" probabilities are averaged.

use image::RgbImage;
use ndarray::Array4;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::settings::within;
use crate::vision::detect::resize_rgb;
use crate::vision::engine::EngineConfig;
use crate::vision::face::{BBox, Landmarks};
use crate::vision::runtime::Model;

/// When the kiosk asks whether a face is a real one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Never: any face that matches is checked in.
    Off,
    /// The models judge the frames; a challenge only when they are in doubt.
    #[default]
    Passive,
    /// Every check-in also needs the person to turn their head a little.
    Challenge,
}

/// The `[liveness]` settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LivenessConfig {
    pub mode: Mode,
    /// A face whose score (0..1) is below this is taken for a picture of a face.
    pub threshold: f32,
    /// Scores this far below the threshold are a doubt (a challenge), not a refusal.
    pub doubt: f32,
    /// Seconds a person has to turn their head when challenged.
    pub challenge_seconds: f32,
}

impl Default for LivenessConfig {
    fn default() -> Self {
        Self { mode: Mode::Passive, threshold: 0.5, doubt: 0.2, challenge_seconds: 5.0 }
    }
}

impl LivenessConfig {
    pub fn check(&self) -> std::result::Result<(), String> {
        within("liveness.threshold", self.threshold, 0.0..=1.0)?;
        within("liveness.doubt", self.doubt, 0.0..=1.0)?;
        within("liveness.challenge_seconds", self.challenge_seconds, 1.0..=60.0)
    }
}

/// The models' input side, in pixels.
const SIDE: u32 = 80;
/// Context around the face box each model sees, with its file.
const MODELS: [(&str, f32); 2] = [("minifasnet_v2_2.7.onnx", 2.7), ("minifasnet_v1se_4.0.onnx", 4.0)];

pub struct Liveness {
    models: Vec<(Model, f32)>,
}

/// RetinaFace's box made to look like the detector the models were trained
/// with: wider, shorter, lower. Measured: with RetinaFace's box as it is,
/// 4-5% of real webcam faces were refused.
fn remap(b: &BBox) -> (f32, f32, f32, f32) {
    let (w, h) = (b.width() * 1.145, b.height() * 0.884);
    let cx = (b.x0 + b.x1) / 2.0;
    let cy = (b.y0 + b.y1) / 2.0 + 0.057 * b.height();
    (cx - w / 2.0, cy - h / 2.0, w, h)
}

/// The box `scale` times as large around the same centre, shifted (not
/// cut) to stay inside the frame, as the models' authors crop.
fn context(frame_w: u32, frame_h: u32, (x, y, w, h): (f32, f32, f32, f32), scale: f32) -> (u32, u32, u32, u32) {
    let (fw, fh) = ((frame_w - 1) as f32, (frame_h - 1) as f32);
    let scale = scale.min(fh / h).min(fw / w);
    let (nw, nh) = (w * scale, h * scale);
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    let (mut x0, mut y0, mut x1, mut y1) = (cx - nw / 2.0, cy - nh / 2.0, cx + nw / 2.0, cy + nh / 2.0);
    if x0 < 0.0 {
        x1 -= x0;
        x0 = 0.0;
    }
    if y0 < 0.0 {
        y1 -= y0;
        y0 = 0.0;
    }
    if x1 > fw {
        x0 -= x1 - fw;
        x1 = fw;
    }
    if y1 > fh {
        y0 -= y1 - fh;
        y1 = fh;
    }
    let (x0, y0) = (x0.max(0.0) as u32, y0.max(0.0) as u32);
    (x0, y0, (x1 as u32 + 1 - x0).max(1), (y1 as u32 + 1 - y0).max(1))
}

impl Liveness {
    pub fn load(cfg: &EngineConfig) -> Result<Self> {
        let dir = cfg.models_dir();
        let mut models = Vec::new();
        for (file, scale) in MODELS {
            let model = Model::load(&dir.join(file), 1, cfg.sessions, &cfg.onnxruntime)?;
            let input = model.input_shape();
            if input.len() != 4 || input[1..] != [3, SIDE as i64, SIDE as i64] {
                return Err(Error::Model {
                    message: format!(
                        "{file} is not a liveness model (input {input:?}); restore models/ with `git checkout -- models/`."
                    ),
                    source: None,
                });
            }
            models.push((model, scale));
        }
        let liveness = Self { models };
        // Once on a blank frame: ONNX Runtime's first run allocates, and the first delegate should not wait for it.
        let blank = RgbImage::new(SIDE * 4, SIDE * 4);
        liveness.score(&blank, &BBox { x0: 100.0, y0: 100.0, x1: 200.0, y1: 220.0 })?;
        Ok(liveness)
    }

    /// How many models there are: a track is scored by each in turn.
    pub fn models(&self) -> usize {
        self.models.len()
    }

    /// How sure the models are (0..1) that the face in `bbox` is a real one.
    pub fn score(&self, frame: &RgbImage, bbox: &BBox) -> Result<f32> {
        let mut total = 0.0;
        for which in 0..self.models.len() {
            total += self.score_with(which, frame, bbox)?;
        }
        Ok(total / self.models.len() as f32)
    }

    /// One model's score: a track spends one model per frame, not all of them.
    pub fn score_with(&self, which: usize, frame: &RgbImage, bbox: &BBox) -> Result<f32> {
        if bbox.width() < 1.0 || bbox.height() < 1.0 {
            return Ok(0.0);
        }
        let face = remap(bbox);
        let (model, scale) = &self.models[which % self.models.len()];
        let (x, y, w, h) = context(frame.width(), frame.height(), face, *scale);
        let crop = image::imageops::crop_imm(frame, x, y, w, h).to_image();
        let crop = resize_rgb(&crop, SIDE, SIDE)?;
        let mut input = Array4::<f32>::zeros((1, 3, SIDE as usize, SIDE as usize));
        for (px, py, p) in crop.enumerate_pixels() {
            for c in 0..3 {
                // BGR, 0..255, as the models were trained.
                input[[0, 2 - c, py as usize, px as usize]] = p.0[c] as f32;
            }
        }
        let logits = model.run(input.view(), |out| out[0].iter().copied().collect::<Vec<f32>>())?;
        if logits.len() != 3 {
            return Err(Error::Model {
                message: format!("{}: expected 3 outputs, got {}", model.name(), logits.len()),
                source: None,
            });
        }
        let top = logits.iter().copied().fold(f32::MIN, f32::max);
        let exp: Vec<f32> = logits.iter().map(|l| (l - top).exp()).collect();
        Ok(exp[1] / exp.iter().sum::<f32>())
    }
}

/// What a track's frames say about the face in front of the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// Not enough frames scored yet.
    Unsure,
    Live,
    /// Neither clearly real nor clearly a picture: ask for a challenge.
    Doubt,
    Picture,
}

/// Frames needed before a track is judged: one frame alone is never trusted.
const FRAMES_TO_JUDGE: usize = 2;
/// Frames a doubtful face gets scored beyond those before it is challenged:
/// a few more frames often settle it, faster than a challenge.
const DOUBT_FRAMES: usize = 3;
/// How far (in the face's own proportions) the nose must move against the
/// eyes and mouth to count as a turn of the head.
const TURN: f32 = 0.08;

/// The liveness evidence of one track: a score for each frame examined,
/// each by the next model in turn (so two frames see both crops), and where
/// the nose sits within the face in every frame.
#[derive(Debug, Clone, Default)]
pub struct LiveTrack {
    scores: Vec<f32>,
    poses: Vec<[f32; 2]>,
    /// Scores and poses from this index on are the challenge's.
    challenge_from: Option<(usize, usize)>,
}

impl LiveTrack {
    /// The model for the next score, or None when the frames already say enough.
    pub fn next_model(&self, cfg: &LivenessConfig, models: usize) -> Option<usize> {
        let from = self.challenge_from.map_or(0, |c| c.0);
        let wanted = match self.judge_from(cfg, from) {
            Judgement::Unsure | Judgement::Doubt => true,
            // During a challenge every frame is scored: the turn must be made by a real face.
            Judgement::Live | Judgement::Picture => self.challenge_from.is_some(),
        };
        wanted.then_some(self.scores.len() % models.max(1))
    }

    pub fn add_score(&mut self, score: f32) {
        self.scores.push(score);
    }

    pub fn add_landmarks(&mut self, landmarks: &Landmarks) {
        if let Some(pose) = pose(landmarks) {
            self.poses.push(pose);
        }
    }

    pub fn judge(&self, cfg: &LivenessConfig) -> Judgement {
        self.judge_from(cfg, 0)
    }

    fn judge_from(&self, cfg: &LivenessConfig, from: usize) -> Judgement {
        let scores = &self.scores[from.min(self.scores.len())..];
        if scores.len() < FRAMES_TO_JUDGE {
            return Judgement::Unsure;
        }
        let mean = scores.iter().sum::<f32>() / scores.len() as f32;
        if mean < cfg.threshold - cfg.doubt {
            Judgement::Picture
        } else if mean >= cfg.threshold {
            Judgement::Live
        } else {
            Judgement::Doubt
        }
    }

    /// The mean score so far, for the audit log.
    pub fn mean(&self) -> Option<f32> {
        (!self.scores.is_empty()).then(|| self.scores.iter().sum::<f32>() / self.scores.len() as f32)
    }

    /// Frames scored so far.
    pub fn scores(&self) -> usize {
        self.scores.len()
    }

    /// A doubt that more frames did not settle: time for a challenge.
    pub fn doubt_persists(&self) -> bool {
        self.scores.len() >= FRAMES_TO_JUDGE + DOUBT_FRAMES
    }

    pub fn start_challenge(&mut self) {
        self.challenge_from = Some((self.scores.len(), self.poses.len()));
    }

    /// The challenge's verdict so far: Live once the head turned and the
    /// frames since it began are not a picture; Picture when they are.
    pub fn challenge(&self, cfg: &LivenessConfig) -> Judgement {
        let Some((scores, poses)) = self.challenge_from else { return Judgement::Unsure };
        match self.judge_from(cfg, scores) {
            Judgement::Picture => Judgement::Picture,
            Judgement::Unsure => Judgement::Unsure,
            Judgement::Live | Judgement::Doubt => {
                let before = poses.max(1) - 1;
                let Some(start) = self.poses.get(before) else { return Judgement::Unsure };
                let turned = self.poses[before..].iter().any(|p| (p[0] - start[0]).hypot(p[1] - start[1]) >= TURN);
                if turned { Judgement::Live } else { Judgement::Unsure }
            }
        }
    }
}

/// Where the nose sits in the frame made by the eyes and the mouth: `nose =
/// left eye + a (right eye - left eye) + b (mouth centre - left eye)`. A flat
/// photo tilted, turned or moved about maps its five points together (an
/// affine map, near enough at arm's length) and leaves (a, b) where they
/// were; only a head turning in depth moves the nose against the rest.
fn pose(l: &Landmarks) -> Option<[f32; 2]> {
    let [le, re, nose, ml, mr] = *l;
    let mouth = [(ml[0] + mr[0]) / 2.0, (ml[1] + mr[1]) / 2.0];
    let u = [re[0] - le[0], re[1] - le[1]];
    let v = [mouth[0] - le[0], mouth[1] - le[1]];
    let d = [nose[0] - le[0], nose[1] - le[1]];
    let det = u[0] * v[1] - u[1] * v[0];
    if det.abs() < 1e-3 {
        return None;
    }
    Some([(d[0] * v[1] - d[1] * v[0]) / det, (u[0] * d[1] - u[1] * d[0]) / det])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_stays_inside_the_frame() {
        let face = remap(&BBox { x0: 10.0, y0: 10.0, x1: 110.0, y1: 130.0 });
        // Wider and shorter than the detector's box, and lower.
        assert!((face.2 - 114.5).abs() < 1e-3 && (face.3 - 106.08).abs() < 1e-3);
        assert!(face.1 + face.3 / 2.0 > 70.0);
        for scale in [2.7, 4.0] {
            let (x, y, w, h) = context(640, 480, face, scale);
            assert!(x + w <= 640 && y + h <= 480, "{scale}: {x} {y} {w} {h}");
            assert!(w > 250, "pushed inside, not cut: {w}");
        }
        // Larger than the frame allows: as large as fits.
        let (_, _, w, h) = context(200, 150, (50.0, 40.0, 100.0, 100.0), 4.0);
        assert!(w <= 200 && h <= 150);
    }

    const FACE: Landmarks = [[40.0, 50.0], [80.0, 50.0], [60.0, 72.0], [45.0, 90.0], [75.0, 90.0]];

    #[test]
    fn a_photo_moved_about_keeps_its_pose_and_a_turning_head_does_not() {
        let still = pose(&FACE).unwrap();
        // Rotated, sheared, foreshortened and shifted, as a photo held at a slant.
        let photo = FACE.map(|[x, y]| [0.7 * x + 0.3 * y + 12.0, -0.2 * x + 1.1 * y - 5.0]);
        let moved = pose(&photo).unwrap();
        assert!((moved[0] - still[0]).abs() < 1e-4 && (moved[1] - still[1]).abs() < 1e-4);
        let mut turned = FACE;
        turned[2][0] += 6.0; // the nose moves against eyes and mouth by 15% of the eye distance
        let turned = pose(&turned).unwrap();
        assert!((turned[0] - still[0]).abs() > TURN);
    }

    fn track(scores: &[f32]) -> LiveTrack {
        let mut t = LiveTrack::default();
        scores.iter().for_each(|&s| t.add_score(s));
        t
    }

    #[test]
    fn two_frames_decide_and_doubt_asks_for_more() {
        let cfg = LivenessConfig::default();
        assert_eq!(track(&[0.95]).judge(&cfg), Judgement::Unsure, "one frame is never trusted");
        assert_eq!(track(&[0.95]).next_model(&cfg, 2), Some(1), "the other model scores the next frame");
        assert_eq!(track(&[0.95, 0.9]).judge(&cfg), Judgement::Live);
        assert_eq!(track(&[0.95, 0.9]).next_model(&cfg, 2), None, "enough: no more time spent");
        assert_eq!(track(&[0.05, 0.1]).judge(&cfg), Judgement::Picture);
        assert_eq!(track(&[0.6, 0.3]).judge(&cfg), Judgement::Doubt);
        assert_eq!(track(&[0.6, 0.3]).next_model(&cfg, 2), Some(0), "a doubt asks for more frames");
        assert!(!track(&[0.6, 0.3]).doubt_persists());
        assert!(track(&[0.6, 0.3, 0.4, 0.45, 0.4]).doubt_persists(), "three more frames, still in doubt");
        assert_eq!(track(&[0.6, 0.3, 0.9]).judge(&cfg), Judgement::Live);
    }

    #[test]
    fn a_challenge_needs_a_turn_made_by_a_real_face() {
        let cfg = LivenessConfig::default();
        let mut t = track(&[0.6, 0.35]);
        t.add_landmarks(&FACE);
        t.start_challenge();
        let mut turned = FACE;
        turned[2][0] += 6.0;
        for _ in 0..3 {
            t.add_score(0.8);
            t.add_landmarks(&FACE);
        }
        assert_eq!(t.challenge(&cfg), Judgement::Unsure, "no turn yet");
        t.add_score(0.8);
        t.add_landmarks(&turned);
        assert_eq!(t.challenge(&cfg), Judgement::Live);
        let mut photo = track(&[0.6, 0.35]);
        photo.add_landmarks(&FACE);
        photo.start_challenge();
        for _ in 0..3 {
            photo.add_score(0.05);
            photo.add_landmarks(&turned);
        }
        assert_eq!(photo.challenge(&cfg), Judgement::Picture, "turned, but by a picture");
    }
}
