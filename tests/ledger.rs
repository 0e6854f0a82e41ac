//! Several kiosks on one PostgreSQL ledger, for real: a throw-away server per
//! test, real kiosk processes under Xvfb on frames made from real photos,
//! the server killed with SIGKILL, a kiosk's network link cut and restored,
//! and the dashboard in headless Chromium.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::pg::Cluster;
use common::*;

/// A roster of `n` dev/ people with at least three probe photos, codes L01...;
/// returns the roster file and (code, identity).
fn roster(faces: &Path, dir: &Path, n: usize, skip: usize) -> (PathBuf, Vec<(String, String)>) {
    let chosen: Vec<(String, PathBuf)> =
        gallery(faces, 120).into_iter().filter(|(id, _)| probes(faces, id).len() >= 3).skip(skip).take(n).collect();
    let mut csv = String::from("code,name,delegation,seat,photo\n");
    let mut out = Vec::new();
    for (i, (id, photo)) in chosen.iter().enumerate() {
        let code = format!("L{:02}", i + skip + 1);
        let delegation = ["Đoàn Hà Nội", "Đoàn Thừa Thiên Huế", "Đoàn Cần Thơ"][i % 3];
        csv.push_str(&format!("{code},Đại biểu {},{delegation},B-{i},{}\n", id.replace('_', " "), photo.display()));
        out.push((code, id.clone()));
    }
    let path = dir.join(format!("roster-{skip}.csv"));
    std::fs::write(&path, csv).unwrap();
    (path, out)
}

fn run_ok(args: &[&str]) -> String {
    let o = kiosk(args);
    assert!(o.status.success(), "kiosk {args:?}: {}{}", stdout(&o), stderr(&o));
    stdout(&o)
}

/// Frames of each identity's probe photos in turn (`per_person` each), grey frames between.
fn frames(faces: &Path, out: &Path, identities: &[&str], per_person: usize) -> PathBuf {
    std::fs::create_dir_all(out).unwrap();
    let empty = image::RgbImage::from_pixel(640, 480, image::Rgb([118, 118, 118]));
    let mut n = 0;
    let mut save = |img: &image::RgbImage| {
        img.save(out.join(format!("{n:05}.jpg"))).unwrap();
        n += 1;
    };
    for id in identities {
        let photos = probes(faces, id);
        for i in 0..per_person {
            let photo = image::open(&photos[i % photos.len()]).unwrap().to_rgb8();
            save(&kiosk::measure::bench::camera_frame(&photo, 360).unwrap());
        }
        for _ in 0..2 {
            save(&empty);
        }
    }
    out.to_path_buf()
}

/// Settings for kiosks that play frames at `fps`.
fn settings(dir: &Path, fps: f32) -> PathBuf {
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, format!("[kiosk]\nframes_fps = {fps}\ncooldown_seconds = 0\n")).unwrap();
    path
}

fn xvfb_ok(test: &str) -> bool {
    let ok = Command::new("xvfb-run").arg("--help").output().is_ok();
    if !ok {
        println!("SKIPPED {test}: xvfb-run is missing (tools/setup.sh installs it)");
    }
    ok
}

/// `kiosk run --once` of one kiosk on the ledger, in its own X server
/// (number `display`), optionally inside network namespace `netns`.
fn start_kiosk(netns: Option<&str>, display: u32, cfg: &Path, url: &str, db: &Path, id: &str, frames: &Path) -> Child {
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, "xvfb-run"]);
            c
        }
        None => Command::new("xvfb-run"),
    };
    cmd.args(["-n", &display.to_string(), "-s", "-screen 0 1280x800x24"])
        .arg(env!("CARGO_BIN_EXE_kiosk"))
        .args(["run", "--once", "--windowed", "--session", "Phiên 1", "--config", path_str(cfg), "--ledger", url])
        .args(["--db", path_str(db), "--kiosk-id", id, "--frames", path_str(frames)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xvfb-run starts")
}

fn finish(child: Child) -> String {
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "kiosk run failed: {}{}", stdout(&o), stderr(&o));
    stdout(&o)
}

/// The codes a `kiosk run` printed as checked in.
fn checked_in(report: &str) -> Vec<String> {
    let line = report.lines().find(|l| l.starts_with("check-ins:")).expect("a check-ins line");
    let inner = line.split_once('(').map(|(_, r)| r.trim_end_matches(')')).unwrap_or_default();
    inner.split(", ").filter(|s| !s.is_empty()).map(String::from).collect()
}

