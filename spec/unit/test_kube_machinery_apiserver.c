/*
 * test_kube_machinery_apiserver.c - the controller machinery of core/kube
 * against a REAL kube-apiserver (spec/harness/up). Exits 77 (ctest SKIP)
 * when KUBECONFIG or VSG_APISERVER is unset.
 *
 * Checks: discovery (namespaced, cluster-scoped, unknown kinds); an
 * informer lists what exists, then sees creates, updates and deletes in
 * order, with its cache following; a watch restarted from a too-old
 * resourceVersion gets 410 and the informer relists without losing a
 * change made meanwhile (an Event informer: Events are not watch-cached,
 * so after compacting etcd through its gateway a watch from resourceVersion
 * 1 really gets 410 Expired); two electors on one Lease: one leads, the other
 * takes over after the first stops renewing (and at once after a
 * release), never both at the same time; vsg.kube from Lua: create, get
 * (API and informer cache), list with a label selector, update with a
 * stale resourceVersion (Conflict table), update_status, merge and JSON
 * patches, event, delete, NotFound and AlreadyExists tables, the context
 * guard, and vsg.hash.md5 (Knative's ChildName example).
 */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/vtime.h"
#include "http/client.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/discovery.h"
#include "kube/informer.h"
#include "kube/leader.h"
#include "kube/lua_kube.h"
#include "lua/host.h"

static struct vsg_kube_config cfg; /* Admin configuration. */
static struct vsg_kube_client *kc; /* Admin client. */
static char ns[64];                /* The test's namespace. */

static cJSON *obj(const char *json)
{
    cJSON *o = cJSON_Parse(json);
    if (!o) abort();
    return o;
}

static enum vsg_err cm_create(const char *name, const char *labels, cJSON **out)
{
    char buf[1024];
    struct vsg_error e;
    snprintf(buf, sizeof buf, "{\"metadata\":{\"name\":\"%s\",\"labels\":%s},\"data\":{\"v\":\"1\"}}",
             name, labels ? labels : "{}");
    cJSON *o = obj(buf);
    enum vsg_err rc = vsg_kube_configmap_create(kc, ns, o, out, &e);
    if (rc != VSG_OK) fprintf(stderr, "create %s: %s\n", name, e.msg);
    cJSON_Delete(o);
    return rc;
}

static enum vsg_err cm_set(const char *name, const char *value)
{
    struct vsg_buf p;
    char body[256];
    struct vsg_error e;
    vsg_buf_init(&p, 1024);
    vsg_kube_path(&p, "v1", ns, "configmaps", name, NULL);
    snprintf(body, sizeof body, "{\"data\":{\"v\":\"%s\"}}", value);
    enum vsg_err rc = vsg_kube_patch(kc, p.data, VSG_KUBE_CT_MERGE_PATCH, body, NULL, &e);
    vsg_buf_cleanup(&p);
    return rc;
}

static enum vsg_err cm_delete(const char *name)
{
    struct vsg_buf p;
    struct vsg_error e;
    vsg_buf_init(&p, 1024);
    vsg_kube_path(&p, "v1", ns, "configmaps", name, NULL);
    enum vsg_err rc = vsg_kube_delete(kc, p.data, &e);
    vsg_buf_cleanup(&p);
    return rc;
}

/* ---- discovery ---- */

static void test_discovery(void)
{
    struct vsg_kube_discovery *d = vsg_kube_discovery_new();
    struct vsg_kube_resource r;
    struct vsg_error e;
    CHECK_INT(vsg_kube_discovery_lookup(d, kc, "apps/v1", "Deployment", &r, &e), VSG_OK);
    CHECK_STR(r.resource, "deployments");
    CHECK_INT(r.namespaced, 1);
    CHECK_INT(vsg_kube_discovery_lookup(d, kc, "v1", "Namespace", &r, &e), VSG_OK);
    CHECK_STR(r.resource, "namespaces");
    CHECK_INT(r.namespaced, 0);
    CHECK_INT(vsg_kube_discovery_lookup(d, kc, "v1", "NoSuchKind", &r, &e), VSG_ERR_NOTFOUND);
    CHECK_INT(vsg_kube_discovery_lookup(d, kc, "nosuch.example.com/v1", "Thing", &r, &e),
              VSG_ERR_NOTFOUND);
    CHECK_INT(vsg_kube_discovery_add(d, "x.io/v1", "Thing", "things", 1), VSG_OK);
    CHECK_INT(vsg_kube_discovery_lookup(d, kc, "x.io/v1", "Thing", &r, &e), VSG_OK);
    CHECK_STR(r.resource, "things");
    vsg_kube_discovery_free(d);
}

