
/*
 * ir-access: the audit trail's entries.
 *
 * Every entry, a decision's or an event's, is made here, with its fields
 * in a fixed order and the time as UTC milliseconds, so that the module
 * and the administrators' tool read and write the same thing.
 *
 * Each writer (a worker, from its start) chains its entries: an entry
 * carries "chain" (the writer), "seq" (its number in the chain) and
 * "prev" (the SHA-256 of the chain's previous entry), and its own digest
 * is taken over all its fields, these three included.  Deleting,
 * changing or reordering an entry breaks its chain where it happened.
 * The digest is SHA-256 over each field in order as
 * "<name length>:<name><value length>:<value>", lengths in decimal.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/evp.h>

#include "ngx_http_ir_schema.h"
#include "ngx_http_ir_trail.h"


typedef struct {
    const char                    *name;
    ngx_uint_t                     offset;
} ngx_http_ir_trail_field_t;


/* a decision's fields after "time", "host" and "request_id", in order */

static ngx_http_ir_trail_field_t  ngx_http_ir_trail_fields[] = {
    { "mode", offsetof(ngx_http_ir_trail_decision_t, mode) },
    { "server", offsetof(ngx_http_ir_trail_decision_t, server) },
    { "user", offsetof(ngx_http_ir_trail_decision_t, user) },
    { "org", offsetof(ngx_http_ir_trail_decision_t, org) },
    { "unit", offsetof(ngx_http_ir_trail_decision_t, unit) },
    { "contract", offsetof(ngx_http_ir_trail_decision_t, contract) },
    { "env", offsetof(ngx_http_ir_trail_decision_t, env) },
    { "ip", offsetof(ngx_http_ir_trail_decision_t, ip) },
    { "country", offsetof(ngx_http_ir_trail_decision_t, country) },
    { "cert", offsetof(ngx_http_ir_trail_decision_t, cert) },
    { "method", offsetof(ngx_http_ir_trail_decision_t, method) },
    { "uri", offsetof(ngx_http_ir_trail_decision_t, uri) },
    { "scope", offsetof(ngx_http_ir_trail_decision_t, scope) },
    { "purpose", offsetof(ngx_http_ir_trail_decision_t, purpose) },
    { "case", offsetof(ngx_http_ir_trail_decision_t, case_ref) },
    { "subject", offsetof(ngx_http_ir_trail_decision_t, subject) },
    { "decision", offsetof(ngx_http_ir_trail_decision_t, decision) },
    { "reason", offsetof(ngx_http_ir_trail_decision_t, reason) },
    { NULL, 0 }
};


void
ngx_http_ir_trail_chain_init(ngx_http_ir_trail_chain_t *chain,
    ngx_str_t *host, ngx_pid_t pid, time_t sec, ngx_msec_t msec)
{
    chain->id.data = chain->id_data;
    chain->id.len = ngx_snprintf(chain->id_data, sizeof(chain->id_data),
                                 "%V/%P/%T.%03M", host, pid, sec, msec)
                    - chain->id_data;

    chain->seq = 0;
    ngx_memcpy(chain->prev, NGX_HTTP_IR_TRAIL_START,
               NGX_HTTP_IR_DIGEST_HEX);
}


/*
 * A decision's entry; "buf" holds what has to be written out (the time,
 * the status, how long a cut URI was) and is the caller's until the
 * entry is sent.
 */

