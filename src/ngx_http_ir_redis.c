
/*
 * ir-access: the worker's Redis connection.
 *
 * One persistent hiredis async connection per worker, driven by nginx's
 * event loop through a small adapter.  Commands are pipelined; the
 * connection is opened lazily and, after a failure, again no sooner than
 * an exponential backoff allows, so that a Redis outage costs a request
 * nothing but a quick 503.  Scripts are sent by their SHA-1 and whole
 * only when Redis does not know them yet.  With Sentinels, the master's
 * address is theirs to tell (ngx_http_ir_sentinel.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_ir_metrics.h"
#include "ngx_http_ir_redis.h"
#include "ngx_http_ir_sentinel.h"


/* the backoff after a failed connection, from and to, ms */
#define NGX_HTTP_IR_REDIS_BACKOFF_MIN  50
#define NGX_HTTP_IR_REDIS_BACKOFF_MAX  1000

/* the longest password a file may hold */
#define NGX_HTTP_IR_REDIS_SECRET_MAX   1024


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

    /* with Sentinels: the master they name, kept by the worker */
    ngx_http_ir_sentinel_t        *sentinel;
    ngx_http_ir_redis_conf_t       master;
    u_char                         master_host[NGX_SOCKADDR_STRLEN + 1];
    u_char                         master_address[NGX_SOCKADDR_STRLEN
                                                  + NGX_INT_T_LEN];

#if (NGX_HTTP_IR_REDIS_TLS)
    /* the connection's TLS, hiredis's to free, to tell why it failed */
    SSL                           *ssl;
#endif

    /* AUTH or SELECT failed: what was pipelined behind them is void */
    unsigned                       refused:1;

    /* the worker's own connection: its state goes into the metrics */
    unsigned                       report:1;
};


static ngx_uint_t ngx_http_ir_redis_param(ngx_str_t *param, char *name,
    ngx_str_t *value);
static char *ngx_http_ir_redis_secret(ngx_conf_t *cf, char *name,
    ngx_str_t *secret, ngx_str_t *file);
static char *ngx_http_ir_redis_tls_conf(ngx_conf_t *cf,
    ngx_http_ir_redis_conf_t *rcf, ngx_str_t *ca, ngx_str_t *cert,
    ngx_str_t *key);
#if (NGX_HTTP_IR_REDIS_TLS)
static char *ngx_http_ir_redis_tls_file(ngx_conf_t *cf, char *what,
    ngx_str_t *file);
static int ngx_http_ir_redis_tls_password(char *buf, int size, int rwflag,
    void *userdata);
static void ngx_http_ir_redis_tls_cleanup(void *data);
static ngx_int_t ngx_http_ir_redis_tls_start(ngx_http_ir_redis_t *redis,
    redisAsyncContext *ac);
static ngx_int_t ngx_http_ir_redis_tls_failed(ngx_http_ir_redis_t *redis,
    SSL *ssl, char *errstr);
#endif
static ngx_int_t ngx_http_ir_redis_send(ngx_http_ir_redis_t *redis,
    ngx_http_ir_redis_call_t *call, ngx_uint_t whole);
static ngx_http_ir_redis_call_t *ngx_http_ir_redis_formatted(
    ngx_http_ir_redis_t *redis, ngx_http_ir_redis_handler_pt handler,
    void *data, char *cmd, long long len);
static ngx_http_ir_redis_call_t *ngx_http_ir_redis_call(
    ngx_http_ir_redis_t *redis, ngx_http_ir_redis_handler_pt handler,
    void *data, size_t size);
static ngx_int_t ngx_http_ir_redis_sent(ngx_http_ir_redis_t *redis, int rc);
static ngx_int_t ngx_http_ir_redis_connect(ngx_http_ir_redis_t *redis);
static void ngx_http_ir_redis_drop(ngx_http_ir_redis_t *redis);
static void ngx_http_ir_redis_forget(ngx_http_ir_redis_t *redis);
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

static void ngx_http_ir_redis_event_handler(ngx_event_t *ev);
static void ngx_http_ir_redis_add_read(void *privdata);
static void ngx_http_ir_redis_del_read(void *privdata);
static void ngx_http_ir_redis_add_write(void *privdata);
static void ngx_http_ir_redis_del_write(void *privdata);
static void ngx_http_ir_redis_cleanup(void *privdata);
static void ngx_http_ir_redis_watch(ngx_event_t *ev);
static void ngx_http_ir_redis_unwatch(ngx_event_t *ev, ngx_uint_t flags);


