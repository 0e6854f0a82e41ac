//! The secretariat's pictures on a single-file congress of 300 delegates in
//! 60 delegations: the arrivals chart, the bars by delegation and the hall
//! plan drawn as SVG by the server, the projector view measured in headless
//! Chromium at 1920×1080 and 1280×720, and the pictures following a check-in.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::web::{Browser, Dashboard};
use common::*;
use kiosk::store::{Delegate, Method, Store};

const SESSION: &str = "Phiên khai mạc";

/// 300 delegates in 60 delegations (long names among them), seats A-1 to J-30;
/// the first 160 checked in.
fn congress(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("congress.db");
    let mut store = Store::open(&db).unwrap();
    store
        .transaction(|tx| {
            tx.ensure_session(SESSION)?;
            for i in 0..300 {
                let delegation = if i % 60 == 7 {
                    "Đoàn Công đoàn Tập đoàn Công nghiệp Than - Khoáng sản Việt Nam".to_string()
                } else {
                    format!("Đoàn Liên đoàn Lao động số {}", i % 60)
                };
                let d = Delegate {
                    code: format!("DB{i:03}"),
                    name: format!("Nguyễn Văn {i}"),
                    delegation,
                    seat: format!("{}-{}", (b'A' + (i / 30) as u8) as char, i % 30 + 1),
                    ..Delegate::default()
                };
                tx.upsert_delegate(&d)?;
                if i < 160 {
                    tx.check_in(SESSION, &d.code, Method::Face, "cửa-1", None, None)?;
                }
            }
            Ok(())
        })
        .unwrap();
    db
}

/// Waits until the page's pictures have all loaded, then says whether any failed.
fn pictures_loaded(browser: &Browser) {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let state = browser.js("const p = [...document.querySelectorAll('img.picture')]; \
             return [p.length, p.every(i => i.complete), p.every(i => i.naturalWidth > 0)]");
        if state[1] == true {
            assert_eq!(state[2], true, "a picture failed to load: {state}");
            assert_eq!(state[0], 3, "three pictures");
            return;
        }
        assert!(Instant::now() < until, "the pictures never loaded: {state}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_pictures_are_drawn_by_the_server_and_the_projector_fits_one_screen() {
    let dir = tempfile::tempdir().unwrap();
    let db = congress(dir.path());
    let layout = dir.path().join("hall.toml");
    std::fs::write(&layout, "stage = \"Sân khấu\"\naisles_after_seat = [10, 20]\n").unwrap();
    let cfg = dir.path().join("k.toml");
    std::fs::write(
        &cfg,
        format!("[event]\ntime_zone = \"Asia/Ho_Chi_Minh\"\nhall_layout = \"{}\"\n", layout.display()),
    )
    .unwrap();
    let dash = Dashboard::start(&["--db", path_str(&db), "--session", SESSION, "--config", path_str(&cfg)]);

    // The arrivals, by the minute on the congress's clocks, add up to the present count.
    let stats = dash.stats();
    assert_eq!(stats["present"], 160);
    let arrivals = stats["arrivals"].as_array().unwrap();
    assert!(!arrivals.is_empty());
    let sum: u64 = arrivals.iter().map(|a| a["present"].as_u64().unwrap()).sum();
    assert_eq!(sum, 160, "{arrivals:?}");
    let minute = arrivals[0]["minute"].as_str().unwrap();
    assert!(minute.len() == 5 && minute.as_bytes()[2] == b':', "{minute}");

    // The pictures, as SVG from the server.
    for (path, wanted) in [
        ("/arrivals.svg", "Đủ điều kiện: 151"),
        ("/delegations.svg", "Đoàn Liên đoàn Lao động số 0"),
        ("/hall.svg", "Có mặt: 160"),
    ] {
        let mut r = dash.get(path);
        assert_eq!(r.headers()["content-type"], "image/svg+xml; charset=utf-8", "{path}");
        let body = r.body_mut().read_to_string().unwrap();
        assert!(body.starts_with("<svg") && body.contains(wanted), "{path}: {body:.300}");
    }

    let Some(browser) = Browser::open("dashboard pictures") else { return };
    browser.go(&format!("{}/?key={}", dash.base, dash.key));
    pictures_loaded(&browser);
    browser.screenshot(&screenshots().join("dashboard-pictures.png"));

    // The projector view: nothing to scroll, at both sizes, in both languages.
    for (width, height, lang) in [(1920, 1080, "vi"), (1280, 720, "en")] {
        // The window's frame takes some of its height: grown by it, the page gets the screen's size.
        browser.resize(width, height);
        let frame = browser.js("return [outerWidth - innerWidth, outerHeight - innerHeight]");
        let frame = |i: usize| frame[i].as_u64().unwrap() as u32;
        browser.resize(width + frame(0), height + frame(1));
        browser.go(&format!("{}/?view=projector&lang={lang}", dash.base));
        pictures_loaded(&browser);
        let size = browser.js(
            "const d = document.documentElement; \
             const bottom = Math.max(...[...document.querySelectorAll('section')].map(s => s.getBoundingClientRect().bottom)); \
             return [innerWidth, innerHeight, d.scrollWidth, d.scrollHeight, bottom]",
        );
        let n = |i: usize| size[i].as_f64().unwrap();
        println!("projector at {width}×{height}: viewport {}×{}, document {}×{}", n(0), n(1), n(2), n(3));
        assert_eq!((n(0), n(1)), (width as f64, height as f64), "the page has the screen's size");
        assert!(n(3) <= n(1) && n(2) <= n(0), "the projector view scrolls at {width}×{height}: {size}");
        assert!(n(4) <= n(1), "a card runs off the screen at {width}×{height}: {size}");
        browser.screenshot(&screenshots().join(format!("dashboard-projector-{width}x{height}.png")));
    }

    // A check-in: the figures and the pictures follow.
    let redrawn = browser.js("return Number(document.body.dataset.redrawn || 0)").as_u64().unwrap();
    run_ok(&["checkin", "--db", path_str(&db), "--session", SESSION, "--code", "DB200", "--reason", "t"]);
    let until = Instant::now() + Duration::from_secs(15);
    while browser.js("return Number(document.body.dataset.redrawn || 0)").as_u64().unwrap() <= redrawn
        || browser.text("present") != "161"
    {
        assert!(Instant::now() < until, "the pictures were not asked for again");
        std::thread::sleep(Duration::from_millis(50));
    }
    pictures_loaded(&browser);
    let hall = dash.get("/hall.svg").body_mut().read_to_string().unwrap();
    assert!(hall.contains("Có mặt: 161"));
    let stats = dash.stats();
    let sum: u64 = stats["arrivals"].as_array().unwrap().iter().map(|a| a["present"].as_u64().unwrap()).sum();
    assert_eq!(sum, 161);
}
