//! Shared by the integration tests: where the real face photos are, and how
//! to run the `kiosk` binary.
#![allow(dead_code)]

pub mod pg;
pub mod web;
pub mod workbook;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Opens `sessions` in the database at `db`: check-ins go only to sessions
/// made on purpose.
pub fn add_sessions(db: &Path, sessions: &[&str]) {
    let mut store = kiosk::store::Store::open(db).unwrap();
    store.transaction(|tx| sessions.iter().try_for_each(|s| tx.ensure_session(s).map(drop))).unwrap();
}

/// `dir` when it holds `marker`, or None with a clear note in the output:
/// the test data in ../shared is not ours to ship, so a clone may lack it.
fn shared(test: &str, dir: PathBuf, marker: &str, what: &str, hint: &str) -> Option<PathBuf> {
    if dir.join(marker).exists() {
        Some(dir)
    } else {
        println!("SKIPPED {test}: no {what} at {} ({hint})", dir.display());
        None
    }
}

/// `../shared/faces` (or `$KIOSK_FACES`).
pub fn faces(test: &str) -> Option<PathBuf> {
    let dir = kiosk::measure::eval::default_faces_dir();
    shared(test, dir, "dev/gallery", "real face photos", "set KIOSK_FACES to the folder holding dev/ and asian_dev/")
}

/// `../shared/pad/dev` (or `$KIOSK_PAD`): webcam frames, live and attacks.
pub fn pad(test: &str) -> Option<PathBuf> {
    let dir = kiosk::measure::liveness::default_pad_dir();
    shared(test, dir, "manifest.csv", "liveness frames", "set KIOSK_PAD to a folder like ../shared/pad/dev")
}

pub fn kiosk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiosk")).args(args).output().expect("kiosk runs")
}

/// `kiosk ARGS`, which must succeed; what it printed.
pub fn run_ok(args: &[&str]) -> String {
    let o = kiosk(args);
    assert!(o.status.success(), "kiosk {args:?}: {}{}", stdout(&o), stderr(&o));
    stdout(&o)
}

/// Whether the window tests can run, or a note saying why not.
pub fn xvfb_ok(test: &str) -> bool {
    let ok = Command::new("xvfb-run").arg("--help").output().is_ok();
    if !ok {
        println!("SKIPPED {test}: xvfb-run is missing (tools/setup.sh installs it)");
    }
    ok
}

/// An X server of the test's own, on a display it picked itself; stopped
/// when dropped.
pub struct Xvfb {
    child: std::process::Child,
    pub display: String,
}