char *
ngx_http_ir_redis_parse(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t n,
    ngx_http_ir_redis_conf_t *rcf)
{
    char        *rv;
    u_char      *p;
    ngx_str_t    s, password_file, sentinel_password_file;
    ngx_str_t    tls_ca, tls_cert, tls_key;
    ngx_uint_t   i;

    rcf->address = value[1];
    rcf->db = 0;

    ngx_str_null(&password_file);
    ngx_str_null(&sentinel_password_file);
    ngx_str_null(&tls_ca);
    ngx_str_null(&tls_cert);
    ngx_str_null(&tls_key);

    for (i = 2; i < n; i++) {

        if (ngx_http_ir_redis_param(&value[i], "db=", &s)) {
            rcf->db = ngx_atoi(s.data, s.len);
            if (rcf->db == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid Redis database \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_http_ir_redis_param(&value[i], "sentinel=",
                                    &rcf->master_name))
        {
            if (rcf->master_name.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "no master name in \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "tls") == 0) {
            rcf->tls = 1;
            continue;
        }

        if (ngx_http_ir_redis_param(&value[i], "user=", &rcf->user)
            || ngx_http_ir_redis_param(&value[i], "password=",
                                       &rcf->password)
            || ngx_http_ir_redis_param(&value[i], "password_file=",
                                       &password_file)
            || ngx_http_ir_redis_param(&value[i], "sentinel_user=",
                                       &rcf->sentinel_user)
            || ngx_http_ir_redis_param(&value[i], "sentinel_password=",
                                       &rcf->sentinel_password)
            || ngx_http_ir_redis_param(&value[i], "sentinel_password_file=",
                                       &sentinel_password_file)
            || ngx_http_ir_redis_param(&value[i], "tls_ca=", &tls_ca)
            || ngx_http_ir_redis_param(&value[i], "tls_cert=", &tls_cert)
            || ngx_http_ir_redis_param(&value[i], "tls_key=", &tls_key)
            || ngx_http_ir_redis_param(&value[i], "tls_name=",
                                       &rcf->tls_name))
        {
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    /* the secrets: in the configuration, or in a file only root reads */

    rv = ngx_http_ir_redis_secret(cf, "password", &rcf->password,
                                  &password_file);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (rcf->user.len && rcf->password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "Redis \"user=\" requires \"password=\" or "
                           "\"password_file=\"");
        return NGX_CONF_ERROR;
    }

    rv = ngx_http_ir_redis_secret(cf, "sentinel_password",
                                  &rcf->sentinel_password,
                                  &sentinel_password_file);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (rcf->master_name.len == 0
        && (rcf->sentinel_user.len || rcf->sentinel_password.len))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "Redis \"sentinel_user=\" and "
                           "\"sentinel_password=\" require \"sentinel=\"");
        return NGX_CONF_ERROR;
    }

    if (rcf->sentinel_user.len && rcf->sentinel_password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "Redis \"sentinel_user=\" requires "
                           "\"sentinel_password=\" or "
                           "\"sentinel_password_file=\"");
        return NGX_CONF_ERROR;
    }

    if (!rcf->tls
        && (tls_ca.data || tls_cert.data || tls_key.data
            || rcf->tls_name.data))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "Redis \"tls_ca=\", \"tls_cert=\", \"tls_key=\" "
                           "and \"tls_name=\" require \"tls\"");
        return NGX_CONF_ERROR;
    }

    if (rcf->tls) {
        if (ngx_strncmp(rcf->address.data, "unix:", 5) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "Redis \"tls\" is for TCP addresses, "
                               "not \"%V\"", &rcf->address);
            return NGX_CONF_ERROR;
        }

        rv = ngx_http_ir_redis_tls_conf(cf, rcf, &tls_ca, &tls_cert,
                                        &tls_key);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    if (rcf->master_name.len) {
        return ngx_http_ir_sentinel_conf(cf, rcf);
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


/* "name=value": the value, where the parameter is the one named */

static ngx_uint_t
ngx_http_ir_redis_param(ngx_str_t *param, char *name, ngx_str_t *value)
{
    size_t  len;

    len = ngx_strlen(name);

    if (param->len < len || ngx_strncmp(param->data, name, len) != 0) {
        return 0;
    }

    value->data = param->data + len;
    value->len = param->len - len;

    return 1;
}


/*
 * "password=" or "password_file=", not both.  The file is read here, by
 * the master, which runs as root: it can be readable by root alone, and
 * neither the configuration nor "nginx -T" shows the secret.  One
 * trailing newline is not part of it, as editors and "echo" add one.
 */

static char *
ngx_http_ir_redis_secret(ngx_conf_t *cf, char *name, ngx_str_t *secret,
    ngx_str_t *file)
{
    u_char     *p, *last;
    size_t      len;
    ssize_t     n;
    ngx_fd_t    fd;
    ngx_str_t   path;
    u_char      buf[NGX_HTTP_IR_REDIS_SECRET_MAX + 3];

    if (file->data == NULL) {
        return NGX_CONF_OK;
    }

    if (secret->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "Redis \"%s=\" and \"%s_file=\" are mutually "
                           "exclusive", name, name);
        return NGX_CONF_ERROR;
    }

    if (file->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no file name in Redis \"%s_file=\"", name);
        return NGX_CONF_ERROR;
    }

    path = *file;

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "cannot read the Redis %s from \"%s\": "
                           ngx_open_file_n " failed", name, path.data);
        return NGX_CONF_ERROR;
    }

    len = 0;

    do {
        n = ngx_read_fd(fd, buf + len, sizeof(buf) - len);

        if (n == -1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "cannot read the Redis %s from \"%s\": "
                               ngx_read_fd_n " failed", name, path.data);
            len = 0;
            goto failed;
        }

        len += n;

    } while (n != 0 && len < sizeof(buf));

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed", path.data);
    }

    fd = NGX_INVALID_FILE;

    /* a full buffer is too long whatever it ends with */

    if (len && len < sizeof(buf) && buf[len - 1] == LF) {
        len--;

        if (len && buf[len - 1] == CR) {
            len--;
        }
    }

    if (len > NGX_HTTP_IR_REDIS_SECRET_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the Redis %s in \"%s\" is longer than %d bytes",
                           name, path.data, NGX_HTTP_IR_REDIS_SECRET_MAX);
        goto failed;
    }

    if (len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the Redis %s file \"%s\" is empty",
                           name, path.data);
        goto failed;
    }

    last = buf + len;

    for (p = buf; p < last; p++) {
        if (*p == LF || *p == CR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the Redis %s file \"%s\" has more than "
                               "one line", name, path.data);
            goto failed;
        }
    }

    secret->data = ngx_pnalloc(cf->pool, len);
    if (secret->data == NULL) {
        goto failed;
    }

    ngx_memcpy(secret->data, buf, len);
    secret->len = len;

    ngx_explicit_memzero(buf, sizeof(buf));

    return NGX_CONF_OK;

