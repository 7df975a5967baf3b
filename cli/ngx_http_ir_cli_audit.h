
/*
 * ir-access audit: the audit trail's archive and its readers, shared by
 * "audit archive", "audit verify", "audit query" and "audit digest".
 */


#ifndef _NGX_HTTP_IR_CLI_AUDIT_H_INCLUDED_
#define _NGX_HTTP_IR_CLI_AUDIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "ngx_http_ir_cli.h"
#include "ngx_http_ir_trail.h"


#define NGX_HTTP_IR_CLI_AUDIT_DIR      "/var/lib/ir-access/audit"
#define NGX_HTTP_IR_CLI_AUDIT_STREAM   "ir:audit"
#define NGX_HTTP_IR_CLI_AUDIT_GROUP    "ir-access-archive"
#define NGX_HTTP_IR_CLI_AUDIT_YEARS    10

/* entries read from the stream at a time */
#define NGX_HTTP_IR_CLI_AUDIT_PAGE     1000

/* "audit-YYYY-MM-DD.jsonl" and ".gz" */
#define NGX_HTTP_IR_CLI_AUDIT_DAY_LEN  10
#define NGX_HTTP_IR_CLI_AUDIT_ID_LEN   (2 * NGX_INT64_LEN + 1)

/* an entry's fields, at most; the gateway writes about thirty */
#define NGX_HTTP_IR_CLI_AUDIT_FIELDS   1024

#define NGX_HTTP_IR_CLI_LINE_ENTRY     0
#define NGX_HTTP_IR_CLI_LINE_OPENED    1
#define NGX_HTTP_IR_CLI_LINE_CLOSED    2


/* a stream id, "<ms>-<seq>" */

typedef struct {
    uint64_t                       ms;
    uint64_t                       seq;
} ngx_http_ir_cli_id_t;


/*
 * An entry: its stream id and its fields in order, pointing into a
 * Redis reply or into a line of an archive file.
 */

typedef struct {
    ngx_str_t                      id;
    ngx_http_ir_cli_id_t           sid;
    ngx_array_t                    fields;        /* of ngx_keyval_t */
    unsigned                       deleted:1;     /* pending, but gone */
    unsigned                       first:1;       /* of a page */
} ngx_http_ir_cli_entry_t;


/*
 * A line of an archive file: an entry; the line that opens a day's file,
 * with the digest of the day before; or the one that closes it, with its
 * own.
 */

typedef struct {
    ngx_uint_t                     kind;          /* NGX_HTTP_IR_CLI_LINE_* */
    ngx_array_t                    kv;            /* every name and value */
    ngx_http_ir_cli_entry_t        entry;         /* an entry's, in kv */
    ngx_str_t                      day;
    ngx_str_t                      prev;          /* opened */
    ngx_uint_t                     entries;       /* closed */
    ngx_str_t                      first;
    ngx_str_t                      last;
    ngx_str_t                      sha256;
    u_char                        *data;          /* decoded strings */
    size_t                         size;
} ngx_http_ir_cli_line_t;


/* a day of the archive, its file compressed or not */

typedef struct {
    u_char                         day[NGX_HTTP_IR_CLI_AUDIT_DAY_LEN + 1];
    ngx_str_t                      path;          /* the one to read */
    ngx_str_t                      plain;
    unsigned                       gz:1;          /* path is the .gz */
    unsigned                       has_plain:1;
} ngx_http_ir_cli_day_t;


/* an archive file read line by line, compressed or not, and hashed */

typedef struct {
    gzFile                         gz;
    ngx_str_t                      path;
    u_char                        *buf;
    size_t                         size;
    u_char                        *pos;
    u_char                        *last;
    u_char                        *prev;          /* the last line returned */
    ngx_uint_t                     line;          /* its number */
    off_t                          offset;        /* the next one's */
    EVP_MD_CTX                    *md;            /* what was read before */
    unsigned                       eof:1;
    unsigned                       torn:1;        /* no end of line */
} ngx_http_ir_cli_reader_t;


/* where a read of the archive stopped, to go on from */

typedef struct {
    u_char                         day[NGX_HTTP_IR_CLI_AUDIT_DAY_LEN + 1];
    off_t                          offset;        /* uncompressed */
    ngx_uint_t                     line;
} ngx_http_ir_cli_resume_t;


/* an entry of the stream, or of the archive's day d at a line */

