/*
 * checkpoint/file_store.c - see file_store.h.
 */
#include "checkpoint/file_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"

#define LOGGER "vsgate.checkpoint"

struct file_store {
    struct vsg_checkpoint_store base; /* Must be first: the public head. */
    char *path;                       /* The checkpoint file. */
    char *dir;                        /* Its folder ("." when the path has none). */
};

static enum vsg_err file_load(struct vsg_checkpoint_store *s, struct vsg_checkpoint *cp,
                              int *found, struct vsg_error *err)
{
    struct file_store *fs = (struct file_store *)s;
    struct vsg_buf b;
    char chunk[4096];
    enum vsg_err rc = VSG_OK;
    int too_big = 0;
    int fd = open(fs->path, O_RDONLY | O_CLOEXEC);

    *found = 0;
    vsg_buf_init(&b, VSG_CHECKPOINT_MAX_JSON);
    if (fd < 0) {
        if (errno == ENOENT) {
            VSG_LOGF_INFO(LOGGER, ((const char *[]){"file", fs->path, NULL}),
                          "no checkpoint file yet");
            return VSG_OK;
        }
        return vsg_error_set(err, VSG_ERR_IO, "checkpoint file %s: %s", fs->path, strerror(errno));
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR) continue;
            rc = vsg_error_set(err, VSG_ERR_IO, "checkpoint file %s: %s", fs->path,
                               strerror(errno));
            goto done;
        }
        if (n == 0) break;
        rc = vsg_buf_append(&b, chunk, (size_t)n);
        if (rc == VSG_ERR_TOOBIG) {
            too_big = 1;
            break;
        }
        if (rc != VSG_OK) {
            vsg_error_set(err, rc, "checkpoint file %s: out of memory", fs->path);
            goto done;
        }
    }
    if (too_big) {
        /* Not a checkpoint we wrote: unusable, like bad JSON. */
        VSG_LOGF_WARN(LOGGER,
                      ((const char *[]){"error", "checkpoint file too large", "store", fs->path,
                                        NULL}),
                      "could not retrieve checkpoint configuration");
        rc = VSG_OK;
    } else {
        rc = vsg__checkpoint_load_text(b.data ? b.data : "", b.len, fs->path, cp, found, err);
    }
done:
    close(fd);
    vsg_buf_cleanup(&b);
    return rc;
}

static enum vsg_err file_save(struct vsg_checkpoint_store *s, const struct vsg_checkpoint *cp,
                              struct vsg_error *err)
{
    struct file_store *fs = (struct file_store *)s;
    struct vsg_buf json, tmp;
    enum vsg_err rc;
    int fd = -1, dfd = -1, have_tmp = 0;

    vsg_buf_init(&json, VSG_CHECKPOINT_MAX_JSON);
    vsg_buf_init(&tmp, 64 * 1024);
    if ((rc = vsg_checkpoint_encode(cp, &json)) != VSG_OK) {
        vsg_error_set(err, rc, "checkpoint: cannot encode: %s", vsg_strerror(rc));
        goto done;
    }
    if ((rc = vsg_buf_printf(&tmp, "%s.tmp-XXXXXX", fs->path)) != VSG_OK) {
        vsg_error_set(err, rc, "checkpoint file %s: path too long", fs->path);
        goto done;
    }
    if ((fd = mkstemp(tmp.data)) < 0) {
        rc = vsg_error_set(err, VSG_ERR_IO, "checkpoint file %s: cannot create a temporary file: %s",
                           fs->path, strerror(errno));
        goto done;
    }
    have_tmp = 1;
    if (vsg_write_all(fd, json.data, json.len) != 0 || fsync(fd) != 0) {
        rc = vsg_error_set(err, VSG_ERR_IO, "checkpoint file %s: writing %s: %s", fs->path,
                           tmp.data, strerror(errno));
        goto done;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = vsg_error_set(err, VSG_ERR_IO, "checkpoint file %s: closing %s: %s", fs->path,
                           tmp.data, strerror(errno));
        goto done;
    }
    fd = -1;
    if (rename(tmp.data, fs->path) != 0) {
        rc = vsg_error_set(err, VSG_ERR_IO, "checkpoint file %s: rename: %s", fs->path,
                           strerror(errno));
        goto done;
    }
    have_tmp = 0;
    /* Make the rename itself durable. */
    if ((dfd = open(fs->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(dfd) != 0) {
        rc = vsg_error_set(err, VSG_ERR_IO, "checkpoint file %s: syncing folder %s: %s", fs->path,
                           fs->dir, strerror(errno));
        goto done;
    }
    rc = VSG_OK;
done:
    if (fd >= 0) close(fd);
    if (dfd >= 0) close(dfd);
    if (have_tmp) unlink(tmp.data);
    vsg_buf_cleanup(&json);
    vsg_buf_cleanup(&tmp);
    return rc;
}

static void file_free(struct vsg_checkpoint_store *s)
{
    struct file_store *fs = (struct file_store *)s;
    vsg_free(fs->path);
    vsg_free(fs->dir);
    vsg_free(fs);
}

static const struct vsg_checkpoint_store_ops file_ops = {
    .kind = "file",
    .load = file_load,
    .save = file_save,
    .free = file_free,
};

struct vsg_checkpoint_store *vsg_checkpoint_file_store_new(const char *path,
                                                           struct vsg_error *err)
{
    struct file_store *fs = NULL;
    struct stat st;
    if (!path || !*path) {
        vsg_error_set(err, VSG_ERR_INVAL, "checkpoint file: no path given");
        return NULL;
    }
    if (!(fs = vsg_calloc(1, sizeof *fs))) goto nomem;
    fs->base.ops = &file_ops;
    if (!(fs->path = vsg_strdup(path))) goto nomem;
    const char *slash = strrchr(path, '/');
    fs->dir = slash ? vsg_strndup(path, slash == path ? 1 : (size_t)(slash - path))
                    : vsg_strdup(".");
    if (!fs->dir) goto nomem;
    if (stat(fs->dir, &st) != 0) {
        vsg_error_set(err, VSG_ERR_IO, "checkpoint file %s: folder %s: %s", path, fs->dir,
                      strerror(errno));
        goto fail;
    }
    if (!S_ISDIR(st.st_mode)) {
        vsg_error_set(err, VSG_ERR_IO, "checkpoint file %s: %s is not a folder", path, fs->dir);
        goto fail;
    }
    return &fs->base;
nomem:
    vsg_error_set(err, VSG_ERR_NOMEM, "checkpoint file: out of memory");
fail:
    if (fs) file_free(&fs->base);
    return NULL;
}
