
/*
 * ir-access: the user's password, on top of the certificate.
 *
 * The hash formats are those nginx's auth_basic reads: "{PLAIN}",
 * "{SHA}", "{SSHA}" and "$apr1$", cheap enough to check in the event
 * loop through ngx_crypt(), and whatever the system's crypt() knows
 * (bcrypt, yescrypt, sha512-crypt, ...), which is slow by design and so
 * runs in a thread pool, where the worker does not wait for it.  A
 * worker that exits (a reload) stays until its thread pool has answered
 * every request it holds.
 *
 * A client sends its Basic credentials with every request, and a bcrypt
 * check for each would cap a user at a few dozen requests a second: so a
 * worker remembers, for a short time, that a password matched.  It keeps
 * an HMAC of the user, the stored hash and the password under a key of
 * its own, made at random, from which the password cannot be recovered;
 * a changed hash in Redis no longer matches what was remembered, and a
 * wrong password is never remembered.
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
#include "ngx_http_ir_record.h"
#include "ngx_http_ir_schema.h"


/* slots of the table of passwords remembered, per worker */
#define NGX_HTTP_IR_REMEMBERED         1024

/*
 * How long an exiting worker may wait for its thread pool, ms: far above
 * any hash's time, it only keeps the worker from leaving too early.
 */
#define NGX_HTTP_IR_PASSWORD_GUARD     3600000


typedef struct {
    u_char                         mac[NGX_HTTP_IR_MAC_LEN];
    ngx_msec_t                     verified;
    unsigned                       used:1;
} ngx_http_ir_remembered_t;


typedef struct {
    ngx_http_request_t            *request;
    ngx_http_ir_password_pt        done;
    void                          *data;
    u_char                        *password;     /* NUL-terminated */
    size_t                         password_len;
    u_char                        *hash;         /* NUL-terminated */
    ngx_uint_t                     result;
    ngx_event_t                    guard;
    struct crypt_data              crypt;
} ngx_http_ir_password_task_t;


static ngx_uint_t ngx_http_ir_password_fast(ngx_http_request_t *r,
    ngx_str_t *passwd, ngx_str_t *hash);
static ngx_uint_t ngx_http_ir_password_same(u_char *computed,
    ngx_str_t *hash);
static ngx_http_ir_remembered_t *ngx_http_ir_password_slot(u_char *mac);
#if (NGX_THREADS)
static ngx_int_t ngx_http_ir_password_post(ngx_http_request_t *r,
    ngx_str_t *passwd, ngx_str_t *hash, ngx_thread_pool_t *pool,
    ngx_http_ir_password_pt done, void *data);
static void ngx_http_ir_password_thread(void *data, ngx_log_t *log);
static void ngx_http_ir_password_event(ngx_event_t *ev);
static void ngx_http_ir_password_guard(ngx_event_t *ev);
#endif


static ngx_http_ir_remembered_t  ngx_http_ir_remembered[NGX_HTTP_IR_REMEMBERED];
static u_char                    ngx_http_ir_mac_key[32];
static ngx_uint_t                ngx_http_ir_mac_key_made;


/*
 * The Basic credentials: NGX_HTTP_IR_LOGIN_MISSING without them,
 * NGX_HTTP_IR_LOGIN_WRONG for a user part other than the identity or a
 * password that no hash can match (one with a NUL byte in it, which
 * crypt() would cut short), NGX_HTTP_IR_LOGIN_UNCHECKED with the password.
 */

ngx_uint_t
ngx_http_ir_password_credentials(ngx_http_request_t *r, ngx_str_t *identity,
    ngx_str_t *passwd)
{
    ngx_str_t  *user;
    u_char      text[NGX_HTTP_IR_NAME_MAX * 2];

    if (ngx_http_auth_basic_user(r) != NGX_OK) {
        return NGX_HTTP_IR_LOGIN_MISSING;
    }

    user = &r->headers_in.user;
    *passwd = r->headers_in.passwd;

    if (user->len != identity->len
        || ngx_strncmp(user->data, identity->data, identity->len) != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "ir_access: Basic user \"%*s\" is not the "
                      "certificate's identity \"%V\"",
                      ngx_http_ir_escape(text, text + sizeof(text), user)
                      - text, text, identity);
        return NGX_HTTP_IR_LOGIN_WRONG;
    }

    if (passwd->len == 0
        || ngx_strlchr(passwd->data, passwd->data + passwd->len, '\0'))
    {
        return NGX_HTTP_IR_LOGIN_WRONG;
    }

    return NGX_HTTP_IR_LOGIN_UNCHECKED;
}


/*
 * NGX_OK where this worker verified the same password against the same
 * hash within "remember" (the place's own, whatever place verified it);
 * NGX_DECLINED with the MAC to remember it by once it is verified;
 * NGX_ERROR when no MAC can be made (then nothing is kept).
 */

