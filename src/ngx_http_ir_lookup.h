
/*
 * ir-access: fetching a user's record from Redis in one round trip.
 */


#ifndef _NGX_HTTP_IR_LOOKUP_H_INCLUDED_
#define _NGX_HTTP_IR_LOOKUP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_redis.h"


ngx_int_t ngx_http_ir_lookup_init(ngx_log_t *log);
ngx_http_ir_redis_call_t *ngx_http_ir_lookup_send(ngx_http_ir_redis_t *redis,
    ngx_str_t *prefix, ngx_str_t *name, ngx_uint_t full,
    ngx_http_ir_redis_handler_pt handler, void *data, ngx_pool_t *pool);
ngx_int_t ngx_http_ir_lookup_parse(redisReply *reply, ngx_str_t *prefix,
    ngx_str_t *name, ngx_http_ir_record_t *rec, ngx_pool_t *pool,
    ngx_log_t *log);


#endif /* _NGX_HTTP_IR_LOOKUP_H_INCLUDED_ */
