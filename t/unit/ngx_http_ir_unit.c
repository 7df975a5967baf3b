
/*
 * ir-access: unit tests of the pure layer, linked with nginx's own
 * string, address, pool and array code: the decision step by step, the
 * record's fields as Redis holds them, pins, password hash formats,
 * dates, lists, names, the allowlist, the key schema, escaping for the
 * log, the packed record, the scripts' arguments and the readers of
 * Redis's replies, fed with reply trees built by hand, and the identity
 * in a certificate's subject.
 *
 * Every decision test starts from a record that is allowed and breaks one
 * thing, so that each assertion shows which step answers and with what;
 * the record is built from its fields for every decision, through the
 * same calls as a record read from Redis.  Log lines are captured, and
 * none may carry a raw control character.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ngx_http_ir_addr.h"
#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_identity.h"
#include "ngx_http_ir_notice.h"
#include "ngx_http_ir_record.h"
#include "ngx_http_ir_schema.h"
#include "ngx_http_ir_store.h"
#include "ngx_http_ir_zone.h"


#define NGX_HTTP_IR_UNIT_FIELDS        16
#define NGX_HTTP_IR_UNIT_LOG           16384


typedef struct {
    ngx_str_t                      name;
    ngx_str_t                      value;         /* data NULL: absent */
} ngx_http_ir_unit_field_t;


typedef struct {
    ngx_uint_t                     n;
    ngx_http_ir_unit_field_t       field[NGX_HTTP_IR_UNIT_FIELDS];
} ngx_http_ir_unit_hash_t;


typedef struct {
    ngx_uint_t                     n;
    ngx_str_t                      member[NGX_HTTP_IR_UNIT_FIELDS];
} ngx_http_ir_unit_set_t;


typedef struct {
    ngx_pool_t                    *pool;
    ngx_log_t                      log;
    unsigned                       user_found:1;
    unsigned                       org_found:1;
    ngx_http_ir_unit_hash_t        user;
    ngx_http_ir_unit_hash_t        org;
    ngx_http_ir_unit_set_t         ips;
    ngx_http_ir_unit_set_t         scopes;
    ngx_http_ir_unit_set_t         purposes;
    ngx_http_ir_record_t           rec;
    ngx_http_ir_policy_t           policy;
    ngx_http_ir_facts_t            facts;
    ngx_http_ir_verdict_t          verdict;
    struct sockaddr_in             sin;
    struct sockaddr_in6            sin6;
    u_char                         digest[NGX_HTTP_IR_DIGEST_LEN];
} ngx_http_ir_unit_t;


/* what the stub of nginx's logger kept since the last reset */

typedef struct {
    size_t                         len;
    ngx_uint_t                     controls;      /* raw control chars */
    u_char                         text[NGX_HTTP_IR_UNIT_LOG];
} ngx_http_ir_unit_log_t;


#define ngx_http_ir_unit_str(s, text)                                        \
    (s)->len = sizeof(text) - 1; (s)->data = (u_char *) text

#define ngx_http_ir_unit_user(u, name, value)                                \
    ngx_http_ir_unit_set(&(u)->user, name, (u_char *) value,                 \
                         sizeof(value) - 1)

#define ngx_http_ir_unit_org(u, name, value)                                 \
    ngx_http_ir_unit_set(&(u)->org, name, (u_char *) value,                  \
                         sizeof(value) - 1)


static void ngx_http_ir_unit_set(ngx_http_ir_unit_hash_t *hash, char *name,
    u_char *value, size_t len);
static void ngx_http_ir_unit_unset(ngx_http_ir_unit_hash_t *hash,
    char *name);
static void ngx_http_ir_unit_add(ngx_http_ir_unit_set_t *set, char *member);
static void ngx_http_ir_unit_build(ngx_http_ir_unit_t *u);
static void ngx_http_ir_unit_list(ngx_array_t *a, char *word);
static void ngx_http_ir_unit_client(ngx_http_ir_unit_t *u, char *addr);
static int ngx_http_ir_unit_setup(void **state);
static int ngx_http_ir_unit_teardown(void **state);
static ngx_uint_t ngx_http_ir_unit_decide(ngx_http_ir_unit_t *u);
static void ngx_http_ir_unit_denied(ngx_http_ir_unit_t *u, char *reason,
    char *subject);
static void ngx_http_ir_unit_detail(ngx_http_ir_unit_t *u, char *detail);
static void ngx_http_ir_unit_is(ngx_str_t *s, char *text);
static void ngx_http_ir_unit_logged(char *text);
static void ngx_http_ir_unit_log_reset(void);
static redisReply *ngx_http_ir_unit_reply(ngx_http_ir_unit_t *u, int type,
    char *str, size_t len);
static redisReply *ngx_http_ir_unit_integer(ngx_http_ir_unit_t *u,
    long long n);
static redisReply *ngx_http_ir_unit_array(ngx_http_ir_unit_t *u,
    size_t n, ...);
static redisReply *ngx_http_ir_unit_lookup(ngx_http_ir_unit_t *u);
static ngx_int_t ngx_http_ir_unit_read(ngx_http_ir_unit_t *u,
    redisReply *reply);

static void ngx_http_ir_unit_allowed(void **state);
static void ngx_http_ir_unit_user_status(void **state);
static void ngx_http_ir_unit_user_bad(void **state);
static void ngx_http_ir_unit_order(void **state);
static void ngx_http_ir_unit_pins(void **state);
static void ngx_http_ir_unit_pin_words(void **state);
static void ngx_http_ir_unit_addresses(void **state);
static void ngx_http_ir_unit_allowlist_invalid(void **state);
static void ngx_http_ir_unit_countries(void **state);
static void ngx_http_ir_unit_login(void **state);
static void ngx_http_ir_unit_contract(void **state);
static void ngx_http_ir_unit_env(void **state);
static void ngx_http_ir_unit_scopes(void **state);
static void ngx_http_ir_unit_purposes(void **state);
static void ngx_http_ir_unit_reasons(void **state);
static void ngx_http_ir_unit_fields(void **state);
static void ngx_http_ir_unit_field_limits(void **state);
static void ngx_http_ir_unit_org_name(void **state);
static void ngx_http_ir_unit_scope_members(void **state);
static void ngx_http_ir_unit_parse_pin(void **state);
static void ngx_http_ir_unit_pin_hint(void **state);
static void ngx_http_ir_unit_hash_kind(void **state);
static void ngx_http_ir_unit_dates(void **state);
static void ngx_http_ir_unit_lists(void **state);
static void ngx_http_ir_unit_quotas(void **state);
static void ngx_http_ir_unit_times(void **state);
static void ngx_http_ir_unit_days(void **state);
static void ngx_http_ir_unit_notice_text(void **state);
static void ngx_http_ir_unit_names(void **state);
static void ngx_http_ir_unit_addr_parse(void **state);
static void ngx_http_ir_unit_escape(void **state);
static void ngx_http_ir_unit_time(void **state);
static void ngx_http_ir_unit_key(void **state);
static void ngx_http_ir_unit_key_parse(void **state);
static void ngx_http_ir_unit_record(void **state);
static void ngx_http_ir_unit_record_empty(void **state);
static void ngx_http_ir_unit_record_bad(void **state);
static void ngx_http_ir_unit_store_args(void **state);
static void ngx_http_ir_unit_lookup_found(void **state);
static void ngx_http_ir_unit_lookup_errors(void **state);
static void ngx_http_ir_unit_lookup_types(void **state);
static void ngx_http_ir_unit_lookup_org(void **state);
static void ngx_http_ir_unit_lookup_bad(void **state);
static void ngx_http_ir_unit_login_reply(void **state);
static void ngx_http_ir_unit_small_replies(void **state);
static void ngx_http_ir_unit_notification(void **state);
static void ngx_http_ir_unit_edit(void **state);
static void ngx_http_ir_unit_identity(void **state);
static ngx_uint_t ngx_http_ir_unit_cn(ngx_http_ir_unit_t *u, int type,
    char *cn, size_t len, ngx_uint_t twice);


/* what nginx's core provides and a unit test has no cycle for */

volatile ngx_cycle_t     *ngx_cycle;
volatile ngx_time_t      *ngx_cached_time;

static ngx_time_t         ngx_http_ir_unit_now = { 1795766400, 0, 0 };
static ngx_http_ir_unit_log_t  ngx_http_ir_unit_log;

/* what identity.c takes of nginx's SSL module, for a connection's peer */

ngx_module_t  ngx_http_ssl_module;


void
ngx_ssl_error(ngx_uint_t level, ngx_log_t *log, ngx_err_t err, char *fmt,
    ...)
{
}

static ngx_str_t  ngx_http_ir_unit_prefix = ngx_string("ir:");
static ngx_str_t  ngx_http_ir_unit_name = ngx_string("alice");


/* the certificate's SHA-256 in the setup is 00 01 02 ... 1f */

#define NGX_HTTP_IR_UNIT_PIN                                                 \
    "00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:"                       \
    "10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F"

#define NGX_HTTP_IR_UNIT_PIN_HEX                                             \
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"


void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
    u_char                  *p, *start, *last;
    va_list                  args;
    ngx_http_ir_unit_log_t  *ul;

    ul = &ngx_http_ir_unit_log;

    if (level > NGX_LOG_INFO) {
        /* nginx's pool and debug lines */
        return;
    }

    start = ul->text + ul->len;
    last = ul->text + sizeof(ul->text) - 2;

    va_start(args, fmt);
    p = ngx_vslprintf(start, last, fmt, args);
    va_end(args);

    for ( /* void */ ; start < p; start++) {
        if (*start < 0x20 || *start == 0x7f) {
            ul->controls++;
        }
    }

    *p++ = '\n';
    *p = '\0';

    ul->len = p - ul->text;
}


/*
 * A user of an active organisation, pinned, with a "{PLAIN}" password,
 * allowed from 10.0.0.0/8 and 2001:db8::/32, with a contract for 2026,
 * production, two scopes and two purposes; a location that pins, checks
 * the password, wants production and "person.basic"; a request from
 * 10.1.2.3 in LV on 2026-11-27 with the right certificate, a good
 * password and the purpose "benefits", which the location does not ask.
 */

static int
ngx_http_ir_unit_setup(void **state)
{
    ngx_uint_t           i;
    ngx_http_ir_unit_t  *u;

    u = calloc(1, sizeof(ngx_http_ir_unit_t));
    assert_non_null(u);

    u->log.log_level = NGX_LOG_DEBUG;

    u->pool = ngx_create_pool(4096, &u->log);
    assert_non_null(u->pool);

    ngx_http_ir_unit_log_reset();
    ngx_http_ir_unit_log.controls = 0;

    u->user_found = 1;
    ngx_http_ir_unit_user(u, "org", "bank");
    ngx_http_ir_unit_user(u, "status", "active");
    ngx_http_ir_unit_user(u, "unit", "loans");
    ngx_http_ir_unit_user(u, "cert", NGX_HTTP_IR_UNIT_PIN);
    ngx_http_ir_unit_user(u, "password", "{PLAIN}secret");

    ngx_http_ir_unit_add(&u->ips, "10.0.0.0/8");
    ngx_http_ir_unit_add(&u->ips, "2001:db8::/32");

    u->org_found = 1;
    ngx_http_ir_unit_org(u, "status", "active");
    ngx_http_ir_unit_org(u, "name", "Bank");
    ngx_http_ir_unit_org(u, "contract", "C-1");
    ngx_http_ir_unit_org(u, "env", "production");
    ngx_http_ir_unit_org(u, "valid_from", "2026-01-01");
    ngx_http_ir_unit_org(u, "valid_to", "2026-12-31");

    ngx_http_ir_unit_add(&u->scopes, "person.basic");
    ngx_http_ir_unit_add(&u->scopes, "person.address");
    ngx_http_ir_unit_add(&u->purposes, "benefits");
    ngx_http_ir_unit_add(&u->purposes, "tax.audit");

    for (i = 0; i < NGX_HTTP_IR_DIGEST_LEN; i++) {
        u->digest[i] = (u_char) i;
    }

    u->policy.cert_pin = 1;
    u->policy.password = 1;
    ngx_http_ir_unit_str(&u->policy.env, "production");

    u->policy.scopes = ngx_array_create(u->pool, 2, sizeof(ngx_str_t));
    assert_non_null(u->policy.scopes);
    ngx_http_ir_unit_list(u->policy.scopes, "person.basic");

    u->facts.cert_digest = u->digest;
    ngx_http_ir_unit_client(u, "10.1.2.3");
    ngx_http_ir_unit_str(&u->facts.country, "LV");
    u->facts.today = 20261127;
    u->facts.login = NGX_HTTP_IR_LOGIN_GOOD;
    ngx_http_ir_unit_str(&u->facts.purpose, "benefits");

    *state = u;

    return 0;
}


static int
ngx_http_ir_unit_teardown(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    /* whatever a test logged, no line carried a raw control character */
    assert_int_equal(ngx_http_ir_unit_log.controls, 0);

    ngx_destroy_pool(u->pool);
    free(u);

    return 0;
}


static void
ngx_http_ir_unit_set(ngx_http_ir_unit_hash_t *hash, char *name,
    u_char *value, size_t len)
{
    ngx_uint_t                 i;
    ngx_http_ir_unit_field_t  *f;

    for (i = 0; i < hash->n; i++) {
        if (ngx_strcmp(hash->field[i].name.data, name) == 0) {
            break;
        }
    }

    if (i == hash->n) {
        assert_true(hash->n < NGX_HTTP_IR_UNIT_FIELDS);
        hash->n++;
    }

    f = &hash->field[i];

    f->name.data = (u_char *) name;
    f->name.len = ngx_strlen(name);
    f->value.data = value;
    f->value.len = len;
}


static void
ngx_http_ir_unit_unset(ngx_http_ir_unit_hash_t *hash, char *name)
{
    ngx_http_ir_unit_set(hash, name, NULL, 0);
}


static void
ngx_http_ir_unit_add(ngx_http_ir_unit_set_t *set, char *member)
{
    assert_true(set->n < NGX_HTTP_IR_UNIT_FIELDS);

    set->member[set->n].data = (u_char *) member;
    set->member[set->n].len = ngx_strlen(member);
    set->n++;
}


/* the record as the lookup reads it from Redis, field by field */

static void
ngx_http_ir_unit_build(ngx_http_ir_unit_t *u)
{
    ngx_uint_t                 i;
    ngx_http_ir_unit_field_t  *f;

    assert_int_equal(ngx_http_ir_record_init(&u->rec, u->pool), NGX_OK);

    u->rec.user.found = u->user_found;

    for (i = 0; i < u->user.n; i++) {
        f = &u->user.field[i];

        if (f->value.data) {
            assert_int_equal(ngx_http_ir_record_field(ngx_http_ir_user_fields,
                                                      &u->rec.user,
                                                      &u->rec.user.bad,
                                                      &f->name, &f->value,
                                                      u->pool),
                             NGX_OK);
        }
    }

    for (i = 0; i < u->ips.n; i++) {
        assert_int_not_equal(ngx_http_ir_record_ip(&u->rec.user,
                                                   &u->ips.member[i],
                                                   u->pool),
                             NGX_ERROR);
    }

    u->rec.org.found = u->org_found;

    for (i = 0; i < u->org.n; i++) {
        f = &u->org.field[i];

        if (f->value.data) {
            assert_int_equal(ngx_http_ir_record_field(ngx_http_ir_org_fields,
                                                      &u->rec.org,
                                                      &u->rec.org.bad,
                                                      &f->name, &f->value,
                                                      u->pool),
                             NGX_OK);
        }
    }

    for (i = 0; i < u->scopes.n; i++) {
        assert_int_not_equal(ngx_http_ir_record_word(&u->rec.org.scopes,
                                                     &u->scopes.member[i],
                                                     u->pool),
                             NGX_ERROR);
    }

    for (i = 0; i < u->purposes.n; i++) {
        assert_int_not_equal(ngx_http_ir_record_word(&u->rec.org.purposes,
                                                     &u->purposes.member[i],
                                                     u->pool),
                             NGX_ERROR);
    }

    assert_int_equal(ngx_http_ir_record_finish(&u->rec, u->pool), NGX_OK);
}


static void
ngx_http_ir_unit_list(ngx_array_t *a, char *word)
{
    ngx_str_t  *s;

    s = ngx_array_push(a);
    assert_non_null(s);

    s->len = ngx_strlen(word);
    s->data = (u_char *) word;
}


static void
ngx_http_ir_unit_client(ngx_http_ir_unit_t *u, char *addr)
{
    ngx_memzero(&u->sin, sizeof(struct sockaddr_in));
    ngx_memzero(&u->sin6, sizeof(struct sockaddr_in6));

    if (inet_pton(AF_INET, addr, &u->sin.sin_addr) == 1) {
        u->sin.sin_family = AF_INET;
        u->facts.sockaddr = (struct sockaddr *) &u->sin;
        return;
    }

    assert_int_equal(inet_pton(AF_INET6, addr, &u->sin6.sin6_addr), 1);
    u->sin6.sin6_family = AF_INET6;
    u->facts.sockaddr = (struct sockaddr *) &u->sin6;
}


static ngx_uint_t
ngx_http_ir_unit_decide(ngx_http_ir_unit_t *u)
{
    ngx_http_ir_unit_build(u);

    return ngx_http_ir_decide(&u->policy, &u->facts, &u->rec, &u->verdict);
}


/* the reason a client sees, and the value the operator's log line names */

static void
ngx_http_ir_unit_denied(ngx_http_ir_unit_t *u, char *reason, char *subject)
{
    ngx_uint_t  rc;

    rc = ngx_http_ir_unit_decide(u);

    ngx_http_ir_unit_is(ngx_http_ir_reason_name(rc), reason);

    assert_int_equal(u->verdict.reason, rc);
    assert_non_null(u->verdict.detail);

    if (subject == NULL) {
        assert_null(u->verdict.subject.data);
        return;
    }

    ngx_http_ir_unit_is(&u->verdict.subject, subject);
}


static void
ngx_http_ir_unit_detail(ngx_http_ir_unit_t *u, char *detail)
{
    assert_non_null(u->verdict.detail);
    assert_string_equal(u->verdict.detail, detail);
}


static void
ngx_http_ir_unit_is(ngx_str_t *s, char *text)
{
    assert_non_null(s->data);
    assert_int_equal(s->len, ngx_strlen(text));
    assert_memory_equal(s->data, text, s->len);
}


static void
ngx_http_ir_unit_logged(char *text)
{
    if (ngx_strstr(ngx_http_ir_unit_log.text, text) == NULL) {
        fail_msg("the log does not say \"%s\"; it says:\n%s", text,
                 ngx_http_ir_unit_log.text);
    }
}


static void
ngx_http_ir_unit_log_reset(void)
{
    ngx_http_ir_unit_log.len = 0;
    ngx_http_ir_unit_log.text[0] = '\0';
}


/* the decision ------------------------------------------------------------ */

static void
ngx_http_ir_unit_allowed(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
    assert_int_equal(u->verdict.reason, NGX_HTTP_IR_ALLOW);
    assert_null(u->verdict.detail);
    assert_int_equal(ngx_http_ir_reason_name(NGX_HTTP_IR_ALLOW)->len, 0);
    assert_int_equal(ngx_http_ir_reason_status(NGX_HTTP_IR_ALLOW), 200);

    /* the record as the lookup left it */
    assert_int_equal(u->rec.user.pins.nelts, 1);
    assert_int_equal(u->rec.user.ips.nelts, 2);
    assert_int_equal(u->rec.user.hash, NGX_HTTP_IR_HASH_FAST);
    assert_int_equal(u->rec.org.from, 20260101);
    assert_int_equal(u->rec.org.to, 20261231);
}