/// Outbox entries still waiting in a kiosk's local copy.
fn outbox(db: &Path) -> i64 {
    rusqlite::Connection::open(db)
        .and_then(|c| c.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0)))
        .unwrap_or(-1)
}

fn display_base() -> u32 {
    200 + std::process::id() % 400
}

#[test]
fn commands_work_on_the_ledger_and_a_single_kiosk_file_comes_in_once() {
    let Some(faces) = faces("ledger commands") else { return };
    let Some(pg) = Cluster::start("ledger commands") else { return };
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();

    // Before `ledger init`, every command says what to do.
    let o = kiosk(&["stats", "--ledger", &url]);
    assert!(!o.status.success() && stderr(&o).contains("kiosk ledger init"), "{}", stderr(&o));
    assert!(run_ok(&["ledger", "init", "--ledger", &url]).contains("ready"));
    assert!(run_ok(&["ledger", "init", "--ledger", &url]).contains("up to date"), "init runs again safely");
    // An unreachable server: a clear error, quickly.
    let started = Instant::now();
    let o = kiosk(&["stats", "--ledger", "postgresql://kiosk@127.0.0.1:9/none"]);
    assert!(!o.status.success() && stderr(&o).contains("cannot reach the ledger"), "{}", stderr(&o));
    assert!(started.elapsed() < Duration::from_secs(10));

    let (roster, people) = roster(&faces, dir.path(), 4, 0);
    run_ok(&["enroll", "--ledger", &url, "--roster", path_str(&roster), "--photos", "/"]);
    assert_eq!(pg.count("SELECT count(*) FROM delegates"), 4);
    assert_eq!(pg.count("SELECT count(*) FROM templates"), 4);
    run_ok(&["session", "add", "Phiên 1", "--ledger", &url]);
    let said = run_ok(&["checkin", "--ledger", &url, "--session", "Phiên 1", "--code", &people[0].0, "--reason", "t"]);
    assert!(said.contains("Checked in"), "{said}");
    let said = run_ok(&["checkin", "--ledger", &url, "--session", "Phiên 1", "--code", &people[0].0, "--reason", "t"]);
    assert!(said.contains("Already checked in"), "the ledger's check-in is seen: {said}");
    let stats = run_ok(&["stats", "--ledger", &url, "--session", "Phiên 1"]);
    assert!(stats.contains("1 / 4 present"), "{stats}");

    // A kiosk that ran alone: the same roster, one delegate checked in there later, one only there.
    let file = dir.path().join("alone.db");
    assert!(enroll_roster(&file, &roster).status.success());
    for code in [&people[0].0, &people[1].0] {
        run_ok(&["checkin", "--db", path_str(&file), "--session", "Phiên 1", "--code", code, "--reason", "t"]);
    }
    let said = run_ok(&["ledger", "import", "--ledger", &url, "--db", path_str(&file)]);
    assert!(said.contains("1 check-ins the ledger already had"), "{said}");
    assert_eq!(pg.count("SELECT count(*) FROM attendance"), 2, "one row per delegate and session");
    let o = kiosk(&["ledger", "import", "--ledger", &url, "--db", path_str(&file)]);
    assert!(!o.status.success() && stderr(&o).contains("imported already"), "{}", stderr(&o));
    assert_eq!(pg.count("SELECT count(*) FROM attendance"), 2);
    assert_eq!(pg.count("SELECT count(*) FROM audit WHERE action = 'duplicate_check_in'"), 1);
    assert!(run_ok(&["audit", "verify", "--ledger", &url]).contains("intact"));
    // The earlier check-in (the ledger's own) is the one kept.
    let kept: String =
        pg.client().query_one("SELECT kiosk FROM attendance WHERE delegate_code = $1", &[&people[0].0]).unwrap().get(0);
    assert_eq!(kept, "kiosk-1");

    // Removal and a new session reach the ledger too.
    run_ok(&["remove", "--ledger", &url, "--reason", "t", &people[3].0]);
    assert_eq!(pg.count("SELECT count(*) FROM delegates"), 3, "a delegate who never attended goes");
    assert_eq!(pg.count("SELECT count(*) FROM templates"), 3);
    let stats = run_ok(&["stats", "--ledger", &url, "--session", "Phiên 1"]);
    assert!(stats.contains("2 / 3 present"), "{stats}");
}

