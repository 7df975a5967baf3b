
/*
 * ir-access: the decision, steps 2 to 11 of the reference.
 *
 * No I/O happens here: the caller brings the record, parsed and checked
 * when it was fetched, and the request's facts, and the first failing
 * step decides.  The steps come in parts, because the login between
 * them needs a hash computed and, where failures are counted, Redis
 * asked: the account (steps 2 to 5), the login (6) from what the caller
 * found, the contract (7 to 10), and the quotas (11) against the counts
 * the caller keeps.  Step 1, the certificate identity, is settled before
 * the record can be fetched at all, and an announced maintenance before
 * that.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_addr.h"
#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_schema.h"


typedef struct {
    ngx_str_t                      name;
    ngx_uint_t                     status;
    ngx_uint_t                     level;         /* of its log line */
} ngx_http_ir_reason_t;


static ngx_int_t ngx_http_ir_pin_match(ngx_array_t *pins, u_char *digest);
static ngx_int_t ngx_http_ir_granted(ngx_http_ir_record_t *rec,
    ngx_str_t *scope);
static ngx_int_t ngx_http_ir_is(ngx_str_t *value, ngx_str_t *word);


/*
 * Indexed by the reason codes, in the order of the steps that give them:
 * what a client sees, and how loud its log line is.  A denial is logged
 * at "ir_access_log_level" ("error"); a missing certificate or password,
 * the first answer of every login as nginx's auth_basic has it, and a
 * maintenance and a spent quota, which refuse many requests for one cause
 * that is logged once, at "info".
 */

static ngx_http_ir_reason_t  ngx_http_ir_reasons[] = {
    { ngx_string(""), 200, NGX_LOG_ERR },
    { ngx_string("maintenance"), 503, NGX_LOG_INFO },
    { ngx_string("cert_required"), 403, NGX_LOG_INFO },
    { ngx_string("bad_identity"), 403, NGX_LOG_ERR },
    { ngx_string("unknown_user"), 403, NGX_LOG_ERR },
    { ngx_string("bad_record"), 403, NGX_LOG_ERR },
    { ngx_string("account_locked"), 403, NGX_LOG_ERR },
    { ngx_string("user_disabled"), 403, NGX_LOG_ERR },
    { ngx_string("cert_mismatch"), 403, NGX_LOG_ERR },
    { ngx_string("ip_not_allowed"), 403, NGX_LOG_ERR },
    { ngx_string("country_not_allowed"), 403, NGX_LOG_ERR },
    { ngx_string("password_required"), 401, NGX_LOG_INFO },
    { ngx_string("bad_password"), 401, NGX_LOG_ERR },
    { ngx_string("too_many_logins"), 429, NGX_LOG_ERR },
    { ngx_string("org_unknown"), 403, NGX_LOG_ERR },
    { ngx_string("org_suspended"), 403, NGX_LOG_ERR },
    { ngx_string("contract_not_active"), 403, NGX_LOG_ERR },
    { ngx_string("env_mismatch"), 403, NGX_LOG_ERR },
    { ngx_string("scope_denied"), 403, NGX_LOG_ERR },
    { ngx_string("purpose_required"), 403, NGX_LOG_ERR },
    { ngx_string("purpose_not_allowed"), 403, NGX_LOG_ERR },
    { ngx_string("rate_limited"), 429, NGX_LOG_INFO },
    { ngx_string("daily_quota_exceeded"), 429, NGX_LOG_INFO },
    { ngx_string("store_unavailable"), 503, NGX_LOG_ERR }
};


static ngx_str_t  ngx_http_ir_active = ngx_string(NGX_HTTP_IR_STATUS_ACTIVE);
static ngx_str_t  ngx_http_ir_locked = ngx_string(NGX_HTTP_IR_STATUS_LOCKED);


/* all the steps, for a caller that knows the login's outcome already */

ngx_uint_t
ngx_http_ir_decide(ngx_http_ir_policy_t *policy, ngx_http_ir_facts_t *facts,
    ngx_http_ir_record_t *rec, ngx_http_ir_verdict_t *v)
{
    if (ngx_http_ir_decide_account(policy, facts, rec, v) != NGX_HTTP_IR_ALLOW
        || ngx_http_ir_decide_login(policy, facts, rec, v)
           != NGX_HTTP_IR_ALLOW)
    {
        return v->reason;
    }

    return ngx_http_ir_decide_contract(policy, facts, rec, v);
}


