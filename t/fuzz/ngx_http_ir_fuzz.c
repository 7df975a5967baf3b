
/*
 * ir-access: what the libFuzzer targets under t/fuzz/ share.
 *
 * nginx's core runs without a cycle: a fixed clock, and a logger that
 * formats every line as nginx would and fails the target on a raw
 * control character in it, since a log line must never carry one.
 *
 * A reply tree is read from the input one node a line, as RESP would
 * send it but without lengths, so that the seeds can be read and the
 * mutations keep their shape:
 *
 *     *N          an array of the N nodes that follow
 *     $text       a bulk string
 *     +text       a status
 *     -text       an error
 *     :N          an integer
 *     _           nil
 *     %N text     a bulk string of N bytes, text repeated
 *
 * and any other line is a bulk string of the whole line.  Arrays are
 * nested at most NGX_HTTP_IR_FUZZ_DEPTH deep (a deeper one is nil) and
 * hold at most NGX_HTTP_IR_FUZZ_ELEMENTS; elements that the input runs
 * out before are nil.  Strings end in a NUL that the length does not
 * count, as hiredis's do.
 *
 * A record is packed, the block copied to memory of its exact size and
 * the original clobbered, unpacked, and compared field by field with the
 * original; both must decide alike.  The decision itself must hold what
 * makes it safe: whatever is allowed has passed every step.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_addr.h"
#include "ngx_http_ir_fuzz.h"


typedef struct {
    ngx_http_ir_policy_t           policy;
    ngx_http_ir_facts_t            facts;
    struct sockaddr_in             sin;
    struct sockaddr_in6            sin6;
    u_char                         digest[NGX_HTTP_IR_DIGEST_LEN];
    ngx_str_t                      scopes[2];
    ngx_str_t                      countries[1];
    ngx_str_t                      country;
    ngx_array_t                    scope_list;
    ngx_array_t                    country_list;
} ngx_http_ir_fuzz_request_t;


static redisReply *ngx_http_ir_fuzz_node(u_char **pos, u_char *last,
    ngx_uint_t depth, ngx_uint_t *nodes, ngx_pool_t *pool);
static redisReply *ngx_http_ir_fuzz_string(int type, u_char *p, size_t len,
    ngx_pool_t *pool);
static void ngx_http_ir_fuzz_request(ngx_http_ir_fuzz_request_t *fr,
    ngx_uint_t flags);
static void ngx_http_ir_fuzz_allowed(ngx_http_ir_fuzz_request_t *fr,
    ngx_http_ir_record_t *rec);
static void ngx_http_ir_fuzz_same(ngx_http_ir_record_t *a,
    ngx_http_ir_record_t *b);
static void ngx_http_ir_fuzz_same_str(ngx_str_t *a, ngx_str_t *b,
    const char *what);
static ngx_int_t ngx_http_ir_fuzz_is(ngx_str_t *s, char *text);
static void ngx_http_ir_fuzz_quota(ngx_str_t *text, ngx_uint_t limit);


/* what nginx's core provides and a fuzz target has no cycle for */

volatile ngx_cycle_t  *ngx_cycle;
volatile ngx_time_t   *ngx_cached_time;

static ngx_time_t  ngx_http_ir_fuzz_now = { 1795766400, 0, 0 };
static ngx_log_t   ngx_http_ir_fuzz_log;

/* what identity.c takes of nginx's SSL module, for a connection's peer */

ngx_module_t  ngx_http_ssl_module;


void
ngx_ssl_error(ngx_uint_t level, ngx_log_t *log, ngx_err_t err, char *fmt,
    ...)
{
}


/* the strings of a record, all of which a round trip must keep */

