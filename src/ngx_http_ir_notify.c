
/*
 * ir-access: Redis keyspace notifications that drop cached records.
 *
 * One worker of each nginx host subscribes to the notifications for the
 * key prefix: an admin's HSET, SADD, SREM or DEL on a user's or an
 * organisation's keys drops the cached records concerned, for all the
 * host's workers at once, since the cache is shared; an edit of the
 * maintenance hash is read again at once.  After a lost subscription
 * every cached record stops being fresh, as edits may have been missed
 * meanwhile.
 *
 * Only the records' keys, the maintenance's and the audit stream's are
 * followed, not the whole prefix: the request counters change with every
 * batch.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_ir_maintenance.h"
#include "ngx_http_ir_metrics.h"
#include "ngx_http_ir_notify.h"
#include "ngx_http_ir_schema.h"
#include "ngx_http_ir_store.h"
#include "ngx_http_ir_timer.h"


/* how soon a lost subscription is tried again, ms */
#define NGX_HTTP_IR_NOTIFY_RETRY       1000

/* how much of a record's content an edit's entry shows, per field */
#define NGX_HTTP_IR_NOTIFY_SHOWN       8192

/*
 * How long a host whose cache did not hold the record lets the others
 * mark an edit first, ms: the entry then shows what was there before.
 */
#define NGX_HTTP_IR_NOTIFY_DEFER       200


typedef struct {
    ngx_str_t                     *prefix;
    ngx_http_ir_cache_t           *cache;
    ngx_http_ir_audit_conf_t      *audit;
    ngx_http_ir_redis_t           *redis;         /* subscribed */
    ngx_http_ir_redis_t           *commands;      /* the worker's own */
    ngx_event_t                    retry;
    ngx_str_t                      patterns[4];
    ngx_uint_t                     npatterns;
    ngx_str_t                      channel;       /* "__keyspace@N__:" */
    ngx_queue_t                    deferred;      /* edits not yet marked */
    unsigned                       subscribed:1;
    unsigned                       missed:1;
} ngx_http_ir_notify_t;


static void ngx_http_ir_notify_subscribe(ngx_http_ir_notify_t *nt);
static void ngx_http_ir_notify_retry(ngx_event_t *ev);
static void ngx_http_ir_notify_config(void *data, redisReply *reply);
static void ngx_http_ir_notify_message(void *data, redisReply *reply);
static void ngx_http_ir_notify_edit(ngx_http_ir_notify_t *nt,
    ngx_http_ir_key_e kind, ngx_str_t *key, ngx_str_t *op,
    ngx_str_t *name);
static ngx_uint_t ngx_http_ir_notify_read(ngx_str_t *item);
static ngx_array_t *ngx_http_ir_notify_before(ngx_http_ir_notify_t *nt,
    ngx_http_ir_key_e kind, ngx_str_t *name, ngx_pool_t *pool);
static void ngx_http_ir_notify_mark(ngx_event_t *ev);
static void ngx_http_ir_notify_edited(void *data, redisReply *reply);
static ngx_array_t *ngx_http_ir_notify_after(ngx_str_t *type,
    redisReply *content, ngx_pool_t *pool);
static ngx_int_t ngx_http_ir_notify_item(ngx_array_t *items, ngx_str_t *name,
    ngx_str_t *value, ngx_pool_t *pool);
static ngx_int_t ngx_http_ir_notify_json(ngx_array_t *items,
    ngx_uint_t hash, ngx_str_t *json, ngx_pool_t *pool);
static ngx_int_t ngx_http_ir_notify_diff(ngx_array_t *a, ngx_array_t *b,
    ngx_uint_t hash, ngx_array_t **only);


/* an edit on its way into the trail */

