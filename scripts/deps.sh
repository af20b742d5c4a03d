#!/usr/bin/env bash
# Makes sure the system binaries the tests use are present: the PostgreSQL 15 server binaries, etcd,
# Patroni's patronictl (the etcd adapter's interoperability test), Prometheus' promtool (the REST
# API's metrics test) and HAProxy (HaproxyRoutingTest: a client writing through HAProxy reaches the
# primary), from Debian's postgresql-15, etcd-server, etcd-client, patroni, prometheus and haproxy
# packages. Debian installs haproxy in /usr/sbin, which a non-root PATH may lack: it is looked for
# there too, as the tests do.
#
# - Everything present: prints one line and succeeds.
# - Something missing, running as root on Debian: one `apt-get update`, then one `apt-get install`.
# - Something missing otherwise: names each missing binary and the apt command to run, and fails.
#
# Running as root is fine. PostgreSQL refuses to run as root, so when the tests run as root the
# fixtures start the server binaries through `runuser -u postgres --`; that needs runuser
# (util-linux) and the postgres user (created by the postgresql-15 packages), checked here too.
#
# With --postgres (what ./scripts/demo.sh uses) only the PostgreSQL side is checked and installed.
set -euo pipefail

POSTGRES_ONLY=false
if [ "${1:-}" = "--postgres" ]; then
    POSTGRES_ONLY=true
    PACKAGES=(postgresql-15)
else
    PACKAGES=(postgresql-15 etcd-server etcd-client patroni prometheus haproxy)
fi
APT_COMMAND="apt-get update && apt-get install -y --no-install-recommends ${PACKAGES[*]}"

missing_binaries() {
    if [ "$POSTGRES_ONLY" = false ]; then
        command -v etcd >/dev/null 2>&1 || echo "etcd (package etcd-server)"
        command -v etcdctl >/dev/null 2>&1 || echo "etcdctl (package etcd-client)"
        command -v patronictl >/dev/null 2>&1 || echo "patronictl (package patroni)"
        command -v promtool >/dev/null 2>&1 || echo "promtool (package prometheus)"
        command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || echo "haproxy (package haproxy)"
    fi
    local bindir=""
    if command -v pg_config >/dev/null 2>&1; then
        bindir=$(pg_config --bindir 2>/dev/null || true)
    fi
    if [ -z "$bindir" ]; then
        echo "pg_config (package postgresql-15, via postgresql-common)"
    else
        local bin
        for bin in initdb pg_ctl postgres pg_controldata pg_rewind pg_basebackup psql pg_waldump; do
            [ -x "$bindir/$bin" ] || echo "$bindir/$bin (package postgresql-15)"
        done
    fi
    if [ "$(id -u)" -eq 0 ]; then
        command -v runuser >/dev/null 2>&1 || echo "runuser (package util-linux)"
        id -u postgres >/dev/null 2>&1 || echo "the postgres user (package postgresql-15, via postgresql-common)"
    fi
}

report() {
    echo "Missing:" >&2
    printf '  - %s\n' "$@" >&2
}

haproxy_binary() {
    command -v haproxy 2>/dev/null || echo /usr/sbin/haproxy
}

present() {
    if [ "$POSTGRES_ONLY" = true ]; then
        echo "PostgreSQL server binaries in $(pg_config --bindir)"
    else
        echo "PostgreSQL server binaries in $(pg_config --bindir), $(command -v etcd), $(command -v patronictl), $(command -v promtool), $(haproxy_binary)"
    fi
}

mapfile -t missing < <(missing_binaries)
if [ "${#missing[@]}" -eq 0 ]; then
    echo "System packages present: $(present)."
    exit 0
fi

report "${missing[@]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "Install them as root:  sudo sh -c '$APT_COMMAND'" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    if [ "$POSTGRES_ONLY" = true ]; then
        echo "This is not a Debian-like system (no apt-get): install the PostgreSQL 15 server binaries by hand." >&2
    else
        echo "This is not a Debian-like system (no apt-get): install PostgreSQL 15, etcd 3.4+, Patroni 3 (patronictl), Prometheus (promtool) and HAProxy by hand." >&2
    fi
    exit 1
fi

echo "Installing ${PACKAGES[*]} ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"

mapfile -t missing < <(missing_binaries)
if [ "${#missing[@]}" -ne 0 ]; then
    report "${missing[@]}"
    echo "They are still missing after '$APT_COMMAND'." >&2
    exit 1
fi
echo "System packages installed: $(present)."
