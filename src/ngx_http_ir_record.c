
/*
 * ir-access: a user's record, checked and parsed once, when it is
 * fetched, and packed into one block for the shared cache and for the
 * requests that wait on one lookup.
 *
 * Values are checked as an administrator's typo can leave them: a value
 * that is too long or holds a control character makes its record bad,
 * denied with a reason, since a CR or LF could reach the backend through
 * "proxy_set_header X-IR-Unit $ir_access_unit"; an allowlist entry or a
 * pin that is not one is ignored, and remembered for the denial's log
 * line.
 *
 * The packed block is the record's image, followed by its arrays and all
 * its strings; pointers in the image are offsets into the block, plus
 * one, so that an absent string (NULL) stays absent.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_addr.h"
#include "ngx_http_ir_record.h"
#include "ngx_http_ir_schema.h"


/* how much of the ignored allowlist entries a record keeps for the log */
#define NGX_HTTP_IR_INVALID_MAX        160

#define ngx_http_ir_record_align(n)    ngx_align(n, sizeof(void *))


typedef ngx_int_t (*ngx_http_ir_hash_shape_pt)(u_char *p, u_char *last,
    ngx_uint_t arg);

typedef struct {
    ngx_str_t                      prefix;
    ngx_uint_t                     kind;
    ngx_http_ir_hash_shape_pt      shape;         /* of what follows it */
    ngx_uint_t                     arg;
} ngx_http_ir_hash_format_t;


static u_char *ngx_http_ir_record_array(u_char *block, u_char *p,
    ngx_array_t *a);
static u_char *ngx_http_ir_record_string(u_char *block, u_char *p,
    ngx_str_t *s);
static ngx_int_t ngx_http_ir_record_pins(ngx_http_ir_user_t *user,
    ngx_pool_t *pool);
static ngx_int_t ngx_http_ir_hash_plain(u_char *p, u_char *last,
    ngx_uint_t arg);
static ngx_int_t ngx_http_ir_hash_base64(u_char *p, u_char *last,
    ngx_uint_t arg);
static ngx_int_t ngx_http_ir_hash_md5(u_char *p, u_char *last,
    ngx_uint_t arg);
static ngx_int_t ngx_http_ir_hash_bcrypt(u_char *p, u_char *last,
    ngx_uint_t arg);
static ngx_int_t ngx_http_ir_hash_sha(u_char *p, u_char *last,
    ngx_uint_t arg);
static ngx_int_t ngx_http_ir_hash_yescrypt(u_char *p, u_char *last,
    ngx_uint_t arg);
static ngx_int_t ngx_http_ir_hash_scrypt(u_char *p, u_char *last,
    ngx_uint_t arg);
static ngx_int_t ngx_http_ir_hash_sha1(u_char *p, u_char *last,
    ngx_uint_t arg);
static u_char *ngx_http_ir_hash_span(u_char *p, u_char *last);
static ngx_uint_t ngx_http_ir_hash_index(u_char c);
static ngx_int_t ngx_http_ir_hash_tail(u_char *p, u_char *last, size_t len);
static u_char *ngx_http_ir_hash_number(u_char *p, u_char *last, uint64_t min,
    uint64_t max);
static ngx_int_t ngx_http_ir_record_date(ngx_str_t *text, ngx_uint_t *date);
static ngx_int_t ngx_http_ir_record_note(ngx_str_t *notes,
    ngx_str_t *entry, ngx_pool_t *pool);
static ngx_int_t ngx_http_ir_record_quotas(ngx_str_t *rate,
    ngx_str_t *daily, ngx_uint_t *rate_limit, ngx_uint_t *daily_limit,
    ngx_str_t *bad, ngx_pool_t *pool);
static time_t ngx_http_ir_record_days(ngx_uint_t year, ngx_uint_t month,
    ngx_uint_t day);


ngx_http_ir_field_t  ngx_http_ir_user_fields[] = {
    { ngx_string(NGX_HTTP_IR_FIELD_ORG),
      offsetof(ngx_http_ir_user_t, org) },
    { ngx_string(NGX_HTTP_IR_FIELD_STATUS),
      offsetof(ngx_http_ir_user_t, status) },
    { ngx_string(NGX_HTTP_IR_FIELD_CERT),
      offsetof(ngx_http_ir_user_t, cert) },
    { ngx_string(NGX_HTTP_IR_FIELD_PASSWORD),
      offsetof(ngx_http_ir_user_t, password) },
    { ngx_string(NGX_HTTP_IR_FIELD_UNIT),
      offsetof(ngx_http_ir_user_t, unit) },
    { ngx_string(NGX_HTTP_IR_FIELD_SCOPES),
      offsetof(ngx_http_ir_user_t, scopes) },
    { ngx_string(NGX_HTTP_IR_FIELD_RATE),
      offsetof(ngx_http_ir_user_t, rate) },
    { ngx_string(NGX_HTTP_IR_FIELD_DAILY),
      offsetof(ngx_http_ir_user_t, daily) },
    { ngx_string(NGX_HTTP_IR_FIELD_LOCKED_AT), NGX_HTTP_IR_FIELD_UNREAD },
    { ngx_string(NGX_HTTP_IR_FIELD_LOCK_REASON), NGX_HTTP_IR_FIELD_UNREAD },
    { ngx_null_string, 0 }
};


ngx_http_ir_field_t  ngx_http_ir_org_fields[] = {
    { ngx_string(NGX_HTTP_IR_FIELD_STATUS),
      offsetof(ngx_http_ir_org_t, status) },
    { ngx_string(NGX_HTTP_IR_FIELD_NAME),
      offsetof(ngx_http_ir_org_t, name) },
    { ngx_string(NGX_HTTP_IR_FIELD_CONTRACT),
      offsetof(ngx_http_ir_org_t, contract) },
    { ngx_string(NGX_HTTP_IR_FIELD_ENV),
      offsetof(ngx_http_ir_org_t, env) },
    { ngx_string(NGX_HTTP_IR_FIELD_VALID_FROM),
      offsetof(ngx_http_ir_org_t, valid_from) },
    { ngx_string(NGX_HTTP_IR_FIELD_VALID_TO),
      offsetof(ngx_http_ir_org_t, valid_to) },
    { ngx_string(NGX_HTTP_IR_FIELD_COUNTRIES),
      offsetof(ngx_http_ir_org_t, countries) },
    { ngx_string(NGX_HTTP_IR_FIELD_USERS), NGX_HTTP_IR_FIELD_UNREAD },
    { ngx_string(NGX_HTTP_IR_FIELD_RATE),
      offsetof(ngx_http_ir_org_t, rate) },
    { ngx_string(NGX_HTTP_IR_FIELD_DAILY),
      offsetof(ngx_http_ir_org_t, daily) },
    { ngx_null_string, 0 }
};


