
/*
 * ir-access: the worker's Redis connection.
 *
 * One persistent hiredis async connection per worker, driven by nginx's
 * event loop through a small adapter.  Commands are pipelined; the
 * connection is opened lazily and, after a failure, again no sooner than
 * an exponential backoff allows, so that a Redis outage costs a request
 * nothing but a quick 503.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_ir_metrics.h"
#include "ngx_http_ir_redis.h"


#define NGX_HTTP_IR_REDIS_BACKOFF_MIN  50
#define NGX_HTTP_IR_REDIS_BACKOFF_MAX  1000

/* how often the Sentinels are asked whether the master has moved */
#define NGX_HTTP_IR_REDIS_SENTINEL_POLL  1000


struct ngx_http_ir_redis_s {
    ngx_http_ir_redis_conf_t      *conf;
    ngx_log_t                     *log;
    redisAsyncContext             *ac;

    /* replies owed, and when the connection last showed progress */
    ngx_uint_t                     pending;
    ngx_msec_t                     progress;

    ngx_msec_t                     retry_at;
    ngx_uint_t                     failures;

    /* a subscription's handler, called for every message */
    ngx_http_ir_redis_call_t       subscription;

    /* with Sentinels: the master they name, and one connection to each */
    ngx_http_ir_redis_conf_t       master;
    u_char                         master_host[NGX_SOCKADDR_STRLEN + 1];
    u_char                         master_address[NGX_SOCKADDR_STRLEN
                                                  + NGX_INT_T_LEN];
    ngx_http_ir_redis_t          **sentinels;
    ngx_uint_t                     nsentinels;
    ngx_uint_t                     asked;       /* the one asked last */
    ngx_http_ir_redis_call_t      *question;
    ngx_event_t                    poll;

    /* AUTH or SELECT failed: what was pipelined behind them is void */
    unsigned                       refused:1;
    unsigned                       master_known:1;
};


static char *ngx_http_ir_redis_resolve(ngx_conf_t *cf, ngx_str_t *address,
    in_port_t default_port, ngx_http_ir_redis_conf_t *rcf);
static char *ngx_http_ir_redis_sentinels(ngx_conf_t *cf,
    ngx_http_ir_redis_conf_t *rcf);
static void ngx_http_ir_redis_ask(ngx_http_ir_redis_t *redis);
static void ngx_http_ir_redis_answer(void *data, redisReply *reply);
static void ngx_http_ir_redis_poll(ngx_event_t *ev);
static ngx_int_t ngx_http_ir_redis_connect(ngx_http_ir_redis_t *redis);
static void ngx_http_ir_redis_drop(ngx_http_ir_redis_t *redis);
static void ngx_http_ir_redis_failed(ngx_http_ir_redis_t *redis);
static void ngx_http_ir_redis_handshake(ngx_http_ir_redis_t *redis);
static void ngx_http_ir_redis_handshake_handler(void *data,
    redisReply *reply);
static void ngx_http_ir_redis_reply(redisAsyncContext *ac, void *reply,
    void *privdata);
static void ngx_http_ir_redis_message(redisAsyncContext *ac, void *reply,
    void *privdata);
static void ngx_http_ir_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_ir_redis_disconnected(const redisAsyncContext *ac,
    int status);

static void ngx_http_ir_redis_read_handler(ngx_event_t *ev);
static void ngx_http_ir_redis_write_handler(ngx_event_t *ev);
static void ngx_http_ir_redis_add_read(void *privdata);
static void ngx_http_ir_redis_del_read(void *privdata);
static void ngx_http_ir_redis_add_write(void *privdata);
static void ngx_http_ir_redis_del_write(void *privdata);
static void ngx_http_ir_redis_cleanup(void *privdata);


