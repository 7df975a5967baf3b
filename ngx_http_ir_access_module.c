
/*
 * ir-access: access control for the Population Register's online data
 * transfer endpoints.
 *
 * This file holds the directives, the configuration and the access phase
 * handler; the work itself is done in src/.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_access.h"
#include "ngx_http_ir_identity.h"
#include "ngx_http_ir_lookup.h"
#include "ngx_http_ir_maintenance.h"
#include "ngx_http_ir_metrics.h"
#include "ngx_http_ir_notify.h"
#include "ngx_http_ir_request.h"
#include "ngx_http_ir_schema.h"
#include "ngx_http_ir_seen.h"
#include "ngx_http_ir_store.h"
#include "ngx_http_ir_variables.h"
#include "ngx_http_ir_version.h"


static ngx_int_t ngx_http_ir_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_ir_preaccess_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_ir_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_ir_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_ir_log_handler(ngx_http_request_t *r);

static void *ngx_http_ir_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_ir_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_ir_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_ir_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_ir_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ir_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ir_geoip2(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ir_timezone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ir_purpose(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ir_words(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ir_check_country(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_ir_remember(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_ir_lockout(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ir_audit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ir_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ir_lockout_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ir_quota(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_ir_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_ir_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_ir_init_process(ngx_cycle_t *cycle);
static void ngx_http_ir_exit_process(ngx_cycle_t *cycle);


static ngx_conf_post_t  ngx_http_ir_country_post =
    { ngx_http_ir_check_country };

static ngx_str_t  ngx_http_ir_empty = ngx_string("");


static ngx_conf_enum_t  ngx_http_ir_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_ir_modes[] = {
    { ngx_string("enforce"), NGX_HTTP_IR_ENFORCE },
    { ngx_string("dry_run"), NGX_HTTP_IR_DRY_RUN },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_ir_access_commands[] = {

    { ngx_string("ir_access"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ir_loc_conf_t, enable),
      NULL },

    { ngx_string("ir_access_mode"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ir_loc_conf_t, mode),
      &ngx_http_ir_modes },

    { ngx_string("ir_access_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ir_loc_conf_t, log_level),
      &ngx_http_ir_log_levels },

    { ngx_string("ir_access_audit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_ir_audit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ir_access_audit_buffer"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ir_main_conf_t, audit_buffer),
      NULL },

    { ngx_string("ir_access_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_ir_status,
      0,
      0,
      NULL },

    { ngx_string("ir_access_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_ir_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ir_access_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ir_main_conf_t, redis.timeout),
      NULL },

    { ngx_string("ir_access_redis_prefix"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ir_main_conf_t, prefix),
      NULL },

    { ngx_string("ir_access_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_ir_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ir_access_redis_notify"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ir_main_conf_t, notify),
      NULL },

    { ngx_string("ir_access_identity"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ir_loc_conf_t, identity),
      NULL },

    { ngx_string("ir_access_cert_pin"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ir_loc_conf_t, policy.cert_pin),
      NULL },

    { ngx_string("ir_access_realm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ir_loc_conf_t, realm),
      NULL },

    { ngx_string("ir_access_password"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ir_loc_conf_t, policy.password),
      NULL },

    { ngx_string("ir_access_password_remember"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_ir_remember,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ir_loc_conf_t, password_remember),
      NULL },

    { ngx_string("ir_access_lockout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_ir_lockout,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ir_access_lockout_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_ir_lockout_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ir_access_env"),
      NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ir_loc_conf_t, policy.env),
      NULL },

    { ngx_string("ir_access_scope"),
      NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_ir_words,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ir_loc_conf_t, policy.scopes),
      NULL },

    { ngx_string("ir_access_purpose"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_ir_purpose,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ir_access_quota"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_ir_quota,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ir_access_quota_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_ir_main_conf_t, quota_size),
      NULL },

    { ngx_string("ir_access_geoip2"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_ir_geoip2,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ir_access_timezone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_ir_timezone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("ir_access_countries"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_ir_words,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_ir_loc_conf_t, policy.countries),
      &ngx_http_ir_country_post },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_ir_access_module_ctx = {
    ngx_http_ir_preconfiguration,          /* preconfiguration */
    ngx_http_ir_postconfiguration,         /* postconfiguration */

    ngx_http_ir_create_main_conf,          /* create main configuration */
    ngx_http_ir_init_main_conf,            /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_ir_create_loc_conf,           /* create location configuration */
    ngx_http_ir_merge_loc_conf             /* merge location configuration */
};


