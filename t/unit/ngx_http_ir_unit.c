
/*
 * ir-access: unit tests of the pure parts, the decision (steps 2 to 9),
 * dates, lists, pins, the allowlist and the packed record, linked with
 * nginx's own string, address, pool and array code.
 *
 * Every test starts from a record that is allowed and breaks one thing,
 * so that each assertion shows which step answers and with what.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_addr.h"
#include "ngx_http_ir_record.h"


/* what nginx's core provides and a unit test has no cycle for */

volatile ngx_cycle_t  *ngx_cycle;


void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
    /* the pure code logs nothing; nginx's pool logs at debug level only */
}


typedef struct {
    ngx_pool_t                    *pool;
    ngx_log_t                      log;
    ngx_http_ir_record_t           rec;
    ngx_http_ir_policy_t           policy;
    ngx_http_ir_facts_t            facts;
    ngx_http_ir_verdict_t          verdict;
    struct sockaddr_in             sin;
    struct sockaddr_in6            sin6;
    u_char                         digest[NGX_HTTP_IR_DIGEST_LEN];
} ngx_http_ir_unit_t;


#define ngx_http_ir_unit_str(s, text)                                          \
    (s)->len = sizeof(text) - 1; (s)->data = (u_char *) text


static void
ngx_http_ir_unit_ip(ngx_http_ir_unit_t *u, char *entry)
{
    ngx_str_t    s;
    ngx_cidr_t  *cidr;

    s.len = ngx_strlen(entry);
    s.data = (u_char *) entry;

    cidr = ngx_array_push(&u->rec.user.ips);
    assert_non_null(cidr);
    assert_int_not_equal(ngx_http_ir_addr_parse(&s, cidr), NGX_ERROR);
}


static void
ngx_http_ir_unit_list(ngx_http_ir_unit_t *u, ngx_array_t *a, char *word)
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


/*
 * A user of an active organisation, pinned, allowed from 10.0.0.0/8 and
 * 2001:db8::/32, with a contract for 2026, production and two scopes; a
 * location that pins, checks the password, wants production and
 * "person.basic"; a request from 10.1.2.3 in LV on 2026-11-27 with the
 * right certificate and a good password.
 */

static int
ngx_http_ir_unit_setup(void **state)
{
    ngx_str_t            pin;
    ngx_uint_t           i;
    ngx_http_ir_unit_t  *u;

    u = calloc(1, sizeof(ngx_http_ir_unit_t));
    assert_non_null(u);

    u->log.log_level = NGX_LOG_EMERG;

    u->pool = ngx_create_pool(4096, &u->log);
    assert_non_null(u->pool);

    u->rec.user.found = 1;
    ngx_http_ir_unit_str(&u->rec.user.org, "bank");
    ngx_http_ir_unit_str(&u->rec.user.status, "active");
    ngx_http_ir_unit_str(&u->rec.user.unit, "loans");

    assert_int_equal(ngx_array_init(&u->rec.user.ips, u->pool, 4,
                                    sizeof(ngx_cidr_t)), NGX_OK);
    assert_int_equal(ngx_array_init(&u->rec.user.pins, u->pool, 2,
                                    NGX_HTTP_IR_DIGEST_LEN), NGX_OK);
    assert_int_equal(ngx_array_init(&u->rec.org.scopes, u->pool, 4,
                                    sizeof(ngx_str_t)), NGX_OK);

    ngx_http_ir_unit_ip(u, "10.0.0.0/8");
    ngx_http_ir_unit_ip(u, "2001:db8::/32");

    /* the certificate's digest is 00 01 02 ... 1f */

    for (i = 0; i < NGX_HTTP_IR_DIGEST_LEN; i++) {
        u->digest[i] = (u_char) i;
    }

    ngx_http_ir_unit_str(&u->rec.user.cert,
        "00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:"
        "10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F");
    pin = u->rec.user.cert;
    assert_int_equal(ngx_http_ir_parse_pins(&pin, &u->rec.user.pins),
                     NGX_OK);
    assert_int_equal(u->rec.user.pins.nelts, 1);

    u->rec.org.found = 1;
    ngx_http_ir_unit_str(&u->rec.org.status, "active");
    ngx_http_ir_unit_str(&u->rec.org.name, "Bank");
    ngx_http_ir_unit_str(&u->rec.org.contract, "C-1");
    ngx_http_ir_unit_str(&u->rec.org.env, "production");
    ngx_http_ir_unit_str(&u->rec.org.valid_from, "2026-01-01");
    ngx_http_ir_unit_str(&u->rec.org.valid_to, "2026-12-31");
    ngx_http_ir_unit_list(u, &u->rec.org.scopes, "person.basic");
    ngx_http_ir_unit_list(u, &u->rec.org.scopes, "person.address");

    u->policy.cert_pin = 1;
    u->policy.password = 1;
    ngx_http_ir_unit_str(&u->policy.env, "production");

    u->policy.scopes = ngx_array_create(u->pool, 2, sizeof(ngx_str_t));
    assert_non_null(u->policy.scopes);
    ngx_http_ir_unit_list(u, u->policy.scopes, "person.basic");

    u->facts.cert_digest = u->digest;
    ngx_http_ir_unit_client(u, "10.1.2.3");
    ngx_http_ir_unit_str(&u->facts.country, "LV");
    u->facts.today = 20261127;
    u->facts.password = NGX_HTTP_IR_PASSWORD_GOOD;

    *state = u;

    return 0;
}


