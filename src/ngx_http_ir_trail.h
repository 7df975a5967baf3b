
/*
 * ir-access: the audit trail's entries: their fields, in a fixed order,
 * and the chain that links each writer's entries.
 */


#ifndef _NGX_HTTP_IR_TRAIL_H_INCLUDED_
#define _NGX_HTTP_IR_TRAIL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_IR_TRAIL_FIELDS       32
#define NGX_HTTP_IR_DIGEST_HEX         64      /* SHA-256, in hex */

/* what a "prev" says at the start of a chain */
#define NGX_HTTP_IR_TRAIL_START                                              \
    "0000000000000000000000000000000000000000000000000000000000000000"


/* an entry being made: its fields in the order the stream gets them */

typedef struct {
    ngx_keyval_t                   fields[NGX_HTTP_IR_TRAIL_FIELDS];
    ngx_uint_t                     n;
} ngx_http_ir_trail_entry_t;


/* a decision's facts, from which its entry is made */

typedef struct {
    time_t                         sec;
    ngx_msec_t                     msec;
    ngx_str_t                      request_id;
    ngx_str_t                      mode;
    ngx_str_t                      server;
    ngx_str_t                      user;
    ngx_str_t                      org;
    ngx_str_t                      unit;
    ngx_str_t                      contract;
    ngx_str_t                      env;
    ngx_str_t                      ip;
    ngx_str_t                      country;
    ngx_str_t                      cert;
    ngx_str_t                      method;
    ngx_str_t                      uri;
    size_t                         uri_max;
    ngx_str_t                      scope;
    ngx_str_t                      purpose;
    ngx_str_t                      case_ref;
    ngx_str_t                      subject;
    ngx_str_t                      decision;
    ngx_str_t                      reason;
    ngx_uint_t                     status;
} ngx_http_ir_trail_decision_t;


/* a writer's chain: one per worker start */

typedef struct {
    ngx_str_t                      id;
    ngx_uint_t                     seq;           /* the last entry's */
    u_char                         prev[NGX_HTTP_IR_DIGEST_HEX];
    u_char                         id_data[NGX_MAXHOSTNAMELEN + 64];
} ngx_http_ir_trail_chain_t;


void ngx_http_ir_trail_chain_init(ngx_http_ir_trail_chain_t *chain,
    ngx_str_t *host, ngx_pid_t pid, time_t sec, ngx_msec_t msec);
ngx_int_t ngx_http_ir_trail_decision(ngx_http_ir_trail_entry_t *e,
    ngx_http_ir_trail_decision_t *d, ngx_str_t *host, u_char *buf,
    size_t size);
ngx_int_t ngx_http_ir_trail_event(ngx_http_ir_trail_entry_t *e,
    const char *event, time_t sec, ngx_msec_t msec, ngx_str_t *host,
    u_char *buf, size_t size);
ngx_int_t ngx_http_ir_trail_add(ngx_http_ir_trail_entry_t *e,
    const char *name, ngx_str_t *value);
ngx_int_t ngx_http_ir_trail_link(ngx_http_ir_trail_entry_t *e,
    ngx_http_ir_trail_chain_t *chain, u_char *buf);
ngx_int_t ngx_http_ir_trail_digest(ngx_keyval_t *fields, ngx_uint_t n,
    u_char *hex);
u_char *ngx_http_ir_json_string(u_char *p, u_char *last, ngx_str_t *s);


#endif /* _NGX_HTTP_IR_TRAIL_H_INCLUDED_ */
