/*
 * Virtual-time HAL + card model for the unit tests (see sim.h). Time is simulated in ns; every
 * character takes its etu on the line, both sides check what the other one does.
 */
#include "sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/bridge.h"
#include "../core/line.h"

#define NSLOTS 16
#define MAX_EV 4096
#define MAX_LINES 65536
#define MAX_TRACE 8192
#define BASE_HZ 20000000u /* the card clock is BASE_HZ / n, as on the STM32 HAL */

/* ---- events ---- */

enum ev_kind { EV_TIMER, EV_CARD_RX, EV_TX_DONE, EV_CARD_ATR, EV_CARD_TX, EV_CARD_TXEND, EV_READER_RX };

struct ev {
    bool used;
    uint64_t t, seq;
    uint8_t kind, slot, raw, pbit;
    bool flag;
    uint32_t gen;
};

static struct ev evq[MAX_EV];
static uint64_t seq_no, now_ns;

static void schedule(uint64_t t, uint8_t kind, uint8_t slot, uint8_t raw, uint8_t pbit, bool flag, uint32_t gen)
{
    for (int i = 0; i < MAX_EV; i++) {
        if (evq[i].used) continue;
        evq[i] = (struct ev){true, t, seq_no++, kind, slot, raw, pbit, flag, gen};
        return;
    }
    fprintf(stderr, "sim: event queue full\n");
    abort();
}

/* ---- card model ---- */

enum cst { C_OFF, C_WAIT, C_ATR, C_IDLE, C_PPS, C_HDR, C_DATA, C_BUSY, C_MUTE, C_NULLS };

struct qchar {
    uint8_t b;
    uint32_t gap_etu;
};

struct card {
    uint8_t st;
    bool powered_atr;   /* an ATR was given since power-on: the next reset is warm */
    bool pps_window;
    bool inverse;
    uint8_t ta1, next_ta1, guard_n;
    uint8_t rx[300];
    uint16_t n_rx, want;
    uint8_t hdr[5];
    uint16_t lc, got, xfer_left;
    struct qchar q[1600];
    uint16_t qn, qi;
    bool tx_active, nacked;
    uint64_t tx_start;
    bool in_atr;
    int ex_tx, ex_rx;
    uint8_t corrupt_left, nack_left;
    uint8_t pend[256];
    uint16_t pend_n;
    bool pend_valid;
    bool mute;
    bool first_after_hdr;
    uint32_t lead_gap;  /* silence before the next significant byte */
};

struct sslot {
    /* reader side, as the core drove it */
    char vcc;
    bool clk, rst;
    int io;
    uint32_t hz;
    struct hal_uart_cfg uart;
    uint32_t timer_gen;
    bool reader_sent;
    bool reader_nacked;         /* the card NACKed the reader's last character */
    uint64_t reader_last_start;
    uint32_t lose_events;       /* countdown to the event to drop (sim_lose_event) */
    /* card side */
    bool present;
    struct card_cfg cfg;
    struct card c;
    uint32_t card_gen;
    bool card_sent;
    uint64_t card_last_start;
    struct sim_card_stats st;
    struct trace_ev trace[MAX_TRACE];
    size_t ntrace;
};

static struct sslot S[NSLOTS];
static uint8_t nslots;

static void trace(uint8_t slot, char what, uint32_t v)
{
    struct sslot *s = &S[slot];
    if (s->ntrace < MAX_TRACE) s->trace[s->ntrace++] = (struct trace_ev){now_ns, what, v};
}

static void violation(uint8_t slot, const char *fmt, ...)
{
    struct sslot *s = &S[slot];
    if (s->st.violations++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->st.violation, sizeof s->st.violation, fmt, ap);
        va_end(ap);
    }
}

static const uint16_t FI[16] = {372, 372, 558, 744, 1116, 1488, 1860, 0, 0, 512, 768, 1024, 1536, 2048, 0, 0};
static const uint8_t DI[16] = {0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0};

static double ratio(uint16_t fi, uint8_t di) { return (double)fi / (double)di; }
static double card_ratio(const struct sslot *s) { return ratio(FI[s->c.ta1 >> 4], DI[s->c.ta1 & 0xf]); }
static double reader_ratio(const struct sslot *s) { return ratio(s->uart.fi, s->uart.di); }
static uint64_t etu_ns(double r, uint32_t hz, double n) { return (uint64_t)(n * r * 1e9 / (double)hz + 0.5); }
static uint64_t card_etu(const struct sslot *s, double n) { return etu_ns(card_ratio(s), s->hz, n); }
static uint64_t reader_etu(const struct sslot *s, double n) { return etu_ns(reader_ratio(s), s->hz, n); }
static bool same_etu(const struct sslot *s)
{
    double a = card_ratio(s), b = reader_ratio(s);
    return (a > b ? a - b : b - a) / a < 0.02;
}

