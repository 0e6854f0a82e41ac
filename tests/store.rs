//! The SQLite store on real files.

use kiosk::store::{CheckIn, Delegate, Evidence, Method, Store};
use rusqlite::Connection;

fn delegate(code: &str, name: &str) -> Delegate {
    Delegate {
        code: code.into(),
        name: name.into(),
        delegation: "Đoàn Hà Nội".into(),
        seat: "A-1".into(),
        ..Delegate::default()
    }
}

fn store_with_two() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("k.db")).unwrap();
    store
        .transaction(|tx| {
            for session in ["Phiên 1", "Phiên 2", "S"] {
                tx.ensure_session(session)?;
            }
            tx.upsert_delegate(&delegate("D1", "Nguyễn Văn An"))?;
            tx.upsert_delegate(&delegate("D2", "Trần Thị Bình"))
        })
        .unwrap();
    (dir, store)
}

/// A typo must not open a session where the attendance goes unseen.
#[test]
fn a_check_in_to_a_session_that_does_not_exist_is_refused_with_the_list() {
    let (_dir, mut store) = store_with_two();
    let err = store.check_in("Phien 1", "D1", Method::Face, "k", None).unwrap_err().to_string();
    assert!(err.contains("no session \"Phien 1\" (sessions: \"Phiên 1\", \"Phiên 2\", \"S\")"), "{err}");
    assert!(err.contains("kiosk session add"), "{err}");
    assert_eq!(store.sessions().unwrap(), ["Phiên 1", "Phiên 2", "S"]);
    assert!(store.require_session("Phien 1").is_err());
    assert!(store.audit_entries().unwrap().is_empty(), "nothing recorded");
}

#[test]
fn attendance_is_recorded_exactly_once_per_session() {
    let (dir, mut store) = store_with_two();
    let first =
        store.check_in("Phiên 1", "D1", Method::Face, "kiosk-1", Some(Evidence { score: 0.8, frames: 3 })).unwrap();
    let CheckIn::Recorded { at } = first else { panic!("{first:?}") };
    let again = store.check_in("Phiên 1", "D1", Method::Manual, "kiosk-2", None).unwrap();
    assert_eq!(again, CheckIn::AlreadyCheckedIn { at });
    // Another session is another attendance.
    assert!(matches!(
        store.check_in("Phiên 2", "D1", Method::Face, "kiosk-1", None).unwrap(),
        CheckIn::Recorded { .. }
    ));
    assert_eq!(
        store.attendance("Phiên 1", "D1").unwrap(),
        Some((at, Method::Face, Some(Evidence { score: 0.8, frames: 3 })))
    );

    // The schema itself refuses a second row, whoever writes it.
    let raw = Connection::open(dir.path().join("k.db")).unwrap();
    let dup = raw.execute(
        "INSERT INTO attendance (session_id, delegate_code, checked_in_at, method, kiosk) SELECT id, 'D1', 'now', 'face', 'x' FROM sessions WHERE name = 'Phiên 1'",
        [],
    );
    assert!(dup.is_err(), "duplicate attendance accepted");
}

#[test]
fn unknown_delegates_cannot_be_checked_in() {
    let (_dir, mut store) = store_with_two();
    let err = store.check_in("Phiên 1", "NOPE", Method::Face, "k", None).unwrap_err();
    assert!(err.to_string().contains("no delegate with code NOPE on the roster"), "{err}");
    assert_eq!(store.attendance("Phiên 1", "NOPE").unwrap(), None);
}

#[test]
fn the_database_is_durable_and_versioned() {
    let (dir, mut store) = store_with_two();
    store.check_in("S", "D2", Method::Face, "k", None).unwrap();
    drop(store);
    let raw = Connection::open(dir.path().join("k.db")).unwrap();
    let mode: String = raw.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = raw.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version as usize, kiosk::store::schema::MIGRATIONS.len(), "every migration applied");
    drop(raw);
    // Reopening applies no migration twice and keeps everything.
    let store = Store::open(&dir.path().join("k.db")).unwrap();
    assert_eq!(store.delegate_count().unwrap(), 2);
    assert_eq!(store.delegate("D1").unwrap().unwrap().name, "Nguyễn Văn An");
    assert!(store.attendance("S", "D2").unwrap().is_some());
}

