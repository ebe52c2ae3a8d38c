/*
 * test_cloudevents.c - unit tests of core/cloudevents without a network:
 * attributes, percent-encoding, binary-mode headers, K_CE_OVERRIDES,
 * ISO-8601 durations, the backoff schedule, Retry-After and the
 * classification of responses.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "check.h"

#include "base/mem.h"
#include "base/vtime.h"
#include "cloudevents/delivery.h"
#include "cloudevents/event.h"
#include "cloudevents/overrides.h"
#include "cloudevents/receive.h"

/* ---- percent-encoding ------------------------------------------------ */

static char *enc(const char *s)
{
    static char out[512];
    struct vsg_buf b;
    vsg_buf_init(&b, 4096);
    CHECK_INT(vsg_ce_pct_encode(&b, s), VSG_OK);
    snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    vsg_buf_cleanup(&b);
    return out;
}

static char *dec(const char *s)
{
    static char out[512];
    struct vsg_buf b;
    vsg_buf_init(&b, 4096);
    CHECK_INT(vsg_ce_pct_decode(&b, s), VSG_OK);
    snprintf(out, sizeof out, "%s", b.data ? b.data : "");
    vsg_buf_cleanup(&b);
    return out;
}

static void test_pct_encode(void)
{
    CHECK_STR(enc(""), "");
    CHECK_STR(enc("plain-ASCII_1.0/~!#$&'()*+,:;<=>?@[\\]^`{|}"),
              "plain-ASCII_1.0/~!#$&'()*+,:;<=>?@[\\]^`{|}");
    CHECK_STR(enc("a b"), "a%20b");
    CHECK_STR(enc("\"quoted\""), "%22quoted%22");
    CHECK_STR(enc("100%"), "100%25");
    CHECK_STR(enc("tab\there\r\n"), "tab%09here%0D%0A");
    CHECK_STR(enc("\x7f"), "%7F");
    /* UTF-8 bytes, upper-case hex: "Euro € ü" */
    CHECK_STR(enc("Euro \xe2\x82\xac \xc3\xbc"), "Euro%20%E2%82%AC%20%C3%BC");
    /* The spec's example. */
    CHECK_STR(enc("Euro \xe2\x82\xac \xf0\x9f\x98\x80"), "Euro%20%E2%82%AC%20%F0%9F%98%80");
}

static void test_pct_decode(void)
{
    CHECK_STR(dec("a%20b%22c%25"), "a b\"c%");
    CHECK_STR(dec("%e2%82%AC"), "\xe2\x82\xac");
    CHECK_STR(dec("100%"), "100%");
    CHECK_STR(dec("%zz%4"), "%zz%4");
    CHECK_STR(dec(enc("round \"trip\" 100% \xc3\xbc")), "round \"trip\" 100% \xc3\xbc");
}

/* ---- the event ------------------------------------------------------- */

static void test_attr_names(void)
{
    CHECK(vsg_ce_attr_name_valid("eventclass"));
    CHECK(vsg_ce_attr_name_valid("a1"));
    CHECK(vsg_ce_attr_name_valid("averyveryverylongname12345"));
    CHECK(!vsg_ce_attr_name_valid(""));
    CHECK(!vsg_ce_attr_name_valid(NULL));
    CHECK(!vsg_ce_attr_name_valid("Upper"));
    CHECK(!vsg_ce_attr_name_valid("with-dash"));
    CHECK(!vsg_ce_attr_name_valid("under_score"));
    CHECK(!vsg_ce_attr_name_valid("\xc3\xbc"));
    CHECK(vsg_ce_attr_reserved("id"));
    CHECK(vsg_ce_attr_reserved("datacontenttype"));
    CHECK(vsg_ce_attr_reserved("data"));
    CHECK(!vsg_ce_attr_reserved("eventclass"));
}

