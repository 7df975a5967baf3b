
/*
 * ir-access: the administrators' command-line tool.  It reads the same
 * records with the same code as the gateway (src/: the key schema, the
 * lookup script and its reply, the parsing of every field and the
 * decision), so that the two can never disagree.
 */


#ifndef _NGX_HTTP_IR_CLI_H_INCLUDED_
#define _NGX_HTTP_IR_CLI_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <hiredis/hiredis.h>

#include "ngx_http_ir_notice.h"
#include "ngx_http_ir_record.h"
#include "ngx_http_ir_schema.h"
#include "ngx_http_ir_zone.h"


/* exit codes, as "ir-access --help" tells them */

#define NGX_HTTP_IR_CLI_OK             0
#define NGX_HTTP_IR_CLI_FOUND          1      /* errors found; denied */
#define NGX_HTTP_IR_CLI_USAGE          2
#define NGX_HTTP_IR_CLI_CONF           3
#define NGX_HTTP_IR_CLI_REDIS          4
#define NGX_HTTP_IR_CLI_INTERNAL       5

/* what "check" and "report" look ahead and back by default, days */

#define NGX_HTTP_IR_CLI_DAYS           30
#define NGX_HTTP_IR_CLI_IDLE_DAYS      90

/* commands sent to Redis before their replies are read */

#define NGX_HTTP_IR_CLI_BATCH          500


/* an "ir_access_quota", as the gateway reads it */

typedef struct {
    ngx_flag_t                     enable;
    ngx_uint_t                     limit[2][2];   /* [who][period] */
} ngx_http_ir_cli_quota_t;


/* what the nginx configuration, or the options, say */

typedef struct {
    ngx_str_t                      file;          /* -c */
    ngx_str_t                      address;       /* as ir_access_redis */
    ngx_str_t                      master;        /* sentinel= */
    ngx_str_t                      user;
    ngx_str_t                      password;
    ngx_str_t                      password_file;
    ngx_int_t                      db;
    ngx_str_t                      prefix;
    ngx_msec_t                     timeout;

    ngx_array_t                    scopes;        /* every ir_access_scope */
    ngx_array_t                    envs;          /* every ir_access_env */
    ngx_array_t                    lockouts;      /* of ngx_uint_t limits */
    ngx_array_t                    quotas;        /* of ngx_http_ir_cli_
                                                     quota_t */
    ngx_str_t                      timezone;      /* ir_access_timezone */
    ngx_http_ir_zone_t             zone;          /* the days of contracts
                                                     and quotas */
    ngx_str_t                      audit_stream;  /* ir_access_audit's */

    unsigned                       read:1;        /* a file was read */
    unsigned                       pin_off:1;     /* cert_pin off somewhere */
    unsigned                       password_on:1;
    unsigned                       purpose_on:1;
} ngx_http_ir_cli_conf_t;


typedef struct ngx_http_ir_cli_s  ngx_http_ir_cli_t;

typedef int (*ngx_http_ir_cli_handler_pt)(ngx_http_ir_cli_t *cli);


/* a command, or a group of them ("ir-access audit verify") */

typedef struct ngx_http_ir_cli_command_s  ngx_http_ir_cli_command_t;

struct ngx_http_ir_cli_command_s {
    const char                    *name;
    const char                    *synopsis;
    const char                    *summary;
    ngx_http_ir_cli_handler_pt     handler;
    ngx_http_ir_cli_command_t     *commands;
    ngx_uint_t                     options;       /* NGX_HTTP_IR_CLI_OPT_* */
};


/* the options a command takes besides the connection's */

#define NGX_HTTP_IR_CLI_OPT_JSON       0x0001
#define NGX_HTTP_IR_CLI_OPT_DAYS       0x0002
#define NGX_HTTP_IR_CLI_OPT_IDLE       0x0004
#define NGX_HTTP_IR_CLI_OPT_REQUEST    0x0008     /* explain's */
#define NGX_HTTP_IR_CLI_OPT_DRY_RUN    0x0010
#define NGX_HTTP_IR_CLI_OPT_AUDIT      0x0020     /* --stream, --dir */
#define NGX_HTTP_IR_CLI_OPT_ARCHIVER   0x0040     /* --group, --years... */
#define NGX_HTTP_IR_CLI_OPT_RANGE      0x0080     /* --since, --until */
#define NGX_HTTP_IR_CLI_OPT_FILTER     0x0100     /* query's, --user too */
#define NGX_HTTP_IR_CLI_OPT_DAY        0x0200
#define NGX_HTTP_IR_CLI_OPT_ONLY       0x0400     /* --archive-only */

