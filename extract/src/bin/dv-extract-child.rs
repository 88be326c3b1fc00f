//! The extraction child as a stand-alone binary: what the sandbox tests run, and the template
//! for the server binary's `extract` subcommand (parse the remaining args, call `child_main`).

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Option<Vec<String>> = std::env::args_os()
        .skip(1)
        .map(|arg| arg.into_string().ok())
        .collect();
    let parsed = args
        .ok_or_else(|| "arguments must be UTF-8".to_owned())
        .and_then(|args| extract::parse_child_args(&args));
    match parsed {
        Ok((kind, limits)) => extract::child_main(kind, &limits),
        Err(message) => {
            // Best effort: nothing more to do if stderr is gone.
            let _ = writeln!(std::io::stderr(), "dv-extract-child: {message}");
            ExitCode::from(2)
        }
    }
}
