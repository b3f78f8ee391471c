# arm64 steps.
# shellcheck shell=sh

. /xq/layout.sh     # GUEST_* constants of the built Xen's public/arch-arm.h

# The vGIC version Xen gives the domains (xq.gic=; the host's GIC version,
# but 3 on a GICv4 host) and the guest layout it implies.
HOST_GIC=$(arg xq.gic)
if [ "$HOST_GIC" = 3 ]; then
    EXPECT="xq.gic=3 xq.gicd=$GUEST_GICV3_GICD_BASE,$GUEST_GICV3_GICD_SIZE xq.gicr=$GUEST_GICV3_GICR0_BASE,$GUEST_GICV3_GICR0_SIZE"
else
    EXPECT="xq.gic=2 xq.gicd=$GUEST_GICD_BASE,$GUEST_GICD_SIZE xq.gicc=$GUEST_GICC_BASE,$GUEST_GICC_SIZE"
fi
# Our hypervisor, or the one built without our series (xq.hypervisor=base):
# our tools run on both.
HYPERVISOR=$(arg xq.hypervisor)

# The freestanding guest's config, expecting the host's vGIC layout.  With
# a GICv3, its node carries redistributor-stride (a u64) when libxl wrote
# it from Xen's answer, and none when libxl fell back to the public layout
# (STRIDE=none: Xen could not answer).
step_gic_guest_config() {
    stride=
    if [ "$HOST_GIC" = 3 ]; then
        if [ "${1:-}" = none ] || [ "$HYPERVISOR" = base ]; then
            stride=" xq.stride=none"
        else
            stride=" xq.stride=$GUEST_GICV3_RDIST_STRIDE"
        fi
    fi
    cat >/tmp/gic-guest.cfg <<EOC
name = "gic-guest"
kernel = "/xq/guests/xq-gic-guest.img"
memory = 32
vcpus = 1
vuart = "sbsa_uart"
extra = "$EXPECT$stride"
on_poweroff = "destroy"
on_crash = "destroy"
on_reboot = "destroy"
EOC
}

# gic_guest_verdict CHECK: wait for the freestanding guest to finish and
# judge it from its own checks (test-vms/guests).
gic_guest_verdict() {
    wait_gone gic-guest 30 || result "$1" FAIL "the guest did not power off in 30 s"
    log=/var/log/xen/console/guest-gic-guest-vuart0.log
    sed 's/^/gic-guest| /' "$log"
    n=$(grep -c '^PASS: ' "$log")
    stride=$(sed -n 's/^xq-gic-guest: redistributor-stride (u64) = //p' "$log")
    if grep -q '^Test result: SUCCESS' "$log" && ! grep -q '^FAIL' "$log"; then
        result "$1" PASS "$n checks passed in the guest${stride:+; it read redistributor-stride (u64) = $stride}"
    else
        result "$1" FAIL "$(grep -c '^FAIL' "$log") checks failed in the guest"
    fi
}

# The freestanding guest checks its device tree and vGIC (test-vms/guests).
step_gic_guest() {
    step_gic_guest_config
    if ! xl create /tmp/gic-guest.cfg; then
        result gic-guest FAIL "xl create failed"
        return
    fi
    gic_guest_verdict gic-guest
}

# unavailable_tap CHECK ERRNO: Xen cannot answer the domctl, the test
# program must see ERRNO on every request (about dom0); CHECK-errno names
# the errno it saw.
unavailable_tap() {
    tap_step "$1" test-arm-configure-domain --expect-error "$2" 0 "v$HOST_GIC"
    seen=$(echo "$out" | sed -n 's/^# XEN_DOMCTL_arm_configure_domain errno: //p')
    if [ "$seen" = "$2" ]; then
        result "$1-errno" PASS "XEN_DOMCTL_arm_configure_domain failed with $seen"
    else
        result "$1-errno" FAIL "expected $2, the test program saw '${seen:-nothing}'"
    fi
}

