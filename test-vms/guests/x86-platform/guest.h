#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
    asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
    asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
    asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;

    asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint16_t inw(uint16_t port)
{
    uint16_t v;

    asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;

    asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* rep outsb: every byte still reaches the device as one 8-bit write */
static inline void outsb(uint16_t port, const void *buf, uint32_t n)
{
    asm volatile("cld; rep outsb"
                 : "+S"(buf), "+c"(n) : "d"(port) : "memory");
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b,
                         uint32_t *c, uint32_t *d)
{
    asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
                 : "a"(leaf), "c"(0));
}

/* lib.c */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

void serial_init(void);
void serial_flush(void);            /* what pr() left in the FIFO buffer */
/* printf-like, %s %c %u %d %x with a width and the 0 flag */
void pr(const char *fmt, ...);
void vpr(const char *fmt, va_list ap);
size_t sfmt(char *buf, size_t size, const char *fmt, ...);
size_t vfmt(char *buf, size_t size, const char *fmt, va_list ap);
void pr_u64(uint64_t v);            /* decimal, without 64-bit division */
int parse_u32(const char *s, uint32_t *v);  /* decimal or 0x hex, whole */

/*
 * Sleep: halted until a local APIC timer interrupt (vector TIMER_VECTOR),
 * timed against PIT channel 2 once; busy-waits on the PIT if that fails.
 */
void delay_ms(uint32_t ms);
#define TIMER_VECTOR    0x40
#define SPURIOUS_VECTOR 0x4f
extern volatile uint32_t timer_fired;   /* set by head.S's timer_stub */

uint32_t pci_read32(unsigned int bus, unsigned int dev, unsigned int fn,
                    unsigned int reg);
void pci_write32(unsigned int bus, unsigned int dev, unsigned int fn,
                 unsigned int reg, uint32_t v);

void poweroff(void) __attribute__((noreturn));
void halt_forever(void) __attribute__((noreturn));

#endif
