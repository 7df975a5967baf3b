
/*
 * ir-access: a libFuzzer target for the password hash formats: what
 * ngx_http_ir_hash_kind() takes for a hash must be one that the check it
 * is sent to can compute, as a string of the same length and the same
 * setting (salt, cost), so that the right password would match it; a
 * hash that no password can match is no hash, since every login of its
 * user would count as a failure until the lock.
 *
 * The input is the "password" field.  nginx's own formats are computed
 * with ngx_crypt() as the event loop does, the system's with crypt_r()
 * as the thread pool does; those whose cost would take the fuzzer's
 * time (a bcrypt cost over 5, yescrypt or scrypt other than the cheapest
 * parameters) are checked for their shape only.  The hash computed, fed
 * back as the setting, must compute to itself.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_crypt.h>

#include <crypt.h>

#include "ngx_http_ir_fuzz.h"


static u_char *ngx_http_ir_fuzz_compute(u_char *hash, ngx_uint_t kind,
    ngx_pool_t *pool);
static ngx_uint_t ngx_http_ir_fuzz_cheap(u_char *hash, size_t len);
static size_t ngx_http_ir_fuzz_setting(u_char *hash, size_t len,
    ngx_pool_t *pool, ngx_str_t *salt);


static struct crypt_data  ngx_http_ir_fuzz_crypt;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *hash, *computed, *again;
    size_t       len;
    ngx_str_t    value, salt1, salt2;
    ngx_uint_t   kind;
    ngx_pool_t  *pool;

    pool = ngx_http_ir_fuzz_init();

    hash = ngx_pnalloc(pool, size + 1);
    if (hash == NULL) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    ngx_memcpy(hash, data, size);
    hash[size] = '\0';

    value.data = hash;
    value.len = size;

    kind = ngx_http_ir_hash_kind(&value);

    if (kind != NGX_HTTP_IR_HASH_UNKNOWN && kind != NGX_HTTP_IR_HASH_FAST
        && kind != NGX_HTTP_IR_HASH_SLOW)
    {
        ngx_http_ir_fuzz_fail("a kind of hash that is none");
    }

    /*
     * A value with a control character never gets here: it is a bad
     * record (a NUL would cut the hash short for crypt()).
     */

    if (kind == NGX_HTTP_IR_HASH_UNKNOWN
        || ngx_http_ir_value_valid(&value) != NGX_OK
        || !ngx_http_ir_fuzz_cheap(hash, size))
    {
        ngx_destroy_pool(pool);
        return 0;
    }

    if ((kind == NGX_HTTP_IR_HASH_FAST)
        != (hash[0] == '{' || ngx_strncmp(hash, "$apr1$", 6) == 0))
    {
        ngx_http_ir_fuzz_fail("a hash sent to the wrong check");
    }

    computed = ngx_http_ir_fuzz_compute(hash, kind, pool);

    if (computed == NULL) {
        fprintf(stderr, "%s\n", hash);
        ngx_http_ir_fuzz_fail("a hash taken that cannot be computed");
    }

    len = ngx_strlen(computed);

    if (ngx_strncmp(hash, "{PLAIN}", 7) == 0) {
        ngx_destroy_pool(pool);
        return 0;
    }

    if (len != size
        || ngx_http_ir_fuzz_setting(hash, size, pool, &salt1)
           != ngx_http_ir_fuzz_setting(computed, len, pool, &salt2)
        || salt1.len != salt2.len
        || (salt1.len && ngx_memcmp(salt1.data, salt2.data, salt1.len) != 0))
    {
        fprintf(stderr, "%s\n%s\n", hash, computed);
        ngx_http_ir_fuzz_fail("a hash taken that no password can match");
    }

    again = ngx_http_ir_fuzz_compute(computed, kind, pool);

    if (again == NULL || ngx_strcmp(again, computed) != 0) {
        ngx_http_ir_fuzz_fail("a hash that does not compute to itself");
    }

    ngx_destroy_pool(pool);

    return 0;
}


