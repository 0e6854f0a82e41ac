//! A fresh install: `kiosk run` with no congress yet shows the demo congress
//! in its window instead of an error, and `kiosk demo` writes one to try.

mod common;

use std::process::Command;

use common::*;
use kiosk::store::Store;

#[test]
fn with_no_database_the_window_opens_the_demo_congress() {
    let Some(pad) = pad("first run") else { return };
    if !xvfb_ok("first run") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    live_frames(&pad, dir.path(), 12);
    let out = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24", env!("CARGO_BIN_EXE_kiosk"), "run", "--frames", "frames", "--once"])
        .current_dir(dir.path())
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("showing the demo congress") && stderr(&out).contains("admin PIN 2468"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("frames processed: 12"), "{}", stdout(&out));
    assert!(stdout(&out).contains("check-ins: 0 "), "nobody has a face enrolled: {}", stdout(&out));
    let store = Store::open(&dir.path().join("kiosk-demo/demo.db")).unwrap();
    assert_eq!(store.delegates().unwrap().len(), 30);
    assert_eq!(store.sessions().unwrap().len(), 2);
}

#[test]
fn kiosk_demo_writes_a_congress_and_the_settings_that_open_it() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("demo");
    let said = run_ok(&["demo", "--out", path_str(&out_dir)]);
    assert!(said.contains("30 delegates") && said.contains("admin PIN 2468"), "{said}");
    let settings = out_dir.join("kiosk.toml");
    let cfg = kiosk::config::Config::load(Some(&settings)).unwrap();
    assert!(kiosk::base::pin::verify_pin("2468", &cfg.kiosk.admin_pin_hash));
    assert_eq!(cfg.store.database, out_dir.canonicalize().unwrap().join("demo.db"));
    // Again: the same congress, nothing doubled.
    run_ok(&["demo", "--out", path_str(&out_dir)]);
    let stats = run_ok(&["stats", "--config", path_str(&settings)]);
    assert!(stats.contains("0/30") || stats.contains("0 / 30"), "{stats}");
    let delegations = stats.lines().filter(|l| l.contains("Công đoàn") || l.contains("Liên đoàn")).count();
    assert_eq!(delegations, 7, "{stats}");
    // A command that needs faces says what to do.
    let o = kiosk(&["identify", "--config", path_str(&settings), path_str(&settings)]);
    assert!(stderr(&o).contains("no delegate is enrolled"), "{}", stderr(&o));
}