static ngx_uint_t  ngx_http_ir_fuzz_strings[] = {
    offsetof(ngx_http_ir_record_t, user.bad),
    offsetof(ngx_http_ir_record_t, user.org),
    offsetof(ngx_http_ir_record_t, user.status),
    offsetof(ngx_http_ir_record_t, user.cert),
    offsetof(ngx_http_ir_record_t, user.password),
    offsetof(ngx_http_ir_record_t, user.unit),
    offsetof(ngx_http_ir_record_t, user.scopes),
    offsetof(ngx_http_ir_record_t, user.rate),
    offsetof(ngx_http_ir_record_t, user.daily),
    offsetof(ngx_http_ir_record_t, user.ips_invalid),
    offsetof(ngx_http_ir_record_t, user.pin_invalid),
    offsetof(ngx_http_ir_record_t, org.bad),
    offsetof(ngx_http_ir_record_t, org.status),
    offsetof(ngx_http_ir_record_t, org.name),
    offsetof(ngx_http_ir_record_t, org.contract),
    offsetof(ngx_http_ir_record_t, org.env),
    offsetof(ngx_http_ir_record_t, org.valid_from),
    offsetof(ngx_http_ir_record_t, org.valid_to),
    offsetof(ngx_http_ir_record_t, org.countries),
    offsetof(ngx_http_ir_record_t, org.rate),
    offsetof(ngx_http_ir_record_t, org.daily)
};


void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;
    u_char    line[NGX_MAX_ERROR_STR];

    va_start(args, fmt);
    last = ngx_vslprintf(line, line + sizeof(line), fmt, args);
    va_end(args);

    for (p = line; p < last; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            fprintf(stderr, "%.*s\n", (int) (last - line), line);
            ngx_http_ir_fuzz_fail("a log line with a raw control character");
        }
    }
}


ngx_pool_t *
ngx_http_ir_fuzz_init(void)
{
    ngx_pool_t  *pool;

    ngx_pagesize = getpagesize();
    ngx_cacheline_size = NGX_CPU_CACHE_LINE;
    ngx_cached_time = &ngx_http_ir_fuzz_now;

    ngx_http_ir_fuzz_log.log_level = NGX_LOG_INFO;

    pool = ngx_create_pool(4096, &ngx_http_ir_fuzz_log);
    if (pool == NULL) {
        ngx_http_ir_fuzz_fail("no pool");
    }

    return pool;
}


void
ngx_http_ir_fuzz_fail(const char *what)
{
    fprintf(stderr, "ir-access fuzz: %s\n", what);
    abort();
}


/* a value that reaches headers, variables or logs */

void
ngx_http_ir_fuzz_clean(ngx_str_t *s, size_t max, const char *what)
{
    u_char  *p, *last;

    if (s->data == NULL) {
        return;
    }

    if (s->len > max) {
        fprintf(stderr, "%s: %zu bytes\n", what, s->len);
        ngx_http_ir_fuzz_fail("a value over its limit");
    }

    last = s->data + s->len;

    for (p = s->data; p < last; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            fprintf(stderr, "%s\n", what);
            ngx_http_ir_fuzz_fail("a value with a control character");
        }
    }
}


/* the reply tree ---------------------------------------------------------- */

redisReply *
ngx_http_ir_fuzz_reply(u_char **pos, u_char *last, ngx_pool_t *pool)
{
    ngx_uint_t  nodes;

    nodes = 0;

    return ngx_http_ir_fuzz_node(pos, last, 0, &nodes, pool);
}


