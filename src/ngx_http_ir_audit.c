
/*
 * ir-access: the audit trail, one Redis stream entry per decision.
 *
 * Entries are written with XADD on the worker's Redis connection, in the
 * log phase, so that they carry the response's status and never delay
 * it.  Each entry stays in a per-worker queue until Redis acknowledges
 * it: while Redis is unreachable the queue holds them, in order, up to a
 * bound, and they are written once Redis is back.  What the bound turns
 * away, and what Redis refuses, is counted and logged.
 *
 * Entries are made as ngx_http_ir_trail.c lays them out, and each joins
 * the worker's chain as it is queued; an entry that was queued and is
 * then lost (Redis refused it, or the worker left with it) leaves a gap
 * in the chain, which an "audit_dropped" event names once Redis takes
 * entries again, so that a verifier can tell a drop from a deletion.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_ir_audit.h"
#include "ngx_http_ir_metrics.h"
#include "ngx_http_ir_schema.h"
#include "ngx_http_ir_store.h"
#include "ngx_http_ir_timer.h"


/* how soon entries are sent again after Redis failed to take them, ms */
#define NGX_HTTP_IR_AUDIT_RETRY        1000

/* how long an exiting worker waits for Redis to take its entries, s */
#define NGX_HTTP_IR_AUDIT_LINGER       30

/* how often the stream's length and its first entry's age are read, ms */
#define NGX_HTTP_IR_AUDIT_WATCH        10000

/*
 * The URI kept by default: enough for any API path and its query, but a
 * client without a certificate cannot fill Redis with 8 KB URIs.
 */
#define NGX_HTTP_IR_AUDIT_URI_MAX      512

/*
 * How the last entry fared: written; kept to be sent again (no
 * connection, a stream key of the wrong type); or refused and dropped.
 * Each change of trouble is logged once, as what it costs differs.
 */
#define NGX_HTTP_IR_AUDIT_WRITING      0
#define NGX_HTTP_IR_AUDIT_KEEPING      1
#define NGX_HTTP_IR_AUDIT_DROPPING     2


typedef struct {
    ngx_queue_t                    queue;
    ngx_uint_t                     seq;           /* in the chain */
    unsigned                       sent:1;
    int                            argc;
    const char                   **argv;
    size_t                        *argvlen;
} ngx_http_ir_audit_entry_t;


static void ngx_http_ir_audit_write(ngx_http_ir_audit_conf_t *acf,
    ngx_http_ir_trail_entry_t *e);
static void ngx_http_ir_audit_flush(void);
static void ngx_http_ir_audit_retry(ngx_event_t *ev);
static void ngx_http_ir_audit_written(void *data, redisReply *reply);
static ngx_uint_t ngx_http_ir_audit_passing(redisReply *reply);
static void ngx_http_ir_audit_drop(ngx_http_ir_audit_entry_t *entry,
    const char *cause, size_t len);
static void ngx_http_ir_audit_lost(void);
static void ngx_http_ir_audit_look(ngx_event_t *ev);
static void ngx_http_ir_audit_looked(void *data, redisReply *reply);


static ngx_queue_t           ngx_http_ir_audit_queue;
static ngx_uint_t            ngx_http_ir_audit_queued;
static ngx_uint_t            ngx_http_ir_audit_limit;
static ngx_uint_t            ngx_http_ir_audit_dropped;
static ngx_http_ir_redis_t  *ngx_http_ir_audit_redis;
static ngx_event_t           ngx_http_ir_audit_timer;
static ngx_log_t            *ngx_http_ir_audit_log;
static ngx_uint_t            ngx_http_ir_audit_failing;
static ngx_uint_t            ngx_http_ir_audit_lingered;
static ngx_str_t             ngx_http_ir_audit_host;
static ngx_http_ir_trail_chain_t  ngx_http_ir_audit_chain;

/* entries of the chain that were lost, and why, for an "audit_dropped" */
static ngx_uint_t            ngx_http_ir_audit_lost_from;
static ngx_uint_t            ngx_http_ir_audit_lost_to;
static u_char                ngx_http_ir_audit_lost_cause[128];
static size_t                ngx_http_ir_audit_lost_cause_len;
static ngx_http_ir_audit_conf_t  *ngx_http_ir_audit_lost_conf;

