//! `kiosk run` (the window), `kiosk cameras`, `kiosk admin-pin`, `kiosk paths`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use kiosk::base::pin::hash_pin;
use kiosk::config::Config;
use kiosk::present::RunOptions;
use kiosk::store::Store;

use super::{Ctx, DbSession};

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    at: DbSession,
    /// Play the images of DIR in name order as camera frames (kiosk.frames_fps per second).
    #[arg(long, value_name = "DIR")]
    frames: Option<PathBuf>,
    /// With --frames: process every frame (the player waits for the kiosk instead of skipping), then exit.
    #[arg(long, requires = "frames")]
    once: bool,
    /// With --frames: play the images over and over, until the window is closed.
    #[arg(long = "loop", requires = "frames", conflicts_with = "once")]
    repeat: bool,
    /// A window instead of the full screen.
    #[arg(long)]
    windowed: bool,
}

#[derive(Args)]
pub struct DemoArgs {
    /// The folder to write the demo into (demo.db, kiosk.toml and hall.toml).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(ctx: &Ctx, args: RunArgs) -> Result<ExitCode> {
    // A fresh install has no congress yet: it shows the demo rather than an error.
    let demo;
    let (cfg, db) = if ctx.ledger.is_none() && args.at.db.db.is_none() && !ctx.cfg.store.database.exists() {
        let missing = &ctx.cfg.store.database;
        let settings = make_demo(&missing.with_file_name("kiosk-demo"))?;
        eprintln!(
            "no database {}: showing the demo congress ({}, admin PIN {}). For your own: kiosk enroll --db {} --roster ROSTER --photos DIR",
            missing.display(),
            settings.display(),
            kiosk::secretariat::demo::PIN,
            missing.display()
        );
        demo = Config::load(Some(&settings))?;
        (&demo, demo.store.database.clone())
    } else if ctx.ledger.is_some() {
        // With a ledger the local copy is made when missing, encrypted.
        ctx.unlock_copies()?;
        (&ctx.cfg, ctx.db_path(&args.at.db))
    } else {
        (&ctx.cfg, ctx.existing_db(&args.at.db)?)
    };
    let opts = RunOptions {
        db,
        ledger: ctx.ledger.clone(),
        session: args.at.session.clone().unwrap_or_else(|| cfg.event.session.clone()),
        frames: args.frames,
        once: args.once,
        repeat: args.repeat,
        fullscreen: !args.windowed,
    };
    let summary = kiosk::present::run(&cfg.station(), opts)?;
    println!("{}", summary.report());
    Ok(ExitCode::SUCCESS)
}

pub fn demo(args: DemoArgs) -> Result<ExitCode> {
    let settings = make_demo(&args.out)?;
    println!(
        "demo congress: {} delegates in {}, sessions {}; admin PIN {}",
        kiosk::secretariat::demo::delegates().len(),
        args.out.join("demo.db").display(),
        kiosk::secretariat::demo::SESSIONS.join(", "),
        kiosk::secretariat::demo::PIN
    );
    println!("run it: kiosk run --config {}", settings.display());
    Ok(ExitCode::SUCCESS)
}

/// `dir/demo.db`, `dir/kiosk.toml` (the settings that open it) and the hall's
/// layout `dir/hall.toml`; returns the settings' path.
fn make_demo(dir: &Path) -> Result<PathBuf> {
    use kiosk::secretariat::demo;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot make the folder {}", dir.display()))?;
    let dir = dir.canonicalize().with_context(|| format!("cannot find {}", dir.display()))?;
    let db = dir.join("demo.db");
    demo::write(&mut Store::open(&db)?)?;
    let mut settings = toml::Table::new();
    let section = |pairs: &[(&str, &str)]| {
        toml::Value::Table(pairs.iter().map(|(k, v)| (k.to_string(), toml::Value::String(v.to_string()))).collect())
    };
    let hall = dir.join("hall.toml");
    std::fs::write(&hall, demo::HALL).with_context(|| format!("cannot write {}", hall.display()))?;
    let hall = hall.to_string_lossy();
    let event = [
        ("name", demo::NAME),
        ("session", demo::SESSIONS[0]),
        ("time_zone", "Asia/Ho_Chi_Minh"),
        ("hall_layout", &*hall),
    ];
    settings.insert("event".into(), section(&event));
    settings.insert("store".into(), section(&[("database", &db.to_string_lossy())]));
    settings.insert("kiosk".into(), section(&[("admin_pin_hash", &hash_pin(demo::PIN)?)]));
    let path = dir.join("kiosk.toml");
    let text = format!(
        "# The demo congress of `kiosk demo`: kiosk run --config {}\n{}",
        path.display(),
        toml::to_string(&settings)?
    );
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

pub fn cameras() -> Result<ExitCode> {
    let cameras = kiosk::capture::list_cameras()?;
    if cameras.is_empty() {
        println!("no camera found (plug a USB camera in; the kiosk also runs with --frames DIR)");
    }
    for c in cameras {
        println!("{c}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn admin_pin() -> Result<ExitCode> {
    let mut pin = String::new();
    std::io::stdin().read_line(&mut pin).context("reading the PIN from standard input")?;
    let hash = hash_pin(pin.trim())?;
    if pin.trim().len() < 6 {
        eprintln!("note: a PIN of 6 digits or more is much harder to guess; the demo's 4 are for trying out only");
    }
    println!("# put this line in the [kiosk] section of your settings file:");
    println!("admin_pin_hash = \"{hash}\"");
    Ok(ExitCode::SUCCESS)
}

pub fn paths(ctx: &Ctx, config: Option<&Path>) -> Result<ExitCode> {
    let home = kiosk::home::home();
    let found = |p: &Path| if p.exists() { "" } else { " (missing)" };
    println!("kiosk folder: {} (found {})", home.dir.display(), home.found_by);
    let settings = config.map(Path::to_path_buf).unwrap_or_else(kiosk::config::default_path);
    println!("settings: {}{}", settings.display(), found(&settings));
    let models = ctx.cfg.engine.models_dir();
    println!("models: {}{}", models.display(), found(&models));
    for lib in kiosk::vision::runtime::library_candidates(&ctx.cfg.engine.onnxruntime) {
        println!("ONNX Runtime: {}{}", lib.display(), found(&lib));
    }
    Ok(ExitCode::SUCCESS)
}