/* a command that never talks to Redis */
#define NGX_HTTP_IR_CLI_LOCAL          0x8000


typedef struct {
    ngx_str_t                      ip;
    ngx_array_t                    scopes;        /* of ngx_str_t */
    ngx_str_t                      env;
    ngx_str_t                      country;
    ngx_array_t                   *countries;     /* ir_access_countries */
    ngx_str_t                      cert;          /* a file */
    ngx_str_t                      fingerprint;
    ngx_str_t                      purpose;
    ngx_uint_t                     login;         /* NGX_HTTP_IR_LOGIN_* */
    ngx_int_t                      lockout;       /* -1: as configured */
    ngx_str_t                      quota;         /* --quota, as the
                                                     directive's words */
    unsigned                       no_pin:1;
    unsigned                       geoip:1;       /* --country, even "" */
    unsigned                       purpose_on:1;  /* --purpose, even "" */
} ngx_http_ir_cli_request_t;


/* what the audit commands are given */

typedef struct {
    ngx_str_t                      stream;
    ngx_str_t                      dir;
    ngx_str_t                      group;
    ngx_str_t                      day;
    ngx_int_t                      years;
    int64_t                        since;         /* ms; -1: not given */
    int64_t                        until;         /* ms, the end excluded */

    ngx_str_t                      user;          /* query's filters */
    ngx_str_t                      org;
    ngx_str_t                      subject;
    ngx_str_t                      purpose;
    ngx_str_t                      decision;

    unsigned                       once:1;
    unsigned                       archive_only:1;
    unsigned                       dir_given:1;
} ngx_http_ir_cli_audit_t;


struct ngx_http_ir_cli_s {
    ngx_pool_t                    *pool;
    ngx_log_t                     *log;
    ngx_http_ir_cli_conf_t         conf;
    ngx_http_ir_cli_command_t     *command;
    redisContext                  *redis;

    ngx_uint_t                     argc;          /* the command's words */
    char                         **argv;

    ngx_http_ir_cli_request_t      request;
    ngx_http_ir_cli_audit_t        audit;
    ngx_int_t                      days;
    ngx_int_t                      idle_days;
    time_t                         now;
    ngx_msec_t                     start;         /* ms, for "took" */

    unsigned                       json:1;
    unsigned                       dry_run:1;
};


/* a user as "check", "report" and "index" see it */

typedef struct {
    ngx_str_t                      name;
    ngx_str_t                      org;           /* data NULL: no field */
    ngx_str_t                      unit;
    ngx_str_t                      status;
    ngx_str_t                      locked_at;
    ngx_str_t                      lock_reason;
    ngx_uint_t                     ips;           /* usable entries */
    ngx_uint_t                     wide;          /* entries of more than
                                                     one address */
    ngx_array_t                    pins;          /* of SHA-256 digests */
    ngx_uint_t                     fails;

    time_t                         last_seen;     /* 0: never */
    time_t                         not_after;
    ngx_str_t                      last_ip;
    ngx_str_t                      fingerprint;

    unsigned                       found:1;       /* the hash exists */
    unsigned                       bad:1;         /* bad_record */
    unsigned                       seen:1;
    unsigned                       indexed:1;     /* in its org's index */
} ngx_http_ir_cli_user_t;


/* an organisation, its parsed hash and scopes, and its users */

typedef struct {
    ngx_str_t                      name;
    ngx_http_ir_org_t              org;
    ngx_uint_t                     contracted;    /* "users", or 5 */
    ngx_array_t                    users;         /* of ngx_http_ir_cli_user_t
                                                     pointers */
    ngx_array_t                    index;         /* of ngx_str_t */
    unsigned                       index_found:1;
    unsigned                       index_wrong:1; /* not a set */
} ngx_http_ir_cli_org_t;


