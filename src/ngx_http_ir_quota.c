
/*
 * ir-access: request quotas, counted in shared memory and across every
 * gateway in Redis.
 *
 * A request that every other step allowed is counted, on the hit path,
 * in a shared memory zone of the host, with no Redis round trip: each
 * user and organisation has a node with the minute's and the day's
 * counts, each in three parts: the total Redis last gave back (every
 * gateway's requests), what this host counted since and has not sent,
 * and what it sent and Redis has not acknowledged yet.  A request is
 * refused when the three together reach the limit; a refused request is
 * not counted.
 *
 * The counts go to Redis in batches: a node that gets counts joins a
 * queue of the zone, and the workers take nodes from it, every 100 ms or
 * as soon as 1000 requests were counted on the host since the last
 * batch, whichever comes first.  Each node taken is one script call,
 * pipelined on the worker's connection: INCRBY and PEXPIRE on the
 * minute's and the day's counters, whose totals come back in the same
 * reply.  So a host learns the others' counts at every batch, and all
 * the gateways together let through at most what each lets through in
 * one batch interval beyond the limit.  A batch that Redis does not take
 * (an outage) is counted again as unsent, and sent when Redis is back.
 *
 * Minutes are UTC minutes; days are calendar days in the zone contract
 * dates are in ("ir_access_timezone").  The zone is kept across
 * reloads, and with it the counts.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_metrics.h"
#include "ngx_http_ir_quota.h"
#include "ngx_http_ir_shm.h"
#include "ngx_http_ir_store.h"
#include "ngx_http_ir_timer.h"
#include "ngx_http_ir_zone.h"


/* changed whenever the layout of the zone changes */
#define NGX_HTTP_IR_QUOTA_VERSION      1

/* the zone's name and its default size */
#define NGX_HTTP_IR_QUOTA_ZONE         "ir_access_quota"
#define NGX_HTTP_IR_QUOTA_SIZE         (1024 * 1024)

/* at most this long between a count and its batch, ms */
#define NGX_HTTP_IR_QUOTA_FLUSH        100

/* requests counted on the host that bring the next batch forward */
#define NGX_HTTP_IR_QUOTA_EARLY        1000

/* nodes a worker takes into one batch */
#define NGX_HTTP_IR_QUOTA_BATCH        256

/* a node moves up the LRU at most this often, ms */
#define NGX_HTTP_IR_QUOTA_TOUCH        1000

/* nodes looked at, from the least recently used, to make room */
#define NGX_HTTP_IR_QUOTA_EVICT        16

/* how long the mark that a day's quota was crossed is kept, ms */
#define NGX_HTTP_IR_QUOTA_OVER_TTL     (2 * 86400 * 1000)


/* a minute's or a day's count of one user or organisation */

typedef struct {
    ngx_uint_t                     period;        /* the minute or the day */
    ngx_uint_t                     global;        /* Redis's total */
    ngx_uint_t                     pending;       /* counted, not sent */
    ngx_uint_t                     flying;        /* sent, not acknowledged */
    ngx_uint_t                     refused;       /* a refusal was logged */
} ngx_http_ir_quota_count_t;


typedef struct {
    u_char                         color;
    u_char                         who;           /* NGX_HTTP_IR_QUOTA_USER */
    u_char                         len;
    u_char                         queued;        /* in the batch queue */
    ngx_msec_t                     used;
    ngx_queue_t                    lru;
    ngx_queue_t                    batch;
    ngx_http_ir_quota_count_t      count[2];      /* minute, day */
    u_char                         name[1];
} ngx_http_ir_quota_node_t;


struct ngx_http_ir_quota_sh_s {
    ngx_uint_t                     version;
    ngx_rbtree_t                   rbtree;
    ngx_rbtree_node_t              sentinel;
    ngx_queue_t                    lru;
    ngx_queue_t                    batch;         /* nodes with unsent counts */
    ngx_uint_t                     unflushed;     /* not acknowledged yet */
    ngx_uint_t                     early;         /* counted since a batch */
};


/* a node's counts as a batch takes them, in a worker's own memory */

typedef struct ngx_http_ir_quota_batch_s  ngx_http_ir_quota_batch_t;

typedef struct {
    ngx_http_ir_quota_batch_t     *batch;
    uint32_t                       hash;
    ngx_uint_t                     who;
    ngx_uint_t                     period[2];
    ngx_uint_t                     n[2];
    ngx_str_t                      name;
    u_char                         name_data[NGX_HTTP_IR_NAME_MAX];
} ngx_http_ir_quota_item_t;