static unsigned popcount8(uint8_t b)
{
    unsigned n = 0;
    for (; b; b &= (uint8_t)(b - 1)) n++;
    return n;
}

static uint8_t rev8(uint8_t b)
{
    uint8_t r = 0;
    for (int i = 0; i < 8; i++)
        if (b & (1u << i)) r |= (uint8_t)(0x80u >> i);
    return r;
}

/* The card's convention: logical byte to the line (raw direct reading + parity bit). */
static void encode(bool inverse, uint8_t b, uint8_t *raw, uint8_t *pbit)
{
    uint8_t p = (uint8_t)(popcount8(b) & 1u);
    if (inverse) {
        *raw = rev8((uint8_t)~b);
        *pbit = (uint8_t)(p ^ 1u);
    } else {
        *raw = b;
        *pbit = p;
    }
}

static bool decode(bool inverse, uint8_t raw, uint8_t pbit, uint8_t *b)
{
    *b = inverse ? rev8((uint8_t)~raw) : raw;
    unsigned sum = popcount8(raw) + pbit;
    return (sum & 1u) == (inverse ? 1u : 0u);
}

static void q_push(uint8_t slot, uint8_t b, uint32_t gap)
{
    struct card *c = &S[slot].c;
    if (c->qn >= sizeof c->q / sizeof c->q[0]) {
        fprintf(stderr, "sim: card output queue full\n");
        abort();
    }
    c->q[c->qn++] = (struct qchar){b, gap};
}

static void card_kick(uint8_t slot)
{
    struct sslot *s = &S[slot];
    struct card *c = &s->c;
    if (c->tx_active || c->qi >= c->qn) return;
    c->tx_active = true;
    uint64_t t = now_ns + card_etu(s, c->q[c->qi].gap_etu);
    /* A card, too, waits 16 etu from the reader's last leading edge before it answers. */
    if (s->reader_sent && t < s->reader_last_start + card_etu(s, 16)) t = s->reader_last_start + card_etu(s, 16);
    schedule(t, EV_CARD_TX, slot, 0, 0, false, s->card_gen);
}

/* NULL bytes and work time in front of the card's next significant byte after a header. */
static void lead(uint8_t slot)
{
    struct sslot *s = &S[slot];
    struct card *c = &s->c;
    uint32_t work = c->first_after_hdr ? s->cfg.work_etu : 0;
    c->first_after_hdr = false;
    for (int i = 0; i < s->cfg.nulls; i++) q_push(slot, 0x60, (i == 0 ? work : 0) + s->cfg.null_gap_etu);
    c->lead_gap = s->cfg.nulls ? s->cfg.null_gap_etu : work;
}

/* Queues one significant byte after lead(). */
static void sig(uint8_t slot, uint8_t b)
{
    struct card *c = &S[slot].c;
    q_push(slot, b, c->lead_gap);
    c->lead_gap = 0;
}

static void sw(uint8_t slot, uint16_t v)
{
    if (S[slot].cfg.ins_after_data && S[slot].c.got + S[slot].c.lc > 0) {
        /* A broken card: asks for (or offers) more data when there is none left. */
        lead(slot);
        sig(slot, S[slot].c.hdr[1]);
        S[slot].c.st = C_MUTE;
        return;
    }
    lead(slot);
    sig(slot, (uint8_t)(v >> 8));
    q_push(slot, (uint8_t)v, 0);
    S[slot].c.st = C_BUSY;
}

/* Procedure byte for a transfer; returns how many data bytes it covers. */
static uint16_t proc_byte(uint8_t slot, uint16_t left, uint16_t done_so_far)
{
    struct sslot *s = &S[slot];
    uint8_t ins = s->c.hdr[1];
    bool single = s->cfg.proc == PROC_XINS || (s->cfg.proc == PROC_MIXED && done_so_far < 2);
    lead(slot);
    sig(slot, single ? (uint8_t)(ins ^ 0xffu) : ins);
    return single ? 1 : left;
}

