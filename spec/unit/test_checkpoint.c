/*
 * test_checkpoint.c - unit tests for checkpoint/checkpoint.h and the file
 * store: JSON encoding byte for byte as Go writes it, lenient decoding,
 * the begin-time rule, VSPHERE_CHECKPOINT_CONFIG, atomic file saves.
 */
#include "check.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/vtime.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/file_store.h"

static struct vsg_time T(const char *s)
{
    struct vsg_time t = {0, 0};
    if (vsg_time_parse_rfc3339(s, &t) != VSG_OK) {
        fprintf(stderr, "  bad time in test: %s\n", s);
        abort();
    }
    return t;
}

/* Encodes `cp` and compares with `want`. */
static void expect_encoding(const struct vsg_checkpoint *cp, const char *want)
{
    struct vsg_buf b;
    vsg_buf_init(&b, 4096);
    CHECK_INT(vsg_checkpoint_encode(cp, &b), VSG_OK);
    CHECK_STR(b.data, want);
    vsg_buf_cleanup(&b);
}

/* ---- encoding ----------------------------------------------------------- */

static void test_encode_exact(void)
{
    struct vsg_checkpoint cp;
    vsg_checkpoint_init(&cp);
    CHECK_INT(vsg_checkpoint_set(&cp, "https://vcenter.corp.local/sdk", 1234, "VmPoweredOffEvent",
                                 T("2026-03-21T08:40:39.553822Z"), T("2026-03-21T08:40:45.1Z")),
              VSG_OK);
    expect_encoding(&cp,
                    "{\"vCenter\":\"https://vcenter.corp.local/sdk\",\"lastEventKey\":1234,"
                    "\"lastEventType\":\"VmPoweredOffEvent\","
                    "\"lastEventKeyTimestamp\":\"2026-03-21T08:40:39.553822Z\","
                    "\"createdTimestamp\":\"2026-03-21T08:40:45.1Z\"}");

    /* Whole seconds have no fraction; all nine digits when needed; offsets
     * are normalised to UTC; an eventTypeId as type. */
    CHECK_INT(vsg_checkpoint_set(&cp, "https://10.0.0.5/sdk", 2147483647,
                                 "com.vmware.vc.HA.ClusterFailoverActionCompletedEvent",
                                 T("2026-03-21T10:40:39+02:00"), T("2026-03-21T08:40:45.000000001Z")),
              VSG_OK);
    expect_encoding(&cp,
                    "{\"vCenter\":\"https://10.0.0.5/sdk\",\"lastEventKey\":2147483647,"
                    "\"lastEventType\":\"com.vmware.vc.HA.ClusterFailoverActionCompletedEvent\","
                    "\"lastEventKeyTimestamp\":\"2026-03-21T08:40:39Z\","
                    "\"createdTimestamp\":\"2026-03-21T08:40:45.000000001Z\"}");
    vsg_checkpoint_cleanup(&cp);
}

/* Setting the same vCenter and type again keeps the strings; a new one
 * replaces only its own; a failed copy leaves the checkpoint as it was. */
static void test_set_keeps_repeated_text(void)
{
    struct vsg_checkpoint cp;
    vsg_checkpoint_init(&cp);
    CHECK_INT(vsg_checkpoint_set(&cp, "https://vc/sdk", 1, "VmPoweredOnEvent",
                                 T("2026-03-21T08:40:39Z"), T("2026-03-21T08:40:40Z")),
              VSG_OK);
    const char *v = cp.vcenter, *t = cp.last_event_type;
    CHECK_INT(vsg_checkpoint_set(&cp, "https://vc/sdk", 2, "VmPoweredOnEvent",
                                 T("2026-03-21T08:40:41Z"), T("2026-03-21T08:40:42Z")),
              VSG_OK);
    CHECK(cp.vcenter == v && cp.last_event_type == t);
    CHECK(cp.last_event_key == 2);
    CHECK_INT(vsg_checkpoint_set(&cp, "https://vc/sdk", 3, "VmPoweredOffEvent",
                                 T("2026-03-21T08:40:43Z"), T("2026-03-21T08:40:44Z")),
              VSG_OK);
    CHECK(cp.vcenter == v);
    CHECK_STR(cp.last_event_type, "VmPoweredOffEvent");
    vsg_mem_fail_after(0);
    enum vsg_err rc = vsg_checkpoint_set(&cp, "https://other/sdk", 4, "VmPoweredOffEvent",
                                         T("2026-03-21T08:40:45Z"), T("2026-03-21T08:40:46Z"));
    vsg_mem_fail_after(-1);
    CHECK_INT(rc, VSG_ERR_NOMEM);
    CHECK_STR(cp.vcenter, "https://vc/sdk");
    CHECK(cp.last_event_key == 3);
    CHECK_INT(vsg_checkpoint_set(&cp, NULL, 5, NULL, T("2026-03-21T08:40:47Z"),
                                 T("2026-03-21T08:40:48Z")),
              VSG_OK);
    CHECK(cp.vcenter == NULL && cp.last_event_type == NULL);
    vsg_checkpoint_cleanup(&cp);
}

