/*
 * filter/filter_stage.c - the adapter's Lua filter stage (see
 * filter_stage.h): versions (compiled, dry-run on the sample event, run),
 * and the stage that swaps them in between events, counts, logs failures
 * at a bounded rate and rebuilds a state its memory limit wedged. One
 * event's call is filter_run.c's.
 */
#include "filter/internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/vtime.h"

struct vsg_filter_version {
    struct vsg_lua_script *script; /* The script (its state). */
    char *label;                   /* For logs; never NULL. */
    struct vsg_lua_source *src;    /* Copies: [0] main, then the modules. */
    size_t nsrc;                   /* How many. */
};

struct vsg_filter {
    struct vsg_filter_config cfg;      /* Strings point at the copies. */
    char *name;                        /* Copy of cfg.name. */
    char *logger;                      /* Copy of cfg.logger. */
    char *root;                        /* Copy of cfg.root. */
    char *search_path;                 /* Copy of cfg.search_path. */
    struct vsg_filter_version *current; /* In use (event thread), or NULL. */
    _Atomic(struct vsg_filter_version *) pending; /* Offered, not yet used. */
    struct {                           /* Counters: the event thread adds, any thread reads. */
        atomic_uint_fast64_t events, kept, changed, dropped, fanout, errors, swaps, resets;
    } stats;
    struct {                           /* Failure lines (event thread). */
        int64_t since_ms;              /* Start of the current period. */
        unsigned logged;               /* Lines written in it. */
        uint64_t held;                 /* Failures not written in it. */
        char last[VSG_ERROR_MSG_MAX];    /* The last failure held back. */
    } errlog;
};

/* A failing filter writes at most ERRLOG_BURST lines per ERRLOG_PERIOD_MS;
 * the failures held back are written as one summary line when the period
 * is over (at the next event) or when the filter stops. */
#define ERRLOG_BURST 5
#define ERRLOG_PERIOD_MS 60000

#define BUMP(c) atomic_fetch_add_explicit(&(c), 1, memory_order_relaxed)

/* ====================================================================
 * Versions
 * ==================================================================== */

/* The check of vsg_lua_script_update(): the dry run on the sample. */
static enum vsg_err dry_run(const struct vsg_lua_script *cand, void *ud, struct vsg_error *err)
{
    struct vsg_event ev;
    struct vsg_ce ce;
    struct vsg_filter_result res;
    enum vsg_err rc;

    (void)ud;
    vsg_ce_init(&ce);
    vsg_filter_result_init(&res);
    if ((rc = vsg_filter_sample(&ev, &ce, err)) != VSG_OK) goto done;
    vsg__filter_run_script(cand, &ev, &ce, &res);
    if (res.outcome == VSG_FILTER_ERROR)
        rc = vsg_error_set(err, res.error.code != VSG_OK ? res.error.code : VSG_ERR_LUA,
                           "dry run on a sample VmPoweredOnEvent: %s", res.error.msg);
    vsg_event_cleanup(&ev);
done:
    vsg_filter_result_cleanup(&res);
    vsg_ce_cleanup(&ce);
    return rc;
}

/* How the states of versions compiled with `cfg` are made. */
static void state_config(const struct vsg_filter_config *cfg, struct vsg_lua_config *lc)
{
    memset(lc, 0, sizeof *lc);
    lc->kind = VSG_LUA_KIND_FILTER;
    lc->limits = cfg->limits;
    lc->name = cfg->name ? cfg->name : "vsgate.filter";
    lc->root = cfg->root;
    lc->search_path = cfg->search_path;
}

/* Keeps copies of the sources, to rebuild the state (reset_state). */
static enum vsg_err copy_sources(struct vsg_filter_version *v, const struct vsg_lua_source *main,
                                 const struct vsg_lua_source *modules, size_t nmodules)
{
    if ((v->src = vsg_calloc(nmodules + 1, sizeof *v->src)) == NULL) return VSG_ERR_NOMEM;
    for (size_t i = 0; i <= nmodules; i++) {
        const struct vsg_lua_source *from = i == 0 ? main : &modules[i - 1];
        struct vsg_lua_source *to = &v->src[i];
        v->nsrc = i + 1;
        if ((to->name = vsg_strdup(from->name)) == NULL ||
            (to->text = vsg_strndup(from->text, from->len)) == NULL)
            return VSG_ERR_NOMEM;
        to->len = from->len;
    }
    return VSG_OK;
}

