
/*
 * ir-access: a libFuzzer target for the pure code, run by "make fuzz".
 *
 * The input is a record as an admin's typos could leave it: lines for the
 * user's and the organisation's fields, allowlist entries and scopes,
 * and a first byte that picks the location's policy and the request's
 * facts.  Whatever the bytes, the decision must name a reason it knows,
 * a date it accepts must read back as written, and the record packed for
 * the cache and unpacked again must decide exactly as the original did.
 * AddressSanitizer and UndefinedBehaviorSanitizer watch every step.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_addr.h"
#include "ngx_http_ir_record.h"


#define NGX_HTTP_IR_FUZZ_FIELDS  11


typedef struct {
    ngx_http_ir_policy_t           policy;
    ngx_http_ir_facts_t            facts;
    struct sockaddr_in             sin;
    struct sockaddr_in6            sin6;
    u_char                         digest[NGX_HTTP_IR_DIGEST_LEN];
    ngx_str_t                      scope;
    ngx_str_t                      country;
    ngx_array_t                    scopes;
    ngx_array_t                    countries;
} ngx_http_ir_fuzz_request_t;


static void ngx_http_ir_fuzz_request(ngx_http_ir_fuzz_request_t *fr,
    u_char flags, ngx_pool_t *pool);
static void ngx_http_ir_fuzz_record(ngx_http_ir_record_t *rec, u_char *p,
    u_char *last, ngx_pool_t *pool);
static void ngx_http_ir_fuzz_date(ngx_str_t *text);
static void ngx_http_ir_fuzz_same(ngx_uint_t rc1, ngx_http_ir_verdict_t *v1,
    ngx_uint_t rc2, ngx_http_ir_verdict_t *v2);
static void ngx_http_ir_fuzz_fail(const char *what);


/* what nginx's core provides and a fuzz target has no cycle for */

volatile ngx_cycle_t  *ngx_cycle;


void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                      *input, *block;
    size_t                       len;
    ngx_str_t                    grant1, grant2, *name;
    ngx_log_t                    log;
    ngx_uint_t                   rc1, rc2;
    ngx_pool_t                  *pool;
    ngx_http_ir_record_t         rec, copy;
    ngx_http_ir_verdict_t        v1, v2;
    ngx_http_ir_fuzz_request_t   fr;

    if (size == 0) {
        return 0;
    }

    ngx_pagesize = getpagesize();
    ngx_cacheline_size = NGX_CPU_CACHE_LINE;

    ngx_memzero(&log, sizeof(ngx_log_t));

    pool = ngx_create_pool(1024, &log);
    if (pool == NULL) {
        ngx_http_ir_fuzz_fail("no pool");
    }

    /* the record's strings point into the input: a copy of exact size */

    input = ngx_palloc(pool, size);
    if (input == NULL) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    ngx_memcpy(input, data, size);

    ngx_http_ir_fuzz_request(&fr, input[0], pool);
    ngx_http_ir_fuzz_record(&rec, input + 1, input + size, pool);

    ngx_http_ir_fuzz_date(&rec.org.valid_from);
    ngx_http_ir_fuzz_date(&rec.org.valid_to);

    rc1 = ngx_http_ir_decide(&fr.policy, &fr.facts, &rec, &v1);

    if (rc1 != NGX_HTTP_IR_CHECK_PASSWORD) {
        if (rc1 >= NGX_HTTP_IR_REASONS || rc1 == NGX_HTTP_IR_STORE_UNAVAILABLE
            || v1.reason != rc1)
        {
            ngx_http_ir_fuzz_fail("a reason the decision does not know");
        }

        name = ngx_http_ir_reason_name(rc1);

        if ((rc1 == NGX_HTTP_IR_ALLOW) != (name->len == 0)
            || (rc1 != NGX_HTTP_IR_ALLOW && v1.detail == NULL))
        {
            ngx_http_ir_fuzz_fail("a denial without a name or a detail");
        }
    }

    /* packed for the cache, moved, and unpacked: the same decision */

    len = ngx_http_ir_record_size(&rec);

    block = malloc(len);
    if (block == NULL) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    ngx_http_ir_record_pack(&rec, block);

    if (ngx_http_ir_record_unpack(block, len, &copy, pool) != NGX_OK) {
        ngx_http_ir_fuzz_fail("unpack");
    }

    ngx_memset(block, 0xa5, len);
    free(block);

    rc2 = ngx_http_ir_decide(&fr.policy, &fr.facts, &copy, &v2);

    ngx_http_ir_fuzz_same(rc1, &v1, rc2, &v2);

    if (ngx_http_ir_grant(&rec, &grant1, pool) != NGX_OK
        || ngx_http_ir_grant(&copy, &grant2, pool) != NGX_OK
        || grant1.len != grant2.len
        || ngx_memcmp(grant1.data, grant2.data, grant1.len) != 0)
    {
        ngx_http_ir_fuzz_fail("the copy grants other scopes");
    }

    ngx_destroy_pool(pool);

    return 0;
}


