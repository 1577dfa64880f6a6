//! The shipped Dockerfile's runtime stage, built with buildah from the static musl binary and
//! run: its entrypoint resolves secrets and execs the program with them.
//!
//! Needs (scripts/test.sh provides them): buildah, strace, and the static binary built by
//! `cargo build --release --locked --target x86_64-unknown-linux-musl`. There is no Docker
//! engine here; `buildah run --isolation chroot` runs the image as root does.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::tools::*;
use common::*;

const STATIC_TARGET: &str = "x86_64-unknown-linux-musl";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The static binary scripts/test.sh builds before the tests.
fn static_binary() -> PathBuf {
    let path = repo().join(format!("target/{STATIC_TARGET}/release/cronos-secrets"));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --release --locked --target {STATIC_TARGET}` (bash scripts/test.sh does)",
        path.display()
    );
    let newest_source = std::fs::read_dir(repo().join("src"))
        .unwrap()
        .filter_map(|entry| entry.ok()?.metadata().ok()?.modified().ok())
        .max()
        .unwrap();
    let built = std::fs::metadata(&path).unwrap().modified().unwrap();
    assert!(
        built >= newest_source,
        "{} is older than src/: rebuild it (bash scripts/test.sh does)",
        path.display()
    );
    path
}

fn buildah(args: &[&str]) -> String {
    let output = Command::new("buildah")
        .args(args)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run buildah: {error} (apt-get install buildah; bash scripts/test.sh does)"
            )
        });
    assert!(
        output.status.success(),
        "buildah {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The test image and its working container, removed however the test ends.
struct Image {
    name: String,
    container: Option<String>,
}

impl Drop for Image {
    fn drop(&mut self) {
        if let Some(container) = &self.container {
            let _ = Command::new("buildah").args(["rm", container]).output();
        }
        let _ = Command::new("buildah")
            .args(["rmi", "-f", &self.name])
            .output();
    }
}

/// How a file is copied into the container.
enum Copy {
    /// Owned by the image's user (65532), like a mounted secret it must read.
    OwnedByUser,
    /// Mode 0755, a program.
    Executable,
}

impl Image {
    /// Creates the working container that `copy` and `run` act on (`docker create`).
    fn create_container(&mut self) -> String {
        let container = buildah(&["from", "--quiet", &self.name]).trim().to_string();
        self.container = Some(container.clone());
        container
    }

    fn container(&self) -> &str {
        self.container.as_deref().expect("create_container first")
    }

    fn copy(&self, source: &Path, destination: &str, how: Copy) {
        let option = match how {
            Copy::OwnedByUser => ["--chown", "65532:65532"],
            Copy::Executable => ["--chmod", "0755"],
        };
        let source = source.to_string_lossy();
        buildah(&[
            "copy",
            "--quiet",
            option[0],
            option[1],
            self.container(),
            &source,
            destination,
        ]);
    }

    /// Runs `command` in the container as its user, with `env`; returns stdout and stderr.
    fn run(&self, env: &[(String, String)], command: &[&str]) -> (Vec<u8>, String) {
        let mut run = Command::new("buildah");
        run.args(["run", "--isolation", "chroot"]);
        for (name, value) in env {
            run.args(["--env", &format!("{name}={value}")]);
        }
        run.args([self.container(), "--"]).args(command);
        let output = run.output().expect("buildah run");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "the container failed:\n{stderr}");
        (output.stdout, stderr)
    }
}

/// `docker build --target runtime`, with the `build` stage replaced by the locally built
/// binary (a named build context overrides the stage of that name), so no toolchain image is
/// pulled and the Rust build is not repeated.
fn build_runtime_image(work: &Path, test: &str) -> Image {
    let binary_dir = work.join("binary");
    let context = work.join("context");
    std::fs::create_dir_all(&binary_dir).unwrap();
    std::fs::create_dir_all(&context).unwrap();
    std::fs::copy(static_binary(), binary_dir.join("cronos-secrets")).unwrap();
    let image = Image {
        name: format!("localhost/cronos-secrets-{test}-{}", std::process::id()),
        container: None,
    };
    let dockerfile = repo().join("Dockerfile");
    buildah(&[
        "build",
        "--quiet",
        "--target",
        "runtime",
        "--build-context",
        &format!("build={}", binary_dir.display()),
        "-f",
        &dockerfile.to_string_lossy(),
        "-t",
        &image.name,
        &context.to_string_lossy(),
    ]);
    image
}

/// A static build of tests/fixtures/printenv.rs: the image has no shell or coreutils.
fn printenv_program(work: &Path) -> PathBuf {
    let output = work.join("printenv");
    let status = Command::new("rustc")
        .args([
            "--edition",
            "2021",
            "--target",
            STATIC_TARGET,
            "-C",
            "opt-level=s",
            "-o",
        ])
        .arg(&output)
        .arg(repo().join("tests/fixtures/printenv.rs"))
        .status()
        .expect("rustc");
    assert!(
        status.success(),
        "rustc could not build the printenv fixture"
    );
    output
}

/// `buildah images` prints sizes as "2.17 MB".
fn megabytes(size: &str) -> f64 {
    let (number, unit) = size.trim().split_once(' ').expect("size with a unit");
    let number: f64 = number.parse().expect("a number");
    match unit {
        "kB" | "KB" => number / 1000.0,
        "MB" => number,
        "GB" => number * 1000.0,
        other => panic!("unexpected unit {other}"),
    }
}

#[test]
fn runtime_image_execs_the_program_with_resolved_secrets() {
    let work = tempfile::tempdir().unwrap();
    let mut image = build_runtime_image(work.path(), "entrypoint");

    let inspected: serde_json::Value =
        serde_json::from_str(&buildah(&["inspect", "--type", "image", &image.name])).unwrap();
    let config = &inspected["OCIv1"]["config"];
    assert_eq!(config["Entrypoint"], serde_json::json!(["/cronos-secrets"]));
    assert_eq!(config["User"], "65532:65532", "a non-root user");
    let images: serde_json::Value =
        serde_json::from_str(&buildah(&["images", "--json", &image.name])).unwrap();
    let size = megabytes(images[0]["size"].as_str().unwrap());
    let binary_size = std::fs::metadata(static_binary()).unwrap().len() as f64 / 1e6;
    eprintln!("static binary {binary_size:.2} MB, image {size:.2} MB");
    // The limit every feature must fit in (teller's binary is 36.6 MB); bench/README.md has
    // what each dependency added.
    assert!(binary_size <= 14.0, "static binary is {binary_size:.2} MB");
    assert!(size <= 15.0, "image is {size:.2} MB");

    // What `docker run --env-file … -v secrets:/app/secrets IMAGE run -- /printenv from-cmd`
    // gives it: an env file with references, mounted secret files, the program.
    image.create_container();
    let files = work.path().join("files");
    std::fs::create_dir_all(files.join("secrets")).unwrap();
    std::fs::write(
        files.join("secrets/db_password"),
        format!("{DB_PASSWORD}\n"),
    )
    .unwrap();
    std::fs::write(files.join("secrets/jwt_secret"), JWT_SECRET).unwrap();
    std::fs::write(
        files.join(".env.production"),
        "CRONOS_AI_DB_PASSWORD=file:///app/secrets/db_password\nDATABASE_URL=\"postgresql://cronos_user:${CRONOS_AI_DB_PASSWORD}@db/cronos_ai\"\n",
    )
    .unwrap();
    image.copy(&files, "/app", Copy::OwnedByUser);
    image.copy(
        &printenv_program(work.path()),
        "/printenv",
        Copy::Executable,
    );

    let env: Vec<(String, String)> = [
        ("CRONOS_AI_REDIS_PASSWORD", REDIS_PASSWORD),
        ("CRONOS_AI_ENCRYPTION_KEY", ENCRYPTION_KEY),
        ("CRONOS_AI_API_KEY", API_KEY),
        // A reference in the environment, as `docker run --env-file` passes values literally.
        ("CRONOS_AI_JWT_SECRET", "file:///app/secrets/jwt_secret"),
        ("VAULT_TOKEN", "hvs.planted-launcher-token"),
    ]
    .iter()
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .collect();
    // The image's entrypoint, then the arguments `docker run IMAGE …` appends; the env file
    // is found in the working directory, as in the app's WORKDIR.
    let entrypoint = config["Entrypoint"][0].as_str().unwrap();
    let (stdout, stderr) = image.run(
        &env,
        &[
            entrypoint,
            "--env-file",
            "/app/.env.production",
            "run",
            "--",
            "/printenv",
            "from-cmd",
        ],
    );
    let env = parse_env0(&stdout);
    assert_eq!(env["CRONOS_AI_DB_PASSWORD"], DB_PASSWORD);
    assert_eq!(env["CRONOS_AI_JWT_SECRET"], JWT_SECRET);
    assert_eq!(env["CRONOS_AI_API_KEY"], API_KEY);
    assert_eq!(
        env["DATABASE_URL"],
        format!("postgresql://cronos_user:{DB_PASSWORD}@db/cronos_ai")
    );
    assert_eq!(env["ARG"], "from-cmd");
    assert!(
        !env.contains_key("VAULT_TOKEN"),
        "the launcher's credential is stripped"
    );
    assert!(!stderr.contains(DB_PASSWORD), "{stderr}");
}

/// examples/docker/compose.yaml as docker compose reads it, run in the runtime image: its
/// entrypoint, environment and mounted secrets exactly, with the app (a shell script, and the
/// image has no shell) replaced by the printenv stand-in at the same path.
#[test]
fn docker_compose_example_resolves_its_mounted_secrets() {
    let config = compose_config(&repo().join("examples/docker"), "compose.yaml");
    let service = &config["services"]["cronos-ai"];
    let strings = |value: &serde_json::Value| -> Vec<String> {
        let parts = value.as_array().expect("a list");
        parts
            .iter()
            .map(|part| part.as_str().unwrap().to_string())
            .collect()
    };
    let work = tempfile::tempdir().unwrap();
    let mut image = build_runtime_image(work.path(), "compose");
    image.create_container();
    // Where examples/docker/Dockerfile installs it, and the stand-in app.
    image.copy(
        &static_binary(),
        "/usr/local/bin/cronos-secrets",
        Copy::Executable,
    );
    let command = strings(&service["command"]);
    image.copy(
        &printenv_program(work.path()),
        &command[0],
        Copy::Executable,
    );
    for secret in service["secrets"].as_array().unwrap() {
        let file = config["secrets"][secret["source"].as_str().unwrap()]["file"]
            .as_str()
            .unwrap();
        image.copy(
            Path::new(file),
            secret["target"].as_str().unwrap(),
            Copy::OwnedByUser,
        );
    }

    // The env file, mounted as a compose config where the entrypoint's --env-file reads it.
    for mounted in service["configs"].as_array().unwrap() {
        let file = config["configs"][mounted["source"].as_str().unwrap()]["file"]
            .as_str()
            .unwrap();
        image.copy(
            Path::new(file),
            mounted["target"].as_str().unwrap(),
            Copy::OwnedByUser,
        );
    }
    // Docker sees no environment at all: the references stay in the mounted file.
    assert!(service.get("environment").is_none(), "{service}");
    let env: Vec<(String, String)> = Vec::new();
    let argv: Vec<String> = strings(&service["entrypoint"])
        .into_iter()
        .chain(command)
        .collect();
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let env = parse_env0(&image.run(&env, &argv).0);
    let local = |name: &str| {
        read(&repo().join("examples/local/secrets").join(name))
            .trim_end()
            .to_string()
    };
    assert_eq!(env["CRONOS_AI_DB_PASSWORD"], local("db_password"));
    assert_eq!(env["CRONOS_AI_API_KEY"], local("api_key"));
    assert_eq!(
        env["DATABASE_URL"],
        format!(
            "postgresql://cronos_user:{}@postgres:5432/cronos_ai",
            local("db_password")
        )
    );
    assert_eq!(env["LOG_LEVEL"], "info");
}

/// The init container of examples/kubernetes/binary-copy: the image has no `cp`, so the
/// binary installs itself into the shared volume, as the non-root user, for the app to run.
#[test]
fn install_copies_the_binary_for_an_init_container() {
    let work = tempfile::tempdir().unwrap();
    let mut image = build_runtime_image(work.path(), "install");
    image.create_container();
    let volume = work.path().join("volume");
    std::fs::create_dir_all(&volume).unwrap();
    image.copy(&volume, "/cronos/bin", Copy::OwnedByUser);
    image.run(&[], &["/cronos-secrets", "install", "/cronos/bin"]);
    let (version, _) = image.run(&[], &["/cronos/bin/cronos-secrets", "--version"]);
    assert_eq!(
        String::from_utf8_lossy(&version).trim(),
        format!("cronos-secrets {}", env!("CARGO_PKG_VERSION"))
    );
}

/// Issue 21: musl's own malloc gave memory back to the kernel on nearly every free (87
/// `munmap` calls in a launch with only env references, against 2 for `true` alone), which
/// made the static binary's launch about 2 ms slower than `env(1)`. Its allocator keeps freed
/// memory for reuse. Counted with strace over the whole launch, which ends by exec'ing `true`,
/// against `true` started directly.
#[test]
fn static_binary_keeps_freed_memory_instead_of_unmapping_it() {
    let work = tempfile::tempdir().unwrap();
    let settings: String = (1..=45)
        .map(|i| format!("SETTING_{i}=value-{i}\n"))
        .collect();
    std::fs::write(work.path().join("app.env"), settings).unwrap();
    let true_program = PathBuf::from("/bin/true");
    let (direct_mmap, direct_munmap) = memory_map_calls(work.path(), &true_program, &[]);
    let (launch_mmap, launch_munmap) = memory_map_calls(
        work.path(),
        &static_binary(),
        &["run", "--env-file", "app.env", "--", "/bin/true"],
    );
    eprintln!(
        "mmap/munmap: launch {launch_mmap}/{launch_munmap}, true alone {direct_mmap}/{direct_munmap}"
    );
    assert!(
        launch_munmap <= direct_munmap + 10,
        "the launch made {launch_munmap} munmap calls (`true` alone: {direct_munmap}): is the static binary back on musl's malloc?"
    );
    assert!(
        launch_mmap <= direct_mmap + 40,
        "the launch made {launch_mmap} mmap calls (`true` alone: {direct_mmap})"
    );
}

/// `mmap` and `munmap` calls (strace -f -c) of `program args` in `dir`, with the five required
/// secrets as its only environment besides PATH.
fn memory_map_calls(dir: &Path, program: &Path, args: &[&str]) -> (u64, u64) {
    let summary = dir.join("strace.txt");
    let output = Command::new("strace")
        .args(["-f", "-c", "-e", "trace=mmap,munmap", "-o"])
        .arg(&summary)
        .arg(program)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .envs(REQUIRED)
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run strace: {error} (apt-get install strace; bash scripts/test.sh does)")
        });
    assert!(
        output.status.success(),
        "{} {args:?} under strace failed:\n{}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let calls = |syscall: &str| -> u64 {
        read(&summary)
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .find(|fields| fields.last() == Some(&syscall))
            .map_or(0, |fields| {
                fields[3].parse().expect("strace's calls column")
            })
    };
    (calls("mmap"), calls("munmap"))
}