/* the hash formats, each with what follows its prefix */

static ngx_http_ir_hash_format_t  ngx_http_ir_hash_formats[] = {
    { ngx_string("{PLAIN}"), NGX_HTTP_IR_HASH_FAST,
      ngx_http_ir_hash_plain, 0 },
    { ngx_string("{SHA}"), NGX_HTTP_IR_HASH_FAST,
      ngx_http_ir_hash_base64, 0 },
    { ngx_string("{SSHA}"), NGX_HTTP_IR_HASH_FAST,
      ngx_http_ir_hash_base64, 1 },
    { ngx_string("$apr1$"), NGX_HTTP_IR_HASH_FAST,
      ngx_http_ir_hash_md5, 0 },
    { ngx_string("$2a$"), NGX_HTTP_IR_HASH_SLOW,
      ngx_http_ir_hash_bcrypt, 0 },
    { ngx_string("$2b$"), NGX_HTTP_IR_HASH_SLOW,
      ngx_http_ir_hash_bcrypt, 0 },
    { ngx_string("$2y$"), NGX_HTTP_IR_HASH_SLOW,
      ngx_http_ir_hash_bcrypt, 0 },
    { ngx_string("$y$"), NGX_HTTP_IR_HASH_SLOW,
      ngx_http_ir_hash_yescrypt, 0 },
    { ngx_string("$gy$"), NGX_HTTP_IR_HASH_SLOW,
      ngx_http_ir_hash_yescrypt, 0 },
    { ngx_string("$7$"), NGX_HTTP_IR_HASH_SLOW,
      ngx_http_ir_hash_scrypt, 0 },
    { ngx_string("$6$"), NGX_HTTP_IR_HASH_SLOW,
      ngx_http_ir_hash_sha, 86 },
    { ngx_string("$5$"), NGX_HTTP_IR_HASH_SLOW,
      ngx_http_ir_hash_sha, 43 },
    { ngx_string("$1$"), NGX_HTTP_IR_HASH_SLOW,
      ngx_http_ir_hash_md5, 0 },
    { ngx_string("$sha1$"), NGX_HTTP_IR_HASH_SLOW,
      ngx_http_ir_hash_sha1, 0 },
    { ngx_null_string, 0, NULL, 0 }
};


/* the strings of a record, for packing */

