
/*
 * ir-access audit verify: the audit trail's chains, through the archive
 * and then the stream, and the archive's days.
 *
 * Every writer (a gateway's worker, from its start) chains its entries:
 * "chain" names the writer, "seq" numbers its entries and "prev" is the
 * SHA-256 of the one before (ngx_http_ir_trail.c, the gateway's own code,
 * computes it here too).  Read in the stream's order, a chain says:
 *
 *   - seq n+1 whose "prev" is not the digest of seq n: one of the two
 *     was changed;
 *   - seq n+2 after seq n: seq n+1 is missing, which an "audit_dropped"
 *     entry of the same chain explains (the gateway lost it, and says
 *     why), or else it was deleted;
 *   - seq n after seq m > n: out of order, or forged; unless seqs n..m
 *     come again, identical (their last digest equal to the first
 *     time's): the gateway sent them again after a lost connection.
 *
 * Each archive day's file begins with the digest of the day before and
 * ends with its own, over all of its bytes: a day changed, removed or
 * replaced shows.  What an attacker who rewrites a whole chain, or the
 * archive from some day on, consistently does is not seen here: the
 * digests published elsewhere ("audit digest") show that.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_cli.h"
#include "ngx_http_ir_cli_audit.h"


#define NGX_HTTP_IR_CLI_BROKEN         0
#define NGX_HTTP_IR_CLI_EXPLAINED      1
#define NGX_HTTP_IR_CLI_NOTE           2

/* findings printed at most; all are counted */
#define NGX_HTTP_IR_CLI_FINDINGS_MAX   1000


/* where an entry is: a line of a day's file, or the stream */

typedef struct {
    ngx_http_ir_cli_id_t           id;
    ngx_http_ir_cli_day_t         *day;           /* NULL: the stream */
    ngx_uint_t                     line;
    int64_t                        time;          /* the entry's; -1 */
    unsigned                       start:1;       /* a chain's start */
} ngx_http_ir_cli_where_t;


typedef struct {
    ngx_uint_t                     from;
    ngx_uint_t                     to;
    ngx_http_ir_cli_where_t        before;
    ngx_http_ir_cli_where_t        after;
} ngx_http_ir_cli_gap_t;


typedef struct {
    ngx_uint_t                     from;
    ngx_uint_t                     to;
    int64_t                        time;
    ngx_str_t                      cause;
} ngx_http_ir_cli_drop_t;


typedef struct {
    ngx_str_node_t                 sn;            /* the chain's id */
    int64_t                        start;         /* from its id; -1 */
    ngx_uint_t                     seq;
    u_char                         digest[NGX_HTTP_IR_DIGEST_HEX];
    ngx_http_ir_cli_where_t        where;
    ngx_uint_t                     entries;

    /* seqs seen again: sent twice, or out of order */
    ngx_uint_t                     replay;        /* its first seq; 0 */
    ngx_uint_t                     replay_seq;
    u_char                         replay_digest[NGX_HTTP_IR_DIGEST_HEX];
    ngx_http_ir_cli_where_t        replay_where;

    ngx_array_t                   *gaps;
    ngx_array_t                   *drops;
    unsigned                       before:1;      /* began before the read */
} ngx_http_ir_cli_chain_t;


typedef struct {
    int64_t                        time;
    ngx_str_t                      op;
    ngx_str_t                      host;
} ngx_http_ir_cli_deletion_t;


typedef struct {
    ngx_uint_t                     severity;
    const char                    *kind;
    ngx_str_t                      chain;
    ngx_str_t                      text;
} ngx_http_ir_cli_finding_t;


/* an archived entry that the stream still holds, to be compared */

typedef struct {
    ngx_http_ir_cli_id_t           id;
    ngx_http_ir_cli_day_t         *day;
    ngx_uint_t                     line;
    u_char                         digest[NGX_HTTP_IR_DIGEST_HEX];
} ngx_http_ir_cli_copy_t;


typedef struct {
    ngx_http_ir_cli_t             *cli;
    ngx_array_t                    days;          /* of the archive */
    ngx_array_t                    findings;
    ngx_uint_t                     count[3];
    ngx_rbtree_t                   chains;
    ngx_rbtree_node_t              sentinel;
    ngx_uint_t                     nchains;
    ngx_array_t                    deletions;
    ngx_array_t                    copies;
    ngx_uint_t                     copy;          /* the next to compare */

    int64_t                        start;         /* of what is read */
    ngx_http_ir_cli_id_t           last;          /* the last id read */
    ngx_http_ir_cli_id_t           archived;      /* the archive's last */
    ngx_http_ir_cli_resume_t       resume;        /* where it was read to */
    ngx_http_ir_cli_line_t         line;
    ngx_http_ir_cli_id_t           stream_first;  /* where it is read */
    ngx_http_ir_cli_id_t           end;           /* --until, as an id */

    ngx_uint_t                     entries;
    ngx_uint_t                     files;
    ngx_uint_t                     stream_entries;
    ngx_uint_t                     compared;
    ngx_uint_t                     unchained;
    ngx_uint_t                     before;
    ngx_uint_t                     twice;

    unsigned                       have_last:1;
    unsigned                       have_stream:1;
    unsigned                       reading_stream:1;
} ngx_http_ir_cli_verify_t;


static ngx_int_t ngx_http_ir_cli_verify_file(ngx_http_ir_cli_verify_t *v,
    ngx_uint_t i, u_char *prev_digest, ngx_uint_t *prev_closed);
static ngx_int_t ngx_http_ir_cli_verify_stream(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_entry_t *e, void *data);
static ngx_int_t ngx_http_ir_cli_verify_archived(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_day_t *d, ngx_uint_t line, ngx_http_ir_cli_entry_t *e,
    void *data);
static ngx_int_t ngx_http_ir_cli_verify_entry(ngx_http_ir_cli_verify_t *v,
    ngx_http_ir_cli_entry_t *e, ngx_http_ir_cli_where_t *w, u_char *hex);
static ngx_int_t ngx_http_ir_cli_verify_link(ngx_http_ir_cli_verify_t *v,
    ngx_http_ir_cli_chain_t *c, ngx_uint_t seq, ngx_str_t *prev,
    u_char *hex, ngx_http_ir_cli_where_t *w);
static ngx_int_t ngx_http_ir_cli_verify_gap(ngx_http_ir_cli_verify_t *v,
    ngx_http_ir_cli_chain_t *c, ngx_uint_t from, ngx_uint_t to,
    ngx_http_ir_cli_where_t *before, ngx_http_ir_cli_where_t *after);
static void ngx_http_ir_cli_verify_refill(ngx_http_ir_cli_chain_t *c,
    ngx_uint_t seq);
