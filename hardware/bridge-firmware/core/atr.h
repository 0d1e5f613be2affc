/*
 * ISO/IEC 7816-3 facts shared by the slot engine: Fi/Di tables, the ATR structure (the bridge
 * reads the ATR's own T0/TDi/K to know where it ends) and the PPS rules. Pure functions, no
 * state; mirrors src/core/bridge-protocol/iso7816.ts.
 */
#ifndef BRIDGE_ATR_H
#define BRIDGE_ATR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool ta1_valid(uint8_t ta1);
/* Fi and Di of a TA1-style byte (0 for reserved values). */
uint16_t ta1_fi(uint8_t ta1);
uint8_t ta1_di(uint8_t ta1);

/** Total ATR length implied by the first n bytes, or -1 while more bytes are needed to know. */
int atr_length(const uint8_t *b, size_t n);

struct atr_info {
    uint8_t ta1;        /* TA1, or 0x11 when absent */
    uint8_t guard_n;    /* TC1 (FF and absent = 0) */
    uint8_t wi;         /* TC2 when TD1 says T=0, else 10 */
    bool specific;      /* TA2 present with b5 = 0: TA1 applies at once, no PPS */
    uint8_t specific_t; /* TA2's protocol nibble: the only protocol a card in specific mode runs */
};

enum atr_error { ATR_OK = 0, ATR_BAD_TS, ATR_TRUNCATED, ATR_TOO_LONG, ATR_BAD_TCK, ATR_BAD_TA1 };

/** Parses a complete ATR (logical byte values, TS = 3B or 3F). */
enum atr_error atr_parse(const uint8_t *b, size_t n, struct atr_info *out);

/** Length of a PPS request or answer given its PPS0 (PPSS, PPS0, PPS1..3 as flagged, PCK). */
size_t pps_length(uint8_t pps0);

enum pps_check { PPS_CHECK_OK = 0, PPS_CHECK_ARG, PPS_CHECK_UNSUPPORTED };

/** Checks a PPS request before it goes to the card: shape (ARG), then what this bridge runs. */
enum pps_check pps_check_request(const uint8_t *req, size_t n, const uint8_t *ta1_list, uint8_t n_ta1);

/**
 * Judges the card's answer (ISO 7816-3 §9.3): true with *ta1 = the Fi/Di byte in force from
 * now on (the echoed PPS1, or 0x11 when the answer has no PPS1); false = protocol error.
 */
bool pps_outcome(const uint8_t *req, size_t n_req, const uint8_t *ans, size_t n_ans, uint8_t *ta1);

#endif
