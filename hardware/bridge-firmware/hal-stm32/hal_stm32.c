/*
 * HAL for the STM32F407 (see board.h for pins and clocks, hardware/README.md for the jig).
 *
 * Card I/O: USART1/2/3/6 in smartcard mode (9 bits with parity, 1.5 stop bits, SCLK on CK,
 * TX open drain as the bidirectional I/O line). The receiver stays on while transmitting, as
 * the smartcard mode needs it to see the card's error signal: the echo of each transmitted
 * character is read and dropped, its framing error is the card's NACK. With NACK on, a
 * received parity error is signalled to the card by the USART itself.
 * Timers: TIM2 counts microseconds; its four compare channels are the four slot timers.
 * SysTick (1 kHz) debounces card detect and deglitches the supply fault inputs.
 * Interrupt handlers only queue events (hal_loop.c); the main loop hands them to the core (all
 * interrupts share one priority, so queue pushes never preempt each other). The independent
 * watchdog resets the MCU if the main loop stops turning for IWDG_TIMEOUT_MS.
 */
#include "../core/config.h"
#include "../core/debounce.h"
#include "../hal.h"
#include "board.h"
#include "hal_loop.h"

_Static_assert(SLOTS == BRIDGE_SLOTS, "build with -DBRIDGE_SLOTS= the board's slot count");

static const uint8_t TA1S[] = {0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x18, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97};
static const struct hal_caps CAPS = {SLOTS, 1000000, 20000000, 4000000, CLASSES, TA1S, sizeof TA1S, "stm32f407-0.2.0", 2000, 10000, 0};

const struct hal_caps *hal_caps(void) { return &CAPS; }

/* ---- GPIO helpers ---- */

static void pin_mode(struct pin p, uint32_t mode)
{
    p.port->MODER = (p.port->MODER & ~(3u << (2u * p.n))) | (mode << (2u * p.n));
}

static void pin_af(struct pin p)
{
    volatile uint32_t *afr = &p.port->AFR[p.n >> 3];
    unsigned sh = 4u * (p.n & 7u);
    *afr = (*afr & ~(0xfu << sh)) | ((uint32_t)p.af << sh);
}

static void pin_set(struct pin p, bool high) { p.port->BSRR = high ? (1u << p.n) : (1u << (p.n + 16u)); }
static bool pin_get(struct pin p) { return (p.port->IDR >> p.n) & 1u; }
static void pin_open_drain(struct pin p) { p.port->OTYPER |= 1u << p.n; }
static void pin_pull_up(struct pin p) { p.port->PUPDR = (p.port->PUPDR & ~(3u << (2u * p.n))) | (1u << (2u * p.n)); }
static void pin_fast(struct pin p) { p.port->OSPEEDR |= 3u << (2u * p.n); }

/* ---- card slots ---- */

struct slot_hw {
    uint8_t psc;            /* SCLK = CARD_CLK_BASE_HZ / psc */
    uint16_t fi;
    uint8_t di;
    volatile bool tx_busy, tx_nacked;
    struct debounce detect; /* state = card in */
    struct debounce fault;  /* state = FAULT asserted (deglitched) */
    bool fault_latched;
};

static struct slot_hw hw[SLOTS];

/* PCLK cycles per etu = (Fi / Di) x 2 x PSC; BRR (oversampling 16) is exactly that. */
static void apply_baud(uint8_t s)
{
    struct usart *u = SLOT_PINS[s].uart;
    uint32_t num = (uint32_t)hw[s].fi * 2u * hw[s].psc;
    uint32_t brr = (num + hw[s].di / 2u) / hw[s].di;
    u->BRR = brr < 16u ? 16u : brr;
    u->GTPR = (u->GTPR & 0xff00u) | hw[s].psc;
}

uint32_t hal_card_clock_set(uint8_t slot, uint32_t hz)
{
    /* The highest SCLK not above hz. */
    uint32_t psc = (CARD_CLK_BASE_HZ + hz - 1u) / hz;
    if (psc < 1u) psc = 1u;
    if (psc > 31u) psc = 31u;
    hw[slot].psc = (uint8_t)psc;
    apply_baud(slot);
    return CARD_CLK_BASE_HZ / psc;
}

