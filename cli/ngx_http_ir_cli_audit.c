
/*
 * ir-access audit: what the audit commands share: stream ids and days,
 * entries as JSON lines and back, the archive's files read line by line
 * (compressed or not) and hashed, the stream read a page at a time
 * (XRANGE ... COUNT, never the whole stream), and "audit digest".
 *
 * An archive file holds one UTC day of the stream, by the time in the
 * entries' ids (when Redis took them), so that the files laid end to end
 * and followed by the stream are the stream in its own order:
 *
 *   {"_opened":"2026-03-01","stream":"ir:audit","prev":"<sha256>"}
 *   {"_id":"1772323200000-0","time":"...","host":"...",...}
 *   ...
 *   {"_closed":"2026-03-01","entries":2,"first":"...","last":"...",
 *    "sha256":"<sha256>"}
 *
 * "prev" is the "sha256" of the day before, and "sha256" is taken over
 * every byte of the file before the closing line, so that the days are
 * chained as the entries are.  Values are JSON strings, byte for byte:
 * UTF-8 as it is, other bytes as the lone surrogates \udc80..\udcff (as
 * Python's "surrogateescape"), so that an entry read back has the digest
 * it had in the stream.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <dirent.h>

#include "ngx_http_ir_cli.h"
#include "ngx_http_ir_cli_audit.h"


#define NGX_HTTP_IR_CLI_READ_SIZE      (256 * 1024)
#define NGX_HTTP_IR_CLI_TAIL_SIZE      (64 * 1024)


static size_t ngx_http_ir_cli_utf8_len(u_char *p, u_char *last);
static ngx_int_t ngx_http_ir_cli_json_decode(u_char **pos, u_char *last,
    u_char **dst);
static u_char *ngx_http_ir_cli_utf8_put(u_char *p, uint32_t c);
static ngx_int_t ngx_http_ir_cli_hex4(u_char *p, uint32_t *c);
static ngx_int_t ngx_http_ir_cli_u64(u_char *p, u_char *last, uint64_t *n);
static int ngx_http_ir_cli_day_cmp(const void *one, const void *two);
static void ngx_http_ir_cli_digest_json(ngx_http_ir_cli_day_t *d,
    ngx_http_ir_cli_line_t *l, ngx_uint_t good);


/* stream ids ------------------------------------------------------------ */

