
/*
 * ir-access: announced maintenance.
 *
 * An administrator closes the service with one hash, "<prefix>maintenance"
 * (fields "env", "until" and "message"), and opens it again by deleting
 * it or by letting "until" pass.  One worker of each host reads the hash
 * every second, and at once when a keyspace notification says it
 * changed, and leaves what it read in a small shared memory zone; every
 * guarded request looks there, without a lock while there is no
 * maintenance, and never waits for Redis.
 *
 * A maintenance that cannot be read is no maintenance: a typo must not
 * close the register.  An "until" that is no time, or is past, is logged
 * at "error" and the service stays open; a message with a control
 * character or that is no UTF-8 is left out of the answer and logged.
 * What the fields mean is read by ngx_http_ir_notice_read(), which
 * ir-access shares.
 *
 * Its beginning and its end are each written into the audit trail once
 * across the hosts: by the one whose script call changed what Redis
 * remembers of the maintenance last announced.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_ir_maintenance.h"
#include "ngx_http_ir_notice.h"
#include "ngx_http_ir_record.h"
#include "ngx_http_ir_schema.h"
#include "ngx_http_ir_shm.h"
#include "ngx_http_ir_store.h"
#include "ngx_http_ir_timer.h"


/* changed whenever the layout of the zone changes */
#define NGX_HTTP_IR_MAINTENANCE_VERSION  2

/* how often the hash is read, ms */
#define NGX_HTTP_IR_MAINTENANCE_REFRESH  1000

/* what Redis remembers of the maintenance announced: "<until> <env>" */
#define NGX_HTTP_IR_MAINTENANCE_ANNOUNCED_MAX  NGX_HTTP_IR_ARG_MAX


/* a maintenance, as the zone holds it and a request copies it out */

typedef struct {
    time_t                         until;
    size_t                         env_len;
    size_t                         message_len;
    u_char                         env[NGX_HTTP_IR_MAINTENANCE_ENV_MAX];
    u_char                         message[NGX_HTTP_IR_MESSAGE_MAX];
} ngx_http_ir_maintenance_t;


typedef struct {
    ngx_uint_t                     version;       /* first, in every zone */
    ngx_atomic_t                   on;            /* read without the lock */
    time_t                         last;          /* "until" of the last on */
    ngx_http_ir_maintenance_t      now;
} ngx_http_ir_maintenance_sh_t;


/* the reading worker's own state */

typedef struct {
    ngx_http_ir_redis_t           *redis;
    ngx_str_t                     *prefix;
    ngx_http_ir_audit_conf_t      *audit;
    ngx_http_ir_zone_t            *timezone;
    ngx_log_t                     *log;
    ngx_event_t                    timer;

    ngx_uint_t                     waiting;       /* replies owed */
    unsigned                       failed:1;
    unsigned                       again:1;       /* notified meanwhile */
    unsigned                       stopped:1;

    /*
     * What the last read found, each value kept to one byte past its
     * limit, so that one too long is still seen to be
     */
    unsigned                       found:1;       /* the hash is there */
    unsigned                       unreadable:1;  /* of the wrong type */
    unsigned                       unannounced:1; /* refused to be read */
    unsigned                       unannounced_logged:1;
    ngx_str_t                      error;         /* why, as Redis said */
    u_char                         error_data[128];
    ngx_str_t                      env;
    ngx_str_t                      until;
    ngx_str_t                      message;
    ngx_str_t                      announced;     /* data NULL: none */
    u_char                         env_data[
                                       NGX_HTTP_IR_MAINTENANCE_ENV_MAX + 1];
    u_char                         until_data[NGX_HTTP_IR_ARG_MAX + 1];
    u_char                         message_data[NGX_HTTP_IR_MESSAGE_MAX + 1];
    u_char                         announced_data[
                                       NGX_HTTP_IR_MAINTENANCE_ANNOUNCED_MAX];

    /* what was last logged of the hash, so that it is logged once */
    uint32_t                       logged;
} ngx_http_ir_maintenance_reader_t;


/* an announcement in flight: the event it writes if it wins */

