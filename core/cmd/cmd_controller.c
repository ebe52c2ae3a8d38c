/*
 * cmd_controller.c - `vsgate controller`: runs the Lua reconcilers
 * (controller/controller.h) with /metrics, /healthz and /readyz.
 *
 * Uses: controller/controller.h, http/server.h, kube/config.h, base/.
 * Owns its controller, servers and kube config.
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/url.h"
#include "base/vtime.h"
#include "cmd/cmd.h"
#include "controller/controller.h"
#include "cmd/util.h"
#include "webhook/webhook.h"
#include "http/client.h"
#include "http/server.h"
#include "kube/config.h"

#define LOGGER "vsgate.controller"
#define MAX_MODULES 16

static void usage(FILE *out)
{
    fprintf(out,
        "Usage: vsgate controller [options]\n"
        "\n"
        "Runs the Lua reconcilers (lua/reconcilers/<name>.lua) against the API server.\n"
        "\n"
        "Options:\n"
        "  --kubeconfig PATH       kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)\n"
        "  --context NAME          kubeconfig context (default: the current one)\n"
        "  --namespace NS          system namespace: Lease, config maps, Lua overrides\n"
        "                          (default: $SYSTEM_NAMESPACE, else vmware-sources)\n"
        "  --lua-root DIR          folder holding reconcilers/ and lib/ (default: $VSG_LUA_ROOT,\n"
        "                          else the installed share/vsgate/lua, else the source tree's lua/)\n"
        "  --reconcilers LIST      comma-separated reconciler modules\n"
        "                          (default: vspheresource,vspherebinding)\n"
        "  --leader-elect BOOL     only the Lease holder reconciles (default: true)\n"
        "  --lease-name NAME       Lease name (default: " VSG_CTL_LEASE_NAME ")\n"
        "  --identity ID           Lease holder identity (default: hostname_pid_random)\n"
        "  --overrides NAME        ConfigMap of Lua overrides (default: " VSG_CTL_OVERRIDES_CONFIGMAP ")\n"
        "  --resync DURATION       informer resync period, Go syntax (default: 10h)\n"
        "  --metrics-addr H:P      Prometheus /metrics (default: 0.0.0.0:$METRICS_PROMETHEUS_PORT,\n"
        "                          else 0.0.0.0:9090; \"\" turns it off)\n"
        "  --health-addr ADDR      address of /healthz and /readyz (default: 0.0.0.0)\n"
        "  --health-port N         port of /healthz and /readyz (default: 8080; 0 turns it off)\n"
        "  --no-webhook            do not serve the admission webhooks\n"
        "  --webhook-addr ADDR     webhook listen address (default: 0.0.0.0)\n"
        "  --webhook-port N        webhook HTTPS port (default: $WEBHOOK_PORT, else 8443)\n"
        "  --webhook-threads N     webhook workers, each with its own Lua state (default: 4)\n"
        "  --webhook-url-base URL  register the webhooks by URL (https://127.0.0.1:PORT) instead of\n"
        "                          the Service: the leader creates the three configurations with\n"
        "                          clientConfig.url and deletes them at exit (tests, development)\n"
        "  --cert-validity DUR     validity of the webhook certificates (default: 168h)\n"
        "  --cert-check DUR        how often Secret " VSG_WH_SECRET " and the webhook\n"
        "                          configurations are checked, besides on changes (default: 1m);\n"
        "                          only the leader writes them\n"
        "  --drain DURATION        on SIGTERM, fail /readyz and keep answering admission\n"
        "                          requests this long before stopping, while the API server\n"
        "                          and kube-proxy drop the pod from the Service (default: 5s;\n"
        "                          0 stops at once)\n"
        "  --filter-limits-max L   the most a VSphereSource's spec.filter.limits may ask for\n"
        "                          (default: instructions=100000000,memory=256Mi,timeoutMs=30000)\n"
        "  --reconciler-limits L   limits of each reconcile call (default: instructions=10000000,\n"
        "                          memory=64Mi,timeoutMs=10000)\n"
        "  --admission-limits L    limits of each admission call (default: instructions=5000000,\n"
        "                          memory=16Mi,timeoutMs=2000); L is any of\n"
        "                          instructions=N,memory=BYTES[Ki|Mi|Gi],timeoutMs=MS\n"
        "  -h, --help              this help\n"
        "\n"
        "Environment: VSPHERE_ADAPTER (adapter image, ctx.config.adapter_image), METRICS_DOMAIN,\n"
        "SYSTEM_NAMESPACE, VSG_LUA_ROOT, VSG_LOG_LEVEL, VSPHERE_BINDING_SELECTION_MODE\n"
        "(exclusion or inclusion), WEBHOOK_NAME (the webhook Service, named in the serving\n"
        "certificate; default " VSG_WH_SERVICE "), WEBHOOK_PORT, METRICS_PROMETHEUS_PORT (0: off; the flags win),\n"
        "CONFIG_LOGGING_NAME, CONFIG_OBSERVABILITY_NAME, CONFIG_LEADERELECTION_NAME (names of the\n"
        "config maps in the system namespace; default config-logging, config-observability,\n"
        "config-leader-election).\n"
        "\n"
        "Lua overrides: each data key \"<module>.lua\" of ConfigMap <overrides> in the system\n"
        "namespace replaces `require \"<module>\"` (\"reconcilers.vspheresource.lua\",\n"
        "\"lib.conditions.lua\"). A change is compiled into a fresh state, checked and swapped\n"
        "in between two reconciles; a broken one is logged and reported as a Warning Event\n"
        "(reason LuaOverrideRejected) on the ConfigMap, and the previous code keeps running.\n");
}

/* The default Lua root: $VSG_LUA_ROOT, <exe>/../share/vsgate/lua, the
 * install prefix's, the source tree's. */
