/*
 * Entry of the freestanding arm64 test guest: an arm64 Linux "Image"
 * header, so that xl/libxc load it like a kernel and pass the device tree
 * address in x0.  Runs at EL1 with the MMU off.
 */
    .section .text.head, "ax"
    .global _start
_start:
    b       entry                   /* code0 */
    .long   0                       /* code1 */
    .quad   0                       /* text_offset */
    .quad   _end - _start           /* image_size */
    .quad   0xa                     /* flags: LE, 4K pages, anywhere */
    .quad   0, 0, 0                 /* res2-res4 */
    .ascii  "ARM\x64"               /* magic */
    .long   0                       /* res5 */

entry:
    mov     x19, x0                 /* DTB */
    ldr     x1, =stack_top
    mov     sp, x1
    adr     x1, vectors
    msr     vbar_el1, x1
    mrs     x1, cpacr_el1           /* let libfdt's code use FP/SIMD */
    orr     x1, x1, #(3 << 20)
    msr     cpacr_el1, x1
    isb
    ldr     x1, =__bss_start        /* RAM is not zeroed for us */
    ldr     x2, =__bss_end
1:  cmp     x1, x2
    b.hs    2f
    strb    wzr, [x1], #1
    b       1b
2:  mov     x0, x19
    bl      guest_main
    b       psci_system_off

    .global psci_system_off
psci_system_off:
    ldr     x0, =0x84000008         /* PSCI SYSTEM_OFF */
    hvc     #0
3:  wfi
    b       3b

/* Any exception is a test failure: report it and power off. */
    .macro  vec
    .balign 0x80
    mrs     x0, esr_el1
    mrs     x1, elr_el1
    mrs     x2, far_el1
    ldr     x3, =stack_top
    mov     sp, x3
    bl      guest_exception
    b       psci_system_off
    .endm

    .balign 0x800
vectors:
    .rept   16
    vec
    .endr
