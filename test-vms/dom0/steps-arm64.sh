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

# The freestanding guest checks its device tree and vGIC (test-vms/guests).
step_gic_guest() {
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
