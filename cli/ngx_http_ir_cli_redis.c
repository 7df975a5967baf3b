
/*
 * ir-access: the tool's Redis connection, with hiredis's blocking API:
 * plain, over a unix socket or through Sentinels, authenticated as the
 * gateway is; commands one at a time or pipelined, the gateway's own
 * lookup script, and a scan of the keys under the prefix that never
 * blocks Redis for long (SCAN, never KEYS).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_cli.h"
#include "ngx_http_ir_store.h"


#define NGX_HTTP_IR_CLI_SCAN_COUNT     "1000"


static redisContext *ngx_http_ir_cli_open(ngx_http_ir_cli_t *cli,
    ngx_str_t *address, int default_port);
static redisContext *ngx_http_ir_cli_sentinel(ngx_http_ir_cli_t *cli);
static ngx_int_t ngx_http_ir_cli_login(ngx_http_ir_cli_t *cli);
static void ngx_http_ir_cli_failed(ngx_http_ir_cli_t *cli, const char *what);


static u_char  ngx_http_ir_cli_lookup_sha[NGX_HTTP_IR_SHA1_HEX];


ngx_int_t
ngx_http_ir_cli_connect(ngx_http_ir_cli_t *cli)
{
    if (cli->conf.master.len) {
        cli->redis = ngx_http_ir_cli_sentinel(cli);

    } else {
        cli->redis = ngx_http_ir_cli_open(cli, &cli->conf.address, 6379);
    }

    if (cli->redis == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_ir_cli_login(cli);
}


void
ngx_http_ir_cli_disconnect(ngx_http_ir_cli_t *cli)
{
    if (cli->redis) {
        redisFree(cli->redis);
        cli->redis = NULL;
    }
}


/* "HOST:PORT", "[IPV6]:PORT", "HOST" or "unix:PATH" */

static redisContext *
ngx_http_ir_cli_open(ngx_http_ir_cli_t *cli, ngx_str_t *address,
    int default_port)
{
    u_char          *p, *colon, *host;
    ngx_int_t        port;
    struct timeval   tv;
    redisContext    *c;

    tv.tv_sec = cli->conf.timeout / 1000;
    tv.tv_usec = (cli->conf.timeout % 1000) * 1000;

    host = ngx_pnalloc(cli->pool, address->len + 1);
    if (host == NULL) {
        return NULL;
    }

    if (address->len > 5 && ngx_strncmp(address->data, "unix:", 5) == 0) {
        ngx_cpystrn(host, address->data + 5, address->len - 5 + 1);
        c = redisConnectUnixWithTimeout((char *) host, tv);
        port = 0;

    } else {
        port = default_port;
        ngx_cpystrn(host, address->data, address->len + 1);

        p = host;

        if (*p == '[') {
            p = (u_char *) ngx_strchr(host, ']');

            if (p == NULL) {
                ngx_http_ir_cli_error("invalid Redis address \"%V\"",
                                      address);
                return NULL;
            }

            *p++ = '\0';
            host++;
            colon = (*p == ':') ? p : NULL;

        } else {
            colon = (u_char *) ngx_strchr(host, ':');

            /* an IPv6 address without brackets has no port */

            if (colon && ngx_strchr(colon + 1, ':')) {
                colon = NULL;
            }
        }

        if (colon) {
            *colon++ = '\0';
            port = ngx_atoi(colon, ngx_strlen(colon));

            if (port < 1 || port > 65535) {
                ngx_http_ir_cli_error("invalid port in Redis address \"%V\"",
                                      address);
                return NULL;
            }
        }

        c = redisConnectWithTimeout((char *) host, port, tv);
    }

    if (c == NULL) {
        ngx_http_ir_cli_error("cannot connect to Redis at \"%V\": out of "
                              "memory", address);
        return NULL;
    }

    if (c->err) {
        ngx_http_ir_cli_error("cannot connect to Redis at \"%V\": %s",
                              address, c->errstr);
        redisFree(c);
        return NULL;
    }

    if (redisSetTimeout(c, tv) != REDIS_OK) {
        ngx_http_ir_cli_error("cannot set a timeout on the connection to "
                              "Redis at \"%V\"", address);
        redisFree(c);
        return NULL;
    }

    return c;
}


