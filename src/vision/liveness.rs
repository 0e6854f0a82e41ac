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
use crate::vision::face::BBox;
use crate::vision::runtime::Model;

/// The `[liveness]` settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LivenessConfig {
    /// A face whose score (0..1) is below this is taken for a picture of a face.
    pub threshold: f32,
}

impl Default for LivenessConfig {
    fn default() -> Self {
        Self { threshold: 0.5 }
    }
}

impl LivenessConfig {
    pub fn check(&self) -> std::result::Result<(), String> {
        within("liveness.threshold", self.threshold, 0.0..=1.0)
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
        Ok(Self { models })
    }

    /// How sure the models are (0..1) that the face in `bbox` is a real one.
    pub fn score(&self, frame: &RgbImage, bbox: &BBox) -> Result<f32> {
        if bbox.width() < 1.0 || bbox.height() < 1.0 {
            return Ok(0.0);
        }
        let face = remap(bbox);
        let mut total = 0.0;
        for (model, scale) in &self.models {
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
            total += exp[1] / exp.iter().sum::<f32>();
        }
        Ok(total / self.models.len() as f32)
    }
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
}
