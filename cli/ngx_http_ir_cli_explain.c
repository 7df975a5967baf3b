
/*
 * ir-access explain: the gateway's decision for one user, one address
 * and one location, against the live records, step by step.
 *
 * An announced maintenance is read as the gateway reads it
 * (ngx_http_ir_notice_read()); the record is fetched by the gateway's
 * lookup script and read by the gateway's
 * ngx_http_ir_store_lookup_reply(); the decision is made by the
 * gateway's ngx_http_ir_decide_account(), _login() and _contract(), and
 * the quotas by its ngx_http_ir_quota_spent() against the counts in
 * Redis, in the order the gateway calls them, so that the reason printed
 * last is the one the gateway gives.  What each step read and compared
 * is told beside it; what the gateway would log of the record is shown
 * too.  Nothing is written: no login is reserved, no request counted.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ngx_http_ir_addr.h"
#include "ngx_http_ir_cli.h"
#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_store.h"


#define NGX_HTTP_IR_CLI_PASS           0
#define NGX_HTTP_IR_CLI_DENY           1
#define NGX_HTTP_IR_CLI_UNREACHED      2

/* the steps, numbered as the reference numbers them, 0 to 11 */

#define NGX_HTTP_IR_CLI_STEPS          11

/* no step denied */
#define NGX_HTTP_IR_CLI_NO_STEP        ((ngx_uint_t) -1)


typedef struct {
    const char                    *name;
    ngx_uint_t                     outcome;
    ngx_array_t                    facts;         /* of ngx_str_t */
} ngx_http_ir_cli_step_t;


typedef struct {
    ngx_http_ir_cli_t             *cli;
    ngx_pool_t                    *pool;
    ngx_str_t                      user;
    ngx_http_ir_cli_step_t         steps[NGX_HTTP_IR_CLI_STEPS + 1];
    ngx_array_t                    log;           /* of ngx_str_t */
    ngx_http_ir_policy_t           policy;
    ngx_http_ir_facts_t            facts;
    ngx_http_ir_verdict_t          verdict;
    ngx_http_ir_record_t           rec;
    redisReply                    *reply;
    ngx_uint_t                     decided;       /* the step that denied */
    ngx_uint_t                     tries;         /* logins in flight */
    ngx_uint_t                     lockout;
    ngx_http_ir_cli_quota_t        quota;         /* the location's */
    ngx_uint_t                     limit[2][2];   /* [who][period] */
    ngx_uint_t                     count[2][2];   /* in Redis */
    unsigned                       counted:1;     /* the counts were read */
    struct sockaddr_in             sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6            sin6;
#endif
    u_char                         digest[NGX_HTTP_IR_DIGEST_LEN];
    unsigned                       error:1;       /* Redis failed */
} ngx_http_ir_cli_explain_t;


static ngx_int_t ngx_http_ir_cli_explain_request(
    ngx_http_ir_cli_explain_t *ex);
static ngx_int_t ngx_http_ir_cli_explain_quota_conf(
    ngx_http_ir_cli_explain_t *ex);
static ngx_int_t ngx_http_ir_cli_explain_maintenance(
    ngx_http_ir_cli_explain_t *ex);
static ngx_int_t ngx_http_ir_cli_explain_cert(ngx_http_ir_cli_explain_t *ex);
static ngx_int_t ngx_http_ir_cli_explain_fetch(ngx_http_ir_cli_explain_t *ex);
static void ngx_http_ir_cli_explain_logged(ngx_uint_t level, u_char *text,
    size_t len, void *data);
static void ngx_http_ir_cli_explain_account(ngx_http_ir_cli_explain_t *ex);
static void ngx_http_ir_cli_explain_login(ngx_http_ir_cli_explain_t *ex);
static void ngx_http_ir_cli_explain_contract(ngx_http_ir_cli_explain_t *ex);
static void ngx_http_ir_cli_explain_quotas(ngx_http_ir_cli_explain_t *ex);
static ngx_int_t ngx_http_ir_cli_explain_counts(ngx_http_ir_cli_explain_t *ex,
    ngx_str_t *names, ngx_uint_t *periods);
static void ngx_http_ir_cli_explain_decided(ngx_http_ir_cli_explain_t *ex,
    ngx_uint_t first, ngx_uint_t last, ngx_uint_t step);
static void ngx_http_ir_cli_fact(ngx_http_ir_cli_explain_t *ex,
    ngx_uint_t step, const char *fmt, ...);
static u_char *ngx_http_ir_cli_words(u_char *p, u_char *last,
    ngx_array_t *words);
static u_char *ngx_http_ir_cli_pin(u_char *p, u_char *digest);
static u_char *ngx_http_ir_cli_cidr(u_char *p, ngx_cidr_t *cidr);
static void ngx_http_ir_cli_explain_print(ngx_http_ir_cli_explain_t *ex);
static void ngx_http_ir_cli_explain_json(ngx_http_ir_cli_explain_t *ex);
static size_t ngx_http_ir_cli_gateway_line(ngx_http_ir_cli_explain_t *ex,
    u_char *buf, size_t size);


static const char  *ngx_http_ir_cli_step_names[] = {
    "maintenance",
    "identity",
    "user record",
    "certificate pin",
    "address",
    "country",
    "password",
    "organisation and contract",
    "environment",
    "scopes",
    "purpose",
    "quotas"
};

static const char  *ngx_http_ir_cli_whose[] = { "user", "organisation" };

static const char  *ngx_http_ir_cli_outcomes[] = {
    "pass", "deny", "not reached"
};

static ngx_str_t  ngx_http_ir_cli_none = ngx_string("(none)");

#define ngx_http_ir_cli_or_none(s)                                           \
    ((s)->data ? (s) : &ngx_http_ir_cli_none)