char *
ngx_http_ir_redis_parse(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t n,
    ngx_http_ir_redis_conf_t *rcf)
{
    u_char      *p;
    ngx_str_t    s;
    ngx_uint_t   i;

    rcf->address = value[1];
    rcf->db = 0;

    for (i = 2; i < n; i++) {

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            rcf->db = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (rcf->db == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid Redis database \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }
            continue;
        }

        if (ngx_strncmp(value[i].data, "user=", 5) == 0) {
            rcf->user.data = value[i].data + 5;
            rcf->user.len = value[i].len - 5;
            continue;
        }

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            rcf->password.data = value[i].data + 9;
            rcf->password.len = value[i].len - 9;
            continue;
        }

        if (ngx_strncmp(value[i].data, "sentinel=", 9) == 0) {
            rcf->master_name.data = value[i].data + 9;
            rcf->master_name.len = value[i].len - 9;

            if (rcf->master_name.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "no master name in \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (rcf->user.len && rcf->password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "Redis \"user=\" requires \"password=\"");
        return NGX_CONF_ERROR;
    }

    if (rcf->master_name.len) {
        return ngx_http_ir_redis_sentinels(cf, rcf);
    }

    if (ngx_strncmp(rcf->address.data, "unix:", 5) == 0) {
        s.len = rcf->address.len - 5;
        s.data = rcf->address.data + 5;

        if (s.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "no path in Redis address \"%V\"",
                               &rcf->address);
            return NGX_CONF_ERROR;
        }

        /* hiredis wants a C string */
        rcf->unix_path.data = ngx_pnalloc(cf->pool, s.len + 1);
        if (rcf->unix_path.data == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_cpymem(rcf->unix_path.data, s.data, s.len);
        *p = '\0';
        rcf->unix_path.len = s.len;

        return NGX_CONF_OK;
    }

    return ngx_http_ir_redis_resolve(cf, &rcf->address, 6379, rcf);
}


/*
 * The name is resolved here, once, while the configuration is read:
 * hiredis would resolve it on every reconnect, with a libc call that
 * blocks the worker.
 */

static char *
ngx_http_ir_redis_resolve(ngx_conf_t *cf, ngx_str_t *address,
    in_port_t default_port, ngx_http_ir_redis_conf_t *rcf)
{
    ngx_url_t  u;

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *address;
    u.default_port = default_port;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in Redis address \"%V\"",
                           u.err ? u.err : "error", address);
        return NGX_CONF_ERROR;
    }

    if (u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "Redis address \"%V\" has no IP address",
                           address);
        return NGX_CONF_ERROR;
    }

    rcf->host.data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    if (rcf->host.data == NULL) {
        return NGX_CONF_ERROR;
    }

    rcf->host.len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen,
                                  rcf->host.data, NGX_SOCKADDR_STRLEN, 0);
    rcf->host.data[rcf->host.len] = '\0';
    rcf->port = u.port;

    return NGX_CONF_OK;
}


/*
 * With "sentinel=NAME" the address is the Sentinels', separated by
 * commas: the worker asks them where the master is, and asks again when
 * the master is lost.
 */