# fallback_gic_guest CHECK: Xen cannot answer, yet xl create builds the
# freestanding guest, with libxl's warning, once, in xl's output; the
# guest's checks pass on the public layout, without redistributor-stride.
fallback_gic_guest() {
    step_gic_guest_config none
    out=$(xl create /tmp/gic-guest.cfg 2>&1)
    rc=$?
    echo "$out" | sed 's/^/xl| /'
    warn=$(echo "$out" | grep 'warning: .*XEN_DOMCTL_arm_configure_domain')
    n=$(echo "$out" | grep -c 'XEN_DOMCTL_arm_configure_domain')
    if [ $rc -ne 0 ]; then
        result "$1-xl" FAIL "xl create failed (rc=$rc)"
        return
    fi
    if [ -n "$warn" ] && [ "$n" = 1 ]; then
        result "$1-xl" PASS "xl create succeeded with one warning: ${warn#*warning: }"
    else
        result "$1-xl" FAIL "xl create succeeded, but with $n lines about the domctl, expected one warning"
    fi
    gic_guest_verdict "$1-guest"
}

# A Linux domU reports the GIC its kernel found.
step_linux_guest() {
    cat >/tmp/linux-guest.cfg <<EOC
name = "linux-guest"
kernel = "/xq/guests/vmlinuz"
ramdisk = "/xq/guests/linux-domu.cpio.gz"
memory = 160
vcpus = 1
extra = "console=hvc0 rdinit=/init quiet"
on_poweroff = "destroy"
on_crash = "destroy"
on_reboot = "destroy"
EOC
    if ! xl create /tmp/linux-guest.cfg; then
        result linux-guest FAIL "xl create failed"
        return
    fi
    wait_gone linux-guest 60 || result linux-guest FAIL "the guest did not power off in 60 s"
    log=/var/log/xen/console/guest-linux-guest.log
    sed 's/^/linux-guest| /' "$log"
    if [ "$HOST_GIC" = 3 ]; then want="chip=GICv3 dt-compatible=arm,gic-v3"; else want="chip=GIC-0 dt-compatible=arm,cortex-a15-gic"; fi
    if grep -q "XQ-LINUX-GIC: $want" "$log"; then
        result linux-guest PASS "the kernel found $want"
    else
        result linux-guest FAIL "expected '$want'"
    fi
}

# Asking for the other GIC version than the host's must fail cleanly.
step_gic_mismatch() {
    if [ "$HOST_GIC" = 3 ]; then ask=v2; else ask=v3; fi
    cat >/tmp/mismatch.cfg <<EOC
name = "mismatch"
kernel = "/xq/guests/xq-gic-guest.img"
memory = 32
vcpus = 1
gic_version = "$ask"
on_poweroff = "destroy"
EOC
    if out=$(xl create /tmp/mismatch.cfg 2>&1); then
        echo "$out" | sed 's/^/xl| /'
        result gic-mismatch FAIL "xl created a $ask guest where Xen offers vGICv$HOST_GIC"
        xl destroy mismatch
    else
        echo "$out" | sed 's/^/xl| /'
        why=$(xl dmesg | grep -m1 "vGIC$ask is not supported")
        if [ -n "$why" ]; then
            result gic-mismatch PASS "xl refused a $ask guest ($(echo "$out" | grep -m1 'creation fail' | sed 's/.*: domain/domain/')); Xen: ${why#*) }"
        else
            result gic-mismatch FAIL "xl failed, but Xen did not say vGIC$ask is not supported"
        fi
    fi
    n=$(xl list | tail -n +2 | wc -l)
    if [ "$n" = 1 ] && xl list | grep -q '^Domain-0 '; then
        result gic-mismatch-cleanup PASS "xl list shows only Domain-0"
    else
        xl list
        result gic-mismatch-cleanup FAIL "$n domains left"
    fi
}

# FLASK: the mode the hypervisor runs in.
step_flask_enforcing() {
    mode=$(flask-getenforce 2>&1)
    if [ "$mode" = Enforcing ]; then
        result flask-enforcing PASS "flask-getenforce: $mode"
    else
        result flask-enforcing FAIL "flask-getenforce: $mode"
    fi
}

