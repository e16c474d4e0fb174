/*
 * bf_err: the one error convention of bottlefit-bench.
 *
 * Every fallible function returns an int: 0 on success or a negative BF_E*
 * code from the X-macro list below. The failure site writes a one-line
 * detail ("scenarios/x.yaml:12:5: unknown key 'bandwith_mbps'") into a
 * thread-local buffer with bf_err_set(); callers read it back with
 * bf_last_error() and may prefix context with bf_err_prefix(). The shim
 * (shim/bf_torch.h) uses the same codes and the same buffer, so a message
 * raised inside libtorch reaches the CLI unchanged.
 *
 * This header is plain C11 and is included from C++ as well.
 */
#ifndef BF_ERR_H
#define BF_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, text): the only list of error codes. */
#define BF_ERRNO_MAP(X)                                                        \
    X(EINVAL, -1, "invalid argument")                                          \
    X(ENOMEM, -2, "out of memory")                                             \
    X(EIO, -3, "input/output error")                                           \
    X(ENOENT, -4, "no such file or name")                                      \
    X(EPARSE, -5, "malformed input")                                           \
    X(ERANGE, -6, "value out of range")                                        \
    X(ESHAPE, -7, "tensor shape mismatch")                                     \
    X(ETORCH, -8, "libtorch error")                                            \
    X(EDB, -9, "database error")                                               \
    X(EVERSION, -10, "unsupported version")                                    \
    X(EUNSUPPORTED, -11, "not supported")                                      \
    X(EINTR, -12, "interrupted")                                               \
    X(EINTERNAL, -13, "internal error")                                        \
    X(EPROTO, -14, "protocol error")                                           \
    X(ETIMEOUT, -15, "timed out")

enum bf_err_code {
    BF_OK = 0,
#define BF_ERR_ENUM(name, value, text) BF_##name = (value),
    BF_ERRNO_MAP(BF_ERR_ENUM)
#undef BF_ERR_ENUM
};

/* Size of the thread-local detail buffer, terminating NUL included. */
#define BF_ERR_DETAIL_MAX 1024

/* The fixed text of a code ("unknown error" for a value not in the list). */
const char *bf_strerror(int code);

/* The short name of a code ("EPARSE"), or "E?" for an unknown value. */
const char *bf_err_name(int code);

/*
 * Record the detail of a failure and return code, so that a failure site
 * reads `return bf_err_set(BF_EPARSE, "%s:%d: ...", ...);`. The message is
 * truncated to BF_ERR_DETAIL_MAX - 1 bytes.
 */
int bf_err_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Prefix the current detail with context ("loading weights: " + detail) and
 * return code unchanged. Used by a caller that adds where the failure was.
 */
int bf_err_prefix(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Forget the current detail. */
void bf_err_clear(void);

/*
 * The detail of the last failure on this thread, or "" if none was recorded
 * since bf_err_clear(). Borrowed until the next bf_err_* call on this thread.
 */
const char *bf_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* BF_ERR_H */
