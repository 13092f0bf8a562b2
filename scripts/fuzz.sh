#!/usr/bin/env bash
# Runs the fuzz tests longer than CI does: the in-process properties (decoding, validation,
# patches) for many iterations, then the HTTP fuzz test against a real server with fresh seeds.
#   scripts/fuzz.sh [ROUNDS] [ITERATIONS]     (defaults: 5 rounds of 20000 / 5000)
# Every request goes to a server this script starts on 127.0.0.1; it stops by itself.
# A failure prints the seed; rerun it with PORTCULLIS_FUZZ_SEED=<seed>.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
iter=${2:-20000}
dotnet build Portcullis.slnx -c Release >/dev/null
PORTCULLIS_FUZZ_ITER=$iter dotnet test tests/Portcullis.Server.Tests -c Release --no-build --filter "FullyQualifiedName~Fuzz"
for i in $(seq 1 "$rounds"); do
  seed=$RANDOM$RANDOM
  echo "HTTP fuzz round $i, seed $seed"
  PORTCULLIS_FUZZ_SEED=$seed PORTCULLIS_FUZZ_ITER=$((iter / 4)) \
    dotnet test tests/Portcullis.E2E.Tests -c Release --no-build --filter "FullyQualifiedName~HttpFuzzTests"
done
