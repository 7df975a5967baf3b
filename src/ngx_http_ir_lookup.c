
/*
 * ir-access: fetching a user's record from Redis in one round trip.
 *
 * Requests for one user that arrive while a lookup of that user is in
 * flight wait for it instead of sending their own (a "flight" per user
 * and worker; the shared cache keeps other workers from starting theirs).
 * The flight belongs to the worker, not to a request: it outlives a
 * client that leaves, fills the cache, and hands every waiter the packed
 * record.
 *
 * A server-side script reads the user's hash and allowlist, and the
 * organisation's hash and scopes that the user's "org" field names, so
 * that every later step of the decision has its data without another
 * round trip.  The script checks each key's type first: a key of the
 * wrong type, written by a typo in redis-cli, comes back as that type and
 * is refused here with a log line, never as a script error.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/sha.h>

#include "ngx_http_ir_addr.h"
#include "ngx_http_ir_cache.h"
#include "ngx_http_ir_lookup.h"
#include "ngx_http_ir_metrics.h"
#include "ngx_http_ir_record.h"


/* bounds on what a record may hold, far above any real contract's */

#define NGX_HTTP_IR_FIELDS_MAX   64
#define NGX_HTTP_IR_IPS_MAX      4096
#define NGX_HTTP_IR_SCOPES_MAX   1024
#define NGX_HTTP_IR_VALUE_MAX    4096

#define NGX_HTTP_IR_STR_(n)      #n
#define NGX_HTTP_IR_STR(n)       NGX_HTTP_IR_STR_(n)


typedef struct {
    ngx_str_t                      name;
    ngx_uint_t                     offset;
} ngx_http_ir_field_t;


typedef struct {
    ngx_queue_t                    queue;         /* in the worker's */
    ngx_queue_t                    waiters;
    ngx_http_ir_main_conf_t       *mcf;
    ngx_http_ir_redis_call_t      *call;
    ngx_pool_t                    *pool;
    ngx_uint_t                     gen;
    struct timespec                started;
    unsigned                       script_sent:1;
    ngx_str_t                      name;
    u_char                         name_data[64];
} ngx_http_ir_flight_t;


static ngx_http_ir_flight_t *ngx_http_ir_lookup_flight(ngx_str_t *name);
static void ngx_http_ir_lookup_reply(void *data, redisReply *reply);
static void ngx_http_ir_lookup_land(ngx_http_ir_flight_t *flight,
    u_char *block, size_t size);
static ngx_http_ir_redis_call_t *ngx_http_ir_lookup_send(
    ngx_http_ir_redis_t *redis, ngx_str_t *prefix, ngx_str_t *name,
    ngx_uint_t full, ngx_http_ir_redis_handler_pt handler, void *data,
    ngx_pool_t *pool);
static ngx_int_t ngx_http_ir_lookup_parse(redisReply *reply,
    ngx_str_t *prefix, ngx_str_t *name, ngx_http_ir_record_t *rec,
    ngx_pool_t *pool, ngx_log_t *log);


static ngx_int_t ngx_http_ir_lookup_type(redisReply *type, const char *kind,
    ngx_str_t *key, ngx_log_t *log);
static ngx_int_t ngx_http_ir_lookup_hash(redisReply *fields,
    ngx_http_ir_field_t *known, void *record, ngx_str_t *key,
    ngx_pool_t *pool, ngx_log_t *log);
static ngx_int_t ngx_http_ir_lookup_ips(redisReply *members,
    ngx_array_t *ips, ngx_str_t *key, ngx_pool_t *pool, ngx_log_t *log);
static ngx_int_t ngx_http_ir_lookup_scopes(redisReply *members,
    ngx_array_t *scopes, ngx_str_t *key, ngx_pool_t *pool, ngx_log_t *log);
static ngx_int_t ngx_http_ir_lookup_copy(redisReply *value, ngx_str_t *s,
    ngx_pool_t *pool);
static ngx_str_t *ngx_http_ir_lookup_key(ngx_pool_t *pool, ngx_str_t *prefix,
    const char *kind, ngx_str_t *name, const char *suffix);