static void data_out(uint8_t slot, const uint8_t *d, uint16_t n, uint16_t status)
{
    uint16_t i = 0;
    S[slot].c.got = n;
    S[slot].c.lc = 0;
    while (i < n) {
        uint16_t k = proc_byte(slot, (uint16_t)(n - i), i);
        for (uint16_t j = 0; j < k; j++) q_push(slot, d[i + j], 0);
        i = (uint16_t)(i + k);
    }
    sw(slot, status);
}

static void next_data_in(uint8_t slot)
{
    struct card *c = &S[slot].c;
    c->xfer_left = proc_byte(slot, (uint16_t)(c->lc - c->got), c->got);
    c->st = C_DATA;
}

static void command_done(uint8_t slot)
{
    struct sslot *s = &S[slot];
    struct card *c = &s->c;
    if (c->hdr[1] == 0xee) {
        memcpy(c->pend, c->rx, c->lc);
        c->pend_n = c->lc;
        c->pend_valid = c->lc > 0;
        sw(slot, c->lc ? (uint16_t)(0x6100 | c->lc) : 0x9000);
    } else {
        s->st.stored += c->lc;
        sw(slot, 0x9000);
    }
}

static void on_header(uint8_t slot)
{
    struct sslot *s = &S[slot];
    struct card *c = &s->c;
    uint8_t cla = c->hdr[0], ins = c->hdr[1], p3 = c->hdr[4];
    uint16_t ne = p3 ? p3 : 256;
    c->lc = 0;
    c->got = 0;
    c->first_after_hdr = true;
    c->ex_tx = 0;
    c->corrupt_left = s->cfg.corrupt_times;
    c->in_atr = false;
    if (s->cfg.mute_after_header || c->mute) {
        c->st = C_MUTE;
        return;
    }
    if (s->cfg.endless_nulls) {
        c->st = C_NULLS;
        q_push(slot, 0x60, s->cfg.null_gap_etu);
        card_kick(slot);
        return;
    }
    if (s->cfg.bad_proc) {
        lead(slot);
        sig(slot, s->cfg.bad_proc);
        c->st = C_MUTE;
        card_kick(slot);
        return;
    }
    if (cla != 0x00 && cla != 0x80) sw(slot, 0x6e00);
    else if (ins == 0xc0) {
        if (!c->pend_valid) sw(slot, 0x6985);
        else if (ne != c->pend_n) sw(slot, (uint16_t)(0x6c00 | (c->pend_n & 0xff)));
        else {
            c->pend_valid = false;
            data_out(slot, c->pend, c->pend_n, 0x9000);
        }
    } else if (cla == 0x80 && ins == 0xca) {
        uint16_t len = s->cfg.getdata_len;
        if (ne != len) sw(slot, (uint16_t)(0x6c00 | (len & 0xff)));
        else {
            uint8_t d[256];
            for (uint16_t i = 0; i < len; i++) d[i] = (uint8_t)i;
            data_out(slot, d, len, 0x9000);
        }
    } else if (cla == 0x80 && (ins == 0xee || ins == 0xe2)) {
        c->lc = p3;
        c->got = 0;
        if (c->lc == 0) command_done(slot);
        else next_data_in(slot);
    } else if (cla == 0x80 && ins == 0xde) {
        c->mute = true;
        c->st = C_MUTE;
    } else {
        sw(slot, 0x6d00);
    }
    card_kick(slot);
}

static void pps_answer(uint8_t slot)
{
    struct sslot *s = &S[slot];
    struct card *c = &s->c;
    uint8_t a[6];
    uint16_t n = c->n_rx;
    memcpy(a, c->rx, n);
    c->pps_window = false;
    c->st = C_BUSY;
    bool has1 = (a[1] & 0x10) != 0;
    switch (s->cfg.pps) {
    case PPS_ACCEPT:
        if (has1) c->next_ta1 = a[2];
        break;
    case PPS_DECLINE:
        a[1] &= 0x0f;
        a[2] = (uint8_t)(0xff ^ a[1]);
        n = 3;
        break;
    case PPS_MUTE:
        c->st = C_MUTE;
        return;
    case PPS_BAD_PCK:
        a[n - 1] ^= 1;
        break;
    case PPS_OTHER_PPS1:
        if (has1) {
            a[2] = (uint8_t)(a[2] - 1);
            a[n - 1] = 0;
            for (uint16_t i = 0; i + 1 < n; i++) a[n - 1] ^= a[i];
        }
        break;
    case PPS_TRUNCATED:
        n = 2;
        c->st = C_MUTE;
        break;
    case PPS_BIT8:
        a[1] |= 0x80;
        break;
    case PPS_EXTRA_PPS2:
        if (has1 && n == 4) {
            a[1] |= 0x20;
            a[3] = 0x00;
            n = 5;
        }
        break;
    }
    if (s->cfg.pps == PPS_BIT8 || s->cfg.pps == PPS_EXTRA_PPS2) {
        a[n - 1] = 0;
        for (uint16_t i = 0; i + 1 < n; i++) a[n - 1] ^= a[i];
    }
    for (uint16_t i = 0; i < n; i++) q_push(slot, a[i], 0);
    card_kick(slot);
}

