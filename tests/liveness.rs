//! The passive liveness check on real webcam frames: live faces, printed
//! photos and phone replays of ../shared/pad/dev (or $KIOSK_PAD).

mod common;

use std::path::PathBuf;

use common::*;

fn pad(test: &str) -> Option<PathBuf> {
    let dir = kiosk::measure::liveness::default_pad_dir();
    if dir.join("manifest.csv").is_file() {
        Some(dir)
    } else {
        println!(
            "SKIPPED {test}: no liveness frames at {} (set KIOSK_PAD to a folder like ../shared/pad/dev)",
            dir.display()
        );
        None
    }
}

fn first(dir: &std::path::Path, prefix: &str) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    files.into_iter().find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix)).unwrap()
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
