#!/usr/bin/env bash
# pgha's benchmarks (not part of the test command; they build with it).
#
#   ./scripts/bench.sh jmh [JMH args]       JMH benchmarks of the engine on the in-memory DCS and fake
#                                           PostgreSQL (module benchmarks): cycle cost with allocation
#                                           per cycle (-prof gc), leader race with 3/5/50 members,
#                                           simulation throughput. About 2 minutes on 2 cores with the
#                                           defaults below, plus the build.
#   ./scripts/bench.sh failover [options]   the failover bench: three agents as separate JVMs with
#                                           real PostgreSQL 15 over a real etcd; host loss, postmaster
#                                           crash (primary_start_timeout 0 and 300), planned switchover,
#                                           each timed to an accepted INSERT, then etcd requests, CPU
#                                           and memory of a healthy idle cluster. Prints min / median /
#                                           max. Options (defaults): --repetitions 5 --ttl 10
#                                           --loop-wait 1 --retry-timeout 3 --idle-seconds 30
#                                           --warm-up-seconds 60 (before the idle figures: the JIT
#                                           compiles the cycle's code in that time).
#                                           --only host-loss,crash,switchover,commit,idle picks
#                                           sections. About 9 minutes with the defaults.
#                                           --against patroni: the same faults (not the commit
#                                           latency) also on three Patroni 3.0.2 agents with the
#                                           same settings, the systems taking turns repetition by
#                                           repetition; prints both systems' min / median / max
#                                           and the ratio of the medians (pgha / Patroni). Takes
#                                           longer: every fault is done twice.
#
# Extra arguments to jmh go to JMH; an option given there replaces its default (JMH takes each option
# once), e.g.
#   ./scripts/bench.sh jmh CycleCost                     only the benchmarks matching a regexp
#   ./scripts/bench.sh jmh -wi 1 -i 1 -r 1s              a quick look
#   ./scripts/bench.sh jmh -p members=50 LeaderRace      one parameter value
#   ./scripts/bench.sh jmh -h                            JMH's own help
#
# Needs Java 17+ and Maven; failover also needs the PostgreSQL 15 and etcd binaries, and with
# --against patroni Patroni's patroni and patronictl (./scripts/deps.sh installs them as root on
# Debian). jmh builds only the benchmarks module and what it depends on (no install) and runs JMH
# from target/; failover runs from this checkout's jars, not from ~/.m2. Everything failover starts lives under /tmp/pgha-* and is
# killed and deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# Option/value pairs: one fork, 3 warm-up iterations of 2 s, 5 measured iterations of 2 s per
# benchmark and parameter, and the GC profiler (gc.alloc.rate.norm: bytes allocated per op).
JMH_DEFAULTS=(-f 1 -wi 3 -w 2s -i 5 -r 2s -prof gc)

usage() {
    cat >&2 <<'USAGE'
usage: ./scripts/bench.sh jmh [JMH args]       engine benchmarks (JMH); extra args go to JMH
       ./scripts/bench.sh failover [options]   failover bench on real PostgreSQL + etcd
                                               (--repetitions 5 --ttl 10 --loop-wait 1
                                                --retry-timeout 3 --idle-seconds 30
                                                --warm-up-seconds 60 [--only SECTIONS]
                                                [--against patroni])
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

run_failover() {
    check_java_and_maven
    scripts/deps.sh
    # Built in one reactor, with the class path of this checkout's own jars (not ~/.m2's copies,
    # which another build may replace during the run); the bench hands it on to the agents.
    mvn -B -ntp -q -pl examples -am package dependency:build-classpath -DskipTests \
        -Dmdep.outputFile=target/bench.classpath
    local java_cmd=java
    if [ -n "${JAVA_HOME:-}" ]; then
        java_cmd="$JAVA_HOME/bin/java"
    fi
    # the distribution, for the switchover command as installed (--against patroni)
    local dist
    dist=$(ls agent/target/pgha-agent-*-dist.tar.gz | head -n 1)
    exec "$java_cmd" -Dpgha.dist="$PWD/$dist" -cp "examples/target/classes:$(cat examples/target/bench.classpath)" \
        dev.pgha.examples.FailoverBench "$@"
}

case "${1:-}" in
    jmh) shift; run_jmh "$@" ;;
    failover) shift; run_failover "$@" ;;
    *) usage ;;
esac