static ngx_int_t ngx_http_ir_cli_verify_event(ngx_http_ir_cli_verify_t *v,
    ngx_http_ir_cli_chain_t *c, ngx_http_ir_cli_entry_t *e, int64_t time);
static ngx_http_ir_cli_chain_t *ngx_http_ir_cli_verify_chain(
    ngx_http_ir_cli_verify_t *v, ngx_str_t *id);
static ngx_int_t ngx_http_ir_cli_verify_end(ngx_http_ir_cli_verify_t *v);
static ngx_int_t ngx_http_ir_cli_verify_explain(ngx_http_ir_cli_verify_t *v,
    ngx_http_ir_cli_chain_t *c, ngx_http_ir_cli_gap_t *gap);
static void ngx_http_ir_cli_verify_walk(ngx_http_ir_cli_verify_t *v,
    ngx_rbtree_node_t *node, ngx_int_t (*handler)(
    ngx_http_ir_cli_verify_t *v, ngx_http_ir_cli_chain_t *c));
static ngx_int_t ngx_http_ir_cli_verify_chain_end(
    ngx_http_ir_cli_verify_t *v, ngx_http_ir_cli_chain_t *c);
static u_char *ngx_http_ir_cli_where(ngx_http_ir_cli_verify_t *v,
    u_char *p, u_char *last, ngx_http_ir_cli_where_t *w);
static void ngx_http_ir_cli_verify_found(ngx_http_ir_cli_verify_t *v,
    ngx_uint_t severity, const char *kind, ngx_str_t *chain,
    const char *fmt, ...);
static int ngx_http_ir_cli_drop_cmp(const void *one, const void *two);
static void ngx_http_ir_cli_verify_print(ngx_http_ir_cli_verify_t *v,
    ngx_msec_t took);


static const char  *ngx_http_ir_cli_verdicts[] = {
    "broken", "explained", "note"
};


int
ngx_http_ir_cli_verify(ngx_http_ir_cli_t *cli)
{
    ngx_str_t                  text;
    ngx_uint_t                 i, prev_closed;
    redisReply                *reply;
    ngx_http_ir_cli_id_t       from, id;
    ngx_http_ir_cli_day_t     *d;
    ngx_http_ir_cli_verify_t   v;
    const char                *argv[6];
    size_t                     argvlen[6];
    u_char                     prev[NGX_HTTP_IR_DIGEST_HEX];
    u_char                     end[NGX_HTTP_IR_CLI_AUDIT_DAY_LEN + 1];

    if (cli->argc) {
        ngx_http_ir_cli_error("\"audit verify\" takes no argument \"%s\"",
                              cli->argv[0]);
        return NGX_HTTP_IR_CLI_USAGE;
    }

    ngx_memzero(&v, sizeof(ngx_http_ir_cli_verify_t));

    v.cli = cli;
    v.start = -1;

    ngx_rbtree_init(&v.chains, &v.sentinel, ngx_str_rbtree_insert_value);

    if (ngx_http_ir_cli_line_init(&v.line, cli->pool) != NGX_OK
        || ngx_array_init(&v.findings, cli->pool, 16,
                          sizeof(ngx_http_ir_cli_finding_t))
           != NGX_OK
        || ngx_array_init(&v.deletions, cli->pool, 4,
                          sizeof(ngx_http_ir_cli_deletion_t))
           != NGX_OK
        || ngx_array_init(&v.copies, cli->pool, 64,
                          sizeof(ngx_http_ir_cli_copy_t))
           != NGX_OK)
    {
        return NGX_HTTP_IR_CLI_INTERNAL;
    }

    /* the archive is read where it is, or was named */

    if (cli->audit.dir_given || access((char *) cli->audit.dir.data, X_OK)
                                == 0)
    {
        if (ngx_http_ir_cli_archive_days(cli, &v.days, NULL) != NGX_OK) {
            return NGX_HTTP_IR_CLI_CONF;
        }

    } else if (ngx_array_init(&v.days, cli->pool, 1,
                              sizeof(ngx_http_ir_cli_day_t))
               != NGX_OK)
    {
        return NGX_HTTP_IR_CLI_INTERNAL;
    }

    if (cli->audit.until != -1) {
        v.end.ms = (uint64_t) cli->audit.until - 1;
        v.end.seq = UINT64_MAX;
    }

    /*
     * The stream's first entry, before the archive is read: archived
     * entries from there on are compared with the stream's.
     */

    v.stream_first.ms = UINT64_MAX;

    if (!cli->audit.archive_only) {
        argv[0] = "XRANGE";
        argvlen[0] = 6;
        argv[1] = (char *) cli->audit.stream.data;
        argvlen[1] = cli->audit.stream.len;
        argv[2] = "-";
        argvlen[2] = 1;
        argv[3] = "+";
        argvlen[3] = 1;
        argv[4] = "COUNT";
        argvlen[4] = 5;
        argv[5] = "1";
        argvlen[5] = 1;

        reply = ngx_http_ir_cli_command(cli, 6, argv, argvlen);
        if (reply == NULL) {
            return NGX_HTTP_IR_CLI_REDIS;
        }

        if (reply->type != REDIS_REPLY_ARRAY) {
            ngx_http_ir_cli_reply_error(reply, "XRANGE");
            freeReplyObject(reply);
            return NGX_HTTP_IR_CLI_REDIS;
        }

        if (reply->elements
            && reply->element[0]->type == REDIS_REPLY_ARRAY
            && reply->element[0]->elements == 2
            && reply->element[0]->element[0]->type == REDIS_REPLY_STRING)
        {
            text.data = (u_char *) reply->element[0]->element[0]->str;
            text.len = reply->element[0]->element[0]->len;

            if (ngx_http_ir_cli_id_parse(&text, &from) == NGX_OK) {
                v.stream_first = from;
                v.have_stream = 1;
            }
        }

        freeReplyObject(reply);

        if (cli->audit.since != -1
            && (uint64_t) cli->audit.since > v.stream_first.ms)
        {
            v.stream_first.ms = cli->audit.since;
            v.stream_first.seq = 0;
        }
    }

    /* the days asked for */

    ngx_memcpy(prev, NGX_HTTP_IR_TRAIL_START, NGX_HTTP_IR_DIGEST_HEX);
    prev_closed = 0;

    if (cli->audit.until != -1) {
        ngx_http_ir_cli_day(end, cli->audit.until - 1);
    }

    d = v.days.elts;

    for (i = 0; i < v.days.nelts; i++) {
        if (cli->audit.since != -1
            && ngx_http_ir_cli_day_start(d[i].day) + 86400000
               <= cli->audit.since)
        {
            continue;
        }

        if (cli->audit.until != -1
            && ngx_strncmp(d[i].day, end, NGX_HTTP_IR_CLI_AUDIT_DAY_LEN) > 0)
        {
            break;
        }

        if (ngx_http_ir_cli_verify_file(&v, i, prev, &prev_closed)
            != NGX_OK)
        {
            return NGX_HTTP_IR_CLI_CONF;
        }
    }

    /* the stream, after what the archive holds */

    ngx_http_ir_cli_audit_pause();

    if (v.have_stream
        && (cli->audit.until == -1
            || ngx_http_ir_cli_id_cmp(&v.stream_first, &v.end) <= 0))
    {
        v.reading_stream = 1;

        id = v.stream_first;

        if (ngx_http_ir_cli_stream_pages(cli, &id,
                                         (cli->audit.until != -1)
                                         ? &v.end : NULL,
                                         ngx_http_ir_cli_verify_stream, &v)
            != NGX_OK)
        {
            return NGX_HTTP_IR_CLI_REDIS;
        }

        /* what was archived, and trimmed, after the last page */

        if (cli->audit.until == -1
            && ngx_http_ir_cli_resume(cli, &v.resume, &v.last, NULL, &v.line,
                                      ngx_http_ir_cli_verify_archived, &v)
               != NGX_OK)
        {
            return NGX_HTTP_IR_CLI_CONF;
        }
    }

    ngx_http_ir_cli_line_free(&v.line);

    if (ngx_http_ir_cli_verify_end(&v) != NGX_OK) {
        return NGX_HTTP_IR_CLI_INTERNAL;
    }

    ngx_http_ir_cli_verify_print(&v, ngx_http_ir_cli_msec() - cli->start);

    return v.count[NGX_HTTP_IR_CLI_BROKEN] ? NGX_HTTP_IR_CLI_FOUND
                                           : NGX_HTTP_IR_CLI_OK;
}


