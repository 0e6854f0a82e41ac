//! `kiosk eval` and `kiosk bench`: how well, how fast.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use kiosk::measure::{bench, eval, ledger, queue};

use kiosk::vision::liveness::Mode;

use super::{Ctx, spelt_as_in_settings};

#[derive(Args)]
pub struct EvalArgs {
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Also write every score to this CSV file.
    #[arg(long, value_name = "FILE")]
    scores: Option<PathBuf>,
    /// Also measure the 1:1 check of a badge: genuine and impostor pairs, badge holders, stolen badges.
    #[arg(long)]
    one_to_one: bool,
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
    /// Instead: make the printed papers (list and report PDF, workbook) for N synthetic delegates, with time and peak memory.
    #[arg(long, value_name = "N")]
    papers: Option<usize>,
    /// Instead: how well a badge's QR code is read from webcam-like frames (size, tilt, blur, JPEG), and how fast.
    #[arg(long)]
    qr: bool,
    /// Instead: print the badges of N synthetic delegates (A6, each with a real photo and its QR code): time, size, peak memory.
    #[arg(long, value_name = "N")]
    badge_sheets: Option<usize>,
    /// Instead: a queue of N people walking up to the kiosk (real photos of --faces, default ../shared/faces).
    #[arg(long, value_name = "N")]
    queue: Option<usize>,
    /// With --queue: how many real people to enrol, at most.
    #[arg(long, default_value_t = 600, value_name = "N")]
    gallery: usize,
    /// With --queue: the seed of the queue's order and of the camera's changes; several seeds, comma-separated.
    #[arg(long, default_value = "1", value_delimiter = ',', value_name = "S")]
    seed: Vec<u64>,
    /// With --queue: every delegate holds up their own badge; every other stranger, a badge taken from a delegate not in the queue.
    #[arg(long)]
    badges: bool,
    /// With --queue or --soak: the liveness check's mode for this run, instead of the settings' (off, passive, challenge).
    #[arg(long, value_name = "MODE", value_parser = spelt_as_in_settings::<Mode>)]
    liveness: Option<Mode>,
    /// Instead: a queue of real faces (--faces, default ../shared/faces) walks past the kiosk for this many
    /// minutes; memory, threads and open files are printed each minute.
    #[arg(long, value_name = "MINUTES")]
    soak: Option<u64>,
    /// Instead: the shared ledger under load (--ledger URL, an empty ledger; tools/bench_ledger.sh makes one),
    /// with a roster of --roster delegates (default 300) and this many kiosks at once.
    #[arg(long, value_name = "N")]
    kiosks: Option<usize>,
}

pub fn eval(ctx: &Ctx, args: EvalArgs) -> Result<ExitCode> {
    let cfg = &ctx.cfg;
    let report =
        eval::evaluate(&cfg.engine, &cfg.quality, &cfg.decide, &args.dir, args.scores.as_deref(), args.one_to_one)?;
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}

pub fn bench(ctx: &Ctx, args: BenchArgs) -> Result<ExitCode> {
    if let Some(kiosks) = args.kiosks {
        let Some(url) = ctx.ledger.as_deref() else {
            anyhow::bail!("kiosk bench --kiosks N measures the shared ledger: add --ledger URL (an empty ledger)");
        };
        let opts = ledger::Options { url, roster: args.roster.unwrap_or(300), kiosks, engine: &ctx.cfg.engine };
        for line in ledger::run(&opts)? {
            println!("{line}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(n) = args.papers {
        for (what, seconds, bytes) in bench::papers(n)? {
            println!("{what}: {seconds:.2} s, {:.1} MB", bytes as f64 / 1e6);
        }
        print_peak_memory();
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(n) = args.badge_sheets {
        let faces = args.faces.unwrap_or_else(|| eval::default_faces_dir().join("dev"));
        let (files, bytes, seconds) = bench::badge_sheets(n, &faces)?;
        println!(
            "{n} badges (A6, photos and QR codes) in {files} PDF file(s), {:.1} MB: {seconds:.1} s",
            bytes as f64 / 1e6
        );
        print_peak_memory();
        return Ok(ExitCode::SUCCESS);
    }
    if args.qr {
        let faces = args.faces.unwrap_or_else(|| eval::default_faces_dir().join("dev"));
        println!("QR code of a badge in a 640x480 frame (tilted up to ±15°, blur up to σ 1.2, JPEG 60–90), one core:");
        for r in bench::qr(&faces, 200, args.seed[0])? {
            let rate = 100.0 * r.read as f64 / r.frames.max(1) as f64;
            let what = if r.px == 0 { "no code".to_string() } else { format!("{:>3} px", r.px) };
            let read = if r.px == 0 { "read by mistake" } else { "read" };
            println!(
                "  {what}: {read} {}/{} ({rate:.1}%), {:.1} ms median, {:.1} ms p95 per frame",
                r.read, r.frames, r.median_ms, r.p95_ms
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(minutes) = args.soak {
        let faces = args.faces.unwrap_or_else(eval::default_faces_dir);
        let mut settings = ctx.cfg.station();
        settings.liveness.mode = args.liveness.unwrap_or(settings.liveness.mode);
        println!(
            "soak: {minutes} minutes, embedder {:?}, liveness {:?}",
            settings.engine.embedder, settings.liveness.mode
        );
        let samples = kiosk::measure::soak::soak(&settings, &faces, minutes, |s| println!("{s}"))?;
        println!("{}", kiosk::measure::soak::verdict(&samples));
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(length) = args.queue {
        let faces = args.faces.unwrap_or_else(eval::default_faces_dir);
        let mut settings = ctx.cfg.station();
        settings.liveness.mode = args.liveness.unwrap_or(settings.liveness.mode);
        println!("liveness check: {:?}", settings.liveness.mode);
        for seed in &args.seed {
            let report = queue::Hall::open(&settings, &faces, args.gallery, length, *seed, args.badges)?.walk()?;
            println!("seed {seed}: {report}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let faces = args.faces.unwrap_or_else(|| eval::default_faces_dir().join("dev"));
    let mut report = bench::run(&ctx.cfg.engine, &ctx.cfg.quality, &faces, args.max_gallery)?;
    if let Some(n) = args.roster {
        report.rows.extend(bench::secretariat(n, ctx.cfg.engine.embedder.dim())?);
    }
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}

/// The run's peak memory, where the system reports it.
fn print_peak_memory() {
    if let Some(mib) = kiosk::base::stats::memory_mib("VmHWM") {
        println!("peak memory (VmHWM) of this run: {mib:.0} MiB");
    }
}