static redisReply *
ngx_http_ir_fuzz_node(u_char **pos, u_char *last, ngx_uint_t depth,
    ngx_uint_t *nodes, ngx_pool_t *pool)
{
    u_char      *p, *eol, *text, *s;
    size_t       len, n;
    ngx_int_t    sign;
    ngx_uint_t   i;
    redisReply  *r;

    p = *pos;

    if (p >= last || ++*nodes > NGX_HTTP_IR_FUZZ_NODES) {
        return ngx_http_ir_fuzz_string(REDIS_REPLY_NIL, NULL, 0, pool);
    }

    eol = ngx_strlchr(p, last, '\n');
    if (eol == NULL) {
        eol = last;
    }

    *pos = (eol < last) ? eol + 1 : last;

    len = eol - p;

    if (len == 0) {
        return ngx_http_ir_fuzz_string(REDIS_REPLY_STRING, p, 0, pool);
    }

    switch (p[0]) {

    case '$':
        return ngx_http_ir_fuzz_string(REDIS_REPLY_STRING, p + 1, len - 1,
                                       pool);

    case '+':
        return ngx_http_ir_fuzz_string(REDIS_REPLY_STATUS, p + 1, len - 1,
                                       pool);

    case '-':
        return ngx_http_ir_fuzz_string(REDIS_REPLY_ERROR, p + 1, len - 1,
                                       pool);

    case '_':
        return ngx_http_ir_fuzz_string(REDIS_REPLY_NIL, NULL, 0, pool);

    case ':':
        r = ngx_http_ir_fuzz_string(REDIS_REPLY_INTEGER, NULL, 0, pool);

        sign = 1;
        p++;

        if (p < eol && *p == '-') {
            sign = -1;
            p++;
        }

        for ( /* void */ ; p < eol && *p >= '0' && *p <= '9'; p++) {
            if (r->integer > (LLONG_MAX - 9) / 10) {
                r->integer = LLONG_MAX;
                break;
            }

            r->integer = r->integer * 10 + (*p - '0');
        }

        r->integer *= sign;

        return r;

    case '%':
        for (n = 0, p++; p < eol && *p >= '0' && *p <= '9'; p++) {
            n = ngx_min(n * 10 + (*p - '0'), NGX_HTTP_IR_FUZZ_REPEAT);
        }

        if (p < eol && *p == ' ') {
            p++;
        }

        text = p;

        r = ngx_http_ir_fuzz_string(REDIS_REPLY_STRING, NULL, 0, pool);

        r->str = ngx_pnalloc(pool, n + 1);
        if (r->str == NULL) {
            ngx_http_ir_fuzz_fail("no memory");
        }

        /* the text, then what is filled doubled, until n bytes */

        s = (u_char *) r->str;
        len = ngx_min((size_t) (eol - text), n);

        if (len == 0) {
            ngx_memset(s, 'a', n);
            len = n;

        } else {
            ngx_memcpy(s, text, len);
        }

        while (len < n) {
            i = ngx_min(len, n - len);
            ngx_memcpy(s + len, s, i);
            len += i;
        }

        s[n] = '\0';
        r->len = n;

        return r;

    case '*':
        if (depth == NGX_HTTP_IR_FUZZ_DEPTH) {
            return ngx_http_ir_fuzz_string(REDIS_REPLY_NIL, NULL, 0, pool);
        }

        for (n = 0, p++; p < eol && *p >= '0' && *p <= '9'; p++) {
            n = ngx_min(n * 10 + (*p - '0'), NGX_HTTP_IR_FUZZ_ELEMENTS);
        }

        r = ngx_http_ir_fuzz_string(REDIS_REPLY_ARRAY, NULL, 0, pool);

        r->elements = n;
        r->element = ngx_palloc(pool, (n + 1) * sizeof(redisReply *));
        if (r->element == NULL) {
            ngx_http_ir_fuzz_fail("no memory");
        }

        for (i = 0; i < n; i++) {
            r->element[i] = ngx_http_ir_fuzz_node(pos, last, depth + 1,
                                                  nodes, pool);
        }

        return r;

    default:
        return ngx_http_ir_fuzz_string(REDIS_REPLY_STRING, p, len, pool);
    }
}


static redisReply *
ngx_http_ir_fuzz_string(int type, u_char *p, size_t len, ngx_pool_t *pool)
{
    redisReply  *r;

    r = ngx_pcalloc(pool, sizeof(redisReply));
    if (r == NULL) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    r->type = type;

    if (type == REDIS_REPLY_STRING || type == REDIS_REPLY_STATUS
        || type == REDIS_REPLY_ERROR)
    {
        r->str = ngx_pnalloc(pool, len + 1);
        if (r->str == NULL) {
            ngx_http_ir_fuzz_fail("no memory");
        }

        if (len) {
            ngx_memcpy(r->str, p, len);
        }

        r->str[len] = '\0';
        r->len = len;
    }

    return r;
}


/* the record ------------------------------------------------------------- */

/*
 * What a record read from outside holds, whatever it was: a reason for
 * each part that is bad, and in a part that is not, values that can go
 * into a header, a variable or a log line as they are.
 */

