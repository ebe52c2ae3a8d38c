/*
 * test_filter_stage.c - the Lua filter stage (filter/filter_stage.h,
 * filter/filter_value.h): the event table and its lazy data, the round trip
 * of every golden fixture (decode -> table -> back -> encode equals the
 * original payload byte for byte, JSON and XML), transforms, fan-out ids,
 * the error policies, limits, hot-reload swaps.
 * Uses: spec/fixtures/events (VSG_EVENT_FIXTURES_DIR), plugins/.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <lauxlib.h>

#include "check.h"
#include "filter/filter_stage.h"
#include "filter/filter_value.h"
#include "filter/filter_watch.h"
#include "filter/record.h"
#include "event_fixture.h"
#include "lua_testutil.h"

#define MAX_EVENTS 64

/* ====================================================================
 * Helpers
 * ==================================================================== */

static struct vsg_filter_config test_cfg(void)
{
    struct vsg_filter_config cfg;

    memset(&cfg, 0, sizeof cfg);
    cfg.name = "test.filter";
    cfg.logger = "test.stage";
    cfg.root = VSG_SOURCE_DIR;
    return cfg;
}

/* Compiles `src` as filter.lua; fails the test on error. */
static struct vsg_filter_version *compile_cfg(const struct vsg_filter_config *cfg,
                                              const char *src)
{
    struct vsg_lua_source m = {"filter.lua", src, strlen(src)};
    struct vsg_error err;
    struct vsg_filter_version *v = vsg_filter_compile(cfg, &m, NULL, 0, "test", &err);

    if (v == NULL) CHECK_FAIL_("compile: %s", err.msg);
    return v;
}

static struct vsg_filter_version *compile(const char *src)
{
    struct vsg_filter_config cfg = test_cfg();
    return compile_cfg(&cfg, src);
}

/* Compiling `src` must fail; returns the message (static). */
static const char *compile_error(const char *src)
{
    static char msg[VSG_ERROR_MSG_MAX];
    struct vsg_filter_config cfg = test_cfg();
    struct vsg_lua_source m = {"filter.lua", src, strlen(src)};
    struct vsg_error err;
    struct vsg_filter_version *v = vsg_filter_compile(&cfg, &m, NULL, 0, "test", &err);

    if (v != NULL) {
        vsg_filter_version_free(v);
        CHECK_FAIL_("compile of a broken script succeeded");
    }
    snprintf(msg, sizeof msg, "%s", err.msg);
    return msg;
}

/* The sample event and its CloudEvent (JSON). */
struct sample {
    struct vsg_event ev;
    struct vsg_ce ce;
};

static void sample_init(struct sample *s)
{
    struct vsg_error err;

    vsg_ce_init(&s->ce);
    if (vsg_filter_sample(&s->ev, &s->ce, &err) != VSG_OK) CHECK_FAIL_("sample: %s", err.msg);
}

static void sample_cleanup(struct sample *s)
{
    vsg_event_cleanup(&s->ev);
    vsg_ce_cleanup(&s->ce);
}

/* Runs the sample through `src`; the result is left in *res. */
static void run_src(const char *src, struct vsg_filter_result *res)
{
    struct sample s;
    struct vsg_filter_version *v = compile(src);

    sample_init(&s);
    vsg_filter_result_init(res);
    vsg_filter_version_run(v, &s.ev, &s.ce, res);
    vsg_filter_version_free(v);
    sample_cleanup(&s);
}

/* The payload of result event i as a NUL-terminated string (static). */
static const char *data_of(const struct vsg_filter_result *r, size_t i)
{
    static char buf[1 << 16];
    if (i >= r->n) return "(no event)";
    if (r->ces[i].data == NULL) return "(no data)";
    snprintf(buf, sizeof buf, "%.*s", (int)r->ces[i].data_len, r->ces[i].data);
    return buf;
}

/* ====================================================================
 * Round trip of the golden fixtures
 * ==================================================================== */

/* Reads every value of data (so it is built) and returns the event. */
static const char *src_read_all =
    "local function walk(v)\n"
    "  if type(v) == 'table' then for _, x in pairs(v) do walk(x) end end\n"
    "end\n"
    "function filter(e) walk(e.data) return e end\n";

/* Copies the event shallowly (pairs builds data) and returns the copy. */
static const char *src_copy =
    "local util = require('filter.util')\n"
    "function filter(e) return util.copy(e) end\n";

/* Replaces every object of data by a copy (plain tables), in place: the
 * data table itself stays, so the copies are typed by the original. */
static const char *src_copy_fields =
    "local function copy(v)\n"
    "  if type(v) ~= 'table' then return v end\n"
    "  local c = {}\n"
    "  for k, x in pairs(v) do c[k] = copy(x) end\n"
    "  return c\n"
    "end\n"
    "function filter(e)\n"
    "  for k, v in pairs(e.data) do e.data[k] = copy(v) end\n"
    "  return e\n"
    "end\n";

/* Changes one base field (every event has ChangeTag): the conversion
 * path, where every other field must keep its exact encoding. */
static const char *src_change =
    "function filter(e) e.data.ChangeTag = 'changed' return e end\n";

static int rt_events, rt_fixtures, rt_failures;

/* Reports a payload that is not `want`. */
static void rt_fail(const char *name, size_t i, const char *what, const struct vsg_filter_result *res,
                    const char *want, size_t wlen, const char *got, size_t glen)
{
    size_t at = 0;

    while (got && at < wlen && at < glen && want[at] == got[at]) at++;
    fprintf(stderr, "FAIL %s event %zu (%s): outcome %d%s%s\n", name, i, what,
            res ? (int)res->outcome : -1, res && res->outcome == VSG_FILTER_ERROR ? ": " : "",
            res && res->outcome == VSG_FILTER_ERROR ? res->error.msg : "");
    if (got)
        fprintf(stderr, "  differs at byte %zu\n  want: %.160s\n  got:  %.160s\n", at,
                want + (at > 60 ? at - 60 : 0), got + (at > 60 ? at - 60 : 0));
    rt_failures++;
}

/* Arguments of convert_protected(). */
struct conv_args {
    const struct vsg_value *tree; /* Pushed, then converted back with itself as template. */
    struct vsg_value out;         /* The result. */
    int xml;                      /* New keys must be XML names. */
    int same;                     /* vsg_filter_value_same() of the pushed value. */
};

