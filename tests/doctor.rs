//! `kiosk doctor`: a healthy set-up passes every check it was asked for, and
//! each broken part fails with its own line, the others still checked.

mod common;

use std::path::Path;

use common::pg::Cluster;
use common::*;

/// A database with three dev people enrolled, and settings a venue would have.
fn set_up(faces: &Path, dir: &Path, more_settings: &str) -> (String, String) {
    let mut csv = String::from("code,name,delegation,seat,photo\n");
    for (i, (id, photo)) in gallery(faces, 3).iter().enumerate() {
        csv.push_str(&format!("D{i},Nguyễn Văn {id},Công đoàn Đà Nẵng,A-{i},{}\n", photo.display()));
    }
    std::fs::write(dir.join("roster.csv"), csv).unwrap();
    let db = dir.join("kiosk.db");
    let o = enroll_roster(&db, &dir.join("roster.csv"));
    assert!(o.status.success(), "{}", stderr(&o));
    let pin = kiosk::base::pin::hash_pin("2468").unwrap();
    let settings = dir.join("kiosk.toml");
    let text =
        format!("[event]\ntime_zone = \"Asia/Ho_Chi_Minh\"\n[kiosk]\nadmin_pin_hash = \"{pin}\"\n{more_settings}");
    std::fs::write(&settings, text).unwrap();
    (path_str(&db).to_string(), path_str(&settings).to_string())
}

/// The line of the check `name`.
fn line<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines().find(|l| l[6..].starts_with(&format!("{name}:"))).unwrap_or_else(|| panic!("no {name} line in\n{out}"))
}

#[test]
fn a_healthy_kiosk_passes_under_a_real_display() {
    let Some(faces) = faces("doctor, healthy") else { return };
    if !xvfb_ok("doctor, healthy") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, settings) = set_up(&faces, dir.path(), "");
    let out = kiosk_window(&["doctor", "--config", &settings, "--db", &db, "--skip", "camera"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    for name in [
        "settings",
        "ONNX Runtime",
        "models",
        "database",
        "delegates",
        "display",
        "ledger",
        "disk",
        "time zone",
        "admin PIN",
        "fonts",
    ] {
        assert!(line(&text, name).starts_with("OK "), "{text}");
    }
    assert!(line(&text, "delegates").contains("3 delegates, 3 with a face"), "{text}");
    assert!(line(&text, "display").contains("X11"), "{text}");
    assert!(line(&text, "time zone").contains("Asia/Ho_Chi_Minh"), "{text}");
    assert!(!text.contains("camera:"), "a skipped check is not run: {text}");
}

#[test]
fn each_broken_part_fails_with_its_name_and_what_to_do() {
    let Some(faces) = faces("doctor, broken") else { return };
    let dir = tempfile::tempdir().unwrap();
    // A models folder with the embedder gone, and a ledger nobody listens at.
    let models = dir.path().join("models");
    std::fs::create_dir(&models).unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    for entry in std::fs::read_dir(&shipped).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != "sface.onnx" {
            std::fs::copy(&path, models.join(path.file_name().unwrap())).unwrap();
        }
    }
    let more = format!(
        "[engine]\nmodels_dir = \"{}\"\n[ledger]\nurl = \"postgresql://kiosk@127.0.0.1:{}/congress\"\n",
        models.display(),
        free_port()
    );
    let (db, settings) = set_up(&faces, dir.path(), "");
    std::fs::write(dir.path().join("broken.toml"), std::fs::read_to_string(&settings).unwrap() + &more).unwrap();
    let out =
        kiosk(&["doctor", "--config", path_str(&dir.path().join("broken.toml")), "--db", &db, "--skip", "camera"]);
    let text = stdout(&out);
    assert!(!out.status.success(), "{text}");
    let models_line = line(&text, "models");
    assert!(models_line.starts_with("FAIL") && models_line.contains("sface.onnx"), "{text}");
    assert!(models_line.contains("git checkout -- models/"), "{text}");
    assert!(line(&text, "ledger").starts_with("FAIL"), "{text}");
    assert!(line(&text, "display").starts_with("FAIL"), "no DISPLAY here: {text}");
    assert!(line(&text, "database").starts_with("OK"), "the other checks still run: {text}");
    assert!(text.trim_end().ends_with("3 check(s) failed"), "{text}");

    // Settings that cannot be read: said first, and the rest checked on the built-in ones.
    std::fs::write(dir.path().join("typo.toml"), "[kiosk]\nframes_to_agre = 3\n").unwrap();
    let out = kiosk(&[
        "doctor",
        "--config",
        path_str(&dir.path().join("typo.toml")),
        "--db",
        &db,
        "--skip",
        "camera,display",
    ]);
    let text = stdout(&out);
    assert!(!out.status.success());
    assert!(line(&text, "settings").starts_with("FAIL") && text.contains("unknown field `frames_to_agre`"), "{text}");
    assert!(line(&text, "admin PIN").starts_with("FAIL") && text.contains("kiosk admin-pin"), "{text}");

    // A PIN written where its hash belongs is refused with the settings, by name.
    let mangled = dir.path().join("mangled.toml");
    std::fs::write(&mangled, "[kiosk]\nadmin_pin_hash = \"2468\"\n").unwrap();
    let out = kiosk(&["doctor", "--config", path_str(&mangled), "--db", &db, "--skip", "camera,display"]);
    let text = stdout(&out);
    let settings_line = line(&text, "settings");
    assert!(settings_line.starts_with("FAIL") && settings_line.contains("kiosk.admin_pin_hash"), "{text}");

    // No camera on this machine: the camera check fails and says how to fix it.
    let out = kiosk(&["doctor", "--config", &settings, "--db", &db, "--skip", "display"]);
    assert!(line(&stdout(&out), "camera").starts_with("FAIL"), "{}", stdout(&out));
    assert!(!out.status.success());
}

#[test]
fn a_reachable_ledger_is_checked_for_its_schema_and_clock() {
    let Some(faces) = faces("doctor, ledger") else { return };
    let Some(pg) = Cluster::start("doctor, ledger") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (db, settings) = set_up(&faces, dir.path(), "");
    let url = pg.url();
    let before = kiosk(&["doctor", "--config", &settings, "--db", &db, "--ledger", &url, "--skip", "camera,display"]);
    assert!(line(&stdout(&before), "ledger").contains("ledger init"), "{}", stdout(&before));
    run_ok(&["ledger", "init", "--ledger", &url]);
    let out = kiosk(&["doctor", "--config", &settings, "--db", &db, "--ledger", &url, "--skip", "camera,display"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    let ledger = line(&text, "ledger");
    assert!(ledger.starts_with("OK") && ledger.contains("clock is"), "{text}");
}
