
/*
 * ir-access report: what the contracts cover and what is used of them:
 * organisations with their contracts and users, those with more users
 * than their contract covers, users with more than one allowlisted
 * address, certificates that expire soon and users the gateway has not
 * seen for long (from the "seen:" hashes that the gateway writes).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_cli.h"


typedef struct {
    ngx_http_ir_cli_t             *cli;
    ngx_http_ir_cli_inventory_t    inv;
    ngx_array_t                    unaffiliated;  /* of user pointers */
    time_t                         expiring;      /* certificates before */
    time_t                         idle;          /* seen before */
} ngx_http_ir_cli_report_t;


static ngx_uint_t ngx_http_ir_cli_expiring(ngx_http_ir_cli_report_t *rp,
    ngx_http_ir_cli_user_t *user);
static ngx_uint_t ngx_http_ir_cli_idle(ngx_http_ir_cli_report_t *rp,
    ngx_http_ir_cli_user_t *user);
static ngx_int_t ngx_http_ir_cli_days(ngx_http_ir_cli_report_t *rp,
    time_t t);
static u_char *ngx_http_ir_cli_scopes(u_char *p, u_char *last,
    ngx_array_t *scopes);
static void ngx_http_ir_cli_report_print(ngx_http_ir_cli_report_t *rp);
static void ngx_http_ir_cli_report_users(ngx_http_ir_cli_report_t *rp,
    ngx_http_ir_cli_user_t **user, ngx_uint_t n);
static void ngx_http_ir_cli_report_json(ngx_http_ir_cli_report_t *rp,
    ngx_msec_t took);
static void ngx_http_ir_cli_report_json_user(ngx_http_ir_cli_report_t *rp,
    ngx_http_ir_cli_user_t *user);
static void ngx_http_ir_cli_json_time(time_t t);


int
ngx_http_ir_cli_report(ngx_http_ir_cli_t *cli)
{
    ngx_uint_t                 i;
    ngx_msec_t                 took;
    ngx_http_ir_cli_user_t    *user, **slot;
    ngx_http_ir_cli_report_t   rp;

    if (cli->argc) {
        ngx_http_ir_cli_error("\"report\" takes no argument \"%s\"",
                              cli->argv[0]);
        return NGX_HTTP_IR_CLI_USAGE;
    }

    ngx_memzero(&rp, sizeof(ngx_http_ir_cli_report_t));

    rp.cli = cli;
    rp.inv.seen = 1;
    rp.expiring = cli->now + cli->days * 86400;
    rp.idle = cli->now - cli->idle_days * 86400;

    if (ngx_http_ir_cli_inventory(cli, &rp.inv) != NGX_OK) {
        return NGX_HTTP_IR_CLI_REDIS;
    }

    /* users whose "org" names no organisation */

    if (ngx_array_init(&rp.unaffiliated, cli->pool, 4,
                       sizeof(ngx_http_ir_cli_user_t *))
        != NGX_OK)
    {
        return NGX_HTTP_IR_CLI_INTERNAL;
    }

    user = rp.inv.users.elts;

    for (i = 0; i < rp.inv.users.nelts; i++) {
        if (!user[i].found
            || (user[i].org.data
                && ngx_http_ir_cli_find_org(&rp.inv, &user[i].org)))
        {
            continue;
        }

        slot = ngx_array_push(&rp.unaffiliated);
        if (slot == NULL) {
            return NGX_HTTP_IR_CLI_INTERNAL;
        }

        *slot = &user[i];
    }

    took = ngx_http_ir_cli_msec() - cli->start;

    if (cli->json) {
        ngx_http_ir_cli_report_json(&rp, took);

    } else {
        ngx_http_ir_cli_report_print(&rp);
        ngx_http_ir_cli_print("\n%ui users, %ui organisations, read in "
                              "%M.%03M s\n", rp.inv.users.nelts,
                              rp.inv.orgs.nelts, took / 1000, took % 1000);
    }

    return NGX_HTTP_IR_CLI_OK;
}


/*
 * A certificate the gateway last saw, still pinned, that expires within
 * the days asked (or has expired).
 */

