
/*
 * ir-access: calendar days in the time zone contracts are written in.
 */


#ifndef _NGX_HTTP_IR_ZONE_H_INCLUDED_
#define _NGX_HTTP_IR_ZONE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    time_t                         from;          /* UTC */
    long                           offset;        /* seconds east of UTC */
} ngx_http_ir_zone_change_t;


typedef struct {
    ngx_str_t                      name;          /* "" for the process's */
    ngx_array_t                   *changes;       /* sorted by "from" */
} ngx_http_ir_zone_t;


ngx_int_t ngx_http_ir_zone_read(ngx_str_t *name, ngx_http_ir_zone_t *zone,
    ngx_pool_t *pool, ngx_str_t *why, ngx_err_t *err);
ngx_uint_t ngx_http_ir_zone_today(ngx_http_ir_zone_t *zone, time_t now,
    time_t *next);
time_t ngx_http_ir_zone_utc(ngx_http_ir_zone_t *zone, time_t local);


#endif /* _NGX_HTTP_IR_ZONE_H_INCLUDED_ */