static int
ngx_http_ir_unit_teardown(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    ngx_destroy_pool(u->pool);
    free(u);

    return 0;
}


static ngx_uint_t
ngx_http_ir_unit_decide(ngx_http_ir_unit_t *u)
{
    return ngx_http_ir_decide(&u->policy, &u->facts, &u->rec, &u->verdict);
}


static void
ngx_http_ir_unit_denied(ngx_http_ir_unit_t *u, char *reason, char *subject)
{
    ngx_str_t   *name;
    ngx_uint_t   rc;

    rc = ngx_http_ir_unit_decide(u);

    name = ngx_http_ir_reason_name(rc);
    assert_int_equal(name->len, ngx_strlen(reason));
    assert_memory_equal(name->data, reason, name->len);

    assert_int_equal(u->verdict.reason, rc);
    assert_non_null(u->verdict.detail);

    if (subject == NULL) {
        assert_null(u->verdict.subject.data);
        return;
    }

    assert_int_equal(u->verdict.subject.len, ngx_strlen(subject));
    assert_memory_equal(u->verdict.subject.data, subject,
                        u->verdict.subject.len);
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
}


static void
ngx_http_ir_unit_user(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    /* a missing status field is active, as SPEC.md's default */
    u->rec.user.status.data = NULL;
    u->rec.user.status.len = 0;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_str(&u->rec.user.status, "disabled");
    ngx_http_ir_unit_denied(u, "user_disabled", "disabled");

    /* status words are exact: a typo disables, never allows */
    ngx_http_ir_unit_str(&u->rec.user.status, "Active");
    ngx_http_ir_unit_denied(u, "user_disabled", "Active");

    ngx_http_ir_unit_str(&u->rec.user.status, "");
    ngx_http_ir_unit_denied(u, "user_disabled", "");

    ngx_http_ir_unit_str(&u->rec.user.status, "locked");
    ngx_http_ir_unit_denied(u, "account_locked", NULL);

    u->rec.user.found = 0;
    ngx_http_ir_unit_denied(u, "unknown_user", NULL);
}


static void
ngx_http_ir_unit_order(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    /* everything wrong at once: each fix uncovers the next step */

    u->rec.user.found = 0;
    ngx_http_ir_unit_str(&u->rec.user.status, "locked");
    u->digest[0] = 0xff;
    ngx_http_ir_unit_client(u, "192.0.2.1");
    u->policy.countries = ngx_array_create(u->pool, 1, sizeof(ngx_str_t));
    ngx_http_ir_unit_list(u, u->policy.countries, "EE");
    u->facts.password = NGX_HTTP_IR_PASSWORD_WRONG;
    u->rec.org.found = 0;

    ngx_http_ir_unit_denied(u, "unknown_user", NULL);

    u->rec.user.found = 1;
    ngx_http_ir_unit_denied(u, "account_locked", NULL);

    ngx_http_ir_unit_str(&u->rec.user.status, "active");
    ngx_http_ir_unit_denied(u, "cert_mismatch", NULL);

    u->digest[0] = 0;
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    ngx_http_ir_unit_client(u, "10.9.9.9");
    ngx_http_ir_unit_denied(u, "country_not_allowed", "LV");

    u->policy.countries = NULL;
    ngx_http_ir_unit_denied(u, "bad_password", NULL);

    u->facts.password = NGX_HTTP_IR_PASSWORD_GOOD;
    ngx_http_ir_unit_denied(u, "org_unknown", "bank");

    u->rec.org.found = 1;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
}


