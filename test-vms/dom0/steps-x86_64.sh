# x86_64 steps: HVM guests on our QEMU device model.
# shellcheck shell=sh

DISK=/root/disk.img
dd if=/dev/zero of="$DISK" bs=1M count=8 2>/dev/null

# hvm_run NAME SECONDS: create an HVM guest from the config on stdin plus
# the settings every test guest needs; wait for it to power off.  Its
# serial output lands in /var/log/xen/guest-NAME.log, its device model's
# log in /var/log/xen/qemu-dm-NAME.log.
hvm_run() {
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
tsc_mode = "native"
EOC
    } >"/tmp/$1.cfg"
    if ! xl create "/tmp/$1.cfg"; then
        result "$1" FAIL "xl create failed"
        return 1
    fi
    if ! wait_gone "$1" "$2"; then
        result "$1" FAIL "the guest did not power off in $2 s"
        tail -n 20 "/var/log/xen/qemu-dm-$1.log" | sed "s/^/$1-dm| /"
    fi
    sed "s/^/$1| /" "/var/log/xen/guest-$1.log"
}

# linux_guest NAME EXTRA: the Linux guest with one emulated IDE disk.
linux_guest() {
    hvm_run "$1" 150 <<EOC
memory = 256
kernel = "/xq/guests/vmlinuz"
ramdisk = "/xq/guests/linux-domu.cpio.gz"
extra = "console=ttyS0 quiet loglevel=3 rdinit=/init $2"
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

# Control: with xen_emul_unplug=never the IDE disk stays.
step_linux_nounplug() {
    linux_guest linux-nounplug "xen_emul_unplug=never" || return
    blk=$(sed -n 's/^XQ-LINUX-BLOCK: //p' /var/log/xen/guest-linux-nounplug.log)
    case " $blk " in
        *" sda "*) result linux-nounplug PASS "xen_emul_unplug=never kept the IDE disk (disks: $blk)" ;;
        *) result linux-nounplug FAIL "the IDE disk is gone (disks: ${blk:-none})" ;;
    esac
}
