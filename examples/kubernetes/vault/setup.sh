#!/bin/sh
# One-time Vault set-up for the examples: Kubernetes auth, and one role per service account,
# each bound to the read-only policy. Run with a Vault admin token; KUBERNETES_HOST is the API
# server Vault can reach, and the token reviewer JWT comes from token-reviewer.yaml.
set -eu
vault policy write cronos-ai-read "$(dirname "$0")/policy.hcl"
vault auth enable kubernetes 2>/dev/null || true
vault write auth/kubernetes/config \
    kubernetes_host="$KUBERNETES_HOST" \
    token_reviewer_jwt="$(kubectl -n vault get secret vault-auth-token -o jsonpath='{.data.token}' | base64 -d)" \
    kubernetes_ca_cert="$(kubectl -n vault get secret vault-auth-token -o jsonpath='{.data.ca\.crt}' | base64 -d)"
# (a) the app's own pod runs cronos-secrets; (b) the render init container; (c) the deployer.
for account in cronos-ai cronos-ai-render cronos-ai-deployer; do
    vault write "auth/kubernetes/role/$account" \
        bound_service_account_names="$account" \
        bound_service_account_namespaces=cronos-ai \
        token_policies=cronos-ai-read \
        token_ttl=15m
done