typedef struct {
    ngx_http_ir_notify_t          *nt;
    ngx_pool_t                    *pool;
    ngx_http_ir_key_e              kind;
    ngx_str_t                      key;
    ngx_str_t                      op;
    ngx_array_t                   *before;        /* NULL: not known */
    ngx_event_t                    defer;
    ngx_queue_t                    queue;
} ngx_http_ir_notify_edit_t;


static ngx_http_ir_notify_t  *ngx_http_ir_notify;


/* what is followed, after the prefix */

static ngx_str_t  ngx_http_ir_notify_keys[] = {
    ngx_string(NGX_HTTP_IR_KEY_USER "*"),
    ngx_string(NGX_HTTP_IR_KEY_ORG "*"),
    ngx_string(NGX_HTTP_IR_KEY_MAINTENANCE)
};


ngx_int_t
ngx_http_ir_notify_start(ngx_http_ir_redis_conf_t *rcf, ngx_str_t *prefix,
    ngx_http_ir_cache_t *cache, ngx_http_ir_audit_conf_t *acf,
    ngx_http_ir_redis_t *commands, ngx_cycle_t *cycle)
{
    u_char                *p;
    ngx_uint_t             i;
    ngx_http_ir_notify_t  *nt;

    nt = ngx_pcalloc(cycle->pool, sizeof(ngx_http_ir_notify_t));
    if (nt == NULL) {
        return NGX_ERROR;
    }

    nt->prefix = prefix;
    nt->cache = cache;
    nt->audit = acf;
    nt->commands = commands;

    ngx_queue_init(&nt->deferred);

    nt->redis = ngx_http_ir_redis_create(rcf, cycle->log);
    if (nt->redis == NULL) {
        return NGX_ERROR;
    }

    nt->channel.data = ngx_pnalloc(cycle->pool, sizeof("__keyspace@__:")
                                                + NGX_INT_T_LEN);
    if (nt->channel.data == NULL) {
        return NGX_ERROR;
    }

    nt->channel.len = ngx_sprintf(nt->channel.data, "__keyspace@%i__:",
                                  rcf->db)
                      - nt->channel.data;

    /*
     * The records' keys and the maintenance's, with the glob's special
     * characters of the prefix escaped; and the audit stream's, whose
     * deletions are traced.
     */

    for (i = 0; i < 3; i++) {
        nt->patterns[i].data = ngx_pnalloc(cycle->pool,
                                           nt->channel.len + prefix->len * 2
                                           + ngx_http_ir_notify_keys[i].len);
        if (nt->patterns[i].data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(nt->patterns[i].data, nt->channel.data,
                       nt->channel.len);
        p = ngx_http_ir_key_pattern(p, prefix,
                                    (char *) ngx_http_ir_notify_keys[i].data);
        nt->patterns[i].len = p - nt->patterns[i].data;
    }

    nt->npatterns = 3;

    if (acf) {
        nt->patterns[3].data = ngx_pnalloc(cycle->pool, nt->channel.len
                                                        + acf->stream.len * 2);
        if (nt->patterns[3].data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(nt->patterns[3].data, nt->channel.data,
                       nt->channel.len);
        p = ngx_http_ir_key_pattern(p, &acf->stream, "");
        nt->patterns[3].len = p - nt->patterns[3].data;

        nt->npatterns = 4;
    }

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
    ngx_queue_t                *q;
    ngx_http_ir_notify_t       *nt;
    ngx_http_ir_notify_edit_t  *edit;

    nt = ngx_http_ir_notify;

    if (nt == NULL) {
        return;
    }

    ngx_http_ir_notify = NULL;

    ngx_http_ir_metric_set(notify_up, 0);

    if (nt->retry.timer_set) {
        ngx_del_timer(&nt->retry);
    }

    /* edits still waiting for another host to mark them are let go */

    while (!ngx_queue_empty(&nt->deferred)) {
        q = ngx_queue_head(&nt->deferred);
        ngx_queue_remove(q);

        edit = ngx_queue_data(q, ngx_http_ir_notify_edit_t, queue);

        if (edit->defer.timer_set) {
            ngx_del_timer(&edit->defer);
        }

        ngx_destroy_pool(edit->pool);
    }

    /* the subscription's last call, with NULL, must find nobody */
    nt->subscribed = 0;
    ngx_http_ir_redis_destroy(nt->redis);
}


static void
ngx_http_ir_notify_subscribe(ngx_http_ir_notify_t *nt)
{
    size_t       len[5];
    ngx_uint_t   i;
    const char  *argv[5];

    if (ngx_http_ir_redis_command(nt->redis, ngx_http_ir_notify_config, nt,
                                  "CONFIG GET notify-keyspace-events")
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

    for (i = 0; i < nt->npatterns; i++) {
        argv[i + 1] = (const char *) nt->patterns[i].data;
        len[i + 1] = nt->patterns[i].len;
    }

    if (ngx_http_ir_redis_subscribe(nt->redis, ngx_http_ir_notify_message,
                                    nt, nt->npatterns + 1, argv, len)
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
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
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
                      "for \"%V\"", nt->prefix);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
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

    ngx_int_t          rc;
    ngx_str_t          key, op, name;
    ngx_http_ir_key_e  kind;

    if (!nt->subscribed) {
        return;
    }

    if (reply == NULL) {
        /* the connection is gone: subscribe again, edits may be missed */
        nt->subscribed = 0;
        nt->missed = 1;

        ngx_http_ir_metric_set(notify_up, 0);

        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "ir_access: lost the Redis notification subscription; "
                      "cached records are refetched until it is back");

        ngx_http_ir_cache_drop_all(nt->cache);

        if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
            ngx_add_timer(&nt->retry, NGX_HTTP_IR_NOTIFY_RETRY);
        }

        return;
    }

    rc = ngx_http_ir_store_notification(reply, &nt->channel, &key, &op);

    if (rc == NGX_DONE) {
        ngx_http_ir_metric_set(notify_up, 1);

        if (nt->missed) {
            /* edits made while the subscription was down are unknown */
            nt->missed = 0;
            ngx_http_ir_cache_drop_all(nt->cache);
            ngx_http_ir_maintenance_notified(NULL);

            ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                          "ir_access: Redis notification subscription is "
                          "up; records cached while it was not are "
                          "fetched again");
        }

        return;
    }

    if (rc != NGX_OK) {
        return;
    }

    /*
     * A user's hash, allowlist or failure counter concern one user; an
     * organisation's hash or scopes every user of it.  The attempts in
     * flight are no part of a record.
     */

    kind = ngx_http_ir_key_parse(nt->prefix, &key, &name);

    if (kind == NGX_HTTP_IR_KEY_OTHER) {

        /* the trail itself: a deletion leaves a trace in it */

        if (nt->audit
            && key.len == nt->audit->stream.len
            && ngx_strncmp(key.data, nt->audit->stream.data, key.len) == 0
            && ((op.len == 4 && ngx_strncmp(op.data, "xdel", 4) == 0)
                || (op.len == 3 && ngx_strncmp(op.data, "del", 3) == 0)))
        {
            ngx_http_ir_notify_edit(nt, kind, &key, &op, &name);
        }

        return;
    }

    /*
     * No part of a record: the attempts in flight, the organisations'
     * user sets that ir-access keeps, and what the gateway last saw.
     */

    if (kind == NGX_HTTP_IR_KEY_USER_TRIES
        || kind == NGX_HTTP_IR_KEY_ORG_USERS
        || kind == NGX_HTTP_IR_KEY_SEEN_HASH)
    {
        return;
    }

    /*
     * An edit of a user's hash, allowlist or failure counter concerns
     * one user, of an organisation's hash, scopes or purposes every user
     * of it: their cached records are dropped, after what they held is
     * kept for the trail.
     */

    if (nt->audit && kind != NGX_HTTP_IR_KEY_USER_FAILS) {
        ngx_http_ir_notify_edit(nt, kind, &key, &op, &name);
    }

    switch (kind) {

    case NGX_HTTP_IR_KEY_USER_HASH:
    case NGX_HTTP_IR_KEY_USER_IPS:
    case NGX_HTTP_IR_KEY_USER_FAILS:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "ir_access: notified of user \"%V\"", &name);

        ngx_http_ir_cache_drop_user(nt->cache, &name);
        break;

    case NGX_HTTP_IR_KEY_MAINTENANCE_HASH:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "ir_access: notified of the maintenance: %V", &op);

        ngx_http_ir_maintenance_notified(&op);
        break;

    default:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "ir_access: notified of organisation \"%V\"", &name);

        ngx_http_ir_cache_drop_org(nt->cache, &name);
        break;
    }
}