static int convert_protected(lua_State *L)
{
    struct conv_args *a = lua_touserdata(L, 1);
    vsg_filter_push_value(L, a->tree);
    a->same = vsg_filter_value_same(L, -1, a->tree);
    vsg_filter_to_value(L, -1, a->tree, &a->out, a->xml, "data");
    return 0;
}

/* Encodes `v` as the event payload (XML root = its type). */
static void encode(const struct vsg_value *v, const char *cls, int json, struct vsg_buf *b)
{
    vsg_buf_reset(b);
    if (json) CHECK_INT(vsg_value_encode_json(v, b), VSG_OK);
    else CHECK_INT(vsg_value_encode_xml(v, v->u.list.type ? v->u.list.type : cls, b), VSG_OK);
}

static void roundtrip_one(struct vsg_filter_version **vs, size_t nv, const char *name,
                          size_t i, struct vsg_event *ev, int json)
{
    /* Per script: the outcome, whether the original is sent as is. */
    static const struct {
        enum vsg_filter_outcome outcome;
        int original;
        int read;
    } want[] = {
        {VSG_FILTER_KEPT, 1, 0},    /* return e */
        {VSG_FILTER_KEPT, 1, 1},    /* reads everything */
        {VSG_FILTER_KEPT, 0, 1},    /* a copy (data shared, unchanged) */
        {VSG_FILTER_KEPT, 1, 1},    /* fields replaced by equal copies */
        {VSG_FILTER_CHANGED, 0, 1}, /* ChangeTag changed */
    };
    struct vsg_lua *st = lt_state(VSG_LUA_KIND_FILTER, 0, 0);
    struct vsg_value changed;
    struct vsg_value *tag;
    struct conv_args a;
    struct vsg_ce ce;
    struct vsg_error err;
    struct vsg_filter_result res;
    struct vsg_buf exp, got;
    const char *what = json ? "json" : "xml";

    vsg_ce_init(&ce);
    vsg_filter_result_init(&res);
    vsg_buf_init(&exp, 1 << 24);
    vsg_buf_init(&got, 1 << 24);
    memset(&changed, 0, sizeof changed);
    CHECK_INT(vsg_filter_build_ce(ev, "https://vc.example/sdk", "8.0", json, &ce, &err), VSG_OK);

    /* The converter itself: decode -> table -> back -> encode. */
    memset(&a, 0, sizeof a);
    a.tree = &ev->root;
    a.xml = !json;
    if (vsg_lua_cpcall(st, convert_protected, &a, 0, &err) != VSG_OK) {
        fprintf(stderr, "FAIL %s event %zu: convert: %s\n", name, i, err.msg);
        rt_failures++;
    } else {
        encode(&a.out, ev->class_name, json, &got);
        if (got.len != ce.data_len || memcmp(got.data, ce.data, got.len) != 0)
            rt_fail(name, i, "converter", NULL, ce.data, ce.data_len, got.data, got.len);
        if (!a.same) {
            fprintf(stderr, "FAIL %s event %zu: the pushed value is not the same\n", name, i);
            rt_failures++;
        }
    }
    vsg_value_cleanup(&a.out);
    vsg_lua_close(st);

    /* What ChangeTag = 'changed' must give: the tree with that field set. */
    CHECK_INT(vsg_filter_value_copy(&changed, &ev->root), VSG_OK);
    tag = vsg_value_field(&changed, "changeTag");
    if (tag) CHECK_INT(vsg_value_set_string(tag, "changed", 7), VSG_OK);
    encode(&changed, ev->class_name, json, &exp);

    for (size_t k = 0; k < nv; k++) {
        const struct vsg_ce *out;
        const char *w = k == 4 ? exp.data : ce.data;
        size_t wl = k == 4 ? exp.len : ce.data_len;
        char label[64];
        if (k == 4 && !tag) continue;
        snprintf(label, sizeof label, "%s, script %zu", what, k);
        vsg_filter_version_run(vs[k], ev, &ce, &res);
        out = vsg_filter_result_count(&res) == 1 ? vsg_filter_result_event(&res, &ce, 0) : NULL;
        if (res.outcome != want[k].outcome || out == NULL || out->data_len != wl ||
            memcmp(out->data, w, wl) != 0) {
            rt_fail(name, i, label, &res, w, wl, out ? out->data : NULL, out ? out->data_len : 0);
        } else if (res.original != want[k].original || res.read_data != want[k].read) {
            fprintf(stderr, "FAIL %s event %zu (%s): original %d read %d\n", name, i, label,
                    res.original, res.read_data);
            rt_failures++;
        }
    }
    vsg_value_cleanup(&changed);
    vsg_buf_cleanup(&exp);
    vsg_buf_cleanup(&got);
    vsg_filter_result_cleanup(&res);
    vsg_ce_cleanup(&ce);
}

static int rec_failures;

/* Writes the record of an event and reads it back: the same CloudEvent,
 * payload byte for byte. */
static void record_one(const xmlNode *node, const char *name, size_t i, struct vsg_event *ev,
                       int json)
{
    struct vsg_ce ce, back;
    struct vsg_event ev2;
    struct vsg_error err;
    FILE *f = tmpfile();
    static char line[1 << 20];
    size_t n;

    CHECK(f != NULL);
    vsg_ce_init(&ce);
    vsg_ce_init(&back);
    CHECK_INT(vsg_filter_build_ce(ev, "https://vc.example/sdk", "8.0", json, &ce, &err), VSG_OK);
    CHECK_INT(vsg_record_write(f, node, ev, &ce, &err), VSG_OK);
    rewind(f);
    n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    CHECK(n > 0 && line[n - 1] == '\n');
    if (vsg_record_read(line, n - 1, &ev2, &back, &err) != VSG_OK) {
        fprintf(stderr, "FAIL record %s event %zu: %s\n", name, i, err.msg);
        rec_failures++;
    } else {
        if (back.data_len != ce.data_len || memcmp(back.data, ce.data, ce.data_len) != 0 ||
            strcmp(back.id, ce.id) != 0 || strcmp(back.type, ce.type) != 0 ||
            strcmp(back.time, ce.time) != 0 || back.n_ext != ce.n_ext) {
            fprintf(stderr, "FAIL record %s event %zu (%s): not the same event\n", name, i,
                    json ? "json" : "xml");
            rec_failures++;
        }
        vsg_event_cleanup(&ev2);
    }
    vsg_ce_cleanup(&ce);
    vsg_ce_cleanup(&back);
}

