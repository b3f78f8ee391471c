/*
 * Library of the x86 platform test guest: COM1 output, a PIT
 * delay, PCI configuration access and power off (strings are in
 * ../common/string.c).  Every wait is bounded.
 */
#include "guest.h"

/* COM1, 115200 8n1, polled */
#define COM1 0x3f8

void serial_init(void)
{
    outb(COM1 + 1, 0x00);       /* no interrupts */
    outb(COM1 + 3, 0x80);       /* DLAB */
    outb(COM1 + 0, 0x01);       /* divisor 1: 115200 */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);       /* 8n1 */
    outb(COM1 + 2, 0x07);       /* FIFO on, cleared */
    outb(COM1 + 4, 0x03);       /* DTR, RTS */
}

/*
 * Output goes out a FIFO's worth at a time, as Linux's 8250 driver does:
 * once THRE says the 16-byte transmit FIFO is empty, up to 16 bytes with
 * one rep outsb.  Under Xen each access to the emulated UART is a round
 * trip to the device model, milliseconds under TCG; a poll and a write
 * per byte cost a guest seconds of its run.  pr() and pr_u64() flush.
 */
#define COM1_FIFO 16
static char tx[COM1_FIFO];
static unsigned int tx_len;

void serial_flush(void)
{
    unsigned int i;

    if (!tx_len)
        return;
    /* Wait for THRE, but never forever: a missing UART reads 0xff */
    for (i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
        ;
    outsb(COM1, tx, tx_len);
    tx_len = 0;
}

static void serial_putc(char c)
{
    tx[tx_len++] = c;
    if (tx_len == COM1_FIFO || c == '\n')
        serial_flush();
}

/*
 * A small formatter for both the serial line and string buffers:
 * %s %c %u %d %x, with a width and the 0 flag.
 */
struct sink {
    char *buf;          /* NULL: serial */
    size_t size, len;
};

static void sink_putc(struct sink *o, char c)
{
    if (!o->buf)
        serial_putc(c);
    else if (o->len + 1 < o->size)
        o->buf[o->len++] = c;
}

static void put_str(struct sink *o, const char *s)
{
    while (*s)
        sink_putc(o, *s++);
}

static void put_num(struct sink *o, uint32_t v, unsigned int base, int width,
                    char pad)
{
    char buf[12];
    int n = 0;

    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v && n < (int)sizeof(buf));
    while (width-- > n)
        sink_putc(o, pad);
    while (n)
        sink_putc(o, buf[--n]);
}

static void vformat(struct sink *o, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        int width = 0;
        char pad = ' ';

        if (*fmt != '%') {
            sink_putc(o, *fmt);
            continue;
        }
        fmt++;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);

            put_str(o, s ? s : "(null)");
            break;
        }
        case 'c':
            sink_putc(o, (char)va_arg(ap, int));
            break;
        case 'u':
            put_num(o, va_arg(ap, uint32_t), 10, width, pad);
            break;
        case 'd': {
            int32_t v = va_arg(ap, int32_t);

            if (v < 0) {
                sink_putc(o, '-');
                v = -v;
            }
            put_num(o, (uint32_t)v, 10, width, pad);
            break;
        }
        case 'x':
            put_num(o, va_arg(ap, uint32_t), 16, width, pad);
            break;
        case '%':
            sink_putc(o, '%');
            break;
        default:
            return;
        }
    }
}

void vpr(const char *fmt, va_list ap)
{
    struct sink o = { NULL, 0, 0 };

    vformat(&o, fmt, ap);
    serial_flush();
}

void pr(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vpr(fmt, ap);
    va_end(ap);
}

size_t vfmt(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sink o = { buf, size, 0 };

    vformat(&o, fmt, ap);
    if (size)
        buf[o.len] = 0;
    return o.len;
}