/* ---- informers ---- */

struct rec_events {
    pthread_mutex_t mu;   /* Guards the rest. */
    char log[8192];       /* "ADD a 1;UPDATE a 2<-1;DELETE a;" ... */
    int n;                /* Events. */
};

static void on_ev(void *ud, enum vsg_kube_event_type t, const cJSON *o, const cJSON *old)
{
    struct rec_events *r = ud;
    const char *names[] = {"ADD", "UPDATE", "DELETE"};
    char line[256];
    const char *v = NULL;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(o, "data");
    const cJSON *vv = cJSON_GetObjectItemCaseSensitive(data, "v");
    if (cJSON_IsString(vv)) v = vv->valuestring;
    if (t == VSG_KUBE_EVENT_UPDATE && old == o) return; /* Resyncs. */
    snprintf(line, sizeof line, "%s %s %s%s;", names[t], vsg_kube_meta_str(o, "name"), v ? v : "",
             t == VSG_KUBE_EVENT_UPDATE && old ? "<-" : "");
    if (t == VSG_KUBE_EVENT_UPDATE && old) {
        const cJSON *od = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(old, "data"), "v");
        size_t l = strlen(line);
        snprintf(line + l - 1, sizeof line - l + 1, "%s;", cJSON_IsString(od) ? od->valuestring : "");
    }
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(o, "kind")->valuestring, "ConfigMap");
    pthread_mutex_lock(&r->mu);
    strncat(r->log, line, sizeof r->log - strlen(r->log) - 1);
    r->n++;
    pthread_mutex_unlock(&r->mu);
}

/* Waits up to 10 s for `want` to appear in the log. */
static int wait_log(struct rec_events *r, const char *want)
{
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&r->mu);
        int ok = strstr(r->log, want) != NULL;
        pthread_mutex_unlock(&r->mu);
        if (ok) return 1;
        usleep(10 * 1000);
    }
    fprintf(stderr, "  waited for \"%s\" in \"%s\"\n", want, r->log);
    return 0;
}

static struct vsg_kube_informer *cm_informer(const char *sel, struct rec_events *r)
{
    struct vsg_error e;
    struct vsg_kube_informer_opts o = {
        .api_version = "v1", .kind = "ConfigMap", .resource = "configmaps", .ns = ns,
        .label_selector = sel, .page_size = 2, .resync_ms = 500, .watch_timeout_s = 30};
    struct vsg_kube_informer *inf = vsg_kube_informer_new(&cfg, &o, &e);
    if (!inf) fprintf(stderr, "informer: %s\n", e.msg);
    if (inf && vsg_kube_informer_add_handler(inf, on_ev, r) != VSG_OK) abort();
    return inf;
}

static void test_informer(void)
{
    static struct rec_events r = {PTHREAD_MUTEX_INITIALIZER, "", 0};
    struct vsg_error e;
    CHECK_INT(cm_create("pre1", "{\"t\":\"inf\"}", NULL), VSG_OK);
    CHECK_INT(cm_create("pre2", "{\"t\":\"inf\"}", NULL), VSG_OK);
    CHECK_INT(cm_create("pre3", "{\"t\":\"inf\"}", NULL), VSG_OK); /* 2 pages of 2. */
    CHECK_INT(cm_create("other", "{\"t\":\"no\"}", NULL), VSG_OK);
    struct vsg_kube_informer *inf = cm_informer("t=inf", &r);
    CHECK(inf != NULL);
    CHECK_INT(vsg_kube_informer_start(inf, &e), VSG_OK);
    CHECK_INT(vsg_kube_informer_wait_synced(inf, 10000), VSG_OK);
    CHECK(wait_log(&r, "ADD pre1 1;"));
    CHECK(wait_log(&r, "ADD pre3 1;"));
    CHECK_INT(vsg_kube_cache_len(vsg_kube_informer_cache(inf)), 3);
    CHECK_INT(cm_create("new", "{\"t\":\"inf\"}", NULL), VSG_OK);
    CHECK(wait_log(&r, "ADD new 1;"));
    CHECK_INT(cm_set("new", "2"), VSG_OK);
    CHECK(wait_log(&r, "UPDATE new 2<-1;"));
    cJSON *g = vsg_kube_cache_get(vsg_kube_informer_cache(inf), ns, "new");
    CHECK(g != NULL);
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(g, "data"), "v")->valuestring, "2");
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(g, "apiVersion")->valuestring, "v1");
    cJSON_Delete(g);
    CHECK_INT(cm_delete("new"), VSG_OK);
    CHECK(wait_log(&r, "DELETE new 2;"));
    CHECK(vsg_kube_cache_get(vsg_kube_informer_cache(inf), ns, "new") == NULL);
    pthread_mutex_lock(&r.mu);
    CHECK(strstr(r.log, "other") == NULL);
    pthread_mutex_unlock(&r.mu);
    /* A second handler gets the cached objects replayed. */
    static struct rec_events r2 = {PTHREAD_MUTEX_INITIALIZER, "", 0};
    CHECK_INT(vsg_kube_informer_add_handler(inf, on_ev, &r2), VSG_OK);
    CHECK_INT(r2.n, 3);
    /* Resync ran (resync_ms 500): watches were restarted at least once. */
    usleep(1200 * 1000);
    CHECK(vsg_kube_informer_watches(inf) >= 2);
    int64_t t0 = vsg_time_mono_ms();
    vsg_kube_informer_free(inf);
    CHECK(vsg_time_mono_ms() - t0 < 3000);
}