failed:

    if (fd != NGX_INVALID_FILE && ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed", path.data);
    }

    ngx_explicit_memzero(buf, sizeof(buf));

    return NGX_CONF_ERROR;
}


#if (NGX_HTTP_IR_REDIS_TLS)

/*
 * "tls": one client context per configuration, made here by the master
 * from files it reads as root, and shared by every connection to the
 * master and to the Sentinels.  The server's certificate is verified
 * against "tls_ca=" (the system's trust store without it) and must name
 * the server (ngx_http_ir_redis_tls_start()).
 */

static char *
ngx_http_ir_redis_tls_conf(ngx_conf_t *cf, ngx_http_ir_redis_conf_t *rcf,
    ngx_str_t *ca, ngx_str_t *cert, ngx_str_t *key)
{
    SSL_CTX             *ctx;
    ngx_pool_cleanup_t  *cln;

    if ((cert->data == NULL) != (key->data == NULL)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "Redis \"tls_cert=\" and \"tls_key=\" go "
                           "together");
        return NGX_CONF_ERROR;
    }

    if (rcf->tls_name.data && rcf->tls_name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no name in Redis \"tls_name=\"");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_ir_redis_tls_file(cf, "tls_ca", ca) != NGX_CONF_OK
        || ngx_http_ir_redis_tls_file(cf, "tls_cert", cert) != NGX_CONF_OK
        || ngx_http_ir_redis_tls_file(cf, "tls_key", key) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                      "SSL_CTX_new() for Redis failed");
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        SSL_CTX_free(ctx);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_ir_redis_tls_cleanup;
    cln->data = ctx;

    rcf->ssl_ctx = ctx;

    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 0) {
        ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                      "SSL_CTX_set_min_proto_version() failed");
        return NGX_CONF_ERROR;
    }

    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);

    /* an encrypted key would have OpenSSL ask for its password on a tty */
    SSL_CTX_set_default_passwd_cb(ctx, ngx_http_ir_redis_tls_password);

    if (ca->data) {
        if (SSL_CTX_load_verify_locations(ctx, (char *) ca->data, NULL)
            == 0)
        {
            ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                          "cannot load the Redis CA \"%s\" of "
                          "\"tls_ca=\"", ca->data);
            return NGX_CONF_ERROR;
        }

    } else if (SSL_CTX_set_default_verify_paths(ctx) == 0) {
        ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                      "cannot load the system's trusted CAs for Redis; "
                      "name them with \"tls_ca=\"");
        return NGX_CONF_ERROR;
    }

    if (cert->data) {
        if (SSL_CTX_use_certificate_chain_file(ctx, (char *) cert->data)
            == 0)
        {
            ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                          "cannot load the Redis client certificate \"%s\" "
                          "of \"tls_cert=\"", cert->data);
            return NGX_CONF_ERROR;
        }

        if (SSL_CTX_use_PrivateKey_file(ctx, (char *) key->data,
                                        SSL_FILETYPE_PEM)
            == 0)
        {
            ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                          "cannot load the Redis client key \"%s\" of "
                          "\"tls_key=\" (an unencrypted PEM key, the "
                          "certificate's)", key->data);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* a file's name as nginx takes it: relative to the prefix, a C string */