/*
 * Every redis.call() costs Redis about a microsecond of its own, more
 * than the command it runs here, so the script makes few: an error from
 * pcall() tells a key of the wrong type without a TYPE call, a hash is
 * read at once and its size checked after, and the organisation's name
 * is taken from the user's fields already read.  A set's size is asked
 * first, so that an allowlist swollen by a script gone wrong is never
 * read.
 */

static const char  ngx_http_ir_lookup_script[] =
    "local function wrong(key)\n"
    "  return {redis.call('TYPE', key)['ok'], {}}\n"
    "end\n"
    "local function hash(key, limit)\n"
    "  local r = redis.pcall('HGETALL', key)\n"
    "  if r['err'] then return wrong(key) end\n"
    "  if #r == 0 then return {'none', {}} end\n"
    "  if #r > 2 * limit then return {'toolarge', {}} end\n"
    "  return {'hash', r}\n"
    "end\n"
    "local function set(key, limit)\n"
    "  local n = redis.pcall('SCARD', key)\n"
    "  if type(n) == 'table' then return wrong(key) end\n"
    "  if n == 0 then return {'none', {}} end\n"
    "  if n > limit then return {'toolarge', {}} end\n"
    "  return {'set', redis.call('SMEMBERS', key)}\n"
    "end\n"
    "local user = hash(KEYS[1], tonumber(ARGV[2]))\n"
    "local ips = set(KEYS[1] .. ':ips', tonumber(ARGV[3]))\n"
    "local org, scopes, fails = {'none', {}}, {'none', {}}, 0\n"
    "if user[1] == 'hash' then\n"
    "  local f = redis.pcall('GET', KEYS[1] .. ':fails')\n"
    "  if type(f) == 'table' then fails = 1\n"
    "  elseif f then fails = tonumber(f) or 1 end\n"
    "  local o, u = nil, user[2]\n"
    "  for i = 1, #u - 1, 2 do\n"
    "    if u[i] == 'org' then o = u[i + 1] break end\n"
    "  end\n"
    "  if o then\n"
    "    org = hash(ARGV[1] .. 'org:' .. o, tonumber(ARGV[2]))\n"
    "    scopes = set(ARGV[1] .. 'org:' .. o .. ':scopes', tonumber(ARGV[4]))\n"
    "  end\n"
    "end\n"
    "return {user[1], user[2], ips[1], ips[2],\n"
    "        org[1], org[2], scopes[1], scopes[2], fails}\n";


static u_char  ngx_http_ir_lookup_sha1[SHA_DIGEST_LENGTH * 2];

/* this worker's flights */
static ngx_queue_t  ngx_http_ir_flights;


static ngx_http_ir_field_t  ngx_http_ir_user_fields[] = {
    { ngx_string("org"), offsetof(ngx_http_ir_user_t, org) },
    { ngx_string("status"), offsetof(ngx_http_ir_user_t, status) },
    { ngx_string("cert"), offsetof(ngx_http_ir_user_t, cert) },
    { ngx_string("password"), offsetof(ngx_http_ir_user_t, password) },
    { ngx_string("unit"), offsetof(ngx_http_ir_user_t, unit) },
    { ngx_string("scopes"), offsetof(ngx_http_ir_user_t, scopes) },
    { ngx_null_string, 0 }
};


static ngx_http_ir_field_t  ngx_http_ir_org_fields[] = {
    { ngx_string("status"), offsetof(ngx_http_ir_org_t, status) },
    { ngx_string("name"), offsetof(ngx_http_ir_org_t, name) },
    { ngx_string("contract"), offsetof(ngx_http_ir_org_t, contract) },
    { ngx_string("env"), offsetof(ngx_http_ir_org_t, env) },
    { ngx_string("valid_from"), offsetof(ngx_http_ir_org_t, valid_from) },
    { ngx_string("valid_to"), offsetof(ngx_http_ir_org_t, valid_to) },
    { ngx_string("countries"), offsetof(ngx_http_ir_org_t, countries) },
    { ngx_null_string, 0 }
};


