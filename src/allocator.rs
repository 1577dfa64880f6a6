//! The global allocator of the static musl binary (the one the image ships).
//!
//! musl's own malloc gives memory back to the kernel on nearly every free: a launch with only
//! env references made 126 `mmap` and 99 `munmap` calls (the glibc build: 25 and 2) and
//! started its program about 2 ms later than `env(1)` would have. mimalloc keeps freed memory
//! for reuse, which saves about 1 ms of CPU per launch; jemalloc saves as much but adds three
//! times the size. `bench/allocator.sh` measures them side by side (bench/README.md,
//! "Allocator of the static binary"); tests/image.rs counts the `munmap` calls. mimalloc is
//! built without transparent huge pages (Cargo.toml: `no_thp`), which doubled a launch's
//! memory. glibc builds keep glibc's malloc, which already caches freed memory.

// Elsewhere the features do nothing (so `--all-features` still builds for glibc).
#[cfg(all(
    target_env = "musl",
    feature = "bench-alloc-musl",
    feature = "bench-alloc-jemalloc"
))]
compile_error!("the bench-alloc-* features each pick the allocator: enable one at most");

#[cfg(all(
    target_env = "musl",
    not(feature = "bench-alloc-musl"),
    not(feature = "bench-alloc-jemalloc")
))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// Only for bench/allocator.sh's comparison.
#[cfg(all(target_env = "musl", feature = "bench-alloc-jemalloc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
