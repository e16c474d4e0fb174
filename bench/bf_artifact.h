/*
 * bf_artifact: files a run produces (student checkpoints) under
 * content-addressed names, so that nothing can overwrite them: two suites
 * sharing one cache directory, two DBs whose case ids coincide, a rerun,
 * each writes its own file, and equal bytes land on one name.
 *
 *   <dir>/<kind>-<model>-<first 16 hex digits of the SHA-256>.bfw
 *
 * The name carries the digest, so a reader can check any such file on its
 * own (bf_artifact_verify); the DB records the whole digest with the
 * producing case (bf_store_add_artifact).
 */
#ifndef BF_ARTIFACT_H
#define BF_ARTIFACT_H

#include "bf_hash.h"

#include <stddef.h>
#include <stdint.h>

/* Hex digits of the digest in a content-addressed name. */
#define BF_ARTIFACT_NAME_HEX 16

/*
 * Give the finished file tmp its content-addressed name under dir
 * (rename(2), atomic): kind "student", model "resnet_mini". out gets the
 * new path (size bytes), sha the file's whole digest, *bytes its size. A
 * file of that name already there has the same bytes (its name says so)
 * and is replaced by them. Returns 0, BF_ERANGE (path too long) or
 * BF_ENOENT / BF_EIO naming the file.
 */
int bf_artifact_commit(const char *tmp, const char *dir, const char *kind,
                       const char *model, char *out, size_t size,
                       char sha[BF_HASH_HEX_SIZE], int64_t *bytes);

/*
 * Check a file the harness is about to load: when its base name ends in
 * "-<16 hex digits>.bfw" (a content-addressed artifact), its SHA-256 must
 * begin with those digits, else BF_EPARSE naming the file ("changed since
 * it was written"). Files with other names pass unchecked, cached
 * teachers too ("teacher-<model>-<16 hex>.bfw": the digits are their
 * recipe's key). BF_ENOENT / BF_EIO when it cannot be read.
 */
int bf_artifact_verify(const char *path);

#endif /* BF_ARTIFACT_H */
