/*
 * kube/exec_credential.c - see exec_credential.h.
 */
#include "kube/exec_credential.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "base/buf.h"
#include "base/mem.h"
#include "kube/config.h"

extern char **environ;

/* One plugin run: what its messages name. */
struct plugin {
    const char *origin;    /* The kubeconfig file the user came from. */
    const char *user;      /* The user's name. */
    const char *cmd;       /* The command as written. */
    const char *api;       /* The apiVersion asked for. */
    struct vsg_error *err; /* Where problems are described. */
};

/* ====================================================================
 * Small helpers
 * ==================================================================== */


/* Sets "<origin>: user "<user>": exec: <detail>" and returns `code`. */
static enum vsg_err plugin_fail(const struct plugin *p, enum vsg_err code, const char *fmt, ...)
    VSG_PRINTF(3, 4);
static enum vsg_err plugin_fail(const struct plugin *p, enum vsg_err code, const char *fmt, ...)
{
    char detail[VSG_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return vsg_error_set(p->err, code, "%s: user \"%s\": exec: %s", p->origin, p->user, detail);
}

/* a, b and c joined in one vsg_malloc'd string, or NULL. */
static char *concat3(const char *a, const char *b, const char *c)
{
    size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
    char *s = vsg_malloc(na + nb + nc + 1);
    if (!s) return NULL;
    memcpy(s, a, na);
    memcpy(s + na, b, nb);
    memcpy(s + na + nb, c, nc + 1);
    return s;
}



/* ====================================================================
 * Running the plugin
 * ==================================================================== */

/* Nonzero when `path` is a file with an execute bit (Go's LookPath test). */
static int is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISDIR(st.st_mode) && (st.st_mode & 0111);
}

/* The file to run for `cmd`: searched in $PATH when it has no slash, else
 * resolved against `dir`. *out stays NULL when there is none. */
static enum vsg_err find_command(const char *cmd, const char *dir, char **out)
{
    const char *p = getenv("PATH");
    *out = NULL;
    if (strchr(cmd, '/')) {
        char *path = vsg_kube_resolve_path(dir, cmd);
        if (!path) return VSG_ERR_NOMEM;
        if (is_executable(path))
            *out = path;
        else
            vsg_free(path);
        return VSG_OK;
    }
    while (p && *p) {
        size_t n = strcspn(p, ":");
        if (n > 0) {
            char *d = vsg_strndup(p, n), *path = d ? concat3(d, "/", cmd) : NULL;
            vsg_free(d);
            if (!path) return VSG_ERR_NOMEM;
            if (is_executable(path)) {
                *out = path;
                return VSG_OK;
            }
            vsg_free(path);
        }
        p += n + (p[n] == ':');
    }
    return VSG_OK;
}

/*
 * "KUBERNETES_EXEC_INFO=<ExecCredential JSON>" into *out: the apiVersion,
 * kind, spec.interactive false and, when `with_cluster`, spec.cluster with
 * the server, the CA (base64) and insecure-skip-tls-verify of `c`.
 */
