/*
 * Freestanding x86 Xen HVM guest: exercises the Xen platform device's
 * emulated-unplug protocol (Xen's docs/misc/hvm-emulated-unplug.pandoc) as
 * QEMU implements it at I/O ports 0x10-0x13.  Booted by xl's kernel= through
 * QEMU's multiboot loader; what to run and what to expect comes from the
 * multiboot command line (xl's extra=), space separated; other words are
 * ignored, an unknown xq.* key is a failure:
 *
 *   xq.tests=T1,T2,...   tests to run (default: magic), always run in the
 *                        order below whatever the order given:
 *     magic        16-bit read of 0x10 is xq.magic; 8-bit read of 0x12 is
 *                  xq.version
 *     build-first  write xq.build (32-bit) to 0x10 before any product
 *                  number: the magic must stay xq.magic (not blacklisted)
 *     handshake    protocol steps 1-5: read the magic and the version,
 *                  write xq.product (16-bit) to 0x12, xq.build (32-bit) to
 *                  0x10, read the magic: it must be xq.expect-magic
 *     log          after checking the magic, send 3 lines to the driver log
 *                  (8-bit writes to 0x12), one with control bytes; see
 *                  "Driver log lines" below
 *     log-long     one line of 4096 + 16 + len(token) bytes: the device
 *                  flushes its 4 KiB buffer as a line of its own
 *     flood        xq.flood bytes as lines of xq.flood-line bytes to 0x12,
 *                  then xq.flood-wait ms later one marker line
 *     hostile      the floods of xq.hostile in turn, each of its bytes of
 *                  its pattern to 0x12 as fast as it can (rep outsb),
 *                  between "info: hostile-start kind=K bytes=N" and
 *                  "info: hostile-done kind=K bytes=N tsc-cycles=C"
 *                  lines, each followed by a pause of xq.hostile-pause ms
 *                  (for dom0 to see it, and the bucket to refill)
 *     unplug       scan PCI bus 0 and the 4 IDE positions (ATA IDENTIFY),
 *                  write the xq.unplug mask (16-bit) to 0x10, rescan: the
 *                  requested devices must be gone and all others remain;
 *                  then the same for each further mask of xq.unplug, the
 *                  last rescan being the next one's "before"
 *     fuzz         a sweep of every offset, width and direction, then
 *                  xq.fuzz accesses drawn from xq.seed (see "Fuzzing"
 *                  below); pause 2 s; check that the device still answers
 *                  the protocol, send "xq-fuzz-after T" to the driver log,
 *                  and hand-shake as experimental build 5 (which dom0
 *                  blacklists): the magic must then be 0xd249
 *     resume       print "info: resume-wait magic=0x..." and wait (at
 *                  most xq.resume-wait ms) for the ACPI power button
 *                  (dom0: xl trigger NAME power, after xl save and xl
 *                  restore), then read the magic: it must still be
 *                  xq.expect-magic
 *   xq.magic=N           magic before any handshake (default 0x49d2; 0xffff
 *                        when there is no platform device)
 *   xq.version=N         protocol version read at 0x12 (default 1)
 *   xq.product=N         product number for handshake (default 0xffff,
 *                        "experimental" in Xen's public/hvm/pvdrivers.h)
 *   xq.build=N           build number for handshake and build-first
 *                        (default 1)
 *   xq.expect-magic=N    magic after the handshake (default 0x49d2; 0xd249
 *                        when /mh/driver-blacklist/<product>/<build> exists)
 *   xq.token=WORD        marker in every driver log line (default xq; up to
 *                        32 printable characters, no '\')
 *   xq.flood=N           flood bytes, newlines included (default 4194304)
 *   xq.flood-line=N      flood line length, newline included, 16..4096
 *                        (default 100)
 *   xq.flood-io=outsb|outb  rep outsb per line (default) or one outb a byte;
 *                        the device sees 8-bit writes either way
 *   xq.flood-wait=MS     pause before the after-flood marker (default 2000)
 *   xq.hostile=K:N+...   the hostile floods, K:N for N bytes of: empty
 *                        (newlines), onechar ("x\n"), ctl (lines of 127
 *                        control bytes 0x01-0x1f but 0x0a), ffnul (lines of
 *                        127 bytes 0xff and 0x00 in turn), unterminated
 *                        (bytes 'U', no newline at all); up to 8 floods
 *   xq.hostile-pause=MS  pause after each hostile marker line (default 1000)
 *   xq.unplug=WHAT:...   none (default), or nics, ide, aux-ide, nvme joined
 *                        with '+', or a number: the mask written to 0x10
 *                        (bit 0 ide: all IDE disks and SCSI, bit 1 nics,
 *                        bit 2 aux-ide: IDE disks but the primary master,
 *                        bit 3 nvme); up to 4 masks, written in turn, each
 *                        check's name starting "unplug WHAT:"
 *   xq.fuzz=N            accesses of the fuzz test (default 100000)
 *   xq.seed=N            its seed, 32 bits (default 1)
 *   xq.resume-wait=MS    the resume test's bound (default 120000)
 *   xq.poweroff=0        halt instead of powering off at the end
 *
 * Numbers are decimal or 0x hex.  Tests build-first and handshake leave
 * state in the device until reset: build-first must come before handshake
 * (it does), and one boot blacklists at most once.
 *
 * Serial output (COM1, 115200 8n1): "info: ..." lines, one "PASS: <what>"
 * or "FAIL: <what>: got X, expected Y" line per check, then exactly one
 * "Test result: SUCCESS" or "Test result: FAILURE" line (FAILURE also when
 * no check ran, or on an unexpected exception), then ACPI soft-off (see
 * poweroff() in lib.c), or cli; hlt if that does not work.
 *
 * Fuzzing: first a sweep, in order, of every offset of the fixed ports
 * and of the I/O BAR with every width that fits, read and write (values
 * from the seed); then xq.fuzz accesses, each a function of the seed alone
 * (xorshift64), so that a seed replays the same stream (what the device
 * does with it may still differ: its blacklist lookups are rate-limited
 * on the host's clock):
 * a read or a write of 1, 2 or 4 bytes at a random offset of the fixed
 * ports 0x10-0x1f (half the accesses), of the device's I/O BAR (256
 * ports, 2 in 5) or of its 16 MiB MMIO BAR (1 in 10), the access within
 * the window (an access that ran past the I/O BAR would reach another
 * device's registers: IDE bus master DMA could overwrite this guest).
 * Values are random, small (0-15) or special (0, 1, 2, 0xff, 0xffff, all
 * ones, '\n'); a 16-bit write at 0x12 (the product number) takes a
 * registered product (1-5, 0xffff) half the time, so that the xenstore
 * blacklist lookups run.  Unplug bits and the ROM lock flag are written
 * like anything else: this guest lives at 2 MiB, outside the ROM range
 * 0xc0000-0xfffff that the lock makes read-only, and uses no disk or NIC.
 *
 * Driver log lines (what the device model should print, escaped, after
 * "xen-platform: guest log: "), T being xq.token:
 *   log:      xq-log T 1 plain line
 *             xq-log T 2 ctl:\x1b[31mred\x07|\x00|\xff|\x0d|\\|\x09 end
 *             xq-log T 3 last line
 *   log-long: xq-long T LLL...L  (4096 characters in all)
 *             xq-long-tail T
 *   flood:    xq-flood T 00000000 ......  (xq.flood-line - 1 characters,
 *             the last line shorter when xq.flood is not a multiple)
 *             xq-flood-after T  (xq.flood-wait ms after the flood)
 */
