//! The `stagelog` binary: parses the command line and maps the outcome to an exit code; the work
//! lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = stagelog::cli::Cli::parse();
    match stagelog::run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            let code = e.exit_code();
            stagelog::note!("stagelog: {:#}", anyhow::Error::from(e));
            ExitCode::from(code)
        }
    }
}
