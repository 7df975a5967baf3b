
/*
 * ir-access: who the client is, from its verified certificate.
 */


#ifndef _NGX_HTTP_IR_IDENTITY_H_INCLUDED_
#define _NGX_HTTP_IR_IDENTITY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_IR_IDENTITY_MAX  64
#define NGX_HTTP_IR_SHA256_HEX    64


/*
 * What the TLS connection says of its peer, worked out once per
 * connection and kept with the SSL object, so that the requests of a
 * keep-alive connection pay for it once.
 */

typedef struct {
    ngx_uint_t   reason;        /* 0, cert_required or bad_identity */
    ngx_str_t    cn;            /* subject CN where it is a valid name */
    u_char       cert_sha256[NGX_HTTP_IR_SHA256_HEX];
    u_char       cert_digest[NGX_HTTP_IR_SHA256_HEX / 2];
    u_char       cn_data[NGX_HTTP_IR_IDENTITY_MAX];
} ngx_http_ir_peer_t;


ngx_int_t ngx_http_ir_identity_init(ngx_log_t *log);
ngx_http_ir_peer_t *ngx_http_ir_identity_peer(ngx_connection_t *c);
ngx_int_t ngx_http_ir_identity_valid(ngx_str_t *name);


#endif /* _NGX_HTTP_IR_IDENTITY_H_INCLUDED_ */
