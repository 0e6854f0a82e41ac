//! Several kiosks on one PostgreSQL ledger, for real: a throw-away server per
//! test, real kiosk processes under Xvfb on frames made from real photos,
//! the server killed with SIGKILL, a kiosk's network link cut and restored,
//! and the dashboard in headless Chromium.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::pg::Cluster;
use common::web::{Browser, Dashboard, serve};
use common::*;
use kiosk::store::key::DataKey;

/// A roster of `n` dev/ people with at least three probe photos, codes L01...;
/// returns the roster file and (code, identity).
fn roster(faces: &Path, dir: &Path, n: usize, skip: usize) -> (PathBuf, Vec<(String, String)>) {
    let chosen: Vec<(String, PathBuf)> =
        gallery(faces, 120).into_iter().filter(|(id, _)| probes(faces, id).len() >= 3).skip(skip).take(n).collect();
    let mut csv = String::from("code,name,delegation,seat,photo\n");
    let mut out = Vec::new();
    for (i, (id, photo)) in chosen.iter().enumerate() {
        let code = format!("L{:02}", i + skip + 1);
        let delegation = ["Đoàn Hà Nội", "Đoàn Thừa Thiên Huế", "Đoàn Cần Thơ"][i % 3];
        csv.push_str(&format!("{code},Đại biểu {},{delegation},B-{i},{}\n", id.replace('_', " "), photo.display()));
        out.push((code, id.clone()));
    }
    let path = dir.join(format!("roster-{skip}.csv"));
    std::fs::write(&path, csv).unwrap();
    (path, out)
}

#[test]
fn a_change_the_ledger_refuses_is_audited_and_does_not_block_the_others() {
    use kiosk::ledger::Ledger;
    use kiosk::ledger::sync::{follow, push_all};
    use kiosk::store::{Delegate, Method, Store};

    let Some(pg) = Cluster::start("refused change") else { return };
    let url = pg.url();
    Ledger::init(&url).unwrap();
    let mut ledger = Ledger::connect(&url).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let copy = |name: &str, ledger: &mut Ledger| {
        let mut store = Store::open(&dir.path().join(name)).unwrap();
        follow(&mut store, ledger).unwrap();
        store
    };
    let delegate =
        |code: &str| Delegate { code: code.into(), name: format!("Đại biểu {code}"), ..Delegate::default() };
    let mut desk = copy("desk.db", &mut ledger);
    desk.transaction(|tx| {
        tx.add_session("Phiên 1", None, None)?;
        tx.upsert_delegate(&delegate("A1"))?;
        tx.upsert_delegate(&delegate("B2"))
    })
    .unwrap();
    push_all(&mut desk, &mut ledger, "secretariat").unwrap();

    // A kiosk, cut off, checks both in; meanwhile A1 is taken off the roster (never attended: deleted).
    let mut door = copy("door.db", &mut ledger);
    door.check_in("Phiên 1", "A1", Method::Manual, "door", None).unwrap();
    door.check_in("Phiên 1", "B2", Method::Manual, "door", None).unwrap();
    desk.transaction(|tx| tx.remove_delegate("A1", "left the congress")).unwrap();
    push_all(&mut desk, &mut ledger, "secretariat").unwrap();
    assert_eq!(pg.count("SELECT count(*) FROM delegates"), 1);

    push_all(&mut door, &mut ledger, "door").expect("a refused change does not stop the outbox");
    assert_eq!(door.waiting().unwrap(), (0, 0));
    assert_eq!(pg.count("SELECT count(*) FROM attendance WHERE delegate_code = 'B2'"), 1);
    let detail: String =
        pg.client().query_one("SELECT detail FROM audit WHERE action = 'rejected_change'", &[]).unwrap().get(0);
    assert!(detail.contains("A1") && detail.contains("attendance"), "{detail}");
    assert!(ledger.verify_audit(None).unwrap().broken.is_none());

    // Undone and made again at the same kiosk while it was offline: the ledger follows, no duplicate.
    let first: String = pg.client().query_one("SELECT checked_in_at FROM attendance", &[]).unwrap().get(0);
    door.undo_check_in("Phiên 1", "B2", "door", "wrong session").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    door.check_in("Phiên 1", "B2", Method::Manual, "door", None).unwrap();
    push_all(&mut door, &mut ledger, "door").unwrap();
    let now: String = pg.client().query_one("SELECT checked_in_at FROM attendance", &[]).unwrap().get(0);
    assert_ne!(now, first, "the check-in made again is the one kept");
    assert_eq!(pg.count("SELECT count(*) FROM audit WHERE action = 'duplicate_check_in'"), 0);

    // After the congress a kiosk's copy is purged alone: nothing leaves the ledger.
    drop(door);
    let said = run_ok(&["purge", "--biometrics", "--db", path_str(&dir.path().join("door.db"))]);
    assert!(said.contains("deleted"), "{said}");
    let o = kiosk(&["purge", "--biometrics", "--ledger", &url]);
    assert!(!o.status.success() && stderr(&o).contains("drop its database"), "{}", stderr(&o));
}

/// Frames of each identity's probe photos in turn (`per_person` each).
fn frames(faces: &Path, out: &Path, identities: &[&str], per_person: usize) -> PathBuf {
    let sequence: Vec<Vec<PathBuf>> = identities.iter().map(|id| probes(faces, id)).collect();
    frame_folder(out, &sequence, per_person)
}

/// Settings for kiosks that play frames at `fps`.
fn settings(dir: &Path, fps: f32) -> PathBuf {
    let path = dir.join("kiosk.toml");
    std::fs::write(&path, format!("[kiosk]\nframes_fps = {fps}\ncooldown_seconds = 0\n{PHOTO_FRAMES}")).unwrap();
    path
}

/// `kiosk enroll` into the ledger, then the first sessions opened.
fn enroll_on_ledger(url: &str, roster: &Path) {
    run_ok(&["enroll", "--ledger", url, "--roster", path_str(roster), "--photos", "/"]);
    for session in FIRST_SESSIONS {
        run_ok(&["session", "add", session, "--ledger", url]);
    }
}

/// `kiosk run --once` of one kiosk on the ledger, in its own X server
/// (number `display`), optionally inside network namespace `netns`.
fn start_kiosk(netns: Option<&str>, display: u32, cfg: &Path, url: &str, db: &Path, id: &str, frames: &Path) -> Child {
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, "xvfb-run"]);
            c
        }
        None => Command::new("xvfb-run"),
    };
    // -ac: the test may take a screenshot of this display.
    cmd.args(["-n", &display.to_string(), "-s", "-screen 0 1280x800x24 -ac"])
        .arg(env!("CARGO_BIN_EXE_kiosk"))
        .args(["run", "--once", "--windowed", "--session", "Phiên 1", "--config", path_str(cfg), "--ledger", url])
        .args(["--db", path_str(db), "--kiosk-id", id, "--frames", path_str(frames)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xvfb-run starts")
}

fn finish(child: Child) -> String {
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "kiosk run failed: {}{}", stdout(&o), stderr(&o));
    stdout(&o)
}

