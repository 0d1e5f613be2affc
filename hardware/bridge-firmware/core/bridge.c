/*
 * The line-protocol front of the bridge (PROTOCOL.md §2-6): parses each request line in the
 * order §11 gives (overflow, CRC, tokens, id, slot field, verb, arguments, slot range, busy),
 * answers INFO and STATUS at once, hands slot verbs to the slot engine, and emits events.
 */
#include "bridge.h"

#include "../hal.h"
#include "line.h"
#include "slot.h"

static struct slot slots[BRIDGE_SLOTS];
static struct line_in line_in;
static struct request req;

static uint8_t nslots(void)
{
    uint8_t n = hal_caps()->slots;
    return n > BRIDGE_SLOTS ? BRIDGE_SLOTS : n;
}

static void err_line(uint16_t id, int slot, enum wire_err e)
{
    out_begin(id, slot, false);
    out_word("ERR");
    out_word(wire_err_name(e));
    out_end();
}

/* ---- tokens ---- */

/* id, slot, verb and the arguments: APDUS has the most (BATCH_MAX APDUs). */
#define MAX_TOK (3 + BATCH_MAX)

struct tok {
    const char *s;
    size_t n;
};

/* Splits on single spaces; every token non-empty, printable ASCII without '*'. */
static bool tokenize(const char *b, size_t n, struct tok *t, size_t *count)
{
    size_t c = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || b[i] == ' ') {
            if (i == start) return false;
            if (c < MAX_TOK) {
                t[c].s = b + start;
                t[c].n = i - start;
            }
            c++;
            start = i + 1;
            continue;
        }
        unsigned char ch = (unsigned char)b[i];
        if (ch < 0x21 || ch > 0x7e || ch == '*') return false;
    }
    *count = c;
    return true;
}

static bool is_word(const struct tok *t)
{
    if (t->n < 1 || t->n > 12) return false;
    for (size_t i = 0; i < t->n; i++)
        if (t->s[i] < 'A' || t->s[i] > 'Z') return false;
    return true;
}

static const char *const VERBS[] = {"INFO", "STATUS", "POWER", "CLOCK", "RESET", "PPS", "TPDU", "APDU", "APDUS"};

/* ---- INFO / STATUS ---- */

static void answer_info(uint16_t id)
{
    const struct hal_caps *c = hal_caps();
    out_begin(id, -1, false);
    out_word("OK");
    out_kv_dec("PROTO=", BRIDGE_PROTO);
    out_kv_str("FW=", c->firmware);
    out_kv_dec("SLOTS=", nslots());
    out_kv_dec("FMIN=", c->fmin_hz);
    out_kv_dec("FMAX=", c->fmax_hz);
    out_kv_dec("FDEF=", c->fdef_hz);
    out_kv_str("CLASSES=", c->classes);
    out_kv_hex("TA1=", c->ta1, c->n_ta1);
    out_kv_dec("LINE=", LINE_IN_MAX);
    out_kv_dec("APDU=", 1);
    out_kv_dec("BATCH=", BATCH_MAX);
    out_kv_dec("CAP=", c->op_cap_ms ? c->op_cap_ms : OP_CAP_MS_DEFAULT);
    out_end();
}

static const char *const STATES[] = {"EMPTY", "OFF", "ON", "READY", "FAULT"};

static void answer_status(uint16_t id, const struct slot *s)
{
    char vcc[2] = {s->vcc, 0};
    out_begin(id, s->index, false);
    out_word("OK");
    out_word(STATES[s->state]);
    out_word(s->busy ? "BUSY" : "IDLE");
    out_id(s->last_id);
    out_kv_str("VCC=", s->vcc ? vcc : "OFF");
    out_kv_dec("CLK=", s->clock_hz);
    out_kv_hex("TA1=", &s->ta1, 1);
    out_end();
}

/* ---- requests ---- */

/* Short APDU: case 1 (4 bytes), 2 (5), 3 (5 + Lc), 4 (6 + Lc), Lc 1..255. */
static bool apdu_shape_ok(const uint8_t *d, size_t len)
{
    return len == 4 || len == 5 || (len > 5 && d[4] != 0 && (len == 5u + d[4] || len == 6u + d[4]));
}

/* Arguments of a slot verb; false = ERR ARG. */
static bool decode_args(const struct tok *a, size_t nargs)
{
    size_t len;
    switch (req.verb) {
    case VERB_STATUS:
        return nargs == 0;
    case VERB_POWER:
        if (nargs != 1) return false;
        if (tok_eq(a->s, a->n, "OFF")) req.cls = 0;
        else if (a->n == 1 && (a->s[0] == 'A' || a->s[0] == 'B' || a->s[0] == 'C')) req.cls = a->s[0];
        else return false;
        return true;
    case VERB_CLOCK:
        return nargs == 1 && parse_dec_u32(a->s, a->n, &req.hz);
    case VERB_RESET:
        if (nargs != 1) return false;
        if (tok_eq(a->s, a->n, "COLD")) req.warm = false;
        else if (tok_eq(a->s, a->n, "WARM")) req.warm = true;
        else return false;
        return true;
    case VERB_PPS:
        if (nargs != 1 || !parse_hex_bytes(a->s, a->n, req.data, PPS_MAX, &len) || len < 3) return false;
        req.len = (uint16_t)len;
        return true;
    case VERB_TPDU:
        if (nargs != 1 || !parse_hex_bytes(a->s, a->n, req.data, TPDU_MAX, &len)) return false;
        req.len = (uint16_t)len;
        /* T=0 shape: a 5-byte header, or a header whose P3 counts the data bytes that follow. */
        return len == 5 || (len > 5 && req.data[4] == len - 5);
    case VERB_APDU:
        if (nargs != 1 || !parse_hex_bytes(a->s, a->n, req.data, APDU_MAX, &len)) return false;
        req.len = (uint16_t)len;
        return apdu_shape_ok(req.data, len);
    case VERB_APDUS: {
        /* 1..BATCH_MAX APDUs, each of the APDU verb's shape (PROTOCOL.md §4a). */
        if (nargs < 1 || nargs > BATCH_MAX) return false;
        size_t off = 0;
        for (size_t i = 0; i < nargs; i++) {
            if (!parse_hex_bytes(a[i].s, a[i].n, req.batch + off, APDU_MAX, &len) || !apdu_shape_ok(req.batch + off, len)) return false;
            req.apdu_len[i] = (uint16_t)len;
            off += len;
        }
        req.n_apdus = (uint8_t)nargs;
        return true;
    }
    default:
        return false;
    }
}

