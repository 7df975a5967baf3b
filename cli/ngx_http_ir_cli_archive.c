
/*
 * ir-access audit archive: the audit stream into one file per UTC day,
 * before it is trimmed.
 *
 * The stream is read with a consumer group.  A batch of entries is
 * appended to its day's file as JSON lines and written to disk (fsync);
 * only then are the entries acknowledged (XACK) and the stream trimmed
 * (XTRIM MINID) up to the oldest entry that some group has not yet
 * acknowledged, never further.  So a crash at any point loses nothing:
 * what was not written is still pending in the group and is read again
 * (XREADGROUP from 0, after XAUTOCLAIM of what another consumer of the
 * group held); and duplicates nothing: what was written but not
 * acknowledged is read again and skipped, the archive's last id being
 * the last line of its newest file, the stream's ids only ever growing.
 * A line cut short by a crash is removed at the start.
 *
 * A day is closed once Redis's clock, read before a read of the group
 * that found nothing more, is past its end: every entry of it is then
 * archived.  Its file gets a closing line (the number of entries, the
 * first and last ids, and the SHA-256 of the file before that line),
 * written to disk, and is compressed: written as .gz.part, renamed to
 * .gz, and the plain file removed, the folder written to disk after each
 * step; a crash between them is set right at the next start.  Days older
 * than --years are deleted.
 *
 * IR_ACCESS_ARCHIVE_CRASH=read|written|acked|closed|compressed makes the
 * archiver kill itself (SIGKILL) at that point, for the tests: after a
 * batch is read, after it is written to disk, after it is acknowledged,
 * after a day's closing line, after its compressed file is renamed.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <sys/file.h>

#include "ngx_http_ir_cli.h"
#include "ngx_http_ir_cli_audit.h"


/* how long a read of the group waits for entries, ms */
#define NGX_HTTP_IR_CLI_ARCHIVE_BLOCK  "2000"

#define NGX_HTTP_IR_CLI_DAY_MS         86400000


typedef struct {
    ngx_http_ir_cli_t             *cli;
    int                            dir_fd;
    int                            lock_fd;
    ngx_str_t                      consumer;

    /* the day being written: its file, and when it ends */
    int                            fd;
    u_char                         day[NGX_HTTP_IR_CLI_AUDIT_DAY_LEN + 1];
    int64_t                        day_end;

    ngx_http_ir_cli_id_t           last;          /* the last one archived */
    ngx_http_ir_cli_id_t           pending;       /* the last pending read */
    u_char                         prev[NGX_HTTP_IR_DIGEST_HEX];

    /* Redis's time before the last read that brought nothing more */
    int64_t                        caught_up;

    u_char                        *buf;           /* a batch's lines */
    size_t                         size;
    size_t                         len;

    ngx_array_t                    acks;          /* of ngx_str_t */
    ngx_http_ir_cli_entry_t        entry;
    ngx_http_ir_cli_line_t         line;

    ngx_uint_t                     archived;
    ngx_uint_t                     skipped;       /* there already */
    ngx_uint_t                     gone;          /* deleted meanwhile */
    ngx_uint_t                     closed;
    ngx_uint_t                     removed;
    ngx_uint_t                     first_closed;  /* a day closed, for
                                                     retention */

    const char                    *crash;
} ngx_http_ir_cli_archiver_t;


static ngx_int_t ngx_http_ir_cli_archive_start(
    ngx_http_ir_cli_archiver_t *ar);
static ngx_int_t ngx_http_ir_cli_archive_repair(
    ngx_http_ir_cli_archiver_t *ar, ngx_str_t *path);
static ngx_int_t ngx_http_ir_cli_archive_group(
    ngx_http_ir_cli_archiver_t *ar);
static ngx_int_t ngx_http_ir_cli_archive_claim(
    ngx_http_ir_cli_archiver_t *ar);
static ngx_int_t ngx_http_ir_cli_archive_read(
    ngx_http_ir_cli_archiver_t *ar, const char *from, ngx_uint_t block,
    ngx_uint_t *n);
static ngx_int_t ngx_http_ir_cli_archive_batch(
    ngx_http_ir_cli_archiver_t *ar, redisReply *entries);
static ngx_int_t ngx_http_ir_cli_archive_flush(
    ngx_http_ir_cli_archiver_t *ar);
static ngx_int_t ngx_http_ir_cli_archive_ack(
    ngx_http_ir_cli_archiver_t *ar);
static ngx_int_t ngx_http_ir_cli_archive_trim(
    ngx_http_ir_cli_archiver_t *ar);
static ngx_int_t ngx_http_ir_cli_archive_open(
    ngx_http_ir_cli_archiver_t *ar, u_char *day);
static ngx_int_t ngx_http_ir_cli_archive_close(
    ngx_http_ir_cli_archiver_t *ar);
static ngx_int_t ngx_http_ir_cli_archive_compress(
    ngx_http_ir_cli_archiver_t *ar, u_char *day);
static ngx_int_t ngx_http_ir_cli_archive_expire(
    ngx_http_ir_cli_archiver_t *ar, int64_t now);
static ngx_int_t ngx_http_ir_cli_archive_closing(
    ngx_http_ir_cli_archiver_t *ar, ngx_http_ir_cli_day_t *d, u_char *hex);
static u_char *ngx_http_ir_cli_archive_path(ngx_http_ir_cli_archiver_t *ar,
    u_char *day, const char *ext);
static ngx_int_t ngx_http_ir_cli_archive_write(ngx_http_ir_cli_archiver_t *ar,
    int fd, u_char *data, size_t len, u_char *path);
static ngx_int_t ngx_http_ir_cli_archive_sync_dir(
    ngx_http_ir_cli_archiver_t *ar);
static void ngx_http_ir_cli_archive_crash(ngx_http_ir_cli_archiver_t *ar,
    const char *point);
static void ngx_http_ir_cli_archive_signal(int signo);


static volatile sig_atomic_t  ngx_http_ir_cli_archive_stop;