static void test_set_get_copy(void)
{
    struct vsg_ce ce, cp;
    struct vsg_error err;

    vsg_ce_init(&ce);
    vsg_ce_init(&cp);
    CHECK_INT(vsg_ce_set(&ce, "id", "42", &err), VSG_OK);
    CHECK_INT(vsg_ce_set(&ce, "source", "https://vc/sdk", &err), VSG_OK);
    CHECK_INT(vsg_ce_set(&ce, "type", "com.vmware.vsphere.VmPoweredOffEvent.v0", &err), VSG_OK);
    CHECK_INT(vsg_ce_set(&ce, "specversion", "1.0", &err), VSG_OK);
    CHECK_INT(vsg_ce_set(&ce, "specversion", "0.3", &err), VSG_ERR_INVAL);
    CHECK_INT(vsg_ce_set(&ce, "eventclass", "event", &err), VSG_OK);
    CHECK_INT(vsg_ce_set_ext(&ce, "vsphereapiversion", "8.0.2.0", &err), VSG_OK);
    CHECK_INT(vsg_ce_set_ext(&ce, "eventclass", "eventex", &err), VSG_OK); /* overwrite */
    CHECK_INT(vsg_ce_set_ext(&ce, "Bad", "x", &err), VSG_ERR_INVAL);
    CHECK(strstr(err.msg, "\"Bad\"") != NULL);
    CHECK_INT(vsg_ce_set_ext(&ce, "type", "x", &err), VSG_ERR_INVAL);
    CHECK(strstr(err.msg, "reserved") != NULL);
    CHECK_INT(vsg_ce_set(&ce, "datacontenttype", "text/plain\r\nX: y", &err), VSG_ERR_INVAL);
    CHECK_INT(ce.n_ext, 2);
    CHECK_STR(ce.ext[0].name, "eventclass");
    CHECK_STR(ce.ext[0].value, "eventex");
    CHECK_STR(vsg_ce_get(&ce, "specversion"), "1.0");
    CHECK_STR(vsg_ce_get(&ce, "id"), "42");
    CHECK_STR(vsg_ce_get(&ce, "vsphereapiversion"), "8.0.2.0");
    CHECK(vsg_ce_get(&ce, "nope") == NULL);
    CHECK_INT(vsg_ce_set_data(&ce, "<x/>", 4), VSG_OK);
    CHECK_INT(vsg_ce_copy(&cp, &ce), VSG_OK);
    CHECK_STR(cp.type, ce.type);
    CHECK_INT(cp.n_ext, 2);
    CHECK_STR(cp.ext[1].value, "8.0.2.0");
    CHECK_INT(cp.data_len, 4);
    CHECK(memcmp(cp.data, "<x/>", 4) == 0 && cp.data != ce.data);
    CHECK_INT(vsg_ce_set_ext(&ce, "eventclass", NULL, &err), VSG_OK); /* remove */
    CHECK_INT(ce.n_ext, 1);
    CHECK_STR(ce.ext[0].name, "vsphereapiversion");
    CHECK_INT(vsg_ce_validate(&ce, &err), VSG_OK);
    CHECK_INT(vsg_ce_set(&ce, "source", NULL, &err), VSG_OK);
    CHECK_INT(vsg_ce_validate(&ce, &err), VSG_ERR_INVAL);
    CHECK(strstr(err.msg, "\"source\"") != NULL);
    vsg_ce_cleanup(&ce);
    vsg_ce_cleanup(&cp);
}