static void
ngx_http_ir_unit_pins(void **state)
{
    ngx_str_t            field;
    ngx_array_t          pins;
    ngx_http_ir_unit_t  *u = *state;

    u->digest[31] ^= 1;
    ngx_http_ir_unit_denied(u, "cert_mismatch", NULL);

    u->policy.cert_pin = 0;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
    u->policy.cert_pin = 1;

    /* a rollover: the new pin in lower case without colons, and junk */

    assert_int_equal(ngx_array_init(&pins, u->pool, 1,
                                    NGX_HTTP_IR_DIGEST_LEN), NGX_OK);
    ngx_http_ir_unit_str(&field,
        " xyz, 00:01 ,"
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f1f,"
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e\t"
        "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1E "
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f,,");
    assert_int_equal(ngx_http_ir_parse_pins(&field, &pins), NGX_OK);
    assert_int_equal(pins.nelts, 2);

    u->rec.user.pins = pins;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    u->digest[31] ^= 1;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    /* no "cert" field: nothing matches, and the log says which */

    u->rec.user.cert.data = NULL;
    u->rec.user.pins.nelts = 0;
    ngx_http_ir_unit_denied(u, "cert_mismatch", NULL);
    assert_string_equal(u->verdict.detail, "user has no \"cert\" field");

    field.data = NULL;
    pins.nelts = 0;
    assert_int_equal(ngx_http_ir_parse_pins(&field, &pins), NGX_OK);
    assert_int_equal(pins.nelts, 0);
}


static void
ngx_http_ir_unit_addresses(void **state)
{
    ngx_str_t            s;
    ngx_cidr_t           cidr;
    ngx_http_ir_unit_t  *u = *state;
    struct sockaddr_un   sun;

    ngx_http_ir_unit_client(u, "10.255.255.255");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_client(u, "11.0.0.0");
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    ngx_http_ir_unit_client(u, "2001:db8:ffff::1");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_client(u, "2001:db9::1");
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    /* an IPv4 client on a dual-stack socket is matched as IPv4 */
    ngx_http_ir_unit_client(u, "::ffff:10.1.2.3");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_client(u, "::ffff:11.1.2.3");
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    ngx_memzero(&sun, sizeof(struct sockaddr_un));
    sun.sun_family = AF_UNIX;
    u->facts.sockaddr = (struct sockaddr *) &sun;
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    u->rec.user.ips.nelts = 0;
    ngx_http_ir_unit_client(u, "10.1.2.3");
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);
    assert_string_equal(u->verdict.detail, "user's allowlist is empty");

    /* entries as admins type them, and typos */

    ngx_http_ir_unit_str(&s, "192.0.2.7");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_OK);
    assert_int_equal(cidr.family, AF_INET);
    assert_int_equal(cidr.u.in.mask, 0xffffffff);

    ngx_http_ir_unit_str(&s, "192.0.2.7/24");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_DONE);
    assert_int_equal(cidr.u.in.addr, htonl(0xc0000200));

    ngx_http_ir_unit_str(&s, "::1");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_OK);
    assert_int_equal(cidr.family, AF_INET6);

    ngx_http_ir_unit_str(&s, "10.0.0.0/33");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_ERROR);

    ngx_http_ir_unit_str(&s, "10.0.0.256");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_ERROR);

    ngx_http_ir_unit_str(&s, "example.com");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_ERROR);

    ngx_http_ir_unit_str(&s, "");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_ERROR);

    ngx_http_ir_unit_str(&s, "10.0.0.1 ");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_ERROR);

    /* "all" is how nginx spells everything; an allowlist must not */
    ngx_http_ir_unit_str(&s, "all");
    assert_int_equal(ngx_http_ir_addr_parse(&s, &cidr), NGX_ERROR);
}


