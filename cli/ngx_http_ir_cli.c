
/*
 * ir-access: the administrators' command-line tool: its commands, its
 * options, and what nginx's core code expects of the program it runs in.
 *
 * The commands are a table; a group of commands (the audit trail's
 * "ir-access audit archive|verify|query|digest") is an entry whose
 * "commands" is a table of its own.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <getopt.h>

#include "ngx_http_ir_cli.h"
#include "ngx_http_ir_cli_audit.h"
#include "ngx_http_ir_decision.h"
#include "ngx_http_ir_store.h"


#define NGX_HTTP_IR_CLI_DEFAULT_CONF   "/etc/nginx/nginx.conf"


enum {
    NGX_HTTP_IR_CLI_O_REDIS = 256,
    NGX_HTTP_IR_CLI_O_PREFIX,
    NGX_HTTP_IR_CLI_O_USER,
    NGX_HTTP_IR_CLI_O_PASSWORD_FILE,
    NGX_HTTP_IR_CLI_O_DB,
    NGX_HTTP_IR_CLI_O_JSON,
    NGX_HTTP_IR_CLI_O_DAYS,
    NGX_HTTP_IR_CLI_O_IDLE_DAYS,
    NGX_HTTP_IR_CLI_O_IP,
    NGX_HTTP_IR_CLI_O_SCOPE,
    NGX_HTTP_IR_CLI_O_ENV,
    NGX_HTTP_IR_CLI_O_COUNTRY,
    NGX_HTTP_IR_CLI_O_COUNTRIES,
    NGX_HTTP_IR_CLI_O_CERT,
    NGX_HTTP_IR_CLI_O_FINGERPRINT,
    NGX_HTTP_IR_CLI_O_PASSWORD_OK,
    NGX_HTTP_IR_CLI_O_PASSWORD_WRONG,
    NGX_HTTP_IR_CLI_O_NO_PASSWORD,
    NGX_HTTP_IR_CLI_O_NO_PIN,
    NGX_HTTP_IR_CLI_O_LOCKOUT,
    NGX_HTTP_IR_CLI_O_PURPOSE,
    NGX_HTTP_IR_CLI_O_QUOTA,
    NGX_HTTP_IR_CLI_O_DRY_RUN,
    NGX_HTTP_IR_CLI_O_REDIS_USER,
    NGX_HTTP_IR_CLI_O_STREAM,
    NGX_HTTP_IR_CLI_O_DIR,
    NGX_HTTP_IR_CLI_O_ARCHIVE_ONLY,
    NGX_HTTP_IR_CLI_O_GROUP,
    NGX_HTTP_IR_CLI_O_YEARS,
    NGX_HTTP_IR_CLI_O_ONCE,
    NGX_HTTP_IR_CLI_O_SINCE,
    NGX_HTTP_IR_CLI_O_UNTIL,
    NGX_HTTP_IR_CLI_O_ORG,
    NGX_HTTP_IR_CLI_O_SUBJECT,
    NGX_HTTP_IR_CLI_O_DECISION,
    NGX_HTTP_IR_CLI_O_DAY
};

/* --purpose is explain's request and query's filter alike */
#define NGX_HTTP_IR_CLI_OPT_PURPOSE    0x0800


typedef struct {
    ngx_str_t                      redis;
    ngx_str_t                      prefix;
    ngx_str_t                      user;
    ngx_str_t                      redis_user;
    ngx_str_t                      password_file;
    ngx_int_t                      db;
} ngx_http_ir_cli_overrides_t;


static int ngx_http_ir_cli_options(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_overrides_t *o, int argc, char **argv);
static void ngx_http_ir_cli_connection_user(int argc, char **argv);
static ngx_int_t ngx_http_ir_cli_option(ngx_http_ir_cli_t *cli, int opt,
    char *arg, ngx_uint_t *used, ngx_http_ir_cli_overrides_t *o);
static ngx_int_t ngx_http_ir_cli_audit_option(ngx_http_ir_cli_t *cli,
    int opt, char *arg, ngx_uint_t *used);
static ngx_int_t ngx_http_ir_cli_number(const char *name, char *arg,
    ngx_int_t *n);
static ngx_http_ir_cli_command_t *ngx_http_ir_cli_find(
    ngx_http_ir_cli_command_t *commands, ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_command_t **group);
static int ngx_http_ir_cli_configure(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_overrides_t *o);
static void ngx_http_ir_cli_usage(FILE *f, ngx_http_ir_cli_command_t *only,
    ngx_http_ir_cli_command_t *group);
static void ngx_http_ir_cli_str(ngx_str_t *s, char *arg);