/// The codes a `kiosk run` printed as checked in.
fn checked_in(report: &str) -> Vec<String> {
    let line = report.lines().find(|l| l.starts_with("check-ins:")).expect("a check-ins line");
    let inner = line.split_once('(').map(|(_, r)| r.trim_end_matches(')')).unwrap_or_default();
    inner.split(", ").filter(|s| !s.is_empty()).map(String::from).collect()
}

/// The congress's data key, which the kiosks' copies are encrypted with.
fn data_key(url: &str) -> DataKey {
    kiosk::ledger::Ledger::connect(url).unwrap().data_key().unwrap()
}

/// The entries waiting in a kiosk's copy, read with the key as the kiosk does.
fn outbox(db: &Path, key: &DataKey) -> i64 {
    rusqlite::Connection::open(db)
        .and_then(|c| {
            c.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex::encode(key.bytes())))?;
            c.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        })
        .unwrap_or(-1)
}

fn display_base() -> u32 {
    200 + std::process::id() % 400
}

#[test]
fn commands_work_on_the_ledger_and_a_single_kiosk_file_comes_in_once() {
    let Some(faces) = faces("ledger commands") else { return };
    let Some(pg) = Cluster::start("ledger commands") else { return };
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();

    // Before `ledger init`, every command says what to do.
    let o = kiosk(&["stats", "--ledger", &url]);
    assert!(!o.status.success() && stderr(&o).contains("kiosk ledger init"), "{}", stderr(&o));
    assert!(run_ok(&["ledger", "init", "--ledger", &url]).contains("ready"));
    assert!(run_ok(&["ledger", "init", "--ledger", &url]).contains("up to date"), "init runs again safely");
    // An unreachable server: a clear error, quickly.
    let started = Instant::now();
    let o = kiosk(&["stats", "--ledger", "postgresql://kiosk@127.0.0.1:9/none"]);
    assert!(!o.status.success() && stderr(&o).contains("cannot reach the ledger"), "{}", stderr(&o));
    assert!(started.elapsed() < Duration::from_secs(10));

    let (roster, people) = roster(&faces, dir.path(), 4, 0);
    enroll_on_ledger(&url, &roster);
    assert_eq!(pg.count("SELECT count(*) FROM delegates"), 4);
    assert_eq!(pg.count("SELECT count(*) FROM templates"), 4);
    let said = run_ok(&["checkin", "--ledger", &url, "--session", "Phiên 1", "--code", &people[0].0, "--reason", "t"]);
    assert!(said.contains("Checked in"), "{said}");
    let said = run_ok(&["checkin", "--ledger", &url, "--session", "Phiên 1", "--code", &people[0].0, "--reason", "t"]);
    assert!(said.contains("Already checked in"), "the ledger's check-in is seen: {said}");
    let stats = run_ok(&["stats", "--ledger", &url, "--session", "Phiên 1"]);
    assert!(stats.contains("1 / 4 present"), "{stats}");

    // A kiosk that ran alone: the same roster, one delegate checked in there later, one only there.
    let file = dir.path().join("alone.db");
    assert!(enroll_roster(&file, &roster).status.success());
    for code in [&people[0].0, &people[1].0] {
        run_ok(&["checkin", "--db", path_str(&file), "--session", "Phiên 1", "--code", code, "--reason", "t"]);
    }
    let said = run_ok(&["ledger", "import", "--ledger", &url, "--db", path_str(&file)]);
    assert!(said.contains("1 check-ins the ledger already had"), "{said}");
    assert_eq!(pg.count("SELECT count(*) FROM attendance"), 2, "one row per delegate and session");
    let o = kiosk(&["ledger", "import", "--ledger", &url, "--db", path_str(&file)]);
    assert!(!o.status.success() && stderr(&o).contains("imported already"), "{}", stderr(&o));
    assert_eq!(pg.count("SELECT count(*) FROM attendance"), 2);
    assert_eq!(pg.count("SELECT count(*) FROM audit WHERE action = 'duplicate_check_in'"), 1);
    assert!(run_ok(&["audit", "verify", "--ledger", &url]).contains("intact"));
    // The earlier check-in (the ledger's own) is the one kept.
    let kept: String =
        pg.client().query_one("SELECT kiosk FROM attendance WHERE delegate_code = $1", &[&people[0].0]).unwrap().get(0);
    assert_eq!(kept, "kiosk-1");

    // Removal and a new session reach the ledger too.
    run_ok(&["remove", "--ledger", &url, "--reason", "t", &people[3].0]);
    assert_eq!(pg.count("SELECT count(*) FROM delegates"), 3, "a delegate who never attended goes");
    assert_eq!(pg.count("SELECT count(*) FROM templates"), 3);
    let stats = run_ok(&["stats", "--ledger", &url, "--session", "Phiên 1"]);
    assert!(stats.contains("2 / 3 present"), "{stats}");
}

