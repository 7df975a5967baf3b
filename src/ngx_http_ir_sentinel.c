
/*
 * ir-access: Redis Sentinel, which tells the workers where the master is.
 *
 * With "ir_access_redis 10.0.0.11:26379,10.0.0.12:26379 sentinel=NAME"
 * each worker asks the Sentinels for the master's address, over
 * connections of the same adapter, each Sentinel with its own backoff:
 * one that fails or does not know the master is passed for the next.
 * They are asked again every second, whenever the master's connection is
 * lost, and when a write is refused with READONLY, and the worker's
 * connection follows the master they name without a reload.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_ir_redis.h"
#include "ngx_http_ir_sentinel.h"


/*
 * How often the Sentinels are asked whether the master has moved, ms: a
 * failover can leave the old master up, and writable until the
 * Sentinels demote it, so the workers follow within about that.
 */
#define NGX_HTTP_IR_SENTINEL_POLL      1000


struct ngx_http_ir_sentinel_s {
    ngx_http_ir_redis_t           *master;
    ngx_http_ir_redis_conf_t      *conf;
    ngx_log_t                     *log;
    ngx_http_ir_redis_t          **conns;
    ngx_uint_t                     nconns;
    ngx_uint_t                     asked;         /* the one asked last */
    ngx_http_ir_redis_call_t      *question;
    ngx_event_t                    poll;
    unsigned                       known:1;
};


static void ngx_http_ir_sentinel_ask(ngx_http_ir_sentinel_t *s);
static void ngx_http_ir_sentinel_answer(void *data, redisReply *reply);
static void ngx_http_ir_sentinel_poll(ngx_event_t *ev);


/* the Sentinels' addresses, separated by commas */

char *
ngx_http_ir_sentinel_conf(ngx_conf_t *cf, ngx_http_ir_redis_conf_t *rcf)
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
        sentinel->sentinel = 1;

        /* the Sentinels' own credentials, and the same TLS as the master */

        sentinel->user = rcf->sentinel_user;
        sentinel->password = rcf->sentinel_password;

        sentinel->tls = rcf->tls;
#if (NGX_HTTP_IR_REDIS_TLS)
        sentinel->ssl_ctx = rcf->ssl_ctx;
#endif
        sentinel->tls_name = rcf->tls_name;

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


ngx_http_ir_sentinel_t *
ngx_http_ir_sentinel_create(ngx_http_ir_redis_t *master,
    ngx_http_ir_redis_conf_t *rcf, ngx_log_t *log)
{
    ngx_uint_t                 i;
    ngx_http_ir_sentinel_t    *s;
    ngx_http_ir_redis_conf_t  *sentinel;

    s = ngx_calloc(sizeof(ngx_http_ir_sentinel_t), log);
    if (s == NULL) {
        return NULL;
    }

    s->master = master;
    s->conf = rcf;
    s->log = log;

    s->conns = ngx_calloc(rcf->sentinels->nelts
                          * sizeof(ngx_http_ir_redis_t *), log);
    if (s->conns == NULL) {
        ngx_http_ir_sentinel_destroy(s);
        return NULL;
    }

    sentinel = rcf->sentinels->elts;

    for (i = 0; i < rcf->sentinels->nelts; i++) {
        sentinel[i].timeout = rcf->timeout;

        s->conns[i] = ngx_http_ir_redis_create(&sentinel[i], log);
        if (s->conns[i] == NULL) {
            ngx_http_ir_sentinel_destroy(s);
            return NULL;
        }

        s->nconns++;
    }

    s->poll.handler = ngx_http_ir_sentinel_poll;
    s->poll.data = s;
    s->poll.log = log;
    s->poll.cancelable = 1;

    ngx_add_timer(&s->poll, NGX_HTTP_IR_SENTINEL_POLL);

    ngx_http_ir_sentinel_ask(s);

    return s;
}


void
ngx_http_ir_sentinel_destroy(ngx_http_ir_sentinel_t *s)
{
    ngx_uint_t  i, n;

    /* a question still out must find nobody to answer */

    if (s->question) {
        s->question->data = NULL;
        s->question = NULL;
    }

    if (s->poll.timer_set) {
        ngx_del_timer(&s->poll);
    }

    n = s->nconns;
    s->nconns = 0;

    for (i = 0; i < n; i++) {
        ngx_http_ir_redis_destroy(s->conns[i]);
    }

    if (s->conns) {
        ngx_free(s->conns);
    }

    ngx_free(s);
}