/* steps 2 to 5: the user, the certificate, the address and the country */

ngx_uint_t
ngx_http_ir_decide_account(ngx_http_ir_policy_t *policy,
    ngx_http_ir_facts_t *facts, ngx_http_ir_record_t *rec,
    ngx_http_ir_verdict_t *v)
{
    ngx_http_ir_user_t  *user;

    user = &rec->user;

    /* 2: the user record and its status */

    if (!user->found) {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_UNKNOWN_USER,
                                "no user record", NULL);
    }

    if (user->bad.data) {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_BAD_RECORD,
                                "user record is unusable", &user->bad);
    }

    if (user->status.data
        && !ngx_http_ir_is(&user->status, &ngx_http_ir_active))
    {
        if (ngx_http_ir_is(&user->status, &ngx_http_ir_locked)) {
            return ngx_http_ir_deny(v, NGX_HTTP_IR_ACCOUNT_LOCKED,
                                    "account is locked", NULL);
        }

        return ngx_http_ir_deny(v, NGX_HTTP_IR_USER_DISABLED,
                                "user status is", &user->status);
    }

    /* 3: the certificate is one of the user's */

    if (policy->cert_pin
        && ngx_http_ir_pin_match(&user->pins, facts->cert_digest) != NGX_OK)
    {
        if (user->cert.data == NULL) {
            return ngx_http_ir_deny(v, NGX_HTTP_IR_CERT_MISMATCH,
                                    "user has no \"cert\" field", NULL);
        }

        if (user->pin_invalid.data) {
            ngx_http_ir_deny(v, NGX_HTTP_IR_CERT_MISMATCH,
                             "certificate is not among the user's pins, "
                             "and a word of \"cert\" is ignored",
                             &user->pin_invalid);
            v->hint = ngx_http_ir_pin_hint(&user->pin_invalid);
            return v->reason;
        }

        return ngx_http_ir_deny(v, NGX_HTTP_IR_CERT_MISMATCH,
                                "certificate is not among the user's pins",
                                NULL);
    }

    /* 4: the source address is on the user's allowlist */

    if (ngx_http_ir_addr_match(facts->sockaddr, &user->ips) != NGX_OK) {

        if (user->ips_invalid.data) {
            return ngx_http_ir_deny(v, NGX_HTTP_IR_IP_NOT_ALLOWED,
                                    user->ips.nelts
                                    ? "address is not on the user's "
                                      "allowlist, whose invalid entries "
                                      "are ignored"
                                    : "user's allowlist has only invalid "
                                      "entries, ignored",
                                    &user->ips_invalid);
        }

        return ngx_http_ir_deny(v, NGX_HTTP_IR_IP_NOT_ALLOWED,
                                user->ips.nelts
                                ? "address is not on the user's allowlist"
                                : "user's allowlist is empty", NULL);
    }

    /* 5: the country, where a database and a country list apply */

    if (policy->countries
        && ngx_http_ir_list_find(policy->countries, &facts->country)
           != NGX_OK)
    {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_COUNTRY_NOT_ALLOWED,
                                "country is not in \"ir_access_countries\"",
                                &facts->country);
    }

    if (policy->geoip && rec->org.found && rec->org.countries.data
        && ngx_http_ir_list_has(&rec->org.countries, &facts->country)
           != NGX_OK)
    {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_COUNTRY_NOT_ALLOWED,
                                "country is not in the organisation's "
                                "\"countries\"", &facts->country);
    }

    return ngx_http_ir_deny(v, NGX_HTTP_IR_ALLOW, NULL, NULL);
}


/* step 6: what the caller found when it checked the password */