typedef struct {
    ngx_http_ir_audit_conf_t      *audit;
    const char                    *event;
    ngx_uint_t                     begin;
    ngx_uint_t                     nfields;
    ngx_keyval_t                   fields[3];
    u_char                         until[NGX_HTTP_IR_TIME_LEN];
    u_char                         env[NGX_HTTP_IR_MAINTENANCE_ENV_MAX];
    u_char                         message[NGX_HTTP_IR_MESSAGE_MAX];
} ngx_http_ir_maintenance_event_t;


static ngx_int_t ngx_http_ir_maintenance_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_ir_maintenance_timer(ngx_event_t *ev);
static void ngx_http_ir_maintenance_fetch(void);
static void ngx_http_ir_maintenance_fields(void *data, redisReply *reply);
static void ngx_http_ir_maintenance_remembered(void *data,
    redisReply *reply);
static void ngx_http_ir_maintenance_read(void);
static ngx_int_t ngx_http_ir_maintenance_parse(
    ngx_http_ir_maintenance_reader_t *rd, ngx_http_ir_maintenance_t *m,
    ngx_uint_t *message_bad);
static void ngx_http_ir_maintenance_log(ngx_http_ir_maintenance_reader_t *rd,
    ngx_uint_t level, const char *what);
static void ngx_http_ir_maintenance_set(ngx_http_ir_maintenance_t *m);
static void ngx_http_ir_maintenance_announce(ngx_http_ir_maintenance_t *m);
static void ngx_http_ir_maintenance_announced(void *data,
    redisReply *reply);
static void ngx_http_ir_maintenance_copy(ngx_str_t *to, u_char *buf,
    size_t size, ngx_str_t *from);


static ngx_http_ir_maintenance_sh_t      *ngx_http_ir_maintenance_sh;
static ngx_slab_pool_t                   *ngx_http_ir_maintenance_shpool;
static ngx_http_ir_maintenance_reader_t  *ngx_http_ir_maintenance_reader;


/* the zone, named by the module, where Redis is configured */

ngx_int_t
ngx_http_ir_maintenance_zone(ngx_conf_t *cf, void *tag)
{
    ngx_str_t        name;
    ngx_shm_zone_t  *shm_zone;

    ngx_str_set(&name, "ir_access_maintenance");

    shm_zone = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize, tag);
    if (shm_zone == NULL) {
        return NGX_ERROR;
    }

    shm_zone->init = ngx_http_ir_maintenance_init_zone;
    shm_zone->data = (void *) 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_maintenance_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    void       *sh;
    ngx_int_t   rc;

    /* on a reload, what was read goes on deciding */

    rc = ngx_http_ir_shm_init(shm_zone, data, "ir_access_maintenance",
                              sizeof(ngx_http_ir_maintenance_sh_t),
                              NGX_HTTP_IR_MAINTENANCE_VERSION, 0, &sh);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_http_ir_maintenance_sh = sh;
    ngx_http_ir_maintenance_shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    shm_zone->data = sh;

    return NGX_OK;
}


/*
 * A guarded request: NGX_OK where no maintenance applies to the place's
 * environment, NGX_DECLINED with the verdict where one does, NGX_ERROR
 * without memory.
 */