ngx_int_t
ngx_http_ir_password_recall(ngx_str_t *user, ngx_str_t *hash,
    ngx_str_t *passwd, ngx_msec_t remember, u_char *mac)
{
    HMAC_CTX                  *ctx;
    unsigned int               len;
    ngx_int_t                  rc;
    ngx_http_ir_remembered_t  *slot;

    if (!ngx_http_ir_mac_key_made) {
        if (RAND_bytes(ngx_http_ir_mac_key, sizeof(ngx_http_ir_mac_key))
            != 1)
        {
            return NGX_ERROR;
        }

        ngx_http_ir_mac_key_made = 1;
    }

    /* HMAC-SHA256(key, user NUL hash NUL password) */

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
        rc = NGX_DECLINED;
    }

    HMAC_CTX_free(ctx);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    slot = ngx_http_ir_password_slot(mac);

    if (slot->used
        && ngx_current_msec - slot->verified < remember
        && CRYPTO_memcmp(slot->mac, mac, NGX_HTTP_IR_MAC_LEN) == 0)
    {
        ngx_http_ir_metric_inc(passwords_remembered);
        return NGX_OK;
    }

    return NGX_DECLINED;
}


void
ngx_http_ir_password_remember(u_char *mac)
{
    ngx_http_ir_remembered_t  *slot;

    slot = ngx_http_ir_password_slot(mac);

    ngx_memcpy(slot->mac, mac, NGX_HTTP_IR_MAC_LEN);
    slot->verified = ngx_current_msec;
    slot->used = 1;
}


static ngx_http_ir_remembered_t *
ngx_http_ir_password_slot(u_char *mac)
{
    return &ngx_http_ir_remembered[(mac[0] << 8 | mac[1])
                                   % NGX_HTTP_IR_REMEMBERED];
}


/*
 * NGX_OK with *result (NGX_HTTP_IR_LOGIN_GOOD or _WRONG), or NGX_AGAIN
 * when the check went to a thread and done() will be called with the
 * result; NGX_ERROR without memory.
 */

ngx_int_t
ngx_http_ir_password_compare(ngx_http_request_t *r, ngx_str_t *passwd,
    ngx_str_t *hash, ngx_uint_t kind, ngx_thread_pool_t *pool,
    ngx_http_ir_password_pt done, void *data, ngx_uint_t *result)
{
#if (NGX_THREADS)

    if (kind == NGX_HTTP_IR_HASH_SLOW && pool) {
        return ngx_http_ir_password_post(r, passwd, hash, pool, done, data);
    }

#endif

    /* nginx's own formats, or no thread pool: in the event loop */

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
        return NGX_HTTP_IR_LOGIN_WRONG;
    }

    ngx_cpystrn(password, passwd->data, passwd->len + 1);
    ngx_cpystrn(salt, hash->data, hash->len + 1);

    rc = ngx_crypt(r->pool, password, salt, &computed);

    ngx_explicit_memzero(password, passwd->len);

    if (rc != NGX_OK || computed == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "ir_access: the user's password hash is in a format "
                      "this system cannot check");
        return NGX_HTTP_IR_LOGIN_WRONG;
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
        return NGX_HTTP_IR_LOGIN_WRONG;
    }

    return NGX_HTTP_IR_LOGIN_GOOD;
}


#if (NGX_THREADS)

static ngx_int_t
ngx_http_ir_password_post(ngx_http_request_t *r, ngx_str_t *passwd,
    ngx_str_t *hash, ngx_thread_pool_t *pool, ngx_http_ir_password_pt done,
    void *data)
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
    pt->data = data;

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

    /*
     * A pending timer keeps an exiting worker until the thread is done:
     * it leaves once no timers are left that may not be cancelled.
     */

    pt->guard.handler = ngx_http_ir_password_guard;
    pt->guard.data = r->connection;
    pt->guard.log = r->connection->log;
    ngx_add_timer(&pt->guard, NGX_HTTP_IR_PASSWORD_GUARD);

    /* the request may not be freed while the thread uses its memory */
    r->main->blocked++;
    r->aio = 1;

    return NGX_AGAIN;
}


/* in a thread: nothing here may touch nginx's pools or logs */

static void
ngx_http_ir_password_thread(void *data, ngx_log_t *log)
{
    char                         *computed;
    ngx_str_t                     hash;
    ngx_http_ir_password_task_t  *pt;

    pt = data;

    ngx_memzero(&pt->crypt, sizeof(struct crypt_data));

    computed = crypt_r((char *) pt->password, (char *) pt->hash, &pt->crypt);

    hash.data = pt->hash;
    hash.len = ngx_strlen(pt->hash);

    pt->result = (computed && computed[0] != '*')
                 ? ngx_http_ir_password_same((u_char *) computed, &hash)
                 : NGX_HTTP_IR_LOGIN_WRONG;

    ngx_explicit_memzero(pt->password, pt->password_len);
    ngx_explicit_memzero(&pt->crypt, sizeof(struct crypt_data));
}


static void
ngx_http_ir_password_event(ngx_event_t *ev)
{
    ngx_http_ir_password_task_t *pt = ev->data;

    ngx_http_request_t  *r;

    r = pt->request;

    if (pt->guard.timer_set) {
        ngx_del_timer(&pt->guard);
    }

    ngx_http_set_log_request(r->connection->log, r);

    r->main->blocked--;
    r->aio = 0;

    pt->done(pt->data, pt->result);
}


static void
ngx_http_ir_password_guard(ngx_event_t *ev)
{
    ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                  "ir_access: a password check has not finished in %d s",
                  NGX_HTTP_IR_PASSWORD_GUARD / 1000);
}

#endif
