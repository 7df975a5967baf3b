
/*
 * ir-access: one request's way through the decision.
 *
 * The access phase handler's work: the identity, the record from the
 * cache or from a lookup the request waits on without blocking the
 * worker, stale data while Redis is away, the password checked off the
 * event loop, the failure count, and the answer.  A request that waits
 * returns NGX_AGAIN and is run again from the event loop when its wait
 * ends; a cleanup on its pool detaches it from whatever it waited on.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_access.h"
#include "ngx_http_ir_identity.h"
#include "ngx_http_ir_lockout.h"
#include "ngx_http_ir_lookup.h"
#include "ngx_http_ir_metrics.h"
#include "ngx_http_ir_password.h"
#include "ngx_http_ir_record.h"
#include "ngx_http_ir_request.h"
#include "ngx_http_ir_response.h"


static ngx_int_t ngx_http_ir_request_identify(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static ngx_int_t ngx_http_ir_request_prepare(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_request_looked_up(ngx_http_ir_waiter_t *w,
    u_char *block, size_t size);
static void ngx_http_ir_request_timeout(ngx_event_t *ev);
static void ngx_http_ir_request_resume(ngx_event_t *ev);
static void ngx_http_ir_request_poll(ngx_event_t *ev);
static void ngx_http_ir_request_wake(ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_request_detach(ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_request_cleanup(void *data);
static ngx_int_t ngx_http_ir_request_stale(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_request_password_done(ngx_http_request_t *r,
    ngx_uint_t result);
static ngx_int_t ngx_http_ir_request_count(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_request_counted(void *waiter);
static void ngx_http_ir_request_forget(ngx_http_ir_main_conf_t *mcf,
    ngx_str_t *user);
static ngx_int_t ngx_http_ir_request_finish(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx, ngx_http_ir_verdict_t *v);
static void ngx_http_ir_request_store_failed(ngx_http_ir_verdict_t *v);
static ngx_uint_t ngx_http_ir_request_today(void);


static ngx_str_t  ngx_http_ir_decision_allow = ngx_string("allow");
static ngx_str_t  ngx_http_ir_decision_deny = ngx_string("deny");


ngx_int_t
ngx_http_ir_request_start(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    ngx_int_t              rc;
    ngx_http_ir_verdict_t  v;

    rc = ngx_http_ir_request_identify(r, ctx);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        v.reason = ctx->reason;
        v.detail = ctx->reason == NGX_HTTP_IR_CERT_REQUIRED
                   ? "no verified client certificate"
                   : "identity is not a valid user name";
        ngx_str_null(&v.subject);

        return ngx_http_ir_request_finish(r, ctx, &v);
    }

    return ngx_http_ir_request_lookup(r, ctx);
}


/* step 1: the identity, from the verified certificate only */

