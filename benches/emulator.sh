# Sourced by the benchmarks under benches/ (not run on its own): starts the local emulator
# for the rest of the script and stops it on exit.
#
# Needs: `root` (the repository) and `region`. Sets:
#   python        the emulator venv's python (for seed.py and the scripts' helpers)
#   work          a temporary directory, removed on exit (the emulator's log is in it)
#   endpoint      the emulator's URL
#   emulator_pid
# and exports what points the AWS SDK (and the AWS CLI) at the emulator: AWS_ENDPOINT_URL,
# AWS_REGION, a dummy secret key, no config or credentials file, no instance metadata.
# Each script sets AWS_ACCESS_KEY_ID itself: the emulator counts requests per access key.

python="$("$root/tests/emulator/emulator" venv)"
work="$(mktemp -d)"
"$root/tests/emulator/emulator" serve --no-stdin-watch >"$work/ready" 2>"$work/emulator.log" &
emulator_pid=$!
trap 'kill "$emulator_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do
    grep -q '^ready ' "$work/ready" 2>/dev/null && break
    sleep 0.1
done
endpoint="$(sed -n 's/^ready //p' "$work/ready")"
[ -n "$endpoint" ] || { echo "the emulator did not start; see $work/emulator.log" >&2; exit 1; }

export AWS_ENDPOINT_URL="$endpoint" AWS_SECRET_ACCESS_KEY=bench AWS_REGION="$region" \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