/* the stream one worker watches, for the metrics */
static ngx_http_ir_audit_conf_t  *ngx_http_ir_audit_watched;
static ngx_event_t            ngx_http_ir_audit_watch_timer;


char *
ngx_http_ir_audit_conf(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t n,
    ngx_http_ir_audit_conf_t **acfp)
{
    ngx_int_t                          num;
    ngx_str_t                          s;
    ngx_uint_t                         i;
    ngx_http_ir_audit_conf_t          *acf;
    ngx_http_compile_complex_value_t   ccv;

    if (n == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        *acfp = NULL;
        return NGX_CONF_OK;
    }

    acf = ngx_pcalloc(cf->pool, sizeof(ngx_http_ir_audit_conf_t));
    if (acf == NULL) {
        return NGX_CONF_ERROR;
    }

    acf->uri_max = NGX_HTTP_IR_AUDIT_URI_MAX;
    ngx_str_set(&acf->maxlen, "");

    for (i = 1; i < n; i++) {

        if (ngx_strncmp(value[i].data, "stream=", 7) == 0) {
            acf->stream.data = value[i].data + 7;
            acf->stream.len = value[i].len - 7;
            continue;
        }

        if (ngx_strncmp(value[i].data, "maxlen=", 7) == 0) {
            acf->maxlen.data = value[i].data + 7;
            acf->maxlen.len = value[i].len - 7;

            num = ngx_atoi(acf->maxlen.data, acf->maxlen.len);
            if (num == NGX_ERROR || num == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "subject=", 8) == 0) {
            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            acf->subject = ngx_palloc(cf->pool,
                                      sizeof(ngx_http_complex_value_t));
            if (acf->subject == NULL) {
                return NGX_CONF_ERROR;
            }

            ccv.cf = cf;
            ccv.value = &s;
            ccv.complex_value = acf->subject;

            if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "uri_max=", 8) == 0) {
            num = ngx_atoi(value[i].data + 8, value[i].len - 8);
            if (num == NGX_ERROR || num == 0 || num > 65536) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            acf->uri_max = num;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (acf->stream.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"ir_access_audit\" must have \"stream\" "
                           "parameter");
        return NGX_CONF_ERROR;
    }

    *acfp = acf;

    return NGX_CONF_OK;
}


void
ngx_http_ir_audit_init(ngx_http_ir_redis_t *redis, ngx_uint_t limit,
    ngx_cycle_t *cycle)
{
    ngx_time_t  *tp;
    ngx_log_t   *log;

    log = cycle->log;

    ngx_queue_init(&ngx_http_ir_audit_queue);

    ngx_http_ir_audit_redis = redis;
    ngx_http_ir_audit_limit = limit;
    ngx_http_ir_audit_log = log;
    ngx_http_ir_audit_host = cycle->hostname;

    tp = ngx_timeofday();

    ngx_http_ir_trail_chain_init(&ngx_http_ir_audit_chain, &cycle->hostname,
                                 ngx_pid, tp->sec, tp->msec);

    ngx_http_ir_timer_init(&ngx_http_ir_audit_timer, ngx_http_ir_audit_retry,
                           0, log);
}


/*
 * A worker that leaves with entries unwritten says how many; called once
 * its Redis connection is gone, so that no reply can come any more.
 */

