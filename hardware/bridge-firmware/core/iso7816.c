/*
 * The per-slot ISO/IEC 7816-3 engine (PROTOCOL.md §4, §7): activation and deactivation
 * sequences, ATR reception with convention detection, PPS, the T=0 character protocol with
 * its procedure bytes, parity-error repetition and the waiting times. Event driven: each entry
 * point handles one HAL event and returns; waits are one-shot HAL timers.
 */
#include "../hal.h"
#include "atr.h"
#include "line.h"
#include "slot.h"

static const char *const ERR_NAMES[] = {"LINE", "CRC", "SYNTAX", "VERB", "SLOT", "ARG", "BUSY",
                                        "FAULT", "NOCARD", "STATE", "UNSUPPORTED", "MUTE", "TIMEOUT", "PROTO", "OVERRUN"};

const char *wire_err_name(enum wire_err e) { return ERR_NAMES[e]; }

/* ---- units ---- */

static uint32_t sat32(uint64_t v) { return v > 0xffffffffu ? 0xffffffffu : (uint32_t)v; }

static uint32_t us_for_clocks(uint64_t clocks, uint32_t hz) { return sat32((clocks * 1000000u + hz - 1u) / hz); }

/* n etu at the slot's Fi/Di in force (ceil). */
static uint32_t us_for_etu(const struct slot *s, uint32_t etu)
{
    uint64_t num = (uint64_t)etu * ta1_fi(s->ta1) * 1000000u;
    uint64_t den = (uint64_t)ta1_di(s->ta1) * s->clock_hz;
    return sat32((num + den - 1u) / den);
}

/* Work waiting time 960 x WI x Fi clocks, plus the slack for events near a character's end. */
static uint32_t wwt_us(const struct slot *s)
{
    return us_for_clocks(960u * (uint64_t)s->wi * ta1_fi(s->ta1), s->clock_hz) + us_for_etu(s, WAIT_SLACK_ETU);
}

static uint32_t initial_wait_us(const struct slot *s) { return us_for_etu(s, INITIAL_WAIT_ETU + WAIT_SLACK_ETU); }

/* ---- conventions ---- */

static uint8_t rev8(uint8_t b)
{
    b = (uint8_t)((b & 0xf0u) >> 4 | (b & 0x0fu) << 4);
    b = (uint8_t)((b & 0xccu) >> 2 | (b & 0x33u) << 2);
    b = (uint8_t)((b & 0xaau) >> 1 | (b & 0x55u) << 1);
    return b;
}

/* Inverse convention: MSB first with inverted levels. The mapping is its own inverse. */
static uint8_t line_byte(const struct slot *s, uint8_t b) { return s->inverse ? rev8((uint8_t)~b) : b; }

static void uart_apply(struct slot *s, bool nack)
{
    struct hal_uart_cfg c = {ta1_fi(s->ta1), ta1_di(s->ta1), s->guard_n, s->inverse, nack};
    hal_card_uart(s->index, &c);
}

/* ---- timers ---- */

static void arm(struct slot *s, uint32_t us, enum hal_wait kind)
{
    s->timer_on = true;
    s->timer_kind = (uint8_t)kind;
    s->deadline = hal_micros() + us;
    hal_timer_start(s->index, us, kind);
}

static void disarm(struct slot *s)
{
    s->timer_on = false;
    s->turn_wait = false;
    hal_timer_stop(s->index);
}

/* ---- answers ---- */

static void done(struct slot *s)
{
    s->busy = false;
    s->last_id = s->id;
    s->phase = PH_IDLE;
}

static void answer_err(struct slot *s, enum wire_err e)
{
    out_begin(s->id, s->index, false);
    out_word("ERR");
    out_word(wire_err_name(e));
    out_end();
    done(s);
}

static void answer_ok(struct slot *s)
{
    out_begin(s->id, s->index, false);
    out_word("OK");
    out_end();
    done(s);
}

