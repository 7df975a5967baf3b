
/*
 * ir-access: what the module asks of Redis and how it reads the answers.
 *
 * A record is fetched in one round trip by a script that reads the
 * user's hash and allowlist, and the organisation's hash and scopes that
 * the user's "org" field names.  Each key's size is asked first, so that
 * a hash or a set swollen by a script gone wrong is never read; a key of
 * the wrong type, written by a typo in redis-cli, comes back as its type
 * and is refused here with a log line, never as a script error.
 *
 * A login that counts towards the lockout is reserved before its
 * password is compared, so that parallel guesses on any number of
 * workers and hosts cannot outrun the lock: the failures counted so far
 * and the attempts in flight together never exceed the limit.  A failure
 * is then counted, and the account locked at the limit, atomically, so
 * that it is locked exactly once; a success forgets the failures.
 *
 * Requests allowed under a quota are counted in shared memory and added
 * to Redis in batches, one script call per user or organisation: the
 * minute's and the day's counters grow and their totals come back in the
 * same reply (ngx_http_ir_quota.c).  A maintenance's beginning and end
 * are each announced by the one gateway whose script call changed what
 * Redis remembers of it.
 *
 * Every key and field name comes from ngx_http_ir_schema.h: the scripts
 * get them as KEYS[] and ARGV[].
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/sha.h>

#include "ngx_http_ir_schema.h"
#include "ngx_http_ir_store.h"


/* how long an attempt in flight holds its place if its worker dies, ms */
#define NGX_HTTP_IR_TRY_TTL            60000

/*
 * How long request counters outlive their period, ms: a minute's for
 * another minute, a day's for a day more, whatever the time zone.
 */
#define NGX_HTTP_IR_QUOTA_MINUTE_TTL   120000
#define NGX_HTTP_IR_QUOTA_DAY_TTL      (2 * 86400 * 1000)

/* how much of what Redis says a log line quotes, escaped */
#define NGX_HTTP_IR_ERROR_MAX          256
#define NGX_HTTP_IR_TYPE_MAX           48
#define ngx_http_ir_script(text)       { text, sizeof(text) - 1, { 0 } }

#define ngx_http_ir_str_(n)            #n
#define ngx_http_ir_str(n)             ngx_http_ir_str_(n)


static void ngx_http_ir_store_key(ngx_http_ir_args_t *args, ngx_uint_t i,
    ngx_str_t *prefix, ngx_http_ir_key_e kind, ngx_str_t *name);
static void ngx_http_ir_store_arg(ngx_http_ir_args_t *args,
    const char *value, size_t len);
static void ngx_http_ir_store_number(ngx_http_ir_args_t *args, ngx_uint_t i,
    ngx_uint_t value);
static ngx_int_t ngx_http_ir_store_shape(redisReply *reply,
    const char *shape);
static void ngx_http_ir_store_text(ngx_str_t *text, redisReply *r);
static ngx_int_t ngx_http_ir_store_error(redisReply *reply,
    ngx_str_t *error);
static ngx_int_t ngx_http_ir_store_type(redisReply *type, const char *kind,
    u_char *key, size_t len, ngx_log_t *log);
static ngx_int_t ngx_http_ir_store_record(redisReply **e,
    ngx_http_ir_field_t *known, void *part, ngx_str_t *bad, u_char *key,
    size_t len, ngx_pool_t *pool, ngx_log_t *log);
static ngx_int_t ngx_http_ir_store_hash(redisReply *fields,
    ngx_http_ir_field_t *known, void *part, ngx_str_t *bad, u_char *key,
    size_t len, ngx_pool_t *pool, ngx_log_t *log);
static ngx_int_t ngx_http_ir_store_member(redisReply *members,
    ngx_uint_t *i, ngx_str_t *member);
static ngx_int_t ngx_http_ir_store_ips(redisReply *members,
    ngx_http_ir_user_t *user, u_char *key, size_t len, ngx_pool_t *pool,
    ngx_log_t *log);
static ngx_int_t ngx_http_ir_store_words(redisReply *members,
    ngx_array_t *words, u_char *key, size_t len, ngx_pool_t *pool,
    ngx_log_t *log);


/*
 * KEYS: the user's hash, allowlist and failure counter; ARGV: the head
 * of an organisation's key, the tail of its scopes' key, the bounds on
 * fields, entries, scopes and name length, the name of "org", and the
 * tail of its purposes' key and their bound.
 *
 * Every redis.call() costs Redis about a microsecond, more than the
 * command it runs here, so the script makes few.
 */

static const char  ngx_http_ir_lookup_text[] =
    "local function wrong(key)\n"
    "  return {redis.call('TYPE', key)['ok'], {}}\n"
    "end\n"
    "local function hash(key, limit)\n"
    "  local n = redis.pcall('HLEN', key)\n"
    "  if type(n) == 'table' then return wrong(key) end\n"
    "  if n == 0 then return {'none', {}} end\n"
    "  if n > limit then return {'toolarge', {}} end\n"
    "  return {'hash', redis.call('HGETALL', key)}\n"
    "end\n"
    "local function set(key, limit)\n"
    "  local n = redis.pcall('SCARD', key)\n"
    "  if type(n) == 'table' then return wrong(key) end\n"
    "  if n == 0 then return {'none', {}} end\n"
    "  if n > limit then return {'toolarge', {}} end\n"
    "  return {'set', redis.call('SMEMBERS', key)}\n"
    "end\n"
    "local fields = tonumber(ARGV[3])\n"
    "local user = hash(KEYS[1], fields)\n"
    "local ips = set(KEYS[2], tonumber(ARGV[4]))\n"
    "local org, scopes, fails = {'none', {}}, {'none', {}}, 0\n"
    "local purposes = {'none', {}}\n"
    "if user[1] == 'hash' then\n"
    "  local f = redis.pcall('GET', KEYS[3])\n"
    "  if type(f) == 'table' then fails = 1\n"
    "  elseif f then fails = tonumber(f) or 1 end\n"
    "  local u, o = user[2], nil\n"
    "  for i = 1, #u - 1, 2 do\n"
    "    if u[i] == ARGV[7] then o = u[i + 1] break end\n"
    "  end\n"
    "  if o and #o > 0 and #o <= tonumber(ARGV[6]) then\n"
    "    org = hash(ARGV[1] .. o, fields)\n"
    "    scopes = set(ARGV[1] .. o .. ARGV[2], tonumber(ARGV[5]))\n"
    "    purposes = set(ARGV[1] .. o .. ARGV[8], tonumber(ARGV[9]))\n"
    "  end\n"
    "end\n"
    "return {user[1], user[2], ips[1], ips[2],\n"
    "        org[1], org[2], scopes[1], scopes[2], fails,\n"
    "        purposes[1], purposes[2]}\n";


