/*
 * bf_dataset: the data sets a training or evaluation case reads, as batches
 * of normalised float32 NCHW images with int64 labels.
 *
 * Two kinds of source:
 *
 * - IDX files (the MNIST format), gzipped or plain: an image file (magic
 *   0x00000803, unsigned bytes, 3 dimensions n x rows x cols) and a label
 *   file (magic 0x00000801, unsigned bytes, 1 dimension n). Both are decoded
 *   once at open and kept in memory as uint8 (Fashion-MNIST's training set
 *   is 60000 x 784 bytes = 47 MB). The embedded default is Fashion-MNIST
 *   under BF_DATASET_FMNIST_DIR. Batches use one channel and mean/std from
 *   the parameters (default Fashion-MNIST's 0.2860 / 0.3530). No training
 *   augmentation is applied to IDX data.
 *
 * - ImageFolder trees as torchvision reads them: root/<class>/.../<image>
 *   with .jpg, .jpeg or .png files (extension case-insensitive; the content
 *   decides the decoder: JPEG through libturbojpeg, PNG through libpng).
 *   Classes are the sub-directories of root sorted by name (byte order, as
 *   Python's sorted()); class k is the k-th name. Within a class, files are
 *   found recursively and ordered as torchvision does (by directory path,
 *   then by file name). Unlike torchvision, entries whose name starts with
 *   '.' are skipped. Files with other extensions are skipped (a warning
 *   gives their count). Images are decoded only when a batch asks for them.
 *   Transforms (torchvision 0.14 semantics, Pillow's bilinear filter with
 *   antialiasing when downscaling): train = RandomResizedCrop(crop, scale
 *   (0.08, 1), ratio (3/4, 4/3), ten attempts then the centre-crop
 *   fallback) + horizontal flip with p = 0.5; eval = Resize(resize, shorter
 *   side) + CenterCrop(crop). Defaults crop 224, resize 256, ImageNet's
 *   mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225). Grey images
 *   are replicated to RGB; a PNG's alpha channel is dropped (as Pillow's
 *   convert("RGB")); Adobe CMYK/YCCK JPEGs are converted as Pillow does.
 *
 * Determinism: the random train transform of item i in epoch e is a
 * function of (seed, e, i) only, whatever the batch composition, the
 * number of decoding threads or the prefetch order. bf_dataset_set_epoch()
 * selects e (0 after open).
 *
 * Prefetching: folder data sets decode in worker threads (pthreads, started
 * at the first batch). bf_dataset_prefetch(ds, idx, n) starts decoding a
 * batch and returns at once; the next bf_dataset_batch() with the same
 * indices (and epoch) waits for it and copies it out, so decoding batch b+1
 * overlaps training on batch b (double buffering: the internal buffer and
 * the caller's). A batch call with other indices waits for and drops the
 * pending prefetch, then decodes its own. For IDX data sets prefetching is
 * accepted and does nothing: batches are filled from memory at once.
 *
 * Validation split: bf_dataset_split() carves a seeded validation subset
 * out of the training set. The test split (Fashion-MNIST's t10k, an
 * ImageNet val folder) must never be used to choose a checkpoint or a
 * hyper-parameter: select on the validation indices, report on the test
 * set once. That is the caller's discipline; this module only gives the
 * means.
 *
 * Errors name the file (and the byte offset or item index when useful):
 * bad IDX magic or dimensions, truncated files, trailing data, image/label
 * count mismatch, labels out of range, missing files, empty class folders,
 * no classes, undecodable images.
 *
 * Ownership and threads: a handle is used by one caller thread at a time;
 * its worker threads are internal and joined by bf_dataset_close(). Every
 * output buffer is the caller's. bf_dataset_close(NULL) is a no-op.
 */
#ifndef BF_DATASET_H
#define BF_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "bf_hash.h"

