/* bf_log: log lines on stderr and the progress line. */
#define _POSIX_C_SOURCE 200809L
#include "bf_log.h"

#include "bf_clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static enum bf_log_level max_level = BF_LOG_INFO;
static int progress_open; /* a progress line is drawn and not ended */
static int64_t progress_last_ns;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void bf_log_set_level(enum bf_log_level level)
{
    max_level = level;
}

void bf_log(enum bf_log_level level, const char *fmt, ...)
{
    va_list ap;

    if (level > max_level)
        return;
    bf_log_progress_done();
    fprintf(stderr, "bfbench: %s: ", level_names[level]);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void bf_log_progress(const char *label, long done, long total,
                     const char *detail)
{
    int64_t now = bf_clock_now_ns();

    if (max_level < BF_LOG_INFO)
        return;
    if (isatty(STDERR_FILENO)) {
        fprintf(stderr, "\r\033[K%s [%ld/%ld] %s", label, done, total,
                detail ? detail : "");
        fflush(stderr);
        progress_open = 1;
        return;
    }
    if (done != total && now - progress_last_ns < 5000000000LL)
        return;
    progress_last_ns = now;
    fprintf(stderr, "bfbench: info: %s [%ld/%ld] %s\n", label, done, total,
            detail ? detail : "");
}

void bf_log_progress_done(void)
{
    if (!progress_open)
        return;
    fputc('\n', stderr);
    progress_open = 0;
}
