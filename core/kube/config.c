/*
 * kube/config.c - see config.h.
 */
#include "kube/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <yaml.h>

#include "base/buf.h"
#include "base/mem.h"
#include "kube/exec_credential.h"

/* ====================================================================
 * Small helpers
 * ==================================================================== */

/* Reads the whole file at `path` (at most `max` bytes) into a NUL-terminated
 * vsg_malloc'd buffer. VSG_ERR_NOTFOUND when it does not exist. */
enum vsg_err vsg_kube_slurp(const char *path, size_t max, char **out, size_t *outlen,
                            struct vsg_error *err)
{
    struct vsg_buf b;
    char chunk[8192];
    enum vsg_err rc = VSG_OK;
    FILE *f = fopen(path, "rb");
    vsg_buf_init(&b, max);
    if (!f) {
        int e = errno;
        return vsg_error_set(err, e == ENOENT ? VSG_ERR_NOTFOUND : VSG_ERR_IO,
                             "cannot read %s: %s", path, strerror(e));
    }
    for (;;) {
        size_t n = fread(chunk, 1, sizeof chunk, f);
        if (n > 0 && (rc = vsg_buf_append(&b, chunk, n)) != VSG_OK) {
            vsg_error_set(err, rc, "cannot read %s: %s", path,
                          rc == VSG_ERR_TOOBIG ? "file too large" : vsg_strerror(rc));
            goto done;
        }
        if (n < sizeof chunk) break;
    }
    if (ferror(f)) {
        rc = vsg_error_set(err, VSG_ERR_IO, "cannot read %s: read error", path);
        goto done;
    }
    *outlen = b.len;
    if (!(*out = vsg_buf_steal(&b)))
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
done:
    fclose(f);
    vsg_buf_cleanup(&b);
    return rc;
}

/* Copy of `s` without leading and trailing white space, or NULL. */
static char *dup_trimmed(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
                     s[n - 1] == '\r'))
        n--;
    return vsg_strndup(s, n);
}

/* `rel` made absolute against `dir` when it is relative (and dir given). */
char *vsg_kube_resolve_path(const char *dir, const char *rel)
{
    if (rel[0] == '/' || !dir || !*dir) return vsg_strdup(rel);
    struct vsg_buf b;
    vsg_buf_init(&b, 64 * 1024);
    char *out = NULL;
    if (vsg_buf_printf(&b, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", rel) ==
        VSG_OK)
        out = vsg_buf_steal(&b);
    vsg_buf_cleanup(&b);
    return out;
}

/* Decodes base64 text (line breaks allowed) with OpenSSL into a
 * NUL-terminated buffer. VSG_ERR_PARSE when it is not base64. */
static enum vsg_err base64_decode(const char *in, size_t inlen, char **out)
{
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    unsigned char *buf = NULL;
    int n1 = 0, n2 = 0;
    enum vsg_err rc = VSG_ERR_PARSE;
    *out = NULL;
    if (!ctx) return VSG_ERR_NOMEM;
    if (inlen > (size_t)INT32_MAX / 2) goto done;
    buf = vsg_malloc(inlen / 4 * 3 + 8);
    if (!buf) {
        rc = VSG_ERR_NOMEM;
        goto done;
    }
    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, buf, &n1, (const unsigned char *)in, (int)inlen) < 0) goto done;
    if (EVP_DecodeFinal(ctx, buf + n1, &n2) < 0) goto done;
    buf[n1 + n2] = '\0';
    *out = (char *)buf;
    buf = NULL;
    rc = VSG_OK;
done:
    vsg_free(buf);
    EVP_ENCODE_CTX_free(ctx);
    return rc;
}

/* ====================================================================
 * YAML access
 * ==================================================================== */

/* What the parser needs while it walks one document. */
struct walk {
    yaml_document_t *doc;  /* The loaded document. */
    yaml_node_t *root;     /* Its top-level mapping, or NULL when empty. */
    const char *origin;    /* File name for messages. */
    const char *dir;       /* Folder relative paths resolve against. */
    struct vsg_error *err; /* Where problems are described. */
};

/* Nonzero when `n` is absent or a YAML null (~, null, or empty plain). */
static int is_null(const yaml_node_t *n)
{
    if (!n) return 1;
    if (n->type != YAML_SCALAR_NODE) return 0;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    const char *v = (const char *)n->data.scalar.value;
    return n->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* The value node of `key` in mapping `map`, or NULL (also when `map` is not a
 * mapping). */
static yaml_node_t *map_get(struct walk *w, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(w->doc, p->value);
    }
    return NULL;
}

/* The string value of `key` in `map`: *out is NULL when absent or null, else
 * borrowed from the document. VSG_ERR_INVAL when it is not a scalar. */
