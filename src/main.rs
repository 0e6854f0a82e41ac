//! `kiosk`: the command line over the library. Thin on purpose: it parses,
//! hands each command to its module in `cli/`, and turns errors into exit codes.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("KIOSK_LOG"))
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal; none in the journal or a file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // What this program writes holds names and faces: databases, copies,
    // lists, snapshots. Its owner's alone (files 0600, folders 0700).
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    quiet_on_a_closed_pipe();
    let removed = kiosk::base::scratch::remove_leftovers();
    if removed > 0 {
        tracing::info!(removed, "scratch copies left by killed kiosk programs removed");
    }
    match cli::run(cli::Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `kiosk stats | head -3`: when the reader goes away, the rest of the
/// output has nowhere to go, which is no error (ripgrep does the same).
/// Rust's `println!` panics on it; here that ends the program quietly with 0.
fn quiet_on_a_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let said = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if said.starts_with("failed printing to stdout") && said.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info)
    }));
}