#define BF_DATASET_FMNIST_DIR "/usr/share/datasets/fashion-mnist"
#define BF_DATASET_FMNIST_MEAN 0.2860f
#define BF_DATASET_FMNIST_STD 0.3530f
#define BF_DATASET_IMAGENET_CROP 224
#define BF_DATASET_IMAGENET_RESIZE 256

/* Size of bf_dataset_info.source, terminating NUL included. */
#define BF_DATASET_SOURCE_MAX 512

/* Largest decoded image accepted, in pixels (guards against bad headers). */
#define BF_DATASET_MAX_PIXELS (1L << 27)

struct bf_dataset; /* opaque */

/* What a data set holds; filled by bf_dataset_info(). */
struct bf_dataset_info {
    size_t n;        /* number of items */
    int channels;    /* of a batch image: 1 (IDX) or 3 (folder) */
    int height;      /* of a batch image, after transforms */
    int width;       /* of a batch image, after transforms */
    int num_classes; /* labels are in [0, num_classes) */
    int train;       /* folder: 1 = random train transforms; IDX: 0 */
    float mean[3];   /* per channel, of pixels scaled to [0, 1] */
    float std[3];    /* per channel */
    char source[BF_DATASET_SOURCE_MAX]; /* "idx:IMAGES,LABELS", "folder:ROOT"
                                         * (truncated if longer) */
};

/* Parameters of bf_dataset_open_idx(); fill with designated initialisers. */
struct bf_dataset_idx_params {
    const char *images_path; /* IDX3 u8 image file, gzipped or plain */
    const char *labels_path; /* IDX1 u8 label file, gzipped or plain */
    int num_classes;         /* 1..256, labels must be below it;
                                0 = largest label + 1 */
    float mean;              /* mean = std = 0: Fashion-MNIST's values */
    float std;               /* > 0 unless both are 0 */
};

/* Parameters of bf_dataset_open_folder(); zero fields take the defaults. */
struct bf_dataset_folder_params {
    const char *root; /* root/<class>/<image> */
    int train;        /* 1: RandomResizedCrop + flip; 0: Resize + CenterCrop */
    uint64_t seed;    /* drives the train transforms */
    int crop;         /* output side; 0 = 224 */
    int resize;       /* eval: shorter side before the crop; 0 = 256,
                         must be >= crop */
    int threads;      /* decoding threads, 0 = 1 */
    float mean[3];    /* all of mean and std 0: ImageNet's values */
    float std[3];
};

/* Opening and closing */

/*
 * Open IDX files. Returns 0 and *out (caller owns, free with
 * bf_dataset_close), or BF_EINVAL (bad parameters), BF_ENOENT (missing
 * file), BF_EIO, BF_EPARSE (bad magic, dimensions, truncated file, trailing
 * data, count mismatch), BF_ERANGE (label >= num_classes, too large
 * dimensions) or BF_ENOMEM, with the detail naming the file.
 */
int bf_dataset_open_idx(const struct bf_dataset_idx_params *params,
                        struct bf_dataset **out);

/*
 * Open Fashion-MNIST in dir (NULL = BF_DATASET_FMNIST_DIR): the training
 * set (train-*-ubyte[.gz], 60000 items) when train is non-zero, else the
 * test set (t10k-*-ubyte[.gz], 10000 items); 10 classes, default
 * normalisation. Errors as bf_dataset_open_idx().
 */
int bf_dataset_open_fmnist(const char *dir, int train, struct bf_dataset **out);

/*
 * Open an ImageFolder tree (scans it; decodes nothing). Returns 0 and *out
 * (caller owns, free with bf_dataset_close), or BF_EINVAL, BF_ENOENT (root
 * missing), BF_EIO, BF_EPARSE (no class folders, a class without images)
 * or BF_ENOMEM.
 */
int bf_dataset_open_folder(const struct bf_dataset_folder_params *params,
                           struct bf_dataset **out);

/* Stop the worker threads and free everything; accepts NULL. */
void bf_dataset_close(struct bf_dataset *ds);

/* Inspection */