static char *
ngx_http_ir_redis_tls_file(ngx_conf_t *cf, char *what, ngx_str_t *file)
{
    if (file->data == NULL) {
        return NGX_CONF_OK;
    }

    if (file->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no file name in Redis \"%s=\"", what);
        return NGX_CONF_ERROR;
    }

    if (ngx_conf_full_name(cf->cycle, file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static int
ngx_http_ir_redis_tls_password(char *buf, int size, int rwflag,
    void *userdata)
{
    return 0;
}


static void
ngx_http_ir_redis_tls_cleanup(void *data)
{
    SSL_CTX  *ctx = data;

    SSL_CTX_free(ctx);
}

#else

static char *
ngx_http_ir_redis_tls_conf(ngx_conf_t *cf, ngx_http_ir_redis_conf_t *rcf,
    ngx_str_t *ca, ngx_str_t *cert, ngx_str_t *key)
{
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "this build of the module has no Redis TLS support "
                       "(hiredis without hiredis_ssl)");
    return NGX_CONF_ERROR;
}

#endif


/*
 * The name is resolved here, once, while the configuration is read:
 * hiredis would resolve it on every reconnect, with a libc call that
 * blocks the worker.
 */

char *
ngx_http_ir_redis_resolve(ngx_conf_t *cf, ngx_str_t *address,
    in_port_t default_port, ngx_http_ir_redis_conf_t *rcf)
{
    ngx_url_t  u;
    ngx_str_t  host;

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

    /* the name a TLS server's certificate must carry: "[::1]" is "::1" */

    host = u.host;

    if (host.len > 2 && host.data[0] == '[') {
        host.data++;
        host.len -= 2;
    }

    rcf->peer_name.data = ngx_pnalloc(cf->pool, host.len + 1);
    if (rcf->peer_name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    *ngx_cpymem(rcf->peer_name.data, host.data, host.len) = '\0';
    rcf->peer_name.len = host.len;

    return NGX_CONF_OK;
}


ngx_http_ir_redis_t *
ngx_http_ir_redis_create(ngx_http_ir_redis_conf_t *rcf, ngx_log_t *log)
{
    ngx_http_ir_redis_t  *redis;

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
    redis->master.host.len = 0;
    redis->conf = &redis->master;

    redis->sentinel = ngx_http_ir_sentinel_create(redis, rcf, log);
    if (redis->sentinel == NULL) {
        ngx_free(redis);
        return NULL;
    }

    return redis;
}


void
ngx_http_ir_redis_destroy(ngx_http_ir_redis_t *redis)
{
    if (redis->report) {
        ngx_http_ir_metrics_redis_up(0);
        redis->report = 0;
    }

    if (redis->sentinel) {
        ngx_http_ir_sentinel_destroy(redis->sentinel);
        redis->sentinel = NULL;
    }

    if (redis->ac) {
        ngx_http_ir_redis_drop(redis);
    }

    ngx_free(redis);
}


/*
 * A command as hiredis formats it: its words apart, "%b" a value and its
 * length (a size_t), "%s" a C string, "%d" an int.
 */

ngx_http_ir_redis_call_t *
ngx_http_ir_redis_command(ngx_http_ir_redis_t *redis,
    ngx_http_ir_redis_handler_pt handler, void *data, const char *format,
    ...)
{
    int                        len;
    char                      *cmd;
    va_list                    args;
    ngx_http_ir_redis_call_t  *call;

    va_start(args, format);
    len = redisvFormatCommand(&cmd, format, args);
    va_end(args);

    call = ngx_http_ir_redis_formatted(redis, handler, data, cmd, len);

    if (len >= 0) {
        redisFreeCommand(cmd);
    }

    return call;
}


/* a command of as many words as its caller counts */

ngx_http_ir_redis_call_t *
ngx_http_ir_redis_command_argv(ngx_http_ir_redis_t *redis,
    ngx_http_ir_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    char                      *cmd;
    long long                  len;
    ngx_http_ir_redis_call_t  *call;

    len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);

    call = ngx_http_ir_redis_formatted(redis, handler, data, cmd, len);

    if (len >= 0) {
        redisFreeCommand(cmd);
    }

    return call;
}


static ngx_http_ir_redis_call_t *
ngx_http_ir_redis_formatted(ngx_http_ir_redis_t *redis,
    ngx_http_ir_redis_handler_pt handler, void *data, char *cmd,
    long long len)
{
    int                        rc;
    ngx_http_ir_redis_call_t  *call;

    if (len < 0) {
        ngx_log_error(NGX_LOG_ALERT, redis->log, 0,
                      "ir_access: a Redis command could not be formatted");
        return NULL;
    }

    call = ngx_http_ir_redis_call(redis, handler, data, 0);
    if (call == NULL) {
        return NULL;
    }

    rc = redisAsyncFormattedCommand(redis->ac, ngx_http_ir_redis_reply, call,
                                    cmd, (size_t) len);

    if (ngx_http_ir_redis_sent(redis, rc) != NGX_OK) {
        ngx_free(call);
        ngx_http_ir_metric_inc(redis_errors);
        return NULL;
    }

    return call;
}


/*
 * A script, by its SHA-1; the call keeps a copy of the arguments, so that
 * it can be sent whole if Redis does not know it (a new server, a SCRIPT
 * FLUSH), and the handler sees only the last reply.
 */

ngx_http_ir_redis_call_t *
ngx_http_ir_redis_eval(ngx_http_ir_redis_t *redis,
    ngx_http_ir_script_t *script, ngx_http_ir_args_t *args,
    ngx_http_ir_redis_handler_pt handler, void *data)
{
    u_char                    *from, *to;
    ngx_uint_t                 i;
    ngx_http_ir_args_t        *copy;
    ngx_http_ir_redis_call_t  *call;

    call = ngx_http_ir_redis_call(redis, handler, data,
                                  sizeof(ngx_http_ir_args_t));
    if (call == NULL) {
        return NULL;
    }

    copy = (ngx_http_ir_args_t *) (call + 1);
    ngx_memcpy(copy, args, sizeof(ngx_http_ir_args_t));

    /* what pointed into the caller's arguments points into the copy */

    from = (u_char *) args;
    to = (u_char *) copy;

    for (i = 0; i < copy->argc; i++) {
        if ((u_char *) copy->argv[i] >= from
            && (u_char *) copy->argv[i] < from + sizeof(ngx_http_ir_args_t))
        {
            copy->argv[i] = (char *) to
                            + ((u_char *) copy->argv[i] - from);
        }
    }

    call->script = script;
    call->args = copy;

    if (ngx_http_ir_redis_send(redis, call, 0) != NGX_OK) {
        ngx_free(call);
        ngx_http_ir_metric_inc(redis_errors);
        return NULL;
    }

    return call;
}


static ngx_int_t
ngx_http_ir_redis_send(ngx_http_ir_redis_t *redis,
    ngx_http_ir_redis_call_t *call, ngx_uint_t whole)
{
    int                  rc;
    u_char              *p;
    ngx_uint_t           i, n;
    ngx_http_ir_args_t  *args;
    const char          *argv[NGX_HTTP_IR_ARGS_MAX + 3];
    size_t               len[NGX_HTTP_IR_ARGS_MAX + 3];
    u_char               nkeys[NGX_INT_T_LEN];

    args = call->args;

    if (whole) {
        argv[0] = "EVAL";
        len[0] = 4;
        argv[1] = call->script->text;
        len[1] = call->script->len;

    } else {
        argv[0] = "EVALSHA";
        len[0] = 7;
        argv[1] = (const char *) call->script->sha1;
        len[1] = NGX_HTTP_IR_SHA1_HEX;
    }

    p = ngx_sprintf(nkeys, "%ui", args->nkeys);
    argv[2] = (const char *) nkeys;
    len[2] = p - nkeys;

    n = 3;

    for (i = 0; i < args->argc; i++) {
        argv[n] = args->argv[i];
        len[n++] = args->argvlen[i];
    }

    rc = redisAsyncCommandArgv(redis->ac, ngx_http_ir_redis_reply, call,
                               (int) n, argv, len);

    return ngx_http_ir_redis_sent(redis, rc);
}


/* a call with room for "size" bytes more, on a connection, or NULL */

static ngx_http_ir_redis_call_t *
ngx_http_ir_redis_call(ngx_http_ir_redis_t *redis,
    ngx_http_ir_redis_handler_pt handler, void *data, size_t size)
{
    ngx_http_ir_redis_call_t  *call;

    ngx_http_ir_metric_inc(redis_commands);

    if (redis->ac == NULL && ngx_http_ir_redis_connect(redis) != NGX_OK) {
        ngx_http_ir_metric_inc(redis_errors);
        return NULL;
    }

    call = ngx_alloc(sizeof(ngx_http_ir_redis_call_t) + size, redis->log);
    if (call == NULL) {
        return NULL;
    }

    /* a script and its arguments are set by the caller that has them */
    ngx_memzero(call, sizeof(ngx_http_ir_redis_call_t));

    call->handler = handler;
    call->data = data;

    return call;
}


/* what hiredis said to a command: on its way, or not taken */

static ngx_int_t
ngx_http_ir_redis_sent(ngx_http_ir_redis_t *redis, int rc)
{
    if (rc != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                      "ir_access: Redis at \"%V\" does not take commands",
                      &redis->conf->address);
        return NGX_ERROR;
    }

    if (redis->pending++ == 0) {
        redis->progress = ngx_current_msec;
    }

    return NGX_OK;
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


/* whether the connection is there and has owed nothing for long */

ngx_uint_t
ngx_http_ir_redis_up(ngx_http_ir_redis_t *redis)
{
    return redis->ac != NULL && !redis->refused
           && (redis->pending == 0
               || ngx_current_msec - redis->progress < redis->conf->timeout);
}


void
ngx_http_ir_redis_report(ngx_http_ir_redis_t *redis)
{
    redis->report = 1;
}


void
ngx_http_ir_redis_ping(ngx_http_ir_redis_t *redis)
{
    (void) ngx_http_ir_redis_command(redis, NULL, NULL, "PING");
}


ngx_http_ir_redis_conf_t *
ngx_http_ir_redis_conf(ngx_http_ir_redis_t *redis)
{
    return redis->conf;
}


/*
 * The Sentinels named another master: what is in flight on the old one
 * is answered first; new commands go to the new one, on a connection of
 * their own.  The old one is forgotten first, so that its closing is no
 * failure.
 */

void
ngx_http_ir_redis_move(ngx_http_ir_redis_t *redis, u_char *host, size_t len,
    in_port_t port)
{
    u_char                    *p;
    redisAsyncContext         *ac;
    ngx_http_ir_redis_conf_t  *rcf;

    rcf = redis->conf;

    if (redis->ac) {
        ac = redis->ac;
        ngx_http_ir_redis_forget(redis);

        redisAsyncDisconnect(ac);
    }

    p = ngx_sprintf(redis->master_address, "%*s:%d", len, host, (int) port);

    rcf->address.data = redis->master_address;
    rcf->address.len = p - redis->master_address;

    ngx_memcpy(rcf->host.data, host, len);
    rcf->host.data[len] = '\0';
    rcf->host.len = len;
    rcf->port = port;

    /* over TLS, its certificate must name this address ("tls_name=" aside) */
    rcf->peer_name = rcf->host;
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

    if (redis->sentinel && ngx_http_ir_sentinel_ready(redis->sentinel)
                           != NGX_OK)
    {
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

#if (NGX_HTTP_IR_REDIS_TLS)

    if (rcf->ssl_ctx && ngx_http_ir_redis_tls_start(redis, ac) != NGX_OK) {
        redisAsyncFree(ac);
        ngx_http_ir_redis_failed(redis);
        return NGX_ERROR;
    }

#endif

    c = ngx_get_connection(ac->c.fd, redis->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_http_ir_redis_failed(redis);
        return NGX_ERROR;
    }

    c->data = ac;
    c->log = redis->log;
    c->read->handler = ngx_http_ir_redis_event_handler;
    c->write->handler = ngx_http_ir_redis_event_handler;
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


#if (NGX_HTTP_IR_REDIS_TLS)

/*
 * TLS on the new connection, with hiredis's own SSL support: the SSL
 * object is made from the configuration's context and handed to hiredis,
 * which owns it from then on.  hiredis calls SSL_connect() once here, on
 * a non-blocking socket whose connect() may still be in progress, and
 * then goes on with the handshake inside the SSL_read() and SSL_write()
 * of its read and write handlers, which nginx's events drive: nothing
 * waits.  The commands already queued go out once the handshake is done.
 */

static ngx_int_t
ngx_http_ir_redis_tls_start(ngx_http_ir_redis_t *redis,
    redisAsyncContext *ac)
{
    SSL                       *ssl;
    ngx_str_t                 *name;
    struct in6_addr            inaddr6;
    ngx_http_ir_redis_conf_t  *rcf;

    rcf = redis->conf;
    name = rcf->tls_name.len ? &rcf->tls_name : &rcf->peer_name;

    ssl = SSL_new(rcf->ssl_ctx);
    if (ssl == NULL) {
        ngx_ssl_error(NGX_LOG_ERR, redis->log, 0,
                      "ir_access: SSL_new() for Redis failed");
        return NGX_ERROR;
    }

    /* the certificate must name the server: its address, or its name */

    if (ngx_inet_addr(name->data, name->len) != INADDR_NONE
#if (NGX_HAVE_INET6)
        || ngx_inet6_addr(name->data, name->len, inaddr6.s6_addr) == NGX_OK
#endif
       )
    {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
                                          (char *) name->data)
            == 0)
        {
            goto failed;
        }

    } else if (SSL_set1_host(ssl, (char *) name->data) == 0
               || SSL_set_tlsext_host_name(ssl, (char *) name->data) == 0)
    {
        goto failed;
    }

    /* on loopback the whole handshake may be over, or failed, at once */

    if (redisInitiateSSL(&ac->c, ssl) != REDIS_OK) {
        (void) ngx_http_ir_redis_tls_failed(redis, ssl, ac->c.errstr);
        SSL_free(ssl);
        return NGX_ERROR;
    }

    redis->ssl = ssl;

    return NGX_OK;

failed:

    ngx_ssl_error(NGX_LOG_ERR, redis->log, 0,
                  "ir_access: cannot verify Redis at \"%V\" by the name "
                  "\"%V\"", &rcf->address, name);
    SSL_free(ssl);

    return NGX_ERROR;
}


/*
 * The connection failed: if TLS did, say why (a certificate that did not
 * verify, an alert from the server), in OpenSSL's own words, which
 * ngx_ssl_error() adds; hiredis's words are only strerror() then.
 */

static ngx_int_t
ngx_http_ir_redis_tls_failed(ngx_http_ir_redis_t *redis, SSL *ssl,
    char *errstr)
{
    long   rc;
    char  *what;

    rc = SSL_get_verify_result(ssl);

    if (rc != X509_V_OK) {
        ngx_ssl_error(NGX_LOG_ERR, redis->log, 0,
                      "ir_access: TLS handshake with Redis at \"%V\" "
                      "failed: its certificate did not verify: %s",
                      &redis->conf->address,
                      X509_verify_cert_error_string(rc));
        return NGX_OK;
    }

    what = SSL_is_init_finished(ssl) ? "connection" : "handshake";

    if (ERR_peek_error()) {
        ngx_ssl_error(NGX_LOG_ERR, redis->log, 0,
                      "ir_access: TLS %s with Redis at \"%V\" failed",
                      what, &redis->conf->address);
        return NGX_OK;
    }

    if (SSL_is_init_finished(ssl)) {
        return NGX_DECLINED;
    }

    ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                  "ir_access: TLS handshake with Redis at \"%V\" failed: %s",
                  &redis->conf->address, errstr);

    return NGX_OK;
}

