#!/usr/bin/env bash
# Peak memory of `cognito-sync plan` and `apply` for a manifest of N NEW users (an empty pool in the
# local emulator), next to `validate` of the same manifest. Target (#10): plan within 1.5×
# validate's peak, and apply likewise.
#
#   benches/plan_new.sh [SIZES...]          default: 10000 100000
#   BIN=target/debug/cognito-sync benches/plan_new.sh 10000   another build of the binary
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000)
region=us-east-1

bin="${BIN:-}"; [ -n "$bin" ] || { cargo build --release --quiet --bin cognito-sync --manifest-path "$root/Cargo.toml"; bin="$root/target/release/cognito-sync"; }
[ -x /usr/bin/time ] || { echo "benches/plan_new.sh needs GNU time: apt-get install time" >&2; exit 1; }

# The emulator, and the AWS_* variables that point at it.
source "$root/benches/emulator.sh"
export AWS_ACCESS_KEY_ID=AKIABENCHNEW

# Every read category well above the quota shares: the figures measure memory, not pacing.
fast=(--max-rps user-list=1000 --max-rps user-read=1000 --max-rps pool-read=1000 --max-rps import-job=100)
curl -sf -X POST -H 'Content-Type: application/json' "$endpoint/_emulator/config" -d '{"rows_per_second": 0}' >/dev/null

echo "| new users | command | wall time | peak memory |"
echo "|---:|---|---:|---:|"
for size in "${sizes[@]}"; do
    pool="$("$python" "$root/tests/emulator/seed.py" --endpoint "$endpoint" --region "$region" \
        --name "bench-new-$size" --users 0 --custom-attr department --access-key AKIABENCHNEW 2>/dev/null)"
    "$python" - "$pool" "$size" >"$work/new.yaml" <<'PY'
import sys
pool, n = sys.argv[1], int(sys.argv[2])
out = [f"version: 1\npool:\n  id: {pool}\ndefaults:\n  email_verified: true\n  locale: en-US\nusers:"]
for i in range(n):
    out.append(f"  - username: user{i:06d}\n    email: user{i:06d}@example.com\n    given_name: Given{i}\n"
               f"    family_name: Family, {i}\n    phone_number: '+1555{i % 10_000_000:07d}'\n"
               f"    custom:\n      department: dept{i % 17}")
print("\n".join(out))
PY
    for command in validate plan apply; do
        args=("$command" "$work/new.yaml" -q)
        [ "$command" = plan ] && args+=(--format json "${fast[@]}")
        # apply: the same plan, then the import job (unthrottled in the emulator), the
        # read-back of every planned user and the JSON report.
        [ "$command" = apply ] && args+=(--format json --yes "${fast[@]}")
        /usr/bin/time -f '%e %M' -o "$work/time" "$bin" "${args[@]}" >/dev/null
        read -r wall kib <"$work/time"
        echo "| $size | \`cognito-sync $command\` | ${wall} s | $((kib / 1024)) MiB |"
    done
done
