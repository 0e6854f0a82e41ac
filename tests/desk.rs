//! Enrolment at the help desk, on real webcam frames: staff ask for a
//! delegate's face, the station captures the best frame, staff approve,
//! and the next frames of that person check them in.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use common::*;
use kiosk::capture::Frame;
use kiosk::checkin::enrolment::{Captured, DeskLink};
use kiosk::checkin::staff;
use kiosk::checkin::station::{Event, Station};
use kiosk::config::Config;
use kiosk::store::Store;

fn frames_of(pad: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(pad.join("live"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    out.sort();
    out
}

/// The events of `photos` played through `station` as camera frames, from frame number `first`.
fn play(station: &mut Station, photos: &[PathBuf], first: u64) -> Vec<Event> {
    let mut events = Vec::new();
    for (i, p) in photos.iter().enumerate() {
        let image = Arc::new(image::open(p).unwrap().to_rgb8());
        let frame = Frame { image, index: first + i as u64, captured: Instant::now() };
        events.extend(station.process(&frame).unwrap().event);
    }
    events
}

#[test]
fn a_face_captured_and_approved_at_the_desk_checks_its_delegate_in() {
    let Some(pad) = pad("desk enrolment") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    kiosk::secretariat::demo::write(&mut Store::open(&db).unwrap()).unwrap();
    // The liveness check on, as at a congress: these are real webcam frames.
    let cfg = Config::default();
    let session = Arc::new(RwLock::new("Phiên khai mạc".to_string()));
    let desk = DeskLink::default();
    let mut station = Station::new(&cfg.station(), Store::open(&db).unwrap(), session).unwrap().with_desk(desk.clone());
    let person = frames_of(&pad, "apfol_real2");
    let stranger = frames_of(&pad, "lestari_real");
    assert!(person.len() >= 40 && stranger.len() >= 20, "pad/dev/live has the captures this test plays");

    // Before: nobody has a face, so this person is not recognised.
    let before = play(&mut station, &person[..20], 0);
    assert!(before.iter().all(|e| !matches!(e, Event::Welcome { .. })), "{before:?}");

    let delegate = kiosk::secretariat::demo::delegates()[0].clone();
    *desk.capture.lock().unwrap() = Some(delegate.clone());
    let capture: Vec<PathBuf> =
        person.iter().cycle().take(kiosk::checkin::enrolment::CAPTURE_FRAMES).cloned().collect();
    let events = play(&mut station, &capture, 100);
    let [Event::Captured(captured)] = events.as_slice() else { panic!("one capture at its end: {events:?}") };
    let Captured::Face(candidate) = captured.as_ref() else { panic!("a good live face: {captured:?}") };
    assert_eq!(candidate.delegate, delegate);
    assert_eq!(candidate.lookalike, None, "nobody else has a face yet");
    assert_eq!(candidate.face.height(), 240);

    let mut desk_store = Store::open(&db).unwrap();
    staff::enrol_at_desk(&mut desk_store, candidate, "kiosk-1").unwrap();
    desk.enrolled.fetch_add(1, Ordering::SeqCst);
    let entries = desk_store.audit_entries().unwrap();
    let (action, detail) = entries.last().unwrap();
    assert_eq!(action, "enrolled_at_desk");
    assert!(detail.contains(&delegate.code) && detail.contains("kiosk-1"), "{detail}");

    // The gallery takes the face at the next frame: the person is checked in, the stranger is not.
    let after = play(&mut station, &person[20..], 200);
    let welcomed: Vec<&str> = after
        .iter()
        .filter_map(|e| if let Event::Welcome { delegate, .. } = e { Some(delegate.code.as_str()) } else { None })
        .collect();
    assert_eq!(welcomed, [delegate.code.as_str()], "{after:?}");
    let strangers = play(&mut station, &stranger, 300);
    assert!(strangers.iter().all(|e| !matches!(e, Event::Welcome { .. })), "{strangers:?}");
    assert!(desk_store.attendance("Phiên khai mạc", &delegate.code).unwrap().is_some());

    // Through a ledger, the face taken at one door reaches the others.
    if let Some(pg) = common::pg::Cluster::start("desk enrolment through the ledger") {
        let url = pg.url();
        run_ok(&["ledger", "init", "--ledger", &url]);
        let demo = dir.path().join("demo-for-ledger.db");
        kiosk::secretariat::demo::write(&mut Store::open(&demo).unwrap()).unwrap();
        run_ok(&["ledger", "import", "--db", path_str(&demo), "--ledger", &url]);
        let mut ledger = kiosk::ledger::Ledger::connect(&url).unwrap();
        let mut door_a = Store::open(&dir.path().join("door-a.db")).unwrap();
        kiosk::ledger::sync::follow(&mut door_a, &mut ledger).unwrap();
        staff::enrol_at_desk(&mut door_a, candidate, "door-a").unwrap();
        kiosk::ledger::sync::push_all(&mut door_a, &mut ledger, "door-a").unwrap();
        let mut door_b = Store::open(&dir.path().join("door-b.db")).unwrap();
        kiosk::ledger::sync::follow(&mut door_b, &mut ledger).unwrap();
        let (people, _) = door_b.gallery(&candidate.model, candidate.template.embedding.len()).unwrap();
        assert_eq!(people.iter().map(|d| d.code.as_str()).collect::<Vec<_>>(), [delegate.code.as_str()]);
        let audited =
            pg.count("SELECT count(*) FROM audit WHERE action = 'enrolled_at_desk' AND detail LIKE '%door-a%'");
        assert_eq!(audited, 1);
    }

    // A roster enrolment later keeps the face taken at the desk.
    desk_store.transaction(|tx| tx.keep_only_templates(&delegate.code, &candidate.model, &[])).unwrap();
    let (people, _) = desk_store.gallery(&candidate.model, candidate.template.embedding.len()).unwrap();
    assert_eq!(people.len(), 1);
}

#[test]
fn a_delegate_added_at_the_desk_is_audited_and_no_one_is_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("demo.db")).unwrap();
    kiosk::secretariat::demo::write(&mut store).unwrap();
    let taken = kiosk::secretariat::demo::delegates()[0].clone();
    let impostor = kiosk::store::Delegate { name: "Someone Else".into(), ..taken.clone() };
    let e = staff::add_delegate(&mut store, &impostor, "kiosk-1").unwrap_err().to_string();
    assert!(e.contains("already") && e.contains(&taken.code), "{e}");
    assert_eq!(store.delegate(&taken.code).unwrap().unwrap().name, taken.name);
    let new = kiosk::store::Delegate { code: "DB031".into(), name: "Phạm Thị Lụa".into(), ..Default::default() };
    staff::add_delegate(&mut store, &new, "kiosk-1").unwrap();
    assert_eq!(store.delegate("DB031").unwrap().unwrap().name, "Phạm Thị Lụa");
    let (action, detail) = store.audit_entries().unwrap().pop().unwrap();
    assert_eq!(action, "added_at_desk");
    assert!(detail.contains("DB031") && detail.contains("kiosk-1"), "{detail}");
}

