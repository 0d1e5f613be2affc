/*
 * HAL for QEMU's netduinoplus2 machine (STM32F405, Cortex-M4): the same core, main loop and
 * shared STM32 HAL half (hal-stm32/hal_loop.c) as the jig board, cross-built with the same
 * compiler and flags, on what QEMU models: its USARTs and the Cortex-M SysTick timer. QEMU does
 * not model the clock tree, GPIO or the smartcard mode, so this HAL never waits on a clock-ready
 * bit and moves the contacts over serial ports instead of pins:
 *
 *   serial0  USART1   host link (the line protocol), 8N1
 *   serial1  USART2   contacts: text lines, as bridge-host's card channel (host/bridge_host.c):
 *                     out "V s c", "K s hz", "R s 0|1", "I s 0|1", "U s fi di n E|O", "B -" (booted),
 *                     "o -" (overrun hook armed); in "P slots mask" (answer to B: slot count and
 *                     cards present), "D s 0|1", "F s|- CODE", "O -" (test hook: the next host
 *                     line loses its tail, as in a full receive buffer)
 *   serial2-5 USART3, UART4, UART5, USART6: the I/O line of slots 0-3, one raw character per
 *                     T=0 character both ways
 *
 * A character line has no parity bit: a card on it is taken to send correct parity in its own
 * convention, so the only parity error the core needs to see, the inverse convention's TS read
 * as 03 in direct convention (NACK off), is reported as such. NACK and repetition stay with the
 * unit tests on the simulated line (host/sim.c). Waits for the card are stretched to at least
 * MIN_CARD_WAIT_US: the card is a process on the other end of a socket. QEMU's USART writes a
 * character out synchronously and raises no transmit interrupt (TXE and TC are always set), so
 * the host link is drained by polling and a card character is done once written.
 */
#include "../core/config.h"
#include "../hal.h"
#include "../hal-stm32/hal_loop.h"

#define SLOTS 4
_Static_assert(SLOTS == BRIDGE_SLOTS, "build with -DBRIDGE_SLOTS=4");
#define SYSCLK_HZ 168000000u /* netduinoplus2's fixed SYSCLK */
#define MIN_CARD_WAIT_US 500000u

static const uint8_t TA1S[] = {0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x18, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97};
static struct hal_caps caps = {SLOTS, 1000000, 20000000, 4000000, "ABC", TA1S, sizeof TA1S, "qemu-netduinoplus2-0.2.0", 1000, 10000, 0};

const struct hal_caps *hal_caps(void) { return &caps; }

static struct usart *const CONTACTS = USART2;
static struct usart *const SLOT_UART[SLOTS] = {USART3, UART4, UART5, USART6};
static const unsigned SLOT_IRQ[SLOTS] = {IRQ_USART3, IRQ_UART4, IRQ_UART5, IRQ_USART6};

/* ---- time: SysTick at SYSCLK, 1 ms period ---- */

static volatile uint32_t ms_ticks;

void SysTick_Handler(void) { ms_ticks = ms_ticks + 1; }

/*
 * Must never run backwards: the core measures spans as unsigned differences (a TPDU's total
 * time cap among them), so a value 1 ms behind an earlier one reads as ~71 minutes spent and
 * fails the exchange with TIMEOUT at once. SysTick can have wrapped (CVR back at the reload
 * value) while its interrupt is still pending: interrupts off, or QEMU taking it only at the next
 * translation block. Then ms_ticks lags one period; PENDSTSET with a CVR in the upper half of the
 * period says so (a wrap after the CVR read leaves CVR near 0).
 */
uint32_t hal_micros(void)
{
    uint32_t ms, cvr, pending;
    do {
        ms = ms_ticks;
        cvr = SYST_CVR;
        pending = SCB_ICSR & SCB_ICSR_PENDSTSET;
    } while (ms != ms_ticks);
    if (pending && cvr > SYSCLK_HZ / 2000u) ms++;
    return ms * 1000u + (SYSCLK_HZ / 1000u - 1u - cvr) / (SYSCLK_HZ / 1000000u);
}