/*
 * An edit goes into the trail once across all hosts, with the key, the
 * operation, the content after it and, where this host's cache had it,
 * the content before, and what was added, removed or changed.  Redis
 * does not tell who made it.
 */

static void
ngx_http_ir_notify_edit(ngx_http_ir_notify_t *nt, ngx_http_ir_key_e kind,
    ngx_str_t *key, ngx_str_t *op, ngx_str_t *name)
{
    ngx_pool_t                 *pool;
    ngx_http_ir_notify_edit_t  *edit;

    if (nt->commands == NULL || key->len > NGX_HTTP_IR_KEY_MAX
        || op->len > NGX_HTTP_IR_ARG_MAX)
    {
        return;
    }

    pool = ngx_create_pool(4096, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    edit = ngx_pcalloc(pool, sizeof(ngx_http_ir_notify_edit_t));
    if (edit == NULL) {
        goto failed;
    }

    edit->nt = nt;
    edit->pool = pool;
    edit->kind = kind;

    edit->key.len = key->len;
    edit->key.data = ngx_pstrdup(pool, key);
    edit->op.len = op->len;
    edit->op.data = ngx_pstrdup(pool, op);

    if (edit->key.data == NULL || edit->op.data == NULL) {
        goto failed;
    }

    edit->before = ngx_http_ir_notify_before(nt, kind, name, pool);

    ngx_http_ir_timer_init(&edit->defer, ngx_http_ir_notify_mark, 1,
                           ngx_cycle->log);

    ngx_queue_insert_tail(&nt->deferred, &edit->queue);

    if (edit->before == NULL && kind != NGX_HTTP_IR_KEY_OTHER) {
        ngx_add_timer(&edit->defer, NGX_HTTP_IR_NOTIFY_DEFER);
        return;
    }

    ngx_http_ir_notify_mark(&edit->defer);

    return;

failed:

    ngx_destroy_pool(pool);
}


static void
ngx_http_ir_notify_mark(ngx_event_t *ev)
{
    ngx_http_ir_args_t          args;
    ngx_http_ir_notify_edit_t  *edit;

    edit = ngx_queue_data(ev, ngx_http_ir_notify_edit_t, defer);

    ngx_queue_remove(&edit->queue);

    ngx_http_ir_store_edit(&args, edit->nt->prefix, &edit->key, &edit->op);

    if (ngx_http_ir_redis_eval(edit->nt->commands, &ngx_http_ir_script_edit,
                               &args, ngx_http_ir_notify_edited, edit)
        != NULL)
    {
        return;
    }

    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "ir_access: the edit of \"%V\" (%V) was not written into "
                  "the trail: Redis is unavailable", &edit->key, &edit->op);

    ngx_destroy_pool(edit->pool);
}


