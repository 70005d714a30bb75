#!/usr/bin/env bash
# Fuzzes Tuna's parsers of untrusted bytes with Jazzer (the @FuzzTests of tuna-core), one JVM per
# target, each for a fixed time; inputs over 2 s, or needing more than the fuzz JVM's 1 GB heap, count
# as findings.
#   scripts/fuzz.sh [DURATION] [Class#method ...]      e.g. scripts/fuzz.sh 30s  or  scripts/fuzz.sh 5m
# Prints one line per target (executions, corpus size, result) and exits 1 if any target found a
# crash. Jazzer saves a crashing input as crash-<sha1> in the target's inputs folder,
# tuna-core/src/test/resources/<package>/<Class>Inputs/<method>/, where `mvn test` replays it: fix the
# parser, then keep the input there (or inline it in a unit test) as the regression test.
# The generated corpus grows in tuna-core/.cifuzz-corpus/ (not committed) and is reused by later runs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

duration="${1:-30s}"
[ $# -gt 0 ] && shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(ImageDecoderFuzzTest#decode ImageDecoderFuzzTest#jpegMetadata WeightFileFuzzTest#safetensors
           WeightFileFuzzTest#pthArchive WeightFileFuzzTest#pthPickle ModelJsonFuzzTest#modelJson
           CheckpointManifestFuzzTest#manifest)
fi

mvn -B -o -q -Dstyle.color=never test-compile -pl tuna-core
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0
printf '%-36s %8s %12s %10s %8s  %s\n' target seconds executions "exec/s" corpus result
for target in "${targets[@]}"; do
  class="${target%%#*}"
  method="${target##*#}"
  stats="$work/$class-$method.stats"
  start=$(date +%s)
  if JAZZER_FUZZ=1 mvn -B -o -q -Dstyle.color=never surefire:test@fuzz-tests -pl tuna-core -Dtest="$target" \
      -Djazzer.max_duration="$duration" -Djunit.jupiter.execution.timeout.mode=disabled \
      -Dtuna.fuzz.stats="$stats" > "$work/$class-$method.log" 2>&1; then
    result=ok
  else
    result="FAILED (see below)"
    failed=1
  fi
  seconds=$(( $(date +%s) - start ))
  executions="$(awk -v t="$target" '$1 == t {n += $2} END {print n + 0}' "$stats" 2>/dev/null || echo 0)"
  corpus="$(find tuna-core/.cifuzz-corpus -path "*.$class/$method/*" -type f 2>/dev/null | wc -l)"
  # the fuzzing time is DURATION; the rest of `seconds` is Maven and JVM start-up and the seed replay
  rate="$(awk -v n="$executions" -v d="$duration" 'BEGIN {
      s = d; if (s ~ /m$/) s = s * 60; else if (s ~ /h$/) s = s * 3600; else s = s + 0; printf "%.0f", n / s }')"
  printf '%-36s %8s %12s %10s %8s  %s\n' "$target" "$seconds" "$executions" "$rate" "$corpus" "$result"
  if [ "$result" != ok ]; then
    grep -E "Tests run|FAIL|Exception|Error|crash-|timeout-|==" "$work/$class-$method.log" | head -40 || true
    find tuna-core/src/test/resources -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' | head
  fi
done
exit $failed
