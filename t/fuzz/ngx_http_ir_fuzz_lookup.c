
/*
 * ir-access: a libFuzzer target for the reader of the lookup script's
 * reply, ngx_http_ir_store_lookup_reply(), fed with a reply tree read
 * from the input (see ngx_http_ir_fuzz.c for its lines).  The script
 * answers eleven elements: the user's hash, allowlist, organisation's
 * hash and scopes, each as its type and its contents, the failures, then
 * the organisation's purposes' type and members:
 *
 *     *11
 *     $hash
 *     *4
 *     $org
 *     $bank
 *     ...
 *
 * Whatever the tree, the reader answers NGX_OK or NGX_ERROR without a
 * crash; a record it reads holds only values fit for headers and logs,
 * every log line it writes is free of raw control characters, and the
 * record comes back from the cache's packed form as it was and decides
 * alike, never allowing what a step should have denied.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_fuzz.h"
#include "ngx_http_ir_store.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                *input, *p;
    ngx_int_t              rc;
    ngx_str_t              prefix, name;
    ngx_pool_t            *pool;
    redisReply            *reply;
    ngx_http_ir_record_t   rec;

    pool = ngx_http_ir_fuzz_init();

    input = ngx_palloc(pool, size + 1);
    if (input == NULL) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    ngx_memcpy(input, data, size);

    p = input;
    reply = ngx_http_ir_fuzz_reply(&p, input + size, pool);

    ngx_str_set(&prefix, "ir:");
    ngx_str_set(&name, "alice");

    rc = ngx_http_ir_store_lookup_reply(reply, &prefix, &name, &rec, pool,
                                        pool->log);

    if (rc == NGX_OK) {
        ngx_http_ir_fuzz_check(&rec);
        ngx_http_ir_fuzz_round_trip(&rec, pool);

    } else if (rc != NGX_ERROR) {
        ngx_http_ir_fuzz_fail("the reader answered neither OK nor ERROR");
    }

    ngx_destroy_pool(pool);

    return 0;
}
