
/*
 * ir-access: the client address's country, from a MaxMind database.
 */


#ifndef _NGX_HTTP_IR_GEOIP_H_INCLUDED_
#define _NGX_HTTP_IR_GEOIP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <maxminddb.h>


/* the country of addresses the database does not know */
#define NGX_HTTP_IR_COUNTRY_UNKNOWN  "--"


MMDB_s *ngx_http_ir_geoip_open(ngx_conf_t *cf, ngx_str_t *path);
void ngx_http_ir_geoip_country(MMDB_s *mmdb, struct sockaddr *sa,
    ngx_str_t *country, ngx_pool_t *pool, ngx_log_t *log);


#endif /* _NGX_HTTP_IR_GEOIP_H_INCLUDED_ */