#[test]
fn four_kiosks_through_a_server_crash_record_every_delegate_exactly_once() {
    let Some(faces) = faces("four kiosks") else { return };
    if !xvfb_ok("four kiosks") {
        return;
    }
    let Some(mut pg) = Cluster::start("four kiosks") else { return };
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();
    run_ok(&["ledger", "init", "--ledger", &url]);
    let (roster, people) = roster(&faces, dir.path(), 8, 0);
    enroll_on_ledger(&url, &roster);
    let cfg = settings(dir.path(), 3.0);
    let key = data_key(&url);

    // Kiosk k sees people k..k+4: every delegate passes two or three kiosks.
    let base = display_base();
    let mut kiosks = Vec::new();
    for k in 0..4 {
        let ids: Vec<&str> = (0..5).map(|i| people[(k * 2 + i) % 8].1.as_str()).collect();
        let folder = frames(&faces, &dir.path().join(format!("frames{k}")), &ids, 5);
        let db = dir.path().join(format!("door{k}.db"));
        let child = start_kiosk(None, base + k as u32, &cfg, &url, &db, &format!("door-{k}"), &folder);
        kiosks.push((child, db));
    }
    std::thread::sleep(Duration::from_secs(3));
    pg.kill9();
    std::thread::sleep(Duration::from_secs(5));
    let waiting: i64 = kiosks.iter().map(|(_, db)| outbox(db, &key)).sum();
    pg.run();
    let back = Instant::now();
    // Everything written during the outage reaches the ledger within 5 s of its return.
    while kiosks.iter().any(|(_, db)| outbox(db, &key) > 0) && back.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let drained = back.elapsed();
    println!("{waiting} outbox entries waited during the outage; outboxes empty {drained:?} after the server was back");
    assert!(waiting > 0, "the kiosks went on checking people in while the server was down");

    let mut printed = Vec::new();
    for (child, _) in kiosks {
        let report = finish(child);
        assert!(report.contains("ledger: every check-in sent"), "{report}");
        printed.extend(checked_in(&report));
    }
    let recorded = pg.count("SELECT count(*) FROM attendance");
    let duplicates = pg.count("SELECT count(*) FROM audit WHERE action = 'duplicate_check_in'");
    let mut distinct = printed.clone();
    distinct.sort();
    distinct.dedup();
    println!(
        "kiosks printed {} check-ins of {} delegates; ledger: {recorded} rows, {duplicates} duplicates",
        printed.len(),
        distinct.len()
    );
    assert_eq!(distinct.len(), 8, "every delegate was checked in somewhere: {printed:?}");
    assert_eq!(recorded, 8, "exactly one attendance per delegate");
    assert_eq!(recorded + duplicates, printed.len() as i64, "none lost, none counted twice");
    assert!(run_ok(&["audit", "verify", "--ledger", &url]).contains("intact"));
    assert!(drained <= Duration::from_secs(5), "outboxes took {drained:?} to empty after the server came back");
    let status = run_ok(&["ledger", "status", "--ledger", &url]);
    for k in 0..4 {
        assert!(status.contains(&format!("door-{k}")), "{status}");
    }
}

#[test]
fn a_re_enrolment_reaches_a_running_kiosk() {
    let Some(faces) = faces("re-enrolment") else { return };
    if !xvfb_ok("re-enrolment") {
        return;
    }
    let Some(pg) = Cluster::start("re-enrolment") else { return };
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();
    run_ok(&["ledger", "init", "--ledger", &url]);
    let (first, _) = roster(&faces, dir.path(), 3, 0);
    enroll_on_ledger(&url, &first);
    // The latecomer, not enrolled when the kiosk starts, stands in front of it all along.
    let (late, latecomer) = roster(&faces, dir.path(), 1, 3);
    let folder = frames(&faces, &dir.path().join("frames"), &[latecomer[0].1.as_str()], 36);
    let cfg = settings(dir.path(), 3.0);
    let db = dir.path().join("door.db");
    let child = start_kiosk(None, display_base() + 10, &cfg, &url, &db, "door-late", &folder);
    std::thread::sleep(Duration::from_secs(4));
    enroll_on_ledger(&url, &late);
    let report = finish(child);
    assert_eq!(checked_in(&report), [latecomer[0].0.clone()], "{report}");
    let by: String = pg
        .client()
        .query_one("SELECT kiosk FROM attendance WHERE delegate_code = $1", &[&latecomer[0].0])
        .unwrap()
        .get(0);
    assert_eq!(by, "door-late");
}