typedef ngx_int_t (*ngx_http_ir_cli_entry_pt)(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_entry_t *e, void *data);
typedef ngx_int_t (*ngx_http_ir_cli_archived_pt)(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_day_t *d, ngx_uint_t line, ngx_http_ir_cli_entry_t *e,
    void *data);


/* ngx_http_ir_cli_audit.c */

ngx_int_t ngx_http_ir_cli_id_parse(ngx_str_t *text, ngx_http_ir_cli_id_t *id);
ngx_int_t ngx_http_ir_cli_id_cmp(ngx_http_ir_cli_id_t *one,
    ngx_http_ir_cli_id_t *two);
u_char *ngx_http_ir_cli_id_print(u_char *p, ngx_http_ir_cli_id_t *id);
void ngx_http_ir_cli_id_next(ngx_http_ir_cli_id_t *id);

u_char *ngx_http_ir_cli_day(u_char *p, int64_t ms);
int64_t ngx_http_ir_cli_day_start(u_char *day);
int64_t ngx_http_ir_cli_ms(ngx_str_t *time);
ngx_int_t ngx_http_ir_cli_when(char *arg, ngx_uint_t until, int64_t *ms);
u_char *ngx_http_ir_cli_ms_print(u_char *p, int64_t ms);

size_t ngx_http_ir_cli_json_len(ngx_str_t *s);
u_char *ngx_http_ir_cli_json(u_char *p, ngx_str_t *s);
size_t ngx_http_ir_cli_entry_len(ngx_http_ir_cli_entry_t *e);
u_char *ngx_http_ir_cli_entry_json(u_char *p, ngx_http_ir_cli_entry_t *e);
ngx_int_t ngx_http_ir_cli_line_init(ngx_http_ir_cli_line_t *l,
    ngx_pool_t *pool);
void ngx_http_ir_cli_line_free(ngx_http_ir_cli_line_t *l);
ngx_int_t ngx_http_ir_cli_line_parse(ngx_http_ir_cli_line_t *l,
    u_char *p, size_t len);
ngx_str_t *ngx_http_ir_cli_field(ngx_http_ir_cli_entry_t *e,
    const char *name);
ngx_int_t ngx_http_ir_cli_entry_init(ngx_http_ir_cli_entry_t *e,
    ngx_pool_t *pool);
ngx_int_t ngx_http_ir_cli_entry_reply(ngx_http_ir_cli_entry_t *e,
    redisReply *r);

ngx_int_t ngx_http_ir_cli_archive_days(ngx_http_ir_cli_t *cli,
    ngx_array_t *days, u_char *from);
ngx_int_t ngx_http_ir_cli_reader_open(ngx_http_ir_cli_reader_t *rd,
    ngx_str_t *path, ngx_uint_t hash);
ngx_int_t ngx_http_ir_cli_reader_next(ngx_http_ir_cli_reader_t *rd,
    ngx_str_t *line);
ngx_int_t ngx_http_ir_cli_reader_digest(ngx_http_ir_cli_reader_t *rd,
    u_char *hex);
void ngx_http_ir_cli_reader_close(ngx_http_ir_cli_reader_t *rd);
ngx_int_t ngx_http_ir_cli_tail(ngx_str_t *path,
    ngx_http_ir_cli_line_t *l);
ngx_int_t ngx_http_ir_cli_last_archived(ngx_array_t *days,
    ngx_http_ir_cli_line_t *l, ngx_http_ir_cli_id_t *id);

ngx_int_t ngx_http_ir_cli_resume(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_resume_t *rs, ngx_http_ir_cli_id_t *after,
    ngx_http_ir_cli_id_t *before, ngx_http_ir_cli_line_t *l,
    ngx_http_ir_cli_archived_pt handler, void *data);
ngx_int_t ngx_http_ir_cli_stream_pages(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_id_t *start, ngx_http_ir_cli_id_t *end,
    ngx_http_ir_cli_entry_pt handler, void *data);
void ngx_http_ir_cli_audit_pause(void);
ngx_int_t ngx_http_ir_cli_redis_time(ngx_http_ir_cli_t *cli, int64_t *ms);
ngx_int_t ngx_http_ir_cli_reply_error(redisReply *r, const char *what);


#endif /* _NGX_HTTP_IR_CLI_AUDIT_H_INCLUDED_ */
