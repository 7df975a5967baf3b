
/*
 * ir-access: the $ir_access_* variables.
 */


#ifndef _NGX_HTTP_IR_VARIABLES_H_INCLUDED_
#define _NGX_HTTP_IR_VARIABLES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_ir_variables_add(ngx_conf_t *cf);


#endif /* _NGX_HTTP_IR_VARIABLES_H_INCLUDED_ */