#[test]
fn the_dashboard_follows_check_ins_live_in_chromium() {
    let Some(faces) = faces("dashboard") else { return };
    let Some(pg) = Cluster::start("dashboard") else { return };
    let Some(browser) = Browser::open("dashboard") else { return };
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();
    run_ok(&["ledger", "init", "--ledger", &url]);
    let (roster, people) = roster(&faces, dir.path(), 6, 0);
    enroll_on_ledger(&url, &roster);
    let cfg = dir.path().join("desk.toml");
    let pin_hash = kiosk::base::pin::hash_pin("2468").unwrap();
    std::fs::write(&cfg, format!("[kiosk]\nadmin_pin_hash = \"{pin_hash}\"\n")).unwrap();
    let copy = dir.path().join("dashboard-copy.db");
    let dash = Dashboard::start(&[
        "--ledger",
        &url,
        "--db",
        path_str(&copy),
        "--session",
        "Phiên 1",
        "--config",
        path_str(&cfg),
    ]);

    // Without the viewer key: 401 and how to get in, for the page and the figures alike.
    for path in ["/", "/api/stats", "/events", "/list.csv?session=Phi%C3%AAn%201", "/?key=0123"] {
        let response = ureq::get(&format!("{}{path}", dash.base)).config().http_status_as_error(false).build().call();
        let mut response = response.unwrap();
        assert_eq!(response.status(), 401, "{path}");
        let body = response.body_mut().read_to_string().unwrap();
        assert!(body.contains("kiosk dashboard key") && !body.contains("Đoàn"), "{path}: {body}");
    }
    let key_file = dir.path().join("dashboard.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);

    // The figures as JSON, in the documented shape.
    let stats = dash.stats();
    assert_eq!(
        (stats["session"].as_str(), stats["present"].as_u64(), stats["summoned"].as_u64()),
        (Some("Phiên 1"), Some(0), Some(6))
    );
    assert_eq!(stats["quorum_met"], false);
    assert_eq!(stats["by_delegation"].as_array().unwrap().len(), 3);
    assert!(stats["by_delegation"][0]["delegation"].as_str().unwrap().starts_with("Đoàn"));
    assert!(stats["kiosks"].is_array() && stats["latest"].is_array() && stats["quorum_percent"].is_number());

    // The link with the key, once: the browser keeps a cookie and the address loses the key.
    browser.go(&format!("{}/?key={}&session=Phi%C3%AAn%201", dash.base, dash.key));
    assert_eq!(browser.text("present"), "0");
    let address = browser.js("return location.href").as_str().unwrap().to_string();
    assert!(!address.contains("key=") && address.contains("session="), "{address}");
    assert_eq!(browser.js("return document.cookie"), "", "the cookie is HttpOnly");
    browser.js("window.stillTheSamePage = true; return 1");
    let checkin = |code: &str| {
        run_ok(&[
            "checkin",
            "--ledger",
            &url,
            "--kiosk-id",
            "door-3",
            "--session",
            "Phiên 1",
            "--code",
            code,
            "--reason",
            "t",
        ])
    };
    checkin(&people[0].0);
    let written = Instant::now();
    while browser.text("present") != "1" {
        assert!(
            written.elapsed() < Duration::from_secs(10),
            "the page never showed the check-in: {} {}",
            browser.js("return [document.body.dataset.updates, source.readyState, location.href]"),
            dash.stats()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("the page showed the check-in {:?} after the command returned", written.elapsed());
    assert_eq!(browser.js("return window.stillTheSamePage === true"), true, "no reload");
    assert!(browser.text("latest").contains(&people[0].0));
    assert!(browser.text("verdict").contains("KHÔNG ĐỦ"));
    assert_eq!(browser.text("percent"), "16,7%", "the Vietnamese decimal comma, in the live update too");

    // More than half present: the verdict turns, live.
    for (code, _) in &people[1..4] {
        checkin(code);
    }
    let until = Instant::now() + Duration::from_secs(10);
    while browser.text("present") != "4" {
        assert!(Instant::now() < until, "the page stayed at {}", browser.text("present"));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(browser.text("verdict"), "ĐỦ điều kiện");
    assert!(
        browser.text("kiosks").is_empty() || !browser.text("kiosks").contains("door-3"),
        "a command is not a kiosk"
    );
    browser.screenshot(&screenshots().join("dashboard.png"));
    browser.go(&format!("{}/?session=Phi%C3%AAn%201&view=projector&lang=en", dash.base));
    assert_eq!(browser.text("verdict"), "QUORUM MET");
    assert_eq!(browser.text("percent"), "66.7%");
    browser.screenshot(&screenshots().join("dashboard-projector.png"));

    // Staff actions need the PIN, and come only from the page itself.
    let post_to = |session: &str, origin: &str, path: &str, code: &str, pin: &str| -> (u16, String) {
        let mut response = ureq::post(&format!("{}{path}", dash.base))
            .header("Cookie", &format!("kiosk_view={}", dash.key))
            .header("Origin", origin)
            .config()
            .http_status_as_error(false)
            .build()
            .send_form([("session", session), ("code", code), ("pin", pin), ("reason", "test"), ("lang", "en")])
            .unwrap();
        (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
    };
    let post_from = |origin: &str, path: &str, code: &str, pin: &str| post_to("Phiên 1", origin, path, code, pin);
    let post = |path: &str, code: &str, pin: &str| post_from(&dash.base, path, code, pin);
    let (status, body) = post_from("http://evil.example", "/checkin", &people[4].0, "2468");
    assert_eq!(status, 403, "{body}");
    let (status, body) = post("/checkin", &people[4].0, "1111");
    assert!(status == 403 && body.contains("Wrong PIN"), "{status} {body}");
    assert_eq!(dash.stats()["present"], 4);
    // A misspelt session is refused with the list, and none is made.
    let (status, body) = post_to("Typo session", &dash.base, "/checkin", &people[4].0, "2468");
    assert!(
        body.contains("no session &quot;Typo session&quot; (sessions: ") && body.contains("Phiên 1"),
        "{status} {body}"
    );
    assert!(!run_ok(&["session", "list", "--ledger", &url]).contains("Typo"));
    assert!(post("/checkin", &people[4].0, "2468").1.contains("checked in"));
    assert!(post("/undo", &people[0].0, "2468").1.contains("removed"));
    // Five wrong PINs from one address, and then not even the right one is taken, for five minutes.
    for _ in 0..5 {
        assert_eq!(post("/undo", &people[4].0, "0000").0, 403);
    }
    let (status, body) = post("/undo", &people[4].0, "2468");
    assert!(status == 429 && body.contains("Too many wrong PINs"), "{status} {body}");
    let until = Instant::now() + Duration::from_secs(10);
    while pg.count("SELECT count(*) FROM audit WHERE action = 'pin_refused' AND detail LIKE '%127.0.0.1%'") != 7 {
        assert!(Instant::now() < until, "each refusal reaches the ledger's audit log");
        std::thread::sleep(Duration::from_millis(50));
    }
    // What every answer says to the browser about itself.
    let page = dash.get("/");
    for (name, value) in
        [("x-frame-options", "DENY"), ("x-content-type-options", "nosniff"), ("referrer-policy", "no-referrer")]
    {
        assert_eq!(page.headers().get(name).and_then(|v| v.to_str().ok()), Some(value), "{name}");
    }
    let policy = page.headers().get("content-security-policy").unwrap().to_str().unwrap().to_string();
    assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    let until = Instant::now() + Duration::from_secs(10);
    while pg.count("SELECT count(*) FROM attendance") != 4 || dash.stats()["present"] != 4 {
        assert!(Instant::now() < until, "the dashboard's own writes reach the ledger");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(pg.count("SELECT count(*) FROM attendance WHERE kiosk = 'secretariat'"), 1);

    // The lists to download.
    let csv = dash.get("/list.csv?session=Phi%C3%AAn%201").body_mut().read_to_string().unwrap();
    assert_eq!(csv.lines().count(), 7, "a header and six delegates: {csv}");
    let xlsx = dash.get("/list.xlsx?session=Phi%C3%AAn%201").body_mut().read_to_vec().unwrap();
    assert!(xlsx.starts_with(b"PK"), "an XLSX file is a zip");
    for paper in ["list.pdf", "report.pdf"] {
        let html = dash.get("/?session=Phi%C3%AAn%201").body_mut().read_to_string().unwrap();
        assert!(html.contains(&format!("/{paper}?session=")), "the page links {paper}");
        let response = dash.get(&format!("/{paper}?session=Phi%C3%AAn%201"));
        let disposition = response.headers().get("content-disposition").unwrap().to_str().unwrap().to_string();
        assert!(disposition.contains("phien_1.pdf"), "{disposition}");
        let pdf = response.into_body().read_to_vec().unwrap();
        assert!(pdf.starts_with(b"%PDF"), "{paper} is a PDF");
    }

    // On a single kiosk file too.
    let file = dir.path().join("alone.db");
    assert!(enroll_roster(&file, &roster).status.success());
    run_ok(&["checkin", "--db", path_str(&file), "--session", "Phiên 1", "--code", &people[5].0, "--reason", "t"]);
    let alone = Dashboard::start(&["--db", path_str(&file), "--session", "Phiên 1"]);
    let stats = alone.stats();
    assert_eq!((stats["present"].as_u64(), stats["summoned"].as_u64()), (Some(1), Some(6)));
    assert_eq!(stats["kiosks"].as_array().unwrap().len(), 0);
}

/// A network namespace with a veth pair to the host, made for one test and
/// removed after it: the host end is `host`, the namespace's is `inside`.
struct Netns {
    name: String,
    link: String,
    host: String,
    inside: String,
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip").args(args).status().is_ok_and(|s| s.success())
}

impl Netns {
    fn make(test: &str) -> Option<Netns> {
        let root =
            Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if !root || Command::new("ip").arg("-V").output().is_err() {
            println!("SKIPPED {test}: needs root and iproute2 to make a network namespace");
            return None;
        }
        let id = std::process::id() % 60_000;
        let net = id % 250 + 1;
        let ns = Netns {
            name: format!("kiosk-cut-{id}"),
            link: format!("kc{id}"),
            host: format!("10.201.{net}.1"),
            inside: format!("10.201.{net}.2"),
        };
        let peer = format!("{}p", ns.link);
        if !ip(&["netns", "add", &ns.name]) {
            println!(
                "SKIPPED {test}: this machine does not let the test make a network namespace (ip netns add failed)"
            );
            return None;
        }
        let steps: [&[&str]; 6] = [
            &["link", "add", &ns.link, "type", "veth", "peer", "name", &peer],
            &["link", "set", &peer, "netns", &ns.name],
            &["addr", "add", &format!("{}/30", ns.host), "dev", &ns.link],
            &["link", "set", &ns.link, "up"],
            &["-n", &ns.name, "addr", "add", &format!("{}/30", ns.inside), "dev", &peer],
            &["-n", &ns.name, "link", "set", &peer, "up"],
        ];
        for step in steps {
            assert!(ip(step), "ip {step:?}");
        }
        assert!(ip(&["-n", &ns.name, "link", "set", "lo", "up"]));
        Some(ns)
    }

    fn cut(&self) {
        assert!(ip(&["link", "set", &self.link, "down"]));
    }

    fn restore(&self) {
        assert!(ip(&["link", "set", &self.link, "up"]));
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        ip(&["link", "del", &self.link]);
        ip(&["netns", "del", &self.name]);
    }
}

/// A ledger at `url` with eight delegates of dev/ enrolled, the frames of
/// each in turn and settings at 3 frames a second: (frames, settings), for
/// a kiosk whose link to the ledger is then broken.
fn eight_at_the_door(faces: &Path, url: &str, dir: &Path) -> (PathBuf, PathBuf) {
    run_ok(&["ledger", "init", "--ledger", url]);
    let (roster, people) = roster(faces, dir, 8, 0);
    enroll_on_ledger(url, &roster);
    let ids: Vec<&str> = people.iter().map(|(_, id)| id.as_str()).collect();
    (frames(faces, &dir.join("frames"), &ids, 5), settings(dir, 3.0))
}

/// The kiosk `id` of `eight_at_the_door` has finished: most of the eight
/// checked in, and each of them once in the ledger.
fn all_sent(pg: &Cluster, child: Child, id: &str) {
    let report = finish(child);
    assert!(report.contains("ledger: every check-in sent"), "{report}");
    let printed = checked_in(&report);
    assert!(printed.len() >= 6, "most of the eight were checked in: {report}");
    assert_eq!(attendance_of(pg, id), printed.len() as i64, "none lost, none twice");
}

fn attendance_of(pg: &Cluster, kiosk: &str) -> i64 {
    pg.client().query_one("SELECT count(*) FROM attendance WHERE kiosk = $1", &[&kiosk]).unwrap().get(0)
}

#[test]
fn a_kiosk_cut_off_from_the_ledger_goes_on_and_catches_up() {
    let Some(faces) = faces("network cut") else { return };
    if !xvfb_ok("network cut") {
        return;
    }
    let Some(ns) = Netns::make("network cut") else { return };
    let Some(pg) = Cluster::start_listening("network cut", Some(&ns.host)) else { return };
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();
    let (folder, cfg) = eight_at_the_door(&faces, &url, dir.path());
    let db = dir.path().join("door.db");
    let key = data_key(&url);
    let display = display_base() + 20;
    let mut child = start_kiosk(Some(&ns.name), display, &cfg, &pg.url_at(&ns.host), &db, "door-cut", &folder);

    std::thread::sleep(Duration::from_secs(3));
    if let Ok(Some(_)) = child.try_wait() {
        panic!("the kiosk stopped: {}", finish(child));
    }
    ns.cut();
    let before = attendance_of(&pg, "door-cut");
    std::thread::sleep(Duration::from_secs(8));
    let waiting = outbox(&db, &key);
    assert!(waiting > 0, "check-ins went on while the link was down");
    assert_eq!(attendance_of(&pg, "door-cut"), before, "nothing crossed the cut link");
    if Command::new("import").arg("-version").output().is_ok() {
        let shot = screenshots().join("kiosk-offline.png");
        let _ =
            Command::new("import").args(["-display", &format!(":{display}"), "-window", "root"]).arg(&shot).status();
    }
    ns.restore();
    let back = Instant::now();
    while outbox(&db, &key) > 0 && back.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let drained = back.elapsed();
    println!("{waiting} outbox entries waited behind the cut; empty {drained:?} after the link came back");

    all_sent(&pg, child, "door-cut");
    assert!(drained <= Duration::from_secs(5), "the outbox took {drained:?} to empty after the link came back");

    // At rest: the copy and its write-ahead log hold no run of 64 bytes of
    // any template or photo the ledger sent, and without the key the file
    // is no database at all.
    let mut on_disk = std::fs::read(&db).unwrap();
    on_disk.extend(std::fs::read(format!("{}-wal", db.display())).unwrap_or_default());
    let blobs: Vec<Vec<u8>> = pg
        .client()
        .query(
            "SELECT embedding FROM templates UNION ALL SELECT thumbnail FROM templates WHERE thumbnail IS NOT NULL",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(blobs.len() >= 16, "templates and thumbnails: {}", blobs.len());
    for blob in &blobs {
        for run in blob.chunks_exact(64) {
            assert!(
                memchr::memmem::find(&on_disk, run).is_none(),
                "a template's bytes lie readable in {}",
                db.display()
            );
        }
    }
    let (ok, said, _) = timed(&["stats", "--db", path_str(&db)], &[]);
    assert!(!ok && said.contains("encrypted copy"), "{said}");
    // A kiosk that must start without the ledger takes the key from removable media.
    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    let key_file = usb.join("congress.key");
    run_ok(&["ledger", "key", "--out", path_str(&key_file), "--ledger", &url]);
    let offline = dir.path().join("offline.toml");
    let settings_text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&offline, format!("{settings_text}\n[store]\nkey_file = \"{}\"\n", key_file.display())).unwrap();
    let one = dir.path().join("one-frame");
    std::fs::create_dir(&one).unwrap();
    let first = std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().path()).min().unwrap();
    std::fs::copy(&first, one.join(first.file_name().unwrap())).unwrap();
    let nowhere = format!("postgresql://kiosk@127.0.0.1:{}/postgres", free_port());
    let args = ["run", "--once", "--windowed", "--config", path_str(&offline), "--ledger", &nowhere];
    let o = kiosk_window(&[&args[..], &["--db", path_str(&db), "--frames", path_str(&one)]].concat());
    assert!(o.status.success() && stdout(&o).contains("frames processed: 1"), "{}{}", stdout(&o), stderr(&o));
    // Without the key file it does not start, and says where the key comes from.
    let args = ["run", "--once", "--windowed", "--config", path_str(&cfg), "--ledger", &nowhere];
    let o = kiosk_window(&[&args[..], &["--db", path_str(&db), "--frames", path_str(&one)]].concat());
    assert!(!o.status.success() && stderr(&o).contains("key_file"), "{}", stderr(&o));
}

/// Badges on the ledger: issued at the secretariat (the key stays beside its
/// file, only token hashes go to the ledger), a running kiosk checks a
/// delegate in by badge and face, and a badge reissued on the ledger while
/// the kiosk runs is refused by it after its next pull.
#[test]
fn a_badge_reissued_on_the_ledger_is_refused_by_a_running_kiosk() {
    let Some(faces) = faces("badges on the ledger") else { return };
    if !xvfb_ok("badges on the ledger") {
        return;
    }
    let Some(pg) = Cluster::start("badges on the ledger") else { return };
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();
    run_ok(&["ledger", "init", "--ledger", &url]);
    let (roster, people) = roster(&faces, dir.path(), 2, 10);
    enroll_on_ledger(&url, &roster);
    let org = dir.path().join("org.db");
    let qr_dir = dir.path().join("qr");
    run_ok(&["badges", "--ledger", &url, "--db", path_str(&org), "--qr", path_str(&qr_dir)]);
    assert_eq!(pg.count("SELECT count(*) FROM badges"), 2);
    let key = std::fs::read_to_string(dir.path().join("badge.key")).unwrap();
    assert_eq!(pg.count(&format!("SELECT count(*) FROM audit WHERE detail LIKE '%{}%'", &key[..16])), 0);
    let badge_of = |code: &str| {
        let png = image::open(qr_dir.join(format!("{code}.png"))).unwrap().to_rgb8();
        kiosk::vision::qr::read(&png).expect("the badge's QR code reads back")
    };
    let (first, second) = (&people[0], &people[1]);
    let old_badge = badge_of(&second.0);

    // The first delegate with their badge, a long pause, then the second with the badge about to be replaced.
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    let empty = image::RgbImage::from_pixel(640, 480, image::Rgb([118, 118, 118]));
    let photo = |id: &str| image::open(&probes(&faces, id)[0]).unwrap().to_rgb8();
    let mut sequence = vec![kiosk::measure::bench::badge_frame(&photo(&first.1), &badge_of(&first.0), 140).unwrap(); 6];
    sequence.extend(vec![empty.clone(); 45]);
    sequence.extend(vec![kiosk::measure::bench::badge_frame(&photo(&second.1), &old_badge, 140).unwrap(); 8]);
    sequence.extend(vec![empty; 4]);
    for (n, image) in sequence.iter().enumerate() {
        image.save(frames.join(format!("{n:05}.jpg"))).unwrap();
    }
    // No face reaches a 1:N threshold of 0.99: only a badge lets anyone in.
    let cfg = dir.path().join("badges.toml");
    std::fs::write(
        &cfg,
        format!("[kiosk]\nframes_fps = 3.0\ncooldown_seconds = 0\n[decide]\nthreshold = 0.99\n{PHOTO_FRAMES}"),
    )
    .unwrap();
    let db = dir.path().join("door.db");
    let child = start_kiosk(None, display_base() + 40, &cfg, &url, &db, "door-badge", &frames);
    let until = Instant::now() + Duration::from_secs(60);
    while pg.count(&format!("SELECT count(*) FROM attendance WHERE delegate_code = '{}'", first.0)) == 0 {
        assert!(Instant::now() < until, "the first delegate was not checked in by badge");
        std::thread::sleep(Duration::from_millis(100));
    }
    let said = run_ok(&["badges", "--ledger", &url, "--db", path_str(&org), "--reissue", &second.0]);
    assert!(said.contains(&format!("{}\tbadge 2", second.0)), "{said}");
    let report = finish(child);
    assert_eq!(checked_in(&report), std::slice::from_ref(&first.0), "{report}");
    let method: String =
        pg.client().query_one("SELECT method FROM attendance WHERE delegate_code = $1", &[&first.0]).unwrap().get(0);
    assert_eq!(method, "badge");
    let refused: String =
        pg.client().query_one("SELECT detail FROM audit WHERE action = 'badge_refused'", &[]).unwrap().get(0);
    assert!(refused.contains("replaced") && refused.contains(&second.0), "{refused}");
}

/// The dashboard's copy of the ledger (names, faces) lives in a private
/// scratch folder that goes with the program: on SIGTERM at once, after a
/// SIGKILL at the next start of any `kiosk` command.
#[test]
fn the_dashboards_copy_of_the_ledger_is_private_and_gone_after_sigterm_or_sigkill() {
    use std::os::unix::fs::PermissionsExt;
    let Some(pg) = Cluster::start("scratch copies") else { return };
    let url = pg.url();
    run_ok(&["ledger", "init", "--ledger", &url]);
    for signal in ["TERM", "KILL"] {
        let listen = format!("127.0.0.1:{}", free_port());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiosk"));
        cmd.args(["dashboard", "--ledger", &url, "--session", "Phiên 1", "--open", "--listen", &listen]);
        let mut child = serve(&mut cmd, &format!("http://{listen}/api/stats"), "the dashboard");
        let prefix = format!("kiosk-scratch-{}-", child.id());
        let scratch = std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&prefix))
            .expect("the dashboard's scratch folder");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&scratch), 0o700);
        assert_eq!(mode(&scratch.join("dashboard.db")), 0o600);
        assert!(
            Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap().success()
        );
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        let by = if signal == "TERM" { 15 } else { 9 };
        assert_eq!(status.signal(), Some(by), "ended by SIG{signal}, as systemd expects of a stop: {status:?}");
        if signal == "KILL" {
            run_ok(&["session", "list", "--ledger", &url]);
        }
        assert!(!scratch.exists(), "after SIG{signal}: {} is still there", scratch.display());
    }
}

/// `kiosk ARGS` with `envs` set; how it ended, what it said, and how long it took.
fn timed(args: &[&str], envs: &[(&str, &Path)]) -> (bool, String, Duration) {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_kiosk")).args(args).envs(envs.iter().copied()).output().unwrap();
    (out.status.success(), format!("{}{}", stdout(&out), stderr(&out)), t.elapsed())
}

/// Certificates as `tools/ledger-tls.sh` makes them, for the host `host`.
fn ledger_certs(dir: &Path, host: &str) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/ledger-tls.sh");
    let out = Command::new("bash").arg(script).args([host, path_str(dir)]).output().unwrap();
    assert!(out.status.success(), "tools/ledger-tls.sh: {}", stderr(&out));
    assert!(stdout(&out).contains("sslmode=verify-full"), "{}", stdout(&out));
    dir.to_path_buf()
}