struct vsg_filter_version *vsg_filter_compile(const struct vsg_filter_config *cfg,
                                              const struct vsg_lua_source *main,
                                              const struct vsg_lua_source *modules,
                                              size_t nmodules, const char *label,
                                              struct vsg_error *err)
{
    struct vsg_lua_config lc;
    struct vsg_lua_script *probe = NULL;
    struct vsg_filter_version *v = NULL;
    enum vsg_err rc;

    state_config(cfg, &lc);
    /* Check in a throw-away state, so the version put in use starts clean. */
    if ((probe = vsg_lua_script_new(&lc, "filter", err)) == NULL) goto fail;
    rc = vsg_lua_script_update(probe, main, modules, nmodules, dry_run, NULL, err);
    vsg_lua_script_free(probe);
    if (rc != VSG_OK) goto fail;
    if ((v = vsg_calloc(1, sizeof *v)) == NULL ||
        (v->label = vsg_strdup(label ? label : "")) == NULL ||
        copy_sources(v, main, modules, nmodules) != VSG_OK) {
        vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((v->script = vsg_lua_script_new(&lc, "filter", err)) == NULL ||
        vsg_lua_script_update(v->script, main, modules, nmodules, NULL, NULL, err) != VSG_OK)
        goto fail;
    return v;
fail:
    vsg_filter_version_free(v);
    return NULL;
}

void vsg_filter_version_free(struct vsg_filter_version *v)
{
    if (v == NULL) return;
    vsg_lua_script_free(v->script);
    for (size_t i = 0; i < v->nsrc; i++) {
        vsg_free((char *)v->src[i].name);
        vsg_free((char *)v->src[i].text);
    }
    vsg_free(v->src);
    vsg_free(v->label);
    vsg_free(v);
}

const char *vsg_filter_version_label(const struct vsg_filter_version *v)
{
    return v && v->label ? v->label : "";
}

const char *vsg_filter_version_hash(const struct vsg_filter_version *v)
{
    return v ? vsg_lua_script_hash(v->script) : "";
}

size_t vsg_filter_version_memory(const struct vsg_filter_version *v)
{
    struct vsg_lua *s = v ? vsg_lua_script_state(v->script) : NULL;
    return s ? vsg_lua_memory(s) : 0;
}

enum vsg_err vsg_filter_version_run(struct vsg_filter_version *v, const struct vsg_event *ev,
                                    const struct vsg_ce *ce, struct vsg_filter_result *res)
{
    vsg__filter_run_script(v->script, ev, ce, res);
    return VSG_OK;
}

/* ====================================================================
 * The stage
 * ==================================================================== */

static int dup_opt(const char *s, char **out)
{
    *out = NULL;
    return s == NULL || (*out = vsg_strdup(s)) != NULL ? 0 : -1;
}

struct vsg_filter *vsg_filter_new(const struct vsg_filter_config *cfg, struct vsg_error *err)
{
    struct vsg_filter *f = vsg_calloc(1, sizeof *f);

