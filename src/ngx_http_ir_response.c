
/*
 * ir-access: what a refused client receives.
 *
 * A denial is answered as nginx's own access modules answer one: its
 * status goes back to the phase engine, so that "satisfy any",
 * "error_page" and "auth_delay" work.  Where no "error_page" is set for
 * that status, nginx's own error page is replaced, on its way out, by a
 * stable reason code in a small JSON body that a client integrator can
 * act on, with the request's id to quote to the helpdesk; the details
 * behind it go to the error log only.  A maintenance adds its message
 * and end; a refusal that will pass says when in "Retry-After".
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_response.h"


/* how soon a client may try again, seconds */
#define NGX_HTTP_IR_RETRY_STORE        "2"     /* store_unavailable */
#define NGX_HTTP_IR_RETRY_LOGIN        "1"     /* too_many_logins */


static ngx_int_t ngx_http_ir_response_header_add(ngx_http_request_t *r,
    const char *name, size_t len, ngx_str_t *value);
static u_char *ngx_http_ir_response_field(u_char *p, const char *name,
    ngx_str_t *value);
static ngx_uint_t ngx_http_ir_response_error_page(ngx_http_request_t *r,
    ngx_uint_t status);


/* the headers a denial needs, its body, and the status to return */

ngx_int_t
ngx_http_ir_response_deny(ngx_http_request_t *r, ngx_http_ir_answer_t *a,
    ngx_http_ir_verdict_t *v, ngx_str_t *realm, ngx_str_t *request_id)
{
    u_char     *p;
    size_t      len;
    ngx_str_t  *name, value;

    a->status = ngx_http_ir_reason_status(v->reason);
    name = ngx_http_ir_reason_name(v->reason);

    switch (a->status) {

    case NGX_HTTP_UNAUTHORIZED:
        value.len = sizeof("Basic realm=\"\"") - 1 + realm->len;
        value.data = ngx_pnalloc(r->pool, value.len);
        if (value.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ngx_cpymem(value.data, "Basic realm=\"",
                       sizeof("Basic realm=\"") - 1);
        p = ngx_cpymem(p, realm->data, realm->len);
        *p = '"';

        if (ngx_http_ir_response_header_add(r, "WWW-Authenticate",
                                            sizeof("WWW-Authenticate") - 1,
                                            &value)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        break;

    case NGX_HTTP_SERVICE_UNAVAILABLE:
    case NGX_HTTP_TOO_MANY_REQUESTS:
        if (v->retry_after > 0) {
            value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
            if (value.data == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            value.len = ngx_sprintf(value.data, "%T", v->retry_after)
                        - value.data;

        } else if (a->status == NGX_HTTP_SERVICE_UNAVAILABLE) {
            ngx_str_set(&value, NGX_HTTP_IR_RETRY_STORE);

        } else {
            ngx_str_set(&value, NGX_HTTP_IR_RETRY_LOGIN);
        }

        if (ngx_http_ir_response_header_add(r, "Retry-After",
                                            sizeof("Retry-After") - 1,
                                            &value)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        break;
    }

    /*
     * {"error":"<reason>"[,"message":"<text>"][,"until":"<time>"]
     *  [,"request_id":"<id>"]}, the values JSON-escaped
     */

    len = sizeof("{\"error\":\"\"}") - 1 + name->len
          + ngx_escape_json(NULL, name->data, name->len);

    if (v->message.data) {
        len += sizeof(",\"message\":\"\"") - 1 + v->message.len
               + ngx_escape_json(NULL, v->message.data, v->message.len);
    }

    if (v->until.data) {
        len += sizeof(",\"until\":\"\"") - 1 + v->until.len
               + ngx_escape_json(NULL, v->until.data, v->until.len);
    }

    if (request_id->len) {
        len += sizeof(",\"request_id\":\"\"") - 1 + request_id->len
               + ngx_escape_json(NULL, request_id->data, request_id->len);
    }

    a->body.data = ngx_pnalloc(r->pool, len);
    if (a->body.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = a->body.data;
    *p++ = '{';

    p = ngx_http_ir_response_field(p, "error", name);

    if (v->message.data) {
        *p++ = ',';
        p = ngx_http_ir_response_field(p, "message", &v->message);
    }

    if (v->until.data) {
        *p++ = ',';
        p = ngx_http_ir_response_field(p, "until", &v->until);
    }

    if (request_id->len) {
        *p++ = ',';
        p = ngx_http_ir_response_field(p, "request_id", request_id);
    }

    *p++ = '}';

    a->body.len = p - a->body.data;

    a->replace = (r == r->main
                  && !ngx_http_ir_response_error_page(r, a->status));

    return a->status;
}


/*
 * In the header filter: where nginx answers the denial with its own
 * page, the JSON goes out instead.
 */

void
ngx_http_ir_response_header(ngx_http_request_t *r, ngx_http_ir_answer_t *a)
{
    if (!a->replace || a->replacing
        || r->headers_out.status != a->status
        || (ngx_uint_t) r->err_status != a->status)
    {
        return;
    }

    a->replacing = 1;

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    r->headers_out.content_length_n = a->body.len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }
}


ngx_int_t
ngx_http_ir_response_body(ngx_http_request_t *r, ngx_http_ir_answer_t *a,
    ngx_chain_t *in, ngx_chain_t **out)
{
    ngx_buf_t    *b;
    ngx_uint_t    last;
    ngx_chain_t  *cl;

    last = 0;

    /* nginx's own page is let go */

    for (cl = in; cl; cl = cl->next) {
        if (cl->buf->last_buf || cl->buf->last_in_chain) {
            last = 1;
        }

        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    *out = NULL;

    if (a->sent && !last) {
        return NGX_OK;
    }

    b = ngx_calloc_buf(r->pool);
    cl = ngx_alloc_chain_link(r->pool);
    if (b == NULL || cl == NULL) {
        return NGX_ERROR;
    }

    if (!a->sent) {
        b->pos = a->body.data;
        b->last = a->body.data + a->body.len;
        b->memory = 1;
        a->sent = 1;
    }

    b->last_buf = last;
    b->last_in_chain = last;

    cl->buf = b;
    cl->next = NULL;

    *out = cl;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_response_header_add(ngx_http_request_t *r, const char *name,
    size_t len, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.len = len;
    h->key.data = (u_char *) name;
    h->value = *value;

    if (len == sizeof("WWW-Authenticate") - 1) {
        r->headers_out.www_authenticate = h;
    }

    return NGX_OK;
}


/* "name":"value", the value escaped */

static u_char *
ngx_http_ir_response_field(u_char *p, const char *name, ngx_str_t *value)
{
    *p++ = '"';
    p = ngx_cpymem(p, name, ngx_strlen(name));
    p = ngx_cpymem(p, "\":\"", 3);
    p = (u_char *) ngx_escape_json(p, value->data, value->len);
    *p++ = '"';

    return p;
}


/* whether nginx will redirect to an "error_page" for the status */

static ngx_uint_t
ngx_http_ir_response_error_page(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_uint_t                 i;
    ngx_http_err_page_t       *err_page;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (r->error_page || clcf->error_pages == NULL || r->uri_changes == 0) {
        return 0;
    }

    err_page = clcf->error_pages->elts;

    for (i = 0; i < clcf->error_pages->nelts; i++) {
        if (err_page[i].status == (ngx_int_t) status) {
            return 1;
        }
    }

    return 0;
}