/*
 * A day's file: its opening line and its link to the day before, its
 * entries in order and of its day, and its closing line against what it
 * holds.
 */

static ngx_int_t
ngx_http_ir_cli_verify_file(ngx_http_ir_cli_verify_t *v, ngx_uint_t i,
    u_char *prev_digest, ngx_uint_t *prev_closed)
{
    ngx_int_t                  rc;
    ngx_str_t                  text, name, first, last;
    ngx_uint_t                 entries, closed, newest;
    ngx_http_ir_cli_day_t     *d;
    ngx_http_ir_cli_copy_t    *copy;
    ngx_http_ir_cli_line_t     l;
    ngx_http_ir_cli_where_t    w;
    ngx_http_ir_cli_reader_t   rd;
    u_char                     hex[NGX_HTTP_IR_DIGEST_HEX];
    u_char                     day[NGX_HTTP_IR_CLI_AUDIT_DAY_LEN];

    d = v->days.elts;
    d = &d[i];

    name = d->path;
    name.data += v->cli->audit.dir.len + 1;
    name.len -= v->cli->audit.dir.len + 1;

    newest = (i == v->days.nelts - 1);

    if (ngx_http_ir_cli_line_init(&l, v->cli->pool) != NGX_OK
        || ngx_http_ir_cli_reader_open(&rd, &d->path, 1) != NGX_OK)
    {
        return NGX_ERROR;
    }

    v->files++;

    entries = 0;
    closed = 0;
    ngx_str_null(&first);
    ngx_str_null(&last);

    for ( ;; ) {
        rc = ngx_http_ir_cli_reader_next(&rd, &text);

        if (rc == NGX_DONE) {
            break;
        }

        if (rc == NGX_ERROR) {
            ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                         "file_unreadable", NULL,
                                         "%V: unreadable after line %ui: "
                                         "cut short or damaged", &name,
                                         rd.line);
            break;
        }

        if (closed) {
            ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                         "file_after_close", NULL,
                                         "%V:%ui: a line after the closing "
                                         "line: added after the day was "
                                         "closed", &name, rd.line);
            continue;
        }

        if (rd.torn && !(newest && !d->gz)) {
            ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                         "file_cut", NULL,
                                         "%V:%ui: the last line has no end: "
                                         "cut short", &name, rd.line);
        }

        if (ngx_http_ir_cli_line_parse(&l, text.data, text.len) != NGX_OK) {
            if (rd.torn) {
                ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_NOTE,
                                             "file_writing", NULL,
                                             "%V:%ui: a line being written",
                                             &name, rd.line);
                continue;
            }

            ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                         "bad_line", NULL,
                                         "%V:%ui: no archive line", &name,
                                         rd.line);
            continue;
        }

        if (rd.line == 1) {
            if (l.kind != NGX_HTTP_IR_CLI_LINE_OPENED
                || ngx_strncmp(l.day.data, d->day,
                               NGX_HTTP_IR_CLI_AUDIT_DAY_LEN) != 0)
            {
                ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                             "file_opening", NULL,
                                             "%V:1: not the opening line of "
                                             "the day %s", &name, d->day);

            } else if (*prev_closed) {
                if (ngx_strncmp(l.prev.data, prev_digest,
                                NGX_HTTP_IR_DIGEST_HEX)
                    != 0)
                {
                    ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                             "file_link", NULL,
                                             "%V:1: \"prev\" %V is not the "
                                             "digest of the day before in the "
                                             "archive (%*s): a day was "
                                             "removed, added or replaced",
                                             &name, &l.prev,
                                             (size_t) NGX_HTTP_IR_DIGEST_HEX,
                                             prev_digest);
                }

            } else if (ngx_strncmp(l.prev.data, NGX_HTTP_IR_TRAIL_START,
                                   NGX_HTTP_IR_DIGEST_HEX)
                       != 0)
            {
                ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_NOTE,
                                             "file_first", NULL,
                                             "%V: the day before (sha256 %V) "
                                             "is not read: before --since, "
                                             "or deleted after its years",
                                             &name, &l.prev);
            }

            if (l.kind == NGX_HTTP_IR_CLI_LINE_OPENED) {
                continue;
            }
        }

        if (l.kind == NGX_HTTP_IR_CLI_LINE_OPENED) {
            ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                         "bad_line", NULL,
                                         "%V:%ui: an opening line in the "
                                         "middle", &name, rd.line);
            continue;
        }

        if (l.kind == NGX_HTTP_IR_CLI_LINE_CLOSED) {
            closed = 1;

            if (ngx_http_ir_cli_reader_digest(&rd, hex) != NGX_OK) {
                ngx_http_ir_cli_reader_close(&rd);
                return NGX_ERROR;
            }

            if (ngx_strncmp(hex, l.sha256.data, NGX_HTTP_IR_DIGEST_HEX) != 0)
            {
                ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                             "file_digest", NULL,
                                             "%V: its content is not what "
                                             "its closing line's sha256 (%V) "
                                             "was taken of (it is %*s): "
                                             "changed after it was closed",
                                             &name, &l.sha256,
                                             (size_t) NGX_HTTP_IR_DIGEST_HEX,
                                             hex);
            }

            if (l.entries != entries
                || l.first.len != first.len || l.last.len != last.len
                || ngx_strncmp(l.first.data, first.data, first.len) != 0
                || ngx_strncmp(l.last.data, last.data, last.len) != 0)
            {
                ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                             "file_count", NULL,
                                             "%V: the closing line says %ui "
                                             "entries, %V to %V; the file "
                                             "holds %ui, %V to %V", &name,
                                             l.entries, &l.first, &l.last,
                                             entries, &first, &last);
            }

            ngx_memcpy(prev_digest, l.sha256.data, NGX_HTTP_IR_DIGEST_HEX);
            continue;
        }

        /* an entry of this day, after the one before */

        entries++;

        ngx_http_ir_cli_day(day, (int64_t) l.entry.sid.ms);

        if (ngx_strncmp(day, d->day, NGX_HTTP_IR_CLI_AUDIT_DAY_LEN) != 0) {
            ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                         "file_day", NULL,
                                         "%V:%ui: the entry %V is of "
                                         "another day: moved here",
                                         &name, rd.line, &l.entry.id);
        }

        if (first.len == 0) {
            first.data = ngx_pnalloc(v->cli->pool, l.entry.id.len);
            if (first.data == NULL) {
                return NGX_ERROR;
            }

            first.len = l.entry.id.len;
            ngx_memcpy(first.data, l.entry.id.data, first.len);
        }

        last.data = ngx_pnalloc(v->cli->pool, l.entry.id.len);
        if (last.data == NULL) {
            return NGX_ERROR;
        }

        last.len = l.entry.id.len;
        ngx_memcpy(last.data, l.entry.id.data, last.len);

        w.id = l.entry.sid;
        w.day = d;
        w.line = rd.line;
        w.start = 0;

        if (ngx_http_ir_cli_verify_entry(v, &l.entry, &w, hex) != NGX_OK) {
            ngx_http_ir_cli_reader_close(&rd);
            return NGX_ERROR;
        }

        v->archived = l.entry.sid;

        /* the stream still holds it: compared later */

        if (v->have_stream
            && ngx_http_ir_cli_id_cmp(&l.entry.sid, &v->stream_first) >= 0)
        {
            copy = ngx_array_push(&v->copies);
            if (copy == NULL) {
                return NGX_ERROR;
            }

            copy->id = l.entry.sid;
            copy->day = d;
            copy->line = rd.line;
            ngx_memcpy(copy->digest, hex, NGX_HTTP_IR_DIGEST_HEX);
        }
    }

    /* where the archive was read to, for what the archiver adds */

    if (newest) {
        ngx_memcpy(v->resume.day, d->day, sizeof(v->resume.day));
        v->resume.offset = rd.offset;
        v->resume.line = rd.line - (rd.torn ? 1 : 0);
    }

    ngx_http_ir_cli_reader_close(&rd);
    ngx_http_ir_cli_line_free(&l);

    if (!closed) {
        if (d->gz || !newest) {
            ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                         "file_unclosed", NULL,
                                         "%V: no closing line, and not the "
                                         "day being written: cut short",
                                         &name);
        }

        *prev_closed = 0;

    } else {
        *prev_closed = 1;
    }

    return NGX_OK;
}