/*
 * `OK <card bytes> <µs>`: buf[0..n_in), then SW1 SW2 for a TPDU or APDU (whose µs add up its
 * TPDUs); APDUS puts the number of APDUs that ran first.
 */
static void answer_card(struct slot *s)
{
    bool apdu = s->verb == VERB_APDU || s->verb == VERB_APDUS;
    uint32_t us = apdu ? s->apdu_us : hal_micros() - s->t_start;
    out_begin(s->id, s->index, false);
    out_word("OK");
    if (s->verb == VERB_APDUS) out_dec((uint32_t)s->batch_i + 1u);
    out_hex(s->buf, s->n_in);
    if (s->verb == VERB_TPDU || apdu) out_hex_more(s->sw, 2);
    out_dec(us);
    out_end();
    done(s);
}

/* ---- activation / deactivation ---- */

/* ISO 7816-3 §6.4: RST low, CLK stopped low, I/O low, VCC off; parameters back to defaults. */
static void deactivate(struct slot *s)
{
    disarm(s);
    s->tx_n = 0;
    s->phase = PH_IDLE;
    if (s->vcc) {
        hal_card_rst(s->index, false);
        hal_card_clock_run(s->index, false);
        hal_card_io(s->index, HAL_IO_LOW);
        hal_card_vcc(s->index, 0);
        s->vcc_was_on = true;
        s->t_vcc_off = hal_micros();
    }
    s->vcc = 0;
    if (s->state == ST_ON || s->state == ST_READY) s->state = ST_OFF;
    s->ta1 = TA1_DEFAULT;
    s->guard_n = 0;
    s->wi = WI_DEFAULT;
    s->pps_allowed = false;
    s->inverse = false;
    s->rx_seen = false;
}

/* A card failure ends the activation: the reader deactivates (ISO 7816-3). */
static void card_fail(struct slot *s, enum wire_err e)
{
    deactivate(s);
    answer_err(s, e);
}

static void defaults(struct slot *s)
{
    s->ta1 = TA1_DEFAULT;
    s->guard_n = 0;
    s->wi = WI_DEFAULT;
    s->pps_allowed = false;
    s->inverse = false;
    s->rx_seen = false;
    s->n_in = 0;
    s->rx_errors = 0;
}

/* RST low for 400 clocks (CLK running), then the ATR read. The TS character is read without NACK. */
static void rst_low(struct slot *s)
{
    uart_apply(s, false);
    hal_card_rst(s->index, false);
    s->phase = PH_RST_LOW;
    arm(s, us_for_clocks(RST_LOW_CLOCKS, s->clock_hz), HAL_WAIT_DELAY);
}

/* Cold reset on a powered slot (RST low, I/O in reception mode since power_on): CLK starts. */
static void clock_start(struct slot *s)
{
    hal_card_clock_run(s->index, true);
    s->t_start = hal_micros();
    rst_low(s);
}

static void power_on(struct slot *s, char cls)
{
    hal_card_rst(s->index, false);
    hal_card_clock_run(s->index, false);
    hal_card_vcc(s->index, cls);
    hal_card_io(s->index, HAL_IO_RX);
    s->vcc = cls;
    s->cls = cls;
}

static void reset_begin(struct slot *s, bool warm)
{
    bool was_ready = s->state == ST_READY;
    defaults(s);
    if (warm) {
        s->state = ST_ON;
        s->t_start = hal_micros();
        rst_low(s);
        return;
    }
    if (was_ready) {
        /* An active card goes through deactivation first; VCC comes back after discharging. */
        char cls = s->vcc;
        deactivate(s);
        s->cls = cls;
        s->state = ST_ON;
        s->phase = PH_DISCHARGE;
        uint32_t off = hal_caps()->vcc_discharge_us;
        arm(s, off > VCC_OFF_MIN_US ? off : VCC_OFF_MIN_US, HAL_WAIT_DELAY);
        return;
    }
    s->state = ST_ON;
    clock_start(s);
}

/* ---- character transmission ---- */

