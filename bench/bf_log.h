/*
 * bf_log: log lines and the progress line.
 *
 * Log lines go to stderr as "bfbench: level: message". The progress line is
 * drawn in place (carriage return) only when stderr is a terminal; otherwise
 * bf_log_progress() emits a plain log line at most every few seconds so that
 * CI logs stay readable. bf_log_progress_done() ends a progress line.
 */
#ifndef BF_LOG_H
#define BF_LOG_H

enum bf_log_level {
    BF_LOG_ERROR = 0,
    BF_LOG_WARN = 1,
    BF_LOG_INFO = 2,
    BF_LOG_DEBUG = 3,
};

/* Messages above level are dropped (default BF_LOG_INFO). */
void bf_log_set_level(enum bf_log_level level);

void bf_log(enum bf_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define bf_log_error(...) bf_log(BF_LOG_ERROR, __VA_ARGS__)
#define bf_log_warn(...) bf_log(BF_LOG_WARN, __VA_ARGS__)
#define bf_log_info(...) bf_log(BF_LOG_INFO, __VA_ARGS__)
#define bf_log_debug(...) bf_log(BF_LOG_DEBUG, __VA_ARGS__)

/*
 * Report progress of long work: "label [done/total] detail". On a terminal
 * it redraws one line; elsewhere it logs at most every 5 s and always when
 * done == total.
 */
void bf_log_progress(const char *label, long done, long total,
                     const char *detail);

/* Finish the current progress line (newline on a terminal). */
void bf_log_progress_done(void);

#endif /* BF_LOG_H */
