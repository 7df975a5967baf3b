
/*
 * ir-access: a libFuzzer target for the small parsers of what admins
 * write into Redis: pins and their hints, the "cert" field's words,
 * dates, lists, allowlist entries, names, quotas, a maintenance's times
 * and its hash, and the escaping of values for the log.  The input's
 * first byte picks the parser ("0" to "9"), the rest is its text; each
 * is checked against
 * an oracle written here without its code, or against what it must keep
 * (an entry parsed, printed and parsed again is the same; an escaped
 * value read back is the value).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_addr.h"
#include "ngx_http_ir_fuzz.h"
#include "ngx_http_ir_notice.h"
#include "ngx_http_ir_schema.h"


#define NGX_HTTP_IR_FUZZ_PARSERS       10


static void ngx_http_ir_fuzz_pin(ngx_str_t *text);
static void ngx_http_ir_fuzz_cert(ngx_str_t *text, ngx_pool_t *pool);
static void ngx_http_ir_fuzz_date(ngx_str_t *text);
static void ngx_http_ir_fuzz_list(ngx_str_t *text);
static void ngx_http_ir_fuzz_addr(ngx_str_t *text);
static void ngx_http_ir_fuzz_name(ngx_str_t *text);
static void ngx_http_ir_fuzz_escape(ngx_str_t *text);
static void ngx_http_ir_fuzz_quota(ngx_str_t *text);
static void ngx_http_ir_fuzz_time(ngx_str_t *text);
static void ngx_http_ir_fuzz_notice(ngx_str_t *text);
static ngx_uint_t ngx_http_ir_fuzz_utf8(ngx_str_t *text);
static ngx_int_t ngx_http_ir_fuzz_hex(u_char c);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *input;
    ngx_str_t    text;
    ngx_pool_t  *pool;

    if (size == 0) {
        return 0;
    }

    pool = ngx_http_ir_fuzz_init();

    /* a copy of exact size, so that a read past it is seen */

    input = ngx_alloc(size, pool->log);
    if (input == NULL) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    ngx_memcpy(input, data, size);

    text.data = input + 1;
    text.len = size - 1;

    switch ((u_char) (input[0] - '0') % NGX_HTTP_IR_FUZZ_PARSERS) {

    case 0:
        ngx_http_ir_fuzz_pin(&text);
        break;

    case 1:
        ngx_http_ir_fuzz_cert(&text, pool);
        break;

    case 2:
        ngx_http_ir_fuzz_date(&text);
        break;

    case 3:
        ngx_http_ir_fuzz_list(&text);
        break;

    case 4:
        ngx_http_ir_fuzz_addr(&text);
        break;

    case 5:
        ngx_http_ir_fuzz_name(&text);
        break;

    case 6:
        ngx_http_ir_fuzz_escape(&text);
        break;

    case 7:
        ngx_http_ir_fuzz_quota(&text);
        break;

    case 8:
        ngx_http_ir_fuzz_time(&text);
        break;

    default: /* 9 */
        ngx_http_ir_fuzz_notice(&text);
        break;
    }

    ngx_free(input);
    ngx_destroy_pool(pool);

    return 0;
}


/*
 * A pin is 64 hex digits, colons anywhere, after an optional
 * "Fingerprint="; a hint names 40 digits SHA-1 and 32 MD5.
 */

