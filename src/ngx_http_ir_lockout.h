
/*
 * ir-access: failed logins counted in Redis, and the lock they lead to.
 */


#ifndef _NGX_HTTP_IR_LOCKOUT_H_INCLUDED_
#define _NGX_HTTP_IR_LOCKOUT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_audit.h"
#include "ngx_http_ir_redis.h"


typedef struct {
    ngx_uint_t                     limit;        /* 0: off */
    ngx_msec_t                     window;
} ngx_http_ir_lockout_conf_t;


/* a count in flight; "waiter" is cleared when its request goes away */

typedef struct {
    void                         (*resume)(void *waiter);
    void                          *waiter;
    ngx_log_t                     *log;
    size_t                         user_len;
    u_char                         user[64];
    size_t                         key_len;
    u_char                         key[128];
} ngx_http_ir_lockout_t;


ngx_http_ir_lockout_t *ngx_http_ir_lockout_count(ngx_http_ir_redis_t *redis,
    ngx_str_t *prefix, ngx_str_t *user, ngx_http_ir_lockout_conf_t *lcf,
    ngx_http_ir_audit_conf_t *acf, const char *cause,
    void (*resume)(void *waiter), void *waiter, ngx_log_t *log);
void ngx_http_ir_lockout_reset(ngx_http_ir_redis_t *redis, ngx_str_t *prefix,
    ngx_str_t *user, ngx_log_t *log);


#endif /* _NGX_HTTP_IR_LOCKOUT_H_INCLUDED_ */