void
ngx_http_ir_fuzz_check(ngx_http_ir_record_t *rec)
{
    ngx_str_t           *scope;
    ngx_uint_t           i;
    ngx_http_ir_org_t   *org;
    ngx_http_ir_user_t  *user;

    user = &rec->user;
    org = &rec->org;

    ngx_http_ir_fuzz_clean(&user->bad, NGX_MAX_ERROR_STR, "user's bad");
    ngx_http_ir_fuzz_clean(&org->bad, NGX_MAX_ERROR_STR, "org's bad");
    ngx_http_ir_fuzz_clean(&user->ips_invalid, NGX_HTTP_IR_FUZZ_NOTES,
                           "ips_invalid");
    ngx_http_ir_fuzz_clean(&user->pin_invalid, NGX_HTTP_IR_VALUE_MAX,
                           "pin_invalid");

    if ((user->bad.data || org->found) && !user->found) {
        ngx_http_ir_fuzz_fail("a part found of a user not found");
    }

    if (user->found && user->bad.data == NULL) {
        ngx_http_ir_fuzz_clean(&user->org, NGX_HTTP_IR_NAME_MAX, "org");
        ngx_http_ir_fuzz_clean(&user->status, NGX_HTTP_IR_VALUE_MAX,
                               "status");
        ngx_http_ir_fuzz_clean(&user->cert, NGX_HTTP_IR_VALUE_MAX, "cert");
        ngx_http_ir_fuzz_clean(&user->password, NGX_HTTP_IR_VALUE_MAX,
                               "password");
        ngx_http_ir_fuzz_clean(&user->unit, NGX_HTTP_IR_VALUE_MAX, "unit");
        ngx_http_ir_fuzz_clean(&user->scopes, NGX_HTTP_IR_VALUE_MAX,
                               "scopes");
        ngx_http_ir_fuzz_quota(&user->rate, user->rate_limit);
        ngx_http_ir_fuzz_quota(&user->daily, user->daily_limit);

        if (user->org.data && ngx_http_ir_name_valid(&user->org) != NGX_OK) {
            ngx_http_ir_fuzz_fail("a usable record of an org with no name");
        }

        if (user->hash != (user->password.data
                           ? ngx_http_ir_hash_kind(&user->password)
                           : NGX_HTTP_IR_HASH_NONE))
        {
            ngx_http_ir_fuzz_fail("a hash of another kind");
        }
    }

    if (org->found && org->bad.data == NULL) {
        ngx_http_ir_fuzz_clean(&org->status, NGX_HTTP_IR_VALUE_MAX,
                               "org's status");
        ngx_http_ir_fuzz_clean(&org->name, NGX_HTTP_IR_VALUE_MAX, "name");
        ngx_http_ir_fuzz_clean(&org->contract, NGX_HTTP_IR_VALUE_MAX,
                               "contract");
        ngx_http_ir_fuzz_clean(&org->env, NGX_HTTP_IR_VALUE_MAX, "env");
        ngx_http_ir_fuzz_clean(&org->valid_from, NGX_HTTP_IR_VALUE_MAX,
                               "valid_from");
        ngx_http_ir_fuzz_clean(&org->valid_to, NGX_HTTP_IR_VALUE_MAX,
                               "valid_to");
        ngx_http_ir_fuzz_clean(&org->countries, NGX_HTTP_IR_VALUE_MAX,
                               "countries");
        ngx_http_ir_fuzz_quota(&org->rate, org->rate_limit);
        ngx_http_ir_fuzz_quota(&org->daily, org->daily_limit);
    }

    scope = org->scopes.elts;

    for (i = 0; i < org->scopes.nelts; i++) {
        if (scope[i].len == 0) {
            ngx_http_ir_fuzz_fail("an empty scope");
        }

        ngx_http_ir_fuzz_clean(&scope[i], NGX_HTTP_IR_VALUE_MAX, "a scope");
    }

    scope = org->purposes.elts;

    for (i = 0; i < org->purposes.nelts; i++) {
        if (scope[i].len == 0) {
            ngx_http_ir_fuzz_fail("an empty purpose");
        }

        ngx_http_ir_fuzz_clean(&scope[i], NGX_HTTP_IR_VALUE_MAX, "a purpose");
    }
}


/* the record's round trip ------------------------------------------------- */

/*
 * Packed as the cache and a lookup's waiters get it.  Unpack trusts its
 * block, which only pack writes: the cache is shared memory that only
 * the module's workers write, and a flight's block is the lookup's own;
 * so only blocks that pack wrote are unpacked here, never input bytes.
 */