static enum vsg_err get_str(struct walk *w, yaml_node_t *map, const char *key, const char *where,
                            const char **out)
{
    yaml_node_t *n = map_get(w, map, key);
    *out = NULL;
    if (is_null(n)) return VSG_OK;
    if (n->type != YAML_SCALAR_NODE)
        return vsg_error_set(w->err, VSG_ERR_INVAL, "%s: %s: \"%s\" must be a string (line %zu)",
                             w->origin, where, key, n->start_mark.line + 1);
    *out = (const char *)n->data.scalar.value;
    return VSG_OK;
}

/* The boolean value of `key` in `map` (YAML 1.1 spellings, as Go's yaml.v2
 * reads them); absent means 0. */
static enum vsg_err get_bool(struct walk *w, yaml_node_t *map, const char *key, const char *where,
                             int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "y", NULL};
    static const char *const no[] = {"false", "no", "off", "n", NULL};
    const char *v;
    enum vsg_err rc = get_str(w, map, key, where, &v);
    *out = 0;
    if (rc != VSG_OK || !v) return rc;
    for (int i = 0; yes[i]; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return VSG_OK;
        }
    }
    for (int i = 0; no[i]; i++)
        if (strcasecmp(v, no[i]) == 0) return VSG_OK;
    return vsg_error_set(w->err, VSG_ERR_INVAL, "%s: %s: \"%s\" must be true or false, not \"%s\"",
                         w->origin, where, key, v);
}

/*
 * Finds the entry named `name` in the top-level list `list` ("clusters",
 * "users", "contexts") of the `n` documents `ws`, the first that defines it
 * winning (client-go's merge). *from is the walk it came from (NULL when no
 * document has it); *out is its `inner` mapping ("cluster", "user",
 * "context"), or NULL when that is empty.
 */
static enum vsg_err find_named(struct walk *ws, size_t n, const char *list, const char *inner,
                               const char *name, struct walk **from, yaml_node_t **out)
{
    *from = NULL;
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        struct walk *w = &ws[i];
        yaml_node_t *seq = map_get(w, w->root, list);
        if (is_null(seq)) continue;
        if (seq->type != YAML_SEQUENCE_NODE)
            return vsg_error_set(w->err, VSG_ERR_INVAL, "%s: \"%s\" must be a list (line %zu)",
                                 w->origin, list, seq->start_mark.line + 1);
        for (yaml_node_item_t *it = seq->data.sequence.items.start;
             it < seq->data.sequence.items.top; it++) {
            yaml_node_t *e = yaml_document_get_node(w->doc, *it);
            const char *nm;
            if (!e || e->type != YAML_MAPPING_NODE)
                return vsg_error_set(w->err, VSG_ERR_INVAL,
                                     "%s: every entry of \"%s\" must be a mapping (line %zu)",
                                     w->origin, list, e ? e->start_mark.line + 1 : 0);
            enum vsg_err rc = get_str(w, e, "name", list, &nm);
            if (rc != VSG_OK) return rc;
            if (!nm || strcmp(nm, name) != 0) continue;
            yaml_node_t *v = map_get(w, e, inner);
            *from = w;
            if (is_null(v)) return VSG_OK;
            if (v->type != YAML_MAPPING_NODE)
                return vsg_error_set(w->err, VSG_ERR_INVAL,
                                     "%s: %s \"%s\": \"%s\" must be a mapping (line %zu)",
                                     w->origin, list, name, inner, v->start_mark.line + 1);
            *out = v;
            return VSG_OK;
        }
    }
    return VSG_OK;
}

/*
 * Sets *out_file / *out_pem from the pair `file_key` / `data_key` of `map`:
 * data (base64) wins over the file; the file path is resolved.
 */
static enum vsg_err file_or_data(struct walk *w, yaml_node_t *map, const char *where,
                                 const char *file_key, const char *data_key, char **out_file,
                                 char **out_pem)
{
    const char *file, *data;
    enum vsg_err rc;
    if ((rc = get_str(w, map, file_key, where, &file)) != VSG_OK) return rc;
    if ((rc = get_str(w, map, data_key, where, &data)) != VSG_OK) return rc;
    if (data && *data) {
        rc = base64_decode(data, strlen(data), out_pem);
        if (rc == VSG_ERR_PARSE)
            return vsg_error_set(w->err, rc, "%s: %s: \"%s\" is not valid base64", w->origin,
                                 where, data_key);
        if (rc != VSG_OK) return vsg_error_set(w->err, rc, "%s: out of memory", w->origin);
        if (!**out_pem)
            return vsg_error_set(w->err, VSG_ERR_INVAL, "%s: %s: \"%s\" is empty", w->origin,
                                 where, data_key);
        return VSG_OK;
    }
    if (file && *file) {
        if (!(*out_file = vsg_kube_resolve_path(w->dir, file)))
            return vsg_error_set(w->err, VSG_ERR_NOMEM, "%s: out of memory", w->origin);
    }
    return VSG_OK;
}

