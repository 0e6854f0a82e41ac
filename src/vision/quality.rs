//! Is this face good enough to enrol or to identify? Size, sharpness, pose
//! and exposure, measured on the aligned crop and the landmarks.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::settings::within;

/// The `[quality]` settings: below these a face is not worth judging.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityConfig {
    pub min_eye_distance: f32,
    pub min_sharpness: f32,
    pub max_yaw: f32,
    pub min_brightness: f32,
    pub max_brightness: f32,
}

impl Default for QualityConfig {
    fn default() -> Self {
        Self { min_eye_distance: 20.0, min_sharpness: 25.0, max_yaw: 0.8, min_brightness: 50.0, max_brightness: 215.0 }
    }
}

impl QualityConfig {
    pub fn check(&self) -> Result<(), String> {
        within("quality.min_eye_distance", self.min_eye_distance, 0.0..=1000.0)?;
        within("quality.min_sharpness", self.min_sharpness, 0.0..=10_000.0)?;
        within("quality.max_yaw", self.max_yaw, 0.0..=10.0)?;
        within("quality.min_brightness", self.min_brightness, 0.0..=255.0)?;
        within("quality.max_brightness", self.max_brightness, self.min_brightness..=255.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quality {
    /// Distance between the eyes in the original picture, in pixels.
    pub eye_distance: f32,
    /// Variance of the Laplacian of the aligned grey face: low = blurry.
    pub sharpness: f32,
    /// Head turn: 0 frontal, about 1 in profile (sign: which way).
    pub yaw: f32,
    /// Mean brightness of the aligned face, 0..255.
    pub brightness: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Issue {
    TooSmall,
    Blurry,
    TurnedAway,
    TooDark,
    TooBright,
}

impl Issue {
    pub fn describe(self) -> &'static str {
        match self {
            Issue::TooSmall => "face too small (use a larger or closer photo)",
            Issue::Blurry => "face blurry",
            Issue::TurnedAway => "face turned away from the camera",
            Issue::TooDark => "face too dark",
            Issue::TooBright => "face over-exposed",
        }
    }
}

impl Quality {
    /// `landmarks` in the original picture, `aligned` the canonical crop.
    pub fn assess(landmarks: &[[f32; 2]; 5], aligned: &RgbImage) -> Quality {
        let grey: Vec<f32> =
            aligned.pixels().map(|p| 0.299 * p.0[0] as f32 + 0.587 * p.0[1] as f32 + 0.114 * p.0[2] as f32).collect();
        let (w, h) = (aligned.width() as usize, aligned.height() as usize);
        let brightness = grey.iter().sum::<f32>() / grey.len().max(1) as f32;
        Quality {
            eye_distance: eye_distance(landmarks),
            sharpness: laplacian_variance(&grey, w, h),
            yaw: yaw(landmarks),
            brightness,
        }
    }

    pub fn issues(&self, cfg: &QualityConfig) -> Vec<Issue> {
        let mut out = Vec::new();
        if self.eye_distance < cfg.min_eye_distance {
            out.push(Issue::TooSmall);
        }
        if self.sharpness < cfg.min_sharpness {
            out.push(Issue::Blurry);
        }
        if self.yaw.abs() > cfg.max_yaw {
            out.push(Issue::TurnedAway);
        }
        if self.brightness < cfg.min_brightness {
            out.push(Issue::TooDark);
        }
        if self.brightness > cfg.max_brightness {
            out.push(Issue::TooBright);
        }
        out
    }
}

/// Between the eye landmarks, in pixels of the picture they were found in.
pub fn eye_distance(landmarks: &[[f32; 2]; 5]) -> f32 {
    let [l, r, ..] = *landmarks;
    ((l[0] - r[0]).powi(2) + (l[1] - r[1]).powi(2)).sqrt()
}

/// Mean brightness of a whole frame, sampled on a sparse grid: enough to tell a backlit scene.
pub fn mean_brightness(img: &RgbImage) -> f32 {
    let (w, h) = img.dimensions();
    let (mut sum, mut n) = (0f32, 0f32);
    for y in (0..h).step_by(8) {
        for x in (0..w).step_by(8) {
            let p = img.get_pixel(x, y).0;
            sum += 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32;
            n += 1.0;
        }
    }
    if n > 0.0 { sum / n } else { 0.0 }
}

/// The nose tip's sideways offset from the eyes' midpoint, in half eye distances.
fn yaw(landmarks: &[[f32; 2]; 5]) -> f32 {
    let [l, r, nose, ..] = *landmarks;
    let (ex, ey) = (r[0] - l[0], r[1] - l[1]);
    let len = (ex * ex + ey * ey).sqrt().max(1e-3);
    let mid = [(l[0] + r[0]) / 2.0, (l[1] + r[1]) / 2.0];
    // Project onto the eye line so that head roll does not count as yaw.
    let along = ((nose[0] - mid[0]) * ex + (nose[1] - mid[1]) * ey) / len;
    along / (len / 2.0)
}

/// Central region only: the crop's corners hold background and hair.
fn laplacian_variance(grey: &[f32], w: usize, h: usize) -> f32 {
    let (x0, x1, y0, y1) = (w / 4, w * 3 / 4, h / 4, h * 3 / 4);
    let mut values = Vec::with_capacity((x1 - x0) * (y1 - y0));
    for y in y0.max(1)..y1.min(h - 1) {
        for x in x0.max(1)..x1.min(w - 1) {
            let c = grey[y * w + x];
            values.push(
                grey[y * w + x - 1] + grey[y * w + x + 1] + grey[(y - 1) * w + x] + grey[(y + 1) * w + x] - 4.0 * c,
            );
        }
    }
    if values.is_empty() {
        return 0.0;
    }
    let mean = values.iter().sum::<f32>() / values.len() as f32;
    values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / values.len() as f32
}
