
/*
 * ir-access index: each organisation's set of users, org:<org>:users,
 * rebuilt from the users' "org" fields, so that an organisation's users
 * can be counted and listed without a scan.  The gateway never reads it.
 *
 * Only what differs is written: the users missing from a set are added
 * and those listed wrongly removed, a thousand at a time; a set of an
 * organisation that has no record, or a key of another type, is deleted.
 * A user edited while this runs is set right by the next run, and
 * "ir-access check" says when one is due.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_cli.h"


#define NGX_HTTP_IR_CLI_MEMBERS        1000


typedef struct {
    ngx_http_ir_cli_t             *cli;
    ngx_uint_t                     added;
    ngx_uint_t                     removed;
    ngx_uint_t                     deleted;
    ngx_uint_t                     changed;       /* organisations */
    ngx_uint_t                     first;         /* for JSON */
} ngx_http_ir_cli_index_t;


static ngx_int_t ngx_http_ir_cli_index_org(ngx_http_ir_cli_index_t *ix,
    ngx_http_ir_cli_org_t *org);
static ngx_int_t ngx_http_ir_cli_index_write(ngx_http_ir_cli_index_t *ix,
    const char *command, ngx_str_t *key, ngx_str_t **members, ngx_uint_t n);
static void ngx_http_ir_cli_index_say(ngx_http_ir_cli_index_t *ix,
    ngx_http_ir_cli_org_t *org, const char *what, ngx_str_t **members,
    ngx_uint_t n);


int
ngx_http_ir_cli_index(ngx_http_ir_cli_t *cli)
{
    ngx_uint_t                    i;
    ngx_http_ir_cli_org_t        *org;
    ngx_http_ir_cli_index_t       ix;
    ngx_http_ir_cli_inventory_t   inv;

    if (cli->argc) {
        ngx_http_ir_cli_error("\"index\" takes no argument \"%s\"",
                              cli->argv[0]);
        return NGX_HTTP_IR_CLI_USAGE;
    }

    ngx_memzero(&ix, sizeof(ngx_http_ir_cli_index_t));
    ngx_memzero(&inv, sizeof(ngx_http_ir_cli_inventory_t));

    ix.cli = cli;
    ix.first = 1;

    if (ngx_http_ir_cli_inventory(cli, &inv) != NGX_OK) {
        return NGX_HTTP_IR_CLI_REDIS;
    }

    if (cli->json) {
        ngx_http_ir_cli_print("{\"changes\":[");
    }

    org = inv.orgs.elts;

    for (i = 0; i < inv.orgs.nelts; i++) {
        if (ngx_http_ir_cli_index_org(&ix, &org[i]) != NGX_OK) {
            return NGX_HTTP_IR_CLI_REDIS;
        }
    }

    if (cli->json) {
        ngx_http_ir_cli_print("],\n\"dry_run\":%s,\"organisations\":%ui,"
                              "\"changed\":%ui,\"added\":%ui,\"removed\":%ui,"
                              "\"deleted\":%ui}\n",
                              cli->dry_run ? "true" : "false",
                              inv.orgs.nelts, ix.changed, ix.added,
                              ix.removed, ix.deleted);

    } else {
        ngx_http_ir_cli_print("%s%ui organisations, %ui of their sets %s: "
                              "%ui users added, %ui removed, %ui sets "
                              "deleted\n", ix.changed ? "\n" : "",
                              inv.orgs.nelts, ix.changed,
                              cli->dry_run ? "would change" : "changed",
                              ix.added, ix.removed, ix.deleted);
    }

    return NGX_HTTP_IR_CLI_OK;
}


/* the set as the users say, against the set as it is; both sorted */

