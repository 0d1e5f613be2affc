/*
 * bridge-host: the bridge core as a host program, in real time. The line protocol runs on
 * stdin/stdout (a test harness puts a pty in front); the card contacts of every slot are a
 * text channel on another descriptor (default 3) that a card-line process drives, one message
 * per line:
 *
 *   bridge -> cards   V <s> <A|B|C|0>      VCC on at a class / off
 *                     K <s> <hz>           clock running at hz, 0 = stopped
 *                     R <s> <0|1>          RST level
 *                     I <s> <0|1>          I/O driven low (0) / released for reception (1)
 *                     U <s> <fi> <di> <n> <E|O>   card UART: Fi, Di, extra guard time, parity
 *                     T <s> <hh> <p>       a character to the card: raw byte (direct reading), parity bit
 *   cards -> bridge   X <s> <hh> <p>       a character from the card
 *                     D <s> <0|1>          card detect
 *                     F <s|-> <CODE>       supply fault on a slot / bridge-wide
 *                     O -                  test hook: the host bytes of the next line after its
 *                                          first are lost as in a full receive buffer (answered
 *                                          "o -" on this channel once armed)
 *
 * The channel has no character timing and never signals parity errors (the unit tests on the
 * simulated line cover both); a character is "sent" when written. Its latency is that of a
 * pipe into another process, far above ISO character times, so waits for the card are
 * stretched to at least --min-card-wait-ms. End of stdin = power loss: the program exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/bridge.h"
#include "../hal.h"

#define NSLOTS 16

static const uint8_t TA1S[] = {0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x18, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97};
static struct hal_caps caps = {1, 1000000, 20000000, 4000000, "ABC", TA1S, sizeof TA1S, "host-0.2.0", 0, 0, 0};
static bool drop_next_line, dropping;

static int card_fd = 3;
static uint64_t min_card_wait_us = 500000;
static struct hal_uart_cfg uart[NSLOTS];
static uint32_t clock_hz[NSLOTS];
static bool clock_on[NSLOTS];
static bool timer_on[NSLOTS];
static uint64_t timer_at[NSLOTS];
/* Characters whose transmission completed, waiting for bridge_card_tx_done (FIFO). */
static uint8_t done_q[4096];
static size_t done_head, done_tail;
static char out_buf[65536];
static size_t out_len;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t t_boot;

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            exit(0); /* the other side is gone */
        }
        p += w;
        n -= (size_t)w;
    }
}

static void flush_cards(void)
{
    write_all(card_fd, out_buf, out_len);
    out_len = 0;
}

static void card_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void card_msg(const char *fmt, ...)
{
    if (out_len > sizeof out_buf - 128) flush_cards();
    va_list ap;
    va_start(ap, fmt);
    out_len += (size_t)vsnprintf(out_buf + out_len, sizeof out_buf - out_len, fmt, ap);
    va_end(ap);
}

/* ---- HAL ---- */

const struct hal_caps *hal_caps(void) { return &caps; }

uint32_t hal_micros(void) { return (uint32_t)(now_us() - t_boot); }

void hal_host_write(const char *data, size_t n) { write_all(1, data, n); }

void hal_card_vcc(uint8_t slot, char cls) { card_msg("V %u %c\n", slot, cls ? cls : '0'); }

uint32_t hal_card_clock_set(uint8_t slot, uint32_t hz)
{
    clock_hz[slot] = hz;
    if (clock_on[slot]) card_msg("K %u %u\n", slot, hz);
    return hz;
}

void hal_card_clock_run(uint8_t slot, bool run)
{
    clock_on[slot] = run;
    card_msg("K %u %u\n", slot, run ? clock_hz[slot] : 0u);
}

void hal_card_rst(uint8_t slot, bool high) { card_msg("R %u %d\n", slot, high ? 1 : 0); }

void hal_card_io(uint8_t slot, enum hal_io mode) { card_msg("I %u %d\n", slot, mode == HAL_IO_RX ? 1 : 0); }

void hal_card_uart(uint8_t slot, const struct hal_uart_cfg *cfg)
{
    uart[slot] = *cfg;
    card_msg("U %u %u %u %u %c\n", slot, cfg->fi, cfg->di, cfg->guard_n, cfg->odd_parity ? 'O' : 'E');
}

static unsigned parity_of(uint8_t b)
{
    unsigned n = 0;
    for (; b; b &= (uint8_t)(b - 1)) n++;
    return n & 1u;
}

void hal_card_tx(uint8_t slot, uint8_t raw)
{
    unsigned p = parity_of(raw) ^ (uart[slot].odd_parity ? 1u : 0u);
    card_msg("T %u %02X %u\n", slot, raw, p);
    done_q[done_tail++ % sizeof done_q] = slot;
}

void hal_timer_start(uint8_t slot, uint32_t us, enum hal_wait kind)
{
    uint64_t wait = us;
    if (kind == HAL_WAIT_CARD && wait < min_card_wait_us) wait = min_card_wait_us;
    timer_on[slot] = true;
    timer_at[slot] = now_us() + wait;
}

void hal_timer_stop(uint8_t slot) { timer_on[slot] = false; }

/* ---- card channel input ---- */

