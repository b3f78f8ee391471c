/*
 * Freestanding arm64 Xen guest: checks the GIC that the device tree it was
 * booted with describes, and the vGIC itself, against what the harness
 * says to expect on the command line:
 *
 *   xq.gic=2|3 xq.gicd=BASE,SIZE xq.gicc=BASE,SIZE   (v2)
 *   xq.gic=3   xq.gicd=BASE,SIZE xq.gicr=BASE,SIZE   (v3)
 *              [xq.stride=STRIDE|none]
 *
 * xq.stride: the GIC node must carry "redistributor-stride" = STRIDE, read
 * as Linux's of_property_read_u64() does (a u64, 8 bytes), or (none) must
 * not carry it; without xq.stride the property is not checked.
 *
 * One "PASS: ..." or "FAIL: ..." line per check, then exactly one
 * "Test result: SUCCESS|FAILURE" line, then PSCI SYSTEM_OFF.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <libfdt.h>
#include "guest.h"

#define GICD_TYPER      0x0004
#define GICD_PIDR2_V2   0x0fe8          /* GICD_ICPIDR2, 4 KiB frame */
#define GICD_PIDR2_V3   0xffe8          /* GICD_PIDR2, 64 KiB frame */
#define GICC_IIDR       0x00fc
#define GICR_TYPER      0x0008
#define GICR_PIDR2      0xffe8
#define PIDR2_ARCHREV(v) (((v) >> 4) & 0xf)

struct range {
    uint64_t base, size;
};

struct expect {
    unsigned int gic;
    struct range gicd, gicc, gicr;
    int stride_given;           /* xq.stride= was on the command line */
    uint64_t stride;            /* its value, 0 for "none" */
};

static unsigned int failures;

static void check(int ok, const char *what)
{
    puts_uart(ok ? "PASS: " : "FAIL: ");
    puts_uart(what);
    puts_uart("\n");
    if (!ok)
        failures++;
}

/* check_val: compare a number, and print both on failure. */
static void check_val(const char *what, uint64_t got, uint64_t want)
{
    if (got == want) {
        check(1, what);
        return;
    }
    puts_uart("FAIL: ");
    puts_uart(what);
    puts_uart(": got ");
    puthex(got);
    puts_uart(", expected ");
    puthex(want);
    puts_uart("\n");
    failures++;
}

void guest_exception(uint64_t esr, uint64_t elr, uint64_t far)
{
    puts_uart("FAIL: unexpected exception: ESR=");
    puthex(esr);
    puts_uart(" ELR=");
    puthex(elr);
    puts_uart(" FAR=");
    puthex(far);
    puts_uart("\nTest result: FAILURE\n");
}

/* Parse "BASE,SIZE" into r. */
static int parse_range(const char *s, struct range *r)
{
    char *end;

    r->base = strtoul(s, &end, 0);
    if (*end != ',')
        return -1;
    r->size = strtoul(end + 1, &end, 0);
    return (*end == ' ' || *end == '\0') ? 0 : -1;
}

static int parse_args(const char *args, struct expect *e)
{
    const char *p;

    memset(e, 0, sizeof(*e));
    for (p = args; p && *p; p = strchr(p, ' '), p = p ? p + 1 : NULL) {
        if (!strncmp(p, "xq.gic=", 7))
            e->gic = strtoul(p + 7, NULL, 10);
        else if (!strncmp(p, "xq.gicd=", 8) && parse_range(p + 8, &e->gicd))
            return -1;
        else if (!strncmp(p, "xq.gicc=", 8) && parse_range(p + 8, &e->gicc))
            return -1;
        else if (!strncmp(p, "xq.gicr=", 8) && parse_range(p + 8, &e->gicr))
            return -1;
        else if (!strncmp(p, "xq.stride=", 10)) {
            char *end;

            e->stride_given = 1;
            if (!strncmp(p + 10, "none", 4))
                end = (char *)p + 14;
            else
                e->stride = strtoul(p + 10, &end, 0);
            if ((*end != ' ' && *end != '\0') || (end != p + 14 && !e->stride))
                return -1;
        }
    }
    if (e->gic == 2)
        return (e->gicd.size && e->gicc.size) ? 0 : -1;
    if (e->gic == 3)
        return (e->gicd.size && e->gicr.size) ? 0 : -1;
    return -1;
}

static uint64_t read_cells(const fdt32_t *p, int n)
{
    uint64_t v = 0;

    while (n--)
        v = (v << 32) | fdt32_to_cpu(*p++);
    return v;
}

/*
 * "redistributor-stride" as Linux reads it: of_property_read_u64() wants at
 * least 8 bytes (a 4-byte cell makes it fail, and Linux then ignores the
 * property) and takes the first 8 as a big-endian u64; the binding says a
 * u64, so exactly 8.  Property values are only 4-byte aligned: fdt64_ld().
 */