ngx_module_t  ngx_http_ir_access_module = {
    NGX_MODULE_V1,
    &ngx_http_ir_access_module_ctx,        /* module context */
    ngx_http_ir_access_commands,           /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_ir_init_process,              /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_ir_exit_process,              /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


/* the main request is decided in the access phase */

static ngx_int_t
ngx_http_ir_access_handler(ngx_http_request_t *r)
{
    return ngx_http_ir_request_handler(r);
}


/*
 * nginx lets subrequests (auth_request, SSI, mirror) skip the access
 * phase: they are decided in the preaccess phase instead.
 */

static ngx_int_t
ngx_http_ir_preaccess_handler(ngx_http_request_t *r)
{
    if (r == r->main) {
        return NGX_DECLINED;
    }

    return ngx_http_ir_request_handler(r);
}


static void *
ngx_http_ir_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_ir_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_ir_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mcf->redis.address = { 0, NULL };
     *     mcf->prefix = { 0, NULL };
     *     mcf->quota = NULL;
     *     mcf->quota_used = 0;
     */

    mcf->redis.timeout = NGX_CONF_UNSET_MSEC;
    mcf->notify = NGX_CONF_UNSET;
    mcf->audit_buffer = NGX_CONF_UNSET_UINT;
    mcf->quota_size = NGX_CONF_UNSET_SIZE;
    mcf->request_id = NGX_ERROR;

    return mcf;
}


static char *
ngx_http_ir_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_ir_main_conf_t *mcf = conf;

    ngx_conf_init_msec_value(mcf->redis.timeout, 500);
    ngx_conf_init_value(mcf->notify, 0);
    ngx_conf_init_uint_value(mcf->audit_buffer, 10000);

    if (mcf->notify && mcf->cache == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"ir_access_redis_notify\" requires "
                           "\"ir_access_cache\"");
        return NGX_CONF_ERROR;
    }

    if (mcf->prefix.data == NULL) {
        ngx_str_set(&mcf->prefix, "ir:");
    }

    if (mcf->prefix.len > NGX_HTTP_IR_PREFIX_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"ir_access_redis_prefix\" is longer than %d "
                           "bytes", NGX_HTTP_IR_PREFIX_MAX);
        return NGX_CONF_ERROR;
    }

    /* the quotas' counts, where a place uses them (1m by default) */

    if (mcf->quota_size != NGX_CONF_UNSET_SIZE
        && mcf->quota_size < 8 * ngx_pagesize)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"ir_access_quota_zone\" of %uz bytes is too "
                           "small", mcf->quota_size);
        return NGX_CONF_ERROR;
    }

    if (mcf->quota_used) {
        mcf->quota = ngx_http_ir_quota_zone(cf,
                                            mcf->quota_size
                                            == NGX_CONF_UNSET_SIZE
                                            ? 0 : mcf->quota_size,
                                            &ngx_http_ir_access_module);
        if (mcf->quota == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_ir_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_ir_loc_conf_t  *lcf;

    lcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_ir_loc_conf_t));
    if (lcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     lcf->realm = { 0, NULL };
     *     lcf->policy.env = { 0, NULL };
     */

    lcf->enable = NGX_CONF_UNSET;
    lcf->identity = NGX_CONF_UNSET_PTR;
    lcf->purpose = NGX_CONF_UNSET_PTR;
    lcf->purpose_case = NGX_CONF_UNSET_PTR;
    lcf->policy.cert_pin = NGX_CONF_UNSET;
    lcf->policy.password = NGX_CONF_UNSET;
    lcf->policy.scopes = NGX_CONF_UNSET_PTR;
    lcf->policy.countries = NGX_CONF_UNSET_PTR;
    lcf->lockout.limit = NGX_CONF_UNSET_UINT;
    lcf->lockout.window = NGX_CONF_UNSET_MSEC;
    lcf->lockout_status = NGX_CONF_UNSET_PTR;
    lcf->audit = NGX_CONF_UNSET_PTR;
    lcf->mode = NGX_CONF_UNSET_UINT;
    lcf->log_level = NGX_CONF_UNSET_UINT;
    lcf->password_remember = NGX_CONF_UNSET_MSEC;
    lcf->quota.enable = NGX_CONF_UNSET;

    return lcf;
}