/* what this host's cache held for a user, as the edit's "before" */

static ngx_array_t *
ngx_http_ir_notify_before(ngx_http_ir_notify_t *nt, ngx_http_ir_key_e kind,
    ngx_str_t *name, ngx_pool_t *pool)
{
    u_char                *p;
    ngx_str_t             *s, field, value;
    ngx_uint_t             i, bits;
    ngx_msec_t             age;
    ngx_cidr_t            *cidr;
    ngx_array_t           *items;
    ngx_http_ir_field_t   *known;
    ngx_http_ir_record_t   rec;
    u_char                 text[NGX_SOCKADDR_STRLEN + 5];

    if ((kind != NGX_HTTP_IR_KEY_USER_HASH && kind != NGX_HTTP_IR_KEY_USER_IPS)
        || nt->cache == NULL
        || ngx_http_ir_cache_get_stale(nt->cache, name, &rec, &age, pool)
           != NGX_OK
        || !rec.user.found || rec.user.bad.data)
    {
        return NULL;
    }

    items = ngx_array_create(pool, 8, sizeof(ngx_str_t));
    if (items == NULL) {
        return NULL;
    }

    if (kind == NGX_HTTP_IR_KEY_USER_HASH) {
        for (known = ngx_http_ir_user_fields; known->name.len; known++) {
            if (known->offset == NGX_HTTP_IR_FIELD_UNREAD) {
                continue;
            }

            s = (ngx_str_t *) ((u_char *) &rec.user + known->offset);

            if (s->data == NULL) {
                continue;
            }

            field = known->name;
            value = *s;

            if (ngx_http_ir_notify_item(items, &field, &value, pool)
                != NGX_OK)
            {
                return NULL;
            }
        }

        return items;
    }

    cidr = rec.user.ips.elts;

    for (i = 0; i < rec.user.ips.nelts; i++) {

        if (cidr[i].family == AF_INET) {
            p = text + ngx_inet_ntop(AF_INET, &cidr[i].u.in.addr, text,
                                     NGX_SOCKADDR_STRLEN);
            bits = 0;
            while (bits < 32 && (ntohl(cidr[i].u.in.mask) << bits)
                                & 0x80000000)
            {
                bits++;
            }

            if (bits != 32 || cidr[i].u.in.addr == 0) {
                p = ngx_sprintf(p, "/%ui", bits);
            }

#if (NGX_HAVE_INET6)
        } else if (cidr[i].family == AF_INET6) {
            p = text + ngx_inet_ntop(AF_INET6, &cidr[i].u.in6.addr, text,
                                     NGX_SOCKADDR_STRLEN);
            bits = 0;
            while (bits < 128
                   && (cidr[i].u.in6.mask.s6_addr[bits / 8]
                       & (0x80 >> (bits % 8))))
            {
                bits++;
            }

            if (bits != 128) {
                p = ngx_sprintf(p, "/%ui", bits);
            }
#endif

        } else {
            continue;
        }

        value.data = text;
        value.len = p - text;

        if (ngx_http_ir_notify_item(items, NULL, &value, pool) != NGX_OK) {
            return NULL;
        }
    }

    return items;
}


