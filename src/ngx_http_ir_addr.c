
/*
 * ir-access: a user's address allowlist.
 *
 * Entries are IPv4 or IPv6 addresses or CIDR prefixes, as admins write
 * them into "ir:user:<name>:ips".
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_addr.h"


/*
 * NGX_OK for a usable entry, NGX_DONE for a prefix with host bits set
 * (taken as its network, as "allow" takes it), NGX_ERROR otherwise.
 */

ngx_int_t
ngx_http_ir_addr_parse(ngx_str_t *entry, ngx_cidr_t *cidr)
{
    ngx_int_t  rc;

    if (entry->len == 0 || entry->len > NGX_SOCKADDR_STRLEN + 4) {
        return NGX_ERROR;
    }

    rc = ngx_ptocidr(entry, cidr);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (cidr->family != AF_INET
#if (NGX_HAVE_INET6)
        && cidr->family != AF_INET6
#endif
       )
    {
        return NGX_ERROR;
    }

    return rc;
}


ngx_int_t
ngx_http_ir_addr_match(struct sockaddr *sa, ngx_array_t *cidrs)
{
#if (NGX_HAVE_INET6)
    u_char               *p;
    in_addr_t             addr;
    struct sockaddr_in    sin;
    struct sockaddr_in6  *sin6;
#endif

    if (cidrs->nelts == 0) {
        return NGX_DECLINED;
    }

#if (NGX_HAVE_INET6)

    /* an IPv4-mapped client address matches the IPv4 entries */

    if (sa->sa_family == AF_INET6) {
        sin6 = (struct sockaddr_in6 *) sa;

        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            p = sin6->sin6_addr.s6_addr;

            addr = (in_addr_t) p[12] << 24;
            addr += p[13] << 16;
            addr += p[14] << 8;
            addr += p[15];

            ngx_memzero(&sin, sizeof(struct sockaddr_in));
            sin.sin_family = AF_INET;
            sin.sin_addr.s_addr = htonl(addr);

            return ngx_cidr_match((struct sockaddr *) &sin, cidrs);
        }
    }

#endif

    if (sa->sa_family != AF_INET
#if (NGX_HAVE_INET6)
        && sa->sa_family != AF_INET6
#endif
       )
    {
        /* a unix socket client has no address to allow */
        return NGX_DECLINED;
    }

    return ngx_cidr_match(sa, cidrs);
}
