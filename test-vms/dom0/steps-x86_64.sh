# x86_64 steps: HVM guests on our QEMU device model.
# shellcheck shell=sh

DISK=/root/disk.img
dd if=/dev/zero of="$DISK" bs=1M count=8 2>/dev/null

# hvm_cfg NAME: write /tmp/NAME.cfg, the config on stdin plus the settings
# every test guest needs.  Its serial output lands in
# /var/log/xen/guest-NAME.log, its device model's log in
# /var/log/xen/qemu-dm-NAME.log.
hvm_cfg() {
    {
        cat
        cat <<EOC
name = "$1"
type = "hvm"
vcpus = 1
vnc = 0
vga = "none"
xen_platform_pci = 1
device_model_version = "qemu-xen"
serial = "file:/var/log/xen/guest-$1.log"
on_poweroff = "destroy"
on_crash = "destroy"
on_reboot = "destroy"
tsc_mode = "native"
EOC
    } >"/tmp/$1.cfg"
}

# hvm_create NAME: start the guest of /tmp/NAME.cfg.
hvm_create() {
    if ! xl create "/tmp/$1.cfg"; then
        tail -n 20 "/var/log/xen/qemu-dm-$1.log" 2>/dev/null | sed "s/^/$1-dm| /"
        result "$1" FAIL "xl create failed"
        return 1
    fi
}

# hvm_run NAME SECONDS: create an HVM guest from the config on stdin (see
# hvm_cfg); wait for it to power off.  What the guest cost, from xl create
# to its end, is ELAPSED and goes to the timing report (guest-NAME).
hvm_run() {
    hvm_cfg "$1"
    g0=$(uptime_s)
    hvm_create "$1" || return 1
    if ! wait_gone "$1" "$2"; then
        result "$1" FAIL "the guest did not power off in $2 s"
        tail -n 20 "/var/log/xen/qemu-dm-$1.log" | sed "s/^/$1-dm| /"
    fi
    ELAPSED=$(since "$g0")
    measured "guest-$1" "$ELAPSED"
    sed "s/^/$1| /" "/var/log/xen/guest-$1.log"
}

# linux_guest NAME EXTRA: the Linux guest with one emulated IDE disk.
# pci=noearly: the early PCI quirks and AGP aperture scans cost a config
# cycle (an exit to the device model) for every bus position, 10 s under
# emulation, and there is no AGP or IOMMU to find.  no_timer_check: on a
# slow host the kernel's IO-APIC timer check can miss the ticks it waits
# for and panic ("IO-APIC + timer doesn't work!", seen once in 34 guests
# on 2026-12-01); the emulated timer works.
linux_guest() {
    hvm_run "$1" 150 <<EOC
memory = 256
kernel = "/xq/guests/vmlinuz"
ramdisk = "/xq/guests/linux-domu.cpio.gz"
extra = "console=ttyS0 quiet loglevel=3 pci=noearly no_timer_check rdinit=/init $2"
disk = [ "format=raw,vdev=hda,access=rw,backendtype=qdisk,target=$DISK" ]
vif = []
EOC
}

# Linux unplugs the emulated IDE disk and uses xen-blkfront instead.
step_linux_unplug() {
    linux_guest linux-unplug "" || return
    blk=$(sed -n 's/^XQ-LINUX-BLOCK: //p' /var/log/xen/guest-linux-unplug.log)
    case " $blk " in
        *" xvda "*) case " $blk " in
                *" sda "*) result linux-unplug FAIL "both sda and xvda: the IDE disk was not unplugged" ;;
                *) result linux-unplug PASS "the IDE disk was unplugged, xen-blkfront gave xvda (disks: $blk)" ;;
            esac ;;
        *) result linux-unplug FAIL "no xvda (disks: ${blk:-none})" ;;
    esac
}

# platform_guest NAME ARGS [XL-LINES]: the freestanding guest with the
# given command line; one result from its verdict line.
platform_guest() {
    name=$1 args=$2 extra_cfg=${3:-}
    hvm_run "$name" 90 <<EOC || return 1
memory = 32
kernel = "/xq/guests/xq-platform-guest.elf"
extra = "$args"
$extra_cfg
EOC
    log=/var/log/xen/guest-$name.log
    if grep -q '^Test result: SUCCESS' "$log" && ! grep -q '^FAIL' "$log"; then
        result "$name" PASS "$(grep -c '^PASS' "$log") checks passed in the guest (${ELAPSED}s)"
    else
        result "$name" FAIL "$(grep -c '^FAIL' "$log") checks failed in the guest: $(grep -m1 '^FAIL' "$log")"
        return 1
    fi
}