int
ngx_http_ir_cli_archive(ngx_http_ir_cli_t *cli)
{
    int                          rc;
    int64_t                      now;
    ngx_uint_t                   n;
    struct sigaction             sa;
    ngx_http_ir_cli_archiver_t   ar;

    if (cli->argc) {
        ngx_http_ir_cli_error("\"audit archive\" takes no argument \"%s\"",
                              cli->argv[0]);
        return NGX_HTTP_IR_CLI_USAGE;
    }

    ngx_memzero(&ar, sizeof(ngx_http_ir_cli_archiver_t));

    ar.cli = cli;
    ar.fd = -1;
    ar.dir_fd = -1;
    ar.lock_fd = -1;
    ar.crash = getenv("IR_ACCESS_ARCHIVE_CRASH");

    if (ngx_array_init(&ar.acks, cli->pool, NGX_HTTP_IR_CLI_AUDIT_PAGE + 2,
                       sizeof(ngx_str_t))
        != NGX_OK
        || ngx_http_ir_cli_entry_init(&ar.entry, cli->pool) != NGX_OK
        || ngx_http_ir_cli_line_init(&ar.line, cli->pool) != NGX_OK)
    {
        return NGX_HTTP_IR_CLI_INTERNAL;
    }

    rc = ngx_http_ir_cli_archive_start(&ar);
    if (rc != NGX_HTTP_IR_CLI_OK) {
        return rc;
    }

    ngx_memzero(&sa, sizeof(struct sigaction));
    sa.sa_handler = ngx_http_ir_cli_archive_signal;
    sigemptyset(&sa.sa_mask);

    (void) sigaction(SIGTERM, &sa, NULL);
    (void) sigaction(SIGINT, &sa, NULL);
    (void) sigaction(SIGHUP, &sa, NULL);

    if (ngx_http_ir_cli_archive_group(&ar) != NGX_OK
        || ngx_http_ir_cli_archive_claim(&ar) != NGX_OK)
    {
        return NGX_HTTP_IR_CLI_REDIS;
    }

    /* what this consumer read before and did not acknowledge */

    for ( ;; ) {
        rc = ngx_http_ir_cli_archive_read(&ar, "0", 0, &n);
        if (rc != NGX_OK) {
            return (rc == NGX_ERROR) ? NGX_HTTP_IR_CLI_REDIS
                                     : NGX_HTTP_IR_CLI_CONF;
        }

        if (n == 0) {
            break;
        }
    }

    /* what was acknowledged before a crash, and not trimmed */

    if (ngx_http_ir_cli_archive_trim(&ar) != NGX_OK) {
        return NGX_HTTP_IR_CLI_REDIS;
    }

    /* and what comes */

    while (!ngx_http_ir_cli_archive_stop) {

        if (ngx_http_ir_cli_redis_time(cli, &now) != NGX_OK) {
            return NGX_HTTP_IR_CLI_REDIS;
        }

        rc = ngx_http_ir_cli_archive_read(&ar, ">", !cli->audit.once, &n);
        if (rc != NGX_OK) {
            return (rc == NGX_ERROR) ? NGX_HTTP_IR_CLI_REDIS
                                     : NGX_HTTP_IR_CLI_CONF;
        }

        if (n == NGX_HTTP_IR_CLI_AUDIT_PAGE) {
            continue;
        }

        /* everything Redis had before "now" is archived */

        ar.caught_up = now;

        if (ar.fd != -1 && ar.caught_up >= ar.day_end) {
            if (ngx_http_ir_cli_archive_close(&ar) != NGX_OK) {
                return NGX_HTTP_IR_CLI_CONF;
            }
        }

        if (ar.first_closed) {
            ar.first_closed = 0;

            if (ngx_http_ir_cli_archive_expire(&ar, now) != NGX_OK) {
                return NGX_HTTP_IR_CLI_CONF;
            }
        }

        if (cli->audit.once) {
            break;
        }
    }

    if (ar.fd != -1) {
        close(ar.fd);
    }

    ngx_http_ir_cli_print("archived %ui entries into %V (%ui there "
                          "already, %ui deleted before they were read), "
                          "%ui days closed, %ui deleted; the last is %uL-%uL"
                          "\n", ar.archived, &cli->audit.dir, ar.skipped,
                          ar.gone, ar.closed, ar.removed, ar.last.ms,
                          ar.last.seq);

    ngx_free(ar.buf);
    ngx_http_ir_cli_line_free(&ar.line);

    return NGX_HTTP_IR_CLI_OK;
}


static void
ngx_http_ir_cli_archive_signal(int signo)
{
    ngx_http_ir_cli_archive_stop = 1;
}


/*
 * The folder, locked against a second archiver, set right after a crash:
 * a compressed day's plain file or half-written .gz.part removed, a day
 * closed but not compressed compressed, a line cut short removed; then
 * where the archive ends, and the day being written.
 */

