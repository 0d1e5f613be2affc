/* Compile-time limits and ISO 7816-3 constants of the bridge core (hardware/PROTOCOL.md). */
#ifndef BRIDGE_CONFIG_H
#define BRIDGE_CONFIG_H

#define BRIDGE_PROTO 1
/* Slots the build reserves RAM for: the board's slot count (the host builds take 16). */
#ifndef BRIDGE_SLOTS
#define BRIDGE_SLOTS 16
#endif
#if BRIDGE_SLOTS < 1 || BRIDGE_SLOTS > 16
#error "BRIDGE_SLOTS must be 1..16"
#endif
/* Longest line the bridge sends, including the LF (PROTOCOL.md §2). */
#define LINE_MAX 600
/* APDUS verb (PROTOCOL.md §4a): most APDUs per request (INFO BATCH=) ... */
#define BATCH_MAX 8
/* ... and the longest request line, LF included (INFO LINE=): 8 full STORE DATA blocks take 4187 bytes. */
#define LINE_IN_MAX 4200
/* T=0 TPDU: 5-byte header + 255 data bytes; the answer: 256 data bytes (+ SW1 SW2 kept apart). */
#define TPDU_MAX 260
/* Short command APDU (APDU verb): header, Lc, 255 data bytes, Le. */
#define APDU_MAX 261
/* The APDU verb stops following 61xx before its response data would pass this many bytes ... */
#define APDU_DATA_MAX 256
/* ... or after this many GET RESPONSE commands (repeats after 6Cxx not counted). */
#define APDU_MAX_GET_RESPONSES 4
#define ATR_MAX 33
#define PPS_MAX 6
/* A character is repeated at most this many times after a parity error (EMV), either way. */
#define CHAR_REPEATS 3

#define TA1_DEFAULT 0x11
#define WI_DEFAULT 10
#define FD 372
#define DD 1
/* RST held low this many clocks at a reset; the ATR must start within ATR_START_CLOCKS after. */
#define RST_LOW_CLOCKS 400
#define ATR_START_CLOCKS 40000
/* Initial waiting time: between ATR characters, and for the PPS answer. */
#define INITIAL_WAIT_ETU 9600
/*
 * A received character is reported about 11 etu after its leading edge; ISO wants 16 etu
 * between leading edges when the direction changes, so wait this long before answering.
 */
#define TURNAROUND_WAIT_ETU 6
/* Waits for the card are measured from events near a character's end: add this slack. */
#define WAIT_SLACK_ETU 12
/*
 * ISO 7816-3 §7.3: a character the card NACKed is repeated no earlier than 2 etu after the
 * error signal is detected (at 11 etu): its leading edge at least 13 etu after the NACKed one's.
 */
#define REPEAT_GAP_ETU 13
/* ISO 7816-3 §6.4: VCC stays off at least this long before it comes back (POWER, cold reset). */
#define VCC_OFF_MIN_US 10000u
/* A TPDU or APDU that has not ended after this long is ended with TIMEOUT (INFO CAP=, in ms). */
#define OP_CAP_MS_DEFAULT 30000u

#endif