/// A real window under Xvfb, worked with the mouse and keyboard (xdotool).
struct Screen {
    xvfb: Xvfb,
}

impl Screen {
    fn start() -> Screen {
        Screen { xvfb: Xvfb::start() }
    }

    fn xdotool(&self, args: &[&str]) {
        let ok = std::process::Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.xvfb.display)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success(), "xdotool {args:?}");
    }

    fn click(&self, x: u32, y: u32) {
        self.xdotool(&["mousemove", &x.to_string(), &y.to_string(), "click", "1"]);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }

    fn screenshot(&self, name: &str) -> PathBuf {
        let path = screenshots().join(name);
        std::process::Command::new("import")
            .args(["-window", "root", path_str(&path)])
            .env("DISPLAY", &self.xvfb.display)
            .status()
            .unwrap();
        path
    }
}

/// The kiosk's log lines as they come, kept for the failure messages.
struct Log {
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Log {
    /// Whether a line containing every one of `needles` came within `secs`.
    fn wait_for(&mut self, needles: &[&str], secs: u64) -> bool {
        let until = Instant::now() + std::time::Duration::from_secs(secs);
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            let Ok(line) = self.lines.recv_timeout(left) else { return false };
            self.seen.push(line.clone());
            if needles.iter().all(|n| line.contains(n)) {
                return true;
            }
        }
        false
    }