/* Reads the token file `path` into *token (trimmed). */
static enum vsg_err read_token(const char *path, char **token, struct vsg_error *err)
{
    char *data = NULL;
    size_t len = 0;
    enum vsg_err rc = vsg_kube_slurp(path, VSG_KUBE_CONFIG_MAX_FILE, &data, &len, err);
    if (rc != VSG_OK) return rc;
    vsg_free(*token);
    *token = dup_trimmed(data, len);
    vsg_free(data);
    if (!*token) return vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
    return VSG_OK;
}

/* ====================================================================
 * Exec credential plugins (run by kube/exec_credential.c)
 * ==================================================================== */

/* Sets "<origin>: user "<user>": exec: <detail>" (as exec_credential.c
 * words its messages) and returns `code`. */
static enum vsg_err exec_fail(const struct walk *w, const char *user_name, enum vsg_err code,
                              const char *fmt, ...) VSG_PRINTF(4, 5);
static enum vsg_err exec_fail(const struct walk *w, const char *user_name, enum vsg_err code,
                              const char *fmt, ...)
{
    char detail[VSG_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return vsg_error_set(w->err, code, "%s: user \"%s\": exec: %s", w->origin, user_name, detail);
}

/*
 * Reads the exec plugin settings `exec` of user `user_name` (from walk
 * `w`) and runs the plugin once (see the header), which fills the token
 * or client certificate of `cfg`, whose cluster is already filled.
 */
static enum vsg_err exec_plugin(struct walk *w, yaml_node_t *exec, const char *user_name,
                                struct vsg_kube_config *cfg)
{
    struct vsg_kube_exec_spec spec = {0};
    struct vsg_kube_exec_cluster cluster = {cfg->server, cfg->ca_pem, cfg->ca_file,
                                            cfg->insecure};
    struct vsg_kube_exec_env *vars = NULL;
    const char **args_v = NULL;
    yaml_node_t *args, *env;
    size_t nargs = 0, nenv = 0;
    enum vsg_err rc;

    if (exec->type != YAML_MAPPING_NODE)
        return vsg_error_set(w->err, VSG_ERR_INVAL, "%s: user \"%s\": \"exec\" must be a mapping "
                             "(line %zu)", w->origin, user_name, exec->start_mark.line + 1);
    spec.dir = w->dir;
    spec.origin = w->origin;
    spec.user = user_name;
    if ((rc = get_str(w, exec, "command", "exec", &spec.command)) != VSG_OK ||
        (rc = get_str(w, exec, "apiVersion", "exec", &spec.api_version)) != VSG_OK ||
        (rc = get_str(w, exec, "installHint", "exec", &spec.install_hint)) != VSG_OK ||
        (rc = get_str(w, exec, "interactiveMode", "exec", &spec.interactive_mode)) != VSG_OK ||
        (rc = get_bool(w, exec, "provideClusterInfo", "exec", &spec.provide_cluster_info)) !=
            VSG_OK)
        return rc;
    /* The settings first, then the lists, as before the split. */
    if ((rc = vsg_kube_exec_check(&spec, w->err)) != VSG_OK) return rc;

    /* args and env: lists (of strings, of {name, value}). */
    args = map_get(w, exec, "args");
    env = map_get(w, exec, "env");
    if (!is_null(args) && args->type != YAML_SEQUENCE_NODE)
        return exec_fail(w, user_name, VSG_ERR_INVAL, "\"args\" must be a list (line %zu)",
                         args->start_mark.line + 1);
    if (!is_null(env) && env->type != YAML_SEQUENCE_NODE)
        return exec_fail(w, user_name, VSG_ERR_INVAL, "\"env\" must be a list (line %zu)",
                         env->start_mark.line + 1);
    if (!is_null(args))
        nargs = (size_t)(args->data.sequence.items.top - args->data.sequence.items.start);
    if (!is_null(env))
        nenv = (size_t)(env->data.sequence.items.top - env->data.sequence.items.start);
    args_v = vsg_calloc(nargs + 1, sizeof *args_v);
    vars = vsg_calloc(nenv + 1, sizeof *vars);
    if (!args_v || !vars) {
        rc = vsg_error_set(w->err, VSG_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nargs; i++) {
        yaml_node_t *a = yaml_document_get_node(w->doc, args->data.sequence.items.start[i]);
        if (!a || a->type != YAML_SCALAR_NODE) {
            rc = exec_fail(w, user_name, VSG_ERR_INVAL, "every entry of \"args\" must be a "
                           "string (line %zu)", a ? a->start_mark.line + 1 : 0);
            goto done;
        }
        args_v[i] = (const char *)a->data.scalar.value;
    }
    for (size_t i = 0; i < nenv; i++) {
        yaml_node_t *v = yaml_document_get_node(w->doc, env->data.sequence.items.start[i]);
        if (!v || v->type != YAML_MAPPING_NODE) {
            rc = exec_fail(w, user_name, VSG_ERR_INVAL, "every entry of \"env\" must be a "
                           "mapping (line %zu)", v ? v->start_mark.line + 1 : 0);
            goto done;
        }
        if ((rc = get_str(w, v, "name", "exec env", &vars[i].name)) != VSG_OK ||
            (rc = get_str(w, v, "value", "exec env", &vars[i].value)) != VSG_OK)
            goto done;
        if (!vars[i].name || !*vars[i].name || strchr(vars[i].name, '=')) {
            rc = exec_fail(w, user_name, VSG_ERR_INVAL, "env variable name must be specified, "
                           "without '=' (line %zu)", v->start_mark.line + 1);
            goto done;
        }
    }
    spec.args = args_v;
    spec.env = vars;
    spec.nenv = nenv;
    rc = vsg_kube_exec_credential(&spec, &cluster, cfg, w->err);
done:
    vsg_free(args_v);
    vsg_free(vars);
    return rc;
}

/* ====================================================================
 * Kubeconfig
 * ==================================================================== */

/*
 * Fills `cfg` from the `n` loaded documents `ws`: one file, or the
 * $KUBECONFIG list merged (see the header for the rules). `label` names the
 * whole set in messages about what none of them has.
 */
static enum vsg_err walk_config(struct walk *ws, size_t n, const char *label,
                                const char *want_ctx, struct vsg_kube_config *cfg)
{
    struct walk *cw = NULL, *kw = NULL, *uw = NULL; /* Where the context, cluster, user are. */
    yaml_node_t *ctx = NULL, *cluster = NULL, *user = NULL;
    const char *ctx_name = want_ctx, *cluster_name, *user_name, *ns, *server, *s;
    enum vsg_err rc;
    struct vsg_error *err = ws[0].err;

    /* Every document is a mapping; an empty one is an error only alone. */
    for (size_t i = 0; i < n; i++) {
        struct walk *w = &ws[i];
        w->root = yaml_document_get_root_node(w->doc);
        if (!w->root || is_null(w->root)) {
            w->root = NULL;
            if (n == 1)
                return vsg_error_set(err, VSG_ERR_INVAL, "%s: the file is empty", w->origin);
            continue;
        }
        if (w->root->type != YAML_MAPPING_NODE)
            return vsg_error_set(err, VSG_ERR_INVAL,
                                 "%s: not a kubeconfig (the top level must be a mapping)",
                                 w->origin);
    }

    /* current-context: from the first document that sets one. */
    for (size_t i = 0; (!ctx_name || !*ctx_name) && i < n; i++)
        if ((rc = get_str(&ws[i], ws[i].root, "current-context", "kubeconfig", &ctx_name)) !=
            VSG_OK)
            return rc;
    if (!ctx_name || !*ctx_name)
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "%s: no current-context is set and no context was named", label);
    if ((rc = find_named(ws, n, "contexts", "context", ctx_name, &cw, &ctx)) != VSG_OK) return rc;
    if (!cw)
        return vsg_error_set(err, VSG_ERR_INVAL, "%s: context \"%s\" does not exist", label,
                             ctx_name);
    if ((rc = get_str(cw, ctx, "cluster", "context", &cluster_name)) != VSG_OK) return rc;
    if ((rc = get_str(cw, ctx, "user", "context", &user_name)) != VSG_OK) return rc;
    if ((rc = get_str(cw, ctx, "namespace", "context", &ns)) != VSG_OK) return rc;
    if (!cluster_name || !*cluster_name)
        return vsg_error_set(err, VSG_ERR_INVAL, "%s: context \"%s\" names no cluster",
                             cw->origin, ctx_name);
    if ((rc = find_named(ws, n, "clusters", "cluster", cluster_name, &kw, &cluster)) != VSG_OK)
        return rc;
    if (!kw)
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "%s: cluster \"%s\" (of context \"%s\") does not exist", label,
                             cluster_name, ctx_name);
    if (user_name && *user_name) {
        if ((rc = find_named(ws, n, "users", "user", user_name, &uw, &user)) != VSG_OK) return rc;
        if (!uw)
            return vsg_error_set(err, VSG_ERR_INVAL,
                                 "%s: user \"%s\" (of context \"%s\") does not exist", label,
                                 user_name, ctx_name);
    }

    /* The cluster. */
    if ((rc = get_str(kw, cluster, "server", "cluster", &server)) != VSG_OK) return rc;
    if (!server || !*server)
        return vsg_error_set(err, VSG_ERR_INVAL, "%s: cluster \"%s\" has no server", kw->origin,
                             cluster_name);
    {
        struct vsg_buf b;
        size_t len = strlen(server);
        while (len > 0 && server[len - 1] == '/') len--;
        vsg_buf_init(&b, 64 * 1024);
        if (!strstr(server, "://")) rc = vsg_buf_puts(&b, "https://");
        if (rc == VSG_OK) rc = vsg_buf_append(&b, server, len);
        if (rc == VSG_OK && !(cfg->server = vsg_buf_steal(&b))) rc = VSG_ERR_NOMEM;
        vsg_buf_cleanup(&b);
        if (rc != VSG_OK) return vsg_error_set(err, rc, "%s: cluster \"%s\": bad server", kw->origin,
                                               cluster_name);
    }
    if ((rc = file_or_data(kw, cluster, "cluster", "certificate-authority",
                           "certificate-authority-data", &cfg->ca_file, &cfg->ca_pem)) != VSG_OK)
        return rc;
    if ((rc = get_bool(kw, cluster, "insecure-skip-tls-verify", "cluster", &cfg->insecure)) != VSG_OK)
        return rc;
    if (cfg->insecure && (cfg->ca_file || cfg->ca_pem))
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "%s: cluster \"%s\": specifying a root certificates file with the "
                             "insecure flag is not allowed",
                             kw->origin, cluster_name);

    /* The user. */
    if (user) {
        if ((rc = file_or_data(uw, user, "user", "client-certificate", "client-certificate-data",
                               &cfg->cert_file, &cfg->cert_pem)) != VSG_OK)
            return rc;
        if ((rc = file_or_data(uw, user, "user", "client-key", "client-key-data", &cfg->key_file,
                               &cfg->key_pem)) != VSG_OK)
            return rc;
        if ((cfg->cert_file || cfg->cert_pem) != (cfg->key_file || cfg->key_pem))
            return vsg_error_set(err, VSG_ERR_INVAL,
                                 "%s: user \"%s\": a client certificate needs a client key and "
                                 "the reverse",
                                 uw->origin, user_name);
        if ((rc = get_str(uw, user, "tokenFile", "user", &s)) != VSG_OK) return rc;
        if (s && *s) {
            if (!(cfg->token_file = vsg_kube_resolve_path(uw->dir, s)))
                return vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
            if ((rc = read_token(cfg->token_file, &cfg->token, err)) != VSG_OK)
                return vsg_error_set(err, rc == VSG_ERR_NOTFOUND ? VSG_ERR_IO : rc,
                                     "%s: user \"%s\": tokenFile: %s", uw->origin, user_name,
                                     err ? err->msg : "");
        } else {
            if ((rc = get_str(uw, user, "token", "user", &s)) != VSG_OK) return rc;
            if (s && *s && !(cfg->token = vsg_strdup(s)))
                return vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
        }
        /* Nothing else: an exec plugin runs now; auth-provider is refused. */
        if (!cfg->token && !cfg->cert_file && !cfg->cert_pem) {
            yaml_node_t *ex = map_get(uw, user, "exec");
            if (!is_null(ex)) {
                if ((rc = exec_plugin(uw, ex, user_name, cfg)) != VSG_OK) return rc;
            } else if (!is_null(map_get(uw, user, "auth-provider"))) {
                return vsg_error_set(err, VSG_ERR_UNSUPPORTED,
                                     "%s: user \"%s\" uses an auth-provider plugin; kubectl "
                                     "dropped those in 1.26 and vsgate does not support them "
                                     "(use an exec plugin, a token or a client certificate)",
                                     uw->origin, user_name);
            }
        }
    }

    if (!(cfg->ns = vsg_strdup(ns && *ns ? ns : "default")) ||
        !(cfg->context = vsg_strdup(ctx_name)) || !(cfg->origin = vsg_strdup(cw->origin)))
        return vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
    return VSG_OK;
}