static char *
ngx_http_ir_redis_sentinels(ngx_conf_t *cf, ngx_http_ir_redis_conf_t *rcf)
{
    u_char                    *p, *last, *comma;
    ngx_str_t                  address;
    ngx_http_ir_redis_conf_t  *sentinel;

    rcf->sentinels = ngx_array_create(cf->pool, 3,
                                      sizeof(ngx_http_ir_redis_conf_t));
    if (rcf->sentinels == NULL) {
        return NGX_CONF_ERROR;
    }

    p = rcf->address.data;
    last = p + rcf->address.len;

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        address.data = p;
        address.len = comma - p;
        p = comma + 1;

        if (address.len == 0) {
            continue;
        }

        if (ngx_strncmp(address.data, "unix:", 5) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "Sentinels are reached over TCP, "
                               "not \"%V\"", &address);
            return NGX_CONF_ERROR;
        }

        sentinel = ngx_array_push(rcf->sentinels);
        if (sentinel == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(sentinel, sizeof(ngx_http_ir_redis_conf_t));
        sentinel->address = address;

        if (ngx_http_ir_redis_resolve(cf, &address, 26379, sentinel)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (rcf->sentinels->nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no Sentinel address in \"%V\"", &rcf->address);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_http_ir_redis_t *
ngx_http_ir_redis_create(ngx_http_ir_redis_conf_t *rcf, ngx_log_t *log)
{
    ngx_uint_t                 i;
    ngx_http_ir_redis_t       *redis;
    ngx_http_ir_redis_conf_t  *sentinel;

    redis = ngx_calloc(sizeof(ngx_http_ir_redis_t), log);
    if (redis == NULL) {
        return NULL;
    }

    redis->conf = rcf;
    redis->log = log;
    redis->retry_at = ngx_current_msec;

    if (rcf->master_name.len == 0) {
        return redis;
    }

    /* the master's address is the worker's own: it moves on a failover */

    redis->master = *rcf;
    redis->master.host.data = redis->master_host;
    redis->conf = &redis->master;

    redis->sentinels = ngx_calloc(rcf->sentinels->nelts
                                  * sizeof(ngx_http_ir_redis_t *), log);
    if (redis->sentinels == NULL) {
        ngx_http_ir_redis_destroy(redis);
        return NULL;
    }

    sentinel = rcf->sentinels->elts;

    for (i = 0; i < rcf->sentinels->nelts; i++) {
        sentinel[i].timeout = rcf->timeout;

        redis->sentinels[i] = ngx_http_ir_redis_create(&sentinel[i], log);
        if (redis->sentinels[i] == NULL) {
            ngx_http_ir_redis_destroy(redis);
            return NULL;
        }

        redis->nsentinels++;
    }

    /*
     * A failover can leave the old master up, and writable until the
     * Sentinels demote it: they are asked every second, so that the
     * workers follow the master they name within about that.
     */

    redis->poll.handler = ngx_http_ir_redis_poll;
    redis->poll.data = redis;
    redis->poll.log = log;
    redis->poll.cancelable = 1;

    ngx_add_timer(&redis->poll, NGX_HTTP_IR_REDIS_SENTINEL_POLL);

    ngx_http_ir_redis_ask(redis);

    return redis;
}


void
ngx_http_ir_redis_destroy(ngx_http_ir_redis_t *redis)
{
    ngx_uint_t  i, n;

    /* a question still out must find nobody to answer */

    if (redis->question) {
        redis->question->data = NULL;
        redis->question = NULL;
    }

    if (redis->poll.timer_set) {
        ngx_del_timer(&redis->poll);
    }

    n = redis->nsentinels;
    redis->nsentinels = 0;

    for (i = 0; i < n; i++) {
        ngx_http_ir_redis_destroy(redis->sentinels[i]);
    }

    if (redis->sentinels) {
        ngx_free(redis->sentinels);
    }

    if (redis->ac) {
        ngx_http_ir_redis_drop(redis);
    }

    ngx_free(redis);
}


ngx_http_ir_redis_call_t *
ngx_http_ir_redis_command(ngx_http_ir_redis_t *redis,
    ngx_http_ir_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    ngx_http_ir_redis_call_t  *call;

    ngx_http_ir_metric_inc(redis_commands);

    if (redis->ac == NULL && ngx_http_ir_redis_connect(redis) != NGX_OK) {
        ngx_http_ir_metric_inc(redis_errors);
        return NULL;
    }

    call = ngx_alloc(sizeof(ngx_http_ir_redis_call_t), redis->log);
    if (call == NULL) {
        return NULL;
    }

    call->handler = handler;
    call->data = data;

    if (redisAsyncCommandArgv(redis->ac, ngx_http_ir_redis_reply, call, argc,
                              argv, argvlen)
        != REDIS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                      "ir_access: Redis at \"%V\" does not take commands",
                      &redis->conf->address);
        ngx_free(call);
        ngx_http_ir_metric_inc(redis_errors);
        return NULL;
    }

    if (redis->pending++ == 0) {
        redis->progress = ngx_current_msec;
    }

    return call;
}


/*
 * (P)SUBSCRIBE: the handler gets every message on the connection, and
 * NULL once when the connection is gone, after which the caller
 * subscribes again.
 */

ngx_int_t
ngx_http_ir_redis_subscribe(ngx_http_ir_redis_t *redis,
    ngx_http_ir_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    if (redis->ac == NULL && ngx_http_ir_redis_connect(redis) != NGX_OK) {
        return NGX_ERROR;
    }

    redis->subscription.handler = handler;
    redis->subscription.data = data;

    if (redisAsyncCommandArgv(redis->ac, ngx_http_ir_redis_message,
                              &redis->subscription, argc, argv, argvlen)
        != REDIS_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Called when a request gave up waiting.  A connection that owes replies
 * and has shown no progress for the whole timeout is taken as hung (Redis
 * stopped, paused, or the path to it lost): it is dropped, which fails
 * every command on it at once, and a new one is tried after the backoff.
 */

void
ngx_http_ir_redis_check(ngx_http_ir_redis_t *redis)
{
    if (redis->ac == NULL || redis->pending == 0) {
        return;
    }

    if (ngx_current_msec - redis->progress < redis->conf->timeout) {
        return;
    }

    ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                  "ir_access: Redis at \"%V\" did not answer within %Mms, "
                  "reconnecting", &redis->conf->address,
                  redis->conf->timeout);

    ngx_http_ir_redis_drop(redis);
}


static void
ngx_http_ir_redis_poll(ngx_event_t *ev)
{
    ngx_http_ir_redis_t *redis = ev->data;

    if (redis->question) {
        ngx_http_ir_redis_check(redis->sentinels[redis->asked]);
    }

    ngx_http_ir_redis_ask(redis);

    ngx_add_timer(&redis->poll, NGX_HTTP_IR_REDIS_SENTINEL_POLL);
}


static ngx_int_t
ngx_http_ir_redis_connect(ngx_http_ir_redis_t *redis)
{
    ngx_connection_t          *c;
    redisAsyncContext         *ac;
    ngx_http_ir_redis_conf_t  *rcf;

    if ((ngx_msec_int_t) (redis->retry_at - ngx_current_msec) > 0) {
        return NGX_DECLINED;
    }

    if (redis->nsentinels && !redis->master_known) {
        /* a Sentinel that hangs is dropped, and the next one asked */
        ngx_http_ir_redis_check(redis->sentinels[redis->asked]);
        ngx_http_ir_redis_ask(redis);
        return NGX_DECLINED;
    }

    rcf = redis->conf;

    if (rcf->unix_path.len) {
        ac = redisAsyncConnectUnix((char *) rcf->unix_path.data);

    } else {
        ac = redisAsyncConnect((char *) rcf->host.data, rcf->port);
    }

    if (ac == NULL) {
        ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                      "ir_access: no memory for a Redis connection");
        ngx_http_ir_redis_failed(redis);
        return NGX_ERROR;
    }

    if (ac->err) {
        ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                      "ir_access: could not connect to Redis at \"%V\": %s",
                      &rcf->address, ac->errstr);
        redisAsyncFree(ac);
        ngx_http_ir_redis_failed(redis);
        return NGX_ERROR;
    }

    c = ngx_get_connection(ac->c.fd, redis->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_http_ir_redis_failed(redis);
        return NGX_ERROR;
    }

    c->data = ac;
    c->log = redis->log;
    c->read->handler = ngx_http_ir_redis_read_handler;
    c->write->handler = ngx_http_ir_redis_write_handler;
    c->read->log = redis->log;
    c->write->log = redis->log;

    ac->data = redis;
    ac->ev.data = c;
    ac->ev.addRead = ngx_http_ir_redis_add_read;
    ac->ev.delRead = ngx_http_ir_redis_del_read;
    ac->ev.addWrite = ngx_http_ir_redis_add_write;
    ac->ev.delWrite = ngx_http_ir_redis_del_write;
    ac->ev.cleanup = ngx_http_ir_redis_cleanup;

    redisAsyncSetConnectCallback(ac, ngx_http_ir_redis_connected);
    redisAsyncSetDisconnectCallback(ac, ngx_http_ir_redis_disconnected);

    redis->ac = ac;
    redis->pending = 0;
    redis->progress = ngx_current_msec;
    redis->refused = 0;

    /* hiredis learns the result of connect() from the first write event */
    ngx_http_ir_redis_add_write(c);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, redis->log, 0,
                   "ir_access: connecting to Redis at \"%V\"", &rcf->address);

    ngx_http_ir_redis_handshake(redis);

    return NGX_OK;
}