static void test_encode_zero_value(void)
{
    /* What Go writes for checkpoint{}. */
    struct vsg_checkpoint cp;
    vsg_checkpoint_init(&cp);
    expect_encoding(&cp, "{\"vCenter\":\"\",\"lastEventKey\":0,\"lastEventType\":\"\","
                         "\"lastEventKeyTimestamp\":\"0001-01-01T00:00:00Z\","
                         "\"createdTimestamp\":\"0001-01-01T00:00:00Z\"}");
    CHECK(vsg_checkpoint_time_is_zero(cp.created_ts));
    /* Appends to what the buffer holds. */
    struct vsg_buf b;
    vsg_buf_init(&b, 4096);
    CHECK_INT(vsg_buf_puts(&b, "x="), VSG_OK);
    CHECK_INT(vsg_checkpoint_encode(&cp, &b), VSG_OK);
    CHECK(strncmp(b.data, "x={\"vCenter\"", 12) == 0);
    /* Too small a buffer: unchanged. */
    struct vsg_buf small;
    vsg_buf_init(&small, 20);
    CHECK_INT(vsg_checkpoint_encode(&cp, &small), VSG_ERR_TOOBIG);
    CHECK_INT(small.len, 0);
    vsg_buf_cleanup(&small);
    vsg_buf_cleanup(&b);
}

static void test_encode_go_escaping(void)
{
    struct vsg_checkpoint cp;
    vsg_checkpoint_init(&cp);
    /* <, >, & as \u003c etc. (json.Marshal's HTML escaping); quote,
     * backslash, the short control escapes (\b and \f as Go >= 1.22),
     * other controls as \u00xx, DEL as is, valid UTF-8 as is, U+2028/9
     * escaped, each invalid byte as \ufffd. */
    CHECK_INT(vsg_checkpoint_set(&cp, "https://vc/sdk?a=<1>&b=\"q\"\\", -5,
                                 "t\b\f\n\r\t\x01\x1f\x7f"
                                 "\xc3\xa9\xe2\x80\xa8\xe2\x80\xa9\xef\xbf\xbd"
                                 "\xff\xc3\x28\xed\xa0\x80\xf0\x9f\x98\x80",
                                 T("2026-01-01T00:00:00Z"), T("2026-01-01T00:00:00Z")),
              VSG_OK);
    expect_encoding(&cp,
                    "{\"vCenter\":\"https://vc/sdk?a=\\u003c1\\u003e\\u0026b=\\\"q\\\"\\\\\","
                    "\"lastEventKey\":-5,"
                    "\"lastEventType\":\"t\\b\\f\\n\\r\\t\\u0001\\u001f\x7f"
                    "\xc3\xa9\\u2028\\u2029\xef\xbf\xbd"
                    "\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffd\xf0\x9f\x98\x80\","
                    "\"lastEventKeyTimestamp\":\"2026-01-01T00:00:00Z\","
                    "\"createdTimestamp\":\"2026-01-01T00:00:00Z\"}");
    vsg_checkpoint_cleanup(&cp);
}

/* ---- decoding ----------------------------------------------------------- */

