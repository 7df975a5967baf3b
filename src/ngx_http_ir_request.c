
/*
 * ir-access: one request's way through the decision.
 *
 * A request goes through the steps below in their order, each a state
 * of its context: the maintenance, the certificate, the record, the
 * account, the login, the contract and the quotas.  A step that has to
 * wait (for Redis, for another worker's lookup, for a password hashed in
 * a thread) returns NGX_AGAIN; whatever it waited on puts its outcome
 * into the context and wakes the request, which runs the phases again and
 * so comes back into the same step, now with its outcome.  A step that
 * denies leaves its verdict and ends the walk; the decision is then
 * answered, logged and counted once, and kept for the request's internal
 * redirects and subrequests.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_cache.h"
#include "ngx_http_ir_geoip.h"
#include "ngx_http_ir_identity.h"
#include "ngx_http_ir_maintenance.h"
#include "ngx_http_ir_metrics.h"
#include "ngx_http_ir_record.h"
#include "ngx_http_ir_request.h"
#include "ngx_http_ir_schema.h"
#include "ngx_http_ir_seen.h"


/* how often a request looks for another worker's lookup, ms: 1 to 32 */
#define NGX_HTTP_IR_POLL_MIN           1
#define NGX_HTTP_IR_POLL_MAX           32

/*
 * A login whose attempt cannot be reserved, as many being in flight as
 * may still fail, asks again every 10 to 200 ms, for at most 5 s: the
 * attempts in flight end within a hash's time.
 */
#define NGX_HTTP_IR_BUSY_MIN           10
#define NGX_HTTP_IR_BUSY_MAX           200
#define NGX_HTTP_IR_BUSY_WAIT          5000


typedef ngx_int_t (*ngx_http_ir_step_pt)(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);


static ngx_http_ir_ctx_t *ngx_http_ir_request_create(ngx_http_request_t *r,
    ngx_http_ir_loc_conf_t *lcf);
