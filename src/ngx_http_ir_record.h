
/*
 * ir-access: a user's record packed into one block, for the shared cache
 * and for the requests that wait on one lookup.
 */


#ifndef _NGX_HTTP_IR_RECORD_H_INCLUDED_
#define _NGX_HTTP_IR_RECORD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_decision.h"


size_t ngx_http_ir_record_size(ngx_http_ir_record_t *rec);
void ngx_http_ir_record_pack(ngx_http_ir_record_t *rec, u_char *block);
ngx_int_t ngx_http_ir_record_unpack(u_char *block, size_t size,
    ngx_http_ir_record_t *rec, ngx_pool_t *pool);


#endif /* _NGX_HTTP_IR_RECORD_H_INCLUDED_ */
