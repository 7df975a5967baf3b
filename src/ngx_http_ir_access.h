
/*
 * ir-access: the module's configuration, as the directives leave it.
 */


#ifndef _NGX_HTTP_IR_ACCESS_H_INCLUDED_
#define _NGX_HTTP_IR_ACCESS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_audit.h"
#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_geoip.h"
#include "ngx_http_ir_lockout.h"
#include "ngx_http_ir_lookup.h"
#include "ngx_http_ir_password.h"
#include "ngx_http_ir_zone.h"
#include "ngx_http_ir_quota.h"


/* connection and database settings; and this worker's connection */

typedef struct {
    ngx_http_ir_redis_conf_t       redis;
    ngx_str_t                      prefix;
    MMDB_s                        *geoip;
    ngx_http_ir_cache_t           *cache;
    ngx_flag_t                     notify;
    ngx_uint_t                     audit_buffer;
    ngx_http_ir_audit_conf_t      *audit;         /* the http level's */
    ngx_http_ir_quota_t           *quota;         /* where one is used */
    size_t                         quota_size;
    ngx_flag_t                     quota_used;
    ngx_int_t                      request_id;    /* $request_id's index */
    ngx_http_ir_zone_t             zone;          /* contracts' days */
    ngx_http_ir_source_t           source;        /* this worker's */
} ngx_http_ir_main_conf_t;


/* the policy of a place */

typedef struct {
    ngx_flag_t                     enable;
    ngx_uint_t                     mode;
    ngx_uint_t                     log_level;
    ngx_http_complex_value_t      *identity;
    ngx_http_complex_value_t      *purpose;
    ngx_http_complex_value_t      *purpose_case;
    ngx_str_t                      realm;
    ngx_http_ir_policy_t           policy;
    ngx_http_ir_lockout_conf_t     lockout;
    ngx_array_t                   *lockout_status;   /* of ngx_uint_t */
    ngx_thread_pool_t             *thread_pool;
    ngx_msec_t                     password_remember;
    ngx_http_ir_audit_conf_t      *audit;
    ngx_http_ir_quota_conf_t       quota;
} ngx_http_ir_loc_conf_t;


#define NGX_HTTP_IR_ENFORCE            0
#define NGX_HTTP_IR_DRY_RUN            1


extern ngx_module_t  ngx_http_ir_access_module;


#endif /* _NGX_HTTP_IR_ACCESS_H_INCLUDED_ */
