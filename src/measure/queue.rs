//! The queue at the door, simulated on real photos: people walk up one after
//! another, stand in front of the camera with the small changes of a real
//! camera (position, scale, light, blur, JPEG noise), and step aside once
//! greeted, sent to the code screen, or after a few seconds without a
//! verdict (to the search lane). The next person steps up at once, half the
//! time into the very spot the last one left. Enrolled delegates (seen on
//! photos other than their enrolment photo) alternate with strangers.
//!
//! Time is simulated: frames come at 30 per second, and the kiosk takes the
//! newest frame whenever it has finished the last one, as the live kiosk
//! does; how long each frame takes to process is measured for real.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use image::{Rgb, RgbImage, imageops};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::base::stats::percentile;
use crate::capture::Frame;
use crate::checkin::Settings;
use crate::checkin::station::{Event, Station};
use crate::error::{Error, Result};
use crate::measure::bench::through_jpeg;
use crate::secretariat::badges::{BadgeKey, issue};
use crate::secretariat::enroll::{audit_gallery, enroll};
use crate::secretariat::roster::{Entry, Roster};
use crate::store::{Delegate, Store, percent};
use crate::vision::decode::{image_files, load_image};
use crate::vision::detect::resize_rgb;
use crate::vision::engine::Engine;
use crate::vision::qr::Modules;

const SESSION: &str = "Phiên hàng đợi";

const FPS: f64 = 30.0;
/// How long someone waits without a verdict before they turn to the search lane.
const PATIENCE_S: f64 = 3.0;
/// How long a greeted person takes to step aside.
const STEP_ASIDE_S: f64 = 0.5;

/// One person of the queue: their photos, their code if enrolled, and the
/// QR code of the badge they hold up, if any (their own, or a stolen one).
struct Walker {
    photos: Vec<PathBuf>,
    code: Option<String>,
    badge: Option<String>,
}

#[derive(Debug, Default)]
pub struct QueueReport {
    pub gallery: usize,
    /// The match threshold the kiosk decided with: the gallery's calibrated
    /// one, unless the settings set one. The first pass moves with it.
    pub threshold: f32,
    pub delegates: usize,
    pub strangers: usize,
    pub checked_in: usize,
    pub asked_code: usize,
    /// Delegates the liveness check asked to turn their head (a photo cannot).
    pub challenged: usize,
    /// Delegates the liveness check took for a picture.
    pub not_live: usize,
    pub to_search: usize,
    pub wrong_delegate: usize,
    pub stranger_accepted: usize,
    /// Strangers holding up a badge taken from a delegate not in the queue.
    pub stolen_badges: usize,
    pub stolen_accepted: usize,
    pub greeted_twice: usize,
    /// Face to welcome, in ms, for each check-in.
    pub latencies_ms: Vec<f64>,
    /// The liveness check's time for each check-in, in ms.
    pub liveness_ms: Vec<f64>,
    /// Time the delegates (not the strangers) spent in front of the kiosk.
    pub minutes: f64,
}

impl QueueReport {
    pub fn per_minute(&self) -> f64 {
        if self.minutes > 0.0 { self.checked_in as f64 / self.minutes } else { 0.0 }
    }
}

impl fmt::Display for QueueReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "queue: {} delegates and {} strangers in turn, gallery of {}, threshold {:.3}",
            self.delegates, self.strangers, self.gallery, self.threshold
        )?;
        writeln!(
            f,
            "  checked in on the first pass: {} ({:.1}%)",
            self.checked_in,
            percent(self.checked_in, self.delegates)
        )?;
        writeln!(f, "  asked for a code: {} ({:.1}%)", self.asked_code, percent(self.asked_code, self.delegates))?;
        writeln!(
            f,
            "  liveness: asked to turn the head {} ({:.1}%), taken for a picture {} ({:.1}%)",
            self.challenged,
            percent(self.challenged, self.delegates),
            self.not_live,
            percent(self.not_live, self.delegates)
        )?;
        writeln!(f, "  sent to the search lane: {} ({:.1}%)", self.to_search, percent(self.to_search, self.delegates))?;
        writeln!(
            f,
            "  wrong delegate: {}; stranger accepted: {}; greeted twice: {}",
            self.wrong_delegate, self.stranger_accepted, self.greeted_twice
        )?;
        if self.stolen_badges > 0 {
            writeln!(f, "  strangers with a stolen badge: {}, accepted: {}", self.stolen_badges, self.stolen_accepted)?;
        }
        let (p50, p95) = (percentile(&self.latencies_ms, 0.5), percentile(&self.latencies_ms, 0.95));
        writeln!(f, "  face to welcome: p50 {p50:.0} ms, p95 {p95:.0} ms")?;
        let (l50, l95) = (percentile(&self.liveness_ms, 0.5), percentile(&self.liveness_ms, 0.95));
        writeln!(f, "  liveness check per check-in: p50 {l50:.1} ms, p95 {l95:.1} ms")?;
        write!(f, "  delegates per minute (their own time at the kiosk): {:.1}", self.per_minute())
    }
}

