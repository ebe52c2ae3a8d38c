/*
 * cmd/cmd_run.c - `vsgate run`: the adapter without Kubernetes (ours),
 * configured by flags, with the checkpoint in a local file (the same JSON
 * as the ConfigMap).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/vtime.h"
#include "checkpoint/file_store.h"
#include "adapter/adapter.h"
#include "cmd/cmd.h"
#include "filter/filter_stage.h"
#include "filter/filter_watch.h"
#include "cmd/util.h"

#define LG "vsgate.run"

static void usage(FILE *out)
{
    fprintf(out,
        "Usage: vsgate run --address URL --sink URL --checkpoint FILE [options]\n"
        "\n"
        "Streams vCenter events to a CloudEvents sink, checkpointing to a file.\n"
        "\n"
        "vCenter:\n"
        "  --address URL           vCenter/ESXi SDK URL (https:// and /sdk assumed)\n"
        "  --insecure              do not verify vCenter's TLS certificate\n"
        "  --ca-file FILE          trust only the CA certificates in FILE (PEM)\n"
        "  --ca-certs FILE         trust the CA certificates in FILE besides the system roots\n"
        "  --secret-path DIR       read DIR/username and DIR/password (as a binding mounts them)\n"
        "  --username NAME         user name (instead of --secret-path)\n"
        "  --password-file FILE    file holding the password, used verbatim\n"
        "  --page-size N           events per read, 1..1000 (default 100)\n"
        "  --wait updates|poll     wait for new events with WaitForUpdatesEx (default) or poll\n"
        "  --batch-wait MS         updates mode: after a wake, let a burst gather MS\n"
        "                          milliseconds before reading, 0..1000 (default 20)\n"
        "\n"
        "Sink:\n"
        "  --sink URL              where CloudEvents go\n"
        "  --encoding ENC          application/xml (default) or application/json (json, xml)\n"
        "  --namespace NS          Kn-Namespace header value\n"
        "  --ce-header-encoding raw|percent  ce-* header values as the Go adapter sent them\n"
        "                          (raw UTF-8, the default) or percent-encoded (CloudEvents spec)\n"
        "  --ce-overrides JSON     {\"extensions\":{\"name\":\"value\"}} added to every event\n"
        "  --sink-timeout SECONDS  time limit of one delivery attempt, 0..86400 (default 30)\n"
        "  --retry N               retries before giving up (default: retry forever)\n"
        "  --backoff-policy P      exponential (default) or linear\n"
        "  --backoff-delay ISO8601 first backoff, e.g. PT1S (default)\n"
        "  --dead-letter-sink URL  where events go when given up on\n"
        "\n"
        "Checkpoint:\n"
        "  --checkpoint FILE       checkpoint file (created; same JSON as the ConfigMap)\n"
        "  --max-age DURATION      replay window on restart, Go duration or seconds (default 5m0s)\n"
        "  --period DURATION       how often the checkpoint is saved (default 10s)\n"
        "  --session-file FILE     where the vCenter session cookie is kept (mode 0600), so\n"
        "                          that a restart after a kill logs the old session out and\n"
        "                          frees its event collector (default: FILE.session next to\n"
        "                          the checkpoint; \"\" for none)\n"
        "\n"
        "Filter (Lua, CONTRACTS §6):\n"
        "  --filter FILE           filter/transform script defining filter(event); the\n"
        "                          file is watched and reloaded when it changes (a broken\n"
        "                          version is rejected and the previous one keeps running);\n"
        "                          it may require modules from its folder, lua/ and plugins/\n"
        "  --filter-on-error P     deliver (default: send the event unchanged) or drop\n"
        "  --record FILE           append each event (before the filter) as a JSON line,\n"
        "                          for `vsgate filter test --record FILE`\n"
        "\n"
        "  --log-level LEVEL       debug, info (default), warn, error\n"
        "\n"
        "URLs: --address, --sink and --dead-letter-sink must be http:// or https:// with a\n"
        "host (--address: https:// and /sdk assumed when left out).\n"
        "\n"
        "Exit status: 0 when stopped by SIGTERM or SIGINT; 2 for a bad flag or setting\n"
        "(checked before anything starts, the message names it); 1 when it cannot go on.\n");
}

int vsg_cmd_run(int argc, char **argv)
{
    static volatile sig_atomic_t stop;
    static const struct option opts[] = {
        {"address", required_argument, 0, 'a'}, {"insecure", no_argument, 0, 'k'},
        {"ca-file", required_argument, 0, 'C'}, {"ca-certs", required_argument, 0, 'E'},
        {"secret-path", required_argument, 0, 'S'}, {"username", required_argument, 0, 'u'},
        {"password-file", required_argument, 0, 'P'}, {"page-size", required_argument, 0, 'n'},
        {"wait", required_argument, 0, 'w'}, {"sink", required_argument, 0, 's'},
        {"encoding", required_argument, 0, 'e'}, {"namespace", required_argument, 0, 'N'},
        {"ce-overrides", required_argument, 0, 'o'}, {"sink-timeout", required_argument, 0, 't'},
        {"retry", required_argument, 0, 'r'}, {"backoff-policy", required_argument, 0, 'b'},
        {"backoff-delay", required_argument, 0, 'd'}, {"dead-letter-sink", required_argument, 0, 'D'},
        {"checkpoint", required_argument, 0, 'c'}, {"max-age", required_argument, 0, 'm'},
        {"period", required_argument, 0, 'p'}, {"log-level", required_argument, 0, 'l'},
        {"filter", required_argument, 0, 'F'}, {"filter-on-error", required_argument, 0, 'O'},
        {"record", required_argument, 0, 'R'}, {"batch-wait", required_argument, 0, 'B'},
        {"session-file", required_argument, 0, 'K'}, {"ce-header-encoding", required_argument, 0, 'H'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    struct vsg_adapter_config cfg;
    struct vsg_ce_overrides ov;
    struct vsg_error err = {0};
    struct vsg_checkpoint_store *store = NULL;
    const char *secret_path = NULL, *username = NULL, *password_file = NULL, *ca_certs = NULL;
    const char *checkpoint = NULL, *overrides = NULL, *retry = NULL, *policy = NULL, *delay = NULL;
    char *user = NULL, *pass = NULL, *ca_pem = NULL;
    const char *filter_file = NULL, *record = NULL;
    enum vsg_filter_on_error on_error = VSG_FILTER_DELIVER;
    struct vsg_filter *filter = NULL;
    struct vsg_filter_watch *watch = NULL;
    char *search = NULL, *dir = NULL, *session_file = NULL;
    const char *session_opt = NULL;
    FILE *rec = NULL;
    int rc = 2, c;

    vsg_log_level_from_env("vsgate");
    vsg_adapter_config_init(&cfg);
    vsg_ce_overrides_init(&ov);
    cfg.logger = LG;
    optind = 1;
#define BAD(...) do { fprintf(stderr, "vsgate run: " __VA_ARGS__); fputc('\n', stderr); goto out; } while (0)
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a': cfg.vc_url = optarg; break;
        case 'k': cfg.insecure = 1; break;
        case 'C': cfg.ca_file = optarg; break;
        case 'E': ca_certs = optarg; break;
        case 'S': secret_path = optarg; break;
        case 'u': username = optarg; break;
        case 'P': password_file = optarg; break;
        case 'n': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 1000) BAD("--page-size must be 1..1000, got \"%s\"", optarg);
            cfg.page_size = (int)n;
            break;
        }
        case 'w':
            if (strcmp(optarg, "poll") == 0) cfg.wait = VSG_ADAPTER_WAIT_POLL;
            else if (strcmp(optarg, "updates") == 0) cfg.wait = VSG_ADAPTER_WAIT_UPDATES;
            else BAD("--wait must be updates or poll, got \"%s\"", optarg);
            break;
        case 'B': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (!*optarg || *end || n < 0 || n > VSG_ADAPTER_BATCH_WAIT_MAX_MS)
                BAD("--batch-wait must be 0..%d (milliseconds), got \"%s\"", VSG_ADAPTER_BATCH_WAIT_MAX_MS, optarg);
            cfg.batch_wait_ms = (int)n;
            break;
        }
        case 's': cfg.sink = optarg; break;
        case 'e':
            if (!strcasecmp(optarg, "application/json") || !strcasecmp(optarg, "json")) cfg.json = 1;
            else if (!strcasecmp(optarg, "application/xml") || !strcasecmp(optarg, "xml")) cfg.json = 0;
            else BAD("--encoding must be application/xml or application/json, got \"%s\"", optarg);
            break;
        case 'N': cfg.ns = optarg; break;
        case 'H':
            if (vsg_parse_header_encoding("--ce-header-encoding", optarg, &cfg.percent_header_values, &err) != VSG_OK)
                BAD("%s", err.msg);
            break;
        case 'o': overrides = optarg; break;
        case 't': {
            long long t;
            if (vsg_parse_int("--sink-timeout", optarg, 0, VSG_SINK_TIMEOUT_MAX_S, "a number of seconds", &t,
                              &err) != VSG_OK)
                BAD("%s", err.msg);
            cfg.sink_timeout_ms = (long)t * 1000;
            break;
        }
        case 'r': retry = optarg; break;
        case 'b': policy = optarg; break;
        case 'd': delay = optarg; break;
        case 'D': cfg.dead_letter_sink = optarg; break;
        case 'c': checkpoint = optarg; break;
        case 'm':
            if (vsg_duration_parse_flag(optarg, &cfg.max_age_ns) != VSG_OK)
                BAD("--max-age: not a duration: \"%s\"", optarg);
            break;
        case 'p':
            if (vsg_duration_parse_flag(optarg, &cfg.period_ns) != VSG_OK)
                BAD("--period: not a duration: \"%s\"", optarg);
            if (cfg.period_ns == 0) cfg.period_ns = VSG_CHECKPOINT_DEFAULT_PERIOD;
            if (cfg.period_ns < VSG_SECOND) cfg.period_ns = VSG_SECOND;
            break;
        case 'l':
            if (vsg_log_set_level_from_string(optarg) != VSG_OK) BAD("--log-level: unknown level \"%s\"", optarg);
            break;
        case 'F': filter_file = optarg; break;
        case 'O':
            if (vsg_filter_on_error_parse(optarg, &on_error) != VSG_OK)
                BAD("--filter-on-error must be deliver or drop, got \"%s\"", optarg);
            break;
        case 'R': record = optarg; break;
        case 'K': session_opt = optarg; break;
        case 'h': usage(stdout); rc = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (optind < argc) BAD("unexpected argument \"%s\"", argv[optind]);
    if (!cfg.vc_url) BAD("--address is required");
    if (!cfg.sink) BAD("--sink is required");
    if (!checkpoint) BAD("--checkpoint is required");
    /* Everything is checked before anything starts (exit status 2). */
    if (vsg_check_vcenter_url("--address", cfg.vc_url, &err) != VSG_OK ||
        vsg_check_http_url("--sink", cfg.sink, &err) != VSG_OK ||
        (cfg.dead_letter_sink && vsg_check_http_url("--dead-letter-sink", cfg.dead_letter_sink, &err) != VSG_OK) ||
        (cfg.ca_file && vsg_check_ca_file("--ca-file", cfg.ca_file, NULL, &err) != VSG_OK))
        BAD("%s", err.msg);
    if (vsg_ce_delivery_parse(retry, policy, delay, &cfg.delivery, &err) != VSG_OK) BAD("%s", err.msg);
    if (vsg_ce_overrides_parse(overrides, &ov, &err) != VSG_OK) BAD("--ce-overrides: %s", err.msg);
    cfg.overrides = &ov;
    if (ca_certs && vsg_check_ca_file("--ca-certs", ca_certs, &ca_pem, &err) != VSG_OK) BAD("%s", err.msg);
    cfg.ca_pem = ca_pem;
    if (vsg_read_credentials(secret_path, username, password_file, &user, &pass, &err) != VSG_OK)
        BAD("%s%s", secret_path ? "--secret-path: " : username && password_file ? "--password-file: " : "",
            err.msg);
    cfg.username = user;
    cfg.password = pass;
    if (!(store = vsg_checkpoint_file_store_new(checkpoint, &err))) BAD("--checkpoint: %s", err.msg);
    cfg.store = store;
    if (!session_opt) {
        size_t n = strlen(checkpoint) + sizeof ".session";
        if (!(session_file = vsg_malloc(n))) BAD("out of memory");
        snprintf(session_file, n, "%s.session", checkpoint);
        cfg.session_file = session_file;
    } else if (*session_opt) {
        cfg.session_file = session_opt;
    }
    if (record) {
        if (!(rec = fopen(record, "a"))) BAD("--record: cannot open %s: %s", record, strerror(errno));
        cfg.record = rec;
    }
    if (filter_file) {
        struct vsg_filter_config fc;
        struct vsg_filter_watch_config wc;
        const char *slash = strrchr(filter_file, '/');
        memset(&fc, 0, sizeof fc);
        fc.name = "vsgate.filter";
        fc.logger = LG;
        fc.on_error = on_error;
        fc.root = vsg_filter_default_root();
        if (!(dir = slash ? vsg_strndup(filter_file, (size_t)(slash - filter_file)) : vsg_strdup(".")) ||
            !(search = vsg_filter_search_path(dir, fc.root)))
            BAD("out of memory");
        fc.search_path = search;
        if (!(filter = vsg_filter_new(&fc, &err))) BAD("%s", err.msg);
        memset(&wc, 0, sizeof wc);
        wc.stage = filter;
        wc.logger = LG;
        wc.file = filter_file;
        if (!(watch = vsg_filter_watch_start(&wc, &err))) BAD("--filter: %s", err.msg);
        vsg_filter_swap_pending(filter);
        cfg.filter = filter;
    }
#undef BAD
    vsg_adapter_install_signals(&stop);
    rc = vsg_adapter_run(&cfg, &stop);
out:
    vsg_filter_watch_stop(watch);
    if (filter && rc == 0) vsg_filter_log_stats(filter);
    vsg_filter_free(filter);
    vsg_free(search);
    vsg_free(dir);
    vsg_free(session_file);
    if (rec) fclose(rec);
    vsg_checkpoint_store_free(store);
    vsg_ce_overrides_cleanup(&ov);
    if (pass) memset(pass, 0, strlen(pass));
    vsg_free(user);
    vsg_free(pass);
    vsg_free(ca_pem);
    return rc;
}
