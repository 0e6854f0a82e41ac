//! Speed and memory of every stage on this machine, measured on real photos
//! (`kiosk bench`); the README's figures come from here.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::{DynamicImage, Rgb, RgbImage, imageops};
use rand::{Rng, SeedableRng};

use crate::base::scratch::{self, Scratch};
use crate::base::stats::{memory_mib, percentile, reset_peak_memory};
use crate::checkin::staff::session_papers;
use crate::error::{Error, Result};
use crate::matching::gallery::Gallery;
use crate::secretariat::EventConfig;
use crate::secretariat::badge_sheet::{Card, Layout, Sheet};
use crate::secretariat::enroll::{Outcome, enroll};
use crate::secretariat::export::{Paper, write_csv, write_xlsx};
use crate::secretariat::pdf;
use crate::secretariat::roster::{Entry, Roster};
use crate::store::badges::{TOKEN_BYTES, Token};
use crate::store::{Delegate, Method, Store};
use crate::text::Lang;
use crate::vision::align::{ARCFACE_112, align};
use crate::vision::decode::{decode_image, image_files, load_image};
use crate::vision::detect::{Source, resize_rgb};
use crate::vision::engine::{Engine, EngineConfig};
use crate::vision::face::l2_normalize;
use crate::vision::follow::Follow;
use crate::vision::liveness::Liveness;
use crate::vision::qr::{Modules, QUIET_ZONE};
use crate::vision::quality::QualityConfig;

#[derive(Debug, Default)]
pub struct Report {
    pub threads: usize,
    pub model: String,
    pub rows: Vec<(String, Timing)>,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub median: Duration,
    pub p95: Duration,
    pub runs: usize,
}

/// Runs `f` a few times to warm up, then `runs` times.
fn time<T>(runs: usize, mut f: impl FnMut() -> Result<T>) -> Result<Timing> {
    for _ in 0..3.min(runs) {
        f()?;
    }
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(f()?);
        samples.push(t.elapsed());
    }
    samples.sort();
    let p95 = samples[((runs as f64 * 0.95).ceil() as usize).clamp(1, runs) - 1];
    Ok(Timing { median: samples[runs / 2], p95, runs })
}

/// A 640x480 camera-like frame: the photo scaled to the frame height on a grey background.
pub fn camera_frame(photo: &RgbImage, height: u32) -> Result<RgbImage> {
    let w = (photo.width() as f32 * height as f32 / photo.height() as f32).round() as u32;
    let scaled = resize_rgb(photo, w.max(1), height)?;
    let mut frame = RgbImage::from_pixel(640, 480, Rgb([118, 118, 118]));
    imageops::overlay(&mut frame, &scaled, (640 - w as i64) / 2, (480 - height as i64) / 2);
    Ok(frame)
}

/// A camera frame of someone holding up a badge: the photo on the left,
/// 360 px high, and the QR code of `qr_text` (with its quiet zone) `qr_px`
/// wide on the right, as a webcam sees a badge at arm's length.
pub fn badge_frame(photo: &RgbImage, qr_text: &str, qr_px: u32) -> Result<RgbImage> {
    let w = ((photo.width() as f32 * 360.0 / photo.height() as f32).round() as u32).min(640 - qr_px - 30);
    let scaled = resize_rgb(photo, w.max(1), 360)?;
    let mut frame = RgbImage::from_pixel(640, 480, Rgb([118, 118, 118]));
    imageops::overlay(&mut frame, &scaled, 10, 60);
    let modules = Modules::encode(qr_text)?;
    let code = DynamicImage::ImageLuma8(modules.image(1)).to_rgb8();
    let code = imageops::resize(&code, qr_px, qr_px, imageops::FilterType::Nearest);
    imageops::overlay(&mut frame, &code, 640 - qr_px as i64 - 10, (480 - qr_px as i64) / 2);
    Ok(frame)
}

/// How well the kiosk reads a badge held up to the camera, at one size of the code.
#[derive(Debug, Clone)]
pub struct QrRow {
    /// The code's width in the frame, without its quiet zone; 0: frames
    /// with no code at all (most frames at a kiosk), where `read` counts false reads.
    pub px: u32,
    pub frames: usize,
    pub read: usize,
    pub median_ms: f64,
    pub p95_ms: f64,
}

impl QrRow {
    /// `frames` read in `ms` milliseconds each, `read` of them as they should be.
    fn of(px: u32, read: usize, ms: &[f64]) -> QrRow {
        QrRow { px, frames: ms.len(), read, median_ms: percentile(ms, 0.5), p95_ms: percentile(ms, 0.95) }
    }
}