static void roundtrip_fixture(struct vsg_filter_version **vs, size_t nv, const char *dir,
                              const char *file)
{
    char path[1024];
    xmlNode *nodes[MAX_EVENTS];
    size_t len, n;
    char *data;
    xmlDoc *doc;

    snprintf(path, sizeof path, "%s/%s", dir, file);
    data = evfx_read_file(path, &len);
    CHECK(data != NULL);
    doc = evfx_parse(data, len);
    vsg_free(data);
    CHECK(doc != NULL);
    n = evfx_events(doc, nodes, MAX_EVENTS);
    for (size_t i = 0; i < n && i < MAX_EVENTS; i++) {
        struct vsg_event ev;
        struct vsg_error err;
        if (vsg_event_decode(nodes[i], NULL, &ev, &err) != VSG_OK) continue;
        roundtrip_one(vs, nv, file, i, &ev, 1);
        roundtrip_one(vs, nv, file, i, &ev, 0);
        record_one(nodes[i], file, i, &ev, 1);
        record_one(nodes[i], file, i, &ev, 0);
        vsg_event_cleanup(&ev);
        rt_events++;
    }
    xmlFreeDoc(doc);
    rt_fixtures++;
}

static void test_roundtrip_fixtures(void)
{
    const char *srcs[] = {"function filter(e) return e end", src_read_all, src_copy,
                          src_copy_fields, src_change};
    struct vsg_filter_version *vs[5];
    const char *dir = VSG_EVENT_FIXTURES_DIR;
    DIR *d = opendir(dir);
    struct dirent *e;

    CHECK(d != NULL);
    for (size_t k = 0; k < 5; k++) vs[k] = compile(srcs[k]);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 9 && strcmp(e->d_name + l - 9, ".soap.xml") == 0)
            roundtrip_fixture(vs, 5, dir, e->d_name);
    }
    closedir(d);
    for (size_t k = 0; k < 5; k++) vsg_filter_version_free(vs[k]);
    printf("roundtrip: %d fixtures, %d events x {json, xml} x (converter + 5 scripts), %d failures\n",
           rt_fixtures, rt_events, rt_failures);
    printf("records: %d events x {json, xml} written and read back, %d failures\n", rt_events,
           rec_failures);
    CHECK(rt_fixtures >= 20);
    CHECK_INT(rt_failures, 0);
    CHECK_INT(rec_failures, 0);
}


/* ====================================================================
 * The event table
 * ==================================================================== */

static void test_event_table(void)
{
    struct vsg_filter_result res;

    run_src("function filter(e)\n"
            "  assert(rawget(e, 'id') == nil and rawget(e, 'type') == nil, 'fields are lazy')\n"
            "  assert(e.id == '23192', e.id)\n"
            "  assert(e.source == 'https://vcenter.example.com/sdk')\n"
            "  assert(e.type == 'com.vmware.vsphere.VmPoweredOnEvent.v0')\n"
            "  assert(e.time == '2021-09-27T19:02:54.063Z', e.time)\n"
            "  assert(e.datacontenttype == 'application/json')\n"
            "  assert(e.extensions.eventclass == 'event')\n"
            "  assert(e.extensions.vsphereapiversion == '8.0.3.0')\n"
            "  assert(rawget(e, 'data') == nil and rawget(e, 'id') == '23192', 'read fields stay')\n"
            "  local d = e.data\n"
            "  assert(rawget(e, 'data') == d and e.data == d, 'built once')\n"
            "  assert(math.type(d.Key) == 'integer' and d.Key == 23192)\n"
            "  assert(d.ChainId == 23182)\n"
            "  assert(d.CreatedTime == '2021-09-27T19:02:54.063Z')\n"
            "  assert(d.Vm.Name == 'DC0_C0_RP0_VM0')\n"
            "  assert(d.Vm.Vm.Type == 'VirtualMachine' and d.Vm.Vm.Value == 'vm-45')\n"
            "  assert(d.Ds == vsg.null and d.Net == vsg.null, 'absent values are vsg.null')\n"
            "  assert(d.Template == false and d.ChangeTag == '')\n"
            "  assert(getmetatable(e) == 'vsg.event')\n"
            "  return e\n"
            "end\n",
            &res);
    if (res.outcome == VSG_FILTER_ERROR) CHECK_FAIL_("%s", res.error.msg);
    CHECK_INT(res.outcome, VSG_FILTER_KEPT);
    CHECK_INT(res.read_data, 1);
    vsg_filter_result_cleanup(&res);
}

