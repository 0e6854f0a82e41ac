//! Where frames come from: the webcam (nokhwa, V4L), or a folder of photos
//! played as camera frames so that the whole kiosk runs without a camera.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::settings::within;
use crate::vision::decode::{is_image_path, load_image};

#[derive(Debug, Clone)]
pub struct Frame {
    pub image: Arc<RgbImage>,
    /// Counts frames from 0 in the order the source delivered them.
    pub index: u64,
    pub captured: Instant,
}

/// Not `Send`: a webcam handle must stay on the thread that opened it.
pub trait FrameSource {
    /// The next frame, waiting for it as a camera would; None when a finite
    /// source has played its last frame.
    fn next_frame(&mut self) -> Result<Option<Frame>>;
    fn describe(&self) -> String;
}

/// The `[camera]` settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CameraConfig {
    /// V4L device index (`kiosk cameras` lists them).
    pub device: u32,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl Default for CameraConfig {
    fn default() -> Self {
        Self { device: 0, width: 640, height: 480, fps: 30 }
    }
}

impl CameraConfig {
    pub fn check(&self) -> Result<(), String> {
        within("camera.width", self.width, 160..=7680)?;
        within("camera.height", self.height, 120..=4320)?;
        within("camera.fps", self.fps, 1..=240)
    }
}

/// The images of a folder in name order, one every 1/fps seconds.
pub struct FolderSource {
    dir: PathBuf,
    files: Vec<PathBuf>,
    position: usize,
    interval: Duration,
    next_due: Option<Instant>,
    index: u64,
}

impl FolderSource {
    pub fn open(dir: &Path, fps: f32) -> Result<Self> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::Camera {
            message: format!("frame folder {}: {e} (give --frames a folder of images)", dir.display()),
            source: Some(e.into()),
        })?;
        let mut files: Vec<PathBuf> =
            entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file() && is_image_path(p)).collect();
        files.sort();
        if files.is_empty() {
            return Err(Error::Camera {
                message: format!("frame folder {} holds no images (.jpg, .png, ...)", dir.display()),
                source: None,
            });
        }
        let fps = if fps.is_finite() && fps > 0.0 { fps } else { 30.0 };
        Ok(Self {
            dir: dir.to_path_buf(),
            files,
            position: 0,
            interval: Duration::from_secs_f32(1.0 / fps),
            next_due: None,
            index: 0,
        })
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl FrameSource for FolderSource {
    fn next_frame(&mut self) -> Result<Option<Frame>> {
        while let Some(path) = self.files.get(self.position) {
            self.position += 1;
            let due = self.next_due.unwrap_or_else(Instant::now);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            self.next_due = Some(due.max(Instant::now() - self.interval) + self.interval);
            match load_image(path) {
                Ok(image) => {
                    let frame = Frame { image: Arc::new(image), index: self.index, captured: Instant::now() };
                    self.index += 1;
                    return Ok(Some(frame));
                }
                // A damaged frame is what a camera glitch looks like: skip it.
                Err(e) => tracing::warn!("skipping frame: {e}"),
            }
        }
        Ok(None)
    }

    fn describe(&self) -> String {
        format!("{} images from {}", self.files.len(), self.dir.display())
    }
}

/// A V4L webcam.
pub struct Webcam {
    camera: nokhwa::Camera,
    name: String,
    index: u64,
}

impl Webcam {
    pub fn open(cfg: &CameraConfig) -> Result<Self> {
        use nokhwa::pixel_format::RgbFormat;
        use nokhwa::utils::{CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution};
        let wanted = CameraFormat::new(Resolution::new(cfg.width, cfg.height), FrameFormat::MJPEG, cfg.fps);
        let format = RequestedFormat::new::<RgbFormat>(RequestedFormatType::Closest(wanted));
        let no_camera = |e: nokhwa::NokhwaError| Error::Camera {
            message: format!(
                "no camera at device {} ({e}). Plug a USB camera in, check `kiosk cameras`, or set camera.device in the settings.",
                cfg.device
            ),
            source: Some(e.into()),
        };
        let mut camera = nokhwa::Camera::new(CameraIndex::Index(cfg.device), format).map_err(no_camera)?;
        camera.open_stream().map_err(no_camera)?;
        let name = camera.info().human_name();
        Ok(Self { camera, name, index: 0 })
    }
}

impl FrameSource for Webcam {
    fn next_frame(&mut self) -> Result<Option<Frame>> {
        let lost = |e: nokhwa::NokhwaError| Error::Camera {
            message: format!("camera {}: {e}", self.name),
            source: Some(e.into()),
        };
        let buffer = self.camera.frame().map_err(lost)?;
        let decoded = buffer.decode_image::<nokhwa::pixel_format::RgbFormat>().map_err(lost)?;
        let (w, h) = decoded.dimensions();
        let image = RgbImage::from_raw(w, h, decoded.into_raw()).ok_or_else(|| Error::Camera {
            message: format!("camera {}: a frame of the wrong size", self.name),
            source: None,
        })?;
        let frame = Frame { image: Arc::new(image), index: self.index, captured: Instant::now() };
        self.index += 1;
        Ok(Some(frame))
    }

    fn describe(&self) -> String {
        format!("camera {}", self.name)
    }
}

/// The cameras attached, as "index: name".
pub fn list_cameras() -> Result<Vec<String>> {
    let cameras = nokhwa::query(nokhwa::utils::ApiBackend::Auto)
        .map_err(|e| Error::Camera { message: format!("cannot list cameras: {e}"), source: Some(e.into()) })?;
    Ok(cameras.iter().map(|c| format!("{}: {} ({})", c.index(), c.human_name(), c.description())).collect())
}
