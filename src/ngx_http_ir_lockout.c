
/*
 * ir-access: failed logins counted in Redis, and the lock they lead to.
 *
 * One server-side script counts a failure and, at the limit, locks the
 * account and deletes the counter, atomically: however many workers and
 * nginx hosts count failures of one user at once, the account is locked
 * exactly once, and a failure that arrives after the lock (from a request
 * that read the record before it) is not counted, so no counter is left
 * behind.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_lockout.h"
#include "ngx_http_ir_metrics.h"


static void ngx_http_ir_lockout_reply(void *data, redisReply *reply);
static void ngx_http_ir_lockout_reset_reply(void *data, redisReply *reply);


static const char  ngx_http_ir_lockout_script[] =
    "local user, fails = KEYS[1], KEYS[2]\n"
    "if redis.call('TYPE', user)['ok'] ~= 'hash' then return {0, 0} end\n"
    "local status = redis.call('HGET', user, 'status')\n"
    "if status and status ~= 'active' then return {0, -1} end\n"
    "local n = redis.pcall('INCR', fails)\n"
    "if type(n) == 'table' then\n"
    "  redis.call('DEL', fails)\n"
    "  n = redis.call('INCR', fails)\n"
    "end\n"
    "if n == 1 then redis.call('PEXPIRE', fails, ARGV[2]) end\n"
    "if n >= tonumber(ARGV[1]) then\n"
    "  redis.call('HSET', user, 'status', 'locked',\n"
    "             'locked_at', ARGV[3], 'lock_reason', ARGV[4])\n"
    "  redis.call('DEL', fails)\n"
    "  if ARGV[5] ~= '' then\n"
    "    local add = {ARGV[5]}\n"
    "    if ARGV[6] ~= '' then\n"
    "      add = {ARGV[5], 'MAXLEN', '~', ARGV[6]}\n"
    "    end\n"
    "    table.insert(add, '*')\n"
    "    for _, v in ipairs({'event', 'account_locked', 'user', ARGV[7],\n"
    "                        'time', ARGV[3], 'reason', ARGV[4]}) do\n"
    "      table.insert(add, v)\n"
    "    end\n"
    "    redis.call('XADD', unpack(add))\n"
    "  end\n"
    "  return {1, n}\n"
    "end\n"
    "return {0, n}\n";


/*
 * Counts one failed login.  The script is sent whole: failures are rare
 * next to lookups, and so EVAL spares them the NOSCRIPT round trip.
 * NULL when Redis cannot take it; the caller logs that it went uncounted.
 */

