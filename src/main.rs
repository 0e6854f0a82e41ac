//! `kiosk`: the command line over the library. Thin on purpose: parsing,
//! printing and exit codes; everything else lives in the library.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde_json::json;

use kiosk::config::Config;
use kiosk::decode::{image_files, load_image};
use kiosk::embed::EmbedderKind;
use kiosk::engine::Engine;
use kiosk::recognize::Recognizer;
use kiosk::record::{CheckIn, Lookalike, Method, Removal, Store, clock};

#[derive(Parser)]
#[command(name = "kiosk", version, about = "Face-recognition check-in kiosk for congresses")]
struct Cli {
    /// Settings file (default: kiosk-config/default.toml of this project).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Face embedder, overriding the settings file.
    #[arg(long, global = true, value_enum)]
    embedder: Option<EmbedderKind>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Enrol the delegates of a roster (CSV or XLSX: code,name,delegation,seat,photo) with their photos.
    Enroll {
        #[arg(long, value_name = "DB")]
        db: Option<PathBuf>,
        #[arg(long, value_name = "ROSTER.csv")]
        roster: PathBuf,
        /// Folder the roster's photo paths are relative to.
        #[arg(long, value_name = "DIR")]
        photos: PathBuf,
        /// Also write the per-photo report to this CSV file.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
    },
    /// Take delegates off the roster (their face templates go; attendance already recorded stays).
    Remove {
        #[arg(long, value_name = "DB")]
        db: Option<PathBuf>,
        /// Why, for the audit log.
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[arg(required = true, value_name = "CODE")]
        codes: Vec<String>,
    },
    /// List the pairs of enrolled delegates the kiosk could confuse (found at enrolment).
    Lookalikes {
        #[arg(long, value_name = "DB")]
        db: Option<PathBuf>,
    },
    /// Detect and embed every face of images or folders (recursively).
    Embed {
        /// One JSON object per image and line.
        #[arg(long)]
        json: bool,
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Say who is in each image, at the shipped threshold.
    Identify {
        #[arg(long, value_name = "DB")]
        db: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<PathBuf>,
    },
    /// Record attendance: the person in an image, or a delegate by code (staff, with a reason).
    Checkin {
        #[arg(long, value_name = "DB")]
        db: Option<PathBuf>,
        #[arg(long, value_name = "IMAGE", required_unless_present = "code", conflicts_with = "code")]
        image: Option<PathBuf>,
        /// Check this delegate in by hand (staff), instead of by a photo; needs --reason.
        #[arg(long, value_name = "CODE", requires = "reason")]
        code: Option<String>,
        /// Why, for the audit log.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// Congress session (default: event.session of the settings).
        #[arg(long, value_name = "NAME")]
        session: Option<String>,
    },
    /// Remove a check-in (wrong person, entered by mistake), with the reason in the audit log.
    Undo {
        #[arg(long, value_name = "DB")]
        db: Option<PathBuf>,
        #[arg(long, value_name = "CODE")]
        code: String,
        #[arg(long, value_name = "TEXT")]
        reason: String,
        #[arg(long, value_name = "NAME")]
        session: Option<String>,
    },
    /// Congress sessions: add one (or set its times), list them.
    Session {
        #[command(subcommand)]
        action: SessionAction,
    },
    /// Attendance of a session: present / total, quorum percentage, by delegation.
    Stats {
        #[arg(long, value_name = "DB")]
        db: Option<PathBuf>,
        #[arg(long, value_name = "NAME")]
        session: Option<String>,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Write the attendance list of a session (one row per delegate, sorted by given name).
    Export {
        #[arg(long, value_name = "DB")]
        db: Option<PathBuf>,
        #[arg(long, value_name = "NAME")]
        session: Option<String>,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Write the face snapshots of a session's check-ins (kiosk.save_snapshots) as CODE.jpg files.
    Snapshots {
        #[arg(long, value_name = "DB")]
        db: Option<PathBuf>,
        #[arg(long, value_name = "NAME")]
        session: Option<String>,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Delete biometric data for good.
    Purge {
        #[arg(long, value_name = "DB")]
        db: Option<PathBuf>,
        /// Every face template and enrolled photo; the file is compacted and checked.
        #[arg(long, required = true)]
        biometrics: bool,
    },
    /// Measure accuracy on a labelled folder laid out like ../shared/faces/dev.
    Eval {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Also write every score to this CSV file.
        #[arg(long, value_name = "FILE")]
        scores: Option<PathBuf>,
    },
    /// Run the kiosk window: camera (or a folder of frames), recognition, check-in.
    Run {
        #[arg(long, value_name = "DB")]
        db: Option<PathBuf>,
        /// Congress session (default: event.session of the settings).
        #[arg(long, value_name = "NAME")]
        session: Option<String>,
        /// Play the images of DIR in name order as camera frames (kiosk.frames_fps per second).
        #[arg(long, value_name = "DIR")]
        frames: Option<PathBuf>,
        /// With --frames: exit after the last frame has been processed.
        #[arg(long, requires = "frames")]
        once: bool,
        /// A window instead of the full screen.
        #[arg(long)]
        windowed: bool,
    },
    /// List the cameras attached.
    Cameras,
    /// Read an admin PIN (4+ digits) from standard input and print the line for the settings file.
    AdminPin,
    /// Measure speed and memory, per stage and end to end.
    Bench {
        /// Real face photos to measure with (default: ../shared/faces/dev).
        #[arg(long, value_name = "DIR")]
        faces: Option<PathBuf>,
        /// Largest synthetic gallery for the 1:N search figures.
        #[arg(long, default_value_t = 1_000_000)]
        max_gallery: usize,
        /// Also time the secretariat's work (stats, exports, lookalike audit) for this many delegates.
        #[arg(long, value_name = "N")]
        roster: Option<usize>,
    },
}

#[derive(Subcommand)]
enum SessionAction {
    /// Add a session, or set the opening and closing times of an existing one.
    Add {
        name: String,
        #[arg(long, value_name = "DB")]
        db: Option<PathBuf>,
        /// When it opens, e.g. "2026-11-28 08:00".
        #[arg(long, value_name = "TIME")]
        opens: Option<String>,
        #[arg(long, value_name = "TIME")]
        closes: Option<String>,
    },
    /// List the sessions with their attendance.
    List {
        #[arg(long, value_name = "DB")]
        db: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditAction {
    /// Check that no entry of the audit log was edited or removed.
    Verify {
        #[arg(long, value_name = "DB")]
        db: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    Csv,
    Xlsx,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("KIOSK_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let mut cfg = Config::load(cli.config.as_deref())?;
    if let Some(kind) = cli.embedder {
        cfg.engine.embedder = kind;
    }
    match cli.command {
        Command::Enroll { db, roster, photos, report } => enroll(&cfg, &db_path(&cfg, db), &roster, &photos, report),
        Command::Remove { db, reason, codes } => {
            let mut store = open_existing(&db_path(&cfg, db))?;
            let removals = store.transaction(|tx| {
                codes.iter().map(|code| tx.remove_delegate(code, &reason)).collect::<kiosk::Result<Vec<_>>>()
            })?;
            let mut missing = 0;
            for (code, removal) in codes.iter().zip(removals) {
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
        Command::Lookalikes { db } => {
            let store = open_existing(&db_path(&cfg, db))?;
            let pairs = store.lookalikes(cfg.engine.embedder.model_id())?;
            print_lookalikes(&store, &pairs, None)?;
            println!(
                "{} lookalike pair(s) among the delegates enrolled with {}",
                pairs.len(),
                cfg.engine.embedder.model_id()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Embed { json, paths } => embed(&cfg, &paths, json),
        Command::Identify { db, json, images } => identify(&cfg, &db_path(&cfg, db), &images, json),
        Command::Checkin { db, image, code, reason, session } => {
            let session = session.unwrap_or_else(|| cfg.event.session.clone());
            match (image, code) {
                (Some(image), _) => checkin(&cfg, &db_path(&cfg, db), &image, &session),
                (None, Some(code)) => {
                    let mut store = open_existing(&db_path(&cfg, db))?;
                    let Some(d) = store.delegate(&code)? else {
                        bail!("no delegate with code {code} in {}", store.path().display());
                    };
                    let reason = reason.unwrap_or_default();
                    match store.manual_check_in(&session, &code, &cfg.event.kiosk_id, &reason)? {
                        CheckIn::Recorded { at } => println!(
                            "Checked in by hand: {} ({code}) — session \"{session}\" at {}",
                            d.name,
                            clock(&at)
                        ),
                        CheckIn::AlreadyCheckedIn { at } => println!(
                            "Already checked in: {} ({code}) — session \"{session}\" at {}",
                            d.name,
                            clock(&at)
                        ),
                    }
                    Ok(ExitCode::SUCCESS)
                }
                (None, None) => bail!("give --image or --code"),
            }
        }
        Command::Undo { db, code, reason, session } => {
            let session = session.unwrap_or_else(|| cfg.event.session.clone());
            let mut store = open_existing(&db_path(&cfg, db))?;
            if store.undo_check_in(&session, &code, &cfg.event.kiosk_id, &reason)? {
                println!("check-in of {code} in session \"{session}\" removed; the audit log keeps it and why");
                Ok(ExitCode::SUCCESS)
            } else {
                println!("{code} was not checked in to session \"{session}\": nothing to undo");
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Session { action: SessionAction::Add { name, db, opens, closes } } => {
            let mut store = open_existing(&db_path(&cfg, db))?;
            store.transaction(|tx| tx.add_session(&name, opens.as_deref(), closes.as_deref()))?;
            println!("session \"{name}\" saved");
            Ok(ExitCode::SUCCESS)
        }
        Command::Session { action: SessionAction::List { db } } => {
            let store = open_existing(&db_path(&cfg, db))?;
            for s in store.session_summaries()? {
                let when = |t: Option<String>| t.unwrap_or_else(|| "-".into());
                println!("{}\topens {}\tcloses {}\t{} present", s.name, when(s.opens), when(s.closes), s.present);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Stats { db, session } => {
            let store = open_existing(&db_path(&cfg, db))?;
            let session = session.unwrap_or_else(|| cfg.event.session.clone());
            print_stats(&store, &session)
        }
        Command::Audit { action: AuditAction::Verify { db } } => {
            let store = open_existing(&db_path(&cfg, db))?;
            match store.verify_audit()? {
                (n, None) => {
                    println!("audit log intact: {n} entries, each chained to the one before");
                    Ok(ExitCode::SUCCESS)
                }
                (n, Some((id, what))) => {
                    println!("audit log BROKEN: entry {id} (of {n}) {what}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Export { db, session, format, out } => {
            let store = open_existing(&db_path(&cfg, db))?;
            let session = session.unwrap_or_else(|| cfg.event.session.clone());
            if store.session_id(&session)?.is_none() {
                bail!("there is no session \"{session}\" in {} (see `kiosk session list`)", store.path().display());
            }
            let rows = store.attendance_list(&session)?;
            match format {
                ExportFormat::Csv => kiosk::export::write_csv(&out, &rows)?,
                ExportFormat::Xlsx => {
                    kiosk::export::write_xlsx(&out, &session, &rows, &store.counts_by_delegation(&session)?)?
                }
            }
            let present = rows.iter().filter(|r| r.checked_in_at.is_some()).count();
            println!("{} delegates ({present} present) written to {}", rows.len(), out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Snapshots { db, session, out } => {
            let store = open_existing(&db_path(&cfg, db))?;
            let session = session.unwrap_or_else(|| cfg.event.session.clone());
            let snapshots = store.snapshots(&session)?;
            if snapshots.is_empty() {
                println!(
                    "no check-in snapshots in session \"{session}\" (they are kept only with kiosk.save_snapshots = true)"
                );
                return Ok(ExitCode::SUCCESS);
            }
            std::fs::create_dir_all(&out).with_context(|| format!("cannot create folder {}", out.display()))?;
            for (code, jpeg) in &snapshots {
                // Codes come from rosters: keep them from naming a path.
                let name: String =
                    code.chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' }).collect();
                let path = out.join(format!("{name}.jpg"));
                std::fs::write(&path, jpeg).with_context(|| format!("cannot write {}", path.display()))?;
            }
            println!("{} snapshots of session \"{session}\" written to {}", snapshots.len(), out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Purge { db, biometrics: _ } => {
            let mut store = open_existing(&db_path(&cfg, db))?;
            let (templates, snapshots) = store.purge_biometrics()?;
            println!(
                "{templates} face templates and enrolled photos and {snapshots} check-in snapshots deleted; the file was compacted and none of their bytes remain in {}",
                store.path().display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval { dir, scores } => {
            let report = kiosk::eval::evaluate(&cfg, &dir, scores.as_deref())?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { db, session, frames, once, windowed } => {
            let opts = kiosk::present::RunOptions {
                db: db_path(&cfg, db),
                session: session.unwrap_or_else(|| cfg.event.session.clone()),
                frames,
                once,
                fullscreen: !windowed,
            };
            if !opts.db.is_file() {
                bail!(
                    "database {} does not exist: run `kiosk enroll --db {}` first",
                    opts.db.display(),
                    opts.db.display()
                );
            }
            let summary = kiosk::present::run(&cfg, opts)?;
            println!("{}", summary.report());
            Ok(ExitCode::SUCCESS)
        }
        Command::AdminPin => {
            let mut pin = String::new();
            std::io::stdin().read_line(&mut pin).context("reading the PIN from standard input")?;
            let hash = kiosk::present::admin::hash_pin(pin.trim())?;
            println!("# put this line in the [kiosk] section of your settings file:");
            println!("admin_pin_hash = \"{hash}\"");
            Ok(ExitCode::SUCCESS)
        }
        Command::Cameras => {
            let cameras = kiosk::camera::list_cameras()?;
            if cameras.is_empty() {
                println!("no camera found (plug a USB camera in; the kiosk also runs with --frames DIR)");
            }
            for c in cameras {
                println!("{c}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { faces, max_gallery, roster } => {
            let faces = faces.unwrap_or_else(|| kiosk::eval::default_faces_dir().join("dev"));
            let mut report = kiosk::bench::run(&cfg, &faces, max_gallery)?;
            if let Some(n) = roster {
                report.rows.extend(kiosk::bench::secretariat(n, cfg.engine.embedder.dim())?);
            }
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn db_path(cfg: &Config, flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(|| cfg.store.database.clone())
}

fn progress_bar(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// The enrolment report as CSV, for Excel; each delegate's lookalikes with the similarity.
fn write_enrolment_report(path: &Path, reports: &[kiosk::enroll::Report], lookalikes: &[Lookalike]) -> Result<()> {
    let mut others: HashMap<&str, Vec<String>> = HashMap::new();
    for p in lookalikes {
        others.entry(&p.a).or_default().push(format!("{} ({:.2})", p.b, p.score));
        others.entry(&p.b).or_default().push(format!("{} ({:.2})", p.a, p.score));
    }
    let mut w = kiosk::export::csv_for_excel(path)?;
    w.write_record(["line", "code", "name", "photo", "enrolled", "detail", "same_photo_as", "lookalikes"])?;
    for r in reports {
        let enrolled = if r.outcome == kiosk::enroll::Outcome::Enrolled { "yes" } else { "no" };
        let line = r.line.to_string();
        let same = r.same_photo_as.clone().unwrap_or_default();
        let like = others.get(r.code.as_str()).map(|o| o.join("; ")).unwrap_or_default();
        w.write_record([line.as_str(), &r.code, &r.name, &r.photo, enrolled, &r.outcome.describe(), &same, &like])?;
    }
    w.flush().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn enroll(cfg: &Config, db: &Path, roster_path: &Path, photos: &Path, report: Option<PathBuf>) -> Result<ExitCode> {
    if !photos.is_dir() {
        bail!("photo folder {} does not exist", photos.display());
    }
    let roster = kiosk::roster::read_roster(roster_path)?;
    for p in &roster.problems {
        eprintln!("{}:{}: {}", roster_path.display(), p.line, p.message);
    }
    let mut store = Store::open(db)?;
    let engine = Engine::load(&cfg.engine.for_batch())?;
    let bar = progress_bar(roster.entries.iter().map(|e| e.photos_to_enrol().len()).sum(), "enrolling");
    let reports = kiosk::enroll::enroll(&engine, &mut store, &roster, photos, &cfg.quality, || bar.inc(1))?;
    bar.finish_and_clear();
    let mut enrolled: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for r in &reports {
        if r.outcome == kiosk::enroll::Outcome::Enrolled {
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
    let lookalikes =
        kiosk::enroll::audit_lookalikes(&mut store, kind, cfg.decide.lookalike.unwrap_or(kind.default_lookalike()))?;
    print_lookalikes(&store, &lookalikes, Some(LOOKALIKES_SHOWN))?;
    if let Some(path) = report {
        write_enrolment_report(&path, &reports, &lookalikes)?;
    }
    println!(
        "{} of {} delegates enrolled with {} into {}; {} need attention{}; {} lookalike pair(s).",
        enrolled.len(),
        roster.entries.len(),
        engine.embedder().model_id(),
        db.display(),
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

/// How many lookalike pairs `enroll` prints; `kiosk lookalikes` lists them all.
const LOOKALIKES_SHOWN: usize = 20;

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

fn embed(cfg: &Config, paths: &[PathBuf], as_json: bool) -> Result<ExitCode> {
    let engine = Engine::load(&cfg.engine.for_batch())?;
    let files = image_files(paths);
    let bar = progress_bar(files.len(), "embedding");
    let mut failures = 0usize;
    // Chunks keep the output in order while both cores work.
    for chunk in files.chunks(64) {
        let results: Vec<_> = chunk
            .par_iter()
            .map(|path| {
                let out = load_image(path).and_then(|img| engine.analyze(&img));
                bar.inc(1);
                out
            })
            .collect();
        for (path, result) in chunk.iter().zip(results) {
            if result.is_err() {
                failures += 1;
            }
            bar.suspend(|| print_embedding(path, result, as_json));
        }
    }
    bar.finish_and_clear();
    if failures > 0 {
        eprintln!("{failures} of {} images could not be read", files.len());
    }
    Ok(if failures == files.len() && !files.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
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

fn identify(cfg: &Config, db: &Path, images: &[PathBuf], as_json: bool) -> Result<ExitCode> {
    let store = open_existing(db)?;
    let recognizer = Recognizer::load(cfg, &store)?;
    let mut failures = 0usize;
    for path in images {
        match load_image(path).and_then(|img| recognizer.identify(&img)) {
            Ok(id) => {
                let matched = recognizer.matched(&id.decision);
                let reason = id.decision.reason();
                if as_json {
                    let m = matched.map(|(d, score)| {
                        json!({"code": d.code, "name": d.name, "delegation": d.delegation, "seat": d.seat, "score": score})
                    });
                    let line =
                        json!({"path": path, "match": m, "reason": reason, "decision": id.decision, "error": null});
                    println!("{line}");
                } else if let Some((d, score)) = matched {
                    println!("{}: {} ({}) score {score:.3}", path.display(), d.name, d.code);
                } else {
                    println!("{}: no match ({reason})", path.display());
                }
            }
            Err(e) => {
                failures += 1;
                if as_json {
                    println!("{}", json!({"path": path, "match": null, "reason": "error", "error": e.to_string()}));
                } else {
                    println!("{e}");
                }
            }
        }
    }
    Ok(if failures > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn checkin(cfg: &Config, db: &Path, image: &Path, session: &str) -> Result<ExitCode> {
    let mut store = open_existing(db)?;
    let recognizer = Recognizer::load(cfg, &store)?;
    let img = load_image(image)?;
    let id = recognizer.identify(&img)?;
    let Some((delegate, score)) = recognizer.matched(&id.decision) else {
        println!(
            "Not checked in: {} — please use the name or code search, or the help desk. / Chưa điểm danh: vui lòng tìm theo tên hoặc mã đại biểu, hoặc đến bàn hỗ trợ.",
            id.decision.reason()
        );
        return Ok(ExitCode::from(2));
    };
    let outcome = store.check_in(session, &delegate.code, Method::Face, &cfg.event.kiosk_id, Some(score))?;
    match outcome {
        CheckIn::Recorded { at } => println!(
            "Checked in: {} ({}), {}, seat {} — session \"{session}\" at {}",
            delegate.name,
            delegate.code,
            delegate.delegation,
            delegate.seat,
            clock(&at)
        ),
        CheckIn::AlreadyCheckedIn { at } => println!(
            "Already checked in: {} ({}) — session \"{session}\" at {}",
            delegate.name,
            delegate.code,
            clock(&at)
        ),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_stats(store: &Store, session: &str) -> Result<ExitCode> {
    if store.session_id(session)?.is_none() {
        bail!("there is no session \"{session}\" in {} (see `kiosk session list`)", store.path().display());
    }
    let counts = store.counts_by_delegation(session)?;
    let (present, total) = kiosk::record::overall(&counts);
    let pct = |p: usize, t: usize| if t == 0 { 0.0 } else { 100.0 * p as f64 / t as f64 };
    println!("session \"{session}\": {present} / {total} present, quorum {:.1}%", pct(present, total));
    for c in counts {
        println!("  {:<40} {:>6} / {:<6} {:>6.1}%", c.delegation, c.present, c.total, pct(c.present, c.total));
    }
    Ok(ExitCode::SUCCESS)
}

fn open_existing(db: &Path) -> Result<Store> {
    if !db.is_file() {
        bail!("database {} does not exist: run `kiosk enroll --db {}` first", db.display(), db.display());
    }
    Store::open(db).with_context(|| format!("opening {}", db.display()))
}