static void card_consume(uint8_t slot, uint8_t b)
{
    struct sslot *s = &S[slot];
    struct card *c = &s->c;
    switch (c->st) {
    case C_IDLE:
        if (c->pps_window && b == 0xff) {
            c->st = C_PPS;
            c->rx[0] = b;
            c->n_rx = 1;
            return;
        }
        c->pps_window = false;
        c->hdr[0] = b;
        c->n_rx = 1;
        c->st = C_HDR;
        return;
    case C_PPS:
        c->rx[c->n_rx++] = b;
        if (c->n_rx == 2) c->want = (uint16_t)(3 + ((b >> 4) & 1) + ((b >> 5) & 1) + ((b >> 6) & 1));
        if (c->n_rx >= 2 && c->n_rx == c->want) {
            c->want = 0;
            pps_answer(slot);
        }
        return;
    case C_HDR:
        c->hdr[c->n_rx++] = b;
        if (c->n_rx == 5) on_header(slot);
        return;
    case C_DATA:
        if (c->xfer_left == 0) {
            violation(slot, "reader sent data the card did not ask for");
            return;
        }
        c->rx[c->got++] = b;
        if (--c->xfer_left > 0) return;
        if (c->got == c->lc) command_done(slot);
        else next_data_in(slot);
        card_kick(slot);
        return;
    case C_MUTE:
        return;
    default:
        violation(slot, "reader sent 0x%02X while the card was busy (state %d)", b, c->st);
        return;
    }
}

static uint8_t card_tc1(const struct card_cfg *cfg)
{
    if (cfg->atr_len < 2) return 0;
    unsigned y = cfg->atr[1] >> 4;
    unsigned p = 2;
    if (y & 1u) p++;
    if (y & 2u) p++;
    if ((y & 4u) && p < cfg->atr_len) return cfg->atr[p] == 0xff ? 0 : cfg->atr[p];
    return 0;
}

/* TA1 when the ATR puts the card in specific mode (TA2 with b5 = 0), else 0. */
static uint8_t card_specific_ta1(const struct card_cfg *cfg)
{
    if (cfg->atr_len < 2) return 0;
    unsigned y = cfg->atr[1] >> 4;
    unsigned p = 2;
    uint8_t ta1 = 0x11;
    if (y & 1u) ta1 = cfg->atr[p++];
    if (y & 2u) p++;
    if (y & 4u) p++;
    if (!(y & 8u) || p >= cfg->atr_len) return 0;
    unsigned y2 = cfg->atr[p++] >> 4;
    if (!(y2 & 1u) || p >= cfg->atr_len) return 0;
    return (cfg->atr[p] & 0x10) ? 0 : ta1;
}

static void card_reset_state(uint8_t slot)
{
    struct sslot *s = &S[slot];
    struct card *c = &s->c;
    bool powered_atr = c->powered_atr;
    bool mute = c->mute;
    memset(c, 0, sizeof *c);
    c->powered_atr = powered_atr;
    c->mute = mute;
    c->ta1 = 0x11;
    c->st = C_WAIT;
    s->card_gen++;
    s->card_sent = false;
}

static void card_power_off(uint8_t slot)
{
    struct sslot *s = &S[slot];
    card_reset_state(slot);
    s->c.st = C_OFF;
    s->c.powered_atr = false;
    s->c.mute = false;
    s->st.power_offs++;
    s->st.ta1 = 0x11;
}

