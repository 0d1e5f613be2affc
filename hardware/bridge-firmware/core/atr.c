#include "atr.h"

#include "config.h"

/* Fi by TA1 high nibble, 0 = reserved. */
static const uint16_t FI[16] = {372, 372, 558, 744, 1116, 1488, 1860, 0, 0, 512, 768, 1024, 1536, 2048, 0, 0};
/* Di by TA1 low nibble, 0 = reserved. */
static const uint8_t DI[16] = {0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0};

bool ta1_valid(uint8_t ta1) { return FI[ta1 >> 4] != 0 && DI[ta1 & 0x0f] != 0; }
uint16_t ta1_fi(uint8_t ta1) { return FI[ta1 >> 4]; }
uint8_t ta1_di(uint8_t ta1) { return DI[ta1 & 0x0f]; }

static unsigned bits4(unsigned y) { return (y & 1u) + ((y >> 1) & 1u) + ((y >> 2) & 1u) + ((y >> 3) & 1u); }

struct layout {
    int length;             /* -1 = not known yet */
    int ta1, tc1, ta2, tc2; /* -1 = absent */
    int first_protocol;     /* T of TD1, 0 without TD1 */
    bool tck;               /* a TDi offers T != 0, so TCK ends the ATR */
};

/* Walks T0 and the TDi chain; mirrors layout() in src/core/bridge-protocol/iso7816.ts. */
static void walk(const uint8_t *b, size_t n, struct layout *l)
{
    l->length = -1;
    l->ta1 = l->tc1 = l->ta2 = l->tc2 = -1;
    l->first_protocol = 0;
    l->tck = false;
    if (n < 2) return;
    unsigned k = b[1] & 0x0fu;
    unsigned y = b[1] >> 4;
    size_t p = 2;
    unsigned i = 1;
    bool any_td = false;
    for (;;) {
        if (n < p + bits4(y)) return;
        if (y & 1u) {
            if (i == 1) l->ta1 = b[p];
            if (i == 2) l->ta2 = b[p];
            p++;
        }
        if (y & 2u) p++;
        if (y & 4u) {
            if (i == 1) l->tc1 = b[p];
            if (i == 2) l->tc2 = b[p];
            p++;
        }
        if (!(y & 8u)) break;
        uint8_t td = b[p++];
        unsigned t = td & 0x0fu;
        if (!any_td) l->first_protocol = (int)t;
        any_td = true;
        if (t != 0) l->tck = true;
        y = td >> 4;
        i++;
        /* Past ATR_MAX the ATR is too long whatever follows: report a length that says so. */
        if (p > ATR_MAX) {
            l->length = (int)p + (int)k + 1;
            return;
        }
    }
    l->length = (int)(p + k + (l->tck ? 1u : 0u));
}

int atr_length(const uint8_t *b, size_t n)
{
    struct layout l;
    walk(b, n, &l);
    return l.length;
}

enum atr_error atr_parse(const uint8_t *b, size_t n, struct atr_info *out)
{
    if (n < 1 || (b[0] != 0x3b && b[0] != 0x3f)) return ATR_BAD_TS;
    struct layout l;
    walk(b, n, &l);
    if (l.length < 0 || n < (size_t)l.length) return ATR_TRUNCATED;
    if (n > (size_t)l.length || l.length > ATR_MAX) return ATR_TOO_LONG;
    if (l.tck) {
        /* T0 .. TCK xor to 0. */
        uint8_t x = 0;
        for (size_t i = 1; i < n; i++) x ^= b[i];
        if (x != 0) return ATR_BAD_TCK;
    }
    uint8_t ta1 = l.ta1 < 0 ? TA1_DEFAULT : (uint8_t)l.ta1;
    if (!ta1_valid(ta1)) return ATR_BAD_TA1;
    out->ta1 = ta1;
    out->guard_n = (l.tc1 < 0 || l.tc1 == 0xff) ? 0 : (uint8_t)l.tc1;
    /* TC2 is specific to T=0: it only means WI when TD1 announced T=0. */
    int tc2 = l.first_protocol == 0 ? l.tc2 : -1;
    out->wi = (tc2 <= 0) ? WI_DEFAULT : (uint8_t)tc2;
    /* TA2 b5 = 1 means implicit parameters, not TA1's (ISO 7816-3 §8.3). */
    out->specific = l.ta2 >= 0 && (l.ta2 & 0x10) == 0;
    out->specific_t = l.ta2 >= 0 ? (uint8_t)(l.ta2 & 0x0f) : 0;
    return ATR_OK;
}

size_t pps_length(uint8_t pps0) { return 3u + ((pps0 >> 4) & 1u) + ((pps0 >> 5) & 1u) + ((pps0 >> 6) & 1u); }

/* The TS parsePps(): PPSS, length from PPS0, PCK. */
static bool pps_well_formed(const uint8_t *b, size_t n)
{
    if (n < 2 || b[0] != 0xff) return false;
    if (n != pps_length(b[1])) return false;
    uint8_t x = 0;
    for (size_t i = 0; i < n; i++) x ^= b[i];
    return x == 0;
}

enum pps_check pps_check_request(const uint8_t *req, size_t n, const uint8_t *ta1_list, uint8_t n_ta1)
{
    if (!pps_well_formed(req, n)) return PPS_CHECK_ARG;
    uint8_t pps0 = req[1];
    /* This bridge runs T=0 only and has no use for PPS2/PPS3. */
    if ((pps0 & 0x0f) != 0 || (pps0 & 0x60) != 0) return PPS_CHECK_UNSUPPORTED;
    if (pps0 & 0x10) {
        for (uint8_t i = 0; i < n_ta1; i++)
            if (ta1_list[i] == req[2]) return PPS_CHECK_OK;
        return PPS_CHECK_UNSUPPORTED;
    }
    return PPS_CHECK_OK;
}

bool pps_outcome(const uint8_t *req, size_t n_req, const uint8_t *ans, size_t n_ans, uint8_t *ta1)
{
    if (!pps_well_formed(req, n_req) || !pps_well_formed(ans, n_ans)) return false;
    /* PPS0 b8 is reserved (0); PPS2/PPS3 only as echoes of the request's (ISO 7816-3 §9.3). */
    if (ans[1] & 0x80) return false;
    if ((ans[1] & 0x60) & ~(req[1] & 0x60)) return false;
    if ((ans[1] & 0x0f) != (req[1] & 0x0f)) return false;
    if (!(ans[1] & 0x10)) {
        *ta1 = TA1_DEFAULT;
        return true;
    }
    if (!(req[1] & 0x10) || ans[2] != req[2]) return false;
    *ta1 = ans[2];
    return true;
}
