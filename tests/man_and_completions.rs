//! `--generate`: the man page and completions come from the same definition as `--help`.

mod common;

use common::*;

fn generate(kind: &str) -> String {
    let outcome = Launch::new().args(["--generate", kind]).run();
    outcome.assert_code(0);
    outcome.stdout()
}

#[test]
fn the_man_page_lists_every_command_and_option() {
    let man = generate("man");
    assert!(man.contains(".TH cronos-secrets 1"), "{man}");
    for name in [
        "run", "check", "render", "export", "get", "set", "generate", "install",
    ] {
        assert!(
            man.contains(&format!("cronos\\-secrets\\-{name}(1)")),
            "{name}"
        );
    }
    for option in [
        "\\-\\-no\\-resolve\\-env",
        "\\-\\-audit\\-log",
        "\\-\\-timeout",
    ] {
        assert!(man.contains(option), "{option}");
    }
}

#[test]
fn bash_completion_registers_and_completes_commands() {
    let script = generate("complete-bash");
    let launch = Launch::new().file("completion.bash", &script);
    let output = std::process::Command::new("bash")
        .args([
            "-c",
            "source completion.bash && complete -p cronos-secrets && \
             COMP_WORDS=(cronos-secrets ch) COMP_CWORD=1 && _cronos__secrets cronos-secrets ch cronos-secrets && \
             printf '%s\\n' \"${COMPREPLY[@]}\"",
        ])
        .current_dir(launch.dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("-F _cronos__secrets cronos-secrets"),
        "{stdout}"
    );
    assert!(stdout.lines().any(|line| line == "check"), "{stdout}");
}

#[test]
fn every_shell_gets_a_script_and_generate_takes_no_command() {
    for kind in [
        "complete-zsh",
        "complete-fish",
        "complete-powershell",
        "complete-elvish",
    ] {
        assert!(generate(kind).contains("cronos-secrets"), "{kind}");
    }
    Launch::new()
        .args(["--generate", "man", "check"])
        .run()
        .assert_code(2)
        .assert_stderr_contains("--generate takes no command");
    Launch::new()
        .run()
        .assert_code(2)
        .assert_stderr_contains("a command is required");
}