/*
 * The login scripts share their beginning: a counter that is of the
 * wrong type or no number (an admin's typo) is repaired, as nothing
 * else can be done with it, and one that Lua reads as a number and INCR
 * does not (" 1", "1e0") is written again as INCR reads it, keeping its
 * count; an attempt's place is given back with DEL
 * where it is the last, since a full Redis still takes a DEL, and
 * otherwise with DECR, or else by the counter's expiry; KEYS: the
 * user's hash, failure counter and attempts in flight; ARGV[1] to [3]:
 * the limit, "status" and "active".
 */

#define NGX_HTTP_IR_LOGIN_HEAD                                               \
    "local function count(key)\n"                                            \
    "  local v = redis.pcall('GET', key)\n"                                  \
    "  if not v then return 0 end\n"                                         \
    "  if type(v) == 'string' and string.match(v, '^%d+$') then\n"           \
    "    return tonumber(v)\n"                                               \
    "  end\n"                                                                \
    "  local n = type(v) == 'string' and tonumber(v)\n"                      \
    "  if n and n >= 0 and n < 1e9 then\n"                                   \
    "    n = math.floor(n)\n"                                                \
    "    redis.call('SET', key, string.format('%d', n), 'KEEPTTL')\n"        \
    "    return n\n"                                                         \
    "  end\n"                                                                \
    "  redis.call('DEL', key)\n"                                             \
    "  return 0\n"                                                           \
    "end\n"                                                                  \
    "local function release()\n"                                             \
    "  if count(KEYS[3]) <= 1 then redis.call('DEL', KEYS[3])\n"             \
    "  else redis.pcall('DECR', KEYS[3]) end\n"                              \
    "end\n"                                                                  \
    "local function status()\n"                                              \
    "  local s = redis.pcall('HGET', KEYS[1], ARGV[2])\n"                    \
    "  if type(s) == 'table' then return 'gone' end\n"                       \
    "  if not s then\n"                                                      \
    "    if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end\n"     \
    "    return 'ok'\n"                                                      \
    "  end\n"                                                                \
    "  if s ~= ARGV[3] then return 'locked' end\n"                           \
    "  return 'ok'\n"                                                        \
    "end\n"


/* ARGV[4]: how long an attempt in flight holds its place, ms */

static const char  ngx_http_ir_reserve_text[] =
    NGX_HTTP_IR_LOGIN_HEAD
    "local s = status()\n"
    "if s ~= 'ok' then return {s, 0} end\n"
    "local fails, tries = count(KEYS[2]), count(KEYS[3])\n"
    "if fails + tries >= tonumber(ARGV[1]) then return {'busy', fails} end\n"
    "local n = redis.pcall('INCR', KEYS[3])\n"
    "if type(n) == 'table' then return {'error', n['err']} end\n"
    "redis.call('PEXPIRE', KEYS[3], ARGV[4])\n"
    "return {'ok', fails}\n";


/*
 * ARGV[4]: whether the attempt was reserved, [5]: the window, ms, [6] to
 * [8]: "locked", "locked_at" and the time, [9] and [10]: "lock_reason"
 * and why.  The lock is answered as "lockednow" exactly once.
 */

static const char  ngx_http_ir_fail_text[] =
    NGX_HTTP_IR_LOGIN_HEAD
    "if ARGV[4] == '1' then release() end\n"
    "local s = status()\n"
    "if s ~= 'ok' then return {s, 0} end\n"
    "local n = redis.pcall('INCR', KEYS[2])\n"
    "if type(n) == 'table' then\n"
    "  count(KEYS[2])\n"
    "  n = redis.pcall('INCR', KEYS[2])\n"
    "  if type(n) == 'table' then return {'error', n['err']} end\n"
    "end\n"
    "if n == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end\n"
    "if n < tonumber(ARGV[1]) then return {'ok', n} end\n"
    "local r = redis.pcall('HSET', KEYS[1], ARGV[2], ARGV[6],\n"
    "                      ARGV[7], ARGV[8], ARGV[9], ARGV[10])\n"
    "if type(r) == 'table' then return {'error', r['err']} end\n"
    "redis.call('DEL', KEYS[2])\n"
    "return {'lockednow', n}\n";


/* ARGV[4]: whether the attempt was reserved, [5]: whether to forget */

static const char  ngx_http_ir_pass_text[] =
    NGX_HTTP_IR_LOGIN_HEAD
    "if ARGV[4] == '1' then release() end\n"
    "if ARGV[5] == '1' then redis.call('DEL', KEYS[2]) end\n"
    "return {'ok', 0}\n";


/*
 * An administrator's edit, seen by every host's subscriber, is written
 * into the trail once: the host that first marks the edit (the key, the
 * operation and the content after it, for a moment) writes it.  A
 * deletion from the stream is marked by its key and operation alone.  KEYS:
 * the key edited; ARGV: the operation, the mark's prefix, how long a mark
 * lives (ms), and the bound on what is read.
 */