static void
ngx_http_ir_fuzz_pin(ngx_str_t *text)
{
    u_char       *p, *last;
    ngx_int_t     rc, h;
    ngx_uint_t    n, hex;
    const char   *hint;
    u_char        digest[NGX_HTTP_IR_DIGEST_LEN];
    u_char        expect[NGX_HTTP_IR_DIGEST_LEN];

    rc = ngx_http_ir_parse_pin(text, digest);
    hint = ngx_http_ir_pin_hint(text);

    p = text->data;
    last = p + text->len;

    if (text->len > 12 && ngx_strncasecmp(p, (u_char *) "Fingerprint=", 12)
                          == 0)
    {
        p += 12;
    }

    n = 0;
    hex = 1;

    ngx_memzero(expect, sizeof(expect));

    for ( /* void */ ; p < last; p++) {
        if (*p == ':') {
            continue;
        }

        h = ngx_http_ir_fuzz_hex(*p);

        if (h < 0) {
            hex = 0;
            continue;
        }

        if (n < 2 * NGX_HTTP_IR_DIGEST_LEN) {
            expect[n / 2] |= (u_char) (h << ((n % 2) ? 0 : 4));
        }

        n++;
    }

    if ((rc == NGX_OK) != (hex && n == 2 * NGX_HTTP_IR_DIGEST_LEN)) {
        ngx_http_ir_fuzz_fail("a pin read otherwise than 64 hex digits");
    }

    if (rc == NGX_OK && ngx_memcmp(digest, expect, sizeof(digest)) != 0) {
        ngx_http_ir_fuzz_fail("a pin read into another digest");
    }

    if (hint == NULL
        || (ngx_strncmp(hint, "a SHA-1", 7) == 0) != (hex && n == 40)
        || (ngx_strncmp(hint, "an MD5", 6) == 0) != (hex && n == 32))
    {
        ngx_http_ir_fuzz_fail("a hint for another digest");
    }
}


/*
 * The "cert" field: every pin read is one of its words, the word named
 * in the log is one that is no pin, and a value with a control
 * character is refused whole.
 */

static void
ngx_http_ir_fuzz_cert(ngx_str_t *text, ngx_pool_t *pool)
{
    u_char                *pin, *p, *last, *start;
    ngx_str_t              field, word;
    ngx_uint_t             i, found;
    ngx_http_ir_record_t   rec;
    u_char                 digest[NGX_HTTP_IR_DIGEST_LEN];

    if (ngx_http_ir_record_init(&rec, pool) != NGX_OK) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    rec.user.found = 1;
    ngx_str_set(&field, "cert");

    if (ngx_http_ir_record_field(ngx_http_ir_user_fields, &rec.user,
                                 &rec.user.bad, &field, text, pool)
        != NGX_OK
        || ngx_http_ir_record_finish(&rec, pool) != NGX_OK)
    {
        ngx_http_ir_fuzz_fail("the cert field failed");
    }

    if (rec.user.bad.data) {
        if (ngx_http_ir_value_valid(text) == NGX_OK
            && text->len <= NGX_HTTP_IR_VALUE_MAX)
        {
            ngx_http_ir_fuzz_fail("a clean cert refused");
        }

        return;
    }

    ngx_http_ir_fuzz_check(&rec);

    last = rec.user.cert.data + rec.user.cert.len;
    pin = rec.user.pins.elts;

    for (i = 0; i < rec.user.pins.nelts; i++) {
        found = 0;

        for (p = rec.user.cert.data; p < last && !found; /* void */ ) {
            while (p < last && (*p == ' ' || *p == ',' || *p == '\t')) {
                p++;
            }

            for (start = p; p < last && *p != ' ' && *p != ','
                            && *p != '\t'; p++)
            {
                /* void */
            }

            word.data = start;
            word.len = p - start;

            found = (word.len
                     && ngx_http_ir_parse_pin(&word, digest) == NGX_OK
                     && ngx_memcmp(digest, pin + i * NGX_HTTP_IR_DIGEST_LEN,
                                   NGX_HTTP_IR_DIGEST_LEN)
                        == 0);
        }

        if (!found) {
            ngx_http_ir_fuzz_fail("a pin that is no word of \"cert\"");
        }
    }

    word = rec.user.pin_invalid;

    if (word.data) {
        if (word.data < rec.user.cert.data || word.data + word.len > last
            || word.len == 0
            || ngx_http_ir_parse_pin(&word, digest) == NGX_OK
            || ngx_http_ir_pin_hint(&word) == NULL)
        {
            ngx_http_ir_fuzz_fail("a word named that is a pin, or none");
        }
    }
}