/* The etcd URL of the harness API server (from its command line), or "". */
static void etcd_url(char *buf, size_t n)
{
    char path[512], cmd[8192];
    const char *dir = getenv("VSG_HARNESS_DIR");
    long pid = 0;
    FILE *f;
    buf[0] = '\0';
    if (!dir) return;
    snprintf(path, sizeof path, "%s/apiserver.pid", dir);
    if (!(f = fopen(path, "r"))) return;
    if (fscanf(f, "%ld", &pid) != 1) pid = 0;
    fclose(f);
    snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
    if (!pid || !(f = fopen(path, "rb"))) return;
    size_t len = fread(cmd, 1, sizeof cmd - 1, f);
    fclose(f);
    for (size_t i = 0; i < len; i++) {
        if (strncmp(cmd + i, "--etcd-servers=", 15) == 0) {
            snprintf(buf, n, "%s", cmd + i + 15);
            char *comma = strchr(buf, ',');
            if (comma) *comma = '\0';
            return;
        }
        i += strlen(cmd + i);
    }
}

/* Compacts etcd up to its current revision (through its JSON gateway),
 * so that every older resourceVersion is gone. 0 on success. */
static int compact_etcd(void)
{
    char url[256], cmd[1024];
    etcd_url(url, sizeof url);
    if (!*url) return -1;
    snprintf(cmd, sizeof cmd,
             "rev=$(curl -fsS -X POST %s/v3/kv/range -d '{\"key\":\"AA==\",\"limit\":1}' | "
             "sed -n 's/.*\"revision\":\"\\([0-9]*\\)\".*/\\1/p') && [ -n \"$rev\" ] && "
             "curl -fsS -X POST %s/v3/kv/compaction -d \"{\\\"revision\\\":\\\"$rev\\\"}\" >/dev/null",
             url, url);
    return system(cmd) == 0 ? 0 : -1;
}

static void on_event_obj(void *ud, enum vsg_kube_event_type t, const cJSON *o, const cJSON *old)
{
    struct rec_events *r = ud;
    const char *names[] = {"ADD", "UPDATE", "DELETE"};
    char line[256];
    if (t == VSG_KUBE_EVENT_UPDATE && old == o) return;
    const cJSON *inv = cJSON_GetObjectItemCaseSensitive(o, "involvedObject");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(inv, "name");
    snprintf(line, sizeof line, "%s %s;", names[t], cJSON_IsString(n) ? n->valuestring : "?");
    pthread_mutex_lock(&r->mu);
    strncat(r->log, line, sizeof r->log - strlen(r->log) - 1);
    r->n++;
    pthread_mutex_unlock(&r->mu);
}

static enum vsg_err make_event(const char *about)
{
    struct vsg_error e;
    struct vsg_kube_event ev = {.kind = "ConfigMap", .ns = ns, .name = about, .reason = "Test",
                                .message = "relist"};
    return vsg_kube_create_event(kc, &ev, &e);
}