static ngx_int_t
ngx_http_ir_cli_archive_start(ngx_http_ir_cli_archiver_t *ar)
{
    u_char                 *path;
    int64_t                 now;
    ngx_int_t               rc;
    ngx_uint_t              i;
    ngx_array_t             days;
    ngx_http_ir_cli_t      *cli;
    ngx_http_ir_cli_day_t  *d;
    u_char                  host[NGX_MAXHOSTNAMELEN];

    cli = ar->cli;

    if (mkdir((char *) cli->audit.dir.data, 0750) == -1 && errno != EEXIST) {
        ngx_http_ir_cli_error("cannot make the archive %V: %s",
                              &cli->audit.dir, strerror(errno));
        return NGX_HTTP_IR_CLI_CONF;
    }

    ar->dir_fd = open((char *) cli->audit.dir.data, O_RDONLY|O_DIRECTORY);

    if (ar->dir_fd == -1) {
        ngx_http_ir_cli_error("cannot open the archive %V: %s",
                              &cli->audit.dir, strerror(errno));
        return NGX_HTTP_IR_CLI_CONF;
    }

    ar->lock_fd = openat(ar->dir_fd, ".lock", O_RDWR|O_CREAT, 0640);

    if (ar->lock_fd == -1) {
        ngx_http_ir_cli_error("cannot open %V/.lock: %s", &cli->audit.dir,
                              strerror(errno));
        return NGX_HTTP_IR_CLI_CONF;
    }

    if (flock(ar->lock_fd, LOCK_EX|LOCK_NB) == -1) {
        ngx_http_ir_cli_error("another archiver writes into %V (%V/.lock "
                              "is held)", &cli->audit.dir, &cli->audit.dir);
        return NGX_HTTP_IR_CLI_CONF;
    }

    if (gethostname((char *) host, sizeof(host)) == -1) {
        ngx_cpystrn(host, (u_char *) "archiver", sizeof(host));
    }

    host[sizeof(host) - 1] = '\0';

    ar->consumer.len = ngx_strlen(host);
    ar->consumer.data = ngx_pnalloc(cli->pool, ar->consumer.len);
    if (ar->consumer.data == NULL) {
        return NGX_HTTP_IR_CLI_INTERNAL;
    }

    ngx_memcpy(ar->consumer.data, host, ar->consumer.len);

    if (ngx_http_ir_cli_archive_days(cli, &days, NULL) != NGX_OK) {
        return NGX_HTTP_IR_CLI_CONF;
    }

    d = days.elts;

    for (i = 0; i < days.nelts; i++) {

        path = ngx_http_ir_cli_archive_path(ar, d[i].day, ".jsonl.gz.part");
        if (path == NULL) {
            return NGX_HTTP_IR_CLI_INTERNAL;
        }

        if (unlink((char *) path) == 0) {
            ngx_http_ir_cli_error("removed %s, a compression cut short",
                                  path);
        }

        if (d[i].gz && d[i].has_plain) {
            /* compressed and renamed: the plain file only waited to go */

            if (unlink((char *) d[i].plain.data) == -1) {
                ngx_http_ir_cli_error("cannot remove %V: %s", &d[i].plain,
                                      strerror(errno));
                return NGX_HTTP_IR_CLI_CONF;
            }

            d[i].has_plain = 0;
        }

        if (d[i].gz) {
            continue;
        }

        rc = ngx_http_ir_cli_archive_repair(ar, &d[i].path);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_IR_CLI_CONF;
        }

        if (rc == NGX_DONE) {
            /* closed, not compressed yet */

            if (ngx_http_ir_cli_archive_compress(ar, d[i].day) != NGX_OK) {
                return NGX_HTTP_IR_CLI_CONF;
            }

            continue;
        }

        if (i != days.nelts - 1) {
            ngx_http_ir_cli_error("%V is not closed, but a later day is "
                                  "archived: this archive was not written by "
                                  "\"ir-access audit archive\" alone; see "
                                  "\"ir-access audit verify\"", &d[i].path);
            return NGX_HTTP_IR_CLI_CONF;
        }

        /* the day being written */

        ar->fd = open((char *) d[i].path.data, O_WRONLY|O_APPEND);

        if (ar->fd == -1) {
            ngx_http_ir_cli_error("cannot open %V: %s", &d[i].path,
                                  strerror(errno));
            return NGX_HTTP_IR_CLI_CONF;
        }

        ngx_memcpy(ar->day, d[i].day, sizeof(ar->day));
        ar->day_end = ngx_http_ir_cli_day_start(ar->day)
                      + NGX_HTTP_IR_CLI_DAY_MS;
    }

    if (ngx_http_ir_cli_archive_days(cli, &days, NULL) != NGX_OK
        || ngx_http_ir_cli_last_archived(&days, &ar->line, &ar->last)
           != NGX_OK)
    {
        return NGX_HTTP_IR_CLI_CONF;
    }

    /* the digest the next day's file begins with */

    ngx_memcpy(ar->prev, NGX_HTTP_IR_TRAIL_START, NGX_HTTP_IR_DIGEST_HEX);

    d = days.elts;

    if (ar->fd == -1 && days.nelts) {
        if (ngx_http_ir_cli_archive_closing(ar, &d[days.nelts - 1], ar->prev)
            != NGX_OK)
        {
            return NGX_HTTP_IR_CLI_CONF;
        }
    }

    now = (int64_t) time(NULL) * 1000;

    if (ngx_http_ir_cli_archive_expire(ar, now) != NGX_OK) {
        return NGX_HTTP_IR_CLI_CONF;
    }

    return NGX_HTTP_IR_CLI_OK;
}


/*
 * A plain day's file after a crash: bytes after its last end of line
 * (a line being written) and last lines that are no archive line (a
 * disk that lost what it was writing) are cut off.  NGX_DONE for a file
 * that is closed.
 */

static ngx_int_t
ngx_http_ir_cli_archive_repair(ngx_http_ir_cli_archiver_t *ar,
    ngx_str_t *path)
{
    int          fd;
    off_t        size, off;
    u_char      *buf, *end, *start;
    size_t       chunk;
    ssize_t      n;
    ngx_int_t    rc;
    struct stat  st;

    fd = open((char *) path->data, O_RDWR);

    if (fd == -1 || fstat(fd, &st) == -1) {
        ngx_http_ir_cli_error("cannot open %V: %s", path, strerror(errno));

        if (fd != -1) {
            close(fd);
        }

        return NGX_ERROR;
    }

    size = st.st_size;
    chunk = 64 * 1024;

    for ( ;; ) {
        off = (size > (off_t) chunk) ? size - (off_t) chunk : 0;

        buf = ngx_alloc(size - off + 1, ngx_cycle->log);
        if (buf == NULL) {
            close(fd);
            return NGX_ERROR;
        }

        n = pread(fd, buf, size - off, off);

        if (n != size - off) {
            ngx_http_ir_cli_error("cannot read %V: %s", path,
                                  (n == -1) ? strerror(errno) : "it shrank");
            ngx_free(buf);
            close(fd);
            return NGX_ERROR;
        }

        for (end = buf + n; end > buf && *(end - 1) != '\n'; end--) {
            /* void */
        }

        if (end == buf && off > 0) {
            /* a line longer than what was read */
            ngx_free(buf);
            chunk *= 4;
            continue;
        }

        if (end < buf + n) {
            ngx_http_ir_cli_error("%V ends with %z bytes of a line being "
                                  "written when the archiver stopped: cut "
                                  "off, the entries are read again",
                                  path, (size_t) (buf + n - end));

            size = off + (end - buf);

            if (ftruncate(fd, size) == -1 || fsync(fd) == -1) {
                ngx_http_ir_cli_error("cannot cut %V: %s", path,
                                      strerror(errno));
                ngx_free(buf);
                close(fd);
                return NGX_ERROR;
            }
        }

        if (end == buf) {
            /* nothing left: the file goes, and is made again */
            ngx_free(buf);
            close(fd);

            if (unlink((char *) path->data) == -1) {
                ngx_http_ir_cli_error("cannot remove %V: %s", path,
                                      strerror(errno));
                return NGX_ERROR;
            }

            ngx_http_ir_cli_error("removed %V: nothing of it was written",
                                  path);

            return ngx_http_ir_cli_archive_sync_dir(ar);
        }

        end--;

        for (start = end; start > buf && *(start - 1) != '\n'; start--) {
            /* void */
        }

        if (start == buf && off > 0) {
            ngx_free(buf);
            chunk *= 4;
            continue;
        }

        rc = ngx_http_ir_cli_line_parse(&ar->line, start, end - start);

        if (rc == NGX_OK) {
            ngx_free(buf);
            close(fd);

            return (ar->line.kind == NGX_HTTP_IR_CLI_LINE_CLOSED)
                   ? NGX_DONE : NGX_OK;
        }

        ngx_http_ir_cli_error("%V ends with a line that is no archive "
                              "line (%z bytes): cut off, the entries are "
                              "read again", path, (size_t) (end - start));

        size = off + (start - buf);

        ngx_free(buf);

        if (ftruncate(fd, size) == -1 || fsync(fd) == -1) {
            ngx_http_ir_cli_error("cannot cut %V: %s", path, strerror(errno));
            close(fd);
            return NGX_ERROR;
        }

        chunk = 64 * 1024;
    }
}