static const char  ngx_http_ir_edit_text[] =
    "local k, t, c = KEYS[1], redis.call('TYPE', KEYS[1])['ok'], {}\n"
    "local n = tonumber(ARGV[4])\n"
    "if t == 'hash' and redis.call('HLEN', k) <= n then\n"
    "  c = redis.call('HGETALL', k)\n"
    "elseif t == 'set' and redis.call('SCARD', k) <= n then\n"
    "  c = redis.call('SMEMBERS', k)\n"
    "  table.sort(c)\n"
    "end\n"
    "local s = {}\n"
    "for i = 1, #c do s[i] = c[i] end\n"
    "if t == 'hash' then\n"
    "  s = {}\n"
    "  for i = 1, #c - 1, 2 do s[#s + 1] = c[i] .. '=' .. c[i + 1] end\n"
    "  table.sort(s)\n"
    "end\n"
    "local m = ARGV[2] .. redis.sha1hex(k .. '\\0' .. ARGV[1] .. '\\0'\n"
    "                                   .. table.concat(s, '\\0'))\n"
    "local ok = redis.pcall('SET', m, '1', 'NX', 'PX', ARGV[3])\n"
    "if type(ok) ~= 'table' or not ok['ok'] then return {0, t, {}} end\n"
    "return {1, t, c}\n";


/*
 * How many of the "seen" hashes among KEYS name a certificate that
 * expires before ARGV[2] (times in one ISO 8601 format compare as
 * strings); ARGV[1]: "not_after".
 */

static const char  ngx_http_ir_expiring_text[] =
    "local n = 0\n"
    "for _, k in ipairs(KEYS) do\n"
    "  local t = redis.pcall('HGET', k, ARGV[1])\n"
    "  if type(t) == 'string' and t < ARGV[2] then n = n + 1 end\n"
    "end\n"
    "return n\n";


/*
 * KEYS: a minute's and a day's request counters; ARGV: what to add to
 * each, and how long each is kept, ms.  A counter of the wrong type
 * (an admin's typo) is replaced; the totals come back.
 */

static const char  ngx_http_ir_quota_text[] =
    "local function add(key, n, ttl)\n"
    "  local v = redis.pcall('INCRBY', key, n)\n"
    "  if type(v) == 'table' then\n"
    "    redis.call('DEL', key)\n"
    "    v = redis.call('INCRBY', key, n)\n"
    "  end\n"
    "  redis.call('PEXPIRE', key, ttl)\n"
    "  return v\n"
    "end\n"
    "return {add(KEYS[1], ARGV[1], ARGV[3]), add(KEYS[2], ARGV[2], ARGV[4])}\n";


/*
 * KEYS: what Redis remembers of the maintenance last announced; ARGV[1]:
 * the maintenance now in effect, or "" for none.  1 when this call
 * changed it: the caller announces the change.
 */

static const char  ngx_http_ir_announce_text[] =
    "local v = redis.pcall('GET', KEYS[1])\n"
    "if type(v) == 'table' then v = false end\n"
    "if ARGV[1] == '' then\n"
    "  if not v then return 0 end\n"
    "  redis.call('DEL', KEYS[1])\n"
    "  return 1\n"
    "end\n"
    "if v == ARGV[1] then return 0 end\n"
    "redis.call('SET', KEYS[1], ARGV[1])\n"
    "return 1\n";


ngx_http_ir_script_t  ngx_http_ir_script_lookup =
    ngx_http_ir_script(ngx_http_ir_lookup_text);
ngx_http_ir_script_t  ngx_http_ir_script_reserve =
    ngx_http_ir_script(ngx_http_ir_reserve_text);
ngx_http_ir_script_t  ngx_http_ir_script_fail =
    ngx_http_ir_script(ngx_http_ir_fail_text);
ngx_http_ir_script_t  ngx_http_ir_script_pass =
    ngx_http_ir_script(ngx_http_ir_pass_text);
ngx_http_ir_script_t  ngx_http_ir_script_edit =
    ngx_http_ir_script(ngx_http_ir_edit_text);
ngx_http_ir_script_t  ngx_http_ir_script_expiring =
    ngx_http_ir_script(ngx_http_ir_expiring_text);
ngx_http_ir_script_t  ngx_http_ir_script_quota =
    ngx_http_ir_script(ngx_http_ir_quota_text);
ngx_http_ir_script_t  ngx_http_ir_script_announce =
    ngx_http_ir_script(ngx_http_ir_announce_text);


/* EVALSHA names a script by its SHA-1, computed once */

ngx_int_t
ngx_http_ir_store_init(ngx_log_t *log)
{
    ngx_uint_t             i;
    ngx_http_ir_script_t  *s;
    u_char                 md[SHA_DIGEST_LENGTH];

    static ngx_http_ir_script_t  *scripts[] = {
        &ngx_http_ir_script_lookup, &ngx_http_ir_script_reserve,
        &ngx_http_ir_script_fail, &ngx_http_ir_script_pass,
        &ngx_http_ir_script_edit, &ngx_http_ir_script_quota,
        &ngx_http_ir_script_announce
    };

    for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
        s = scripts[i];

        if (SHA1((u_char *) s->text, s->len, md) == NULL) {
            ngx_log_error(NGX_LOG_EMERG, log, 0, "ir_access: SHA1() failed");
            return NGX_ERROR;
        }

        ngx_hex_dump(s->sha1, md, SHA_DIGEST_LENGTH);
    }

    return NGX_OK;
}


