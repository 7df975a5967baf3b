
/*
 * ir-access: when the gateway last decided for a user, and with which
 * certificate.
 *
 * A user's allowed request leaves "last_seen", "last_ip", the
 * certificate's "not_after" and "fingerprint" in "<prefix>seen:<name>",
 * a hash of the gateway's own, outside the user's keys, so that the
 * notifications and the trail never take it for an administrator's
 * edit.  It is written from the log phase, at most once a minute per
 * user and host (the shared cache's entry, or without a cache each
 * worker, remembers when), pipelined with whatever else goes to Redis.
 *
 * One worker of a host also counts, every ten minutes, the users whose
 * certificate expires within thirty days, walking the "seen" hashes with
 * SCAN in batches, for the metrics.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_ir_metrics.h"
#include "ngx_http_ir_schema.h"
#include "ngx_http_ir_seen.h"
#include "ngx_http_ir_store.h"
#include "ngx_http_ir_timer.h"


/* how often a user's "seen" hash is written, ms */
#define NGX_HTTP_IR_SEEN_EVERY         60000

/* slots of a worker's own memory of it, where there is no cache */
#define NGX_HTTP_IR_SEEN_SLOTS         1024

/*
 * The count of expiring certificates: how often, how far ahead, and how
 * many keys a step.
 */
#define NGX_HTTP_IR_SEEN_WATCH         600000
#define NGX_HTTP_IR_SEEN_DAYS          30
#define NGX_HTTP_IR_SEEN_BATCH         "500"


typedef struct {
    uint32_t                       hash;
    ngx_msec_t                     written;
} ngx_http_ir_seen_slot_t;


typedef struct {
    ngx_http_ir_redis_t           *redis;
    ngx_str_t                      pattern;
    ngx_event_t                    timer;
    ngx_uint_t                     expiring;
    u_char                         threshold[NGX_HTTP_IR_TIME_LEN];
    u_char                         cursor[NGX_INT_T_LEN];
    size_t                         cursor_len;
    unsigned                       busy:1;
} ngx_http_ir_seen_watch_t;


static ngx_uint_t ngx_http_ir_seen_due(ngx_http_ir_cache_t *cache,
    ngx_http_ir_seen_t *seen);
static void ngx_http_ir_seen_start(ngx_event_t *ev);
static void ngx_http_ir_seen_scan(ngx_http_ir_seen_watch_t *w);
static void ngx_http_ir_seen_scanned(void *data, redisReply *reply);
static void ngx_http_ir_seen_counted(void *data, redisReply *reply);


static ngx_http_ir_seen_slot_t
    ngx_http_ir_seen_slots[NGX_HTTP_IR_SEEN_SLOTS];
static ngx_http_ir_seen_watch_t  *ngx_http_ir_seen_watcher;


void
ngx_http_ir_seen(ngx_http_ir_redis_t *redis, ngx_str_t *prefix,
    ngx_http_ir_cache_t *cache, ngx_http_ir_seen_t *seen)
{
    u_char      *p, *last;
    ngx_time_t  *tp;
    u_char       key[NGX_HTTP_IR_KEY_MAX];
    u_char       now[NGX_HTTP_IR_TIME_LEN];

    if (!ngx_http_ir_seen_due(cache, seen)) {
        return;
    }

    tp = ngx_timeofday();

    p = ngx_http_ir_key(key, prefix, NGX_HTTP_IR_KEY_SEEN_HASH, &seen->user);

    last = ngx_http_ir_time(now, tp->sec, tp->msec);

    /* nobody waits for it: a lost write is made good a minute later */

    (void) ngx_http_ir_redis_command(redis, NULL, NULL,
                                     "HSET %b %s %b %s %b %s %b %s %b",
                                     key, (size_t) (p - key),
                                     NGX_HTTP_IR_FIELD_LAST_SEEN,
                                     now, (size_t) (last - now),
                                     NGX_HTTP_IR_FIELD_LAST_IP,
                                     seen->ip.data, seen->ip.len,
                                     NGX_HTTP_IR_FIELD_NOT_AFTER,
                                     seen->not_after.data,
                                     seen->not_after.len,
                                     NGX_HTTP_IR_FIELD_FINGERPRINT,
                                     seen->fingerprint.data,
                                     seen->fingerprint.len);
}


static ngx_uint_t
ngx_http_ir_seen_due(ngx_http_ir_cache_t *cache, ngx_http_ir_seen_t *seen)
{
    uint32_t                  hash;
    ngx_str_t                *user;
    ngx_http_ir_seen_slot_t  *slot;

    user = &seen->user;

    if (cache) {

        /*
         * Written within the minute when the cache gave the record: not
         * due, without the lock; otherwise the cache's node says, for
         * all the host's workers.
         */

        if (seen->written
            && ngx_current_msec - seen->written < NGX_HTTP_IR_SEEN_EVERY)
        {
            return 0;
        }

        return ngx_http_ir_cache_seen(cache, user, NGX_HTTP_IR_SEEN_EVERY);
    }

    hash = ngx_crc32_short(user->data, user->len);
    slot = &ngx_http_ir_seen_slots[hash % NGX_HTTP_IR_SEEN_SLOTS];

    if (slot->hash == hash
        && slot->written
        && ngx_current_msec - slot->written < NGX_HTTP_IR_SEEN_EVERY)
    {
        return 0;
    }

    slot->hash = hash;
    slot->written = ngx_current_msec;

    return 1;
}