/* Loads `yaml` into `doc` (delete it after VSG_OK) and points w->doc at it;
 * messages name w->origin. */
static enum vsg_err load_doc(const char *yaml, size_t len, struct walk *w, yaml_document_t *doc)
{
    yaml_parser_t parser;
    enum vsg_err rc = VSG_OK;

    if (!yaml_parser_initialize(&parser))
        return vsg_error_set(w->err, VSG_ERR_NOMEM, "%s: out of memory", w->origin);
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, doc)) {
        if (parser.error == YAML_MEMORY_ERROR) {
            rc = vsg_error_set(w->err, VSG_ERR_NOMEM, "%s: out of memory", w->origin);
        } else {
            rc = vsg_error_set(w->err, VSG_ERR_PARSE,
                               "%s: invalid YAML at line %zu column %zu: %s%s%s", w->origin,
                               parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                               parser.problem ? parser.problem : "syntax error",
                               parser.context ? " " : "", parser.context ? parser.context : "");
        }
    } else {
        w->doc = doc;
    }
    yaml_parser_delete(&parser);
    return rc;
}

/* The folder of `path` ("." when it names none), or NULL when out of memory. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? vsg_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : vsg_strdup(".");
}

enum vsg_err vsg_kube_config_parse(const char *yaml, size_t len, const char *dir,
                                   const char *origin, const char *context,
                                   struct vsg_kube_config *cfg, struct vsg_error *err)
{
    yaml_document_t doc;
    enum vsg_err rc;
    struct walk w = {NULL, NULL, origin ? origin : "kubeconfig", dir, err};

    memset(cfg, 0, sizeof *cfg);
    if ((rc = load_doc(yaml, len, &w, &doc)) != VSG_OK) return rc;
    rc = walk_config(&w, 1, w.origin, context, cfg);
    yaml_document_delete(&doc);
    if (rc != VSG_OK) vsg_kube_config_cleanup(cfg);
    return rc;
}

enum vsg_err vsg_kube_config_load_file(const char *path, const char *context,
                                       struct vsg_kube_config *cfg, struct vsg_error *err)
{
    char *data = NULL, *dir = NULL;
    size_t len = 0;
    enum vsg_err rc;

    memset(cfg, 0, sizeof *cfg);
    rc = vsg_kube_slurp(path, VSG_KUBE_CONFIG_MAX_FILE, &data, &len, err);
    if (rc != VSG_OK) {
        if (rc == VSG_ERR_NOTFOUND) rc = VSG_ERR_IO; /* A named file must exist. */
        return vsg_error_set(err, rc, "kubeconfig: %s", err ? err->msg : path);
    }
    if (!(dir = dir_of(path))) {
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
        goto done;
    }
    rc = vsg_kube_config_parse(data, len, dir, path, context, cfg, err);