# Blacklisting through xenstore, seen by the freestanding guest: a
# blacklisted build of "experimental" gets 0xd249, another build 0x49d2,
# and a build number sent before any product number never blacklists.
# The device model says so: a warning for the refusal (on by default),
# trace events for the routine outcomes and a guest error for the build
# sent too early, which these guests' device models are asked to print.
# The build not blacklisted then writes the driver log (see log_result):
# one guest fewer than a guest of its own, 9 s under emulation.
BL_DM_ARGS='device_model_args = [ "-trace", "xen_platform_driver_*", "-d", "guest_errors" ]'
step_blacklist() {
    xenstore-write /mh/driver-blacklist/experimental/7 ""
    platform_guest bl-hit "xq.tests=magic,build-first,handshake xq.product=0xffff xq.build=7 xq.expect-magic=0xd249" "$BL_DM_ARGS"
    platform_guest bl-miss "xq.tests=magic,handshake,log,log-long xq.product=0xffff xq.build=8 xq.expect-magic=0x49d2 xq.token=T$$" "$BL_DM_ARGS"
    # The log's verdict stands on its own, whatever the blacklist's.
    [ ! -s /var/log/xen/qemu-dm-bl-miss.log ] || log_result bl-miss
    grep -h 'xen_platform_driver\|xen-platform: ' /var/log/xen/qemu-dm-bl-hit.log /var/log/xen/qemu-dm-bl-miss.log |
        grep -v 'guest log: ' | sed 's/^/dm| /'
    if grep -q 'warning: xen-platform: guest PV drivers experimental build 7 refused: blacklisted by /mh/driver-blacklist/experimental/7' /var/log/xen/qemu-dm-bl-hit.log &&
       grep -q 'xen_platform_driver_blacklisted experimental build 7 is blacklisted' /var/log/xen/qemu-dm-bl-hit.log &&
       grep -q 'xen-platform: PV driver build 7 written before a product number, not checked' /var/log/xen/qemu-dm-bl-hit.log &&
       grep -q 'xen_platform_driver_not_blacklisted experimental build 8 is not blacklisted' /var/log/xen/qemu-dm-bl-miss.log &&
       ! grep -q 'warning: .*refused' /var/log/xen/qemu-dm-bl-miss.log; then
        result bl-dm-log PASS "the refusal as a warning, the other outcomes as trace events and a guest error"
    else
        result bl-dm-log FAIL "the device model's log lacks a blacklist decision (see dm| lines)"
    fi
}

# The Linux guest (product 3, build 1) is blacklisted: it sees 0xd249,
# says so, and keeps its emulated IDE disk.
step_linux_blacklist() {
    xenstore-write /mh/driver-blacklist/linux/1 ""
    linux_guest linux-blacklist "" || return
    xenstore-rm /mh/driver-blacklist/linux/1
    log=/var/log/xen/guest-linux-blacklist.log
    blk=$(sed -n 's/^XQ-LINUX-BLOCK: //p' "$log")
    if grep -q 'blacklisted by host' "$log" && case " $blk " in *" sda "*) true ;; *) false ;; esac; then
        result linux-blacklist PASS "Linux said it is blacklisted and kept the IDE disk (disks: $blk)"
    else
        result linux-blacklist FAIL "expected 'blacklisted by host' and sda (disks: ${blk:-none})"
    fi
}

# log_result GUEST: the driver log GUEST wrote (xq.token=T$$) reached its
# device model's log with the guest prefix, control bytes escaped, nothing
# raw in the whole log.
log_result() {
    dm=/var/log/xen/qemu-dm-$1.log
    grep 'guest log: xq-' "$dm" | cut -c1-160 | sed 's/^/dm| /'
    ok=1
    for want in "xen-platform: guest log: xq-log T$$ 1 plain line" \
                "xen-platform: guest log: xq-log T$$ 2 ctl:"'\x1b[31mred\x07|\x00|\xff|\x0d|\\|\x09 end' \
                "xen-platform: guest log: xq-log T$$ 3 last line" \
                "xen-platform: guest log: xq-long-tail T$$"; do
        grep -qF -- "$want" "$dm" || { ok=; echo "missing: $want"; }
    done
    if tr -d '\n\t' <"$dm" | LC_ALL=C grep -q '[^ -~]'; then
        ok=
        echo "raw non-printable bytes in $dm"
    fi
    if [ -n "$ok" ]; then
        result log PASS "guest lines in the device model log, prefixed, escaped, nothing raw"
    else
        result log FAIL "see the lines above"
    fi
}

# host_bound NAME BUCKET RATE: what the guest NAME made its device model
# write, in bytes as written (prefix, escapes, newlines, notices: every
# line the device model wrote on the guest's behalf), as CAUSED; the bound
# bucket + rate x the guest's whole lifetime (ELAPSED) + one notice of at
# most 128 bytes besides the prefix (only the first episode's notice is
# free: every later one is paid when the episode before it closes), as
# BOUND; the episodes as EPISODES.  Prints "XQ-BOUND NAME CAUSED BOUND" for the
# timing report.
host_bound() {
    dm=/var/log/xen/qemu-dm-$1.log
    CAUSED=$(grep 'xen-platform: ' "$dm" | wc -c)
    EPISODES=$(grep -c 'rate limit reached' "$dm")
    plen=$(grep -m1 'xen-platform: ' "$dm" | sed 's/xen-platform: .*//' | tr -d '\n' | wc -c)
    BOUND=$(awk -v b="$2" -v r="$3" -v t="$ELAPSED" -v e="$EPISODES" -v p="$plen" \
        'BEGIN { printf "%d", b + r * t + (e > 0) * (p + 128 + 1) }')
    echo "XQ-BOUND $1 $CAUSED $BOUND"
}

