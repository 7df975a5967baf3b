
/*
 * ir-access: the Redis key schema: keys built from a name, and a key
 * read back into the kind and the name it concerns.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_schema.h"


typedef struct {
    ngx_str_t                      head;
    ngx_str_t                      tail;
} ngx_http_ir_key_shape_t;


/* indexed by ngx_http_ir_key_e; "" rather than NULL for no part */

static ngx_http_ir_key_shape_t  ngx_http_ir_key_shapes[] = {
    { ngx_string(""), ngx_string("") },
    { ngx_string(NGX_HTTP_IR_KEY_USER), ngx_string("") },
    { ngx_string(NGX_HTTP_IR_KEY_USER), ngx_string(NGX_HTTP_IR_KEY_IPS) },
    { ngx_string(NGX_HTTP_IR_KEY_USER), ngx_string(NGX_HTTP_IR_KEY_FAILS) },
    { ngx_string(NGX_HTTP_IR_KEY_USER), ngx_string(NGX_HTTP_IR_KEY_TRIES) },
    { ngx_string(NGX_HTTP_IR_KEY_ORG), ngx_string("") },
    { ngx_string(NGX_HTTP_IR_KEY_ORG), ngx_string(NGX_HTTP_IR_KEY_SCOPES) },
    { ngx_string(NGX_HTTP_IR_KEY_ORG), ngx_string(NGX_HTTP_IR_KEY_PURPOSES) },
    { ngx_string(NGX_HTTP_IR_KEY_ORG), ngx_string(NGX_HTTP_IR_KEY_USERS) },
    { ngx_string(NGX_HTTP_IR_KEY_SEEN), ngx_string("") },
    { ngx_string(NGX_HTTP_IR_KEY_MAINTENANCE), ngx_string("") },
    { ngx_string(NGX_HTTP_IR_KEY_ANNOUNCED), ngx_string("") }
};


/* indexed by NGX_HTTP_IR_QUOTA_USER and _ORG, and by the periods */

static ngx_str_t  ngx_http_ir_quota_whose[] = {
    ngx_string(NGX_HTTP_IR_KEY_QUOTA NGX_HTTP_IR_KEY_USER),
    ngx_string(NGX_HTTP_IR_KEY_QUOTA NGX_HTTP_IR_KEY_ORG)
};

static ngx_str_t  ngx_http_ir_quota_periods[] = {
    ngx_string(NGX_HTTP_IR_KEY_QUOTA_MINUTE),
    ngx_string(NGX_HTTP_IR_KEY_QUOTA_DAY),
    ngx_string(NGX_HTTP_IR_KEY_QUOTA_OVER)
};


