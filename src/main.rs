//! The `stagelog` binary: parses the command line and maps the outcome to an exit code; the work
//! lives in the library.

use std::process::ExitCode;

use clap::Parser;

/// The import allocates on its reading thread and frees on its writing one; mimalloc does that
/// without the lock glibc's allocator takes, and about a third of the reading thread's time was
/// spent in glibc's malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
