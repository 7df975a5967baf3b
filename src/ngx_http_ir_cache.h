
/*
 * ir-access: the shared cache of user records.
 */


#ifndef _NGX_HTTP_IR_CACHE_H_INCLUDED_
#define _NGX_HTTP_IR_CACHE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_record.h"


#define NGX_HTTP_IR_CACHE_FRESH    0
#define NGX_HTTP_IR_CACHE_MISS     1      /* the caller is to fetch it */
#define NGX_HTTP_IR_CACHE_LOADING  2      /* another worker fetches it */


typedef struct ngx_http_ir_cache_sh_s  ngx_http_ir_cache_sh_t;


typedef struct {
    ngx_shm_zone_t                *shm_zone;
    ngx_http_ir_cache_sh_t        *sh;
    ngx_slab_pool_t               *shpool;
    ngx_msec_t                     ttl;
    ngx_msec_t                     stale;
} ngx_http_ir_cache_t;


char *ngx_http_ir_cache_conf(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t n, void *tag, ngx_http_ir_cache_t **cachep);

ngx_int_t ngx_http_ir_cache_get(ngx_http_ir_cache_t *cache, ngx_str_t *name,
    ngx_msec_t loading, ngx_uint_t *gen, ngx_msec_t *seen,
    ngx_http_ir_record_t *rec, ngx_pool_t *pool);
ngx_int_t ngx_http_ir_cache_get_stale(ngx_http_ir_cache_t *cache,
    ngx_str_t *name, ngx_http_ir_record_t *rec, ngx_msec_t *age,
    ngx_pool_t *pool);
void ngx_http_ir_cache_put(ngx_http_ir_cache_t *cache, ngx_str_t *name,
    ngx_uint_t gen, ngx_str_t *org, u_char *block, size_t size,
    ngx_log_t *log);
void ngx_http_ir_cache_release(ngx_http_ir_cache_t *cache, ngx_str_t *name);
void ngx_http_ir_cache_drop_user(ngx_http_ir_cache_t *cache, ngx_str_t *name);
void ngx_http_ir_cache_drop_org(ngx_http_ir_cache_t *cache, ngx_str_t *org);
void ngx_http_ir_cache_drop_all(ngx_http_ir_cache_t *cache);
ngx_uint_t ngx_http_ir_cache_seen(ngx_http_ir_cache_t *cache,
    ngx_str_t *name, ngx_msec_t every);
ngx_uint_t ngx_http_ir_cache_entries(ngx_http_ir_cache_t *cache);
size_t ngx_http_ir_cache_free(ngx_http_ir_cache_t *cache);
void ngx_http_ir_cache_exit(void);


#endif /* _NGX_HTTP_IR_CACHE_H_INCLUDED_ */