static void test_decode_round_trip(void)
{
    static const char json[] =
        "{\"vCenter\":\"https://vc/sdk?x=\\u003c\",\"lastEventKey\":99,"
        "\"lastEventType\":\"UserLoginSessionEvent\","
        "\"lastEventKeyTimestamp\":\"2026-03-21T08:40:39.553822Z\","
        "\"createdTimestamp\":\"2026-03-21T08:40:45.1Z\"}";
    struct vsg_checkpoint cp;
    struct vsg_error e;
    struct vsg_buf b;
    vsg_checkpoint_init(&cp);
    CHECK_INT(vsg_checkpoint_decode(json, strlen(json), &cp, &e), VSG_OK);
    CHECK_STR(cp.vcenter, "https://vc/sdk?x=<");
    CHECK_INT(cp.last_event_key, 99);
    CHECK_STR(cp.last_event_type, "UserLoginSessionEvent");
    CHECK_INT(cp.last_event_key_ts.sec, 1774082439);
    CHECK_INT(cp.last_event_key_ts.nsec, 553822000);
    CHECK_INT(cp.created_ts.nsec, 100000000);
    vsg_buf_init(&b, 4096);
    CHECK_INT(vsg_checkpoint_encode(&cp, &b), VSG_OK);
    CHECK_STR(b.data, json);
    vsg_buf_cleanup(&b);
    vsg_checkpoint_cleanup(&cp);
}

static void test_decode_hand_written(void)
{
    struct vsg_checkpoint cp;
    struct vsg_error e;
    vsg_checkpoint_init(&cp);
    /* The e2e test of the Go version writes just this. */
    const char *j = "{\"lastEventKeyTimestamp\":\"2026-03-21T08:40:39Z\"}";
    CHECK_INT(vsg_checkpoint_decode(j, strlen(j), &cp, &e), VSG_OK);
    CHECK_INT(cp.last_event_key_ts.sec, 1774082439);
    CHECK(cp.vcenter == NULL && cp.last_event_type == NULL);
    CHECK_INT(cp.last_event_key, 0);
    CHECK(vsg_checkpoint_time_is_zero(cp.created_ts));

    /* An offset, white space, case-insensitive keys, unknown keys, and
     * wrongly typed informational members (left at zero, as Go). */
    j = " {\n \"LASTEVENTKEYTIMESTAMP\": \"2026-03-21T10:40:39.5+02:00\", \"extra\": [1],"
        " \"lastEventKey\": \"12\", \"vcenter\": \"v\", \"lastEventType\": 5,"
        " \"createdTimestamp\": \"garbage\" }\n";
    CHECK_INT(vsg_checkpoint_decode(j, strlen(j), &cp, &e), VSG_OK);
    CHECK_INT(cp.last_event_key_ts.sec, 1774082439);
    CHECK_INT(cp.last_event_key_ts.nsec, 500000000);
    CHECK_INT(cp.last_event_key, 0);
    CHECK_STR(cp.vcenter, "v");
    CHECK(cp.last_event_type == NULL);
    CHECK(vsg_checkpoint_time_is_zero(cp.created_ts));

    /* lastEventKey must be an int32 integer. */
    j = "{\"lastEventKeyTimestamp\":\"2026-03-21T08:40:39Z\",\"lastEventKey\":1.5}";
    CHECK_INT(vsg_checkpoint_decode(j, strlen(j), &cp, &e), VSG_OK);
    CHECK_INT(cp.last_event_key, 0);
    j = "{\"lastEventKeyTimestamp\":\"2026-03-21T08:40:39Z\",\"lastEventKey\":4294967296}";
    CHECK_INT(vsg_checkpoint_decode(j, strlen(j), &cp, &e), VSG_OK);
    CHECK_INT(cp.last_event_key, 0);
    j = "{\"lastEventKeyTimestamp\":\"2026-03-21T08:40:39Z\",\"lastEventKey\":-7}";
    CHECK_INT(vsg_checkpoint_decode(j, strlen(j), &cp, &e), VSG_OK);
    CHECK_INT(cp.last_event_key, -7);
    vsg_checkpoint_cleanup(&cp);
}

/* One unusable checkpoint text. */
struct bad_row {
    const char *json;   /* Input. */
    enum vsg_err want;  /* PARSE or NOTFOUND. */
    const char *needle; /* In the message. */
};

