
/*
 * ir-access: what the libFuzzer targets under t/fuzz/ share: nginx's
 * core without a cycle, a logger that refuses raw control characters,
 * the reader of a reply tree from the fuzz input, and the comparison of
 * records, for the pack and unpack round trips.
 */


#ifndef _NGX_HTTP_IR_FUZZ_H_INCLUDED_
#define _NGX_HTTP_IR_FUZZ_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/hiredis.h>

#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_record.h"
#include "ngx_http_ir_schema.h"


/* bounds on a reply tree read from the input */
#define NGX_HTTP_IR_FUZZ_DEPTH         4
#define NGX_HTTP_IR_FUZZ_ELEMENTS      128
#define NGX_HTTP_IR_FUZZ_NODES         4096
#define NGX_HTTP_IR_FUZZ_REPEAT        8192

/* the most of the ignored allowlist entries that a record keeps */
#define NGX_HTTP_IR_FUZZ_NOTES         (160 + sizeof(", ..."))


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

ngx_pool_t *ngx_http_ir_fuzz_init(void);
void ngx_http_ir_fuzz_fail(const char *what);
void ngx_http_ir_fuzz_clean(ngx_str_t *s, size_t max, const char *what);
redisReply *ngx_http_ir_fuzz_reply(u_char **pos, u_char *last,
    ngx_pool_t *pool);
void ngx_http_ir_fuzz_check(ngx_http_ir_record_t *rec);
void ngx_http_ir_fuzz_round_trip(ngx_http_ir_record_t *rec,
    ngx_pool_t *pool);
ngx_uint_t ngx_http_ir_fuzz_decide(ngx_http_ir_record_t *rec,
    ngx_uint_t flags, ngx_http_ir_verdict_t *v);


#endif /* _NGX_HTTP_IR_FUZZ_H_INCLUDED_ */
