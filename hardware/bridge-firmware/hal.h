/*
 * The thin hardware abstraction under the bridge core (hardware/README.md, "Firmware layout").
 *
 * The core (core/) is portable C11 without dynamic allocation; everything that touches a pin,
 * a timer or a UART goes through the functions below. Two rules keep the core simple:
 *
 * - The HAL never calls back into the core from inside a hal_* call. Events (a received
 *   character, a finished transmission, a timer expiry, card detect, faults, host bytes) are
 *   queued by the HAL (from interrupts on an MCU) and handed to the bridge_* entry points of
 *   core/bridge.h from the main loop, one at a time.
 * - The I/O line is moved as raw characters exactly as the direct-convention UART sees them
 *   (8 data bits plus the parity check result). The core does the inverse-convention byte
 *   conversion itself; for inverse convention it asks for odd parity (the inverted parity bit
 *   of an inverse-convention character checks as odd in direct reading).
 */
#ifndef BRIDGE_HAL_H
#define BRIDGE_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** What the bridge hardware can do; answered in INFO and used to check CLOCK/POWER/PPS. */
struct hal_caps {
    uint8_t slots;          /* 1..16 */
    uint32_t fmin_hz;       /* CLOCK range */
    uint32_t fmax_hz;
    uint32_t fdef_hz;       /* clock of a slot after power-up */
    const char *classes;    /* supply classes, e.g. "ABC" */
    const uint8_t *ta1;     /* TA1-style Fi/Di bytes the card UART runs at every clock in range */
    uint8_t n_ta1;
    const char *firmware;   /* FW= in INFO: printable, no space, no '*' */
    uint32_t vcc_settle_us;    /* after switching VCC on, before the supply is usable */
    uint32_t vcc_discharge_us; /* after VCC off, before it may come back (at least VCC_OFF_MIN_US) */
    uint32_t op_cap_ms;        /* total time cap of one TPDU or APDU (INFO CAP=); 0 = OP_CAP_MS_DEFAULT */
};

/** Card UART parameters: etu = (fi / di) card clock cycles. */
struct hal_uart_cfg {
    uint16_t fi;
    uint8_t di;
    uint8_t guard_n;    /* extra guard time N: characters to the card start 12 + N etu apart */
    bool odd_parity;    /* inverse convention */
    bool nack;          /* signal parity errors of received characters (off while reading TS) */
};

/** Timer purpose: a delay the bridge itself needs, or a wait for the card to say something. */
enum hal_wait { HAL_WAIT_DELAY, HAL_WAIT_CARD };

/** I/O contact state: driven low (deactivated) or released to reception mode (pulled high). */
enum hal_io { HAL_IO_LOW, HAL_IO_RX };

const struct hal_caps *hal_caps(void);

/* ---- host link ---- */

/** Queues one complete line (with its LF) for the host; must not drop or interleave it. */
void hal_host_write(const char *data, size_t n);

/* ---- card contacts ---- */

/** VCC on at class 'A' (5 V), 'B' (3 V), 'C' (1.8 V), or 0 = off. */
void hal_card_vcc(uint8_t slot, char cls);
/** Sets the slot's card clock (not started); returns the frequency actually generated. */
uint32_t hal_card_clock_set(uint8_t slot, uint32_t hz);
/** Starts (true) or stops the clock, stopping at low level. */
void hal_card_clock_run(uint8_t slot, bool run);
void hal_card_rst(uint8_t slot, bool high);
void hal_card_io(uint8_t slot, enum hal_io mode);
void hal_card_uart(uint8_t slot, const struct hal_uart_cfg *cfg);
/**
 * Sends one raw character (start bit on the next etu boundary, then guard time); completion
 * is reported with bridge_card_tx_done(slot, nacked), nacked = the card signalled a parity
 * error. The HAL never repeats a character on its own: the core decides.
 */
void hal_card_tx(uint8_t slot, uint8_t raw);

/* ---- time ---- */

/** One-shot timer per slot (a new start replaces the old one); expiry: bridge_timer(slot). */
void hal_timer_start(uint8_t slot, uint32_t us, enum hal_wait kind);
void hal_timer_stop(uint8_t slot);
/** Free-running microsecond counter (wraps at 2^32); never runs backwards (spans are unsigned differences). */
uint32_t hal_micros(void);

#endif
