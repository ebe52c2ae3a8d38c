/*
 * test_base_log.c - unit tests for base/log.h: JSON lines, key order,
 * escaping, level filtering, thread safety, out-of-memory fallback.
 */
#include "check.h"

#include <cjson/cJSON.h>
#include <pthread.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/vtime.h"

/* ---- helpers ---------------------------------------------------------- */

static FILE *sink; /* The tmpfile the current test logs to. */

/* Starts logging at `min` into a fresh tmpfile. */
static void sink_open(enum vsg_log_level min)
{
    sink = tmpfile();
    if (sink == NULL) CHECK_FAIL_("tmpfile() failed");
    vsg_log_setup(min, sink);
}

/* Everything logged so far, NUL-terminated, in a static buffer; ends
 * logging to the tmpfile. */
static const char *sink_close(void)
{
    static char text[1 << 20];
    size_t n;

    vsg_log_setup(VSG_LOG_LEVEL_INFO, NULL);
    rewind(sink);
    n = fread(text, 1, sizeof text - 1, sink);
    text[n] = '\0';
    fclose(sink);
    sink = NULL;
    return text;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

/* Parses the `i`-th line of `text` (0-based) as JSON; CHECK-fails if it is
 * missing or invalid. The caller deletes the result. */
static cJSON *parse_line(const char *text, int i)
{
    static char line[1 << 18];
    const char *p = text, *nl;
    cJSON *j;

    for (; i > 0; i--) {
        p = strchr(p, '\n');
        if (p == NULL) CHECK_FAIL_("missing line");
        p++;
    }
    nl = strchr(p, '\n');
    if (nl == NULL || (size_t)(nl - p) >= sizeof line)
        CHECK_FAIL_("unterminated or huge line: %.80s", p);
    memcpy(line, p, (size_t)(nl - p));
    line[nl - p] = '\0';
    j = cJSON_Parse(line);
    if (j == NULL) CHECK_FAIL_("invalid JSON line: %s", line);
    return j;
}

/* The string member `key` of object `j`, or NULL. */
static const char *str_of(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Checks that the keys of `j` are exactly `keys` (NULL-terminated), in
 * order. Returns 1 when they are. */
static int keys_are(const cJSON *j, const char *const *keys)
{
    const cJSON *c = j->child;
    for (; *keys; keys++, c = c->next)
        if (c == NULL || strcmp(c->string, *keys) != 0) return 0;
    return c == NULL;
}

/* ---- tests ------------------------------------------------------------ */

static void test_line_shape(void)
{
    char want[256];
    const char *text;
    int line;

    sink_open(VSG_LOG_LEVEL_INFO);
    line = __LINE__; VSG_LOGF_INFO("vsgate.test", ((const char *[]){"k", "v", NULL}), "hi %s", "there");
    text = sink_close();

    /* Exact bytes except the timestamp. */
    CHECK_INT(count_lines(text), 1);
    CHECK(strncmp(text, "{\"level\":\"info\",\"ts\":\"", 22) == 0);
    snprintf(want, sizeof want,
             "\",\"logger\":\"vsgate.test\",\"caller\":\"test_base_log.c:%d\","
             "\"msg\":\"hi there\",\"k\":\"v\"}\n",
             line);
    CHECK_STR(text + 22 + 27, want);
}

static void test_keys_order_and_timestamp(void)
{
    static const char *const want_keys[] = {"level", "ts", "logger", "caller",
                                            "msg", "vcenter", "event", NULL};
    struct vsg_time now = vsg_time_now(), ts;
    const char *text, *tss;
    cJSON *j;

    sink_open(VSG_LOG_LEVEL_DEBUG);
    VSG_LOGF_WARN("vsgate.adapter",
                  ((const char *[]){"vcenter", "https://vc/sdk", "event",
                                    "42", NULL}),
                  "retry %d", 3);
    text = sink_close();
    j = parse_line(text, 0);
    CHECK(keys_are(j, want_keys));
    CHECK_STR(str_of(j, "level"), "warn");
    CHECK_STR(str_of(j, "logger"), "vsgate.adapter");
    CHECK_STR(str_of(j, "msg"), "retry 3");
    CHECK_STR(str_of(j, "vcenter"), "https://vc/sdk");
    CHECK_STR(str_of(j, "event"), "42");
    CHECK(strncmp(str_of(j, "caller"), "test_base_log.c:", 16) == 0);
    /* ts: RFC 3339, UTC, exactly 6 fraction digits, close to now. */
    tss = str_of(j, "ts");
    CHECK(tss != NULL);
    CHECK_INT(strlen(tss), 27);
    CHECK_INT(tss[19], '.');
    CHECK_INT(tss[26], 'Z');
    CHECK_INT(vsg_time_parse_rfc3339(tss, &ts), VSG_OK);
    CHECK(vsg_time_diff_ns(ts, now) > -VSG_SECOND);
    CHECK(vsg_time_diff_ns(ts, now) < 60 * VSG_SECOND);
    cJSON_Delete(j);
}

static int side_effects; /* Counts evaluations of a log argument. */

static int bump(void)
{
    return ++side_effects;
}

static void test_level_filtering(void)
{
    const char *text;
    cJSON *j;

    side_effects = 0;
    sink_open(VSG_LOG_LEVEL_INFO);
    VSG_LOG_DEBUG("t", "debug %d", bump()); /* Not even evaluated. */
    VSG_LOG_INFO("t", "info %d", bump());
    VSG_LOG_WARN("t", "warn");
    VSG_LOG_ERROR("t", "error");
    CHECK_INT(vsg_log_set_level_from_string("WARN"), VSG_OK);
    CHECK_INT(vsg_log_level(), VSG_LOG_LEVEL_WARN);
    VSG_LOG_INFO("t", "info2 %d", bump());
    VSG_LOG_WARN("t", "warn2");
    CHECK_INT(vsg_log_set_level_from_string("bogus"), VSG_ERR_INVAL);
    CHECK_INT(vsg_log_level(), VSG_LOG_LEVEL_WARN);
    CHECK_INT(vsg_log_set_level_from_string("debug"), VSG_OK);
    VSG_LOG_DEBUG("t", "debug2");
    CHECK_INT(vsg_log_set_level_from_string("error"), VSG_OK);
    VSG_LOG_WARN("t", "warn3");
    VSG_LOG_ERROR("t", "error2");
    /* Direct calls filter too. */
    vsg_log_emit(VSG_LOG_LEVEL_INFO, "t", NULL, 0, NULL, "direct");
    vsg_log_emit_json(VSG_LOG_LEVEL_INFO, "t", NULL, 0, "direct", NULL);
    text = sink_close();

    CHECK_INT(side_effects, 1);
    CHECK_INT(count_lines(text), 6);
    static const char *const want[][2] = {
        {"info", "info 1"}, {"warn", "warn"},    {"error", "error"},
        {"warn", "warn2"},  {"debug", "debug2"}, {"error", "error2"},
    };
    for (int i = 0; i < 6; i++) {
        j = parse_line(text, i);
        CHECK_STR(str_of(j, "level"), want[i][0]);
        CHECK_STR(str_of(j, "msg"), want[i][1]);
        cJSON_Delete(j);
    }
}

static void test_level_names(void)
{
    static const struct {
        const char *name;        /* Input. */
        enum vsg_err err;        /* Expected result. */
        enum vsg_log_level want; /* Expected level when OK. */
    } cases[] = {
        {"debug", VSG_OK, VSG_LOG_LEVEL_DEBUG},
        {"info", VSG_OK, VSG_LOG_LEVEL_INFO},
        {"INFO", VSG_OK, VSG_LOG_LEVEL_INFO},
        {"warn", VSG_OK, VSG_LOG_LEVEL_WARN},
        {"warning", VSG_OK, VSG_LOG_LEVEL_WARN},
        {"error", VSG_OK, VSG_LOG_LEVEL_ERROR},
        {"fatal", VSG_OK, VSG_LOG_LEVEL_ERROR},
        {"dpanic", VSG_OK, VSG_LOG_LEVEL_ERROR},
        {"", VSG_ERR_INVAL, VSG_LOG_LEVEL_INFO},
        {"inf", VSG_ERR_INVAL, VSG_LOG_LEVEL_INFO},
        {"info ", VSG_ERR_INVAL, VSG_LOG_LEVEL_INFO},
        {"trace", VSG_ERR_INVAL, VSG_LOG_LEVEL_INFO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum vsg_log_level got = VSG_LOG_LEVEL_INFO;
        CHECK_INT(vsg_log_level_parse(cases[i].name, &got), cases[i].err);
        CHECK_INT(got, cases[i].want);
    }
    CHECK_INT(vsg_log_level_parse(NULL, NULL), VSG_ERR_INVAL);
    CHECK_INT(vsg_log_set_level_from_string(NULL), VSG_ERR_INVAL);
    CHECK_STR(vsg_log_level_name(VSG_LOG_LEVEL_DEBUG), "debug");
    CHECK_STR(vsg_log_level_name(VSG_LOG_LEVEL_INFO), "info");
    CHECK_STR(vsg_log_level_name(VSG_LOG_LEVEL_WARN), "warn");
    CHECK_STR(vsg_log_level_name(VSG_LOG_LEVEL_ERROR), "error");
    CHECK_STR(vsg_log_level_name((enum vsg_log_level)9), "unknown");
}

static void test_escaping(void)
{
    const char *text;
    cJSON *j;

    sink_open(VSG_LOG_LEVEL_INFO);
    VSG_LOGF_ERROR("a\"b", ((const char *[]){"we\"ird\nkey", "tab\there\x01",
                                             NULL}),
                   "line1\nline2 \"quoted\" \\ caf\xC3\xA9 bad\xFF");
    text = sink_close();
    CHECK_INT(count_lines(text), 1); /* The newline is escaped. */
    CHECK(strstr(text, "line1\\nline2 \\\"quoted\\\" \\\\ caf\xC3\xA9 "
                       "bad\\ufffd") != NULL);
    j = parse_line(text, 0);
    CHECK_STR(str_of(j, "msg"),
              "line1\nline2 \"quoted\" \\ caf\xC3\xA9 bad\xEF\xBF\xBD");
    CHECK_STR(str_of(j, "logger"), "a\"b");
    CHECK_STR(str_of(j, "we\"ird\nkey"), "tab\there\x01");
    cJSON_Delete(j);
}

static void test_fields_null_value_and_no_logger(void)
{
    static const char *const want_keys[] = {"level", "ts", "msg", "a", "b",
                                            NULL};
    const char *text;
    cJSON *j;

    sink_open(VSG_LOG_LEVEL_INFO);
    /* No logger, no caller; a NULL value is null and ends the list. */
    vsg_log_emit(VSG_LOG_LEVEL_INFO, NULL, NULL, 0,
                 (const char *[]){"a", "1", "b", NULL, "c", "3", NULL}, "m");
    vsg_log_emit(VSG_LOG_LEVEL_INFO, "", "dir/sub/x.c", 7,
                 (const char *[]){NULL}, "m2");
    text = sink_close();
    j = parse_line(text, 0);
    CHECK(keys_are(j, want_keys));
    CHECK_STR(str_of(j, "a"), "1");
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "b")));
    cJSON_Delete(j);
    j = parse_line(text, 1);
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "logger") == NULL);
    CHECK_STR(str_of(j, "caller"), "x.c:7");
    cJSON_Delete(j);
}