/* Fill *out. Returns 0 or BF_EINVAL (NULL argument). */
int bf_dataset_info(const struct bf_dataset *ds, struct bf_dataset_info *out);

/*
 * The name of class cls: the folder name, or Fashion-MNIST's class names
 * ("T-shirt/top", ..., "Ankle boot"); NULL for other IDX data or a class
 * out of range. Borrowed until bf_dataset_close().
 */
const char *bf_dataset_class_name(const struct bf_dataset *ds, int cls);

/*
 * A provenance digest of the data set (lowercase hex SHA-256). IDX: the
 * digest of the text "SHA256(images)  images_path\nSHA256(labels)
 * labels_path\n" (sha256sum's format, each file hashed with bf_hash_file).
 * Folder: the digest of the listing ("label<TAB>relative path<TAB>size in
 * bytes\n" per item), which fingerprints the tree without reading every
 * image. Returns 0 or BF_ENOENT / BF_EIO.
 */
int bf_dataset_hash(const struct bf_dataset *ds, char hex[BF_HASH_HEX_SIZE]);

/* Batches */

/* Select the epoch of the random train transforms (folder, train only). */
void bf_dataset_set_epoch(struct bf_dataset *ds, uint32_t epoch);

/*
 * Fill images (n * channels * height * width floats, NCHW, normalised:
 * (pixel / 255 - mean[c]) / std[c]) and labels (n values) with the items
 * idx[0..n). Picks up a matching bf_dataset_prefetch(). Returns 0, or
 * BF_EINVAL, BF_ERANGE (an index >= n), BF_ENOENT / BF_EIO / BF_EPARSE (a
 * file that cannot be read or decoded, named in the detail) or BF_ENOMEM.
 * On failure the outputs are unspecified.
 */
int bf_dataset_batch(struct bf_dataset *ds, const uint32_t *idx, size_t n,
                     float *images, int64_t *labels);

/*
 * Start decoding the batch idx[0..n) in the background (folders; a no-op
 * for IDX). idx is copied. A pending prefetch not yet consumed is waited
 * for and dropped. Returns 0, BF_EINVAL, BF_ERANGE (an index >= n, checked
 * here) or BF_ENOMEM; decoding errors are returned by the bf_dataset_batch()
 * that consumes the prefetch.
 */
int bf_dataset_prefetch(struct bf_dataset *ds, const uint32_t *idx, size_t n);

/*
 * The pixels of item index after the geometric transforms and before
 * normalisation, as uint8 height x width x channels (interleaved, the
 * layout a JPEG encoder takes), the same pixels bf_dataset_batch()
 * normalises in the current epoch. pixels_bytes must be at least
 * channels * height * width. label may be NULL. Returns 0 or as
 * bf_dataset_batch().
 */
int bf_dataset_raw_u8(struct bf_dataset *ds, uint32_t index, uint8_t *pixels,
                      size_t pixels_bytes, int64_t *label);

/* Index sets */

/*
 * Split [0, n) into a training and a validation subset: n_val =
 * round(n * val_fraction) items chosen by a seeded shuffle, the rest for
 * training. The two sets are disjoint, cover [0, n), are each sorted
 * ascending, and depend only on (n, val_fraction, seed). val_fraction is
 * in [0, 1); n <= UINT32_MAX. *train_idx and *val_idx: caller owns, free
 * with free() (non-NULL even when empty). Returns 0, BF_EINVAL, BF_ERANGE
 * or BF_ENOMEM (outputs untouched on failure).
 */
int bf_dataset_split(size_t n, double val_fraction, uint64_t seed,
                     uint32_t **train_idx, size_t *n_train, uint32_t **val_idx,
                     size_t *n_val);

/*
 * Shuffle idx[0..n) in place (Fisher-Yates), as a function of (seed, epoch)
 * only: the per-epoch training order.
 */
void bf_dataset_shuffle(uint32_t *idx, size_t n, uint64_t seed, uint64_t epoch);

#endif /* BF_DATASET_H */