void hal_card_clock_run(uint8_t slot, bool run)
{
    /* The USART generates SCLK all the time; the pin either carries it or is held low. */
    struct pin p = SLOT_PINS[slot].clk;
    pin_set(p, false);
    pin_mode(p, run ? GPIO_MODE_AF : GPIO_MODE_OUT);
}

void hal_card_rst(uint8_t slot, bool high) { pin_set(SLOT_PINS[slot].rst, high); }

void hal_card_io(uint8_t slot, enum hal_io mode)
{
    struct pin p = SLOT_PINS[slot].io;
    pin_set(p, false);
    pin_mode(p, mode == HAL_IO_RX ? GPIO_MODE_AF : GPIO_MODE_OUT);
}

void hal_card_vcc(uint8_t slot, char cls)
{
    const struct slot_pins *sp = &SLOT_PINS[slot];
    /* Break before make: never two rails on one card. The core only asks for CLASSES. */
    for (int i = 0; i < 2; i++) pin_set(sp->vcc[i], false);
    if (cls == 'B' || cls == 'C') pin_set(sp->vcc[cls - 'B'], true);
    hw[slot].fault_latched = false;
}

void hal_card_uart(uint8_t slot, const struct hal_uart_cfg *cfg)
{
    struct usart *u = SLOT_PINS[slot].uart;
    hw[slot].fi = cfg->fi;
    hw[slot].di = cfg->di;
    apply_baud(slot);
    /* TC rises GT etu after the 1.5 stop bits: 12.5 + N etu between characters to the card. */
    uint32_t gt = cfg->guard_n + 1u;
    u->GTPR = (u->GTPR & 0xffu) | ((gt > 255u ? 255u : gt) << 8);
    if (cfg->odd_parity) u->CR1 |= USART_CR1_PS;
    else u->CR1 &= ~USART_CR1_PS;
    if (cfg->nack) u->CR3 |= USART_CR3_NACK;
    else u->CR3 &= ~USART_CR3_NACK;
}

void hal_card_tx(uint8_t slot, uint8_t raw)
{
    struct usart *u = SLOT_PINS[slot].uart;
    irqs_off();
    hw[slot].tx_busy = true;
    hw[slot].tx_nacked = false;
    u->DR = raw;
    u->CR1 |= USART_CR1_TCIE;
    irqs_on();
}

static void card_irq(uint8_t s)
{
    struct usart *u = SLOT_PINS[s].uart;
    uint32_t sr = u->SR;
    if (sr & (USART_SR_RXNE | USART_SR_ORE)) {
        uint8_t d = (uint8_t)u->DR; /* SR then DR read clears PE, FE, ORE */
        if (hw[s].tx_busy) {
            if (sr & USART_SR_FE) hw[s].tx_nacked = true; /* our own echo; FE = the card's NACK */
        } else if (sr & USART_SR_RXNE) {
            ev_push(EV_RX, s, d, (sr & USART_SR_PE) ? 0 : 1);
        }
    }
    if ((u->CR1 & USART_CR1_TCIE) && (sr & USART_SR_TC)) {
        u->CR1 &= ~USART_CR1_TCIE;
        hw[s].tx_busy = false;
        ev_push(EV_TX_DONE, s, 0, hw[s].tx_nacked);
    }
}

void USART1_IRQHandler(void) { card_irq(0); }
void USART2_IRQHandler(void) { card_irq(1); }
void USART3_IRQHandler(void) { card_irq(2); }
void USART6_IRQHandler(void) { card_irq(3); }

