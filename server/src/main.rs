// mimalloc: requests, the scan writer and SQLite's threads allocate on one thread and
// free on another, which glibc's allocator does slowly.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    haven_server::cli::main()
}