/* A '#' key is a number: bare when the value is a JSON number, a string
 * otherwise (never invalid JSON). */
static void test_number_fields(void)
{
    static const char *const not_numbers[] = {"", "-", "01", "+1", "1.", ".5", "1e", "0x10",
                                              "inf", "nan", "1 ", "12a", NULL};
    const char *text;
    cJSON *j, *v;

    sink_open(VSG_LOG_LEVEL_INFO);
    vsg_log_emit(VSG_LOG_LEVEL_INFO, "l", NULL, 0,
                 (const char *[]){"#eventKey", "42", "#n", "-0.5e+3", "#z", "0", "id", "7",
                                  "#none", NULL},
                 "m");
    for (size_t i = 0; not_numbers[i]; i++)
        vsg_log_emit(VSG_LOG_LEVEL_INFO, "l", NULL, 0,
                     (const char *[]){"#v", not_numbers[i], NULL}, "bad");
    text = sink_close();
    j = parse_line(text, 0);
    v = cJSON_GetObjectItemCaseSensitive(j, "eventKey");
    CHECK(cJSON_IsNumber(v) && v->valueint == 42);
    v = cJSON_GetObjectItemCaseSensitive(j, "n");
    CHECK(cJSON_IsNumber(v) && v->valuedouble == -500.0);
    CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "z")));
    CHECK_STR(str_of(j, "id"), "7"); /* Unmarked: a string, as before. */
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "none")));
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "#eventKey") == NULL);
    cJSON_Delete(j);
    for (size_t i = 0; not_numbers[i]; i++) {
        j = parse_line(text, (int)i + 1);
        CHECK_STR(str_of(j, "v"), not_numbers[i]);
        cJSON_Delete(j);
    }
}

