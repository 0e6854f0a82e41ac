//! The kiosk application: a capture thread, a recognition thread and the
//! window, joined by channels. Recognition always takes the newest frame;
//! the window never waits on a model.

pub mod admin;
pub mod model;
pub mod text;
pub mod ui;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use eframe::egui;
use image::RgbImage;

use crate::camera::{FolderSource, Frame, FrameSource, Webcam};
use crate::checkin::{Event, Station, Update};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::record::{CheckIn, Method, Store};
use model::{AdminView, Effect, Model, Screen};
use text::Lang;

pub struct RunOptions {
    pub db: PathBuf,
    pub session: String,
    /// Play these images as the camera; None = the webcam.
    pub frames: Option<PathBuf>,
    /// Exit once the last frame of `frames` has been processed.
    pub once: bool,
    pub fullscreen: bool,
}

/// What a run measured, printed when the window closes.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub frames_processed: u64,
    pub check_ins: Vec<String>,
    pub latencies_ms: Vec<u64>,
    pub processing_ms: Vec<f64>,
    pub ui_fps: Vec<f32>,
    pub rss_mib_start: f64,
    /// (frames processed, resident memory) every 300 frames: flat when nothing leaks.
    pub rss_mib: Vec<(u64, f64)>,
    pub rss_mib_end: f64,
}

impl Summary {
    /// The figures the kiosk's targets are about, as lines of text.
    pub fn report(&self) -> String {
        let pct = |v: &mut Vec<f64>, p: f64| {
            v.sort_by(f64::total_cmp);
            v.get(((v.len() as f64 * p).ceil() as usize).saturating_sub(1)).copied().unwrap_or(0.0)
        };
        let latency: Vec<f64> = self.latencies_ms.iter().map(|&v| v as f64).collect();
        let fps: Vec<f64> = self.ui_fps.iter().map(|&v| v as f64).collect();
        let samples: Vec<String> = self.rss_mib.iter().map(|(_, m)| format!("{m:.0}")).collect();
        let mut lines = vec![
            format!("frames processed: {}", self.frames_processed),
            format!("check-ins: {} ({})", self.check_ins.len(), self.check_ins.join(", ")),
            format!(
                "face to welcome: p50 {:.0} ms, p95 {:.0} ms",
                pct(&mut latency.clone(), 0.5),
                pct(&mut latency.clone(), 0.95)
            ),
            format!(
                "recognition per frame: p50 {:.1} ms, p95 {:.1} ms",
                pct(&mut self.processing_ms.clone(), 0.5),
                pct(&mut self.processing_ms.clone(), 0.95)
            ),
            format!(
                "window: {:.0} fps at the slowest second, {:.0} median",
                fps.iter().copied().fold(f64::INFINITY, f64::min),
                pct(&mut fps.clone(), 0.5)
            ),
            format!("memory (RSS): {:.0} MiB at start, {:.0} MiB at the end", self.rss_mib_start, self.rss_mib_end),
        ];
        if !samples.is_empty() {
            lines.push(format!("memory every 300 frames (MiB): {}", samples.join(" ")));
        }
        lines.join("\n")
    }
}

enum Msg {
    Preview(Arc<RgbImage>),
    Update(Box<Update>),
    CameraProblem(String),
    Finished,
}

/// The newest frame only: a slow recogniser skips frames instead of queueing them.
#[derive(Default)]
struct Latest {
    slot: Mutex<(Option<Frame>, bool)>,
    ready: Condvar,
}

impl Latest {
    fn put(&self, frame: Option<Frame>) {
        let mut s = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        match frame {
            Some(f) => s.0 = Some(f),
            None => s.1 = true,
        }
        self.ready.notify_one();
    }

    /// The newest frame, or None once the source has ended and all is taken.
    fn take(&self) -> Option<Frame> {
        let mut s = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(f) = s.0.take() {
                return Some(f);
            }
            if s.1 {
                return None;
            }
            s = self.ready.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }
}

fn rss_mib() -> f64 {
    crate::bench::memory_mib("VmRSS").unwrap_or(0.0)
}