ngx_int_t
ngx_http_ir_maintenance_check(ngx_str_t *env, ngx_http_ir_verdict_t *v,
    ngx_pool_t *pool)
{
    u_char                        *p;
    time_t                         now;
    ngx_str_t                      list;
    ngx_http_ir_maintenance_t      m;
    ngx_http_ir_maintenance_sh_t  *sh;

    sh = ngx_http_ir_maintenance_sh;

    if (sh == NULL || sh->on == 0) {
        return NGX_OK;
    }

    ngx_shmtx_lock(&ngx_http_ir_maintenance_shpool->mutex);

    if (sh->on == 0) {
        ngx_shmtx_unlock(&ngx_http_ir_maintenance_shpool->mutex);
        return NGX_OK;
    }

    m.until = sh->now.until;
    m.env_len = sh->now.env_len;
    m.message_len = sh->now.message_len;
    ngx_memcpy(m.env, sh->now.env, m.env_len);
    ngx_memcpy(m.message, sh->now.message, m.message_len);

    ngx_shmtx_unlock(&ngx_http_ir_maintenance_shpool->mutex);

    now = ngx_time();

    list.data = m.env;
    list.len = m.env_len;

    if (now >= m.until || !ngx_http_ir_notice_applies(&list, env)) {
        return NGX_OK;
    }

    ngx_http_ir_deny(v, NGX_HTTP_IR_MAINTENANCE,
                     "the service is closed for maintenance", NULL);

    v->retry_after = m.until - now;

    p = ngx_pnalloc(pool, NGX_HTTP_IR_TIME_LEN + m.message_len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->until.data = p;
    p = ngx_http_ir_notice_time(p, m.until);
    v->until.len = p - v->until.data;

    /* no message, or one refused: the answer has none */

    if (m.message_len) {
        v->message.data = p;
        v->message.len = m.message_len;
        ngx_memcpy(p, m.message, m.message_len);
    }

    return NGX_DECLINED;
}


/* the reader starts, in the one worker of the host that reads */

ngx_int_t
ngx_http_ir_maintenance_start(ngx_http_ir_redis_t *redis, ngx_str_t *prefix,
    ngx_http_ir_audit_conf_t *acf, ngx_http_ir_zone_t *timezone,
    ngx_log_t *log)
{
    ngx_http_ir_maintenance_reader_t  *rd;

    if (ngx_http_ir_maintenance_sh == NULL) {
        return NGX_OK;
    }

    rd = ngx_calloc(sizeof(ngx_http_ir_maintenance_reader_t), log);
    if (rd == NULL) {
        return NGX_ERROR;
    }

    rd->redis = redis;
    rd->prefix = prefix;
    rd->audit = acf;
    rd->timezone = timezone;
    rd->log = log;

    ngx_http_ir_timer_init(&rd->timer, ngx_http_ir_maintenance_timer, 1, log);

    ngx_http_ir_maintenance_reader = rd;

    ngx_http_ir_maintenance_fetch();

    return NGX_OK;
}


/*
 * The worker exits; replies still owed, failed as its connection goes,
 * find the reader stopped.
 */

void
ngx_http_ir_maintenance_stop(void)
{
    ngx_http_ir_maintenance_reader_t  *rd;

    rd = ngx_http_ir_maintenance_reader;

    if (rd == NULL) {
        return;
    }

    rd->stopped = 1;

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }
}


/* and once its connection is gone, and no reply can come, it is freed */

void
ngx_http_ir_maintenance_exit(void)
{
    if (ngx_http_ir_maintenance_reader) {
        ngx_free(ngx_http_ir_maintenance_reader);
        ngx_http_ir_maintenance_reader = NULL;
    }
}


/*
 * A keyspace notification of the hash ("op" NULL: notifications may
 * have been missed): a deleted one ends the maintenance at once; any
 * change is read again now.
 */

void
ngx_http_ir_maintenance_notified(ngx_str_t *op)
{
    ngx_http_ir_maintenance_reader_t  *rd;

    rd = ngx_http_ir_maintenance_reader;

    if (rd == NULL || rd->stopped) {
        return;
    }

    if (op
        && ((op->len == 3 && ngx_strncmp(op->data, "del", 3) == 0)
            || (op->len == 7 && ngx_strncmp(op->data, "expired", 7) == 0)
            || (op->len == 7 && ngx_strncmp(op->data, "evicted", 7) == 0)))
    {
        ngx_http_ir_maintenance_set(NULL);
    }

    if (rd->waiting) {
        /* the read in flight may have been made before the change */
        rd->again = 1;
        return;
    }

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }

    ngx_http_ir_maintenance_fetch();
}


static void
ngx_http_ir_maintenance_timer(ngx_event_t *ev)
{
    ngx_http_ir_maintenance_fetch();
}


/*
 * "HMGET <prefix>maintenance env until message" and "GET
 * <prefix>maintenance:announced", pipelined.
 */