# tap_step NAME CMD...: run a TAP-printing test program, keep its output,
# one result from its exit status and plan; returns 0 when it passed.
tap_step() {
    name=$1
    shift
    out=$("$@" 2>&1)
    rc=$?
    echo "$out" | sed "s/^/$name| /"
    n=$(echo "$out" | grep -c '^ok ')
    bad=$(echo "$out" | grep -c '^not ok ')
    plan=$(echo "$out" | sed -n 's/^1\.\.\([0-9]*\)$/\1/p')
    if [ $rc -eq 0 ] && [ "$bad" = 0 ] && [ -n "$plan" ] && [ "$n" = "$plan" ]; then
        result "$name" PASS "$n/$plan TAP tests passed"
    else
        result "$name" FAIL "rc=$rc, $n/${plan:-?} passed, $bad failed"
        return 1
    fi
}

# dom0's GIC node in its device tree (the host's, as Xen copied it).
dom0_gic_node() {
    for d in /proc/device-tree/*; do
        if [ -f "$d/compatible" ] &&
           grep -qa -e 'arm,gic-v3' -e 'arm,cortex-a15-gic' "$d/compatible"; then
            echo "$d"
            return
        fi
    done
}

# The domctl, asked by the test program about a paused guest: its answer
# matches the guest's vGIC and the public constants.  About dom0: every
# region it reports agrees with dom0's own device tree.  The guest, run
# afterwards from the same config, sees the same layout in its DT.
step_domctl() {
    step_gic_guest_config
    sed 's/^name = .*/name = "domctl-guest"/' /tmp/gic-guest.cfg >/tmp/domctl-guest.cfg
    if ! xl create -p /tmp/domctl-guest.cfg; then
        result domctl FAIL "xl create -p failed"
        return
    fi
    tap_step domctl test-arm-configure-domain "$(xl domid domctl-guest)" "v$HOST_GIC"
    node=$(dom0_gic_node)
    if [ -z "$node" ]; then
        result domctl-dom0 FAIL "no GIC node in dom0's /proc/device-tree"
    else
        tap_step domctl-dom0 test-arm-configure-domain --host-layout --dt "$node" 0 "v$HOST_GIC"
    fi
    xl destroy domctl-guest
}

# dom0 with more vCPUs than the host's first redistributor region holds
# gets several regions (QEMU's virt has a second, high one): the domctl
# must report each of them, by index, as dom0's device tree gives them.
step_domctl_regions() {
    node=$(dom0_gic_node)
    if [ -z "$node" ]; then
        result domctl-regions FAIL "no GIC node in dom0's /proc/device-tree"
        return
    fi
    tap_step domctl-regions test-arm-configure-domain --host-layout --dt "$node" 0 "v$HOST_GIC"
    n=$(echo "$out" | sed -n 's/^# GICR region 0 of \([0-9]*\):.*/\1/p')
    dt=$(echo "$out" | grep -c '^# GICR region .* = device tree reg')
    if [ "${n:-0}" -ge 2 ] && [ "$dt" = "$n" ]; then
        result domctl-regions-count PASS "$n redistributor regions reported, each equal to dom0's device tree: $(echo "$out" | sed -n 's/^# GICR region \(.*\) = device tree.*/\1/p' | tr '\n' ';')"
    else
        result domctl-regions-count FAIL "expected at least 2 regions, each matching the device tree (got ${n:-none}, $dt matching)"
    fi
}

# Our tools on the hypervisor built without our series: the domctl does not
# exist (ENOSYS; with FLASK enforcing, its policy denies the unknown domctl:
# EPERM), xl still builds the guests, with a warning.
step_unpatched() {
    if [ "$HYPERVISOR" != base ]; then
        result unpatched FAIL "the scenario must boot hypervisor=base"
        return
    fi
    err=ENOSYS
    [ "$(flask-getenforce 2>/dev/null)" != Enforcing ] || err=EPERM
    unavailable_tap unpatched "$err"
    fallback_gic_guest unpatched
}

