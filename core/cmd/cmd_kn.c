/*
 * cmd_kn.c - `vsgate auth|source|binding|completion` and `kn-vsphere`: the
 * command tree, kube access, and the create and delete commands (see kn.h).
 *
 * The flags, their order of checks and the texts come from kn-vsphere
 * v0.39 (reference/upstream.md §9). Deliberate differences, each in the
 * README's compatibility table: errors go to stderr as "Error: ..." with a
 * --help pointer (cobra also printed the whole usage, then "ERROR: ..." on
 * stdout); a password piped to --password-stdin loses one trailing
 * newline; `binding create --subject-name` sends no empty selector (the Go
 * plugin sent `selector: {}`, which its own webhook rejects as "expected
 * exactly one, got both"); "Deleted vSphere credentials" ends its line.
 */
#include "cmd/kn.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/url.h"
#include "cmd/cli_print.h"
#include "cmd/cmd.h"
#include "kube/selector.h"
#include "soap/session.h"

/* ====================================================================
 * Shared helpers
 * ==================================================================== */

int vsg_kn_open(struct vsg_kn *k, struct vsg_cli_ctx *c, int offline)
{
    struct vsg_error err;
    memset(k, 0, sizeof *k);
    k->c = c;
    enum vsg_err rc = vsg_kube_config_load_kubectl(vsg_cli_str(c, "kubeconfig"),
                                                   vsg_cli_str(c, "context"), &k->cfg, &err);
    const char *ns = vsg_cli_str(c, "namespace");
    if (rc == VSG_ERR_NOTFOUND && offline) {
        k->ns = *ns ? ns : "default";
        return 0;
    }
    if (rc != VSG_OK) return vsg_cli_fail(c, "%s", err.msg);
    k->ns = *ns ? ns : k->cfg.ns;
    if (!(k->kc = vsg_kube_client_new(&k->cfg, &err))) {
        int r = vsg_cli_fail(c, "%s", err.msg);
        vsg_kube_config_cleanup(&k->cfg);
        return r;
    }
    return 0;
}

void vsg_kn_close(struct vsg_kn *k)
{
    vsg_kube_client_free(k->kc);
    vsg_kube_config_cleanup(&k->cfg);
    k->kc = NULL;
}

const char *vsg_kn_api_message(const char *method, const char *path, const char *msg)
{
    size_t ml = strlen(method), pl = strlen(path);
    if (strncmp(msg, method, ml) != 0 || msg[ml] != ' ' || strncmp(msg + ml + 1, path, pl) != 0 ||
        strncmp(msg + ml + 1 + pl, ": ", 2) != 0)
        return msg;
    const char *p = strstr(msg + ml + 1 + pl + 2, ": ");
    return p && p[2] ? p + 2 : msg;
}

int vsg_kn_output_check(struct vsg_cli_ctx *c, int allow_name)
{
    const char *o = vsg_cli_str(c, "output");
    if (!*o || strcmp(o, "json") == 0 || strcmp(o, "yaml") == 0 || (allow_name && strcmp(o, "name") == 0))
        return 0;
    vsg_cli_fail(c, "unable to match a printer suitable for the output format \"%s\", allowed formats are: %s",
                 o, allow_name ? "json,name,yaml" : "json,yaml");
    return -1;
}

/* Drops metadata.managedFields, as kubectl and kn print objects. */
static void drop_managed_fields(cJSON *obj)
{
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "managedFields");
}

int vsg_kn_print_obj(struct vsg_cli_ctx *c, const cJSON *obj)
{
    const char *o = vsg_cli_str(c, "output");
    cJSON *copy = cJSON_Duplicate(obj, 1), *it;
    if (!copy) return vsg_cli_fail(c, "out of memory");
    drop_managed_fields(copy);
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(copy, "items")) drop_managed_fields(it);
    enum vsg_err rc = strcmp(o, "yaml") == 0 ? vsg_cli_print_yaml(c->out, copy) : vsg_cli_print_json(c->out, copy);
    cJSON_Delete(copy);
    if (rc != VSG_OK) return vsg_cli_fail(c, "cannot print: %s", vsg_strerror(rc));
    return 0;
}

/* --dry-run: 0 none, 1 client, 2 server; -1 after printing kubectl's error. */
static int dry_run_mode(struct vsg_cli_ctx *c)
{
    const char *d = vsg_cli_str(c, "dry-run");
    if (!*d || strcmp(d, "none") == 0) return 0;
    if (strcmp(d, "client") == 0) return 1;
    if (strcmp(d, "server") == 0) return 2;
    vsg_cli_fail(c, "Invalid dry-run value (%s). Must be \"none\", \"server\", or \"client\".", d);
    return -1;
}

/*
 * Creates `obj` in collection `resource` of `api_version` in k->ns (or
 * only prints it: --dry-run=client; or asks the server to run admission
 * without storing: --dry-run=server). Prints the object for -o, else
 * `done` (plus " (dry run)"). `what` names the object in
 * "failed to create <what>: ...".
 */