#endif


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
    ngx_http_ir_redis_forget(redis);

    redisAsyncFree(ac);

    ngx_http_ir_redis_failed(redis);
}


/* the context is hiredis's to free: nothing more is sent on it */

static void
ngx_http_ir_redis_forget(ngx_http_ir_redis_t *redis)
{
    redis->ac = NULL;
    redis->pending = 0;
#if (NGX_HTTP_IR_REDIS_TLS)
    redis->ssl = NULL;
#endif
}


static void
ngx_http_ir_redis_failed(ngx_http_ir_redis_t *redis)
{
    ngx_msec_t  backoff;

    if (redis->report) {
        ngx_http_ir_metrics_redis_up(0);
    }

    backoff = NGX_HTTP_IR_REDIS_BACKOFF_MIN << ngx_min(redis->failures, 8);
    backoff = ngx_min(backoff, NGX_HTTP_IR_REDIS_BACKOFF_MAX);

    redis->failures++;
    redis->retry_at = ngx_current_msec + backoff;

    if (redis->sentinel) {
        /* the master may have moved: the Sentinels are asked again */
        ngx_http_ir_sentinel_lost(redis->sentinel);
    }
}


/*
 * AUTH and SELECT go first on the new connection; the requests that
 * follow are pipelined behind them, so nothing waits for the handshake.
 */

