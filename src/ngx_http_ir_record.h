
/*
 * ir-access: a user's record, as the decision reads it: the user's hash
 * and allowlist, and the hash and scopes of the user's organisation,
 * each value checked and parsed once, when the record is fetched.
 */


#ifndef _NGX_HTTP_IR_RECORD_H_INCLUDED_
#define _NGX_HTTP_IR_RECORD_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_IR_DIGEST_LEN         32      /* SHA-256 */

/* a date field that is there but is no YYYY-MM-DD */
#define NGX_HTTP_IR_DATE_INVALID       ((ngx_uint_t) -1)

/* a quota field that is not there: the configuration's default applies */
#define NGX_HTTP_IR_QUOTA_UNSET        ((ngx_uint_t) -1)

/* what a user's "password" field holds */
#define NGX_HTTP_IR_HASH_NONE          0       /* no such field */
#define NGX_HTTP_IR_HASH_UNKNOWN       1       /* no hash the module knows */
#define NGX_HTTP_IR_HASH_FAST          2       /* nginx's own: ngx_crypt() */
#define NGX_HTTP_IR_HASH_SLOW          3       /* the system's crypt() */


/*
 * A field absent from a hash has data == NULL, an empty one len == 0;
 * "bad" says why a record that exists cannot be used, for the log.
 */

typedef struct {
    unsigned                       found:1;
    ngx_str_t                      bad;
    ngx_str_t                      org;
    ngx_str_t                      status;
    ngx_str_t                      cert;
    ngx_str_t                      password;
    ngx_str_t                      unit;
    ngx_str_t                      scopes;
    ngx_str_t                      rate;
    ngx_str_t                      daily;
    ngx_str_t                      ips_invalid;   /* entries ignored */
    ngx_str_t                      pin_invalid;   /* a word that is no pin */
    ngx_array_t                    ips;           /* of ngx_cidr_t */
    ngx_array_t                    pins;          /* of SHA-256 digests */
    ngx_uint_t                     hash;          /* NGX_HTTP_IR_HASH_* */
    ngx_uint_t                     fails;         /* failed logins */
    ngx_uint_t                     rate_limit;    /* or _QUOTA_UNSET */
    ngx_uint_t                     daily_limit;
} ngx_http_ir_user_t;


typedef struct {
    unsigned                       found:1;
    ngx_str_t                      bad;
    ngx_str_t                      status;
    ngx_str_t                      name;
    ngx_str_t                      contract;
    ngx_str_t                      env;
    ngx_str_t                      valid_from;
    ngx_str_t                      valid_to;
    ngx_str_t                      countries;
    ngx_str_t                      rate;
    ngx_str_t                      daily;
    ngx_uint_t                     from;          /* YYYYMMDD, 0: none */
    ngx_uint_t                     to;
    ngx_uint_t                     rate_limit;    /* or _QUOTA_UNSET */
    ngx_uint_t                     daily_limit;
    ngx_array_t                    scopes;        /* of ngx_str_t */
    ngx_array_t                    purposes;      /* of ngx_str_t */
} ngx_http_ir_org_t;


typedef struct {
    ngx_http_ir_user_t             user;
    ngx_http_ir_org_t              org;
} ngx_http_ir_record_t;


/* a field of a user's or an organisation's hash that the module knows */

typedef struct {
    ngx_str_t                      name;
    ngx_uint_t                     offset;        /* into the user or org */
} ngx_http_ir_field_t;

#define NGX_HTTP_IR_FIELD_UNREAD       ((ngx_uint_t) -1)


extern ngx_http_ir_field_t  ngx_http_ir_user_fields[];
extern ngx_http_ir_field_t  ngx_http_ir_org_fields[];


ngx_int_t ngx_http_ir_record_init(ngx_http_ir_record_t *rec,
    ngx_pool_t *pool);
ngx_int_t ngx_http_ir_record_field(ngx_http_ir_field_t *known, void *part,
    ngx_str_t *bad, ngx_str_t *field, ngx_str_t *value, ngx_pool_t *pool);
ngx_int_t ngx_http_ir_record_ip(ngx_http_ir_user_t *user, ngx_str_t *entry,
    ngx_pool_t *pool);
ngx_int_t ngx_http_ir_record_word(ngx_array_t *words, ngx_str_t *word,
    ngx_pool_t *pool);
ngx_int_t ngx_http_ir_record_finish(ngx_http_ir_record_t *rec,
    ngx_pool_t *pool);
ngx_int_t ngx_http_ir_record_bad(ngx_str_t *bad, ngx_pool_t *pool,
    const char *fmt, ...);

ngx_int_t ngx_http_ir_value_valid(ngx_str_t *value);
u_char *ngx_http_ir_escape(u_char *dst, u_char *last, ngx_str_t *src);
ngx_int_t ngx_http_ir_parse_pin(ngx_str_t *word, u_char *digest);
const char *ngx_http_ir_pin_hint(ngx_str_t *word);
ngx_uint_t ngx_http_ir_hash_kind(ngx_str_t *hash);
ngx_int_t ngx_http_ir_parse_date(ngx_str_t *text, ngx_uint_t *date);
ngx_int_t ngx_http_ir_parse_quota(ngx_str_t *text, ngx_uint_t *quota);
ngx_int_t ngx_http_ir_parse_quotas(ngx_str_t *value, ngx_uint_t n,
    ngx_flag_t *enable, ngx_uint_t limit[2][2], ngx_uint_t *bad);
ngx_int_t ngx_http_ir_parse_time(ngx_str_t *text, time_t *t);
ngx_int_t ngx_http_ir_list_has(ngx_str_t *list, ngx_str_t *word);
ngx_int_t ngx_http_ir_list_find(ngx_array_t *list, ngx_str_t *word);

size_t ngx_http_ir_record_size(ngx_http_ir_record_t *rec);
void ngx_http_ir_record_pack(ngx_http_ir_record_t *rec, u_char *block);
ngx_int_t ngx_http_ir_record_unpack(u_char *block, size_t size,
    ngx_http_ir_record_t *rec, ngx_pool_t *pool);


#endif /* _NGX_HTTP_IR_RECORD_H_INCLUDED_ */