/*
 * An entry of the stream: one the archive holds too is compared with it,
 * by its digest; the others are verified.
 */

static ngx_int_t
ngx_http_ir_cli_verify_stream(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_entry_t *e, void *data)
{
    ngx_http_ir_cli_verify_t *v = data;

    ngx_str_t                 name;
    ngx_http_ir_cli_copy_t   *copy;
    ngx_http_ir_cli_where_t   w;
    u_char                    hex[NGX_HTTP_IR_DIGEST_HEX];

    v->stream_entries++;

    w.id = e->sid;
    w.day = NULL;
    w.line = 0;
    w.start = 0;

    if (ngx_http_ir_cli_id_cmp(&e->sid, &v->archived) > 0 || v->files == 0)
    {
        /*
         * What the archiver took from the stream since the archive was
         * read, and trimmed, is read from the archive before the page.
         */

        if (e->first && v->files
            && ngx_http_ir_cli_resume(cli, &v->resume, &v->last, &e->sid,
                                      &v->line,
                                      ngx_http_ir_cli_verify_archived, v)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        return ngx_http_ir_cli_verify_entry(v, e, &w, hex);
    }

    /* archived already: the same? */

    copy = v->copies.elts;

    while (v->copy < v->copies.nelts
           && ngx_http_ir_cli_id_cmp(&copy[v->copy].id, &e->sid) < 0)
    {
        /*
         * Archived, and then deleted from the stream: trimmed from its
         * front by the archiver while it was read, or deleted from its
         * middle (the archive has it)
         */

        if (!v->compared) {
            v->copy++;
            continue;
        }

        name = copy[v->copy].day->path;

        ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_NOTE,
                                     "deleted_after_archive", NULL,
                                     "the entry %uL-%uL, archived in %V:%ui, "
                                     "is no more in the stream: deleted after "
                                     "it was archived", copy[v->copy].id.ms,
                                     copy[v->copy].id.seq, &name,
                                     copy[v->copy].line);
        v->copy++;
    }

    if (v->copy == v->copies.nelts
        || ngx_http_ir_cli_id_cmp(&copy[v->copy].id, &e->sid) != 0)
    {
        ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                     "not_archived", NULL,
                                     "the stream's entry %V is older than "
                                     "the archive's last (%uL-%uL) but not in "
                                     "the archive: added to the stream with "
                                     "an old id, or deleted from the archive",
                                     &e->id, v->archived.ms, v->archived.seq);
        return NGX_OK;
    }

    if (ngx_http_ir_trail_digest(e->fields.elts, e->fields.nelts, hex)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    v->compared++;

    if (ngx_strncmp(hex, copy[v->copy].digest, NGX_HTTP_IR_DIGEST_HEX) != 0) {
        name = copy[v->copy].day->path;

        ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                     "copy_differs", NULL,
                                     "the stream's entry %V differs from its "
                                     "archived copy in %V:%ui: one of them "
                                     "was changed", &e->id, &name,
                                     copy[v->copy].line);
    }

    v->copy++;

    return NGX_OK;
}


/* an entry the archiver wrote while the stream was read */

static ngx_int_t
ngx_http_ir_cli_verify_archived(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_day_t *d, ngx_uint_t line, ngx_http_ir_cli_entry_t *e,
    void *data)
{
    ngx_http_ir_cli_verify_t *v = data;

    ngx_http_ir_cli_where_t  w;
    u_char                   hex[NGX_HTTP_IR_DIGEST_HEX];

    w.id = e->sid;
    w.day = d;
    w.line = line;
    w.start = 0;

    v->archived = e->sid;

    return ngx_http_ir_cli_verify_entry(v, e, &w, hex);
}


