#!/usr/bin/env bash
# Benchmark of cognito-sync's pacing against the physical limits (issue #11, SPEC §10).
#
#   benches/pace.sh [SIZE]                  default 100000 pool users
#   LIST_MS=80 GET_MS=20 benches/pace.sh    latency of a ListUsers page / an AdminGetUser
#   LOOKUPS=1000 ONE_CHAIN=1 AWS_CLI=0 CONCURRENT=0 benches/pace.sh 20000
#   COGNITO_SYNC=target/debug/cognito-sync benches/pace.sh 6000   (another build)
#
# The emulator answers a ListUsers page in LIST_MS ms and an AdminGetUser in GET_MS ms and
# enforces Cognito's documented quotas per account (UserList 30/s, UserRead 120/s,
# UserPoolRead 15/s, ...), answering TooManyRequestsException beyond them. cognito-sync is
# allowed the full quota (`--quota-share 100`). For a pool of M users it reports, with the
# requests counted by the emulator:
#   1. a full plan (every user declared: a walk), against the physical limit ceil(M/60)/30 s;
#      with ONE_CHAIN=1 also the walk with one ListUsers chain (the sequential reader);
#   2. LOOKUPS declared users found by AdminGetUser, against LOOKUPS/120 s;
#   3. a 10-user plan with the emulator's latency and quotas off, paced (the defaults)
#      and unpaced (`--max-rps CATEGORY=100000` for its categories): what pacing adds;
#   4. the AWS CLI's `list-users` walking the same pool (pinned awscli, in a venv under
#      target/), with AWS_CLI=1 (default);
#   5. two full plans at once on the one account (CONCURRENT=1, default): both must finish;
#      the share of their requests that were throttled.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
size="${1:-100000}"
list_ms="${LIST_MS:-80}"
get_ms="${GET_MS:-20}"
lookups="${LOOKUPS:-1000}"
region=us-east-1
awscli_version=1.46.3

# COGNITO_SYNC=path/to/binary measures that build instead of a fresh release build.
bin="${COGNITO_SYNC:-$root/target/release/cognito-sync}"
[ -n "${COGNITO_SYNC:-}" ] || cargo build --release --quiet --bin cognito-sync --manifest-path "$root/Cargo.toml"
if [ "${AWS_CLI:-1}" = 1 ]; then
    aws_venv="$root/target/bench-awscli-venv"
    if [ "$("$aws_venv/bin/aws" --version 2>&1 | sed -n 's|^aws-cli/\([^ ]*\).*|\1|p')" != "$awscli_version" ]; then
        python3 -m venv "$aws_venv"
        "$aws_venv/bin/pip" install --quiet --disable-pip-version-check "awscli==$awscli_version"
    fi
fi

# The emulator, and the AWS_* variables that point at it.
source "$root/benches/emulator.sh"

control() { curl -sf -X "$1" -H 'Content-Type: application/json' "$endpoint/_emulator/$2" ${3:+-d "$3"}; }
counts() { control GET "counts?access_key=$1"; }
summary() { # counts JSON on stdin → "N Op, ..." and the throttled share
    "$python" -c '
import json, sys
c = {k: v for k, v in json.load(sys.stdin).items() if v}
throttled = c.pop("Throttled", 0)
total = sum(c.values())
line = ", ".join(f"{v} {k}" for k, v in sorted(c.items()))
print(line + (f" ({throttled} throttled, {100 * throttled / total:.1f}%)" if throttled else ""))'
}
now() { date +%s.%N; }
seconds() { "$python" -c "print(f'{$2 - $1:.2f}')"; }
ratio() { "$python" -c "print(f'{$1 / $2:.2f}')"; }

manifest() { # pool_id first count [new]
    "$python" - "$@" <<'EOF'
import sys
pool, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
new = int(sys.argv[4]) if len(sys.argv) > 4 else 0
out = [f"version: 1\npool:\n  id: {pool}\ndefaults:\n  email_verified: true\nusers:"]
for i in range(first, first + count):
    out.append(f"  - username: user{i:06d}\n    email: user{i:06d}@example.com")
for i in range(new):
    out.append(f"  - username: new{i:06d}\n    email: new{i:06d}@example.com")
print("\n".join(out))
EOF
}

export COGNITO_SYNC_NO_PROGRESS=1

pool="$("$python" "$root/tests/emulator/seed.py" --endpoint "$endpoint" --region "$region" \
    --name "pace-$size" --users "$size" --access-key AKIABENCHSEED 2>/dev/null)"
manifest "$pool" 0 "$size" >"$work/all.yaml"
manifest "$pool" $((size / 2)) "$lookups" >"$work/lookups.yaml"
manifest "$pool" 0 5 5 >"$work/ten.yaml"