pub fn run(cfg: &Config, opts: RunOptions) -> Result<Summary> {
    let store = Store::open(&opts.db)?;
    let delegates = store.delegates()?;
    let counts = store.counts_by_delegation(&opts.session)?;
    let session = Arc::new(RwLock::new(opts.session.clone()));
    let station = Station::new(cfg, store, session.clone())?;
    let ui_store = Store::open(&opts.db)?;

    let (tx, rx) = crossbeam_channel::unbounded::<Msg>();
    let (preview_tx, preview_rx) = crossbeam_channel::bounded::<Msg>(1);
    let latest = Arc::new(Latest::default());
    let stop = Arc::new(AtomicBool::new(false));
    let summary = Arc::new(Mutex::new(Summary { rss_mib_start: rss_mib(), ..Summary::default() }));
    let egui_ctx: Arc<Mutex<Option<egui::Context>>> = Arc::default();

    let folder = match &opts.frames {
        Some(dir) => Some(FolderSource::open(dir, cfg.kiosk.frames_fps)?),
        None => None,
    };
    let capture = spawn_capture(
        folder,
        cfg.camera.clone(),
        latest.clone(),
        tx.clone(),
        preview_tx,
        stop.clone(),
        egui_ctx.clone(),
    );
    let recognition = spawn_recognition(station, latest.clone(), tx, summary.clone(), egui_ctx.clone());

    let mut model = Model::new(
        Lang::parse(&cfg.kiosk.language),
        &cfg.event.name,
        &opts.session,
        delegates,
        Duration::from_secs_f32(cfg.kiosk.welcome_seconds.max(0.5)),
    );
    model.set_counts(&counts);
    let app = KioskApp {
        model,
        rx,
        preview_rx,
        pictures: ui::Pictures::default(),
        logo: load_logo(&cfg.event.logo),
        welcome_sound: cfg.kiosk.welcome_sound.clone(),
        store: ui_store,
        session,
        pin_hash: cfg.kiosk.admin_pin_hash.clone(),
        kiosk_id: cfg.event.kiosk_id.clone(),
        once: opts.once,
        finished: None,
        fps: ui::FpsMeter::default(),
        summary: summary.clone(),
    };
    let mut viewport = egui::ViewportBuilder::default().with_title("Kiosk").with_inner_size([1280.0, 800.0]);
    if opts.fullscreen {
        viewport = viewport.with_fullscreen(true);
    }
    let options = eframe::NativeOptions { viewport, renderer: eframe::Renderer::Glow, ..Default::default() };
    let result = eframe::run_native(
        "kiosk",
        options,
        Box::new(move |cc| {
            ui::install_fonts(&cc.egui_ctx);
            *egui_ctx.lock().unwrap_or_else(|p| p.into_inner()) = Some(cc.egui_ctx.clone());
            Ok(Box::new(app))
        }),
    );
    stop.store(true, Ordering::SeqCst);
    latest.put(None);
    let _ = capture.join();
    let _ = recognition.join();
    result.map_err(|e| {
        Error::Io(format!(
            "the kiosk window could not open: {e}. A display is needed (for a test machine: xvfb-run kiosk run ...)."
        ))
    })?;
    let mut out = summary.lock().unwrap_or_else(|p| p.into_inner()).clone();
    out.rss_mib_end = rss_mib();
    Ok(out)
}

fn repaint(ctx: &Mutex<Option<egui::Context>>) {
    if let Some(c) = ctx.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        c.request_repaint();
    }
}