static enum vsg_err exec_info(const struct plugin *p, int with_cluster,
                              const struct vsg_kube_exec_cluster *c, char **out)
{
    struct vsg_buf b;
    char *ca = NULL;
    unsigned char *b64 = NULL;
    size_t ca_len = 0;
    enum vsg_err rc;

    vsg_buf_init(&b, 2 * VSG_KUBE_CONFIG_MAX_FILE);
    rc = vsg_buf_puts(&b, "KUBERNETES_EXEC_INFO={\"apiVersion\":");
    if (rc == VSG_OK) rc = vsg_buf_append_json_string(&b, p->api);
    if (rc == VSG_OK) rc = vsg_buf_puts(&b, ",\"kind\":\"ExecCredential\",\"spec\":{");
    if (rc == VSG_OK && with_cluster) {
        rc = vsg_buf_puts(&b, "\"cluster\":{\"server\":");
        if (rc == VSG_OK) rc = vsg_buf_append_json_string(&b, c->server);
        if (rc == VSG_OK && c->ca_pem) {
            ca_len = strlen(c->ca_pem);
        } else if (rc == VSG_OK && c->ca_file) {
            rc = vsg_kube_slurp(c->ca_file, VSG_KUBE_CONFIG_MAX_FILE, &ca, &ca_len, p->err);
            if (rc != VSG_OK) {
                if (rc != VSG_ERR_NOMEM)
                    rc = plugin_fail(p, VSG_ERR_IO, "provideClusterInfo: %s",
                                     p->err ? p->err->msg : "");
                goto done;
            }
        }
        if (rc == VSG_OK && ca_len > 0) {
            if (!(b64 = vsg_malloc(ca_len / 3 * 4 + 8))) {
                rc = VSG_ERR_NOMEM;
            } else {
                EVP_EncodeBlock(b64, (const unsigned char *)(ca ? ca : c->ca_pem), (int)ca_len);
                rc = vsg_buf_printf(&b, ",\"certificate-authority-data\":\"%s\"", (char *)b64);
            }
        }
        if (rc == VSG_OK && c->insecure)
            rc = vsg_buf_puts(&b, ",\"insecure-skip-tls-verify\":true");
        if (rc == VSG_OK) rc = vsg_buf_puts(&b, "},");
    }
    if (rc == VSG_OK) rc = vsg_buf_puts(&b, "\"interactive\":false}}");
    if (rc == VSG_OK && !(*out = vsg_buf_steal(&b))) rc = VSG_ERR_NOMEM;
    if (rc != VSG_OK)
        rc = plugin_fail(p, rc, "cannot build KUBERNETES_EXEC_INFO: %s", vsg_strerror(rc));
done:
    vsg_buf_cleanup(&b);
    vsg_free(ca);
    vsg_free(b64);
    return rc;
}

/* Milliseconds of a monotonic clock. */
static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Runs `path` (argv, envp; no shell) with stdin /dev/null and our stderr,
 * reads its stdout into `out` (at most VSG_KUBE_EXEC_MAX_OUTPUT bytes) and
 * waits for it, all within VSG_KUBE_EXEC_TIMEOUT_S (then it is killed).
 * A plugin that does not exit 0 is an error.
 */
