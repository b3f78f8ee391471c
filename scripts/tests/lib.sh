# Helpers for the tests in this directory.  Source it.
# shellcheck shell=bash
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
FIXTURES=$TOP/scripts/tests/fixtures

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

tmpdir() {
    local d
    d=$(mktemp -d "${TMPDIR:-/tmp}/xq-test.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$d'" EXIT
    printf '%s\n' "$d"
}
