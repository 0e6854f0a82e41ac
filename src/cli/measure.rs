//! `kiosk eval` and `kiosk bench`: how well, how fast.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use kiosk::measure::{bench, eval};

use super::Ctx;

#[derive(Args)]
pub struct EvalArgs {
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Also write every score to this CSV file.
    #[arg(long, value_name = "FILE")]
    scores: Option<PathBuf>,
}

#[derive(Args)]
pub struct BenchArgs {
    /// Real face photos to measure with (default: ../shared/faces/dev).
    #[arg(long, value_name = "DIR")]
    faces: Option<PathBuf>,
    /// Largest synthetic gallery for the 1:N search figures.
    #[arg(long, default_value_t = 1_000_000)]
    max_gallery: usize,
    /// Also time the secretariat's work (stats, exports, lookalike audit) for this many delegates.
    #[arg(long, value_name = "N")]
    roster: Option<usize>,
}

pub fn eval(ctx: &Ctx, args: EvalArgs) -> Result<ExitCode> {
    let cfg = &ctx.cfg;
    let report = eval::evaluate(&cfg.engine, &cfg.quality, &cfg.decide, &args.dir, args.scores.as_deref())?;
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}

pub fn bench(ctx: &Ctx, args: BenchArgs) -> Result<ExitCode> {
    let faces = args.faces.unwrap_or_else(|| eval::default_faces_dir().join("dev"));
    let mut report = bench::run(&ctx.cfg.engine, &ctx.cfg.quality, &faces, args.max_gallery)?;
    if let Some(n) = args.roster {
        report.rows.extend(bench::secretariat(n, ctx.cfg.engine.embedder.dim())?);
    }
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}