static enum vsg_err spawn_plugin(const struct plugin *p, const char *path, char *const argv[],
                                 char *const envp[], struct vsg_buf *out)
{
    static const int dfl[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGALRM,
                              SIGUSR1, SIGUSR2};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t set;
    int fds[2], status = 0, e;
    pid_t pid;
    long long deadline;
    enum { RUNNING, EXITED, TIMEOUT, TOOBIG, FAILED } st = RUNNING;
    enum vsg_err rc = VSG_OK;

    if (pipe(fds) != 0)
        return plugin_fail(p, VSG_ERR_IO, "cannot run %s: pipe: %s", p->cmd, strerror(errno));
    /* Close-on-exec: the child keeps only the dup2'ed copy as stdout. */
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    if ((e = posix_spawn_file_actions_init(&fa)) != 0) {
        close(fds[0]);
        close(fds[1]);
        return plugin_fail(p, VSG_ERR_NOMEM, "cannot run %s: %s", p->cmd, strerror(e));
    }
    if ((e = posix_spawnattr_init(&attr)) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        close(fds[0]);
        close(fds[1]);
        return plugin_fail(p, VSG_ERR_NOMEM, "cannot run %s: %s", p->cmd, strerror(e));
    }
    /* No blocked or ignored signals inherited from us. */
    sigemptyset(&set);
    e = posix_spawnattr_setsigmask(&attr, &set);
    for (size_t i = 0; i < sizeof dfl / sizeof dfl[0]; i++) sigaddset(&set, dfl[i]);
    if (!e) e = posix_spawnattr_setsigdefault(&attr, &set);
    if (!e) e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (!e) e = posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    if (!e) e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!e) e = posix_spawn(&pid, path, &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(fds[1]);
    if (e) {
        close(fds[0]);
        return plugin_fail(p, VSG_ERR_IO, "cannot run %s: %s", p->cmd, strerror(e));
    }

    /* Its output, until end of file or the time limit. */
    deadline = mono_ms() + VSG_KUBE_EXEC_TIMEOUT_S * 1000LL;
    while (st == RUNNING) {
        char chunk[8192];
        long long left = deadline - mono_ms();
        struct pollfd pfd = {fds[0], POLLIN, 0};
        if (left <= 0) {
            st = TIMEOUT;
            break;
        }
        int r = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r < 0 && errno != EINTR) {
            e = errno;
            st = FAILED;
        }
        if (r <= 0) continue;
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n < 0 && errno != EINTR && errno != EAGAIN) {
            e = errno;
            st = FAILED;
        } else if (n == 0) {
            break;
        } else if (n > 0 && out->len + (size_t)n > VSG_KUBE_EXEC_MAX_OUTPUT) {
            st = TOOBIG;
        } else if (n > 0 && (rc = vsg_buf_append(out, chunk, (size_t)n)) != VSG_OK) {
            st = FAILED;
            e = ENOMEM;
        }
    }
    close(fds[0]);

    /* Its exit, within the same limit. */
    while (st == RUNNING) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            st = EXITED;
        } else if (w < 0 && errno != EINTR) {
            return plugin_fail(p, VSG_ERR_IO, "waiting for %s: %s", p->cmd, strerror(errno));
        } else if (mono_ms() >= deadline) {
            st = TIMEOUT;
        } else {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (st != EXITED) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    switch (st) {
    case TIMEOUT:
        return plugin_fail(p, VSG_ERR_IO, "executable %s did not finish within %d s and was killed",
                           p->cmd, VSG_KUBE_EXEC_TIMEOUT_S);
    case TOOBIG:
        return plugin_fail(p, VSG_ERR_IO, "executable %s wrote more than %u bytes and was killed",
                           p->cmd, (unsigned)VSG_KUBE_EXEC_MAX_OUTPUT);
    case FAILED:
        return plugin_fail(p, e == ENOMEM ? VSG_ERR_NOMEM : VSG_ERR_IO,
                           "reading the output of %s: %s", p->cmd, strerror(e));
    default:
        break;
    }
    if (WIFSIGNALED(status))
        return plugin_fail(p, VSG_ERR_IO, "executable %s was killed by signal %d", p->cmd,
                           WTERMSIG(status));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return plugin_fail(p, VSG_ERR_IO, "executable %s failed with exit code %d", p->cmd,
                           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return VSG_OK;
}

/* The string member `key` of `obj`: *out NULL when absent or null;
 * nonzero return when it is there but not a string. */
static int json_str(const cJSON *obj, const char *key, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsString(v)) return 1;
    *out = v->valuestring;
    return 0;
}

/*
 * Reads the plugin's stdout as an ExecCredential of p->api and sets the
 * token or the client certificate and key of `cfg`. Messages never quote
 * the output (it holds secrets), only kind and apiVersion.
 */
static enum vsg_err parse_credential(const struct plugin *p, const char *data, size_t len,
                                     struct vsg_kube_config *cfg)
{
    static const char bad[] = "the plugin's output is not an ExecCredential";
    const char *end = NULL, *kind, *api, *token, *cert, *key;
    const cJSON *status;
    enum vsg_err rc = VSG_OK;
    cJSON *root;