/* what a user's lookup brought, for "check" to inspect as it comes */

typedef void (*ngx_http_ir_cli_user_pt)(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_user_t *user, redisReply *reply,
    ngx_http_ir_record_t *rec, void *data);

/* and an organisation's keys: their types, and what they hold */

typedef struct {
    ngx_str_t                      hash_type;     /* "hash", "none", ... */
    ngx_str_t                      scopes_type;
    ngx_str_t                      index_type;
    ngx_str_t                      purposes_type;
    ngx_int_t                      hash_len;
    ngx_int_t                      scopes_len;
    redisReply                    *fields;        /* NULL: not read */
    redisReply                    *members;
} ngx_http_ir_cli_org_keys_t;

typedef void (*ngx_http_ir_cli_org_pt)(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_org_t *org, ngx_http_ir_cli_org_keys_t *keys,
    void *data);


typedef struct {
    ngx_array_t                    users;         /* of ngx_http_ir_cli_user_t,
                                                     by name */
    ngx_array_t                    orgs;          /* of ngx_http_ir_cli_org_t,
                                                     by name */
    ngx_array_t                    strays;        /* of ngx_str_t: keys under
                                                     user: and org: that are
                                                     of no record */
    ngx_uint_t                     keys;          /* scanned */

    ngx_http_ir_cli_user_pt        user_handler;
    ngx_http_ir_cli_org_pt         org_handler;
    void                          *data;
    unsigned                       seen:1;        /* read "seen:" hashes */
} ngx_http_ir_cli_inventory_t;


/* ngx_http_ir_cli.c */

extern ngx_http_ir_cli_command_t  ngx_http_ir_cli_commands[];

void ngx_http_ir_cli_error(const char *fmt, ...);
void ngx_http_ir_cli_print(const char *fmt, ...);
void ngx_http_ir_cli_write(u_char *data, size_t len);
ngx_msec_t ngx_http_ir_cli_msec(void);
ngx_uint_t ngx_http_ir_cli_today(ngx_http_ir_cli_t *cli, ngx_int_t days);

typedef void (*ngx_http_ir_cli_log_pt)(ngx_uint_t level, u_char *text,
    size_t len, void *data);
void ngx_http_ir_cli_log_capture(ngx_http_ir_cli_log_pt handler, void *data);

/* ngx_http_ir_cli_conf.c */

ngx_int_t ngx_http_ir_cli_conf_init(ngx_http_ir_cli_conf_t *conf,
    ngx_pool_t *pool);
ngx_int_t ngx_http_ir_cli_conf_read(ngx_http_ir_cli_conf_t *conf,
    ngx_pool_t *pool);
ngx_int_t ngx_http_ir_cli_conf_redis(ngx_http_ir_cli_conf_t *conf,
    ngx_str_t *value, ngx_uint_t n, ngx_pool_t *pool);
ngx_int_t ngx_http_ir_cli_read_file(ngx_str_t *name, ngx_str_t *text,
    ngx_pool_t *pool);
ngx_int_t ngx_http_ir_cli_conf_quota(ngx_http_ir_cli_quota_t *quota,
    ngx_str_t *value, ngx_uint_t n);

/* ngx_http_ir_cli_redis.c */

ngx_int_t ngx_http_ir_cli_connect(ngx_http_ir_cli_t *cli);
void ngx_http_ir_cli_disconnect(ngx_http_ir_cli_t *cli);
redisReply *ngx_http_ir_cli_command(ngx_http_ir_cli_t *cli, int argc,
    const char **argv, const size_t *argvlen);
ngx_int_t ngx_http_ir_cli_append(ngx_http_ir_cli_t *cli, int argc,
    const char **argv, const size_t *argvlen);
ngx_int_t ngx_http_ir_cli_append_key(ngx_http_ir_cli_t *cli,
    const char *command, ngx_str_t *key);