static char *
ngx_http_ir_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_ir_loc_conf_t *prev = parent;
    ngx_http_ir_loc_conf_t *conf = child;

    ngx_http_ir_main_conf_t   *mcf;
    ngx_http_core_loc_conf_t  *clcf;
#if (NGX_HTTP_SSL)
    ngx_http_ssl_srv_conf_t   *sscf;
#endif

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_ptr_value(conf->identity, prev->identity, NULL);

    if (conf->purpose == NGX_CONF_UNSET_PTR) {
        conf->purpose = prev->purpose;
        conf->purpose_case = prev->purpose_case;
    }

    ngx_conf_merge_ptr_value(conf->purpose, NULL, NULL);
    ngx_conf_merge_ptr_value(conf->purpose_case, NULL, NULL);

    conf->policy.purpose = (conf->purpose != NULL);
    ngx_conf_merge_str_value(conf->realm, prev->realm, "ir-access");

    ngx_conf_merge_value(conf->policy.cert_pin, prev->policy.cert_pin, 1);
    ngx_conf_merge_value(conf->policy.password, prev->policy.password, 0);
    ngx_conf_merge_str_value(conf->policy.env, prev->policy.env, "");
    ngx_conf_merge_ptr_value(conf->policy.scopes, prev->policy.scopes, NULL);
    ngx_conf_merge_ptr_value(conf->policy.countries, prev->policy.countries,
                             NULL);

    if (conf->lockout.limit == NGX_CONF_UNSET_UINT) {
        conf->lockout = prev->lockout;
    }

    ngx_conf_merge_uint_value(conf->lockout.limit, prev->lockout.limit, 5);
    ngx_conf_merge_msec_value(conf->lockout.window, prev->lockout.window,
                              15 * 60 * 1000);
    ngx_conf_merge_ptr_value(conf->lockout_status, prev->lockout_status,
                             NULL);
    ngx_conf_merge_msec_value(conf->password_remember,
                              prev->password_remember, 60000);
    ngx_conf_merge_ptr_value(conf->audit, prev->audit, NULL);
    ngx_conf_merge_uint_value(conf->mode, prev->mode, NGX_HTTP_IR_ENFORCE);
    ngx_conf_merge_uint_value(conf->log_level, prev->log_level, NGX_LOG_ERR);

    if (conf->quota.enable == NGX_CONF_UNSET) {
        conf->quota = prev->quota;
    }

    if (conf->quota.enable == NGX_CONF_UNSET) {
        conf->quota.enable = 0;
    }

#if (NGX_THREADS)
    if (conf->policy.password && conf->thread_pool == NULL) {
        /* slow hashes are checked in nginx's "default" thread pool */
        conf->thread_pool = ngx_thread_pool_add(cf, NULL);
        if (conf->thread_pool == NULL) {
            return NGX_CONF_ERROR;
        }
    }
#endif

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_ir_access_module);

    conf->policy.geoip = (mcf->geoip != NULL);

    if (conf->policy.countries && mcf->geoip == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"ir_access_countries\" requires "
                           "\"ir_access_geoip2\"");
        return NGX_CONF_ERROR;
    }

    if (!conf->enable) {
        return NGX_CONF_OK;
    }

    if (mcf->redis.address.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"ir_access\" requires \"ir_access_redis\"");
        return NGX_CONF_ERROR;
    }

    /*
     * Where nothing verifies client certificates every request is denied:
     * said once for a server, and for a location that is on where its
     * server is not.
     */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->name.len && prev->enable) {
        return NGX_CONF_OK;
    }

#if (NGX_HTTP_SSL)
    sscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_ssl_module);

    if (sscf->verify) {
        return NGX_CONF_OK;
    }