static void test_decode_invalid(void)
{
    static const struct bad_row rows[] = {
        {"", VSG_ERR_PARSE, "not valid JSON"},
        {"not json", VSG_ERR_PARSE, "not valid JSON"},
        {"{\"lastEventKeyTimestamp\":\"2026-03-21T08:40:39Z\"", VSG_ERR_PARSE, "not valid JSON"},
        {"{\"lastEventKeyTimestamp\":\"2026-03-21T08:40:39Z\"} x", VSG_ERR_PARSE, "not valid JSON"},
        {"[]", VSG_ERR_PARSE, "not a JSON object"},
        {"42", VSG_ERR_PARSE, "not a JSON object"},
        {"null", VSG_ERR_PARSE, "not a JSON object"},
        {"{}", VSG_ERR_NOTFOUND, "no lastEventKeyTimestamp"},
        {"{\"lastEventKey\":5}", VSG_ERR_NOTFOUND, "no lastEventKeyTimestamp"},
        {"{\"lastEventKeyTimestamp\":null}", VSG_ERR_NOTFOUND, "no lastEventKeyTimestamp"},
        {"{\"lastEventKeyTimestamp\":\"0001-01-01T00:00:00Z\"}", VSG_ERR_NOTFOUND, "is zero"},
        {"{\"lastEventKeyTimestamp\":\"yesterday\"}", VSG_ERR_PARSE, "not an RFC 3339"},
        {"{\"lastEventKeyTimestamp\":\"2026-03-21 08:40:39\"}", VSG_ERR_PARSE, "not an RFC 3339"},
        {"{\"lastEventKeyTimestamp\":1774082439}", VSG_ERR_PARSE, "not an RFC 3339"},
    };
    struct vsg_checkpoint cp;
    vsg_checkpoint_init(&cp);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct vsg_error e;
        vsg_error_clear(&e);
        /* Leftovers from an earlier decode must go. */
        CHECK_INT(vsg_checkpoint_set(&cp, "old", 1, "old", T("2026-01-01T00:00:00Z"),
                                     T("2026-01-01T00:00:00Z")),
                  VSG_OK);
        enum vsg_err rc = vsg_checkpoint_decode(rows[i].json, strlen(rows[i].json), &cp, &e);
        if (rc != rows[i].want || !strstr(e.msg, rows[i].needle))
            fprintf(stderr, "  row %zu (%s): %s: %s\n", i, rows[i].json, vsg_errname(rc), e.msg);
        CHECK_INT(rc, rows[i].want);
        CHECK(strstr(e.msg, rows[i].needle) != NULL);
        CHECK(cp.vcenter == NULL && cp.last_event_type == NULL);
        CHECK(vsg_checkpoint_time_is_zero(cp.last_event_key_ts));
    }
    CHECK_INT(vsg_checkpoint_decode(NULL, 0, &cp, NULL), VSG_ERR_PARSE);
    vsg_checkpoint_cleanup(&cp);
}

/* ---- the begin-time rule ------------------------------------------------ */

struct begin_row {
    const char *name;                     /* What the row checks. */
    const char *cp;                       /* Checkpoint timestamp, NULL for none. */
    const char *now;                      /* vCenter's current time. */
    int64_t max_age;                      /* maxAge in ns. */
    const char *want;                     /* Expected begin. */
    enum vsg_checkpoint_begin_from from;  /* Expected case. */
};

