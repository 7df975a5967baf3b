
/*
 * ir-access: failed logins counted in Redis, and the lock they lead to.
 */


#ifndef _NGX_HTTP_IR_LOCKOUT_H_INCLUDED_
#define _NGX_HTTP_IR_LOCKOUT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_audit.h"
#include "ngx_http_ir_redis.h"
#include "ngx_http_ir_store.h"


typedef struct {
    ngx_uint_t                     limit;        /* 0: off */
    ngx_msec_t                     window;
} ngx_http_ir_lockout_conf_t;


/* called with what Redis answered; NGX_HTTP_IR_STORE_ERROR without it */
typedef void (*ngx_http_ir_login_pt)(void *data, ngx_uint_t result);


/* a login's call in flight; "data" is cleared when its request goes away */

typedef struct {
    const char                    *what;          /* for the log */
    ngx_http_ir_login_pt           handler;
    void                          *data;
    ngx_http_ir_audit_conf_t      *audit;
    ngx_log_t                     *log;
    ngx_str_t                      user;
    u_char                         user_data[NGX_HTTP_IR_NAME_MAX];
    ngx_str_t                      key;
    u_char                         key_data[NGX_HTTP_IR_KEY_MAX];
    ngx_str_t                      reason;        /* a lock's */
    u_char                         reason_data[NGX_HTTP_IR_ARG_MAX];
} ngx_http_ir_login_t;


ngx_http_ir_login_t *ngx_http_ir_lockout_reserve(ngx_http_ir_redis_t *redis,
    ngx_str_t *prefix, ngx_str_t *user, ngx_uint_t limit,
    ngx_http_ir_login_pt handler, void *data, ngx_log_t *log);
ngx_http_ir_login_t *ngx_http_ir_lockout_fail(ngx_http_ir_redis_t *redis,
    ngx_str_t *prefix, ngx_str_t *user, ngx_http_ir_lockout_conf_t *lcf,
    ngx_uint_t reserved, ngx_str_t *cause, ngx_http_ir_audit_conf_t *acf,
    ngx_http_ir_login_pt handler, void *data, ngx_log_t *log);
void ngx_http_ir_lockout_pass(ngx_http_ir_redis_t *redis, ngx_str_t *prefix,
    ngx_str_t *user, ngx_uint_t reserved, ngx_uint_t forget, ngx_log_t *log);


#endif /* _NGX_HTTP_IR_LOCKOUT_H_INCLUDED_ */
