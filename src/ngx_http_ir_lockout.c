
/*
 * ir-access: failed logins counted in Redis, and the lock they lead to.
 *
 * A login that counts is reserved before its password is compared, its
 * failure counted (and the account locked at the limit) or its success
 * recorded after: the scripts are in ngx_http_ir_store.c.  A lock is
 * logged with the command that undoes it, counted, and written into the
 * audit trail by the one worker whose failure made it.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_lockout.h"
#include "ngx_http_ir_metrics.h"


static ngx_http_ir_login_t *ngx_http_ir_lockout_login(const char *what,
    ngx_str_t *prefix, ngx_str_t *user, ngx_http_ir_login_pt handler,
    void *data, ngx_log_t *log);
static ngx_http_ir_login_t *ngx_http_ir_lockout_send(
    ngx_http_ir_redis_t *redis, ngx_http_ir_script_t *script,
    ngx_http_ir_args_t *args, ngx_http_ir_login_t *login);
static void ngx_http_ir_lockout_replied(void *data, redisReply *reply);
static void ngx_http_ir_lockout_read(ngx_http_ir_login_t *login,
    redisReply *reply, ngx_http_ir_login_reply_t *lr);


ngx_http_ir_login_t *
ngx_http_ir_lockout_reserve(ngx_http_ir_redis_t *redis, ngx_str_t *prefix,
    ngx_str_t *user, ngx_uint_t limit, ngx_http_ir_login_pt handler,
    void *data, ngx_log_t *log)
{
    ngx_http_ir_args_t    args;
    ngx_http_ir_login_t  *login;

    login = ngx_http_ir_lockout_login("reserve", prefix, user, handler, data,
                                      log);

    if (login) {
        ngx_http_ir_store_reserve(&args, prefix, &login->user, limit);
        login = ngx_http_ir_lockout_send(redis, &ngx_http_ir_script_reserve,
                                         &args, login);
    }

    return login;
}


/*
 * A failed login: "reserved" when it was reserved; without a handler the
 * caller does not wait for it.
 */

ngx_http_ir_login_t *
ngx_http_ir_lockout_fail(ngx_http_ir_redis_t *redis, ngx_str_t *prefix,
    ngx_str_t *user, ngx_http_ir_lockout_conf_t *lcf, ngx_uint_t reserved,
    ngx_str_t *cause, ngx_http_ir_audit_conf_t *acf,
    ngx_http_ir_login_pt handler, void *data, ngx_log_t *log)
{
    ngx_http_ir_args_t    args;
    ngx_http_ir_login_t  *login;

    login = ngx_http_ir_lockout_login("count", prefix, user, handler, data,
                                      log);
    if (login == NULL) {
        return NULL;
    }

    login->audit = acf;

    ngx_http_ir_store_fail(&args, prefix, &login->user, reserved, lcf->limit,
                           lcf->window, cause);

    /* the last argument is the lock's reason, for the trail */

    login->reason.len = ngx_min(args.argvlen[args.argc - 1],
                                NGX_HTTP_IR_ARG_MAX);
    login->reason.data = ngx_cpymem(login->reason_data,
                                    args.argv[args.argc - 1],
                                    login->reason.len)
                         - login->reason.len;

    return ngx_http_ir_lockout_send(redis, &ngx_http_ir_script_fail, &args,
                                    login);
}


/*
 * A good login frees its place and, with "forget", forgets the failures
 * before it; an attempt whose client went away frees its place only.
 */

void
ngx_http_ir_lockout_pass(ngx_http_ir_redis_t *redis, ngx_str_t *prefix,
    ngx_str_t *user, ngx_uint_t reserved, ngx_uint_t forget, ngx_log_t *log)
{
    ngx_http_ir_args_t    args;
    ngx_http_ir_login_t  *login;

    login = ngx_http_ir_lockout_login("reset", prefix, user, NULL, NULL,
                                      log);
    if (login == NULL) {
        return;
    }

    ngx_http_ir_store_pass(&args, prefix, &login->user, reserved, forget);

    if (ngx_http_ir_lockout_send(redis, &ngx_http_ir_script_pass, &args,
                                 login)
        == NULL)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "ir_access: the failed logins of user \"%V\" were not "
                      "reset: Redis is unavailable", user);
    }
}


