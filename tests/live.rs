//! Live check-in on frame sequences made from real photos: the decision
//! across frames, the recording, and the real window under Xvfb.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use kiosk::capture::{FolderSource, FrameSource};
use kiosk::checkin::station::{Event, Station};
use kiosk::config::Config;
use kiosk::store::Store;

/// Enrols `people` gallery photos of dev/ into a new database; returns (db, [(code, identity)]).
fn enrolled(faces: &Path, dir: &Path, people: usize) -> (PathBuf, Vec<(String, String)>) {
    let chosen: Vec<(String, PathBuf)> =
        gallery(faces, 80).into_iter().filter(|(id, _)| probes(faces, id).len() >= 3).take(people).collect();
    let mut csv = String::from("code,name,delegation,seat,photo\n");
    let mut out = Vec::new();
    for (i, (id, photo)) in chosen.iter().enumerate() {
        let code = format!("V{:02}", i + 1);
        csv.push_str(&format!("{code},Đại biểu {id},Đoàn Đà Nẵng,C-{i},{}\n", photo.display()));
        out.push((code, id.clone()));
    }
    let roster = dir.join("roster.csv");
    std::fs::write(&roster, csv).unwrap();
    let db = dir.join("live.db");
    let o = enroll_roster(&db, &roster);
    assert!(o.status.success(), "{}", stderr(&o));
    add_sessions(&db, &["Phiên thử", "Phiên Xvfb"]);
    (db, out)
}

fn impostor_photos(faces: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(faces.join("dev/impostors")).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).collect();
    dirs.sort();
    let dir = dirs.into_iter().find(|d| std::fs::read_dir(d).map(|r| r.count()).unwrap_or(0) >= 2).unwrap();
    std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).collect()
}

#[test]
fn each_person_in_turn_is_checked_in_exactly_once_and_a_stranger_never() {
    let Some(faces) = faces("live sequence") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (db, people) = enrolled(&faces, dir.path(), 4);
    let mut sequence: Vec<Vec<PathBuf>> = people.iter().take(3).map(|(_, id)| probes(&faces, id)).collect();
    sequence.insert(1, impostor_photos(&faces));
    // The first person comes back later: "already checked in", no second record.
    sequence.push(probes(&faces, &people[0].1));
    let folder = frame_folder(&dir.path().join("frames"), &sequence, 16);

    let mut cfg = photo_frames(Config::default());
    cfg.kiosk.cooldown_seconds = 0;
    cfg.kiosk.save_snapshots = true;
    let mut station = Station::new(
        &cfg.station(),
        Store::open(&db).unwrap(),
        std::sync::Arc::new(std::sync::RwLock::new("Phiên thử".to_string())),
    )
    .unwrap();
    let mut source = FolderSource::open(&folder, 1000.0).unwrap();
    let mut welcomes = Vec::new();
    let mut unknowns = 0;
    while let Some(frame) = source.next_frame().unwrap() {
        match station.process(&frame).unwrap().event {
            Some(Event::Welcome { delegate, already, photo, .. }) => {
                let photo = photo.expect("the enrolled photo comes with the welcome");
                assert_eq!(photo.height(), 240);
                welcomes.push((delegate.code, already));
            }
            Some(Event::Unknown) => unknowns += 1,
            Some(Event::AskCode { candidates, .. }) => panic!("nobody here has a lookalike: {candidates:?}"),
            Some(other) => panic!("liveness is off here: {other:?}"),
            None => {}
        }
    }
    let expected: Vec<(String, bool)> = vec![
        (people[0].0.clone(), false),
        (people[1].0.clone(), false),
        (people[2].0.clone(), false),
        (people[0].0.clone(), true),
    ];
    assert_eq!(welcomes, expected);
    assert_eq!(unknowns, 1, "the stranger is told once that they are not recognised");
    let store = Store::open(&db).unwrap();
    assert_eq!(store.attendance_count("Phiên thử").unwrap(), 3);
    assert!(store.attendance("Phiên thử", &people[3].0).unwrap().is_none(), "nobody else was recorded");
    // Each face check-in keeps why it was made: the similarity and the frames that agreed.
    for (code, _) in &people[..3] {
        let (_, method, evidence) = store.attendance("Phiên thử", code).unwrap().unwrap();
        let evidence = evidence.expect("a face check-in keeps its evidence");
        assert_eq!((method, evidence.frames), (kiosk::store::Method::Face, cfg.kiosk.frames_to_agree as u32));
        assert!(evidence.score >= 0.4 && evidence.score <= 1.0, "{evidence:?}");
    }
    // With save_snapshots on, each check-in keeps the face as the camera saw it.
    let shots = store.snapshots("Phiên thử").unwrap();
    let codes: Vec<&str> = shots.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(codes, [&people[0].0, &people[1].0, &people[2].0]);
    for (_, jpeg) in &shots {
        assert_eq!(image::load_from_memory(jpeg).unwrap().height(), 240);
    }
    let out_dir = dir.path().join("shots");
    let said =
        stdout(&kiosk(&["snapshots", "--db", path_str(&db), "--session", "Phiên thử", "--out", path_str(&out_dir)]));
    assert!(said.contains("3 snapshots"), "{said}");
    assert_eq!(std::fs::read(out_dir.join(format!("{}.jpg", people[1].0))).unwrap(), shots[1].1);
}