struct ngx_http_ir_quota_batch_s {
    ngx_uint_t                     waiting;       /* replies still owed */
    ngx_uint_t                     nitems;
    ngx_http_ir_quota_item_t       items[1];
};


/* what the first refusal of a day writes into the trail, once */

typedef struct {
    ngx_http_ir_audit_conf_t      *audit;
    ngx_keyval_t                   fields[7];
    u_char                         data[2 * NGX_HTTP_IR_NAME_MAX
                                        + NGX_INT_T_LEN + 64];
} ngx_http_ir_quota_over_t;


/* what a node is found by under its hash */

typedef struct {
    ngx_uint_t                     who;
    ngx_str_t                     *name;
} ngx_http_ir_quota_key_t;


/* the clock of one second: the minute, the day, and when each ends */

typedef struct {
    time_t                         now;
    ngx_uint_t                     minute;
    time_t                         minute_end;
    ngx_uint_t                     day;
    time_t                         day_end;
} ngx_http_ir_quota_clock_t;


static ngx_int_t ngx_http_ir_quota_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_ir_quota_clock_t *ngx_http_ir_quota_clock(void);
static ngx_int_t ngx_http_ir_quota_cmp(ngx_rbtree_node_t *node, void *data);
static ngx_http_ir_quota_node_t *ngx_http_ir_quota_find(
    ngx_http_ir_quota_t *quota, ngx_uint_t who, ngx_str_t *name,
    uint32_t hash);
static ngx_http_ir_quota_node_t *ngx_http_ir_quota_create(
    ngx_http_ir_quota_t *quota, ngx_uint_t who, ngx_str_t *name,
    uint32_t hash, ngx_http_ir_quota_node_t *keep);
static void ngx_http_ir_quota_roll(ngx_http_ir_quota_t *quota,
    ngx_http_ir_quota_node_t *qn, ngx_http_ir_quota_clock_t *clock);
static void ngx_http_ir_quota_queue(ngx_http_ir_quota_t *quota,
    ngx_http_ir_quota_node_t *qn);
static uint32_t ngx_http_ir_quota_hash(ngx_uint_t who, ngx_str_t *name);
static void ngx_http_ir_quota_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);

static void ngx_http_ir_quota_timer(ngx_event_t *ev);
static void ngx_http_ir_quota_flush(void);
static ngx_uint_t ngx_http_ir_quota_take(ngx_http_ir_quota_item_t *items,
    ngx_uint_t max, ngx_uint_t *more);
static void ngx_http_ir_quota_flushed(void *data, redisReply *reply);
static void ngx_http_ir_quota_settle(ngx_http_ir_quota_item_t *items,
    ngx_uint_t n, ngx_uint_t *totals);
static void ngx_http_ir_quota_soon(void);
static void ngx_http_ir_quota_over(void *data, redisReply *reply);


#define ngx_http_ir_quota_node(rbnode)                                      \
    ((ngx_http_ir_quota_node_t *) &(rbnode)->color)

#define ngx_http_ir_quota_rbnode(qn)                                        \
    ((ngx_rbtree_node_t *) ((u_char *) (qn)                                 \
                            - offsetof(ngx_rbtree_node_t, color)))


static ngx_str_t  ngx_http_ir_quota_whose[] = {
    ngx_string("user"), ngx_string("organisation")
};


/* this worker's part: where batches go, and when */

static ngx_http_ir_quota_t       *ngx_http_ir_quota;
static ngx_http_ir_redis_t       *ngx_http_ir_quota_redis;
static ngx_str_t                 *ngx_http_ir_quota_prefix;
static ngx_http_ir_zone_t        *ngx_http_ir_quota_timezone;
static ngx_log_t                 *ngx_http_ir_quota_log;
static ngx_event_t                ngx_http_ir_quota_event;
static ngx_uint_t                 ngx_http_ir_quota_failing;
static ngx_uint_t                 ngx_http_ir_quota_stopped;

/* what a batch is taken into under the lock, before it is allocated */
static ngx_http_ir_quota_item_t   ngx_http_ir_quota_taken[
                                                  NGX_HTTP_IR_QUOTA_BATCH];


/*
 * "ir_access_quota [rate=N/m] [daily=N] [org_rate=N/m] [org_daily=N]"
 * or "off": a parameter left out is no limit by default.
 */