done:
    vsg_free(data);
    vsg_free(dir);
    return rc;
}

/*
 * Loads the colon list `list` ($KUBECONFIG) merged as client-go does (see
 * the header): files that do not exist are skipped, and *none is set (with
 * VSG_ERR_NOTFOUND) when no listed file exists.
 */
static enum vsg_err load_merged(const char *list, const char *context,
                                struct vsg_kube_config *cfg, struct vsg_error *err, int *none)
{
    size_t cap = 1, n = 0;
    struct walk *ws = NULL;
    yaml_document_t *docs = NULL;
    char *label = NULL;
    enum vsg_err rc = VSG_OK;

    memset(cfg, 0, sizeof *cfg);
    *none = 0;
    for (const char *p = list; *p; p++) cap += *p == ':';
    ws = vsg_calloc(cap, sizeof *ws);
    docs = vsg_calloc(cap, sizeof *docs);
    if (!ws || !docs) goto nomem;
    for (const char *p = list; *p;) {
        size_t plen = strcspn(p, ":");
        struct walk *w = &ws[n];
        char *data = NULL, *path;
        size_t len = 0;
        if (plen == 0) {
            p++;
            continue;
        }
        if (!(path = vsg_strndup(p, plen))) goto nomem;
        p += plen;
        w->origin = path;
        w->err = err;
        rc = vsg_kube_slurp(path, VSG_KUBE_CONFIG_MAX_FILE, &data, &len, err);
        if (rc == VSG_ERR_NOTFOUND) {
            vsg_free(path); /* Skipped silently, as client-go does. */
            w->origin = NULL;
            continue;
        }
        if (rc != VSG_OK) {
            vsg_free(path);
            w->origin = NULL;
            vsg_error_set(err, rc, "kubeconfig: %s", err ? err->msg : "cannot read");
            goto done;
        }
        if (!(w->dir = dir_of(path))) {
            vsg_free(data);
            n++; /* Freed below with the others. */
            goto nomem;
        }
        rc = load_doc(data, len, w, &docs[n]);
        vsg_free(data);
        n++;
        if (rc != VSG_OK) goto done;
    }
    if (n == 0) {
        *none = 1;
        rc = vsg_error_set(err, VSG_ERR_NOTFOUND, "$KUBECONFIG: none of its files exists (%s)",
                           list);
        goto done;
    }
    if (n > 1) {
        struct vsg_buf b;
        vsg_buf_init(&b, 64 * 1024);
        if (vsg_buf_printf(&b, "$KUBECONFIG (%s)", list) == VSG_OK) label = vsg_buf_steal(&b);
        vsg_buf_cleanup(&b);
        if (!label) goto nomem;
    }
    rc = walk_config(ws, n, label ? label : ws[0].origin, context, cfg);
    goto done;
nomem:
    rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
done:
    for (size_t i = 0; ws && i < n; i++) {
        if (ws[i].doc) yaml_document_delete(ws[i].doc);
        vsg_free((char *)ws[i].origin);
        vsg_free((char *)ws[i].dir);
    }
    vsg_free(ws);
    vsg_free(docs);
    vsg_free(label);
    if (rc != VSG_OK) vsg_kube_config_cleanup(cfg);
    return rc;
}