/* Slot timers in software: the main loop turns at least once a millisecond (SysTick wakes it). */
static bool timer_on[SLOTS];
static uint32_t timer_at[SLOTS];

void hal_timer_start(uint8_t slot, uint32_t us, enum hal_wait kind)
{
    if (kind == HAL_WAIT_CARD && us < MIN_CARD_WAIT_US) us = MIN_CARD_WAIT_US;
    timer_at[slot] = hal_micros() + us;
    timer_on[slot] = true;
}

void hal_timer_stop(uint8_t slot) { timer_on[slot] = false; }

/* ---- contacts channel ---- */

static void contacts_put(char c)
{
    while (!(CONTACTS->SR & USART_SR_TXE)) {
    }
    CONTACTS->DR = (uint8_t)c;
}

static void contacts_str(const char *s)
{
    while (*s) contacts_put(*s++);
}

static void contacts_dec(uint32_t v)
{
    char t[10];
    int k = 0;
    do {
        t[k++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (k) contacts_put(t[--k]);
}

/* "<kind> <slot> <value>\n" */
static void contacts_msg(char kind, uint8_t slot, uint32_t v, char cv)
{
    contacts_put(kind);
    contacts_put(' ');
    contacts_dec(slot);
    contacts_put(' ');
    if (cv) contacts_put(cv);
    else contacts_dec(v);
    contacts_put('\n');
}

#define CONTACT_LINE 64u
static char cin[CONTACT_LINE];
static volatile uint32_t cin_len;
static volatile bool cin_ready; /* a complete line waits in cin for the main loop */

void USART2_IRQHandler(void)
{
    uint32_t sr = CONTACTS->SR;
    if (!(sr & USART_SR_RXNE)) return;
    char c = (char)CONTACTS->DR;
    if (cin_ready) return; /* the main loop reads lines long before the next one is complete */
    if (c == '\n') cin_ready = true;
    else if (cin_len < CONTACT_LINE - 1u) cin[cin_len++] = c;
}

static uint32_t parse_num(const char **p, unsigned base)
{
    uint32_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 99u;
        if (d >= base) return v;
        v = v * base + d;
    }
}

/* One line from the contacts channel; returns the present mask for "P". */
static void contacts_line(const char *l, uint32_t *present, bool *got_p)
{
    const char *p = l + 2;
    switch (l[0]) {
    case 'P': {
        uint32_t n = parse_num(&p, 10);
        if (*p == ' ') p++;
        caps.slots = (uint8_t)(n >= 1 && n <= SLOTS ? n : SLOTS);
        *present = parse_num(&p, 16);
        *got_p = true;
        break;
    }
    case 'D': {
        uint32_t s = parse_num(&p, 10);
        if (*p == ' ') p++;
        if (s < SLOTS) {
            irqs_off();
            ev_push(EV_DETECT, (uint8_t)s, *p == '1', 0);
            irqs_on();
        }
        break;
    }
    case 'F':
        irqs_off();
        if (*p == '-') ev_push(EV_SUPPLY, 0, 0, 0);
        else {
            uint32_t s = parse_num(&p, 10);
            if (s < SLOTS) ev_push(EV_FAULT, (uint8_t)s, 0, 0);
        }
        irqs_on();
        break;
    case 'O':
        link_drop_next_line();
        contacts_str("o -\n");
        break;
    default:
        break;
    }
}

static void contacts_poll(uint32_t *present, bool *got_p)
{
    if (!cin_ready) return;
    cin[cin_len] = 0;
    contacts_line(cin, present, got_p);
    cin_len = 0;
    cin_ready = false;
}

/* ---- card contacts ---- */

struct slot_hw {
    uint32_t hz;
    bool clk_on;
    bool ts_window; /* NACK off: reading TS */
};
static struct slot_hw hw[SLOTS];

void hal_card_vcc(uint8_t slot, char cls) { contacts_msg('V', slot, 0, cls ? cls : '0'); }

uint32_t hal_card_clock_set(uint8_t slot, uint32_t hz)
{
    /* The same 20 MHz / PSC steps as the jig board, so INFO and CLOCK answer alike. */
    uint32_t psc = (20000000u + hz - 1u) / hz;
    if (psc < 1u) psc = 1u;
    if (psc > 31u) psc = 31u;
    hw[slot].hz = 20000000u / psc;
    if (hw[slot].clk_on) contacts_msg('K', slot, hw[slot].hz, 0);
    return hw[slot].hz;
}

void hal_card_clock_run(uint8_t slot, bool run)
{
    hw[slot].clk_on = run;
    contacts_msg('K', slot, run ? hw[slot].hz : 0u, 0);
}

void hal_card_rst(uint8_t slot, bool high) { contacts_msg('R', slot, high, 0); }

void hal_card_io(uint8_t slot, enum hal_io mode) { contacts_msg('I', slot, mode == HAL_IO_RX, 0); }

void hal_card_uart(uint8_t slot, const struct hal_uart_cfg *cfg)
{
    hw[slot].ts_window = !cfg->nack;
    contacts_put('U');
    contacts_put(' ');
    contacts_dec(slot);
    contacts_put(' ');
    contacts_dec(cfg->fi);
    contacts_put(' ');
    contacts_dec(cfg->di);
    contacts_put(' ');
    contacts_dec(cfg->guard_n);
    contacts_put(' ');
    contacts_put(cfg->odd_parity ? 'O' : 'E');
    contacts_put('\n');
}

void hal_card_tx(uint8_t slot, uint8_t raw)
{
    struct usart *u = SLOT_UART[slot];
    irqs_off();
    u->DR = raw;
    ev_push(EV_TX_DONE, slot, 0, 0); /* QEMU: out once written, never NACKed */
    irqs_on();
}

static void card_irq(uint8_t s)
{
    struct usart *u = SLOT_UART[s];
    uint32_t sr = u->SR;
    if (sr & USART_SR_RXNE) {
        uint8_t d = (uint8_t)u->DR;
        bool parity_ok = !(hw[s].ts_window && d == 0x03);
        ev_push(EV_RX, s, d, parity_ok);
    }
}

void USART3_IRQHandler(void) { card_irq(0); }
void UART4_IRQHandler(void) { card_irq(1); }
void UART5_IRQHandler(void) { card_irq(2); }
void USART6_IRQHandler(void) { card_irq(3); }
void USART1_IRQHandler(void) { link_irq(); }

static void uart_on(struct usart *u, bool rx_irq)
{
    u->BRR = 16u; /* QEMU ignores the baud rate */
    u->CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | (rx_irq ? USART_CR1_RXNEIE : 0u);
}

/* ---- board ---- */

uint32_t board_init(void)
{
    SYST_RVR = SYSCLK_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* processor clock, interrupt, enable */
    uart_on(CONTACTS, true);
    irq_enable(IRQ_USART2);
    for (uint8_t s = 0; s < SLOTS; s++) {
        uart_on(SLOT_UART[s], true);
        irq_enable(SLOT_IRQ[s]);
    }
    link_init(USART1);
    uart_on(USART1, true);
    irq_enable(IRQ_USART1);
    /* Ask the other end for the slot count and the cards present at power-up. */
    contacts_str("B -\n");
    uint32_t present = 0;
    bool got = false;
    while (!got) {
        contacts_poll(&present, &got);
        if (!got) wait_for_interrupt();
    }
    return present;
}

void board_service(void)
{
    link_tx_poll();
    uint32_t unused = 0;
    bool got = false;
    contacts_poll(&unused, &got);
    uint32_t now = hal_micros();
    for (uint8_t s = 0; s < SLOTS; s++) {
        if (timer_on[s] && (int32_t)(now - timer_at[s]) >= 0) {
            timer_on[s] = false;
            irqs_off();
            ev_push(EV_TIMER, s, 0, 0);
            irqs_on();
        }
    }
}