static void card_atr(uint8_t slot)
{
    struct sslot *s = &S[slot];
    struct card *c = &s->c;
    if (s->cfg.mute_atr || c->mute) {
        c->st = C_MUTE;
        return;
    }
    if (c->powered_atr) s->st.warm++;
    else s->st.cold++;
    c->powered_atr = true;
    c->pend_valid = false;
    s->st.stored = 0;
    c->inverse = s->cfg.atr[0] == 0x3f;
    c->guard_n = card_tc1(&s->cfg);
    c->in_atr = true;
    c->ex_tx = 0;
    c->corrupt_left = s->cfg.corrupt_times;
    c->st = C_ATR;
    c->next_ta1 = card_specific_ta1(&s->cfg);
    for (uint8_t i = 0; i < s->cfg.atr_len; i++) q_push(slot, s->cfg.atr[i], 0);
    card_kick(slot);
}

static void card_queue_empty(uint8_t slot)
{
    struct card *c = &S[slot].c;
    c->qn = c->qi = 0;
    if (c->st == C_ATR) {
        c->st = C_IDLE;
        c->pps_window = c->next_ta1 == 0;
    }
    if (c->st == C_BUSY || c->st == C_IDLE) {
        c->st = C_IDLE;
        if (c->next_ta1) {
            c->ta1 = c->next_ta1;
            c->next_ta1 = 0;
            S[slot].st.ta1 = c->ta1;
        }
    }
}

/* ---- event dispatch ---- */

/* A full HAL event queue drops this event: the HAL tells the core once it has drained. */
static bool lost(uint8_t slot)
{
    if (S[slot].lose_events == 0 || --S[slot].lose_events > 0) return false;
    bridge_events_lost(slot);
    return true;
}

static bool card_live(uint8_t slot) { return S[slot].present && S[slot].vcc && S[slot].clk && S[slot].rst; }

static void ev_card_tx(uint8_t slot)
{
    struct sslot *s = &S[slot];
    struct card *c = &s->c;
    if (!card_live(slot)) return;
    if (s->reader_sent && now_ns < s->reader_last_start + reader_etu(s, 12)) violation(slot, "collision: card started while the reader was sending");
    uint8_t raw, pbit;
    uint8_t b = c->q[c->qi].b;
    encode(c->inverse, b, &raw, &pbit);
    int target = c->in_atr ? s->cfg.corrupt_atr_at : s->cfg.corrupt_tx_at;
    if (target >= 0 && c->ex_tx == target && c->corrupt_left > 0) {
        c->corrupt_left--;
        pbit ^= 1u;
    }
    c->tx_start = now_ns;
    s->card_sent = true;
    s->card_last_start = now_ns;
    s->st.chars_from_card++;
    schedule(now_ns + card_etu(s, 11), EV_READER_RX, slot, raw, pbit, false, s->card_gen);
    schedule(now_ns + card_etu(s, 12), EV_CARD_TXEND, slot, 0, 0, false, s->card_gen);
}

static void ev_card_txend(uint8_t slot)
{
    struct sslot *s = &S[slot];
    struct card *c = &s->c;
    if (c->nacked) {
        /* Repeat the character (ISO 7816-3 §7.3): at least 2 etu after the error signal. */
        c->nacked = false;
        schedule(now_ns + card_etu(s, 3), EV_CARD_TX, slot, 0, 0, false, s->card_gen);
        return;
    }
    c->ex_tx++;
    c->qi++;
    if (c->st == C_NULLS && c->qi == c->qn) q_push(slot, 0x60, s->cfg.null_gap_etu); /* and again */
    if (c->qi < c->qn) {
        schedule(now_ns + card_etu(s, c->q[c->qi].gap_etu), EV_CARD_TX, slot, 0, 0, false, s->card_gen);
        return;
    }
    c->tx_active = false;
    card_queue_empty(slot);
}

static void ev_reader_rx(uint8_t slot, uint8_t raw, uint8_t pbit)
{
    struct sslot *s = &S[slot];
    bool ok = ((popcount8(raw) + pbit) & 1u) == (s->uart.odd_parity ? 1u : 0u);
    if (!same_etu(s)) {
        violation(slot, "card sends at Fi/Di ratio %.2f, reader listens at %.2f", card_ratio(s), reader_ratio(s));
        ok = false;
    }
    trace(slot, 'X', (uint32_t)raw | (uint32_t)pbit << 8);
    if (!ok && s->uart.nack) {
        s->c.nacked = true;
        s->st.nacks_by_reader++;
    }
    if (!lost(slot)) bridge_card_rx(slot, raw, ok);
}