/* NGX_OK when the master is known; else the Sentinels are asked */

ngx_int_t
ngx_http_ir_sentinel_ready(ngx_http_ir_sentinel_t *s)
{
    if (s->known) {
        return NGX_OK;
    }

    /* a Sentinel that hangs is dropped, and the next one asked */

    if (s->question) {
        ngx_http_ir_redis_check(s->conns[s->asked]);
    }

    ngx_http_ir_sentinel_ask(s);

    return NGX_DECLINED;
}


void
ngx_http_ir_sentinel_lost(ngx_http_ir_sentinel_t *s)
{
    s->known = 0;

    ngx_http_ir_sentinel_ask(s);
}


static void
ngx_http_ir_sentinel_ask(ngx_http_ir_sentinel_t *s)
{
    ngx_str_t   *name;
    ngx_uint_t   n;

    if (s->question) {
        return;
    }

    name = &s->conf->master_name;

    /* each Sentinel keeps its own backoff: those that failed are passed */

    for (n = 0; n < s->nconns; n++) {
        s->question = ngx_http_ir_redis_command(s->conns[s->asked],
                          ngx_http_ir_sentinel_answer, s,
                          "SENTINEL get-master-addr-by-name %b",
                          name->data, name->len);
        if (s->question) {
            return;
        }

        s->asked = (s->asked + 1) % s->nconns;
    }
}


static void
ngx_http_ir_sentinel_answer(void *data, redisReply *reply)
{
    ngx_http_ir_sentinel_t *s = data;

    ngx_int_t                  port;
    redisReply                *host;
    struct in6_addr            inaddr6;
    ngx_http_ir_redis_conf_t  *rcf, *sentinel;

    s->question = NULL;

    rcf = ngx_http_ir_redis_conf(s->master);
    sentinel = ngx_http_ir_redis_conf(s->conns[s->asked]);

    if (reply == NULL
        || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_STRING)
    {
        if (reply == NULL) {
            ngx_log_error(NGX_LOG_ERR, s->log, 0,
                          "ir_access: Sentinel at \"%V\" did not answer",
                          &sentinel->address);

        } else if (reply->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, s->log, 0,
                          "ir_access: Sentinel at \"%V\" answered: %*s",
                          &sentinel->address,
                          ngx_min((size_t) reply->len, 256), reply->str);

        } else {
            ngx_log_error(NGX_LOG_ERR, s->log, 0,
                          "ir_access: Sentinel at \"%V\" knows no master "
                          "\"%V\"; check \"sentinel=\" of "
                          "\"ir_access_redis\"", &sentinel->address,
                          &rcf->master_name);
        }

        s->asked = (s->asked + 1) % s->nconns;
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
        ngx_log_error(NGX_LOG_ERR, s->log, 0,
                      "ir_access: Sentinel at \"%V\" names the master "
                      "\"%V\" as \"%*s\" port \"%*s\", not an IP address "
                      "and a port; set \"sentinel resolve-hostnames no\"",
                      &sentinel->address, &rcf->master_name,
                      ngx_min((size_t) host->len, 64), host->str,
                      ngx_min((size_t) reply->element[1]->len, 16),
                      reply->element[1]->str);

        s->asked = (s->asked + 1) % s->nconns;
        return;
    }

    s->known = 1;

    if (host->len == rcf->host.len
        && ngx_strncmp(host->str, rcf->host.data, host->len) == 0
        && port == rcf->port)
    {
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, s->log, 0,
                  "ir_access: Sentinel at \"%V\" names %*s:%i as master "
                  "\"%V\"", &sentinel->address, (size_t) host->len,
                  host->str, port, &rcf->master_name);

    ngx_http_ir_redis_move(s->master, (u_char *) host->str, host->len,
                           (in_port_t) port);
}


static void
ngx_http_ir_sentinel_poll(ngx_event_t *ev)
{
    ngx_http_ir_sentinel_t *s = ev->data;

    if (s->question) {
        ngx_http_ir_redis_check(s->conns[s->asked]);
    }

    ngx_http_ir_sentinel_ask(s);

    ngx_add_timer(&s->poll, NGX_HTTP_IR_SENTINEL_POLL);
}
