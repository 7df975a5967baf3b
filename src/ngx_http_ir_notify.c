
/*
 * ir-access: Redis keyspace notifications that drop cached records.
 *
 * One worker of each nginx host subscribes to the notifications for the
 * key prefix: an admin's HSET, SADD, SREM or DEL on a user's or an
 * organisation's keys drops the cached records concerned, for all the
 * host's workers at once, since the cache is shared.  After a lost
 * subscription every cached record stops being fresh, as edits may have
 * been missed meanwhile.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_ir_cache.h"
#include "ngx_http_ir_notify.h"


#define NGX_HTTP_IR_NOTIFY_RETRY  1000


typedef struct {
    ngx_http_ir_main_conf_t       *mcf;
    ngx_http_ir_redis_t           *redis;
    ngx_event_t                    retry;
    ngx_str_t                      pattern;
    ngx_str_t                      channel;       /* "__keyspace@N__:" */
    unsigned                       subscribed:1;
    unsigned                       missed:1;
} ngx_http_ir_notify_t;


static void ngx_http_ir_notify_subscribe(ngx_http_ir_notify_t *nt);
static void ngx_http_ir_notify_retry(ngx_event_t *ev);
static void ngx_http_ir_notify_config(void *data, redisReply *reply);
static void ngx_http_ir_notify_message(void *data, redisReply *reply);
static ngx_int_t ngx_http_ir_notify_key(ngx_http_ir_notify_t *nt,
    ngx_str_t *key);
static void ngx_http_ir_notify_audit(ngx_http_ir_notify_t *nt, ngx_str_t *key,
    redisReply *op);


static ngx_http_ir_notify_t  *ngx_http_ir_notify;