/* the group, made where there is none, from the stream's first entry */

static ngx_int_t
ngx_http_ir_cli_archive_group(ngx_http_ir_cli_archiver_t *ar)
{
    redisReply         *reply;
    ngx_http_ir_cli_t  *cli;
    const char         *argv[6];
    size_t              argvlen[6];

    cli = ar->cli;

    argv[0] = "XGROUP";
    argvlen[0] = 6;
    argv[1] = "CREATE";
    argvlen[1] = 6;
    argv[2] = (char *) cli->audit.stream.data;
    argvlen[2] = cli->audit.stream.len;
    argv[3] = (char *) cli->audit.group.data;
    argvlen[3] = cli->audit.group.len;
    argv[4] = "0";
    argvlen[4] = 1;
    argv[5] = "MKSTREAM";
    argvlen[5] = 8;

    reply = ngx_http_ir_cli_command(cli, 6, argv, argvlen);
    if (reply == NULL) {
        return NGX_ERROR;
    }

    if (reply->type == REDIS_REPLY_ERROR
        && !(reply->len >= 9 && ngx_strncmp(reply->str, "BUSYGROUP", 9) == 0))
    {
        ngx_http_ir_cli_reply_error(reply, "XGROUP CREATE");
        freeReplyObject(reply);
        return NGX_ERROR;
    }

    freeReplyObject(reply);

    return NGX_OK;
}


/*
 * What other consumers of the group read and did not acknowledge (an
 * archiver that ran on another host) becomes this one's, to be read
 * again with its own.
 */

static ngx_int_t
ngx_http_ir_cli_archive_claim(ngx_http_ir_cli_archiver_t *ar)
{
    redisReply         *reply;
    ngx_http_ir_cli_t  *cli;
    const char         *argv[9];
    size_t              argvlen[9];
    u_char              cursor[NGX_HTTP_IR_CLI_AUDIT_ID_LEN];
    u_char              count[NGX_INT_T_LEN];

    cli = ar->cli;

    argv[0] = "XAUTOCLAIM";
    argvlen[0] = 10;
    argv[1] = (char *) cli->audit.stream.data;
    argvlen[1] = cli->audit.stream.len;
    argv[2] = (char *) cli->audit.group.data;
    argvlen[2] = cli->audit.group.len;
    argv[3] = (char *) ar->consumer.data;
    argvlen[3] = ar->consumer.len;
    argv[4] = "0";
    argvlen[4] = 1;
    argv[5] = (char *) cursor;
    argv[6] = "COUNT";
    argvlen[6] = 5;
    argv[7] = (char *) count;
    argvlen[7] = ngx_sprintf(count, "%ui", NGX_HTTP_IR_CLI_AUDIT_PAGE)
                 - count;
    argv[8] = "JUSTID";
    argvlen[8] = 6;

    ngx_memcpy(cursor, "0-0", 3);
    argvlen[5] = 3;

    for ( ;; ) {
        reply = ngx_http_ir_cli_command(cli, 9, argv, argvlen);
        if (reply == NULL) {
            return NGX_ERROR;
        }

        if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2
            || reply->element[0]->type != REDIS_REPLY_STRING
            || reply->element[0]->len >= sizeof(cursor))
        {
            ngx_http_ir_cli_reply_error(reply, "XAUTOCLAIM");
            freeReplyObject(reply);
            return NGX_ERROR;
        }

        argvlen[5] = reply->element[0]->len;
        ngx_memcpy(cursor, reply->element[0]->str, argvlen[5]);

        freeReplyObject(reply);

        if (argvlen[5] == 3 && ngx_strncmp(cursor, "0-0", 3) == 0) {
            return NGX_OK;
        }
    }
}


/*
 * A read of the group: from "0" this consumer's pending entries after
 * the last one read (which the archive may hold already), from ">" new
 * ones, waiting for them with "block".  NGX_DECLINED for a failure of
 * the archive's files.
 */

static ngx_int_t
ngx_http_ir_cli_archive_read(ngx_http_ir_cli_archiver_t *ar,
    const char *from, ngx_uint_t block, ngx_uint_t *n)
{
    int                 argc;
    ngx_int_t           rc;
    redisReply         *reply, *entries;
    ngx_http_ir_cli_t  *cli;
    const char         *argv[11];
    size_t              argvlen[11];
    u_char              count[NGX_INT_T_LEN];
    u_char              after[NGX_HTTP_IR_CLI_AUDIT_ID_LEN];

    cli = ar->cli;
    *n = 0;

    argc = 0;

    argv[argc] = "XREADGROUP";
    argvlen[argc++] = 10;
    argv[argc] = "GROUP";
    argvlen[argc++] = 5;
    argv[argc] = (char *) cli->audit.group.data;
    argvlen[argc++] = cli->audit.group.len;
    argv[argc] = (char *) ar->consumer.data;
    argvlen[argc++] = ar->consumer.len;
    argv[argc] = "COUNT";
    argvlen[argc++] = 5;
    argv[argc] = (char *) count;
    argvlen[argc++] = ngx_sprintf(count, "%ui", NGX_HTTP_IR_CLI_AUDIT_PAGE)
                      - count;

    if (block) {
        argv[argc] = "BLOCK";
        argvlen[argc++] = 5;
        argv[argc] = NGX_HTTP_IR_CLI_ARCHIVE_BLOCK;
        argvlen[argc++] = sizeof(NGX_HTTP_IR_CLI_ARCHIVE_BLOCK) - 1;
    }

    argv[argc] = "STREAMS";
    argvlen[argc++] = 7;
    argv[argc] = (char *) cli->audit.stream.data;
    argvlen[argc++] = cli->audit.stream.len;

    if (from[0] == '0') {
        /* the pending entries, a page after another */
        argv[argc] = (char *) after;
        argvlen[argc++] = ngx_http_ir_cli_id_print(after, &ar->pending)
                          - after;

    } else {
        argv[argc] = from;
        argvlen[argc++] = ngx_strlen(from);
    }

    reply = ngx_http_ir_cli_command(cli, argc, argv, argvlen);
    if (reply == NULL) {
        return NGX_ERROR;
    }

    if (reply->type == REDIS_REPLY_NIL) {
        freeReplyObject(reply);
        return NGX_OK;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1
        || reply->element[0]->type != REDIS_REPLY_ARRAY
        || reply->element[0]->elements != 2
        || reply->element[0]->element[1]->type != REDIS_REPLY_ARRAY)
    {
        ngx_http_ir_cli_reply_error(reply, "XREADGROUP");
        freeReplyObject(reply);
        return NGX_ERROR;
    }

    entries = reply->element[0]->element[1];

    *n = entries->elements;

    rc = ngx_http_ir_cli_archive_batch(ar, entries);

    if (rc == NGX_OK && from[0] == '0' && ar->entry.id.len) {
        ar->pending = ar->entry.sid;
    }

    freeReplyObject(reply);

    return rc;
}