/* an entry in its chain; hex gets its digest */

static ngx_int_t
ngx_http_ir_cli_verify_entry(ngx_http_ir_cli_verify_t *v,
    ngx_http_ir_cli_entry_t *e, ngx_http_ir_cli_where_t *w, u_char *hex)
{
    u_char                   *p, *last;
    ngx_int_t                 seq;
    ngx_str_t                *chain, *sseq, *prev, *time;
    ngx_http_ir_cli_chain_t  *c;
    u_char                    text[256];

    v->entries++;

    if (ngx_http_ir_trail_digest(e->fields.elts, e->fields.nelts, hex)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    time = ngx_http_ir_cli_field(e, "time");
    w->time = time ? ngx_http_ir_cli_ms(time) : -1;

    if (v->start == -1) {
        v->start = (v->cli->audit.since != -1) ? v->cli->audit.since
                                              : (int64_t) e->sid.ms;
    }

    /* the ids only grow */

    if (v->have_last && ngx_http_ir_cli_id_cmp(&e->sid, &v->last) <= 0) {
        last = text + sizeof(text);
        p = ngx_http_ir_cli_where(v, text, last, w);

        ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN, "id_order",
                                     NULL, "%*s comes after %uL-%uL: "
                                     "the ids go back (the archive's lines "
                                     "were moved)", p - text, text,
                                     v->last.ms, v->last.seq);
    }

    v->last = e->sid;
    v->have_last = 1;

    chain = ngx_http_ir_cli_field(e, "chain");
    sseq = ngx_http_ir_cli_field(e, "seq");
    prev = ngx_http_ir_cli_field(e, "prev");

    if (chain == NULL || sseq == NULL || prev == NULL) {
        /* written before entries were chained */
        v->unchained++;
        return NGX_OK;
    }

    c = ngx_http_ir_cli_verify_chain(v, chain);
    if (c == NULL) {
        return NGX_ERROR;
    }

    seq = ngx_atoi(sseq->data, sseq->len);

    if (seq < 1 || prev->len != NGX_HTTP_IR_DIGEST_HEX) {
        last = text + sizeof(text);
        p = ngx_http_ir_cli_where(v, text, last, w);

        ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN, "bad_link",
                                     chain, "%*s: \"seq\" %V or \"prev\" %V "
                                     "is not the gateway's: changed",
                                     p - text, text, sseq, prev);
        return NGX_OK;
    }

    if (ngx_http_ir_cli_verify_event(v, c, e, w->time) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_ir_cli_verify_link(v, c, seq, prev, hex, w);
}


/* seq and prev against the chain so far */

static ngx_int_t
ngx_http_ir_cli_verify_link(ngx_http_ir_cli_verify_t *v,
    ngx_http_ir_cli_chain_t *c, ngx_uint_t seq, ngx_str_t *prev,
    u_char *hex, ngx_http_ir_cli_where_t *w)
{
    u_char                   *p, *q, *last;
    ngx_http_ir_cli_where_t   start;
    u_char                    here[256], there[256];

    last = here + sizeof(here);

    if (c->entries++ == 0) {

        if (seq == 1) {
            if (ngx_strncmp(prev->data, NGX_HTTP_IR_TRAIL_START,
                            NGX_HTTP_IR_DIGEST_HEX)
                != 0)
            {
                p = ngx_http_ir_cli_where(v, here, last, w);

                ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                             "changed", &c->sn.str,
                                             "seq 1 at %*s: its \"prev\" is "
                                             "not the start of a chain: "
                                             "changed", p - here, here);
            }

        } else if (c->start == -1 || c->start < v->start) {
            c->before = 1;
            v->before++;

        } else {
            ngx_memzero(&start, sizeof(ngx_http_ir_cli_where_t));
            start.start = 1;
            start.time = c->start;

            if (ngx_http_ir_cli_verify_gap(v, c, 1, seq - 1, &start, w)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        goto next;
    }

    if (c->replay) {

        /* seqs seen again: each follows the one before, up to the last */

        if (seq == c->replay_seq + 1
            && ngx_strncmp(prev->data, c->replay_digest,
                           NGX_HTTP_IR_DIGEST_HEX)
               == 0
            && seq <= c->seq)
        {
            c->replay_seq = seq;
            ngx_memcpy(c->replay_digest, hex, NGX_HTTP_IR_DIGEST_HEX);

            if (seq < c->seq) {
                return NGX_OK;
            }

            goto replayed;
        }

        p = ngx_http_ir_cli_where(v, here, last, &c->replay_where);
        q = ngx_http_ir_cli_where(v, there, there + sizeof(there), &c->where);

        ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                     "out_of_order", &c->sn.str,
                                     "seq %ui at %*s comes after seq %ui at "
                                     "%*s, and is no copy of it: out of "
                                     "order, or forged", c->replay,
                                     p - here, here, c->seq, q - there,
                                     there);
        c->replay = 0;

        /* and this one is taken as it comes */
    }

    if (seq <= c->seq) {
        c->replay = seq;
        c->replay_seq = seq;
        c->replay_where = *w;
        ngx_memcpy(c->replay_digest, hex, NGX_HTTP_IR_DIGEST_HEX);

        ngx_http_ir_cli_verify_refill(c, seq);

        if (seq < c->seq) {
            return NGX_OK;
        }

        goto replayed;
    }

    if (seq == c->seq + 1) {
        if (ngx_strncmp(prev->data, c->digest, NGX_HTTP_IR_DIGEST_HEX) != 0) {
            p = ngx_http_ir_cli_where(v, here, last, &c->where);
            q = ngx_http_ir_cli_where(v, there, there + sizeof(there), w);

            ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                         "changed", &c->sn.str,
                                         "seq %ui at %*s is not what the "
                                         "\"prev\" of seq %ui at %*s was "
                                         "taken of: one of them was changed",
                                         c->seq, p - here, here, seq,
                                         q - there, there);
        }

        goto next;
    }

    /* seq > c->seq + 1: entries missing */

    if (ngx_http_ir_cli_verify_gap(v, c, c->seq + 1, seq - 1, &c->where, w)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

next:

    c->seq = seq;
    c->where = *w;
    ngx_memcpy(c->digest, hex, NGX_HTTP_IR_DIGEST_HEX);

    return NGX_OK;

replayed:

    /* back at the last seq: the same digest, the same entries */

    if (ngx_strncmp(c->replay_digest, c->digest, NGX_HTTP_IR_DIGEST_HEX) == 0)
    {
        v->twice += c->seq - c->replay + 1;

        p = ngx_http_ir_cli_where(v, here, last, &c->replay_where);

        ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_NOTE, "twice",
                                     &c->sn.str,
                                     "seqs %ui-%ui again from %*s, the same "
                                     "entries: the gateway sent them again "
                                     "after a lost connection", c->replay,
                                     c->seq, p - here, here);
        c->replay = 0;
        return NGX_OK;
    }

    p = ngx_http_ir_cli_where(v, here, last, &c->replay_where);
    q = ngx_http_ir_cli_where(v, there, there + sizeof(there), &c->where);

    ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN, "out_of_order",
                                 &c->sn.str,
                                 "seq %ui at %*s comes after seq %ui at %*s, "
                                 "and is no copy of it: out of order, or "
                                 "forged", c->replay, p - here, here,
                                 c->seq, q - there, there);
    c->replay = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_cli_verify_gap(ngx_http_ir_cli_verify_t *v,
    ngx_http_ir_cli_chain_t *c, ngx_uint_t from, ngx_uint_t to,
    ngx_http_ir_cli_where_t *before, ngx_http_ir_cli_where_t *after)
{
    ngx_http_ir_cli_gap_t  *gap;

    if (c->gaps == NULL) {
        c->gaps = ngx_array_create(v->cli->pool, 2,
                                   sizeof(ngx_http_ir_cli_gap_t));
        if (c->gaps == NULL) {
            return NGX_ERROR;
        }
    }

    gap = ngx_array_push(c->gaps);
    if (gap == NULL) {
        return NGX_ERROR;
    }

    gap->from = from;
    gap->to = to;
    gap->before = *before;
    gap->after = *after;

    return NGX_OK;
}


