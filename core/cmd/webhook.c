/*
 * cmd/webhook.c - see webhook.h.
 *
 * Threads: the server's pool (handlers; each takes a free Lua slot), the
 * informers' threads, one manager (certificates and, while leading, the
 * webhook configurations). The informers and the elector only wake the
 * manager (kick()); it alone uses the manager's client and discovery.
 */
#include "cmd/webhook.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/prom.h"
#include "base/url.h"
#include "base/vtime.h"
#include "cmd/certs.h"
#include "cmd/jsonpatch.h"
#include "cmd/uninstall.h"
#include "cmd/whrules.h"
#include "http/server.h"
#include "kube/cache.h"
#include "kube/client.h"
#include "kube/discovery.h"
#include "kube/informer.h"
#include "kube/strmap.h"
#include "lua/host.h"
#include "lua/json.h"
#include "lua/script.h"

#define LOGGER "vsgate.webhook"
#define MAX_BODY (3u * 1024 * 1024)
/* Idle keep-alive connections live longer than kube-apiserver's own 90 s
 * idle timeout, so that the apiserver closes them, never we: a connection
 * closed under a request the apiserver is writing fails that request (EOF,
 * and admission requests are not retried). */
#define IDLE_TIMEOUT_S 120
/* How long start waits for usable certificates (a replica that does not
 * lead waits for the leader to write them). */
#define START_CERTS_MS 60000
/* First retry after a failed pass (doubling up to the check period). */
#define RETRY_MIN_MS 1000
/* The selection labels of psbinding (upstream.md §6.3). */
#define VSG_WH_INCLUDE_LABEL "bindings.knative.dev/include"
#define VSG_WH_EXCLUDE_LABEL "bindings.knative.dev/exclude"

/* The main chunk of every admission state. */
static const char driver_src[] =
    "local vss = require 'admission.vspheresource'\n"
    "local vsb = require 'admission.vspherebinding'\n"
    "local bind = require 'binding.vsphere'\n"
    "local M = {}\n"
    "local function mod_of(req)\n"
    "  local k = type(req.kind) == 'table' and req.kind.kind or req.kind\n"
    "  if k == 'VSphereSource' then return vss elseif k == 'VSphereBinding' then return vsb end\n"
    "end\n"
    "local function ctx_of(req)\n"
    "  return { namespace = req.namespace, operation = req.operation,\n"
    "           subresource = req.subResource or '', filter_max = M.filter_max }\n"
    "end\n"
    "function M.defaulting(req, obj)\n"
    "  local m = mod_of(req)\n"
    "  if m and type(obj) == 'table' then m.default(obj, ctx_of(req)) end\n"
    "  return obj\n"
    "end\n"
    "function M.validate(req, obj, old)\n"
    "  local m = mod_of(req)\n"
    "  if not m or type(obj) ~= 'table' then return nil end\n"
    "  local errs = m.validate(obj, type(old) == 'table' and old or nil, ctx_of(req))\n"
    "  if errs and #errs > 0 then return m.format(errs) end\n"
    "  return nil\n"
    "end\n"
    "function M.bind(req, obj, bindings, ns_labels, mode)\n"
    "  if type(obj) ~= 'table' or (req.operation ~= 'CREATE' and req.operation ~= 'UPDATE') then\n"
    "    return obj\n"
    "  end\n"
    "  local md = type(obj.metadata) == 'table' and obj.metadata or {}\n"
    "  if not bind.selection(md.labels, ns_labels, mode) then return obj end\n"
    "  if not bind.podspec(obj) then return obj end\n"
    "  local had_md, had_ns = obj.metadata, md.namespace\n"
    "  obj.metadata = md\n"
    "  if type(md.namespace) ~= 'string' or md.namespace == '' then md.namespace = req.namespace end\n"
    "  local todo = {}\n"
    "  for _, b in ipairs(bindings or {}) do\n"
    "    if bind.subject_matches(b, obj) then todo[#todo + 1] = b end\n"
    "  end\n"
    "  md.namespace = had_ns\n"
    "  obj.metadata = had_md\n"
    "  for _, b in ipairs(todo) do\n"
    "    local bmd = type(b.metadata) == 'table' and b.metadata or {}\n"
    "    if type(bmd.deletionTimestamp) == 'string' then bind.undo_binding(obj, b)\n"
    "    else bind.do_binding(obj, b) end\n"
    "  end\n"
    "  return obj\n"
    "end\n"
    "return M\n";

/* Metrics: the webhook's paths and what a request came to (ours). */
#define NPATHS 4
static const char *const path_names[NPATHS] = {"/defaulting", "/resource-validation", "/vspherebindings",
                                               "/uninstall"};
enum result { RES_ALLOWED, RES_DENIED, RES_ERROR, RES__N };
static const char *const result_names[RES__N] = {"allowed", "denied", "error"};
/* Request latency buckets (ours), seconds. */
static const double lat_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define NLAT (sizeof lat_buckets / sizeof lat_buckets[0])
/* Knative's request_latencies buckets (knative pkg webhook: Buckets125(1,
 * 100000)), milliseconds. */
static const double kn_buckets[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000};
#define NKN (sizeof kn_buckets / sizeof kn_buckets[0])
/* Knative's tags, in the order its Prometheus exporter sorts them. */
static const char *const kn_tags[] = {"admission_allowed", "kind_group",         "kind_kind",
                                      "kind_version",      "request_operation",  "resource_group",
                                      "resource_namespace", "resource_resource", "resource_version"};
#define NKNTAGS (sizeof kn_tags / sizeof kn_tags[0])
/* Rows of Knative's request_count; beyond, resource_namespace "other". */
#define KN_ROWS_MAX 4096

/* One row of Knative's request_count and request_latencies. */
struct kn_row {
    uint64_t count;            /* request_count. */
    uint64_t hist[NKN + 1];    /* request_latencies, per bucket. */
    double sum_ms;             /* Its sum. */
};

/* One Lua state and its override generation. */
struct slot {
    struct vsg_lua_script *script;
    uint64_t ovr_gen;     /* Overrides generation tried last. */
    int busy;
};

struct vsg_webhook {
    struct vsg_webhook_opts o;
    char *system_ns, *lua_root, *search_path, *addr, *url_base, *mode, *service;
    struct vsg_kube_client *client;      /* The manager's client (and start's, stop's). */
    struct vsg_kube_discovery *disco;    /* Resources of the bindings' subject kinds. */
    struct vsg_kube_informer *binf;      /* VSphereBindings, all namespaces. */
    struct vsg_kube_informer *nsinf;     /* Namespaces. */
    struct vsg_kube_informer *secinf;    /* Secret vsphere-webhook-certs. */
    struct vsg_http_server *srv;
    struct slot *slots;
    size_t nslots;
    pthread_mutex_t smu;                 /* Guards slots' busy flags. */
    pthread_cond_t scond;
    /* Certificates (cmu). */
    pthread_mutex_t cmu;
    pthread_cond_t ccond;
    struct vsg_certs certs;              /* In use. */
    int stopping, started, mgr_started;
    int kicked;                          /* Something changed: a pass now. */
    int hooked;                          /* Told of leadership changes. */
    pthread_t mgr;
    char *certs_why;                     /* Why the Secret was not usable, last
                                            logged (manager's). */
    char *skip_why;                      /* Why subject kinds were left out of
                                            the rules, last logged (manager's). */
    unsigned long n_requests, n_denied, n_errors, n_rotations;
    /* Metrics (mmu). */
    pthread_mutex_t mmu;
    uint64_t by_result[NPATHS][RES__N];  /* vsgate_webhook_requests_total. */
    uint64_t lat[NPATHS][NLAT + 1];      /* vsgate_webhook_request_duration_seconds. */
    double lat_sum[NPATHS];
    struct vsg__strmap kn_rows;          /* Knative's tag values joined by US (0x1f) -> struct kn_row. */
};

/* ====================================================================
 * Names of the serving certificate
 * ==================================================================== */

struct names_buf {
    char dns[4][256];
    const char *dnsp[5];
    const char *ips[1];
    char cn[256];
    struct vsg_certs_names n;
};

static void make_names(struct vsg_webhook *wh, struct names_buf *b)
{
    const char *ns = wh->system_ns, *svc = wh->service;
    snprintf(b->dns[0], sizeof b->dns[0], "%s", svc);
    snprintf(b->dns[1], sizeof b->dns[1], "%s.%s", svc, ns);
    snprintf(b->dns[2], sizeof b->dns[2], "%s.%s.svc", svc, ns);
    snprintf(b->dns[3], sizeof b->dns[3], "%s.%s.svc.cluster.local", svc, ns);
    snprintf(b->cn, sizeof b->cn, "%s.%s.svc", svc, ns);
    for (int i = 0; i < 4; i++) b->dnsp[i] = b->dns[i];
    b->n.cn = b->cn;
    b->n.dns = b->dnsp;
    b->n.ndns = 4;
    b->n.ips = b->ips;
    b->n.nips = 0;
    if (wh->url_base) {
        b->dnsp[4] = "localhost";
        b->n.ndns = 5;
        b->ips[0] = "127.0.0.1";
        b->n.nips = 1;
    }
}

/* ====================================================================
 * Lua slots
 * ==================================================================== */

struct check_args {
    const struct vsg_lua_script *cand; /* The candidate version. */
    const struct vsg_webhook *wh;      /* Its settings. */
};

