/* Bridge firmware main loop for the STM32 boards: the portable core driven by the HAL's event queue. */
#include "../core/bridge.h"
#include "hal_loop.h"
#include "stm32f407.h"

int main(void)
{
    bridge_init(board_init());
    for (;;) {
        board_service();
        hal_loop_poll();
        /* Sleep until the next interrupt; with PRIMASK set, a pending one still wakes WFI. */
        irqs_off();
        if (hal_loop_idle()) wait_for_interrupt();
        irqs_on();
    }
}