/* an entry missing that came later, out of order: no more missing */

static void
ngx_http_ir_cli_verify_refill(ngx_http_ir_cli_chain_t *c, ngx_uint_t seq)
{
    ngx_uint_t              i;
    ngx_http_ir_cli_gap_t  *gap;

    if (c->gaps == NULL) {
        return;
    }

    gap = c->gaps->elts;

    for (i = 0; i < c->gaps->nelts; i++) {
        if (seq < gap[i].from || seq > gap[i].to) {
            continue;
        }

        if (gap[i].from == gap[i].to) {
            gap[i] = gap[--c->gaps->nelts];
            return;
        }

        /* the gap's one end, or two gaps: the second as its copy */

        if (seq == gap[i].from) {
            gap[i].from++;

        } else if (seq == gap[i].to) {
            gap[i].to--;

        } else {
            gap = ngx_array_push(c->gaps);
            if (gap == NULL) {
                return;
            }

            gap = c->gaps->elts;
            gap[c->gaps->nelts - 1] = gap[i];
            gap[c->gaps->nelts - 1].from = seq + 1;
            gap[i].to = seq - 1;
        }

        return;
    }
}


/* what the trail says of itself: the gateway's gaps, and deletions */

static ngx_int_t
ngx_http_ir_cli_verify_event(ngx_http_ir_cli_verify_t *v,
    ngx_http_ir_cli_chain_t *c, ngx_http_ir_cli_entry_t *e, int64_t time)
{
    u_char                      *dash;
    ngx_int_t                    from, to;
    ngx_str_t                   *event, *seqs, *cause, *op, *host;
    ngx_http_ir_cli_drop_t      *drop;
    ngx_http_ir_cli_deletion_t  *del;

    event = ngx_http_ir_cli_field(e, "event");

    if (event == NULL) {
        return NGX_OK;
    }

    if (event->len == sizeof("audit_deleted") - 1
        && ngx_strncmp(event->data, "audit_deleted", event->len) == 0)
    {
        op = ngx_http_ir_cli_field(e, "op");
        host = ngx_http_ir_cli_field(e, "host");

        del = ngx_array_push(&v->deletions);
        if (del == NULL) {
            return NGX_ERROR;
        }

        del->time = time;
        ngx_str_null(&del->op);
        ngx_str_null(&del->host);

        if ((op && (del->op.data = ngx_pstrdup(v->cli->pool, op)) == NULL)
            || (host
                && (del->host.data = ngx_pstrdup(v->cli->pool, host)) == NULL))
        {
            return NGX_ERROR;
        }

        del->op.len = op ? op->len : 0;
        del->host.len = host ? host->len : 0;

        return NGX_OK;
    }

    if (!(event->len == sizeof("audit_dropped") - 1
          && ngx_strncmp(event->data, "audit_dropped", event->len) == 0))
    {
        return NGX_OK;
    }

    seqs = ngx_http_ir_cli_field(e, "seqs");
    cause = ngx_http_ir_cli_field(e, "cause");

    if (seqs == NULL) {
        return NGX_OK;
    }

    dash = ngx_strlchr(seqs->data, seqs->data + seqs->len, '-');

    if (dash == NULL) {
        return NGX_OK;
    }

    from = ngx_atoi(seqs->data, dash - seqs->data);
    to = ngx_atoi(dash + 1, seqs->data + seqs->len - dash - 1);

    if (from < 1 || to < from) {
        return NGX_OK;
    }

    if (c->drops == NULL) {
        c->drops = ngx_array_create(v->cli->pool, 2,
                                    sizeof(ngx_http_ir_cli_drop_t));
        if (c->drops == NULL) {
            return NGX_ERROR;
        }
    }

    drop = ngx_array_push(c->drops);
    if (drop == NULL) {
        return NGX_ERROR;
    }

    drop->from = from;
    drop->to = to;
    drop->time = time;
    ngx_str_null(&drop->cause);

    if (cause) {
        drop->cause.data = ngx_pstrdup(v->cli->pool, cause);
        if (drop->cause.data == NULL) {
            return NGX_ERROR;
        }

        drop->cause.len = cause->len;
    }

    return NGX_OK;
}


static ngx_http_ir_cli_chain_t *
ngx_http_ir_cli_verify_chain(ngx_http_ir_cli_verify_t *v, ngx_str_t *id)
{
    u_char                   *p, *slash, *dot;
    uint32_t                  hash;
    ngx_int_t                 sec, ms;
    ngx_http_ir_cli_chain_t  *c;

    hash = ngx_crc32_short(id->data, id->len);

    c = (ngx_http_ir_cli_chain_t *) ngx_str_rbtree_lookup(&v->chains, id,
                                                          hash);
    if (c) {
        return c;
    }

    c = ngx_pcalloc(v->cli->pool, sizeof(ngx_http_ir_cli_chain_t));
    if (c == NULL) {
        return NULL;
    }

    c->sn.str.data = ngx_pstrdup(v->cli->pool, id);
    if (c->sn.str.data == NULL) {
        return NULL;
    }

    c->sn.str.len = id->len;
    c->sn.node.key = hash;

    /* "host/pid/sec.msec": when the writer started */

    c->start = -1;

    p = id->data + id->len;

    for (slash = p; slash > id->data && *(slash - 1) != '/'; slash--) {
        /* void */
    }

    dot = ngx_strlchr(slash, p, '.');

    if (slash > id->data && dot) {
        sec = ngx_atoi(slash, dot - slash);
        ms = ngx_atoi(dot + 1, p - dot - 1);

        if (sec != NGX_ERROR && ms != NGX_ERROR && ms < 1000) {
            c->start = (int64_t) sec * 1000 + ms;
        }
    }

    ngx_rbtree_insert(&v->chains, &c->sn.node);
    v->nchains++;

    return c;
}