static ngx_uint_t
ngx_http_ir_cli_expiring(ngx_http_ir_cli_report_t *rp,
    ngx_http_ir_cli_user_t *user)
{
    u_char      *pin;
    ngx_uint_t   i;
    u_char       digest[NGX_HTTP_IR_DIGEST_LEN];

    if (!user->found || user->not_after == 0
        || user->not_after > rp->expiring)
    {
        return 0;
    }

    /* a certificate rolled over since is no longer the user's */

    if (user->fingerprint.data
        && ngx_http_ir_parse_pin(&user->fingerprint, digest) == NGX_OK)
    {
        pin = user->pins.elts;

        for (i = 0; i < user->pins.nelts; i++) {
            if (ngx_memcmp(pin + i * NGX_HTTP_IR_DIGEST_LEN, digest,
                           NGX_HTTP_IR_DIGEST_LEN)
                == 0)
            {
                return 1;
            }
        }

        return 0;
    }

    return 1;
}


static ngx_uint_t
ngx_http_ir_cli_idle(ngx_http_ir_cli_report_t *rp,
    ngx_http_ir_cli_user_t *user)
{
    return user->found && user->last_seen < rp->idle;
}


/* whole days from now to t, negative for the past */

static ngx_int_t
ngx_http_ir_cli_days(ngx_http_ir_cli_report_t *rp, time_t t)
{
    return (t >= rp->cli->now) ? (t - rp->cli->now) / 86400
                               : -((rp->cli->now - t + 86399) / 86400);
}


static u_char *
ngx_http_ir_cli_scopes(u_char *p, u_char *last, ngx_array_t *scopes)
{
    u_char      *start;
    ngx_str_t   *s;
    ngx_uint_t   i;

    start = p;
    s = scopes->elts;

    for (i = 0; i < scopes->nelts; i++) {
        if ((size_t) (last - p) < s[i].len + 4) {
            return ngx_cpymem(p, "...", 3);
        }

        if (p != start) {
            *p++ = ' ';
        }

        p = ngx_cpymem(p, s[i].data, s[i].len);
    }

    return p;
}