/*
 * A date is checked against the C library: what parses must read back as
 * written and be a day of the calendar, and every "YYYY-MM-DD" from 1900
 * that is a day of the calendar must parse.
 */

static void
ngx_http_ir_fuzz_date(ngx_str_t *text)
{
    u_char      *p, buf[16];
    time_t       t;
    struct tm    tm;
    ngx_int_t    rc;
    ngx_uint_t   i, date, year, month, day, calendar;

    rc = ngx_http_ir_parse_date(text, &date);

    p = text->data;

    if (text->len != 10 || p[4] != '-' || p[7] != '-') {
        if (rc == NGX_OK) {
            ngx_http_ir_fuzz_fail("a date that is not YYYY-MM-DD");
        }

        return;
    }

    for (i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (p[i] < '0' || p[i] > '9')) {
            if (rc == NGX_OK) {
                ngx_http_ir_fuzz_fail("a date with other than digits");
            }

            return;
        }
    }

    year = ngx_atoi(p, 4);
    month = ngx_atoi(p + 5, 2);
    day = ngx_atoi(p + 8, 2);

    ngx_memzero(&tm, sizeof(struct tm));
    tm.tm_year = (int) year - 1900;
    tm.tm_mon = (int) month - 1;
    tm.tm_mday = (int) day;
    tm.tm_hour = 12;

    t = timegm(&tm);

    calendar = (t != (time_t) -1 && tm.tm_year == (int) year - 1900
                && tm.tm_mon == (int) month - 1 && tm.tm_mday == (int) day
                && year >= 1900 && month >= 1);

    if (calendar != (rc == NGX_OK)) {
        ngx_http_ir_fuzz_fail(calendar ? "a day of the calendar refused"
                                       : "a day not of the calendar taken");
    }

    if (rc != NGX_OK) {
        return;
    }

    ngx_sprintf(buf, "%04ui-%02ui-%02ui",
                date / 10000, date / 100 % 100, date % 100);

    if (ngx_memcmp(buf, text->data, 10) != 0) {
        ngx_http_ir_fuzz_fail("a date that reads back otherwise");
    }
}


/* the first line is a word, the rest a list of words */

static void
ngx_http_ir_fuzz_list(ngx_str_t *text)
{
    u_char      *p, *last, *start;
    ngx_str_t    word, list;
    ngx_uint_t   has;

    last = text->data + text->len;

    p = ngx_strlchr(text->data, last, '\n');
    if (p == NULL) {
        p = last;
    }

    word.data = text->data;
    word.len = p - text->data;

    list.data = (p < last) ? p + 1 : last;
    list.len = last - list.data;

    has = 0;

    for (p = list.data; p < last && word.len; /* void */ ) {

        while (p < last && (*p == ' ' || *p == ',' || *p == '\t')) {
            p++;
        }

        for (start = p; p < last && *p != ' ' && *p != ',' && *p != '\t';
             p++)
        {
            /* void */
        }

        if ((size_t) (p - start) == word.len
            && ngx_strncasecmp(start, word.data, word.len) == 0)
        {
            has = 1;
        }
    }

    if ((ngx_http_ir_list_has(&list, &word) == NGX_OK) != has) {
        ngx_http_ir_fuzz_fail("a list read otherwise");
    }
}


/*
 * An allowlist entry taken is exactly a network: no host bits, every
 * address only as written "0.0.0.0/0" or "::/0", mapped IPv6 as IPv4;
 * printed and parsed again, it is the same.
 */