/// Someone to enrol: a name, the enrolment photo, the photos the queue shows of them.
type Enrollee = (String, PathBuf, Vec<PathBuf>);

/// `dir/<set>/{gallery,probes,impostors}` of `../shared/faces`: the enrolled
/// people with their probe photos, and the strangers' photos.
fn people(faces: &Path) -> (Vec<Enrollee>, Vec<Vec<PathBuf>>) {
    let mut enrolled = Vec::new();
    let mut strangers = Vec::new();
    // Not asian_dev: its tight 160-pixel crops, blown up, are not what a camera at the door sees.
    for set in ["dev", "eastasia_dev"] {
        let root = faces.join(set);
        for photo in image_files(&[root.join("gallery")]) {
            let id = photo.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let probes = image_files(&[root.join("probes").join(&id)]);
            enrolled.push((format!("{set}/{id}"), photo, probes));
        }
        let Ok(dirs) = std::fs::read_dir(root.join("impostors")) else { continue };
        let mut dirs: Vec<PathBuf> = dirs.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        dirs.sort();
        for dir in dirs {
            let photos = image_files(std::slice::from_ref(&dir));
            // Strangers with several photos fill the gallery as delegates too; one photo is theirs to enrol.
            match photos.as_slice() {
                [] => {}
                [_] => strangers.push(photos),
                [first, rest @ ..] => {
                    let id = dir.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                    enrolled.push((format!("{set}/{id}"), first.clone(), rest.to_vec()));
                }
            }
        }
    }
    (enrolled, strangers)
}

