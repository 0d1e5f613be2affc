#include "debounce.h"

bool debounce_step(struct debounce *d, bool level, uint8_t need)
{
    if (level == d->state) {
        d->count = 0;
        return false;
    }
    if (++d->count < need) return false;
    d->state = level;
    d->count = 0;
    return true;
}
