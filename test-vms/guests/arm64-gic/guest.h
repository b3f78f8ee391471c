#ifndef GUEST_H
#define GUEST_H

#include <stdint.h>

uint32_t read32(uint64_t addr);
uint64_t read64(uint64_t addr);
void putc_uart(char c);
void puts_uart(const char *s);
void puthex(uint64_t v);
void putdec(uint64_t v);
void psci_system_off(void) __attribute__((noreturn));

#endif