static void test_emit_json_raw_fields(void)
{
    static const char *const want_keys[] = {"level", "ts", "logger", "caller",
                                            "msg", "count", "ok", "obj", NULL};
    const char *text;
    cJSON *j;

    sink_open(VSG_LOG_LEVEL_INFO);
    vsg_log_emit_json(VSG_LOG_LEVEL_INFO, "vsgate.lua", "f.lua", 3,
                      "percent %d stays \"as is\"",
                      "\"count\":3,\"ok\":true,\"obj\":{\"x\":[1,2]}");
    vsg_log_emit_json(VSG_LOG_LEVEL_WARN, "l", NULL, 0, "braced",
                      " { \"n\": -1.5 } ");
    vsg_log_emit_json(VSG_LOG_LEVEL_WARN, "l", NULL, 0, NULL, "");
    vsg_log_emit_json(VSG_LOG_LEVEL_WARN, "l", NULL, 0, "empty obj", "{}");
    text = sink_close();
    CHECK_INT(count_lines(text), 4);

    j = parse_line(text, 0);
    CHECK(keys_are(j, want_keys));
    CHECK_STR(str_of(j, "msg"), "percent %d stays \"as is\"");
    CHECK_STR(str_of(j, "caller"), "f.lua:3");
    CHECK_INT(cJSON_GetObjectItemCaseSensitive(j, "count")->valueint, 3);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "ok")));
    cJSON_Delete(j);

    j = parse_line(text, 1);
    CHECK_DBL(cJSON_GetObjectItemCaseSensitive(j, "n")->valuedouble, -1.5, 0);
    cJSON_Delete(j);

    j = parse_line(text, 2);
    CHECK_STR(str_of(j, "msg"), "");
    CHECK_STR(j->child->next->next->next->string, "msg");
    CHECK(j->child->next->next->next->next == NULL);
    cJSON_Delete(j);

    j = parse_line(text, 3);
    CHECK_STR(str_of(j, "msg"), "empty obj");
    CHECK(j->child->next->next->next->next == NULL);
    cJSON_Delete(j);
}

