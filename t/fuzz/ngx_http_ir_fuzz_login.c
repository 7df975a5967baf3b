
/*
 * ir-access: a libFuzzer target for the login scripts: their keys and
 * arguments, made for a user's name, and the reader of their replies,
 * ngx_http_ir_store_login_reply(), fed with a reply tree read from the
 * input (see ngx_http_ir_fuzz.c for its lines).  The input's first line
 * is the user's name and the cause of a failure, split at the first
 * space; the rest is the reply:
 *
 *     alice wrong password
 *     *2
 *     $lockednow
 *     :5
 *
 * The scripts' keys are the user's, and a keyspace notification of any
 * of them is read back as that user's; the reader answers one of its
 * results, "ok", "locked", "lockednow", "busy" and "gone" only for those
 * words, an error always with what Redis said, and never reads past the
 * tree.  The same tree goes to the readers of the other small replies:
 * the quota script's, SET NX's, the maintenance's HMGET and its
 * announcement's, each of which takes only the shape its command answers.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_fuzz.h"
#include "ngx_http_ir_schema.h"
#include "ngx_http_ir_store.h"


static void ngx_http_ir_fuzz_args(ngx_http_ir_args_t *args,
    ngx_str_t *prefix, ngx_str_t *name);
static void ngx_http_ir_fuzz_login(redisReply *reply);
static void ngx_http_ir_fuzz_others(redisReply *reply);


static char  *ngx_http_ir_fuzz_words[] = {
    "ok", "locked", "lockednow", "busy", "gone"
};


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char              *input, *p, *last, *eol, *space;
    ngx_str_t            prefix, name, cause;
    ngx_uint_t           i;
    ngx_pool_t          *pool;
    redisReply          *reply;
    ngx_http_ir_args_t   args;
    u_char               long_prefix[NGX_HTTP_IR_PREFIX_MAX];

    pool = ngx_http_ir_fuzz_init();

    input = ngx_palloc(pool, size + 1);
    if (input == NULL) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    ngx_memcpy(input, data, size);

    last = input + size;

    eol = ngx_strlchr(input, last, '\n');
    if (eol == NULL) {
        eol = last;
    }

    space = ngx_strlchr(input, eol, ' ');

    /* the lockout is asked for names of certificates, which are names */

    name.data = input;
    name.len = (space ? space : eol) - input;

    cause.data = space ? space + 1 : eol;
    cause.len = eol - cause.data;

    ngx_str_set(&prefix, "ir:");

    for (i = 0; i < 2; i++) {

        if (ngx_http_ir_name_valid(&name) == NGX_OK) {
            ngx_http_ir_store_reserve(&args, &prefix, &name, size);
            ngx_http_ir_fuzz_args(&args, &prefix, &name);

            ngx_http_ir_store_fail(&args, &prefix, &name, i, size,
                                   (ngx_msec_t) size * 1000, &cause);
            ngx_http_ir_fuzz_args(&args, &prefix, &name);

            if (args.argc != 13) {
                ngx_http_ir_fuzz_fail("a failure with other arguments");
            }

            ngx_http_ir_store_pass(&args, &prefix, &name, i, 1 - i);
            ngx_http_ir_fuzz_args(&args, &prefix, &name);

            if (args.argc != 8) {
                ngx_http_ir_fuzz_fail("a success with other arguments");
            }
        }

        /* and under the longest prefix there may be */

        ngx_memset(long_prefix, 'p', sizeof(long_prefix));
        long_prefix[sizeof(long_prefix) - 1] = ':';
        prefix.data = long_prefix;
        prefix.len = sizeof(long_prefix);
    }

    p = (eol < last) ? eol + 1 : last;
    reply = ngx_http_ir_fuzz_reply(&p, last, pool);

    ngx_http_ir_fuzz_login(reply);
    ngx_http_ir_fuzz_others(reply);

    ngx_destroy_pool(pool);

    return 0;
}


/*
 * Every key is the user's, as a keyspace notification names it, and
 * every argument fits where it is kept.
 */

static void
ngx_http_ir_fuzz_args(ngx_http_ir_args_t *args, ngx_str_t *prefix,
    ngx_str_t *name)
{
    ngx_str_t          key, parsed;
    ngx_uint_t         i;
    ngx_http_ir_key_e  kind;

    static ngx_http_ir_key_e  kinds[] = {
        NGX_HTTP_IR_KEY_USER_HASH, NGX_HTTP_IR_KEY_USER_FAILS,
        NGX_HTTP_IR_KEY_USER_TRIES
    };

    if (args->nkeys != 3 || args->argc > NGX_HTTP_IR_ARGS_MAX) {
        ngx_http_ir_fuzz_fail("keys and arguments out of bounds");
    }

    for (i = 0; i < args->argc; i++) {
        if (args->argv[i] == NULL
            || args->argvlen[i] > (i < args->nkeys ? NGX_HTTP_IR_KEY_MAX
                                                   : NGX_HTTP_IR_ARG_MAX))
        {
            ngx_http_ir_fuzz_fail("an argument out of bounds");
        }
    }

    for (i = 0; i < args->nkeys; i++) {
        key.data = (u_char *) args->argv[i];
        key.len = args->argvlen[i];

        kind = ngx_http_ir_key_parse(prefix, &key, &parsed);

        if (kind != kinds[i]
            || parsed.len != name->len
            || ngx_strncmp(parsed.data, name->data, name->len) != 0)
        {
            ngx_http_ir_fuzz_fail("a script's key is not the user's");
        }
    }
}


