
/*
 * ir-access audit query: the entries that match, from the archive's days
 * and then from the stream, read a page at a time (XRANGE ... COUNT), so
 * that a question about a year never holds Redis up.
 *
 * An entry is filed by the day Redis took it, which is its "time" or a
 * little later (a gateway keeps entries while Redis is away), or a
 * little earlier (the hosts' clocks differ): the days from the one
 * before --since to the one after --until are read, and each entry is
 * matched by its own "time".
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_cli.h"
#include "ngx_http_ir_cli_audit.h"


/* how far an entry's time and its id may be apart, ms */
#define NGX_HTTP_IR_CLI_QUERY_MARGIN   86400000

/* rows of a table printed at a time; the widths hold from the first */
#define NGX_HTTP_IR_CLI_QUERY_ROWS     500
#define NGX_HTTP_IR_CLI_QUERY_COLUMNS  9

/* how much of a URI a table shows */
#define NGX_HTTP_IR_CLI_QUERY_URI      60


typedef struct {
    ngx_http_ir_cli_t             *cli;
    ngx_str_t                      needle;        /* a field as JSON */
    ngx_uint_t                     read;
    ngx_uint_t                     matched;
    ngx_uint_t                     files;
    ngx_uint_t                     stream_entries;
    ngx_http_ir_cli_id_t           archived;      /* the archive's last */
    ngx_http_ir_cli_id_t           last;          /* the last one read */
    ngx_http_ir_cli_resume_t       resume;        /* where it was read to */
    ngx_http_ir_cli_line_t        *line;

    u_char                        *buf;           /* a JSON line */
    size_t                         size;

    ngx_pool_t                    *page;          /* a table's rows */
    ngx_array_t                    cells;         /* of ngx_str_t */
    ngx_uint_t                     width[NGX_HTTP_IR_CLI_QUERY_COLUMNS];
    unsigned                       heading:1;
} ngx_http_ir_cli_query_t;


static ngx_int_t ngx_http_ir_cli_query_file(ngx_http_ir_cli_query_t *q,
    ngx_http_ir_cli_day_t *d, ngx_uint_t newest);
static ngx_int_t ngx_http_ir_cli_query_stream(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_entry_t *e, void *data);
static ngx_int_t ngx_http_ir_cli_query_archived(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_day_t *d, ngx_uint_t line, ngx_http_ir_cli_entry_t *e,
    void *data);
static ngx_int_t ngx_http_ir_cli_query_entry(ngx_http_ir_cli_query_t *q,
    ngx_http_ir_cli_entry_t *e);
static ngx_uint_t ngx_http_ir_cli_query_match(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_entry_t *e);
static ngx_uint_t ngx_http_ir_cli_query_is(ngx_http_ir_cli_entry_t *e,
    const char *name, ngx_str_t *want, ngx_uint_t caseless);
static ngx_int_t ngx_http_ir_cli_query_row(ngx_http_ir_cli_query_t *q,
    ngx_http_ir_cli_entry_t *e);
static ngx_int_t ngx_http_ir_cli_query_cell(ngx_http_ir_cli_query_t *q,
    ngx_str_t *value, size_t max);
static void ngx_http_ir_cli_query_flush(ngx_http_ir_cli_query_t *q);


static ngx_str_t  ngx_http_ir_cli_query_heading[] = {
    ngx_string("TIME"),
    ngx_string("USER"),
    ngx_string("ORG"),
    ngx_string("CONTRACT"),
    ngx_string("PURPOSE"),
    ngx_string("SUBJECT"),
    ngx_string("IP"),
    ngx_string("DECISION"),
    ngx_string("URI")
};


