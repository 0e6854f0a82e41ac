//! `kiosk dashboard`: the live attendance page, and its viewer key.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

use kiosk::dashboard::key;

use super::{Ctx, DbSession};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DashboardArgs {
    #[command(subcommand)]
    action: Option<KeyAction>,
    #[command(flatten)]
    at: DbSession,
    /// Address and port to serve on, e.g. 127.0.0.1:8080 (0.0.0.0:8080 for the hall's network).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Serve without the viewer key: only for a projector on a network no stranger can join.
    #[arg(long)]
    open: bool,
    /// Serve over HTTPS with this certificate (PEM; tools/ledger-tls.sh makes one), so that the key and
    /// the PIN do not cross the hall's network readable.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum KeyAction {
    /// Print the viewer key and the link that carries it (made the first time).
    Key {
        #[command(flatten)]
        at: DbSession,
        /// Make a new key: links with the old one stop working.
        #[arg(long)]
        new: bool,
        /// The address the dashboard serves on, for the link.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        listen: String,
    },
}

pub fn dashboard(ctx: &Ctx, args: DashboardArgs) -> Result<ExitCode> {
    if let Some(KeyAction::Key { at, new, listen }) = args.action {
        let path = key::path_for(&ctx.db_path(&at.db));
        let viewer = key::open_or_create(&path, new)?;
        println!("viewer key: {viewer} (kept in {})", path.display());
        println!("link for the secretariat: http://{listen}/?key={viewer}");
        if new {
            println!("the old key no longer opens the page, on a running dashboard too");
        }
        return Ok(ExitCode::SUCCESS);
    }
    ctx.unlock_copies()?;
    let key_file = (!args.open).then(|| key::path_for(&ctx.db_path(&args.at.db)));
    if let Some(path) = &key_file {
        key::open_or_create(path, false)?;
    }
    kiosk::dashboard::serve(kiosk::dashboard::Options {
        db: args.at.db.db.clone().or_else(|| ctx.ledger.is_none().then(|| ctx.cfg.store.database.clone())),
        ledger: ctx.ledger.clone(),
        session: ctx.session(&args.at.session),
        listen: args.listen,
        event: ctx.cfg.event.clone(),
        pin_hash: ctx.cfg.kiosk.admin_pin_hash.clone(),
        key_file,
        tls: args.tls_cert.zip(args.tls_key),
    })?;
    Ok(ExitCode::SUCCESS)
}