static void
ngx_http_ir_fuzz_addr(ngx_str_t *text)
{
    u_char      *p, *last, *a, *m;
    size_t       len;
    ngx_int_t    rc;
    ngx_str_t    again;
    ngx_uint_t   i, bits;
    ngx_cidr_t   cidr, cidr2;
    u_char       buf[NGX_SOCKADDR_STRLEN + 8];

    rc = ngx_http_ir_addr_parse(text, &cidr);

    last = text->data + text->len;

    for (p = text->data; p < last; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')
              || (*p >= 'A' && *p <= 'F') || *p == '.' || *p == ':'
              || *p == '/'))
        {
            if (rc != NGX_ERROR) {
                ngx_http_ir_fuzz_fail("an entry with other characters");
            }

            return;
        }
    }

    if (rc == NGX_ERROR) {
        return;
    }

    if (rc == NGX_DONE) {
        if (!(text->len == 9 && ngx_strncmp(text->data, "0.0.0.0/0", 9) == 0)
            && !(text->len == 4 && ngx_strncmp(text->data, "::/0", 4) == 0))
        {
            ngx_http_ir_fuzz_fail("every address, written otherwise");
        }

        return;
    }

    if (rc != NGX_OK) {
        ngx_http_ir_fuzz_fail("an entry parsed into what it cannot be");
    }

    bits = 0;

    switch (cidr.family) {

    case AF_INET:
        if (cidr.u.in.mask == 0
            || (cidr.u.in.addr & ~cidr.u.in.mask) != 0
            || (~ntohl(cidr.u.in.mask) & (~ntohl(cidr.u.in.mask) + 1)) != 0)
        {
            ngx_http_ir_fuzz_fail("an IPv4 entry that is no network");
        }

        bits = 32 - __builtin_popcount(~ntohl(cidr.u.in.mask));
        len = ngx_inet_ntop(AF_INET, &cidr.u.in.addr, buf, sizeof(buf));
        break;

    case AF_INET6:
        a = cidr.u.in6.addr.s6_addr;
        m = cidr.u.in6.mask.s6_addr;

        if (m[0] == 0 || IN6_IS_ADDR_V4MAPPED(&cidr.u.in6.addr)) {
            ngx_http_ir_fuzz_fail("an IPv6 entry that is all or mapped");
        }

        for (i = 0; i < 16; i++) {
            if ((a[i] & ~m[i]) != 0
                || (i && m[i] && m[i - 1] != 0xff))
            {
                ngx_http_ir_fuzz_fail("an IPv6 entry that is no network");
            }

            bits += __builtin_popcount(m[i]);
        }

        /*
         * in full: ngx_inet6_ntop() writes "::255.255.255.255", which
         * ngx_inet6_addr() does not read back
         */

        len = ngx_sprintf(buf, "%xd:%xd:%xd:%xd:%xd:%xd:%xd:%xd",
                          a[0] << 8 | a[1], a[2] << 8 | a[3],
                          a[4] << 8 | a[5], a[6] << 8 | a[7],
                          a[8] << 8 | a[9], a[10] << 8 | a[11],
                          a[12] << 8 | a[13], a[14] << 8 | a[15])
              - buf;
        break;

    default:
        ngx_http_ir_fuzz_fail("an entry of no family");
        return;
    }

    p = ngx_sprintf(buf + len, "/%ui", bits);

    again.data = buf;
    again.len = p - buf;

    ngx_memzero(&cidr2, sizeof(ngx_cidr_t));

    if (ngx_http_ir_addr_parse(&again, &cidr2) != NGX_OK
        || cidr2.family != cidr.family
        || (cidr.family == AF_INET
            && (cidr2.u.in.addr != cidr.u.in.addr
                || cidr2.u.in.mask != cidr.u.in.mask))
        || (cidr.family == AF_INET6
            && (ngx_memcmp(&cidr2.u.in6, &cidr.u.in6,
                           sizeof(ngx_in6_cidr_t))
                != 0)))
    {
        fprintf(stderr, "%.*s\n", (int) again.len, again.data);
        ngx_http_ir_fuzz_fail("an entry printed and parsed is another");
    }
}