#include "guest.h"

#define PORT_MAGIC      0x10    /* r16 magic, w16 unplug, w32 build */
#define PORT_VERSION    0x12    /* r8 version, w16 product, w8 log */
#define MAGIC           0x49d2
#define MAGIC_BLACKLISTED 0xd249

#define UNPLUG_IDE      1u
#define UNPLUG_NICS     2u
#define UNPLUG_AUX_IDE  4u
#define UNPLUG_NVME     8u

#define MB_BOOT_MAGIC   0x2BADB002
#define MB_INFO_CMDLINE (1u << 2)

static struct {
    const char *tests;
    uint32_t magic, version, product, build, expect_magic;
    uint32_t flood, flood_line, flood_wait, flood_outb;
    uint32_t unplug[4], unplug_n, poweroff, hostile_pause;
    const char *unplug_name[4];
    uint32_t fuzz, seed, resume_wait;
    const char *token;
    const char *hostile;
} cfg = {
    .tests = "magic",
    .magic = MAGIC, .version = 1, .product = 0xffff, .build = 1,
    .expect_magic = MAGIC,
    .flood = 4194304, .flood_line = 100, .flood_wait = 2000,
    .unplug_n = 1, .unplug_name = { "none" }, .poweroff = 1,
    .token = "xq",
    .hostile = "empty:4096",
    .hostile_pause = 1000,
    .fuzz = 100000, .seed = 1, .resume_wait = 120000,
};

static char cmdline[2048];
static unsigned int checks, failures, verdict_done;

static void pass(const char *what)
{
    checks++;
    pr("PASS: %s\n", what);
}

/* "FAIL: what: got X, expected Y", or "FAIL: what" without got */
static void fail(const char *what, const char *got, const char *want)
{
    checks++;
    failures++;
    if (got)
        pr("FAIL: %s: got %s, expected %s\n", what, got, want);
    else
        pr("FAIL: %s\n", what);
}

static void check_hex(uint32_t got, uint32_t want, const char *whatfmt, ...)
{
    char what[160], g[16], w[16];
    va_list ap;

    va_start(ap, whatfmt);
    vfmt(what, sizeof(what), whatfmt, ap);
    va_end(ap);
    if (got == want) {
        pass(what);
        return;
    }
    sfmt(g, sizeof(g), "0x%x", got);
    sfmt(w, sizeof(w), "0x%x", want);
    fail(what, g, w);
}

static void verdict(void)
{
    if (!checks)
        fail("no check ran (xq.tests empty?)", NULL, NULL);
    verdict_done = 1;
    pr(failures ? "Test result: FAILURE\n" : "Test result: SUCCESS\n");
}

void guest_exception(const uint32_t *frame)
{
    static int nested;

    if (nested++ || verdict_done) {
        serial_flush();                 /* what an interrupted pr() held */
        halt_forever();
    }
    pr("FAIL: exception %u error 0x%x at eip 0x%x\n", frame[0], frame[1],
       frame[2]);
    failures++;
    checks++;
    verdict();
    poweroff();
}

/*
 * The exceptions, delay_ms's timer and the local APIC's spurious vector;
 * any other vector is not present (an exception, reported).
 */
static void idt_setup(void)
{
    static struct __attribute__((packed)) {
        uint16_t off_lo, sel;
        uint8_t zero, type;
        uint16_t off_hi;
    } idt[SPURIOUS_VECTOR + 1];
    struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } desc = { sizeof(idt) - 1, (uint32_t)idt };
    extern const uint32_t exc_stubs[32];
    extern const char timer_stub[], spurious_stub[];
    uint32_t handler[SPURIOUS_VECTOR + 1] = { 0 };
    unsigned int i;

    for (i = 0; i < 32; i++)
        handler[i] = exc_stubs[i];
    handler[TIMER_VECTOR] = (uint32_t)timer_stub;
    handler[SPURIOUS_VECTOR] = (uint32_t)spurious_stub;
    for (i = 0; i <= SPURIOUS_VECTOR; i++) {
        if (!handler[i])
            continue;
        idt[i].off_lo = handler[i] & 0xffff;
        idt[i].sel = 0x08;
        idt[i].zero = 0;
        idt[i].type = 0x8e;     /* present, ring 0, 32-bit interrupt gate */
        idt[i].off_hi = handler[i] >> 16;
    }
    asm volatile("lidt %0" : : "m"(desc));
}