static void
ngx_http_ir_notify_edited(void *data, redisReply *reply)
{
    ngx_http_ir_notify_edit_t *edit = data;

    ngx_str_t      type, json;
    ngx_uint_t     n, hash;
    redisReply    *content;
    ngx_keyval_t   f[8];
    ngx_array_t   *after, *only;

    if (reply == NULL
        || ngx_http_ir_store_edit_reply(reply, &type, &content) != NGX_OK)
    {
        goto done;
    }

    n = 0;

    ngx_str_set(&f[n].key, "key");
    f[n++].value = edit->key;
    ngx_str_set(&f[n].key, "op");
    f[n++].value = edit->op;

    if (edit->kind == NGX_HTTP_IR_KEY_OTHER) {
        /* the trail's own stream */
        ngx_http_ir_audit_event(edit->nt->audit, "audit_deleted", f, n);
        goto done;
    }

    hash = (type.len == 4 && ngx_strncmp(type.data, "hash", 4) == 0);

    ngx_str_set(&f[n].key, "type");
    f[n++].value = type;

    after = ngx_http_ir_notify_after(&type, content, edit->pool);
    if (after == NULL
        || ngx_http_ir_notify_json(after, hash, &json, edit->pool) != NGX_OK)
    {
        goto done;
    }

    ngx_str_set(&f[n].key, "after");
    f[n++].value = json;

    if (edit->before) {
        if (ngx_http_ir_notify_json(edit->before, hash, &json, edit->pool)
            != NGX_OK)
        {
            goto done;
        }

        ngx_str_set(&f[n].key, "before");
        f[n++].value = json;

        /* a set's members, or a hash's fields with their values */

        if (ngx_http_ir_notify_diff(after, edit->before, hash, &only)
            != NGX_OK
            || ngx_http_ir_notify_json(only, hash, &json, edit->pool)
               != NGX_OK)
        {
            goto done;
        }

        ngx_str_set(&f[n].key, "added");
        f[n++].value = json;

        if (ngx_http_ir_notify_diff(edit->before, after, hash, &only)
            != NGX_OK
            || ngx_http_ir_notify_json(only, hash, &json, edit->pool)
               != NGX_OK)
        {
            goto done;
        }

        ngx_str_set(&f[n].key, "removed");
        f[n++].value = json;
    }

    ngx_http_ir_audit_event(edit->nt->audit, "admin_change", f, n);

done:

    ngx_destroy_pool(edit->pool);
}