static void
ngx_http_ir_redis_handshake(ngx_http_ir_redis_t *redis)
{
    u_char                    *p;
    u_char                     db[NGX_INT_T_LEN];
    ngx_http_ir_redis_conf_t  *rcf;

    rcf = redis->conf;

    if (rcf->password.len && rcf->user.len) {
        (void) ngx_http_ir_redis_command(redis,
                                         ngx_http_ir_redis_handshake_handler,
                                         redis, "AUTH %b %b",
                                         rcf->user.data, rcf->user.len,
                                         rcf->password.data,
                                         rcf->password.len);

    } else if (rcf->password.len) {
        (void) ngx_http_ir_redis_command(redis,
                                         ngx_http_ir_redis_handshake_handler,
                                         redis, "AUTH %b", rcf->password.data,
                                         rcf->password.len);
    }

    if (rcf->db) {
        p = ngx_sprintf(db, "%i", rcf->db);

        (void) ngx_http_ir_redis_command(redis,
                                         ngx_http_ir_redis_handshake_handler,
                                         redis, "SELECT %b", db,
                                         (size_t) (p - db));
    }
}


static void
ngx_http_ir_redis_handshake_handler(void *data, redisReply *reply)
{
    ngx_http_ir_redis_t *redis = data;

    if (reply == NULL || reply->type != REDIS_REPLY_ERROR) {
        return;
    }

    if (redis->conf->sentinel) {
        ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                      "ir_access: Sentinel at \"%V\" refused the "
                      "connection's set-up: %*s; check \"sentinel_user=\" "
                      "and \"sentinel_password=\" of \"ir_access_redis\"",
                      &redis->conf->address,
                      ngx_min((size_t) reply->len, 256), reply->str);

    } else {
        ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                      "ir_access: Redis at \"%V\" refused the connection's "
                      "set-up: %*s; check the user, password and db "
                      "of \"ir_access_redis\"", &redis->conf->address,
                      (size_t) reply->len, reply->str);
    }

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

        } else if (call->script && call->args && redis->ac == ac
                   && rr->len >= 8 && ngx_strncmp(rr->str, "NOSCRIPT", 8) == 0)
        {
            /* sent whole once, on the same connection, in its turn */

            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, redis->log, 0,
                           "ir_access: Redis does not know the script yet, "
                           "sending it whole");

            if (ngx_http_ir_redis_send(redis, call, 1) == NGX_OK) {
                call->args = NULL;
                return;
            }

            rr = NULL;

        } else if (redis->sentinel && redis->ac == ac
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

        /*
         * Progress: the commands queued meanwhile have their whole timeout
         * from now.  A new worker queues them before its event loop runs,
         * at a time cached before its start (and before the master read
         * the configuration, on a reload), and may well reach here later
         * than the timeout after it.
         */

        redis->progress = ngx_current_msec;

        if (redis->report) {
            ngx_http_ir_metrics_redis_up(1);
        }

        return;
    }

    /* hiredis frees the context right after this callback */

    ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                  "ir_access: could not connect to Redis at \"%V\": %s",
                  &redis->conf->address, ac->errstr);

    ngx_http_ir_redis_forget(redis);
    ngx_http_ir_redis_failed(redis);
}