static void
ngx_http_ir_unit_countries(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    u->policy.countries = ngx_array_create(u->pool, 3, sizeof(ngx_str_t));
    ngx_http_ir_unit_list(u, u->policy.countries, "ee");
    ngx_http_ir_unit_list(u, u->policy.countries, "LV");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_str(&u->facts.country, "lv");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_str(&u->facts.country, "--");
    ngx_http_ir_unit_denied(u, "country_not_allowed", "--");

    ngx_http_ir_unit_list(u, u->policy.countries, "--");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    /* the organisation's own list applies where a database is loaded */

    ngx_http_ir_unit_str(&u->facts.country, "LV");
    ngx_http_ir_unit_str(&u->rec.org.countries, "EE, LT");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    u->policy.geoip = 1;
    ngx_http_ir_unit_denied(u, "country_not_allowed", "LV");

    ngx_http_ir_unit_str(&u->rec.org.countries, "EE,lv");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    /* an empty field allows no country; an absent one sets no limit */

    ngx_http_ir_unit_str(&u->rec.org.countries, "");
    ngx_http_ir_unit_denied(u, "country_not_allowed", "LV");

    u->rec.org.countries.data = NULL;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
}


static void
ngx_http_ir_unit_password(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    u->facts.password = NGX_HTTP_IR_PASSWORD_UNCHECKED;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_CHECK_PASSWORD);

    u->facts.password = NGX_HTTP_IR_PASSWORD_MISSING;
    ngx_http_ir_unit_denied(u, "password_required", NULL);

    u->facts.password = NGX_HTTP_IR_PASSWORD_WRONG;
    ngx_http_ir_unit_denied(u, "bad_password", NULL);

    /* the address is checked before a password is ever looked at */
    ngx_http_ir_unit_client(u, "192.0.2.1");
    u->facts.password = NGX_HTTP_IR_PASSWORD_UNCHECKED;
    ngx_http_ir_unit_denied(u, "ip_not_allowed", NULL);

    u->policy.password = 0;
    ngx_http_ir_unit_client(u, "10.1.2.3");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
}


static void
ngx_http_ir_unit_contract(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    ngx_http_ir_unit_str(&u->rec.org.status, "suspended");
    ngx_http_ir_unit_denied(u, "org_suspended", "suspended");

    ngx_http_ir_unit_str(&u->rec.org.status, "active");

    /* both ends are days the contract is in force */

    u->facts.today = 20260101;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    u->facts.today = 20261231;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    u->facts.today = 20251231;
    ngx_http_ir_unit_denied(u, "contract_not_active", "2026-01-01");
    assert_string_equal(u->verdict.detail, "contract starts on");

    u->facts.today = 20270101;
    ngx_http_ir_unit_denied(u, "contract_not_active", "2026-12-31");
    assert_string_equal(u->verdict.detail, "contract ended on");

    /* open ends */

    u->rec.org.valid_to.data = NULL;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    u->rec.org.valid_from.data = NULL;
    u->facts.today = 19991231;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    /* a date that is not one is no open end */

    u->facts.today = 20261127;
    ngx_http_ir_unit_str(&u->rec.org.valid_to, "31.12.2026");
    ngx_http_ir_unit_denied(u, "contract_not_active", "31.12.2026");

    ngx_http_ir_unit_str(&u->rec.org.valid_to, "");
    ngx_http_ir_unit_denied(u, "contract_not_active", "");
}


static void
ngx_http_ir_unit_dates(void **state)
{
    ngx_str_t   s;
    ngx_uint_t  date;

    ngx_http_ir_unit_str(&s, "2026-11-27");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_OK);
    assert_int_equal(date, 20261127);

    ngx_http_ir_unit_str(&s, "2028-02-29");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_OK);
    assert_int_equal(date, 20280229);

    ngx_http_ir_unit_str(&s, "2000-02-29");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_OK);

    ngx_http_ir_unit_str(&s, "2027-02-29");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_ERROR);

    ngx_http_ir_unit_str(&s, "2100-02-29");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_ERROR);

    ngx_http_ir_unit_str(&s, "2026-04-31");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_ERROR);

    ngx_http_ir_unit_str(&s, "2026-13-01");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_ERROR);

    ngx_http_ir_unit_str(&s, "2026-00-10");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_ERROR);

    ngx_http_ir_unit_str(&s, "2026-01-00");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_ERROR);

    ngx_http_ir_unit_str(&s, "2026-1-1");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_ERROR);

    ngx_http_ir_unit_str(&s, "2026-01-01T00:00");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_ERROR);

    ngx_http_ir_unit_str(&s, "2026/01/01");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_ERROR);

    ngx_http_ir_unit_str(&s, "2026-0a-01");
    assert_int_equal(ngx_http_ir_parse_date(&s, &date), NGX_ERROR);
}