char *
ngx_http_ir_quota_conf(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t n,
    ngx_http_ir_quota_conf_t *qcf)
{
    ngx_uint_t  bad;

    switch (ngx_http_ir_parse_quotas(value, n, &qcf->enable, qcf->limit,
                                     &bad))
    {
    case NGX_OK:
        return NGX_CONF_OK;

    case NGX_BUSY:
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate \"%V\"", &value[bad]);
        return NGX_CONF_ERROR;

    case NGX_ERROR:
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid quota \"%V\": %s from 1 to %d",
                           &value[bad],
                           ngx_strnstr(value[bad].data, "daily=",
                                       value[bad].len)
                           ? "requests a day,"
                           : "requests a minute, written N/m,",
                           NGX_HTTP_IR_QUOTA_MAX);
        return NGX_CONF_ERROR;

    default: /* NGX_DECLINED */
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[bad]);
        return NGX_CONF_ERROR;
    }
}


ngx_http_ir_quota_t *
ngx_http_ir_quota_zone(ngx_conf_t *cf, ssize_t size, void *tag)
{
    ngx_str_t             name;
    ngx_http_ir_quota_t  *quota;

    quota = ngx_pcalloc(cf->pool, sizeof(ngx_http_ir_quota_t));
    if (quota == NULL) {
        return NULL;
    }

    ngx_str_set(&name, NGX_HTTP_IR_QUOTA_ZONE);

    quota->shm_zone = ngx_shared_memory_add(cf, &name,
                                            size ? size
                                                 : NGX_HTTP_IR_QUOTA_SIZE,
                                            tag);
    if (quota->shm_zone == NULL) {
        return NULL;
    }

    quota->shm_zone->init = ngx_http_ir_quota_init_zone;
    quota->shm_zone->data = quota;

    return quota;
}


static ngx_int_t
ngx_http_ir_quota_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    void                 *sh;
    ngx_int_t             rc;
    ngx_http_ir_quota_t  *quota;

    quota = shm_zone->data;
    quota->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    /* on a reload, the counts go on */

    rc = ngx_http_ir_shm_init(shm_zone, data, "ir_access_quota",
                              sizeof(ngx_http_ir_quota_sh_t),
                              NGX_HTTP_IR_QUOTA_VERSION, 0, &sh);
    quota->sh = sh;

    if (rc != NGX_DONE) {
        return rc;
    }

    ngx_rbtree_init(&quota->sh->rbtree, &quota->sh->sentinel,
                    ngx_http_ir_quota_rbtree_insert_value);

    ngx_queue_init(&quota->sh->lru);
    ngx_queue_init(&quota->sh->batch);

    /* a full zone gives up its idle nodes, and says so itself if it can't */
    quota->shpool->log_nomem = 0;

    return NGX_OK;
}


/* the worker's batches start */

void
ngx_http_ir_quota_init(ngx_http_ir_quota_t *quota, ngx_http_ir_redis_t *redis,
    ngx_str_t *prefix, ngx_http_ir_zone_t *timezone, ngx_log_t *log)
{
    ngx_http_ir_quota = quota;
    ngx_http_ir_quota_timezone = timezone;
    ngx_http_ir_quota_redis = redis;
    ngx_http_ir_quota_prefix = prefix;
    ngx_http_ir_quota_log = log;
    ngx_http_ir_quota_stopped = 0;

    ngx_http_ir_timer_init(&ngx_http_ir_quota_event, ngx_http_ir_quota_timer,
                           1, log);

    /* what an old worker left unsent goes out without waiting for counts */

    ngx_add_timer(&ngx_http_ir_quota_event, NGX_HTTP_IR_QUOTA_FLUSH);
}


/*
 * The worker exits: no batch is started any more, and those in flight,
 * failed as its connection goes, are left in the zone as unsent, for the
 * other workers.
 */

void
ngx_http_ir_quota_exit(void)
{
    if (ngx_http_ir_quota == NULL) {
        return;
    }

    ngx_http_ir_quota_stopped = 1;

    if (ngx_http_ir_quota_event.timer_set) {
        ngx_del_timer(&ngx_http_ir_quota_event);
    }

    if (ngx_http_ir_quota_event.posted) {
        ngx_delete_posted_event(&ngx_http_ir_quota_event);
    }
}


/*
 * The hit path: the request is counted for its user and organisation
 * (names[NGX_HTTP_IR_QUOTA_USER] and [_ORG]) unless one of their limits
 * (limit[who][period], NGX_HTTP_IR_QUOTA_UNSET for none) is reached.
 * NGX_OK: counted; NGX_DECLINED: refused, as "refusal" says; NGX_ERROR:
 * no room in the zone.
 */