/*
 * The context is forgotten before it is freed: hiredis tells a context
 * that never connected no disconnect, and the replies it fails on the way
 * must find no connection to send more on.
 */

static void
ngx_http_ir_redis_drop(ngx_http_ir_redis_t *redis)
{
    redisAsyncContext  *ac;

    ac = redis->ac;
    redis->ac = NULL;
    redis->pending = 0;

    redisAsyncFree(ac);

    ngx_http_ir_redis_failed(redis);
}


static void
ngx_http_ir_redis_failed(ngx_http_ir_redis_t *redis)
{
    ngx_msec_t  backoff;

    backoff = NGX_HTTP_IR_REDIS_BACKOFF_MIN << ngx_min(redis->failures, 8);
    backoff = ngx_min(backoff, NGX_HTTP_IR_REDIS_BACKOFF_MAX);

    redis->failures++;
    redis->retry_at = ngx_current_msec + backoff;

    if (redis->nsentinels) {
        /* the master may have moved: the Sentinels are asked again */
        redis->master_known = 0;
        ngx_http_ir_redis_ask(redis);
    }
}


static void
ngx_http_ir_redis_ask(ngx_http_ir_redis_t *redis)
{
    size_t                     len[3];
    ngx_uint_t                 n;
    const char                *argv[3];
    ngx_http_ir_redis_conf_t  *rcf;

    if (redis->nsentinels == 0 || redis->question) {
        return;
    }

    rcf = redis->conf;

    argv[0] = "SENTINEL";
    len[0] = sizeof("SENTINEL") - 1;
    argv[1] = "get-master-addr-by-name";
    len[1] = sizeof("get-master-addr-by-name") - 1;
    argv[2] = (const char *) rcf->master_name.data;
    len[2] = rcf->master_name.len;

    /* each Sentinel keeps its own backoff: those that failed are passed */

    for (n = 0; n < redis->nsentinels; n++) {
        redis->question = ngx_http_ir_redis_command(
                                          redis->sentinels[redis->asked],
                                          ngx_http_ir_redis_answer, redis,
                                          3, argv, len);
        if (redis->question) {
            return;
        }

        redis->asked = (redis->asked + 1) % redis->nsentinels;
    }
}


