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

/// Cosine similarity of two L2-normalised embeddings.
pub fn similarity(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}
