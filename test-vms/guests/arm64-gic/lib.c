/*
 * Console output on the emulated SBSA UART and MMIO accessors; the string
 * functions are in ../common/string.c.
 */
#include <stdint.h>
#include "guest.h"

#define UART_BASE   0x22000000UL    /* GUEST_PL011_BASE */
#define UART_DR     0x00
#define UART_FR     0x18
#define UART_FR_TXFF (1u << 5)

uint32_t read32(uint64_t addr)
{
    uint32_t v;

    asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
    return v;
}

uint64_t read64(uint64_t addr)
{
    uint64_t v;

    asm volatile("ldr %0, [%1]" : "=r"(v) : "r"(addr) : "memory");
    return v;
}

static void write32(uint64_t addr, uint32_t v)
{
    asm volatile("str %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

void putc_uart(char c)
{
    while (read32(UART_BASE + UART_FR) & UART_FR_TXFF)
        ;
    write32(UART_BASE + UART_DR, (unsigned char)c);
}

void puts_uart(const char *s)
{
    for (; *s; s++) {
        if (*s == '\n')
            putc_uart('\r');
        putc_uart(*s);
    }
}

void puthex(uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char buf[19];
    int i = 18;

    buf[i] = '\0';
    do {
        buf[--i] = digits[v & 0xf];
        v >>= 4;
    } while (v && i > 2);
    buf[--i] = 'x';
    buf[--i] = '0';
    puts_uart(&buf[i]);
}

void putdec(uint64_t v)
{
    char buf[21];
    int i = 20;

    buf[i] = '\0';
    do {
        buf[--i] = '0' + v % 10;
        v /= 10;
    } while (v);
    puts_uart(&buf[i]);
}
