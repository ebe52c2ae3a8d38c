/*
 * log.c - JSON-lines logging to one process-wide sink.
 *
 * The sink (level and FILE) is the one per-process singleton allowed by
 * the style guide: configured in main, read by every thread. The level is
 * an atomic so the enabled check is lock-free; the FILE is only touched
 * under the write mutex.
 */
#include "base/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/vtime.h"

/* Minimum level written. */
static atomic_int log_min_level = VSG_LOG_LEVEL_INFO;
/* Serialises writes and guards log_out. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* The sink; NULL means stderr. */
static FILE *log_out = NULL;

/* Written when a line cannot be built for lack of memory. */
static const char log_oom_line[] =
    "{\"level\":\"error\",\"logger\":\"vsgate.log\","
    "\"msg\":\"log line dropped: out of memory\"}\n";

/* ====================================================================
 * Configuration
 * ==================================================================== */

void vsg_log_setup(enum vsg_log_level min, FILE *out)
{
    pthread_mutex_lock(&log_lock);
    log_out = out;
    pthread_mutex_unlock(&log_lock);
    atomic_store(&log_min_level, (int)min);
}

enum vsg_err vsg_log_level_parse(const char *name, enum vsg_log_level *out)
{
    static const struct {
        const char *name;         /* Level name as zap spells it. */
        enum vsg_log_level level; /* Our level for it. */
    } names[] = {
        {"debug", VSG_LOG_LEVEL_DEBUG}, {"info", VSG_LOG_LEVEL_INFO},
        {"warn", VSG_LOG_LEVEL_WARN},   {"warning", VSG_LOG_LEVEL_WARN},
        {"error", VSG_LOG_LEVEL_ERROR}, {"dpanic", VSG_LOG_LEVEL_ERROR},
        {"panic", VSG_LOG_LEVEL_ERROR}, {"fatal", VSG_LOG_LEVEL_ERROR},
    };

    if (name == NULL) return VSG_ERR_INVAL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].level;
            return VSG_OK;
        }
    }
    return VSG_ERR_INVAL;
}

enum vsg_err vsg_log_set_level_from_string(const char *name)
{
    enum vsg_log_level level;
    enum vsg_err err = vsg_log_level_parse(name, &level);

    if (err == VSG_OK) atomic_store(&log_min_level, (int)level);
    return err;
}

enum vsg_log_level vsg_log_level(void)
{
    return (enum vsg_log_level)atomic_load(&log_min_level);
}

const char *vsg_log_level_name(enum vsg_log_level level)
{
    switch (level) {
    case VSG_LOG_LEVEL_DEBUG: return "debug";
    case VSG_LOG_LEVEL_INFO: return "info";
    case VSG_LOG_LEVEL_WARN: return "warn";
    case VSG_LOG_LEVEL_ERROR: return "error";
    }
    return "unknown";
}

int vsg_log_enabled(enum vsg_log_level level)
{
    return (int)level >=
           atomic_load_explicit(&log_min_level, memory_order_relaxed);
}

/* ====================================================================
 * Line assembly
 * ==================================================================== */

/* Writes `len` bytes of `line` to the sink as one write. */
static void write_line(const char *line, size_t len)
{
    FILE *out;

    pthread_mutex_lock(&log_lock);
    out = log_out ? log_out : stderr;
    fwrite(line, 1, len, out);
    fflush(out);
    pthread_mutex_unlock(&log_lock);
}

/* Appends `"key":` to b. */
static enum vsg_err put_key(struct vsg_buf *b, const char *key)
{
    enum vsg_err err = vsg_buf_putc(b, ',');
    if (err == VSG_OK) err = vsg_buf_append_json_string(b, key);
    if (err == VSG_OK) err = vsg_buf_putc(b, ':');
    return err;
}

/* Appends the level, ts, logger, caller and msg members (the opening brace
 * included). */
static enum vsg_err put_header(struct vsg_buf *b, enum vsg_log_level level,
                               const char *logger, const char *file,
                               int line, const char *msg)
{
    char ts[VSG_TIME_RFC3339_BUFSZ], caller[256];
    const char *base;
    enum vsg_err err;

    if (vsg_time_format_rfc3339(vsg_time_now(), VSG_TIME_MICRO, ts,
                                sizeof ts) != VSG_OK)
        ts[0] = '\0';
    err = vsg_buf_printf(b, "{\"level\":\"%s\",\"ts\":\"%s\"",
                         vsg_log_level_name(level), ts);
    if (err == VSG_OK && logger != NULL && logger[0] != '\0') {
        err = put_key(b, "logger");
        if (err == VSG_OK) err = vsg_buf_append_json_string(b, logger);
    }
    if (err == VSG_OK && file != NULL) {
        base = strrchr(file, '/');
        base = base ? base + 1 : file;
        (void)snprintf(caller, sizeof caller, "%s:%d", base, line);
        err = put_key(b, "caller");
        if (err == VSG_OK) err = vsg_buf_append_json_string(b, caller);
    }
    if (err == VSG_OK) err = put_key(b, "msg");
    if (err == VSG_OK) err = vsg_buf_append_json_string(b, msg);
    return err;
}

/* Whether `s` is a JSON number (RFC 8259 grammar: no leading '+', no
 * leading zeros, no hex, inf or nan). */
