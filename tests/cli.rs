//! The `kiosk` command line end to end: enrolment from a roster, identify,
//! check-in, and what happens with bad input. Real models, real photos,
//! real SQLite files.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use rusqlite::Connection;

const NAMES: [&str; 6] =
    ["Nguyễn Văn An", "Trần Thị Bích Ngọc", "Lê Hoàng Đức", "Phạm Thị Hương", "Nguyễn Thị Ánh Tuyết", "Võ Quốc Việt"];

/// A roster of six delegates with dev/ gallery photos, plus rows that must be
/// reported: a missing photo, a corrupt photo, a picture without a face, two
/// people in one photo, a delegate with no photo, a duplicate code.
struct Fixture {
    _dir: tempfile::TempDir,
    db: PathBuf,
    roster: PathBuf,
    photos: PathBuf,
    /// (code, identity) of the enrolled six.
    enrolled: Vec<(String, String)>,
}

fn fixture(faces: &Path) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    let people: Vec<(String, PathBuf)> =
        gallery(faces, 60).into_iter().filter(|(id, _)| probes(faces, id).len() >= 2).take(6).collect();
    let mut csv = String::from("code,name,delegation,seat,photo,role\n");
    let mut enrolled = Vec::new();
    for (i, ((id, photo), name)) in people.iter().zip(NAMES).enumerate() {
        let file = format!("{id}.jpg");
        std::fs::copy(photo, photos.join(&file)).unwrap();
        let code = format!("D{:03}", i + 1);
        csv.push_str(&format!("{code},{name},Đoàn {},A-{},{file},Đại biểu\n", ["Hà Nội", "Huế"][i % 2], i + 1));
        enrolled.push((code, id.clone()));
    }
    std::fs::write(photos.join("corrupt.jpg"), b"\xFF\xD8\xFF\xE0 not really a jpeg").unwrap();
    image::RgbImage::from_fn(300, 300, |x, y| image::Rgb([(x % 200) as u8, (y % 180) as u8, 120]))
        .save(photos.join("wall.png"))
        .unwrap();
    let (a, b) = (image::open(&people[0].1).unwrap().to_rgb8(), image::open(&people[1].1).unwrap().to_rgb8());
    let mut pair = image::RgbImage::new(500, 250);
    image::imageops::overlay(&mut pair, &a, 0, 0);
    image::imageops::overlay(&mut pair, &b, 250, 0);
    pair.save(photos.join("pair.jpg")).unwrap();
    csv.push_str("D101,Đặng Văn Missing,Đoàn Huế,B-1,missing.jpg,\n");
    csv.push_str("D102,Bùi Thị Corrupt,Đoàn Huế,B-2,corrupt.jpg,\n");
    csv.push_str("D103,Hồ Văn Wall,Đoàn Huế,B-3,wall.png,\n");
    csv.push_str("D104,Lý Thị Pair,Đoàn Huế,B-4,pair.jpg,\n");
    csv.push_str("D105,Không Có Ảnh,Đoàn Huế,B-5,,Khách mời\n");
    csv.push_str("D001,Trùng Mã,Đoàn Huế,B-6,wall.png,\n");
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, csv).unwrap();
    Fixture { db: dir.path().join("kiosk.db"), roster, photos, enrolled, _dir: dir }
}

/// `kiosk enroll`, then the sessions these tests check in to.
fn enroll(f: &Fixture) -> std::process::Output {
    let out =
        kiosk(&["enroll", "--db", path_str(&f.db), "--roster", path_str(&f.roster), "--photos", path_str(&f.photos)]);
    if out.status.success() {
        add_sessions(&f.db, &["Phiên 1", "S", "K"]);
    }
    out
}

