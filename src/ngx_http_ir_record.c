
/*
 * ir-access: a user's record packed into one block.
 *
 * The block is the record's image, followed by its allowlist, its
 * organisation's scopes and all its strings; pointers in the image are
 * offsets into the block, plus one, so that an absent string (NULL) stays
 * absent.  A request unpacks a block with one copy of what follows the
 * image into its pool and a pass over the pointers: the allowlist is
 * parsed once, when the record is fetched, not on every request that
 * uses it.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_record.h"


#define ngx_http_ir_record_align(n)  ngx_align(n, sizeof(void *))


static ngx_uint_t  ngx_http_ir_record_strings[] = {
    offsetof(ngx_http_ir_record_t, user.org),
    offsetof(ngx_http_ir_record_t, user.status),
    offsetof(ngx_http_ir_record_t, user.cert),
    offsetof(ngx_http_ir_record_t, user.password),
    offsetof(ngx_http_ir_record_t, user.unit),
    offsetof(ngx_http_ir_record_t, user.scopes),
    offsetof(ngx_http_ir_record_t, org.status),
    offsetof(ngx_http_ir_record_t, org.name),
    offsetof(ngx_http_ir_record_t, org.contract),
    offsetof(ngx_http_ir_record_t, org.env),
    offsetof(ngx_http_ir_record_t, org.valid_from),
    offsetof(ngx_http_ir_record_t, org.valid_to),
    offsetof(ngx_http_ir_record_t, org.countries)
};

#define NGX_HTTP_IR_RECORD_STRINGS                                          \
    (sizeof(ngx_http_ir_record_strings) / sizeof(ngx_uint_t))


static u_char *ngx_http_ir_record_array(u_char *block, u_char *p,
    ngx_array_t *a);
static u_char *ngx_http_ir_record_string(u_char *block, u_char *p,
    ngx_str_t *s);


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
    size += rec->org.scopes.nelts * sizeof(ngx_str_t);

    for (i = 0; i < NGX_HTTP_IR_RECORD_STRINGS; i++) {
        s = (ngx_str_t *) ((u_char *) rec + ngx_http_ir_record_strings[i]);
        size += s->len;
    }

    s = rec->org.scopes.elts;

    for (i = 0; i < rec->org.scopes.nelts; i++) {
        size += s[i].len;
    }

    return size;
}


void
ngx_http_ir_record_pack(ngx_http_ir_record_t *rec, u_char *block)
{
    u_char                *p;
    ngx_str_t             *s, *scope;
    ngx_uint_t             i;
    ngx_http_ir_record_t  *image;

    image = (ngx_http_ir_record_t *) block;
    *image = *rec;

    p = block + ngx_http_ir_record_align(sizeof(ngx_http_ir_record_t));

    p = ngx_http_ir_record_array(block, p, &image->user.ips);
    p = ngx_http_ir_record_array(block, p, &image->user.pins);

    scope = (ngx_str_t *) p;
    p = ngx_http_ir_record_array(block, p, &image->org.scopes);

    for (i = 0; i < image->org.scopes.nelts; i++) {
        p = ngx_http_ir_record_string(block, p, &scope[i]);
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

    p = ngx_cpymem(p, elts, a->nelts * a->size);

    return block + ngx_http_ir_record_align(p - block);
}


/* likewise a string, but for an absent one, which stays NULL */

static u_char *
ngx_http_ir_record_string(u_char *block, u_char *p, ngx_str_t *s)
{
    if (s->data == NULL) {
        return p;
    }

    ngx_memcpy(p, s->data, s->len);
    s->data = (u_char *) (p - block + 1);

    return p + s->len;
}


/*
 * The image is read into the caller's record and only what follows it is
 * copied, into the request's pool: a hit costs one copy of the payload,
 * not two of the image, and keeps the request within its first pool
 * blocks.
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

    copy = ngx_palloc(pool, size - image);
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

#undef ngx_http_ir_record_pointer

    return NGX_OK;
}
