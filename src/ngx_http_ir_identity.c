
/*
 * ir-access: who the client is, from its verified certificate.
 *
 * The identity comes from the certificate that OpenSSL verified and
 * nothing else: no header a client sent is ever read for it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_identity.h"


static void ngx_http_ir_identity_examine(ngx_connection_t *c,
    ngx_http_ir_peer_t *peer);
static ngx_uint_t ngx_http_ir_identity_cn(ngx_connection_t *c, X509 *cert,
    ngx_http_ir_peer_t *peer);
static void ngx_http_ir_identity_free(void *parent, void *ptr,
    CRYPTO_EX_DATA *ad, int idx, long argl, void *argp);


static int  ngx_http_ir_peer_index = -1;


ngx_int_t
ngx_http_ir_identity_init(ngx_log_t *log)
{
    if (ngx_http_ir_peer_index != -1) {
        return NGX_OK;
    }

    ngx_http_ir_peer_index = SSL_get_ex_new_index(0, NULL, NULL, NULL,
                                                  ngx_http_ir_identity_free);

    if (ngx_http_ir_peer_index == -1) {
        ngx_ssl_error(NGX_LOG_EMERG, log, 0, "SSL_get_ex_new_index() failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_http_ir_peer_t *
ngx_http_ir_identity_peer(ngx_connection_t *c)
{
    ngx_http_ir_peer_t  *peer;

    static ngx_http_ir_peer_t  no_tls;

    if (c->ssl == NULL) {
        no_tls.reason = NGX_HTTP_IR_CERT_REQUIRED;
        return &no_tls;
    }

    peer = SSL_get_ex_data(c->ssl->connection, ngx_http_ir_peer_index);
    if (peer) {
        return peer;
    }

    /* freed with the SSL object: an HTTP/2 stream's pool is too short */

    peer = ngx_calloc(sizeof(ngx_http_ir_peer_t), c->log);
    if (peer == NULL) {
        return NULL;
    }

    if (SSL_set_ex_data(c->ssl->connection, ngx_http_ir_peer_index, peer)
        == 0)
    {
        ngx_ssl_error(NGX_LOG_ALERT, c->log, 0, "SSL_set_ex_data() failed");
        ngx_free(peer);
        return NULL;
    }

    ngx_http_ir_identity_examine(c, peer);

    return peer;
}


ngx_int_t
ngx_http_ir_identity_valid(ngx_str_t *name)
{
    u_char  *p, *last;

    if (name->len == 0 || name->len > NGX_HTTP_IR_IDENTITY_MAX) {
        return NGX_DECLINED;
    }

    last = name->data + name->len;

    for (p = name->data; p < last; p++) {

        if ((*p >= 'a' && *p <= 'z')
            || (*p >= 'A' && *p <= 'Z')
            || (*p >= '0' && *p <= '9')
            || *p == '.' || *p == '_' || *p == '@' || *p == '-')
        {
            continue;
        }

        return NGX_DECLINED;
    }

    return NGX_OK;
}


static void
ngx_http_ir_identity_examine(ngx_connection_t *c, ngx_http_ir_peer_t *peer)
{
    X509          *cert;
    long           rc;
    unsigned int   len;
    u_char         md[EVP_MAX_MD_SIZE];

    cert = SSL_get_peer_certificate(c->ssl->connection);

    if (cert == NULL) {
        peer->reason = NGX_HTTP_IR_CERT_REQUIRED;
        return;
    }

    /*
     * "ssl_verify_client optional_no_ca" lets unverified certificates
     * through nginx; they prove nothing here.
     */

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "ir_access: client certificate not verified: %s",
                      X509_verify_cert_error_string(rc));
        peer->reason = NGX_HTTP_IR_CERT_REQUIRED;
        X509_free(cert);
        return;
    }

    if (X509_digest(cert, EVP_sha256(), md, &len) == 0
        || len * 2 != NGX_HTTP_IR_SHA256_HEX)
    {
        ngx_ssl_error(NGX_LOG_ALERT, c->log, 0, "X509_digest() failed");
        peer->reason = NGX_HTTP_IR_CERT_REQUIRED;
        X509_free(cert);
        return;
    }

    ngx_hex_dump(peer->cert_sha256, md, len);
    ngx_memcpy(peer->cert_digest, md, len);

    peer->reason = ngx_http_ir_identity_cn(c, cert, peer);

    X509_free(cert);
}


static ngx_uint_t
ngx_http_ir_identity_cn(ngx_connection_t *c, X509 *cert,
    ngx_http_ir_peer_t *peer)
{
    int               i, len;
    u_char           *utf8;
    ngx_str_t         cn;
    X509_NAME        *name;
    ASN1_STRING      *value;
    X509_NAME_ENTRY  *entry;

    name = X509_get_subject_name(cert);
    if (name == NULL) {
        return NGX_HTTP_IR_BAD_IDENTITY;
    }

    i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);

    if (i < 0) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "ir_access: client certificate has no subject CN");
        return NGX_HTTP_IR_BAD_IDENTITY;
    }

    /* two CNs would leave the choice to whoever ordered them */

    if (X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "ir_access: client certificate has several subject CNs");
        return NGX_HTTP_IR_BAD_IDENTITY;
    }

    entry = X509_NAME_get_entry(name, i);
    value = X509_NAME_ENTRY_get_data(entry);

    len = ASN1_STRING_to_UTF8(&utf8, value);
    if (len < 0) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "ir_access: client certificate CN is not a string");
        return NGX_HTTP_IR_BAD_IDENTITY;
    }

    cn.data = utf8;
    cn.len = len;

    if (ngx_http_ir_identity_valid(&cn) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "ir_access: client certificate CN \"%*s\" is not a "
                      "valid user name", ngx_min(cn.len, 128), cn.data);
        OPENSSL_free(utf8);
        return NGX_HTTP_IR_BAD_IDENTITY;
    }

    peer->cn.data = ngx_cpymem(peer->cn_data, cn.data, cn.len) - cn.len;
    peer->cn.len = cn.len;

    OPENSSL_free(utf8);

    return 0;
}


static void
ngx_http_ir_identity_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad,
    int idx, long argl, void *argp)
{
    if (ptr) {
        ngx_free(ptr);
    }
}
