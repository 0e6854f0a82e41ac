//! The kiosk application: a capture thread, a recognition thread and the
//! window, joined by channels. Recognition always takes the newest frame;
//! the window never waits on a model.

pub mod desk;
pub mod i18n;
pub mod model;
pub mod ui;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use eframe::egui;
use image::RgbImage;

use crate::base::pin::PinGate;
use crate::base::stats::{memory_mib, percentile};
use crate::capture::{CameraConfig, FolderSource, Frame, FrameSource, Webcam};
use crate::checkin::Settings;
use crate::checkin::enrolment::{Captured, DeskLink};
use crate::checkin::station::{Event, Station, Update};
use crate::error::{Error, Result};
use crate::ledger::sync::follow;
use crate::ledger::syncer::{Link, LinkWatch, Syncer};
use crate::ledger::{Ledger, Line};
use crate::store::Store;
use desk::{Desk, Reply};
use i18n::Lang;
use model::{Effect, Model, Problem, Screen};

pub struct RunOptions {
    /// The kiosk's file; with a ledger, its local copy (made when missing).
    pub db: PathBuf,
    /// The shared ledger's address, if any.
    pub ledger: Option<String>,
    pub session: String,
    /// Play these images as the camera; None = the webcam.
    pub frames: Option<PathBuf>,
    /// Exit once the last frame of `frames` has been processed.
    pub once: bool,
    /// Play `frames` over and over.
    pub repeat: bool,
    pub fullscreen: bool,
}

/// What a run measured, printed when the window closes.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub frames_processed: u64,
    pub check_ins: Vec<String>,
    pub latencies_ms: Vec<u64>,
    /// The liveness check's time for each check-in.
    pub liveness_ms: Vec<f64>,
    /// Faces the liveness check refused, and challenges it asked for.
    pub not_live: usize,
    pub challenged: usize,
    /// Badges refused: shown with another face, or with no face enrolled.
    pub badge_refused: usize,
    pub processing_ms: Vec<f64>,
    pub ui_fps: Vec<f32>,
    pub rss_mib_start: f64,
    /// (frames processed, resident memory) every 300 frames: flat when nothing leaks.
    pub rss_mib: Vec<(u64, f64)>,
    pub rss_mib_end: f64,
    /// With a ledger: check-ins still waiting to be sent when the kiosk stopped.
    pub ledger_waiting: Option<usize>,
}

impl Summary {
    /// The figures the kiosk's targets are about, as lines of text.
    pub fn report(&self) -> String {
        let latency: Vec<f64> = self.latencies_ms.iter().map(|&v| v as f64).collect();
        let fps: Vec<f64> = self.ui_fps.iter().map(|&v| v as f64).collect();
        let samples: Vec<String> = self.rss_mib.iter().map(|(_, m)| format!("{m:.0}")).collect();
        let mut lines = vec![
            format!("frames processed: {}", self.frames_processed),
            format!("check-ins: {} ({})", self.check_ins.len(), self.check_ins.join(", ")),
            format!(
                "face to welcome: p50 {:.0} ms, p95 {:.0} ms",
                percentile(&latency, 0.5),
                percentile(&latency, 0.95)
            ),
            format!(
                "liveness check per check-in: p50 {:.1} ms, p95 {:.1} ms; asked to turn the head: {}; refused as a picture: {}",
                percentile(&self.liveness_ms, 0.5),
                percentile(&self.liveness_ms, 0.95),
                self.challenged,
                self.not_live
            ),
            format!("badges refused (another face, or no face enrolled): {}", self.badge_refused),
            format!(
                "recognition per frame: p50 {:.1} ms, p95 {:.1} ms",
                percentile(&self.processing_ms, 0.5),
                percentile(&self.processing_ms, 0.95)
            ),
            format!(
                "window: {:.0} fps at the slowest second, {:.0} median",
                fps.iter().copied().fold(f64::INFINITY, f64::min),
                percentile(&fps, 0.5)
            ),
            format!("memory (RSS): {:.0} MiB at start, {:.0} MiB at the end", self.rss_mib_start, self.rss_mib_end),
        ];
        if !samples.is_empty() {
            lines.push(format!("memory every 300 frames (MiB): {}", samples.join(" ")));
        }
        match self.ledger_waiting {
            Some(0) => lines.push("ledger: every check-in sent".into()),
            Some(n) => lines.push(format!(
                "ledger: {n} check-ins still waiting (kept in the local copy; they are sent when the kiosk runs again)"
            )),
            None => {}
        }
        lines.join("\n")
    }
}