static void
ngx_http_ir_maintenance_fetch(void)
{
    u_char                            *p;
    ngx_str_t                          none;
    u_char                             key[NGX_HTTP_IR_KEY_MAX];
    u_char                             announced[NGX_HTTP_IR_KEY_MAX];
    ngx_http_ir_maintenance_reader_t  *rd;

    rd = ngx_http_ir_maintenance_reader;

    if (rd->stopped || rd->waiting) {
        return;
    }

    rd->failed = 0;
    rd->again = 0;

    ngx_str_set(&none, "");

    p = ngx_http_ir_key(key, rd->prefix, NGX_HTTP_IR_KEY_MAINTENANCE_HASH,
                        &none);

    if (ngx_http_ir_redis_command(rd->redis, ngx_http_ir_maintenance_fields,
                                  rd, "HMGET %b %s %s %s",
                                  key, (size_t) (p - key),
                                  NGX_HTTP_IR_FIELD_ENV,
                                  NGX_HTTP_IR_FIELD_UNTIL,
                                  NGX_HTTP_IR_FIELD_MESSAGE)
        == NULL)
    {
        /* Redis is away: what was read decides until it is back */

        if (!rd->timer.timer_set) {
            ngx_add_timer(&rd->timer, NGX_HTTP_IR_MAINTENANCE_REFRESH);
        }

        return;
    }

    rd->waiting++;

    p = ngx_http_ir_key(announced, rd->prefix,
                        NGX_HTTP_IR_KEY_MAINTENANCE_ANNOUNCED, &none);

    if (ngx_http_ir_redis_command(rd->redis,
                                  ngx_http_ir_maintenance_remembered, rd,
                                  "GET %b", announced,
                                  (size_t) (p - announced))
        == NULL)
    {
        rd->failed = 1;
        return;
    }

    rd->waiting++;
}


static void
ngx_http_ir_maintenance_fields(void *data, redisReply *reply)
{
    ngx_http_ir_maintenance_reader_t *rd = data;

    ngx_str_t  env, until, message, error;

    rd->unreadable = 0;

    if (reply == NULL || ngx_http_ir_store_passing(reply)) {
        /* Redis busy for now: what is in effect stays until read again */
        rd->failed = 1;

    } else if (ngx_http_ir_store_maintenance_reply(reply, &env, &until,
                                                   &message, &error)
               != NGX_OK)
    {
        /*
         * A key of the wrong type, or no permission to read it: no
         * maintenance, logged once with Redis's words
         */

        rd->found = 1;
        rd->unreadable = 1;
        ngx_http_ir_maintenance_copy(&rd->error, rd->error_data,
                                     sizeof(rd->error_data), &error);
        ngx_str_null(&rd->env);
        ngx_str_null(&rd->until);
        ngx_str_null(&rd->message);

    } else {
        rd->found = (env.data || until.data || message.data);

        ngx_http_ir_maintenance_copy(&rd->env, rd->env_data,
                                     sizeof(rd->env_data), &env);
        ngx_http_ir_maintenance_copy(&rd->until, rd->until_data,
                                     sizeof(rd->until_data), &until);
        ngx_http_ir_maintenance_copy(&rd->message, rd->message_data,
                                     sizeof(rd->message_data), &message);
    }

    if (--rd->waiting == 0) {
        ngx_http_ir_maintenance_read();
    }
}


static void
ngx_http_ir_maintenance_remembered(void *data, redisReply *reply)
{
    ngx_http_ir_maintenance_reader_t *rd = data;

    u_char     *p;
    ngx_str_t   value;
    u_char      key[NGX_HTTP_IR_KEY_MAX];

    rd->unannounced = 0;

    if (reply == NULL || ngx_http_ir_store_passing(reply)) {
        rd->failed = 1;

    } else if (reply->type != REDIS_REPLY_STRING
               && reply->type != REDIS_REPLY_NIL)
    {
        /*
         * Refused (NOPERM, say): the maintenance still applies, as the
         * office meant, and is not announced by this host; said once
         */

        rd->unannounced = 1;

        if (!rd->unannounced_logged) {
            rd->unannounced_logged = 1;

            ngx_str_set(&value, "");
            p = ngx_http_ir_key(key, rd->prefix,
                                NGX_HTTP_IR_KEY_MAINTENANCE_ANNOUNCED, &value);

            ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                          "ir_access: Redis refused to read \"%*s\": %*s; "
                          "the maintenance applies, and this host writes "
                          "its beginning and end into the audit trail once "
                          "the gateway's Redis user may read and write the "
                          "key", p - key, key,
                          ngx_min((size_t) reply->len, 256),
                          reply->str ? reply->str : "");
        }

    } else if (reply->type == REDIS_REPLY_NIL) {
        ngx_str_null(&rd->announced);

    } else {
        value.data = (u_char *) reply->str;
        value.len = reply->len;

        ngx_http_ir_maintenance_copy(&rd->announced, rd->announced_data,
                                     sizeof(rd->announced_data), &value);
    }

    if (rd->unannounced == 0) {
        rd->unannounced_logged = 0;
    }

    if (--rd->waiting == 0) {
        ngx_http_ir_maintenance_read();
    }
}