/* the end of what was read: each chain's gaps explained, or not */

static ngx_int_t
ngx_http_ir_cli_verify_end(ngx_http_ir_cli_verify_t *v)
{
    ngx_http_ir_cli_copy_t  *copy;

    if (v->chains.root != v->chains.sentinel) {
        ngx_http_ir_cli_verify_walk(v, v->chains.root,
                                    ngx_http_ir_cli_verify_chain_end);
    }

    if (v->before) {
        ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_NOTE, "before", NULL,
                                     "%ui chains begin before what was read: "
                                     "their first entries are before "
                                     "--since, or older than the archive's "
                                     "first day", v->before);
    }

    if (v->unchained) {
        ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_NOTE, "unchained",
                                     NULL, "%ui entries carry no chain: "
                                     "written before the gateway chained "
                                     "its entries, or by something else",
                                     v->unchained);
    }

    /*
     * Archived entries after the stream's last: trimmed while the stream
     * was read, or deleted from its end
     */

    copy = v->copies.elts;

    while (v->copy < v->copies.nelts) {

        if (v->reading_stream && v->stream_entries > v->compared) {
            ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_NOTE,
                                         "deleted_after_archive", NULL,
                                         "the entry %uL-%uL, archived in "
                                         "%V:%ui, is no more in the stream: "
                                         "deleted after it was archived",
                                         copy[v->copy].id.ms,
                                         copy[v->copy].id.seq,
                                         &copy[v->copy].day->path,
                                         copy[v->copy].line);
        }

        v->copy++;
    }

    return NGX_OK;
}


static void
ngx_http_ir_cli_verify_walk(ngx_http_ir_cli_verify_t *v,
    ngx_rbtree_node_t *node, ngx_int_t (*handler)(
    ngx_http_ir_cli_verify_t *v, ngx_http_ir_cli_chain_t *c))
{
    if (node->left != v->chains.sentinel) {
        ngx_http_ir_cli_verify_walk(v, node->left, handler);
    }

    (void) handler(v, (ngx_http_ir_cli_chain_t *) node);

    if (node->right != v->chains.sentinel) {
        ngx_http_ir_cli_verify_walk(v, node->right, handler);
    }
}


static ngx_int_t
ngx_http_ir_cli_verify_chain_end(ngx_http_ir_cli_verify_t *v,
    ngx_http_ir_cli_chain_t *c)
{
    u_char                 *p, *q;
    ngx_uint_t              i;
    ngx_http_ir_cli_gap_t  *gap;
    u_char                  here[256], there[256];

    if (c->replay) {
        p = ngx_http_ir_cli_where(v, here, here + sizeof(here),
                                  &c->replay_where);
        q = ngx_http_ir_cli_where(v, there, there + sizeof(there), &c->where);

        ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN,
                                     "out_of_order", &c->sn.str,
                                     "seq %ui at %*s comes after seq %ui at "
                                     "%*s, and is no copy of it: out of "
                                     "order, or forged", c->replay,
                                     p - here, here, c->seq, q - there,
                                     there);
        c->replay = 0;
    }

    if (c->gaps == NULL) {
        return NGX_OK;
    }

    if (c->drops) {
        ngx_qsort(c->drops->elts, c->drops->nelts,
                  sizeof(ngx_http_ir_cli_drop_t), ngx_http_ir_cli_drop_cmp);
    }

    gap = c->gaps->elts;

    for (i = 0; i < c->gaps->nelts; i++) {
        (void) ngx_http_ir_cli_verify_explain(v, c, &gap[i]);
    }

    return NGX_OK;
}


/*
 * A gap: the gateway's own where its audit_dropped entries cover it,
 * otherwise a deletion; the trail's audit_deleted entries after it are
 * named.
 */

static ngx_int_t
ngx_http_ir_cli_verify_explain(ngx_http_ir_cli_verify_t *v,
    ngx_http_ir_cli_chain_t *c, ngx_http_ir_cli_gap_t *gap)
{
    u_char                      *p, *q, *last;
    ngx_uint_t                   i, next;
    ngx_http_ir_cli_drop_t      *drop, *by;
    ngx_http_ir_cli_deletion_t  *del, *found;
    u_char                       seqs[2 * NGX_INT_T_LEN + 8];
    u_char                       here[256], there[256], when[64];

    /* the audit_dropped ranges, in order, cover from..to? */

    next = gap->from;
    by = NULL;

    if (c->drops) {
        drop = c->drops->elts;

        for (i = 0; i < c->drops->nelts && next <= gap->to; i++) {
            if (drop[i].from <= next && drop[i].to >= next) {
                next = drop[i].to + 1;
                by = &drop[i];
            }
        }
    }

    if (gap->from == gap->to) {
        last = ngx_sprintf(seqs, "seq %ui", gap->from);

    } else {
        last = ngx_sprintf(seqs, "seqs %ui-%ui", gap->from, gap->to);
    }

    if (gap->before.start) {
        p = ngx_cpymem(here, "the chain's start at ", 21);
        p = ngx_http_ir_cli_ms_print(p, gap->before.time);

    } else {
        p = ngx_http_ir_cli_where(v, here, here + sizeof(here), &gap->before);
    }

    q = ngx_http_ir_cli_where(v, there, there + sizeof(there), &gap->after);

    if (next > gap->to) {
        when[0] = '\0';

        if (by->time != -1) {
            *ngx_http_ir_cli_ms_print(when, by->time) = '\0';
        }

        ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_EXPLAINED, "dropped",
                                     &c->sn.str,
                                     "%*s missing, between %*s and %*s: "
                                     "dropped by the gateway, as its "
                                     "audit_dropped entry at %s says: \"%V\"",
                                     last - seqs, seqs, p - here, here,
                                     q - there, there, when, &by->cause);
        return NGX_OK;
    }

    /* a deletion: the first audit_deleted entry after the gap began */

    found = NULL;
    del = v->deletions.elts;

    for (i = 0; i < v->deletions.nelts; i++) {
        if (del[i].time >= gap->before.time || gap->before.time == -1) {
            found = &del[i];
            break;
        }
    }

    when[0] = '\0';

    if (found && found->time != -1) {
        *ngx_http_ir_cli_ms_print(when, found->time) = '\0';
    }

    if (found) {
        ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN, "deleted",
                                     &c->sn.str,
                                     "%*s missing, between %*s and %*s: "
                                     "deleted (no audit_dropped entry of the "
                                     "chain names %s); the trail records "
                                     "a deletion (%V) at %s, seen by %V",
                                     last - seqs, seqs, p - here, here,
                                     q - there, there,
                                     (gap->from == gap->to) ? "it" : "them",
                                     &found->op, when, &found->host);
        return NGX_OK;
    }

    ngx_http_ir_cli_verify_found(v, NGX_HTTP_IR_CLI_BROKEN, "deleted",
                                 &c->sn.str,
                                 "%*s missing, between %*s and %*s: deleted "
                                 "(no audit_dropped entry of the chain names "
                                 "%s)", last - seqs, seqs, p - here, here,
                                 q - there, there,
                                 (gap->from == gap->to) ? "it" : "them");

    return NGX_OK;
}


