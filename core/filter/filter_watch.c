/*
 * filter/filter_watch.c - hot reload of a source's filter (see
 * filter_watch.h).
 *
 * One thread per watcher. It only compiles candidates (fresh Lua states,
 * its own) and hands the accepted ones to the stage through its pending
 * slot; it never touches the version in use.
 */
#include "filter/filter_watch.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/vtime.h"
#include "kube/client.h"
#include "kube/watch.h"

/* Largest script or module read. */
#define MAX_SCRIPT (1024u * 1024)
/* Backoff of failed list/watch requests: 1 s doubling to 30 s. */
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
/* Longest message put in a Kubernetes Event. */
#define EVENT_MSG_MAX 1024
/* Server-side length of one watch request. */
#define WATCH_SECONDS 300

struct vsg_filter_watch {
    struct vsg_filter *stage;         /* Where versions go (borrowed). */
    char *logger;                     /* Logger name. */
    char *file;                       /* File mode: the path; else NULL. */
    char *file_name;                  /* Its last path component (chunk). */
    int poll_ms;                      /* File check period. */
    struct stat st;                   /* The file as last seen. */
    int have_st;                      /* st is valid. */
    char *ns;                         /* ConfigMap mode: namespace. */
    char *configmap;                  /* Its name. */
    char *key;                        /* The script's key. */
    char *source_name;                /* Events about this source, or NULL. */
    struct vsg_kube_client *kube;     /* The thread's client (list/watch). */
    struct vsg_kube_client *events;   /* Its client for Events: a watch
                                         request is in progress on `kube`
                                         while changes are handled. */
    int event_failed;                 /* Creating an Event failed once. */
    pthread_t thread;                 /* The watcher thread. */
    int started;                      /* thread is running. */
    atomic_int stop;                  /* Set to end the thread (and cancel
                                         its requests). */
    uint64_t last_hash;               /* Sources last considered. */
    int have_hash;                    /* last_hash is valid. */
    int missing_reported;             /* The script is missing and that
                                         was reported. */
    atomic_ulong accepted;            /* Versions offered. */
};

/* ====================================================================
 * Helpers
 * ==================================================================== */

const char *vsg_filter_default_root(void)
{
    static const char *const candidates[] = {VSG_DATA_DIR, VSG_SOURCE_DIR};
    const char *env = getenv("VSGATE_ROOT");
    struct stat st;
    char path[4096];

    if (env != NULL && *env) return env;
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        (void)snprintf(path, sizeof path, "%s/plugins", candidates[i]);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return candidates[i];
    }
    return NULL;
}

char *vsg_filter_search_path(const char *dir, const char *root)
{
    struct vsg_buf b;
    enum vsg_err rc = VSG_OK;

    vsg_buf_init(&b, 64 * 1024);
    if (dir != NULL) rc = vsg_buf_printf(&b, "%s/?.lua;%s/?/init.lua", dir, dir);
    if (rc == VSG_OK && root != NULL)
        rc = vsg_buf_printf(&b, "%s%s/lua/?.lua;%s/lua/?/init.lua;%s/plugins/?.lua;"
                                "%s/plugins/?/init.lua",
                            b.len ? ";" : "", root, root, root, root);
    if (rc == VSG_OK && b.data == NULL) rc = vsg_buf_puts(&b, "");
    if (rc != VSG_OK) {
        vsg_buf_cleanup(&b);
        return NULL;
    }
    return vsg_buf_steal(&b);
}

/* Sleeps `ms`, waking early on stop. */
static void nap(struct vsg_filter_watch *w, int64_t ms)
{
    int64_t end = vsg_time_mono_ms() + ms;
    while (!w->stop) {
        int64_t left = end - vsg_time_mono_ms();
        struct timespec ts;
        if (left <= 0) break;
        if (left > 100) left = 100;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)left * 1000000L;
        nanosleep(&ts, NULL);
    }
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

