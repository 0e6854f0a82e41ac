//! The commands, one module per group; this file holds what they share: the
//! settings, the database and the congress session each command works on.

mod badges;
mod dashboard;
mod doctor;
mod enrol;
mod faces;
mod ledger;
mod liveness;
mod measure;
mod secretariat;
mod window;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use kiosk::checkin::staff::{self, SessionPapers};
use kiosk::config::Config;
use kiosk::ledger::sync::{follow, push_all};
use kiosk::ledger::{Ledger, Line};
use kiosk::store::time::Zone;
use kiosk::store::{AuditHead, Store};
use kiosk::vision::decode::image_files;
use kiosk::vision::embed::EmbedderKind;

#[derive(Parser)]
#[command(name = "kiosk", version, about = "Face-recognition check-in kiosk for congresses")]
pub struct Cli {
    /// Settings file (default: kiosk-config/default.toml of the kiosk's folder; see `kiosk paths`).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Face embedder, overriding the settings file.
    #[arg(long, global = true, value_enum)]
    embedder: Option<EmbedderKind>,
    /// The shared ledger (postgresql://USER@HOST:PORT/DB), overriding ledger.url of the settings.
    #[arg(long, global = true, value_name = "URL")]
    ledger: Option<String>,
    /// This kiosk's name in attendance records, overriding event.kiosk_id.
    #[arg(long, global = true, value_name = "NAME")]
    kiosk_id: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Enrol the delegates of a roster (CSV or XLSX: code,name,delegation,seat,photo) with their photos.
    Enroll(enrol::EnrollArgs),
    /// Take delegates off the roster (their face templates go; attendance already recorded stays).
    Remove(enrol::RemoveArgs),
    /// Issue the delegates' badges (a QR code each, checked against the face at the kiosk), or reissue a lost one.
    Badges(badges::BadgesArgs),
    /// List the pairs of enrolled delegates the kiosk could confuse (found at enrolment).
    Lookalikes(Db),
    /// Set the match threshold for the enrolled gallery again (enroll does it too).
    Calibrate(Db),
    /// Detect and embed every face of images or folders (recursively).
    Embed(faces::EmbedArgs),
    /// Say for each face of images (files or folders, recursively) whether it is real or a picture of a face.
    Liveness(liveness::LivenessArgs),
    /// Measure the liveness check on a folder laid out like ../shared/pad/dev: attacks accepted, real faces refused.
    EvalLiveness(liveness::EvalLivenessArgs),
    /// Say who is in each image (files or folders, recursively), at the shipped threshold.
    Identify(faces::IdentifyArgs),
    /// Record attendance: the person in an image, or a delegate by code (staff, with a reason).
    Checkin(faces::CheckinArgs),
    /// Remove a check-in (wrong person, entered by mistake), with the reason in the audit log.
    Undo(secretariat::UndoArgs),
    /// Congress sessions: add one (or set its times), list them.
    Session {
        #[command(subcommand)]
        action: secretariat::SessionAction,
    },
    /// Attendance of a session: present / total, quorum percentage, by delegation.
    Stats(DbSession),
    /// The audit log: its head, and a check of the whole chain.
    Audit {
        #[command(subcommand)]
        action: secretariat::AuditAction,
    },
    /// Write the attendance list of a session (one row per delegate, sorted by given name).
    Export(secretariat::ExportArgs),
    /// The credentials report of a session (PDF or XLSX): present, absent, the quorum's verdict, signatures.
    Report(secretariat::ReportArgs),
    /// Draw the hall (SVG or PDF) with each seat marked present or absent, for the presidium.
    Hall(secretariat::HallArgs),
    /// Write the face snapshots of a session's check-ins (kiosk.save_snapshots) as CODE.jpg files.
    Snapshots(secretariat::SnapshotsArgs),
    /// Delete biometric data for good.
    Purge(secretariat::PurgeArgs),
    /// Measure accuracy on a labelled folder laid out like ../shared/faces/dev.
    Eval(measure::EvalArgs),
    /// Run the kiosk window: camera (or a folder of frames), recognition, check-in.
    Run(window::RunArgs),
    /// Write a demo congress (about 30 delegates, no photos) to try the kiosk with.
    Demo(window::DemoArgs),
    /// List the cameras attached.
    Cameras,
    /// Read an admin PIN (4+ digits) from standard input and print the line for the settings file.
    AdminPin,
    /// Where the kiosk finds its models, settings and ONNX Runtime.
    Paths,
    /// Check everything a kiosk needs (runtime, models, settings, database, camera, display, ledger, disk, clock, PIN, fonts): one line each, and what to do when one fails.
    Doctor(doctor::DoctorArgs),
    /// Measure speed and memory, per stage and end to end.
    Bench(measure::BenchArgs),
    /// The shared ledger of a congress with several kiosks: set it up, see the kiosks, import a file.
    Ledger {
        #[command(subcommand)]
        action: ledger::LedgerAction,
    },
    /// Serve the live attendance page for the secretariat and the hall's projector.
    Dashboard(dashboard::DashboardArgs),
}

