# syntax=docker/dockerfile:1
# cronos-secrets as one static binary in an empty image (about 10 MB).
#
#   docker build -t cronos-secrets .
#
# Use it as the base of the wrapper in your own image:
#   COPY --from=cronos-secrets /cronos-secrets /usr/local/bin/cronos-secrets
#   ENTRYPOINT ["cronos-secrets", "run", "--"]
#   CMD ["python", "-m", "cronos_ai.server"]

FROM rust:1-bookworm AS build
# musl-tools: a C compiler for musl, for crates that build C (the AWS SDK's aws-lc-sys).
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN cargo build --release --locked --target x86_64-unknown-linux-musl \
 && cp target/x86_64-unknown-linux-musl/release/cronos-secrets /cronos-secrets

# Nothing but the binary: no shell, no libc, no CA bundle (TLS roots are compiled in).
FROM scratch AS runtime
COPY --from=build --chmod=0755 /cronos-secrets /cronos-secrets
# A numeric non-root user: scratch has no /etc/passwd to name one.
USER 65532:65532
ENTRYPOINT ["/cronos-secrets"]
CMD ["--help"]
