
/*
 * ir-access: a user's address allowlist.
 *
 * Entries are IPv4 or IPv6 addresses or CIDR prefixes, as admins write
 * them into "ir:user:<name>:ips".  An entry is taken exactly as written
 * or not at all: a prefix with host bits set ("127.0.0.15/24", or the
 * "127.0.0.15/0" that was meant as /32) is a typo, never the network it
 * would widen to; and the entries that allow every address are only
 * taken written as "0.0.0.0/0" and "::/0".  An entry written as
 * IPv4-mapped IPv6 ("::ffff:192.0.2.7", "::ffff:10.0.0.0/104") is the
 * IPv4 address or network it names, as mapped clients are matched as
 * IPv4: kept as IPv6, it would never match anyone.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_ir_addr.h"


#if (NGX_HAVE_INET6)
static ngx_int_t ngx_http_ir_addr_mapped(ngx_cidr_t *cidr);
#endif


/*
 * NGX_OK for a usable entry, NGX_DONE for one that allows every address,
 * NGX_ERROR for one that is to be ignored.
 */

ngx_int_t
ngx_http_ir_addr_parse(ngx_str_t *entry, ngx_cidr_t *cidr)
{
    u_char  *p, *last;

    if (entry->len == 0 || entry->len > NGX_SOCKADDR_STRLEN + 4) {
        return NGX_ERROR;
    }

    last = entry->data + entry->len;

    for (p = entry->data; p < last; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')
              || (*p >= 'A' && *p <= 'F') || *p == '.' || *p == ':'
              || *p == '/'))
        {
            return NGX_ERROR;
        }
    }

    /* ngx_ptocidr() says NGX_DONE for host bits set past the prefix */

    if (ngx_ptocidr(entry, cidr) != NGX_OK) {
        return NGX_ERROR;
    }

    switch (cidr->family) {

    case AF_INET:
        if (cidr->u.in.mask == 0) {
            return (entry->len == sizeof("0.0.0.0/0") - 1
                    && ngx_strncmp(entry->data, "0.0.0.0/0", entry->len) == 0)
                   ? NGX_DONE : NGX_ERROR;
        }

        return NGX_OK;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        if (cidr->u.in6.mask.s6_addr[0] == 0) {
            return (entry->len == sizeof("::/0") - 1
                    && ngx_strncmp(entry->data, "::/0", entry->len) == 0)
                   ? NGX_DONE : NGX_ERROR;
        }

        if (IN6_IS_ADDR_V4MAPPED(&cidr->u.in6.addr)
            && cidr->u.in6.mask.s6_addr[11] == 0xff)
        {
            return ngx_http_ir_addr_mapped(cidr);
        }

        return NGX_OK;
#endif

    default:
        return NGX_ERROR;
    }
}


#if (NGX_HAVE_INET6)

/*
 * A mapped prefix of /96 or longer, as the IPv4 one it names; "/96"
 * itself would allow every IPv4 address, and is not "0.0.0.0/0".
 */

static ngx_int_t
ngx_http_ir_addr_mapped(ngx_cidr_t *cidr)
{
    u_char     *addr, *mask;
    in_addr_t   a, m;

    addr = cidr->u.in6.addr.s6_addr;
    mask = cidr->u.in6.mask.s6_addr;

    a = (in_addr_t) addr[12] << 24 | addr[13] << 16 | addr[14] << 8
        | addr[15];
    m = (in_addr_t) mask[12] << 24 | mask[13] << 16 | mask[14] << 8
        | mask[15];

    if (m == 0) {
        return NGX_ERROR;
    }

    cidr->family = AF_INET;
    cidr->u.in.addr = htonl(a);
    cidr->u.in.mask = htonl(m);

    return NGX_OK;
}

#endif


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
