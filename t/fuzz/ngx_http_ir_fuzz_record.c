
/*
 * ir-access: a libFuzzer target for a record built from what Redis
 * holds, field by field, as the lookup builds it, then packed for the
 * cache, unpacked and decided.
 *
 * The input is one line a value, as an admin's typos could leave them:
 *
 *     u <field> <value>       a field of the user's hash
 *     o <field> <value>       a field of the organisation's hash
 *     i <entry>               an allowlist entry
 *     s <scope>               a scope of the organisation
 *     p <purpose>             a purpose of the organisation
 *     n <number>              the failures counted so far
 *
 * The user is found where a "u" line is, the organisation where an "o"
 * line is and the user's "org" is a name, as the lookup reads them.
 * Whatever the bytes, fields are read or ignored as the schema says,
 * values that are not refused are fit for headers and logs, and the
 * record decides alike before and after a round trip through the cache's
 * packed form, never allowing what a step should have denied.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_fuzz.h"
#include "ngx_http_ir_schema.h"


static void ngx_http_ir_fuzz_field(ngx_http_ir_field_t *known, void *part,
    ngx_str_t *bad, ngx_str_t *line, ngx_pool_t *pool);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                *input, *p, *last, *eol;
    ngx_int_t              rc;
    ngx_str_t              line;
    ngx_uint_t             user, org;
    ngx_pool_t            *pool;
    ngx_http_ir_record_t   rec;

    pool = ngx_http_ir_fuzz_init();

    /* a copy of exact size, so that a read past it is seen */

    input = ngx_palloc(pool, size + 1);
    if (input == NULL) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    ngx_memcpy(input, data, size);

    if (ngx_http_ir_record_init(&rec, pool) != NGX_OK) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    p = input;
    last = input + size;
    user = 0;
    org = 0;

    while (p < last) {
        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        line.data = p + 2;
        line.len = (eol - p >= 2) ? (size_t) (eol - p - 2) : 0;

        if (eol - p < 2 || p[1] != ' ') {
            p = eol + 1;
            continue;
        }

        switch (p[0]) {

        case 'u':
            user = 1;
            ngx_http_ir_fuzz_field(ngx_http_ir_user_fields, &rec.user,
                                   &rec.user.bad, &line, pool);
            break;

        case 'o':
            org = 1;
            ngx_http_ir_fuzz_field(ngx_http_ir_org_fields, &rec.org,
                                   &rec.org.bad, &line, pool);
            break;

        case 'i':
            rc = ngx_http_ir_record_ip(&rec.user, &line, pool);

            if (rc == NGX_ERROR) {
                ngx_http_ir_fuzz_fail("an allowlist entry failed");
            }

            if (rc == NGX_DONE
                && !(line.len == 9
                     && ngx_strncmp(line.data, "0.0.0.0/0", 9) == 0)
                && !(line.len == 4 && ngx_strncmp(line.data, "::/0", 4) == 0))
            {
                ngx_http_ir_fuzz_fail("every address, written otherwise");
            }

            break;

        case 's':
        case 'p':
            if (ngx_http_ir_record_word(p[0] == 's' ? &rec.org.scopes
                                                    : &rec.org.purposes,
                                        &line, pool)
                == NGX_ERROR)
            {
                ngx_http_ir_fuzz_fail("a scope or a purpose failed");
            }

            break;

        case 'n':
            rec.user.fails = ngx_atoi(line.data, ngx_min(line.len, 9));
            break;
        }

        p = eol + 1;
    }

    rec.user.found = user;

    /* the lookup reads an organisation only for a user's valid "org" */

    rec.org.found = (org && user && rec.user.bad.data == NULL
                     && rec.user.org.data
                     && ngx_http_ir_name_valid(&rec.user.org) == NGX_OK);

    if (ngx_http_ir_record_finish(&rec, pool) != NGX_OK) {
        ngx_http_ir_fuzz_fail("finish failed");
    }

    ngx_http_ir_fuzz_check(&rec);
    ngx_http_ir_fuzz_round_trip(&rec, pool);

    ngx_destroy_pool(pool);

    return 0;
}


/* "<field> <value>": known fields read, others ignored, never an error */

static void
ngx_http_ir_fuzz_field(ngx_http_ir_field_t *known, void *part,
    ngx_str_t *bad, ngx_str_t *line, ngx_pool_t *pool)
{
    u_char               *space;
    ngx_int_t             rc;
    ngx_str_t             field, value;
    ngx_http_ir_field_t  *f;

    space = ngx_strlchr(line->data, line->data + line->len, ' ');

    field.data = line->data;
    field.len = space ? (size_t) (space - line->data) : line->len;

    value.data = space ? space + 1 : line->data + line->len;
    value.len = line->data + line->len - value.data;

    rc = ngx_http_ir_record_field(known, part, bad, &field, &value, pool);

    for (f = known; f->name.len; f++) {
        if (f->name.len == field.len
            && ngx_strncmp(f->name.data, field.data, field.len) == 0)
        {
            break;
        }
    }

    if (rc != (f->name.len ? NGX_OK : NGX_DECLINED)) {
        ngx_http_ir_fuzz_fail("a field read otherwise than the schema says");
    }
}
