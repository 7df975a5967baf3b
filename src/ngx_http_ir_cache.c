
/*
 * ir-access: the shared cache of user records.
 *
 * Packed records (see ngx_http_ir_record.c) live in a shared memory zone
 * for all workers, in nginx's manner: an rbtree keyed by the user's name,
 * an LRU queue that gives up the oldest entries when the zone is full,
 * times in ngx_current_msec, and the zone kept across reloads.  A record
 * for a user Redis does not know is cached too (a negative entry).
 *
 * An entry also says that a worker is fetching it ("loading"), so that
 * however many requests for one user arrive, on whichever workers, one
 * lookup is in flight.  Each entry has a generation that an invalidation
 * bumps: a lookup that started before an admin's edit cannot store what
 * it read as fresh.  Organisations have generations of their own, in a
 * second rbtree, so that an edit of an organisation makes all its users'
 * entries old without a walk over the cache.
 *
 * The zone's lock is held for finding, linking and copying bytes only: a
 * hit copies the packed record into a buffer of the worker's, and the
 * request's copy is made from that after the lock is released.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_cache.h"
#include "ngx_http_ir_record.h"
#include "ngx_http_ir_schema.h"
#include "ngx_http_ir_shm.h"


/* changed whenever the layout of nodes or records changes */
#define NGX_HTTP_IR_CACHE_VERSION      4

/* defaults: how long a record is fresh, and then still usable, ms */
#define NGX_HTTP_IR_CACHE_TTL          30000
#define NGX_HTTP_IR_CACHE_STALE        60000

/* nginx's slab allocator needs a few pages of its own */
#define NGX_HTTP_IR_CACHE_PAGES_MIN    8

/*
 * A hit moves its entry up the LRU at most this often, ms: it spares the
 * writes to its neighbours, which with many users are mostly cache
 * misses, and once a second is recent enough for an LRU.
 */
#define NGX_HTTP_IR_CACHE_TOUCH        1000

/* entries given up at a time when the zone is full */
#define NGX_HTTP_IR_CACHE_EVICT        16

/*
 * The direct-mapped table in front of the rbtree has a slot for every
 * this many bytes of the zone, and at least the minimum.
 */
#define NGX_HTTP_IR_CACHE_SLOT_BYTES   1024
#define NGX_HTTP_IR_CACHE_SLOTS_MIN    64


typedef struct {
    ngx_str_node_t                 sn;            /* keyed by the name */
    ngx_uint_t                     gen;
    ngx_uint_t                     refs;          /* entries that follow it */
    u_char                         len;
    u_char                         name[1];
} ngx_http_ir_cache_org_t;


typedef struct {
    u_char                         color;
    u_char                         len;
    u_char                         dummy[2];
    ngx_uint_t                     gen;
    ngx_uint_t                     epoch;
    ngx_http_ir_cache_org_t       *org;
    ngx_uint_t                     org_gen;
    ngx_msec_t                     fetched;       /* 0: not fetched */
    ngx_msec_t                     loading;       /* until */
    ngx_msec_t                     used;          /* moved up the LRU */
    ngx_msec_t                     seen;          /* "seen" written */
    ngx_queue_t                    queue;
    u_char                        *block;
    size_t                         size;
    u_char                         name[1];
} ngx_http_ir_cache_node_t;


struct ngx_http_ir_cache_sh_s {
    ngx_uint_t                     version;
    ngx_rbtree_t                   rbtree;
    ngx_rbtree_node_t              sentinel;
    ngx_queue_t                    queue;
    ngx_uint_t                     entries;
    ngx_uint_t                     epoch;
    ngx_rbtree_t                   orgs;
    ngx_rbtree_node_t              orgs_sentinel;

    /*
     * A direct-mapped table of the entries last found, in front of the
     * rbtree: with many users a walk down the tree is a dozen and more
     * cache misses, a hit here is two.  The rbtree stays the index.
     */
    ngx_http_ir_cache_node_t     **front;
    ngx_uint_t                     front_mask;
};