#[test]
fn a_ledger_that_takes_only_tls_is_reached_with_verify_full_and_the_wrong_links_are_named() {
    let Some(_) = Cluster::start("TLS ledger (PostgreSQL present?)") else { return };
    let dir = tempfile::tempdir().unwrap();
    let ours = ledger_certs(&dir.path().join("ours"), "127.0.0.1");
    let theirs = ledger_certs(&dir.path().join("theirs"), "127.0.0.1");
    let Some(pg) = Cluster::start_tls("TLS ledger", &ours, "s3cret-ledger") else { return };
    // The password in a libpq password file, never on a command line.
    let passfile = dir.path().join("pgpass");
    std::fs::write(&passfile, format!("*:{}:*:kiosk:s3cret-ledger\n", pg.port)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o600)).unwrap();
    let env = [("PGPASSFILE", passfile.as_path())];
    let at = |host: &str, tail: &str| format!("postgresql://kiosk@{host}:{}/postgres?{tail}", pg.port);
    let good = at("127.0.0.1", &format!("sslmode=verify-full&sslrootcert={}", ours.join("ca.pem").display()));

    let (ok, said, _) = timed(&["ledger", "init", "--ledger", &good], &env);
    assert!(ok, "{said}");
    assert!(!said.contains("not encrypted"), "{said}");
    let (ok, said, _) = timed(&["session", "add", "Phiên 1", "--ledger", &good], &env);
    assert!(ok, "{said}");
    let (ok, said, _) = timed(&["ledger", "status", "--ledger", &good], &env);
    assert!(ok && said.contains("TLS, server certificate and host name checked (verify-full)"), "{said}");

    // A certificate from another CA, a name the certificate is not for, a link without TLS.
    let other_ca = at("127.0.0.1", &format!("sslmode=verify-full&sslrootcert={}", theirs.join("ca.pem").display()));
    let (ok, said, _) = timed(&["ledger", "status", "--ledger", &other_ca], &env);
    assert!(!ok && said.contains("untrusted certificate"), "{said}");
    let by_name = at("localhost", &format!("sslmode=verify-full&sslrootcert={}", ours.join("ca.pem").display()));
    let (ok, said, _) = timed(&["ledger", "status", "--ledger", &by_name], &env);
    assert!(!ok && said.contains("wrong host name"), "{said}");
    let (ok, said, _) = timed(&["ledger", "status", "--ledger", &at("127.0.0.1", "sslmode=disable")], &env);
    assert!(!ok && said.contains("takes only encrypted links"), "{said}");
    // verify-ca checks the CA but not the name.
    let by_name_ca = at("localhost", &format!("sslmode=verify-ca&sslrootcert={}", ours.join("ca.pem").display()));
    let (ok, said, _) = timed(&["session", "list", "--ledger", &by_name_ca], &env);
    assert!(ok && said.contains("Phiên 1"), "{said}");
    // Without the password file, the server says no, and that is what the message says.
    let (ok, said, _) = timed(&["session", "list", "--ledger", &good], &[("PGPASSFILE", dir.path())]);
    assert!(!ok && said.contains("asks for a password and none was found"), "{said}");

    // A dashboard on it: the password appears on no command line and in no output.
    let listen = format!("127.0.0.1:{}", free_port());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiosk"));
    cmd.args(["dashboard", "--ledger", &good, "--session", "Phiên 1", "--open", "--listen", &listen]);
    cmd.env("PGPASSFILE", &passfile);
    let mut child = serve(&mut cmd, &format!("http://{listen}/api/stats"), "the dashboard on TLS");
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains("s3cret"), "the password is not on the command line");
    let stats: serde_json::Value =
        ureq::get(&format!("http://{listen}/api/stats")).call().unwrap().body_mut().read_json().unwrap();
    assert_eq!(stats["ledger_online"], true);
    let _ = child.kill();
    let _ = child.wait();
}