/* ====================================================================
 * In-cluster
 * ==================================================================== */

enum vsg_err vsg_kube_config_load_incluster(struct vsg_kube_config *cfg, struct vsg_error *err)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    const char *dir = getenv("VSG_SA_DIR");
    struct vsg_buf b;
    enum vsg_err rc = VSG_OK;
    char *data = NULL;
    size_t len = 0;

    memset(cfg, 0, sizeof *cfg);
    vsg_buf_init(&b, 64 * 1024);
    if (!host || !*host || !port || !*port)
        return vsg_error_set(err, VSG_ERR_NOTFOUND,
                             "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
                             "are not set (not running in a pod)");
    if (!dir || !*dir) dir = VSG_KUBE_SA_DIR;

    /* An IPv6 address needs brackets in a URL. */
    if (strchr(host, ':'))
        rc = vsg_buf_printf(&b, "https://[%s]:%s", host, port);
    else
        rc = vsg_buf_printf(&b, "https://%s:%s", host, port);
    if (rc != VSG_OK || !(cfg->server = vsg_buf_steal(&b))) goto nomem;

    vsg_buf_reset(&b);
    if (vsg_buf_printf(&b, "%s/token", dir) != VSG_OK || !(cfg->token_file = vsg_buf_steal(&b)))
        goto nomem;
    if ((rc = read_token(cfg->token_file, &cfg->token, err)) != VSG_OK) {
        if (rc == VSG_ERR_NOTFOUND) rc = VSG_ERR_IO;
        vsg_error_set(err, rc, "in-cluster: service account token: %s", err ? err->msg : "");
        goto fail;
    }
    vsg_buf_reset(&b);
    if (vsg_buf_printf(&b, "%s/ca.crt", dir) != VSG_OK || !(cfg->ca_file = vsg_buf_steal(&b)))
        goto nomem;
    {
        struct stat st;
        if (stat(cfg->ca_file, &st) != 0) {
            rc = vsg_error_set(err, VSG_ERR_IO, "in-cluster: service account CA %s: %s",
                               cfg->ca_file, strerror(errno));
            goto fail;
        }
    }
    vsg_buf_reset(&b);
    if (vsg_buf_printf(&b, "%s/namespace", dir) != VSG_OK) goto nomem;
    rc = vsg_kube_slurp(b.data, 64 * 1024, &data, &len, NULL);
    if (rc == VSG_OK) cfg->ns = dup_trimmed(data, len);
    if (cfg->ns && !*cfg->ns) {
        vsg_free(cfg->ns);
        cfg->ns = NULL;
    }
    if (!cfg->ns && !(cfg->ns = vsg_strdup("default"))) goto nomem;
    if (!(cfg->origin = vsg_strdup("in-cluster"))) goto nomem;
    cfg->in_cluster = 1;
    rc = VSG_OK;
    goto done;