static void
ngx_http_ir_cli_report_print(ngx_http_ir_cli_report_t *rp)
{
    u_char                   *p;
    ngx_uint_t                i, n;
    ngx_http_ir_cli_org_t    *org;
    ngx_http_ir_cli_user_t   *user;
    ngx_http_ir_cli_table_t   t;
    u_char                    scopes[512], when[32];

    org = rp->inv.orgs.elts;
    user = rp->inv.users.elts;

    /* the organisations and their contracts */

    if (ngx_http_ir_cli_table_init(&t, 9, rp->cli->pool) != NGX_OK) {
        return;
    }

    ngx_http_ir_cli_print("Organisations and their contracts\n\n");

    ngx_http_ir_cli_table_cell(&t, "ORG");
    ngx_http_ir_cli_table_cell(&t, "NAME");
    ngx_http_ir_cli_table_cell(&t, "CONTRACT");
    ngx_http_ir_cli_table_cell(&t, "STATUS");
    ngx_http_ir_cli_table_cell(&t, "FROM");
    ngx_http_ir_cli_table_cell(&t, "TO");
    ngx_http_ir_cli_table_cell(&t, "ENV");
    ngx_http_ir_cli_table_cell(&t, "USERS");
    ngx_http_ir_cli_table_cell(&t, "SCOPES");

    for (i = 0; i < rp->inv.orgs.nelts; i++) {
        if (!org[i].org.found) {
            continue;
        }

        p = ngx_http_ir_cli_scopes(scopes, scopes + sizeof(scopes),
                                   &org[i].org.scopes);

        ngx_http_ir_cli_table_cell(&t, "%V", &org[i].name);
        ngx_http_ir_cli_table_cell(&t, "%V", &org[i].org.name);
        ngx_http_ir_cli_table_cell(&t, "%V", &org[i].org.contract);
        ngx_http_ir_cli_table_cell(&t, "%V", &org[i].org.status);
        ngx_http_ir_cli_table_cell(&t, "%V", &org[i].org.valid_from);
        ngx_http_ir_cli_table_cell(&t, "%V", &org[i].org.valid_to);
        ngx_http_ir_cli_table_cell(&t, "%V", &org[i].org.env);
        ngx_http_ir_cli_table_cell(&t, "%ui/%ui%s", org[i].users.nelts,
                                   org[i].contracted,
                                   org[i].users.nelts > org[i].contracted
                                   ? " OVER" : "");
        ngx_http_ir_cli_table_cell(&t, "%*s", p - scopes, scopes);
    }

    ngx_http_ir_cli_table_print(&t);

    /* each organisation's users */

    for (i = 0; i < rp->inv.orgs.nelts; i++) {
        if (!org[i].org.found || org[i].users.nelts == 0) {
            continue;
        }

        ngx_http_ir_cli_print("\nUsers of %V\n\n", &org[i].name);
        ngx_http_ir_cli_report_users(rp, org[i].users.elts,
                                     org[i].users.nelts);
    }

    if (rp->unaffiliated.nelts) {
        ngx_http_ir_cli_print("\nUsers of no organisation (their \"org\" "
                              "is missing or names none)\n\n");
        ngx_http_ir_cli_report_users(rp, rp->unaffiliated.elts,
                                     rp->unaffiliated.nelts);
    }

    /* organisations over their contract */

    ngx_http_ir_cli_print("\nOrganisations with more users than their "
                          "contract covers\n\n");

    n = 0;

    for (i = 0; i < rp->inv.orgs.nelts; i++) {
        if (org[i].org.found && org[i].users.nelts > org[i].contracted) {
            ngx_http_ir_cli_print("  %V: %ui users, the contract covers "
                                  "%ui\n", &org[i].name, org[i].users.nelts,
                                  org[i].contracted);
            n++;
        }
    }

    if (n == 0) {
        ngx_http_ir_cli_print("  none\n");
    }

    /* users with more than one allowlisted address */

    ngx_http_ir_cli_print("\nUsers with more than one allowlisted "
                          "address\n\n");

    n = 0;

    for (i = 0; i < rp->inv.users.nelts; i++) {
        if (user[i].found && (user[i].ips > 1 || user[i].wide)) {
            ngx_http_ir_cli_print("  %V (%V): %ui entr%s, %ui of them a "
                                  "network\n", &user[i].name,
                                  user[i].org.data ? &user[i].org
                                                   : &user[i].name,
                                  user[i].ips,
                                  user[i].ips == 1 ? "y" : "ies",
                                  user[i].wide);
            n++;
        }
    }

    if (n == 0) {
        ngx_http_ir_cli_print("  none\n");
    }

    /* certificates */

    ngx_http_ir_cli_print("\nCertificates that expire within %i days\n\n",
                          rp->cli->days);

    n = 0;

    for (i = 0; i < rp->inv.users.nelts; i++) {
        if (!ngx_http_ir_cli_expiring(rp, &user[i])) {
            continue;
        }

        p = ngx_http_ir_cli_time(when, user[i].not_after);

        ngx_http_ir_cli_print("  %V (%V): %*s, %s %i days, "
                              "fingerprint %V\n", &user[i].name,
                              user[i].org.data ? &user[i].org
                                               : &user[i].name,
                              p - when, when,
                              user[i].not_after < rp->cli->now
                              ? "expired" : "in",
                              ngx_http_ir_cli_days(rp, user[i].not_after),
                              user[i].fingerprint.data ? &user[i].fingerprint
                                                       : &user[i].name);
        n++;
    }

    if (n == 0) {
        ngx_http_ir_cli_print("  none\n");
    }

    /* idle users */

    ngx_http_ir_cli_print("\nUsers not seen for %i days\n\n",
                          rp->cli->idle_days);

    n = 0;

    for (i = 0; i < rp->inv.users.nelts; i++) {
        if (!ngx_http_ir_cli_idle(rp, &user[i])) {
            continue;
        }

        n++;

        if (user[i].last_seen == 0) {
            ngx_http_ir_cli_print("  %V (%V): never seen\n", &user[i].name,
                                  user[i].org.data ? &user[i].org
                                                   : &user[i].name);
            continue;
        }

        p = ngx_http_ir_cli_time(when, user[i].last_seen);

        ngx_http_ir_cli_print("  %V (%V): last seen %*s, %i days ago\n",
                              &user[i].name,
                              user[i].org.data ? &user[i].org
                                               : &user[i].name,
                              p - when, when,
                              -ngx_http_ir_cli_days(rp, user[i].last_seen));
    }

    if (n == 0) {
        ngx_http_ir_cli_print("  none\n");
    }
}