uint64_t vsg_filter_sources_hash(const struct vsg_lua_source *main,
                                 const struct vsg_lua_source *mods, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i <= n; i++) {
        const struct vsg_lua_source *s = i == 0 ? main : &mods[i - 1];
        h = fnv1a(h, s->name, strlen(s->name) + 1);
        h = fnv1a(h, s->text, s->len);
        h = fnv1a(h, "", 1);
    }
    return h;
}

/* Records a Kubernetes Event about the source (ConfigMap mode only). */
static void report(struct vsg_filter_watch *w, const char *type, const char *reason,
                   const char *fmt, ...) VSG_PRINTF(4, 5);

static void report(struct vsg_filter_watch *w, const char *type, const char *reason,
                   const char *fmt, ...)
{
    char msg[EVENT_MSG_MAX];
    struct vsg_kube_event ev;
    struct vsg_error err;
    va_list ap;

    if (w->events == NULL) return;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memset(&ev, 0, sizeof ev);
    if (w->source_name != NULL) {
        ev.api_version = "sources.tanzu.vmware.com/v1alpha1";
        ev.kind = "VSphereSource";
        ev.name = w->source_name;
    } else {
        ev.api_version = "v1";
        ev.kind = "ConfigMap";
        ev.name = w->configmap;
    }
    ev.ns = w->ns;
    ev.type = type;
    ev.reason = reason;
    ev.message = msg;
    ev.component = "vsphere-source-adapter";
    if (vsg_kube_create_event(w->events, &ev, &err) != VSG_OK && !w->event_failed) {
        w->event_failed = 1;
        VSG_LOG_WARN(w->logger, "cannot record a Kubernetes Event (%s %s): %s", type, reason,
                     err.msg);
    }
}

/* The script vanished: keep what runs, say so once. */
static void missing(struct vsg_filter_watch *w, const char *what)
{
    unsigned long n = atomic_load(&w->accepted);

    if (w->missing_reported) return;
    w->missing_reported = 1;
    w->have_hash = 0;
    if (n > 0) {
        VSG_LOG_WARN(w->logger, "filter: %s; the last good filter keeps running", what);
        report(w, "Warning", "FilterMissing", "%s; the last good filter keeps running", what);
    } else {
        VSG_LOG_WARN(w->logger, "filter: %s; no filter is loaded, events wait for one", what);
        report(w, "Warning", "FilterMissing", "%s; no filter is loaded, events wait for one",
               what);
    }
}

/* A (possibly) new version: compile, check, offer or report. The
 * rejection reason also goes to `out` (may be NULL). */
static enum vsg_err consider(struct vsg_filter_watch *w, const struct vsg_lua_source *main,
                             const struct vsg_lua_source *mods, size_t n, const char *label,
                             struct vsg_error *out)
{
    uint64_t h = vsg_filter_sources_hash(main, mods, n);
    struct vsg_filter_version *v;
    struct vsg_error err;
    unsigned long accepted;
    char hash[20];

    w->missing_reported = 0;
    if (w->have_hash && h == w->last_hash) return VSG_OK;
    w->last_hash = h;
    w->have_hash = 1;
    v = vsg_filter_compile(vsg_filter_config(w->stage), main, mods, n, label, &err);
    accepted = atomic_load(&w->accepted);
    if (v == NULL) {
        VSG_LOGF_ERROR(w->logger, ((const char *[]){"filterVersion", label, NULL}),
                       "filter rejected (%s): %s", accepted ? "the previous one keeps running"
                                                            : "no filter is loaded yet",
                       err.msg);
        report(w, "Warning", "FilterInvalid", "%s: %s (%s)", label, err.msg,
               accepted ? "the previous filter keeps running" : "no filter is loaded yet");
        if (out != NULL) *out = err;
        return err.code != VSG_OK ? err.code : VSG_ERR_LUA;
    }
    (void)snprintf(hash, sizeof hash, "%s", vsg_filter_version_hash(v));
    VSG_LOGF_INFO(w->logger, ((const char *[]){"filterVersion", label, "filterHash", hash, NULL}),
                  "filter accepted; it is used from the next event on");
    vsg_filter_offer(w->stage, v);
    atomic_fetch_add(&w->accepted, 1);
    report(w, "Normal", "FilterUpdated", "%s accepted (hash %s)", label, hash);
    return VSG_OK;
}

