/*
 * cmd_kn_show.c - `source|binding list` (kn-vsphere's table, -o json|yaml|
 * name) and `source|binding describe NAME` (vsgate's own). See kn.h.
 *
 * The table is what kn's printers write: upper-case headers, columns
 * padded by text/tabwriter (minimum width 6, padding 3, the last column
 * unpadded), Age as apimachinery's HumanDuration, Conditions "N OK / M",
 * Ready the Ready condition's status ("<unknown>" without one), Reason
 * "<reason> : <message>" while not Ready.
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/vtime.h"
#include "cmd/kn.h"
#include "kube/selector.h"
#include "http/client.h"
#include "kube/discovery.h"

/* ====================================================================
 * Cells
 * ==================================================================== */

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static const cJSON *jobj(const cJSON *o, const char *key) { return cJSON_GetObjectItemCaseSensitive(o, key); }

/* Age of an RFC 3339 timestamp, "<unknown>" when there is none. */
static void age_of(const char *ts, char *out, size_t n)
{
    struct vsg_time t;
    if (!ts || !*ts || vsg_time_parse_rfc3339(ts, &t) != VSG_OK) {
        snprintf(out, n, "<unknown>");
        return;
    }
    vsg_cli_human_duration(vsg_time_diff_ns(vsg_time_now(), t) / 1000000000, out, n);
}

static const cJSON *ready_condition(const cJSON *obj)
{
    const cJSON *cond;
    cJSON_ArrayForEach(cond, jobj(jobj(obj, "status"), "conditions"))
        if (strcmp(jstr(cond, "type"), "Ready") == 0) return cond;
    return NULL;
}

/* ====================================================================
 * Table (text/tabwriter as kn configures it)
 * ==================================================================== */

#define NCOLS 9

struct table {
    char **cells; /* rows * NCOLS, owned. */
    int rows, cols;
};