static ngx_int_t ngx_http_ir_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_uint_t ngx_http_ir_cache_usable(ngx_http_ir_cache_t *cache,
    ngx_http_ir_cache_node_t *cn, ngx_msec_t now, ngx_msec_t age);
static ngx_int_t ngx_http_ir_cache_take(ngx_http_ir_cache_t *cache,
    ngx_str_t *name, uint32_t hash, ngx_msec_t age, size_t *size,
    ngx_msec_t *fetched, ngx_msec_t *seen);
static ngx_int_t ngx_http_ir_cache_grow(size_t size);
static void ngx_http_ir_cache_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_http_ir_cache_cmp(ngx_rbtree_node_t *node, void *data);
static ngx_http_ir_cache_node_t *ngx_http_ir_cache_find(
    ngx_http_ir_cache_t *cache, ngx_str_t *name, uint32_t hash);
static ngx_http_ir_cache_node_t *ngx_http_ir_cache_create(
    ngx_http_ir_cache_t *cache, ngx_str_t *name, uint32_t hash);
static ngx_http_ir_cache_org_t *ngx_http_ir_cache_org(
    ngx_http_ir_cache_t *cache, ngx_str_t *name,
    ngx_http_ir_cache_node_t *create);
static void ngx_http_ir_cache_follow(ngx_http_ir_cache_t *cache,
    ngx_http_ir_cache_node_t *cn, ngx_http_ir_cache_org_t *org);
static void *ngx_http_ir_cache_alloc(ngx_http_ir_cache_t *cache, size_t size,
    ngx_http_ir_cache_node_t *keep);
static void ngx_http_ir_cache_touch(ngx_http_ir_cache_t *cache,
    ngx_str_t *name, ngx_uint_t drop);
static void ngx_http_ir_cache_expire(ngx_http_ir_cache_t *cache,
    ngx_http_ir_cache_node_t *cn);
static void ngx_http_ir_cache_delete(ngx_http_ir_cache_t *cache,
    ngx_http_ir_cache_node_t *cn);


#define ngx_http_ir_cache_node(rbnode)                                      \
    ((ngx_http_ir_cache_node_t *) &(rbnode)->color)

#define ngx_http_ir_cache_rbnode(cn)                                        \
    ((ngx_rbtree_node_t *) ((u_char *) (cn)                                 \
                            - offsetof(ngx_rbtree_node_t, color)))


/* the worker's buffer that a hit's record is copied into, under the lock */
static u_char  *ngx_http_ir_cache_buf;
static size_t   ngx_http_ir_cache_buf_size;


