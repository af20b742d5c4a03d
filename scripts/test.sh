#!/usr/bin/env bash
# pgha's test command: builds and tests the whole Maven reactor (`mvn -B -ntp verify`).
#
#   ./scripts/test.sh                              everything, as CI runs it
#   ./scripts/test.sh -Dpgha.sim.schedules=500     extra arguments go to Maven
#
# Needs Java 17+ and Maven; checks the PostgreSQL 15, etcd and other binaries with ./scripts/deps.sh, which
# installs them when run as root on Debian and otherwise says what to install.
#
# Maven may run as root (CI does). PostgreSQL's server binaries refuse root; the test fixtures detect
# uid 0 and run them through `runuser -u postgres --` in temp directories owned by that user, so
# nothing here has to switch users or chown the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

check_java_and_maven
scripts/deps.sh
mvn -B -ntp verify "$@"