static void
ngx_http_ir_unit_user_status(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    /* a missing status field is active, as the reference says */
    ngx_http_ir_unit_unset(&u->user, "status");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_user(u, "status", "disabled");
    ngx_http_ir_unit_denied(u, "user_disabled", "disabled");
    ngx_http_ir_unit_detail(u, "user status is");

    /* status words are exact: a typo disables, never allows */

    ngx_http_ir_unit_user(u, "status", "Active");
    ngx_http_ir_unit_denied(u, "user_disabled", "Active");

    ngx_http_ir_unit_user(u, "status", "active ");
    ngx_http_ir_unit_denied(u, "user_disabled", "active ");

    ngx_http_ir_unit_user(u, "status", "activated");
    ngx_http_ir_unit_denied(u, "user_disabled", "activated");

    ngx_http_ir_unit_user(u, "status", "activ");
    ngx_http_ir_unit_denied(u, "user_disabled", "activ");

    ngx_http_ir_unit_user(u, "status", "");
    ngx_http_ir_unit_denied(u, "user_disabled", "");

    ngx_http_ir_unit_user(u, "status", "locked");
    ngx_http_ir_unit_denied(u, "account_locked", NULL);
    ngx_http_ir_unit_detail(u, "account is locked");

    ngx_http_ir_unit_user(u, "status", "lockedout");
    ngx_http_ir_unit_denied(u, "user_disabled", "lockedout");

    u->user_found = 0;
    ngx_http_ir_unit_denied(u, "unknown_user", NULL);
    ngx_http_ir_unit_detail(u, "no user record");
}


static void
ngx_http_ir_unit_user_bad(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    /* a bad record is refused before its status is even read */

    ngx_http_ir_unit_user(u, "status", "active\r\n");
    ngx_http_ir_unit_denied(u, "bad_record",
                            "field \"status\" holds a control character");
    ngx_http_ir_unit_detail(u, "user record is unusable");

    /* the organisation's own, at step 7 */

    ngx_http_ir_unit_user(u, "status", "active");
    ngx_http_ir_unit_org(u, "contract", "C-1\x1b[2J");
    ngx_http_ir_unit_denied(u, "bad_record",
                            "field \"contract\" holds a control character");
    ngx_http_ir_unit_detail(u, "organisation record is unusable");

    ngx_http_ir_unit_org(u, "contract", "C-1");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
}


static void
ngx_http_ir_unit_order(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    /* everything wrong at once: each fix uncovers the next step */

    u->user_found = 0;
    ngx_http_ir_unit_user(u, "status", "locked");
    u->digest[0] = 0xff;
    ngx_http_ir_unit_client(u, "192.0.2.1");
    u->policy.countries = ngx_array_create(u->pool, 1, sizeof(ngx_str_t));
    assert_non_null(u->policy.countries);
    ngx_http_ir_unit_list(u->policy.countries, "EE");
    u->facts.login = NGX_HTTP_IR_LOGIN_WRONG;
    u->org_found = 0;
    ngx_http_ir_unit_org(u, "status", "suspended");
    ngx_http_ir_unit_org(u, "env", "test");

    ngx_http_ir_unit_denied(u, "unknown_user", NULL);

    u->user_found = 1;
    ngx_http_ir_unit_denied(u, "account_locked", NULL);

    ngx_http_ir_unit_user(u, "status", "active");
    ngx_http_ir_unit_denied(u, "cert_mismatch", NULL);

    u->digest[0] = 0;
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    ngx_http_ir_unit_client(u, "10.9.9.9");
    ngx_http_ir_unit_denied(u, "country_not_allowed", "LV");

    u->policy.countries = NULL;
    ngx_http_ir_unit_denied(u, "bad_password", NULL);

    u->facts.login = NGX_HTTP_IR_LOGIN_GOOD;
    ngx_http_ir_unit_denied(u, "org_unknown", "bank");
    ngx_http_ir_unit_detail(u, "no record of organisation");

    u->org_found = 1;
    ngx_http_ir_unit_denied(u, "org_suspended", "suspended");

    ngx_http_ir_unit_org(u, "status", "active");
    ngx_http_ir_unit_denied(u, "env_mismatch", "production");

    ngx_http_ir_unit_org(u, "env", "production");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    /* the parts decide as the whole does */

    assert_int_equal(ngx_http_ir_decide_account(&u->policy, &u->facts, &u->rec,
                                                &u->verdict),
                     NGX_HTTP_IR_ALLOW);

    u->facts.login = NGX_HTTP_IR_LOGIN_WRONG;
    assert_int_equal(ngx_http_ir_decide_login(&u->policy, &u->facts, &u->rec,
                                              &u->verdict),
                     NGX_HTTP_IR_BAD_PASSWORD);

    u->scopes.n = 0;
    ngx_http_ir_unit_build(u);
    assert_int_equal(ngx_http_ir_decide_contract(&u->policy, &u->facts,
                                                 &u->rec, &u->verdict),
                     NGX_HTTP_IR_SCOPE_DENIED);
}


static void
ngx_http_ir_unit_pins(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    u->digest[31] ^= 1;
    ngx_http_ir_unit_denied(u, "cert_mismatch", NULL);
    ngx_http_ir_unit_detail(u, "certificate is not among the user's pins");

    u->policy.cert_pin = 0;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
    u->policy.cert_pin = 1;

    /* a rollover: the new pin in lower case without colons, and the old */

    ngx_http_ir_unit_user(u, "cert",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1e, "
        NGX_HTTP_IR_UNIT_PIN);

    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
    assert_int_equal(u->rec.user.pins.nelts, 2);
    assert_null(u->rec.user.pin_invalid.data);

    u->digest[31] = 0x1f;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    u->digest[31] = 0x1d;
    ngx_http_ir_unit_denied(u, "cert_mismatch", NULL);

    u->digest[31] = 0x1f;

    /* pasted from "openssl x509 -noout -fingerprint -sha256" */

    ngx_http_ir_unit_user(u, "cert",
                          "sha256 Fingerprint=" NGX_HTTP_IR_UNIT_PIN);
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
    assert_int_equal(u->rec.user.pins.nelts, 1);

    /* OpenSSL 1.1 wrote it in capitals */

    ngx_http_ir_unit_user(u, "cert",
                          "SHA256 Fingerprint=" NGX_HTTP_IR_UNIT_PIN);
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    /* no "cert" field: nothing matches, and the log says which */

    ngx_http_ir_unit_unset(&u->user, "cert");
    ngx_http_ir_unit_denied(u, "cert_mismatch", NULL);
    ngx_http_ir_unit_detail(u, "user has no \"cert\" field");

    ngx_http_ir_unit_user(u, "cert", "");
    ngx_http_ir_unit_denied(u, "cert_mismatch", NULL);
    ngx_http_ir_unit_detail(u, "certificate is not among the user's pins");
}


/* words of "cert" that are no pin are named in the log, with a hint */

static void
ngx_http_ir_unit_pin_words(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    /* a pin that matches is enough, whatever else is there */

    ngx_http_ir_unit_user(u, "cert", "junk " NGX_HTTP_IR_UNIT_PIN);
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
    ngx_http_ir_unit_is(&u->rec.user.pin_invalid, "junk");

    u->digest[0] = 0xff;
    ngx_http_ir_unit_denied(u, "cert_mismatch", "junk");
    ngx_http_ir_unit_detail(u, "certificate is not among the user's pins, "
                               "and a word of \"cert\" is ignored");
    assert_string_equal(u->verdict.hint,
                        "not a SHA-256 fingerprint (64 hex digits)");

    /* the certificate's SHA-1, as an admin may paste it by mistake */

    ngx_http_ir_unit_user(u, "cert",
                          "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
                          "AB:CD:EF:01");
    ngx_http_ir_unit_denied(u, "cert_mismatch",
                            "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
                            "AB:CD:EF:01");
    assert_string_equal(u->verdict.hint,
                        "a SHA-1 fingerprint, not SHA-256: "
                        "use \"openssl x509 -fingerprint -sha256\"");

    /* the first word that is no pin is the one named */

    ngx_http_ir_unit_user(u, "cert",
                          "0123456789abcdef0123456789abcdef, 0xdeadbeef");
    ngx_http_ir_unit_denied(u, "cert_mismatch",
                            "0123456789abcdef0123456789abcdef");
    assert_string_equal(u->verdict.hint,
                        "an MD5 fingerprint, not SHA-256: "
                        "use \"openssl x509 -fingerprint -sha256\"");

    /* "openssl x509 -fingerprint" prints SHA-1 unless told otherwise */

    ngx_http_ir_unit_user(u, "cert",
                          "SHA1 Fingerprint=AB:CD:EF:01:23:45:67:89:AB:CD:"
                          "EF:01:23:45:67:89:AB:CD:EF:01");
    ngx_http_ir_unit_denied(u, "cert_mismatch",
                            "Fingerprint=AB:CD:EF:01:23:45:67:89:AB:CD:"
                            "EF:01:23:45:67:89:AB:CD:EF:01");
    assert_string_equal(u->verdict.hint,
                        "a SHA-1 fingerprint, not SHA-256: "
                        "use \"openssl x509 -fingerprint -sha256\"");

    ngx_http_ir_unit_user(u, "cert",
                          "md5 Fingerprint=01:23:45:67:89:AB:CD:EF:01:23:45:"
                          "67:89:AB:CD:EF");
    ngx_http_ir_unit_denied(u, "cert_mismatch",
                            "Fingerprint=01:23:45:67:89:AB:CD:EF:01:23:45:"
                            "67:89:AB:CD:EF");
    assert_string_equal(u->verdict.hint,
                        "an MD5 fingerprint, not SHA-256: "
                        "use \"openssl x509 -fingerprint -sha256\"");

    /*
     * a long word is named whole, never cut where its first 64 hex
     * digits would look like a pin
     */

    ngx_http_ir_unit_user(u, "cert",
                          NGX_HTTP_IR_UNIT_PIN_HEX ":" NGX_HTTP_IR_UNIT_PIN_HEX
                          NGX_HTTP_IR_UNIT_PIN_HEX NGX_HTTP_IR_UNIT_PIN_HEX);
    ngx_http_ir_unit_denied(u, "cert_mismatch",
                            NGX_HTTP_IR_UNIT_PIN_HEX ":"
                            NGX_HTTP_IR_UNIT_PIN_HEX NGX_HTTP_IR_UNIT_PIN_HEX
                            NGX_HTTP_IR_UNIT_PIN_HEX);

    /* a pin that does not match and nothing else: no word is named */

    ngx_http_ir_unit_user(u, "cert", NGX_HTTP_IR_UNIT_PIN);
    ngx_http_ir_unit_denied(u, "cert_mismatch", NULL);
    assert_null(u->verdict.hint);
}


static void
ngx_http_ir_unit_addresses(void **state)
{
    ngx_http_ir_unit_t  *u = *state;
    struct sockaddr_un   sun;

    ngx_http_ir_unit_client(u, "10.255.255.255");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_client(u, "11.0.0.0");
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);
    ngx_http_ir_unit_detail(u, "address is not on the user's allowlist");

    ngx_http_ir_unit_client(u, "2001:db8:ffff::1");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_client(u, "2001:db9::1");
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    /* an IPv4 client on a dual-stack socket is matched as IPv4 */

    ngx_http_ir_unit_client(u, "::ffff:10.1.2.3");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_client(u, "::ffff:11.1.2.3");
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    /* against single addresses too, every byte of them */

    u->ips.n = 0;
    ngx_http_ir_unit_add(&u->ips, "192.0.2.7");

    ngx_http_ir_unit_client(u, "::ffff:192.0.2.7");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_client(u, "192.0.2.7");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_client(u, "::ffff:192.0.2.8");
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    ngx_http_ir_unit_client(u, "::ffff:193.0.2.7");
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    ngx_http_ir_unit_client(u, "::ffff:192.1.2.7");
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    ngx_http_ir_unit_client(u, "::ffff:192.0.3.7");
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    /* an IPv6 address that merely ends in those bytes is another */

    ngx_http_ir_unit_client(u, "2001:db8::c000:207");
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    /* an entry written as mapped IPv6 is the IPv4 address it names */

    u->ips.n = 0;
    ngx_http_ir_unit_add(&u->ips, "::ffff:192.0.2.7");

    ngx_http_ir_unit_client(u, "192.0.2.7");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_client(u, "::ffff:192.0.2.7");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_client(u, "192.0.2.8");
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    /* a unix socket client has no address to allow */

    ngx_memzero(&sun, sizeof(struct sockaddr_un));
    sun.sun_family = AF_UNIX;
    u->facts.sockaddr = (struct sockaddr *) &sun;
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    /* everyone, where the admin wrote it so */

    ngx_http_ir_unit_add(&u->ips, "0.0.0.0/0");
    ngx_http_ir_unit_client(u, "203.0.113.9");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_client(u, "2001:db9::1");
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    ngx_http_ir_unit_add(&u->ips, "::/0");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    u->ips.n = 0;
    ngx_http_ir_unit_client(u, "10.1.2.3");
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);
    ngx_http_ir_unit_detail(u, "user's allowlist is empty");
}


/* entries that are ignored widen nothing, and the log line names them */

static void
ngx_http_ir_unit_allowlist_invalid(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    /* "/0" where "/32" was meant allows no one, not everyone */

    u->ips.n = 0;
    ngx_http_ir_unit_add(&u->ips, "127.0.0.15/0");
    ngx_http_ir_unit_add(&u->ips, "127.0.0.15/24");

    ngx_http_ir_unit_client(u, "127.0.0.1");
    ngx_http_ir_unit_denied(u, "ip_not_allowed",
                            "127.0.0.15/0, 127.0.0.15/24");
    ngx_http_ir_unit_detail(u, "user's allowlist has only invalid entries, "
                               "ignored");
    assert_int_equal(u->rec.user.ips.nelts, 0);

    /* an unparsable entry after a good one inherits nothing from it */

    u->ips.n = 0;
    ngx_http_ir_unit_add(&u->ips, "10.0.0.0/16");
    ngx_http_ir_unit_add(&u->ips, "172.16.0.0/1666");

    ngx_http_ir_unit_client(u, "172.16.5.5");
    ngx_http_ir_unit_denied(u, "ip_not_allowed", "172.16.0.0/1666");
    ngx_http_ir_unit_detail(u, "address is not on the user's allowlist, "
                               "whose invalid entries are ignored");
    assert_int_equal(u->rec.user.ips.nelts, 1);

    ngx_http_ir_unit_client(u, "10.0.5.5");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    /* names are escaped for the log, and the list is cut short */

    u->ips.n = 0;
    ngx_http_ir_unit_add(&u->ips, "10.0.0.1\r\n");
    ngx_http_ir_unit_add(&u->ips, "\"all\"");

    ngx_http_ir_unit_client(u, "10.0.0.1");
    ngx_http_ir_unit_denied(u, "ip_not_allowed",
                            "10.0.0.1\\x0d\\x0a, \\x22all\\x22");

    u->ips.n = 0;
    ngx_http_ir_unit_add(&u->ips, "2001:db8::1/32");
    ngx_http_ir_unit_add(&u->ips, "2001:0db8:0000:0000:0000:0000:0000:0001/64");
    ngx_http_ir_unit_add(&u->ips, "2001:0db8:0000:0000:0000:0000:0000:0002/64");
    ngx_http_ir_unit_add(&u->ips, "2001:0db8:0000:0000:0000:0000:0000:0003/64");
    ngx_http_ir_unit_add(&u->ips, "2001:0db8:0000:0000:0000:0000:0000:0004/64");

    ngx_http_ir_unit_denied(u, "ip_not_allowed",
                            "2001:db8::1/32, "
                            "2001:0db8:0000:0000:0000:0000:0000:0001/64, "
                            "2001:0db8:0000:0000:0000:0000:0000:0002/64, "
                            "...");
}


static void
ngx_http_ir_unit_countries(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    u->policy.countries = ngx_array_create(u->pool, 3, sizeof(ngx_str_t));
    assert_non_null(u->policy.countries);
    ngx_http_ir_unit_list(u->policy.countries, "ee");
    ngx_http_ir_unit_list(u->policy.countries, "LV");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_str(&u->facts.country, "lv");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_str(&u->facts.country, "--");
    ngx_http_ir_unit_denied(u, "country_not_allowed", "--");
    ngx_http_ir_unit_detail(u, "country is not in \"ir_access_countries\"");

    ngx_http_ir_unit_list(u->policy.countries, "--");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    /* an unknown country is in no list */

    ngx_str_set(&u->facts.country, "");
    ngx_http_ir_unit_denied(u, "country_not_allowed", "");

    /* the organisation's own list applies where a database is loaded */

    ngx_http_ir_unit_str(&u->facts.country, "LV");
    ngx_http_ir_unit_org(u, "countries", "EE, LT");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    u->policy.geoip = 1;
    ngx_http_ir_unit_denied(u, "country_not_allowed", "LV");
    ngx_http_ir_unit_detail(u, "country is not in the organisation's "
                               "\"countries\"");

    ngx_http_ir_unit_org(u, "countries", "EE,lv");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_org(u, "countries", "LVA");
    ngx_http_ir_unit_denied(u, "country_not_allowed", "LV");

    /* an empty field allows no country; an absent one sets no limit */

    ngx_http_ir_unit_org(u, "countries", "");
    ngx_http_ir_unit_denied(u, "country_not_allowed", "LV");

    ngx_http_ir_unit_unset(&u->org, "countries");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
}


/* step 6 takes what the caller found when it checked the password */

static void
ngx_http_ir_unit_login(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    u->facts.login = NGX_HTTP_IR_LOGIN_MISSING;
    ngx_http_ir_unit_denied(u, "password_required", NULL);
    ngx_http_ir_unit_detail(u, "no Basic credentials");
    assert_int_equal(ngx_http_ir_reason_status(u->verdict.reason), 401);

    u->facts.login = NGX_HTTP_IR_LOGIN_WRONG;
    ngx_http_ir_unit_denied(u, "bad_password", NULL);
    ngx_http_ir_unit_detail(u, "password does not match");
    assert_int_equal(ngx_http_ir_reason_status(u->verdict.reason), 401);

    /* a password that was never checked is never allowed */

    u->facts.login = NGX_HTTP_IR_LOGIN_UNCHECKED;
    ngx_http_ir_unit_denied(u, "bad_password", NULL);
    ngx_http_ir_unit_detail(u, "password was not checked");

    u->facts.login = 99;
    ngx_http_ir_unit_denied(u, "bad_password", NULL);

    u->facts.login = NGX_HTTP_IR_LOGIN_LOCKED;
    ngx_http_ir_unit_denied(u, "account_locked", NULL);

    u->facts.login = NGX_HTTP_IR_LOGIN_BUSY;
    ngx_http_ir_unit_denied(u, "too_many_logins", NULL);
    assert_int_equal(ngx_http_ir_reason_status(u->verdict.reason), 429);

    u->facts.login = NGX_HTTP_IR_LOGIN_FAILED;
    ngx_http_ir_unit_denied(u, "store_unavailable", NULL);
    ngx_http_ir_unit_detail(u, "Redis could not count the login attempt");
    assert_int_equal(ngx_http_ir_reason_status(u->verdict.reason), 503);

    /* no password field where one is wanted */

    ngx_http_ir_unit_unset(&u->user, "password");
    u->facts.login = NGX_HTTP_IR_LOGIN_NO_HASH;
    ngx_http_ir_unit_denied(u, "bad_password", NULL);
    ngx_http_ir_unit_detail(u, "user has no \"password\" field, but "
                               "\"ir_access_password\" is on");
    assert_int_equal(u->rec.user.hash, NGX_HTTP_IR_HASH_NONE);

    /* a password in clear, or a whole htpasswd line, is a bad record */

    ngx_http_ir_unit_user(u, "password", "S3cret!");
    ngx_http_ir_unit_denied(u, "bad_record", NULL);
    assert_int_equal(u->rec.user.hash, NGX_HTTP_IR_HASH_UNKNOWN);

    ngx_http_ir_unit_user(u, "password",
                          "alice:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=");
    ngx_http_ir_unit_denied(u, "bad_record", NULL);

    /* the address is checked before a password is ever looked at */

    ngx_http_ir_unit_client(u, "192.0.2.1");
    u->facts.login = NGX_HTTP_IR_LOGIN_WRONG;
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    /* a location without passwords reads none of it */

    u->policy.password = 0;
    ngx_http_ir_unit_client(u, "10.1.2.3");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    u->facts.login = NGX_HTTP_IR_LOGIN_UNCHECKED;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
}