/* ====================================================================
 * File mode
 * ==================================================================== */

/* Reads the file into `b`. */
static int read_all(const char *path, struct vsg_buf *b, int *eno)
{
    FILE *f = fopen(path, "rb");
    char chunk[8192];
    size_t n;
    int ok = 1;

    if (f == NULL) {
        *eno = errno;
        return 0;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (vsg_buf_append(b, chunk, n) != VSG_OK) {
            *eno = EFBIG;
            ok = 0;
            break;
        }
    if (ferror(f)) {
        *eno = EIO;
        ok = 0;
    }
    fclose(f);
    return ok;
}

/* Checks the file once: VSG_OK when unchanged or accepted; otherwise why
 * not (also in `out`, may be NULL). */
static enum vsg_err check_file(struct vsg_filter_watch *w, struct vsg_error *out)
{
    struct stat st;
    struct vsg_buf b;
    char what[600], label[600];
    int eno = 0;
    enum vsg_err rc;

    if (stat(w->file, &st) != 0) {
        (void)snprintf(what, sizeof what, "file %s: %s", w->file, strerror(errno));
        w->have_st = 0;
        missing(w, what);
        return vsg_error_set(out, VSG_ERR_IO, "%s", what);
    }
    if (w->have_st && st.st_ino == w->st.st_ino && st.st_dev == w->st.st_dev &&
        st.st_size == w->st.st_size && st.st_mtim.tv_sec == w->st.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == w->st.st_mtim.tv_nsec && st.st_ctim.tv_sec == w->st.st_ctim.tv_sec &&
        st.st_ctim.tv_nsec == w->st.st_ctim.tv_nsec)
        return VSG_OK;
    w->st = st;
    w->have_st = 1;
    vsg_buf_init(&b, MAX_SCRIPT);
    if (!read_all(w->file, &b, &eno)) {
        (void)snprintf(what, sizeof what, "file %s: %s", w->file, strerror(eno));
        w->have_st = 0;
        missing(w, what);
        rc = vsg_error_set(out, VSG_ERR_IO, "%s", what);
    } else {
        struct vsg_lua_source main = {w->file_name, b.data ? b.data : "", b.len};
        (void)snprintf(label, sizeof label, "file %s", w->file);
        rc = consider(w, &main, NULL, 0, label, out);
    }
    vsg_buf_cleanup(&b);
    return rc;
}

static void *file_thread(void *ud)
{
    struct vsg_filter_watch *w = ud;

    while (!w->stop) {
        nap(w, w->poll_ms);
        if (!w->stop) (void)check_file(w, NULL);
    }
    return NULL;
}

/* ====================================================================
 * ConfigMap mode
 * ==================================================================== */

/* 1 when `s` ends with ".lua" and has a name before it. */
static int is_module_key(const char *s)
{
    size_t n = strlen(s);
    return n > 4 && strcmp(s + n - 4, ".lua") == 0;
}

int vsg_filter_cm_sources_read(struct vsg_filter_cm_sources *s, const cJSON *data,
                               const char *key, struct vsg_error *err)
{
    const cJSON *script, *it;

    memset(s, 0, sizeof *s);
    script = cJSON_GetObjectItemCaseSensitive(data, key != NULL ? key : "filter.lua");
    if (!cJSON_IsString(script)) return 0;
    s->main.name = script->string;
    s->main.text = script->valuestring;
    s->main.len = strlen(script->valuestring);
    cJSON_ArrayForEach(it, data) {
        if (it == script || !cJSON_IsString(it) || it->string == NULL ||
            !is_module_key(it->string))
            continue;
        if (s->n == VSG_FILTER_MAX_MODULES) {
            s->truncated = 1;
            break;
        }
        s->names[s->n] = vsg_strndup(it->string, strlen(it->string) - 4);
        if (s->names[s->n] == NULL) {
            vsg_filter_cm_sources_cleanup(s);
            vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
            return -1;
        }
        s->mods[s->n].name = s->names[s->n];
        s->mods[s->n].text = it->valuestring;
        s->mods[s->n].len = strlen(it->valuestring);
        s->n++;
    }
    return 1;
}

void vsg_filter_cm_sources_cleanup(struct vsg_filter_cm_sources *s)
{
    for (size_t i = 0; i < s->n; i++) vsg_free(s->names[i]);
    s->n = 0;
}

/* A ConfigMap as it is now (NULL: gone). */
static void handle_cm(struct vsg_filter_watch *w, const cJSON *cm)
{
    const cJSON *meta, *rv;
    struct vsg_filter_cm_sources src;
    struct vsg_error err;
    char what[600], label[600];
    int got;

    if (cm == NULL) {
        (void)snprintf(what, sizeof what, "ConfigMap %s/%s does not exist", w->ns, w->configmap);
        missing(w, what);
        return;
    }
    got = vsg_filter_cm_sources_read(&src, cJSON_GetObjectItemCaseSensitive(cm, "data"), w->key,
                                     &err);
    if (got < 0) {
        VSG_LOG_ERROR(w->logger, "filter: ConfigMap %s/%s: %s", w->ns, w->configmap, err.msg);
        return;
    }
    if (got == 0) {
        (void)snprintf(what, sizeof what, "ConfigMap %s/%s has no key %s", w->ns, w->configmap,
                       w->key);
        missing(w, what);
        return;
    }
    if (src.truncated)
        VSG_LOG_WARN(w->logger, "filter: ConfigMap %s/%s has more than %d modules; "
                                "ignoring the rest", w->ns, w->configmap, VSG_FILTER_MAX_MODULES);
    meta = cJSON_GetObjectItemCaseSensitive(cm, "metadata");
    rv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
    (void)snprintf(label, sizeof label, "ConfigMap %s/%s resourceVersion %s", w->ns,
                   w->configmap, cJSON_IsString(rv) ? rv->valuestring : "?");
    (void)consider(w, &src.main, src.mods, src.n, label, NULL);
    vsg_filter_cm_sources_cleanup(&src);
}

/* Longest resourceVersion kept, NUL included. */
#define RV_MAX 64

/* Copies object.metadata.resourceVersion into rv when present. */
static void take_rv(const cJSON *obj, char *rv)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "resourceVersion");
    if (cJSON_IsString(v) && strlen(v->valuestring) < RV_MAX)
        (void)snprintf(rv, RV_MAX, "%s", v->valuestring);
}