static void ev_card_rx(uint8_t slot, uint8_t raw, uint8_t pbit, uint64_t start)
{
    struct sslot *s = &S[slot];
    struct card *c = &s->c;
    bool nack = false;
    bool listening = card_live(slot) && c->st != C_OFF && c->st != C_WAIT;
    if (listening) {
        if (!same_etu(s)) violation(slot, "reader sends at Fi/Di ratio %.2f, card listens at %.2f", reader_ratio(s), card_ratio(s));
        uint8_t b;
        bool ok = decode(c->inverse, raw, pbit, &b);
        if (!ok) violation(slot, "reader sent a character with bad parity");
        if (c->st == C_IDLE && !(c->pps_window && b == 0xff)) {
            c->ex_rx = 0;
            c->nack_left = s->cfg.nack_rx_times;
        }
        if (c->st != C_MUTE && s->cfg.nack_rx_at >= 0 && c->ex_rx == s->cfg.nack_rx_at && c->nack_left > 0) {
            c->nack_left--;
            nack = true;
        }
        if (!ok) nack = true;
        s->reader_nacked = nack;
        if (nack) s->st.nacks_by_card++;
        else {
            c->ex_rx++;
            s->st.chars_to_card++;
            card_consume(slot, b);
        }
    }
    schedule(start + reader_etu(s, 12 + s->uart.guard_n), EV_TX_DONE, slot, 0, 0, nack, 0);
}

bool sim_step(void)
{
    int best = -1;
    for (int i = 0; i < MAX_EV; i++) {
        if (!evq[i].used) continue;
        if (best < 0 || evq[i].t < evq[best].t || (evq[i].t == evq[best].t && evq[i].seq < evq[best].seq)) best = i;
    }
    if (best < 0) return false;
    struct ev e = evq[best];
    evq[best].used = false;
    now_ns = e.t;
    struct sslot *s = &S[e.slot];
    switch (e.kind) {
    case EV_TIMER:
        if (e.gen == s->timer_gen && !lost(e.slot)) bridge_timer(e.slot);
        break;
    case EV_TX_DONE:
        if (!lost(e.slot)) bridge_card_tx_done(e.slot, e.flag);
        break;
    case EV_CARD_RX:
        if (e.gen == s->card_gen) ev_card_rx(e.slot, e.raw, e.pbit, now_ns - reader_etu(s, 11));
        else schedule(now_ns - reader_etu(s, 11) + reader_etu(s, 12 + s->uart.guard_n), EV_TX_DONE, e.slot, 0, 0, false, 0);
        break;
    case EV_CARD_ATR:
        if (e.gen == s->card_gen && card_live(e.slot)) card_atr(e.slot);
        break;
    case EV_CARD_TX:
        if (e.gen == s->card_gen) ev_card_tx(e.slot);
        break;
    case EV_CARD_TXEND:
        if (e.gen == s->card_gen) ev_card_txend(e.slot);
        break;
    case EV_READER_RX:
        if (e.gen == s->card_gen) ev_reader_rx(e.slot, e.raw, e.pbit);
        break;
    }
    return true;
}

void sim_run_for(uint64_t ns)
{
    uint64_t end = now_ns + ns;
    for (;;) {
        uint64_t next = UINT64_MAX;
        for (int i = 0; i < MAX_EV; i++)
            if (evq[i].used && evq[i].t < next) next = evq[i].t;
        if (next > end) break;
        sim_step();
    }
    now_ns = end;
}

uint64_t sim_now(void) { return now_ns; }

/* ---- HAL ---- */

static const uint8_t TA1S[] = {0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x18, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97};
static struct hal_caps caps = {1, 1000000, 20000000, 4000000, "ABC", TA1S, sizeof TA1S, "test-0.1.0", 1000, 5000, 0};
static uint32_t timer_early_us;

const struct hal_caps *hal_caps(void) { return &caps; }

uint32_t hal_micros(void) { return (uint32_t)(now_ns / 1000u); }

void hal_timer_start(uint8_t slot, uint32_t us, enum hal_wait kind)
{
    (void)kind;
    S[slot].timer_gen++;
    uint64_t at = now_ns + (uint64_t)us * 1000u;
    if (timer_early_us) {
        uint64_t early = (uint64_t)timer_early_us * 1000u, soonest = now_ns + 1000u;
        at = at > early + soonest ? at - early : soonest;
    }
    schedule(at, EV_TIMER, slot, 0, 0, false, S[slot].timer_gen);
}

void hal_timer_stop(uint8_t slot) { S[slot].timer_gen++; }