# A flood under a small bucket: the guest is never blocked, the log grows
# by at most bucket + rate x elapsed (plus one notice), the suppression is
# accounted for, and lines appear again once tokens refill.
FLOOD_BYTES=262144
FLOOD_BUCKET=4096
FLOOD_RATE=1024
FLOOD_ARGS="xq.tests=magic,flood xq.flood=$FLOOD_BYTES"

# flood_sent NAME: set SENT to the bytes the guest says it wrote, and
# record the time that took (guest TSC cycles over Xen's TSC rate: the
# guests run with tsc_mode native) as XQ-TIME flood-write.
flood_sent() {
    set -- $(sed -n 's/^info: flood-done bytes=\([0-9]*\) .*tsc-cycles=\([0-9]*\).*/\1 \2/p' \
        "/var/log/xen/guest-$1.log")
    SENT=${1:-}
    mhz=$(xl info | sed -n 's/^cpu_mhz *: *//p')
    if [ -n "${2:-}" ] && [ -n "$mhz" ]; then
        measured flood-write "$(awk -v c="$2" -v m="$mhz" 'BEGIN { printf "%.2f", c / (m * 1e6) }')"
    fi
}

step_flood() {
    platform_guest flood-guest "$FLOOD_ARGS xq.token=F$$ xq.flood-wait=3000" \
        "device_model_args = [ \"-global\", \"xen-platform.log-bucket-size=$FLOOD_BUCKET\", \"-global\", \"xen-platform.log-refill-rate=$FLOOD_RATE\" ]" ||
        return
    dm=/var/log/xen/qemu-dm-flood-guest.log
    grep -E 'rate limit|xq-flood-after' "$dm" | sed 's/^/dm| /'
    # Bytes of the flood that reached the log: every guest line (its
    # newline included) but the marker sent after the flood; the flood is
    # printable, so escaping does not change its length.
    logged=$(sed -n 's/.*xen-platform: guest log: //p' "$dm" | grep -v "^xq-flood-after F$$" | wc -c)
    host_bound flood-guest "$FLOOD_BUCKET" "$FLOOD_RATE"
    flood_sent flood-guest
    sent=$SENT
    echo "flood: sent ${sent:-?} bytes, logged $logged bytes of flood lines in ${ELAPSED}s; the host log took $CAUSED bytes for it, bound $BOUND"
    if [ -n "$sent" ] && [ "$sent" -ge "$FLOOD_BYTES" ]; then
        result flood-not-blocked PASS "the guest wrote $sent bytes and went on (${ELAPSED}s for the whole guest)"
    else
        result flood-not-blocked FAIL "the guest did not finish its flood"
    fi
    if [ "$CAUSED" -le "$BOUND" ] && [ "$logged" -gt 0 ]; then
        result flood-bounded PASS "$CAUSED bytes of host log <= bucket $FLOOD_BUCKET + $FLOOD_RATE B/s x ${ELAPSED}s + 1 notice = $BOUND ($EPISODES episodes)"
    else
        result flood-bounded FAIL "$CAUSED bytes of host log ($logged of flood lines), bound $BOUND"
    fi
    # Every flood byte is either logged or counted in a suppression notice.
    dropped=$(grep -oE '[0-9]+ byte\(s\) suppressed' "$dm" | awk '{ s += $1 } END { print s + 0 }')
    notices=$(grep -c 'byte(s) suppressed' "$dm")
    if [ -n "$sent" ] && [ $((logged + dropped)) -eq "$sent" ]; then
        result flood-accounted PASS "$logged bytes logged + $dropped suppressed ($notices notices) = $sent sent"
    else
        result flood-accounted FAIL "$logged logged + $dropped suppressed != ${sent:-?} sent"
    fi
    if grep -q "guest log: xq-flood-after F$$" "$dm"; then
        result flood-resumes PASS "a line after the flood was logged once tokens refilled"
    else
        result flood-resumes FAIL "the line after the flood never appeared"
    fi
}

