//! `kiosk badges`: issue the delegates' badges and write their QR codes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use kiosk::secretariat::badge_sheet::{Card, Layout, Sheet};
use kiosk::secretariat::badges::{BadgeKey, Issued, issue, reissue};
use kiosk::text::Lang;
use kiosk::vision::qr::Modules;

use super::{Ctx, Db, file_stem, spelt_as_in_settings};

#[derive(Args)]
pub struct BadgesArgs {
    #[command(flatten)]
    db: Db,
    /// Only these delegates (comma-separated codes); default: the whole roster.
    #[arg(long, value_name = "C1,C2", value_delimiter = ',')]
    codes: Vec<String>,
    /// Write each badge's QR code as DIR/CODE.png (with its quiet zone), for mailing or printing elsewhere.
    #[arg(long, value_name = "DIR")]
    qr: Option<PathBuf>,
    /// A lost badge: issue CODE a new one; the old one is refused as replaced from the kiosks' next pull on.
    #[arg(long, value_name = "CODE", conflicts_with = "codes")]
    reissue: Option<String>,
    /// Print-ready badges as PDF (more than 2,000 go into FILE-001.pdf, FILE-002.pdf...).
    #[arg(long, value_name = "FILE.pdf")]
    out: Option<PathBuf>,
    /// a6: four A6 badges to an A4 sheet; cr80: ten bank-card-sized cards to a sheet, with cut marks.
    #[arg(long, value_enum, default_value = "a6")]
    layout: LayoutArg,
    /// vi or en, for the words on the badge.
    #[arg(long, value_name = "LANG", default_value = "vi", value_parser = spelt_as_in_settings::<Lang>)]
    lang: Lang,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LayoutArg {
    A6,
    Cr80,
}

/// Pixels a QR module takes in the PNG files: 29 modules and the quiet zone make 296 px.
const PNG_SCALE: u32 = 8;

pub fn badges(ctx: &Ctx, args: BadgesArgs) -> Result<ExitCode> {
    let key_path = ctx.cfg.badges.key_path(&ctx.db_path(&args.db));
    let key = BadgeKey::open_or_create(&key_path)?;
    let mut store = ctx.open(&args.db)?;
    let issued: Vec<Issued> = match &args.reissue {
        Some(code) => vec![reissue(&mut store, &key, code)?],
        None => issue(&mut store, &key, &args.codes)?,
    };
    if issued.is_empty() {
        bail!("no delegates on the roster of {}: enrol them first (kiosk enroll)", store.path().display());
    }
    if let Some(dir) = &args.qr {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create folder {}", dir.display()))?;
        for badge in &issued {
            let path = dir.join(format!("{}.png", file_stem(&badge.code)));
            let png = Modules::encode(&badge.token.qr_text())?.image(PNG_SCALE);
            png.save(&path).with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    for badge in &issued {
        println!("{}\tbadge {}", badge.code, badge.serial);
    }
    if let Some(out) = &args.out {
        let layout = match args.layout {
            LayoutArg::A6 => Layout::A6,
            LayoutArg::Cr80 => Layout::Cr80,
        };
        let sheet = Sheet { event: &ctx.cfg.event.name, layout, lang: args.lang };
        let card = |i: usize| -> kiosk::Result<Card> {
            let badge = &issued[i];
            let delegate = store.delegate(&badge.code)?.ok_or_else(|| {
                kiosk::Error::Roster(format!("delegate {} left the roster while the badges were printed", badge.code))
            })?;
            Ok(Card { delegate, photo: store.thumbnail(&badge.code)?, qr_text: badge.token.qr_text() })
        };
        for (path, n) in sheet.write_all(out, issued.len(), card)? {
            let sheets = n.div_ceil(layout.per_sheet());
            println!("{n} badges on {sheets} A4 sheets written to {}", path.display());
        }
    }
    let written = args.qr.map(|d| format!("; QR codes in {}", d.display())).unwrap_or_default();
    println!("{} badges (key {}){written}", issued.len(), key_path.display());
    Ok(ExitCode::SUCCESS)
}