static void
ngx_http_ir_unit_contract(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    /* both ends are days the contract is in force */

    u->facts.today = 20260101;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    u->facts.today = 20261231;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    u->facts.today = 20251231;
    ngx_http_ir_unit_denied(u, "contract_not_active", "2026-01-01");
    ngx_http_ir_unit_detail(u, "contract starts on");

    u->facts.today = 20270101;
    ngx_http_ir_unit_denied(u, "contract_not_active", "2026-12-31");
    ngx_http_ir_unit_detail(u, "contract ended on");

    /* open ends */

    ngx_http_ir_unit_unset(&u->org, "valid_to");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
    assert_int_equal(u->rec.org.to, 0);

    ngx_http_ir_unit_unset(&u->org, "valid_from");
    u->facts.today = 19991231;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    /* a date that is not one is no open end */

    u->facts.today = 20261127;
    ngx_http_ir_unit_org(u, "valid_to", "31.12.2026");
    ngx_http_ir_unit_denied(u, "contract_not_active", "31.12.2026");
    ngx_http_ir_unit_detail(u, "organisation's \"valid_to\" is not a "
                               "YYYY-MM-DD date");
    assert_int_equal(u->rec.org.to, NGX_HTTP_IR_DATE_INVALID);

    ngx_http_ir_unit_org(u, "valid_to", "");
    ngx_http_ir_unit_denied(u, "contract_not_active", "");

    ngx_http_ir_unit_unset(&u->org, "valid_to");
    ngx_http_ir_unit_org(u, "valid_from", "2026-02-30");
    ngx_http_ir_unit_denied(u, "contract_not_active", "2026-02-30");
    ngx_http_ir_unit_detail(u, "organisation's \"valid_from\" is not a "
                               "YYYY-MM-DD date");

    /* the status is read before the dates */

    ngx_http_ir_unit_org(u, "status", "suspended");
    ngx_http_ir_unit_denied(u, "org_suspended", "suspended");
    ngx_http_ir_unit_detail(u, "organisation status is");

    ngx_http_ir_unit_org(u, "status", "active ");
    ngx_http_ir_unit_denied(u, "org_suspended", "active ");

    /* a missing status is active */

    ngx_http_ir_unit_unset(&u->org, "status");
    ngx_http_ir_unit_org(u, "valid_from", "2026-01-01");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    /* a user without an organisation has no contract */

    ngx_http_ir_unit_unset(&u->user, "org");
    u->org_found = 0;
    ngx_http_ir_unit_denied(u, "org_unknown", NULL);
    ngx_http_ir_unit_detail(u, "user has no \"org\" field");
}


static void
ngx_http_ir_unit_env(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    ngx_http_ir_unit_org(u, "env", "test");
    ngx_http_ir_unit_denied(u, "env_mismatch", "production");
    ngx_http_ir_unit_detail(u, "organisation's \"env\" does not list");

    ngx_http_ir_unit_org(u, "env", "test production");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_org(u, "env", "test,PRODUCTION");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_org(u, "env", "productions");
    ngx_http_ir_unit_denied(u, "env_mismatch", "production");

    ngx_http_ir_unit_org(u, "env", "product");
    ngx_http_ir_unit_denied(u, "env_mismatch", "production");

    ngx_http_ir_unit_unset(&u->org, "env");
    ngx_http_ir_unit_denied(u, "env_mismatch", "production");
    ngx_http_ir_unit_detail(u, "organisation has no \"env\" field");

    /* a location with no environment takes any */
    u->policy.env.len = 0;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
}


static void
ngx_http_ir_unit_scopes(void **state)
{
    ngx_str_t            grant;
    ngx_http_ir_unit_t  *u = *state;

    ngx_http_ir_unit_list(u->policy.scopes, "person.address");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    assert_int_equal(ngx_http_ir_grant(&u->rec, &grant, u->pool), NGX_OK);
    ngx_http_ir_unit_is(&grant, "person.basic person.address");

    /* the user's own field narrows the contract's grant */

    ngx_http_ir_unit_user(u, "scopes", "PERSON.BASIC,person.family");
    ngx_http_ir_unit_denied(u, "scope_denied", "person.address");
    ngx_http_ir_unit_detail(u, "scope is not granted");

    assert_int_equal(ngx_http_ir_grant(&u->rec, &grant, u->pool), NGX_OK);
    ngx_http_ir_unit_is(&grant, "person.basic");

    /* and never widens it */

    u->policy.scopes->nelts = 0;
    ngx_http_ir_unit_list(u->policy.scopes, "person.family");
    ngx_http_ir_unit_denied(u, "scope_denied", "person.family");

    ngx_http_ir_unit_user(u, "scopes", "");
    u->policy.scopes->nelts = 0;
    ngx_http_ir_unit_list(u->policy.scopes, "person.basic");
    ngx_http_ir_unit_denied(u, "scope_denied", "person.basic");

    assert_int_equal(ngx_http_ir_grant(&u->rec, &grant, u->pool), NGX_OK);
    assert_int_equal(grant.len, 0);

    /* a scope is a whole word, never a prefix of one granted */

    ngx_http_ir_unit_unset(&u->user, "scopes");
    u->scopes.n = 0;
    ngx_http_ir_unit_add(&u->scopes, "person.basic.limited");
    ngx_http_ir_unit_denied(u, "scope_denied", "person.basic");

    u->scopes.n = 0;
    ngx_http_ir_unit_add(&u->scopes, "person");
    ngx_http_ir_unit_denied(u, "scope_denied", "person.basic");

    /* and case does not matter */

    u->scopes.n = 0;
    ngx_http_ir_unit_add(&u->scopes, "Person.Basic");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    u->scopes.n = 0;
    ngx_http_ir_unit_denied(u, "scope_denied", "person.basic");

    u->policy.scopes = NULL;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
}


/* step 10: the purpose the client states, one of the contract's */

static void
ngx_http_ir_unit_purposes(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    u->policy.purpose = 1;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_str(&u->facts.purpose, "TAX.AUDIT");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_str(&u->facts.purpose, "tax");
    ngx_http_ir_unit_denied(u, "purpose_not_allowed", "tax");
    ngx_http_ir_unit_detail(u, "purpose is not among the organisation's "
                               "\"purposes\"");

    ngx_str_set(&u->facts.purpose, "");
    ngx_http_ir_unit_denied(u, "purpose_required", NULL);
    ngx_http_ir_unit_detail(u, "no purpose stated");

    u->purposes.n = 0;
    ngx_http_ir_unit_str(&u->facts.purpose, "benefits");
    ngx_http_ir_unit_denied(u, "purpose_not_allowed", "benefits");
    ngx_http_ir_unit_detail(u, "organisation has no \"purposes\"");

    /* the scopes are decided first */

    u->scopes.n = 0;
    ngx_http_ir_unit_denied(u, "scope_denied", "person.basic");

    /* a location that asks none reads none */

    u->policy.purpose = 0;
    u->policy.scopes = NULL;
    ngx_str_set(&u->facts.purpose, "");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
}


/* what a client sees for each reason: the body's name and the status */

static void
ngx_http_ir_unit_reasons(void **state)
{
    ngx_uint_t  i;

    static struct {
        ngx_uint_t   reason;
        char        *name;
        ngx_uint_t   status;
    } reasons[] = {
        { NGX_HTTP_IR_CERT_REQUIRED, "cert_required", 403 },
        { NGX_HTTP_IR_BAD_IDENTITY, "bad_identity", 403 },
        { NGX_HTTP_IR_UNKNOWN_USER, "unknown_user", 403 },
        { NGX_HTTP_IR_BAD_RECORD, "bad_record", 403 },
        { NGX_HTTP_IR_ACCOUNT_LOCKED, "account_locked", 403 },
        { NGX_HTTP_IR_USER_DISABLED, "user_disabled", 403 },
        { NGX_HTTP_IR_CERT_MISMATCH, "cert_mismatch", 403 },
        { NGX_HTTP_IR_IP_NOT_ALLOWED, "ip_not_allowed", 403 },
        { NGX_HTTP_IR_COUNTRY_NOT_ALLOWED, "country_not_allowed", 403 },
        { NGX_HTTP_IR_PASSWORD_REQUIRED, "password_required", 401 },
        { NGX_HTTP_IR_BAD_PASSWORD, "bad_password", 401 },
        { NGX_HTTP_IR_TOO_MANY_LOGINS, "too_many_logins", 429 },
        { NGX_HTTP_IR_ORG_UNKNOWN, "org_unknown", 403 },
        { NGX_HTTP_IR_ORG_SUSPENDED, "org_suspended", 403 },
        { NGX_HTTP_IR_CONTRACT_NOT_ACTIVE, "contract_not_active", 403 },
        { NGX_HTTP_IR_ENV_MISMATCH, "env_mismatch", 403 },
        { NGX_HTTP_IR_SCOPE_DENIED, "scope_denied", 403 },
        { NGX_HTTP_IR_PURPOSE_REQUIRED, "purpose_required", 403 },
        { NGX_HTTP_IR_PURPOSE_NOT_ALLOWED, "purpose_not_allowed", 403 },
        { NGX_HTTP_IR_STORE_UNAVAILABLE, "store_unavailable", 503 },

        /* anything out of range fails closed */
        { NGX_HTTP_IR_REASONS, "store_unavailable", 503 },
        { 100, "store_unavailable", 503 },
        { (ngx_uint_t) -1, "store_unavailable", 503 }
    };

    for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        ngx_http_ir_unit_is(ngx_http_ir_reason_name(reasons[i].reason),
                            reasons[i].name);
        assert_int_equal(ngx_http_ir_reason_status(reasons[i].reason),
                         reasons[i].status);
    }
}


/* the record's fields ----------------------------------------------------- */

static void
ngx_http_ir_unit_fields(void **state)
{
    ngx_str_t             field, value;
    ngx_http_ir_unit_t   *u = *state;
    ngx_http_ir_user_t   *user;

    ngx_http_ir_unit_build(u);
    user = &u->rec.user;

    /* a field the module does not know is ignored */

    ngx_http_ir_unit_str(&field, "comment");
    ngx_http_ir_unit_str(&value, "new\r\nhire");
    assert_int_equal(ngx_http_ir_record_field(ngx_http_ir_user_fields, user,
                                              &user->bad, &field, &value,
                                              u->pool),
                     NGX_DECLINED);
    assert_null(user->bad.data);

    /* field names are exact */

    ngx_http_ir_unit_str(&field, "Status");
    ngx_http_ir_unit_str(&value, "disabled");
    assert_int_equal(ngx_http_ir_record_field(ngx_http_ir_user_fields, user,
                                              &user->bad, &field, &value,
                                              u->pool),
                     NGX_DECLINED);
    ngx_http_ir_unit_is(&user->status, "active");

    ngx_http_ir_unit_str(&field, "statu");
    assert_int_equal(ngx_http_ir_record_field(ngx_http_ir_user_fields, user,
                                              &user->bad, &field, &value,
                                              u->pool),
                     NGX_DECLINED);

    /* a user field in an organisation's hash is none of its own */

    ngx_http_ir_unit_str(&field, "cert");
    assert_int_equal(ngx_http_ir_record_field(ngx_http_ir_org_fields,
                                              &u->rec.org, &u->rec.org.bad,
                                              &field, &value, u->pool),
                     NGX_DECLINED);

    /* what the lockout writes is known, but never read, nor refused */

    ngx_http_ir_unit_str(&field, "locked_at");
    ngx_http_ir_unit_str(&value, "2026-11-27T08:00:00.000Z");
    assert_int_equal(ngx_http_ir_record_field(ngx_http_ir_user_fields, user,
                                              &user->bad, &field, &value,
                                              u->pool),
                     NGX_OK);

    ngx_http_ir_unit_str(&field, "lock_reason");
    ngx_http_ir_unit_str(&value, "5 failed logins\r\n(wrong password)");
    assert_int_equal(ngx_http_ir_record_field(ngx_http_ir_user_fields, user,
                                              &user->bad, &field, &value,
                                              u->pool),
                     NGX_OK);
    assert_null(user->bad.data);

    /* a value is copied: the reply it came from may go */

    ngx_http_ir_unit_str(&field, "unit");
    ngx_str_set(&value, "mortgages");
    value.data = ngx_pstrdup(u->pool, &value);
    assert_non_null(value.data);
    assert_int_equal(ngx_http_ir_record_field(ngx_http_ir_user_fields, user,
                                              &user->bad, &field, &value,
                                              u->pool),
                     NGX_OK);
    ngx_memset(value.data, 'x', value.len);
    ngx_http_ir_unit_is(&user->unit, "mortgages");

    /* an empty field is there, an absent one is not */

    ngx_http_ir_unit_user(u, "unit", "");
    ngx_http_ir_unit_build(u);
    assert_non_null(u->rec.user.unit.data);
    assert_int_equal(u->rec.user.unit.len, 0);

    ngx_http_ir_unit_unset(&u->user, "unit");
    ngx_http_ir_unit_build(u);
    assert_null(u->rec.user.unit.data);

    /* the organisation's, read into their places */

    ngx_http_ir_unit_is(&u->rec.org.name, "Bank");
    ngx_http_ir_unit_is(&u->rec.org.contract, "C-1");
    ngx_http_ir_unit_is(&u->rec.org.env, "production");
    assert_null(u->rec.org.countries.data);
    assert_int_equal(u->rec.org.scopes.nelts, 2);
}


static void
ngx_http_ir_unit_field_limits(void **state)
{
    u_char              *long_value;
    ngx_http_ir_unit_t  *u = *state;

    long_value = ngx_pnalloc(u->pool, NGX_HTTP_IR_VALUE_MAX + 1);
    assert_non_null(long_value);
    ngx_memset(long_value, 'a', NGX_HTTP_IR_VALUE_MAX + 1);

    /* as long as a value may be */

    ngx_http_ir_unit_set(&u->user, "unit", long_value, NGX_HTTP_IR_VALUE_MAX);
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
    assert_int_equal(u->rec.user.unit.len, NGX_HTTP_IR_VALUE_MAX);

    /* and one byte over */

    ngx_http_ir_unit_set(&u->user, "unit", long_value,
                         NGX_HTTP_IR_VALUE_MAX + 1);
    ngx_http_ir_unit_denied(u, "bad_record", "field \"unit\" is 4097 bytes "
                                             "long, over the limit of 4096");

    ngx_http_ir_unit_set(&u->org, "countries", long_value,
                         NGX_HTTP_IR_VALUE_MAX + 1);
    ngx_http_ir_unit_user(u, "unit", "loans");
    ngx_http_ir_unit_denied(u, "bad_record", "field \"countries\" is 4097 "
                                             "bytes long, over the limit of "
                                             "4096");
    ngx_http_ir_unit_unset(&u->org, "countries");

    /* a CR LF would split the backend's headers: the record is refused */

    ngx_http_ir_unit_user(u, "unit", "loans\r\nX-Injected: yes");
    ngx_http_ir_unit_denied(u, "bad_record",
                            "field \"unit\" holds a control character");

    ngx_http_ir_unit_user(u, "unit", "loans\n");
    ngx_http_ir_unit_denied(u, "bad_record",
                            "field \"unit\" holds a control character");

    ngx_http_ir_unit_user(u, "unit", "lo\0ans");
    ngx_http_ir_unit_denied(u, "bad_record",
                            "field \"unit\" holds a control character");

    ngx_http_ir_unit_user(u, "unit", "loans\x7f");
    ngx_http_ir_unit_denied(u, "bad_record",
                            "field \"unit\" holds a control character");

    ngx_http_ir_unit_user(u, "unit", "loans\tmortgages");
    ngx_http_ir_unit_denied(u, "bad_record",
                            "field \"unit\" holds a control character");

    /* bytes above ASCII are no control characters: UTF-8 is fine */

    ngx_http_ir_unit_user(u, "unit", "aizdevumi \xc4\x81");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    /* the first reason a record is bad is the one it keeps */

    ngx_http_ir_unit_user(u, "unit", "loans\r\n");
    ngx_http_ir_unit_set(&u->user, "scopes", long_value,
                         NGX_HTTP_IR_VALUE_MAX + 1);
    ngx_http_ir_unit_denied(u, "bad_record",
                            "field \"unit\" holds a control character");
}


/* the user's "org" is a name, as keys, the cache and logs need it */

static void
ngx_http_ir_unit_org_name(void **state)
{
    u_char              *name;
    ngx_http_ir_unit_t  *u = *state;

    name = ngx_pnalloc(u->pool, NGX_HTTP_IR_NAME_MAX + 1);
    assert_non_null(name);
    ngx_memset(name, 'b', NGX_HTTP_IR_NAME_MAX + 1);

    ngx_http_ir_unit_set(&u->user, "org", name, NGX_HTTP_IR_NAME_MAX);
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_set(&u->user, "org", name, NGX_HTTP_IR_NAME_MAX + 1);
    ngx_http_ir_unit_denied(u, "bad_record",
                            "field \"org\" is not a name of 1 to 64 "
                            "letters, digits and \"._@-\"");

    ngx_http_ir_unit_user(u, "org", "bank:scopes");
    ngx_http_ir_unit_denied(u, "bad_record",
                            "field \"org\" is not a name of 1 to 64 "
                            "letters, digits and \"._@-\"");

    ngx_http_ir_unit_user(u, "org", "ba*");
    ngx_http_ir_unit_denied(u, "bad_record",
                            "field \"org\" is not a name of 1 to 64 "
                            "letters, digits and \"._@-\"");

    ngx_http_ir_unit_user(u, "org", "");
    ngx_http_ir_unit_denied(u, "bad_record",
                            "field \"org\" is not a name of 1 to 64 "
                            "letters, digits and \"._@-\"");

    ngx_http_ir_unit_user(u, "org", "Bank-2.lv_x@y");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
}


static void
ngx_http_ir_unit_scope_members(void **state)
{
    u_char              *long_scope;
    ngx_str_t            scope;
    ngx_http_ir_unit_t  *u = *state;

    ngx_http_ir_unit_build(u);

    ngx_http_ir_unit_str(&scope, "");
    assert_int_equal(ngx_http_ir_record_word(&u->rec.org.scopes, &scope,
                                             u->pool),
                     NGX_DECLINED);

    ngx_http_ir_unit_str(&scope, "person.basic\r\n");
    assert_int_equal(ngx_http_ir_record_word(&u->rec.org.scopes, &scope,
                                             u->pool),
                     NGX_DECLINED);

    long_scope = ngx_pnalloc(u->pool, NGX_HTTP_IR_VALUE_MAX + 1);
    assert_non_null(long_scope);
    ngx_memset(long_scope, 's', NGX_HTTP_IR_VALUE_MAX + 1);

    scope.data = long_scope;
    scope.len = NGX_HTTP_IR_VALUE_MAX + 1;
    assert_int_equal(ngx_http_ir_record_word(&u->rec.org.scopes, &scope,
                                             u->pool),
                     NGX_DECLINED);

    assert_int_equal(u->rec.org.scopes.nelts, 2);

    scope.len = NGX_HTTP_IR_VALUE_MAX;
    assert_int_equal(ngx_http_ir_record_word(&u->rec.org.scopes, &scope,
                                             u->pool),
                     NGX_OK);
    assert_int_equal(u->rec.org.scopes.nelts, 3);
}


