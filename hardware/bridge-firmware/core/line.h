/*
 * Line layer of the bridge protocol (hardware/PROTOCOL.md §1-2): CRC-16/CCITT-FALSE, the
 * fixed-size input line buffer, and a builder for outgoing lines that appends " *CRC\n" and
 * hands each complete line to the HAL in one piece (lines never interleave).
 */
#ifndef BRIDGE_LINE_H
#define BRIDGE_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

uint16_t crc16_ccitt_false(const uint8_t *data, size_t n);

/* ---- input ---- */

struct line_in {
    char buf[LINE_IN_MAX];
    size_t len;
    bool overflow;
    bool overrun;   /* bytes of this line were lost before it reached us (HAL buffer full) */
};

/*
 * Feeds received bytes; calls on_line(line, len) for each complete line (without LF, one CR
 * stripped, empty lines skipped) and on_drop(overrun) for each line dropped: longer than the
 * limit (false), or with bytes lost before it got here (true, see line_overrun()).
 */
void line_feed(struct line_in *in, const uint8_t *data, size_t n, void (*on_line)(char *line, size_t len), void (*on_drop)(bool overrun));
/* Bytes were lost at this point of the stream: the current line is dropped up to its LF. */
void line_overrun(struct line_in *in);

/* ---- output ---- */

/** Starts a line: "<ID> <S>" (id 0 prints "0"; slot < 0 prints "-"), or "! <S>" when event. */
void out_begin(uint16_t id, int slot, bool event);
/** " word" */
void out_word(const char *w);
/** " " + upper-case hex of the bytes (no space when n = 0 is never used: byte strings are never empty). */
void out_hex(const uint8_t *b, size_t n);
/** Appends hex without a leading space (to continue a hex token). */
void out_hex_more(const uint8_t *b, size_t n);
/** " <decimal>" */
void out_dec(uint32_t v);
/** " KEY=<decimal>" and friends; key includes the '=' */
void out_kv_dec(const char *key, uint32_t v);
void out_kv_str(const char *key, const char *v);
void out_kv_hex(const char *key, const uint8_t *b, size_t n);
/** " <hex id>" without leading zeros, upper case */
void out_id(uint16_t id);
/** Seals the line with " *CRC\n" and writes it. */
void out_end(void);

/* ---- token helpers ---- */

int hex_val(char c);
/** Parses 1..max hex digits; false when empty, too long or not hex. */
bool parse_hex_u16(const char *s, size_t n, size_t max_digits, uint16_t *out);
/** Contiguous hex byte string, at least one byte, at most cap bytes; false otherwise. */
bool parse_hex_bytes(const char *s, size_t n, uint8_t *out, size_t cap, size_t *out_len);
/** 1..10 decimal digits, value <= 2^32-1. */
bool parse_dec_u32(const char *s, size_t n, uint32_t *out);
bool tok_eq(const char *s, size_t n, const char *lit);

#endif