/// The real window: `kiosk run --frames DIR --once` under Xvfb records the
/// check-ins and exits 0. Screenshots go to $KIOSK_SCREENSHOTS when set.
#[test]
fn the_window_runs_under_xvfb_and_records_the_check_ins() {
    let Some(faces) = faces("window under Xvfb") else { return };
    if !xvfb_ok("window under Xvfb") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (db, people) = enrolled(&faces, dir.path(), 2);
    let sequence: Vec<Vec<PathBuf>> = people.iter().map(|(_, id)| probes(&faces, id)).collect();
    let folder = frame_folder(&dir.path().join("frames"), &sequence, 20);
    let cfg = dir.path().join("kiosk.toml");
    std::fs::write(&cfg, PHOTO_FRAMES).unwrap();
    let run = ["run", "--config", path_str(&cfg), "--db", path_str(&db), "--frames", path_str(&folder)];
    let out = kiosk_window(&[&run[..], &["--once", "--session", "Phiên Xvfb"]].concat());
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    let codes: Vec<&str> = people.iter().map(|(c, _)| c.as_str()).collect();
    assert!(text.contains(&format!("check-ins: 2 ({})", codes.join(", "))), "{text}");
    assert_eq!(Store::open(&db).unwrap().attendance_count("Phiên Xvfb").unwrap(), 2);
}

