# Shared helpers for the scripts in this directory.  Source it; do not run it.
# shellcheck shell=bash

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROG=${0##*/}

# abspath PATH: PATH made absolute against the current directory (the
# scripts change directory; CI passes paths relative to the project).
abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

# Downloads and other reusable state.  Override with XQ_CACHE.
CACHE=$(abspath "${XQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xen-qemu-queue}")
PINS_DIR=${XQ_PINS_DIR:-$TOP/pins}
# Base sets: the upstream trees the queue applies to.  pins/bases pins the
# first, "trixie" (Debian stable's packages); pins/bases.NAME pins set NAME
# ("latest": the newest upstream releases).  XQ_BASE (make BASE=NAME)
# selects one; patches/TREE/NAME/ holds the patches that set needs in
# another form (see patch_path).
BASE_SET=${XQ_BASE:-trixie}
case "$BASE_SET" in
    trixie) BASES=$PINS_DIR/bases ;;
    *[!a-z0-9-]*|'') printf '%s: error: bad base set name %s\n' "${0##*/}" "'$BASE_SET'" >&2; exit 2 ;;
    *) BASES=$PINS_DIR/bases.$BASE_SET ;;
esac
# Build trees, built artefacts, logs and reports: out/ for the first set,
# out/NAME/ for another.  Override with XQ_OUT.
if [ "$BASE_SET" = trixie ]; then
    OUT=$(abspath "${XQ_OUT:-$TOP/out}")
else
    OUT=$(abspath "${XQ_OUT:-$TOP/out/$BASE_SET}")
fi
# Stage times, and the JUnit XML of scripts/check (CI jobs give each their own).
TIMINGS=$(abspath "${XQ_TIMINGS:-$OUT/timings.tsv}")
JUNIT=$(abspath "${XQ_JUNIT:-$OUT/junit.xml}")
[ -z "${CCACHE_DIR:-}" ] || CCACHE_DIR=$(abspath "$CCACHE_DIR")
# QEMU's unit tests that our series adds: scripts/build builds them (and no
# other test), scripts/tests/22-qemu-unit runs them.
QEMU_UNIT_TESTS=(test-token-bucket test-xen-platform-log)
# The patch queue; overridable so that tests can feed fixtures.
SERIES_DIR=${XQ_SERIES_DIR:-$TOP/series}
PATCHES_DIR=${XQ_PATCHES_DIR:-$TOP/patches}

msg() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