static struct option  ngx_http_ir_cli_long[] = {
    { "conf", required_argument, NULL, 'c' },
    { "help", no_argument, NULL, 'h' },
    { "redis", required_argument, NULL, NGX_HTTP_IR_CLI_O_REDIS },
    { "prefix", required_argument, NULL, NGX_HTTP_IR_CLI_O_PREFIX },
    { "user", required_argument, NULL, NGX_HTTP_IR_CLI_O_USER },
    { "password-file", required_argument, NULL,
      NGX_HTTP_IR_CLI_O_PASSWORD_FILE },
    { "db", required_argument, NULL, NGX_HTTP_IR_CLI_O_DB },
    { "json", no_argument, NULL, NGX_HTTP_IR_CLI_O_JSON },
    { "days", required_argument, NULL, NGX_HTTP_IR_CLI_O_DAYS },
    { "idle-days", required_argument, NULL, NGX_HTTP_IR_CLI_O_IDLE_DAYS },
    { "ip", required_argument, NULL, NGX_HTTP_IR_CLI_O_IP },
    { "scope", required_argument, NULL, NGX_HTTP_IR_CLI_O_SCOPE },
    { "env", required_argument, NULL, NGX_HTTP_IR_CLI_O_ENV },
    { "country", required_argument, NULL, NGX_HTTP_IR_CLI_O_COUNTRY },
    { "countries", required_argument, NULL, NGX_HTTP_IR_CLI_O_COUNTRIES },
    { "cert", required_argument, NULL, NGX_HTTP_IR_CLI_O_CERT },
    { "fingerprint", required_argument, NULL,
      NGX_HTTP_IR_CLI_O_FINGERPRINT },
    { "password-ok", no_argument, NULL, NGX_HTTP_IR_CLI_O_PASSWORD_OK },
    { "password-wrong", no_argument, NULL,
      NGX_HTTP_IR_CLI_O_PASSWORD_WRONG },
    { "no-password", no_argument, NULL, NGX_HTTP_IR_CLI_O_NO_PASSWORD },
    { "no-pin", no_argument, NULL, NGX_HTTP_IR_CLI_O_NO_PIN },
    { "lockout", required_argument, NULL, NGX_HTTP_IR_CLI_O_LOCKOUT },
    { "purpose", required_argument, NULL, NGX_HTTP_IR_CLI_O_PURPOSE },
    { "quota", required_argument, NULL, NGX_HTTP_IR_CLI_O_QUOTA },
    { "dry-run", no_argument, NULL, NGX_HTTP_IR_CLI_O_DRY_RUN },
    { "redis-user", required_argument, NULL, NGX_HTTP_IR_CLI_O_REDIS_USER },
    { "stream", required_argument, NULL, NGX_HTTP_IR_CLI_O_STREAM },
    { "dir", required_argument, NULL, NGX_HTTP_IR_CLI_O_DIR },
    { "archive-only", no_argument, NULL, NGX_HTTP_IR_CLI_O_ARCHIVE_ONLY },
    { "group", required_argument, NULL, NGX_HTTP_IR_CLI_O_GROUP },
    { "years", required_argument, NULL, NGX_HTTP_IR_CLI_O_YEARS },
    { "once", no_argument, NULL, NGX_HTTP_IR_CLI_O_ONCE },
    { "since", required_argument, NULL, NGX_HTTP_IR_CLI_O_SINCE },
    { "until", required_argument, NULL, NGX_HTTP_IR_CLI_O_UNTIL },
    { "org", required_argument, NULL, NGX_HTTP_IR_CLI_O_ORG },
    { "subject", required_argument, NULL, NGX_HTTP_IR_CLI_O_SUBJECT },
    { "decision", required_argument, NULL, NGX_HTTP_IR_CLI_O_DECISION },
    { "day", required_argument, NULL, NGX_HTTP_IR_CLI_O_DAY },
    { NULL, 0, NULL, 0 }
};


/* the audit trail's commands: "ir-access audit ..." */

static ngx_http_ir_cli_command_t  ngx_http_ir_cli_audit_commands[] = {

    { "archive",
      "[--dir DIR] [--stream KEY] [--group NAME] [--years N] [--once]",
      "Reads the audit stream with a consumer group (NAME,\n"
      "\"" NGX_HTTP_IR_CLI_AUDIT_GROUP "\") and appends its entries as JSON\n"
      "lines to one file per UTC day in DIR\n"
      "(" NGX_HTTP_IR_CLI_AUDIT_DIR "), written to disk (fsync) before\n"
      "they are acknowledged and trimmed from the stream (XTRIM MINID,\n"
      "never past an entry that any group has not yet acknowledged): a\n"
      "crash at any point loses and duplicates nothing.  A day's file is\n"
      "closed with a digest line once the day is over, compressed, and\n"
      "deleted after N years (10; 0: never).  Runs until stopped\n"
      "(SIGTERM), or with --once until the stream is archived.",
      ngx_http_ir_cli_archive, NULL,
      NGX_HTTP_IR_CLI_OPT_AUDIT|NGX_HTTP_IR_CLI_OPT_ARCHIVER },

    { "verify",
      "[--dir DIR] [--stream KEY] [--since T] [--until T]\n"
      "        [--archive-only] [--json]",
      "Checks every writer's chain of entries through the archive's files\n"
      "and then the stream, and each closed file's digest line and its\n"
      "link to the day before.  Reports each gap with its time: an entry\n"
      "missing (dropped by the gateway where an audit_dropped entry says\n"
      "so, otherwise deleted), changed, or out of order.  The exit status\n"
      "is 1 where a chain or a file is broken without an explanation.",
      ngx_http_ir_cli_verify, NULL,
      NGX_HTTP_IR_CLI_OPT_AUDIT|NGX_HTTP_IR_CLI_OPT_RANGE
      |NGX_HTTP_IR_CLI_OPT_ONLY|NGX_HTTP_IR_CLI_OPT_JSON },

    { "query",
      "[--since T] [--until T] [--user U] [--org O] [--subject S]\n"
      "        [--purpose P] [--decision allow|deny|EVENT] [--dir DIR]\n"
      "        [--stream KEY] [--archive-only] [--json]",
      "Prints the entries that match, from the archive's files and then\n"
      "the stream, read a page at a time: a table, or with --json the\n"
      "entries as JSON lines.  T is YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS],\n"
      "UTC; a day given to --until is included.  --user is the gateway's\n"
      "user asked about (the Redis user is --redis-user here).",
      ngx_http_ir_cli_query, NULL,
      NGX_HTTP_IR_CLI_OPT_AUDIT|NGX_HTTP_IR_CLI_OPT_RANGE
      |NGX_HTTP_IR_CLI_OPT_FILTER|NGX_HTTP_IR_CLI_OPT_PURPOSE
      |NGX_HTTP_IR_CLI_OPT_ONLY|NGX_HTTP_IR_CLI_OPT_JSON },

    { "digest",
      "[--dir DIR] [--day YYYY-MM-DD] [--json]",
      "Prints each closed day's digest (or the day's), checked against its\n"
      "file, to be published or signed elsewhere: a day's digest covers\n"
      "its entries and the digest of the day before.  Reads no Redis.",
      ngx_http_ir_cli_digest, NULL,
      NGX_HTTP_IR_CLI_OPT_AUDIT|NGX_HTTP_IR_CLI_OPT_DAY
      |NGX_HTTP_IR_CLI_OPT_JSON|NGX_HTTP_IR_CLI_LOCAL },

    { NULL, NULL, NULL, NULL, NULL, 0 }
};


