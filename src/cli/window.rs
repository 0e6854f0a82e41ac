//! `kiosk run` (the window), `kiosk cameras`, `kiosk admin-pin`, `kiosk paths`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use kiosk::base::pin::hash_pin;
use kiosk::present::RunOptions;

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
    /// A window instead of the full screen.
    #[arg(long)]
    windowed: bool,
}

pub fn run(ctx: &Ctx, args: RunArgs) -> Result<ExitCode> {
    // With a ledger the local copy is made when missing; alone, the file must exist.
    let db = if ctx.ledger.is_some() { ctx.db_path(&args.at.db) } else { ctx.existing_db(&args.at.db)? };
    let opts = RunOptions {
        db,
        ledger: ctx.ledger.clone(),
        session: ctx.session(&args.at.session),
        frames: args.frames,
        once: args.once,
        fullscreen: !args.windowed,
    };
    let summary = kiosk::present::run(&ctx.cfg.station(), opts)?;
    println!("{}", summary.report());
    Ok(ExitCode::SUCCESS)
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