static void test_lazy_data(void)
{
    struct vsg_filter_result res;

    /* A type filter never builds data; the payload is the original. */
    run_src("function filter(e) if e.type:find('VmPowered') then return e end end", &res);
    CHECK_INT(res.outcome, VSG_FILTER_KEPT);
    CHECK_INT(res.read_data, 0);
    CHECK_INT(res.original, 1); /* nothing copied */
    vsg_filter_result_cleanup(&res);
    /* Touched but equal: still the original; a changed extension is not. */
    run_src("function filter(e) e.type = e.type .. '' local x = e.extensions e.extensions ="
            " {eventclass = 'event', vsphereapiversion = '8.0.3.0'} return e end", &res);
    CHECK_INT(res.outcome, VSG_FILTER_KEPT);
    CHECK_INT(res.original, 1);
    vsg_filter_result_cleanup(&res);
    /* Assigned before read: the full path, which still finds it equal. */
    run_src("function filter(e) e.source = 'https://vcenter.example.com/sdk' return e end", &res);
    CHECK_INT(res.outcome, VSG_FILTER_KEPT);
    CHECK_INT(res.original, 0);
    vsg_filter_result_cleanup(&res);
    run_src("function filter(e) e.extensions.eventclass = 'x' return e end", &res);
    CHECK_INT(res.outcome, VSG_FILTER_CHANGED);
    CHECK_INT(res.original, 0);
    vsg_filter_result_cleanup(&res);
    run_src("function filter(e) local t = e.time e.time = nil return e end", &res);
    CHECK_INT(res.outcome, VSG_FILTER_CHANGED);
    CHECK_STR(res.ces[0].time, NULL);
    vsg_filter_result_cleanup(&res);
    run_src("function filter(e) e.time = nil return e end", &res);
    CHECK_INT(res.outcome, VSG_FILTER_CHANGED);
    CHECK_STR(res.ces[0].time, NULL);

    vsg_filter_result_cleanup(&res);
    /* pairs() builds it, so a copy made with pairs carries it. */
    run_src("local util = require('filter.util')\n"
            "function filter(e) local c = util.copy(e) c.id = e.id .. 'c' return {e, c} end",
            &res);
    CHECK_INT(res.outcome, VSG_FILTER_FANOUT);
    CHECK_INT(res.n, 2);
    CHECK_STR(res.ces[0].id, "23192-1");
    CHECK_STR(res.ces[1].id, "23192c");
    CHECK_INT(res.ces[1].data_len, res.ces[0].data_len);
    CHECK(memcmp(res.ces[0].data, res.ces[1].data, res.ces[0].data_len) == 0);
    vsg_filter_result_cleanup(&res);
    /* Assigning data before reading it replaces it. */
    run_src("function filter(e) e.data = nil return e end", &res);
    CHECK_INT(res.outcome, VSG_FILTER_CHANGED);
    CHECK_STR(data_of(&res, 0), "(no data)");
    vsg_filter_result_cleanup(&res);
    /* vsg.json.encode sees the whole event, fields not read yet included
     * (issue 15 item 9); next() sees only what was read (documented). */
    run_src("function filter(e)\n"
            "  local t = vsg.json.decode(vsg.json.encode(e))\n"
            "  if not (t.id and t.type and t.source and t.data and t.data.Vm and t.extensions) then\n"
            "    error('encode saw ' .. vsg.json.encode(e))\n"
            "  end\n"
            "  return e\n"
            "end", &res);
    if (res.outcome == VSG_FILTER_ERROR) CHECK_FAIL_("%s", res.error.msg);
    CHECK_INT(res.outcome, VSG_FILTER_KEPT);
    vsg_filter_result_cleanup(&res);
    /* rawset takes effect too (issue 15 item 3): a redact filter written
     * with it must not send the payload it meant to remove. */
    run_src("function filter(e) rawset(e, 'data', {redacted = true}) return e end", &res);
    CHECK_INT(res.outcome, VSG_FILTER_CHANGED);
    CHECK_STR(data_of(&res, 0), "{\"Redacted\":true}"); /* Go field names */
    vsg_filter_result_cleanup(&res);
    run_src("function filter(e) rawset(e, 'type', 'x.y') rawset(e, 'data', nil) return e end", &res);
    CHECK_INT(res.outcome, VSG_FILTER_CHANGED);
    CHECK_STR(res.ces[0].type, "x.y");
    CHECK_STR(data_of(&res, 0), "(no data)");
    vsg_filter_result_cleanup(&res);
}

static void test_stale_event_table(void)
{
    struct sample s;
    struct vsg_filter_result res;
    struct vsg_filter_version *v =
        compile("local saved\n"
                "function filter(e)\n"
                "  if saved then assert(saved.data == nil, 'old data is gone') end\n"
                "  saved = e\n"
                "  return e\n"
                "end\n");

    sample_init(&s);
    vsg_filter_result_init(&res);
    for (int i = 0; i < 3; i++) {
        vsg_filter_version_run(v, &s.ev, &s.ce, &res);
        if (res.outcome == VSG_FILTER_ERROR) CHECK_FAIL_("%s", res.error.msg);
    }
    vsg_filter_result_cleanup(&res);
    vsg_filter_version_free(v);
    sample_cleanup(&s);
}

/* ====================================================================
 * Transforms
 * ==================================================================== */

static void test_transform(void)
{
    struct vsg_filter_result res;
    const char *d;

    run_src("function filter(e)\n"
            "  e.type = 'vm.started'\n"
            "  e.extensions.team = 'infra'\n"
            "  e.extensions.count = 3\n"
            "  e.data.Vm.Name = 'renamed'\n"
            "  e.data.UserName = nil\n"
            "  e.data.Host = nil\n"
            "  e.data.ChainId = 7.0\n"
            "  e.data.CreatedTime = '2024-01-02T03:04:05.5+02:00'\n"
            "  e.data.Added = {list = {1, 2}, ref = {Type = 'HostSystem', Value = 'h-1'}}\n"
            "  return e\n"
            "end\n",
            &res);
    if (res.outcome == VSG_FILTER_ERROR) CHECK_FAIL_("%s", res.error.msg);
    CHECK_INT(res.outcome, VSG_FILTER_CHANGED);
    CHECK_STR(res.ces[0].type, "vm.started");
    CHECK_STR(res.ces[0].id, "23192");
    CHECK_INT(res.ces[0].n_ext, 4);
    CHECK_STR(res.ces[0].ext[0].name, "eventclass");
    CHECK_STR(res.ces[0].ext[2].name, "count");
    CHECK_STR(res.ces[0].ext[2].value, "3");
    CHECK_STR(res.ces[0].ext[3].name, "team");
    d = data_of(&res, 0);
    CHECK_HAS(d, "{\"Key\":23192,\"ChainId\":7,\"CreatedTime\":\"2024-01-02T03:04:05.5+02:00\","
                 "\"UserName\":\"\",");
    CHECK_HAS(d, "\"Host\":null,\"Vm\":{\"Name\":\"renamed\",\"Vm\":{\"Type\":\"VirtualMachine\"");
    CHECK_HAS(d, "\"Template\":false,\"Added\":{\"List\":[1,2],\"Ref\":{\"Type\":\"HostSystem\","
                 "\"Value\":\"h-1\"}}}");
    vsg_filter_result_cleanup(&res);

    /* A string payload is sent as is. */
    run_src("function filter(e) e.data = 'hello' e.datacontenttype = 'text/plain' return e end",
            &res);
    CHECK_INT(res.outcome, VSG_FILTER_CHANGED);
    CHECK_STR(data_of(&res, 0), "hello");
    CHECK_STR(res.ces[0].datacontenttype, "text/plain");
    vsg_filter_result_cleanup(&res);

    /* Switching the encoding re-encodes the original tree. */
    run_src("function filter(e) e.datacontenttype = 'application/xml' return e end", &res);
    CHECK_INT(res.outcome, VSG_FILTER_CHANGED);
    CHECK_HAS(data_of(&res, 0), "<VmPoweredOnEvent><key>23192</key>");
    vsg_filter_result_cleanup(&res);

    /* XML: changed and new fields, under their xml names. */
    run_src("function filter(e)\n"
            "  e.datacontenttype = 'application/xml'\n"
            "  e.data.Vm.Name = 'a<b'\n"
            "  e.data.Extra = 'x'\n"
            "  return e\n"
            "end\n",
            &res);
    CHECK_INT(res.outcome, VSG_FILTER_CHANGED);
    CHECK_HAS(data_of(&res, 0), "<vm><name>a&lt;b</name><vm type=\"VirtualMachine\">vm-45</vm></vm>");
    CHECK_HAS(data_of(&res, 0), "<template>false</template><extra>x</extra></VmPoweredOnEvent>");
    vsg_filter_result_cleanup(&res);
}