impl Xvfb {
    pub fn start() -> Xvfb {
        use std::io::BufRead;
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("Xvfb runs");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        Xvfb { child, display: format!(":{}", line.trim()) }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `kiosk ARGS` in its real window under a throw-away Xvfb screen.
pub fn kiosk_window(args: &[&str]) -> Output {
    window_command(args).output().expect("xvfb-run runs")
}

/// The same, with the kiosk's log on stderr (each check-in, each refusal).
pub fn kiosk_window_logged(args: &[&str]) -> Output {
    window_command(args).env("KIOSK_LOG", "kiosk=info").output().expect("xvfb-run runs")
}

fn window_command(args: &[&str]) -> Command {
    let mut command = Command::new("xvfb-run");
    command
        .args(["-a", "-s", "-screen 0 1280x800x24", env!("CARGO_BIN_EXE_kiosk")])
        .args(args)
        .env("LIBGL_ALWAYS_SOFTWARE", "1");
    command
}

/// Where screenshots of the tests go, to be looked at; made here, since on a
/// clean clone the first test to save one may be any of them.
pub fn screenshots() -> PathBuf {
    let dir = std::env::var_os("KIOSK_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The sessions organisers open after enrolling, in the tests: the
/// settings' default one and "Phiên 1".
pub const FIRST_SESSIONS: [&str; 2] = ["Phiên khai mạc", "Phiên 1"];

/// `kiosk enroll` of a roster whose photo paths are absolute, then the
/// first sessions opened.
pub fn enroll_roster(db: &Path, roster: &Path) -> Output {
    enroll_roster_with(db, roster, &[])
}

/// `people` (identity, photo) enrolled into `db` as `{prefix}0`,
/// `{prefix}1`…, from a roster written beside it.
pub fn enroll_people(db: &Path, people: &[(String, PathBuf)], prefix: &str) {
    let mut csv = String::from("code,name,delegation,seat,photo\n");
    for (i, (_, photo)) in people.iter().enumerate() {
        csv.push_str(&format!("{prefix}{i},Đại biểu {i},Đoàn Huế,A-{i},{}\n", photo.display()));
    }
    let roster = db.with_extension("csv");
    std::fs::write(&roster, csv).unwrap();
    let out = enroll_roster(db, &roster);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The same with more arguments (`--config FILE`, `--report FILE`...).
pub fn enroll_roster_with(db: &Path, roster: &Path, more: &[&str]) -> Output {
    let mut args = vec!["enroll", "--db", path_str(db), "--roster", path_str(roster), "--photos", "/"];
    args.extend_from_slice(more);
    let out = kiosk(&args);
    if out.status.success() && !more.contains(&"--ledger") {
        add_sessions(db, &FIRST_SESSIONS);
    }
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The first `n` gallery photos of dev/, as (identity, path).
pub fn gallery(faces: &Path, n: usize) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(faces.join("dev/gallery"))
        .expect("gallery")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    out.sort();
    out.truncate(n);
    out
}

/// The probe photos of `identity` in dev/.
pub fn probes(faces: &Path, identity: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(faces.join("dev/probes").join(identity))
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

pub fn engine() -> kiosk::Engine {
    kiosk::Engine::load(&kiosk::config::Config::default().engine).expect("the real models load")
}

/// A folder of 640x480 camera frames: each person's photos in turn
/// (`per_person` frames), three empty frames between people.
pub fn frame_folder(out: &Path, sequence: &[Vec<PathBuf>], per_person: usize) -> PathBuf {
    std::fs::create_dir_all(out).unwrap();
    let empty = image::RgbImage::from_pixel(640, 480, image::Rgb([118, 118, 118]));
    let mut n = 0;
    let mut save = |img: &image::RgbImage| {
        img.save(out.join(format!("{n:05}.jpg"))).unwrap();
        n += 1;
    };
    for photos in sequence {
        for i in 0..per_person {
            let photo = image::open(&photos[i % photos.len()]).unwrap().to_rgb8();
            save(&kiosk::measure::bench::camera_frame(&photo, 360).unwrap());
        }
        for _ in 0..3 {
            save(&empty);
        }
    }
    out.to_path_buf()
}

/// `dir/frames` with the first `n` live webcam frames of pad/dev, in order.
pub fn live_frames(pad: &Path, dir: &Path, n: usize) -> PathBuf {
    let frames = dir.join("frames");
    std::fs::create_dir_all(&frames).unwrap();
    let mut live: Vec<PathBuf> = std::fs::read_dir(pad.join("live")).unwrap().map(|e| e.unwrap().path()).collect();
    live.sort();
    for p in live.iter().take(n) {
        std::fs::copy(p, frames.join(p.file_name().unwrap())).unwrap();
    }
    frames
}

/// Frames made of press photos are pictures of faces, and the liveness check
/// rightly refuses them (tests/liveness.rs tests it on webcam frames): tests
/// of recognition, recording and sync on such frames turn it off.
pub const PHOTO_FRAMES: &str = "[liveness]\nmode = \"off\"\n";

pub fn photo_frames(mut cfg: kiosk::config::Config) -> kiosk::config::Config {
    cfg.liveness.mode = kiosk::vision::liveness::Mode::Off;
    cfg
}

/// A free port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