static void check_stride(const void *fdt, int node, uint64_t want)
{
    const fdt64_t *p;
    int len;

    p = fdt_getprop(fdt, node, "redistributor-stride", &len);
    if (!want) {
        check(p == NULL, "dt: no redistributor-stride property");
        return;
    }
    check(p != NULL, "dt: a redistributor-stride property");
    if (!p)
        return;
    check_val("dt: redistributor-stride is a u64 (8 bytes)", len, 8);
    if (len < 8)
        return;
    puts_uart("xq-gic-guest: redistributor-stride (u64) = ");
    puthex(fdt64_ld(p));
    puts_uart("\n");
    check_val("dt: redistributor-stride (u64)", fdt64_ld(p), want);
}

static void check_node(const void *fdt, const struct expect *e)
{
    const char *want = e->gic == 3 ? "arm,gic-v3" : "arm,cortex-a15-gic";
    const char *other = e->gic == 3 ? "arm,cortex-a15-gic" : "arm,gic-v3";
    const struct range *second = e->gic == 3 ? &e->gicr : &e->gicc;
    const fdt32_t *reg, *cells;
    int node, len, ac, sc, stride;

    node = fdt_node_offset_by_compatible(fdt, -1, want);
    check(node >= 0, e->gic == 3 ? "dt: a GIC node compatible with arm,gic-v3"
                                 : "dt: a GIC node compatible with arm,cortex-a15-gic");
    check(fdt_node_offset_by_compatible(fdt, -1, other) < 0,
          "dt: no GIC node of the other version");
    if (node < 0)
        return;
    check(fdt_node_offset_by_compatible(fdt, node, want) < 0,
          "dt: exactly one GIC node");
    check(fdt_getprop(fdt, node, "interrupt-controller", NULL) != NULL,
          "dt: the GIC node is an interrupt-controller");
    cells = fdt_getprop(fdt, node, "#interrupt-cells", &len);
    check_val("dt: #interrupt-cells", cells && len == 4 ? fdt32_to_cpu(*cells) : 0, 3);

    ac = fdt_address_cells(fdt, fdt_parent_offset(fdt, node));
    sc = fdt_size_cells(fdt, fdt_parent_offset(fdt, node));
    reg = fdt_getprop(fdt, node, "reg", &len);
    stride = (ac + sc) * 4;
    if (!reg || ac < 1 || ac > 2 || sc < 1 || sc > 2 || len < 2 * stride) {
        check(0, "dt: the GIC node has a reg with two regions");
        return;
    }
    check_val("dt: reg regions", len / stride, 2);
    check_val("dt: distributor base", read_cells(reg, ac), e->gicd.base);
    check_val("dt: distributor size", read_cells(reg + ac, sc), e->gicd.size);
    reg += ac + sc;
    check_val(e->gic == 3 ? "dt: redistributor base" : "dt: CPU interface base",
              read_cells(reg, ac), second->base);
    check_val(e->gic == 3 ? "dt: redistributor size" : "dt: CPU interface size",
              read_cells(reg + ac, sc), second->size);
    if (e->stride_given)
        check_stride(fdt, node, e->stride);
}

static void probe_gic(const struct expect *e)
{
    uint64_t mpidr, typer, aff;

    check_val("vgic: GICD_PIDR2.ArchRev",
              PIDR2_ARCHREV(read32(e->gicd.base + (e->gic == 3 ? GICD_PIDR2_V3 : GICD_PIDR2_V2))),
              e->gic);
    if (e->gic == 2) {
        check_val("vgic: GICC_IIDR.ArchVersion", (read32(e->gicc.base + GICC_IIDR) >> 16) & 0xf, 2);
        check_val("vgic: GICD_TYPER.CPUNumber (one vCPU)", (read32(e->gicd.base + GICD_TYPER) >> 5) & 7, 0);
        return;
    }
    asm volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
    aff = (mpidr & 0xffffff) | ((mpidr >> 32 & 0xff) << 24);
    typer = read64(e->gicr.base + GICR_TYPER);
    check_val("vgic: GICR_PIDR2.ArchRev of vCPU0's redistributor",
              PIDR2_ARCHREV(read32(e->gicr.base + GICR_PIDR2)), 3);
    check_val("vgic: GICR_TYPER.Affinity is vCPU0's MPIDR", typer >> 32, aff);
    check_val("vgic: GICR_TYPER.Processor_Number", (typer >> 8) & 0xffff, 0);
    check_val("vgic: GICR_TYPER.Last (one vCPU)", (typer >> 4) & 1, 1);
}

void guest_main(const void *fdt)
{
    struct expect e;
    const char *args;
    int chosen;

    puts_uart("xq-gic-guest: start\n");
    if (fdt_check_header(fdt)) {
        check(0, "dt: valid device tree header");
        goto out;
    }
    check(1, "dt: valid device tree header");
    chosen = fdt_path_offset(fdt, "/chosen");
    args = chosen >= 0 ? fdt_getprop(fdt, chosen, "bootargs", NULL) : NULL;
    if (!args || parse_args(args, &e)) {
        check(0, "cmdline: xq.gic=2|3 with xq.gicd= and xq.gicc=/xq.gicr= given");
        goto out;
    }
    puts_uart("xq-gic-guest: expecting GICv");
    putdec(e.gic);
    puts_uart("\n");
    check_node(fdt, &e);
    probe_gic(&e);
out:
    puts_uart(failures ? "Test result: FAILURE\n" : "Test result: SUCCESS\n");
}