static void test_relist_410(void)
{
    /* Events are not in the API server's watch cache, so a watch from a
     * compacted resourceVersion really gets 410 Expired from etcd. */
    static struct rec_events r = {PTHREAD_MUTEX_INITIALIZER, "", 0};
    struct vsg_error e;
    char rv[64];
    struct vsg_kube_informer_opts o = {.api_version = "v1", .kind = "Event", .resource = "events",
                                       .ns = ns, .watch_timeout_s = 60};
    struct vsg_kube_informer *inf = vsg_kube_informer_new(&cfg, &o, &e);
    CHECK(inf != NULL);
    CHECK_INT(vsg_kube_informer_add_handler(inf, on_event_obj, &r), VSG_OK);
    CHECK_INT(make_event("before"), VSG_OK);
    CHECK_INT(vsg_kube_informer_start(inf, &e), VSG_OK);
    CHECK_INT(vsg_kube_informer_wait_synced(inf, 10000), VSG_OK);
    CHECK(wait_log(&r, "ADD before;"));
    CHECK_INT(vsg_kube_informer_lists(inf), 1);
    CHECK_INT(make_event("second"), VSG_OK);
    CHECK(wait_log(&r, "ADD second;"));
    if (compact_etcd() != 0) {
        fprintf(stderr, "  cannot compact the harness etcd: 410 path not exercised\n");
        vsg_kube_informer_free(inf);
        CHECK(0);
    }
    /* Restart the watch from a compacted version and add an event while
     * it is down: the 410 makes it relist, which delivers it. */
    unsigned long watches = vsg_kube_informer_watches(inf);
    vsg_kube_informer_restart_watch(inf, "1");
    CHECK_INT(make_event("during"), VSG_OK);
    CHECK(wait_log(&r, "ADD during;"));
    for (int i = 0; i < 500 && vsg_kube_informer_lists(inf) < 2; i++) usleep(10 * 1000);
    CHECK_INT(vsg_kube_informer_lists(inf), 2);
    CHECK(vsg_kube_informer_watches(inf) > watches);
    for (int i = 0; i < 500; i++) {
        vsg_kube_informer_last_rv(inf, rv, sizeof rv);
        if (strcmp(rv, "1") != 0) break;
        usleep(10 * 1000);
    }
    CHECK(strcmp(rv, "1") != 0 && *rv);
    CHECK_INT(vsg_kube_cache_len(vsg_kube_informer_cache(inf)), 3);
    /* Nothing was delivered twice, and it keeps watching. */
    pthread_mutex_lock(&r.mu);
    CHECK_INT(r.n, 3);
    pthread_mutex_unlock(&r.mu);
    CHECK_INT(make_event("after"), VSG_OK);
    CHECK(wait_log(&r, "ADD after;"));
    vsg_kube_informer_free(inf);
}

/* ---- leader election ---- */

struct elector {
    struct vsg_kube_leader *le; /* The elector. */
    atomic_int starts, stops;   /* Callback counts. */
};

static void le_start(void *ud)
{
    atomic_fetch_add(&((struct elector *)ud)->starts, 1);
}

static void le_stop(void *ud)
{
    atomic_fetch_add(&((struct elector *)ud)->stops, 1);
}

static struct vsg_kube_leader *make_elector(const char *id, struct elector *el)
{
    struct vsg_error e;
    cJSON *cm = obj("{\"data\":{\"lease-duration\":\"2s\",\"renew-deadline\":\"1500ms\","
                    "\"retryPeriod\":\"200ms\",\"buckets\":\"1\"}}");
    struct vsg_kube_leader_opts o = {.ns = ns, .name = "test-lease", .identity = id,
                                     .on_start = le_start, .on_stop = le_stop, .ud = el};
    if (vsg_kube_leader_config_from_configmap(cm, &o, &e) != VSG_OK) abort();
    cJSON_Delete(cm);
    return vsg_kube_leader_new(&cfg, &o, &e);
}

/* Samples both electors for `ms`; fails if both lead at once. Returns
 * which led last (1, 2, or 0). */
static int watch_both(struct elector *a, struct elector *b, int64_t ms, int until_leader)
{
    int64_t end = vsg_time_mono_ms() + ms;
    int who = 0;
    while (vsg_time_mono_ms() < end) {
        int la = a->le ? vsg_kube_leader_is_leader(a->le) : 0;
        int lb = b->le ? vsg_kube_leader_is_leader(b->le) : 0;
        CHECK(!(la && lb));
        who = la ? 1 : lb ? 2 : 0;
        if (until_leader && who == until_leader) break;
        usleep(5 * 1000);
    }
    return who;
}

