#!/usr/bin/env bash
# Long kill -9 stress run of the progress store: a child drives step transitions through the
# real store and is killed with SIGKILL at random moments, ITERATIONS times (default 3000;
# the test prints kills, transitions saved and seconds taken). Every time the state must load and hold every
# transition the child reported saved. Usage: scripts/progress-stress.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
FIELDBOOK_CRASH_ITERATIONS="${1:-3000}" \
  cargo test --release --test progress_crash -- --nocapture kill_9