void
ngx_http_ir_audit_exit(void)
{
    ngx_queue_t                *q;
    ngx_http_ir_audit_entry_t  *entry;

    if (ngx_http_ir_audit_redis == NULL) {
        return;
    }

    ngx_http_ir_audit_redis = NULL;

    if (ngx_http_ir_audit_timer.timer_set) {
        ngx_del_timer(&ngx_http_ir_audit_timer);
    }

    if (ngx_http_ir_audit_watch_timer.timer_set) {
        ngx_del_timer(&ngx_http_ir_audit_watch_timer);
    }

    if (ngx_http_ir_audit_queued) {
        ngx_log_error(NGX_LOG_ERR, ngx_http_ir_audit_log, 0,
                      "ir_access: %ui audit entries were not written: "
                      "Redis was unavailable when the worker exited",
                      ngx_http_ir_audit_queued);
    }

    while (!ngx_queue_empty(&ngx_http_ir_audit_queue)) {
        q = ngx_queue_head(&ngx_http_ir_audit_queue);
        entry = ngx_queue_data(q, ngx_http_ir_audit_entry_t, queue);

        ngx_http_ir_audit_drop(entry, "the worker exited",
                               sizeof("the worker exited") - 1);
    }
}


/*
 * One worker of a host reads, every few seconds, how long the stream is
 * and how old its first entry: the archiver takes entries from the
 * front, so that age is how far it lags.
 */

void
ngx_http_ir_audit_watch(ngx_http_ir_audit_conf_t *acf)
{
    ngx_http_ir_audit_watched = acf;

    ngx_http_ir_timer_init(&ngx_http_ir_audit_watch_timer,
                           ngx_http_ir_audit_look, 1, ngx_http_ir_audit_log);

    ngx_add_timer(&ngx_http_ir_audit_watch_timer, 1);
}


static void
ngx_http_ir_audit_look(ngx_event_t *ev)
{
    ngx_str_t  *stream;

    if (ngx_http_ir_audit_redis == NULL) {
        return;
    }

    stream = &ngx_http_ir_audit_watched->stream;

    (void) ngx_http_ir_redis_command(ngx_http_ir_audit_redis,
                                     ngx_http_ir_audit_looked, ev,
                                     "XLEN %b", stream->data, stream->len);

    /* the first entry only: never a read of the whole stream */

    (void) ngx_http_ir_redis_command(ngx_http_ir_audit_redis,
                                     ngx_http_ir_audit_looked, ev,
                                     "XRANGE %b - + COUNT 1",
                                     stream->data, stream->len);

    ngx_add_timer(ev, NGX_HTTP_IR_AUDIT_WATCH);
}