static void on_line(char *line, size_t n)
{
    /* CRC: the line ends in " *XXXX" and XXXX is the CRC of everything before it. */
    uint16_t crc;
    if (n < 6 || line[n - 6] != ' ' || line[n - 5] != '*' || !parse_hex_u16(line + n - 4, 4, 4, &crc) ||
        crc != crc16_ccitt_false((const uint8_t *)line, n - 6)) {
        err_line(0, -1, E_CRC);
        return;
    }
    size_t bn = n - 6;
    struct tok t[MAX_TOK];
    size_t count;
    if (!tokenize(line, bn, t, &count)) {
        err_line(0, -1, E_SYNTAX);
        return;
    }
    uint16_t id;
    if (!parse_hex_u16(t[0].s, t[0].n, 4, &id) || id == 0) {
        err_line(0, -1, E_SYNTAX);
        return;
    }
    int slot;
    if (count < 2 || t[1].n != 1 || (t[1].s[0] != '-' && hex_val(t[1].s[0]) < 0)) {
        err_line(id, -1, E_SYNTAX);
        return;
    }
    slot = t[1].s[0] == '-' ? -1 : hex_val(t[1].s[0]);
    if (count < 3 || !is_word(&t[2])) {
        err_line(id, slot, E_SYNTAX);
        return;
    }
    int verb = -1;
    for (int v = 0; v < (int)(sizeof VERBS / sizeof VERBS[0]); v++)
        if (tok_eq(t[2].s, t[2].n, VERBS[v])) verb = v;
    if (verb < 0) {
        err_line(id, slot, E_VERB);
        return;
    }
    size_t nargs = count - 3;
    if (verb == VERB_INFO) {
        if (slot >= 0) err_line(id, slot, E_SLOT);
        else if (nargs != 0) err_line(id, slot, E_ARG);
        else answer_info(id);
        return;
    }
    if (slot < 0) {
        err_line(id, slot, E_SLOT);
        return;
    }
    req.id = id;
    req.verb = (uint8_t)verb;
    if (!decode_args(&t[3], nargs)) {
        err_line(id, slot, E_ARG);
        return;
    }
    if (slot >= nslots()) {
        err_line(id, slot, E_SLOT);
        return;
    }
    struct slot *s = &slots[slot];
    if (verb == VERB_STATUS) {
        answer_status(id, s);
        return;
    }
    if (s->busy) {
        /* POWER OFF always deactivates: the host's way out of a request that does not end. */
        if (verb != VERB_POWER || req.cls != 0) {
            err_line(id, slot, E_BUSY);
            return;
        }
        engine_abort(s);
    }
    engine_start(s, &req);
}

static void on_drop(bool overrun) { err_line(0, -1, overrun ? E_OVERRUN : E_LINE); }

/* ---- entry points ---- */

void bridge_init(uint32_t present_mask)
{
    line_in.len = 0;
    line_in.overflow = false;
    line_in.overrun = false;
    const struct hal_caps *c = hal_caps();
    for (uint8_t i = 0; i < nslots(); i++) engine_init(&slots[i], i, (present_mask >> i) & 1u, hal_card_clock_set(i, c->fdef_hz));
}

void bridge_host_rx(const uint8_t *data, size_t n) { line_feed(&line_in, data, n, on_line, on_drop); }

void bridge_host_overrun(void) { line_overrun(&line_in); }

void bridge_events_lost(int slot)
{
    for (uint8_t i = 0; i < nslots(); i++)
        if (slot < 0 || slot == i) engine_events_lost(&slots[i]);
}

void bridge_card_rx(uint8_t slot, uint8_t raw, bool parity_ok)
{
    if (slot < nslots()) engine_rx(&slots[slot], raw, parity_ok);
}

void bridge_card_tx_done(uint8_t slot, bool nacked)
{
    if (slot < nslots()) engine_tx_done(&slots[slot], nacked);
}

void bridge_timer(uint8_t slot)
{
    if (slot < nslots()) engine_timer(&slots[slot]);
}

void bridge_card_detect(uint8_t slot, bool present)
{
    if (slot < nslots()) engine_card_detect(&slots[slot], present);
}

void bridge_fault(int slot, const char *code)
{
    if (slot >= nslots()) return;
    out_begin(0, slot, true);
    out_word("FAULT");
    out_word(code);
    out_end();
    if (slot >= 0) {
        engine_fault(&slots[slot]);
        return;
    }
    /* Bridge-wide: every powered slot. */
    for (uint8_t i = 0; i < nslots(); i++)
        if (slots[i].vcc) engine_fault(&slots[i]);
}