static void tx_now(struct slot *s)
{
    s->t_tx = hal_micros();
    if (s->mark_start) {
        s->t_start = s->t_tx;
        s->mark_start = false;
    }
    hal_card_tx(s->index, line_byte(s, s->tx_src[s->tx_i]));
}

/* Sends n bytes, after the turnaround time if the card spoke last. Completion: tx_complete(). */
static void tx_begin(struct slot *s, const uint8_t *src, uint16_t n)
{
    s->tx_src = src;
    s->tx_n = n;
    s->tx_i = 0;
    s->tx_tries = 0;
    if (s->rx_seen) {
        uint32_t since = hal_micros() - s->t_last_rx;
        if (since < s->turn_us) {
            arm(s, s->turn_us - since, HAL_WAIT_DELAY);
            s->turn_wait = true;
            return;
        }
    }
    tx_now(s);
}

static uint32_t op_cap_us(void)
{
    uint32_t ms = hal_caps()->op_cap_ms ? hal_caps()->op_cap_ms : OP_CAP_MS_DEFAULT;
    return sat32((uint64_t)ms * 1000u);
}


/*
 * Arms the wait that applies while reading in the current phase. A TPDU or APDU also has a
 * total cap (a card sending NULL bytes forever would restart WWT forever): past it, TIMEOUT.
 */
static void wait_card(struct slot *s)
{
    if (s->phase == PH_ATR || s->phase == PH_PPS_RX) {
        arm(s, initial_wait_us(s), HAL_WAIT_CARD);
        return;
    }
    uint32_t wait = wwt_us(s);
    if (s->verb == VERB_TPDU || s->verb == VERB_APDU || s->verb == VERB_APDUS) {
        uint32_t spent = hal_micros() - s->t_op, cap = op_cap_us();
        if (spent >= cap) {
            card_fail(s, E_TIMEOUT);
            return;
        }
        if (cap - spent < wait) wait = cap - spent;
    }
    arm(s, wait, HAL_WAIT_CARD);
}

static void tx_complete(struct slot *s)
{
    switch (s->phase) {
    case PH_PPS_TX:
        s->phase = PH_PPS_RX;
        s->n_in = 0;
        wait_card(s);
        break;
    case PH_T0_HDR:
        s->phase = PH_T0_PROC;
        wait_card(s);
        break;
    case PH_T0_DATA_TX:
        s->n_sent = (uint16_t)(s->n_sent + s->want);
        s->want = 0;
        s->phase = PH_T0_PROC;
        wait_card(s);
        break;
    default:
        break;
    }
}

void engine_tx_done(struct slot *s, bool nacked)
{
    if (s->tx_n == 0 || s->turn_wait) return;
    if (nacked) {
        /* The card saw a parity error: repeat the character, at most CHAR_REPEATS times. */
        if (++s->tx_tries > CHAR_REPEATS) {
            card_fail(s, E_PROTO);
            return;
        }
        /* ... and no earlier than REPEAT_GAP_ETU after the NACKed character's leading edge. */
        uint32_t since = hal_micros() - s->t_tx, gap = us_for_etu(s, REPEAT_GAP_ETU);
        if (since < gap) {
            arm(s, gap - since, HAL_WAIT_DELAY);
            s->turn_wait = true;
            return;
        }
        tx_now(s);
        return;
    }
    s->tx_tries = 0;
    if (++s->tx_i < s->tx_n) {
        tx_now(s);
        return;
    }
    s->tx_n = 0;
    tx_complete(s);
}

/* ---- reception ---- */

static bool ta1_supported(uint8_t ta1)
{
    const struct hal_caps *c = hal_caps();
    for (uint8_t i = 0; i < c->n_ta1; i++)
        if (c->ta1[i] == ta1) return true;
    return false;
}

