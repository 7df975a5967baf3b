
/*
 * ir-access: timers of the worker's own, not a request's or a
 * connection's: the audit's retries, the quota's batches, the
 * maintenance's reads, the expiring certificates' count, an edit's
 * delay before it goes into the trail.
 *
 * nginx's debug lines about a timer read the event's data as its
 * connection: such a timer gets a dummy one, shared by all, as nginx's
 * cache manager gives its timers.  Its handler finds what it works on
 * elsewhere (a static, or the structure the event is part of).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_ir_timer.h"


static ngx_connection_t  ngx_http_ir_timer_dumb;


/*
 * A timer that may not be cancelled keeps an exiting worker until it
 * has run.
 */

void
ngx_http_ir_timer_init(ngx_event_t *ev, ngx_event_handler_pt handler,
    ngx_uint_t cancelable, ngx_log_t *log)
{
    ngx_http_ir_timer_dumb.fd = (ngx_socket_t) -1;

    ev->handler = handler;
    ev->data = &ngx_http_ir_timer_dumb;
    ev->log = log;
    ev->cancelable = cancelable;
}
