
/*
 * ir-access: Redis keyspace notifications that drop cached records.
 */


#ifndef _NGX_HTTP_IR_NOTIFY_H_INCLUDED_
#define _NGX_HTTP_IR_NOTIFY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_access.h"


ngx_int_t ngx_http_ir_notify_start(ngx_http_ir_main_conf_t *mcf,
    ngx_cycle_t *cycle);
void ngx_http_ir_notify_stop(void);


#endif /* _NGX_HTTP_IR_NOTIFY_H_INCLUDED_ */