/// Reads frames until the source ends or the window closes. Without a frame
/// folder it uses the webcam and, when it is missing or unplugged, tries
/// again every two seconds.
fn spawn_capture(
    folder: Option<FolderSource>,
    camera: crate::camera::CameraConfig,
    latest: Arc<Latest>,
    tx: Sender<Msg>,
    preview: Sender<Msg>,
    stop: Arc<AtomicBool>,
    ctx: Arc<Mutex<Option<egui::Context>>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let finite = folder.is_some();
        let mut source: Option<Box<dyn FrameSource>> = folder.map(|f| Box::new(f) as Box<dyn FrameSource>);
        while !stop.load(Ordering::SeqCst) {
            if source.is_none() {
                match Webcam::open(&camera) {
                    Ok(cam) => source = Some(Box::new(cam)),
                    Err(e) => {
                        let _ = tx.send(Msg::CameraProblem(e.to_string()));
                        repaint(&ctx);
                        thread::sleep(Duration::from_secs(2));
                        continue;
                    }
                }
            }
            let Some(src) = source.as_mut() else { continue };
            match src.next_frame() {
                Ok(Some(frame)) => {
                    if let Err(TrySendError::Disconnected(_)) = preview.try_send(Msg::Preview(frame.image.clone())) {
                        break;
                    }
                    latest.put(Some(frame));
                    repaint(&ctx);
                }
                Ok(None) => break,
                Err(e) if finite => {
                    let _ = tx.send(Msg::CameraProblem(e.to_string()));
                    break;
                }
                Err(e) => {
                    tracing::warn!("{e}; reconnecting");
                    let _ = tx.send(Msg::CameraProblem(e.to_string()));
                    source = None;
                }
            }
        }
        latest.put(None);
    })
}

fn spawn_recognition(
    mut station: Station,
    latest: Arc<Latest>,
    tx: Sender<Msg>,
    summary: Arc<Mutex<Summary>>,
    ctx: Arc<Mutex<Option<egui::Context>>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        while let Some(frame) = latest.take() {
            match station.process(&frame) {
                Ok(update) => {
                    {
                        let mut s = summary.lock().unwrap_or_else(|p| p.into_inner());
                        s.frames_processed += 1;
                        if s.frames_processed % 300 == 0 {
                            let sample = (s.frames_processed, rss_mib());
                            s.rss_mib.push(sample);
                        }
                        s.processing_ms.push(update.processing.as_secs_f64() * 1000.0);
                        if let Some(Event::Welcome { delegate, already: false, latency_ms, .. }) = &update.event {
                            s.check_ins.push(delegate.code.clone());
                            s.latencies_ms.push(*latency_ms);
                        }
                    }
                    if tx.send(Msg::Update(Box::new(update))).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!("recognition: {e}");
                    let _ = tx.send(Msg::CameraProblem(e.to_string()));
                }
            }
            repaint(&ctx);
        }
        let _ = tx.send(Msg::Finished);
        repaint(&ctx);
    })
}

struct KioskApp {
    model: Model,
    rx: Receiver<Msg>,
    preview_rx: Receiver<Msg>,
    pictures: ui::Pictures,
    /// Uploaded as a texture at the first frame, then dropped.
    logo: Option<image::RgbaImage>,
    welcome_sound: PathBuf,
    store: Store,
    session: Arc<RwLock<String>>,
    pin_hash: String,
    kiosk_id: String,
    once: bool,
    finished: Option<Instant>,
    fps: ui::FpsMeter,
    summary: Arc<Mutex<Summary>>,
}

impl eframe::App for KioskApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let now = Instant::now();
        self.fps.tick(now);
        let ctx = ui.ctx().clone();
        if let Some(logo) = self.logo.take() {
            self.pictures.logo.set_rgba(&ctx, &logo);
        }
        if let Some(Msg::Preview(img)) = self.preview_rx.try_iter().last() {
            self.pictures.camera.set(&ctx, &img);
        }
        for msg in self.rx.try_iter() {
            match msg {
                Msg::Update(u) => {
                    if matches!(u.event, Some(Event::Welcome { already: false, .. })) {
                        self.play_welcome();
                    }
                    self.model.on_update(&u, now);
                }
                Msg::CameraProblem(p) => self.model.problem = Some(p),
                Msg::Finished => self.finished = Some(now),
                Msg::Preview(_) => {}
            }
        }
        self.model.tick(now);
        if let Screen::Welcome { photo: Some(photo), .. } = &self.model.screen {
            self.pictures.portrait.show(&ctx, photo);
        }
        for action in ui::draw(ui, &self.model, &self.pictures) {
            if let Some(effect) = self.model.act(action, now) {
                self.apply(effect, now);
            }
        }
        if self.once && self.finished.is_some_and(|f| now - f > Duration::from_millis(1500)) {
            self.summary.lock().unwrap_or_else(|p| p.into_inner()).ui_fps = self.fps.samples.clone();
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        ctx.request_repaint_after(Duration::from_millis(16));
    }
}