static ngx_int_t ngx_http_ir_request_decided(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static ngx_uint_t ngx_http_ir_request_same(ngx_http_ir_loc_conf_t *a,
    ngx_http_ir_loc_conf_t *b);
static ngx_uint_t ngx_http_ir_request_same_words(ngx_array_t *a,
    ngx_array_t *b);

static ngx_int_t ngx_http_ir_request_check_maintenance(
    ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx);
static ngx_int_t ngx_http_ir_request_identify(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static ngx_int_t ngx_http_ir_request_look_up(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static ngx_int_t ngx_http_ir_request_stale(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static ngx_int_t ngx_http_ir_request_check_account(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static ngx_int_t ngx_http_ir_request_read_password(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static ngx_int_t ngx_http_ir_request_reserve_login(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static ngx_int_t ngx_http_ir_request_compare_password(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static ngx_int_t ngx_http_ir_request_settle_login(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static ngx_int_t ngx_http_ir_request_check_contract(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static ngx_int_t ngx_http_ir_request_purpose(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_request_cut(ngx_http_request_t *r, ngx_str_t *value,
    size_t max);
static ngx_int_t ngx_http_ir_request_count_quota(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static ngx_int_t ngx_http_ir_request_finish(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);

static ngx_http_ir_wait_t *ngx_http_ir_request_wait(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_request_looked_up(ngx_http_ir_waiter_t *w,
    u_char *block, size_t size);
static void ngx_http_ir_request_reserved(void *data, ngx_uint_t result);
static void ngx_http_ir_request_compared(ngx_http_ir_ctx_t *ctx,
    ngx_uint_t result);
static void ngx_http_ir_request_hashed(void *data, ngx_uint_t result);
static void ngx_http_ir_request_counted(void *data, ngx_uint_t result);
static void ngx_http_ir_request_replied(ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_request_timeout(ngx_event_t *ev);
static void ngx_http_ir_request_poll(ngx_event_t *ev);
static void ngx_http_ir_request_wake(ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_request_resume(ngx_event_t *ev);
static void ngx_http_ir_request_detach(ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_request_cleanup(void *data);

static ngx_uint_t ngx_http_ir_request_counts(ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_request_forget(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx);
static void ngx_http_ir_request_audit(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx, ngx_uint_t status);
static ngx_uint_t ngx_http_ir_request_today(ngx_http_ir_zone_t *zone);


/* indexed by ngx_http_ir_state_e */

static ngx_http_ir_step_pt  ngx_http_ir_request_steps[] = {
    ngx_http_ir_request_check_maintenance,
    ngx_http_ir_request_identify,
    ngx_http_ir_request_look_up,
    ngx_http_ir_request_check_account,
    ngx_http_ir_request_read_password,
    ngx_http_ir_request_reserve_login,
    ngx_http_ir_request_compare_password,
    ngx_http_ir_request_settle_login,
    ngx_http_ir_request_check_contract,
    ngx_http_ir_request_count_quota
};


static ngx_str_t  ngx_http_ir_allow = ngx_string("allow");
static ngx_str_t  ngx_http_ir_deny_word = ngx_string("deny");
static ngx_str_t  ngx_http_ir_modes[] = { ngx_string("enforce"),
                                          ngx_string("dry_run") };


/*
 * The access phase's handler for the main request, and the preaccess
 * phase's for subrequests, which nginx lets skip the access phase.
 */

ngx_int_t
ngx_http_ir_request_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_http_ir_ctx_t       *ctx, *main;
    ngx_http_ir_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_ir_access_module);

    if (!lcf->enable) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_ir_request_ctx(r);

    if (ctx == NULL) {

        /* a subrequest where the main request's decision holds */

        if (r != r->main) {
            main = ngx_http_ir_request_ctx(r->main);

            if (main && main->state == NGX_HTTP_IR_DECIDED
                && ngx_http_ir_request_same(main->lcf, lcf))
            {
                return (main->rc == NGX_OK) ? NGX_DECLINED : main->rc;
            }
        }

        ctx = ngx_http_ir_request_create(r, lcf);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (ctx->state == NGX_HTTP_IR_DECIDED) {

        /* one decision per request, but for other settings */

        if (ngx_http_ir_request_same(ctx->lcf, lcf)) {
            return ctx->rc;
        }

        rc = ngx_http_ir_request_decided(r, ctx);
        if (rc != NGX_OK) {
            return rc;
        }

        ctx->lcf = lcf;
    }

    if (ctx->waiting) {
        return NGX_AGAIN;
    }

    while (ctx->state < NGX_HTTP_IR_DECIDED) {

        rc = ngx_http_ir_request_steps[ctx->state](r, ctx);

        switch (rc) {

        case NGX_OK:
            ctx->state++;
            break;

        case NGX_AGAIN:
            ctx->waiting = 1;
            return NGX_AGAIN;

        case NGX_DECLINED:
            ctx->state = NGX_HTTP_IR_DECIDED;
            break;

        default: /* NGX_ERROR */
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_ir_request_finish(r, ctx);
}


/*
 * The request's context, found again after an internal redirect, which
 * clears the module contexts, through the cleanup that every context
 * has on the pool, as the realip module finds its own.
 */

ngx_http_ir_ctx_t *
ngx_http_ir_request_ctx(ngx_http_request_t *r)
{
    ngx_http_ir_ctx_t   *ctx;
    ngx_pool_cleanup_t  *cln;

    ctx = ngx_http_get_module_ctx(r, ngx_http_ir_access_module);

    if (ctx || !(r->internal || r->filter_finalize)) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler != ngx_http_ir_request_cleanup) {
            continue;
        }

        ctx = cln->data;

        /* subrequests share the main request's pool */

        if (ctx->request == r) {
            ngx_http_set_ctx(r, ctx, ngx_http_ir_access_module);
            return ctx;
        }
    }

    return NULL;
}


static ngx_http_ir_ctx_t *
ngx_http_ir_request_create(ngx_http_request_t *r, ngx_http_ir_loc_conf_t *lcf)
{
    ngx_http_ir_ctx_t   *ctx;
    ngx_pool_cleanup_t  *cln;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_ir_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_ir_request_cleanup;
    cln->data = ctx;

    ctx->request = r;
    ctx->lcf = lcf;

    ngx_http_set_ctx(r, ctx, ngx_http_ir_access_module);

    return ctx;
}


/*
 * An internal redirect into a place with other settings: the decision
 * made is written into the trail as it stands, and a new one begins.
 */

static ngx_int_t
ngx_http_ir_request_decided(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    ngx_http_ir_wait_t  *wait;

    ngx_http_ir_request_audit(r, ctx,
                              ctx->verdict.reason == NGX_HTTP_IR_ALLOW
                              ? NGX_HTTP_OK
                              : ngx_http_ir_reason_status(
                                                     ctx->verdict.reason));

    wait = ctx->wait;

    ngx_memzero(&ctx->state, sizeof(ngx_http_ir_ctx_t)
                             - offsetof(ngx_http_ir_ctx_t, state));

    ctx->wait = wait;

    if (wait) {
        wait->poll_delay = 0;
        wait->busy_since = 0;
    }

    return NGX_OK;
}


/* whether a place decides as another does */

static ngx_uint_t
ngx_http_ir_request_same(ngx_http_ir_loc_conf_t *a, ngx_http_ir_loc_conf_t *b)
{
    if (a == b) {
        return 1;
    }

    return a->mode == b->mode
           && a->identity == b->identity
           && a->policy.cert_pin == b->policy.cert_pin
           && a->policy.password == b->policy.password
           && a->policy.geoip == b->policy.geoip
           && a->lockout.limit == b->lockout.limit
           && a->lockout.window == b->lockout.window
           && a->lockout_status == b->lockout_status
           && a->audit == b->audit
           && a->quota.enable == b->quota.enable
           && (!a->quota.enable
               || ngx_memcmp(a->quota.limit, b->quota.limit,
                             sizeof(a->quota.limit))
                  == 0)
           && a->policy.env.len == b->policy.env.len
           && ngx_strncmp(a->policy.env.data, b->policy.env.data,
                          a->policy.env.len) == 0
           && a->realm.len == b->realm.len
           && ngx_strncmp(a->realm.data, b->realm.data, a->realm.len) == 0
           && ngx_http_ir_request_same_words(a->policy.scopes,
                                             b->policy.scopes)
           && ngx_http_ir_request_same_words(a->policy.countries,
                                             b->policy.countries);
}


static ngx_uint_t
ngx_http_ir_request_same_words(ngx_array_t *a, ngx_array_t *b)
{
    ngx_str_t   *word;
    ngx_uint_t   i;

    if (a == b) {
        return 1;
    }

    if (a == NULL || b == NULL || a->nelts != b->nelts) {
        return 0;
    }

    word = a->elts;

    for (i = 0; i < a->nelts; i++) {
        if (ngx_http_ir_list_find(b, &word[i]) != NGX_OK) {
            return 0;
        }
    }

    return 1;
}


/*
 * Before step 1: an announced maintenance closes the service to every
 * client, known or not.
 */

static ngx_int_t
ngx_http_ir_request_check_maintenance(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx)
{
    return ngx_http_ir_maintenance_check(&ctx->lcf->policy.env,
                                         &ctx->verdict, r->pool);
}


/* step 1: the identity, from the verified certificate only */

static ngx_int_t
ngx_http_ir_request_identify(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    ngx_http_ir_peer_t  *peer;
    u_char               text[NGX_HTTP_IR_NAME_MAX * 2];

    peer = ngx_http_ir_identity_peer(r);
    if (peer == NULL) {
        return NGX_ERROR;
    }

    if (peer->reason == NGX_HTTP_IR_CERT_REQUIRED) {
        ngx_http_ir_deny(&ctx->verdict, NGX_HTTP_IR_CERT_REQUIRED,
                         "no client certificate verified by this server",
                         NULL);
        return NGX_DECLINED;
    }

    ctx->cert_sha256.data = peer->cert_sha256;
    ctx->cert_sha256.len = NGX_HTTP_IR_SHA256_HEX;
    ctx->cert_not_after = peer->not_after;
    ctx->facts.cert_digest = peer->cert_digest;

    if (ctx->lcf->identity == NULL) {

        if (peer->reason) {
            ngx_http_ir_deny(&ctx->verdict, NGX_HTTP_IR_BAD_IDENTITY,
                             "certificate's subject CN is not a valid user "
                             "name", NULL);
            return NGX_DECLINED;
        }

        ctx->user = peer->cn;
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, ctx->lcf->identity, &ctx->user) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_ir_name_valid(&ctx->user) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ir_access: identity \"%*s\" is not a valid user name",
                      ngx_http_ir_escape(text, text + sizeof(text),
                                         &ctx->user)
                      - text, text);

        ngx_str_null(&ctx->user);
        ngx_http_ir_deny(&ctx->verdict, NGX_HTTP_IR_BAD_IDENTITY,
                         "identity is not a valid user name", NULL);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The record: from the shared cache, or from a lookup, this request's
 * own or one in flight for the same user, on this worker or another.
 */

static ngx_int_t
ngx_http_ir_request_look_up(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    ngx_int_t                 rc;
    ngx_uint_t                gen, start;
    ngx_http_ir_wait_t       *wait;
    ngx_http_ir_main_conf_t  *mcf;

    switch (ctx->fetch) {

    case NGX_HTTP_IR_FETCH_LANDED:
        return NGX_OK;

    case NGX_HTTP_IR_FETCH_FAILED:
        return ngx_http_ir_request_stale(r, ctx);

    default:
        break;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    gen = 0;
    start = 1;

    if (mcf->cache) {
        rc = ngx_http_ir_cache_get(mcf->cache, &ctx->user, mcf->redis.timeout,
                                   &gen, &ctx->seen, &ctx->record, r->pool);

        if (rc == NGX_HTTP_IR_CACHE_FRESH) {
            ngx_http_ir_metric_inc(cache_hits);

            if (ctx->wait && ctx->wait->timer.timer_set) {
                ngx_del_timer(&ctx->wait->timer);
            }

            return NGX_OK;
        }

        if (ctx->wait == NULL) {
            ngx_http_ir_metric_inc(cache_misses);
        }

        /* LOADING: another worker fetches it; join only a flight here */
        start = (rc == NGX_HTTP_IR_CACHE_MISS);
    }

    wait = ngx_http_ir_request_wait(r, ctx);
    if (wait == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_ir_lookup_wait(&mcf->source, &ctx->user, start, gen,
                                 &wait->waiter, r->connection->log);

    if (rc == NGX_ERROR) {
        ctx->fetch = NGX_HTTP_IR_FETCH_FAILED;

        if (wait->timer.timer_set) {
            ngx_del_timer(&wait->timer);
        }

        return ngx_http_ir_request_stale(r, ctx);
    }

    if (!wait->timer.timer_set) {
        ngx_add_timer(&wait->timer, mcf->redis.timeout);
    }

    if (rc == NGX_DECLINED) {
        /* look into the cache again shortly */
        wait->poll_delay = wait->poll_delay
                           ? ngx_min(wait->poll_delay * 2, NGX_HTTP_IR_POLL_MAX)
                           : NGX_HTTP_IR_POLL_MIN;
        ngx_add_timer(&wait->poll, wait->poll_delay);
    }

    return NGX_AGAIN;
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

    if (mcf->cache
        && ngx_http_ir_cache_get_stale(mcf->cache, &ctx->user, &ctx->record,
                                       &age, r->pool)
           == NGX_OK)
    {
        ctx->stale = 1;

        ngx_http_ir_metric_inc(cache_stale);

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "ir_access: Redis is unavailable; deciding for user "
                      "\"%V\" with cached data %Mms old (stale)",
                      &ctx->user, age);

        return NGX_OK;
    }

    ngx_http_ir_deny(&ctx->verdict, NGX_HTTP_IR_STORE_UNAVAILABLE,
                     "Redis is unreachable, failing or slower than "
                     "\"ir_access_redis_timeout\"", NULL);

    return NGX_DECLINED;
}


/* steps 2 to 5: the user, the certificate, the address, the country */

static ngx_int_t
ngx_http_ir_request_check_account(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx)
{
    ngx_http_ir_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    if (mcf->geoip) {
        ngx_http_ir_geoip_country(mcf->geoip, r->connection->sockaddr,
                                  &ctx->country, r->pool,
                                  r->connection->log);
    }

    ctx->facts.sockaddr = r->connection->sockaddr;
    ctx->facts.country = ctx->country;
    ctx->facts.today = ngx_http_ir_request_today(&mcf->zone);

    return (ngx_http_ir_decide_account(&ctx->lcf->policy, &ctx->facts,
                                       &ctx->record, &ctx->verdict)
            == NGX_HTTP_IR_ALLOW) ? NGX_OK : NGX_DECLINED;
}


/*
 * Step 6 begins: the Basic credentials, and whether this worker verified
 * the same password lately; a login that is to be compared and counts
 * towards the lockout is reserved first.
 */

static ngx_int_t
ngx_http_ir_request_read_password(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx)
{
    ngx_int_t            rc;
    ngx_uint_t           login;
    ngx_http_ir_user_t  *user;

    if (!ctx->lcf->policy.password) {
        return NGX_OK;
    }

    user = &ctx->record.user;

    /* no hash, or none the module knows: nothing to guess, nothing counts */

    if (user->hash == NGX_HTTP_IR_HASH_NONE
        || user->hash == NGX_HTTP_IR_HASH_UNKNOWN)
    {
        ctx->facts.login = NGX_HTTP_IR_LOGIN_NO_HASH;
        return NGX_OK;
    }

    login = ngx_http_ir_password_credentials(r, &ctx->user, &ctx->passwd);

    if (login != NGX_HTTP_IR_LOGIN_UNCHECKED) {
        ctx->facts.login = login;
        ctx->count = (login == NGX_HTTP_IR_LOGIN_WRONG);
        return NGX_OK;
    }

    if (ctx->lcf->password_remember) {
        rc = ngx_http_ir_password_recall(&ctx->user, &user->password,
                                         &ctx->passwd,
                                         ctx->lcf->password_remember,
                                         ctx->mac);

        if (rc == NGX_OK) {
            ctx->facts.login = NGX_HTTP_IR_LOGIN_GOOD;
            return NGX_OK;
        }

        ctx->remember = (rc == NGX_DECLINED);
    }

    ctx->reserve = ngx_http_ir_request_counts(ctx);

    return NGX_OK;
}


/*
 * The attempt gets its place among those that may still fail before the
 * lock, atomically in Redis, so that parallel guesses on any number of
 * workers and hosts cannot outrun the lock; where all places are taken,
 * it asks again shortly.
 */

static ngx_int_t
ngx_http_ir_request_reserve_login(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx)
{
    ngx_http_ir_wait_t       *wait;
    ngx_http_ir_main_conf_t  *mcf;

    if (!ctx->reserve || ctx->reserved
        || ctx->facts.login != NGX_HTTP_IR_LOGIN_UNCHECKED)
    {
        return NGX_OK;
    }

    wait = ngx_http_ir_request_wait(r, ctx);
    if (wait == NULL) {
        return NGX_ERROR;
    }

    if (wait->busy_since && !wait->polled) {

        /* the reply said busy: ask again shortly */

        if (ngx_current_msec - wait->busy_since >= NGX_HTTP_IR_BUSY_WAIT) {
            ctx->facts.login = NGX_HTTP_IR_LOGIN_BUSY;
            return NGX_OK;
        }

        wait->poll_delay = ngx_min(ngx_max(wait->poll_delay * 2,
                                           NGX_HTTP_IR_BUSY_MIN),
                                   NGX_HTTP_IR_BUSY_MAX);
        wait->polled = 1;

        ngx_add_timer(&wait->poll, wait->poll_delay);

        return NGX_AGAIN;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    wait->login = ngx_http_ir_lockout_reserve(mcf->source.redis, &mcf->prefix,
                                              &ctx->user,
                                              ctx->lcf->lockout.limit,
                                              ngx_http_ir_request_reserved,
                                              ctx, r->connection->log);
    if (wait->login == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ir_access: a login of user \"%V\" could not be "
                      "reserved: Redis is unavailable", &ctx->user);
        ctx->facts.login = NGX_HTTP_IR_LOGIN_FAILED;
        return NGX_OK;
    }

    ngx_add_timer(&wait->timer, mcf->redis.timeout);

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_ir_request_compare_password(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx)
{
    ngx_int_t    rc;
    ngx_uint_t   result;

    if (!ctx->lcf->policy.password
        || ctx->facts.login != NGX_HTTP_IR_LOGIN_UNCHECKED)
    {
        return NGX_OK;
    }

    rc = ngx_http_ir_password_compare(r, &ctx->passwd,
                                      &ctx->record.user.password,
                                      ctx->record.user.hash,
                                      ctx->lcf->thread_pool,
                                      ngx_http_ir_request_hashed, ctx,
                                      &result);

    if (rc == NGX_OK) {
        ngx_http_ir_request_compared(ctx, result);
    }

    return rc;
}


/*
 * A wrong password is counted, and the answer waits for the count, so
 * that the next attempt, on any worker or host, sees it; a good one
 * frees its place and forgets the failures before it.
 */

static ngx_int_t
ngx_http_ir_request_settle_login(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx)
{
    ngx_str_t                 cause;
    ngx_http_ir_wait_t       *wait;
    ngx_http_ir_main_conf_t  *mcf;

    if (!ctx->lcf->policy.password || !ngx_http_ir_request_counts(ctx)) {
        return NGX_OK;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    if (ctx->facts.login == NGX_HTTP_IR_LOGIN_GOOD) {

        if (ctx->reserved || ctx->record.user.fails) {
            ngx_http_ir_lockout_pass(mcf->source.redis, &mcf->prefix,
                                     &ctx->user, ctx->reserved, 1,
                                     r->connection->log);
            ctx->reserved = 0;
            ctx->record.user.fails = 0;

            ngx_http_ir_request_forget(r, ctx);
        }

        return NGX_OK;
    }

    if (!ctx->count) {
        return NGX_OK;
    }

    ctx->count = 0;

    wait = ngx_http_ir_request_wait(r, ctx);
    if (wait == NULL) {
        return NGX_ERROR;
    }

    ngx_str_set(&cause, "wrong password");

    wait->login = ngx_http_ir_lockout_fail(mcf->source.redis, &mcf->prefix,
                                           &ctx->user, &ctx->lcf->lockout,
                                           ctx->reserved, &cause,
                                           mcf->audit,
                                           ngx_http_ir_request_counted, ctx,
                                           r->connection->log);
    ctx->reserved = 0;

    if (wait->login == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ir_access: a failed login of user \"%V\" was not "
                      "counted: Redis is unavailable", &ctx->user);
        return NGX_OK;
    }

    ngx_http_ir_request_forget(r, ctx);

    ngx_add_timer(&wait->timer, mcf->redis.timeout);

    return NGX_AGAIN;
}


/*
 * Step 6 ends, and steps 7 to 10: the organisation, its contract, and
 * the purpose the client states
 */

static ngx_int_t
ngx_http_ir_request_check_contract(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx)
{
    if (ngx_http_ir_decide_login(&ctx->lcf->policy, &ctx->facts,
                                 &ctx->record, &ctx->verdict)
        != NGX_HTTP_IR_ALLOW)
    {
        return NGX_DECLINED;
    }

    if (ctx->lcf->purpose) {
        switch (ngx_http_ir_request_purpose(r, ctx)) {

        case NGX_OK:
            break;

        case NGX_DECLINED:
            return NGX_DECLINED;

        default:
            return NGX_ERROR;
        }
    }

    return (ngx_http_ir_decide_contract(&ctx->lcf->policy, &ctx->facts,
                                        &ctx->record, &ctx->verdict)
            == NGX_HTTP_IR_ALLOW) ? NGX_OK : NGX_DECLINED;
}


/*
 * The purpose and the case reference a client states: words of no
 * control character and of a bounded length, since they go into the
 * trail; a case reference too long is cut, and marked so.
 */

static ngx_int_t
ngx_http_ir_request_purpose(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    u_char  *p;

    if (ngx_http_complex_value(r, ctx->lcf->purpose, &ctx->purpose)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ctx->purpose.len > NGX_HTTP_IR_PURPOSE_MAX
        || ngx_http_ir_value_valid(&ctx->purpose) != NGX_OK)
    {
        ngx_http_ir_deny(&ctx->verdict, NGX_HTTP_IR_PURPOSE_NOT_ALLOWED,
                         "purpose is too long or holds a control character",
                         &ctx->purpose);
        ngx_http_ir_request_cut(r, &ctx->purpose, NGX_HTTP_IR_PURPOSE_MAX);
        return NGX_DECLINED;
    }

    ctx->facts.purpose = ctx->purpose;

    if (ctx->lcf->purpose_case == NULL) {
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, ctx->lcf->purpose_case, &ctx->case_ref)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_ir_value_valid(&ctx->case_ref) != NGX_OK) {
        ngx_http_ir_deny(&ctx->verdict, NGX_HTTP_IR_PURPOSE_NOT_ALLOWED,
                         "case reference holds a control character",
                         &ctx->case_ref);
        ngx_http_ir_request_cut(r, &ctx->case_ref, NGX_HTTP_IR_CASE_MAX);
        return NGX_DECLINED;
    }

    if (ctx->case_ref.len > NGX_HTTP_IR_CASE_MAX) {
        p = ngx_pnalloc(r->pool, NGX_HTTP_IR_CASE_MAX + 3);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(p, ctx->case_ref.data, NGX_HTTP_IR_CASE_MAX);
        ngx_memcpy(p + NGX_HTTP_IR_CASE_MAX, "...", 3);

        ctx->case_ref.data = p;
        ctx->case_ref.len = NGX_HTTP_IR_CASE_MAX + 3;
    }

    return NGX_OK;
}


/* a client's value kept for the trail: escaped and cut to "max" */

static void
ngx_http_ir_request_cut(ngx_http_request_t *r, ngx_str_t *value, size_t max)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, max);
    if (p == NULL) {
        ngx_str_set(value, "");
        return;
    }

    value->len = ngx_http_ir_escape(p, p + max, value) - p;
    value->data = p;
}


/*
 * After step 10: the request is allowed, and counted under its user's and
 * its organisation's quotas, unless one of them is spent, which refuses
 * it uncounted.  Each limit is the record's own, else the place's
 * default.  A request is counted once, whatever redirects decide it
 * again.
 */

static ngx_int_t
ngx_http_ir_request_count_quota(ngx_http_request_t *r,
    ngx_http_ir_ctx_t *ctx)
{
    ngx_int_t                     rc;
    ngx_str_t                     names[2], none;
    ngx_uint_t                    limit[2][2], dry_run;
    ngx_http_ir_quota_conf_t     *qcf;
    ngx_http_ir_main_conf_t      *mcf;
    ngx_http_ir_quota_refusal_t   refusal;

    qcf = &ctx->lcf->quota;

    if (!qcf->enable || ctx->counted) {
        return NGX_OK;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    names[NGX_HTTP_IR_QUOTA_USER] = ctx->user;
    names[NGX_HTTP_IR_QUOTA_ORG] = ctx->record.user.org;

    ngx_http_ir_quota_limits(&ctx->record, qcf->limit, limit);

    rc = ngx_http_ir_quota_count(mcf->quota, names, limit, &refusal);

    if (rc == NGX_OK) {
        ctx->counted = 1;
        return NGX_OK;
    }

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ir_access: no room to count the requests of user "
                      "\"%V\" in the zone \"ir_access_quota\"; make "
                      "\"ir_access_quota_zone\" larger", &ctx->user);

        ngx_http_ir_deny(&ctx->verdict, NGX_HTTP_IR_STORE_UNAVAILABLE,
                         "the quotas' shared memory zone is full", NULL);
        return NGX_DECLINED;
    }

    dry_run = (ctx->lcf->mode == NGX_HTTP_IR_DRY_RUN);

    ngx_http_ir_metric_inc(quota_exceeded[dry_run][refusal.period]
                                                  [refusal.who]);

    ngx_http_ir_deny_quota(&ctx->verdict, refusal.who, refusal.period,
                           &names[refusal.who]);

    ctx->verdict.retry_after = refusal.retry_after;

    if (!refusal.first) {
        return NGX_DECLINED;
    }

    /* the first refusal of the minute or the day on this host */

    ngx_str_set(&none, "");

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "ir_access: %sthe %s quota of %s \"%V\", %ui requests a "
                  "%s, is reached%s%V%s; %s until the %s ends in %Ts",
                  dry_run ? "dry run: " : "",
                  (refusal.period == NGX_HTTP_IR_QUOTA_DAY) ? "daily" : "rate",
                  (refusal.who == NGX_HTTP_IR_QUOTA_USER) ? "user"
                                                          : "organisation",
                  &names[refusal.who], refusal.limit,
                  (refusal.period == NGX_HTTP_IR_QUOTA_DAY) ? "day" : "minute",
                  refusal.who ? " by user \"" : "",
                  refusal.who ? &ctx->user : &none,
                  refusal.who ? "\"" : "",
                  dry_run ? "would be refused" : "refused",
                  (refusal.period == NGX_HTTP_IR_QUOTA_DAY) ? "day" : "minute",
                  refusal.retry_after);

    if (refusal.period == NGX_HTTP_IR_QUOTA_DAY) {
        ngx_http_ir_quota_announce(mcf->audit, names,
                                   &ngx_http_ir_modes[dry_run], &refusal,
                                   r->connection->log);
    }

    return NGX_DECLINED;
}


/*
 * The decision is made: the variables get their values, a denial is
 * logged, and the answer goes back to the phase engine as nginx's own
 * access modules give theirs, so that "satisfy any", "error_page" and
 * "auth_delay" apply; a dry run lets every request go on.
 */

static ngx_int_t
ngx_http_ir_request_finish(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    ngx_uint_t                  level;
    ngx_http_ir_verdict_t      *v;
    ngx_http_variable_value_t  *vv;
    ngx_http_ir_main_conf_t    *mcf;
    u_char                      subject[256];

    static ngx_str_t            nobody = ngx_string("");

    v = &ctx->verdict;
    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    if (ctx->record.user.found && ctx->record.user.bad.data == NULL) {
        ctx->org = ctx->record.user.org;
        ctx->unit = ctx->record.user.unit;
    }

    if (ctx->record.org.found && ctx->record.org.bad.data == NULL) {
        ctx->contract = ctx->record.org.contract;
    }

    /*
     * $request_id, for the denial's body and the trail: made with
     * RAND_bytes(), it costs an allowed request that neither needs it
     * some 7,000 instructions.
     */

    if (v->reason != NGX_HTTP_IR_ALLOW || ctx->lcf->audit) {
        vv = ngx_http_get_indexed_variable(r->main, mcf->request_id);

        if (vv && !vv->not_found) {
            ctx->request_id.data = vv->data;
            ctx->request_id.len = vv->len;
        }
    }

    ctx->dry_run = (ctx->lcf->mode == NGX_HTTP_IR_DRY_RUN);

    ngx_http_ir_metric_inc(requests[ctx->dry_run][v->reason]);

    if (v->reason == NGX_HTTP_IR_ALLOW) {
        ctx->decision = ngx_http_ir_allow;
        ctx->rc = ctx->dry_run ? NGX_DECLINED : NGX_OK;
        goto done;
    }

    ctx->decision = ngx_http_ir_deny_word;
    ctx->reason = *ngx_http_ir_reason_name(v->reason);

    /*
     * A client that brings no certificate or no password is the client's
     * doing, at "info", as nginx logs a missing certificate, and so are
     * refusals whose cause is logged once; any other denial at
     * "ir_access_log_level".
     */

    level = ngx_http_ir_reason_level(v->reason);

    if (level != NGX_LOG_INFO) {
        level = ctx->lcf->log_level;
    }

    ngx_log_error(level, r->connection->log, 0,
                  "ir_access: %s user \"%V\" from %V: %V, %s%s%*s%s%s%s%s",
                  ctx->dry_run ? "dry run, would deny" : "denied",
                  ctx->user.data ? &ctx->user : &nobody,
                  &r->connection->addr_text, &ctx->reason,
                  v->detail, v->subject.data ? ": \"" : "",
                  v->subject.data
                  ? ngx_http_ir_escape(subject, subject + sizeof(subject),
                                       &v->subject) - subject
                  : 0, subject,
                  v->subject.data ? "\"" : "",
                  v->hint ? " (" : "", v->hint ? v->hint : "",
                  v->hint ? ")" : "");

    ctx->rc = ctx->dry_run
              ? NGX_DECLINED
              : ngx_http_ir_response_deny(r, &ctx->answer, v,
                                          &ctx->lcf->realm,
                                          &ctx->request_id);

done:

    if (r != r->main) {
        /* a subrequest has no log phase of its own: its entry goes now */

        ngx_http_ir_request_audit(r, ctx,
                                  v->reason == NGX_HTTP_IR_ALLOW
                                  ? NGX_HTTP_OK
                                  : ngx_http_ir_reason_status(v->reason));

        if (ctx->rc == NGX_OK) {
            /* the preaccess phase's other handlers go on */
            ctx->rc = NGX_DECLINED;
        }
    }

    return ctx->rc;
}


/* what a request needs to wait, made when it first does */

static ngx_http_ir_wait_t *
ngx_http_ir_request_wait(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    ngx_http_ir_wait_t  *wait;

    if (ctx->wait) {
        return ctx->wait;
    }

    wait = ngx_pcalloc(r->pool, sizeof(ngx_http_ir_wait_t));
    if (wait == NULL) {
        return NULL;
    }

    wait->waiter.handler = ngx_http_ir_request_looked_up;
    wait->waiter.data = ctx;

    wait->timer.handler = ngx_http_ir_request_timeout;
    wait->timer.data = ctx;
    wait->timer.log = r->connection->log;

    wait->poll.handler = ngx_http_ir_request_poll;
    wait->poll.data = ctx;
    wait->poll.log = r->connection->log;

    wait->resume.handler = ngx_http_ir_request_resume;
    wait->resume.data = ctx;
    wait->resume.log = r->connection->log;

    ctx->wait = wait;

    return wait;
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
        ctx->fetch = NGX_HTTP_IR_FETCH_LANDED;

    } else {
        ctx->fetch = NGX_HTTP_IR_FETCH_FAILED;
    }

    if (ctx->wait->timer.timer_set) {
        ngx_del_timer(&ctx->wait->timer);
    }

    if (ctx->wait->poll.timer_set) {
        ngx_del_timer(&ctx->wait->poll);
    }

    ngx_http_ir_request_wake(ctx);
}


static void
ngx_http_ir_request_reserved(void *data, ngx_uint_t result)
{
    ngx_http_ir_ctx_t *ctx = data;

    ngx_http_ir_request_replied(ctx);

    switch (result) {

    case NGX_HTTP_IR_STORE_OK:
        ctx->reserved = 1;
        break;

    case NGX_HTTP_IR_STORE_LOCKED:
        ctx->facts.login = NGX_HTTP_IR_LOGIN_LOCKED;
        break;

    case NGX_HTTP_IR_STORE_BUSY:
        if (ctx->wait->busy_since == 0) {
            ctx->wait->busy_since = ngx_current_msec;
        }

        ctx->wait->polled = 0;
        break;

    default:
        ctx->facts.login = NGX_HTTP_IR_LOGIN_FAILED;
        break;
    }

    ngx_http_ir_request_wake(ctx);
}


/* the password was compared, here or in a thread */

static void
ngx_http_ir_request_compared(ngx_http_ir_ctx_t *ctx, ngx_uint_t result)
{
    ctx->facts.login = result;

    if (result == NGX_HTTP_IR_LOGIN_WRONG) {
        ctx->count = 1;

    } else if (ctx->remember) {
        ngx_http_ir_password_remember(ctx->mac);
    }
}


static void
ngx_http_ir_request_hashed(void *data, ngx_uint_t result)
{
    ngx_http_ir_ctx_t *ctx = data;

    ngx_http_ir_request_compared(ctx, result);

    ngx_http_ir_request_wake(ctx);
}


static void
ngx_http_ir_request_counted(void *data, ngx_uint_t result)
{
    ngx_http_ir_ctx_t *ctx = data;

    ngx_http_ir_request_replied(ctx);

    ngx_http_ir_request_wake(ctx);
}


/* a login's script answered: the call is over, and so is its timeout */

static void
ngx_http_ir_request_replied(ngx_http_ir_ctx_t *ctx)
{
    ctx->wait->login = NULL;

    if (ctx->wait->timer.timer_set) {
        ngx_del_timer(&ctx->wait->timer);
    }
}


static void
ngx_http_ir_request_timeout(ngx_event_t *ev)
{
    ngx_http_ir_ctx_t *ctx = ev->data;

    ngx_http_request_t       *r;
    ngx_http_ir_main_conf_t  *mcf;

    r = ctx->request;
    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "ir_access: Redis did not answer for user \"%V\" "
                  "within %Mms", &ctx->user, mcf->redis.timeout);

    ngx_http_ir_request_detach(ctx);

    switch (ctx->state) {

    case NGX_HTTP_IR_LOOK_UP:
        ctx->fetch = NGX_HTTP_IR_FETCH_FAILED;
        break;

    case NGX_HTTP_IR_RESERVE_LOGIN:
        ctx->facts.login = NGX_HTTP_IR_LOGIN_FAILED;
        break;

    default: /* NGX_HTTP_IR_SETTLE_LOGIN: the failure may not be counted */
        break;
    }

    ngx_http_ir_redis_check(mcf->source.redis);

    ngx_http_ir_request_wake(ctx);
}


/* another worker's lookup may have landed, or a place may be free */

static void
ngx_http_ir_request_poll(ngx_event_t *ev)
{
    ngx_http_ir_ctx_t *ctx = ev->data;

    ngx_http_ir_lookup_leave(&ctx->wait->waiter);

    ngx_http_ir_request_wake(ctx);
}


/*
 * The one way back from every wait: the phases are run again from the
 * event loop, never from inside whatever ended the wait.
 */

static void
ngx_http_ir_request_wake(ngx_http_ir_ctx_t *ctx)
{
    if (!ctx->wait->resume.posted) {
        ngx_post_event(&ctx->wait->resume, &ngx_posted_events);
    }
}


static void
ngx_http_ir_request_resume(ngx_event_t *ev)
{
    ngx_http_ir_ctx_t *ctx = ev->data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;

    ctx->waiting = 0;

    ngx_http_set_log_request(c->log, r);

    r->write_event_handler(r);
    ngx_http_run_posted_requests(c);
}


/* whatever the request waits on forgets it */

static void
ngx_http_ir_request_detach(ngx_http_ir_ctx_t *ctx)
{
    ngx_http_ir_wait_t  *wait;

    wait = ctx->wait;

    ngx_http_ir_lookup_leave(&wait->waiter);

    if (wait->login) {
        wait->login->data = NULL;
        wait->login = NULL;
    }

    if (wait->poll.timer_set) {
        ngx_del_timer(&wait->poll);
    }
}


static void
ngx_http_ir_request_cleanup(void *data)
{
    ngx_http_ir_ctx_t *ctx = data;

    ngx_http_request_t       *r;
    ngx_http_ir_main_conf_t  *mcf;

    r = ctx->request;

    /* an attempt that was reserved but never compared frees its place */

    if (ctx->reserved) {
        mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

        ngx_http_ir_lockout_pass(mcf->source.redis, &mcf->prefix, &ctx->user,
                                 1, 0, ngx_cycle->log);
    }

    if (ctx->wait == NULL) {
        return;
    }

    ngx_http_ir_request_detach(ctx);

    if (ctx->wait->timer.timer_set) {
        ngx_del_timer(&ctx->wait->timer);
    }

    if (ctx->wait->resume.posted) {
        ngx_delete_posted_event(&ctx->wait->resume);
    }
}


/* logins count towards the lockout where it is on, and not in dry run */

static ngx_uint_t
ngx_http_ir_request_counts(ngx_http_ir_ctx_t *ctx)
{
    return ctx->lcf->lockout.limit && ctx->lcf->mode == NGX_HTTP_IR_ENFORCE;
}


/*
 * The module changed the user's failure count (or status) in Redis: the
 * cached record is dropped, so that the next request reads what it wrote.
 */

static void
ngx_http_ir_request_forget(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx)
{
    ngx_http_ir_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    if (mcf->cache) {
        ngx_http_ir_cache_drop_user(mcf->cache, &ctx->user);
    }
}


/*
 * The log phase: the decision goes into the audit trail with the final
 * status, an allowed user's "seen" is written, and a backend that
 * authenticates by itself has its refusals counted as failed logins.
 */

void
ngx_http_ir_request_log(ngx_http_request_t *r)
{
    ngx_str_t                 cause;
    ngx_uint_t                status, *counted, i;
    ngx_http_ir_ctx_t        *ctx;
    ngx_http_ir_seen_t        seen;
    ngx_http_ir_main_conf_t  *mcf;

    ctx = ngx_http_ir_request_ctx(r);

    if (ctx == NULL || ctx->state != NGX_HTTP_IR_DECIDED) {
        return;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_ir_access_module);

    if (ctx->verdict.reason == NGX_HTTP_IR_ALLOW && mcf->source.redis) {
        seen.user = ctx->user;
        seen.ip = r->connection->addr_text;
        seen.not_after = ctx->cert_not_after;
        seen.fingerprint = ctx->cert_sha256;
        seen.written = ctx->seen;

        ngx_http_ir_seen(mcf->source.redis, &mcf->prefix, mcf->cache, &seen);
    }

    status = r->err_status ? r->err_status : r->headers_out.status;

    if (ctx->verdict.reason == NGX_HTTP_IR_ALLOW
        && ctx->lcf->lockout_status
        && ngx_http_ir_request_counts(ctx))
    {
        counted = ctx->lcf->lockout_status->elts;

        for (i = 0; i < ctx->lcf->lockout_status->nelts; i++) {
            if (counted[i] != status) {
                continue;
            }

            ngx_str_set(&cause, "backend refused");

            if (ngx_http_ir_lockout_fail(mcf->source.redis, &mcf->prefix,
                                         &ctx->user, &ctx->lcf->lockout, 0,
                                         &cause, mcf->audit, NULL, NULL,
                                         r->connection->log)
                == NULL)
            {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "ir_access: a failed login of user \"%V\" "
                              "was not counted: Redis is unavailable",
                              &ctx->user);
            }

            ngx_http_ir_request_forget(r, ctx);
            break;
        }
    }

    ngx_http_ir_request_audit(r, ctx, status);
}


/* the decision's entry in the trail, once */

static void
ngx_http_ir_request_audit(ngx_http_request_t *r, ngx_http_ir_ctx_t *ctx,
    ngx_uint_t status)
{
    u_char                        *p;
    ngx_str_t                     *scope, subject;
    ngx_uint_t                     i;
    ngx_http_ir_audit_conf_t      *acf;
    ngx_http_core_srv_conf_t      *cscf;
    ngx_http_ir_trail_decision_t   d;

    acf = ctx->lcf->audit;

    if (acf == NULL || ctx->audited) {
        return;
    }

    ctx->audited = 1;

    cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);

    ngx_memzero(&d, sizeof(ngx_http_ir_trail_decision_t));

    d.sec = r->start_sec;
    d.msec = r->start_msec;
    d.request_id = ctx->request_id;
    d.mode = ngx_http_ir_modes[ctx->dry_run];
    d.server = cscf->server_name;
    d.user = ctx->user;
    d.org = ctx->org;
    d.unit = ctx->unit;
    d.contract = ctx->contract;
    d.env = ctx->lcf->policy.env;
    d.ip = r->connection->addr_text;
    d.country = ctx->country;
    d.cert = ctx->cert_sha256;
    d.method = r->method_name;
    d.uri = r->unparsed_uri;
    d.purpose = ctx->purpose;
    d.case_ref = ctx->case_ref;
    d.decision = ctx->decision;
    d.reason = ctx->reason;
    d.status = status;

    /* a subrequest's own URI: unparsed_uri is its main request's */

    if (r != r->main) {
        d.uri = r->uri;

        if (r->args.len) {
            p = ngx_pnalloc(r->pool, r->uri.len + 1 + r->args.len);
            if (p == NULL) {
                return;
            }

            d.uri.data = p;
            p = ngx_cpymem(p, r->uri.data, r->uri.len);
            *p++ = '?';
            p = ngx_cpymem(p, r->args.data, r->args.len);
            d.uri.len = p - d.uri.data;
        }
    }

    /* the data subject, escaped and bounded: it may come from the URI */

    if (acf->subject) {
        if (ngx_http_complex_value(r, acf->subject, &subject) != NGX_OK) {
            return;
        }

        d.subject = subject;

        if (subject.len > NGX_HTTP_IR_SUBJECT_MAX
            || ngx_http_ir_value_valid(&subject) != NGX_OK)
        {
            ngx_http_ir_request_cut(r, &d.subject, NGX_HTTP_IR_SUBJECT_MAX);
        }
    }

    /* the scopes the place asked for */

    if (ctx->lcf->policy.scopes) {
        scope = ctx->lcf->policy.scopes->elts;

        for (i = 0; i < ctx->lcf->policy.scopes->nelts; i++) {
            d.scope.len += scope[i].len + 1;
        }

        p = ngx_pnalloc(r->pool, d.scope.len);
        if (p == NULL) {
            return;
        }

        d.scope.data = p;

        for (i = 0; i < ctx->lcf->policy.scopes->nelts; i++) {
            if (i) {
                *p++ = ' ';
            }

            p = ngx_cpymem(p, scope[i].data, scope[i].len);
        }

        d.scope.len = p - d.scope.data;
    }

    ngx_http_ir_audit_decision(acf, &d);
}


/* contract dates are calendar days in "ir_access_timezone", once a second */

static ngx_uint_t
ngx_http_ir_request_today(ngx_http_ir_zone_t *zone)
{
    static time_t      last;
    static ngx_uint_t  today;

    if (ngx_time() != last) {
        last = ngx_time();
        today = ngx_http_ir_zone_today(zone, last, NULL);
    }

    return today;
}