void hal_card_vcc(uint8_t slot, char cls)
{
    struct sslot *s = &S[slot];
    trace(slot, 'V', (uint32_t)(unsigned char)cls);
    if (s->vcc && !cls && s->present) card_power_off(slot);
    s->vcc = cls;
}

uint32_t hal_card_clock_set(uint8_t slot, uint32_t hz)
{
    uint32_t div = (BASE_HZ + hz - 1u) / hz;
    S[slot].hz = BASE_HZ / (div ? div : 1u);
    return S[slot].hz;
}

void hal_card_clock_run(uint8_t slot, bool run)
{
    trace(slot, 'K', run);
    S[slot].clk = run;
}

void hal_card_rst(uint8_t slot, bool high)
{
    struct sslot *s = &S[slot];
    trace(slot, 'R', high);
    bool was = s->rst;
    s->rst = high;
    if (!s->present || !s->vcc) return;
    if (high && !was && s->clk) {
        card_reset_state(slot);
        s->c.st = C_WAIT;
        uint64_t delay = (uint64_t)s->cfg.atr_delay_clocks * 1000000000u / s->hz;
        schedule(now_ns + delay, EV_CARD_ATR, slot, 0, 0, false, s->card_gen);
    } else if (!high && was) {
        card_reset_state(slot);
    }
}

void hal_card_io(uint8_t slot, enum hal_io mode)
{
    trace(slot, 'I', mode);
    S[slot].io = mode;
}

void hal_card_uart(uint8_t slot, const struct hal_uart_cfg *cfg) { S[slot].uart = *cfg; }

void hal_card_tx(uint8_t slot, uint8_t raw)
{
    struct sslot *s = &S[slot];
    trace(slot, 'T', raw);
    if (s->c.tx_active) violation(slot, "collision: reader sent while the card had characters to send");
    if (s->card_sent && now_ns < s->card_last_start + reader_etu(s, 16)) {
        violation(slot, "turnaround: reader sent %.1f etu after the card's character began",
                  (double)(now_ns - s->card_last_start) / (double)reader_etu(s, 1));
    }
    if (s->reader_sent) {
        uint64_t gap = now_ns - s->reader_last_start;
        uint32_t gap100 = (uint32_t)(gap * 100u / reader_etu(s, 1));
        if (s->reader_nacked) {
            /* ISO 7816-3 §7.3: the repetition starts at least 2 etu after the error signal is detected. */
            if (s->st.min_repeat_gap_etu100 == 0 || gap100 < s->st.min_repeat_gap_etu100) s->st.min_repeat_gap_etu100 = gap100;
            if (gap + 10 < reader_etu(s, 13)) violation(slot, "repetition: reader repeated a NACKed character %u/100 etu after it", gap100);
            s->reader_nacked = false;
        }
        if (s->st.min_reader_gap_etu100 == 0 || gap100 < s->st.min_reader_gap_etu100) s->st.min_reader_gap_etu100 = gap100;
        if (card_live(slot) && gap < card_etu(s, 12 + s->c.guard_n) - 10) violation(slot, "guard time: reader characters %u/100 etu apart", gap100);
    }
    s->reader_sent = true;
    s->reader_last_start = now_ns;
    uint8_t pbit = (uint8_t)((popcount8(raw) & 1u) ^ (s->uart.odd_parity ? 1u : 0u));
    schedule(now_ns + reader_etu(s, 11), EV_CARD_RX, slot, raw, pbit, false, s->card_gen);
}

/* ---- host link ---- */

static char *lines[MAX_LINES];
static size_t nlines;
static char partial[700];
static size_t npartial;
static uint32_t bad_lines;

static void store_line(const char *l, size_t n)
{
    /* Every line must end in " *XXXX" with the right CRC. */
    if (n < 6 || l[n - 6] != ' ' || l[n - 5] != '*') {
        bad_lines++;
        return;
    }
    char crc[5];
    snprintf(crc, sizeof crc, "%04X", crc16_ccitt_false((const uint8_t *)l, n - 6));
    if (memcmp(crc, l + n - 4, 4) != 0 || n + 1 > 600) bad_lines++;
    if (nlines < MAX_LINES) {
        lines[nlines] = malloc(n - 5);
        memcpy(lines[nlines], l, n - 6);
        lines[nlines][n - 6] = 0;
        nlines++;
    }
}

void hal_host_write(const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\n') {
            store_line(partial, npartial);
            npartial = 0;
        } else if (npartial < sizeof partial) {
            partial[npartial++] = data[i];
        } else {
            bad_lines++;
        }
    }
    if (npartial) bad_lines++; /* lines go out whole */
}