#endif

    ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                       "\"ir_access\" is on in a server without "
                       "\"ssl_verify_client\": every request %s%V%sis "
                       "denied with \"cert_required\"",
                       clcf->name.len ? "to " : "", &clcf->name,
                       clcf->name.len ? " " : "");

    return NGX_CONF_OK;
}


static char *
ngx_http_ir_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ir_main_conf_t *mcf = conf;

    if (mcf->redis.address.len) {
        return "is duplicate";
    }

    return ngx_http_ir_redis_parse(cf, cf->args->elts, cf->args->nelts,
                                   &mcf->redis);
}


static char *
ngx_http_ir_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ir_main_conf_t *mcf = conf;

    if (mcf->cache) {
        return "is duplicate";
    }

    return ngx_http_ir_cache_conf(cf, cf->args->elts, cf->args->nelts,
                                  &ngx_http_ir_access_module, &mcf->cache);
}


static char *
ngx_http_ir_geoip2(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ir_main_conf_t *mcf = conf;

    ngx_str_t  *value;

    if (mcf->geoip) {
        return "is duplicate";
    }

    value = cf->args->elts;

    mcf->geoip = ngx_http_ir_geoip_open(cf, &value[1]);
    if (mcf->geoip == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* "ir_access_timezone Europe/Riga": the zone contract dates are days in */

static char *
ngx_http_ir_timezone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ir_main_conf_t *mcf = conf;

    ngx_str_t  *value, why;
    ngx_err_t   err;

    if (mcf->zone.changes) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_http_ir_zone_read(&value[1], &mcf->zone, cf->pool, &why, &err)
        != NGX_OK)
    {
        if (why.data) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, err, "%V", &why);
        }

        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * "ir_access_purpose $http_x_ir_purpose [case=$http_x_ir_case] | off":
 * the purpose a client states, which must be one of its organisation's,
 * and a case reference that is recorded, not checked.
 */

static char *
ngx_http_ir_purpose(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ir_loc_conf_t *lcf = conf;

    ngx_str_t                          *value, s;
    ngx_http_compile_complex_value_t    ccv;

    if (lcf->purpose != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts > 2) {
            return "takes no parameters with \"off\"";
        }

        lcf->purpose = NULL;
        lcf->purpose_case = NULL;
        return NGX_CONF_OK;
    }

    lcf->purpose = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (lcf->purpose == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = lcf->purpose;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    lcf->purpose_case = NULL;

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value[2].data, "case=", 5) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    s.data = value[2].data + 5;
    s.len = value[2].len - 5;

    lcf->purpose_case = ngx_palloc(cf->pool,
                                   sizeof(ngx_http_complex_value_t));
    if (lcf->purpose_case == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &s;
    ccv.complex_value = lcf->purpose_case;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* a list of words in one directive: "ir_access_scope a b c;" */

static char *
ngx_http_ir_words(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t       *value, *word;
    ngx_uint_t       i;
    ngx_array_t    **words;
    ngx_conf_post_t  *post;

    words = (ngx_array_t **) (p + cmd->offset);

    if (*words != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    *words = ngx_array_create(cf->pool, cf->args->nelts - 1,
                              sizeof(ngx_str_t));
    if (*words == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "empty value in \"%V\"", &cmd->name);
            return NGX_CONF_ERROR;
        }

        if (cmd->post) {
            post = cmd->post;
            if (post->post_handler(cf, post, &value[i]) != NGX_CONF_OK) {
                return NGX_CONF_ERROR;
            }
        }

        word = ngx_array_push(*words);
        if (word == NULL) {
            return NGX_CONF_ERROR;
        }

        *word = value[i];
    }

    return NGX_CONF_OK;
}


/* "ir_access_password_remember 60s | off" */

static char *
ngx_http_ir_remember(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ir_loc_conf_t *lcf = conf;

    ngx_str_t  *value;

    if (lcf->password_remember != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        lcf->password_remember = 0;
        return NGX_CONF_OK;
    }

    return ngx_conf_set_msec_slot(cf, cmd, conf);
}


