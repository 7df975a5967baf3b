
/*
 * ir-access check: every record, read as the gateway reads it, and what
 * in it the gateway would ignore, refuse or find surprising.
 *
 * Severities: an error is something the gateway denies or ignores (the
 * record or a value of it cannot be used as written); a warning is
 * probably not what was meant, or needs an administrator soon; info is a
 * state worth knowing.  The exit status is 1 where there are errors.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_addr.h"
#include "ngx_http_ir_cli.h"
#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_store.h"


#define NGX_HTTP_IR_CLI_ERROR          0
#define NGX_HTTP_IR_CLI_WARNING        1
#define NGX_HTTP_IR_CLI_INFO           2

/* how much of a value a table shows */
#define NGX_HTTP_IR_CLI_VALUE_SHOWN    40


typedef struct {
    ngx_uint_t                     severity;
    ngx_uint_t                     seq;
    ngx_str_t                      key;
    ngx_str_t                      field;
    ngx_str_t                      value;
    ngx_str_t                      message;
} ngx_http_ir_cli_finding_t;


typedef struct {
    ngx_http_ir_cli_t             *cli;
    ngx_array_t                    findings;
    ngx_uint_t                     count[3];
    ngx_uint_t                     today;         /* YYYYMMDD */
    ngx_uint_t                     soon;
    ngx_array_t                    user_fields;   /* of ngx_str_t */
    ngx_array_t                    org_fields;
} ngx_http_ir_cli_check_t;


static void ngx_http_ir_cli_check_org(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_org_t *org, ngx_http_ir_cli_org_keys_t *keys,
    void *data);
static void ngx_http_ir_cli_check_org_dates(ngx_http_ir_cli_check_t *ck,
    ngx_str_t *key, ngx_http_ir_org_t *org);
static void ngx_http_ir_cli_check_org_scopes(ngx_http_ir_cli_check_t *ck,
    ngx_http_ir_cli_org_t *org, ngx_http_ir_cli_org_keys_t *keys);
static void ngx_http_ir_cli_check_user(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_user_t *user, redisReply *reply,
    ngx_http_ir_record_t *rec, void *data);
static void ngx_http_ir_cli_check_pins(ngx_http_ir_cli_check_t *ck,
    ngx_str_t *key, ngx_http_ir_user_t *user);
static void ngx_http_ir_cli_check_password(ngx_http_ir_cli_check_t *ck,
    ngx_str_t *key, ngx_http_ir_user_t *user);
static void ngx_http_ir_cli_check_user_scopes(ngx_http_ir_cli_check_t *ck,
    ngx_str_t *key, ngx_http_ir_record_t *rec, ngx_uint_t org_found);
static void ngx_http_ir_cli_check_ips(ngx_http_ir_cli_check_t *ck,
    ngx_str_t *key, redisReply *type, redisReply *members,
    ngx_http_ir_user_t *user);
static void ngx_http_ir_cli_check_entry(ngx_http_ir_cli_check_t *ck,
    ngx_str_t *key, ngx_str_t *entry);
static void ngx_http_ir_cli_check_fields(ngx_http_ir_cli_check_t *ck,
    ngx_str_t *key, redisReply *fields, ngx_http_ir_field_t *known,
    ngx_array_t *names, ngx_array_t *others, const char *other);
static void ngx_http_ir_cli_check_status(ngx_http_ir_cli_check_t *ck,
    ngx_str_t *key, ngx_str_t *status, const char *whose,
    const char *reason, ngx_http_ir_cli_user_t *user);
static void ngx_http_ir_cli_check_words(ngx_http_ir_cli_check_t *ck,
    ngx_str_t *key, const char *field, ngx_str_t *list, ngx_array_t *known,
    const char *directive);
static void ngx_http_ir_cli_check_quotas(ngx_http_ir_cli_check_t *ck,
    ngx_str_t *key, ngx_str_t *rate, ngx_str_t *daily, const char *whose,
    const char *denied);
static ngx_int_t ngx_http_ir_cli_check_maintenance(
    ngx_http_ir_cli_check_t *ck);
static void ngx_http_ir_cli_check_links(ngx_http_ir_cli_check_t *ck,
    ngx_http_ir_cli_inventory_t *inv);
static void ngx_http_ir_cli_check_strays(ngx_http_ir_cli_check_t *ck,
    ngx_http_ir_cli_inventory_t *inv);
static void ngx_http_ir_cli_found(ngx_http_ir_cli_check_t *ck,
    ngx_uint_t severity, ngx_str_t *key, const char *field,
    ngx_str_t *value, const char *fmt, ...);
static ngx_int_t ngx_http_ir_cli_names(ngx_array_t *names,
    ngx_http_ir_field_t *fields, ngx_pool_t *pool);
static ngx_int_t ngx_http_ir_cli_word(u_char **pos, u_char *last,
    ngx_str_t *word);
static int ngx_http_ir_cli_finding_cmp(const void *one, const void *two);
static void ngx_http_ir_cli_check_print(ngx_http_ir_cli_check_t *ck,
    ngx_http_ir_cli_inventory_t *inv, ngx_msec_t took);
static void ngx_http_ir_cli_check_json(ngx_http_ir_cli_check_t *ck,
    ngx_http_ir_cli_inventory_t *inv, ngx_msec_t took);


static const char  *ngx_http_ir_cli_severities[] = {
    "error", "warning", "info"
};

static ngx_str_t  ngx_http_ir_cli_statuses[] = {
    ngx_string(NGX_HTTP_IR_STATUS_ACTIVE),
    ngx_string(NGX_HTTP_IR_STATUS_LOCKED),
    ngx_string(NGX_HTTP_IR_STATUS_DISABLED),
    ngx_string(NGX_HTTP_IR_STATUS_SUSPENDED)
};


int
ngx_http_ir_cli_check(ngx_http_ir_cli_t *cli)
{
    ngx_msec_t                    took;
    ngx_http_ir_cli_check_t       ck;
    ngx_http_ir_cli_inventory_t   inv;

    if (cli->argc) {
        ngx_http_ir_cli_error("\"check\" takes no argument \"%s\"",
                              cli->argv[0]);
        return NGX_HTTP_IR_CLI_USAGE;
    }

    ngx_memzero(&ck, sizeof(ngx_http_ir_cli_check_t));
    ngx_memzero(&inv, sizeof(ngx_http_ir_cli_inventory_t));

    ck.cli = cli;
    ck.today = ngx_http_ir_cli_today(cli, 0);
    ck.soon = ngx_http_ir_cli_today(cli, cli->days);

    if (ngx_array_init(&ck.findings, cli->pool, 64,
                       sizeof(ngx_http_ir_cli_finding_t))
        != NGX_OK
        || ngx_http_ir_cli_names(&ck.user_fields, ngx_http_ir_user_fields,
                                 cli->pool)
           != NGX_OK
        || ngx_http_ir_cli_names(&ck.org_fields, ngx_http_ir_org_fields,
                                 cli->pool)
           != NGX_OK)
    {
        return NGX_HTTP_IR_CLI_INTERNAL;
    }

    inv.user_handler = ngx_http_ir_cli_check_user;
    inv.org_handler = ngx_http_ir_cli_check_org;
    inv.data = &ck;

    if (ngx_http_ir_cli_inventory(cli, &inv) != NGX_OK
        || ngx_http_ir_cli_check_maintenance(&ck) != NGX_OK)
    {
        return NGX_HTTP_IR_CLI_REDIS;
    }

    ngx_http_ir_cli_check_links(&ck, &inv);
    ngx_http_ir_cli_check_strays(&ck, &inv);

    qsort(ck.findings.elts, ck.findings.nelts,
          sizeof(ngx_http_ir_cli_finding_t), ngx_http_ir_cli_finding_cmp);

    took = ngx_http_ir_cli_msec() - cli->start;

    if (cli->json) {
        ngx_http_ir_cli_check_json(&ck, &inv, took);

    } else {
        ngx_http_ir_cli_check_print(&ck, &inv, took);
    }

    return ck.count[NGX_HTTP_IR_CLI_ERROR] ? NGX_HTTP_IR_CLI_FOUND
                                           : NGX_HTTP_IR_CLI_OK;
}