ngx_int_t
ngx_http_ir_quota_count(ngx_http_ir_quota_t *quota, ngx_str_t *names,
    ngx_uint_t limit[2][2], ngx_http_ir_quota_refusal_t *refusal)
{
    uint32_t                    hash[2];
    ngx_uint_t                  who, period, early, count[2][2];
    ngx_msec_t                  now;
    ngx_http_ir_quota_node_t   *qn[2];
    ngx_http_ir_quota_count_t  *c;
    ngx_http_ir_quota_clock_t  *clock;

    if (quota->sh == NULL) {
        return NGX_ERROR;
    }

    clock = ngx_http_ir_quota_clock();
    now = ngx_current_msec;

    for (who = 0; who < 2; who++) {
        if (names[who].len == 0 || names[who].len > NGX_HTTP_IR_NAME_MAX) {
            return NGX_ERROR;
        }

        hash[who] = ngx_http_ir_quota_hash(who, &names[who]);
    }

    ngx_shmtx_lock(&quota->shpool->mutex);

    for (who = 0; who < 2; who++) {
        qn[who] = ngx_http_ir_quota_find(quota, who, &names[who], hash[who]);

        if (qn[who] == NULL) {
            qn[who] = ngx_http_ir_quota_create(quota, who, &names[who],
                                               hash[who],
                                               who ? qn[0] : NULL);
            if (qn[who] == NULL) {
                ngx_shmtx_unlock(&quota->shpool->mutex);
                return NGX_ERROR;
            }
        }

        ngx_http_ir_quota_roll(quota, qn[who], clock);

        if (now - qn[who]->used >= NGX_HTTP_IR_QUOTA_TOUCH) {
            qn[who]->used = now;
            ngx_queue_remove(&qn[who]->lru);
            ngx_queue_insert_head(&quota->sh->lru, &qn[who]->lru);
        }
    }

    /* what every gateway counted, as far as this one knows */

    for (who = 0; who < 2; who++) {
        for (period = 0; period < 2; period++) {
            c = &qn[who]->count[period];
            count[who][period] = c->global + c->pending + c->flying;
        }
    }

    if (ngx_http_ir_quota_spent(limit, count, &who, &period)
        != NGX_HTTP_IR_ALLOW)
    {
        c = &qn[who]->count[period];

        refusal->who = who;
        refusal->period = period;
        refusal->limit = limit[who][period];
        refusal->day = clock->day;
        refusal->retry_after = (period == NGX_HTTP_IR_QUOTA_DAY)
                               ? clock->day_end - clock->now
                               : clock->minute_end - clock->now;
        refusal->first = (c->refused != c->period);

        c->refused = c->period;

        ngx_shmtx_unlock(&quota->shpool->mutex);

        return NGX_DECLINED;
    }

    for (who = 0; who < 2; who++) {
        qn[who]->count[NGX_HTTP_IR_QUOTA_MINUTE].pending++;
        qn[who]->count[NGX_HTTP_IR_QUOTA_DAY].pending++;

        ngx_http_ir_quota_queue(quota, qn[who]);
    }

    quota->sh->unflushed++;
    early = (++quota->sh->early == NGX_HTTP_IR_QUOTA_EARLY);

    if (ngx_http_ir_metrics) {
        ngx_http_ir_metrics->quota_unflushed = quota->sh->unflushed;
    }

    ngx_shmtx_unlock(&quota->shpool->mutex);

    if (early) {
        if (ngx_http_ir_quota_event.timer_set) {
            ngx_del_timer(&ngx_http_ir_quota_event);
        }

        if (!ngx_http_ir_quota_event.posted) {
            ngx_post_event(&ngx_http_ir_quota_event, &ngx_posted_events);
        }

    } else {
        ngx_http_ir_quota_soon();
    }

    return NGX_OK;
}


/* the clock, worked out once a second */

static ngx_http_ir_quota_clock_t *
ngx_http_ir_quota_clock(void)
{
    time_t  now;

    static ngx_http_ir_quota_clock_t  clock;

    now = ngx_time();

    if (now != clock.now) {
        clock.now = now;
        clock.minute = now / 60;
        clock.minute_end = (time_t) (clock.minute + 1) * 60;

        clock.day = ngx_http_ir_zone_today(ngx_http_ir_quota_timezone, now,
                                           &clock.day_end);
    }

    return &clock;
}


/* a node's counts of a minute or a day that is over start again */

