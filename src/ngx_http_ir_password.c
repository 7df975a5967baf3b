
/*
 * ir-access: the user's password, on top of the certificate.
 *
 * The hash formats are those nginx's auth_basic reads: "{PLAIN}",
 * "{SHA}", "{SSHA}" and "$apr1$", cheap enough to check in the event
 * loop through ngx_crypt(), and whatever the system's crypt() knows
 * (bcrypt, yescrypt, sha512-crypt, ...), which is slow by design and so
 * runs in a thread pool, where the worker does not wait for it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_crypt.h>

#include <crypt.h>
#include <openssl/crypto.h>

#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_password.h"


typedef struct {
    ngx_http_request_t            *request;
    ngx_http_ir_password_done_pt   done;
    u_char                        *password;     /* NUL-terminated */
    size_t                         password_len;
    u_char                        *hash;         /* NUL-terminated */
    ngx_uint_t                     result;
    struct crypt_data              crypt;
} ngx_http_ir_password_task_t;


static ngx_uint_t ngx_http_ir_password_fast(ngx_http_request_t *r,
    ngx_str_t *passwd, ngx_str_t *hash);
static ngx_uint_t ngx_http_ir_password_same(u_char *computed,
    ngx_str_t *hash);
#if (NGX_THREADS)
static ngx_int_t ngx_http_ir_password_post(ngx_http_request_t *r,
    ngx_str_t *passwd, ngx_str_t *hash, ngx_thread_pool_t *pool,
    ngx_http_ir_password_done_pt done);
static void ngx_http_ir_password_thread(void *data, ngx_log_t *log);
static void ngx_http_ir_password_event(ngx_event_t *ev);
#endif


/*
 * NGX_OK with *result set, or NGX_AGAIN when the check went to a thread
 * and done() will be called with the result; NGX_ERROR without memory.
 */

ngx_int_t
ngx_http_ir_password_check(ngx_http_request_t *r, ngx_str_t *identity,
    ngx_str_t *hash, ngx_thread_pool_t *pool,
    ngx_http_ir_password_done_pt done, ngx_uint_t *result)
{
    ngx_str_t  *user, *passwd;

    if (ngx_http_auth_basic_user(r) != NGX_OK) {
        *result = NGX_HTTP_IR_PASSWORD_MISSING;
        return NGX_OK;
    }

    user = &r->headers_in.user;
    passwd = &r->headers_in.passwd;

    if (user->len != identity->len
        || ngx_strncmp(user->data, identity->data, identity->len) != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ir_access: Basic user \"%V\" is not the certificate's "
                      "identity \"%V\"", user, identity);
        *result = NGX_HTTP_IR_PASSWORD_WRONG;
        return NGX_OK;
    }

    if (hash->len == 0 || passwd->len == 0) {
        *result = NGX_HTTP_IR_PASSWORD_WRONG;
        return NGX_OK;
    }

    if (hash->data[0] == '{'
        || (hash->len > 6 && ngx_strncmp(hash->data, "$apr1$", 6) == 0))
    {
        *result = ngx_http_ir_password_fast(r, passwd, hash);
        return NGX_OK;
    }

#if (NGX_THREADS)

    if (pool) {
        return ngx_http_ir_password_post(r, passwd, hash, pool, done);
    }

#endif

    /* no thread pool: the system's crypt() in the event loop after all */

    *result = ngx_http_ir_password_fast(r, passwd, hash);

    return NGX_OK;
}


static ngx_uint_t
ngx_http_ir_password_fast(ngx_http_request_t *r, ngx_str_t *passwd,
    ngx_str_t *hash)
{
    u_char      *password, *salt, *computed;
    ngx_int_t    rc;
    ngx_uint_t   result;

    password = ngx_pnalloc(r->pool, passwd->len + 1);
    salt = ngx_pnalloc(r->pool, hash->len + 1);
    if (password == NULL || salt == NULL) {
        return NGX_HTTP_IR_PASSWORD_WRONG;
    }

    ngx_cpystrn(password, passwd->data, passwd->len + 1);
    ngx_cpystrn(salt, hash->data, hash->len + 1);

    rc = ngx_crypt(r->pool, password, salt, &computed);

    ngx_explicit_memzero(password, passwd->len);

    if (rc != NGX_OK || computed == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ir_access: the user's password hash is in a format "
                      "this system cannot check");
        return NGX_HTTP_IR_PASSWORD_WRONG;
    }

    result = ngx_http_ir_password_same(computed, hash);

    return result;
}


/* constant time, so that the comparison tells nothing by its duration */

static ngx_uint_t
ngx_http_ir_password_same(u_char *computed, ngx_str_t *hash)
{
    size_t  len;

    len = ngx_strlen(computed);

    if (len != hash->len || CRYPTO_memcmp(computed, hash->data, len) != 0) {
        return NGX_HTTP_IR_PASSWORD_WRONG;
    }

    return NGX_HTTP_IR_PASSWORD_GOOD;
}


#if (NGX_THREADS)

static ngx_int_t
ngx_http_ir_password_post(ngx_http_request_t *r, ngx_str_t *passwd,
    ngx_str_t *hash, ngx_thread_pool_t *pool,
    ngx_http_ir_password_done_pt done)
{
    ngx_thread_task_t            *task;
    ngx_http_ir_password_task_t  *pt;

    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_http_ir_password_task_t));
    if (task == NULL) {
        return NGX_ERROR;
    }

    pt = task->ctx;

    pt->request = r;
    pt->done = done;

    pt->password = ngx_pnalloc(r->pool, passwd->len + 1);
    pt->hash = ngx_pnalloc(r->pool, hash->len + 1);
    if (pt->password == NULL || pt->hash == NULL) {
        return NGX_ERROR;
    }

    ngx_cpystrn(pt->password, passwd->data, passwd->len + 1);
    ngx_cpystrn(pt->hash, hash->data, hash->len + 1);
    pt->password_len = passwd->len;

    task->handler = ngx_http_ir_password_thread;
    task->event.handler = ngx_http_ir_password_event;
    task->event.data = pt;

    if (ngx_thread_task_post(pool, task) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the request may not be freed while the thread uses its memory */
    r->main->blocked++;
    r->aio = 1;

    return NGX_AGAIN;
}


/* in a thread: nothing here may touch nginx's pools or logs */

static void
ngx_http_ir_password_thread(void *data, ngx_log_t *log)
{
    ngx_http_ir_password_task_t *pt = data;

    char       *computed;
    ngx_str_t   hash;

    ngx_memzero(&pt->crypt, sizeof(struct crypt_data));

    computed = crypt_r((char *) pt->password, (char *) pt->hash, &pt->crypt);

    hash.data = pt->hash;
    hash.len = ngx_strlen(pt->hash);

    pt->result = (computed && computed[0] != '*')
                 ? ngx_http_ir_password_same((u_char *) computed, &hash)
                 : NGX_HTTP_IR_PASSWORD_WRONG;

    ngx_explicit_memzero(pt->password, pt->password_len);
    ngx_explicit_memzero(&pt->crypt, sizeof(struct crypt_data));
}


static void
ngx_http_ir_password_event(ngx_event_t *ev)
{
    ngx_http_ir_password_task_t *pt = ev->data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = pt->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    r->main->blocked--;
    r->aio = 0;

    pt->done(r, pt->result);

    r->write_event_handler(r);
    ngx_http_run_posted_requests(c);
}

#endif