fn count(db: &Path, sql: &str) -> i64 {
    Connection::open(db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn enrolment_reports_every_row_and_a_second_run_updates_without_duplicates() {
    let Some(faces) = faces("enrolment") else { return };
    let f = fixture(&faces);
    let out = enroll(&f);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stdout(&out);
    for (code, _) in &f.enrolled {
        let line =
            report.lines().find(|l| l.contains(code.as_str())).unwrap_or_else(|| panic!("{code} missing:\n{report}"));
        assert!(line.ends_with("enrolled"), "{line}");
    }
    let line = |code: &str| report.lines().find(|l| l.contains(code)).unwrap().to_string();
    assert!(line("D101").contains("photo file not found"), "{report}");
    assert!(line("D102").contains("photo unreadable"), "{report}");
    assert!(line("D103").contains("no face"), "{report}");
    assert!(line("D104").contains("faces in the photo"), "{report}");
    assert!(line("D105").contains("no photo"), "{report}");
    assert!(stderr(&out).contains(":13: code D001 is already used on line 2"), "{}", stderr(&out));
    assert!(report.contains("6 of 11 delegates enrolled"), "{report}");
    assert!(report.contains("Nguyễn Thị Ánh Tuyết"), "diacritics survive: {report}");

    assert_eq!(count(&f.db, "SELECT count(*) FROM delegates"), 11);
    assert_eq!(count(&f.db, "SELECT count(*) FROM templates"), 6);
    let again = enroll(&f);
    assert!(again.status.success());
    assert_eq!(count(&f.db, "SELECT count(*) FROM delegates"), 11);
    assert_eq!(count(&f.db, "SELECT count(*) FROM templates"), 6, "a second run replaces, never duplicates");
    let name: String = Connection::open(&f.db)
        .unwrap()
        .query_row("SELECT name FROM delegates WHERE code = 'D002'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(name, NAMES[1]);
}

#[test]
fn identify_names_enrolled_people_and_refuses_strangers() {
    let Some(faces) = faces("identify") else { return };
    let f = fixture(&faces);
    assert!(enroll(&f).status.success());
    let probe_paths: Vec<PathBuf> = f.enrolled.iter().map(|(_, id)| probes(&faces, id)[0].clone()).collect();
    let stranger =
        std::fs::read_dir(faces.join("dev/impostors")).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).min().unwrap();
    let stranger_photo = std::fs::read_dir(&stranger).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).min().unwrap();
    let wall = f.photos.join("wall.png");
    let mut args = vec!["identify", "--db", path_str(&f.db), "--json"];
    args.extend(probe_paths.iter().map(|p| path_str(p)));
    args.push(path_str(&stranger_photo));
    args.push(path_str(&wall));
    let out = kiosk(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), probe_paths.len() + 2);
    let mut right = 0;
    for (((code, _), line), probe) in f.enrolled.iter().zip(&lines).zip(&probe_paths) {
        assert_eq!(line["path"].as_str(), Some(path_str(probe)));
        match line["match"]["code"].as_str() {
            Some(c) => {
                assert_eq!(c, code, "a match must be the right person: {line}");
                right += 1;
            }
            None => assert_ne!(line["reason"], "match"),
        }
    }
    assert!(right >= 5, "{right} of 6 probes recognised");
    let stranger_line = &lines[probe_paths.len()];
    assert!(stranger_line["match"].is_null(), "a stranger is never matched: {stranger_line}");
    assert_eq!(lines[probe_paths.len() + 1]["reason"], "no_face");
    for line in &lines {
        assert_eq!(line["reason"], line["decision"]["reason"], "one spelling per reason: {line}");
    }

    // A folder is walked, as `embed` walks it.
    let folder = faces.join("dev/probes").join(&f.enrolled[0].1);
    let out = kiosk(&["identify", "--db", path_str(&f.db), "--json", path_str(&folder)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), probes(&faces, &f.enrolled[0].1).len());
    assert!(lines.iter().all(|l| l["path"].as_str().unwrap().starts_with(path_str(&folder))));
    assert!(lines.iter().any(|l| l["match"]["code"] == f.enrolled[0].0.as_str()), "{lines:?}");
}

