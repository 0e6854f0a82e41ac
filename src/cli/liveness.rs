//! `kiosk liveness` and `kiosk eval-liveness`: real faces or pictures of faces.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use rayon::prelude::*;
use serde_json::json;

use kiosk::measure::liveness::{default_pad_dir, evaluate};
use kiosk::vision::decode::{image_files, load_image};
use kiosk::vision::engine::Engine;
use kiosk::vision::liveness::Liveness;

use super::{Ctx, progress_bar};

#[derive(Args)]
pub struct LivenessArgs {
    /// One JSON object per image and line.
    #[arg(long)]
    json: bool,
    /// Image files, or folders walked recursively.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Args)]
pub struct EvalLivenessArgs {
    /// A folder laid out like ../shared/pad/dev (live/, spoof/, manifest.csv); default that one.
    #[arg(value_name = "DIR")]
    dir: Option<PathBuf>,
}

fn load(ctx: &Ctx) -> Result<(Engine, Liveness)> {
    let cfg = ctx.cfg.engine.for_batch();
    Ok((Engine::load(&cfg)?, Liveness::load(&cfg)?))
}

pub fn liveness(ctx: &Ctx, args: LivenessArgs) -> Result<ExitCode> {
    let (engine, liveness) = load(ctx)?;
    let threshold = ctx.cfg.liveness.threshold;
    let files = image_files(&args.paths);
    let bar = progress_bar(files.len(), "judging");
    let mut failures = 0usize;
    for chunk in files.chunks(64) {
        let results: Vec<_> = chunk
            .par_iter()
            .map(|path| {
                let judged = load_image(path).and_then(|img| {
                    engine
                        .face_locations(&img)?
                        .into_iter()
                        .map(|f| Ok((f.bbox, liveness.score(&img, &f.bbox)?)))
                        .collect::<kiosk::Result<Vec<_>>>()
                });
                bar.inc(1);
                judged
            })
            .collect();
        for (path, result) in chunk.iter().zip(results) {
            failures += result.is_err() as usize;
            bar.suspend(|| match (result, args.json) {
                (Ok(faces), true) => {
                    let faces: Vec<_> = faces
                        .iter()
                        .map(|(b, s)| json!({"box": [b.x0, b.y0, b.x1, b.y1], "live": *s >= threshold, "score": s}))
                        .collect();
                    println!("{}", json!({"path": path, "faces": faces, "error": null}));
                }
                (Err(e), true) => println!("{}", json!({"path": path, "faces": [], "error": e.to_string()})),
                (Ok(faces), false) => {
                    println!("{}: {} face(s)", path.display(), faces.len());
                    for (b, s) in faces {
                        let verdict = if s >= threshold { "real" } else { "NOT REAL (a photo or a screen?)" };
                        println!(
                            "  box ({:.0},{:.0})-({:.0},{:.0}) liveness {s:.3}: {verdict}",
                            b.x0, b.y0, b.x1, b.y1
                        );
                    }
                }
                (Err(e), false) => println!("{e}"),
            });
        }
    }
    bar.finish_and_clear();
    if failures > 0 {
        eprintln!("{failures} of {} images could not be read", files.len());
    }
    Ok(if failures == files.len() && !files.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

pub fn eval_liveness(ctx: &Ctx, args: EvalLivenessArgs) -> Result<ExitCode> {
    let (engine, liveness) = load(ctx)?;
    let dir = args.dir.unwrap_or_else(default_pad_dir);
    println!("{}", evaluate(&engine, &liveness, &dir, ctx.cfg.liveness.threshold)?);
    Ok(ExitCode::SUCCESS)
}