static int check_protected(lua_State *L)
{
    const struct check_args *ca = lua_touserdata(L, 1);
    const struct vsg_lua_script *cand = ca->cand;
    static const char sample_src[] =
        "{\"apiVersion\":\"sources.tanzu.vmware.com/v1alpha1\",\"kind\":\"VSphereSource\","
        "\"metadata\":{\"name\":\"s\",\"namespace\":\"ns\"},\"spec\":{\"address\":\"https://vc\","
        "\"secretRef\":{\"name\":\"c\"},\"sink\":{\"uri\":\"http://x\"}}}";
    static const char sample_dep[] =
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\","
        "\"namespace\":\"ns\"},\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}}}";
    static const char sample_binding[] =
        "[{\"apiVersion\":\"sources.tanzu.vmware.com/v1alpha1\",\"kind\":\"VSphereBinding\","
        "\"metadata\":{\"name\":\"b\",\"namespace\":\"ns\"},\"spec\":{\"address\":\"https://vc\","
        "\"secretRef\":{\"name\":\"c\"},\"subject\":{\"apiVersion\":\"apps/v1\",\"kind\":"
        "\"Deployment\",\"name\":\"d\",\"namespace\":\"ns\"}}}]";
    struct vsg_error e;
    lua_settop(L, 0);
    if (vsg_lua_script_push_module(cand) != VSG_OK || !lua_istable(L, 1))
        return luaL_error(L, "the admission driver returned no table");
    static const char *const fns[] = {"defaulting", "validate", "bind"};
    for (int i = 0; i < 3; i++) {
        if (lua_getfield(L, 1, fns[i]) != LUA_TFUNCTION)
            return luaL_error(L, "the admission driver has no function %s", fns[i]);
        lua_pop(L, 1);
    }
    /* What validation bounds spec.filter.limits by. */
    vsg_lua_limits_push(L, &ca->wh->o.filter_max);
    lua_setfield(L, 1, "filter_max");
    /* A dry run of each handler on samples. */
    for (int i = 0; i < 3; i++) {
        lua_getfield(L, 1, fns[i]);
        lua_createtable(L, 0, 4);
        lua_pushstring(L, "CREATE");
        lua_setfield(L, -2, "operation");
        lua_pushstring(L, "ns");
        lua_setfield(L, -2, "namespace");
        lua_createtable(L, 0, 1);
        lua_pushstring(L, i == 2 ? "Deployment" : "VSphereSource");
        lua_setfield(L, -2, "kind");
        lua_setfield(L, -2, "kind");
        const char *o = i == 2 ? sample_dep : sample_src;
        if (vsg_lua_json_decode(L, o, strlen(o), &e) != VSG_OK) return luaL_error(L, "%s", e.msg);
        if (i == 2) {
            if (vsg_lua_json_decode(L, sample_binding, strlen(sample_binding), &e) != VSG_OK)
                return luaL_error(L, "%s", e.msg);
            lua_newtable(L);
            lua_pushstring(L, "exclusion");
            lua_call(L, 5, 1);
            if (!lua_istable(L, -1)) return luaL_error(L, "bind returned no object on a sample");
        } else {
            lua_pushnil(L);
            lua_call(L, 3, 1);
            if (i == 0 && !lua_istable(L, -1))
                return luaL_error(L, "defaulting returned no object on a sample");
            if (i == 1 && !lua_isnil(L, -1))
                return luaL_error(L, "validate rejected a valid sample: %s", luaL_tolstring(L, -1, NULL));
        }
        lua_settop(L, 1);
    }
    lua_settop(L, 0);
    return 0;
}

static enum vsg_err check(const struct vsg_lua_script *cand, void *ud, struct vsg_error *err)
{
    struct check_args ca = {cand, ud};
    return vsg_lua_cpcall(vsg_lua_script_state(cand), check_protected, &ca, 0, err);
}

/* Brings a slot to the overrides in effect (only ever to a version that
 * passed the check). */
static void refresh_slot(struct vsg_webhook *wh, struct slot *s, int first)
{
    struct vsg_lua_source main = {"=webhook", driver_src, sizeof driver_src - 1};
    struct vsg_lua_source *mods = NULL;
    size_t n = 0;
    uint64_t gen = 0;
    struct vsg_error err;
    vsg_error_clear(&err);
    if (wh->o.ctl) {
        if (!first && vsg_ctl_overrides_gen(wh->o.ctl) == s->ovr_gen) return;
        if (vsg_ctl_overrides(wh->o.ctl, &gen, &mods, &n) != VSG_OK) return;
    }
    s->ovr_gen = gen;
    uint64_t before = vsg_lua_script_version(s->script);
    enum vsg_err rc = vsg_lua_script_update(s->script, &main, mods, n, check, wh, &err);
    if (rc != VSG_OK) {
        VSG_LOG_ERROR(LOGGER, "Lua overrides rejected by the webhook, the previous code keeps "
                              "serving: %s", err.msg);
        if (first && vsg_lua_script_version(s->script) == 0)
            (void)vsg_lua_script_update(s->script, &main, NULL, 0, check, wh, &err);
    } else if (before && vsg_lua_script_version(s->script) != before) {
        VSG_LOG_INFO(LOGGER, "webhook Lua code reloaded (hash %s)", vsg_lua_script_hash(s->script));
    }
    vsg_ctl_free_sources(mods, n);
}

static struct slot *take_slot(struct vsg_webhook *wh)
{
    pthread_mutex_lock(&wh->smu);
    for (;;) {
        for (size_t i = 0; i < wh->nslots; i++)
            if (!wh->slots[i].busy) {
                wh->slots[i].busy = 1;
                pthread_mutex_unlock(&wh->smu);
                refresh_slot(wh, &wh->slots[i], 0);
                return &wh->slots[i];
            }
        pthread_cond_wait(&wh->scond, &wh->smu);
    }
}

static void give_slot(struct vsg_webhook *wh, struct slot *s)
{
    pthread_mutex_lock(&wh->smu);
    s->busy = 0;
    pthread_cond_signal(&wh->scond);
    pthread_mutex_unlock(&wh->smu);
}

/* ====================================================================
 * Calling Lua
 * ==================================================================== */

enum route { R_DEFAULTING, R_VALIDATION, R_BINDINGS };

struct call {
    struct slot *slot;
    enum route route;
    const cJSON *req;           /* request. */
    const char *obj, *old;      /* JSON texts (old may be NULL). */
    const char *bindings;       /* JSON array text (R_BINDINGS). */
    const char *ns_labels;      /* JSON object text or NULL. */
    const char *mode;
    struct vsg_buf out;         /* The object after (mutating routes). */
    char msg[4096];             /* Denial message (validation). */
    int denied;
};

static void push_str_field(lua_State *L, const cJSON *req, const char *k)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, k));
    if (v) {
        lua_pushstring(L, v);
        lua_setfield(L, -2, k);
    }
}

static int call_protected(lua_State *L)
{
    struct call *c = lua_touserdata(L, 1);
    struct vsg_error e;
    static const char *const fns[] = {"defaulting", "validate", "bind"};
    lua_settop(L, 0);
    if (vsg_lua_script_push_module(c->slot->script) != VSG_OK) return luaL_error(L, "no module");
    lua_getfield(L, 1, fns[c->route]);
    /* req */
    lua_createtable(L, 0, 6);
    push_str_field(L, c->req, "operation");
    push_str_field(L, c->req, "namespace");
    push_str_field(L, c->req, "name");
    push_str_field(L, c->req, "subResource");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(c->req, "kind");
    lua_createtable(L, 0, 3);
    if (cJSON_IsObject(kind)) {
        push_str_field(L, kind, "group");
        push_str_field(L, kind, "version");
        push_str_field(L, kind, "kind");
    }
    lua_setfield(L, -2, "kind");
    if (vsg_lua_json_decode(L, c->obj, strlen(c->obj), &e) != VSG_OK)
        return luaL_error(L, "request.object: %s", e.msg);
    int nargs = 2;
    if (c->route == R_VALIDATION) {
        if (c->old) {
            if (vsg_lua_json_decode(L, c->old, strlen(c->old), &e) != VSG_OK)
                return luaL_error(L, "request.oldObject: %s", e.msg);
        } else {
            lua_pushnil(L);
        }
        nargs = 3;
    } else if (c->route == R_BINDINGS) {
        if (vsg_lua_json_decode(L, c->bindings, strlen(c->bindings), &e) != VSG_OK)
            return luaL_error(L, "bindings: %s", e.msg);
        if (c->ns_labels) {
            if (vsg_lua_json_decode(L, c->ns_labels, strlen(c->ns_labels), &e) != VSG_OK)
                return luaL_error(L, "namespace labels: %s", e.msg);
        } else {
            lua_newtable(L);
        }
        lua_pushstring(L, c->mode);
        nargs = 5;
    }
    lua_call(L, nargs, 1);
    if (c->route == R_VALIDATION) {
        if (!lua_isnil(L, -1)) {
            c->denied = 1;
            snprintf(c->msg, sizeof c->msg, "%s", luaL_tolstring(L, -1, NULL));
        }
    } else {
        if (!lua_istable(L, -1)) return luaL_error(L, "%s returned no object", fns[c->route]);
        if (vsg_lua_json_encode(L, -1, &c->out, &e) != VSG_OK)
            return luaL_error(L, "encoding the object: %s", e.msg);
    }
    lua_settop(L, 0);
    return 0;
}

