#!/usr/bin/env bash
# pgha's benchmarks.
#
#   ./scripts/bench.sh jmh [JMH args]   JMH benchmarks of the engine on the in-memory DCS and fake
#                                       PostgreSQL (module benchmarks): cycle cost with allocation per
#                                       cycle (-prof gc), leader race with 3/5/50 members, simulation
#                                       throughput. About 2 minutes on 2 cores with the defaults below,
#                                       plus the build.
#
# Extra arguments go to JMH; an option given there replaces its default (JMH takes each option once), e.g.
#   ./scripts/bench.sh jmh CycleCost                     only the benchmarks matching a regexp
#   ./scripts/bench.sh jmh -wi 1 -i 1 -r 1s              a quick look
#   ./scripts/bench.sh jmh -p members=50 LeaderRace      one parameter value
#   ./scripts/bench.sh jmh -h                            JMH's own help
#
# Needs Java 17+ and Maven. Builds only the benchmarks module and what it depends on (no install:
# the local Maven repository stays untouched) and runs JMH from target/ with the classpath Maven
# wrote there.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# Option/value pairs: one fork, 3 warm-up iterations of 2 s, 5 measured iterations of 2 s per
# benchmark and parameter, and the GC profiler (gc.alloc.rate.norm: bytes allocated per op).
JMH_DEFAULTS=(-f 1 -wi 3 -w 2s -i 5 -r 2s -prof gc)

usage() {
    cat >&2 <<'USAGE'
usage: ./scripts/bench.sh jmh [JMH args]   engine benchmarks (JMH); extra args go to JMH
USAGE
    exit 2
}

run_jmh() {
    check_java_and_maven
    mvn -B -ntp -q -pl benchmarks -am package -DskipTests
    local java_cmd=java
    if [ -n "${JAVA_HOME:-}" ]; then
        java_cmd="$JAVA_HOME/bin/java"
    fi
    # The defaults whose option the caller did not give.
    local defaults=() i arg given
    for ((i = 0; i < ${#JMH_DEFAULTS[@]}; i += 2)); do
        given=no
        for arg in "$@"; do
            if [ "$arg" = "${JMH_DEFAULTS[i]}" ]; then
                given=yes
            fi
        done
        if [ "$given" = no ]; then
            defaults+=("${JMH_DEFAULTS[i]}" "${JMH_DEFAULTS[i + 1]}")
        fi
    done
    exec "$java_cmd" -cp "benchmarks/target/classes:$(cat benchmarks/target/benchmarks.classpath)" \
        org.openjdk.jmh.Main "${defaults[@]}" "$@"
}

case "${1:-}" in
    jmh) shift; run_jmh "$@" ;;
    *) usage ;;
esac
