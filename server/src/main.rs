fn main() -> std::process::ExitCode {
    haven_server::cli::main()
}
