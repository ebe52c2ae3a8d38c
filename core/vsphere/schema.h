/*
 * schema.h - the vim25 data-object schema: every type an event can carry.
 *
 * Provides: the generated table vsg_schema_vim25 (core/vsphere/schema.c,
 * made by tools/schema/gen_schema.py from vim25/types/types.go of the
 * govmomi version the Go adapter vendored) and lookups over it: a type by
 * name (binary search), its parent, subtype tests, a field by xml name
 * walking the parent chain, and the flattened field list in Go struct
 * order (embedded parent first), which is the JSON and XML field order.
 * Uses: nothing else of ours.
 * Owns: nothing. Everything returned points into static const tables.
 *
 * One entry per Go struct type (3394 of them), with its own fields only.
 * Field kinds follow the Go field types: string, enumeration (a string),
 * bool, byte, int16/32/64, float32/64, time.Time, []byte,
 * ManagedObjectReference, a nested struct T, a polymorphic BaseT
 * interface (T or any subclass, chosen by xsi:type) and AnyType. Flags say
 * whether the Go field is a slice, a pointer, and whether its xml tag has
 * omitempty. A field's Go name (the JSON key) is its xml name with the
 * first letter upper-cased; the generator verifies that this holds for
 * every field, so Go names are not stored.
 */
#ifndef VSG_VSPHERE_SCHEMA_H
#define VSG_VSPHERE_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

/* No type: the parent of a root type, the type of a scalar field. */
#define VSG_SCHEMA_NONE 0xFFFFu

/* The Go type of a field (of each element, for slices). */
enum vsg_schema_kind {
    VSG_SCHEMA_STRING,  /* string */
    VSG_SCHEMA_ENUM,    /* a `type X string` enumeration */
    VSG_SCHEMA_BOOL,    /* bool */
    VSG_SCHEMA_UINT8,   /* byte */
    VSG_SCHEMA_INT16,   /* int16 */
    VSG_SCHEMA_INT32,   /* int32 */
    VSG_SCHEMA_INT64,   /* int64 */
    VSG_SCHEMA_FLOAT32, /* float32 */
    VSG_SCHEMA_FLOAT64, /* float64 */
    VSG_SCHEMA_TIME,    /* time.Time (xsd:dateTime) */
    VSG_SCHEMA_BINARY,  /* []byte (raw element text, base64 in JSON) */
    VSG_SCHEMA_MOREF,   /* ManagedObjectReference */
    VSG_SCHEMA_OBJECT,  /* struct `type` (exactly that type) */
    VSG_SCHEMA_IFACE,   /* Base<type>: `type` or a subclass, by xsi:type */
    VSG_SCHEMA_ANY      /* AnyType: anything, by xsi:type */
};

#define VSG_SCHEMA_F_ARRAY 0x01u     /* Go slice []T: repeated elements. */
#define VSG_SCHEMA_F_PTR 0x02u       /* Go pointer *T: nil when absent. */
#define VSG_SCHEMA_F_OMITEMPTY 0x04u /* xml tag has ",omitempty". */

struct vsg_schema_field {
    uint32_t name;  /* Pool offset of the xml element name. */
    uint16_t type;  /* Type index for OBJECT/IFACE, else VSG_SCHEMA_NONE. */
    uint8_t kind;   /* An enum vsg_schema_kind. */
    uint8_t flags;  /* VSG_SCHEMA_F_* bits. */
};

struct vsg_schema_type {
    uint32_t name;        /* Pool offset of the type name. */
    uint16_t parent;      /* Index of the embedded parent, or NONE. */
    uint16_t first_field; /* Index of the first own field in `fields`. */
    uint16_t nfields;     /* Number of own fields (parent's excluded). */
};

struct vsg_schema {
    const char *version;                   /* govmomi module version. */
    const char *pool;                      /* NUL-separated names. */
    size_t pool_size;                      /* Bytes in `pool`. */
    const struct vsg_schema_type *types;   /* Sorted by name. */
    size_t ntypes;                         /* Entries in `types`. */
    const struct vsg_schema_field *fields; /* Own fields, type by type. */
    size_t nfields;                        /* Entries in `fields`. */
};

/* The generated table. */
extern const struct vsg_schema vsg_schema_vim25;

/* Bounds the generator enforces: a parent chain is shorter than
 * VSG_SCHEMA_MAX_DEPTH, a type has at most VSG_SCHEMA_MAX_FIELDS fields
 * including its ancestors' (today: 7 and 121, HostCapability). */
#define VSG_SCHEMA_MAX_DEPTH 16
#define VSG_SCHEMA_MAX_FIELDS 512

/* ====================================================================
 * Types
 * ==================================================================== */

/* The type called `name` (exact, case-sensitive), or NULL. */
const struct vsg_schema_type *vsg_schema_find_type(const char *name);

/* The type's name, e.g. "VmPoweredOnEvent". */
const char *vsg_schema_type_name(const struct vsg_schema_type *t);

/* The embedded parent type, or NULL for a root type. */
const struct vsg_schema_type *vsg_schema_type_parent(
    const struct vsg_schema_type *t);

/* The type at table index `idx` (a field's `type`), or NULL for NONE. */
const struct vsg_schema_type *vsg_schema_type_at(unsigned idx);

/* Nonzero when `t` is `base` or one of its subclasses. */
int vsg_schema_type_is_a(const struct vsg_schema_type *t,
                         const struct vsg_schema_type *base);

/* ====================================================================
 * Fields
 * ==================================================================== */

/* The field's xml element name, e.g. "chainId". */
const char *vsg_schema_field_name(const struct vsg_schema_field *f);

/*
 * The field of `t` (or of one of its ancestors) whose xml name is `name`,
 * or NULL. Subclass fields are searched first, as Go resolves them.
 */
const struct vsg_schema_field *vsg_schema_find_field(
    const struct vsg_schema_type *t, const char *name);

/* The field at flattened index `index` of `t` (the numbering of
 * vsg_schema_flatten and vsg_schema_find_field_at: inherited fields
 * first), or NULL past the last. */
const struct vsg_schema_field *vsg_schema_field_at_index(
    const struct vsg_schema_type *t, size_t index);

/* vsg_schema_find_field(), also storing in *index the field's position in
 * vsg_schema_flatten(t). */
const struct vsg_schema_field *vsg_schema_find_field_at(
    const struct vsg_schema_type *t, const char *name, size_t *index);

/*
 * Stores the fields of `t`, its ancestors' first (root type first), in Go
 * struct order into out[0..max) and returns how many there are in total
 * (may be more than `max`; then only `max` were stored).
 */
size_t vsg_schema_flatten(const struct vsg_schema_type *t,
                          const struct vsg_schema_field **out, size_t max);

#endif