/// One person enrolled under two codes (two different photos of them) is the
/// closest pair of lookalikes there can be: the kiosk must ask for the code
/// and record nothing by face alone, while someone else is checked in as usual.
#[test]
fn a_delegate_with_a_lookalike_is_asked_for_the_code_and_nothing_is_recorded_by_face() {
    let Some(faces) = faces("lookalike at the kiosk") else { return };
    let dir = tempfile::tempdir().unwrap();
    let people: Vec<(String, PathBuf)> =
        gallery(&faces, 80).into_iter().filter(|(id, _)| probes(&faces, id).len() >= 4).take(2).collect();
    let (twin, other) = (&people[0], &people[1]);
    let twin_probes = probes(&faces, &twin.0);
    let roster = dir.path().join("roster.csv");
    std::fs::write(
        &roster,
        format!(
            "code,name,delegation,seat,photo\nL1,Nguyễn Văn Một,Đoàn A,1,{}\nL2,Nguyễn Văn Hai,Đoàn A,2,{}\nL3,Trần Thị Ba,Đoàn B,3,{}\n",
            twin.1.display(),
            twin_probes[0].display(),
            other.1.display()
        ),
    )
    .unwrap();
    let db = dir.path().join("twins.db");
    let out = enroll_roster(&db, &roster);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("lookalike: L1 Nguyễn Văn Một ~ L2 Nguyễn Văn Hai"), "{}", stdout(&out));
    let listed = stdout(&kiosk(&["lookalikes", "--db", path_str(&db)]));
    assert!(
        listed.contains("L1 Nguyễn Văn Một ~ L2 Nguyễn Văn Hai") && listed.contains("1 lookalike pair(s)"),
        "{listed}"
    );

    let folder = frame_folder(&dir.path().join("frames"), &[twin_probes[1..].to_vec(), probes(&faces, &other.0)], 16);
    let mut station = Station::new(
        &photo_frames(Config::default()).station(),
        Store::open(&db).unwrap(),
        std::sync::Arc::new(std::sync::RwLock::new("Phiên 1".to_string())),
    )
    .unwrap();
    let mut source = FolderSource::open(&folder, 1000.0).unwrap();
    let mut events = Vec::new();
    while let Some(frame) = source.next_frame().unwrap() {
        match station.process(&frame).unwrap().event {
            Some(Event::AskCode { candidates, .. }) => {
                let mut codes: Vec<String> = candidates.into_iter().map(|d| d.code).collect();
                codes.sort();
                events.push(format!("code? {}", codes.join(" ")));
            }
            Some(Event::Welcome { delegate, .. }) => events.push(format!("welcome {}", delegate.code)),
            Some(Event::Unknown) => events.push("unknown".into()),
            Some(other) => panic!("{other:?}"),
            None => {}
        }
    }
    assert_eq!(events, ["code? L1 L2", "welcome L3"]);
    let store = Store::open(&db).unwrap();
    assert_eq!(store.attendance_count("Phiên 1").unwrap(), 1, "only L3, by face");

    // `identify` and `checkin --image` say so instead of naming either twin.
    let said = stdout(&kiosk(&["checkin", "--db", path_str(&db), "--image", path_str(&twin_probes[1])]));
    assert!(said.contains("Not checked in: lookalike"), "{said}");
}

/// Flagged as lookalikes (here: everyone, with a lookalike level no face is
/// below), delegates whose faces are clearly their own still get in by face:
/// the code is asked only when the evidence cannot tell the pair apart.
#[test]
fn flagged_lookalikes_who_are_clearly_themselves_get_in_without_a_code() {
    let Some(faces) = faces("clear lookalikes") else { return };
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("alike.toml");
    std::fs::write(&settings, "[decide]\nlookalike = -1.0\n").unwrap();
    let chosen: Vec<(String, PathBuf)> =
        gallery(&faces, 80).into_iter().filter(|(id, _)| probes(&faces, id).len() >= 3).take(3).collect();
    let mut csv = String::from("code,name,delegation,seat,photo\n");
    for (i, (_, photo)) in chosen.iter().enumerate() {
        csv.push_str(&format!("K{i},Đại biểu {i},Đoàn A,{i},{}\n", photo.display()));
    }
    let roster = dir.path().join("roster.csv");
    std::fs::write(&roster, csv).unwrap();
    let db = dir.path().join("alike.db");
    let out = enroll_roster_with(&db, &roster, &["--config", path_str(&settings)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("3 lookalike pair(s)"), "{}", stdout(&out));
    let cfg = photo_frames(Config::load(Some(&settings)).unwrap());
    let sequence: Vec<Vec<PathBuf>> = chosen.iter().map(|(id, _)| probes(&faces, id)).collect();
    let folder = frame_folder(&dir.path().join("frames"), &sequence, 16);
    let session = std::sync::Arc::new(std::sync::RwLock::new("Phiên 1".to_string()));
    let mut station = Station::new(&cfg.station(), Store::open(&db).unwrap(), session).unwrap();
    let mut source = FolderSource::open(&folder, 1000.0).unwrap();
    let mut events = Vec::new();
    while let Some(frame) = source.next_frame().unwrap() {
        match station.process(&frame).unwrap().event {
            Some(Event::Welcome { delegate, .. }) => events.push(format!("welcome {}", delegate.code)),
            Some(Event::AskCode { .. }) => events.push("code?".into()),
            Some(other) => events.push(format!("{other:?}")),
            None => {}
        }
    }
    assert_eq!(events, ["welcome K0", "welcome K1", "welcome K2"]);
}
