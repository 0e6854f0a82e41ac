//! `kiosk doctor`: on the morning of the congress, one line for each thing
//! a kiosk needs, and for each that is wrong, what to do about it. Every
//! check runs, whatever failed before it, so one run shows all that is wrong.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, ValueEnum};
use sha2::{Digest, Sha256};

use kiosk::capture::{FrameSource, Webcam};
use kiosk::config::Config;
use kiosk::ledger::Ledger;
use kiosk::store::Store;
use kiosk::store::time::Zone;
use kiosk::vision::engine::Engine;

use super::Db;

#[derive(Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    db: Db,
    /// Checks to leave out, comma-separated: on a secretariat's PC there is no camera.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "PARTS")]
    skip: Vec<Part>,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
pub enum Part {
    Camera,
    Ledger,
    Display,
}

/// What a check saw when all is well, or what is wrong and what to do.
type Found = Result<String, String>;

/// Below this the kiosk may stop recording in the middle of the congress.
const MIN_FREE_MIB: u64 = 512;
/// Check-ins of several doors are put in order by their times.
const MAX_CLOCK_OFFSET_S: f64 = 2.0;
/// Frames the camera check takes (the first few of a webcam are often dark).
const CAMERA_FRAMES: usize = 15;

/// `settings`: the settings as `kiosk` read them (or why they could not be).
pub fn doctor(settings: anyhow::Result<Config>, settings_path: &Path, args: &DoctorArgs) -> ExitCode {
    let mut failed = 0;
    let mut say = |name: &str, found: Found| match found {
        Ok(seen) => println!("OK    {name}: {seen}"),
        Err(problem) => {
            failed += 1;
            println!("FAIL  {name}: {}", problem.replace('\n', "\n      "));
        }
    };
    let cfg = match settings {
        Ok(cfg) => {
            say("settings", Ok(settings_path.display().to_string()));
            cfg
        }
        Err(e) => {
            say("settings", Err(format!("{e:#}\nThe checks below use the built-in settings.")));
            Config::default()
        }
    };
    say("ONNX Runtime", runtime(&cfg));
    say("models", models(&cfg));
    let db = args.db.db.clone().unwrap_or_else(|| cfg.store.database.clone());
    let store = open_store(&db);
    say(
        "database",
        store.as_ref().map(|_| format!("{}, schema {} (current)", db.display(), store_schema())).map_err(Clone::clone),
    );
    say("hall plan", hall(&cfg, store.as_ref().ok()));
    say(
        "delegates",
        store.map_err(|_| "cannot tell without the database (above)".into()).and_then(|s| delegates(&s, &cfg, &db)),
    );
    if !args.skip.contains(&Part::Camera) {
        say("camera", camera(&cfg));
    }
    if !args.skip.contains(&Part::Display) {
        say("display", display());
    }
    if !args.skip.contains(&Part::Ledger) {
        say("ledger", ledger(&cfg));
    }
    say("disk", disk(&db));
    say("time zone", zone(&cfg));
    say("admin PIN", pin(&cfg));
    say("fonts", fonts());
    if failed > 0 {
        println!("{failed} check(s) failed");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn runtime(cfg: &Config) -> Found {
    kiosk::vision::runtime::environment(&cfg.engine.onnxruntime).map_err(|e| e.to_string())?;
    let candidates = kiosk::vision::runtime::library_candidates(&cfg.engine.onnxruntime);
    Ok(candidates.into_iter().find(|p| p.is_file()).map_or_else(|| "loaded".into(), |p| p.display().to_string()))
}

/// Every file listed in the models' SOURCES.md, byte for byte, then the
/// configured detector and embedder loaded as the kiosk loads them.
fn models(cfg: &Config) -> Found {
    let dir = cfg.engine.models_dir();
    let restore = "restore the models with `git checkout -- models/` (or reinstall the kiosk package)";
    let sources = std::fs::read_to_string(dir.join("SOURCES.md"))
        .map_err(|e| format!("cannot read {}: {e}; {restore}", dir.join("SOURCES.md").display()))?;
    let listed = checksums(&sources);
    if listed.is_empty() {
        return Err(format!("{} lists no model checksums; {restore}", dir.join("SOURCES.md").display()));
    }
    for (file, sha) in &listed {
        let path = dir.join(file);
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}; {restore}", path.display()))?;
        if hex::encode(Sha256::digest(&bytes)) != *sha {
            return Err(format!(
                "{} is not the file SOURCES.md lists (its checksum differs); {restore}",
                path.display()
            ));
        }
    }
    let engine = Engine::load(&cfg.engine).map_err(|e| e.to_string())?;
    Ok(format!(
        "{} files in {} match their checksums; the detector and {} load",
        listed.len(),
        dir.display(),
        engine.embedder().model_id()
    ))
}

/// The `| \`file\` | \`sha256\` |` rows of SOURCES.md.
fn checksums(sources: &str) -> Vec<(String, String)> {
    sources
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(|c| c.trim().trim_matches('`')).collect();
            match cells[..] {
                ["", file, sha, ""] if sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    Some((file.to_string(), sha.to_ascii_lowercase()))
                }
                _ => None,
            }
        })
        .collect()
}