/// `--db`, for commands that work on an existing database.
#[derive(Args)]
struct Db {
    /// The database file (default: store.database of the settings).
    #[arg(long, value_name = "DB")]
    db: Option<PathBuf>,
}

/// `--db` and `--session`.
#[derive(Args)]
struct DbSession {
    #[command(flatten)]
    db: Db,
    /// Congress session (default: event.session of the settings).
    #[arg(long, value_name = "NAME")]
    session: Option<String>,
}

/// What every command works with: the settings, read once.
struct Ctx {
    cfg: Config,
    zone: Zone,
    /// The shared ledger's address, when there is one.
    ledger: Option<String>,
    /// With a ledger: the local copy the command worked on, whose changes go to the ledger at the end.
    copy: RefCell<Option<LocalCopy>>,
    /// The ledger's line, connected at the first use; None without a ledger.
    line: RefCell<Option<Line>>,
}

struct LocalCopy {
    path: PathBuf,
    /// A copy made for this command alone (no --db).
    scratch: Option<kiosk::base::scratch::Scratch>,
}

impl Ctx {
    fn db_path(&self, db: &Db) -> PathBuf {
        db.db.clone().unwrap_or_else(|| self.cfg.store.database.clone())
    }

    /// With a ledger, copies of it are opened with the congress's data key
    /// (`ledger::unlock_copies`); a command that works on a copy, the
    /// kiosk and the dashboard call this before they open one.
    fn unlock_copies(&self) -> Result<()> {
        if let Some(url) = &self.ledger {
            kiosk::ledger::unlock_copies(url, &self.cfg.store.key_file)?;
        }
        Ok(())
    }

    /// The database file, which must exist already.
    fn existing_db(&self, db: &Db) -> Result<PathBuf> {
        let path = self.db_path(db);
        if !path.is_file() {
            bail!("database {} does not exist: run `kiosk enroll --db {}` first", path.display(), path.display());
        }
        // An empty file would silently become a database: only the commands that make one may.
        if path.metadata().is_ok_and(|m| m.len() == 0) {
            bail!(
                "{} is empty (0 bytes), not a kiosk database: `kiosk enroll`, `kiosk session add` or `kiosk demo` makes one",
                path.display()
            );
        }
        Ok(path)
    }

    /// The database, which must exist already; with a ledger, a copy of it,
    /// brought up to date (`--db` keeps the copy, for speed next time).
    fn open(&self, db: &Db) -> Result<Store> {
        if self.ledger.is_some() {
            return self.local_copy(db);
        }
        let path = self.existing_db(db)?;
        self.open_file(&path)
    }

    /// Like `open`, but a new file is created (enrolment starts a congress).
    fn open_or_create(&self, db: &Db) -> Result<Store> {
        if self.ledger.is_some() {
            return self.local_copy(db);
        }
        self.open_file(&self.db_path(db))
    }

    fn open_file(&self, path: &Path) -> Result<Store> {
        let store = Store::open(path).with_context(|| format!("opening {}", path.display()))?;
        Ok(store.with_zone(self.zone).with_patience(self.cfg.store.patience()))
    }