static void
ngx_http_ir_redis_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_http_ir_redis_t  *redis;

    redis = ac->data;

    if (status != REDIS_OK
#if (NGX_HTTP_IR_REDIS_TLS)
        && (redis->ac != ac || redis->ssl == NULL
            || ngx_http_ir_redis_tls_failed(redis, redis->ssl, ac->errstr)
               != NGX_OK)
#endif
       )
    {
        ngx_log_error(NGX_LOG_ERR, redis->log, 0,
                      "ir_access: lost the connection to Redis at \"%V\": %s",
                      &redis->conf->address,
                      ac->errstr ? ac->errstr : "closed");
    }

    if (redis->ac == ac) {
        ngx_http_ir_redis_forget(redis);
        ngx_http_ir_redis_failed(redis);
    }
}


static void
ngx_http_ir_redis_event_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c;

    c = ev->data;

#if (NGX_HTTP_IR_REDIS_TLS)
    /* what OpenSSL reports afterwards is this connection's doing */
    ERR_clear_error();
#endif

    if (ev->write) {
        redisAsyncHandleWrite(c->data);

    } else {
        redisAsyncHandleRead(c->data);
    }
}


/*
 * hiredis reads at most one buffer per call, so the events are level
 * triggered: whatever it leaves unread raises the event again.
 */