/* ---- command line ---- */

/* One mask of xq.unplug, up to ':' or the end; 0 with a failure if bad */
static uint32_t parse_unplug_mask(const char *v, size_t vlen)
{
    static const struct { const char *name; uint32_t bit; } names[] = {
        { "none", 0 }, { "ide", UNPLUG_IDE }, { "nics", UNPLUG_NICS },
        { "aux-ide", UNPLUG_AUX_IDE }, { "nvme", UNPLUG_NVME },
    };
    char num[16];
    uint32_t mask = 0, n;
    const char *p = v, *end = v + vlen;

    if (vlen < sizeof(num)) {
        memcpy(num, v, vlen);
        num[vlen] = 0;
        if (!parse_u32(num, &n) && n <= 0xffff)
            return n;
    }
    while (p < end) {
        size_t len = 0, i;

        while (p + len < end && p[len] != '+')
            len++;
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strlen(names[i].name) == len && !strncmp(p, names[i].name, len))
                break;
        if (i == sizeof(names) / sizeof(names[0])) {
            fail("cmdline: bad xq.unplug (none|ide|nics|aux-ide|nvme joined "
                 "with +, or a number; up to 4 joined with :)", NULL, NULL);
            return 0;
        }
        mask |= names[i].bit;
        p += len;
        if (p < end)
            p++;
    }
    return mask;
}

/* Up to 4 masks joined with ':', each named by its text */
static void parse_unplug(const char *v)
{
    static char names[4][32];
    uint32_t n = 0;

    for (;;) {
        size_t len = 0, copy;

        while (v[len] && v[len] != ':')
            len++;
        if (n == 4) {
            fail("cmdline: more than 4 masks in xq.unplug", NULL, NULL);
            break;
        }
        if (!len) {
            fail("cmdline: an empty mask in xq.unplug", NULL, NULL);
            break;
        }
        cfg.unplug[n] = parse_unplug_mask(v, len);
        copy = len < sizeof(names[n]) ? len : sizeof(names[n]) - 1;
        memcpy(names[n], v, copy);
        names[n][copy] = 0;
        cfg.unplug_name[n] = names[n];
        n++;
        if (!v[len])
            break;
        v += len + 1;
    }
    cfg.unplug_n = n;
}

static int token_ok(const char *t)
{
    size_t n = strlen(t);

    if (!n || n > 32)
        return 0;
    for (; *t; t++)
        if (*t <= ' ' || *t > '~' || *t == '\\')
            return 0;
    return 1;
}

static void parse_cmdline(uint32_t magic, uint32_t mbi)
{
    static const struct { const char *key; uint32_t *num; } nums[] = {
        { "magic", &cfg.magic }, { "version", &cfg.version },
        { "product", &cfg.product }, { "build", &cfg.build },
        { "expect-magic", &cfg.expect_magic }, { "flood", &cfg.flood },
        { "flood-line", &cfg.flood_line }, { "flood-wait", &cfg.flood_wait },
        { "poweroff", &cfg.poweroff }, { "hostile-pause", &cfg.hostile_pause },
        { "fuzz", &cfg.fuzz }, { "seed", &cfg.seed },
        { "resume-wait", &cfg.resume_wait },
    };
    const char *src = NULL;
    char *p;
    size_t i;

    if (magic != MB_BOOT_MAGIC) {
        check_hex(magic, MB_BOOT_MAGIC, "multiboot: boot magic in EAX");
        return;
    }
    /* Physical memory, paging off: only guard against absurd pointers */
    if ((*(volatile uint32_t *)mbi & MB_INFO_CMDLINE) && mbi < 0xfff00000u) {
        uint32_t a = ((volatile uint32_t *)mbi)[4];

        if (a && a < 0xfff00000u)
            src = (const char *)a;
    }
    if (!src) {
        pr("info: no command line, using defaults\n");
        return;
    }
    for (i = 0; i + 1 < sizeof(cmdline) && src[i]; i++)
        cmdline[i] = (src[i] >= ' ' && src[i] <= '~') ? src[i] : ' ';
    cmdline[i] = 0;
    pr("info: cmdline: %s\n", cmdline);

    for (p = cmdline; *p; ) {
        char *word = p, *val;

        while (*p && *p != ' ')
            p++;
        if (*p)
            *p++ = 0;
        if (strncmp(word, "xq.", 3))
            continue;
        word += 3;
        for (val = word; *val && *val != '='; val++)
            ;
        if (!*val) {
            fail("cmdline: an xq.* word without '='", NULL, NULL);
            continue;
        }
        *val++ = 0;
        for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
            if (!strcmp(word, nums[i].key))
                break;
        if (i < sizeof(nums) / sizeof(nums[0])) {
            if (parse_u32(val, nums[i].num)) {
                char what[64];

                sfmt(what, sizeof(what), "cmdline: bad number xq.%s=%s",
                     word, val);
                fail(what, NULL, NULL);
            }
        } else if (!strcmp(word, "hostile")) {
            cfg.hostile = val;
        } else if (!strcmp(word, "tests")) {
            cfg.tests = val;
        } else if (!strcmp(word, "token")) {
            if (token_ok(val))
                cfg.token = val;
            else
                fail("cmdline: bad xq.token (1-32 printable, no '\\')",
                     NULL, NULL);
        } else if (!strcmp(word, "unplug")) {
            parse_unplug(val);
        } else if (!strcmp(word, "flood-io")) {
            if (!strcmp(val, "outb"))
                cfg.flood_outb = 1;
            else if (!strcmp(val, "outsb"))
                cfg.flood_outb = 0;
            else
                fail("cmdline: bad xq.flood-io (outsb|outb)", NULL, NULL);
        } else {
            char what[80];

            sfmt(what, sizeof(what), "cmdline: unknown key xq.%s", word);
            fail(what, NULL, NULL);
        }
    }
    if (cfg.flood_line < 16 || cfg.flood_line > 4096) {
        fail("cmdline: xq.flood-line out of 16..4096", NULL, NULL);
        cfg.flood_line = 100;
    }
}

