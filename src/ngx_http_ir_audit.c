
/*
 * ir-access: the audit trail, one Redis stream entry per decision.
 *
 * Entries are written with XADD on the worker's Redis connection, in the
 * log phase, so that they carry the response's status and never delay
 * it.  Each entry stays in a per-worker queue until Redis acknowledges
 * it: while Redis is unreachable the queue holds them, in order, up to a
 * bound, and they are written once Redis is back.  What the bound turns
 * away is counted and logged.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include <ngx_http.h>

#include "ngx_http_ir_access.h"
#include "ngx_http_ir_audit.h"
#include "ngx_http_ir_metrics.h"


#define NGX_HTTP_IR_AUDIT_RETRY  1000

/* how long an exiting worker waits for Redis to take its entries, s */
#define NGX_HTTP_IR_AUDIT_LINGER  30


typedef struct {
    ngx_queue_t                    queue;
    unsigned                       sent:1;
    int                            argc;
    const char                   **argv;
    size_t                        *argvlen;
} ngx_http_ir_audit_entry_t;


static void ngx_http_ir_audit_flush(void);
static void ngx_http_ir_audit_retry(ngx_event_t *ev);
static void ngx_http_ir_audit_written(void *data, redisReply *reply);


static ngx_queue_t           ngx_http_ir_audit_queue;
static ngx_uint_t            ngx_http_ir_audit_queued;
static ngx_uint_t            ngx_http_ir_audit_limit;
static ngx_uint_t            ngx_http_ir_audit_dropped;
static ngx_http_ir_redis_t  *ngx_http_ir_audit_redis;
static ngx_event_t           ngx_http_ir_audit_timer;
static ngx_log_t            *ngx_http_ir_audit_log;
static ngx_uint_t            ngx_http_ir_audit_failing;
static ngx_uint_t            ngx_http_ir_audit_lingered;


