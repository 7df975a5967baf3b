
/*
 * ir-access: counters in shared memory, served in Prometheus's format.
 */


#ifndef _NGX_HTTP_IR_METRICS_H_INCLUDED_
#define _NGX_HTTP_IR_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_decision.h"


#define NGX_HTTP_IR_BUCKETS  12

/* workers whose Redis connection state is kept, one slot each */
#define NGX_HTTP_IR_WORKERS_MAX        64


typedef struct {
    ngx_atomic_t                   requests[2][NGX_HTTP_IR_REASONS];
    ngx_atomic_t                   redis_commands;
    ngx_atomic_t                   redis_errors;
    ngx_atomic_t                   lookups;
    ngx_atomic_t                   lookup_us;
    ngx_atomic_t                   lookup_buckets[NGX_HTTP_IR_BUCKETS];
    ngx_atomic_t                   cache_hits;
    ngx_atomic_t                   cache_misses;
    ngx_atomic_t                   cache_stale;
    ngx_atomic_t                   audit_written;
    ngx_atomic_t                   audit_buffered;
    ngx_atomic_t                   audit_dropped;
    ngx_atomic_t                   audit_stream_length;
    ngx_atomic_t                   audit_oldest_ms;   /* its first's age */
    ngx_atomic_t                   locks;
    ngx_atomic_t                   passwords_hashed;
    ngx_atomic_t                   passwords_remembered;
    ngx_atomic_t                   notify_up;
    ngx_atomic_t                   cert_expiring;
    ngx_atomic_t                   redis_up[NGX_HTTP_IR_WORKERS_MAX];

    /* by mode, by NGX_HTTP_IR_QUOTA_MINUTE or _DAY, by _USER or _ORG */
    ngx_atomic_t                   quota_exceeded[2][2][2];
    ngx_atomic_t                   quota_flushed;
    ngx_atomic_t                   quota_unflushed;
} ngx_http_ir_metrics_t;


extern ngx_http_ir_metrics_t  *ngx_http_ir_metrics;


#define ngx_http_ir_metric_add(field, n)                                    \
    if (ngx_http_ir_metrics) {                                              \
        (void) ngx_atomic_fetch_add(&ngx_http_ir_metrics->field, n);        \
    }

#define ngx_http_ir_metric_inc(field)  ngx_http_ir_metric_add(field, 1)

#define ngx_http_ir_metric_set(field, n)                                    \
    if (ngx_http_ir_metrics) {                                              \
        ngx_http_ir_metrics->field = n;                                     \
    }


ngx_int_t ngx_http_ir_metrics_zone(ngx_conf_t *cf, void *tag);
void ngx_http_ir_metrics_lookup(ngx_msec_t us);
ngx_int_t ngx_http_ir_metrics_handler(ngx_http_request_t *r);
void ngx_http_ir_metrics_redis_up(ngx_uint_t up);


#endif /* _NGX_HTTP_IR_METRICS_H_INCLUDED_ */
