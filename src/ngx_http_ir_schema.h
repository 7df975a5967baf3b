
/*
 * ir-access: the Redis key schema, the names of the records' fields and
 * their bounds.  Every piece of code that names a key or a field, the
 * scripts sent to Redis included, takes it from here.
 */


#ifndef _NGX_HTTP_IR_SCHEMA_H_INCLUDED_
#define _NGX_HTTP_IR_SCHEMA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* keys, after the configured prefix ("ir:" by default) */

#define NGX_HTTP_IR_KEY_USER           "user:"      /* hash */
#define NGX_HTTP_IR_KEY_ORG            "org:"       /* hash */
#define NGX_HTTP_IR_KEY_IPS            ":ips"       /* set, after a user */
#define NGX_HTTP_IR_KEY_FAILS          ":fails"     /* string, a user's */
#define NGX_HTTP_IR_KEY_TRIES          ":tries"     /* string, a user's */
#define NGX_HTTP_IR_KEY_SCOPES         ":scopes"    /* set, after an org */
#define NGX_HTTP_IR_KEY_PURPOSES       ":purposes"  /* set, after an org */
#define NGX_HTTP_IR_KEY_SEEN_EDIT      "edit:"      /* string, short-lived */

/*
 * Kept beside the records and never read by the decision: an
 * organisation's users, a set of names that ir-access keeps ("ir-access
 * index"), so that they can be counted and listed without a scan; and
 * what the gateway last saw of a user, a hash it writes, outside the
 * user's keys so that it is never taken for an administrator's edit.
 */

#define NGX_HTTP_IR_KEY_USERS          ":users"     /* set, after an org */
#define NGX_HTTP_IR_KEY_SEEN           "seen:"      /* hash */
#define NGX_HTTP_IR_KEY_MAINTENANCE    "maintenance"             /* hash */
#define NGX_HTTP_IR_KEY_ANNOUNCED      "maintenance:announced"   /* string */

/*
 * Request counters, written by the module only (ngx_http_ir_quota.c):
 * "quota:user:<name>:minute:<YYYYMMDDHHMM>" (the minute in UTC),
 * "quota:user:<name>:day:<YYYYMMDD>" (the day in ir_access_timezone),
 * and "quota:user:<name>:over:<YYYYMMDD>", set once the day's
 * quota is crossed; likewise "quota:org:<org>:...".
 */

#define NGX_HTTP_IR_KEY_QUOTA          "quota:"
#define NGX_HTTP_IR_KEY_QUOTA_MINUTE   ":minute:"
#define NGX_HTTP_IR_KEY_QUOTA_DAY      ":day:"
#define NGX_HTTP_IR_KEY_QUOTA_OVER     ":over:"


typedef enum {
    NGX_HTTP_IR_KEY_OTHER = 0,
    NGX_HTTP_IR_KEY_USER_HASH,
    NGX_HTTP_IR_KEY_USER_IPS,
    NGX_HTTP_IR_KEY_USER_FAILS,
    NGX_HTTP_IR_KEY_USER_TRIES,
    NGX_HTTP_IR_KEY_ORG_HASH,
    NGX_HTTP_IR_KEY_ORG_SCOPES,
    NGX_HTTP_IR_KEY_ORG_PURPOSES,
    NGX_HTTP_IR_KEY_ORG_USERS,
    NGX_HTTP_IR_KEY_SEEN_HASH,
    NGX_HTTP_IR_KEY_MAINTENANCE_HASH,
    NGX_HTTP_IR_KEY_MAINTENANCE_ANNOUNCED
} ngx_http_ir_key_e;


/* whose requests a quota counts, and over what */

#define NGX_HTTP_IR_QUOTA_USER         0
#define NGX_HTTP_IR_QUOTA_ORG          1

#define NGX_HTTP_IR_QUOTA_MINUTE       0
#define NGX_HTTP_IR_QUOTA_DAY          1
#define NGX_HTTP_IR_QUOTA_OVER         2


/* the fields of "user:<name>" */

#define NGX_HTTP_IR_FIELD_ORG          "org"
#define NGX_HTTP_IR_FIELD_STATUS       "status"
#define NGX_HTTP_IR_FIELD_CERT         "cert"
#define NGX_HTTP_IR_FIELD_PASSWORD     "password"
#define NGX_HTTP_IR_FIELD_UNIT         "unit"
#define NGX_HTTP_IR_FIELD_SCOPES       "scopes"
#define NGX_HTTP_IR_FIELD_LOCKED_AT    "locked_at"
#define NGX_HTTP_IR_FIELD_LOCK_REASON  "lock_reason"

/* of both "user:<name>" and "org:<org>": requests a minute and a day */

#define NGX_HTTP_IR_FIELD_RATE         "rate"
#define NGX_HTTP_IR_FIELD_DAILY        "daily"

/* and of "org:<org>" besides "status" */

#define NGX_HTTP_IR_FIELD_NAME         "name"
#define NGX_HTTP_IR_FIELD_CONTRACT     "contract"
#define NGX_HTTP_IR_FIELD_ENV          "env"
#define NGX_HTTP_IR_FIELD_VALID_FROM   "valid_from"
#define NGX_HTTP_IR_FIELD_VALID_TO     "valid_to"
#define NGX_HTTP_IR_FIELD_COUNTRIES    "countries"
#define NGX_HTTP_IR_FIELD_USERS        "users"      /* how many a contract
                                                       covers, read by
                                                       ir-access only */

