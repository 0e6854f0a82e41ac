//! The face pipeline, like InsightFace's `FaceAnalysis`: detect, align,
//! judge quality, embed; each face comes out as one `Face` value.

use std::path::PathBuf;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::settings::within;
use crate::vision::align::{ARCFACE_112, align};
use crate::vision::detect::{Detector, Source};
use crate::vision::embed::{Embedder, EmbedderKind};
use crate::vision::face::{BBox, Face};
use crate::vision::quality::Quality;

/// The `[engine]` settings: which models, and how they run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    pub embedder: EmbedderKind,
    pub threads: usize,
    pub detect_size: u32,
    pub detect_score: f32,
    pub flip_average: bool,
    pub onnxruntime: PathBuf,
    /// Where the `.onnx` files are; empty = `models/` of the kiosk's folder.
    pub models_dir: PathBuf,
    /// Sessions per model: one, but one per core for batch work (`for_batch`).
    #[serde(skip)]
    pub sessions: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            embedder: EmbedderKind::SFace,
            threads: 0,
            detect_size: 320,
            detect_score: 0.6,
            flip_average: false,
            onnxruntime: PathBuf::new(),
            models_dir: PathBuf::new(),
            sessions: 1,
        }
    }
}

impl EngineConfig {
    pub fn check(&self) -> Result<(), String> {
        within("engine.threads", self.threads, 0..=256)?;
        within("engine.detect_size", self.detect_size, 64..=2048)?;
        within("engine.detect_score", self.detect_score, 0.01..=1.0)
    }

    pub fn models_dir(&self) -> PathBuf {
        if self.models_dir.as_os_str().is_empty() { crate::home::path("models") } else { self.models_dir.clone() }
    }

    /// For work over many photos at once, which keeps every core busy with
    /// one photo each: auto (0) becomes one thread per session and one
    /// session per core, so that no photo waits for another's model run.
    pub fn for_batch(&self) -> EngineConfig {
        let mut cfg = self.clone();
        if cfg.threads == 0 {
            cfg.threads = 1;
            cfg.sessions = std::thread::available_parallelism().map_or(1, |n| n.get());
        }
        cfg
    }

    pub fn threads(&self) -> usize {
        if self.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { self.threads }
    }
}

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
        let run = (cfg.threads(), cfg.sessions);
        let detector = Detector::load(&dir, run, &cfg.onnxruntime, cfg.detect_size, cfg.detect_score)?;
        let embedder = Embedder::load(cfg.embedder, &dir, run, &cfg.onnxruntime, cfg.flip_average)?;
        Ok(Self { detector, embedder })
    }

    pub fn embedder(&self) -> EmbedderKind {
        self.embedder.kind()
    }

    /// How many times the detector has run.
    pub fn detector_runs(&self) -> u64 {
        self.detector.runs()
    }

    /// Boxes and landmarks only: the cheap first step, e.g. for tracking.
    pub fn face_locations(&self, img: &RgbImage) -> Result<Vec<Face>> {
        self.detector.detect(img, Source::Photo)
    }

    /// Every face, each judged and embedded (one batch for all of them).
    pub fn analyze(&self, img: &RgbImage) -> Result<Vec<Face>> {
        let mut faces = self.detector.detect(img, Source::Photo)?;
        self.describe(img, &mut faces)?;
        Ok(faces)
    }

    /// Only the most prominent face is embedded; the others are located, so
    /// that a caller can tell a crowded picture from a clear one.
    pub fn analyze_main(&self, img: &RgbImage, source: Source) -> Result<Scene> {
        let faces = self.detector.detect(img, source)?;
        self.main_of(img, faces)
    }

    /// `analyze_main` with the detector looking only at a square twice the
    /// size of `near` (the face of the frame before) around its centre.
    pub fn analyze_near(&self, img: &RgbImage, near: &BBox) -> Result<Scene> {
        let [cx, cy] = near.center();
        let side = (2.0 * near.width().max(near.height())).max(32.0);
        let x0 = (cx - side / 2.0).clamp(0.0, img.width() as f32) as u32;
        let y0 = (cy - side / 2.0).clamp(0.0, img.height() as f32) as u32;
        let (w, h) = ((side as u32).min(img.width() - x0), (side as u32).min(img.height() - y0));
        if w < 16 || h < 16 {
            return Ok(Scene { width: img.width(), height: img.height(), faces: Vec::new() });
        }
        let region = image::imageops::crop_imm(img, x0, y0, w, h).to_image();
        let mut faces = self.detector.detect_region(&region)?;
        for face in &mut faces {
            face.shift(x0 as f32, y0 as f32);
        }
        self.main_of(img, faces)
    }

    /// The faces sorted by prominence, the first one judged and embedded.
    fn main_of(&self, img: &RgbImage, mut faces: Vec<Face>) -> Result<Scene> {
        let (w, h) = (img.width(), img.height());
        faces.sort_by(|a, b| b.prominence(w, h).total_cmp(&a.prominence(w, h)));
        if let Some(main) = faces.first_mut() {
            self.describe(img, std::slice::from_mut(main))?;
        }
        Ok(Scene { width: w, height: h, faces })
    }

    /// The face as the embedder sees it: aligned to its template.
    pub fn crop(&self, img: &RgbImage, face: &Face) -> RgbImage {
        align(img, &face.landmarks, &self.embedder.template())
    }

    /// Quality from the canonical 112 px crop (so that its numbers do not
    /// depend on the embedder) and the embedding from the embedder's own crop.
    pub fn describe(&self, img: &RgbImage, faces: &mut [Face]) -> Result<()> {
        let mut crops = Vec::with_capacity(faces.len());
        for face in faces.iter_mut() {
            let canonical = align(img, &face.landmarks, &ARCFACE_112);
            face.quality = Some(Quality::assess(&face.landmarks, &canonical));
            crops.push(if self.embedder.template() == ARCFACE_112 { canonical } else { self.crop(img, face) });
        }
        for (face, embedding) in faces.iter_mut().zip(self.embedder.embed(&crops)?) {
            face.embedding = Some(embedding);
        }
        Ok(())
    }
}
