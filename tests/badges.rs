//! Delegate badges end to end: `kiosk badges` issues them and writes their QR
//! codes; the codes are read back from the PNG files and from photos with
//! the project's own decoder, and judged against the store as a kiosk does.
//! Real SQLite files, real QR images, real face photos where ../shared has them.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use kiosk::checkin::badge::{BadgeSeen, Problem, judge};
use kiosk::secretariat::badges::BadgeKey;
use kiosk::store::badges::Token;
use kiosk::store::{Delegate, Store};
use kiosk::vision::qr;

fn roster_db(dir: &Path, codes: &[&str]) -> std::path::PathBuf {
    let db = dir.join("kiosk.db");
    let mut store = Store::open(&db).unwrap();
    for (i, code) in codes.iter().enumerate() {
        let d = Delegate {
            code: code.to_string(), name: format!("Nguyễn Thị Đại Biểu {i}"), ..Delegate::default()
        };
        store.transaction(|tx| tx.upsert_delegate(&d)).unwrap();
    }
    db
}

/// The text of the QR code in a PNG file.
fn qr_in(path: &Path) -> String {
    qr::read(&image::open(path).unwrap().to_rgb8()).unwrap_or_else(|| panic!("no QR code read in {}", path.display()))
}

fn seen(store: &Store, text: &str) -> BadgeSeen {
    judge(store, text).unwrap()
}

/// `n` dev/ people (skipping `skip`) with at least two probe photos enrolled
/// as PREFIX0, PREFIX1…, plus `more` roster lines, and everyone's badge
/// issued with its QR code in `dir/qr`: (database, identities, QR folder).
fn badged(
    faces: &Path,
    dir: &Path,
    prefix: &str,
    skip: usize,
    n: usize,
    more: &str,
) -> (PathBuf, Vec<String>, PathBuf) {
    let people: Vec<(String, PathBuf)> =
        gallery(faces, 80).into_iter().filter(|(id, _)| probes(faces, id).len() >= 2).skip(skip).take(n).collect();
    let mut csv = String::from("code,name,delegation,seat,photo\n");
    for (i, (_, photo)) in people.iter().enumerate() {
        csv.push_str(&format!("{prefix}{i},Đại biểu {prefix} {i},Đoàn Huế,B-{i},{}\n", photo.display()));
    }
    csv.push_str(more);
    let roster = dir.join("roster.csv");
    std::fs::write(&roster, csv).unwrap();
    let db = dir.join("kiosk.db");
    let enrolled = enroll_roster(&db, &roster);
    assert!(enrolled.status.success(), "{}{}", stdout(&enrolled), stderr(&enrolled));
    let qr_dir = dir.join("qr");
    run_ok(&["badges", "--db", path_str(&db), "--qr", path_str(&qr_dir)]);
    (db, people.into_iter().map(|(id, _)| id).collect(), qr_dir)
}

