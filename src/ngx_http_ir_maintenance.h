
/*
 * ir-access: announced maintenance, "<prefix>maintenance" in Redis, read
 * by the requests from shared memory.
 */


#ifndef _NGX_HTTP_IR_MAINTENANCE_H_INCLUDED_
#define _NGX_HTTP_IR_MAINTENANCE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_audit.h"
#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_redis.h"
#include "ngx_http_ir_zone.h"


ngx_int_t ngx_http_ir_maintenance_zone(ngx_conf_t *cf, void *tag);
ngx_int_t ngx_http_ir_maintenance_start(ngx_http_ir_redis_t *redis,
    ngx_str_t *prefix, ngx_http_ir_audit_conf_t *acf,
    ngx_http_ir_zone_t *timezone, ngx_log_t *log);
void ngx_http_ir_maintenance_stop(void);
void ngx_http_ir_maintenance_exit(void);
void ngx_http_ir_maintenance_notified(ngx_str_t *op);

ngx_int_t ngx_http_ir_maintenance_check(ngx_str_t *env,
    ngx_http_ir_verdict_t *v, ngx_pool_t *pool);


#endif /* _NGX_HTTP_IR_MAINTENANCE_H_INCLUDED_ */