void
ngx_http_ir_store_lookup(ngx_http_ir_args_t *args, ngx_str_t *prefix,
    ngx_str_t *name)
{
    u_char  *p;

    args->argc = 0;
    args->nkeys = 3;

    ngx_http_ir_store_key(args, 0, prefix, NGX_HTTP_IR_KEY_USER_HASH, name);
    ngx_http_ir_store_key(args, 1, prefix, NGX_HTTP_IR_KEY_USER_IPS, name);
    ngx_http_ir_store_key(args, 2, prefix, NGX_HTTP_IR_KEY_USER_FAILS, name);

    /* the head of an organisation's key: "<prefix>org:", as keys have it */

    p = ngx_cpymem(args->args[0], prefix->data,
                   ngx_min(prefix->len, NGX_HTTP_IR_PREFIX_MAX));
    p = ngx_cpymem(p, NGX_HTTP_IR_KEY_ORG, sizeof(NGX_HTTP_IR_KEY_ORG) - 1);
    ngx_http_ir_store_arg(args, (char *) args->args[0], p - args->args[0]);

    ngx_http_ir_store_arg(args, NGX_HTTP_IR_KEY_SCOPES,
                          sizeof(NGX_HTTP_IR_KEY_SCOPES) - 1);

#define ngx_http_ir_store_const(n)                                           \
    ngx_http_ir_store_arg(args, ngx_http_ir_str(n),                          \
                          sizeof(ngx_http_ir_str(n)) - 1)

    ngx_http_ir_store_const(NGX_HTTP_IR_FIELDS_MAX);
    ngx_http_ir_store_const(NGX_HTTP_IR_IPS_MAX);
    ngx_http_ir_store_const(NGX_HTTP_IR_SCOPES_MAX);
    ngx_http_ir_store_const(NGX_HTTP_IR_NAME_MAX);

    ngx_http_ir_store_arg(args, NGX_HTTP_IR_FIELD_ORG,
                          sizeof(NGX_HTTP_IR_FIELD_ORG) - 1);

    ngx_http_ir_store_arg(args, NGX_HTTP_IR_KEY_PURPOSES,
                          sizeof(NGX_HTTP_IR_KEY_PURPOSES) - 1);
    ngx_http_ir_store_const(NGX_HTTP_IR_PURPOSES_MAX);
}


/*
 * NGX_OK with the record filled in (keys that are missing or of the
 * wrong type leave their part not found), NGX_ERROR when Redis failed;
 * each is logged.
 */

