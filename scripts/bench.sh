#!/usr/bin/env bash
# pgha's benchmarks (not part of the test command; they build with it).
#
#   ./scripts/bench.sh failover [options]   the failover bench: three agents as separate JVMs with
#                                           real PostgreSQL 15 over a real etcd; host loss, postmaster
#                                           crash (primary_start_timeout 0 and 300), planned switchover,
#                                           each timed to an accepted INSERT, then etcd requests, CPU
#                                           and memory of a healthy idle cluster. Prints min / median /
#                                           max. Options (defaults): --repetitions 5 --ttl 10
#                                           --loop-wait 1 --retry-timeout 3 --idle-seconds 30.
#                                           About 8 minutes with the defaults.
#
# Needs Java 17+ and Maven, and the PostgreSQL 15 and etcd binaries (./scripts/deps.sh installs them
# as root on Debian). Everything it starts lives under /tmp/pgha-* and is killed and deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

usage() {
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[ $# -ge 1 ] || usage
command=$1
shift
case "$command" in
    failover)
        check_java_and_maven
        scripts/deps.sh
        mvn -B -ntp -q -pl examples -am install -DskipTests
        # exec:exec forks a JVM with the module's class path, which the bench hands on to the agents
        exec mvn -B -ntp -q -pl examples exec:exec -Dexec.executable=java \
            -Dexec.args="-cp %classpath dev.pgha.examples.FailoverBench $*"
        ;;
    *)
        usage
        ;;
esac
