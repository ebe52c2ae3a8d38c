/*
 * test_selector.c - unit tests for kube/selector.h: label selector syntax
 * to the LabelSelector metav1.ParseToLabelSelector builds, and back.
 */
#include "check.h"

#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "kube/selector.h"

/* The selector for `text` as compact JSON (or "error: <msg>"). */
static const char *sel(const char *text)
{
    static char out[8192];
    char msg[256];
    cJSON *s = vsg_selector_parse(text, msg, sizeof msg);
    if (!s) {
        snprintf(out, sizeof out, "error: %s", msg);
        return out;
    }
    char *j = cJSON_PrintUnformatted(s);
    snprintf(out, sizeof out, "%s", j ? j : "?");
    cJSON_free(j);
    cJSON_Delete(s);
    return out;
}

static void test_forms(void)
{
    CHECK_STR(sel(""), "{}");
    CHECK_STR(sel("app=web"), "{\"matchLabels\":{\"app\":\"web\"}}");
    CHECK_STR(sel(" app == web , tier=x"), "{\"matchLabels\":{\"app\":\"web\",\"tier\":\"x\"}}");
    CHECK_STR(sel("app="), "{\"matchLabels\":{\"app\":\"\"}}");
    CHECK_STR(sel("a!=b"), "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"NotIn\",\"values\":[\"b\"]}]}");
    CHECK_STR(sel("a"), "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\"}]}");
    CHECK_STR(sel("!a"), "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"DoesNotExist\"}]}");
    /* Values a set, sorted; requirements sorted by key. */
    CHECK_STR(sel("foo=bar,tier in (web,api,web),!legacy"),
              "{\"matchLabels\":{\"foo\":\"bar\"},\"matchExpressions\":["
              "{\"key\":\"legacy\",\"operator\":\"DoesNotExist\"},"
              "{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"api\",\"web\"]}]}");
    CHECK_STR(sel("x notin (b, a)"), "{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"NotIn\",\"values\":[\"a\",\"b\"]}]}");
    /* An empty value between or after commas. */
    CHECK_STR(sel("x in (a,)"), "{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"In\",\"values\":[\"\",\"a\"]}]}");
    CHECK_STR(sel("x in (,a)"), "{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"In\",\"values\":[\"\",\"a\"]}]}");
    CHECK_STR(sel("example.com/role in (db)"),
              "{\"matchExpressions\":[{\"key\":\"example.com/role\",\"operator\":\"In\",\"values\":[\"db\"]}]}");
}

static void test_many_values(void)
{
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof text, "k in (");
    for (int i = 0; i < 100; i++) n += (size_t)snprintf(text + n, sizeof text - n, "%sv%03d", i ? "," : "", i);
    snprintf(text + n, sizeof text - n, ")");
    char msg[256];
    cJSON *s = vsg_selector_parse(text, msg, sizeof msg);
    CHECK(s != NULL);
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(s, "matchExpressions"), 0), "values");
    CHECK_INT(cJSON_GetArraySize(vals), 100);
    CHECK_STR(cJSON_GetArrayItem(vals, 99)->valuestring, "v099");
    cJSON_Delete(s);
}

static void test_errors(void)
{
    CHECK_STR(sel("a in b"), "error: unable to parse requirement: found 'b', expected: '('");
    CHECK_STR(sel("a in ()"), "error: for 'in', 'notin' operators, values set can't be empty");
    CHECK_STR(sel("a gt 3"), "error: \"gt\" isn't supported in label selectors");
    CHECK_STR(sel("a=b,"), "error: unable to parse requirement: found '', expected: identifier after ','");
    CHECK_STR(sel("a b"), "error: unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
    CHECK_STR(sel("a in (b c)"), "error: unable to parse requirement: found 'c', expected: ',' or ')'");
    CHECK_STR(sel("=b"), "error: unable to parse requirement: found '=', expected: identifier");
}

static void test_text(void)
{
    char msg[256];
    cJSON *s = vsg_selector_parse("foo=bar,tier in (web,api),!legacy,has", msg, sizeof msg);
    CHECK(s != NULL);
    struct vsg_buf b;
    vsg_buf_init(&b, 4096);
    CHECK_INT(vsg_selector_text(s, &b), VSG_OK);
    CHECK_STR(b.data, "foo=bar,has,!legacy,tier in (api,web)");
    vsg_buf_cleanup(&b);
    cJSON_Delete(s);
}

static void test_out_of_memory(void)
{
    for (int i = 0; i < 40; i++) {
        char msg[256];
        vsg_mem_fail_after(i);
        cJSON *s = vsg_selector_parse("foo=bar,tier in (web,api),!legacy", msg, sizeof msg);
        vsg_mem_fail_after(-1);
        if (!s) CHECK_STR(msg, "out of memory");
        cJSON_Delete(s);
    }
}

TEST_LIST = {
    {"forms", test_forms},
    {"many_values", test_many_values},
    {"errors", test_errors},
    {"text", test_text},
    {"out_of_memory", test_out_of_memory},
    {NULL, NULL},
};

TEST_MAIN()
