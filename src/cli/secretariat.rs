//! The secretariat's commands: sessions, undo, figures, lists, the audit
//! log, snapshots and the biometric purge.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};

use kiosk::checkin::staff;
use kiosk::ledger::Ledger;
use kiosk::secretariat::export::{Paper, write_csv, write_xlsx};
use kiosk::secretariat::pdf;
use kiosk::store::{AuditHead, overall, percent};
use kiosk::text::Lang;

use super::{Ctx, Db, DbSession, file_stem, spelt_as_in_settings};

#[derive(Args)]
pub struct UndoArgs {
    #[command(flatten)]
    at: DbSession,
    #[arg(long, value_name = "CODE")]
    code: String,
    #[arg(long, value_name = "TEXT")]
    reason: String,
}

#[derive(Subcommand)]
pub enum SessionAction {
    /// Add a session, or set the opening and closing times of an existing one.
    Add {
        name: String,
        #[command(flatten)]
        db: Db,
        /// When it opens, e.g. "2026-11-28 08:00".
        #[arg(long, value_name = "TIME")]
        opens: Option<String>,
        #[arg(long, value_name = "TIME")]
        closes: Option<String>,
    },
    /// List the sessions with their attendance.
    List(Db),
}

#[derive(Subcommand)]
pub enum AuditAction {
    /// Print the log's head, `COUNT HASH`, to write down or sign.
    Head(Db),
    /// Check that no entry of the audit log was edited or removed.
    Verify {
        #[command(flatten)]
        db: Db,
        /// A head written down earlier (COUNT:HASH): the log must still extend it.
        #[arg(long, value_name = "COUNT:HASH")]
        head: Option<String>,
    },
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Xlsx,
    Pdf,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
pub enum ReportFormat {
    Pdf,
    Xlsx,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    at: DbSession,
    /// csv: for programs; xlsx and pdf: the signed list, set up for printing on A4.
    #[arg(long, value_enum, default_value = "csv")]
    format: ExportFormat,
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Language of the headers and words, vi or en (default: Vietnamese; for CSV, stable English names).
    #[arg(long, value_name = "LANG", value_parser = spelt_as_in_settings::<Lang>)]
    lang: Option<Lang>,
}

#[derive(Args)]
pub struct ReportArgs {
    #[command(flatten)]
    at: DbSession,
    #[arg(long, value_enum, default_value = "pdf")]
    format: ReportFormat,
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// vi or en.
    #[arg(long, value_name = "LANG", default_value = "vi", value_parser = spelt_as_in_settings::<Lang>)]
    lang: Lang,
}

#[derive(Args)]
pub struct HallArgs {
    #[command(flatten)]
    at: DbSession,
    /// FILE.svg or FILE.pdf: the kind is taken from the name.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// vi or en.
    #[arg(long, value_name = "LANG", default_value = "vi", value_parser = spelt_as_in_settings::<Lang>)]
    lang: Lang,
}

#[derive(Args)]
pub struct SnapshotsArgs {
    #[command(flatten)]
    at: DbSession,
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Args)]
pub struct PurgeArgs {
    #[command(flatten)]
    db: Db,
    /// Every face template, enrolled photo and check-in snapshot; the file is compacted and checked.
    #[arg(long, required = true)]
    biometrics: bool,
}

pub fn undo(ctx: &Ctx, args: UndoArgs) -> Result<ExitCode> {
    let session = ctx.session(&args.at.session);
    let mut store = ctx.open(&args.at.db)?;
    let code = &args.code;
    if staff::undo(&mut store, &session, code, &ctx.cfg.event.kiosk_id, &args.reason)? {
        println!("check-in of {code} in session \"{session}\" removed; the audit log keeps it and why");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{code} was not checked in to session \"{session}\": nothing to undo");
        Ok(ExitCode::FAILURE)
    }
}