static void test_binary_headers(void)
{
    struct vsg_ce ce;
    struct vsg_ce_headers h;
    struct vsg_error err;
    static const char *const want[] = {
        "ce-specversion: 1.0",
        "ce-id: 7",
        "ce-source: https://vc.local/sdk",
        "ce-type: com.vmware.vsphere.VmPoweredOnEvent.v0",
        "ce-time: 2026-11-25T11:37:53.123Z",
        "ce-eventclass: event",
        "ce-vsphereapiversion: 8.0",
        "ce-team: a%20%22b%22%25%C3%BC",
        "Content-Type: application/xml",
        "Kn-Namespace: prod",
        NULL,
    };

    vsg_ce_init(&ce);
    vsg_ce_headers_init(&h);
    vsg_ce_set(&ce, "id", "7", NULL);
    vsg_ce_set(&ce, "source", "https://vc.local/sdk", NULL);
    vsg_ce_set(&ce, "type", "com.vmware.vsphere.VmPoweredOnEvent.v0", NULL);
    vsg_ce_set(&ce, "time", "2026-11-25T11:37:53.123Z", NULL);
    vsg_ce_set(&ce, "datacontenttype", "application/xml", NULL);
    vsg_ce_set_ext(&ce, "eventclass", "event", NULL);
    vsg_ce_set_ext(&ce, "vsphereapiversion", "8.0", NULL);
    vsg_ce_set_ext(&ce, "team", "a \"b\"%\xc3\xbc", NULL);
    CHECK_INT(vsg_ce_binary_headers(&ce, "prod", 1, &h, &err), VSG_OK);
    for (size_t i = 0; want[i]; i++) {
        CHECK(i < h.n);
        CHECK_STR(h.lines[i], want[i]);
    }
    CHECK_INT(h.n, 10);
    CHECK(h.lines[h.n] == NULL);
    vsg_ce_headers_cleanup(&h);

    /* Raw values, as the Go adapter sends them: only control characters
     * are encoded (no header may carry them). */
    vsg_ce_set_ext(&ce, "team", "a \"b\"%\xc3\xbc side by side\r\n", NULL);
    CHECK_INT(vsg_ce_binary_headers(&ce, "prod", 0, &h, &err), VSG_OK);
    CHECK_STR(h.lines[7], "ce-team: a \"b\"%\xc3\xbc side by side%0D%0A");
    CHECK_STR(h.lines[1], "ce-id: 7");
    vsg_ce_headers_cleanup(&h);

    /* No namespace, no content type: neither header. */
    vsg_ce_set(&ce, "datacontenttype", NULL, NULL);
    CHECK_INT(vsg_ce_binary_headers(&ce, "", 1, &h, &err), VSG_OK);
    for (size_t i = 0; i < h.n; i++) {
        CHECK(strncmp(h.lines[i], "Content-Type", 12) != 0);
        CHECK(strncmp(h.lines[i], "Kn-Namespace", 12) != 0);
        CHECK(strncmp(h.lines[i], "ce-datacontenttype", 18) != 0);
    }
    vsg_ce_headers_cleanup(&h);
    CHECK_INT(vsg_ce_binary_headers(&ce, "a\nb", 1, &h, &err), VSG_ERR_INVAL);
    vsg_ce_headers_cleanup(&h);
    vsg_ce_set(&ce, "id", NULL, NULL);
    CHECK_INT(vsg_ce_binary_headers(&ce, NULL, 1, &h, &err), VSG_ERR_INVAL);
    CHECK(strstr(err.msg, "\"id\"") != NULL);
    vsg_ce_headers_cleanup(&h);
    vsg_ce_cleanup(&ce);
}

/* More lines and bytes than the headers hold inline: both grow, and the
 * lines written before the growth stay intact. */
static void test_binary_headers_grow(void)
{
    struct vsg_ce ce;
    struct vsg_ce_headers h;
    struct vsg_error err;
    char name[16], value[200], want[256];

    vsg_ce_init(&ce);
    vsg_ce_headers_init(&h);
    vsg_ce_set(&ce, "id", "1", NULL);
    vsg_ce_set(&ce, "source", "s", NULL);
    vsg_ce_set(&ce, "type", "t", NULL);
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "x%d", i);
        memset(value, 'a' + i % 26, 150);
        value[150] = '\0';
        value[0] = ' '; /* percent-encoded: 3 bytes */
        vsg_ce_set_ext(&ce, name, value, NULL);
    }
    CHECK_INT(vsg_ce_binary_headers(&ce, "ns", 1, &h, &err), VSG_OK);
    CHECK_INT(h.n, 4 + 40 + 1);
    CHECK(h.lines != h.line_space);
    CHECK(h.block != h.byte_space);
    CHECK_STR(h.lines[0], "ce-specversion: 1.0");
    for (int i = 0; i < 40; i++) {
        snprintf(want, sizeof want, "ce-x%d: %%20", i);
        memset(want + strlen(want), 'a' + i % 26, 149);
        want[strlen("ce-x: %20") + (i > 9 ? 2 : 1) + 149] = '\0';
        CHECK_STR(h.lines[4 + i], want);
    }
    CHECK_STR(h.lines[44], "Kn-Namespace: ns");
    CHECK(h.lines[45] == NULL);
    /* Lines may be edited in place, as the sender does. */
    CHECK_INT(vsg_ce_headers_add(&h, "Content-Type", ""), VSG_OK);
    CHECK_STR(h.lines[45], "Content-Type: ");
    vsg_ce_headers_cleanup(&h);
    CHECK(h.lines == h.line_space && h.n == 0);
    vsg_ce_cleanup(&ce);
}

