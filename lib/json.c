/* json.c -- a strict reader for one flat JSON object (see json.h). */
#include "config.h"

#include "json.h"
#include "util.h"

#include <limits.h>
#include <string.h>

/* ---- Decoding the bytes of a string ------------------------------------ */

/* Walks the raw bytes of a string (what lies between its quotes) and yields
 * the decoded bytes one at a time.  Every read is checked against n. */
typedef struct str_iter {
    const char *s;
    size_t n;                /* length of the raw span */
    size_t i;                /* next raw byte to look at */
    unsigned char pend[4];   /* UTF-8 bytes of the escape being yielded */
    unsigned pend_len, pend_pos;
} str_iter;

enum { ITER_END = -1, ITER_BAD = -2 };

static void iter_init(str_iter *it, const char *s, size_t n)
{
    memset(it, 0, sizeof *it);
    it->s = s;
    it->n = n;
}

/* Four hex digits at s (the caller has checked that they are in bounds). */
static int hex4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned char c = (unsigned char)s[k];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* cp is a Unicode scalar value (no surrogates, <= 0x10FFFF). */
static unsigned utf8_encode(uint32_t cp, unsigned char o[4])
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode the escape starting at the backslash s[i] into pend and step over
 * it.  On error i is left at the backslash. */
static int iter_escape(str_iter *it)
{
    const char *e = it->s + it->i;
    size_t left = it->n - it->i; /* >= 1: the backslash itself */
    uint32_t cp, lo;
    size_t used = 2;

    if (left < 2)
        return -1;
    switch (e[1]) {
    case '"': cp = '"'; break;
    case '\\': cp = '\\'; break;
    case '/': cp = '/'; break;
    case 'b': cp = 0x08; break;
    case 'f': cp = 0x0C; break;
    case 'n': cp = 0x0A; break;
    case 'r': cp = 0x0D; break;
    case 't': cp = 0x09; break;
    case 'u':
        if (left < 6 || hex4(e + 2, &cp) != 0)
            return -1;
        used = 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return -1; /* a low surrogate with no high one before it */
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (left < 12 || e[6] != '\\' || e[7] != 'u' || hex4(e + 8, &lo) != 0 ||
                lo < 0xDC00 || lo > 0xDFFF)
                return -1; /* a high surrogate not followed by a low one */
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            used = 12;
        }
        break;
    default:
        return -1;
    }
    it->pend_len = utf8_encode(cp, it->pend);
    it->pend_pos = 0;
    it->i += used;
    return 0;
}

/* The next decoded byte (0..255), ITER_END, or ITER_BAD with i at the
 * offending raw byte. */
static int iter_next(str_iter *it)
{
    unsigned char c;

    if (it->pend_pos < it->pend_len)
        return it->pend[it->pend_pos++];
    if (it->i >= it->n)
        return ITER_END;
    c = (unsigned char)it->s[it->i];
    if (c < 0x20 || c == '"')
        return ITER_BAD;
    if (c != '\\') {
        it->i++;
        return c;
    }
    if (iter_escape(it) != 0)
        return ITER_BAD;
    return it->pend[it->pend_pos++];
}

/* Do two raw key spans decode to the same bytes? */
static int keys_equal(const char *a, size_t an, const char *b, size_t bn)
{
    str_iter ia, ib;

    iter_init(&ia, a, an);
    iter_init(&ib, b, bn);
    for (;;) {
        int x = iter_next(&ia), y = iter_next(&ib);
        if (x != y)
            return 0;
        if (x < 0)
            return x == ITER_END;
    }
}

/* Does a raw key span decode to the NUL-terminated key? */
static int key_matches(const char *raw, size_t n, const char *key)
{
    const unsigned char *k = (const unsigned char *)key;
    str_iter it;

    iter_init(&it, raw, n);
    for (;; k++) {
        int b = iter_next(&it);
        if (b < 0)
            return b == ITER_END && *k == '\0';
        if (*k == '\0' || b != *k)
            return 0;
    }
}

/* ---- The parser -------------------------------------------------------- */