/* both replies are in: the zone is set from what they say */

static void
ngx_http_ir_maintenance_read(void)
{
    ngx_uint_t                         message_bad;
    ngx_http_ir_maintenance_t          m;
    ngx_http_ir_maintenance_reader_t  *rd;

    rd = ngx_http_ir_maintenance_reader;

    if (rd->stopped) {
        return;
    }

    if (rd->failed) {
        goto next;
    }

    if (ngx_http_ir_maintenance_parse(rd, &m, &message_bad) != NGX_OK) {
        ngx_http_ir_maintenance_set(NULL);
        ngx_http_ir_maintenance_announce(NULL);
        goto next;
    }

    if (message_bad) {
        ngx_http_ir_maintenance_log(rd, NGX_LOG_ERR,
                                    "has a \"message\" that is longer than "
                                    "1024 bytes, holds a control character "
                                    "or is not UTF-8; the maintenance "
                                    "applies, its answers without the "
                                    "message");
    } else {
        ngx_http_ir_maintenance_log(rd, NGX_LOG_NOTICE,
                                    "is in effect");
    }

    ngx_http_ir_maintenance_set(&m);
    ngx_http_ir_maintenance_announce(&m);

next:

    if (rd->again) {
        ngx_http_ir_maintenance_fetch();
        return;
    }

    if (!rd->timer.timer_set) {
        ngx_add_timer(&rd->timer, NGX_HTTP_IR_MAINTENANCE_REFRESH);
    }
}


/*
 * NGX_OK with a maintenance in effect now; NGX_DECLINED for none, with
 * what is wrong with a hash that is there logged once.
 */

static ngx_int_t
ngx_http_ir_maintenance_parse(ngx_http_ir_maintenance_reader_t *rd,
    ngx_http_ir_maintenance_t *m, ngx_uint_t *message_bad)
{
    u_char                *p;
    ngx_http_ir_notice_t   notice;
    u_char                 what[sizeof("could not be read (") - 1
                                + sizeof(((ngx_http_ir_maintenance_reader_t *)
                                          NULL)->error_data) * 4 + 160];

    if (!rd->found) {
        rd->logged = 0;
        return NGX_DECLINED;
    }

    if (rd->unreadable) {
        p = ngx_cpymem(what, "could not be read (", 19);
        p = ngx_http_ir_escape(p, p + sizeof(rd->error_data) * 4,
                               &rd->error);
        p = ngx_sprintf(p, "), so there is no maintenance; for WRONGTYPE, "
                        "make it a hash with redis-cli, for NOPERM, let the "
                        "gateway's Redis user read it%Z");

        ngx_http_ir_maintenance_log(rd, NGX_LOG_ERR, (char *) what);
        return NGX_DECLINED;
    }

    notice.env = rd->env;
    notice.until = rd->until;
    notice.message = rd->message;

    switch (ngx_http_ir_notice_read(&notice, rd->timezone, ngx_time())) {

    case NGX_HTTP_IR_NOTICE_ON:
        break;

    case NGX_HTTP_IR_NOTICE_NO_UNTIL:
        ngx_http_ir_maintenance_log(rd, NGX_LOG_ERR,
                                    "has no \"until\", so there is no "
                                    "maintenance; set \"until\" to an "
                                    "ISO 8601 time");
        return NGX_DECLINED;

    case NGX_HTTP_IR_NOTICE_PAST:
        if (notice.end == ngx_http_ir_maintenance_sh->last) {
            ngx_http_ir_maintenance_log(rd, NGX_LOG_NOTICE,
                                        "has ended; delete it with "
                                        "redis-cli DEL");
        } else {
            ngx_http_ir_maintenance_log(rd, NGX_LOG_ERR,
                                        "has an \"until\" in the past, so "
                                        "there is no maintenance");
        }

        return NGX_DECLINED;

    case NGX_HTTP_IR_NOTICE_BAD_ENV:
        ngx_http_ir_maintenance_log(rd, NGX_LOG_ERR,
                                    "has an \"env\" with a control "
                                    "character, so there is no "
                                    "maintenance");
        return NGX_DECLINED;

    default: /* NGX_HTTP_IR_NOTICE_BAD_UNTIL, _LONG_ENV, _NONE */
        ngx_http_ir_maintenance_log(rd, NGX_LOG_ERR,
                                    "has an \"until\" that is no ISO 8601 "
                                    "time (such as 2026-11-27T08:00:00Z or "
                                    "2026-11-27T10:00+02:00), or an \"env\" "
                                    "over 64 bytes, so there is no "
                                    "maintenance");
        return NGX_DECLINED;
    }

    m->until = notice.end;
    m->env_len = rd->env.data ? rd->env.len : 0;
    ngx_memcpy(m->env, rd->env_data, m->env_len);

    *message_bad = notice.message_bad;
    m->message_len = 0;

    if (rd->message.data && !notice.message_bad) {
        m->message_len = rd->message.len;
        ngx_memcpy(m->message, rd->message_data, m->message_len);
    }

    return NGX_OK;
}