ngx_http_ir_lockout_t *
ngx_http_ir_lockout_count(ngx_http_ir_redis_t *redis, ngx_str_t *prefix,
    ngx_str_t *user, ngx_http_ir_lockout_conf_t *lcf,
    ngx_http_ir_audit_conf_t *acf, const char *cause,
    void (*resume)(void *waiter), void *waiter, ngx_log_t *log)
{
    u_char                 *p;
    size_t                  len[12];
    ngx_tm_t                tm;
    const char             *argv[12];
    ngx_http_ir_lockout_t  *lo;
    u_char                  fails[136], limit[NGX_INT_T_LEN];
    u_char                  window[NGX_INT_T_LEN], at[32], reason[128];

    if (user->len > sizeof(lo->user) || prefix->len > 48) {
        return NULL;
    }

    lo = ngx_alloc(sizeof(ngx_http_ir_lockout_t), log);
    if (lo == NULL) {
        return NULL;
    }

    lo->resume = resume;
    lo->waiter = waiter;
    lo->log = ngx_cycle->log;
    lo->user_len = user->len;
    ngx_memcpy(lo->user, user->data, user->len);

    p = ngx_sprintf(lo->key, "%Vuser:%V", prefix, user);
    lo->key_len = p - lo->key;
    len[3] = lo->key_len;
    p = ngx_sprintf(fails, "%Vuser:%V:fails", prefix, user);
    len[4] = p - fails;
    p = ngx_sprintf(limit, "%ui", lcf->limit);
    len[5] = p - limit;
    p = ngx_sprintf(window, "%M", lcf->window);
    len[6] = p - window;

    ngx_gmtime(ngx_time(), &tm);
    p = ngx_sprintf(at, "%4d-%02d-%02dT%02d:%02d:%02dZ",
                    tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                    tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);
    len[7] = p - at;
    p = ngx_snprintf(reason, sizeof(reason), "%ui failed logins (%s)",
                     lcf->limit, cause);
    len[8] = p - reason;

    argv[0] = "EVAL";
    len[0] = 4;
    argv[1] = ngx_http_ir_lockout_script;
    len[1] = sizeof(ngx_http_ir_lockout_script) - 1;
    argv[2] = "2";
    len[2] = 1;
    argv[3] = (const char *) lo->key;
    argv[4] = (const char *) fails;
    argv[5] = (const char *) limit;
    argv[6] = (const char *) window;
    argv[7] = (const char *) at;
    argv[8] = (const char *) reason;

    /* the lock goes into the audit trail in the same script */
    argv[9] = acf ? (const char *) acf->stream.data : "";
    len[9] = acf ? acf->stream.len : 0;
    argv[10] = acf ? (const char *) acf->maxlen.data : "";
    len[10] = acf ? acf->maxlen.len : 0;
    argv[11] = (const char *) lo->user;
    len[11] = lo->user_len;

    if (ngx_http_ir_redis_command(redis, ngx_http_ir_lockout_reply, lo, 12,
                                  argv, len)
        == NULL)
    {
        ngx_free(lo);
        return NULL;
    }

    return lo;
}


/* a successful login forgets the failures before it */

void
ngx_http_ir_lockout_reset(ngx_http_ir_redis_t *redis, ngx_str_t *prefix,
    ngx_str_t *user, ngx_log_t *log)
{
    u_char      *p;
    size_t       len[2];
    const char  *argv[2];
    u_char       fails[136];

    if (user->len > 64 || prefix->len > 48) {
        return;
    }

    p = ngx_sprintf(fails, "%Vuser:%V:fails", prefix, user);

    argv[0] = "DEL";
    len[0] = 3;
    argv[1] = (const char *) fails;
    len[1] = p - fails;

    (void) ngx_http_ir_redis_command(redis, ngx_http_ir_lockout_reset_reply,
                                     ngx_cycle->log, 2, argv, len);
}


static void
ngx_http_ir_lockout_reply(void *data, redisReply *reply)
{
    ngx_http_ir_lockout_t *lo = data;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_INTEGER
        || reply->element[1]->type != REDIS_REPLY_INTEGER)
    {
        ngx_log_error(NGX_LOG_ERR, lo->log, 0,
                      "ir_access: a failed login of user \"%*s\" was not "
                      "counted: %s", lo->user_len, lo->user,
                      reply == NULL ? "Redis is unavailable"
                      : reply->type == REDIS_REPLY_ERROR ? reply->str
                      : "unexpected reply");

    } else if (reply->element[0]->integer == 1) {
        ngx_http_ir_metric_inc(locks);

        ngx_log_error(NGX_LOG_WARN, lo->log, 0,
                      "ir_access: user \"%*s\" locked after %L failed "
                      "logins; unlock with: redis-cli HSET %*s status active",
                      lo->user_len, lo->user, reply->element[1]->integer,
                      lo->key_len, lo->key);

    } else {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, lo->log, 0,
                       "ir_access: failed logins of \"%*s\": %L",
                       lo->user_len, lo->user, reply->element[1]->integer);
    }

    if (lo->waiter) {
        lo->resume(lo->waiter);
    }

    ngx_free(lo);
}


static void
ngx_http_ir_lockout_reset_reply(void *data, redisReply *reply)
{
    ngx_log_t *log = data;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "ir_access: could not reset a failed-login counter");
    }
}