#[test]
fn badges_are_issued_read_back_reissued_and_forgeries_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = roster_db(dir.path(), &["D001", "D002", "D003"]);
    let qr_dir = dir.path().join("qr");
    let out = run_ok(&["badges", "--db", path_str(&db), "--qr", path_str(&qr_dir)]);
    assert!(out.contains("3 badges"), "{out}");

    // The key: beside the database, owner-only, and nowhere in the database.
    let key_path = dir.path().join("badge.key");
    let key_text = std::fs::read_to_string(&key_path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let db_bytes = std::fs::read(&db).unwrap();
    assert!(!db_bytes.windows(16).any(|w| w == &key_text.as_bytes()[..16]), "the key must not be in the store");

    let store = Store::open(&db).unwrap();
    let texts: Vec<String> = ["D001", "D002", "D003"].iter().map(|c| qr_in(&qr_dir.join(format!("{c}.png")))).collect();
    for (code, text) in ["D001", "D002", "D003"].iter().zip(&texts) {
        assert!(text.len() <= 40 && text.is_ascii(), "{text}");
        assert!(!text.contains(code), "nothing personal in the QR code: {text}");
        assert_eq!(seen(&store, text), BadgeSeen { code: Some(code.to_string()), valid: true, problem: None });
    }
    // The store does not keep the tokens themselves.
    assert!(!db_bytes.windows(20).any(|w| w == &texts[0].as_bytes()[4..24]));

    // Printing again gives the same badges.
    let again = dir.path().join("again");
    run_ok(&["badges", "--db", path_str(&db), "--codes", "D001", "--qr", path_str(&again)]);
    assert_eq!(qr_in(&again.join("D001.png")), texts[0]);
    assert!(!again.join("D002.png").exists(), "--codes names whose badges are written");

    // One character changed: another token, which nobody issued (or not base32 at all).
    let mut forged = texts[1].clone().into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let verdict = seen(&store, &forged);
    assert!(!verdict.valid && verdict.code.is_none(), "{verdict:?}");
    assert!(matches!(verdict.problem, Some(Problem::Unknown | Problem::Malformed)), "{verdict:?}");
    assert_eq!(seen(&store, "https://example.org/D002").problem, Some(Problem::Malformed));

    // Another congress's key makes a well-formed badge this congress never issued.
    let other = BadgeKey::open_or_create(&dir.path().join("other.key")).unwrap();
    assert_eq!(seen(&store, &other.token("D001", 1).qr_text()).problem, Some(Problem::Unknown));

    // A lost badge: the new one works, the old one is refused as replaced.
    let new_dir = dir.path().join("new");
    let out = run_ok(&["badges", "--db", path_str(&db), "--reissue", "D002", "--qr", path_str(&new_dir)]);
    assert!(out.contains("D002\tbadge 2"), "{out}");
    let renewed = qr_in(&new_dir.join("D002.png"));
    assert_ne!(renewed, texts[1]);
    assert_eq!(seen(&store, &renewed), BadgeSeen { code: Some("D002".into()), valid: true, problem: None });
    assert_eq!(
        seen(&store, &texts[1]),
        BadgeSeen { code: Some("D002".into()), valid: false, problem: Some(Problem::Replaced) }
    );
    let audit = store.audit_entries().unwrap();
    assert_eq!(audit.iter().filter(|(action, _)| action == "badge_issued").count(), 3);
    assert_eq!(audit.iter().filter(|(action, _)| action == "badge_reissued").count(), 1);

    // Bad input says what to do.
    let o = kiosk(&["badges", "--db", path_str(&db), "--codes", "NOPE"]);
    assert!(!o.status.success() && stderr(&o).contains("NOPE"), "{}", stderr(&o));
    std::fs::write(dir.path().join("bad.key"), "not a key").unwrap();
    let cfg = dir.path().join("k.toml");
    std::fs::write(&cfg, format!("[badges]\nkey_file = \"{}\"\n", dir.path().join("bad.key").display())).unwrap();
    let o = kiosk(&["--config", path_str(&cfg), "badges", "--db", path_str(&db)]);
    assert!(!o.status.success() && stderr(&o).contains("is not a badge key"), "{}", stderr(&o));
    assert!(Token::parse(&texts[0]).is_some());
}

/// A delegate photographed holding their badge: `kiosk identify --json`
/// names them by face and reports the badge it read beside the face.
#[test]
fn identify_reports_the_badge_held_up_beside_the_face() {
    let Some(faces) = faces("identify_reports_the_badge_held_up_beside_the_face") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (db, people, qr_dir) = badged(&faces, dir.path(), "B", 0, 2, "");

    // The probe beside the badge, at the scale a webcam sees an arm's-length badge, saved as JPEG.
    let probe = image::open(&probes(&faces, &people[0])[0]).unwrap().to_rgb8();
    let badge = image::open(qr_dir.join("B0.png")).unwrap().to_rgb8();
    let badge = image::imageops::resize(&badge, 120, 120, image::imageops::FilterType::Triangle);
    let mut frame = image::RgbImage::from_pixel(probe.width() + 160, probe.height().max(160), image::Rgb([90, 90, 90]));
    image::imageops::overlay(&mut frame, &probe, 0, 0);
    image::imageops::overlay(&mut frame, &badge, probe.width() as i64 + 20, 20);
    let shot = dir.path().join("with-badge.jpg");
    frame.save(&shot).unwrap();
    let plain = dir.path().join("plain.jpg");
    probe.save(&plain).unwrap();
    // Someone else holding B0's badge.
    let other = image::open(&probes(&faces, &people[1])[0]).unwrap().to_rgb8();
    let stolen = dir.path().join("stolen.jpg");
    kiosk::measure::bench::badge_frame(&other, &qr_in(&qr_dir.join("B0.png")), 140).unwrap().save(&stolen).unwrap();

    let out =
        run_ok(&["identify", "--json", "--db", path_str(&db), path_str(&shot), path_str(&plain), path_str(&stolen)]);
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "{out}");
    let with = lines.iter().find(|l| l["path"].as_str().unwrap().ends_with("with-badge.jpg")).unwrap();
    assert_eq!(with["badge"], serde_json::json!({"code": "B0", "valid": true, "problem": null}), "{with}");
    assert_eq!(with["match"]["code"], "B0", "{with}");
    assert_eq!((&with["reason"], &with["decision"]["method"]), (&"match".into(), &"badge".into()), "{with}");
    let stolen = lines.iter().find(|l| l["path"].as_str().unwrap().ends_with("stolen.jpg")).unwrap();
    assert_eq!(stolen["reason"], "badge_face_mismatch", "{stolen}");
    assert!(stolen["match"].is_null(), "a stolen badge names nobody: {stolen}");
    let without = lines.iter().find(|l| l["path"].as_str().unwrap().ends_with("plain.jpg")).unwrap();
    assert!(without["badge"].is_null(), "{without}");
}