static void
ngx_http_ir_quota_roll(ngx_http_ir_quota_t *quota,
    ngx_http_ir_quota_node_t *qn, ngx_http_ir_quota_clock_t *clock)
{
    ngx_http_ir_quota_count_t  *c;

    c = &qn->count[NGX_HTTP_IR_QUOTA_MINUTE];

    if (c->period != clock->minute) {
        c->period = clock->minute;
        c->global = 0;
        c->pending = 0;
        c->flying = 0;
    }

    c = &qn->count[NGX_HTTP_IR_QUOTA_DAY];

    if (c->period != clock->day) {

        /* what was not sent of the day before is not sent any more */

        quota->sh->unflushed -= ngx_min(quota->sh->unflushed,
                                        c->pending + c->flying);
        c->period = clock->day;
        c->global = 0;
        c->pending = 0;
        c->flying = 0;
    }
}


static void
ngx_http_ir_quota_queue(ngx_http_ir_quota_t *quota,
    ngx_http_ir_quota_node_t *qn)
{
    if (!qn->queued) {
        qn->queued = 1;
        ngx_queue_insert_tail(&quota->sh->batch, &qn->batch);
    }
}


static uint32_t
ngx_http_ir_quota_hash(ngx_uint_t who, ngx_str_t *name)
{
    uint32_t  crc;
    u_char    w;

    w = (u_char) who;

    ngx_crc32_init(crc);
    ngx_crc32_update(&crc, &w, 1);
    ngx_crc32_update(&crc, name->data, name->len);
    ngx_crc32_final(crc);

    return crc;
}


static ngx_http_ir_quota_node_t *
ngx_http_ir_quota_find(ngx_http_ir_quota_t *quota, ngx_uint_t who,
    ngx_str_t *name, uint32_t hash)
{
    ngx_rbtree_node_t        *node;
    ngx_http_ir_quota_key_t   key;

    key.who = who;
    key.name = name;

    node = ngx_http_ir_shm_lookup(&quota->sh->rbtree, hash,
                                  ngx_http_ir_quota_cmp, &key);

    return node ? ngx_http_ir_quota_node(node) : NULL;
}


/* users before organisations, then by name */

static ngx_int_t
ngx_http_ir_quota_cmp(ngx_rbtree_node_t *node, void *data)
{
    ngx_int_t                  rc;
    ngx_http_ir_quota_key_t   *key;
    ngx_http_ir_quota_node_t  *qn;

    key = data;
    qn = ngx_http_ir_quota_node(node);

    rc = (ngx_int_t) key->who - (ngx_int_t) qn->who;

    if (rc == 0) {
        rc = ngx_memn2cmp(key->name->data, qn->name, key->name->len,
                          (size_t) qn->len);
    }

    return rc;
}


/*
 * A new node; where the zone is full, the least recently used nodes that
 * have nothing unsent make room, but for "keep": what they knew of
 * Redis's totals is read again with their next batch.
 */

static ngx_http_ir_quota_node_t *
ngx_http_ir_quota_create(ngx_http_ir_quota_t *quota, ngx_uint_t who,
    ngx_str_t *name, uint32_t hash, ngx_http_ir_quota_node_t *keep)
{
    size_t                     size;
    ngx_uint_t                 n;
    ngx_queue_t               *q, *prev;
    ngx_rbtree_node_t         *node;
    ngx_http_ir_quota_node_t  *qn;

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_ir_quota_node_t, name)
           + name->len;

    node = ngx_slab_alloc_locked(quota->shpool, size);

    if (node == NULL) {
        q = ngx_queue_last(&quota->sh->lru);

        for (n = 0;
             n < NGX_HTTP_IR_QUOTA_EVICT && q != ngx_queue_sentinel(
                                                            &quota->sh->lru);
             n++)
        {
            prev = ngx_queue_prev(q);
            qn = ngx_queue_data(q, ngx_http_ir_quota_node_t, lru);

            if (qn != keep && !qn->queued
                && qn->count[0].pending + qn->count[0].flying == 0
                && qn->count[1].pending + qn->count[1].flying == 0)
            {
                ngx_queue_remove(&qn->lru);
                ngx_rbtree_delete(&quota->sh->rbtree,
                                  ngx_http_ir_quota_rbnode(qn));
                ngx_slab_free_locked(quota->shpool,
                                     ngx_http_ir_quota_rbnode(qn));
            }

            q = prev;
        }

        node = ngx_slab_alloc_locked(quota->shpool, size);
        if (node == NULL) {
            return NULL;
        }
    }

    node->key = hash;

    qn = ngx_http_ir_quota_node(node);

    qn->who = (u_char) who;
    qn->len = (u_char) name->len;
    qn->queued = 0;
    qn->used = ngx_current_msec;
    ngx_memzero(qn->count, sizeof(qn->count));
    ngx_memcpy(qn->name, name->data, name->len);

    ngx_rbtree_insert(&quota->sh->rbtree, node);
    ngx_queue_insert_head(&quota->sh->lru, &qn->lru);

    return qn;
}


