
/*
 * ir-access: every record under the prefix, read as the gateway reads it.
 *
 * The keys are found with SCAN, a page at a time; each organisation's
 * hash, scopes and user set are read by pipelined commands, their sizes
 * asked first so that nothing swollen is read whole; each user is read
 * by the gateway's own lookup script, pipelined, and its reply turned
 * into a record by the gateway's own ngx_http_ir_store_lookup_reply().
 * A command's handler sees each user's and organisation's raw replies as
 * they come, so that a scan of 100,000 users keeps only what the command
 * needs of each.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_cli.h"
#include "ngx_http_ir_store.h"


/* the index's members asked for at a time */
#define NGX_HTTP_IR_CLI_SSCAN_COUNT    "10000"


typedef struct {
    ngx_http_ir_cli_inventory_t   *inv;
    ngx_array_t                    user_names;
    ngx_array_t                    org_names;
} ngx_http_ir_cli_scan_t;


/* of the hash, the scopes, the users' set and the purposes, in that order */

typedef struct {
    redisReply                    *type[4];
    redisReply                    *len[2];
    redisReply                    *fields;
    redisReply                    *scopes;
    redisReply                    *index;
    redisReply                    *purposes;
} ngx_http_ir_cli_org_replies_t;


static ngx_int_t ngx_http_ir_cli_inventory_key(ngx_http_ir_cli_t *cli,
    ngx_str_t *key, void *data);
static ngx_int_t ngx_http_ir_cli_inventory_names(ngx_array_t *names,
    ngx_array_t *entries, size_t size, ngx_pool_t *pool);
static ngx_int_t ngx_http_ir_cli_inventory_orgs(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_inventory_t *inv);
static ngx_int_t ngx_http_ir_cli_inventory_org(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_inventory_t *inv, ngx_http_ir_cli_org_t *org,
    ngx_http_ir_cli_org_replies_t *r);
static ngx_int_t ngx_http_ir_cli_inventory_index(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_org_t *org, redisReply *reply);
static ngx_int_t ngx_http_ir_cli_inventory_users(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_inventory_t *inv);
static ngx_int_t ngx_http_ir_cli_inventory_user(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_inventory_t *inv, ngx_http_ir_cli_user_t *user,
    redisReply *reply, redisReply *seen, ngx_pool_t *pool);
static void ngx_http_ir_cli_inventory_seen(ngx_http_ir_cli_user_t *user,
    redisReply *seen, ngx_pool_t *pool);
static ngx_int_t ngx_http_ir_cli_inventory_link(
    ngx_http_ir_cli_inventory_t *inv);
static ngx_int_t ngx_http_ir_cli_copy(ngx_str_t *dst, ngx_str_t *src,
    ngx_pool_t *pool);
static ngx_int_t ngx_http_ir_cli_reply_str(redisReply *r, ngx_str_t *s);
static void ngx_http_ir_cli_free(redisReply **r);