/* pins, hashes, dates, lists, names --------------------------------------- */

static void
ngx_http_ir_unit_parse_pin(void **state)
{
    ngx_str_t  word;
    u_char     digest[NGX_HTTP_IR_DIGEST_LEN], hex[NGX_HTTP_IR_DIGEST_LEN * 2];

    ngx_http_ir_unit_str(&word, NGX_HTTP_IR_UNIT_PIN);
    assert_int_equal(ngx_http_ir_parse_pin(&word, digest), NGX_OK);
    ngx_hex_dump(hex, digest, sizeof(digest));
    assert_memory_equal(hex, NGX_HTTP_IR_UNIT_PIN_HEX, sizeof(hex));

    ngx_http_ir_unit_str(&word, NGX_HTTP_IR_UNIT_PIN_HEX);
    assert_int_equal(ngx_http_ir_parse_pin(&word, digest), NGX_OK);
    ngx_hex_dump(hex, digest, sizeof(digest));
    assert_memory_equal(hex, NGX_HTTP_IR_UNIT_PIN_HEX, sizeof(hex));

    ngx_http_ir_unit_str(&word, "fingerprint=" NGX_HTTP_IR_UNIT_PIN);
    assert_int_equal(ngx_http_ir_parse_pin(&word, digest), NGX_OK);

    /* colons anywhere are ignored, as admins group digits as they like */
    ngx_http_ir_unit_str(&word,
        "0001:0203:0405:0607:0809:0a0b:0c0d:0e0f:"
        "1011:1213:1415:1617:1819:1a1b:1c1d:1e1f:");
    assert_int_equal(ngx_http_ir_parse_pin(&word, digest), NGX_OK);
    ngx_hex_dump(hex, digest, sizeof(digest));
    assert_memory_equal(hex, NGX_HTTP_IR_UNIT_PIN_HEX, sizeof(hex));

    /* one digit short, one too many, one that is none */

    ngx_http_ir_unit_str(&word,
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1");
    assert_int_equal(ngx_http_ir_parse_pin(&word, digest), NGX_DECLINED);

    ngx_http_ir_unit_str(&word,
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0");
    assert_int_equal(ngx_http_ir_parse_pin(&word, digest), NGX_DECLINED);

    ngx_http_ir_unit_str(&word,
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g");
    assert_int_equal(ngx_http_ir_parse_pin(&word, digest), NGX_DECLINED);

    ngx_http_ir_unit_str(&word, "Fingerprint=");
    assert_int_equal(ngx_http_ir_parse_pin(&word, digest), NGX_DECLINED);

    ngx_http_ir_unit_str(&word, "");
    assert_int_equal(ngx_http_ir_parse_pin(&word, digest), NGX_DECLINED);

    ngx_http_ir_unit_str(&word, "Fingerprint=Fingerprint="
                                NGX_HTTP_IR_UNIT_PIN_HEX);
    assert_int_equal(ngx_http_ir_parse_pin(&word, digest), NGX_DECLINED);
}


static void
ngx_http_ir_unit_pin_hint(void **state)
{
    ngx_str_t  word;

    ngx_http_ir_unit_str(&word, "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3");
    assert_string_equal(ngx_http_ir_pin_hint(&word),
                        "a SHA-1 fingerprint, not SHA-256: "
                        "use \"openssl x509 -fingerprint -sha256\"");

    ngx_http_ir_unit_str(&word, "Fingerprint=A9:4A:8F:E5:CC:B1:9B:A6:1C:4C:"
                                "08:73:D3:91:E9:87:98:2F:BB:D3");
    assert_string_equal(ngx_http_ir_pin_hint(&word),
                        "a SHA-1 fingerprint, not SHA-256: "
                        "use \"openssl x509 -fingerprint -sha256\"");

    ngx_http_ir_unit_str(&word, "098F6BCD4621D373CADE4E832627B4F6");
    assert_string_equal(ngx_http_ir_pin_hint(&word),
                        "an MD5 fingerprint, not SHA-256: "
                        "use \"openssl x509 -fingerprint -sha256\"");

    ngx_http_ir_unit_str(&word, "098F6BCD4621D373CADE4E832627B4F");
    assert_string_equal(ngx_http_ir_pin_hint(&word),
                        "not a SHA-256 fingerprint (64 hex digits)");

    ngx_http_ir_unit_str(&word, "sha1:a94a8fe5ccb19ba61c4c0873d391e98798");
    assert_string_equal(ngx_http_ir_pin_hint(&word),
                        "not a SHA-256 fingerprint (64 hex digits)");

    ngx_http_ir_unit_str(&word, "");
    assert_string_equal(ngx_http_ir_pin_hint(&word),
                        "not a SHA-256 fingerprint (64 hex digits)");
}


/*
 * Every format the module checks, and what it must not take for one: a
 * hash no password can match would count every login as a failure and
 * lock the user out; it is a bad record instead.
 */

static void
ngx_http_ir_unit_hash_kind(void **state)
{
    ngx_str_t   hash;
    ngx_uint_t  i;

    static struct {
        char        *hash;
        ngx_uint_t   kind;
    } hashes[] = {

        /* nginx's own, through ngx_crypt() in the event loop */

        { "{PLAIN}secret", NGX_HTTP_IR_HASH_FAST },
        { "{PLAIN}:", NGX_HTTP_IR_HASH_FAST },
        { "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", NGX_HTTP_IR_HASH_FAST },
        { "{SSHA}gVK8WC9YyFT1gMsQHTGCgT3sSv5zYWx0", NGX_HTTP_IR_HASH_FAST },
        { "$apr1$xyz$HXgo9gtz4gpj4JWTLYmjB0", NGX_HTTP_IR_HASH_FAST },

        /* the system's crypt(), in a thread */

        { "$2y$05$YGkEiFIWcTm5xHdQDlNNLOO7sn2FQxjR3n1Lgqhtr8o9f8wTnbZGi",
          NGX_HTTP_IR_HASH_SLOW },
        { "$2b$04$abcdefghijklmnopqrstuuPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8e",
          NGX_HTTP_IR_HASH_SLOW },
        { "$2a$31$abcdefghijklmnopqrstuuPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8e",
          NGX_HTTP_IR_HASH_SLOW },
        { "$y$j9T$abcdefgh$9WNEpu8Mx2S4KNGvbVWKM6clOSoY6.YEl7AYF4DGV04",
          NGX_HTTP_IR_HASH_SLOW },
        { "$gy$j9T$abcdefgh$CiTibHdBM/5r3qmg1i0DxivDn1U977EDVDgQAyycj9/",
          NGX_HTTP_IR_HASH_SLOW },
        { "$7$CU..../...."
          "abcdefghabcdefghabcdefghabcdefghabcdefghabcdefghabcdefghabcdefgh"
          "$19TzpFZ5AwP26vdEMbfvWacoVUfd2MfVusFAVFilh.C", NGX_HTTP_IR_HASH_SLOW },
        { "$7$CU..../....abcdefgh$19TzpFZ5AwP26vdEMbfvWacoVUfd2MfVusFAVFilh.C",
          NGX_HTTP_IR_HASH_SLOW },
        { "$6$abc$K4v3HcZ8yAmpRfxML6S46NCcqy9r4/KdbQpFvqSWsBf4dgySOEOo1DHJ"
          "Trmn2BsJK2aNmPN8Tfb826D2o9.z51", NGX_HTTP_IR_HASH_SLOW },
        { "$6$rounds=1000$abc$zaWpAwySRl8PX4W2aEMJwxpN82bCKtDZP0RBdOD6W7BQ"
          "lilBqAsWnAZuS10iUyJZneS8Ob1gxs1BZkqJi1nTi.", NGX_HTTP_IR_HASH_SLOW },
        { "$5$abc$sCOGUciM.GdmYMCUvmUcgu03oRH87O0clF96.9mwWGB",
          NGX_HTTP_IR_HASH_SLOW },
        { "$1$abc$iCQ2D3nhptRYi27fDYv2s1", NGX_HTTP_IR_HASH_SLOW },
        { "$sha1$1000$abcdefgh$S1ArdJYzrh17g244/Kvgwg8.Q1c0",
          NGX_HTTP_IR_HASH_SLOW },
        { "abiQ6Ep3EYTHc", NGX_HTTP_IR_HASH_SLOW },

        /* no hash: a password in clear, an htpasswd line, a typo */

        { "", NGX_HTTP_IR_HASH_UNKNOWN },
        { "S3cret!", NGX_HTTP_IR_HASH_UNKNOWN },
        { "alice:$apr1$xyz$HXgo9gtz4gpj4JWTLYmjB0", NGX_HTTP_IR_HASH_UNKNOWN },
        { "{PLAIN}", NGX_HTTP_IR_HASH_UNKNOWN },
        { "{plain}secret", NGX_HTTP_IR_HASH_UNKNOWN },
        { "abiQ6Ep3EYTH", NGX_HTTP_IR_HASH_UNKNOWN },
        { "abiQ6Ep3EYTHc!", NGX_HTTP_IR_HASH_UNKNOWN },
        { "abiQ6Ep3EY:Hc", NGX_HTTP_IR_HASH_UNKNOWN },

        /*
         * Hashes cut short or mistyped, as a copy and paste leaves them:
         * crypt() fails on them or computes a hash of another length,
         * so that no password could ever match.
         */

        { "{SHA}", NGX_HTTP_IR_HASH_UNKNOWN },
        { "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ", NGX_HTTP_IR_HASH_UNKNOWN },
        { "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ==", NGX_HTTP_IR_HASH_UNKNOWN },
        { "{SHA}5en6G6MezRroT3XKqkdPOmY/Bf!=", NGX_HTTP_IR_HASH_UNKNOWN },
        { "{SSHA}gVK8WC9YyFT1gMsQHTGCgT3sSv5", NGX_HTTP_IR_HASH_UNKNOWN },
        { "{SSHA}gVK8WC9YyFT1gMsQHTGCg", NGX_HTTP_IR_HASH_UNKNOWN },
        { "{SSHA}gVK8WC9YyFT1gMsQHTGCgT3sSv5zYWx", NGX_HTTP_IR_HASH_UNKNOWN },
        { "{SSHA}", NGX_HTTP_IR_HASH_UNKNOWN },
        { "$apr1$", NGX_HTTP_IR_HASH_UNKNOWN },
        { "$apr1$xyz$HXgo9gtz4gpj4JWTLYmjB", NGX_HTTP_IR_HASH_UNKNOWN },
        { "$apr1$xyz", NGX_HTTP_IR_HASH_UNKNOWN },
        { "$apr1$123456789$HXgo9gtz4gpj4JWTLYmjB0", NGX_HTTP_IR_HASH_UNKNOWN },
        { "$2y$", NGX_HTTP_IR_HASH_UNKNOWN },
        { "$2y$05$YGkEiFIWcTm5xHdQDlNNLO", NGX_HTTP_IR_HASH_UNKNOWN },
        { "$2y$05$YGkEiFIWcTm5xHdQDlNNLOO7sn2FQxjR3n1Lgqhtr8o9f8wTnbZG",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$2y$05$YGkEiFIWcTm5xHdQDlNNLOO7sn2FQxjR3n1Lgqhtr8o9f8wTnbZGi ",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$2y$5$YGkEiFIWcTm5xHdQDlNNLOO7sn2FQxjR3n1Lgqhtr8o9f8wTnbZGi",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$2y$32$YGkEiFIWcTm5xHdQDlNNLOO7sn2FQxjR3n1Lgqhtr8o9f8wTnbZGi",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$2y$03$YGkEiFIWcTm5xHdQDlNNLOO7sn2FQxjR3n1Lgqhtr8o9f8wTnbZGi",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$2b$04$abcdefghijklmnopqrstuvPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8e",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$y$j9T$abcdefgh$9WNEpu8Mx2S4KNGvbVWKM6clOSoY6.YEl7AYF4DGV0",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$y$j9T$abcdefgh", NGX_HTTP_IR_HASH_UNKNOWN },

        /* a yescrypt salt that does not decode, or that is too long */
        { "$y$j9T$abcde$9WNEpu8Mx2S4KNGvbVWKM6clOSoY6.YEl7AYF4DGV04",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$y$j9T$abc$9WNEpu8Mx2S4KNGvbVWKM6clOSoY6.YEl7AYF4DGV04",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$y$j9T$abcdefghabcdefghabcdefghabcdefghabcdefghabcdefghabcdefgh"
          "abcdefghabcdefghabcdefghabcdefgh"
          "$9WNEpu8Mx2S4KNGvbVWKM6clOSoY6.YEl7AYF4DGV04",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$y$j9T$abcdefgh$9WNEpu8Mx2S4KNGvbVWKM6clOSoY6.YEl7AYF4DGV0z",
          NGX_HTTP_IR_HASH_UNKNOWN },

        /* scrypt with a salt crypt() refuses (over 64 characters) */
        { "$7$CU..../...."
          "abcdefghabcdefghabcdefghabcdefghabcdefghabcdefghabcdefghabcdefghX"
          "$19TzpFZ5AwP26vdEMbfvWacoVUfd2MfVusFAVFilh.C", NGX_HTTP_IR_HASH_UNKNOWN },

        /* scrypt with N = 2, r = 0, or r * p of 2^30 */
        { "$7$/U..../....abcdefgh$19TzpFZ5AwP26vdEMbfvWacoVUfd2MfVusFAVFilh.C",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$7$C...../....abcdefgh$19TzpFZ5AwP26vdEMbfvWacoVUfd2MfVusFAVFilh.C",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$7$Czzzzzzzzzzabcdefgh$19TzpFZ5AwP26vdEMbfvWacoVUfd2MfVusFAVFilh.C",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$y$$abcdefgh$9WNEpu8Mx2S4KNGvbVWKM6clOSoY6.YEl7AYF4DGV04",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$6$", NGX_HTTP_IR_HASH_UNKNOWN },
        { "$6$abc$K4v3HcZ8yAmpRfxML6S46NCcqy9r4", NGX_HTTP_IR_HASH_UNKNOWN },
        { "$6$abc", NGX_HTTP_IR_HASH_UNKNOWN },
        { "$6$abcdefghijklmnopq$K4v3HcZ8yAmpRfxML6S46NCcqy9r4/KdbQpFvqSWsBf4d"
          "gySOEOo1DHJTrmn2BsJK2aNmPN8Tfb826D2o9.z51",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$6$rounds=999$abc$zaWpAwySRl8PX4W2aEMJwxpN82bCKtDZP0RBdOD6W7BQ"
          "lilBqAsWnAZuS10iUyJZneS8Ob1gxs1BZkqJi1nTi.",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$5$abc$sCOGUciM.GdmYMCUvmUcgu03oRH87O0clF96.9mwWG",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$1$abc$iCQ2D3nhptRYi27fDYv2s", NGX_HTTP_IR_HASH_UNKNOWN },
        { "$1$abc", NGX_HTTP_IR_HASH_UNKNOWN },
        { "$sha1$1000$abcdefgh$S1ArdJYzrh17g244/Kvgwg8.Q1c",
          NGX_HTTP_IR_HASH_UNKNOWN },

        /* formats crypt() has that the module does not take */

        { "$2x$04$abcdefghijklmnopqrstuuPp7HPfoAs8I2dCQCQ/fW7zEJv8I8C8e",
          NGX_HTTP_IR_HASH_UNKNOWN },
        { "$3$$a9f0dd57e1edab5bb55a9ac0a99c15ec", NGX_HTTP_IR_HASH_UNKNOWN },
        { "$md5$abc$83aRJCiz0QQ6rBICO.UJi.", NGX_HTTP_IR_HASH_UNKNOWN },
        { "_J9..abcd5WNy9VUCfAY", NGX_HTTP_IR_HASH_UNKNOWN }
    };

    for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
        hash.data = (u_char *) hashes[i].hash;
        hash.len = ngx_strlen(hashes[i].hash);

        if (ngx_http_ir_hash_kind(&hash) != hashes[i].kind) {
            fail_msg("\"%s\" is of kind %d, not %d", hashes[i].hash,
                     (int) ngx_http_ir_hash_kind(&hash),
                     (int) hashes[i].kind);
        }
    }
}


static void
ngx_http_ir_unit_dates(void **state)
{
    ngx_str_t   s;
    ngx_uint_t  date, i;

    static char  *wrong[] = {
        "2027-02-29", "2100-02-29", "2026-04-31", "2026-13-01", "2026-00-10",
        "2026-01-00", "2026-01-32", "2026-1-1", "2026-01-01T00:00",
        "2026/01/01", "2026-0a-01", "1899-12-31", "+026-01-01", " 2026-01-1",
        "20260101", "", "2026-01-01\n"
    };

    ngx_http_ir_unit_str(&s, "2026-11-27");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_OK);
    assert_int_equal(date, 20261127);

    ngx_http_ir_unit_str(&s, "2028-02-29");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_OK);
    assert_int_equal(date, 20280229);

    ngx_http_ir_unit_str(&s, "2000-02-29");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_OK);

    ngx_http_ir_unit_str(&s, "1900-01-01");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_OK);
    assert_int_equal(date, 19000101);

    ngx_http_ir_unit_str(&s, "9999-12-31");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_OK);
    assert_int_equal(date, 99991231);

    for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        s.data = (u_char *) wrong[i];
        s.len = ngx_strlen(wrong[i]);

        date = 7;

        if (ngx_http_ir_parse_date(&s, &date) != NGX_ERROR || date != 7) {
            fail_msg("\"%s\" is taken for a date", wrong[i]);
        }
    }
}


static void
ngx_http_ir_unit_lists(void **state)
{
    ngx_str_t    list, word;
    ngx_array_t  a;

    ngx_http_ir_unit_str(&list, " a,b\tcc ,, d");

    ngx_http_ir_unit_str(&word, "cc");
    assert_int_equal(ngx_http_ir_list_has(&list, &word), NGX_OK);

    ngx_http_ir_unit_str(&word, "D");
    assert_int_equal(ngx_http_ir_list_has(&list, &word), NGX_OK);

    ngx_http_ir_unit_str(&word, "a");
    assert_int_equal(ngx_http_ir_list_has(&list, &word), NGX_OK);

    ngx_http_ir_unit_str(&word, "c");
    assert_int_equal(ngx_http_ir_list_has(&list, &word), NGX_DECLINED);

    ngx_http_ir_unit_str(&word, "ccc");
    assert_int_equal(ngx_http_ir_list_has(&list, &word), NGX_DECLINED);

    ngx_http_ir_unit_str(&word, "b\tcc");
    assert_int_equal(ngx_http_ir_list_has(&list, &word), NGX_DECLINED);

    /* an empty word is in no list, not even an empty one */

    ngx_http_ir_unit_str(&word, "");
    assert_int_equal(ngx_http_ir_list_has(&list, &word), NGX_DECLINED);

    ngx_http_ir_unit_str(&list, "");
    assert_int_equal(ngx_http_ir_list_has(&list, &word), NGX_DECLINED);

    ngx_http_ir_unit_str(&word, "a");
    list.data = NULL;
    assert_int_equal(ngx_http_ir_list_has(&list, &word), NGX_DECLINED);

    /* the sets' members are whole words too, in any case */

    a.elts = NULL;
    a.nelts = 0;
    a.size = sizeof(ngx_str_t);

    ngx_http_ir_unit_str(&word, "person.basic");
    assert_int_equal(ngx_http_ir_list_find(&a, &word), NGX_DECLINED);

    a.elts = &list;
    a.nelts = 1;

    ngx_http_ir_unit_str(&list, "Person.Basic");
    assert_int_equal(ngx_http_ir_list_find(&a, &word), NGX_OK);

    ngx_http_ir_unit_str(&list, "person.basic.limited");
    assert_int_equal(ngx_http_ir_list_find(&a, &word), NGX_DECLINED);

    ngx_http_ir_unit_str(&list, "person");
    assert_int_equal(ngx_http_ir_list_find(&a, &word), NGX_DECLINED);
}


