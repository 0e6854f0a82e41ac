//! `kiosk ledger init | status | import | key`: the shared ledger of a congress with several kiosks.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Subcommand;

use kiosk::ledger::Ledger;

use super::Ctx;

#[derive(Subcommand)]
pub enum LedgerAction {
    /// Create the ledger's tables, or bring them to this version; safe to run again.
    Init,
    /// Each kiosk: online or not, last seen, check-ins, check-ins waiting to be sent.
    Status,
    /// Bring a single-kiosk file (a congress that started without a ledger) into the ledger, once.
    Import {
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
    },
    /// Write the congress's data key to FILE (mode 600), for a kiosk that must start without the ledger
    /// ([store] key_file): keep it on removable media, never on the kiosk's disk.
    Key {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

fn url(ctx: &Ctx) -> Result<&str> {
    match ctx.ledger.as_deref() {
        Some(url) => Ok(url),
        None => {
            bail!("no ledger given: add --ledger postgresql://USER@HOST:PORT/DB, or set ledger.url in the settings")
        }
    }
}

pub fn ledger(ctx: &Ctx, action: LedgerAction) -> Result<ExitCode> {
    match action {
        LedgerAction::Init => {
            let applied = Ledger::init(url(ctx)?)?;
            let ledger = Ledger::connect(url(ctx)?)?;
            match applied {
                0 => println!("the ledger at {} is up to date; nothing changed", ledger.place()),
                n => println!("the ledger at {} is ready ({n} schema version(s) applied)", ledger.place()),
            }
        }
        LedgerAction::Status => {
            let mut ledger = Ledger::connect(url(ctx)?)?;
            println!("link to {}: {}", ledger.place(), ledger.protection());
            let kiosks = ledger.kiosks()?;
            if kiosks.is_empty() {
                println!("no kiosk has reported to the ledger at {} yet", ledger.place());
            }
            println!("{:<20} {:<8} {:>10} {:>10} {:>8}", "kiosk", "status", "last seen", "check-ins", "waiting");
            for k in kiosks {
                println!(
                    "{:<20} {:<8} {:>9.0}s {:>10} {:>8}",
                    k.id,
                    if k.online { "online" } else { "OFFLINE" },
                    k.seconds_ago,
                    k.check_ins,
                    k.waiting
                );
            }
        }
        LedgerAction::Key { out } => {
            let mut ledger = Ledger::connect(url(ctx)?)?;
            ledger.data_key()?.write(&out)?;
            println!(
                "the data key of the ledger at {} is in {} (mode 600): whoever holds it can read a kiosk's copy",
                ledger.place(),
                out.display()
            );
        }
        LedgerAction::Import { db } => {
            if !db.is_file() {
                bail!("{} does not exist: give the single-kiosk database file to import", db.display());
            }
            let store = ctx.open_file(&db)?;
            let mut ledger = Ledger::connect(url(ctx)?)?;
            let done = ledger.import(&store, &ctx.cfg.event.kiosk_id)?;
            println!(
                "{} imported into the ledger at {}: {} rows, {} audit entries, {} check-ins the ledger already had (the earlier kept)",
                db.display(),
                ledger.place(),
                done.rows,
                done.audit_entries,
                done.duplicates
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