/* organisations ---------------------------------------------------------- */

static void
ngx_http_ir_cli_check_org(ngx_http_ir_cli_t *cli, ngx_http_ir_cli_org_t *org,
    ngx_http_ir_cli_org_keys_t *keys, void *data)
{
    ngx_http_ir_cli_check_t *ck = data;

    u_char             *p;
    ngx_int_t           n;
    ngx_str_t           key, word, users;
    ngx_uint_t          i;
    redisReply         *f;
    ngx_http_ir_org_t  *o;
    u_char              buf[NGX_HTTP_IR_KEY_MAX];

    o = &org->org;

    key.data = buf;
    key.len = ngx_http_ir_key(buf, &cli->conf.prefix, NGX_HTTP_IR_KEY_ORG_HASH,
                              &org->name) - buf;

    if (keys->hash_type.len == 4
        && ngx_strncmp(keys->hash_type.data, "none", 4) == 0)
    {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, &key, NULL, NULL,
                              "no such record, but keys of it are there "
                              "(its scopes or its users' set): a leftover, "
                              "or the organisation's hash was deleted");

    } else if (!o->found) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key, NULL,
                              &keys->hash_type,
                              "is a %V, not a hash: the gateway ignores it "
                              "and denies its users (org_unknown)",
                              &keys->hash_type);

    } else if (keys->fields == NULL) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key, NULL, NULL,
                              "has %i fields, more than %d: refused, its "
                              "users are denied (bad_record)",
                              keys->hash_len, NGX_HTTP_IR_FIELDS_MAX);

    } else {
        ngx_http_ir_cli_check_fields(ck, &key, keys->fields,
                                     ngx_http_ir_org_fields, &ck->org_fields,
                                     &ck->user_fields, "the users' records");

        ngx_http_ir_cli_check_status(ck, &key, &o->status,
                                     "the organisation is",
                                     "its users are denied (org_suspended)",
                                     NULL);

        ngx_http_ir_cli_check_org_dates(ck, &key, o);
        ngx_http_ir_cli_check_quotas(ck, &key, &o->rate, &o->daily,
                                     "its users", "its users are denied");

        /* the environments, against those the configuration names */

        if (cli->conf.envs.nelts && o->env.data == NULL) {
            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, &key,
                                  NGX_HTTP_IR_FIELD_ENV, NULL,
                                  "no \"env\" field: its users are denied "
                                  "(env_mismatch) wherever ir_access_env is "
                                  "set");
        }

        if (cli->conf.read && o->env.data) {
            ngx_http_ir_cli_check_words(ck, &key, NGX_HTTP_IR_FIELD_ENV,
                                        &o->env, &cli->conf.envs,
                                        "ir_access_env");
        }

        /* countries are two-letter codes, as GeoIP databases give them */

        p = o->countries.data;

        while (p && ngx_http_ir_cli_word(&p, o->countries.data
                                             + o->countries.len, &word)
                    == NGX_OK)
        {
            if (word.len != 2 || !isalpha(word.data[0])
                || !isalpha(word.data[1]))
            {
                ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, &key,
                                      NGX_HTTP_IR_FIELD_COUNTRIES, &word,
                                      "not a two-letter country code: no "
                                      "address is ever of it");
            }
        }

        /* "users", the users the contract covers */

        ngx_str_null(&users);

        for (i = 0; i + 1 < keys->fields->elements; i += 2) {
            f = keys->fields->element[i];

            if (f->type == REDIS_REPLY_STRING
                && f->len == sizeof(NGX_HTTP_IR_FIELD_USERS) - 1
                && ngx_strncmp(f->str, NGX_HTTP_IR_FIELD_USERS, f->len) == 0
                && keys->fields->element[i + 1]->type == REDIS_REPLY_STRING)
            {
                users.data = (u_char *) keys->fields->element[i + 1]->str;
                users.len = keys->fields->element[i + 1]->len;
            }
        }

        if (users.data) {
            n = ngx_atoi(users.data, users.len);

            if (n <= 0) {
                ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, &key,
                                      NGX_HTTP_IR_FIELD_USERS, &users,
                                      "not a number of users: the contract "
                                      "is taken to cover %d",
                                      NGX_HTTP_IR_USERS_DEFAULT);
            }
        }
    }

    ngx_http_ir_cli_check_org_scopes(ck, org, keys);

    /* the purposes of use the contract allows */

    key.len = ngx_http_ir_key(buf, &cli->conf.prefix,
                              NGX_HTTP_IR_KEY_ORG_PURPOSES, &org->name) - buf;

    if (keys->purposes_type.len == 4
        && ngx_strncmp(keys->purposes_type.data, "none", 4) == 0)
    {
        if (o->found && cli->conf.purpose_on) {
            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, &key, NULL,
                                  NULL, "no purposes allowed: its users are "
                                  "denied (purpose_not_allowed) wherever "
                                  "ir_access_purpose is set");
        }

    } else if (!(keys->purposes_type.len == 3
                 && ngx_strncmp(keys->purposes_type.data, "set", 3) == 0))
    {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key, NULL,
                              &keys->purposes_type,
                              "is a %V, not a set: ignored, no purpose is "
                              "allowed (purpose_not_allowed)",
                              &keys->purposes_type);
    }

    if (keys->index_type.len
        && !(keys->index_type.len == 4
             && ngx_strncmp(keys->index_type.data, "none", 4) == 0)
        && !(keys->index_type.len == 3
             && ngx_strncmp(keys->index_type.data, "set", 3) == 0))
    {
        key.len = ngx_http_ir_key(buf, &cli->conf.prefix,
                                  NGX_HTTP_IR_KEY_ORG_USERS, &org->name)
                  - buf;

        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key, NULL,
                              &keys->index_type,
                              "is a %V, not a set of user names: run "
                              "\"ir-access index\"", &keys->index_type);
    }
}


