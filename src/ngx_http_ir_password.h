
/*
 * ir-access: the user's password, on top of the certificate.
 */


#ifndef _NGX_HTTP_IR_PASSWORD_H_INCLUDED_
#define _NGX_HTTP_IR_PASSWORD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_IR_MAC_LEN            32


#if !(NGX_THREADS)
typedef struct ngx_thread_pool_s  ngx_thread_pool_t;
#endif


typedef void (*ngx_http_ir_password_pt)(void *data, ngx_uint_t result);


ngx_uint_t ngx_http_ir_password_credentials(ngx_http_request_t *r,
    ngx_str_t *identity, ngx_str_t *passwd);
ngx_int_t ngx_http_ir_password_recall(ngx_str_t *user, ngx_str_t *hash,
    ngx_str_t *passwd, ngx_msec_t remember, u_char *mac);
void ngx_http_ir_password_remember(u_char *mac);
ngx_int_t ngx_http_ir_password_compare(ngx_http_request_t *r,
    ngx_str_t *passwd, ngx_str_t *hash, ngx_uint_t kind,
    ngx_thread_pool_t *pool, ngx_http_ir_password_pt done, void *data,
    ngx_uint_t *result);


#endif /* _NGX_HTTP_IR_PASSWORD_H_INCLUDED_ */