static void card_uart_init(uint8_t s)
{
    const struct slot_pins *sp = &SLOT_PINS[s];
    struct usart *u = sp->uart;
    u->CR1 = 0;
    /* 8 data bits + parity, even; 1.5 stop bits; SCLK out; smartcard mode with NACK. */
    u->CR1 = USART_CR1_M | USART_CR1_PCE;
    u->CR2 = USART_CR2_STOP_1_5 | USART_CR2_CLKEN;
    hw[s].fi = 372;
    hw[s].di = 1;
    hw[s].psc = 5;
    u->GTPR = (1u << 8) | hw[s].psc;
    apply_baud(s);
    u->CR3 = USART_CR3_SCEN | USART_CR3_NACK;
    u->CR1 |= USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;

    pin_af(sp->io);
    pin_open_drain(sp->io);
    pin_pull_up(sp->io);
    pin_af(sp->clk);
    pin_fast(sp->clk);
    pin_set(sp->clk, false);
    pin_mode(sp->clk, GPIO_MODE_OUT);
    pin_set(sp->io, false);
    pin_mode(sp->io, GPIO_MODE_OUT);
    pin_set(sp->rst, false);
    pin_mode(sp->rst, GPIO_MODE_OUT);
    for (int i = 0; i < 2; i++) {
        pin_set(sp->vcc[i], false);
        pin_mode(sp->vcc[i], GPIO_MODE_OUT);
    }
    pin_pull_up(sp->detect);
    pin_mode(sp->detect, GPIO_MODE_IN);
    pin_pull_up(sp->fault);
    pin_mode(sp->fault, GPIO_MODE_IN);
    irq_enable(sp->irq);
}

/* ---- timers ---- */

uint32_t hal_micros(void) { return TIM2_CNT; }

void hal_timer_start(uint8_t slot, uint32_t us, enum hal_wait kind)
{
    (void)kind;
    irqs_off();
    TIM2_DIER &= ~TIM_CC_BIT(slot);
    TIM2_SR = ~TIM_CC_BIT(slot);
    /* A compare too close to CNT could be passed before it is armed and then wait 71 minutes for
     * the counter to wrap: never closer than MIN_COMPARE_US, and if CNT is past it anyway, due now
     * (the core waits out an early expiry). */
    uint32_t at = TIM2_CNT + (us < MIN_COMPARE_US ? MIN_COMPARE_US : us);
    TIM2_CCR(slot) = at;
    TIM2_DIER |= TIM_CC_BIT(slot);
    if ((int32_t)(TIM2_CNT - at) >= 0 && !(TIM2_SR & TIM_CC_BIT(slot))) {
        TIM2_DIER &= ~TIM_CC_BIT(slot);
        ev_push(EV_TIMER, slot, 0, 0);
    }
    irqs_on();
}

void hal_timer_stop(uint8_t slot)
{
    irqs_off();
    TIM2_DIER &= ~TIM_CC_BIT(slot);
    TIM2_SR = ~TIM_CC_BIT(slot);
    irqs_on();
}

void TIM2_IRQHandler(void)
{
    uint32_t sr = TIM2_SR & TIM2_DIER;
    for (uint8_t s = 0; s < SLOTS; s++) {
        if (!(sr & TIM_CC_BIT(s))) continue;
        TIM2_DIER &= ~TIM_CC_BIT(s);
        TIM2_SR = ~TIM_CC_BIT(s);
        ev_push(EV_TIMER, s, 0, 0);
    }
}

/* ---- card detect, faults (SysTick, 1 kHz) ---- */

static bool supply_ok = true;

void SysTick_Handler(void)
{
    for (uint8_t s = 0; s < SLOTS; s++) {
        struct slot_hw *h = &hw[s];
        bool in = !pin_get(SLOT_PINS[s].detect);
        if (debounce_step(&h->detect, in, h->detect.state ? DETECT_OUT_MS : DETECT_IN_MS)) ev_push(EV_DETECT, s, in, 0);
        bool vcc_on = false;
        for (int i = 0; i < 2; i++) vcc_on |= (SLOT_PINS[s].vcc[i].port->ODR >> SLOT_PINS[s].vcc[i].n) & 1u;
        /* A load switch flags FAULT while it limits the inrush current at switch-on: only a FAULT
         * that lasts FAULT_DEGLITCH_MS is an over-current. */
        debounce_step(&h->fault, vcc_on && !pin_get(SLOT_PINS[s].fault), FAULT_DEGLITCH_MS);
        if (h->fault.state && !h->fault_latched) {
            h->fault_latched = true;
            ev_push(EV_FAULT, s, 0, 0);
        }
    }
    bool good = pin_get(SUPPLY_GOOD);
    if (!good && supply_ok) ev_push(EV_SUPPLY, 0, 0, 0);
    supply_ok = good;
}