static void test_leader(void)
{
    static struct elector a, b;
    struct vsg_error e;
    cJSON *cm = obj("{\"data\":{\"leaseDuration\":\"1s\",\"renewDeadline\":\"2s\"}}");
    struct vsg_kube_leader_opts bad = {0};
    CHECK_INT(vsg_kube_leader_config_from_configmap(cm, &bad, &e), VSG_ERR_INVAL);
    cJSON_Delete(cm);
    cm = obj("{\"data\":{\"retryPeriod\":\"soon\"}}");
    CHECK_INT(vsg_kube_leader_config_from_configmap(cm, &bad, &e), VSG_ERR_INVAL);
    cJSON_Delete(cm);
    CHECK_INT(vsg_kube_leader_config_from_configmap(NULL, &bad, &e), VSG_OK);
    CHECK_INT(bad.lease_ms, 15000);
    CHECK_INT(bad.renew_deadline_ms, 10000);
    CHECK_INT(bad.retry_ms, 2000);

    CHECK((a.le = make_elector("elector-a", &a)) != NULL);
    CHECK((b.le = make_elector("elector-b", &b)) != NULL);
    CHECK_INT(vsg_kube_leader_start(a.le, &e), VSG_OK);
    CHECK_INT(watch_both(&a, &b, 5000, 1), 1);
    CHECK_INT(vsg_kube_leader_start(b.le, &e), VSG_OK);
    /* B waits while A renews (well past A's lease duration). */
    CHECK_INT(watch_both(&a, &b, 3000, 0), 1);
    CHECK_INT(atomic_load(&b.starts), 0);
    /* A stops renewing without handing the lease back (a crash): B takes
     * over after the lease duration, not before. */
    int64_t t0 = vsg_time_mono_ms();
    vsg_kube_leader_stop(a.le, 0);
    CHECK_INT(atomic_load(&a.stops), 1);
    CHECK_INT(watch_both(&a, &b, 6000, 2), 2);
    int64_t took = vsg_time_mono_ms() - t0;
    CHECK(took >= 1500 && took < 4500);
    vsg_kube_leader_free(a.le);
    a.le = NULL;
    /* The Lease names B. */
    struct vsg_buf p;
    cJSON *lease = NULL;
    vsg_buf_init(&p, 512);
    vsg_kube_path(&p, "coordination.k8s.io/v1", ns, "leases", "test-lease", NULL);
    CHECK_INT(vsg_kube_get(kc, p.data, &lease, &e), VSG_OK);
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(lease, "spec");
    CHECK_STR(cJSON_GetObjectItemCaseSensitive(spec, "holderIdentity")->valuestring, "elector-b");
    CHECK_INT(cJSON_GetObjectItemCaseSensitive(spec, "leaseTransitions")->valueint, 1);
    cJSON_Delete(lease);
    vsg_buf_cleanup(&p);
    /* A new A; B releases on stop: A leads at once (one retry period). */
    static struct elector a2;
    CHECK((a2.le = make_elector("elector-a2", &a2)) != NULL);
    CHECK_INT(vsg_kube_leader_start(a2.le, &e), VSG_OK);
    CHECK_INT(watch_both(&a2, &b, 1000, 0), 2);
    t0 = vsg_time_mono_ms();
    vsg_kube_leader_stop(b.le, 1);
    CHECK_INT(watch_both(&a2, &b, 3000, 1), 1);
    CHECK(vsg_time_mono_ms() - t0 < 1200);
    vsg_kube_leader_free(b.le);
    vsg_kube_leader_free(a2.le);
    CHECK_INT(atomic_load(&a2.starts), 1);
    CHECK_INT(atomic_load(&a2.stops), 1);
}

/* ---- vsg.kube ---- */

static const struct vsg_lua_lib libs[] = {
    {"kube", vsg_kube_lua_open}, {"hash", vsg_hash_lua_open}, {NULL, NULL}};

/* Runs `src` (with global NS) in a RECONCILER state bound to `env`;
 * returns its error message or "" (static). */