static void
ngx_http_ir_cli_report_users(ngx_http_ir_cli_report_t *rp,
    ngx_http_ir_cli_user_t **user, ngx_uint_t n)
{
    u_char                   *p;
    ngx_uint_t                i;
    ngx_http_ir_cli_table_t   t;
    u_char                    when[32];

    if (ngx_http_ir_cli_table_init(&t, 7, rp->cli->pool) != NGX_OK) {
        return;
    }

    ngx_http_ir_cli_table_cell(&t, "USER");
    ngx_http_ir_cli_table_cell(&t, "UNIT");
    ngx_http_ir_cli_table_cell(&t, "STATUS");
    ngx_http_ir_cli_table_cell(&t, "ADDRESSES");
    ngx_http_ir_cli_table_cell(&t, "PINS");
    ngx_http_ir_cli_table_cell(&t, "LAST SEEN");
    ngx_http_ir_cli_table_cell(&t, "CERTIFICATE UNTIL");

    for (i = 0; i < n; i++) {
        ngx_http_ir_cli_table_cell(&t, "%V", &user[i]->name);
        ngx_http_ir_cli_table_cell(&t, "%V", &user[i]->unit);
        if (user[i]->bad) {
            ngx_http_ir_cli_table_cell(&t, "unusable record");

        } else if (user[i]->status.data) {
            ngx_http_ir_cli_table_cell(&t, "%V", &user[i]->status);

        } else {
            ngx_http_ir_cli_table_cell(&t, "(active)");
        }

        if (user[i]->wide) {
            ngx_http_ir_cli_table_cell(&t, "%ui (%ui a network)",
                                       user[i]->ips, user[i]->wide);
        } else {
            ngx_http_ir_cli_table_cell(&t, "%ui", user[i]->ips);
        }

        ngx_http_ir_cli_table_cell(&t, "%ui", user[i]->pins.nelts);

        if (user[i]->last_seen) {
            p = ngx_http_ir_cli_time(when, user[i]->last_seen);
            ngx_http_ir_cli_table_cell(&t, "%*s %V", p - when, when,
                                       &user[i]->last_ip);
        } else {
            ngx_http_ir_cli_table_cell(&t, "never");
        }

        if (user[i]->not_after) {
            p = ngx_http_ir_cli_time(when, user[i]->not_after);
            ngx_http_ir_cli_table_cell(&t, "%*s", p - when, when);
        } else {
            ngx_http_ir_cli_table_cell(&t, "");
        }
    }

    ngx_http_ir_cli_table_print(&t);
}