/// `frame` as a JPEG encoder at `quality` leaves it, as a camera's frames come.
pub fn through_jpeg(frame: &RgbImage, quality: u8) -> Result<RgbImage> {
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality)
        .encode_image(frame)
        .map_err(|e| Error::output("simulated frame", e))?;
    decode_image(&jpeg).map_err(|p| Error::Input(format!("simulated frame: {p}")))
}

/// A badge's code read from webcam-like frames made of real photos: for each
/// size of the code (its modules, without the quiet zone), `per_size` frames,
/// each with the code turned up to ±15°, blurred up to σ 1.2 and saved as
/// JPEG at quality 60–90, read on one core.
pub fn qr(faces: &Path, per_size: usize, seed: u64) -> Result<Vec<QrRow>> {
    let photos =
        face_photos(faces)?.iter().cycle().take(per_size).map(|p| load_image(p)).collect::<Result<Vec<_>>>()?;
    let read_ms = |frame: &RgbImage| {
        let t = Instant::now();
        (crate::vision::qr::read(frame), t.elapsed().as_secs_f64() * 1000.0)
    };
    let mut rows = Vec::new();
    let mut ms = Vec::with_capacity(per_size);
    let mut false_reads = 0;
    for photo in &photos {
        let (found, took) = read_ms(&camera_frame(photo, 360)?);
        false_reads += found.is_some() as usize;
        ms.push(took);
    }
    rows.push(QrRow::of(0, false_reads, &ms));
    // Every badge's text has the same length, so the same number of modules.
    let modules = Modules::encode(&Token([0; TOKEN_BYTES]).qr_text())?.width as u32;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for px in [60, 80, 100, 140, 200] {
        let (mut read, mut ms) = (0, Vec::with_capacity(per_size));
        for photo in &photos {
            let text = Token(rng.random()).qr_text();
            let angle = rng.random_range(-15.0f32..=15.0);
            let side = px * (modules + 2 * QUIET_ZONE as u32) / modules;
            let frame = badge_frame(photo, &text, side)?;
            let frame = turn_region(&frame, 640 - side - 10, (480 - side) / 2, side, angle);
            let frame = imageops::blur(&frame, rng.random_range(0.0f32..=1.2));
            let (found, took) = read_ms(&through_jpeg(&frame, rng.random_range(60..=90))?);
            ms.push(took);
            read += (found.as_deref() == Some(text.as_str())) as usize;
        }
        rows.push(QrRow::of(px, read, &ms));
    }
    Ok(rows)
}

/// The photos of `faces/gallery`, or of `faces` itself.
fn face_photos(faces: &Path) -> Result<Vec<PathBuf>> {
    let gallery = faces.join("gallery");
    let dir = if gallery.is_dir() { gallery } else { faces.to_path_buf() };
    let photos = if dir.is_dir() { image_files(&[dir]) } else { Vec::new() };
    if photos.is_empty() {
        return Err(Error::Input(format!(
            "no face photos in {}: pass --faces DIR with real face photos (e.g. ../shared/faces/dev)",
            faces.display()
        )));
    }
    Ok(photos)
}

/// The square at (x, y) of side `side`, turned by `degrees` about its centre
/// (what lies outside it stays): a badge held a little askew.
fn turn_region(img: &RgbImage, x: u32, y: u32, side: u32, degrees: f32) -> RgbImage {
    let mut out = img.clone();
    let (s, c) = degrees.to_radians().sin_cos();
    let (cx, cy) = (x as f32 + side as f32 / 2.0, y as f32 + side as f32 / 2.0);
    // The turned square's corners reach out by up to √2: cover that, filling with the background.
    let reach = (side as f32 * 0.75) as i64;
    for oy in -reach..=reach {
        for ox in -reach..=reach {
            let (dx, dy) = (cx + ox as f32, cy + oy as f32);
            if dx < 0.0 || dy < 0.0 || dx >= img.width() as f32 || dy >= img.height() as f32 {
                continue;
            }
            // Where this pixel comes from in the upright picture.
            let (sx, sy) = (cx + c * ox as f32 + s * oy as f32, cy - s * ox as f32 + c * oy as f32);
            let inside = |v: f32, lo: u32| v >= lo as f32 && v < (lo + side) as f32;
            let pixel = if inside(sx, x) && inside(sy, y) {
                *img.get_pixel(sx as u32, sy as u32)
            } else {
                Rgb([118, 118, 118])
            };
            out.put_pixel(dx as u32, dy as u32, pixel);
        }
    }
    out
}