size_t sim_line_count(void) { return nlines; }
const char *sim_line(size_t i) { return i < nlines ? lines[i] : NULL; }
uint32_t sim_bad_lines(void) { return bad_lines; }

void sim_send(const char *bytes, size_t n) { bridge_host_rx((const uint8_t *)bytes, n); }

void sim_request(const char *body)
{
    char buf[4400];
    int n = snprintf(buf, sizeof buf, "%s *%04X\n", body, crc16_ccitt_false((const uint8_t *)body, strlen(body)));
    sim_send(buf, (size_t)n);
}

static long id_of(const char *line)
{
    if (line[0] == '!') return -1;
    char *end;
    long v = strtol(line, &end, 16);
    return *end == ' ' ? v : -1;
}

static size_t scanned;

const char *sim_wait_reply(const char *id)
{
    long want = strtol(id, NULL, 16);
    uint64_t limit = now_ns + 120ull * 1000000000ull;
    for (;;) {
        for (; scanned < nlines; scanned++) {
            if (id_of(lines[scanned]) == want) return lines[scanned++];
        }
        if (now_ns > limit || !sim_step()) return NULL;
    }
}

const char *sim_call(const char *body)
{
    char id[8];
    size_t i = 0;
    while (body[i] && body[i] != ' ' && i < sizeof id - 1) {
        id[i] = body[i];
        i++;
    }
    id[i] = 0;
    sim_request(body);
    return sim_wait_reply(id);
}

/* ---- setup ---- */

void card_cfg_atr(struct card_cfg *c, const char *hex)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n && i < sizeof c->atr; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        c->atr[i] = (uint8_t)v;
    }
    c->atr_len = (uint8_t)n;
}

void card_cfg_default(struct card_cfg *c)
{
    memset(c, 0, sizeof *c);
    card_cfg_atr(c, "3B14964543484F");
    c->atr_delay_clocks = 400;
    c->pps = PPS_ACCEPT;
    c->proc = PROC_INS;
    c->getdata_len = 16;
    c->corrupt_atr_at = -1;
    c->corrupt_tx_at = -1;
    c->nack_rx_at = -1;
}

void sim_boot(uint8_t n, const struct card_cfg *const *cards)
{
    memset(evq, 0, sizeof evq);
    for (size_t i = 0; i < nlines; i++) free(lines[i]);
    nlines = scanned = npartial = 0;
    bad_lines = 0;
    now_ns = 0;
    memset(S, 0, sizeof S);
    nslots = n;
    caps.slots = n;
    caps.classes = "ABC";
    caps.op_cap_ms = 0;
    timer_early_us = 0;
    uint32_t mask = 0;
    for (uint8_t i = 0; i < n; i++) {
        if (cards && cards[i]) {
            S[i].present = true;
            S[i].cfg = *cards[i];
            mask |= 1u << i;
        }
        S[i].c.ta1 = 0x11;
        S[i].st.ta1 = 0x11;
    }
    bridge_init(mask);
}

void sim_set_classes(const char *classes) { caps.classes = classes; }
void sim_set_op_cap_ms(uint32_t ms) { caps.op_cap_ms = ms; }
void sim_timer_early_us(uint32_t us) { timer_early_us = us; }
void sim_lose_event(uint8_t slot, uint32_t n) { S[slot].lose_events = n; }

void sim_insert(uint8_t slot, const struct card_cfg *c)
{
    struct sslot *s = &S[slot];
    s->present = true;
    s->cfg = *c;
    card_reset_state(slot);
    s->c.st = C_OFF;
    bridge_card_detect(slot, true);
}

void sim_remove(uint8_t slot)
{
    struct sslot *s = &S[slot];
    card_reset_state(slot);
    s->c.st = C_OFF;
    s->present = false;
    bridge_card_detect(slot, false);
}

void sim_fault(int slot, const char *code) { bridge_fault(slot, code); }

const struct sim_card_stats *sim_stats(uint8_t slot) { return &S[slot].st; }

size_t sim_trace(uint8_t slot, const struct trace_ev **out)
{
    *out = S[slot].trace;
    return S[slot].ntrace;
}

void sim_trace_clear(uint8_t slot) { S[slot].ntrace = 0; }

const struct hal_uart_cfg *sim_uart(uint8_t slot) { return &S[slot].uart; }