void
ngx_http_ir_fuzz_round_trip(ngx_http_ir_record_t *rec, ngx_pool_t *pool)
{
    u_char                 *block, *moved;
    size_t                  size;
    ngx_str_t               grant1, grant2;
    ngx_uint_t              i, rc1, rc2;
    ngx_http_ir_record_t    copy;
    ngx_http_ir_verdict_t   v1, v2;

    static ngx_uint_t  locations[] = {
        0x000, 0x003, 0x00f, 0x0e3, 0x1a3, 0x2c7, 0x4b3, 0x5ff, 0x6ab,
        0x7fb, 0x8e3, 0xf0f, 0xfff, 0x100f, 0x300f, 0x1fff
    };

    size = ngx_http_ir_record_size(rec);

    block = malloc(size);
    moved = malloc(size);
    if (block == NULL || moved == NULL) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    ngx_http_ir_record_pack(rec, block);

    ngx_memcpy(moved, block, size);
    ngx_memset(block, 0xa5, size);
    free(block);

    if (ngx_http_ir_record_unpack(moved, size, &copy, pool) != NGX_OK) {
        ngx_http_ir_fuzz_fail("unpack refused what pack wrote");
    }

    /* the copy stands alone: nothing of it is left in the block */

    ngx_memset(moved, 0x5a, size);
    free(moved);

    ngx_http_ir_fuzz_same(rec, &copy);

    /* grants the same scopes, for $ir_access_scopes and a header */

    if (ngx_http_ir_grant(rec, &grant1, pool) != NGX_OK
        || ngx_http_ir_grant(&copy, &grant2, pool) != NGX_OK)
    {
        ngx_http_ir_fuzz_fail("no grant");
    }

    ngx_http_ir_fuzz_same_str(&grant1, &grant2, "the grant");
    ngx_http_ir_fuzz_clean(&grant1, (size_t) -1, "the grant");

    /* and decides as the original, for every kind of location */

    for (i = 0; i < sizeof(locations) / sizeof(locations[0]); i++) {
        rc1 = ngx_http_ir_fuzz_decide(rec, locations[i], &v1);
        rc2 = ngx_http_ir_fuzz_decide(&copy, locations[i], &v2);

        if (rc1 != rc2 || v1.detail != v2.detail || v1.hint != v2.hint) {
            ngx_http_ir_fuzz_fail("the copy decides otherwise");
        }

        ngx_http_ir_fuzz_same_str(&v1.subject, &v2.subject, "a subject");
    }
}


static void
ngx_http_ir_fuzz_same(ngx_http_ir_record_t *a, ngx_http_ir_record_t *b)
{
    ngx_str_t   *sa, *sb;
    ngx_uint_t   i, n;

    if (a->user.found != b->user.found || a->org.found != b->org.found
        || a->user.hash != b->user.hash || a->user.fails != b->user.fails
        || a->org.from != b->org.from || a->org.to != b->org.to
        || a->user.rate_limit != b->user.rate_limit
        || a->user.daily_limit != b->user.daily_limit
        || a->org.rate_limit != b->org.rate_limit
        || a->org.daily_limit != b->org.daily_limit)
    {
        ngx_http_ir_fuzz_fail("the copy's flags or numbers differ");
    }

    n = sizeof(ngx_http_ir_fuzz_strings) / sizeof(ngx_uint_t);

    for (i = 0; i < n; i++) {
        ngx_http_ir_fuzz_same_str(
            (ngx_str_t *) ((u_char *) a + ngx_http_ir_fuzz_strings[i]),
            (ngx_str_t *) ((u_char *) b + ngx_http_ir_fuzz_strings[i]),
            "a string");
    }

    if (a->user.ips.nelts != b->user.ips.nelts
        || (a->user.ips.nelts
            && ngx_memcmp(a->user.ips.elts, b->user.ips.elts,
                          a->user.ips.nelts * sizeof(ngx_cidr_t))
               != 0))
    {
        ngx_http_ir_fuzz_fail("the copy's allowlist differs");
    }

    if (a->user.pins.nelts != b->user.pins.nelts
        || (a->user.pins.nelts
            && ngx_memcmp(a->user.pins.elts, b->user.pins.elts,
                          a->user.pins.nelts * NGX_HTTP_IR_DIGEST_LEN)
               != 0))
    {
        ngx_http_ir_fuzz_fail("the copy's pins differ");
    }

    if (a->org.scopes.nelts != b->org.scopes.nelts
        || a->org.purposes.nelts != b->org.purposes.nelts)
    {
        ngx_http_ir_fuzz_fail("the copy's scopes or purposes differ");
    }

    sa = a->org.scopes.elts;
    sb = b->org.scopes.elts;

    for (i = 0; i < a->org.scopes.nelts; i++) {
        ngx_http_ir_fuzz_same_str(&sa[i], &sb[i], "a scope");
    }

    sa = a->org.purposes.elts;
    sb = b->org.purposes.elts;

    for (i = 0; i < a->org.purposes.nelts; i++) {
        ngx_http_ir_fuzz_same_str(&sa[i], &sb[i], "a purpose");
    }
}


