//! The `fieldbook` binary: all behaviour lives in the library so tests can reach it.

fn main() -> std::process::ExitCode {
    fieldbook::cli::main()
}
