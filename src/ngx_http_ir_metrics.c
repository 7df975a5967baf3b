
/*
 * ir-access: counters in shared memory, served in Prometheus's format.
 *
 * Every worker adds to the same counters, without a lock; the zone is
 * named by the module and kept across reloads, so that a reload does not
 * reset what a Prometheus server has been scraping.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_access.h"
#include "ngx_http_ir_metrics.h"
#include "ngx_http_ir_trail.h"
#include "ngx_http_ir_version.h"


/* what a response is written into, as text or as JSON */

typedef struct {
    u_char                        *p;
    u_char                        *last;
    ngx_uint_t                     json;
    const char                    *name;          /* the current, in JSON */
    ngx_uint_t                     values;
} ngx_http_ir_out_t;


static ngx_int_t ngx_http_ir_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_ir_metrics_begin(ngx_http_ir_out_t *o, const char *name,
    const char *type, const char *help);
static void ngx_http_ir_metrics_value(ngx_http_ir_out_t *o, const char *name,
    ngx_keyval_t *labels, ngx_uint_t n, u_char *value);


ngx_http_ir_metrics_t  *ngx_http_ir_metrics;


/* upper bounds of the lookup latency histogram, in microseconds */

static ngx_msec_t  ngx_http_ir_buckets[NGX_HTTP_IR_BUCKETS] = {
    250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
    500000, 1000000
};

static const char  *ngx_http_ir_bucket_names[NGX_HTTP_IR_BUCKETS] = {
    "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
    "0.05", "0.1", "0.25", "0.5", "1"
};


ngx_int_t
ngx_http_ir_metrics_zone(ngx_conf_t *cf, void *tag)
{
    ngx_str_t        name;
    ngx_shm_zone_t  *shm_zone;

    ngx_str_set(&name, "ir_access_metrics");

    shm_zone = ngx_shared_memory_add(cf, &name, 16 * ngx_pagesize,
                                     tag);
    if (shm_zone == NULL) {
        return NGX_ERROR;
    }

    shm_zone->init = ngx_http_ir_metrics_init_zone;
    shm_zone->data = (void *) 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t  *shpool;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data && shpool->data) {
        /* a reload: the counters go on */
        ngx_http_ir_metrics = shpool->data;
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    ngx_http_ir_metrics = ngx_slab_calloc(shpool,
                                          sizeof(ngx_http_ir_metrics_t));
    if (ngx_http_ir_metrics == NULL) {
        return NGX_ERROR;
    }

    shpool->data = ngx_http_ir_metrics;
    shm_zone->data = ngx_http_ir_metrics;

    return NGX_OK;
}


/* a worker's own Redis connection is up or down */

void
ngx_http_ir_metrics_redis_up(ngx_uint_t up)
{
    if (ngx_http_ir_metrics && ngx_worker < NGX_HTTP_IR_WORKERS_MAX) {
        ngx_http_ir_metrics->redis_up[ngx_worker] = up;
    }
}


void
ngx_http_ir_metrics_lookup(ngx_msec_t us)
{
    ngx_uint_t  i;

    ngx_http_ir_metric_inc(lookups);
    ngx_http_ir_metric_add(lookup_us, us);

    for (i = 0; i < NGX_HTTP_IR_BUCKETS; i++) {
        if (us <= ngx_http_ir_buckets[i]) {
            ngx_http_ir_metric_inc(lookup_buckets[i]);
            break;
        }
    }
}


