//! The one value every stage passes along: where a face is, its five
//! landmarks, and (once measured) its quality and embedding.

use serde::Serialize;

use crate::vision::quality::{Quality, eye_distance};

/// Left eye, right eye, nose tip, left and right mouth corner (image coordinates;
/// "left" as seen in the image).
pub type Landmarks = [[f32; 2]; 5];

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BBox {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl BBox {
    pub fn width(&self) -> f32 {
        (self.x1 - self.x0).max(0.0)
    }

    pub fn height(&self) -> f32 {
        (self.y1 - self.y0).max(0.0)
    }

    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    pub fn center(&self) -> [f32; 2] {
        [(self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0]
    }

    pub fn iou(&self, other: &BBox) -> f32 {
        let w = (self.x1.min(other.x1) - self.x0.max(other.x0)).max(0.0);
        let h = (self.y1.min(other.y1) - self.y0.max(other.y0)).max(0.0);
        let inter = w * h;
        let union = self.area() + other.area() - inter;
        if union > 0.0 { inter / union } else { 0.0 }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Face {
    #[serde(rename = "box")]
    pub bbox: BBox,
    pub score: f32,
    pub landmarks: Landmarks,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<Quality>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Vec<f32>>,
}

impl Face {
    /// Moves the face by (dx, dy): from a region's coordinates to its picture's.
    pub fn shift(&mut self, dx: f32, dy: f32) {
        let b = &mut self.bbox;
        (b.x0, b.y0, b.x1, b.y1) = (b.x0 + dx, b.y0 + dy, b.x1 + dx, b.y1 + dy);
        for p in &mut self.landmarks {
            *p = [p[0] + dx, p[1] + dy];
        }
    }

    pub fn eye_distance(&self) -> f32 {
        eye_distance(&self.landmarks)
    }

    /// How much this face is "the one at the front" of a `w` x `h` picture:
    /// its size, discounted the further it sits from the centre.
    pub fn prominence(&self, w: u32, h: u32) -> f32 {
        let [cx, cy] = self.bbox.center();
        let (hw, hh) = (w as f32 / 2.0, h as f32 / 2.0);
        let off_centre = (((cx - hw) / hw).powi(2) + ((cy - hh) / hh).powi(2)).sqrt() / 2f32.sqrt();
        self.bbox.area().sqrt() * (1.0 - 0.5 * off_centre.min(1.0))
    }
}

/// Cosine similarity of two L2-normalised embeddings. Eight running sums,
/// because one sum in order is a chain the compiler may not reorder into SIMD.
pub fn similarity(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 8];
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f32 = a.chunks_exact(8).remainder().iter().zip(b.chunks_exact(8).remainder()).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eight_lane_similarity_is_the_plain_dot_product() {
        for n in [2, 7, 8, 128, 131, 192] {
            let a: Vec<f32> = (0..n).map(|i| ((i * 7 % 13) as f32 - 6.0) / 10.0).collect();
            let b: Vec<f32> = (0..n).map(|i| ((i * 5 % 11) as f32 - 5.0) / 10.0).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((similarity(&a, &b) - plain).abs() < 1e-4, "{n}");
        }
    }
}
