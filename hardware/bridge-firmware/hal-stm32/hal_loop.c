/*
 * Shared STM32 HAL half (hal_loop.h). Interrupt handlers only queue; the main loop hands one
 * event or one host line at a time to the core, and only while the transmit ring can take
 * the worst case that step may write, so hal_host_write() never waits for the UART.
 */
#include "hal_loop.h"

#include "../core/bridge.h"
#include "../core/config.h"
#include "../hal.h"

/* ---- events ---- */

struct ev {
    uint8_t kind, slot, data, flag;
};

#define EVQ 256u
static struct ev evq[EVQ];
static volatile uint32_t ev_head, ev_tail;
static volatile uint32_t ev_lost; /* bit s: an event of slot s was dropped */

void ev_push(uint8_t kind, uint8_t slot, uint8_t data, uint8_t flag)
{
    uint32_t t = ev_tail;
    if (t - ev_head >= EVQ) {
        ev_lost |= kind == EV_SUPPLY ? 0xffffu : 1u << (slot & 15u);
        return;
    }
    evq[t % EVQ] = (struct ev){kind, slot, data, flag};
    ev_tail = t + 1;
}

static const char *const FAULT_NAMES[] = {"OVERCURRENT", "UNDERVOLTAGE"};

static void dispatch(struct ev e)
{
    switch (e.kind) {
    case EV_RX:
        bridge_card_rx(e.slot, e.data, e.flag != 0);
        break;
    case EV_TX_DONE:
        bridge_card_tx_done(e.slot, e.flag != 0);
        break;
    case EV_TIMER:
        bridge_timer(e.slot);
        break;
    case EV_DETECT:
        bridge_card_detect(e.slot, e.data != 0);
        break;
    case EV_FAULT:
        bridge_fault(e.slot, FAULT_NAMES[0]);
        break;
    case EV_SUPPLY:
        bridge_fault(-1, FAULT_NAMES[1]);
        break;
    default:
        break;
    }
}

/* ---- host link ---- */

#define HOST_RX_BUF 1024u
#define HOST_TX_BUF 4096u
/* The most one step of the core writes: a request's answer plus an aborted request's (POWER OFF),
 * or an event plus one short error answer per slot (bridge-wide fault). */
#define TX_RESERVE (2u * LINE_MAX + 32u * BRIDGE_SLOTS)

static struct usart *link;
static uint8_t host_rx[HOST_RX_BUF];
static volatile uint32_t host_rx_head, host_rx_tail;
static volatile bool host_rx_lost;         /* bytes were dropped at stream position host_rx_lost_at */
static volatile uint32_t host_rx_lost_at;
static volatile bool drop_next_line, dropping;
static uint8_t host_tx[HOST_TX_BUF];
static volatile uint32_t host_tx_head, host_tx_tail;
static uint32_t host_tx_dropped;           /* never expected: TX_RESERVE is checked before each step */

void link_init(struct usart *u) { link = u; }

void link_drop_next_line(void) { drop_next_line = true; }

static void rx_lost(void)
{
    if (host_rx_lost) return;
    host_rx_lost = true;
    host_rx_lost_at = host_rx_tail;
}

void link_irq(void)
{
    uint32_t sr = link->SR;
    if (sr & (USART_SR_RXNE | USART_SR_ORE)) {
        uint8_t d = (uint8_t)link->DR; /* SR then DR read clears ORE */
        if (sr & USART_SR_ORE) rx_lost(); /* the USART itself lost a byte */
        bool keep = (sr & USART_SR_RXNE) != 0;
        if (keep && dropping) {
            rx_lost();
            keep = d == '\n';
            dropping = !keep;
        }
        if (keep && host_rx_tail - host_rx_head >= HOST_RX_BUF) {
            rx_lost(); /* full: the core answers this line ERR OVERRUN */
            keep = false;
        }
        if (keep) {
            host_rx[host_rx_tail % HOST_RX_BUF] = d;
            host_rx_tail = host_rx_tail + 1;
            if (drop_next_line && d != '\n') {
                drop_next_line = false;
                dropping = true;
            }
        }
    }
    if ((link->CR1 & USART_CR1_TXEIE) && (sr & USART_SR_TXE)) {
        if (host_tx_head == host_tx_tail) {
            link->CR1 &= ~USART_CR1_TXEIE;
        } else {
            link->DR = host_tx[host_tx_head % HOST_TX_BUF];
            host_tx_head = host_tx_head + 1;
        }
    }
}

void link_tx_poll(void)
{
    irqs_off();
    while (host_tx_head != host_tx_tail && (link->SR & USART_SR_TXE)) {
        link->DR = host_tx[host_tx_head % HOST_TX_BUF];
        host_tx_head = host_tx_head + 1;
    }
    irqs_on();
}

static uint32_t tx_free(void) { return HOST_TX_BUF - (host_tx_tail - host_tx_head); }

void hal_host_write(const char *data, size_t n)
{
    if (tx_free() < n) {
        host_tx_dropped++;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        host_tx[host_tx_tail % HOST_TX_BUF] = (uint8_t)data[i];
        host_tx_tail = host_tx_tail + 1;
    }
    link->CR1 |= USART_CR1_TXEIE;
}

/* Feeds the core the received bytes up to the next LF (one line: at most two answers). */
static bool feed_line(void)
{
    uint8_t buf[64];
    size_t n = 0;
    bool more = true;
    while (more && host_rx_head != host_rx_tail && n < sizeof buf) {
        if (host_rx_lost && host_rx_head == host_rx_lost_at) break;
        uint8_t b = host_rx[host_rx_head % HOST_RX_BUF];
        host_rx_head = host_rx_head + 1;
        buf[n++] = b;
        more = b != '\n';
    }
    if (n) {
        bridge_host_rx(buf, n);
        return true;
    }
    if (host_rx_lost && host_rx_head == host_rx_lost_at) {
        irqs_off();
        host_rx_lost = false;
        irqs_on();
        bridge_host_overrun();
        return true;
    }
    return false;
}

bool hal_loop_poll(void)
{
    bool did = false;
    while (tx_free() >= TX_RESERVE) {
        if (ev_head != ev_tail) {
            struct ev e = evq[ev_head % EVQ];
            ev_head = ev_head + 1;
            dispatch(e);
        } else if (ev_lost) {
            irqs_off();
            uint32_t lost = ev_lost;
            ev_lost = 0;
            irqs_on();
            for (int s = 0; s < BRIDGE_SLOTS; s++)
                if (lost & (1u << s)) bridge_events_lost(s);
        } else if (!feed_line()) {
            break;
        }
        did = true;
    }
    return did;
}

bool hal_loop_idle(void)
{
    if (tx_free() < TX_RESERVE) return true; /* the transmit interrupt wakes us */
    return ev_head == ev_tail && !ev_lost && host_rx_head == host_rx_tail && !host_rx_lost;
}