/* a line about the hash, once for what it holds */

static void
ngx_http_ir_maintenance_log(ngx_http_ir_maintenance_reader_t *rd,
    ngx_uint_t level, const char *what)
{
    u_char     *p, *last;
    uint32_t    crc;
    ngx_str_t   none;
    u_char      key[NGX_HTTP_IR_KEY_MAX];
    u_char      until[128];

    ngx_crc32_init(crc);
    ngx_crc32_update(&crc, (u_char *) what, ngx_strlen(what));
    ngx_crc32_update(&crc, rd->env_data, rd->env.len);
    ngx_crc32_update(&crc, rd->until_data, rd->until.len);
    ngx_crc32_update(&crc, rd->message_data, rd->message.len);
    ngx_crc32_final(crc);

    if (crc == rd->logged) {
        return;
    }

    rd->logged = crc;

    ngx_str_set(&none, "");
    p = ngx_http_ir_key(key, rd->prefix, NGX_HTTP_IR_KEY_MAINTENANCE_HASH,
                        &none);

    last = ngx_http_ir_escape(until, until + sizeof(until), &rd->until);

    ngx_log_error(level, rd->log, 0,
                  "ir_access: the maintenance \"%*s\" (until \"%*s\") %s",
                  p - key, key, last - until, until, what);
}


/* the zone says what was read; NULL: no maintenance */

static void
ngx_http_ir_maintenance_set(ngx_http_ir_maintenance_t *m)
{
    ngx_http_ir_maintenance_sh_t  *sh;

    sh = ngx_http_ir_maintenance_sh;

    ngx_shmtx_lock(&ngx_http_ir_maintenance_shpool->mutex);

    if (m == NULL) {
        sh->on = 0;

    } else {
        sh->now.until = m->until;
        sh->now.env_len = m->env_len;
        sh->now.message_len = m->message_len;
        ngx_memcpy(sh->now.env, m->env, m->env_len);
        ngx_memcpy(sh->now.message, m->message, m->message_len);

        sh->last = m->until;
        sh->on = 1;
    }

    ngx_shmtx_unlock(&ngx_http_ir_maintenance_shpool->mutex);
}


/*
 * Where what Redis remembers of the maintenance announced is not what is
 * in effect (m, or none), the script changes it, and the one host whose
 * call did writes the beginning or the end into the trail.
 */