static void test_begin_rule(void)
{
    static const struct begin_row rows[] = {
        {"no checkpoint: now, whatever maxAge", NULL, "2026-03-21T12:00:00.25Z", 5 * VSG_MINUTE,
         "2026-03-21T12:00:00.25Z", VSG_CHECKPOINT_BEGIN_NOW},
        {"zero-time checkpoint counts as none", "0001-01-01T00:00:00Z", "2026-03-21T12:00:00Z",
         5 * VSG_MINUTE, "2026-03-21T12:00:00Z", VSG_CHECKPOINT_BEGIN_NOW},
        {"recent checkpoint: replay from it", "2026-03-21T11:58:00.5Z", "2026-03-21T12:00:00Z",
         5 * VSG_MINUTE, "2026-03-21T11:58:00.5Z", VSG_CHECKPOINT_BEGIN_CHECKPOINT},
        {"old checkpoint: now - maxAge", "2026-03-21T10:00:00Z", "2026-03-21T12:00:00.75Z",
         5 * VSG_MINUTE, "2026-03-21T11:55:00.75Z", VSG_CHECKPOINT_BEGIN_MAX_AGE},
        {"exactly maxAge old: the checkpoint", "2026-03-21T11:55:00Z", "2026-03-21T12:00:00Z",
         5 * VSG_MINUTE, "2026-03-21T11:55:00Z", VSG_CHECKPOINT_BEGIN_CHECKPOINT},
        {"same second, now-maxAge later by a fraction: still the checkpoint",
         "2026-03-21T11:55:00.1Z", "2026-03-21T12:00:00.9Z", 5 * VSG_MINUTE,
         "2026-03-21T11:55:00.1Z", VSG_CHECKPOINT_BEGIN_CHECKPOINT},
        {"one second later: now - maxAge", "2026-03-21T11:54:59.9Z", "2026-03-21T12:00:00.0Z",
         5 * VSG_MINUTE, "2026-03-21T11:55:00Z", VSG_CHECKPOINT_BEGIN_MAX_AGE},
        {"maxAge 0 with a checkpoint: effectively now", "2026-03-21T11:59:00Z",
         "2026-03-21T12:00:00.5Z", 0, "2026-03-21T12:00:00.5Z", VSG_CHECKPOINT_BEGIN_MAX_AGE},
        {"maxAge 0, checkpoint in the same second as now", "2026-03-21T12:00:00.1Z",
         "2026-03-21T12:00:00.5Z", 0, "2026-03-21T12:00:00.1Z", VSG_CHECKPOINT_BEGIN_CHECKPOINT},
        {"checkpoint in the future (vCenter's clock went back): now, not the checkpoint (Go began "
         "there and delivered nothing until the clock caught up)",
         "2026-03-21T12:10:00Z", "2026-03-21T12:00:00Z", 5 * VSG_MINUTE, "2026-03-21T12:00:00Z",
         VSG_CHECKPOINT_BEGIN_FUTURE},
        {"a nanosecond in the future: now", "2026-03-21T12:00:00.000000001Z",
         "2026-03-21T12:00:00Z", 5 * VSG_MINUTE, "2026-03-21T12:00:00Z", VSG_CHECKPOINT_BEGIN_FUTURE},
        {"equal to now: the checkpoint", "2026-03-21T12:00:00Z", "2026-03-21T12:00:00Z",
         5 * VSG_MINUTE, "2026-03-21T12:00:00Z", VSG_CHECKPOINT_BEGIN_CHECKPOINT},
        {"long maxAge", "2026-03-20T12:00:00Z", "2026-03-21T12:00:00Z", 48 * VSG_HOUR,
         "2026-03-20T12:00:00Z", VSG_CHECKPOINT_BEGIN_CHECKPOINT},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct vsg_checkpoint cp;
        struct vsg_time begin = {0, 0}, want = T(rows[i].want);
        vsg_checkpoint_init(&cp);
        if (rows[i].cp) cp.last_event_key_ts = T(rows[i].cp);
        enum vsg_checkpoint_begin_from from =
            vsg_checkpoint_begin(rows[i].cp ? &cp : NULL, T(rows[i].now), rows[i].max_age, &begin);
        if (from != rows[i].from || vsg_time_cmp(begin, want) != 0)
            fprintf(stderr, "  row \"%s\": from %d, begin %lld.%09d\n", rows[i].name, (int)from,
                    (long long)begin.sec, (int)begin.nsec);
        CHECK_INT(from, rows[i].from);
        CHECK_INT(begin.sec, want.sec);
        CHECK_INT(begin.nsec, want.nsec);
    }
}

/* ---- VSPHERE_CHECKPOINT_CONFIG ------------------------------------------ */

struct cfg_row {
    const char *in;      /* The env value (NULL: unset). */
    enum vsg_err want;   /* Expected result. */
    int64_t max_age;     /* Expected maxAge on success. */
    int64_t period;      /* Expected period on success. */
    const char *needle;  /* In the message on error. */
};

