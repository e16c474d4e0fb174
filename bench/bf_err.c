/* bf_err: error codes and the thread-local detail buffer. */
#include "bf_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char detail[BF_ERR_DETAIL_MAX];

const char *bf_strerror(int code)
{
    switch (code) {
    case BF_OK:
        return "success";
#define BF_ERR_TEXT(name, value, text)                                         \
    case BF_##name:                                                            \
        return text;
        BF_ERRNO_MAP(BF_ERR_TEXT)
#undef BF_ERR_TEXT
    }
    return "unknown error";
}

const char *bf_err_name(int code)
{
    switch (code) {
    case BF_OK:
        return "OK";
#define BF_ERR_NAME(name, value, text)                                         \
    case BF_##name:                                                            \
        return #name;
        BF_ERRNO_MAP(BF_ERR_NAME)
#undef BF_ERR_NAME
    }
    return "E?";
}

int bf_err_set(int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return code;
}

int bf_err_prefix(int code, const char *fmt, ...)
{
    char prefix[BF_ERR_DETAIL_MAX];
    char old[BF_ERR_DETAIL_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, detail, sizeof(old));
    {
        const char *rest = old[0] ? old : bf_strerror(code);
        size_t plen = strlen(prefix);
        size_t rlen = strlen(rest);

        if (rlen > sizeof(detail) - 1 - plen)
            rlen = sizeof(detail) - 1 - plen;
        memcpy(detail, prefix, plen);
        memcpy(detail + plen, rest, rlen);
        detail[plen + rlen] = '\0';
    }
    return code;
}

void bf_err_clear(void)
{
    detail[0] = '\0';
}

const char *bf_last_error(void)
{
    return detail;
}
