
/*
 * ir-access: one request's way through the decision.
 */


#ifndef _NGX_HTTP_IR_REQUEST_H_INCLUDED_
#define _NGX_HTTP_IR_REQUEST_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_access.h"
#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_lockout.h"
#include "ngx_http_ir_lookup.h"
#include "ngx_http_ir_password.h"
#include "ngx_http_ir_response.h"


/* where a request is in the decision; the steps run in this order */

typedef enum {
    NGX_HTTP_IR_CHECK_MAINTENANCE = 0,  /* the service may be closed */
    NGX_HTTP_IR_IDENTIFY,           /* the certificate: step 1 */
    NGX_HTTP_IR_LOOK_UP,            /* the record, from the cache or Redis */
    NGX_HTTP_IR_CHECK_ACCOUNT,      /* steps 2 to 5 */
    NGX_HTTP_IR_READ_PASSWORD,      /* step 6: the Basic credentials */
    NGX_HTTP_IR_RESERVE_LOGIN,      /* the attempt reserved in Redis */
    NGX_HTTP_IR_COMPARE_PASSWORD,   /* the hash, maybe in a thread */
    NGX_HTTP_IR_SETTLE_LOGIN,       /* the failure counted, or forgotten */
    NGX_HTTP_IR_CHECK_CONTRACT,     /* steps 7 to 9 */
    NGX_HTTP_IR_COUNT_QUOTA,        /* allowed: counted, or over a quota */
    NGX_HTTP_IR_DECIDED
} ngx_http_ir_state_e;


/* how the record's lookup stands */

typedef enum {
    NGX_HTTP_IR_FETCH_NONE = 0,
    NGX_HTTP_IR_FETCH_LANDED,
    NGX_HTTP_IR_FETCH_FAILED
} ngx_http_ir_fetch_e;


/* what a request needs only while it waits, allocated when it first does */

typedef struct {
    ngx_event_t                    timer;         /* Redis's timeout */
    ngx_event_t                    poll;          /* look again, shortly */
    ngx_event_t                    resume;
    ngx_msec_t                     poll_delay;
    ngx_msec_t                     busy_since;    /* no place to reserve */
    ngx_uint_t                     polled;        /* asked again since */
    ngx_http_ir_waiter_t           waiter;        /* on a lookup */
    ngx_http_ir_login_t           *login;         /* a login's call */
} ngx_http_ir_wait_t;


typedef struct {
    ngx_http_request_t            *request;
    ngx_http_ir_loc_conf_t        *lcf;           /* decided under these */
    ngx_uint_t                     counted;       /* under a quota, once */
    ngx_http_ir_state_e            state;
    ngx_http_ir_fetch_e            fetch;
    ngx_http_ir_wait_t            *wait;

    ngx_http_ir_record_t           record;
    ngx_http_ir_facts_t            facts;
    ngx_http_ir_verdict_t          verdict;
    ngx_http_ir_answer_t           answer;
    ngx_int_t                      rc;            /* for the phase engine */
    ngx_msec_t                     seen;          /* as the cache had it */

    ngx_str_t                      passwd;
    u_char                         mac[NGX_HTTP_IR_MAC_LEN];

    /* what the variables show */
    ngx_str_t                      user;
    ngx_str_t                      org;
    ngx_str_t                      unit;
    ngx_str_t                      contract;
    ngx_str_t                      scopes;
    ngx_str_t                      country;
    ngx_str_t                      decision;
    ngx_str_t                      reason;
    ngx_str_t                      cert_sha256;
    ngx_str_t                      cert_not_after;
    ngx_str_t                      purpose;
    ngx_str_t                      case_ref;
    ngx_str_t                      request_id;

    unsigned                       waiting:1;
    unsigned                       dry_run:1;
    unsigned                       stale:1;
    unsigned                       remember:1;    /* the MAC, once good */
    unsigned                       reserve:1;     /* the login counts */
    unsigned                       reserved:1;
    unsigned                       count:1;       /* a failure to count */
    unsigned                       audited:1;
} ngx_http_ir_ctx_t;


ngx_int_t ngx_http_ir_request_handler(ngx_http_request_t *r);
ngx_http_ir_ctx_t *ngx_http_ir_request_ctx(ngx_http_request_t *r);
void ngx_http_ir_request_log(ngx_http_request_t *r);


#endif /* _NGX_HTTP_IR_REQUEST_H_INCLUDED_ */
