/*
 * Entry points of the bridge core: the HAL's main loop calls these, one event at a time
 * (never from inside a hal_* call, never from an interrupt). See hal.h for the other half.
 */
#ifndef BRIDGE_H
#define BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Power-up: every slot off, no request, lastId 0; bit i of present_mask = card in slot i. */
void bridge_init(uint32_t present_mask);
/** Bytes from the host link. */
void bridge_host_rx(const uint8_t *data, size_t n);
/** A character from the card: raw (direct reading) value, and whether its parity checked. */
void bridge_card_rx(uint8_t slot, uint8_t raw, bool parity_ok);
/** The character from hal_card_tx() is out; nacked = the card signalled a parity error. */
void bridge_card_tx_done(uint8_t slot, bool nacked);
void bridge_timer(uint8_t slot);
/** Debounced card-detect change. */
void bridge_card_detect(uint8_t slot, bool present);
/** Supply fault on a slot, or bridge-wide (slot < 0): code is 1-12 upper-case letters. */
void bridge_fault(int slot, const char *code);
/**
 * The HAL's event queue was full and events of this slot were dropped (slot < 0: of unknown
 * slots): the request in flight there ends with ERR OVERRUN (deactivated) instead of hanging.
 */
void bridge_events_lost(int slot);
/**
 * Host bytes were dropped here (the HAL's receive buffer was full): the line they belonged to
 * is discarded up to its LF and answered `0 - ERR OVERRUN` (PROTOCOL.md §2).
 */
void bridge_host_overrun(void);

#endif