/* One watch request in progress. */
struct wreq {
    struct vsg_filter_watch *w;        /* The watcher. */
    char *rv;                          /* Its resourceVersion (in/out). */
    struct vsg_kube_watch_parser p;    /* Splits the stream into events. */
    enum vsg_err stop;                 /* Why the stream was stopped. */
    struct vsg_error err;              /* Its detail. */
};

static void handle_cm(struct vsg_filter_watch *w, const cJSON *cm);

static int on_wevent(void *ud, enum vsg_kube_watch_type type, cJSON **obj)
{
    struct wreq *x = ud;

    if (type == VSG_KUBE_WATCH_ERROR) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(*obj, "message");
        x->stop = vsg_kube_watch_status(*obj) == 410 ? VSG_ERR_GONE : VSG_ERR_HTTP;
        vsg_error_set(&x->err, x->stop, "watch: %s",
                      cJSON_IsString(msg) ? msg->valuestring : "error event");
        return 1;
    }
    take_rv(*obj, x->rv);
    if (type == VSG_KUBE_WATCH_BOOKMARK) return 0;
    handle_cm(x->w, type == VSG_KUBE_WATCH_DELETED ? NULL : *obj);
    return x->w->stop;
}

static int on_chunk(void *ud, const char *data, size_t len)
{
    struct wreq *x = ud;
    return vsg_kube_watch_parser_feed(&x->p, data, len) != VSG_OK;
}

/* Lists the ConfigMap (`query` selects it): handles it (or its absence)
 * and sets rv. */
