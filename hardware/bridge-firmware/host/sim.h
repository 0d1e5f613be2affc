/*
 * Virtual-time HAL for the core's unit tests: a discrete-event simulation of the card
 * contacts with a small T=0 card model per slot, character by character at the etu both sides
 * have configured. Checks the physics on the way (turnaround, guard time, both sides at the
 * same etu, no collisions) and records violations and a contact trace for the tests.
 */
#ifndef BRIDGE_SIM_H
#define BRIDGE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../hal.h"

/* PPS_BIT8: PPS0 b8 (reserved) set; PPS_EXTRA_PPS2: a PPS2 the request did not have. */
enum pps_mode { PPS_ACCEPT, PPS_DECLINE, PPS_MUTE, PPS_BAD_PCK, PPS_OTHER_PPS1, PPS_TRUNCATED, PPS_BIT8, PPS_EXTRA_PPS2 };

/* How the card asks for data: INS once, INS xor FF for every byte, or two single bytes then INS. */
enum proc_style { PROC_INS, PROC_XINS, PROC_MIXED };

/*
 * The test card answers like src/sim/card/echo-card.ts:
 *   80 EE 00 00 Lc data   echo (case 4): 61 Lc, data kept for GET RESPONSE
 *   xx C0 00 00 Le        GET RESPONSE (6C xx on a wrong Le)
 *   80 CA 00 00 Le        GET DATA (case 2): 00 01 02 ... (getdata_len bytes), 6C xx on a wrong Le
 *   80 E2 P1 P2 Lc data   STORE (case 3): 9000
 *   80 DE 00 00 00        goes mute until powered off
 * anything else: 6D00 (6E00 for a CLA other than 00/80) right after the header.
 */
struct card_cfg {
    uint8_t atr[33];            /* logical bytes; TS 3F = inverse convention */
    uint8_t atr_len;
    uint32_t atr_delay_clocks;  /* RST high to the TS leading edge */
    bool mute_atr;
    enum pps_mode pps;
    enum proc_style proc;
    uint8_t nulls;              /* NULL bytes before each procedure byte / SW1 */
    uint32_t null_gap_etu;      /* extra silence before each NULL and before the byte after them */
    uint32_t work_etu;          /* card processing before its first answer byte to a header */
    uint16_t getdata_len;
    /* Fault injection, counted per exchange (from TS for the ATR, from CLA for a command). */
    int corrupt_atr_at;         /* the card sends the k-th ATR character with bad parity ... */
    int corrupt_tx_at;          /* ... or the k-th character after a command header (-1: never) ... */
    uint8_t corrupt_times;      /* ... this many times in a row */
    int nack_rx_at;             /* the card NACKs the reader's k-th character ... */
    uint8_t nack_rx_times;      /* ... this many times */
    uint8_t bad_proc;           /* non-zero: sent instead of the first procedure byte */
    bool ins_after_data;        /* after all data moved, INS once more instead of SW1 */
    bool mute_after_header;
    bool endless_nulls;         /* answers every header with NULL bytes (null_gap_etu apart), forever */
};

/* Defaults: the echo test card, ATR 3B 14 96 "ECHO", accepts PPS, INS procedure bytes. */
void card_cfg_default(struct card_cfg *c);
/* Sets the ATR from hex. */
void card_cfg_atr(struct card_cfg *c, const char *hex);

struct sim_card_stats {
    uint32_t stored;            /* bytes accepted by STORE */
    uint32_t violations;
    char violation[160];        /* the first one */
    uint32_t chars_to_card, chars_from_card, nacks_by_card, nacks_by_reader;
    uint32_t cold, warm, power_offs;
    uint8_t ta1;                /* Fi/Di the card runs now */
    uint32_t min_reader_gap_etu100; /* smallest spacing of consecutive reader characters, etu x 100 */
    uint32_t min_repeat_gap_etu100; /* smallest spacing of a NACKed reader character and its repetition */
};

struct trace_ev {
    uint64_t t;                 /* ns */
    char what;                  /* V vcc, K clock run, R rst, I io, T tx char, X rx char */
    uint32_t v;
};

void sim_boot(uint8_t slots, const struct card_cfg *const *cards);
/* Supply classes the simulated hardware has (INFO CLASSES); "ABC" after each boot. */
void sim_set_classes(const char *classes);
/* Total time cap of a TPDU/APDU the HAL reports (INFO CAP=, ms); 0 = the core's default. */
void sim_set_op_cap_ms(uint32_t ms);
/*
 * HAL faults the core must survive: slot timers firing up to `us` before their deadline (a
 * HAL rounding short waits; never before the next microsecond), and the n-th next event of a
 * slot (character received or sent, timer) dropped by a full event queue, which the HAL then
 * reports with bridge_events_lost().
 */
void sim_timer_early_us(uint32_t us);
void sim_lose_event(uint8_t slot, uint32_t n);
void sim_insert(uint8_t slot, const struct card_cfg *c);
void sim_remove(uint8_t slot);
void sim_fault(int slot, const char *code);

uint64_t sim_now(void);
/* Processes the next event; false when nothing is scheduled. */
bool sim_step(void);
void sim_run_for(uint64_t ns);

void sim_send(const char *bytes, size_t n);
/* Sends "<body> *CRC\n". */
void sim_request(const char *body);
/* Runs until a response to `id` (as written in the request) arrives; its body, or NULL. */
const char *sim_wait_reply(const char *id);
/* sim_request + sim_wait_reply for the request's own id. */
const char *sim_call(const char *body);
size_t sim_line_count(void);
/* Every line the bridge sent, body only (" *CRC" checked and removed). */
const char *sim_line(size_t i);
/* Lines that failed the CRC or had no LF: must stay 0. */
uint32_t sim_bad_lines(void);

const struct sim_card_stats *sim_stats(uint8_t slot);
size_t sim_trace(uint8_t slot, const struct trace_ev **out);
void sim_trace_clear(uint8_t slot);
const struct hal_uart_cfg *sim_uart(uint8_t slot);

#endif
