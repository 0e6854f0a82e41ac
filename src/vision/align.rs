//! Alignment: a similarity transform (rotation, uniform scale, shift) that
//! puts the five landmarks where the embedder expects them, and the warp.

use image::{Rgb, RgbImage};

use crate::vision::face::Landmarks;

/// Where an embedder wants the five landmarks, in a square crop of `size` pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Template {
    pub size: u32,
    pub points: Landmarks,
}

/// The ArcFace / InsightFace reference points for a 112 x 112 crop.
pub const ARCFACE_112: Template = Template {
    size: 112,
    points: [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
};

/// dlib's 150 px face chip (padding 0.25): eye centres, nose tip and mouth
/// corners of dlib's mean face shape, placed as `get_face_chip_details` does.
pub const DLIB_150: Template = Template {
    size: 150,
    points: [[47.5492, 46.599], [100.4761, 46.599], [74.0127, 76.5625], [50.4149, 103.0233], [97.6104, 103.0233]],
};

/// `[a, b, tx; -b, a, ty]`-style 2x3 matrix mapping source to destination.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub m: [[f32; 3]; 2],
}

impl Similarity {
    /// Least-squares similarity from `src` to `dst` (Umeyama, 1991).
    pub fn estimate(src: &Landmarks, dst: &Landmarks) -> Similarity {
        let n = src.len() as f64;
        let mean = |p: &Landmarks| {
            let (sx, sy) = p.iter().fold((0.0, 0.0), |(x, y), q| (x + q[0] as f64, y + q[1] as f64));
            (sx / n, sy / n)
        };
        let (msx, msy) = mean(src);
        let (mdx, mdy) = mean(dst);
        // With complex numbers: dst = z * src + t, least squares gives
        // z = sum(conj(s) * d) / sum(|s|^2) for centred points.
        let (mut re, mut im, mut var) = (0.0f64, 0.0f64, 0.0f64);
        for (s, d) in src.iter().zip(dst) {
            let (sx, sy) = (s[0] as f64 - msx, s[1] as f64 - msy);
            let (dx, dy) = (d[0] as f64 - mdx, d[1] as f64 - mdy);
            re += sx * dx + sy * dy;
            im += sx * dy - sy * dx;
            var += sx * sx + sy * sy;
        }
        let (a, b) = if var > 0.0 { (re / var, im / var) } else { (1.0, 0.0) };
        let tx = mdx - (a * msx - b * msy);
        let ty = mdy - (b * msx + a * msy);
        Similarity { m: [[a as f32, -b as f32, tx as f32], [b as f32, a as f32, ty as f32]] }
    }

    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        let m = &self.m;
        [m[0][0] * p[0] + m[0][1] * p[1] + m[0][2], m[1][0] * p[0] + m[1][1] * p[1] + m[1][2]]
    }

    pub fn inverse(&self) -> Similarity {
        let [[a, _, tx], [b, _, ty]] = self.m;
        let det = a * a + b * b;
        let (ia, ib) = (a / det, -b / det);
        Similarity { m: [[ia, -ib, -(ia * tx - ib * ty)], [ib, ia, -(ib * tx + ia * ty)]] }
    }
}

/// The aligned crop of the face whose landmarks are `landmarks`.
pub fn align(img: &RgbImage, landmarks: &Landmarks, template: &Template) -> RgbImage {
    let to_crop = Similarity::estimate(landmarks, &template.points);
    warp(img, &to_crop.inverse(), template.size)
}

/// Samples `img` through `crop_to_img` into a square crop, bilinearly;
/// outside the picture it repeats the nearest edge pixel.
pub fn warp(img: &RgbImage, crop_to_img: &Similarity, size: u32) -> RgbImage {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let px = |x: i64, y: i64| img.get_pixel(x.clamp(0, w - 1) as u32, y.clamp(0, h - 1) as u32).0;
    RgbImage::from_fn(size, size, |x, y| {
        let [sx, sy] = crop_to_img.apply([x as f32, y as f32]);
        let (fx, fy) = (sx.floor(), sy.floor());
        let (dx, dy) = (sx - fx, sy - fy);
        let (x0, y0) = (fx as i64, fy as i64);
        let (p00, p10, p01, p11) = (px(x0, y0), px(x0 + 1, y0), px(x0, y0 + 1), px(x0 + 1, y0 + 1));
        let mut out = [0u8; 3];
        for c in 0..3 {
            let top = p00[c] as f32 * (1.0 - dx) + p10[c] as f32 * dx;
            let bottom = p01[c] as f32 * (1.0 - dx) + p11[c] as f32 * dx;
            out[c] = (top * (1.0 - dy) + bottom * dy).round().clamp(0.0, 255.0) as u8;
        }
        Rgb(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_recovers_a_known_similarity() {
        let truth = Similarity { m: [[0.8, -0.3, 12.0], [0.3, 0.8, -5.0]] };
        let src = ARCFACE_112.points;
        let dst = src.map(|p| truth.apply(p));
        let est = Similarity::estimate(&src, &dst);
        for r in 0..2 {
            for c in 0..3 {
                assert!((est.m[r][c] - truth.m[r][c]).abs() < 1e-3, "{est:?} vs {truth:?}");
            }
        }
        let back = est.inverse();
        for p in src {
            let q = back.apply(est.apply(p));
            assert!((q[0] - p[0]).abs() < 1e-3 && (q[1] - p[1]).abs() < 1e-3);
        }
    }
}
