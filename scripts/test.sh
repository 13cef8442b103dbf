#!/usr/bin/env bash
# The whole test suite from a fresh clone: set-up, sanitizer build, fuzzers, then
# every test. Ends with "N passed, N failed, N skipped"; exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)
make -s -j"$jobs" SAN=1 all
make -s -j"$jobs" fuzz
exec tests/run.sh