/* the master that the first Sentinel to answer names */

static redisContext *
ngx_http_ir_cli_sentinel(ngx_http_ir_cli_t *cli)
{
    u_char        *p, *last, *comma;
    ngx_str_t      address, master;
    redisReply    *reply;
    redisContext  *c;
    const char    *argv[3];
    size_t         argvlen[3];

    p = cli->conf.address.data;
    last = p + cli->conf.address.len;

    argv[0] = "SENTINEL";
    argvlen[0] = 8;
    argv[1] = "get-master-addr-by-name";
    argvlen[1] = 23;
    argv[2] = (char *) cli->conf.master.data;
    argvlen[2] = cli->conf.master.len;

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

        c = ngx_http_ir_cli_open(cli, &address, 26379);
        if (c == NULL) {
            continue;
        }

        reply = redisCommandArgv(c, 3, argv, argvlen);
        redisFree(c);

        if (reply == NULL) {
            ngx_http_ir_cli_error("the Sentinel at \"%V\" did not answer",
                                  &address);
            continue;
        }

        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
            || reply->element[0]->type != REDIS_REPLY_STRING
            || reply->element[1]->type != REDIS_REPLY_STRING)
        {
            ngx_http_ir_cli_error("the Sentinel at \"%V\" knows no master "
                                  "\"%V\"", &address, &cli->conf.master);
            freeReplyObject(reply);
            continue;
        }

        /* "[host]:port" reads IPv6 addresses as well as others */

        master.data = ngx_pnalloc(cli->pool, reply->element[0]->len
                                             + reply->element[1]->len + 3);
        if (master.data == NULL) {
            freeReplyObject(reply);
            return NULL;
        }

        master.len = ngx_sprintf(master.data, "[%*s]:%*s",
                                 reply->element[0]->len,
                                 reply->element[0]->str,
                                 reply->element[1]->len,
                                 reply->element[1]->str)
                     - master.data;

        freeReplyObject(reply);

        return ngx_http_ir_cli_open(cli, &master, 6379);
    }

    ngx_http_ir_cli_error("no Sentinel in \"%V\" named the master \"%V\"",
                          &cli->conf.address, &cli->conf.master);

    return NULL;
}


static ngx_int_t
ngx_http_ir_cli_login(ngx_http_ir_cli_t *cli)
{
    int           n;
    u_char        db[NGX_INT_T_LEN];
    redisReply   *reply;
    const char   *argv[3];
    size_t        argvlen[3];

    if (cli->conf.password.len) {
        n = 0;
        argv[n] = "AUTH";
        argvlen[n++] = 4;

        if (cli->conf.user.len) {
            argv[n] = (char *) cli->conf.user.data;
            argvlen[n++] = cli->conf.user.len;
        }

        argv[n] = (char *) cli->conf.password.data;
        argvlen[n++] = cli->conf.password.len;

        reply = ngx_http_ir_cli_command(cli, n, argv, argvlen);
        if (reply == NULL) {
            return NGX_ERROR;
        }

        if (reply->type == REDIS_REPLY_ERROR) {
            ngx_http_ir_cli_error("Redis refused the credentials: %*s",
                                  reply->len, reply->str);
            freeReplyObject(reply);
            return NGX_ERROR;
        }

        freeReplyObject(reply);
    }

    if (cli->conf.db == 0) {
        return NGX_OK;
    }

    argv[0] = "SELECT";
    argvlen[0] = 6;
    argv[1] = (char *) db;
    argvlen[1] = ngx_sprintf(db, "%i", cli->conf.db) - db;

    reply = ngx_http_ir_cli_command(cli, 2, argv, argvlen);
    if (reply == NULL) {
        return NGX_ERROR;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_http_ir_cli_error("Redis refused the database %i: %*s",
                              cli->conf.db, reply->len, reply->str);
        freeReplyObject(reply);
        return NGX_ERROR;
    }

    freeReplyObject(reply);

    return NGX_OK;
}


/* NULL when the connection failed; an error reply is the caller's */