static void
ngx_http_ir_redis_answer(void *data, redisReply *reply)
{
    ngx_http_ir_redis_t *redis = data;

    u_char                    *p;
    ngx_int_t                  port;
    redisReply                *host;
    struct in6_addr            inaddr6;
    redisAsyncContext         *ac;
    ngx_http_ir_redis_conf_t  *rcf, *sentinel;

    redis->question = NULL;

    rcf = redis->conf;
    sentinel = redis->sentinels[redis->asked]->conf;

    if (reply == NULL
        || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_STRING)
    {
        if (reply == NULL) {
            ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                          "ir_access: Sentinel at \"%V\" did not answer",
                          &sentinel->address);

        } else if (reply->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                          "ir_access: Sentinel at \"%V\" answered: %*s",
                          &sentinel->address, (size_t) reply->len,
                          reply->str);

        } else {
            ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                          "ir_access: Sentinel at \"%V\" knows no master "
                          "\"%V\"; check \"sentinel=\" of "
                          "\"ir_access_redis\"", &sentinel->address,
                          &rcf->master_name);
        }

        redis->asked = (redis->asked + 1) % redis->nsentinels;
        return;
    }

    host = reply->element[0];
    port = ngx_atoi((u_char *) reply->element[1]->str,
                    reply->element[1]->len);

    /* hiredis would resolve a name with a call that blocks the worker */

    if (host->len == 0 || host->len > NGX_SOCKADDR_STRLEN
        || port < 1 || port > 65535
        || (ngx_inet_addr((u_char *) host->str, host->len) == INADDR_NONE
#if (NGX_HAVE_INET6)
            && ngx_inet6_addr((u_char *) host->str, host->len,
                              inaddr6.s6_addr)
               != NGX_OK
#endif
           ))
    {
        ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                      "ir_access: Sentinel at \"%V\" names the master "
                      "\"%V\" as \"%*s\" port \"%*s\", not an IP address "
                      "and a port; set \"sentinel resolve-hostnames no\"",
                      &sentinel->address, &rcf->master_name,
                      (size_t) host->len, host->str,
                      (size_t) reply->element[1]->len,
                      reply->element[1]->str);

        redis->asked = (redis->asked + 1) % redis->nsentinels;
        return;
    }

    if (host->len == rcf->host.len
        && ngx_strncmp(host->str, rcf->host.data, host->len) == 0
        && port == rcf->port)
    {
        redis->master_known = 1;
        return;
    }

    p = ngx_sprintf(redis->master_address, "%*s:%i",
                    (size_t) host->len, host->str, port);

    ngx_log_error(NGX_LOG_NOTICE, redis->log, 0,
                  "ir_access: Sentinel at \"%V\" names %*s as master \"%V\"",
                  &sentinel->address, p - redis->master_address,
                  redis->master_address, &rcf->master_name);

    if (redis->ac) {
        /*
         * What is in flight on the old master is answered first; new
         * commands go to the new one, on a connection of their own.  The
         * old one is forgotten first, so that its closing is no failure.
         */
        ac = redis->ac;
        redis->ac = NULL;
        redis->pending = 0;

        redisAsyncDisconnect(ac);
    }

    rcf->address.data = redis->master_address;
    rcf->address.len = p - redis->master_address;

    ngx_memcpy(rcf->host.data, host->str, host->len);
    rcf->host.data[host->len] = '\0';
    rcf->host.len = host->len;
    rcf->port = (in_port_t) port;

    redis->master_known = 1;
}


