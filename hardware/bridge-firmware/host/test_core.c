/*
 * Unit tests of the bridge core on the virtual-time card line (sim.c): the line protocol as
 * the host sees it, and the ISO 7816-3 character work as the card sees it. Run by
 * `make host-test` (and from npm test through test/hardware/firmware.test.ts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/bridge.h"
#include "../core/debounce.h"
#include "../core/line.h"
#include "sim.h"

static int checks, failures;
static const char *current;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        checks++;                                                                        \
        if (!(cond)) {                                                                   \
            failures++;                                                                  \
            printf("  FAIL %s (%s:%d): %s\n", current, __FILE__, __LINE__, #cond);        \
        }                                                                                \
    } while (0)

#define CHECK_EQ_STR(got, want)                                                          \
    do {                                                                                 \
        checks++;                                                                        \
        const char *g_ = (got), *w_ = (want);                                            \
        if (strcmp(g_, w_) != 0) {                                                       \
            failures++;                                                                  \
            printf("  FAIL %s (%s:%d): got \"%s\", want \"%s\"\n", current, __FILE__, __LINE__, g_, w_); \
        }                                                                                \
    } while (0)

#define CHECK_PREFIX(got, want)                                                          \
    do {                                                                                 \
        checks++;                                                                        \
        const char *g_ = (got), *w_ = (want);                                            \
        if (strncmp(g_, w_, strlen(w_)) != 0) {                                          \
            failures++;                                                                  \
            printf("  FAIL %s (%s:%d): got \"%s\", want prefix \"%s\"\n", current, __FILE__, __LINE__, g_, w_); \
        }                                                                                \
    } while (0)

/* ---- helpers ---- */

static unsigned next_id = 1;

/* Sends "<id> <rest>" and returns the reply without its id ("<slot> OK ..."). */
static const char *q(const char *rest)
{
    char body[4400];
    snprintf(body, sizeof body, "%X %s", next_id++, rest);
    const char *r = sim_call(body);
    if (!r) return "(no reply)";
    const char *sp = strchr(r, ' ');
    return sp ? sp + 1 : r;
}

/* The last token of a reply: the µs of RESET, PPS, TPDU. */
static unsigned long micros(const char *reply)
{
    const char *sp = strrchr(reply, ' ');
    return sp ? strtoul(sp + 1, NULL, 10) : 0;
}

/* The index of the first line (from `from`) starting with prefix, or -1. */
static long find_line(size_t from, const char *prefix)
{
    for (size_t i = from; i < sim_line_count(); i++)
        if (strncmp(sim_line(i), prefix, strlen(prefix)) == 0) return (long)i;
    return -1;
}

static struct card_cfg card(void)
{
    struct card_cfg c;
    card_cfg_default(&c);
    return c;
}

static void boot1(const struct card_cfg *c)
{
    const struct card_cfg *cards[1] = {c};
    sim_boot(1, cards);
}

static void activate(void)
{
    CHECK_EQ_STR(q("0 POWER C"), "0 OK");
    CHECK_PREFIX(q("0 RESET COLD"), "0 OK ");
}

static void no_violations(uint8_t slots)
{
    for (uint8_t i = 0; i < slots; i++) {
        if (sim_stats(i)->violations) printf("  slot %u: %s\n", i, sim_stats(i)->violation);
        CHECK(sim_stats(i)->violations == 0);
    }
    CHECK(sim_bad_lines() == 0);
}

/* The contact trace of a slot as a string of events, e.g. "R0 K0 VC I1". */
static void trace_str(uint8_t slot, char *out, size_t cap)
{
    const struct trace_ev *t;
    size_t n = sim_trace(slot, &t);
    size_t len = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && len + 8 < cap; i++) {
        if (t[i].what == 'T' || t[i].what == 'X') continue;
        if (t[i].what == 'V') len += (size_t)snprintf(out + len, cap - len, "%sV%c", len ? " " : "", t[i].v ? (char)t[i].v : '0');
        else len += (size_t)snprintf(out + len, cap - len, "%s%c%u", len ? " " : "", t[i].what, t[i].v);
    }
}

static uint64_t trace_time(uint8_t slot, char what, uint32_t v)
{
    const struct trace_ev *t;
    size_t n = sim_trace(slot, &t);
    for (size_t i = 0; i < n; i++)
        if (t[i].what == what && t[i].v == v) return t[i].t;
    return 0;
}

/* ---- line protocol ---- */

static void test_crc(void)
{
    CHECK(crc16_ccitt_false((const uint8_t *)"123456789", 9) == 0x29b1);
    /* Lines of the worked example in PROTOCOL.md §10. */
    CHECK(crc16_ccitt_false((const uint8_t *)"11 0 OK", 7) == 0x3cc8);
    CHECK(crc16_ccitt_false((const uint8_t *)"! 3 CARD OUT", 12) == 0x2d85);
}

static void test_worked_example(void)
{
    struct card_cfg c = card();
    const struct card_cfg *cards[4] = {&c, &c, NULL, &c};
    sim_boot(4, cards);
    const char *lines[] = {"11 0 POWER C *E441\n", "12 0 CLOCK 5000000 *128A\n", "13 0 RESET COLD *762D\n", "14 0 PPS FF109679 *0F31\n",
                           "15 0 TPDU 80EE000004CAFEBABE *D757\n", "16 0 TPDU 00C0000004 *DFC3\n", "17 0 TPDU 80CA000008 *B61B\n",
                           "18 0 STATUS *B8BD\n", "19 2 POWER C *80A8\n"};
    const char *want[] = {"11 0 OK", "12 0 OK 5000000", "13 0 OK 3B14964543484F ", "14 0 OK FF109679 ", "15 0 OK 6104 ",
                          "16 0 OK CAFEBABE9000 ", "17 0 OK 6C10 ", "18 0 OK READY IDLE 17 VCC=C CLK=5000000 TA1=96", "19 2 ERR NOCARD"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        sim_send(lines[i], strlen(lines[i]));
        char id[4];
        snprintf(id, sizeof id, "%.2s", lines[i]);
        const char *r = sim_wait_reply(id);
        CHECK(r != NULL);
        if (r) CHECK_PREFIX(r, want[i]);
    }
    sim_send("1A - INFQ *2E5F\n", 16);
    CHECK_EQ_STR(sim_wait_reply("0"), "0 - ERR CRC");
    sim_send("1B 0 TPDU 80CA00 *4251\n", 23);
    CHECK_EQ_STR(sim_wait_reply("1B"), "1B 0 ERR ARG");
    /* The reset took 800 clocks + 7 characters of 12 etu at 5 MHz: about 6.4 ms. */
    no_violations(4);
}