static void test_bad_values(void)
{
    static const struct {
        const char *src;
        const char *want;
    } cases[] = {
        {"function filter(e) return 42 end", "the filter returned a number"},
        {"function filter(e) return {foo = 1} end", "neither an event"},
        {"function filter(e) e.id = '' return e end", "id must not be empty"},
        {"function filter(e) e.type = 5 return e end", "type must be a string (it is a number)"},
        {"function filter(e) e.time = 'yesterday' return e end", "RFC 3339"},
        {"function filter(e) e.extensions['Bad-Name'] = 'x' return e end", "Bad-Name"},
        {"function filter(e) e.extensions.x = {} return e end", "extension x is a table"},
        {"function filter(e) e.team = 'x' return e end", "unknown attribute 'team'"},
        {"function filter(e) e.eventclass = 'event' return e end", "unknown attribute 'eventclass'"},
        {"function filter(e) e.data.Vm.Name = print return e end",
         "data.Vm.Name: a function value cannot be sent"},
        {"function filter(e) e.data.X = 0/0 return e end", "data.X: NaN cannot be sent"},
        {"function filter(e) e.data.vm = 1 return e end", "same JSON name"},
        {"function filter(e) e.data.Vm[{}] = 1 return e end", "data.Vm: keys must be strings"},
        {"function filter(e) local t = {} t.t = t e.data.Loop = t return e end",
         "nested more than"},
        {"function filter(e) e.datacontenttype = 'text/plain' e.data.X = 1 return e end",
         "can only be sent as application/json or application/xml"},
        {"function filter(e) e.datacontenttype = 'application/xml' e.data['a b'] = 1 return e end",
         "not a valid XML element name"},
        {"function filter(e) return {e, 5} end", "element 2 of the returned array is a number"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct vsg_filter_result res;
        /* The dry run would reject these: run them through a script that
         * only misbehaves after the first event. */
        char src[1024];
        struct sample s;
        struct vsg_filter_version *v;
        snprintf(src, sizeof src,
                 "local n = 0\nlocal bad = (function() %s return filter end)()\n"
                 "function filter(e) n = n + 1 if n == 1 then return e end return bad(e) end\n",
                 cases[i].src);
        v = compile(src);
        sample_init(&s);
        vsg_filter_result_init(&res);
        vsg_filter_version_run(v, &s.ev, &s.ce, &res);
        CHECK_INT(res.outcome, VSG_FILTER_KEPT);
        vsg_filter_version_run(v, &s.ev, &s.ce, &res);
        if (res.outcome != VSG_FILTER_ERROR)
            CHECK_FAIL_("case %zu: outcome %d, want an error containing \"%s\"", i,
                        (int)res.outcome, cases[i].want);
        CHECK_INT(res.n, 0);
        CHECK_HAS(res.error.msg, cases[i].want);
        vsg_filter_result_cleanup(&res);
        vsg_filter_version_free(v);
        sample_cleanup(&s);
    }
}

/* ====================================================================
 * Outcomes, fan-out, policies, limits
 * ==================================================================== */

static void test_drop_and_fanout(void)
{
    struct vsg_filter_result res;

    run_src("function filter(e) return nil end", &res);
    CHECK_INT(res.outcome, VSG_FILTER_DROPPED);
    CHECK_INT(res.n, 0);
    vsg_filter_result_cleanup(&res);
    run_src("function filter(e) return false end", &res);
    CHECK_INT(res.outcome, VSG_FILTER_DROPPED);
    vsg_filter_result_cleanup(&res);
    run_src("function filter(e) return {} end", &res);
    CHECK_INT(res.outcome, VSG_FILTER_DROPPED);
    vsg_filter_result_cleanup(&res);

    run_src("function filter(e)\n"
            "  local other = {id = 'mine', source = e.source, type = 'x.y', data = {A = 1}}\n"
            "  return {e, false, other, e}\n"
            "end\n",
            &res);
    if (res.outcome == VSG_FILTER_ERROR) CHECK_FAIL_("%s", res.error.msg);
    CHECK_INT(res.outcome, VSG_FILTER_FANOUT);
    CHECK_INT(res.n, 3);
    CHECK_STR(res.ces[0].id, "23192-1");
    CHECK_STR(res.ces[1].id, "mine");
    CHECK_STR(res.ces[1].datacontenttype, "application/json");
    CHECK_STR(res.ces[2].id, "23192-4");
    CHECK_STR(data_of(&res, 1), "{\"A\":1}");
    vsg_filter_result_cleanup(&res);
}

/* A script that fails on its second call, in the way `how` says. */
static const char *failing_second(const char *how)
{
    static char src[1024];
    snprintf(src, sizeof src,
             "local n = 0\n"
             "function filter(e)\n"
             "  n = n + 1\n"
             "  if n == 2 then\n"
             "    %s\n"
             "  end\n"
             "  e.extensions.n = n\n"
             "  return e\n"
             "end\n",
             how);
    return src;
}

static void policy_case(enum vsg_filter_on_error pol, const char *how, const char *want)
{
    struct vsg_filter_config cfg = test_cfg();
    struct vsg_filter *f;
    struct vsg_filter_result res;
    struct vsg_filter_stats st;
    struct vsg_error err;
    struct sample s;
    const char *logs;

    cfg.on_error = pol;
    cfg.limits.time_ms = 5000;
    f = vsg_filter_new(&cfg, &err);
    CHECK(f != NULL);
    CHECK_INT(vsg_filter_ready(f), 0);
    vsg_filter_offer(f, compile_cfg(&cfg, failing_second(how)));
    CHECK_INT(vsg_filter_swap_pending(f), 1);
    CHECK_INT(vsg_filter_ready(f), 1);
    sample_init(&s);
    vsg_filter_result_init(&res);
    lt_logs_begin(VSG_LOG_LEVEL_WARN);
    for (int i = 1; i <= 3; i++) {
        CHECK_INT(vsg_filter_run(f, &s.ev, &s.ce, &res), VSG_OK);
        if (i == 2) {
            CHECK_INT(res.outcome, VSG_FILTER_ERROR);
            CHECK_HAS(res.error.msg, want);
            if (pol == VSG_FILTER_DELIVER) {
                /* The original, unchanged. */
                CHECK_INT(vsg_filter_result_count(&res), 1);
                CHECK(vsg_filter_result_event(&res, &s.ce, 0) == &s.ce);
            } else {
                CHECK_INT(vsg_filter_result_count(&res), 0);
            }
        } else {
            /* The next events run normally. */
            if (res.outcome == VSG_FILTER_ERROR) CHECK_FAIL_("event %d: %s", i, res.error.msg);
            CHECK_INT(res.outcome, VSG_FILTER_CHANGED);
            CHECK_STR(res.ces[0].ext[2].value, i == 1 ? "1" : "3");
        }
    }
    logs = lt_logs_end();
    CHECK_HAS(logs, "filter failed on event 23192");
    CHECK_HAS(logs, want);
    CHECK_HAS(logs, pol == VSG_FILTER_DROP ? "dropping it" : "delivering it unchanged");
    vsg_filter_stats(f, &st);
    CHECK_INT(st.events, 3);
    CHECK_INT(st.errors, 1);
    CHECK_INT(st.changed, 2);
    vsg_filter_result_cleanup(&res);
    sample_cleanup(&s);
    vsg_filter_free(f);
}

static void test_policies(void)
{
    policy_case(VSG_FILTER_DELIVER, "error('boom')", "filter.lua:5: boom");
    policy_case(VSG_FILTER_DROP, "error('boom')", "filter.lua:5: boom");
    /* Found after the filter ran, and still named after the script. */
    policy_case(VSG_FILTER_DELIVER, "return 'what'", "filter.lua: the filter returned a string");
    policy_case(VSG_FILTER_DROP, "return {id = 'x', source = 's', specversion = '1.0', type = 1}",
                "filter.lua: returned event: type must be a string");
}

/* A filter failing on every event writes 5 lines, then one summary of the
 * failures it held back (issue 15 item 7), and still counts them all. */
static void test_failure_lines_limited(void)
{
    struct vsg_filter_config cfg = test_cfg();
    struct vsg_filter *f;
    struct vsg_error err;
    struct sample s;
    struct vsg_filter_result res;
    struct vsg_filter_stats st;
    const char *logs, *p;
    int lines = 0;

    cfg.on_error = VSG_FILTER_DROP;
    f = vsg_filter_new(&cfg, &err);
    CHECK(f != NULL);
    vsg_filter_offer(f, compile_cfg(&cfg, "local n = 0 function filter(e) n = n + 1 "
                                        "if n > 1 then error('always') end return e end"));
    CHECK_INT(vsg_filter_swap_pending(f), 1);
    sample_init(&s);
    vsg_filter_result_init(&res);
    lt_logs_begin(VSG_LOG_LEVEL_WARN);
    for (int i = 0; i < 200; i++) CHECK_INT(vsg_filter_run(f, &s.ev, &s.ce, &res), VSG_OK);
    vsg_filter_log_stats(f);
    logs = lt_logs_end();
    for (p = logs; (p = strstr(p, "\"msg\":\"filter failed on event")) != NULL; p++) lines++;
    CHECK_INT(lines, 5);
    CHECK_HAS(logs, "more failures in the next minute are counted, not logged");
    CHECK_HAS(logs, "\"msg\":\"filter failed on 194 more events since the last lines, dropping it "
                    "(onError: drop); the last: filter.lua:1: always\",\"failures\":194");
    vsg_filter_stats(f, &st);
    CHECK_INT(st.errors, 199); /* The first passes (the dry run had a state of its own). */
    vsg_filter_result_cleanup(&res);
    sample_cleanup(&s);
    vsg_filter_free(f);
}

/* A filter that keeps growing its state fails from some point on; the
 * state is then rebuilt, and the next events run again (issue 15 item 4). */
static void test_state_reset(void)
{
    struct vsg_filter_config cfg = test_cfg();
    struct vsg_filter *f;
    struct vsg_error err;
    struct sample s;
    struct vsg_filter_result res;
    struct vsg_filter_stats st;
    const char *logs;
    int failed = 0, ok_after = 0;

    cfg.on_error = VSG_FILTER_DROP;
    cfg.limits.memory = 4u * 1024 * 1024;
    f = vsg_filter_new(&cfg, &err);
    CHECK(f != NULL);
    vsg_filter_offer(f, compile_cfg(&cfg, "kept = {}\n"
                                          "function filter(e)\n"
                                          "  kept[#kept + 1] = string.rep('x', 256 * 1024) .. #kept\n"
                                          "  return e\n"
                                          "end\n"));
    CHECK_INT(vsg_filter_swap_pending(f), 1);
    sample_init(&s);
    vsg_filter_result_init(&res);
    lt_logs_begin(VSG_LOG_LEVEL_WARN);
    for (int i = 0; i < 40; i++) {
        CHECK_INT(vsg_filter_run(f, &s.ev, &s.ce, &res), VSG_OK);
        if (res.outcome == VSG_FILTER_ERROR) {
            CHECK_HAS(res.error.msg, "memory limit exceeded");
            failed++;
        } else if (failed) {
            ok_after++;
        }
    }
    logs = lt_logs_end();
    vsg_filter_stats(f, &st);
    /* Each fill (about 14 events of 256 KiB in 4 MiB) ends in one failure
     * and a reset, never in a run of failures. */
    CHECK(failed >= 2 && failed <= 4);
    CHECK_INT((int)st.resets, failed);
    CHECK(ok_after >= 20);
    CHECK_HAS(logs, "filter state reset: after a memory limit failure it still held");
    vsg_filter_result_cleanup(&res);
    sample_cleanup(&s);
    vsg_filter_free(f);
}

static void test_limits(void)
{
    policy_case(VSG_FILTER_DELIVER, "while true do end", "instruction budget exceeded");
    policy_case(VSG_FILTER_DROP, "local s = string.rep('x', 1e9)", "memory limit exceeded");
    policy_case(VSG_FILTER_DELIVER, "local t = {} for i = 1, 1e9 do t[i] = {i} end",
                "limit exceeded");
    policy_case(VSG_FILTER_DROP, "local s = 'x' while true do s = s .. s end",
                "memory limit exceeded");
    /* What the returned events make the adapter hold counts too (issue 15
     * item 2): 250 events sharing one 4 MiB string cost the state 4 MiB,
     * but would cost the adapter 1 GiB. */
    policy_case(VSG_FILTER_DROP,
                "local big, out = string.rep('x', 4 * 1024 * 1024), {} "
                "for i = 1, 250 do out[i] = {id = tostring(i), source = 's', type = 't', "
                "datacontenttype = 'text/plain', data = big} end return out",
                "filter.lua: memory limit exceeded (16777216 bytes): the events returned so far hold");
}

/* ====================================================================
 * Compiling and checking versions
 * ==================================================================== */

static void test_compile_checks(void)
{
    CHECK_HAS(compile_error("function filter(e) return e"), "filter.lua:1:");
    CHECK_HAS(compile_error("local x = 1"), "no function 'filter'");
    CHECK_HAS(compile_error("error('at load')"), "filter.lua:1: at load");
    CHECK_HAS(compile_error("function filter(e) return e.data.Nope.Name end"),
              "dry run on a sample VmPoweredOnEvent: filter.lua:1: attempt to index");
    CHECK_HAS(compile_error("function filter(e) while true do end end"),
              "instruction budget exceeded");
    CHECK_HAS(compile_error("function filter(e) return 1 end"), "the filter returned a number");
    CHECK_HAS(compile_error("local t = require('nope') function filter(e) return e end"),
              "nope");
}

static void test_modules_and_plugins(void)
{
    struct vsg_filter_config cfg = test_cfg();
    const char *main = "local h = require('helpers')\n"
                       "local types = require('filter.types')\n"
                       "local keep = types.include{'VmPowered*'}\n"
                       "function filter(e) return h.tag(keep(e)) end\n";
    const char *helper = "return {tag = function(e) if e then e.extensions.tagged = 'yes' end "
                         "return e end}";
    struct vsg_lua_source m = {"filter.lua", main, strlen(main)};
    struct vsg_lua_source mod = {"helpers", helper, strlen(helper)};
    struct vsg_error err;
    struct vsg_filter_version *v = vsg_filter_compile(&cfg, &m, &mod, 1, "mods", &err);
    struct vsg_filter_result res;
    struct sample s;

    if (v == NULL) CHECK_FAIL_("%s", err.msg);
    CHECK_STR(vsg_filter_version_label(v), "mods");
    CHECK_INT(strlen(vsg_filter_version_hash(v)), 16);
    CHECK(vsg_filter_version_memory(v) > 0);
    sample_init(&s);
    vsg_filter_result_init(&res);
    vsg_filter_version_run(v, &s.ev, &s.ce, &res);
    if (res.outcome == VSG_FILTER_ERROR) CHECK_FAIL_("%s", res.error.msg);
    CHECK_INT(res.outcome, VSG_FILTER_CHANGED);
    CHECK_STR(res.ces[0].ext[2].value, "yes");
    vsg_filter_result_cleanup(&res);
    vsg_filter_version_free(v);
    sample_cleanup(&s);
}

/* ====================================================================
 * Hot reload: swaps between events
 * ==================================================================== */

/* A version that stamps extension v = `n`. */
static struct vsg_filter_version *stamp_version(int n)
{
    char src[256];
    snprintf(src, sizeof src, "function filter(e) e.extensions.v = '%d' return e end", n);
    return compile(src);
}

static const char *stamp_of(const struct vsg_filter_result *r)
{
    for (size_t i = 0; r->n > 0 && i < r->ces[0].n_ext; i++)
        if (strcmp(r->ces[0].ext[i].name, "v") == 0) return r->ces[0].ext[i].value;
    return "(none)";
}

static void test_swap_semantics(void)
{
    struct vsg_filter_config cfg = test_cfg();
    struct vsg_filter *f;
    struct vsg_filter_result res;
    struct vsg_error err;
    struct sample s;

    f = vsg_filter_new(&cfg, &err);
    CHECK(f != NULL);
    sample_init(&s);
    vsg_filter_result_init(&res);
    /* No version yet: the original, and the caller is told. */
    CHECK_INT(vsg_filter_run(f, &s.ev, &s.ce, &res), VSG_ERR_INVALIDSTATE);
    CHECK_INT(vsg_filter_result_count(&res), 1);
    CHECK(vsg_filter_result_event(&res, &s.ce, 0) == &s.ce);
    CHECK_INT(vsg_filter_swap_pending(f), 0);
    vsg_filter_offer(f, stamp_version(1));
    /* Offered is not in use until the event thread swaps. */
    CHECK_INT(vsg_filter_ready(f), 0);
    CHECK_INT(vsg_filter_swap_pending(f), 1);
    vsg_filter_run(f, &s.ev, &s.ce, &res);
    CHECK_STR(stamp_of(&res), "1");
    vsg_filter_offer(f, stamp_version(2));
    vsg_filter_run(f, &s.ev, &s.ce, &res);
    CHECK_STR(stamp_of(&res), "1");
    /* A newer offer replaces one not yet picked up. */
    vsg_filter_offer(f, stamp_version(3));
    CHECK_INT(vsg_filter_swap_pending(f), 1);
    CHECK_INT(vsg_filter_swap_pending(f), 0);
    vsg_filter_run(f, &s.ev, &s.ce, &res);
    CHECK_STR(stamp_of(&res), "3");
    vsg_filter_result_cleanup(&res);
    sample_cleanup(&s);
    vsg_filter_free(f);
}

struct offerer {
    struct vsg_filter *f; /* Where versions go. */
    int n;                /* How many to offer (1..n). */
};

static void *offer_thread(void *ud)
{
    struct offerer *o = ud;
    for (int i = 1; i <= o->n; i++) {
        vsg_filter_offer(o->f, stamp_version(i));
        usleep(200);
    }
    return NULL;
}

static void test_swap_concurrent(void)
{
    struct vsg_filter_config cfg = test_cfg();
    struct vsg_filter *f;
    struct vsg_filter_result res;
    struct vsg_error err;
    struct sample s;
    struct offerer o;
    pthread_t th;
    int last = 0, events = 0, distinct = 0;

    f = vsg_filter_new(&cfg, &err);
    CHECK(f != NULL);
    vsg_filter_offer(f, stamp_version(0));
    CHECK_INT(vsg_filter_swap_pending(f), 1);
    sample_init(&s);
    vsg_filter_result_init(&res);
    o.f = f;
    o.n = 100;
    CHECK_INT(pthread_create(&th, NULL, offer_thread, &o), 0);
    /* Events run while versions arrive; each sees exactly one version and
     * the versions only move forward. */
    while (last < o.n) {
        int v;
        vsg_filter_swap_pending(f);
        CHECK_INT(vsg_filter_run(f, &s.ev, &s.ce, &res), VSG_OK);
        CHECK_INT(res.outcome, VSG_FILTER_CHANGED);
        CHECK_INT(res.n, 1);
        v = atoi(stamp_of(&res));
        CHECK(v >= last);
        if (v > last) distinct++;
        last = v;
        events++;
    }
    pthread_join(th, NULL);
    printf("swap_concurrent: %d events, %d versions seen of %d offered\n", events, distinct, o.n);
    CHECK(distinct >= 2);
    vsg_filter_result_cleanup(&res);
    sample_cleanup(&s);
    vsg_filter_free(f);
}

static void test_record_generic(void)
{
    /* A hand-written record without "soap": rebuilt from data. */
    static const char line[] =
        "{\"id\":\"7\",\"source\":\"s\",\"type\":\"com.vmware.vsphere.VmPoweredOnEvent.v0\","
        "\"datacontenttype\":\"application/json\",\"eventclass\":\"event\","
        "\"data\":{\"Key\":7,\"Vm\":{\"Name\":\"a\",\"Vm\":{\"Type\":\"VirtualMachine\","
        "\"Value\":\"vm-1\"}},\"Ds\":null,\"List\":[1,2.5]}}";
    struct vsg_event ev;
    struct vsg_ce ce;
    struct vsg_error err;

    vsg_ce_init(&ce);
    if (vsg_record_read(line, sizeof line - 1, &ev, &ce, &err) != VSG_OK) CHECK_FAIL_("%s", err.msg);
    CHECK_STR(ev.class_name, "VmPoweredOnEvent");
    CHECK_INT(ev.key, 7);
    CHECK_STR(ce.ext[0].value, "event");
    CHECK_INT(ce.data_len, sizeof "{\"Key\":7,\"Vm\":{\"Name\":\"a\",\"Vm\":{\"Type\":\"VirtualMachine\","
                                  "\"Value\":\"vm-1\"}},\"Ds\":null,\"List\":[1,2.5]}" - 1);
    vsg_event_cleanup(&ev);
    vsg_ce_cleanup(&ce);
    CHECK(vsg_record_read("{\"id\":1}", 8, &ev, &ce, &err) != VSG_OK);
    CHECK_HAS(err.msg, "not a string");
    vsg_ce_cleanup(&ce);
}

/* ====================================================================
 * Hot reload of a file
 * ==================================================================== */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* Waits up to 5 s for the watcher to have accepted `n` versions. */
static int wait_accepted(struct vsg_filter_watch *w, unsigned long n)
{
    for (int i = 0; i < 500; i++) {
        if (vsg_filter_watch_accepted(w) >= n) return 1;
        usleep(10000);
    }
    return 0;
}

static void test_file_watch(void)
{
    char dir[] = "/tmp/vsg-filter-watch.XXXXXX", path[256];
    struct vsg_filter_config cfg = test_cfg();
    struct vsg_filter_watch_config wc;
    struct vsg_filter_watch *w;
    struct vsg_filter *f;
    struct vsg_filter_result res;
    struct vsg_error err;
    struct sample s;
    const char *logs;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/f.lua", dir);
    f = vsg_filter_new(&cfg, &err);
    CHECK(f != NULL);
    memset(&wc, 0, sizeof wc);
    wc.stage = f;
    wc.logger = "test.watch";
    wc.file = path;
    wc.poll_ms = 20;
    /* A broken file at start: refused, with the error. */
    write_file(path, "function filter(e) return e");
    CHECK(vsg_filter_watch_start(&wc, &err) == NULL);
    CHECK_HAS(err.msg, "f.lua:1:");
    /* A good one: loaded synchronously. */
    write_file(path, "function filter(e) e.extensions.v = '1' return e end\n");
    w = vsg_filter_watch_start(&wc, &err);
    if (w == NULL) CHECK_FAIL_("%s", err.msg);
    CHECK_INT(vsg_filter_watch_accepted(w), 1);
    CHECK_INT(vsg_filter_swap_pending(f), 1);
    sample_init(&s);
    vsg_filter_result_init(&res);
    vsg_filter_run(f, &s.ev, &s.ce, &res);
    CHECK_STR(stamp_of(&res), "1");
    lt_logs_begin(VSG_LOG_LEVEL_INFO);
    /* A change is picked up; a broken one is not; a deleted file keeps it. */
    write_file(path, "function filter(e) e.extensions.v = '2' return e end -- longer\n");
    CHECK(wait_accepted(w, 2));
    write_file(path, "function filter(e) error('no') end --- and longer still\n");
    usleep(200000);
    CHECK_INT(vsg_filter_watch_accepted(w), 2);
    unlink(path);
    usleep(200000);
    logs = lt_logs_end();
    CHECK_HAS(logs, "filter rejected (the previous one keeps running): dry run on a sample "
                    "VmPoweredOnEvent: f.lua:1: no");
    CHECK_HAS(logs, "No such file or directory; the last good filter keeps running");
    vsg_filter_swap_pending(f); /* the engine does, between events */
    vsg_filter_run(f, &s.ev, &s.ce, &res);
    CHECK_STR(stamp_of(&res), "2");
    /* Back again: loaded. */
    write_file(path, "function filter(e) e.extensions.v = '3' return e end\n");
    CHECK(wait_accepted(w, 3));
    vsg_filter_swap_pending(f);
    vsg_filter_run(f, &s.ev, &s.ce, &res);
    CHECK_STR(stamp_of(&res), "3");
    vsg_filter_watch_stop(w);
    vsg_filter_result_cleanup(&res);
    sample_cleanup(&s);
    vsg_filter_free(f);
    unlink(path);
    rmdir(dir);
}

TEST_LIST = {
    {"file_watch", test_file_watch},
    {"record_generic", test_record_generic},
    {"event_table", test_event_table},
    {"lazy_data", test_lazy_data},
    {"stale_event_table", test_stale_event_table},
    {"transform", test_transform},
    {"bad_values", test_bad_values},
    {"drop_and_fanout", test_drop_and_fanout},
    {"policies", test_policies},
    {"failure_lines_limited", test_failure_lines_limited},
    {"limits", test_limits},
    {"state_reset", test_state_reset},
    {"compile_checks", test_compile_checks},
    {"modules_and_plugins", test_modules_and_plugins},
    {"swap_semantics", test_swap_semantics},
    {"swap_concurrent", test_swap_concurrent},
    {"roundtrip_fixtures", test_roundtrip_fixtures},
    {NULL, NULL},
};
TEST_MAIN()
