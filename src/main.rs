//! The `labelgen` command: parse arguments, run one subcommand, print its error once.

mod cli;

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: cli::huge_pages::HugePageAllocator = cli::huge_pages::HugePageAllocator;

fn main() -> ExitCode {
    let arguments = cli::Arguments::parse();
    match cli::run(arguments) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            let mut shown = error.to_string();
            cli::note!("error: {shown}");
            for cause in error.chain().skip(1) {
                // Many errors quote their cause in their own message: say it once.
                let text = cause.to_string();
                if !shown.contains(&text) {
                    cli::note!("  caused by: {text}");
                    shown.push_str(&text);
                }
            }
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
