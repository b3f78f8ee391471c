# arm64 steps.
# shellcheck shell=sh

. /xq/layout.sh     # GUEST_* constants of the built Xen's public/arch-arm.h

# The host GIC version (xq.gic=) and the guest layout it implies.
HOST_GIC=$(arg xq.gic)
if [ "$HOST_GIC" = 3 ]; then
    EXPECT="xq.gic=3 xq.gicd=$GUEST_GICV3_GICD_BASE,$GUEST_GICV3_GICD_SIZE xq.gicr=$GUEST_GICV3_GICR0_BASE,$GUEST_GICV3_GICR0_SIZE"
else
    EXPECT="xq.gic=2 xq.gicd=$GUEST_GICD_BASE,$GUEST_GICD_SIZE xq.gicc=$GUEST_GICC_BASE,$GUEST_GICC_SIZE"
fi

# The freestanding guest's config, expecting the host's vGIC layout.
step_gic_guest_config() {
    cat >/tmp/gic-guest.cfg <<EOC
name = "gic-guest"
kernel = "/xq/guests/xq-gic-guest.img"
memory = 32
vcpus = 1
vuart = "sbsa_uart"
extra = "$EXPECT"
on_poweroff = "destroy"
on_crash = "destroy"
EOC
}

# The freestanding guest checks its device tree and vGIC (test-vms/guests).
step_gic_guest() {
    step_gic_guest_config
    if ! xl create /tmp/gic-guest.cfg; then
        result gic-guest FAIL "xl create failed"
        return
    fi
    wait_gone gic-guest 30 || result gic-guest FAIL "the guest did not power off in 30 s"
    log=/var/log/xen/console/guest-gic-guest-vuart0.log
    sed 's/^/gic-guest| /' "$log"
    n=$(grep -c '^PASS: ' "$log")
    if grep -q '^Test result: SUCCESS' "$log" && ! grep -q '^FAIL' "$log"; then
        result gic-guest PASS "$n checks passed in the guest"
    else
        result gic-guest FAIL "$(grep -c '^FAIL' "$log") checks failed in the guest"
    fi
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
        result gic-mismatch FAIL "xl created a $ask guest on a GICv$HOST_GIC host"
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
# one result from its exit status and plan.
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
    fi
}

# The domctl, asked by the test program about a paused guest: its answer
# matches the guest's vGIC and the public constants.  The guest, run
# afterwards from the same config, sees the same layout in its DT.
step_domctl() {
    step_gic_guest_config
    sed 's/^name = .*/name = "domctl-guest"/' /tmp/gic-guest.cfg >/tmp/domctl-guest.cfg
    if ! xl create -p /tmp/domctl-guest.cfg; then
        result domctl FAIL "xl create -p failed"
        return
    fi
    tap_step domctl test-arm-configure-domain "$(xl domid domctl-guest)" "v$HOST_GIC"
    tap_step domctl-dom0 test-arm-configure-domain --host-layout 0 "v$HOST_GIC"
    xl destroy domctl-guest
}

# FLASK enforcing with a policy whose dom0 lacks domain2:configure_domain:
# the domctl is refused with EACCES, xl create fails cleanly, dom0 works.
step_flask_denied() {
    if ! flask-loadpolicy /xq/xenpolicy-no-configure-domain; then
        result flask-denied FAIL "flask-loadpolicy failed"
        return
    fi
    tap_step flask-denied test-arm-configure-domain --expect-denied 0 "v$HOST_GIC"
    step_gic_guest_config
    if out=$(xl create /tmp/gic-guest.cfg 2>&1); then
        echo "$out" | sed 's/^/xl| /'
        result flask-denied-xl FAIL "xl created a guest without configure_domain"
        xl destroy gic-guest
    else
        echo "$out" | sed 's/^/xl| /'
        result flask-denied-xl PASS "xl create failed: $(echo "$out" | grep -m1 -iE 'vgic|configure|denied|permission' || echo "$out" | tail -n 1)"
    fi
    if [ "$(xl list | tail -n +2 | wc -l)" = 1 ] && xenstore-ls / >/dev/null; then
        result flask-denied-dom0 PASS "dom0 works: xl list shows only Domain-0, xenstore answers"
    else
        xl list
        result flask-denied-dom0 FAIL "something was left behind or dom0 is broken"
    fi
}