enum Msg {
    Preview(Arc<RgbImage>),
    Update(Box<Update>),
    Problem(Problem),
    Desk(Reply),
    Finished,
}

/// The newest frame only: a slow recogniser skips frames instead of queueing
/// them, as a camera would. `lossless` (a folder played with `--once`)
/// makes the player wait instead, so that every frame is processed however
/// busy the machine is, and a test's outcome does not hang on its speed.
#[derive(Default)]
struct Latest {
    slot: Mutex<(Option<Frame>, bool)>,
    ready: Condvar,
    taken: Condvar,
    lossless: bool,
}

impl Latest {
    fn put(&self, frame: Option<Frame>, stop: &AtomicBool) {
        let mut s = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        while self.lossless && frame.is_some() && s.0.is_some() && !stop.load(Ordering::SeqCst) {
            s = self.taken.wait_timeout(s, Duration::from_millis(100)).unwrap_or_else(|p| p.into_inner()).0;
        }
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
                self.taken.notify_one();
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
    memory_mib("VmRSS").unwrap_or(0.0)
}

/// How long `--once` waits for the last check-ins to reach the ledger.
const DRAIN_AT_EXIT: Duration = Duration::from_secs(30);

/// With a ledger: brings the local copy up to date when the ledger can be
/// reached (a kiosk with a copy starts offline when it cannot), then keeps
/// it in step in the background.
fn link_up(settings: &Settings, opts: &RunOptions) -> Result<Option<Syncer>> {
    let Some(url) = &opts.ledger else { return Ok(None) };
    let zone = settings.event.zone().map_err(Error::Config)?;
    let mut store = Store::open(&opts.db)?.with_zone(zone);
    match Ledger::connect(url) {
        Ok(mut ledger) => {
            let (rows, _) = follow(&mut store, &mut ledger)?;
            tracing::info!(rows, "local copy brought up to date from the ledger");
        }
        Err(e) if store.replica_of()?.is_some() => {
            tracing::warn!("starting offline on the local copy {}: {e}", opts.db.display());
        }
        Err(e) => {
            return Err(Error::Ledger {
                message: format!(
                    "{e}\nThis kiosk has no local copy of the roster yet ({}), so it cannot start offline.",
                    opts.db.display()
                ),
                source: None,
            });
        }
    }
    let link = Link { url: url.clone(), db: opts.db.clone(), zone, kiosk: Some(settings.event.kiosk_id.clone()) };
    Syncer::start(link).map(Some)
}

pub fn run(settings: &Settings, opts: RunOptions) -> Result<Summary> {
    let zone = settings.event.zone().map_err(Error::Config)?;
    let syncer = link_up(settings, &opts)?;
    let link = syncer.as_ref().map(Syncer::watch);
    let store = Store::open(&opts.db)?.with_zone(zone);
    // A kiosk set to a misspelt session would record where nobody looks.
    store.require_session(&opts.session)?;
    let delegates = store.delegates()?;
    let layout = crate::secretariat::hall::Layout::load(&settings.event.hall_layout)?;
    let badges = store.badges_issued()?;
    let counts = store.counts_by_delegation(&opts.session)?;
    let session = Arc::new(RwLock::new(opts.session.clone()));
    let faces = DeskLink::default();
    let mut station = Station::new(settings, store, session.clone())?.with_desk(faces.clone());
    if let Some(link) = &link {
        station = station.with_link(link.clone());
    }
    let desk = Desk {
        store: Store::open(&opts.db)?.with_zone(zone),
        session: session.clone(),
        pin_hash: settings.kiosk.admin_pin_hash.clone(),
        pins: PinGate::default(),
        kiosk_id: settings.event.kiosk_id.clone(),
        link: link.clone(),
        ledger: opts.ledger.as_deref().map(Line::new),
        event: settings.event.clone(),
        // Beside the kiosk's file, where staff look for what the kiosk keeps.
        papers_dir: opts.db.parent().unwrap_or(std::path::Path::new(".")).join("papers"),
        faces,
    };

    let (tx, rx) = crossbeam_channel::unbounded::<Msg>();
    let (preview_tx, preview_rx) = crossbeam_channel::bounded::<Msg>(1);
    let latest = Arc::new(Latest { lossless: opts.once && opts.frames.is_some(), ..Latest::default() });
    let stop = Arc::new(AtomicBool::new(false));
    let summary = Arc::new(Mutex::new(Summary { rss_mib_start: rss_mib(), ..Summary::default() }));
    let egui_ctx: Arc<Mutex<Option<egui::Context>>> = Arc::default();

    let folder = match &opts.frames {
        Some(dir) => {
            let folder = FolderSource::open(dir, settings.kiosk.frames_fps)?;
            Some(if opts.repeat { folder.repeating() } else { folder })
        }
        None => None,
    };
    let capture = spawn_capture(
        folder,
        settings.camera.clone(),
        latest.clone(),
        tx.clone(),
        preview_tx,
        stop.clone(),
        egui_ctx.clone(),
    );
    let recognition = spawn_recognition(station, latest.clone(), tx.clone(), summary.clone(), egui_ctx.clone());
    let (jobs, desk_jobs) = crossbeam_channel::unbounded::<Effect>();
    let (replies, desk_replies) = crossbeam_channel::unbounded::<Reply>();
    let desk_ctx = egui_ctx.clone();
    let desk_thread = desk.spawn(desk_jobs, replies, move || repaint(&desk_ctx));
    let forward = thread::spawn(move || {
        for reply in desk_replies {
            if tx.send(Msg::Desk(reply)).is_err() {
                break;
            }
        }
    });

    let mut model = Model::new(
        Lang::parse(&settings.kiosk.language),
        &settings.event.name,
        &opts.session,
        delegates,
        Duration::from_secs_f32(settings.kiosk.welcome_seconds),
    )
    .with_zone(zone)
    .with_hall(layout, &settings.event.kiosk_id);
    model.set_counts(&counts);
    model.badges = badges;
    let app = KioskApp {
        model,
        rx,
        preview_rx,
        jobs,
        pictures: ui::Pictures::default(),
        logo: load_logo(&settings.event.logo),
        welcome_sound: settings.kiosk.welcome_sound.clone(),
        once: opts.once,
        finished: None,
        fps: ui::FpsMeter::default(),
        summary: summary.clone(),
        link,
        link_pulled: 0,
        told_alive: None,
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
    latest.put(None, &stop);
    let _ = capture.join();
    let _ = recognition.join();
    // The app (and with it the desk's job queue) is gone: the desk finishes what it had, then ends.
    let _ = desk_thread.join();
    let _ = forward.join();
    result.map_err(|e| Error::Camera {
        message: format!(
            "the kiosk window could not open: {e}. A display is needed (for a test machine: xvfb-run kiosk run ...)."
        ),
        source: None,
    })?;
    let mut out = summary.lock().unwrap_or_else(|p| p.into_inner()).clone();
    out.rss_mib_end = rss_mib();
    out.ledger_waiting = syncer.map(|s| s.drain(if opts.once { DRAIN_AT_EXIT } else { Duration::from_secs(3) }));
    Ok(out)
}

fn repaint(ctx: &Mutex<Option<egui::Context>>) {
    if let Some(c) = ctx.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
        c.request_repaint();
    }
}

/// How often a missing or lost camera is tried again.
const CAMERA_RETRY: Duration = Duration::from_secs(2);

/// Reads frames until the source ends or the window closes: the frame
/// folder if there is one, else the webcam (`pump`).
fn spawn_capture(
    folder: Option<FolderSource>,
    camera: CameraConfig,
    latest: Arc<Latest>,
    tx: Sender<Msg>,
    preview: Sender<Msg>,
    stop: Arc<AtomicBool>,
    ctx: Arc<Mutex<Option<egui::Context>>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let finite = folder.is_some();
        let mut folder = folder;
        let mut open = || -> Result<Box<dyn FrameSource>> {
            match folder.take() {
                Some(f) => Ok(Box::new(f)),
                None => Ok(Box::new(Webcam::open(&camera)?)),
            }
        };
        pump(&mut open, finite, CAMERA_RETRY, &stop, &mut |pumped| {
            match pumped {
                Pumped::Frame(frame) => {
                    if let Err(TrySendError::Disconnected(_)) = preview.try_send(Msg::Preview(frame.image.clone())) {
                        return false;
                    }
                    latest.put(Some(frame), &stop);
                }
                Pumped::Lost(problem) => {
                    let _ = tx.send(Msg::Problem(Problem::Camera(problem)));
                }
            }
            repaint(&ctx);
            true
        });
        latest.put(None, &stop);
    })
}