static void atr_done(struct slot *s)
{
    struct atr_info a;
    if (atr_parse(s->buf, s->n_in, &a) != ATR_OK) {
        card_fail(s, E_PROTO);
        return;
    }
    disarm(s);
    s->guard_n = a.guard_n;
    s->wi = a.wi;
    /* A card fixed to another protocol by TA2 must not be driven as T=0 (ISO 7816-3 §6.3.1). */
    if (a.specific && a.specific_t != 0) {
        card_fail(s, E_UNSUPPORTED);
        return;
    }
    if (a.specific) {
        /* Specific mode: the card already runs at TA1's Fi/Di; no PPS. */
        if (!ta1_supported(a.ta1)) {
            card_fail(s, E_UNSUPPORTED);
            return;
        }
        s->ta1 = a.ta1;
    } else {
        s->pps_allowed = true;
    }
    s->state = ST_READY;
    uart_apply(s, true);
    answer_card(s);
}

static void rx_ts(struct slot *s, uint8_t raw, bool parity_ok)
{
    /* Direct TS reads 3B with good parity; inverse TS reads 03 with a parity error (even). */
    if (raw == 0x3b && parity_ok) s->inverse = false;
    else if (raw == 0x03 && !parity_ok) s->inverse = true;
    else {
        card_fail(s, E_PROTO);
        return;
    }
    s->buf[0] = s->inverse ? 0x3f : 0x3b;
    s->n_in = 1;
    uart_apply(s, true);
    wait_card(s);
}

static void rx_atr(struct slot *s, uint8_t b)
{
    s->buf[s->n_in++] = b;
    int len = atr_length(s->buf, s->n_in);
    if (len > ATR_MAX || (len < 0 && s->n_in >= ATR_MAX)) {
        card_fail(s, E_PROTO);
        return;
    }
    if (len > 0 && s->n_in == (uint16_t)len) {
        atr_done(s);
        return;
    }
    wait_card(s);
}

static void rx_pps(struct slot *s, uint8_t b)
{
    s->buf[s->n_in++] = b;
    if (s->n_in == 1 && b != 0xff) {
        card_fail(s, E_PROTO);
        return;
    }
    if (s->n_in >= 2 && s->n_in == pps_length(s->buf[1])) {
        uint8_t ta1;
        if (!pps_outcome(s->pps_req, s->n_pps, s->buf, s->n_in, &ta1)) {
            card_fail(s, E_PROTO);
            return;
        }
        disarm(s);
        /* The new Fi/Di applies right after the answer. */
        s->ta1 = ta1;
        uart_apply(s, true);
        answer_card(s);
        return;
    }
    wait_card(s);
}

/*
 * Starts one T=0 TPDU: s->hdr set, n_cmd command bytes in buf; response data goes to buf from
 * n_in on (ne = n_in + P3, P3 = 0 meaning 256). Measured from the first header character.
 */
static void t0_run(struct slot *s, uint16_t n_cmd)
{
    s->n_cmd = n_cmd;
    s->data_out = n_cmd > 0;
    s->n_sent = 0;
    s->ne = (uint16_t)(s->n_in + (s->hdr[4] ? s->hdr[4] : 256));
    s->want = 0;
    s->rx_errors = 0;
    s->phase = PH_T0_HDR;
    s->mark_start = true;
    tx_begin(s, s->hdr, 5);
}

/* CLA of GET RESPONSE on the command's logical channel (first and further interindustry forms). */
static uint8_t get_response_cla(uint8_t cla) { return (cla & 0x40u) ? (uint8_t)(0x40u | (cla & 0x0fu)) : (uint8_t)(cla & 0x03u); }

/*
 * APDU verb, after each TPDU's SW2: as the host's T=0 APDU layer does, repeat a case 2 command
 * with P3 = xx after 6Cxx, send GET RESPONSE while the card answers 61xx (repeated with P3 = xx
 * after a 6Cxx), and answer the data and the last SW. Stops, answering 61xx, before the data
 * would pass APDU_DATA_MAX bytes or after APDU_MAX_GET_RESPONSES; the host continues with TPDU.
 */
static void apdu_done(struct slot *s);

