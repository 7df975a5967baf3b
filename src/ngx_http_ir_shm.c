
/*
 * ir-access: shared zones kept across reloads.
 *
 * A zone's shared part is found again on a reload, as limit_req finds
 * its own, so that what it holds goes on.  A reload may load another
 * build of the module, though, whose part is laid out otherwise: every
 * part starts with the version of its layout, an ngx_uint_t, for the
 * new build to tell.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_shm.h"


/*
 * The zone's part, in "*sh": NGX_OK for the part of the nginx that ran
 * before; NGX_DONE for a new one, zeroed but for its version, for the
 * caller to lay out; NGX_ERROR without memory.  A part of another
 * version, which old workers may still use, refuses the reload, unless
 * the zone is "optional" to the module: then NGX_DECLINED, with "*sh"
 * NULL, for the caller to go without it and say so.  "data" is the init
 * handler's: the zone's in the old cycle, or NULL.
 */

ngx_int_t
ngx_http_ir_shm_init(ngx_shm_zone_t *shm_zone, void *data,
    const char *directive, size_t size, ngx_uint_t version,
    ngx_uint_t optional, void **sh)
{
    size_t            len;
    ngx_uint_t       *part;
    ngx_slab_pool_t  *shpool;

    *sh = NULL;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data || shm_zone->shm.exists) {
        part = shpool->data;

        if (*part != version) {
            if (optional) {
                return NGX_DECLINED;
            }

            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "%s zone was laid out by another version of the "
                          "module: restart nginx", directive);
            return NGX_ERROR;
        }

        *sh = part;

        return NGX_OK;
    }

    part = ngx_slab_calloc(shpool, size);
    if (part == NULL) {
        return NGX_ERROR;
    }

    *part = version;
    shpool->data = part;
    *sh = part;

    len = sizeof(" in  zone \"\"") + ngx_strlen(directive)
          + shm_zone->shm.name.len;

    shpool->log_ctx = ngx_slab_alloc(shpool, len);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in %s zone \"%V\"%Z", directive,
                &shm_zone->shm.name);

    return NGX_DONE;
}


/*
 * The node under "key" that "cmp" finds "data" in, or NULL: the lookup
 * of limit_req's tree, for nodes that differ beyond their hash.
 */

ngx_rbtree_node_t *
ngx_http_ir_shm_lookup(ngx_rbtree_t *rbtree, ngx_rbtree_key_t key,
    ngx_http_ir_shm_cmp_pt cmp, void *data)
{
    ngx_int_t           rc;
    ngx_rbtree_node_t  *node, *sentinel;

    node = rbtree->root;
    sentinel = rbtree->sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        /* key == node->key */

        rc = cmp(node, data);

        if (rc == 0) {
            return node;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/*
 * A tree's insert_value: "data" is what "cmp" finds the new node by, so
 * that a lookup finds it where it was put.
 */

void
ngx_http_ir_shm_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel, ngx_http_ir_shm_cmp_pt cmp, void *data)
{
    ngx_rbtree_node_t  **p;

    for ( ;; ) {

        if (node->key < temp->key) {

            p = &temp->left;

        } else if (node->key > temp->key) {

            p = &temp->right;

        } else { /* node->key == temp->key */

            p = (cmp(temp, data) < 0) ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}
