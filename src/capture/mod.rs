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
    pub device: Device,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl Default for CameraConfig {
    fn default() -> Self {
        Self { device: Device::Index(0), width: 640, height: 480, fps: 30 }
    }
}

/// Which camera: a V4L index, or a `/dev/v4l/by-id/…` path, which names the
/// camera itself and so survives re-plugging it into another USB port
/// (the index does not: it follows the order cameras were found in).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Device {
    Index(u32),
    Path(PathBuf),
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Device::Index(i) => write!(f, "{i}"),
            Device::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

impl Device {
    /// The V4L index now; a path is looked up at each opening.
    pub fn index(&self) -> Result<u32> {
        match self {
            Device::Index(i) => Ok(*i),
            Device::Path(p) => video_index(p).ok_or_else(|| Error::Camera {
                message: format!(
                    "no camera at {} (unplugged, or another camera's name). `kiosk cameras` lists the cameras with their /dev/v4l/by-id names.",
                    p.display()
                ),
                source: None,
            }),
        }
    }
}

/// N of the `/dev/videoN` a path is, or links to.
fn video_index(path: &Path) -> Option<u32> {
    let real = std::fs::canonicalize(path).ok()?;
    real.file_name()?.to_str()?.strip_prefix("video")?.parse().ok()
}

/// The cameras' stable names, `/dev/v4l/by-id/…`, with the index each is now.
fn by_id() -> Vec<(u32, PathBuf)> {
    let Ok(entries) = std::fs::read_dir("/dev/v4l/by-id") else { return Vec::new() };
    let mut found: Vec<(u32, PathBuf)> =
        entries.filter_map(|e| e.ok()).filter_map(|e| Some((video_index(&e.path())?, e.path()))).collect();
    found.sort();
    found
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
    repeat: bool,
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
            repeat: false,
        })
    }

    /// Starts again after the last image, for ever: a demo camera, or a
    /// person who stays in front of it while staff work the screen.
    pub fn repeating(self) -> Self {
        Self { repeat: true, ..self }
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
        loop {
            // Around again only if a pass gave a frame: a folder of damaged
            // images would otherwise spin for ever.
            if self.position == self.files.len() && self.repeat && self.index > 0 {
                self.position = 0;
            }
            let Some(path) = self.files.get(self.position) else { return Ok(None) };
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
        let index = cfg.device.index()?;
        let mut camera = nokhwa::Camera::new(CameraIndex::Index(index), format).map_err(no_camera)?;
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

/// The cameras attached, as "index: name (description)", each followed by
/// its `/dev/v4l/by-id` names, which `camera.device` takes too.
pub fn list_cameras() -> Result<Vec<String>> {
    let cameras = nokhwa::query(nokhwa::utils::ApiBackend::Auto)
        .map_err(|e| Error::Camera { message: format!("cannot list cameras: {e}"), source: Some(e.into()) })?;
    let stable = by_id();
    Ok(cameras
        .iter()
        .map(|c| {
            let names = stable.iter().filter(|(i, _)| c.index().as_index().ok() == Some(*i));
            let names: Vec<String> = names.map(|(_, p)| format!("\n    device = \"{}\"", p.display())).collect();
            format!("{}: {} ({}){}", c.index(), c.human_name(), c.description(), names.concat())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_is_an_index_or_a_stable_name_looked_up_when_opened() {
        let by_index: CameraConfig = toml::from_str("device = 2").unwrap();
        assert_eq!(by_index.device.index().unwrap(), 2);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("video7"), b"").unwrap();
        let link = dir.path().join("usb-Logitech_HD_Webcam-video-index0");
        std::os::unix::fs::symlink(dir.path().join("video7"), &link).unwrap();
        let by_name: CameraConfig = toml::from_str(&format!("device = \"{}\"", link.display())).unwrap();
        assert_eq!(by_name.device.index().unwrap(), 7);
        // Unplugged: the name no longer leads to a device, and the error says where to look.
        std::fs::remove_file(dir.path().join("video7")).unwrap();
        let e = by_name.device.index().unwrap_err().to_string();
        assert!(e.contains("kiosk cameras"), "{e}");
    }

    #[test]
    fn a_repeating_folder_plays_again_unless_no_image_in_it_opens() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.png", "b.png"] {
            RgbImage::new(8, 8).save(dir.path().join(name)).unwrap();
        }
        let mut once = FolderSource::open(dir.path(), 1000.0).unwrap();
        let played = std::iter::from_fn(|| once.next_frame().unwrap()).count();
        assert_eq!(played, 2);
        let mut again = FolderSource::open(dir.path(), 1000.0).unwrap().repeating();
        let indices: Vec<u64> = (0..5).map(|_| again.next_frame().unwrap().unwrap().index).collect();
        assert_eq!(indices, [0, 1, 2, 3, 4]);
        // Damaged images only: the end, not a spin for ever.
        let broken = tempfile::tempdir().unwrap();
        std::fs::write(broken.path().join("a.jpg"), b"not a picture").unwrap();
        let mut broken = FolderSource::open(broken.path(), 1000.0).unwrap().repeating();
        assert!(broken.next_frame().unwrap().is_none());
    }
}
