
/*
 * ir-access: the $ir_access_* variables.
 *
 * Each shows a string the decision left in the request's context; a
 * request the module did not decide has them all empty.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_request.h"
#include "ngx_http_ir_variables.h"


static ngx_int_t ngx_http_ir_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_ir_variable_scopes(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_ir_variables[] = {

    { ngx_string("ir_access_user"), NULL, ngx_http_ir_variable,
      offsetof(ngx_http_ir_ctx_t, user), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ir_access_org"), NULL, ngx_http_ir_variable,
      offsetof(ngx_http_ir_ctx_t, org), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ir_access_unit"), NULL, ngx_http_ir_variable,
      offsetof(ngx_http_ir_ctx_t, unit), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ir_access_contract"), NULL, ngx_http_ir_variable,
      offsetof(ngx_http_ir_ctx_t, contract), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ir_access_scopes"), NULL, ngx_http_ir_variable_scopes,
      offsetof(ngx_http_ir_ctx_t, scopes), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ir_access_country"), NULL, ngx_http_ir_variable,
      offsetof(ngx_http_ir_ctx_t, country), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ir_access_decision"), NULL, ngx_http_ir_variable,
      offsetof(ngx_http_ir_ctx_t, decision), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ir_access_reason"), NULL, ngx_http_ir_variable,
      offsetof(ngx_http_ir_ctx_t, reason), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ir_access_cert_sha256"), NULL, ngx_http_ir_variable,
      offsetof(ngx_http_ir_ctx_t, cert_sha256), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("ir_access_purpose"), NULL, ngx_http_ir_variable,
      offsetof(ngx_http_ir_ctx_t, purpose), NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_ir_variables_add(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_ir_variables; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * A subrequest decided for itself, as auth_request's is where only its
 * location has ir_access on, shows its own decision; any other shows
 * the main request's.
 */

static ngx_http_ir_ctx_t *
ngx_http_ir_variable_ctx(ngx_http_request_t *r)
{
    ngx_http_ir_ctx_t  *ctx;

    if (r != r->main) {
        ctx = ngx_http_ir_request_ctx(r);

        if (ctx && ctx->state == NGX_HTTP_IR_DECIDED) {
            return ctx;
        }
    }

    return ngx_http_ir_request_ctx(r->main);
}


static ngx_int_t
ngx_http_ir_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_str_t          *value;
    ngx_http_ir_ctx_t  *ctx;

    ctx = ngx_http_ir_variable_ctx(r);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    value = (ngx_str_t *) ((u_char *) ctx + data);

    v->len = value->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = value->data ? value->data : (u_char *) "";

    return NGX_OK;
}


/* the effective grant is built the first time it is asked for */

static ngx_int_t
ngx_http_ir_variable_scopes(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_ir_ctx_t  *ctx;

    ctx = ngx_http_ir_variable_ctx(r);

    if (ctx && ctx->state == NGX_HTTP_IR_DECIDED && ctx->record.org.found
        && ctx->scopes.data == NULL
        && ngx_http_ir_grant(&ctx->record, &ctx->scopes, r->pool) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_ir_variable(r, v, data);
}
