//! A camera's frames one after another, where each frame says where to look
//! in the next: a frame identical to the last one (a frozen camera, a still
//! picture played as frames) is not analysed again, and between full-frame
//! detections the detector looks only around the face it last found.

use image::RgbImage;

use crate::error::Result;
use crate::vision::detect::Source;
use crate::vision::engine::{Engine, Scene};

/// A whole frame is searched at least this often: someone stepping in beside
/// the face being followed is seen within this many frames.
const WHOLE_FRAME_EVERY: u32 = 5;

#[derive(Default)]
pub struct Follow {
    last: Option<(RgbImage, Scene)>,
    /// Frames analysed since the last whole-frame detection.
    since_whole: u32,
}

impl Follow {
    /// The scene of `frame`, as `Engine::analyze_main` would find it.
    pub fn analyze(&mut self, engine: &Engine, frame: &RgbImage) -> Result<Scene> {
        if let Some((before, scene)) = &self.last
            && before == frame
        {
            return Ok(scene.clone());
        }
        let near = self.last.as_ref().and_then(|(_, s)| s.main()).map(|f| f.bbox);
        let followed = match near {
            Some(b) if self.since_whole + 1 < WHOLE_FRAME_EVERY => Some(engine.analyze_near(frame, &b)?),
            _ => None,
        };
        let scene = match followed {
            // Lost around the last place: the whole frame, in this same frame.
            Some(s) if s.main().is_some() => {
                self.since_whole += 1;
                s
            }
            _ => {
                self.since_whole = 0;
                engine.analyze_main(frame, Source::CameraFrame)?
            }
        };
        match &mut self.last {
            Some((before, s)) if before.dimensions() == frame.dimensions() => {
                before.copy_from_slice(frame);
                *s = scene.clone();
            }
            _ => self.last = Some((frame.clone(), scene.clone())),
        }
        Ok(scene)
    }
}