static void card_line(char *l)
{
    char *save = NULL;
    char *kind = strtok_r(l, " ", &save);
    char *a = strtok_r(NULL, " ", &save);
    char *b = strtok_r(NULL, " ", &save);
    char *c = strtok_r(NULL, " ", &save);
    if (!kind || !a) return;
    int slot = a[0] == '-' ? -1 : atoi(a);
    if (slot >= caps.slots) return;
    switch (kind[0]) {
    case 'X':
        if (slot < 0 || !b || !c) return;
        {
            uint8_t raw = (uint8_t)strtoul(b, NULL, 16);
            unsigned p = (unsigned)atoi(c) & 1u;
            bool ok = ((parity_of(raw) + p) & 1u) == (uart[slot].odd_parity ? 1u : 0u);
            bridge_card_rx((uint8_t)slot, raw, ok);
        }
        break;
    case 'D':
        if (slot >= 0 && b) bridge_card_detect((uint8_t)slot, b[0] == '1');
        break;
    case 'O':
        drop_next_line = true;
        card_msg("o -\n");
        break;
    case 'F':
        if (!b || strlen(b) < 1 || strlen(b) > 12 || strspn(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(b)) return;
        bridge_fault(slot, b);
        break;
    default:
        break;
    }
}

static char card_in[65536];
static size_t card_in_len;

static void read_cards(void)
{
    ssize_t n = read(card_fd, card_in + card_in_len, sizeof card_in - 1 - card_in_len);
    if (n == 0) exit(0);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) return;
        exit(0);
    }
    card_in_len += (size_t)n;
    size_t start = 0;
    for (size_t i = 0; i < card_in_len; i++) {
        if (card_in[i] != '\n') continue;
        card_in[i] = 0;
        card_line(card_in + start);
        start = i + 1;
    }
    memmove(card_in, card_in + start, card_in_len - start);
    card_in_len -= start;
    if (card_in_len == sizeof card_in - 1) card_in_len = 0; /* a line that long is garbage */
}

/* ---- main loop ---- */

/* Host bytes to the core, dropping a line's tail when the test hook asked for it. */
static void host_bytes(const uint8_t *b, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (dropping) {
            while (i < n && b[i] != '\n') i++;
            if (i == n) return;
            dropping = false;
            bridge_host_rx(b + i, 1);
            i++;
            continue;
        }
        if (drop_next_line && b[i] != '\n') {
            drop_next_line = false;
            bridge_host_rx(b + i, 1);
            bridge_host_overrun();
            dropping = true;
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && !(drop_next_line && b[j] != '\n' && (j == i || b[j - 1] == '\n'))) j++;
        bridge_host_rx(b + i, j - i);
        i = j;
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: bridge-host [--slots N] [--present HEXMASK] [--card-fd FD] [--min-card-wait-ms MS] [--fdef HZ] [--op-cap-ms MS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    uint32_t present = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        if (!strcmp(argv[i], "--slots")) caps.slots = (uint8_t)atoi(v);
        else if (!strcmp(argv[i], "--present")) present = (uint32_t)strtoul(v, NULL, 16);
        else if (!strcmp(argv[i], "--card-fd")) card_fd = atoi(v);
        else if (!strcmp(argv[i], "--min-card-wait-ms")) min_card_wait_us = (uint64_t)strtoull(v, NULL, 10) * 1000u;
        else if (!strcmp(argv[i], "--fdef")) caps.fdef_hz = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(argv[i], "--op-cap-ms")) caps.op_cap_ms = (uint32_t)strtoul(v, NULL, 10);
        else usage();
        i++;
    }
    if (caps.slots < 1 || caps.slots > NSLOTS) usage();
    signal(SIGPIPE, SIG_IGN);
    t_boot = now_us();
    bridge_init(present);
    for (;;) {
        /* Completed characters and expired timers first: they may start more of both. */
        bool again = true;
        while (again) {
            again = false;
            while (done_head != done_tail) {
                uint8_t s = done_q[done_head++ % sizeof done_q];
                bridge_card_tx_done(s, false);
                again = true;
            }
            uint64_t now = now_us();
            for (uint8_t s = 0; s < caps.slots; s++) {
                if (timer_on[s] && timer_at[s] <= now) {
                    timer_on[s] = false;
                    bridge_timer(s);
                    again = true;
                }
            }
        }
        flush_cards();
        int64_t wait_us = -1;
        uint64_t now = now_us();
        for (uint8_t s = 0; s < caps.slots; s++) {
            if (!timer_on[s]) continue;
            int64_t d = timer_at[s] > now ? (int64_t)(timer_at[s] - now) : 0;
            if (wait_us < 0 || d < wait_us) wait_us = d;
        }
        struct pollfd fds[2] = {{0, POLLIN, 0}, {card_fd, POLLIN, 0}};
        struct timespec ts = {wait_us / 1000000, (wait_us % 1000000) * 1000};
        int r = ppoll(fds, 2, wait_us < 0 ? NULL : &ts, NULL);
        if (r < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            uint8_t buf[4096];
            ssize_t n = read(0, buf, sizeof buf);
            if (n == 0) return 0; /* power loss */
            if (n > 0) host_bytes(buf, (size_t)n);
            else if (errno != EINTR && errno != EAGAIN) return 0;
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) read_cards();
    }
}
