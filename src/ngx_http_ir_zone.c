
/*
 * ir-access: calendar days and local times in the time zone contracts
 * and maintenance are written in.
 *
 * Contract dates are days in the office's zone (Europe/Riga), whatever
 * zone a host runs in, so "ir_access_timezone" names it.  The zone's
 * offsets from UTC are read once, while the configuration is, through
 * the system's own zone data (TZ and localtime_r(), restored at once),
 * for a year back and twenty ahead; a request then finds its day with a
 * binary search and no call into libc's time zone code.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_zone.h"


/* where the system's zone data is, as glibc reads it */
#define NGX_HTTP_IR_ZONEINFO           "/usr/share/zoneinfo/"

/* the span of the table of offsets, from now, and its step, seconds */
#define NGX_HTTP_IR_ZONE_BACK          (366 * 86400)
#define NGX_HTTP_IR_ZONE_AHEAD         (20 * 366 * 86400)
#define NGX_HTTP_IR_ZONE_STEP          900


static ngx_int_t ngx_http_ir_zone_why(ngx_str_t *why, ngx_pool_t *pool,
    const char *fmt, ...);
static long ngx_http_ir_zone_offset(ngx_http_ir_zone_t *zone, time_t now);


/*
 * The zone's offsets, read through the system's zone data.  NGX_OK;
 * NGX_DECLINED for a name that is no zone's, NGX_ERROR for a zone that
 * cannot be read: "why" says so, for the caller to log (data NULL where
 * memory failed), with the system's error in "err" where there is one.
 */

