#!/usr/bin/env bash
# Run the test suite several times in a row while busy CPU processes compete with it (issue 10: the suite
# must survive load). Stops at the first failing run; prints one line per run; kills the busy loops on exit.
#
#   scripts/stress-test.sh [--runs N] [--busy K] [-- ARGS FOR PYTEST]
#     --runs N   how many runs in a row (default 5)
#     --busy K   how many busy loops beside it (default 1)
#     ARGS       passed to pytest, e.g. -- -q tests/gui/e2e/test_saving_and_reopening.py
#   PYTEST=...   the test command (default: scripts/dev.sh test, the README's command), e.g.
#                PYTEST="/path/to/venv/bin/python -m pytest" where dev.sh must not create or install a venv
#
# Each run's output goes to a log file in a temporary folder, named in the summary line.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=5
busy=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --busy) busy=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "error: unknown option $1; see scripts/stress-test.sh --help" >&2; exit 2 ;;
  esac
done
case "$runs$busy" in
  *[!0-9]*|'') echo "error: --runs and --busy take whole numbers" >&2; exit 2 ;;
esac
read -r -a test_command <<< "${PYTEST:-scripts/dev.sh test}"

busy_pids=()
stop_busy() {
  for pid in "${busy_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
}
trap stop_busy EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 "$busy"); do
  ( while :; do :; done ) &
  busy_pids+=($!)
done

logs=$(mktemp -d "${TMPDIR:-/tmp}/stress-test.XXXXXX")
echo "stress test: $runs run(s) of '${test_command[*]} $*' beside $busy busy loop(s); logs in $logs"
for run in $(seq 1 "$runs"); do
  log="$logs/run-$run.log"
  started=$(date +%s)
  status=0
  "${test_command[@]}" "$@" > "$log" 2>&1 || status=$?
  took=$(( $(date +%s) - started ))
  outcome=$(grep -E '[0-9]+ (passed|failed|errors?|skipped|deselected).* in [0-9.]+s' "$log" | tail -n 1 |
            sed -E 's/^=+ //; s/ =+$//' || true)
  crash=$(grep -m 1 -E 'Fatal Python error|Segmentation fault|Aborted' "$log" || true)
  if [ "$status" -eq 0 ]; then
    echo "run $run/$runs: passed in ${took} s (${outcome:-no pytest summary})"
  else
    echo "run $run/$runs: FAILED with status $status after ${took} s (${crash:-${outcome:-no pytest summary}}); see $log"
    echo "stopped at run $run of $runs"
    exit "$status"
  fi
done
echo "all $runs run(s) passed beside $busy busy loop(s)"