ngx_int_t
ngx_http_ir_trail_decision(ngx_http_ir_trail_entry_t *e,
    ngx_http_ir_trail_decision_t *d, ngx_str_t *host, u_char *buf,
    size_t size)
{
    u_char                     *p, *last;
    ngx_str_t                   value, *s;
    ngx_http_ir_trail_field_t  *field;

    if (ngx_http_ir_trail_event(e, NULL, d->sec, d->msec, host, buf, size)
        != NGX_OK
        || ngx_http_ir_trail_add(e, "request_id", &d->request_id) != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = buf + NGX_HTTP_IR_TIME_LEN;
    last = buf + size;

    for (field = ngx_http_ir_trail_fields; field->name; field++) {
        s = (ngx_str_t *) ((u_char *) d + field->offset);

        value = *s;

        if (value.data == NULL) {
            ngx_str_set(&value, "");
        }

        if (s == &d->uri && value.len > d->uri_max) {
            value.len = d->uri_max;

            if (ngx_http_ir_trail_add(e, field->name, &value) != NGX_OK
                || (size_t) (last - p) < NGX_INT_T_LEN)
            {
                return NGX_ERROR;
            }

            /* marked where it was cut: how long it was */

            value.data = p;
            p = ngx_sprintf(p, "%uz", s->len);
            value.len = p - value.data;

            if (ngx_http_ir_trail_add(e, "uri_cut", &value) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        if (ngx_http_ir_trail_add(e, field->name, &value) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if ((size_t) (last - p) < NGX_INT_T_LEN) {
        return NGX_ERROR;
    }

    value.data = p;
    p = ngx_sprintf(p, "%ui", d->status);
    value.len = p - value.data;

    return ngx_http_ir_trail_add(e, "status", &value);
}


/* what every entry begins with: "time", "event" for an event, "host" */

ngx_int_t
ngx_http_ir_trail_event(ngx_http_ir_trail_entry_t *e, const char *event,
    time_t sec, ngx_msec_t msec, ngx_str_t *host, u_char *buf, size_t size)
{
    ngx_str_t  value;

    if (size < NGX_HTTP_IR_TIME_LEN) {
        return NGX_ERROR;
    }

    e->n = 0;

    value.data = buf;
    value.len = ngx_http_ir_time(buf, sec, msec) - buf;

    if (ngx_http_ir_trail_add(e, "time", &value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (event) {
        value.data = (u_char *) event;
        value.len = ngx_strlen(event);

        if (ngx_http_ir_trail_add(e, "event", &value) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return ngx_http_ir_trail_add(e, "host", host);
}


ngx_int_t
ngx_http_ir_trail_add(ngx_http_ir_trail_entry_t *e, const char *name,
    ngx_str_t *value)
{
    if (e->n == NGX_HTTP_IR_TRAIL_FIELDS) {
        return NGX_ERROR;
    }

    e->fields[e->n].key.data = (u_char *) name;
    e->fields[e->n].key.len = ngx_strlen(name);
    e->fields[e->n].value = *value;

    if (e->fields[e->n].value.data == NULL) {
        ngx_str_set(&e->fields[e->n].value, "");
    }

    e->n++;

    return NGX_OK;
}


/*
 * The entry joins its writer's chain: "chain", "seq" and "prev" are
 * added, and its digest becomes the next entry's "prev".  "buf" holds
 * NGX_INT_T_LEN + NGX_HTTP_IR_DIGEST_HEX bytes for as long as the entry
 * is kept.
 */

ngx_int_t
ngx_http_ir_trail_link(ngx_http_ir_trail_entry_t *e,
    ngx_http_ir_trail_chain_t *chain, u_char *buf)
{
    u_char     *p;
    ngx_str_t   value;

    if (ngx_http_ir_trail_add(e, "chain", &chain->id) != NGX_OK) {
        return NGX_ERROR;
    }

    value.data = buf;
    p = ngx_sprintf(buf, "%ui", chain->seq + 1);
    value.len = p - buf;

    if (ngx_http_ir_trail_add(e, "seq", &value) != NGX_OK) {
        return NGX_ERROR;
    }

    value.data = ngx_cpymem(p, chain->prev, NGX_HTTP_IR_DIGEST_HEX)
                 - NGX_HTTP_IR_DIGEST_HEX;
    value.len = NGX_HTTP_IR_DIGEST_HEX;

    if (ngx_http_ir_trail_add(e, "prev", &value) != NGX_OK
        || ngx_http_ir_trail_digest(e->fields, e->n, chain->prev) != NGX_OK)
    {
        return NGX_ERROR;
    }

    chain->seq++;

    return NGX_OK;
}


ngx_int_t
ngx_http_ir_trail_digest(ngx_keyval_t *fields, ngx_uint_t n, u_char *hex)
{
    u_char        *p;
    ngx_int_t      rc;
    ngx_uint_t     i;
    EVP_MD_CTX    *md;
    unsigned int   len;
    u_char         digest[EVP_MAX_MD_SIZE];
    u_char         num[NGX_INT_T_LEN + 1];

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        goto done;
    }

    for (i = 0; i < n; i++) {
        p = ngx_sprintf(num, "%uz:", fields[i].key.len);

        if (EVP_DigestUpdate(md, num, p - num) != 1
            || EVP_DigestUpdate(md, fields[i].key.data, fields[i].key.len)
               != 1)
        {
            goto done;
        }

        p = ngx_sprintf(num, "%uz:", fields[i].value.len);

        if (EVP_DigestUpdate(md, num, p - num) != 1
            || (fields[i].value.len
                && EVP_DigestUpdate(md, fields[i].value.data,
                                    fields[i].value.len)
                   != 1))
        {
            goto done;
        }
    }

    if (EVP_DigestFinal_ex(md, digest, &len) != 1 || len * 2 != 64) {
        goto done;
    }

    ngx_hex_dump(hex, digest, len);

    rc = NGX_OK;

done:

    EVP_MD_CTX_free(md);

    return rc;
}


/*
 * A JSON string, quotes included, between p and last; what does not fit
 * is cut.  Returns the end.
 */

u_char *
ngx_http_ir_json_string(u_char *p, u_char *last, ngx_str_t *s)
{
    u_char  *q, *end, c;

    if (last - p < 2) {
        return p;
    }

    last--;
    *p++ = '"';

    end = s->data + s->len;

    for (q = s->data; q < end; q++) {
        c = *q;

        if (c == '"' || c == '\\') {
            if (last - p < 2) {
                break;
            }

            *p++ = '\\';
            *p++ = c;
            continue;
        }

        if (c < 0x20 || c == 0x7f) {
            if (last - p < 6) {
                break;
            }

            p = ngx_sprintf(p, "\\u%04xd", (int) c);
            continue;
        }

        if (p == last) {
            break;
        }

        *p++ = c;
    }

    *p++ = '"';

    return p;
}
