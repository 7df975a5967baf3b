
/*
 * ir-access: what a refused client receives.
 */


#ifndef _NGX_HTTP_IR_RESPONSE_H_INCLUDED_
#define _NGX_HTTP_IR_RESPONSE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_uint_t ngx_http_ir_response_status(ngx_uint_t reason);
ngx_int_t ngx_http_ir_response_send(ngx_http_request_t *r, ngx_uint_t reason,
    ngx_str_t *realm);


#endif /* _NGX_HTTP_IR_RESPONSE_H_INCLUDED_ */
