//! `kiosk embed`, `kiosk identify`, `kiosk checkin`: faces in photo files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use serde_json::json;

use kiosk::matching::recognize::Recognizer;
use kiosk::matching::recognize::matched;
use kiosk::store::{CheckIn, Delegate, Evidence, Method, Store};
use kiosk::vision::decode::{image_files, load_image};
use kiosk::vision::engine::Engine;

use super::{Ctx, Db, DbSession, each_image};

#[derive(Args)]
pub struct EmbedArgs {
    /// One JSON object per image and line.
    #[arg(long)]
    json: bool,
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Args)]
pub struct IdentifyArgs {
    #[command(flatten)]
    db: Db,
    #[arg(long)]
    json: bool,
    /// Image files, or folders walked recursively.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Args)]
pub struct CheckinArgs {
    #[command(flatten)]
    at: DbSession,
    #[arg(long, value_name = "IMAGE", required_unless_present = "code", conflicts_with = "code")]
    image: Option<PathBuf>,
    /// Check this delegate in by hand (staff), instead of by a photo; needs --reason.
    #[arg(long, value_name = "CODE", requires = "reason")]
    code: Option<String>,
    /// Why, for the audit log.
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
}

pub fn embed(ctx: &Ctx, args: EmbedArgs) -> Result<ExitCode> {
    let engine = Engine::load(&ctx.cfg.engine.for_batch())?;
    Ok(each_image(
        &args.paths,
        "embedding",
        |path| load_image(path).and_then(|img| engine.analyze(&img)),
        |path, result| print_embedding(path, result, args.json),
    ))
}

fn print_embedding(path: &Path, result: kiosk::Result<Vec<kiosk::Face>>, as_json: bool) {
    match (result, as_json) {
        (Ok(faces), true) => {
            let faces: Vec<_> = faces
                .iter()
                .map(|f| {
                    json!({"box": [f.bbox.x0, f.bbox.y0, f.bbox.x1, f.bbox.y1], "score": f.score,
                           "landmarks": f.landmarks, "quality": f.quality, "embedding": f.embedding})
                })
                .collect();
            println!("{}", json!({"path": path, "faces": faces, "error": null}));
        }
        (Err(e), true) => println!("{}", json!({"path": path, "faces": [], "error": e.to_string()})),
        (Ok(faces), false) => {
            println!("{}: {} face(s)", path.display(), faces.len());
            for f in faces {
                let b = f.bbox;
                println!("  box ({:.0},{:.0})-({:.0},{:.0}) score {:.3}", b.x0, b.y0, b.x1, b.y1, f.score);
            }
        }
        (Err(e), false) => println!("{e}"),
    }
}

/// The enrolled delegates of `store` and a recogniser over their faces.
fn recognizer(ctx: &Ctx, store: &Store) -> Result<(Vec<Delegate>, Recognizer)> {
    Ok(store.recognizer(&ctx.cfg.engine, &ctx.cfg.decide, &ctx.cfg.quality)?)
}

pub fn identify(ctx: &Ctx, args: IdentifyArgs) -> Result<ExitCode> {
    let store = ctx.open(&args.db)?;
    let (people, recognizer) = recognizer(ctx, &store)?;
    let files = image_files(&args.paths);
    if files.is_empty() {
        bail!(
            "no image files in {}",
            args.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    let mut failures = 0usize;
    for path in &files {
        match load_image(path).and_then(|img| recognizer.identify(&img)) {
            Ok(id) => {
                let who = matched(&id.decision).and_then(|(p, score)| Some((people.get(p)?, score)));
                let reason = id.decision.reason();
                if args.json {
                    let m = who.map(|(d, score)| {
                        json!({"code": d.code, "name": d.name, "delegation": d.delegation, "seat": d.seat, "score": score})
                    });
                    println!(
                        "{}",
                        json!({"path": path, "match": m, "reason": reason, "decision": id.decision, "error": null})
                    );
                } else if let Some((d, score)) = who {
                    println!("{}: {} ({}) score {score:.3}", path.display(), d.name, d.code);
                } else {
                    println!("{}: no match ({reason}: {})", path.display(), id.decision.describe());
                }
            }
            Err(e) => {
                failures += 1;
                if args.json {
                    println!("{}", json!({"path": path, "match": null, "reason": "error", "error": e.to_string()}));
                } else {
                    println!("{e}");
                }
            }
        }
    }
    Ok(if failures > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

pub fn checkin(ctx: &Ctx, args: CheckinArgs) -> Result<ExitCode> {
    let session = ctx.session(&args.at.session);
    let mut store = ctx.open(&args.at.db)?;
    let kiosk_id = &ctx.cfg.event.kiosk_id;
    let (delegate, outcome) = match (&args.image, &args.code) {
        (Some(image), _) => {
            let (people, recognizer) = recognizer(ctx, &store)?;
            let id = recognizer.identify(&load_image(image)?)?;
            let Some((delegate, score)) = matched(&id.decision).and_then(|(p, s)| Some((people.get(p)?.clone(), s)))
            else {
                println!(
                    "Not checked in: {} ({}) — please use the name or code search, or the help desk. / Chưa điểm danh: vui lòng tìm theo tên hoặc mã đại biểu, hoặc đến bàn hỗ trợ.",
                    id.decision.reason(),
                    id.decision.describe()
                );
                return Ok(ExitCode::from(2));
            };
            let evidence = Evidence { score, frames: 1 };
            let outcome = store.check_in(&session, &delegate.code, Method::Face, kiosk_id, Some(evidence))?;
            (delegate, outcome)
        }
        (None, Some(code)) => {
            let Some(delegate) = store.delegate(code)? else {
                bail!("no delegate with code {code} in {}", store.path().display());
            };
            let reason = args.reason.as_deref().unwrap_or_default();
            let outcome = store.manual_check_in(&session, code, kiosk_id, reason)?;
            (delegate, outcome)
        }
        (None, None) => bail!("give --image or --code"),
    };
    let d = &delegate;
    match outcome {
        CheckIn::Recorded { at } => println!(
            "Checked in{}: {} ({}), {}, seat {} — session \"{session}\" at {}",
            if args.code.is_some() { " by hand" } else { "" },
            d.name,
            d.code,
            d.delegation,
            d.seat,
            ctx.zone.clock(&at)
        ),
        CheckIn::AlreadyCheckedIn { at } => {
            println!("Already checked in: {} ({}) — session \"{session}\" at {}", d.name, d.code, ctx.zone.clock(&at))
        }
    }
    Ok(ExitCode::SUCCESS)
}