/*
 * AUTH and SELECT go first on the new connection; the requests that
 * follow are pipelined behind them, so nothing waits for the handshake.
 */

static void
ngx_http_ir_redis_handshake(ngx_http_ir_redis_t *redis)
{
    u_char                    *p;
    size_t                     len[3];
    const char                *argv[3];
    u_char                     db[NGX_INT_T_LEN];
    ngx_http_ir_redis_conf_t  *rcf;

    rcf = redis->conf;

    if (rcf->password.len) {
        argv[0] = "AUTH";
        len[0] = 4;

        if (rcf->user.len) {
            argv[1] = (const char *) rcf->user.data;
            len[1] = rcf->user.len;
            argv[2] = (const char *) rcf->password.data;
            len[2] = rcf->password.len;

        } else {
            argv[1] = (const char *) rcf->password.data;
            len[1] = rcf->password.len;
        }

        (void) ngx_http_ir_redis_command(redis,
                                         ngx_http_ir_redis_handshake_handler,
                                         redis, rcf->user.len ? 3 : 2,
                                         argv, len);
    }

    if (rcf->db) {
        p = ngx_sprintf(db, "%i", rcf->db);

        argv[0] = "SELECT";
        len[0] = 6;
        argv[1] = (const char *) db;
        len[1] = p - db;

        (void) ngx_http_ir_redis_command(redis,
                                         ngx_http_ir_redis_handshake_handler,
                                         redis, 2, argv, len);
    }
}


static void
ngx_http_ir_redis_handshake_handler(void *data, redisReply *reply)
{
    ngx_http_ir_redis_t *redis = data;

    if (reply == NULL || reply->type != REDIS_REPLY_ERROR) {
        return;
    }

    ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                  "ir_access: Redis at \"%V\" refused the connection's "
                  "set-up: %*s; check the user, password and db "
                  "of \"ir_access_redis\"", &redis->conf->address,
                  (size_t) reply->len, reply->str);

    redis->refused = 1;

    if (redis->ac) {
        redisAsyncDisconnect(redis->ac);
    }
}


