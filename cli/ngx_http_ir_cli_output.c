
/*
 * ir-access: what the tool prints: values as JSON strings, or shown in a
 * table's cell with control characters and broken UTF-8 escaped; names
 * near a typo; dates and times.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_cli.h"


static size_t ngx_http_ir_cli_utf8(u_char *p, u_char *last);


/* a string as JSON, UTF-8 kept and anything else escaped; NULL is null */

void
ngx_http_ir_cli_json_str(ngx_str_t *s)
{
    size_t   n;
    u_char  *p, *last, *dst;
    u_char   buf[4096];

    if (s->data == NULL) {
        ngx_http_ir_cli_write((u_char *) "null", 4);
        return;
    }

    dst = buf;
    *dst++ = '"';

    last = s->data + s->len;

    for (p = s->data; p < last; /* void */) {

        if (dst > buf + sizeof(buf) - 16) {
            ngx_http_ir_cli_write(buf, dst - buf);
            dst = buf;
        }

        if (*p == '"' || *p == '\\') {
            *dst++ = '\\';
            *dst++ = *p++;
            continue;
        }

        if (*p < 0x20 || *p == 0x7f) {
            dst = ngx_sprintf(dst, "\\u%04xd", (ngx_uint_t) *p++);
            continue;
        }

        if (*p < 0x80) {
            *dst++ = *p++;
            continue;
        }

        n = ngx_http_ir_cli_utf8(p, last);

        if (n == 0) {
            /* not UTF-8: the replacement character */
            dst = ngx_cpymem(dst, "\\ufffd", 6);
            p++;
            continue;
        }

        dst = ngx_cpymem(dst, p, n);
        p += n;
    }

    *dst++ = '"';

    ngx_http_ir_cli_write(buf, dst - buf);
}


void
ngx_http_ir_cli_json_cstr(const char *s)
{
    ngx_str_t  str;

    if (s == NULL) {
        ngx_str_null(&str);

    } else {
        str.data = (u_char *) s;
        str.len = ngx_strlen(s);
    }

    ngx_http_ir_cli_json_str(&str);
}


void
ngx_http_ir_cli_json_key(const char *key, ngx_uint_t first)
{
    ngx_http_ir_cli_print("%s\"%s\":", first ? "" : ",", key);
}


/*
 * A value shown in a table or a line of text: printable ASCII and UTF-8
 * as they are, anything else as \xNN, cut with "..." where it does not
 * fit between dst and last.
 */

u_char *
ngx_http_ir_cli_show(u_char *dst, u_char *last, ngx_str_t *src)
{
    size_t   n;
    u_char  *p, *end;

    if (last - dst < 8) {
        return dst;
    }

    last -= 3;
    end = src->data + src->len;

    for (p = src->data; p < end; /* void */) {

        n = (*p < 0x80) ? 1 : ngx_http_ir_cli_utf8(p, end);

        if (n == 0 || *p < 0x20 || *p == 0x7f) {
            if (last - dst < 4) {
                break;
            }

            dst = ngx_sprintf(dst, "\\x%02xd", *p++);
            continue;
        }

        if ((size_t) (last - dst) < n) {
            break;
        }

        dst = ngx_cpymem(dst, p, n);
        p += n;
    }

    if (p < end) {
        dst = ngx_cpymem(dst, "...", 3);
    }

    return dst;
}


/* the columns a shown string takes: its characters */

ngx_uint_t
ngx_http_ir_cli_width(ngx_str_t *s)
{
    u_char      *p, *last;
    ngx_uint_t   n;

    n = 0;
    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        if ((*p & 0xc0) != 0x80) {
            n++;
        }
    }

    return n;
}


/* a table's cell: the text, then spaces up to the column's width */

void
ngx_http_ir_cli_cell(ngx_str_t *s, ngx_uint_t width, ngx_uint_t last)
{
    ngx_uint_t  w;
    u_char      pad[256];

    ngx_http_ir_cli_write(s->data, s->len);

    if (last) {
        ngx_http_ir_cli_write((u_char *) "\n", 1);
        return;
    }

    w = ngx_http_ir_cli_width(s);
    w = (width > w) ? width - w : 0;
    w = ngx_min(w + 2, sizeof(pad));

    ngx_memset(pad, ' ', w);
    ngx_http_ir_cli_write(pad, w);
}


/* Levenshtein's distance, ignoring case, between two short words */

ngx_uint_t
ngx_http_ir_cli_distance(ngx_str_t *a, ngx_str_t *b)
{
    ngx_uint_t  i, j, cost, above, left, diagonal;
    ngx_uint_t  row[NGX_HTTP_IR_NAME_MAX + 1];

    if (a->len > NGX_HTTP_IR_NAME_MAX || b->len > NGX_HTTP_IR_NAME_MAX) {
        return NGX_HTTP_IR_NAME_MAX;
    }

    for (j = 0; j <= b->len; j++) {
        row[j] = j;
    }

    for (i = 1; i <= a->len; i++) {
        diagonal = row[0];
        row[0] = i;

        for (j = 1; j <= b->len; j++) {
            cost = (ngx_tolower(a->data[i - 1]) == ngx_tolower(b->data[j - 1]))
                   ? 0 : 1;

            above = row[j] + 1;
            left = row[j - 1] + 1;
            diagonal += cost;

            diagonal = ngx_min(diagonal, ngx_min(above, left));

            cost = row[j];
            row[j] = diagonal;
            diagonal = cost;
        }
    }

    return row[b->len];
}