ngx_int_t
ngx_http_ir_notify_start(ngx_http_ir_main_conf_t *mcf, ngx_cycle_t *cycle)
{
    u_char                *p, *q, *last;
    ngx_http_ir_notify_t  *nt;

    nt = ngx_pcalloc(cycle->pool, sizeof(ngx_http_ir_notify_t));
    if (nt == NULL) {
        return NGX_ERROR;
    }

    nt->mcf = mcf;

    nt->redis = ngx_http_ir_redis_create(&mcf->redis, cycle->log);
    if (nt->redis == NULL) {
        return NGX_ERROR;
    }

    nt->channel.data = ngx_pnalloc(cycle->pool, sizeof("__keyspace@__:")
                                                + NGX_INT_T_LEN);
    if (nt->channel.data == NULL) {
        return NGX_ERROR;
    }

    nt->channel.len = ngx_sprintf(nt->channel.data, "__keyspace@%i__:",
                                  mcf->redis.db)
                      - nt->channel.data;

    /* the prefix, with the glob's special characters escaped, then "*" */

    nt->pattern.data = ngx_pnalloc(cycle->pool, nt->channel.len
                                                + mcf->prefix.len * 2 + 1);
    if (nt->pattern.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(nt->pattern.data, nt->channel.data, nt->channel.len);
    last = mcf->prefix.data + mcf->prefix.len;

    for (q = mcf->prefix.data; q < last; q++) {
        if (*q == '*' || *q == '?' || *q == '[' || *q == ']' || *q == '\\') {
            *p++ = '\\';
        }

        *p++ = *q;
    }

    *p++ = '*';
    nt->pattern.len = p - nt->pattern.data;

    nt->retry.handler = ngx_http_ir_notify_retry;
    nt->retry.data = nt;
    nt->retry.log = cycle->log;
    nt->retry.cancelable = 1;

    ngx_http_ir_notify = nt;

    ngx_http_ir_notify_subscribe(nt);

    return NGX_OK;
}


void
ngx_http_ir_notify_stop(void)
{
    ngx_http_ir_notify_t  *nt;

    nt = ngx_http_ir_notify;

    if (nt == NULL) {
        return;
    }

    ngx_http_ir_notify = NULL;

    if (nt->retry.timer_set) {
        ngx_del_timer(&nt->retry);
    }

    /* the subscription's last call, with NULL, must find nobody */
    nt->subscribed = 0;
    ngx_http_ir_redis_destroy(nt->redis);
}


static void
ngx_http_ir_notify_subscribe(ngx_http_ir_notify_t *nt)
{
    size_t       len[3];
    const char  *argv[3];

    argv[0] = "CONFIG";
    len[0] = 6;
    argv[1] = "GET";
    len[1] = 3;
    argv[2] = "notify-keyspace-events";
    len[2] = sizeof("notify-keyspace-events") - 1;

    if (ngx_http_ir_redis_command(nt->redis, ngx_http_ir_notify_config, nt,
                                  3, argv, len)
        == NULL)
    {
        /*
         * Records cached until the subscription is up may miss an edit
         * (with Sentinel, lookups can start before the master is known
         * to this connection): they are dropped once it is.
         */
        nt->missed = 1;
        ngx_add_timer(&nt->retry, NGX_HTTP_IR_NOTIFY_RETRY);
        return;
    }

    argv[0] = "PSUBSCRIBE";
    len[0] = 10;
    argv[1] = (const char *) nt->pattern.data;
    len[1] = nt->pattern.len;

    if (ngx_http_ir_redis_subscribe(nt->redis, ngx_http_ir_notify_message,
                                    nt, 2, argv, len)
        != NGX_OK)
    {
        nt->missed = 1;
        ngx_add_timer(&nt->retry, NGX_HTTP_IR_NOTIFY_RETRY);
        return;
    }

    nt->subscribed = 1;
}


static void
ngx_http_ir_notify_retry(ngx_event_t *ev)
{
    ngx_http_ir_notify_subscribe(ev->data);
}


/* the notifications Redis sends must include the ones the cache needs */

static void
ngx_http_ir_notify_config(void *data, redisReply *reply)
{
    ngx_http_ir_notify_t *nt = data;

    u_char      *flags;
    size_t       len;
    ngx_uint_t   all;

    if (reply == NULL) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[1]->type != REDIS_REPLY_STRING)
    {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "ir_access: could not read Redis's "
                      "notify-keyspace-events (%s); it must include \"K\" "
                      "and \"A\" for \"ir_access_redis_notify\"",
                      reply->type == REDIS_REPLY_ERROR ? reply->str
                                                       : "no value");
        return;
    }

    flags = (u_char *) reply->element[1]->str;
    len = reply->element[1]->len;

    all = (ngx_strlchr(flags, flags + len, 'A') != NULL);

    if (ngx_strlchr(flags, flags + len, 'K')
        && (all
            || (ngx_strlchr(flags, flags + len, 'g')
                && ngx_strlchr(flags, flags + len, 'h')
                && ngx_strlchr(flags, flags + len, 's')
                && ngx_strlchr(flags, flags + len, '$')
                && ngx_strlchr(flags, flags + len, 'x'))))
    {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "ir_access: following Redis keyspace notifications "
                      "for \"%V\"", &nt->mcf->prefix);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "ir_access: Redis's notify-keyspace-events is \"%*s\", "
                  "which does not tell of admins' edits; they reach the "
                  "cache only when its ttl runs out.  Enable them with: "
                  "redis-cli CONFIG SET notify-keyspace-events KA",
                  len, flags);
}


