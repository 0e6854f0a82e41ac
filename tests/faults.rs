//! The faults a congress day brings, each survived: a full disk while
//! recording, and the kiosk killed in the middle of a queue.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use kiosk::store::Store;

/// A small file system of its own (tmpfs), unmounted when dropped; None,
/// with a note, where mounting is not allowed (it is, as root, in CI).
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(test: &str, megabytes: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let size = format!("size={megabytes}m");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &size, "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            assert!(std::env::var("CI").is_err(), "{test}: CI runs as root and can mount a tmpfs");
            println!("SKIPPED {test}: cannot mount a tmpfs here (run as root)");
            return None;
        }
        Some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills what is left with a file, as a log or a video would.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 << 10];
        while file.write_all(&block).is_ok() {}
        // What a partial block left, byte by byte.
        while file.write_all(&[0]).is_ok() {}
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// A check-in on a full disk is refused with what to do, on the command
/// line and on the kiosk's screen and log; nothing half written stays, and
/// recording resumes once space is freed.
#[test]
fn a_full_disk_refuses_a_check_in_clearly_and_recording_resumes_when_space_returns() {
    let Some(faces) = faces("disk full") else { return };
    if !xvfb_ok("disk full") {
        return;
    }
    let Some(disk) = SmallDisk::mount("disk full", 8) else { return };
    let people = gallery(&faces, 3);
    let db = disk.path().join("kiosk.db");
    enroll_people(&db, &people, "F");
    // One connection kept open keeps the journal files in place, as a
    // running kiosk or dashboard would.
    let held = rusqlite::Connection::open(&db).unwrap();
    held.query_row("SELECT count(*) FROM delegates", [], |r| r.get::<_, i64>(0)).unwrap();
    let frames = tempfile::tempdir().unwrap();
    let probe = probes(&faces, &people[1].0)[0].clone();
    for n in 0..8 {
        std::os::unix::fs::symlink(&probe, frames.path().join(format!("{n:03}.jpg"))).unwrap();
    }
    let cfg = frames.path().join("kiosk.toml");
    std::fs::write(&cfg, PHOTO_FRAMES).unwrap();
    let run = ["run", "--windowed", "--once", "--session", "Phiên 1", "--config", path_str(&cfg)];
    let window =
        || kiosk_window_logged(&[&run[..], &["--db", path_str(&db), "--frames", path_str(frames.path())]].concat());
    let hand = ["checkin", "--db", path_str(&db), "--code", "F0", "--reason", "quên thẻ", "--session", "Phiên 1"];

    let filler = disk.fill();
    let refused = kiosk(&hand);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("is full: free space and try again; nothing was changed"),
        "{}",
        stderr(&refused)
    );
    let shown = window();
    let log = format!("{}{}", stdout(&shown), stderr(&shown));
    assert!(shown.status.success(), "the kiosk goes on: {log}");
    assert!(log.contains("check-in not recorded") && log.contains("is full"), "{log}");
    assert!(log.contains("frames processed: 8"), "{log}");

    std::fs::remove_file(filler).unwrap();
    let store = Store::open(&db).unwrap();
    assert_eq!(store.attendance_count("Phiên 1").unwrap(), 0, "nothing half written");
    drop(store);
    let verify = kiosk(&["audit", "verify", "--db", path_str(&db)]);
    assert!(verify.status.success(), "{}", stdout(&verify));
    assert!(kiosk(&hand).status.success());
    let shown = window();
    assert!(shown.status.success(), "{}", stderr(&shown));
    let store = Store::open(&db).unwrap();
    assert_eq!(store.attendance_count("Phiên 1").unwrap(), 2, "both recorded once space returned");
    assert!(store.attendance("Phiên 1", "F1").unwrap().is_some());
    drop((store, held));
}

/// The codes a kiosk's log says it checked in for the first time: each such
/// line is written after its transaction committed.
fn first_check_ins(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(" check-in code=") && l.contains("already=false"))
        .filter_map(|l| l.split("code=").nth(1)?.split_whitespace().next().map(str::to_string))
        .collect()
}