#[test]
fn every_check_in_is_audited_in_a_hash_chain() {
    let (dir, mut store) = store_with_two();
    store.check_in("S", "D1", Method::Face, "k", None).unwrap();
    store.check_in("S", "D2", Method::Search, "k", None).unwrap();
    store.check_in("S", "D2", Method::Search, "k", None).unwrap();
    let entries = store.audit_entries().unwrap();
    assert_eq!(entries.len(), 2, "an already-recorded check-in changes nothing: {entries:?}");
    let raw = Connection::open(dir.path().join("k.db")).unwrap();
    let mut stmt = raw.prepare("SELECT at, action, detail, prev_hash, hash FROM audit ORDER BY id").unwrap();
    let rows: Vec<(String, String, String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut prev = String::new();
    for (at, action, detail, prev_hash, hash) in rows {
        assert_eq!(prev_hash, prev);
        assert_eq!(hash, kiosk::store::audit::audit_hash(&prev, &at, &action, &detail));
        prev = hash;
    }
}

#[test]
fn a_file_that_is_not_a_database_is_named_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.db");
    let text = "minutes of the preparatory meeting, not a database ".repeat(40);
    std::fs::write(&path, &text).unwrap();
    let err = Store::open(&path).err().expect("refused");
    // The message is for organisers; SQLite's own error stays attached for the logs.
    let cause = std::error::Error::source(&err).expect("the SQLite error is kept").to_string();
    assert!(cause.contains("not a database"), "{cause}");
    let err = err.to_string();
    assert!(err.contains("notes.db") && err.contains("not a kiosk database"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn staff_check_ins_and_undos_are_counted_and_audited_with_their_reason() {
    let (_dir, mut store) = store_with_two();
    store
        .transaction(|tx| {
            tx.upsert_delegate(&Delegate { delegation: "Đoàn Huế".into(), ..delegate("D3", "Lê Văn Cường") })
        })
        .unwrap();
    store.check_in("S", "D1", Method::Face, "kiosk-1", Some(Evidence { score: 0.9, frames: 3 })).unwrap();
    assert!(matches!(
        store.manual_check_in("S", "D3", "kiosk-1", "quên thẻ / forgot badge").unwrap(),
        CheckIn::Recorded { .. }
    ));
    let counts = store.counts_by_delegation("S").unwrap();
    let summary: Vec<(&str, usize, usize)> =
        counts.iter().map(|c| (c.delegation.as_str(), c.present, c.total)).collect();
    assert_eq!(summary, [("Đoàn Hà Nội", 1, 2), ("Đoàn Huế", 1, 1)], "Vietnamese order: Hà before Huế");
    let latest = store.latest_check_ins("S", 10).unwrap();
    assert_eq!(
        latest.iter().map(|a| (a.code.as_str(), a.method.as_str())).collect::<Vec<_>>(),
        [("D3", "manual"), ("D1", "face")]
    );

    assert!(store.undo_check_in("S", "D1", "kiosk-1", "nhầm người / wrong person").unwrap());
    assert!(!store.undo_check_in("S", "D1", "kiosk-1", "again").unwrap(), "nothing left to undo");
    assert_eq!(store.attendance("S", "D1").unwrap(), None);
    assert_eq!(store.attendance_count("S").unwrap(), 1);
    let audit = store.audit_entries().unwrap();
    let actions: Vec<&str> = audit.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["check_in", "check_in", "undo_check_in"]);
    assert!(audit[1].1.contains("forgot badge"));
    assert!(audit[2].1.contains("wrong person") && audit[2].1.contains("\"method\":\"face\""), "{}", audit[2].1);
    // Checked in again after the undo: a fresh record.
    assert!(matches!(store.check_in("S", "D1", Method::Face, "kiosk-1", None).unwrap(), CheckIn::Recorded { .. }));
}
