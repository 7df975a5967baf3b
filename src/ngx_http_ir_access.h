
/*
 * ir-access: what the module's files share.
 */


#ifndef _NGX_HTTP_IR_ACCESS_H_INCLUDED_
#define _NGX_HTTP_IR_ACCESS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_audit.h"
#include "ngx_http_ir_cache.h"
#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_geoip.h"
#include "ngx_http_ir_lockout.h"
#include "ngx_http_ir_redis.h"


typedef struct {
    ngx_http_ir_redis_conf_t       redis;
    ngx_str_t                      prefix;
    MMDB_s                        *geoip;
    ngx_http_ir_cache_t           *cache;
    ngx_flag_t                     notify;
    ngx_uint_t                     audit_buffer;
    ngx_http_ir_audit_conf_t      *audit;         /* the http level's */
    ngx_http_ir_redis_t           *conn;          /* this worker's */
} ngx_http_ir_main_conf_t;


typedef struct {
    ngx_flag_t                     enable;
    ngx_http_complex_value_t      *identity;
    ngx_str_t                      realm;
    ngx_http_ir_policy_t           policy;
    ngx_http_ir_lockout_conf_t     lockout;
    ngx_array_t                   *lockout_status;   /* of ngx_uint_t */
    ngx_thread_pool_t             *thread_pool;
    ngx_msec_t                     password_remember;
    ngx_http_ir_audit_conf_t      *audit;
    ngx_uint_t                     mode;
} ngx_http_ir_loc_conf_t;


#define NGX_HTTP_IR_ENFORCE  0
#define NGX_HTTP_IR_DRY_RUN  1


typedef struct ngx_http_ir_waiter_s  ngx_http_ir_waiter_t;


/* what a request needs only while it waits, allocated when it first does */

typedef struct {
    ngx_event_t                    timer;         /* the Redis timeout */
    ngx_event_t                    resume;        /* posted when it ends */
    ngx_event_t                    poll;          /* another worker looks */
    ngx_msec_t                     poll_delay;
} ngx_http_ir_wait_t;


/* a request's decision, kept in its module context */

typedef struct {
    ngx_http_request_t            *request;
    ngx_http_ir_lockout_t         *lockout;       /* a count in flight */
    ngx_http_ir_wait_t            *wait;
    ngx_http_ir_waiter_t          *waiter;        /* on a lookup */

    ngx_uint_t                     reason;
    ngx_uint_t                     password;      /* what the check found */
    ngx_http_ir_record_t           record;

    /* what the variables show */
    ngx_str_t                      user;
    ngx_str_t                      org;
    ngx_str_t                      unit;
    ngx_str_t                      contract;
    ngx_str_t                      scopes;
    ngx_str_t                      country;
    ngx_str_t                      decision;
    ngx_str_t                      reason_name;
    ngx_str_t                      cert_sha256;
    u_char                        *cert_digest;

    unsigned                       waiting:1;
    unsigned                       looked_up:1;
    unsigned                       decided:1;
    unsigned                       lookup_failed:1;
    unsigned                       dry_run:1;
    unsigned                       fail_counted:1;
} ngx_http_ir_ctx_t;


extern ngx_module_t  ngx_http_ir_access_module;


#endif /* _NGX_HTTP_IR_ACCESS_H_INCLUDED_ */