void
ngx_http_ir_seen_watch(ngx_http_ir_redis_t *redis, ngx_str_t *prefix,
    ngx_log_t *log)
{
    u_char                    *p;
    ngx_http_ir_seen_watch_t  *w;

    w = ngx_calloc(sizeof(ngx_http_ir_seen_watch_t), log);
    if (w == NULL) {
        return;
    }

    w->pattern.data = ngx_alloc(prefix->len * 2
                                + sizeof(NGX_HTTP_IR_KEY_SEEN "*"), log);
    if (w->pattern.data == NULL) {
        ngx_free(w);
        return;
    }

    p = ngx_http_ir_key_pattern(w->pattern.data, prefix,
                                NGX_HTTP_IR_KEY_SEEN "*");
    w->pattern.len = p - w->pattern.data;

    w->redis = redis;

    ngx_http_ir_timer_init(&w->timer, ngx_http_ir_seen_start, 1, log);

    ngx_http_ir_seen_watcher = w;

    ngx_add_timer(&w->timer, 1000);
}


void
ngx_http_ir_seen_exit(void)
{
    ngx_http_ir_seen_watch_t  *w;

    w = ngx_http_ir_seen_watcher;

    if (w == NULL) {
        return;
    }

    ngx_http_ir_seen_watcher = NULL;

    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }

    /* a step still in flight finds no watcher */

    if (!w->busy) {
        ngx_free(w->pattern.data);
        ngx_free(w);
    }
}


static void
ngx_http_ir_seen_start(ngx_event_t *ev)
{
    ngx_http_ir_seen_watch_t  *w;

    w = ngx_http_ir_seen_watcher;

    if (w == NULL || w->busy) {
        return;
    }

    (void) ngx_http_ir_time(w->threshold,
                            ngx_time() + NGX_HTTP_IR_SEEN_DAYS * 86400, 0);

    w->expiring = 0;
    w->cursor[0] = '0';
    w->cursor_len = 1;

    ngx_http_ir_seen_scan(w);
}


static void
ngx_http_ir_seen_scan(ngx_http_ir_seen_watch_t *w)
{
    if (ngx_http_ir_redis_command(w->redis, ngx_http_ir_seen_scanned, w,
                                  "SCAN %b MATCH %b COUNT %s",
                                  w->cursor, w->cursor_len,
                                  w->pattern.data, w->pattern.len,
                                  NGX_HTTP_IR_SEEN_BATCH)
        == NULL)
    {
        ngx_add_timer(&w->timer, NGX_HTTP_IR_SEEN_WATCH);
        return;
    }

    w->busy = 1;
}


static void
ngx_http_ir_seen_scanned(void *data, redisReply *reply)
{
    ngx_http_ir_seen_watch_t *w = data;

    size_t       *len;
    ngx_str_t     cursor;
    ngx_uint_t    i, n;
    const char  **argv;
    redisReply   *keys;
    u_char        nkeys[NGX_INT_T_LEN];

    w->busy = 0;

    if (ngx_http_ir_seen_watcher != w) {
        ngx_free(w->pattern.data);
        ngx_free(w);
        return;
    }

    if (reply == NULL
        || ngx_http_ir_store_scan_reply(reply, &cursor, &keys) != NGX_OK
        || cursor.len > NGX_INT_T_LEN)
    {
        ngx_add_timer(&w->timer, NGX_HTTP_IR_SEEN_WATCH);
        return;
    }

    w->cursor_len = ngx_cpymem(w->cursor, cursor.data, cursor.len)
                    - w->cursor;

    if (keys->elements == 0) {
        ngx_http_ir_seen_counted(w, NULL);
        return;
    }

    /* EVAL script n key... "not_after" threshold */

    n = 3 + keys->elements + 2;

    argv = ngx_alloc(n * (sizeof(char *) + sizeof(size_t)), ngx_cycle->log);
    if (argv == NULL) {
        ngx_add_timer(&w->timer, NGX_HTTP_IR_SEEN_WATCH);
        return;
    }

    len = (size_t *) (argv + n);

    argv[0] = "EVAL";
    len[0] = 4;
    argv[1] = ngx_http_ir_script_expiring.text;
    len[1] = ngx_http_ir_script_expiring.len;
    argv[2] = (const char *) nkeys;
    len[2] = ngx_sprintf(nkeys, "%uz", keys->elements) - nkeys;

    for (i = 0; i < keys->elements; i++) {
        argv[3 + i] = keys->element[i]->str;
        len[3 + i] = keys->element[i]->len;
    }

    argv[n - 2] = NGX_HTTP_IR_FIELD_NOT_AFTER;
    len[n - 2] = sizeof(NGX_HTTP_IR_FIELD_NOT_AFTER) - 1;
    argv[n - 1] = (const char *) w->threshold;
    len[n - 1] = NGX_HTTP_IR_TIME_LEN;

    if (ngx_http_ir_redis_command_argv(w->redis, ngx_http_ir_seen_counted, w,
                                       (int) n, argv, len)
        == NULL)
    {
        ngx_add_timer(&w->timer, NGX_HTTP_IR_SEEN_WATCH);

    } else {
        w->busy = 1;
    }

    ngx_free(argv);
}


static void
ngx_http_ir_seen_counted(void *data, redisReply *reply)
{
    ngx_http_ir_seen_watch_t *w = data;

    w->busy = 0;

    if (ngx_http_ir_seen_watcher != w) {
        ngx_free(w->pattern.data);
        ngx_free(w);
        return;
    }

    if (reply && reply->type == REDIS_REPLY_INTEGER) {
        w->expiring += reply->integer;
    }

    if (w->cursor_len == 1 && w->cursor[0] == '0') {
        ngx_http_ir_metric_set(cert_expiring, w->expiring);
        ngx_add_timer(&w->timer, NGX_HTTP_IR_SEEN_WATCH);
        return;
    }

    ngx_http_ir_seen_scan(w);
}