ngx_int_t
ngx_http_ir_store_lookup_reply(redisReply *reply, ngx_str_t *prefix,
    ngx_str_t *name, ngx_http_ir_record_t *rec, ngx_pool_t *pool,
    ngx_log_t *log)
{
    u_char       *p;
    ngx_int_t     rc;
    ngx_str_t     error;
    redisReply  **e;
    u_char        key[NGX_HTTP_IR_KEY_MAX];
    u_char        text[NGX_HTTP_IR_ERROR_MAX];

    if (ngx_http_ir_record_init(rec, pool) != NGX_OK) {
        return NGX_ERROR;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_http_ir_store_text(&error, reply);

        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "ir_access: Redis failed the lookup of user \"%V\": "
                      "%*s", name,
                      ngx_http_ir_escape(text, text + sizeof(text), &error)
                      - text, text);
        return NGX_ERROR;
    }

    /* each key's type, then what it holds; the counter is at 8 */

    if (ngx_http_ir_store_shape(reply, "tatatataita") != NGX_OK) {
        goto unexpected;
    }

    e = reply->element;

    /* the user */

    p = ngx_http_ir_key(key, prefix, NGX_HTTP_IR_KEY_USER_HASH, name);

    rc = ngx_http_ir_store_record(&e[0], ngx_http_ir_user_fields, &rec->user,
                                  &rec->user.bad, key, p - key, pool, log);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    rec->user.found = (rc == NGX_OK);

    p = ngx_http_ir_key(key, prefix, NGX_HTTP_IR_KEY_USER_IPS, name);

    if (ngx_http_ir_store_type(e[2], "set", key, p - key, log) == NGX_OK
        && ngx_http_ir_store_ips(e[3], &rec->user, key, p - key, pool, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    rec->user.fails = (ngx_uint_t) ngx_max(e[8]->integer, 0);

    /* an "org" that is no name makes the user's record bad when finished */

    if (!rec->user.found || rec->user.bad.data
        || rec->user.org.data == NULL
        || ngx_http_ir_name_valid(&rec->user.org) != NGX_OK)
    {
        goto done;
    }

    /* the user's organisation */

    p = ngx_http_ir_key(key, prefix, NGX_HTTP_IR_KEY_ORG_HASH, &rec->user.org);

    rc = ngx_http_ir_store_record(&e[4], ngx_http_ir_org_fields, &rec->org,
                                  &rec->org.bad, key, p - key, pool, log);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    rec->org.found = (rc == NGX_OK);

    p = ngx_http_ir_key(key, prefix, NGX_HTTP_IR_KEY_ORG_SCOPES,
                        &rec->user.org);

    if (ngx_http_ir_store_type(e[6], "set", key, p - key, log) == NGX_OK
        && ngx_http_ir_store_words(e[7], &rec->org.scopes, key, p - key,
                                   pool, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ngx_http_ir_key(key, prefix, NGX_HTTP_IR_KEY_ORG_PURPOSES,
                        &rec->user.org);

    if (ngx_http_ir_store_type(e[9], "set", key, p - key, log) == NGX_OK
        && ngx_http_ir_store_words(e[10], &rec->org.purposes, key, p - key,
                                   pool, log)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

done:

    if (ngx_http_ir_record_finish(rec, pool) != NGX_OK) {
        return NGX_ERROR;
    }

    if (rec->user.bad.data) {
        p = ngx_http_ir_key(key, prefix, NGX_HTTP_IR_KEY_USER_HASH, name);

        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "ir_access: the record \"%*s\" is unusable: %V; the "
                      "user is denied until it is fixed with redis-cli",
                      p - key, key, &rec->user.bad);
    }

    if (rec->org.bad.data) {
        p = ngx_http_ir_key(key, prefix, NGX_HTTP_IR_KEY_ORG_HASH,
                            &rec->user.org);

        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "ir_access: the record \"%*s\" is unusable: %V; its "
                      "users are denied until it is fixed with redis-cli",
                      p - key, key, &rec->org.bad);
    }

    return NGX_OK;

unexpected:

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "ir_access: unexpected reply from Redis to the lookup of "
                  "user \"%V\"", name);

    return NGX_ERROR;
}


void
ngx_http_ir_store_reserve(ngx_http_ir_args_t *args, ngx_str_t *prefix,
    ngx_str_t *name, ngx_uint_t limit)
{
    args->argc = 0;
    args->nkeys = 3;

    ngx_http_ir_store_key(args, 0, prefix, NGX_HTTP_IR_KEY_USER_HASH, name);
    ngx_http_ir_store_key(args, 1, prefix, NGX_HTTP_IR_KEY_USER_FAILS, name);
    ngx_http_ir_store_key(args, 2, prefix, NGX_HTTP_IR_KEY_USER_TRIES, name);

    ngx_http_ir_store_number(args, 0, limit);
    ngx_http_ir_store_arg(args, NGX_HTTP_IR_FIELD_STATUS,
                          sizeof(NGX_HTTP_IR_FIELD_STATUS) - 1);
    ngx_http_ir_store_arg(args, NGX_HTTP_IR_STATUS_ACTIVE,
                          sizeof(NGX_HTTP_IR_STATUS_ACTIVE) - 1);
    ngx_http_ir_store_number(args, 1, NGX_HTTP_IR_TRY_TTL);
}


void
ngx_http_ir_store_fail(ngx_http_ir_args_t *args, ngx_str_t *prefix,
    ngx_str_t *name, ngx_uint_t reserved, ngx_uint_t limit,
    ngx_msec_t window, ngx_str_t *cause)
{
    u_char  *p;

    ngx_http_ir_store_reserve(args, prefix, name, limit);

    /* the same keys and ARGV[1] to [3]; then the failure's own */

    args->argc = args->nkeys + 3;

    ngx_http_ir_store_arg(args, reserved ? "1" : "0", 1);
    ngx_http_ir_store_number(args, 1, window);
    ngx_http_ir_store_arg(args, NGX_HTTP_IR_STATUS_LOCKED,
                          sizeof(NGX_HTTP_IR_STATUS_LOCKED) - 1);
    ngx_http_ir_store_arg(args, NGX_HTTP_IR_FIELD_LOCKED_AT,
                          sizeof(NGX_HTTP_IR_FIELD_LOCKED_AT) - 1);

    p = ngx_http_ir_time(args->args[2], ngx_time(), 0);
    ngx_http_ir_store_arg(args, (char *) args->args[2], p - args->args[2]);

    ngx_http_ir_store_arg(args, NGX_HTTP_IR_FIELD_LOCK_REASON,
                          sizeof(NGX_HTTP_IR_FIELD_LOCK_REASON) - 1);

    p = ngx_snprintf(args->args[3], NGX_HTTP_IR_ARG_MAX,
                     "%ui failed logins (%V)", limit, cause);
    ngx_http_ir_store_arg(args, (char *) args->args[3], p - args->args[3]);
}


void
ngx_http_ir_store_pass(ngx_http_ir_args_t *args, ngx_str_t *prefix,
    ngx_str_t *name, ngx_uint_t reserved, ngx_uint_t forget)
{
    ngx_http_ir_store_reserve(args, prefix, name, 0);

    args->argc = args->nkeys + 3;

    ngx_http_ir_store_arg(args, reserved ? "1" : "0", 1);
    ngx_http_ir_store_arg(args, forget ? "1" : "0", 1);
}


void
ngx_http_ir_store_login_reply(redisReply *reply,
    ngx_http_ir_login_reply_t *lr)
{
    redisReply  *what, *n;

    lr->result = NGX_HTTP_IR_STORE_ERROR;
    lr->fails = 0;
    if (ngx_http_ir_store_error(reply, &lr->error) != NGX_OK) {
        return;
    }

    if (ngx_http_ir_store_shape(reply, "s.") != NGX_OK) {
        return;
    }

    what = reply->element[0];
    n = reply->element[1];

    if (n->type == REDIS_REPLY_STRING) {
        ngx_http_ir_store_text(&lr->error, n);

    } else if (n->type == REDIS_REPLY_INTEGER) {
        lr->fails = n->integer;

    } else {
        return;
    }

#define ngx_http_ir_store_is(s)                                              \
    (what->len == sizeof(s) - 1 && ngx_strncmp(what->str, s, what->len) == 0)

    if (ngx_http_ir_store_is("ok")) {
        lr->result = NGX_HTTP_IR_STORE_OK;

    } else if (ngx_http_ir_store_is("locked")) {
        lr->result = NGX_HTTP_IR_STORE_LOCKED;

    } else if (ngx_http_ir_store_is("lockednow")) {
        lr->result = NGX_HTTP_IR_STORE_LOCKED_NOW;

    } else if (ngx_http_ir_store_is("busy")) {
        lr->result = NGX_HTTP_IR_STORE_BUSY;

    } else if (ngx_http_ir_store_is("gone")) {
        lr->result = NGX_HTTP_IR_STORE_GONE;
    }

#undef ngx_http_ir_store_is
}


/*
 * A keyspace notification, "pmessage <pattern> <channel> <op>": NGX_OK
 * with the key and the operation, NGX_DONE for the subscription's own
 * confirmation, NGX_DECLINED for anything else.
 */

ngx_int_t
ngx_http_ir_store_notification(redisReply *reply, ngx_str_t *channel,
    ngx_str_t *key, ngx_str_t *op)
{
    redisReply  *kind, *c, *o;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3
        || reply->element[0]->type != REDIS_REPLY_STRING)
    {
        return NGX_DECLINED;
    }

    kind = reply->element[0];

    if (kind->len == 10 && ngx_strncmp(kind->str, "psubscribe", 10) == 0) {
        return NGX_DONE;
    }

    if (reply->elements != 4
        || kind->len != 8 || ngx_strncmp(kind->str, "pmessage", 8) != 0)
    {
        return NGX_DECLINED;
    }

    c = reply->element[2];
    o = reply->element[3];

    if (c->type != REDIS_REPLY_STRING || o->type != REDIS_REPLY_STRING
        || (size_t) c->len <= channel->len
        || ngx_strncmp(c->str, channel->data, channel->len) != 0)
    {
        return NGX_DECLINED;
    }

    key->data = (u_char *) c->str + channel->len;
    key->len = c->len - channel->len;

    ngx_http_ir_store_text(op, o);

    return NGX_OK;
}