/* ====================================================================
 * Bindings and namespaces (informer caches)
 * ==================================================================== */

static int collect(void *ud, const cJSON *obj)
{
    cJSON *arr = ud;
    cJSON *d = cJSON_Duplicate(obj, 1);
    if (d) cJSON_AddItemToArray(arr, d);
    return 0;
}

/* ====================================================================
 * Metrics
 * ==================================================================== */

/* The Knative row of AdmissionRequest `req` answered `allowed`; NULL when
 * out of memory. Under mmu. */
static struct kn_row *kn_row_of(struct vsg_webhook *wh, const cJSON *req, int allowed)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(req, "kind");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(req, "resource");
    const char *v[NKNTAGS] = {
        allowed ? "true" : "false",
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(kind, "group")),
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(kind, "kind")),
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(kind, "version")),
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "operation")),
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "group")),
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "namespace")),
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "resource")),
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "version")),
    };
    struct vsg_buf key;
    struct kn_row *row = NULL;
    vsg_buf_init(&key, 4096);
    for (int pass = 0; pass < 2 && !row; pass++) {
        vsg_buf_reset(&key);
        enum vsg_err rc = VSG_OK;
        for (size_t i = 0; i < NKNTAGS && rc == VSG_OK; i++) {
            const char *t = pass && i == 6 ? "other" : v[i] ? v[i] : "";
            if (i) rc = vsg_buf_putc(&key, '\x1f');
            for (; rc == VSG_OK && *t; t++) rc = vsg_buf_putc(&key, *t == '\x1f' ? ' ' : *t);
        }
        if (rc != VSG_OK) break;
        if ((row = vsg__strmap_get(&wh->kn_rows, key.data))) break;
        if (!pass && wh->kn_rows.len >= KN_ROWS_MAX) continue;
        if (!(row = vsg_calloc(1, sizeof *row))) break;
        if (vsg__strmap_put(&wh->kn_rows, key.data, row, NULL) != VSG_OK) {
            vsg_free(row);
            row = NULL;
            break;
        }
    }
    vsg_buf_cleanup(&key);
    return row;
}

/* Counts one request of `path` that came to `res`, since `t0`; with
 * `req` (an AdmissionRequest that was answered), Knative's series too. */
static void record(struct vsg_webhook *wh, int path, enum result res, const cJSON *req, int allowed,
                   const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
    pthread_mutex_lock(&wh->mmu);
    wh->by_result[path][res]++;
    wh->lat[path][vsg_prom_bucket(lat_buckets, NLAT, secs)]++;
    wh->lat_sum[path] += secs;
    struct kn_row *k = req ? kn_row_of(wh, req, allowed) : NULL;
    if (k) {
        /* Knative records whole milliseconds (Duration.Milliseconds()). */
        double ms = (double)(int64_t)(secs * 1000.0);
        k->count++;
        k->hist[vsg_prom_bucket(kn_buckets, NKN, ms)]++;
        k->sum_ms += ms;
    }
    pthread_mutex_unlock(&wh->mmu);
}

enum vsg_err vsg_webhook_metrics(struct vsg_webhook *wh, struct vsg_buf *o)
{
    enum vsg_err rc = VSG_OK;
    struct vsg_buf labels;
    vsg_buf_init(&labels, 8192);
#define P(...) do { if (rc == VSG_OK) rc = vsg_buf_printf(o, __VA_ARGS__); } while (0)
#define FAM(n, t, h) do { if (rc == VSG_OK) rc = vsg_prom_family(o, n, t, h); } while (0)
    pthread_mutex_lock(&wh->mmu);
    FAM("vsgate_webhook_requests_total", "counter", "Admission requests by path and result.");
    for (int p = 0; p < NPATHS; p++)
        for (int r = 0; r < RES__N; r++)
            P("vsgate_webhook_requests_total{path=\"%s\",result=\"%s\"} %llu\n", path_names[p], result_names[r],
              (unsigned long long)wh->by_result[p][r]);
    FAM("vsgate_webhook_request_duration_seconds", "histogram", "Admission request latency by path.");
    for (int p = 0; p < NPATHS && rc == VSG_OK; p++) {
        vsg_buf_reset(&labels);
        rc = vsg_prom_label(&labels, 0, "path", path_names[p]);
        if (rc == VSG_OK)
            rc = vsg_prom_histogram(o, "vsgate_webhook_request_duration_seconds", labels.data, lat_buckets, NLAT,
                                    wh->lat[p], wh->lat_sum[p]);
    }
    /* Knative's (knative pkg webhook), under the controller's component. */
    for (int fam = 0; fam < 2 && wh->kn_rows.len && rc == VSG_OK; fam++) {
        if (fam == 0) FAM(VSG_CTL_METRICS_COMPONENT "_request_count", "counter",
                          "The number of requests that are routed to webhook");
        else FAM(VSG_CTL_METRICS_COMPONENT "_request_latencies", "histogram", "The response time in milliseconds");
        for (size_t j = 0; j < wh->kn_rows.cap && rc == VSG_OK; j++) {
            const char *key = wh->kn_rows.slots[j].key;
            const struct kn_row *k = wh->kn_rows.slots[j].val;
            if (!key) continue;
            vsg_buf_reset(&labels);
            char v[1024];
            for (size_t i = 0; i < NKNTAGS && rc == VSG_OK; i++) {
                size_t n = strcspn(key, "\x1f");
                snprintf(v, sizeof v, "%.*s", (int)n, key);
                rc = vsg_prom_label(&labels, i > 0, kn_tags[i], v);
                key += key[n] ? n + 1 : n;
            }
            if (fam == 0)
                P(VSG_CTL_METRICS_COMPONENT "_request_count{%s} %llu\n", labels.data, (unsigned long long)k->count);
            else if (rc == VSG_OK)
                rc = vsg_prom_histogram(o, VSG_CTL_METRICS_COMPONENT "_request_latencies", labels.data, kn_buckets, NKN,
                                        k->hist, k->sum_ms);
        }
    }
    pthread_mutex_unlock(&wh->mmu);
#undef FAM
#undef P
    vsg_buf_cleanup(&labels);
    return rc;
}

/* ====================================================================
 * Handlers
 * ==================================================================== */

static enum vsg_err reply(struct vsg_http_resp *rs, const char *uid, int allowed, const char *patch64,
                          int code, const char *reason, const char *msg)
{
    cJSON *r = cJSON_CreateObject(), *resp;
    enum vsg_err rc = VSG_ERR_NOMEM;
    char *t = NULL;
    if (!r || !cJSON_AddStringToObject(r, "apiVersion", "admission.k8s.io/v1") ||
        !cJSON_AddStringToObject(r, "kind", "AdmissionReview") ||
        !(resp = cJSON_AddObjectToObject(r, "response")) ||
        !cJSON_AddStringToObject(resp, "uid", uid) || !cJSON_AddBoolToObject(resp, "allowed", allowed))
        goto done;
    if (patch64 && (!cJSON_AddStringToObject(resp, "patchType", "JSONPatch") ||
                    !cJSON_AddStringToObject(resp, "patch", patch64)))
        goto done;
    if (!allowed) {
        cJSON *st = cJSON_AddObjectToObject(resp, "status");
        if (!st || !cJSON_AddObjectToObject(st, "metadata") ||
            !cJSON_AddStringToObject(st, "status", "Failure") ||
            !cJSON_AddStringToObject(st, "message", msg) ||
            !cJSON_AddStringToObject(st, "reason", reason) || !cJSON_AddNumberToObject(st, "code", code))
            goto done;
    }
    if (!(t = cJSON_PrintUnformatted(r))) goto done;
    rs->status = 200;
    vsg_buf_reset(&rs->body);
    if ((rc = vsg_http_resp_header(rs, "Content-Type", "application/json")) == VSG_OK)
        rc = vsg_buf_puts(&rs->body, t);
done:
    if (t) cJSON_free(t);
    cJSON_Delete(r);
    return rc;
}

