
/*
 * ir-access: fetching a user's record from Redis in one round trip.
 */


#ifndef _NGX_HTTP_IR_LOOKUP_H_INCLUDED_
#define _NGX_HTTP_IR_LOOKUP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_cache.h"
#include "ngx_http_ir_redis.h"


typedef struct ngx_http_ir_waiter_s  ngx_http_ir_waiter_t;

/* called with the packed record, or with NULL when the lookup failed */
typedef void (*ngx_http_ir_waiter_pt)(ngx_http_ir_waiter_t *w,
    u_char *block, size_t size);

struct ngx_http_ir_waiter_s {
    ngx_queue_t                    queue;
    void                          *flight;        /* NULL: not waiting */
    ngx_http_ir_waiter_pt          handler;
    void                          *data;
};


/* where a worker's lookups go and what they fill */

typedef struct {
    ngx_http_ir_redis_t           *redis;
    ngx_str_t                     *prefix;
    ngx_http_ir_cache_t           *cache;         /* NULL: none */
} ngx_http_ir_source_t;


void ngx_http_ir_lookup_init(void);
ngx_int_t ngx_http_ir_lookup_wait(ngx_http_ir_source_t *src, ngx_str_t *name,
    ngx_uint_t start, ngx_uint_t gen, ngx_http_ir_waiter_t *w,
    ngx_log_t *log);
void ngx_http_ir_lookup_leave(ngx_http_ir_waiter_t *w);


#endif /* _NGX_HTTP_IR_LOOKUP_H_INCLUDED_ */