typedef struct parser {
    const char *s;
    size_t len;
    size_t pos;
    char *err;
    size_t errlen;
    ptu_json_field *fields; /* where the outer object's members go */
    size_t max, n;
} parser;

static int fail(parser *p, size_t at, const char *what)
{
    return ptu_err(p->err, p->errlen, -1, "json: %s at offset %zu", what, at);
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

/* At an opening quote: the span between the quotes; pos ends after the
 * closing quote. */
static int parse_string(parser *p, const char **out, size_t *out_len)
{
    size_t start = p->pos + 1, i = start;
    str_iter it;
    int b;

    /* Find the closing quote, stepping over escaped characters. */
    for (;;) {
        unsigned char c;
        if (i >= p->len)
            return fail(p, p->pos, "unterminated string");
        c = (unsigned char)p->s[i];
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(p, i, "control character in string");
        i += c == '\\' ? 2 : 1;
    }
    /* Check every escape in it. */
    iter_init(&it, p->s + start, i - start);
    while ((b = iter_next(&it)) >= 0)
        ;
    if (b == ITER_BAD)
        return fail(p, start + it.i, "invalid escape or unpaired surrogate in string");
    *out = p->s + start;
    *out_len = i - start;
    p->pos = i + 1;
    return 0;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(parser *p)
{
    const char *s = p->s;
    size_t n = p->len, i = p->pos;

    if (i < n && s[i] == '-')
        i++;
    if (i >= n || !is_digit(s[i]))
        return fail(p, p->pos, "invalid number");
    if (s[i] == '0') {
        i++;
        if (i < n && is_digit(s[i]))
            return fail(p, p->pos, "number with a leading zero");
    } else {
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i]))
            return fail(p, i, "number needs digits after '.'");
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            return fail(p, i, "number needs digits in its exponent");
        while (i < n && is_digit(s[i]))
            i++;
    }
    p->pos = i;
    return 0;
}

static int parse_literal(parser *p, const char *word)
{
    size_t wl = strlen(word);
    if (p->len - p->pos < wl || memcmp(p->s + p->pos, word, wl) != 0)
        return fail(p, p->pos, "invalid literal");
    p->pos += wl;
    return 0;
}

static int parse_container(parser *p, int depth);

/* One value of any type, inside a container at level depth. */
static int parse_value(parser *p, int depth, int *type, const char **val, size_t *val_len)
{
    size_t start = p->pos;
    int rc;

    if (p->pos >= p->len)
        return fail(p, p->pos, "expected a value");
    switch (p->s[p->pos]) {
    case '"':
        *type = PTU_JSON_STRING;
        return parse_string(p, val, val_len);
    case '{':
    case '[':
        *type = p->s[p->pos] == '{' ? PTU_JSON_OBJECT : PTU_JSON_ARRAY;
        rc = parse_container(p, depth + 1);
        break;
    case 't':
        *type = PTU_JSON_TRUE;
        rc = parse_literal(p, "true");
        break;
    case 'f':
        *type = PTU_JSON_FALSE;
        rc = parse_literal(p, "false");
        break;
    case 'n':
        *type = PTU_JSON_NULL;
        rc = parse_literal(p, "null");
        break;
    default:
        if (p->s[p->pos] != '-' && !is_digit(p->s[p->pos]))
            return fail(p, p->pos, "expected a value");
        *type = PTU_JSON_NUMBER;
        rc = parse_number(p);
        break;
    }
    if (rc != 0)
        return rc;
    *val = p->s + start;
    *val_len = p->pos - start;
    return 0;
}

/* Record a member of the outer object. */
static int add_member(parser *p, size_t key_at, const ptu_json_field *m)
{
    for (size_t j = 0; j < p->n; j++)
        if (keys_equal(p->fields[j].key, p->fields[j].key_len, m->key, m->key_len))
            return fail(p, key_at, "duplicate key");
    if (p->n >= p->max)
        return ptu_err(p->err, p->errlen, -1, "json: more than %zu members at offset %zu",
                       p->max, key_at);
    p->fields[p->n++] = *m;
    return 0;
}

