#!/usr/bin/env bash
# Mutation testing of the HA engine with PIT (not part of the test command).
#
#   ./scripts/mutation.sh                          the whole engine, 2 threads (~2.5 minutes on 2 cores)
#   ./scripts/mutation.sh --classes Events,Divergence     only these engine units, while iterating
#   ./scripts/mutation.sh --report                 only print the table of the last run
#
# Options (defaults):
#   --min-total PCT     fail when under PCT % of all mutants are killed (85)
#   --min-class PCT     fail when any class has under PCT % killed (70)
#   --threads N         PIT's worker threads (2; the machine has 2 cores shared by several people)
#   --schedules N       seeded fault schedules the simulation runs per mutant (40)
#   --timeout-ms N      PIT's timeoutConstant: a mutant whose tests take longer than 1.25 x their
#                       normal time plus N ms counts as killed by a time-out (3000)
#   --classes A,B       mutate only these units (simple names, e.g. Election,Divergence)
#   --tests GLOBS       run only the tests matching these PIT globs (comma-separated), e.g.
#                       'dev.pgha.ElectionTest' or 'dev.pgha.scenarios.*'
#   --survivors         also list every surviving mutant (file:line, mutator, what it changed)
#   --report            do not run PIT, only read the last run's report
# Anything after `--` goes to Maven.
#
# What it runs: the Maven profile `mutation` of module src-test-fixtures (see its pom), through
#   mvn -B -ntp -Pmutation -pl src-test-fixtures -am process-test-classes
# which compiles core, dcs-inmemory and src-test-fixtures with their tests (no surefire run, no
# install) and runs PIT in src-test-fixtures with core's engine classes as the mutable code
# (crossModule) and the fast tests only: the scenario tests, the simulation with a few schedules,
# and core's own tests in package dev.pgha. The engine's units are the package-private classes
# of dev.pgha listed in the profile (HaEngine, Node, Election, Divergence, ...); the public API and
# value types, dev.pgha.postgres.local, fencing, cluster and dcs are not mutated. Nothing else is
# excluded from the run: every mutant PIT makes in those classes with its default mutators counts.
#
# Then it reads PIT's mutations.xml (src-test-fixtures/target/pit-reports/, next to the HTML
# report) and prints killed/total and % per class, sorted from the weakest, and the total.
# "Killed" is what PIT calls detected: killed by a failing test, or by a time-out or a memory
# error of the mutant. Exit status: 0 when the thresholds hold, 1 when the score is under one of
# them, 2 on bad usage, and Maven's status when the build or PIT failed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

MIN_TOTAL=85
MIN_CLASS=70
THREADS=2
SCHEDULES=40
TIMEOUT_MS=3000
CLASSES=""
TESTS=""
SURVIVORS=no
REPORT_ONLY=no
MAVEN_ARGS=()
REPORT_DIR=src-test-fixtures/target/pit-reports
LOG=src-test-fixtures/target/mutation.log

usage() {
    sed -n '2,/^# Anything after/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

number() {
    [[ "$2" =~ ^[0-9]+([.][0-9]+)?$ ]] || { printf 'error: %s needs a number, got "%s"\n' "$1" "$2" >&2; exit 2; }
}

while [ $# -gt 0 ]; do
    case "$1" in
        --min-total) number "$1" "${2:-}"; MIN_TOTAL=$2; shift 2 ;;
        --min-class) number "$1" "${2:-}"; MIN_CLASS=$2; shift 2 ;;
        --threads) number "$1" "${2:-}"; THREADS=$2; shift 2 ;;
        --schedules) number "$1" "${2:-}"; SCHEDULES=$2; shift 2 ;;
        --timeout-ms) number "$1" "${2:-}"; TIMEOUT_MS=$2; shift 2 ;;
        --classes) CLASSES=${2:-}; [ -n "$CLASSES" ] || usage; shift 2 ;;
        --tests) TESTS=${2:-}; [ -n "$TESTS" ] || usage; shift 2 ;;
        --survivors) SURVIVORS=yes; shift ;;
        --report) REPORT_ONLY=yes; shift ;;
        --) shift; MAVEN_ARGS+=("$@"); break ;;
        -h|--help) usage ;;
        *) printf 'error: unknown option %s\n' "$1" >&2; usage ;;
    esac
done

