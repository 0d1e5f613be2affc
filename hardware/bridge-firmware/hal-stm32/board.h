/*
 * Pin mapping and clocking of the 4-slot bridge on an STM32F407VG (hardware/README.md has the
 * wiring of each signal to the card contacts).
 *
 * Clocks: 8 MHz HSE crystal -> PLL (M 8, N 320, P 2) -> SYSCLK 160 MHz; AHB 160 MHz, APB1 and
 * APB2 40 MHz (so all four smartcard USARTs run from the same 40 MHz, card clock = 20 MHz / PSC),
 * TIM2 at 80 MHz divided to 1 MHz (the microsecond counter and the four slot timers).
 */
#ifndef BOARD_H
#define BOARD_H

#include "stm32f407.h"

#define HSE_HZ 8000000u
#define SYSCLK_HZ 160000000u
#define PCLK_HZ 40000000u      /* APB1 = APB2 */
#define CARD_CLK_BASE_HZ (PCLK_HZ / 2u) /* smartcard SCLK = PCLK / (2 x PSC), PSC 1..31 */
#define HOST_BAUD 2000000u     /* UART4 to the station: 8N1, BRR = 20 (exact) */

#define SLOTS 4
/* Supply classes the front end has (hardware/README.md): B = 3.0 V, C = 1.8 V. */
#define CLASSES "BC"

struct pin {
    struct gpio *port;
    uint8_t n;
    uint8_t af;
};

struct slot_pins {
    struct usart *uart;
    unsigned irq;
    struct pin io;          /* USART TX in smartcard mode, open drain: card C7 via level shifter */
    struct pin clk;         /* USART CK: card C3 via level shifter */
    struct pin rst;         /* GPIO out: card C2 via level shifter */
    struct pin vcc[2];      /* GPIO out, active high: enables of the class B (3.0 V) / class C (1.8 V) load switches */
    struct pin detect;      /* GPIO in, pull-up: socket switch to GND when a card is in */
    struct pin fault;       /* GPIO in, pull-up: the load switches' open-drain FAULT, low = over-current */
};

#define PIN(p, num, alt) {p, num, alt}

static const struct slot_pins SLOT_PINS[SLOTS] = {
    {USART1, IRQ_USART1, PIN(GPIOA, 9, 7), PIN(GPIOA, 8, 7), PIN(GPIOE, 0, 0), {PIN(GPIOE, 1, 0), PIN(GPIOE, 2, 0)}, PIN(GPIOD, 0, 0), PIN(GPIOD, 1, 0)},
    {USART2, IRQ_USART2, PIN(GPIOA, 2, 7), PIN(GPIOA, 4, 7), PIN(GPIOE, 4, 0), {PIN(GPIOE, 5, 0), PIN(GPIOE, 6, 0)}, PIN(GPIOD, 2, 0), PIN(GPIOD, 3, 0)},
    {USART3, IRQ_USART3, PIN(GPIOB, 10, 7), PIN(GPIOB, 12, 7), PIN(GPIOE, 8, 0), {PIN(GPIOE, 9, 0), PIN(GPIOE, 10, 0)}, PIN(GPIOD, 4, 0), PIN(GPIOD, 5, 0)},
    {USART6, IRQ_USART6, PIN(GPIOC, 6, 8), PIN(GPIOC, 8, 8), PIN(GPIOE, 12, 0), {PIN(GPIOE, 13, 0), PIN(GPIOE, 14, 0)}, PIN(GPIOD, 6, 0), PIN(GPIOD, 7, 0)},
};

/* Host link: UART4 TX PC10, RX PC11 (AF8) to a USB-UART bridge that runs 2 Mbaud. */
static const struct pin HOST_TX = PIN(GPIOC, 10, 8);
static const struct pin HOST_RX = PIN(GPIOC, 11, 8);
/* Power-good of the card supply rails (3.0 V and 1.8 V, wired-AND), high = good. */
static const struct pin SUPPLY_GOOD = PIN(GPIOD, 8, 0);

/* Debounce, in 1 ms ticks: a card counts as inserted after 50 ms, removed after 2 ms. */
#define DETECT_IN_MS 50u
#define DETECT_OUT_MS 2u
/* A load switch's FAULT must last this long to count (its inrush current limit flags it briefly). */
#define FAULT_DEGLITCH_MS 8u
/* The independent watchdog resets the MCU when the main loop has not turned for this long. */
#define IWDG_TIMEOUT_MS 500u
/* Slot timers: a compare at least this far ahead of TIM2_CNT (1 MHz) is armed in time. */
#define MIN_COMPARE_US 4u

#endif