static enum vsg_err admit(struct vsg_webhook *wh, enum route route, const struct vsg_http_req *rq,
                          struct vsg_http_resp *rs)
{
    struct vsg_webhook_review rv;
    enum vsg_err drc = vsg_webhook_review_decode(rq->body, rq->body_len, 1, &rv);
    cJSON *after = NULL, *ops = NULL;
    const cJSON *req = rv.request, *object = rv.object, *old = rv.old;
    const char *uid = rv.uid;
    char *obj_text = NULL, *old_text = NULL, *bind_text = NULL, *labels_text = NULL, *patch_text = NULL;
    char *patch64 = NULL;
    struct call c;
    struct vsg_error err;
    enum vsg_err rc = VSG_OK;
    enum result res = RES_ALLOWED; /* What the answer says, once there is one. */
    int answered = 0;              /* An AdmissionReview answer was built. */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&c, 0, sizeof c);
    vsg_buf_init(&c.out, MAX_BODY * 2);
    __atomic_add_fetch(&wh->n_requests, 1, __ATOMIC_RELAXED);
    if (drc != VSG_OK) {
        rc = drc == VSG_ERR_NOMEM ? drc : vsg_http_resp_text(rs, 400, "text/plain",
                                "expected an admission.k8s.io/v1 AdmissionReview with a request\n");
        goto done;
    }
    answered = 1;
    /* Nothing to look at (DELETE and the like): allow. */
    if (!cJSON_IsObject(object)) {
        rc = reply(rs, uid, 1, NULL, 0, NULL, NULL);
        goto done;
    }
    if (!(obj_text = cJSON_PrintUnformatted(object)) ||
        (cJSON_IsObject(old) && !(old_text = cJSON_PrintUnformatted(old)))) {
        rc = VSG_ERR_NOMEM;
        goto done;
    }
    c.route = route;
    c.req = req;
    c.obj = obj_text;
    c.old = old_text;
    c.mode = wh->mode;
    if (route == R_BINDINGS) {
        const char *ns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "namespace"));
        cJSON *arr = cJSON_CreateArray();
        if (!arr) {
            rc = VSG_ERR_NOMEM;
            goto done;
        }
        if (ns && *ns) vsg_kube_cache_each(vsg_kube_informer_cache(wh->binf), ns, NULL, collect, arr);
        int nb = cJSON_GetArraySize(arr);
        bind_text = nb ? cJSON_PrintUnformatted(arr) : NULL;
        cJSON_Delete(arr);
        if (!nb) { /* No binding in this namespace: nothing to do. */
            rc = reply(rs, uid, 1, NULL, 0, NULL, NULL);
            goto done;
        }
        if (!bind_text) {
            rc = VSG_ERR_NOMEM;
            goto done;
        }
        cJSON *nsobj = vsg_kube_cache_get(vsg_kube_informer_cache(wh->nsinf), NULL, ns);
        const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(nsobj, "metadata"), "labels");
        if (cJSON_IsObject(labels)) labels_text = cJSON_PrintUnformatted(labels);
        cJSON_Delete(nsobj);
        c.bindings = bind_text;
        c.ns_labels = labels_text;
    }
    c.slot = take_slot(wh);
    struct vsg_lua *s = vsg_lua_script_state(c.slot->script);
    vsg_error_clear(&err);
    enum vsg_err lrc = s ? vsg_lua_cpcall(s, call_protected, &c, 0, &err)
                         : vsg_error_set(&err, VSG_ERR_INVALIDSTATE, "no Lua code loaded");
    give_slot(wh, c.slot);
    if (lrc != VSG_OK) {
        __atomic_add_fetch(&wh->n_errors, 1, __ATOMIC_RELAXED);
        VSG_LOG_ERROR(LOGGER, "%s %s: %s", rq->path, uid, err.msg);
        res = RES_ERROR;
        rc = reply(rs, uid, 0, NULL, 500, "InternalError", err.msg);
        goto done;
    }
    if (route == R_VALIDATION) {
        if (c.denied) __atomic_add_fetch(&wh->n_denied, 1, __ATOMIC_RELAXED);
        if (c.denied) res = RES_DENIED;
        rc = c.denied ? reply(rs, uid, 0, NULL, 400, "BadRequest", c.msg)
                      : reply(rs, uid, 1, NULL, 0, NULL, NULL);
        goto done;
    }
    if (!(after = cJSON_ParseWithLength(c.out.data, c.out.len)) ||
        !(ops = vsg_jsonpatch_diff(object, after))) {
        rc = VSG_ERR_NOMEM;
        goto done;
    }
    if (cJSON_GetArraySize(ops) > 0) {
        if (!(patch_text = cJSON_PrintUnformatted(ops)) ||
            !(patch64 = vsg_base64_encode(patch_text, strlen(patch_text)))) {
            rc = VSG_ERR_NOMEM;
            goto done;
        }
        if (vsg_log_enabled(VSG_LOG_LEVEL_DEBUG)) {
            /* The patch may set VC_URL from an address with credentials. */
            char *shown = vsg_url_redact_dup(patch_text);
            VSG_LOG_DEBUG(LOGGER, "%s %s: patch %s", rq->path, uid, shown ? shown : "(out of memory)");
            vsg_free(shown);
        }
    }
    rc = reply(rs, uid, 1, patch64, 0, NULL, NULL);
done:
    if (rc != VSG_OK || !answered) answered = 0, res = RES_ERROR;
    record(wh, (int)route, res, answered ? req : NULL, res == RES_ALLOWED, &t0);
    vsg_buf_cleanup(&c.out);
    if (obj_text) cJSON_free(obj_text);
    if (old_text) cJSON_free(old_text);
    if (bind_text) cJSON_free(bind_text);
    if (labels_text) cJSON_free(labels_text);
    if (patch_text) cJSON_free(patch_text);
    vsg_free(patch64);
    cJSON_Delete(ops);
    cJSON_Delete(after);
    vsg_webhook_review_cleanup(&rv);
    return rc;
}

static enum vsg_err h_defaulting(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs)
{
    return admit(ud, R_DEFAULTING, rq, rs);
}

static enum vsg_err h_validation(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs)
{
    return admit(ud, R_VALIDATION, rq, rs);
}

static enum vsg_err h_bindings(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs)
{
    return admit(ud, R_BINDINGS, rq, rs);
}

/* DELETE of the system namespace (the first object of `kubectl delete -f release.yaml`):
 * releases every VSphereBinding before the controller loses its pod, service account and RBAC
 * (cmd/uninstall.h). Always allows; a dry run changes nothing. */
static enum vsg_err h_uninstall(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs)
{
    struct vsg_webhook *wh = ud;
    struct vsg_webhook_review rv;
    enum vsg_err drc = vsg_webhook_review_decode(rq->body, rq->body_len, 0, &rv);
    const cJSON *req = rv.request;
    const char *uid = rv.uid, *op = rv.operation, *name = rv.name;
    enum vsg_err rc;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    __atomic_add_fetch(&wh->n_requests, 1, __ATOMIC_RELAXED);
    if (drc != VSG_OK) {
        rc = drc == VSG_ERR_NOMEM ? drc
                                  : vsg_http_resp_text(rs, 400, "text/plain",
                                                       "expected an AdmissionReview with a request\n");
        record(wh, 3, RES_ERROR, NULL, 0, &t0);
        goto done;
    }
    if (op && strcmp(op, "DELETE") == 0 && name && strcmp(name, wh->system_ns) == 0 && !rv.dry_run) {
        struct vsg_error err;
        struct vsg_kube_client *c = vsg_kube_client_new(wh->o.cfg, &err);
        size_t n = 0;
        if (!c || vsg_uninstall_release(c, wh->system_ns, VSG_BINDING_FINALIZER, &n, &err) != VSG_OK)
            VSG_LOG_WARN(LOGGER, "namespace %s deleted: releasing the VSphereBindings: %s", wh->system_ns,
                         err.msg);
        VSG_LOG_INFO(LOGGER, "namespace %s deleted (uninstall): %zu VSphereBinding%s released", wh->system_ns,
                     n, n == 1 ? "" : "s");
        vsg_kube_client_free(c);
    }
    rc = reply(rs, uid, 1, NULL, 0, NULL, NULL);
    record(wh, 3, rc == VSG_OK ? RES_ALLOWED : RES_ERROR, rc == VSG_OK ? req : NULL, 1, &t0);
done:
    vsg_webhook_review_cleanup(&rv);
    return rc;
}

/* ====================================================================
 * Wake-ups (informer and elector threads)
 * ==================================================================== */

static int leading(struct vsg_webhook *wh)
{
    return !wh->o.ctl || vsg_ctl_leading(wh->o.ctl);
}

/* Asks the manager for a pass now. */
static void kick(struct vsg_webhook *wh)
{
    pthread_mutex_lock(&wh->cmu);
    wh->kicked = 1;
    pthread_cond_broadcast(&wh->ccond);
    pthread_mutex_unlock(&wh->cmu);
}

static const char *subject_str(const cJSON *b, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "spec"), "subject"), k));
}