static void
ngx_http_ir_fuzz_same_str(ngx_str_t *a, ngx_str_t *b, const char *what)
{
    if ((a->data == NULL) != (b->data == NULL)
        || a->len != b->len
        || (a->len && ngx_memcmp(a->data, b->data, a->len) != 0))
    {
        fprintf(stderr, "%s differs\n", what);
        ngx_http_ir_fuzz_fail("the copy's strings differ");
    }
}


/* the decision ------------------------------------------------------------ */

/*
 * Whatever the record, the decision names a reason it knows, with a
 * detail for the log where it denies, and what it allows has passed
 * every step, checked here again without the decision's own code.
 */

ngx_uint_t
ngx_http_ir_fuzz_decide(ngx_http_ir_record_t *rec, ngx_uint_t flags,
    ngx_http_ir_verdict_t *v)
{
    ngx_str_t                   *name;
    ngx_uint_t                   rc;
    ngx_http_ir_fuzz_request_t   fr;

    ngx_http_ir_fuzz_request(&fr, flags);

    rc = ngx_http_ir_decide(&fr.policy, &fr.facts, rec, v);

    if (rc >= NGX_HTTP_IR_REASONS || v->reason != rc
        || rc == NGX_HTTP_IR_CERT_REQUIRED || rc == NGX_HTTP_IR_BAD_IDENTITY
        || (rc == NGX_HTTP_IR_STORE_UNAVAILABLE
            && fr.facts.login != NGX_HTTP_IR_LOGIN_FAILED))
    {
        ngx_http_ir_fuzz_fail("a reason the decision cannot have");
    }

    name = ngx_http_ir_reason_name(rc);

    if ((rc == NGX_HTTP_IR_ALLOW) != (name->len == 0)
        || (rc != NGX_HTTP_IR_ALLOW && v->detail == NULL))
    {
        ngx_http_ir_fuzz_fail("a denial without a name or a detail");
    }

    /* a value of the record, at most, escaped and cut when logged */

    ngx_http_ir_fuzz_clean(&v->subject,
                           ngx_max(NGX_HTTP_IR_VALUE_MAX, NGX_MAX_ERROR_STR),
                           "the denial's subject");

    if (rc == NGX_HTTP_IR_ALLOW) {
        ngx_http_ir_fuzz_allowed(&fr, rec);
    }

    return rc;
}


/*
 * flags: bit 0 pins, bit 1 asks a password, bits 2-4 what the login
 * found, bit 5 a GeoIP database, bit 6 a country list, bit 7 an
 * environment, bit 8 a mapped IPv4 client, bit 9 an IPv6 one, bit 10 a
 * second scope, bit 11 a country that is not known, bit 12 a purpose
 * required, bit 13 none stated.
 */