static void
ngx_http_ir_quota_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_str_t                  name;
    ngx_http_ir_quota_key_t    key;
    ngx_http_ir_quota_node_t  *qn;

    qn = ngx_http_ir_quota_node(node);

    name.data = qn->name;
    name.len = qn->len;

    key.who = qn->who;
    key.name = &name;

    ngx_http_ir_shm_insert(temp, node, sentinel, ngx_http_ir_quota_cmp, &key);
}


/* the next batch within the interval, where none is due yet */

static void
ngx_http_ir_quota_soon(void)
{
    if (!ngx_http_ir_quota_stopped
        && !ngx_http_ir_quota_event.timer_set
        && !ngx_http_ir_quota_event.posted)
    {
        ngx_add_timer(&ngx_http_ir_quota_event, NGX_HTTP_IR_QUOTA_FLUSH);
    }
}


static void
ngx_http_ir_quota_timer(ngx_event_t *ev)
{
    ngx_http_ir_quota_flush();
}


/*
 * A batch: the nodes with unsent counts are taken from the zone's queue,
 * their counts marked as in flight, and sent, one script call each.
 */

static void
ngx_http_ir_quota_flush(void)
{
    ngx_uint_t                  i, n, more, sent;
    ngx_http_ir_args_t          args;
    ngx_http_ir_quota_item_t   *item;
    ngx_http_ir_quota_batch_t  *batch;

    if (ngx_http_ir_quota_stopped || ngx_http_ir_quota->sh == NULL) {
        return;
    }

    /* a connection that owes replies and shows no progress is dropped */

    ngx_http_ir_redis_check(ngx_http_ir_quota_redis);

    n = ngx_http_ir_quota_take(ngx_http_ir_quota_taken,
                               NGX_HTTP_IR_QUOTA_BATCH, &more);

    if (n == 0) {
        return;
    }

    batch = ngx_alloc(sizeof(ngx_http_ir_quota_batch_t)
                      + (n - 1) * sizeof(ngx_http_ir_quota_item_t),
                      ngx_http_ir_quota_log);
    if (batch == NULL) {
        ngx_http_ir_quota_settle(ngx_http_ir_quota_taken, n, NULL);
        ngx_http_ir_quota_soon();
        return;
    }

    batch->waiting = 0;
    batch->nitems = n;

    ngx_memcpy(batch->items, ngx_http_ir_quota_taken,
               n * sizeof(ngx_http_ir_quota_item_t));

    sent = 0;

    for (i = 0; i < n; i++) {
        item = &batch->items[i];
        item->batch = batch;
        item->name.data = item->name_data;

        ngx_http_ir_store_quota(&args, ngx_http_ir_quota_prefix, item->who,
                                &item->name,
                                item->period[NGX_HTTP_IR_QUOTA_MINUTE],
                                item->period[NGX_HTTP_IR_QUOTA_DAY],
                                item->n[NGX_HTTP_IR_QUOTA_MINUTE],
                                item->n[NGX_HTTP_IR_QUOTA_DAY]);

        if (ngx_http_ir_redis_eval(ngx_http_ir_quota_redis,
                                   &ngx_http_ir_script_quota, &args,
                                   ngx_http_ir_quota_flushed, item)
            == NULL)
        {
            break;
        }

        batch->waiting++;
        sent++;
    }

    if (sent < n) {
        /* Redis cannot take them now: unsent again, for the next batch */

        ngx_http_ir_quota_settle(&batch->items[sent], n - sent, NULL);
    }

    if (batch->waiting == 0) {
        ngx_free(batch);
    }

    if (more) {
        if (!ngx_http_ir_quota_event.posted) {
            ngx_post_event(&ngx_http_ir_quota_event, &ngx_posted_events);
        }

    } else if (sent < n) {
        ngx_http_ir_quota_soon();
    }
}


/* under the lock: at most "max" nodes out of the queue, copied */