ngx_int_t
ngx_http_ir_cli_id_parse(ngx_str_t *text, ngx_http_ir_cli_id_t *id)
{
    u_char  *dash, *last;

    last = text->data + text->len;

    dash = ngx_strlchr(text->data, last, '-');

    if (dash == NULL) {
        id->seq = 0;
        return ngx_http_ir_cli_u64(text->data, last, &id->ms);
    }

    if (ngx_http_ir_cli_u64(text->data, dash, &id->ms) != NGX_OK
        || ngx_http_ir_cli_u64(dash + 1, last, &id->seq) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_ir_cli_id_cmp(ngx_http_ir_cli_id_t *one, ngx_http_ir_cli_id_t *two)
{
    if (one->ms != two->ms) {
        return (one->ms < two->ms) ? -1 : 1;
    }

    if (one->seq != two->seq) {
        return (one->seq < two->seq) ? -1 : 1;
    }

    return 0;
}


u_char *
ngx_http_ir_cli_id_print(u_char *p, ngx_http_ir_cli_id_t *id)
{
    return ngx_sprintf(p, "%uL-%uL", id->ms, id->seq);
}


/* the id right after: where the next page starts */

void
ngx_http_ir_cli_id_next(ngx_http_ir_cli_id_t *id)
{
    if (id->seq == UINT64_MAX) {
        id->ms++;
        id->seq = 0;
        return;
    }

    id->seq++;
}


static ngx_int_t
ngx_http_ir_cli_u64(u_char *p, u_char *last, uint64_t *n)
{
    uint64_t  v;

    if (p == last || last - p > 20) {
        return NGX_ERROR;
    }

    for (v = 0; p < last; p++) {
        if (*p < '0' || *p > '9') {
            return NGX_ERROR;
        }

        if (v > (UINT64_MAX - (*p - '0')) / 10) {
            return NGX_ERROR;
        }

        v = v * 10 + (*p - '0');
    }

    *n = v;

    return NGX_OK;
}


/* days and times, always UTC -------------------------------------------- */

u_char *
ngx_http_ir_cli_day(u_char *p, int64_t ms)
{
    time_t     sec;
    struct tm  tm;

    sec = (time_t) (ms / 1000);

    if (gmtime_r(&sec, &tm) == NULL) {
        ngx_memzero(&tm, sizeof(struct tm));
    }

    return ngx_sprintf(p, "%04d-%02d-%02d", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday);
}


/* "YYYY-MM-DD" as the milliseconds of its first moment; -1 if it is not */

int64_t
ngx_http_ir_cli_day_start(u_char *day)
{
    ngx_str_t   s;
    ngx_uint_t  date;
    struct tm   tm;

    s.data = day;
    s.len = NGX_HTTP_IR_CLI_AUDIT_DAY_LEN;

    if (ngx_http_ir_parse_date(&s, &date) != NGX_OK) {
        return -1;
    }

    ngx_memzero(&tm, sizeof(struct tm));

    tm.tm_year = date / 10000 - 1900;
    tm.tm_mon = date / 100 % 100 - 1;
    tm.tm_mday = date % 100;

    return (int64_t) timegm(&tm) * 1000;
}


/* an entry's "time", "2026-11-27T08:00:00.000Z", in ms; -1 if it is not */

int64_t
ngx_http_ir_cli_ms(ngx_str_t *time)
{
    time_t  sec;
    u_char  *p;

    if (time->len != NGX_HTTP_IR_TIME_LEN) {
        return -1;
    }

    sec = ngx_http_ir_cli_parse_time(time);
    p = time->data + 19;

    if (sec == 0 || p[0] != '.' || p[4] != 'Z'
        || p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9'
        || p[3] < '0' || p[3] > '9')
    {
        return -1;
    }

    return (int64_t) sec * 1000
           + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
}


/*
 * A time an auditor gives: "YYYY-MM-DD", or with "THH:MM", ":SS" and
 * ".mmm" after it ("T" or a space; a "Z" may end it), always UTC.  A day
 * given as --until ends the range with its last moment.
 */

ngx_int_t
ngx_http_ir_cli_when(char *arg, ngx_uint_t until, int64_t *ms)
{
    u_char     *p;
    size_t      len;
    int64_t     day;
    ngx_uint_t  i, n, field[3];

    p = (u_char *) arg;
    len = ngx_strlen(arg);

    if (len && p[len - 1] == 'Z') {
        len--;
    }

    if (len < NGX_HTTP_IR_CLI_AUDIT_DAY_LEN) {
        return NGX_ERROR;
    }

    day = ngx_http_ir_cli_day_start(p);
    if (day == -1) {
        return NGX_ERROR;
    }

    if (len == NGX_HTTP_IR_CLI_AUDIT_DAY_LEN) {
        *ms = until ? day + 86400000 : day;
        return NGX_OK;
    }

    if (p[10] != 'T' && p[10] != ' ') {
        return NGX_ERROR;
    }

    /* HH:MM, :SS, .mmm */

    p += 11;
    len -= 11;

    field[0] = field[1] = field[2] = 0;

    for (i = 0; i < 3; i++) {
        if (len < 2 || p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') {
            return NGX_ERROR;
        }

        field[i] = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
        len -= 2;

        if (len == 0 || *p != ':' || i == 2) {
            break;
        }

        p++;
        len--;
    }

    if (i == 0 || field[0] > 23 || field[1] > 59 || field[2] > 60) {
        return NGX_ERROR;
    }

    *ms = day + ((int64_t) field[0] * 3600 + field[1] * 60 + field[2]) * 1000;

    if (len == 0) {
        return NGX_OK;
    }

    if (*p != '.' || len != 4) {
        return NGX_ERROR;
    }

    for (n = 0, i = 1; i < 4; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return NGX_ERROR;
        }

        n = n * 10 + (p[i] - '0');
    }

    *ms += n;

    return NGX_OK;
}


u_char *
ngx_http_ir_cli_ms_print(u_char *p, int64_t ms)
{
    return ngx_http_ir_time(p, (time_t) (ms / 1000), (ngx_uint_t) (ms % 1000));
}


/* entries as JSON lines ------------------------------------------------- */

/* room for any value: every byte may take six ("\u0001", "\udcff") */

size_t
ngx_http_ir_cli_json_len(ngx_str_t *s)
{
    return 6 * s->len + 2;
}


u_char *
ngx_http_ir_cli_json(u_char *p, ngx_str_t *s)
{
    size_t   n;
    u_char  *q, *last;

    *p++ = '"';

    last = s->data + s->len;

    for (q = s->data; q < last; /* void */) {

        if (*q == '"' || *q == '\\') {
            *p++ = '\\';
            *p++ = *q++;
            continue;
        }

        if (*q < 0x20 || *q == 0x7f) {
            p = ngx_sprintf(p, "\\u%04xd", (ngx_uint_t) *q++);
            continue;
        }

        if (*q < 0x80) {
            *p++ = *q++;
            continue;
        }

        n = ngx_http_ir_cli_utf8_len(q, last);

        if (n == 0) {
            /* a byte that is no UTF-8: a lone surrogate, as Python does */
            p = ngx_sprintf(p, "\\udc%02xd", (ngx_uint_t) *q++);
            continue;
        }

        p = ngx_cpymem(p, q, n);
        q += n;
    }

    *p++ = '"';

    return p;
}


/* the length of a well-formed UTF-8 character at p (RFC 3629), or 0 */

static size_t
ngx_http_ir_cli_utf8_len(u_char *p, u_char *last)
{
    size_t  n, i;
    u_char  lo, hi;

    lo = 0x80;
    hi = 0xbf;

    if (*p >= 0xc2 && *p <= 0xdf) {
        n = 2;

    } else if (*p >= 0xe0 && *p <= 0xef) {
        n = 3;

        if (*p == 0xe0) {
            lo = 0xa0;

        } else if (*p == 0xed) {
            hi = 0x9f;          /* no surrogates */
        }

    } else if (*p >= 0xf0 && *p <= 0xf4) {
        n = 4;

        if (*p == 0xf0) {
            lo = 0x90;

        } else if (*p == 0xf4) {
            hi = 0x8f;
        }

    } else {
        return 0;
    }

    if ((size_t) (last - p) < n || p[1] < lo || p[1] > hi) {
        return 0;
    }

    for (i = 2; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }

    return n;
}


size_t
ngx_http_ir_cli_entry_len(ngx_http_ir_cli_entry_t *e)
{
    size_t         len;
    ngx_uint_t     i;
    ngx_keyval_t  *f;

    len = sizeof("{\"_id\":\"\"}\n") - 1 + e->id.len;

    f = e->fields.elts;

    for (i = 0; i < e->fields.nelts; i++) {
        len += 2 + ngx_http_ir_cli_json_len(&f[i].key)
               + ngx_http_ir_cli_json_len(&f[i].value);
    }

    return len;
}


/* {"_id":"<id>","<name>":"<value>",...} and the end of the line */

u_char *
ngx_http_ir_cli_entry_json(u_char *p, ngx_http_ir_cli_entry_t *e)
{
    ngx_uint_t     i;
    ngx_keyval_t  *f;

    p = ngx_cpymem(p, "{\"_id\":", 7);
    p = ngx_http_ir_cli_json(p, &e->id);

    f = e->fields.elts;

    for (i = 0; i < e->fields.nelts; i++) {
        *p++ = ',';
        p = ngx_http_ir_cli_json(p, &f[i].key);
        *p++ = ':';
        p = ngx_http_ir_cli_json(p, &f[i].value);
    }

    *p++ = '}';
    *p++ = '\n';

    return p;
}


ngx_int_t
ngx_http_ir_cli_entry_init(ngx_http_ir_cli_entry_t *e, ngx_pool_t *pool)
{
    ngx_memzero(e, sizeof(ngx_http_ir_cli_entry_t));

    return ngx_array_init(&e->fields, pool, 32, sizeof(ngx_keyval_t));
}


/* an entry of XRANGE's or XREADGROUP's reply: [id, [name, value, ...]] */

ngx_int_t
ngx_http_ir_cli_entry_reply(ngx_http_ir_cli_entry_t *e, redisReply *r)
{
    size_t         i;
    redisReply    *id, *fields;
    ngx_keyval_t  *f;

    e->fields.nelts = 0;
    e->deleted = 0;

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
        || r->element[0]->type != REDIS_REPLY_STRING)
    {
        return NGX_ERROR;
    }

    id = r->element[0];
    fields = r->element[1];

    e->id.data = (u_char *) id->str;
    e->id.len = id->len;

    if (ngx_http_ir_cli_id_parse(&e->id, &e->sid) != NGX_OK) {
        return NGX_ERROR;
    }

    if (fields->type == REDIS_REPLY_NIL) {
        /* a pending entry deleted since it was read */
        e->deleted = 1;
        return NGX_OK;
    }

    if (fields->type != REDIS_REPLY_ARRAY || fields->elements % 2
        || fields->elements > 2 * NGX_HTTP_IR_CLI_AUDIT_FIELDS)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < fields->elements; i += 2) {
        if (fields->element[i]->type != REDIS_REPLY_STRING
            || fields->element[i + 1]->type != REDIS_REPLY_STRING)
        {
            return NGX_ERROR;
        }

        f = ngx_array_push(&e->fields);
        if (f == NULL) {
            return NGX_ERROR;
        }

        f->key.data = (u_char *) fields->element[i]->str;
        f->key.len = fields->element[i]->len;
        f->value.data = (u_char *) fields->element[i + 1]->str;
        f->value.len = fields->element[i + 1]->len;
    }

    return NGX_OK;
}


