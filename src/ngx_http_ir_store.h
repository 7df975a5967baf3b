
/*
 * ir-access: what the module asks of Redis and how it reads the answers:
 * the scripts that fetch a record, count logins and requests and announce
 * a maintenance, their arguments, and their replies read into the
 * module's terms.  Nothing here does I/O, so
 * that every reader of a reply can be unit-tested and fuzzed.
 */


#ifndef _NGX_HTTP_IR_STORE_H_INCLUDED_
#define _NGX_HTTP_IR_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/hiredis.h>

#include "ngx_http_ir_record.h"
#include "ngx_http_ir_schema.h"


#define NGX_HTTP_IR_SHA1_HEX           40
#define NGX_HTTP_IR_ARGS_MAX           16
#define NGX_HTTP_IR_ARG_MAX            64      /* a number, a time, a reason,
                                                  "<prefix>org:" */


typedef struct {
    const char                    *text;
    size_t                         len;
    u_char                         sha1[NGX_HTTP_IR_SHA1_HEX];
} ngx_http_ir_script_t;


/*
 * A script's keys and arguments, with room for what they are made of:
 * it is copied whole where a call must outlive its caller's stack.
 */

typedef struct {
    ngx_uint_t                     nkeys;
    ngx_uint_t                     argc;
    const char                    *argv[NGX_HTTP_IR_ARGS_MAX];
    size_t                         argvlen[NGX_HTTP_IR_ARGS_MAX];
    u_char                         keys[3][NGX_HTTP_IR_KEY_MAX];
    u_char                         args[4][NGX_HTTP_IR_ARG_MAX];
} ngx_http_ir_args_t;


/* what a login attempt's scripts answered */

#define NGX_HTTP_IR_STORE_OK           0      /* reserved, or counted */
#define NGX_HTTP_IR_STORE_LOCKED       1      /* the account is not active */
#define NGX_HTTP_IR_STORE_LOCKED_NOW   2      /* this failure locked it */
#define NGX_HTTP_IR_STORE_BUSY         3
#define NGX_HTTP_IR_STORE_GONE         4      /* no user record any more */
#define NGX_HTTP_IR_STORE_ERROR        5


typedef struct {
    ngx_uint_t                     result;        /* NGX_HTTP_IR_STORE_* */
    ngx_int_t                      fails;         /* counted so far */
    ngx_str_t                      error;         /* what Redis said */
} ngx_http_ir_login_reply_t;


extern ngx_http_ir_script_t  ngx_http_ir_script_lookup;
extern ngx_http_ir_script_t  ngx_http_ir_script_reserve;
extern ngx_http_ir_script_t  ngx_http_ir_script_fail;
extern ngx_http_ir_script_t  ngx_http_ir_script_pass;
extern ngx_http_ir_script_t  ngx_http_ir_script_edit;
extern ngx_http_ir_script_t  ngx_http_ir_script_expiring;
extern ngx_http_ir_script_t  ngx_http_ir_script_quota;
extern ngx_http_ir_script_t  ngx_http_ir_script_announce;


ngx_int_t ngx_http_ir_store_init(ngx_log_t *log);

void ngx_http_ir_store_lookup(ngx_http_ir_args_t *args, ngx_str_t *prefix,
    ngx_str_t *name);
ngx_int_t ngx_http_ir_store_lookup_reply(redisReply *reply,
    ngx_str_t *prefix, ngx_str_t *name, ngx_http_ir_record_t *rec,
    ngx_pool_t *pool, ngx_log_t *log);

void ngx_http_ir_store_reserve(ngx_http_ir_args_t *args, ngx_str_t *prefix,
    ngx_str_t *name, ngx_uint_t limit);
void ngx_http_ir_store_fail(ngx_http_ir_args_t *args, ngx_str_t *prefix,
    ngx_str_t *name, ngx_uint_t reserved, ngx_uint_t limit,
    ngx_msec_t window, ngx_str_t *cause);
void ngx_http_ir_store_pass(ngx_http_ir_args_t *args, ngx_str_t *prefix,
    ngx_str_t *name, ngx_uint_t reserved, ngx_uint_t forget);
void ngx_http_ir_store_login_reply(redisReply *reply,
    ngx_http_ir_login_reply_t *lr);

ngx_int_t ngx_http_ir_store_notification(redisReply *reply,
    ngx_str_t *channel, ngx_str_t *key, ngx_str_t *op);

void ngx_http_ir_store_edit(ngx_http_ir_args_t *args, ngx_str_t *prefix,
    ngx_str_t *key, ngx_str_t *op);
ngx_int_t ngx_http_ir_store_edit_reply(redisReply *reply, ngx_str_t *type,
    redisReply **content);
ngx_int_t ngx_http_ir_store_scan_reply(redisReply *reply, ngx_str_t *cursor,
    redisReply **keys);

void ngx_http_ir_store_quota(ngx_http_ir_args_t *args, ngx_str_t *prefix,
    ngx_uint_t who, ngx_str_t *name, ngx_uint_t minute, ngx_uint_t day,
    ngx_uint_t in_minute, ngx_uint_t in_day);
ngx_int_t ngx_http_ir_store_quota_reply(redisReply *reply,
    ngx_uint_t *minute_total, ngx_uint_t *day_total, ngx_str_t *error);
ngx_int_t ngx_http_ir_store_set_reply(redisReply *reply, ngx_str_t *error);

ngx_uint_t ngx_http_ir_store_passing(redisReply *reply);

ngx_int_t ngx_http_ir_store_maintenance_reply(redisReply *reply,
    ngx_str_t *env, ngx_str_t *until, ngx_str_t *message, ngx_str_t *error);
void ngx_http_ir_store_announce(ngx_http_ir_args_t *args, ngx_str_t *prefix,
    time_t until, ngx_str_t *env);
ngx_int_t ngx_http_ir_store_announce_reply(redisReply *reply,
    ngx_str_t *error);


#endif /* _NGX_HTTP_IR_STORE_H_INCLUDED_ */