static u_char *
ngx_http_ir_fuzz_compute(u_char *hash, ngx_uint_t kind, ngx_pool_t *pool)
{
    char    *computed;
    u_char  *encrypted;

    if (kind == NGX_HTTP_IR_HASH_FAST) {
        if (ngx_crypt(pool, (u_char *) "x", hash, &encrypted) != NGX_OK) {
            return NULL;
        }

        return encrypted;
    }

    ngx_memzero(&ngx_http_ir_fuzz_crypt, sizeof(struct crypt_data));

    computed = crypt_r("x", (char *) hash, &ngx_http_ir_fuzz_crypt);

    if (computed == NULL || computed[0] == '*') {
        return NULL;
    }

    /* out of crypt_data, which the next call clears */

    encrypted = ngx_pnalloc(pool, ngx_strlen(computed) + 1);
    if (encrypted == NULL) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    ngx_cpystrn(encrypted, (u_char *) computed, ngx_strlen(computed) + 1);

    return encrypted;
}


/* what the fuzzer can afford to compute many times a second */

static ngx_uint_t
ngx_http_ir_fuzz_cheap(u_char *hash, size_t len)
{
    u_char     *p, *last;
    ngx_int_t   n;

    last = hash + len;

    if (len > 4 && hash[0] == '$' && hash[1] == '2') {
        return hash[4] == '0' && hash[5] <= '5';
    }

    if (ngx_strncmp(hash, "$y$", 3) == 0) {
        return ngx_strncmp(hash + 3, "j75$", 4) == 0;
    }

    if (ngx_strncmp(hash, "$gy$", 4) == 0) {
        return ngx_strncmp(hash + 4, "j75$", 4) == 0;
    }

    if (ngx_strncmp(hash, "$7$", 3) == 0) {
        return len > 14 && hash[3] >= '.' && hash[3] <= '5'
               && ngx_strncmp(hash + 4, "U..../....", 10) == 0;
    }

    if (ngx_strncmp(hash, "$sha1$", 6) == 0) {
        for (p = hash + 6; p < last && *p != '$'; p++) { /* void */ }

        n = ngx_atoi(hash + 6, p - hash - 6);

        return n != NGX_ERROR && n <= 5000;
    }

    if ((ngx_strncmp(hash, "$5$", 3) == 0 || ngx_strncmp(hash, "$6$", 3) == 0)
        && ngx_strncmp(hash + 3, "rounds=", 7) == 0)
    {
        for (p = hash + 10; p < last && *p != '$'; p++) { /* void */ }

        n = ngx_atoi(hash + 10, p - hash - 10);

        return n != NGX_ERROR && n <= 10000;
    }

    return 1;
}


/*
 * The setting, which the computed hash must repeat: its length, and for
 * "{SSHA}" the salt after the digest.
 */

static size_t
ngx_http_ir_fuzz_setting(u_char *hash, size_t len, ngx_pool_t *pool,
    ngx_str_t *salt)
{
    u_char     *p;
    ngx_str_t   encoded, decoded;

    ngx_str_null(salt);

    if (ngx_strncmp(hash, "{SHA}", 5) == 0) {
        return 5;
    }

    if (ngx_strncmp(hash, "{SSHA}", 6) == 0) {
        encoded.data = hash + 6;
        encoded.len = len - 6;

        decoded.data = ngx_pnalloc(pool, ngx_base64_decoded_length(len));
        if (decoded.data == NULL) {
            ngx_http_ir_fuzz_fail("no memory");
        }

        if (ngx_decode_base64(&decoded, &encoded) != NGX_OK
            || decoded.len < 20)
        {
            ngx_http_ir_fuzz_fail("an {SSHA} hash that is no base64");
        }

        salt->data = decoded.data + 20;
        salt->len = decoded.len - 20;

        return 6;
    }

    if (hash[0] == '$' && hash[1] == '2') {
        salt->data = hash;
        salt->len = ngx_min(len, 29);
        return salt->len;
    }

    if (hash[0] != '$') {
        /* DES: two characters of salt */
        salt->data = hash;
        salt->len = ngx_min(len, 2);
        return salt->len;
    }

    for (p = hash + len; p > hash && p[-1] != '$'; p--) { /* void */ }

    salt->data = hash;
    salt->len = p - hash;

    return salt->len;
}
