
/*
 * ir-access: a libFuzzer target for keyspace notifications: the reader
 * of a pmessage, ngx_http_ir_store_notification(), fed with a reply tree
 * read from the input (see ngx_http_ir_fuzz.c for its lines), the key
 * schema that tells whose record the key concerns, the edit script's
 * arguments and the readers of its reply and of SCAN's, fed the same
 * tree:
 *
 *     *4
 *     $pmessage
 *     $__keyspace@0__:ir:*
 *     $__keyspace@0__:ir:user:alice:ips
 *     $sadd
 *
 * Whatever the tree, a key that is read is in the channel, and a key
 * that is taken for a user's or an organisation's is exactly the key the
 * schema makes for that name, so that no edit drops another's record;
 * every key the schema makes for a name is read back as that name's;
 * the edit's arguments fit where they are kept; and the edit's and
 * SCAN's readers take only the shapes their commands answer.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_fuzz.h"
#include "ngx_http_ir_schema.h"
#include "ngx_http_ir_store.h"


static void ngx_http_ir_fuzz_key(ngx_str_t *prefix, ngx_str_t *key);
static void ngx_http_ir_fuzz_edit(ngx_str_t *prefix, ngx_str_t *key,
    ngx_str_t *op);
static void ngx_http_ir_fuzz_replies(redisReply *reply);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *input, *p;
    ngx_int_t    rc;
    ngx_str_t    channel, key, op, prefix;
    ngx_pool_t  *pool;
    redisReply  *reply, *c;

    pool = ngx_http_ir_fuzz_init();

    input = ngx_palloc(pool, size + 1);
    if (input == NULL) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    ngx_memcpy(input, data, size);

    p = input;
    reply = ngx_http_ir_fuzz_reply(&p, input + size, pool);

    ngx_str_set(&channel, "__keyspace@0__:");
    ngx_str_set(&prefix, "ir:");

    rc = ngx_http_ir_store_notification(reply, &channel, &key, &op);

    switch (rc) {

    case NGX_OK:
        c = reply->element[2];

        if (key.data != (u_char *) c->str + channel.len
            || key.len + channel.len != c->len
            || key.len == 0
            || op.data != (u_char *) reply->element[3]->str)
        {
            ngx_http_ir_fuzz_fail("a key or an operation out of the reply");
        }

        ngx_http_ir_fuzz_key(&prefix, &key);
        ngx_http_ir_fuzz_edit(&prefix, &key, &op);

        /* and under no prefix at all */

        ngx_str_set(&prefix, "");
        ngx_http_ir_fuzz_key(&prefix, &key);

        break;

    case NGX_DONE:
    case NGX_DECLINED:
        break;

    default:
        ngx_http_ir_fuzz_fail("the reader answered what it does not");
    }

    ngx_http_ir_fuzz_replies(reply);

    /* the input as a key itself, for the schema's sake */

    key.data = input;
    key.len = size;

    ngx_str_set(&prefix, "ir:");
    ngx_http_ir_fuzz_key(&prefix, &key);

    ngx_destroy_pool(pool);

    return 0;
}


static void
ngx_http_ir_fuzz_key(ngx_str_t *prefix, ngx_str_t *key)
{
    u_char             *p;
    ngx_str_t           name, again, parsed;
    ngx_uint_t          kind;
    ngx_http_ir_key_e   k;
    u_char              buf[NGX_HTTP_IR_KEY_MAX];

    k = ngx_http_ir_key_parse(prefix, key, &name);

    if (k > NGX_HTTP_IR_KEY_MAINTENANCE_HASH) {
        ngx_http_ir_fuzz_fail("a kind of key the schema does not have");
    }

    if (k == NGX_HTTP_IR_KEY_OTHER) {
        return;
    }

    /* the maintenance's one hash, of no name */

    if (k == NGX_HTTP_IR_KEY_MAINTENANCE_HASH) {
        ngx_str_set(&name, "");
        p = ngx_http_ir_key(buf, prefix, k, &name);

        if ((size_t) (p - buf) != key->len
            || ngx_memcmp(buf, key->data, key->len) != 0)
        {
            ngx_http_ir_fuzz_fail("a key taken for the maintenance's");
        }

        return;
    }

    if (ngx_http_ir_name_valid(&name) != NGX_OK
        || name.data < key->data
        || name.data + name.len > key->data + key->len)
    {
        ngx_http_ir_fuzz_fail("a key taken for one that is no name's");
    }

    p = ngx_http_ir_key(buf, prefix, k, &name);

    if ((size_t) (p - buf) != key->len
        || ngx_memcmp(buf, key->data, key->len) != 0)
    {
        ngx_http_ir_fuzz_fail("a key taken for another's");
    }

    /* every kind of key of that name is read back as that name's */

    for (kind = NGX_HTTP_IR_KEY_USER_HASH;
         kind <= NGX_HTTP_IR_KEY_SEEN_HASH;
         kind++)
    {
        p = ngx_http_ir_key(buf, prefix, kind, &name);

        again.data = buf;
        again.len = p - buf;

        if (ngx_http_ir_key_parse(prefix, &again, &parsed) != kind
            || parsed.len != name.len
            || ngx_memcmp(parsed.data, name.data, name.len) != 0)
        {
            ngx_http_ir_fuzz_fail("a key of the schema read as another's");
        }
    }
}


/* the edit script's arguments for any key and operation a reply names */

static void
ngx_http_ir_fuzz_edit(ngx_str_t *prefix, ngx_str_t *key, ngx_str_t *op)
{
    ngx_uint_t          i;
    ngx_http_ir_args_t  args;

    ngx_http_ir_store_edit(&args, prefix, key, op);

    if (args.nkeys != 1 || args.argc != 5) {
        ngx_http_ir_fuzz_fail("an edit with other arguments");
    }

    for (i = 0; i < args.argc; i++) {
        if (args.argvlen[i] > (i < args.nkeys ? NGX_HTTP_IR_KEY_MAX
                                              : NGX_HTTP_IR_ARG_MAX)
            || (u_char *) args.argv[i] < (u_char *) &args
            || (u_char *) args.argv[i] + args.argvlen[i]
               > (u_char *) &args + sizeof(ngx_http_ir_args_t))
        {
            ngx_http_ir_fuzz_fail("an edit's argument out of its room");
        }
    }
}


static void
ngx_http_ir_fuzz_replies(redisReply *reply)
{
    ngx_int_t    rc;
    ngx_str_t    type, cursor;
    ngx_uint_t   i;
    redisReply  *content, *keys;

    rc = ngx_http_ir_store_edit_reply(reply, &type, &content);

    if (rc != NGX_ERROR
        && (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
            || reply->element[0]->type != REDIS_REPLY_INTEGER))
    {
        ngx_http_ir_fuzz_fail("an edit's reply of another shape taken");
    }

    if (rc == NGX_OK
        && (reply->element[0]->integer != 1
            || content != reply->element[2]
            || content->type != REDIS_REPLY_ARRAY
            || type.data != (u_char *) reply->element[1]->str))
    {
        ngx_http_ir_fuzz_fail("an edit's reply read otherwise");
    }

    if (ngx_http_ir_store_scan_reply(reply, &cursor, &keys) != NGX_OK) {
        return;
    }

    if (keys != reply->element[1] || keys->type != REDIS_REPLY_ARRAY) {
        ngx_http_ir_fuzz_fail("a scan's reply read otherwise");
    }

    for (i = 0; i < keys->elements; i++) {
        if (keys->element[i]->type != REDIS_REPLY_STRING) {
            ngx_http_ir_fuzz_fail("a scan's key that is no string");
        }
    }
}