static int create_obj(struct vsg_cli_ctx *c, struct vsg_kn *kn, int dry, cJSON *obj,
                      const char *api_version, const char *resource, const char *what, const char *done)
{
    struct vsg_kn k = *kn; /* Borrowed: the caller closes it. */
    int r = 0;
    cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    if (!cJSON_AddStringToObject(md, "namespace", k.ns)) {
        r = vsg_cli_fail(c, "out of memory");
        goto out;
    }
    /* Sink and subject references name the object's namespace too. */
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
    cJSON *ref = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(spec, "sink"), "ref");
    cJSON *subject = cJSON_GetObjectItemCaseSensitive(spec, "subject");
    if ((ref && !cJSON_AddStringToObject(ref, "namespace", k.ns)) ||
        (subject && !cJSON_AddStringToObject(subject, "namespace", k.ns))) {
        r = vsg_cli_fail(c, "out of memory");
        goto out;
    }
    if (dry == 1) {
        if (*vsg_cli_str(c, "output"))
            r = vsg_kn_print_obj(c, obj);
        else
            fprintf(c->out, "%s (dry run)\n", done);
        goto out;
    }
    struct vsg_buf path;
    struct vsg_error err;
    cJSON *created = NULL;
    vsg_buf_init(&path, 4096);
    enum vsg_err rc = vsg_kube_path(&path, api_version, k.ns, resource, NULL, NULL);
    if (rc == VSG_OK && dry == 2) rc = vsg_buf_puts(&path, "?dryRun=All");
    if (rc != VSG_OK) {
        r = vsg_cli_fail(c, "out of memory");
    } else if ((rc = vsg_kube_create(k.kc, path.data, obj, &created, &err)) != VSG_OK) {
        r = vsg_cli_fail(c, "failed to create %s: %s", what, vsg_kn_api_message("POST", path.data, err.msg));
    } else if (*vsg_cli_str(c, "output")) {
        r = vsg_kn_print_obj(c, created);
    } else {
        fprintf(c->out, "%s%s\n", done, dry ? " (dry run)" : "");
    }
    cJSON_Delete(created);
    vsg_buf_cleanup(&path);
out:
    return r;
}

/* Before a create: --dry-run and -o checked, then the API opened (a
 * client-side dry run also works without any configuration). 0, or 1
 * after the error. */
static int create_begin(struct vsg_cli_ctx *c, struct vsg_kn *k, int *dry)
{
    *dry = dry_run_mode(c);
    if (*dry < 0 || vsg_kn_output_check(c, 0) < 0) return 1;
    return vsg_kn_open(k, c, *dry == 1);
}

/*
 * What Go's url.Parse refuses that a user can type: control characters,
 * a missing scheme before "://", bad %-escapes. "" when none, else the
 * reason.
 */
static const char *url_problem(const char *u)
{
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return "net/url: invalid control character in URL";
    if (u[0] == ':') return "missing protocol scheme";
    for (const char *p = strchr(u, '%'); p; p = strchr(p + 1, '%')) {
        const char *hex = "0123456789abcdefABCDEF";
        if (!p[1] || !p[2] || !strchr(hex, p[1]) || !strchr(hex, p[2])) return "invalid URL escape";
    }
    return "";
}

/* Fails with "failed to parse <what>: parse "<url>": <reason>" (the URL
 * without user info) when url_problem() finds one; else 0. */
static int check_url(struct vsg_cli_ctx *c, const char *what, const char *u)
{
    const char *why = url_problem(u);
    if (!*why) return 0;
    char *shown = vsg_url_redact_dup(u);
    int r = vsg_cli_fail(c, "failed to parse %s: parse \"%s\": %s", what, shown ? shown : "", why);
    vsg_free(shown);
    return r;
}

/* Deletes `name` from collection `resource`; prints `done`, followed by
 * the quoted name when `quote_name`. */
static int delete_obj(struct vsg_cli_ctx *c, const char *api_version, const char *resource,
                      const char *what, const char *done, int quote_name)
{
    struct vsg_kn k;
    if (vsg_kn_open(&k, c, 0)) return 1;
    const char *name = vsg_cli_str(c, "name");
    struct vsg_buf path;
    struct vsg_error err;
    int r = 0;
    vsg_buf_init(&path, 4096);
    enum vsg_err rc = vsg_kube_path(&path, api_version, k.ns, resource, name, NULL);
    if (rc != VSG_OK)
        r = vsg_cli_fail(c, "out of memory");
    else if ((rc = vsg_kube_delete(k.kc, path.data, &err)) != VSG_OK)
        r = vsg_cli_fail(c, "failed to delete %s: %s", what, vsg_kn_api_message("DELETE", path.data, err.msg));
    else if (quote_name)
        fprintf(c->out, "%s \"%s\"\n", done, name);
    else
        fprintf(c->out, "%s\n", done);
    vsg_buf_cleanup(&path);
    vsg_kn_close(&k);
    return r;
}