char *
ngx_http_ir_audit_conf(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t n,
    ngx_http_ir_audit_conf_t **acfp)
{
    ngx_int_t                  maxlen;
    ngx_uint_t                 i;
    ngx_http_ir_audit_conf_t  *acf;

    if (n == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        *acfp = NULL;
        return NGX_CONF_OK;
    }

    acf = ngx_pcalloc(cf->pool, sizeof(ngx_http_ir_audit_conf_t));
    if (acf == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < n; i++) {

        if (ngx_strncmp(value[i].data, "stream=", 7) == 0) {
            acf->stream.data = value[i].data + 7;
            acf->stream.len = value[i].len - 7;
            continue;
        }

        if (ngx_strncmp(value[i].data, "maxlen=", 7) == 0) {
            acf->maxlen.data = value[i].data + 7;
            acf->maxlen.len = value[i].len - 7;

            maxlen = ngx_atoi(acf->maxlen.data, acf->maxlen.len);
            if (maxlen == NGX_ERROR || maxlen == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

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
    ngx_log_t *log)
{
    ngx_queue_init(&ngx_http_ir_audit_queue);

    ngx_http_ir_audit_redis = redis;
    ngx_http_ir_audit_limit = limit;
    ngx_http_ir_audit_log = log;

    ngx_http_ir_audit_timer.handler = ngx_http_ir_audit_retry;
    ngx_http_ir_audit_timer.log = log;
}


/* a worker that leaves with entries unwritten says how many */

void
ngx_http_ir_audit_exit(void)
{
    if (ngx_http_ir_audit_queued) {
        ngx_log_error(NGX_LOG_ERR, ngx_http_ir_audit_log, 0,
                      "ir_access: %ui audit entries were not written: "
                      "Redis was unavailable when the worker exited",
                      ngx_http_ir_audit_queued);

        ngx_http_ir_metric_add(audit_dropped, ngx_http_ir_audit_queued);
        ngx_http_ir_metric_add(audit_buffered, -ngx_http_ir_audit_queued);
        ngx_http_ir_audit_queued = 0;
    }
}


/* "XADD stream [MAXLEN ~ n] * field value ..." */

void
ngx_http_ir_audit_write(ngx_http_ir_audit_conf_t *acf, ngx_keyval_t *fields,
    ngx_uint_t n)
{
    u_char                     *p;
    size_t                      size;
    ngx_uint_t                  i, argc;
    ngx_http_ir_audit_entry_t  *entry;

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
    entry->argc = 0;
    entry->argv = (const char **) (entry + 1);
    entry->argvlen = (size_t *) (entry->argv + argc);

    p = (u_char *) (entry->argvlen + argc);

#define ngx_http_ir_audit_arg(data, len)                                     \
    entry->argv[entry->argc] = (const char *) p;                             \
    entry->argvlen[entry->argc++] = len;                                     \
    p = ngx_cpymem(p, data, len)

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
    ngx_http_ir_metric_inc(audit_buffered);

    ngx_http_ir_audit_flush();
}


/*
 * The audit entry of a decided request, once its final status is known.
 */

void
ngx_http_ir_audit_request(ngx_http_request_t *r)
{
    u_char                     *p;
    ngx_str_t                  *scope;
    ngx_uint_t                  i, n, status;
    ngx_keyval_t                f[16];
    ngx_http_ir_ctx_t          *ctx;
    ngx_http_ir_loc_conf_t     *lcf;
    ngx_http_variable_value_t  *id;
    u_char                      time[NGX_HTTP_IR_AUDIT_TIME_LEN];
    u_char                      code[NGX_INT_T_LEN];

    static ngx_str_t  request_id = ngx_string("request_id");
    static ngx_str_t  modes[] = { ngx_string("enforce"),
                                  ngx_string("dry_run") };

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ir_access_module);

    if (lcf->audit == NULL) {
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_ir_access_module);

    if (ctx == NULL || !ctx->decided) {
        return;
    }

    if (r->err_status) {
        status = r->err_status;

    } else {
        status = r->headers_out.status;
    }

    n = 0;

#define ngx_http_ir_field(k, v)                                             \
    ngx_str_set(&f[n].key, k);                                              \
    f[n++].value = v

    ngx_http_ir_audit_time(r->start_sec, r->start_msec, time, &f[n].value);
    ngx_str_set(&f[n].key, "time");
    n++;

    id = ngx_http_get_variable(r, &request_id,
                               ngx_hash_key(request_id.data, request_id.len));
    ngx_str_set(&f[n].key, "request_id");
    f[n].value.data = (id && !id->not_found) ? id->data : (u_char *) "";
    f[n++].value.len = (id && !id->not_found) ? id->len : 0;

    ngx_http_ir_field("mode", modes[ctx->dry_run]);
    ngx_http_ir_field("user", ctx->user);
    ngx_http_ir_field("org", ctx->org);
    ngx_http_ir_field("unit", ctx->unit);
    ngx_http_ir_field("contract", ctx->contract);
    ngx_http_ir_field("ip", r->connection->addr_text);
    ngx_http_ir_field("country", ctx->country);
    ngx_http_ir_field("method", r->method_name);
    ngx_http_ir_field("uri", r->unparsed_uri);

    /* the scopes the location asked for */

    ngx_str_set(&f[n].key, "scope");
    ngx_str_set(&f[n].value, "");

    if (lcf->policy.scopes) {
        scope = lcf->policy.scopes->elts;

        for (i = 0; i < lcf->policy.scopes->nelts; i++) {
            f[n].value.len += scope[i].len + 1;
        }

        p = ngx_pnalloc(r->pool, f[n].value.len);
        if (p == NULL) {
            return;
        }

        f[n].value.data = p;

        for (i = 0; i < lcf->policy.scopes->nelts; i++) {
            if (i) {
                *p++ = ' ';
            }

            p = ngx_cpymem(p, scope[i].data, scope[i].len);
        }

        f[n].value.len = p - f[n].value.data;
    }

    n++;

    ngx_http_ir_field("decision", ctx->decision);
    ngx_http_ir_field("reason", ctx->reason_name);

    ngx_str_set(&f[n].key, "status");
    f[n].value.data = code;
    f[n++].value.len = ngx_sprintf(code, "%ui", status) - code;

#undef ngx_http_ir_field

    ngx_http_ir_audit_write(lcf->audit, f, n);
}


void
ngx_http_ir_audit_time(time_t sec, ngx_msec_t msec, u_char *buf,
    ngx_str_t *time)
{
    ngx_tm_t  tm;

    ngx_gmtime(sec, &tm);

    time->data = buf;
    time->len = ngx_sprintf(buf, "%4d-%02d-%02dT%02d:%02d:%02d.%03MZ",
                            tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                            tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec,
                            msec)
                - buf;
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

        if (ngx_http_ir_redis_command(ngx_http_ir_audit_redis,
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
            ngx_http_ir_audit_failing = 0;
            ngx_http_ir_audit_dropped = 0;
        }

        return;
    }

    /* not written: it keeps its place in the queue and is sent again */

    entry->sent = 0;

    if (reply && !ngx_http_ir_audit_failing) {
        ngx_log_error(NGX_LOG_ERR, ngx_http_ir_audit_log, 0,
                      "ir_access: Redis refused an audit entry: %*s; "
                      "check the stream key of \"ir_access_audit\"",
                      (size_t) reply->len, reply->str);
    }

    ngx_http_ir_audit_failing = 1;

    if (!ngx_http_ir_audit_timer.timer_set) {
        ngx_add_timer(&ngx_http_ir_audit_timer, NGX_HTTP_IR_AUDIT_RETRY);
    }
}