int
ngx_http_ir_cli_explain(ngx_http_ir_cli_t *cli)
{
    ngx_uint_t                  i;
    ngx_http_ir_cli_explain_t  *ex;

    if (cli->argc != 1) {
        ngx_http_ir_cli_error("\"explain\" wants one USER, and --ip ADDR");
        return NGX_HTTP_IR_CLI_USAGE;
    }

    ex = ngx_pcalloc(cli->pool, sizeof(ngx_http_ir_cli_explain_t));
    if (ex == NULL) {
        return NGX_HTTP_IR_CLI_INTERNAL;
    }

    ex->cli = cli;
    ex->pool = cli->pool;
    ex->user.data = (u_char *) cli->argv[0];
    ex->user.len = ngx_strlen(cli->argv[0]);
    ex->decided = NGX_HTTP_IR_CLI_NO_STEP;

    for (i = 0; i <= NGX_HTTP_IR_CLI_STEPS; i++) {
        ex->steps[i].name = ngx_http_ir_cli_step_names[i];
        ex->steps[i].outcome = NGX_HTTP_IR_CLI_UNREACHED;

        if (ngx_array_init(&ex->steps[i].facts, cli->pool, 4,
                           sizeof(ngx_str_t))
            != NGX_OK)
        {
            return NGX_HTTP_IR_CLI_INTERNAL;
        }
    }

    if (ngx_array_init(&ex->log, cli->pool, 4, sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_HTTP_IR_CLI_INTERNAL;
    }

    switch (ngx_http_ir_cli_explain_request(ex)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        return NGX_HTTP_IR_CLI_USAGE;

    default:
        return NGX_HTTP_IR_CLI_INTERNAL;
    }

    /* 0: an announced maintenance closes the place to every client */

    switch (ngx_http_ir_cli_explain_maintenance(ex)) {

    case NGX_OK:
        break;

    case NGX_DONE:
        goto done;

    default:
        return NGX_HTTP_IR_CLI_INTERNAL;
    }

    /* 1: the identity */

    if (ngx_http_ir_name_valid(&ex->user) != NGX_OK) {
        ngx_http_ir_cli_fact(ex, 1, "\"%V\" is not a user name: 1 to %d "
                             "letters, digits and \"._@-\"", &ex->user,
                             NGX_HTTP_IR_NAME_MAX);
        ngx_http_ir_deny(&ex->verdict, NGX_HTTP_IR_BAD_IDENTITY,
                         "identity is not a valid user name", NULL);
        ex->steps[1].outcome = NGX_HTTP_IR_CLI_DENY;
        ex->decided = 1;
        goto done;
    }

    ngx_http_ir_cli_fact(ex, 1, "user \"%V\"", &ex->user);

    switch (ngx_http_ir_cli_explain_cert(ex)) {

    case NGX_OK:
        break;

    case NGX_DONE:
        goto done;

    case NGX_DECLINED:
        return NGX_HTTP_IR_CLI_CONF;

    default:
        return NGX_HTTP_IR_CLI_INTERNAL;
    }

    ex->steps[1].outcome = NGX_HTTP_IR_CLI_PASS;

    /* the record, as the gateway fetches it */

    if (ngx_http_ir_cli_explain_fetch(ex) != NGX_OK) {
        goto done;
    }

    ngx_http_ir_cli_explain_account(ex);

    if (ex->verdict.reason == NGX_HTTP_IR_ALLOW) {
        ngx_http_ir_cli_explain_login(ex);
    }

    if (ex->verdict.reason == NGX_HTTP_IR_ALLOW) {
        ngx_http_ir_cli_explain_contract(ex);
    }

    if (ex->verdict.reason == NGX_HTTP_IR_ALLOW) {
        ngx_http_ir_cli_explain_quotas(ex);
    }

done:

    if (cli->json) {
        ngx_http_ir_cli_explain_json(ex);

    } else {
        ngx_http_ir_cli_explain_print(ex);
    }

    if (ex->reply) {
        freeReplyObject(ex->reply);
    }

    if (ex->error) {
        return NGX_HTTP_IR_CLI_REDIS;
    }

    return (ex->verdict.reason == NGX_HTTP_IR_ALLOW) ? NGX_HTTP_IR_CLI_OK
                                                     : NGX_HTTP_IR_CLI_FOUND;
}


/* the location's policy and the request's facts, from the options */

static ngx_int_t
ngx_http_ir_cli_explain_request(ngx_http_ir_cli_explain_t *ex)
{
    u_char                     *p;
    ngx_uint_t                 *limit, i;
    ngx_http_ir_cli_t          *cli;
    ngx_http_ir_cli_request_t  *rq;
    char                        addr[NGX_SOCKADDR_STRLEN + 1];

    cli = ex->cli;
    rq = &cli->request;

    if (rq->ip.len == 0 || rq->ip.len > NGX_SOCKADDR_STRLEN) {
        ngx_http_ir_cli_error("\"explain\" wants the client's address: "
                              "--ip ADDR");
        return NGX_DECLINED;
    }

    p = ngx_cpymem(addr, rq->ip.data, rq->ip.len);
    *p = '\0';

    if (inet_pton(AF_INET, addr, &ex->sin.sin_addr) == 1) {
        ex->sin.sin_family = AF_INET;
        ex->facts.sockaddr = (struct sockaddr *) &ex->sin;

#if (NGX_HAVE_INET6)
    } else if (inet_pton(AF_INET6, addr, &ex->sin6.sin6_addr) == 1) {
        ex->sin6.sin6_family = AF_INET6;
        ex->facts.sockaddr = (struct sockaddr *) &ex->sin6;
#endif

    } else {
        ngx_http_ir_cli_error("--ip \"%V\" is not an IP address", &rq->ip);
        return NGX_DECLINED;
    }

    if (rq->cert.len && rq->fingerprint.len) {
        ngx_http_ir_cli_error("give --cert or --fingerprint, not both");
        return NGX_DECLINED;
    }

    if (rq->fingerprint.len
        && ngx_http_ir_parse_pin(&rq->fingerprint, ex->digest) != NGX_OK)
    {
        ngx_http_ir_cli_error("--fingerprint \"%V\" is %s", &rq->fingerprint,
                              ngx_http_ir_pin_hint(&rq->fingerprint));
        return NGX_DECLINED;
    }

    ex->policy.cert_pin = !rq->no_pin && (rq->cert.len || rq->fingerprint.len);
    ex->policy.password = (rq->login != NGX_HTTP_IR_LOGIN_UNCHECKED);
    ex->policy.geoip = rq->geoip;
    ex->policy.env = rq->env;
    ex->policy.scopes = rq->scopes.nelts ? &rq->scopes : NULL;
    ex->policy.countries = rq->countries;
    ex->policy.purpose = rq->purpose_on;

    ex->facts.cert_digest = ex->digest;
    ex->facts.country = rq->country;
    ex->facts.purpose = rq->purpose;
    ex->facts.today = ngx_http_ir_cli_today(cli, 0);

    /* the lockout's limit: as asked, as configured if one, or the default */

    ex->lockout = 5;

    if (rq->lockout >= 0) {
        ex->lockout = rq->lockout;

    } else if (cli->conf.lockouts.nelts) {
        limit = cli->conf.lockouts.elts;
        ex->lockout = limit[0];

        for (i = 1; i < cli->conf.lockouts.nelts; i++) {
            if (limit[i] != limit[0]) {
                ngx_http_ir_cli_error("the configuration has several "
                                      "ir_access_lockout limits; %ui is "
                                      "taken, --lockout N says another",
                                      limit[0]);
                break;
            }
        }
    }

    return ngx_http_ir_cli_explain_quota_conf(ex);
}


/*
 * The location's quotas: --quota, the directive's words; else the
 * configuration's ir_access_quota if it has one (the first, where it has
 * several that differ); else none, as the gateway has by default.
 */

static ngx_int_t
ngx_http_ir_cli_explain_quota_conf(ngx_http_ir_cli_explain_t *ex)
{
    u_char                   *p, *last;
    ngx_str_t                *word;
    ngx_uint_t                i;
    ngx_array_t               words;
    ngx_http_ir_cli_t        *cli;
    ngx_http_ir_cli_quota_t  *q;

    cli = ex->cli;

    if (cli->request.quota.data == NULL) {
        q = cli->conf.quotas.elts;

        if (cli->conf.quotas.nelts == 0) {
            ex->quota.enable = 0;
            return NGX_OK;
        }

        ex->quota = q[0];

        for (i = 1; i < cli->conf.quotas.nelts; i++) {
            if (ngx_memcmp(&q[i], &q[0], sizeof(ngx_http_ir_cli_quota_t))
                != 0)
            {
                ngx_http_ir_cli_error("the configuration has several "
                                      "ir_access_quota; the first is taken, "
                                      "--quota \"...\" says another");
                break;
            }
        }

        return NGX_OK;
    }

    /* "rate=5/m daily=100" or "off", as the directive's words */

    if (ngx_array_init(&words, ex->pool, 5, sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    word = ngx_array_push(&words);
    if (word == NULL) {
        return NGX_ERROR;
    }

    ngx_str_set(word, "--quota");

    p = cli->request.quota.data;
    last = p + cli->request.quota.len;

    while (p < last) {
        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == last) {
            break;
        }

        word = ngx_array_push(&words);
        if (word == NULL) {
            return NGX_ERROR;
        }

        word->data = p;

        while (p < last && *p != ' ' && *p != '\t') {
            p++;
        }

        word->len = p - word->data;
    }

    if (words.nelts == 1
        || ngx_http_ir_cli_conf_quota(&ex->quota, words.elts, words.nelts)
           != NGX_OK)
    {
        ngx_http_ir_cli_error("--quota wants the words of ir_access_quota: "
                              "\"rate=N/m daily=N org_rate=N/m "
                              "org_daily=N\", any of them, or \"off\"");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * Step 0: the announced maintenance, read from Redis and by the gateway's
 * own code; the gateway reads it within a second, or at once where
 * keyspace notifications are on.  NGX_DONE where it closes the place.
 */

static ngx_int_t
ngx_http_ir_cli_explain_maintenance(ngx_http_ir_cli_explain_t *ex)
{
    u_char                *p;
    time_t                 now;
    ngx_int_t              rc;
    ngx_str_t              type, none, key, zone;
    ngx_uint_t             state;
    ngx_http_ir_cli_t     *cli;
    ngx_http_ir_notice_t   notice;
    u_char                 end[NGX_HTTP_IR_TIME_LEN];

    cli = ex->cli;
    now = cli->now;

    ngx_str_set(&none, "");

    if (ngx_http_ir_cli_key(cli, NGX_HTTP_IR_KEY_MAINTENANCE_HASH, &none,
                            &key)
        == NULL)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_ir_cli_maintenance(cli, &notice, &type, NULL);

    if (rc == NGX_ABORT) {
        ngx_http_ir_cli_fact(ex, 0, "not checked: Redis refused to read %V: "
                             "%V", &key, &type);
        ex->steps[0].outcome = NGX_HTTP_IR_CLI_PASS;
        return NGX_OK;
    }

    if (rc == NGX_ERROR) {
        ex->error = 1;
        ngx_http_ir_cli_fact(ex, 0, "%V could not be read: Redis failed",
                             &key);
        ex->steps[0].outcome = NGX_HTTP_IR_CLI_PASS;
        return NGX_OK;
    }

    ex->steps[0].outcome = NGX_HTTP_IR_CLI_PASS;

    if (rc == NGX_DECLINED) {
        ngx_http_ir_cli_fact(ex, 0, "%V is a %V, not a hash: the gateway "
                             "cannot read it, so there is no maintenance",
                             &key, &type);
        return NGX_OK;
    }

    state = ngx_http_ir_notice_read(&notice, &cli->conf.zone, now);

    if (state == NGX_HTTP_IR_NOTICE_NONE) {
        ngx_http_ir_cli_fact(ex, 0, "none announced (%V%s)", &key,
                             type.len == 4
                             && ngx_strncmp(type.data, "none", 4) == 0
                             ? " is not there" : " has no fields of one");
        return NGX_OK;
    }

    ngx_http_ir_cli_fact(ex, 0, "%V: until %s%V%s, env %s%V%s", &key,
                         notice.until.data ? "\"" : "",
                         ngx_http_ir_cli_or_none(&notice.until),
                         notice.until.data ? "\"" : "",
                         notice.env.data ? "\"" : "",
                         ngx_http_ir_cli_or_none(&notice.env),
                         notice.env.data ? "\"" : "");

    switch (state) {

    case NGX_HTTP_IR_NOTICE_ON:
        break;

    case NGX_HTTP_IR_NOTICE_NO_UNTIL:
        ngx_http_ir_cli_fact(ex, 0, "no \"until\": the gateway ignores it "
                             "(and logs that at error)");
        return NGX_OK;

    case NGX_HTTP_IR_NOTICE_PAST:
        p = ngx_http_ir_notice_time(end, notice.end);
        ngx_http_ir_cli_fact(ex, 0, "it ended at %*s: no maintenance",
                             p - end, end);
        return NGX_OK;

    case NGX_HTTP_IR_NOTICE_LONG_ENV:
        ngx_http_ir_cli_fact(ex, 0, "\"env\" is longer than %d bytes: the "
                             "gateway ignores it (and logs that at error)",
                             NGX_HTTP_IR_MAINTENANCE_ENV_MAX);
        return NGX_OK;

    case NGX_HTTP_IR_NOTICE_BAD_ENV:
        ngx_http_ir_cli_fact(ex, 0, "\"env\" holds a control character: "
                             "the gateway ignores it (and logs that at "
                             "error)");
        return NGX_OK;

    default: /* NGX_HTTP_IR_NOTICE_BAD_UNTIL */
        ngx_http_ir_cli_fact(ex, 0, "\"until\" is no ISO 8601 time (such as "
                             "2026-11-27T08:00:00Z or 2026-11-27T10:00+02:00; "
                             "a date alone is none): the gateway ignores it "
                             "(and logs that at error)");
        return NGX_OK;
    }

    p = ngx_http_ir_notice_time(end, notice.end);

    if (notice.local) {
        if (cli->conf.zone.changes) {
            zone = cli->conf.zone.name;

        } else {
            ngx_str_set(&zone, "this machine's zone");
        }

        ngx_http_ir_cli_fact(ex, 0, "\"until\" has no offset: a local time "
                             "of %V, %*s in UTC", &zone, p - end, end);
    }

    if (!ngx_http_ir_notice_applies(&notice.env, &ex->policy.env)) {
        ngx_http_ir_cli_fact(ex, 0, "in effect until %*s, but not here: the "
                             "location's environment is %s%V%s", p - end,
                             end, ex->policy.env.len ? "\"" : "",
                             ex->policy.env.len ? &ex->policy.env
                                                : &ngx_http_ir_cli_none,
                             ex->policy.env.len ? "\"" : " (no --env)");
        return NGX_OK;
    }

    ngx_http_ir_deny(&ex->verdict, NGX_HTTP_IR_MAINTENANCE,
                     "the service is closed for maintenance", NULL);

    ex->verdict.retry_after = notice.end - now;

    ex->verdict.until.len = p - end;
    ex->verdict.until.data = ngx_pnalloc(ex->pool, p - end);
    if (ex->verdict.until.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ex->verdict.until.data, end, p - end);

    if (notice.message.data && !notice.message_bad) {
        ex->verdict.message = notice.message;
    }

    ngx_http_ir_cli_fact(ex, 0, "in effect until %*s, %s%V%s: every "
                         "guarded request is answered 503 with Retry-After: "
                         "%T", p - end, end,
                         ngx_http_ir_notice_applies(&notice.env, &none)
                         ? "for every place" : "for the environment \"",
                         ngx_http_ir_notice_applies(&notice.env, &none)
                         ? &none : &ex->policy.env,
                         ngx_http_ir_notice_applies(&notice.env, &none)
                         ? "" : "\"", ex->verdict.retry_after);

    if (notice.message_bad) {
        ngx_http_ir_cli_fact(ex, 0, "its \"message\" is longer than %d "
                             "bytes, holds a control character or is not "
                             "UTF-8: the answers leave it out",
                             NGX_HTTP_IR_MESSAGE_MAX);

    } else if (notice.message.data) {
        ngx_http_ir_cli_fact(ex, 0, "the answers' message: \"%V\"",
                             &notice.message);
    }

    ex->steps[0].outcome = NGX_HTTP_IR_CLI_DENY;
    ex->decided = 0;

    return NGX_DONE;
}


/*
 * The client certificate: its SHA-256 fingerprint, which the pins are
 * compared with, and its subject CN, which the gateway takes for the
 * user's name where no ir_access_identity says otherwise.
 */

static ngx_int_t
ngx_http_ir_cli_explain_cert(ngx_http_ir_cli_explain_t *ex)
{
    int                         i, len;
    BIO                        *bio;
    X509                       *x;
    u_char                     *utf8, *p;
    ngx_str_t                   cn;
    struct tm                   tm;
    X509_NAME                  *name;
    ASN1_STRING                *value;
    unsigned int                n;
    ngx_http_ir_cli_request_t  *rq;
    u_char                      path[NGX_MAX_PATH];
    u_char                      hex[NGX_HTTP_IR_DIGEST_LEN * 2];

    rq = &ex->cli->request;

    if (rq->fingerprint.len) {
        ngx_http_ir_cli_fact(ex, 1, "certificate SHA-256 %*s (--fingerprint)",
                             sizeof(hex), ngx_hex_dump(hex, ex->digest,
                                                       sizeof(ex->digest))
                                          - sizeof(hex), hex);
        return NGX_OK;
    }

    if (rq->cert.len == 0) {
        ngx_http_ir_cli_fact(ex, 1, "no certificate given (--cert or "
                             "--fingerprint): the gateway wants one, and "
                             "takes the user from its CN");
        return NGX_OK;
    }

    if (rq->cert.len >= sizeof(path)) {
        ngx_http_ir_cli_error("--cert: the path is too long");
        return NGX_DECLINED;
    }

    p = ngx_cpymem(path, rq->cert.data, rq->cert.len);
    *p = '\0';

    bio = BIO_new_file((char *) path, "r");
    if (bio == NULL) {
        ngx_http_ir_cli_error("cannot open the certificate \"%s\": %s", path,
                              strerror(errno));
        return NGX_DECLINED;
    }

    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

    if (x == NULL) {
        (void) BIO_reset(bio);
        x = d2i_X509_bio(bio, NULL);
    }

    BIO_free(bio);

    if (x == NULL) {
        ngx_http_ir_cli_error("\"%s\" holds no certificate (PEM or DER)",
                              path);
        return NGX_DECLINED;
    }

    if (X509_digest(x, EVP_sha256(), ex->digest, &n) == 0
        || n != NGX_HTTP_IR_DIGEST_LEN)
    {
        X509_free(x);
        return NGX_ERROR;
    }

    ngx_hex_dump(hex, ex->digest, sizeof(ex->digest));

    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1) {
        ngx_http_ir_cli_fact(ex, 1, "certificate %s: SHA-256 %*s, valid "
                             "until %4d-%02d-%02d %02d:%02d UTC%s", path,
                             sizeof(hex), hex, tm.tm_year + 1900,
                             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                             tm.tm_min,
                             X509_cmp_time(X509_get0_notAfter(x), NULL) < 0
                             ? " (expired: nginx refuses it in the TLS "
                               "handshake, before the gateway decides)"
                             : "");
    }

    /* the CN, read as the gateway reads it (identity.c) */

    name = X509_get_subject_name(x);
    i = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;

    if (i < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0) {
        ngx_http_ir_cli_fact(ex, 1, "the certificate has %s subject CN: the "
                             "gateway takes no user from it", i < 0
                             ? "no" : "more than one");
        X509_free(x);
        goto bad;
    }

    value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));

    len = ASN1_STRING_to_UTF8(&utf8, value);
    if (len < 0) {
        ngx_http_ir_cli_fact(ex, 1, "the certificate's CN is not a string");
        X509_free(x);
        goto bad;
    }

    cn.data = utf8;
    cn.len = len;

    if (ngx_http_ir_name_valid(&cn) != NGX_OK) {
        ngx_http_ir_cli_fact(ex, 1, "the certificate's CN \"%V\" is not a "
                             "user name", &cn);
        OPENSSL_free(utf8);
        X509_free(x);
        goto bad;
    }

    if (cn.len != ex->user.len
        || ngx_strncmp(cn.data, ex->user.data, cn.len) != 0)
    {
        ngx_http_ir_cli_fact(ex, 1, "NOTE: the certificate's CN is \"%V\": "
                             "with it the gateway decides for \"%V\", not "
                             "for \"%V\" (unless ir_access_identity names "
                             "another identity)", &cn, &cn, &ex->user);

    } else {
        ngx_http_ir_cli_fact(ex, 1, "the certificate's CN is the user's "
                             "name");
    }

    OPENSSL_free(utf8);
    X509_free(x);

    return NGX_OK;

bad:

    ngx_http_ir_deny(&ex->verdict, NGX_HTTP_IR_BAD_IDENTITY,
                     "certificate's subject CN is not a valid user name",
                     NULL);
    ex->steps[1].outcome = NGX_HTTP_IR_CLI_DENY;
    ex->decided = 1;

    return NGX_DONE;
}


/*
 * The gateway's lookup script, and its reply read by the gateway's own
 * function, whose log lines are kept to be shown.
 */

static ngx_int_t
ngx_http_ir_cli_explain_fetch(ngx_http_ir_cli_explain_t *ex)
{
    ngx_int_t            rc;
    ngx_str_t            key;
    ngx_uint_t           level;
    redisReply         **e, *tries;
    ngx_http_ir_cli_t   *cli;

    cli = ex->cli;

    if (ngx_http_ir_cli_load_scripts(cli) != NGX_OK
        || ngx_http_ir_cli_append_lookup(cli, &ex->user) != NGX_OK)
    {
        goto failed;
    }

    /* the logins in flight, which the lockout counts with the failures */

    if (ngx_http_ir_cli_key(cli, NGX_HTTP_IR_KEY_USER_TRIES, &ex->user, &key)
        == NULL
        || ngx_http_ir_cli_append_key(cli, "GET", &key) != NGX_OK)
    {
        goto failed;
    }

    ex->reply = ngx_http_ir_cli_reply(cli);
    if (ex->reply == NULL) {
        goto failed;
    }

    tries = ngx_http_ir_cli_reply(cli);
    if (tries == NULL) {
        goto failed;
    }

    if (tries->type == REDIS_REPLY_STRING) {
        rc = ngx_atoi((u_char *) tries->str, tries->len);
        ex->tries = (rc == NGX_ERROR) ? 0 : rc;
    }

    freeReplyObject(tries);

    level = cli->log->log_level;
    cli->log->log_level = NGX_LOG_INFO;
    ngx_http_ir_cli_log_capture(ngx_http_ir_cli_explain_logged, ex);

    rc = ngx_http_ir_store_lookup_reply(ex->reply, &cli->conf.prefix,
                                        &ex->user, &ex->rec, ex->pool,
                                        cli->log);

    ngx_http_ir_cli_log_capture(NULL, NULL);
    cli->log->log_level = level;

    if (rc != NGX_OK) {
        goto failed;
    }

    /* what was read */

    e = ex->reply->element;

    ngx_http_ir_cli_fact(ex, 2, "%V%s%V: %*s, %ui fields", &cli->conf.prefix,
                         NGX_HTTP_IR_KEY_USER, &ex->user,
                         (size_t) e[0]->len, e[0]->str,
                         (ngx_uint_t) e[1]->elements / 2);

    ngx_http_ir_cli_fact(ex, 2, "%V%s%V%s: %*s, %ui members",
                         &cli->conf.prefix, NGX_HTTP_IR_KEY_USER, &ex->user,
                         NGX_HTTP_IR_KEY_IPS, (size_t) e[2]->len, e[2]->str,
                         (ngx_uint_t) e[3]->elements);

    if (ex->rec.user.org.data && ex->rec.user.org.len
        && ex->rec.user.org.len <= NGX_HTTP_IR_NAME_MAX)
    {
        ngx_http_ir_cli_fact(ex, 2, "%V%s%V: %*s, %ui fields; "
                             "%V%s%V%s: %*s, %ui members",
                             &cli->conf.prefix, NGX_HTTP_IR_KEY_ORG,
                             &ex->rec.user.org, (size_t) e[4]->len,
                             e[4]->str, (ngx_uint_t) e[5]->elements / 2,
                             &cli->conf.prefix, NGX_HTTP_IR_KEY_ORG,
                             &ex->rec.user.org, NGX_HTTP_IR_KEY_SCOPES,
                             (size_t) e[6]->len, e[6]->str,
                             (ngx_uint_t) e[7]->elements);
    }

    return NGX_OK;

failed:

    /* the gateway, without a cached record, answers store_unavailable */

    ex->error = 1;
    ex->decided = 2;
    ex->steps[2].outcome = NGX_HTTP_IR_CLI_DENY;

    ngx_http_ir_cli_fact(ex, 2, "the lookup failed: Redis is unreachable or "
                         "failing");
    ngx_http_ir_deny(&ex->verdict, NGX_HTTP_IR_STORE_UNAVAILABLE,
                     "Redis is unreachable, failing or slower than "
                     "\"ir_access_redis_timeout\"", NULL);

    return NGX_ERROR;
}


static void
ngx_http_ir_cli_explain_logged(ngx_uint_t level, u_char *text, size_t len,
    void *data)
{
    ngx_http_ir_cli_explain_t *ex = data;

    ngx_str_t  *line;

    line = ngx_array_push(&ex->log);
    if (line == NULL) {
        return;
    }

    line->data = ngx_pnalloc(ex->pool, len + 16);
    if (line->data == NULL) {
        line->len = 0;
        return;
    }

    line->len = ngx_sprintf(line->data, "[%s] %*s",
                            level == NGX_LOG_ERR ? "error"
                            : level == NGX_LOG_WARN ? "warn" : "notice",
                            len, text)
                - line->data;
}


/* steps 2 to 5, by ngx_http_ir_decide_account() */

static void
ngx_http_ir_cli_explain_account(ngx_http_ir_cli_explain_t *ex)
{
    u_char              *p;
    ngx_uint_t           i, step, matched;
    ngx_array_t          one;
    ngx_cidr_t          *cidr;
    ngx_http_ir_user_t  *user;
    u_char               text[2048];

    user = &ex->rec.user;

    ngx_http_ir_decide_account(&ex->policy, &ex->facts, &ex->rec,
                               &ex->verdict);

    switch (ex->verdict.reason) {

    case NGX_HTTP_IR_UNKNOWN_USER:
    case NGX_HTTP_IR_BAD_RECORD:
    case NGX_HTTP_IR_ACCOUNT_LOCKED:
    case NGX_HTTP_IR_USER_DISABLED:
        step = 2;
        break;

    case NGX_HTTP_IR_CERT_MISMATCH:
        step = 3;
        break;

    case NGX_HTTP_IR_IP_NOT_ALLOWED:
        step = 4;
        break;

    case NGX_HTTP_IR_COUNTRY_NOT_ALLOWED:
        step = 5;
        break;

    default:
        step = NGX_HTTP_IR_CLI_NO_STEP;
    }

    /* 2 */

    if (user->found) {
        ngx_http_ir_cli_fact(ex, 2, "status %V%s",
                             ngx_http_ir_cli_or_none(&user->status),
                             user->status.data ? "" : " (active)");
    }

    if (user->bad.data) {
        ngx_http_ir_cli_fact(ex, 2, "the record is unusable: %V", &user->bad);
    }

    /* 3 */

    p = text;

    for (i = 0; i < user->pins.nelts && p < text + sizeof(text) - 80; i++) {
        p = ngx_sprintf(p, "%s", i ? ", " : "");
        p = ngx_http_ir_cli_pin(p, (u_char *) user->pins.elts
                                   + i * NGX_HTTP_IR_DIGEST_LEN);
    }

    ngx_http_ir_cli_fact(ex, 3, "the user's pins (%ui): %*s",
                         user->pins.nelts, p - text, text);

    if (user->pin_invalid.data) {
        ngx_http_ir_cli_fact(ex, 3, "a word of \"cert\" is no pin and is "
                             "ignored: \"%V\": %s", &user->pin_invalid,
                             ngx_http_ir_pin_hint(&user->pin_invalid));
    }

    if (!ex->policy.cert_pin) {
        ngx_http_ir_cli_fact(ex, 3, "not compared: %s",
                             ex->cli->request.no_pin
                             ? "--no-pin (ir_access_cert_pin off)"
                             : "no --cert or --fingerprint given");

    } else {
        p = ngx_http_ir_cli_pin(text, ex->digest);
        ngx_http_ir_cli_fact(ex, 3, "the certificate's fingerprint: %*s",
                             p - text, text);
    }

    /* 4: each entry alone through the gateway's own match */

    cidr = user->ips.elts;
    matched = user->ips.nelts;

    for (i = 0; i < user->ips.nelts; i++) {
        one.elts = &cidr[i];
        one.nelts = 1;

        if (ngx_http_ir_addr_match(ex->facts.sockaddr, &one) == NGX_OK) {
            matched = i;
            break;
        }
    }

    ngx_http_ir_cli_fact(ex, 4, "the client's address %V against %ui usable "
                         "allowlist entries%s", &ex->cli->request.ip,
                         user->ips.nelts,
                         matched < user->ips.nelts ? "" : ": none matches");

    if (matched < user->ips.nelts) {
        p = ngx_http_ir_cli_cidr(text, &cidr[matched]);
        ngx_http_ir_cli_fact(ex, 4, "matches %*s", p - text, text);
    }

    if (user->ips_invalid.data) {
        ngx_http_ir_cli_fact(ex, 4, "entries that are not an IP address or a "
                             "prefix without host bits are ignored: %V",
                             &user->ips_invalid);
    }

    /* 5 */

    if (!ex->policy.geoip) {
        ngx_http_ir_cli_fact(ex, 5, "not checked: no --country or "
                             "--countries (a gateway without "
                             "ir_access_geoip2)");

    } else {
        ngx_http_ir_cli_fact(ex, 5, "the address's country: \"%V\"%s",
                             &ex->facts.country, ex->facts.country.len
                             ? "" : " (not known)");

        if (ex->policy.countries) {
            p = ngx_http_ir_cli_words(text, text + sizeof(text),
                                      ex->policy.countries);
            ngx_http_ir_cli_fact(ex, 5, "the location's ir_access_countries: "
                                 "%*s", p - text, text);
        }

        if (ex->rec.org.found && ex->rec.org.countries.data) {
            ngx_http_ir_cli_fact(ex, 5, "the organisation's \"countries\": "
                                 "%V", &ex->rec.org.countries);
        }
    }

    ngx_http_ir_cli_explain_decided(ex, 2, 5, step);
}


/*
 * Step 6, as the gateway comes to it: a record without a known hash has
 * nothing to compare; a login that counts is first reserved, which the
 * failures counted and the logins in flight may refuse.
 */

static void
ngx_http_ir_cli_explain_login(ngx_http_ir_cli_explain_t *ex)
{
    ngx_http_ir_user_t  *user;

    user = &ex->rec.user;

    if (!ex->policy.password) {
        ngx_http_ir_cli_fact(ex, 6, "no password asked (a location without "
                             "ir_access_password; --password-ok, "
                             "--password-wrong or --no-password say "
                             "otherwise)");

    } else if (user->hash == NGX_HTTP_IR_HASH_NONE
               || user->hash == NGX_HTTP_IR_HASH_UNKNOWN)
    {
        ex->facts.login = NGX_HTTP_IR_LOGIN_NO_HASH;
        ngx_http_ir_cli_fact(ex, 6, "the record has %s: nothing to compare",
                             user->hash == NGX_HTTP_IR_HASH_NONE
                             ? "no \"password\" field"
                             : "a \"password\" that is no hash the gateway "
                               "knows");

    } else {
        ex->facts.login = ex->cli->request.login;

        ngx_http_ir_cli_fact(ex, 6, "the password %s (as told), against a "
                             "%s hash",
                             ex->facts.login == NGX_HTTP_IR_LOGIN_GOOD
                             ? "matches"
                             : ex->facts.login == NGX_HTTP_IR_LOGIN_WRONG
                               ? "does not match" : "is not sent",
                             user->hash == NGX_HTTP_IR_HASH_FAST
                             ? "fast (nginx's)" : "crypt()");

        ngx_http_ir_cli_fact(ex, 6, "failed logins counted: %ui, logins in "
                             "flight: %ui, lockout limit: %ui%s",
                             user->fails, ex->tries, ex->lockout,
                             ex->lockout ? "" : " (off)");

        if (ex->lockout
            && ex->facts.login != NGX_HTTP_IR_LOGIN_MISSING
            && user->fails + ex->tries >= ex->lockout)
        {
            ex->facts.login = NGX_HTTP_IR_LOGIN_BUSY;
            ngx_http_ir_cli_fact(ex, 6, "no place for another attempt: the "
                                 "gateway asks again for up to 5 s, then "
                                 "answers too_many_logins");

        } else if (ex->lockout
                   && ex->facts.login == NGX_HTTP_IR_LOGIN_WRONG
                   && user->fails + 1 >= ex->lockout)
        {
            ngx_http_ir_cli_fact(ex, 6, "this failure would reach the limit "
                                 "and lock the account");
        }
    }

    ngx_http_ir_decide_login(&ex->policy, &ex->facts, &ex->rec, &ex->verdict);

    ngx_http_ir_cli_explain_decided(ex, 6, 6,
                                    ex->verdict.reason == NGX_HTTP_IR_ALLOW
                                    ? NGX_HTTP_IR_CLI_NO_STEP : 6);
}


/* steps 7 to 10, by ngx_http_ir_decide_contract() */

static void
ngx_http_ir_cli_explain_contract(ngx_http_ir_cli_explain_t *ex)
{
    u_char             *p;
    ngx_str_t          *scope;
    ngx_uint_t          i, step;
    ngx_http_ir_org_t  *org;
    u_char              text[2048], day[16];

    org = &ex->rec.org;

    ngx_http_ir_decide_contract(&ex->policy, &ex->facts, &ex->rec,
                                &ex->verdict);

    switch (ex->verdict.reason) {

    case NGX_HTTP_IR_ENV_MISMATCH:
        step = 8;
        break;

    case NGX_HTTP_IR_SCOPE_DENIED:
        step = 9;
        break;

    case NGX_HTTP_IR_PURPOSE_REQUIRED:
    case NGX_HTTP_IR_PURPOSE_NOT_ALLOWED:
        step = 10;
        break;

    case NGX_HTTP_IR_ALLOW:
        step = NGX_HTTP_IR_CLI_NO_STEP;
        break;

    default:
        step = 7;
    }

    /* 7 */

    if (ex->rec.user.org.data == NULL) {
        ngx_http_ir_cli_fact(ex, 7, "the user has no \"org\" field");

    } else if (!org->found) {
        ngx_http_ir_cli_fact(ex, 7, "no record of organisation \"%V\"",
                             &ex->rec.user.org);

    } else {
        ngx_http_ir_cli_fact(ex, 7, "organisation \"%V\", name %V, status "
                             "%V%s", &ex->rec.user.org,
                             ngx_http_ir_cli_or_none(&org->name),
                             ngx_http_ir_cli_or_none(&org->status),
                             org->status.data ? "" : " (active)");

        if (org->bad.data) {
            ngx_http_ir_cli_fact(ex, 7, "the record is unusable: %V",
                                 &org->bad);
        }

        ngx_http_ir_cli_fact(ex, 7, "contract %V, valid_from %V, valid_to "
                             "%V; today is %*s",
                             ngx_http_ir_cli_or_none(&org->contract),
                             ngx_http_ir_cli_or_none(&org->valid_from),
                             ngx_http_ir_cli_or_none(&org->valid_to),
                             ngx_http_ir_cli_date(day, ex->facts.today) - day,
                             day);
    }

    /* 8 */

    if (ex->policy.env.len == 0) {
        ngx_http_ir_cli_fact(ex, 8, "not checked: no --env (a location "
                             "without ir_access_env)");

    } else {
        ngx_http_ir_cli_fact(ex, 8, "the location's environment \"%V\" "
                             "against the organisation's \"env\": %V",
                             &ex->policy.env,
                             ngx_http_ir_cli_or_none(&org->env));
    }

    /* 9 */

    if (ex->policy.scopes == NULL) {
        ngx_http_ir_cli_fact(ex, 9, "not checked: no --scope (a location "
                             "without ir_access_scope)");

    } else {
        p = ngx_http_ir_cli_words(text, text + sizeof(text),
                                  ex->policy.scopes);
        ngx_http_ir_cli_fact(ex, 9, "the location asks for: %*s",
                             p - text, text);

        p = ngx_http_ir_cli_words(text, text + sizeof(text), &org->scopes);
        ngx_http_ir_cli_fact(ex, 9, "the organisation's grant: %*s",
                             p - text, text);

        if (ex->rec.user.scopes.data) {
            ngx_http_ir_cli_fact(ex, 9, "narrowed by the user's \"scopes\": "
                                 "%V", &ex->rec.user.scopes);
        }

        scope = ex->policy.scopes->elts;

        for (i = 0; i < ex->policy.scopes->nelts; i++) {
            if (step == 9 && ex->verdict.subject.data == scope[i].data) {
                ngx_http_ir_cli_fact(ex, 9, "\"%V\" is not granted",
                                     &scope[i]);
                break;
            }
        }
    }

    /* 10 */

    if (!ex->policy.purpose) {
        ngx_http_ir_cli_fact(ex, 10, "not checked: no --purpose (a location "
                             "without ir_access_purpose)");

    } else {
        ngx_http_ir_cli_fact(ex, 10, "the purpose stated: %s%V%s",
                             ex->facts.purpose.len ? "\"" : "",
                             ex->facts.purpose.len ? &ex->facts.purpose
                                                   : &ngx_http_ir_cli_none,
                             ex->facts.purpose.len ? "\"" : "");

        p = ngx_http_ir_cli_words(text, text + sizeof(text), &org->purposes);
        ngx_http_ir_cli_fact(ex, 10, "the organisation's \"purposes\": %*s",
                             p - text, text);
    }

    ngx_http_ir_cli_explain_decided(ex, 7, 10, step);
}


/*
 * Step 11: the request is allowed, and counted under its user's and its
 * organisation's quotas unless one of them is spent.  The counts are
 * Redis's, the totals of every gateway; each gateway also refuses by
 * what it counted itself and has not sent yet (at most ~100 ms of its
 * requests).  Read only: nothing is counted here.
 */

static void
ngx_http_ir_cli_explain_quotas(ngx_http_ir_cli_explain_t *ex)
{
    time_t              now, next;
    ngx_str_t           names[2], none_name;
    ngx_uint_t          who, period, periods[2], none[2][2], own[2][2];
    ngx_uint_t          reason;
    ngx_http_ir_cli_t  *cli;
    u_char              day[16], text[256];

    static const char  *units[] = { "a minute", "a day" };
    static const char  *fields[] = { "\"rate\"", "\"daily\"" };
    static const char  *params[2][2] = { { "rate=", "daily=" },
                                         { "org_rate=", "org_daily=" } };

    cli = ex->cli;
    now = cli->now;

    ngx_str_set(&none_name, "");

    names[NGX_HTTP_IR_QUOTA_USER] = ex->user;
    names[NGX_HTTP_IR_QUOTA_ORG] = ex->rec.user.org;

    /* the minute in UTC, the day in ir_access_timezone, as the gateway's */

    periods[NGX_HTTP_IR_QUOTA_MINUTE] = now / 60;
    periods[NGX_HTTP_IR_QUOTA_DAY] = ngx_http_ir_zone_today(&cli->conf.zone,
                                                            now, &next);

    for (who = 0; who < 2; who++) {
        for (period = 0; period < 2; period++) {
            none[who][period] = NGX_HTTP_IR_QUOTA_UNSET;
        }
    }

    ngx_http_ir_quota_limits(&ex->rec, ex->quota.enable ? ex->quota.limit
                                                        : none,
                             ex->limit);

    switch (ngx_http_ir_cli_explain_counts(ex, names, periods)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        ngx_http_ir_cli_explain_decided(ex, 11, 11, NGX_HTTP_IR_CLI_NO_STEP);
        return;

    default:
        ex->error = 1;
        ngx_http_ir_cli_fact(ex, 11, "the counts could not be read: Redis "
                             "failed");
        ex->steps[11].outcome = NGX_HTTP_IR_CLI_PASS;
        return;
    }

    ex->counted = 1;

    if (!ex->quota.enable) {
        ngx_http_ir_cli_fact(ex, 11, "not counted: %s",
                             cli->request.quota.data
                             ? "--quota off"
                             : "no ir_access_quota in the configuration "
                               "(--quota \"rate=N/m daily=N ...\" describes "
                               "the location's)");
    }

    own[NGX_HTTP_IR_QUOTA_USER][NGX_HTTP_IR_QUOTA_MINUTE] =
                                                 ex->rec.user.rate_limit;
    own[NGX_HTTP_IR_QUOTA_USER][NGX_HTTP_IR_QUOTA_DAY] =
                                                 ex->rec.user.daily_limit;
    own[NGX_HTTP_IR_QUOTA_ORG][NGX_HTTP_IR_QUOTA_MINUTE] =
                                                 ex->rec.org.rate_limit;
    own[NGX_HTTP_IR_QUOTA_ORG][NGX_HTTP_IR_QUOTA_DAY] =
                                                 ex->rec.org.daily_limit;

    for (who = 0; who < 2; who++) {
        for (period = 0; period < 2; period++) {

            /* the limit, and where it comes from */

            if (ex->limit[who][period] == NGX_HTTP_IR_QUOTA_UNSET) {
                ngx_snprintf(text, sizeof(text), "none%Z");

            } else if (own[who][period] != NGX_HTTP_IR_QUOTA_UNSET) {
                ngx_snprintf(text, sizeof(text), "%ui requests %s (the "
                             "record's %s%s)%Z", ex->limit[who][period],
                             units[period], fields[period],
                             ex->quota.enable ? "" : ", unused here");

            } else {
                ngx_snprintf(text, sizeof(text), "%ui requests %s "
                             "(ir_access_quota %s)%Z",
                             ex->limit[who][period], units[period],
                             params[who][period]);
            }

            if (period == NGX_HTTP_IR_QUOTA_MINUTE) {
                ngx_http_ir_cli_fact(ex, 11, "%s \"%V\", this minute (UTC): "
                                     "%ui counted, limit %s",
                                     ngx_http_ir_cli_whose[who], &names[who],
                                     ex->count[who][period], text);

            } else {
                ngx_http_ir_cli_fact(ex, 11, "%s \"%V\", today (%*s%s%V): "
                                     "%ui counted, limit %s",
                                     ngx_http_ir_cli_whose[who], &names[who],
                                     ngx_http_ir_cli_date(day,
                                                          periods[period])
                                     - day, day,
                                     cli->conf.zone.changes ? " in " : "",
                                     cli->conf.zone.changes
                                     ? &cli->conf.zone.name : &none_name,
                                     ex->count[who][period], text);
            }
        }
    }

    if (!ex->quota.enable) {
        ngx_http_ir_cli_explain_decided(ex, 11, 11, NGX_HTTP_IR_CLI_NO_STEP);
        return;
    }

    reason = ngx_http_ir_quota_spent(ex->limit, ex->count, &who, &period);

    if (reason == NGX_HTTP_IR_ALLOW) {
        ngx_http_ir_cli_fact(ex, 11, "no quota is spent: the gateway counts "
                             "the request");
        ngx_http_ir_cli_explain_decided(ex, 11, 11, NGX_HTTP_IR_CLI_NO_STEP);
        return;
    }

    ngx_http_ir_deny_quota(&ex->verdict, who, period, &names[who]);

    ex->verdict.retry_after = (period == NGX_HTTP_IR_QUOTA_DAY)
                              ? next - now : (time_t) (now / 60 + 1) * 60 - now;

    ngx_http_ir_cli_fact(ex, 11, "the %s's %s quota is spent: refused, "
                         "uncounted, until the %s ends (Retry-After: %T)",
                         ngx_http_ir_cli_whose[who],
                         period ? "daily" : "rate",
                         period ? "day" : "minute",
                         ex->verdict.retry_after);

    ngx_http_ir_cli_explain_decided(ex, 11, 11, 11);
}


/*
 * The minute's and the day's counts in Redis, GET only: NGX_OK;
 * NGX_DECLINED where Redis refuses the tool (an ACL user without the
 * counters), which is told; NGX_ERROR where Redis failed.
 */

static ngx_int_t
ngx_http_ir_cli_explain_counts(ngx_http_ir_cli_explain_t *ex,
    ngx_str_t *names, ngx_uint_t *periods)
{
    ngx_int_t            n, rc;
    ngx_str_t            key[2][2];
    ngx_uint_t           who, period;
    redisReply          *reply;
    ngx_http_ir_cli_t   *cli;
    u_char               buf[2][2][NGX_HTTP_IR_KEY_MAX];

    cli = ex->cli;

    for (who = 0; who < 2; who++) {
        for (period = 0; period < 2; period++) {
            key[who][period].data = buf[who][period];
            key[who][period].len = ngx_http_ir_key_quota(buf[who][period],
                                                         &cli->conf.prefix,
                                                         who, &names[who],
                                                         period,
                                                         periods[period])
                                   - buf[who][period];

            if (ngx_http_ir_cli_append_key(cli, "GET", &key[who][period])
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    rc = NGX_OK;

    for (who = 0; who < 2; who++) {
        for (period = 0; period < 2; period++) {
            reply = ngx_http_ir_cli_reply(cli);
            if (reply == NULL) {
                return NGX_ERROR;
            }

            if (reply->type == REDIS_REPLY_ERROR && reply->len >= 6
                && ngx_strncmp(reply->str, "NOPERM", 6) == 0)
            {
                if (rc == NGX_OK) {
                    ngx_http_ir_cli_fact(ex, 11, "not checked: Redis "
                                         "refused to read %V: %*s",
                                         &key[who][period],
                                         (size_t) reply->len, reply->str);
                }

                rc = NGX_DECLINED;
                freeReplyObject(reply);
                continue;
            }

            /* none yet is 0; a key that is no counter is told */

            n = (reply->type == REDIS_REPLY_NIL) ? 0 : NGX_ERROR;

            if (reply->type == REDIS_REPLY_STRING) {
                n = ngx_atoi((u_char *) reply->str, reply->len);
            }

            if (n == NGX_ERROR) {
                ngx_http_ir_cli_fact(ex, 11, "%V is no count: the gateway "
                                     "cannot add to it, and counts on its "
                                     "own", &key[who][period]);
                n = 0;
            }

            ex->count[who][period] = n;

            freeReplyObject(reply);
        }
    }

    return rc;
}


/* the steps from first to last passed, up to the one that denied */

static void
ngx_http_ir_cli_explain_decided(ngx_http_ir_cli_explain_t *ex,
    ngx_uint_t first, ngx_uint_t last, ngx_uint_t step)
{
    ngx_uint_t  i;

    for (i = first; i <= last; i++) {
        if (i > step) {
            break;
        }

        ex->steps[i].outcome = (i == step) ? NGX_HTTP_IR_CLI_DENY
                                           : NGX_HTTP_IR_CLI_PASS;
    }

    if (step != NGX_HTTP_IR_CLI_NO_STEP) {
        ex->decided = step;
    }
}


static void
ngx_http_ir_cli_fact(ngx_http_ir_cli_explain_t *ex, ngx_uint_t step,
    const char *fmt, ...)
{
    u_char     *p;
    va_list     args;
    ngx_str_t  *fact;
    u_char      text[NGX_MAX_ERROR_STR];

    va_start(args, fmt);
    p = ngx_vslprintf(text, text + sizeof(text), fmt, args);
    va_end(args);

    fact = ngx_array_push(&ex->steps[step].facts);
    if (fact == NULL) {
        return;
    }

    fact->len = p - text;
    fact->data = ngx_pnalloc(ex->pool, fact->len);
    if (fact->data == NULL) {
        fact->len = 0;
        return;
    }

    ngx_memcpy(fact->data, text, fact->len);
}


/* words separated by spaces, or "(none)" */

static u_char *
ngx_http_ir_cli_words(u_char *p, u_char *last, ngx_array_t *words)
{
    u_char      *start;
    ngx_str_t   *word;
    ngx_uint_t   i;

    start = p;

    if (words) {
        word = words->elts;

        for (i = 0; i < words->nelts; i++) {
            if ((size_t) (last - p) < word[i].len + 8) {
                return ngx_cpymem(p, "...", 3);
            }

            if (p != start) {
                *p++ = ' ';
            }

            p = ngx_http_ir_cli_show(p, last, &word[i]);
        }
    }

    if (p == start) {
        p = ngx_cpymem(p, "(none)", 6);
    }

    return p;
}


/* a pin as admins see it: lowercase hex, shortened */

static u_char *
ngx_http_ir_cli_pin(u_char *p, u_char *digest)
{
    u_char  hex[NGX_HTTP_IR_DIGEST_LEN * 2];

    ngx_hex_dump(hex, digest, NGX_HTTP_IR_DIGEST_LEN);

    p = ngx_cpymem(p, hex, 16);
    p = ngx_cpymem(p, "...", 3);

    return ngx_cpymem(p, hex + sizeof(hex) - 8, 8);
}


/* an allowlist entry as it was taken: "10.0.0.0/8" */

static u_char *
ngx_http_ir_cli_cidr(u_char *p, ngx_cidr_t *cidr)
{
    u_char      *mask;
    ngx_uint_t   i, n, bits;

    if (cidr->family == AF_INET) {
        mask = (u_char *) &cidr->u.in.mask;
        n = 4;
        p += ngx_inet_ntop(AF_INET, &cidr->u.in.addr, p, NGX_SOCKADDR_STRLEN);

#if (NGX_HAVE_INET6)
    } else {
        mask = cidr->u.in6.mask.s6_addr;
        n = 16;
        p += ngx_inet_ntop(AF_INET6, &cidr->u.in6.addr, p,
                           NGX_SOCKADDR_STRLEN);
#else
    } else {
        return p;
#endif
    }

    bits = 0;

    for (i = 0; i < n; i++) {
        bits += __builtin_popcount(mask[i]);
    }

    return ngx_sprintf(p, "/%ui", bits);
}


static void
ngx_http_ir_cli_explain_print(ngx_http_ir_cli_explain_t *ex)
{
    size_t       len;
    ngx_str_t   *fact, *line;
    ngx_uint_t   i, j;
    u_char       text[NGX_MAX_ERROR_STR];

    for (i = 0; i <= NGX_HTTP_IR_CLI_STEPS; i++) {
        ngx_http_ir_cli_print("%2ui  %s: %s\n", i, ex->steps[i].name,
                              ngx_http_ir_cli_outcomes[ex->steps[i].outcome]);

        if (ex->steps[i].outcome == NGX_HTTP_IR_CLI_UNREACHED) {
            continue;
        }

        fact = ex->steps[i].facts.elts;

        for (j = 0; j < ex->steps[i].facts.nelts; j++) {
            len = ngx_http_ir_cli_show(text, text + sizeof(text), &fact[j])
                  - text;
            ngx_http_ir_cli_print("      %*s\n", len, text);
        }
    }

    line = ex->log.elts;

    for (i = 0; i < ex->log.nelts; i++) {
        ngx_http_ir_cli_print("%s %V\n", i ? "            " : "gateway log:",
                              &line[i]);
    }

    if (ex->verdict.reason == NGX_HTTP_IR_ALLOW) {
        ngx_http_ir_cli_print("result: allow (200)%s\n",
                              ex->policy.cert_pin || ex->cli->request.no_pin
                              ? "" : ", the certificate not compared");
        return;
    }

    len = ngx_http_ir_cli_gateway_line(ex, text, sizeof(text));

    ngx_http_ir_cli_print("result: deny, %V (%ui)",
                          ngx_http_ir_reason_name(ex->verdict.reason),
                          ngx_http_ir_reason_status(ex->verdict.reason));

    if (ex->verdict.retry_after) {
        ngx_http_ir_cli_print(", Retry-After: %T", ex->verdict.retry_after);
    }

    ngx_http_ir_cli_print("\ngateway would log: %*s\n", len, text);
}


static void
ngx_http_ir_cli_explain_json(ngx_http_ir_cli_explain_t *ex)
{
    size_t       len;
    ngx_str_t   *fact, *line, s;
    ngx_uint_t   i, j, who, period;
    u_char       text[NGX_MAX_ERROR_STR];

    ngx_http_ir_cli_print("{\"user\":");
    ngx_http_ir_cli_json_str(&ex->user);
    ngx_http_ir_cli_json_key("ip", 0);
    ngx_http_ir_cli_json_str(&ex->cli->request.ip);
    ngx_http_ir_cli_print(",\"steps\":[");

    for (i = 0; i <= NGX_HTTP_IR_CLI_STEPS; i++) {
        ngx_http_ir_cli_print("%s\n{\"step\":%ui,\"name\":\"%s\","
                              "\"outcome\":\"%s\",\"facts\":[",
                              i ? "," : "", i, ex->steps[i].name,
                              ngx_http_ir_cli_outcomes[ex->steps[i].outcome]);

        fact = ex->steps[i].facts.elts;

        for (j = 0; j < ex->steps[i].facts.nelts; j++) {
            if (j) {
                ngx_http_ir_cli_print(",");
            }

            ngx_http_ir_cli_json_str(&fact[j]);
        }

        ngx_http_ir_cli_print("]}");
    }

    ngx_http_ir_cli_print("],\n\"decision\":\"%s\",\"reason\":",
                          ex->verdict.reason == NGX_HTTP_IR_ALLOW
                          ? "allow" : "deny");
    ngx_http_ir_cli_json_str(ngx_http_ir_reason_name(ex->verdict.reason));
    ngx_http_ir_cli_print(",\"status\":%ui,\"step\":",
                          ex->verdict.reason == NGX_HTTP_IR_ALLOW
                          ? 200 : ngx_http_ir_reason_status(
                                                        ex->verdict.reason));

    if (ex->decided == NGX_HTTP_IR_CLI_NO_STEP) {
        ngx_http_ir_cli_print("null");

    } else {
        ngx_http_ir_cli_print("%ui", ex->decided);
    }

    /* what a client is told besides the reason */

    ngx_http_ir_cli_json_key("retry_after", 0);

    if (ex->verdict.reason != NGX_HTTP_IR_ALLOW && ex->verdict.retry_after) {
        ngx_http_ir_cli_print("%T", ex->verdict.retry_after);

    } else {
        ngx_http_ir_cli_print("null");
    }

    ngx_http_ir_cli_json_key("until", 0);
    ngx_http_ir_cli_json_str(&ex->verdict.until);
    ngx_http_ir_cli_json_key("message", 0);
    ngx_http_ir_cli_json_str(&ex->verdict.message);

    /* the quotas as step 11 found them */

    ngx_http_ir_cli_json_key("quotas", 0);

    if (!ex->counted) {
        ngx_http_ir_cli_print("null");

    } else {
        ngx_http_ir_cli_print("{\"on\":%s", ex->quota.enable ? "true"
                                                             : "false");

        for (who = 0; who < 2; who++) {
            ngx_http_ir_cli_json_key(who ? "org" : "user", 0);
            ngx_http_ir_cli_print("{\"name\":");
            ngx_http_ir_cli_json_str(who ? &ex->rec.user.org : &ex->user);

            for (period = 0; period < 2; period++) {
                ngx_http_ir_cli_json_key(period ? "daily" : "rate", 0);

                if (ex->limit[who][period] == NGX_HTTP_IR_QUOTA_UNSET) {
                    ngx_http_ir_cli_print("null");

                } else {
                    ngx_http_ir_cli_print("%ui", ex->limit[who][period]);
                }

                ngx_http_ir_cli_print(",\"%s\":%ui",
                                      period ? "today" : "this_minute",
                                      ex->count[who][period]);
            }

            ngx_http_ir_cli_print("}");
        }

        ngx_http_ir_cli_print("}");
    }

    ngx_http_ir_cli_json_key("detail", 0);
    ngx_http_ir_cli_json_cstr(ex->verdict.reason == NGX_HTTP_IR_ALLOW
                              ? NULL : ex->verdict.detail);
    ngx_http_ir_cli_json_key("subject", 0);
    ngx_http_ir_cli_json_str(&ex->verdict.subject);
    ngx_http_ir_cli_json_key("hint", 0);
    ngx_http_ir_cli_json_cstr(ex->verdict.hint);

    ngx_http_ir_cli_json_key("gateway_log", 0);
    ngx_http_ir_cli_print("[");

    line = ex->log.elts;

    for (i = 0; i < ex->log.nelts; i++) {
        if (i) {
            ngx_http_ir_cli_print(",");
        }

        ngx_http_ir_cli_json_str(&line[i]);
    }

    if (ex->verdict.reason != NGX_HTTP_IR_ALLOW) {
        len = ngx_http_ir_cli_gateway_line(ex, text, sizeof(text));

        s.data = text;
        s.len = len;

        if (ex->log.nelts) {
            ngx_http_ir_cli_print(",");
        }

        ngx_http_ir_cli_json_str(&s);
    }

    ngx_http_ir_cli_print("]}\n");
}


/*
 * The denial's line as the gateway logs it (ngx_http_ir_request.c): at
 * "info" for the reasons logged once elsewhere or the client's doing,
 * else at "ir_access_log_level", "error" by default; before step 1 for
 * no user.
 */

static size_t
ngx_http_ir_cli_gateway_line(ngx_http_ir_cli_explain_t *ex, u_char *buf,
    size_t size)
{
    u_char                 *p;
    ngx_str_t               none;
    ngx_http_ir_verdict_t  *v;
    u_char                  subject[256];

    v = &ex->verdict;

    ngx_str_set(&none, "");

    p = ngx_snprintf(buf, size, "[%s] ir_access: denied user \"%V\" "
                     "from %V: %V, %s%s%*s%s%s%s%s",
                     ngx_http_ir_reason_level(v->reason) == NGX_LOG_INFO
                     ? "info" : "error",
                     ex->decided == 0 ? &none : &ex->user,
                     &ex->cli->request.ip,
                     ngx_http_ir_reason_name(v->reason), v->detail,
                     v->subject.data ? ": \"" : "",
                     v->subject.data
                     ? ngx_http_ir_escape(subject, subject + sizeof(subject),
                                          &v->subject) - subject
                     : 0, subject,
                     v->subject.data ? "\"" : "",
                     v->hint ? " (" : "", v->hint ? v->hint : "",
                     v->hint ? ")" : "");

    return p - buf;
}
