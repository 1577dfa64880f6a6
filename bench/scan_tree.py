#!/usr/bin/env python3
"""Generates the scan benchmark's inputs (into a directory outside the repo):

  tree/   20,000 files, about 200 MB, mixed kinds (env, YAML, JSON, Python, Rust, shell,
          text), with 10 planted secrets
  diff/   a git repository whose index holds a 5,000-line change over 50 files

Usage: python3 bench/scan_tree.py OUT_DIR
"""
import os
import random
import subprocess
import sys

out = sys.argv[1]
rng = random.Random(11)
WORDS = ("cronos ai launcher vault secret reference placeholder config service request "
         "response database redis cache queue worker token rotate deploy cluster node "
         "metrics logging handler router session user account tenant region").split()


def line(kind, index):
    word = rng.choice(WORDS)
    other = rng.choice(WORDS)
    if kind == "env":
        return f"{word.upper()}_{index}={other}-{rng.randint(0, 99999)}"
    if kind == "yaml":
        return f"  {word}_{index}: \"{other} {rng.randint(0, 99999)}\""
    if kind == "json":
        return f'  "{word}_{index}": "{other}-{rng.randint(0, 99999)}",'
    if kind == "py":
        return f"    {word}_{index} = compute_{other}({rng.randint(0, 999)}, name=\"{word}\")"
    if kind == "rs":
        return f"    let {word}_{index} = {other}::build({rng.randint(0, 999)}).context(\"{word}\")?;"
    if kind == "sh":
        return f"{word}_{index}=\"${{{other.upper()}:-{rng.randint(0, 9)}}}\"; echo \"$" + f"{word}_{index}\""
    return " ".join(rng.choice(WORDS) for _ in range(12))


EXTENSIONS = {"env": ".env", "yaml": ".yaml", "json": ".json", "py": ".py", "rs": ".rs", "sh": ".sh", "txt": ".txt"}
PLANTED = [
    "CRONOS_AI_DB_PASSWORD=BenchPlantedDbPass-7fQ2xL9vK3m8",
    "AWS_ACCESS_KEY_ID=AKIA" + "BENCHPLANTEDKEY2",
    'password = "BenchPlantedPassw0rd-99"',
    "DATABASE_URL=postgresql://app:BenchPlantedUrlPw77@db:5432/app",
]


def write_tree(root, files, target_bytes):
    per_file = target_bytes // files
    kinds = list(EXTENSIONS)
    for index in range(files):
        kind = kinds[index % len(kinds)]
        directory = os.path.join(root, f"d{index % 200:03d}")
        os.makedirs(directory, exist_ok=True)
        lines, size = [], 0
        while size < per_file:
            text = line(kind, len(lines))
            lines.append(text)
            size += len(text) + 1
        if index % 2000 == 7:
            lines.insert(len(lines) // 2, PLANTED[(index // 2000) % len(PLANTED)])
        with open(os.path.join(directory, f"f{index:05d}{EXTENSIONS[kind]}"), "w") as handle:
            handle.write("\n".join(lines) + "\n")


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL)


tree = os.path.join(out, "tree")
write_tree(tree, 20000, 200 * 1024 * 1024)

diff = os.path.join(out, "diff")
write_tree(diff, 500, 5 * 1024 * 1024)
git(diff, "init", "-q")
git(diff, "add", ".")
git(diff, "commit", "-q", "-m", "base")
changed = sorted(os.path.join(d, f) for d, _, fs in os.walk(diff) if ".git" not in d for f in fs)[:50]
for number, path in enumerate(changed):
    kind = os.path.splitext(path)[1].lstrip(".")
    kind = {"env": "env", "yaml": "yaml", "json": "json", "py": "py", "rs": "rs", "sh": "sh"}.get(kind, "txt")
    with open(path, "a") as handle:
        added = [line(kind, 100000 + i) for i in range(100)]
        if number == 3:
            added[50] = PLANTED[0]
        handle.write("\n".join(added) + "\n")
git(diff, "add", ".")