/* a record's quotas: a number, or a bad record, never the default */

static void
ngx_http_ir_unit_quotas(void **state)
{
    ngx_str_t            s;
    ngx_uint_t           n;
    ngx_http_ir_unit_t  *u = *state;

    ngx_http_ir_unit_user(u, "rate", "60");
    ngx_http_ir_unit_org(u, "daily", "1000000000");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
    assert_int_equal(u->rec.user.rate_limit, 60);
    assert_int_equal(u->rec.user.daily_limit, NGX_HTTP_IR_QUOTA_UNSET);
    assert_int_equal(u->rec.org.daily_limit, 1000000000);

    ngx_http_ir_unit_user(u, "rate", "60 ");
    ngx_http_ir_unit_denied(u, "bad_record",
                            "field \"rate\" is not a number of requests a "
                            "minute from 0 to 1000000000");

    ngx_http_ir_unit_user(u, "rate", "0");
    ngx_http_ir_unit_org(u, "daily", "1000000001");
    ngx_http_ir_unit_denied(u, "bad_record",
                            "field \"daily\" is not a number of requests a "
                            "day from 0 to 1000000000");

    ngx_http_ir_unit_str(&s, "0000000042");
    assert_int_equal(ngx_http_ir_parse_quota(&s, &n), NGX_OK);
    assert_int_equal(n, 42);

    ngx_http_ir_unit_str(&s, "00000000042");
    assert_int_equal(ngx_http_ir_parse_quota(&s, &n), NGX_ERROR);

    ngx_http_ir_unit_str(&s, "");
    assert_int_equal(ngx_http_ir_parse_quota(&s, &n), NGX_ERROR);

    ngx_http_ir_unit_str(&s, "-1");
    assert_int_equal(ngx_http_ir_parse_quota(&s, &n), NGX_ERROR);
}


/* a maintenance's times, as administrators write them */

static void
ngx_http_ir_unit_times(void **state)
{
    time_t      t;
    ngx_str_t   s;
    ngx_uint_t  i;

    static struct {
        char       *text;
        ngx_int_t   rc;
        time_t      t;
    } times[] = {
        { "2026-11-27T08:00:00Z", NGX_OK, 1795766400 },
        { "2026-11-27t08:00z", NGX_OK, 1795766400 },
        { "2026-11-27T10:00+02:00", NGX_OK, 1795766400 },
        { "2026-11-27T10:00+0200", NGX_OK, 1795766400 },
        { "2026-11-27T10:00+02", NGX_OK, 1795766400 },
        { "2026-11-27T02:30:00.999-05:30", NGX_OK, 1795766400 },
        { "2026-11-27T08:00:00", NGX_DECLINED, 1795766400 },
        { "2028-02-29T00:00Z", NGX_OK, 1835395200 },
        { "2026-11-27", NGX_ERROR, 0 },
        { "2026-11-27T24:00Z", NGX_ERROR, 0 },
        { "2026-11-27T08:60Z", NGX_ERROR, 0 },
        { "2026-11-27T08:00:60Z", NGX_ERROR, 0 },
        { "2026-11-27T08:00+15:00", NGX_ERROR, 0 },
        { "2026-11-27T08:00+02:0", NGX_ERROR, 0 },
        { "2026-11-27T08:00:00.Z", NGX_ERROR, 0 },
        { "2026-11-27T08:00ZZ", NGX_ERROR, 0 },
        { "2026-11-27 08:00Z", NGX_ERROR, 0 },
        { "2027-02-29T08:00Z", NGX_ERROR, 0 }
    };

    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        s.data = (u_char *) times[i].text;
        s.len = ngx_strlen(times[i].text);
        t = 0;

        if (ngx_http_ir_parse_time(&s, &t) != times[i].rc
            || (times[i].rc != NGX_ERROR && t != times[i].t))
        {
            fail_msg("\"%s\" is read as %ld", times[i].text, (long) t);
        }
    }
}


/*
 * Days in the office's zone: the day a time falls on, and when the next
 * begins, 23 hours after midnight on the spring change and 25 on the
 * autumn one (Europe/Riga: +02:00, +03:00 from 28 March to 31 October
 * 2027), for a daily quota's Retry-After.
 */

static void
ngx_http_ir_unit_days(void **state)
{
    time_t               next;
    ngx_err_t            err;
    ngx_str_t            name, why;
    ngx_log_t            log;
    ngx_uint_t           i, today;
    ngx_pool_t          *pool;
    ngx_http_ir_zone_t   zone;

    static struct {
        time_t       now;
        ngx_uint_t   today;
        time_t       next;
    } days[] = {
        { 1795766400, 20261127, 1795816800 },   /* 10:00, +02:00 */
        { 1806186600, 20270328, 1806267600 },   /* 00:30 of the 23-hour day */
        { 1806267599, 20270328, 1806267600 },   /* 23:59:59 of it */
        { 1806267600, 20270329, 1806354000 },   /* its next midnight */
        { 1824931800, 20271031, 1825020000 },   /* 00:30 of the 25-hour day */
        { 1825019999, 20271031, 1825020000 }    /* 23:59:59 of it */
    };

    ngx_memzero(&log, sizeof(ngx_log_t));

    pool = ngx_create_pool(4096, &log);
    assert_non_null(pool);

    ngx_cached_time = &ngx_http_ir_unit_now;
    ngx_str_set(&name, "Europe/Riga");
    err = 0;

    if (ngx_http_ir_zone_read(&name, &zone, pool, &why, &err) != NGX_OK) {
        fail_msg("Europe/Riga not read: %.*s", (int) why.len, why.data);
    }

    for (i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
        next = 0;
        today = ngx_http_ir_zone_today(&zone, days[i].now, &next);

        if (today != days[i].today || next != days[i].next) {
            fail_msg("%ld is on %lu until %ld, not on %lu until %ld",
                     (long) days[i].now, (unsigned long) today, (long) next,
                     (unsigned long) days[i].today, (long) days[i].next);
        }
    }

    ngx_destroy_pool(pool);
}


/* a maintenance's message goes into JSON: UTF-8 and no control chars */

static void
ngx_http_ir_unit_notice_text(void **state)
{
    ngx_str_t   s;
    ngx_uint_t  i;

    static struct {
        char       *text;
        ngx_int_t   rc;
    } texts[] = {
        { "Upgrade \xe2\x80\x94 back at noon", NGX_OK },
        { "Apkope l\xc4\xab" "dz 12:00", NGX_OK },
        { "\xf4\x8f\xbf\xbf", NGX_OK },
        { "", NGX_OK },
        { "back\r\nX-Injected: yes", NGX_DECLINED },
        { "back\x7f", NGX_DECLINED },
        { "\xc6\xd2" "ate", NGX_DECLINED },    /* no continuation byte */
        { "\xed\xa0\x80", NGX_DECLINED },    /* a surrogate */
        { "\xc0\xaf", NGX_DECLINED },         /* overlong */
        { "\xe0\x80\xaf", NGX_DECLINED },
        { "\xf4\x90\x80\x80", NGX_DECLINED },  /* past U+10FFFF */
        { "\xe2\x80", NGX_DECLINED },         /* cut short */
        { "\x80", NGX_DECLINED }
    };

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        s.data = (u_char *) texts[i].text;
        s.len = ngx_strlen(texts[i].text);

        if (ngx_http_ir_notice_text(&s) != texts[i].rc) {
            fail_msg("message %d is read otherwise", (int) i);
        }
    }
}


static void
ngx_http_ir_unit_names(void **state)
{
    u_char      name[NGX_HTTP_IR_NAME_MAX + 1];
    ngx_str_t   s;
    ngx_uint_t  i;

    static char  *good[] = {
        "alice", "svc-billing", "a.b_c@d", "A", "0", "x-._@"
    };

    static char  *wrong[] = {
        "", "svc:a", "a*", "a?", "a[b]", "a b", "a\r\n", "a/b", "a\\b",
        "\xc4\x81", "a\"", "a%", "a,b"
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        s.data = (u_char *) good[i];
        s.len = ngx_strlen(good[i]);

        if (ngx_http_ir_name_valid(&s) != NGX_OK) {
            fail_msg("\"%s\" is refused as a name", good[i]);
        }
    }

    for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        s.data = (u_char *) wrong[i];
        s.len = ngx_strlen(wrong[i]);

        if (ngx_http_ir_name_valid(&s) != NGX_DECLINED) {
            fail_msg("\"%s\" is taken for a name", wrong[i]);
        }
    }

    ngx_http_ir_unit_str(&s, "-a\0");
    assert_int_equal(ngx_http_ir_name_valid(&s), NGX_DECLINED);

    /* one limit for every name */

    ngx_memset(name, 'n', sizeof(name));
    s.data = name;

    s.len = NGX_HTTP_IR_NAME_MAX;
    assert_int_equal(ngx_http_ir_name_valid(&s), NGX_OK);

    s.len = NGX_HTTP_IR_NAME_MAX + 1;
    assert_int_equal(ngx_http_ir_name_valid(&s), NGX_DECLINED);
}


/* an allowlist entry is taken exactly as written, or not at all */

static void
ngx_http_ir_unit_addr_parse(void **state)
{
    ngx_str_t   s;
    ngx_cidr_t  cidr;
    ngx_uint_t  i;

    static char  *wrong[] = {

        /* host bits set past the prefix: a typo, not the network */
        "127.0.0.15/0", "127.0.0.15/24", "10.0.0.1/8", "192.0.2.7/31",
        "2001:db8::1/32", "2001:db8::1/127", "::1/0", "::ffff:10.0.0.1/120",

        /* every address, written otherwise than "0.0.0.0/0" or "::/0" */
        "0.0.0.0/00", "0.0.0.00/0", "0:0::/0", "::0/0", "0::0/0", "::/00",
        "::ffff:0.0.0.0/96",

        /* no address at all */
        "", "10.0.0.0/33", "::/129", "10.0.0.256", "10.0.0", "10.0.0.0/",
        "/8", "10.0.0.0/-1", "10.0.0.0/+8", "example.com", "all", "*",
        "10.0.0.1 ", " 10.0.0.1", "10.0.0.1\n", "10.0.0.1/8/8", "1e100",
        "10.0.0.0/8,10.1.0.0/16", "::g", "fe80::1%eth0", "255.255.255.255",
        "0x0a.0.0.1"
    };

    for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        s.data = (u_char *) wrong[i];
        s.len = ngx_strlen(wrong[i]);

        if (ngx_http_ir_addr_parse(&s, &cidr) != NGX_ERROR) {
            fail_msg("\"%s\" is taken for an allowlist entry", wrong[i]);
        }
    }

    ngx_http_ir_unit_str(&s, "192.0.2.7");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_OK);
    assert_int_equal(cidr.family, AF_INET);
    assert_int_equal(cidr.u.in.addr, htonl(0xc0000207));
    assert_int_equal(cidr.u.in.mask, 0xffffffff);

    ngx_http_ir_unit_str(&s, "192.0.2.0/24");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_OK);
    assert_int_equal(cidr.u.in.addr, htonl(0xc0000200));
    assert_int_equal(cidr.u.in.mask, htonl(0xffffff00));

    ngx_http_ir_unit_str(&s, "192.0.2.7/32");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_OK);

    ngx_http_ir_unit_str(&s, "0.0.0.0/0");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_DONE);
    assert_int_equal(cidr.family, AF_INET);
    assert_int_equal(cidr.u.in.mask, 0);

    ngx_http_ir_unit_str(&s, "::/0");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_DONE);
    assert_int_equal(cidr.family, AF_INET6);

    ngx_http_ir_unit_str(&s, "::1");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_OK);
    assert_int_equal(cidr.family, AF_INET6);

    ngx_http_ir_unit_str(&s, "2001:DB8::/32");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_OK);
    assert_int_equal(cidr.family, AF_INET6);
    assert_int_equal(cidr.u.in6.addr.s6_addr[1], 0x01);
    assert_int_equal(cidr.u.in6.mask.s6_addr[3], 0xff);
    assert_int_equal(cidr.u.in6.mask.s6_addr[4], 0);

    ngx_http_ir_unit_str(&s, "2001:db8::1/128");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_OK);

    /* mapped IPv6 is the IPv4 address or network it names */

    ngx_http_ir_unit_str(&s, "::ffff:192.0.2.7");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_OK);
    assert_int_equal(cidr.family, AF_INET);
    assert_int_equal(cidr.u.in.addr, htonl(0xc0000207));
    assert_int_equal(cidr.u.in.mask, 0xffffffff);

    ngx_http_ir_unit_str(&s, "::ffff:10.0.0.0/104");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_OK);
    assert_int_equal(cidr.family, AF_INET);
    assert_int_equal(cidr.u.in.addr, htonl(0x0a000000));
    assert_int_equal(cidr.u.in.mask, htonl(0xff000000));

    /* a prefix wider than the mapped range stays IPv6 */

    ngx_http_ir_unit_str(&s, "::/80");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_OK);
    assert_int_equal(cidr.family, AF_INET6);
}


/* values from clients and from Redis, made fit for a log line */

static void
ngx_http_ir_unit_escape(void **state)
{
    u_char     *p, buf[64];
    ngx_str_t   s, out;

    ngx_http_ir_unit_str(&s, "alice");
    p = ngx_http_ir_escape(buf, buf + sizeof(buf), &s);
    out.data = buf;
    out.len = p - buf;
    ngx_http_ir_unit_is(&out, "alice");

    ngx_http_ir_unit_str(&s, "a\r\nb\0c\x7f\"d\\e\xc4\x81");
    p = ngx_http_ir_escape(buf, buf + sizeof(buf), &s);
    out.len = p - buf;
    ngx_http_ir_unit_is(&out, "a\\x0d\\x0ab\\x00c\\x7f\\x22d\\x5ce\\xc4\\x81");

    ngx_http_ir_unit_str(&s, "");
    p = ngx_http_ir_escape(buf, buf + sizeof(buf), &s);
    assert_ptr_equal(p, buf);

    /* cut with "..." where it does not fit, and never past the end */

    ngx_http_ir_unit_str(&s, "0123456789");
    ngx_memset(buf, '#', sizeof(buf));
    p = ngx_http_ir_escape(buf, buf + 10, &s);
    out.len = p - buf;
    ngx_http_ir_unit_is(&out, "0123456789");
    assert_int_equal(buf[10], '#');

    ngx_http_ir_unit_str(&s, "01234567890");
    ngx_memset(buf, '#', sizeof(buf));
    p = ngx_http_ir_escape(buf, buf + 10, &s);
    out.len = p - buf;
    ngx_http_ir_unit_is(&out, "0123456...");
    assert_int_equal(buf[10], '#');

    /* an escape is never cut in half */

    ngx_http_ir_unit_str(&s, "0123\n456789");
    p = ngx_http_ir_escape(buf, buf + 10, &s);
    out.len = p - buf;
    ngx_http_ir_unit_is(&out, "0123...");

    /* a room too small for anything readable gets nothing */

    ngx_http_ir_unit_str(&s, "abc");
    p = ngx_http_ir_escape(buf, buf + 7, &s);
    assert_ptr_equal(p, buf);
}


static void
ngx_http_ir_unit_time(void **state)
{
    u_char     *p, buf[NGX_HTTP_IR_TIME_LEN + 8];
    ngx_str_t   s;

    p = ngx_http_ir_time(buf, 1795766400, 5);
    s.data = buf;
    s.len = p - buf;
    ngx_http_ir_unit_is(&s, "2026-11-27T08:00:00.005Z");
    assert_int_equal(s.len, NGX_HTTP_IR_TIME_LEN);

    p = ngx_http_ir_time(buf, 0, 999);
    s.len = p - buf;
    ngx_http_ir_unit_is(&s, "1970-01-01T00:00:00.999Z");
}


/* the key schema ---------------------------------------------------------- */

static void
ngx_http_ir_unit_key(void **state)
{
    u_char      *p, buf[NGX_HTTP_IR_KEY_MAX];
    ngx_str_t    key, name, prefix;
    ngx_uint_t   i;
    u_char       prefix_data[NGX_HTTP_IR_PREFIX_MAX];
    u_char       name_data[NGX_HTTP_IR_NAME_MAX];

    static struct {
        ngx_http_ir_key_e   kind;
        char               *key;
    } keys[] = {
        { NGX_HTTP_IR_KEY_USER_HASH, "ir:user:alice" },
        { NGX_HTTP_IR_KEY_USER_IPS, "ir:user:alice:ips" },
        { NGX_HTTP_IR_KEY_USER_FAILS, "ir:user:alice:fails" },
        { NGX_HTTP_IR_KEY_USER_TRIES, "ir:user:alice:tries" },
        { NGX_HTTP_IR_KEY_ORG_HASH, "ir:org:alice" },
        { NGX_HTTP_IR_KEY_ORG_SCOPES, "ir:org:alice:scopes" },
        { NGX_HTTP_IR_KEY_ORG_PURPOSES, "ir:org:alice:purposes" },
        { NGX_HTTP_IR_KEY_ORG_USERS, "ir:org:alice:users" },
        { NGX_HTTP_IR_KEY_SEEN_HASH, "ir:seen:alice" }
    };

    ngx_http_ir_unit_str(&name, "alice");

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        p = ngx_http_ir_key(buf, &ngx_http_ir_unit_prefix, keys[i].kind,
                            &name);
        key.data = buf;
        key.len = p - buf;
        ngx_http_ir_unit_is(&key, keys[i].key);
    }

    /* the longest prefix and name fit, whole */

    ngx_memset(prefix_data, 'p', sizeof(prefix_data));
    prefix.data = prefix_data;
    prefix.len = sizeof(prefix_data);

    ngx_memset(name_data, 'n', sizeof(name_data));
    name.data = name_data;
    name.len = sizeof(name_data);

    p = ngx_http_ir_key(buf, &prefix, NGX_HTTP_IR_KEY_ORG_PURPOSES, &name);
    assert_int_equal(p - buf, sizeof(prefix_data) + 4 + sizeof(name_data) + 9);
    assert_memory_equal(buf, prefix_data, sizeof(prefix_data));
    assert_memory_equal(p - 9, ":purposes", 9);

    p = ngx_http_ir_key(buf, &prefix, NGX_HTTP_IR_KEY_USER_TRIES, &name);
    assert_int_equal(p - buf, sizeof(prefix_data) + 5 + sizeof(name_data) + 6);
    assert_true((size_t) (p - buf) <= sizeof(buf));
}


/* what a keyspace notification's key concerns */

