/*
 * Multiboot (v1) entry of the x86 platform test guest.  QEMU's multiboot
 * loader (run by SeaBIOS, also under Xen's HVM device model) enters in
 * 32-bit protected mode, paging off, EAX = 0x2BADB002, EBX = the multiboot
 * information.  The GDT it leaves may be gone: load our own, set up a stack,
 * clear .bss (RAM is not zeroed under Xen), then call guest_main.
 */
#define MB_MAGIC        0x1BADB002
#define MB_FLAGS        0x00000003      /* page-aligned modules, memory info */

        .section .text.head, "ax"
        .code32
        .align 4
mb_header:
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)

        .globl _start
_start:
        cli
        cld
        mov     %eax, %ebp              /* multiboot magic */
        mov     %ebx, %esi              /* multiboot info */
        lgdt    gdt_desc
        ljmp    $0x08, $1f
1:      mov     $0x10, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %fs
        mov     %eax, %gs
        mov     %eax, %ss
        mov     $stack_top, %esp
        mov     $__bss_start, %edi
        mov     $__bss_end, %ecx
        sub     %edi, %ecx
        xor     %eax, %eax
        rep stosb
        push    %esi
        push    %ebp
        call    guest_main
        .globl halt_forever
halt_forever:
        cli
        hlt
        jmp     halt_forever

/* Exception stubs: push a dummy error code where the CPU pushes none. */
.macro exc_stub vec
exc_\vec:
.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
.else
        push    $0
.endif
        push    $\vec
        jmp     exc_common
.endm

        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        exc_stub \v
        .endr

exc_common:
        mov     $0x10, %eax
        mov     %eax, %ds
        mov     %eax, %es
        push    %esp                    /* -> vector, error, eip, cs, eflags */
        call    guest_exception
        jmp     halt_forever

/*
 * The local APIC timer that delay_ms sleeps on: acknowledge it, say it
 * fired.  A spurious interrupt needs no acknowledgement.
 */
        .globl timer_stub
timer_stub:
        movl    $0, 0xfee000b0          /* EOI */
        movl    $1, timer_fired
        iret
        .globl spurious_stub
spurious_stub:
        iret

        .section .rodata
        .globl exc_stubs
        .align 4
exc_stubs:
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long exc_\v
        .endr

        .align 8
gdt:
        .quad 0
        .quad 0x00cf9b000000ffff        /* 0x08: flat 32-bit code */
        .quad 0x00cf93000000ffff        /* 0x10: flat data */
gdt_end:
gdt_desc:
        .word gdt_end - gdt - 1
        .long gdt

        .section .note.GNU-stack, "", @progbits