ngx_str_t *
ngx_http_ir_cli_field(ngx_http_ir_cli_entry_t *e, const char *name)
{
    size_t         len;
    ngx_uint_t     i;
    ngx_keyval_t  *f;

    len = ngx_strlen(name);
    f = e->fields.elts;

    for (i = 0; i < e->fields.nelts; i++) {
        if (f[i].key.len == len && ngx_strncmp(f[i].key.data, name, len) == 0)
        {
            return &f[i].value;
        }
    }

    return NULL;
}


/*
 * A line of an archive file: a JSON object of strings (and, in the
 * closing line, a number).  The line's strings are decoded into l->data,
 * which grows to the line's length; the fields point there.
 */

ngx_int_t
ngx_http_ir_cli_line_init(ngx_http_ir_cli_line_t *l, ngx_pool_t *pool)
{
    ngx_memzero(l, sizeof(ngx_http_ir_cli_line_t));

    return ngx_array_init(&l->kv, pool, 40, sizeof(ngx_keyval_t));
}


void
ngx_http_ir_cli_line_free(ngx_http_ir_cli_line_t *l)
{
    ngx_free(l->data);
    l->data = NULL;
    l->size = 0;
}


ngx_int_t
ngx_http_ir_cli_line_parse(ngx_http_ir_cli_line_t *l, u_char *p, size_t len)
{
    u_char        *last, *dst, *start;
    ngx_str_t     *s;
    ngx_keyval_t  *f, *kv;
    ngx_uint_t     i;

    if (l->size < len) {
        ngx_free(l->data);

        l->size = ngx_max(len, 4096);
        l->data = ngx_alloc(l->size, ngx_cycle->log);
        if (l->data == NULL) {
            l->size = 0;
            return NGX_ERROR;
        }
    }

    l->kv.nelts = 0;
    l->entry.deleted = 0;

    last = p + len;
    dst = l->data;

#define ngx_http_ir_cli_skip_space()                                         \
    while (p < last && (*p == ' ' || *p == '\t' || *p == '\r')) { p++; }

    ngx_http_ir_cli_skip_space();

    if (p == last || *p++ != '{') {
        return NGX_ERROR;
    }

    for ( ;; ) {
        ngx_http_ir_cli_skip_space();

        if (p < last && *p == '}' && l->kv.nelts == 0) {
            p++;
            break;
        }

        kv = ngx_array_push(&l->kv);
        if (kv == NULL) {
            return NGX_ERROR;
        }

        if (l->kv.nelts > NGX_HTTP_IR_CLI_AUDIT_FIELDS) {
            return NGX_ERROR;
        }

        start = dst;

        if (ngx_http_ir_cli_json_decode(&p, last, &dst) != NGX_OK) {
            return NGX_ERROR;
        }

        kv->key.data = start;
        kv->key.len = dst - start;

        ngx_http_ir_cli_skip_space();

        if (p == last || *p++ != ':') {
            return NGX_ERROR;
        }

        ngx_http_ir_cli_skip_space();

        start = dst;

        if (p < last && *p >= '0' && *p <= '9') {
            while (p < last && *p >= '0' && *p <= '9') {
                *dst++ = *p++;
            }

        } else if (ngx_http_ir_cli_json_decode(&p, last, &dst) != NGX_OK) {
            return NGX_ERROR;
        }

        kv->value.data = start;
        kv->value.len = dst - start;

        ngx_http_ir_cli_skip_space();

        if (p == last) {
            return NGX_ERROR;
        }

        if (*p == ',') {
            p++;
            continue;
        }

        if (*p++ == '}') {
            break;
        }

        return NGX_ERROR;
    }

    ngx_http_ir_cli_skip_space();

#undef ngx_http_ir_cli_skip_space

    if (p != last || l->kv.nelts == 0) {
        return NGX_ERROR;
    }

    f = l->kv.elts;

    /* a view of the line's names and values, never pushed to */

    l->entry.fields = l->kv;

    /* what the line is, by its first name */

#define ngx_http_ir_cli_is_key(kv, name)                                     \
    ((kv)->key.len == sizeof(name) - 1                                       \
     && ngx_strncmp((kv)->key.data, name, sizeof(name) - 1) == 0)

    if (ngx_http_ir_cli_is_key(&f[0], "_id")) {
        l->kind = NGX_HTTP_IR_CLI_LINE_ENTRY;
        l->entry.id = f[0].value;

        if (ngx_http_ir_cli_id_parse(&l->entry.id, &l->entry.sid) != NGX_OK) {
            return NGX_ERROR;
        }

        /* the fields are the entry's own */

        l->entry.fields.elts = f + 1;
        l->entry.fields.nelts--;

        return NGX_OK;
    }

    if (ngx_http_ir_cli_is_key(&f[0], "_opened")) {
        l->kind = NGX_HTTP_IR_CLI_LINE_OPENED;

    } else if (ngx_http_ir_cli_is_key(&f[0], "_closed")) {
        l->kind = NGX_HTTP_IR_CLI_LINE_CLOSED;

    } else {
        return NGX_ERROR;
    }

    l->day = f[0].value;
    ngx_str_null(&l->prev);
    ngx_str_null(&l->first);
    ngx_str_null(&l->last);
    ngx_str_null(&l->sha256);
    l->entries = 0;

    for (i = 1; i < l->kv.nelts; i++) {
        s = &f[i].value;

        if (ngx_http_ir_cli_is_key(&f[i], "prev")) {
            l->prev = *s;

        } else if (ngx_http_ir_cli_is_key(&f[i], "first")) {
            l->first = *s;

        } else if (ngx_http_ir_cli_is_key(&f[i], "last")) {
            l->last = *s;

        } else if (ngx_http_ir_cli_is_key(&f[i], "sha256")) {
            l->sha256 = *s;

        } else if (ngx_http_ir_cli_is_key(&f[i], "entries")) {
            l->entries = ngx_atoi(s->data, s->len);
        }
    }

#undef ngx_http_ir_cli_is_key

    if (l->day.len != NGX_HTTP_IR_CLI_AUDIT_DAY_LEN
        || (l->kind == NGX_HTTP_IR_CLI_LINE_OPENED
            && l->prev.len != NGX_HTTP_IR_DIGEST_HEX)
        || (l->kind == NGX_HTTP_IR_CLI_LINE_CLOSED
            && (l->sha256.len != NGX_HTTP_IR_DIGEST_HEX
                || l->entries == (ngx_uint_t) NGX_ERROR)))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a JSON string at *pos, decoded to *dst: the bytes the encoder took */

static ngx_int_t
ngx_http_ir_cli_json_decode(u_char **pos, u_char *last, u_char **dst)
{
    u_char    *p, *d;
    uint32_t   c, lo;

    p = *pos;
    d = *dst;

    if (p == last || *p++ != '"') {
        return NGX_ERROR;
    }

    for ( ;; ) {
        if (p == last) {
            return NGX_ERROR;
        }

        if (*p == '"') {
            p++;
            break;
        }

        if (*p != '\\') {
            if (*p < 0x20) {
                return NGX_ERROR;
            }

            *d++ = *p++;
            continue;
        }

        if (++p == last) {
            return NGX_ERROR;
        }

        switch (*p++) {
        case '"':
            *d++ = '"';
            continue;
        case '\\':
            *d++ = '\\';
            continue;
        case '/':
            *d++ = '/';
            continue;
        case 'b':
            *d++ = '\b';
            continue;
        case 'f':
            *d++ = '\f';
            continue;
        case 'n':
            *d++ = '\n';
            continue;
        case 'r':
            *d++ = '\r';
            continue;
        case 't':
            *d++ = '\t';
            continue;
        case 'u':
            break;
        default:
            return NGX_ERROR;
        }

        if (last - p < 4 || ngx_http_ir_cli_hex4(p, &c) != NGX_OK) {
            return NGX_ERROR;
        }

        p += 4;

        if (c >= 0xd800 && c <= 0xdbff) {

            /* a pair of surrogates: one character */

            if (last - p < 6 || p[0] != '\\' || p[1] != 'u'
                || ngx_http_ir_cli_hex4(p + 2, &lo) != NGX_OK
                || lo < 0xdc00 || lo > 0xdfff)
            {
                return NGX_ERROR;
            }

            p += 6;
            c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);

        } else if (c >= 0xdc80 && c <= 0xdcff) {

            /* a byte that was no UTF-8 */

            *d++ = (u_char) (c - 0xdc00);
            continue;

        } else if (c >= 0xdc00 && c <= 0xdfff) {
            return NGX_ERROR;
        }

        d = ngx_http_ir_cli_utf8_put(d, c);
    }

    *pos = p;
    *dst = d;

    return NGX_OK;
}


