
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
#include "ngx_http_ir_metrics.h"
#include "ngx_http_ir_notify.h"
#include "ngx_http_ir_request.h"
#include "ngx_http_ir_variables.h"


static ngx_int_t ngx_http_ir_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_ir_header_filter(ngx_http_request_t *r);
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
static char *ngx_http_ir_words(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ir_check_country(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_ir_password_remember(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_ir_lockout(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ir_audit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ir_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_ir_lockout_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_ir_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_ir_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_ir_init_process(ngx_cycle_t *cycle);
static void ngx_http_ir_exit_process(ngx_cycle_t *cycle);


static ngx_conf_post_t  ngx_http_ir_country_post =
    { ngx_http_ir_check_country };


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
      ngx_http_ir_password_remember,
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

    { ngx_string("ir_access_geoip2"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_ir_geoip2,
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


static ngx_int_t
ngx_http_ir_access_handler(ngx_http_request_t *r)
{
    ngx_http_ir_ctx_t       *ctx;
    ngx_http_ir_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ir_access_module);

    if (!lcf->enable || r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_ir_access_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_ir_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->request = r;
        ngx_http_set_ctx(r, ctx, ngx_http_ir_access_module);

        return ngx_http_ir_request_start(r, ctx);
    }

    if (ctx->waiting) {
        return NGX_AGAIN;
    }

    if (!ctx->looked_up && !ctx->lookup_failed && !ctx->decided) {
        return ngx_http_ir_request_lookup(r, ctx);
    }

    return ngx_http_ir_request_decide(r, ctx);
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
     *     mcf->conn = NULL;
     */

    mcf->redis.timeout = NGX_CONF_UNSET_MSEC;
    mcf->notify = NGX_CONF_UNSET;
    mcf->audit_buffer = NGX_CONF_UNSET_UINT;

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
    lcf->policy.cert_pin = NGX_CONF_UNSET;
    lcf->policy.password = NGX_CONF_UNSET;
    lcf->policy.scopes = NGX_CONF_UNSET_PTR;
    lcf->policy.countries = NGX_CONF_UNSET_PTR;
    lcf->lockout.limit = NGX_CONF_UNSET_UINT;
    lcf->lockout.window = NGX_CONF_UNSET_MSEC;
    lcf->lockout_status = NGX_CONF_UNSET_PTR;
    lcf->audit = NGX_CONF_UNSET_PTR;
    lcf->mode = NGX_CONF_UNSET_UINT;
    lcf->password_remember = NGX_CONF_UNSET_MSEC;

    return lcf;
}


static char *
ngx_http_ir_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_ir_loc_conf_t *prev = parent;
    ngx_http_ir_loc_conf_t *conf = child;

    ngx_http_ir_main_conf_t  *mcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_ptr_value(conf->identity, prev->identity, NULL);
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

    if (conf->enable) {
        if (mcf->redis.address.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"ir_access\" requires \"ir_access_redis\"");
            return NGX_CONF_ERROR;
        }
    }

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
                                  &mcf->cache);
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
ngx_http_ir_password_remember(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
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


static ngx_int_t
ngx_http_ir_header_filter(ngx_http_request_t *r)
{
    ngx_http_ir_request_responded(r);

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_ir_log_handler(ngx_http_request_t *r)
{
    ngx_http_ir_audit_request(r);

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
    ngx_http_handler_pt        *h;
    ngx_http_ir_loc_conf_t     *lcf;
    ngx_http_ir_main_conf_t    *mcf;
    ngx_http_core_main_conf_t  *cmcf;

    if (ngx_http_ir_identity_init(cf->log) != NGX_OK
        || ngx_http_ir_lookup_init(cf->log) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_ir_header_filter;

    if (ngx_http_ir_metrics_zone(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_ir_log_handler;

    /* locks and admins' edits go to the http level's stream */

    lcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_ir_access_module);
    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_ir_access_module);

    mcf->audit = (lcf->audit == NGX_CONF_UNSET_PTR) ? NULL : lcf->audit;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_ir_access_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_init_process(ngx_cycle_t *cycle)
{
    ngx_http_ir_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_ir_access_module);

    if (mcf == NULL || mcf->redis.address.len == 0) {
        return NGX_OK;
    }

    /* a cache manager or loader decides nothing */

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    /* the connection itself is opened by the first lookup */

    mcf->conn = ngx_http_ir_redis_create(&mcf->redis, cycle->log);
    if (mcf->conn == NULL) {
        return NGX_ERROR;
    }

    ngx_http_ir_audit_init(mcf->conn, mcf->audit_buffer, cycle->log);

    /* one subscriber per host is enough: the cache is shared */

    if (mcf->notify && ngx_worker == 0) {
        return ngx_http_ir_notify_start(mcf, cycle);
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
    ngx_http_ir_audit_exit();

    if (mcf && mcf->conn) {
        ngx_http_ir_redis_destroy(mcf->conn);
        mcf->conn = NULL;
    }
}
