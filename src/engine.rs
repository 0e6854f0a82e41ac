//! The face pipeline, like InsightFace's `FaceAnalysis`: detect, align,
//! judge quality, embed; each face comes out as one `Face` value.

use image::RgbImage;

use crate::align::{ARCFACE_112, align};
use crate::config::EngineConfig;
use crate::detect::Detector;
use crate::embed::{Embedder, EmbedderKind};
use crate::error::Result;
use crate::face::Face;
use crate::quality::Quality;

pub struct Engine {
    detector: Detector,
    embedder: Embedder,
}

/// The faces of one picture, the most prominent first.
#[derive(Debug, Clone)]
pub struct Scene {
    pub width: u32,
    pub height: u32,
    pub faces: Vec<Face>,
}

impl Scene {
    /// The person in front: the first face, embedded and judged.
    pub fn main(&self) -> Option<&Face> {
        self.faces.first()
    }

    /// Another face nearly as prominent as the main one: the picture does not
    /// say clearly who it is about.
    pub fn is_crowded(&self) -> bool {
        match self.faces.as_slice() {
            [a, b, ..] => b.prominence(self.width, self.height) > 0.6 * a.prominence(self.width, self.height),
            _ => false,
        }
    }
}

impl Engine {
    pub fn load(cfg: &EngineConfig) -> Result<Self> {
        let dir = cfg.models_dir();
        let threads = cfg.threads();
        let detector = Detector::load(&dir, threads, &cfg.onnxruntime, cfg.detect_size, cfg.detect_score)?;
        let embedder = Embedder::load(cfg.embedder, &dir, threads, &cfg.onnxruntime, cfg.flip_average)?;
        Ok(Self { detector, embedder })
    }

    pub fn embedder(&self) -> EmbedderKind {
        self.embedder.kind()
    }

    /// Boxes and landmarks only: the cheap first step, e.g. for tracking.
    pub fn face_locations(&self, img: &RgbImage) -> Result<Vec<Face>> {
        self.detector.detect(img)
    }

    /// Every face, each judged and embedded (one batch for all of them).
    pub fn analyze(&self, img: &RgbImage) -> Result<Vec<Face>> {
        let mut faces = self.detector.detect(img)?;
        self.describe(img, &mut faces)?;
        Ok(faces)
    }

    /// Only the most prominent face is embedded; the others are located, so
    /// that a caller can tell a crowded picture from a clear one.
    pub fn analyze_main(&self, img: &RgbImage) -> Result<Scene> {
        let mut faces = self.detector.detect(img)?;
        let (w, h) = (img.width(), img.height());
        faces.sort_by(|a, b| b.prominence(w, h).total_cmp(&a.prominence(w, h)));
        if let Some(main) = faces.first_mut() {
            self.describe(img, std::slice::from_mut(main))?;
        }
        Ok(Scene { width: w, height: h, faces })
    }

    /// Quality from the canonical 112 px crop (so that its numbers do not
    /// depend on the embedder) and the embedding from the embedder's own crop.
    pub fn describe(&self, img: &RgbImage, faces: &mut [Face]) -> Result<()> {
        let template = self.embedder.template();
        let mut crops = Vec::with_capacity(faces.len());
        for face in faces.iter_mut() {
            let canonical = align(img, &face.landmarks, &ARCFACE_112);
            face.quality = Some(Quality::assess(face, &canonical));
            crops.push(if template.size == ARCFACE_112.size && template.points == ARCFACE_112.points {
                canonical
            } else {
                align(img, &face.landmarks, &template)
            });
        }
        for (face, embedding) in faces.iter_mut().zip(self.embedder.embed(&crops)?) {
            face.embedding = Some(embedding);
        }
        Ok(())
    }
}