static void
ngx_http_ir_unit_key_parse(void **state)
{
    ngx_str_t    key, name, prefix;
    ngx_uint_t   i;

    static struct {
        char               *key;
        ngx_http_ir_key_e   kind;
        char               *name;
    } keys[] = {
        { "ir:user:alice", NGX_HTTP_IR_KEY_USER_HASH, "alice" },
        { "ir:user:alice:ips", NGX_HTTP_IR_KEY_USER_IPS, "alice" },
        { "ir:user:alice:fails", NGX_HTTP_IR_KEY_USER_FAILS, "alice" },
        { "ir:user:alice:tries", NGX_HTTP_IR_KEY_USER_TRIES, "alice" },
        { "ir:org:bank", NGX_HTTP_IR_KEY_ORG_HASH, "bank" },
        { "ir:org:bank:scopes", NGX_HTTP_IR_KEY_ORG_SCOPES, "bank" },
        { "ir:org:bank:purposes", NGX_HTTP_IR_KEY_ORG_PURPOSES, "bank" },
        { "ir:org:bank:users", NGX_HTTP_IR_KEY_ORG_USERS, "bank" },
        { "ir:seen:alice", NGX_HTTP_IR_KEY_SEEN_HASH, "alice" },
        { "ir:user:a", NGX_HTTP_IR_KEY_USER_HASH, "a" },
        { "ir:user:ips", NGX_HTTP_IR_KEY_USER_HASH, "ips" },
        { "ir:org:scopes", NGX_HTTP_IR_KEY_ORG_HASH, "scopes" },

        /*
         * A name has no ':': "ir:user:svc:a" is nobody's key, least of
         * all svc's, whose cached record it must not drop.
         */
        { "ir:user:svc:a", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "ir:user:svc:a:ips", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "ir:org:bank:x:scopes", NGX_HTTP_IR_KEY_OTHER, NULL },

        /* no name, another prefix, another kind of key */
        { "ir:user:", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "ir:user::ips", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "ir:org:", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "ir:", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "ir", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "ir:audit", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "ir:edit:0123abcd", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "ir:maintenance", NGX_HTTP_IR_KEY_MAINTENANCE_HASH, NULL },
        { "ir:maintenance:x", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "ir:maintenanc", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "ir:seen:svc:a", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "IR:user:alice", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "xx:user:alice", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "irx:user:alice", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "ir:users:alice", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "ir:user:al*ce", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "ir:user:alice\n", NGX_HTTP_IR_KEY_OTHER, NULL },
        { "ir:user:"
          "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
          NGX_HTTP_IR_KEY_OTHER, NULL }
    };

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        key.data = (u_char *) keys[i].key;
        key.len = ngx_strlen(keys[i].key);
        ngx_str_null(&name);

        if (ngx_http_ir_key_parse(&ngx_http_ir_unit_prefix, &key, &name)
            != keys[i].kind)
        {
            fail_msg("\"%s\" is of kind %d, not %d", keys[i].key,
                     (int) ngx_http_ir_key_parse(&ngx_http_ir_unit_prefix,
                                                 &key, &name),
                     (int) keys[i].kind);
        }

        if (keys[i].name) {
            ngx_http_ir_unit_is(&name, keys[i].name);
        }
    }

    /* an empty prefix, as "ir_access_prefix" may set */

    ngx_str_set(&prefix, "");
    ngx_http_ir_unit_str(&key, "user:alice:ips");
    assert_int_equal(ngx_http_ir_key_parse(&prefix, &key, &name),
                     NGX_HTTP_IR_KEY_USER_IPS);
    ngx_http_ir_unit_is(&name, "alice");
}


/* the packed record ------------------------------------------------------- */

static void
ngx_http_ir_unit_record(void **state)
{
    u_char                *block, *other;
    size_t                 size;
    ngx_str_t              grant;
    ngx_http_ir_unit_t    *u = *state;
    ngx_http_ir_record_t   copy;

    ngx_http_ir_unit_unset(&u->user, "password");
    ngx_http_ir_unit_user(u, "scopes", "");
    ngx_http_ir_unit_user(u, "cert", "junk, " NGX_HTTP_IR_UNIT_PIN);
    ngx_http_ir_unit_add(&u->ips, "10.0.0.1/8");
    ngx_http_ir_unit_build(u);

    u->rec.user.fails = 3;

    size = ngx_http_ir_record_size(&u->rec);

    block = ngx_pcalloc(u->pool, size);
    assert_non_null(block);

    ngx_http_ir_record_pack(&u->rec, block);

    /* the block stands alone: moved and the original clobbered */

    other = ngx_palloc(u->pool, size);
    assert_non_null(other);
    ngx_memcpy(other, block, size);
    ngx_memset(block, 0xa5, size);

    assert_int_equal(ngx_http_ir_record_unpack(other, size, &copy, u->pool),
                     NGX_OK);
    ngx_memset(other, 0x5a, size);

    assert_true(copy.user.found);
    assert_true(copy.org.found);
    ngx_http_ir_unit_is(&copy.user.org, "bank");
    ngx_http_ir_unit_is(&copy.user.unit, "loans");
    ngx_http_ir_unit_is(&copy.user.pin_invalid, "junk");
    ngx_http_ir_unit_is(&copy.user.ips_invalid, "10.0.0.1/8");
    ngx_http_ir_unit_is(&copy.org.valid_to, "2026-12-31");
    assert_int_equal(copy.org.from, 20260101);
    assert_int_equal(copy.org.to, 20261231);
    assert_int_equal(copy.user.fails, 3);
    assert_int_equal(copy.user.hash, NGX_HTTP_IR_HASH_NONE);

    /* absent stays absent, empty stays empty */
    assert_null(copy.user.password.data);
    assert_non_null(copy.user.scopes.data);
    assert_int_equal(copy.user.scopes.len, 0);
    assert_null(copy.org.countries.data);
    assert_null(copy.user.bad.data);

    assert_int_equal(copy.user.ips.nelts, 2);
    assert_int_equal(copy.user.pins.nelts, 1);
    assert_memory_equal(copy.user.pins.elts, u->digest,
                        NGX_HTTP_IR_DIGEST_LEN);
    assert_int_equal(copy.org.scopes.nelts, 2);
    assert_int_equal(copy.org.purposes.nelts, 2);
    ngx_http_ir_unit_is(&((ngx_str_t *) copy.org.purposes.elts)[1],
                        "tax.audit");

    /* the copy decides as the original does */

    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &copy,
                                        &u->verdict),
                     NGX_HTTP_IR_SCOPE_DENIED);

    ngx_str_null(&copy.user.scopes);
    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &copy,
                                        &u->verdict), NGX_HTTP_IR_ALLOW);

    assert_int_equal(ngx_http_ir_grant(&copy, &grant, u->pool), NGX_OK);
    ngx_http_ir_unit_is(&grant, "person.basic person.address");

    ngx_http_ir_unit_client(u, "2001:db9::1");
    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &copy,
                                        &u->verdict),
                     NGX_HTTP_IR_IP_NOT_ALLOWED);

    /* arrays in the copy may grow: they belong to the request's pool */
    assert_non_null(ngx_array_push(&copy.user.ips));
    assert_non_null(ngx_array_push(&copy.org.scopes));
    assert_non_null(ngx_array_push(&copy.org.purposes));
}


static void
ngx_http_ir_unit_record_empty(void **state)
{
    u_char                *block;
    size_t                 size;
    ngx_http_ir_unit_t    *u = *state;
    ngx_http_ir_record_t   rec, copy;

    /* a negative entry: an unknown user, nothing else */

    assert_int_equal(ngx_http_ir_record_init(&rec, u->pool), NGX_OK);
    assert_int_equal(ngx_http_ir_record_finish(&rec, u->pool), NGX_OK);

    size = ngx_http_ir_record_size(&rec);
    block = ngx_palloc(u->pool, size);
    assert_non_null(block);

    ngx_http_ir_record_pack(&rec, block);
    assert_int_equal(ngx_http_ir_record_unpack(block, size, &copy, u->pool),
                     NGX_OK);

    assert_false(copy.user.found);
    assert_false(copy.org.found);
    assert_null(copy.user.status.data);
    assert_int_equal(copy.user.ips.nelts, 0);

    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &copy,
                                        &u->verdict),
                     NGX_HTTP_IR_UNKNOWN_USER);

    /* a block too short to hold a record is refused */

    assert_int_equal(ngx_http_ir_record_unpack(block, 8, &copy, u->pool),
                     NGX_ERROR);
}


static void
ngx_http_ir_unit_record_bad(void **state)
{
    u_char                *block;
    size_t                 size;
    ngx_http_ir_unit_t    *u = *state;
    ngx_http_ir_record_t   copy;

    /* a bad record is cached as bad, with its reason */

    ngx_http_ir_unit_user(u, "unit", "loans\r\n");
    ngx_http_ir_unit_build(u);

    size = ngx_http_ir_record_size(&u->rec);
    block = ngx_palloc(u->pool, size);
    assert_non_null(block);

    ngx_http_ir_record_pack(&u->rec, block);
    assert_int_equal(ngx_http_ir_record_unpack(block, size, &copy, u->pool),
                     NGX_OK);

    ngx_http_ir_unit_is(&copy.user.bad,
                        "field \"unit\" holds a control character");
    assert_null(copy.user.unit.data);

    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &copy,
                                        &u->verdict),
                     NGX_HTTP_IR_BAD_RECORD);
}


/* the scripts' arguments -------------------------------------------------- */

static void
ngx_http_ir_unit_store_args(void **state)
{
    ngx_str_t            prefix, cause, s;
    ngx_http_ir_args_t   args;
    u_char               prefix_data[NGX_HTTP_IR_PREFIX_MAX];

#define ngx_http_ir_unit_arg(i, text)                                        \
    s.data = (u_char *) args.argv[i];                                        \
    s.len = args.argvlen[i];                                                 \
    ngx_http_ir_unit_is(&s, text)

    ngx_http_ir_store_lookup(&args, &ngx_http_ir_unit_prefix,
                             &ngx_http_ir_unit_name);

    assert_int_equal(args.nkeys, 3);
    assert_int_equal(args.argc, 12);
    ngx_http_ir_unit_arg(0, "ir:user:alice");
    ngx_http_ir_unit_arg(1, "ir:user:alice:ips");
    ngx_http_ir_unit_arg(2, "ir:user:alice:fails");
    ngx_http_ir_unit_arg(3, "ir:org:");
    ngx_http_ir_unit_arg(4, ":scopes");
    ngx_http_ir_unit_arg(5, "64");
    ngx_http_ir_unit_arg(6, "4096");
    ngx_http_ir_unit_arg(7, "1024");
    ngx_http_ir_unit_arg(8, "64");
    ngx_http_ir_unit_arg(9, "org");
    ngx_http_ir_unit_arg(10, ":purposes");
    ngx_http_ir_unit_arg(11, "1024");

    /* the longest prefix is the organisations' prefix as well */

    ngx_memset(prefix_data, 'p', sizeof(prefix_data));
    prefix.data = prefix_data;
    prefix.len = sizeof(prefix_data);

    ngx_http_ir_store_lookup(&args, &prefix, &ngx_http_ir_unit_name);

    assert_int_equal(args.argvlen[0], sizeof(prefix_data) + 10);
    assert_memory_equal(args.argv[0], prefix_data, sizeof(prefix_data));
    assert_memory_equal(args.argv[0] + sizeof(prefix_data), "user:alice", 10);

    assert_int_equal(args.argvlen[3], sizeof(prefix_data) + 4);
    assert_memory_equal(args.argv[3], prefix_data, sizeof(prefix_data));
    assert_memory_equal(args.argv[3] + sizeof(prefix_data), "org:", 4);

    /* a login's place among those that may fail before the lock */

    ngx_http_ir_store_reserve(&args, &ngx_http_ir_unit_prefix,
                              &ngx_http_ir_unit_name, 5);

    assert_int_equal(args.nkeys, 3);
    assert_int_equal(args.argc, 7);
    ngx_http_ir_unit_arg(0, "ir:user:alice");
    ngx_http_ir_unit_arg(1, "ir:user:alice:fails");
    ngx_http_ir_unit_arg(2, "ir:user:alice:tries");
    ngx_http_ir_unit_arg(3, "5");
    ngx_http_ir_unit_arg(4, "status");
    ngx_http_ir_unit_arg(5, "active");
    ngx_http_ir_unit_arg(6, "60000");

    /* a failure, and the fields the lock writes, in the script's order */

    ngx_cached_time = &ngx_http_ir_unit_now;
    ngx_str_set(&cause, "wrong password");

    ngx_http_ir_store_fail(&args, &ngx_http_ir_unit_prefix,
                           &ngx_http_ir_unit_name, 1, 5, 900000, &cause);

    assert_int_equal(args.nkeys, 3);
    assert_int_equal(args.argc, 13);
    ngx_http_ir_unit_arg(2, "ir:user:alice:tries");
    ngx_http_ir_unit_arg(3, "5");              /* ARGV[1] */
    ngx_http_ir_unit_arg(4, "status");
    ngx_http_ir_unit_arg(5, "active");
    ngx_http_ir_unit_arg(6, "1");              /* ARGV[4] */
    ngx_http_ir_unit_arg(7, "900000");
    ngx_http_ir_unit_arg(8, "locked");         /* ARGV[6] */
    ngx_http_ir_unit_arg(9, "locked_at");
    ngx_http_ir_unit_arg(10, "2026-11-27T08:00:00.000Z");
    ngx_http_ir_unit_arg(11, "lock_reason");
    ngx_http_ir_unit_arg(12, "5 failed logins (wrong password)");

    ngx_http_ir_store_fail(&args, &ngx_http_ir_unit_prefix,
                           &ngx_http_ir_unit_name, 0, 5, 900000, &cause);
    ngx_http_ir_unit_arg(6, "0");

    /* a success */

    ngx_http_ir_store_pass(&args, &ngx_http_ir_unit_prefix,
                           &ngx_http_ir_unit_name, 1, 0);

    assert_int_equal(args.argc, 8);
    ngx_http_ir_unit_arg(0, "ir:user:alice");
    ngx_http_ir_unit_arg(6, "1");
    ngx_http_ir_unit_arg(7, "0");

#undef ngx_http_ir_unit_arg
}


/* the lookup's reply ------------------------------------------------------ */

static redisReply *
ngx_http_ir_unit_reply(ngx_http_ir_unit_t *u, int type, char *str, size_t len)
{
    redisReply  *r;

    r = ngx_pcalloc(u->pool, sizeof(redisReply));
    assert_non_null(r);

    r->type = type;

    if (str) {
        /* hiredis's strings end in a NUL the length does not count */

        r->str = ngx_pnalloc(u->pool, len + 1);
        assert_non_null(r->str);

        ngx_memcpy(r->str, str, len);
        r->str[len] = '\0';
        r->len = len;
    }

    return r;
}


#define ngx_http_ir_unit_string(u, s)                                        \
    ngx_http_ir_unit_reply(u, REDIS_REPLY_STRING, s, sizeof(s) - 1)

#define ngx_http_ir_unit_error(u, s)                                         \
    ngx_http_ir_unit_reply(u, REDIS_REPLY_ERROR, s, sizeof(s) - 1)


static redisReply *
ngx_http_ir_unit_integer(ngx_http_ir_unit_t *u, long long n)
{
    redisReply  *r;

    r = ngx_http_ir_unit_reply(u, REDIS_REPLY_INTEGER, NULL, 0);
    r->integer = n;

    return r;
}


static redisReply *
ngx_http_ir_unit_array(ngx_http_ir_unit_t *u, size_t n, ...)
{
    size_t       i;
    va_list      args;
    redisReply  *r;

    r = ngx_http_ir_unit_reply(u, REDIS_REPLY_ARRAY, NULL, 0);

    r->elements = n;
    r->element = ngx_pcalloc(u->pool, (n + 1) * sizeof(redisReply *));
    assert_non_null(r->element);

    va_start(args, n);

    for (i = 0; i < n; i++) {
        r->element[i] = va_arg(args, redisReply *);
    }

    va_end(args);

    return r;
}


/* what the lookup script answers for the setup's user, from its fields */

static redisReply *
ngx_http_ir_unit_lookup(ngx_http_ir_unit_t *u)
{
    ngx_uint_t                 i, j, n, found;
    redisReply                *reply, *hash;
    ngx_http_ir_unit_set_t    *set;
    ngx_http_ir_unit_hash_t   *h;
    ngx_http_ir_unit_field_t  *f;

    reply = ngx_http_ir_unit_array(u, 11, NULL, NULL, NULL, NULL, NULL,
                                   NULL, NULL, NULL, NULL, NULL, NULL);

    /* the user's hash, allowlist, org's hash, scopes, then purposes */

    for (i = 0; i < 5; i++) {
        h = (i == 0) ? &u->user : (i == 2) ? &u->org : NULL;
        set = (i == 1) ? &u->ips : (i == 3) ? &u->scopes : &u->purposes;

        /* the failures counted are at 8, between the scopes and purposes */
        j = (i < 4) ? i * 2 : 9;

        hash = ngx_http_ir_unit_array(u, 0);
        hash->element = ngx_pcalloc(u->pool,
                                    2 * NGX_HTTP_IR_UNIT_FIELDS
                                    * sizeof(redisReply *));
        assert_non_null(hash->element);

        if (h) {
            found = (i == 0) ? u->user_found : u->org_found;

            for (n = 0; found && n < h->n; n++) {
                f = &h->field[n];

                if (f->value.data == NULL) {
                    continue;
                }

                hash->element[hash->elements++] =
                    ngx_http_ir_unit_reply(u, REDIS_REPLY_STRING,
                                           (char *) f->name.data,
                                           f->name.len);
                hash->element[hash->elements++] =
                    ngx_http_ir_unit_reply(u, REDIS_REPLY_STRING,
                                           (char *) f->value.data,
                                           f->value.len);
            }

            reply->element[j] =
                found ? ngx_http_ir_unit_string(u, "hash")
                      : ngx_http_ir_unit_string(u, "none");

        } else {
            for (n = 0; n < set->n; n++) {
                hash->element[hash->elements++] =
                    ngx_http_ir_unit_reply(u, REDIS_REPLY_STRING,
                                           (char *) set->member[n].data,
                                           set->member[n].len);
            }

            reply->element[j] =
                set->n ? ngx_http_ir_unit_string(u, "set")
                       : ngx_http_ir_unit_string(u, "none");
        }

        reply->element[j + 1] = hash;
    }

    reply->element[8] = ngx_http_ir_unit_integer(u, 0);

    return reply;
}


static ngx_int_t
ngx_http_ir_unit_read(ngx_http_ir_unit_t *u, redisReply *reply)
{
    ngx_http_ir_unit_log_reset();

    return ngx_http_ir_store_lookup_reply(reply, &ngx_http_ir_unit_prefix,
                                          &ngx_http_ir_unit_name, &u->rec,
                                          u->pool, &u->log);
}


static void
ngx_http_ir_unit_lookup_found(void **state)
{
    redisReply          *reply;
    ngx_http_ir_unit_t  *u = *state;

    reply = ngx_http_ir_unit_lookup(u);
    reply->element[8]->integer = 2;

    /* fields the module does not know are no part of the record */

    reply->element[1]->element[reply->element[1]->elements++] =
        ngx_http_ir_unit_string(u, "comment");
    reply->element[1]->element[reply->element[1]->elements++] =
        ngx_http_ir_unit_string(u, "hired in 2019");

    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);

    assert_true(u->rec.user.found);
    assert_null(u->rec.user.bad.data);
    ngx_http_ir_unit_is(&u->rec.user.org, "bank");
    ngx_http_ir_unit_is(&u->rec.user.unit, "loans");
    assert_int_equal(u->rec.user.hash, NGX_HTTP_IR_HASH_FAST);
    assert_int_equal(u->rec.user.pins.nelts, 1);
    assert_int_equal(u->rec.user.ips.nelts, 2);
    assert_int_equal(u->rec.user.fails, 2);
    assert_true(u->rec.org.found);
    ngx_http_ir_unit_is(&u->rec.org.name, "Bank");
    assert_int_equal(u->rec.org.to, 20261231);
    assert_int_equal(u->rec.org.scopes.nelts, 2);
    assert_int_equal(u->rec.org.purposes.nelts, 2);

    u->policy.purpose = 1;
    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &u->rec,
                                        &u->verdict),
                     NGX_HTTP_IR_ALLOW);

    /* a lookup that went well says nothing */
    assert_int_equal(ngx_http_ir_unit_log.len, 0);

    /* a counter that went below zero is none */

    reply->element[8]->integer = -3;
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_int_equal(u->rec.user.fails, 0);

    /* members and fields that are no strings are skipped */

    reply->element[3]->element[0] = ngx_http_ir_unit_integer(u, 10);
    reply->element[1]->element[0] =
        ngx_http_ir_unit_reply(u, REDIS_REPLY_NIL, NULL, 0);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_int_equal(u->rec.user.ips.nelts, 1);
    assert_null(u->rec.user.org.data);
    assert_false(u->rec.org.found);

    /* the wide entries are taken, and said */

    u->ips.n = 0;
    ngx_http_ir_unit_add(&u->ips, "0.0.0.0/0");
    reply = ngx_http_ir_unit_lookup(u);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_int_equal(u->rec.user.ips.nelts, 1);
    ngx_http_ir_unit_logged("Redis key \"ir:user:alice:ips\" allows every "
                            "address (\"0.0.0.0/0\" or \"::/0\")");
}


