"""The boto3 way to do what `cronos-secrets run` does (issue 4's baseline): read each secret
with its own GetSecretValue call, put it in the environment, exec the program.

    python3 bench/boto3_launch.py PREFIX COUNT -- PROGRAM [ARGS...]

reads PREFIX/s0 … PREFIX/s{COUNT-1} into SECRET_0 … and execs PROGRAM. Endpoint, region and
credentials come from the standard AWS variables, as for cronos-secrets.
"""

import os
import sys

import boto3


def main():
    prefix, count, separator, *program = sys.argv[1:]
    assert separator == "--" and program, __doc__
    client = boto3.client("secretsmanager")
    env = dict(os.environ)
    for index in range(int(count)):
        value = client.get_secret_value(SecretId=f"{prefix}/s{index}")["SecretString"]
        env[f"SECRET_{index}"] = value
    os.execvpe(program[0], program, env)


if __name__ == "__main__":
    main()