/// A camera frame of `photo` as seen at frame `k` of a person's stay: the
/// face a little to one side or the other, nearer or farther, lighter or
/// darker, sometimes blurred, always through a JPEG encoder.
fn frame_of(photo: &RgbImage, spot: (i64, i64), k: u64, seed: u64, badge: Option<&RgbImage>) -> Result<RgbImage> {
    let mut rng = StdRng::seed_from_u64(seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let height = (330.0 * rng.random_range(0.9..1.1)) as u32;
    let width = ((photo.width() as f64 * height as f64 / photo.height() as f64).round() as u32).max(1);
    let mut face = resize_rgb(photo, width, height)?;
    let gain = rng.random_range(0.85..1.15);
    face.pixels_mut().for_each(|p| p.0.iter_mut().for_each(|c| *c = (*c as f64 * gain).min(255.0) as u8));
    if rng.random_bool(0.15) {
        face = imageops::blur(&face, 1.2);
    }
    let mut frame = RgbImage::from_pixel(640, 480, Rgb([118, 118, 118]));
    let (dx, dy) = (rng.random_range(-12..=12), rng.random_range(-8..=8));
    let x = (640 - width as i64) / 2 + spot.0 + dx;
    let y = (480 - height as i64) / 2 + spot.1 + dy;
    imageops::overlay(&mut frame, &face, x, y);
    if let Some(code) = badge {
        // Held up beside the face, on the side away from it, moving a little with the hand.
        let bx = if spot.0 > 0 { 8 } else { 632 - code.width() as i64 } + rng.random_range(-6..=6);
        imageops::overlay(&mut frame, code, bx, 150 + rng.random_range(-10..=10));
    }
    through_jpeg(&frame, rng.random_range(70..=92))
}

/// A kiosk with its congress enrolled, and the queue that walks past it,
/// as often as asked (`kiosk bench --soak` walks it for many minutes).
/// The queue has `length` people, delegates and strangers in turn, and the
/// gallery up to `gallery` real people of `faces`. With `badges`, every
/// delegate holds up their own badge, and every other stranger a badge
/// taken from a delegate who is not in the queue.
pub struct Hall {
    station: Station,
    session: Arc<RwLock<String>>,
    /// A second handle on the kiosk's file, to open sessions with.
    desk: Store,
    queue: Vec<Walker>,
    rng: StdRng,
    seed: u64,
    gallery: usize,
    _tmp: crate::base::scratch::Scratch,
}

impl Hall {
    pub fn open(
        settings: &Settings,
        faces: &Path,
        gallery: usize,
        length: usize,
        seed: u64,
        badges: bool,
    ) -> Result<Hall> {
        let (mut enrolled, strangers) = people(faces);
        if enrolled.is_empty() || strangers.is_empty() {
            return Err(Error::Input(format!(
                "no labelled face photos under {} (it needs dev/ or eastasia_dev/ of ../shared/faces)",
                faces.display()
            )));
        }
        let mut rng = StdRng::seed_from_u64(seed);
        enrolled.truncate(gallery);
        let tmp = crate::base::scratch::folder()?;
        let mut store = Store::open(&tmp.path().join("queue.db"))?;
        let roster = Roster {
            entries: enrolled
                .iter()
                .enumerate()
                .map(|(i, (id, photo, _))| Entry {
                    line: i + 2,
                    photos: vec![photo.to_string_lossy().into_owned()],
                    consent: true,
                    delegate: Delegate { code: format!("Q{i:04}"), name: id.clone(), ..Delegate::default() },
                })
                .collect(),
            ..Roster::default()
        };
        let engine = Engine::load(&settings.engine.for_batch())?;
        enroll(&engine, &mut store, &roster, Path::new("/"), &settings.quality, || {})?;
        store.transaction(|tx| tx.add_session(SESSION, None, None))?;
        let kind = engine.embedder();
        drop(engine);
        audit_gallery(&mut store, kind, &settings.decide)?;
        let enrolled_codes: std::collections::HashSet<String> =
            store.gallery(kind.model_id(), kind.dim())?.0.into_iter().map(|d| d.code).collect();

        // The queue: delegates with probe photos (never their enrolment photo), strangers between them.
        let mut delegates: Vec<Walker> = enrolled
            .iter()
            .enumerate()
            .filter(|(i, (_, _, probes))| !probes.is_empty() && enrolled_codes.contains(&format!("Q{i:04}")))
            .map(|(i, (_, _, probes))| Walker { photos: probes.clone(), code: Some(format!("Q{i:04}")), badge: None })
            .collect();
        let mut outsiders: Vec<Walker> =
            strangers.into_iter().map(|photos| Walker { photos, code: None, badge: None }).collect();
        use rand::seq::SliceRandom;
        delegates.shuffle(&mut rng);
        outsiders.shuffle(&mut rng);
        let mut queue = Vec::new();
        let (mut d, mut s) = (delegates.into_iter(), outsiders.into_iter());
        while queue.len() < length {
            let next = if queue.len() % 2 == 0 { d.next().or_else(|| s.next()) } else { s.next().or_else(|| d.next()) };
            match next {
                Some(w) => queue.push(w),
                None => break,
            }
        }

        if badges {
            let key = BadgeKey::open_or_create(&tmp.path().join("badge.key"))?;
            let issued = issue(&mut store, &key, &[])?;
            let text = |code: &str| issued.iter().find(|b| b.code == code).map(|b| b.token.qr_text());
            let in_queue: std::collections::HashSet<String> = queue.iter().filter_map(|w| w.code.clone()).collect();
            let mut spare = issued.iter().filter(|b| !in_queue.contains(&b.code)).map(|b| b.token.qr_text());
            let mut strangers_seen = 0;
            for walker in &mut queue {
                match &walker.code {
                    Some(code) => walker.badge = text(code),
                    None => {
                        strangers_seen += 1;
                        if strangers_seen % 2 == 0 {
                            walker.badge = spare.next();
                        }
                    }
                }
            }
        }
        let session = Arc::new(RwLock::new(SESSION.to_string()));
        let desk = Store::open(&tmp.path().join("queue.db"))?;
        let station = Station::new(settings, store, session.clone())?;
        Ok(Hall { station, session, desk, queue, rng, seed, gallery: enrolled_codes.len(), _tmp: tmp })
    }

    /// Sends the next pass to a new session, so that it records afresh.
    pub fn new_session(&mut self, name: &str) -> Result<()> {
        self.desk.transaction(|tx| tx.add_session(name, None, None))?;
        *self.session.write().unwrap_or_else(|p| p.into_inner()) = name.to_string();
        Ok(())
    }

    /// One pass of the whole queue.
    pub fn walk(&mut self) -> Result<QueueReport> {
        let (queue, station, rng, seed) = (&self.queue, &mut self.station, &mut self.rng, self.seed);
        let mut report = QueueReport {
            gallery: self.gallery,
            threshold: station.threshold(),
            delegates: queue.iter().filter(|w| w.code.is_some()).count(),
            strangers: queue.iter().filter(|w| w.code.is_none()).count(),
            stolen_badges: queue.iter().filter(|w| w.code.is_none() && w.badge.is_some()).count(),
            ..QueueReport::default()
        };
        let mut greeted = std::collections::HashSet::new();
        let (mut now, mut spot) = (0.0f64, (0i64, 0i64));
        for (n, walker) in queue.iter().enumerate() {
            let photo = load_image(&walker.photos[rng.random_range(0..walker.photos.len())])?;
            let badge = match &walker.badge {
                Some(text) => {
                    let code = image::DynamicImage::ImageLuma8(Modules::encode(text)?.image(4)).to_rgb8();
                    Some(imageops::resize(&code, 132, 132, imageops::FilterType::Triangle))
                }
                None => None,
            };
            if rng.random_bool(0.5) {
                spot = (rng.random_range(-90..=90), rng.random_range(-30..=30));
            }
            let start = now;
            let person_seed = seed.wrapping_mul(31).wrapping_add(n as u64);
            let outcome = loop {
                if now - start > PATIENCE_S {
                    break None;
                }
                let k = (now * FPS).floor() as u64;
                let image = frame_of(&photo, spot, k, person_seed, badge.as_ref())?;
                let frame = Frame { image: Arc::new(image), index: k, captured: Instant::now() };
                let began = Instant::now();
                let update = station.process(&frame)?;
                // The frame was captured at k / FPS; the kiosk is free again after processing it.
                now = now.max(k as f64 / FPS) + began.elapsed().as_secs_f64();
                if let Some(event) = update.event
                    && !matches!(event, Event::Unknown)
                {
                    break Some(event);
                }
                // The next frame the kiosk can take is the newest one by then.
                now = now.max((k + 1) as f64 / FPS);
            };
            match (&outcome, &walker.code) {
                (Some(Event::Welcome { delegate, liveness_ms, .. }), Some(code)) if &delegate.code == code => {
                    report.checked_in += 1;
                    report.latencies_ms.push((now - start) * 1000.0);
                    report.liveness_ms.push(*liveness_ms as f64);
                    if !greeted.insert(code.clone()) {
                        report.greeted_twice += 1;
                    }
                }
                (Some(Event::Welcome { .. }), Some(_)) => report.wrong_delegate += 1,
                (Some(Event::Welcome { .. }), None) => {
                    report.stranger_accepted += 1;
                    report.stolen_accepted += walker.badge.is_some() as usize;
                }
                (Some(Event::AskCode { .. }), Some(_)) => report.asked_code += 1,
                (Some(Event::Challenge), Some(_)) => report.challenged += 1,
                (Some(Event::NotLive), Some(_)) => report.not_live += 1,
                (_, Some(_)) => report.to_search += 1,
                (_, None) => {}
            }
            now += if matches!(outcome, Some(Event::Welcome { .. })) { STEP_ASIDE_S } else { 0.0 };
            if walker.code.is_some() {
                report.minutes += (now - start) / 60.0;
            }
        }
        Ok(report)
    }
}
