
/*
 * ir-access: an announced maintenance, as the gateway reads it.
 *
 * An administrator closes the service with one hash, "<prefix>maintenance"
 * (fields "env", "until" and "message"); the gateway's reader
 * (ngx_http_ir_maintenance.c) and ir-access both read its fields here.
 * A maintenance that cannot be read is no maintenance: a typo must not
 * close the register.  So an "until" that is missing, no time or past,
 * an "env" too long or with a control character, each mean none; a
 * message that cannot go into the answers' JSON is left out of them.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_notice.h"
#include "ngx_http_ir_record.h"
#include "ngx_http_ir_schema.h"
#include "ngx_http_ir_store.h"


/*
 * The fields as the hash has them (data NULL where not there, as
 * HMGET gives them), at "now": NGX_HTTP_IR_NOTICE_ON with "end" and
 * "message_bad" set, or what makes it no maintenance, in the order the
 * gateway finds it.  An "until" without an offset is a local time of
 * "zone" (ir_access_timezone), as contracts' days are.
 */

ngx_uint_t
ngx_http_ir_notice_read(ngx_http_ir_notice_t *notice,
    ngx_http_ir_zone_t *zone, time_t now)
{
    time_t     until;
    ngx_int_t  rc;

    notice->end = 0;
    notice->local = 0;
    notice->message_bad = 0;

    if (notice->env.data == NULL && notice->until.data == NULL
        && notice->message.data == NULL)
    {
        return NGX_HTTP_IR_NOTICE_NONE;
    }

    if (notice->until.data == NULL) {
        return NGX_HTTP_IR_NOTICE_NO_UNTIL;
    }

    if (notice->until.len > NGX_HTTP_IR_ARG_MAX) {
        return NGX_HTTP_IR_NOTICE_BAD_UNTIL;
    }

    if (notice->env.data
        && notice->env.len > NGX_HTTP_IR_MAINTENANCE_ENV_MAX)
    {
        return NGX_HTTP_IR_NOTICE_LONG_ENV;
    }

    rc = ngx_http_ir_parse_time(&notice->until, &until);

    if (rc == NGX_DECLINED) {
        until = ngx_http_ir_zone_utc(zone, until);
        notice->local = 1;

    } else if (rc != NGX_OK) {
        return NGX_HTTP_IR_NOTICE_BAD_UNTIL;
    }

    notice->end = until;

    if (until <= now) {
        return NGX_HTTP_IR_NOTICE_PAST;
    }

    if (notice->env.data && ngx_http_ir_value_valid(&notice->env) != NGX_OK) {
        return NGX_HTTP_IR_NOTICE_BAD_ENV;
    }

    if (notice->message.data
        && (notice->message.len > NGX_HTTP_IR_MESSAGE_MAX
            || ngx_http_ir_notice_text(&notice->message) != NGX_OK))
    {
        notice->message_bad = 1;
    }

    return NGX_HTTP_IR_NOTICE_ON;
}


/*
 * Whether a maintenance closes a place: an "env" that is not there or is
 * empty, or that lists "both", closes every place; otherwise those whose
 * "ir_access_env" it lists.
 */

ngx_uint_t
ngx_http_ir_notice_applies(ngx_str_t *list, ngx_str_t *env)
{
    u_char     *p, *last;
    ngx_str_t   both;

    ngx_str_set(&both, NGX_HTTP_IR_ENV_BOTH);

    if (list->data == NULL || ngx_http_ir_list_has(list, &both) == NGX_OK) {
        return 1;
    }

    /* separators alone are an empty list, as lists are read */

    last = list->data + list->len;

    for (p = list->data; p < last; p++) {
        if (*p != ' ' && *p != ',' && *p != '\t') {
            return ngx_http_ir_list_has(list, env) == NGX_OK;
        }
    }

    return 1;
}


/*
 * A message goes into the JSON of every answer: no control character,
 * and valid UTF-8 (RFC 3629), read here strictly: ngx_utf8_decode()
 * takes any byte over 0x7f as a continuation and takes surrogates, both
 * of which a JSON parser refuses.
 */

ngx_int_t
ngx_http_ir_notice_text(ngx_str_t *text)
{
    u_char      *p, *last;
    uint32_t     c, min;
    ngx_uint_t   n;

    p = text->data;
    last = p + text->len;

    while (p < last) {
        c = *p++;

        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) {
                return NGX_DECLINED;
            }

            continue;
        }

        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            c &= 0x1f;
            min = 0x80;

        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            c &= 0x0f;
            min = 0x800;

        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            c &= 0x07;
            min = 0x10000;

        } else {
            return NGX_DECLINED;
        }

        if ((size_t) (last - p) < n) {
            return NGX_DECLINED;
        }

        while (n--) {
            if ((*p & 0xc0) != 0x80) {
                return NGX_DECLINED;
            }

            c = c << 6 | (*p++ & 0x3f);
        }

        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* "2026-11-27T08:00:00Z": UTC, to the second */

u_char *
ngx_http_ir_notice_time(u_char *buf, time_t t)
{
    struct tm  tm;

    if (gmtime_r(&t, &tm) == NULL) {
        ngx_memzero(&tm, sizeof(struct tm));
    }

    return ngx_sprintf(buf, "%4d-%02d-%02dT%02d:%02d:%02dZ",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec);
}
