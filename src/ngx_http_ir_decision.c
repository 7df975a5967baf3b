
/*
 * ir-access: the decision, steps 2 to 9 of SPEC.md.
 *
 * No I/O happens here: the caller brings the record and the request's
 * facts, and the first failing step decides.  Step 1 (the certificate
 * identity) is settled before the record can be fetched at all.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_addr.h"


static ngx_int_t ngx_http_ir_pin_match(ngx_array_t *pins, u_char *digest);
static ngx_int_t ngx_http_ir_contract_dates(ngx_http_ir_org_t *org,
    ngx_uint_t today, ngx_http_ir_verdict_t *v);
static ngx_int_t ngx_http_ir_granted(ngx_http_ir_record_t *rec,
    ngx_str_t *scope);
static ngx_uint_t ngx_http_ir_deny(ngx_http_ir_verdict_t *v,
    ngx_uint_t reason, const char *detail, ngx_str_t *subject);


static ngx_str_t  ngx_http_ir_reasons[] = {
    ngx_null_string,
    ngx_string("cert_required"),
    ngx_string("bad_identity"),
    ngx_string("unknown_user"),
    ngx_string("account_locked"),
    ngx_string("user_disabled"),
    ngx_string("cert_mismatch"),
    ngx_string("ip_not_allowed"),
    ngx_string("country_not_allowed"),
    ngx_string("password_required"),
    ngx_string("bad_password"),
    ngx_string("org_unknown"),
    ngx_string("org_suspended"),
    ngx_string("contract_not_active"),
    ngx_string("env_mismatch"),
    ngx_string("scope_denied"),
    ngx_string("store_unavailable")
};


static ngx_str_t  ngx_http_ir_active = ngx_string("active");
static ngx_str_t  ngx_http_ir_locked = ngx_string("locked");


ngx_uint_t
ngx_http_ir_decide(ngx_http_ir_policy_t *policy, ngx_http_ir_facts_t *facts,
    ngx_http_ir_record_t *rec, ngx_http_ir_verdict_t *v)
{
    ngx_str_t           *scope;
    ngx_uint_t           i;
    ngx_http_ir_user_t  *user;
    ngx_http_ir_org_t   *org;

    user = &rec->user;
    org = &rec->org;

    /* 2: the user record and its status */

    if (!user->found) {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_UNKNOWN_USER,
                                "no user record", NULL);
    }

    if (user->status.data
        && (user->status.len != ngx_http_ir_active.len
            || ngx_strncmp(user->status.data, "active", 6) != 0))
    {
        if (user->status.len == ngx_http_ir_locked.len
            && ngx_strncmp(user->status.data, "locked", 6) == 0)
        {
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
        return ngx_http_ir_deny(v, NGX_HTTP_IR_CERT_MISMATCH,
                                user->cert.data
                                ? "certificate is not among the user's pins"
                                : "user has no \"cert\" field", NULL);
    }

    /* 4: the source address is on the user's allowlist */

    if (ngx_http_ir_addr_match(facts->sockaddr, &user->ips) != NGX_OK) {
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

    if (policy->geoip && org->found && org->countries.data
        && ngx_http_ir_list_has(&org->countries, &facts->country) != NGX_OK)
    {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_COUNTRY_NOT_ALLOWED,
                                "country is not in the organisation's "
                                "\"countries\"", &facts->country);
    }

    /* 6: the password, checked by the caller off the decision */

    if (policy->password) {
        switch (facts->password) {

        case NGX_HTTP_IR_PASSWORD_UNCHECKED:
            return NGX_HTTP_IR_CHECK_PASSWORD;

        case NGX_HTTP_IR_PASSWORD_MISSING:
            return ngx_http_ir_deny(v, NGX_HTTP_IR_PASSWORD_REQUIRED,
                                    "no Basic credentials", NULL);

        case NGX_HTTP_IR_PASSWORD_WRONG:
            return ngx_http_ir_deny(v, NGX_HTTP_IR_BAD_PASSWORD,
                                    "password does not match", NULL);

        default: /* NGX_HTTP_IR_PASSWORD_GOOD */
            break;
        }
    }

    /* 7: the organisation and its contract */

    if (!org->found) {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_ORG_UNKNOWN,
                                user->org.data ? "no record of organisation"
                                               : "user has no \"org\" field",
                                &user->org);
    }

    if (org->status.data
        && (org->status.len != ngx_http_ir_active.len
            || ngx_strncmp(org->status.data, "active", 6) != 0))
    {
        return ngx_http_ir_deny(v, NGX_HTTP_IR_ORG_SUSPENDED,
                                "organisation status is", &org->status);
    }

    if (ngx_http_ir_contract_dates(org, facts->today, v) != NGX_OK) {
        return v->reason;
    }

    /* 8: the environment */

    if (policy->env.len
        && (org->env.data == NULL
            || ngx_http_ir_list_has(&org->env, &policy->env) != NGX_OK))
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

    v->reason = NGX_HTTP_IR_ALLOW;
    v->detail = NULL;
    ngx_str_null(&v->subject);

    return NGX_HTTP_IR_ALLOW;
}


ngx_str_t *
ngx_http_ir_reason_name(ngx_uint_t reason)
{
    if (reason >= NGX_HTTP_IR_REASONS) {
        reason = NGX_HTTP_IR_STORE_UNAVAILABLE;
    }

    return &ngx_http_ir_reasons[reason];
}