/* how long an edit's mark lives, ms: every host's subscriber sees it */
#define NGX_HTTP_IR_EDIT_MARK          5000


/* the key is one of a record's, whose length NGX_HTTP_IR_KEY_MAX bounds */

void
ngx_http_ir_store_edit(ngx_http_ir_args_t *args, ngx_str_t *prefix,
    ngx_str_t *key, ngx_str_t *op)
{
    u_char  *p;

    args->argc = 0;
    args->nkeys = 1;

    /* copied: a call may outlive the notification it came from */

    p = ngx_cpymem(args->keys[0], key->data,
                   ngx_min(key->len, NGX_HTTP_IR_KEY_MAX));
    ngx_http_ir_store_arg(args, (char *) args->keys[0], p - args->keys[0]);

    p = ngx_cpymem(args->args[3], op->data,
                   ngx_min(op->len, NGX_HTTP_IR_ARG_MAX));
    ngx_http_ir_store_arg(args, (char *) args->args[3], p - args->args[3]);

    p = ngx_cpymem(args->args[0], prefix->data,
                   ngx_min(prefix->len, NGX_HTTP_IR_PREFIX_MAX));
    p = ngx_cpymem(p, NGX_HTTP_IR_KEY_SEEN_EDIT,
                   sizeof(NGX_HTTP_IR_KEY_SEEN_EDIT) - 1);
    ngx_http_ir_store_arg(args, (char *) args->args[0], p - args->args[0]);

    ngx_http_ir_store_number(args, 1, NGX_HTTP_IR_EDIT_MARK);
    ngx_http_ir_store_number(args, 2, NGX_HTTP_IR_IPS_MAX);
}


/*
 * NGX_OK with the key's type and its content after the edit (a hash's
 * fields and values, a set's members) when this host is to write the
 * edit; NGX_DECLINED when another host does; NGX_ERROR for a reply that
 * is none of these.
 */

ngx_int_t
ngx_http_ir_store_edit_reply(redisReply *reply, ngx_str_t *type,
    redisReply **content)
{
    if (ngx_http_ir_store_shape(reply, "ita") != NGX_OK) {
        return NGX_ERROR;
    }

    if (reply->element[0]->integer != 1) {
        return NGX_DECLINED;
    }

    ngx_http_ir_store_text(type, reply->element[1]);

    *content = reply->element[2];

    return NGX_OK;
}


/* "SCAN" answers the next cursor and a batch of keys */

ngx_int_t
ngx_http_ir_store_scan_reply(redisReply *reply, ngx_str_t *cursor,
    redisReply **keys)
{
    ngx_uint_t  i;

    if (ngx_http_ir_store_shape(reply, "sa") != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; i < reply->element[1]->elements; i++) {
        if (reply->element[1]->element[i]->type != REDIS_REPLY_STRING) {
            return NGX_ERROR;
        }
    }

    ngx_http_ir_store_text(cursor, reply->element[0]);

    *keys = reply->element[1];

    return NGX_OK;
}


/*
 * A batch's counts of one user or organisation: "minute" (YYYYMMDDHHMM,
 * UTC) and "day" (YYYYMMDD) name the counters.
 */

void
ngx_http_ir_store_quota(ngx_http_ir_args_t *args, ngx_str_t *prefix,
    ngx_uint_t who, ngx_str_t *name, ngx_uint_t minute, ngx_uint_t day,
    ngx_uint_t in_minute, ngx_uint_t in_day)
{
    u_char  *p;

    args->argc = 0;
    args->nkeys = 2;

    p = ngx_http_ir_key_quota(args->keys[0], prefix, who, name,
                              NGX_HTTP_IR_QUOTA_MINUTE, minute);
    ngx_http_ir_store_arg(args, (char *) args->keys[0], p - args->keys[0]);

    p = ngx_http_ir_key_quota(args->keys[1], prefix, who, name,
                              NGX_HTTP_IR_QUOTA_DAY, day);
    ngx_http_ir_store_arg(args, (char *) args->keys[1], p - args->keys[1]);

    ngx_http_ir_store_number(args, 0, in_minute);
    ngx_http_ir_store_number(args, 1, in_day);
    ngx_http_ir_store_number(args, 2, NGX_HTTP_IR_QUOTA_MINUTE_TTL);
    ngx_http_ir_store_number(args, 3, NGX_HTTP_IR_QUOTA_DAY_TTL);
}


/* NGX_OK with the minute's and the day's totals, NGX_ERROR otherwise */

ngx_int_t
ngx_http_ir_store_quota_reply(redisReply *reply, ngx_uint_t *minute_total,
    ngx_uint_t *day_total, ngx_str_t *error)
{
    redisReply  *m, *d;

    if (ngx_http_ir_store_error(reply, error) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_ir_store_shape(reply, "ii") != NGX_OK) {
        return NGX_ERROR;
    }

    m = reply->element[0];
    d = reply->element[1];

    if (m->integer < 0 || d->integer < 0) {
        return NGX_ERROR;
    }

    *minute_total = (ngx_uint_t) m->integer;
    *day_total = (ngx_uint_t) d->integer;

    return NGX_OK;
}