static int same_str(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

/* A binding came, went or changed its subject's kind: the rules may
 * change. */
static void on_binding(void *ud, enum vsg_kube_event_type t, const cJSON *obj, const cJSON *old)
{
    if (t == VSG_KUBE_EVENT_UPDATE &&
        same_str(subject_str(obj, "apiVersion"), subject_str(old, "apiVersion")) &&
        same_str(subject_str(obj, "kind"), subject_str(old, "kind")))
        return;
    kick(ud);
}

/* The Secret changed: the leader checks it, the others serve it. */
static void on_secret(void *ud, enum vsg_kube_event_type t, const cJSON *obj, const cJSON *old)
{
    if (t == VSG_KUBE_EVENT_UPDATE && obj == old) return; /* A resync. */
    kick(ud);
}

static void on_leader(void *ud, int lead)
{
    (void)lead;
    kick(ud);
}

/* ====================================================================
 * Webhook configurations
 * ==================================================================== */

struct whconf {
    const char *name, *resource, *path;
    int mutating;
    int service_only; /* Never registered by URL (it would see the whole cluster's namespaces). */
};

static const struct whconf confs[] = {
    {VSG_WH_DEFAULTING, "mutatingwebhookconfigurations", "/defaulting", 1, 0},
    {VSG_WH_VALIDATION, "validatingwebhookconfigurations", "/resource-validation", 0, 0},
    {VSG_WH_BINDINGS, "mutatingwebhookconfigurations", "/vspherebindings", 1, 0},
    {VSG_WH_UNINSTALL, "validatingwebhookconfigurations", "/uninstall", 0, 1},
};
#define NCONFS (sizeof confs / sizeof confs[0])

static int is_bindings(const struct whconf *w)
{
    return strcmp(w->name, VSG_WH_BINDINGS) == 0;
}

/* The configuration object's name: the webhook's, or in URL mode
 * VSG_WH_URL_PREFIX + it (in a static buffer per configuration). */
static const char *conf_name(const struct vsg_webhook *wh, const struct whconf *w)
{
    static _Thread_local char buf[256];
    if (!wh->url_base) return w->name;
    snprintf(buf, sizeof buf, "%s%s", VSG_WH_URL_PREFIX, w->name);
    return buf;
}

static void conf_path(struct vsg_buf *b, const struct vsg_webhook *wh, const struct whconf *w, int with_name)
{
    vsg_buf_reset(b);
    (void)vsg_kube_path(b, "admissionregistration.k8s.io/v1", NULL, w->resource,
                        with_name ? conf_name(wh, w) : NULL, NULL);
}

static enum vsg_err resolve_kind(void *ud, const char *av, const char *kind,
                                 struct vsg_kube_resource *out, struct vsg_error *err)
{
    struct vsg_webhook *wh = ud;
    return vsg_kube_discovery_lookup(wh->disco, wh->client, av, kind, out, err);
}

/* Logs `why` unless it is what was logged last (*last). NULL: forget. */
static void log_changed(char **last, const char *why)
{
    if (!why) {
        vsg_free(*last);
        *last = NULL;
        return;
    }
    if (*last && strcmp(*last, why) == 0) return;
    VSG_LOG_WARN(LOGGER, "%s", why);
    vsg_free(*last);
    *last = vsg_strdup(why);
}

/* The binding webhook's rules for the VSphereBindings in the cache
 * (cmd/whrules.h); *skipped: subject kinds left out (retry later). */
static cJSON *binding_rules(struct vsg_webhook *wh, size_t *skipped)
{
    cJSON *arr = cJSON_CreateArray(), *rules;
    struct vsg_error why;
    *skipped = 0;
    if (!arr) return NULL;
    vsg_kube_cache_each(vsg_kube_informer_cache(wh->binf), NULL, NULL, collect, arr);
    rules = vsg_whrules_build(arr, resolve_kind, wh, skipped, &why);
    cJSON_Delete(arr);
    if (rules) {
        char msg[VSG_ERROR_MSG_MAX + 128];
        snprintf(msg, sizeof msg, "%s: %zu subject kind(s) left out of its rules (retrying): %s",
                 VSG_WH_BINDINGS, *skipped, why.msg);
        log_changed(&wh->skip_why, *skipped ? msg : NULL);
    }
    return rules;
}

/* One matchExpressions entry: {key, operator, values: [v1, v2]} (v2 may
 * be NULL); the array takes it. 0, or -1 out of memory. */
static int add_expr(cJSON *arr, const char *key, const char *op, const char *v1, const char *v2)
{
    const char *vals[] = {v1, v2};
    cJSON *e = cJSON_CreateObject();
    if (!e || !cJSON_AddItemToArray(arr, e)) {
        cJSON_Delete(e);
        return -1;
    }
    return cJSON_AddStringToObject(e, "key", key) && cJSON_AddStringToObject(e, "operator", op) &&
                   cJSON_AddItemToObject(e, "values", cJSON_CreateStringArray(vals, v2 ? 2 : 1))
               ? 0
               : -1;
}

/*
 * The binding webhook's namespaceSelector (ns nonzero) or objectSelector,
 * as deploy/webhooks/700-webhook-configurations.yaml ships them (same
 * order, so the leader and `kubectl apply` agree). Namespaces: ours, in
 * both modes only those labelled bindings.knative.dev/include=true (the
 * VSphereBinding reconciler labels the namespaces of subjects), so that
 * workloads elsewhere never wait on this webhook; in exclusion mode also
 * not bindings.knative.dev/exclude=true; never kube-system nor the system
 * namespace. Objects: as psbinding, exclusion mode not
 * bindings.knative.dev/exclude=true, inclusion mode
 * bindings.knative.dev/include=true. NULL when out of memory.
 */
static cJSON *binding_selector(const struct vsg_webhook *wh, int ns)
{
    int incl = strcmp(wh->mode, "inclusion") == 0;
    cJSON *sel = cJSON_CreateObject();
    cJSON *exprs = sel ? cJSON_AddArrayToObject(sel, "matchExpressions") : NULL;
    int rc = exprs ? 0 : -1;
    if (ns) {
        if (!rc) rc = add_expr(exprs, VSG_WH_INCLUDE_LABEL, "In", "true", NULL);
        if (!rc && !incl) rc = add_expr(exprs, VSG_WH_EXCLUDE_LABEL, "NotIn", "true", NULL);
        if (!rc) rc = add_expr(exprs, "kubernetes.io/metadata.name", "NotIn", "kube-system", wh->system_ns);
    } else if (!rc) {
        rc = incl ? add_expr(exprs, VSG_WH_INCLUDE_LABEL, "In", "true", NULL)
                  : add_expr(exprs, VSG_WH_EXCLUDE_LABEL, "NotIn", "true", NULL);
    }
    if (rc) {
        cJSON_Delete(sel);
        return NULL;
    }
    return sel;
}

/* Sets h[key] to a copy of want unless it is equal already; 1 when it
 * changed, 0 when not, -1 out of memory. */
static int set_field(cJSON *h, const char *key, const cJSON *want)
{
    if (cJSON_Compare(cJSON_GetObjectItemCaseSensitive(h, key), want, 1)) return 0;
    cJSON *d = cJSON_Duplicate(want, 1);
    if (!d) return -1;
    cJSON_DeleteItemFromObjectCaseSensitive(h, key);
    if (!cJSON_AddItemToObject(h, key, d)) {
        cJSON_Delete(d);
        return -1;
    }
    return 1;
}

/* The webhooks array of a URL-mode configuration. */
static cJSON *url_webhooks(struct vsg_webhook *wh, const struct whconf *w, const char *ca64,
                           const cJSON *rules)
{
    struct vsg_buf b;
    cJSON *out = NULL;
    vsg_buf_init(&b, 64 * 1024);
    enum vsg_err rc = vsg_buf_printf(
        &b,
        "[{\"name\":\"%s\",\"admissionReviewVersions\":[\"v1\"],"
        "\"clientConfig\":{\"url\":\"%s%s\",\"caBundle\":\"%s\"},"
        "\"failurePolicy\":\"Fail\",\"sideEffects\":\"None\",\"timeoutSeconds\":10,"
        "\"matchPolicy\":\"Equivalent\",",
        w->name, wh->url_base, w->path, ca64);
    if (rc == VSG_OK && w->mutating) rc = vsg_buf_puts(&b, "\"reinvocationPolicy\":\"IfNeeded\",");
    if (rc == VSG_OK && !is_bindings(w)) {
        rc = vsg_buf_puts(&b, "\"rules\":[{\"apiGroups\":[\"sources.tanzu.vmware.com\"],"
                              "\"apiVersions\":[\"v1alpha1\"],\"operations\":[\"CREATE\",\"UPDATE\"],"
                              "\"resources\":[\"vspheresources\",\"vspherebindings\"],"
                              "\"scope\":\"Namespaced\"}]}]");
    } else if (rc == VSG_OK) {
        /* The selectors and the rules (which follow the bindings) are
         * added below. */
        rc = vsg_buf_puts(&b, "\"rules\":[]}]");
    }
    if (rc == VSG_OK) out = cJSON_ParseWithLength(b.data, b.len);
    vsg_buf_cleanup(&b);
    if (out && is_bindings(w)) {
        cJSON *h = cJSON_GetArrayItem(out, 0);
        cJSON *nsel = binding_selector(wh, 1), *osel = binding_selector(wh, 0);
        if (!nsel || !osel || set_field(h, "namespaceSelector", nsel) < 0 ||
            set_field(h, "objectSelector", osel) < 0 || set_field(h, "rules", rules) < 0) {
            cJSON_Delete(out);
            out = NULL;
        }
        cJSON_Delete(nsel);
        cJSON_Delete(osel);
    }
    return out;
}

/* Every field of the webhook `want` has its value in `have` (the API
 * server fills in defaults for the fields not set). */
static int webhook_matches(const cJSON *want, const cJSON *have)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, want)
        if (!cJSON_Compare(f, cJSON_GetObjectItemCaseSensitive(have, f->string), 1)) return 0;
    return 1;
}

/* In Service mode: the caBundle of every webhook, and the rules and the
 * selectors (binding_selector()) of the binding webhook. Nonzero when
 * `cur` changed; -1 out of memory. */