static void
ngx_http_ir_fuzz_login(redisReply *reply)
{
    redisReply                 *what, *n;
    ngx_http_ir_login_reply_t   lr;

    ngx_http_ir_store_login_reply(reply, &lr);

    if (lr.result > NGX_HTTP_IR_STORE_ERROR || lr.error.data == NULL) {
        ngx_http_ir_fuzz_fail("a result the reader does not have");
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        if (lr.result != NGX_HTTP_IR_STORE_ERROR
            || lr.error.data != (u_char *) reply->str
            || lr.error.len != reply->len)
        {
            ngx_http_ir_fuzz_fail("Redis's error read otherwise");
        }

        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        if (lr.result != NGX_HTTP_IR_STORE_ERROR) {
            ngx_http_ir_fuzz_fail("a result from a reply of another shape");
        }

        return;
    }

    what = reply->element[0];
    n = reply->element[1];

    if (lr.result != NGX_HTTP_IR_STORE_ERROR) {
        if (what->type != REDIS_REPLY_STRING
            || what->len != ngx_strlen(ngx_http_ir_fuzz_words[lr.result])
            || ngx_strncmp(what->str, ngx_http_ir_fuzz_words[lr.result],
                           what->len)
               != 0)
        {
            ngx_http_ir_fuzz_fail("a result from another word");
        }
    }

    if (what->type == REDIS_REPLY_STRING && n->type == REDIS_REPLY_INTEGER
        && lr.fails != (ngx_int_t) n->integer)
    {
        ngx_http_ir_fuzz_fail("the failures read otherwise");
    }
}


static void
ngx_http_ir_fuzz_others(redisReply *reply)
{
    ngx_int_t    rc;
    ngx_str_t    error, *field[3], env, until, message;
    ngx_uint_t   i, minute, day;
    redisReply  *e;

    /* the quota script: two counts, neither below zero */

    rc = ngx_http_ir_store_quota_reply(reply, &minute, &day, &error);

    if (rc == NGX_OK
        && (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
            || reply->element[0]->type != REDIS_REPLY_INTEGER
            || reply->element[1]->type != REDIS_REPLY_INTEGER
            || reply->element[0]->integer < 0
            || reply->element[1]->integer < 0
            || minute != (ngx_uint_t) reply->element[0]->integer
            || day != (ngx_uint_t) reply->element[1]->integer))
    {
        ngx_http_ir_fuzz_fail("a quota's reply read otherwise");
    }

    if ((rc != NGX_OK && rc != NGX_ERROR) || error.data == NULL) {
        ngx_http_ir_fuzz_fail("a quota's reply answered what it cannot");
    }

    /* SET NX: set only for +OK, there already only for nil */

    rc = ngx_http_ir_store_set_reply(reply, &error);

    if ((rc == NGX_OK)
        != (reply->type == REDIS_REPLY_STATUS && reply->len == 2
            && ngx_strncmp(reply->str, "OK", 2) == 0)
        || (rc == NGX_DECLINED) != (reply->type == REDIS_REPLY_NIL))
    {
        ngx_http_ir_fuzz_fail("a SET's reply read otherwise");
    }

    /* the maintenance: three strings or nils, nothing else */

    rc = ngx_http_ir_store_maintenance_reply(reply, &env, &until, &message,
                                             &error);

    if (rc == NGX_OK) {
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) {
            ngx_http_ir_fuzz_fail("a maintenance of another shape taken");
        }

        field[0] = &env;
        field[1] = &until;
        field[2] = &message;

        for (i = 0; i < 3; i++) {
            e = reply->element[i];

            if ((e->type == REDIS_REPLY_NIL && field[i]->data != NULL)
                || (e->type == REDIS_REPLY_STRING
                    && (field[i]->data != (u_char *) e->str
                        || field[i]->len != e->len))
                || (e->type != REDIS_REPLY_NIL
                    && e->type != REDIS_REPLY_STRING))
            {
                ngx_http_ir_fuzz_fail("a maintenance's field read otherwise");
            }
        }

    } else if (rc != NGX_ERROR || error.data == NULL) {
        ngx_http_ir_fuzz_fail("a maintenance's reply answered what it "
                              "cannot");
    }

    /* its announcement: changed only for the integer 1 */

    rc = ngx_http_ir_store_announce_reply(reply, &error);

    if ((rc == NGX_OK)
        != (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1)
        || (rc == NGX_DECLINED)
           != (reply->type == REDIS_REPLY_INTEGER && reply->integer != 1))
    {
        ngx_http_ir_fuzz_fail("an announcement's reply read otherwise");
    }
}