static int
ngx_http_ir_cli_drop_cmp(const void *one, const void *two)
{
    const ngx_http_ir_cli_drop_t  *a = one;
    const ngx_http_ir_cli_drop_t  *b = two;

    if (a->from != b->from) {
        return (a->from < b->from) ? -1 : 1;
    }

    return 0;
}


/* "2026-11-30T10:00:00.123Z (audit-2026-11-30.jsonl:12)", or the stream */

static u_char *
ngx_http_ir_cli_where(ngx_http_ir_cli_verify_t *v, u_char *p, u_char *last,
    ngx_http_ir_cli_where_t *w)
{
    ngx_str_t  name;

    if (w->time != -1 && last - p > (ssize_t) NGX_HTTP_IR_TIME_LEN) {
        p = ngx_http_ir_cli_ms_print(p, w->time);
        p = ngx_slprintf(p, last, " ");

    } else {
        p = ngx_slprintf(p, last, "(no time) ");
    }

    if (w->day) {
        name = w->day->path;
        name.data += v->cli->audit.dir.len + 1;
        name.len -= v->cli->audit.dir.len + 1;

        return ngx_slprintf(p, last, "(%V:%ui, %uL-%uL)", &name, w->line,
                            w->id.ms, w->id.seq);
    }

    return ngx_slprintf(p, last, "(stream %V %uL-%uL)",
                        &v->cli->audit.stream, w->id.ms, w->id.seq);
}


static void
ngx_http_ir_cli_verify_found(ngx_http_ir_cli_verify_t *v,
    ngx_uint_t severity, const char *kind, ngx_str_t *chain,
    const char *fmt, ...)
{
    u_char                     *p;
    va_list                     args;
    ngx_http_ir_cli_finding_t  *f;
    u_char                      text[2048];

    v->count[severity]++;

    if (v->findings.nelts == NGX_HTTP_IR_CLI_FINDINGS_MAX) {
        return;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(text, text + sizeof(text), fmt, args);
    va_end(args);

    f = ngx_array_push(&v->findings);
    if (f == NULL) {
        return;
    }

    f->severity = severity;
    f->kind = kind;

    ngx_str_null(&f->chain);

    if (chain) {
        f->chain = *chain;
    }

    f->text.len = p - text;
    f->text.data = ngx_pnalloc(v->cli->pool, f->text.len);
    if (f->text.data == NULL) {
        f->text.len = 0;
        return;
    }

    ngx_memcpy(f->text.data, text, f->text.len);
}


static void
ngx_http_ir_cli_verify_print(ngx_http_ir_cli_verify_t *v, ngx_msec_t took)
{
    u_char                     *p, *last;
    ngx_uint_t                  i;
    ngx_http_ir_cli_finding_t  *f;
    u_char                      shown[4096];

    f = v->findings.elts;

    if (v->cli->json) {
        ngx_http_ir_cli_print("{\"findings\":[");

        for (i = 0; i < v->findings.nelts; i++) {
            ngx_http_ir_cli_print("%s\n{\"severity\":\"%s\",\"kind\":\"%s\","
                                  "\"chain\":", i ? "," : "",
                                  ngx_http_ir_cli_verdicts[f[i].severity],
                                  f[i].kind);
            ngx_http_ir_cli_json_str(&f[i].chain);
            ngx_http_ir_cli_print(",\"message\":");
            ngx_http_ir_cli_json_str(&f[i].text);
            ngx_http_ir_cli_print("}");
        }

        ngx_http_ir_cli_print("],\n\"files\":%ui,\"entries\":%ui,"
                              "\"stream_entries\":%ui,\"compared\":%ui,"
                              "\"chains\":%ui,\"broken\":%ui,"
                              "\"explained\":%ui,\"notes\":%ui,"
                              "\"seconds\":%M.%03M}\n",
                              v->files, v->entries, v->stream_entries,
                              v->compared, v->nchains,
                              v->count[NGX_HTTP_IR_CLI_BROKEN],
                              v->count[NGX_HTTP_IR_CLI_EXPLAINED],
                              v->count[NGX_HTTP_IR_CLI_NOTE],
                              took / 1000, took % 1000);
        return;
    }

    for (i = 0; i < v->findings.nelts; i++) {
        last = shown + sizeof(shown);

        p = ngx_slprintf(shown, last, "%s: ",
                         ngx_http_ir_cli_verdicts[f[i].severity]);

        if (f[i].chain.len) {
            p = ngx_slprintf(p, last, "chain ");
            p = ngx_http_ir_cli_show(p, last, &f[i].chain);
            p = ngx_slprintf(p, last, ": ");
        }

        p = ngx_http_ir_cli_show(p, last, &f[i].text);

        ngx_http_ir_cli_write(shown, p - shown);
        ngx_http_ir_cli_write((u_char *) "\n", 1);
    }

    if (v->count[0] + v->count[1] + v->count[2] > v->findings.nelts) {
        ngx_http_ir_cli_print("... and %ui more\n",
                              v->count[0] + v->count[1] + v->count[2]
                              - v->findings.nelts);
    }

    ngx_http_ir_cli_print("verified %ui entries of %ui chains in %M.%03Ms: "
                          "%ui archive files", v->entries, v->nchains,
                          took / 1000, took % 1000, v->files);

    if (!v->cli->audit.archive_only) {
        ngx_http_ir_cli_print(", %ui entries of the stream \"%V\" (%ui of "
                              "them compared with their archived copy)",
                              v->stream_entries, &v->cli->audit.stream,
                              v->compared);
    }

    ngx_http_ir_cli_print("; %ui broken, %ui explained, %ui notes\n",
                          v->count[NGX_HTTP_IR_CLI_BROKEN],
                          v->count[NGX_HTTP_IR_CLI_EXPLAINED],
                          v->count[NGX_HTTP_IR_CLI_NOTE]);

    ngx_http_ir_cli_print("%s\n", v->count[NGX_HTTP_IR_CLI_BROKEN]
                          ? "THE TRAIL IS BROKEN where it says \"broken\""
                          : "the trail holds together");
}