ngx_http_ir_cli_command_t  ngx_http_ir_cli_commands[] = {

    { "check", "[--days N] [--json]",
      "Scans every user and organisation record, and the announced\n"
      "maintenance, and reports what the gateway would ignore, refuse or\n"
      "find surprising, each finding with its severity (error: the gateway\n"
      "denies or ignores it; warning: probably not what was meant; info),\n"
      "key, field and value.  Contracts that end within N days (30) are\n"
      "named.",
      ngx_http_ir_cli_check, NULL,
      NGX_HTTP_IR_CLI_OPT_JSON|NGX_HTTP_IR_CLI_OPT_DAYS },

    { "explain",
      "USER --ip ADDR [--scope S]... [--env E] [--country CC]\n"
      "        [--countries CC,...] [--cert FILE | --fingerprint FP |"
      " --no-pin]\n"
      "        [--password-ok | --password-wrong | --no-password]"
      " [--lockout N|off]\n"
      "        [--purpose P] [--quota \"rate=N/m daily=N ...\"|off] [--json]",
      "Runs the gateway's decision for USER from ADDR against the live\n"
      "records, a location asking for the scopes and environment given,\n"
      "and prints every step: what it read, what it compared and how it\n"
      "ended, down to the reason the gateway would answer.  Without a\n"
      "password option no password is asked, as in a location without\n"
      "ir_access_password; without --cert or --fingerprint the pins are\n"
      "shown but not compared.  --country is what the gateway's GeoIP\n"
      "database says of ADDR (\"\" for nothing: a gateway with\n"
      "ir_access_geoip2 checks the organisations' \"countries\" then);\n"
      "--countries is the location's ir_access_countries.  --purpose is\n"
      "the purpose the client states where the location has\n"
      "ir_access_purpose (\"\" for none stated).  --quota is the location's\n"
      "ir_access_quota (by default the configuration's): the quotas are\n"
      "checked against the counts in Redis, read only.  An announced\n"
      "maintenance that closes the location (--env) decides first.",
      ngx_http_ir_cli_explain, NULL,
      NGX_HTTP_IR_CLI_OPT_JSON|NGX_HTTP_IR_CLI_OPT_REQUEST
      |NGX_HTTP_IR_CLI_OPT_PURPOSE },

    { "report", "[--days N] [--idle-days N] [--json]",
      "Lists the organisations with their contracts and users, the\n"
      "organisations with more users than their contract covers (field\n"
      "\"users\", 5 where absent), users with more than one allowlisted\n"
      "address, certificates that expire within N days (30) and users the\n"
      "gateway has not seen for N days (90).",
      ngx_http_ir_cli_report, NULL,
      NGX_HTTP_IR_CLI_OPT_JSON|NGX_HTTP_IR_CLI_OPT_DAYS
      |NGX_HTTP_IR_CLI_OPT_IDLE },

    { "index", "[--dry-run] [--json]",
      "Rebuilds the set of each organisation's users, org:<org>:users,\n"
      "from the users' \"org\" fields; with --dry-run only says what it\n"
      "would change.",
      ngx_http_ir_cli_index, NULL,
      NGX_HTTP_IR_CLI_OPT_JSON|NGX_HTTP_IR_CLI_OPT_DRY_RUN },

    { "audit", "archive|verify|query|digest ...",
      "The audit trail: its archive, its verification, and queries.",
      NULL, ngx_http_ir_cli_audit_commands, 0 },

    { NULL, NULL, NULL, NULL, NULL, 0 }
};


/* what nginx's core code expects of the program it runs in */

volatile ngx_cycle_t  *ngx_cycle;
volatile ngx_time_t   *ngx_cached_time;