# Signals: a script interrupted by SIGINT, SIGTERM or SIGHUP first stops
# every process it started (builds, boots, tests: the whole tree below it,
# whatever their process groups), removes what it registered in CLEANUP, and
# then dies of the same signal, so that its caller sees why.  Background
# workers (stage, run_logged) would otherwise outlive it.
CLEANUP=()
descendants() {
    local p
    for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        descendants "$p"
        echo "$p"
    done
}
on_signal() {
    local pids round me=$BASHPID
    trap '' INT TERM HUP
    for round in 1 2 3; do
        pids=$(descendants "$me")
        [ -n "$pids" ] || break
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null || true
        sleep 1
    done
    pids=$(descendants "$me")
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
    [ ${#CLEANUP[@]} -eq 0 ] || rm -rf -- "${CLEANUP[@]}"
    printf '%s: interrupted (SIG%s): stopped what it had started\n' "$PROG" "$1" >&2
    trap - "$1"
    kill -"$1" "$me"
}
for _sig in INT TERM HUP; do
    # shellcheck disable=SC2064
    trap "on_signal $_sig" "$_sig"
done
unset _sig

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

# Keys: a prepared tree, a build and the images are re-used while the key of
# their declared inputs is unchanged, so that deciding to skip costs
# milliseconds.  Keys hash contents, never paths: the same inputs give the
# same key whichever way a script was called and wherever the clone is.
# cpio_gz DIR FILE: pack DIR as a newc initramfs owned by root.
cpio_gz() { (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$2"; }

# file_hashes FILE...: "sha256 basename" per file.
file_hashes() {
    [ $# -gt 0 ] || return 0
    { sha256sum -- "$@" || true; } | awk '{ h = $1; sub(/^[^ ]*  /, ""); sub(/.*\//, ""); print h, $0 }'
}
# tree_hashes DIR...: every file under the DIRs, by its checksum, its mode
# and its path (below $TOP if there), in one sorted list; one find and one
# sha256sum for all, not a few processes per file.
tree_hashes() {
    [ $# -gt 0 ] || return 0
    { find "$@" -type f -printf '%m %p\n'; find "$@" -type f -print0 | xargs -0 -r sha256sum; } |
        awk -v t="$TOP/" '{ i = index($0, t); if (i) $0 = substr($0, 1, i - 1) substr($0, i + length(t)); print }' |
        LC_ALL=C sort
}
# toolchain TOOL...: the version line of each tool (a compiler upgrade
# changes the key).
toolchain() {
    local t
    for t; do printf '%s: %s\n' "$t" "$("$t" --version 2>/dev/null | head -n 1)"; done
}

# series_patches SERIES: the patch names a quilt series file lists.
series_patches() { sed -e 's/#.*//' "$1" | awk 'NF { print $1 }'; }

# base_sets: the names of the base sets pins/ defines, the first first.
base_sets() {
    local f
    echo trixie
    for f in "$PINS_DIR"/bases.*; do
        [ -f "$f" ] && [[ ${f##*.} =~ ^[a-z0-9-]+$ ]] && echo "${f##*.}"
    done
    return 0
}

# out_of SET: the output directory of base set SET, beside this one's
# (out/ for the first set, out/SET/ for another).
out_of() {
    local root=$OUT
    [ "$BASE_SET" = trixie ] || root=${OUT%/"$BASE_SET"}
    if [ "$1" = trixie ]; then printf '%s\n' "$root"; else printf '%s\n' "$root/$1"; fi
}

# patch_path TREE NAME: the file of patch NAME for the selected base set:
# patches/TREE/SET/NAME when that set needs another form of it (a variant:
# the same change, refreshed for that base; scripts/lint-series checks
# that), else patches/TREE/NAME.
patch_path() {
    if [ -f "$PATCHES_DIR/$1/$BASE_SET/$2" ]; then
        printf '%s\n' "$PATCHES_DIR/$1/$BASE_SET/$2"
    else
        printf '%s\n' "$PATCHES_DIR/$1/$2"
    fi
}

# set_own_patches TREE: the fixes only the selected base set needs, which
# patches/TREE/SET/series lists (their files beside it); none for most sets.
set_own_patches() {
    [ ! -f "$PATCHES_DIR/$1/$BASE_SET/series" ] || series_patches "$PATCHES_DIR/$1/$BASE_SET/series"
}

# set_patches TREE [SERIES]: what the selected base set applies: the
# entries of SERIES (default series/TREE), then its own fixes.
set_patches() {
    series_patches "${2:-$SERIES_DIR/$1}"
    set_own_patches "$1"
}

# base_row TREE WHAT: from the selected set's pins, the file name (4th
# field) of TREE's upstream tarball (WHAT=orig: every file that is not
# Debian's packaging) or of Debian's packaging (WHAT=debian; empty for a
# base without Debian's patches).
base_row() {
    awk -v t="$1" -v w="$2" '$1 == t && (($4 ~ /\.debian\.tar\./) == (w == "debian")) { print $4; exit }' "$BASES"
}

# tree_changes DIR: what was done by hand to a tree scripts/prepare made,
# one line each: "unapplied: ..." when quilt's applied patches are not the
# whole series (a 'quilt pop', say), and "changed: FILE" for every file
# modified since.  Candidates are found by modification time (a walk of the
# tree's inodes: nothing is read); a file the patches touch is a change only
# if it differs from its sha256 in .xq-manifest, so that popping and pushing
# again is not one.  Prints nothing for an intact tree.
tree_changes() {
    local dir=$1 want have
    [ -f "$dir/.xq-prepared" ] || return 0
    if [ -f "$dir/.xq-series" ]; then
        want=$(series_patches "$(cat "$dir/.xq-series")" | tr '\n' ' ')
        have=$(cat "$dir/.pc/applied-patches" 2>/dev/null | tr '\n' ' ')
        [ "$want" = "$have" ] ||
            echo "unapplied: quilt has $(wc -w <<<"$have") of the series' $(wc -w <<<"$want") patches applied"
    fi
    (cd "$dir" && find . \( -path ./.pc -o -path ./.pc-debian -o -path ./patches \) -prune \
        -o -newer .xq-prepared ! -name '.xq-*' -type f -print | sed 's#^\./##' | sort |
        while IFS= read -r f; do
            grep -qxF "$(sha256sum "$f")" .xq-manifest 2>/dev/null || printf 'changed: %s\n' "$f"
        done)
}

# write_manifest: in a prepared tree, the sha256 of every file a quilt patch
# (Debian's or ours) touches, for tree_changes.
write_manifest() {
    local pcs=()
    [ ! -d .pc ] || pcs+=(.pc)
    [ ! -d .pc-debian ] || pcs+=(.pc-debian)
    [ ${#pcs[@]} -gt 0 ] || { : >.xq-manifest; return 0; }
    find "${pcs[@]}" -mindepth 2 -type f | cut -d/ -f3- | sort -u |
        while IFS= read -r f; do [ ! -f "$f" ] || sha256sum "$f"; done >.xq-manifest
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