/* Redis failed, or answered what the script never answers: NGX_ERROR */

static void
ngx_http_ir_unit_lookup_errors(void **state)
{
    redisReply          *reply;
    ngx_http_ir_unit_t  *u = *state;

    reply = ngx_http_ir_unit_error(u, "ERR Error running script: OOM");
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_ERROR);
    ngx_http_ir_unit_logged("ir_access: Redis failed the lookup of user "
                            "\"alice\": ERR Error running script: OOM");

    /* what Redis says is logged escaped */

    reply = ngx_http_ir_unit_error(u, "ERR \x1b[2J\n");
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_ERROR);
    ngx_http_ir_unit_logged("\"alice\": ERR \\x1b[2J\\x0a");

    /* shapes the script never answers */

    reply = ngx_http_ir_unit_reply(u, REDIS_REPLY_NIL, NULL, 0);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_ERROR);
    ngx_http_ir_unit_logged("ir_access: unexpected reply from Redis to the "
                            "lookup of user \"alice\"");

    reply = ngx_http_ir_unit_string(u, "hash");
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_ERROR);
    ngx_http_ir_unit_logged("unexpected reply");

    reply = ngx_http_ir_unit_integer(u, 9);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_ERROR);

    reply = ngx_http_ir_unit_lookup(u);
    reply->elements = 8;
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_ERROR);

    reply = ngx_http_ir_unit_array(u, 0);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_ERROR);

    reply = ngx_http_ir_unit_lookup(u);
    reply->element[8] = ngx_http_ir_unit_string(u, "0");
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_ERROR);

    reply = ngx_http_ir_unit_lookup(u);
    reply->element[4] = ngx_http_ir_unit_integer(u, 1);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_ERROR);

    reply = ngx_http_ir_unit_lookup(u);
    reply->element[3] = ngx_http_ir_unit_string(u, "10.0.0.0/8");
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_ERROR);

    reply = ngx_http_ir_unit_lookup(u);
    reply->element[0] = ngx_http_ir_unit_reply(u, REDIS_REPLY_NIL, NULL, 0);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_ERROR);

    /* a status reply is as good as a string for a type */

    reply = ngx_http_ir_unit_lookup(u);
    reply->element[0] = ngx_http_ir_unit_reply(u, REDIS_REPLY_STATUS,
                                               "hash", 4);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_true(u->rec.user.found);
}


/* keys that are missing, of the wrong type, or too large */

static void
ngx_http_ir_unit_lookup_types(void **state)
{
    redisReply          *reply;
    ngx_http_ir_unit_t  *u = *state;

    u->user_found = 0;
    reply = ngx_http_ir_unit_lookup(u);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_false(u->rec.user.found);
    assert_false(u->rec.org.found);
    assert_int_equal(ngx_http_ir_unit_log.len, 0);

    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &u->rec,
                                        &u->verdict),
                     NGX_HTTP_IR_UNKNOWN_USER);

    /* a typo in redis-cli made the user's hash a string */

    u->user_found = 1;
    reply = ngx_http_ir_unit_lookup(u);
    reply->element[0] = ngx_http_ir_unit_string(u, "string");
    reply->element[1]->elements = 0;
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_false(u->rec.user.found);
    ngx_http_ir_unit_logged("ir_access: Redis key \"ir:user:alice\" is a "
                            "string, not a hash, and is ignored; fix it "
                            "with redis-cli");

    /* the allowlist a hash */

    reply = ngx_http_ir_unit_lookup(u);
    reply->element[2] = ngx_http_ir_unit_string(u, "hash");
    reply->element[3]->elements = 0;
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_true(u->rec.user.found);
    assert_int_equal(u->rec.user.ips.nelts, 0);
    ngx_http_ir_unit_logged("Redis key \"ir:user:alice:ips\" is a hash, not "
                            "a set, and is ignored");

    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &u->rec,
                                        &u->verdict),
                     NGX_HTTP_IR_IP_NOT_ALLOWED);

    /* the organisation's scopes a list */

    reply = ngx_http_ir_unit_lookup(u);
    reply->element[6] = ngx_http_ir_unit_string(u, "list");
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_int_equal(u->rec.org.scopes.nelts, 0);
    ngx_http_ir_unit_logged("Redis key \"ir:org:bank:scopes\" is a list, not "
                            "a set, and is ignored");

    /* a user hash swollen past the limit is a bad record, said so */

    reply = ngx_http_ir_unit_lookup(u);
    reply->element[0] = ngx_http_ir_unit_string(u, "toolarge");
    reply->element[1]->elements = 0;
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_true(u->rec.user.found);
    assert_false(u->rec.org.found);
    ngx_http_ir_unit_is(&u->rec.user.bad, "it has more than 64 fields");
    ngx_http_ir_unit_logged("ir_access: Redis key \"ir:user:alice\" is too "
                            "large to be a record and is refused");
    ngx_http_ir_unit_logged("ir_access: the record \"ir:user:alice\" is "
                            "unusable: it has more than 64 fields; the user "
                            "is denied until it is fixed with redis-cli");

    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &u->rec,
                                        &u->verdict),
                     NGX_HTTP_IR_BAD_RECORD);

    /* an organisation's */

    reply = ngx_http_ir_unit_lookup(u);
    reply->element[4] = ngx_http_ir_unit_string(u, "toolarge");
    reply->element[5]->elements = 0;
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_true(u->rec.org.found);
    ngx_http_ir_unit_is(&u->rec.org.bad, "it has more than 64 fields");
    ngx_http_ir_unit_logged("ir_access: the record \"ir:org:bank\" is "
                            "unusable: it has more than 64 fields; its users "
                            "are denied until it is fixed with redis-cli");

    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &u->rec,
                                        &u->verdict),
                     NGX_HTTP_IR_BAD_RECORD);

    /* an allowlist too large is none */

    reply = ngx_http_ir_unit_lookup(u);
    reply->element[2] = ngx_http_ir_unit_string(u, "toolarge");
    reply->element[3]->elements = 0;
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_int_equal(u->rec.user.ips.nelts, 0);
    ngx_http_ir_unit_logged("ir_access: Redis key \"ir:user:alice:ips\" is "
                            "too large to be a record and is refused");

    /* a type name is logged escaped, and short */

    reply = ngx_http_ir_unit_lookup(u);
    reply->element[0] = ngx_http_ir_unit_string(u, "strange\r\ntype");
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_false(u->rec.user.found);
    ngx_http_ir_unit_logged("is a strange\\x0d\\x0atype, not a hash");
}


static void
ngx_http_ir_unit_lookup_org(void **state)
{
    redisReply          *reply;
    ngx_http_ir_unit_t  *u = *state;

    /* no "org" field: the organisation's part is not even read */

    ngx_http_ir_unit_unset(&u->user, "org");
    reply = ngx_http_ir_unit_lookup(u);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_false(u->rec.org.found);
    assert_int_equal(u->rec.org.scopes.nelts, 0);

    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &u->rec,
                                        &u->verdict),
                     NGX_HTTP_IR_ORG_UNKNOWN);
    assert_string_equal(u->verdict.detail, "user has no \"org\" field");

    /* an organisation that is not there */

    ngx_http_ir_unit_user(u, "org", "bank");
    u->org_found = 0;
    u->scopes.n = 0;
    reply = ngx_http_ir_unit_lookup(u);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_false(u->rec.org.found);

    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &u->rec,
                                        &u->verdict),
                     NGX_HTTP_IR_ORG_UNKNOWN);
    ngx_http_ir_unit_is(&u->verdict.subject, "bank");

    /* an "org" that is no name: a bad user record, the org never read */

    u->org_found = 1;
    ngx_http_ir_unit_user(u, "org", "bank:scopes");
    reply = ngx_http_ir_unit_lookup(u);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    ngx_http_ir_unit_is(&u->rec.user.bad,
                        "field \"org\" is not a name of 1 to 64 letters, "
                        "digits and \"._@-\"");
    ngx_http_ir_unit_logged("the record \"ir:user:alice\" is unusable: "
                            "field \"org\" is not a name");
    assert_false(u->rec.org.found);

    /* scopes that are no words are ignored, and said */

    ngx_http_ir_unit_user(u, "org", "bank");
    u->scopes.n = 0;
    ngx_http_ir_unit_add(&u->scopes, "person.basic");
    ngx_http_ir_unit_add(&u->scopes, "person.address\r\n");
    ngx_http_ir_unit_add(&u->scopes, "");
    reply = ngx_http_ir_unit_lookup(u);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_int_equal(u->rec.org.scopes.nelts, 1);
    ngx_http_ir_unit_logged("ir_access: ignoring a member of Redis key "
                            "\"ir:org:bank:scopes\" that is empty, over-long "
                            "or holds a control character");

    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &u->rec,
                                        &u->verdict),
                     NGX_HTTP_IR_ALLOW);

    /* the purposes, likewise */

    ngx_http_ir_unit_add(&u->purposes, "benefits\n");
    reply = ngx_http_ir_unit_lookup(u);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_int_equal(u->rec.org.purposes.nelts, 2);
    ngx_http_ir_unit_logged("ir_access: ignoring a member of Redis key "
                            "\"ir:org:bank:purposes\" that is empty, "
                            "over-long or holds a control character");

    reply->element[9] = ngx_http_ir_unit_string(u, "string");
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_int_equal(u->rec.org.purposes.nelts, 0);
    ngx_http_ir_unit_logged("Redis key \"ir:org:bank:purposes\" is a "
                            "string, not a set, and is ignored");

    reply->element[10] = ngx_http_ir_unit_string(u, "benefits");
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_ERROR);
}


static void
ngx_http_ir_unit_lookup_bad(void **state)
{
    redisReply          *reply;
    ngx_http_ir_unit_t  *u = *state;

    /* a CR LF in "unit": the record is refused, the log says where */

    ngx_http_ir_unit_user(u, "unit", "loans\r\nX-Injected: yes");
    reply = ngx_http_ir_unit_lookup(u);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_true(u->rec.user.found);
    ngx_http_ir_unit_is(&u->rec.user.bad,
                        "field \"unit\" holds a control character");
    assert_null(u->rec.user.unit.data);
    ngx_http_ir_unit_logged("ir_access: the record \"ir:user:alice\" is "
                            "unusable: field \"unit\" holds a control "
                            "character; the user is denied until it is "
                            "fixed with redis-cli");

    /* the organisation of a bad user record is not read */
    assert_false(u->rec.org.found);

    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &u->rec,
                                        &u->verdict),
                     NGX_HTTP_IR_BAD_RECORD);

    /* an organisation's */

    ngx_http_ir_unit_user(u, "unit", "loans");
    ngx_http_ir_unit_org(u, "name", "Bank\x00Ltd");
    reply = ngx_http_ir_unit_lookup(u);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    assert_null(u->rec.user.bad.data);
    ngx_http_ir_unit_is(&u->rec.org.bad,
                        "field \"name\" holds a control character");
    ngx_http_ir_unit_logged("ir_access: the record \"ir:org:bank\" is "
                            "unusable: field \"name\" holds a control "
                            "character; its users are denied until it is "
                            "fixed with redis-cli");

    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &u->rec,
                                        &u->verdict),
                     NGX_HTTP_IR_BAD_RECORD);

    /* invalid allowlist entries are logged, escaped */

    ngx_http_ir_unit_org(u, "name", "Bank");
    ngx_http_ir_unit_add(&u->ips, "10.0.0.1/8\x1b");
    reply = ngx_http_ir_unit_lookup(u);
    assert_int_equal(ngx_http_ir_unit_read(u, reply), NGX_OK);
    ngx_http_ir_unit_logged("ir_access: Redis key \"ir:user:alice:ips\" has "
                            "entries that are not an IP address or a CIDR "
                            "prefix without host bits, ignored: "
                            "10.0.0.1/8\\x1b");
    assert_int_equal(u->rec.user.ips.nelts, 2);
}


/* the login scripts' replies ---------------------------------------------- */

static void
ngx_http_ir_unit_login_reply(void **state)
{
    redisReply                 *reply;
    ngx_uint_t                  i;
    ngx_http_ir_unit_t         *u = *state;
    ngx_http_ir_login_reply_t   lr;

    static struct {
        char        *what;
        ngx_uint_t   result;
    } words[] = {
        { "ok", NGX_HTTP_IR_STORE_OK },
        { "locked", NGX_HTTP_IR_STORE_LOCKED },
        { "lockednow", NGX_HTTP_IR_STORE_LOCKED_NOW },
        { "busy", NGX_HTTP_IR_STORE_BUSY },
        { "gone", NGX_HTTP_IR_STORE_GONE },
        { "OK", NGX_HTTP_IR_STORE_ERROR },
        { "ok ", NGX_HTTP_IR_STORE_ERROR },
        { "lock", NGX_HTTP_IR_STORE_ERROR },
        { "", NGX_HTTP_IR_STORE_ERROR }
    };

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        reply = ngx_http_ir_unit_array(u, 2,
                    ngx_http_ir_unit_reply(u, REDIS_REPLY_STRING,
                                           words[i].what,
                                           ngx_strlen(words[i].what)),
                    ngx_http_ir_unit_integer(u, 4));

        ngx_http_ir_store_login_reply(reply, &lr);

        if (lr.result != words[i].result) {
            fail_msg("\"%s\" is read as %d, not %d", words[i].what,
                     (int) lr.result, (int) words[i].result);
        }

        assert_int_equal(lr.fails, 4);
    }

    /* the script's own error, with what Redis said */

    reply = ngx_http_ir_unit_array(u, 2, ngx_http_ir_unit_string(u, "error"),
                ngx_http_ir_unit_string(u, "OOM command not allowed"));
    ngx_http_ir_store_login_reply(reply, &lr);
    assert_int_equal(lr.result, NGX_HTTP_IR_STORE_ERROR);
    ngx_http_ir_unit_is(&lr.error, "OOM command not allowed");

    /* Redis's */

    reply = ngx_http_ir_unit_error(u, "BUSY Redis is busy running a script");
    ngx_http_ir_store_login_reply(reply, &lr);
    assert_int_equal(lr.result, NGX_HTTP_IR_STORE_ERROR);
    ngx_http_ir_unit_is(&lr.error, "BUSY Redis is busy running a script");

    /* and shapes the scripts never answer */

    reply = ngx_http_ir_unit_array(u, 1, ngx_http_ir_unit_string(u, "ok"));
    ngx_http_ir_store_login_reply(reply, &lr);
    assert_int_equal(lr.result, NGX_HTTP_IR_STORE_ERROR);
    ngx_http_ir_unit_is(&lr.error, "unexpected reply");

    reply = ngx_http_ir_unit_array(u, 3, ngx_http_ir_unit_string(u, "ok"),
                                   ngx_http_ir_unit_integer(u, 0),
                                   ngx_http_ir_unit_integer(u, 0));
    ngx_http_ir_store_login_reply(reply, &lr);
    assert_int_equal(lr.result, NGX_HTTP_IR_STORE_ERROR);

    reply = ngx_http_ir_unit_array(u, 2, ngx_http_ir_unit_integer(u, 1),
                                   ngx_http_ir_unit_integer(u, 0));
    ngx_http_ir_store_login_reply(reply, &lr);
    assert_int_equal(lr.result, NGX_HTTP_IR_STORE_ERROR);

    reply = ngx_http_ir_unit_array(u, 2, ngx_http_ir_unit_string(u, "ok"),
                ngx_http_ir_unit_reply(u, REDIS_REPLY_NIL, NULL, 0));
    ngx_http_ir_store_login_reply(reply, &lr);
    assert_int_equal(lr.result, NGX_HTTP_IR_STORE_ERROR);

    reply = ngx_http_ir_unit_string(u, "ok");
    ngx_http_ir_store_login_reply(reply, &lr);
    assert_int_equal(lr.result, NGX_HTTP_IR_STORE_ERROR);

    reply = ngx_http_ir_unit_integer(u, 0);
    ngx_http_ir_store_login_reply(reply, &lr);
    assert_int_equal(lr.result, NGX_HTTP_IR_STORE_ERROR);
    ngx_http_ir_unit_is(&lr.error, "unexpected reply");
}


/* the other small replies: quotas, SET NX, the maintenance */

static void
ngx_http_ir_unit_small_replies(void **state)
{
    ngx_str_t            error, env, until, message;
    ngx_uint_t           minute, day;
    redisReply          *reply;
    ngx_http_ir_unit_t  *u = *state;

    reply = ngx_http_ir_unit_array(u, 2, ngx_http_ir_unit_integer(u, 7),
                                   ngx_http_ir_unit_integer(u, 1000));
    assert_int_equal(ngx_http_ir_store_quota_reply(reply, &minute, &day,
                                                   &error),
                     NGX_OK);
    assert_int_equal(minute, 7);
    assert_int_equal(day, 1000);

    reply->element[1]->integer = -1;
    assert_int_equal(ngx_http_ir_store_quota_reply(reply, &minute, &day,
                                                   &error),
                     NGX_ERROR);
    ngx_http_ir_unit_is(&error, "unexpected reply");

    reply = ngx_http_ir_unit_error(u, "OOM command not allowed");
    assert_int_equal(ngx_http_ir_store_quota_reply(reply, &minute, &day,
                                                   &error),
                     NGX_ERROR);
    ngx_http_ir_unit_is(&error, "OOM command not allowed");

    reply = ngx_http_ir_unit_reply(u, REDIS_REPLY_STATUS, "OK", 2);
    assert_int_equal(ngx_http_ir_store_set_reply(reply, &error), NGX_OK);

    reply = ngx_http_ir_unit_reply(u, REDIS_REPLY_NIL, NULL, 0);
    assert_int_equal(ngx_http_ir_store_set_reply(reply, &error),
                     NGX_DECLINED);

    reply = ngx_http_ir_unit_string(u, "OK");
    assert_int_equal(ngx_http_ir_store_set_reply(reply, &error), NGX_ERROR);

    reply = ngx_http_ir_unit_array(u, 3, ngx_http_ir_unit_string(u, "prod"),
                ngx_http_ir_unit_string(u, "2026-11-27T10:00+02:00"),
                ngx_http_ir_unit_reply(u, REDIS_REPLY_NIL, NULL, 0));
    assert_int_equal(ngx_http_ir_store_maintenance_reply(reply, &env, &until,
                                                         &message, &error),
                     NGX_OK);
    ngx_http_ir_unit_is(&env, "prod");
    ngx_http_ir_unit_is(&until, "2026-11-27T10:00+02:00");
    assert_null(message.data);

    reply->element[2] = ngx_http_ir_unit_integer(u, 1);
    assert_int_equal(ngx_http_ir_store_maintenance_reply(reply, &env, &until,
                                                         &message, &error),
                     NGX_ERROR);

    reply = ngx_http_ir_unit_error(u, "WRONGTYPE Operation against a key");
    assert_int_equal(ngx_http_ir_store_maintenance_reply(reply, &env, &until,
                                                         &message, &error),
                     NGX_ERROR);
    ngx_http_ir_unit_is(&error, "WRONGTYPE Operation against a key");

    reply = ngx_http_ir_unit_integer(u, 1);
    assert_int_equal(ngx_http_ir_store_announce_reply(reply, &error), NGX_OK);

    reply->integer = 0;
    assert_int_equal(ngx_http_ir_store_announce_reply(reply, &error),
                     NGX_DECLINED);

    reply = ngx_http_ir_unit_string(u, "1");
    assert_int_equal(ngx_http_ir_store_announce_reply(reply, &error),
                     NGX_ERROR);
}