#[test]
fn checkin_records_once_and_says_so_the_second_time() {
    let Some(faces) = faces("checkin") else { return };
    let f = fixture(&faces);
    assert!(enroll(&f).status.success());
    let (code, id) = &f.enrolled[0];
    let probe = probes(&faces, id)[0].clone();
    let args = ["checkin", "--db", path_str(&f.db), "--image", path_str(&probe), "--session", "Phiên 1"];
    let first = kiosk(&args);
    assert!(first.status.success(), "{}{}", stdout(&first), stderr(&first));
    assert!(stdout(&first).contains("Checked in: Nguyễn Văn An (D001)"), "{}", stdout(&first));
    let second = kiosk(&args);
    assert!(stdout(&second).contains("Already checked in"), "{}", stdout(&second));
    assert_eq!(count(&f.db, &format!("SELECT count(*) FROM attendance WHERE delegate_code = '{code}'")), 1);
    // A face that is not enrolled: a clear "not checked in" and a non-zero exit.
    let wall = f.photos.join("wall.png");
    let refused = kiosk(&["checkin", "--db", path_str(&f.db), "--image", path_str(&wall), "--session", "Phiên 1"]);
    assert!(!refused.status.success());
    assert!(stdout(&refused).contains("Not checked in: no_face (no face)"), "{}", stdout(&refused));
    assert_eq!(count(&f.db, "SELECT count(*) FROM attendance"), 1);
}

