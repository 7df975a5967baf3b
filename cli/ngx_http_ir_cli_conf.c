
/*
 * ir-access: what the tool reads of the nginx configuration: the Redis
 * connection (ir_access_redis, ir_access_redis_prefix,
 * ir_access_redis_timeout), the time zone (ir_access_timezone), the
 * policy that the records are checked against (every ir_access_scope,
 * ir_access_env, ir_access_cert_pin, ir_access_password,
 * ir_access_purpose, ir_access_lockout and ir_access_quota), and the
 * audit stream (the first ir_access_audit's), following "include" as
 * nginx does.  nginx's syntax is read by a small tokenizer: words, quoted
 * strings, ";", blocks and comments; the rest of the configuration is
 * nginx's business.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <glob.h>

#include "ngx_http_ir_cli.h"


#define NGX_HTTP_IR_CLI_INCLUDE_DEPTH  16


typedef struct {
    ngx_http_ir_cli_conf_t        *conf;
    ngx_pool_t                    *pool;
    ngx_str_t                      prefix;        /* the -c file's folder */
    ngx_str_t                      file;
    ngx_uint_t                     line;
    ngx_uint_t                     depth;
} ngx_http_ir_cli_parse_t;


static ngx_int_t ngx_http_ir_cli_conf_file(ngx_http_ir_cli_parse_t *cp,
    ngx_str_t *name);
static ngx_int_t ngx_http_ir_cli_conf_parse(ngx_http_ir_cli_parse_t *cp,
    ngx_str_t *text);
static ngx_int_t ngx_http_ir_cli_conf_directive(ngx_http_ir_cli_parse_t *cp,
    ngx_array_t *args);
static ngx_int_t ngx_http_ir_cli_conf_include(ngx_http_ir_cli_parse_t *cp,
    ngx_str_t *pattern);
static ngx_int_t ngx_http_ir_cli_conf_words(ngx_array_t *words,
    ngx_str_t *value, ngx_uint_t n);
static ngx_int_t ngx_http_ir_cli_conf_is(ngx_str_t *s, const char *name);