static int update_service_conf(const struct vsg_webhook *wh, const struct whconf *w, cJSON *cur,
                               const char *ca64, const cJSON *rules)
{
    cJSON *h;
    int changed = 0;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(cur, "webhooks")) {
        cJSON *cc = cJSON_GetObjectItemCaseSensitive(h, "clientConfig");
        if (!cJSON_IsObject(cc)) continue;
        const char *bundle = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cc, "caBundle"));
        if (!bundle || strcmp(bundle, ca64) != 0) {
            cJSON_DeleteItemFromObjectCaseSensitive(cc, "caBundle");
            cJSON_AddStringToObject(cc, "caBundle", ca64);
            changed = 1;
        }
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "name"));
        if (is_bindings(w) && same_str(name, VSG_WH_BINDINGS)) {
            cJSON *nsel = binding_selector(wh, 1), *osel = binding_selector(wh, 0);
            int a = nsel ? set_field(h, "namespaceSelector", nsel) : -1;
            int o = osel ? set_field(h, "objectSelector", osel) : -1;
            int r = set_field(h, "rules", rules);
            cJSON_Delete(nsel);
            cJSON_Delete(osel);
            if (a < 0 || o < 0 || r < 0) return -1;
            if (a || o || r) changed = 1;
        }
    }
    return changed;
}

/* Brings every configuration in line (leader only): the caBundle, the
 * binding webhook's rules, and in URL mode the whole webhook (created
 * when missing). VSG_OK when all went through; *skipped: subject kinds
 * the rules could not name yet. */
static enum vsg_err sync_configs(struct vsg_webhook *wh, size_t *skipped)
{
    const char *ca = wh->certs.ca_pem;
    char *ca64 = ca ? vsg_base64_encode(ca, strlen(ca)) : NULL;
    cJSON *rules = binding_rules(wh, skipped);
    struct vsg_buf p;
    struct vsg_error err;
    enum vsg_err worst = VSG_OK;
    if (!ca64 || !rules) {
        vsg_free(ca64);
        cJSON_Delete(rules);
        return VSG_ERR_NOMEM;
    }
    vsg_buf_init(&p, 4096);
    for (size_t i = 0; i < NCONFS; i++) {
        const struct whconf *w = &confs[i];
        cJSON *cur = NULL;
        if (w->service_only && wh->url_base) continue;
        conf_path(&p, wh, w, 1);
        enum vsg_err rc = vsg_kube_get(wh->client, p.data, &cur, &err);
        if (rc == VSG_ERR_NOTFOUND && !wh->url_base) continue;
        if (rc != VSG_OK && rc != VSG_ERR_NOTFOUND) {
            VSG_LOG_WARN(LOGGER, "reading %s: %s", w->name, err.msg);
            worst = rc;
            continue;
        }
        int changed = 0;
        if (wh->url_base) {
            cJSON *hooks = url_webhooks(wh, w, ca64, rules);
            if (!hooks) {
                cJSON_Delete(cur);
                worst = VSG_ERR_NOMEM;
                continue;
            }
            if (!cur) {
                cur = cJSON_CreateObject();
                cJSON *md = cJSON_AddObjectToObject(cur, "metadata");
                cJSON_AddStringToObject(cur, "apiVersion", "admissionregistration.k8s.io/v1");
                cJSON_AddStringToObject(cur, "kind", w->mutating ? "MutatingWebhookConfiguration"
                                                                 : "ValidatingWebhookConfiguration");
                cJSON_AddStringToObject(md, "name", conf_name(wh, w));
                cJSON *labels = cJSON_AddObjectToObject(md, "labels");
                cJSON_AddStringToObject(labels, "sources.tanzu.vmware.com/webhook-mode", "url");
                cJSON_AddItemToObject(cur, "webhooks", hooks);
                conf_path(&p, wh, w, 0);
                rc = vsg_kube_create(wh->client, p.data, cur, NULL, &err);
                if (rc == VSG_OK)
                    VSG_LOG_INFO(LOGGER, "registered %s at %s%s", conf_name(wh, w), wh->url_base, w->path);
                else VSG_LOG_WARN(LOGGER, "creating %s: %s", w->name, err.msg);
                if (rc != VSG_OK) worst = rc;
                cJSON_Delete(cur);
                continue;
            }
            const cJSON *had = cJSON_GetObjectItemCaseSensitive(cur, "webhooks");
            changed = cJSON_GetArraySize(had) != cJSON_GetArraySize(hooks) ||
                      !webhook_matches(cJSON_GetArrayItem(hooks, 0), cJSON_GetArrayItem(had, 0));
            if (changed) cJSON_ReplaceItemInObjectCaseSensitive(cur, "webhooks", hooks);
            else cJSON_Delete(hooks);
        } else {
            changed = update_service_conf(wh, w, cur, ca64, rules);
            if (changed < 0) {
                cJSON_Delete(cur);
                worst = VSG_ERR_NOMEM;
                continue;
            }
        }
        if (changed) {
            rc = vsg_kube_update(wh->client, p.data, cur, NULL, &err);
            if (rc == VSG_OK) VSG_LOG_INFO(LOGGER, "updated %s", w->name);
            else {
                VSG_LOG_WARN(LOGGER, "updating %s: %s", w->name, err.msg);
                worst = rc;
            }
        }
        cJSON_Delete(cur);
    }
    vsg_buf_cleanup(&p);
    vsg_free(ca64);
    cJSON_Delete(rules);
    return worst;
}

/* URL mode, at stop: deletes the configurations that point at this
 * replica (a new leader's stay). */
static void delete_url_configs(struct vsg_webhook *wh)
{
    struct vsg_buf p;
    struct vsg_error err;
    vsg_buf_init(&p, 4096);
    for (size_t i = 0; i < NCONFS; i++) {
        cJSON *cur = NULL;
        char want[1024];
        conf_path(&p, wh, &confs[i], 1);
        enum vsg_err rc = vsg_kube_get(wh->client, p.data, &cur, &err);
        const char *url = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(
                cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cur, "webhooks"), 0), "clientConfig"),
            "url"));
        snprintf(want, sizeof want, "%s%s", wh->url_base, confs[i].path);
        int ours = rc == VSG_OK && url && strcmp(url, want) == 0;
        cJSON_Delete(cur);
        if (rc != VSG_OK) {
            if (rc != VSG_ERR_NOTFOUND) VSG_LOG_WARN(LOGGER, "reading %s: %s", confs[i].name, err.msg);
            continue;
        }
        if (!ours) continue;
        rc = vsg_kube_delete(wh->client, p.data, &err);
        if (rc == VSG_OK) VSG_LOG_INFO(LOGGER, "unregistered %s", conf_name(wh, &confs[i]));
        else if (rc != VSG_ERR_NOTFOUND) VSG_LOG_WARN(LOGGER, "deleting %s: %s", confs[i].name, err.msg);
    }
    vsg_buf_cleanup(&p);
}

/* ====================================================================
 * Certificates (Secret vsphere-webhook-certs)
 * ==================================================================== */

static const char *const secret_keys[] = {"ca-cert.pem", "server-cert.pem", "server-key.pem"};

static char **cert_field(struct vsg_certs *c, int i)
{
    return i == 0 ? &c->ca_pem : i == 1 ? &c->cert_pem : &c->key_pem;
}

static void certs_of_secret(const cJSON *sec, struct vsg_certs *out)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(sec, "data");
    memset(out, 0, sizeof *out);
    for (int i = 0; i < 3; i++) {
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, secret_keys[i]));
        if (v) *cert_field(out, i) = vsg_base64_decode(v, NULL);
    }
}

/* The leader's part: reads the Secret; when its certificates are missing,
 * invalid or expire soon, makes new ones and writes them. *out gets the
 * set to serve (empty when a peer wrote the Secret meanwhile). */
static enum vsg_err ensure_certs(struct vsg_webhook *wh, struct vsg_certs *out, struct vsg_error *err)
{
    struct names_buf nb;
    struct vsg_buf p;
    cJSON *sec = NULL;
    struct vsg_error why;
    enum vsg_err rc;
    make_names(wh, &nb);
    vsg_buf_init(&p, 4096);
    (void)vsg_kube_path(&p, "v1", wh->system_ns, "secrets", VSG_WH_SECRET, NULL);
    rc = vsg_kube_get(wh->client, p.data, &sec, err);
    if (rc != VSG_OK && rc != VSG_ERR_NOTFOUND) goto done;
    certs_of_secret(sec, out);
    int64_t now = (int64_t)time(NULL);
    if (vsg_certs_check(out, &nb.n, now, NULL, &why) == VSG_OK) {
        rc = VSG_OK;
        goto done;
    }
    VSG_LOG_INFO(LOGGER, "Secret %s/%s: %s: issuing new certificates", wh->system_ns, VSG_WH_SECRET,
                 why.msg);
    vsg_certs_cleanup(out);
    int64_t validity = wh->o.cert_validity_s > 0 ? wh->o.cert_validity_s : 7 * 24 * 3600;
    if ((rc = vsg_certs_generate(&nb.n, validity, out, err)) != VSG_OK) goto done;
    wh->n_rotations++;
    int create = !sec;
    if (create) {
        sec = cJSON_CreateObject();
        cJSON *md = cJSON_AddObjectToObject(sec, "metadata");
        cJSON_AddStringToObject(sec, "apiVersion", "v1");
        cJSON_AddStringToObject(sec, "kind", "Secret");
        cJSON_AddStringToObject(md, "name", VSG_WH_SECRET);
        cJSON_AddStringToObject(md, "namespace", wh->system_ns);
    }
    cJSON *data = cJSON_GetObjectItemCaseSensitive(sec, "data");
    if (!cJSON_IsObject(data)) {
        cJSON_DeleteItemFromObjectCaseSensitive(sec, "data");
        data = cJSON_AddObjectToObject(sec, "data");
    }
    for (int i = 0; i < 3; i++) {
        char *v = vsg_base64_encode(*cert_field(out, i), strlen(*cert_field(out, i)));
        cJSON_DeleteItemFromObjectCaseSensitive(data, secret_keys[i]);
        if (v) cJSON_AddStringToObject(data, secret_keys[i], v);
        vsg_free(v);
    }
    if (create) {
        vsg_buf_reset(&p);
        (void)vsg_kube_path(&p, "v1", wh->system_ns, "secrets", NULL, NULL);
        rc = vsg_kube_create(wh->client, p.data, sec, NULL, err);
    } else {
        rc = vsg_kube_update(wh->client, p.data, sec, NULL, err);
    }
    if (rc != VSG_OK) {
        /* Somebody else wrote it meanwhile (or no right): take theirs next time. */
        VSG_LOG_WARN(LOGGER, "writing Secret %s/%s: %s", wh->system_ns, VSG_WH_SECRET, err->msg);
        if (rc == VSG_ERR_CONFLICT) {
            vsg_certs_cleanup(out);
            rc = VSG_OK;
            goto done;
        }
        rc = VSG_OK; /* Serve the new ones anyway. */
    }
done:
    cJSON_Delete(sec);
    vsg_buf_cleanup(&p);
    return rc;
}