static void apdu_next(struct slot *s)
{
    s->apdu_us = sat32((uint64_t)s->apdu_us + (uint32_t)(hal_micros() - s->t_start));
    uint8_t sw1 = s->sw[0], sw2 = s->sw[1];
    uint16_t xx = sw2 ? sw2 : 256;
    if (sw1 == 0x6c && s->apdu_step == APDU_CMD && s->apdu_case2) {
        s->apdu_step = APDU_CMD_AGAIN;
        s->hdr[4] = sw2;
        s->n_in = 0; /* the repeat's answer replaces anything the first one sent */
        t0_run(s, 0);
        return;
    }
    if (sw1 == 0x6c && s->apdu_step == APDU_GR) {
        if (s->apdu_base + xx > APDU_DATA_MAX) {
            s->n_in = s->apdu_base;
            s->sw[0] = 0x61; /* the card holds xx bytes: the host fetches them */
            apdu_done(s);
            return;
        }
        s->apdu_step = APDU_GR_AGAIN;
        s->hdr[4] = sw2;
        s->n_in = s->apdu_base;
        t0_run(s, 0);
        return;
    }
    if (sw1 == 0x61 && s->apdu_grs < APDU_MAX_GET_RESPONSES && s->n_in + xx <= APDU_DATA_MAX) {
        s->apdu_grs++;
        s->apdu_step = APDU_GR;
        s->apdu_base = s->n_in;
        s->hdr[0] = get_response_cla(s->apdu_cla);
        s->hdr[1] = 0xc0;
        s->hdr[2] = 0x00;
        s->hdr[3] = 0x00;
        s->hdr[4] = sw2;
        t0_run(s, 0);
        return;
    }
    apdu_done(s);
}

/* ISO 7816-3 §10.3.3: NULL, INS, INS xor FF, SW1; anything else breaks the protocol. */
static void rx_procedure(struct slot *s, uint8_t b)
{
    uint8_t ins = s->hdr[1];
    uint8_t xins = (uint8_t)(ins ^ 0xffu);
    if (b == 0x60) {
        wait_card(s);
        return;
    }
    if (b == ins || b == xins) {
        bool all = b == ins;
        if (s->data_out) {
            uint16_t left = (uint16_t)(s->n_cmd - s->n_sent);
            if (left == 0) {
                card_fail(s, E_PROTO);
                return;
            }
            s->want = all ? left : 1;
            s->phase = PH_T0_DATA_TX;
            disarm(s);
            tx_begin(s, s->buf + s->n_sent, s->want);
        } else {
            uint16_t left = (uint16_t)(s->ne - s->n_in);
            if (left == 0) {
                card_fail(s, E_PROTO);
                return;
            }
            s->want = all ? left : 1;
            s->phase = PH_T0_DATA_RX;
            wait_card(s);
        }
        return;
    }
    if ((b & 0xf0u) == 0x60 || (b & 0xf0u) == 0x90) {
        s->sw[0] = b;
        s->phase = PH_T0_SW2;
        wait_card(s);
        return;
    }
    card_fail(s, E_PROTO);
}

void engine_rx(struct slot *s, uint8_t raw, bool parity_ok)
{
    switch (s->phase) {
    case PH_ATR:
    case PH_PPS_RX:
    case PH_T0_PROC:
    case PH_T0_DATA_RX:
    case PH_T0_SW2:
        break;
    default:
        return; /* nobody asked the card: ignore */
    }
    if (s->tx_n != 0) return;
    s->rx_seen = true;
    s->t_last_rx = hal_micros();
    /* Before any switch of Fi/Di this character may cause (PPS): it ran at the current etu. */
    s->turn_us = us_for_etu(s, TURNAROUND_WAIT_ETU);
    if (s->phase == PH_ATR && s->n_in == 0) {
        rx_ts(s, raw, parity_ok);
        return;
    }
    if (!parity_ok) {
        /* The HAL signalled the error (NACK); the card repeats the character. */
        if (++s->rx_errors > CHAR_REPEATS) {
            card_fail(s, E_PROTO);
            return;
        }
        wait_card(s);
        return;
    }
    s->rx_errors = 0;
    uint8_t b = line_byte(s, raw);
    switch (s->phase) {
    case PH_ATR:
        rx_atr(s, b);
        break;
    case PH_PPS_RX:
        rx_pps(s, b);
        break;
    case PH_T0_PROC:
        rx_procedure(s, b);
        break;
    case PH_T0_DATA_RX:
        s->buf[s->n_in++] = b;
        if (--s->want == 0) s->phase = PH_T0_PROC;
        wait_card(s);
        break;
    case PH_T0_SW2:
        s->sw[1] = b;
        disarm(s);
        if (s->verb == VERB_APDU || s->verb == VERB_APDUS) apdu_next(s);
        else answer_card(s);
        break;
    default:
        break;
    }
}

