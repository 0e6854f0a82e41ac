//! The secretariat's commands on a real enrolled database: sessions, stats,
//! the attendance list, the audit chain and the biometric purge.

mod common;

use std::path::{Path, PathBuf};

use common::workbook::{self, Member, bytes, ods_cell, unzip, zip_into};
use common::*;
use kiosk::store::{Delegate, Evidence, Method, Store};
use rusqlite::Connection;

/// `n` delegates without photos, in a new database: enough for the secretariat's commands.
fn roster_only(dir: &Path, n: usize) -> PathBuf {
    let db = dir.join("roster.db");
    let mut store = Store::open(&db).unwrap();
    store
        .transaction(|tx| {
            for i in 0..n {
                let name = format!("Đại biểu Số {i}");
                let d = Delegate {
                    code: format!("R{i:03}"),
                    name,
                    delegation: format!("Đoàn {}", i % 7),
                    ..Delegate::default()
                };
                tx.upsert_delegate(&d)?;
            }
            Ok(())
        })
        .unwrap();
    add_sessions(&db, &["P", "Phiên 1"]);
    db
}

/// Four programs checking delegates in on one file at once: every check-in
/// is recorded, none fails with "database is locked" (about 300 of 400 did
/// when transactions were deferred).
#[test]
fn four_writers_record_400_check_ins_and_lose_none() {
    let dir = tempfile::tempdir().unwrap();
    let db = roster_only(dir.path(), 400);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || {
                (0..100)
                    .filter(|i| {
                        let code = format!("R{:03}", w * 100 + i);
                        let out = kiosk(&[
                            "checkin",
                            "--db",
                            path_str(&db),
                            "--code",
                            &code,
                            "--reason",
                            "at the door",
                            "--session",
                            "Phiên 1",
                        ]);
                        if !out.status.success() {
                            eprintln!("{code}: {}", stderr(&out));
                        }
                        !out.status.success()
                    })
                    .count()
            })
        })
        .collect();
    let failed: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(failed, 0);
    let store = Store::open(&db).unwrap();
    assert_eq!(store.attendance_count("Phiên 1").unwrap(), 400);
    assert_eq!(store.verify_audit(None).unwrap().broken, None);
}

/// The head written down (`kiosk audit head`) catches what the chain alone
/// cannot: a log cut short, emptied, or rewritten from the start.
#[test]
fn a_written_down_audit_head_catches_a_cut_an_emptied_or_a_rewritten_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = roster_only(dir.path(), 5);
    let mut store = Store::open(&db).unwrap();
    for code in ["R000", "R001", "R002"] {
        store.manual_check_in("P", code, "k", "test").unwrap();
    }
    drop(store);
    let head = stdout(&kiosk(&["audit", "head", "--db", path_str(&db)])).trim().to_string();
    let (count, hash) = head.split_once(' ').unwrap();
    assert_eq!(count, "3", "{head}");
    let anchor = format!("{count}:{hash}");
    let verify = || kiosk(&["audit", "verify", "--db", path_str(&db), "--head", &anchor]);
    assert!(verify().status.success(), "{}", stdout(&verify()));
    // More entries after the head still extend it.
    Store::open(&db).unwrap().manual_check_in("P", "R003", "k", "late").unwrap();
    assert!(verify().status.success(), "{}", stdout(&verify()));
    let stats = stdout(&kiosk(&["stats", "--db", path_str(&db), "--session", "P"]));
    assert!(stats.contains("audit head: 4 "), "{stats}");

    let copy = |name: &str| {
        let path = dir.path().join(name);
        std::fs::copy(&db, &path).unwrap();
        path
    };
    let broken = |path: &Path| {
        let out = kiosk(&["audit", "verify", "--db", path_str(path), "--head", &anchor]);
        let plain = kiosk(&["audit", "verify", "--db", path_str(path)]);
        (out.status.success(), plain.status.success(), stdout(&out))
    };
    let cut = copy("cut.db");
    Connection::open(&cut).unwrap().execute("DELETE FROM audit WHERE id >= 3", []).unwrap();
    let (ok, plain_ok, said) = broken(&cut);
    assert!(!ok && plain_ok, "the chain alone does not see a cut tail: {said}");
    assert!(said.contains("cut off"), "{said}");

    let emptied = copy("empty.db");
    Connection::open(&emptied).unwrap().execute("DELETE FROM audit", []).unwrap();
    let (ok, plain_ok, _) = broken(&emptied);
    assert!(!ok && plain_ok);

    // Rewritten: entry 2 changed and every hash after it recomputed.
    let rewritten = copy("rewritten.db");
    let raw = Connection::open(&rewritten).unwrap();
    raw.execute("UPDATE audit SET detail = replace(detail, 'R001', 'R004') WHERE id = 2", []).unwrap();
    let rows: Vec<(i64, String, String, String)> = raw
        .prepare("SELECT id, at, action, detail FROM audit ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut prev = String::new();
    for (id, at, action, detail) in rows {
        let hash = kiosk::store::audit::audit_hash(&prev, &at, &action, &detail);
        raw.execute("UPDATE audit SET prev_hash = ?1, hash = ?2 WHERE id = ?3", rusqlite::params![prev, hash, id])
            .unwrap();
        prev = hash;
    }
    drop(raw);
    let (ok, plain_ok, said) = broken(&rewritten);
    assert!(!ok && plain_ok, "a recomputed chain passes alone: {said}");
    assert!(said.contains("rewritten"), "{said}");
}