/// A server that takes the TCP connection and then says nothing (a frozen
/// machine, a wrong port): every command gives up within its bounds with a
/// clear message, and so does a real PostgreSQL frozen with SIGSTOP; the
/// dashboard goes on answering, saying the ledger is lost, and recovers.
#[test]
fn a_silent_or_frozen_ledger_is_reported_within_seconds_and_the_dashboard_goes_on() {
    let Some(pg) = Cluster::start("frozen ledger") else { return };
    // Bounded on purpose: the ledger's defaults are 4 s to connect, 5 s a statement.
    const GIVE_UP: Duration = Duration::from_secs(30);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("postgresql://kiosk@{}/postgres?sslmode=disable", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming() {
            held.push(conn);
        }
    });
    let commands: [&[&str]; 4] = [
        &["ledger", "status"],
        &["ledger", "init"],
        &["session", "list"],
        &["checkin", "--session", "Phiên 1", "--code", "D1", "--reason", "t"],
    ];
    let all_give_up = |url: &str, what: &str| {
        // All at once: each must give up on its own, within its bounds.
        std::thread::scope(|s| {
            for args in commands {
                s.spawn(move || {
                    let (ok, said, took) = timed(&[args, &["--ledger", url]].concat(), &[]);
                    println!("{args:?} against {what}: failed after {took:.1?}");
                    assert!(!ok && said.contains("did not answer within"), "{args:?}: {said}");
                    assert!(took < GIVE_UP, "{args:?} took {took:?}");
                });
            }
        });
    };
    all_give_up(&silent_url, "a silent port");

    let url = pg.url();
    run_ok(&["ledger", "init", "--ledger", &url]);
    run_ok(&["session", "add", "Phiên 1", "--ledger", &url]);
    let listen = format!("127.0.0.1:{}", free_port());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiosk"));
    cmd.args(["dashboard", "--ledger", &url, "--session", "Phiên 1", "--open", "--listen", &listen]);
    let mut dashboard = serve(&mut cmd, &format!("http://{listen}/api/stats"), "the dashboard");
    let stats = || -> serde_json::Value {
        ureq::get(&format!("http://{listen}/api/stats")).call().unwrap().body_mut().read_json().unwrap()
    };
    assert_eq!(stats()["ledger_online"], true);

    pg.signal_all("STOP");
    let frozen = Instant::now();
    all_give_up(&url, "a frozen PostgreSQL");
    // The page goes on, with the banner.
    let until = Instant::now() + GIVE_UP;
    while stats()["ledger_online"] != false {
        assert!(Instant::now() < until, "the dashboard never said the ledger was lost");
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("the dashboard said the ledger was lost {:.1?} after it froze", frozen.elapsed());
    let t = Instant::now();
    let _ = stats();
    println!("and answered the figures in {:.1?} meanwhile", t.elapsed());
    assert_eq!(stats()["summoned"], 0, "the last figures are still served");
    pg.signal_all("CONT");
    let thawed = Instant::now();
    let until = Instant::now() + GIVE_UP;
    while stats()["ledger_online"] != true {
        assert!(Instant::now() < until, "the dashboard never found the ledger again");
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("and found it again {:.1?} after it went on", thawed.elapsed());
    run_ok(&["session", "list", "--ledger", &url]);
    let _ = dashboard.kill();
    let _ = dashboard.wait();
}

/// The admin screen's papers, printed at a kiosk on a ledger, carry the
/// congress's audit head (the ledger's), which `kiosk audit verify --head`
/// can check, not the head of the kiosk's own copy.
#[test]
fn papers_printed_at_a_kiosk_on_a_ledger_carry_the_ledgers_audit_head() {
    use kiosk::present::desk::{Desk, Reply};
    let Some(pg) = Cluster::start("kiosk papers on a ledger") else { return };
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();
    run_ok(&["ledger", "init", "--ledger", &url]);
    let copy = dir.path().join("door-a.db");
    let mut store = kiosk::store::Store::open(&copy).unwrap();
    kiosk::ledger::sync::follow(&mut store, &mut kiosk::ledger::Ledger::connect(&url).unwrap()).unwrap();
    // The secretariat goes on writing to the congress's chain after the copy was made.
    run_ok(&["session", "add", "Phiên 2", "--ledger", &url]);
    let ledger_head = kiosk::ledger::Ledger::connect(&url).unwrap().audit_head().unwrap();
    let local_head = store.audit_head().unwrap();
    assert_ne!(ledger_head, local_head, "the copy holds only part of the chain");

    let desk = Desk {
        store,
        session: std::sync::Arc::new(std::sync::RwLock::new("Phiên 1".into())),
        pin_hash: String::new(),
        pins: Default::default(),
        kiosk_id: "door-a".into(),
        link: None,
        ledger: Some(kiosk::ledger::Line::new(&url)),
        event: Default::default(),
        papers_dir: dir.path().join("papers"),
        faces: Default::default(),
    };
    let (jobs, desk_jobs) = crossbeam_channel::unbounded();
    let (replies, answers) = crossbeam_channel::unbounded();
    let worker = desk.spawn(desk_jobs, replies, || ());
    jobs.send(kiosk::present::model::Effect::PrintPapers).unwrap();
    drop(jobs);
    let got: Vec<Reply> = answers.iter().collect();
    worker.join().unwrap();
    let [Reply::Papers(files)] = got.as_slice() else { panic!("{got:?}") };
    let out = Command::new("pdftotext").args(["-layout", &files[1], "-"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<String>();
    assert!(text.contains(&ledger_head.hash), "the report names the ledger's head {}: {text}", ledger_head.hash);
}

/// The server frozen (SIGSTOP) under a running kiosk: it takes the TCP
/// connection and says nothing. The kiosk goes on checking people in on its
/// copy, and sends everything once the server goes on.
#[test]
fn a_kiosk_goes_on_checking_in_while_the_ledger_is_frozen() {
    let Some(faces) = faces("frozen ledger under a kiosk") else { return };
    if !xvfb_ok("frozen ledger under a kiosk") {
        return;
    }
    let Some(pg) = Cluster::start("frozen ledger under a kiosk") else { return };
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();
    let (folder, cfg) = eight_at_the_door(&faces, &url, dir.path());
    let db = dir.path().join("door.db");
    let key = data_key(&url);
    let child = start_kiosk(None, display_base() + 30, &cfg, &url, &db, "door-frozen", &folder);

    std::thread::sleep(Duration::from_secs(3));
    let before = attendance_of(&pg, "door-frozen");
    pg.signal_all("STOP");
    std::thread::sleep(Duration::from_secs(8));
    let waiting = outbox(&db, &key);
    pg.signal_all("CONT");
    assert!(waiting > 0, "check-ins went on while the ledger was frozen");
    println!("{waiting} outbox entries waited while the ledger was frozen ({before} check-ins had reached it)");
    all_sent(&pg, child, "door-frozen");
}

/// The page over HTTPS, with a certificate as `tools/ledger-tls.sh` makes
/// it: the key's cookie is then Secure, plain HTTP gets no page, and a
/// certificate from another CA is not trusted.
#[test]
fn the_dashboard_serves_over_https_with_a_secure_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let ours = ledger_certs(&dir.path().join("ours"), "127.0.0.1");
    let theirs = ledger_certs(&dir.path().join("theirs"), "127.0.0.1");
    let demo = dir.path().join("demo");
    run_ok(&["demo", "--out", path_str(&demo)]);
    let db = demo.join("demo.db");
    let listen = format!("127.0.0.1:{}", free_port());
    let key_said = run_ok(&["dashboard", "key", "--db", path_str(&db), "--listen", &listen]);
    let key = key_said.split("viewer key: ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiosk"));
    cmd.args(["dashboard", "--db", path_str(&db), "--listen", &listen, "--session", "Phiên khai mạc"]).args([
        "--tls-cert",
        path_str(&ours.join("server.crt")),
        "--tls-key",
        path_str(&ours.join("server.key")),
    ]);
    let mut child = serve(&mut cmd, &format!("http://{listen}/"), "the dashboard over HTTPS");
    let curl = |args: &[&str]| {
        Command::new("curl").args(["-s", "-S", "-o", "/dev/null", "-D", "-"]).args(args).output().unwrap()
    };
    let https = format!("https://{listen}");
    let first = curl(&["--cacert", path_str(&ours.join("ca.pem")), &format!("{https}/?key={key}")]);
    let headers = stdout(&first);
    assert!(headers.starts_with("HTTP/1.1 303"), "{headers}{}", stderr(&first));
    assert!(headers.to_lowercase().contains("; httponly; samesite=strict; path=/; secure"), "{headers}");
    let stats = curl(&[
        "--cacert",
        path_str(&ours.join("ca.pem")),
        "-H",
        &format!("Cookie: kiosk_view={key}"),
        &format!("{https}/api/stats"),
    ]);
    assert!(stdout(&stats).starts_with("HTTP/1.1 200"), "{}{}", stdout(&stats), stderr(&stats));
    let untrusted = curl(&["--cacert", path_str(&theirs.join("ca.pem")), &format!("{https}/api/stats")]);
    assert!(!untrusted.status.success(), "a certificate from another CA is not trusted");
    let plain = curl(&[&format!("http://{listen}/api/stats")]);
    assert!(!stdout(&plain).contains("200"), "no page over plain HTTP: {}", stdout(&plain));
    let _ = child.kill();
    let _ = child.wait();
}