fn store_schema() -> usize {
    kiosk::store::schema::MIGRATIONS.len()
}

/// Opening brings an older schema up to date, and refuses a newer one.
fn open_store(db: &Path) -> Result<Store, String> {
    if !db.is_file() {
        return Err(format!(
            "{} does not exist: enrol the delegates (`kiosk enroll --db {} --roster ROSTER --photos DIR`), \
             or copy the congress's database there, or pass --db",
            db.display(),
            db.display()
        ));
    }
    Store::open(db).map_err(|e| e.to_string())
}

fn delegates(store: &Store, cfg: &Config, db: &Path) -> Found {
    let fail = |e: kiosk::Error| e.to_string();
    let count = store.delegate_count().map_err(fail)?;
    if count == 0 {
        return Err(format!(
            "no delegates in {}: run `kiosk enroll --db {} --roster ROSTER --photos DIR`",
            db.display(),
            db.display()
        ));
    }
    let kind = cfg.engine.embedder;
    let (people, _) = store.gallery(kind.model_id(), kind.dim()).map_err(fail)?;
    if people.is_empty() {
        return Err(format!(
            "none of the {count} delegates has a face enrolled with {}: run `kiosk enroll` with their photos",
            kind.model_id()
        ));
    }
    let threshold = match store.calibration(kind.model_id()).map_err(fail)? {
        Some(c) => format!("threshold {:.3} calibrated on them", c.threshold),
        None if people.len() < kiosk::matching::calibrate::MIN_PEOPLE => {
            format!(
                "the shipped threshold (too few faces to calibrate on, fewer than {})",
                kiosk::matching::calibrate::MIN_PEOPLE
            )
        }
        None => {
            return Err(format!(
                "the threshold is not calibrated for these faces: run `kiosk calibrate --db {}`",
                db.display()
            ));
        }
    };
    Ok(format!("{count} delegates, {} with a face ({}); {threshold}", people.len(), kind.model_id()))
}

fn camera(cfg: &Config) -> Found {
    let mut cam = Webcam::open(&cfg.camera).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut last = None;
    for _ in 0..CAMERA_FRAMES {
        last = cam.next_frame().map_err(|e| e.to_string())?;
    }
    let fps = CAMERA_FRAMES as f64 / start.elapsed().as_secs_f64();
    let frame = last.ok_or("the camera opened but gave no frame: plug it into another USB port")?;
    let img = &frame.image;
    let mean = img.pixels().map(|p| (p[0] as u64 + p[1] as u64 + p[2] as u64) / 3).sum::<u64>() as f64
        / (img.width() as u64 * img.height() as u64).max(1) as f64;
    let seen =
        format!("{}, {}x{}, {fps:.0} fps, mean brightness {mean:.0} of 255", cam.describe(), img.width(), img.height());
    match mean {
        m if m < 40.0 => Err(format!("{seen}: too dark; light the faces or uncover the lens")),
        m if m > 220.0 => Err(format!("{seen}: too bright; turn the camera away from the window or a lamp")),
        _ => Ok(seen),
    }
}

/// The window needs a display server to draw on: X11 or Wayland, local.
fn display() -> Found {
    let reachable = |path: &Path| std::os::unix::net::UnixStream::connect(path).is_ok();
    if let Ok(name) = std::env::var("WAYLAND_DISPLAY") {
        let dir = PathBuf::from(std::env::var("XDG_RUNTIME_DIR").unwrap_or_default());
        if reachable(&dir.join(&name)) {
            return Ok(format!("Wayland {name}"));
        }
    }
    if let Ok(name) = std::env::var("DISPLAY") {
        let number = name.trim_start_matches(':').split('.').next().unwrap_or_default().to_string();
        if reachable(&PathBuf::from(format!("/tmp/.X11-unix/X{number}"))) {
            return Ok(format!("X11 {name}"));
        }
        return Err(format!(
            "DISPLAY is {name}, but no X server answers there: start the kiosk's session (or cage) first"
        ));
    }
    Err("no display: DISPLAY and WAYLAND_DISPLAY are not set. Start the kiosk in the PC's graphical session or under cage; \
         on a PC without a screen, use --skip display"
        .into())
}