redisReply *ngx_http_ir_cli_reply(ngx_http_ir_cli_t *cli);
ngx_int_t ngx_http_ir_cli_load_scripts(ngx_http_ir_cli_t *cli);
ngx_int_t ngx_http_ir_cli_append_lookup(ngx_http_ir_cli_t *cli,
    ngx_str_t *name);
ngx_int_t ngx_http_ir_cli_scan(ngx_http_ir_cli_t *cli,
    ngx_int_t (*handler)(ngx_http_ir_cli_t *cli, ngx_str_t *key,
    void *data), void *data);
ngx_int_t ngx_http_ir_cli_maintenance(ngx_http_ir_cli_t *cli,
    ngx_http_ir_notice_t *notice, ngx_str_t *type, ngx_array_t *fields);
u_char *ngx_http_ir_cli_key(ngx_http_ir_cli_t *cli, ngx_http_ir_key_e kind,
    ngx_str_t *name, ngx_str_t *key);
ngx_int_t ngx_http_ir_cli_is(redisReply *r, const char *s);

/* ngx_http_ir_cli_inventory.c */

ngx_int_t ngx_http_ir_cli_inventory(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_inventory_t *inv);
ngx_http_ir_cli_user_t *ngx_http_ir_cli_find_user(
    ngx_http_ir_cli_inventory_t *inv, ngx_str_t *name);
ngx_http_ir_cli_org_t *ngx_http_ir_cli_find_org(
    ngx_http_ir_cli_inventory_t *inv, ngx_str_t *name);
ngx_int_t ngx_http_ir_cli_str_cmp(const void *one, const void *two);
int ngx_http_ir_cli_name_cmp(const void *one, const void *two);
time_t ngx_http_ir_cli_parse_time(ngx_str_t *text);

/* a table of text, its first row the heading */

typedef struct {
    ngx_uint_t                     columns;
    ngx_array_t                    cells;         /* of ngx_str_t */
    ngx_pool_t                    *pool;
} ngx_http_ir_cli_table_t;


/* ngx_http_ir_cli_output.c */

ngx_int_t ngx_http_ir_cli_table_init(ngx_http_ir_cli_table_t *t,
    ngx_uint_t columns, ngx_pool_t *pool);
void ngx_http_ir_cli_table_cell(ngx_http_ir_cli_table_t *t,
    const char *fmt, ...);
void ngx_http_ir_cli_table_print(ngx_http_ir_cli_table_t *t);

void ngx_http_ir_cli_json_str(ngx_str_t *s);
void ngx_http_ir_cli_json_cstr(const char *s);
void ngx_http_ir_cli_json_key(const char *key, ngx_uint_t first);
u_char *ngx_http_ir_cli_show(u_char *dst, u_char *last, ngx_str_t *src);
ngx_uint_t ngx_http_ir_cli_width(ngx_str_t *s);
void ngx_http_ir_cli_cell(ngx_str_t *s, ngx_uint_t width, ngx_uint_t last);
ngx_uint_t ngx_http_ir_cli_distance(ngx_str_t *a, ngx_str_t *b);
ngx_str_t *ngx_http_ir_cli_nearest(ngx_str_t *word, ngx_str_t *known,
    ngx_uint_t n);
u_char *ngx_http_ir_cli_date(u_char *buf, ngx_uint_t date);
u_char *ngx_http_ir_cli_time(u_char *buf, time_t t);

/* the commands */

int ngx_http_ir_cli_check(ngx_http_ir_cli_t *cli);
int ngx_http_ir_cli_explain(ngx_http_ir_cli_t *cli);
int ngx_http_ir_cli_report(ngx_http_ir_cli_t *cli);
int ngx_http_ir_cli_index(ngx_http_ir_cli_t *cli);
int ngx_http_ir_cli_archive(ngx_http_ir_cli_t *cli);
int ngx_http_ir_cli_verify(ngx_http_ir_cli_t *cli);
int ngx_http_ir_cli_query(ngx_http_ir_cli_t *cli);
int ngx_http_ir_cli_digest(ngx_http_ir_cli_t *cli);


#endif /* _NGX_HTTP_IR_CLI_H_INCLUDED_ */