/*
 * The first byte: bit 0 pins, bit 1 asks a password, bits 2-3 what the
 * password check found, bit 4 a GeoIP database, bit 5 a country list,
 * bit 6 an environment, bit 7 an IPv4-mapped IPv6 client.
 */

static void
ngx_http_ir_fuzz_request(ngx_http_ir_fuzz_request_t *fr, u_char flags,
    ngx_pool_t *pool)
{
    ngx_uint_t  i;

    ngx_memzero(fr, sizeof(ngx_http_ir_fuzz_request_t));

    for (i = 0; i < NGX_HTTP_IR_DIGEST_LEN; i++) {
        fr->digest[i] = (u_char) i;
    }

    fr->policy.cert_pin = flags & 0x01;
    fr->policy.password = (flags & 0x02) ? 1 : 0;
    fr->policy.geoip = (flags & 0x10) ? 1 : 0;

    if (flags & 0x40) {
        ngx_str_set(&fr->policy.env, "prod");
    }

    ngx_str_set(&fr->scope, "person.basic");
    ngx_str_set(&fr->country, "LV");

    fr->scopes.elts = &fr->scope;
    fr->scopes.nelts = 1;
    fr->scopes.size = sizeof(ngx_str_t);
    fr->scopes.nalloc = 1;
    fr->scopes.pool = pool;
    fr->policy.scopes = &fr->scopes;

    if (flags & 0x20) {
        fr->countries = fr->scopes;
        fr->countries.elts = &fr->country;
        fr->policy.countries = &fr->countries;
    }

    fr->facts.cert_digest = fr->digest;
    fr->facts.country = fr->country;
    fr->facts.today = 20261127;
    fr->facts.password = (flags >> 2) & 0x03;

    if (flags & 0x80) {
        fr->sin6.sin6_family = AF_INET6;
        (void) inet_pton(AF_INET6, "::ffff:10.1.2.3", &fr->sin6.sin6_addr);
        fr->facts.sockaddr = (struct sockaddr *) &fr->sin6;

    } else {
        fr->sin.sin_family = AF_INET;
        fr->sin.sin_addr.s_addr = htonl(0x0a010203);
        fr->facts.sockaddr = (struct sockaddr *) &fr->sin;
    }
}


/*
 * Lines: the user's status, cert, scopes and org; the organisation's
 * status, env, valid_from, valid_to, countries, name and contract; then
 * allowlist entries up to a line "--", then the contract's scopes.
 * A line that is a single "-" is a field the hash does not have.
 */

static void
ngx_http_ir_fuzz_record(ngx_http_ir_record_t *rec, u_char *p, u_char *last,
    ngx_pool_t *pool)
{
    u_char      *eol;
    ngx_str_t    line, *field, *scope;
    ngx_uint_t   n, ips;
    ngx_cidr_t  *cidr;

    ngx_str_t   *fields[NGX_HTTP_IR_FUZZ_FIELDS];

    ngx_memzero(rec, sizeof(ngx_http_ir_record_t));

    rec->user.found = 1;
    rec->org.found = 1;

    fields[0] = &rec->user.status;
    fields[1] = &rec->user.cert;
    fields[2] = &rec->user.scopes;
    fields[3] = &rec->user.org;
    fields[4] = &rec->org.status;
    fields[5] = &rec->org.env;
    fields[6] = &rec->org.valid_from;
    fields[7] = &rec->org.valid_to;
    fields[8] = &rec->org.countries;
    fields[9] = &rec->org.name;
    fields[10] = &rec->org.contract;

    if (ngx_array_init(&rec->user.ips, pool, 4, sizeof(ngx_cidr_t)) != NGX_OK
        || ngx_array_init(&rec->user.pins, pool, 2, NGX_HTTP_IR_DIGEST_LEN)
           != NGX_OK
        || ngx_array_init(&rec->org.scopes, pool, 4, sizeof(ngx_str_t))
           != NGX_OK)
    {
        ngx_http_ir_fuzz_fail("no memory");
    }

    n = 0;
    ips = 1;

    while (p < last) {
        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        line.data = p;
        line.len = eol - p;
        p = eol + 1;

        if (n < NGX_HTTP_IR_FUZZ_FIELDS) {
            field = fields[n++];

            if (line.len != 1 || line.data[0] != '-') {
                *field = line;
            }

            continue;
        }

        if (ips && line.len == 2 && line.data[0] == '-'
            && line.data[1] == '-')
        {
            ips = 0;
            continue;
        }

        if (ips) {
            cidr = ngx_array_push(&rec->user.ips);
            if (cidr == NULL) {
                ngx_http_ir_fuzz_fail("no memory");
            }

            if (ngx_http_ir_addr_parse(&line, cidr) == NGX_ERROR) {
                rec->user.ips.nelts--;
            }

            continue;
        }

        scope = ngx_array_push(&rec->org.scopes);
        if (scope == NULL) {
            ngx_http_ir_fuzz_fail("no memory");
        }

        *scope = line;
    }

    if (ngx_http_ir_parse_pins(&rec->user.cert, &rec->user.pins) != NGX_OK) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    /* an absent user field stands for an unknown user, as Redis has it */

    if (rec->user.status.data == NULL && rec->user.cert.data == NULL
        && rec->user.org.data == NULL)
    {
        rec->user.found = 0;
    }

    if (rec->user.org.data == NULL) {
        rec->org.found = 0;
    }
}


