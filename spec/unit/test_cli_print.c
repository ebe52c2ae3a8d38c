/*
 * test_cli_print.c - unit tests for cmd/cli_print.h (-o json / -o yaml).
 *
 * The expected texts are what Go prints for the same input, i.e. what
 * kubectl prints: encoding/json's MarshalIndent(v, "", "    ") plus a
 * newline (members in input order), and sigs.k8s.io/yaml v1.6.0 (go-yaml
 * v2.4.2) for YAML. None of these inputs has a line long enough for
 * go-yaml's folding at 80 columns, which the printer does not do.
 */
#include "check.h"

#include <math.h>

#include "base/mem.h"
#include "cmd/cli_print.h"

/* ====================================================================
 * Golden texts (generated with the Go oracle, do not hand-edit lightly)
 * ==================================================================== */

/* ---- secret ---- */

static const char secret_in[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"vsphere-credentials\",\"namespa"
    "ce\":\"default\",\"labels\":{\"app.kubernetes.io/name\":\"vsgate\"},\"creationTimestamp\":null}"
    ",\"type\":\"kubernetes.io/basic-auth\",\"stringData\":{\"username\":\"administrator@vsphere.l"
    "ocal\",\"password\":\"s3cr3t: pass #1\"}}";

static const char secret_json[] =
    "{\n"
    "    \"apiVersion\": \"v1\",\n"
    "    \"kind\": \"Secret\",\n"
    "    \"metadata\": {\n"
    "        \"name\": \"vsphere-credentials\",\n"
    "        \"namespace\": \"default\",\n"
    "        \"labels\": {\n"
    "            \"app.kubernetes.io/name\": \"vsgate\"\n"
    "        },\n"
    "        \"creationTimestamp\": null\n"
    "    },\n"
    "    \"type\": \"kubernetes.io/basic-auth\",\n"
    "    \"stringData\": {\n"
    "        \"username\": \"administrator@vsphere.local\",\n"
    "        \"password\": \"s3cr3t: pass #1\"\n"
    "    }\n"
    "}\n";

static const char secret_yaml[] =
    "apiVersion: v1\n"
    "kind: Secret\n"
    "metadata:\n"
    "  creationTimestamp: null\n"
    "  labels:\n"
    "    app.kubernetes.io/name: vsgate\n"
    "  name: vsphere-credentials\n"
    "  namespace: default\n"
    "stringData:\n"
    "  password: 's3cr3t: pass #1'\n"
    "  username: administrator@vsphere.local\n"
    "type: kubernetes.io/basic-auth\n";

/* ---- source ---- */

static const char source_in[] =
    "{\"apiVersion\":\"sources.tanzu.vmware.com/v1alpha1\",\"kind\":\"VSphereSource\",\"metadata\":"
    "{\"name\":\"my-source\",\"namespace\":\"default\",\"generation\":3,\"creationTimestamp\":\"2024-0"
    "1-15T10:00:00Z\"},\"spec\":{\"address\":\"https://vcenter.example.com\",\"skipTLSVerify\":fal"
    "se,\"secretRef\":{\"name\":\"vsphere-credentials\"},\"sink\":{\"ref\":{\"apiVersion\":\"serving.k"
    "native.dev/v1\",\"kind\":\"Service\",\"name\":\"event-display\"},\"uri\":\"/events\"},\"checkpoint"
    "Config\":{\"maxAgeSeconds\":300,\"periodSeconds\":10},\"payloadEncoding\":\"application/json"
    "\"},\"status\":{\"observedGeneration\":3,\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"l"
    "astTransitionTime\":\"2024-01-15T10:00:05Z\"}],\"sinkUri\":\"http://event-display.default."
    "svc.cluster.local/events\"}}";

static const char source_json[] =
    "{\n"
    "    \"apiVersion\": \"sources.tanzu.vmware.com/v1alpha1\",\n"
    "    \"kind\": \"VSphereSource\",\n"
    "    \"metadata\": {\n"
    "        \"name\": \"my-source\",\n"
    "        \"namespace\": \"default\",\n"
    "        \"generation\": 3,\n"
    "        \"creationTimestamp\": \"2024-01-15T10:00:00Z\"\n"
    "    },\n"
    "    \"spec\": {\n"
    "        \"address\": \"https://vcenter.example.com\",\n"
    "        \"skipTLSVerify\": false,\n"
    "        \"secretRef\": {\n"
    "            \"name\": \"vsphere-credentials\"\n"
    "        },\n"
    "        \"sink\": {\n"
    "            \"ref\": {\n"
    "                \"apiVersion\": \"serving.knative.dev/v1\",\n"
    "                \"kind\": \"Service\",\n"
    "                \"name\": \"event-display\"\n"
    "            },\n"
    "            \"uri\": \"/events\"\n"
    "        },\n"
    "        \"checkpointConfig\": {\n"
    "            \"maxAgeSeconds\": 300,\n"
    "            \"periodSeconds\": 10\n"
    "        },\n"
    "        \"payloadEncoding\": \"application/json\"\n"
    "    },\n"
    "    \"status\": {\n"
    "        \"observedGeneration\": 3,\n"
    "        \"conditions\": [\n"
    "            {\n"
    "                \"type\": \"Ready\",\n"
    "                \"status\": \"True\",\n"
    "                \"lastTransitionTime\": \"2024-01-15T10:00:05Z\"\n"
    "            }\n"
    "        ],\n"
    "        \"sinkUri\": \"http://event-display.default.svc.cluster.local/events\"\n"
    "    }\n"
    "}\n";

static const char source_yaml[] =
    "apiVersion: sources.tanzu.vmware.com/v1alpha1\n"
    "kind: VSphereSource\n"
    "metadata:\n"
    "  creationTimestamp: \"2024-01-15T10:00:00Z\"\n"
    "  generation: 3\n"
    "  name: my-source\n"
    "  namespace: default\n"
    "spec:\n"
    "  address: https://vcenter.example.com\n"
    "  checkpointConfig:\n"
    "    maxAgeSeconds: 300\n"
    "    periodSeconds: 10\n"
    "  payloadEncoding: application/json\n"
    "  secretRef:\n"
    "    name: vsphere-credentials\n"
    "  sink:\n"
    "    ref:\n"
    "      apiVersion: serving.knative.dev/v1\n"
    "      kind: Service\n"
    "      name: event-display\n"
    "    uri: /events\n"
    "  skipTLSVerify: false\n"
    "status:\n"
    "  conditions:\n"
    "  - lastTransitionTime: \"2024-01-15T10:00:05Z\"\n"
    "    status: \"True\"\n"
    "    type: Ready\n"
    "  observedGeneration: 3\n"
    "  sinkUri: http://event-display.default.svc.cluster.local/events\n";

/* ---- list ---- */

static const char list_in[] =
    "{\"apiVersion\":\"v1\",\"items\":[],\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"\"}}";

static const char list_json[] =
    "{\n"
    "    \"apiVersion\": \"v1\",\n"
    "    \"items\": [],\n"
    "    \"kind\": \"List\",\n"
    "    \"metadata\": {\n"
    "        \"resourceVersion\": \"\"\n"
    "    }\n"
    "}\n";

static const char list_yaml[] =
    "apiVersion: v1\n"
    "items: []\n"
    "kind: List\n"
    "metadata:\n"
    "  resourceVersion: \"\"\n";

/* ---- quoting ---- */

static const char quoting_in[] =
    "{\"bool\":\"true\",\"no\":\"no\",\"int\":\"300\",\"float\":\"1.5\",\"null\":\"null\",\"tilde\":\"~\",\"empty\""
    ":\"\",\"colon\":\"a: b\",\"dash\":\"-x\",\"dashsp\":\"- x\",\"lead\":\" lead\",\"trail\":\"trail \",\"hash\""
    ":\"a #b\",\"hashstart\":\"#x\",\"star\":\"*\",\"amp\":\"&a\",\"ts\":\"2024-01-15T10:00:00Z\",\"date\":\"2"
    "024-01-15\",\"base60\":\"1:20\",\"hex\":\"0x1F\",\"version\":\"1.2.3\",\"url\":\"http://h:8080/p?q=1"
    "#f\",\"quote\":\"it's\",\"dq\":\"say \\\"hi\\\"\",\"tab\":\"a\\tb\",\"on\":\"On\",\"y\":\"y\",\"html\":\"<&>\",\"e\""
    ":\"é\",\"ctl\":\"a\\u0001b\"}";

static const char quoting_json[] =
    "{\n"
    "    \"bool\": \"true\",\n"
    "    \"no\": \"no\",\n"
    "    \"int\": \"300\",\n"
    "    \"float\": \"1.5\",\n"
    "    \"null\": \"null\",\n"
    "    \"tilde\": \"~\",\n"
    "    \"empty\": \"\",\n"
    "    \"colon\": \"a: b\",\n"
    "    \"dash\": \"-x\",\n"
    "    \"dashsp\": \"- x\",\n"
    "    \"lead\": \" lead\",\n"
    "    \"trail\": \"trail \",\n"
    "    \"hash\": \"a #b\",\n"
    "    \"hashstart\": \"#x\",\n"
    "    \"star\": \"*\",\n"
    "    \"amp\": \"\\u0026a\",\n"
    "    \"ts\": \"2024-01-15T10:00:00Z\",\n"
    "    \"date\": \"2024-01-15\",\n"
    "    \"base60\": \"1:20\",\n"
    "    \"hex\": \"0x1F\",\n"
    "    \"version\": \"1.2.3\",\n"
    "    \"url\": \"http://h:8080/p?q=1#f\",\n"
    "    \"quote\": \"it's\",\n"
    "    \"dq\": \"say \\\"hi\\\"\",\n"
    "    \"tab\": \"a\\tb\",\n"
    "    \"on\": \"On\",\n"
    "    \"y\": \"y\",\n"
    "    \"html\": \"\\u003c\\u0026\\u003e\",\n"
    "    \"e\": \"é\",\n"
    "    \"ctl\": \"a\\u0001b\"\n"
    "}\n";

static const char quoting_yaml[] =
    "amp: '&a'\n"
    "base60: \"1:20\"\n"
    "bool: \"true\"\n"
    "colon: 'a: b'\n"
    "ctl: \"a\\x01b\"\n"
    "dash: -x\n"
    "dashsp: '- x'\n"
    "date: \"2024-01-15\"\n"
    "dq: say \"hi\"\n"
    "e: é\n"
    "empty: \"\"\n"
    "float: \"1.5\"\n"
    "hash: 'a #b'\n"
    "hashstart: '#x'\n"
    "hex: \"0x1F\"\n"
    "html: <&>\n"
    "int: \"300\"\n"
    "lead: ' lead'\n"
    "\"no\": \"no\"\n"
    "\"null\": \"null\"\n"
    "\"on\": \"On\"\n"
    "quote: it's\n"
    "star: '*'\n"
    "tab: \"a\\tb\"\n"
    "tilde: \"~\"\n"
    "trail: 'trail '\n"
    "ts: \"2024-01-15T10:00:00Z\"\n"
    "url: http://h:8080/p?q=1#f\n"
    "version: 1.2.3\n"
    "\"y\": \"y\"\n";

/* ---- multiline ---- */

static const char multiline_in[] =
    "{\"keep\":\"x\\n\\n\",\"clip\":\"line1\\nline2\\n\",\"strip\":\"a\\nb\",\"indented\":\"  a\\nb\",\"config\":"
    "\"[server]\\nport = 8080\\n\",\"last\":\"tail\\n\\n\"}";

static const char multiline_json[] =
    "{\n"
    "    \"keep\": \"x\\n\\n\",\n"
    "    \"clip\": \"line1\\nline2\\n\",\n"
    "    \"strip\": \"a\\nb\",\n"
    "    \"indented\": \"  a\\nb\",\n"
    "    \"config\": \"[server]\\nport = 8080\\n\",\n"
    "    \"last\": \"tail\\n\\n\"\n"
    "}\n";

static const char multiline_yaml[] =
    "clip: |\n"
    "  line1\n"
    "  line2\n"
    "config: |\n"
    "  [server]\n"
    "  port = 8080\n"
    "indented: |2-\n"
    "    a\n"
    "  b\n"
    "keep: |+\n"
    "  x\n"
    "\n"
    "last: |+\n"
    "  tail\n"
    "\n"
    "strip: |-\n"
    "  a\n"
    "  b\n";

/* ---- nested ---- */

static const char nested_in[] =
    "{\"items\":[{\"name\":\"a\",\"ports\":[{\"port\":80,\"protocol\":\"TCP\"},{\"port\":443}],\"tags\":[]}"
    ",{\"name\":\"b\",\"matrix\":[[1,2],[],[{\"x\":null}]],\"opts\":{}}],\"order\":{\"b\":1,\"a10\":2,\"a9"
    "\":3,\"Z\":4,\"_z\":5,\"a\":6},\"nums\":[1.5,1e-7,1e21,100,-3,1234567.5,0.000001,true,false,n"
    "ull]}";

static const char nested_json[] =
    "{\n"
    "    \"items\": [\n"
    "        {\n"
    "            \"name\": \"a\",\n"
    "            \"ports\": [\n"
    "                {\n"
    "                    \"port\": 80,\n"
    "                    \"protocol\": \"TCP\"\n"
    "                },\n"
    "                {\n"
    "                    \"port\": 443\n"
    "                }\n"
    "            ],\n"
    "            \"tags\": []\n"
    "        },\n"
    "        {\n"
    "            \"name\": \"b\",\n"
    "            \"matrix\": [\n"
    "                [\n"
    "                    1,\n"
    "                    2\n"
    "                ],\n"
    "                [],\n"
    "                [\n"
    "                    {\n"
    "                        \"x\": null\n"
    "                    }\n"
    "                ]\n"
    "            ],\n"
    "            \"opts\": {}\n"
    "        }\n"
    "    ],\n"
    "    \"order\": {\n"
    "        \"b\": 1,\n"
    "        \"a10\": 2,\n"
    "        \"a9\": 3,\n"
    "        \"Z\": 4,\n"
    "        \"_z\": 5,\n"
    "        \"a\": 6\n"
    "    },\n"
    "    \"nums\": [\n"
    "        1.5,\n"
    "        1e-7,\n"
    "        1e+21,\n"
    "        100,\n"
    "        -3,\n"
    "        1234567.5,\n"
    "        0.000001,\n"
    "        true,\n"
    "        false,\n"
    "        null\n"
    "    ]\n"
    "}\n";

static const char nested_yaml[] =
    "items:\n"
    "- name: a\n"
    "  ports:\n"
    "  - port: 80\n"
    "    protocol: TCP\n"
    "  - port: 443\n"
    "  tags: []\n"
    "- matrix:\n"
    "  - - 1\n"
    "    - 2\n"
    "  - []\n"
    "  - - x: null\n"
    "  name: b\n"
    "  opts: {}\n"
    "nums:\n"
    "- 1.5\n"
    "- 1e-07\n"
    "- 1e+21\n"
    "- 100\n"
    "- -3\n"
    "- 1.2345675e+06\n"
    "- 1e-06\n"
    "- true\n"
    "- false\n"
    "- null\n"
    "order:\n"
    "  _z: 5\n"
    "  Z: 4\n"
    "  a: 6\n"
    "  a9: 3\n"
    "  a10: 2\n"
    "  b: 1\n";

/* ====================================================================
 * Helpers
 * ==================================================================== */

typedef enum vsg_err (*printer_fn)(FILE *out, const cJSON *v);

/* What `fn` writes for `v`, via a memory stream; free() it. *rc gets the
 * result. NULL only if the stream could not be opened. */
static char *print_mem(printer_fn fn, const cJSON *v, enum vsg_err *rc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (!f) return NULL;
    *rc = fn(f, v);
    fclose(f);
    return text;
}

/* Nonzero when `fn` prints `want` for `v` (and returns VSG_OK); prints
 * both texts when not. */
static int prints(printer_fn fn, const cJSON *v, const char *want)
{
    enum vsg_err rc = VSG_ERR_INTERNAL;
    char *got = print_mem(fn, v, &rc);
    int ok = got && rc == VSG_OK && strcmp(got, want) == 0;

    if (!ok)
        fprintf(stderr, "  rc %s\n  --- got:\n%s  --- want:\n%s", vsg_errname(rc),
                got ? got : "(null)\n", want);
    free(got);
    return ok;
}

/* prints() for the JSON text `in`. */
static int prints_in(printer_fn fn, const char *in, const char *want)
{
    cJSON *v = cJSON_Parse(in);
    int ok = v && prints(fn, v, want);

    if (!v) fprintf(stderr, "  cannot parse %s\n", in);
    cJSON_Delete(v);
    return ok;
}

#define CHECK_BOTH(name)                                                     \
    do {                                                                     \
        CHECK(prints_in(vsg_cli_print_json, name##_in, name##_json));        \
        CHECK(prints_in(vsg_cli_print_yaml, name##_in, name##_yaml));        \
    } while (0)

/* ====================================================================
 * Tests
 * ==================================================================== */

static void test_secret(void)
{
    CHECK_BOTH(secret);
}

static void test_source(void)
{
    CHECK_BOTH(source);
}

static void test_empty_list(void)
{
    CHECK_BOTH(list);
}

static void test_quoting(void)
{
    CHECK_BOTH(quoting);
}

static void test_multiline(void)
{
    CHECK_BOTH(multiline);
    /* A |+ block last in the document: no "..." after it (go-yaml). */
    CHECK(prints_in(vsg_cli_print_yaml, "{\"z\":\"x\\n\\n\"}", "z: |+\n  x\n\n"));
}

static void test_nested(void)
{
    CHECK_BOTH(nested);
}

/* Top-level values other than objects. */
static void test_roots(void)
{
    CHECK(prints_in(vsg_cli_print_json, "\"x<\"", "\"x\\u003c\"\n"));
    CHECK(prints_in(vsg_cli_print_json, "[]", "[]\n"));
    CHECK(prints_in(vsg_cli_print_json, "{}", "{}\n"));
    CHECK(prints_in(vsg_cli_print_json, "null", "null\n"));
    CHECK(prints_in(vsg_cli_print_yaml, "\"foo\"", "foo\n"));
    CHECK(prints_in(vsg_cli_print_yaml, "\"true\"", "\"true\"\n"));
    CHECK(prints_in(vsg_cli_print_yaml, "[]", "[]\n"));
    CHECK(prints_in(vsg_cli_print_yaml, "{}", "{}\n"));
    CHECK(prints_in(vsg_cli_print_yaml, "null", "null\n"));
    CHECK(prints_in(vsg_cli_print_yaml, "[1,[2]]", "- 1\n- - 2\n"));
}

/* Numbers as Go formats a float64 (JSON) / go-yaml re-reads them (YAML). */
static void test_numbers(void)
{
    CHECK(prints_in(vsg_cli_print_json,
                    "[0.1,1e20,123456789012345678901,1e-6,5e-7,-2.5e-300,1.7976931348623157e308]",
                    "[\n    0.1,\n    100000000000000000000,\n    123456789012345680000,\n"
                    "    0.000001,\n    5e-7,\n    -2.5e-300,\n    1.7976931348623157e+308\n]\n"));
    CHECK(prints_in(vsg_cli_print_yaml,
                    "[0.1,1e20,1e15,-0,0.0001,0.00001,123456.5,18446744073709551615]",
                    "- 0.1\n- 1e+20\n- 1000000000000000\n- 0\n- 0.0001\n- 1e-05\n"
                    "- 123456.5\n- 1.8446744073709552e+19\n"));

    cJSON *a = cJSON_CreateArray();
    CHECK(a != NULL);
    cJSON_AddItemToArray(a, cJSON_CreateNumber(NAN));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(INFINITY));
    int ok = prints(vsg_cli_print_json, a, "[\n    null,\n    null\n]\n") &&
             prints(vsg_cli_print_yaml, a, "- null\n- null\n");
    cJSON_Delete(a);
    CHECK(ok);
}

/* Invalid UTF-8, U+2028, duplicate keys: as Go would have them. */
static void test_odd_strings(void)
{
    cJSON *o = cJSON_CreateObject();
    CHECK(o != NULL);
    cJSON_AddStringToObject(o, "bad", "a\xff" "b\xc3");
    cJSON_AddStringToObject(o, "ls", "x\xe2\x80\xa8y");
    cJSON_AddNumberToObject(o, "dup", 1);
    cJSON_AddNumberToObject(o, "dup", 2);
    int ok = prints(vsg_cli_print_json, o,
                    "{\n    \"bad\": \"a\\ufffdb\\ufffd\",\n    \"ls\": \"x\\u2028y\",\n"
                    "    \"dup\": 1,\n    \"dup\": 2\n}\n") &&
             prints(vsg_cli_print_yaml, o,
                    "bad: a\xef\xbf\xbd" "b\xef\xbf\xbd\ndup: 2\nls: 'x\xe2\x80\xa8  y'\n");
    cJSON_Delete(o);
    CHECK(ok);
}

static void test_errors(void)
{
    cJSON *v = cJSON_Parse(secret_in);
    CHECK(v != NULL);
    int inval = vsg_cli_print_json(NULL, v) == VSG_ERR_INVAL &&
                vsg_cli_print_yaml(NULL, v) == VSG_ERR_INVAL &&
                vsg_cli_print_json(stdout, NULL) == VSG_ERR_INVAL &&
                vsg_cli_print_yaml(stdout, NULL) == VSG_ERR_INVAL;
    /* A device that takes nothing: the flush fails. */
    FILE *full = fopen("/dev/full", "w");
    enum vsg_err rj = VSG_ERR_IO, ry = VSG_ERR_IO;
    if (full) {
        rj = vsg_cli_print_json(full, v);
        clearerr(full);
        ry = vsg_cli_print_yaml(full, v);
        fclose(full);
    }
    cJSON_Delete(v);
    CHECK(inval);
    CHECK_STR(vsg_errname(rj), "EIO");
    CHECK_STR(vsg_errname(ry), "EIO");
}

/* Every allocation failure is VSG_ERR_NOMEM with nothing written. */
static void test_nomem(void)
{
    static const printer_fn fns[] = {vsg_cli_print_json, vsg_cli_print_yaml};
    cJSON *v = cJSON_Parse(nested_in);
    int bad = 0;

    CHECK(v != NULL);
    for (size_t f = 0; f < 2 && !bad; f++) {
        long n;
        for (n = 0; n < 100000; n++) {
            char *text = NULL;
            size_t len = 0;
            FILE *out = open_memstream(&text, &len);
            enum vsg_err rc;
            if (!out) {
                bad = 1;
                break;
            }
            vsg_mem_fail_after(n);
            rc = fns[f](out, v);
            vsg_mem_fail_after(-1);
            fclose(out);
            free(text);
            if (rc == VSG_OK) break;
            if (rc != VSG_ERR_NOMEM || len != 0) {
                fprintf(stderr, "  printer %zu, fail after %ld: %s, %zu bytes\n", f, n,
                        vsg_errname(rc), len);
                bad = 1;
                break;
            }
        }
        if (n == 100000) bad = 1;
    }
    cJSON_Delete(v);
    CHECK(!bad);
}

TEST_LIST = {
    {"secret", test_secret},
    {"source", test_source},
    {"empty_list", test_empty_list},
    {"quoting", test_quoting},
    {"multiline", test_multiline},
    {"nested", test_nested},
    {"roots", test_roots},
    {"numbers", test_numbers},
    {"odd_strings", test_odd_strings},
    {"errors", test_errors},
    {"nomem", test_nomem},
    {NULL, NULL},
};

TEST_MAIN()