ngx_int_t
ngx_http_ir_metrics_handler(ngx_http_request_t *r)
{
    u_char                   *p;
    size_t                    len;
    ngx_int_t                 rc;
    ngx_buf_t                *b;
    ngx_str_t                 format;
    ngx_uint_t                i, mode, kind, who, cumulative, up;
    ngx_chain_t               out;
    ngx_keyval_t              labels[3];
    ngx_http_ir_out_t         o;
    ngx_http_ir_metrics_t    *m;
    ngx_http_ir_main_conf_t  *mcf;
    u_char                    num[NGX_INT_T_LEN + 8];

    static ngx_str_t  modes[] = { ngx_string("enforce"),
                                  ngx_string("dry_run") };
    static ngx_str_t  kinds[] = { ngx_string("rate"),
                                  ngx_string("daily") };
    static ngx_str_t  whose[] = { ngx_string("user"),
                                  ngx_string("org") };

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    m = ngx_http_ir_metrics;
    if (m == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    len = 8192 + 2 * NGX_HTTP_IR_REASONS * 192 + NGX_HTTP_IR_BUCKETS * 128
          + 8 * 192;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&o, sizeof(ngx_http_ir_out_t));

    o.p = b->last;
    o.last = b->end;

    o.json = (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK
              && format.len == 4
              && ngx_strncmp(format.data, "json", 4) == 0);

    if (o.json) {
        *o.p++ = '{';
    }

#define ngx_http_ir_metric_number(n)                                         \
    (ngx_sprintf(num, "%uA%Z", (ngx_atomic_uint_t) (n)), num)

    ngx_http_ir_metrics_begin(&o, "ir_access_requests_total", "counter",
                              "Requests decided, by mode, decision and "
                              "reason.");

    ngx_str_set(&labels[0].key, "mode");
    ngx_str_set(&labels[1].key, "decision");
    ngx_str_set(&labels[2].key, "reason");

    for (mode = 0; mode < 2; mode++) {
        for (i = 0; i < NGX_HTTP_IR_REASONS; i++) {
            labels[0].value = modes[mode];

            if (i) {
                ngx_str_set(&labels[1].value, "deny");

            } else {
                ngx_str_set(&labels[1].value, "allow");
            }

            labels[2].value = *ngx_http_ir_reason_name(i);

            ngx_http_ir_metrics_value(&o, "ir_access_requests_total",
                                      labels, 3, ngx_http_ir_metric_number(
                                                     m->requests[mode][i]));
        }
    }

#define ngx_http_ir_metric_plain(name, type, help, n)                        \
    ngx_http_ir_metrics_begin(&o, name, type, help);                         \
    ngx_http_ir_metrics_value(&o, name, NULL, 0, ngx_http_ir_metric_number(n))

    ngx_http_ir_metric_plain("ir_access_redis_commands_total", "counter",
                             "Commands sent to Redis.", m->redis_commands);
    ngx_http_ir_metric_plain("ir_access_redis_errors_total", "counter",
                             "Commands that failed: no connection, no "
                             "reply, or an error reply.", m->redis_errors);

    up = 0;

    for (i = 0; i < NGX_HTTP_IR_WORKERS_MAX; i++) {
        up += m->redis_up[i];
    }

    ngx_http_ir_metric_plain("ir_access_redis_up", "gauge",
                             "Workers whose Redis connection is up.", up);
    ngx_http_ir_metric_plain("ir_access_notify_up", "gauge",
                             "Whether the keyspace notification subscription "
                             "is up (with ir_access_redis_notify).",
                             m->notify_up);

    ngx_http_ir_metrics_begin(&o, "ir_access_lookup_duration_seconds",
                              "histogram", "Time from sending a user's "
                              "lookup to its reply.");

    ngx_str_set(&labels[0].key, "le");
    cumulative = 0;

    for (i = 0; i < NGX_HTTP_IR_BUCKETS; i++) {
        cumulative += m->lookup_buckets[i];

        labels[0].value.data = (u_char *) ngx_http_ir_bucket_names[i];
        labels[0].value.len = ngx_strlen(ngx_http_ir_bucket_names[i]);

        ngx_http_ir_metrics_value(&o,
                                  "ir_access_lookup_duration_seconds_bucket",
                                  labels, 1,
                                  ngx_http_ir_metric_number(cumulative));
    }

    ngx_str_set(&labels[0].value, "+Inf");
    ngx_http_ir_metrics_value(&o, "ir_access_lookup_duration_seconds_bucket",
                              labels, 1, ngx_http_ir_metric_number(
                                                               m->lookups));

    ngx_sprintf(num, "%uA.%06uA%Z", m->lookup_us / 1000000,
                m->lookup_us % 1000000);
    ngx_http_ir_metrics_value(&o, "ir_access_lookup_duration_seconds_sum",
                              NULL, 0, num);
    ngx_http_ir_metrics_value(&o, "ir_access_lookup_duration_seconds_count",
                              NULL, 0, ngx_http_ir_metric_number(m->lookups));

    ngx_http_ir_metric_plain("ir_access_cache_hits_total", "counter",
                             "Decisions made from the shared cache.",
                             m->cache_hits);
    ngx_http_ir_metric_plain("ir_access_cache_misses_total", "counter",
                             "Lookups the cache could not spare.",
                             m->cache_misses);
    ngx_http_ir_metric_plain("ir_access_cache_stale_total", "counter",
                             "Decisions made from stale cached data while "
                             "Redis was unavailable.", m->cache_stale);

    if (mcf->cache) {
        ngx_http_ir_metric_plain("ir_access_cache_entries", "gauge",
                                 "Users in the shared cache.",
                                 ngx_http_ir_cache_entries(mcf->cache));
        ngx_http_ir_metric_plain("ir_access_cache_bytes_free", "gauge",
                                 "Free bytes of the cache's zone.",
                                 ngx_http_ir_cache_free(mcf->cache));
    }

    ngx_http_ir_metric_plain("ir_access_audit_written_total", "counter",
                             "Audit entries written to the stream.",
                             m->audit_written);
    ngx_http_ir_metric_plain("ir_access_audit_buffered", "gauge",
                             "Audit entries waiting for Redis.",
                             m->audit_buffered);
    ngx_http_ir_metric_plain("ir_access_audit_dropped_total", "counter",
                             "Audit entries dropped: the buffer was full, "
                             "or Redis refused them.", m->audit_dropped);
    ngx_http_ir_metric_plain("ir_access_audit_stream_length", "gauge",
                             "Entries in the audit stream, as last read.",
                             m->audit_stream_length);

    ngx_http_ir_metrics_begin(&o, "ir_access_audit_oldest_seconds", "gauge",
                              "Age of the stream's first entry: what the "
                              "archiver has yet to take.");
    ngx_sprintf(num, "%uA.%03uA%Z", m->audit_oldest_ms / 1000,
                m->audit_oldest_ms % 1000);
    ngx_http_ir_metrics_value(&o, "ir_access_audit_oldest_seconds", NULL, 0,
                              num);

    ngx_http_ir_metric_plain("ir_access_locks_total", "counter",
                             "Accounts the module locked.", m->locks);
    ngx_http_ir_metric_plain("ir_access_passwords_hashed_total", "counter",
                             "Slow password hashes computed in the thread "
                             "pool.", m->passwords_hashed);
    ngx_http_ir_metric_plain("ir_access_passwords_remembered_total",
                             "counter", "Passwords found among the "
                             "recently verified.", m->passwords_remembered);

    ngx_http_ir_metrics_begin(&o, "ir_access_quota_exceeded_total",
                              "counter", "Requests refused (or, in dry run, "
                              "that would be) over a quota, by mode, kind "
                              "and whose quota.");

    ngx_str_set(&labels[0].key, "mode");
    ngx_str_set(&labels[1].key, "kind");
    ngx_str_set(&labels[2].key, "who");

    for (mode = 0; mode < 2; mode++) {
        for (kind = 0; kind < 2; kind++) {
            for (who = 0; who < 2; who++) {
                labels[0].value = modes[mode];
                labels[1].value = kinds[kind];
                labels[2].value = whose[who];

                ngx_http_ir_metrics_value(&o,
                                          "ir_access_quota_exceeded_total",
                                          labels, 3,
                                          ngx_http_ir_metric_number(
                                              m->quota_exceeded[mode][kind]
                                                               [who]));
            }
        }
    }

    ngx_http_ir_metric_plain("ir_access_quota_flushed_total", "counter",
                             "Requests counted here and added to Redis's "
                             "counters.", m->quota_flushed);
    ngx_http_ir_metric_plain("ir_access_quota_unflushed", "gauge",
                             "Requests counted here and not yet added to "
                             "Redis's counters.", m->quota_unflushed);

    ngx_http_ir_metrics_begin(&o, "ir_access_cert_expiring_users", "gauge",
                              "Users whose certificate, as last seen, "
                              "expires within the days, counted every ten "
                              "minutes.");
    ngx_str_set(&labels[0].key, "days");
    ngx_str_set(&labels[0].value, "30");
    ngx_http_ir_metrics_value(&o, "ir_access_cert_expiring_users", labels, 1,
                              ngx_http_ir_metric_number(m->cert_expiring));

    ngx_http_ir_metrics_begin(&o, "ir_access_build_info", "gauge",
                              "The module's version.");
    ngx_str_set(&labels[0].key, "version");
    ngx_str_set(&labels[0].value, NGX_HTTP_IR_ACCESS_VERSION);
    ngx_http_ir_metrics_value(&o, "ir_access_build_info", labels, 1,
                              (u_char *) "1");

#undef ngx_http_ir_metric_plain
#undef ngx_http_ir_metric_number

    if (o.json) {
        if (o.name) {
            *o.p++ = ']';
        }

        *o.p++ = '}';
        *o.p++ = LF;
    }

    if (o.p >= o.last) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = o.p;

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;

    if (o.json) {
        ngx_str_set(&r->headers_out.content_type, "application/json");
        r->headers_out.content_type_len = r->headers_out.content_type.len;

    } else {
        ngx_str_set(&r->headers_out.content_type,
                    "text/plain; version=0.0.4; charset=utf-8");
        r->headers_out.content_type_len = sizeof("text/plain") - 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* a metric's help and type: "# HELP" and "# TYPE" lines, or nothing */

static void
ngx_http_ir_metrics_begin(ngx_http_ir_out_t *o, const char *name,
    const char *type, const char *help)
{
    if (o->json || o->last - o->p < 512) {
        return;
    }

    o->p = ngx_sprintf(o->p, "# HELP %s %s\n# TYPE %s %s\n",
                       name, help, name, type);
}


/*
 * A value: "name{label="v",...} value" in Prometheus's text format, or in
 * JSON an object of the labels and the value, in an array per name.
 */

static void
ngx_http_ir_metrics_value(ngx_http_ir_out_t *o, const char *name,
    ngx_keyval_t *labels, ngx_uint_t n, u_char *value)
{
    ngx_uint_t  i;
    ngx_str_t   s;

    if (o->last - o->p < 512) {
        o->p = o->last;
        return;
    }

    if (!o->json) {
        o->p = ngx_sprintf(o->p, "%s", name);

        for (i = 0; i < n; i++) {
            o->p = ngx_sprintf(o->p, "%s%V=\"%V\"", i ? "," : "{",
                               &labels[i].key, &labels[i].value);
        }

        o->p = ngx_sprintf(o->p, "%s %s\n", n ? "}" : "", value);
        return;
    }

    if (o->name == NULL || ngx_strcmp(o->name, name) != 0) {
        o->p = ngx_sprintf(o->p, "%s\"%s\":[", o->name ? "]," : "", name);
        o->name = name;
        o->values = 0;
    }

    *o->p++ = o->values++ ? ',' : '{';

    if (o->values > 1) {
        *o->p++ = '{';
    }

    for (i = 0; i < n; i++) {
        o->p = ngx_http_ir_json_string(o->p, o->last, &labels[i].key);
        *o->p++ = ':';
        o->p = ngx_http_ir_json_string(o->p, o->last, &labels[i].value);
        *o->p++ = ',';
    }

    s.data = value;
    s.len = ngx_strlen(value);

    o->p = ngx_sprintf(o->p, "\"value\":%V}", &s);
}