int
ngx_http_ir_cli_query(ngx_http_ir_cli_t *cli)
{
    u_char                   *p;
    int64_t                   since, until;
    ngx_str_t                *field;
    ngx_uint_t                i;
    ngx_msec_t                took;
    ngx_array_t               days;
    ngx_http_ir_cli_id_t      from, to;
    ngx_http_ir_cli_day_t    *d;
    ngx_http_ir_cli_line_t    l;
    ngx_http_ir_cli_query_t   q;
    u_char                    first[NGX_HTTP_IR_CLI_AUDIT_DAY_LEN + 1];
    u_char                    last[NGX_HTTP_IR_CLI_AUDIT_DAY_LEN + 1];

    if (cli->argc) {
        ngx_http_ir_cli_error("\"audit query\" takes no argument \"%s\"",
                              cli->argv[0]);
        return NGX_HTTP_IR_CLI_USAGE;
    }

    ngx_memzero(&q, sizeof(ngx_http_ir_cli_query_t));

    q.cli = cli;
    q.line = &l;

    if (ngx_http_ir_cli_line_init(&l, cli->pool) != NGX_OK
        || ngx_array_init(&q.cells, cli->pool,
                          NGX_HTTP_IR_CLI_QUERY_ROWS
                          * NGX_HTTP_IR_CLI_QUERY_COLUMNS,
                          sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_HTTP_IR_CLI_INTERNAL;
    }

    /*
     * A line of the archive that names the user or the subject asked
     * about holds the field as the archiver wrote it: the others are
     * passed over without being read.
     */

    field = cli->audit.subject.len ? &cli->audit.subject
            : cli->audit.user.len ? &cli->audit.user : NULL;

    if (field) {
        q.needle.data = ngx_pnalloc(cli->pool,
                                    16 + ngx_http_ir_cli_json_len(field));
        if (q.needle.data == NULL) {
            return NGX_HTTP_IR_CLI_INTERNAL;
        }

        p = ngx_sprintf(q.needle.data, "\"%s\":",
                        (field == &cli->audit.subject) ? "subject" : "user");
        p = ngx_http_ir_cli_json(p, field);
        *p = '\0';

        q.needle.len = p - q.needle.data;
    }

    since = cli->audit.since;
    until = cli->audit.until;

    /* the archive's days, where it is or was named */

    if (cli->audit.dir_given || access((char *) cli->audit.dir.data, X_OK)
                                == 0)
    {
        if (ngx_http_ir_cli_archive_days(cli, &days, NULL) != NGX_OK
            || ngx_http_ir_cli_last_archived(&days, &l, &q.archived)
               != NGX_OK)
        {
            return NGX_HTTP_IR_CLI_CONF;
        }

        if (since != -1) {
            ngx_http_ir_cli_day(first, since - NGX_HTTP_IR_CLI_QUERY_MARGIN);
        }

        if (until != -1) {
            ngx_http_ir_cli_day(last, until + NGX_HTTP_IR_CLI_QUERY_MARGIN);
        }

        d = days.elts;

        for (i = 0; i < days.nelts; i++) {
            if (since != -1
                && ngx_strncmp(d[i].day, first,
                               NGX_HTTP_IR_CLI_AUDIT_DAY_LEN) < 0)
            {
                continue;
            }

            if (until != -1
                && ngx_strncmp(d[i].day, last,
                               NGX_HTTP_IR_CLI_AUDIT_DAY_LEN) > 0)
            {
                break;
            }

            if (ngx_http_ir_cli_query_file(&q, &d[i], i == days.nelts - 1)
                != NGX_OK)
            {
                return NGX_HTTP_IR_CLI_CONF;
            }
        }
    }

    /* the stream, after what the archive holds */

    ngx_http_ir_cli_audit_pause();

    if (!cli->audit.archive_only) {
        from = q.archived;

        if (ngx_http_ir_cli_id_cmp(&q.last, &from) > 0) {
            from = q.last;
        }

        q.last = from;
        ngx_http_ir_cli_id_next(&from);

        if (since != -1
            && (uint64_t) (since - NGX_HTTP_IR_CLI_QUERY_MARGIN) > from.ms)
        {
            from.ms = since - NGX_HTTP_IR_CLI_QUERY_MARGIN;
            from.seq = 0;
        }

        to.ms = UINT64_MAX;
        to.seq = UINT64_MAX;

        if (until != -1) {
            to.ms = until + NGX_HTTP_IR_CLI_QUERY_MARGIN;
        }

        if (ngx_http_ir_cli_id_cmp(&from, &to) <= 0
            && ngx_http_ir_cli_stream_pages(cli, &from,
                                            (until != -1) ? &to : NULL,
                                            ngx_http_ir_cli_query_stream,
                                            &q)
               != NGX_OK)
        {
            return NGX_HTTP_IR_CLI_REDIS;
        }

        /* what was archived, and trimmed, after the last page */

        if (until == -1
            && ngx_http_ir_cli_resume(cli, &q.resume, &q.last, NULL, &l,
                                      ngx_http_ir_cli_query_archived, &q)
               != NGX_OK)
        {
            return NGX_HTTP_IR_CLI_CONF;
        }
    }

    ngx_http_ir_cli_line_free(&l);

    if (!cli->json) {
        ngx_http_ir_cli_query_flush(&q);
    }

    took = ngx_http_ir_cli_msec() - cli->start;

    fflush(stdout);

    if (cli->json) {
        fprintf(stderr, "ir-access: %lu entries matched, of %lu read (%lu "
                "archive files, %lu entries of the stream), in %lu.%03lus\n",
                (unsigned long) q.matched, (unsigned long) q.read,
                (unsigned long) q.files, (unsigned long) q.stream_entries,
                (unsigned long) (took / 1000), (unsigned long) (took % 1000));

    } else if (cli->audit.archive_only) {
        ngx_http_ir_cli_print("%ui entries matched, of %ui read (%ui archive "
                              "files), in %M.%03Ms\n", q.matched, q.read,
                              q.files, took / 1000, took % 1000);

    } else {
        ngx_http_ir_cli_print("%ui entries matched, of %ui read (%ui archive "
                              "files, %ui entries of the stream \"%V\"), in "
                              "%M.%03Ms\n", q.matched, q.read, q.files,
                              q.stream_entries, &cli->audit.stream,
                              took / 1000, took % 1000);
    }

    ngx_free(q.buf);

    if (q.page) {
        ngx_destroy_pool(q.page);
    }

    return NGX_HTTP_IR_CLI_OK;
}


static ngx_int_t
ngx_http_ir_cli_query_file(ngx_http_ir_cli_query_t *q,
    ngx_http_ir_cli_day_t *d, ngx_uint_t newest)
{
    ngx_int_t                  rc;
    ngx_str_t                  text;
    ngx_http_ir_cli_line_t    *l;
    ngx_http_ir_cli_reader_t   rd;

    l = q->line;

    if (ngx_http_ir_cli_reader_open(&rd, &d->path, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    q->files++;

    for ( ;; ) {
        rc = ngx_http_ir_cli_reader_next(&rd, &text);

        if (rc == NGX_DONE) {
            break;
        }

        if (rc == NGX_ERROR) {
            ngx_http_ir_cli_reader_close(&rd);
            return NGX_ERROR;
        }

        if (rd.torn) {
            /* being written */
            break;
        }

        /* the opening and closing lines are no entries */

        if (text.len < 7 || ngx_strncmp(text.data, "{\"_id\":", 7) != 0) {
            continue;
        }

        q->read++;

        if (q->needle.len
            && memmem(text.data, text.len, q->needle.data, q->needle.len)
               == NULL)
        {
            continue;
        }

        if (ngx_http_ir_cli_line_parse(l, text.data, text.len) != NGX_OK) {
            ngx_http_ir_cli_error("%V:%ui is no archive line: passed over "
                                  "(see \"ir-access audit verify\")",
                                  &d->path, rd.line);
            continue;
        }

        if (l->kind != NGX_HTTP_IR_CLI_LINE_ENTRY) {
            continue;
        }

        q->last = l->entry.sid;

        if (ngx_http_ir_cli_query_entry(q, &l->entry) != NGX_OK) {
            ngx_http_ir_cli_reader_close(&rd);
            return NGX_ERROR;
        }
    }

    /* where the archive was read to, for what the archiver adds */

    if (newest) {
        ngx_memcpy(q->resume.day, d->day, sizeof(q->resume.day));
        q->resume.offset = rd.offset;
        q->resume.line = rd.line - (rd.torn ? 1 : 0);
    }

    ngx_http_ir_cli_reader_close(&rd);

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_cli_query_stream(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_entry_t *e, void *data)
{
    ngx_http_ir_cli_query_t *q = data;

    q->stream_entries++;

    if (ngx_http_ir_cli_id_cmp(&e->sid, &q->last) <= 0) {
        /* archived while the archive was read */
        return NGX_OK;
    }

    /*
     * What the archiver took from the stream since the archive was read,
     * and trimmed, is read from the archive before the page.
     */

    if (e->first
        && ngx_http_ir_cli_resume(cli, &q->resume, &q->last, &e->sid,
                                  q->line, ngx_http_ir_cli_query_archived, q)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    q->read++;
    q->last = e->sid;

    return ngx_http_ir_cli_query_entry(q, e);
}


static ngx_int_t
ngx_http_ir_cli_query_archived(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_day_t *d, ngx_uint_t line, ngx_http_ir_cli_entry_t *e,
    void *data)
{
    ngx_http_ir_cli_query_t *q = data;

    q->read++;

    return ngx_http_ir_cli_query_entry(q, e);
}


static ngx_int_t
ngx_http_ir_cli_query_entry(ngx_http_ir_cli_query_t *q,
    ngx_http_ir_cli_entry_t *e)
{
    size_t   need;
    u_char  *p;

    if (!ngx_http_ir_cli_query_match(q->cli, e)) {
        return NGX_OK;
    }

    q->matched++;

    if (!q->cli->json) {
        return ngx_http_ir_cli_query_row(q, e);
    }

    /* as the archive holds it */

    need = ngx_http_ir_cli_entry_len(e);

    if (q->size < need) {
        ngx_free(q->buf);

        q->size = ngx_max(need, 65536);
        q->buf = ngx_alloc(q->size, ngx_cycle->log);
        if (q->buf == NULL) {
            q->size = 0;
            return NGX_ERROR;
        }
    }

    p = ngx_http_ir_cli_entry_json(q->buf, e);

    ngx_http_ir_cli_write(q->buf, p - q->buf);

    return NGX_OK;
}


static ngx_uint_t
ngx_http_ir_cli_query_match(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_entry_t *e)
{
    int64_t                   ms;
    ngx_str_t                *time;
    ngx_http_ir_cli_audit_t  *a;

    a = &cli->audit;

    if (a->since != -1 || a->until != -1) {
        time = ngx_http_ir_cli_field(e, "time");
        ms = time ? ngx_http_ir_cli_ms(time) : -1;

        if (ms == -1
            || (a->since != -1 && ms < a->since)
            || (a->until != -1 && ms >= a->until))
        {
            return 0;
        }
    }

    if ((a->user.len && !ngx_http_ir_cli_query_is(e, "user", &a->user, 0))
        || (a->org.len && !ngx_http_ir_cli_query_is(e, "org", &a->org, 0))
        || (a->subject.len
            && !ngx_http_ir_cli_query_is(e, "subject", &a->subject, 0))
        || (a->purpose.len
            && !ngx_http_ir_cli_query_is(e, "purpose", &a->purpose, 1)))
    {
        return 0;
    }

    if (a->decision.len
        && !ngx_http_ir_cli_query_is(e, "decision", &a->decision, 0)
        && !ngx_http_ir_cli_query_is(e, "event", &a->decision, 0))
    {
        return 0;
    }

    return 1;
}


static ngx_uint_t
ngx_http_ir_cli_query_is(ngx_http_ir_cli_entry_t *e, const char *name,
    ngx_str_t *want, ngx_uint_t caseless)
{
    ngx_str_t  *value;

    value = ngx_http_ir_cli_field(e, name);

    if (value == NULL || value->len != want->len) {
        return 0;
    }

    if (caseless) {
        return ngx_strncasecmp(value->data, want->data, want->len) == 0;
    }

    return ngx_strncmp(value->data, want->data, want->len) == 0;
}


/* a row of the table: the decision with its reason, or the event */

static ngx_int_t
ngx_http_ir_cli_query_row(ngx_http_ir_cli_query_t *q,
    ngx_http_ir_cli_entry_t *e)
{
    u_char      *p;
    ngx_str_t   *v, empty, decision;
    ngx_uint_t   i;
    u_char       buf[256];

    static const char  *names[] = {
        "time", "user", "org", "contract", "purpose", "subject", "ip"
    };

    if (q->page == NULL) {
        q->page = ngx_create_pool(65536, ngx_cycle->log);
        if (q->page == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_str_set(&empty, "");

    for (i = 0; i < 7; i++) {
        v = ngx_http_ir_cli_field(e, names[i]);

        if (ngx_http_ir_cli_query_cell(q, v ? v : &empty, 64) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    v = ngx_http_ir_cli_field(e, "event");

    if (v == NULL) {
        v = ngx_http_ir_cli_field(e, "decision");
        p = ngx_slprintf(buf, buf + sizeof(buf), "%V", v ? v : &empty);

        v = ngx_http_ir_cli_field(e, "reason");

        if (v && v->len) {
            p = ngx_slprintf(p, buf + sizeof(buf), " %V", v);
        }

        v = ngx_http_ir_cli_field(e, "mode");

        if (v && v->len == 7 && ngx_strncmp(v->data, "dry_run", 7) == 0) {
            p = ngx_slprintf(p, buf + sizeof(buf), " (dry run)");
        }

        decision.data = buf;
        decision.len = p - buf;
        v = &decision;
    }

    if (ngx_http_ir_cli_query_cell(q, v, 64) != NGX_OK) {
        return NGX_ERROR;
    }

    v = ngx_http_ir_cli_field(e, "uri");

    if (v == NULL) {
        v = ngx_http_ir_cli_field(e, "key");
    }

    if (ngx_http_ir_cli_query_cell(q, v ? v : &empty,
                                   NGX_HTTP_IR_CLI_QUERY_URI)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (q->cells.nelts
        == NGX_HTTP_IR_CLI_QUERY_ROWS * NGX_HTTP_IR_CLI_QUERY_COLUMNS)
    {
        ngx_http_ir_cli_query_flush(q);
    }

    return NGX_OK;
}


/* a value shown, control characters escaped, cut with "..." at max */

static ngx_int_t
ngx_http_ir_cli_query_cell(ngx_http_ir_cli_query_t *q, ngx_str_t *value,
    size_t max)
{
    u_char     *p;
    ngx_str_t  *cell, shown;
    u_char      buf[1024];

    shown = *value;

    if (shown.len == 0) {
        ngx_str_set(&shown, "-");
    }

    p = ngx_http_ir_cli_show(buf, buf + ngx_min(max + 3, sizeof(buf)),
                             &shown);

    cell = ngx_array_push(&q->cells);
    if (cell == NULL) {
        return NGX_ERROR;
    }

    cell->len = p - buf;
    cell->data = ngx_pnalloc(q->page, cell->len);
    if (cell->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(cell->data, buf, cell->len);

    return NGX_OK;
}


/*
 * The rows so far, under the heading: the columns as wide as the first
 * rows need, wider where later ones do.
 */

static void
ngx_http_ir_cli_query_flush(ngx_http_ir_cli_query_t *q)
{
    ngx_str_t   *cell;
    ngx_uint_t   i, c, w;

    cell = q->cells.elts;

    if (q->cells.nelts == 0) {
        return;
    }

    if (!q->heading) {
        for (c = 0; c < NGX_HTTP_IR_CLI_QUERY_COLUMNS; c++) {
            q->width[c] = ngx_http_ir_cli_query_heading[c].len;
        }

        for (i = 0; i < q->cells.nelts; i++) {
            c = i % NGX_HTTP_IR_CLI_QUERY_COLUMNS;
            w = ngx_http_ir_cli_width(&cell[i]);
            q->width[c] = ngx_max(q->width[c], w);
        }

        for (c = 0; c < NGX_HTTP_IR_CLI_QUERY_COLUMNS; c++) {
            ngx_http_ir_cli_cell(&ngx_http_ir_cli_query_heading[c],
                                 q->width[c],
                                 c == NGX_HTTP_IR_CLI_QUERY_COLUMNS - 1);
        }

        q->heading = 1;
    }

    for (i = 0; i < q->cells.nelts; i++) {
        c = i % NGX_HTTP_IR_CLI_QUERY_COLUMNS;
        ngx_http_ir_cli_cell(&cell[i], q->width[c],
                             c == NGX_HTTP_IR_CLI_QUERY_COLUMNS - 1);
    }

    q->cells.nelts = 0;

    if (q->page) {
        ngx_reset_pool(q->page);
    }
}