static enum vsg_err list_cm(struct vsg_filter_watch *w, const char *base, char *rv,
                            struct vsg_error *err)
{
    cJSON *list = NULL;
    const cJSON *items;
    enum vsg_err rc = vsg_kube_get(w->kube, base, &list, err);

    rv[0] = '\0';
    if (rc != VSG_OK) return rc;
    take_rv(list, rv);
    items = cJSON_GetObjectItemCaseSensitive(list, "items");
    handle_cm(w, cJSON_GetArraySize(items) > 0 ? cJSON_GetArrayItem(items, 0) : NULL);
    cJSON_Delete(list);
    return VSG_OK;
}

/* One watch request from rv: VSG_OK when the server ended it (watch
 * again), VSG_ERR_GONE (list again), VSG_ERR_CANCELLED, or an error. */
static enum vsg_err watch_cm(struct vsg_filter_watch *w, const char *base, char *rv,
                             struct vsg_error *err)
{
    struct vsg_buf path;
    struct wreq x;
    struct vsg_error herr = {0};
    enum vsg_err rc;

    memset(&x, 0, sizeof x);
    x.w = w;
    x.rv = rv;
    vsg_kube_watch_parser_init(&x.p, 0, on_wevent, &x);
    vsg_buf_init(&path, 8192);
    rc = vsg_buf_printf(&path, "%s&watch=true&allowWatchBookmarks=true&timeoutSeconds=%d", base,
                        WATCH_SECONDS);
    if (rc == VSG_OK && rv[0]) {
        rc = vsg_buf_puts(&path, "&resourceVersion=");
        if (rc == VSG_OK) rc = vsg_http_escape(rv, &path);
    }
    if (rc != VSG_OK) {
        vsg_error_set(err, rc, "watch path too long");
        goto done;
    }
    rc = vsg_kube_stream(w->kube, path.data, (WATCH_SECONDS + 30) * 1000L, on_chunk, &x, &w->stop,
                         &herr);
    if (x.stop != VSG_OK) {
        rc = x.stop;
        *err = x.err;
    } else if (x.p.err.code != VSG_OK && x.p.err.code != VSG_ERR_CANCELLED) {
        rc = x.p.err.code;
        *err = x.p.err;
    } else if (rc != VSG_OK) {
        *err = herr;
    }
done:
    vsg_kube_watch_parser_cleanup(&x.p);
    vsg_buf_cleanup(&path);
    return rc;
}