pub fn run(engine_cfg: &EngineConfig, quality: &QualityConfig, faces: &Path, max_gallery: usize) -> Result<Report> {
    let photos = face_photos(faces)?;
    let start = Instant::now();
    let engine = Engine::load(engine_cfg)?;
    let photo = load_image(&photos[0])?;
    let first = engine.analyze_main(&photo, Source::Photo)?;
    let startup = start.elapsed();
    if first.main().is_none() {
        return Err(Error::Input(format!(
            "{}: no face found; use other photos for the benchmark",
            photos[0].display()
        )));
    }
    let mut report =
        Report { threads: engine_cfg.threads(), model: engine.embedder().model_id().into(), ..Report::default() };
    report.lines.push(format!("models loaded and first result: {:.0} ms", startup.as_secs_f64() * 1000.0));

    let jpeg = std::fs::read(&photos[0]).map_err(|e| Error::io(&photos[0], e))?;
    report.rows.push((
        format!("decode {}x{} JPEG", photo.width(), photo.height()),
        time(50, || decode_image(&jpeg).map_err(|p| Error::image(&photos[0], p)))?,
    ));
    let frame = camera_frame(&photo, 480)?;
    let frame_faces = engine.face_locations(&frame)?;
    let Some(face) = frame_faces.first().cloned() else {
        return Err(Error::Input("no face found in the synthetic 640x480 frame".into()));
    };
    report.rows.push(("align, one face".into(), time(200, || Ok(align(&frame, &face.landmarks, &ARCFACE_112)))?));
    let (_, small) = synthetic_gallery(1_000, engine.embedder().dim(), 1);
    let single = Engine::load(&EngineConfig { threads: 1, ..engine_cfg.clone() })?;
    let empty = RgbImage::from_pixel(640, 480, Rgb([118, 118, 118]));
    // A face held before the camera, moving a little (no two frames alike).
    let moving = (0..10).map(|i| camera_frame(&photo, 470 + i)).collect::<Result<Vec<_>>>()?;
    for (e, threads) in [(&engine, report.threads), (&single, 1)] {
        let mut one = vec![face.clone()];
        let (mut follow, mut next) = (Follow::default(), 0);
        let rows = [
            ("detect, 640x480 frame", time(30, || e.face_locations(&frame))?),
            ("empty 640x480 frame (nobody there)", time(30, || e.analyze_main(&empty, Source::CameraFrame))?),
            ("align + quality + embed, one face", time(30, || e.describe(&frame, &mut one))?),
            (
                "full pass: detect, align, embed, search 1k",
                time(30, || {
                    let scene = e.analyze_main(&frame, Source::CameraFrame)?;
                    Ok(scene.main().and_then(|f| f.embedding.as_ref()).map(|q| small.search(q, 2)))
                })?,
            ),
            (
                "full pass, face followed (the kiosk's frames)",
                time(30, || {
                    next += 1;
                    let scene = follow.analyze(e, &moving[next % moving.len()])?;
                    Ok(scene.main().and_then(|f| f.embedding.as_ref()).map(|q| small.search(q, 2)))
                })?,
            ),
        ];
        report.rows.extend(rows.into_iter().map(|(name, t)| (format!("{name} ({threads} thr.)"), t)));
    }
    let query =
        engine.analyze_main(&frame, Source::CameraFrame)?.main().and_then(|f| f.embedding.clone()).unwrap_or_default();
    let liveness = Liveness::load(&EngineConfig { threads: 1, ..engine_cfg.clone() })?;
    report
        .rows
        // What the kiosk spends on a clear decision: two frames, each model on one.
        .push((
            "liveness per decision: 2 frames, 1 model each (1 thr.)".into(),
            time(50, || liveness.score(&frame, &face.bbox))?,
        ));

    // The kiosk holds one engine, the liveness models and its gallery: its
    // peak is measured without the single-thread engine of the rows above.
    drop(single);
    reset_peak_memory();
    for size in [1_000usize, 100_000, 1_000_000].into_iter().filter(|&n| n <= max_gallery) {
        let (_, gallery) = synthetic_gallery(size, engine.embedder().dim(), 2);
        report.rows.push((format!("1:N search, {size} templates"), time(20, || Ok(gallery.search(&query, 2)))?));
    }
    if let Some(mib) = memory_mib("VmHWM") {
        let largest = [1_000usize, 100_000, 1_000_000].into_iter().filter(|&n| n <= max_gallery).max().unwrap_or(0);
        report.lines.push(format!(
            "peak memory of the kiosk's part (engine, liveness models, gallery of {largest} templates): {mib:.0} MiB"
        ));
    }

    // Enrolment throughput: a roster of the photos into a fresh SQLite file,
    // exactly as `kiosk enroll` does it (decode, detect, align, embed on all cores, store).
    let batch: Vec<PathBuf> = photos.iter().take(300).cloned().collect();
    let roster = Roster {
        entries: batch
            .iter()
            .enumerate()
            .map(|(i, p)| Entry {
                line: i + 2,
                photos: vec![p.to_string_lossy().into_owned()],
                consent: true,
                delegate: Delegate {
                    code: format!("B{i:05}"), name: format!("Đại biểu {i}"), ..Delegate::default()
                },
            })
            .collect(),
        ..Roster::default()
    };
    let tmp = scratch::folder()?;
    let mut store = Store::open(&tmp.path().join("bench.db"))?;
    reset_peak_memory();
    let batch_engine = Engine::load(&engine_cfg.for_batch())?;
    // From the first photo: loading the models once is not a cost per photo.
    let t = Instant::now();
    let reports = enroll(&batch_engine, &mut store, &roster, Path::new("/"), quality, || {})?;
    let per_photo = t.elapsed() / batch.len() as u32;
    report.lines.push(format!(
        "enrolment of {} photos into SQLite: {:.1} ms per photo, {:.0} photos/s ({} enrolled)",
        batch.len(),
        per_photo.as_secs_f64() * 1000.0,
        1.0 / per_photo.as_secs_f64(),
        reports.iter().filter(|r| r.outcome == Outcome::Enrolled).count()
    ));
    if let Some(mib) = memory_mib("VmHWM") {
        report.lines.push(format!("peak memory during the enrolment: {mib:.0} MiB"));
    }
    Ok(report)
}

