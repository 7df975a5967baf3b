
/*
 * ir-access: who the client is, from its verified certificate.
 */


#ifndef _NGX_HTTP_IR_IDENTITY_H_INCLUDED_
#define _NGX_HTTP_IR_IDENTITY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_record.h"
#include "ngx_http_ir_schema.h"


#define NGX_HTTP_IR_SHA256_HEX         (NGX_HTTP_IR_DIGEST_LEN * 2)


/*
 * What the TLS connection says of its peer, worked out once per
 * connection and kept with the SSL object, so that the requests of a
 * keep-alive connection pay for it once.
 */

typedef struct {
    ngx_uint_t                     reason;  /* 0, cert_required, bad_identity */
    ngx_str_t                      cn;      /* subject CN, a valid name */
    u_char                         cert_sha256[NGX_HTTP_IR_SHA256_HEX];
    u_char                         cert_digest[NGX_HTTP_IR_DIGEST_LEN];
    ngx_str_t                      not_after;    /* ISO 8601, UTC */
    u_char                         cn_data[NGX_HTTP_IR_NAME_MAX];
    u_char                         not_after_data[NGX_HTTP_IR_TIME_LEN];
} ngx_http_ir_peer_t;


ngx_int_t ngx_http_ir_identity_init(ngx_log_t *log);
ngx_http_ir_peer_t *ngx_http_ir_identity_peer(ngx_http_request_t *r);
ngx_uint_t ngx_http_ir_identity_name(X509_NAME *name, ngx_str_t *cn,
    u_char *buf, ngx_log_t *log);


#endif /* _NGX_HTTP_IR_IDENTITY_H_INCLUDED_ */
