
/*
 * ir-access: the shared cache of user records.
 *
 * Packed records (see ngx_http_ir_record.c) live in a shared memory zone
 * for all workers, in nginx's manner: an rbtree keyed by the user's name,
 * an LRU queue that gives up the oldest entries when the zone is full,
 * and the zone kept across reloads.  A record for a user Redis does not
 * know is cached too (a negative entry).
 *
 * An entry also says that a worker is fetching it ("loading"), so that
 * however many requests for one user arrive, on whichever workers, one
 * lookup is in flight.  Each entry has a generation that an invalidation
 * bumps: a lookup that started before an admin's edit cannot store what
 * it read as fresh.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_access.h"
#include "ngx_http_ir_cache.h"
#include "ngx_http_ir_record.h"


/* changed whenever the layout of nodes or records changes */
#define NGX_HTTP_IR_CACHE_VERSION  2

#define NGX_HTTP_IR_CACHE_NAME_MAX  64


typedef struct {
    u_char                         color;
    u_char                         len;
    u_char                         org_len;
    u_char                         dummy;
    ngx_uint_t                     gen;
    ngx_uint_t                     epoch;
    ngx_msec_t                     fetched;       /* wall clock, 0: none */
    ngx_msec_t                     loading;       /* until, wall clock */
    ngx_msec_t                     used;          /* moved up the LRU */
    ngx_queue_t                    queue;
    u_char                        *block;
    size_t                         size;
    u_char                         org[NGX_HTTP_IR_CACHE_NAME_MAX];
    u_char                         name[1];
} ngx_http_ir_cache_node_t;


struct ngx_http_ir_cache_sh_s {
    ngx_uint_t                     version;
    ngx_rbtree_t                   rbtree;
    ngx_rbtree_node_t              sentinel;
    ngx_queue_t                    queue;
    ngx_uint_t                     epoch;

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
static void ngx_http_ir_cache_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_ir_cache_node_t *ngx_http_ir_cache_find(
    ngx_http_ir_cache_t *cache, ngx_str_t *name, uint32_t hash);
static ngx_http_ir_cache_node_t *ngx_http_ir_cache_create(
    ngx_http_ir_cache_t *cache, ngx_str_t *name, uint32_t hash);
static void *ngx_http_ir_cache_alloc(ngx_http_ir_cache_t *cache, size_t size,
    ngx_http_ir_cache_node_t *keep);
static void ngx_http_ir_cache_touch(ngx_http_ir_cache_t *cache,
    ngx_str_t *name, ngx_uint_t drop);
static void ngx_http_ir_cache_expire(ngx_http_ir_cache_t *cache,
    ngx_http_ir_cache_node_t *cn);
static void ngx_http_ir_cache_delete(ngx_http_ir_cache_t *cache,
    ngx_http_ir_cache_node_t *cn);
static ngx_msec_t ngx_http_ir_cache_now(void);


#define ngx_http_ir_cache_node(rbnode)                                      \
    ((ngx_http_ir_cache_node_t *) &(rbnode)->color)

#define ngx_http_ir_cache_rbnode(cn)                                        \
    ((ngx_rbtree_node_t *) ((u_char *) (cn)                                 \
                            - offsetof(ngx_rbtree_node_t, color)))


char *
ngx_http_ir_cache_conf(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t n,
    ngx_http_ir_cache_t **cachep)
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
    cache->ttl = 30000;
    cache->stale = 60000;

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

            if (size < (ssize_t) (8 * ngx_pagesize)) {
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
                                            &ngx_http_ir_access_module);
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

    size_t                len;
    ngx_uint_t            n;
    ngx_http_ir_cache_t  *cache;

    cache = shm_zone->data;

    if (ocache) {
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;

        if (cache->sh && cache->sh->version != NGX_HTTP_IR_CACHE_VERSION) {
            goto other_version;
        }

        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;

        if (cache->sh->version != NGX_HTTP_IR_CACHE_VERSION) {
            goto other_version;
        }

        return NGX_OK;
    }

