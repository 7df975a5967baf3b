
/*
 * ir-access: Redis keyspace notifications that drop cached records.
 */


#ifndef _NGX_HTTP_IR_NOTIFY_H_INCLUDED_
#define _NGX_HTTP_IR_NOTIFY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_audit.h"
#include "ngx_http_ir_cache.h"
#include "ngx_http_ir_redis.h"


ngx_int_t ngx_http_ir_notify_start(ngx_http_ir_redis_conf_t *rcf,
    ngx_str_t *prefix, ngx_http_ir_cache_t *cache,
    ngx_http_ir_audit_conf_t *acf, ngx_http_ir_redis_t *commands,
    ngx_cycle_t *cycle);
void ngx_http_ir_notify_stop(void);


#endif /* _NGX_HTTP_IR_NOTIFY_H_INCLUDED_ */