static void
ngx_http_ir_redis_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    ngx_http_ir_redis_call_t *call = privdata;

    redisReply           *rr;
    ngx_http_ir_redis_t  *redis;

    redis = ac->data;
    rr = reply;

    /* a connection left for a new master owes nothing to the count */

    if (redis->ac == ac && redis->pending) {
        redis->pending--;
    }

    if (rr == NULL || rr->type == REDIS_REPLY_ERROR) {
        ngx_http_ir_metric_inc(redis_errors);
    }

    if (rr) {
        redis->progress = ngx_current_msec;

        if (call->data == redis) {
            /* the handshake's own reply */

        } else if (redis->refused) {
            /* without AUTH these ran as whoever Redis lets in: fail them */
            rr = NULL;

        } else if (rr->type != REDIS_REPLY_ERROR) {
            redis->failures = 0;

        } else if (redis->nsentinels && redis->ac == ac
                   && rr->len >= 8 && ngx_strncmp(rr->str, "READONLY", 8) == 0)
        {
            /* a failover made the master a replica: find the new one */

            ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                          "ir_access: Redis at \"%V\" is a replica now; "
                          "asking the Sentinels for master \"%V\"",
                          &redis->conf->address, &redis->conf->master_name);

            redisAsyncDisconnect(ac);
        }
    }

    if (call->data) {
        call->handler(call->data, rr);
    }

    ngx_free(call);
}


static void
ngx_http_ir_redis_message(redisAsyncContext *ac, void *reply, void *privdata)
{
    ngx_http_ir_redis_call_t *call = privdata;

    if (reply) {
        ((ngx_http_ir_redis_t *) ac->data)->failures = 0;
    }

    if (call->data) {
        call->handler(call->data, reply);
    }
}


static void
ngx_http_ir_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_ir_redis_t  *redis;

    redis = ac->data;

    if (status == REDIS_OK) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, redis->log, 0,
                       "ir_access: connected to Redis at \"%V\"",
                       &redis->conf->address);
        return;
    }

    /* hiredis frees the context right after this callback */

    ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                  "ir_access: could not connect to Redis at \"%V\": %s",
                  &redis->conf->address, ac->errstr);

    redis->ac = NULL;
    ngx_http_ir_redis_failed(redis);
}


static void
ngx_http_ir_redis_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_http_ir_redis_t  *redis;

    redis = ac->data;

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                      "ir_access: lost the connection to Redis at \"%V\": %s",
                      &redis->conf->address,
                      ac->errstr ? ac->errstr : "closed");
    }

    if (redis->ac == ac) {
        redis->ac = NULL;
        ngx_http_ir_redis_failed(redis);
    }
}


static void
ngx_http_ir_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c;

    c = ev->data;

    redisAsyncHandleRead(c->data);
}


static void
ngx_http_ir_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c;

    c = ev->data;

    redisAsyncHandleWrite(c->data);
}


/*
 * hiredis reads at most one buffer per call, so the events are level
 * triggered: whatever it leaves unread raises the event again.
 */

static void
ngx_http_ir_redis_add_read(void *privdata)
{
    ngx_connection_t *c = privdata;

    if (!c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                          "ir_access: could not watch the Redis connection");
        }
    }
}


static void
ngx_http_ir_redis_del_read(void *privdata)
{
    ngx_connection_t *c = privdata;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_ir_redis_add_write(void *privdata)
{
    ngx_connection_t *c = privdata;

    if (!c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                          "ir_access: could not watch the Redis connection");
        }
    }
}


static void
ngx_http_ir_redis_del_write(void *privdata)
{
    ngx_connection_t *c = privdata;

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


/*
 * hiredis closes the descriptor itself right after this, so the events
 * are dropped as for a closing socket and the connection object is only
 * given back to nginx.
 */

static void
ngx_http_ir_redis_cleanup(void *privdata)
{
    ngx_connection_t *c = privdata;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    c->read->closed = 1;
    c->write->closed = 1;

    ngx_free_connection(c);

    c->fd = (ngx_socket_t) -1;
}
