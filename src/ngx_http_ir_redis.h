
/*
 * ir-access: the worker's Redis connection.
 */


#ifndef _NGX_HTTP_IR_REDIS_H_INCLUDED_
#define _NGX_HTTP_IR_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#if (NGX_HTTP_IR_REDIS_TLS)
#include <openssl/ssl.h>
#include <hiredis/hiredis_ssl.h>
#endif

#include "ngx_http_ir_store.h"


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
    ngx_http_ir_script_t          *script;        /* an EVALSHA's */
    ngx_http_ir_args_t            *args;          /* to send it whole */
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
     * an array of ngx_http_ir_redis_conf_t, with their own credentials
     */
    ngx_str_t                      master_name;
    ngx_array_t                   *sentinels;
    ngx_str_t                      sentinel_user;
    ngx_str_t                      sentinel_password;

    /*
     * "tls": the client context, made once per configuration and shared
     * by the master's and the Sentinels' connections, and the name the
     * server's certificate must carry ("tls_name=", else the host as
     * configured or as a Sentinel named it), a C string
     */
#if (NGX_HTTP_IR_REDIS_TLS)
    SSL_CTX                       *ssl_ctx;
#endif
    ngx_str_t                      tls_name;
    ngx_str_t                      peer_name;

    unsigned                       tls:1;
    unsigned                       sentinel:1;    /* this is a Sentinel */
} ngx_http_ir_redis_conf_t;


typedef struct ngx_http_ir_redis_s     ngx_http_ir_redis_t;
typedef struct ngx_http_ir_sentinel_s  ngx_http_ir_sentinel_t;


char *ngx_http_ir_redis_parse(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t n, ngx_http_ir_redis_conf_t *rcf);
char *ngx_http_ir_redis_resolve(ngx_conf_t *cf, ngx_str_t *address,
    in_port_t default_port, ngx_http_ir_redis_conf_t *rcf);
ngx_http_ir_redis_t *ngx_http_ir_redis_create(ngx_http_ir_redis_conf_t *rcf,
    ngx_log_t *log);
void ngx_http_ir_redis_destroy(ngx_http_ir_redis_t *redis);

ngx_http_ir_redis_call_t *ngx_http_ir_redis_command(ngx_http_ir_redis_t *redis,
    ngx_http_ir_redis_handler_pt handler, void *data, const char *format,
    ...);
ngx_http_ir_redis_call_t *ngx_http_ir_redis_command_argv(
    ngx_http_ir_redis_t *redis, ngx_http_ir_redis_handler_pt handler,
    void *data, int argc, const char **argv, const size_t *argvlen);
ngx_http_ir_redis_call_t *ngx_http_ir_redis_eval(ngx_http_ir_redis_t *redis,
    ngx_http_ir_script_t *script, ngx_http_ir_args_t *args,
    ngx_http_ir_redis_handler_pt handler, void *data);
ngx_int_t ngx_http_ir_redis_subscribe(ngx_http_ir_redis_t *redis,
    ngx_http_ir_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);
void ngx_http_ir_redis_check(ngx_http_ir_redis_t *redis);
ngx_uint_t ngx_http_ir_redis_up(ngx_http_ir_redis_t *redis);

ngx_http_ir_redis_conf_t *ngx_http_ir_redis_conf(ngx_http_ir_redis_t *redis);
void ngx_http_ir_redis_move(ngx_http_ir_redis_t *redis, u_char *host,
    size_t len, in_port_t port);
void ngx_http_ir_redis_report(ngx_http_ir_redis_t *redis);
void ngx_http_ir_redis_ping(ngx_http_ir_redis_t *redis);


#endif /* _NGX_HTTP_IR_REDIS_H_INCLUDED_ */