/* the content after the edit, as the script read it */

static ngx_array_t *
ngx_http_ir_notify_after(ngx_str_t *type, redisReply *content,
    ngx_pool_t *pool)
{
    ngx_str_t     field, value;
    ngx_uint_t    i, hash;
    ngx_array_t  *items;
    redisReply   *e;

    items = ngx_array_create(pool, 8, sizeof(ngx_str_t));
    if (items == NULL) {
        return NULL;
    }

    hash = (type->len == 4 && ngx_strncmp(type->data, "hash", 4) == 0);

    for (i = 0; i < content->elements; i += hash ? 2 : 1) {
        e = content->element[i];

        if (e->type != REDIS_REPLY_STRING
            || (hash && (i + 1 == content->elements
                         || content->element[i + 1]->type
                            != REDIS_REPLY_STRING)))
        {
            continue;
        }

        if (hash) {
            field.data = (u_char *) e->str;
            field.len = e->len;
            value.data = (u_char *) content->element[i + 1]->str;
            value.len = content->element[i + 1]->len;

        } else {
            value.data = (u_char *) e->str;
            value.len = e->len;
        }

        if (ngx_http_ir_notify_item(items, hash ? &field : NULL, &value,
                                    pool)
            != NGX_OK)
        {
            return NULL;
        }
    }

    return items;
}


/*
 * An item: a set's member, or a hash's "field" NUL "value"; a password
 * hash is shown as a digest of it, so that a change shows and the hash
 * does not.
 */

static ngx_int_t
ngx_http_ir_notify_item(ngx_array_t *items, ngx_str_t *name,
    ngx_str_t *value, ngx_pool_t *pool)
{
    u_char        *p;
    ngx_str_t     *item, shown;
    ngx_keyval_t   kv;
    u_char         digest[NGX_HTTP_IR_DIGEST_HEX];
    u_char      text[sizeof("sha256:") - 1 + 16];

    shown = *value;

    if (name && name->len == sizeof(NGX_HTTP_IR_FIELD_PASSWORD) - 1
        && ngx_strncmp(name->data, NGX_HTTP_IR_FIELD_PASSWORD,
                       name->len) == 0)
    {
        ngx_str_set(&kv.key, "");
        kv.value = *value;

        if (ngx_http_ir_trail_digest(&kv, 1, digest) != NGX_OK) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(text, "sha256:", sizeof("sha256:") - 1);
        p = ngx_cpymem(p, digest, 16);

        shown.data = text;
        shown.len = p - text;
    }

    item = ngx_array_push(items);
    if (item == NULL) {
        return NGX_ERROR;
    }

    item->len = (name ? name->len + 1 : 0) + shown.len;
    item->data = ngx_pnalloc(pool, item->len);
    if (item->data == NULL) {
        return NGX_ERROR;
    }

    p = item->data;

    if (name) {
        p = ngx_cpymem(p, name->data, name->len);
        *p++ = '\0';
    }

    ngx_memcpy(p, shown.data, shown.len);

    return NGX_OK;
}