/* ---- timers ---- */

void engine_timer(struct slot *s)
{
    /* A late event for a timer that was re-armed or stopped meanwhile is ignored. */
    if (!s->timer_on) return;
    int32_t early = (int32_t)(s->deadline - hal_micros());
    if (early > 0) {
        /* Fired before its deadline (a HAL rounding a short wait): wait for the rest. */
        hal_timer_start(s->index, (uint32_t)early, (enum hal_wait)s->timer_kind);
        return;
    }
    s->timer_on = false;
    if (s->turn_wait) {
        s->turn_wait = false;
        tx_now(s);
        return;
    }
    switch (s->phase) {
    case PH_OFF_TIME:
        power_on(s, s->cls);
        s->phase = PH_SETTLE;
        arm(s, hal_caps()->vcc_settle_us, HAL_WAIT_DELAY);
        break;
    case PH_SETTLE:
        answer_ok(s);
        break;
    case PH_DISCHARGE:
        power_on(s, s->cls);
        s->phase = PH_RESET_SETTLE;
        arm(s, hal_caps()->vcc_settle_us, HAL_WAIT_DELAY);
        break;
    case PH_RESET_SETTLE:
        clock_start(s);
        break;
    case PH_RST_LOW:
        hal_card_rst(s->index, true);
        s->phase = PH_ATR;
        s->n_in = 0;
        /* The ATR must start within 40000 clocks of RST going high. */
        arm(s, us_for_clocks(ATR_START_CLOCKS, s->clock_hz) + us_for_etu(s, WAIT_SLACK_ETU), HAL_WAIT_CARD);
        break;
    case PH_ATR:
    case PH_PPS_RX:
        /* Nothing at all is MUTE; a started answer that stops is a broken one. */
        card_fail(s, s->n_in == 0 ? E_MUTE : E_PROTO);
        break;
    case PH_T0_PROC:
    case PH_T0_DATA_RX:
    case PH_T0_SW2:
        card_fail(s, E_TIMEOUT);
        break;
    default:
        break;
    }
}

/* ---- verbs ---- */

static void start_power(struct slot *s, char cls)
{
    if (cls == 0) {
        deactivate(s);
        if (s->state == ST_FAULT) s->state = s->present ? ST_OFF : ST_EMPTY;
        answer_ok(s);
        return;
    }
    if (s->state == ST_FAULT) {
        answer_err(s, E_FAULT);
        return;
    }
    if (!s->present) {
        answer_err(s, E_NOCARD);
        return;
    }
    if (s->vcc) {
        if (s->vcc == cls) answer_ok(s);
        else answer_err(s, E_STATE);
        return;
    }
    const char *c = hal_caps()->classes;
    bool have = false;
    for (; *c; c++)
        if (*c == cls) have = true;
    if (!have) {
        answer_err(s, E_UNSUPPORTED);
        return;
    }
    s->state = ST_ON;
    uint32_t off_for = hal_micros() - s->t_vcc_off;
    if (s->vcc_was_on && off_for < VCC_OFF_MIN_US) {
        /* ISO 7816-3 §6.4: VCC stays off long enough for the card to reset. */
        s->cls = cls;
        s->phase = PH_OFF_TIME;
        arm(s, VCC_OFF_MIN_US - off_for, HAL_WAIT_DELAY);
        return;
    }
    power_on(s, cls);
    s->phase = PH_SETTLE;
    arm(s, hal_caps()->vcc_settle_us, HAL_WAIT_DELAY);
}