nomem:
    rc = vsg_error_set(err, VSG_ERR_NOMEM, "in-cluster: out of memory");
fail:
    vsg_kube_config_cleanup(cfg);
done:
    vsg_free(data);
    vsg_buf_cleanup(&b);
    return rc;
}

/* ====================================================================
 * Search order
 * ==================================================================== */

enum vsg_err vsg_kube_config_load(const char *kubeconfig, const char *context,
                                  struct vsg_kube_config *cfg, struct vsg_error *err)
{
    const char *env = getenv("KUBECONFIG");
    const char *home = getenv("HOME");
    struct vsg_buf b;
    enum vsg_err rc;
    struct stat st;

    memset(cfg, 0, sizeof *cfg);
    /* 1. The explicit path. */
    if (kubeconfig && *kubeconfig) return vsg_kube_config_load_file(kubeconfig, context, cfg, err);

    /* 2. $KUBECONFIG: one file as it is (it must exist), or the list merged. */
    if (env && *env) {
        const char *p = env;
        while (*p == ':') p++;
        size_t n = strcspn(p, ":");
        if (*p && !p[n + strspn(p + n, ":")]) {
            char *only = vsg_strndup(p, n);
            if (!only) return vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
            rc = vsg_kube_config_load_file(only, context, cfg, err);
            vsg_free(only);
            return rc;
        }
        if (*p) {
            int none;
            rc = load_merged(env, context, cfg, err, &none);
            if (!none) return rc;
        }
    }