/* The other replicas' part: the Secret as the informer has it, when its
 * certificates are usable (valid, naming this webhook, not expired: one
 * due for rotation is the leader's business). *out empty otherwise, with
 * the reason in `why`. */
static void read_certs(struct vsg_webhook *wh, struct vsg_certs *out, struct vsg_error *why)
{
    struct names_buf nb;
    cJSON *sec = vsg_kube_cache_get(vsg_kube_informer_cache(wh->secinf), wh->system_ns, VSG_WH_SECRET);
    make_names(wh, &nb);
    vsg_error_clear(why);
    certs_of_secret(sec, out);
    cJSON_Delete(sec);
    if (vsg_certs_check(out, &nb.n, 0, NULL, why) != VSG_OK) {
        vsg_certs_cleanup(out);
    } else if (vsg_certs_expiry(out) <= (int64_t)time(NULL)) {
        vsg_error_set(why, VSG_ERR_TIMEOUT, "the certificate has expired");
        vsg_certs_cleanup(out);
    }
}

static int same_certs(const struct vsg_certs *a, const struct vsg_certs *b)
{
    return a->cert_pem && b->cert_pem && strcmp(a->cert_pem, b->cert_pem) == 0 && a->key_pem &&
           b->key_pem && strcmp(a->key_pem, b->key_pem) == 0 && a->ca_pem && b->ca_pem &&
           strcmp(a->ca_pem, b->ca_pem) == 0;
}

/* The certificates to serve: made or checked by the leader, read by the
 * others. VSG_OK with *out empty when there are none yet. */
static enum vsg_err current_certs(struct vsg_webhook *wh, int lead, struct vsg_certs *out,
                                  struct vsg_error *err)
{
    struct vsg_error why;
    memset(out, 0, sizeof *out);
    if (lead) {
        enum vsg_err rc = ensure_certs(wh, out, err);
        if (rc != VSG_OK) vsg_certs_cleanup(out);
        return rc;
    }
    read_certs(wh, out, &why);
    char msg[VSG_ERROR_MSG_MAX + 128];
    snprintf(msg, sizeof msg, "Secret %s/%s: %s (not the leader: waiting for the leader to write it)",
             wh->system_ns, VSG_WH_SECRET, why.msg);
    log_changed(&wh->certs_why, out->cert_pem ? NULL : msg);
    return VSG_OK;
}

/* One pass over the certificates: the set to serve, and a TLS reload when
 * it changed. */
static void cert_pass(struct vsg_webhook *wh, int lead)
{
    struct vsg_certs c;
    struct vsg_error err;
    if (current_certs(wh, lead, &c, &err) != VSG_OK) {
        VSG_LOG_WARN(LOGGER, "certificates: %s (retrying)", err.msg);
        return;
    }
    if (!c.cert_pem) return; /* Lost a race, or not written yet: next pass. */
    if (same_certs(&c, &wh->certs)) {
        vsg_certs_cleanup(&c);
        return;
    }
    if (vsg_http_server_reload_tls(wh->srv, c.cert_pem, c.key_pem, &err) != VSG_OK) {
        VSG_LOG_ERROR(LOGGER, "reloading the serving certificate: %s", err.msg);
        vsg_certs_cleanup(&c);
        return;
    }
    VSG_LOG_INFO(LOGGER, "serving a new certificate");
    pthread_mutex_lock(&wh->cmu);
    vsg_certs_cleanup(&wh->certs);
    wh->certs = c;
    pthread_mutex_unlock(&wh->cmu);
}

/* Waits up to `ms`, or until kicked or stopping (cmu held). */
static void wait_kick(struct vsg_webhook *wh, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (!wh->stopping && !wh->kicked)
        if (pthread_cond_timedwait(&wh->ccond, &wh->cmu, &ts) != 0) break;
}

/*
 * The manager: a pass every check period, and whenever a binding, the
 * Secret or the leadership changes. The leader keeps the Secret's
 * certificates valid and the configurations in line (caBundle, rules);
 * the others serve what the Secret holds and write nothing. After a
 * failed pass (or with subject kinds left out of the rules) it retries
 * sooner, backing off.
 */
static void *cert_manager(void *arg)
{
    struct vsg_webhook *wh = arg;
    int was = -1;
    int64_t every = wh->o.cert_check_ms > 0 ? wh->o.cert_check_ms : 60000;
    int64_t retry = RETRY_MIN_MS;
    pthread_mutex_lock(&wh->cmu);
    while (!wh->stopping) {
        wh->kicked = 0;
        pthread_mutex_unlock(&wh->cmu);
        int lead = leading(wh), ok = 1;
        if (lead != was) {
            if (lead)
                VSG_LOG_INFO(LOGGER, "leading: keeping Secret %s/%s and the webhook configurations",
                             wh->system_ns, VSG_WH_SECRET);
            else if (was != -1)
                VSG_LOG_INFO(LOGGER, "not leading: serving what Secret %s/%s holds", wh->system_ns,
                             VSG_WH_SECRET);
            was = lead;
        }
        cert_pass(wh, lead);
        if (lead) {
            size_t skipped = 0;
            ok = wh->certs.ca_pem && sync_configs(wh, &skipped) == VSG_OK && !skipped;
        }
        int64_t wait = every;
        if (ok) {
            retry = RETRY_MIN_MS;
        } else {
            wait = retry < every ? retry : every;
            retry = retry * 2 < every ? retry * 2 : every;
        }
        pthread_mutex_lock(&wh->cmu);
        wait_kick(wh, wait);
    }
    pthread_mutex_unlock(&wh->cmu);
    return NULL;
}

/* ====================================================================
 * Life cycle
 * ==================================================================== */

static char *xdup(const char *s)
{
    return s ? vsg_strdup(s) : NULL;
}

struct vsg_webhook *vsg_webhook_new(const struct vsg_webhook_opts *o, struct vsg_error *err)
{
    struct vsg_webhook *wh = vsg_calloc(1, sizeof *wh);
    pthread_condattr_t ca;
    struct vsg_buf b;
    if (!wh) {
        vsg_error_set(err, VSG_ERR_NOMEM, "webhook: out of memory");
        return NULL;
    }
    wh->o = *o;
    vsg_lua_limits_fill(&wh->o.filter_max, (struct vsg_lua_limits)VSG_FILTER_LIMITS_MAX_DEFAULT);
    pthread_mutex_init(&wh->smu, NULL);
    pthread_cond_init(&wh->scond, NULL);
    pthread_mutex_init(&wh->cmu, NULL);
    pthread_mutex_init(&wh->mmu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wh->ccond, &ca);
    pthread_condattr_destroy(&ca);
    wh->system_ns = xdup(o->system_ns);
    wh->lua_root = xdup(o->lua_root);
    wh->addr = xdup(o->addr ? o->addr : "0.0.0.0");
    wh->url_base = xdup(o->url_base);
    wh->service = xdup(o->service_name && *o->service_name ? o->service_name : VSG_WH_SERVICE);
    wh->mode = xdup(o->selection_mode && strcmp(o->selection_mode, "inclusion") == 0 ? "inclusion"
                                                                                   : "exclusion");
    if (!wh->system_ns || !wh->lua_root || !wh->addr || !wh->mode || !wh->service ||
        (o->url_base && !wh->url_base))
        goto nomem;
    if (wh->url_base) {
        size_t n = strlen(wh->url_base);
        while (n && wh->url_base[n - 1] == '/') wh->url_base[--n] = '\0';
        if (strncmp(wh->url_base, "https://", 8) != 0) {
            vsg_error_set(err, VSG_ERR_INVAL, "--webhook-url-base must start with https://");
            goto fail;
        }
    }
    vsg_buf_init(&b, 16384);
    if (vsg_buf_printf(&b, "%s/?.lua;%s/?/init.lua", wh->lua_root, wh->lua_root) != VSG_OK ||
        !(wh->search_path = vsg_buf_steal(&b))) {
        vsg_buf_cleanup(&b);
        goto nomem;
    }
    vsg_buf_cleanup(&b);
    if (!(wh->client = vsg_kube_client_new(o->cfg, err))) goto fail;
    if (!(wh->disco = vsg_kube_discovery_new())) goto nomem;
    wh->nslots = o->threads ? o->threads : 4;
    if (!(wh->slots = vsg_calloc(wh->nslots, sizeof *wh->slots))) goto nomem;
    struct vsg_lua_config lc = {
        .kind = VSG_LUA_KIND_ADMISSION, .limits = wh->o.admission_limits, .name = "vsgate.webhook.lua",
        .search_path = wh->search_path};
    for (size_t i = 0; i < wh->nslots; i++) {
        if (!(wh->slots[i].script = vsg_lua_script_new(&lc, NULL, err))) goto fail;
        refresh_slot(wh, &wh->slots[i], 1);
        if (!vsg_lua_script_state(wh->slots[i].script)) {
            vsg_error_set(err, VSG_ERR_LUA, "webhook: the admission Lua code does not load (see the log)");
            goto fail;
        }
    }
    struct vsg_kube_informer_opts bo = {
        .name = "VSphereBinding@webhook", .api_version = "sources.tanzu.vmware.com/v1alpha1",
        .kind = "VSphereBinding", .resource = "vspherebindings"};
    struct vsg_kube_informer_opts no = {
        .name = "Namespace@webhook", .api_version = "v1", .kind = "Namespace", .resource = "namespaces"};
    struct vsg_kube_informer_opts so = {
        .name = "Secret@webhook", .api_version = "v1", .kind = "Secret", .resource = "secrets",
        .ns = wh->system_ns, .field_selector = "metadata.name=" VSG_WH_SECRET};
    if (!(wh->binf = vsg_kube_informer_new(o->cfg, &bo, err)) ||
        !(wh->nsinf = vsg_kube_informer_new(o->cfg, &no, err)) ||
        !(wh->secinf = vsg_kube_informer_new(o->cfg, &so, err)))
        goto fail;
    if (vsg_kube_informer_add_handler(wh->binf, on_binding, wh) != VSG_OK ||
        vsg_kube_informer_add_handler(wh->secinf, on_secret, wh) != VSG_OK)
        goto nomem;
    return wh;
nomem:
    vsg_error_set(err, VSG_ERR_NOMEM, "webhook: out of memory");
fail:
    vsg_webhook_free(wh);
    return NULL;
}