/*
 * A batch: each entry not archived yet is appended to its day's file;
 * the files are written to disk; then everything read is acknowledged
 * and the stream trimmed.
 */

static ngx_int_t
ngx_http_ir_cli_archive_batch(ngx_http_ir_cli_archiver_t *ar,
    redisReply *entries)
{
    size_t                    i, need;
    u_char                   *buf;
    ngx_str_t                *ack;
    ngx_http_ir_cli_t        *cli;
    ngx_http_ir_cli_entry_t  *e;
    u_char                    day[NGX_HTTP_IR_CLI_AUDIT_DAY_LEN + 1];

    cli = ar->cli;
    e = &ar->entry;

    ar->acks.nelts = 0;
    ar->len = 0;
    e->id.len = 0;

    if (entries->elements) {
        ngx_http_ir_cli_archive_crash(ar, "read");
    }

    for (i = 0; i < entries->elements; i++) {

        if (ngx_http_ir_cli_entry_reply(e, entries->element[i]) != NGX_OK) {
            ngx_http_ir_cli_error("an entry of the stream \"%V\" is not as "
                                  "XREADGROUP gives one",
                                  &cli->audit.stream);
            return NGX_ERROR;
        }

        ack = ngx_array_push(&ar->acks);
        if (ack == NULL) {
            return NGX_ERROR;
        }

        *ack = e->id;

        if (e->deleted) {
            ar->gone++;
            continue;
        }

        if (ngx_http_ir_cli_id_cmp(&e->sid, &ar->last) <= 0) {
            /* written before a crash, not acknowledged */
            ar->skipped++;
            continue;
        }

        ngx_http_ir_cli_day(day, (int64_t) e->sid.ms);
        day[NGX_HTTP_IR_CLI_AUDIT_DAY_LEN] = '\0';

        if (ar->fd == -1
            || ngx_strncmp(day, ar->day, NGX_HTTP_IR_CLI_AUDIT_DAY_LEN) != 0)
        {
            /*
             * A new day: the ids only grow, so the day before has all
             * its entries.
             */

            if (ngx_http_ir_cli_archive_flush(ar) != NGX_OK) {
                return NGX_DECLINED;
            }

            if (ar->fd != -1 && ngx_http_ir_cli_archive_close(ar) != NGX_OK) {
                return NGX_DECLINED;
            }

            if (ngx_http_ir_cli_archive_open(ar, day) != NGX_OK) {
                return NGX_DECLINED;
            }
        }

        need = ngx_http_ir_cli_entry_len(e);

        if (ar->size - ar->len < need) {
            buf = ngx_alloc(ngx_max(2 * ar->size, ar->len + need),
                            ngx_cycle->log);
            if (buf == NULL) {
                return NGX_ERROR;
            }

            if (ar->len) {
                ngx_memcpy(buf, ar->buf, ar->len);
            }

            ngx_free(ar->buf);

            ar->buf = buf;
            ar->size = ngx_max(2 * ar->size, ar->len + need);
        }

        ar->len = ngx_http_ir_cli_entry_json(ar->buf + ar->len, e) - ar->buf;

        ar->last = e->sid;
        ar->archived++;
    }

    if (ngx_http_ir_cli_archive_flush(ar) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (ar->acks.nelts == 0) {
        return NGX_OK;
    }

    ngx_http_ir_cli_archive_crash(ar, "written");

    if (ngx_http_ir_cli_archive_ack(ar) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_ir_cli_archive_crash(ar, "acked");

    return ngx_http_ir_cli_archive_trim(ar);
}


/* the batch's lines to the day's file, and to disk */

static ngx_int_t
ngx_http_ir_cli_archive_flush(ngx_http_ir_cli_archiver_t *ar)
{
    if (ar->len == 0) {
        return NGX_OK;
    }

    if (ngx_http_ir_cli_archive_write(ar, ar->fd, ar->buf, ar->len, ar->day)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ar->len = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_cli_archive_ack(ngx_http_ir_cli_archiver_t *ar)
{
    size_t              *argvlen;
    ngx_str_t           *id;
    ngx_uint_t           i, argc;
    redisReply          *reply;
    const char         **argv;
    ngx_http_ir_cli_t   *cli;

    cli = ar->cli;
    argc = 3 + ar->acks.nelts;

    argv = ngx_alloc(argc * (sizeof(char *) + sizeof(size_t)),
                     ngx_cycle->log);
    if (argv == NULL) {
        return NGX_ERROR;
    }

    argvlen = (size_t *) (argv + argc);

    argv[0] = "XACK";
    argvlen[0] = 4;
    argv[1] = (char *) cli->audit.stream.data;
    argvlen[1] = cli->audit.stream.len;
    argv[2] = (char *) cli->audit.group.data;
    argvlen[2] = cli->audit.group.len;

    id = ar->acks.elts;

    for (i = 0; i < ar->acks.nelts; i++) {
        argv[3 + i] = (char *) id[i].data;
        argvlen[3 + i] = id[i].len;
    }

    reply = ngx_http_ir_cli_command(cli, argc, argv, argvlen);

    ngx_free(argv);

    if (reply == NULL) {
        return NGX_ERROR;
    }

    if (reply->type != REDIS_REPLY_INTEGER) {
        ngx_http_ir_cli_reply_error(reply, "XACK");
        freeReplyObject(reply);
        return NGX_ERROR;
    }

    freeReplyObject(reply);

    return NGX_OK;
}


/*
 * The stream trimmed up to the oldest entry that a group of it still
 * wants: its oldest pending one, or the one after the last it read.
 * Another group (a shipper to a SIEM) keeps what it has not read.
 */

static ngx_int_t
ngx_http_ir_cli_archive_trim(ngx_http_ir_cli_archiver_t *ar)
{
    size_t                 i, j;
    ngx_str_t              s;
    ngx_uint_t             found;
    redisReply            *reply, *g, *name, *last, *pending, *p;
    ngx_http_ir_cli_t     *cli;
    ngx_http_ir_cli_id_t   min, id;
    const char            *argv[5];
    size_t                 argvlen[5];
    u_char                 text[NGX_HTTP_IR_CLI_AUDIT_ID_LEN];

    cli = ar->cli;

    argv[0] = "XINFO";
    argvlen[0] = 5;
    argv[1] = "GROUPS";
    argvlen[1] = 6;
    argv[2] = (char *) cli->audit.stream.data;
    argvlen[2] = cli->audit.stream.len;

    reply = ngx_http_ir_cli_command(cli, 3, argv, argvlen);
    if (reply == NULL) {
        return NGX_ERROR;
    }

    if (reply->type != REDIS_REPLY_ARRAY) {
        ngx_http_ir_cli_reply_error(reply, "XINFO GROUPS");
        freeReplyObject(reply);
        return NGX_ERROR;
    }

    found = 0;
    min.ms = 0;
    min.seq = 0;

    for (i = 0; i < reply->elements; i++) {
        g = reply->element[i];

        if (g->type != REDIS_REPLY_ARRAY) {
            continue;
        }

        name = NULL;
        last = NULL;
        pending = NULL;

        for (j = 0; j + 1 < g->elements; j += 2) {
            if (ngx_http_ir_cli_is(g->element[j], "name")) {
                name = g->element[j + 1];

            } else if (ngx_http_ir_cli_is(g->element[j],
                                          "last-delivered-id"))
            {
                last = g->element[j + 1];

            } else if (ngx_http_ir_cli_is(g->element[j], "pending")) {
                pending = g->element[j + 1];
            }
        }

        if (name == NULL || name->type != REDIS_REPLY_STRING
            || last == NULL || last->type != REDIS_REPLY_STRING
            || pending == NULL || pending->type != REDIS_REPLY_INTEGER)
        {
            ngx_http_ir_cli_error("XINFO GROUPS of \"%V\" is not as "
                                  "expected: the stream is not trimmed",
                                  &cli->audit.stream);
            freeReplyObject(reply);
            return NGX_OK;
        }

        s.data = (u_char *) last->str;
        s.len = last->len;

        if (ngx_http_ir_cli_id_parse(&s, &id) != NGX_OK) {
            freeReplyObject(reply);
            return NGX_OK;
        }

        ngx_http_ir_cli_id_next(&id);

        if (pending->integer > 0) {

            /* XPENDING's summary: the count, then the oldest id */

            argv[0] = "XPENDING";
            argvlen[0] = 8;
            argv[1] = (char *) cli->audit.stream.data;
            argvlen[1] = cli->audit.stream.len;
            argv[2] = name->str;
            argvlen[2] = name->len;

            p = ngx_http_ir_cli_command(cli, 3, argv, argvlen);
            if (p == NULL) {
                freeReplyObject(reply);
                return NGX_ERROR;
            }

            if (p->type != REDIS_REPLY_ARRAY || p->elements < 2
                || p->element[1]->type != REDIS_REPLY_STRING)
            {
                ngx_http_ir_cli_reply_error(p, "XPENDING");
                freeReplyObject(p);
                freeReplyObject(reply);
                return NGX_ERROR;
            }

            s.data = (u_char *) p->element[1]->str;
            s.len = p->element[1]->len;

            if (ngx_http_ir_cli_id_parse(&s, &id) != NGX_OK) {
                freeReplyObject(p);
                freeReplyObject(reply);
                return NGX_OK;
            }

            freeReplyObject(p);
        }

        if (!found || ngx_http_ir_cli_id_cmp(&id, &min) < 0) {
            min = id;
            found = 1;
        }
    }

    freeReplyObject(reply);

    if (!found || (min.ms == 0 && min.seq <= 1)) {
        return NGX_OK;
    }

    argv[0] = "XTRIM";
    argvlen[0] = 5;
    argv[1] = (char *) cli->audit.stream.data;
    argvlen[1] = cli->audit.stream.len;
    argv[2] = "MINID";
    argvlen[2] = 5;
    argv[3] = "=";
    argvlen[3] = 1;
    argv[4] = (char *) text;
    argvlen[4] = ngx_http_ir_cli_id_print(text, &min) - text;

    reply = ngx_http_ir_cli_command(cli, 5, argv, argvlen);
    if (reply == NULL) {
        return NGX_ERROR;
    }

    if (reply->type != REDIS_REPLY_INTEGER) {
        ngx_http_ir_cli_reply_error(reply, "XTRIM");
        freeReplyObject(reply);
        return NGX_ERROR;
    }

    freeReplyObject(reply);

    return NGX_OK;
}


/* a day's file made, beginning with the digest of the day before */

static ngx_int_t
ngx_http_ir_cli_archive_open(ngx_http_ir_cli_archiver_t *ar, u_char *day)
{
    u_char             *path, *p, *line;
    struct stat         st;
    ngx_http_ir_cli_t  *cli;

    cli = ar->cli;

    path = ngx_http_ir_cli_archive_path(ar, day, ".jsonl.gz");
    if (path == NULL) {
        return NGX_ERROR;
    }

    if (stat((char *) path, &st) == 0) {
        ngx_http_ir_cli_error("an entry of the day %s came after the day "
                              "was closed (%s): the stream's ids went "
                              "back, or another archiver writes here",
                              day, path);
        return NGX_ERROR;
    }

    path = ngx_http_ir_cli_archive_path(ar, day, ".jsonl");
    if (path == NULL) {
        return NGX_ERROR;
    }

    ar->fd = open((char *) path, O_WRONLY|O_APPEND|O_CREAT|O_EXCL, 0640);

    if (ar->fd == -1) {
        ngx_http_ir_cli_error("cannot make %s: %s", path, strerror(errno));
        return NGX_ERROR;
    }

    ngx_memcpy(ar->day, day, NGX_HTTP_IR_CLI_AUDIT_DAY_LEN);
    ar->day[NGX_HTTP_IR_CLI_AUDIT_DAY_LEN] = '\0';
    ar->day_end = ngx_http_ir_cli_day_start(ar->day) + NGX_HTTP_IR_CLI_DAY_MS;

    line = ngx_pnalloc(cli->pool, 128 + NGX_HTTP_IR_DIGEST_HEX
                                  + ngx_http_ir_cli_json_len(
                                                        &cli->audit.stream));
    if (line == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(line, "{\"_opened\":\"%s\",\"stream\":", ar->day);
    p = ngx_http_ir_cli_json(p, &cli->audit.stream);
    p = ngx_sprintf(p, ",\"prev\":\"%*s\"}\n", (size_t) NGX_HTTP_IR_DIGEST_HEX,
                    ar->prev);

    if (ngx_http_ir_cli_archive_write(ar, ar->fd, line, p - line, ar->day)
        != NGX_OK
        || ngx_http_ir_cli_archive_sync_dir(ar) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The day's file closed: read again for its digest, its entries counted,
 * its closing line written, and compressed.
 */

static ngx_int_t
ngx_http_ir_cli_archive_close(ngx_http_ir_cli_archiver_t *ar)
{
    u_char                    *path, *p;
    ngx_int_t                  rc;
    ngx_str_t                  line, file;
    ngx_uint_t                 entries;
    ngx_http_ir_cli_id_t       first, last;
    ngx_http_ir_cli_reader_t   rd;
    u_char                     hex[NGX_HTTP_IR_DIGEST_HEX];
    u_char                     closing[256 + NGX_HTTP_IR_DIGEST_HEX];

    path = ngx_http_ir_cli_archive_path(ar, ar->day, ".jsonl");
    if (path == NULL) {
        return NGX_ERROR;
    }

    file.data = path;
    file.len = ngx_strlen(path);

    if (ngx_http_ir_cli_reader_open(&rd, &file, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    entries = 0;
    ngx_memzero(&first, sizeof(ngx_http_ir_cli_id_t));
    ngx_memzero(&last, sizeof(ngx_http_ir_cli_id_t));

    for ( ;; ) {
        rc = ngx_http_ir_cli_reader_next(&rd, &line);

        if (rc == NGX_DONE) {
            break;
        }

        if (rc == NGX_ERROR || rd.torn
            || ngx_http_ir_cli_line_parse(&ar->line, line.data, line.len)
               != NGX_OK
            || ar->line.kind == NGX_HTTP_IR_CLI_LINE_CLOSED
            || (rd.line == 1)
               != (ar->line.kind == NGX_HTTP_IR_CLI_LINE_OPENED))
        {
            ngx_http_ir_cli_error("%s:%ui is not as the archiver wrote it: "
                                  "the day is not closed", path, rd.line);
            ngx_http_ir_cli_reader_close(&rd);
            return NGX_ERROR;
        }

        if (ar->line.kind != NGX_HTTP_IR_CLI_LINE_ENTRY) {
            continue;
        }

        if (entries++ == 0) {
            first = ar->line.entry.sid;
        }

        last = ar->line.entry.sid;
    }

    rc = ngx_http_ir_cli_reader_digest(&rd, hex);

    ngx_http_ir_cli_reader_close(&rd);

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(closing, "{\"_closed\":\"%s\",\"entries\":%ui,"
                    "\"first\":\"%uL-%uL\",\"last\":\"%uL-%uL\","
                    "\"sha256\":\"%*s\"}\n", ar->day, entries,
                    first.ms, first.seq, last.ms, last.seq,
                    (size_t) NGX_HTTP_IR_DIGEST_HEX, hex);

    if (ngx_http_ir_cli_archive_write(ar, ar->fd, closing, p - closing,
                                      ar->day)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    close(ar->fd);
    ar->fd = -1;

    ngx_memcpy(ar->prev, hex, NGX_HTTP_IR_DIGEST_HEX);

    ar->closed++;
    ar->first_closed = 1;

    ngx_http_ir_cli_error("closed the day %s: %ui entries, sha256 %*s",
                          ar->day, entries, (size_t) NGX_HTTP_IR_DIGEST_HEX,
                          hex);

    ngx_http_ir_cli_archive_crash(ar, "closed");

    return ngx_http_ir_cli_archive_compress(ar, ar->day);
}


static ngx_int_t
ngx_http_ir_cli_archive_compress(ngx_http_ir_cli_archiver_t *ar, u_char *day)
{
    int       in, out, err;
    gzFile    gz;
    u_char   *plain, *part, *final;
    ssize_t   n;
    u_char    buf[65536];

    plain = ngx_http_ir_cli_archive_path(ar, day, ".jsonl");
    part = ngx_http_ir_cli_archive_path(ar, day, ".jsonl.gz.part");
    final = ngx_http_ir_cli_archive_path(ar, day, ".jsonl.gz");

    if (plain == NULL || part == NULL || final == NULL) {
        return NGX_ERROR;
    }

    in = open((char *) plain, O_RDONLY);

    if (in == -1) {
        ngx_http_ir_cli_error("cannot open %s: %s", plain, strerror(errno));
        return NGX_ERROR;
    }

    out = open((char *) part, O_WRONLY|O_CREAT|O_TRUNC, 0640);

    if (out == -1) {
        ngx_http_ir_cli_error("cannot make %s: %s", part, strerror(errno));
        close(in);
        return NGX_ERROR;
    }

    gz = gzdopen(dup(out), "wb6");

    if (gz == NULL) {
        ngx_http_ir_cli_error("cannot compress into %s", part);
        close(in);
        close(out);
        return NGX_ERROR;
    }

    for ( ;; ) {
        n = read(in, buf, sizeof(buf));

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1) {
            ngx_http_ir_cli_error("cannot read %s: %s", plain,
                                  strerror(errno));
            goto failed;
        }

        if (n == 0) {
            break;
        }

        if (gzwrite(gz, buf, (unsigned) n) != (int) n) {
            ngx_http_ir_cli_error("cannot compress into %s: %s", part,
                                  gzerror(gz, &err));
            goto failed;
        }
    }

    close(in);

    if (gzclose(gz) != Z_OK) {
        ngx_http_ir_cli_error("cannot write %s", part);
        close(out);
        return NGX_ERROR;
    }

    if (fsync(out) == -1) {
        ngx_http_ir_cli_error("cannot write %s to disk: %s", part,
                              strerror(errno));
        close(out);
        return NGX_ERROR;
    }

    close(out);

    if (rename((char *) part, (char *) final) == -1) {
        ngx_http_ir_cli_error("cannot rename %s: %s", part, strerror(errno));
        return NGX_ERROR;
    }

    if (ngx_http_ir_cli_archive_sync_dir(ar) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_ir_cli_archive_crash(ar, "compressed");

    if (unlink((char *) plain) == -1) {
        ngx_http_ir_cli_error("cannot remove %s: %s", plain, strerror(errno));
        return NGX_ERROR;
    }

    return ngx_http_ir_cli_archive_sync_dir(ar);

failed:

    close(in);
    (void) gzclose(gz);
    close(out);
    (void) unlink((char *) part);

    return NGX_ERROR;
}


/* the days older than --years go, the oldest first */

static ngx_int_t
ngx_http_ir_cli_archive_expire(ngx_http_ir_cli_archiver_t *ar, int64_t now)
{
    time_t                  sec;
    ngx_uint_t              i;
    struct tm               tm;
    ngx_array_t             days;
    ngx_http_ir_cli_t      *cli;
    ngx_http_ir_cli_day_t  *d;
    u_char                  cutoff[NGX_HTTP_IR_CLI_AUDIT_DAY_LEN + 1];

    cli = ar->cli;

    if (cli->audit.years == 0) {
        return NGX_OK;
    }

    sec = (time_t) (now / 1000);

    if (gmtime_r(&sec, &tm) == NULL) {
        return NGX_OK;
    }

    /* the same day, N years before (the 29th of February as the 28th) */

    if (tm.tm_mon == 1 && tm.tm_mday == 29) {
        tm.tm_mday = 28;
    }

    (void) ngx_sprintf(cutoff, "%04d-%02d-%02d%Z",
                       tm.tm_year + 1900 - (int) cli->audit.years,
                       tm.tm_mon + 1, tm.tm_mday);

    if (ngx_http_ir_cli_archive_days(cli, &days, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    d = days.elts;

    for (i = 0; i < days.nelts; i++) {
        if (ngx_strcmp(d[i].day, cutoff) >= 0) {
            break;
        }

        /* only a closed day, and so compressed */

        if (!d[i].gz) {
            continue;
        }

        if (unlink((char *) d[i].path.data) == -1) {
            ngx_http_ir_cli_error("cannot remove %V: %s", &d[i].path,
                                  strerror(errno));
            return NGX_ERROR;
        }

        ar->removed++;

        ngx_http_ir_cli_error("deleted the day %s: older than %i years",
                              d[i].day, cli->audit.years);
    }

    return ngx_http_ir_cli_archive_sync_dir(ar);
}


/* the "sha256" of a closed day's closing line */

static ngx_int_t
ngx_http_ir_cli_archive_closing(ngx_http_ir_cli_archiver_t *ar,
    ngx_http_ir_cli_day_t *d, u_char *hex)
{
    ngx_int_t                 rc;
    ngx_str_t                 line;
    ngx_http_ir_cli_reader_t  rd;

    if (!d->gz) {
        rc = ngx_http_ir_cli_tail(&d->path, &ar->line);

    } else {
        if (ngx_http_ir_cli_reader_open(&rd, &d->path, 0) != NGX_OK) {
            return NGX_ERROR;
        }

        rc = NGX_DONE;

        for ( ;; ) {
            if (ngx_http_ir_cli_reader_next(&rd, &line) != NGX_OK) {
                break;
            }

            rc = ngx_http_ir_cli_line_parse(&ar->line, line.data, line.len);

            if (rc != NGX_OK) {
                break;
            }
        }

        ngx_http_ir_cli_reader_close(&rd);
    }

    if (rc != NGX_OK || ar->line.kind != NGX_HTTP_IR_CLI_LINE_CLOSED) {
        ngx_http_ir_cli_error("%V does not end with its closing line",
                              &d->path);
        return NGX_ERROR;
    }

    ngx_memcpy(hex, ar->line.sha256.data, NGX_HTTP_IR_DIGEST_HEX);

    return NGX_OK;
}


static u_char *
ngx_http_ir_cli_archive_path(ngx_http_ir_cli_archiver_t *ar, u_char *day,
    const char *ext)
{
    u_char      *p;
    ngx_str_t   *dir;

    dir = &ar->cli->audit.dir;

    p = ngx_pnalloc(ar->cli->pool, dir->len + sizeof("/audit-") - 1
                                   + NGX_HTTP_IR_CLI_AUDIT_DAY_LEN
                                   + ngx_strlen(ext) + 1);
    if (p == NULL) {
        return NULL;
    }

    (void) ngx_sprintf(p, "%V/audit-%*s%s%Z", dir,
                       (size_t) NGX_HTTP_IR_CLI_AUDIT_DAY_LEN, day, ext);

    return p;
}


/* all of it, then to disk */

static ngx_int_t
ngx_http_ir_cli_archive_write(ngx_http_ir_cli_archiver_t *ar, int fd,
    u_char *data, size_t len, u_char *day)
{
    ssize_t  n;

    while (len) {
        n = write(fd, data, len);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n == -1) {
            ngx_http_ir_cli_error("cannot write the day %s into %V: %s",
                                  day, &ar->cli->audit.dir, strerror(errno));
            return NGX_ERROR;
        }

        data += n;
        len -= n;
    }

    if (fsync(fd) == -1) {
        ngx_http_ir_cli_error("cannot write the day %s to disk in %V: %s",
                              day, &ar->cli->audit.dir, strerror(errno));
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_ir_cli_archive_sync_dir(ngx_http_ir_cli_archiver_t *ar)
{
    if (fsync(ar->dir_fd) == -1) {
        ngx_http_ir_cli_error("cannot write the folder %V to disk: %s",
                              &ar->cli->audit.dir, strerror(errno));
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_ir_cli_archive_crash(ngx_http_ir_cli_archiver_t *ar,
    const char *point)
{
    if (ar->crash && ngx_strcmp(ar->crash, point) == 0) {
        fflush(stdout);
        (void) kill(getpid(), SIGKILL);
    }
}
