//! The `weir` command-line tool.

use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    // The front-end is recursive descent; a large stack makes deep but legal expressions
    // safe, while the parser's nesting limit bounds the rest.
    let code = std::thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(|| {
            let color = std::io::stderr().is_terminal();
            weir_compiler::cli::main_with(
                std::env::args_os(),
                &mut std::io::stdout().lock(),
                &mut std::io::stderr(),
                color,
            )
        })
        .expect("spawning the compiler thread")
        .join()
        .unwrap_or(101);
    ExitCode::from(code)
}