ngx_int_t
ngx_http_ir_cli_inventory(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_inventory_t *inv)
{
    ngx_int_t               rc;
    ngx_uint_t              level;
    ngx_http_ir_cli_scan_t  scan;

    if (ngx_array_init(&inv->strays, cli->pool, 4, sizeof(ngx_str_t))
        != NGX_OK
        || ngx_array_init(&scan.user_names, cli->pool, 1024,
                          sizeof(ngx_str_t))
           != NGX_OK
        || ngx_array_init(&scan.org_names, cli->pool, 64, sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    scan.inv = inv;
    inv->keys = 0;

    if (ngx_http_ir_cli_scan(cli, ngx_http_ir_cli_inventory_key, &scan)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_ir_cli_inventory_names(&scan.user_names, &inv->users,
                                        sizeof(ngx_http_ir_cli_user_t),
                                        cli->pool)
        != NGX_OK
        || ngx_http_ir_cli_inventory_names(&scan.org_names, &inv->orgs,
                                           sizeof(ngx_http_ir_cli_org_t),
                                           cli->pool)
           != NGX_OK
        || ngx_http_ir_cli_load_scripts(cli) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* what the gateway would log of each record is the handlers' to say */

    level = cli->log->log_level;
    cli->log->log_level = NGX_LOG_CRIT;

    rc = ngx_http_ir_cli_inventory_orgs(cli, inv);

    if (rc == NGX_OK) {
        rc = ngx_http_ir_cli_inventory_users(cli, inv);
    }

    cli->log->log_level = level;

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_ir_cli_inventory_link(inv);
}


static ngx_int_t
ngx_http_ir_cli_inventory_key(ngx_http_ir_cli_t *cli, ngx_str_t *key,
    void *data)
{
    ngx_http_ir_cli_scan_t *scan = data;

    u_char             *p;
    ngx_str_t           name, *s;
    ngx_array_t        *names;
    ngx_http_ir_key_e   kind;

    scan->inv->keys++;

    kind = ngx_http_ir_key_parse(&cli->conf.prefix, key, &name);

    switch (kind) {

    case NGX_HTTP_IR_KEY_USER_HASH:
    case NGX_HTTP_IR_KEY_USER_IPS:
        names = &scan->user_names;
        break;

    case NGX_HTTP_IR_KEY_ORG_HASH:
    case NGX_HTTP_IR_KEY_ORG_SCOPES:
    case NGX_HTTP_IR_KEY_ORG_USERS:
        names = &scan->org_names;
        break;

    case NGX_HTTP_IR_KEY_OTHER:

        /* a key under "user:" or "org:" that is part of no record */

        p = key->data + cli->conf.prefix.len;

        if ((key->len - cli->conf.prefix.len
             > sizeof(NGX_HTTP_IR_KEY_USER) - 1
             && ngx_strncmp(p, NGX_HTTP_IR_KEY_USER,
                            sizeof(NGX_HTTP_IR_KEY_USER) - 1) == 0)
            || (key->len - cli->conf.prefix.len
                > sizeof(NGX_HTTP_IR_KEY_ORG) - 1
                && ngx_strncmp(p, NGX_HTTP_IR_KEY_ORG,
                               sizeof(NGX_HTTP_IR_KEY_ORG) - 1) == 0))
        {
            s = ngx_array_push(&scan->inv->strays);
            if (s == NULL) {
                return NGX_ERROR;
            }

            return ngx_http_ir_cli_copy(s, key, cli->pool);
        }

        return NGX_OK;

    default:
        /* counters and the gateway's "seen:" hashes belong to users */
        return NGX_OK;
    }

    s = ngx_array_push(names);
    if (s == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_ir_cli_copy(s, &name, cli->pool);
}


/* the names, sorted and once each, as the entries' first member */

static ngx_int_t
ngx_http_ir_cli_inventory_names(ngx_array_t *names, ngx_array_t *entries,
    size_t size, ngx_pool_t *pool)
{
    u_char      *e;
    ngx_str_t   *name;
    ngx_uint_t   i;

    name = names->elts;

    /* qsort(): ngx_sort() is an insertion sort, for a few elements */

    qsort(name, names->nelts, sizeof(ngx_str_t), ngx_http_ir_cli_name_cmp);

    if (ngx_array_init(entries, pool, ngx_max(names->nelts, 1), size)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < names->nelts; i++) {
        if (i && ngx_http_ir_cli_str_cmp(&name[i - 1], &name[i]) == 0) {
            continue;
        }

        e = ngx_array_push(entries);
        if (e == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(e, size);

        /* both entries begin with their name */
        *(ngx_str_t *) e = name[i];
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_ir_cli_str_cmp(const void *one, const void *two)
{
    ngx_int_t         rc;
    const ngx_str_t  *a = one;
    const ngx_str_t  *b = two;

    rc = ngx_memcmp(a->data, b->data, ngx_min(a->len, b->len));

    if (rc) {
        return rc;
    }

    return (ngx_int_t) a->len - (ngx_int_t) b->len;
}


/*
 * Organisations, a batch at a time: the types of the three keys and the
 * sizes of two, then what is of the right type and size.
 */

static ngx_int_t
ngx_http_ir_cli_inventory_orgs(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_inventory_t *inv)
{
    ngx_int_t                       rc;
    ngx_str_t                       key[4];
    ngx_uint_t                      i, j, k, n;
    ngx_http_ir_cli_org_t          *org;
    ngx_http_ir_cli_org_replies_t  *r;
    u_char                          buf[4][NGX_HTTP_IR_KEY_MAX];
    const char                     *argv[5];
    size_t                          argvlen[5];

    static ngx_http_ir_key_e  kinds[] = { NGX_HTTP_IR_KEY_ORG_HASH,
                                          NGX_HTTP_IR_KEY_ORG_SCOPES,
                                          NGX_HTTP_IR_KEY_ORG_USERS,
                                          NGX_HTTP_IR_KEY_ORG_PURPOSES };

    org = inv->orgs.elts;

    r = ngx_pcalloc(cli->pool, NGX_HTTP_IR_CLI_BATCH
                               * sizeof(ngx_http_ir_cli_org_replies_t));
    if (r == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < inv->orgs.nelts; i += NGX_HTTP_IR_CLI_BATCH) {
        n = ngx_min(NGX_HTTP_IR_CLI_BATCH, inv->orgs.nelts - i);

        ngx_memzero(r, n * sizeof(ngx_http_ir_cli_org_replies_t));

        for (j = 0; j < n; j++) {
            for (k = 0; k < 4; k++) {
                key[k].data = buf[k];
                key[k].len = ngx_http_ir_key(buf[k], &cli->conf.prefix,
                                             kinds[k], &org[i + j].name)
                             - buf[k];

                if (ngx_http_ir_cli_append_key(cli, "TYPE", &key[k])
                    != NGX_OK)
                {
                    return NGX_ERROR;
                }
            }

            if (ngx_http_ir_cli_append_key(cli, "HLEN", &key[0]) != NGX_OK
                || ngx_http_ir_cli_append_key(cli, "SCARD", &key[1])
                   != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        for (j = 0; j < n; j++) {
            for (k = 0; k < 4; k++) {
                r[j].type[k] = ngx_http_ir_cli_reply(cli);
                if (r[j].type[k] == NULL) {
                    return NGX_ERROR;
                }
            }

            for (k = 0; k < 2; k++) {
                r[j].len[k] = ngx_http_ir_cli_reply(cli);
                if (r[j].len[k] == NULL) {
                    return NGX_ERROR;
                }
            }
        }

        /* what is there to read, read */

        for (j = 0; j < n; j++) {
            for (k = 0; k < 4; k++) {
                key[k].data = buf[k];
                key[k].len = ngx_http_ir_key(buf[k], &cli->conf.prefix,
                                             kinds[k], &org[i + j].name)
                             - buf[k];
            }

            /* purposes are few: their size is not asked first */

            if (ngx_http_ir_cli_is(r[j].type[3], "set")
                && ngx_http_ir_cli_append_key(cli, "SMEMBERS", &key[3])
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

            if (ngx_http_ir_cli_is(r[j].type[0], "hash")
                && r[j].len[0]->type == REDIS_REPLY_INTEGER
                && r[j].len[0]->integer <= NGX_HTTP_IR_FIELDS_MAX
                && ngx_http_ir_cli_append_key(cli, "HGETALL", &key[0])
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

            if (ngx_http_ir_cli_is(r[j].type[1], "set")
                && r[j].len[1]->type == REDIS_REPLY_INTEGER
                && r[j].len[1]->integer <= NGX_HTTP_IR_SCOPES_MAX
                && ngx_http_ir_cli_append_key(cli, "SMEMBERS", &key[1])
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

            if (ngx_http_ir_cli_is(r[j].type[2], "set")) {
                argv[0] = "SSCAN";
                argvlen[0] = 5;
                argv[1] = (char *) key[2].data;
                argvlen[1] = key[2].len;
                argv[2] = "0";
                argvlen[2] = 1;
                argv[3] = "COUNT";
                argvlen[3] = 5;
                argv[4] = NGX_HTTP_IR_CLI_SSCAN_COUNT;
                argvlen[4] = sizeof(NGX_HTTP_IR_CLI_SSCAN_COUNT) - 1;

                if (ngx_http_ir_cli_append(cli, 5, argv, argvlen) != NGX_OK) {
                    return NGX_ERROR;
                }
            }
        }

        for (j = 0; j < n; j++) {
            if (ngx_http_ir_cli_is(r[j].type[3], "set")) {
                r[j].purposes = ngx_http_ir_cli_reply(cli);
                if (r[j].purposes == NULL) {
                    return NGX_ERROR;
                }
            }

            if (ngx_http_ir_cli_is(r[j].type[0], "hash")
                && r[j].len[0]->type == REDIS_REPLY_INTEGER
                && r[j].len[0]->integer <= NGX_HTTP_IR_FIELDS_MAX)
            {
                r[j].fields = ngx_http_ir_cli_reply(cli);
                if (r[j].fields == NULL) {
                    return NGX_ERROR;
                }
            }

            if (ngx_http_ir_cli_is(r[j].type[1], "set")
                && r[j].len[1]->type == REDIS_REPLY_INTEGER
                && r[j].len[1]->integer <= NGX_HTTP_IR_SCOPES_MAX)
            {
                r[j].scopes = ngx_http_ir_cli_reply(cli);
                if (r[j].scopes == NULL) {
                    return NGX_ERROR;
                }
            }

            if (ngx_http_ir_cli_is(r[j].type[2], "set")) {
                r[j].index = ngx_http_ir_cli_reply(cli);
                if (r[j].index == NULL) {
                    return NGX_ERROR;
                }
            }
        }

        for (j = 0; j < n; j++) {
            rc = ngx_http_ir_cli_inventory_org(cli, inv, &org[i + j], &r[j]);

            for (k = 0; k < 4; k++) {
                ngx_http_ir_cli_free(&r[j].type[k]);
            }

            ngx_http_ir_cli_free(&r[j].purposes);
            ngx_http_ir_cli_free(&r[j].len[0]);
            ngx_http_ir_cli_free(&r[j].len[1]);
            ngx_http_ir_cli_free(&r[j].fields);
            ngx_http_ir_cli_free(&r[j].scopes);
            ngx_http_ir_cli_free(&r[j].index);

            if (rc != NGX_OK) {
                return rc;
            }
        }
    }

    return NGX_OK;
}


/* an organisation parsed by the gateway's own functions */

static ngx_int_t
ngx_http_ir_cli_inventory_org(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_inventory_t *inv, ngx_http_ir_cli_org_t *org,
    ngx_http_ir_cli_org_replies_t *r)
{
    ngx_int_t                    n;
    ngx_str_t                    field, value, users;
    ngx_uint_t                   i;
    redisReply                  *f, *v;
    ngx_http_ir_record_t         rec;
    ngx_http_ir_cli_org_keys_t   keys;

    ngx_memzero(&keys, sizeof(ngx_http_ir_cli_org_keys_t));

    ngx_http_ir_cli_reply_str(r->type[0], &keys.hash_type);
    ngx_http_ir_cli_reply_str(r->type[1], &keys.scopes_type);
    ngx_http_ir_cli_reply_str(r->type[2], &keys.index_type);
    ngx_http_ir_cli_reply_str(r->type[3], &keys.purposes_type);

    keys.hash_len = (r->len[0]->type == REDIS_REPLY_INTEGER)
                    ? r->len[0]->integer : -1;
    keys.scopes_len = (r->len[1]->type == REDIS_REPLY_INTEGER)
                      ? r->len[1]->integer : -1;
    keys.fields = r->fields;
    keys.members = r->scopes;

    if (ngx_array_init(&org->org.scopes, cli->pool, 4, sizeof(ngx_str_t))
        != NGX_OK
        || ngx_array_init(&org->org.purposes, cli->pool, 2, sizeof(ngx_str_t))
           != NGX_OK
        || ngx_array_init(&org->users, cli->pool, 4,
                          sizeof(ngx_http_ir_cli_user_t *))
           != NGX_OK
        || ngx_array_init(&org->index, cli->pool, 4, sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    org->contracted = NGX_HTTP_IR_USERS_DEFAULT;
    ngx_str_null(&users);

    if (ngx_http_ir_cli_is(r->type[0], "hash")) {
        org->org.found = 1;

        if (r->fields == NULL) {
            if (ngx_http_ir_record_bad(&org->org.bad, cli->pool,
                                       "it has more than %d fields",
                                       NGX_HTTP_IR_FIELDS_MAX)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    if (r->fields && r->fields->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i + 1 < r->fields->elements; i += 2) {
            f = r->fields->element[i];
            v = r->fields->element[i + 1];

            if (ngx_http_ir_cli_reply_str(f, &field) != NGX_OK
                || ngx_http_ir_cli_reply_str(v, &value) != NGX_OK)
            {
                continue;
            }

            if (ngx_http_ir_record_field(ngx_http_ir_org_fields, &org->org,
                                         &org->org.bad, &field, &value,
                                         cli->pool)
                == NGX_ERROR)
            {
                return NGX_ERROR;
            }

            if (field.len == sizeof(NGX_HTTP_IR_FIELD_USERS) - 1
                && ngx_strncmp(field.data, NGX_HTTP_IR_FIELD_USERS,
                               field.len) == 0)
            {
                users = value;
            }
        }
    }

    if (users.data) {
        n = ngx_atoi(users.data, users.len);

        if (n > 0) {
            org->contracted = n;
        }
    }

    if (r->scopes && r->scopes->type == REDIS_REPLY_ARRAY) {
        for (i = 0; i < r->scopes->elements; i++) {
            if (ngx_http_ir_cli_reply_str(r->scopes->element[i], &value)
                != NGX_OK)
            {
                continue;
            }

            if (ngx_http_ir_record_word(&org->org.scopes, &value, cli->pool)
                == NGX_ERROR)
            {
                return NGX_ERROR;
            }
        }
    }

    if (r->purposes && r->purposes->type == REDIS_REPLY_ARRAY
        && r->purposes->elements <= NGX_HTTP_IR_PURPOSES_MAX)
    {
        for (i = 0; i < r->purposes->elements; i++) {
            if (ngx_http_ir_cli_reply_str(r->purposes->element[i], &value)
                != NGX_OK)
            {
                continue;
            }

            if (ngx_http_ir_record_word(&org->org.purposes, &value,
                                        cli->pool)
                == NGX_ERROR)
            {
                return NGX_ERROR;
            }
        }
    }

    /* the dates, as ngx_http_ir_record_finish() reads them */

    ngx_memzero(&rec, sizeof(ngx_http_ir_record_t));
    rec.org = org->org;

    if (ngx_http_ir_record_finish(&rec, cli->pool) != NGX_OK) {
        return NGX_ERROR;
    }

    org->org = rec.org;

    org->index_wrong = !ngx_http_ir_cli_is(r->type[2], "set")
                       && !ngx_http_ir_cli_is(r->type[2], "none");

    if (r->index) {
        org->index_found = 1;

        if (ngx_http_ir_cli_inventory_index(cli, org, r->index) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (inv->org_handler) {
        inv->org_handler(cli, org, &keys, inv->data);
    }

    return NGX_OK;
}


/* the index's members: the first page from the pipeline, then the rest */

static ngx_int_t
ngx_http_ir_cli_inventory_index(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_org_t *org, redisReply *reply)
{
    ngx_str_t    key, *s, member;
    ngx_uint_t   i;
    redisReply  *page, *members;
    const char  *argv[5];
    size_t       argvlen[5];
    u_char       buf[NGX_HTTP_IR_KEY_MAX];
    u_char       cursor[NGX_INT64_LEN + 1];

    key.data = buf;
    key.len = ngx_http_ir_key(buf, &cli->conf.prefix,
                              NGX_HTTP_IR_KEY_ORG_USERS, &org->name) - buf;

    argv[0] = "SSCAN";
    argvlen[0] = 5;
    argv[1] = (char *) key.data;
    argvlen[1] = key.len;
    argv[2] = (char *) cursor;
    argv[3] = "COUNT";
    argvlen[3] = 5;
    argv[4] = NGX_HTTP_IR_CLI_SSCAN_COUNT;
    argvlen[4] = sizeof(NGX_HTTP_IR_CLI_SSCAN_COUNT) - 1;

    page = reply;

    for ( ;; ) {
        if (page->type != REDIS_REPLY_ARRAY || page->elements != 2
            || page->element[0]->type != REDIS_REPLY_STRING
            || page->element[0]->len > NGX_INT64_LEN
            || page->element[1]->type != REDIS_REPLY_ARRAY)
        {
            /* a set that went away or changed type meanwhile: as it is */
            break;
        }

        members = page->element[1];

        for (i = 0; i < members->elements; i++) {
            if (ngx_http_ir_cli_reply_str(members->element[i], &member)
                != NGX_OK)
            {
                continue;
            }

            s = ngx_array_push(&org->index);
            if (s == NULL) {
                return NGX_ERROR;
            }

            if (ngx_http_ir_cli_copy(s, &member, cli->pool) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        argvlen[2] = page->element[0]->len;
        ngx_memcpy(cursor, page->element[0]->str, argvlen[2]);

        if (page != reply) {
            freeReplyObject(page);
        }

        if (argvlen[2] == 1 && cursor[0] == '0') {
            return NGX_OK;
        }

        page = ngx_http_ir_cli_command(cli, 5, argv, argvlen);
        if (page == NULL) {
            return NGX_ERROR;
        }
    }

    if (page != reply) {
        freeReplyObject(page);
    }

    return NGX_OK;
}


/* users, a batch at a time, through the gateway's own lookup */

static ngx_int_t
ngx_http_ir_cli_inventory_users(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_inventory_t *inv)
{
    ngx_int_t                rc;
    ngx_str_t                key;
    ngx_uint_t               i, j, n;
    ngx_pool_t              *pool;
    redisReply              *reply, *seen;
    ngx_http_ir_cli_user_t  *user;
    u_char                   buf[NGX_HTTP_IR_KEY_MAX];

    user = inv->users.elts;

    for (i = 0; i < inv->users.nelts; i += NGX_HTTP_IR_CLI_BATCH) {
        n = ngx_min(NGX_HTTP_IR_CLI_BATCH, inv->users.nelts - i);

        for (j = 0; j < n; j++) {
            if (ngx_http_ir_cli_append_lookup(cli, &user[i + j].name)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            if (!inv->seen) {
                continue;
            }

            key.data = buf;
            key.len = ngx_http_ir_key(buf, &cli->conf.prefix,
                                      NGX_HTTP_IR_KEY_SEEN_HASH,
                                      &user[i + j].name)
                      - buf;

            if (ngx_http_ir_cli_append_key(cli, "HGETALL", &key) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        pool = ngx_create_pool(16384, cli->log);
        if (pool == NULL) {
            return NGX_ERROR;
        }

        rc = NGX_OK;

        for (j = 0; j < n; j++) {
            reply = ngx_http_ir_cli_reply(cli);
            if (reply == NULL) {
                rc = NGX_ERROR;
                break;
            }

            seen = NULL;

            if (inv->seen) {
                seen = ngx_http_ir_cli_reply(cli);
                if (seen == NULL) {
                    freeReplyObject(reply);
                    rc = NGX_ERROR;
                    break;
                }
            }

            if (rc == NGX_OK) {
                rc = ngx_http_ir_cli_inventory_user(cli, inv, &user[i + j],
                                                    reply, seen, pool);
            }

            /* the rest of the batch's replies are read, if only to go */

            freeReplyObject(reply);

            if (seen) {
                freeReplyObject(seen);
            }
        }

        ngx_destroy_pool(pool);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_cli_inventory_user(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_inventory_t *inv, ngx_http_ir_cli_user_t *user,
    redisReply *reply, redisReply *seen, ngx_pool_t *pool)
{
    ngx_str_t              field, value;
    ngx_uint_t             i;
    ngx_cidr_t            *cidr;
    redisReply            *fields;
    ngx_http_ir_record_t   rec;

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_http_ir_cli_error("Redis failed the lookup of user \"%V\": %*s",
                              &user->name, reply->len, reply->str);
        return NGX_ERROR;
    }

    if (ngx_http_ir_store_lookup_reply(reply, &cli->conf.prefix, &user->name,
                                       &rec, pool, cli->log)
        != NGX_OK)
    {
        ngx_http_ir_cli_error("unexpected reply to the lookup of user \"%V\"",
                              &user->name);
        return NGX_ERROR;
    }

    user->found = rec.user.found;
    user->bad = (rec.user.bad.data != NULL);
    user->fails = rec.user.fails;
    user->ips = rec.user.ips.nelts;

    cidr = rec.user.ips.elts;

    for (i = 0; i < rec.user.ips.nelts; i++) {
        if ((cidr[i].family == AF_INET && cidr[i].u.in.mask != 0xffffffff)
#if (NGX_HAVE_INET6)
            || (cidr[i].family == AF_INET6
                && cidr[i].u.in6.mask.s6_addr[15] != 0xff)
#endif
           )
        {
            user->wide++;
        }
    }

    if (ngx_http_ir_cli_copy(&user->org, &rec.user.org, cli->pool) != NGX_OK
        || ngx_http_ir_cli_copy(&user->unit, &rec.user.unit, cli->pool)
           != NGX_OK
        || ngx_http_ir_cli_copy(&user->status, &rec.user.status, cli->pool)
           != NGX_OK
        || ngx_array_init(&user->pins, cli->pool,
                          ngx_max(rec.user.pins.nelts, 1),
                          NGX_HTTP_IR_DIGEST_LEN)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (rec.user.pins.nelts) {
        ngx_memcpy(user->pins.elts, rec.user.pins.elts,
                   rec.user.pins.nelts * NGX_HTTP_IR_DIGEST_LEN);
        user->pins.nelts = rec.user.pins.nelts;
    }

    /* the lock's fields, which the decision does not read */

    fields = reply->element[1];

    for (i = 0; user->found && i + 1 < fields->elements; i += 2) {
        if (ngx_http_ir_cli_reply_str(fields->element[i], &field) != NGX_OK
            || ngx_http_ir_cli_reply_str(fields->element[i + 1], &value)
               != NGX_OK)
        {
            continue;
        }

        if (field.len == sizeof(NGX_HTTP_IR_FIELD_LOCKED_AT) - 1
            && ngx_strncmp(field.data, NGX_HTTP_IR_FIELD_LOCKED_AT,
                           field.len) == 0
            && ngx_http_ir_cli_copy(&user->locked_at, &value, cli->pool)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (field.len == sizeof(NGX_HTTP_IR_FIELD_LOCK_REASON) - 1
            && ngx_strncmp(field.data, NGX_HTTP_IR_FIELD_LOCK_REASON,
                           field.len) == 0
            && ngx_http_ir_cli_copy(&user->lock_reason, &value, cli->pool)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (seen && seen->type == REDIS_REPLY_ARRAY) {
        ngx_http_ir_cli_inventory_seen(user, seen, cli->pool);
    }

    if (inv->user_handler) {
        inv->user_handler(cli, user, reply, &rec, inv->data);
    }

    return NGX_OK;
}


/* what the gateway last saw of a user, as it writes it (schema.h) */

static void
ngx_http_ir_cli_inventory_seen(ngx_http_ir_cli_user_t *user,
    redisReply *seen, ngx_pool_t *pool)
{
    ngx_str_t   field, value;
    ngx_uint_t  i;

    for (i = 0; i + 1 < seen->elements; i += 2) {
        if (ngx_http_ir_cli_reply_str(seen->element[i], &field) != NGX_OK
            || ngx_http_ir_cli_reply_str(seen->element[i + 1], &value)
               != NGX_OK)
        {
            continue;
        }

        user->seen = 1;

#define ngx_http_ir_cli_field_is(name)                                       \
    (field.len == sizeof(name) - 1                                           \
     && ngx_strncmp(field.data, name, field.len) == 0)

        if (ngx_http_ir_cli_field_is(NGX_HTTP_IR_FIELD_LAST_SEEN)) {
            user->last_seen = ngx_http_ir_cli_parse_time(&value);

        } else if (ngx_http_ir_cli_field_is(NGX_HTTP_IR_FIELD_NOT_AFTER)) {
            user->not_after = ngx_http_ir_cli_parse_time(&value);

        } else if (ngx_http_ir_cli_field_is(NGX_HTTP_IR_FIELD_LAST_IP)) {
            (void) ngx_http_ir_cli_copy(&user->last_ip, &value, pool);

        } else if (ngx_http_ir_cli_field_is(NGX_HTTP_IR_FIELD_FINGERPRINT)) {
            (void) ngx_http_ir_cli_copy(&user->fingerprint, &value, pool);
        }

#undef ngx_http_ir_cli_field_is
    }
}


/*
 * A time as the gateway stores it, "2026-11-27T08:00:00.000Z" (the
 * milliseconds and the "Z" may be left out), or seconds since the epoch;
 * 0 for neither.
 */

time_t
ngx_http_ir_cli_parse_time(ngx_str_t *text)
{
    u_char     *p;
    ngx_int_t   n;
    ngx_uint_t  date, i;
    ngx_str_t   day;
    struct tm   tm;

    p = text->data;

    if (text->len >= 19 && p[10] == 'T' && p[13] == ':' && p[16] == ':') {
        day.data = p;
        day.len = 10;

        if (ngx_http_ir_parse_date(&day, &date) != NGX_OK) {
            return 0;
        }

        for (i = 11; i < 19; i++) {
            if (i != 13 && i != 16 && (p[i] < '0' || p[i] > '9')) {
                return 0;
            }
        }

        ngx_memzero(&tm, sizeof(struct tm));

        tm.tm_year = date / 10000 - 1900;
        tm.tm_mon = date / 100 % 100 - 1;
        tm.tm_mday = date % 100;
        tm.tm_hour = (p[11] - '0') * 10 + (p[12] - '0');
        tm.tm_min = (p[14] - '0') * 10 + (p[15] - '0');
        tm.tm_sec = (p[17] - '0') * 10 + (p[18] - '0');

        return timegm(&tm);
    }

    n = ngx_atoi(p, text->len);

    return (n == NGX_ERROR) ? 0 : (time_t) n;
}


/* users into their organisations, and the index's members found */

static ngx_int_t
ngx_http_ir_cli_inventory_link(ngx_http_ir_cli_inventory_t *inv)
{
    ngx_str_t                *member;
    ngx_uint_t                i, j;
    ngx_http_ir_cli_org_t    *org;
    ngx_http_ir_cli_user_t   *user, *u, **slot;

    user = inv->users.elts;

    for (i = 0; i < inv->users.nelts; i++) {
        if (!user[i].found || user[i].org.data == NULL) {
            continue;
        }

        org = ngx_http_ir_cli_find_org(inv, &user[i].org);

        if (org == NULL) {
            continue;
        }

        slot = ngx_array_push(&org->users);
        if (slot == NULL) {
            return NGX_ERROR;
        }

        *slot = &user[i];
    }

    org = inv->orgs.elts;

    for (i = 0; i < inv->orgs.nelts; i++) {
        member = org[i].index.elts;

        for (j = 0; j < org[i].index.nelts; j++) {
            u = ngx_http_ir_cli_find_user(inv, &member[j]);

            if (u && u->found && u->org.data
                && ngx_http_ir_cli_str_cmp(&u->org, &org[i].name) == 0)
            {
                u->indexed = 1;
            }
        }
    }

    return NGX_OK;
}


ngx_http_ir_cli_user_t *
ngx_http_ir_cli_find_user(ngx_http_ir_cli_inventory_t *inv, ngx_str_t *name)
{
    return bsearch(name, inv->users.elts, inv->users.nelts,
                   sizeof(ngx_http_ir_cli_user_t), ngx_http_ir_cli_name_cmp);
}


ngx_http_ir_cli_org_t *
ngx_http_ir_cli_find_org(ngx_http_ir_cli_inventory_t *inv, ngx_str_t *name)
{
    return bsearch(name, inv->orgs.elts, inv->orgs.nelts,
                   sizeof(ngx_http_ir_cli_org_t), ngx_http_ir_cli_name_cmp);
}


/* for qsort() and bsearch(): strings, and entries that begin with one */

int
ngx_http_ir_cli_name_cmp(const void *one, const void *two)
{
    ngx_int_t  rc;

    rc = ngx_http_ir_cli_str_cmp(one, two);

    return (rc > 0) - (rc < 0);
}


static ngx_int_t
ngx_http_ir_cli_copy(ngx_str_t *dst, ngx_str_t *src, ngx_pool_t *pool)
{
    if (src->data == NULL) {
        ngx_str_null(dst);
        return NGX_OK;
    }

    dst->len = src->len;
    dst->data = ngx_pnalloc(pool, src->len + 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, src->data, src->len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_cli_reply_str(redisReply *r, ngx_str_t *s)
{
    if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS) {
        ngx_str_null(s);
        return NGX_DECLINED;
    }

    s->data = (u_char *) r->str;
    s->len = r->len;

    return NGX_OK;
}


static void
ngx_http_ir_cli_free(redisReply **r)
{
    if (*r) {
        freeReplyObject(*r);
        *r = NULL;
    }
}
