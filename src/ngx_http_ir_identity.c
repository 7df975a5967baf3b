
/*
 * ir-access: who the client is, from its verified certificate.
 *
 * The identity comes from the certificate that OpenSSL verified and
 * nothing else: no header a client sent is ever read for it.  And the
 * certificate must have been verified with the trust of the server the
 * request is for: a client that sends no SNI is verified by the default
 * server's configuration, whose CA may be another's.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_identity.h"


static void ngx_http_ir_identity_examine(ngx_connection_t *c,
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
ngx_http_ir_identity_peer(ngx_http_request_t *r)
{
    ngx_connection_t         *c;
    ngx_http_ir_peer_t       *peer;
    ngx_http_ssl_srv_conf_t  *sscf;

    static ngx_http_ir_peer_t  no_tls;

    c = r->connection;

    if (c->ssl == NULL) {
        no_tls.reason = NGX_HTTP_IR_CERT_REQUIRED;
        return &no_tls;
    }

    sscf = ngx_http_get_module_srv_conf(r, ngx_http_ssl_module);

    if (SSL_get_SSL_CTX(c->ssl->connection) != sscf->ssl.ctx) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "ir_access: the client certificate was verified by "
                      "another server's configuration (a client that sent "
                      "no SNI, or another name in it), not by this "
                      "server's \"ssl_client_certificate\"");
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

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "ir_access: the connection's client certificate: "
                   "CN \"%V\", reason %ui", &peer->cn, peer->reason);

    return peer;
}


static void
ngx_http_ir_identity_examine(ngx_connection_t *c, ngx_http_ir_peer_t *peer)
{
    X509          *cert;
    long           rc;
    struct tm      tm;
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

    /* when it expires, for the administrators' report */

    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1) {
        peer->not_after.data = peer->not_after_data;
        peer->not_after.len = ngx_http_ir_time(peer->not_after_data,
                                               timegm(&tm), 0)
                              - peer->not_after_data;
    }

    peer->reason = ngx_http_ir_identity_name(X509_get_subject_name(cert),
                                             &peer->cn, peer->cn_data,
                                             c->log);

    X509_free(cert);
}


/*
 * The identity a certificate's subject names: its one CN, read as UTF-8,
 * that is a valid name.  0 with the name copied into buf (room for
 * NGX_HTTP_IR_NAME_MAX bytes), or NGX_HTTP_IR_BAD_IDENTITY, logged at
 * info as the client's doing.  It needs nothing of a connection, so that
 * it can be fuzzed with names made by OpenSSL alone.
 */

ngx_uint_t
ngx_http_ir_identity_name(X509_NAME *name, ngx_str_t *cn, u_char *buf,
    ngx_log_t *log)
{
    int               i, len;
    u_char           *utf8;
    ngx_str_t         value;
    ASN1_STRING      *data;
    X509_NAME_ENTRY  *entry;
    u_char            text[NGX_HTTP_IR_NAME_MAX * 2];

    if (name == NULL) {
        return NGX_HTTP_IR_BAD_IDENTITY;
    }

    i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);

    if (i < 0) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "ir_access: client certificate has no subject CN");
        return NGX_HTTP_IR_BAD_IDENTITY;
    }

    /* two CNs would leave the choice to whoever ordered them */

    if (X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "ir_access: client certificate has several subject CNs");
        return NGX_HTTP_IR_BAD_IDENTITY;
    }

    entry = X509_NAME_get_entry(name, i);
    data = X509_NAME_ENTRY_get_data(entry);

    len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len < 0) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "ir_access: client certificate CN is not a string");
        return NGX_HTTP_IR_BAD_IDENTITY;
    }

    value.data = utf8;
    value.len = len;

    if (ngx_http_ir_name_valid(&value) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "ir_access: client certificate CN \"%*s\" is not a "
                      "valid user name",
                      ngx_http_ir_escape(text, text + sizeof(text), &value)
                      - text, text);
        OPENSSL_free(utf8);
        return NGX_HTTP_IR_BAD_IDENTITY;
    }

    cn->data = buf;
    cn->len = ngx_cpymem(buf, value.data, value.len) - buf;

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