static void
ngx_http_ir_cli_check_org_dates(ngx_http_ir_cli_check_t *ck, ngx_str_t *key,
    ngx_http_ir_org_t *o)
{
    u_char  date[16];

    if (o->from == NGX_HTTP_IR_DATE_INVALID) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key,
                              NGX_HTTP_IR_FIELD_VALID_FROM, &o->valid_from,
                              "not a YYYY-MM-DD date: its users are denied "
                              "(contract_not_active)");
    }

    if (o->to == NGX_HTTP_IR_DATE_INVALID) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key,
                              NGX_HTTP_IR_FIELD_VALID_TO, &o->valid_to,
                              "not a YYYY-MM-DD date: its users are denied "
                              "(contract_not_active)");
    }

    if (o->from == NGX_HTTP_IR_DATE_INVALID
        || o->to == NGX_HTTP_IR_DATE_INVALID)
    {
        return;
    }

    if (o->from && o->to && o->from > o->to) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key,
                              NGX_HTTP_IR_FIELD_VALID_TO, &o->valid_to,
                              "the contract ends before it starts (%V): it "
                              "is never active (contract_not_active)",
                              &o->valid_from);
        return;
    }

    if (o->to && o->to < ck->today) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, key,
                              NGX_HTTP_IR_FIELD_VALID_TO, &o->valid_to,
                              "the contract has ended: its users are "
                              "denied (contract_not_active)");

    } else if (o->to && o->to <= ck->soon) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, key,
                              NGX_HTTP_IR_FIELD_VALID_TO, &o->valid_to,
                              "the contract ends within %i days, on %*s",
                              ck->cli->days,
                              ngx_http_ir_cli_date(date, o->to) - date,
                              date);
    }

    if (o->from && o->from > ck->today) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_INFO, key,
                              NGX_HTTP_IR_FIELD_VALID_FROM, &o->valid_from,
                              "the contract has not started: its users are "
                              "denied until then (contract_not_active)");
    }
}


static void
ngx_http_ir_cli_check_org_scopes(ngx_http_ir_cli_check_t *ck,
    ngx_http_ir_cli_org_t *org, ngx_http_ir_cli_org_keys_t *keys)
{
    ngx_str_t           key, member, *near;
    ngx_uint_t          i;
    redisReply         *m;
    ngx_http_ir_cli_t  *cli;
    u_char              buf[NGX_HTTP_IR_KEY_MAX];

    cli = ck->cli;

    key.data = buf;
    key.len = ngx_http_ir_key(buf, &cli->conf.prefix,
                              NGX_HTTP_IR_KEY_ORG_SCOPES, &org->name) - buf;

    if (keys->scopes_type.len == 4
        && ngx_strncmp(keys->scopes_type.data, "none", 4) == 0)
    {
        if (org->org.found && cli->conf.scopes.nelts) {
            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, &key, NULL,
                                  NULL, "no scopes granted: its users are "
                                  "denied (scope_denied) wherever "
                                  "ir_access_scope is set");
        }

        return;
    }

    if (keys->members == NULL) {
        if (keys->scopes_type.len == 3
            && ngx_strncmp(keys->scopes_type.data, "set", 3) == 0)
        {
            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key, NULL, NULL,
                                  "has %i members, more than %d: refused, "
                                  "no scope is granted (scope_denied)",
                                  keys->scopes_len, NGX_HTTP_IR_SCOPES_MAX);
            return;
        }

        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key, NULL,
                              &keys->scopes_type,
                              "is a %V, not a set: ignored, no scope is "
                              "granted (scope_denied)", &keys->scopes_type);
        return;
    }

    for (i = 0; i < keys->members->elements; i++) {
        m = keys->members->element[i];

        if (m->type != REDIS_REPLY_STRING) {
            continue;
        }

        member.data = (u_char *) m->str;
        member.len = m->len;

        if (member.len == 0 || member.len > NGX_HTTP_IR_VALUE_MAX
            || ngx_http_ir_value_valid(&member) != NGX_OK)
        {
            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key, NULL,
                                  &member, "empty, over-long or holding a "
                                  "control character: the gateway ignores "
                                  "this scope");
            continue;
        }

        if (!cli->conf.read
            || ngx_http_ir_list_find(&cli->conf.scopes, &member) == NGX_OK)
        {
            continue;
        }

        near = ngx_http_ir_cli_nearest(&member, cli->conf.scopes.elts,
                                       cli->conf.scopes.nelts);

        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, &key, NULL,
                              &member, "no ir_access_scope in the "
                              "configuration asks for this scope%s%V%s",
                              near ? " (did you mean \"" : " (a typo?)",
                              near ? near : &member, near ? "\"?)" : "");
    }
}


/* users ------------------------------------------------------------------ */

static void
ngx_http_ir_cli_check_user(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_user_t *user, redisReply *reply,
    ngx_http_ir_record_t *rec, void *data)
{
    ngx_http_ir_cli_check_t *ck = data;

    ngx_str_t     key, ips, type;
    redisReply  **e;
    u_char        buf[NGX_HTTP_IR_KEY_MAX], ips_buf[NGX_HTTP_IR_KEY_MAX];

    e = reply->element;

    key.data = buf;
    key.len = ngx_http_ir_key(buf, &cli->conf.prefix,
                              NGX_HTTP_IR_KEY_USER_HASH, &user->name) - buf;

    ips.data = ips_buf;
    ips.len = ngx_http_ir_key(ips_buf, &cli->conf.prefix,
                              NGX_HTTP_IR_KEY_USER_IPS, &user->name)
              - ips_buf;

    type.data = (u_char *) e[0]->str;
    type.len = e[0]->len;

    if (ngx_http_ir_cli_is(e[0], "none")) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, &ips, NULL, NULL,
                              "an allowlist of no user: there is no %V "
                              "(a leftover, or the user's hash was "
                              "deleted)", &key);
        return;
    }

    if (ngx_http_ir_cli_is(e[0], "toolarge")) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key, NULL, NULL,
                              "has more than %d fields: refused, the user is "
                              "denied (bad_record)", NGX_HTTP_IR_FIELDS_MAX);
        return;
    }

    if (!ngx_http_ir_cli_is(e[0], "hash")) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key, NULL, &type,
                              "is a %V, not a hash: the gateway ignores it "
                              "and denies the user (unknown_user)", &type);
        return;
    }

    ngx_http_ir_cli_check_fields(ck, &key, e[1], ngx_http_ir_user_fields,
                                 &ck->user_fields, &ck->org_fields,
                                 "the organisation's record");

    ngx_http_ir_cli_check_status(ck, &key, &rec->user.status, "the user is",
                                 "denied (user_disabled)", user);

    ngx_http_ir_cli_check_quotas(ck, &key, &rec->user.rate, &rec->user.daily,
                                 "the user", "the user is denied");

    /* the organisation */

    if (rec->user.org.data == NULL) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key,
                              NGX_HTTP_IR_FIELD_ORG, NULL,
                              "no \"org\" field: the user is denied "
                              "(org_unknown)");

    } else if (ngx_http_ir_name_valid(&rec->user.org) != NGX_OK) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key,
                              NGX_HTTP_IR_FIELD_ORG, &rec->user.org,
                              "not a name of 1 to %d letters, digits and "
                              "\"._@-\": the record is refused (bad_record)",
                              NGX_HTTP_IR_NAME_MAX);

    } else if (ngx_http_ir_cli_is(e[4], "none")) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key,
                              NGX_HTTP_IR_FIELD_ORG, &rec->user.org,
                              "names no organisation (there is no %V%s%V): "
                              "the user is denied (org_unknown)",
                              &cli->conf.prefix, NGX_HTTP_IR_KEY_ORG,
                              &rec->user.org);
    }

    ngx_http_ir_cli_check_pins(ck, &key, &rec->user);
    ngx_http_ir_cli_check_password(ck, &key, &rec->user);
    ngx_http_ir_cli_check_user_scopes(ck, &key, rec,
                                      ngx_http_ir_cli_is(e[4], "hash"));
    ngx_http_ir_cli_check_ips(ck, &ips, e[2], e[3], &rec->user);

    if (rec->user.fails) {
        key.len = ngx_http_ir_key(buf, &cli->conf.prefix,
                                  NGX_HTTP_IR_KEY_USER_FAILS, &user->name)
                  - buf;

        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_INFO, &key, NULL, NULL,
                              "%ui failed logins counted towards the "
                              "lockout", rec->user.fails);
    }
}


