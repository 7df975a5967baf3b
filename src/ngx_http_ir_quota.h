
/*
 * ir-access: request quotas, counted in shared memory and across every
 * gateway in Redis.
 */


#ifndef _NGX_HTTP_IR_QUOTA_H_INCLUDED_
#define _NGX_HTTP_IR_QUOTA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_audit.h"
#include "ngx_http_ir_record.h"
#include "ngx_http_ir_redis.h"
#include "ngx_http_ir_schema.h"
#include "ngx_http_ir_zone.h"


/* "ir_access_quota": the defaults, NGX_HTTP_IR_QUOTA_UNSET for none */

typedef struct {
    ngx_flag_t                     enable;
    ngx_uint_t                     limit[2][2];   /* [who][period] */
} ngx_http_ir_quota_conf_t;


typedef struct ngx_http_ir_quota_sh_s  ngx_http_ir_quota_sh_t;

typedef struct {
    ngx_shm_zone_t                *shm_zone;
    ngx_http_ir_quota_sh_t        *sh;
    ngx_slab_pool_t               *shpool;
} ngx_http_ir_quota_t;


/* a refusal: whose quota, of which period, and when it passes */

typedef struct {
    ngx_uint_t                     who;           /* NGX_HTTP_IR_QUOTA_USER */
    ngx_uint_t                     period;        /* _MINUTE or _DAY */
    ngx_uint_t                     limit;
    ngx_uint_t                     day;           /* YYYYMMDD */
    time_t                         retry_after;   /* seconds */
    unsigned                       first:1;       /* here, this period */
} ngx_http_ir_quota_refusal_t;


char *ngx_http_ir_quota_conf(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t n,
    ngx_http_ir_quota_conf_t *qcf);
ngx_http_ir_quota_t *ngx_http_ir_quota_zone(ngx_conf_t *cf, ssize_t size,
    void *tag);

void ngx_http_ir_quota_init(ngx_http_ir_quota_t *quota,
    ngx_http_ir_redis_t *redis, ngx_str_t *prefix,
    ngx_http_ir_zone_t *timezone, ngx_log_t *log);
void ngx_http_ir_quota_exit(void);

ngx_int_t ngx_http_ir_quota_count(ngx_http_ir_quota_t *quota,
    ngx_str_t *names, ngx_uint_t limit[2][2],
    ngx_http_ir_quota_refusal_t *refusal);
void ngx_http_ir_quota_announce(ngx_http_ir_audit_conf_t *acf,
    ngx_str_t *names, ngx_str_t *mode, ngx_http_ir_quota_refusal_t *refusal,
    ngx_log_t *log);


#endif /* _NGX_HTTP_IR_QUOTA_H_INCLUDED_ */