    if (f == NULL) goto nomem;
    f->cfg = *cfg;
    atomic_init(&f->pending, NULL);
    if (dup_opt(cfg->name ? cfg->name : "vsgate.filter", &f->name) ||
        dup_opt(cfg->logger ? cfg->logger : "vsgate.adapter", &f->logger) ||
        dup_opt(cfg->root, &f->root) || dup_opt(cfg->search_path, &f->search_path))
        goto nomem;
    f->cfg.name = f->name;
    f->cfg.logger = f->logger;
    f->cfg.root = f->root;
    f->cfg.search_path = f->search_path;
    return f;
nomem:
    vsg_filter_free(f);
    vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
    return NULL;
}

void vsg_filter_free(struct vsg_filter *f)
{
    if (f == NULL) return;
    vsg_filter_version_free(atomic_exchange(&f->pending, NULL));
    vsg_filter_version_free(f->current);
    vsg_free(f->name);
    vsg_free(f->logger);
    vsg_free(f->root);
    vsg_free(f->search_path);
    vsg_free(f);
}

const struct vsg_filter_config *vsg_filter_config(const struct vsg_filter *f)
{
    return &f->cfg;
}

void vsg_filter_offer(struct vsg_filter *f, struct vsg_filter_version *v)
{
    vsg_filter_version_free(atomic_exchange(&f->pending, v));
}

int vsg_filter_swap_pending(struct vsg_filter *f)
{
    struct vsg_filter_version *v, *old;

    if (atomic_load_explicit(&f->pending, memory_order_acquire) == NULL) return 0;
    if ((v = atomic_exchange(&f->pending, NULL)) == NULL) return 0;
    old = f->current;
    f->current = v;
    BUMP(f->stats.swaps);
    {
        char mem[32];
        (void)snprintf(mem, sizeof mem, "%zu", vsg_filter_version_memory(v));
        VSG_LOGF_INFO(f->logger,
                      ((const char *[]){"filterVersion", v->label, "filterHash",
                                        vsg_filter_version_hash(v), "#luaBytes", mem, NULL}),
                      "filter %s in use", v->label);
    }
    vsg_filter_version_free(old);
    return 1;
}

int vsg_filter_ready(const struct vsg_filter *f)
{
    return f->current != NULL;
}

const struct vsg_filter_version *vsg_filter_current(const struct vsg_filter *f)
{
    return f->current;
}

void vsg_filter_stats(const struct vsg_filter *f, struct vsg_filter_stats *out)
{
    struct vsg_filter *m = (struct vsg_filter *)f;
    out->events = atomic_load_explicit(&m->stats.events, memory_order_relaxed);
    out->kept = atomic_load_explicit(&m->stats.kept, memory_order_relaxed);
    out->changed = atomic_load_explicit(&m->stats.changed, memory_order_relaxed);
    out->dropped = atomic_load_explicit(&m->stats.dropped, memory_order_relaxed);
    out->fanout = atomic_load_explicit(&m->stats.fanout, memory_order_relaxed);
    out->errors = atomic_load_explicit(&m->stats.errors, memory_order_relaxed);
    out->swaps = atomic_load_explicit(&m->stats.swaps, memory_order_relaxed);
    out->resets = atomic_load_explicit(&m->stats.resets, memory_order_relaxed);
}

/* After a memory limit failure: when the state still holds more than half
 * its limit once collected, what fills it is data the script keeps between
 * events, and every later event would fail too. The state is rebuilt from
 * the version's sources (its main chunk runs again; what it kept is gone),
 * once per failure at most, and that is logged and counted. */
static void maybe_reset_state(struct vsg_filter *f)
{
    struct vsg_filter_version *v = f->current;
    struct vsg_lua *s = vsg_lua_script_state(v->script);
    struct vsg_lua_config lc;
    struct vsg_lua_script *fresh;
    struct vsg_error err;
    size_t held, limit;

    if (s == NULL || v->nsrc == 0) return;
    lua_gc(vsg_lua_L(s), LUA_GCCOLLECT);
    held = vsg_lua_memory(s);
    limit = vsg_lua_limits(s).memory;
    if (held <= limit / 2) return;
    state_config(&f->cfg, &lc);
    if ((fresh = vsg_lua_script_new(&lc, "filter", &err)) == NULL ||
        vsg_lua_script_update(fresh, &v->src[0], v->src + 1, v->nsrc - 1, NULL, NULL, &err) != VSG_OK) {
        vsg_lua_script_free(fresh);
        VSG_LOGF_ERROR(f->logger, ((const char *[]){"filterVersion", v->label, NULL}),
                       "filter state holds %zu of its %zu bytes and cannot be rebuilt: %s", held, limit,
                       err.msg);
        return;
    }
    vsg_lua_script_free(v->script);
    v->script = fresh;
    BUMP(f->stats.resets);
    VSG_LOGF_WARN(f->logger, ((const char *[]){"filterVersion", v->label, NULL}),
                  "filter state reset: after a memory limit failure it still held %zu of its %zu bytes "
                  "(data the script keeps between events); it starts over from its main chunk",
                  held, limit);
}

static const char *on_error_phrase(const struct vsg_filter *f)
{
    return f->cfg.on_error == VSG_FILTER_DROP ? "dropping it (onError: drop)"
                                              : "delivering it unchanged (onError: deliver)";
}

/* Writes the summary of the failures held back, if any, and starts a new
 * period when the current one is over (or `force`). */
static void errlog_roll(struct vsg_filter *f, int force)
{
    int64_t now = vsg_time_mono_ms();

    if (!force && now - f->errlog.since_ms < ERRLOG_PERIOD_MS) return;
    if (f->errlog.held > 0) {
        char n[24];

        (void)snprintf(n, sizeof n, "%llu", (unsigned long long)f->errlog.held);
        VSG_LOGF_WARN(f->logger,
                      ((const char *[]){"#failures", n, "filterVersion",
                                        f->current ? f->current->label : "", NULL}),
                      "filter failed on %s more events since the last lines, %s; the last: %s", n,
                      on_error_phrase(f), f->errlog.last);
    }
    f->errlog.since_ms = now;
    f->errlog.logged = 0;
    f->errlog.held = 0;
    f->errlog.last[0] = '\0';
}

void vsg_filter_log_stats(struct vsg_filter *f)
{
    errlog_roll(f, 1);
    char n[8][24];
    struct vsg_filter_stats st;
    vsg_filter_stats(f, &st);
    const uint64_t v[8] = {st.events, st.kept, st.changed, st.dropped, st.fanout, st.errors, st.swaps,
                           st.resets};

    for (int i = 0; i < 8; i++) (void)snprintf(n[i], sizeof n[i], "%llu", (unsigned long long)v[i]);
    VSG_LOGF_INFO(f->logger,
                  ((const char *[]){"#events", n[0], "#kept", n[1], "#changed", n[2], "#dropped", n[3],
                                    "#fannedOut", n[4], "#errors", n[5], "#versions", n[6],
                                    "#stateResets", n[7], NULL}),
                  "filter stopped");
}

enum vsg_err vsg_filter_on_error_parse(const char *s, enum vsg_filter_on_error *out)
{
    if (s == NULL || *s == '\0' || strcmp(s, "deliver") == 0) *out = VSG_FILTER_DELIVER;
    else if (strcmp(s, "drop") == 0) *out = VSG_FILTER_DROP;
    else return VSG_ERR_INVAL;
    return VSG_OK;
}

enum vsg_err vsg_filter_run(struct vsg_filter *f, const struct vsg_event *ev,
                            const struct vsg_ce *ce, struct vsg_filter_result *res)
{
    if (f->current == NULL) {
        vsg__filter_result_clear(res);
        res->outcome = VSG_FILTER_KEPT;
        res->original = 1;
        return VSG_ERR_INVALIDSTATE;
    }
    if (f->errlog.logged > 0) errlog_roll(f, 0);
    vsg__filter_run_script(f->current->script, ev, ce, res);
    /* Stopped by the process stopping (vsg_lua_set_interrupt): the event
     * was not filtered; nothing is sent, nothing counted, and the caller
     * must not move past it. */
    if (res->outcome == VSG_FILTER_ERROR && res->error.code == VSG_ERR_CANCELLED) return VSG_ERR_CANCELLED;
    BUMP(f->stats.events);
    switch (res->outcome) {
    case VSG_FILTER_KEPT: BUMP(f->stats.kept); break;
    case VSG_FILTER_CHANGED: BUMP(f->stats.changed); break;
    case VSG_FILTER_DROPPED: BUMP(f->stats.dropped); break;
    case VSG_FILTER_FANOUT: BUMP(f->stats.fanout); break;
    case VSG_FILTER_ERROR:
        BUMP(f->stats.errors);
        if (f->errlog.logged == 0) f->errlog.since_ms = vsg_time_mono_ms();
        if (f->errlog.logged < ERRLOG_BURST) {
            f->errlog.logged++;
            VSG_LOGF_WARN(f->logger,
                          ((const char *[]){"eventId", ce->id ? ce->id : "", "eventType",
                                            ce->type ? ce->type : "", "filterVersion",
                                            f->current->label, NULL}),
                          "filter failed on event %s, %s: %s%s", ce->id ? ce->id : "",
                          on_error_phrase(f), res->error.msg,
                          f->errlog.logged == ERRLOG_BURST
                              ? " (more failures in the next minute are counted, not logged)"
                              : "");
        } else {
            f->errlog.held++;
            (void)snprintf(f->errlog.last, sizeof f->errlog.last, "%s", res->error.msg);
        }
        if (f->cfg.on_error == VSG_FILTER_DELIVER) res->original = 1;
        if (res->error.code == VSG_ERR_LIMIT && strstr(res->error.msg, "memory limit exceeded"))
            maybe_reset_state(f);
        break;
    }
    return VSG_OK;
}
