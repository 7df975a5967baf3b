
/*
 * ir-access: timers of the worker's own, not a request's or a
 * connection's.
 */


#ifndef _NGX_HTTP_IR_TIMER_H_INCLUDED_
#define _NGX_HTTP_IR_TIMER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>


void ngx_http_ir_timer_init(ngx_event_t *ev, ngx_event_handler_pt handler,
    ngx_uint_t cancelable, ngx_log_t *log);


#endif /* _NGX_HTTP_IR_TIMER_H_INCLUDED_ */