/* the users an organisation's contract covers where "users" is absent */

#define NGX_HTTP_IR_USERS_DEFAULT      5

/*
 * The fields of "seen:<name>": when the gateway last decided for the
 * user ("last_seen", a time as below), from which address ("last_ip"),
 * and the certificate's end ("not_after", a time as below) and SHA-256
 * fingerprint ("fingerprint", 64 lowercase hex digits).
 */

#define NGX_HTTP_IR_FIELD_LAST_SEEN    "last_seen"
#define NGX_HTTP_IR_FIELD_LAST_IP      "last_ip"
#define NGX_HTTP_IR_FIELD_NOT_AFTER    "not_after"
#define NGX_HTTP_IR_FIELD_FINGERPRINT  "fingerprint"

/* the fields of "maintenance" besides "env" */

#define NGX_HTTP_IR_FIELD_UNTIL        "until"
#define NGX_HTTP_IR_FIELD_MESSAGE      "message"

/* what a maintenance's "env" may list besides an environment */

#define NGX_HTTP_IR_ENV_BOTH           "both"


/* what "status" may say; a missing status is "active" */

#define NGX_HTTP_IR_STATUS_ACTIVE      "active"
#define NGX_HTTP_IR_STATUS_LOCKED      "locked"
#define NGX_HTTP_IR_STATUS_DISABLED    "disabled"
#define NGX_HTTP_IR_STATUS_SUSPENDED   "suspended"


/*
 * A user's or an organisation's name: the SPEC's [A-Za-z0-9._@-]{1,64}.
 * The alphabet keeps names out of Redis's glob patterns and out of the
 * ":" that separates a key's parts; 64 is the longest name any record,
 * key, cache entry or log line is sized for.
 */

#define NGX_HTTP_IR_NAME_MAX           64

/*
 * Bounds on what a record may hold, far above any real contract's, so
 * that a script gone wrong or a typo cannot make Redis or a worker read
 * megabytes for one request.
 */

#define NGX_HTTP_IR_FIELDS_MAX         64      /* fields of one hash */
#define NGX_HTTP_IR_IPS_MAX            4096    /* allowlist entries */
#define NGX_HTTP_IR_SCOPES_MAX         1024    /* scopes of a contract */
#define NGX_HTTP_IR_VALUE_MAX          4096    /* bytes of one value */
#define NGX_HTTP_IR_PURPOSES_MAX       1024    /* purposes of a contract */

/*
 * What a client may state: a purpose code (a legal basis's reference),
 * and a free-text case reference; and the data subject an audit entry
 * names.  Room enough for any real reference, none for a flood.
 */

#define NGX_HTTP_IR_PURPOSE_MAX        128
#define NGX_HTTP_IR_CASE_MAX           256
#define NGX_HTTP_IR_SUBJECT_MAX        128

/*
 * A quota in a record or a directive is requests a minute or a day, in
 * decimal digits, at most a billion; a maintenance's message goes into
 * every answer while it lasts, so it is kept short, and its "env" is a
 * few words.
 */

#define NGX_HTTP_IR_QUOTA_MAX          1000000000
#define NGX_HTTP_IR_MESSAGE_MAX        1024
#define NGX_HTTP_IR_MAINTENANCE_ENV_MAX  64

/* the longest prefix, so that every key fits a buffer on the stack */

#define NGX_HTTP_IR_PREFIX_MAX         48

#define NGX_HTTP_IR_KEY_MAX                                                  \
    (NGX_HTTP_IR_PREFIX_MAX + sizeof(NGX_HTTP_IR_KEY_QUOTA) - 1             \
     + sizeof(NGX_HTTP_IR_KEY_USER) - 1 + NGX_HTTP_IR_NAME_MAX              \
     + sizeof(NGX_HTTP_IR_KEY_QUOTA_MINUTE) - 1 + sizeof("YYYYMMDDHHMM") - 1)


/*
 * Times stored in Redis (audit entries, "locked_at", "last_seen",
 * "not_after") are UTC with
 * milliseconds, ISO 8601: "2026-11-27T08:00:00.000Z".
 */

#define NGX_HTTP_IR_TIME_LEN           (sizeof("2026-11-27T08:00:00.000Z") - 1)


ngx_int_t ngx_http_ir_name_valid(ngx_str_t *name);
u_char *ngx_http_ir_time(u_char *buf, time_t sec, ngx_uint_t msec);
u_char *ngx_http_ir_key(u_char *buf, ngx_str_t *prefix,
    ngx_http_ir_key_e kind, ngx_str_t *name);
ngx_http_ir_key_e ngx_http_ir_key_parse(ngx_str_t *prefix, ngx_str_t *key,
    ngx_str_t *name);
u_char *ngx_http_ir_key_pattern(u_char *buf, ngx_str_t *prefix,
    const char *tail);
u_char *ngx_http_ir_key_quota(u_char *buf, ngx_str_t *prefix, ngx_uint_t who,
    ngx_str_t *name, ngx_uint_t period, ngx_uint_t when);


#endif /* _NGX_HTTP_IR_SCHEMA_H_INCLUDED_ */
