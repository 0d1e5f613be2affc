/*
 * Reset handler and vector table for the STM32F4 boards (no vendor startup files): copies .data,
 * clears .bss and calls main(). Every interrupt a board does not use goes to a handler that
 * stops in a loop (a debugger shows where); the handlers below are weak, a board defines those it uses.
 */
#include <stdint.h>

#include "stm32f407.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

void Reset_Handler(void);
void Default_Handler(void);
#define WEAK_HANDLER(name) void name(void) __attribute__((weak, alias("Default_Handler")))
WEAK_HANDLER(SysTick_Handler);
WEAK_HANDLER(TIM2_IRQHandler);
WEAK_HANDLER(USART1_IRQHandler);
WEAK_HANDLER(USART2_IRQHandler);
WEAK_HANDLER(USART3_IRQHandler);
WEAK_HANDLER(UART4_IRQHandler);
WEAK_HANDLER(UART5_IRQHandler);
WEAK_HANDLER(USART6_IRQHandler);

void Reset_Handler(void)
{
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0;
    main();
    for (;;) {
    }
}

void Default_Handler(void)
{
    for (;;) {
    }
}

typedef void (*vector)(void);

/*
 * 16 system exceptions (0 = initial stack pointer, 1 = reset, 15 = SysTick; 7-10 and 13 are
 * reserved), then IRQ 0..81 at index 16 + IRQ: TIM2 28, USART1 37, USART2 38, USART3 39,
 * UART4 52, UART5 53, USART6 71.
 */
__attribute__((section(".isr_vector"), used)) static const vector VECTORS[16 + IRQ_COUNT] = {
    (vector)(uintptr_t)&_estack, Reset_Handler, Default_Handler, Default_Handler,  /* 0..3 */
    Default_Handler, Default_Handler, Default_Handler, 0,  /* 4..7 */
    0, 0, 0, Default_Handler,  /* 8..11 */
    Default_Handler, 0, Default_Handler, SysTick_Handler,  /* 12..15 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  /* 16..19 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  /* 20..23 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  /* 24..27 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  /* 28..31 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  /* 32..35 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  /* 36..39 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  /* 40..43 */
    TIM2_IRQHandler, Default_Handler, Default_Handler, Default_Handler,  /* 44..47 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  /* 48..51 */
    Default_Handler, USART1_IRQHandler, USART2_IRQHandler, USART3_IRQHandler,  /* 52..55 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  /* 56..59 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  /* 60..63 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  /* 64..67 */
    UART4_IRQHandler, UART5_IRQHandler, Default_Handler, Default_Handler,  /* 68..71 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  /* 72..75 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  /* 76..79 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  /* 80..83 */
    Default_Handler, Default_Handler, Default_Handler, USART6_IRQHandler,  /* 84..87 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  /* 88..91 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,  /* 92..95 */
    Default_Handler, Default_Handler,  /* 96..97 */
};