/* "SET key value NX": NGX_OK when set, NGX_DECLINED when it was there */

ngx_int_t
ngx_http_ir_store_set_reply(redisReply *reply, ngx_str_t *error)
{
    if (ngx_http_ir_store_error(reply, error) != NGX_OK) {
        return NGX_ERROR;
    }

    if (reply->type == REDIS_REPLY_NIL) {
        return NGX_DECLINED;
    }

    if (reply->type == REDIS_REPLY_STATUS
        && reply->len == 2 && ngx_strncmp(reply->str, "OK", 2) == 0)
    {
        return NGX_OK;
    }

    return NGX_ERROR;
}


/*
 * "HMGET <prefix>maintenance env until message": NGX_OK with the fields
 * (data == NULL for those not there, as for no key), NGX_ERROR with what
 * Redis said otherwise, a key of the wrong type included.
 */

ngx_int_t
ngx_http_ir_store_maintenance_reply(redisReply *reply, ngx_str_t *env,
    ngx_str_t *until, ngx_str_t *message, ngx_str_t *error)
{
    ngx_str_t   *field[3];
    ngx_uint_t   i;
    redisReply  *e;

    if (ngx_http_ir_store_error(reply, error) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_ir_store_shape(reply, "nnn") != NGX_OK) {
        return NGX_ERROR;
    }

    field[0] = env;
    field[1] = until;
    field[2] = message;

    for (i = 0; i < 3; i++) {
        e = reply->element[i];

        if (e->type == REDIS_REPLY_NIL) {
            ngx_str_null(field[i]);

        } else {
            ngx_http_ir_store_text(field[i], e);
        }
    }

    return NGX_OK;
}


/*
 * The maintenance in effect, "<until> <env>" (until in seconds since the
 * epoch), or none where "env" is NULL.
 */

void
ngx_http_ir_store_announce(ngx_http_ir_args_t *args, ngx_str_t *prefix,
    time_t until, ngx_str_t *env)
{
    u_char     *p;
    ngx_str_t   none;

    args->argc = 0;
    args->nkeys = 1;

    ngx_str_set(&none, "");

    ngx_http_ir_store_key(args, 0, prefix,
                          NGX_HTTP_IR_KEY_MAINTENANCE_ANNOUNCED, &none);

    if (env == NULL) {
        ngx_http_ir_store_arg(args, "", 0);
        return;
    }

    p = ngx_snprintf(args->args[0], NGX_HTTP_IR_ARG_MAX, "%T %V", until, env);
    ngx_http_ir_store_arg(args, (char *) args->args[0], p - args->args[0]);
}


/* NGX_OK when this call changed what Redis remembers, NGX_DECLINED not */

ngx_int_t
ngx_http_ir_store_announce_reply(redisReply *reply, ngx_str_t *error)
{
    if (ngx_http_ir_store_error(reply, error) != NGX_OK) {
        return NGX_ERROR;
    }

    if (reply->type != REDIS_REPLY_INTEGER) {
        return NGX_ERROR;
    }

    return (reply->integer == 1) ? NGX_OK : NGX_DECLINED;
}


static void
ngx_http_ir_store_key(ngx_http_ir_args_t *args, ngx_uint_t i,
    ngx_str_t *prefix, ngx_http_ir_key_e kind, ngx_str_t *name)
{
    u_char  *p;

    p = ngx_http_ir_key(args->keys[i], prefix, kind, name);

    ngx_http_ir_store_arg(args, (char *) args->keys[i], p - args->keys[i]);
}


static void
ngx_http_ir_store_arg(ngx_http_ir_args_t *args, const char *value,
    size_t len)
{
    args->argv[args->argc] = value;
    args->argvlen[args->argc++] = len;
}


static void
ngx_http_ir_store_number(ngx_http_ir_args_t *args, ngx_uint_t i,
    ngx_uint_t value)
{
    u_char  *p;

    p = ngx_sprintf(args->args[i], "%ui", value);

    ngx_http_ir_store_arg(args, (char *) args->args[i], p - args->args[i]);
}


/*
 * NGX_OK where the reply is an array of as many elements as "shape" has
 * letters, each of the type its letter says: "i" an integer, "s" a
 * string, "t" a string or a status (a key's type), "n" a string or nil,
 * "a" an array, "." anything.
 */