/* At '{' or '[': the whole container, at level depth (the outer object is
 * level 1 and the only one whose members are recorded). */
static int parse_container(parser *p, int depth)
{
    const char close = p->s[p->pos] == '{' ? '}' : ']';
    const int is_object = close == '}';

    if (depth > PTU_JSON_MAX_DEPTH)
        return fail(p, p->pos, "nesting too deep");
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return 0;
    }
    for (;;) {
        ptu_json_field m = { NULL, 0, 0, NULL, 0 };
        size_t key_at = p->pos;

        if (is_object) {
            if (p->pos >= p->len || p->s[p->pos] != '"')
                return fail(p, p->pos, "expected a string key");
            if (parse_string(p, &m.key, &m.key_len) != 0)
                return -1;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':')
                return fail(p, p->pos, "expected ':' after key");
            p->pos++;
            skip_ws(p);
        }
        if (parse_value(p, depth, &m.type, &m.val, &m.val_len) != 0)
            return -1;
        if (is_object && depth == 1 && add_member(p, key_at, &m) != 0)
            return -1;
        skip_ws(p);
        if (p->pos >= p->len)
            return fail(p, p->pos, is_object ? "unterminated object" : "unterminated array");
        if (p->s[p->pos] == close) {
            p->pos++;
            return 0;
        }
        if (p->s[p->pos] != ',')
            return fail(p, p->pos, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
        p->pos++;
        skip_ws(p);
    }
}

int ptu_json_parse_object(const char *text, size_t len, ptu_json_field *fields, size_t max,
                          size_t *n_out, char *err, size_t errlen)
{
    parser p = { text, len, 0, err, errlen, fields, max, 0 };

    if (n_out)
        *n_out = 0;
    if ((!text && len > 0) || (!fields && max > 0) || !n_out)
        return ptu_err(err, errlen, -1, "json: invalid arguments");
    skip_ws(&p);
    if (p.pos >= len || text[p.pos] != '{')
        return fail(&p, p.pos, "expected '{' (input must be one JSON object)");
    if (parse_container(&p, 1) != 0)
        return -1;
    skip_ws(&p);
    if (p.pos != len)
        return fail(&p, p.pos, "unexpected data after the object");
    *n_out = p.n;
    return 0;
}

/* ---- Reading members --------------------------------------------------- */

const ptu_json_field *ptu_json_find(const ptu_json_field *f, size_t n, const char *key)
{
    if (!f || !key)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (key_matches(f[i].key, f[i].key_len, key))
            return &f[i];
    return NULL;
}

int ptu_json_string(const ptu_json_field *f, char *out, size_t cap)
{
    str_iter it;
    size_t n = 0;
    int b;

    if (!out || cap == 0)
        return -1;
    out[0] = '\0';
    if (!f || f->type != PTU_JSON_STRING || (!f->val && f->val_len > 0))
        return -1;
    iter_init(&it, f->val, f->val_len);
    while ((b = iter_next(&it)) >= 0) {
        /* Room for this byte and the NUL; no NUL inside; fits an int. */
        if (b == 0 || n + 1 >= cap || n >= INT_MAX)
            goto fail;
        out[n++] = (char)b;
    }
    if (b == ITER_BAD)
        goto fail;
    out[n] = '\0';
    ptu_wipe(&it, sizeof it);
    return (int)n;
fail:
    /* Leave no partial copy behind: the string may be a secret. */
    ptu_wipe(out, n);
    out[0] = '\0';
    ptu_wipe(&it, sizeof it);
    return -1;
}

int ptu_json_uint64(const ptu_json_field *f, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (!f || !out || f->type != PTU_JSON_NUMBER || !f->val || f->val_len == 0)
        return -1;
    if (f->val[0] == '0' && f->val_len > 1)
        return -1; /* leading zero, "0.5" or "0e1" */
    for (size_t i = 0; i < f->val_len; i++) {
        uint64_t d;
        if (!is_digit(f->val[i]))
            return -1; /* sign, fraction or exponent */
        d = (uint64_t)(f->val[i] - '0');
        if (d > max || v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}