static void test_config_parse(void)
{
    static const struct cfg_row rows[] = {
        {"{\"maxAge\":\"5m0s\",\"period\":\"10s\"}", VSG_OK, 5 * VSG_MINUTE, 10 * VSG_SECOND, NULL},
        {"{}", VSG_OK, 5 * VSG_MINUTE, 10 * VSG_SECOND, NULL},
        {NULL, VSG_OK, 5 * VSG_MINUTE, 10 * VSG_SECOND, NULL},
        {"", VSG_OK, 5 * VSG_MINUTE, 10 * VSG_SECOND, NULL},
        {"null", VSG_OK, 5 * VSG_MINUTE, 10 * VSG_SECOND, NULL},
        {"{\"maxAge\":\"0s\",\"period\":\"10s\"}", VSG_OK, 0, 10 * VSG_SECOND, NULL},
        {"{\"maxAge\":\"0\"}", VSG_OK, 0, 10 * VSG_SECOND, NULL},
        {"{\"period\":\"0s\"}", VSG_OK, 5 * VSG_MINUTE, 10 * VSG_SECOND, NULL},
        {"{\"maxAge\":\"1h1m1s\",\"period\":\"1s\"}", VSG_OK, VSG_HOUR + VSG_MINUTE + VSG_SECOND,
         VSG_SECOND, NULL},
        {"{\"maxAge\":\"1.5h\",\"period\":\"500ms\"}", VSG_OK, 90 * VSG_MINUTE, 500 * VSG_MILLISECOND,
         NULL},
        {"{\"maxAge\":\"\",\"period\":\"\"}", VSG_OK, 5 * VSG_MINUTE, 10 * VSG_SECOND, NULL},
        {"{\"maxAge\":null,\"period\":null}", VSG_OK, 5 * VSG_MINUTE, 10 * VSG_SECOND, NULL},
        {"{\"MaxAge\":\"1m\",\"PERIOD\":\"2s\"}", VSG_OK, VSG_MINUTE, 2 * VSG_SECOND, NULL},
        {"{\"maxAge\":\"1m\",\"unknown\":3}", VSG_OK, VSG_MINUTE, 10 * VSG_SECOND, NULL},
        {"{\"maxAge\":300}", VSG_ERR_INVAL, 0, 0, "maxAge must be a duration string"},
        {"{\"period\":10}", VSG_ERR_INVAL, 0, 0, "period must be a duration string"},
        {"{\"maxAge\":true}", VSG_ERR_INVAL, 0, 0, "maxAge must be a duration string"},
        {"{\"maxAge\":\"-5m\"}", VSG_ERR_INVAL, 0, 0, "invalid checkpoint time interval"},
        {"{\"period\":\"-1s\"}", VSG_ERR_INVAL, 0, 0, "invalid checkpoint time interval"},
        {"{\"maxAge\":\"5 minutes\"}", VSG_ERR_PARSE, 0, 0, "invalid duration \"5 minutes\""},
        {"{\"period\":\"10\"}", VSG_ERR_PARSE, 0, 0, "invalid duration"},
        {"[]", VSG_ERR_INVAL, 0, 0, "must be a JSON object"},
        {"not json", VSG_ERR_PARSE, 0, 0, "not valid JSON"},
        {"{} trailing", VSG_ERR_PARSE, 0, 0, "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct vsg_checkpoint_config c = {-1, -1};
        struct vsg_error e;
        vsg_error_clear(&e);
        enum vsg_err rc = vsg_checkpoint_config_parse(rows[i].in, &c, &e);
        if (rc != rows[i].want)
            fprintf(stderr, "  row %zu (%s): %s: %s\n", i, rows[i].in ? rows[i].in : "NULL",
                    vsg_errname(rc), e.msg);
        CHECK_INT(rc, rows[i].want);
        if (rc == VSG_OK) {
            CHECK_INT(c.max_age_ns, rows[i].max_age);
            CHECK_INT(c.period_ns, rows[i].period);
        } else {
            if (!strstr(e.msg, rows[i].needle)) fprintf(stderr, "  row %zu: %s\n", i, e.msg);
            CHECK(strstr(e.msg, rows[i].needle) != NULL);
            CHECK_INT(c.max_age_ns, -1); /* Untouched. */
            CHECK_INT(c.period_ns, -1);
        }
    }
}

/* ---- the file store ----------------------------------------------------- */

static char dir[64]; /* The test's temporary folder. */

static void read_all(const char *path, char *out, size_t outsz)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    size_t n = fread(out, 1, outsz - 1, f);
    out[n] = '\0';
    fclose(f);
}

