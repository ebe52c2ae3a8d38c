/*
 * log.h - leveled, structured logging as JSON lines (Knative/zap style).
 *
 * Provides: the process-wide log sink (vsg_log_setup(), level control),
 * vsg_log_emit()/vsg_log_emit_json(), and the VSG_LOG_<LEVEL>() and
 * VSG_LOGF_<LEVEL>() macros that stamp file and line and skip all
 * formatting when the level is disabled.
 * Uses: base/buf.h (line assembly and JSON escaping), base/vtime.h
 * (timestamps), base/mem.h, pthreads (one mutex around each write).
 * Owns: nothing the caller sees. The sink FILE is borrowed: the caller
 * keeps it open while it is configured.
 *
 * One line per call, written with one fwrite() and fflush() under a mutex,
 * so lines from different threads never interleave:
 *
 *   {"level":"info","ts":"2026-11-25T11:37:53.123456Z",
 *    "logger":"vsgate.adapter","caller":"adapter.c:123",
 *    "msg":"sent event","id":"42"}
 *
 * (on one line). Keys come in that order, then the fields in the order
 * given. `ts` is UTC RFC 3339 with microseconds; `caller` is the source
 * file's base name and line. Messages and string fields are JSON-escaped.
 *
 *   VSG_LOG_INFO("vsgate.adapter", "connected to %s", url);
 *   VSG_LOGF_WARN("vsgate.adapter",
 *                 ((const char *[]){"id", id, "sink", sink, NULL}),
 *                 "retrying in %d s", delay);
 *
 * (The compound literal needs its own parentheses inside a macro call.)
 * A key that begins with VSG_LOG_NUMBER_MARK ('#') names a number: the mark
 * is dropped and the value, formatted by the caller, is written bare when it
 * is a JSON number ({"#eventKey", "42"} gives "eventKey":42), as a string
 * otherwise, so a log shipper sees numbers as numbers, as zap writes them.
 * Define VSG_LOG_NO_DEBUG to compile the debug macros out entirely.
 */
#ifndef VSG_BASE_LOG_H
#define VSG_BASE_LOG_H

#include <stdarg.h>
#include <stdio.h>

#include "base/err.h"

/* Longest message kept, in bytes before escaping; longer ones are cut and
 * the line gets "msgtruncated":true. */
#define VSG_LOG_MSG_MAX (8 * 1024)
/* First character of a field key whose value is a number (see above). */
#define VSG_LOG_NUMBER_MARK '#'

/* Longest line written; fields that would pass it are left out and the
 * line gets "fieldstruncated":true. */
#define VSG_LOG_LINE_MAX (128 * 1024)

/* Severity, lowest first; names as zap writes them. */
enum vsg_log_level {
    VSG_LOG_LEVEL_DEBUG, /* "debug": developer detail, off by default. */
    VSG_LOG_LEVEL_INFO,  /* "info": normal operation. */
    VSG_LOG_LEVEL_WARN,  /* "warn": something is wrong but handled. */
    VSG_LOG_LEVEL_ERROR  /* "error": an operation failed. */
};

/* ====================================================================
 * Configuration (call from main, before or between threads' logging)
 * ==================================================================== */

/* Sets the minimum level written and the sink (NULL means stderr). The
 * defaults, before any call, are INFO and stderr. */
void vsg_log_setup(enum vsg_log_level min, FILE *out);

/* Parses a zap level name, case-insensitively: "debug", "info", "warn"
 * (or "warning"), "error"; zap's "dpanic", "panic" and "fatal" map to
 * ERROR. VSG_ERR_INVAL for anything else (*out untouched). */
enum vsg_err vsg_log_level_parse(const char *name, enum vsg_log_level *out);

/* Sets the minimum level from a name as vsg_log_level_parse() reads it.
 * VSG_ERR_INVAL (level unchanged) for an unknown name. */
enum vsg_err vsg_log_set_level_from_string(const char *name);

/* The current minimum level. */
enum vsg_log_level vsg_log_level(void);