/*
 * The known word a typo most likely meant: one within two edits, or
 * within half its length where the two share a part before "_" or "."
 * ("valid_until" for "valid_to"); NULL when none is near.
 */

ngx_str_t *
ngx_http_ir_cli_nearest(ngx_str_t *word, ngx_str_t *known, ngx_uint_t n)
{
    u_char      *sep;
    ngx_str_t   *best;
    ngx_uint_t   i, d, min, head;

    best = NULL;
    min = NGX_HTTP_IR_NAME_MAX;

    for (i = 0; i < n; i++) {

        if (known[i].len == word->len
            && ngx_strncmp(known[i].data, word->data, word->len) == 0)
        {
            continue;
        }

        d = ngx_http_ir_cli_distance(word, &known[i]);

        if (d > 2) {
            sep = known[i].data;

            while (sep < known[i].data + known[i].len
                   && *sep != '_' && *sep != '.')
            {
                sep++;
            }

            head = sep - known[i].data;

            if (sep == known[i].data + known[i].len
                || word->len <= head
                || ngx_strncasecmp(word->data, known[i].data, head + 1) != 0
                || d > ngx_max(word->len, known[i].len) / 2)
            {
                continue;
            }
        }

        if (d < min) {
            min = d;
            best = &known[i];
        }
    }

    return best;
}


u_char *
ngx_http_ir_cli_date(u_char *buf, ngx_uint_t date)
{
    return ngx_sprintf(buf, "%04ui-%02ui-%02ui", date / 10000,
                       date / 100 % 100, date % 100);
}


u_char *
ngx_http_ir_cli_time(u_char *buf, time_t t)
{
    struct tm  tm;

    if (gmtime_r(&t, &tm) == NULL) {
        ngx_memzero(&tm, sizeof(struct tm));
    }

    return ngx_sprintf(buf, "%4d-%02d-%02dT%02d:%02d:%02dZ",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec);
}


ngx_int_t
ngx_http_ir_cli_table_init(ngx_http_ir_cli_table_t *t, ngx_uint_t columns,
    ngx_pool_t *pool)
{
    t->columns = columns;
    t->pool = pool;

    return ngx_array_init(&t->cells, pool, columns * 16, sizeof(ngx_str_t));
}


/* the next cell, shown as a value is shown; "-" for an empty one */

void
ngx_http_ir_cli_table_cell(ngx_http_ir_cli_table_t *t, const char *fmt, ...)
{
    u_char     *p;
    va_list     args;
    ngx_str_t  *cell, raw;
    u_char      text[1024];
    u_char      shown[1024];

    va_start(args, fmt);
    p = ngx_vslprintf(text, text + sizeof(text), fmt, args);
    va_end(args);

    raw.data = text;
    raw.len = p - text;

    if (raw.len == 0) {
        ngx_str_set(&raw, "-");
    }

    p = ngx_http_ir_cli_show(shown, shown + sizeof(shown), &raw);

    cell = ngx_array_push(&t->cells);
    if (cell == NULL) {
        return;
    }

    cell->len = p - shown;
    cell->data = ngx_pnalloc(t->pool, cell->len);
    if (cell->data == NULL) {
        cell->len = 0;
        return;
    }

    ngx_memcpy(cell->data, shown, cell->len);
}


void
ngx_http_ir_cli_table_print(ngx_http_ir_cli_table_t *t)
{
    ngx_str_t   *cell;
    ngx_uint_t   i, c, width[16];

    cell = t->cells.elts;

    ngx_memzero(width, sizeof(width));

    for (i = 0; i < t->cells.nelts; i++) {
        c = i % t->columns;
        width[c] = ngx_max(width[c], ngx_http_ir_cli_width(&cell[i]));
    }

    for (i = 0; i < t->cells.nelts; i++) {
        c = i % t->columns;
        ngx_http_ir_cli_cell(&cell[i], width[c], c == t->columns - 1);
    }
}


/* the length of a well-formed UTF-8 character at p, 0 for none */

static size_t
ngx_http_ir_cli_utf8(u_char *p, u_char *last)
{
    size_t  n, i;

    if (*p >= 0xc2 && *p <= 0xdf) {
        n = 2;

    } else if (*p >= 0xe0 && *p <= 0xef) {
        n = 3;

    } else if (*p >= 0xf0 && *p <= 0xf4) {
        n = 4;

    } else {
        return 0;
    }

    if ((size_t) (last - p) < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }

    return n;
}
