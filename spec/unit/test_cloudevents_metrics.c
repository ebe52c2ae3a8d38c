/*
 * test_cloudevents_metrics.c - unit tests for base/prom.h and the source
 * metrics of cloudevents/metrics.h (Knative's event_count and
 * retry_event_count): labels, codes, the row bound, escaping.
 */
#include "check.h"

#include "base/buf.h"
#include "base/prom.h"
#include "cloudevents/metrics.h"

static void test_prom_label_escapes(void)
{
    struct vsg_buf b;
    vsg_buf_init(&b, 1024);
    CHECK_INT(vsg_prom_label(&b, 0, "a", "x\"y\\z\nw"), VSG_OK);
    CHECK_INT(vsg_prom_label(&b, 1, "b", NULL), VSG_OK);
    CHECK_STR(b.data, "a=\"x\\\"y\\\\z\\nw\",b=\"\"");
    vsg_buf_cleanup(&b);
    /* Too long: the buffer keeps what it had. */
    vsg_buf_init(&b, 8);
    CHECK_INT(vsg_buf_puts(&b, "k"), VSG_OK);
    CHECK_INT(vsg_prom_label(&b, 1, "name", "long value"), VSG_ERR_TOOBIG);
    CHECK_STR(b.data, "k");
    vsg_buf_cleanup(&b);
}

static void test_prom_histogram(void)
{
    static const double bounds[] = {10, 100, 1000};
    uint64_t counts[4] = {0};
    struct vsg_buf b;
    counts[vsg_prom_bucket(bounds, 3, 10)]++;   /* le=10: bounds are inclusive */
    counts[vsg_prom_bucket(bounds, 3, 11)]++;
    counts[vsg_prom_bucket(bounds, 3, 5000)]++; /* +Inf */
    CHECK_INT(counts[0], 1);
    CHECK_INT(counts[1], 1);
    CHECK_INT(counts[3], 1);
    vsg_buf_init(&b, 4096);
    CHECK_INT(vsg_prom_histogram(&b, "h", "k=\"v\"", bounds, 3, counts, 5021), VSG_OK);
    CHECK_STR(b.data, "h_bucket{k=\"v\",le=\"10\"} 1\n"
                      "h_bucket{k=\"v\",le=\"100\"} 2\n"
                      "h_bucket{k=\"v\",le=\"1000\"} 2\n"
                      "h_bucket{k=\"v\",le=\"+Inf\"} 3\n"
                      "h_sum{k=\"v\"} 5021\n"
                      "h_count{k=\"v\"} 3\n");
    vsg_buf_reset(&b);
    static const double small[] = {1e-05, 0.005};
    uint64_t none[3] = {0};
    CHECK_INT(vsg_prom_histogram(&b, "h", "", small, 2, none, 0), VSG_OK);
    CHECK_STR(b.data, "h_bucket{le=\"1e-05\"} 0\nh_bucket{le=\"0.005\"} 0\nh_bucket{le=\"+Inf\"} 0\n"
                      "h_sum 0\nh_count 0\n");
    vsg_buf_cleanup(&b);
}

