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

pub fn dashboard(_ctx: &Ctx, _args: DashboardArgs) -> Result<ExitCode> {
    todo!()
}