slow='{"operation_latency_ms": {"ListUsers": '"$list_ms"', "AdminGetUser": '"$get_ms"'},
       "quotas": {"UserList": 30, "UserRead": 120, "UserPoolRead": 15, "UserResourceUpdate": 25,
                  "UserUpdate": 25, "UserImportJob": 5}, "quota_scope": "account"}'
control POST config "$slow" >/dev/null

run() { # key label limit_seconds args...
    local key="$1" label="$2" limit="$3"
    shift 3
    control DELETE "counts?access_key=$key" >/dev/null
    local t0 t1 wall
    t0="$(now)"
    AWS_ACCESS_KEY_ID="$key" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; echo "| $label | failed | | |"; return; }
    t1="$(now)"
    wall="$(seconds "$t0" "$t1")"
    if [ "$limit" = - ]; then
        echo "| $label | ${wall} s | - | $(counts "$key" | summary) |"
    else
        echo "| $label | ${wall} s | ${limit} s (× $(ratio "$wall" "$limit")) | $(counts "$key" | summary) |"
    fi
}

pages=$(( (size + 59) / 60 ))
walk_limit="$("$python" -c "print(f'{$pages / 30:.2f}')")"
lookup_limit="$("$python" -c "print(f'{$lookups / 120:.2f}')")"

echo "cognito-sync pacing against the emulator: $size users, ListUsers ${list_ms} ms a page, AdminGetUser ${get_ms} ms, documented quotas enforced ($(nproc) cores)"
echo
echo "| run | wall time | physical limit (ratio) | requests |"
echo "|---|---:|---:|---|"
run AKIAPACEFULL "full plan, $size declared users" "$walk_limit" \
    "$bin" plan "$work/all.yaml" --format json -q --quota-share 100
if [ "${ONE_CHAIN:-0}" = 1 ]; then
    run AKIAPACEONE "full plan, one ListUsers chain" "$walk_limit" \
        "$bin" plan "$work/all.yaml" --format json -q --quota-share 100 --read list-one-chain
fi
run AKIAPACELOOKUP "$lookups declared users looked up" "$lookup_limit" \
    "$bin" plan "$work/lookups.yaml" --format json -q --quota-share 100
if [ "${AWS_CLI:-1}" = 1 ]; then
    run AKIAPACEAWSCLI "\`aws cognito-idp list-users\` ($awscli_version)" "$walk_limit" \
        "$aws_venv/bin/aws" cognito-idp list-users --user-pool-id "$pool" --region "$region" \
        --endpoint-url "$endpoint" --output json
fi
if [ "${CONCURRENT:-1}" = 1 ]; then
    for key in AKIAPACETWO1 AKIAPACETWO2; do control DELETE "counts?access_key=$key" >/dev/null; done
    t0="$(now)"
    AWS_ACCESS_KEY_ID=AKIAPACETWO1 "$bin" plan "$work/all.yaml" --format json -q --quota-share 100 \
        >/dev/null 2>"$work/err1" & one=$!
    AWS_ACCESS_KEY_ID=AKIAPACETWO2 "$bin" plan "$work/all.yaml" --format json -q --quota-share 100 \
        >/dev/null 2>"$work/err2" & two=$!
    status1=0; status2=0
    wait "$one" || status1=$?
    wait "$two" || status2=$?
    t1="$(now)"
    both="$(seconds "$t0" "$t1")"
    both_limit="$("$python" -c "print(f'{2 * $pages / 30:.2f}')")"
    for n in 1 2; do
        key="AKIAPACETWO$n"
        status_var="status$n"
        result="exit ${!status_var}"
        echo "| two full plans at once: plan $n ($result) | ${both} s (both) | ${both_limit} s for both (× $(ratio "$both" "$both_limit")) | $(counts "$key" | summary) |"
    done
fi

# 3: what pacing adds to a small plan, with the emulator's latency and quotas off.
control POST config '{"operation_latency_ms": {}, "quotas": {}}' >/dev/null
best() { # the best of 5 runs, in seconds
    local best=999 t0 t1 w
    for _ in 1 2 3 4 5; do
        t0="$(now)"; "$@" >/dev/null 2>&1; t1="$(now)"
        w="$(seconds "$t0" "$t1")"
        best="$("$python" -c "print(min($best, $w))")"
    done
    echo "$best"
}
paced="$(AWS_ACCESS_KEY_ID=AKIAPACETEN best "$bin" plan "$work/ten.yaml" --format json -q)"
unpaced="$(AWS_ACCESS_KEY_ID=AKIAPACETEN best "$bin" plan "$work/ten.yaml" --format json -q \
    --max-rps pool-read=100000 --max-rps user-read=100000 --max-rps user-list=100000)"
echo "| 10-user plan, no latency or quota: paced (defaults) / unpaced (\`--max-rps CATEGORY=100000\`) | ${paced} s / ${unpaced} s | adds $(seconds "$unpaced" "$paced") s | $(counts AKIAPACETEN | summary) (10 runs) |"