    cache->sh = ngx_slab_alloc(cache->shpool, sizeof(ngx_http_ir_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;

    cache->sh->version = NGX_HTTP_IR_CACHE_VERSION;
    cache->sh->epoch = 1;

    /* a slot for every kilobyte of the zone, in a power of two */

    n = 64;
    while (n * 2 <= shm_zone->shm.size / 1024) {
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

    ngx_queue_init(&cache->sh->queue);

    len = sizeof(" in ir_access_cache zone \"\"") + shm_zone->shm.name.len;

    cache->shpool->log_ctx = ngx_slab_alloc(cache->shpool, len);
    if (cache->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cache->shpool->log_ctx, " in ir_access_cache zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone is normal: the oldest entries make room */
    cache->shpool->log_nomem = 0;

    return NGX_OK;

other_version:

    /* old workers still use the zone: it cannot be wiped under them */

    ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, 0,
                  "ir_access_cache zone \"%V\" was laid out by another "
                  "version of the module; the cache is off until nginx is "
                  "restarted", &shm_zone->shm.name);

    cache->sh = NULL;

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
    ngx_msec_t loading, ngx_uint_t *gen, ngx_http_ir_record_t *rec,
    ngx_pool_t *pool)
{
    uint32_t                   hash;
    ngx_int_t                  rc;
    ngx_msec_t                 now;
    ngx_http_ir_cache_node_t  *cn;

    *gen = 0;

    if (cache->sh == NULL || name->len > NGX_HTTP_IR_CACHE_NAME_MAX) {
        return NGX_HTTP_IR_CACHE_MISS;
    }

    hash = ngx_crc32_short(name->data, name->len);
    now = ngx_http_ir_cache_now();

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_ir_cache_find(cache, name, hash);

    if (cn
        && cn->block
        && cn->epoch == cache->sh->epoch
        && now - cn->fetched < cache->ttl)
    {
        /*
         * Once a second is recent enough for the LRU, and spares a hit
         * the writes to its neighbours, which with many users are
         * mostly cache misses.
         */

        if (now - cn->used >= 1000) {
            cn->used = now;
            ngx_queue_remove(&cn->queue);
            ngx_queue_insert_head(&cache->sh->queue, &cn->queue);
        }

        rc = (ngx_http_ir_record_unpack(cn->block, cn->size, rec, pool)
              == NGX_OK) ? NGX_HTTP_IR_CACHE_FRESH : NGX_HTTP_IR_CACHE_MISS;
        goto done;
    }

    if (cn && cn->loading > now) {
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
    uint32_t                   hash;
    ngx_int_t                  rc;
    ngx_msec_t                 now;
    ngx_http_ir_cache_node_t  *cn;

    if (cache->sh == NULL || name->len > NGX_HTTP_IR_CACHE_NAME_MAX) {
        return NGX_DECLINED;
    }

    hash = ngx_crc32_short(name->data, name->len);
    now = ngx_http_ir_cache_now();

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_ir_cache_find(cache, name, hash);

    if (cn && cn->block && now - cn->fetched < cache->ttl + cache->stale) {
        *age = now - cn->fetched;
        rc = ngx_http_ir_record_unpack(cn->block, cn->size, rec, pool);
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


void
ngx_http_ir_cache_put(ngx_http_ir_cache_t *cache, ngx_str_t *name,
    ngx_uint_t gen, ngx_str_t *org, u_char *block, size_t size,
    ngx_log_t *log)
{
    uint32_t                   hash;
    u_char                    *copy;
    ngx_http_ir_cache_node_t  *cn;

    if (cache->sh == NULL || name->len > NGX_HTTP_IR_CACHE_NAME_MAX) {
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
    cn->fetched = ngx_http_ir_cache_now();
    cn->epoch = cache->sh->epoch;
    cn->org_len = (u_char) ngx_min(org->len, NGX_HTTP_IR_CACHE_NAME_MAX);
    ngx_memcpy(cn->org, org->data, cn->org_len);

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

    if (cache->sh == NULL || name->len > NGX_HTTP_IR_CACHE_NAME_MAX) {
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


/* an organisation's change concerns every user of it */

void
ngx_http_ir_cache_drop_org(ngx_http_ir_cache_t *cache, ngx_str_t *org)
{
    ngx_queue_t               *q;
    ngx_http_ir_cache_node_t  *cn;

    if (cache->sh == NULL) {
        return;
    }

    ngx_shmtx_lock(&cache->shpool->mutex);

    for (q = ngx_queue_head(&cache->sh->queue);
         q != ngx_queue_sentinel(&cache->sh->queue);
         q = ngx_queue_next(q))
    {
        cn = ngx_queue_data(q, ngx_http_ir_cache_node_t, queue);

        if (cn->org_len == org->len
            && ngx_strncmp(cn->org, org->data, org->len) == 0)
        {
            ngx_http_ir_cache_expire(cache, cn);
        }
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


static ngx_http_ir_cache_node_t *
ngx_http_ir_cache_find(ngx_http_ir_cache_t *cache, ngx_str_t *name,
    uint32_t hash)
{
    ngx_int_t                   rc;
    ngx_rbtree_node_t          *node, *sentinel;
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

    node = cache->sh->rbtree.root;
    sentinel = cache->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        /* hash == node->key */

        cn = ngx_http_ir_cache_node(node);

        rc = ngx_memn2cmp(name->data, cn->name, name->len, (size_t) cn->len);

        if (rc == 0) {
            *front = cn;
            return cn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
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
    cn->org_len = 0;
    cn->gen = 1;
    cn->epoch = 0;
    cn->fetched = 0;
    cn->loading = 0;
    cn->used = ngx_http_ir_cache_now();
    cn->block = NULL;
    cn->size = 0;
    ngx_memcpy(cn->name, name->data, name->len);

    ngx_rbtree_insert(&cache->sh->rbtree, node);
    ngx_queue_insert_head(&cache->sh->queue, &cn->queue);

    return cn;
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

        for (n = 0; n < 16; n++) {
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

    ngx_queue_remove(&cn->queue);

    node = ngx_http_ir_cache_rbnode(cn);

    if (cache->sh->front[node->key & cache->sh->front_mask] == cn) {
        cache->sh->front[node->key & cache->sh->front_mask] = NULL;
    }

    ngx_rbtree_delete(&cache->sh->rbtree, node);

    ngx_slab_free_locked(cache->shpool, node);
}


static ngx_msec_t
ngx_http_ir_cache_now(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (ngx_msec_t) tp->sec * 1000 + tp->msec;
}


static void
ngx_http_ir_cache_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t         **p;
    ngx_http_ir_cache_node_t   *cn, *cnt;

    for ( ;; ) {

        if (node->key < temp->key) {

            p = &temp->left;

        } else if (node->key > temp->key) {

            p = &temp->right;

        } else { /* node->key == temp->key */

            cn = ngx_http_ir_cache_node(node);
            cnt = ngx_http_ir_cache_node(temp);

            p = (ngx_memn2cmp(cn->name, cnt->name, cn->len, cnt->len) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}
