
/*
 * ir-access: a user's address allowlist.
 */


#ifndef _NGX_HTTP_IR_ADDR_H_INCLUDED_
#define _NGX_HTTP_IR_ADDR_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


ngx_int_t ngx_http_ir_addr_parse(ngx_str_t *entry, ngx_cidr_t *cidr);
ngx_int_t ngx_http_ir_addr_match(struct sockaddr *sa, ngx_array_t *cidrs);


#endif /* _NGX_HTTP_IR_ADDR_H_INCLUDED_ */