ngx_uint_t
ngx_http_ir_decide_login(ngx_http_ir_policy_t *policy,
    ngx_http_ir_facts_t *facts, ngx_http_ir_record_t *rec,
    ngx_http_ir_verdict_t *v)
{
    if (!policy->password) {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_ALLOW, NULL, NULL);
    }

    switch (facts->login) {

    case NGX_HTTP_IR_LOGIN_GOOD:
        return ngx_http_ir_deny(v, NGX_HTTP_IR_ALLOW, NULL, NULL);

    case NGX_HTTP_IR_LOGIN_MISSING:
        return ngx_http_ir_deny(v, NGX_HTTP_IR_PASSWORD_REQUIRED,
                                "no Basic credentials", NULL);

    case NGX_HTTP_IR_LOGIN_WRONG:
        return ngx_http_ir_deny(v, NGX_HTTP_IR_BAD_PASSWORD,
                                "password does not match", NULL);

    case NGX_HTTP_IR_LOGIN_NO_HASH:
        if (rec->user.hash == NGX_HTTP_IR_HASH_UNKNOWN) {
            return ngx_http_ir_deny(v, NGX_HTTP_IR_BAD_RECORD,
                                    "user's \"password\" is no hash the "
                                    "module knows ({PLAIN}, {SHA}, {SSHA}, "
                                    "$apr1$, or one of crypt(): bcrypt, "
                                    "yescrypt, sha512-crypt, ...)", NULL);
        }

        return ngx_http_ir_deny(v, NGX_HTTP_IR_BAD_PASSWORD,
                                "user has no \"password\" field, but "
                                "\"ir_access_password\" is on", NULL);

    case NGX_HTTP_IR_LOGIN_LOCKED:
        return ngx_http_ir_deny(v, NGX_HTTP_IR_ACCOUNT_LOCKED,
                                "account is locked", NULL);

    case NGX_HTTP_IR_LOGIN_BUSY:
        return ngx_http_ir_deny(v, NGX_HTTP_IR_TOO_MANY_LOGINS,
                                "as many password attempts are in flight as "
                                "may still fail before the lock", NULL);

    case NGX_HTTP_IR_LOGIN_FAILED:
        return ngx_http_ir_deny(v, NGX_HTTP_IR_STORE_UNAVAILABLE,
                                "Redis could not count the login attempt",
                                NULL);

    default: /* NGX_HTTP_IR_LOGIN_UNCHECKED: never allowed */
        return ngx_http_ir_deny(v, NGX_HTTP_IR_BAD_PASSWORD,
                                "password was not checked", NULL);
    }
}


/*
 * Steps 7 to 10: the organisation, its contract, environment, scopes,
 * and the purpose the client states
 */

ngx_uint_t
ngx_http_ir_decide_contract(ngx_http_ir_policy_t *policy,
    ngx_http_ir_facts_t *facts, ngx_http_ir_record_t *rec,
    ngx_http_ir_verdict_t *v)
{
    ngx_str_t          *scope;
    ngx_uint_t          i;
    ngx_http_ir_org_t  *org;

    org = &rec->org;

    /* 7: the organisation and its contract */

    if (!org->found) {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_ORG_UNKNOWN,
                                rec->user.org.data
                                ? "no record of organisation"
                                : "user has no \"org\" field",
                                &rec->user.org);
    }

    if (org->bad.data) {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_BAD_RECORD,
                                "organisation record is unusable", &org->bad);
    }

    if (org->status.data
        && !ngx_http_ir_is(&org->status, &ngx_http_ir_active))
    {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_ORG_SUSPENDED,
                                "organisation status is", &org->status);
    }

    if (org->from == NGX_HTTP_IR_DATE_INVALID) {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_CONTRACT_NOT_ACTIVE,
                                "organisation's \"valid_from\" is not a "
                                "YYYY-MM-DD date", &org->valid_from);
    }

    if (org->to == NGX_HTTP_IR_DATE_INVALID) {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_CONTRACT_NOT_ACTIVE,
                                "organisation's \"valid_to\" is not a "
                                "YYYY-MM-DD date", &org->valid_to);
    }

    if (org->from && facts->today < org->from) {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_CONTRACT_NOT_ACTIVE,
                                "contract starts on", &org->valid_from);
    }

    if (org->to && facts->today > org->to) {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_CONTRACT_NOT_ACTIVE,
                                "contract ended on", &org->valid_to);
    }

    /* 8: the environment */

    if (policy->env.len
        && ngx_http_ir_list_has(&org->env, &policy->env) != NGX_OK)
    {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_ENV_MISMATCH,
                                org->env.data
                                ? "organisation's \"env\" does not list"
                                : "organisation has no \"env\" field",
                                &policy->env);
    }

    /* 9: the scopes */

    if (policy->scopes) {
        scope = policy->scopes->elts;

        for (i = 0; i < policy->scopes->nelts; i++) {
            if (ngx_http_ir_granted(rec, &scope[i]) != NGX_OK) {
                return ngx_http_ir_deny(v, NGX_HTTP_IR_SCOPE_DENIED,
                                        "scope is not granted", &scope[i]);
            }
        }
    }

    /* 10: the purpose, one of the contract's */

    if (policy->purpose) {

        if (facts->purpose.len == 0) {
            return ngx_http_ir_deny(v, NGX_HTTP_IR_PURPOSE_REQUIRED,
                                    "no purpose stated", NULL);
        }

        if (ngx_http_ir_list_find(&org->purposes, &facts->purpose)
            != NGX_OK)
        {
            return ngx_http_ir_deny(v, NGX_HTTP_IR_PURPOSE_NOT_ALLOWED,
                                    org->purposes.nelts
                                    ? "purpose is not among the "
                                      "organisation's \"purposes\""
                                    : "organisation has no \"purposes\"",
                                    &facts->purpose);
        }
    }

    return ngx_http_ir_deny(v, NGX_HTTP_IR_ALLOW, NULL, NULL);
}


