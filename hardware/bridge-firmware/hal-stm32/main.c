/* Bridge firmware for the STM32F407: the portable core driven by this HAL's event queue. */
#include "../core/bridge.h"
#include "hal_stm32.h"
#include "stm32f407.h"

int main(void)
{
    bridge_init(hal_stm32_init());
    for (;;) {
        hal_stm32_poll();
        /* Sleep until the next interrupt; with PRIMASK set, a pending one still wakes WFI. */
        irqs_off();
        if (hal_stm32_idle()) wait_for_interrupt();
        irqs_on();
    }
}