/* ---- K_CE_OVERRIDES -------------------------------------------------- */

static void test_overrides(void)
{
    struct vsg_ce_overrides o;
    struct vsg_error err;
    struct vsg_ce ce;

    vsg_ce_overrides_init(&o);
    CHECK_INT(vsg_ce_overrides_parse(NULL, &o, &err), VSG_OK);
    CHECK_INT(o.n_ext, 0);
    CHECK_INT(vsg_ce_overrides_parse("", &o, &err), VSG_OK);
    CHECK_INT(vsg_ce_overrides_parse("  ", &o, &err), VSG_OK);
    CHECK_INT(vsg_ce_overrides_parse("null", &o, &err), VSG_OK);
    CHECK_INT(vsg_ce_overrides_parse("{}", &o, &err), VSG_OK);
    CHECK_INT(vsg_ce_overrides_parse("{\"extensions\":null}", &o, &err), VSG_OK);
    CHECK_INT(o.n_ext, 0);
    CHECK_INT(vsg_ce_overrides_parse(
                  "{\"extensions\":{\"team\":\"ops\",\"env\":\"prod\",\"team\":\"dev\"},\"x\":1}",
                  &o, &err),
              VSG_OK);
    CHECK_INT(o.n_ext, 2);
    CHECK_STR(o.ext[0].name, "team");
    CHECK_STR(o.ext[0].value, "dev");
    CHECK_STR(o.ext[1].name, "env");

    /* Errors keep the previous value and name the culprit. */
    CHECK_INT(vsg_ce_overrides_parse("{\"extensions\":", &o, &err), VSG_ERR_PARSE);
    CHECK(strstr(err.msg, "not valid JSON") != NULL);
    CHECK_INT(vsg_ce_overrides_parse("[1]", &o, &err), VSG_ERR_PARSE);
    CHECK_INT(vsg_ce_overrides_parse("{\"extensions\":[]}", &o, &err), VSG_ERR_PARSE);
    CHECK_INT(vsg_ce_overrides_parse("{\"extensions\":{\"Team\":\"x\"}}", &o, &err),
              VSG_ERR_INVAL);
    CHECK(strstr(err.msg, "\"Team\"") != NULL);
    CHECK_INT(vsg_ce_overrides_parse("{\"extensions\":{\"a-b\":\"x\"}}", &o, &err),
              VSG_ERR_INVAL);
    CHECK(strstr(err.msg, "\"a-b\"") != NULL);
    CHECK_INT(vsg_ce_overrides_parse("{\"extensions\":{\"\":\"x\"}}", &o, &err), VSG_ERR_INVAL);
    CHECK_INT(vsg_ce_overrides_parse("{\"extensions\":{\"abcdefghijklmnopqrstu\":\"x\"}}", &o,
                                     &err),
              VSG_ERR_INVAL);
    CHECK(strstr(err.msg, "20") != NULL);
    CHECK_INT(vsg_ce_overrides_parse("{\"extensions\":{\"abcdefghijklmnopqrst\":\"x\"}}", &o,
                                     &err),
              VSG_OK);
    CHECK_INT(vsg_ce_overrides_parse("{\"extensions\":{\"id\":\"x\"}}", &o, &err), VSG_ERR_INVAL);
    CHECK(strstr(err.msg, "reserved") != NULL);
    CHECK_INT(vsg_ce_overrides_parse("{\"extensions\":{\"n\":1}}", &o, &err), VSG_ERR_INVAL);
    CHECK(strstr(err.msg, "\"n\"") != NULL);
    CHECK_INT(o.n_ext, 1); /* Still the last good value. */

    CHECK_INT(vsg_ce_overrides_parse("{\"extensions\":{\"eventclass\":\"custom\",\"team\":\"a\"}}",
                                     &o, &err),
              VSG_OK);
    vsg_ce_init(&ce);
    vsg_ce_set_ext(&ce, "eventclass", "event", NULL);
    CHECK_INT(vsg_ce_overrides_apply(&o, &ce, &err), VSG_OK);
    CHECK_STR(vsg_ce_get(&ce, "eventclass"), "custom");
    CHECK_STR(vsg_ce_get(&ce, "team"), "a");
    CHECK_INT(ce.n_ext, 2);
    vsg_ce_cleanup(&ce);
    vsg_ce_overrides_cleanup(&o);
}

