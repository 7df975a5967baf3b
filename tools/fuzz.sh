#!/bin/bash
# Runs the libFuzzer targets built by "tools/unit.sh ... fuzz", JOBS at a
# time, each for SECONDS from its seeds (t/fuzz/<target>/) and dictionary
# (t/fuzz/<target>.dict), keeping new inputs in corpus/<target>:
#
#   tools/fuzz.sh FUZZ_DIR SECONDS JOBS TARGET...
#
# FUZZ_SEED=N in the environment makes each run repeat itself (CI's), so
# that the same commit passes or fails alike; without it each run looks
# somewhere new.
#
# Each target's output goes to FUZZ_DIR/<target>.log; its last lines are
# printed when it ends.  A finding (crash, leak, timeout, a broken
# invariant) fails the run, and libFuzzer leaves its input in FUZZ_DIR.

set -eu

DIR=$1
SECONDS_EACH=$2
JOBS=$3
shift 3

ROOT=$(cd "$(dirname "$0")/.." && pwd)

cd "$DIR"

run() {
    local t=$1 dict=$ROOT/t/fuzz/$1.dict rc=0

    mkdir -p "corpus/$t"

    ./ngx_http_ir_fuzz_$t -max_total_time="$SECONDS_EACH" -timeout=10 \
        -print_final_stats=1 $(test -f "$dict" && echo "-dict=$dict") \
        ${FUZZ_SEED:+-seed=$FUZZ_SEED} \
        "corpus/$t" "$ROOT/t/fuzz/$t" > "$t.log" 2>&1 || rc=$?

    if [ $rc -ne 0 ]; then
        echo "fuzz: $t FAILED (exit $rc), $DIR/$t.log:"
        tail -40 "$t.log"
        return 1
    fi

    echo "fuzz: $t: $(grep -E '^Done [0-9]+ runs' "$t.log" | tail -1)," \
         "no finding"
}

export -f run
export ROOT SECONDS_EACH DIR

printf '%s\n' "$@" | xargs -P "$JOBS" -I{} bash -c 'run {}'