ngx_int_t
ngx_http_ir_lookup_init(ngx_log_t *log)
{
    u_char  md[SHA_DIGEST_LENGTH];

    if (SHA1((u_char *) ngx_http_ir_lookup_script,
             sizeof(ngx_http_ir_lookup_script) - 1, md)
        == NULL)
    {
        ngx_log_error(NGX_LOG_EMERG, log, 0, "ir_access: SHA1() failed");
        return NGX_ERROR;
    }

    ngx_hex_dump(ngx_http_ir_lookup_sha1, md, SHA_DIGEST_LENGTH);

    ngx_queue_init(&ngx_http_ir_flights);

    return NGX_OK;
}


/*
 * Joins this worker's flight for the user, or, with "start", starts one.
 * NGX_OK: the waiter's handler will be called; NGX_DECLINED: no flight and
 * none started; NGX_ERROR: Redis cannot take the lookup now.
 */

ngx_int_t
ngx_http_ir_lookup_wait(ngx_http_ir_main_conf_t *mcf, ngx_str_t *name,
    ngx_uint_t start, ngx_uint_t gen, ngx_http_ir_waiter_t *w,
    ngx_log_t *log)
{
    ngx_http_ir_flight_t  *flight;

    flight = ngx_http_ir_lookup_flight(name);

    if (flight == NULL) {

        if (!start) {
            return NGX_DECLINED;
        }

        if (name->len > sizeof(flight->name_data)) {
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

        flight->mcf = mcf;
        flight->gen = gen;
        (void) clock_gettime(CLOCK_MONOTONIC, &flight->started);
        flight->script_sent = 0;
        flight->name.data = flight->name_data;
        flight->name.len = name->len;
        ngx_memcpy(flight->name_data, name->data, name->len);
        ngx_queue_init(&flight->waiters);

        flight->call = ngx_http_ir_lookup_send(mcf->conn, &mcf->prefix,
                                               &flight->name, 0,
                                               ngx_http_ir_lookup_reply,
                                               flight, flight->pool);
        if (flight->call == NULL) {
            ngx_destroy_pool(flight->pool);
            ngx_free(flight);

            if (mcf->cache) {
                ngx_http_ir_cache_release(mcf->cache, name);
            }

            return NGX_ERROR;
        }

        ngx_queue_insert_tail(&ngx_http_ir_flights, &flight->queue);
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
    ngx_queue_t           *q;
    ngx_http_ir_flight_t  *flight;

    for (q = ngx_queue_head(&ngx_http_ir_flights);
         q != ngx_queue_sentinel(&ngx_http_ir_flights);
         q = ngx_queue_next(q))
    {
        flight = ngx_queue_data(q, ngx_http_ir_flight_t, queue);

        if (flight->name.len == name->len
            && ngx_strncmp(flight->name.data, name->data, name->len) == 0)
        {
            return flight;
        }
    }

    return NULL;
}


static void
ngx_http_ir_lookup_reply(void *data, redisReply *reply)
{
    ngx_http_ir_flight_t *flight = data;

    u_char                   *block;
    size_t                    size;
    ngx_int_t                 rc;
    ngx_str_t                 org;
    struct timespec           now;
    ngx_http_ir_record_t      rec;
    ngx_http_ir_main_conf_t  *mcf;

    mcf = flight->mcf;
    flight->call = NULL;

    if (reply == NULL) {
        goto failed;
    }

    rc = ngx_http_ir_lookup_parse(reply, &mcf->prefix, &flight->name, &rec,
                                  flight->pool, ngx_cycle->log);

    if (rc == NGX_AGAIN && !flight->script_sent) {
        flight->script_sent = 1;
        flight->call = ngx_http_ir_lookup_send(mcf->conn, &mcf->prefix,
                                               &flight->name, 1,
                                               ngx_http_ir_lookup_reply,
                                               flight, flight->pool);
        if (flight->call) {
            return;
        }
    }

    if (rc != NGX_OK) {
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

    if (mcf->cache) {
        org = rec.user.org;

        if (!rec.user.found || org.data == NULL) {
            ngx_str_null(&org);
        }

        ngx_http_ir_cache_put(mcf->cache, &flight->name, flight->gen, &org,
                              block, size, ngx_cycle->log);
    }

    ngx_http_ir_lookup_land(flight, block, size);

    return;

failed:

    if (mcf->cache) {
        ngx_http_ir_cache_release(mcf->cache, &flight->name);
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

    ngx_queue_remove(&flight->queue);

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


/*
 * EVALSHA spares sending the script each time; "full" sends it whole,
 * after Redis said NOSCRIPT (a new server, or SCRIPT FLUSH).
 */

static ngx_http_ir_redis_call_t *
ngx_http_ir_lookup_send(ngx_http_ir_redis_t *redis, ngx_str_t *prefix,
    ngx_str_t *name, ngx_uint_t full, ngx_http_ir_redis_handler_pt handler,
    void *data, ngx_pool_t *pool)
{
    size_t      len[8];
    ngx_str_t  *key;
    const char *argv[8];

    key = ngx_http_ir_lookup_key(pool, prefix, "user:", name, "");
    if (key == NULL) {
        return NULL;
    }

    if (full) {
        argv[0] = "EVAL";
        len[0] = 4;
        argv[1] = ngx_http_ir_lookup_script;
        len[1] = sizeof(ngx_http_ir_lookup_script) - 1;

    } else {
        argv[0] = "EVALSHA";
        len[0] = 7;
        argv[1] = (const char *) ngx_http_ir_lookup_sha1;
        len[1] = sizeof(ngx_http_ir_lookup_sha1);
    }

    argv[2] = "1";
    len[2] = 1;
    argv[3] = (const char *) key->data;
    len[3] = key->len;
    argv[4] = (const char *) prefix->data;
    len[4] = prefix->len;
    argv[5] = NGX_HTTP_IR_STR(NGX_HTTP_IR_FIELDS_MAX);
    len[5] = sizeof(NGX_HTTP_IR_STR(NGX_HTTP_IR_FIELDS_MAX)) - 1;
    argv[6] = NGX_HTTP_IR_STR(NGX_HTTP_IR_IPS_MAX);
    len[6] = sizeof(NGX_HTTP_IR_STR(NGX_HTTP_IR_IPS_MAX)) - 1;
    argv[7] = NGX_HTTP_IR_STR(NGX_HTTP_IR_SCOPES_MAX);
    len[7] = sizeof(NGX_HTTP_IR_STR(NGX_HTTP_IR_SCOPES_MAX)) - 1;

    return ngx_http_ir_redis_command(redis, handler, data, 8, argv, len);
}


/*
 * NGX_OK with the record filled in (keys that are missing or unusable
 * leave their part not found), NGX_AGAIN when Redis does not know the
 * script yet, NGX_ERROR when Redis failed.
 */

static ngx_int_t
ngx_http_ir_lookup_parse(redisReply *reply, ngx_str_t *prefix,
    ngx_str_t *name, ngx_http_ir_record_t *rec, ngx_pool_t *pool,
    ngx_log_t *log)
{
    ngx_str_t    *key;
    ngx_uint_t    i;
    redisReply  **e;

    ngx_memzero(rec, sizeof(ngx_http_ir_record_t));

    if (ngx_array_init(&rec->user.ips, pool, 4, sizeof(ngx_cidr_t))
        != NGX_OK
        || ngx_array_init(&rec->user.pins, pool, 2, NGX_HTTP_IR_DIGEST_LEN)
           != NGX_OK
        || ngx_array_init(&rec->org.scopes, pool, 4, sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (reply->type == REDIS_REPLY_ERROR) {

        if (reply->len >= 8 && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0) {
            return NGX_AGAIN;
        }

        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "ir_access: Redis failed the lookup of user \"%V\": "
                      "%*s", name, (size_t) reply->len, reply->str);
        return NGX_ERROR;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 9
        || reply->element[8]->type != REDIS_REPLY_INTEGER)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "ir_access: unexpected reply from Redis to the lookup "
                      "of user \"%V\"", name);
        return NGX_ERROR;
    }

    e = reply->element;

    for (i = 0; i < 8; i += 2) {
        if ((e[i]->type != REDIS_REPLY_STATUS
             && e[i]->type != REDIS_REPLY_STRING)
            || e[i + 1]->type != REDIS_REPLY_ARRAY)
        {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "ir_access: unexpected reply from Redis to the "
                          "lookup of user \"%V\"", name);
            return NGX_ERROR;
        }
    }

    /* the user */

    key = ngx_http_ir_lookup_key(pool, prefix, "user:", name, "");
    if (key == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_ir_lookup_type(e[0], "hash", key, log) == NGX_OK) {

        switch (ngx_http_ir_lookup_hash(e[1], ngx_http_ir_user_fields,
                                        &rec->user, key, pool, log))
        {
        case NGX_OK:
            rec->user.found = 1;

            if (ngx_http_ir_parse_pins(&rec->user.cert, &rec->user.pins)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            break;

        case NGX_ERROR:
            return NGX_ERROR;

        default:
            break;
        }
    }

    key = ngx_http_ir_lookup_key(pool, prefix, "user:", name, ":ips");
    if (key == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_ir_lookup_type(e[2], "set", key, log) == NGX_OK
        && ngx_http_ir_lookup_ips(e[3], &rec->user.ips, key, pool, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    rec->user.fails = (ngx_uint_t) ngx_max(e[8]->integer, 0);

    if (!rec->user.found || rec->user.org.data == NULL) {
        return NGX_OK;
    }

    /* the user's organisation */

    key = ngx_http_ir_lookup_key(pool, prefix, "org:", &rec->user.org, "");
    if (key == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_ir_lookup_type(e[4], "hash", key, log) == NGX_OK) {

        switch (ngx_http_ir_lookup_hash(e[5], ngx_http_ir_org_fields,
                                        &rec->org, key, pool, log))
        {
        case NGX_OK:
            rec->org.found = 1;
            break;

        case NGX_ERROR:
            return NGX_ERROR;

        default:
            break;
        }
    }

    key = ngx_http_ir_lookup_key(pool, prefix, "org:", &rec->user.org,
                                 ":scopes");
    if (key == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_ir_lookup_type(e[6], "set", key, log) == NGX_OK
        && ngx_http_ir_lookup_scopes(e[7], &rec->org.scopes, key, pool, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* NGX_OK where the key holds what it should; a missing key is silent */

static ngx_int_t
ngx_http_ir_lookup_type(redisReply *type, const char *kind, ngx_str_t *key,
    ngx_log_t *log)
{
    size_t  len;

    len = ngx_strlen(kind);

    if ((size_t) type->len == len && ngx_strncmp(type->str, kind, len) == 0) {
        return NGX_OK;
    }

    if (type->len == 4 && ngx_strncmp(type->str, "none", 4) == 0) {
        return NGX_DECLINED;
    }

    if (type->len == 8 && ngx_strncmp(type->str, "toolarge", 8) == 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "ir_access: Redis key \"%V\" is too large to be a "
                      "record and is ignored", key);
        return NGX_DECLINED;
    }

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "ir_access: Redis key \"%V\" is a %*s, not a %s, and is "
                  "ignored; fix it with redis-cli", key,
                  ngx_min((size_t) type->len, 32), type->str, kind);

    return NGX_DECLINED;
}


/*
 * NGX_OK with the known fields copied into the record, NGX_DECLINED when
 * the hash is unusable (an over-long value), NGX_ERROR without memory.
 */

static ngx_int_t
ngx_http_ir_lookup_hash(redisReply *fields, ngx_http_ir_field_t *known,
    void *record, ngx_str_t *key, ngx_pool_t *pool, ngx_log_t *log)
{
    ngx_str_t             *value;
    ngx_uint_t             i;
    redisReply            *f, *v;
    ngx_http_ir_field_t   *k;

    for (i = 0; i + 1 < fields->elements; i += 2) {
        f = fields->element[i];
        v = fields->element[i + 1];

        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            continue;
        }

        for (k = known; k->name.len; k++) {

            if ((size_t) f->len != k->name.len
                || ngx_strncmp(f->str, k->name.data, k->name.len) != 0)
            {
                continue;
            }

            if (v->len > NGX_HTTP_IR_VALUE_MAX) {
                ngx_log_error(NGX_LOG_ERR, log, 0,
                              "ir_access: field \"%V\" of Redis key \"%V\" "
                              "is %uz bytes long, over the limit of %d; "
                              "the record is ignored", &k->name, key,
                              (size_t) v->len, NGX_HTTP_IR_VALUE_MAX);
                return NGX_DECLINED;
            }

            value = (ngx_str_t *) ((u_char *) record + k->offset);

            if (ngx_http_ir_lookup_copy(v, value, pool) != NGX_OK) {
                return NGX_ERROR;
            }

            break;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_lookup_ips(redisReply *members, ngx_array_t *ips, ngx_str_t *key,
    ngx_pool_t *pool, ngx_log_t *log)
{
    ngx_int_t    rc;
    ngx_str_t    entry;
    ngx_uint_t   i;
    ngx_cidr_t  *cidr, parsed;
    redisReply  *m;

    for (i = 0; i < members->elements; i++) {
        m = members->element[i];

        if (m->type != REDIS_REPLY_STRING) {
            continue;
        }

        entry.data = (u_char *) m->str;
        entry.len = m->len;

        rc = ngx_http_ir_addr_parse(&entry, &parsed);

        if (rc == NGX_ERROR) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "ir_access: ignoring \"%*s\" in Redis key \"%V\": "
                          "not an IP address or CIDR prefix",
                          ngx_min(entry.len, 64), entry.data, key);
            continue;
        }

        if (rc == NGX_DONE) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "ir_access: low address bits of \"%V\" in Redis "
                          "key \"%V\" are meaningless", &entry, key);
        }

        cidr = ngx_array_push(ips);
        if (cidr == NULL) {
            return NGX_ERROR;
        }

        *cidr = parsed;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_lookup_scopes(redisReply *members, ngx_array_t *scopes,
    ngx_str_t *key, ngx_pool_t *pool, ngx_log_t *log)
{
    ngx_str_t   *scope;
    ngx_uint_t   i;
    redisReply  *m;

    for (i = 0; i < members->elements; i++) {
        m = members->element[i];

        if (m->type != REDIS_REPLY_STRING
            || m->len == 0 || m->len > NGX_HTTP_IR_VALUE_MAX)
        {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "ir_access: ignoring an empty or over-long member "
                          "of Redis key \"%V\"", key);
            continue;
        }

        scope = ngx_array_push(scopes);
        if (scope == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_ir_lookup_copy(m, scope, pool) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* hiredis frees the reply when the callback returns */

static ngx_int_t
ngx_http_ir_lookup_copy(redisReply *value, ngx_str_t *s, ngx_pool_t *pool)
{
    s->len = value->len;
    s->data = ngx_pnalloc(pool, value->len + 1);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->data, value->str, value->len);

    return NGX_OK;
}


static ngx_str_t *
ngx_http_ir_lookup_key(ngx_pool_t *pool, ngx_str_t *prefix, const char *kind,
    ngx_str_t *name, const char *suffix)
{
    u_char     *p;
    size_t      kind_len, suffix_len;
    ngx_str_t  *key;

    kind_len = ngx_strlen(kind);
    suffix_len = ngx_strlen(suffix);

    key = ngx_palloc(pool, sizeof(ngx_str_t));
    if (key == NULL) {
        return NULL;
    }

    key->len = prefix->len + kind_len + name->len + suffix_len;
    key->data = ngx_pnalloc(pool, key->len);
    if (key->data == NULL) {
        return NULL;
    }

    p = ngx_cpymem(key->data, prefix->data, prefix->len);
    p = ngx_cpymem(p, kind, kind_len);
    p = ngx_cpymem(p, name->data, name->len);
    ngx_memcpy(p, suffix, suffix_len);

    return key;
}
