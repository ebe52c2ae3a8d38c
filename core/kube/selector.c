/*
 * kube/selector.c - label selector syntax (see selector.h). The grammar and the
 * error texts follow k8s.io/apimachinery/pkg/labels (Parser): identifiers
 * are runs of anything but blanks and = ! ( ) , < >; deeper checks of
 * keys and values are left to the webhook, which validates the object.
 */
#include "kube/selector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static int special(char ch)
{
    return ch == '=' || ch == '!' || ch == '(' || ch == ')' || ch == ',' || ch == '<' || ch == '>';
}

static int blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }

/* The parser's position and its error. */
struct sp {
    const char *p;
    char *msg;
    size_t msgsz;
    int nomem;
};

static const char *ws(struct sp *s)
{
    while (blank(*s->p)) s->p++;
    return s->p;
}

/* The next token as text ("" at the end) for messages. */
static void token_text(struct sp *s, char *out, size_t n)
{
    const char *p = ws(s), *e = p;
    if (!*p) {
        out[0] = '\0';
        return;
    }
    if (special(*p)) {
        e = p + 1;
        if ((*p == '=' || *p == '!') && p[1] == '=') e++;
    } else {
        while (*e && !blank(*e) && !special(*e)) e++;
    }
    snprintf(out, n, "%.*s", (int)(e - p), p);
}

/* "found '<next token>', expected: <what>" (labels.Parse's wording). */
static int fail(struct sp *s, const char *what)
{
    char tok[64];
    token_text(s, tok, sizeof tok);
    snprintf(s->msg, s->msgsz, "found '%s', expected: %s", tok, what);
    return -1;
}

/* An identifier at the position, or NULL (not consumed). */
static char *ident(struct sp *s)
{
    const char *p = ws(s), *e = p;
    while (*e && !blank(*e) && !special(*e)) e++;
    if (e == p) return NULL;
    char *r = vsg_strndup(p, (size_t)(e - p));
    if (!r) s->nomem = 1;
    s->p = e;
    return r;
}

static int word_is(struct sp *s, const char *w)
{
    const char *p = ws(s);
    size_t n = strlen(w);
    return strncmp(p, w, n) == 0 && (!p[n] || blank(p[n]) || special(p[n]));
}

/* Adds `v` to the string array `vals` unless it is there (a set). */
static int add_value(struct sp *s, cJSON *vals, const char *v)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, vals)
        if (strcmp(it->valuestring, v) == 0) return 0;
    cJSON *str = cJSON_CreateString(v);
    if (!str || !cJSON_AddItemToArray(vals, str)) {
        cJSON_Delete(str);
        s->nomem = 1;
        return -1;
    }
    return 0;
}

/* "( a, b )" into `vals`, as parseIdentifiersList reads it. */
static int value_list(struct sp *s, cJSON *vals)
{
    if (*ws(s) != '(') return fail(s, "'('");
    s->p++;
    if (*ws(s) == ')') {
        s->p++;
        return 0;
    }
    for (;;) {
        char *v = ident(s);
        if (v) {
            int r = add_value(s, vals, v);
            vsg_free(v);
            if (r) return -1;
            if (*ws(s) == ',') {
                s->p++;
                if (*ws(s) == ')') { /* "a,)": an empty value too */
                    s->p++;
                    return add_value(s, vals, "");
                }
                continue;
            }
            if (*s->p == ')') {
                s->p++;
                return 0;
            }
            return fail(s, "',' or ')'");
        }
        if (s->nomem) return -1;
        if (*ws(s) == ',') { /* "(," or ",,": an empty value */
            s->p++;
            if (add_value(s, vals, "")) return -1;
            if (*ws(s) == ')') {
                s->p++;
                return 0;
            }
            continue;
        }
        return fail(s, "',', or identifier");
    }
}

static int cmp_values(const void *a, const void *b)
{
    return strcmp((*(cJSON *const *)a)->valuestring, (*(cJSON *const *)b)->valuestring);
}