static const char *default_lua_root(char *buf, size_t n)
{
    const char *env = getenv("VSG_LUA_ROOT");
    struct stat st;
    char exe[PATH_MAX];
    if (env && *env) return env;
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            int w = snprintf(buf, n, "%s/../share/vsgate/lua", exe);
            if (w > 0 && (size_t)w < n && stat(buf, &st) == 0 && S_ISDIR(st.st_mode)) return buf;
        }
    }
    snprintf(buf, n, "%s/lua", VSG_DATA_DIR);
    if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode)) return buf;
    snprintf(buf, n, "%s/lua", VSG_SOURCE_DIR);
    if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode)) return buf;
    return NULL;
}

/* What /metrics writes out: the controller's, and the webhook's once it runs. */
struct metrics_src {
    struct vsg_ctl *ctl;
    _Atomic(struct vsg_webhook *) wh;
};

static enum vsg_err h_metrics(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs)
{
    struct metrics_src *m = ud;
    struct vsg_webhook *wh = atomic_load(&m->wh);
    (void)rq;
    enum vsg_err rc = vsg_http_resp_header(rs, "Content-Type", "text/plain; version=0.0.4");
    if (rc == VSG_OK) rc = vsg_ctl_metrics(m->ctl, &rs->body);
    if (rc == VSG_OK && wh) rc = vsg_webhook_metrics(wh, &rs->body);
    return rc;
}

/* Set on SIGTERM/SIGINT: /readyz fails while the webhooks keep answering for --drain. */
/* The level from the environment (VSG_LOG_LEVEL wins over config-logging;
 * K_LOGGING_CONFIG is where config-logging's changes start from). */
static enum vsg_log_level start_level;
static int level_pinned;

/* config-logging changed (or was read at start): its level, live, as
 * Knative components apply loglevel.controller / zap-logger-config. */
static void on_logging(const char *json)
{
    if (level_pinned) return;
    enum vsg_log_level before = vsg_log_level();
    /* The Deployment's name, as deploy/system/400-config-logging.yaml names
     * it, or Knative's "controller". */
    if (!vsg_log_level_from_json(json, "vsphere-source-webhook,controller"))
        (void)vsg_log_set_level_from_string(vsg_log_level_name(start_level));
    if (vsg_log_level() != before)
        VSG_LOG_INFO(LOGGER, "log level %s (from config-logging)", vsg_log_level_name(vsg_log_level()));
}

static atomic_int draining;

static enum vsg_err c_ready(void *ud, struct vsg_error *why)
{
    if (atomic_load(&draining)) return vsg_error_set(why, VSG_ERR_INVALIDSTATE, "shutting down");
    return vsg_ctl_ready(ud, why);
}

static enum vsg_err c_healthy(void *ud, struct vsg_error *why)
{
    return vsg_ctl_healthy(ud, why);
}