/* items as JSON: an object of a hash's fields, an array of a set's */

static ngx_int_t
ngx_http_ir_notify_json(ngx_array_t *items, ngx_uint_t hash, ngx_str_t *json,
    ngx_pool_t *pool)
{
    u_char      *p, *last, *sep;
    ngx_str_t   *item, s;
    ngx_uint_t   i;

    json->data = ngx_pnalloc(pool, NGX_HTTP_IR_NOTIFY_SHOWN);
    if (json->data == NULL) {
        return NGX_ERROR;
    }

    p = json->data;
    last = json->data + NGX_HTTP_IR_NOTIFY_SHOWN - 8;

    *p++ = hash ? '{' : '[';

    item = items->elts;

    for (i = 0; i < items->nelts && p < last; i++) {
        if (i) {
            *p++ = ',';
        }

        s = item[i];

        if (hash) {
            sep = ngx_strlchr(s.data, s.data + s.len, '\0');
            if (sep == NULL) {
                continue;
            }

            s.len = sep - s.data;
            p = ngx_http_ir_json_string(p, last, &s);
            *p++ = ':';

            s.data = sep + 1;
            s.len = item[i].data + item[i].len - s.data;
        }

        p = ngx_http_ir_json_string(p, last, &s);
    }

    if (i < items->nelts) {
        p = ngx_cpymem(p, ",\"...\"", 6);
    }

    *p++ = hash ? '}' : ']';

    json->len = p - json->data;

    return NGX_OK;
}


/* the items of a that are not in b */

static ngx_int_t
ngx_http_ir_notify_diff(ngx_array_t *a, ngx_array_t *b, ngx_uint_t hash,
    ngx_array_t **only)
{
    ngx_str_t   *x, *y, *item;
    ngx_uint_t   i, j;

    *only = ngx_array_create(a->pool, 4, sizeof(ngx_str_t));
    if (*only == NULL) {
        return NGX_ERROR;
    }

    x = a->elts;
    y = b->elts;

    for (i = 0; i < a->nelts; i++) {

        /* the cache's "before" has only the fields the gateway reads */

        if (hash && !ngx_http_ir_notify_read(&x[i])) {
            continue;
        }

        for (j = 0; j < b->nelts; j++) {
            if (x[i].len == y[j].len
                && ngx_memcmp(x[i].data, y[j].data, x[i].len) == 0)
            {
                break;
            }
        }

        if (j < b->nelts) {
            continue;
        }

        item = ngx_array_push(*only);
        if (item == NULL) {
            return NGX_ERROR;
        }

        *item = x[i];
    }

    return NGX_OK;
}


/* whether a hash item, "field" NUL "value", is of a field the gateway reads */

static ngx_uint_t
ngx_http_ir_notify_read(ngx_str_t *item)
{
    u_char               *nul;
    size_t                len;
    ngx_http_ir_field_t  *known;

    nul = ngx_strlchr(item->data, item->data + item->len, '\0');
    len = nul ? (size_t) (nul - item->data) : item->len;

    for (known = ngx_http_ir_user_fields; known->name.len; known++) {
        if (known->name.len == len
            && ngx_strncmp(known->name.data, item->data, len) == 0)
        {
            return known->offset != NGX_HTTP_IR_FIELD_UNREAD;
        }
    }

    return 0;
}