static void
ngx_http_ir_fuzz_name(ngx_str_t *text)
{
    u_char      *p, *last;
    ngx_uint_t   valid;

    valid = (text->len >= 1 && text->len <= NGX_HTTP_IR_NAME_MAX);
    last = text->data + text->len;

    for (p = text->data; p < last && valid; p++) {
        valid = (ngx_strlchr((u_char *) "abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-",
                             (u_char *) "abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-"
                             + 66, *p)
                 != NULL);
    }

    if ((ngx_http_ir_name_valid(text) == NGX_OK) != valid) {
        ngx_http_ir_fuzz_fail("a name read otherwise");
    }
}


/*
 * The first byte is the room, the rest the value: what is written stays
 * in the room, is printable ASCII without quotes, reads back as the
 * value, and is cut with "..." only where the whole does not fit.
 */

static void
ngx_http_ir_fuzz_escape(ngx_str_t *text)
{
    u_char      *buf, *p, *end, *last, *v;
    size_t       room, whole;
    ngx_int_t    hi, lo;
    ngx_str_t    value;
    ngx_uint_t   cut;

    if (text->len == 0) {
        return;
    }

    room = text->data[0];
    value.data = text->data + 1;
    value.len = text->len - 1;

    buf = malloc(room + 1);
    if (buf == NULL) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    end = ngx_http_ir_escape(buf, buf + room, &value);

    if (end < buf || end > buf + room) {
        ngx_http_ir_fuzz_fail("escaped out of its room");
    }

    whole = 0;
    last = value.data + value.len;

    for (v = value.data; v < last; v++) {
        whole += (*v < 0x20 || *v >= 0x7f || *v == '"' || *v == '\\') ? 4 : 1;
    }

    if (room < 8) {
        if (end != buf) {
            ngx_http_ir_fuzz_fail("escaped into a room too small");
        }

        free(buf);
        return;
    }

    cut = (whole > room);

    if (cut) {
        if (end - buf < 3 || ngx_strncmp(end - 3, "...", 3) != 0) {
            ngx_http_ir_fuzz_fail("a value cut without \"...\"");
        }

        end -= 3;

    } else if ((size_t) (end - buf) != whole) {
        ngx_http_ir_fuzz_fail("a value that fits, cut");
    }

    /* read back */

    v = value.data;

    for (p = buf; p < end; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '"') {
            ngx_http_ir_fuzz_fail("an escaped value with a raw byte");
        }

        if (*p == '\\') {
            if (end - p < 4 || p[1] != 'x') {
                ngx_http_ir_fuzz_fail("a backslash that escapes nothing");
            }

            hi = ngx_http_ir_fuzz_hex(p[2]);
            lo = ngx_http_ir_fuzz_hex(p[3]);

            if (hi < 0 || lo < 0 || v == last || *v != (hi << 4 | lo)) {
                ngx_http_ir_fuzz_fail("an escape that reads back otherwise");
            }

            p += 3;
            v++;
            continue;
        }

        if (v == last || *v != *p) {
            ngx_http_ir_fuzz_fail("a value that reads back otherwise");
        }

        v++;
    }

    if (!cut && v != last) {
        ngx_http_ir_fuzz_fail("a value that fits, shortened");
    }

    free(buf);
}


/* a quota is 1 to 10 decimal digits, at most NGX_HTTP_IR_QUOTA_MAX */

static void
ngx_http_ir_fuzz_quota(ngx_str_t *text)
{
    u_char      *p, *last;
    uint64_t     n;
    ngx_int_t    rc;
    ngx_uint_t   quota, digits;

    quota = 7;
    rc = ngx_http_ir_parse_quota(text, &quota);

    n = 0;
    digits = (text->len >= 1 && text->len <= 10);
    last = text->data + text->len;

    for (p = text->data; p < last && digits; p++) {
        digits = (*p >= '0' && *p <= '9');
        n = n * 10 + (*p - '0');
    }

    if ((rc == NGX_OK) != (digits && n <= NGX_HTTP_IR_QUOTA_MAX)
        || (rc == NGX_OK && quota != n)
        || (rc != NGX_OK && quota != 7))
    {
        ngx_http_ir_fuzz_fail("a quota read otherwise");
    }
}