ngx_int_t
ngx_http_ir_cli_conf_init(ngx_http_ir_cli_conf_t *conf, ngx_pool_t *pool)
{
    ngx_memzero(conf, sizeof(ngx_http_ir_cli_conf_t));

    ngx_str_set(&conf->prefix, "ir:");
    conf->timeout = 10000;

    if (ngx_array_init(&conf->scopes, pool, 8, sizeof(ngx_str_t)) != NGX_OK
        || ngx_array_init(&conf->envs, pool, 2, sizeof(ngx_str_t)) != NGX_OK
        || ngx_array_init(&conf->lockouts, pool, 2, sizeof(ngx_uint_t))
           != NGX_OK
        || ngx_array_init(&conf->quotas, pool, 2,
                          sizeof(ngx_http_ir_cli_quota_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_ir_cli_conf_read(ngx_http_ir_cli_conf_t *conf, ngx_pool_t *pool)
{
    u_char                   *slash;
    ngx_http_ir_cli_parse_t   cp;

    ngx_memzero(&cp, sizeof(ngx_http_ir_cli_parse_t));

    cp.conf = conf;
    cp.pool = pool;

    /* relative includes are taken from the main file's folder, as nginx's */

    for (slash = conf->file.data + conf->file.len;
         slash > conf->file.data && *(slash - 1) != '/';
         slash--)
    {
        /* void */
    }

    if (slash > conf->file.data) {
        cp.prefix.data = conf->file.data;
        cp.prefix.len = slash - conf->file.data;

    } else {
        ngx_str_set(&cp.prefix, "./");
    }

    conf->read = 1;

    return ngx_http_ir_cli_conf_file(&cp, &conf->file);
}


static ngx_int_t
ngx_http_ir_cli_conf_file(ngx_http_ir_cli_parse_t *cp, ngx_str_t *name)
{
    ngx_int_t   rc;
    ngx_str_t   text, file;
    ngx_uint_t  line;

    if (ngx_http_ir_cli_read_file(name, &text, cp->pool) != NGX_OK) {
        return NGX_ERROR;
    }

    file = cp->file;
    line = cp->line;

    cp->file = *name;
    cp->line = 1;

    rc = ngx_http_ir_cli_conf_parse(cp, &text);

    cp->file = file;
    cp->line = line;

    return rc;
}


/* nginx's syntax, as ngx_conf_read_token() reads it, without variables */

static ngx_int_t
ngx_http_ir_cli_conf_parse(ngx_http_ir_cli_parse_t *cp, ngx_str_t *text)
{
    u_char       *p, *last, *dst, quote, c;
    ngx_str_t    *word;
    ngx_array_t   args;

    if (ngx_array_init(&args, cp->pool, 8, sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    p = text->data;
    last = p + text->len;

    while (p < last) {
        c = *p;

        if (c == '\n') {
            cp->line++;
        }

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            p++;
            continue;
        }

        if (c == '#') {
            while (p < last && *p != '\n') {
                p++;
            }

            continue;
        }

        if (c == ';' || c == '{' || c == '}') {
            p++;

            if (c == '}' || args.nelts == 0) {
                args.nelts = 0;
                continue;
            }

            if (ngx_http_ir_cli_conf_directive(cp, &args) != NGX_OK) {
                return NGX_ERROR;
            }

            args.nelts = 0;
            continue;
        }

        word = ngx_array_push(&args);
        if (word == NULL) {
            return NGX_ERROR;
        }

        /* a word is never longer than the text it is read from */

        word->data = ngx_pnalloc(cp->pool, last - p);
        if (word->data == NULL) {
            return NGX_ERROR;
        }

        dst = word->data;

        if (c == '"' || c == '\'') {
            quote = c;

            for (p++; p < last && *p != quote; p++) {
                if (*p == '\n') {
                    cp->line++;
                }

                if (*p == '\\' && p + 1 < last) {
                    p++;

                    switch (*p) {
                    case 'n':
                        *dst++ = '\n';
                        continue;
                    case 't':
                        *dst++ = '\t';
                        continue;
                    case 'r':
                        *dst++ = '\r';
                        continue;
                    }
                }

                *dst++ = *p;
            }

            if (p == last) {
                ngx_http_ir_cli_error("unterminated string in %V:%ui",
                                      &cp->file, cp->line);
                return NGX_ERROR;
            }

            p++;

        } else {
            while (p < last && *p != ' ' && *p != '\t' && *p != '\r'
                   && *p != '\n' && *p != ';' && *p != '{' && *p != '}')
            {
                /* "${name}" is a variable, not a block */

                if (*p == '$' && p + 1 < last && p[1] == '{') {
                    while (p < last && *p != '}') {
                        *dst++ = *p++;
                    }

                    if (p == last) {
                        break;
                    }
                }

                *dst++ = *p++;
            }
        }

        word->len = dst - word->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_cli_conf_directive(ngx_http_ir_cli_parse_t *cp,
    ngx_array_t *args)
{
    ngx_int_t                n;
    ngx_str_t               *value;
    ngx_uint_t               i, *limit;
    ngx_http_ir_cli_conf_t  *conf;
    ngx_http_ir_cli_quota_t  quota, *q;

    conf = cp->conf;
    value = args->elts;

    if (ngx_http_ir_cli_conf_is(&value[0], "include") && args->nelts == 2) {
        return ngx_http_ir_cli_conf_include(cp, &value[1]);
    }

    if (value[0].len < 9
        || ngx_strncmp(value[0].data, "ir_access", 9) != 0)
    {
        return NGX_OK;
    }

    if (ngx_http_ir_cli_conf_is(&value[0], "ir_access_redis")
        && args->nelts >= 2)
    {
        if (ngx_http_ir_cli_conf_redis(conf, value, args->nelts, cp->pool)
            != NGX_OK)
        {
            ngx_http_ir_cli_error("in %V:%ui", &cp->file, cp->line);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (ngx_http_ir_cli_conf_is(&value[0], "ir_access_redis_prefix")
        && args->nelts == 2)
    {
        conf->prefix = value[1];
        return NGX_OK;
    }

    if (ngx_http_ir_cli_conf_is(&value[0], "ir_access_redis_timeout")
        && args->nelts == 2)
    {
        n = ngx_parse_time(&value[1], 0);

        /* the gateway's timeout is short; the tool waits longer */

        if (n != NGX_ERROR) {
            conf->timeout = ngx_max((ngx_msec_t) n, conf->timeout);
        }

        return NGX_OK;
    }

    if (ngx_http_ir_cli_conf_is(&value[0], "ir_access_scope")) {
        return ngx_http_ir_cli_conf_words(&conf->scopes, value, args->nelts);
    }

    if (ngx_http_ir_cli_conf_is(&value[0], "ir_access_env")) {
        return ngx_http_ir_cli_conf_words(&conf->envs, value, args->nelts);
    }

    if (ngx_http_ir_cli_conf_is(&value[0], "ir_access_cert_pin")
        && args->nelts == 2 && ngx_http_ir_cli_conf_is(&value[1], "off"))
    {
        conf->pin_off = 1;
        return NGX_OK;
    }

    if (ngx_http_ir_cli_conf_is(&value[0], "ir_access_password")
        && args->nelts == 2 && ngx_http_ir_cli_conf_is(&value[1], "on"))
    {
        conf->password_on = 1;
        return NGX_OK;
    }

    if (ngx_http_ir_cli_conf_is(&value[0], "ir_access_purpose")
        && args->nelts >= 2 && !ngx_http_ir_cli_conf_is(&value[1], "off"))
    {
        conf->purpose_on = 1;
        return NGX_OK;
    }

    if (ngx_http_ir_cli_conf_is(&value[0], "ir_access_timezone")
        && args->nelts == 2)
    {
        conf->timezone = value[1];
        return NGX_OK;
    }

    /* each place's quotas, as the gateway reads them; nginx -t the rest */

    if (ngx_http_ir_cli_conf_is(&value[0], "ir_access_quota")) {
        if (ngx_http_ir_cli_conf_quota(&quota, value, args->nelts)
            != NGX_OK)
        {
            ngx_http_ir_cli_error("in %V:%ui: ignored", &cp->file, cp->line);
            return NGX_OK;
        }

        q = ngx_array_push(&conf->quotas);
        if (q == NULL) {
            return NGX_ERROR;
        }

        *q = quota;
        return NGX_OK;
    }

    if (ngx_http_ir_cli_conf_is(&value[0], "ir_access_audit")
        && conf->audit_stream.len == 0)
    {
        for (i = 1; i < args->nelts; i++) {
            if (value[i].len > 7
                && ngx_strncmp(value[i].data, "stream=", 7) == 0)
            {
                conf->audit_stream.data = value[i].data + 7;
                conf->audit_stream.len = value[i].len - 7;
            }
        }

        return NGX_OK;
    }

    if (ngx_http_ir_cli_conf_is(&value[0], "ir_access_lockout")
        && args->nelts >= 2)
    {
        n = ngx_http_ir_cli_conf_is(&value[1], "off")
            ? 0 : ngx_atoi(value[1].data, value[1].len);

        if (n == NGX_ERROR) {
            return NGX_OK;
        }

        limit = ngx_array_push(&conf->lockouts);
        if (limit == NULL) {
            return NGX_ERROR;
        }

        *limit = n;
    }

    return NGX_OK;
}


/* "include" takes a file or a glob pattern, relative to the main file */

static ngx_int_t
ngx_http_ir_cli_conf_include(ngx_http_ir_cli_parse_t *cp, ngx_str_t *pattern)
{
    int        rc;
    u_char    *p;
    size_t     i;
    glob_t     g;
    ngx_str_t  name;

    if (cp->depth == NGX_HTTP_IR_CLI_INCLUDE_DEPTH) {
        ngx_http_ir_cli_error("includes nest deeper than %d in %V:%ui",
                              NGX_HTTP_IR_CLI_INCLUDE_DEPTH, &cp->file,
                              cp->line);
        return NGX_ERROR;
    }

    p = ngx_pnalloc(cp->pool, cp->prefix.len + pattern->len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    name.data = p;

    if (pattern->data[0] != '/') {
        p = ngx_cpymem(p, cp->prefix.data, cp->prefix.len);
    }

    p = ngx_cpymem(p, pattern->data, pattern->len);
    *p = '\0';

    name.len = p - name.data;

    ngx_memzero(&g, sizeof(glob_t));

    rc = glob((char *) name.data, 0, NULL, &g);

    if (rc == GLOB_NOMATCH) {
        globfree(&g);

        /* nginx wants a file named without wildcards to be there */

        if (strpbrk((char *) name.data, "*?[") == NULL) {
            ngx_http_ir_cli_error("%V, included in %V:%ui, is not there",
                                  &name, &cp->file, cp->line);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (rc != 0) {
        globfree(&g);
        ngx_http_ir_cli_error("cannot read \"%V\", included in %V:%ui",
                              &name, &cp->file, cp->line);
        return NGX_ERROR;
    }

    cp->depth++;

    for (i = 0; i < g.gl_pathc; i++) {
        name.len = ngx_strlen(g.gl_pathv[i]);
        name.data = ngx_pnalloc(cp->pool, name.len + 1);
        if (name.data == NULL) {
            globfree(&g);
            return NGX_ERROR;
        }

        ngx_memcpy(name.data, g.gl_pathv[i], name.len + 1);

        if (ngx_http_ir_cli_conf_file(cp, &name) != NGX_OK) {
            globfree(&g);
            return NGX_ERROR;
        }
    }

    cp->depth--;

    globfree(&g);

    return NGX_OK;
}


/*
 * "ir_access_redis ADDRESS [db=N] [user=NAME] [password=SECRET]
 * [password_file=FILE] [sentinel=NAME]", as the gateway reads it, or the
 * address of --redis.
 */

ngx_int_t
ngx_http_ir_cli_conf_redis(ngx_http_ir_cli_conf_t *conf, ngx_str_t *value,
    ngx_uint_t n, ngx_pool_t *pool)
{
    ngx_uint_t  i;

    conf->address = value[1];

    for (i = 2; i < n; i++) {

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            conf->db = ngx_atoi(value[i].data + 3, value[i].len - 3);

            if (conf->db == NGX_ERROR) {
                ngx_http_ir_cli_error("invalid Redis database \"%V\"",
                                      &value[i]);
                return NGX_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "user=", 5) == 0) {
            conf->user.data = value[i].data + 5;
            conf->user.len = value[i].len - 5;
            continue;
        }

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            conf->password.data = value[i].data + 9;
            conf->password.len = value[i].len - 9;
            continue;
        }

        if (ngx_strncmp(value[i].data, "password_file=", 14) == 0) {
            conf->password_file.data = value[i].data + 14;
            conf->password_file.len = value[i].len - 14;
            continue;
        }

        if (ngx_strncmp(value[i].data, "sentinel=", 9) == 0) {
            conf->master.data = value[i].data + 9;
            conf->master.len = value[i].len - 9;
            continue;
        }

        /* whatever else the gateway may come to take is not the tool's */
    }

    return NGX_OK;
}


/*
 * "ir_access_quota"'s words (value[0] the directive's name), by the
 * gateway's own ngx_http_ir_parse_quotas(): NGX_OK, or NGX_DECLINED with
 * what is wrong said.
 */

ngx_int_t
ngx_http_ir_cli_conf_quota(ngx_http_ir_cli_quota_t *quota, ngx_str_t *value,
    ngx_uint_t n)
{
    ngx_uint_t  bad;

    switch (ngx_http_ir_parse_quotas(value, n, &quota->enable, quota->limit,
                                     &bad))
    {
    case NGX_OK:
        return NGX_OK;

    case NGX_BUSY:
        ngx_http_ir_cli_error("ir_access_quota: duplicate \"%V\"",
                              &value[bad]);
        return NGX_DECLINED;

    case NGX_ERROR:
        ngx_http_ir_cli_error("ir_access_quota: invalid quota \"%V\": "
                              "requests a minute (N/m) or a day (N), from "
                              "1 to %d", &value[bad], NGX_HTTP_IR_QUOTA_MAX);
        return NGX_DECLINED;

    default:
        ngx_http_ir_cli_error("ir_access_quota: invalid parameter \"%V\"",
                              n > 1 ? &value[bad] : &value[0]);
        return NGX_DECLINED;
    }
}


static ngx_int_t
ngx_http_ir_cli_conf_words(ngx_array_t *words, ngx_str_t *value,
    ngx_uint_t n)
{
    ngx_str_t   *word;
    ngx_uint_t   i;

    for (i = 1; i < n; i++) {
        if (value[i].len == 0
            || ngx_http_ir_list_find(words, &value[i]) == NGX_OK)
        {
            continue;
        }

        word = ngx_array_push(words);
        if (word == NULL) {
            return NGX_ERROR;
        }

        *word = value[i];
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_cli_conf_is(ngx_str_t *s, const char *name)
{
    size_t  len;

    len = ngx_strlen(name);

    return s->len == len && ngx_strncmp(s->data, name, len) == 0;
}


ngx_int_t
ngx_http_ir_cli_read_file(ngx_str_t *name, ngx_str_t *text, ngx_pool_t *pool)
{
    int          fd;
    u_char      *path;
    ssize_t      n;
    struct stat  st;

    path = ngx_pnalloc(pool, name->len + 1);
    if (path == NULL) {
        return NGX_ERROR;
    }

    ngx_cpystrn(path, name->data, name->len + 1);

    fd = open((char *) path, O_RDONLY);

    if (fd == -1) {
        ngx_http_ir_cli_error("cannot open %s: %s", path, strerror(errno));
        return NGX_ERROR;
    }

    if (fstat(fd, &st) == -1) {
        ngx_http_ir_cli_error("cannot read %s: %s", path, strerror(errno));
        close(fd);
        return NGX_ERROR;
    }

    text->data = ngx_pnalloc(pool, st.st_size + 1);
    if (text->data == NULL) {
        close(fd);
        return NGX_ERROR;
    }

    text->len = 0;

    while (text->len < (size_t) st.st_size) {
        n = read(fd, text->data + text->len, st.st_size - text->len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            ngx_http_ir_cli_error("cannot read %s: %s", path,
                                  n ? strerror(errno) : "file shrank");
            close(fd);
            return NGX_ERROR;
        }

        text->len += n;
    }

    close(fd);

    return NGX_OK;
}