static void write_all_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* Number of entries in `dir` besides . and .. */
static int count_entries(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

static void test_file_store(void)
{
    char path[128], got[4096], cmd[128];
    struct vsg_checkpoint cp, back;
    struct vsg_error e;
    struct vsg_buf want;
    int found = -1;
    snprintf(dir, sizeof dir, "/tmp/vsg-ckpt-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/checkpoint.json", dir);
    vsg_checkpoint_init(&cp);
    vsg_checkpoint_init(&back);
    vsg_buf_init(&want, 4096);

    struct vsg_checkpoint_store *s = vsg_checkpoint_file_store_new(path, &e);
    CHECK(s != NULL);
    /* No file yet: no checkpoint, no error. */
    CHECK_INT(vsg_checkpoint_store_load(s, &back, &found, &e), VSG_OK);
    CHECK_INT(found, 0);

    /* Save writes exactly the encoding, nothing else is left behind. */
    CHECK_INT(vsg_checkpoint_set(&cp, "https://vc/sdk", 41, "VmCreatedEvent",
                                 T("2026-03-21T08:40:39.553822Z"), T("2026-03-21T08:40:45Z")),
              VSG_OK);
    CHECK_INT(vsg_checkpoint_store_save(s, &cp, &e), VSG_OK);
    CHECK_INT(vsg_checkpoint_encode(&cp, &want), VSG_OK);
    read_all(path, got, sizeof got);
    CHECK_STR(got, want.data);
    CHECK_INT(count_entries(), 1);

    /* Reload, in a fresh store as after a restart. */
    vsg_checkpoint_store_free(s);
    CHECK((s = vsg_checkpoint_file_store_new(path, &e)) != NULL);
    CHECK_INT(vsg_checkpoint_store_load(s, &back, &found, &e), VSG_OK);
    CHECK_INT(found, 1);
    CHECK_STR(back.vcenter, "https://vc/sdk");
    CHECK_INT(back.last_event_key, 41);
    CHECK_STR(back.last_event_type, "VmCreatedEvent");
    CHECK_INT(vsg_time_cmp(back.last_event_key_ts, cp.last_event_key_ts), 0);
    CHECK_INT(vsg_time_cmp(back.created_ts, cp.created_ts), 0);

    /* Overwrite. */
    CHECK_INT(vsg_checkpoint_set(&cp, "https://vc/sdk", 42, "VmRemovedEvent",
                                 T("2026-03-21T08:41:00Z"), T("2026-03-21T08:41:05Z")),
              VSG_OK);
    CHECK_INT(vsg_checkpoint_store_save(s, &cp, &e), VSG_OK);
    CHECK_INT(vsg_checkpoint_store_load(s, &back, &found, &e), VSG_OK);
    CHECK_INT(found, 1);
    CHECK_INT(back.last_event_key, 42);
    CHECK_INT(count_entries(), 1);

    /* A corrupt file: no checkpoint (a warning), and the next save fixes it. */
    write_all_text(path, "{\"lastEventKeyTimestamp\": tru");
    CHECK_INT(vsg_checkpoint_store_load(s, &back, &found, &e), VSG_OK);
    CHECK_INT(found, 0);
    CHECK(back.vcenter == NULL);
    write_all_text(path, "");
    CHECK_INT(vsg_checkpoint_store_load(s, &back, &found, &e), VSG_OK);
    CHECK_INT(found, 0);
    CHECK_INT(vsg_checkpoint_store_save(s, &cp, &e), VSG_OK);
    CHECK_INT(vsg_checkpoint_store_load(s, &back, &found, &e), VSG_OK);
    CHECK_INT(found, 1);

    /* A hand-written file works too. */
    write_all_text(path, "{\"lastEventKeyTimestamp\":\"2026-03-21T08:40:39Z\"}\n");
    CHECK_INT(vsg_checkpoint_store_load(s, &back, &found, &e), VSG_OK);
    CHECK_INT(found, 1);
    CHECK_INT(back.last_event_key_ts.sec, 1774082439);

    /* An oversized file is unusable, not an error. */
    {
        FILE *f = fopen(path, "wb");
        for (int i = 0; i < 70000; i++) fputc(' ', f);
        fclose(f);
    }
    CHECK_INT(vsg_checkpoint_store_load(s, &back, &found, &e), VSG_OK);
    CHECK_INT(found, 0);
    vsg_checkpoint_store_free(s);

    /* The path is a folder: reading it is an I/O error. */
    CHECK((s = vsg_checkpoint_file_store_new(dir, &e)) != NULL);
    CHECK_INT(vsg_checkpoint_store_load(s, &back, &found, &e), VSG_ERR_IO);
    CHECK_INT(vsg_checkpoint_store_save(s, &cp, &e), VSG_ERR_IO);
    vsg_checkpoint_store_free(s);
    CHECK_INT(count_entries(), 1); /* No temporary file left behind. */

    /* A missing folder is refused up front; a relative path is fine. */
    CHECK(vsg_checkpoint_file_store_new("/nonexistent-vsg/cp.json", &e) == NULL);
    CHECK_INT(e.code, VSG_ERR_IO);
    CHECK(strstr(e.msg, "/nonexistent-vsg") != NULL);
    CHECK(vsg_checkpoint_file_store_new("", &e) == NULL);
    CHECK((s = vsg_checkpoint_file_store_new("relative-cp.json", &e)) != NULL);
    vsg_checkpoint_store_free(s);
    vsg_checkpoint_store_free(NULL);

    vsg_buf_cleanup(&want);
    vsg_checkpoint_cleanup(&cp);
    vsg_checkpoint_cleanup(&back);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* Every allocation failing in turn: errors come back as NOMEM (or the
 * operation succeeds), never a crash or a leak (ASan checks that). */
static void test_alloc_failures(void)
{
    static const char json[] =
        "{\"vCenter\":\"https://vc/sdk\",\"lastEventKey\":9,\"lastEventType\":\"E\","
        "\"lastEventKeyTimestamp\":\"2026-03-21T08:40:39Z\",\"createdTimestamp\":\"2026-03-21T08:40:39Z\"}";
    char d[] = "/tmp/vsg-ckptmem-XXXXXX", path[64], cmd[96];
    CHECK(mkdtemp(d) != NULL);
    snprintf(path, sizeof path, "%s/cp.json", d);
    int completed = 0;
    for (long n = 0; n < 200 && !completed; n++) {
        struct vsg_checkpoint cp, back;
        struct vsg_buf b;
        struct vsg_error e;
        int found = 0;
        vsg_checkpoint_init(&cp);
        vsg_checkpoint_init(&back);
        vsg_buf_init(&b, 4096);
        vsg_mem_fail_after(n);
        enum vsg_err r1 = vsg_checkpoint_decode(json, strlen(json), &cp, &e);
        enum vsg_err r2 = vsg_checkpoint_encode(&cp, &b);
        struct vsg_checkpoint_store *s = vsg_checkpoint_file_store_new(path, &e);
        enum vsg_err r3 = s ? vsg_checkpoint_store_save(s, &cp, &e) : VSG_ERR_NOMEM;
        enum vsg_err r4 = s ? vsg_checkpoint_store_load(s, &back, &found, &e) : VSG_ERR_NOMEM;
        vsg_checkpoint_store_free(s);
        long injected = vsg_mem_injected_failures();
        vsg_mem_fail_after(-1);
        CHECK(r1 == VSG_OK || r1 == VSG_ERR_NOMEM);
        CHECK(r2 == VSG_OK || r2 == VSG_ERR_NOMEM);
        CHECK(r3 == VSG_OK || r3 == VSG_ERR_NOMEM || r3 == VSG_ERR_IO);
        CHECK(r4 == VSG_OK || r4 == VSG_ERR_NOMEM || r4 == VSG_ERR_IO);
        if (injected == 0) {
            CHECK(r1 == VSG_OK && r2 == VSG_OK && r3 == VSG_OK && r4 == VSG_OK && found == 1);
            CHECK_STR(b.data, json);
            completed = 1;
        }
        vsg_buf_cleanup(&b);
        vsg_checkpoint_cleanup(&cp);
        vsg_checkpoint_cleanup(&back);
    }
    CHECK(completed);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    CHECK(system(cmd) == 0);
}

TEST_LIST = {
    {"encode_exact", test_encode_exact},
    {"set_keeps_repeated_text", test_set_keeps_repeated_text},
    {"encode_zero_value", test_encode_zero_value},
    {"encode_go_escaping", test_encode_go_escaping},
    {"decode_round_trip", test_decode_round_trip},
    {"decode_hand_written", test_decode_hand_written},
    {"decode_invalid", test_decode_invalid},
    {"begin_rule", test_begin_rule},
    {"config_parse", test_config_parse},
    {"file_store", test_file_store},
    {"alloc_failures", test_alloc_failures},
    {NULL, NULL},
};
TEST_MAIN()