static void test_delivery_parse(void)
{
    struct vsg_ce_delivery d;
    struct vsg_error err;

    vsg_ce_delivery_init(&d);
    CHECK_INT(d.retry, VSG_CE_RETRY_FOREVER);
    CHECK_INT(d.policy, VSG_CE_BACKOFF_EXPONENTIAL);
    CHECK_INT(d.delay_ms, 1000);
    CHECK_INT(d.max_delay_ms, 60000);
    CHECK_INT(vsg_ce_delivery_parse("3", "Linear", "PT0.2S", &d, &err), VSG_OK);
    CHECK_INT(d.retry, 3);
    CHECK_INT(d.policy, VSG_CE_BACKOFF_LINEAR);
    CHECK_INT(d.delay_ms, 200);
    CHECK_INT(vsg_ce_delivery_parse(NULL, NULL, NULL, &d, &err), VSG_OK);
    CHECK_INT(d.retry, VSG_CE_RETRY_FOREVER);
    CHECK_INT(vsg_ce_delivery_parse("0", "", "", &d, &err), VSG_OK);
    CHECK_INT(d.retry, 0);
    CHECK_INT(vsg_ce_delivery_parse("-1", NULL, NULL, &d, &err), VSG_ERR_INVAL);
    CHECK(strstr(err.msg, "delivery.retry") != NULL);
    CHECK_INT(vsg_ce_delivery_parse("2x", NULL, NULL, &d, &err), VSG_ERR_INVAL);
    CHECK_INT(vsg_ce_delivery_parse(NULL, "random", NULL, &d, &err), VSG_ERR_INVAL);
    CHECK(strstr(err.msg, "backoffPolicy") != NULL);
    CHECK_INT(vsg_ce_delivery_parse(NULL, NULL, "1s", &d, &err), VSG_ERR_INVAL);
    CHECK(strstr(err.msg, "backoffDelay") != NULL);
    CHECK_INT(d.retry, 0); /* Untouched by the failures. */
}

/* ---- backoff --------------------------------------------------------- */

static void test_backoff(void)
{
    struct vsg_ce_delivery d;

    vsg_ce_delivery_init(&d); /* exponential, 1 s, cap 60 s */
    CHECK_INT(vsg_ce_backoff_ms(&d, 1), 1000);
    CHECK_INT(vsg_ce_backoff_ms(&d, 2), 2000);
    CHECK_INT(vsg_ce_backoff_ms(&d, 3), 4000);
    CHECK_INT(vsg_ce_backoff_ms(&d, 6), 32000);
    CHECK_INT(vsg_ce_backoff_ms(&d, 7), 60000);
    CHECK_INT(vsg_ce_backoff_ms(&d, 1000000), 60000);
    d.delay_ms = 200;
    CHECK_INT(vsg_ce_backoff_ms(&d, 1), 200);
    CHECK_INT(vsg_ce_backoff_ms(&d, 4), 1600);
    d.policy = VSG_CE_BACKOFF_LINEAR;
    CHECK_INT(vsg_ce_backoff_ms(&d, 1), 0);
    CHECK_INT(vsg_ce_backoff_ms(&d, 2), 200);
    CHECK_INT(vsg_ce_backoff_ms(&d, 5), 800);
    CHECK_INT(vsg_ce_backoff_ms(&d, 1000), 60000);
    d.delay_ms = 0;
    CHECK_INT(vsg_ce_backoff_ms(&d, 9), 0);
    d.policy = VSG_CE_BACKOFF_EXPONENTIAL;
    d.delay_ms = INT64_MAX / 4;
    d.max_delay_ms = 0; /* no cap: saturates instead of overflowing */
    CHECK(vsg_ce_backoff_ms(&d, 100) > 0);
}