static int is_json_number(const char *s)
{
    if (*s == '-') s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9') s++;
    else
        return 0;
    if (*s == '.') {
        if (!(*++s >= '0' && *s <= '9')) return 0;
        while (*s >= '0' && *s <= '9') s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!(*s >= '0' && *s <= '9')) return 0;
        while (*s >= '0' && *s <= '9') s++;
    }
    return *s == '\0';
}

/* Appends `,"key":"value"` for each pair; a field that does not fit is
 * rolled back and ends the list. Returns 1 when fields were left out. */
static int put_fields(struct vsg_buf *b, const char *const *fields)
{
    for (size_t i = 0; fields != NULL && fields[i] != NULL; i += 2) {
        size_t mark = b->len;
        const char *key = fields[i], *value = fields[i + 1];
        int number = key[0] == VSG_LOG_NUMBER_MARK;
        enum vsg_err err = put_key(b, number ? key + 1 : key);

        if (err == VSG_OK && number && value != NULL && is_json_number(value))
            err = vsg_buf_puts(b, value);
        else if (err == VSG_OK)
            err = vsg_buf_append_json_string(b, value);
        if (err != VSG_OK) {
            vsg_buf_truncate(b, mark);
            return 1;
        }
        if (value == NULL) break; /* A missing last value ends the list. */
    }
    return 0;
}

/* Appends the pre-encoded members in `raw` (outer braces stripped).
 * Returns 1 when they did not fit. */
static int put_raw(struct vsg_buf *b, const char *raw)
{
    size_t n, mark = b->len;

    if (raw == NULL) return 0;
    raw += strspn(raw, " \t\r\n");
    n = strlen(raw);
    while (n > 0 && strchr(" \t\r\n", raw[n - 1]) != NULL) n--;
    if (n >= 2 && raw[0] == '{' && raw[n - 1] == '}') {
        raw++;
        n -= 2;
        raw += strspn(raw, " \t\r\n");
        while (n > 0 && strchr(" \t\r\n", raw[n - 1]) != NULL) n--;
    }
    if (n == 0) return 0;
    if (vsg_buf_putc(b, ',') != VSG_OK || vsg_buf_append(b, raw, n) != VSG_OK) {
        vsg_buf_truncate(b, mark);
        return 1;
    }
    return 0;
}

/* Builds and writes one line. */
static void emit(enum vsg_log_level level, const char *logger,
                 const char *file, int line, const char *msg,
                 int msg_truncated, const char *const *fields,
                 const char *raw)
{
    struct vsg_buf b;
    int dropped;

    vsg_buf_init(&b, VSG_LOG_LINE_MAX);
    if (put_header(&b, level, logger, file, line, msg) != VSG_OK) goto fail;
    dropped = put_fields(&b, fields);
    dropped |= put_raw(&b, raw);
    if (msg_truncated && vsg_buf_puts(&b, ",\"msgtruncated\":true") != VSG_OK)
        dropped = 1;
    if (dropped && vsg_buf_puts(&b, ",\"fieldstruncated\":true") != VSG_OK)
        goto fail;
    if (vsg_buf_puts(&b, "}\n") != VSG_OK) goto fail;
    write_line(b.data, b.len);
    vsg_buf_cleanup(&b);
    return;

fail:
    write_line(log_oom_line, sizeof log_oom_line - 1);
    vsg_buf_cleanup(&b);
}

/* ====================================================================
 * Emitting
 * ==================================================================== */

void vsg_log_vemit(enum vsg_log_level level, const char *logger,
                   const char *file, int line, const char *const *fields,
                   const char *fmt, va_list ap)
{
    char small[512];      /* Most messages fit here. */
    char *heap = NULL;    /* Longer ones go here. */
    const char *msg = small;
    int truncated = 0, n;
    va_list ap2;

    if (!vsg_log_enabled(level)) return;
    va_copy(ap2, ap);
    n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        msg = "(log message formatting failed)";
    } else if ((size_t)n >= sizeof small) {
        size_t size = (size_t)n < VSG_LOG_MSG_MAX ? (size_t)n + 1
                                                  : VSG_LOG_MSG_MAX + 1;
        truncated = (size_t)n > VSG_LOG_MSG_MAX;
        heap = vsg_malloc(size);
        if (heap != NULL) {
            vsnprintf(heap, size, fmt, ap2);
            msg = heap;
        } else {
            truncated = 1; /* Keep the first sizeof small - 1 bytes. */
        }
    }
    va_end(ap2);
    emit(level, logger, file, line, msg, truncated, fields, NULL);
    vsg_free(heap);
}

void vsg_log_emit(enum vsg_log_level level, const char *logger,
                  const char *file, int line, const char *const *fields,
                  const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsg_log_vemit(level, logger, file, line, fields, fmt, ap);
    va_end(ap);
}

void vsg_log_emit_json(enum vsg_log_level level, const char *logger,
                       const char *file, int line, const char *msg,
                       const char *raw_fields)
{
    size_t n;

    if (!vsg_log_enabled(level)) return;
    if (msg == NULL) msg = "";
    n = strlen(msg);
    if (n > VSG_LOG_MSG_MAX) {
        char *cut = vsg_strndup(msg, VSG_LOG_MSG_MAX);
        emit(level, logger, file, line, cut ? cut : "", 1, NULL, raw_fields);
        vsg_free(cut);
        return;
    }
    emit(level, logger, file, line, msg, 0, NULL, raw_fields);
}