/// What the station made of a sequence of frames, one line per event.
fn play(station: &mut kiosk::checkin::station::Station, frames: &[image::RgbImage]) -> Vec<String> {
    use kiosk::checkin::station::Event;
    let mut events = Vec::new();
    for (i, image) in frames.iter().enumerate() {
        let frame = kiosk::capture::Frame {
            image: std::sync::Arc::new(image.clone()),
            index: i as u64,
            captured: std::time::Instant::now(),
        };
        match station.process(&frame).unwrap().event {
            Some(Event::Welcome { delegate, already: false, .. }) => events.push(format!("welcome {}", delegate.code)),
            Some(Event::BadgeInvalid { problem }) => events.push(format!("invalid {problem:?}")),
            Some(Event::BadgeRefused) => events.push("refused".into()),
            Some(Event::Unknown) => events.push("unknown".into()),
            Some(other) => events.push(format!("{other:?}")),
            None => {}
        }
    }
    events
}

/// At the kiosk, with a 1:N threshold no face reaches (so that only the
/// badge can let anyone in): the delegate with their own badge is checked in
/// by badge and face; a stranger with a delegate's badge, a replaced badge,
/// a QR with no face and a delegate without a face enrolled are not.
#[test]
fn the_station_checks_a_badge_against_the_face_beside_it() {
    let Some(faces) = faces("the_station_checks_a_badge_against_the_face_beside_it") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (db, people, qr_dir) = badged(&faces, dir.path(), "K", 0, 3, "K9,Không Có Ảnh,Đoàn Huế,B-9,\n");
    let badge = |code: &str| qr_in(&qr_dir.join(format!("{code}.png")));
    let (k0, k1, k9) = (badge("K0"), badge("K1"), badge("K9"));
    run_ok(&["badges", "--db", path_str(&db), "--reissue", "K2"]);
    let old_k2 = badge("K2");

    let probe = |who: usize| image::open(&probes(&faces, &people[who])[1]).unwrap().to_rgb8();
    let stranger = {
        let dir = faces.join("dev/impostors");
        let first = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).min().unwrap();
        let photo = if first.is_dir() { kiosk::vision::decode::image_files(&[first])[0].clone() } else { first };
        image::open(photo).unwrap().to_rgb8()
    };
    let frames = |photo: &image::RgbImage, qr: Option<&str>, n: usize| -> Vec<image::RgbImage> {
        let one = match qr {
            Some(text) => kiosk::measure::bench::badge_frame(photo, text, 140).unwrap(),
            None => kiosk::measure::bench::camera_frame(photo, 360).unwrap(),
        };
        let mut out = vec![one; n];
        out.extend(vec![image::RgbImage::from_pixel(640, 480, image::Rgb([118, 118, 118])); 4]);
        out
    };
    let mut cfg = photo_frames(kiosk::config::Config::default());
    cfg.decide.threshold = Some(0.99);
    let open_station = |cfg: &kiosk::config::Config| {
        let session = std::sync::Arc::new(std::sync::RwLock::new("Phiên 1".to_string()));
        kiosk::checkin::station::Station::new(&cfg.station(), Store::open(&db).unwrap(), session).unwrap()
    };
    let mut station = open_station(&cfg);

    assert_eq!(play(&mut station, &frames(&probe(0), None, 14)), ["unknown"], "no face reaches 0.99 alone");
    assert_eq!(play(&mut station, &frames(&probe(0), Some(&k0), 6)), ["welcome K0"]);
    assert_eq!(play(&mut station, &frames(&stranger, Some(&k1), 16)), ["refused"], "a stolen badge");
    assert_eq!(play(&mut station, &frames(&probe(2), Some(&old_k2), 14)), ["invalid Replaced", "unknown"]);
    let qr_alone = vec![
        kiosk::measure::bench::badge_frame(
            &image::RgbImage::from_pixel(200, 250, image::Rgb([118, 118, 118])),
            &k1,
            140
        )
        .unwrap();
        8
    ];
    assert!(play(&mut station, &qr_alone).is_empty(), "a badge alone never checks in a delegate with a face");
    assert_eq!(play(&mut station, &frames(&probe(1), Some(&k9), 6)), ["refused"], "no face enrolled: the help desk");
    // The settings may let a delegate without a face in on the badge alone.
    cfg.badges.without_face = kiosk::secretariat::badges::WithoutFace::Accept;
    let mut lenient = open_station(&cfg);
    assert_eq!(play(&mut lenient, &frames(&probe(1), Some(&k9), 6)), ["welcome K9"]);

    let store = Store::open(&db).unwrap();
    let method = |code: &str| store.attendance("Phiên 1", code).unwrap().map(|(_, m, _)| m.as_str());
    assert_eq!(
        (method("K0"), method("K1"), method("K2"), method("K9")),
        (Some("badge"), None, None, Some("badge_only"))
    );
    let audit = store.audit_entries().unwrap();
    let entry = |action: &str| audit.iter().find(|(a, _)| a == action).map(|(_, d)| d.clone()).unwrap_or_default();
    assert!(entry("badge_face_mismatch").contains("\"code\":\"K1\""), "{audit:?}");
    assert!(entry("badge_refused").contains("replaced"), "{audit:?}");
    assert!(entry("badge_without_face").contains("K9"), "{audit:?}");
}

