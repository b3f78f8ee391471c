# A private apt state for fetching pinned Debian files, sourced by fetch and
# repin.  It reads the mirror URIs from the host's own apt configuration and
# never touches the system's sources or lists.
# shellcheck shell=bash

APT_DIR=$CACHE/apt
APT_PRIVATE_READY=     # set by apt_private_init, never from the environment
# Source packages come from trixie (the first base set) and sid (Debian
# unstable: base set "latest"); binary packages for the test images from the
# host's own release, which is what the tools are built against.
SRC_SUITES=(trixie trixie-updates sid)
SRC_SEC_SUITES=(trixie-security)
BIN_ARCHES=amd64,arm64

host_codename() { . /etc/os-release; printf '%s\n' "$VERSION_CODENAME"; }

# Print the REPO_URI of the host's apt source for suite $1.
host_repo_uri() {
    apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
        awk -v s="$1" '$2 == s { print $1; exit }'
}

apt_private_init() {
    local code main sec s
    APT_PRIVATE_READY=1
    code=$(host_codename)
    main=$(host_repo_uri "$code")
    sec=$(host_repo_uri "$code-security")
    [ -n "$main" ] || die "cannot find a Debian '$code' source in the host's apt configuration (apt-get indextargets)"
    [ -n "$sec" ] || msg "warning: the host's apt has no '$code-security' source: pinned packages from security updates cannot be found"
    mkdir -p "$APT_DIR"/{lists/partial,cache/archives/partial,sources.d}
    {
        for s in "${SRC_SUITES[@]}"; do
            echo "deb-src $main $s main"
        done
        echo "deb [arch=$BIN_ARCHES] $main $code main"
        echo "deb [arch=$BIN_ARCHES] $main $code-updates main"
        if [ -n "$sec" ]; then
            for s in "${SRC_SEC_SUITES[@]}"; do
                echo "deb-src $sec $s main"
            done
            echo "deb [arch=$BIN_ARCHES] $sec $code-security main"
        fi
    } >"$APT_DIR/sources.list"
    APT_OPTS=(
        -o "Dir::Etc::SourceList=$APT_DIR/sources.list"
        -o "Dir::Etc::SourceParts=$APT_DIR/sources.d"
        -o "Dir::State::Lists=$APT_DIR/lists"
        -o "Dir::Cache=$APT_DIR/cache"
        -o "Dir::State::status=/var/lib/dpkg/status"
        -o "APT::Architecture=amd64"
        -o "APT::Architectures::=amd64" -o "APT::Architectures::=arm64"
        -o "Acquire::Languages=none"
        -o "APT::Sandbox::User=root"
    )
}

# Refresh the private lists (at most once per run; apt_private_init first
# if it was not run: a fetch that finds everything cached never asks apt,
# whose reading of the host's lists takes seconds).  A mirror that lags or
# is frozen serves Release files past their Valid-Until (sid's expire
# within days), which apt refuses: then the lists are taken anyway, still
# checked against Debian's keyring, with a warning that says what that
# means to the caller ($APT_EXPIRED_MEANS; scripts/fetch checks every file
# against its pinned sha256, scripts/repin picks versions from them).
apt_private_update() {
    [ -z "${APT_UPDATED:-}" ] || return 0
    [ -n "${APT_PRIVATE_READY:-}" ] || apt_private_init
    msg "updating the private apt lists in $APT_DIR"
    apt-get "${APT_OPTS[@]}" -q update >"$APT_DIR/update.log" 2>&1 ||
        if grep -q 'is expired' "$APT_DIR/update.log"; then
            grep 'is expired' "$APT_DIR/update.log" | scrub | sed 's/^/  /' >&2
            msg "warning: the mirror's index is past its Valid-Until; using it anyway: ${APT_EXPIRED_MEANS:-check what it gives}"
            APT_OPTS+=(-o "Acquire::Check-Valid-Until=false")
            apt-get "${APT_OPTS[@]}" -q update >"$APT_DIR/update.log" 2>&1
        else
            false
        fi || {
        scrub <"$APT_DIR/update.log" >&2
        die "apt-get update of the private lists failed (see above)"
    }
    APT_UPDATED=1
}

# scrub: apt's messages name the mirror; keep its host name out of logs.
scrub() { sed -E 's#(https?://)[^/ ]+#\1<mirror>#g; s#\[IP: [^]]*\]##'; }

# apt-get with the private state.
apt_private() { apt-get "${APT_OPTS[@]}" "$@"; }