static void test_retry_after(void)
{
    char date[64];
    struct vsg_time now = vsg_time_now();
    time_t t = (time_t)now.sec + 30;
    struct tm tm;

    CHECK_INT(vsg_ce_retry_after_ms(NULL), -1);
    CHECK_INT(vsg_ce_retry_after_ms(""), -1);
    CHECK_INT(vsg_ce_retry_after_ms("5"), 5000);
    CHECK_INT(vsg_ce_retry_after_ms(" 0 "), 0);
    CHECK_INT(vsg_ce_retry_after_ms("-3"), -1);
    CHECK_INT(vsg_ce_retry_after_ms("soon"), -1);
    CHECK_INT(vsg_ce_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT"), 0);
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int64_t ms = vsg_ce_retry_after_ms(date);
    CHECK(ms > 28000 && ms <= 30000);
    CHECK_INT(vsg_ce_retry_after_ms("Sun, 06 Nov 1994 08:49:37 UTC"), -1);
}

/* ---- classification -------------------------------------------------- */

static void test_classify(void)
{
    CHECK_INT(vsg_ce_classify(VSG_OK, 200), VSG_CE_CLASS_DELIVERED);
    CHECK_INT(vsg_ce_classify(VSG_OK, 202), VSG_CE_CLASS_DELIVERED);
    CHECK_INT(vsg_ce_classify(VSG_OK, 204), VSG_CE_CLASS_DELIVERED);
    CHECK_INT(vsg_ce_classify(VSG_ERR_TOOBIG, 200), VSG_CE_CLASS_DELIVERED);
    static const long retry[] = {404, 408, 409, 429, 500, 502, 503, 504, 599, 301, 100, 0};
    for (size_t i = 0; retry[i]; i++) CHECK_INT(vsg_ce_classify(VSG_OK, retry[i]), VSG_CE_CLASS_RETRY);
    static const long fail[] = {400, 401, 403, 405, 410, 413, 415, 422, 0};
    for (size_t i = 0; fail[i]; i++) CHECK_INT(vsg_ce_classify(VSG_OK, fail[i]), VSG_CE_CLASS_FAIL);
    CHECK_INT(vsg_ce_classify(VSG_ERR_TRANSPORT, 0), VSG_CE_CLASS_RETRY);
    CHECK_INT(vsg_ce_classify(VSG_ERR_TIMEOUT, 0), VSG_CE_CLASS_RETRY);
    CHECK_INT(vsg_ce_classify(VSG_ERR_TLS, 0), VSG_CE_CLASS_RETRY);
    CHECK_INT(vsg_ce_classify(VSG_ERR_INVAL, 0), VSG_CE_CLASS_FAIL);
}

/* ---- allocation failures --------------------------------------------- */

static void test_nomem(void)
{
    struct vsg_ce ce, cp;
    struct vsg_ce_headers h;
    struct vsg_ce_overrides o;
    struct vsg_error err;

    /* Every allocation point must fail cleanly (ASan checks for leaks). */
    for (long n = 0; n < 60; n++) {
        vsg_ce_init(&ce);
        vsg_ce_init(&cp);
        vsg_ce_headers_init(&h);
        vsg_ce_overrides_init(&o);
        vsg_mem_fail_after(n);
        if (vsg_ce_set(&ce, "id", "1", &err) == VSG_OK &&
            vsg_ce_set(&ce, "source", "s", &err) == VSG_OK &&
            vsg_ce_set(&ce, "type", "t", &err) == VSG_OK &&
            vsg_ce_set_ext(&ce, "a", "b", &err) == VSG_OK &&
            vsg_ce_set_data(&ce, "d", 1) == VSG_OK && vsg_ce_copy(&cp, &ce) == VSG_OK &&
            vsg_ce_overrides_parse("{\"extensions\":{\"x\":\"y\"}}", &o, &err) == VSG_OK)
            vsg_ce_binary_headers(&cp, "ns", 1, &h, &err);
        vsg_mem_fail_after(-1);
        vsg_ce_headers_cleanup(&h);
        vsg_ce_overrides_cleanup(&o);
        vsg_ce_cleanup(&cp);
        vsg_ce_cleanup(&ce);
    }
}

/* cloudevents/receive.h: what `vsgate sink` reads of a received event. */
static void test_receive_headers(void)
{
    struct vsg_ce_received r = {0};

    CHECK_INT(vsg_ce_received_header(&r, "Ce-Id", "a%20b%zz", 0), VSG_OK);
    CHECK_INT(vsg_ce_received_header(&r, "ce-source", "/s", 0), VSG_OK);
    CHECK_INT(vsg_ce_received_header(&r, "CE-SOURCE", "/t", 0), VSG_OK); /* Last wins. */
    CHECK_INT(vsg_ce_received_header(&r, "ce-", "x", 0), VSG_OK);        /* Not an attribute. */
    CHECK_INT(vsg_ce_received_header(&r, "Kn-Namespace", NULL, 0), VSG_OK);
    CHECK_STR(vsg_ce_kvlist_get(&r.attrs, "id"), "a b%zz");
    CHECK_STR(vsg_ce_kvlist_get(&r.attrs, "source"), "/t");
    CHECK_INT((long)r.attrs.n, 2);
    CHECK_STR(vsg_ce_kvlist_get(&r.headers, "ce-"), "x");
    CHECK_STR(vsg_ce_kvlist_get(&r.headers, "kn-namespace"), "");
    CHECK_STR(vsg_ce_received_missing(&r), "specversion");
    CHECK_INT(vsg_ce_received_header(&r, "ce-specversion", "1.0", 1), VSG_OK);
    CHECK_STR(vsg_ce_received_missing(&r), "type");
    CHECK_INT(vsg_ce_received_header(&r, "ce-type", "%41", 1), VSG_OK); /* Raw: kept. */
    CHECK_STR(vsg_ce_kvlist_get(&r.attrs, "type"), "%41");
    CHECK(vsg_ce_received_missing(&r) == NULL);
    vsg_ce_received_cleanup(&r);
    CHECK(r.attrs.n == 0 && r.headers.v == NULL);
}

static void test_receive_structured(void)
{
    static const char body[] = "{\"specversion\":\"1.0\",\"id\":\"1\",\"n\":2,\"data\":{\"a\":[1]},"
                               "\"data_base64\":\"aGk=\"}";
    struct vsg_ce_received r = {0};
    char why[128];

    CHECK_INT(vsg_ce_parse_structured(body, sizeof body - 1, &r, why, sizeof why), 0);
    CHECK_STR(vsg_ce_kvlist_get(&r.attrs, "n"), "2");
    CHECK_STR(vsg_ce_received_missing(&r), "source");
    CHECK_INT((long)r.data_len, 2); /* data_base64 came last. */
    CHECK_STR(r.data, "hi");
    vsg_ce_received_cleanup(&r);
    CHECK_INT(vsg_ce_parse_structured("[1]", 3, &r, why, sizeof why), 400);
    vsg_ce_received_cleanup(&r);
    CHECK_INT(vsg_ce_parse_structured("{\"data_base64\":\"a\"}", 19, &r, why, sizeof why), 400);
    CHECK(strstr(why, "base64") != NULL);
    vsg_ce_received_cleanup(&r);
}

TEST_LIST = {
    {"receive_headers", test_receive_headers},
    {"receive_structured", test_receive_structured},
    {"pct_encode", test_pct_encode},
    {"pct_decode", test_pct_decode},
    {"attr_names", test_attr_names},
    {"set_get_copy", test_set_get_copy},
    {"binary_headers", test_binary_headers},
    {"binary_headers_grow", test_binary_headers_grow},
    {"overrides", test_overrides},
    {"delivery_parse", test_delivery_parse},
    {"backoff", test_backoff},
    {"retry_after", test_retry_after},
    {"classify", test_classify},
    {"nomem", test_nomem},
    {NULL, NULL},
};

TEST_MAIN()
