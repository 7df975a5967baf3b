
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


static ngx_int_t ngx_http_ir_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


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
ngx_http_ir_metrics_zone(ngx_conf_t *cf)
{
    ngx_str_t        name;
    ngx_shm_zone_t  *shm_zone;

    ngx_str_set(&name, "ir_access_metrics");

    shm_zone = ngx_shared_memory_add(cf, &name, 16 * ngx_pagesize,
                                     &ngx_http_ir_access_module);
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
    u_char                 *p;
    size_t                  len;
    ngx_int_t               rc;
    ngx_buf_t              *b;
    ngx_str_t              *reason;
    ngx_uint_t              i, mode, cumulative;
    ngx_chain_t             out;
    ngx_http_ir_metrics_t  *m;

    static const char  *modes[] = { "enforce", "dry_run" };

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

    len = 4096 + 2 * NGX_HTTP_IR_REASONS * 128 + NGX_HTTP_IR_BUCKETS * 128;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;

    p = ngx_sprintf(p,
            "# HELP ir_access_requests_total Requests decided, by mode, "
            "decision and reason.\n"
            "# TYPE ir_access_requests_total counter\n");

    for (mode = 0; mode < 2; mode++) {
        for (i = 0; i < NGX_HTTP_IR_REASONS; i++) {
            reason = ngx_http_ir_reason_name(i);
            p = ngx_sprintf(p, "ir_access_requests_total{mode=\"%s\","
                            "decision=\"%s\",reason=\"%V\"} %uA\n",
                            modes[mode], i ? "deny" : "allow", reason,
                            m->requests[mode][i]);
        }
    }

    p = ngx_sprintf(p,
            "# HELP ir_access_redis_commands_total Commands sent to Redis.\n"
            "# TYPE ir_access_redis_commands_total counter\n"
            "ir_access_redis_commands_total %uA\n"
            "# HELP ir_access_redis_errors_total Commands that failed: "
            "no connection, no reply, or an error reply.\n"
            "# TYPE ir_access_redis_errors_total counter\n"
            "ir_access_redis_errors_total %uA\n",
            m->redis_commands, m->redis_errors);

    p = ngx_sprintf(p,
            "# HELP ir_access_lookup_duration_seconds Time from sending a "
            "user's lookup to its reply.\n"
            "# TYPE ir_access_lookup_duration_seconds histogram\n");

    cumulative = 0;

    for (i = 0; i < NGX_HTTP_IR_BUCKETS; i++) {
        cumulative += m->lookup_buckets[i];
        p = ngx_sprintf(p, "ir_access_lookup_duration_seconds_bucket"
                        "{le=\"%s\"} %ui\n",
                        ngx_http_ir_bucket_names[i], cumulative);
    }

    p = ngx_sprintf(p,
            "ir_access_lookup_duration_seconds_bucket{le=\"+Inf\"} %uA\n"
            "ir_access_lookup_duration_seconds_sum %uA.%06uA\n"
            "ir_access_lookup_duration_seconds_count %uA\n",
            m->lookups, m->lookup_us / 1000000, m->lookup_us % 1000000,
            m->lookups);

    p = ngx_sprintf(p,
            "# HELP ir_access_cache_hits_total Decisions made from the "
            "shared cache.\n"
            "# TYPE ir_access_cache_hits_total counter\n"
            "ir_access_cache_hits_total %uA\n"
            "# HELP ir_access_cache_misses_total Lookups the cache could "
            "not spare.\n"
            "# TYPE ir_access_cache_misses_total counter\n"
            "ir_access_cache_misses_total %uA\n"
            "# HELP ir_access_cache_stale_total Decisions made from stale "
            "cached data while Redis was unavailable.\n"
            "# TYPE ir_access_cache_stale_total counter\n"
            "ir_access_cache_stale_total %uA\n",
            m->cache_hits, m->cache_misses, m->cache_stale);

    p = ngx_sprintf(p,
            "# HELP ir_access_audit_written_total Audit entries written to "
            "the stream.\n"
            "# TYPE ir_access_audit_written_total counter\n"
            "ir_access_audit_written_total %uA\n"
            "# HELP ir_access_audit_buffered Audit entries waiting for "
            "Redis.\n"
            "# TYPE ir_access_audit_buffered gauge\n"
            "ir_access_audit_buffered %uA\n"
            "# HELP ir_access_audit_dropped_total Audit entries dropped "
            "because the buffer was full.\n"
            "# TYPE ir_access_audit_dropped_total counter\n"
            "ir_access_audit_dropped_total %uA\n",
            m->audit_written, m->audit_buffered, m->audit_dropped);

    p = ngx_sprintf(p,
            "# HELP ir_access_locks_total Accounts the module locked.\n"
            "# TYPE ir_access_locks_total counter\n"
            "ir_access_locks_total %uA\n"
            "# HELP ir_access_passwords_hashed_total Slow password hashes "
            "computed in the thread pool.\n"
            "# TYPE ir_access_passwords_hashed_total counter\n"
            "ir_access_passwords_hashed_total %uA\n"
            "# HELP ir_access_passwords_remembered_total Passwords found "
            "among the recently verified.\n"
            "# TYPE ir_access_passwords_remembered_total counter\n"
            "ir_access_passwords_remembered_total %uA\n",
            m->locks, m->passwords_hashed, m->passwords_remembered);

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
