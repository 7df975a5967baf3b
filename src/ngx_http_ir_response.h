
/*
 * ir-access: what a refused client receives.
 */


#ifndef _NGX_HTTP_IR_RESPONSE_H_INCLUDED_
#define _NGX_HTTP_IR_RESPONSE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_decision.h"


typedef struct {
    ngx_uint_t                     status;
    ngx_str_t                      body;          /* the JSON */
    unsigned                       replace:1;     /* nginx's own page */
    unsigned                       replacing:1;
    unsigned                       sent:1;
} ngx_http_ir_answer_t;


ngx_int_t ngx_http_ir_response_deny(ngx_http_request_t *r,
    ngx_http_ir_answer_t *a, ngx_http_ir_verdict_t *v, ngx_str_t *realm,
    ngx_str_t *request_id);
void ngx_http_ir_response_header(ngx_http_request_t *r,
    ngx_http_ir_answer_t *a);
ngx_int_t ngx_http_ir_response_body(ngx_http_request_t *r,
    ngx_http_ir_answer_t *a, ngx_chain_t *in, ngx_chain_t **out);


#endif /* _NGX_HTTP_IR_RESPONSE_H_INCLUDED_ */