ngx_int_t
ngx_http_ir_zone_read(ngx_str_t *name, ngx_http_ir_zone_t *zone,
    ngx_pool_t *pool, ngx_str_t *why, ngx_err_t *err)
{
    u_char                     *p, *path, *last;
    char                       *saved;
    time_t                      now, t;
    ngx_str_t                   tz;
    struct tm                   tm;
    ngx_file_info_t             fi;
    ngx_http_ir_zone_change_t  *change;

    *err = 0;
    ngx_str_null(why);

    /* a name such as "Europe/Riga" or "Etc/GMT-14", never a path */

    last = name->data + name->len;

    for (p = name->data; p < last; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9')
              || *p == '/' || *p == '_' || *p == '-' || *p == '+'))
        {
            return ngx_http_ir_zone_why(why, pool, "invalid time zone "
                                        "\"%V\"", name);
        }
    }

    if (name->len == 0 || name->data[0] == '/'
        || ngx_strlcasestrn(name->data, last, (u_char *) "..", 2 - 1))
    {
        return ngx_http_ir_zone_why(why, pool, "invalid time zone \"%V\"",
                                    name);
    }

    path = ngx_pnalloc(pool, sizeof(NGX_HTTP_IR_ZONEINFO) + name->len);
    if (path == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(path, NGX_HTTP_IR_ZONEINFO,
                   sizeof(NGX_HTTP_IR_ZONEINFO) - 1);
    p = ngx_cpymem(p, name->data, name->len);
    *p = '\0';

    /* glibc takes a zone it does not know for UTC, silently */

    if (ngx_file_info(path, &fi) == NGX_FILE_ERROR || !ngx_is_file(&fi)) {
        *err = ngx_errno;
        ngx_http_ir_zone_why(why, pool, "unknown time zone \"%V\": no "
                             "\"%s\"", name, path);
        return NGX_ERROR;
    }

    zone->name = *name;

    zone->changes = ngx_array_create(pool, 64,
                                     sizeof(ngx_http_ir_zone_change_t));
    if (zone->changes == NULL) {
        return NGX_ERROR;
    }

    saved = getenv("TZ");

    if (saved) {
        tz.len = ngx_strlen(saved) + 1;
        tz.data = (u_char *) saved;

        saved = (char *) ngx_pstrdup(pool, &tz);
        if (saved == NULL) {
            return NGX_ERROR;
        }
    }

    if (setenv("TZ", (char *) path + sizeof(NGX_HTTP_IR_ZONEINFO) - 1, 1)
        != 0)
    {
        *err = ngx_errno;
        ngx_str_set(why, "setenv() failed");
        return NGX_ERROR;
    }

    tzset();

    now = ngx_time();
    change = NULL;

    for (t = now - NGX_HTTP_IR_ZONE_BACK;
         t < now + NGX_HTTP_IR_ZONE_AHEAD;
         t += NGX_HTTP_IR_ZONE_STEP)
    {
        if (localtime_r(&t, &tm) == NULL) {
            break;
        }

        if (change && change->offset == tm.tm_gmtoff) {
            continue;
        }

        change = ngx_array_push(zone->changes);
        if (change == NULL) {
            break;
        }

        change->from = t;
        change->offset = tm.tm_gmtoff;
    }

    if (saved) {
        (void) setenv("TZ", saved, 1);

    } else {
        (void) unsetenv("TZ");
    }

    tzset();

    if (change == NULL) {
        zone->changes = NULL;
        ngx_http_ir_zone_why(why, pool, "could not read time zone \"%V\"",
                             name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The day "now" falls on, as YYYYMMDD, and when the next one begins: at
 * the next local midnight, which on a day the offset changes is 23 or 25
 * hours after the last; with no zone configured, in the process's own.
 */

ngx_uint_t
ngx_http_ir_zone_today(ngx_http_ir_zone_t *zone, time_t now, time_t *next)
{
    time_t      local, midnight;
    struct tm   tm;

    local = now + ngx_http_ir_zone_offset(zone, now);

    if (gmtime_r(&local, &tm) == NULL) {
        ngx_memzero(&tm, sizeof(struct tm));
    }

    if (next) {
        midnight = ngx_http_ir_zone_utc(zone, local - local % 86400 + 86400);

        /* never now or before, however a skipped midnight is read */
        *next = (midnight > now) ? midnight : now + (86400 - local % 86400);
    }

    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}


/*
 * A local time of the zone, as the seconds it would be in UTC, as the
 * time it is: the offset in effect an offset before it, and again at
 * what that gives, so that a change of offset is crossed either way.  A
 * local time that a change skips or repeats takes one of its readings.
 */

time_t
ngx_http_ir_zone_utc(ngx_http_ir_zone_t *zone, time_t local)
{
    time_t  t;

    t = local - ngx_http_ir_zone_offset(zone, local);

    return local - ngx_http_ir_zone_offset(zone, t);
}


/* seconds east of UTC at a time: the zone's, or the process's own */

static long
ngx_http_ir_zone_offset(ngx_http_ir_zone_t *zone, time_t now)
{
    struct tm                   tm;
    ngx_uint_t                  lo, hi, mid;
    ngx_http_ir_zone_change_t  *change;

    if (zone == NULL || zone->changes == NULL) {
        if (localtime_r(&now, &tm) == NULL) {
            return 0;
        }

        return tm.tm_gmtoff;
    }

    change = zone->changes->elts;

    lo = 0;
    hi = zone->changes->nelts;

    /* the last change at or before now; before them all, the first */

    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;

        if (change[mid].from <= now) {
            lo = mid;

        } else {
            hi = mid;
        }
    }

    return change[lo].offset;
}


/* why a zone is not read, for the caller to log; NGX_DECLINED */

static ngx_int_t
ngx_http_ir_zone_why(ngx_str_t *why, ngx_pool_t *pool, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;
    u_char    text[NGX_MAX_ERROR_STR];

    va_start(args, fmt);
    p = ngx_vslprintf(text, text + sizeof(text), fmt, args);
    va_end(args);

    why->data = ngx_pnalloc(pool, p - text);

    if (why->data) {
        why->len = p - text;
        ngx_memcpy(why->data, text, why->len);
    }

    return NGX_DECLINED;
}