/* The first certificates: the leader's (made when the Secret has none
 * usable), or, on the other replicas, the Secret's once the leader wrote
 * it (leadership may also come meanwhile). */
static enum vsg_err first_certs(struct vsg_webhook *wh, struct vsg_error *err)
{
    int64_t deadline = vsg_time_mono_ms() + START_CERTS_MS;
    for (;;) {
        enum vsg_err rc = current_certs(wh, leading(wh), &wh->certs, err);
        if (rc != VSG_OK) return rc;
        if (wh->certs.cert_pem) return VSG_OK;
        if (vsg_time_mono_ms() >= deadline)
            return vsg_error_set(err, VSG_ERR_TIMEOUT,
                                 "webhook: no usable certificates in Secret %s/%s after %d s, and "
                                 "this replica does not lead (is the leader running?)",
                                 wh->system_ns, VSG_WH_SECRET, START_CERTS_MS / 1000);
        pthread_mutex_lock(&wh->cmu);
        wh->kicked = 0;
        wait_kick(wh, 500);
        pthread_mutex_unlock(&wh->cmu);
    }
}

enum vsg_err vsg_webhook_start(struct vsg_webhook *wh, struct vsg_error *err)
{
    enum vsg_err rc;
    if (wh->started) return vsg_error_set(err, VSG_ERR_INVALIDSTATE, "webhook already started");
    wh->started = 1;
    if ((rc = vsg_kube_informer_start(wh->binf, err)) != VSG_OK ||
        (rc = vsg_kube_informer_start(wh->nsinf, err)) != VSG_OK ||
        (rc = vsg_kube_informer_start(wh->secinf, err)) != VSG_OK)
        return rc;
    if (vsg_kube_informer_wait_synced(wh->binf, 30000) != VSG_OK ||
        vsg_kube_informer_wait_synced(wh->nsinf, 30000) != VSG_OK ||
        vsg_kube_informer_wait_synced(wh->secinf, 30000) != VSG_OK)
        return vsg_error_set(err, VSG_ERR_TIMEOUT, "webhook: VSphereBindings, Namespaces and Secret "
                                                   "%s not listed within 30 s", VSG_WH_SECRET);
    if (wh->o.ctl) {
        if (vsg_ctl_add_leader_hook(wh->o.ctl, on_leader, wh) != VSG_OK)
            return vsg_error_set(err, VSG_ERR_NOMEM, "webhook: too many leadership hooks");
        wh->hooked = 1;
    }
    if ((rc = first_certs(wh, err)) != VSG_OK) return rc;
    struct vsg_http_server_opts so = {
        .name = "webhook", .addr = wh->addr, .port = wh->o.port, .threads = (unsigned)wh->nslots,
        .max_body = MAX_BODY, .timeout_s = IDLE_TIMEOUT_S, .cert_pem = wh->certs.cert_pem,
        .key_pem = wh->certs.key_pem};
    if (!(wh->srv = vsg_http_server_new(&so, err))) return err->code;
    if ((rc = vsg_http_server_route(wh->srv, "POST", "/defaulting", h_defaulting, wh, err)) != VSG_OK ||
        (rc = vsg_http_server_route(wh->srv, "POST", "/resource-validation", h_validation, wh, err)) !=
            VSG_OK ||
        (rc = vsg_http_server_route(wh->srv, "POST", "/vspherebindings", h_bindings, wh, err)) != VSG_OK ||
        (rc = vsg_http_server_route(wh->srv, "POST", "/uninstall", h_uninstall, wh, err)) != VSG_OK ||
        (rc = vsg_http_server_add_healthz(wh->srv, "/healthz", NULL, NULL, err)) != VSG_OK ||
        (rc = vsg_http_server_start(wh->srv, err)) != VSG_OK)
        return rc;
    VSG_LOG_INFO(LOGGER, "webhook on https://%s:%u (%zu workers, %s mode%s%s)", wh->addr,
                 vsg_http_server_port(wh->srv), wh->nslots, wh->mode,
                 wh->url_base ? ", registered by URL " : "", wh->url_base ? wh->url_base : "");
    if (pthread_create(&wh->mgr, NULL, cert_manager, wh) != 0)
        return vsg_error_set(err, VSG_ERR_NOMEM, "webhook: cannot start a thread");
    wh->mgr_started = 1;
    return VSG_OK;
}

void vsg_webhook_stop(struct vsg_webhook *wh)
{
    if (!wh) return;
    if (wh->hooked) {
        vsg_ctl_remove_leader_hook(wh->o.ctl, on_leader, wh);
        wh->hooked = 0;
    }
    pthread_mutex_lock(&wh->cmu);
    wh->stopping = 1;
    pthread_cond_broadcast(&wh->ccond);
    pthread_mutex_unlock(&wh->cmu);
    /* The informers wind down meanwhile, with the controller's (each takes
     * up to a second to see it; vsg_webhook_free() joins them). */
    if (wh->binf) vsg_kube_informer_cancel(wh->binf);
    if (wh->nsinf) vsg_kube_informer_cancel(wh->nsinf);
    if (wh->secinf) vsg_kube_informer_cancel(wh->secinf);
    if (wh->mgr_started) {
        pthread_join(wh->mgr, NULL);
        wh->mgr_started = 0;
    }
    /* Only the leader registered them (and a new leader's stay). */
    if (wh->url_base && wh->started && wh->client && leading(wh)) delete_url_configs(wh);
    wh->started = 0;
    if (wh->srv) vsg_http_server_stop(wh->srv);
}

void vsg_webhook_drain(struct vsg_webhook *wh)
{
    if (wh && wh->srv) vsg_http_server_drain(wh->srv);
}

void vsg_webhook_free(struct vsg_webhook *wh)
{
    if (!wh) return;
    vsg_webhook_stop(wh);
    vsg_http_server_free(wh->srv);
    vsg_kube_informer_free(wh->binf);
    vsg_kube_informer_free(wh->nsinf);
    vsg_kube_informer_free(wh->secinf);
    vsg_kube_discovery_free(wh->disco);
    for (size_t i = 0; wh->slots && i < wh->nslots; i++) vsg_lua_script_free(wh->slots[i].script);
    vsg_free(wh->slots);
    vsg_kube_client_free(wh->client);
    vsg_certs_cleanup(&wh->certs);
    vsg_free(wh->system_ns);
    vsg_free(wh->service);
    vsg_free(wh->lua_root);
    vsg_free(wh->search_path);
    vsg_free(wh->addr);
    vsg_free(wh->url_base);
    vsg_free(wh->mode);
    vsg_free(wh->certs_why);
    vsg_free(wh->skip_why);
    pthread_cond_destroy(&wh->scond);
    pthread_mutex_destroy(&wh->smu);
    pthread_cond_destroy(&wh->ccond);
    pthread_mutex_destroy(&wh->cmu);
    vsg__strmap_cleanup(&wh->kn_rows, vsg_free);
    pthread_mutex_destroy(&wh->mmu);
    vsg_free(wh);
}

unsigned vsg_webhook_port(const struct vsg_webhook *wh)
{
    return wh->srv ? vsg_http_server_port(wh->srv) : 0;
}