/*
 * A date is checked against the C library: what parses must read back as
 * written and be a day of the calendar, and every "YYYY-MM-DD" from 1900
 * that is a day of the calendar must parse.
 */

static void
ngx_http_ir_fuzz_date(ngx_str_t *text)
{
    u_char      *p, buf[16];
    time_t       t;
    struct tm    tm;
    ngx_int_t    rc;
    ngx_uint_t   i, date, year, month, day, calendar;

    if (text->data == NULL) {
        return;
    }

    rc = ngx_http_ir_parse_date(text, &date);

    p = text->data;

    if (text->len != 10 || p[4] != '-' || p[7] != '-') {
        if (rc == NGX_OK) {
            ngx_http_ir_fuzz_fail("a date that is not YYYY-MM-DD");
        }

        return;
    }

    for (i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (p[i] < '0' || p[i] > '9')) {
            if (rc == NGX_OK) {
                ngx_http_ir_fuzz_fail("a date with other than digits");
            }

            return;
        }
    }

    year = ngx_atoi(p, 4);
    month = ngx_atoi(p + 5, 2);
    day = ngx_atoi(p + 8, 2);

    ngx_memzero(&tm, sizeof(struct tm));
    tm.tm_year = (int) year - 1900;
    tm.tm_mon = (int) month - 1;
    tm.tm_mday = (int) day;
    tm.tm_hour = 12;

    t = timegm(&tm);

    calendar = (t != (time_t) -1 && tm.tm_year == (int) year - 1900
                && tm.tm_mon == (int) month - 1 && tm.tm_mday == (int) day
                && year >= 1900 && month >= 1);

    if (calendar != (rc == NGX_OK)) {
        ngx_http_ir_fuzz_fail(calendar ? "a day of the calendar refused"
                                       : "a day not of the calendar taken");
    }

    if (rc != NGX_OK) {
        return;
    }

    ngx_sprintf(buf, "%04ui-%02ui-%02ui",
                date / 10000, date / 100 % 100, date % 100);

    if (ngx_memcmp(buf, text->data, 10) != 0) {
        ngx_http_ir_fuzz_fail("a date that reads back otherwise");
    }
}


static void
ngx_http_ir_fuzz_same(ngx_uint_t rc1, ngx_http_ir_verdict_t *v1,
    ngx_uint_t rc2, ngx_http_ir_verdict_t *v2)
{
    if (rc1 != rc2) {
        ngx_http_ir_fuzz_fail("the unpacked record decides otherwise");
    }

    if (rc1 == NGX_HTTP_IR_CHECK_PASSWORD) {
        return;
    }

    if (v1->detail != v2->detail
        || v1->subject.len != v2->subject.len
        || (v1->subject.data == NULL) != (v2->subject.data == NULL)
        || (v1->subject.len
            && ngx_memcmp(v1->subject.data, v2->subject.data,
                          v1->subject.len)
               != 0))
    {
        ngx_http_ir_fuzz_fail("the unpacked record logs otherwise");
    }
}


static void
ngx_http_ir_fuzz_fail(const char *what)
{
    fprintf(stderr, "ir-access fuzz: %s\n", what);
    abort();
}