ngx_int_t
ngx_http_ir_name_valid(ngx_str_t *name)
{
    u_char  *p, *last;

    if (name->len == 0 || name->len > NGX_HTTP_IR_NAME_MAX) {
        return NGX_DECLINED;
    }

    last = name->data + name->len;

    for (p = name->data; p < last; p++) {

        if ((*p >= 'a' && *p <= 'z')
            || (*p >= 'A' && *p <= 'Z')
            || (*p >= '0' && *p <= '9')
            || *p == '.' || *p == '_' || *p == '@' || *p == '-')
        {
            continue;
        }

        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* buf has room for NGX_HTTP_IR_TIME_LEN bytes */

u_char *
ngx_http_ir_time(u_char *buf, time_t sec, ngx_uint_t msec)
{
    struct tm  tm;

    if (gmtime_r(&sec, &tm) == NULL) {
        ngx_memzero(&tm, sizeof(struct tm));
    }

    return ngx_sprintf(buf, "%4d-%02d-%02dT%02d:%02d:%02d.%03uiZ",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, msec);
}


/* buf has room for NGX_HTTP_IR_KEY_MAX bytes; returns the end of the key */

u_char *
ngx_http_ir_key(u_char *buf, ngx_str_t *prefix, ngx_http_ir_key_e kind,
    ngx_str_t *name)
{
    u_char                   *p;
    ngx_http_ir_key_shape_t  *shape;

    shape = &ngx_http_ir_key_shapes[kind];

    p = ngx_cpymem(buf, prefix->data,
                   ngx_min(prefix->len, NGX_HTTP_IR_PREFIX_MAX));
    p = ngx_cpymem(p, shape->head.data, shape->head.len);
    p = ngx_cpymem(p, name->data, ngx_min(name->len, NGX_HTTP_IR_NAME_MAX));

    return ngx_cpymem(p, shape->tail.data, shape->tail.len);
}


/*
 * A request counter: "when" is the minute it counts, since the epoch,
 * named in UTC (YYYYMMDDHHMM), or the day (YYYYMMDD); buf has room for
 * NGX_HTTP_IR_KEY_MAX bytes.
 */

u_char *
ngx_http_ir_key_quota(u_char *buf, ngx_str_t *prefix, ngx_uint_t who,
    ngx_str_t *name, ngx_uint_t period, ngx_uint_t when)
{
    u_char     *p;
    time_t      sec;
    struct tm   tm;

    p = ngx_cpymem(buf, prefix->data,
                   ngx_min(prefix->len, NGX_HTTP_IR_PREFIX_MAX));
    p = ngx_cpymem(p, ngx_http_ir_quota_whose[who].data,
                   ngx_http_ir_quota_whose[who].len);
    p = ngx_cpymem(p, name->data, ngx_min(name->len, NGX_HTTP_IR_NAME_MAX));
    p = ngx_cpymem(p, ngx_http_ir_quota_periods[period].data,
                   ngx_http_ir_quota_periods[period].len);

    if (period != NGX_HTTP_IR_QUOTA_MINUTE) {
        return ngx_sprintf(p, "%08ui", when);
    }

    sec = (time_t) when * 60;

    if (gmtime_r(&sec, &tm) == NULL) {
        ngx_memzero(&tm, sizeof(struct tm));
    }

    return ngx_sprintf(p, "%4d%02d%02d%02d%02d", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
}


/*
 * What a key that keyspace notifications or a scan name concerns: the
 * kind and the user's or organisation's name (none for the maintenance),
 * or NGX_HTTP_IR_KEY_OTHER for anything else under the prefix (the audit
 * stream, the request counters) and for names no record can have.
 */

ngx_http_ir_key_e
ngx_http_ir_key_parse(ngx_str_t *prefix, ngx_str_t *key, ngx_str_t *name)
{
    u_char                   *p, *last;
    ngx_uint_t                kind;
    ngx_http_ir_key_shape_t  *shape;

    if (key->len <= prefix->len
        || ngx_strncmp(key->data, prefix->data, prefix->len) != 0)
    {
        return NGX_HTTP_IR_KEY_OTHER;
    }

    last = key->data + key->len;

    shape = &ngx_http_ir_key_shapes[NGX_HTTP_IR_KEY_MAINTENANCE_HASH];

    if (key->len == prefix->len + shape->head.len
        && ngx_strncmp(key->data + prefix->len, shape->head.data,
                       shape->head.len)
           == 0)
    {
        ngx_str_null(name);
        return NGX_HTTP_IR_KEY_MAINTENANCE_HASH;
    }

    for (kind = NGX_HTTP_IR_KEY_USER_HASH;
         kind <= NGX_HTTP_IR_KEY_SEEN_HASH;
         kind++)
    {
        shape = &ngx_http_ir_key_shapes[kind];
        p = key->data + prefix->len;

        if ((size_t) (last - p) <= shape->head.len + shape->tail.len
            || ngx_strncmp(p, shape->head.data, shape->head.len) != 0
            || ngx_strncmp(last - shape->tail.len, shape->tail.data,
                           shape->tail.len)
               != 0)
        {
            continue;
        }

        name->data = p + shape->head.len;
        name->len = last - shape->tail.len - name->data;

        /* a name has no ':', so "user:a:ips" is never a user "a:ips" */

        if (ngx_http_ir_name_valid(name) == NGX_OK) {
            return (ngx_http_ir_key_e) kind;
        }
    }

    return NGX_HTTP_IR_KEY_OTHER;
}


/*
 * A glob pattern of the keys under the prefix: the prefix with the
 * glob's special characters escaped, then "tail" (ending in "*"); buf
 * has room for twice the prefix and the tail.
 */

u_char *
ngx_http_ir_key_pattern(u_char *buf, ngx_str_t *prefix, const char *tail)
{
    u_char  *p, *q, *last;

    p = buf;
    last = prefix->data + prefix->len;

    for (q = prefix->data; q < last; q++) {
        if (*q == '*' || *q == '?' || *q == '[' || *q == ']' || *q == '\\') {
            *p++ = '\\';
        }

        *p++ = *q;
    }

    return ngx_cpymem(p, tail, ngx_strlen(tail));
}