static ngx_uint_t
ngx_http_ir_quota_take(ngx_http_ir_quota_item_t *items, ngx_uint_t max,
    ngx_uint_t *more)
{
    ngx_uint_t                  n, p;
    ngx_queue_t                *q;
    ngx_http_ir_quota_t        *quota;
    ngx_http_ir_quota_item_t   *item;
    ngx_http_ir_quota_node_t   *qn;
    ngx_http_ir_quota_count_t  *c;

    quota = ngx_http_ir_quota;
    n = 0;

    ngx_shmtx_lock(&quota->shpool->mutex);

    while (n < max && !ngx_queue_empty(&quota->sh->batch)) {
        q = ngx_queue_head(&quota->sh->batch);
        ngx_queue_remove(q);

        qn = ngx_queue_data(q, ngx_http_ir_quota_node_t, batch);
        qn->queued = 0;

        item = &items[n];
        item->hash = ngx_http_ir_quota_rbnode(qn)->key;
        item->who = qn->who;
        item->name.len = qn->len;
        ngx_memcpy(item->name_data, qn->name, qn->len);

        for (p = 0; p < 2; p++) {
            c = &qn->count[p];

            item->period[p] = c->period;
            item->n[p] = c->pending;

            c->flying += c->pending;
            c->pending = 0;
        }

        if (item->n[NGX_HTTP_IR_QUOTA_DAY] == 0) {
            continue;
        }

        n++;
    }

    *more = !ngx_queue_empty(&quota->sh->batch);

    quota->sh->early = 0;

    ngx_shmtx_unlock(&quota->shpool->mutex);

    return n;
}


static void
ngx_http_ir_quota_flushed(void *data, redisReply *reply)
{
    ngx_http_ir_quota_item_t *item = data;

    ngx_str_t                   error;
    ngx_uint_t                  totals[2];
    ngx_http_ir_quota_batch_t  *batch;

    batch = item->batch;

    if (reply == NULL) {
        ngx_http_ir_quota_settle(item, 1, NULL);

    } else if (ngx_http_ir_store_quota_reply(reply,
                                             &totals[NGX_HTTP_IR_QUOTA_MINUTE],
                                             &totals[NGX_HTTP_IR_QUOTA_DAY],
                                             &error)
               != NGX_OK)
    {
        if (!ngx_http_ir_quota_failing) {
            ngx_log_error(NGX_LOG_ERR, ngx_http_ir_quota_log, 0,
                          "ir_access: Redis did not count the requests of "
                          "%V \"%V\": %*s; they are kept and sent again",
                          &ngx_http_ir_quota_whose[item->who], &item->name,
                          ngx_min(error.len, 256), error.data);
        }

        ngx_http_ir_quota_failing = 1;
        ngx_http_ir_quota_settle(item, 1, NULL);

    } else {
        if (ngx_http_ir_quota_failing) {
            ngx_log_error(NGX_LOG_NOTICE, ngx_http_ir_quota_log, 0,
                          "ir_access: Redis counts requests again");
            ngx_http_ir_quota_failing = 0;
        }

        ngx_http_ir_quota_settle(item, 1, totals);
    }

    if (--batch->waiting == 0) {
        ngx_free(batch);
    }
}


/*
 * Under the lock: what Redis said of a batch's nodes, their totals, or
 * with "totals" NULL, that their counts were not taken and are unsent
 * again.  A node whose minute or day is over by now keeps its new one.
 */

static void
ngx_http_ir_quota_settle(ngx_http_ir_quota_item_t *items, ngx_uint_t n,
    ngx_uint_t *totals)
{
    ngx_uint_t                  i, p, acknowledged, unsent;
    ngx_http_ir_quota_t        *quota;
    ngx_http_ir_quota_node_t   *qn;
    ngx_http_ir_quota_count_t  *c;

    quota = ngx_http_ir_quota;
    acknowledged = 0;
    unsent = 0;

    for (i = 0; i < n; i++) {
        items[i].name.data = items[i].name_data;
    }

    ngx_shmtx_lock(&quota->shpool->mutex);

    for (i = 0; i < n; i++) {
        qn = ngx_http_ir_quota_find(quota, items[i].who, &items[i].name,
                                    items[i].hash);
        if (qn == NULL) {
            continue;
        }

        for (p = 0; p < 2; p++) {
            c = &qn->count[p];

            if (c->period != items[i].period[p]) {
                continue;
            }

            c->flying -= ngx_min(c->flying, items[i].n[p]);

            if (totals) {
                c->global = ngx_max(c->global, totals[p]);

                if (p == NGX_HTTP_IR_QUOTA_DAY) {
                    acknowledged += items[i].n[p];
                }

            } else {
                c->pending += items[i].n[p];
                unsent = 1;
            }
        }

        if (qn->count[NGX_HTTP_IR_QUOTA_DAY].pending) {
            ngx_http_ir_quota_queue(quota, qn);
        }
    }

    quota->sh->unflushed -= ngx_min(quota->sh->unflushed, acknowledged);

    if (ngx_http_ir_metrics) {
        ngx_http_ir_metrics->quota_unflushed = quota->sh->unflushed;
    }

    ngx_shmtx_unlock(&quota->shpool->mutex);

    ngx_http_ir_metric_add(quota_flushed, acknowledged);

    if (unsent) {
        ngx_http_ir_quota_soon();
    }
}