/* each word of "cert", as the gateway reads them (record.c) */

static void
ngx_http_ir_cli_check_pins(ngx_http_ir_cli_check_t *ck, ngx_str_t *key,
    ngx_http_ir_user_t *user)
{
    u_char      *p, *last;
    ngx_str_t    word;
    ngx_uint_t   words;
    u_char       digest[NGX_HTTP_IR_DIGEST_LEN];

    if (user->cert.data == NULL) {
        ngx_http_ir_cli_found(ck, ck->cli->conf.pin_off
                                  ? NGX_HTTP_IR_CLI_WARNING
                                  : NGX_HTTP_IR_CLI_ERROR,
                              key, NGX_HTTP_IR_FIELD_CERT, NULL,
                              "no \"cert\" field: the user is denied "
                              "(cert_mismatch) wherever ir_access_cert_pin "
                              "is on, the default");
        return;
    }

    p = user->cert.data;
    last = p + user->cert.len;
    words = 0;

    while (ngx_http_ir_cli_word(&p, last, &word) == NGX_OK) {

        if ((word.len == 6
             && ngx_strncasecmp(word.data, (u_char *) "sha256", 6) == 0)
            || (word.len == 4
                && ngx_strncasecmp(word.data, (u_char *) "sha1", 4) == 0)
            || (word.len == 3
                && ngx_strncasecmp(word.data, (u_char *) "md5", 3) == 0))
        {
            continue;
        }

        words++;

        if (ngx_http_ir_parse_pin(&word, digest) == NGX_OK) {
            continue;
        }

        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key,
                              NGX_HTTP_IR_FIELD_CERT, &word,
                              "%s: the gateway ignores this pin",
                              ngx_http_ir_pin_hint(&word));
    }

    if (words == 0) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key,
                              NGX_HTTP_IR_FIELD_CERT, &user->cert,
                              "no pin in the field: every certificate is "
                              "denied (cert_mismatch)");
    }
}


static void
ngx_http_ir_cli_check_password(ngx_http_ir_cli_check_t *ck, ngx_str_t *key,
    ngx_http_ir_user_t *user)
{
    ngx_str_t  shown;

    if (user->hash == NGX_HTTP_IR_HASH_NONE) {
        if (ck->cli->conf.password_on) {
            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, key,
                                  NGX_HTTP_IR_FIELD_PASSWORD, NULL,
                                  "no \"password\" field: the user is denied "
                                  "(bad_password) wherever "
                                  "ir_access_password is on");
        }

        return;
    }

    /* a password, even one in clear, is never shown */

    ngx_str_set(&shown, "(not shown)");

    if (user->hash == NGX_HTTP_IR_HASH_UNKNOWN) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key,
                              NGX_HTTP_IR_FIELD_PASSWORD, &shown,
                              "no hash the gateway knows: %s; the user is "
                              "denied (bad_record) wherever "
                              "ir_access_password is on",
                              ngx_strlchr(user->password.data,
                                          user->password.data
                                          + user->password.len, ':')
                              && user->password.data[0] != '$'
                              && user->password.data[0] != '{'
                              ? "a whole htpasswd line? keep only what "
                                "follows the name and \":\""
                              : user->password.len
                                && user->password.data[0] == '$'
                                ? "a crypt() scheme the system does not "
                                  "name ($2b$, $y$, $6$, $5$, $1$, ...)"
                                : "a password in clear? store a hash "
                                  "(htpasswd -B, mkpasswd)");
        return;
    }

    if (user->password.len > 7
        && ngx_strncmp(user->password.data, "{PLAIN}", 7) == 0)
    {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, key,
                              NGX_HTTP_IR_FIELD_PASSWORD, &shown,
                              "a password in clear text ({PLAIN}): store a "
                              "hash (htpasswd -B, mkpasswd)");
    }
}


/* the user's own "scopes", which narrow the organisation's grant */

static void
ngx_http_ir_cli_check_user_scopes(ngx_http_ir_cli_check_t *ck,
    ngx_str_t *key, ngx_http_ir_record_t *rec, ngx_uint_t org_found)
{
    u_char     *p, *last;
    ngx_str_t   word;
    ngx_uint_t  words;

    if (rec->user.scopes.data == NULL) {
        return;
    }

    p = rec->user.scopes.data;
    last = p + rec->user.scopes.len;
    words = 0;

    while (ngx_http_ir_cli_word(&p, last, &word) == NGX_OK) {
        words++;

        if (org_found
            && ngx_http_ir_list_find(&rec->org.scopes, &word) != NGX_OK)
        {
            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, key,
                                  NGX_HTTP_IR_FIELD_SCOPES, &word,
                                  "not in the organisation's grant "
                                  "(%V%s%V%s): never granted",
                                  &ck->cli->conf.prefix, NGX_HTTP_IR_KEY_ORG,
                                  &rec->user.org, NGX_HTTP_IR_KEY_SCOPES);
        }
    }

    if (words == 0) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, key,
                              NGX_HTTP_IR_FIELD_SCOPES, &rec->user.scopes,
                              "an empty \"scopes\" field narrows the grant "
                              "to nothing: denied (scope_denied) wherever "
                              "ir_access_scope is set");
        return;
    }

    if (ck->cli->conf.read) {
        ngx_http_ir_cli_check_words(ck, key, NGX_HTTP_IR_FIELD_SCOPES,
                                    &rec->user.scopes, &ck->cli->conf.scopes,
                                    "ir_access_scope");
    }
}