SECONDS=0
if [ "$REPORT_ONLY" = no ]; then
    check_java_and_maven
    command -v python3 >/dev/null 2>&1 || die "python3 not found; it reads PIT's report (Debian: apt-get install python3)."
    props=(-Dpgha.pit.threads="$THREADS" -Dpgha.pit.sim.schedules="$SCHEDULES"
        -Dpgha.pit.timeoutConstant="$TIMEOUT_MS")
    if [ -n "$CLASSES" ]; then
        [[ "$CLASSES" =~ ^[A-Za-z][A-Za-z0-9]*(,[A-Za-z][A-Za-z0-9]*)*$ ]] \
            || die "--classes takes simple class names separated by commas, got \"$CLASSES\""
        # The same form as the profile's default: a PIT regex glob, the classes and their nested ones.
        props+=(-Dpgha.pit.targetClasses="~dev\\.pgha\\.(${CLASSES//,/|})(\\\$.*)?")
    fi
    if [ -n "$TESTS" ]; then
        props+=(-Dpgha.pit.targetTests="$TESTS")
    fi
    mkdir -p "$(dirname "$LOG")"
    echo "Running PIT on the engine (threads $THREADS, $SCHEDULES simulation schedules); log: $LOG"
    rm -rf "$REPORT_DIR"
    status=0
    mvn -B -ntp -Pmutation -pl src-test-fixtures -am process-test-classes "${props[@]}" \
        ${MAVEN_ARGS[@]+"${MAVEN_ARGS[@]}"} >"$LOG" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        grep -E '^\[ERROR\]|SEVERE' "$LOG" | head -40 >&2 || true
        printf 'error: the PIT run failed (status %d); see %s\n' "$status" "$LOG" >&2
        exit "$status"
    fi
    printf 'PIT ran in %dm%02ds.\n' $((SECONDS / 60)) $((SECONDS % 60))
fi

[ -f "$REPORT_DIR/mutations.xml" ] || die "no report at $REPORT_DIR/mutations.xml; run without --report first"

python3 - "$REPORT_DIR/mutations.xml" "$MIN_TOTAL" "$MIN_CLASS" "$SURVIVORS" <<'PY'
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict

report, min_total, min_class, survivors = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "yes"
mutations = ET.parse(report).getroot().findall("mutation")
per_class = defaultdict(lambda: {"killed": 0, "total": 0, "survived": 0, "uncovered": 0})
left = []
for m in mutations:
    # Nested classes and lambdas count for the class of their source file.
    cls = m.findtext("mutatedClass").split("$")[0]
    row = per_class[cls]
    row["total"] += 1
    status = m.get("status")
    if m.get("detected") == "true":
        row["killed"] += 1
    else:
        row["survived" if status == "SURVIVED" else "uncovered"] += 1
        left.append((cls, int(m.findtext("lineNumber")), m.findtext("sourceFile"), status,
                     m.findtext("mutator").rsplit(".", 1)[-1], m.findtext("description"),
                     m.findtext("mutatedMethod")))

def pct(killed, total):
    return 100.0 * killed / total if total else 100.0

rows = sorted(per_class.items(), key=lambda kv: (pct(kv[1]["killed"], kv[1]["total"]), kv[0]))
killed = sum(r["killed"] for _, r in rows)
total = sum(r["total"] for _, r in rows)
width = max([len("class")] + [len(c) for c, _ in rows])
line = "-" * (width + 43)
print()
print(f"{'class':<{width}}  {'killed/total':>12}  {'%':>6}  {'survived':>8}  {'no cov.':>7}")
print(line)
failed = []
for cls, r in rows:
    p = pct(r["killed"], r["total"])
    mark = ""
    if p < min_class:
        mark = f"  < {min_class:g}%"
        failed.append(f"{cls} {p:.1f}% < {min_class:g}%")
    print(f"{cls:<{width}}  {r['killed']:>5}/{r['total']:<6}  {p:>5.1f}%  {r['survived']:>8}  {r['uncovered']:>7}{mark}")
print(line)
p = pct(killed, total)
print(f"{'total':<{width}}  {killed:>5}/{total:<6}  {p:>5.1f}%  "
      f"{sum(r['survived'] for _, r in rows):>8}  {sum(r['uncovered'] for _, r in rows):>7}")
if p < min_total:
    failed.append(f"total {p:.1f}% < {min_total:g}%")

if survivors and left:
    print()
    print("Mutants not killed:")
    for cls, ln, src, status, mutator, desc, method in sorted(left):
        print(f"  {src}:{ln} {method}: {mutator}: {desc}{'' if status == 'SURVIVED' else ' (' + status + ')'}")

print()
if failed:
    print("Mutation score under the thresholds: " + "; ".join(failed))
    sys.exit(1)
print(f"Mutation score {p:.1f}% (at least {min_total:g}% in total, {min_class:g}% per class).")
PY