/* Sorts the string array `vals` in place. */
static int sort_values(cJSON *vals)
{
    int n = cJSON_GetArraySize(vals);
    if (n < 2) return 0;
    cJSON **v = calloc((size_t)n, sizeof *v);
    if (!v) return -1;
    for (int i = 0; i < n; i++) v[i] = cJSON_DetachItemFromArray(vals, 0);
    qsort(v, (size_t)n, sizeof *v, cmp_values);
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(vals, v[i]);
    free(v);
    return 0;
}

/* One requirement into `labels` or `exprs`. */
static int requirement(struct sp *s, cJSON *labels, cJSON *exprs)
{
    int not = *ws(s) == '!';
    if (not) s->p++;
    char *key = ident(s);
    if (!key) return s->nomem ? -1 : fail(s, "identifier");
    int r = -1;
    const char *op = NULL;
    cJSON *vals = cJSON_CreateArray();
    if (!vals) {
        s->nomem = 1;
        goto out;
    }
    ws(s);
    if (not) {
        op = "DoesNotExist";
    } else if (!*s->p || *s->p == ',') {
        op = "Exists";
    } else if (s->p[0] == '=' || (s->p[0] == '!' && s->p[1] == '=')) {
        int ne = s->p[0] == '!';
        s->p += ne || s->p[1] == '=' ? 2 : 1;
        char *v = NULL;
        if (*ws(s) && *s->p != ',' && !(v = ident(s))) {
            if (!s->nomem) fail(s, "identifier");
            goto out;
        }
        if (!ne) {
            cJSON_DeleteItemFromObjectCaseSensitive(labels, key);
            r = cJSON_AddStringToObject(labels, key, v ? v : "") ? 0 : -1;
            if (r) s->nomem = 1;
            vsg_free(v);
            goto out;
        }
        op = "NotIn";
        r = add_value(s, vals, v ? v : "");
        vsg_free(v);
        if (r) goto out;
        r = -1;
    } else if (word_is(s, "in") || word_is(s, "notin")) {
        op = word_is(s, "in") ? "In" : "NotIn";
        s->p = ws(s) + (op[0] == 'I' ? 2 : 5);
        if (value_list(s, vals)) goto out;
        if (!cJSON_GetArraySize(vals)) {
            snprintf(s->msg, s->msgsz, "for 'in', 'notin' operators, values set can't be empty");
            goto out;
        }
    } else if (word_is(s, "gt") || word_is(s, "lt") || *s->p == '<' || *s->p == '>') {
        snprintf(s->msg, s->msgsz, "\"%s\" isn't supported in label selectors",
                 word_is(s, "gt") || *s->p == '>' ? "gt" : "lt");
        goto out;
    } else {
        fail(s, "in, notin, =, ==, !=, gt, lt");
        goto out;
    }
    if (sort_values(vals)) {
        s->nomem = 1;
        goto out;
    }
    cJSON *e = cJSON_CreateObject();
    if (!e || !cJSON_AddItemToArray(exprs, e)) {
        cJSON_Delete(e);
        s->nomem = 1;
        goto out;
    }
    if (!cJSON_AddStringToObject(e, "key", key) || !cJSON_AddStringToObject(e, "operator", op)) {
        s->nomem = 1;
        goto out;
    }
    if (cJSON_GetArraySize(vals)) {
        if (!cJSON_AddItemToObject(e, "values", vals)) {
            s->nomem = 1;
            goto out;
        }
        vals = NULL;
    }
    r = 0;
out:
    cJSON_Delete(vals);
    vsg_free(key);
    return r;
}

static const char *key_of(const cJSON *e)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key");
    return cJSON_IsString(k) ? k->valuestring : "";
}

