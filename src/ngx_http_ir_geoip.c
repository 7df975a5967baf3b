
/*
 * ir-access: the client address's country, from a MaxMind database.
 *
 * The database is opened once per configuration, memory-mapped, so that
 * the workers share the master's mapping; it is closed with the cycle
 * that opened it.  Both MaxMind's layout ("country" / "iso_code", in
 * country and city databases) and the flat "country_code" of the freely
 * licensed ip-location-db databases are read.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_geoip.h"


static void ngx_http_ir_geoip_close(void *data);


MMDB_s *
ngx_http_ir_geoip_open(ngx_conf_t *cf, ngx_str_t *path)
{
    int                  rc;
    MMDB_s              *mmdb;
    ngx_err_t            err;
    ngx_pool_cleanup_t  *cln;

    if (ngx_conf_full_name(cf->cycle, path, 0) != NGX_OK) {
        return NULL;
    }

    mmdb = ngx_pcalloc(cf->pool, sizeof(MMDB_s));
    if (mmdb == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    ngx_set_errno(0);

    rc = MMDB_open((char *) path->data, MMDB_MODE_MMAP, mmdb);

    if (rc != MMDB_SUCCESS) {
        err = (rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR)
              ? ngx_errno : 0;

        ngx_conf_log_error(NGX_LOG_EMERG, cf, err,
                           "cannot open the MaxMind database \"%V\": %s",
                           path, MMDB_strerror(rc));
        return NULL;
    }

    cln->handler = ngx_http_ir_geoip_close;
    cln->data = mmdb;

    return mmdb;
}


void
ngx_http_ir_geoip_country(MMDB_s *mmdb, struct sockaddr *sa,
    ngx_str_t *country, ngx_pool_t *pool, ngx_log_t *log)
{
    int                    mmdb_error;
    MMDB_entry_data_s      data;
    MMDB_lookup_result_s   result;
#if (NGX_HAVE_INET6)
    struct sockaddr_in     sin;
    struct sockaddr_in6   *sin6;
#endif

    ngx_str_set(country, NGX_HTTP_IR_COUNTRY_UNKNOWN);

#if (NGX_HAVE_INET6)

    /* an IPv4-mapped address is looked up as the IPv4 address it is */

    if (sa->sa_family == AF_INET6) {
        sin6 = (struct sockaddr_in6 *) sa;

        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            ngx_memzero(&sin, sizeof(struct sockaddr_in));
            sin.sin_family = AF_INET;
            ngx_memcpy(&sin.sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
            sa = (struct sockaddr *) &sin;
        }
    }

#endif

    if (sa->sa_family != AF_INET
#if (NGX_HAVE_INET6)
        && sa->sa_family != AF_INET6
#endif
       )
    {
        return;
    }

    result = MMDB_lookup_sockaddr(mmdb, sa, &mmdb_error);

    if (mmdb_error != MMDB_SUCCESS) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "ir_access: MaxMind lookup failed: %s",
                      MMDB_strerror(mmdb_error));
        return;
    }

    if (!result.found_entry) {
        return;
    }

    if (MMDB_get_value(&result.entry, &data, "country", "iso_code", NULL)
        != MMDB_SUCCESS
        || !data.has_data)
    {
        if (MMDB_get_value(&result.entry, &data, "country_code", NULL)
            != MMDB_SUCCESS
            || !data.has_data)
        {
            return;
        }
    }

    if (data.type != MMDB_DATA_TYPE_UTF8_STRING
        || data.data_size == 0 || data.data_size > 8)
    {
        return;
    }

    country->data = ngx_pnalloc(pool, data.data_size);
    if (country->data == NULL) {
        ngx_str_set(country, NGX_HTTP_IR_COUNTRY_UNKNOWN);
        return;
    }

    ngx_memcpy(country->data, data.utf8_string, data.data_size);
    country->len = data.data_size;
}


static void
ngx_http_ir_geoip_close(void *data)
{
    MMDB_s *mmdb = data;

    MMDB_close(mmdb);
}
