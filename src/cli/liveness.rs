//! `kiosk liveness` and `kiosk eval-liveness`: real faces or pictures of faces.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde_json::json;

use kiosk::BBox;
use kiosk::measure::liveness::{default_pad_dir, evaluate};
use kiosk::vision::decode::load_image;
use kiosk::vision::engine::Engine;
use kiosk::vision::liveness::Liveness;

use super::{Ctx, each_image};

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
    let judge = |path: &std::path::Path| {
        let img = load_image(path)?;
        engine.face_locations(&img)?.into_iter().map(|f| Ok((f.bbox, liveness.score(&img, &f.bbox)?))).collect()
    };
    let show = |path: &std::path::Path, result: kiosk::Result<Vec<(BBox, f32)>>| match (result, args.json) {
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
                println!("  box ({:.0},{:.0})-({:.0},{:.0}) liveness {s:.3}: {verdict}", b.x0, b.y0, b.x1, b.y1);
            }
        }
        (Err(e), false) => println!("{e}"),
    };
    each_image(&args.paths, "judging", judge, show)
}

pub fn eval_liveness(ctx: &Ctx, args: EvalLivenessArgs) -> Result<ExitCode> {
    let (engine, liveness) = load(ctx)?;
    let dir = args.dir.unwrap_or_else(default_pad_dir);
    println!("{}", evaluate(&engine, &liveness, &dir, &ctx.cfg.liveness, ctx.cfg.kiosk.frames_to_agree)?);
    Ok(ExitCode::SUCCESS)
}