static void start_clock(struct slot *s, uint32_t hz)
{
    const struct hal_caps *c = hal_caps();
    if (s->state == ST_FAULT) {
        answer_err(s, E_FAULT);
        return;
    }
    if (hz < c->fmin_hz || hz > c->fmax_hz) {
        answer_err(s, E_UNSUPPORTED);
        return;
    }
    s->clock_hz = hal_card_clock_set(s->index, hz);
    out_begin(s->id, s->index, false);
    out_word("OK");
    out_dec(s->clock_hz);
    out_end();
    done(s);
}

static void start_reset(struct slot *s, bool warm)
{
    if (s->state == ST_FAULT) {
        answer_err(s, E_FAULT);
        return;
    }
    if (!s->present) {
        answer_err(s, E_NOCARD);
        return;
    }
    if ((s->state != ST_ON && s->state != ST_READY) || (warm && s->state != ST_READY)) {
        answer_err(s, E_STATE);
        return;
    }
    reset_begin(s, warm);
}

/* PPS, TPDU and APDU need a present, reset card and no fault; otherwise answers the error. */
static bool ready_for_command(struct slot *s)
{
    if (s->state == ST_FAULT) {
        answer_err(s, E_FAULT);
        return false;
    }
    if (!s->present) {
        answer_err(s, E_NOCARD);
        return false;
    }
    if (s->state != ST_READY) {
        answer_err(s, E_STATE);
        return false;
    }
    return true;
}

static void start_pps(struct slot *s, const struct request *r)
{
    const struct hal_caps *c = hal_caps();
    if (!ready_for_command(s)) return;
    if (!s->pps_allowed) {
        answer_err(s, E_STATE);
        return;
    }
    switch (pps_check_request(r->data, r->len, c->ta1, c->n_ta1)) {
    case PPS_CHECK_ARG:
        answer_err(s, E_ARG);
        return;
    case PPS_CHECK_UNSUPPORTED:
        answer_err(s, E_UNSUPPORTED);
        return;
    default:
        break;
    }
    s->pps_allowed = false;
    for (uint16_t i = 0; i < r->len; i++) s->pps_req[i] = r->data[i];
    s->n_pps = (uint8_t)r->len;
    s->phase = PH_PPS_TX;
    s->mark_start = true;
    tx_begin(s, s->pps_req, s->n_pps);
}

/* Runs one command TPDU: header (P3 included) and its n_cmd data bytes. */
static void run_command(struct slot *s, const uint8_t hdr[5], const uint8_t *data, uint16_t n_cmd)
{
    s->t_op = hal_micros();
    s->pps_allowed = false;
    for (int i = 0; i < 5; i++) s->hdr[i] = hdr[i];
    for (uint16_t i = 0; i < n_cmd; i++) s->buf[i] = data[i];
    s->n_in = 0;
    t0_run(s, n_cmd);
}

static void start_tpdu(struct slot *s, const struct request *r)
{
    if (!ready_for_command(s)) return;
    run_command(s, r->data, r->data + 5, (uint16_t)(r->len - 5));
}

/* One APDU: the command as its T=0 TPDU (case 1: P3 = 00; case 4: without Le); apdu_next() goes on. */
static void apdu_begin(struct slot *s, const uint8_t *d, uint16_t len)
{
    const uint8_t hdr[5] = {d[0], d[1], d[2], d[3], len >= 5 ? d[4] : 0};
    s->apdu_cla = d[0];
    s->apdu_case2 = len == 5;
    s->apdu_step = APDU_CMD;
    s->apdu_grs = 0;
    s->apdu_base = 0;
    run_command(s, hdr, d + 5, len > 5 ? d[4] : 0);
}