fn ledger(cfg: &Config) -> Found {
    if cfg.ledger.url.is_empty() {
        return Ok("none set: this kiosk records into its own database".into());
    }
    let mut ledger = Ledger::connect(&cfg.ledger.url).map_err(|e| e.to_string())?;
    let offset = ledger.clock_offset().map_err(|e| e.to_string())?;
    let seen = format!(
        "{}, schema {}; its clock is {offset:+.2} s from this PC's",
        ledger.place(),
        kiosk::ledger::schema::MIGRATIONS.len()
    );
    if offset.abs() > MAX_CLOCK_OFFSET_S {
        return Err(format!(
            "{seen}: more than {MAX_CLOCK_OFFSET_S} s, so check-ins of different doors would be out of order. \
             Set the clocks by NTP on both machines (`timedatectl set-ntp true`)"
        ));
    }
    Ok(seen)
}

fn disk(db: &Path) -> Found {
    let dir = db.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let stat = rustix::fs::statvfs(dir).map_err(|e| format!("cannot read the free space of {}: {e}", dir.display()))?;
    let free_mib = stat.f_bavail * stat.f_frsize / (1024 * 1024);
    let seen = format!("{free_mib} MiB free in {}", dir.display());
    if free_mib < MIN_FREE_MIB {
        return Err(format!("{seen}: the kiosk needs at least {MIN_FREE_MIB} MiB to go on recording; free some space"));
    }
    Ok(seen)
}

/// A PC left in UTC prints its papers in UTC: the usual mistake of a fresh install.
fn zone(cfg: &Config) -> Found {
    let zone = cfg.event.zone()?;
    let now = zone.now();
    match zone {
        Zone::Named(tz) => Ok(format!("{tz}, now {}", now.0.format("%H:%M %:z"))),
        Zone::Machine if now.0.offset().local_minus_utc() == 0 => Err(
            "event.time_zone is empty and this PC's clock is in UTC: the lists would show UTC times. \
             Set event.time_zone (e.g. \"Asia/Ho_Chi_Minh\") or the PC's zone (`timedatectl set-timezone Asia/Ho_Chi_Minh`)"
                .into(),
        ),
        Zone::Machine => Ok(format!("this PC's, now {}", now.0.format("%H:%M %:z"))),
    }
}

fn pin(cfg: &Config) -> Found {
    let hash = &cfg.kiosk.admin_pin_hash;
    // A mangled hash is refused with the settings, above.
    if kiosk::base::pin::pin_is_set(hash) {
        Ok("set".into())
    } else {
        Err("none set, so the admin screen and the dashboard's clerk stay locked: \
             run `kiosk admin-pin` and put the line it prints under [kiosk] in the settings"
            .into())
    }
}

/// The layout file reads, and what the welcome screen will show.
fn hall(cfg: &Config, store: Option<&Store>) -> Found {
    use kiosk::secretariat::hall::{Hall, Layout};
    let layout = Layout::load(&cfg.event.hall_layout).map_err(|e| e.to_string())?;
    let Some(store) = store else { return Ok("the layout reads; the seats need the database (above)".into()) };
    let delegates = store.delegates().map_err(|e| e.to_string())?;
    Ok(match Hall::new(delegates.iter().map(|d| d.seat.as_str()), &layout) {
        Hall::Plan(plan) => format!("{} seats on the plan; the welcome screen shows each delegate's", plan.seats()),
        Hall::List(seats) if seats.is_empty() => "no seats on the roster: the welcome shows none".into(),
        Hall::List(seats) => format!(
            "{} seats follow no row-and-number pattern (\"B6\", \"A-12\"): the welcome says the seat in words",
            seats.len()
        ),
    })
}

/// Every letter of Vietnamese, in both weights the screens and papers use.
fn fonts() -> Found {
    let letters: String = "ĂÂĐÊÔƠƯăâđêôơư".chars().chain('\u{1EA0}'..='\u{1EF9}').collect();
    for (name, bytes) in [("Noto Sans", kiosk::text::fonts::NOTO), ("Noto Sans Bold", kiosk::text::fonts::NOTO_BOLD)] {
        let face =
            ttf_parser::Face::parse(bytes, 0).map_err(|e| format!("{name} is damaged ({e}): reinstall the kiosk"))?;
        let missing: String = letters.chars().filter(|&c| face.glyph_index(c).is_none()).collect();
        if !missing.is_empty() {
            return Err(format!("{name} has no glyph for {missing}: names would not print right; reinstall the kiosk"));
        }
    }
    Ok(format!("Noto Sans, regular and bold: all {} Vietnamese letters", letters.chars().count()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_rows_of_sources_md_are_read_and_nothing_else() {
        let text = "| file | sha256 |\n| --- | --- |\n| `a.onnx` | `".to_string()
            + &"ab".repeat(32)
            + "` |\n| `b` | `short` |\n";
        assert_eq!(checksums(&text), [("a.onnx".to_string(), "ab".repeat(32))]);
    }
}
