//! Face detection with RetinaFace (MobileNet-0.25): boxes, scores and five
//! landmarks for every face in a picture, in the picture's own coordinates.

use std::path::Path;

use fast_image_resize::images::{Image as FirImage, ImageRef};
use fast_image_resize::{PixelType, ResizeOptions, Resizer};
use image::RgbImage;
use ndarray::Array4;

use crate::error::{Error, Result};
use crate::vision::face::{BBox, Face, Landmarks};
use crate::vision::runtime::Model;

pub const MODEL_FILE: &str = "retinaface_mnet025.onnx";

/// BGR channel means the network was trained with (biubug6/Pytorch_Retinaface).
const MEAN_BGR: [f32; 3] = [104.0, 117.0, 123.0];
const STRIDES: [usize; 3] = [8, 16, 32];
const ANCHOR_SIZES: [[f32; 2]; 3] = [[16.0, 32.0], [64.0, 128.0], [256.0, 512.0]];
const VARIANCE: [f32; 2] = [0.1, 0.2];
const NMS_IOU: f32 = 0.4;
/// A face box wider than this share of the picture's shorter side marks a tight crop.
const TIGHT_CROP: f32 = 0.55;
/// The network's input for a region around a face found before.
const REGION_SIDE: u32 = 160;

/// Where a picture comes from, which decides how hard to look for a face.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A photo file: an enrolment photo, an ID crop.
    Photo,
    /// A camera frame: often empty, and the next one comes in 33 ms.
    CameraFrame,
}

pub struct Detector {
    model: Model,
    /// Longer side of the picture the network sees.
    size: u32,
    min_score: f32,
}

impl Detector {
    /// Detector runs so far (a framed retry is a second run).
    pub fn runs(&self) -> u64 {
        self.model.runs()
    }

    pub fn load(
        models_dir: &Path,
        (threads, copies): (usize, usize),
        runtime_lib: &Path,
        size: u32,
        min_score: f32,
    ) -> Result<Self> {
        let model = Model::load(&models_dir.join(MODEL_FILE), threads, copies, runtime_lib)?;
        let outputs = model.output_shapes();
        if outputs.len() != 3
            || outputs.iter().map(|s| s.last().copied()).collect::<Vec<_>>() != [Some(4), Some(2), Some(10)]
        {
            return Err(Error::Model {
                message: format!(
                    "{} is not the RetinaFace detector (its outputs are {outputs:?}); restore models/ with `git checkout -- models/`.",
                    model.name()
                ),
                source: None,
            });
        }
        Ok(Self { model, size: size.clamp(64, 2048), min_score })
    }

    /// Every face in `img`. A picture that is mostly face (an ID-photo crop)
    /// leaves the detector no margin and its landmarks come out poor: such a
    /// picture is framed in a border half its size, as a portrait would be.
    /// A photo with no face found is tried framed too (a crop so tight that
    /// the detector missed it); a camera frame with nobody in it is not.
    pub fn detect(&self, img: &RgbImage, source: Source) -> Result<Vec<Face>> {
        let faces = self.detect_once(img, 0, self.input_side(img))?;
        let short_side = img.width().min(img.height()) as f32;
        let tight = match faces.first() {
            Some(f) => f.bbox.width().max(f.bbox.height()) > TIGHT_CROP * short_side,
            None => source == Source::Photo,
        };
        if !tight {
            return Ok(faces);
        }
        let framed = self.detect_once(img, img.width().max(img.height()) / 2, self.size)?;
        Ok(if framed.is_empty() { faces } else { framed })
    }

    /// The faces of a region cut out around a face already found, which
    /// fills about half of it: a small input (`REGION_SIDE`) is enough, a
    /// quarter of the pixels of a whole frame.
    pub fn detect_region(&self, region: &RgbImage) -> Result<Vec<Face>> {
        self.detect_once(region, 0, REGION_SIDE.min(self.size))
    }

    /// A picture smaller than the network's input is not blown up: a 250 px
    /// photo is seen at 256, not 320, which costs a third fewer pixels and
    /// shows the detector nothing it could not see already.
    fn input_side(&self, img: &RgbImage) -> u32 {
        img.width().max(img.height()).div_ceil(32).saturating_mul(32).clamp(64, self.size)
    }

    /// `side`: the longer side of the picture (with its border) in the network's input.
    fn detect_once(&self, img: &RgbImage, pad: u32, side: u32) -> Result<Vec<Face>> {
        let (w, h) = (img.width() + 2 * pad, img.height() + 2 * pad);
        let scale = side as f32 / w.max(h) as f32;
        let (sw, sh) = (((w as f32 * scale).round() as u32).max(1), ((h as f32 * scale).round() as u32).max(1));
        // The network's three strides want sides that are multiples of 32.
        let (cw, ch) = (sw.div_ceil(32) * 32, sh.div_ceil(32) * 32);
        let input = self.tensor(img, pad, scale, (sw, sh), (cw, ch))?;
        let raw = self.model.run(input.view(), |out| {
            let n = out[0].shape()[1];
            let loc = out[0].as_slice().map(<[f32]>::to_vec);
            let conf = out[1].as_slice().map(<[f32]>::to_vec);
            let lmk = out[2].as_slice().map(<[f32]>::to_vec);
            (n, loc, conf, lmk)
        })?;
        let (n, Some(loc), Some(conf), Some(lmk)) = raw else {
            return Err(Error::Model { message: "detector returned non-contiguous outputs".into(), source: None });
        };
        let mut faces = decode(n, &loc, &conf, &lmk, (cw, ch), self.min_score);
        for face in &mut faces {
            let unmap = |x: f32, off: f32| x / scale - off;
            let p = pad as f32;
            face.bbox = BBox {
                x0: unmap(face.bbox.x0, p).max(0.0),
                y0: unmap(face.bbox.y0, p).max(0.0),
                x1: unmap(face.bbox.x1, p).min(img.width() as f32),
                y1: unmap(face.bbox.y1, p).min(img.height() as f32),
            };
            for pt in &mut face.landmarks {
                *pt = [unmap(pt[0], p), unmap(pt[1], p)];
            }
        }
        Ok(faces)
    }