static void
ngx_http_ir_fuzz_request(ngx_http_ir_fuzz_request_t *fr, ngx_uint_t flags)
{
    ngx_uint_t  i;

    ngx_memzero(fr, sizeof(ngx_http_ir_fuzz_request_t));

    for (i = 0; i < NGX_HTTP_IR_DIGEST_LEN; i++) {
        fr->digest[i] = (u_char) i;
    }

    fr->policy.cert_pin = (flags & 0x001) ? 1 : 0;
    fr->policy.password = (flags & 0x002) ? 1 : 0;
    fr->facts.login = (flags >> 2) & 0x07;
    fr->policy.geoip = (flags & 0x020) ? 1 : 0;

    ngx_str_set(&fr->scopes[0], "person.basic");
    ngx_str_set(&fr->scopes[1], "person.address");

    fr->scope_list.elts = fr->scopes;
    fr->scope_list.nelts = (flags & 0x400) ? 2 : 1;
    fr->scope_list.size = sizeof(ngx_str_t);
    fr->scope_list.nalloc = 2;
    fr->policy.scopes = &fr->scope_list;

    if (flags & 0x800) {
        ngx_str_set(&fr->country, "");

    } else {
        ngx_str_set(&fr->country, "LV");
    }

    if (flags & 0x040) {
        ngx_str_set(&fr->countries[0], "LV");

        fr->country_list = fr->scope_list;
        fr->country_list.elts = fr->countries;
        fr->country_list.nelts = 1;
        fr->policy.countries = &fr->country_list;
    }

    if (flags & 0x080) {
        ngx_str_set(&fr->policy.env, "prod");
    }

    fr->policy.purpose = (flags & 0x1000) ? 1 : 0;

    if (!(flags & 0x2000)) {
        ngx_str_set(&fr->facts.purpose, "benefits");
    }

    fr->facts.cert_digest = fr->digest;
    fr->facts.country = fr->country;
    fr->facts.today = 20261127;

    if (flags & 0x100) {
        fr->sin6.sin6_family = AF_INET6;
        (void) inet_pton(AF_INET6, "::ffff:10.1.2.3", &fr->sin6.sin6_addr);
        fr->facts.sockaddr = (struct sockaddr *) &fr->sin6;

    } else if (flags & 0x200) {
        fr->sin6.sin6_family = AF_INET6;
        (void) inet_pton(AF_INET6, "2001:db8::1", &fr->sin6.sin6_addr);
        fr->facts.sockaddr = (struct sockaddr *) &fr->sin6;

    } else {
        fr->sin.sin_family = AF_INET;
        fr->sin.sin_addr.s_addr = htonl(0x0a010203);
        fr->facts.sockaddr = (struct sockaddr *) &fr->sin;
    }
}


/* everything that must hold of a record the decision allowed */