static ngx_http_ir_login_t *
ngx_http_ir_lockout_send(ngx_http_ir_redis_t *redis,
    ngx_http_ir_script_t *script, ngx_http_ir_args_t *args,
    ngx_http_ir_login_t *login)
{
    if (ngx_http_ir_redis_eval(redis, script, args,
                               ngx_http_ir_lockout_replied, login)
        == NULL)
    {
        ngx_free(login);
        return NULL;
    }

    return login;
}


static ngx_http_ir_login_t *
ngx_http_ir_lockout_login(const char *what, ngx_str_t *prefix,
    ngx_str_t *user, ngx_http_ir_login_pt handler, void *data,
    ngx_log_t *log)
{
    u_char               *p;
    ngx_http_ir_login_t  *login;

    if (user->len > NGX_HTTP_IR_NAME_MAX) {
        return NULL;
    }

    login = ngx_alloc(sizeof(ngx_http_ir_login_t), log);
    if (login == NULL) {
        return NULL;
    }

    login->what = what;
    login->handler = handler;
    login->data = data;
    login->audit = NULL;

    /* replies may come after the request, so the cycle's log */
    login->log = ngx_cycle->log;

    login->user.data = login->user_data;
    login->user.len = user->len;
    ngx_memcpy(login->user_data, user->data, user->len);

    p = ngx_http_ir_key(login->key_data, prefix, NGX_HTTP_IR_KEY_USER_HASH,
                        user);
    login->key.data = login->key_data;
    login->key.len = p - login->key_data;

    return login;
}


/* every login script's reply: a lock is logged, counted and audited */

static void
ngx_http_ir_lockout_replied(void *data, redisReply *reply)
{
    ngx_http_ir_login_t *login = data;

    ngx_keyval_t                f[2];
    ngx_http_ir_login_reply_t   lr;

    ngx_http_ir_lockout_read(login, reply, &lr);

    if (lr.result == NGX_HTTP_IR_STORE_LOCKED_NOW) {
        ngx_http_ir_metric_inc(locks);

        ngx_log_error(NGX_LOG_ERR, login->log, 0,
                      "ir_access: user \"%V\" locked after %i failed "
                      "logins; unlock with: redis-cli HSET %V status active",
                      &login->user, lr.fails, &login->key);

        if (login->audit) {
            ngx_str_set(&f[0].key, "user");
            f[0].value = login->user;
            ngx_str_set(&f[1].key, "reason");
            f[1].value = login->reason;

            ngx_http_ir_audit_event(login->audit, "account_locked", f, 2);
        }
    }

    if (login->data) {
        login->handler(login->data, lr.result);
    }

    ngx_free(login);
}


/*
 * What a login's script answered; where Redis would not count, the login
 * is refused, and the log says why.
 */

static void
ngx_http_ir_lockout_read(ngx_http_ir_login_t *login, redisReply *reply,
    ngx_http_ir_login_reply_t *lr)
{
    if (reply == NULL) {
        lr->result = NGX_HTTP_IR_STORE_ERROR;
        ngx_str_set(&lr->error, "Redis is unavailable");

    } else {
        ngx_http_ir_store_login_reply(reply, lr);
    }

    if (lr->result != NGX_HTTP_IR_STORE_ERROR) {
        return;
    }

    ngx_log_error(NGX_LOG_ERR, login->log, 0,
                  "ir_access: Redis did not %s a login of user \"%V\": %*s; "
                  "logins that count towards the lockout are refused "
                  "until it does (check its memory: maxmemory, "
                  "\"INFO memory\")", login->what, &login->user,
                  ngx_min(lr->error.len, 256), lr->error.data);
}