static void
ngx_http_ir_cli_check_ips(ngx_http_ir_cli_check_t *ck, ngx_str_t *key,
    redisReply *type, redisReply *members, ngx_http_ir_user_t *user)
{
    ngx_str_t    entry, t;
    ngx_uint_t   i;
    redisReply  *m;

    t.data = (u_char *) type->str;
    t.len = type->len;

    if (ngx_http_ir_cli_is(type, "none")) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key, NULL, NULL,
                              "no allowlist: every address is denied "
                              "(ip_not_allowed)");
        return;
    }

    if (ngx_http_ir_cli_is(type, "toolarge")) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key, NULL, NULL,
                              "more than %d entries: refused, every address "
                              "is denied (ip_not_allowed)",
                              NGX_HTTP_IR_IPS_MAX);
        return;
    }

    if (!ngx_http_ir_cli_is(type, "set")) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key, NULL, &t,
                              "is a %V, not a set: ignored, every address "
                              "is denied (ip_not_allowed)", &t);
        return;
    }

    for (i = 0; i < members->elements; i++) {
        m = members->element[i];

        if (m->type != REDIS_REPLY_STRING) {
            continue;
        }

        entry.data = (u_char *) m->str;
        entry.len = m->len;

        ngx_http_ir_cli_check_entry(ck, key, &entry);
    }

    if (user->ips.nelts == 0) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key, NULL, NULL,
                              "no usable entry: every address is denied "
                              "(ip_not_allowed)");
    }
}


/* an allowlist entry, taken by the gateway as written or not at all */

static void
ngx_http_ir_cli_check_entry(ngx_http_ir_cli_check_t *ck, ngx_str_t *key,
    ngx_str_t *entry)
{
    u_char      *slash;
    size_t       len;
    ngx_int_t    rc;
    ngx_str_t    host;
    ngx_cidr_t   cidr;
    u_char       net[NGX_SOCKADDR_STRLEN + 1];

    rc = ngx_http_ir_addr_parse(entry, &cidr);

    if (rc == NGX_OK) {
        return;
    }

    if (rc == NGX_DONE) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, key, NULL, entry,
                              "allows every address");
        return;
    }

    slash = ngx_strlchr(entry->data, entry->data + entry->len, '/');

    /* what nginx reads it as: a network with host bits set */

    if (slash && entry->len <= NGX_SOCKADDR_STRLEN + 4
        && ngx_ptocidr(entry, &cidr) == NGX_DONE)
    {
        host.data = entry->data;
        host.len = slash - entry->data;

        if (cidr.family == AF_INET && cidr.u.in.mask == 0) {
            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key, NULL, entry,
                                  "\"/0\" after an address is taken for "
                                  "nothing, not for every address: the "
                                  "gateway ignores it (did you mean "
                                  "\"%V/32\"?)", &host);
            return;
        }

#if (NGX_HAVE_INET6)
        if (cidr.family == AF_INET6 && cidr.u.in6.mask.s6_addr[0] == 0) {
            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key, NULL, entry,
                                  "\"/0\" after an address is taken for "
                                  "nothing, not for every address: the "
                                  "gateway ignores it (did you mean "
                                  "\"%V/128\"?)", &host);
            return;
        }
#endif

        len = ngx_inet_ntop(cidr.family,
                            cidr.family == AF_INET
                            ? (void *) &cidr.u.in.addr
#if (NGX_HAVE_INET6)
                            : (void *) &cidr.u.in6.addr,
#else
                            : NULL,
#endif
                            net, NGX_SOCKADDR_STRLEN);

        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key, NULL, entry,
                              "host bits set past the prefix: the gateway "
                              "ignores it (did you mean the network "
                              "\"%*s%*s\", or the one address \"%V\"?)",
                              len, net,
                              entry->data + entry->len - slash, slash,
                              &host);
        return;
    }

    ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key, NULL, entry,
                          "not an IP address or a CIDR prefix: the gateway "
                          "ignores it");
}


/* the fields of a hash: those the gateway does not know, and bad values */

static void
ngx_http_ir_cli_check_fields(ngx_http_ir_cli_check_t *ck, ngx_str_t *key,
    redisReply *fields, ngx_http_ir_field_t *known, ngx_array_t *names,
    ngx_array_t *others, const char *other)
{
    char                 field_name[NGX_HTTP_IR_NAME_MAX + 1];
    ngx_str_t            field, value, *near;
    ngx_uint_t           i;
    redisReply          *f, *v;
    ngx_http_ir_field_t  *k;

    for (i = 0; i + 1 < fields->elements; i += 2) {
        f = fields->element[i];
        v = fields->element[i + 1];

        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            continue;
        }

        field.data = (u_char *) f->str;
        field.len = f->len;
        value.data = (u_char *) v->str;
        value.len = v->len;

        ngx_cpystrn((u_char *) field_name, field.data,
                    ngx_min(field.len, NGX_HTTP_IR_NAME_MAX) + 1);

        for (k = known; k->name.len; k++) {
            if (k->name.len == field.len
                && ngx_strncmp(k->name.data, field.data, field.len) == 0)
            {
                break;
            }
        }

        if (k->name.len == 0) {
            near = ngx_http_ir_cli_nearest(&field, names->elts, names->nelts);

            if (near) {
                ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, key,
                                      field_name, &value,
                                      "unknown field, ignored by the "
                                      "gateway (did you mean \"%V\"?)", near);

            } else if (ngx_http_ir_list_find(others, &field) == NGX_OK) {
                ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, key,
                                      field_name, &value,
                                      "a field of %s, ignored here by the "
                                      "gateway", other);

            } else if ((near = ngx_http_ir_cli_nearest(&field, others->elts,
                                                       others->nelts)))
            {
                ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, key,
                                      field_name, &value,
                                      "unknown field, ignored by the "
                                      "gateway (\"%V\" of %s?)", near, other);

            } else {
                ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, key,
                                      field_name, &value,
                                      "unknown field, ignored by the "
                                      "gateway");
            }

            continue;
        }

        if (value.len > NGX_HTTP_IR_VALUE_MAX) {
            value.len = 64;
            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key, field_name,
                                  &value, "%uz bytes long, over the limit of "
                                  "%d: the record is refused (bad_record)",
                                  (size_t) v->len, NGX_HTTP_IR_VALUE_MAX);
            continue;
        }

        if (ngx_http_ir_value_valid(&value) != NGX_OK) {
            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key, field_name,
                                  k->offset == offsetof(ngx_http_ir_user_t,
                                                        password)
                                  && known == ngx_http_ir_user_fields
                                  ? NULL : &value,
                                  "holds a control character: the record is "
                                  "refused (bad_record)");
        }
    }
}


static void
ngx_http_ir_cli_check_status(ngx_http_ir_cli_check_t *ck, ngx_str_t *key,
    ngx_str_t *status, const char *whose, const char *reason,
    ngx_http_ir_cli_user_t *user)
{
    ngx_str_t   *near;
    ngx_uint_t   i;

    if (status->data == NULL) {
        return;
    }

    for (i = 0; i < 4; i++) {
        if (status->len == ngx_http_ir_cli_statuses[i].len
            && ngx_strncmp(status->data, ngx_http_ir_cli_statuses[i].data,
                           status->len) == 0)
        {
            break;
        }
    }

    switch (i) {

    case 0: /* active */
        return;

    case 1: /* locked */
        if (user) {
            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, key,
                                  NGX_HTTP_IR_FIELD_STATUS, status,
                                  "the account is locked since %V: %V; it "
                                  "is denied (account_locked) until "
                                  "\"status\" is \"active\" again",
                                  user->locked_at.data ? &user->locked_at
                                                       : status,
                                  user->lock_reason.data
                                  ? &user->lock_reason : status);
            return;
        }

        /* fall through */

    case 2:
    case 3:
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_INFO, key,
                              NGX_HTTP_IR_FIELD_STATUS, status,
                              "%s %V: %s", whose, status, reason);
        return;
    }

    near = ngx_http_ir_cli_nearest(status, ngx_http_ir_cli_statuses, 4);

    ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key,
                          NGX_HTTP_IR_FIELD_STATUS, status,
                          "not a status the gateway knows (active, locked, "
                          "disabled, suspended; case matters): %s%s%V%s",
                          reason, near ? " (did you mean \"" : "",
                          near ? near : status, near ? "\"?)" : "");
}


