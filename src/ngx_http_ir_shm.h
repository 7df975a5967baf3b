
/*
 * ir-access: shared zones kept across reloads.
 */


#ifndef _NGX_HTTP_IR_SHM_H_INCLUDED_
#define _NGX_HTTP_IR_SHM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


ngx_int_t ngx_http_ir_shm_init(ngx_shm_zone_t *shm_zone, void *data,
    const char *directive, size_t size, ngx_uint_t version,
    ngx_uint_t optional, void **sh);


#endif /* _NGX_HTTP_IR_SHM_H_INCLUDED_ */