# FLASK enforcing with a policy whose dom0 lacks domain2:configure_domain:
# the domctl is refused with EACCES, xl create still builds the guest (with
# a warning, on the public layout), Xen logs the denial in the documented
# form, and dom0 keeps working.
step_flask_denied() {
    if ! flask-loadpolicy /xq/xenpolicy-no-configure-domain; then
        result flask-denied FAIL "flask-loadpolicy failed"
        return
    fi
    unavailable_tap flask-denied EACCES
    fallback_gic_guest flask-denied
    avc=$(xl dmesg | grep -m1 'avc:  denied  { configure_domain } .*target=')
    echo "xl dmesg| $avc"
    if echo "$avc" | grep -qE 'avc:  denied  \{ configure_domain \} for source=d0 target=d[0-9]+ scontext=[^ ]+:dom0_t tcontext=[^ ]+ tclass=domain2$'; then
        result flask-denied-avc PASS "Xen logged: ${avc#*avc:  }"
    else
        result flask-denied-avc FAIL "no denial of the form docs/misc/xsm-flask.txt shows in xl dmesg"
    fi
    if [ "$(xl list | tail -n +2 | wc -l)" = 1 ] && xenstore-ls / >/dev/null; then
        result flask-denied-dom0 PASS "dom0 works: xl list shows only Domain-0, xenstore answers"
    else
        xl list
        result flask-denied-dom0 FAIL "something was left behind or dom0 is broken"
    fi
    # The policy Xen booted with, back for the scenarios that share this
    # boot: the domctl about dom0 answers again, as in domctl-dom0.
    if flask-loadpolicy /xq/xenpolicy-default; then
        tap_step flask-denied-restored test-arm-configure-domain --host-layout --dt "$(dom0_gic_node)" 0 "v$HOST_GIC" &&
            return
    else
        result flask-denied-restored FAIL "flask-loadpolicy of the default policy failed"
    fi
    # Under another policy the scenarios after this one would fail for it:
    # end the boot instead; scripts/boot boots them again, alone.
    poweroff -f
}

# A careless or hostile toolstack: XEN_DOMCTL_arm_configure_domain with
# random and boundary contents (test-vms/dom0-tools/domctl-fuzz.c) about
# dom0, a paused guest and a guest destroyed while the calls go on.  Every
# answer must be one the ABI documents, the well-formed answer must not
# change, and Xen and dom0 must keep working.  The seed is xq.seed= on
# dom0's command line (dom0_args in a scenario), else a fixed one: a
# failing run is replayed with the seed it prints.
step_domctl_fuzz() {
    seed=$(arg xq.seed)
    seed=${seed:-20261130}
    step_gic_guest_config
    for g in fuzz-guest fuzz-dying; do
        sed "s/^name = .*/name = \"$g\"/" /tmp/gic-guest.cfg >/tmp/$g.cfg
        if ! xl create -p /tmp/$g.cfg >/tmp/$g.log 2>&1; then
            result domctl-fuzz FAIL "xl create -p $g failed: $(tail -n 1 /tmp/$g.log)"
            return
        fi
    done
    (sleep 1; xl destroy fuzz-dying) &
    out=$(/xq/bin/domctl-fuzz "$seed" 40000 0 "$(xl domid fuzz-guest)" "$(xl domid fuzz-dying)" 2>&1)
    rc=$?
    wait
    echo "$out" | sed 's/^/# /'
    if [ $rc -eq 0 ]; then
        result domctl-fuzz PASS "$(echo "$out" | tail -n 1); answers: $(echo "$out" | sed -n 's/^errno [0-9]* (\(.*\)): \([0-9]*\)$/\1 \2/p' | tr '\n' ';')"
    else
        result domctl-fuzz FAIL "$(echo "$out" | grep -m1 -E 'undocumented|changed|fails') (seed $seed)"
    fi
    rate=$(echo "$out" | sed -n 's/.*, \([0-9]*\) calls\/s$/\1/p')
    [ -z "$rate" ] || measured domctl-fuzz-calls-per-s "$rate"
    if xl list fuzz-guest >/dev/null 2>&1 && xl destroy fuzz-guest && ! xl domid fuzz-dying >/dev/null 2>&1 &&
        [ "$(xl list | grep -c .)" -eq 2 ]; then
        result domctl-fuzz-dom0 PASS "dom0 and xl work on; the guests are gone"
    else
        result domctl-fuzz-dom0 FAIL "after the fuzzing: $(xl list 2>&1 | tr '\n' ';')"
    fi
}
