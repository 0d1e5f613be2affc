/*
 * One card slot: its protocol state (PROTOCOL.md §6 slot states) and the ISO 7816-3 engine
 * that runs one request at a time on it, driven by HAL events. Internal to the core.
 */
#ifndef BRIDGE_SLOT_H
#define BRIDGE_SLOT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

enum slot_state { ST_EMPTY, ST_OFF, ST_ON, ST_READY, ST_FAULT };

enum verb { VERB_INFO, VERB_STATUS, VERB_POWER, VERB_CLOCK, VERB_RESET, VERB_PPS, VERB_TPDU, VERB_APDU, VERB_APDUS };

/* Wire error codes, in the priority order of PROTOCOL.md §6. */
enum wire_err {
    E_LINE, E_CRC, E_SYNTAX, E_VERB, E_SLOT, E_ARG, E_BUSY, E_FAULT, E_NOCARD, E_STATE, E_UNSUPPORTED, E_MUTE, E_TIMEOUT, E_PROTO, E_OVERRUN
};

const char *wire_err_name(enum wire_err e);

/* A decoded slot request (shape already checked). */
struct request {
    uint16_t id;
    uint8_t verb;
    char cls;       /* POWER: 'A' 'B' 'C', 0 = OFF */
    bool warm;      /* RESET */
    uint32_t hz;    /* CLOCK */
    uint16_t len;   /* PPS, TPDU, APDU bytes in data */
    uint8_t data[APDU_MAX];
    /* APDUS: n_apdus APDUs back to back in batch, apdu_len[i] bytes each */
    uint8_t n_apdus;
    uint16_t apdu_len[BATCH_MAX];
    uint8_t batch[BATCH_MAX * APDU_MAX];
};

/* Engine phases: what the slot is waiting for. */
/* APDU verb: which TPDU of the command is running. */
enum apdu_step { APDU_CMD, APDU_CMD_AGAIN, APDU_GR, APDU_GR_AGAIN };

enum phase {
    PH_IDLE,
    PH_OFF_TIME,     /* POWER: VCC was on less than VCC_OFF_MIN_US ago, waiting before switching on */
    PH_SETTLE,       /* POWER: supply settling */
    PH_DISCHARGE,    /* RESET COLD from READY: VCC off, waiting before it comes back */
    PH_RESET_SETTLE, /* ... VCC on again, settling */
    PH_RST_LOW,      /* CLK running, RST low for 400 clocks */
    PH_ATR,          /* RST high, reading the ATR */
    PH_PPS_TX,
    PH_PPS_RX,
    PH_T0_HDR,       /* sending CLA INS P1 P2 P3 */
    PH_T0_PROC,      /* waiting for a procedure byte */
    PH_T0_DATA_TX,   /* sending command data after INS / ~INS */
    PH_T0_DATA_RX,   /* receiving response data after INS / ~INS */
    PH_T0_SW2
};

struct slot {
    uint8_t index;
    uint8_t state;          /* enum slot_state */
    bool present;
    char vcc;               /* class on, 0 = off */
    char cls;               /* class to restore after a cold reset's power cycle */
    uint32_t clock_hz;
    uint8_t ta1;            /* Fi/Di in force */
    uint8_t guard_n;
    uint8_t wi;
    bool pps_allowed;
    bool inverse;
    uint16_t last_id;

    /* the request in progress */
    bool busy;
    uint16_t id;
    uint8_t verb;

    /* engine */
    uint8_t phase;          /* enum phase */
    bool timer_on;
    uint8_t timer_kind;     /* enum hal_wait of the armed timer */
    uint32_t deadline;
    bool vcc_was_on;        /* t_vcc_off is valid */
    uint32_t t_vcc_off;     /* when VCC last went off */
    uint32_t t_op;          /* start of the TPDU / APDU request (total time cap) */
    uint32_t t_tx;          /* leading edge of the character being sent (repetition gap) */
    bool turn_wait;         /* the timer is the turnaround delay before tx_now() */
    bool mark_start;        /* the next character sent starts the measured operation */
    uint32_t t_start;
    bool rx_seen;
    uint32_t t_last_rx;
    uint32_t turn_us;       /* turnaround after that character, in its own etu */
    uint8_t rx_errors;      /* parity errors in a row on the character being received */
    uint8_t tx_tries;       /* NACKs on the character being sent */
    const uint8_t *tx_src;
    uint16_t tx_n, tx_i;    /* tx_n = 0: not transmitting */

    uint8_t hdr[5];
    bool data_out;          /* T=0: the command carries data to the card */
    uint16_t n_cmd, n_sent; /* command data length / sent so far */
    uint16_t ne;            /* response data expected (case 2: P3, 0 = 256) */
    uint16_t n_in;          /* bytes received into buf (ATR, PPS answer, response data) */
    uint16_t want;          /* bytes left in the current INS / ~INS transfer */
    uint8_t sw[2];
    uint8_t pps_req[PPS_MAX];
    uint8_t n_pps;
    uint8_t buf[TPDU_MAX];

    /* APDU verb: the TPDUs run so far; response data accumulates in buf */
    uint8_t apdu_cla;       /* CLA of the command: GET RESPONSE goes on its logical channel */
    bool apdu_case2;        /* 6Cxx to the command means: repeat it with P3 = xx */
    uint8_t apdu_step;      /* enum apdu_step */
    uint8_t apdu_grs;       /* GET RESPONSEs sent */
    uint16_t apdu_base;     /* response bytes before the current GET RESPONSE */
    uint32_t apdu_us;       /* card-contact time of the TPDUs done */

    /* APDUS verb: the request's APDUs, which one runs, where it starts in batch */
    uint8_t batch_n, batch_i;
    uint16_t batch_off;
    uint16_t batch_len[BATCH_MAX];
    uint8_t batch[BATCH_MAX * APDU_MAX];
};

void engine_init(struct slot *s, uint8_t index, bool present, uint32_t clock_hz);
/* Runs a slot verb (POWER, CLOCK, RESET, PPS, TPDU, APDU, APDUS); the slot was idle. Answers when done. */
void engine_start(struct slot *s, const struct request *r);
void engine_rx(struct slot *s, uint8_t raw, bool parity_ok);
void engine_tx_done(struct slot *s, bool nacked);
void engine_timer(struct slot *s);
void engine_card_detect(struct slot *s, bool present);
/* Supply fault on this slot (the event line is already out): off, FAULT, request ends. */
void engine_fault(struct slot *s);
/* Events of this slot were lost in the HAL: the request in flight ends with OVERRUN. */
void engine_events_lost(struct slot *s);
/* POWER OFF on a busy slot: the request in flight ends (ERR STATE), the slot is deactivated. */
void engine_abort(struct slot *s);

#endif