static void
ngx_http_ir_unit_env(void **state)
{
    ngx_http_ir_unit_t  *u = *state;

    ngx_http_ir_unit_str(&u->rec.org.env, "test");
    ngx_http_ir_unit_denied(u, "env_mismatch", "production");

    ngx_http_ir_unit_str(&u->rec.org.env, "test production");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    ngx_http_ir_unit_str(&u->rec.org.env, "productions");
    ngx_http_ir_unit_denied(u, "env_mismatch", "production");

    u->rec.org.env.data = NULL;
    ngx_http_ir_unit_denied(u, "env_mismatch", "production");
    assert_string_equal(u->verdict.detail,
                        "organisation has no \"env\" field");

    /* a location with no environment takes any */
    u->policy.env.len = 0;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
}


static void
ngx_http_ir_unit_scopes(void **state)
{
    ngx_str_t            grant;
    ngx_http_ir_unit_t  *u = *state;

    ngx_http_ir_unit_list(u, u->policy.scopes, "person.address");
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);

    assert_int_equal(ngx_http_ir_grant(&u->rec, &grant, u->pool), NGX_OK);
    assert_int_equal(grant.len, sizeof("person.basic person.address") - 1);
    assert_memory_equal(grant.data, "person.basic person.address",
                        grant.len);

    /* the user's own field narrows the contract's grant */

    ngx_http_ir_unit_str(&u->rec.user.scopes, "PERSON.BASIC,person.family");
    ngx_http_ir_unit_denied(u, "scope_denied", "person.address");

    assert_int_equal(ngx_http_ir_grant(&u->rec, &grant, u->pool), NGX_OK);
    assert_int_equal(grant.len, sizeof("person.basic") - 1);
    assert_memory_equal(grant.data, "person.basic", grant.len);

    /* and never widens it */

    u->policy.scopes->nelts = 0;
    ngx_http_ir_unit_list(u, u->policy.scopes, "person.family");
    ngx_http_ir_unit_denied(u, "scope_denied", "person.family");

    ngx_http_ir_unit_str(&u->rec.user.scopes, "");
    u->policy.scopes->nelts = 0;
    ngx_http_ir_unit_list(u, u->policy.scopes, "person.basic");
    ngx_http_ir_unit_denied(u, "scope_denied", "person.basic");

    assert_int_equal(ngx_http_ir_grant(&u->rec, &grant, u->pool), NGX_OK);
    assert_int_equal(grant.len, 0);

    u->rec.user.scopes.data = NULL;
    u->rec.org.scopes.nelts = 0;
    ngx_http_ir_unit_denied(u, "scope_denied", "person.basic");

    u->policy.scopes = NULL;
    assert_int_equal(ngx_http_ir_unit_decide(u), NGX_HTTP_IR_ALLOW);
}


static void
ngx_http_ir_unit_lists(void **state)
{
    ngx_str_t  list, word;

    ngx_http_ir_unit_str(&list, " a,b\tcc ,, d");

    ngx_http_ir_unit_str(&word, "cc");
    assert_int_equal(ngx_http_ir_list_has(&list, &word), NGX_OK);

    ngx_http_ir_unit_str(&word, "D");
    assert_int_equal(ngx_http_ir_list_has(&list, &word), NGX_OK);

    ngx_http_ir_unit_str(&word, "c");
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
}


