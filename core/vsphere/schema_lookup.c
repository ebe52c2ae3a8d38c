/*
 * schema_lookup.c - lookups over the generated vim25 schema table.
 *
 * The table itself is schema.c (generated); this file is hand-written.
 */
#include "vsphere/schema.h"

#include <string.h>

#define S (&vsg_schema_vim25)

const struct vsg_schema_type *vsg_schema_find_type(const char *name)
{
    size_t lo = 0, hi = S->ntypes;

    if (name == NULL) return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, S->pool + S->types[mid].name);
        if (c == 0) return &S->types[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *vsg_schema_type_name(const struct vsg_schema_type *t)
{
    return S->pool + t->name;
}

const struct vsg_schema_type *vsg_schema_type_at(unsigned idx)
{
    if (idx >= S->ntypes) return NULL;
    return &S->types[idx];
}

const struct vsg_schema_type *vsg_schema_type_parent(
    const struct vsg_schema_type *t)
{
    return vsg_schema_type_at(t->parent);
}

int vsg_schema_type_is_a(const struct vsg_schema_type *t,
                         const struct vsg_schema_type *base)
{
    for (; t != NULL; t = vsg_schema_type_parent(t))
        if (t == base) return 1;
    return 0;
}

const char *vsg_schema_field_name(const struct vsg_schema_field *f)
{
    return S->pool + f->name;
}

const struct vsg_schema_field *vsg_schema_find_field(
    const struct vsg_schema_type *t, const char *name)
{
    size_t index;

    return vsg_schema_find_field_at(t, name, &index);
}

const struct vsg_schema_field *vsg_schema_find_field_at(
    const struct vsg_schema_type *t, const char *name, size_t *index)
{
    for (const struct vsg_schema_type *c = t; c != NULL;
         c = vsg_schema_type_parent(c)) {
        const struct vsg_schema_field *f = &S->fields[c->first_field];
        for (unsigned i = 0; i < c->nfields; i++) {
            if (strcmp(S->pool + f[i].name, name) != 0) continue;
            size_t before = 0;
            for (const struct vsg_schema_type *p = vsg_schema_type_parent(c);
                 p != NULL; p = vsg_schema_type_parent(p))
                before += p->nfields;
            *index = before + i;
            return &f[i];
        }
    }
    return NULL;
}

const struct vsg_schema_field *vsg_schema_field_at_index(
    const struct vsg_schema_type *t, size_t index)
{
    size_t total = 0;

    for (const struct vsg_schema_type *c = t; c != NULL; c = vsg_schema_type_parent(c))
        total += c->nfields;
    if (index >= total) return NULL;
    for (const struct vsg_schema_type *c = t; c != NULL; c = vsg_schema_type_parent(c)) {
        total -= c->nfields;
        if (index >= total) return &S->fields[c->first_field + (index - total)];
    }
    return NULL;
}

size_t vsg_schema_flatten(const struct vsg_schema_type *t,
                          const struct vsg_schema_field **out, size_t max)
{
    const struct vsg_schema_type *chain[VSG_SCHEMA_MAX_DEPTH];
    size_t depth = 0, n = 0;

    for (; t != NULL && depth < VSG_SCHEMA_MAX_DEPTH;
         t = vsg_schema_type_parent(t))
        chain[depth++] = t;
    while (depth > 0) {
        const struct vsg_schema_type *c = chain[--depth];
        for (unsigned i = 0; i < c->nfields; i++, n++)
            if (n < max) out[n] = &S->fields[c->first_field + i];
    }
    return n;
}
