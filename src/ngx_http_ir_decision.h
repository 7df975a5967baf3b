
/*
 * ir-access: the decision, a pure function of the request's facts, the
 * user's record and the location's policy.
 */


#ifndef _NGX_HTTP_IR_DECISION_H_INCLUDED_
#define _NGX_HTTP_IR_DECISION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_record.h"


/* reason codes; their names and statuses are in ngx_http_ir_decision.c */

#define NGX_HTTP_IR_ALLOW                0
#define NGX_HTTP_IR_MAINTENANCE          1
#define NGX_HTTP_IR_CERT_REQUIRED        2
#define NGX_HTTP_IR_BAD_IDENTITY         3
#define NGX_HTTP_IR_UNKNOWN_USER         4
#define NGX_HTTP_IR_BAD_RECORD           5
#define NGX_HTTP_IR_ACCOUNT_LOCKED       6
#define NGX_HTTP_IR_USER_DISABLED        7
#define NGX_HTTP_IR_CERT_MISMATCH        8
#define NGX_HTTP_IR_IP_NOT_ALLOWED       9
#define NGX_HTTP_IR_COUNTRY_NOT_ALLOWED  10
#define NGX_HTTP_IR_PASSWORD_REQUIRED    11
#define NGX_HTTP_IR_BAD_PASSWORD         12
#define NGX_HTTP_IR_TOO_MANY_LOGINS      13
#define NGX_HTTP_IR_ORG_UNKNOWN          14
#define NGX_HTTP_IR_ORG_SUSPENDED        15
#define NGX_HTTP_IR_CONTRACT_NOT_ACTIVE  16
#define NGX_HTTP_IR_ENV_MISMATCH         17
#define NGX_HTTP_IR_SCOPE_DENIED         18
#define NGX_HTTP_IR_PURPOSE_REQUIRED     19
#define NGX_HTTP_IR_PURPOSE_NOT_ALLOWED  20
#define NGX_HTTP_IR_RATE_LIMITED         21
#define NGX_HTTP_IR_DAILY_QUOTA_EXCEEDED 22
#define NGX_HTTP_IR_STORE_UNAVAILABLE    23
#define NGX_HTTP_IR_REASONS              24


/*
 * What the login (step 6) found: the password checked against the hash,
 * and, where failures are counted, the attempt reserved in Redis first.
 */

#define NGX_HTTP_IR_LOGIN_UNCHECKED      0
#define NGX_HTTP_IR_LOGIN_MISSING        1    /* no Basic credentials */
#define NGX_HTTP_IR_LOGIN_WRONG          2
#define NGX_HTTP_IR_LOGIN_GOOD           3
#define NGX_HTTP_IR_LOGIN_NO_HASH        4    /* the record has none */
#define NGX_HTTP_IR_LOGIN_LOCKED         5    /* found locked when reserved */
#define NGX_HTTP_IR_LOGIN_BUSY           6    /* as many attempts in flight
                                                 as may still fail */
#define NGX_HTTP_IR_LOGIN_FAILED         7    /* Redis could not count */


typedef struct {
    ngx_flag_t                     cert_pin;
    ngx_flag_t                     password;
    ngx_flag_t                     geoip;
    ngx_flag_t                     purpose;       /* one must be stated */
    ngx_str_t                      env;
    ngx_array_t                   *scopes;        /* of ngx_str_t */
    ngx_array_t                   *countries;     /* of ngx_str_t */
} ngx_http_ir_policy_t;


typedef struct {
    u_char                        *cert_digest;   /* SHA-256, binary */
    struct sockaddr               *sockaddr;
    ngx_str_t                      country;       /* empty: not known */
    ngx_uint_t                     today;         /* YYYYMMDD */
    ngx_uint_t                     login;         /* NGX_HTTP_IR_LOGIN_* */
    ngx_str_t                      purpose;       /* as the client states */
} ngx_http_ir_facts_t;


/*
 * Why the decision went as it did, for the operator's log line; and what
 * the client is told besides the reason: when to try again (seconds, 0
 * for the reason's own delay), and a maintenance's message and end.
 */

typedef struct {
    ngx_uint_t                     reason;
    const char                    *detail;
    ngx_str_t                      subject;       /* the value at fault */
    const char                    *hint;          /* what to do about it */
    time_t                         retry_after;
    ngx_str_t                      message;
    ngx_str_t                      until;
} ngx_http_ir_verdict_t;


ngx_uint_t ngx_http_ir_decide(ngx_http_ir_policy_t *policy,
    ngx_http_ir_facts_t *facts, ngx_http_ir_record_t *rec,
    ngx_http_ir_verdict_t *v);
ngx_uint_t ngx_http_ir_decide_account(ngx_http_ir_policy_t *policy,
    ngx_http_ir_facts_t *facts, ngx_http_ir_record_t *rec,
    ngx_http_ir_verdict_t *v);
ngx_uint_t ngx_http_ir_decide_login(ngx_http_ir_policy_t *policy,
    ngx_http_ir_facts_t *facts, ngx_http_ir_record_t *rec,
    ngx_http_ir_verdict_t *v);
ngx_uint_t ngx_http_ir_decide_contract(ngx_http_ir_policy_t *policy,
    ngx_http_ir_facts_t *facts, ngx_http_ir_record_t *rec,
    ngx_http_ir_verdict_t *v);
ngx_uint_t ngx_http_ir_deny(ngx_http_ir_verdict_t *v, ngx_uint_t reason,
    const char *detail, ngx_str_t *subject);
void ngx_http_ir_quota_limits(ngx_http_ir_record_t *rec,
    ngx_uint_t defaults[2][2], ngx_uint_t limit[2][2]);
ngx_uint_t ngx_http_ir_quota_spent(ngx_uint_t limit[2][2],
    ngx_uint_t count[2][2], ngx_uint_t *who, ngx_uint_t *period);
ngx_uint_t ngx_http_ir_deny_quota(ngx_http_ir_verdict_t *v, ngx_uint_t who,
    ngx_uint_t period, ngx_str_t *name);

ngx_str_t *ngx_http_ir_reason_name(ngx_uint_t reason);
ngx_uint_t ngx_http_ir_reason_status(ngx_uint_t reason);
ngx_uint_t ngx_http_ir_reason_level(ngx_uint_t reason);
ngx_int_t ngx_http_ir_grant(ngx_http_ir_record_t *rec, ngx_str_t *grant,
    ngx_pool_t *pool);


#endif /* _NGX_HTTP_IR_DECISION_H_INCLUDED_ */