static char *
ngx_http_ir_lockout(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ir_loc_conf_t *lcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value, s;

    if (lcf->lockout.limit != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts > 2) {
            return "takes no parameters with \"off\"";
        }

        lcf->lockout.limit = 0;
        lcf->lockout.window = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);
    if (n == NGX_ERROR || n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of failed logins \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    lcf->lockout.limit = n;

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value[2].data, "window=", 7) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    s.data = value[2].data + 7;
    s.len = value[2].len - 7;

    lcf->lockout.window = ngx_parse_time(&s, 0);
    if (lcf->lockout.window == (ngx_msec_t) NGX_ERROR
        || lcf->lockout.window == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid lockout window \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_ir_audit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ir_loc_conf_t *lcf = conf;

    if (lcf->audit != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    return ngx_http_ir_audit_conf(cf, cf->args->elts, cf->args->nelts,
                                  &lcf->audit);
}


static char *
ngx_http_ir_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_ir_metrics_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_ir_lockout_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ir_loc_conf_t *lcf = conf;

    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_uint_t   i, *status;

    if (lcf->lockout_status != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    lcf->lockout_status = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                           sizeof(ngx_uint_t));
    if (lcf->lockout_status == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        n = ngx_atoi(value[i].data, value[i].len);

        if (n < 100 || n > 599) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid status \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        status = ngx_array_push(lcf->lockout_status);
        if (status == NULL) {
            return NGX_CONF_ERROR;
        }

        *status = n;
    }

    return NGX_CONF_OK;
}


/*
 * "ir_access_quota rate=N/m daily=N [org_rate=N/m] [org_daily=N] | off":
 * the counts live in the main configuration's zone.
 */