static ngx_int_t
ngx_http_ir_cli_index_org(ngx_http_ir_cli_index_t *ix,
    ngx_http_ir_cli_org_t *org)
{
    ngx_int_t                 rc;
    ngx_str_t                 key, *have, **add, **remove;
    ngx_uint_t                i, j, nadd, nremove;
    redisReply               *reply;
    ngx_http_ir_cli_t        *cli;
    ngx_http_ir_cli_user_t  **want;
    u_char                    buf[NGX_HTTP_IR_KEY_MAX];

    cli = ix->cli;

    key.data = buf;
    key.len = ngx_http_ir_key(buf, &cli->conf.prefix,
                              NGX_HTTP_IR_KEY_ORG_USERS, &org->name) - buf;

    /* a set of no organisation, or no set at all, goes */

    if (!org->org.found || org->index_wrong) {
        if (!org->index_found && !org->index_wrong) {
            return NGX_OK;
        }

        ix->deleted++;
        ix->changed++;

        ngx_http_ir_cli_index_say(ix, org, "deleted", NULL, 0);

        if (!cli->dry_run) {
            reply = NULL;

            if (ngx_http_ir_cli_append_key(cli, "DEL", &key) != NGX_OK
                || (reply = ngx_http_ir_cli_reply(cli)) == NULL)
            {
                return NGX_ERROR;
            }

            freeReplyObject(reply);
        }

        if (!org->org.found) {
            return NGX_OK;
        }

        org->index.nelts = 0;
    }

    want = org->users.elts;
    have = org->index.elts;

    qsort(have, org->index.nelts, sizeof(ngx_str_t),
          ngx_http_ir_cli_name_cmp);

    add = ngx_palloc(cli->pool, (org->users.nelts + org->index.nelts + 1)
                                * sizeof(ngx_str_t *));
    if (add == NULL) {
        return NGX_ERROR;
    }

    remove = add + org->users.nelts;
    nadd = 0;
    nremove = 0;

    for (i = 0, j = 0; i < org->users.nelts || j < org->index.nelts; ) {

        if (j == org->index.nelts) {
            add[nadd++] = &want[i++]->name;
            continue;
        }

        if (i == org->users.nelts) {
            remove[nremove++] = &have[j++];
            continue;
        }

        rc = ngx_http_ir_cli_str_cmp(&want[i]->name, &have[j]);

        if (rc == 0) {
            i++;
            j++;

        } else if (rc < 0) {
            add[nadd++] = &want[i++]->name;

        } else {
            remove[nremove++] = &have[j++];
        }
    }

    if (nadd == 0 && nremove == 0) {
        return NGX_OK;
    }

    if (!org->index_wrong) {
        ix->changed++;
    }

    ix->added += nadd;
    ix->removed += nremove;

    ngx_http_ir_cli_index_say(ix, org, "added", add, nadd);
    ngx_http_ir_cli_index_say(ix, org, "removed", remove, nremove);

    if (cli->dry_run) {
        return NGX_OK;
    }

    if (ngx_http_ir_cli_index_write(ix, "SADD", &key, add, nadd) != NGX_OK
        || ngx_http_ir_cli_index_write(ix, "SREM", &key, remove, nremove)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_cli_index_write(ngx_http_ir_cli_index_t *ix, const char *command,
    ngx_str_t *key, ngx_str_t **members, ngx_uint_t n)
{
    ngx_uint_t    i, k, batches;
    redisReply   *reply;
    const char   *argv[NGX_HTTP_IR_CLI_MEMBERS + 2];
    size_t        argvlen[NGX_HTTP_IR_CLI_MEMBERS + 2];

    argv[0] = command;
    argvlen[0] = ngx_strlen(command);
    argv[1] = (char *) key->data;
    argvlen[1] = key->len;

    batches = 0;

    for (i = 0; i < n; /* void */) {
        for (k = 2; k < NGX_HTTP_IR_CLI_MEMBERS + 2 && i < n; k++, i++) {
            argv[k] = (char *) members[i]->data;
            argvlen[k] = members[i]->len;
        }

        if (ngx_http_ir_cli_append(ix->cli, k, argv, argvlen) != NGX_OK) {
            return NGX_ERROR;
        }

        batches++;
    }

    while (batches--) {
        reply = ngx_http_ir_cli_reply(ix->cli);
        if (reply == NULL) {
            return NGX_ERROR;
        }

        if (reply->type == REDIS_REPLY_ERROR) {
            ngx_http_ir_cli_error("Redis refused %s on \"%V\": %*s", command,
                                  key, reply->len, reply->str);
            freeReplyObject(reply);
            return NGX_ERROR;
        }

        freeReplyObject(reply);
    }

    return NGX_OK;
}


static void
ngx_http_ir_cli_index_say(ngx_http_ir_cli_index_t *ix,
    ngx_http_ir_cli_org_t *org, const char *what, ngx_str_t **members,
    ngx_uint_t n)
{
    ngx_uint_t  i;

    if (members && n == 0) {
        return;
    }

    if (ix->cli->json) {
        ngx_http_ir_cli_print("%s\n{\"org\":", ix->first ? "" : ",");
        ix->first = 0;

        ngx_http_ir_cli_json_str(&org->name);
        ngx_http_ir_cli_print(",\"%s\":[", what);

        for (i = 0; i < n; i++) {
            if (i) {
                ngx_http_ir_cli_print(",");
            }

            ngx_http_ir_cli_json_str(members[i]);
        }

        ngx_http_ir_cli_print("]}");
        return;
    }

    if (members == NULL) {
        ngx_http_ir_cli_print("%V: the set %s\n", &org->name,
                              ix->cli->dry_run ? "would be deleted"
                                               : "deleted");
        return;
    }

    ngx_http_ir_cli_print("%V: %s%s", &org->name,
                          ix->cli->dry_run ? "would be " : "", what);

    for (i = 0; i < n; i++) {
        ngx_http_ir_cli_print(" %V", members[i]);
    }

    ngx_http_ir_cli_print("\n");
}
