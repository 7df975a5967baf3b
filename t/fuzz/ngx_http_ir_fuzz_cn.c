
/*
 * ir-access: a libFuzzer target for the identity in a certificate's
 * subject, ngx_http_ir_identity_name(), fed with names that OpenSSL
 * builds from the input: with the first byte odd, the rest is a DER
 * Name as a certificate carries it; with it even, entries of three bytes
 * (which attribute, which ASN.1 string type, how long) each followed by
 * that many bytes of value, added as a CA could sign them (a BMPString
 * of odd length, a UTF8String that is not UTF-8, a NUL inside).
 *
 * Whatever the name, the identity taken is the one CN there is, read as
 * UTF-8, and a valid name; several CNs or none are refused; and the log
 * line for a refused CN carries no raw control character.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_fuzz.h"
#include "ngx_http_ir_identity.h"
#include "ngx_http_ir_schema.h"


static X509_NAME *ngx_http_ir_fuzz_name(u_char *p, u_char *last);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            i, n, len;
    u_char        *input, *utf8;
    ngx_str_t      cn;
    ngx_uint_t     reason;
    X509_NAME     *name;
    ngx_pool_t    *pool;
    const u_char  *der;
    u_char         buf[NGX_HTTP_IR_NAME_MAX];

    if (size == 0) {
        return 0;
    }

    pool = ngx_http_ir_fuzz_init();

    input = ngx_alloc(size, pool->log);
    if (input == NULL) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    ngx_memcpy(input, data, size);

    if (input[0] & 1) {
        der = input + 1;
        name = d2i_X509_NAME(NULL, &der, size - 1);

    } else {
        name = ngx_http_ir_fuzz_name(input + 1, input + size);
    }

    if (name == NULL) {
        goto done;
    }

    ngx_str_null(&cn);
    utf8 = NULL;
    len = -1;

    reason = ngx_http_ir_identity_name(name, &cn, buf, pool->log);

    /* what the name holds, read here without the module's code */

    n = 0;
    i = -1;

    while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0) {
        n++;

        if (n == 1) {
            len = ASN1_STRING_to_UTF8(&utf8,
                      X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
        }
    }

    if (reason == 0) {
        if (n != 1 || len < 0
            || cn.data != buf || cn.len != (size_t) len
            || ngx_memcmp(cn.data, utf8, len) != 0
            || ngx_http_ir_name_valid(&cn) != NGX_OK)
        {
            ngx_http_ir_fuzz_fail("an identity that is not the one CN");
        }

    } else if (reason != NGX_HTTP_IR_BAD_IDENTITY) {
        ngx_http_ir_fuzz_fail("a reason the identity cannot have");

    } else if (n == 1 && len >= 0) {
        cn.data = utf8;
        cn.len = len;

        if (ngx_http_ir_name_valid(&cn) == NGX_OK) {
            ngx_http_ir_fuzz_fail("a valid CN refused");
        }
    }

    if (utf8) {
        OPENSSL_free(utf8);
    }

    X509_NAME_free(name);

done:

    ngx_free(input);
    ngx_destroy_pool(pool);

    return 0;
}


static X509_NAME *
ngx_http_ir_fuzz_name(u_char *p, u_char *last)
{
    int               nid, type;
    size_t            len;
    X509_NAME        *name;
    X509_NAME_ENTRY  *entry;

    static int  nids[] = {
        NID_commonName, NID_commonName, NID_organizationName,
        NID_organizationalUnitName, NID_countryName, NID_serialNumber,
        NID_pkcs9_emailAddress, NID_userId
    };

    static int  types[] = {
        V_ASN1_UTF8STRING, V_ASN1_PRINTABLESTRING, V_ASN1_IA5STRING,
        V_ASN1_T61STRING, V_ASN1_BMPSTRING, V_ASN1_UNIVERSALSTRING,
        V_ASN1_VISIBLESTRING, V_ASN1_OCTET_STRING
    };

    name = X509_NAME_new();
    if (name == NULL) {
        ngx_http_ir_fuzz_fail("no memory");
    }

    while (last - p >= 3) {
        nid = nids[p[0] % (sizeof(nids) / sizeof(nids[0]))];
        type = types[p[1] % (sizeof(types) / sizeof(types[0]))];
        len = ngx_min((size_t) p[2], (size_t) (last - p - 3));

        p += 3;

        entry = X509_NAME_ENTRY_create_by_NID(NULL, nid, type, p, len);

        p += len;

        if (entry == NULL) {
            continue;
        }

        if (X509_NAME_add_entry(name, entry, -1, 0) != 1) {
            X509_NAME_ENTRY_free(entry);
            X509_NAME_free(name);
            return NULL;
        }

        X509_NAME_ENTRY_free(entry);
    }

    return name;
}