static const char *run_lua(const struct vsg_kube_lua_env *env, enum vsg_lua_context ctx,
                           const char *src)
{
    static char msg[VSG_ERROR_MSG_MAX];
    struct vsg_error e;
    struct vsg_lua_config lc = {.kind = VSG_LUA_KIND_RECONCILER, .name = "test", .libs = libs};
    struct vsg_lua *s = vsg_lua_newstate(&lc, &e);
    struct vsg_buf b;
    msg[0] = '\0';
    if (!s) {
        snprintf(msg, sizeof msg, "newstate: %.400s", e.msg);
        return msg;
    }
    vsg_buf_init(&b, 65536);
    vsg_buf_printf(&b, "local NS = %s%s%s\n%s", "\"", ns, "\"", src);
    if (vsg_kube_lua_bind(s, env, &e) != VSG_OK || vsg_lua_load(s, "t.lua", b.data, b.len, &e) != VSG_OK) {
        snprintf(msg, sizeof msg, "%s", e.msg);
    } else {
        vsg_lua_set_context(s, ctx);
        if (vsg_lua_pcall(s, 0, 0, &e) != VSG_OK) snprintf(msg, sizeof msg, "%s", e.msg);
    }
    vsg_buf_cleanup(&b);
    vsg_lua_close(s);
    return msg;
}

static int writable = 1;
static int may_write(void *ud)
{
    (void)ud;
    return writable;
}

static const char lua_api[] =
    "local vsg = require 'vsg'\n"
    "local k = vsg.kube\n"
    "local function eq(a, b, what) if a ~= b then error(what .. ': got ' .. tostring(a) .. ', want ' .. tostring(b), 2) end end\n"
    "local cm, err = k.get('v1', 'ConfigMap', NS, 'lua-cm')\n"
    "eq(cm, nil, 'get missing'); eq(err.code, 'NotFound', 'code'); eq(err.status, 404, 'status')\n"
    "eq(err.retryable, false, 'retryable'); assert(tostring(err):find('^NotFound: '), tostring(err))\n"
    "cm = assert(k.create({apiVersion = 'v1', kind = 'ConfigMap', metadata = {name = 'lua-cm', namespace = NS,\n"
    "  labels = {app = 'lua'}}, data = {n = '1'}}))\n"
    "eq(cm.kind, 'ConfigMap', 'kind'); eq(cm.data.n, '1', 'data')\n"
    "local _, e2 = k.create({apiVersion = 'v1', kind = 'ConfigMap', metadata = {name = 'lua-cm', namespace = NS}})\n"
    "eq(e2.code, 'AlreadyExists', 'dup code'); eq(e2.status, 409, 'dup status')\n"
    "local got = assert(k.get('v1', 'ConfigMap', NS, 'lua-cm'))\n"
    "eq(got.metadata.uid, cm.metadata.uid, 'uid')\n"
    "got.data.n = '2'\n"
    "local up = assert(k.update(got))\n"
    "eq(up.data.n, '2', 'updated')\n"
    "cm.data.n = 'stale'\n"
    "local _, e3 = k.update(cm)\n"
    "eq(e3.code, 'Conflict', 'conflict code'); eq(e3.retryable, true, 'conflict retryable')\n"
    "local p = assert(k.patch('v1', 'ConfigMap', NS, 'lua-cm', {data = {m = 'x'}}))\n"
    "eq(p.data.m, 'x', 'merge patch'); eq(p.data.n, '2', 'merge keeps')\n"
    "p = assert(k.patch('v1', 'ConfigMap', NS, 'lua-cm', '[{\"op\":\"remove\",\"path\":\"/data/m\"}]', 'json'))\n"
    "eq(p.data.m, nil, 'json patch')\n"
    "local list = assert(k.list('v1', 'ConfigMap', NS, {labelSelector = 'app=lua'}))\n"
    "eq(#list, 1, 'list'); eq(list[1].metadata.name, 'lua-cm', 'list name'); eq(list[1].kind, 'ConfigMap', 'list kind')\n"
    "eq(#assert(k.list('v1', 'ConfigMap', NS, {labelSelector = 'app=none'})), 0, 'empty list')\n"
    "local sel = {matchExpressions = {{key = 'app', operator = 'In', values = {'x', 'lua'}}}}\n"
    "eq(#assert(k.list('v1', 'ConfigMap', NS, {labelSelector = sel})), 1, 'list by LabelSelector')\n"
    "eq(#assert(k.list('v1', 'ConfigMap', NS, {labelSelector = {matchLabels = {app = 'none'}}})), 0,\n"
    "   'LabelSelector matching nothing')\n"
    "eq(vsg.json.encode(assert(k.list('v1', 'ConfigMap', NS, {labelSelector = 'app=none'}))), '[]', 'empty list is []')\n"
    "assert(k.event(p, 'Warning', 'TestReason', 'from lua'))\n"
    "local _, e4 = k.patch('v1', 'ConfigMap', NS, 'nope', {data = {}})\n"
    "eq(e4.code, 'NotFound', 'patch missing')\n"
    "local _, e5 = k.get('v1', 'NoSuchKind', NS, 'x')\n"
    "eq(e5.code, 'NotFound', 'unknown kind')\n"
    "local ns = assert(k.get('v1', 'Namespace', nil, NS))\n"
    "eq(ns.metadata.name, NS, 'cluster-scoped get')\n"
    "-- status subresource: a Deployment\n"
    "local d = assert(k.create({apiVersion = 'apps/v1', kind = 'Deployment', metadata = {name = 'lua-d', namespace = NS},\n"
    "  spec = {replicas = 1, selector = {matchLabels = {a = 'b'}}, template = {metadata = {labels = {a = 'b'}},\n"
    "  spec = {containers = {{name = 'c', image = 'busybox'}}}}}}))\n"
    "eq(math.type(d.spec.replicas), 'integer', 'integers stay integers')\n"
    "d.status = {observedGeneration = 1, conditions = {{type = 'Available', status = 'True', reason = 'Test'}}}\n"
    "local ds = assert(k.update_status(d))\n"
    "eq(ds.status.conditions[1].type, 'Available', 'status written')\n"
    "eq(assert(k.delete('apps/v1', 'Deployment', NS, 'lua-d')), true, 'delete')\n"
    "eq(assert(k.delete('v1', 'ConfigMap', NS, 'lua-cm', {propagationPolicy = 'Background'})), true, 'delete opts')\n"
    "local _, e6 = k.delete('v1', 'ConfigMap', NS, 'lua-cm')\n"
    "eq(e6.code, 'NotFound', 'delete twice')\n"
    "eq(vsg.hash.md5(string.rep('f', 63)), '105d7597f637e83cc711605ac3ea4957', 'md5')\n"
    "eq(#vsg.hash.sha256(''), 64, 'sha256')\n"
    "local ok, m = pcall(k.create, {kind = 'ConfigMap'})\n"
    "eq(ok, false, 'misuse raises'); assert(m:find('apiVersion'), m)\n";