static u_char *
ngx_http_ir_cli_utf8_put(u_char *p, uint32_t c)
{
    if (c < 0x80) {
        *p++ = (u_char) c;

    } else if (c < 0x800) {
        *p++ = (u_char) (0xc0 | (c >> 6));
        *p++ = (u_char) (0x80 | (c & 0x3f));

    } else if (c < 0x10000) {
        *p++ = (u_char) (0xe0 | (c >> 12));
        *p++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
        *p++ = (u_char) (0x80 | (c & 0x3f));

    } else {
        *p++ = (u_char) (0xf0 | (c >> 18));
        *p++ = (u_char) (0x80 | ((c >> 12) & 0x3f));
        *p++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
        *p++ = (u_char) (0x80 | (c & 0x3f));
    }

    return p;
}


static ngx_int_t
ngx_http_ir_cli_hex4(u_char *p, uint32_t *c)
{
    ngx_int_t  n;

    n = ngx_hextoi(p, 4);

    if (n == NGX_ERROR) {
        return NGX_ERROR;
    }

    *c = (uint32_t) n;

    return NGX_OK;
}


/* the archive's files -------------------------------------------------- */

/*
 * "audit-YYYY-MM-DD.jsonl" and ".jsonl.gz" of the folder, by day; from
 * the day "from" on where it is given.
 */

