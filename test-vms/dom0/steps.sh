# Helpers for the steps the dom0 init runs; the steps themselves are the
# step_NAME functions of steps-ARCH.sh.  Every check prints
# "XQ-RESULT <check> PASS|FAIL <detail>"; the host harness turns them into
# the scenario's verdict.
# shellcheck shell=sh

result() { echo "XQ-RESULT $1 $2 $3"; }

# uptime_s: dom0's uptime in seconds; since T0: the seconds since uptime T0.
uptime_s() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }'; }

# A measurement for the timing report (not a verdict): "XQ-TIME <what> <s>".
measured() { echo "XQ-TIME $1 $2"; }

# wait_gone NAME SECONDS: wait for a domain to disappear; destroy it and
# fail after SECONDS.  xenstore wakes the wait: the domain's directory goes
# when it is destroyed, and a watch fires once when set, then on the next
# change below it.  Each watch lasts at most 2 s, so a directory removed
# just before its watch was set costs at most that; a watch that fails
# at once waits 1 s.  Not a poll of xl: dom0 shares the emulated host's
# one CPU with the guest, and an xl every 0.1 s took half of it (a Linux
# guest took 28 s instead of 17).
wait_gone() {
    wg_id=$(xl domid "$1" 2>/dev/null) || return 0
    wg_end=$(($(uptime_s | cut -d. -f1) + $2))
    while xenstore-exists "/local/domain/$wg_id/name" 2>/dev/null; do
        wg_left=$((wg_end - $(uptime_s | cut -d. -f1)))
        if [ $wg_left -le 0 ]; then
            xl destroy "$1"
            return 1
        fi
        timeout "$((wg_left < 2 ? wg_left : 2))" xenstore-watch -n 2 "/local/domain/$wg_id" >/dev/null 2>&1
        case $? in 0|124|143) ;; *) sleep 1 ;; esac
    done
    return 0
}

# scenario_reset NAME: after scenario NAME: no domain but dom0 (one still
# there 10 s later, dying ones given the time to go, is NAME's failure),
# no blacklist in xenstore, no guest, device model or console logs, an
# empty Xen console ring: what the next scenario of a shared boot finds
# is what a fresh boot gives it.
scenario_reset() {
    i=0
    while [ "$(xl list | awk 'NR > 2' | wc -l)" -gt 0 ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    for d in $(xl list | awk 'NR > 2 { print $1 }'); do
        result "$1-leftover" FAIL "domain $d was still there after the scenario"
        xl destroy "$d"
    done
    xenstore-rm /mh/driver-blacklist 2>/dev/null
    rm -f /var/log/xen/*.log /var/log/xen/*.log.[0-9]* /var/log/xen/console/*
    xl dmesg -c >/dev/null
}