static void test_parser_errors(void)
{
    struct card_cfg c = card();
    const struct card_cfg *cards[2] = {&c, &c};
    sim_boot(2, cards);
    static char big[4400];
    memset(big, 'Z', 4300);
    big[4300] = '\n';
    sim_send(big, 4301);
    CHECK_EQ_STR(sim_wait_reply("0"), "0 - ERR LINE");
    /* 4199 bytes of content is the most a line may hold (INFO LINE=4200, for APDUS). */
    memset(big, 'Z', 4199);
    big[4199] = '\n';
    sim_send(big, 4200);
    CHECK_EQ_STR(sim_wait_reply("0"), "0 - ERR CRC");
    sim_send("5 - INFO\n", 9);
    CHECK_EQ_STR(sim_wait_reply("0"), "0 - ERR CRC");
    sim_send("5 - INFO *ffff\n", 15);
    CHECK_EQ_STR(sim_wait_reply("0"), "0 - ERR CRC");
    /* CRC hex in lower case is fine; CR before LF is ignored. */
    char line[128];
    snprintf(line, sizeof line, "6 - INFO *%04x\r\n", crc16_ccitt_false((const uint8_t *)"6 - INFO", 8));
    sim_send(line, strlen(line));
    CHECK_PREFIX(sim_wait_reply("6"), "6 - OK PROTO=1 FW=test-0.1.0 SLOTS=2 FMIN=1000000 FMAX=20000000 FDEF=4000000 CLASSES=ABC TA1=1112131415161891929394959697 LINE=4200 APDU=1 BATCH=8 CAP=");
    sim_request("7  - INFO");
    CHECK_EQ_STR(sim_wait_reply("0"), "0 - ERR SYNTAX");
    sim_request("0 - INFO");
    CHECK_EQ_STR(sim_wait_reply("0"), "0 - ERR SYNTAX");
    sim_request("12345 - INFO");
    CHECK_EQ_STR(sim_wait_reply("0"), "0 - ERR SYNTAX");
    sim_request("8 10 INFO");
    CHECK_EQ_STR(sim_wait_reply("8"), "8 - ERR SYNTAX");
    sim_request("9 1 info");
    CHECK_EQ_STR(sim_wait_reply("9"), "9 1 ERR SYNTAX");
    sim_request("52 1 FROB");
    CHECK_EQ_STR(sim_wait_reply("52"), "52 1 ERR VERB");
    sim_request("00a1 - INFO");
    CHECK_PREFIX(sim_wait_reply("A1"), "A1 - OK PROTO=1");
    CHECK_EQ_STR(q("0 INFO"), "0 ERR SLOT");
    CHECK_EQ_STR(q("- STATUS"), "- ERR SLOT");
    CHECK_EQ_STR(q("- INFO X"), "- ERR ARG");
    CHECK_EQ_STR(q("0 POWER"), "0 ERR ARG");
    CHECK_EQ_STR(q("0 POWER D"), "0 ERR ARG");
    /* ARG (shape) before SLOT (range). */
    CHECK_EQ_STR(q("9 POWER D"), "9 ERR ARG");
    CHECK_EQ_STR(q("9 POWER A"), "9 ERR SLOT");
    CHECK_EQ_STR(q("0 TPDU 80CA00"), "0 ERR ARG");
    CHECK_EQ_STR(q("0 TPDU 80CA0000100"), "0 ERR ARG");
    CHECK_EQ_STR(q("0 TPDU 80E2000002AA"), "0 ERR ARG");
    CHECK_EQ_STR(q("0 TPDU 80CA0000XX"), "0 ERR ARG");
    CHECK_EQ_STR(q("0 CLOCK 12345678901"), "0 ERR ARG");
    CHECK_EQ_STR(q("0 CLOCK 4294967296"), "0 ERR ARG");
    CHECK_EQ_STR(q("0 CLOCK 5MHz"), "0 ERR ARG");
    CHECK_EQ_STR(q("0 RESET HOT"), "0 ERR ARG");
    CHECK_EQ_STR(q("0 PPS FF10"), "0 ERR ARG");
    CHECK_EQ_STR(q("0 PPS FF109679000000"), "0 ERR ARG");
    /* A 261-byte TPDU does not fit. */
    char tp[700] = "0 TPDU 80E20000FF";
    for (int i = 0; i < 256; i++) strcat(tp, "00");
    CHECK_EQ_STR(q(tp), "0 ERR ARG");
    /* STATE before ARG (content) and UNSUPPORTED. */
    CHECK_EQ_STR(q("0 TPDU 80CA000010"), "0 ERR STATE");
    CHECK_EQ_STR(q("0 RESET COLD"), "0 ERR STATE");
    CHECK_EQ_STR(q("0 PPS FF109600"), "0 ERR STATE");
    CHECK_EQ_STR(q("0 CLOCK 50000000"), "0 ERR UNSUPPORTED");
    CHECK_EQ_STR(q("0 CLOCK 999999"), "0 ERR UNSUPPORTED");
    no_violations(2);
}

static void test_info_status_power(void)
{
    struct card_cfg c = card();
    const struct card_cfg *cards[2] = {&c, NULL};
    sim_boot(2, cards);
    CHECK_EQ_STR(q("0 STATUS"), "0 OK OFF IDLE 0 VCC=OFF CLK=4000000 TA1=11");
    CHECK_EQ_STR(q("1 STATUS"), "1 OK EMPTY IDLE 0 VCC=OFF CLK=4000000 TA1=11");
    CHECK_EQ_STR(q("1 POWER C"), "1 ERR NOCARD");
    CHECK_EQ_STR(q("1 POWER OFF"), "1 OK");
    CHECK_EQ_STR(q("0 POWER A"), "0 OK");
    CHECK_EQ_STR(q("0 POWER A"), "0 OK");
    CHECK_EQ_STR(q("0 POWER B"), "0 ERR STATE");
    CHECK_EQ_STR(q("0 RESET WARM"), "0 ERR STATE");
    char st[80];
    snprintf(st, sizeof st, "0 OK ON IDLE %X VCC=A CLK=4000000 TA1=11", next_id - 1);
    CHECK_EQ_STR(q("0 STATUS"), st);
    CHECK_EQ_STR(q("0 CLOCK 5000000"), "0 OK 5000000");
    /* The clock rounds down to what the divider makes: 20 MHz / 6. */
    CHECK_EQ_STR(q("0 CLOCK 3571200"), "0 OK 3333333");
    CHECK_PREFIX(q("0 STATUS"), "0 OK ON IDLE");
    /* A class the hardware does not have: UNSUPPORTED, after FAULT/NOCARD/STATE. */
    sim_set_classes("BC");
    CHECK_EQ_STR(q("0 POWER OFF"), "0 OK");
    CHECK_EQ_STR(q("0 POWER A"), "0 ERR UNSUPPORTED");
    CHECK_EQ_STR(q("1 POWER A"), "1 ERR NOCARD");
    CHECK_PREFIX(q("- INFO"), "- OK PROTO=1 FW=test-0.1.0 SLOTS=2 FMIN=1000000 FMAX=20000000 FDEF=4000000 CLASSES=BC ");
    CHECK_EQ_STR(q("0 POWER C"), "0 OK");
    no_violations(2);
}

/* ---- activation, ATR ---- */

