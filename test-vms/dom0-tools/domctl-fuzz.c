/*
 * domctl-fuzz: XEN_DOMCTL_arm_configure_domain with random and boundary
 * contents, from dom0, as a careless or hostile toolstack would send them.
 *
 * usage: domctl-fuzz SEED COUNT DOMID...
 *
 * Each call goes straight to the hypercall (libxencall), so every field is
 * ours to break: every gic_version value, non-zero flags and padding,
 * redistributor region indexes around the domain's count, and domain ids
 * (those given, absent ones, DOMID_SELF and the other special ids).  The
 * calls are a reproducible function of SEED.  Xen must answer each with
 * success or an error the ABI documents (public/domctl.h: ESRCH, EPERM,
 * EACCES, EINVAL, EOPNOTSUPP, ENOENT); it must not change the answer to a
 * well-formed query meanwhile, and must still be there at the end.
 *
 * Prints one line per errno seen with its count, "calls/s", and exits 0
 * when every answer was documented, 1 otherwise (the offending call is
 * printed, with its seed and index, to replay it).
 *
 * SPDX-License-Identifier: GPL-2.0-only
 */
#define __XEN_TOOLS__ 1
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xencall.h>
#include <xen/xen.h>
#include <xen/domctl.h>

static uint64_t rng;

static uint64_t next(void)
{
    /* xorshift64*: reproducible from the seed, good enough for fuzzing */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

static const int documented[] = {
    0, ESRCH, EPERM, EACCES, EINVAL, EOPNOTSUPP, ENOENT,
};

static int call(xencall_handle *xch, struct xen_domctl *d)
{
    int rc = xencall1(xch, __HYPERVISOR_domctl, (uint64_t)(uintptr_t)d);

    return rc < 0 ? errno : 0;
}

static void well_formed(struct xen_domctl *d, domid_t domid)
{
    memset(d, 0, sizeof(*d));
    d->cmd = XEN_DOMCTL_arm_configure_domain;
    d->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    d->domain = domid;
}

int main(int argc, char **argv)
{
    static const domid_t special[] = {
        DOMID_SELF, DOMID_IO, DOMID_XEN, DOMID_COW, DOMID_INVALID,
        DOMID_IDLE, DOMID_FIRST_RESERVED - 1,
    };
    struct xen_domctl_arm_configure_domain ref;
    xencall_handle *xch;
    struct xen_domctl *d;
    unsigned long count, i, seen[256] = { 0 };
    domid_t domids[16];
    int ndom, j, e, bad = 0;
    uint64_t seed;
    struct timespec t0, t1;
    double secs;

    if ( argc < 4 || argc - 3 > 16 )
    {
        fprintf(stderr, "usage: %s SEED COUNT DOMID...\n", argv[0]);
        return 2;
    }
    seed = strtoull(argv[1], NULL, 0);
    count = strtoul(argv[2], NULL, 0);
    for ( ndom = 0; ndom < argc - 3; ndom++ )
        domids[ndom] = strtoul(argv[ndom + 3], NULL, 0);
    rng = seed ? seed : 1;

    xch = xencall_open(NULL, 0);
    if ( !xch )
    {
        perror("xencall_open");
        return 2;
    }
    d = xencall_alloc_buffer(xch, sizeof(*d));
    if ( !d )
    {
        perror("xencall_alloc_buffer");
        return 2;
    }

    /* The well-formed answer for the first domain, to compare with later. */
    well_formed(d, domids[0]);
    e = call(xch, d);
    if ( e )
    {
        printf("the well-formed query of d%u fails: %s\n", domids[0], strerror(e));
        return 1;
    }
    ref = d->u.arm_configure_domain;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for ( i = 0; i < count; i++ )
    {
        struct xen_domctl_arm_configure_domain *c = &d->u.arm_configure_domain;
        uint64_t r = next();
        unsigned int k;

        well_formed(d, domids[r % ndom]);
        switch ( (r >> 8) % 8 )
        {
        case 0: /* every byte of the sub-op random */
            for ( k = 0; k < sizeof(*c); k++ )
                ((uint8_t *)c)[k] = next();
            break;
        case 1: /* every version value */
            c->gic_version = next();
            break;
        case 2: /* non-zero padding or flags */
            c->pad[next() % 3] = next() | 1;
            if ( next() & 1 )
                c->flags = next() | 1;
            if ( next() & 1 )
                c->pad1 = next() | 1;
            break;
        case 3: /* region indexes around the count */
            c->gicr_region = ref.nr_gicr_regions + (int)(next() % 5) - 2;
            if ( next() % 4 == 0 )
                c->gicr_region = ~0u - (next() % 3);
            break;
        case 4: /* special and absent domains */
            d->domain = special[next() % (sizeof(special) / sizeof(special[0]))];
            break;
        case 5:
            d->domain = next() % DOMID_FIRST_RESERVED;
            break;
        case 6: /* OUT fields given as input: must be ignored */
            for ( k = offsetof(typeof(*c), nr_gicr_regions); k < offsetof(typeof(*c), pad1); k++ )
                ((uint8_t *)c)[k] = next();
            break;
        default: /* well-formed, asserting a version */
            c->gic_version = next() % 3;
            break;
        }
        e = call(xch, d);
        seen[e & 0xff]++;
        for ( j = 0; j < (int)(sizeof(documented) / sizeof(documented[0])); j++ )
            if ( e == documented[j] )
                break;
        if ( j == (int)(sizeof(documented) / sizeof(documented[0])) )
        {
            printf("undocumented answer %d (%s) to call %lu of seed %" PRIu64
                   ": domain %u, gic_version %u, flags %#x, region %u\n",
                   e, strerror(e), i, seed, d->domain, c->gic_version,
                   c->flags, c->gicr_region);
            bad = 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;

    well_formed(d, domids[0]);
    e = call(xch, d);
    if ( e || memcmp(&ref, &d->u.arm_configure_domain, sizeof(ref)) )
    {
        printf("the well-formed answer for d%u changed during the fuzzing (%s)\n",
               domids[0], e ? strerror(e) : "other contents");
        bad = 1;
    }
    for ( j = 0; j < 256; j++ )
        if ( seen[j] )
            printf("errno %d (%s): %lu\n", j, j ? strerror(j) : "success", seen[j]);
    printf("%lu calls, seed %" PRIu64 ", %.0f calls/s\n", count, seed,
           secs > 0 ? count / secs : 0.0);
    return bad;
}