    vsg_mem_cjson_reset();
    root = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    if (!root && vsg_mem_cjson_failed())
        return plugin_fail(p, VSG_ERR_NOMEM, "out of memory reading the output of %s", p->cmd);
    if (!root) {
        size_t at = cJSON_GetErrorPtr() ? (size_t)(cJSON_GetErrorPtr() - data) : 0;
        if (data[strspn(data, " \t\r\n")] == '\0')
            return plugin_fail(p, VSG_ERR_INVAL, "%s: it is empty (executable %s)", bad, p->cmd);
        return plugin_fail(p, VSG_ERR_INVAL, "%s: invalid JSON near byte %zu (executable %s)",
                           bad, at < len ? at : len, p->cmd);
    }
    if (end && end[strspn(end, " \t\r\n")] != '\0') {
        rc = plugin_fail(p, VSG_ERR_INVAL, "%s: text after the JSON value (executable %s)", bad,
                         p->cmd);
        goto done;
    }
    if (!cJSON_IsObject(root) || json_str(root, "kind", &kind) ||
        json_str(root, "apiVersion", &api)) {
        rc = plugin_fail(p, VSG_ERR_INVAL, "%s: not a JSON object with string kind and apiVersion "
                         "(executable %s)", bad, p->cmd);
        goto done;
    }
    if (!kind || strcmp(kind, "ExecCredential") != 0) {
        rc = plugin_fail(p, VSG_ERR_INVAL, "%s: kind is \"%.64s\" (executable %s)", bad,
                         kind ? kind : "", p->cmd);
        goto done;
    }
    if (!api || strcmp(api, p->api) != 0) {
        rc = plugin_fail(p, VSG_ERR_INVAL, "apiVersion %s was asked for, the plugin answered "
                         "%.100s (executable %s)", p->api, api && *api ? api : "none", p->cmd);
        goto done;
    }
    status = cJSON_GetObjectItemCaseSensitive(root, "status");
    if (!cJSON_IsObject(status)) {
        rc = plugin_fail(p, VSG_ERR_INVAL, "%s: it has no status (executable %s)", bad, p->cmd);
        goto done;
    }
    if (json_str(status, "token", &token) || json_str(status, "clientCertificateData", &cert) ||
        json_str(status, "clientKeyData", &key)) {
        rc = plugin_fail(p, VSG_ERR_INVAL, "%s: token, clientCertificateData and clientKeyData "
                         "must be strings (executable %s)", bad, p->cmd);
        goto done;
    }
    if (token && !*token) token = NULL;
    if (cert && !*cert) cert = NULL;
    if (key && !*key) key = NULL;
    if (!cert != !key) {
        rc = plugin_fail(p, VSG_ERR_INVAL, "executable %s returned only a client certificate or "
                         "key, not both", p->cmd);
        goto done;
    }
    if (!token && !cert) {
        rc = plugin_fail(p, VSG_ERR_INVAL, "executable %s returned neither a token nor a client "
                         "certificate and key", p->cmd);
        goto done;
    }
    if ((token && !(cfg->token = vsg_strdup(token))) ||
        (cert && (!(cfg->cert_pem = vsg_strdup(cert)) || !(cfg->key_pem = vsg_strdup(key)))))
        rc = vsg_error_set(p->err, VSG_ERR_NOMEM, "out of memory");
done:
    cJSON_Delete(root);
    return rc;
}

/* ====================================================================
 * Interface
 * ==================================================================== */

enum vsg_err vsg_kube_exec_check(const struct vsg_kube_exec_spec *spec, struct vsg_error *err)
{
    struct plugin p = {spec->origin, spec->user, spec->command, spec->api_version, err};
    const char *cmd = spec->command, *api = spec->api_version, *mode = spec->interactive_mode;