#[test]
fn another_embedder_asks_for_re_enrolment_instead_of_mixing_models() {
    let Some(faces) = faces("model_switch") else { return };
    let f = fixture(&faces);
    assert!(enroll(&f).status.success());
    let probe = probes(&faces, &f.enrolled[0].1)[0].clone();
    let out = kiosk(&["--embedder", "dlib", "identify", "--db", path_str(&f.db), path_str(&probe)]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("sface-128-v1 (6 templates)") && err.contains("re-enrol"), "{err}");
    // Enrolling with the other model adds its templates beside the first ones.
    let again = kiosk(&[
        "--embedder",
        "dlib",
        "enroll",
        "--db",
        path_str(&f.db),
        "--roster",
        path_str(&f.roster),
        "--photos",
        path_str(&f.photos),
    ]);
    assert!(again.status.success(), "{}", stderr(&again));
    let out = kiosk(&["--embedder", "dlib", "identify", "--db", path_str(&f.db), "--json", path_str(&probe)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(count(&f.db, "SELECT count(DISTINCT model) FROM templates"), 2);
}

#[test]
fn a_locked_database_is_reported_and_nothing_is_lost() {
    let Some(faces) = faces("locked_db") else { return };
    let f = fixture(&faces);
    assert!(enroll(&f).status.success());
    let (_, id) = &f.enrolled[1];
    let probe = probes(&faces, id)[0].clone();
    let args = ["checkin", "--db", path_str(&f.db), "--image", path_str(&probe), "--session", "S"];
    let holder = Connection::open(&f.db).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    // A short wait, so that the test does not sit out the default minute.
    let impatient = f.db.with_extension("toml");
    std::fs::write(&impatient, "[store]\nbusy_wait_seconds = 1.0\n").unwrap();
    let blocked = kiosk(&[&["--config", path_str(&impatient)], &args[..]].concat());
    assert!(!blocked.status.success());
    assert!(stderr(&blocked).contains("is locked by another program"), "{}", stderr(&blocked));
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert_eq!(count(&f.db, "SELECT count(*) FROM templates"), 6);
    let after = kiosk(&args);
    assert!(after.status.success(), "{}", stderr(&after));
}

/// Root ignores file permissions, so the file is made immutable instead.
#[test]
fn a_read_only_database_is_reported_and_left_intact() {
    let Some(faces) = faces("read_only_db") else { return };
    let f = fixture(&faces);
    assert!(enroll(&f).status.success());
    let chattr =
        |flag: &str| Command::new("chattr").arg(flag).arg(&f.db).status().map(|s| s.success()).unwrap_or(false);
    if !chattr("+i") {
        println!("SKIPPED read_only_db: chattr +i is not available on this file system");
        return;
    }
    let probe = probes(&faces, &f.enrolled[2].1)[0].clone();
    let out = kiosk(&["checkin", "--db", path_str(&f.db), "--image", path_str(&probe), "--session", "S"]);
    assert!(chattr("-i"));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is read-only"), "{}", stderr(&out));
    assert_eq!(count(&f.db, "SELECT count(*) FROM templates"), 6);
}

#[test]
fn missing_database_roster_columns_and_photo_folder_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none.db");
    let out = kiosk(&["identify", "--db", path_str(&db), "x.jpg"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("run `kiosk enroll"), "{}", stderr(&out));

    let roster = dir.path().join("r.csv");
    std::fs::write(&roster, "code,name,seat\nD1,A,1\n").unwrap();
    let out =
        kiosk(&["enroll", "--db", path_str(&db), "--roster", path_str(&roster), "--photos", path_str(dir.path())]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("missing column(s) delegation, photo"), "{}", stderr(&out));
    assert!(!db.exists(), "no database is made from a roster that cannot be read");

    let out = kiosk(&["enroll", "--db", path_str(&db), "--roster", path_str(&roster), "--photos", "/nonexistent"]);
    assert!(stderr(&out).contains("photo folder /nonexistent does not exist"), "{}", stderr(&out));

    std::fs::write(dir.path().join("garbage.db"), "this is not sqlite, just text padded out to look like a file .....")
        .unwrap();
    let out = kiosk(&["checkin", "--db", path_str(&dir.path().join("garbage.db")), "--image", "x.jpg"]);
    assert!(stderr(&out).contains("not a kiosk database"), "{}", stderr(&out));
}

#[test]
fn embed_prints_one_json_line_per_image_with_errors_inline() {
    let Some(faces) = faces("embed_json") else { return };
    let dir = tempfile::tempdir().unwrap();
    for (id, p) in gallery(&faces, 2) {
        std::fs::copy(p, dir.path().join(format!("{id}.jpg"))).unwrap();
    }
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/broken.jpg"), b"nope").unwrap();
    let out = kiosk(&["embed", "--json", path_str(dir.path())]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    for line in &lines[..2] {
        assert!(line["error"].is_null());
        assert!(line["path"].as_str().unwrap().starts_with(path_str(dir.path())));
        let face = &line["faces"][0];
        assert_eq!(face["embedding"].as_array().unwrap().len(), 128);
        assert_eq!(face["box"].as_array().unwrap().len(), 4);
        assert_eq!(face["landmarks"].as_array().unwrap().len(), 5);
    }
    assert!(lines[2]["path"].as_str().unwrap().ends_with("sub/broken.jpg"));
    assert!(lines[2]["error"].as_str().unwrap().contains("not an image"), "{}", lines[2]);

    // A folder of links picks photos out without copying them; an empty one is a wrong path.
    let links = tempfile::tempdir().unwrap();
    let first = lines[0]["path"].as_str().unwrap();
    std::os::unix::fs::symlink(first, links.path().join("picked.jpg")).unwrap();
    let out = kiosk(&["embed", "--json", path_str(links.path())]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    assert!(stdout(&out).contains("\"error\":null"), "{}", stdout(&out));
    let empty = tempfile::tempdir().unwrap();
    let out = kiosk(&["embed", "--json", path_str(empty.path())]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no image files"), "{}", stderr(&out));
}

/// kill -9 at any moment of a check-in run: the database still opens, every
/// check-in that was reported stays recorded, and nothing enrolled is lost.
#[test]
fn a_check_in_survives_kill_9() {
    let Some(faces) = faces("kill_9") else { return };
    let f = fixture(&faces);
    assert!(enroll(&f).status.success());
    let mut reported = Vec::new();
    for (i, (code, id)) in f.enrolled.iter().enumerate() {
        let probe = probes(&faces, id)[1].clone();
        let mut child = Command::new(env!("CARGO_BIN_EXE_kiosk"))
            .args(["checkin", "--db", path_str(&f.db), "--image", path_str(&probe), "--session", "K"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // Kill some runs at staggered moments, let the others finish.
        if i % 2 == 0 {
            std::thread::sleep(Duration::from_millis(40 + 60 * i as u64));
            child.kill().unwrap();
        }
        let out = child.wait_with_output().unwrap();
        if stdout(&out).contains("Checked in") {
            reported.push(code.clone());
        }
    }
    assert!(!reported.is_empty(), "some check-ins completed");
    let conn = Connection::open(&f.db).unwrap();
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    for code in &reported {
        let n: i64 =
            conn.query_row("SELECT count(*) FROM attendance WHERE delegate_code = ?1", [code], |r| r.get(0)).unwrap();
        assert_eq!(n, 1, "{code} was reported checked in");
    }
    assert_eq!(count(&f.db, "SELECT count(*) FROM templates"), 6);
}

/// The roster is the truth about photos and consent: several photos give
/// several templates, a photo taken off the roster or a consent withdrawn
/// removes templates, and one photo used for two delegates is flagged.
#[test]
fn several_photos_consent_and_shared_photos_follow_the_roster() {
    let Some(faces) = faces("roster_truth") else { return };
    let dir = tempfile::tempdir().unwrap();
    let people: Vec<(String, PathBuf)> =
        gallery(&faces, 60).into_iter().filter(|(id, _)| probes(&faces, id).len() >= 2).take(3).collect();
    let (a, b, c) = (&people[0], &people[1], &people[2]);
    let a_probe = probes(&faces, &a.0)[0].clone();
    let roster = dir.path().join("r.csv");
    let db = dir.path().join("k.db");
    let report = dir.path().join("report.csv");
    let write =
        |rows: &str| std::fs::write(&roster, format!("code,name,delegation,seat,photo,consent\n{rows}")).unwrap();
    write(&format!(
        "A1,Người Một,X,1,{} | {},yes\nB2,Người Hai,X,2,{},no\nC3,Người Ba,X,3,{},\nC4,Người Bốn,X,4,{},\n",
        a.1.display(),
        a_probe.display(),
        b.1.display(),
        c.1.display(),
        c.1.display()
    ));
    let run = || {
        let out = enroll_roster_with(&db, &roster, &["--report", path_str(&report)]);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let first = run();
    let templates = |code: &str| count(&db, &format!("SELECT count(*) FROM templates WHERE delegate_code = '{code}'"));
    assert_eq!((templates("A1"), templates("B2"), templates("C3"), templates("C4")), (2, 0, 1, 1));
    assert!(first.contains("no biometric consent"), "{first}");
    assert!(first.contains("WARNING: the same photo as C3"), "{first}");
    assert!(first.contains("lookalike: C3 Người Ba ~ C4 Người Bốn (1.00)"), "the lookalike audit lists them: {first}");
    let csv = std::fs::read_to_string(&report).unwrap();
    assert!(csv.starts_with('\u{feff}') && csv.contains("Người Hai") && csv.contains(",C3"), "{csv}");
    let c4_row = csv.lines().find(|l| l.contains(",C4,")).unwrap();
    assert!(c4_row.ends_with(",C3,C3 (1.00)"), "same photo as C3, and C3 its lookalike: {c4_row}");

    // A1 keeps one photo, C3 withdraws consent.
    write(&format!(
        "A1,Người Một,X,1,{},yes\nB2,Người Hai,X,2,{},no\nC3,Người Ba,X,3,{},không\n",
        a.1.display(),
        b.1.display(),
        c.1.display()
    ));
    run();
    assert_eq!(
        (templates("A1"), templates("C3"), templates("C4")),
        (1, 0, 1),
        "C4 is not on this roster: left as it was"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM delegates"), 4);
}

/// A copy of the program elsewhere, with its models, settings and runtime
/// beside it, uses those and not the checkout it was built in.
#[test]
fn an_installed_copy_finds_its_files_next_to_itself() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("opt-kiosk");
    std::fs::create_dir_all(home.join("bin")).unwrap();
    std::fs::create_dir_all(home.join("kiosk-config")).unwrap();
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::os::unix::fs::symlink(checkout.join("models"), home.join("models")).unwrap();
    std::os::unix::fs::symlink(checkout.join(".ort"), home.join(".ort")).unwrap();
    std::fs::write(home.join("kiosk-config/default.toml"), "[event]\nname = \"Installed\"\n").unwrap();
    let program = home.join("bin/kiosk");
    std::fs::copy(env!("CARGO_BIN_EXE_kiosk"), &program).unwrap();
    let out = Command::new(&program).arg("paths").current_dir("/").output().unwrap();
    let said = stdout(&out);
    assert!(out.status.success(), "{said}{}", stderr(&out));
    assert!(said.contains(&format!("kiosk folder: {} (found next to the kiosk program)", home.display())), "{said}");
    assert!(said.contains(&format!("settings: {}", home.join("kiosk-config/default.toml").display())), "{said}");
    let ort = home.join(".ort").join(kiosk::vision::runtime::ORT_LIBRARY);
    assert!(said.contains(&format!("ONNX Runtime: {}\n", ort.display())), "{said}");
    assert!(!said.lines().any(|l| l.starts_with("models") && l.contains("(missing)")), "{said}");
    // Its own settings file is the one read: a broken one is refused by name.
    std::fs::write(home.join("kiosk-config/default.toml"), "[decide]\nthreshold = nan\n").unwrap();
    let out = Command::new(&program).args(["embed", "/nonexistent.jpg"]).current_dir("/").output().unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&home.join("kiosk-config/default.toml").display().to_string()) && err.contains("decide.threshold"),
        "{err}"
    );
}

/// What the program writes holds names and faces: its owner's alone, even a
/// database made readable to all by an older version or a `cp`.
#[test]
fn every_file_the_program_writes_is_its_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    run_ok(&["demo", "--out", path_str(&demo)]);
    let settings = demo.join("kiosk.toml");
    let db = demo.join("demo.db");
    let cfg = path_str(&settings);
    run_ok(&["checkin", "--config", cfg, "--session", "Phiên khai mạc", "--code", "DB001", "--reason", "t"]);
    let list = dir.path().join("list.pdf");
    let report = dir.path().join("report.xlsx");
    let csv = dir.path().join("list.csv");
    run_ok(&["export", "--config", cfg, "--session", "Phiên khai mạc", "--format", "pdf", "--out", path_str(&list)]);
    run_ok(&["export", "--config", cfg, "--session", "Phiên khai mạc", "--format", "csv", "--out", path_str(&csv)]);
    let r = ["report", "--config", cfg, "--session", "Phiên khai mạc", "--format", "xlsx", "--out", path_str(&report)];
    run_ok(&r);
    for file in [&db, &settings, &list, &csv, &report] {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    assert_eq!(mode(&demo), 0o700);
    // An old file, readable by every user of the PC, is made private when opened.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    run_ok(&["stats", "--config", cfg]);
    assert_eq!(mode(&db), 0o600);
}

/// A reading command never turns a file into a database, and a reader that
/// goes away (`| head`) ends a command quietly, as ripgrep does.
#[test]
fn reading_commands_leave_empty_and_foreign_files_alone_and_a_closed_pipe_is_no_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let o = kiosk(&["stats", "--db", path_str(&empty)]);
    assert!(!o.status.success() && stderr(&o).contains("empty (0 bytes)"), "{}", stderr(&o));
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0, "still empty");
    let foreign = dir.path().join("contacts.db");
    rusqlite::Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE people (name TEXT)").unwrap();
    let before = std::fs::read(&foreign).unwrap();
    let o = kiosk(&["stats", "--db", path_str(&foreign)]);
    assert!(!o.status.success() && stderr(&o).contains("another program's SQLite database"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&foreign).unwrap(), before, "not touched");

    let demo = dir.path().join("demo");
    run_ok(&["demo", "--out", path_str(&demo)]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(["stats", "--config", path_str(&demo.join("kiosk.toml"))])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "exit {:?}: {}", o.status, stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
}
