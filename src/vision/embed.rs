//! Face embeddings: an aligned crop in, an L2-normalised vector out, close
//! for the same person and far apart for different people.

use std::path::Path;

use image::RgbImage;
use ndarray::Array4;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::vision::align::{ARCFACE_112, DLIB_150, Template};
use crate::vision::face::l2_normalize;
use crate::vision::runtime::Model;

/// The embedders the kiosk ships (see models/SOURCES.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum EmbedderKind {
    /// MobileFaceNet, 192-D: the more accurate; research-use training data.
    #[serde(rename = "mobilefacenet")]
    #[value(name = "mobilefacenet")]
    MobileFaceNet,
    /// dlib's ResNet, 128-D: public-domain weights.
    Dlib,
    /// SFace (OpenCV model zoo), 128-D: Apache-2.0.
    #[serde(rename = "sface")]
    #[value(name = "sface")]
    SFace,
}

impl EmbedderKind {
    /// Stored with every template, so that embeddings of different models are never compared.
    pub fn model_id(self) -> &'static str {
        match self {
            EmbedderKind::MobileFaceNet => "mobilefacenet-192-v1",
            EmbedderKind::Dlib => "dlib-resnet-128-v1",
            EmbedderKind::SFace => "sface-128-v1",
        }
    }

    pub fn file(self) -> &'static str {
        match self {
            EmbedderKind::MobileFaceNet => "mobilefacenet.onnx",
            EmbedderKind::Dlib => "dlib_resnet.onnx",
            EmbedderKind::SFace => "sface.onnx",
        }
    }

    pub fn dim(self) -> usize {
        match self {
            EmbedderKind::MobileFaceNet => 192,
            EmbedderKind::Dlib | EmbedderKind::SFace => 128,
        }
    }

    pub fn template(self) -> Template {
        match self {
            EmbedderKind::MobileFaceNet | EmbedderKind::SFace => ARCFACE_112,
            EmbedderKind::Dlib => DLIB_150,
        }
    }

    /// The similarity above which `kiosk identify` calls a match, chosen with
    /// `kiosk eval` for an impostor-accept rate well under 1% (see README.md).
    pub fn default_threshold(self) -> f32 {
        match self {
            EmbedderKind::MobileFaceNet => 0.58,
            EmbedderKind::Dlib => 0.95,
            EmbedderKind::SFace => 0.45,
        }
    }

    /// A face against the one delegate a badge names, where no `calibrate`
    /// has set it for the event's gallery: where about 1 in 10,000 stolen
    /// badges is accepted on faces/dev (`kiosk eval --one-to-one`: every
    /// other face against each gallery person).
    pub fn default_one_to_one(self) -> f32 {
        match self {
            EmbedderKind::MobileFaceNet => 0.54,
            EmbedderKind::Dlib => 0.945,
            EmbedderKind::SFace => 0.44,
        }
    }

    /// Enrolled pairs this alike are listed for a person to check before the
    /// event: a little below the match threshold, where confusions start.
    pub fn default_lookalike(self) -> f32 {
        match self {
            EmbedderKind::MobileFaceNet => 0.48,
            EmbedderKind::Dlib => 0.93,
            EmbedderKind::SFace => 0.36,
        }
    }

    /// How far the best person must lead the second; dlib's similarities
    /// crowd into a narrow band, so its margin is narrower too.
    pub fn default_margin(self) -> f32 {
        match self {
            EmbedderKind::MobileFaceNet => 0.06,
            EmbedderKind::Dlib => 0.01,
            EmbedderKind::SFace => 0.06,
        }
    }

    /// Pixel value `v` (0..255) as the network wants it.
    fn normalize(self, v: u8) -> f32 {
        match self {
            EmbedderKind::MobileFaceNet => (v as f32 - 127.5) / 128.0,
            // dlib's and SFace's graphs normalise inside the model.
            EmbedderKind::Dlib | EmbedderKind::SFace => v as f32,
        }
    }
}

pub struct Embedder {
    kind: EmbedderKind,
    model: Model,
    flip_average: bool,
}

impl Embedder {
    pub fn load(
        kind: EmbedderKind,
        models_dir: &Path,
        (threads, copies): (usize, usize),
        runtime_lib: &Path,
        flip_average: bool,
    ) -> Result<Self> {
        let model = Model::load(&models_dir.join(kind.file()), threads, copies, runtime_lib)?;
        let size = kind.template().size as i64;
        let input = model.input_shape();
        let output = model.output_shapes();
        let fits = input.len() == 4
            && input[1..] == [3, size, size]
            && output.first().and_then(|s| s.last().copied()) == Some(kind.dim() as i64);
        if !fits {
            return Err(Error::Model {
                message: format!(
                    "{} is not the {kind:?} embedder (input {input:?}, outputs {output:?}); restore models/ with `git checkout -- models/`.",
                    model.name()
                ),
                source: None,
            });
        }
        Ok(Self { kind, model, flip_average })
    }

    pub fn kind(&self) -> EmbedderKind {
        self.kind
    }

    pub fn template(&self) -> Template {
        self.kind.template()
    }

    /// One normalised embedding per aligned crop, in one batch.
    pub fn embed(&self, crops: &[RgbImage]) -> Result<Vec<Vec<f32>>> {
        if crops.is_empty() {
            return Ok(Vec::new());
        }
        let size = self.template().size as usize;
        let copies = if self.flip_average { 2 } else { 1 };
        let mut input = Array4::<f32>::zeros((crops.len() * copies, 3, size, size));
        for (i, crop) in crops.iter().enumerate() {
            for (x, y, px) in crop.enumerate_pixels() {
                for c in 0..3 {
                    let v = self.kind.normalize(px.0[c]);
                    input[[i * copies, c, y as usize, x as usize]] = v;
                    if copies == 2 {
                        input[[i * copies + 1, c, y as usize, size - 1 - x as usize]] = v;
                    }
                }
            }
        }
        let dim = self.kind.dim();
        let flat = self.model.run(input.view(), |out| out[0].iter().copied().collect::<Vec<f32>>())?;
        if flat.len() != crops.len() * copies * dim {
            return Err(Error::Model {
                message: format!("{}: unexpected output size {}", self.model.name(), flat.len()),
                source: None,
            });
        }
        Ok(flat
            .chunks(dim * copies)
            .map(|rows| {
                // The mirror image's embedding is averaged in: pose and lighting
                // asymmetries cancel out partly.
                let mut v = rows[..dim].to_vec();
                for extra in rows[dim..].chunks(dim) {
                    v.iter_mut().zip(extra).for_each(|(a, b)| *a += b);
                }
                l2_normalize(&mut v);
                v
            })
            .collect())
    }
}