/* ---- the platform device ---- */

static int platform_magic_ok(const char *test)
{
    uint32_t m = inw(PORT_MAGIC);
    char what[64];

    if (m == MAGIC || m == MAGIC_BLACKLISTED)
        return 1;
    sfmt(what, sizeof(what), "%s: platform device magic, test skipped", test);
    check_hex(m, MAGIC, what);
    return 0;
}

static void test_magic(void)
{
    check_hex(inw(PORT_MAGIC), cfg.magic, "magic: 16-bit read of port 0x10");
    check_hex(inb(PORT_VERSION), cfg.version,
              "magic: protocol version, 8-bit read of port 0x12");
}

static void test_build_first(void)
{
    outl(PORT_MAGIC, cfg.build);
    check_hex(inw(PORT_MAGIC), cfg.magic,
              "build-first: magic after build %u without a product",
              cfg.build);
}

static void test_handshake(void)
{
    uint32_t m = inw(PORT_MAGIC), v = inb(PORT_VERSION);

    if (m != MAGIC && m != MAGIC_BLACKLISTED) {
        check_hex(m, MAGIC, "handshake: platform device magic");
        return;
    }
    if (v == 0) {
        check_hex(v, 1, "handshake: protocol version");
        return;
    }
    outw(PORT_VERSION, (uint16_t)cfg.product);
    outl(PORT_MAGIC, cfg.build);
    check_hex(inw(PORT_MAGIC), cfg.expect_magic,
              "handshake: magic after product 0x%04x build %u",
              cfg.product, cfg.build);
}

static void log_bytes(const char *s, size_t n)
{
    while (n--)
        outb(PORT_VERSION, (uint8_t)*s++);
}

static void log_str(const char *s)
{
    log_bytes(s, strlen(s));
}

static void test_log(void)
{
    static const char ctl[] = "ctl:\x1b[31mred\x07|\0|\xff|\r|\\|\t end\n";
    char line[80];

    if (!platform_magic_ok("log"))
        return;
    sfmt(line, sizeof(line), "xq-log %s 1 plain line\n", cfg.token);
    log_str(line);
    sfmt(line, sizeof(line), "xq-log %s 2 ", cfg.token);
    log_str(line);
    log_bytes(ctl, sizeof(ctl) - 1);
    sfmt(line, sizeof(line), "xq-log %s 3 last line\n", cfg.token);
    log_str(line);
    pr("info: log-sent 3 lines token=%s\n", cfg.token);
    pass("log: 3 lines sent");
}

static void test_log_long(void)
{
    static char body[4096];
    char head[48];
    size_t n;

    if (!platform_magic_ok("log-long"))
        return;
    n = sfmt(head, sizeof(head), "xq-long %s ", cfg.token);
    log_bytes(head, n);
    /*
     * The body with rep outsb: the device still sees one 8-bit write a
     * byte (test_log covers the outb a driver uses), in one round trip to
     * the device model instead of 4,000 (seconds under emulation).
     */
    memset(body, 'L', sizeof(body) - n);
    outsb(PORT_VERSION, body, sizeof(body) - n);
    sfmt(head, sizeof(head), "xq-long-tail %s\n", cfg.token);
    log_str(head);
    pr("info: log-long-sent bytes=%u token=%s\n",
       (uint32_t)(4096 + strlen(head)), cfg.token);
    pass("log-long: a 4096-byte line and its tail sent");
}

static int have_tsc(void)
{
    uint32_t a, b, c, d;

    cpuid(0, &a, &b, &c, &d);
    if (a < 1)
        return 0;
    cpuid(1, &a, &b, &c, &d);
    return (d >> 4) & 1;
}

/* "tsc-cycles=C" (or "none" without a TSC) and the end of the line */
static void pr_cycles(int tsc, uint64_t t0, uint64_t t1)
{
    pr("tsc-cycles=");
    if (tsc)
        pr_u64(t1 - t0);
    else
        pr("none");
    pr("\n");
}

static void test_flood(void)
{
    static char line[4096];
    uint32_t left = cfg.flood, lines = 0;
    uint64_t t0 = 0, t1 = 0;
    int tsc = have_tsc();
    char marker[64];

    if (!platform_magic_ok("flood"))
        return;
    if (tsc)
        t0 = rdtsc();
    while (left) {
        uint32_t n = left < cfg.flood_line ? left : cfg.flood_line;
        size_t k = sfmt(line, sizeof(line), "xq-flood %s %08u ", cfg.token,
                        lines);

        if (k < n)
            memset(line + k, '.', n - k);
        line[n - 1] = '\n';
        if (cfg.flood_outb)
            log_bytes(line, n);
        else
            outsb(PORT_VERSION, line, n);
        left -= n;
        lines++;
    }
    if (tsc)
        t1 = rdtsc();
    pr("info: flood-done bytes=%u lines=%u ", cfg.flood, lines);
    pr_cycles(tsc, t0, t1);
    delay_ms(cfg.flood_wait);
    sfmt(marker, sizeof(marker), "xq-flood-after %s\n", cfg.token);
    log_str(marker);
    sfmt(line, 128, "flood: %u bytes in %u lines, marker sent after %u ms",
         cfg.flood, lines, cfg.flood_wait);
    pass(line);
}