/// The event's logo; a missing or unreadable one only leaves the idle screen without it.
fn load_logo(path: &std::path::Path) -> Option<image::RgbaImage> {
    if path.as_os_str().is_empty() {
        return None;
    }
    let path = crate::runtime::project_dir().join(path);
    match image::open(&path) {
        Ok(img) => Some(img.to_rgba8()),
        Err(e) => {
            tracing::warn!("logo {}: {e}", path.display());
            None
        }
    }
}

impl KioskApp {
    /// Plays the configured sound without waiting for it; no sound device
    /// or no `aplay` only costs the sound.
    fn play_welcome(&self) {
        if self.welcome_sound.as_os_str().is_empty() {
            return;
        }
        let played = std::process::Command::new("aplay")
            .arg("-q")
            .arg(&self.welcome_sound)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        match played {
            // Reaped on its own thread, so that finished players do not linger.
            Ok(mut child) => drop(thread::spawn(move || child.wait())),
            Err(e) => tracing::warn!("welcome sound {}: {e}", self.welcome_sound.display()),
        }
    }

    fn session(&self) -> String {
        self.session.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn apply(&mut self, effect: Effect, now: Instant) {
        let session = self.session();
        let done = match effect {
            Effect::ManualCheckIn { code, by_staff: true } => self
                .store
                .manual_check_in(&session, &code, &self.kiosk_id, "checked in by staff from the admin screen")
                .and_then(|_| self.refresh_admin(&session)),
            Effect::ManualCheckIn { code, by_staff: false } => {
                self.record_and_greet(&session, &code, Method::Search, None, now)
            }
            Effect::CodeConfirmed { code } => self.record_and_greet(
                &session,
                &code,
                Method::Face,
                Some("lookalike: confirmed with the delegate code"),
                now,
            ),
            Effect::CheckPin(pin) => {
                let view = if admin::verify_pin(&pin, &self.pin_hash) { self.admin_view(&session).ok() } else { None };
                self.model.on_pin_checked(view);
                Ok(())
            }
            Effect::SwitchSession(name) => {
                *self.session.write().unwrap_or_else(|p| p.into_inner()) = name.clone();
                self.refresh_admin(&name)
            }
            Effect::Undo { code, reason } => self
                .store
                .undo_check_in(&session, &code, &self.kiosk_id, reason.audit_text())
                .and_then(|_| self.refresh_admin(&session)),
        };
        if let Err(e) = done {
            self.model.problem = Some(e.to_string());
        }
    }

    /// A check-in made at the kiosk's screen, then the welcome (with its sound).
    fn record_and_greet(
        &mut self,
        session: &str,
        code: &str,
        method: Method,
        reason: Option<&str>,
        now: Instant,
    ) -> Result<()> {
        let kiosk = &self.kiosk_id;
        let outcome = self.store.transaction(|tx| tx.check_in(session, code, method, kiosk, None, reason))?;
        if let Some(d) = self.store.delegate(code)? {
            let (at, already) = match outcome {
                CheckIn::Recorded { at } => (at, false),
                CheckIn::AlreadyCheckedIn { at } => (at, true),
            };
            if !already {
                self.play_welcome();
            }
            let photo = crate::checkin::enrolled_photo(&self.store, code);
            self.model.on_check_in(d, at, already, photo, now);
        }
        Ok(())
    }

    fn admin_view(&self, session: &str) -> Result<AdminView> {
        let mut sessions = self.store.sessions()?;
        if !sessions.iter().any(|s| s == session) {
            sessions.push(session.to_string());
        }
        Ok(AdminView {
            sessions,
            counts: self.store.counts_by_delegation(session)?,
            latest: self.store.latest_check_ins(session, 10)?,
        })
    }

    fn refresh_admin(&mut self, session: &str) -> Result<()> {
        let view = self.admin_view(session)?;
        self.model.on_admin_refreshed(session, view);
        Ok(())
    }
}
