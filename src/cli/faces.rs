//! `kiosk embed`, `kiosk identify`, `kiosk checkin`: faces in photo files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::json;

use kiosk::checkin::badge::{BadgeDecision, BadgeSeen, decide, judge};
use kiosk::checkin::staff::{self, Checked, How};
use kiosk::matching::recognize::Recognizer;
use kiosk::matching::recognize::matched;
use kiosk::store::{CheckIn, Delegate, Evidence, Store};
use kiosk::vision::decode::load_image;
use kiosk::vision::engine::Engine;
use kiosk::vision::qr;

use super::{Ctx, Db, DbSession, each_image, images_in};

#[derive(Args)]
pub struct EmbedArgs {
    /// One JSON object per image and line.
    #[arg(long)]
    json: bool,
    /// Also save each face as the embedder sees it (aligned, PNG) into DIR:
    /// to look at, or to calibrate a quantised model on.
    #[arg(long, value_name = "DIR")]
    crops: Option<PathBuf>,
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
    if let Some(dir) = &args.crops {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot make the folder {}", dir.display()))?;
    }
    // Photos are numbered in the order listed: names alone may repeat across folders.
    let number: std::collections::HashMap<PathBuf, usize> = match args.crops {
        Some(_) => images_in(&args.paths)?.into_iter().enumerate().map(|(i, p)| (p, i)).collect(),
        None => Default::default(),
    };
    each_image(
        &args.paths,
        "embedding",
        |path| {
            let img = load_image(path)?;
            let faces = engine.analyze(&img)?;
            if let Some(dir) = &args.crops {
                for (i, face) in faces.iter().enumerate() {
                    let out = dir.join(format!("{:06}-{i}.png", number.get(path).copied().unwrap_or_default()));
                    engine
                        .crop(&img, face)
                        .save(&out)
                        .map_err(|e| kiosk::Error::output(out.display().to_string(), e))?;
                }
            }
            Ok(faces)
        },
        |path, result| print_embedding(path, result, args.json),
    )
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
    let (people, recognizer) = store.recognizer(&ctx.cfg.engine, &ctx.cfg.decide, &ctx.cfg.quality)?;
    if people.is_empty() {
        bail!("no delegate is enrolled in {} yet: run `kiosk enroll` first.", store.path().display());
    }
    Ok((people, recognizer))
}

pub fn identify(ctx: &Ctx, args: IdentifyArgs) -> Result<ExitCode> {
    let store = ctx.open(&args.db)?;
    let (people, recognizer) = recognizer(ctx, &store)?;
    let files = images_in(&args.paths)?;
    let mut failures = 0usize;
    for path in &files {
        match identify_one(ctx, &store, &people, &recognizer, path) {
            Ok(Seen { who, reason, describe, decision, badge }) => {
                if args.json {
                    let m = who.as_ref().map(|(d, score)| {
                        json!({"code": d.code, "name": d.name, "delegation": d.delegation, "seat": d.seat, "score": score})
                    });
                    println!(
                        "{}",
                        json!({"path": path, "match": m, "reason": reason, "decision": decision, "badge": badge, "error": null})
                    );
                } else if let Some((d, score)) = who {
                    let score = score.map(|s| format!(" score {s:.3}")).unwrap_or_default();
                    let by = if reason == "match" && badge.is_some_and(|b| b.valid) { " by badge" } else { "" };
                    println!("{}: {} ({}){score}{by}", path.display(), d.name, d.code);
                } else {
                    println!("{}: no match ({reason}: {describe})", path.display());
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

/// What `identify` says of one image.
struct Seen {
    who: Option<(Delegate, Option<f32>)>,
    reason: &'static str,
    describe: &'static str,
    decision: serde_json::Value,
    badge: Option<BadgeSeen>,
}

/// The face alone decides, unless a valid badge is in the picture: then the
/// face is checked 1:1 against its delegate, as the kiosk does (`badge::decide`).
fn identify_one(
    ctx: &Ctx,
    store: &Store,
    people: &[Delegate],
    recognizer: &Recognizer,
    path: &Path,
) -> kiosk::Result<Seen> {
    let img = load_image(path)?;
    let badge = qr::read(&img).map(|text| judge(store, &text)).transpose()?;
    let holder = badge.as_ref().filter(|b| b.valid).and_then(|b| b.code.clone());
    let person = holder.as_ref().and_then(|code| people.iter().position(|d| &d.code == code));
    let (id, score) = recognizer.identify_against(&img, person)?;
    // A badge holder with templates but no judgeable face here: the face decides (no face).
    let by_badge = holder
        .filter(|_| person.is_none() || score.is_some())
        .map(|code| decide(&code, score, &recognizer.policy, ctx.cfg.badges.without_face));
    let Some(by_badge) = by_badge else {
        let who = matched(&id.decision).and_then(|(p, score)| Some((people.get(p)?.clone(), Some(score))));
        let decision = serde_json::to_value(&id.decision).unwrap_or_default();
        return Ok(Seen { who, reason: id.decision.reason(), describe: id.decision.describe(), decision, badge });
    };
    let decision = serde_json::to_value(&by_badge).unwrap_or_default();
    let (who, reason, describe) = match &by_badge {
        BadgeDecision::Match { code, score, .. } => {
            (store.delegate(code)?.map(|d| (d, Some(*score))), "match", "recognised with the badge")
        }
        BadgeDecision::NoFaceEnrolled { code, method: Some(_) } => {
            (store.delegate(code)?.map(|d| (d, None)), "match", "the badge alone (no face enrolled)")
        }
        BadgeDecision::NoFaceEnrolled { method: None, .. } => {
            (None, "no_face_enrolled", "a badge whose delegate has no face enrolled: the help desk")
        }
        BadgeDecision::BadgeFaceMismatch { .. } => (None, "badge_face_mismatch", "the face is not the badge holder's"),
    };
    Ok(Seen { who, reason, describe, decision, badge })
}

pub fn checkin(ctx: &Ctx, args: CheckinArgs) -> Result<ExitCode> {
    let session = ctx.session(&args.at.session);
    let mut store = ctx.open(&args.at.db)?;
    let kiosk_id = &ctx.cfg.event.kiosk_id;
    let checked = match (&args.image, &args.code) {
        (Some(image), _) => {
            let (people, recognizer) = recognizer(ctx, &store)?;
            let id = recognizer.identify(&load_image(image)?)?;
            let Some((code, score)) = matched(&id.decision).and_then(|(p, s)| Some((people.get(p)?.code.clone(), s)))
            else {
                println!(
                    "Not checked in: {} ({}) — please use the name or code search, or the help desk. / Chưa điểm danh: vui lòng tìm theo tên hoặc mã đại biểu, hoặc đến bàn hỗ trợ.",
                    id.decision.reason(),
                    id.decision.describe()
                );
                return Ok(ExitCode::from(2));
            };
            let how = How::Face { evidence: Evidence { score, frames: 1 }, snapshot: None };
            staff::check_in(&mut store, &session, &code, how, kiosk_id)?
        }
        (None, Some(code)) => {
            if store.delegate(code)?.is_none() {
                bail!("no delegate with code {code} in {}", store.path().display());
            }
            let how = How::Staff { reason: args.reason.as_deref().unwrap_or_default() };
            staff::check_in(&mut store, &session, code, how, kiosk_id)?
        }
        (None, None) => bail!("give --image or --code"),
    };
    let Checked { delegate, outcome } = checked;
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