/* words of a list that the configuration never names */

static void
ngx_http_ir_cli_check_words(ngx_http_ir_cli_check_t *ck, ngx_str_t *key,
    const char *field, ngx_str_t *list, ngx_array_t *known,
    const char *directive)
{
    u_char     *p, *last;
    ngx_str_t   word, *near;

    p = list->data;
    last = p + list->len;

    while (ngx_http_ir_cli_word(&p, last, &word) == NGX_OK) {

        if (ngx_http_ir_list_find(known, &word) == NGX_OK) {
            continue;
        }

        near = ngx_http_ir_cli_nearest(&word, known->elts, known->nelts);

        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, key, field, &word,
                              "no %s in the configuration names it%s%V%s",
                              directive,
                              near ? " (did you mean \"" : " (a typo?)",
                              near ? near : &word, near ? "\"?)" : "");
    }
}


/*
 * A user's or an organisation's "rate" and "daily", read by the gateway's
 * own ngx_http_ir_parse_quota(): a typo refuses the record, whose users
 * are "denied"; 0 refuses every request of "whose".  Values already found
 * with a control character or too long are not told again.
 */

static void
ngx_http_ir_cli_check_quotas(ngx_http_ir_cli_check_t *ck, ngx_str_t *key,
    ngx_str_t *rate, ngx_str_t *daily, const char *whose, const char *denied)
{
    ngx_str_t    *value, number;
    ngx_uint_t    i, n;
    const char   *field, *per;

    for (i = 0; i < 2; i++) {
        value = i ? daily : rate;
        field = i ? NGX_HTTP_IR_FIELD_DAILY : NGX_HTTP_IR_FIELD_RATE;
        per = i ? "a day" : "a minute";

        if (value->data == NULL
            || value->len > NGX_HTTP_IR_VALUE_MAX
            || ngx_http_ir_value_valid(value) != NGX_OK)
        {
            continue;
        }

        if (ngx_http_ir_parse_quota(value, &n) == NGX_OK) {

            if (n == 0) {
                ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, key,
                                      field, value,
                                      "0 requests %s: every request of %s "
                                      "is refused (%s) wherever "
                                      "ir_access_quota is on", per, whose,
                                      i ? "daily_quota_exceeded"
                                        : "rate_limited");
            }

            continue;
        }

        /* "600/m", as the directive writes a rate, is no number here */

        number = *value;

        if (!i && number.len > 2
            && ngx_strncmp(number.data + number.len - 2, "/m", 2) == 0)
        {
            number.len -= 2;
        }

        if (number.len < value->len
            && ngx_http_ir_parse_quota(&number, &n) == NGX_OK)
        {
            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key, field,
                                  value, "not a number of requests %s from "
                                  "0 to %d (did you mean \"%V\"? the field "
                                  "has no unit): the record is refused, %s "
                                  "(bad_record)", per, NGX_HTTP_IR_QUOTA_MAX,
                                  &number, denied);
            continue;
        }

        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, key, field, value,
                              "not a number of requests %s from 0 to %d: "
                              "the record is refused, %s (bad_record)", per,
                              NGX_HTTP_IR_QUOTA_MAX, denied);
    }
}


/*
 * The announced maintenance, "<prefix>maintenance", read as the gateway
 * reads it: what makes the gateway ignore it, and one in effect.
 */