/// What the capture loop hands on.
enum Pumped {
    Frame(Frame),
    /// The camera cannot be opened or stopped giving frames; it is tried again.
    Lost(String),
}

/// Hands the frames of `open`'s source to `on` until the source ends, `on`
/// says false, or `stop` is set. A camera that cannot be opened, or stops
/// giving frames (unplugged, a loose cable), is reported and opened again
/// every `retry`, without restarting the program; a finite source (a folder
/// of frames) ends at its first failure instead.
fn pump(
    open: &mut dyn FnMut() -> Result<Box<dyn FrameSource>>,
    finite: bool,
    retry: Duration,
    stop: &AtomicBool,
    on: &mut dyn FnMut(Pumped) -> bool,
) {
    let mut source: Option<Box<dyn FrameSource>> = None;
    while !stop.load(Ordering::SeqCst) {
        let src = match source.as_mut() {
            Some(src) => src,
            None => match open() {
                Ok(opened) => source.insert(opened),
                Err(e) => {
                    if !on(Pumped::Lost(e.to_string())) || finite {
                        return;
                    }
                    thread::sleep(retry);
                    continue;
                }
            },
        };
        match src.next_frame() {
            Ok(Some(frame)) => {
                if !on(Pumped::Frame(frame)) {
                    return;
                }
            }
            Ok(None) => return,
            Err(e) => {
                tracing::warn!("{e}; reconnecting");
                if !on(Pumped::Lost(e.to_string())) || finite {
                    return;
                }
                source = None;
            }
        }
    }
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
                        if s.frames_processed.is_multiple_of(300) {
                            let sample = (s.frames_processed, rss_mib());
                            s.rss_mib.push(sample);
                        }
                        s.processing_ms.push(update.processing.as_secs_f64() * 1000.0);
                        match &update.event {
                            Some(Event::Welcome { delegate, already: false, latency_ms, liveness_ms, .. }) => {
                                s.check_ins.push(delegate.code.clone());
                                s.latencies_ms.push(*latency_ms);
                                s.liveness_ms.push(*liveness_ms as f64);
                            }
                            Some(Event::NotLive) => s.not_live += 1,
                            Some(Event::BadgeRefused) => s.badge_refused += 1,
                            Some(Event::Challenge) => s.challenged += 1,
                            _ => {}
                        }
                    }
                    if tx.send(Msg::Update(Box::new(update))).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!("recognition: {e}");
                    let _ = tx.send(Msg::Problem(Problem::Recognition(e.to_string())));
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
    /// Work for the desk thread.
    jobs: Sender<Effect>,
    pictures: ui::Pictures,
    /// Uploaded as a texture at the first frame, then dropped.
    logo: Option<image::RgbaImage>,
    welcome_sound: PathBuf,
    once: bool,
    finished: Option<Instant>,
    fps: ui::FpsMeter,
    summary: Arc<Mutex<Summary>>,
    link: Option<LinkWatch>,
    /// The link's pull count the header's figures were last read at.
    link_pulled: u64,
    /// When systemd was last told the window is alive (`alive`).
    told_alive: Option<Instant>,
}