size_t sfmt(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    n = vfmt(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* 64-bit by 32-bit division with two divl, so no libgcc is needed */
static uint32_t div64_32(uint64_t *n, uint32_t d)
{
    uint32_t hi = (uint32_t)(*n >> 32), lo = (uint32_t)*n, qhi, qlo, r;

    qhi = hi / d;
    r = hi % d;
    asm("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
    *n = ((uint64_t)qhi << 32) | qlo;
    return r;
}

void pr_u64(uint64_t v)
{
    char buf[21];
    int n = 0;

    do {
        buf[n++] = (char)('0' + div64_32(&v, 10));
    } while (v && n < (int)sizeof(buf));
    while (n)
        serial_putc(buf[--n]);
    serial_flush();
}

/* A whole string as a 32-bit number: decimal, or hex with 0x */
int parse_u32(const char *s, uint32_t *v)
{
    uint32_t r = 0;
    unsigned int base = 10, digits = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    for (; *s; s++, digits++) {
        unsigned int d;

        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = *s - 'A' + 10;
        else
            return -1;
        if (r > (0xffffffffu - d) / base)
            return -1;
        r = r * base + d;
    }
    if (!digits)
        return -1;
    *v = r;
    return 0;
}

/*
 * Countdowns of PIT channel 2 (gate through port 0x61, output read back on
 * bit 5), which Xen emulates for HVM guests as QEMU does: mode 0, MS (at
 * most 50) milliseconds, busy-waited.  pit_fired is bounded: -1 if the
 * countdown never ends.
 */
static void pit_start(uint32_t ms)
{
    uint32_t count = ms * 1193;                 /* 1.193182 MHz */

    outb(0x61, (inb(0x61) & ~0x02) | 0x01);     /* gate on, speaker off */
    outb(0x43, 0xb0);                           /* ch 2, lo/hi, mode 0 */
    outb(0x42, count & 0xff);
    outb(0x42, count >> 8);
}

static int pit_fired(void)
{
    uint32_t i;

    for (i = 0; i < 1000000 && !(inb(0x61) & 0x20); i++)
        ;
    return i == 1000000 ? -1 : 0;
}

static void pit_stop(void)
{
    outb(0x61, inb(0x61) & ~0x03);
}

static int pit_wait(uint32_t ms)
{
    int r;

    pit_start(ms);
    r = pit_fired();
    pit_stop();
    return r;
}

#define LAPIC_TPR       0x80
#define LAPIC_SVR       0xf0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_CCR 0x390
#define LAPIC_TIMER_DCR 0x3e0
#define LVT_MASKED      (1u << 16)
#define MSR_APIC_BASE   0x1b

volatile uint32_t timer_fired;
static uint32_t lapic_base;
static uint32_t lapic_per_ms;           /* 0: not timed yet, ~0: no timer */

static volatile uint32_t *lapic(uint32_t reg)
{
    return (volatile uint32_t *)(lapic_base + reg);
}

/*
 * The local APIC timer's ticks in one 10 ms countdown of PIT channel 2:
 * armed right before the PIT and read right after it fired, so that a
 * stall of the emulated machine anywhere in between can only add ticks
 * (armed after the PIT, a stall before it started lost ticks, and delays
 * came out short); 0 if either did not count.
 */
static uint32_t lapic_ticks_10ms(void)
{
    uint32_t left;
    int r;

    *lapic(LAPIC_TIMER_ICR) = 0xffffffffu;
    pit_start(10);
    r = pit_fired();
    left = *lapic(LAPIC_TIMER_CCR);
    pit_stop();
    *lapic(LAPIC_TIMER_ICR) = 0;
    return r || left == 0 ? 0 : 0xffffffffu - left;
}

/*
 * Time the local APIC timer (Xen's, in the hypervisor) against the PIT:
 * the least of three countdowns, since a stall of the emulated machine
 * can only lengthen one.  Then one 1 ms shot must arrive within 20 ms.
 * The 8259s are masked: their vectors are the BIOS's and would land on
 * our exception stubs.  Returns why the timer cannot be used, or NULL.
 */
static const char *lapic_timer_setup(void)
{
    uint32_t lo, hi, ticks, best = 0;
    unsigned int i;

    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_APIC_BASE));
    if (!(lo & (1u << 11)) || (lo & (1u << 10)) || hi)
        return "the local APIC is off or in x2APIC mode";
    lapic_base = lo & 0xfffff000u;
    *lapic(LAPIC_SVR) = 0x100 | SPURIOUS_VECTOR;       /* APIC on */
    *lapic(LAPIC_TPR) = 0;
    *lapic(LAPIC_TIMER_DCR) = 0xb;                      /* divide by 1 */
    *lapic(LAPIC_LVT_TIMER) = LVT_MASKED | TIMER_VECTOR;
    for (i = 0; i < 3; i++) {
        ticks = lapic_ticks_10ms();
        if (ticks && (!best || ticks < best))
            best = ticks;
    }
    if (best < 10)
        return "its timer or PIT channel 2 does not count";
    lapic_per_ms = best / 10;
    timer_fired = 0;
    *lapic(LAPIC_LVT_TIMER) = TIMER_VECTOR;             /* one-shot */
    *lapic(LAPIC_TIMER_ICR) = lapic_per_ms;
    asm volatile("sti" : : : "memory");
    for (i = 0; i < 2 && !timer_fired; i++)
        pit_wait(10);
    asm volatile("cli" : : : "memory");
    *lapic(LAPIC_LVT_TIMER) = LVT_MASKED | TIMER_VECTOR;
    return timer_fired ? NULL : "its timer interrupt did not arrive";
}

/*
 * Halted rather than busy: under emulation, each of a busy-wait's port
 * reads is an exit to Xen, and a spinning guest takes the CPU dom0 and
 * the other guests' device models need.
 */
void delay_ms(uint32_t ms)
{
    const char *why;

    if (!lapic_per_ms) {
        why = lapic_timer_setup();
        if (why) {
            pr("info: no local APIC timer (%s): delays busy-wait on the "
               "PIT\n", why);
            lapic_per_ms = ~0u;
        } else {
            pr("info: local APIC timer: %u ticks a ms\n", lapic_per_ms);
        }
    }
    while (ms) {
        uint32_t step;

        if (lapic_per_ms == ~0u) {
            step = ms < 10 ? ms : 10;
            if (pit_wait(step))
                return;
            ms -= step;
            continue;
        }
        step = 0xffffffffu / lapic_per_ms;
        step = ms < step ? ms : step;
        timer_fired = 0;
        *lapic(LAPIC_LVT_TIMER) = TIMER_VECTOR;         /* one-shot */
        *lapic(LAPIC_TIMER_ICR) = step * lapic_per_ms;
        while (!timer_fired)
            asm volatile("sti; hlt; cli" : : : "memory");
        *lapic(LAPIC_LVT_TIMER) = LVT_MASKED | TIMER_VECTOR;
        ms -= step;
    }
}

static uint32_t pci_addr(unsigned int bus, unsigned int dev, unsigned int fn,
                         unsigned int reg)
{
    return 0x80000000u | (bus & 0xff) << 16 | (dev & 0x1f) << 11 |
           (fn & 7) << 8 | (reg & 0xfc);
}

uint32_t pci_read32(unsigned int bus, unsigned int dev, unsigned int fn,
                    unsigned int reg)
{
    outl(0xcf8, pci_addr(bus, dev, fn, reg));
    return inl(0xcfc);
}

void pci_write32(unsigned int bus, unsigned int dev, unsigned int fn,
                 unsigned int reg, uint32_t v)
{
    outl(0xcf8, pci_addr(bus, dev, fn, reg));
    outl(0xcfc, v);
}

/*
 * ACPI soft-off without parsing tables: PM1a_CNT = SLP_TYP(S5) | SLP_EN.
 * Under Xen, hvmloader's FADT puts PM1a_CNT at 0xb004
 * (ACPI_PM1A_CNT_BLK_ADDRESS_V1; hvmloader sets the PIIX4 PM base to 0xb000)
 * and its DSDT's \_S5 has SLP_TYP 0: qemu-xen's PIIX4 PM then asks Xen to
 * power the domain off.  Elsewhere (plain QEMU) the PM base is wherever the
 * firmware put it: read it from the PIIX4 PM function (8086:7113) or the
 * ICH9 LPC bridge (8086:2918); QEMU's \_S5 is 0 as well.  Last resort:
 * cli; hlt, which Xen also turns into a power off once every vCPU is down
 * (hvm_hlt with interrupts disabled).
 */
#define SLP_EN (1u << 13)
#define SLP_TYP_S5 0u

static void pm1a_off(uint16_t base)
{
    outw(base + 4, (uint16_t)(SLP_TYP_S5 << 10 | SLP_EN));
    delay_ms(200);
}

void poweroff(void)
{
    unsigned int dev;

    asm volatile("cli");
    pm1a_off(0xb000);
    for (dev = 0; dev < 32; dev++) {
        uint32_t id = pci_read32(0, dev, 0, 0);

        if (id == 0x71138086 || pci_read32(0, dev, 3, 0) == 0x71138086) {
            unsigned int fn = id == 0x71138086 ? 0 : 3;
            uint32_t base = pci_read32(0, dev, fn, 0x40) & 0xffc0;

            if ((pci_read32(0, dev, fn, 0x80) & 1) && base && base != 0xb000)
                pm1a_off((uint16_t)base);
        } else if (id == 0x29188086) {
            uint32_t base = pci_read32(0, dev, 0, 0x40) & 0xff80;

            if ((pci_read32(0, dev, 0, 0x44) & 0x80) && base)
                pm1a_off((uint16_t)base);
        }
    }
    pr("info: poweroff failed, halting\n");
    halt_forever();
}