static char *
ngx_http_ir_quota(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_ir_loc_conf_t *lcf = conf;

    char                     *rv;
    ngx_http_ir_main_conf_t  *mcf;

    if (lcf->quota.enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    rv = ngx_http_ir_quota_conf(cf, cf->args->elts, cf->args->nelts,
                                &lcf->quota);

    if (rv == NGX_CONF_OK && lcf->quota.enable) {
        mcf = ngx_http_conf_get_module_main_conf(cf,
                                                 ngx_http_ir_access_module);
        mcf->quota_used = 1;
    }

    return rv;
}


/* ISO 3166 codes, and "--" for addresses the database does not know */

static char *
ngx_http_ir_check_country(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *code = data;

    u_char  c0, c1;

    if (code->len == 2) {
        c0 = ngx_tolower(code->data[0]);
        c1 = ngx_tolower(code->data[1]);

        if ((c0 >= 'a' && c0 <= 'z' && c1 >= 'a' && c1 <= 'z')
            || (c0 == '-' && c1 == '-'))
        {
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid country code \"%V\"", code);

    return NGX_CONF_ERROR;
}


/* where nginx answers a denial with its own page, the JSON goes out */

static ngx_int_t
ngx_http_ir_header_filter(ngx_http_request_t *r)
{
    ngx_http_ir_ctx_t  *ctx;

    if (r == r->main) {
        ctx = ngx_http_get_module_ctx(r, ngx_http_ir_access_module);

        if (ctx && ctx->answer.replace) {
            ngx_http_ir_response_header(r, &ctx->answer);
        }
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_ir_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_chain_t        *out;
    ngx_http_ir_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_ir_access_module);

    if (ctx == NULL || !ctx->answer.replacing) {
        return ngx_http_next_body_filter(r, in);
    }

    if (ngx_http_ir_response_body(r, &ctx->answer, in, &out) != NGX_OK) {
        return NGX_ERROR;
    }

    if (out == NULL) {
        return NGX_OK;
    }

    return ngx_http_next_body_filter(r, out);
}


static ngx_int_t
ngx_http_ir_log_handler(ngx_http_request_t *r)
{
    ngx_http_ir_request_log(r);

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_ir_variables_add(cf);
}


static ngx_int_t
ngx_http_ir_postconfiguration(ngx_conf_t *cf)
{
    ngx_str_t                   name;
    ngx_http_handler_pt        *h;
    ngx_http_ir_loc_conf_t     *lcf;
    ngx_http_ir_main_conf_t    *mcf;
    ngx_http_core_main_conf_t  *cmcf;

    if (ngx_http_ir_identity_init(cf->log) != NGX_OK
        || ngx_http_ir_store_init(cf->log) != NGX_OK
        || ngx_http_ir_metrics_zone(cf, &ngx_http_ir_access_module) != NGX_OK)
    {
        return NGX_ERROR;
    }

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_ir_access_module);

    /* where a Redis is configured, its maintenance may close the places */

    if (mcf->redis.address.len
        && ngx_http_ir_maintenance_zone(cf, &ngx_http_ir_access_module)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_ir_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_ir_body_filter;

    lcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_ir_access_module);

    /* locks and admins' edits go to the http level's stream */

    mcf->audit = (lcf->audit == NGX_CONF_UNSET_PTR) ? NULL : lcf->audit;

    ngx_str_set(&name, "request_id");

    mcf->request_id = ngx_http_get_variable_index(cf, &name);
    if (mcf->request_id == NGX_ERROR) {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_ir_preaccess_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_ir_access_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_ir_log_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_init_process(ngx_cycle_t *cycle)
{
    ngx_http_ir_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_ir_access_module);

    /* the version and the zone, once per configuration: by worker 0 */

    if (ngx_worker == 0
        && (ngx_process == NGX_PROCESS_WORKER
            || ngx_process == NGX_PROCESS_SINGLE))
    {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "ir_access/" NGX_HTTP_IR_ACCESS_VERSION
                      "; contract dates are days in %s%V",
                      (mcf && mcf->zone.name.len) ? "" : "the process's "
                                                        "time zone",
                      (mcf && mcf->zone.name.len) ? &mcf->zone.name
                                                  : &ngx_http_ir_empty);
    }

    if (mcf == NULL || mcf->redis.address.len == 0) {
        return NGX_OK;
    }

    /* a cache manager or loader decides nothing */

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    ngx_http_ir_lookup_init();

    /* the connection itself is opened by the first command */

    mcf->source.redis = ngx_http_ir_redis_create(&mcf->redis, cycle->log);
    if (mcf->source.redis == NULL) {
        return NGX_ERROR;
    }

    ngx_http_ir_redis_report(mcf->source.redis);

    /* connected at once, so that the metrics tell a worker that cannot */
    ngx_http_ir_redis_ping(mcf->source.redis);

    mcf->source.prefix = &mcf->prefix;
    mcf->source.cache = mcf->cache;

    ngx_http_ir_audit_init(mcf->source.redis, mcf->audit_buffer, cycle);

    /* every worker sends the host's counts, as it finds them */

    if (mcf->quota) {
        ngx_http_ir_quota_init(mcf->quota, mcf->source.redis, &mcf->prefix,
                               &mcf->zone, cycle->log);
    }

    if (ngx_worker != 0) {
        return NGX_OK;
    }

    /* one watcher, reader and subscriber per host: the zones are shared */

    ngx_http_ir_seen_watch(mcf->source.redis, &mcf->prefix, cycle->log);

    if (mcf->audit) {
        ngx_http_ir_audit_watch(mcf->audit);
    }

    if (ngx_http_ir_maintenance_start(mcf->source.redis, &mcf->prefix,
                                      mcf->audit, &mcf->zone, cycle->log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (mcf->notify) {
        return ngx_http_ir_notify_start(&mcf->redis, &mcf->prefix, mcf->cache,
                                        mcf->audit, mcf->source.redis, cycle);
    }

    return NGX_OK;
}


static void
ngx_http_ir_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_ir_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_ir_access_module);

    ngx_http_ir_notify_stop();
    ngx_http_ir_seen_exit();
    ngx_http_ir_maintenance_stop();
    ngx_http_ir_quota_exit();

    /* what is still in flight is failed now, and then nothing comes */

    if (mcf && mcf->source.redis) {
        ngx_http_ir_redis_destroy(mcf->source.redis);
        mcf->source.redis = NULL;
    }

    ngx_http_ir_audit_exit();
    ngx_http_ir_cache_exit();
    ngx_http_ir_maintenance_exit();
}