/* ---- init ---- */

static void clock_init(void)
{
    RCC_CR |= RCC_CR_HSEON;
    while (!(RCC_CR & RCC_CR_HSERDY)) {
    }
    /* 8 MHz / M 8 = 1 MHz; x N 320 = 320 MHz VCO; / P 2 = 160 MHz; Q 7 (USB unused). */
    RCC_PLLCFGR = 8u | (320u << 6) | (0u << 16) | RCC_PLLCFGR_SRC_HSE | (7u << 24);
    RCC_CR |= RCC_CR_PLLON;
    while (!(RCC_CR & RCC_CR_PLLRDY)) {
    }
    /* 5 wait states at 160 MHz and 3.3 V; caches and prefetch on. */
    FLASH_ACR = 5u | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
    RCC_CFGR = RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV4 | RCC_CFGR_SW_PLL;
    while ((RCC_CFGR & RCC_CFGR_SWS_MASK) != RCC_CFGR_SWS_PLL) {
    }
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN | RCC_AHB1ENR_GPIOBEN | RCC_AHB1ENR_GPIOCEN | RCC_AHB1ENR_GPIODEN | RCC_AHB1ENR_GPIOEEN;
    RCC_APB1ENR |= RCC_APB1ENR_TIM2EN | RCC_APB1ENR_USART2EN | RCC_APB1ENR_USART3EN | RCC_APB1ENR_UART4EN;
    RCC_APB2ENR |= RCC_APB2ENR_USART1EN | RCC_APB2ENR_USART6EN;
}

void UART4_IRQHandler(void) { link_irq(); }

/* Independent watchdog (LSI, about 32 kHz): /32 gives 1 ms per count. */
static void watchdog_start(void)
{
    IWDG_KR = 0xcccc;
    IWDG_KR = 0x5555;
    IWDG_PR = 3u;
    IWDG_RLR = IWDG_TIMEOUT_MS;
    while (IWDG_SR & 3u) {
    }
    IWDG_KR = 0xaaaa;
}

void board_service(void) { IWDG_KR = 0xaaaa; }

uint32_t board_init(void)
{
    watchdog_start();
    clock_init();
    /* TIM2 runs at 2 x APB1 = 80 MHz: /80 = 1 MHz, free running over 32 bits. */
    TIM2_PSC = 79;
    TIM2_ARR = 0xffffffffu;
    TIM2_EGR = TIM_EGR_UG;
    TIM2_SR = 0;
    TIM2_CR1 = TIM_CR1_CEN;
    irq_enable(IRQ_TIM2);

    pin_af(HOST_TX);
    pin_af(HOST_RX);
    pin_pull_up(HOST_RX);
    pin_mode(HOST_TX, GPIO_MODE_AF);
    pin_mode(HOST_RX, GPIO_MODE_AF);
    link_init(UART4);
    UART4->BRR = PCLK_HZ / HOST_BAUD;
    UART4->CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
    irq_enable(IRQ_UART4);

    pin_mode(SUPPLY_GOOD, GPIO_MODE_IN);
    uint32_t present = 0;
    for (uint8_t s = 0; s < SLOTS; s++) {
        card_uart_init(s);
        hw[s].detect.state = !pin_get(SLOT_PINS[s].detect);
        if (hw[s].detect.state) present |= 1u << s;
    }
    SYST_RVR = SYSCLK_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* processor clock, interrupt, enable */
    return present;
}
