
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
#include "ngx_http_ir_lockout.h"
#include "ngx_http_ir_lookup.h"
#include "ngx_http_ir_metrics.h"
#include "ngx_http_ir_notify.h"
#include "ngx_http_ir_password.h"
#include "ngx_http_ir_record.h"
#include "ngx_http_ir_response.h"
#include "ngx_http_ir_variables.h"


static ngx_int_t ngx_http_ir_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_ir_access_start(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static ngx_int_t ngx_http_ir_access_identify(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static ngx_int_t ngx_http_ir_access_lookup(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static ngx_int_t ngx_http_ir_access_prepare(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_access_looked_up(ngx_http_ir_waiter_t *w,
    u_char *block, size_t size);
static void ngx_http_ir_access_timeout(ngx_event_t *ev);
static void ngx_http_ir_access_resume(ngx_event_t *ev);
static void ngx_http_ir_access_poll(ngx_event_t *ev);
static void ngx_http_ir_access_wake(ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_access_detach(ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_access_cleanup(void *data);
static ngx_int_t ngx_http_ir_access_stale(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static ngx_int_t ngx_http_ir_access_decide(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_access_password_done(ngx_http_request_t *r,
    ngx_uint_t result);
static ngx_int_t ngx_http_ir_access_count(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_access_counted(void *waiter);
static void ngx_http_ir_access_forget(ngx_http_ir_main_conf_t *mcf,
    ngx_str_t *user);
static ngx_int_t ngx_http_ir_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_ir_log_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_ir_access_finish(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx, ngx_http_ir_verdict_t *v);
static void ngx_http_ir_access_store_failed(ngx_http_ir_verdict_t *v);
static ngx_uint_t ngx_http_ir_access_today(void);

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


static ngx_str_t  ngx_http_ir_decision_allow = ngx_string("allow");
static ngx_str_t  ngx_http_ir_decision_deny = ngx_string("deny");


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

        return ngx_http_ir_access_start(r, ctx);
    }

    if (ctx->waiting) {
        return NGX_AGAIN;
    }

    if (!ctx->looked_up && !ctx->lookup_failed && !ctx->decided) {
        return ngx_http_ir_access_lookup(r, ctx);
    }

    return ngx_http_ir_access_decide(r, ctx);
}


static ngx_int_t
ngx_http_ir_access_start(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    ngx_int_t              rc;
    ngx_http_ir_verdict_t  v;

    rc = ngx_http_ir_access_identify(r, ctx);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        v.reason = ctx->reason;
        v.detail = ctx->reason == NGX_HTTP_IR_CERT_REQUIRED
                   ? "no verified client certificate"
                   : "identity is not a valid user name";
        ngx_str_null(&v.subject);
        ngx_str_null(&v.grant);

        return ngx_http_ir_access_finish(r, ctx, &v);
    }

    return ngx_http_ir_access_lookup(r, ctx);
}


/* step 1: the identity, from the verified certificate only */

static ngx_int_t
ngx_http_ir_access_identify(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    ngx_http_ir_peer_t      *peer;
    ngx_http_ir_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ir_access_module);

    peer = ngx_http_ir_identity_peer(r->connection);
    if (peer == NULL) {
        return NGX_ERROR;
    }

    if (peer->reason == NGX_HTTP_IR_CERT_REQUIRED) {
        ctx->reason = NGX_HTTP_IR_CERT_REQUIRED;
        return NGX_DECLINED;
    }

    ctx->cert_sha256.data = peer->cert_sha256;
    ctx->cert_sha256.len = NGX_HTTP_IR_SHA256_HEX;
    ctx->cert_digest = peer->cert_digest;

    if (lcf->identity == NULL) {

        if (peer->reason) {
            ctx->reason = peer->reason;
            return NGX_DECLINED;
        }

        ctx->user = peer->cn;
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, lcf->identity, &ctx->user) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_ir_identity_valid(&ctx->user) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ir_access: identity \"%*s\" is not a valid user name",
                      ngx_min(ctx->user.len, 128), ctx->user.data);
        ngx_str_null(&ctx->user);
        ctx->reason = NGX_HTTP_IR_BAD_IDENTITY;
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_access_lookup(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    u_char                   *block;
    size_t                    size;
    ngx_int_t                 rc;
    ngx_uint_t                gen, start;
    ngx_http_ir_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    gen = 0;
    start = 1;

    if (mcf->cache) {
        rc = ngx_http_ir_cache_get(mcf->cache, &ctx->user, mcf->redis.timeout,
                                   &gen, &block, &size, r->pool);

        if (rc == NGX_HTTP_IR_CACHE_FRESH) {
            ngx_http_ir_metric_inc(cache_hits);
            ngx_http_ir_record_rebase(block, &ctx->record, r->pool);
            ctx->looked_up = 1;

            return ngx_http_ir_access_decide(r, ctx);
        }

        if (ctx->waiter == NULL) {
            ngx_http_ir_metric_inc(cache_misses);
        }

        /* LOADING: another worker fetches it; join only a flight here */
        start = (rc == NGX_HTTP_IR_CACHE_MISS);
    }

    if (ngx_http_ir_access_prepare(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_ir_lookup_wait(mcf, &ctx->user, start, gen, ctx->waiter,
                                 r->connection->log);

    if (rc == NGX_ERROR) {
        ctx->lookup_failed = 1;
        return ngx_http_ir_access_decide(r, ctx);
    }

    if (!ctx->timer.timer_set) {
        ngx_add_timer(&ctx->timer, mcf->redis.timeout);
    }

    if (rc == NGX_DECLINED) {
        /* look into the cache again shortly */
        ctx->poll_delay = ctx->poll_delay ? ngx_min(ctx->poll_delay * 2, 32)
                                          : 1;
        ngx_add_timer(&ctx->poll, ctx->poll_delay);
    }

    ctx->waiting = 1;

    /* notice a client that goes away while Redis answers */
    r->read_event_handler = ngx_http_test_reading;

    return NGX_AGAIN;
}


/*
 * What a request needs to wait on Redis: set up only when it does, so
 * that a cache hit is decided without any of it.
 */

static ngx_int_t
ngx_http_ir_access_prepare(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    ngx_pool_cleanup_t  *cln;

    if (ctx->waiter) {
        return NGX_OK;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_ir_access_cleanup;
    cln->data = ctx;

    ctx->waiter = ngx_pcalloc(r->pool, sizeof(ngx_http_ir_waiter_t));
    if (ctx->waiter == NULL) {
        return NGX_ERROR;
    }

    ctx->waiter->handler = ngx_http_ir_access_looked_up;
    ctx->waiter->data = ctx;

    ctx->timer.handler = ngx_http_ir_access_timeout;
    ctx->timer.data = ctx;
    ctx->timer.log = r->connection->log;

    ctx->resume.handler = ngx_http_ir_access_resume;
    ctx->resume.data = ctx;
    ctx->resume.log = r->connection->log;

    ctx->poll.handler = ngx_http_ir_access_poll;
    ctx->poll.data = ctx;
    ctx->poll.log = r->connection->log;

    return NGX_OK;
}


/* the flight landed: the packed record, or NULL when the lookup failed */

static void
ngx_http_ir_access_looked_up(ngx_http_ir_waiter_t *w, u_char *block,
    size_t size)
{
    ngx_http_ir_ctx_t *ctx = w->data;

    if (block
        && ngx_http_ir_record_unpack(block, size, &ctx->record,
                                     ctx->request->pool)
           == NGX_OK)
    {
        ctx->looked_up = 1;

    } else {
        ctx->lookup_failed = 1;
    }

    ngx_post_event(&ctx->resume, &ngx_posted_events);
}


static void
ngx_http_ir_access_timeout(ngx_event_t *ev)
{
    ngx_http_ir_ctx_t *ctx = ev->data;

    ngx_http_request_t       *r;
    ngx_http_ir_main_conf_t  *mcf;

    if (ctx->resume.posted) {
        /* the answer came in the same turn of the event loop */
        return;
    }

    r = ctx->request;
    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "ir_access: Redis did not answer for user \"%V\" "
                  "within %Mms", &ctx->user, mcf->redis.timeout);

    ngx_http_ir_access_detach(ctx);

    if (!ctx->looked_up) {
        ctx->lookup_failed = 1;
    }

    ngx_http_ir_redis_check(mcf->conn);

    ngx_post_event(&ctx->resume, &ngx_posted_events);
}


/* the wait is over: run the request's phases again, from the event loop */

static void
ngx_http_ir_access_resume(ngx_event_t *ev)
{
    ngx_http_ir_ctx_t *ctx = ev->data;

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    if (ctx->poll.timer_set) {
        ngx_del_timer(&ctx->poll);
    }

    ngx_http_ir_access_wake(ctx);
}


/* another worker's lookup of the same user may have landed by now */

static void
ngx_http_ir_access_poll(ngx_event_t *ev)
{
    ngx_http_ir_ctx_t *ctx = ev->data;

    ngx_http_ir_lookup_leave(ctx->waiter);

    ngx_http_ir_access_wake(ctx);
}


static void
ngx_http_ir_access_wake(ngx_http_ir_ctx_t *ctx)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;

    ctx->waiting = 0;

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_set_log_request(c->log, r);

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


/* whatever the request waits on forgets it */

static void
ngx_http_ir_access_detach(ngx_http_ir_ctx_t *ctx)
{
    if (ctx->waiter) {
        ngx_http_ir_lookup_leave(ctx->waiter);
    }

    if (ctx->lockout) {
        ctx->lockout->waiter = NULL;
        ctx->lockout = NULL;
    }

    if (ctx->poll.timer_set) {
        ngx_del_timer(&ctx->poll);
    }
}


static void
ngx_http_ir_access_cleanup(void *data)
{
    ngx_http_ir_ctx_t *ctx = data;

    ngx_http_ir_access_detach(ctx);

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    if (ctx->resume.posted) {
        ngx_delete_posted_event(&ctx->resume);
    }
}


/*
 * Redis failed or is too slow: a cached record younger than ttl + stale
 * still decides, so that a short outage refuses nobody it should not.
 */

static ngx_int_t
ngx_http_ir_access_stale(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    u_char                   *block;
    size_t                    size;
    ngx_msec_t                age;
    ngx_http_ir_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    if (mcf->cache == NULL
        || ngx_http_ir_cache_get_stale(mcf->cache, &ctx->user, &block,
                                       &size, &age, r->pool)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    ngx_http_ir_record_rebase(block, &ctx->record, r->pool);

    ctx->looked_up = 1;
    ctx->stale = 1;

    ngx_http_ir_metric_inc(cache_stale);

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "ir_access: Redis is unavailable; deciding for user \"%V\" "
                  "with cached data %Mms old (stale)", &ctx->user, age);

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_access_decide(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    ngx_int_t                 rc;
    ngx_http_ir_facts_t       facts;
    ngx_http_ir_verdict_t     v;
    ngx_http_ir_loc_conf_t   *lcf;
    ngx_http_ir_main_conf_t  *mcf;

    if (ctx->decided) {
        return (ctx->reason == NGX_HTTP_IR_ALLOW || ctx->dry_run)
               ? NGX_OK : (ngx_int_t) ngx_http_ir_response_status(ctx->reason);
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ir_access_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    if (!ctx->looked_up && ngx_http_ir_access_stale(r, ctx) != NGX_OK) {
        ngx_http_ir_access_store_failed(&v);
        return ngx_http_ir_access_finish(r, ctx, &v);
    }

    facts.cert_digest = ctx->cert_digest;
    facts.sockaddr = r->connection->sockaddr;

    if (mcf->geoip && ctx->country.data == NULL) {
        ngx_http_ir_geoip_country(mcf->geoip, r->connection->sockaddr,
                                  &ctx->country, r->pool,
                                  r->connection->log);
    }

    facts.country = ctx->country;
    facts.today = ngx_http_ir_access_today();

    /* the decision is pure: it is run again once the password is known */

    for ( ;; ) {
        facts.password = ctx->password;

        if (ngx_http_ir_decide(&lcf->policy, &facts, &ctx->record, &v,
                               r->pool)
            != NGX_HTTP_IR_CHECK_PASSWORD)
        {
            break;
        }

        if (ctx->record.user.password.data == NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "ir_access: user \"%V\" has no \"password\" "
                          "field, but \"ir_access_password\" is on",
                          &ctx->user);
        }

        rc = ngx_http_ir_password_check(r, &ctx->user,
                                        &ctx->record.user.password,
                                        lcf->thread_pool,
                                        ngx_http_ir_access_password_done,
                                        &ctx->password);

        if (rc == NGX_AGAIN) {
            ctx->waiting = 1;
            return NGX_AGAIN;
        }

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (v.reason == NGX_HTTP_IR_BAD_PASSWORD
        && lcf->lockout.limit
        && lcf->mode == NGX_HTTP_IR_ENFORCE
        && !ctx->fail_counted
        && ctx->record.user.password.data)
    {
        ctx->fail_counted = 1;

        if (ngx_http_ir_access_count(r, ctx) == NGX_AGAIN) {
            return NGX_AGAIN;
        }
    }

    if (v.reason == NGX_HTTP_IR_ALLOW
        && ctx->password == NGX_HTTP_IR_PASSWORD_GOOD
        && ctx->record.user.fails)
    {
        ngx_http_ir_lockout_reset(mcf->conn, &mcf->prefix, &ctx->user,
                                  r->connection->log);
        ngx_http_ir_access_forget(mcf, &ctx->user);
        ctx->record.user.fails = 0;
    }

    return ngx_http_ir_access_finish(r, ctx, &v);
}


static void
ngx_http_ir_access_password_done(ngx_http_request_t *r, ngx_uint_t result)
{
    ngx_http_ir_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ir_access_module);

    ctx->password = result;
    ctx->waiting = 0;
}


/*
 * A wrong password counts towards the lockout; the answer waits for the
 * count, so that the next attempt, on any worker or host, sees it.
 */

static ngx_int_t
ngx_http_ir_access_count(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    ngx_http_ir_loc_conf_t   *lcf;
    ngx_http_ir_main_conf_t  *mcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ir_access_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    if (ngx_http_ir_access_prepare(r, ctx) != NGX_OK) {
        return NGX_DECLINED;
    }

    ctx->lockout = ngx_http_ir_lockout_count(mcf->conn, &mcf->prefix,
                                             &ctx->user, &lcf->lockout,
                                             lcf->audit, "wrong password",
                                             ngx_http_ir_access_counted, ctx,
                                             r->connection->log);

    if (ctx->lockout == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ir_access: a failed login of user \"%V\" was not "
                      "counted: Redis is unavailable", &ctx->user);
        return NGX_DECLINED;
    }

    ngx_http_ir_access_forget(mcf, &ctx->user);

    ngx_add_timer(&ctx->timer, mcf->redis.timeout);
    ctx->waiting = 1;

    return NGX_AGAIN;
}


static void
ngx_http_ir_access_counted(void *waiter)
{
    ngx_http_ir_ctx_t *ctx = waiter;

    ctx->lockout = NULL;

    ngx_post_event(&ctx->resume, &ngx_posted_events);
}


/*
 * The module changed the user's failure count (or status) in Redis: the
 * cached record is dropped, so that the next request reads what it wrote.
 */

static void
ngx_http_ir_access_forget(ngx_http_ir_main_conf_t *mcf, ngx_str_t *user)
{
    if (mcf->cache) {
        ngx_http_ir_cache_drop_user(mcf->cache, user);
    }
}


/* the variables get their values, a denial is logged once and answered */

static ngx_int_t
ngx_http_ir_access_finish(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx,
    ngx_http_ir_verdict_t *v)
{
    ngx_int_t                rc;
    ngx_http_ir_loc_conf_t  *lcf;

    ctx->decided = 1;
    ctx->reason = v->reason;
    ctx->scopes = v->grant;

    if (ctx->record.user.found) {
        ctx->org = ctx->record.user.org;
        ctx->unit = ctx->record.user.unit;
    }

    if (ctx->record.org.found) {
        ctx->contract = ctx->record.org.contract;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ir_access_module);

    ctx->dry_run = (lcf->mode == NGX_HTTP_IR_DRY_RUN);

    ngx_http_ir_metric_inc(requests[ctx->dry_run][v->reason]);

    if (v->reason == NGX_HTTP_IR_ALLOW) {
        ctx->decision = ngx_http_ir_decision_allow;
        return NGX_OK;
    }

    ctx->decision = ngx_http_ir_decision_deny;
    ctx->reason_name = *ngx_http_ir_reason_name(v->reason);

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "ir_access: %s user \"%V\" from %V: %V, %s%s%V%s",
                  ctx->dry_run ? "dry run, would deny" : "denied",
                  &ctx->user, &r->connection->addr_text, &ctx->reason_name,
                  v->detail, v->subject.data ? ": \"" : "", &v->subject,
                  v->subject.data ? "\"" : "");

    if (ctx->dry_run) {
        /* decided, logged, counted and audited: and let through */
        return NGX_OK;
    }

    rc = ngx_http_ir_response_send(r, v->reason, &lcf->realm);

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/*
 * Backends that authenticate by themselves: their answer tells whether
 * the login failed, and so it is counted once the status is known.
 */

static ngx_int_t
ngx_http_ir_header_filter(ngx_http_request_t *r)
{
    ngx_uint_t               *status, i;
    ngx_http_ir_ctx_t        *ctx;
    ngx_http_ir_loc_conf_t   *lcf;
    ngx_http_ir_main_conf_t  *mcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ir_access_module);

    if (lcf->lockout_status == NULL
        || lcf->lockout.limit == 0
        || lcf->mode != NGX_HTTP_IR_ENFORCE
        || r != r->main)
    {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_ir_access_module);

    if (ctx == NULL
        || ctx->reason != NGX_HTTP_IR_ALLOW
        || !ctx->decided)
    {
        return ngx_http_next_header_filter(r);
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    status = lcf->lockout_status->elts;

    for (i = 0; i < lcf->lockout_status->nelts; i++) {
        if (status[i] == r->headers_out.status) {
            if (ngx_http_ir_lockout_count(mcf->conn, &mcf->prefix, &ctx->user,
                                          &lcf->lockout, lcf->audit,
                                          "backend refused", NULL, NULL,
                                          r->connection->log)
                == NULL)
            {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "ir_access: a failed login of user \"%V\" "
                              "was not counted: Redis is unavailable",
                              &ctx->user);
            }

            ngx_http_ir_access_forget(mcf, &ctx->user);

            return ngx_http_next_header_filter(r);
        }
    }

    if (r->headers_out.status >= 200 && r->headers_out.status < 300
        && ctx->record.user.fails)
    {
        ngx_http_ir_lockout_reset(mcf->conn, &mcf->prefix, &ctx->user,
                                  r->connection->log);
        ngx_http_ir_access_forget(mcf, &ctx->user);
        ctx->record.user.fails = 0;
    }

    return ngx_http_next_header_filter(r);
}


/*
 * The audit entry of a decided request, once its final status is known.
 */

static ngx_int_t
ngx_http_ir_log_handler(ngx_http_request_t *r)
{
    u_char                   *p;
    ngx_str_t                *scope;
    ngx_uint_t                i, n, status;
    ngx_keyval_t              f[16];
    ngx_http_ir_ctx_t        *ctx;
    ngx_http_ir_loc_conf_t   *lcf;
    ngx_http_variable_value_t *id;
    u_char                    time[NGX_HTTP_IR_AUDIT_TIME_LEN];
    u_char                    code[NGX_INT_T_LEN];

    static ngx_str_t  request_id = ngx_string("request_id");
    static ngx_str_t  modes[] = { ngx_string("enforce"),
                                  ngx_string("dry_run") };

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ir_access_module);

    if (lcf->audit == NULL) {
        return NGX_OK;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_ir_access_module);

    if (ctx == NULL || !ctx->decided) {
        return NGX_OK;
    }

    if (r->err_status) {
        status = r->err_status;

    } else {
        status = r->headers_out.status;
    }

    n = 0;

#define ngx_http_ir_field(k, v)                                             \
    ngx_str_set(&f[n].key, k);                                              \
    f[n++].value = v

    ngx_http_ir_audit_time(r->start_sec, r->start_msec, time, &f[n].value);
    ngx_str_set(&f[n].key, "time");
    n++;

    id = ngx_http_get_variable(r, &request_id,
                               ngx_hash_key(request_id.data, request_id.len));
    ngx_str_set(&f[n].key, "request_id");
    f[n].value.data = (id && !id->not_found) ? id->data : (u_char *) "";
    f[n++].value.len = (id && !id->not_found) ? id->len : 0;

    ngx_http_ir_field("mode", modes[ctx->dry_run]);
    ngx_http_ir_field("user", ctx->user);
    ngx_http_ir_field("org", ctx->org);
    ngx_http_ir_field("unit", ctx->unit);
    ngx_http_ir_field("contract", ctx->contract);
    ngx_http_ir_field("ip", r->connection->addr_text);
    ngx_http_ir_field("country", ctx->country);
    ngx_http_ir_field("method", r->method_name);
    ngx_http_ir_field("uri", r->unparsed_uri);

    /* the scopes the location asked for */

    ngx_str_set(&f[n].key, "scope");
    ngx_str_set(&f[n].value, "");

    if (lcf->policy.scopes) {
        scope = lcf->policy.scopes->elts;

        for (i = 0; i < lcf->policy.scopes->nelts; i++) {
            f[n].value.len += scope[i].len + 1;
        }

        p = ngx_pnalloc(r->pool, f[n].value.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        f[n].value.data = p;

        for (i = 0; i < lcf->policy.scopes->nelts; i++) {
            if (i) {
                *p++ = ' ';
            }

            p = ngx_cpymem(p, scope[i].data, scope[i].len);
        }

        f[n].value.len = p - f[n].value.data;
    }

    n++;

    ngx_http_ir_field("decision", ctx->decision);
    ngx_http_ir_field("reason", ctx->reason_name);

    ngx_str_set(&f[n].key, "status");
    f[n].value.data = code;
    f[n++].value.len = ngx_sprintf(code, "%ui", status) - code;

#undef ngx_http_ir_field

    ngx_http_ir_audit_write(lcf->audit, f, n);

    return NGX_OK;
}


static void
ngx_http_ir_access_store_failed(ngx_http_ir_verdict_t *v)
{
    v->reason = NGX_HTTP_IR_STORE_UNAVAILABLE;
    v->detail = "Redis is unreachable, failing or slower than "
                "\"ir_access_redis_timeout\"";
    ngx_str_null(&v->subject);
    ngx_str_null(&v->grant);
}


/* contract dates are calendar days in the server's local time zone */

static ngx_uint_t
ngx_http_ir_access_today(void)
{
    ngx_tm_t  tm;

    static time_t      last;
    static ngx_uint_t  today;

    if (ngx_time() != last) {
        last = ngx_time();
        ngx_localtime(last, &tm);
        today = tm.ngx_tm_year * 10000 + tm.ngx_tm_mon * 100 + tm.ngx_tm_mday;
    }

    return today;
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
        || ngx_http_ir_lookup_init(cf->log) != NGX_OK
        || ngx_http_ir_lockout_init(cf->log) != NGX_OK)
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
