
/*
 * ir-access: shared zones kept across reloads.
 */


#ifndef _NGX_HTTP_IR_SHM_H_INCLUDED_
#define _NGX_HTTP_IR_SHM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * How a node of a zone's tree compares with what is sought under its
 * key: less than 0 where the sought one orders before the node, 0 for
 * the node itself.
 */
typedef ngx_int_t (*ngx_http_ir_shm_cmp_pt)(ngx_rbtree_node_t *node,
    void *data);


ngx_int_t ngx_http_ir_shm_init(ngx_shm_zone_t *shm_zone, void *data,
    const char *directive, size_t size, ngx_uint_t version,
    ngx_uint_t optional, void **sh);
ngx_rbtree_node_t *ngx_http_ir_shm_lookup(ngx_rbtree_t *rbtree,
    ngx_rbtree_key_t key, ngx_http_ir_shm_cmp_pt cmp, void *data);
void ngx_http_ir_shm_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel, ngx_http_ir_shm_cmp_pt cmp, void *data);


#endif /* _NGX_HTTP_IR_SHM_H_INCLUDED_ */