ngx_int_t
ngx_http_ir_cli_archive_days(ngx_http_ir_cli_t *cli, ngx_array_t *days,
    u_char *from)
{
    DIR                    *dir;
    u_char                 *p;
    size_t                  len;
    ngx_str_t              *path, name;
    ngx_uint_t              i, gz;
    struct dirent          *de;
    ngx_http_ir_cli_day_t  *d;

    if (ngx_array_init(days, cli->pool, from ? 2 : 64,
                       sizeof(ngx_http_ir_cli_day_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    dir = opendir((char *) cli->audit.dir.data);

    if (dir == NULL) {
        ngx_http_ir_cli_error("cannot read the archive %V: %s",
                              &cli->audit.dir, strerror(errno));
        return NGX_ERROR;
    }

    for ( ;; ) {
        errno = 0;

        de = readdir(dir);

        if (de == NULL) {
            break;
        }

        name.data = (u_char *) de->d_name;
        name.len = ngx_strlen(de->d_name);

        if (name.len == sizeof("audit-YYYY-MM-DD.jsonl") - 1) {
            gz = 0;

        } else if (name.len == sizeof("audit-YYYY-MM-DD.jsonl.gz") - 1
                   && ngx_strcmp(name.data + name.len - 3, ".gz") == 0)
        {
            gz = 1;

        } else {
            continue;
        }

        if (ngx_strncmp(name.data, "audit-", 6) != 0
            || ngx_strncmp(name.data + 16, ".jsonl", 6) != 0
            || ngx_http_ir_cli_day_start(name.data + 6) == -1
            || (from && ngx_strncmp(name.data + 6, from,
                                    NGX_HTTP_IR_CLI_AUDIT_DAY_LEN) < 0))
        {
            continue;
        }

        d = days->elts;

        for (i = 0; i < days->nelts; i++) {
            if (ngx_strncmp(d[i].day, name.data + 6,
                            NGX_HTTP_IR_CLI_AUDIT_DAY_LEN)
                == 0)
            {
                break;
            }
        }

        if (i == days->nelts) {
            d = ngx_array_push(days);
            if (d == NULL) {
                closedir(dir);
                return NGX_ERROR;
            }

            ngx_memzero(d, sizeof(ngx_http_ir_cli_day_t));
            ngx_cpystrn(d->day, name.data + 6,
                        NGX_HTTP_IR_CLI_AUDIT_DAY_LEN + 1);

        } else {
            d = &d[i];
        }

        len = cli->audit.dir.len + 1 + name.len;

        p = ngx_pnalloc(cli->pool, len + 1);
        if (p == NULL) {
            closedir(dir);
            return NGX_ERROR;
        }

        ngx_sprintf(p, "%V/%V%Z", &cli->audit.dir, &name);

        if (gz) {
            path = &d->path;
            d->gz = 1;

        } else {
            path = &d->plain;
            d->has_plain = 1;
        }

        path->data = p;
        path->len = len;
    }

    if (errno) {
        ngx_http_ir_cli_error("cannot read the archive %V: %s",
                              &cli->audit.dir, strerror(errno));
        closedir(dir);
        return NGX_ERROR;
    }

    closedir(dir);

    /* a day compressed is read compressed: the plain file is a leftover */

    d = days->elts;

    for (i = 0; i < days->nelts; i++) {
        if (!d[i].gz) {
            d[i].path = d[i].plain;
        }
    }

    ngx_qsort(days->elts, days->nelts, sizeof(ngx_http_ir_cli_day_t),
              ngx_http_ir_cli_day_cmp);

    return NGX_OK;
}


static int
ngx_http_ir_cli_day_cmp(const void *one, const void *two)
{
    const ngx_http_ir_cli_day_t  *a = one;
    const ngx_http_ir_cli_day_t  *b = two;

    return ngx_strcmp(a->day, b->day);
}


/*
 * A file read line by line through zlib, which reads a plain file as it
 * is; with "hash", the bytes before the last line returned are hashed.
 */

ngx_int_t
ngx_http_ir_cli_reader_open(ngx_http_ir_cli_reader_t *rd, ngx_str_t *path,
    ngx_uint_t hash)
{
    ngx_memzero(rd, sizeof(ngx_http_ir_cli_reader_t));

    rd->path = *path;

    rd->gz = gzopen((char *) path->data, "rb");

    if (rd->gz == NULL) {
        ngx_http_ir_cli_error("cannot open %V: %s", path,
                              errno ? strerror(errno) : "out of memory");
        return NGX_ERROR;
    }

    (void) gzbuffer(rd->gz, 128 * 1024);

    rd->size = NGX_HTTP_IR_CLI_READ_SIZE;

    rd->buf = ngx_alloc(rd->size, ngx_cycle->log);
    if (rd->buf == NULL) {
        gzclose(rd->gz);
        return NGX_ERROR;
    }

    rd->pos = rd->buf;
    rd->last = rd->buf;

    if (hash) {
        rd->md = EVP_MD_CTX_new();

        if (rd->md == NULL
            || EVP_DigestInit_ex(rd->md, EVP_sha256(), NULL) != 1)
        {
            ngx_http_ir_cli_reader_close(rd);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The next line, without its end: NGX_OK, NGX_DONE at the end, or
 * NGX_ERROR.  A last line without an end of line is returned with
 * rd->torn set.
 */

ngx_int_t
ngx_http_ir_cli_reader_next(ngx_http_ir_cli_reader_t *rd, ngx_str_t *line)
{
    int       n, err;
    u_char   *lf, *buf;
    size_t    len;

    /* the line returned before is now behind the one to come */

    if (rd->prev) {
        if (rd->md && EVP_DigestUpdate(rd->md, rd->prev, rd->pos - rd->prev)
                      != 1)
        {
            return NGX_ERROR;
        }

        rd->prev = NULL;
    }

    for ( ;; ) {
        lf = ngx_strlchr(rd->pos, rd->last, '\n');

        if (lf) {
            line->data = rd->pos;
            line->len = lf - rd->pos;

            rd->prev = rd->pos;
            rd->pos = lf + 1;
            rd->line++;
            rd->offset += line->len + 1;

            return NGX_OK;
        }

        if (rd->eof) {
            if (rd->pos == rd->last) {
                return NGX_DONE;
            }

            line->data = rd->pos;
            line->len = rd->last - rd->pos;

            /* not counted in the offset: it is read again when whole */

            rd->prev = rd->pos;
            rd->pos = rd->last;
            rd->line++;
            rd->torn = 1;

            return NGX_OK;
        }

        /* room for more: what is left moves to the front, or the buffer
         * grows for a long line */

        len = rd->last - rd->pos;

        if (rd->pos > rd->buf) {
            ngx_memmove(rd->buf, rd->pos, len);
            rd->pos = rd->buf;
            rd->last = rd->buf + len;

        } else if (len == rd->size) {
            buf = ngx_alloc(rd->size * 2, ngx_cycle->log);
            if (buf == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(buf, rd->buf, len);
            ngx_free(rd->buf);

            rd->buf = buf;
            rd->size *= 2;
            rd->pos = buf;
            rd->last = buf + len;
        }

        n = gzread(rd->gz, rd->last, rd->size - len);

        if (n < 0) {
            ngx_http_ir_cli_error("cannot read %V: %s", &rd->path,
                                  gzerror(rd->gz, &err));
            return NGX_ERROR;
        }

        if (n == 0) {
            rd->eof = 1;
        }

        rd->last += n;
    }
}


/* the SHA-256 of every byte before the last line returned */

ngx_int_t
ngx_http_ir_cli_reader_digest(ngx_http_ir_cli_reader_t *rd, u_char *hex)
{
    unsigned int  len;
    u_char        digest[EVP_MAX_MD_SIZE];

    if (rd->md == NULL
        || EVP_DigestFinal_ex(rd->md, digest, &len) != 1
        || len * 2 != NGX_HTTP_IR_DIGEST_HEX)
    {
        return NGX_ERROR;
    }

    ngx_hex_dump(hex, digest, len);

    /* a digest is taken once */

    EVP_MD_CTX_free(rd->md);
    rd->md = NULL;

    return NGX_OK;
}


void
ngx_http_ir_cli_reader_close(ngx_http_ir_cli_reader_t *rd)
{
    if (rd->gz) {
        gzclose(rd->gz);
        rd->gz = NULL;
    }

    if (rd->md) {
        EVP_MD_CTX_free(rd->md);
        rd->md = NULL;
    }

    ngx_free(rd->buf);
    rd->buf = NULL;
}


/*
 * The last whole line of a plain file, read from its end; a last line
 * without its end of line is no line (it was being written).  NGX_DONE
 * for a file without one.
 */

ngx_int_t
ngx_http_ir_cli_tail(ngx_str_t *path, ngx_http_ir_cli_line_t *l)
{
    int          fd;
    off_t        off;
    u_char      *buf, *end, *start;
    size_t       chunk;
    ssize_t      n;
    ngx_int_t    rc;
    struct stat  st;

    fd = open((char *) path->data, O_RDONLY);

    if (fd == -1 || fstat(fd, &st) == -1) {
        ngx_http_ir_cli_error("cannot read %V: %s", path, strerror(errno));

        if (fd != -1) {
            close(fd);
        }

        return NGX_ERROR;
    }

    chunk = NGX_HTTP_IR_CLI_TAIL_SIZE;

    for ( ;; ) {
        off = (st.st_size > (off_t) chunk) ? st.st_size - (off_t) chunk : 0;

        buf = ngx_alloc(st.st_size - off + 1, ngx_cycle->log);
        if (buf == NULL) {
            close(fd);
            return NGX_ERROR;
        }

        n = pread(fd, buf, st.st_size - off, off);

        if (n != st.st_size - off) {
            ngx_http_ir_cli_error("cannot read %V: %s", path,
                                  (n == -1) ? strerror(errno)
                                            : "the file shrank");
            ngx_free(buf);
            close(fd);
            return NGX_ERROR;
        }

        /* the last end of line, and the one before it */

        for (end = buf + n; end > buf && *(end - 1) != '\n'; end--) {
            /* void */
        }

        if (end > buf) {
            end--;

            for (start = end; start > buf && *(start - 1) != '\n'; start--) {
                /* void */
            }

            if (start > buf || off == 0) {
                break;
            }

        } else if (off == 0) {
            ngx_free(buf);
            close(fd);
            return NGX_DONE;
        }

        ngx_free(buf);
        chunk *= 4;
    }

    close(fd);

    rc = ngx_http_ir_cli_line_parse(l, start, end - start);

    ngx_free(buf);

    if (rc != NGX_OK) {
        ngx_http_ir_cli_error("the last line of %V is no archive line",
                              path);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The id of the last entry archived: the newest day's last entry, or
 * the "last" of its closing line; 0-0 for an archive without entries.
 */

ngx_int_t
ngx_http_ir_cli_last_archived(ngx_array_t *days, ngx_http_ir_cli_line_t *l,
    ngx_http_ir_cli_id_t *id)
{
    ngx_int_t                  rc;
    ngx_str_t                  line;
    ngx_uint_t                 i, found;
    ngx_http_ir_cli_day_t     *d;
    ngx_http_ir_cli_reader_t   rd;

    id->ms = 0;
    id->seq = 0;

    d = days->elts;

    for (i = days->nelts; i > 0; i--) {

        if (!d[i - 1].gz) {
            rc = ngx_http_ir_cli_tail(&d[i - 1].path, l);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (rc == NGX_DONE || l->kind == NGX_HTTP_IR_CLI_LINE_OPENED) {
                continue;
            }

            if (l->kind == NGX_HTTP_IR_CLI_LINE_ENTRY) {
                *id = l->entry.sid;
                return NGX_OK;
            }

            if (l->first.len == 0) {
                continue;
            }

            return ngx_http_ir_cli_id_parse(&l->last, id);
        }

        /* a compressed day is read through */

        if (ngx_http_ir_cli_reader_open(&rd, &d[i - 1].path, 0) != NGX_OK) {
            return NGX_ERROR;
        }

        found = 0;

        for ( ;; ) {
            rc = ngx_http_ir_cli_reader_next(&rd, &line);

            if (rc == NGX_DONE) {
                break;
            }

            if (rc == NGX_ERROR
                || ngx_http_ir_cli_line_parse(l, line.data, line.len)
                   != NGX_OK)
            {
                ngx_http_ir_cli_error("%V:%ui is no archive line",
                                      &rd.path, rd.line);
                ngx_http_ir_cli_reader_close(&rd);
                return NGX_ERROR;
            }

            if (l->kind == NGX_HTTP_IR_CLI_LINE_ENTRY) {
                *id = l->entry.sid;
                found = 1;
            }
        }

        ngx_http_ir_cli_reader_close(&rd);

        if (found) {
            return NGX_OK;
        }
    }

    return NGX_OK;
}


/*
 * The archive from where a read of it stopped: what the archiver wrote
 * since, up to the id "before" (NULL: all of it), after the id "after",
 * which follows the entries handed over.  A reader of the archive and
 * then of the stream calls it before each page of the stream: what the
 * archiver took from the stream in between, and trimmed, is read here.
 */

ngx_int_t
ngx_http_ir_cli_resume(ngx_http_ir_cli_t *cli, ngx_http_ir_cli_resume_t *rs,
    ngx_http_ir_cli_id_t *after, ngx_http_ir_cli_id_t *before,
    ngx_http_ir_cli_line_t *l, ngx_http_ir_cli_archived_pt handler,
    void *data)
{
    off_t                      offset;
    ngx_int_t                  rc;
    ngx_str_t                  text;
    ngx_uint_t                 i, line;
    ngx_array_t                days;
    ngx_http_ir_cli_day_t     *d;
    ngx_http_ir_cli_reader_t   rd;

    if (rs->day[0] == '\0') {
        return NGX_OK;
    }

    if (ngx_http_ir_cli_archive_days(cli, &days, rs->day) != NGX_OK) {
        return NGX_ERROR;
    }

    d = days.elts;

    for (i = 0; i < days.nelts; i++) {

        rc = ngx_strcmp(d[i].day, rs->day);

        if (rc < 0) {
            continue;
        }

        if (ngx_http_ir_cli_reader_open(&rd, &d[i].path, 0) != NGX_OK) {
            return NGX_ERROR;
        }

        if (rc == 0) {
            /* the plain file as it grew, or its compressed copy */

            if (gzseek(rd.gz, rs->offset, SEEK_SET) != rs->offset) {
                ngx_http_ir_cli_error("cannot read %V again", &d[i].path);
                ngx_http_ir_cli_reader_close(&rd);
                return NGX_ERROR;
            }

            rd.offset = rs->offset;
            rd.line = rs->line;

        } else {
            ngx_memcpy(rs->day, d[i].day, sizeof(rs->day));
            rs->offset = 0;
            rs->line = 0;
        }

        for ( ;; ) {
            offset = rd.offset;
            line = rd.line;

            rc = ngx_http_ir_cli_reader_next(&rd, &text);

            if (rc == NGX_DONE || (rc == NGX_OK && rd.torn)) {
                break;
            }

            if (rc == NGX_ERROR) {
                ngx_http_ir_cli_reader_close(&rd);
                return NGX_ERROR;
            }

            if (ngx_http_ir_cli_line_parse(l, text.data, text.len) != NGX_OK
                || l->kind != NGX_HTTP_IR_CLI_LINE_ENTRY
                || ngx_http_ir_cli_id_cmp(&l->entry.sid, after) <= 0)
            {
                rs->offset = rd.offset;
                rs->line = rd.line;
                continue;
            }

            if (before && ngx_http_ir_cli_id_cmp(&l->entry.sid, before) >= 0)
            {
                /* the stream has it: read there */
                rs->offset = offset;
                rs->line = line;
                ngx_http_ir_cli_reader_close(&rd);
                return NGX_OK;
            }

            rc = handler(cli, &d[i], rd.line, &l->entry, data);

            if (rc != NGX_OK) {
                ngx_http_ir_cli_reader_close(&rd);
                return rc;
            }

            *after = l->entry.sid;
            rs->offset = rd.offset;
            rs->line = rd.line;
        }

        ngx_http_ir_cli_reader_close(&rd);
    }

    return NGX_OK;
}


/* the stream ----------------------------------------------------------- */

/*
 * The stream from "start" to "end" (NULL: its end), a page at a time, so
 * that Redis is never busy with the tool for longer than a page takes.
 * The handler returns NGX_DONE to stop.
 */

ngx_int_t
ngx_http_ir_cli_stream_pages(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_id_t *start, ngx_http_ir_cli_id_t *end,
    ngx_http_ir_cli_entry_pt handler, void *data)
{
    size_t                    i;
    ngx_int_t                 rc;
    redisReply               *reply;
    ngx_http_ir_cli_id_t      from;
    ngx_http_ir_cli_entry_t   e;
    const char               *argv[6];
    size_t                    argvlen[6];
    u_char                    first[NGX_HTTP_IR_CLI_AUDIT_ID_LEN];
    u_char                    last[NGX_HTTP_IR_CLI_AUDIT_ID_LEN];
    u_char                    count[NGX_INT_T_LEN];

    if (ngx_http_ir_cli_entry_init(&e, cli->pool) != NGX_OK) {
        return NGX_ERROR;
    }

    from = *start;

    argv[0] = "XRANGE";
    argvlen[0] = 6;
    argv[1] = (char *) cli->audit.stream.data;
    argvlen[1] = cli->audit.stream.len;
    argv[2] = (char *) first;
    argv[3] = (char *) last;
    argv[4] = "COUNT";
    argvlen[4] = 5;
    argv[5] = (char *) count;
    argvlen[5] = ngx_sprintf(count, "%ui", NGX_HTTP_IR_CLI_AUDIT_PAGE)
                 - count;

    if (end) {
        argvlen[3] = ngx_http_ir_cli_id_print(last, end) - last;

    } else {
        last[0] = '+';
        argvlen[3] = 1;
    }

    for ( ;; ) {
        argvlen[2] = ngx_http_ir_cli_id_print(first, &from) - first;

        reply = ngx_http_ir_cli_command(cli, 6, argv, argvlen);
        if (reply == NULL) {
            return NGX_ERROR;
        }

        if (reply->type != REDIS_REPLY_ARRAY) {
            ngx_http_ir_cli_reply_error(reply, "XRANGE");
            freeReplyObject(reply);
            return NGX_ERROR;
        }

        for (i = 0; i < reply->elements; i++) {
            if (ngx_http_ir_cli_entry_reply(&e, reply->element[i]) != NGX_OK)
            {
                ngx_http_ir_cli_error("an entry of the stream \"%V\" is "
                                      "not as XRANGE gives one",
                                      &cli->audit.stream);
                freeReplyObject(reply);
                return NGX_ERROR;
            }

            e.first = (i == 0);

            rc = handler(cli, &e, data);

            if (rc != NGX_OK) {
                freeReplyObject(reply);
                return (rc == NGX_DONE) ? NGX_OK : NGX_ERROR;
            }

            from = e.sid;
        }

        if (reply->elements < NGX_HTTP_IR_CLI_AUDIT_PAGE) {
            freeReplyObject(reply);
            return NGX_OK;
        }

        freeReplyObject(reply);

        ngx_http_ir_cli_id_next(&from);
    }
}


/*
 * IR_ACCESS_AUDIT_PAUSE=SECONDS: a reader of the archive and the stream
 * waits between the two, for the tests to run the archiver meanwhile.
 */

void
ngx_http_ir_cli_audit_pause(void)
{
    char       *pause;
    ngx_int_t   sec;

    pause = getenv("IR_ACCESS_AUDIT_PAUSE");

    if (pause == NULL) {
        return;
    }

    sec = ngx_atoi((u_char *) pause, ngx_strlen(pause));

    if (sec > 0) {
        (void) sleep((unsigned int) sec);
    }
}


/* Redis's own clock: the stream's ids are taken from it */

ngx_int_t
ngx_http_ir_cli_redis_time(ngx_http_ir_cli_t *cli, int64_t *ms)
{
    ngx_int_t    sec, usec;
    redisReply  *reply;
    const char  *argv[1];
    size_t       argvlen[1];

    argv[0] = "TIME";
    argvlen[0] = 4;

    reply = ngx_http_ir_cli_command(cli, 1, argv, argvlen);
    if (reply == NULL) {
        return NGX_ERROR;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_STRING)
    {
        ngx_http_ir_cli_reply_error(reply, "TIME");
        freeReplyObject(reply);
        return NGX_ERROR;
    }

    sec = ngx_atoi((u_char *) reply->element[0]->str,
                   reply->element[0]->len);
    usec = ngx_atoi((u_char *) reply->element[1]->str,
                    reply->element[1]->len);

    freeReplyObject(reply);

    if (sec == NGX_ERROR || usec == NGX_ERROR) {
        ngx_http_ir_cli_error("Redis's TIME is no time");
        return NGX_ERROR;
    }

    *ms = (int64_t) sec * 1000 + usec / 1000;

    return NGX_OK;
}


ngx_int_t
ngx_http_ir_cli_reply_error(redisReply *r, const char *what)
{
    if (r->type == REDIS_REPLY_ERROR) {
        ngx_http_ir_cli_error("Redis failed %s: %*s", what, r->len, r->str);

    } else {
        ngx_http_ir_cli_error("Redis answered %s unexpectedly", what);
    }

    return NGX_ERROR;
}


/* ir-access audit digest --------------------------------------------- */

/*
 * Each closed day's digest, checked against the file: what is to be
 * published or signed elsewhere, so that a rewritten archive shows.
 */

int
ngx_http_ir_cli_digest(ngx_http_ir_cli_t *cli)
{
    int                        rc;
    ngx_int_t                  n;
    ngx_str_t                  line;
    ngx_uint_t                 i, entries, good, shown;
    ngx_array_t                days;
    ngx_http_ir_cli_day_t     *d;
    ngx_http_ir_cli_line_t     l;
    ngx_http_ir_cli_reader_t   rd;
    u_char                     hex[NGX_HTTP_IR_DIGEST_HEX];

    if (cli->argc) {
        ngx_http_ir_cli_error("\"audit digest\" takes no argument \"%s\"",
                              cli->argv[0]);
        return NGX_HTTP_IR_CLI_USAGE;
    }

    if (ngx_http_ir_cli_archive_days(cli, &days, NULL) != NGX_OK
        || ngx_http_ir_cli_line_init(&l, cli->pool) != NGX_OK)
    {
        return NGX_HTTP_IR_CLI_CONF;
    }

    rc = NGX_HTTP_IR_CLI_OK;
    shown = 0;
    d = days.elts;

    for (i = 0; i < days.nelts; i++) {

        if (cli->audit.day.len
            && ngx_strncmp(d[i].day, cli->audit.day.data,
                           NGX_HTTP_IR_CLI_AUDIT_DAY_LEN)
               != 0)
        {
            continue;
        }

        if (ngx_http_ir_cli_reader_open(&rd, &d[i].path, 1) != NGX_OK) {
            return NGX_HTTP_IR_CLI_CONF;
        }

        entries = 0;

        for ( ;; ) {
            n = ngx_http_ir_cli_reader_next(&rd, &line);

            if (n == NGX_DONE) {
                break;
            }

            if (n == NGX_ERROR
                || ngx_http_ir_cli_line_parse(&l, line.data, line.len)
                   != NGX_OK)
            {
                ngx_http_ir_cli_error("%V:%ui is no archive line",
                                      &rd.path, rd.line);
                ngx_http_ir_cli_reader_close(&rd);
                return NGX_HTTP_IR_CLI_FOUND;
            }

            if (l.kind == NGX_HTTP_IR_CLI_LINE_ENTRY) {
                entries++;
                continue;
            }

            if (l.kind == NGX_HTTP_IR_CLI_LINE_CLOSED) {
                break;
            }
        }

        if (n == NGX_DONE) {
            ngx_http_ir_cli_reader_close(&rd);

            if (cli->audit.day.len) {
                ngx_http_ir_cli_error("the day %s is not closed yet",
                                      d[i].day);
                return NGX_HTTP_IR_CLI_FOUND;
            }

            continue;
        }

        if (ngx_http_ir_cli_reader_digest(&rd, hex) != NGX_OK) {
            ngx_http_ir_cli_reader_close(&rd);
            return NGX_HTTP_IR_CLI_INTERNAL;
        }

        good = (ngx_strncmp(hex, l.sha256.data, NGX_HTTP_IR_DIGEST_HEX) == 0
                && entries == l.entries
                && ngx_http_ir_cli_reader_next(&rd, &line) == NGX_DONE);

        ngx_http_ir_cli_reader_close(&rd);

        shown++;

        if (!good) {
            ngx_http_ir_cli_error("%V does not match its closing line: "
                                  "its content has changed since (run "
                                  "\"ir-access audit verify\")", &d[i].path);
            rc = NGX_HTTP_IR_CLI_FOUND;
        }

        if (cli->json) {
            ngx_http_ir_cli_digest_json(&d[i], &l, good);
            continue;
        }

        ngx_http_ir_cli_print("%s sha256:%V entries:%ui first:%V last:%V%s\n",
                              d[i].day, &l.sha256, l.entries, &l.first,
                              &l.last, good ? "" : " CHANGED");
    }

    if (cli->audit.day.len && shown == 0) {
        ngx_http_ir_cli_error("the archive %V has no day %V",
                              &cli->audit.dir, &cli->audit.day);
        return NGX_HTTP_IR_CLI_FOUND;
    }

    ngx_http_ir_cli_line_free(&l);

    return rc;
}


static void
ngx_http_ir_cli_digest_json(ngx_http_ir_cli_day_t *d,
    ngx_http_ir_cli_line_t *l, ngx_uint_t good)
{
    ngx_http_ir_cli_print("{\"day\":\"%s\",\"file\":", d->day);
    ngx_http_ir_cli_json_str(&d->path);
    ngx_http_ir_cli_print(",\"sha256\":");
    ngx_http_ir_cli_json_str(&l->sha256);
    ngx_http_ir_cli_print(",\"entries\":%ui,\"first\":", l->entries);
    ngx_http_ir_cli_json_str(&l->first);
    ngx_http_ir_cli_print(",\"last\":");
    ngx_http_ir_cli_json_str(&l->last);
    ngx_http_ir_cli_print(",\"verified\":%s}\n", good ? "true" : "false");
}
