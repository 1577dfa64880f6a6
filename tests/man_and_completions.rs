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

/// What bash offers for the words typed so far (the last one being completed), the way
/// bash calls the completion function on TAB.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let launch = Launch::new().file("completion.bash", &generate("complete-bash"));
    let quoted: Vec<String> = words.iter().map(|word| format!("'{word}'")).collect();
    let current = words.len() - 1;
    let script = format!(
        "source completion.bash && COMP_WORDS=({words}) COMP_CWORD={current} && \
         COMP_LINE=\"${{COMP_WORDS[*]}}\" COMP_POINT=${{#COMP_LINE}} && \
         _cronos__secrets cronos-secrets '{cur}' '{prev}' && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words = quoted.join(" "),
        cur = words[current],
        prev = words[current - 1],
    );
    let output = std::process::Command::new("bash")
        .args(["-c", &script])
        .current_dir(launch.dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(String::from)
        .collect()
}

/// Past the subcommand too: its options, and an option's values.
#[test]
fn bash_completes_after_the_subcommand() {
    let options = bash_completes(&["cronos-secrets", "rotate", "--d"]);
    assert!(
        options.iter().any(|word| word == "--dry-run"),
        "{options:?}"
    );
    assert!(
        options.iter().all(|word| word.starts_with("--d")),
        "{options:?}"
    );
    let formats = bash_completes(&["cronos-secrets", "export", "--format", ""]);
    for format in ["dotenv", "shell", "k8s-secret"] {
        assert!(formats.iter().any(|word| word == format), "{formats:?}");
    }
    let nested = bash_completes(&["cronos-secrets", "help", "rot"]);
    assert_eq!(nested, ["rotate"]);
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

/// `--help` gives every exit code the manual's table gives (docs/commands.md), and for 1
/// every command that exits with it.
#[test]
fn help_lists_every_exit_code_of_the_manual() {
    let manual = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/commands.md"),
    )
    .unwrap();
    let table = manual
        .split("## Exit codes")
        .nth(1)
        .expect("the manual's exit-code table");
    let help = Launch::new().args(["--help"]).run();
    help.assert_code(0);
    let stdout = help.stdout();
    let codes = stdout
        .split("Exit codes:")
        .nth(1)
        .expect("--help has exit codes")
        .replace('\n', " ");
    let rows = table
        .lines()
        .skip_while(|line| !line.starts_with("| 0"))
        .take_while(|line| line.starts_with('|'));
    for row in rows {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (code, meaning) = (cells[1], cells[2]);
        if code == "other" {
            assert!(codes.contains("the program's own status"), "{codes}");
            continue;
        }
        assert!(
            codes.contains(&format!(" {code} ")),
            "{code} missing: {codes}"
        );
        // Every command the manual names for this code (`check`, `rotate --status`…).
        for command in meaning.split('`').skip(1).step_by(2) {
            let words: String = command.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                codes.contains(&words),
                "{code}: `{command}` missing: {codes}"
            );
        }
    }
}
