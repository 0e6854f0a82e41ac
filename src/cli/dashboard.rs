//! `kiosk dashboard`: the live attendance page.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::{Ctx, DbSession};

#[derive(Args)]
pub struct DashboardArgs {
    #[command(flatten)]
    at: DbSession,
    /// Address and port to serve on, e.g. 127.0.0.1:8080 (0.0.0.0:8080 for the hall's network).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: String,
}

pub fn dashboard(ctx: &Ctx, args: DashboardArgs) -> Result<ExitCode> {
    kiosk::dashboard::serve(kiosk::dashboard::Options {
        db: args.at.db.db.clone().or_else(|| ctx.ledger.is_none().then(|| ctx.cfg.store.database.clone())),
        ledger: ctx.ledger.clone(),
        session: ctx.session(&args.at.session),
        listen: args.listen,
        event: ctx.cfg.event.clone(),
        pin_hash: ctx.cfg.kiosk.admin_pin_hash.clone(),
    })?;
    Ok(ExitCode::SUCCESS)
}
