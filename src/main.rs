mod allocator;

fn main() {
    std::process::exit(cronos_secrets::main_with_args());
}