static ngx_int_t
ngx_http_ir_cli_check_maintenance(ngx_http_ir_cli_check_t *ck)
{
    u_char                *p;
    ngx_int_t              rc;
    ngx_str_t              key, type, none, zone, *field, *near, *value;
    ngx_str_t              date;
    ngx_uint_t             i, ymd, state, everywhere;
    ngx_array_t            fields;
    ngx_http_ir_cli_t     *cli;
    ngx_http_ir_notice_t   notice;
    u_char                 buf[NGX_HTTP_IR_KEY_MAX];
    u_char                 end[NGX_HTTP_IR_TIME_LEN];

    static ngx_str_t  known[] = { ngx_string(NGX_HTTP_IR_FIELD_ENV),
                                  ngx_string(NGX_HTTP_IR_FIELD_UNTIL),
                                  ngx_string(NGX_HTTP_IR_FIELD_MESSAGE) };

    cli = ck->cli;

    if (cli->conf.zone.changes) {
        zone = cli->conf.zone.name;

    } else {
        ngx_str_set(&zone, "this machine's zone");
    }

    if (ngx_array_init(&fields, cli->pool, 4, sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_ir_cli_maintenance(cli, &notice, &type, &fields);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_str_set(&none, "");

    key.data = buf;
    key.len = ngx_http_ir_key(buf, &cli->conf.prefix,
                              NGX_HTTP_IR_KEY_MAINTENANCE_HASH, &none) - buf;

    if (rc == NGX_ABORT) {
        ngx_http_ir_cli_error("%V was not checked: Redis refused to read it: "
                              "%V", &key, &type);
        return NGX_OK;
    }

    if (type.len == 4 && ngx_strncmp(type.data, "none", 4) == 0) {
        return NGX_OK;
    }

    if (rc == NGX_DECLINED) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key, NULL, &type,
                              "is a %V, not a hash: the gateway cannot read "
                              "it, so there is no maintenance", &type);
        return NGX_OK;
    }

    field = fields.elts;

    for (i = 0; i < fields.nelts; i++) {
        if ((field[i].len == known[0].len
             && ngx_strncmp(field[i].data, known[0].data, known[0].len) == 0)
            || (field[i].len == known[1].len
                && ngx_strncmp(field[i].data, known[1].data, known[1].len)
                   == 0)
            || (field[i].len == known[2].len
                && ngx_strncmp(field[i].data, known[2].data, known[2].len)
                   == 0))
        {
            continue;
        }

        near = ngx_http_ir_cli_nearest(&field[i], known, 3);

        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, &key, NULL,
                              &field[i], "unknown field, ignored by the "
                              "gateway%s%V%s", near ? " (did you mean \"" : "",
                              near ? near : &none, near ? "\"?)" : "");
    }

    state = ngx_http_ir_notice_read(&notice, &cli->conf.zone, cli->now);

    switch (state) {

    case NGX_HTTP_IR_NOTICE_NONE:
    case NGX_HTTP_IR_NOTICE_NO_UNTIL:
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key,
                              NGX_HTTP_IR_FIELD_UNTIL, NULL,
                              "no \"until\" field: the gateway ignores the "
                              "maintenance (set \"until\" to an ISO 8601 "
                              "time)");
        break;

    case NGX_HTTP_IR_NOTICE_BAD_UNTIL:
        value = &notice.until;

        if (value->len > NGX_HTTP_IR_ARG_MAX) {
            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key,
                                  NGX_HTTP_IR_FIELD_UNTIL, value,
                                  "%uz bytes long, over the limit of %d: the "
                                  "gateway ignores the maintenance",
                                  value->len, NGX_HTTP_IR_ARG_MAX);
            break;
        }

        date = *value;

        if (date.len == 10 && ngx_http_ir_parse_date(&date, &ymd) == NGX_OK)
        {
            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key,
                                  NGX_HTTP_IR_FIELD_UNTIL, value,
                                  "a date alone is no time (it could mean "
                                  "either end of the day): the gateway "
                                  "ignores the maintenance (write the time "
                                  "too, such as \"%VT18:00\")", &date);
            break;
        }

        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key,
                              NGX_HTTP_IR_FIELD_UNTIL, value,
                              "not an ISO 8601 time (such as "
                              "2026-11-27T08:00:00Z or "
                              "2026-11-27T10:00+02:00): the gateway ignores "
                              "the maintenance");
        break;

    case NGX_HTTP_IR_NOTICE_LONG_ENV:
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key,
                              NGX_HTTP_IR_FIELD_ENV, &notice.env,
                              "%uz bytes long, over the limit of %d: the "
                              "gateway ignores the maintenance",
                              notice.env.len,
                              NGX_HTTP_IR_MAINTENANCE_ENV_MAX);
        break;

    case NGX_HTTP_IR_NOTICE_PAST:
        p = ngx_http_ir_notice_time(end, notice.end);

        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, &key,
                              NGX_HTTP_IR_FIELD_UNTIL, &notice.until,
                              "has passed (%*s): there is no maintenance; "
                              "delete the hash (redis-cli DEL %V)",
                              p - end, end, &key);
        break;

    case NGX_HTTP_IR_NOTICE_BAD_ENV:
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key,
                              NGX_HTTP_IR_FIELD_ENV, &notice.env,
                              "holds a control character: the gateway "
                              "ignores the maintenance");
        break;

    default: /* NGX_HTTP_IR_NOTICE_ON */
        p = ngx_http_ir_notice_time(end, notice.end);

        /* an "env" that names no place's environment closes every place */

        everywhere = ngx_http_ir_notice_applies(&notice.env, &none);

        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_INFO, &key,
                              NGX_HTTP_IR_FIELD_UNTIL, &notice.until,
                              "a maintenance is in effect until %*s%s%V%s: "
                              "guarded requests are refused (maintenance, "
                              "503) %s%V%s", p - end, end,
                              notice.local ? " (local time in " : "",
                              notice.local ? &zone : &none,
                              notice.local ? ")" : "",
                              everywhere ? "everywhere"
                                         : "where ir_access_env is one of "
                                           "\"",
                              everywhere ? &none : &notice.env,
                              everywhere ? "" : "\"");

        if (cli->conf.read && !everywhere) {
            ngx_http_ir_cli_check_words(ck, &key, NGX_HTTP_IR_FIELD_ENV,
                                        &notice.env, &cli->conf.envs,
                                        "ir_access_env");
        }

        if (notice.message_bad) {
            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_ERROR, &key,
                                  NGX_HTTP_IR_FIELD_MESSAGE, &notice.message,
                                  "longer than %d bytes, holding a control "
                                  "character or not UTF-8: the gateway "
                                  "leaves it out of its answers",
                                  NGX_HTTP_IR_MESSAGE_MAX);
        }
    }

    return NGX_OK;
}


/* what only all records together tell */

static void
ngx_http_ir_cli_check_links(ngx_http_ir_cli_check_t *ck,
    ngx_http_ir_cli_inventory_t *inv)
{
    ngx_str_t                 key, *member;
    ngx_uint_t                i, j;
    ngx_http_ir_cli_org_t    *org;
    ngx_http_ir_cli_user_t  **user, *u;
    u_char                    buf[NGX_HTTP_IR_KEY_MAX];

    org = inv->orgs.elts;
    key.data = buf;

    for (i = 0; i < inv->orgs.nelts; i++) {

        if (!org[i].org.found) {
            continue;
        }

        if (org[i].users.nelts == 0) {
            key.len = ngx_http_ir_key(buf, &ck->cli->conf.prefix,
                                      NGX_HTTP_IR_KEY_ORG_HASH, &org[i].name)
                      - buf;

            ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_INFO, &key, NULL, NULL,
                                  "the organisation has no users");
        }

        key.len = ngx_http_ir_key(buf, &ck->cli->conf.prefix,
                                  NGX_HTTP_IR_KEY_ORG_USERS, &org[i].name)
                  - buf;

        if (!org[i].index_found) {
            if (org[i].users.nelts) {
                ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, &key,
                                      NULL, NULL,
                                      "no set of the organisation's %ui "
                                      "users: run \"ir-access index\"",
                                      org[i].users.nelts);
            }

            continue;
        }

        user = org[i].users.elts;

        for (j = 0; j < org[i].users.nelts; j++) {
            if (!user[j]->indexed) {
                ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, &key, NULL,
                                      &user[j]->name,
                                      "a user of the organisation is "
                                      "missing from its set: run "
                                      "\"ir-access index\"");
            }
        }

        member = org[i].index.elts;

        for (j = 0; j < org[i].index.nelts; j++) {
            u = ngx_http_ir_cli_find_user(inv, &member[j]);

            if (u == NULL || !u->found) {
                ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, &key, NULL,
                                      &member[j],
                                      "listed, but there is no such user: "
                                      "run \"ir-access index\"");

            } else if (u->org.data == NULL
                       || ngx_http_ir_cli_str_cmp(&u->org, &org[i].name) != 0)
            {
                ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, &key, NULL,
                                      &member[j],
                                      "listed, but the user belongs to "
                                      "\"%V\": run \"ir-access index\"",
                                      u->org.data ? &u->org : &member[j]);
            }
        }
    }
}


static void
ngx_http_ir_cli_check_strays(ngx_http_ir_cli_check_t *ck,
    ngx_http_ir_cli_inventory_t *inv)
{
    ngx_str_t   *key;
    ngx_uint_t   i;

    key = inv->strays.elts;

    for (i = 0; i < inv->strays.nelts; i++) {
        ngx_http_ir_cli_found(ck, NGX_HTTP_IR_CLI_WARNING, &key[i], NULL, NULL,
                              "part of no record, never read by the gateway "
                              "(a name of 1 to %d letters, digits and "
                              "\"._@-\", and a key the schema has: user:N, "
                              "user:N:ips, org:O, org:O:scopes, "
                              "org:O:purposes, org:O:users)",
                              NGX_HTTP_IR_NAME_MAX);
    }
}