static void *kube_thread(void *ud)
{
    struct vsg_filter_watch *w = ud;
    struct vsg_buf base, sel;
    char rv[RV_MAX];
    int64_t backoff = BACKOFF_MIN_MS;
    int failing = 0;

    vsg_buf_init(&base, 4096);
    vsg_buf_init(&sel, 4096);
    if (vsg_kube_path(&base, "v1", w->ns, "configmaps", NULL, NULL) != VSG_OK ||
        vsg_buf_printf(&sel, "metadata.name=%s", w->configmap) != VSG_OK ||
        vsg_buf_puts(&base, "?fieldSelector=") != VSG_OK ||
        vsg_http_escape(sel.data, &base) != VSG_OK) {
        VSG_LOG_ERROR(w->logger, "filter: bad ConfigMap name %s/%s", w->ns, w->configmap);
        goto out;
    }
    while (!w->stop) {
        struct vsg_error err = {0};
        enum vsg_err rc = list_cm(w, base.data, rv, &err);

        if (rc != VSG_OK) {
            if (w->stop) break;
            if (!failing++)
                VSG_LOG_ERROR(w->logger, "filter: cannot list ConfigMap %s/%s (retrying): %s",
                              w->ns, w->configmap, err.msg);
            nap(w, backoff);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        if (failing)
            VSG_LOG_INFO(w->logger, "filter: ConfigMap %s/%s readable again", w->ns, w->configmap);
        failing = 0;
        while (!w->stop) {
            rc = watch_cm(w, base.data, rv, &err);
            if (w->stop) break;
            if (rc == VSG_OK) {
                backoff = BACKOFF_MIN_MS; /* the server ended a healthy watch */
                continue;
            }
            if (rc == VSG_ERR_GONE) {
                VSG_LOG_DEBUG(w->logger, "filter: watch expired, listing again: %s", err.msg);
            } else {
                VSG_LOG_WARN(w->logger, "filter: watching ConfigMap %s/%s failed (listing again "
                                        "in %lld ms): %s",
                             w->ns, w->configmap, (long long)backoff, err.msg);
                nap(w, backoff);
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            }
            break;
        }
    }
out:
    vsg_buf_cleanup(&base);
    vsg_buf_cleanup(&sel);
    return NULL;
}

/* ====================================================================
 * Life cycle
 * ==================================================================== */

static int dup_opt(const char *s, char **out)
{
    *out = NULL;
    return s == NULL || (*out = vsg_strdup(s)) != NULL ? 0 : -1;
}

static void watch_free(struct vsg_filter_watch *w)
{
    if (w == NULL) return;
    vsg_kube_client_free(w->kube);
    vsg_kube_client_free(w->events);
    vsg_free(w->logger);
    vsg_free(w->file);
    vsg_free(w->file_name);
    vsg_free(w->ns);
    vsg_free(w->configmap);
    vsg_free(w->key);
    vsg_free(w->source_name);
    vsg_free(w);
}

struct vsg_filter_watch *vsg_filter_watch_start(const struct vsg_filter_watch_config *cfg,
                                                struct vsg_error *err)
{
    struct vsg_filter_watch *w = vsg_calloc(1, sizeof *w);
    int file = cfg->file != NULL;

    if (w == NULL) goto nomem;
    if (file == (cfg->configmap != NULL) || cfg->stage == NULL) {
        vsg_error_set(err, VSG_ERR_INVAL, "filter watch: give a stage and a file or a ConfigMap");
        goto fail;
    }
    w->stage = cfg->stage;
    atomic_init(&w->accepted, 0);
    w->poll_ms = cfg->poll_ms > 0 ? cfg->poll_ms : 1000;
    if (dup_opt(cfg->logger ? cfg->logger : "vsgate.adapter", &w->logger) ||
        dup_opt(cfg->file, &w->file) || dup_opt(cfg->ns, &w->ns) ||
        dup_opt(cfg->configmap, &w->configmap) ||
        dup_opt(cfg->key ? cfg->key : "filter.lua", &w->key) ||
        dup_opt(cfg->source_name, &w->source_name))
        goto nomem;
    if (file) {
        const char *slash = strrchr(w->file, '/');
        if (dup_opt(slash ? slash + 1 : w->file, &w->file_name)) goto nomem;
        if (check_file(w, err) != VSG_OK) goto fail;
    } else {
        if (cfg->kube == NULL || cfg->ns == NULL) {
            vsg_error_set(err, VSG_ERR_INVAL, "filter watch: a ConfigMap needs a namespace and "
                                              "Kubernetes access");
            goto fail;
        }
        if ((w->kube = vsg_kube_client_new(cfg->kube, err)) == NULL ||
            (w->events = vsg_kube_client_new(cfg->kube, err)) == NULL)
            goto fail;
    }
    /* The thread never takes SIGTERM/SIGINT: their handler (the adapter's)
     * runs on the thread that owns what it cancels. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int prc = pthread_create(&w->thread, NULL, file ? file_thread : kube_thread, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (prc != 0) {
        vsg_error_set(err, VSG_ERR_NOMEM, "filter watch: cannot start a thread");
        goto fail;
    }
    w->started = 1;
    return w;
nomem:
    vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
fail:
    watch_free(w);
    return NULL;
}

void vsg_filter_watch_stop(struct vsg_filter_watch *w)
{
    if (w == NULL) return;
    w->stop = 1;
    if (w->started) pthread_join(w->thread, NULL);
    watch_free(w);
}

unsigned long vsg_filter_watch_accepted(const struct vsg_filter_watch *w)
{
    return atomic_load(&((struct vsg_filter_watch *)w)->accepted);
}
