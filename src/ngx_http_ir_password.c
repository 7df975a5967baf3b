
/*
 * ir-access: the user's password, on top of the certificate.
 *
 * The hash formats are those nginx's auth_basic reads: "{PLAIN}",
 * "{SHA}", "{SSHA}" and "$apr1$", cheap enough to check in the event
 * loop through ngx_crypt(), and whatever the system's crypt() knows
 * (bcrypt, yescrypt, sha512-crypt, ...), which is slow by design and so
 * runs in a thread pool, where the worker does not wait for it.
 *
 * A client sends its Basic credentials with every request, and a bcrypt
 * check for each would cap a user at a few dozen requests a second: so a
 * worker remembers, for a short time, that a password matched.  It keeps
 * an HMAC of the user, the stored hash and the password under a key of
 * its own, made at random, from which the password cannot be recovered;
 * a changed hash in Redis no longer matches what was remembered, and a
 * wrong password is never remembered, so that each one counts.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_crypt.h>

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_metrics.h"
#include "ngx_http_ir_password.h"


#define NGX_HTTP_IR_REMEMBERED      1024
#define NGX_HTTP_IR_MAC_LEN         32


typedef struct {
    u_char                         mac[NGX_HTTP_IR_MAC_LEN];
    ngx_msec_t                     expires;
} ngx_http_ir_remembered_t;


typedef struct {
    ngx_http_request_t            *request;
    ngx_msec_t                     remember;
    u_char                         mac[NGX_HTTP_IR_MAC_LEN];
    ngx_http_ir_password_done_pt   done;
    u_char                        *password;     /* NUL-terminated */
    size_t                         password_len;
    u_char                        *hash;         /* NUL-terminated */
    ngx_uint_t                     result;
    struct crypt_data              crypt;
} ngx_http_ir_password_task_t;


static ngx_int_t ngx_http_ir_password_mac(ngx_str_t *user, ngx_str_t *hash,
    ngx_str_t *passwd, u_char *mac);
static ngx_uint_t ngx_http_ir_password_recall(u_char *mac);
static void ngx_http_ir_password_remember(u_char *mac, ngx_msec_t remember);
static ngx_uint_t ngx_http_ir_password_fast(ngx_http_request_t *r,
    ngx_str_t *passwd, ngx_str_t *hash);
static ngx_uint_t ngx_http_ir_password_same(u_char *computed,
    ngx_str_t *hash);
#if (NGX_THREADS)
static ngx_int_t ngx_http_ir_password_post(ngx_http_request_t *r,
    ngx_str_t *passwd, ngx_str_t *hash, ngx_thread_pool_t *pool,
    ngx_http_ir_password_done_pt done, u_char *mac, ngx_msec_t remember);
static void ngx_http_ir_password_thread(void *data, ngx_log_t *log);
static void ngx_http_ir_password_event(ngx_event_t *ev);
#endif


static ngx_http_ir_remembered_t  ngx_http_ir_remembered[NGX_HTTP_IR_REMEMBERED];
static u_char                    ngx_http_ir_mac_key[32];
static ngx_uint_t                ngx_http_ir_mac_key_made;


/*
 * NGX_OK with *result set, or NGX_AGAIN when the check went to a thread
 * and done() will be called with the result; NGX_ERROR without memory.
 */

ngx_int_t
ngx_http_ir_password_check(ngx_http_request_t *r, ngx_str_t *identity,
    ngx_str_t *hash, ngx_thread_pool_t *pool, ngx_msec_t remember,
    ngx_http_ir_password_done_pt done, ngx_uint_t *result)
{
    ngx_str_t  *user, *passwd;
    u_char      mac[NGX_HTTP_IR_MAC_LEN];

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
        if (remember
            && ngx_http_ir_password_mac(user, hash, passwd, mac) == NGX_OK)
        {
            if (ngx_http_ir_password_recall(mac)) {
                ngx_http_ir_metric_inc(passwords_remembered);
                *result = NGX_HTTP_IR_PASSWORD_GOOD;
                return NGX_OK;
            }

        } else {
            remember = 0;
        }

        return ngx_http_ir_password_post(r, passwd, hash, pool, done, mac,
                                         remember);
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


/* HMAC-SHA256(key, user NUL hash NUL password): the password stays unknown */

static ngx_int_t
ngx_http_ir_password_mac(ngx_str_t *user, ngx_str_t *hash, ngx_str_t *passwd,
    u_char *mac)
{
    HMAC_CTX      *ctx;
    unsigned int   len;
    ngx_int_t      rc;

    if (!ngx_http_ir_mac_key_made) {
        if (RAND_bytes(ngx_http_ir_mac_key, sizeof(ngx_http_ir_mac_key))
            != 1)
        {
            return NGX_ERROR;
        }

        ngx_http_ir_mac_key_made = 1;
    }

    ctx = HMAC_CTX_new();
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (HMAC_Init_ex(ctx, ngx_http_ir_mac_key, sizeof(ngx_http_ir_mac_key),
                     EVP_sha256(), NULL)
        && HMAC_Update(ctx, user->data, user->len)
        && HMAC_Update(ctx, (u_char *) "", 1)
        && HMAC_Update(ctx, hash->data, hash->len)
        && HMAC_Update(ctx, (u_char *) "", 1)
        && HMAC_Update(ctx, passwd->data, passwd->len)
        && HMAC_Final(ctx, mac, &len)
        && len == NGX_HTTP_IR_MAC_LEN)
    {
        rc = NGX_OK;
    }

    HMAC_CTX_free(ctx);

    return rc;
}


static ngx_uint_t
ngx_http_ir_password_recall(u_char *mac)
{
    ngx_http_ir_remembered_t  *slot;

    slot = &ngx_http_ir_remembered[(mac[0] << 8 | mac[1])
                                   % NGX_HTTP_IR_REMEMBERED];

    return (ngx_msec_int_t) (slot->expires - ngx_current_msec) > 0
           && CRYPTO_memcmp(slot->mac, mac, NGX_HTTP_IR_MAC_LEN) == 0;
}


static void
ngx_http_ir_password_remember(u_char *mac, ngx_msec_t remember)
{
    ngx_http_ir_remembered_t  *slot;

    slot = &ngx_http_ir_remembered[(mac[0] << 8 | mac[1])
                                   % NGX_HTTP_IR_REMEMBERED];

    ngx_memcpy(slot->mac, mac, NGX_HTTP_IR_MAC_LEN);
    slot->expires = ngx_current_msec + remember;
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
    ngx_http_ir_password_done_pt done, u_char *mac, ngx_msec_t remember)
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
    pt->remember = remember;
    ngx_memcpy(pt->mac, mac, NGX_HTTP_IR_MAC_LEN);

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

    ngx_http_ir_metric_inc(passwords_hashed);

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

    if (pt->result == NGX_HTTP_IR_PASSWORD_GOOD && pt->remember) {
        ngx_http_ir_password_remember(pt->mac, pt->remember);
    }

    pt->done(r, pt->result);

    r->write_event_handler(r);
    ngx_http_run_posted_requests(c);
}

#endif