    /// Runs `f` on the ledger, connected once for the whole command; None without a ledger.
    fn on_ledger<T>(&self, f: impl FnOnce(&mut Ledger) -> kiosk::Result<T>) -> Result<Option<T>> {
        let mut line = self.line.borrow_mut();
        let Some(line) = line.as_mut() else { return Ok(None) };
        Ok(Some(line.ask(f)?))
    }

    fn local_copy(&self, db: &Db) -> Result<Store> {
        self.unlock_copies()?;
        // A command that opens the store twice works on one copy.
        let earlier = self.copy.borrow_mut().take();
        let (path, scratch) = match (&db.db, earlier) {
            (Some(path), _) => (path.clone(), None),
            (None, Some(copy)) => (copy.path, copy.scratch),
            (None, None) => {
                let dir =
                    kiosk::base::scratch::folder().context("cannot make a temporary folder for the ledger's copy")?;
                (dir.path().join("copy.db"), Some(dir))
            }
        };
        let mut store = self.open_file(&path)?;
        self.on_ledger(|ledger| follow(&mut store, ledger))?;
        *self.copy.borrow_mut() = Some(LocalCopy { path, scratch });
        Ok(store)
    }

    /// With a ledger, sends what the command wrote on its copy.
    fn finish(&self) -> Result<()> {
        let Some(copy) = self.copy.borrow_mut().take() else { return Ok(()) };
        let mut store = self.open_file(&copy.path)?;
        self.on_ledger(|ledger| push_all(&mut store, ledger, &self.cfg.event.kiosk_id)).context(
            "what this command changed was NOT recorded in the ledger; run it again when the ledger can be reached",
        )?;
        Ok(())
    }

    /// The audit log's head the papers carry (`staff::audit_head`).
    fn audit_head(&self, store: &Store) -> Result<AuditHead> {
        Ok(staff::audit_head(store, self.line.borrow_mut().as_mut())?)
    }

    /// A session's papers (`staff::session_papers`), for a session that must exist.
    fn session_papers(&self, at: &DbSession) -> Result<SessionPapers> {
        let store = self.open(&at.db)?;
        let session = self.session(&at.session);
        store.require_session(&session)?;
        Ok(staff::session_papers(&store, self.line.borrow_mut().as_mut(), &session)?)
    }

    fn session(&self, flag: &Option<String>) -> String {
        flag.clone().unwrap_or_else(|| self.cfg.event.session.clone())
    }
}

