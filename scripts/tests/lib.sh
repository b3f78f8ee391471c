# Helpers for the tests in this directory.  Source it.
# shellcheck shell=bash
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
FIXTURES=$TOP/scripts/tests/fixtures
# git in the tests never starts a background gc or maintenance (git am of a
# QEMU-sized history does): it would still be writing into a temporary
# folder while the test removes it.
export GIT_CONFIG_COUNT=2 GIT_CONFIG_KEY_0=gc.auto GIT_CONFIG_VALUE_0=0 \
    GIT_CONFIG_KEY_1=maintenance.auto GIT_CONFIG_VALUE_1=false

ok() { printf 'ok: %s\n' "$*"; }
not_ok() { printf 'not ok: %s\n' "$*"; exit 1; }

# expect_failure 'PATTERN...' CMD...: CMD must fail and print every PATTERN
# (grep -E), which proves it said what went wrong.
expect_failure() {
    local pats=$1 out rc=0 p
    shift
    out=$("$@" 2>&1) || rc=$?
    printf '%s\n' "$out" | sed 's/^/    > /'
    [ $rc -ne 0 ] || not_ok "'$*' succeeded, but it should have failed"
    while IFS= read -r p; do
        [ -n "$p" ] || continue
        grep -qE -- "$p" <<<"$out" || not_ok "'$*' failed without saying /$p/"
    done <<<"$pats"
    ok "'${*##*/}' fails as it should"
}

# tmpdir VAR: a new temporary folder in VAR, removed when the test exits,
# also when it is interrupted (lib.sh's signal handling runs the EXIT trap).
# It must run in the test's own shell, not in $(...), or the trap would fire
# when that subshell ends.
tmpdir() {
    local _d
    _d=$(mktemp -d "${TMPDIR:-/tmp}/xq-test.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$_d'" EXIT
    printf -v "$1" '%s' "$_d"
}

# check_file PATH 'file(1) pattern'
check_file() {
    local rel=${1#"$OUT"/}
    [ -e "$1" ] || not_ok "missing: $rel"
    file -L "$1" | grep -qE "$2" || not_ok "$rel is not $2: $(file -L "$1")"
    ok "$rel: $2"
}

# check_dist ARCH: dist/ARCH holds what a dom0 needs, for ARCH, and the
# FLASK policy.
check_dist() {
    local d=$OUT/dist/$1 m f pol
    case $1 in x86_64) m='x86-64' ;; arm64) m='ARM aarch64' ;; esac
    for f in usr/sbin/xl usr/sbin/xenstored usr/sbin/xenconsoled usr/sbin/flask-getenforce \
             usr/lib/xen/bin/xen-init-dom0 usr/lib/xen/bin/libxl-save-helper \
             usr/lib/libxenlight.so usr/lib/libxenctrl.so; do
        check_file "$d/$f" "ELF 64-bit .*$m"
    done
    [ -x "$d/etc/xen/scripts/vif-bridge" ] || not_ok "$1: no hotplug scripts"
    pol=$(ls "$d"/boot/xenpolicy-* | head -n 1)
    check_file "$pol" 'SE Linux policy|data'
    head -c 8 "$pol" | od -An -tx1 | grep -q '8c ff 7c f9' || not_ok "$pol is not a FLASK policy"
    ok "$1: FLASK policy ${pol##*/}"
}

# Results of the tests that only transform the queue (export, mails,
# source packages, the series' lint), try the tooling on fixtures or run
# unit-test binaries are kept by the key of everything they read: the
# test, the scripts, the pins of the base set, the series and every patch,
# and the tools' versions.  cached_pass FILE...: if a run with the same
# key passed, say so and exit 0 (the test is not run again: its result
# could not differ); else remember the key for record_pass, the test's
# last command.  An argument tool:NAME adds the version of tool NAME to
# the key, tree:DIR every file under DIR (and its mode); XQ_TEST_KEY_EXTRA
# adds its value (an input no file holds, such as the day).
# XQ_NO_TEST_CACHE=1 runs every test.
cached_pass() {
    local name=${0##*/} a trees=()
    RESULT_KEY=$( {
        echo "$BASE_SET ${XQ_TEST_KEY_EXTRA:-}"
        file_hashes "$0" "$TOP/scripts/lib.sh" "$TOP/scripts/tests/lib.sh" "$BASES" "$PINS_DIR/bases"
        toolchain git quilt tar xz
        for a; do
            case "$a" in
                tool:*) toolchain "${a#tool:}" ;;
                tree:*) trees+=("${a#tree:}") ;;
                *) file_hashes "$a" ;;
            esac
        done
        tree_hashes "${trees[@]}" "$SERIES_DIR" "$PATCHES_DIR"
    } | sha256sum | cut -c1-32)
    RESULT_STAMP=$CACHE/test-results/$name-$BASE_SET-$RESULT_KEY
    if [ -z "${XQ_NO_TEST_CACHE:-}" ] && [ -f "$RESULT_STAMP" ]; then
        ok "cached: passed on $(cat "$RESULT_STAMP") with exactly these inputs (XQ_NO_TEST_CACHE=1 runs it again)"
        exit 0
    fi
}
record_pass() {
    mkdir -p "${RESULT_STAMP%/*}"
    date -u +%FT%TZ >"$RESULT_STAMP"
}