    if (!cmd || !*cmd) return plugin_fail(&p, VSG_ERR_INVAL, "command must be specified");
    if (!api || !*api) return plugin_fail(&p, VSG_ERR_INVAL, "apiVersion must be specified");
    if (strcmp(api, "client.authentication.k8s.io/v1") != 0 &&
        strcmp(api, "client.authentication.k8s.io/v1beta1") != 0)
        return plugin_fail(&p, VSG_ERR_INVAL, "invalid apiVersion \"%s\" (vsgate speaks "
                           "client.authentication.k8s.io/v1 and v1beta1)", api);
    /* v1 needs an interactiveMode (v1beta1 defaults to IfAvailable);
     * plugins run without a terminal, so Always cannot be met. */
    if ((!mode || !*mode) && strcmp(api, "client.authentication.k8s.io/v1") == 0)
        return plugin_fail(&p, VSG_ERR_INVAL, "interactiveMode must be specified");
    if (mode && *mode && strcmp(mode, "Never") != 0 && strcmp(mode, "IfAvailable") != 0) {
        if (strcmp(mode, "Always") == 0)
            return plugin_fail(&p, VSG_ERR_INVAL, "interactiveMode Always needs a terminal, and "
                               "vsgate runs plugins without one");
        return plugin_fail(&p, VSG_ERR_INVAL, "invalid interactiveMode \"%s\"", mode);
    }
    return VSG_OK;
}

enum vsg_err vsg_kube_exec_credential(const struct vsg_kube_exec_spec *spec,
                                      const struct vsg_kube_exec_cluster *cluster,
                                      struct vsg_kube_config *cfg, struct vsg_error *err)
{
    struct plugin p = {spec->origin, spec->user, spec->command, spec->api_version, err};
    const char *hint = spec->install_hint;
    size_t nargs = 0, nours = 0, nextra = 0;
    char *path = NULL, **argv = NULL, **extra = NULL, **envp = NULL;
    struct vsg_buf out;
    enum vsg_err rc;

    vsg_buf_init(&out, VSG_KUBE_EXEC_MAX_OUTPUT);
    if ((rc = vsg_kube_exec_check(spec, err)) != VSG_OK) return rc;

    /* argv: the command as written, then the args. */
    while (spec->args && spec->args[nargs]) nargs++;
    while (environ && environ[nours]) nours++;
    argv = vsg_calloc(nargs + 2, sizeof *argv);
    extra = vsg_calloc(spec->nenv + 2, sizeof *extra);
    envp = vsg_calloc(nours + spec->nenv + 2, sizeof *envp);
    if (!argv || !extra || !envp) goto nomem;
    argv[0] = (char *)spec->command;
    for (size_t i = 0; i < nargs; i++) argv[i + 1] = (char *)spec->args[i];
    for (size_t i = 0; i < spec->nenv; i++) {
        const struct vsg_kube_exec_env *v = &spec->env[i];
        if (!(extra[nextra++] = concat3(v->name, "=", v->value ? v->value : ""))) goto nomem;
    }
    if ((rc = exec_info(&p, spec->provide_cluster_info && cluster, cluster, &extra[nextra])) !=
        VSG_OK)
        goto done;
    nextra++;

    /* Ours, then the extras; a later entry of the same name wins. */
    {
        size_t n = 0;
        for (size_t i = 0; i < nours + nextra; i++) {
            char *s = i < nours ? environ[i] : extra[i - nours];
            size_t klen = strcspn(s, "=") + 1;
            int later = 0;
            for (size_t j = i + 1; j < nours + nextra && !later; j++) {
                const char *t = j < nours ? environ[j] : extra[j - nours];
                later = strncmp(s, t, klen) == 0;
            }
            if (!later) envp[n++] = s;
        }
    }

    if ((rc = find_command(spec->command, spec->dir, &path)) != VSG_OK) goto nomem;
    if (!path) {
        rc = plugin_fail(&p, VSG_ERR_IO, "executable %s not found%s%s", spec->command,
                         hint && *hint ? ": " : "", hint && *hint ? hint : "");
        goto done;
    }
    if ((rc = spawn_plugin(&p, path, argv, envp, &out)) != VSG_OK) goto done;
    rc = parse_credential(&p, out.data ? out.data : "", out.len, cfg);
    goto done;
nomem:
    rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
done:
    for (size_t i = 0; extra && i < nextra; i++) vsg_free(extra[i]);
    vsg_free(extra);
    vsg_free(argv);
    vsg_free(envp);
    vsg_free(path);
    if (out.data) memset(out.data, 0, out.len); /* It holds the secret. */
    vsg_buf_cleanup(&out);
    return rc;
}
