
/*
 * ir-access: Redis Sentinel, which tells the workers where the master is.
 */


#ifndef _NGX_HTTP_IR_SENTINEL_H_INCLUDED_
#define _NGX_HTTP_IR_SENTINEL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_redis.h"


char *ngx_http_ir_sentinel_conf(ngx_conf_t *cf,
    ngx_http_ir_redis_conf_t *rcf);
ngx_http_ir_sentinel_t *ngx_http_ir_sentinel_create(
    ngx_http_ir_redis_t *master, ngx_http_ir_redis_conf_t *rcf,
    ngx_log_t *log);
void ngx_http_ir_sentinel_destroy(ngx_http_ir_sentinel_t *s);
ngx_int_t ngx_http_ir_sentinel_ready(ngx_http_ir_sentinel_t *s);
void ngx_http_ir_sentinel_lost(ngx_http_ir_sentinel_t *s);


#endif /* _NGX_HTTP_IR_SENTINEL_H_INCLUDED_ */