static ngx_uint_t  ngx_http_ir_record_strings[] = {
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

#define NGX_HTTP_IR_RECORD_STRINGS                                          \
    (sizeof(ngx_http_ir_record_strings) / sizeof(ngx_uint_t))


ngx_int_t
ngx_http_ir_record_init(ngx_http_ir_record_t *rec, ngx_pool_t *pool)
{
    ngx_memzero(rec, sizeof(ngx_http_ir_record_t));

    if (ngx_array_init(&rec->user.ips, pool, 4, sizeof(ngx_cidr_t))
        != NGX_OK
        || ngx_array_init(&rec->user.pins, pool, 2, NGX_HTTP_IR_DIGEST_LEN)
           != NGX_OK
        || ngx_array_init(&rec->org.scopes, pool, 4, sizeof(ngx_str_t))
           != NGX_OK
        || ngx_array_init(&rec->org.purposes, pool, 2, sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A field of a user's ("part" is an ngx_http_ir_user_t) or an
 * organisation's hash: NGX_OK for a field the module knows, its value
 * copied or the record made bad; NGX_DECLINED for a field it does not
 * know, which is ignored; NGX_ERROR without memory.
 */

ngx_int_t
ngx_http_ir_record_field(ngx_http_ir_field_t *known, void *part,
    ngx_str_t *bad, ngx_str_t *field, ngx_str_t *value, ngx_pool_t *pool)
{
    ngx_str_t  *s;

    for ( /* void */ ; known->name.len; known++) {
        if (known->name.len == field->len
            && ngx_strncmp(known->name.data, field->data, field->len) == 0)
        {
            break;
        }
    }

    if (known->name.len == 0) {
        return NGX_DECLINED;
    }

    if (known->offset == NGX_HTTP_IR_FIELD_UNREAD) {
        return NGX_OK;
    }

    if (value->len > NGX_HTTP_IR_VALUE_MAX) {
        return ngx_http_ir_record_bad(bad, pool,
                                      "field \"%V\" is %uz bytes long, over "
                                      "the limit of %d", &known->name,
                                      value->len, NGX_HTTP_IR_VALUE_MAX);
    }

    if (ngx_http_ir_value_valid(value) != NGX_OK) {
        return ngx_http_ir_record_bad(bad, pool,
                                      "field \"%V\" holds a control "
                                      "character", &known->name);
    }

    s = (ngx_str_t *) ((u_char *) part + known->offset);

    s->len = value->len;
    s->data = ngx_pnalloc(pool, value->len + 1);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->data, value->data, value->len);

    return NGX_OK;
}


/*
 * An allowlist entry: NGX_OK, NGX_DONE for one that allows every address
 * (only "0.0.0.0/0" and "::/0" written so), NGX_DECLINED for one that is
 * ignored (and noted for the log), NGX_ERROR without memory.
 */

ngx_int_t
ngx_http_ir_record_ip(ngx_http_ir_user_t *user, ngx_str_t *entry,
    ngx_pool_t *pool)
{
    ngx_int_t    rc;
    ngx_cidr_t  *cidr, parsed;

    rc = ngx_http_ir_addr_parse(entry, &parsed);

    if (rc == NGX_ERROR) {
        if (ngx_http_ir_record_note(&user->ips_invalid, entry, pool)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        return NGX_DECLINED;
    }

    cidr = ngx_array_push(&user->ips);
    if (cidr == NULL) {
        return NGX_ERROR;
    }

    *cidr = parsed;

    return rc;
}


/*
 * A member of an organisation's scopes or purposes: NGX_DECLINED when it
 * is no word (empty, over-long, or with a control character).
 */

ngx_int_t
ngx_http_ir_record_word(ngx_array_t *words, ngx_str_t *word,
    ngx_pool_t *pool)
{
    ngx_str_t  *s;

    if (word->len == 0 || word->len > NGX_HTTP_IR_VALUE_MAX
        || ngx_http_ir_value_valid(word) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    s = ngx_array_push(words);
    if (s == NULL) {
        return NGX_ERROR;
    }

    s->len = word->len;
    s->data = ngx_pnalloc(pool, word->len);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(s->data, word->data, word->len);

    return NGX_OK;
}


/* what is read from several fields, once they all are there */

ngx_int_t
ngx_http_ir_record_finish(ngx_http_ir_record_t *rec, ngx_pool_t *pool)
{
    ngx_http_ir_org_t   *org;
    ngx_http_ir_user_t  *user;

    user = &rec->user;
    org = &rec->org;

    if (user->found && user->bad.data == NULL) {

        if (user->org.data && ngx_http_ir_name_valid(&user->org) != NGX_OK) {
            if (ngx_http_ir_record_bad(&user->bad, pool,
                                       "field \"org\" is not a name of 1 "
                                       "to %d letters, digits and "
                                       "\"._@-\"", NGX_HTTP_IR_NAME_MAX)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        if (ngx_http_ir_record_pins(user, pool) != NGX_OK) {
            return NGX_ERROR;
        }

        user->hash = user->password.data
                     ? ngx_http_ir_hash_kind(&user->password)
                     : NGX_HTTP_IR_HASH_NONE;

        if (ngx_http_ir_record_quotas(&user->rate, &user->daily,
                                      &user->rate_limit, &user->daily_limit,
                                      &user->bad, pool)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (org->found && org->bad.data == NULL) {
        if (ngx_http_ir_record_date(&org->valid_from, &org->from) != NGX_OK
            || ngx_http_ir_record_date(&org->valid_to, &org->to) != NGX_OK
            || ngx_http_ir_record_quotas(&org->rate, &org->daily,
                                         &org->rate_limit, &org->daily_limit,
                                         &org->bad, pool)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the first reason a record is bad is kept; NGX_ERROR without memory */

ngx_int_t
ngx_http_ir_record_bad(ngx_str_t *bad, ngx_pool_t *pool, const char *fmt,
    ...)
{
    u_char   *p;
    va_list   args;
    u_char    text[NGX_MAX_ERROR_STR];

    if (bad->data) {
        return NGX_OK;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(text, text + sizeof(text), fmt, args);
    va_end(args);

    bad->len = p - text;
    bad->data = ngx_pnalloc(pool, bad->len);
    if (bad->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(bad->data, text, bad->len);

    return NGX_OK;
}


/* no control character, so that no value can split a header or a log line */

ngx_int_t
ngx_http_ir_value_valid(ngx_str_t *value)
{
    u_char  *p, *last;

    last = value->data + value->len;

    for (p = value->data; p < last; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * Pins are SHA-256 fingerprints as admins paste them: any case, with or
 * without colons, several separated by spaces or commas for a rollover,
 * and "openssl x509 -fingerprint -sha256" output as it is printed
 * ("sha256 Fingerprint=AB:CD:...").  They are read into binary digests
 * once, when the record is fetched.
 */

static ngx_int_t
ngx_http_ir_record_pins(ngx_http_ir_user_t *user, ngx_pool_t *pool)
{
    u_char     *p, *last, *digest;
    ngx_str_t   word;

    if (user->cert.data == NULL) {
        return NGX_OK;
    }

    p = user->cert.data;
    last = p + user->cert.len;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == ',' || *p == '\t')) {
            p++;
        }

        word.data = p;

        while (p < last && *p != ' ' && *p != ',' && *p != '\t') {
            p++;
        }

        word.len = p - word.data;

        /*
         * the digest's name that "openssl x509 -fingerprint" prints first:
         * a wrong digest's fingerprint that follows is the word noted
         */

        if (word.len == 0
            || (word.len == 6 && ngx_strncasecmp(word.data, (u_char *) "sha256",
                                                 6) == 0)
            || (word.len == 4 && ngx_strncasecmp(word.data, (u_char *) "sha1",
                                                 4) == 0)
            || (word.len == 3 && ngx_strncasecmp(word.data, (u_char *) "md5",
                                                 3) == 0))
        {
            continue;
        }

        digest = ngx_array_push(&user->pins);
        if (digest == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_ir_parse_pin(&word, digest) == NGX_OK) {
            continue;
        }

        user->pins.nelts--;

        /* the first word that is no pin, for the denial's log line */

        if (user->pin_invalid.data == NULL) {
            user->pin_invalid = word;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_ir_parse_pin(ngx_str_t *word, u_char *digest)
{
    u_char      *p, *last, c;
    ngx_uint_t   n;
    u_char       hex[NGX_HTTP_IR_DIGEST_LEN * 2];

    p = word->data;
    last = p + word->len;

    if (word->len > 12 && ngx_strncasecmp(p, (u_char *) "Fingerprint=", 12)
                          == 0)
    {
        p += 12;
    }

    n = 0;

    for ( /* void */ ; p < last; p++) {

        if (*p == ':') {
            continue;
        }

        c = ngx_tolower(*p);

        if (n == sizeof(hex)
            || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
        {
            return NGX_DECLINED;
        }

        hex[n++] = c;
    }

    if (n != sizeof(hex)) {
        return NGX_DECLINED;
    }

    for (n = 0; n < NGX_HTTP_IR_DIGEST_LEN; n++) {
        digest[n] = (u_char) ngx_hextoi(&hex[n * 2], 2);
    }

    return NGX_OK;
}


/* why a word of "cert" is no pin, in a few words for the log */

const char *
ngx_http_ir_pin_hint(ngx_str_t *word)
{
    u_char      *p, *last, c;
    ngx_uint_t   n;

    n = 0;
    p = word->data;
    last = p + word->len;

    /* the fingerprint of a pasted "SHA1 Fingerprint=..." line */

    if (word->len > 12 && ngx_strncasecmp(p, (u_char *) "Fingerprint=", 12)
                          == 0)
    {
        p += 12;
    }

    for ( /* void */ ; p < last; p++) {
        c = ngx_tolower(*p);

        if (c == ':') {
            continue;
        }

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return "not a SHA-256 fingerprint (64 hex digits)";
        }

        n++;
    }

    switch (n) {

    case 40:
        return "a SHA-1 fingerprint, not SHA-256: "
               "use \"openssl x509 -fingerprint -sha256\"";

    case 32:
        return "an MD5 fingerprint, not SHA-256: "
               "use \"openssl x509 -fingerprint -sha256\"";

    default:
        return "not a SHA-256 fingerprint (64 hex digits)";
    }
}


/*
 * The hash formats are those nginx's auth_basic reads through
 * ngx_crypt(), and those of the system's crypt() (libxcrypt): anything
 * else, such as a password in clear or a whole htpasswd line, is no
 * hash.  Each is read for the shape crypt() writes it in, its salt and
 * cost within what crypt() takes back: a hash cut short by a copy and
 * paste, or mistyped, could never match a password, and would count every
 * login of its user as a failure until the lock; it is no hash either.
 */

ngx_uint_t
ngx_http_ir_hash_kind(ngx_str_t *hash)
{
    u_char                     *p, *last;
    ngx_http_ir_hash_format_t  *f;

    p = hash->data;
    last = p + hash->len;

    for (f = ngx_http_ir_hash_formats; f->prefix.len; f++) {
        if (hash->len >= f->prefix.len
            && ngx_strncmp(p, f->prefix.data, f->prefix.len) == 0)
        {
            return f->shape(p + f->prefix.len, last, f->arg) == NGX_OK
                   ? f->kind : NGX_HTTP_IR_HASH_UNKNOWN;
        }
    }

    /* the traditional DES crypt: 13 characters of [./0-9A-Za-z] */

    return (hash->len == 13 && ngx_http_ir_hash_span(p, last) == last)
           ? NGX_HTTP_IR_HASH_SLOW : NGX_HTTP_IR_HASH_UNKNOWN;
}


/* "{PLAIN}password": any password but none */

static ngx_int_t
ngx_http_ir_hash_plain(u_char *p, u_char *last, ngx_uint_t arg)
{
    return (p < last) ? NGX_OK : NGX_DECLINED;
}


/*
 * "{SHA}" and "{SSHA}": base64 of a SHA-1 digest, and of a salt after it
 * for "{SSHA}", as ngx_crypt() writes it back: padded, and without bits
 * set past the end, or it could not compare equal.  arg: whether a salt
 * may follow the digest.
 */

static ngx_int_t
ngx_http_ir_hash_base64(u_char *p, u_char *last, ngx_uint_t arg)
{
    u_char      *end;
    size_t       len, pad, bytes;
    ngx_uint_t   bits;

    static u_char  alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    len = last - p;

    if (len == 0 || len % 4) {
        return NGX_DECLINED;
    }

    pad = (last[-1] == '=') + (last[-2] == '=');

    if (pad == 1 && last[-2] == '=') {
        return NGX_DECLINED;
    }

    for (end = last - pad; p < end; p++) {
        if (ngx_strlchr(alphabet, alphabet + 64, *p) == NULL) {
            return NGX_DECLINED;
        }
    }

    if (pad) {
        bits = ngx_strlchr(alphabet, alphabet + 64, end[-1]) - alphabet;

        if (bits & (pad == 1 ? 0x03 : 0x0f)) {
            return NGX_DECLINED;
        }
    }

    bytes = len / 4 * 3 - pad;

    if (bytes < 20 || (!arg && bytes != 20)) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* "$apr1$" and "$1$": a salt of up to 8 characters and 22 of hash */

static ngx_int_t
ngx_http_ir_hash_md5(u_char *p, u_char *last, ngx_uint_t arg)
{
    u_char  *salt;

    salt = p;
    p = ngx_http_ir_hash_span(p, last);

    if (p - salt < 1 || p - salt > 8 || p == last || *p++ != '$') {
        return NGX_DECLINED;
    }

    return ngx_http_ir_hash_tail(p, last, 22);
}


/*
 * bcrypt: a cost of 04 to 31, then 22 characters of salt and 31 of
 * hash, whose last characters carry no bits past the bytes they encode.
 */

static ngx_int_t
ngx_http_ir_hash_bcrypt(u_char *p, u_char *last, ngx_uint_t arg)
{
    u_char      *salt;
    ngx_uint_t   cost;

    static u_char  alphabet[] =
        "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    if (last - p != 2 + 1 + 22 + 31
        || p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9'
        || p[2] != '$'
        || ngx_http_ir_hash_span(p + 3, last) != last)
    {
        return NGX_DECLINED;
    }

    cost = (p[0] - '0') * 10 + (p[1] - '0');

    if (cost < 4 || cost > 31) {
        return NGX_DECLINED;
    }

    salt = p + 3;

    if ((ngx_strlchr(alphabet, alphabet + 64, salt[21]) - alphabet) % 16
        || (ngx_strlchr(alphabet, alphabet + 64, last[-1]) - alphabet) % 4)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * "$5$" and "$6$": "rounds=N$" within what crypt() takes as written, a
 * salt of up to 16 characters and arg characters of hash.
 */

static ngx_int_t
ngx_http_ir_hash_sha(u_char *p, u_char *last, ngx_uint_t arg)
{
    u_char  *salt;

    if ((size_t) (last - p) > sizeof("rounds=") - 1
        && ngx_strncmp(p, "rounds=", sizeof("rounds=") - 1) == 0)
    {
        p = ngx_http_ir_hash_number(p + sizeof("rounds=") - 1, last,
                                    1000, 999999999);

        if (p == NULL || p == last || *p++ != '$') {
            return NGX_DECLINED;
        }
    }

    salt = p;
    p = ngx_http_ir_hash_span(p, last);

    if (p - salt < 1 || p - salt > 16 || p == last || *p++ != '$') {
        return NGX_DECLINED;
    }

    return ngx_http_ir_hash_tail(p, last, arg);
}


/*
 * yescrypt ("$y$", "$gy$"): parameters, a salt and 43 characters of hash,
 * each after a "$"; the salt, of up to 64 bytes, is decoded as base64
 * that carries no bits past its last byte, and so is the hash.
 */

static ngx_int_t
ngx_http_ir_hash_yescrypt(u_char *p, u_char *last, ngx_uint_t arg)
{
    u_char  *start;
    size_t   len;

    start = p;
    p = ngx_http_ir_hash_span(p, last);

    if (p == start || p == last || *p++ != '$') {
        return NGX_DECLINED;
    }

    start = p;
    p = ngx_http_ir_hash_span(p, last);
    len = p - start;

    if (len == 0 || len > 86 || len % 4 == 1
        || (len % 4 == 2 && ngx_http_ir_hash_index(p[-1]) >= 4)
        || (len % 4 == 3 && ngx_http_ir_hash_index(p[-1]) >= 16)
        || p == last || *p++ != '$')
    {
        return NGX_DECLINED;
    }

    if (ngx_http_ir_hash_tail(p, last, 43) != NGX_OK
        || ngx_http_ir_hash_index(last[-1]) >= 16)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * scrypt ("$7$"): log2(N) in a character, r and p in five each, as scrypt
 * takes them (N at least 2, r and p at least 1, r * p under 2^30), then
 * the salt, of up to 64 characters, a "$" and 43 characters of hash.
 * crypt() refuses salts of some 280 characters and more (found by the
 * hash fuzz target); its own are 43.
 */

static ngx_int_t
ngx_http_ir_hash_scrypt(u_char *p, u_char *last, ngx_uint_t arg)
{
    u_char      *start;
    uint64_t     r, q;
    ngx_uint_t   i;

    start = p;
    p = ngx_http_ir_hash_span(p, last);

    if (p - start < 11 || p - start > 11 + 64 || p == last || *p++ != '$'
        || ngx_http_ir_hash_index(start[0]) < 2)
    {
        return NGX_DECLINED;
    }

    r = 0;
    q = 0;

    for (i = 0; i < 5; i++) {
        r |= (uint64_t) ngx_http_ir_hash_index(start[1 + i]) << (6 * i);
        q |= (uint64_t) ngx_http_ir_hash_index(start[6 + i]) << (6 * i);
    }

    if (r == 0 || q == 0 || r * q >= (1 << 30)) {
        return NGX_DECLINED;
    }

    return ngx_http_ir_hash_tail(p, last, 43);
}


/* "$sha1$": rounds, a salt of up to 64 characters, 28 of hash */

static ngx_int_t
ngx_http_ir_hash_sha1(u_char *p, u_char *last, ngx_uint_t arg)
{
    u_char  *salt;

    p = ngx_http_ir_hash_number(p, last, 1, 4294967295U);

    if (p == NULL || p == last || *p++ != '$') {
        return NGX_DECLINED;
    }

    salt = p;
    p = ngx_http_ir_hash_span(p, last);

    if (p - salt < 1 || p - salt > 64 || p == last || *p++ != '$') {
        return NGX_DECLINED;
    }

    return ngx_http_ir_hash_tail(p, last, 28);
}


/* the characters crypt() writes salts and hashes in: [./0-9A-Za-z] */

static u_char *
ngx_http_ir_hash_span(u_char *p, u_char *last)
{
    while (p < last
           && (*p == '.' || *p == '/' || (*p >= '0' && *p <= '9')
               || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
    {
        p++;
    }

    return p;
}


/* a character's value in crypt()'s base64: "./0-9A-Za-z" */

static ngx_uint_t
ngx_http_ir_hash_index(u_char c)
{
    if (c >= 'a') {
        return c - 'a' + 38;
    }

    if (c >= 'A') {
        return c - 'A' + 12;
    }

    return c - '.';
}


static ngx_int_t
ngx_http_ir_hash_tail(u_char *p, u_char *last, size_t len)
{
    if ((size_t) (last - p) != len || ngx_http_ir_hash_span(p, last) != last) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* a number as crypt() writes it back: no sign, no leading zero */

static u_char *
ngx_http_ir_hash_number(u_char *p, u_char *last, uint64_t min, uint64_t max)
{
    u_char    *start;
    uint64_t   n;

    n = 0;

    for (start = p; p < last && *p >= '0' && *p <= '9'; p++) {
        if (p - start == 10) {
            return NULL;
        }

        n = n * 10 + (*p - '0');
    }

    if (p == start || (*start == '0' && p - start > 1) || n < min || n > max)
    {
        return NULL;
    }

    return p;
}


static ngx_int_t
ngx_http_ir_record_date(ngx_str_t *text, ngx_uint_t *date)
{
    if (text->data == NULL) {
        *date = 0;
        return NGX_OK;
    }

    if (ngx_http_ir_parse_date(text, date) != NGX_OK) {
        *date = NGX_HTTP_IR_DATE_INVALID;
    }

    return NGX_OK;
}


/* a strict "YYYY-MM-DD": anything else is a typo, not an open end */

ngx_int_t
ngx_http_ir_parse_date(ngx_str_t *text, ngx_uint_t *date)
{
    u_char      *p;
    ngx_uint_t   i, year, month, day, days;

    static ngx_uint_t  mdays[] = { 31, 29, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31 };

    p = text->data;

    if (text->len != 10 || p[4] != '-' || p[7] != '-') {
        return NGX_ERROR;
    }

    for (i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (p[i] < '0' || p[i] > '9')) {
            return NGX_ERROR;
        }
    }

    year = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10
           + (p[3] - '0');
    month = (p[5] - '0') * 10 + (p[6] - '0');
    day = (p[8] - '0') * 10 + (p[9] - '0');

    if (year < 1900 || month < 1 || month > 12 || day < 1) {
        return NGX_ERROR;
    }

    days = mdays[month - 1];

    if (month == 2
        && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
    {
        days = 28;
    }

    if (day > days) {
        return NGX_ERROR;
    }

    *date = year * 10000 + month * 100 + day;

    return NGX_OK;
}


/*
 * A record's quotas.  A typo can only narrow access: a value that is no
 * number makes the record bad, never falls back to the configuration's
 * default, which may be larger than what the administrator meant.
 */

static ngx_int_t
ngx_http_ir_record_quotas(ngx_str_t *rate, ngx_str_t *daily,
    ngx_uint_t *rate_limit, ngx_uint_t *daily_limit, ngx_str_t *bad,
    ngx_pool_t *pool)
{
    *rate_limit = NGX_HTTP_IR_QUOTA_UNSET;
    *daily_limit = NGX_HTTP_IR_QUOTA_UNSET;

    if (rate->data && ngx_http_ir_parse_quota(rate, rate_limit) != NGX_OK) {
        return ngx_http_ir_record_bad(bad, pool,
                                      "field \"" NGX_HTTP_IR_FIELD_RATE "\" "
                                      "is not a number of requests a "
                                      "minute from 0 to %d",
                                      NGX_HTTP_IR_QUOTA_MAX);
    }

    if (daily->data && ngx_http_ir_parse_quota(daily, daily_limit) != NGX_OK)
    {
        return ngx_http_ir_record_bad(bad, pool,
                                      "field \"" NGX_HTTP_IR_FIELD_DAILY "\" "
                                      "is not a number of requests a day "
                                      "from 0 to %d", NGX_HTTP_IR_QUOTA_MAX);
    }

    return NGX_OK;
}


/* decimal digits only, at most NGX_HTTP_IR_QUOTA_MAX */

ngx_int_t
ngx_http_ir_parse_quota(ngx_str_t *text, ngx_uint_t *quota)
{
    u_char      *p, *last;
    ngx_uint_t   n;

    if (text->len == 0 || text->len > 10) {
        return NGX_ERROR;
    }

    n = 0;
    last = text->data + text->len;

    for (p = text->data; p < last; p++) {
        if (*p < '0' || *p > '9') {
            return NGX_ERROR;
        }

        n = n * 10 + (*p - '0');
    }

    if (n > NGX_HTTP_IR_QUOTA_MAX) {
        return NGX_ERROR;
    }

    *quota = n;

    return NGX_OK;
}


/*
 * The parameters of "ir_access_quota", value[1] to value[n - 1]: "off",
 * or [rate=N/m] [daily=N] [org_rate=N/m] [org_daily=N], limit[who][period]
 * NGX_HTTP_IR_QUOTA_UNSET for each left out.  NGX_OK; NGX_DECLINED for a
 * parameter that is none of them, NGX_BUSY for one given twice, NGX_ERROR
 * for a limit that is no number from 1 to NGX_HTTP_IR_QUOTA_MAX with its
 * unit: "bad" is the parameter's index.
 */

ngx_int_t
ngx_http_ir_parse_quotas(ngx_str_t *value, ngx_uint_t n, ngx_flag_t *enable,
    ngx_uint_t limit[2][2], ngx_uint_t *bad)
{
    u_char      *eq;
    size_t       unit;
    ngx_str_t    name, number;
    ngx_uint_t   i, who, period;

    for (who = 0; who < 2; who++) {
        for (period = 0; period < 2; period++) {
            limit[who][period] = NGX_HTTP_IR_QUOTA_UNSET;
        }
    }

    *bad = 0;

    if (n == 2 && value[1].len == 3
        && ngx_strncmp(value[1].data, "off", 3) == 0)
    {
        *enable = 0;
        return NGX_OK;
    }

    *enable = 1;

    for (i = 1; i < n; i++) {
        *bad = i;

        eq = ngx_strlchr(value[i].data, value[i].data + value[i].len, '=');

        if (eq == NULL) {
            return NGX_DECLINED;
        }

        name.data = value[i].data;
        name.len = eq - value[i].data;

        if (name.len == 4 && ngx_strncmp(name.data, "rate", 4) == 0) {
            who = NGX_HTTP_IR_QUOTA_USER;
            period = NGX_HTTP_IR_QUOTA_MINUTE;

        } else if (name.len == 5 && ngx_strncmp(name.data, "daily", 5) == 0) {
            who = NGX_HTTP_IR_QUOTA_USER;
            period = NGX_HTTP_IR_QUOTA_DAY;

        } else if (name.len == 8 && ngx_strncmp(name.data, "org_rate", 8) == 0)
        {
            who = NGX_HTTP_IR_QUOTA_ORG;
            period = NGX_HTTP_IR_QUOTA_MINUTE;

        } else if (name.len == 9
                   && ngx_strncmp(name.data, "org_daily", 9) == 0)
        {
            who = NGX_HTTP_IR_QUOTA_ORG;
            period = NGX_HTTP_IR_QUOTA_DAY;

        } else {
            return NGX_DECLINED;
        }

        if (limit[who][period] != NGX_HTTP_IR_QUOTA_UNSET) {
            return NGX_BUSY;
        }

        /* a number, as a record's field is, followed by its unit */

        number.data = eq + 1;
        number.len = value[i].data + value[i].len - number.data;

        unit = (period == NGX_HTTP_IR_QUOTA_MINUTE) ? 2 : 0;

        if (number.len <= unit
            || (unit && ngx_strncmp(number.data + number.len - unit, "/m",
                                    unit) != 0))
        {
            return NGX_ERROR;
        }

        number.len -= unit;

        if (ngx_http_ir_parse_quota(&number, &limit[who][period]) != NGX_OK
            || limit[who][period] == 0)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * An ISO 8601 time of day on a date, as administrators write one:
 * "2026-11-27T08:00:00Z", "2026-11-27T10:00+02:00", with or without
 * seconds and their fraction, with "Z" or an offset (+02:00, +0200,
 * +02): NGX_OK with the time.  Without either it is a local time, of a
 * zone the caller knows: NGX_DECLINED with the seconds it would be in
 * UTC.  A date alone is no time: it could mean either end of the day.
 */

ngx_int_t
ngx_http_ir_parse_time(ngx_str_t *text, time_t *t)
{
    u_char      *p, *last;
    ngx_int_t    sign, offset;
    ngx_str_t    date;
    ngx_uint_t   ymd, hour, min, second, n, i;

    p = text->data;
    last = p + text->len;

    if (text->len < sizeof("YYYY-MM-DDTHH:MM") - 1) {
        return NGX_ERROR;
    }

    date.data = p;
    date.len = 10;

    if (ngx_http_ir_parse_date(&date, &ymd) != NGX_OK
        || (p[10] != 'T' && p[10] != 't'))
    {
        return NGX_ERROR;
    }

    p += 11;

#define ngx_http_ir_two_digits(p)                                            \
    ((p)[0] >= '0' && (p)[0] <= '9' && (p)[1] >= '0' && (p)[1] <= '9')

    if (!ngx_http_ir_two_digits(p) || p[2] != ':'
        || !ngx_http_ir_two_digits(p + 3))
    {
        return NGX_ERROR;
    }

    hour = (p[0] - '0') * 10 + (p[1] - '0');
    min = (p[3] - '0') * 10 + (p[4] - '0');
    second = 0;
    p += 5;

    if (last - p >= 3 && p[0] == ':') {
        if (!ngx_http_ir_two_digits(p + 1)) {
            return NGX_ERROR;
        }

        second = (p[1] - '0') * 10 + (p[2] - '0');
        p += 3;

        if (p < last && (*p == '.' || *p == ',')) {
            for (p++, n = 0; p < last && *p >= '0' && *p <= '9'; p++, n++) {
                /* the fraction is dropped */
            }

            if (n == 0) {
                return NGX_ERROR;
            }
        }
    }

    if (hour > 23 || min > 59 || second > 59) {
        return NGX_ERROR;
    }

    if (p == last) {
        offset = 0;

    } else if (*p == 'Z' || *p == 'z') {
        if (p + 1 != last) {
            return NGX_ERROR;
        }

        offset = 0;

    } else if (*p == '+' || *p == '-') {
        sign = (*p == '-') ? -1 : 1;
        p++;

        /* +HH, +HHMM or +HH:MM */

        n = last - p;

        if (!(n == 2 || n == 4 || (n == 5 && p[2] == ':'))
            || !ngx_http_ir_two_digits(p)
            || (n > 2 && !ngx_http_ir_two_digits(p + n - 2)))
        {
            return NGX_ERROR;
        }

        i = (p[0] - '0') * 10 + (p[1] - '0');
        n = (n > 2) ? (ngx_uint_t) ((p[n - 2] - '0') * 10 + (p[n - 1] - '0'))
                    : 0;

        if (i > 14 || n > 59) {
            return NGX_ERROR;
        }

        offset = sign * (ngx_int_t) (i * 3600 + n * 60);

    } else {
        return NGX_ERROR;
    }

#undef ngx_http_ir_two_digits

    *t = ngx_http_ir_record_days(ymd / 10000, ymd / 100 % 100, ymd % 100)
         * 86400 + (time_t) (hour * 3600 + min * 60 + second) - offset;

    return (p == last) ? NGX_DECLINED : NGX_OK;
}


/* days from 1970-01-01 to a date after 1900 (Howard Hinnant's formula) */

static time_t
ngx_http_ir_record_days(ngx_uint_t year, ngx_uint_t month, ngx_uint_t day)
{
    ngx_uint_t  era, yoe, doy, doe;

    if (month <= 2) {
        year--;
    }

    era = year / 400;
    yoe = year - era * 400;
    doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return (time_t) (era * 146097 + doe) - 719468;
}


/* lists in Redis fields are words separated by spaces or commas */

ngx_int_t
ngx_http_ir_list_has(ngx_str_t *list, ngx_str_t *word)
{
    u_char  *p, *last, *start;

    if (word->len == 0 || list->data == NULL) {
        return NGX_DECLINED;
    }

    p = list->data;
    last = p + list->len;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == ',' || *p == '\t')) {
            p++;
        }

        start = p;

        while (p < last && *p != ' ' && *p != ',' && *p != '\t') {
            p++;
        }

        if ((size_t) (p - start) == word->len
            && ngx_strncasecmp(start, word->data, word->len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_ir_list_find(ngx_array_t *list, ngx_str_t *word)
{
    ngx_str_t   *s;
    ngx_uint_t   i;

    s = list->elts;

    for (i = 0; i < list->nelts; i++) {
        if (s[i].len == word->len
            && ngx_strncasecmp(s[i].data, word->data, word->len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * Ignored entries are kept, escaped, for the denial's log line, as many as
 * fit, and then a mark that there were more: 10.0.0.1/33, x\x00y, ...
 */

static ngx_int_t
ngx_http_ir_record_note(ngx_str_t *notes, ngx_str_t *entry,
    ngx_pool_t *pool)
{
    u_char  *p;
    u_char   buf[NGX_HTTP_IR_INVALID_MAX + sizeof(", ...")];

    p = buf;

    if (notes->data) {
        if (notes->len >= 3
            && ngx_strncmp(notes->data + notes->len - 3, "...", 3) == 0)
        {
            return NGX_OK;
        }

        p = ngx_cpymem(p, notes->data, notes->len);
        p = ngx_cpymem(p, ", ", 2);
    }

    if (notes->len >= NGX_HTTP_IR_INVALID_MAX / 2) {
        p = ngx_cpymem(p, "...", 3);

    } else {
        p = ngx_http_ir_escape(p, buf + NGX_HTTP_IR_INVALID_MAX, entry);
    }

    notes->len = p - buf;
    notes->data = ngx_pnalloc(pool, notes->len);
    if (notes->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(notes->data, buf, notes->len);

    return NGX_OK;
}


/*
 * A value from a client or from Redis, made fit for a log line: control
 * and non-ASCII bytes, quotes and backslashes as \xNN, cut with "..."
 * where it does not fit between dst and last.
 */

u_char *
ngx_http_ir_escape(u_char *dst, u_char *last, ngx_str_t *src)
{
    u_char  *p, *end;
    size_t   len;

    end = src->data + src->len;

    if (last - dst < 8) {
        return dst;
    }

    /* room for "..." only where the whole does not fit */

    len = 0;

    for (p = src->data; p < end; p++) {
        len += (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\') ? 4 : 1;
    }

    if (len > (size_t) (last - dst)) {
        last -= 3;
    }

    for (p = src->data; p < end; p++) {

        if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\') {
            if (last - dst < 4) {
                break;
            }

            dst = ngx_sprintf(dst, "\\x%02xd", *p);
            continue;
        }

        if (dst == last) {
            break;
        }

        *dst++ = *p;
    }

    if (p < end) {
        dst = ngx_cpymem(dst, "...", 3);
    }

    return dst;
}


size_t
ngx_http_ir_record_size(ngx_http_ir_record_t *rec)
{
    size_t       size;
    ngx_str_t   *s;
    ngx_uint_t   i;

    size = ngx_http_ir_record_align(sizeof(ngx_http_ir_record_t));
    size += ngx_http_ir_record_align(rec->user.ips.nelts
                                     * sizeof(ngx_cidr_t));
    size += ngx_http_ir_record_align(rec->user.pins.nelts
                                     * NGX_HTTP_IR_DIGEST_LEN);
    size += ngx_http_ir_record_align(rec->org.scopes.nelts
                                     * sizeof(ngx_str_t));
    size += ngx_http_ir_record_align(rec->org.purposes.nelts
                                     * sizeof(ngx_str_t));

    for (i = 0; i < NGX_HTTP_IR_RECORD_STRINGS; i++) {
        s = (ngx_str_t *) ((u_char *) rec + ngx_http_ir_record_strings[i]);
        size += s->len;
    }

    s = rec->org.scopes.elts;

    for (i = 0; i < rec->org.scopes.nelts; i++) {
        size += s[i].len;
    }

    s = rec->org.purposes.elts;

    for (i = 0; i < rec->org.purposes.nelts; i++) {
        size += s[i].len;
    }

    return size;
}


void
ngx_http_ir_record_pack(ngx_http_ir_record_t *rec, u_char *block)
{
    u_char                *p;
    ngx_str_t             *s, *scope, *purpose;
    ngx_uint_t             i;
    ngx_http_ir_record_t  *image;

    image = (ngx_http_ir_record_t *) block;
    *image = *rec;

    p = block + ngx_http_ir_record_align(sizeof(ngx_http_ir_record_t));

    p = ngx_http_ir_record_array(block, p, &image->user.ips);
    p = ngx_http_ir_record_array(block, p, &image->user.pins);

    scope = (ngx_str_t *) p;
    p = ngx_http_ir_record_array(block, p, &image->org.scopes);

    purpose = (ngx_str_t *) p;
    p = ngx_http_ir_record_array(block, p, &image->org.purposes);

    for (i = 0; i < image->org.scopes.nelts; i++) {
        p = ngx_http_ir_record_string(block, p, &scope[i]);
    }

    for (i = 0; i < image->org.purposes.nelts; i++) {
        p = ngx_http_ir_record_string(block, p, &purpose[i]);
    }

    for (i = 0; i < NGX_HTTP_IR_RECORD_STRINGS; i++) {
        s = (ngx_str_t *) ((u_char *) image + ngx_http_ir_record_strings[i]);
        p = ngx_http_ir_record_string(block, p, s);
    }
}


/* an array's elements go where p points, its pointer becomes an offset */

static u_char *
ngx_http_ir_record_array(u_char *block, u_char *p, ngx_array_t *a)
{
    u_char  *elts;

    elts = a->elts;

    a->elts = (void *) (p - block + 1);
    a->nalloc = a->nelts;
    a->pool = NULL;

    if (a->nelts) {
        p = ngx_cpymem(p, elts, a->nelts * a->size);
    }

    return block + ngx_http_ir_record_align(p - block);
}


/* likewise a string, but for an absent one, which stays NULL */

static u_char *
ngx_http_ir_record_string(u_char *block, u_char *p, ngx_str_t *s)
{
    if (s->data == NULL) {
        return p;
    }

    if (s->len) {
        ngx_memcpy(p, s->data, s->len);
    }

    s->data = (u_char *) (p - block + 1);

    return p + s->len;
}


/*
 * The image is read into the caller's record and only what follows it is
 * copied, into the request's pool: a hit costs one copy of the payload.
 *
 * The block must be one that ngx_http_ir_record_pack() wrote: its counts
 * and offsets are trusted, not checked.  Only pack writes such blocks,
 * into the cache's shared memory, which only the module's workers write,
 * and into a lookup's own memory for the requests that wait on it; no
 * byte from Redis or a client is ever unpacked.  The fuzz targets check
 * pack and unpack as a round trip of records built from their input.
 */

ngx_int_t
ngx_http_ir_record_unpack(u_char *block, size_t size,
    ngx_http_ir_record_t *rec, ngx_pool_t *pool)
{
    u_char      *copy;
    size_t       image;
    ngx_str_t   *s;
    ngx_uint_t   i;

    image = ngx_http_ir_record_align(sizeof(ngx_http_ir_record_t));

    if (size < image) {
        return NGX_ERROR;
    }

    copy = ngx_palloc(pool, size - image + 1);
    if (copy == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(copy, block + image, size - image);

    /* an offset into the block, plus one, becomes a pointer into the copy */

#define ngx_http_ir_record_pointer(p)                                        \
    (copy + ((uintptr_t) (p) - 1 - image))

    *rec = *(ngx_http_ir_record_t *) block;

    for (i = 0; i < NGX_HTTP_IR_RECORD_STRINGS; i++) {
        s = (ngx_str_t *) ((u_char *) rec + ngx_http_ir_record_strings[i]);

        if (s->data) {
            s->data = ngx_http_ir_record_pointer(s->data);
        }
    }

    rec->user.ips.elts = ngx_http_ir_record_pointer(rec->user.ips.elts);
    rec->user.ips.pool = pool;

    rec->user.pins.elts = ngx_http_ir_record_pointer(rec->user.pins.elts);
    rec->user.pins.pool = pool;

    rec->org.scopes.elts = ngx_http_ir_record_pointer(rec->org.scopes.elts);
    rec->org.scopes.pool = pool;

    s = rec->org.scopes.elts;

    for (i = 0; i < rec->org.scopes.nelts; i++) {
        s[i].data = ngx_http_ir_record_pointer(s[i].data);
    }

    rec->org.purposes.elts =
                      ngx_http_ir_record_pointer(rec->org.purposes.elts);
    rec->org.purposes.pool = pool;

    s = rec->org.purposes.elts;

    for (i = 0; i < rec->org.purposes.nelts; i++) {
        s[i].data = ngx_http_ir_record_pointer(s[i].data);
    }

#undef ngx_http_ir_record_pointer

    return NGX_OK;
}