static void
ngx_http_ir_notify_message(void *data, redisReply *reply)
{
    ngx_http_ir_notify_t *nt = data;

    ngx_str_t    key;
    redisReply  *channel;

    if (!nt->subscribed) {
        return;
    }

    if (reply == NULL) {
        /* the connection is gone: subscribe again, edits may be missed */
        nt->subscribed = 0;
        nt->missed = 1;

        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "ir_access: lost the Redis notification subscription; "
                      "cached records are refetched until it is back");

        ngx_http_ir_cache_drop_all(nt->mcf->cache);

        if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
            ngx_add_timer(&nt->retry, NGX_HTTP_IR_NOTIFY_RETRY);
        }

        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3
        || reply->element[0]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    if (reply->element[0]->len == 10
        && ngx_strncmp(reply->element[0]->str, "psubscribe", 10) == 0)
    {
        if (nt->missed) {
            /* edits made while the subscription was down are unknown */
            nt->missed = 0;
            ngx_http_ir_cache_drop_all(nt->mcf->cache);

            ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                          "ir_access: Redis notification subscription is "
                          "up; records cached while it was not are "
                          "fetched again");
        }

        return;
    }

    if (reply->elements != 4
        || reply->element[2]->type != REDIS_REPLY_STRING)
    {
        return;
    }

    channel = reply->element[2];

    if (channel->len <= nt->channel.len) {
        return;
    }

    key.data = (u_char *) channel->str + nt->channel.len;
    key.len = channel->len - nt->channel.len;

    if (ngx_http_ir_notify_key(nt, &key) == NGX_OK
        && nt->mcf->audit
        && reply->element[3]->type == REDIS_REPLY_STRING)
    {
        ngx_http_ir_notify_audit(nt, &key, reply->element[3]);
    }
}


/*
 * An edit of a user's or an organisation's keys goes into the trail as
 * what changed and when; Redis does not tell who.  The module's own
 * failure counters are left out.
 */

static void
ngx_http_ir_notify_audit(ngx_http_ir_notify_t *nt, ngx_str_t *key,
    redisReply *op)
{
    ngx_time_t    *tp;
    ngx_keyval_t   f[4];
    u_char         time[NGX_HTTP_IR_AUDIT_TIME_LEN];

    if (key->len > 6 && ngx_strncmp(key->data + key->len - 6, ":fails", 6)
                        == 0)
    {
        return;
    }

    tp = ngx_timeofday();

    ngx_str_set(&f[0].key, "time");
    ngx_http_ir_audit_time(tp->sec, tp->msec, time, &f[0].value);
    ngx_str_set(&f[1].key, "event");
    ngx_str_set(&f[1].value, "admin_change");
    ngx_str_set(&f[2].key, "key");
    f[2].value = *key;
    ngx_str_set(&f[3].key, "op");
    f[3].value.data = (u_char *) op->str;
    f[3].value.len = op->len;

    ngx_http_ir_audit_write(nt->mcf->audit, f, 4);
}


/*
 * "<prefix>user:<name>", "...:ips" and "...:fails" concern one user;
 * "<prefix>org:<org>" and "...:scopes" every user of the organisation.
 */

static ngx_int_t
ngx_http_ir_notify_key(ngx_http_ir_notify_t *nt, ngx_str_t *key)
{
    u_char     *p, *last;
    ngx_str_t   name, *prefix;

    prefix = &nt->mcf->prefix;

    if (key->len <= prefix->len
        || ngx_strncmp(key->data, prefix->data, prefix->len) != 0)
    {
        return NGX_DECLINED;
    }

    p = key->data + prefix->len;
    last = key->data + key->len;

    if (last - p > 5 && ngx_strncmp(p, "user:", 5) == 0) {
        name.data = p + 5;
        name.len = 0;

        while (name.data + name.len < last && name.data[name.len] != ':') {
            name.len++;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "ir_access: notified of user \"%V\"", &name);

        ngx_http_ir_cache_drop_user(nt->mcf->cache, &name);
        return NGX_OK;
    }

    if (last - p > 4 && ngx_strncmp(p, "org:", 4) == 0) {
        name.data = p + 4;
        name.len = last - name.data;

        if (name.len > 7
            && ngx_strncmp(last - 7, ":scopes", 7) == 0)
        {
            name.len -= 7;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "ir_access: notified of organisation \"%V\"", &name);

        ngx_http_ir_cache_drop_org(nt->mcf->cache, &name);
        return NGX_OK;
    }

    /* the audit stream itself, and whatever else shares the prefix */

    return NGX_DECLINED;
}
