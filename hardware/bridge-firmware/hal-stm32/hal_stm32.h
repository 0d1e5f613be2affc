/* The STM32F407 HAL's own entry points for main.c (the core's are in ../hal.h). */
#ifndef HAL_STM32_H
#define HAL_STM32_H

#include <stdbool.h>
#include <stdint.h>

/** Clocks, pins, UARTs, timers; returns the card-detect mask at power-up. */
uint32_t hal_stm32_init(void);
/** Hands queued events and host bytes to the core; true if there was any. */
bool hal_stm32_poll(void);
/** Nothing queued (call with interrupts off before sleeping). */
bool hal_stm32_idle(void);

#endif
