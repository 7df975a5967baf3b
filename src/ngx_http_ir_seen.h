
/*
 * ir-access: when the gateway last decided for a user, and with which
 * certificate, for the administrators' report.
 */


#ifndef _NGX_HTTP_IR_SEEN_H_INCLUDED_
#define _NGX_HTTP_IR_SEEN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_cache.h"
#include "ngx_http_ir_redis.h"


typedef struct {
    ngx_str_t                      user;
    ngx_str_t                      ip;
    ngx_str_t                      not_after;
    ngx_str_t                      fingerprint;
    ngx_msec_t                     written;   /* as the cache had it, or 0 */
} ngx_http_ir_seen_t;


void ngx_http_ir_seen(ngx_http_ir_redis_t *redis, ngx_str_t *prefix,
    ngx_http_ir_cache_t *cache, ngx_http_ir_seen_t *seen);
void ngx_http_ir_seen_watch(ngx_http_ir_redis_t *redis, ngx_str_t *prefix,
    ngx_log_t *log);
void ngx_http_ir_seen_exit(void);


#endif /* _NGX_HTTP_IR_SEEN_H_INCLUDED_ */