char *
ngx_http_ir_cache_conf(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t n,
    void *tag, ngx_http_ir_cache_t **cachep)
{
    u_char               *p;
    ssize_t               size;
    ngx_str_t             name, s;
    ngx_uint_t            i;
    ngx_http_ir_cache_t  *cache;

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_ir_cache_t));
    if (cache == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_str_null(&name);
    size = 0;
    cache->ttl = NGX_HTTP_IR_CACHE_TTL;
    cache->stale = NGX_HTTP_IR_CACHE_STALE;

    for (i = 1; i < n; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {

            name.data = value[i].data + 5;

            p = (u_char *) ngx_strchr(name.data, ':');

            if (p == NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone size \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            name.len = p - name.data;

            s.data = p + 1;
            s.len = value[i].data + value[i].len - s.data;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone size \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (size < (ssize_t) (NGX_HTTP_IR_CACHE_PAGES_MIN * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "zone \"%V\" is too small", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            cache->ttl = ngx_parse_time(&s, 0);
            if (cache->ttl == (ngx_msec_t) NGX_ERROR || cache->ttl == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid ttl \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "stale=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            cache->stale = ngx_parse_time(&s, 0);
            if (cache->stale == (ngx_msec_t) NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid stale \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"ir_access_cache\" must have \"zone\" parameter");
        return NGX_CONF_ERROR;
    }

    cache->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                            tag);
    if (cache->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cache->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    cache->shm_zone->init = ngx_http_ir_cache_init_zone;
    cache->shm_zone->data = cache;

    *cachep = cache;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_ir_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_ir_cache_t *ocache = data;

    void                 *sh;
    ngx_int_t             rc;
    ngx_uint_t            n;
    ngx_http_ir_cache_t  *cache;

    cache = shm_zone->data;
    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (ocache && ocache->sh == NULL) {
        /* off since an earlier reload, which said so */
        return NGX_OK;
    }

    rc = ngx_http_ir_shm_init(shm_zone, data, "ir_access_cache",
                              sizeof(ngx_http_ir_cache_sh_t),
                              NGX_HTTP_IR_CACHE_VERSION, 1, &sh);
    cache->sh = sh;

    if (rc == NGX_DECLINED) {
        /* old workers still use the zone: it cannot be wiped under them */

        ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, 0,
                      "ir_access_cache zone \"%V\" was laid out by another "
                      "version of the module; the cache is off until nginx "
                      "is restarted", &shm_zone->shm.name);
        return NGX_OK;
    }

    if (rc != NGX_DONE) {
        return rc;
    }

    cache->sh->epoch = 1;

    /* a slot for every kilobyte of the zone, in a power of two */

    n = NGX_HTTP_IR_CACHE_SLOTS_MIN;
    while (n * 2 <= shm_zone->shm.size / NGX_HTTP_IR_CACHE_SLOT_BYTES) {
        n *= 2;
    }

    cache->sh->front = ngx_slab_calloc(cache->shpool,
                                       n * sizeof(ngx_http_ir_cache_node_t *));
    if (cache->sh->front == NULL) {
        return NGX_ERROR;
    }

    cache->sh->front_mask = n - 1;

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_http_ir_cache_rbtree_insert_value);

    ngx_rbtree_init(&cache->sh->orgs, &cache->sh->orgs_sentinel,
                    ngx_str_rbtree_insert_value);

    ngx_queue_init(&cache->sh->queue);

    /* a full zone is normal: the oldest entries make room */
    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


/*
 * FRESH: a fresh record, copied into the pool;
 * LOADING: another lookup is in flight for it;
 * MISS: the caller is to fetch it, and holds the entry's "loading" for
 * at most "loading" ms; *gen is to be given back to ngx_http_ir_cache_put().
 */

ngx_int_t
ngx_http_ir_cache_get(ngx_http_ir_cache_t *cache, ngx_str_t *name,
    ngx_msec_t loading, ngx_uint_t *gen, ngx_msec_t *seen,
    ngx_http_ir_record_t *rec, ngx_pool_t *pool)
{
    size_t                     size;
    uint32_t                   hash;
    ngx_int_t                  rc;
    ngx_msec_t                 now, age;
    ngx_http_ir_cache_node_t  *cn;

    *gen = 0;
    *seen = 0;

    if (cache->sh == NULL || name->len > NGX_HTTP_IR_NAME_MAX) {
        return NGX_HTTP_IR_CACHE_MISS;
    }

    hash = ngx_crc32_short(name->data, name->len);

    switch (ngx_http_ir_cache_take(cache, name, hash, cache->ttl, &size,
                                   &age, seen))
    {
    case NGX_OK:
        return (ngx_http_ir_record_unpack(ngx_http_ir_cache_buf, size, rec,
                                          pool)
                == NGX_OK) ? NGX_HTTP_IR_CACHE_FRESH : NGX_HTTP_IR_CACHE_MISS;

    case NGX_ERROR:
        return NGX_HTTP_IR_CACHE_MISS;

    default:
        break;
    }

    /* not fresh: it is being fetched, or this worker is to fetch it */

    now = ngx_current_msec;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_ir_cache_find(cache, name, hash);

    if (cn && (ngx_msec_int_t) (cn->loading - now) > 0) {
        rc = NGX_HTTP_IR_CACHE_LOADING;
        goto done;
    }

    if (cn == NULL) {
        cn = ngx_http_ir_cache_create(cache, name, hash);
    }

    if (cn) {
        cn->loading = now + loading;
        *gen = cn->gen;
    }

    rc = NGX_HTTP_IR_CACHE_MISS;

done:

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


/* a record still young enough to decide while Redis is unavailable */

ngx_int_t
ngx_http_ir_cache_get_stale(ngx_http_ir_cache_t *cache, ngx_str_t *name,
    ngx_http_ir_record_t *rec, ngx_msec_t *age, ngx_pool_t *pool)
{
    size_t      size;
    ngx_msec_t  seen;

    if (cache->sh == NULL || name->len > NGX_HTTP_IR_NAME_MAX
        || ngx_http_ir_cache_take(cache, name,
                                  ngx_crc32_short(name->data, name->len),
                                  cache->ttl + cache->stale, &size, age,
                                  &seen)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return ngx_http_ir_record_unpack(ngx_http_ir_cache_buf, size, rec, pool);
}


/*
 * Under the lock, an entry usable within "age" is copied into the
 * worker's buffer, grown first where it is too small, and moved up the
 * LRU: NGX_OK, NGX_DECLINED when there is none, NGX_ERROR without memory.
 * When its "seen" was last written is read on the way, so that the log
 * phase need not take the lock again to know it is not due.
 */

static ngx_int_t
ngx_http_ir_cache_take(ngx_http_ir_cache_t *cache, ngx_str_t *name,
    uint32_t hash, ngx_msec_t age, size_t *size, ngx_msec_t *fetched,
    ngx_msec_t *seen)
{
    ngx_int_t                  rc;
    ngx_msec_t                 now;
    ngx_http_ir_cache_node_t  *cn;

    now = ngx_current_msec;

    for ( ;; ) {
        rc = NGX_DECLINED;

        ngx_shmtx_lock(&cache->shpool->mutex);

        cn = ngx_http_ir_cache_find(cache, name, hash);

        if (cn && ngx_http_ir_cache_usable(cache, cn, now, age)) {
            *size = cn->size;
            *fetched = now - cn->fetched;
            *seen = cn->seen;

            if (cn->size <= ngx_http_ir_cache_buf_size) {
                ngx_memcpy(ngx_http_ir_cache_buf, cn->block, cn->size);

                if (now - cn->used >= NGX_HTTP_IR_CACHE_TOUCH) {
                    cn->used = now;
                    ngx_queue_remove(&cn->queue);
                    ngx_queue_insert_head(&cache->sh->queue, &cn->queue);
                }

                rc = NGX_OK;

            } else {
                rc = NGX_AGAIN;
            }
        }

        ngx_shmtx_unlock(&cache->shpool->mutex);

        if (rc != NGX_AGAIN) {
            return rc;
        }

        if (ngx_http_ir_cache_grow(*size) != NGX_OK) {
            return NGX_ERROR;
        }
    }
}


/*
 * An entry decides within "age" of its fetch, unless an edit of its
 * organisation came after it; "epoch" (all entries made old at once)
 * counts for freshness only, so that stale data may still decide.
 */

static ngx_uint_t
ngx_http_ir_cache_usable(ngx_http_ir_cache_t *cache,
    ngx_http_ir_cache_node_t *cn, ngx_msec_t now, ngx_msec_t age)
{
    if (cn->block == NULL || now - cn->fetched >= age) {
        return 0;
    }

    if (cn->org && cn->org_gen != cn->org->gen) {
        return 0;
    }

    return age > cache->ttl || cn->epoch == cache->sh->epoch;
}


static ngx_int_t
ngx_http_ir_cache_grow(size_t size)
{
    u_char  *buf;

    buf = ngx_alloc(size, ngx_cycle->log);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_ir_cache_buf) {
        ngx_free(ngx_http_ir_cache_buf);
    }

    ngx_http_ir_cache_buf = buf;
    ngx_http_ir_cache_buf_size = size;

    return NGX_OK;
}


void
ngx_http_ir_cache_put(ngx_http_ir_cache_t *cache, ngx_str_t *name,
    ngx_uint_t gen, ngx_str_t *org, u_char *block, size_t size,
    ngx_log_t *log)
{
    uint32_t                   hash;
    u_char                    *copy;
    ngx_http_ir_cache_node_t  *cn;

    if (cache->sh == NULL || name->len > NGX_HTTP_IR_NAME_MAX
        || org->len > NGX_HTTP_IR_NAME_MAX)
    {
        return;
    }

    hash = ngx_crc32_short(name->data, name->len);

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_ir_cache_find(cache, name, hash);

    if (cn == NULL) {
        cn = ngx_http_ir_cache_create(cache, name, hash);
        if (cn == NULL) {
            goto done;
        }

        gen = cn->gen;
    }

    cn->loading = 0;

    if (cn->gen != gen) {
        /* invalidated while it was being fetched: what was read is old */
        goto done;
    }

    if (cn->block) {
        ngx_slab_free_locked(cache->shpool, cn->block);
        cn->block = NULL;
    }

    ngx_http_ir_cache_follow(cache, cn, org->len
                                        ? ngx_http_ir_cache_org(cache, org, cn)
                                        : NULL);

    copy = ngx_http_ir_cache_alloc(cache, size, cn);
    if (copy == NULL) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "ir_access: no room for the record of user \"%V\" "
                      "in the cache zone \"%V\"", name,
                      &cache->shm_zone->shm.name);
        goto done;
    }

    ngx_memcpy(copy, block, size);

    cn->block = copy;
    cn->size = size;
    cn->fetched = ngx_current_msec;
    cn->epoch = cache->sh->epoch;

done:

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/* a lookup that failed gives the entry up to the next one */

void
ngx_http_ir_cache_release(ngx_http_ir_cache_t *cache, ngx_str_t *name)
{
    ngx_http_ir_cache_touch(cache, name, 0);
}


/* an admin's edit, or the module's own write, makes the entry old */

void
ngx_http_ir_cache_drop_user(ngx_http_ir_cache_t *cache, ngx_str_t *name)
{
    ngx_http_ir_cache_touch(cache, name, 1);
}


static void
ngx_http_ir_cache_touch(ngx_http_ir_cache_t *cache, ngx_str_t *name,
    ngx_uint_t drop)
{
    ngx_http_ir_cache_node_t  *cn;

    if (cache->sh == NULL || name->len > NGX_HTTP_IR_NAME_MAX) {
        return;
    }

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_ir_cache_find(cache, name,
                                ngx_crc32_short(name->data, name->len));
    if (cn) {
        if (drop) {
            ngx_http_ir_cache_expire(cache, cn);

        } else {
            cn->loading = 0;
        }
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/* an organisation's edit makes every entry of its users old at once */

void
ngx_http_ir_cache_drop_org(ngx_http_ir_cache_t *cache, ngx_str_t *org)
{
    ngx_http_ir_cache_org_t  *co;

    if (cache->sh == NULL || org->len > NGX_HTTP_IR_NAME_MAX) {
        return;
    }

    ngx_shmtx_lock(&cache->shpool->mutex);

    co = ngx_http_ir_cache_org(cache, org, NULL);
    if (co) {
        co->gen++;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/*
 * Every entry stops being fresh, but may still decide while Redis is
 * down: used when notifications may have been missed.
 */

void
ngx_http_ir_cache_drop_all(ngx_http_ir_cache_t *cache)
{
    if (cache->sh == NULL) {
        return;
    }

    ngx_shmtx_lock(&cache->shpool->mutex);
    cache->sh->epoch++;
    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/*
 * Whether the user's "seen" is to be written again, at most every "every"
 * ms for all the host's workers; a user the cache has no entry for is.
 */

ngx_uint_t
ngx_http_ir_cache_seen(ngx_http_ir_cache_t *cache, ngx_str_t *name,
    ngx_msec_t every)
{
    ngx_uint_t                 due;
    ngx_http_ir_cache_node_t  *cn;

    if (cache->sh == NULL || name->len > NGX_HTTP_IR_NAME_MAX) {
        return 1;
    }

    due = 1;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_ir_cache_find(cache, name,
                                ngx_crc32_short(name->data, name->len));

    if (cn) {
        if (cn->seen && ngx_current_msec - cn->seen < every) {
            due = 0;

        } else {
            cn->seen = ngx_current_msec;
        }
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return due;
}


/* for the metrics */

ngx_uint_t
ngx_http_ir_cache_entries(ngx_http_ir_cache_t *cache)
{
    return cache->sh ? cache->sh->entries : 0;
}


size_t
ngx_http_ir_cache_free(ngx_http_ir_cache_t *cache)
{
    size_t  free;

    if (cache->sh == NULL) {
        return 0;
    }

    ngx_shmtx_lock(&cache->shpool->mutex);
    free = cache->shpool->pfree * ngx_pagesize;
    ngx_shmtx_unlock(&cache->shpool->mutex);

    return free;
}


/* an exiting worker frees its copy buffer */

void
ngx_http_ir_cache_exit(void)
{
    if (ngx_http_ir_cache_buf) {
        ngx_free(ngx_http_ir_cache_buf);
        ngx_http_ir_cache_buf = NULL;
        ngx_http_ir_cache_buf_size = 0;
    }
}


static ngx_http_ir_cache_node_t *
ngx_http_ir_cache_find(ngx_http_ir_cache_t *cache, ngx_str_t *name,
    uint32_t hash)
{
    ngx_rbtree_node_t          *node;
    ngx_http_ir_cache_node_t   *cn, **front;

    front = &cache->sh->front[hash & cache->sh->front_mask];
    cn = *front;

    if (cn
        && ngx_http_ir_cache_rbnode(cn)->key == hash
        && cn->len == name->len
        && ngx_memcmp(cn->name, name->data, name->len) == 0)
    {
        return cn;
    }

    node = ngx_http_ir_shm_lookup(&cache->sh->rbtree, hash,
                                  ngx_http_ir_cache_cmp, name);
    if (node == NULL) {
        return NULL;
    }

    cn = ngx_http_ir_cache_node(node);
    *front = cn;

    return cn;
}


static ngx_int_t
ngx_http_ir_cache_cmp(ngx_rbtree_node_t *node, void *data)
{
    ngx_str_t                 *name;
    ngx_http_ir_cache_node_t  *cn;

    name = data;
    cn = ngx_http_ir_cache_node(node);

    return ngx_memn2cmp(name->data, cn->name, name->len, (size_t) cn->len);
}


static ngx_http_ir_cache_node_t *
ngx_http_ir_cache_create(ngx_http_ir_cache_t *cache, ngx_str_t *name,
    uint32_t hash)
{
    size_t                     size;
    ngx_rbtree_node_t         *node;
    ngx_http_ir_cache_node_t  *cn;

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_ir_cache_node_t, name)
           + name->len;

    node = ngx_http_ir_cache_alloc(cache, size, NULL);
    if (node == NULL) {
        return NULL;
    }

    node->key = hash;

    cn = ngx_http_ir_cache_node(node);

    cn->len = (u_char) name->len;
    cn->gen = 1;
    cn->epoch = 0;
    cn->org = NULL;
    cn->org_gen = 0;
    cn->fetched = 0;
    cn->loading = 0;
    cn->used = ngx_current_msec;
    cn->seen = 0;
    cn->block = NULL;
    cn->size = 0;
    ngx_memcpy(cn->name, name->data, name->len);

    ngx_rbtree_insert(&cache->sh->rbtree, node);
    ngx_queue_insert_head(&cache->sh->queue, &cn->queue);

    cache->sh->entries++;

    return cn;
}


/*
 * An organisation's node, found or, for the entry "create", made; the
 * room for it is never made by giving up that entry.
 */

static ngx_http_ir_cache_org_t *
ngx_http_ir_cache_org(ngx_http_ir_cache_t *cache, ngx_str_t *name,
    ngx_http_ir_cache_node_t *create)
{
    uint32_t                  hash;
    ngx_str_node_t           *sn;
    ngx_http_ir_cache_org_t  *co;

    hash = ngx_crc32_short(name->data, name->len);

    sn = ngx_str_rbtree_lookup(&cache->sh->orgs, name, hash);

    if (sn) {
        return (ngx_http_ir_cache_org_t *) sn;
    }

    if (create == NULL) {
        return NULL;
    }

    co = ngx_http_ir_cache_alloc(cache, sizeof(ngx_http_ir_cache_org_t)
                                        + name->len, create);
    if (co == NULL) {
        return NULL;
    }

    ngx_memcpy(co->name, name->data, name->len);
    co->len = (u_char) name->len;
    co->gen = 1;
    co->refs = 0;

    co->sn.node.key = hash;
    co->sn.str.len = name->len;
    co->sn.str.data = co->name;

    ngx_rbtree_insert(&cache->sh->orgs, &co->sn.node);

    return co;
}


/* the entry follows its organisation's edits from now on */

static void
ngx_http_ir_cache_follow(ngx_http_ir_cache_t *cache,
    ngx_http_ir_cache_node_t *cn, ngx_http_ir_cache_org_t *org)
{
    if (org) {
        org->refs++;
    }

    if (cn->org && --cn->org->refs == 0) {
        ngx_rbtree_delete(&cache->sh->orgs, &cn->org->sn.node);
        ngx_slab_free_locked(cache->shpool, cn->org);
    }

    cn->org = org;
    cn->org_gen = org ? org->gen : 0;
}


/* when the zone is full, the least recently used entries make room */

static void *
ngx_http_ir_cache_alloc(ngx_http_ir_cache_t *cache, size_t size,
    ngx_http_ir_cache_node_t *keep)
{
    void                      *p;
    ngx_uint_t                 n;
    ngx_queue_t               *q;
    ngx_http_ir_cache_node_t  *cn;

    for ( ;; ) {
        p = ngx_slab_alloc_locked(cache->shpool, size);
        if (p) {
            return p;
        }

        for (n = 0; n < NGX_HTTP_IR_CACHE_EVICT; n++) {
            if (ngx_queue_empty(&cache->sh->queue)) {
                return NULL;
            }

            q = ngx_queue_last(&cache->sh->queue);
            cn = ngx_queue_data(q, ngx_http_ir_cache_node_t, queue);

            if (cn == keep) {
                if (ngx_queue_prev(q) == ngx_queue_sentinel(&cache->sh->queue))
                {
                    return NULL;
                }

                cn = ngx_queue_data(ngx_queue_prev(q),
                                    ngx_http_ir_cache_node_t, queue);
            }

            ngx_http_ir_cache_delete(cache, cn);
        }
    }
}


static void
ngx_http_ir_cache_expire(ngx_http_ir_cache_t *cache,
    ngx_http_ir_cache_node_t *cn)
{
    cn->gen++;
    cn->fetched = 0;

    if (cn->block) {
        ngx_slab_free_locked(cache->shpool, cn->block);
        cn->block = NULL;
    }
}


static void
ngx_http_ir_cache_delete(ngx_http_ir_cache_t *cache,
    ngx_http_ir_cache_node_t *cn)
{
    ngx_rbtree_node_t  *node;

    if (cn->block) {
        ngx_slab_free_locked(cache->shpool, cn->block);
    }

    ngx_http_ir_cache_follow(cache, cn, NULL);

    ngx_queue_remove(&cn->queue);

    node = ngx_http_ir_cache_rbnode(cn);

    if (cache->sh->front[node->key & cache->sh->front_mask] == cn) {
        cache->sh->front[node->key & cache->sh->front_mask] = NULL;
    }

    ngx_rbtree_delete(&cache->sh->rbtree, node);

    ngx_slab_free_locked(cache->shpool, node);

    cache->sh->entries--;
}


static void
ngx_http_ir_cache_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_str_t                  name;
    ngx_http_ir_cache_node_t  *cn;

    cn = ngx_http_ir_cache_node(node);

    name.data = cn->name;
    name.len = cn->len;

    ngx_http_ir_shm_insert(temp, node, sentinel, ngx_http_ir_cache_cmp, &name);
}