    fn text(&self) -> String {
        self.seen.join("\n")
    }
}

#[test]
fn the_demo_congress_enrols_a_face_at_the_desk_and_checks_it_in_in_one_window_run() {
    use std::io::BufRead;
    let Some(pad) = pad("desk enrolment in the window") else { return };
    if !xvfb_ok("desk enrolment in the window") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    run_ok(&["demo", "--out", path_str(&dir.path().join("demo"))]);
    let settings = dir.path().join("demo/kiosk.toml");
    // One person stays in front of the camera: the same capture, played over and over.
    let frames = dir.path().join("frames");
    std::fs::create_dir_all(&frames).unwrap();
    for p in frames_of(&pad, "apfol_real2") {
        std::fs::copy(&p, frames.join(p.file_name().unwrap())).unwrap();
    }

    let screen = Screen::start();
    let mut kiosk = std::process::Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(["run", "--config", path_str(&settings), "--frames", path_str(&frames), "--loop"])
        .env("DISPLAY", &screen.xvfb.display)
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .env("KIOSK_LOG", "kiosk=info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let stderr = kiosk.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(|l| l.ok()) {
            let _ = tx.send(line);
        }
    });
    let mut log = Log { lines, seen: Vec::new() };
    screen.xdotool(&["search", "--sync", "--name", "Kiosk"]);

    // Each step is tried again if the window had not taken the touch yet:
    // what happened is read from the kiosk's log, not from the clock.
    // Places on the 1280×800 screen, as the demo congress lays them out.
    let step = |log: &mut Log, what: &str, act: &dyn Fn(), done: &[&str], secs: u64| {
        for _ in 0..3 {
            act();
            if log.wait_for(done, secs) {
                return;
            }
        }
        let shot = screen.screenshot("desk-window-failed.png");
        panic!("{what}: no {done:?} in the log (screen in {}):\n{}", shot.display(), log.text());
    };
    step(
        &mut log,
        "the admin screen",
        &|| {
            screen.xdotool(&["key", "Escape"]);
            screen.click(1141, 20); // Quản trị
            for (x, y) in [(636, 224), (538, 317), (734, 317), (636, 410), (734, 503)] {
                screen.click(x, y); // 2 4 6 8 OK
            }
        },
        &["admin screen opened"],
        10,
    );
    step(
        &mut log,
        "enrol a face for DB001",
        &|| {
            screen.click(413, 362); // Đăng ký khuôn mặt
            screen.xdotool(&["type", "--delay", "100", "DB001"]);
            screen.click(640, 192); // Nguyễn Văn An · DB001 · …
        },
        &["help desk: capturing a face", "DB001"],
        10,
    );
    assert!(log.wait_for(&["help desk: face captured", "DB001"], 300), "{}", log.text());
    std::thread::sleep(std::time::Duration::from_secs(1));
    screen.screenshot("desk-window-approve.png");
    step(&mut log, "approve", &|| screen.click(490, 533), &["help desk: face enrolled", "DB001"], 10);
    screen.xdotool(&["key", "Escape"]);
    let checked_in = log.wait_for(&["check-in", "DB001"], 300);
    screen.screenshot("desk-window-welcome.png");
    let _ = kiosk.kill();
    let _ = kiosk.wait();
    assert!(checked_in, "{}", log.text());

    let store = Store::open(&dir.path().join("demo/demo.db")).unwrap();
    let (_, method, evidence) = store.attendance("Phiên khai mạc", "DB001").unwrap().expect("DB001 checked in");
    assert_eq!(method, kiosk::store::Method::Face);
    assert!(evidence.is_some_and(|e| e.score > 0.0), "{evidence:?}");
    assert_eq!(store.attendance_count("Phiên khai mạc").unwrap(), 1, "nobody else");
    let audit = store.audit_entries().unwrap();
    assert_eq!(audit.iter().filter(|(action, _)| action == "enrolled_at_desk").count(), 1, "{audit:?}");
}