    /* 3. In-cluster. */
    vsg_buf_init(&b, 64 * 1024);
    int have_home = home && *home && vsg_buf_printf(&b, "%s/.kube/config", home) == VSG_OK &&
                    stat(b.data, &st) == 0;
    rc = vsg_kube_config_load_incluster(cfg, err);
    if (rc == VSG_OK || rc == VSG_ERR_NOMEM || (rc != VSG_ERR_NOTFOUND && !have_home)) goto done;

    /* 4. ~/.kube/config. */
    if (have_home) {
        rc = vsg_kube_config_load_file(b.data, context, cfg, err);
        goto done;
    }
    rc = vsg_error_set(err, VSG_ERR_NOTFOUND,
                       "no Kubernetes configuration: no --kubeconfig, no $KUBECONFIG, not "
                       "in a pod, and no ~/.kube/config");
done:
    vsg_buf_cleanup(&b);
    return rc;
}

enum vsg_err vsg_kube_config_load_kubectl(const char *kubeconfig, const char *context,
                                          struct vsg_kube_config *cfg, struct vsg_error *err)
{
    const char *env = getenv("KUBECONFIG");
    const char *home = getenv("HOME");
    const char *pod_ns = getenv("POD_NAMESPACE");
    struct vsg_buf b;
    enum vsg_err rc;
    struct stat st;
    int none = 1;

    memset(cfg, 0, sizeof *cfg);
    /* 1. The explicit path, which must exist. */
    if (kubeconfig && *kubeconfig) {
        if (stat(kubeconfig, &st) != 0 && (errno == ENOENT || errno == ENOTDIR))
            return vsg_error_set(err, VSG_ERR_IO, "config file '%s' can not be found",
                                 kubeconfig);
        return vsg_kube_config_load_file(kubeconfig, context, cfg, err);
    }

    /* 2. $KUBECONFIG merged; no existing file means not configured. */
    if (env && env[strspn(env, ":")]) {
        rc = load_merged(env, context, cfg, err, &none);
        if (!none) return rc;
    }

    /* 3. ~/.kube/config, only when $KUBECONFIG is unset or empty. */
    vsg_buf_init(&b, 64 * 1024);
    if (!(env && *env) && home && *home) {
        if (vsg_buf_printf(&b, "%s/.kube/config", home) != VSG_OK) {
            rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
            goto done;
        }
        if (stat(b.data, &st) == 0) {
            rc = vsg_kube_config_load_file(b.data, context, cfg, err);
            goto done;
        }
    }

    /* 4. In-cluster, the namespace from $POD_NAMESPACE when set. */
    rc = vsg_kube_config_load_incluster(cfg, err);
    if (rc == VSG_OK && pod_ns && *pod_ns) {
        char *ns = vsg_strdup(pod_ns);
        if (!ns) {
            vsg_kube_config_cleanup(cfg);
            rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
            goto done;
        }
        vsg_free(cfg->ns);
        cfg->ns = ns;
    }
    if (rc == VSG_ERR_NOTFOUND && env && *env)
        rc = vsg_error_set(err, VSG_ERR_NOTFOUND,
                           "invalid configuration: no configuration has been provided: none "
                           "of the files in $KUBECONFIG (%s) exists, and ~/.kube/config is not "
                           "read while $KUBECONFIG is set",
                           env);
    else if (rc == VSG_ERR_NOTFOUND)
        rc = vsg_error_set(err, VSG_ERR_NOTFOUND,
                           "invalid configuration: no configuration has been provided, try "
                           "--kubeconfig, setting $KUBECONFIG or creating ~/.kube/config "
                           "(or run in a pod)");
done:
    vsg_buf_cleanup(&b);
    return rc;
}

void vsg_kube_config_cleanup(struct vsg_kube_config *cfg)
{
    if (!cfg) return;
    vsg_free(cfg->server);
    vsg_free(cfg->ca_file);
    vsg_free(cfg->ca_pem);
    vsg_free(cfg->cert_file);
    vsg_free(cfg->key_file);
    vsg_free(cfg->cert_pem);
    vsg_free(cfg->key_pem);
    vsg_free(cfg->token);
    vsg_free(cfg->token_file);
    vsg_free(cfg->ns);
    vsg_free(cfg->context);
    vsg_free(cfg->origin);
    memset(cfg, 0, sizeof *cfg);
}