static ngx_int_t
ngx_http_ir_request_identify(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
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


ngx_int_t
ngx_http_ir_request_lookup(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    ngx_int_t                 rc;
    ngx_uint_t                gen, start;
    ngx_http_ir_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    gen = 0;
    start = 1;

    if (mcf->cache) {
        rc = ngx_http_ir_cache_get(mcf->cache, &ctx->user, mcf->redis.timeout,
                                   &gen, &ctx->record, r->pool);

        if (rc == NGX_HTTP_IR_CACHE_FRESH) {
            ngx_http_ir_metric_inc(cache_hits);
            ctx->looked_up = 1;

            return ngx_http_ir_request_decide(r, ctx);
        }

        if (ctx->waiter == NULL) {
            ngx_http_ir_metric_inc(cache_misses);
        }

        /* LOADING: another worker fetches it; join only a flight here */
        start = (rc == NGX_HTTP_IR_CACHE_MISS);
    }

    if (ngx_http_ir_request_prepare(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_ir_lookup_wait(mcf, &ctx->user, start, gen, ctx->waiter,
                                 r->connection->log);

    if (rc == NGX_ERROR) {
        ctx->lookup_failed = 1;
        return ngx_http_ir_request_decide(r, ctx);
    }

    if (!ctx->wait->timer.timer_set) {
        ngx_add_timer(&ctx->wait->timer, mcf->redis.timeout);
    }

    if (rc == NGX_DECLINED) {
        /* look into the cache again shortly */
        ctx->wait->poll_delay = ctx->wait->poll_delay
                                ? ngx_min(ctx->wait->poll_delay * 2, 32) : 1;
        ngx_add_timer(&ctx->wait->poll, ctx->wait->poll_delay);
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
ngx_http_ir_request_prepare(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    ngx_pool_cleanup_t    *cln;
    ngx_http_ir_wait_t    *wait;
    ngx_http_ir_waiter_t  *waiter;

    if (ctx->waiter) {
        return NGX_OK;
    }

    waiter = ngx_pcalloc(r->pool, sizeof(ngx_http_ir_waiter_t));
    wait = ngx_pcalloc(r->pool, sizeof(ngx_http_ir_wait_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (waiter == NULL || wait == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    ctx->waiter = waiter;
    ctx->wait = wait;

    cln->handler = ngx_http_ir_request_cleanup;
    cln->data = ctx;

    ctx->waiter->handler = ngx_http_ir_request_looked_up;
    ctx->waiter->data = ctx;

    ctx->wait->timer.handler = ngx_http_ir_request_timeout;
    ctx->wait->timer.data = ctx;
    ctx->wait->timer.log = r->connection->log;

    ctx->wait->resume.handler = ngx_http_ir_request_resume;
    ctx->wait->resume.data = ctx;
    ctx->wait->resume.log = r->connection->log;

    ctx->wait->poll.handler = ngx_http_ir_request_poll;
    ctx->wait->poll.data = ctx;
    ctx->wait->poll.log = r->connection->log;

    return NGX_OK;
}


/* the flight landed: the packed record, or NULL when the lookup failed */

static void
ngx_http_ir_request_looked_up(ngx_http_ir_waiter_t *w, u_char *block,
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

    ngx_post_event(&ctx->wait->resume, &ngx_posted_events);
}


static void
ngx_http_ir_request_timeout(ngx_event_t *ev)
{
    ngx_http_ir_ctx_t *ctx = ev->data;

    ngx_http_request_t       *r;
    ngx_http_ir_main_conf_t  *mcf;

    if (ctx->wait->resume.posted) {
        /* the answer came in the same turn of the event loop */
        return;
    }

    r = ctx->request;
    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "ir_access: Redis did not answer for user \"%V\" "
                  "within %Mms", &ctx->user, mcf->redis.timeout);

    ngx_http_ir_request_detach(ctx);

    if (!ctx->looked_up) {
        ctx->lookup_failed = 1;
    }

    ngx_http_ir_redis_check(mcf->conn);

    ngx_post_event(&ctx->wait->resume, &ngx_posted_events);
}


/* the wait is over: run the request's phases again, from the event loop */

static void
ngx_http_ir_request_resume(ngx_event_t *ev)
{
    ngx_http_ir_ctx_t *ctx = ev->data;

    if (ctx->wait->timer.timer_set) {
        ngx_del_timer(&ctx->wait->timer);
    }

    if (ctx->wait->poll.timer_set) {
        ngx_del_timer(&ctx->wait->poll);
    }

    ngx_http_ir_request_wake(ctx);
}


/* another worker's lookup of the same user may have landed by now */

static void
ngx_http_ir_request_poll(ngx_event_t *ev)
{
    ngx_http_ir_ctx_t *ctx = ev->data;

    ngx_http_ir_lookup_leave(ctx->waiter);

    ngx_http_ir_request_wake(ctx);
}


static void
ngx_http_ir_request_wake(ngx_http_ir_ctx_t *ctx)
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
ngx_http_ir_request_detach(ngx_http_ir_ctx_t *ctx)
{
    if (ctx->waiter) {
        ngx_http_ir_lookup_leave(ctx->waiter);
    }

    if (ctx->lockout) {
        ctx->lockout->waiter = NULL;
        ctx->lockout = NULL;
    }

    if (ctx->wait && ctx->wait->poll.timer_set) {
        ngx_del_timer(&ctx->wait->poll);
    }
}


static void
ngx_http_ir_request_cleanup(void *data)
{
    ngx_http_ir_ctx_t *ctx = data;

    ngx_http_ir_request_detach(ctx);

    if (ctx->wait->timer.timer_set) {
        ngx_del_timer(&ctx->wait->timer);
    }

    if (ctx->wait->resume.posted) {
        ngx_delete_posted_event(&ctx->wait->resume);
    }
}


/*
 * Redis failed or is too slow: a cached record younger than ttl + stale
 * still decides, so that a short outage refuses nobody it should not.
 */

static ngx_int_t
ngx_http_ir_request_stale(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    ngx_msec_t                age;
    ngx_http_ir_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    if (mcf->cache == NULL
        || ngx_http_ir_cache_get_stale(mcf->cache, &ctx->user, &ctx->record,
                                       &age, r->pool)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    ctx->looked_up = 1;

    ngx_http_ir_metric_inc(cache_stale);

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "ir_access: Redis is unavailable; deciding for user \"%V\" "
                  "with cached data %Mms old (stale)", &ctx->user, age);

    return NGX_OK;
}


ngx_int_t
ngx_http_ir_request_decide(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
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

    /* the wait is over, however it ended (a poll may end it early) */

    if (ctx->wait && ctx->wait->timer.timer_set) {
        ngx_del_timer(&ctx->wait->timer);
    }

    if (!ctx->looked_up && ngx_http_ir_request_stale(r, ctx) != NGX_OK) {
        ngx_http_ir_request_store_failed(&v);
        return ngx_http_ir_request_finish(r, ctx, &v);
    }

    facts.cert_digest = ctx->cert_digest;
    facts.sockaddr = r->connection->sockaddr;

    if (mcf->geoip && ctx->country.data == NULL) {
        ngx_http_ir_geoip_country(mcf->geoip, r->connection->sockaddr,
                                  &ctx->country, r->pool,
                                  r->connection->log);
    }

    facts.country = ctx->country;
    facts.today = ngx_http_ir_request_today();

    /* the decision is pure: it is run again once the password is known */

    for ( ;; ) {
        facts.password = ctx->password;

        if (ngx_http_ir_decide(&lcf->policy, &facts, &ctx->record, &v)
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
                                        lcf->password_remember,
                                        ngx_http_ir_request_password_done,
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

        if (ngx_http_ir_request_count(r, ctx) == NGX_AGAIN) {
            return NGX_AGAIN;
        }
    }

    if (v.reason == NGX_HTTP_IR_ALLOW
        && ctx->password == NGX_HTTP_IR_PASSWORD_GOOD
        && ctx->record.user.fails)
    {
        ngx_http_ir_lockout_reset(mcf->conn, &mcf->prefix, &ctx->user,
                                  r->connection->log);
        ngx_http_ir_request_forget(mcf, &ctx->user);
        ctx->record.user.fails = 0;
    }

    return ngx_http_ir_request_finish(r, ctx, &v);
}


static void
ngx_http_ir_request_password_done(ngx_http_request_t *r, ngx_uint_t result)
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
ngx_http_ir_request_count(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    ngx_http_ir_loc_conf_t   *lcf;
    ngx_http_ir_main_conf_t  *mcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ir_access_module);
    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    if (ngx_http_ir_request_prepare(r, ctx) != NGX_OK) {
        return NGX_DECLINED;
    }

    ctx->lockout = ngx_http_ir_lockout_count(mcf->conn, &mcf->prefix,
                                             &ctx->user, &lcf->lockout,
                                             lcf->audit, "wrong password",
                                             ngx_http_ir_request_counted, ctx,
                                             r->connection->log);

    if (ctx->lockout == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ir_access: a failed login of user \"%V\" was not "
                      "counted: Redis is unavailable", &ctx->user);
        return NGX_DECLINED;
    }

    ngx_http_ir_request_forget(mcf, &ctx->user);

    ngx_add_timer(&ctx->wait->timer, mcf->redis.timeout);
    ctx->waiting = 1;

    return NGX_AGAIN;
}


static void
ngx_http_ir_request_counted(void *waiter)
{
    ngx_http_ir_ctx_t *ctx = waiter;

    ctx->lockout = NULL;

    ngx_post_event(&ctx->wait->resume, &ngx_posted_events);
}


/*
 * The module changed the user's failure count (or status) in Redis: the
 * cached record is dropped, so that the next request reads what it wrote.
 */

static void
ngx_http_ir_request_forget(ngx_http_ir_main_conf_t *mcf, ngx_str_t *user)
{
    if (mcf->cache) {
        ngx_http_ir_cache_drop_user(mcf->cache, user);
    }
}


/* the variables get their values, a denial is logged once and answered */

static ngx_int_t
ngx_http_ir_request_finish(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx,
    ngx_http_ir_verdict_t *v)
{
    ngx_int_t                rc;
    ngx_http_ir_loc_conf_t  *lcf;

    ctx->decided = 1;
    ctx->reason = v->reason;

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


static void
ngx_http_ir_request_store_failed(ngx_http_ir_verdict_t *v)
{
    v->reason = NGX_HTTP_IR_STORE_UNAVAILABLE;
    v->detail = "Redis is unreachable, failing or slower than "
                "\"ir_access_redis_timeout\"";
    ngx_str_null(&v->subject);
}


/* contract dates are calendar days in the server's local time zone */

static ngx_uint_t
ngx_http_ir_request_today(void)
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


/*
 * Backends that authenticate by themselves: their answer tells whether
 * the login failed, and so it is counted once the status is known.
 */

void
ngx_http_ir_request_responded(ngx_http_request_t *r)
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
        return;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_ir_access_module);

    if (ctx == NULL
        || ctx->reason != NGX_HTTP_IR_ALLOW
        || !ctx->decided)
    {
        return;
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

            ngx_http_ir_request_forget(mcf, &ctx->user);

            return;
        }
    }

    if (r->headers_out.status >= 200 && r->headers_out.status < 300
        && ctx->record.user.fails)
    {
        ngx_http_ir_lockout_reset(mcf->conn, &mcf->prefix, &ctx->user,
                                  r->connection->log);
        ngx_http_ir_request_forget(mcf, &ctx->user);
        ctx->record.user.fails = 0;
    }
}