/// The kiosk killed with SIGKILL at 20 moments of a played queue (chosen by
/// a seeded generator) and started again each time: every check-in it had
/// logged is still recorded, none is recorded twice, the audit chain holds,
/// and the last run, left to finish, completes the queue.
#[test]
fn twenty_kills_during_a_queue_lose_no_check_in_and_double_none() {
    use rand::{Rng, SeedableRng};
    let Some(faces) = faces("twenty kills") else { return };
    if !xvfb_ok("twenty kills") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let people: Vec<(String, PathBuf)> =
        gallery(&faces, 40).into_iter().filter(|(id, _)| probes(&faces, id).len() >= 2).take(12).collect();
    let db = dir.path().join("kiosk.db");
    enroll_people(&db, &people, "K");
    let sequence: Vec<Vec<PathBuf>> = people.iter().map(|(id, _)| probes(&faces, id)).collect();
    let frames = frame_folder(&dir.path().join("frames"), &sequence, 6);
    let cfg = dir.path().join("kiosk.toml");
    std::fs::write(&cfg, PHOTO_FRAMES).unwrap();
    let screen = Xvfb::start();
    let start = |log: &Path| {
        Command::new(env!("CARGO_BIN_EXE_kiosk"))
            .args(["run", "--windowed", "--once", "--session", "Phiên 1", "--config", path_str(&cfg)])
            .args(["--db", path_str(&db), "--frames", path_str(&frames)])
            .env("DISPLAY", &screen.display)
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .env("KIOSK_LOG", "kiosk=info")
            .stdout(std::fs::File::create(log.with_extension("out")).unwrap())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap()
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(21);
    let mut logged: Vec<String> = Vec::new();
    let mut killed_mid_run = 0;
    for kill in 0..20 {
        let log = dir.path().join(format!("run-{kill}.log"));
        let mut child = start(&log);
        std::thread::sleep(std::time::Duration::from_millis(rng.random_range(300..4_000)));
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        let _ = child.kill();
        child.wait().unwrap();
        logged.extend(first_check_ins(&std::fs::read_to_string(&log).unwrap()));
        let store = Store::open(&db).unwrap_or_else(|e| panic!("after kill {kill}, the database opens: {e}"));
        for code in &logged {
            assert!(store.attendance("Phiên 1", code).unwrap().is_some(), "kill {kill}: {code} was logged, then lost");
        }
    }
    let log = dir.path().join("last.log");
    let status = start(&log).wait().unwrap();
    let said = std::fs::read_to_string(log.with_extension("out")).unwrap();
    assert!(status.success(), "{said}{}", std::fs::read_to_string(&log).unwrap());
    assert!(said.contains(&format!("frames processed: {}", people.len() * 9)), "the last run plays it all: {said}");
    logged.extend(first_check_ins(&std::fs::read_to_string(&log).unwrap()));

    let store = Store::open(&db).unwrap();
    let recorded = store.attendance_count("Phiên 1").unwrap();
    let mut first_times = logged.clone();
    first_times.sort();
    first_times.dedup();
    assert_eq!(first_times.len(), logged.len(), "a delegate was recorded twice as new: {logged:?}");
    // A kill between the commit and its log line leaves a check-in recorded
    // but not logged: more may be recorded than logged, never fewer.
    assert!(recorded >= logged.len(), "{recorded} recorded, {} logged", logged.len());
    let audited = store.audit_entries().unwrap().iter().filter(|(a, _)| a == "check_in").count();
    assert_eq!(audited, recorded, "one audit entry per check-in");
    assert!(recorded >= people.len() - 2, "the queue was checked in: {recorded} of {}", people.len());
    let verify = kiosk(&["audit", "verify", "--db", path_str(&db)]);
    assert!(verify.status.success(), "{}", stdout(&verify));
    println!("20 kills ({killed_mid_run} during a run): {recorded} of {} checked in, 0 lost, 0 doubled", people.len());
}