/*
 * A maintenance's time: what is taken is a day of the calendar, its hour,
 * minute and second, less the offset, as the C library counts seconds;
 * without "Z" or an offset it is a local time, said so.
 */

static void
ngx_http_ir_fuzz_time(ngx_str_t *text)
{
    u_char      *p, *s, *last;
    time_t       t, expect;
    struct tm    tm;
    ngx_int_t    rc, sign;
    ngx_str_t    day;
    ngx_uint_t   date, n;

    rc = ngx_http_ir_parse_time(text, &t);

    if (rc == NGX_ERROR) {
        return;
    }

    if (rc != NGX_OK && rc != NGX_DECLINED) {
        ngx_http_ir_fuzz_fail("a time read into what it cannot be");
    }

    p = text->data;
    last = p + text->len;

    /* the date, the hour and the minute are where they must be */

    day.data = p;
    day.len = 10;

    if (ngx_http_ir_parse_date(&day, &date) != NGX_OK
        || (p[10] | 0x20) != 't' || p[13] != ':')
    {
        ngx_http_ir_fuzz_fail("a time taken without its date or hour");
    }

    ngx_memzero(&tm, sizeof(struct tm));
    tm.tm_year = (int) (date / 10000) - 1900;
    tm.tm_mon = (int) (date / 100 % 100) - 1;
    tm.tm_mday = (int) (date % 100);
    tm.tm_hour = (p[11] - '0') * 10 + (p[12] - '0');
    tm.tm_min = (p[14] - '0') * 10 + (p[15] - '0');

    s = p + 16;

    if (s < last && *s == ':') {
        tm.tm_sec = (s[1] - '0') * 10 + (s[2] - '0');
        s += 3;

        if (s < last && (*s == '.' || *s == ',')) {
            for (s++; s < last && *s >= '0' && *s <= '9'; s++) {
                /* void */
            }
        }
    }

    expect = timegm(&tm);

    if (s == last) {
        if (rc != NGX_DECLINED) {
            ngx_http_ir_fuzz_fail("a local time taken for UTC");
        }

    } else if ((*s | 0x20) == 'z') {
        if (rc != NGX_OK || s + 1 != last) {
            ngx_http_ir_fuzz_fail("a \"Z\" time read otherwise");
        }

    } else if (*s == '+' || *s == '-') {
        sign = (*s == '-') ? -1 : 1;
        s++;
        n = last - s;

        if (rc != NGX_OK || !(n == 2 || n == 4 || n == 5)) {
            ngx_http_ir_fuzz_fail("an offset read otherwise");
        }

        expect -= sign * (((s[0] - '0') * 10 + (s[1] - '0')) * 3600
                          + (n > 2 ? ((s[n - 2] - '0') * 10
                                      + (s[n - 1] - '0')) * 60
                                   : 0));

    } else {
        ngx_http_ir_fuzz_fail("a time taken with other characters");
    }

    if (t != expect) {
        fprintf(stderr, "%ld != %ld\n", (long) t, (long) expect);
        ngx_http_ir_fuzz_fail("a time of other seconds than the calendar's");
    }
}


/*
 * A maintenance's hash, one field a line: "env", "until", then "message"
 * to the end ("-" alone: the field is not there).  What is in effect
 * ends later than now, in a valid "env"; a message is left out of the
 * answers exactly when it is not UTF-8 or holds a control character;
 * and a maintenance closes the places its "env" lists, or all.
 */