/* Splits "host:port" ("" host: 0.0.0.0). */
static int split_addr(const char *s, char *host, size_t n, unsigned *port)
{
    const char *colon = strrchr(s, ':');
    char *end;
    if (!colon) return -1;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535 || colon[1] == '\0') return -1;
    snprintf(host, n, "%.*s", (int)(colon - s), s);
    if (!*host) snprintf(host, n, "0.0.0.0");
    *port = (unsigned)p;
    return 0;
}

enum {
    OPT_KUBECONFIG = 256, OPT_CONTEXT, OPT_NAMESPACE, OPT_LUA_ROOT, OPT_RECONCILERS,
    OPT_LEADER_ELECT, OPT_LEASE_NAME, OPT_IDENTITY, OPT_OVERRIDES, OPT_RESYNC, OPT_METRICS,
    OPT_HEALTH_ADDR, OPT_HEALTH_PORT, OPT_NO_WEBHOOK, OPT_WH_ADDR, OPT_WH_PORT, OPT_WH_THREADS,
    OPT_WH_URL, OPT_CERT_VALIDITY, OPT_CERT_CHECK, OPT_DRAIN,
    OPT_FILTER_MAX, OPT_RECONCILER_LIMITS, OPT_ADMISSION_LIMITS
};

static int parse_port(const char *opt, const char *s, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || !*s || v < 0 || v > 65535) {
        fprintf(stderr, "vsgate controller: %s: bad number \"%s\"\n", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

int vsg_cmd_controller(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
        {"context", required_argument, NULL, OPT_CONTEXT},
        {"namespace", required_argument, NULL, OPT_NAMESPACE},
        {"lua-root", required_argument, NULL, OPT_LUA_ROOT},
        {"reconcilers", required_argument, NULL, OPT_RECONCILERS},
        {"leader-elect", required_argument, NULL, OPT_LEADER_ELECT},
        {"lease-name", required_argument, NULL, OPT_LEASE_NAME},
        {"identity", required_argument, NULL, OPT_IDENTITY},
        {"overrides", required_argument, NULL, OPT_OVERRIDES},
        {"resync", required_argument, NULL, OPT_RESYNC},
        {"metrics-addr", required_argument, NULL, OPT_METRICS},
        {"health-addr", required_argument, NULL, OPT_HEALTH_ADDR},
        {"health-port", required_argument, NULL, OPT_HEALTH_PORT},
        {"no-webhook", no_argument, NULL, OPT_NO_WEBHOOK},
        {"webhook-addr", required_argument, NULL, OPT_WH_ADDR},
        {"webhook-port", required_argument, NULL, OPT_WH_PORT},
        {"webhook-threads", required_argument, NULL, OPT_WH_THREADS},
        {"webhook-url-base", required_argument, NULL, OPT_WH_URL},
        {"cert-validity", required_argument, NULL, OPT_CERT_VALIDITY},
        {"cert-check", required_argument, NULL, OPT_CERT_CHECK},
        {"drain", required_argument, NULL, OPT_DRAIN},
        {"filter-limits-max", required_argument, NULL, OPT_FILTER_MAX},
        {"reconciler-limits", required_argument, NULL, OPT_RECONCILER_LIMITS},
        {"admission-limits", required_argument, NULL, OPT_ADMISSION_LIMITS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *kubeconfig = NULL, *context = NULL, *ns = getenv("SYSTEM_NAMESPACE");
    const char *lua_root = NULL, *reconcilers = VSG_CTL_DEFAULT_RECONCILERS, *lease = NULL, *identity = NULL;
    const char *overrides = NULL, *metrics_addr = "0.0.0.0:9090", *health_addr = "0.0.0.0";
    char rootbuf[PATH_MAX], mhost[256] = "", list[1024];
    const char *modules[MAX_MODULES];
    size_t nmodules = 0;
    unsigned mport = 0;
    long health_port = 8080;
    int leader_elect = 1, code = 1, c, sig = 0;
    int64_t resync_ns = 10 * VSG_HOUR;
    struct vsg_kube_config cfg;
    struct vsg_error err;
    struct vsg_ctl *ctl = NULL;
    struct vsg_http_server *msrv = NULL, *hsrv = NULL;
    struct vsg_webhook *wh = NULL;
    struct metrics_src msrc = {NULL, NULL};
    int webhook = 1, wh_port_flag = 0, metrics_flag = 0;
    const char *wh_addr = "0.0.0.0", *wh_url = NULL;
    long wh_port = 8443, wh_threads = 4;
    int64_t cert_validity = 7 * 24 * VSG_HOUR, cert_check = VSG_MINUTE, drain_ns = 5 * VSG_SECOND;
    struct vsg_lua_limits filter_max = VSG_FILTER_LIMITS_MAX_DEFAULT;
    struct vsg_lua_limits rec_limits = vsg_lua_limits_default(VSG_LUA_KIND_RECONCILER);
    struct vsg_lua_limits adm_limits = vsg_lua_limits_default(VSG_LUA_KIND_ADMISSION);
    sigset_t sigs;
    memset(&cfg, 0, sizeof cfg);
    vsg_error_clear(&err);
    vsg_log_level_from_env("vsphere-source-webhook,controller");
    start_level = vsg_log_level();
    level_pinned = getenv("VSG_LOG_LEVEL") && *getenv("VSG_LOG_LEVEL");

    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_KUBECONFIG: kubeconfig = optarg; break;
        case OPT_CONTEXT: context = optarg; break;
        case OPT_NAMESPACE: ns = optarg; break;
        case OPT_LUA_ROOT: lua_root = optarg; break;
        case OPT_RECONCILERS: reconcilers = optarg; break;
        case OPT_LEASE_NAME: lease = optarg; break;
        case OPT_IDENTITY: identity = optarg; break;
        case OPT_OVERRIDES: overrides = optarg; break;
        case OPT_METRICS: metrics_addr = optarg; metrics_flag = 1; break;
        case OPT_HEALTH_ADDR: health_addr = optarg; break;
        case OPT_LEADER_ELECT:
            if (vsg_parse_bool(optarg, &leader_elect) != VSG_OK) {
                fprintf(stderr, "vsgate controller: --leader-elect: \"%s\" is not a boolean\n", optarg);
                return 2;
            }
            break;
        case OPT_RESYNC:
            if (vsg_duration_parse(optarg, &resync_ns) != VSG_OK || resync_ns < VSG_SECOND) {
                fprintf(stderr, "vsgate controller: --resync: \"%s\" is not a duration of 1s or more\n", optarg);
                return 2;
            }
            break;
        case OPT_HEALTH_PORT: {
            char *end;
            health_port = strtol(optarg, &end, 10);
            if (*end || health_port < 0 || health_port > 65535) {
                fprintf(stderr, "vsgate controller: --health-port: bad port \"%s\"\n", optarg);
                return 2;
            }
            break;
        }
        case OPT_NO_WEBHOOK: webhook = 0; break;
        case OPT_WH_ADDR: wh_addr = optarg; break;
        case OPT_WH_URL: wh_url = optarg; break;
        case OPT_WH_PORT:
            wh_port_flag = 1;
            if (parse_port("--webhook-port", optarg, &wh_port) != 0) return 2;
            break;
        case OPT_WH_THREADS:
            if (parse_port("--webhook-threads", optarg, &wh_threads) != 0 || wh_threads < 1 ||
                wh_threads > 256) {
                fprintf(stderr, "vsgate controller: --webhook-threads: 1 to 256\n");
                return 2;
            }
            break;
        case OPT_CERT_VALIDITY:
        case OPT_CERT_CHECK: {
            int64_t *dst = c == OPT_CERT_VALIDITY ? &cert_validity : &cert_check;
            if (vsg_duration_parse(optarg, dst) != VSG_OK || *dst < VSG_SECOND) {
                fprintf(stderr, "vsgate controller: %s: \"%s\" is not a duration of 1s or more\n",
                        c == OPT_CERT_VALIDITY ? "--cert-validity" : "--cert-check", optarg);
                return 2;
            }
            break;
        }
        case OPT_DRAIN:
            if (vsg_duration_parse(optarg, &drain_ns) != VSG_OK || drain_ns < 0) {
                fprintf(stderr, "vsgate controller: --drain: \"%s\" is not a duration\n", optarg);
                return 2;
            }
            break;
        case OPT_FILTER_MAX:
        case OPT_RECONCILER_LIMITS:
        case OPT_ADMISSION_LIMITS: {
            struct vsg_lua_limits *l = c == OPT_FILTER_MAX ? &filter_max
                                       : c == OPT_RECONCILER_LIMITS ? &rec_limits : &adm_limits;
            if (vsg_lua_limits_parse(c == OPT_FILTER_MAX ? "--filter-limits-max"
                                     : c == OPT_RECONCILER_LIMITS ? "--reconciler-limits"
                                                                  : "--admission-limits",
                                     optarg, l, &err) != VSG_OK) {
                fprintf(stderr, "vsgate controller: %s\n", err.msg);
                return 2;
            }
            break;
        }
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "Run `vsgate controller --help` for the options.\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vsgate controller: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    /* The shipped Deployment's env (as the Go version's): defaults of the flags. */
    char maddr_env[32];
    const char *pe;
    if (!wh_port_flag && webhook && (pe = getenv("WEBHOOK_PORT")) && *pe &&
        parse_port("WEBHOOK_PORT", pe, &wh_port) != 0)
        return 2;
    if (!metrics_flag && (pe = getenv("METRICS_PROMETHEUS_PORT")) && *pe) {
        long mp;
        if (parse_port("METRICS_PROMETHEUS_PORT", pe, &mp) != 0) return 2;
        snprintf(maddr_env, sizeof maddr_env, mp ? "0.0.0.0:%ld" : "", mp); /* 0: off */
        metrics_addr = maddr_env;
    }
    if (!ns || !*ns) ns = "vmware-sources";
    if (!lua_root && !(lua_root = default_lua_root(rootbuf, sizeof rootbuf))) {
        fprintf(stderr, "vsgate controller: no Lua folder found; give --lua-root or VSG_LUA_ROOT\n");
        return 2;
    }
    snprintf(list, sizeof list, "%s", reconcilers);
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        if (!*t) continue;
        if (nmodules == MAX_MODULES) {
            fprintf(stderr, "vsgate controller: at most %d reconcilers\n", MAX_MODULES);
            return 2;
        }
        modules[nmodules++] = t;
    }
    if (!nmodules) {
        fprintf(stderr, "vsgate controller: --reconcilers names no module\n");
        return 2;
    }
    if (*metrics_addr && split_addr(metrics_addr, mhost, sizeof mhost, &mport) != 0) {
        fprintf(stderr, "vsgate controller: --metrics-addr: expected HOST:PORT, got \"%s\"\n", metrics_addr);
        return 2;
    }
    const char *image = getenv("VSPHERE_ADAPTER");
    if (!image || !*image)
        VSG_LOG_WARN(LOGGER, "VSPHERE_ADAPTER is not set: adapter Deployments will have no image");

    /* Every thread inherits the blocked signals; main waits for them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    if (vsg_http_global_init() != VSG_OK) {
        fprintf(stderr, "vsgate controller: cannot initialise libcurl\n");
        return 1;
    }
    if (vsg_kube_config_load(kubeconfig, context, &cfg, &err) != VSG_OK) {
        fprintf(stderr, "vsgate controller: %s\n", err.msg);
        goto out;
    }
    /* The environment is read here, once; the libraries get named settings. */
    const char *mode = getenv("VSPHERE_BINDING_SELECTION_MODE");
    if (mode && *mode && strcmp(mode, "inclusion") != 0 && strcmp(mode, "exclusion") != 0) {
        fprintf(stderr, "vsgate controller: VSPHERE_BINDING_SELECTION_MODE must be exclusion or "
                        "inclusion, not \"%s\"\n", mode);
        code = 2;
        goto out;
    }
    struct vsg_ctl_opts o = {
        .cfg = &cfg,
        .system_ns = ns,
        .lua_root = lua_root,
        .modules = modules,
        .nmodules = nmodules,
        .leader_elect = leader_elect,
        .lease_name = lease,
        .identity = identity,
        .overrides_name = overrides,
        .resync_ms = resync_ns / VSG_MILLISECOND,
        .adapter_image = image,
        .metrics_domain = getenv("METRICS_DOMAIN"),
        .binding_selection_mode = mode,
        .logging_cm = getenv("CONFIG_LOGGING_NAME"),
        .on_logging = on_logging,
        .observability_cm = getenv("CONFIG_OBSERVABILITY_NAME"),
        .leader_election_cm = getenv("CONFIG_LEADERELECTION_NAME"),
        .reconciler_limits = rec_limits,
        .filter_max = filter_max,
    };
    {
        char server[1024];
        vsg_url_redact(cfg.server, server, sizeof server);
        VSG_LOG_INFO(LOGGER, "starting: API server %s (%s), system namespace %s, Lua root %s",
                     server, cfg.origin ? cfg.origin : "?", ns, lua_root);
    }
    if (!(ctl = vsg_ctl_new(&o, &err))) {
        fprintf(stderr, "vsgate controller: %s\n", err.msg);
        goto out;
    }
    msrc.ctl = ctl;
    if (*metrics_addr) {
        struct vsg_http_server_opts so = {.name = "metrics", .addr = mhost, .port = mport, .threads = 1};
        if (!(msrv = vsg_http_server_new(&so, &err)) ||
            vsg_http_server_route(msrv, "GET", "/metrics", h_metrics, &msrc, &err) != VSG_OK)
            goto fail;
        /* Same address: one server for all three endpoints. */
        if (health_port && (unsigned)health_port == mport && strcmp(mhost, health_addr) == 0) {
            if (vsg_http_server_add_healthz(msrv, "/healthz", c_healthy, ctl, &err) != VSG_OK ||
                vsg_http_server_add_healthz(msrv, "/readyz", c_ready, ctl, &err) != VSG_OK)
                goto fail;
            health_port = 0;
        }
        if (vsg_http_server_start(msrv, &err) != VSG_OK) goto fail;
        VSG_LOG_INFO(LOGGER, "metrics on http://%s:%u/metrics", mhost, vsg_http_server_port(msrv));
    }
    if (health_port) {
        struct vsg_http_server_opts so = {.name = "health", .addr = health_addr,
                                          .port = (unsigned)health_port, .threads = 1};
        if (!(hsrv = vsg_http_server_new(&so, &err)) ||
            vsg_http_server_add_healthz(hsrv, "/healthz", c_healthy, ctl, &err) != VSG_OK ||
            vsg_http_server_add_healthz(hsrv, "/readyz", c_ready, ctl, &err) != VSG_OK ||
            vsg_http_server_start(hsrv, &err) != VSG_OK)
            goto fail;
        VSG_LOG_INFO(LOGGER, "health on http://%s:%u/healthz and /readyz", health_addr,
                     vsg_http_server_port(hsrv));
    }
    if (vsg_ctl_start(ctl, &err) != VSG_OK) goto fail;
    if (webhook) {
        struct vsg_webhook_opts wo = {
            .cfg = &cfg, .ctl = ctl, .system_ns = ns, .lua_root = lua_root, .addr = wh_addr,
            .port = (unsigned)wh_port, .threads = (unsigned)wh_threads, .url_base = wh_url,
            .cert_validity_s = cert_validity / VSG_SECOND, .cert_check_ms = cert_check / VSG_MILLISECOND,
            .selection_mode = mode, .service_name = getenv("WEBHOOK_NAME"),
            .admission_limits = adm_limits, .filter_max = filter_max};
        if (!(wh = vsg_webhook_new(&wo, &err))) goto fail;
        atomic_store(&msrc.wh, wh);
        if (vsg_webhook_start(wh, &err) != VSG_OK) goto fail;
    }
    VSG_LOG_INFO(LOGGER, "controller running");
    sigwait(&sigs, &sig);
    if (wh && drain_ns > 0) {
        /* The pod is leaving the Service: requests routed to it before the endpoints
         * changed still get an answer (failurePolicy: Fail would refuse them otherwise).
         * A second signal ends the wait. */
        struct timespec ts = {(time_t)(drain_ns / VSG_SECOND), (long)(drain_ns % VSG_SECOND)};
        atomic_store(&draining, 1);
        vsg_webhook_drain(wh);
        VSG_LOG_INFO(LOGGER, "signal %d: not ready; answering admission requests for %lld ms more", sig,
                     (long long)(drain_ns / VSG_MILLISECOND));
        if (sigtimedwait(&sigs, NULL, &ts) > 0) VSG_LOG_INFO(LOGGER, "second signal: stopping now");
    }
    VSG_LOG_INFO(LOGGER, "signal %d: stopping", sig);
    vsg_webhook_stop(wh);
    vsg_ctl_stop(ctl);
    code = 0;
    goto out;
fail:
    fprintf(stderr, "vsgate controller: %s\n", err.msg);
out:
    /* The servers first: /metrics reads the webhook. */
    if (hsrv) vsg_http_server_stop(hsrv);
    if (msrv) vsg_http_server_stop(msrv);
    vsg_webhook_free(wh);
    vsg_ctl_free(ctl);
    vsg_http_server_free(hsrv);
    vsg_http_server_free(msrv);
    vsg_kube_config_cleanup(&cfg);
    vsg_http_global_cleanup();
    return code;
}