/* a strict "YYYY-MM-DD": anything else is a typo, not an open end */

ngx_int_t
ngx_http_ir_parse_date(ngx_str_t *text, ngx_uint_t *date)
{
    u_char      *p;
    ngx_uint_t   i, year, month, day, days;

    static ngx_uint_t  mdays[] = { 31, 29, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31 };

    p = text->data;

    if (text->len != 10 || p[4] != '-' || p[7] != '-') {
        return NGX_ERROR;
    }

    for (i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (p[i] < '0' || p[i] > '9')) {
            return NGX_ERROR;
        }
    }

    year = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10
           + (p[3] - '0');
    month = (p[5] - '0') * 10 + (p[6] - '0');
    day = (p[8] - '0') * 10 + (p[9] - '0');

    if (year < 1900 || month < 1 || month > 12 || day < 1) {
        return NGX_ERROR;
    }

    days = mdays[month - 1];

    if (month == 2
        && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
    {
        days = 28;
    }

    if (day > days) {
        return NGX_ERROR;
    }

    *date = year * 10000 + month * 100 + day;

    return NGX_OK;
}


/* lists in Redis fields are words separated by spaces or commas */

ngx_int_t
ngx_http_ir_list_has(ngx_str_t *list, ngx_str_t *word)
{
    u_char  *p, *last, *start;

    if (word->len == 0 || list->data == NULL) {
        return NGX_DECLINED;
    }

    p = list->data;
    last = p + list->len;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == ',' || *p == '\t')) {
            p++;
        }

        start = p;

        while (p < last && *p != ' ' && *p != ',' && *p != '\t') {
            p++;
        }

        if ((size_t) (p - start) == word->len
            && ngx_strncasecmp(start, word->data, word->len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_ir_list_find(ngx_array_t *list, ngx_str_t *word)
{
    ngx_str_t   *s;
    ngx_uint_t   i;

    s = list->elts;

    for (i = 0; i < list->nelts; i++) {
        if (s[i].len == word->len
            && ngx_strncasecmp(s[i].data, word->data, word->len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * Pins are SHA-256 fingerprints as admins paste them: any case, with or
 * without colons, several separated by spaces or commas for a rollover.
 * They are read into binary digests once, when the record is fetched;
 * anything that is not 64 hex digits is no pin.
 */

ngx_int_t
ngx_http_ir_parse_pins(ngx_str_t *field, ngx_array_t *pins)
{
    u_char      *p, *last, *digest, c;
    ngx_uint_t   n, valid;
    u_char       hex[NGX_HTTP_IR_DIGEST_LEN * 2];

    if (field->data == NULL) {
        return NGX_OK;
    }

    p = field->data;
    last = p + field->len;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == ',' || *p == '\t')) {
            p++;
        }

        n = 0;
        valid = 1;

        for ( /* void */ ; p < last && *p != ' ' && *p != ',' && *p != '\t';
             p++)
        {
            if (*p == ':') {
                continue;
            }

            c = ngx_tolower(*p);

            if (n >= sizeof(hex)
                || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            {
                valid = 0;
                continue;
            }

            hex[n++] = c;
        }

        if (!valid || n != sizeof(hex)) {
            continue;
        }

        digest = ngx_array_push(pins);
        if (digest == NULL) {
            return NGX_ERROR;
        }

        for (n = 0; n < NGX_HTTP_IR_DIGEST_LEN; n++) {
            digest[n] = (u_char) ngx_hextoi(&hex[n * 2], 2);
        }
    }

    return NGX_OK;
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


static ngx_int_t
ngx_http_ir_contract_dates(ngx_http_ir_org_t *org, ngx_uint_t today,
    ngx_http_ir_verdict_t *v)
{
    ngx_uint_t  from, to;

    if (org->valid_from.data) {
        if (ngx_http_ir_parse_date(&org->valid_from, &from) != NGX_OK) {
            ngx_http_ir_deny(v, NGX_HTTP_IR_CONTRACT_NOT_ACTIVE,
                             "organisation's \"valid_from\" is not a "
                             "YYYY-MM-DD date", &org->valid_from);
            return NGX_DECLINED;
        }

        if (today < from) {
            ngx_http_ir_deny(v, NGX_HTTP_IR_CONTRACT_NOT_ACTIVE,
                             "contract starts on", &org->valid_from);
            return NGX_DECLINED;
        }
    }

    if (org->valid_to.data) {
        if (ngx_http_ir_parse_date(&org->valid_to, &to) != NGX_OK) {
            ngx_http_ir_deny(v, NGX_HTTP_IR_CONTRACT_NOT_ACTIVE,
                             "organisation's \"valid_to\" is not a "
                             "YYYY-MM-DD date", &org->valid_to);
            return NGX_DECLINED;
        }

        if (today > to) {
            ngx_http_ir_deny(v, NGX_HTTP_IR_CONTRACT_NOT_ACTIVE,
                             "contract ended on", &org->valid_to);
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
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


static ngx_uint_t
ngx_http_ir_deny(ngx_http_ir_verdict_t *v, ngx_uint_t reason,
    const char *detail, ngx_str_t *subject)
{
    v->reason = reason;
    v->detail = detail;

    if (subject) {
        v->subject = *subject;

    } else {
        ngx_str_null(&v->subject);
    }

    return reason;
}