static void test_source_metrics(void)
{
    struct vsg_ce_metrics_opts o = {.component = "vsphere-source", .name = "pod-1", .ns = "ns1"};
    struct vsg_error err;
    struct vsg_ce_metrics *m = vsg_ce_metrics_new(&o, &err);
    struct vsg_buf b;
    CHECK(m != NULL);
    vsg_buf_init(&b, 1 << 20);
    /* Nothing recorded: no family at all. */
    CHECK_INT(vsg_ce_metrics_write(m, &b), VSG_OK);
    CHECK_INT((long long)b.len, 0);
    vsg_ce_metrics_record(m, "t.a", "https://vc/sdk", 1, VSG_ERR_HTTP, 503);
    vsg_ce_metrics_record(m, "t.a", "https://vc/sdk", 0, VSG_OK, 202);
    vsg_ce_metrics_record(m, "t.a", "https://vc/sdk", 0, VSG_OK, 202);
    vsg_ce_metrics_record(m, "t.b", "https://vc/sdk", 1, VSG_ERR_TIMEOUT, 0);
    vsg_ce_metrics_record(m, "t.b", "https://vc/sdk", 0, VSG_ERR_TRANSPORT, 0);
    CHECK_INT(vsg_ce_metrics_write(m, &b), VSG_OK);
    const char *want =
        "# HELP vsphere_source_event_count Number of events sent\n"
        "# TYPE vsphere_source_event_count counter\n"
        "vsphere_source_event_count{event_source=\"https://vc/sdk\",event_type=\"t.a\",name=\"pod-1\","
        "namespace_name=\"ns1\",resource_group=\"adapter.sources.knative.dev\",response_code=\"202\","
        "response_code_class=\"2xx\",response_error=\"\",response_timeout=\"\"} 2\n"
        "vsphere_source_event_count{event_source=\"https://vc/sdk\",event_type=\"t.b\",name=\"pod-1\","
        "namespace_name=\"ns1\",resource_group=\"adapter.sources.knative.dev\",response_code=\"\","
        "response_code_class=\"\",response_error=\"connection error\",response_timeout=\"false\"} 1\n"
        "# HELP vsphere_source_retry_event_count Number of retry events sent\n"
        "# TYPE vsphere_source_retry_event_count counter\n"
        "vsphere_source_retry_event_count{event_source=\"https://vc/sdk\",event_type=\"t.a\",name=\"pod-1\","
        "namespace_name=\"ns1\",resource_group=\"adapter.sources.knative.dev\",response_code=\"503\","
        "response_code_class=\"5xx\",response_error=\"\",response_timeout=\"\"} 1\n"
        "vsphere_source_retry_event_count{event_source=\"https://vc/sdk\",event_type=\"t.b\",name=\"pod-1\","
        "namespace_name=\"ns1\",resource_group=\"adapter.sources.knative.dev\",response_code=\"\","
        "response_code_class=\"\",response_error=\"timed out\",response_timeout=\"true\"} 1\n";
    CHECK_STR(b.data, want);
    vsg_buf_cleanup(&b);
    vsg_ce_metrics_free(m);
}

/* Beyond max_rows keys: type and source "other", one row per code; beyond
 * those, lost. */
static void test_source_metrics_bound(void)
{
    struct vsg_ce_metrics_opts o = {.component = "c", .max_rows = 2};
    struct vsg_error err;
    struct vsg_ce_metrics *m = vsg_ce_metrics_new(&o, &err);
    struct vsg_buf b;
    char type[32];
    CHECK(m != NULL);
    for (int i = 0; i < 10; i++) {
        snprintf(type, sizeof type, "type.%d", i);
        vsg_ce_metrics_record(m, type, "s", 0, VSG_OK, 200);
    }
    vsg_ce_metrics_record(m, "type.0", "s", 0, VSG_OK, 200); /* an existing row still counts */
    for (int code = 100; code < 100 + VSG_CE_METRICS_OTHER_ROWS + 5; code++)
        vsg_ce_metrics_record(m, "new", "s", 0, VSG_OK, code);
    CHECK_INT((long long)vsg_ce_metrics_lost(m), 6); /* 69 codes, 63 rows left (one is 200) */
    vsg_buf_init(&b, 1 << 20);
    CHECK_INT(vsg_ce_metrics_write(m, &b), VSG_OK);
    CHECK(strstr(b.data, "c_event_count{event_source=\"s\",event_type=\"type.0\",name=\"adapter\",namespace_name=\"\","
                         "resource_group=\"adapter.sources.knative.dev\",response_code=\"200\","
                         "response_code_class=\"2xx\",response_error=\"\",response_timeout=\"\"} 2\n") != NULL);
    CHECK(strstr(b.data, "event_type=\"type.2\"") == NULL);
    CHECK(strstr(b.data, "c_event_count{event_source=\"other\",event_type=\"other\",name=\"adapter\","
                         "namespace_name=\"\",resource_group=\"adapter.sources.knative.dev\",response_code=\"200\","
                         "response_code_class=\"2xx\",response_error=\"\",response_timeout=\"\"} 8\n") != NULL);
    vsg_buf_cleanup(&b);
    vsg_ce_metrics_free(m);
    o.component = NULL;
    CHECK(vsg_ce_metrics_new(&o, &err) == NULL);
    CHECK_INT(err.code, VSG_ERR_INVAL);
}

TEST_LIST = {
    {"prom_label_escapes", test_prom_label_escapes},
    {"prom_histogram", test_prom_histogram},
    {"source_metrics", test_source_metrics},
    {"source_metrics_bound", test_source_metrics_bound},
    {NULL, NULL},
};

TEST_MAIN()