static void test_activation_sequence(void)
{
    struct card_cfg c = card();
    boot1(&c);
    sim_trace_clear(0);
    CHECK_EQ_STR(q("0 POWER C"), "0 OK");
    char tr[512];
    trace_str(0, tr, sizeof tr);
    /* RST low and CLK stopped before VCC; then I/O in reception mode. */
    CHECK_EQ_STR(tr, "R0 K0 VC I1");
    sim_trace_clear(0);
    unsigned reset_id = next_id;
    const char *r = q("0 RESET COLD");
    CHECK_PREFIX(r, "0 OK 3B14964543484F ");
    trace_str(0, tr, sizeof tr);
    CHECK_EQ_STR(tr, "K1 R0 R1");
    /* RST rises 400 clocks (100 µs at 4 MHz) after the clock starts. */
    uint64_t k1 = trace_time(0, 'K', 1), r1 = trace_time(0, 'R', 1);
    CHECK(r1 - k1 >= 100000 && r1 - k1 < 102000);
    /* (400 + 400 clocks) / 4 MHz + 7 x 12 etu of 93 µs, ending about 1 etu before the last character does. */
    unsigned long us = micros(r);
    CHECK(us >= 200 + 7 * 12 * 93 - 93 && us <= 200 + 7 * 12 * 93 + 10);
    char want[80];
    snprintf(want, sizeof want, "0 OK READY IDLE %X VCC=C CLK=4000000 TA1=11", reset_id);
    CHECK_EQ_STR(q("0 STATUS"), want);
    CHECK(sim_uart(0)->nack && !sim_uart(0)->odd_parity && sim_uart(0)->fi == 372 && sim_uart(0)->di == 1);
    /* Deactivation: RST low, CLK stop, I/O low, VCC off. */
    sim_trace_clear(0);
    CHECK_EQ_STR(q("0 POWER OFF"), "0 OK");
    trace_str(0, tr, sizeof tr);
    CHECK_EQ_STR(tr, "R0 K0 I0 V0");
    CHECK_PREFIX(q("0 STATUS"), "0 OK OFF IDLE");
    CHECK(sim_stats(0)->power_offs == 1 && sim_stats(0)->cold == 1);
    no_violations(1);
}

static void test_cold_and_warm_reset(void)
{
    struct card_cfg c = card();
    boot1(&c);
    activate();
    CHECK_PREFIX(q("0 TPDU 80E2000001AA"), "0 OK 9000 ");
    sim_trace_clear(0);
    CHECK_PREFIX(q("0 RESET WARM"), "0 OK 3B14964543484F ");
    char tr[512];
    trace_str(0, tr, sizeof tr);
    CHECK_EQ_STR(tr, "R0 R1");
    CHECK(sim_stats(0)->warm == 1);
    /* A cold reset of an active card power-cycles it. */
    sim_trace_clear(0);
    CHECK_PREFIX(q("0 RESET COLD"), "0 OK 3B14964543484F ");
    trace_str(0, tr, sizeof tr);
    CHECK_EQ_STR(tr, "R0 K0 I0 V0 R0 K0 VC I1 K1 R0 R1");
    CHECK(sim_stats(0)->cold == 2 && sim_stats(0)->power_offs == 1);
    CHECK_PREFIX(q("0 STATUS"), "0 OK READY IDLE");
    no_violations(1);
}

static void test_atr_mute(void)
{
    struct card_cfg c = card();
    c.mute_atr = true;
    boot1(&c);
    CHECK_EQ_STR(q("0 POWER C"), "0 OK");
    sim_trace_clear(0);
    CHECK_EQ_STR(q("0 RESET COLD"), "0 ERR MUTE");
    /* Given up 40000 clocks (10 ms at 4 MHz) after RST rose, plus the 12-etu allowance. */
    uint64_t waited = sim_now() - trace_time(0, 'R', 1);
    CHECK(waited >= 10000000 && waited <= 10000000 + 12 * 93000 + 1000);
    CHECK_PREFIX(q("0 STATUS"), "0 OK OFF IDLE");
    /* A card that starts its ATR late but within 40000 clocks is fine. */
    c.mute_atr = false;
    c.atr_delay_clocks = 39000;
    boot1(&c);
    activate();
    no_violations(1);
}

static void test_atr_inverse(void)
{
    struct card_cfg c = card();
    card_cfg_atr(&c, "3F14964543484F");
    boot1(&c);
    CHECK_EQ_STR(q("0 POWER C"), "0 OK");
    CHECK_PREFIX(q("0 RESET COLD"), "0 OK 3F14964543484F ");
    CHECK(sim_uart(0)->odd_parity && sim_uart(0)->nack);
    CHECK_PREFIX(q("0 PPS FF109679"), "0 OK FF109679 ");
    CHECK_PREFIX(q("0 TPDU 80CA000010"), "0 OK 000102030405060708090A0B0C0D0E0F9000 ");
    CHECK_PREFIX(q("0 TPDU 80EE000003010203"), "0 OK 6103 ");
    CHECK_PREFIX(q("0 TPDU 00C0000003"), "0 OK 0102039000 ");
    CHECK(sim_stats(0)->nacks_by_card == 0 && sim_stats(0)->nacks_by_reader == 0);
    no_violations(1);
}

static void test_atr_errors(void)
{
    struct {
        const char *atr;
        const char *want;
    } cases[] = {
        {"3C14964543484F", "0 ERR PROTO"},  /* TS neither 3B nor 3F */
        {"3B8001", "0 ERR PROTO"},          /* T=1 offered: TCK missing (card stops) */
        {"3B800180", "0 ERR PROTO"},        /* wrong TCK */
        {"3B800181", "0 OK 3B800181 "},     /* right TCK */
        {"3B107F", "0 ERR PROTO"},          /* TA1 names a reserved Di */
        {"3B14964543", "0 ERR PROTO"},      /* K = 4 historical bytes, 2 sent */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct card_cfg c = card();
        card_cfg_atr(&c, cases[i].atr);
        boot1(&c);
        CHECK_EQ_STR(q("0 POWER C"), "0 OK");
        const char *r = q("0 RESET COLD");
        CHECK_PREFIX(r, cases[i].want);
        if (strstr(cases[i].want, "ERR")) CHECK_PREFIX(q("0 STATUS"), "0 OK OFF IDLE");
        no_violations(1);
    }
}

static void test_atr_parity(void)
{
    struct card_cfg c = card();
    c.corrupt_atr_at = 2;
    c.corrupt_times = 3;
    boot1(&c);
    CHECK_EQ_STR(q("0 POWER C"), "0 OK");
    CHECK_PREFIX(q("0 RESET COLD"), "0 OK 3B14964543484F ");
    CHECK(sim_stats(0)->nacks_by_reader == 3);
    c.corrupt_times = 4;
    boot1(&c);
    CHECK_EQ_STR(q("0 POWER C"), "0 OK");
    CHECK_EQ_STR(q("0 RESET COLD"), "0 ERR PROTO");
    no_violations(1);
}