/*
 * Step 11, once every other step allowed: the quotas.  Each limit is the
 * record's own, else the place's default (NGX_HTTP_IR_QUOTA_UNSET: none),
 * limit[who][period].
 */

void
ngx_http_ir_quota_limits(ngx_http_ir_record_t *rec, ngx_uint_t defaults[2][2],
    ngx_uint_t limit[2][2])
{
    ngx_uint_t  who, period;

    limit[NGX_HTTP_IR_QUOTA_USER][NGX_HTTP_IR_QUOTA_MINUTE] =
                                                     rec->user.rate_limit;
    limit[NGX_HTTP_IR_QUOTA_USER][NGX_HTTP_IR_QUOTA_DAY] =
                                                     rec->user.daily_limit;
    limit[NGX_HTTP_IR_QUOTA_ORG][NGX_HTTP_IR_QUOTA_MINUTE] =
                                                     rec->org.rate_limit;
    limit[NGX_HTTP_IR_QUOTA_ORG][NGX_HTTP_IR_QUOTA_DAY] =
                                                     rec->org.daily_limit;

    for (who = 0; who < 2; who++) {
        for (period = 0; period < 2; period++) {
            if (limit[who][period] == NGX_HTTP_IR_QUOTA_UNSET) {
                limit[who][period] = defaults[who][period];
            }
        }
    }
}


/*
 * The requests counted so far, count[who][period], against the limits:
 * the first quota spent refuses, the day's before the minute's (a spent
 * day makes the minute's moot).  NGX_HTTP_IR_ALLOW, or the reason, with
 * whose quota it is and of which period.
 */

ngx_uint_t
ngx_http_ir_quota_spent(ngx_uint_t limit[2][2], ngx_uint_t count[2][2],
    ngx_uint_t *who, ngx_uint_t *period)
{
    ngx_uint_t  i, w, p;

    static ngx_uint_t  order[4][2] = {
        { NGX_HTTP_IR_QUOTA_USER, NGX_HTTP_IR_QUOTA_DAY },
        { NGX_HTTP_IR_QUOTA_ORG, NGX_HTTP_IR_QUOTA_DAY },
        { NGX_HTTP_IR_QUOTA_USER, NGX_HTTP_IR_QUOTA_MINUTE },
        { NGX_HTTP_IR_QUOTA_ORG, NGX_HTTP_IR_QUOTA_MINUTE }
    };

    for (i = 0; i < 4; i++) {
        w = order[i][0];
        p = order[i][1];

        if (limit[w][p] == NGX_HTTP_IR_QUOTA_UNSET
            || count[w][p] < limit[w][p])
        {
            continue;
        }

        *who = w;
        *period = p;

        return (p == NGX_HTTP_IR_QUOTA_DAY) ? NGX_HTTP_IR_DAILY_QUOTA_EXCEEDED
                                            : NGX_HTTP_IR_RATE_LIMITED;
    }

    return NGX_HTTP_IR_ALLOW;
}


/* a quota spent, as the client and the log are told: "name" is whose */