/// A congress the size of a whole union in a fresh SQLite file: `n`
/// delegates in 63 delegations, two thirds present in `SESSION`.
fn synthetic_congress(n: usize) -> Result<(Scratch, Store)> {
    let tmp = scratch::folder()?;
    let mut store = Store::open(&tmp.path().join("scale.db"))?;
    let families = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"];
    let given =
        ["An", "Bình", "Cường", "Dũng", "Đức", "Hà", "Hùng", "Hương", "Lan", "Minh", "Ngọc", "Thảo", "Tuấn", "Yến"];
    let session = SESSION;
    store.transaction(|tx| {
        tx.add_session(session, None, None)?;
        for i in 0..n {
            let name = format!("{} Văn {}", families[i % families.len()], given[(i / 7) % given.len()]);
            let d = Delegate {
                code: format!("U{i:06}"),
                name,
                delegation: format!("Đoàn {:02}", i % 63),
                seat: i.to_string(),
                ..Delegate::default()
            };
            tx.upsert_delegate(&d)?;
            if i % 3 != 0 {
                tx.check_in(session, &d.code, Method::Face, "bench", None, None)?;
            }
        }
        Ok(())
    })?;
    Ok((tmp, store))
}

const SESSION: &str = "Phiên toàn thể";

/// The secretariat's side at the scale of a whole union (`synthetic_congress`):
/// stats, the exports and the lookalike audit.
pub fn secretariat(n: usize, dim: usize) -> Result<Vec<(String, Timing)>> {
    let (tmp, store) = synthetic_congress(n)?;
    let session = SESSION;
    let mut rows = vec![
        (format!("stats by delegation, {n} delegates"), time(5, || store.counts_by_delegation(session))?),
        (format!("attendance list sorted, {n} delegates"), time(3, || store.attendance_list(session))?),
    ];
    let read = session_papers(&store, None, session)?;
    let (list, zone) = (&read.rows, read.zone);
    rows.push((format!("export CSV, {n} rows"), time(3, || write_csv(&tmp.path().join("a.csv"), list, &zone, None))?));
    let event = EventConfig::default();
    let papers = read.papers(Lang::Vi, &event);
    rows.push((
        format!("export XLSX (list, summary, absent), {n} rows"),
        time(2, || write_xlsx(&tmp.path().join("a.xlsx"), &papers, Paper::List))?,
    ));
    let (_, gallery) = synthetic_gallery(n, dim, 3);
    rows.push((format!("lookalike audit, {n} templates"), time(1, || Ok(gallery.lookalikes(0.48)))?));
    Ok(rows)
}

