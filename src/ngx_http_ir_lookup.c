
/*
 * ir-access: fetching a user's record from Redis in one round trip.
 *
 * Requests for one user that arrive while a lookup of that user is in
 * flight wait for it instead of sending their own (a "flight" per user
 * and worker; the shared cache keeps other workers from starting theirs).
 * The flight belongs to the worker, not to a request: it outlives a
 * client that leaves, fills the cache, and hands every waiter the packed
 * record.  What is asked and how the reply reads is in
 * ngx_http_ir_store.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_lookup.h"
#include "ngx_http_ir_metrics.h"
#include "ngx_http_ir_record.h"
#include "ngx_http_ir_schema.h"
#include "ngx_http_ir_store.h"


typedef struct {
    ngx_str_node_t                 sn;            /* first: found is this */
    ngx_queue_t                    waiters;
    ngx_http_ir_source_t           src;
    ngx_pool_t                    *pool;
    ngx_uint_t                     gen;
    struct timespec                started;
    u_char                         name_data[NGX_HTTP_IR_NAME_MAX];
} ngx_http_ir_flight_t;


static ngx_http_ir_flight_t *ngx_http_ir_lookup_flight(ngx_str_t *name);
static void ngx_http_ir_lookup_reply(void *data, redisReply *reply);
static void ngx_http_ir_lookup_land(ngx_http_ir_flight_t *flight,
    u_char *block, size_t size);


/* this worker's flights, found by the user's name in nginx's string tree */
static ngx_rbtree_t       ngx_http_ir_flights;
static ngx_rbtree_node_t  ngx_http_ir_flights_sentinel;


void
ngx_http_ir_lookup_init(void)
{
    ngx_rbtree_init(&ngx_http_ir_flights, &ngx_http_ir_flights_sentinel,
                    ngx_str_rbtree_insert_value);
}


/*
 * Joins this worker's flight for the user, or, with "start", starts one.
 * NGX_OK: the waiter's handler will be called; NGX_DECLINED: no flight and
 * none started; NGX_ERROR: Redis cannot take the lookup now.
 */

ngx_int_t
ngx_http_ir_lookup_wait(ngx_http_ir_source_t *src, ngx_str_t *name,
    ngx_uint_t start, ngx_uint_t gen, ngx_http_ir_waiter_t *w,
    ngx_log_t *log)
{
    ngx_http_ir_args_t     args;
    ngx_http_ir_flight_t  *flight;

    flight = ngx_http_ir_lookup_flight(name);

    if (flight == NULL) {

        if (!start) {
            return NGX_DECLINED;
        }

        if (name->len > NGX_HTTP_IR_NAME_MAX) {
            return NGX_ERROR;
        }

        flight = ngx_alloc(sizeof(ngx_http_ir_flight_t), log);
        if (flight == NULL) {
            return NGX_ERROR;
        }

        flight->pool = ngx_create_pool(4096, ngx_cycle->log);
        if (flight->pool == NULL) {
            ngx_free(flight);
            return NGX_ERROR;
        }

        flight->src = *src;
        flight->gen = gen;
        (void) clock_gettime(CLOCK_MONOTONIC, &flight->started);
        flight->sn.str.data = flight->name_data;
        flight->sn.str.len = name->len;
        flight->sn.node.key = ngx_crc32_short(name->data, name->len);
        ngx_memcpy(flight->name_data, name->data, name->len);
        ngx_queue_init(&flight->waiters);

        ngx_http_ir_store_lookup(&args, src->prefix, &flight->sn.str);

        if (ngx_http_ir_redis_eval(src->redis, &ngx_http_ir_script_lookup,
                                   &args, ngx_http_ir_lookup_reply, flight)
            == NULL)
        {
            ngx_destroy_pool(flight->pool);
            ngx_free(flight);

            if (src->cache) {
                ngx_http_ir_cache_release(src->cache, name);
            }

            return NGX_ERROR;
        }

        ngx_rbtree_insert(&ngx_http_ir_flights, &flight->sn.node);
    }

    ngx_queue_insert_tail(&flight->waiters, &w->queue);
    w->flight = flight;

    return NGX_OK;
}


void
ngx_http_ir_lookup_leave(ngx_http_ir_waiter_t *w)
{
    if (w->flight) {
        ngx_queue_remove(&w->queue);
        w->flight = NULL;
    }
}


static ngx_http_ir_flight_t *
ngx_http_ir_lookup_flight(ngx_str_t *name)
{
    ngx_str_node_t  *sn;

    sn = ngx_str_rbtree_lookup(&ngx_http_ir_flights, name,
                               ngx_crc32_short(name->data, name->len));

    return (ngx_http_ir_flight_t *) sn;
}


static void
ngx_http_ir_lookup_reply(void *data, redisReply *reply)
{
    ngx_http_ir_flight_t *flight = data;

    u_char                *block;
    size_t                 size;
    ngx_str_t              org;
    struct timespec        now;
    ngx_http_ir_record_t   rec;

    if (reply == NULL
        || ngx_http_ir_store_lookup_reply(reply, flight->src.prefix,
                                          &flight->sn.str, &rec, flight->pool,
                                          ngx_cycle->log)
           != NGX_OK)
    {
        goto failed;
    }

    (void) clock_gettime(CLOCK_MONOTONIC, &now);

    ngx_http_ir_metrics_lookup(
                (now.tv_sec - flight->started.tv_sec) * 1000000
                + (now.tv_nsec - flight->started.tv_nsec) / 1000);

    size = ngx_http_ir_record_size(&rec);

    block = ngx_palloc(flight->pool, size);
    if (block == NULL) {
        goto failed;
    }

    ngx_http_ir_record_pack(&rec, block);

    if (flight->src.cache) {
        /* the organisation the entry follows: none for a bad user record */

        if (rec.user.found && rec.user.bad.data == NULL && rec.user.org.data)
        {
            org = rec.user.org;

        } else {
            ngx_str_set(&org, "");
        }

        ngx_http_ir_cache_put(flight->src.cache, &flight->sn.str, flight->gen,
                              &org, block, size, ngx_cycle->log);
    }

    ngx_http_ir_lookup_land(flight, block, size);

    return;

failed:

    if (flight->src.cache) {
        ngx_http_ir_cache_release(flight->src.cache, &flight->sn.str);
    }

    ngx_http_ir_lookup_land(flight, NULL, 0);
}


/* every waiter has the record (or the failure) before the flight ends */

static void
ngx_http_ir_lookup_land(ngx_http_ir_flight_t *flight, u_char *block,
    size_t size)
{
    ngx_queue_t           *q;
    ngx_http_ir_waiter_t  *w;

    ngx_rbtree_delete(&ngx_http_ir_flights, &flight->sn.node);

    while (!ngx_queue_empty(&flight->waiters)) {
        q = ngx_queue_head(&flight->waiters);
        ngx_queue_remove(q);

        w = ngx_queue_data(q, ngx_http_ir_waiter_t, queue);
        w->flight = NULL;

        w->handler(w, block, size);
    }

    ngx_destroy_pool(flight->pool);
    ngx_free(flight);
}