static void test_lua_kube(void)
{
    struct vsg_kube_discovery *d = vsg_kube_discovery_new();
    struct vsg_kube_lua_env env = {.client = kc, .disco = d, .component = "test",
                                   .may_write = may_write};
    CHECK_STR(run_lua(&env, VSG_LUA_CTX_RECONCILE, lua_api), "");
    /* The guard: not in filters, not at load time. */
    const char *m = run_lua(&env, VSG_LUA_CTX_FILTER, "require('vsg').kube.get('v1','ConfigMap',NS,'x')");
    CHECK(strstr(m, "vsg.kube.get is not allowed") != NULL);
    m = run_lua(&env, VSG_LUA_CTX_LOAD, "require('vsg').kube.get('v1','ConfigMap',NS,'x')");
    CHECK(strstr(m, "not allowed") != NULL);
    CHECK_STR(run_lua(&env, VSG_LUA_CTX_FILTER, "assert(require('vsg').hash.md5('') == 'd41d8cd98f00b204e9800998ecf8427e')"), "");
    /* Writes stop when the elector says so. */
    writable = 0;
    m = run_lua(&env, VSG_LUA_CTX_RECONCILE,
                "require('vsg').kube.create({apiVersion='v1',kind='ConfigMap',metadata={name='w',namespace=NS}})");
    CHECK(strstr(m, "no longer the leader") != NULL);
    writable = 1;
    /* Unbound: a clear error. */
    m = run_lua(NULL, VSG_LUA_CTX_RECONCILE, "require('vsg').kube.get('v1','ConfigMap',NS,'x')");
    CHECK(strstr(m, "no Kubernetes client") != NULL);
    vsg_kube_discovery_free(d);
}