/* "debug", "info", "warn", "error"; "unknown" for other values. */
const char *vsg_log_level_name(enum vsg_log_level level);

/* Nonzero when a line at `level` would be written. */
int vsg_log_enabled(enum vsg_log_level level);

/* ====================================================================
 * Emitting
 * ==================================================================== */

/*
 * Writes one line at `level` (nothing when the level is disabled).
 * `logger` is the component name ("vsgate.adapter"; NULL or "" leaves the
 * key out); `file`/`line` give `caller` (NULL file leaves it out).
 * `fields` is NULL or a NULL-terminated array of key, value, key, value...
 * strings. A key whose value is NULL is written with null and ends the
 * list (the array is NULL-terminated, so nothing after it is seen).
 * Never fails: out of memory, it writes a short fixed line instead.
 */
void vsg_log_emit(enum vsg_log_level level, const char *logger,
                  const char *file, int line, const char *const *fields,
                  const char *fmt, ...) VSG_PRINTF(6, 7);

/* vsg_log_emit() with a va_list (which it does not end). */
void vsg_log_vemit(enum vsg_log_level level, const char *logger,
                   const char *file, int line, const char *const *fields,
                   const char *fmt, va_list ap) VSG_PRINTF(6, 0);

/*
 * Writes one line whose fields are pre-encoded JSON, for numbers, booleans
 * and nested values: `raw_fields` is a list of object members such as
 * `"count":3,"ok":true` (an enclosing {...} is also accepted), copied
 * verbatim after `msg`, so the caller must make it valid JSON. NULL or ""
 * for none. `msg` is written as is (no formatting) and escaped.
 */
void vsg_log_emit_json(enum vsg_log_level level, const char *logger,
                       const char *file, int line, const char *msg,
                       const char *raw_fields);

/* ====================================================================
 * Macros
 * ==================================================================== */

#define VSG_LOG_AT_(lvl, logger, fields, ...)                                \
    do {                                                                     \
        if (vsg_log_enabled(lvl))                                            \
            vsg_log_emit((lvl), (logger), __FILE__, __LINE__, (fields),      \
                         __VA_ARGS__);                                       \
    } while (0)

#ifdef VSG_LOG_NO_DEBUG
/* Type-checked but never run, so the compiler drops them. */
#define VSG_LOGF_DEBUG(logger, fields, ...)                                  \
    do {                                                                     \
        if (0)                                                               \
            vsg_log_emit(VSG_LOG_LEVEL_DEBUG, (logger), __FILE__, __LINE__,  \
                         (fields), __VA_ARGS__);                             \
    } while (0)
#else
#define VSG_LOGF_DEBUG(logger, fields, ...)                                  \
    VSG_LOG_AT_(VSG_LOG_LEVEL_DEBUG, logger, fields, __VA_ARGS__)
#endif
#define VSG_LOGF_INFO(logger, fields, ...)                                   \
    VSG_LOG_AT_(VSG_LOG_LEVEL_INFO, logger, fields, __VA_ARGS__)
#define VSG_LOGF_WARN(logger, fields, ...)                                   \
    VSG_LOG_AT_(VSG_LOG_LEVEL_WARN, logger, fields, __VA_ARGS__)
#define VSG_LOGF_ERROR(logger, fields, ...)                                  \
    VSG_LOG_AT_(VSG_LOG_LEVEL_ERROR, logger, fields, __VA_ARGS__)

#define VSG_LOG_DEBUG(logger, ...) VSG_LOGF_DEBUG(logger, NULL, __VA_ARGS__)
#define VSG_LOG_INFO(logger, ...) VSG_LOGF_INFO(logger, NULL, __VA_ARGS__)
#define VSG_LOG_WARN(logger, ...) VSG_LOGF_WARN(logger, NULL, __VA_ARGS__)
#define VSG_LOG_ERROR(logger, ...) VSG_LOGF_ERROR(logger, NULL, __VA_ARGS__)

#endif
