
/*
 * ir-access: what a refused client receives.
 *
 * A stable reason code in a small JSON body, so that a client integrator
 * can act on it; the details behind it go to the error log only.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_response.h"


/* how soon a client may try again after store_unavailable, seconds */
#define NGX_HTTP_IR_RETRY_AFTER  "2"


static ngx_table_elt_t *ngx_http_ir_response_header(ngx_http_request_t *r,
    const char *name, size_t len, ngx_str_t *value);


ngx_uint_t
ngx_http_ir_response_status(ngx_uint_t reason)
{
    switch (reason) {

    case NGX_HTTP_IR_ALLOW:
        return NGX_HTTP_OK;

    case NGX_HTTP_IR_PASSWORD_REQUIRED:
    case NGX_HTTP_IR_BAD_PASSWORD:
        return NGX_HTTP_UNAUTHORIZED;

    case NGX_HTTP_IR_STORE_UNAVAILABLE:
        return NGX_HTTP_SERVICE_UNAVAILABLE;

    default:
        return NGX_HTTP_FORBIDDEN;
    }
}


ngx_int_t
ngx_http_ir_response_send(ngx_http_request_t *r, ngx_uint_t reason,
    ngx_str_t *realm)
{
    u_char                    *p;
    ngx_str_t                 *name, value, type;
    ngx_uint_t                 status;
    ngx_http_complex_value_t   cv;

    static u_char  retry_after[] = NGX_HTTP_IR_RETRY_AFTER;

    status = ngx_http_ir_response_status(reason);
    name = ngx_http_ir_reason_name(reason);

    if (status == NGX_HTTP_UNAUTHORIZED) {
        value.len = sizeof("Basic realm=\"\"") - 1 + realm->len;
        value.data = ngx_pnalloc(r->pool, value.len);
        if (value.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ngx_cpymem(value.data, "Basic realm=\"",
                       sizeof("Basic realm=\"") - 1);
        p = ngx_cpymem(p, realm->data, realm->len);
        *p = '"';

        r->headers_out.www_authenticate =
                    ngx_http_ir_response_header(r, "WWW-Authenticate",
                                                sizeof("WWW-Authenticate") - 1,
                                                &value);

        if (r->headers_out.www_authenticate == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        value.len = sizeof(retry_after) - 1;
        value.data = retry_after;

        if (ngx_http_ir_response_header(r, "Retry-After",
                                        sizeof("Retry-After") - 1, &value)
            == NULL)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ngx_memzero(&cv, sizeof(ngx_http_complex_value_t));

    cv.value.len = sizeof("{\"error\":\"\"}") - 1 + name->len;
    cv.value.data = ngx_pnalloc(r->pool, cv.value.len);
    if (cv.value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(cv.value.data, "{\"error\":\"", sizeof("{\"error\":\"") - 1);
    p = ngx_cpymem(p, name->data, name->len);
    ngx_memcpy(p, "\"}", 2);

    ngx_str_set(&type, "application/json");

    return ngx_http_send_response(r, status, &type, &cv);
}


static ngx_table_elt_t *
ngx_http_ir_response_header(ngx_http_request_t *r, const char *name,
    size_t len, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    h->key.len = len;
    h->key.data = (u_char *) name;
    h->value = *value;

    return h;
}