/* keyspace notifications -------------------------------------------------- */

static void
ngx_http_ir_unit_notification(void **state)
{
    ngx_int_t            rc;
    ngx_str_t            channel, key, op, name;
    redisReply          *reply;
    ngx_http_ir_unit_t  *u = *state;

    ngx_str_set(&channel, "__keyspace@0__:");

    reply = ngx_http_ir_unit_array(u, 4,
                ngx_http_ir_unit_string(u, "pmessage"),
                ngx_http_ir_unit_string(u, "__keyspace@0__:ir:*"),
                ngx_http_ir_unit_string(u, "__keyspace@0__:ir:user:alice"),
                ngx_http_ir_unit_string(u, "hset"));

    rc = ngx_http_ir_store_notification(reply, &channel, &key, &op);
    assert_int_equal(rc, NGX_OK);
    ngx_http_ir_unit_is(&key, "ir:user:alice");
    ngx_http_ir_unit_is(&op, "hset");

    assert_int_equal(ngx_http_ir_key_parse(&ngx_http_ir_unit_prefix, &key,
                                           &name),
                     NGX_HTTP_IR_KEY_USER_HASH);
    ngx_http_ir_unit_is(&name, "alice");

    /* the subscription's own confirmation */

    reply = ngx_http_ir_unit_array(u, 3,
                ngx_http_ir_unit_string(u, "psubscribe"),
                ngx_http_ir_unit_string(u, "__keyspace@0__:ir:*"),
                ngx_http_ir_unit_integer(u, 1));
    assert_int_equal(ngx_http_ir_store_notification(reply, &channel, &key,
                                                    &op),
                     NGX_DONE);

    /* another database's, or another channel's */

    reply = ngx_http_ir_unit_array(u, 4,
                ngx_http_ir_unit_string(u, "pmessage"),
                ngx_http_ir_unit_string(u, "__keyspace@1__:ir:*"),
                ngx_http_ir_unit_string(u, "__keyspace@1__:ir:user:alice"),
                ngx_http_ir_unit_string(u, "hset"));
    assert_int_equal(ngx_http_ir_store_notification(reply, &channel, &key,
                                                    &op),
                     NGX_DECLINED);

    /* the channel alone names no key */

    reply->element[2] = ngx_http_ir_unit_string(u, "__keyspace@0__:");
    assert_int_equal(ngx_http_ir_store_notification(reply, &channel, &key,
                                                    &op),
                     NGX_DECLINED);

    reply->element[2] = ngx_http_ir_unit_string(u, "__keyspace@0_");
    assert_int_equal(ngx_http_ir_store_notification(reply, &channel, &key,
                                                    &op),
                     NGX_DECLINED);

    /* shapes that are no notification */

    reply = ngx_http_ir_unit_array(u, 3,
                ngx_http_ir_unit_string(u, "message"),
                ngx_http_ir_unit_string(u, "__keyspace@0__:ir:user:alice"),
                ngx_http_ir_unit_string(u, "hset"));
    assert_int_equal(ngx_http_ir_store_notification(reply, &channel, &key,
                                                    &op),
                     NGX_DECLINED);

    reply = ngx_http_ir_unit_array(u, 3,
                ngx_http_ir_unit_string(u, "pmessage"),
                ngx_http_ir_unit_string(u, "__keyspace@0__:ir:*"),
                ngx_http_ir_unit_string(u, "__keyspace@0__:ir:user:alice"));
    assert_int_equal(ngx_http_ir_store_notification(reply, &channel, &key,
                                                    &op),
                     NGX_DECLINED);

    reply = ngx_http_ir_unit_array(u, 4,
                ngx_http_ir_unit_string(u, "pmessage"),
                ngx_http_ir_unit_string(u, "__keyspace@0__:ir:*"),
                ngx_http_ir_unit_integer(u, 1),
                ngx_http_ir_unit_string(u, "hset"));
    assert_int_equal(ngx_http_ir_store_notification(reply, &channel, &key,
                                                    &op),
                     NGX_DECLINED);

    reply->element[2] =
        ngx_http_ir_unit_string(u, "__keyspace@0__:ir:user:alice");
    reply->element[3] = ngx_http_ir_unit_reply(u, REDIS_REPLY_NIL, NULL, 0);
    assert_int_equal(ngx_http_ir_store_notification(reply, &channel, &key,
                                                    &op),
                     NGX_DECLINED);

    reply = ngx_http_ir_unit_array(u, 4,
                ngx_http_ir_unit_integer(u, 1),
                ngx_http_ir_unit_string(u, "__keyspace@0__:ir:*"),
                ngx_http_ir_unit_string(u, "__keyspace@0__:ir:user:alice"),
                ngx_http_ir_unit_string(u, "hset"));
    assert_int_equal(ngx_http_ir_store_notification(reply, &channel, &key,
                                                    &op),
                     NGX_DECLINED);

    reply = ngx_http_ir_unit_error(u, "ERR");
    assert_int_equal(ngx_http_ir_store_notification(reply, &channel, &key,
                                                    &op),
                     NGX_DECLINED);

    reply = ngx_http_ir_unit_array(u, 0);
    assert_int_equal(ngx_http_ir_store_notification(reply, &channel, &key,
                                                    &op),
                     NGX_DECLINED);

    /* a user whose name holds ':' is never taken for another */

    reply = ngx_http_ir_unit_array(u, 4,
                ngx_http_ir_unit_string(u, "pmessage"),
                ngx_http_ir_unit_string(u, "__keyspace@0__:ir:*"),
                ngx_http_ir_unit_string(u, "__keyspace@0__:ir:user:svc:a"),
                ngx_http_ir_unit_string(u, "hset"));
    assert_int_equal(ngx_http_ir_store_notification(reply, &channel, &key,
                                                    &op),
                     NGX_OK);
    assert_int_equal(ngx_http_ir_key_parse(&ngx_http_ir_unit_prefix, &key,
                                           &name),
                     NGX_HTTP_IR_KEY_OTHER);
}


/* the identity in a certificate's subject ------------------------------- */

static void
ngx_http_ir_unit_identity(void **state)
{
    u_char              *p;
    ngx_str_t            cn;
    X509_NAME           *name;
    ngx_http_ir_unit_t  *u = *state;
    u_char               buf[NGX_HTTP_IR_NAME_MAX], text[NGX_HTTP_IR_NAME_MAX];

#define ngx_http_ir_unit_subject(u, type, cn, twice)                         \
    ngx_http_ir_unit_cn(u, type, cn, sizeof(cn) - 1, twice)

    assert_int_equal(ngx_http_ir_unit_subject(u, V_ASN1_UTF8STRING, "alice",
                                              0),
                     0);
    assert_int_equal(ngx_http_ir_unit_log.len, 0);

    /* the one CN there is, and none other */

    name = X509_NAME_new();
    assert_non_null(name);
    assert_int_equal(X509_NAME_add_entry_by_NID(name, NID_organizationName,
                                                MBSTRING_UTF8,
                                                (u_char *) "Bank", -1, -1, 0),
                     1);

    assert_int_equal(ngx_http_ir_identity_name(name, &cn, buf, &u->log),
                     NGX_HTTP_IR_BAD_IDENTITY);
    ngx_http_ir_unit_logged("ir_access: client certificate has no subject CN");

    X509_NAME_free(name);

    assert_int_equal(ngx_http_ir_unit_subject(u, V_ASN1_UTF8STRING, "alice",
                                              1),
                     NGX_HTTP_IR_BAD_IDENTITY);
    ngx_http_ir_unit_logged("ir_access: client certificate has several "
                            "subject CNs");

    /* read as UTF-8, whatever string type the CA chose */

    assert_int_equal(ngx_http_ir_unit_subject(u, V_ASN1_BMPSTRING,
                                              "\0a\0l\0i\0c\0e", 0),
                     0);
    assert_int_equal(ngx_http_ir_unit_subject(u, V_ASN1_PRINTABLESTRING,
                                              "alice", 0),
                     0);

    /* a CN that is no name is refused, and logged escaped */

    assert_int_equal(ngx_http_ir_unit_subject(u, V_ASN1_UTF8STRING, "svc:a",
                                              0),
                     NGX_HTTP_IR_BAD_IDENTITY);
    ngx_http_ir_unit_logged("ir_access: client certificate CN \"svc:a\" is "
                            "not a valid user name");

    assert_int_equal(ngx_http_ir_unit_subject(u, V_ASN1_UTF8STRING,
                                              "alice\nroot", 0),
                     NGX_HTTP_IR_BAD_IDENTITY);
    ngx_http_ir_unit_logged("CN \"alice\\x0aroot\" is not");

    assert_int_equal(ngx_http_ir_unit_subject(u, V_ASN1_UTF8STRING,
                                              "alice\0root", 0),
                     NGX_HTTP_IR_BAD_IDENTITY);

    assert_int_equal(ngx_http_ir_unit_subject(u, V_ASN1_UTF8STRING,
                                              "\xc4\x81lice", 0),
                     NGX_HTTP_IR_BAD_IDENTITY);

    /* one limit for every name */

    ngx_memset(text, 'n', sizeof(text));
    assert_int_equal(ngx_http_ir_unit_cn(u, V_ASN1_UTF8STRING, (char *) text,
                                         NGX_HTTP_IR_NAME_MAX, 0),
                     0);

    p = ngx_pnalloc(u->pool, NGX_HTTP_IR_NAME_MAX + 1);
    assert_non_null(p);
    ngx_memset(p, 'n', NGX_HTTP_IR_NAME_MAX + 1);
    assert_int_equal(ngx_http_ir_unit_cn(u, V_ASN1_UTF8STRING, (char *) p,
                                         NGX_HTTP_IR_NAME_MAX + 1, 0),
                     NGX_HTTP_IR_BAD_IDENTITY);

    assert_int_equal(ngx_http_ir_identity_name(NULL, &cn, buf, &u->log),
                     NGX_HTTP_IR_BAD_IDENTITY);

#undef ngx_http_ir_unit_subject
}


/* a subject of one CN, or two, and the identity read from it */

static ngx_uint_t
ngx_http_ir_unit_cn(ngx_http_ir_unit_t *u, int type, char *text, size_t len,
    ngx_uint_t twice)
{
    ngx_str_t         cn;
    ngx_uint_t        rc;
    X509_NAME        *name;
    X509_NAME_ENTRY  *entry;
    u_char            buf[NGX_HTTP_IR_NAME_MAX];

    ngx_http_ir_unit_log_reset();

    name = X509_NAME_new();
    assert_non_null(name);

    do {
        entry = X509_NAME_ENTRY_create_by_NID(NULL, NID_commonName, type,
                                              (u_char *) text, len);
        assert_non_null(entry);
        assert_int_equal(X509_NAME_add_entry(name, entry, -1, 0), 1);
        X509_NAME_ENTRY_free(entry);

    } while (twice--);

    ngx_str_null(&cn);

    rc = ngx_http_ir_identity_name(name, &cn, buf, &u->log);

    if (rc == 0) {
        assert_ptr_equal(cn.data, buf);
        assert_true(cn.len <= NGX_HTTP_IR_NAME_MAX);
        assert_int_equal(ngx_http_ir_name_valid(&cn), NGX_OK);

        if (type != V_ASN1_BMPSTRING) {
            assert_int_equal(cn.len, len);
            assert_memory_equal(cn.data, text, len);

        } else {
            assert_int_equal(cn.len, len / 2);
        }
    }

    X509_NAME_free(name);

    return rc;
}


/* an administrator's edit, and a scan of the gateway's keys ------------ */

static void
ngx_http_ir_unit_edit(void **state)
{
    ngx_str_t            key, op, type, cursor, s;
    redisReply          *reply, *content, *keys;
    ngx_http_ir_args_t   args;
    ngx_http_ir_unit_t  *u = *state;

    ngx_str_set(&key, "ir:user:alice:ips");
    ngx_str_set(&op, "sadd");

    ngx_http_ir_store_edit(&args, &ngx_http_ir_unit_prefix, &key, &op);

    assert_int_equal(args.nkeys, 1);
    assert_int_equal(args.argc, 5);

#define ngx_http_ir_unit_arg(i, text)                                        \
    s.data = (u_char *) args.argv[i];                                        \
    s.len = args.argvlen[i];                                                 \
    ngx_http_ir_unit_is(&s, text)

    ngx_http_ir_unit_arg(0, "ir:user:alice:ips");
    ngx_http_ir_unit_arg(1, "sadd");
    ngx_http_ir_unit_arg(2, "ir:edit:");
    ngx_http_ir_unit_arg(3, "5000");
    ngx_http_ir_unit_arg(4, "4096");

#undef ngx_http_ir_unit_arg

    /* this host writes the edit, with the content after it */

    reply = ngx_http_ir_unit_array(u, 3, ngx_http_ir_unit_integer(u, 1),
                ngx_http_ir_unit_reply(u, REDIS_REPLY_STATUS, "set", 3),
                ngx_http_ir_unit_array(u, 1,
                    ngx_http_ir_unit_string(u, "10.0.0.0/8")));

    assert_int_equal(ngx_http_ir_store_edit_reply(reply, &type, &content),
                     NGX_OK);
    ngx_http_ir_unit_is(&type, "set");
    assert_ptr_equal(content, reply->element[2]);

    /* another host does */

    reply->element[0]->integer = 0;
    assert_int_equal(ngx_http_ir_store_edit_reply(reply, &type, &content),
                     NGX_DECLINED);

    /* and what the script never answers */

    reply->element[0] = ngx_http_ir_unit_string(u, "1");
    assert_int_equal(ngx_http_ir_store_edit_reply(reply, &type, &content),
                     NGX_ERROR);

    reply = ngx_http_ir_unit_error(u, "NOSCRIPT No matching script");
    assert_int_equal(ngx_http_ir_store_edit_reply(reply, &type, &content),
                     NGX_ERROR);

    reply = ngx_http_ir_unit_array(u, 2, ngx_http_ir_unit_integer(u, 1),
                                   ngx_http_ir_unit_string(u, "set"));
    assert_int_equal(ngx_http_ir_store_edit_reply(reply, &type, &content),
                     NGX_ERROR);

    /* SCAN: the next cursor and a batch of keys, all strings */

    reply = ngx_http_ir_unit_array(u, 2, ngx_http_ir_unit_string(u, "17"),
                ngx_http_ir_unit_array(u, 2,
                    ngx_http_ir_unit_string(u, "ir:seen:alice"),
                    ngx_http_ir_unit_string(u, "ir:seen:bob")));

    assert_int_equal(ngx_http_ir_store_scan_reply(reply, &cursor, &keys),
                     NGX_OK);
    ngx_http_ir_unit_is(&cursor, "17");
    assert_int_equal(keys->elements, 2);

    reply->element[1]->element[1] = ngx_http_ir_unit_integer(u, 1);
    assert_int_equal(ngx_http_ir_store_scan_reply(reply, &cursor, &keys),
                     NGX_ERROR);

    reply->element[1] = ngx_http_ir_unit_string(u, "ir:seen:alice");
    assert_int_equal(ngx_http_ir_store_scan_reply(reply, &cursor, &keys),
                     NGX_ERROR);

    reply = ngx_http_ir_unit_error(u, "ERR");
    assert_int_equal(ngx_http_ir_store_scan_reply(reply, &cursor, &keys),
                     NGX_ERROR);
}


#define ngx_http_ir_unit(f)                                                  \
    cmocka_unit_test_setup_teardown(f, ngx_http_ir_unit_setup,               \
                                    ngx_http_ir_unit_teardown)


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        ngx_http_ir_unit(ngx_http_ir_unit_allowed),
        ngx_http_ir_unit(ngx_http_ir_unit_user_status),
        ngx_http_ir_unit(ngx_http_ir_unit_user_bad),
        ngx_http_ir_unit(ngx_http_ir_unit_order),
        ngx_http_ir_unit(ngx_http_ir_unit_pins),
        ngx_http_ir_unit(ngx_http_ir_unit_pin_words),
        ngx_http_ir_unit(ngx_http_ir_unit_addresses),
        ngx_http_ir_unit(ngx_http_ir_unit_allowlist_invalid),
        ngx_http_ir_unit(ngx_http_ir_unit_countries),
        ngx_http_ir_unit(ngx_http_ir_unit_login),
        ngx_http_ir_unit(ngx_http_ir_unit_contract),
        ngx_http_ir_unit(ngx_http_ir_unit_env),
        ngx_http_ir_unit(ngx_http_ir_unit_scopes),
        ngx_http_ir_unit(ngx_http_ir_unit_purposes),
        cmocka_unit_test(ngx_http_ir_unit_reasons),
        ngx_http_ir_unit(ngx_http_ir_unit_fields),
        ngx_http_ir_unit(ngx_http_ir_unit_field_limits),
        ngx_http_ir_unit(ngx_http_ir_unit_org_name),
        ngx_http_ir_unit(ngx_http_ir_unit_scope_members),
        cmocka_unit_test(ngx_http_ir_unit_parse_pin),
        cmocka_unit_test(ngx_http_ir_unit_pin_hint),
        cmocka_unit_test(ngx_http_ir_unit_hash_kind),
        cmocka_unit_test(ngx_http_ir_unit_dates),
        cmocka_unit_test(ngx_http_ir_unit_lists),
        ngx_http_ir_unit(ngx_http_ir_unit_quotas),
        cmocka_unit_test(ngx_http_ir_unit_times),
        cmocka_unit_test(ngx_http_ir_unit_days),
        cmocka_unit_test(ngx_http_ir_unit_notice_text),
        cmocka_unit_test(ngx_http_ir_unit_names),
        cmocka_unit_test(ngx_http_ir_unit_addr_parse),
        cmocka_unit_test(ngx_http_ir_unit_escape),
        cmocka_unit_test(ngx_http_ir_unit_time),
        cmocka_unit_test(ngx_http_ir_unit_key),
        cmocka_unit_test(ngx_http_ir_unit_key_parse),
        ngx_http_ir_unit(ngx_http_ir_unit_record),
        ngx_http_ir_unit(ngx_http_ir_unit_record_empty),
        ngx_http_ir_unit(ngx_http_ir_unit_record_bad),
        cmocka_unit_test(ngx_http_ir_unit_store_args),
        ngx_http_ir_unit(ngx_http_ir_unit_lookup_found),
        ngx_http_ir_unit(ngx_http_ir_unit_lookup_errors),
        ngx_http_ir_unit(ngx_http_ir_unit_lookup_types),
        ngx_http_ir_unit(ngx_http_ir_unit_lookup_org),
        ngx_http_ir_unit(ngx_http_ir_unit_lookup_bad),
        ngx_http_ir_unit(ngx_http_ir_unit_login_reply),
        ngx_http_ir_unit(ngx_http_ir_unit_small_replies),
        ngx_http_ir_unit(ngx_http_ir_unit_notification),
        ngx_http_ir_unit(ngx_http_ir_unit_edit),
        ngx_http_ir_unit(ngx_http_ir_unit_identity),
    };

    ngx_pagesize = getpagesize();
    ngx_cacheline_size = NGX_CPU_CACHE_LINE;

    return cmocka_run_group_tests_name("ir-access units", tests, NULL, NULL);
}