static size_t runes(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

static int table_add(struct table *t, const char *const *row)
{
    char **grown = realloc(t->cells, (size_t)(t->rows + 1) * NCOLS * sizeof *grown);
    if (!grown) return -1;
    t->cells = grown;
    for (int i = 0; i < t->cols; i++) {
        if (!(grown[t->rows * NCOLS + i] = vsg_strdup(row[i] ? row[i] : ""))) {
            for (int j = 0; j < i; j++) vsg_free(grown[t->rows * NCOLS + j]);
            return -1;
        }
    }
    t->rows++;
    return 0;
}

static void table_print(struct table *t, FILE *out)
{
    size_t width[NCOLS] = {0};
    for (int r = 0; r < t->rows; r++)
        for (int i = 0; i < t->cols - 1; i++) {
            size_t w = runes(t->cells[r * NCOLS + i]) + 3;
            if (w > width[i]) width[i] = w;
        }
    for (int i = 0; i < t->cols - 1; i++)
        if (width[i] < 6) width[i] = 6;
    for (int r = 0; r < t->rows; r++) {
        for (int i = 0; i < t->cols; i++) {
            const char *s = t->cells[r * NCOLS + i];
            fputs(s, out);
            if (i < t->cols - 1) fprintf(out, "%*s", (int)(width[i] - runes(s)), "");
        }
        fputc('\n', out);
    }
}

static void table_free(struct table *t)
{
    for (int i = 0; i < t->rows * NCOLS; i++)
        if (i % NCOLS < t->cols) vsg_free(t->cells[i]);
    free(t->cells);
}

/* ====================================================================
 * list
 * ==================================================================== */

int vsg_kn_list(struct vsg_cli_ctx *c, const char *resource, const char *what)
{
    int all = vsg_cli_bool(c, "all-namespaces");
    if (vsg_kn_output_check(c, 1) < 0) return 1;
    struct vsg_kn k;
    if (vsg_kn_open(&k, c, 0)) return 1;
    struct vsg_buf path;
    struct vsg_error err;
    cJSON *list = NULL;
    int r = 0;
    vsg_buf_init(&path, 4096);
    if (vsg_kube_path(&path, VSG_KN_API_VERSION, all ? NULL : k.ns, resource, NULL, NULL) != VSG_OK) {
        r = vsg_cli_fail(c, "out of memory");
        goto out;
    }
    if (vsg_kube_get(k.kc, path.data, &list, &err) != VSG_OK) {
        r = vsg_cli_fail(c, "list %s: %s", what, vsg_kn_api_message("GET", path.data, err.msg));
        goto out;
    }
    const char *o = vsg_cli_str(c, "output");
    const cJSON *items = jobj(list, "items"), *it;
    if (!*o && cJSON_GetArraySize(items) == 0) {
        fprintf(c->out, "No %s found.\n", what);
        goto out;
    }
    if (strcmp(o, "json") == 0 || strcmp(o, "yaml") == 0) {
        r = vsg_kn_print_obj(c, list);
        goto out;
    }
    if (strcmp(o, "name") == 0) {
        cJSON_ArrayForEach(it, items)
            fprintf(c->out, "%s.sources.tanzu.vmware.com/%s\n", strcmp(resource, "vspheresources") == 0 ? "vspheresource" : "vspherebinding",
                    jstr(jobj(it, "metadata"), "name"));
        goto out;
    }
    struct table t = {NULL, 0, all ? 9 : 8};
    static const char *const head[] = {"NAMESPACE", "NAME", "VCENTER", "INSECURE", "CREDENTIALS",
                                       "AGE", "CONDITIONS", "READY", "REASON"};
    int bad = !vsg_cli_bool(c, "no-headers") && table_add(&t, head + (all ? 0 : 1));
    cJSON_ArrayForEach(it, items) {
        const cJSON *md = jobj(it, "metadata"), *spec = jobj(it, "spec"), *cond, *rc = ready_condition(it);
        char age[32], conds[32], reason[1024];
        int ok = 0, n = 0;
        cJSON_ArrayForEach(cond, jobj(jobj(it, "status"), "conditions")) {
            n++;
            ok += strcmp(jstr(cond, "status"), "True") == 0;
        }
        snprintf(conds, sizeof conds, "%d OK / %d", ok, n);
        age_of(jstr(md, "creationTimestamp"), age, sizeof age);
        if (!rc)
            snprintf(reason, sizeof reason, "<unknown>");
        else if (strcmp(jstr(rc, "status"), "True") == 0)
            reason[0] = '\0';
        else if (*jstr(rc, "message"))
            snprintf(reason, sizeof reason, "%s : %s", jstr(rc, "reason"), jstr(rc, "message"));
        else
            snprintf(reason, sizeof reason, "%s", jstr(rc, "reason"));
        const char *row[NCOLS] = {jstr(md, "namespace"), jstr(md, "name"), jstr(spec, "address"),
                                  cJSON_IsTrue(jobj(spec, "skipTLSVerify")) ? "true" : "false",
                                  jstr(jobj(spec, "secretRef"), "name"), age, conds,
                                  rc ? jstr(rc, "status") : "<unknown>", reason};
        bad = bad || table_add(&t, row + (all ? 0 : 1));
    }
    if (bad)
        r = vsg_cli_fail(c, "out of memory");
    else
        table_print(&t, c->out);
    table_free(&t);
out:
    cJSON_Delete(list);
    vsg_buf_cleanup(&path);
    vsg_kn_close(&k);
    return r;
}

/* ====================================================================
 * describe
 * ==================================================================== */

#define FIELD "%-18s"
/* A field under another, indented by two: values line up. */
#define SUBFIELD "  %-16s"

/* GETs `api_version`/`resource` `name` in k->ns (NULL name: the list,
 * with `query` appended). NULL on failure, with the API's message in
 * `msg`. */
static cJSON *get_obj(struct vsg_kn *k, const char *api_version, const char *resource, const char *name,
                      const char *query, char *msg, size_t msgsz)
{
    struct vsg_buf path;
    struct vsg_error err;
    cJSON *o = NULL;
    vsg_buf_init(&path, 8192);
    if (vsg_kube_path(&path, api_version, k->ns, resource, name, NULL) != VSG_OK ||
        (query && vsg_buf_puts(&path, query) != VSG_OK)) {
        snprintf(msg, msgsz, "out of memory");
    } else if (vsg_kube_get(k->kc, path.data, &o, &err) != VSG_OK) {
        snprintf(msg, msgsz, "%s", vsg_kn_api_message("GET", path.data, err.msg));
        o = NULL;
    }
    vsg_buf_cleanup(&path);
    return o;
}

/* Opens the API and reads the object named by the one argument. */
static cJSON *describe_open(struct vsg_cli_ctx *c, struct vsg_kn *k, const char *resource, const char *what)
{
    char msg[VSG_ERROR_MSG_MAX];
    if (c->nargs != 1) {
        vsg_cli_fail(c, "'%s describe' requires the name of the %s as its single argument", what, what);
        return NULL;
    }
    if (vsg_kn_open(k, c, 0)) return NULL;
    cJSON *o = get_obj(k, VSG_KN_API_VERSION, resource, c->args[0], NULL, msg, sizeof msg);
    if (!o) {
        vsg_cli_fail(c, "%s", msg);
        vsg_kn_close(k);
    }
    return o;
}

/* Name, namespace, age, vCenter, TLS and credentials (and whether the
 * Secret is usable). */
static void describe_head(struct vsg_kn *k, const cJSON *obj)
{
    FILE *out = k->c->out;
    const cJSON *md = jobj(obj, "metadata"), *spec = jobj(obj, "spec");
    char age[32], msg[VSG_ERROR_MSG_MAX];
    age_of(jstr(md, "creationTimestamp"), age, sizeof age);
    fprintf(out, FIELD "%s\n", "Name:", jstr(md, "name"));
    fprintf(out, FIELD "%s\n", "Namespace:", jstr(md, "namespace"));
    fprintf(out, FIELD "%s\n", "Age:", age);
    fprintf(out, FIELD "%s\n", "VCenter:", jstr(spec, "address"));
    fprintf(out, FIELD "%s\n", "Insecure:", cJSON_IsTrue(jobj(spec, "skipTLSVerify")) ? "true" : "false");
    const char *secret = jstr(jobj(spec, "secretRef"), "name");
    cJSON *s = *secret ? get_obj(k, "v1", "secrets", secret, NULL, msg, sizeof msg) : NULL;
    const cJSON *data = jobj(s, "data");
    const char *state = !*secret ? "none named"
                        : !s ? msg
                        : !jobj(data, "username") || !jobj(data, "password") ? "the Secret lacks the key username or password"
                                                                               : "Secret found, with username and password";
    fprintf(out, FIELD "%s (%s)\n", "Credentials:", *secret ? secret : "-", state);
    cJSON_Delete(s);
}

/* kn describe's conditions block: OK TYPE AGE REASON. */
static void describe_conditions(FILE *out, const cJSON *obj)
{
    const cJSON *cond, *conds = jobj(jobj(obj, "status"), "conditions");
    fprintf(out, "\nConditions:\n");
    if (!cJSON_GetArraySize(conds)) {
        fprintf(out, "  (none yet: the controller has not reconciled it)\n");
        return;
    }
    fprintf(out, "  OK TYPE                 AGE REASON\n");
    cJSON_ArrayForEach(cond, conds) {
        const char *st = jstr(cond, "status"), *reason = jstr(cond, "reason"), *m = jstr(cond, "message");
        char age[32];
        age_of(jstr(cond, "lastTransitionTime"), age, sizeof age);
        fprintf(out, "  %s %-20s %3s%s%s%s%s\n",
                strcmp(st, "True") == 0 ? "++" : strcmp(st, "False") == 0 ? "!!" : "??",
                jstr(cond, "type"), age, *reason || *m ? " " : "", reason, *m && *reason ? ": " : "", m);
    }
}

/* The adapter Deployment: owned by the source (its name follows the
 * reconciler's rule, which is not repeated here). Sets *cm to the
 * checkpoint ConfigMap's name from its env (owned) or NULL. */
static void describe_adapter(struct vsg_kn *k, const cJSON *src, char **cm)
{
    FILE *out = k->c->out;
    char msg[VSG_ERROR_MSG_MAX];
    const char *uid = jstr(jobj(src, "metadata"), "uid");
    cJSON *deps = get_obj(k, "apps/v1", "deployments", NULL,
                          "?labelSelector=vspheresources.sources.tanzu.vmware.com%2Fname", msg, sizeof msg);
    const cJSON *d, *found = NULL, *ref;
    *cm = NULL;
    cJSON_ArrayForEach(d, jobj(deps, "items")) {
        cJSON_ArrayForEach(ref, jobj(jobj(d, "metadata"), "ownerReferences"))
            if (strcmp(jstr(ref, "uid"), uid) == 0) found = d;
    }
    if (!deps) {
        fprintf(out, FIELD "cannot list Deployments: %s\n", "Adapter:", msg);
    } else if (!found) {
        fprintf(out, FIELD "no Deployment yet\n", "Adapter:");
    } else {
        const cJSON *st = jobj(found, "status"), *cond, *ctr, *e;
        int want = cJSON_IsNumber(jobj(jobj(found, "spec"), "replicas")) ? jobj(jobj(found, "spec"), "replicas")->valueint : 1;
        int ready = cJSON_IsNumber(jobj(st, "readyReplicas")) ? jobj(st, "readyReplicas")->valueint : 0;
        const char *avail = "Unknown", *why = "";
        cJSON_ArrayForEach(cond, jobj(st, "conditions"))
            if (strcmp(jstr(cond, "type"), "Available") == 0) {
                avail = jstr(cond, "status");
                why = jstr(cond, "message");
            }
        fprintf(out, FIELD "Deployment %s: %d/%d ready, Available=%s%s%s\n", "Adapter:",
                jstr(jobj(found, "metadata"), "name"), ready, want, avail, *why ? " - " : "", why);
        cJSON_ArrayForEach(ctr, jobj(jobj(jobj(jobj(found, "spec"), "template"), "spec"), "containers"))
            cJSON_ArrayForEach(e, jobj(ctr, "env"))
                if (strcmp(jstr(e, "name"), "VSPHERE_KVSTORE_CONFIGMAP") == 0 && !*cm)
                    *cm = vsg_strdup(jstr(e, "value"));
    }
    cJSON_Delete(deps);
}

/* The checkpoint: last event key and its time, from the ConfigMap. */
static void describe_checkpoint(struct vsg_kn *k, const char *cm)
{
    FILE *out = k->c->out;
    char msg[VSG_ERROR_MSG_MAX], age[32];
    if (!cm) {
        fprintf(out, FIELD "unknown (no adapter Deployment names its ConfigMap)\n", "Checkpoint:");
        return;
    }
    cJSON *o = get_obj(k, "v1", "configmaps", cm, NULL, msg, sizeof msg);
    const char *text = jstr(jobj(o, "data"), "checkpoint");
    cJSON *cp = *text ? cJSON_Parse(text) : NULL;
    const cJSON *key = jobj(cp, "lastEventKey");
    const char *ts = jstr(cp, "lastEventKeyTimestamp");
    if (!o)
        fprintf(out, FIELD "ConfigMap %s: %s\n", "Checkpoint:", cm, msg);
    else if (!cp || !cJSON_IsNumber(key) || strncmp(ts, "0001-", 5) == 0)
        fprintf(out, FIELD "ConfigMap %s: no event delivered yet\n", "Checkpoint:", cm);
    else {
        age_of(ts, age, sizeof age);
        fprintf(out, FIELD "ConfigMap %s: last event %.0f at %s (%s ago)\n", "Checkpoint:", cm, key->valuedouble,
                ts, age);
    }
    cJSON_Delete(cp);
    cJSON_Delete(o);
}

int vsg_kn_source_describe(struct vsg_cli_ctx *c)
{
    struct vsg_kn k;
    cJSON *src = describe_open(c, &k, "vspheresources", "source");
    if (!src) return 1;
    FILE *out = c->out;
    const cJSON *spec = jobj(src, "spec"), *sink = jobj(spec, "sink"), *ref = jobj(sink, "ref"),
                *st = jobj(src, "status"), *cp = jobj(spec, "checkpointConfig"), *f = jobj(spec, "filter");
    describe_head(&k, src);
    fprintf(out, "Sink:\n");
    if (ref)
        fprintf(out, SUBFIELD "%s %s (%s)\n", "Ref:", jstr(ref, "kind"), jstr(ref, "name"), jstr(ref, "apiVersion"));
    if (*jstr(sink, "uri")) fprintf(out, SUBFIELD "%s\n", "URI:", jstr(sink, "uri"));
    fprintf(out, SUBFIELD "%s\n", "Resolved:", *jstr(st, "sinkUri") ? jstr(st, "sinkUri") : "<not resolved>");
    fprintf(out, FIELD "%s\n", "Service Account:", *jstr(spec, "serviceAccountName") ? jstr(spec, "serviceAccountName") : "default");
    fprintf(out, FIELD "%s\n", "Encoding:", jstr(spec, "payloadEncoding"));
    fprintf(out, FIELD "replay up to %.0f s back, saved every %.0f s\n", "Checkpointing:",
            cJSON_IsNumber(jobj(cp, "maxAgeSeconds")) ? jobj(cp, "maxAgeSeconds")->valuedouble : 0,
            cJSON_IsNumber(jobj(cp, "periodSeconds")) ? jobj(cp, "periodSeconds")->valuedouble : 0);
    if (f) {
        const cJSON *fr = jobj(f, "configMapRef"), *cond, *fc = NULL;
        char msg[VSG_ERROR_MSG_MAX];
        cJSON_ArrayForEach(cond, jobj(st, "conditions"))
            if (strcmp(jstr(cond, "type"), "FilterReady") == 0) fc = cond;
        cJSON *cmo = get_obj(&k, "v1", "configmaps", jstr(fr, "name"), NULL, msg, sizeof msg);
        const char *key = *jstr(fr, "key") ? jstr(fr, "key") : "filter.lua";
        fprintf(out, FIELD "ConfigMap %s, key %s, on error %s\n", "Filter:", jstr(fr, "name"), key,
                *jstr(f, "onError") ? jstr(f, "onError") : "deliver");
        fprintf(out, SUBFIELD "%s\n", "ConfigMap:",
                !cmo ? msg : jobj(jobj(cmo, "data"), key) ? "found, with the key" : "found, but without the key");
        fprintf(out, SUBFIELD "%s%s%s\n", "Valid:",
                !fc ? "not judged yet" : strcmp(jstr(fc, "status"), "True") == 0 ? "yes" : "no",
                fc && *jstr(fc, "message") ? ": " : "", fc ? jstr(fc, "message") : "");
        cJSON_Delete(cmo);
    } else {
        fprintf(out, FIELD "none\n", "Filter:");
    }
    char *cm = NULL;
    describe_adapter(&k, src, &cm);
    describe_checkpoint(&k, cm);
    vsg_free(cm);
    describe_conditions(out, src);
    cJSON_Delete(src);
    vsg_kn_close(&k);
    return 0;
}

/* Nonzero when the object's pod template carries the binding's volume. */
static int is_bound(const cJSON *o)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, jobj(jobj(jobj(jobj(o, "spec"), "template"), "spec"), "volumes"))
        if (strcmp(jstr(v, "name"), "vsphere-binding") == 0) return 1;
    return 0;
}