static void
ngx_http_ir_cli_report_json(ngx_http_ir_cli_report_t *rp, ngx_msec_t took)
{
    ngx_str_t                *s;
    ngx_uint_t                i, j, first;
    ngx_http_ir_cli_org_t    *org;
    ngx_http_ir_cli_user_t   *user, **u;

    org = rp->inv.orgs.elts;
    user = rp->inv.users.elts;

    ngx_http_ir_cli_print("{\"organisations\":[");

    first = 1;

    for (i = 0; i < rp->inv.orgs.nelts; i++) {
        if (!org[i].org.found) {
            continue;
        }

        ngx_http_ir_cli_print("%s\n{\"org\":", first ? "" : ",");
        first = 0;

        ngx_http_ir_cli_json_str(&org[i].name);

#define ngx_http_ir_cli_json_field(key, s)                                   \
        ngx_http_ir_cli_json_key(key, 0);                                    \
        ngx_http_ir_cli_json_str(s)

        ngx_http_ir_cli_json_field("name", &org[i].org.name);
        ngx_http_ir_cli_json_field("contract", &org[i].org.contract);
        ngx_http_ir_cli_json_field("status", &org[i].org.status);
        ngx_http_ir_cli_json_field("valid_from", &org[i].org.valid_from);
        ngx_http_ir_cli_json_field("valid_to", &org[i].org.valid_to);
        ngx_http_ir_cli_json_field("env", &org[i].org.env);

        ngx_http_ir_cli_print(",\"scopes\":[");

        s = org[i].org.scopes.elts;

        for (j = 0; j < org[i].org.scopes.nelts; j++) {
            if (j) {
                ngx_http_ir_cli_print(",");
            }

            ngx_http_ir_cli_json_str(&s[j]);
        }

        ngx_http_ir_cli_print("],\"contracted_users\":%ui,\"user_count\":%ui,"
                              "\"over_contract\":%s,\"users\":[",
                              org[i].contracted, org[i].users.nelts,
                              org[i].users.nelts > org[i].contracted
                              ? "true" : "false");

        u = org[i].users.elts;

        for (j = 0; j < org[i].users.nelts; j++) {
            if (j) {
                ngx_http_ir_cli_print(",");
            }

            ngx_http_ir_cli_report_json_user(rp, u[j]);
        }

        ngx_http_ir_cli_print("]}");
    }

    ngx_http_ir_cli_print("],\n\"unaffiliated_users\":[");

    u = rp->unaffiliated.elts;

    for (j = 0; j < rp->unaffiliated.nelts; j++) {
        if (j) {
            ngx_http_ir_cli_print(",");
        }

        ngx_http_ir_cli_report_json_user(rp, u[j]);
    }

    ngx_http_ir_cli_print("],\n\"over_contract\":[");

    first = 1;

    for (i = 0; i < rp->inv.orgs.nelts; i++) {
        if (org[i].org.found && org[i].users.nelts > org[i].contracted) {
            ngx_http_ir_cli_print("%s{\"org\":", first ? "" : ",");
            ngx_http_ir_cli_json_str(&org[i].name);
            ngx_http_ir_cli_print(",\"user_count\":%ui,\"contracted_users\":"
                                  "%ui}", org[i].users.nelts,
                                  org[i].contracted);
            first = 0;
        }
    }

    ngx_http_ir_cli_print("],\n\"multiple_addresses\":[");

    first = 1;

    for (i = 0; i < rp->inv.users.nelts; i++) {
        if (user[i].found && (user[i].ips > 1 || user[i].wide)) {
            ngx_http_ir_cli_print("%s{\"user\":", first ? "" : ",");
            ngx_http_ir_cli_json_str(&user[i].name);
            ngx_http_ir_cli_json_field("org", &user[i].org);
            ngx_http_ir_cli_print(",\"entries\":%ui,\"networks\":%ui}",
                                  user[i].ips, user[i].wide);
            first = 0;
        }
    }

    ngx_http_ir_cli_print("],\n\"certificates_expiring\":[");

    first = 1;

    for (i = 0; i < rp->inv.users.nelts; i++) {
        if (!ngx_http_ir_cli_expiring(rp, &user[i])) {
            continue;
        }

        ngx_http_ir_cli_print("%s{\"user\":", first ? "" : ",");
        ngx_http_ir_cli_json_str(&user[i].name);
        ngx_http_ir_cli_json_field("org", &user[i].org);
        ngx_http_ir_cli_json_key("not_after", 0);
        ngx_http_ir_cli_json_time(user[i].not_after);
        ngx_http_ir_cli_print(",\"days\":%i",
                              ngx_http_ir_cli_days(rp, user[i].not_after));
        ngx_http_ir_cli_json_field("fingerprint", &user[i].fingerprint);
        ngx_http_ir_cli_print("}");
        first = 0;
    }

    ngx_http_ir_cli_print("],\n\"idle_users\":[");

    first = 1;

    for (i = 0; i < rp->inv.users.nelts; i++) {
        if (!ngx_http_ir_cli_idle(rp, &user[i])) {
            continue;
        }

        ngx_http_ir_cli_print("%s{\"user\":", first ? "" : ",");
        ngx_http_ir_cli_json_str(&user[i].name);
        ngx_http_ir_cli_json_field("org", &user[i].org);
        ngx_http_ir_cli_json_key("last_seen", 0);
        ngx_http_ir_cli_json_time(user[i].last_seen);
        ngx_http_ir_cli_print("}");
        first = 0;
    }

#undef ngx_http_ir_cli_json_field

    ngx_http_ir_cli_print("],\n\"users\":%ui,\"days\":%i,\"idle_days\":%i,"
                          "\"seconds\":%M.%03M}\n", rp->inv.users.nelts,
                          rp->cli->days, rp->cli->idle_days,
                          took / 1000, took % 1000);
}


static void
ngx_http_ir_cli_report_json_user(ngx_http_ir_cli_report_t *rp,
    ngx_http_ir_cli_user_t *user)
{
    ngx_http_ir_cli_print("{\"user\":");
    ngx_http_ir_cli_json_str(&user->name);
    ngx_http_ir_cli_json_key("org", 0);
    ngx_http_ir_cli_json_str(&user->org);
    ngx_http_ir_cli_json_key("unit", 0);
    ngx_http_ir_cli_json_str(&user->unit);
    ngx_http_ir_cli_json_key("status", 0);
    ngx_http_ir_cli_json_str(&user->status);
    ngx_http_ir_cli_print(",\"usable\":%s,\"addresses\":%ui,\"networks\":%ui,"
                          "\"pins\":%ui,\"last_seen\":",
                          user->bad ? "false" : "true", user->ips, user->wide,
                          user->pins.nelts);
    ngx_http_ir_cli_json_time(user->last_seen);
    ngx_http_ir_cli_json_key("last_ip", 0);
    ngx_http_ir_cli_json_str(&user->last_ip);
    ngx_http_ir_cli_json_key("not_after", 0);
    ngx_http_ir_cli_json_time(user->not_after);
    ngx_http_ir_cli_print("}");
}


static void
ngx_http_ir_cli_json_time(time_t t)
{
    u_char  *p;
    u_char   when[32];

    if (t == 0) {
        ngx_http_ir_cli_print("null");
        return;
    }

    p = ngx_http_ir_cli_time(when, t);

    ngx_http_ir_cli_print("\"%*s\"", p - when, when);
}