static void test_long_message_truncated(void)
{
    static char big[VSG_LOG_MSG_MAX * 2];
    const char *text;
    cJSON *j;

    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sink_open(VSG_LOG_LEVEL_INFO);
    VSG_LOG_INFO("t", "%s", big);
    vsg_log_emit_json(VSG_LOG_LEVEL_INFO, "t", NULL, 0, big, NULL);
    big[1000] = '\0'; /* Longer than the on-stack buffer, under the max. */
    VSG_LOG_INFO("t", "%s", big);
    text = sink_close();
    for (int i = 0; i < 2; i++) {
        j = parse_line(text, i);
        size_t len = strlen(str_of(j, "msg"));
        int flagged = cJSON_IsTrue(
            cJSON_GetObjectItemCaseSensitive(j, "msgtruncated"));
        cJSON_Delete(j);
        CHECK_INT(len, VSG_LOG_MSG_MAX);
        CHECK(flagged);
    }
    j = parse_line(text, 2);
    size_t len = strlen(str_of(j, "msg"));
    int flagged = cJSON_GetObjectItemCaseSensitive(j, "msgtruncated") != NULL;
    cJSON_Delete(j);
    CHECK_INT(len, 1000);
    CHECK(!flagged);
}

static void test_huge_fields_dropped(void)
{
    static char big[VSG_LOG_LINE_MAX];
    const char *text;
    cJSON *j;

    memset(big, 'f', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sink_open(VSG_LOG_LEVEL_INFO);
    VSG_LOGF_INFO("t", ((const char *[]){"small", "ok", "huge", big, "after",
                                         "x", NULL}),
                  "fields");
    text = sink_close();
    j = parse_line(text, 0);
    CHECK_STR(str_of(j, "msg"), "fields");
    CHECK_STR(str_of(j, "small"), "ok");
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "huge") == NULL);
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "after") == NULL);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "fieldstruncated")));
    cJSON_Delete(j);
}