static ngx_int_t
ngx_http_ir_store_shape(redisReply *reply, const char *shape)
{
    int          type;
    size_t       i;
    ngx_uint_t   fits;

    if (reply->type != REDIS_REPLY_ARRAY
        || reply->elements != ngx_strlen(shape))
    {
        return NGX_ERROR;
    }

    for (i = 0; i < reply->elements; i++) {
        type = reply->element[i]->type;

        switch (shape[i]) {

        case 'i':
            fits = (type == REDIS_REPLY_INTEGER);
            break;

        case 's':
            fits = (type == REDIS_REPLY_STRING);
            break;

        case 't':
            fits = (type == REDIS_REPLY_STRING || type == REDIS_REPLY_STATUS);
            break;

        case 'n':
            fits = (type == REDIS_REPLY_STRING || type == REDIS_REPLY_NIL);
            break;

        case 'a':
            fits = (type == REDIS_REPLY_ARRAY);
            break;

        default: /* '.' */
            fits = 1;
        }

        if (!fits) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* a string's, a status's or an error's bytes, as long as the reply lives */

static void
ngx_http_ir_store_text(ngx_str_t *text, redisReply *r)
{
    text->data = (u_char *) r->str;
    text->len = r->len;
}


/* a set's next member from "*i" on; a member that is no string is skipped */

static ngx_int_t
ngx_http_ir_store_member(redisReply *members, ngx_uint_t *i,
    ngx_str_t *member)
{
    redisReply  *m;

    while (*i < members->elements) {
        m = members->element[(*i)++];

        if (m->type == REDIS_REPLY_STRING) {
            ngx_http_ir_store_text(member, m);
            return NGX_OK;
        }
    }

    return NGX_DONE;
}


/*
 * What a reply that is not the one expected is said to be: Redis's own
 * words where it answered an error, and NGX_ERROR then.
 */

static ngx_int_t
ngx_http_ir_store_error(redisReply *reply, ngx_str_t *error)
{
    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_http_ir_store_text(error, reply);
        return NGX_ERROR;
    }

    ngx_str_set(error, "unexpected reply");

    return NGX_OK;
}


/*
 * An error that passes: a script or a load that keeps Redis busy, a
 * failover under way.  The same command succeeds later; any other error
 * (out of memory, no permission, a key of the wrong type) would only be
 * answered again.
 */

ngx_uint_t
ngx_http_ir_store_passing(redisReply *reply)
{
    size_t       len;
    ngx_uint_t   i;

    static ngx_str_t  passing[] = {
        ngx_string("BUSY"),
        ngx_string("LOADING"),
        ngx_string("READONLY"),
        ngx_string("MASTERDOWN"),
        ngx_string("TRYAGAIN")
    };

    if (reply->type != REDIS_REPLY_ERROR) {
        return 0;
    }

    for (i = 0; i < sizeof(passing) / sizeof(ngx_str_t); i++) {
        len = passing[i].len;

        if ((size_t) reply->len >= len
            && ngx_strncmp(reply->str, passing[i].data, len) == 0
            && ((size_t) reply->len == len || reply->str[len] == ' '))
        {
            return 1;
        }
    }

    return 0;
}


/* NGX_OK where the key holds what it should; a missing key is silent */

static ngx_int_t
ngx_http_ir_store_type(redisReply *type, const char *kind, u_char *key,
    size_t len, ngx_log_t *log)
{
    size_t     n;
    ngx_str_t  name;
    u_char     text[NGX_HTTP_IR_TYPE_MAX];

    n = ngx_strlen(kind);

    if ((size_t) type->len == n && ngx_strncmp(type->str, kind, n) == 0) {
        return NGX_OK;
    }

    if (type->len == 4 && ngx_strncmp(type->str, "none", 4) == 0) {
        return NGX_DECLINED;
    }

    if (type->len == 8 && ngx_strncmp(type->str, "toolarge", 8) == 0) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "ir_access: Redis key \"%*s\" is too large to be a "
                      "record and is refused", len, key);
        return NGX_DECLINED;
    }

    ngx_http_ir_store_text(&name, type);

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "ir_access: Redis key \"%*s\" is a %*s, not a %s, and is "
                  "ignored; fix it with redis-cli", len, key,
                  ngx_http_ir_escape(text, text + sizeof(text), &name) - text,
                  text, kind);

    return NGX_DECLINED;
}


/*
 * A record's hash, from its key's type and its fields: NGX_OK where the
 * key is one (a hash with too many fields is a bad record), NGX_DECLINED
 * where it is not.
 */

static ngx_int_t
ngx_http_ir_store_record(redisReply **e, ngx_http_ir_field_t *known,
    void *part, ngx_str_t *bad, u_char *key, size_t len, ngx_pool_t *pool,
    ngx_log_t *log)
{
    if (ngx_http_ir_store_type(e[0], "hash", key, len, log) == NGX_OK) {
        return ngx_http_ir_store_hash(e[1], known, part, bad, key, len, pool,
                                      log);
    }

    if (e[0]->len == 8 && ngx_strncmp(e[0]->str, "toolarge", 8) == 0) {
        return ngx_http_ir_record_bad(bad, pool, "it has more than %d fields",
                                      NGX_HTTP_IR_FIELDS_MAX);
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_ir_store_hash(redisReply *fields, ngx_http_ir_field_t *known,
    void *part, ngx_str_t *bad, u_char *key, size_t len, ngx_pool_t *pool,
    ngx_log_t *log)
{
    ngx_str_t    field, value;
    ngx_uint_t   i;
    redisReply  *f, *v;

    for (i = 0; i + 1 < fields->elements; i += 2) {
        f = fields->element[i];
        v = fields->element[i + 1];

        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            continue;
        }

        ngx_http_ir_store_text(&field, f);
        ngx_http_ir_store_text(&value, v);

        if (ngx_http_ir_record_field(known, part, bad, &field, &value, pool)
            == NGX_ERROR)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_store_ips(redisReply *members, ngx_http_ir_user_t *user,
    u_char *key, size_t len, ngx_pool_t *pool, ngx_log_t *log)
{
    ngx_int_t   rc;
    ngx_str_t   entry;
    ngx_uint_t  i, wide;

    wide = 0;
    i = 0;

    while (ngx_http_ir_store_member(members, &i, &entry) == NGX_OK) {

        rc = ngx_http_ir_record_ip(user, &entry, pool);

        if (rc == NGX_DONE) {
            wide = 1;

        } else if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }
    }

    if (user->ips_invalid.data) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "ir_access: Redis key \"%*s\" has entries that are "
                      "not an IP address or a CIDR prefix without host bits, "
                      "ignored: %V", len, key, &user->ips_invalid);
    }

    if (wide) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "ir_access: Redis key \"%*s\" allows every address "
                      "(\"0.0.0.0/0\" or \"::/0\")", len, key);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_store_words(redisReply *members, ngx_array_t *words,
    u_char *key, size_t len, ngx_pool_t *pool, ngx_log_t *log)
{
    ngx_int_t   rc;
    ngx_str_t   word;
    ngx_uint_t  i;

    i = 0;

    while (ngx_http_ir_store_member(members, &i, &word) == NGX_OK) {

        rc = ngx_http_ir_record_word(words, &word, pool);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "ir_access: ignoring a member of Redis key "
                          "\"%*s\" that is empty, over-long or holds a "
                          "control character", len, key);
        }
    }

    return NGX_OK;
}