/// Names from a roster go into a CSV meant for Excel: a name that is a
/// formula is written as text, and times carry the congress's offset.
#[test]
fn the_csv_export_neutralises_formulas_and_shows_times_with_the_congress_offset() {
    let dir = tempfile::tempdir().unwrap();
    let db = roster_only(dir.path(), 3);
    let mut store = Store::open(&db).unwrap();
    let evil = Delegate { code: "X1".into(), name: "=HYPERLINK(\"http://evil\",\"A\")".into(), ..Delegate::default() };
    store.transaction(|tx| tx.upsert_delegate(&evil)).unwrap();
    store.manual_check_in("P", "X1", "k", "test").unwrap();
    store.manual_check_in("P", "R001", "k", "test").unwrap();
    drop(store);
    let settings = dir.path().join("hanoi.toml");
    std::fs::write(&settings, "[event]\ntime_zone = \"Asia/Ho_Chi_Minh\"\n").unwrap();
    let out_csv = dir.path().join("list.csv");
    let out = kiosk(&[
        "export",
        "--config",
        path_str(&settings),
        "--db",
        path_str(&db),
        "--session",
        "P",
        "--out",
        path_str(&out_csv),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("audit head: "), "{}", stdout(&out));
    let text = std::fs::read_to_string(&out_csv).unwrap();
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(!text.lines().any(|l| l.split(',').nth(1).is_some_and(|c| c.trim_matches('"').starts_with('='))), "{text}");
    let present: Vec<&str> = text.lines().filter(|l| l.contains(",present,")).collect();
    assert_eq!(present.len(), 2, "{text}");
    assert!(present.iter().all(|l| l.contains("+07:00,manual,k")), "{text}");
}

/// Five delegates with real dev/ photos; names share family names on purpose.
fn enrolled(faces: &Path, dir: &Path) -> PathBuf {
    let names = ["Nguyễn Văn Bình", "Trần Thị Anh", "Nguyễn Thị Ánh", "Lê Đức Anh", "Phạm Văn Dũng"];
    let mut csv = String::from("code,name,delegation,seat,photo\n");
    for (i, ((_, photo), name)) in gallery(faces, 5).iter().zip(names).enumerate() {
        let delegation = ["Đoàn Đà Nẵng", "Đoàn Hà Nội"][i % 2];
        csv.push_str(&format!("S{i},{name},{delegation},A-{i},{}\n", photo.display()));
    }
    let roster = dir.join("roster.csv");
    std::fs::write(&roster, csv).unwrap();
    let db = dir.join("s.db");
    let out = enroll_roster(&db, &roster);
    assert!(out.status.success(), "{}", stderr(&out));
    add_sessions(&db, &["P"]);
    db
}

#[test]
fn stats_and_the_attendance_list_sort_the_vietnamese_way() {
    let Some(faces) = faces("secretariat lists") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = enrolled(&faces, dir.path());
    let out = kiosk(&["session", "add", "Phiên 1", "--db", path_str(&db), "--opens", "2026-11-28 08:00"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut store = Store::open(&db).unwrap();
    store.check_in("Phiên 1", "S0", Method::Face, "k1", Some(Evidence { score: 0.8, frames: 3 })).unwrap();
    store.manual_check_in("Phiên 1", "S3", "k2", "badge").unwrap();
    drop(store);

    let stats = stdout(&kiosk(&["stats", "--db", path_str(&db), "--session", "Phiên 1"]));
    assert!(stats.contains("2 / 5 present, quorum 40.0%"), "{stats}");
    let hn = stats.find("Đoàn Hà Nội").unwrap();
    let dn = stats.find("Đoàn Đà Nẵng").unwrap();
    assert!(dn < hn, "Đ comes right after D in the alphabet, before H: {stats}");

    let csv_path = dir.path().join("list.csv");
    let out = kiosk(&["export", "--db", path_str(&db), "--session", "Phiên 1", "--out", path_str(&csv_path)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&csv_path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM so that Excel reads UTF-8");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let names: Vec<&str> = rows.iter().map(|r| &r[1]).collect();
    // By given name (Anh, Anh, Ánh, Bình, Dũng), then family name (Lê before Trần).
    assert_eq!(names, ["Lê Đức Anh", "Trần Thị Anh", "Nguyễn Thị Ánh", "Nguyễn Văn Bình", "Phạm Văn Dũng"]);
    let row = |code: &str| rows.iter().find(|r| &r[0] == code).unwrap().clone();
    assert_eq!(&row("S0")[4], "present");
    assert_eq!(&row("S0")[6], "face");
    assert_eq!(&row("S3")[6], "manual");
    assert_eq!(&row("S3")[7], "k2");
    assert_eq!(&row("S1")[4], "absent");
    assert_eq!(&row("S1")[5], "");
    assert_eq!(&row("S2")[2], "Đoàn Đà Nẵng");

    let manual =
        kiosk(&["checkin", "--db", path_str(&db), "--code", "S4", "--reason", "quên thẻ", "--session", "Phiên 1"]);
    assert!(stdout(&manual).contains("Checked in by hand: Phạm Văn Dũng (S4)"), "{}", stdout(&manual));
    let undo = kiosk(&["undo", "--db", path_str(&db), "--code", "S4", "--reason", "nhập nhầm", "--session", "Phiên 1"]);
    assert!(undo.status.success(), "{}", stdout(&undo));
    let again = kiosk(&["undo", "--db", path_str(&db), "--code", "S4", "--reason", "x", "--session", "Phiên 1"]);
    assert!(!again.status.success() && stdout(&again).contains("nothing to undo"));
    let no_reason = kiosk(&["checkin", "--db", path_str(&db), "--code", "S4"]);
    assert!(!no_reason.status.success(), "a manual check-in needs a reason");
    let audit = Store::open(&db).unwrap().audit_entries().unwrap();
    assert!(audit.iter().any(|(a, d)| a == "undo_check_in" && d.contains("nhập nhầm")));
    assert!(audit.iter().any(|(a, d)| a == "check_in" && d.contains("quên thẻ") && d.contains("manual")));

    let list = stdout(&kiosk(&["session", "list", "--db", path_str(&db)]));
    assert!(list.contains("Phiên 1\topens 2026-11-28 08:00\tcloses -\t2 present"), "{list}");
    let missing = kiosk(&["export", "--db", path_str(&db), "--session", "Nope", "--out", path_str(&csv_path)]);
    assert!(!missing.status.success() && stderr(&missing).contains("no session \"Nope\""));
    // A typo in a check-in is refused with the sessions there are, and makes none.
    let typo = kiosk(&["checkin", "--db", path_str(&db), "--code", "S4", "--reason", "x", "--session", "Phien 1"]);
    let said = format!("{}{}", stdout(&typo), stderr(&typo));
    assert!(!typo.status.success() && said.contains("(sessions: \"Phiên khai mạc\", \"Phiên 1\", \"P\")"), "{said}");
    assert!(!stdout(&kiosk(&["session", "list", "--db", path_str(&db)])).contains("Phien 1"));
    // A session's name heads its papers: short, and plain text.
    for (name, says) in [("P".repeat(101), "101 characters"), ("Phiên\u{1b}[2J".into(), "control characters")] {
        let out = kiosk(&["session", "add", &name, "--db", path_str(&db)]);
        assert!(!out.status.success() && stderr(&out).contains(says), "{}", stderr(&out));
    }
}

#[test]
fn the_audit_chain_shows_an_edited_or_removed_entry() {
    let Some(faces) = faces("audit chain") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = enrolled(&faces, dir.path());
    let mut store = Store::open(&db).unwrap();
    for code in ["S0", "S1", "S2"] {
        store.check_in("P", code, Method::Face, "k", None).unwrap();
    }
    store.undo_check_in("P", "S1", "k", "wrong person").unwrap();
    drop(store);
    let verify = || kiosk(&["audit", "verify", "--db", path_str(&db)]);
    let ok = verify();
    assert!(ok.status.success() && stdout(&ok).contains("audit log intact: 5 entries"), "{}", stdout(&ok));

    let raw = Connection::open(&db).unwrap();
    raw.execute("UPDATE audit SET detail = replace(detail, 'S2', 'S4') WHERE id = 4", []).unwrap();
    let edited = verify();
    assert!(!edited.status.success());
    assert!(stdout(&edited).contains("entry 4 was edited"), "{}", stdout(&edited));
    raw.execute("UPDATE audit SET detail = replace(detail, 'S4', 'S2') WHERE id = 4", []).unwrap();
    raw.execute("DELETE FROM audit WHERE id = 3", []).unwrap();
    let removed = verify();
    assert!(stdout(&removed).contains("entry 4 does not follow"), "{}", stdout(&removed));
}

#[test]
fn purge_deletes_every_embedding_byte_and_keeps_the_attendance() {
    let Some(faces) = faces("purge") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = enrolled(&faces, dir.path());
    let mut store = Store::open(&db).unwrap();
    store.check_in("P", "S2", Method::Face, "k", None).unwrap();
    let photo = image::open(&gallery(&faces, 5)[2].1).unwrap().to_rgb8();
    let face = kiosk::BBox { x0: 70.0, y0: 70.0, x1: 180.0, y1: 190.0 };
    let snapshot = kiosk::vision::decode::face_jpeg(&photo, &face).unwrap();
    store.transaction(|tx| tx.attach_snapshot("P", "S2", &snapshot)).unwrap();
    drop(store);
    let raw = Connection::open(&db).unwrap();
    let column = |sql: &str| -> Vec<Vec<u8>> {
        raw.prepare(sql).unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    let blobs = column("SELECT embedding FROM templates");
    let thumbnails = column("SELECT thumbnail FROM templates");
    drop(raw);
    assert_eq!((blobs.len(), thumbnails.len()), (5, 5));
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    let before = std::fs::read(&db).unwrap();
    let wal = std::fs::read(format!("{}-wal", db.display())).unwrap_or_default();
    assert!(
        blobs.iter().any(|b| contains(&before, &b[..64]) || contains(&wal, &b[..64])),
        "embeddings are in the file before"
    );

    let out = kiosk(&["purge", "--biometrics", "--db", path_str(&db)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains("5 face templates, 5 enrolled photos and 1 face snapshots (check-ins and refused faces) deleted")
            && said.contains("no run of 127 bytes or more"),
        "{said}"
    );
    let after = std::fs::read(&db).unwrap();
    let wal = std::fs::read(format!("{}-wal", db.display())).unwrap_or_default();
    // Every deleted blob in full: embeddings, enrolled photos, the snapshot.
    for b in blobs.iter().chain(&thumbnails).chain([&snapshot]) {
        for chunk in b.chunks(64).filter(|c| c.len() == 64 && c.iter().any(|&x| x != c[0])) {
            assert!(!contains(&after, chunk) && !contains(&wal, chunk), "biometric bytes left in the file");
        }
    }
    let store = Store::open(&db).unwrap();
    assert_eq!(store.template_models().unwrap(), []);
    assert_eq!(store.snapshots("P").unwrap(), []);
    assert_eq!(store.delegate_count().unwrap(), 5, "the roster stays");
    assert!(store.attendance("P", "S2").unwrap().is_some(), "the attendance stays");
    assert!(store.audit_entries().unwrap().iter().any(|(a, _)| a == "purge_biometrics"));
}

#[test]
fn an_excel_roster_goes_in_and_an_excel_attendance_list_comes_out() {
    use calamine::{Data, Reader};
    let Some(faces) = faces("xlsx round trip") else { return };
    let dir = tempfile::tempdir().unwrap();
    // An Excel roster with Vietnamese headers, a numeric seat and an extra column.
    let roster = dir.path().join("danh_sach.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["Mã", "Họ và tên", "Đoàn", "Ghế", "Ảnh", "Chức vụ"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let people = gallery(&faces, 3);
    let names = ["Võ Thị Sáu", "Đặng Văn Ngữ", "Hoàng Văn Thụ"];
    for (i, ((_, photo), name)) in people.iter().zip(names).enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, format!("X{i}")).unwrap();
        sheet.write_string(r, 1, name).unwrap();
        sheet.write_string(r, 2, "Đoàn Quảng Ngãi").unwrap();
        sheet.write_number(r, 3, 10.0 + i as f64).unwrap();
        sheet.write_string(r, 4, photo.to_str().unwrap()).unwrap();
        sheet.write_string(r, 5, "Ủy viên").unwrap();
    }
    book.save(&roster).unwrap();
    let db = dir.path().join("x.db");
    let out = enroll_roster(&db, &roster);
    assert!(out.status.success(), "{}", stderr(&out));
    let store = Store::open(&db).unwrap();
    let d = store.delegate("X1").unwrap().unwrap();
    assert_eq!((d.name.as_str(), d.seat.as_str(), d.extra["Chức vụ"].as_str()), ("Đặng Văn Ngữ", "11", "Ủy viên"));
    drop(store);
    add_sessions(&db, &["Phiên 2"]);
    Store::open(&db).unwrap().check_in("Phiên 2", "X2", Method::Face, "k", None).unwrap();

    let xlsx = dir.path().join("diem_danh.xlsx");
    let out =
        kiosk(&["export", "--db", path_str(&db), "--session", "Phiên 2", "--format", "xlsx", "--out", path_str(&xlsx)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut book = calamine::open_workbook_auto(&xlsx).unwrap();
    // The paper to sign (tests/papers.rs reads it in full): a title block, then the table.
    let list = book.worksheet_range("Danh sách").unwrap();
    let header = (0..20u32).find(|&r| list.get_value((r, 0)) == Some(&Data::String("STT".into()))).unwrap();
    let cell = |r: u32, c: u32| list.get_value((header + r, c)).map(|v| v.to_string()).unwrap_or_default();
    assert_eq!(cell(0, 2), "Họ và tên");
    // Given names Ngữ, Sáu, Thụ: N < S < T.
    assert_eq!([cell(1, 2), cell(2, 2), cell(3, 2)], ["Đặng Văn Ngữ", "Võ Thị Sáu", "Hoàng Văn Thụ"]);
    assert_eq!([cell(3, 1), cell(3, 5), cell(3, 7)], ["X2", "Có mặt", "Khuôn mặt"]);
    assert_eq!(cell(1, 5), "Vắng");
    let summary = book.worksheet_range("Tổng hợp").unwrap();
    let row = (0..20u32)
        .find(|&r| summary.get_value((r, 0)) == Some(&Data::String("Đoàn Quảng Ngãi".into())))
        .expect("the delegation's line");
    let value = |c: u32| summary.get_value((row, c)).cloned();
    assert_eq!(
        [value(1), value(2), value(3)],
        [Some(Data::Float(3.0)), Some(Data::Float(1.0)), Some(Data::Float(2.0))]
    );
    assert_eq!(value(4), Some(Data::Float(33.3)), "quorum percentage");

    std::fs::write(dir.path().join("broken.xlsx"), b"PK\x03\x04 not really a workbook").unwrap();
    let out = enroll_roster(&db, &dir.path().join("broken.xlsx"));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not a readable workbook"), "{}", stderr(&out));
}

/// An OpenDocument roster: the Vietnamese header row, then `rows` as written.
fn ods(path: &Path, rows: &str) {
    let header: String = ["Mã", "Họ và tên", "Đoàn", "Ghế", "Ảnh"].map(ods_cell).concat();
    std::fs::write(path, workbook::ods(&format!("<table:table-row>{header}</table:table-row>{rows}"))).unwrap();
}

/// An OpenDocument roster is read as LibreOffice writes it: repeated and
/// empty cells, spaces as `text:s`, entities, and comments left out.
#[test]
fn an_opendocument_roster_is_read_with_its_repeats_spaces_and_comments() {
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("danh_sach.ods");
    ods(
        &roster,
        "<table:table-row><table:table-cell><text:p>D1</text:p></table:table-cell>\
         <table:table-cell><text:p>Nguyễn<text:s text:c=\"2\"/>An &amp; Bình</text:p></table:table-cell>\
         <table:table-cell table:number-columns-repeated=\"2\"><text:p>Q</text:p></table:table-cell><table:table-cell/></table:table-row>\
         <table:table-row table:number-rows-repeated=\"3\"/>\
         <table:table-row><table:table-cell><text:p>D2</text:p><office:annotation><text:p>ghi chú</text:p></office:annotation></table:table-cell>\
         <table:table-cell><text:p>Lê Hà</text:p></table:table-cell><table:table-cell table:number-columns-repeated=\"3\"/></table:table-row>\
         <table:table-row><table:table-cell><text:p>D3</text:p></table:table-cell><table:table-cell><text:p>Zero</text:p></table:table-cell>\
         <table:table-cell table:number-columns-repeated=\"2\"/><table:table-cell><text:p>/dev/zero</text:p></table:table-cell></table:table-row>\
         <table:table-row table:number-rows-repeated=\"1048000\"><table:table-cell table:number-columns-repeated=\"1024\"/></table:table-row>",
    );
    let db = dir.path().join("x.db");
    let out = enroll_roster(&db, &roster);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("line     6  D2"), "the line is the sheet's row: {}", stdout(&out));
    assert!(stdout(&out).contains("not a photo file (a folder, a device or a pipe)"), "{}", stdout(&out));
    let store = Store::open(&db).unwrap();
    let d1 = store.delegate("D1").unwrap().unwrap();
    assert_eq!((d1.name.as_str(), d1.delegation.as_str(), d1.seat.as_str()), ("Nguyễn  An & Bình", "Q", "Q"));
    assert_eq!(store.delegate("D2").unwrap().unwrap().name, "Lê Hà");
}

/// The crafted workbooks of issue 21 are refused by name, in a process held
/// to 200 MiB of data: before, the first aborted allocating 512 GiB and the
/// second took a gigabyte.
#[test]
fn crafted_workbooks_are_refused_with_a_reason_in_bounded_memory() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let far = dir.path().join("far.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["code", "name", "delegation", "seat", "photo"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    book.save(&far).unwrap();

    // A gigabyte of spaces as the one shared string, in a 1 MB file.
    let bomb = dir.path().join("bomb.xlsx");
    let mut members: Vec<(String, Member)> = unzip(&std::fs::read(&far).unwrap())
        .into_iter()
        .filter(|(name, _)| name != "xl/sharedStrings.xml")
        .map(|(name, body)| {
            let body =
                String::from_utf8(body).unwrap().replace("<c r=\"XFD1048576\" t=\"s\"><v>", "<c r=\"A2\" t=\"s\"><v>");
            (name, bytes(body))
        })
        .collect();
    members.push((
        "xl/sharedStrings.xml".into(),
        Box::new(|w| {
            w.write_all(b"<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><si><t>").unwrap();
            let spaces = vec![b' '; 1 << 20];
            (0..1024).for_each(|_| w.write_all(&spaces).unwrap());
            w.write_all(b"</t></si></sst>").unwrap();
        }),
    ));
    zip_into(std::fs::File::create(&bomb).unwrap(), members, zip::CompressionMethod::Deflated);
    assert!(std::fs::metadata(&bomb).unwrap().len() < 2 << 20);

    let rows = dir.path().join("rows.ods");
    let filled = "<table:table-cell table:number-columns-repeated=\"5\"><text:p>x</text:p></table:table-cell>";
    ods(&rows, &format!("<table:table-row table:number-rows-repeated=\"1048575\">{filled}</table:table-row>"));
    let columns = dir.path().join("columns.ods");
    let wide = "<table:table-cell table:number-columns-repeated=\"16384\"><text:p>x</text:p></table:table-cell>";
    ods(&columns, &format!("<table:table-row>{wide}</table:table-row>"));
    // Fifty megabytes of spaces in one cell, from a file of a few kilobytes.
    let spaces = dir.path().join("spaces.ods");
    let space = "<text:s text:c=\"1000\"/>".repeat(50_000);
    ods(
        &spaces,
        &format!("<table:table-row><table:table-cell><text:p>{space}</text:p></table:table-cell></table:table-row>"),
    );
    let old = dir.path().join("old.xls");
    std::fs::write(&old, b"\xD0\xCF\x11\xE0").unwrap();

    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    for (roster, says) in [
        (&far, "cell XFD1048576 is filled, beyond the 100 columns"),
        (&bomb, "unzips to more than 64 MB"),
        (&rows, "more than 200000 filled rows"),
        (&columns, "cell CW2 is filled"),
        (&spaces, "cell A2 holds more than 32767 characters"),
        (&old, "save it as .xlsx"),
    ] {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kiosk"));
        command.args(["enroll", "--db", path_str(&dir.path().join("x.db")), "--roster", path_str(roster)]);
        command.args(["--photos", path_str(&photos)]);
        // SAFETY: setrlimit is async-signal-safe and touches no memory of the parent.
        unsafe {
            command.pre_exec(|| {
                let limit = rustix::process::Rlimit { current: Some(200 << 20), maximum: Some(200 << 20) };
                rustix::process::setrlimit(rustix::process::Resource::Data, limit).map_err(std::io::Error::from)
            });
        }
        let out = command.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{}: a clean refusal, not a crash: {}", roster.display(), stderr(&out));
        assert!(stderr(&out).contains(says), "{}: {}", roster.display(), stderr(&out));
        assert!(!dir.path().join("x.db").exists(), "nothing is made from a refused roster");
    }
}

#[test]
fn removed_delegates_leave_the_roster_and_the_gallery_but_not_the_lists_they_are_on() {
    let Some(faces) = faces("removing delegates") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = enrolled(&faces, dir.path());
    let photo_of_s1 = gallery(&faces, 5)[1].1.clone();
    let mut store = Store::open(&db).unwrap();
    store.check_in("Phiên 1", "S0", Method::Face, "k", Some(Evidence { score: 0.9, frames: 3 })).unwrap();
    store.transaction(|tx| tx.attach_snapshot("Phiên 1", "S0", b"a face")).unwrap();
    drop(store);
    let identify = || stdout(&kiosk(&["identify", "--db", path_str(&db), path_str(&photo_of_s1)]));
    assert!(identify().contains("(S1)"), "{}", identify());

    let out = kiosk(&["remove", "--db", path_str(&db), "--reason", "thay đại biểu", "S0", "S1", "NOPE"]);
    let said = stdout(&out);
    assert!(!out.status.success(), "an unknown code is a failure: {said}");
    assert!(said.contains("S0: removed from the roster") && said.contains("1 session(s) they attended"), "{said}");
    assert!(said.contains("S1: removed, with their face templates"), "{said}");
    assert!(said.contains("NOPE: not on the roster"), "{said}");

    let raw = Connection::open(&db).unwrap();
    let count = |sql: &str| raw.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(count("SELECT count(*) FROM templates WHERE delegate_code IN ('S0', 'S1')"), 0);
    assert_eq!(count("SELECT count(*) FROM delegates WHERE code = 'S1'"), 0, "S1 attended nothing: gone");
    assert_eq!(count("SELECT count(*) FROM delegates WHERE code = 'S0' AND removed_at IS NOT NULL"), 1);
    assert_eq!(count("SELECT count(*) FROM attendance WHERE snapshot IS NOT NULL"), 0, "S0's snapshot went too");
    assert_eq!(count("SELECT count(*) FROM attendance WHERE delegate_code = 'S0'"), 1, "S0's attendance stays");
    drop(raw);
    assert!(identify().contains("no match"), "S1's face is no longer recognised: {}", identify());

    // Phiên 1's list keeps S0, who attended; a later session counts only the roster.
    let stats = |session: &str| stdout(&kiosk(&["stats", "--db", path_str(&db), "--session", session]));
    assert!(stats("Phiên 1").contains("1 / 4 present"), "{}", stats("Phiên 1"));
    kiosk(&["session", "add", "Phiên 2", "--db", path_str(&db)]);
    assert!(stats("Phiên 2").contains("0 / 3 present"), "{}", stats("Phiên 2"));
    let csv = dir.path().join("p1.csv");
    kiosk(&["export", "--db", path_str(&db), "--session", "Phiên 1", "--out", path_str(&csv)]);
    let list = std::fs::read_to_string(&csv).unwrap();
    assert!(list.contains("S0,Nguyễn Văn Bình") && !list.contains("S1,"), "{list}");
    let late = kiosk(&["checkin", "--db", path_str(&db), "--code", "S0", "--reason", "badge", "--session", "Phiên 2"]);
    assert!(!late.status.success() && stderr(&late).contains("no delegate with code S0"), "{}", stderr(&late));
    let err = Store::open(&db).unwrap().check_in("Phiên 2", "S0", Method::Face, "k", None).unwrap_err();
    assert!(err.to_string().contains("S0 was removed from the roster"), "{err}");

    // Enrolling the roster again puts both back; the audit log tells the story.
    let out = enroll_roster(&db, &dir.path().join("roster.csv"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(identify().contains("(S1)"), "{}", identify());
    let store = Store::open(&db).unwrap();
    assert_eq!(store.delegate_count().unwrap(), 5);
    let removals: Vec<String> =
        store.audit_entries().unwrap().into_iter().filter(|(a, _)| a == "remove_delegate").map(|(_, d)| d).collect();
    assert_eq!(removals.len(), 2);
    assert!(removals[0].contains("thay đại biểu") && removals[0].contains("Nguyễn Văn Bình"), "{removals:?}");
    assert!(stdout(&kiosk(&["audit", "verify", "--db", path_str(&db)])).contains("intact"));
}