/// The printed badges, A6 and CR80: every page rendered (pdftoppm) and every
/// QR code on it read back with the project's decoder, each a valid badge of
/// its delegate; long Vietnamese names are printed whole.
#[test]
fn printed_badges_read_back_page_by_page() {
    if std::process::Command::new("pdftoppm").arg("-v").output().is_err() {
        assert!(std::env::var("CI").is_err(), "pdftoppm (poppler-utils) is missing: tools/setup.sh installs it");
        println!("SKIPPED printed_badges_read_back_page_by_page: no pdftoppm");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let long = "Tôn Nữ Thị Phương Thảo Quỳnh Anh Khuê Hoàng Phủ";
    let codes: Vec<String> = (0..13).map(|i| format!("V{i:03}")).collect();
    let db = roster_db(dir.path(), &codes.iter().map(String::as_str).collect::<Vec<_>>());
    let mut store = Store::open(&db).unwrap();
    let d = Delegate {
        code: "V004".into(),
        name: long.into(),
        delegation: "Bà Rịa – Vũng Tàu".into(),
        ..Delegate::default()
    };
    store.transaction(|tx| tx.upsert_delegate(&d)).unwrap();
    for (layout, pages) in [("a6", 4), ("cr80", 2)] {
        let pdf = dir.path().join(format!("{layout}.pdf"));
        let out = run_ok(&["badges", "--db", path_str(&db), "--out", path_str(&pdf), "--layout", layout]);
        assert!(out.contains(&format!("13 badges on {pages} A4 sheets")), "{out}");
        let prefix = dir.path().join(layout);
        let rendered = std::process::Command::new("pdftoppm")
            .args(["-r", "150", "-png", path_str(&pdf), path_str(&prefix)])
            .status()
            .unwrap();
        assert!(rendered.success());
        let mut read: Vec<String> = Vec::new();
        // A kiosk sees one badge at a time: each card is cut out of the page and read alone.
        let (card_mm, grid) = if layout == "a6" { ((105.0, 148.5), (2, 2)) } else { ((85.6, 54.0), (2, 5)) };
        for page in 1..=pages {
            let png = image::open(dir.path().join(format!("{layout}-{page}.png"))).unwrap().to_rgb8();
            let px = png.width() as f64 / 210.0;
            let (cw, ch) = ((card_mm.0 * px) as u32, (card_mm.1 * px) as u32);
            let x0 = (png.width() - cw * grid.0) / 2;
            let y0 = (png.height() - ch * grid.1) / 2;
            let mut on_page = 0;
            for i in 0..grid.0 * grid.1 {
                let (x, y) = (x0 + (i % grid.0) * cw, y0 + (i / grid.0) * ch);
                let card = image::imageops::crop_imm(&png, x, y, cw, ch).to_image();
                if let Some(text) = qr::read(&card) {
                    on_page += 1;
                    read.push(text);
                }
            }
            let per_page = (grid.0 * grid.1) as usize;
            assert_eq!(on_page, per_page.min(13 - (page - 1) * per_page), "{layout} page {page}");
        }
        let mut named: Vec<String> =
            read.iter().map(|t| seen(&store, t)).map(|s| s.code.filter(|_| s.valid).unwrap()).collect();
        named.sort();
        assert_eq!(named, codes, "{layout}: every badge once, each valid");
        let text = std::process::Command::new("pdftotext").args([path_str(&pdf), "-"]).output().unwrap();
        let words = String::from_utf8_lossy(&text.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(words.contains(long), "{layout}: the long name is printed whole: {words}");
        assert!(!words.contains('…'), "{layout}: nothing is cut");
    }
    // The shapes are kept for a later look in target/screenshots.
    let shots = screenshots();
    std::fs::copy(dir.path().join("cr80-1.png"), shots.join("badges-cr80.png")).unwrap();
    std::fs::copy(dir.path().join("a6-1.png"), shots.join("badges-a6.png")).unwrap();
}

/// The real window under Xvfb playing a badge queue (every frame is
/// processed): two delegates with their own badges get in, a stranger with a
/// delegate's badge is turned away, and the run's summary says so.
#[test]
fn the_window_plays_a_badge_queue() {
    let Some(faces) = faces("the_window_plays_a_badge_queue") else { return };
    if !xvfb_ok("the_window_plays_a_badge_queue") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, people, qr_dir) = badged(&faces, dir.path(), "W", 3, 3, "");
    let badge = |i: usize| qr_in(&qr_dir.join(format!("W{i}.png")));
    let probe = |i: usize| image::open(&probes(&faces, &people[i])[1]).unwrap().to_rgb8();
    let stranger = image::open(&probes(&faces, &gallery(&faces, 80)[70].0)[0]).unwrap().to_rgb8();
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    let empty = image::RgbImage::from_pixel(640, 480, image::Rgb([118, 118, 118]));
    let mut sequence = Vec::new();
    for (photo, text, n) in [(probe(0), badge(0), 8), (stranger, badge(1), 16), (probe(2), badge(2), 8)] {
        sequence.extend(vec![kiosk::measure::bench::badge_frame(&photo, &text, 140).unwrap(); n]);
        sequence.extend(vec![empty.clone(); 4]);
    }
    for (n, image) in sequence.iter().enumerate() {
        image.save(frames.join(format!("{n:05}.jpg"))).unwrap();
    }
    let cfg = dir.path().join("kiosk.toml");
    std::fs::write(&cfg, format!("{PHOTO_FRAMES}[decide]\nthreshold = 0.99\n")).unwrap();
    let run = ["run", "--config", path_str(&cfg), "--db", path_str(&db), "--frames", path_str(&frames), "--once"];
    add_sessions(&db, &["Phiên thẻ"]);
    let out = kiosk_window(&[&run[..], &["--session", "Phiên thẻ"]].concat());
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.contains(&format!("frames processed: {}", sequence.len())), "every frame: {text}");
    assert!(text.contains("check-ins: 2 (W0, W2)"), "{text}");
    assert!(text.contains("badges refused (another face, or no face enrolled): 1"), "{text}");
}
