
/*
 * ir-access: the decision, a pure function of the request's facts, the
 * user's record and the location's policy.
 */


#ifndef _NGX_HTTP_IR_DECISION_H_INCLUDED_
#define _NGX_HTTP_IR_DECISION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_IR_DIGEST_LEN           32


/* reason codes, in the order of SPEC.md's steps */

#define NGX_HTTP_IR_ALLOW                0
#define NGX_HTTP_IR_CERT_REQUIRED        1
#define NGX_HTTP_IR_BAD_IDENTITY         2
#define NGX_HTTP_IR_UNKNOWN_USER         3
#define NGX_HTTP_IR_ACCOUNT_LOCKED       4
#define NGX_HTTP_IR_USER_DISABLED        5
#define NGX_HTTP_IR_CERT_MISMATCH        6
#define NGX_HTTP_IR_IP_NOT_ALLOWED       7
#define NGX_HTTP_IR_COUNTRY_NOT_ALLOWED  8
#define NGX_HTTP_IR_PASSWORD_REQUIRED    9
#define NGX_HTTP_IR_BAD_PASSWORD         10
#define NGX_HTTP_IR_ORG_UNKNOWN          11
#define NGX_HTTP_IR_ORG_SUSPENDED        12
#define NGX_HTTP_IR_CONTRACT_NOT_ACTIVE  13
#define NGX_HTTP_IR_ENV_MISMATCH         14
#define NGX_HTTP_IR_SCOPE_DENIED         15
#define NGX_HTTP_IR_STORE_UNAVAILABLE    16
#define NGX_HTTP_IR_REASONS              17

/* not a reason: the decision needs the password checked to go on */
#define NGX_HTTP_IR_CHECK_PASSWORD       100


/* what a password check found */
#define NGX_HTTP_IR_PASSWORD_UNCHECKED   0
#define NGX_HTTP_IR_PASSWORD_MISSING     1
#define NGX_HTTP_IR_PASSWORD_WRONG       2
#define NGX_HTTP_IR_PASSWORD_GOOD        3


/* a field absent from a hash has data == NULL; an empty one len == 0 */

typedef struct {
    unsigned                       found:1;
    ngx_str_t                      org;
    ngx_str_t                      status;
    ngx_str_t                      cert;
    ngx_str_t                      password;
    ngx_str_t                      unit;
    ngx_str_t                      scopes;
    ngx_array_t                    ips;           /* of ngx_cidr_t */
    ngx_array_t                    pins;          /* of SHA-256 digests */
    ngx_uint_t                     fails;         /* failed logins */
} ngx_http_ir_user_t;


typedef struct {
    unsigned                       found:1;
    ngx_str_t                      status;
    ngx_str_t                      name;
    ngx_str_t                      contract;
    ngx_str_t                      env;
    ngx_str_t                      valid_from;
    ngx_str_t                      valid_to;
    ngx_str_t                      countries;
    ngx_array_t                    scopes;        /* of ngx_str_t */
} ngx_http_ir_org_t;


typedef struct {
    ngx_http_ir_user_t             user;
    ngx_http_ir_org_t              org;
} ngx_http_ir_record_t;


typedef struct {
    ngx_flag_t                     cert_pin;
    ngx_flag_t                     password;
    ngx_flag_t                     geoip;
    ngx_str_t                      env;
    ngx_array_t                   *scopes;        /* of ngx_str_t */
    ngx_array_t                   *countries;     /* of ngx_str_t */
} ngx_http_ir_policy_t;


typedef struct {
    u_char                        *cert_digest;   /* SHA-256, binary */
    struct sockaddr               *sockaddr;
    ngx_str_t                      country;       /* empty: not known */
    ngx_uint_t                     today;         /* YYYYMMDD */
    ngx_uint_t                     password;
} ngx_http_ir_facts_t;


/* why the decision went as it did, for the operator's log line */

typedef struct {
    ngx_uint_t                     reason;
    const char                    *detail;
    ngx_str_t                      subject;       /* the value at fault */
} ngx_http_ir_verdict_t;


ngx_uint_t ngx_http_ir_decide(ngx_http_ir_policy_t *policy,
    ngx_http_ir_facts_t *facts, ngx_http_ir_record_t *rec,
    ngx_http_ir_verdict_t *v);
ngx_str_t *ngx_http_ir_reason_name(ngx_uint_t reason);
ngx_int_t ngx_http_ir_parse_date(ngx_str_t *text, ngx_uint_t *date);
ngx_int_t ngx_http_ir_list_has(ngx_str_t *list, ngx_str_t *word);
ngx_int_t ngx_http_ir_list_find(ngx_array_t *list, ngx_str_t *word);
ngx_int_t ngx_http_ir_parse_pins(ngx_str_t *field, ngx_array_t *pins);
ngx_int_t ngx_http_ir_grant(ngx_http_ir_record_t *rec, ngx_str_t *grant,
    ngx_pool_t *pool);


#endif /* _NGX_HTTP_IR_DECISION_H_INCLUDED_ */