redisReply *
ngx_http_ir_cli_command(ngx_http_ir_cli_t *cli, int argc, const char **argv,
    const size_t *argvlen)
{
    redisReply  *reply;

    reply = redisCommandArgv(cli->redis, argc, argv, argvlen);

    if (reply == NULL) {
        ngx_http_ir_cli_failed(cli, argv[0]);
    }

    return reply;
}


ngx_int_t
ngx_http_ir_cli_append(ngx_http_ir_cli_t *cli, int argc, const char **argv,
    const size_t *argvlen)
{
    if (redisAppendCommandArgv(cli->redis, argc, argv, argvlen) != REDIS_OK) {
        ngx_http_ir_cli_failed(cli, argv[0]);
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_ir_cli_append_key(ngx_http_ir_cli_t *cli, const char *command,
    ngx_str_t *key)
{
    const char  *argv[2];
    size_t       argvlen[2];

    argv[0] = command;
    argvlen[0] = ngx_strlen(command);
    argv[1] = (char *) key->data;
    argvlen[1] = key->len;

    return ngx_http_ir_cli_append(cli, 2, argv, argvlen);
}


redisReply *
ngx_http_ir_cli_reply(ngx_http_ir_cli_t *cli)
{
    void  *reply;

    if (redisGetReply(cli->redis, &reply) != REDIS_OK || reply == NULL) {
        ngx_http_ir_cli_failed(cli, "a pipelined command");
        return NULL;
    }

    return reply;
}


static void
ngx_http_ir_cli_failed(ngx_http_ir_cli_t *cli, const char *what)
{
    ngx_http_ir_cli_error("Redis at \"%V\" failed %s: %s", &cli->conf.address,
                          what, cli->redis->errstr[0]
                                ? cli->redis->errstr : "no reply");
}


/*
 * The gateway's lookup script, loaded once: a reply that is not its
 * SHA-1 would mean that Redis hashes scripts otherwise, and EVALSHA
 * takes what Redis says.
 */

ngx_int_t
ngx_http_ir_cli_load_scripts(ngx_http_ir_cli_t *cli)
{
    redisReply  *reply;
    const char  *argv[3];
    size_t       argvlen[3];

    argv[0] = "SCRIPT";
    argvlen[0] = 6;
    argv[1] = "LOAD";
    argvlen[1] = 4;
    argv[2] = ngx_http_ir_script_lookup.text;
    argvlen[2] = ngx_http_ir_script_lookup.len;

    reply = ngx_http_ir_cli_command(cli, 3, argv, argvlen);
    if (reply == NULL) {
        return NGX_ERROR;
    }

    if (reply->type != REDIS_REPLY_STRING
        || reply->len != NGX_HTTP_IR_SHA1_HEX)
    {
        ngx_http_ir_cli_error("Redis did not load the lookup script: %*s",
                              reply->type == REDIS_REPLY_ERROR
                              ? reply->len : 0, reply->str);
        freeReplyObject(reply);
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_http_ir_cli_lookup_sha, reply->str, NGX_HTTP_IR_SHA1_HEX);

    freeReplyObject(reply);

    return NGX_OK;
}


/* the gateway's lookup of a user, with the gateway's keys and arguments */

ngx_int_t
ngx_http_ir_cli_append_lookup(ngx_http_ir_cli_t *cli, ngx_str_t *name)
{
    ngx_uint_t          i;
    ngx_http_ir_args_t  args;
    u_char              nkeys[NGX_INT_T_LEN];
    const char         *argv[NGX_HTTP_IR_ARGS_MAX + 3];
    size_t              argvlen[NGX_HTTP_IR_ARGS_MAX + 3];

    ngx_http_ir_store_lookup(&args, &cli->conf.prefix, name);

    argv[0] = "EVALSHA";
    argvlen[0] = 7;
    argv[1] = (char *) ngx_http_ir_cli_lookup_sha;
    argvlen[1] = NGX_HTTP_IR_SHA1_HEX;
    argv[2] = (char *) nkeys;
    argvlen[2] = ngx_sprintf(nkeys, "%ui", args.nkeys) - nkeys;

    for (i = 0; i < args.argc; i++) {
        argv[i + 3] = args.argv[i];
        argvlen[i + 3] = args.argvlen[i];
    }

    return ngx_http_ir_cli_append(cli, args.argc + 3, argv, argvlen);
}


/*
 * Every key under the prefix, a page at a time: the prefix's own glob
 * characters are escaped, so that "ir[1]:" names only itself.
 */

ngx_int_t
ngx_http_ir_cli_scan(ngx_http_ir_cli_t *cli,
    ngx_int_t (*handler)(ngx_http_ir_cli_t *cli, ngx_str_t *key, void *data),
    void *data)
{
    u_char       *p, *pattern, *c;
    size_t        i;
    ngx_str_t     key;
    redisReply   *reply, *keys;
    const char   *argv[6];
    size_t        argvlen[6];
    u_char        cursor[NGX_INT64_LEN + 1];

    pattern = ngx_pnalloc(cli->pool, cli->conf.prefix.len * 2 + 1);
    if (pattern == NULL) {
        return NGX_ERROR;
    }

    p = pattern;

    for (c = cli->conf.prefix.data;
         c < cli->conf.prefix.data + cli->conf.prefix.len;
         c++)
    {
        if (*c == '*' || *c == '?' || *c == '[' || *c == ']' || *c == '\\') {
            *p++ = '\\';
        }

        *p++ = *c;
    }

    *p++ = '*';

    argv[0] = "SCAN";
    argvlen[0] = 4;
    argv[2] = "MATCH";
    argvlen[2] = 5;
    argv[3] = (char *) pattern;
    argvlen[3] = p - pattern;
    argv[4] = "COUNT";
    argvlen[4] = 5;
    argv[5] = NGX_HTTP_IR_CLI_SCAN_COUNT;
    argvlen[5] = sizeof(NGX_HTTP_IR_CLI_SCAN_COUNT) - 1;

    cursor[0] = '0';
    argv[1] = (char *) cursor;
    argvlen[1] = 1;

    do {
        reply = ngx_http_ir_cli_command(cli, 6, argv, argvlen);
        if (reply == NULL) {
            return NGX_ERROR;
        }

        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
            || reply->element[0]->type != REDIS_REPLY_STRING
            || reply->element[0]->len > NGX_INT64_LEN
            || reply->element[1]->type != REDIS_REPLY_ARRAY)
        {
            ngx_http_ir_cli_error("Redis failed SCAN: %*s",
                                  reply->type == REDIS_REPLY_ERROR
                                  ? reply->len : 0, reply->str);
            freeReplyObject(reply);
            return NGX_ERROR;
        }

        argvlen[1] = reply->element[0]->len;
        ngx_memcpy(cursor, reply->element[0]->str, argvlen[1]);

        keys = reply->element[1];

        for (i = 0; i < keys->elements; i++) {
            if (keys->element[i]->type != REDIS_REPLY_STRING) {
                continue;
            }

            key.data = (u_char *) keys->element[i]->str;
            key.len = keys->element[i]->len;

            if (handler(cli, &key, data) != NGX_OK) {
                freeReplyObject(reply);
                return NGX_ERROR;
            }
        }

        freeReplyObject(reply);

    } while (!(argvlen[1] == 1 && cursor[0] == '0'));

    return NGX_OK;
}


/*
 * The announced maintenance, read as the gateway reads it (HMGET and
 * the gateway's reader of its reply), its fields copied into the pool;
 * and the key's type and the names of its fields, for "check".  NGX_OK,
 * the fields' data NULL where they are not there; NGX_DECLINED for a key
 * the gateway cannot read (of another type); NGX_ABORT where Redis
 * refuses the tool (an ACL user without the key), "type" its error;
 * NGX_ERROR where Redis failed.
 */

ngx_int_t
ngx_http_ir_cli_maintenance(ngx_http_ir_cli_t *cli,
    ngx_http_ir_notice_t *notice, ngx_str_t *type, ngx_array_t *fields)
{
    ngx_int_t     rc;
    ngx_str_t     key, none, error, *name, *value[3];
    ngx_uint_t    i;
    redisReply   *reply[3], *e;
    const char   *argv[5];
    size_t        argvlen[5];
    u_char        buf[NGX_HTTP_IR_KEY_MAX];

    ngx_memzero(notice, sizeof(ngx_http_ir_notice_t));
    ngx_str_set(&none, "");

    key.data = buf;
    key.len = ngx_http_ir_key(buf, &cli->conf.prefix,
                              NGX_HTTP_IR_KEY_MAINTENANCE_HASH, &none) - buf;

    argv[0] = "HMGET";
    argvlen[0] = 5;
    argv[1] = (char *) key.data;
    argvlen[1] = key.len;
    argv[2] = NGX_HTTP_IR_FIELD_ENV;
    argvlen[2] = sizeof(NGX_HTTP_IR_FIELD_ENV) - 1;
    argv[3] = NGX_HTTP_IR_FIELD_UNTIL;
    argvlen[3] = sizeof(NGX_HTTP_IR_FIELD_UNTIL) - 1;
    argv[4] = NGX_HTTP_IR_FIELD_MESSAGE;
    argvlen[4] = sizeof(NGX_HTTP_IR_FIELD_MESSAGE) - 1;

    if (ngx_http_ir_cli_append_key(cli, "TYPE", &key) != NGX_OK
        || ngx_http_ir_cli_append(cli, 5, argv, argvlen) != NGX_OK
        || ngx_http_ir_cli_append_key(cli, "HKEYS", &key) != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < 3; i++) {
        reply[i] = ngx_http_ir_cli_reply(cli);

        if (reply[i] == NULL) {
            while (i--) {
                freeReplyObject(reply[i]);
            }

            return NGX_ERROR;
        }
    }

    rc = NGX_ERROR;

    if (reply[0]->type != REDIS_REPLY_STATUS
        && reply[0]->type != REDIS_REPLY_STRING
        && reply[0]->type != REDIS_REPLY_ERROR)
    {
        ngx_http_ir_cli_error("Redis failed TYPE %V", &key);
        goto done;
    }

    type->len = reply[0]->len;
    type->data = ngx_pnalloc(cli->pool, type->len + 1);
    if (type->data == NULL) {
        goto done;
    }

    ngx_memcpy(type->data, reply[0]->str, type->len);

    if (reply[0]->type == REDIS_REPLY_ERROR) {
        rc = NGX_ABORT;
        goto done;
    }

    if (ngx_http_ir_store_maintenance_reply(reply[1], &notice->env,
                                            &notice->until, &notice->message,
                                            &error)
        != NGX_OK)
    {
        ngx_memzero(notice, sizeof(ngx_http_ir_notice_t));
        rc = NGX_DECLINED;
        goto done;
    }

    value[0] = &notice->env;
    value[1] = &notice->until;
    value[2] = &notice->message;

    for (i = 0; i < 3; i++) {
        if (value[i]->data == NULL) {
            continue;
        }

        value[i]->data = ngx_pstrdup(cli->pool, value[i]);
        if (value[i]->data == NULL) {
            goto done;
        }
    }

    if (fields && reply[2]->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < reply[2]->elements; i++) {
            e = reply[2]->element[i];

            if (e->type != REDIS_REPLY_STRING) {
                continue;
            }

            name = ngx_array_push(fields);
            if (name == NULL) {
                goto done;
            }

            name->len = e->len;
            name->data = ngx_pnalloc(cli->pool, e->len + 1);
            if (name->data == NULL) {
                goto done;
            }

            ngx_memcpy(name->data, e->str, e->len);
        }
    }

    rc = NGX_OK;

done:

    for (i = 0; i < 3; i++) {
        freeReplyObject(reply[i]);
    }

    return rc;
}


/* a key of the schema, in the pool */

u_char *
ngx_http_ir_cli_key(ngx_http_ir_cli_t *cli, ngx_http_ir_key_e kind,
    ngx_str_t *name, ngx_str_t *key)
{
    key->data = ngx_pnalloc(cli->pool, NGX_HTTP_IR_KEY_MAX);
    if (key->data == NULL) {
        return NULL;
    }

    key->len = ngx_http_ir_key(key->data, &cli->conf.prefix, kind, name)
               - key->data;

    return key->data;
}


ngx_int_t
ngx_http_ir_cli_is(redisReply *r, const char *s)
{
    size_t  len;

    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS) {
        return 0;
    }

    len = ngx_strlen(s);

    return r->len == len && ngx_strncmp(r->str, s, len) == 0;
}