static void test_out_of_memory_fallback(void)
{
    const char *text;
    cJSON *j;

    sink_open(VSG_LOG_LEVEL_INFO);
    vsg_mem_fail_after(0);
    VSG_LOG_INFO("t", "lost %d", 1);
    vsg_mem_fail_after(-1);
    text = sink_close();
    CHECK_INT(count_lines(text), 1);
    j = parse_line(text, 0);
    CHECK_STR(str_of(j, "level"), "error");
    CHECK_STR(str_of(j, "msg"), "log line dropped: out of memory");
    cJSON_Delete(j);
}

/* Lines from several threads never interleave. */
enum { LOG_THREADS = 4, LOG_LINES = 200 };

static void *log_worker(void *arg)
{
    char id[16];
    snprintf(id, sizeof id, "%d", *(int *)arg);
    for (int i = 0; i < LOG_LINES; i++)
        VSG_LOGF_INFO("t", ((const char *[]){"thread", id, NULL}),
                      "line %d of a reasonably long message to widen races", i);
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[LOG_THREADS];
    int ids[LOG_THREADS], per[LOG_THREADS] = {0};
    const char *text;

    sink_open(VSG_LOG_LEVEL_INFO);
    for (int i = 0; i < LOG_THREADS; i++) {
        ids[i] = i;
        CHECK_INT(pthread_create(&t[i], NULL, log_worker, &ids[i]), 0);
    }
    for (int i = 0; i < LOG_THREADS; i++) pthread_join(t[i], NULL);
    text = sink_close();
    CHECK_INT(count_lines(text), LOG_THREADS * LOG_LINES);
    for (int i = 0; i < LOG_THREADS * LOG_LINES; i++) {
        cJSON *j = parse_line(text, i);
        const char *th = str_of(j, "thread");
        int n = th ? atoi(th) : -1;
        cJSON_Delete(j);
        CHECK(n >= 0 && n < LOG_THREADS);
        per[n]++;
    }
    for (int i = 0; i < LOG_THREADS; i++) CHECK_INT(per[i], LOG_LINES);
}

TEST_LIST = {
    {"line_shape", test_line_shape},
    {"keys_order_and_timestamp", test_keys_order_and_timestamp},
    {"level_filtering", test_level_filtering},
    {"level_names", test_level_names},
    {"escaping", test_escaping},
    {"fields_null_value_and_no_logger", test_fields_null_value_and_no_logger},
    {"number_fields", test_number_fields},
    {"emit_json_raw_fields", test_emit_json_raw_fields},
    {"long_message_truncated", test_long_message_truncated},
    {"huge_fields_dropped", test_huge_fields_dropped},
    {"out_of_memory_fallback", test_out_of_memory_fallback},
    {"threads", test_threads},
    {NULL, NULL},
};

TEST_MAIN()
