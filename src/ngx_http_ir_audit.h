
/*
 * ir-access: the audit trail written to a Redis stream.
 */


#ifndef _NGX_HTTP_IR_AUDIT_H_INCLUDED_
#define _NGX_HTTP_IR_AUDIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_redis.h"
#include "ngx_http_ir_trail.h"


typedef struct {
    ngx_str_t                      stream;
    ngx_str_t                      maxlen;        /* "" for none */
    size_t                         uri_max;
    ngx_http_complex_value_t      *subject;       /* the data subject */
} ngx_http_ir_audit_conf_t;


char *ngx_http_ir_audit_conf(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t n,
    ngx_http_ir_audit_conf_t **acfp);
void ngx_http_ir_audit_init(ngx_http_ir_redis_t *redis, ngx_uint_t limit,
    ngx_cycle_t *cycle);
void ngx_http_ir_audit_watch(ngx_http_ir_audit_conf_t *acf);
void ngx_http_ir_audit_exit(void);
void ngx_http_ir_audit_decision(ngx_http_ir_audit_conf_t *acf,
    ngx_http_ir_trail_decision_t *d);
void ngx_http_ir_audit_event(ngx_http_ir_audit_conf_t *acf,
    const char *event, ngx_keyval_t *fields, ngx_uint_t n);


#endif /* _NGX_HTTP_IR_AUDIT_H_INCLUDED_ */