static void test_specific_mode_and_interface_bytes(void)
{
    /* TA1 96, TD1 announcing TA2 = 00: specific mode at 512/32. */
    struct card_cfg c = card();
    card_cfg_atr(&c, "3B929610004543");
    boot1(&c);
    CHECK_EQ_STR(q("0 POWER C"), "0 OK");
    CHECK_PREFIX(q("0 RESET COLD"), "0 OK 3B929610004543 ");
    CHECK_PREFIX(q("0 STATUS"), "0 OK READY IDLE");
    CHECK(strstr(q("0 STATUS"), "TA1=96") != NULL);
    CHECK_EQ_STR(q("0 PPS FF109679"), "0 ERR STATE");
    CHECK_PREFIX(q("0 TPDU 80CA000010"), "0 OK 000102030405060708090A0B0C0D0E0F9000 ");
    no_violations(1);
    /* Specific mode at a Fi/Di the bridge cannot run: UNSUPPORTED, deactivated. */
    card_cfg_atr(&c, "3B90171000");
    boot1(&c);
    CHECK_EQ_STR(q("0 POWER C"), "0 OK");
    CHECK_EQ_STR(q("0 RESET COLD"), "0 ERR UNSUPPORTED");
    CHECK_PREFIX(q("0 STATUS"), "0 OK OFF");
    /* TC1 = 5: characters to the card 17 etu apart; TC2 = 2: WWT = 960 x 2 x 372 clocks. */
    card_cfg_atr(&c, "3BC0054002");
    c.mute_after_header = true;
    boot1(&c);
    activate();
    CHECK(sim_uart(0)->guard_n == 5);
    uint64_t t0 = sim_now();
    CHECK_EQ_STR(q("0 TPDU 80CA000010"), "0 ERR TIMEOUT");
    uint64_t waited = sim_now() - t0;
    /* 5 header characters of 17 etu, then WWT (178.56 ms) and the 12-etu allowance. */
    CHECK(waited > 178560000 + 5 * 17 * 93000 && waited < 178560000 + (6 + 5 * 17 + 12 + 2) * 93000);
    CHECK(sim_stats(0)->min_reader_gap_etu100 >= 1700);
    no_violations(1);
}

/* ---- PPS ---- */

static void test_pps(void)
{
    struct card_cfg c = card();
    boot1(&c);
    activate();
    CHECK_EQ_STR(q("0 CLOCK 5000000"), "0 OK 5000000");
    const char *r = q("0 PPS FF109679");
    CHECK_PREFIX(r, "0 OK FF109679 ");
    /* (4 + 4) characters of 12 etu and one turnaround at 74.4 µs: about 7.4 ms. */
    CHECK(micros(r) > 7000 && micros(r) < 7600);
    CHECK(strstr(q("0 STATUS"), "TA1=96") != NULL);
    sim_run_for(1000000); /* the card switches at the end of its last character */
    CHECK(sim_uart(0)->fi == 512 && sim_uart(0)->di == 32 && sim_stats(0)->ta1 == 0x96);
    CHECK_PREFIX(q("0 TPDU 80CA000010"), "0 OK 000102030405060708090A0B0C0D0E0F9000 ");
    CHECK_EQ_STR(q("0 PPS FF109679"), "0 ERR STATE");
    /* The first TPDU closes the PPS window. */
    boot1(&c);
    activate();
    CHECK_PREFIX(q("0 TPDU 80CA000010"), "0 OK ");
    CHECK_EQ_STR(q("0 PPS FF109679"), "0 ERR STATE");
    no_violations(1);
}