#[test]
fn four_kiosks_through_a_server_crash_record_every_delegate_exactly_once() {
    let Some(faces) = faces("four kiosks") else { return };
    if !xvfb_ok("four kiosks") {
        return;
    }
    let Some(mut pg) = Cluster::start("four kiosks") else { return };
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();
    run_ok(&["ledger", "init", "--ledger", &url]);
    let (roster, people) = roster(&faces, dir.path(), 8, 0);
    run_ok(&["enroll", "--ledger", &url, "--roster", path_str(&roster), "--photos", "/"]);
    let cfg = settings(dir.path(), 3.0);

    // Kiosk k sees people k..k+4: every delegate passes two or three kiosks.
    let base = display_base();
    let mut kiosks = Vec::new();
    for k in 0..4 {
        let ids: Vec<&str> = (0..5).map(|i| people[(k * 2 + i) % 8].1.as_str()).collect();
        let folder = frames(&faces, &dir.path().join(format!("frames{k}")), &ids, 5);
        let db = dir.path().join(format!("door{k}.db"));
        let child = start_kiosk(None, base + k as u32, &cfg, &url, &db, &format!("door-{k}"), &folder);
        kiosks.push((child, db));
    }
    std::thread::sleep(Duration::from_secs(3));
    pg.kill9();
    std::thread::sleep(Duration::from_secs(5));
    let waiting: i64 = kiosks.iter().map(|(_, db)| outbox(db)).sum();
    pg.run();
    let back = Instant::now();
    // Everything written during the outage reaches the ledger within 5 s of its return.
    while kiosks.iter().any(|(_, db)| outbox(db) > 0) && back.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let drained = back.elapsed();
    println!("{waiting} outbox entries waited during the outage; outboxes empty {drained:?} after the server was back");
    assert!(waiting > 0, "the kiosks went on checking people in while the server was down");

    let mut printed = Vec::new();
    for (child, _) in kiosks {
        let report = finish(child);
        assert!(report.contains("ledger: every check-in sent"), "{report}");
        printed.extend(checked_in(&report));
    }
    let recorded = pg.count("SELECT count(*) FROM attendance");
    let duplicates = pg.count("SELECT count(*) FROM audit WHERE action = 'duplicate_check_in'");
    let mut distinct = printed.clone();
    distinct.sort();
    distinct.dedup();
    println!(
        "kiosks printed {} check-ins of {} delegates; ledger: {recorded} rows, {duplicates} duplicates",
        printed.len(),
        distinct.len()
    );
    assert_eq!(distinct.len(), 8, "every delegate was checked in somewhere: {printed:?}");
    assert_eq!(recorded, 8, "exactly one attendance per delegate");
    assert_eq!(recorded + duplicates, printed.len() as i64, "none lost, none counted twice");
    assert!(run_ok(&["audit", "verify", "--ledger", &url]).contains("intact"));
    assert!(drained <= Duration::from_secs(5), "outboxes took {drained:?} to empty after the server came back");
    let status = run_ok(&["ledger", "status", "--ledger", &url]);
    for k in 0..4 {
        assert!(status.contains(&format!("door-{k}")), "{status}");
    }
}

#[test]
fn a_re_enrolment_reaches_a_running_kiosk() {
    let Some(faces) = faces("re-enrolment") else { return };
    if !xvfb_ok("re-enrolment") {
        return;
    }
    let Some(pg) = Cluster::start("re-enrolment") else { return };
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();
    run_ok(&["ledger", "init", "--ledger", &url]);
    let (first, _) = roster(&faces, dir.path(), 3, 0);
    run_ok(&["enroll", "--ledger", &url, "--roster", path_str(&first), "--photos", "/"]);
    // The latecomer, not enrolled when the kiosk starts, stands in front of it all along.
    let (late, latecomer) = roster(&faces, dir.path(), 1, 3);
    let folder = frames(&faces, &dir.path().join("frames"), &[latecomer[0].1.as_str()], 36);
    let cfg = settings(dir.path(), 3.0);
    let db = dir.path().join("door.db");
    let child = start_kiosk(None, display_base() + 10, &cfg, &url, &db, "door-late", &folder);
    std::thread::sleep(Duration::from_secs(4));
    run_ok(&["enroll", "--ledger", &url, "--roster", path_str(&late), "--photos", "/"]);
    let report = finish(child);
    assert_eq!(checked_in(&report), [latecomer[0].0.clone()], "{report}");
    let by: String = pg
        .client()
        .query_one("SELECT kiosk FROM attendance WHERE delegate_code = $1", &[&latecomer[0].0])
        .unwrap()
        .get(0);
    assert_eq!(by, "door-late");
}