static void
ngx_http_ir_cli_found(ngx_http_ir_cli_check_t *ck, ngx_uint_t severity,
    ngx_str_t *key, const char *field, ngx_str_t *value, const char *fmt,
    ...)
{
    u_char                     *p;
    va_list                     args;
    ngx_pool_t                 *pool;
    ngx_http_ir_cli_finding_t  *f;
    u_char                      text[NGX_MAX_ERROR_STR];

    pool = ck->cli->pool;

    f = ngx_array_push(&ck->findings);
    if (f == NULL) {
        return;
    }

    ngx_memzero(f, sizeof(ngx_http_ir_cli_finding_t));

    f->severity = severity;
    f->seq = ck->findings.nelts;
    ck->count[severity]++;

    va_start(args, fmt);
    p = ngx_vslprintf(text, text + sizeof(text), fmt, args);
    va_end(args);

    f->message.len = p - text;
    f->message.data = ngx_pnalloc(pool, f->message.len);
    if (f->message.data) {
        ngx_memcpy(f->message.data, text, f->message.len);
    }

    f->key.len = key->len;
    f->key.data = ngx_pstrdup(pool, key);

    if (field) {
        f->field.len = ngx_strlen(field);
        f->field.data = ngx_pnalloc(pool, f->field.len);
        if (f->field.data) {
            ngx_memcpy(f->field.data, field, f->field.len);
        }
    }

    if (value && value->data) {
        f->value.len = value->len;
        f->value.data = ngx_pnalloc(pool, value->len + 1);
        if (f->value.data) {
            ngx_memcpy(f->value.data, value->data, value->len);
        }
    }
}


static ngx_int_t
ngx_http_ir_cli_names(ngx_array_t *names, ngx_http_ir_field_t *fields,
    ngx_pool_t *pool)
{
    ngx_str_t  *name;

    if (ngx_array_init(names, pool, 16, sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    for ( /* void */ ; fields->name.len; fields++) {
        name = ngx_array_push(names);
        if (name == NULL) {
            return NGX_ERROR;
        }

        *name = fields->name;
    }

    return NGX_OK;
}


/* the next word of a list, separated as the gateway separates them */

static ngx_int_t
ngx_http_ir_cli_word(u_char **pos, u_char *last, ngx_str_t *word)
{
    u_char  *p;

    p = *pos;

    while (p < last && (*p == ' ' || *p == ',' || *p == '\t')) {
        p++;
    }

    word->data = p;

    while (p < last && *p != ' ' && *p != ',' && *p != '\t') {
        p++;
    }

    word->len = p - word->data;
    *pos = p;

    return word->len ? NGX_OK : NGX_DONE;
}


static int
ngx_http_ir_cli_finding_cmp(const void *one, const void *two)
{
    ngx_int_t                         rc;
    const ngx_http_ir_cli_finding_t  *a = one;
    const ngx_http_ir_cli_finding_t  *b = two;

    rc = ngx_http_ir_cli_str_cmp(&a->key, &b->key);

    if (rc) {
        return (rc > 0) - (rc < 0);
    }

    return (a->seq > b->seq) - (a->seq < b->seq);
}


/* output ----------------------------------------------------------------- */

static void
ngx_http_ir_cli_check_print(ngx_http_ir_cli_check_t *ck,
    ngx_http_ir_cli_inventory_t *inv, ngx_msec_t took)
{
    ngx_str_t                   cell[4];
    ngx_uint_t                  i, k, width[4];
    ngx_http_ir_cli_finding_t  *f;
    u_char                      shown[4][NGX_HTTP_IR_KEY_MAX * 2];

    static ngx_str_t  head[] = { ngx_string("SEVERITY"), ngx_string("KEY"),
                                 ngx_string("FIELD"), ngx_string("VALUE") };

    f = ck->findings.elts;

    for (k = 0; k < 4; k++) {
        width[k] = head[k].len;
    }

    for (i = 0; i < ck->findings.nelts; i++) {
        width[1] = ngx_max(width[1], ngx_min(f[i].key.len, 48));
        width[2] = ngx_max(width[2], ngx_min(f[i].field.len, 16));
        width[3] = ngx_max(width[3], ngx_min(f[i].value.len,
                                             NGX_HTTP_IR_CLI_VALUE_SHOWN));
    }

    if (ck->findings.nelts) {
        for (k = 0; k < 4; k++) {
            ngx_http_ir_cli_cell(&head[k], width[k], 0);
        }

        ngx_http_ir_cli_print("FINDING\n");
    }

    for (i = 0; i < ck->findings.nelts; i++) {
        cell[0].data = (u_char *) ngx_http_ir_cli_severities[f[i].severity];
        cell[0].len = ngx_strlen(cell[0].data);

        cell[1].data = shown[1];
        cell[1].len = ngx_http_ir_cli_show(shown[1], shown[1] + 51,
                                           &f[i].key) - shown[1];
        cell[2].data = shown[2];
        cell[2].len = ngx_http_ir_cli_show(shown[2], shown[2] + 19,
                                           &f[i].field) - shown[2];
        cell[3].data = shown[3];
        cell[3].len = ngx_http_ir_cli_show(shown[3],
                                           shown[3]
                                           + NGX_HTTP_IR_CLI_VALUE_SHOWN + 3,
                                           &f[i].value) - shown[3];

        for (k = 0; k < 4; k++) {
            if (cell[k].len == 0) {
                ngx_str_set(&cell[k], "-");
            }

            ngx_http_ir_cli_cell(&cell[k], width[k], 0);
        }

        ngx_http_ir_cli_cell(&f[i].message, 0, 1);
    }

    ngx_http_ir_cli_print("%s%ui users, %ui organisations, %ui keys checked "
                          "in %M.%03M s: %ui error%s, %ui warning%s, "
                          "%ui info\n",
                          ck->findings.nelts ? "\n" : "",
                          inv->users.nelts, inv->orgs.nelts, inv->keys,
                          took / 1000, took % 1000,
                          ck->count[0], ck->count[0] == 1 ? "" : "s",
                          ck->count[1], ck->count[1] == 1 ? "" : "s",
                          ck->count[2]);
}


static void
ngx_http_ir_cli_check_json(ngx_http_ir_cli_check_t *ck,
    ngx_http_ir_cli_inventory_t *inv, ngx_msec_t took)
{
    ngx_uint_t                  i;
    ngx_http_ir_cli_finding_t  *f;

    f = ck->findings.elts;

    ngx_http_ir_cli_print("{\"findings\":[");

    for (i = 0; i < ck->findings.nelts; i++) {
        ngx_http_ir_cli_print("%s{\"severity\":\"%s\",\"key\":",
                              i ? ",\n" : "\n",
                              ngx_http_ir_cli_severities[f[i].severity]);
        ngx_http_ir_cli_json_str(&f[i].key);
        ngx_http_ir_cli_json_key("field", 0);
        ngx_http_ir_cli_json_str(&f[i].field);
        ngx_http_ir_cli_json_key("value", 0);
        ngx_http_ir_cli_json_str(&f[i].value);
        ngx_http_ir_cli_json_key("message", 0);
        ngx_http_ir_cli_json_str(&f[i].message);
        ngx_http_ir_cli_print("}");
    }

    ngx_http_ir_cli_print("],\n\"users\":%ui,\"organisations\":%ui,"
                          "\"keys\":%ui,\"errors\":%ui,\"warnings\":%ui,"
                          "\"info\":%ui,\"seconds\":%M.%03M}\n",
                          inv->users.nelts, inv->orgs.nelts, inv->keys,
                          ck->count[0], ck->count[1], ck->count[2],
                          took / 1000, took % 1000);
}