ngx_uint_t
ngx_http_ir_deny_quota(ngx_http_ir_verdict_t *v, ngx_uint_t who,
    ngx_uint_t period, ngx_str_t *name)
{
    static const char  *details[2][2] = {
        { "user's rate quota is spent for this minute",
          "user's daily quota is spent for today" },
        { "organisation's rate quota is spent for this minute",
          "organisation's daily quota is spent for today" }
    };

    return ngx_http_ir_deny(v, (period == NGX_HTTP_IR_QUOTA_DAY)
                               ? NGX_HTTP_IR_DAILY_QUOTA_EXCEEDED
                               : NGX_HTTP_IR_RATE_LIMITED,
                            details[who][period], name);
}


ngx_uint_t
ngx_http_ir_deny(ngx_http_ir_verdict_t *v, ngx_uint_t reason,
    const char *detail, ngx_str_t *subject)
{
    v->reason = reason;
    v->detail = detail;
    v->hint = NULL;
    v->retry_after = 0;
    ngx_str_null(&v->message);
    ngx_str_null(&v->until);

    if (subject && subject->data) {
        v->subject = *subject;

    } else {
        ngx_str_null(&v->subject);
    }

    return reason;
}


/* anything out of range fails closed, as store_unavailable */

ngx_str_t *
ngx_http_ir_reason_name(ngx_uint_t reason)
{
    if (reason >= NGX_HTTP_IR_REASONS) {
        reason = NGX_HTTP_IR_STORE_UNAVAILABLE;
    }

    return &ngx_http_ir_reasons[reason].name;
}


ngx_uint_t
ngx_http_ir_reason_status(ngx_uint_t reason)
{
    if (reason >= NGX_HTTP_IR_REASONS) {
        reason = NGX_HTTP_IR_STORE_UNAVAILABLE;
    }

    return ngx_http_ir_reasons[reason].status;
}


ngx_uint_t
ngx_http_ir_reason_level(ngx_uint_t reason)
{
    if (reason >= NGX_HTTP_IR_REASONS) {
        reason = NGX_HTTP_IR_STORE_UNAVAILABLE;
    }

    return ngx_http_ir_reasons[reason].level;
}


static ngx_int_t
ngx_http_ir_pin_match(ngx_array_t *pins, u_char *digest)
{
    u_char      *pin;
    ngx_uint_t   i;

    pin = pins->elts;

    for (i = 0; i < pins->nelts; i++) {
        if (ngx_memcmp(pin + i * NGX_HTTP_IR_DIGEST_LEN, digest,
                       NGX_HTTP_IR_DIGEST_LEN)
            == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * The effective grant: the organisation's scopes, narrowed to the user's
 * "scopes" field where the user has one.
 */

static ngx_int_t
ngx_http_ir_granted(ngx_http_ir_record_t *rec, ngx_str_t *scope)
{
    if (rec->user.scopes.data
        && ngx_http_ir_list_has(&rec->user.scopes, scope) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return ngx_http_ir_list_find(&rec->org.scopes, scope);
}


/* the grant as words, for $ir_access_scopes: built only when it is used */

ngx_int_t
ngx_http_ir_grant(ngx_http_ir_record_t *rec, ngx_str_t *grant,
    ngx_pool_t *pool)
{
    u_char      *p;
    size_t       len;
    ngx_str_t   *scope;
    ngx_uint_t   i;

    scope = rec->org.scopes.elts;
    len = 0;

    for (i = 0; i < rec->org.scopes.nelts; i++) {
        len += scope[i].len + 1;
    }

    if (len == 0) {
        ngx_str_set(grant, "");
        return NGX_OK;
    }

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    grant->data = p;

    for (i = 0; i < rec->org.scopes.nelts; i++) {

        if (ngx_http_ir_granted(rec, &scope[i]) != NGX_OK) {
            continue;
        }

        if (p != grant->data) {
            *p++ = ' ';
        }

        p = ngx_cpymem(p, scope[i].data, scope[i].len);
    }

    grant->len = p - grant->data;

    return NGX_OK;
}


/* a status is exactly the word, not a word that starts with it */

static ngx_int_t
ngx_http_ir_is(ngx_str_t *value, ngx_str_t *word)
{
    return value->len == word->len
           && ngx_strncmp(value->data, word->data, word->len) == 0;
}