/*
 * A guest that floods the log as a hostile one would: the pattern fills a
 * buffer once, which goes out with rep outsb until the flood's bytes are
 * written.  The host must drop, never block: the guest just finishes.
 * Returns the pattern's length, 0 for an unknown kind.
 */
static uint32_t hostile_pattern(char *buf, uint32_t size, const char *kind,
                                size_t klen)
{
    uint32_t n, i;

    if (klen == 5 && !strncmp(kind, "empty", 5)) {
        memset(buf, '\n', size);
        return size;
    }
    if (klen == 7 && !strncmp(kind, "onechar", 7)) {
        for (n = 0; n < size; n += 2) {
            buf[n] = 'x';
            buf[n + 1] = '\n';
        }
        return size;
    }
    if ((klen == 3 && !strncmp(kind, "ctl", 3)) ||
        (klen == 5 && !strncmp(kind, "ffnul", 5))) {
        for (n = 0; n + 128 <= size; n += 128) {
            for (i = 0; i < 127; i++) {
                if (kind[0] == 'c')
                    buf[n + i] = 1 + (i % 30) + (1 + (i % 30) >= '\n');
                else
                    buf[n + i] = (i & 1) ? 0x00 : (char)0xff;
            }
            buf[n + 127] = '\n';
        }
        return n;
    }
    if (klen == 12 && !strncmp(kind, "unterminated", 12)) {
        memset(buf, 'U', size);
        return size;
    }
    return 0;
}

static void test_hostile(void)
{
    static char buf[4096];
    const char *p = cfg.hostile;
    int tsc = have_tsc();

    if (!platform_magic_ok("hostile"))
        return;
    while (*p) {
        char kind[16], what[96];
        size_t klen = 0, len = 0;
        uint32_t n, left, bytes;
        uint64_t t0 = 0, t1 = 0;

        while (p[len] && p[len] != '+')
            len++;
        while (klen < len && p[klen] != ':')
            klen++;
        memcpy(kind, p, klen < sizeof(kind) ? klen : sizeof(kind) - 1);
        kind[klen < sizeof(kind) ? klen : sizeof(kind) - 1] = 0;
        n = hostile_pattern(buf, sizeof(buf), p, klen);
        if (!n || klen + 1 >= len) {
            fail("hostile: bad xq.hostile item (K:N, K one of empty, "
                 "onechar, ctl, ffnul, unterminated)", NULL, NULL);
            return;
        }
        {
            char num[12];
            size_t nl = len - klen - 1 < sizeof(num) - 1 ?
                        len - klen - 1 : sizeof(num) - 1;

            memcpy(num, p + klen + 1, nl);
            num[nl] = 0;
            if (parse_u32(num, &bytes)) {
                fail("hostile: bad byte count in xq.hostile", NULL, NULL);
                return;
            }
        }
        pr("info: hostile-start kind=%s bytes=%u\n", kind, bytes);
        delay_ms(cfg.hostile_pause);
        if (tsc)
            t0 = rdtsc();
        for (left = bytes; left; ) {
            uint32_t k = left < n ? left : n;

            outsb(PORT_VERSION, buf, k);
            left -= k;
        }
        if (tsc)
            t1 = rdtsc();
        pr("info: hostile-done kind=%s bytes=%u ", kind, bytes);
        pr_cycles(tsc, t0, t1);
        delay_ms(cfg.hostile_pause);
        sfmt(what, sizeof(what), "hostile: %u bytes of %s written", bytes,
             kind);
        pass(what);
        p += len;
        if (*p == '+')
            p++;
    }
}

/* ---- fuzzing the device's ports and BARs ---- */

#define PLATFORM_ID     0x00015853u     /* device 0x0001, vendor 0x5853 */
#define PM1A_STS        0xb000          /* Xen's ACPI PM1a status block */
#define PWRBTN_STS      0x0100

static uint64_t rng_state;

/* xorshift64: shifts and xors only (no libgcc), never 0 from a non-0 seed */
static uint32_t rnd(void)
{
    uint64_t x = rng_state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return (uint32_t)(x >> 32);
}

/* uniform enough below n (n <= 2^16): the high bits times n */
static uint32_t rnd_below(uint32_t n)
{
    return (uint32_t)(((uint64_t)(rnd() >> 16) * n) >> 16);
}

static uint32_t rnd_value(void)
{
    static const uint32_t special[] = {
        0, 1, 2, 0xff, 0xffff, 0xffffffffu, '\n',
    };

    switch (rnd_below(4)) {
    case 0:
        return rnd_below(16);
    case 1:
        return special[rnd_below(sizeof(special) / sizeof(special[0]))];
    default:
        return rnd();
    }
}

/* The platform device's I/O and MMIO BARs, from its config space. */
static int platform_bars(uint16_t *io, uint32_t *mmio)
{
    unsigned int dev;

    for (dev = 0; dev < 32; dev++) {
        if (pci_read32(0, dev, 0, 0) != PLATFORM_ID)
            continue;
        *io = pci_read32(0, dev, 0, 0x10) & 0xfffc;
        *mmio = pci_read32(0, dev, 0, 0x14) & 0xfffffff0u;
        return *io && *mmio;
    }
    return 0;
}

/* One access of WIDTH bytes at OFF of REGION (0 fixed ports, 1 I/O BAR, 2
 * MMIO BAR), a write of V or a read. */
