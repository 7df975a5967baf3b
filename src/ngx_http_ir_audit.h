
/*
 * ir-access: the audit trail, one Redis stream entry per decision.
 */


#ifndef _NGX_HTTP_IR_AUDIT_H_INCLUDED_
#define _NGX_HTTP_IR_AUDIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_redis.h"


typedef struct {
    ngx_str_t                      stream;
    ngx_str_t                      maxlen;        /* "" for none */
} ngx_http_ir_audit_conf_t;


char *ngx_http_ir_audit_conf(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t n,
    ngx_http_ir_audit_conf_t **acfp);
void ngx_http_ir_audit_init(ngx_http_ir_redis_t *redis, ngx_uint_t limit,
    ngx_log_t *log);
void ngx_http_ir_audit_exit(void);
void ngx_http_ir_audit_write(ngx_http_ir_audit_conf_t *acf,
    ngx_keyval_t *fields, ngx_uint_t n);
void ngx_http_ir_audit_request(ngx_http_request_t *r);
void ngx_http_ir_audit_time(time_t sec, ngx_msec_t msec, u_char *buf,
    ngx_str_t *time);


#define NGX_HTTP_IR_AUDIT_TIME_LEN  sizeof("2026-11-27T08:00:00.000Z")


#endif /* _NGX_HTTP_IR_AUDIT_H_INCLUDED_ */
