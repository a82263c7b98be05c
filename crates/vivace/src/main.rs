//! The `vivace` binary; everything lives in the library so it can be tested.

fn main() -> std::process::ExitCode {
    vivace::run(std::env::args_os())
}