# The same flood on the device model built from the same base without our
# series, for the timing report's with/without ratio.  Checks that it really
# is that model: it lacks our properties and logs no guest lines.
DM_BASE=/usr/lib/xen/bin/qemu-system-i386-base
step_flood_base() {
    props=$("$DM_BASE" -device xen-platform,help 2>&1) || {
        result flood-base-dm FAIL "$DM_BASE does not run: $props"
        return
    }
    case "$props" in
        *log-bucket-size*) result flood-base-dm FAIL "$DM_BASE has our log-bucket-size property" ;;
        *) result flood-base-dm PASS "$DM_BASE is the device model without our series (no log-bucket-size)" ;;
    esac
    platform_guest flood-base-guest "$FLOOD_ARGS xq.token=B$$ xq.flood-wait=0" \
        "device_model_override = \"$DM_BASE\"" || return
    flood_sent flood-base-guest
    sent=$SENT
    dm=/var/log/xen/qemu-dm-flood-base-guest.log
    if [ -n "$sent" ] && [ "$sent" -ge "$FLOOD_BYTES" ] && ! grep -q 'guest log:' "$dm"; then
        result flood-base PASS "the guest wrote $sent bytes in ${ELAPSED}s on the base device model, which logged none of it"
    else
        result flood-base FAIL "sent ${sent:-?} bytes; guest log lines in $dm: $(grep -c 'guest log:' "$dm")"
    fi
}

# Hostile floods of the driver log: newlines alone, one-character lines,
# lines of control bytes, lines of 0xff and NUL bytes, and a line that
# never ends.  With a small bucket (1 KiB, refilled at 1 KiB/s: a line of
# 127 escaped bytes fits it), all five in one guest that pauses 0.7 s
# after each marker (dom0 looks every 0.2 s), so 1.4 s between floods:
# the bucket is full again, and each kind is logged (and must be
# escaped) and limited.
# With the default bucket (128 KiB), in a second guest, the floods whose
# log costs more than the guest's bytes (4 log bytes for each 0xff or NUL,
# a prefix for each empty line) and the endless line; the first of them
# starts with the full bucket and overflows it.  Dom0 watches the guest's
# marker lines and takes the size of the device model's log at each, so
# that each flood gets its own window.  For each flood: the guest was
# never blocked (it wrote every byte and went on), the device model's log
# grew in that window by at most bucket + rate x window + one notice of
# at most 128 bytes (and the prefix), and nothing raw (no control byte,
# 0xff or NUL) reached the log file.
HOSTILE_FLOODS="empty:2048 onechar:4096 ctl:16384 ffnul:16384 unterminated:16384"
HOSTILE_DEFAULT_FLOODS="ffnul:65536 empty:4096 unterminated:262144"
HOSTILE_SMALL_BUCKET=1024
HOSTILE_SMALL_RATE=1024

