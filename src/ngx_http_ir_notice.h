
/*
 * ir-access: an announced maintenance, the hash "<prefix>maintenance", as
 * the gateway reads it: no I/O.
 */


#ifndef _NGX_HTTP_IR_NOTICE_H_INCLUDED_
#define _NGX_HTTP_IR_NOTICE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_zone.h"


/* what the gateway makes of the hash's fields */

#define NGX_HTTP_IR_NOTICE_ON          0       /* a maintenance in effect */
#define NGX_HTTP_IR_NOTICE_NONE        1       /* none of the fields */
#define NGX_HTTP_IR_NOTICE_NO_UNTIL    2
#define NGX_HTTP_IR_NOTICE_BAD_UNTIL   3       /* no ISO 8601 time */
#define NGX_HTTP_IR_NOTICE_LONG_ENV    4       /* "env" over its limit */
#define NGX_HTTP_IR_NOTICE_PAST        5       /* "until" has passed */
#define NGX_HTTP_IR_NOTICE_BAD_ENV     6       /* a control character */

typedef struct {
    ngx_str_t                      env;           /* data NULL: not there */
    ngx_str_t                      until;
    ngx_str_t                      message;
    time_t                         end;           /* "until", UTC */
    unsigned                       local:1;       /* "until" had no offset:
                                                     a time of the zone */
    unsigned                       message_bad:1; /* left out of answers */
} ngx_http_ir_notice_t;


ngx_uint_t ngx_http_ir_notice_read(ngx_http_ir_notice_t *notice,
    ngx_http_ir_zone_t *zone, time_t now);
ngx_uint_t ngx_http_ir_notice_applies(ngx_str_t *list, ngx_str_t *env);
ngx_int_t ngx_http_ir_notice_text(ngx_str_t *text);

/* "2026-11-27T08:00:00Z", into at least NGX_HTTP_IR_TIME_LEN bytes */
u_char *ngx_http_ir_notice_time(u_char *buf, time_t t);


#endif /* _NGX_HTTP_IR_NOTICE_H_INCLUDED_ */