static ngx_time_t               ngx_http_ir_cli_cached_time;
static ngx_http_ir_cli_log_pt   ngx_http_ir_cli_log_handler;
static void                    *ngx_http_ir_cli_log_data;

static const char  *ngx_http_ir_cli_levels[] = {
    "", "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"
};


/*
 * The pure code logs what the gateway would log, through nginx's
 * ngx_log_error(): "explain" shows it, the other commands leave it out.
 */

void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;
    u_char    text[NGX_MAX_ERROR_STR];

    last = text + sizeof(text);

    va_start(args, fmt);
    p = ngx_vslprintf(text, last, fmt, args);
    va_end(args);

    if (err) {
        p = ngx_slprintf(p, last, " (%d: %s)", err, strerror(err));
    }

    if (ngx_http_ir_cli_log_handler) {
        ngx_http_ir_cli_log_handler(level, text, p - text,
                                    ngx_http_ir_cli_log_data);
        return;
    }

    fprintf(stderr, "ir-access: [%s] %.*s\n",
            ngx_http_ir_cli_levels[ngx_min(level, NGX_LOG_DEBUG)],
            (int) (p - text), text);
}


void
ngx_http_ir_cli_log_capture(ngx_http_ir_cli_log_pt handler, void *data)
{
    ngx_http_ir_cli_log_handler = handler;
    ngx_http_ir_cli_log_data = data;
}


int
main(int argc, char **argv)
{
    int                           rc;
    ngx_log_t                     log;
    ngx_cycle_t                   cycle;
    ngx_http_ir_cli_t             cli;
    ngx_http_ir_cli_overrides_t   o;

    ngx_pagesize = getpagesize();
    ngx_cacheline_size = NGX_CPU_CACHE_LINE;

    for (ngx_pagesize_shift = 0;
         (1 << ngx_pagesize_shift) < (int) ngx_pagesize;
         ngx_pagesize_shift++)
    {
        /* void */
    }

    ngx_memzero(&log, sizeof(ngx_log_t));
    log.log_level = NGX_LOG_NOTICE;

    ngx_memzero(&cycle, sizeof(ngx_cycle_t));
    cycle.log = &log;
    ngx_cycle = &cycle;

    ngx_memzero(&cli, sizeof(ngx_http_ir_cli_t));

    cli.log = &log;
    cli.now = time(NULL);
    cli.start = ngx_http_ir_cli_msec();
    cli.days = NGX_HTTP_IR_CLI_DAYS;
    cli.idle_days = NGX_HTTP_IR_CLI_IDLE_DAYS;
    cli.request.lockout = -1;
    cli.audit.years = NGX_HTTP_IR_CLI_AUDIT_YEARS;
    cli.audit.since = -1;
    cli.audit.until = -1;

    ngx_http_ir_cli_cached_time.sec = cli.now;
    ngx_cached_time = &ngx_http_ir_cli_cached_time;

    cli.pool = ngx_create_pool(16384, &log);
    if (cli.pool == NULL) {
        return NGX_HTTP_IR_CLI_INTERNAL;
    }

    if (ngx_http_ir_cli_conf_init(&cli.conf, cli.pool) != NGX_OK
        || ngx_array_init(&cli.request.scopes, cli.pool, 4, sizeof(ngx_str_t))
           != NGX_OK
        || ngx_http_ir_store_init(&log) != NGX_OK)
    {
        return NGX_HTTP_IR_CLI_INTERNAL;
    }

    rc = ngx_http_ir_cli_options(&cli, &o, argc, argv);
    if (rc != NGX_HTTP_IR_CLI_OK) {
        return rc;
    }

    if (cli.audit.dir.len == 0) {
        ngx_str_set(&cli.audit.dir, NGX_HTTP_IR_CLI_AUDIT_DIR);
    }

    if (cli.audit.group.len == 0) {
        ngx_str_set(&cli.audit.group, NGX_HTTP_IR_CLI_AUDIT_GROUP);
    }

    /* the archive's own commands need no Redis */

    if (!(cli.command->options & NGX_HTTP_IR_CLI_LOCAL)
        && !cli.audit.archive_only)
    {
        rc = ngx_http_ir_cli_configure(&cli, &o);
        if (rc != NGX_HTTP_IR_CLI_OK) {
            return rc;
        }

        if (cli.audit.stream.len == 0) {
            cli.audit.stream = cli.conf.audit_stream;

            if (cli.audit.stream.len == 0) {
                ngx_str_set(&cli.audit.stream, NGX_HTTP_IR_CLI_AUDIT_STREAM);
            }
        }

        if (ngx_http_ir_cli_connect(&cli) != NGX_OK) {
            return NGX_HTTP_IR_CLI_REDIS;
        }
    }

    rc = cli.command->handler(&cli);

    fflush(stdout);

    ngx_http_ir_cli_disconnect(&cli);
    ngx_destroy_pool(cli.pool);

    return rc;
}