static void fuzz_access(uint32_t region, uint32_t off, uint32_t width,
                        uint32_t write, uint32_t v, uint16_t io_bar,
                        uint32_t mmio_bar)
{
    if (region == 2) {
        volatile void *a = (volatile void *)(mmio_bar + off);

        if (write) {
            if (width == 1)
                *(volatile uint8_t *)a = v;
            else if (width == 2)
                *(volatile uint16_t *)a = v;
            else
                *(volatile uint32_t *)a = v;
        } else {
            v = width == 1 ? *(volatile uint8_t *)a :
                width == 2 ? *(volatile uint16_t *)a :
                *(volatile uint32_t *)a;
        }
        return;
    }
    off += region == 0 ? PORT_MAGIC : io_bar;
    if (write) {
        if (width == 1)
            outb(off, v);
        else if (width == 2)
            outw(off, v);
        else
            outl(off, v);
    } else {
        v = width == 1 ? inb(off) : width == 2 ? inw(off) : inl(off);
    }
}

static void test_fuzz(void)
{
    static const uint32_t products[] = { 1, 2, 3, 4, 5, 0xffff };
    static const uint32_t sizes[] = { 16, 256, 0x1000000 };
    uint32_t i, n[3][2] = { { 0 } }, mmio_bar = 0, v, sweep = 0;
    uint32_t region, off, width, write;
    uint16_t io = 0;
    uint64_t t0 = 0, t1 = 0;
    int tsc = have_tsc();
    char line[80];

    if (!platform_magic_ok("fuzz"))
        return;
    if (!platform_bars(&io, &mmio_bar)) {
        fail("fuzz: the platform device's BARs are not assigned", NULL, NULL);
        return;
    }
    rng_state = (uint64_t)cfg.seed << 32 | 0x9e3779b9u;
    pr("info: fuzz-start seed=%u accesses=%u io-bar=0x%x mmio-bar=0x%x\n",
       cfg.seed, cfg.fuzz, io, mmio_bar);
    if (tsc)
        t0 = rdtsc();
    /* The sweep: nothing left to chance in the two port windows. */
    for (region = 0; region < 2; region++)
        for (off = 0; off < sizes[region]; off++)
            for (width = 1; width <= 4 && off + width <= sizes[region];
                 width <<= 1)
                for (write = 0; write < 2; write++, sweep++)
                    fuzz_access(region, off, width, write, rnd_value(), io,
                                mmio_bar);
    for (i = 0; i < cfg.fuzz; i++) {
        uint32_t where = rnd_below(10);

        if (i && !(i & 0x3ffff))
            pr("info: fuzz-progress accesses=%u\n", i);
        width = 1u << rnd_below(3);
        write = rnd() & 1;
        region = where < 5 ? 0 : where < 9 ? 1 : 2;
        off = rnd_below(region == 2 ? 0x10000 : sizes[region]);
        if (region == 2)
            off = off << 8 | rnd_below(256);
        if (off + width > sizes[region])
            off = sizes[region] - width;
        v = rnd_value();
        if (write && width == 2 && region == 0 && off == 2 && (rnd() & 1))
            v = products[rnd_below(sizeof(products) / sizeof(products[0]))];
        n[region][write]++;
        fuzz_access(region, off, width, write, v, io, mmio_bar);
    }
    if (tsc)
        t1 = rdtsc();
    pr("info: fuzz-done seed=%u sweep=%u accesses=%u fixed=%u/%u "
       "bar-io=%u/%u bar-mmio=%u/%u (reads/writes) ", cfg.seed, sweep,
       cfg.fuzz, n[0][0], n[0][1], n[1][0], n[1][1], n[2][0], n[2][1]);
    pr_cycles(tsc, t0, t1);
    /* for dom0 to read the device model's memory while it still runs */
    delay_ms(2000);

    /* The device must still answer the protocol. */
    outb(PORT_VERSION, '\n');           /* end a line the fuzz left open */
    outb(PORT_MAGIC, 0);                /* ROM unlocked, as after reset */
    check_hex(inb(PORT_MAGIC), 0, "fuzz: platform flags read back 0");
    check_hex(inb(io), 0, "fuzz: the I/O BAR reads the same flags");
    check_hex(inb(PORT_VERSION), cfg.version, "fuzz: protocol version");
    v = inw(PORT_MAGIC);
    pr("info: fuzz-final magic=0x%x\n", v);
    if (v == MAGIC || v == MAGIC_BLACKLISTED)
        pass("fuzz: magic is 0x49d2 or, blacklisted by the fuzz, 0xd249");
    else
        check_hex(v, MAGIC, "fuzz: magic");
    sfmt(line, sizeof(line), "xq-fuzz-after %s\n", cfg.token);
    log_str(line);
    /*
     * Whatever the fuzz did, the blacklist still works: the lookup bucket
     * refills one token a second; experimental build 5 is blacklisted.
     */
    delay_ms(1100);
    outw(PORT_VERSION, 0xffff);
    outl(PORT_MAGIC, 5);
    check_hex(inw(PORT_MAGIC), MAGIC_BLACKLISTED,
              "fuzz: magic after experimental build 5");
}

/* Wait for dom0's power button, around which it saves and restores us. */
static void test_resume(void)
{
    uint32_t waited = 0;

    if (!platform_magic_ok("resume"))
        return;
    outw(PM1A_STS, PWRBTN_STS);         /* write 1 to clear */
    pr("info: resume-wait magic=0x%x\n", inw(PORT_MAGIC));
    while (!(inw(PM1A_STS) & PWRBTN_STS)) {
        if (waited >= cfg.resume_wait) {
            fail("resume: no power button from dom0", NULL, NULL);
            return;
        }
        delay_ms(10);
        waited += 10;
    }
    outw(PM1A_STS, PWRBTN_STS);
    pr("info: resume: power button after %u ms\n", waited);
    check_hex(inw(PORT_MAGIC), cfg.expect_magic,
              "resume: magic after save and restore");
    check_hex(inb(PORT_VERSION), cfg.version,
              "resume: protocol version after save and restore");
}

/* ---- PCI and IDE inventory for unplug ---- */