static void start_apdu(struct slot *s, const struct request *r)
{
    if (!ready_for_command(s)) return;
    s->apdu_us = 0;
    apdu_begin(s, r->data, r->len);
}

/* APDUS verb (PROTOCOL.md §4a): the request's APDUs kept in the slot, run one after the other. */
static void start_apdus(struct slot *s, const struct request *r)
{
    if (!ready_for_command(s)) return;
    uint16_t off = 0;
    for (uint8_t i = 0; i < r->n_apdus; i++) {
        s->batch_len[i] = r->apdu_len[i];
        for (uint16_t k = 0; k < r->apdu_len[i]; k++) s->batch[off + k] = r->batch[off + k];
        off = (uint16_t)(off + r->apdu_len[i]);
    }
    s->batch_n = r->n_apdus;
    s->batch_i = 0;
    s->batch_off = 0;
    s->apdu_us = 0;
    apdu_begin(s, s->batch, s->batch_len[0]);
}

/*
 * An APDU is complete. APDUS goes on with the next one while the answer is a bare 9000 (no
 * data); anything else, or the last APDU, is answered.
 */
static void apdu_done(struct slot *s)
{
    if (s->verb == VERB_APDUS && s->n_in == 0 && s->sw[0] == 0x90 && s->sw[1] == 0x00 && s->batch_i + 1u < s->batch_n) {
        s->batch_off = (uint16_t)(s->batch_off + s->batch_len[s->batch_i]);
        s->batch_i++;
        apdu_begin(s, s->batch + s->batch_off, s->batch_len[s->batch_i]);
        return;
    }
    answer_card(s);
}

void engine_start(struct slot *s, const struct request *r)
{
    s->busy = true;
    s->id = r->id;
    s->verb = r->verb;
    switch (r->verb) {
    case VERB_POWER:
        start_power(s, r->cls);
        break;
    case VERB_CLOCK:
        start_clock(s, r->hz);
        break;
    case VERB_RESET:
        start_reset(s, r->warm);
        break;
    case VERB_PPS:
        start_pps(s, r);
        break;
    case VERB_TPDU:
        start_tpdu(s, r);
        break;
    case VERB_APDU:
        start_apdu(s, r);
        break;
    case VERB_APDUS:
        start_apdus(s, r);
        break;
    default:
        answer_err(s, E_VERB);
        break;
    }
}

void engine_init(struct slot *s, uint8_t index, bool present, uint32_t clock_hz)
{
    *s = (struct slot){0};
    s->index = index;
    s->present = present;
    s->state = present ? ST_OFF : ST_EMPTY;
    s->clock_hz = clock_hz;
    s->ta1 = TA1_DEFAULT;
    s->wi = WI_DEFAULT;
    /* Contacts in the deactivated state until someone asks for power. */
    hal_card_rst(index, false);
    hal_card_clock_run(index, false);
    hal_card_io(index, HAL_IO_LOW);
    hal_card_vcc(index, 0);
}

/* ---- card detect and faults ---- */

static void abort_request(struct slot *s, enum wire_err e)
{
    if (s->busy) answer_err(s, e);
}

void engine_card_detect(struct slot *s, bool present)
{
    if (present == s->present) return;
    s->present = present;
    if (present) {
        if (s->state == ST_EMPTY) s->state = ST_OFF;
    } else {
        deactivate(s);
        s->state = ST_EMPTY;
    }
    out_begin(0, s->index, true);
    out_word("CARD");
    out_word(present ? "IN" : "OUT");
    out_end();
    if (!present) abort_request(s, E_NOCARD);
}

void engine_fault(struct slot *s)
{
    deactivate(s);
    s->state = ST_FAULT;
    abort_request(s, E_FAULT);
}

void engine_events_lost(struct slot *s)
{
    if (!s->busy) return;
    deactivate(s);
    answer_err(s, E_OVERRUN);
}

void engine_abort(struct slot *s)
{
    deactivate(s);
    answer_err(s, E_STATE);
}