static int
ngx_http_ir_cli_options(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_overrides_t *o, int argc, char **argv)
{
    int                         opt;
    ngx_uint_t                  used, help;
    ngx_http_ir_cli_command_t  *group;

    ngx_memzero(o, sizeof(ngx_http_ir_cli_overrides_t));
    o->db = -1;

    used = 0;
    help = 0;
    opterr = 0;

    ngx_http_ir_cli_connection_user(argc, argv);

    for ( ;; ) {
        opt = getopt_long(argc, argv, ":c:h", ngx_http_ir_cli_long, NULL);

        if (opt == -1) {
            break;
        }

        switch (opt) {

        case 'h':
            help = 1;
            continue;

        case '?':
            ngx_http_ir_cli_error("unknown option \"%s\"", argv[optind - 1]);
            return NGX_HTTP_IR_CLI_USAGE;

        case ':':
            ngx_http_ir_cli_error("option \"%s\" needs a value",
                                  argv[optind - 1]);
            return NGX_HTTP_IR_CLI_USAGE;
        }

        if (ngx_http_ir_cli_option(cli, opt, optarg, &used, o) != NGX_OK) {
            return NGX_HTTP_IR_CLI_USAGE;
        }
    }

    cli->argc = argc - optind;
    cli->argv = argv + optind;

    if (cli->argc == 0) {
        if (help) {
            ngx_http_ir_cli_usage(stdout, NULL, NULL);
            exit(NGX_HTTP_IR_CLI_OK);
        }

        ngx_http_ir_cli_usage(stderr, NULL, NULL);
        return NGX_HTTP_IR_CLI_USAGE;
    }

    group = NULL;

    cli->command = ngx_http_ir_cli_find(ngx_http_ir_cli_commands, cli,
                                        &group);
    if (cli->command == NULL) {
        return NGX_HTTP_IR_CLI_USAGE;
    }

    if (help) {
        ngx_http_ir_cli_usage(stdout, cli->command, group);
        exit(NGX_HTTP_IR_CLI_OK);
    }

    if (used & ~cli->command->options) {
        ngx_http_ir_cli_error("an option given is not one of \"%s%s%s\"'s; "
                              "see \"ir-access %s%s%s --help\"",
                              group ? group->name : "", group ? " " : "",
                              cli->command->name,
                              group ? group->name : "", group ? " " : "",
                              cli->command->name);
        return NGX_HTTP_IR_CLI_USAGE;
    }

    /*
     * In a query, --user and --purpose are what is asked about: the
     * Redis user is --redis-user there.
     */

    if (cli->command->options & NGX_HTTP_IR_CLI_OPT_FILTER) {
        cli->audit.user = o->user;
        cli->audit.purpose = cli->request.purpose;
        o->user = o->redis_user;

    } else if (o->redis_user.len) {
        o->user = o->redis_user;
    }

    if (cli->audit.since != -1 && cli->audit.until != -1
        && cli->audit.since >= cli->audit.until)
    {
        ngx_http_ir_cli_error("--since is not before --until");
        return NGX_HTTP_IR_CLI_USAGE;
    }

    return NGX_HTTP_IR_CLI_OK;
}


/*
 * A --user before the command is the connection's, as in an alias
 * ("ir-access --user ir-admin ..."), also where the command is a query
 * whose --user is what is asked about: it is read as --redis-user.
 */

static void
ngx_http_ir_cli_connection_user(int argc, char **argv)
{
    int             i;
    size_t          len;
    char           *eq;
    u_char         *p;
    struct option  *lo;

    static char  redis_user[] = "--redis-user";

    for (i = 1; i < argc; i++) {

        if (argv[i][0] != '-' || ngx_strcmp(argv[i], "--") == 0) {
            return;
        }

        if (ngx_strcmp(argv[i], "-c") == 0) {
            i++;
            continue;
        }

        if (argv[i][1] != '-') {
            continue;
        }

        eq = strchr(argv[i], '=');
        len = eq ? (size_t) (eq - argv[i] - 2) : ngx_strlen(argv[i] + 2);

        for (lo = ngx_http_ir_cli_long; lo->name; lo++) {
            if (ngx_strlen(lo->name) == len
                && ngx_strncmp(lo->name, argv[i] + 2, len) == 0)
            {
                break;
            }
        }

        if (lo->name && lo->val == NGX_HTTP_IR_CLI_O_USER) {
            if (eq == NULL) {
                argv[i] = redis_user;

            } else {
                p = ngx_alloc(sizeof(redis_user) + ngx_strlen(eq),
                              ngx_cycle->log);
                if (p == NULL) {
                    return;
                }

                ngx_sprintf(p, "%s%s%Z", redis_user, eq);
                argv[i] = (char *) p;
            }
        }

        if (lo->name && lo->has_arg == required_argument && eq == NULL) {
            i++;
        }
    }
}