# hostile_guest NAME CFG BUCKET RATE PAUSE-MS XL-LINE FLOOD...: run the
# freestanding guest NAME on the floods (KIND:BYTES); results NAME (the
# guest's verdict), NAME-nothing-raw, and per flood
# hostile-KIND-CFG-not-blocked and hostile-KIND-CFG-bounded, with an
# XQ-BOUND line.
hostile_guest() {
    name=$1 cfg=$2 bucket=$3 rate=$4 pause=$5 dmargs=$6
    shift 6
    log=/var/log/xen/guest-$name.log dm=/var/log/xen/qemu-dm-$name.log
    hvm_cfg "$name" <<EOC
memory = 32
kernel = "/xq/guests/xq-platform-guest.elf"
extra = "xq.tests=magic,hostile xq.hostile=$(echo "$*" | tr ' ' '+') xq.hostile-pause=$pause"
$dmargs
EOC
    t0=$(uptime_s)
    hvm_create "$name" || return
    # Poll for the marker lines; record "KIND start|done UPTIME DM-SIZE".
    # Cheaply: dom0's one vCPU also runs the device model under test, so
    # one process per poll while nothing changes, and no xl until the
    # guest has said its last word.
    : >"/tmp/$name.marks"
    seen=0 i=0 last=0
    while [ $i -lt 1500 ]; do
        i=$((i + 1))
        sleep 0.2
        # Whole lines only: the guest may be half-way through one.
        lines=$(wc -l <"$log" 2>/dev/null)
        [ "${lines:-0}" -ne "$last" ] || continue
        last=$lines
        n=$(head -n "$lines" "$log" | grep -c '^info: hostile-\(start\|done\) ')
        if [ "$n" -gt "$seen" ]; then
            now=$(uptime_s) size=$(wc -c <"$dm")
            head -n "$lines" "$log" | grep '^info: hostile-\(start\|done\) ' | sed -n "$((seen + 1)),${n}p" |
                sed "s/^info: hostile-\([a-z]*\) kind=\([a-z]*\) .*/\2 \1 $now $size/" >>"/tmp/$name.marks"
            seen=$n
        fi
        head -n "$lines" "$log" | grep -q '^Test result: ' && break
    done
    wait_gone "$name" 30 || result "$name" FAIL "the guest did not power off"
    ELAPSED=$(since "$t0")
    measured "guest-$name" "$ELAPSED"
    sed "s/^/$name| /" "$log"
    sed "s/^/$name-marks| /" "/tmp/$name.marks"
    plen=$(grep -m1 'xen-platform: ' "$dm" | sed 's/xen-platform: .*//' | tr -d '\n' | wc -c)
    for f in "$@"; do
        kind=${f%%:*} bytes=${f#*:} check=hostile-$kind-$cfg
        if grep -q "^info: hostile-done kind=$kind bytes=$bytes " "$log"; then
            result "$check-not-blocked" PASS "the guest wrote its $bytes bytes and went on (guest ${ELAPSED}s in all)"
        else
            result "$check-not-blocked" FAIL "the guest did not finish its $bytes bytes"
        fi
        set -- $(awk -v k="$kind" '$1 == k && $2 == "start" { a = $3; s = $4 } $1 == k && $2 == "done" { b = $3; e = $4 }
            END { if (a != "" && b != "") print a, s, b, e }' "/tmp/$name.marks")
        if [ $# -ne 4 ]; then
            result "$check-bounded" FAIL "dom0 saw no start and done markers for $kind"
            continue
        fi
        grew=$(($4 - $2))
        episodes=$(tail -c +$(($2 + 1)) "$dm" | head -c "$grew" | grep -c 'rate limit reached')
        bound=$(awk -v b="$bucket" -v r="$rate" -v a="$1" -v z="$3" -v e="$episodes" -v p="$plen" \
            'BEGIN { printf "%d", b + r * (z - a) + (e > 0) * (p + 128 + 1) }')
        echo "XQ-BOUND $check $grew $bound"
        # A window of no time would prove nothing; a flood of lines that
        # never fit a small bucket may rightly add nothing.
        if awk -v a="$1" -v z="$3" 'BEGIN { exit !(z > a) }' && [ "$grew" -le "$bound" ]; then
            result "$check-bounded" PASS "the log grew $grew bytes for $bytes guest bytes <= $bucket + $rate B/s x $(awk -v a="$1" -v z="$3" 'BEGIN { printf "%.1f", z - a }')s + 1 notice = $bound ($episodes episodes)"
        else
            result "$check-bounded" FAIL "the log grew $grew bytes for $bytes guest bytes, bound $bound"
        fi
    done
    raw=$(tr -d '\n\t -~' <"$dm" | wc -c)
    if [ "$raw" -eq 0 ]; then
        result "$name-nothing-raw" PASS "no byte outside printable ASCII in the $(wc -c <"$dm")-byte log"
    else
        result "$name-nothing-raw" FAIL "$raw raw bytes in $dm"
    fi
    if grep -q '^Test result: SUCCESS' "$log" && ! grep -q '^FAIL' "$log"; then
        result "$name" PASS "$(grep -c '^PASS' "$log") checks passed in the guest (${ELAPSED}s)"
    else
        result "$name" FAIL "the guest failed: $(grep -m1 '^FAIL' "$log")"
    fi
}

step_hostile() {
    hostile_guest hostile-small small "$HOSTILE_SMALL_BUCKET" "$HOSTILE_SMALL_RATE" 700 \
        "device_model_args = [ \"-global\", \"xen-platform.log-bucket-size=$HOSTILE_SMALL_BUCKET\", \"-global\", \"xen-platform.log-refill-rate=$HOSTILE_SMALL_RATE\" ]" \
        $HOSTILE_FLOODS
    hostile_guest hostile-default default 131072 256 500 "" $HOSTILE_DEFAULT_FLOODS
}

# Unplug of each device class, checked by the guest rescanning PCI config
# (NICs without a boot ROM: Debian's +ds sources carry no NIC ROMs)
# space and the IDE channels.
UNPLUG_DISKS="disk = [ \"format=raw,vdev=hda,access=rw,backendtype=qdisk,target=$DISK\", \"format=raw,vdev=hdb,access=rw,backendtype=qdisk,target=$DISK.b\", \"format=raw,vdev=hdc,access=rw,backendtype=qdisk,target=$DISK.c\" ]"
UNPLUG_DEVS="device_model_args_hvm = [ \"-device\", \"e1000,romfile=\", \"-device\", \"rtl8139,romfile=\", \"-drive\", \"file=$DISK.n,if=none,id=nvm,format=raw\", \"-device\", \"nvme,drive=nvm,serial=xq\" ]"
# unplug_disks: the files behind UNPLUG_DISKS' second and third disks and
# UNPLUG_DEVS' NVMe disk.
unplug_disks() {
    for f in "$DISK.b" "$DISK.c" "$DISK.n"; do
        [ -f "$f" ] || dd if=/dev/zero of="$f" bs=1M count=4 2>/dev/null
    done
}

# Two guests.  One writes the ide bit alone, with every class there: all
# IDE disks must go, NICs and NVMe stay.  The other writes the masks in
# turn, each checked against the inventory the one before left: aux-ide
# with everything there (the primary master, NICs and NVMe stay), then
# nvme (NICs and the primary master stay), then nics; a later write must
# also bring nothing back.  Each class gets its own result from the checks
# named after it, and needs the one that says it went.
unplug_class_result() {    # CLASS GUEST
    log=/var/log/xen/guest-$2.log
    n=$(grep -c "^PASS: unplug $1: " "$log")
    went=$(grep "^PASS: unplug $1: " "$log" | grep -m1 -E ' gone$|: IDE disks ')
    if [ -n "$went" ] && ! grep -q "^FAIL: unplug $1: " "$log"; then
        result "unplug-$1" PASS "$n checks: ${went#PASS: }"
    else
        result "unplug-$1" FAIL "$(grep -m1 "^FAIL: unplug $1: " "$log" || echo "no check that it went")"
    fi
}
UNPLUG_ORDER="aux-ide nvme nics"
step_unplug_classes() {
    unplug_disks
    devs=$(printf '%s\n%s' "$UNPLUG_DISKS" "$UNPLUG_DEVS")
    platform_guest unplug-all-ide "xq.tests=unplug xq.unplug=ide" "$devs"
    unplug_class_result ide unplug-all-ide
    platform_guest unplug-classes "xq.tests=unplug xq.unplug=$(echo $UNPLUG_ORDER | tr ' ' ':')" "$devs"
    for what in $UNPLUG_ORDER; do
        unplug_class_result "$what" unplug-classes
    done
}

# dm_pid DOMID: the device model process of that domain, as libxl noted it.
dm_pid() { xenstore-read "/local/domain/$1/image/device-model-pid" 2>/dev/null; }

# rss_kib PID: its resident memory in KiB (empty once it is gone).
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }

# Fuzzing the device's ports and BARs from the freestanding guest (its
# fuzz test): a sweep, then ACCESSES accesses drawn from SEED, with a disk,
# two NICs and an NVMe disk to unplug and a blacklist entry a product/build
# pair can hit (and the guest's last handshake does).  The sanitized device
# model reports errors on stderr, which is its log.  Leak detection at exit
# is off: what QEMU's exit path leaves unfreed in other subsystems would
# be reported as ours; a leak of ours shows in resident memory instead,
# which a small quarantine keeps comparable.
FUZZ_SANITIZERS="ASAN_OPTIONS=detect_leaks=0:quarantine_size_mb=16:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1"
# The device model's resident memory may grow this much from the fuzz's
# first progress line (after 262,144 accesses; in a shorter run, its
# start) to its end: a leak on a path most accesses take would exceed it
# over a million accesses (ASan adds a redzone of at least 16 bytes to
# every allocation); one on a rare path, such as a blacklist lookup (at
# most one a second), would not.
FUZZ_RSS_SLACK_KIB=4096

# port_fuzz NAME ACCESSES SEED BOUND-S [XL-LINE]: run the guest; results
# NAME (the guest: the device still answers the protocol afterwards),
# NAME-dm (no sanitizer report, the device model lived to the end, its
# memory bounded), NAME-log (nothing raw, the line after the fuzz logged,
# a blacklisted magic only with the device model's refusal).
port_fuzz() {
    name=$1 n=$2 seed=$3 bound=$4 dmline=${5:-}
    log=/var/log/xen/guest-$name.log dm=/var/log/xen/qemu-dm-$name.log
    unplug_disks
    xenstore-write /mh/driver-blacklist/experimental/5 ""
    hvm_cfg "$name" <<EOC
memory = 32
kernel = "/xq/guests/xq-platform-guest.elf"
extra = "xq.tests=magic,fuzz xq.fuzz=$n xq.seed=$seed xq.token=Z$$"
$UNPLUG_DISKS
$UNPLUG_DEVS
$dmline
EOC
    echo "port-fuzz: $name: seed $seed, $n accesses"
    t0=$(uptime_s)
    env $FUZZ_SANITIZERS xl create "/tmp/$name.cfg" || {
        tail -n 20 "$dm" 2>/dev/null | sed "s/^/$name-dm| /"
        result "$name" FAIL "xl create failed"
        return 1
    }
    pid=$(dm_pid "$(xl domid "$name")")
    echo "port-fuzz: $name: device model pid ${pid:-?}, $(rss_kib "$pid") KiB resident"
    # Resident memory at the start, at the first progress line (once
    # warm: allocator pools, the sanitizer's quarantine) and at the end
    # (the guest pauses 2 s there).  A device model that died (a sanitizer
    # aborts it) or reported an error ends the wait: its guest would wait
    # forever, and the report must reach the console before the timeout.
    rss0= rssp= rss1=
    end=$(awk -v t="$t0" -v b="$bound" 'BEGIN { print int(t + b) }')
    # Every 0.5 s: each look costs a few processes of the CPU the guest
    # and the device model under test share with dom0.
    while [ "$(uptime_s | cut -d. -f1)" -lt "$end" ]; do
        sleep 0.5
        [ -n "$rss0" ] || ! grep -q '^info: fuzz-start' "$log" || rss0=$(rss_kib "$pid")
        [ -n "$rssp" ] || ! grep -q '^info: fuzz-progress' "$log" || rssp=$(rss_kib "$pid")
        [ -n "$rss1" ] || ! grep -q '^info: fuzz-done' "$log" || rss1=$(rss_kib "$pid")
        grep -q '^Test result: ' "$log" && break
        [ -d "/proc/$pid" ] || { echo "port-fuzz: $name: the device model is gone"; break; }
        ! grep -qE 'ERROR: AddressSanitizer|runtime error:' "$dm" || break
    done
    wait_gone "$name" 10 || result "$name" FAIL "the guest did not finish in ${bound}s"
    xenstore-rm /mh/driver-blacklist/experimental/5
    ELAPSED=$(since "$t0")
    measured "guest-$name" "$ELAPSED"
    grep -v '^info: fuzz-progress' "$log" | sed "s/^/$name| /"
    grep -E 'Sanitizer|runtime error|refused|rate limit|xq-fuzz-after' "$dm" | head -n 40 | sed "s/^/$name-dm| /"
    if grep -q '^Test result: SUCCESS' "$log" && ! grep -q '^FAIL' "$log"; then
        result "$name" PASS "seed $seed: $n accesses, then the device answered the protocol (${ELAPSED}s)"
    else
        result "$name" FAIL "seed $seed: $(grep -m1 '^FAIL' "$log" || echo 'no verdict from the guest')"
    fi
    san=$(grep -c -E 'ERROR: AddressSanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer' "$dm")
    from=${rssp:-$rss0}
    if [ "$san" -eq 0 ] && [ -n "$from" ] && [ -n "$rss1" ] && [ "$((rss1 - from))" -le "$FUZZ_RSS_SLACK_KIB" ]; then
        result "$name-dm" PASS "no sanitizer report; resident memory ${from} KiB -> ${rss1} KiB (at most +$FUZZ_RSS_SLACK_KIB; ${rss0} KiB at the start)"
    else
        result "$name-dm" FAIL "seed $seed: $san sanitizer report line(s); resident memory ${from:-?} KiB -> ${rss1:-gone} KiB"
    fi
    raw=$(tr -d '\n\t -~' <"$dm" | wc -c)
    final=$(sed -n 's/^info: fuzz-final magic=//p' "$log")
    # Blacklisting is sticky: one refusal, whether the fuzz hit the entry
    # (the magic after it was 0xd249) or the guest's last handshake did.
    refused=$(grep -c 'PV drivers .* refused: blacklisted' "$dm")
    if [ "$raw" -eq 0 ] && grep -q "guest log: xq-fuzz-after Z$$" "$dm" && [ "$refused" -eq 1 ]; then
        result "$name-log" PASS "nothing raw in $(wc -c <"$dm") bytes, the line after the fuzz logged, one refusal ($([ "$final" = 0xd249 ] && echo 'in the fuzz' || echo 'at the last handshake'))"
    else
        result "$name-log" FAIL "seed $seed: $raw raw bytes, line after the fuzz: $(grep -c "xq-fuzz-after Z$$" "$dm"), magic after the fuzz ${final:-?}, $refused refusal(s)"
    fi
    cycles=$(sed -n 's/^info: fuzz-done .*tsc-cycles=\([0-9]*\).*/\1/p' "$log")
    mhz=$(xl info | sed -n 's/^cpu_mhz *: *//p')
    [ -z "$cycles" ] || [ -z "$mhz" ] ||
        measured "$name-accesses-per-s" "$(awk -v n="$n" -v c="$cycles" -v m="$mhz" 'BEGIN { printf "%d", n / (c / (m * 1e6)) }')"
}

# The short run of make check, on our device model: xq.fuzz= and xq.seed=
# on dom0's command line (the scenario's dom0_args) change it.
step_port_fuzz() {
    port_fuzz port-fuzz "$(arg xq.fuzz | grep . || echo 4000)" "$(arg xq.seed | grep . || echo 1)" 240
}

# make fuzz: the same on the device model built with AddressSanitizer and
# UndefinedBehaviorSanitizer (scripts/fuzz), with a small, slow log bucket, its
# trace events and guest errors on, so that the drop, notice and
# formatting paths run under the sanitizers too.
DM_ASAN=/usr/lib/xen/bin/qemu-system-i386-asan
step_port_fuzz_asan() {
    [ -x "$DM_ASAN" ] || { result port-fuzz-asan FAIL "no $DM_ASAN in this dom0 (scripts/fuzz adds it)"; return; }
    n=$(arg xq.fuzz | grep . || echo 1000000)
    port_fuzz port-fuzz-asan "$n" "$(arg xq.seed | grep . || echo 1)" $((120 + n / 100)) \
        "device_model_override = \"$DM_ASAN\"
device_model_args = [ \"-global\", \"xen-platform.log-bucket-size=1024\", \"-global\", \"xen-platform.log-refill-rate=8\", \"-d\", \"guest_errors\", \"-trace\", \"xen_platform_*\" ]"
}

# save_restore NAME BUILD MAGIC [XL-LINE]: boot the freestanding guest,
# handshake as experimental build BUILD (magic MAGIC then; build 7 is
# blacklisted), xl save it while it waits; remove the blacklist entry;
# restore it with the config plus XL-LINE.  Sets RESTORED (1 when
# xl restore succeeded) and SAVED, the checkpoint, which is kept.
save_restore() {
    name=$1 build=$2 magic=$3 line=${4:-}
    log=/var/log/xen/guest-$name.log
    SAVED=/tmp/$name.chk RESTORED=
    # 16 MiB, not the 32 of the other guests: xl save and xl restore copy
    # every page through dom0, about 2 s a direction for 16 MiB here.
    hvm_cfg "$name" <<EOC
memory = 16
kernel = "/xq/guests/xq-platform-guest.elf"
extra = "xq.tests=magic,handshake,resume xq.product=0xffff xq.build=$build xq.expect-magic=$magic"
EOC
    hvm_create "$name" || return 1
    i=0
    until grep -q '^info: resume-wait' "$log"; do
        i=$((i + 1))
        [ $i -lt 300 ] || { result "$name" FAIL "the guest never waited for the save"; xl destroy "$name"; return 1; }
        sleep 0.2
    done
    sed "s/^/$name| /" "$log"
    if ! xl save "$name" "$SAVED" >"/tmp/$name.save.log" 2>&1; then
        sed "s/^/$name-save| /" "/tmp/$name.save.log"
        result "$name" FAIL "xl save failed"
        xl destroy "$name" 2>/dev/null
        return 1
    fi
    # What the restored device knows comes from the checkpoint alone.
    xenstore-rm /mh/driver-blacklist/experimental/7 2>/dev/null
    { cat "/tmp/$name.cfg"; echo "$line"; } >"/tmp/$name-restore.cfg"
    if xl restore "/tmp/$name-restore.cfg" "$SAVED" >"/tmp/$name.restore.log" 2>&1; then
        RESTORED=1
    fi
    sed "s/^/$name-restore| /" "/tmp/$name.restore.log"
}

# resumed NAME CHECK DETAIL: after a restore of guest NAME, press its
# power button; result CHECK from what it printed since (the restored
# device model reopened its serial file).
resumed() {
    xl trigger "$1" power
    wait_gone "$1" 60 || { result "$2" FAIL "the restored guest did not power off"; return; }
    sed "s/^/$2-restored| /" "/var/log/xen/guest-$1.log"
    if grep -q '^PASS: resume: magic after save and restore' "/var/log/xen/guest-$1.log" &&
       grep -q '^Test result: SUCCESS' "/var/log/xen/guest-$1.log"; then
        result "$2" PASS "$3"
    else
        result "$2" FAIL "after the restore: $(grep -m1 '^FAIL' "/var/log/xen/guest-$1.log" || echo 'no verdict')"
    fi
}

# The blacklist state through xl save and xl restore: a guest never
# blacklisted restores onto the device model without our series (the
# migration subsection is sent only when needed); a blacklisted one is
# refused there with the device model's error, and its checkpoint, still
# whole, restores onto ours, where the guest still reads 0xd249 (the
# subsection carried the state: the xenstore entry was gone by then).
# One blacklisted guest proves both the refusal and the state kept,
# instead of a guest of its own for each (25 s under emulation).
step_save_restore() {
    mkdir -p /var/lib/xen
    save_restore sr-to-base 8 0x49d2 "device_model_override = \"$DM_BASE\"" &&
        if [ -n "$RESTORED" ] && ps -o args | grep -q "^$DM_BASE .*-name sr-to-base"; then
            resumed sr-to-base sr-to-base "never blacklisted: restored onto the device model without our series"
        else
            result sr-to-base FAIL "xl restore onto $DM_BASE failed or ran another model"
        fi
    rm -f "$SAVED"      # dom0's /tmp is RAM
    xenstore-write /mh/driver-blacklist/experimental/7 ""
    save_restore sr-blacklisted 7 0xd249 "device_model_override = \"$DM_BASE\"" || return
    dm=/var/log/xen/qemu-dm-sr-blacklisted.log
    sed "s/^/sr-refused-dm| /" "$dm"
    if [ -z "$RESTORED" ] && ! xl domid sr-blacklisted >/dev/null 2>&1 &&
       grep -q "error while loading state .* of device '[^']*/platform'" "$dm"; then
        result sr-refused PASS "xl restore onto $DM_BASE refused: $(grep -m1 "error while loading state" "$dm")"
    else
        result sr-refused FAIL "a blacklisted guest was restored onto $DM_BASE (or without its error)"
        xl destroy sr-blacklisted 2>/dev/null
    fi
    # Nothing lost: the refused checkpoint restores onto our device model.
    if xl restore /tmp/sr-blacklisted.cfg "$SAVED" >/tmp/sr-blacklisted.again.log 2>&1; then
        resumed sr-blacklisted sr-blacklisted "blacklisted before xl save, refused by $DM_BASE, 0xd249 after xl restore onto ours"
    else
        sed "s/^/sr-blacklisted-again| /" /tmp/sr-blacklisted.again.log
        result sr-blacklisted FAIL "the refused checkpoint no longer restores onto our device model"
    fi
}