static void
ngx_http_ir_fuzz_allowed(ngx_http_ir_fuzz_request_t *fr,
    ngx_http_ir_record_t *rec)
{
    u_char                *pin, *a, *m, *c;
    in_addr_t              addr;
    ngx_str_t             *scope;
    ngx_uint_t             i, j, found;
    ngx_cidr_t            *cidr;
    ngx_http_ir_org_t     *org;
    ngx_http_ir_user_t    *user;
    struct sockaddr_in6   *sin6;

    user = &rec->user;
    org = &rec->org;

    if (!user->found || user->bad.data || !org->found || org->bad.data) {
        ngx_http_ir_fuzz_fail("allowed without a usable record");
    }

    if ((user->status.data && !ngx_http_ir_fuzz_is(&user->status, "active"))
        || (org->status.data && !ngx_http_ir_fuzz_is(&org->status, "active")))
    {
        ngx_http_ir_fuzz_fail("allowed while not active");
    }

    ngx_http_ir_fuzz_clean(&user->org, NGX_HTTP_IR_NAME_MAX, "org");
    ngx_http_ir_fuzz_clean(&user->status, NGX_HTTP_IR_VALUE_MAX, "status");
    ngx_http_ir_fuzz_clean(&user->cert, NGX_HTTP_IR_VALUE_MAX, "cert");
    ngx_http_ir_fuzz_clean(&user->password, NGX_HTTP_IR_VALUE_MAX,
                           "password");
    ngx_http_ir_fuzz_clean(&user->unit, NGX_HTTP_IR_VALUE_MAX, "unit");
    ngx_http_ir_fuzz_clean(&user->scopes, NGX_HTTP_IR_VALUE_MAX, "scopes");
    ngx_http_ir_fuzz_clean(&org->name, NGX_HTTP_IR_VALUE_MAX, "name");
    ngx_http_ir_fuzz_clean(&org->contract, NGX_HTTP_IR_VALUE_MAX,
                           "contract");
    ngx_http_ir_fuzz_clean(&org->env, NGX_HTTP_IR_VALUE_MAX, "env");
    ngx_http_ir_fuzz_clean(&org->countries, NGX_HTTP_IR_VALUE_MAX,
                           "countries");

    if (user->org.data == NULL || ngx_http_ir_name_valid(&user->org) != NGX_OK)
    {
        ngx_http_ir_fuzz_fail("allowed without an organisation's name");
    }

    /* the certificate */

    if (fr->policy.cert_pin) {
        pin = user->pins.elts;

        for (i = 0; i < user->pins.nelts; i++) {
            if (ngx_memcmp(pin + i * NGX_HTTP_IR_DIGEST_LEN, fr->digest,
                           NGX_HTTP_IR_DIGEST_LEN)
                == 0)
            {
                break;
            }
        }

        if (i == user->pins.nelts) {
            ngx_http_ir_fuzz_fail("allowed with a certificate not pinned");
        }
    }

    /* the address, matched byte by byte, mapped clients as IPv4 */

    sin6 = &fr->sin6;
    cidr = user->ips.elts;
    found = 0;

    for (i = 0; i < user->ips.nelts && !found; i++) {

        if (fr->facts.sockaddr == (struct sockaddr *) &fr->sin
            || IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
        {
            addr = (fr->facts.sockaddr == (struct sockaddr *) &fr->sin)
                   ? fr->sin.sin_addr.s_addr
                   : *(in_addr_t *) &sin6->sin6_addr.s6_addr[12];

            found = (cidr[i].family == AF_INET
                     && (addr & cidr[i].u.in.mask) == cidr[i].u.in.addr);
            continue;
        }

        if (cidr[i].family != AF_INET6) {
            continue;
        }

        a = cidr[i].u.in6.addr.s6_addr;
        m = cidr[i].u.in6.mask.s6_addr;
        c = sin6->sin6_addr.s6_addr;

        for (j = 0; j < 16; j++) {
            if ((c[j] & m[j]) != a[j]) {
                break;
            }
        }

        found = (j == 16);
    }

    if (!found) {
        ngx_http_ir_fuzz_fail("allowed from an address not on the list");
    }

    /* the country */

    if (fr->policy.countries && fr->facts.country.len == 0) {
        ngx_http_ir_fuzz_fail("allowed from an unknown country");
    }

    if (fr->policy.geoip && org->countries.data
        && ngx_http_ir_list_has(&org->countries, &fr->facts.country)
           != NGX_OK)
    {
        ngx_http_ir_fuzz_fail("allowed from a country not the org's");
    }

    /* the password */

    if (fr->policy.password && fr->facts.login != NGX_HTTP_IR_LOGIN_GOOD) {
        ngx_http_ir_fuzz_fail("allowed without a good password");
    }

    /* the contract */

    if (org->from == NGX_HTTP_IR_DATE_INVALID
        || org->to == NGX_HTTP_IR_DATE_INVALID
        || (org->valid_from.data && org->from == 0)
        || (org->valid_to.data && org->to == 0)
        || (org->from && org->from > fr->facts.today)
        || (org->to && org->to < fr->facts.today))
    {
        ngx_http_ir_fuzz_fail("allowed outside the contract");
    }

    if (fr->policy.env.len
        && ngx_http_ir_list_has(&org->env, &fr->policy.env) != NGX_OK)
    {
        ngx_http_ir_fuzz_fail("allowed in another environment");
    }

    scope = fr->policy.scopes->elts;

    for (i = 0; i < fr->policy.scopes->nelts; i++) {
        if (ngx_http_ir_list_find(&org->scopes, &scope[i]) != NGX_OK
            || (user->scopes.data
                && ngx_http_ir_list_has(&user->scopes, &scope[i]) != NGX_OK))
        {
            ngx_http_ir_fuzz_fail("allowed a scope not granted");
        }
    }

    if (fr->policy.purpose
        && (fr->facts.purpose.len == 0
            || ngx_http_ir_list_find(&org->purposes, &fr->facts.purpose)
               != NGX_OK))
    {
        ngx_http_ir_fuzz_fail("allowed for a purpose not the contract's");
    }
}


static ngx_int_t
ngx_http_ir_fuzz_is(ngx_str_t *s, char *text)
{
    return s->len == ngx_strlen(text)
           && ngx_strncmp(s->data, text, s->len) == 0;
}


/* a usable record's quota is the number its field says, or none */

static void
ngx_http_ir_fuzz_quota(ngx_str_t *text, ngx_uint_t limit)
{
    ngx_uint_t  n;

    if (text->data == NULL) {
        if (limit != NGX_HTTP_IR_QUOTA_UNSET) {
            ngx_http_ir_fuzz_fail("a quota from no field");
        }

        return;
    }

    if (ngx_http_ir_parse_quota(text, &n) != NGX_OK || n != limit) {
        ngx_http_ir_fuzz_fail("a quota other than its field says");
    }
}
