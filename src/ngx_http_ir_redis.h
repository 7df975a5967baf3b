
/*
 * ir-access: the worker's Redis connection.
 */


#ifndef _NGX_HTTP_IR_REDIS_H_INCLUDED_
#define _NGX_HTTP_IR_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


typedef void (*ngx_http_ir_redis_handler_pt)(void *data, redisReply *reply);


/*
 * A command in flight.  The record belongs to the connection: hiredis
 * hands it back exactly once, with the reply or with NULL when the
 * connection is gone, and it is freed then.  A requester that goes away
 * first only clears "data", so that a late reply is dropped.
 */

typedef struct {
    ngx_http_ir_redis_handler_pt   handler;
    void                          *data;
} ngx_http_ir_redis_call_t;


typedef struct {
    ngx_str_t                      address;     /* as configured */
    ngx_str_t                      host;        /* numeric, for hiredis */
    in_port_t                      port;
    ngx_str_t                      unix_path;
    ngx_int_t                      db;
    ngx_str_t                      user;
    ngx_str_t                      password;
    ngx_msec_t                     timeout;

    /*
     * "sentinel=": the master's name, and the Sentinels that know it,
     * an array of ngx_http_ir_redis_conf_t
     */
    ngx_str_t                      master_name;
    ngx_array_t                   *sentinels;
} ngx_http_ir_redis_conf_t;


typedef struct ngx_http_ir_redis_s  ngx_http_ir_redis_t;


char *ngx_http_ir_redis_parse(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t n, ngx_http_ir_redis_conf_t *rcf);
ngx_http_ir_redis_t *ngx_http_ir_redis_create(ngx_http_ir_redis_conf_t *rcf,
    ngx_log_t *log);
void ngx_http_ir_redis_destroy(ngx_http_ir_redis_t *redis);

ngx_http_ir_redis_call_t *ngx_http_ir_redis_command(ngx_http_ir_redis_t *redis,
    ngx_http_ir_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);
ngx_int_t ngx_http_ir_redis_subscribe(ngx_http_ir_redis_t *redis,
    ngx_http_ir_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);
void ngx_http_ir_redis_check(ngx_http_ir_redis_t *redis);


#endif /* _NGX_HTTP_IR_REDIS_H_INCLUDED_ */