enum { DISK_NONE, DISK_HD, DISK_CD, DISK_UNKNOWN };
static const char *const disk_names[] = { "-", "hd", "cd", "?" };

enum { CAT_OTHER, CAT_NIC, CAT_NVME, CAT_SCSI, CAT_IDE };

struct pcifn {
    uint8_t dev, fn;
    uint16_t vendor, device;
    uint32_t class;             /* base << 16 | sub << 8 | prog-if */
};

struct inventory {
    struct pcifn f[64];
    unsigned int n;
    uint8_t disk[4];
};

static struct inventory before, after;

static int category(const struct pcifn *f)
{
    switch (f->class >> 8) {
    case 0x0200:
        return CAT_NIC;
    case 0x0108:
        return CAT_NVME;
    case 0x0100:
        return CAT_SCSI;
    case 0x0101:
        return CAT_IDE;
    default:
        return CAT_OTHER;
    }
}

static void pci_scan(struct inventory *inv)
{
    unsigned int dev, fn;

    inv->n = 0;
    for (dev = 0; dev < 32; dev++) {
        uint32_t id = pci_read32(0, dev, 0, 0);
        unsigned int nfn;

        if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
            continue;
        nfn = (pci_read32(0, dev, 0, 0x0c) >> 16) & 0x80 ? 8 : 1;
        for (fn = 0; fn < nfn && inv->n < 64; fn++) {
            struct pcifn *f = &inv->f[inv->n];

            id = pci_read32(0, dev, fn, 0);
            if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
                continue;
            f->dev = dev;
            f->fn = fn;
            f->vendor = id & 0xffff;
            f->device = id >> 16;
            f->class = pci_read32(0, dev, fn, 0x08) >> 8;
            inv->n++;
        }
    }
}

#define ATA_BSY 0x80
#define ATA_DRQ 0x08
#define ATA_ERR 0x01
#define ATA_POLL 100000

static void ata_delay(uint16_t ctrl)
{
    int i;

    for (i = 0; i < 4; i++)     /* ~400 ns: four alternate status reads */
        inb(ctrl);
}

/* IDENTIFY DEVICE: only a device that answers with data is a disk */
static int ide_probe(uint16_t base, uint16_t ctrl, int slave)
{
    uint8_t st = 0, lm, lh;
    uint16_t w0 = 0, w;
    uint32_t i, nonzero = 0;

    outb(ctrl, 0x02);                           /* nIEN */
    outb(base + 6, 0xa0 | (slave << 4));
    ata_delay(ctrl);
    st = inb(base + 7);
    if (st == 0xff || st == 0x7f)               /* floating bus */
        return DISK_NONE;
    for (i = 0; i < ATA_POLL && (inb(base + 7) & ATA_BSY); i++)
        ;
    if (i == ATA_POLL)
        return DISK_UNKNOWN;
    outb(base + 2, 0);
    outb(base + 3, 0);
    outb(base + 4, 0);
    outb(base + 5, 0);
    outb(base + 7, 0xec);                       /* IDENTIFY DEVICE */
    ata_delay(ctrl);
    st = inb(base + 7);
    if (st == 0 || st == 0xff)
        return DISK_NONE;
    for (i = 0; i < ATA_POLL; i++) {
        st = inb(base + 7);
        if (!(st & ATA_BSY) && (st & (ATA_DRQ | ATA_ERR)))
            break;
    }
    if (st & ATA_BSY)
        return DISK_UNKNOWN;
    if (st & ATA_ERR) {
        lm = inb(base + 4);
        lh = inb(base + 5);
        if ((lm == 0x14 && lh == 0xeb) || (lm == 0x69 && lh == 0x96))
            return DISK_CD;                     /* ATAPI signature */
        return DISK_NONE;
    }
    if (!(st & ATA_DRQ))
        return DISK_NONE;
    for (i = 0; i < 256; i++) {
        w = inw(base);
        if (!i)
            w0 = w;
        if (w && w != 0xffff)
            nonzero++;
    }
    /* word 0 bit 15 clear: ATA device; all-0/all-1 data is no answer */
    return (!(w0 & 0x8000) && nonzero) ? DISK_HD : DISK_UNKNOWN;
}

static void inventory(struct inventory *inv)
{
    pci_scan(inv);
    inv->disk[0] = ide_probe(0x1f0, 0x3f6, 0);
    inv->disk[1] = ide_probe(0x1f0, 0x3f6, 1);
    inv->disk[2] = ide_probe(0x170, 0x376, 0);
    inv->disk[3] = ide_probe(0x170, 0x376, 1);
}

static unsigned int count_cat(const struct inventory *inv, int cat)
{
    unsigned int i, n = 0;

    for (i = 0; i < inv->n; i++)
        n += category(&inv->f[i]) == cat;
    return n;
}

/* "03.0:8086:100e,04.0:10ec:8139" or "-"; CAT_OTHER includes CAT_IDE */
static void list_cat(char *buf, size_t size, const struct inventory *inv,
                     int cat)
{
    size_t len = 0;
    unsigned int i;

    buf[0] = 0;
    for (i = 0; i < inv->n; i++) {
        const struct pcifn *f = &inv->f[i];
        int c = category(f) == CAT_IDE ? CAT_OTHER : category(f);

        if (c != cat)
            continue;
        len += sfmt(buf + len, size - len, "%s%02x.%u:%04x:%04x",
                    len ? "," : "", f->dev, f->fn, f->vendor, f->device);
    }
    if (!len)
        sfmt(buf, size, "-");
}

static void list_disks(char *buf, size_t size, const uint8_t disk[4])
{
    sfmt(buf, size, "pm:%s,ps:%s,sm:%s,ss:%s", disk_names[disk[0]],
         disk_names[disk[1]], disk_names[disk[2]], disk_names[disk[3]]);
}