static void test_lua_cache(void)
{
    struct vsg_kube_discovery *d = vsg_kube_discovery_new();
    struct vsg_kube_informers_opts io = {0};
    struct vsg_kube_informers *set = vsg_kube_informers_new(&cfg, d, &io);
    struct vsg_error e;
    CHECK_INT(cm_create("cached", "{\"c\":\"1\"}", NULL), VSG_OK);
    struct vsg_kube_informer *inf = vsg_kube_informers_ensure(set, kc, "v1", "ConfigMap", NULL, ns, &e);
    CHECK(inf != NULL);
    CHECK(vsg_kube_informers_ensure(set, kc, "v1", "ConfigMap", NULL, ns, &e) == inf);
    CHECK(vsg_kube_informers_find(set, "v1", "ConfigMap", NULL) == NULL);
    CHECK_INT(vsg_kube_informer_wait_synced(inf, 10000), VSG_OK);
    struct vsg_kube_lua_env env = {.client = kc, .disco = d, .informers = set};
    unsigned long before = 0;
    struct vsg_kube_stats st;
    memset(&st, 0, sizeof st);
    vsg_kube_client_set_stats(kc, &st);
    CHECK_STR(run_lua(&env, VSG_LUA_CTX_RECONCILE,
                      "local k = require('vsg').kube\n"
                      "local c = assert(k.get('v1', 'ConfigMap', NS, 'cached'))\n"
                      "assert(c.apiVersion == 'v1' and c.kind == 'ConfigMap')\n"
                      "local _, err = k.get('v1', 'ConfigMap', NS, 'absent')\n"
                      "assert(err.code == 'NotFound' and err.status == 404)\n"
                      "local l = assert(k.list('v1', 'ConfigMap', NS, {labelSelector = 'c=1'}))\n"
                      "assert(#l == 1 and l[1].metadata.name == 'cached', #l)\n"
                      "l = assert(k.list('v1', 'ConfigMap', NS, {labelSelector = {matchLabels = {c = '1'}}}))\n"
                      "assert(#l == 1 and l[1].metadata.name == 'cached', #l)\n"
                      "l = assert(k.list('v1', 'ConfigMap', NS,\n"
                      "  {labelSelector = {matchExpressions = {{key = 'c', operator = 'NotIn', values = {'1'}}}}}))\n"
                      "for _, o in ipairs(l) do assert(o.metadata.name ~= 'cached', 'NotIn matched c=1') end\n"
                      "local _, bad = k.list('v1', 'ConfigMap', NS, {labelSelector = {matchExpressions = {{key = 'c', operator = 'Gt'}}}})\n"
                      "assert(bad and bad.message:find('operator'), bad and bad.message)\n"),
              "");
    /* Served from the cache: no request. */
    CHECK_INT(atomic_load(&st.requests), before);
    vsg_kube_client_set_stats(kc, NULL);
    vsg_kube_informers_free(set);
    vsg_kube_discovery_free(d);
}

TEST_LIST = {
    {"discovery", test_discovery},
    {"informer", test_informer},
    {"relist_410", test_relist_410},
    {"leader", test_leader},
    {"lua_kube", test_lua_kube},
    {"lua_cache", test_lua_cache},
    {NULL, NULL},
};

int check_main(int argc, char **argv);
#define main check_main
TEST_MAIN()
#undef main

int main(int argc, char **argv)
{
    const char *kubeconfig = getenv("KUBECONFIG");
    struct vsg_error e;
    struct vsg_buf p;
    int rc = 1;
    if (!kubeconfig || !*kubeconfig || !getenv("VSG_APISERVER")) {
        printf("KUBECONFIG / VSG_APISERVER unset: no kube-apiserver, skipping\n");
        return 77;
    }
    vsg_http_global_init();
    if (vsg_kube_config_load(NULL, NULL, &cfg, &e) != VSG_OK) {
        fprintf(stderr, "kubeconfig: %s\n", e.msg);
        return 1;
    }
    if (!(kc = vsg_kube_client_new(&cfg, &e))) {
        fprintf(stderr, "client: %s\n", e.msg);
        vsg_kube_config_cleanup(&cfg);
        return 1;
    }
    snprintf(ns, sizeof ns, "vsg-mach-%ld-%ld", (long)getpid(), (long)time(NULL) % 100000);
    cJSON *nso = cJSON_CreateObject();
    cJSON_AddStringToObject(cJSON_AddObjectToObject(nso, "metadata"), "name", ns);
    vsg_buf_init(&p, 1024);
    vsg_kube_path(&p, "v1", NULL, "namespaces", NULL, NULL);
    if (vsg_kube_create(kc, p.data, nso, NULL, &e) != VSG_OK) {
        fprintf(stderr, "creating namespace %s: %s\n", ns, e.msg);
        goto done;
    }
    rc = check_main(argc, argv);
    vsg_buf_reset(&p);
    vsg_kube_path(&p, "v1", NULL, "namespaces", ns, NULL);
    (void)vsg_kube_delete(kc, p.data, &e);
done:
    cJSON_Delete(nso);
    vsg_buf_cleanup(&p);
    vsg_kube_client_free(kc);
    vsg_kube_config_cleanup(&cfg);
    vsg_http_global_cleanup();
    return rc;
}
