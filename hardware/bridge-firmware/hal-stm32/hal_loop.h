/*
 * The part of the HAL every STM32 board shares (the STM32F407 jig board and the QEMU
 * netduinoplus2 target): the event queue from interrupts to the main loop, the host link's
 * ring buffers on one USART, and the main loop's dispatch to the core with back-pressure.
 */
#ifndef HAL_LOOP_H
#define HAL_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "stm32f407.h"

enum ev_kind { EV_RX, EV_TX_DONE, EV_TIMER, EV_DETECT, EV_FAULT, EV_SUPPLY };

/* Queues an event (from an interrupt, or thread mode with interrupts off). A full queue drops it
 * and remembers the slot: the core then ends that slot's request with ERR OVERRUN. */
void ev_push(uint8_t kind, uint8_t slot, uint8_t data, uint8_t flag);

/* The host link runs on this USART (8N1, receive and transmit interrupts). */
void link_init(struct usart *u);
/* The host USART's interrupt handler calls this. */
void link_irq(void);
/* Moves queued host bytes to the USART while it takes them (a board whose transmit interrupt
 * does not fire calls this from board_service). */
void link_tx_poll(void);
/* Test hook (QEMU board): bytes of the next line after its first are dropped as a full buffer would. */
void link_drop_next_line(void);

/* Board hooks main.c calls: init returns the card-detect mask; service runs each loop turn. */
uint32_t board_init(void);
void board_service(void);

/* Hands queued events and host bytes to the core while the transmit buffer has room. */
bool hal_loop_poll(void);
/* Nothing to do until the next interrupt (call with interrupts off, before WFI). */
bool hal_loop_idle(void);

#endif
