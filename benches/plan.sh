#!/usr/bin/env bash
# Benchmark of `cognito-sync plan` against the local emulator.
#
#   benches/plan.sh [SIZES...]          default: 1000 10000 100000
#   MAX_RPS=15 benches/plan.sh 10000    ListUsers at the default rate (half its quota)
#   BIN=target/debug/cognito-sync AWS_CLI=0 benches/plan.sh 1000   another build, no AWS CLI
#
# For each pool size M it seeds a pool of M users, then plans two manifests: 10 users
# (5 existing, 5 new) and all M users. It reports wall time and peak memory (GNU time), and
# the requests per operation from the emulator's counters, next to `aws cognito-idp
# list-users` walking the same pool. MAX_RPS (each read category's rate) defaults to 1000 so
# that the figures measure the tool and the emulator, not the pacing: at the default 15
# ListUsers a second a walk of M users takes at least ceil(M/60)/15 seconds, whatever the
# tool. benches/pace.sh measures the pacing itself.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 100000)
max_rps="${MAX_RPS:-1000}"
region=us-east-1

bin="${BIN:-}"; [ -n "$bin" ] || { cargo build --release --quiet --bin cognito-sync --manifest-path "$root/Cargo.toml"; bin="$root/target/release/cognito-sync"; }
[ -x /usr/bin/time ] || { echo "benches/plan.sh needs GNU time: apt-get install time" >&2; exit 1; }
# The AWS CLI, for the comparison (AWS_CLI=1, default), in a venv of its own under target/
# (installed once).
if [ "${AWS_CLI:-1}" = 1 ]; then
    aws_venv="$root/target/bench-awscli-venv"
    if [ ! -x "$aws_venv/bin/aws" ]; then
        python3 -m venv "$aws_venv"
        "$aws_venv/bin/pip" install --quiet --disable-pip-version-check awscli
    fi
    export PATH="$aws_venv/bin:$PATH"
fi

# The emulator, and the AWS_* variables that point at it.
source "$root/benches/emulator.sh"

control() { curl -sf -X "$1" "$endpoint/_emulator/$2"; }
counts() {
    control GET "counts?access_key=$1" | "$python" -c '
import json, sys
c = {k: v for k, v in json.load(sys.stdin).items() if v}
print(", ".join(f"{v} {k}" for k, v in sorted(c.items())))'
}

manifest() { # pool_id size n_existing n_new
    "$python" - "$@" <<'EOF'
import sys
pool, size, existing, new = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
out = [f"version: 1\npool:\n  id: {pool}\ndefaults:\n  email_verified: true\nusers:"]
step = max(1, size // max(1, existing))
for i in range(0, min(size, existing * step), step):
    out.append(f"  - username: user{i:06d}\n    email: user{i:06d}@example.com")
for i in range(new):
    out.append(f"  - username: new{i:06d}\n    email: new{i:06d}@example.com")
print("\n".join(out))
EOF
}

echo "plan against the emulator, --max-rps $max_rps ($(nproc) cores)"
echo
echo "| pool users | manifest users | command | wall time | peak memory | requests |"
echo "|---:|---:|---|---:|---:|---|"
for size in "${sizes[@]}"; do
    key="AKIABENCH$size"
    export AWS_ACCESS_KEY_ID="$key"
    pool="$("$python" "$root/tests/emulator/seed.py" --endpoint "$endpoint" --region "$region" \
        --name "bench-$size" --users "$size" --access-key "$key" 2>/dev/null)"
    manifest "$pool" "$size" 5 5 >"$work/ten.yaml"
    manifest "$pool" "$size" "$size" 0 >"$work/all.yaml"
    for m in ten all; do
        n=$(grep -c '^  - username' "$work/$m.yaml")
        control DELETE "counts?access_key=$key" >/dev/null
        /usr/bin/time -f '%e %M' -o "$work/time" \
            "$bin" plan "$work/$m.yaml" --format json -q --max-rps "user-list=$max_rps" \
            --max-rps "user-read=$max_rps" --max-rps "pool-read=$max_rps" >"$work/plan.json"
        read -r wall kib <"$work/time"
        echo "| $size | $n | \`cognito-sync plan\` | ${wall} s | $((kib / 1024)) MiB | $(counts "$key") |"
    done
    [ "${AWS_CLI:-1}" = 1 ] || continue
    control DELETE "counts?access_key=$key" >/dev/null
    /usr/bin/time -f '%e %M' -o "$work/time" \
        aws cognito-idp list-users --user-pool-id "$pool" --region "$region" --endpoint-url "$endpoint" \
            --output json >/dev/null
    read -r wall kib <"$work/time"
    echo "| $size | - | \`aws cognito-idp list-users\` | ${wall} s | $((kib / 1024)) MiB | $(counts "$key") |"
done
