#include "line.h"

#include "../hal.h"
#include "config.h"

uint16_t crc16_ccitt_false(const uint8_t *data, size_t n)
{
    uint16_t crc = 0xffff;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(data[i] << 8);
        for (int k = 0; k < 8; k++) crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

void line_overrun(struct line_in *in)
{
    in->overrun = true;
    in->len = 0;
}

void line_feed(struct line_in *in, const uint8_t *data, size_t n, void (*on_line)(char *line, size_t len), void (*on_drop)(bool overrun))
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = data[i];
        if (c == '\n') {
            bool over = in->overflow, lost = in->overrun;
            size_t len = in->len;
            in->len = 0;
            in->overflow = false;
            in->overrun = false;
            if (over || lost) {
                on_drop(lost);
                continue;
            }
            if (len > 0 && in->buf[len - 1] == '\r') len--;
            if (len > 0) on_line(in->buf, len);
            continue;
        }
        if (in->overflow || in->overrun) continue;
        /* LINE_IN_MAX counts the LF, so the content may hold LINE_IN_MAX - 1 bytes. */
        if (in->len + 1 > LINE_IN_MAX - 1) {
            in->overflow = true;
            in->len = 0;
            continue;
        }
        in->buf[in->len++] = (char)c;
    }
}

/* ---- output ---- */

static char out_buf[LINE_MAX + 8];
static size_t out_len;

static void put(char c)
{
    /* Replies are sized to fit (PROTOCOL.md §2: at most 544 bytes); never write past the buffer. */
    if (out_len < LINE_MAX - 8) out_buf[out_len++] = c;
}

static void puts_(const char *s)
{
    while (*s) put(*s++);
}

static const char HEX[] = "0123456789ABCDEF";

static void id_digits(uint16_t id)
{
    bool started = false;
    for (int sh = 12; sh >= 0; sh -= 4) {
        unsigned d = (id >> sh) & 0xfu;
        if (d || started || sh == 0) {
            put(HEX[d]);
            started = true;
        }
    }
}

void out_id(uint16_t id)
{
    put(' ');
    id_digits(id);
}

void out_begin(uint16_t id, int slot, bool event)
{
    out_len = 0;
    if (event) put('!');
    else id_digits(id);
    put(' ');
    put(slot < 0 ? '-' : HEX[slot & 0xf]);
}

void out_word(const char *w)
{
    put(' ');
    puts_(w);
}

void out_hex_more(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put(HEX[b[i] >> 4]);
        put(HEX[b[i] & 0xf]);
    }
}

void out_hex(const uint8_t *b, size_t n)
{
    put(' ');
    out_hex_more(b, n);
}

static void dec(uint32_t v)
{
    char tmp[10];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (k) put(tmp[--k]);
}

void out_dec(uint32_t v)
{
    put(' ');
    dec(v);
}

void out_kv_dec(const char *key, uint32_t v)
{
    put(' ');
    puts_(key);
    dec(v);
}

void out_kv_str(const char *key, const char *v)
{
    put(' ');
    puts_(key);
    puts_(v);
}

void out_kv_hex(const char *key, const uint8_t *b, size_t n)
{
    put(' ');
    puts_(key);
    out_hex_more(b, n);
}

void out_end(void)
{
    uint16_t crc = crc16_ccitt_false((const uint8_t *)out_buf, out_len);
    out_buf[out_len++] = ' ';
    out_buf[out_len++] = '*';
    for (int sh = 12; sh >= 0; sh -= 4) out_buf[out_len++] = HEX[(crc >> sh) & 0xf];
    out_buf[out_len++] = '\n';
    hal_host_write(out_buf, out_len);
    out_len = 0;
}

/* ---- tokens ---- */

int hex_val(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool parse_hex_u16(const char *s, size_t n, size_t max_digits, uint16_t *out)
{
    if (n == 0 || n > max_digits) return false;
    uint16_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hex_val(s[i]);
        if (d < 0) return false;
        v = (uint16_t)((v << 4) | (unsigned)d);
    }
    *out = v;
    return true;
}

bool parse_hex_bytes(const char *s, size_t n, uint8_t *out, size_t cap, size_t *n_out)
{
    if (n == 0 || (n & 1u) || n / 2 > cap) return false;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_val(s[i]);
        int lo = hex_val(s[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i / 2] = (uint8_t)((hi << 4) | lo);
    }
    *n_out = n / 2;
    return true;
}

bool parse_dec_u32(const char *s, size_t n, uint32_t *out)
{
    if (n == 0 || n > 10) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10u + (uint64_t)(s[i] - '0');
    }
    if (v > 0xffffffffu) return false;
    *out = (uint32_t)v;
    return true;
}

bool tok_eq(const char *s, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n; i++)
        if (lit[i] == '\0' || lit[i] != s[i]) return false;
    return lit[i] == '\0';
}