/* A new object with apiVersion, kind and metadata.name. */
static cJSON *new_obj(const char *api_version, const char *kind, const char *name)
{
    cJSON *o = cJSON_CreateObject(), *md;
    if (!o || !cJSON_AddStringToObject(o, "apiVersion", api_version) ||
        !cJSON_AddStringToObject(o, "kind", kind) || !(md = cJSON_AddObjectToObject(o, "metadata")) ||
        !cJSON_AddStringToObject(md, "name", name)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ====================================================================
 * auth
 * ==================================================================== */

/* The terminal's settings while the password is read without echo, for
 * a signal that ends the process meanwhile. */
static struct termios tty_saved;
static volatile sig_atomic_t tty_quiet;

static void tty_restore_and_reraise(int sig)
{
    if (tty_quiet) (void)tcsetattr(STDIN_FILENO, TCSANOW, &tty_saved);
    signal(sig, SIG_DFL);
    raise(sig);
}

static const int tty_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

/*
 * --password-stdin: a TTY is asked without echo (restored also when a
 * signal ends the process); a pipe is read whole, one trailing newline
 * (and a \r before it) dropped. NULL on failure with *why set.
 */
static char *read_password(struct vsg_cli_ctx *c, const char **why)
{
    struct vsg_buf b;
    char chunk[4096];
    char *res = NULL;
    vsg_buf_init(&b, 64 * 1024);
    *why = "out of memory";
    if (isatty(STDIN_FILENO)) {
        struct sigaction sa, old_sa[sizeof tty_signals / sizeof tty_signals[0]];
        int have = tcgetattr(STDIN_FILENO, &tty_saved) == 0;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = tty_restore_and_reraise;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; have && i < sizeof tty_signals / sizeof tty_signals[0]; i++)
            (void)sigaction(tty_signals[i], &sa, &old_sa[i]);
        /* Echo off before the prompt: nothing typed after it shows. */
        if (have) {
            struct termios quiet = tty_saved;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tty_quiet = 1;
            (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
        fprintf(c->err, "Password:\n");
        fflush(c->err);
        errno = 0;
        char *line = fgets(chunk, sizeof chunk, stdin);
        int eof = !line && feof(stdin), e = errno;
        if (have) {
            (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &tty_saved);
            tty_quiet = 0;
            for (size_t i = 0; i < sizeof tty_signals / sizeof tty_signals[0]; i++)
                (void)sigaction(tty_signals[i], &old_sa[i], NULL);
        }
        fputc('\n', c->err);
        if (!line) {
            *why = eof ? "EOF" : strerror(e ? e : EIO);
            goto out;
        }
        if (vsg_buf_puts(&b, line) != VSG_OK) goto out;
    } else {
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
            if (vsg_buf_append(&b, chunk, n) != VSG_OK) goto out;
        if (ferror(stdin)) {
            *why = strerror(errno ? errno : EIO);
            goto out;
        }
    }
    if (b.len > 0 && b.data[b.len - 1] == '\n') b.len--;
    if (b.len > 0 && b.data[b.len - 1] == '\r') b.len--;
    if (vsg_buf_putc(&b, '\0') == VSG_OK) res = vsg_buf_steal(&b);
out:
    memset(chunk, 0, sizeof chunk);
    if (b.data) memset(b.data, 0, b.len);
    vsg_buf_cleanup(&b);
    return res;
}

/* Logs in to `url` over SOAP and out again. 0, or 1 after the error. */
static int verify_login(struct vsg_cli_ctx *c, const char *url, const char *user, const char *password)
{
    struct vsg_soap_opts o;
    struct vsg_error err;
    if (check_url(c, "vCenter URL", url)) return 1;
    memset(&o, 0, sizeof o);
    o.url = url;
    o.username = user;
    o.password = password;
    o.insecure = vsg_cli_bool(c, "verify-insecure");
    o.keepalive_ms = -1;
    o.timeout_ms = 60000;
    struct vsg_soap_session *s = vsg_soap_session_new(&o, &err);
    if (!s) return vsg_cli_fail(c, "failed to parse vCenter URL: %s", err.msg);
    int r = 0;
    if (vsg_soap_connect(s, &err) != VSG_OK)
        r = vsg_cli_fail(c, "failed to authenticate with vCenter: %s", err.msg);
    else
        (void)vsg_soap_logout(s, NULL);
    vsg_soap_session_free(s);
    return r;
}

/* kn-vsphere's PreRunE checks (they come before cobra's required-flag
 * check, so a missing --name reads as below, not "required flag(s)"). */
static int auth_create_pre(struct vsg_cli_ctx *c)
{
    const char *password = vsg_cli_str(c, "password");
    int from_stdin = vsg_cli_bool(c, "password-stdin");
    if (!*vsg_cli_str(c, "username"))
        return vsg_cli_fail(c, "'username' requires a nonempty username provided with the --username option");
    if (!*password && !from_stdin)
        return vsg_cli_fail(c, "'password' requires a nonempty password provided with the --password option "
                               "or prompted later via the --password-std-in option");
    if (*password && from_stdin)
        return vsg_cli_fail(c, "either set an explicit password with the --password option or set the "
                               "--password-stdin option to get prompted for one, do not set both");
    if (!*vsg_cli_str(c, "name"))
        return vsg_cli_fail(c, "'name' requires a nonempty secret name provided with the --name option");
    return 0;
}

static int auth_create(struct vsg_cli_ctx *c)
{
    const char *user = vsg_cli_str(c, "username"), *password = vsg_cli_str(c, "password");
    struct vsg_kn k;
    int dry, r = 0;
    /* The cluster first: no password is asked for a command that cannot run. */
    if (create_begin(c, &k, &dry)) return 1;
    char *read = NULL;
    if (vsg_cli_bool(c, "password-stdin")) {
        const char *why;
        if (!(read = read_password(c, &why))) {
            r = vsg_cli_fail(c, "failed to get password: %s", why);
            goto out;
        }
        password = read;
    }
    const char *verify = vsg_cli_str(c, "verify-url");
    if (*verify && (r = verify_login(c, verify, user, password)) != 0) goto out;

    cJSON *o = new_obj("v1", "Secret", vsg_cli_str(c, "name")), *sd;
    if (!o || !cJSON_AddStringToObject(o, "type", "kubernetes.io/basic-auth") ||
        !(sd = cJSON_AddObjectToObject(o, "stringData")) || !cJSON_AddStringToObject(sd, "username", user) ||
        !cJSON_AddStringToObject(sd, "password", password)) {
        cJSON_Delete(o);
        r = vsg_cli_fail(c, "out of memory");
        goto out;
    }
    r = create_obj(c, &k, dry, o, "v1", "secrets", "Secret", "Created vSphere credentials");
    cJSON_Delete(o);
out:
    if (read) {
        memset(read, 0, strlen(read));
        vsg_free(read);
    }
    vsg_kn_close(&k);
    return r;
}

static int auth_delete_pre(struct vsg_cli_ctx *c)
{
    if (!*vsg_cli_str(c, "name"))
        return vsg_cli_fail(c, "'name' requires a nonempty secret name provided with the --name option");
    return 0;
}

static int auth_delete(struct vsg_cli_ctx *c)
{
    return delete_obj(c, "v1", "secrets", "Secret", "Deleted vSphere credentials", 1);
}

/* ====================================================================
 * source
 * ==================================================================== */

/* Adds address, skipTLSVerify (when true) and secretRef to `spec`. */
static int add_vauth(struct vsg_cli_ctx *c, cJSON *spec)
{
    cJSON *ref;
    return cJSON_AddStringToObject(spec, "address", vsg_cli_str(c, "vc-address")) &&
           (!vsg_cli_bool(c, "skip-tls-verify") || cJSON_AddTrueToObject(spec, "skipTLSVerify")) &&
           (ref = cJSON_AddObjectToObject(spec, "secretRef")) &&
           cJSON_AddStringToObject(ref, "name", vsg_cli_str(c, "secret-ref"));
}

/* The three checks source and binding create share, in kn-vsphere's order. */
static int check_vauth(struct vsg_cli_ctx *c)
{
    if (!*vsg_cli_str(c, "name"))
        return vsg_cli_fail(c, "'name' requires a nonempty name provided with the --name option");
    if (!*vsg_cli_str(c, "vc-address"))
        return vsg_cli_fail(c, "'address' requires a nonempty address provided with the --vc-address option");
    if (!*vsg_cli_str(c, "secret-ref"))
        return vsg_cli_fail(c, "'secret-ref' requires a nonempty secret reference provided with the "
                               "--secret-ref option");
    return 0;
}

/* "xml" or "json" for --encoding in any case, else NULL. */
static const char *encoding_of(const char *enc)
{
    if (strcasecmp(enc, "xml") == 0) return "xml";
    if (strcasecmp(enc, "json") == 0) return "json";
    return NULL;
}

static int source_create_pre(struct vsg_cli_ctx *c)
{
    if (check_vauth(c)) return 1;
    const char *av = vsg_cli_str(c, "sink-api-version"), *kind = vsg_cli_str(c, "sink-kind"),
               *name = vsg_cli_str(c, "sink-name");
    int none = !*av && !*kind && !*name, all = *av && *kind && *name;
    if ((!*vsg_cli_str(c, "sink-uri") && none) || (!none && !all))
        return vsg_cli_fail(c, "sink requires an URI\nand/or a nonempty API version --sink-api-version option,"
                               "\nwith a nonempty kind --sink-kind option,\nand with a nonempty name with the "
                               "--sink-name");
    if (!encoding_of(vsg_cli_str(c, "encoding")))
        return vsg_cli_fail(c, "invalid encoding scheme \"%s\"", vsg_cli_str(c, "encoding"));
    const char *fcm = vsg_cli_str(c, "filter-configmap"), *fon = vsg_cli_str(c, "filter-on-error");
    if (*fon && !*fcm) return vsg_cli_fail(c, "--filter-on-error needs --filter-configmap");
    if (*fon && strcmp(fon, "drop") != 0 && strcmp(fon, "deliver") != 0)
        return vsg_cli_fail(c, "invalid --filter-on-error \"%s\": use drop or deliver", fon);
    return 0;
}

static int source_create(struct vsg_cli_ctx *c)
{
    const char *uri = vsg_cli_str(c, "sink-uri"), *av = vsg_cli_str(c, "sink-api-version"),
               *kind = vsg_cli_str(c, "sink-kind"), *name = vsg_cli_str(c, "sink-name"),
               *fcm = vsg_cli_str(c, "filter-configmap"), *fon = vsg_cli_str(c, "filter-on-error");
    int none = !*av;
    struct vsg_kn k;
    int dry;
    if (create_begin(c, &k, &dry)) return 1;
    if (check_url(c, "source address", vsg_cli_str(c, "vc-address")) || check_url(c, "sink address", uri)) {
        vsg_kn_close(&k);
        return 1;
    }
    char ct[32];
    snprintf(ct, sizeof ct, "application/%s", encoding_of(vsg_cli_str(c, "encoding")));
    const char *sa = vsg_cli_str(c, "service-account-name");
    cJSON *o = new_obj(VSG_KN_API_VERSION, "VSphereSource", vsg_cli_str(c, "name"));
    cJSON *spec = o ? cJSON_AddObjectToObject(o, "spec") : NULL, *sink, *ref, *cp, *f, *fr;
    int ok = spec && (sink = cJSON_AddObjectToObject(spec, "sink")) &&
             (none || ((ref = cJSON_AddObjectToObject(sink, "ref")) &&
                       cJSON_AddStringToObject(ref, "apiVersion", av) && cJSON_AddStringToObject(ref, "kind", kind) &&
                       cJSON_AddStringToObject(ref, "name", name))) &&
             (!*uri || cJSON_AddStringToObject(sink, "uri", uri)) && add_vauth(c, spec) &&
             (cp = cJSON_AddObjectToObject(spec, "checkpointConfig")) &&
             /* Seconds, truncated as Go's int64(d.Seconds()) does. */
             cJSON_AddNumberToObject(cp, "maxAgeSeconds", (double)(vsg_cli_duration(c, "checkpoint-age") / 1000000000)) &&
             cJSON_AddNumberToObject(cp, "periodSeconds",
                                     (double)(vsg_cli_duration(c, "checkpoint-period") / 1000000000)) &&
             cJSON_AddStringToObject(spec, "payloadEncoding", ct) &&
             cJSON_AddStringToObject(spec, "serviceAccountName", *sa ? sa : "default") &&
             (!*fcm || ((f = cJSON_AddObjectToObject(spec, "filter")) &&
                        (fr = cJSON_AddObjectToObject(f, "configMapRef")) &&
                        cJSON_AddStringToObject(fr, "name", fcm) &&
                        (!*fon || cJSON_AddStringToObject(f, "onError", fon))));
    int r = ok ? create_obj(c, &k, dry, o, VSG_KN_API_VERSION, "vspheresources", "source", "Created source")
               : vsg_cli_fail(c, "out of memory");
    cJSON_Delete(o);
    vsg_kn_close(&k);
    return r;
}

static int name_pre(struct vsg_cli_ctx *c)
{
    if (!*vsg_cli_str(c, "name"))
        return vsg_cli_fail(c, "'name' requires a nonempty name provided with the --name option");
    return 0;
}

static int source_delete(struct vsg_cli_ctx *c)
{
    return delete_obj(c, VSG_KN_API_VERSION, "vspheresources", "source", "Deleted source", 0);
}

/* `list`: -n and -A exclude each other (kn-vsphere's PreRunE). */
static int list_pre(struct vsg_cli_ctx *c)
{
    if (*vsg_cli_str(c, "namespace") && vsg_cli_bool(c, "all-namespaces"))
        return vsg_cli_fail(c, "'--namespace' and '--all-namespaces' options are mutually exclusive");
    return 0;
}

static int source_list(struct vsg_cli_ctx *c) { return vsg_kn_list(c, "vspheresources", "sources"); }

/* ====================================================================
 * binding
 * ==================================================================== */

static int binding_create_pre(struct vsg_cli_ctx *c)
{
    if (check_vauth(c)) return 1;
    const char *name = vsg_cli_str(c, "subject-name"), *sel = vsg_cli_str(c, "subject-selector");
    if (!*vsg_cli_str(c, "subject-api-version"))
        return vsg_cli_fail(c, "'subject-api-version' requires a nonempty subject API version provided with "
                               "the --subject-api-version option");
    if (!*vsg_cli_str(c, "subject-kind"))
        return vsg_cli_fail(c, "'subject-kind' requires a nonempty subject kind provided with the "
                               "--subject-kind option");
    if (!*name && !*sel)
        return vsg_cli_fail(c, "subject requires a nonempty subject name provided with the --subject-name "
                               "option,\nor a nonempty subject selector with the --subject-selector option");
    if (*name && *sel)
        return vsg_cli_fail(c, "subject can optionally be configured with one of the following flags (but "
                               "several were set):\n\t--subject-name, --subject-selector");
    return 0;
}

static int binding_create(struct vsg_cli_ctx *c)
{
    const char *av = vsg_cli_str(c, "subject-api-version"), *kind = vsg_cli_str(c, "subject-kind"),
               *name = vsg_cli_str(c, "subject-name"), *sel = vsg_cli_str(c, "subject-selector");
    struct vsg_kn k;
    int dry, r;
    char msg[256];
    cJSON *selector = NULL, *o = NULL;
    if (create_begin(c, &k, &dry)) return 1;
    if (check_url(c, "binding address", vsg_cli_str(c, "vc-address"))) {
        r = 1;
        goto out;
    }
    if (*sel && !(selector = vsg_selector_parse(sel, msg, sizeof msg))) {
        r = vsg_cli_fail(c, "failed to parse subject selector: %s", msg);
        goto out;
    }
    o = new_obj(VSG_KN_API_VERSION, "VSphereBinding", vsg_cli_str(c, "name"));
    cJSON *spec = o ? cJSON_AddObjectToObject(o, "spec") : NULL, *subj;
    int ok = spec && (subj = cJSON_AddObjectToObject(spec, "subject")) &&
             cJSON_AddStringToObject(subj, "apiVersion", av) && cJSON_AddStringToObject(subj, "kind", kind) &&
             (!*name || cJSON_AddStringToObject(subj, "name", name)) && add_vauth(c, spec);
    if (ok && selector) {
        ok = cJSON_AddItemToObject(subj, "selector", selector);
        if (ok) selector = NULL;
    }
    r = ok ? create_obj(c, &k, dry, o, VSG_KN_API_VERSION, "vspherebindings", "Binding", "Created binding")
           : vsg_cli_fail(c, "out of memory");
out:
    cJSON_Delete(selector);
    cJSON_Delete(o);
    vsg_kn_close(&k);
    return r;
}

static int binding_delete(struct vsg_cli_ctx *c)
{
    return delete_obj(c, VSG_KN_API_VERSION, "vspherebindings", "binding", "Deleted binding", 0);
}

static int binding_list(struct vsg_cli_ctx *c) { return vsg_kn_list(c, "vspherebindings", "bindings"); }

/* ====================================================================
 * version, completion
 * ==================================================================== */

static int kn_version(struct vsg_cli_ctx *c)
{
    fprintf(c->out, "Version:      v%s\n", VSG_VERSION);
    fprintf(c->out, "Build Date:   %s\n", VSG_BUILD_DATE);
    fprintf(c->out, "Git Revision: %s\n", VSG_GIT_REV);
    return 0;
}

static const struct vsg_cli_cmd *kn_root_of(const struct vsg_cli_ctx *c) { return c->path[0]; }

static int completion(struct vsg_cli_ctx *c)
{
    if (c->nargs != 1) return vsg_cli_fail(c, "accepts 1 arg (bash or zsh), received %d", c->nargs);
    if (vsg_cli_completion(kn_root_of(c), c->args[0], c->out))
        return vsg_cli_fail(c, "unsupported shell \"%s\": use bash or zsh", c->args[0]);
    return 0;
}

/* ====================================================================
 * The tree
 * ==================================================================== */

static const char *const encodings[] = {"xml", "json", NULL};
static const char *const outputs[] = {"json", "yaml", NULL};
static const char *const list_outputs[] = {"json", "yaml", "name", NULL};
static const char *const dry_runs[] = {"none", "client", "server", NULL};
static const char *const on_errors[] = {"deliver", "drop", NULL};

/* -n on each group, as kn-vsphere has it; --kubeconfig and --context are ours. */
static const struct vsg_cli_flag group_flags[] = {
    {"namespace", 'n', VSG_CLI_STRING, NULL, "namespace to use (default namespace if omitted)", 0, NULL},
    {"kubeconfig", 0, VSG_CLI_STRING, NULL, "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)", 0, NULL},
    {"context", 0, VSG_CLI_STRING, NULL, "kubeconfig context to use (default: its current-context)", 0, NULL},
    {NULL, 0, 0, NULL, NULL, 0, NULL},
};

#define DRY_RUN_FLAG                                                                                     \
    {"dry-run", 0, VSG_CLI_STRING, NULL,                                                                 \
     "\"client\" prints the object without sending it, \"server\" has the API server admit it without " \
     "storing it",                                                                                       \
     0, dry_runs}
#define OUTPUT_FLAG                                                                                      \
    {"output", 'o', VSG_CLI_STRING, NULL, "print the object created as json or yaml", 0, outputs}

static const struct vsg_cli_flag auth_create_flags[] = {
    {"username", 'u', VSG_CLI_STRING, NULL, "username", 1, NULL},
    {"password", 'p', VSG_CLI_STRING, NULL, "password", 0, NULL},
    {"password-stdin", 'i', VSG_CLI_BOOL, NULL, "read password from standard input", 0, NULL},
    {"name", 0, VSG_CLI_STRING, NULL, "name of the Secret created for the credentials", 1, NULL},
    {"verify-url", 0, VSG_CLI_STRING, NULL, "vCenter URL to verify specified credentials (optional)", 0, NULL},
    {"verify-insecure", 0, VSG_CLI_BOOL, NULL, "Ignore certificate errors during credential verification", 0, NULL},
    DRY_RUN_FLAG,
    OUTPUT_FLAG,
    {NULL, 0, 0, NULL, NULL, 0, NULL},
};
static const struct vsg_cli_flag auth_delete_flags[] = {
    {"name", 0, VSG_CLI_STRING, NULL, "name of the credentials Secret to delete", 1, NULL},
    {NULL, 0, 0, NULL, NULL, 0, NULL},
};
static const struct vsg_cli_cmd auth_create_cmd = {
    "create", NULL, NULL, "Create vSphere credentials",
    "# Create vSphere credentials in the default namespace\n"
    "kn vsphere auth create --username jane-doe --password s3cr3t --name vsphere-credentials\n\n"
    "# Create vSphere credentials in the default namespace and validate against vCenter before creating the secret\n"
    "kn vsphere auth create --username jane-doe --password s3cr3t --name vsphere-credentials --verify-url https://myvc.corp.local\n\n"
    "# Create vSphere credentials in the specified namespace\n"
    "kn vsphere auth create --namespace ns --username john-doe --password s3cr3t --name vsphere-credentials\n\n"
    "# Create vSphere credentials in the specified namespace with the password retrieved via standard input\n"
    "kn vsphere auth create --namespace ns --username john-doe --password-stdin --name vsphere-credentials\n",
    auth_create_flags, NULL, NULL, auth_create, auth_create_pre};
static const struct vsg_cli_cmd auth_delete_cmd = {
    "delete", NULL, NULL, "Delete vSphere credentials",
    "# Delete vSphere credentials in the default namespace\n"
    "kn vsphere auth delete --name vsphere-credentials\n\n"
    "# Delete vSphere credentials in the specified namespace\n"
    "kn vsphere auth delete --namespace ns --name vsphere-credentials\n",
    auth_delete_flags, NULL, NULL, auth_delete, auth_delete_pre};
static const struct vsg_cli_cmd *const auth_subs[] = {&auth_create_cmd, &auth_delete_cmd, NULL};
static const struct vsg_cli_cmd auth_cmd = {"auth", NULL, NULL, "Manage vSphere credentials", NULL, NULL,
                                            group_flags, auth_subs, NULL, NULL};

static const struct vsg_cli_flag source_create_flags[] = {
    {"name", 0, VSG_CLI_STRING, NULL, "name of the source to create", 1, NULL},
    {"vc-address", 'a', VSG_CLI_STRING, NULL, "URL of vCenter instance to connect to retrieve events", 1, NULL},
    {"skip-tls-verify", 'k', VSG_CLI_BOOL, NULL, "disables certificate verification for the source address", 0, NULL},
    {"secret-ref", 's', VSG_CLI_STRING, NULL,
     "reference to the Kubernetes secret for the vSphere credentials needed for the source address", 1, NULL},
    {"sink-uri", 'u', VSG_CLI_STRING, NULL, "sink URI (can be absolute, or relative to the referred sink resource)", 0, NULL},
    {"sink-api-version", 0, VSG_CLI_STRING, NULL, "sink API version", 0, NULL},
    {"sink-kind", 0, VSG_CLI_STRING, NULL, "sink kind", 0, NULL},
    {"sink-name", 0, VSG_CLI_STRING, NULL, "sink name", 0, NULL},
    {"service-account-name", 0, VSG_CLI_STRING, NULL, "service account name", 0, NULL},
    {"encoding", 0, VSG_CLI_STRING, "xml", "CloudEvent data encoding scheme (xml or json)", 0, encodings},
    {"checkpoint-age", 0, VSG_CLI_DURATION, "5m0s",
     "maximum allowed age for replaying events determined by last successful event in checkpoint", 0, NULL},
    {"checkpoint-period", 0, VSG_CLI_DURATION, "10s", "period between saving checkpoints", 0, NULL},
    {"filter-configmap", 0, VSG_CLI_STRING, NULL, "ConfigMap with a Lua filter (key filter.lua) for the events", 0, NULL},
    {"filter-on-error", 0, VSG_CLI_STRING, NULL, "when the filter fails on an event: deliver (default) or drop it", 0, on_errors},
    DRY_RUN_FLAG,
    OUTPUT_FLAG,
    {NULL, 0, 0, NULL, NULL, 0, NULL},
};
static const struct vsg_cli_flag name_flag_source_delete[] = {
    {"name", 0, VSG_CLI_STRING, NULL, "name of the source to delete", 1, NULL},
    {NULL, 0, 0, NULL, NULL, 0, NULL},
};
static const struct vsg_cli_flag list_flags[] = {
    {"all-namespaces", 'A', VSG_CLI_BOOL, NULL, "list objects in all namespaces", 0, NULL},
    {"output", 'o', VSG_CLI_STRING, NULL, "Output format. One of: json|yaml|name", 0, list_outputs},
    {"no-headers", 0, VSG_CLI_BOOL, NULL,
     "When using the default output format, don't print headers (default: print headers)", 0, NULL},
    {NULL, 0, 0, NULL, NULL, 0, NULL},
};
static const struct vsg_cli_cmd source_create_cmd = {
    "create", NULL, NULL, "Create a vSphere source to react to vSphere events",
    "# Create the source in the default namespace, sending events to the specified sink URI\n"
    "kn vsphere source create --name vc-01-source --vc-address https://my-vsphere-endpoint.local --skip-tls-verify --secret-ref vsphere-credentials --sink-uri http://where.to.send.stuff\n\n"
    "# Create the source in the specified namespace, sending events to the specified service\n"
    "kn vsphere source create --namespace ns --name vc-01-source --vc-address https://my-vsphere-endpoint.local --skip-tls-verify --secret-ref vsphere-credentials --sink-api-version v1 --sink-kind Service --sink-name the-service-name\n\n"
    "# Create the source in the specified namespace, sending events to the specified service with custom checkpoint behavior\n"
    "kn vsphere source create --namespace ns --name vc-01-source --vc-address https://my-vsphere-endpoint.local --skip-tls-verify --secret-ref vsphere-credentials --sink-api-version v1 --sink-kind Service --sink-name the-service-name --checkpoint-age 1h --checkpoint-period 30s\n\n"
    "# Keep the YAML in git instead of creating it\n"
    "vsgate source create --name vc-01-source -a https://vc.corp.local -s vsphere-credentials -u http://sink --dry-run=client -o yaml\n",
    source_create_flags, NULL, NULL, source_create, source_create_pre};
static const struct vsg_cli_cmd source_delete_cmd = {
    "delete", NULL, NULL, "Delete a vSphere source",
    "# Delete the source in the default namespace\n"
    "kn vsphere source delete --name vc-01-source\n\n"
    "# Delete the source in the specified namespace\n"
    "kn vsphere source delete --namespace ns --name vc-01-source\n",
    name_flag_source_delete, NULL, NULL, source_delete, name_pre};
static const char *const ls_alias[] = {"ls", NULL};
static const struct vsg_cli_cmd source_list_cmd = {
    "list", ls_alias, NULL, "List vSphere sources",
    "# List the sources in the default namespace\n"
    "kn vsphere source list\n\n"
    "# List the sources in the specified namespace\n"
    "kn vsphere source list --namespace ns\n\n"
    "# List the sources in all namespaces with JSON output\n"
    "kn vsphere source list --all-namespaces -o json\n",
    list_flags, NULL, NULL, source_list, list_pre};
static const struct vsg_cli_cmd source_describe_cmd = {
    "describe", NULL, "NAME",
    "Show a vSphere source: spec, conditions, adapter, checkpoint and filter",
    "# Describe the source vc-01-source in the default namespace\n"
    "vsgate source describe vc-01-source\n",
    NULL, NULL, NULL, vsg_kn_source_describe, NULL};
static const struct vsg_cli_cmd *const source_subs[] = {&source_create_cmd, &source_delete_cmd,
                                                        &source_describe_cmd, &source_list_cmd, NULL};
static const struct vsg_cli_cmd source_cmd = {"source", NULL, NULL, "Manage vSphere Event Sources", NULL, NULL,
                                              group_flags, source_subs, NULL, NULL};

static const struct vsg_cli_flag binding_create_flags[] = {
    {"name", 0, VSG_CLI_STRING, NULL, "name of the binding to create", 1, NULL},
    {"vc-address", 'a', VSG_CLI_STRING, NULL, "URL of vCenter instance to associate the binding with", 1, NULL},
    {"skip-tls-verify", 'k', VSG_CLI_BOOL, NULL, "disables certificate verification for the binding API address", 0, NULL},
    {"secret-ref", 's', VSG_CLI_STRING, NULL,
     "reference to the Kubernetes secret for the vSphere credentials needed for the binding API address", 1, NULL},
    {"subject-api-version", 0, VSG_CLI_STRING, NULL, "subject API version", 1, NULL},
    {"subject-kind", 0, VSG_CLI_STRING, NULL, "subject kind", 1, NULL},
    {"subject-name", 0, VSG_CLI_STRING, NULL, "subject name (cannot be used with --subject-selector)", 0, NULL},
    {"subject-selector", 0, VSG_CLI_STRING, NULL, "subject selector (cannot be used with --subject-name)", 0, NULL},
    DRY_RUN_FLAG,
    OUTPUT_FLAG,
    {NULL, 0, 0, NULL, NULL, 0, NULL},
};
static const struct vsg_cli_flag name_flag_binding_delete[] = {
    {"name", 0, VSG_CLI_STRING, NULL, "name of the binding to delete", 1, NULL},
    {NULL, 0, 0, NULL, NULL, 0, NULL},
};
static const struct vsg_cli_cmd binding_create_cmd = {
    "create", NULL, NULL, "Create a vSphere binding to call into the vSphere API",
    "# Create the binding in the default namespace, targeting a Deployment subject\n"
    "kn vsphere binding create --name vc-binding --vc-address https://my-vsphere-endpoint.local --skip-tls-verify --secret-ref vsphere-credentials --subject-api-version apps/v1 --subject-kind Deployment --subject-name my-simple-app\n\n"
    "# Create the binding in the specified namespace, targeting a selection of Job subjects\n"
    "kn vsphere binding create --namespace ns --name vc-binding --vc-address https://my-vsphere-endpoint.local --skip-tls-verify --secret-ref vsphere-credentials --subject-api-version batch/v1 --subject-kind Job --subject-selector foo=bar\n",
    binding_create_flags, NULL, NULL, binding_create, binding_create_pre};
static const struct vsg_cli_cmd binding_delete_cmd = {
    "delete", NULL, NULL, "Delete a vSphere binding",
    "# Delete the binding in the default namespace\n"
    "kn vsphere binding delete --name vc-binding\n\n"
    "# Delete the binding in the specified namespace\n"
    "kn vsphere binding delete --namespace ns --name vc-binding\n",
    name_flag_binding_delete, NULL, NULL, binding_delete, name_pre};
static const struct vsg_cli_cmd binding_list_cmd = {
    "list", ls_alias, NULL, "List vSphere bindings",
    "# List the bindings in the default namespace\n"
    "kn vsphere binding list\n\n"
    "# List the bindings in the specified namespace\n"
    "kn vsphere binding list --namespace ns\n\n"
    "# List the bindings in all namespaces with JSON output\n"
    "kn vsphere binding list --all-namespaces -o json\n",
    list_flags, NULL, NULL, binding_list, list_pre};
static const struct vsg_cli_cmd binding_describe_cmd = {
    "describe", NULL, "NAME", "Show a vSphere binding: spec, conditions and the subjects it binds now",
    "# Describe the binding vc-binding in the default namespace\n"
    "vsgate binding describe vc-binding\n",
    NULL, NULL, NULL, vsg_kn_binding_describe, NULL};
static const struct vsg_cli_cmd *const binding_subs[] = {&binding_create_cmd, &binding_delete_cmd,
                                                         &binding_describe_cmd, &binding_list_cmd, NULL};
static const struct vsg_cli_cmd binding_cmd = {"binding", NULL, NULL, "Manage vSphere API bindings", NULL, NULL,
                                               group_flags, binding_subs, NULL, NULL};

static const struct vsg_cli_cmd completion_cmd = {
    "completion", NULL, "bash|zsh", "Print a shell completion script",
    "# Complete commands and flags in this bash session\n"
    "source <(vsgate completion bash)\n",
    NULL, NULL, NULL, completion, NULL};
static const struct vsg_cli_cmd version_cmd = {"version", NULL, NULL, "Prints the plugin version", NULL, NULL,
                                               NULL, NULL, kn_version, NULL};

static const struct vsg_cli_cmd *const kn_subs[] = {&auth_cmd, &binding_cmd, &completion_cmd,
                                                    &source_cmd, &version_cmd, NULL};
static const struct vsg_cli_cmd kn_root = {
    "kn-vsphere", NULL, NULL,
    "Knative plugin to create Knative compatible Event Sources for VMware vSphere events,\n"
    "and Bindings to access the vSphere API",
    NULL, NULL, NULL, kn_subs, NULL, NULL};

/* vsgate's own commands (main.c runs them) appear only for completion. */
static const struct vsg_cli_cmd plain_cmds[] = {
    {"controller", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {"adapter", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {"run", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {"sink", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {"filter", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {"help", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};
static const struct vsg_cli_cmd *const vsgate_subs[] = {
    &plain_cmds[1], &auth_cmd, &binding_cmd, &completion_cmd, &plain_cmds[0], &plain_cmds[4],
    &plain_cmds[5], &plain_cmds[2], &plain_cmds[3], &source_cmd, &version_cmd, NULL};
static const struct vsg_cli_cmd vsgate_root = {
    "vsgate", NULL, NULL, "vsgate - vSphere events to CloudEvents, and vCenter credentials for workloads",
    NULL, NULL, NULL, vsgate_subs, NULL, NULL};

int vsg_kn_main(const char *root, int argc, char **argv)
{
    /* Library code logs JSON lines at info; a command line shows errors only. */
    vsg_log_setup(VSG_LOG_LEVEL_ERROR, stderr);
    if (strcmp(root, "kn-vsphere") == 0) return vsg_cli_main(&kn_root, argc, argv);
    /* vsgate: argv[0] is the group ("source"); the tree starts at vsgate. */
    char **v = calloc((size_t)argc + 2, sizeof *v);
    if (!v) return 1;
    v[0] = (char *)"vsgate";
    for (int i = 0; i < argc; i++) v[i + 1] = argv[i];
    int r = vsg_cli_main(&vsgate_root, argc + 1, v);
    free(v);
    return r;
}