static void
ngx_http_ir_maintenance_announce(ngx_http_ir_maintenance_t *m)
{
    u_char                            *p, *last;
    time_t                             until;
    ngx_str_t                          env, value;
    ngx_http_ir_args_t                 args;
    ngx_http_ir_maintenance_event_t   *ev;
    ngx_http_ir_maintenance_reader_t  *rd;

    rd = ngx_http_ir_maintenance_reader;

    if (rd->unannounced) {
        return;
    }

    if (m) {
        env.data = m->env;
        env.len = m->env_len;

        ngx_http_ir_store_announce(&args, rd->prefix, m->until, &env);

        value.data = (u_char *) args.argv[args.argc - 1];
        value.len = args.argvlen[args.argc - 1];

        if (rd->announced.data
            && rd->announced.len == value.len
            && ngx_strncmp(rd->announced.data, value.data, value.len) == 0)
        {
            return;
        }

    } else {
        if (rd->announced.data == NULL) {
            return;
        }

        ngx_http_ir_store_announce(&args, rd->prefix, 0, NULL);
    }

    ev = ngx_alloc(sizeof(ngx_http_ir_maintenance_event_t), rd->log);
    if (ev == NULL) {
        return;
    }

    ev->audit = rd->audit;

    ngx_str_set(&ev->fields[0].key, "until");
    ngx_str_set(&ev->fields[1].key, "env");
    ngx_str_set(&ev->fields[2].key, "message");

    ev->begin = (m != NULL);

    if (m) {
        ev->event = "maintenance_begin";
        until = m->until;
        ev->fields[1].value.data = ngx_cpymem(ev->env, m->env, m->env_len)
                                   - m->env_len;
        ev->fields[1].value.len = m->env_len;
        ev->fields[2].value.data = ngx_cpymem(ev->message, m->message,
                                              m->message_len)
                                   - m->message_len;
        ev->fields[2].value.len = m->message_len;
        ev->nfields = 3;

    } else {

        /* what was announced: "<until> <env>" */

        ev->event = "maintenance_end";

        p = rd->announced.data;
        last = p + ngx_min(rd->announced.len, sizeof(rd->announced_data));

        value.data = p;

        while (p < last && *p != ' ') {
            p++;
        }

        value.len = p - value.data;

        until = ngx_atotm(value.data, value.len);
        if (until == NGX_ERROR) {
            until = 0;
        }

        if (p < last) {
            p++;
        }

        ev->fields[1].value.len = ngx_min((size_t) (last - p),
                                          sizeof(ev->env));
        ev->fields[1].value.data = ngx_cpymem(ev->env, p,
                                              ev->fields[1].value.len)
                                   - ev->fields[1].value.len;
        ev->nfields = 2;
    }

    ev->fields[0].value.data = ev->until;
    ev->fields[0].value.len = ngx_http_ir_notice_time(ev->until, until)
                              - ev->until;

    if (ngx_http_ir_redis_eval(rd->redis, &ngx_http_ir_script_announce, &args,
                               ngx_http_ir_maintenance_announced, ev)
        == NULL)
    {
        ngx_free(ev);
    }
}


static void
ngx_http_ir_maintenance_announced(void *data, redisReply *reply)
{
    ngx_http_ir_maintenance_event_t *ev = data;

    ngx_int_t                          rc;
    ngx_str_t                          error;
    ngx_http_ir_maintenance_reader_t  *rd;

    rd = ngx_http_ir_maintenance_reader;

    rc = reply ? ngx_http_ir_store_announce_reply(reply, &error) : NGX_ERROR;

    if (rc == NGX_OK && !rd->stopped) {
        ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                      "ir_access: the maintenance until %V %s, env \"%V\"",
                      &ev->fields[0].value, ev->begin ? "begins" : "ends",
                      &ev->fields[1].value);

        if (ev->audit) {
            ngx_http_ir_audit_event(ev->audit, ev->event, ev->fields,
                                    ev->nfields);
        }
    }

    ngx_free(ev);
}


/* a value of a reply, kept past it, as much of it as "buf" holds */

static void
ngx_http_ir_maintenance_copy(ngx_str_t *to, u_char *buf, size_t size,
    ngx_str_t *from)
{
    if (from->data == NULL) {
        ngx_str_null(to);
        return;
    }

    to->len = ngx_min(from->len, size);
    to->data = buf;

    ngx_memcpy(buf, from->data, to->len);
}
