# Shared helpers for the scripts in this directory.  Source it; do not run it.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG=${0##*/}

# abspath PATH: PATH made absolute against the current directory (the
# scripts change directory; CI passes paths relative to the project).
abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

# Downloads and other reusable state.  Override with XQ_CACHE.
CACHE=$(abspath "${XQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xen-qemu-queue}")
# Build trees, built artefacts, logs and reports.  Override with XQ_OUT.
OUT=$(abspath "${XQ_OUT:-$TOP/out}")
# Stage times, and the JUnit XML of scripts/check (CI jobs give each their own).
TIMINGS=$(abspath "${XQ_TIMINGS:-$OUT/timings.tsv}")
JUNIT=$(abspath "${XQ_JUNIT:-$OUT/junit.xml}")
[ -z "${CCACHE_DIR:-}" ] || CCACHE_DIR=$(abspath "$CCACHE_DIR")
# The patch queue; overridable so that tests can feed fixtures.
SERIES_DIR=${XQ_SERIES_DIR:-$TOP/series}
PATCHES_DIR=${XQ_PATCHES_DIR:-$TOP/patches}
PINS_DIR=${XQ_PINS_DIR:-$TOP/pins}

msg() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

need() {
    local t missing=()
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || missing+=("$t")
    done
    [ ${#missing[@]} -eq 0 ] ||
        die "missing tool(s): ${missing[*]}; run 'make setup' (as root) first"
}

# stage NAME CMD...: run CMD in a subshell, with errexit in force (a plain
# 'CMD || rc=$?' would switch it off inside CMD), and record its wall time
# in $TIMINGS.
stage() {
    local name=$1 t0 t1 rc=0
    shift
    mkdir -p "$OUT" "${TIMINGS%/*}"
    msg "[$name] start"
    t0=$(date +%s.%N)
    "$@" <&0 &
    wait $! || rc=$?
    t1=$(date +%s.%N)
    printf '%s\t%s\t%.1f\t%s\n' "$(date -u +%FT%TZ)" "$name" \
        "$(echo "$t1 - $t0" | bc)" "$rc" >>"$TIMINGS"
    msg "[$name] done in $(printf '%.1f' "$(echo "$t1 - $t0" | bc)")s (rc=$rc)"
    return $rc
}

# run_logged LOG CMD...: run CMD with output to LOG, report progress each minute,
# and show the tail of LOG if it fails.
run_logged() {
    local log=$1 pid rc=0 n=0
    shift
    mkdir -p "$(dirname "$log")"
    "$@" >"$log" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        n=$((n + 1))
        [ $((n % 60)) -ne 0 ] ||
            msg "  ... $((n / 60)) min, $(wc -l <"$log") lines of log ($log)"
    done
    wait "$pid" || rc=$?
    if [ $rc -ne 0 ]; then
        tail -n 40 "$log" >&2
        msg "failed (rc=$rc), full log: $log"
    fi
    return $rc
}

# pinned_deb PACKAGE VERSION ARCH: the file name of a pins/debs row in the
# download cache (no epoch).
pinned_deb() { printf '%s_%s_%s.deb\n' "$1" "${2#*:}" "$3"; }

# ci_local_dir: where scripts/setup-host installs gitlab-ci-local, keyed by
# ci/package-lock.json (so that clones share it).
ci_local_dir() {
    printf '%s/gitlab-ci-local/%s\n' "$CACHE" \
        "$(cat "$TOP/ci/package.json" "$TOP/ci/package-lock.json" | sha256sum | cut -c1-16)"
}