int vsg_kn_binding_describe(struct vsg_cli_ctx *c)
{
    struct vsg_kn k;
    cJSON *b = describe_open(c, &k, "vspherebindings", "binding");
    if (!b) return 1;
    FILE *out = c->out;
    const cJSON *subj = jobj(jobj(b, "spec"), "subject"), *sel = jobj(subj, "selector");
    describe_head(&k, b);
    struct vsg_buf q;
    vsg_buf_init(&q, 16384);
    if (sel && vsg_selector_text(sel, &q) != VSG_OK) vsg_buf_reset(&q);
    fprintf(out, FIELD "%s %s ", "Subject:", jstr(subj, "kind"), jstr(subj, "apiVersion"));
    if (*jstr(subj, "name"))
        fprintf(out, "named %s\n", jstr(subj, "name"));
    else
        fprintf(out, "selected by \"%s\"\n", q.data ? q.data : "");

    /* The subjects now, and which of them carry the binding. */
    struct vsg_kube_discovery *d = vsg_kube_discovery_new();
    struct vsg_kube_resource res;
    struct vsg_error err;
    char msg[VSG_ERROR_MSG_MAX];
    cJSON *found = NULL;
    if (!d || vsg_kube_discovery_lookup(d, k.kc, jstr(subj, "apiVersion"), jstr(subj, "kind"), &res, &err) != VSG_OK) {
        fprintf(out, FIELD "the kind is not served: %s\n", "Bound:", d ? err.msg : "out of memory");
    } else if (*jstr(subj, "name")) {
        cJSON *o = get_obj(&k, jstr(subj, "apiVersion"), res.resource, jstr(subj, "name"), NULL, msg, sizeof msg);
        if (!o) fprintf(out, FIELD "%s\n", "Bound:", msg);
        else if ((found = cJSON_CreateArray())) cJSON_AddItemToArray(found, o);
        else cJSON_Delete(o);
    } else {
        struct vsg_buf qs;
        vsg_buf_init(&qs, 32768);
        cJSON *list = NULL;
        if (vsg_buf_puts(&qs, "?labelSelector=") != VSG_OK || vsg_http_escape(q.data ? q.data : "", &qs) != VSG_OK)
            fprintf(out, FIELD "out of memory\n", "Bound:");
        else if (!(list = get_obj(&k, jstr(subj, "apiVersion"), res.resource, NULL, qs.data, msg, sizeof msg)))
            fprintf(out, FIELD "%s\n", "Bound:", msg);
        else if ((found = cJSON_DetachItemFromObjectCaseSensitive(list, "items")) && !cJSON_IsArray(found)) {
            cJSON_Delete(found);
            found = NULL;
        }
        cJSON_Delete(list);
        vsg_buf_cleanup(&qs);
    }
    if (found) {
        const cJSON *o;
        int nb = 0, nn = 0;
        fprintf(out, FIELD, "Bound:");
        cJSON_ArrayForEach(o, found)
            if (is_bound(o)) fprintf(out, "%s%s/%s", nb++ ? ", " : "", jstr(subj, "kind"), jstr(jobj(o, "metadata"), "name"));
        fprintf(out, "%s\n", nb ? "" : "none");
        cJSON_ArrayForEach(o, found) {
            if (is_bound(o)) continue;
            if (!nn++) fprintf(out, FIELD, "Not bound:");
            else fputs(", ", out);
            fprintf(out, "%s/%s", jstr(subj, "kind"), jstr(jobj(o, "metadata"), "name"));
        }
        if (nn) fputs(" (matched, not carrying the binding yet)\n", out);
    }
    cJSON_Delete(found);
    vsg_kube_discovery_free(d);
    vsg_buf_cleanup(&q);
    describe_conditions(out, b);
    cJSON_Delete(b);
    vsg_kn_close(&k);
    return 0;
}
