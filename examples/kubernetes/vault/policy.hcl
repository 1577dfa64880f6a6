# Vault policy for the CRONOS AI pods: read the production secrets, nothing else.
#   vault policy write cronos-ai-read examples/kubernetes/vault/policy.hcl
path "secret/data/cronos-ai/production/*" {
  capabilities = ["read"]
}
path "secret/metadata/cronos-ai/production/*" {
  capabilities = ["read"]
}