impl eframe::App for KioskApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let now = Instant::now();
        self.fps.tick(now);
        self.alive(now);
        let ctx = ui.ctx().clone();
        if let Some(logo) = self.logo.take() {
            self.pictures.logo.set_rgba(&ctx, &logo);
        }
        if let Some(Msg::Preview(img)) = self.preview_rx.try_iter().last() {
            self.pictures.camera.set(&ctx, &img);
        }
        let messages: Vec<Msg> = self.rx.try_iter().collect();
        for msg in messages {
            match msg {
                Msg::Update(u) => {
                    if matches!(u.event, Some(Event::Welcome { already: false, .. })) {
                        self.play_welcome();
                    }
                    self.model.on_update(&u, now);
                }
                Msg::Desk(reply) => self.on_reply(reply, now),
                Msg::Problem(p) => self.model.problem = Some(p),
                Msg::Finished => self.finished = Some(now),
                Msg::Preview(_) => {}
            }
        }
        self.model.tick(now);
        if let Some(link) = &self.link {
            let status = link.status();
            self.model.link = Some((status.online, status.waiting));
            if status.pulled != self.link_pulled {
                self.link_pulled = status.pulled;
                let _ = self.jobs.send(Effect::Recount);
            }
            ctx.request_repaint_after(Duration::from_secs(1));
        }
        match &self.model.screen {
            Screen::Welcome { photo: Some(photo), .. } => self.pictures.portrait.show(&ctx, photo),
            Screen::Approve { captured, .. } => {
                if let Captured::Face(candidate) = captured.as_ref() {
                    self.pictures.candidate.show(&ctx, &candidate.face);
                }
            }
            _ => {}
        }
        for action in ui::draw(ui, &self.model, &self.pictures) {
            if let Some(effect) = self.model.act(action, now)
                && self.jobs.send(effect).is_err()
            {
                self.model.on_not_recorded("the kiosk's desk thread has stopped".into(), now);
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
    let path = crate::home::path(path);
    match image::open(&path) {
        Ok(img) => Some(img.to_rgba8()),
        Err(e) => {
            tracing::warn!("logo {}: {e}", path.display());
            None
        }
    }
}

impl KioskApp {
    /// Under systemd (the kiosk unit, `Type=notify`, `WatchdogSec`): ready at
    /// the first frame drawn, then a watchdog ping at most once a second from
    /// this loop, so that a hung window is restarted. Without systemd
    /// (no `NOTIFY_SOCKET`) nothing is sent.
    fn alive(&mut self, now: Instant) {
        let state = match self.told_alive {
            None => sd_notify::NotifyState::Ready,
            Some(at) if now - at >= Duration::from_secs(1) => sd_notify::NotifyState::Watchdog,
            Some(_) => return,
        };
        if let Err(e) = sd_notify::notify(false, &[state]) {
            tracing::warn!("cannot tell systemd the kiosk is alive: {e}");
        }
        self.told_alive = Some(now);
    }

    fn on_reply(&mut self, reply: Reply, now: Instant) {
        match reply {
            Reply::CheckedIn { delegate, at, already, photo } => {
                if !already {
                    self.play_welcome();
                }
                self.model.on_check_in(delegate, at, already, photo, now);
            }
            Reply::PinChecked(view) => self.model.on_pin_checked(view),
            Reply::PinShutOut => self.model.on_pin_shut_out(),
            Reply::AdminRefreshed { session, view } => self.model.on_admin_refreshed(&session, view),
            Reply::Failed(error) => self.model.on_not_recorded(error, now),
            Reply::Counts(counts) => self.model.set_counts(&counts),
            Reply::Papers(files) => self.model.on_papers(files),
            Reply::Capturing => {}
            Reply::Enrolled(delegate) => self.model.on_enrolled(delegate),
            Reply::DelegateAdded(delegate) => self.model.on_delegate_added(delegate),
        }
    }

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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A camera that gives `frames` frames, then is unplugged.
    struct Unplugged {
        frames: u64,
        given: u64,
    }

    impl FrameSource for Unplugged {
        fn next_frame(&mut self) -> Result<Option<Frame>> {
            if self.given == self.frames {
                return Err(Error::Camera { message: "VIDIOC_DQBUF: No such device".into(), source: None });
            }
            self.given += 1;
            let image = Arc::new(image::RgbImage::new(4, 4));
            Ok(Some(Frame { image, index: self.given - 1, captured: Instant::now() }))
        }

        fn describe(&self) -> String {
            "a camera that comes and goes".into()
        }
    }

    #[test]
    fn a_lost_camera_is_reported_and_opened_again_until_it_gives_frames() {
        // Not there at first, then 3 frames and unplugged, then back for good.
        let mut opened = 0;
        let mut open = || -> Result<Box<dyn FrameSource>> {
            opened += 1;
            match opened {
                1 | 2 => Err(Error::Camera { message: "no camera at device 0".into(), source: None }),
                3 => Ok(Box::new(Unplugged { frames: 3, given: 0 })),
                _ => Ok(Box::new(Unplugged { frames: u64::MAX, given: 0 })),
            }
        };
        let stop = AtomicBool::new(false);
        let mut seen = Vec::new();
        pump(&mut open, false, Duration::from_millis(1), &stop, &mut |p| {
            seen.push(match p {
                Pumped::Frame(f) => format!("frame {}", f.index),
                Pumped::Lost(why) => format!("lost: {why}"),
            });
            seen.len() < 10
        });
        let expected = [
            "lost: no camera at device 0",
            "lost: no camera at device 0",
            "frame 0",
            "frame 1",
            "frame 2",
            "lost: VIDIOC_DQBUF: No such device",
            "frame 0",
            "frame 1",
            "frame 2",
            "frame 3",
        ];
        assert_eq!(seen, expected.map(String::from));
    }

    #[test]
    fn a_frame_folder_ends_at_its_first_failure() {
        let mut open = || -> Result<Box<dyn FrameSource>> { Ok(Box::new(Unplugged { frames: 2, given: 0 })) };
        let mut seen = 0;
        pump(&mut open, true, Duration::from_millis(1), &AtomicBool::new(false), &mut |_| {
            seen += 1;
            true
        });
        assert_eq!(seen, 3, "two frames and the failure, then no retry");
    }
}
