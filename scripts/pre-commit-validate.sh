#!/usr/bin/env bash
# The `cognito-sync-validate` pre-commit hook (.pre-commit-hooks.yaml): `cognito-sync validate`
# on each manifest pre-commit passes, offline, no AWS. Which cognito-sync runs:
#   1. $COGNITO_SYNC, when set (a path or a command name);
#   2. otherwise `cognito-sync` on the PATH;
#   3. otherwise the release of this hook's own version (the `rev:` in .pre-commit-config.yaml),
#      installed once by scripts/install.sh into ~/.cache/cognito-sync: a checksummed
#      prebuilt binary, so the hook costs seconds, not a release build of the AWS SDK.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
hook_repo="$(cd "$here/.." && pwd)"

bin="${COGNITO_SYNC:-}"
if [[ -z "$bin" ]] && command -v cognito-sync >/dev/null 2>&1; then
  bin=cognito-sync
fi
if [[ -z "$bin" ]]; then
  version="v$(sed -n 's/^version = "\(.*\)"$/\1/p' "$hook_repo/Cargo.toml" | head -n 1)"
  repository="${COGNITO_SYNC_REPOSITORY:-}"
  if [[ -z "$repository" ]]; then
    # pre-commit clones the hook's repository with `origin` set to the URL of `repo:`.
    origin="$(git -C "$hook_repo" remote get-url origin 2>/dev/null || true)"
    if [[ "$origin" =~ github\.com[:/]([^/]+/[^/]+)$ ]]; then
      repository="${BASH_REMATCH[1]%.git}"
    fi
  fi
  if [[ -z "$repository" ]]; then
    printf 'error: cognito-sync is not installed and the hook cannot tell where its releases are\n' >&2
    printf '  help: install cognito-sync on the PATH, or set COGNITO_SYNC_REPOSITORY=OWNER/NAME\n' >&2
    exit 1
  fi
  bin="$(COGNITO_SYNC_VERSION="$version" COGNITO_SYNC_REPOSITORY="$repository" "$here/install.sh")"
fi

status=0
for manifest in "$@"; do
  "$bin" validate --quiet "$manifest" || status=1
done
exit "$status"