static void
ngx_http_ir_fuzz_notice(ngx_str_t *text)
{
    u_char                *p, *last;
    time_t                 t, now;
    ngx_str_t             *field[3], prod, both;
    ngx_uint_t             i, rc, applies, only;
    ngx_http_ir_notice_t   notice;

    ngx_memzero(&notice, sizeof(ngx_http_ir_notice_t));

    field[0] = &notice.env;
    field[1] = &notice.until;
    field[2] = &notice.message;

    p = text->data;
    last = p + text->len;

    for (i = 0; i < 3 && p < last; i++) {
        field[i]->data = p;

        p = (i < 2) ? ngx_strlchr(p, last, '\n') : NULL;
        if (p == NULL) {
            p = last;
        }

        field[i]->len = p - field[i]->data;

        if (field[i]->len == 1 && field[i]->data[0] == '-') {
            ngx_str_null(field[i]);
        }

        if (p < last) {
            p++;
        }
    }

    now = 1795766400;

    rc = ngx_http_ir_notice_read(&notice, NULL, now);

    if (rc > NGX_HTTP_IR_NOTICE_BAD_ENV) {
        ngx_http_ir_fuzz_fail("a maintenance read into what it cannot be");
    }

    if (rc == NGX_HTTP_IR_NOTICE_ON) {
        if (notice.until.data == NULL
            || ngx_http_ir_parse_time(&notice.until, &t) == NGX_ERROR
            || notice.end <= now
            || (notice.env.data
                && (notice.env.len > NGX_HTTP_IR_MAINTENANCE_ENV_MAX
                    || ngx_http_ir_value_valid(&notice.env) != NGX_OK)))
        {
            ngx_http_ir_fuzz_fail("a maintenance in effect that is none");
        }

        if (notice.message.data
            && notice.message_bad
               != (notice.message.len > NGX_HTTP_IR_MESSAGE_MAX
                   || !ngx_http_ir_fuzz_utf8(&notice.message)))
        {
            ngx_http_ir_fuzz_fail("a message kept or left out otherwise");
        }
    }

    if (notice.message.data
        && (ngx_http_ir_notice_text(&notice.message) == NGX_OK)
           != ngx_http_ir_fuzz_utf8(&notice.message))
    {
        ngx_http_ir_fuzz_fail("a message's text read otherwise");
    }

    /* which places it closes, for "ir_access_env prod" */

    ngx_str_set(&prod, "prod");
    applies = ngx_http_ir_notice_applies(&notice.env, &prod);

    only = 1;

    if (notice.env.data) {
        last = notice.env.data + notice.env.len;

        for (p = notice.env.data; p < last; p++) {
            if (*p != ' ' && *p != ',' && *p != '\t') {
                only = 0;
            }
        }
    }

    ngx_str_set(&both, "both");

    if (applies != (only
                    || ngx_http_ir_list_has(&notice.env, &both) == NGX_OK
                    || ngx_http_ir_list_has(&notice.env, &prod) == NGX_OK))
    {
        ngx_http_ir_fuzz_fail("a maintenance closes other places");
    }
}


/* UTF-8 as RFC 3629 has it, without control characters */

static ngx_uint_t
ngx_http_ir_fuzz_utf8(ngx_str_t *text)
{
    u_char      *p, *last;
    uint32_t     c, min;
    ngx_uint_t   n, i;

    p = text->data;
    last = p + text->len;

    while (p < last) {
        c = *p++;

        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) {
                return 0;
            }

            continue;
        }

        if (c >= 0xc2 && c <= 0xdf) {
            n = 1; c &= 0x1f; min = 0x80;

        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2; c &= 0x0f; min = 0x800;

        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3; c &= 0x07; min = 0x10000;

        } else {
            return 0;
        }

        if ((ngx_uint_t) (last - p) < n) {
            return 0;
        }

        for (i = 0; i < n; i++, p++) {
            if ((*p & 0xc0) != 0x80) {
                return 0;
            }

            c = c << 6 | (*p & 0x3f);
        }

        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
            return 0;
        }
    }

    return 1;
}


static ngx_int_t
ngx_http_ir_fuzz_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}
