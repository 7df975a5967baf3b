
/*
 * ir-access: one request's way through the decision.
 */


#ifndef _NGX_HTTP_IR_REQUEST_H_INCLUDED_
#define _NGX_HTTP_IR_REQUEST_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_access.h"


ngx_int_t ngx_http_ir_request_start(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
ngx_int_t ngx_http_ir_request_lookup(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
ngx_int_t ngx_http_ir_request_decide(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
void ngx_http_ir_request_responded(ngx_http_request_t *r);


#endif /* _NGX_HTTP_IR_REQUEST_H_INCLUDED_ */
