//! The shared ledger under load (`kiosk bench --ledger URL`): a roster of
//! real size pushed in, a kiosk starting on an empty copy, check-ins reaching
//! the ledger one by one and from ten kiosks at once, a backlog draining, and
//! another copy (the dashboard's) seeing a check-in. Needs an empty ledger:
//! it writes its own test delegates (tools/bench_ledger.sh makes one).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

use crate::base::stats::{memory_mib, percentile};
use crate::dashboard::figures::Figures;
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::ledger::sync::{follow, push_all};
use crate::ledger::syncer::{Link, Syncer};
use crate::secretariat::EventConfig;
use crate::store::time::Zone;
use crate::store::{Delegate, Method, NewTemplate, Store};
use crate::vision::engine::EngineConfig;
use crate::vision::face::l2_normalize;
use crate::vision::quality::Quality;

const SESSION: &str = "Phiên toàn thể";
/// The size of an enrolled thumbnail as the kiosk stores it (240 pixels high, JPEG).
const THUMBNAIL_BYTES: usize = 10_800;

pub struct Options<'a> {
    pub url: &'a str,
    pub roster: usize,
    pub kiosks: usize,
    pub engine: &'a EngineConfig,
}

/// The next check-in of the bench: every delegate once per session, then a new session.
fn next_check_in(next: &AtomicUsize, codes: &[String]) -> (String, String) {
    let n = next.fetch_add(1, Ordering::SeqCst);
    let round = n / codes.len();
    let session = if round == 0 { SESSION.to_string() } else { format!("{SESSION} {}", round + 1) };
    (session, codes[n % codes.len()].clone())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(name: &str, samples: &[f64]) -> String {
    format!(
        "{name}: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({} check-ins)",
        percentile(samples, 0.5),
        percentile(samples, 0.95),
        percentile(samples, 1.0),
        samples.len()
    )
}

/// A fresh local copy of the ledger at `url` in `dir`, brought up to date.
fn copy(dir: &Path, name: &str, url: &str) -> Result<Store> {
    let mut store = Store::open(&dir.join(format!("{name}.db")))?.with_zone(Zone::default());
    follow(&mut store, &mut Ledger::connect(url)?)?;
    Ok(store)
}

pub fn run(opts: &Options) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    Ledger::init(opts.url)?;
    let mut ledger = Ledger::connect(opts.url)?;
    // The copies encrypted as a kiosk's are, so that their cost is in the figures.
    crate::ledger::unlock_copies(opts.url, Path::new(""))?;
    let dir = crate::base::scratch::folder()?;
    let mut seed = copy(dir.path(), "secretariat", opts.url)?;
    if seed.delegate_count()? > 0 {
        return Err(Error::Input(
            "kiosk bench --ledger writes test delegates: give it an empty ledger (tools/bench_ledger.sh makes one)"
                .into(),
        ));
    }
    let kind = opts.engine.embedder;

    // The roster, enrolled at the secretariat and pushed in.
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let thumbnail: Vec<u8> = (0..THUMBNAIL_BYTES).map(|_| rng.random()).collect();
    let started = Instant::now();
    seed.transaction(|tx| {
        let mut v = vec![0f32; kind.dim()];
        for i in 0..opts.roster {
            let d = Delegate {
                code: format!("B{i:06}"),
                name: format!("Đại biểu {i}"),
                delegation: format!("Đoàn {:02}", i % 63),
                seat: i.to_string(),
                ..Delegate::default()
            };
            tx.upsert_delegate(&d)?;
            v.iter_mut().for_each(|x| *x = rng.random::<f32>() - 0.5);
            l2_normalize(&mut v);
            let t = NewTemplate {
                embedding: v.clone(),
                photo_sha256: format!("{i:064}"),
                quality: Quality { eye_distance: 60.0, sharpness: 300.0, yaw: 0.0, brightness: 120.0 },
                thumbnail: thumbnail.clone(),
            };
            tx.put_template(&d.code, &format!("{i}.jpg"), kind.model_id(), &t)?;
        }
        tx.ensure_session(SESSION).map(|_| ())
    })?;
    let (sent, _) = push_all(&mut seed, &mut ledger, "secretariat")?;
    lines.push(format!(
        "roster of {} delegates with templates and thumbnails pushed into the ledger: {:.1} s ({sent} changes)",
        opts.roster,
        started.elapsed().as_secs_f64()
    ));

    // A kiosk starting on an empty copy: pull everything, load the models, build the gallery.
    let rss_before = memory_mib("VmRSS").unwrap_or(0.0);
    let started = Instant::now();
    let kiosk = copy(dir.path(), "cold", opts.url)?;
    let pulled = started.elapsed();
    let (people, _recognizer) = kiosk.recognizer(opts.engine, &Default::default(), &Default::default())?;
    lines.push(format!(
        "kiosk ready from an empty copy with {} delegates: {:.1} s (pull {:.1} s, then models and gallery); memory {:.0} -> {:.0} MiB",
        people.len(),
        started.elapsed().as_secs_f64(),
        pulled.as_secs_f64(),
        rss_before,
        memory_mib("VmRSS").unwrap_or(0.0)
    ));
    drop(kiosk);

    // Figures for the dashboard on the whole roster.
    let event = EventConfig::default();
    let t = Instant::now();
    Figures::read(&seed, SESSION, &event, &Zone::default(), Some(&[]))?;
    lines.push(format!("dashboard figures for {} delegates: {:.0} ms", opts.roster, ms(t.elapsed())));

    // One kiosk: each check-in from its local commit until the ledger has it.
    let codes: Vec<String> = (0..opts.roster).map(|i| format!("B{i:06}")).collect();
    let next = Arc::new(AtomicUsize::new(0));
    let one = check_ins(dir.path(), opts.url, "bench-1", &codes, &next, 200)?;
    lines.push(summary("a check-in reaches the ledger (one kiosk, loopback)", &one));

    // Another copy (the dashboard's) sees a check-in made at a kiosk.
    let watcher = copy(dir.path(), "watcher", opts.url)?;
    let watcher_link = Syncer::start(Link {
        url: opts.url.into(),
        db: watcher.path().to_path_buf(),
        zone: Zone::default(),
        kiosk: None,
    })?;
    let mut kiosk = copy(dir.path(), "door", opts.url)?;
    let door = Syncer::start(Link {
        url: opts.url.into(),
        db: kiosk.path().to_path_buf(),
        zone: Zone::default(),
        kiosk: Some("door".into()),
    })?;
    let mut seen = Vec::new();
    for _ in 0..50 {
        let (session, code) = next_check_in(&next, &codes);
        let t = Instant::now();
        kiosk.check_in(&session, &code, Method::Face, "door", None)?;
        door.watch().nudge();
        while watcher.session_id(&session)?.is_none() || watcher.attendance(&session, &code)?.is_none() {
            if t.elapsed() > Duration::from_secs(10) {
                return Err(Error::Input("the other copy never saw the check-in".into()));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        seen.push(ms(t.elapsed()));
    }
    drop((door, watcher_link));
    lines.push(summary("another copy (the dashboard's) has a kiosk's check-in", &seen));

    // A backlog: 1,000 check-ins made offline, then sent.
    let mut offline = copy(dir.path(), "offline", opts.url)?;
    offline.transaction(|tx| {
        for _ in 0..1000 {
            let (session, code) = next_check_in(&next, &codes);
            tx.check_in(&session, &code, Method::Face, "offline", None, None)?;
        }
        Ok(())
    })?;
    let waiting = offline.waiting()?.1;
    let t = Instant::now();
    push_all(&mut offline, &mut ledger, "offline")?;
    lines.push(format!("{waiting} waiting check-ins drained in {:.2} s", t.elapsed().as_secs_f64()));

    // Ten kiosks at once.
    if opts.kiosks > 1 {
        let threads: Vec<_> = (0..opts.kiosks)
            .map(|k| {
                let (dir, url, codes, next) =
                    (dir.path().to_path_buf(), opts.url.to_string(), codes.clone(), next.clone());
                std::thread::spawn(move || check_ins(&dir, &url, &format!("bench-k{k}"), &codes, &next, 60))
            })
            .collect();
        let mut all = Vec::new();
        for t in threads {
            all.extend(t.join().map_err(|_| Error::Input("a bench kiosk thread panicked".into()))??);
        }
        lines.push(summary(&format!("a check-in reaches the ledger ({} kiosks at once)", opts.kiosks), &all));
        let rows = ledger.kiosks()?.iter().map(|k| k.check_ins).sum::<i64>();
        lines.push(format!("ledger: {rows} check-ins by the bench's kiosks, one per delegate and session"));
    }
    Ok(lines)
}

/// `n` check-ins at one kiosk with its own copy and link, a queue's pace
/// apart; each timed from its local commit until it left the outbox (the
/// ledger committed it).
fn check_ins(dir: &Path, url: &str, id: &str, codes: &[String], next: &AtomicUsize, n: usize) -> Result<Vec<f64>> {
    let mut store = copy(dir, id, url)?;
    let link = Syncer::start(Link {
        url: url.into(),
        db: store.path().to_path_buf(),
        zone: Zone::default(),
        kiosk: Some(id.into()),
    })?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(id.len() as u64);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let (session, code) = next_check_in(next, codes);
        let t = Instant::now();
        store.check_in(&session, &code, Method::Face, id, None)?;
        link.watch().nudge();
        // The outbox's own count: cheaper to ask every millisecond than its rows.
        while store.waiting()?.1 > 0 {
            if t.elapsed() > Duration::from_secs(30) {
                return Err(Error::Input(format!("{id}: a check-in never reached the ledger")));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        out.push(ms(t.elapsed()));
        std::thread::sleep(Duration::from_millis(rng.random_range(30..120)));
    }
    Ok(out)
}
