
/*
 * ir-access: the module's version, written here and nowhere else; the
 * Debian package's version is read from this line (tools/deb.sh).
 */


#ifndef _NGX_HTTP_IR_VERSION_H_INCLUDED_
#define _NGX_HTTP_IR_VERSION_H_INCLUDED_


#define NGX_HTTP_IR_ACCESS_VERSION  "0.9.0"


#endif /* _NGX_HTTP_IR_VERSION_H_INCLUDED_ */