/// The badges of `n` synthetic delegates (`synthetic_congress`) printed as
/// A6 sheets, each with its own photo (real faces of `faces`, made distinct)
/// and QR code: (files, bytes written, seconds).
pub fn badge_sheets(n: usize, faces: &Path) -> Result<(usize, u64, f64)> {
    let (tmp, store) = synthetic_congress(n)?;
    let mut thumbnails = Vec::new();
    for path in face_photos(faces)?.iter().take(50) {
        let img = load_image(path)?;
        let face = crate::vision::face::BBox { x0: 0.0, y0: 0.0, x1: img.width() as f32, y1: img.height() as f32 };
        thumbnails.push(crate::vision::decode::face_jpeg(&img, &face)?);
    }
    let key = crate::secretariat::badges::BadgeKey::open_or_create(&tmp.path().join("badge.key"))?;
    let delegates = store.delegates()?;
    let sheet = Sheet { event: "Đại hội Công đoàn — Congress", layout: Layout::A6, lang: Lang::Vi };
    let started = Instant::now();
    let card = |i: usize| -> Result<Card> {
        // A comment segment after the JPEG's start makes each delegate's photo a different file, as at a congress.
        let jpeg = &thumbnails[i % thumbnails.len()];
        let tag = format!("delegate {i}");
        let mut photo = jpeg[..2].to_vec();
        photo.extend_from_slice(&[0xFF, 0xFE, 0, (tag.len() + 2) as u8]);
        photo.extend_from_slice(tag.as_bytes());
        photo.extend_from_slice(&jpeg[2..]);
        let d = &delegates[i];
        Ok(Card { delegate: d.clone(), photo: Some(photo), qr_text: key.token(&d.code, 1).qr_text() })
    };
    let written = sheet.write_all(&tmp.path().join("badges.pdf"), delegates.len(), card)?;
    let seconds = started.elapsed().as_secs_f64();
    let bytes = written.iter().map(|(p, _)| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)).sum();
    Ok((written.len(), bytes, seconds))
}

type MakeFile<'a> = dyn Fn(&Path) -> Result<()> + 'a;

/// The printed papers for `n` delegates (`synthetic_congress`), each made
/// once, as the secretariat makes it: (what, seconds, bytes written).
pub fn papers(n: usize) -> Result<Vec<(String, f64, u64)>> {
    let (tmp, store) = synthetic_congress(n)?;
    let event = EventConfig::default();
    let mut out = Vec::new();
    let started = Instant::now();
    let read = session_papers(&store, None, SESSION)?;
    let papers = read.papers(Lang::Vi, &event);
    let read = started.elapsed().as_secs_f64();
    let jobs: [(&str, &str, &MakeFile); 3] = [
        ("attendance list PDF", "list.pdf", &|p| pdf::write_list(p, &papers)),
        ("credentials report PDF", "report.pdf", &|p| pdf::write_report(p, &papers)),
        ("attendance workbook XLSX", "list.xlsx", &|p| write_xlsx(p, &papers, Paper::List)),
    ];
    for (what, file, make) in jobs {
        let path = tmp.path().join(file);
        let t = Instant::now();
        make(&path)?;
        let size = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?.len();
        out.push((format!("{what}, {n} delegates (list read in {read:.2} s)"), read + t.elapsed().as_secs_f64(), size));
    }
    Ok(out)
}

/// `n` random unit templates, one per person.
fn synthetic_gallery(n: usize, dim: usize, seed: u64) -> (usize, Gallery) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut gallery = Gallery::new(dim);
    let mut v = vec![0f32; dim];
    for person in 0..n {
        v.iter_mut().for_each(|x| *x = rng.random::<f32>() - 0.5);
        l2_normalize(&mut v);
        gallery.add(person, &v);
    }
    (n, gallery)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "kiosk bench: {} with {} ONNX Runtime thread(s) per model", self.model, self.threads)?;
        writeln!(f, "{:<56} {:>10} {:>10} {:>6}", "stage", "median ms", "p95 ms", "runs")?;
        for (name, t) in &self.rows {
            writeln!(
                f,
                "{:<56} {:>10.2} {:>10.2} {:>6}",
                name,
                t.median.as_secs_f64() * 1000.0,
                t.p95.as_secs_f64() * 1000.0,
                t.runs
            )?;
        }
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}