static void
ngx_http_ir_audit_looked(void *data, redisReply *reply)
{
    u_char      *dash;
    ngx_time_t  *tp;
    ngx_int_t    ms;
    redisReply  *id;

    if (reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_INTEGER) {
        ngx_http_ir_metric_set(audit_stream_length, reply->integer);
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY) {
        return;
    }

    if (reply->elements == 0) {
        ngx_http_ir_metric_set(audit_oldest_ms, 0);
        return;
    }

    /* an id is "<ms>-<n>" */

    if (reply->element[0]->type != REDIS_REPLY_ARRAY
        || reply->element[0]->elements == 0
        || reply->element[0]->element[0]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    id = reply->element[0]->element[0];

    dash = ngx_strlchr((u_char *) id->str, (u_char *) id->str + id->len,
                       '-');
    if (dash == NULL) {
        return;
    }

    ms = ngx_atoi((u_char *) id->str, dash - (u_char *) id->str);

    if (ms == NGX_ERROR) {
        return;
    }

    tp = ngx_timeofday();

    ngx_http_ir_metric_set(audit_oldest_ms,
                           ngx_max((ngx_int_t) (tp->sec * 1000 + tp->msec)
                                   - ms, 0));
}


/* a decision's entry; the URI is cut to "uri_max", and marked if it is */

void
ngx_http_ir_audit_decision(ngx_http_ir_audit_conf_t *acf,
    ngx_http_ir_trail_decision_t *d)
{
    ngx_http_ir_trail_entry_t  e;
    u_char                     buf[NGX_HTTP_IR_TIME_LEN + 2 * NGX_INT_T_LEN];

    d->uri_max = acf->uri_max;

    if (ngx_http_ir_trail_decision(&e, d, &ngx_http_ir_audit_host, buf,
                                   sizeof(buf))
        != NGX_OK)
    {
        ngx_http_ir_metric_inc(audit_dropped);
        return;
    }

    ngx_http_ir_audit_write(acf, &e);
}


/* an event, at the time it happens: "account_locked", "admin_change"... */

void
ngx_http_ir_audit_event(ngx_http_ir_audit_conf_t *acf, const char *event,
    ngx_keyval_t *fields, ngx_uint_t n)
{
    ngx_uint_t                  i;
    ngx_time_t                 *tp;
    ngx_http_ir_trail_entry_t   e;
    u_char                      buf[NGX_HTTP_IR_TIME_LEN];

    tp = ngx_timeofday();

    if (ngx_http_ir_trail_event(&e, event, tp->sec, tp->msec,
                                &ngx_http_ir_audit_host, buf, sizeof(buf))
        != NGX_OK)
    {
        ngx_http_ir_metric_inc(audit_dropped);
        return;
    }

    for (i = 0; i < n; i++) {
        e.fields[e.n].key = fields[i].key;
        e.fields[e.n].value = fields[i].value;

        if (++e.n == NGX_HTTP_IR_TRAIL_FIELDS - 3) {
            break;
        }
    }

    ngx_http_ir_audit_write(acf, &e);
}


/* "XADD stream [MAXLEN ~ n] * field value ..." */

static void
ngx_http_ir_audit_write(ngx_http_ir_audit_conf_t *acf,
    ngx_http_ir_trail_entry_t *e)
{
    u_char                     *p;
    size_t                      size;
    ngx_uint_t                  i, n, argc;
    ngx_keyval_t               *fields;
    ngx_http_ir_audit_entry_t  *entry;
    u_char                      link[NGX_INT_T_LEN + NGX_HTTP_IR_DIGEST_HEX];

    if (ngx_http_ir_audit_redis == NULL) {
        return;
    }

    if (ngx_http_ir_audit_queued >= ngx_http_ir_audit_limit) {

        if (ngx_http_ir_audit_dropped++ == 0) {
            ngx_log_error(NGX_LOG_ERR, ngx_http_ir_audit_log, 0,
                          "ir_access: the audit buffer of %ui entries is "
                          "full; new entries are dropped until Redis takes "
                          "them", ngx_http_ir_audit_limit);
        }

        ngx_http_ir_metric_inc(audit_dropped);
        return;
    }

    /* queued: it joins the chain */

    if (ngx_http_ir_trail_link(e, &ngx_http_ir_audit_chain, link) != NGX_OK) {
        ngx_http_ir_metric_inc(audit_dropped);
        return;
    }

    fields = e->fields;
    n = e->n;

    argc = 3 + (acf->maxlen.len ? 3 : 0) + 2 * n;

    size = sizeof(ngx_http_ir_audit_entry_t)
           + argc * (sizeof(char *) + sizeof(size_t))
           + sizeof("XADD" "MAXLEN" "~" "*") - 1
           + acf->stream.len + acf->maxlen.len;

    for (i = 0; i < n; i++) {
        size += fields[i].key.len + fields[i].value.len;
    }

    entry = ngx_alloc(size, ngx_http_ir_audit_log);
    if (entry == NULL) {
        ngx_http_ir_metric_inc(audit_dropped);
        return;
    }

    entry->sent = 0;
    entry->seq = ngx_http_ir_audit_chain.seq;
    entry->argc = 0;
    entry->argv = (const char **) (entry + 1);
    entry->argvlen = (size_t *) (entry->argv + argc);

    p = (u_char *) (entry->argvlen + argc);

#define ngx_http_ir_audit_arg(data, len)                                     \
    entry->argv[entry->argc] = (const char *) p;                             \
    entry->argvlen[entry->argc++] = len;                                     \
    if (len) {                                                               \
        p = ngx_cpymem(p, data, len);                                        \
    }

    ngx_http_ir_audit_arg("XADD", 4);
    ngx_http_ir_audit_arg(acf->stream.data, acf->stream.len);

    if (acf->maxlen.len) {
        ngx_http_ir_audit_arg("MAXLEN", 6);
        ngx_http_ir_audit_arg("~", 1);
        ngx_http_ir_audit_arg(acf->maxlen.data, acf->maxlen.len);
    }

    ngx_http_ir_audit_arg("*", 1);

    for (i = 0; i < n; i++) {
        ngx_http_ir_audit_arg(fields[i].key.data, fields[i].key.len);
        ngx_http_ir_audit_arg(fields[i].value.data, fields[i].value.len);
    }

#undef ngx_http_ir_audit_arg

    ngx_queue_insert_tail(&ngx_http_ir_audit_queue, &entry->queue);
    ngx_http_ir_audit_queued++;

    /* a gap is named in the stream that had it */
    ngx_http_ir_audit_lost_conf = acf;
    ngx_http_ir_metric_inc(audit_buffered);

    ngx_http_ir_audit_flush();
}


/* every entry not yet sent goes out, in order, pipelined */

static void
ngx_http_ir_audit_flush(void)
{
    ngx_queue_t                *q;
    ngx_http_ir_audit_entry_t  *entry;

    for (q = ngx_queue_head(&ngx_http_ir_audit_queue);
         q != ngx_queue_sentinel(&ngx_http_ir_audit_queue);
         q = ngx_queue_next(q))
    {
        entry = ngx_queue_data(q, ngx_http_ir_audit_entry_t, queue);

        if (entry->sent) {
            continue;
        }

        if (ngx_http_ir_redis_command_argv(ngx_http_ir_audit_redis,
                                           ngx_http_ir_audit_written, entry,
                                           entry->argc, entry->argv,
                                           entry->argvlen)
            == NULL)
        {
            /* Redis is away: the rest waits for the retry */

            if (!ngx_http_ir_audit_timer.timer_set) {
                ngx_add_timer(&ngx_http_ir_audit_timer,
                              NGX_HTTP_IR_AUDIT_RETRY);
            }

            return;
        }

        entry->sent = 1;
    }

    /*
     * While entries are out, a timer keeps an exiting worker alive until
     * Redis has them, and sends again what a lost connection gave back.
     */

    if (!ngx_queue_empty(&ngx_http_ir_audit_queue)
        && !ngx_http_ir_audit_timer.timer_set)
    {
        ngx_add_timer(&ngx_http_ir_audit_timer, NGX_HTTP_IR_AUDIT_RETRY);
    }
}


static void
ngx_http_ir_audit_retry(ngx_event_t *ev)
{
    /*
     * An exiting worker (a reload) waits for Redis, but not for ever:
     * reloads during a long outage would pile up old workers.  What it
     * still holds when it gives up is logged as it exits.
     */

    if (ngx_exiting
        && ngx_http_ir_audit_lingered++
           >= NGX_HTTP_IR_AUDIT_LINGER * 1000 / NGX_HTTP_IR_AUDIT_RETRY)
    {
        return;
    }

    ngx_http_ir_audit_flush();
}


static void
ngx_http_ir_audit_written(void *data, redisReply *reply)
{
    ngx_http_ir_audit_entry_t *entry = data;

    if (reply && reply->type != REDIS_REPLY_ERROR) {
        ngx_queue_remove(&entry->queue);
        ngx_free(entry);

        ngx_http_ir_audit_queued--;
        ngx_http_ir_metric_inc(audit_written);
        ngx_http_ir_metric_add(audit_buffered, -1);

        if (ngx_http_ir_audit_failing || ngx_http_ir_audit_dropped) {
            ngx_log_error(NGX_LOG_NOTICE, ngx_http_ir_audit_log, 0,
                          "ir_access: audit entries are written again; "
                          "%ui were dropped meanwhile",
                          ngx_http_ir_audit_dropped);
            ngx_http_ir_audit_failing = NGX_HTTP_IR_AUDIT_WRITING;
            ngx_http_ir_audit_dropped = 0;
        }

        if (ngx_http_ir_audit_lost_from) {
            ngx_http_ir_audit_lost();
        }

        return;
    }

    if (reply && !ngx_http_ir_audit_passing(reply)) {
        /*
         * Refused (out of memory, say): sending it again would only be
         * refused again and hold up the entries behind it.
         */

        if (ngx_http_ir_audit_failing != NGX_HTTP_IR_AUDIT_DROPPING) {
            ngx_log_error(NGX_LOG_ERR, ngx_http_ir_audit_log, 0,
                          "ir_access: Redis refused an audit entry: %*s; "
                          "it is dropped, as are the next ones until Redis "
                          "takes them (check its memory: maxmemory, "
                          "\"INFO memory\")",
                          ngx_min((size_t) reply->len, 256), reply->str);
        }

        ngx_http_ir_audit_failing = NGX_HTTP_IR_AUDIT_DROPPING;
        ngx_http_ir_audit_dropped++;

        ngx_http_ir_audit_drop(entry, reply->str, reply->len);
        return;
    }

    /*
     * Not written, but not lost: the connection went away, the stream
     * key is of the wrong type, which an administrator can fix, or Redis
     * is busy for a moment; it keeps its place in the queue and is sent
     * again.
     */

    entry->sent = 0;

    if (reply && ngx_http_ir_audit_failing != NGX_HTTP_IR_AUDIT_KEEPING) {
        ngx_log_error(NGX_LOG_ERR, ngx_http_ir_audit_log, 0,
                      "ir_access: Redis refused an audit entry: %*s; "
                      "entries are kept and sent again (for WRONGTYPE, "
                      "check the stream key of \"ir_access_audit\")",
                      ngx_min((size_t) reply->len, 256), reply->str);
    }

    ngx_http_ir_audit_failing = NGX_HTTP_IR_AUDIT_KEEPING;

    if (ngx_http_ir_audit_redis && !ngx_http_ir_audit_timer.timer_set) {
        ngx_add_timer(&ngx_http_ir_audit_timer, NGX_HTTP_IR_AUDIT_RETRY);
    }
}


/*
 * Errors that pass, and a stream key of the wrong type, which the
 * administrator is told to fix: the entries wait.
 */

static ngx_uint_t
ngx_http_ir_audit_passing(redisReply *reply)
{
    return ngx_http_ir_store_passing(reply)
           || (reply->len >= 9
               && ngx_strncmp(reply->str, "WRONGTYPE", 9) == 0);
}


/* a queued entry is lost: its place in the chain is noted, with why */

static void
ngx_http_ir_audit_drop(ngx_http_ir_audit_entry_t *entry, const char *cause,
    size_t len)
{
    if (ngx_http_ir_audit_lost_from == 0) {
        ngx_http_ir_audit_lost_from = entry->seq;

        ngx_http_ir_audit_lost_cause_len =
                           ngx_min(len, sizeof(ngx_http_ir_audit_lost_cause));
        ngx_memcpy(ngx_http_ir_audit_lost_cause, cause,
                   ngx_http_ir_audit_lost_cause_len);
    }

    ngx_http_ir_audit_lost_to = entry->seq;

    ngx_queue_remove(&entry->queue);
    ngx_free(entry);

    ngx_http_ir_audit_queued--;
    ngx_http_ir_metric_inc(audit_dropped);
    ngx_http_ir_metric_add(audit_buffered, -1);
}


/* Redis takes entries again: the gap in the chain is named in it */

static void
ngx_http_ir_audit_lost(void)
{
    u_char        *p;
    ngx_keyval_t   f[2];
    u_char         range[2 * NGX_INT_T_LEN + 1];

    if (ngx_http_ir_audit_lost_conf == NULL) {
        return;
    }

    p = ngx_sprintf(range, "%ui-%ui", ngx_http_ir_audit_lost_from,
                    ngx_http_ir_audit_lost_to);

    ngx_str_set(&f[0].key, "seqs");
    f[0].value.data = range;
    f[0].value.len = p - range;

    ngx_str_set(&f[1].key, "cause");
    f[1].value.data = ngx_http_ir_audit_lost_cause;
    f[1].value.len = ngx_http_ir_audit_lost_cause_len;

    ngx_http_ir_audit_lost_from = 0;

    ngx_http_ir_audit_event(ngx_http_ir_audit_lost_conf, "audit_dropped", f,
                            2);
}