static void
ngx_http_ir_unit_reasons(void **state)
{
    ngx_str_t  *name;

    name = ngx_http_ir_reason_name(NGX_HTTP_IR_SCOPE_DENIED);
    assert_int_equal(name->len, sizeof("scope_denied") - 1);
    assert_memory_equal(name->data, "scope_denied", name->len);

    /* anything out of range fails closed */

    name = ngx_http_ir_reason_name(NGX_HTTP_IR_CHECK_PASSWORD);
    assert_int_equal(name->len, sizeof("store_unavailable") - 1);
    assert_memory_equal(name->data, "store_unavailable", name->len);
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

    ngx_str_null(&u->rec.user.password);
    ngx_http_ir_unit_str(&u->rec.user.scopes, "");

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
    assert_int_equal(copy.user.org.len, 4);
    assert_memory_equal(copy.user.org.data, "bank", 4);
    assert_memory_equal(copy.user.unit.data, "loans", 5);
    assert_memory_equal(copy.org.valid_to.data, "2026-12-31", 10);

    /* absent stays absent, empty stays empty */
    assert_null(copy.user.password.data);
    assert_non_null(copy.user.scopes.data);
    assert_int_equal(copy.user.scopes.len, 0);
    assert_null(copy.org.countries.data);

    assert_int_equal(copy.user.ips.nelts, 2);
    assert_int_equal(copy.user.pins.nelts, 1);
    assert_memory_equal(copy.user.pins.elts, u->digest,
                        NGX_HTTP_IR_DIGEST_LEN);
    assert_int_equal(copy.org.scopes.nelts, 2);

    /* the copy decides as the original does */

    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &copy,
                                        &u->verdict),
                     NGX_HTTP_IR_SCOPE_DENIED);

    ngx_str_null(&copy.user.scopes);
    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &copy,
                                        &u->verdict), NGX_HTTP_IR_ALLOW);

    assert_int_equal(ngx_http_ir_grant(&copy, &grant, u->pool), NGX_OK);
    assert_memory_equal(grant.data, "person.basic person.address",
                        grant.len);

    ngx_http_ir_unit_client(u, "2001:db9::1");
    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &copy,
                                        &u->verdict),
                     NGX_HTTP_IR_IP_NOT_ALLOWED);

    /* arrays in the copy may grow: they belong to the request's pool */
    assert_non_null(ngx_array_push(&copy.user.ips));
}


static void
ngx_http_ir_unit_record_empty(void **state)
{
    u_char                *block;
    size_t                 size;
    ngx_http_ir_unit_t    *u = *state;
    ngx_http_ir_record_t   rec, copy;

    /* a negative entry: an unknown user, nothing else */

    ngx_memzero(&rec, sizeof(ngx_http_ir_record_t));
    assert_int_equal(ngx_array_init(&rec.user.ips, u->pool, 1,
                                    sizeof(ngx_cidr_t)), NGX_OK);
    assert_int_equal(ngx_array_init(&rec.user.pins, u->pool, 1,
                                    NGX_HTTP_IR_DIGEST_LEN), NGX_OK);
    assert_int_equal(ngx_array_init(&rec.org.scopes, u->pool, 1,
                                    sizeof(ngx_str_t)), NGX_OK);

    size = ngx_http_ir_record_size(&rec);
    block = ngx_palloc(u->pool, size);
    assert_non_null(block);

    ngx_http_ir_record_pack(&rec, block);
    assert_int_equal(ngx_http_ir_record_unpack(block, size, &copy, u->pool),
                     NGX_OK);

    assert_false(copy.user.found);
    assert_null(copy.user.status.data);
    assert_int_equal(copy.user.ips.nelts, 0);

    assert_int_equal(ngx_http_ir_decide(&u->policy, &u->facts, &copy,
                                        &u->verdict),
                     NGX_HTTP_IR_UNKNOWN_USER);
}


#define ngx_http_ir_unit(f)                                                    \
    cmocka_unit_test_setup_teardown(f, ngx_http_ir_unit_setup,                 \
                                    ngx_http_ir_unit_teardown)


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        ngx_http_ir_unit(ngx_http_ir_unit_allowed),
        ngx_http_ir_unit(ngx_http_ir_unit_user),
        ngx_http_ir_unit(ngx_http_ir_unit_order),
        ngx_http_ir_unit(ngx_http_ir_unit_pins),
        ngx_http_ir_unit(ngx_http_ir_unit_addresses),
        ngx_http_ir_unit(ngx_http_ir_unit_countries),
        ngx_http_ir_unit(ngx_http_ir_unit_password),
        ngx_http_ir_unit(ngx_http_ir_unit_contract),
        cmocka_unit_test(ngx_http_ir_unit_dates),
        ngx_http_ir_unit(ngx_http_ir_unit_env),
        ngx_http_ir_unit(ngx_http_ir_unit_scopes),
        cmocka_unit_test(ngx_http_ir_unit_lists),
        cmocka_unit_test(ngx_http_ir_unit_reasons),
        ngx_http_ir_unit(ngx_http_ir_unit_record),
        ngx_http_ir_unit(ngx_http_ir_unit_record_empty),
    };

    ngx_pagesize = getpagesize();
    ngx_cacheline_size = NGX_CPU_CACHE_LINE;

    return cmocka_run_group_tests_name("ir-access units", tests, NULL, NULL);
}