static void
ngx_http_ir_redis_add_read(void *privdata)
{
    ngx_http_ir_redis_watch(((ngx_connection_t *) privdata)->read);
}


static void
ngx_http_ir_redis_del_read(void *privdata)
{
    ngx_http_ir_redis_unwatch(((ngx_connection_t *) privdata)->read, 0);
}


static void
ngx_http_ir_redis_add_write(void *privdata)
{
    ngx_http_ir_redis_watch(((ngx_connection_t *) privdata)->write);
}


static void
ngx_http_ir_redis_del_write(void *privdata)
{
    ngx_http_ir_redis_unwatch(((ngx_connection_t *) privdata)->write, 0);
}


static void
ngx_http_ir_redis_watch(ngx_event_t *ev)
{
    if (!ev->active
        && ngx_add_event(ev, ev->write ? NGX_WRITE_EVENT : NGX_READ_EVENT,
                         NGX_LEVEL_EVENT)
           != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                      "ir_access: could not watch the Redis connection");
    }
}


static void
ngx_http_ir_redis_unwatch(ngx_event_t *ev, ngx_uint_t flags)
{
    if (ev->active) {
        (void) ngx_del_event(ev, ev->write ? NGX_WRITE_EVENT : NGX_READ_EVENT,
                             flags);
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

    ngx_http_ir_redis_unwatch(c->read, NGX_CLOSE_EVENT);
    ngx_http_ir_redis_unwatch(c->write, NGX_CLOSE_EVENT);

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
