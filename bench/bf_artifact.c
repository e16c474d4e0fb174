/*
 * bf_artifact: content-addressed names for the files a run produces.
 */
#define _POSIX_C_SOURCE 200809L
#include "bf_artifact.h"

#include "bf_err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int bf_artifact_commit(const char *tmp, const char *dir, const char *kind,
                       const char *model, char *out, size_t size,
                       char sha[BF_HASH_HEX_SIZE], int64_t *bytes)
{
    struct stat st;
    int rc, n;

    if (!tmp || !dir || !kind || !model || !out || !size || !sha || !bytes)
        return bf_err_set(BF_EINVAL, "bf_artifact_commit: NULL argument");
    if ((rc = bf_hash_file(tmp, sha)))
        return rc;
    if (stat(tmp, &st) != 0)
        return bf_err_set(BF_EIO, "%s: %s", tmp, strerror(errno));
    n = snprintf(out, size, "%s/%s-%s-%.*s.bfw", dir, kind, model,
                 BF_ARTIFACT_NAME_HEX, sha);
    if (n < 0 || (size_t)n >= size)
        return bf_err_set(BF_ERANGE, "%s: artifact path too long", dir);
    if (rename(tmp, out) != 0)
        return bf_err_set(BF_EIO, "cannot rename '%s' to '%s': %s", tmp, out,
                          strerror(errno));
    *bytes = (int64_t)st.st_size;
    return 0;
}

/* The digest prefix a base name carries ("...-<16 hex>.bfw"), or NULL.
 * Cached teachers ("teacher-<model>-<16 hex>.bfw") are named after their
 * recipe, not their bytes, so that a resume finds them: not digests. */
static const char *name_digest(const char *path)
{
    const char *base = strrchr(path, '/');
    size_t len;
    const char *hex;

    base = base ? base + 1 : path;
    if (strncmp(base, "teacher-", 8) == 0)
        return NULL;
    len = strlen(base);
    if (len < BF_ARTIFACT_NAME_HEX + 5 || strcmp(base + len - 4, ".bfw") != 0 ||
        base[len - 4 - BF_ARTIFACT_NAME_HEX - 1] != '-')
        return NULL;
    hex = base + len - 4 - BF_ARTIFACT_NAME_HEX;
    for (int i = 0; i < BF_ARTIFACT_NAME_HEX; i++)
        if (!((hex[i] >= '0' && hex[i] <= '9') ||
              (hex[i] >= 'a' && hex[i] <= 'f')))
            return NULL;
    return hex;
}

int bf_artifact_verify(const char *path)
{
    char sha[BF_HASH_HEX_SIZE];
    const char *want;
    int rc;

    if (!path)
        return bf_err_set(BF_EINVAL, "bf_artifact_verify: NULL path");
    want = name_digest(path);
    if (!want)
        return 0;
    if ((rc = bf_hash_file(path, sha)))
        return rc;
    if (strncmp(sha, want, BF_ARTIFACT_NAME_HEX) != 0)
        return bf_err_set(BF_EPARSE,
                          "%s: its SHA-256 is %.16s..., not the %.16s its "
                          "name records: the file changed since it was "
                          "written",
                          path, sha, want);
    return 0;
}