cJSON *vsg_selector_parse(const char *text, char *msg, size_t msgsz)
{
    struct sp s = {text, msg, msgsz, 0};
    cJSON *sel = cJSON_CreateObject(), *labels = cJSON_CreateObject(), *exprs = cJSON_CreateArray();
    int ok = sel && labels && exprs;
    msg[0] = '\0';
    if (!ok) s.nomem = 1;
    while (ok && *ws(&s)) {
        if (requirement(&s, labels, exprs)) {
            ok = 0;
            break;
        }
        if (*ws(&s) == ',') {
            s.p++;
            if (!*ws(&s) || special(*s.p)) {
                if (*s.p == '!') continue;
                fail(&s, "identifier after ','");
                ok = 0;
            }
        } else if (*s.p) {
            fail(&s, "',' or 'end of string'");
            ok = 0;
        }
    }
    if (!ok) {
        if (s.nomem || !msg[0]) snprintf(msg, msgsz, "out of memory");
        else if (strncmp(msg, "\"", 1) != 0 && strncmp(msg, "for '", 5) != 0) {
            char tmp[256];
            snprintf(tmp, sizeof tmp, "unable to parse requirement: %s", msg);
            snprintf(msg, msgsz, "%s", tmp);
        }
        cJSON_Delete(sel);
        cJSON_Delete(labels);
        cJSON_Delete(exprs);
        return NULL;
    }
    /* labels.Parse sorts the requirements by key (a stable sort). */
    int n = cJSON_GetArraySize(exprs);
    if (n > 1) {
        cJSON **v = calloc((size_t)n, sizeof *v);
        if (!v) {
            ok = 0;
        } else {
            for (int i = 0; i < n; i++) v[i] = cJSON_DetachItemFromArray(exprs, 0);
            for (int i = 1; i < n; i++)
                for (int j = i; j > 0 && strcmp(key_of(v[j - 1]), key_of(v[j])) > 0; j--) {
                    cJSON *t = v[j];
                    v[j] = v[j - 1];
                    v[j - 1] = t;
                }
            for (int i = 0; i < n; i++) cJSON_AddItemToArray(exprs, v[i]);
            free(v);
        }
    }
    if (ok && cJSON_GetArraySize(labels)) {
        if (cJSON_AddItemToObject(sel, "matchLabels", labels)) labels = NULL;
        else ok = 0;
    }
    if (n) {
        if (ok && !cJSON_AddItemToObject(sel, "matchExpressions", exprs)) ok = 0;
        exprs = ok ? NULL : exprs;
    }
    cJSON_Delete(labels);
    cJSON_Delete(exprs);
    if (!ok) {
        snprintf(msg, msgsz, "out of memory");
        cJSON_Delete(sel);
        return NULL;
    }
    return sel;
}

enum vsg_err vsg_selector_text(const cJSON *sel, struct vsg_buf *b)
{
    const cJSON *l, *e, *v;
    int first = 1;
    enum vsg_err rc = VSG_OK;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(sel, "matchLabels")) {
        if (rc == VSG_OK)
            rc = vsg_buf_printf(b, "%s%s=%s", first ? "" : ",", l->string, cJSON_IsString(l) ? l->valuestring : "");
        first = 0;
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions")) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(e, "operator");
        const char *op = cJSON_IsString(o) ? o->valuestring : "", *key = key_of(e);
        if (rc == VSG_OK && !first) rc = vsg_buf_putc(b, ',');
        first = 0;
        if (strcmp(op, "Exists") == 0) {
            if (rc == VSG_OK) rc = vsg_buf_puts(b, key);
            continue;
        }
        if (strcmp(op, "DoesNotExist") == 0) {
            if (rc == VSG_OK) rc = vsg_buf_printf(b, "!%s", key);
            continue;
        }
        if (rc == VSG_OK) rc = vsg_buf_printf(b, "%s %s (", key, strcmp(op, "In") == 0 ? "in" : "notin");
        int f2 = 1;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(e, "values")) {
            if (rc == VSG_OK) rc = vsg_buf_printf(b, "%s%s", f2 ? "" : ",", cJSON_IsString(v) ? v->valuestring : "");
            f2 = 0;
        }
        if (rc == VSG_OK) rc = vsg_buf_putc(b, ')');
    }
    return rc;
}
