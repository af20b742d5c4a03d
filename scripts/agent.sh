#!/usr/bin/env bash
# Runs pgha's agent (dev.pgha.agent.Agent) from this checkout.
#
#   ./scripts/agent.sh patroni.yml             run the agent; SIGTERM or Ctrl-C = graceful shutdown
#   ./scripts/agent.sh list patroni.yml        print the cluster like patronictl list
#   (a *.yml/*.yaml file, or a properties file with the same dotted keys)
#
# Installs the modules into the local Maven repository first (like demo.sh), then runs the agent
# in Maven's JVM (exec:java). The settings file is described in the README ("The agent"). An installed
# agent runs from the distribution instead: bin/pgha (mvn package -pl agent -am builds the tarball).
set -euo pipefail
args=()
for a in "$@"; do
    if [ -e "$a" ]; then
        a=$(realpath "$a")
    fi
    args+=("$a")
done
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

check_java_and_maven
mvn -B -ntp -q -pl agent -am install -DskipTests
exec mvn -B -ntp -q -pl agent exec:java -Dexec.mainClass=dev.pgha.agent.Agent -Dexec.args="${args[*]}"
