//! `kiosk enroll`, `kiosk remove`, `kiosk lookalikes`: the roster and its faces.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use kiosk::matching::calibrate::Calibration;
use kiosk::secretariat::enroll::{Audit, Outcome, Report, audit_gallery, calibrate_gallery, enroll as enrol_roster};
use kiosk::secretariat::export::{cell, csv_for_excel};
use kiosk::secretariat::roster::read_roster;
use kiosk::store::{Lookalike, Removal, Store};
use kiosk::vision::embed::EmbedderKind;
use kiosk::vision::engine::Engine;

use super::{Ctx, Db, progress_bar};

#[derive(Args)]
pub struct EnrollArgs {
    #[command(flatten)]
    db: Db,
    #[arg(long, value_name = "ROSTER.csv")]
    roster: PathBuf,
    /// Folder the roster's photo paths are relative to.
    #[arg(long, value_name = "DIR")]
    photos: PathBuf,
    /// Also write the per-photo report to this CSV file.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

#[derive(Args)]
pub struct RemoveArgs {
    #[command(flatten)]
    db: Db,
    /// Why, for the audit log.
    #[arg(long, value_name = "TEXT")]
    reason: String,
    #[arg(required = true, value_name = "CODE")]
    codes: Vec<String>,
}

/// How many lookalike pairs `enroll` prints; `kiosk lookalikes` lists them all.
const LOOKALIKES_SHOWN: usize = 20;

pub fn enroll(ctx: &Ctx, args: EnrollArgs) -> Result<ExitCode> {
    if !args.photos.is_dir() {
        bail!("photo folder {} does not exist", args.photos.display());
    }
    let roster = read_roster(&args.roster)?;
    for p in &roster.problems {
        eprintln!("{}:{}: {}", args.roster.display(), p.line, p.message);
    }
    for w in &roster.warnings {
        eprintln!("{}:{}: warning: {}", args.roster.display(), w.line, w.message);
    }
    let mut store = ctx.open_or_create(&args.db)?;
    let engine = Engine::load(&ctx.cfg.engine.for_batch())?;
    let bar = progress_bar(roster.entries.iter().map(|e| e.photos_to_enrol().len()).sum(), "enrolling");
    let reports = enrol_roster(&engine, &mut store, &roster, &args.photos, &ctx.cfg.quality, || bar.inc(1))?;
    bar.finish_and_clear();
    let mut enrolled: BTreeSet<&str> = BTreeSet::new();
    for r in &reports {
        if r.outcome == Outcome::Enrolled {
            enrolled.insert(&r.code);
        }
        let mut line =
            format!("line {:>5}  {:<12} {:<32} {:<24} {}", r.line, r.code, r.name, r.photo, r.outcome.describe());
        if let Some(other) = &r.same_photo_as {
            line.push_str(&format!(" — WARNING: the same photo as {other}"));
        }
        println!("{line}");
    }
    let kind = engine.embedder();
    let Audit { lookalikes, calibration } = audit_gallery(&mut store, kind, &ctx.cfg.decide)?;
    print_lookalikes(&store, &lookalikes, Some(LOOKALIKES_SHOWN))?;
    print_calibration(ctx, kind, calibration);
    if let Some(path) = &args.report {
        write_report(path, &reports, &lookalikes)?;
    }
    println!(
        "{} of {} delegates enrolled with {} into {}; {} need attention{}; {} lookalike pair(s).",
        enrolled.len(),
        roster.entries.len(),
        kind.model_id(),
        ctx.ledger.as_deref().map_or_else(|| store.path().display().to_string(), |_| "the ledger".into()),
        roster.entries.len() - enrolled.len(),
        if roster.problems.is_empty() {
            String::new()
        } else {
            format!(", {} roster rows skipped", roster.problems.len())
        },
        lookalikes.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// The enrolment report as CSV, for Excel; each delegate's lookalikes with the similarity.
fn write_report(path: &Path, reports: &[Report], lookalikes: &[Lookalike]) -> Result<()> {
    let mut others: HashMap<&str, Vec<String>> = HashMap::new();
    for p in lookalikes {
        others.entry(&p.a).or_default().push(format!("{} ({:.2})", p.b, p.score));
        others.entry(&p.b).or_default().push(format!("{} ({:.2})", p.a, p.score));
    }
    let mut w = csv_for_excel(path)?;
    w.write_record(["line", "code", "name", "photo", "enrolled", "detail", "same_photo_as", "lookalikes"])?;
    for r in reports {
        let enrolled = if r.outcome == Outcome::Enrolled { "yes" } else { "no" };
        let same = r.same_photo_as.clone().unwrap_or_default();
        let like = others.get(r.code.as_str()).map(|o| o.join("; ")).unwrap_or_default();
        let row = [
            r.line.to_string(),
            r.code.clone(),
            r.name.clone(),
            r.photo.clone(),
            enrolled.into(),
            r.outcome.describe(),
            same,
            like,
        ];
        w.write_record(row.iter().map(|c| cell(c)))?;
    }
    w.flush().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

pub fn remove(ctx: &Ctx, args: RemoveArgs) -> Result<ExitCode> {
    let mut store = ctx.open(&args.db)?;
    let removals = store.transaction(|tx| {
        args.codes.iter().map(|code| tx.remove_delegate(code, &args.reason)).collect::<kiosk::Result<Vec<_>>>()
    })?;
    let mut missing = 0;
    for (code, removal) in args.codes.iter().zip(removals) {
        match removal {
            Removal::Deleted => println!("{code}: removed, with their face templates"),
            Removal::KeptForAttendance { sessions } => println!(
                "{code}: removed from the roster and their face templates deleted; kept on the attendance lists of the {sessions} session(s) they attended"
            ),
            Removal::NotOnRoster => {
                missing += 1;
                println!("{code}: not on the roster (check the code with `kiosk export` or the roster)")
            }
        }
    }
    Ok(if missing > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

pub fn calibrate(ctx: &Ctx, db: &Db) -> Result<ExitCode> {
    let mut store = ctx.open(db)?;
    let kind = ctx.cfg.engine.embedder;
    print_calibration(ctx, kind, calibrate_gallery(&mut store, kind, &ctx.cfg.decide)?);
    Ok(ExitCode::SUCCESS)
}

/// What the threshold of this gallery is, and which one the kiosk will use.
fn print_calibration(ctx: &Ctx, kind: EmbedderKind, found: Option<Calibration>) {
    match found {
        Some(c) => println!(
            "threshold for this gallery: {:.3} (shipped {:.3}): {} delegates, {} pairs between them, expected strangers accepted {:.2}%",
            c.threshold,
            kind.default_threshold(),
            c.people,
            c.pairs,
            c.expected_fpir * 100.0
        ),
        None => println!(
            "too few delegates to calibrate the thresholds on: the shipped {:.3} (1:1 with a badge: {:.3}) are used",
            kind.default_threshold(),
            kind.default_one_to_one()
        ),
    }
    if let Some(one) = found.and_then(|c| c.one_to_one) {
        println!(
            "1:1 threshold (a face against the delegate its badge names): {one:.3} (shipped {:.3}), at most 1 in 10,000 strangers accepted",
            kind.default_one_to_one()
        );
    }
    if let Some(set) = ctx.cfg.decide.threshold {
        println!("decide.threshold = {set:.3} in the settings wins over it");
    }
    if let Some(set) = ctx.cfg.decide.one_to_one {
        println!("decide.one_to_one = {set:.3} in the settings wins over the 1:1 one");
    }
}

pub fn lookalikes(ctx: &Ctx, db: &Db) -> Result<ExitCode> {
    let store = ctx.open(db)?;
    let model = ctx.cfg.engine.embedder.model_id();
    let pairs = store.lookalikes(model)?;
    print_lookalikes(&store, &pairs, None)?;
    println!("{} lookalike pair(s) among the delegates enrolled with {model}", pairs.len());
    Ok(ExitCode::SUCCESS)
}

fn print_lookalikes(store: &Store, pairs: &[Lookalike], limit: Option<usize>) -> Result<()> {
    let names: HashMap<String, String> = store.delegates()?.into_iter().map(|d| (d.code, d.name)).collect();
    let name = |code: &str| names.get(code).map_or("", String::as_str).to_string();
    for p in pairs.iter().take(limit.unwrap_or(usize::MAX)) {
        println!(
            "lookalike: {} {} ~ {} {} ({:.2}): check both; the kiosk asks them for their delegate code",
            p.a,
            name(&p.a),
            p.b,
            name(&p.b),
            p.score
        );
    }
    if let Some(more) = limit.and_then(|l| pairs.len().checked_sub(l)).filter(|&m| m > 0) {
        println!("… and {more} more lookalike pairs: `kiosk lookalikes` lists them all.");
    }
    Ok(())
}