static ngx_int_t
ngx_http_ir_cli_option(ngx_http_ir_cli_t *cli, int opt, char *arg,
    ngx_uint_t *used, ngx_http_ir_cli_overrides_t *o)
{
    ngx_str_t                  *s, word;
    ngx_http_ir_cli_request_t  *rq;

    rq = &cli->request;

    switch (opt) {

    case 'c':
        ngx_http_ir_cli_str(&cli->conf.file, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_REDIS:
        ngx_http_ir_cli_str(&o->redis, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_PREFIX:
        ngx_http_ir_cli_str(&o->prefix, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_USER:
        ngx_http_ir_cli_str(&o->user, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_PASSWORD_FILE:
        ngx_http_ir_cli_str(&o->password_file, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_DB:
        return ngx_http_ir_cli_number("--db", arg, &o->db);

    case NGX_HTTP_IR_CLI_O_JSON:
        *used |= NGX_HTTP_IR_CLI_OPT_JSON;
        cli->json = 1;
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_DAYS:
        *used |= NGX_HTTP_IR_CLI_OPT_DAYS;
        return ngx_http_ir_cli_number("--days", arg, &cli->days);

    case NGX_HTTP_IR_CLI_O_IDLE_DAYS:
        *used |= NGX_HTTP_IR_CLI_OPT_IDLE;
        return ngx_http_ir_cli_number("--idle-days", arg, &cli->idle_days);

    case NGX_HTTP_IR_CLI_O_DRY_RUN:
        *used |= NGX_HTTP_IR_CLI_OPT_DRY_RUN;
        cli->dry_run = 1;
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_REDIS_USER:
        ngx_http_ir_cli_str(&o->redis_user, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_PURPOSE:
        *used |= NGX_HTTP_IR_CLI_OPT_PURPOSE;
        ngx_http_ir_cli_str(&rq->purpose, arg);
        rq->purpose_on = 1;
        return NGX_OK;
    }

    if (ngx_http_ir_cli_audit_option(cli, opt, arg, used) == NGX_OK) {
        return NGX_OK;
    }

    if (opt >= NGX_HTTP_IR_CLI_O_STREAM) {
        return NGX_ERROR;
    }

    /* the rest describe explain's request */

    *used |= NGX_HTTP_IR_CLI_OPT_REQUEST;

    switch (opt) {

    case NGX_HTTP_IR_CLI_O_IP:
        ngx_http_ir_cli_str(&rq->ip, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_SCOPE:
        s = ngx_array_push(&rq->scopes);
        if (s == NULL) {
            return NGX_ERROR;
        }

        ngx_http_ir_cli_str(s, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_ENV:
        ngx_http_ir_cli_str(&rq->env, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_COUNTRY:
        ngx_http_ir_cli_str(&rq->country, arg);
        rq->geoip = 1;
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_COUNTRIES:
        rq->geoip = 1;
        rq->countries = ngx_array_create(cli->pool, 4, sizeof(ngx_str_t));
        if (rq->countries == NULL) {
            return NGX_ERROR;
        }

        for (arg = strtok(arg, ", "); arg; arg = strtok(NULL, ", ")) {
            ngx_http_ir_cli_str(&word, arg);

            s = ngx_array_push(rq->countries);
            if (s == NULL) {
                return NGX_ERROR;
            }

            *s = word;
        }

        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_CERT:
        ngx_http_ir_cli_str(&rq->cert, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_FINGERPRINT:
        ngx_http_ir_cli_str(&rq->fingerprint, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_PASSWORD_OK:
        rq->login = NGX_HTTP_IR_LOGIN_GOOD;
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_PASSWORD_WRONG:
        rq->login = NGX_HTTP_IR_LOGIN_WRONG;
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_NO_PASSWORD:
        rq->login = NGX_HTTP_IR_LOGIN_MISSING;
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_NO_PIN:
        rq->no_pin = 1;
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_QUOTA:
        ngx_http_ir_cli_str(&rq->quota, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_LOCKOUT:
        if (ngx_strcmp(arg, "off") == 0) {
            rq->lockout = 0;
            return NGX_OK;
        }

        return ngx_http_ir_cli_number("--lockout", arg, &rq->lockout);
    }

    return NGX_ERROR;
}


/* the audit commands' options; NGX_DECLINED for another's */

static ngx_int_t
ngx_http_ir_cli_audit_option(ngx_http_ir_cli_t *cli, int opt, char *arg,
    ngx_uint_t *used)
{
    ngx_http_ir_cli_audit_t  *a;

    a = &cli->audit;

    switch (opt) {

    case NGX_HTTP_IR_CLI_O_STREAM:
        *used |= NGX_HTTP_IR_CLI_OPT_AUDIT;
        ngx_http_ir_cli_str(&a->stream, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_DIR:
        *used |= NGX_HTTP_IR_CLI_OPT_AUDIT;
        ngx_http_ir_cli_str(&a->dir, arg);

        /* "DIR/" and "DIR" name one folder */

        while (a->dir.len > 1 && a->dir.data[a->dir.len - 1] == '/') {
            a->dir.data[--a->dir.len] = '\0';
        }

        a->dir_given = 1;
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_ARCHIVE_ONLY:
        *used |= NGX_HTTP_IR_CLI_OPT_ONLY;
        a->archive_only = 1;
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_GROUP:
        *used |= NGX_HTTP_IR_CLI_OPT_ARCHIVER;
        ngx_http_ir_cli_str(&a->group, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_YEARS:
        *used |= NGX_HTTP_IR_CLI_OPT_ARCHIVER;
        return ngx_http_ir_cli_number("--years", arg, &a->years);

    case NGX_HTTP_IR_CLI_O_ONCE:
        *used |= NGX_HTTP_IR_CLI_OPT_ARCHIVER;
        a->once = 1;
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_SINCE:
    case NGX_HTTP_IR_CLI_O_UNTIL:
        *used |= NGX_HTTP_IR_CLI_OPT_RANGE;

        if (ngx_http_ir_cli_when(arg, opt == NGX_HTTP_IR_CLI_O_UNTIL,
                                 (opt == NGX_HTTP_IR_CLI_O_UNTIL)
                                 ? &a->until : &a->since)
            != NGX_OK)
        {
            ngx_http_ir_cli_error("%s wants YYYY-MM-DD or "
                                  "YYYY-MM-DDTHH:MM[:SS[.mmm]] (UTC), not "
                                  "\"%s\"",
                                  (opt == NGX_HTTP_IR_CLI_O_UNTIL)
                                  ? "--until" : "--since", arg);
            return NGX_ERROR;
        }

        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_ORG:
        *used |= NGX_HTTP_IR_CLI_OPT_FILTER;
        ngx_http_ir_cli_str(&a->org, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_SUBJECT:
        *used |= NGX_HTTP_IR_CLI_OPT_FILTER;
        ngx_http_ir_cli_str(&a->subject, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_DECISION:
        *used |= NGX_HTTP_IR_CLI_OPT_FILTER;
        ngx_http_ir_cli_str(&a->decision, arg);
        return NGX_OK;

    case NGX_HTTP_IR_CLI_O_DAY:
        *used |= NGX_HTTP_IR_CLI_OPT_DAY;
        ngx_http_ir_cli_str(&a->day, arg);

        if (a->day.len != NGX_HTTP_IR_CLI_AUDIT_DAY_LEN
            || ngx_http_ir_cli_day_start(a->day.data) == -1)
        {
            ngx_http_ir_cli_error("--day wants YYYY-MM-DD, not \"%s\"", arg);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_ir_cli_number(const char *name, char *arg, ngx_int_t *n)
{
    *n = ngx_atoi((u_char *) arg, ngx_strlen(arg));

    if (*n == NGX_ERROR) {
        ngx_http_ir_cli_error("%s wants a number, not \"%s\"", name, arg);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the command the words name, a group's by its next word */

static ngx_http_ir_cli_command_t *
ngx_http_ir_cli_find(ngx_http_ir_cli_command_t *commands,
    ngx_http_ir_cli_t *cli, ngx_http_ir_cli_command_t **group)
{
    ngx_http_ir_cli_command_t  *cmd;

    for (cmd = commands; cmd->name; cmd++) {
        if (ngx_strcmp(cmd->name, cli->argv[0]) != 0) {
            continue;
        }

        cli->argc--;
        cli->argv++;

        if (cmd->commands == NULL) {
            return cmd;
        }

        if (cli->argc == 0) {
            ngx_http_ir_cli_error("\"%s\" wants a command after it: see "
                                  "\"ir-access --help\"", cmd->name);
            return NULL;
        }

        *group = cmd;

        return ngx_http_ir_cli_find(cmd->commands, cli, group);
    }

    ngx_http_ir_cli_error("unknown command \"%s\"; see \"ir-access --help\"",
                          cli->argv[0]);

    return NULL;
}


/*
 * The Redis address, credentials, database and prefix: from the nginx
 * configuration, read where -c says or, without --redis, at Debian's
 * place; the options say last.
 */

static int
ngx_http_ir_cli_configure(ngx_http_ir_cli_t *cli,
    ngx_http_ir_cli_overrides_t *o)
{
    ngx_err_t                err;
    ngx_int_t                rc;
    ngx_str_t                value[2], text, why;
    ngx_http_ir_cli_conf_t  *conf;

    conf = &cli->conf;

    if (conf->file.len == 0 && o->redis.len == 0
        && access(NGX_HTTP_IR_CLI_DEFAULT_CONF, R_OK) == 0)
    {
        ngx_str_set(&conf->file, NGX_HTTP_IR_CLI_DEFAULT_CONF);
    }

    if (conf->file.len) {
        if (ngx_http_ir_cli_conf_read(conf, cli->pool) != NGX_OK) {
            return NGX_HTTP_IR_CLI_CONF;
        }

        if (conf->address.len == 0 && o->redis.len == 0) {
            ngx_http_ir_cli_error("no \"ir_access_redis\" in %V or the files "
                                  "it includes; give --redis", &conf->file);
            return NGX_HTTP_IR_CLI_CONF;
        }
    }

    if (o->redis.len) {
        ngx_str_null(&conf->master);
        ngx_str_null(&conf->user);
        ngx_str_null(&conf->password);
        ngx_str_null(&conf->password_file);
        conf->db = 0;

        value[1] = o->redis;

        if (ngx_http_ir_cli_conf_redis(conf, value, 2, cli->pool) != NGX_OK) {
            return NGX_HTTP_IR_CLI_USAGE;
        }
    }

    if (conf->address.len == 0) {
        ngx_http_ir_cli_error("no Redis address: give -c NGINX_CONF or "
                              "--redis HOST:PORT|unix:PATH");
        return NGX_HTTP_IR_CLI_USAGE;
    }

    if (o->prefix.data) {
        conf->prefix = o->prefix;
    }

    /* the days of contracts and quotas, as the gateway reads them */

    if (conf->timezone.len) {
        rc = ngx_http_ir_zone_read(&conf->timezone, &conf->zone, cli->pool,
                                   &why, &err);

        if (rc != NGX_OK) {
            if (why.data) {
                ngx_http_ir_cli_error("%V%s%s", &why, err ? ": " : "",
                                      err ? strerror(err) : "");
            }

            return NGX_HTTP_IR_CLI_CONF;
        }
    }

    if (conf->prefix.len > NGX_HTTP_IR_PREFIX_MAX) {
        ngx_http_ir_cli_error("the prefix \"%V\" is longer than %d bytes",
                              &conf->prefix, NGX_HTTP_IR_PREFIX_MAX);
        return NGX_HTTP_IR_CLI_USAGE;
    }

    if (o->user.len) {
        conf->user = o->user;
    }

    if (o->db != -1) {
        conf->db = o->db;
    }

    if (o->password_file.len) {
        conf->password_file = o->password_file;
    }

    if (conf->password_file.len) {
        if (ngx_http_ir_cli_read_file(&conf->password_file, &text, cli->pool)
            != NGX_OK)
        {
            return NGX_HTTP_IR_CLI_CONF;
        }

        /* the first line, without its end */

        conf->password.data = text.data;

        for (conf->password.len = 0;
             conf->password.len < text.len
             && text.data[conf->password.len] != '\n'
             && text.data[conf->password.len] != '\r';
             conf->password.len++)
        {
            /* void */
        }
    }

    if (conf->user.len && conf->password.len == 0) {
        ngx_http_ir_cli_error("a Redis user (\"%V\") wants a password: give "
                              "--password-file", &conf->user);
        return NGX_HTTP_IR_CLI_USAGE;
    }

    return NGX_HTTP_IR_CLI_OK;
}


static void
ngx_http_ir_cli_usage(FILE *f, ngx_http_ir_cli_command_t *only,
    ngx_http_ir_cli_command_t *group)
{
    ngx_http_ir_cli_command_t  *cmd, *sub;

    if (only) {
        fprintf(f, "usage: ir-access [connection] %s%s%s %s\n\n%s\n\n",
                group ? group->name : "", group ? " " : "",
                only->name, only->synopsis, only->summary);

        if (only->options & NGX_HTTP_IR_CLI_LOCAL) {
            return;
        }

    } else {
        fprintf(f, "usage: ir-access [connection] COMMAND [options]\n\n"
                   "The administrators' tool of the ir-access gateway: it "
                   "reads the records in\nRedis with the gateway's own code."
                   "\n\ncommands:\n");

        for (cmd = ngx_http_ir_cli_commands; cmd->name; cmd++) {
            if (cmd->commands == NULL) {
                fprintf(f, "  %s %s\n", cmd->name, cmd->synopsis);
                continue;
            }

            for (sub = cmd->commands; sub->name; sub++) {
                fprintf(f, "  %s %s %s\n", cmd->name, sub->name,
                        sub->synopsis);
            }
        }

        fprintf(f, "\n\"ir-access COMMAND --help\" tells more of each.\n\n");
    }

    fprintf(f,
        "connection (the nginx configuration, then the options):\n"
        "  -c FILE               nginx.conf whose ir_access_redis,\n"
        "                        ir_access_redis_prefix, ir_access_scope,\n"
        "                        ir_access_env and ir_access_audit's stream\n"
        "                        are read, includes followed\n"
        "                        (default: " NGX_HTTP_IR_CLI_DEFAULT_CONF
        " unless --redis)\n"
        "  --redis ADDR          HOST:PORT or unix:PATH\n"
        "  --prefix P            the keys' prefix (ir:)\n"
        "  --user NAME           the Redis ACL user (--redis-user in a "
        "query)\n"
        "  --password-file FILE  the Redis password, its first line\n"
        "  --db N                the Redis database (0)\n\n"
        "exit status:\n"
        "  0  done: no errors found (check), allowed (explain)\n"
        "  1  errors found (check), denied (explain), broken (audit)\n"
        "  2  wrong usage\n"
        "  3  the nginx configuration or a file could not be read\n"
        "  4  Redis could not be reached or failed a command\n"
        "  5  out of memory or another internal failure\n");
}


static void
ngx_http_ir_cli_str(ngx_str_t *s, char *arg)
{
    s->data = (u_char *) arg;
    s->len = ngx_strlen(arg);
}


void
ngx_http_ir_cli_error(const char *fmt, ...)
{
    u_char   *p;
    va_list   args;
    u_char    text[NGX_MAX_ERROR_STR];

    va_start(args, fmt);
    p = ngx_vslprintf(text, text + sizeof(text), fmt, args);
    va_end(args);

    fflush(stdout);
    fprintf(stderr, "ir-access: %.*s\n", (int) (p - text), text);
}


void
ngx_http_ir_cli_print(const char *fmt, ...)
{
    u_char   *p;
    va_list   args;
    u_char    text[8192];

    va_start(args, fmt);
    p = ngx_vslprintf(text, text + sizeof(text), fmt, args);
    va_end(args);

    fwrite(text, 1, p - text, stdout);
}


void
ngx_http_ir_cli_write(u_char *data, size_t len)
{
    fwrite(data, 1, len, stdout);
}


ngx_msec_t
ngx_http_ir_cli_msec(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (ngx_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/*
 * The day as YYYYMMDD, "days" days from now, in the time zone the gateway
 * reads its contract dates and counts its days in: ir_access_timezone's,
 * or the local one.
 */

ngx_uint_t
ngx_http_ir_cli_today(ngx_http_ir_cli_t *cli, ngx_int_t days)
{
    return ngx_http_ir_zone_today(&cli->conf.zone, cli->now + days * 86400,
                                  NULL);
}