/// The settings file with the command line's overrides, checked.
fn settings(cli: &Cli) -> Result<Config> {
    let mut cfg = Config::load(cli.config.as_deref())?;
    if let Some(kind) = cli.embedder {
        cfg.engine.embedder = kind;
    }
    if let Some(id) = &cli.kiosk_id {
        cfg.event.kiosk_id = id.clone();
    }
    if let Some(url) = &cli.ledger {
        cfg.ledger.url = url.clone();
    }
    cfg.check().map_err(kiosk::Error::Config)?;
    kiosk::ledger::link::use_settings(cfg.ledger.link());
    // A single-file congress that opted in to encryption: its key file, from the start.
    if cfg.ledger.url.is_empty() && !cfg.store.key_file.as_os_str().is_empty() {
        kiosk::store::key::use_key(kiosk::store::key::DataKey::read(&cfg.store.key_file)?)?;
    }
    cfg.event.zone().map_err(kiosk::Error::Config)?;
    Ok(cfg)
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    // The doctor reports broken settings instead of stopping at them.
    if let Command::Doctor(args) = &cli.command {
        let path = cli.config.clone().unwrap_or_else(kiosk::config::default_path);
        return Ok(doctor::doctor(settings(&cli), &path, args));
    }
    let cfg = settings(&cli)?;
    let zone = cfg.event.zone().map_err(kiosk::Error::Config)?;
    let ledger = Some(cfg.ledger.url.clone()).filter(|u| !u.is_empty());
    let line = RefCell::new(ledger.as_deref().map(Line::new));
    let ctx = Ctx { cfg, zone, ledger, copy: RefCell::new(None), line };
    let outcome = match cli.command {
        Command::Enroll(args) => enrol::enroll(&ctx, args),
        Command::Remove(args) => enrol::remove(&ctx, args),
        Command::Badges(args) => badges::badges(&ctx, args),
        Command::Lookalikes(db) => enrol::lookalikes(&ctx, &db),
        Command::Calibrate(db) => enrol::calibrate(&ctx, &db),
        Command::Embed(args) => faces::embed(&ctx, args),
        Command::Identify(args) => faces::identify(&ctx, args),
        Command::Liveness(args) => liveness::liveness(&ctx, args),
        Command::EvalLiveness(args) => liveness::eval_liveness(&ctx, args),
        Command::Checkin(args) => faces::checkin(&ctx, args),
        Command::Undo(args) => secretariat::undo(&ctx, args),
        Command::Session { action } => secretariat::session(&ctx, action),
        Command::Stats(args) => secretariat::stats(&ctx, &args),
        Command::Audit { action } => secretariat::audit(&ctx, action),
        Command::Export(args) => secretariat::export(&ctx, args),
        Command::Report(args) => secretariat::report(&ctx, args),
        Command::Hall(args) => secretariat::hall(&ctx, args),
        Command::Snapshots(args) => secretariat::snapshots(&ctx, args),
        Command::Purge(args) => secretariat::purge(&ctx, args),
        Command::Eval(args) => measure::eval(&ctx, args),
        Command::Bench(args) => measure::bench(&ctx, args),
        Command::Run(args) => window::run(&ctx, args),
        Command::Demo(args) => window::demo(args),
        Command::Cameras => window::cameras(),
        Command::AdminPin => window::admin_pin(),
        Command::Paths => window::paths(&ctx, cli.config.as_deref()),
        Command::Ledger { action } => ledger::ledger(&ctx, action),
        Command::Dashboard(args) => dashboard::dashboard(&ctx, args),
        Command::Doctor(_) => unreachable!("the doctor runs before the settings are required"),
    };
    // What a failing command committed before it failed is sent too.
    let sent = ctx.finish();
    let code = outcome?;
    sent?;
    Ok(code)
}

/// A delegate code as a file name: codes come from rosters, and must not name a path.
fn file_stem(code: &str) -> String {
    code.chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' }).collect()
}

/// A flag's value spelt as in the settings file (`passive`, `vi`...), so that the two cannot drift apart.
fn spelt_as_in_settings<T: serde::de::DeserializeOwned>(s: &str) -> std::result::Result<T, String> {
    toml::Value::String(s.into()).try_into().map_err(|e| format!("\"{s}\": {e}"))
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

/// The image files of `paths` (files, or folders walked); none at all is an
/// error, so a wrong folder is not taken for a clean run.
fn images_in(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let files = image_files(paths);
    if files.is_empty() {
        let listed = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        bail!("no image files (JPEG, PNG, WebP…) in {listed}: check the path");
    }
    Ok(files)
}

/// Runs `work` on every image of `paths` (files, or folders walked) on all
/// cores, in chunks so that `show` prints the results in order; fails only
/// when every image failed.
fn each_image<T: Send>(
    paths: &[PathBuf],
    what: &str,
    work: impl Fn(&Path) -> kiosk::Result<T> + Sync,
    show: impl Fn(&Path, kiosk::Result<T>),
) -> Result<ExitCode> {
    let files = images_in(paths)?;
    let bar = progress_bar(files.len(), what);
    let mut failures = 0usize;
    for chunk in files.chunks(64) {
        let results: Vec<_> = chunk
            .par_iter()
            .map(|path| {
                let out = work(path);
                bar.inc(1);
                out
            })
            .collect();
        for (path, result) in chunk.iter().zip(results) {
            failures += result.is_err() as usize;
            bar.suspend(|| show(path, result));
        }
    }
    bar.finish_and_clear();
    if failures > 0 {
        eprintln!("{failures} of {} images could not be read", files.len());
    }
    Ok(if failures == files.len() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
