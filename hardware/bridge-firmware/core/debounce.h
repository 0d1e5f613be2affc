/*
 * Debouncing and deglitching of a sampled digital input (card detect, a load switch's FAULT):
 * the input changes state only after reading the new level `need` samples in a row, so a
 * bouncing switch or a load switch flagging its inrush current limit for a moment is ignored.
 */
#ifndef BRIDGE_DEBOUNCE_H
#define BRIDGE_DEBOUNCE_H

#include <stdbool.h>
#include <stdint.h>

struct debounce {
    bool state;
    uint8_t count;
};

/** One sample; true when the debounced state changed (to d->state). */
bool debounce_step(struct debounce *d, bool level, uint8_t need);

#endif