static void print_inventory(const char *when, const struct inventory *inv)
{
    char nic[160], nvme[96], scsi[96], other[320], disks[48];

    list_cat(nic, sizeof(nic), inv, CAT_NIC);
    list_cat(nvme, sizeof(nvme), inv, CAT_NVME);
    list_cat(scsi, sizeof(scsi), inv, CAT_SCSI);
    list_cat(other, sizeof(other), inv, CAT_OTHER);
    list_disks(disks, sizeof(disks), inv->disk);
    pr("info: %s: nic=%s nvme=%s scsi=%s disks=%s other=%s\n", when, nic,
       nvme, scsi, disks, other);
}

/* The devices of category cat must be gone (gone) or unchanged */
static void check_cat(const char *step, int cat, int gone, const char *name)
{
    char got[320], want[320], what[96];

    list_cat(got, sizeof(got), &after, cat);
    if (gone)
        sfmt(want, sizeof(want), "-");
    else
        list_cat(want, sizeof(want), &before, cat);
    sfmt(what, sizeof(what), "unplug %s: %s %s", step, name,
         gone ? "gone" : "unchanged");
    if (!strcmp(got, want))
        pass(what);
    else
        fail(what, got, want);
}

static void nothing_before(const char *step, const char *what)
{
    char msg[128];

    sfmt(msg, sizeof(msg), "unplug %s: requested, but no %s before", step,
         what);
    fail(msg, NULL, NULL);
}

/* Write one mask: what it names must go, everything else stay */
static void unplug_step(const char *step, uint32_t mask)
{
    uint8_t want[4];
    char got_s[48], want_s[48], what[96];
    unsigned int i;
    int all = mask & UNPLUG_IDE, aux = !all && (mask & UNPLUG_AUX_IDE);

    /* Nothing to unplug proves nothing */
    if ((mask & UNPLUG_NICS) && !count_cat(&before, CAT_NIC))
        nothing_before(step, "NIC");
    if ((mask & UNPLUG_NVME) && !count_cat(&before, CAT_NVME))
        nothing_before(step, "NVMe controller");
    if (all && !count_cat(&before, CAT_SCSI) &&
        before.disk[0] != DISK_HD && before.disk[1] != DISK_HD &&
        before.disk[2] != DISK_HD && before.disk[3] != DISK_HD)
        nothing_before(step, "IDE disk or SCSI");
    if (aux && before.disk[1] != DISK_HD && before.disk[2] != DISK_HD &&
        before.disk[3] != DISK_HD)
        nothing_before(step, "IDE disk other than the primary master");

    pr("info: unplug %s: writing 0x%04x to port 0x10\n", step, mask);
    outw(PORT_MAGIC, (uint16_t)mask);

    inventory(&after);
    print_inventory("after", &after);

    check_cat(step, CAT_NIC, mask & UNPLUG_NICS, "NICs");
    check_cat(step, CAT_NVME, mask & UNPLUG_NVME, "NVMe controllers");
    if (count_cat(&before, CAT_SCSI) || count_cat(&after, CAT_SCSI))
        check_cat(step, CAT_SCSI, all, "SCSI controllers");
    check_cat(step, CAT_OTHER, 0, "other PCI functions");

    /* Disks go, CD drives stay; aux spares the primary master */
    for (i = 0; i < 4; i++) {
        want[i] = before.disk[i];
        if (want[i] == DISK_HD && (all || (aux && i)))
            want[i] = DISK_NONE;
    }
    list_disks(got_s, sizeof(got_s), after.disk);
    list_disks(want_s, sizeof(want_s), want);
    sfmt(what, sizeof(what), "unplug %s: IDE disks %s", step, want_s);
    if (!strcmp(got_s, want_s))
        pass(what);
    else
        fail(what, got_s, want_s);
}

/*
 * Each mask in turn, from one inventory to the next: a later write must
 * remove only its own class, and bring nothing back.
 */
static void test_unplug(void)
{
    uint32_t i;

    inventory(&before);
    print_inventory("before", &before);
    for (i = 0; i < cfg.unplug_n; i++) {
        if (i)
            before = after;
        unplug_step(cfg.unplug_name[i], cfg.unplug[i]);
    }
}

/* ---- main ---- */

static const struct {
    const char *name;
    void (*run)(void);
} tests[] = {
    { "magic", test_magic },
    { "build-first", test_build_first },
    { "handshake", test_handshake },
    { "log", test_log },
    { "log-long", test_log_long },
    { "flood", test_flood },
    { "hostile", test_hostile },
    { "unplug", test_unplug },
    { "fuzz", test_fuzz },
    { "resume", test_resume },
};
#define NTESTS (sizeof(tests) / sizeof(tests[0]))

void guest_main(uint32_t magic, uint32_t mbi)
{
    unsigned int selected = 0, i;
    const char *p;

    serial_init();
    idt_setup();
    pr("info: xq-platform-guest start\n");
    parse_cmdline(magic, mbi);

    for (p = cfg.tests; *p; ) {
        size_t len = 0;

        while (p[len] && p[len] != ',')
            len++;
        for (i = 0; i < NTESTS; i++)
            if (strlen(tests[i].name) == len &&
                !strncmp(p, tests[i].name, len))
                break;
        if (i < NTESTS) {
            selected |= 1u << i;
        } else if (len) {
            char what[64], name[32];

            memcpy(name, p, len < sizeof(name) ? len : sizeof(name) - 1);
            name[len < sizeof(name) ? len : sizeof(name) - 1] = 0;
            sfmt(what, sizeof(what), "cmdline: unknown test %s", name);
            fail(what, NULL, NULL);
        }
        p += len;
        if (*p == ',')
            p++;
    }

    for (i = 0; i < NTESTS; i++)
        if (selected & (1u << i))
            tests[i].run();

    verdict();
    if (cfg.poweroff)
        poweroff();
    halt_forever();
}