    /// Resizes (with the border, if any) into a zero-mean BGR NCHW tensor; the
    /// canvas right and bottom of the picture hold the mean, i.e. zeros.
    fn tensor(
        &self,
        img: &RgbImage,
        pad: u32,
        scale: f32,
        (sw, sh): (u32, u32),
        (cw, ch): (u32, u32),
    ) -> Result<Array4<f32>> {
        let scaled_pad = (pad as f32 * scale).round() as u32;
        let (iw, ih) = (
            ((img.width() as f32 * scale).round() as u32).clamp(1, sw),
            ((img.height() as f32 * scale).round() as u32).clamp(1, sh),
        );
        let resized = resize_rgb(img, iw, ih)?;
        let mut t = Array4::<f32>::zeros((1, 3, ch as usize, cw as usize));
        // Edge-replicated border: a flat grey frame around a tight crop looks
        // less like a face edge than black does.
        let (ox, oy) = (scaled_pad.min(cw - iw), scaled_pad.min(ch - ih));
        let bw = if pad > 0 { (iw + 2 * scaled_pad).min(cw) } else { iw };
        let bh = if pad > 0 { (ih + 2 * scaled_pad).min(ch) } else { ih };
        for y in 0..bh {
            let sy = y.saturating_sub(oy).min(ih - 1);
            for x in 0..bw {
                let sx = x.saturating_sub(ox).min(iw - 1);
                let px = resized.get_pixel(sx, sy).0;
                for (c, &rgb_index) in [2usize, 1, 0].iter().enumerate() {
                    t[[0, c, y as usize, x as usize]] = px[rgb_index] as f32 - MEAN_BGR[c];
                }
            }
        }
        Ok(t)
    }
}

/// A fast, good-quality resize (convolution, bilinear filter) of an RGB picture.
pub fn resize_rgb(img: &RgbImage, w: u32, h: u32) -> Result<RgbImage> {
    if img.width() == w && img.height() == h {
        return Ok(img.clone());
    }
    let src = ImageRef::new(img.width(), img.height(), img.as_raw(), PixelType::U8x3)
        .map_err(|e| Error::output("resize", e))?;
    let mut dst = FirImage::new(w, h, PixelType::U8x3);
    Resizer::new().resize(&src, &mut dst, &ResizeOptions::new()).map_err(|e| Error::output("resize", e))?;
    RgbImage::from_raw(w, h, dst.into_vec()).ok_or_else(|| Error::output("resize", "buffer of the wrong size"))
}

/// Turns anchor-relative network outputs into faces (canvas pixels), with
/// non-maximum suppression.
fn decode(n: usize, loc: &[f32], conf: &[f32], lmk: &[f32], (cw, ch): (u32, u32), min_score: f32) -> Vec<Face> {
    let mut faces = Vec::new();
    let mut index = 0usize;
    for (stride, sizes) in STRIDES.iter().zip(ANCHOR_SIZES) {
        let (nx, ny) = ((cw as usize).div_ceil(*stride), (ch as usize).div_ceil(*stride));
        for gy in 0..ny {
            for gx in 0..nx {
                for size in sizes {
                    let i = index;
                    index += 1;
                    if i >= n {
                        break;
                    }
                    let score = conf[i * 2 + 1];
                    if score < min_score {
                        continue;
                    }
                    let (ax, ay) = ((gx as f32 + 0.5) * *stride as f32, (gy as f32 + 0.5) * *stride as f32);
                    let l = &loc[i * 4..i * 4 + 4];
                    let cx = ax + l[0] * VARIANCE[0] * size;
                    let cy = ay + l[1] * VARIANCE[0] * size;
                    let bw = size * (l[2] * VARIANCE[1]).exp();
                    let bh = size * (l[3] * VARIANCE[1]).exp();
                    let mut landmarks: Landmarks = [[0.0; 2]; 5];
                    for (k, pt) in landmarks.iter_mut().enumerate() {
                        let m = &lmk[i * 10 + k * 2..i * 10 + k * 2 + 2];
                        *pt = [ax + m[0] * VARIANCE[0] * size, ay + m[1] * VARIANCE[0] * size];
                    }
                    faces.push(Face {
                        bbox: BBox { x0: cx - bw / 2.0, y0: cy - bh / 2.0, x1: cx + bw / 2.0, y1: cy + bh / 2.0 },
                        score,
                        landmarks,
                        quality: None,
                        embedding: None,
                    });
                }
            }
        }
    }
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::new();
    for face in faces {
        if kept.iter().all(|k| k.bbox.iou(&face.bbox) <= NMS_IOU) {
            kept.push(face);
        }
    }
    kept
}