static void test_pps_declined_and_refused(void)
{
    struct card_cfg c = card();
    c.pps = PPS_DECLINE;
    boot1(&c);
    activate();
    CHECK_PREFIX(q("0 PPS FF109679"), "0 OK FF00FF ");
    CHECK(strstr(q("0 STATUS"), "READY IDLE") && strstr(q("0 STATUS"), "TA1=11"));
    CHECK_PREFIX(q("0 TPDU 80CA000010"), "0 OK 0001");
    no_violations(1);

    /* Requests the bridge refuses without touching the card; PPS stays allowed. */
    c.pps = PPS_ACCEPT;
    boot1(&c);
    activate();
    CHECK_EQ_STR(q("0 PPS FF109678"), "0 ERR ARG");         /* PCK wrong */
    CHECK_EQ_STR(q("0 PPS FF1096"), "0 ERR ARG");           /* PPS0 says 4 bytes */
    CHECK_EQ_STR(q("0 PPS FE109678"), "0 ERR ARG");         /* PPSS */
    CHECK_EQ_STR(q("0 PPS FF119678"), "0 ERR UNSUPPORTED"); /* T=1 */
    CHECK_EQ_STR(q("0 PPS FF30960059"), "0 ERR UNSUPPORTED"); /* PPS2 */
    CHECK_EQ_STR(q("0 PPS FF109F70"), "0 ERR UNSUPPORTED"); /* TA1 9F not in INFO */
    CHECK(sim_stats(0)->chars_to_card == 0);
    CHECK_PREFIX(q("0 PPS FF109679"), "0 OK FF109679 ");
    no_violations(1);

    /* Card failures: MUTE after 9600 etu, PROTO for a wrong answer; the slot is off. */
    struct {
        enum pps_mode mode;
        const char *want;
    } cases[] = {{PPS_MUTE, "0 ERR MUTE"}, {PPS_BAD_PCK, "0 ERR PROTO"}, {PPS_OTHER_PPS1, "0 ERR PROTO"}, {PPS_TRUNCATED, "0 ERR PROTO"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        c.pps = cases[i].mode;
        boot1(&c);
        activate();
        uint64_t t0 = sim_now();
        CHECK_EQ_STR(q("0 PPS FF109679"), cases[i].want);
        if (cases[i].mode == PPS_MUTE) {
            /* 4 characters, then 9600 etu of 93 µs. */
            uint64_t waited = sim_now() - t0;
            CHECK(waited > (4 * 12 + 9600ull) * 93000 && waited < (6 + 4 * 12 + 9600ull + 12 + 2) * 93000);
        }
        CHECK_PREFIX(q("0 STATUS"), "0 OK OFF IDLE");
        /* Recovery: power, cold reset, no PPS. */
        activate();
        CHECK_PREFIX(q("0 TPDU 80CA000010"), "0 OK 0001");
        no_violations(1);
    }
}

/* ---- T=0 ---- */

static void t0_cases(const struct card_cfg *c, bool pps)
{
    boot1(c);
    activate();
    if (pps) CHECK_PREFIX(q("0 PPS FF109679"), "0 OK FF109679 ");
    /* case 1 */
    CHECK_PREFIX(q("0 TPDU 80E2000000"), "0 OK 9000 ");
    /* case 2 */
    CHECK_PREFIX(q("0 TPDU 80CA000010"), "0 OK 000102030405060708090A0B0C0D0E0F9000 ");
    CHECK_PREFIX(q("0 TPDU 80CA000008"), "0 OK 6C10 ");
    /* case 3 */
    CHECK_PREFIX(q("0 TPDU 80E2910003010203"), "0 OK 9000 ");
    CHECK(sim_stats(0)->stored == 3);
    /* case 4: 61xx, GET RESPONSE with a wrong then the right Le */
    CHECK_PREFIX(q("0 TPDU 80EE000004CAFEBABE"), "0 OK 6104 ");
    CHECK_PREFIX(q("0 TPDU 00C0000002"), "0 OK 6C04 ");
    CHECK_PREFIX(q("0 TPDU 00C0000004"), "0 OK CAFEBABE9000 ");
    /* case 3 refused right after the header: the data never crosses the contact */
    uint32_t before = sim_stats(0)->chars_to_card;
    CHECK_PREFIX(q("0 TPDU 80770000020102"), "0 OK 6D00 ");
    CHECK(sim_stats(0)->chars_to_card - before == 5);
    CHECK_PREFIX(q("0 TPDU 84CA000010"), "0 OK 6E00 ");
    no_violations(1);
}

static void test_t0_procedure_bytes(void)
{
    enum proc_style styles[] = {PROC_INS, PROC_XINS, PROC_MIXED};
    for (int nulls = 0; nulls <= 2; nulls += 2) {
        for (size_t i = 0; i < 3; i++) {
            struct card_cfg c = card();
            c.proc = styles[i];
            c.nulls = (uint8_t)nulls;
            c.null_gap_etu = nulls ? 500 : 0;
            c.work_etu = 50;
            t0_cases(&c, false);
            t0_cases(&c, true);
        }
    }
}

static void test_t0_256_and_long_case3(void)
{
    struct card_cfg c = card();
    c.getdata_len = 256;
    boot1(&c);
    activate();
    CHECK_PREFIX(q("0 PPS FF109679"), "0 OK ");
    const char *r = q("0 TPDU 80CA000000");
    CHECK(strlen(r) > 10 + 516);
    CHECK_PREFIX(r, "0 OK 000102");
    CHECK(strstr(r, "FCFDFEFF9000 ") != NULL);
    char tp[700] = "0 TPDU 80E29100FF";
    for (int i = 0; i < 255; i++) {
        char h[3];
        snprintf(h, sizeof h, "%02X", i);
        strcat(tp, h);
    }
    r = q(tp);
    CHECK_PREFIX(r, "0 OK 9000 ");
    CHECK(sim_stats(0)->stored == 255);
    /* PROTOCOL.md §8 example: a 255-byte STORE DATA at 512/32, 4 MHz here (4 µs etu):
     * (5 + 1 + 255 + 2) x 12 + 3 x 4 etu = 3168 etu; measured to the SW2 event, the turnaround
     * waits of this bridge add a few etu. */
    unsigned long us = micros(r);
    CHECK(us > 3168 * 4 - 12 * 4 && us < 3168 * 4 + 30 * 4);
    no_violations(1);
}

static void test_t0_bad_procedure_and_errors(void)
{
    uint8_t bad[] = {0x20, 0x01, 0xff, 0x77};
    for (size_t i = 0; i < sizeof bad; i++) {
        struct card_cfg c = card();
        c.bad_proc = bad[i];
        boot1(&c);
        activate();
        /* 0x77 is neither NULL, INS (CA), ~INS (35), 6X nor 9X either */
        CHECK_EQ_STR(q("0 TPDU 80CA000010"), "0 ERR PROTO");
        CHECK_PREFIX(q("0 STATUS"), "0 OK OFF IDLE");
        no_violations(1);
    }
    /* INS when no data is left, after a case 3 and after a case 2 transfer. */
    const char *cmds[] = {"0 TPDU 80E2000002AABB", "0 TPDU 80CA000010"};
    for (size_t i = 0; i < 2; i++) {
        struct card_cfg c = card();
        c.ins_after_data = true;
        boot1(&c);
        activate();
        CHECK_EQ_STR(q(cmds[i]), "0 ERR PROTO");
        CHECK_PREFIX(q("0 STATUS"), "0 OK OFF IDLE");
        no_violations(1);
    }
}

/* The APDU verb: the TPDUs of every case run at the bridge, 61xx and 6Cxx followed up there. */
static void test_apdu(void)
{
    enum proc_style styles[] = {PROC_INS, PROC_MIXED};
    for (size_t i = 0; i < 2; i++) {
        struct card_cfg c = card();
        c.proc = styles[i];
        c.work_etu = 50;
        boot1(&c);
        activate();
        CHECK(strstr(q("- INFO"), " APDU=1") != NULL);
        CHECK_PREFIX(q("0 PPS FF109679"), "0 OK ");
        CHECK_PREFIX(q("0 APDU 80E20000"), "0 OK 9000 ");                                  /* case 1 */
        CHECK_PREFIX(q("0 APDU 80CA000010"), "0 OK 000102030405060708090A0B0C0D0E0F9000 "); /* case 2 */
        CHECK_PREFIX(q("0 APDU 80CA000008"), "0 OK 000102030405060708090A0B0C0D0E0F9000 "); /* 6C10, repeated */
        CHECK_PREFIX(q("0 APDU 80E2910003010203"), "0 OK 9000 ");                          /* case 3 */
        CHECK(sim_stats(0)->stored == 3);
        CHECK_PREFIX(q("0 APDU 80EE000004CAFEBABE00"), "0 OK CAFEBABE9000 ");              /* case 4: 6104, GET RESPONSE */
        CHECK_PREFIX(q("0 APDU 80EE000002CAFE"), "0 OK CAFE9000 ");                        /* case 3 form answered 61xx */
        CHECK_PREFIX(q("0 APDU 80770000020102"), "0 OK 6D00 ");                            /* error SW as it is */
        /* The duration is the sum of the TPDUs it ran: the same exchange as two TPDU requests. */
        unsigned long apdu = micros(q("0 APDU 80EE000003A1B2C300"));
        unsigned long t1 = micros(q("0 TPDU 80EE000003A1B2C3"));
        unsigned long t2 = micros(q("0 TPDU 00C0000003"));
        CHECK(apdu > 0 && apdu == t1 + t2);
        CHECK_EQ_STR(q("0 APDU 80CA00"), "0 ERR ARG");
        CHECK_EQ_STR(q("0 APDU 80E2000000AA"), "0 ERR ARG");  /* Lc 0: extended length */
        CHECK_EQ_STR(q("0 APDU 80E2000002AABBCCDD"), "0 ERR ARG");
        no_violations(1);
    }
    struct card_cfg c = card();
    boot1(&c);
    CHECK_EQ_STR(q("0 APDU 80CA000010"), "0 ERR STATE");  /* not powered */
}

/* APDUS (PROTOCOL.md §4a): APDUs in order, stopping at the first answer that is not a bare 9000. */
static void test_apdus(void)
{
    enum proc_style styles[] = {PROC_INS, PROC_MIXED};
    for (size_t i = 0; i < 2; i++) {
        struct card_cfg c = card();
        c.proc = styles[i];
        c.work_etu = 50;
        boot1(&c);
        activate();
        CHECK(strstr(q("- INFO"), " LINE=4200 APDU=1 BATCH=8 ") != NULL);
        CHECK_PREFIX(q("0 PPS FF109679"), "0 OK ");
        /* Two STORE blocks answer 9000, the ECHO 6102: GET RESPONSE at the bridge. */
        CHECK_PREFIX(q("0 APDUS 80E2110002AABB 80E2910002CCDD 80EE000002CAFE00"), "0 OK 3 CAFE9000 ");
        CHECK(sim_stats(0)->stored == 4);
        /* An error status stops the sequence: the third never reaches the card. */
        CHECK_PREFIX(q("0 APDUS 80E2110001AA 80770000 80E2910001BB"), "0 OK 2 6D00 ");
        CHECK(sim_stats(0)->stored == 5);
        /* So does response data. */
        CHECK_PREFIX(q("0 APDUS 80CA000010 80E2910001BB"), "0 OK 1 000102030405060708090A0B0C0D0E0F9000 ");
        CHECK(sim_stats(0)->stored == 5);
        /* The duration is the sum of every TPDU it ran. */
        unsigned long all = micros(q("0 APDUS 80E2110001AA 80EE000001AB00"));
        unsigned long t1 = micros(q("0 TPDU 80E2110001AA"));
        unsigned long t2 = micros(q("0 TPDU 80EE000001AB"));
        unsigned long t3 = micros(q("0 TPDU 00C0000001"));
        CHECK(all > 0 && all == t1 + t2 + t3);
        /* The longest request: 8 full STORE DATA blocks in one line of 4187 bytes. */
        static char full[4400];
        size_t o = (size_t)snprintf(full, sizeof full, "0 APDUS");
        for (int b = 0; b < 8; b++) {
            o += (size_t)snprintf(full + o, sizeof full - o, " 80E2%s%02XFF", b == 7 ? "91" : "11", b);
            for (int k = 0; k < 255; k++) o += (size_t)snprintf(full + o, sizeof full - o, "5A");
        }
        uint32_t before = sim_stats(0)->stored;
        CHECK_PREFIX(q(full), "0 OK 8 9000 ");
        CHECK(sim_stats(0)->stored == before + 8 * 255);
        /* Shape checked before anything runs. */
        CHECK_EQ_STR(q("0 APDUS 80E2110001AA 80E2110001AA 80E2110001AA 80E2110001AA 80E2110001AA 80E2110001AA 80E2110001AA 80E2110001AA 80E2110001AA"), "0 ERR ARG");
        CHECK_EQ_STR(q("0 APDUS 80E2110001AA 80E2000003AABB"), "0 ERR ARG");
        CHECK_EQ_STR(q("0 APDUS"), "0 ERR ARG");
        CHECK(sim_stats(0)->stored == before + 8 * 255);
        no_violations(1);
    }
    struct card_cfg c = card();
    boot1(&c);
    CHECK_EQ_STR(q("0 APDUS 80CA000010"), "0 ERR STATE"); /* not powered */
}

static void test_wwt_and_null(void)
{
    /* WWT at 4 MHz, WI 10, Fi 372: 3571200 clocks = 892.8 ms = 9600 etu. */
    struct {
        uint32_t work, nulls, gap;
        const char *want;
    } cases[] = {
        {9500, 0, 0, "0 OK 0001"},       /* just inside WWT */
        {9700, 0, 0, "0 ERR TIMEOUT"},   /* just outside */
        {100, 3, 9000, "0 OK 0001"},     /* 27000 etu of NULLs, each inside WWT */
        {100, 3, 9800, "0 ERR TIMEOUT"}, /* the second NULL is late */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct card_cfg c = card();
        c.work_etu = cases[i].work;
        c.nulls = (uint8_t)cases[i].nulls;
        c.null_gap_etu = cases[i].gap;
        boot1(&c);
        activate();
        uint64_t t0 = sim_now();
        const char *r = q("0 TPDU 80CA000010");
        CHECK_PREFIX(r, cases[i].want);
        uint64_t took = sim_now() - t0;
        if (strstr(cases[i].want, "TIMEOUT")) {
            CHECK_PREFIX(q("0 STATUS"), "0 OK OFF IDLE");
        } else if (cases[i].nulls) {
            CHECK(took > 27000ull * 93000);
            CHECK(micros(r) > 27000ul * 93);
        }
        no_violations(1);
    }
    /* A card that stops answering: TIMEOUT, then a power cycle brings it back. */
    struct card_cfg c = card();
    boot1(&c);
    activate();
    CHECK_EQ_STR(q("0 TPDU 80DE000000"), "0 ERR TIMEOUT");
    CHECK_PREFIX(q("0 STATUS"), "0 OK OFF IDLE");
    activate();
    CHECK_PREFIX(q("0 TPDU 80CA000010"), "0 OK 0001");
    no_violations(1);
}

static void test_parity_errors(void)
{
    /* Card to reader: the reader NACKs, the card repeats; a 4th bad copy is PROTO. */
    for (uint8_t times = 1; times <= 4; times++) {
        struct card_cfg c = card();
        c.corrupt_tx_at = 3; /* a data byte of GET DATA (INS, then data) */
        c.corrupt_times = times;
        boot1(&c);
        activate();
        const char *r = q("0 TPDU 80CA000010");
        if (times <= 3) {
            CHECK_PREFIX(r, "0 OK 000102030405060708090A0B0C0D0E0F9000 ");
            CHECK(sim_stats(0)->nacks_by_reader == times);
        } else {
            CHECK_EQ_STR(r, "0 ERR PROTO");
            CHECK_PREFIX(q("0 STATUS"), "0 OK OFF IDLE");
        }
        no_violations(1);
    }
    /* Reader to card: the card NACKs, the bridge repeats at most 3 times. */
    for (uint8_t times = 1; times <= 4; times++) {
        struct card_cfg c = card();
        c.nack_rx_at = 6; /* the second data byte of STORE */
        c.nack_rx_times = times;
        boot1(&c);
        activate();
        const char *r = q("0 TPDU 80E2000003AABBCC");
        if (times <= 3) {
            CHECK_PREFIX(r, "0 OK 9000 ");
            CHECK(sim_stats(0)->stored == 3 && sim_stats(0)->nacks_by_card == times);
        } else {
            CHECK_EQ_STR(r, "0 ERR PROTO");
        }
        no_violations(1);
    }
    /* A NACKed header byte is repeated too. */
    struct card_cfg c = card();
    c.nack_rx_at = 1;
    c.nack_rx_times = 2;
    boot1(&c);
    activate();
    CHECK_PREFIX(q("0 TPDU 80CA000010"), "0 OK 0001");
    no_violations(1);
    /* ISO 7816-3 §7.3: each repetition at least 13 etu after the NACKed leading edge, also after PPS. */
    CHECK(sim_stats(0)->min_repeat_gap_etu100 >= 1300);
    c.nack_rx_at = 3;
    boot1(&c);
    activate();
    CHECK_PREFIX(q("0 PPS FF109679"), "0 OK FF109679 ");
    CHECK_PREFIX(q("0 TPDU 80E2000003AABBCC"), "0 OK 9000 ");
    CHECK(sim_stats(0)->min_repeat_gap_etu100 >= 1300 && sim_stats(0)->min_repeat_gap_etu100 < 1500);
    no_violations(1);
}

/* ---- no slot can hang (issue #14, defect 1) ---- */

static void test_no_hang(void)
{
    /* Timers that fire early (a HAL rounding short waits) are waited out, not dropped. */
    for (uint32_t early = 1; early <= 400; early *= 20) {
        struct card_cfg c = card();
        c.nack_rx_at = 6;
        c.nack_rx_times = 1;
        boot1(&c);
        sim_timer_early_us(early);
        activate();
        CHECK_PREFIX(q("0 PPS FF109679"), "0 OK FF109679 ");
        CHECK_PREFIX(q("0 TPDU 80CA000010"), "0 OK 000102030405060708090A0B0C0D0E0F9000 ");
        CHECK_PREFIX(q("0 TPDU 80E2000003AABBCC"), "0 OK 9000 ");
        CHECK_EQ_STR(q("0 POWER OFF"), "0 OK");
        no_violations(1);
    }
    /* Events dropped by a full HAL queue (a character sent, received, a timer): ERR OVERRUN, deactivated. */
    const char *cmds[] = {"0 TPDU 80E2000003AABBCC", "0 TPDU 80CA000010", "0 RESET COLD"};
    for (uint32_t n = 1; n <= 3; n++) {
        for (size_t k = 0; k < 3; k++) {
            struct card_cfg c = card();
            boot1(&c);
            activate();
            sim_lose_event(0, n + (uint32_t)k * 3);
            CHECK_EQ_STR(q(cmds[k]), "0 ERR OVERRUN");
            CHECK_PREFIX(q("0 STATUS"), "0 OK OFF IDLE");
            activate();
            CHECK_PREFIX(q("0 TPDU 80CA000010"), "0 OK 0001");
            no_violations(1);
        }
    }
    /* A card sending NULL bytes forever: TIMEOUT at the total cap (INFO CAP=), not never. */
    struct card_cfg c = card();
    c.endless_nulls = true;
    c.null_gap_etu = 5000;
    boot1(&c);
    sim_set_op_cap_ms(3000);
    CHECK(strstr(q("- INFO"), " CAP=3000") != NULL);
    activate();
    uint64_t t0 = sim_now();
    CHECK_EQ_STR(q("0 TPDU 80CA000010"), "0 ERR TIMEOUT");
    CHECK(sim_now() - t0 >= 3000000000ull && sim_now() - t0 < 3100000000ull);
    CHECK_PREFIX(q("0 STATUS"), "0 OK OFF IDLE");
    CHECK(sim_stats(0)->chars_from_card > 5);
    /* APDU: the cap covers the whole command. */
    activate();
    CHECK_EQ_STR(q("0 APDU 80CA000010"), "0 ERR TIMEOUT");
    no_violations(1);
    /* The default cap is reported. */
    boot1(&c);
    CHECK(strstr(q("- INFO"), " CAP=30000") != NULL);

    /* POWER OFF on a busy slot always deactivates: the request in flight ends with ERR STATE. */
    struct card_cfg m = card();
    m.mute_after_header = true;
    boot1(&m);
    activate();
    sim_request("7 0 TPDU 80CA000010");
    sim_run_for(20000000);
    CHECK_PREFIX(q("0 STATUS"), "0 OK READY BUSY");
    CHECK_EQ_STR(q("0 POWER OFF"), "0 OK");
    CHECK(find_line(0, "7 0 ERR STATE") >= 0);
    CHECK_PREFIX(q("0 STATUS"), "0 OK OFF IDLE");
    CHECK(sim_stats(0)->power_offs >= 1);
    /* Other verbs on a busy slot are still BUSY. */
    activate();
    sim_request("8 0 TPDU 80CA000010");
    sim_run_for(20000000);
    CHECK_EQ_STR(q("0 POWER C"), "0 ERR BUSY");
    CHECK_EQ_STR(sim_wait_reply("8"), "8 0 ERR TIMEOUT");
    no_violations(1);
}

/* ---- ISO 7816-3 leniencies (defect 3) ---- */

static uint64_t trace_time_after(uint8_t slot, char what, uint32_t v, uint64_t after)
{
    const struct trace_ev *t;
    size_t n = sim_trace(slot, &t);
    for (size_t i = 0; i < n; i++)
        if (t[i].what == what && t[i].v == v && t[i].t > after) return t[i].t;
    return 0;
}

static void test_iso_strictness(void)
{
    /* TA2 fixes the card to T=1 (specific mode): not driven as T=0, UNSUPPORTED and off. */
    struct card_cfg c = card();
    card_cfg_atr(&c, "3B9096110116");
    boot1(&c);
    CHECK_EQ_STR(q("0 POWER C"), "0 OK");
    CHECK_EQ_STR(q("0 RESET COLD"), "0 ERR UNSUPPORTED");
    CHECK_PREFIX(q("0 STATUS"), "0 OK OFF IDLE");
    no_violations(1);
    /* PPS answers: PPS0 b8 set, or a PPS2 nobody asked for, are PROTO. */
    enum pps_mode modes[] = {PPS_BIT8, PPS_EXTRA_PPS2};
    for (size_t i = 0; i < 2; i++) {
        c = card();
        c.pps = modes[i];
        boot1(&c);
        activate();
        CHECK_EQ_STR(q("0 PPS FF109679"), "0 ERR PROTO");
        CHECK_PREFIX(q("0 STATUS"), "0 OK OFF IDLE");
    }
    /* VCC stays off at least 10 ms: POWER right after POWER OFF, and a cold reset from READY. */
    c = card();
    boot1(&c);
    activate();
    sim_trace_clear(0);
    CHECK_EQ_STR(q("0 POWER OFF"), "0 OK");
    CHECK_EQ_STR(q("0 POWER C"), "0 OK");
    uint64_t off = trace_time(0, 'V', 0), on = trace_time(0, 'V', 'C');
    CHECK(off > 0 && on >= off + 10000000ull);
    CHECK_PREFIX(q("0 RESET COLD"), "0 OK ");
    sim_trace_clear(0);
    CHECK_PREFIX(q("0 RESET COLD"), "0 OK ");
    off = trace_time(0, 'V', 0);
    on = trace_time_after(0, 'V', 'C', off);
    CHECK(off > 0 && on >= off + 10000000ull);
    /* Long after POWER OFF, POWER does not wait. */
    CHECK_EQ_STR(q("0 POWER OFF"), "0 OK");
    sim_run_for(50000000);
    sim_trace_clear(0);
    uint64_t t0 = sim_now();
    CHECK_EQ_STR(q("0 POWER C"), "0 OK");
    CHECK(trace_time(0, 'V', 'C') == t0);
    no_violations(1);

    /* Fault and detect inputs are deglitched: a load switch flagging its inrush limit for 3 ms is ignored. */
    struct debounce d = {false, 0};
    int changes = 0;
    for (int i = 0; i < 3; i++) changes += debounce_step(&d, true, 5);
    for (int i = 0; i < 2; i++) changes += debounce_step(&d, false, 5);
    CHECK(changes == 0 && !d.state);
    for (int i = 0; i < 4; i++) changes += debounce_step(&d, true, 5);
    CHECK(changes == 0);
    changes += debounce_step(&d, true, 5);
    CHECK(changes == 1 && d.state);
    for (int i = 0; i < 10; i++) changes += debounce_step(&d, true, 5);
    CHECK(changes == 1);
}

/* ---- slots, card detect, faults ---- */

static void test_busy_and_concurrency(void)
{
    struct card_cfg slow = card(), fast = card();
    slow.work_etu = 5000;
    const struct card_cfg *cards[2] = {&slow, &fast};
    sim_boot(2, cards);
    CHECK_EQ_STR(q("0 POWER C"), "0 OK");
    unsigned reset0 = next_id;
    CHECK_PREFIX(q("0 RESET COLD"), "0 OK ");
    CHECK_EQ_STR(q("1 POWER C"), "1 OK");
    CHECK_PREFIX(q("1 RESET COLD"), "1 OK ");
    char busy[80];
    snprintf(busy, sizeof busy, "102 0 OK READY BUSY %X VCC=C CLK=4000000 TA1=11", reset0);
    size_t from = sim_line_count();
    sim_request("100 0 TPDU 80CA000010");
    sim_request("101 0 TPDU 80CA000010");
    sim_request("102 0 STATUS");
    sim_request("103 1 TPDU 80E2000001AA");
    CHECK_EQ_STR(sim_wait_reply("101"), "101 0 ERR BUSY");
    CHECK_EQ_STR(sim_wait_reply("102"), busy);
    CHECK_PREFIX(sim_wait_reply("100"), "100 0 OK 0001");
    /* Answers come in completion order: slot 1's short STORE before slot 0's slow GET DATA. */
    long a103 = find_line(from, "103 1 OK 9000"), a100 = find_line(from, "100 0 OK");
    CHECK(a103 >= 0 && a100 > a103);
    CHECK_EQ_STR(q("0 STATUS"), "0 OK READY IDLE 100 VCC=C CLK=4000000 TA1=11");
    no_violations(2);
}

static void test_card_detect(void)
{
    struct card_cfg c = card();
    c.work_etu = 20000;
    c.nulls = 1;
    c.null_gap_etu = 9000;
    boot1(&c);
    activate();
    size_t from = sim_line_count();
    sim_request("200 0 TPDU 80CA000010");
    sim_run_for(50000000);
    sim_remove(0);
    CHECK_EQ_STR(sim_wait_reply("200"), "200 0 ERR NOCARD");
    long ev = find_line(from, "! 0 CARD OUT"), ans = find_line(from, "200 0 ERR NOCARD");
    CHECK(ev >= 0 && ans > ev);
    char tr[512];
    trace_str(0, tr, sizeof tr);
    CHECK(strstr(tr, "R0 K0 I0 V0") != NULL);
    CHECK_EQ_STR(q("0 STATUS"), "0 OK EMPTY IDLE 200 VCC=OFF CLK=4000000 TA1=11");
    CHECK_EQ_STR(q("0 POWER C"), "0 ERR NOCARD");
    CHECK_EQ_STR(q("0 RESET COLD"), "0 ERR NOCARD");
    from = sim_line_count();
    c = card();
    sim_insert(0, &c);
    CHECK(find_line(from, "! 0 CARD IN") >= 0);
    CHECK_PREFIX(q("0 STATUS"), "0 OK OFF IDLE");
    activate();
    no_violations(1);
}

static void test_faults(void)
{
    struct card_cfg c = card();
    c.work_etu = 20000;
    c.nulls = 1;
    c.null_gap_etu = 9000;
    const struct card_cfg *cards[3] = {&c, &c, &c};
    sim_boot(3, cards);
    for (int s = 0; s < 2; s++) {
        char b[32];
        snprintf(b, sizeof b, "%d POWER C", s);
        q(b);
        snprintf(b, sizeof b, "%d RESET COLD", s);
        q(b);
    }
    size_t from = sim_line_count();
    sim_request("300 1 TPDU 80CA000010");
    sim_run_for(10000000);
    sim_fault(1, "OVERCURRENT");
    CHECK_EQ_STR(sim_wait_reply("300"), "300 1 ERR FAULT");
    CHECK(find_line(from, "! 1 FAULT OVERCURRENT") >= 0);
    CHECK_EQ_STR(q("1 STATUS"), "1 OK FAULT IDLE 300 VCC=OFF CLK=4000000 TA1=11");
    CHECK_EQ_STR(q("1 POWER C"), "1 ERR FAULT");
    CHECK_EQ_STR(q("1 RESET COLD"), "1 ERR FAULT");
    CHECK_EQ_STR(q("1 TPDU 80CA000010"), "1 ERR FAULT");
    CHECK_EQ_STR(q("1 CLOCK 5000000"), "1 ERR FAULT");
    CHECK_EQ_STR(q("1 POWER OFF"), "1 OK");
    CHECK_PREFIX(q("1 STATUS"), "1 OK OFF IDLE");
    /* Bridge-wide: every powered slot (0) goes to FAULT, the unpowered ones (1, 2) do not. */
    from = sim_line_count();
    sim_fault(-1, "UNDERVOLTAGE");
    CHECK(find_line(from, "! - FAULT UNDERVOLTAGE") >= 0);
    CHECK_PREFIX(q("0 STATUS"), "0 OK FAULT IDLE");
    CHECK_PREFIX(q("1 STATUS"), "1 OK OFF IDLE");
    CHECK_PREFIX(q("2 STATUS"), "2 OK OFF IDLE");
    no_violations(3);
}

static uint32_t rng = 12345;
static uint32_t rnd(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

static void test_fuzz(void)
{
    struct card_cfg c = card();
    const struct card_cfg *cards[2] = {&c, &c};
    sim_boot(2, cards);
    char buf[200];
    for (int i = 0; i < 5000; i++) {
        size_t n = 1 + rnd() % 150;
        for (size_t k = 0; k < n; k++) buf[k] = (char)(rnd() % 4 == 0 ? "0123456789ABCDEF -*\n"[rnd() % 20] : (char)rnd());
        sim_send(buf, n);
    }
    /* Sealed random bodies pass the CRC and hit the grammar, verb and argument checks. */
    const char *words[] = {"1", "FF", "0", "-", "F", "INFO", "STATUS", "POWER", "PPS", "TPDU", "A", "OFF", "FF109679", "80CA000010", "", "*", "x"};
    for (int i = 0; i < 5000; i++) {
        size_t len = 0;
        int nt = (int)(rnd() % 6);
        for (int k = 0; k < nt; k++) len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", k ? " " : "", words[rnd() % 17]);
        buf[len] = 0;
        sim_request(buf);
    }
    sim_send("\n", 1);
    while (sim_step()) {
    }
    CHECK_PREFIX(q("- INFO"), "- OK PROTO=1");
    CHECK(sim_bad_lines() == 0);
    /* Every line the bridge sent parses: "<id|!> <slot> <WORD> ..." */
    for (size_t i = 0; i < sim_line_count(); i++) {
        const char *l = sim_line(i);
        const char *sp = strchr(l, ' ');
        CHECK(sp && sp[2] == ' ' && (sp[3] >= 'A' && sp[3] <= 'Z'));
    }
}

#define RUN(t)                                                                           \
    do {                                                                                 \
        current = #t;                                                                    \
        int f0 = failures;                                                               \
        t();                                                                             \
        printf("%s %s\n", failures == f0 ? "ok  " : "FAIL", #t);                        \
    } while (0)

int main(void)
{
    RUN(test_crc);
    RUN(test_worked_example);
    RUN(test_parser_errors);
    RUN(test_info_status_power);
    RUN(test_activation_sequence);
    RUN(test_cold_and_warm_reset);
    RUN(test_atr_mute);
    RUN(test_atr_inverse);
    RUN(test_atr_errors);
    RUN(test_atr_parity);
    RUN(test_specific_mode_and_interface_bytes);
    RUN(test_pps);
    RUN(test_pps_declined_and_refused);
    RUN(test_t0_procedure_bytes);
    RUN(test_t0_256_and_long_case3);
    RUN(test_t0_bad_procedure_and_errors);
    RUN(test_apdu);
    RUN(test_apdus);
    RUN(test_wwt_and_null);
    RUN(test_parity_errors);
    RUN(test_no_hang);
    RUN(test_iso_strictness);
    RUN(test_busy_and_concurrency);
    RUN(test_card_detect);
    RUN(test_faults);
    RUN(test_fuzz);
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
