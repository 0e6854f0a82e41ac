//! The passive liveness check on real webcam frames: live faces, printed
//! photos and phone replays of ../shared/pad/dev (or $KIOSK_PAD).

mod common;

use std::path::{Path, PathBuf};

use common::*;
use kiosk::store::Store;

/// The frames of `dir` whose names start with `prefix`, in order.
fn frames(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.retain(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix));
    files.sort();
    files
}

fn first(dir: &Path, prefix: &str) -> PathBuf {
    frames(dir, prefix).swap_remove(0)
}

#[test]
fn one_frame_at_a_time_attacks_are_refused_and_real_faces_pass() {
    let Some(dir) = pad("liveness eval") else { return };
    let o = kiosk(&["eval-liveness", path_str(&dir)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let rate = |name: &str| -> f64 {
        let line = out.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("no {name} line: {out}"));
        line.split(':').nth(1).unwrap().trim().split('%').next().unwrap().parse().unwrap()
    };
    println!("{out}");
    assert!(rate("APCER") <= 1.0, "attacks accepted: {out}");
    assert!(rate("BPCER") <= 2.0, "real faces refused: {out}");
    assert!(out.contains("print:") && out.contains("replay:"), "{out}");
}

#[test]
fn liveness_says_for_each_face_whether_it_is_real_with_errors_inline() {
    let Some(dir) = pad("liveness command") else { return };
    let live = first(&dir.join("live"), "apfol_real");
    let spoof = first(&dir.join("spoof"), "apfol_fake");
    let tmp = tempfile::tempdir().unwrap();
    let broken = tmp.path().join("broken.jpg");
    std::fs::write(&broken, b"\xFF\xD8\xFF\xE0 not a picture").unwrap();
    let o = kiosk(&["liveness", "--json", path_str(&live), path_str(&spoof), path_str(&broken)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["faces"][0]["live"], true, "{}", lines[0]);
    assert_eq!(lines[1]["faces"][0]["live"], false, "{}", lines[1]);
    let score = lines[1]["faces"][0]["score"].as_f64().unwrap();
    assert!((0.0..0.5).contains(&score));
    assert_eq!(lines[0]["faces"][0]["box"].as_array().unwrap().len(), 4);
    assert!(lines[2]["error"].as_str().unwrap().contains("broken.jpg"), "{}", lines[2]);

    // A wrong file in place of a liveness model is named, with what to do.
    let models = tmp.path().join("models");
    std::fs::create_dir(&models).unwrap();
    let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models");
    for f in ["retinaface_mnet025.onnx", "sface.onnx", "minifasnet_v1se_4.0.onnx"] {
        std::fs::copy(shipped.join(f), models.join(f)).unwrap();
    }
    std::fs::copy(shipped.join("retinaface_mnet025.onnx"), models.join("minifasnet_v2_2.7.onnx")).unwrap();
    let cfg = tmp.path().join("k.toml");
    std::fs::write(&cfg, format!("[engine]\nmodels_dir = \"{}\"\n", models.display())).unwrap();
    let o = kiosk(&["liveness", "--config", path_str(&cfg), path_str(&live)]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("not a liveness model") && stderr(&o).contains("git checkout -- models/"),
        "{}",
        stderr(&o)
    );
}

/// The first `n` frames of a capture whose file names start with `prefix`,
/// in order, linked into a new folder as `kiosk run --frames` plays them.
fn capture(dir: &Path, prefix: &str, n: usize, out: &Path) -> PathBuf {
    std::fs::create_dir_all(out).unwrap();
    for (i, f) in frames(dir, prefix).iter().take(n).enumerate() {
        std::os::unix::fs::symlink(f, out.join(format!("{i:05}.jpg"))).unwrap();
    }
    out.to_path_buf()
}

fn run_window(cfg: &Path, db: &Path, frames: &Path) -> String {
    let run = ["run", "--config", path_str(cfg), "--db", path_str(db), "--frames", path_str(frames)];
    let out = kiosk_window(&[&run[..], &["--once", "--session", "Phiên bầu cử"]].concat());
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    stdout(&out)
}

/// A phone replaying a delegate's face is refused at the real kiosk: nothing
/// recorded, an audit entry with the snapshot; the delegate in person then
/// gets in at once. The same with a printed photo.
#[test]
fn a_face_held_up_on_a_phone_or_paper_is_refused_and_the_delegate_in_person_gets_in() {
    let Some(dir) = pad("liveness at the kiosk") else { return };
    if !xvfb_ok("liveness at the kiosk") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (live, spoof) = (dir.join("live"), dir.join("spoof"));
    let roster = tmp.path().join("roster.csv");
    std::fs::write(
        &roster,
        format!(
            "code,name,delegation,seat,photo\nL01,Lê Thị Hồng,Đoàn Hà Nội,A-1,{}\nL02,Phạm Văn Đức,Đoàn Huế,A-2,{}\n",
            first(&live, "apfol_real").display(),
            first(&live, "nuaa_0004").display()
        ),
    )
    .unwrap();
    let db = tmp.path().join("door.db");
    let o = enroll_roster(&db, &roster);
    assert!(o.status.success(), "{}", stderr(&o));
    add_sessions(&db, &["Phiên bầu cử"]);
    let cfg = tmp.path().join("k.toml");
    std::fs::write(&cfg, "[kiosk]\nsave_snapshots = true\n[liveness]\nmode = \"passive\"\n").unwrap();

    for (attack, prefix) in [("phone", "apfol_fake"), ("paper", "nuaa_0004")] {
        let frames = capture(&spoof, prefix, 12, &tmp.path().join(attack));
        let said = run_window(&cfg, &db, &frames);
        println!("{attack}:\n{said}");
        assert!(said.contains("check-ins: 0 ()"), "{attack}: {said}");
        assert!(!said.contains("refused as a picture: 0"), "{attack}: {said}");
    }
    let store = Store::open(&db).unwrap();
    assert_eq!(store.attendance_count("Phiên bầu cử").unwrap(), 0);
    let refused: Vec<serde_json::Value> = store
        .audit_entries()
        .unwrap()
        .into_iter()
        .filter(|(action, _)| action == "liveness_refused")
        .map(|(_, detail)| serde_json::from_str(&detail).unwrap())
        .collect();
    // The log (not the screen) names whom the picture showed, for the secretariat.
    assert_eq!(refused.first().unwrap()["resembles"], "L01", "{refused:?}");
    assert_eq!(refused.last().unwrap()["resembles"], "L02", "{refused:?}");
    assert!(refused[0]["score"].as_f64().unwrap() < 0.3, "{}", refused[0]);
    let shots = tmp.path().join("shots");
    let o = kiosk(&["snapshots", "--db", path_str(&db), "--session", "Phiên bầu cử", "--out", path_str(&shots)]);
    assert!(o.status.success(), "{}", stderr(&o));
    for entry in &refused {
        let name = entry["snapshot"].as_str().unwrap();
        assert!(image::open(shots.join(name)).is_ok(), "{name} is the face the kiosk refused");
    }
    drop(store);

    let frames = capture(&live, "apfol_real", 12, &tmp.path().join("in-person"));
    let said = run_window(&cfg, &db, &frames);
    assert!(said.contains("check-ins: 1 (L01)"), "{said}");
    assert!(said.contains("refused as a picture: 0"), "{said}");
}