/*
 * The first refusal of a day on this host: the first across the hosts,
 * which marks the day in Redis, writes the trail's "quota_exceeded"
 * event.  "names" are the request's user and organisation.
 */

void
ngx_http_ir_quota_announce(ngx_http_ir_audit_conf_t *acf, ngx_str_t *names,
    ngx_str_t *mode, ngx_http_ir_quota_refusal_t *refusal, ngx_log_t *log)
{
    u_char                    *p;
    u_char                    *last;
    ngx_keyval_t              *f;
    ngx_http_ir_quota_over_t  *over;
    u_char                     key[NGX_HTTP_IR_KEY_MAX];

    if (acf == NULL || ngx_http_ir_quota_redis == NULL) {
        return;
    }

    over = ngx_alloc(sizeof(ngx_http_ir_quota_over_t), log);
    if (over == NULL) {
        return;
    }

    over->audit = acf;
    f = over->fields;
    p = over->data;

    ngx_str_set(&f[0].key, "quota");
    ngx_str_set(&f[0].value, "daily");

    ngx_str_set(&f[1].key, "who");
    f[1].value = ngx_http_ir_quota_whose[refusal->who];

    ngx_str_set(&f[2].key, "user");
    f[2].value.data = p;
    p = ngx_cpymem(p, names[NGX_HTTP_IR_QUOTA_USER].data,
                   names[NGX_HTTP_IR_QUOTA_USER].len);
    f[2].value.len = p - f[2].value.data;

    ngx_str_set(&f[3].key, "org");
    f[3].value.data = p;
    p = ngx_cpymem(p, names[NGX_HTTP_IR_QUOTA_ORG].data,
                   names[NGX_HTTP_IR_QUOTA_ORG].len);
    f[3].value.len = p - f[3].value.data;

    ngx_str_set(&f[4].key, "limit");
    f[4].value.data = p;
    p = ngx_sprintf(p, "%ui", refusal->limit);
    f[4].value.len = p - f[4].value.data;

    ngx_str_set(&f[5].key, "day");
    f[5].value.data = p;
    p = ngx_sprintf(p, "%04ui-%02ui-%02ui", refusal->day / 10000,
                    refusal->day / 100 % 100, refusal->day % 100);
    f[5].value.len = p - f[5].value.data;

    ngx_str_set(&f[6].key, "mode");
    f[6].value.data = p;
    p = ngx_cpymem(p, mode->data, ngx_min(mode->len, 16));
    f[6].value.len = p - f[6].value.data;

    /* "SET <prefix>quota:<who>:<name>:over:<day> 1 NX PX <ttl>" */

    last = ngx_http_ir_key_quota(key, ngx_http_ir_quota_prefix, refusal->who,
                                 &names[refusal->who], NGX_HTTP_IR_QUOTA_OVER,
                                 refusal->day);

    if (ngx_http_ir_redis_command(ngx_http_ir_quota_redis,
                                  ngx_http_ir_quota_over, over,
                                  "SET %b 1 NX PX %d", key,
                                  (size_t) (last - key),
                                  (int) NGX_HTTP_IR_QUOTA_OVER_TTL)
        == NULL)
    {
        /* Redis cannot tell whether it is the first: better twice than not */

        ngx_http_ir_audit_event(acf, "quota_exceeded", over->fields, 7);
        ngx_free(over);
    }
}


/*
 * Only the host that set the mark writes the event; where Redis could
 * not say, it is written too, and the trail keeps it until Redis is back.
 */

static void
ngx_http_ir_quota_over(void *data, redisReply *reply)
{
    ngx_http_ir_quota_over_t *over = data;

    ngx_str_t  error;

    if ((reply == NULL
         || ngx_http_ir_store_set_reply(reply, &error) != NGX_DECLINED)
        && !ngx_http_ir_quota_stopped)
    {
        ngx_http_ir_audit_event(over->audit, "quota_exceeded", over->fields,
                                7);
    }

    ngx_free(over);
}