pub fn session(ctx: &Ctx, action: SessionAction) -> Result<ExitCode> {
    match action {
        SessionAction::Add { name, db, opens, closes } => {
            ctx.open(&db)?.transaction(|tx| tx.add_session(&name, opens.as_deref(), closes.as_deref()))?;
            println!("session \"{name}\" saved");
        }
        SessionAction::List(db) => {
            for s in ctx.open(&db)?.session_summaries()? {
                let when = |t: Option<String>| t.unwrap_or_else(|| "-".into());
                println!("{}\topens {}\tcloses {}\t{} present", s.name, when(s.opens), when(s.closes), s.present);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The line that ties printed figures to the audit log.
fn print_head(head: &AuditHead) {
    println!(
        "audit head: {head} (write it down: `kiosk audit verify --head COUNT:HASH` checks the log still extends it)"
    );
}

pub fn stats(ctx: &Ctx, args: &DbSession) -> Result<ExitCode> {
    let store = ctx.open(&args.db)?;
    let session = ctx.session(&args.session);
    store.require_session(&session)?;
    let counts = store.counts_by_delegation(&session)?;
    let (present, total) = overall(&counts);
    println!("session \"{session}\": {present} / {total} present, quorum {:.1}%", percent(present, total));
    for c in counts {
        println!("  {:<40} {:>6} / {:<6} {:>6.1}%", c.delegation, c.present, c.total, percent(c.present, c.total));
    }
    print_head(&ctx.audit_head(&store)?);
    Ok(ExitCode::SUCCESS)
}

pub fn audit(ctx: &Ctx, action: AuditAction) -> Result<ExitCode> {
    match action {
        AuditAction::Head(db) => {
            let head = match ctx.on_ledger(Ledger::audit_head)? {
                Some(head) => head,
                None => ctx.open(&db)?.audit_head()?,
            };
            println!("{head}");
            Ok(ExitCode::SUCCESS)
        }
        AuditAction::Verify { db, head } => {
            let head: Option<AuditHead> = head.as_deref().map(str::parse).transpose()?;
            let check = match ctx.on_ledger(|ledger| ledger.verify_audit(head.as_ref()))? {
                Some(check) => check,
                None => ctx.open(&db)?.verify_audit(head.as_ref())?,
            };
            match check.broken {
                None => {
                    let extends = head.map(|h| format!(", and it extends the head {h}")).unwrap_or_default();
                    println!("audit log intact: {} entries, each chained to the one before{extends}", check.entries);
                    Ok(ExitCode::SUCCESS)
                }
                Some(what) => {
                    println!("audit log BROKEN ({} entries): {what}", check.entries);
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

pub fn export(ctx: &Ctx, args: ExportArgs) -> Result<ExitCode> {
    let read = ctx.session_papers(&args.at)?;
    let papers = read.papers(args.lang.unwrap_or_default(), &ctx.cfg.event);
    match args.format {
        ExportFormat::Csv => write_csv(&args.out, &read.rows, &ctx.zone, args.lang)?,
        ExportFormat::Xlsx => write_xlsx(&args.out, &papers, Paper::List)?,
        ExportFormat::Pdf => pdf::write_list(&args.out, &papers)?,
    }
    println!("{} delegates ({} present) written to {}", read.rows.len(), read.present(), args.out.display());
    print_head(&read.head);
    Ok(ExitCode::SUCCESS)
}

/// The credentials report: summoned, present, absent, the quorum's verdict, the absent delegates, signatures.
pub fn report(ctx: &Ctx, args: ReportArgs) -> Result<ExitCode> {
    let read = ctx.session_papers(&args.at)?;
    let papers = read.papers(args.lang, &ctx.cfg.event);
    match args.format {
        ReportFormat::Pdf => pdf::write_report(&args.out, &papers)?,
        ReportFormat::Xlsx => write_xlsx(&args.out, &papers, Paper::Report)?,
    }
    println!("{}; {}", papers.summary_line(), papers.verdict());
    println!("credentials report written to {}", args.out.display());
    print_head(&read.head);
    Ok(ExitCode::SUCCESS)
}

/// The hall for the presidium: each seat marked present or absent.
pub fn hall(ctx: &Ctx, args: HallArgs) -> Result<ExitCode> {
    let ext = args.out.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    if ext != "svg" && ext != "pdf" {
        anyhow::bail!("--out {}: name the file .svg or .pdf, the two kinds `kiosk hall` draws", args.out.display());
    }
    // One copy opened for the hall and the papers' title block.
    let store = ctx.open(&args.at.db)?;
    let session = ctx.session(&args.at.session);
    let drawing = staff::hall(&store, &session, args.lang, &ctx.cfg.event)?;
    let read = staff::session_papers(&store, ctx.line.borrow_mut().as_mut(), &session)?;
    if ext == "svg" {
        std::fs::write(&args.out, drawing.svg(24.0)).with_context(|| format!("cannot write {}", args.out.display()))?;
    } else {
        pdf::write_hall(&args.out, &read.papers(args.lang, &ctx.cfg.event), &drawing)?;
    }
    println!("{} of {} present; the hall written to {}", read.present(), read.rows.len(), args.out.display());
    Ok(ExitCode::SUCCESS)
}

pub fn snapshots(ctx: &Ctx, args: SnapshotsArgs) -> Result<ExitCode> {
    let store = ctx.open(&args.at.db)?;
    let session = ctx.session(&args.at.session);
    let snapshots = store.snapshots(&session)?;
    if snapshots.is_empty() {
        println!(
            "no check-in snapshots in session \"{session}\" (they are kept only with kiosk.save_snapshots = true)"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let out = &args.out;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create folder {}", out.display()))?;
    for (code, jpeg) in &snapshots {
        let path = out.join(format!("{}.jpg", file_stem(code)));
        std::fs::write(&path, jpeg).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!("{} snapshots of session \"{session}\" written to {}", snapshots.len(), out.display());
    Ok(ExitCode::SUCCESS)
}

pub fn purge(ctx: &Ctx, args: PurgeArgs) -> Result<ExitCode> {
    if ctx.ledger.is_some() {
        anyhow::bail!(
            "purge works on one file: a single-kiosk file, or a kiosk's local copy (--db FILE --ledger \"\"). \
             On the shared ledger, export the lists, then drop its database: PostgreSQL keeps deleted rows in its \
             write-ahead log and backups, which this program cannot prove gone"
        );
    }
    let mut store = ctx.open(&args.db)?;
    if store.replica_of()?.is_some() {
        // The copy's templates go from this file only, never from the ledger.
        store.detach_replica()?;
    }
    let p = store.purge_biometrics()?;
    println!(
        "{} face templates, {} enrolled photos and {} face snapshots (check-ins and refused faces) deleted and the file compacted. Checked: no run of {} bytes or more of their {} bytes is left in the {} bytes of {} and its write-ahead log.",
        p.templates,
        p.thumbnails,
        p.snapshots,
        2 * kiosk::store::purge::PIECE - 1,
        p.bytes_checked,
        p.bytes_searched,
        store.path().display()
    );
    Ok(ExitCode::SUCCESS)
}
