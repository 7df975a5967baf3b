
/*
 * ir-access: the user's password, on top of the certificate.
 */


#ifndef _NGX_HTTP_IR_PASSWORD_H_INCLUDED_
#define _NGX_HTTP_IR_PASSWORD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#if !(NGX_THREADS)
typedef struct ngx_thread_pool_s  ngx_thread_pool_t;
#endif


typedef void (*ngx_http_ir_password_done_pt)(ngx_http_request_t *r,
    ngx_uint_t result);


ngx_int_t ngx_http_ir_password_check(ngx_http_request_t *r,
    ngx_str_t *identity, ngx_str_t *hash, ngx_thread_pool_t *pool,
    ngx_msec_t remember, ngx_http_ir_password_done_pt done,
    ngx_uint_t *result);


#endif /* _NGX_HTTP_IR_PASSWORD_H_INCLUDED_ */
